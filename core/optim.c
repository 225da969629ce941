#include "optim.h"

#include <math.h>
#if defined(__AVX__) || defined(__SSE2__)
#include <immintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "error.h"

/* parameters smaller than this are updated on one thread (a parallel region costs more) */
#define OPTIM_PARALLEL_MIN 32768
/* torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing */
#define CLIP_EPS 1e-6

void amt_optim_config_default(amt_optim_config *c, amt_optim_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->lr = 1e-3;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->weight_decay = kind == AMT_OPTIM_ADAMW ? 1e-2 : 0.0;
    c->sched = AMT_SCHED_CONSTANT;
    c->step_size = 1000;
    c->gamma = 0.1;
    c->total_steps = 1;
}

const char *amt_optim_kind_name(amt_optim_kind k)
{
    switch (k) {
    case AMT_OPTIM_SGD: return "sgd";
    case AMT_OPTIM_ADAM: return "adam";
    case AMT_OPTIM_ADAMW: return "adamw";
    }
    return "?";
}

const char *amt_sched_kind_name(amt_sched_kind k)
{
    switch (k) {
    case AMT_SCHED_CONSTANT: return "constant";
    case AMT_SCHED_STEP: return "step";
    case AMT_SCHED_COSINE: return "cosine";
    }
    return "?";
}

double amt_sched_lr(const amt_optim_config *c, int64_t s)
{
    if (s < 0) s = 0;
    switch (c->sched) {
    case AMT_SCHED_CONSTANT: return c->lr;
    case AMT_SCHED_STEP: return c->lr * pow(c->gamma, (double)(s / (c->step_size > 0 ? c->step_size : 1)));
    case AMT_SCHED_COSINE: {
        if (s < c->warmup_steps) return c->lr * (double)(s + 1) / (double)c->warmup_steps;
        int64_t span = (int64_t)c->total_steps - c->warmup_steps;
        double prog = span > 0 ? (double)(s - c->warmup_steps) / (double)span : 1.0;
        if (prog > 1.0) prog = 1.0;
        return c->min_lr + (c->lr - c->min_lr) * 0.5 * (1.0 + cos(M_PI * prog));
    }
    }
    return c->lr;
}

static int check_config(const amt_optim_config *c)
{
    if (c->kind != AMT_OPTIM_SGD && c->kind != AMT_OPTIM_ADAM && c->kind != AMT_OPTIM_ADAMW)
        return amt_error(AMT_EINVAL, "optimizer: unknown kind %d", (int)c->kind);
    if (!(c->lr >= 0) || !isfinite(c->lr)) return amt_error(AMT_EINVAL, "optimizer: lr %g must be >= 0", c->lr);
    if (!(c->weight_decay >= 0)) return amt_error(AMT_EINVAL, "optimizer: weight_decay %g must be >= 0", c->weight_decay);
    if (c->kind == AMT_OPTIM_SGD) {
        if (!(c->momentum >= 0 && c->momentum < 1))
            return amt_error(AMT_EINVAL, "optimizer: momentum %g outside [0, 1)", c->momentum);
        if (c->nesterov && c->momentum <= 0)
            return amt_error(AMT_EINVAL, "optimizer: nesterov needs momentum > 0");
    } else {
        if (!(c->beta1 >= 0 && c->beta1 < 1)) return amt_error(AMT_EINVAL, "optimizer: beta1 %g outside [0, 1)", c->beta1);
        if (!(c->beta2 >= 0 && c->beta2 < 1)) return amt_error(AMT_EINVAL, "optimizer: beta2 %g outside [0, 1)", c->beta2);
        if (!(c->eps > 0)) return amt_error(AMT_EINVAL, "optimizer: eps %g must be > 0", c->eps);
    }
    switch (c->sched) {
    case AMT_SCHED_CONSTANT: break;
    case AMT_SCHED_STEP:
        if (c->step_size <= 0) return amt_error(AMT_EINVAL, "optimizer: step schedule step_size %d must be > 0", c->step_size);
        if (!(c->gamma > 0)) return amt_error(AMT_EINVAL, "optimizer: step schedule gamma %g must be > 0", c->gamma);
        break;
    case AMT_SCHED_COSINE:
        if (c->warmup_steps < 0) return amt_error(AMT_EINVAL, "optimizer: warmup_steps %d must be >= 0", c->warmup_steps);
        if (c->total_steps <= c->warmup_steps)
            return amt_error(AMT_EINVAL, "optimizer: cosine total_steps %d must exceed warmup_steps %d", c->total_steps, c->warmup_steps);
        if (!(c->min_lr >= 0 && c->min_lr <= c->lr))
            return amt_error(AMT_EINVAL, "optimizer: min_lr %g outside [0, lr %g]", c->min_lr, c->lr);
        break;
    default: return amt_error(AMT_EINVAL, "optimizer: unknown schedule %d", (int)c->sched);
    }
    return AMT_OK;
}

int amt_optim_config_read(amt_config *c, const char *sec, amt_optim_config *out)
{
    static const char *const kinds[] = {"sgd", "adam", "adamw", NULL};
    static const char *const scheds[] = {"constant", "step", "cosine", NULL};
    int kind = AMT_OPTIM_ADAM, sched = AMT_SCHED_CONSTANT, rc;
    if ((rc = amt_config_get_enum(c, sec, "optimizer", kinds, AMT_OPTIM_ADAM, &kind))) return rc;
    amt_optim_config o;
    amt_optim_config_default(&o, (amt_optim_kind)kind);
    if ((rc = amt_config_get_float(c, sec, "lr", o.lr, 0, 10, &o.lr)) ||
        (rc = amt_config_get_float(c, sec, "momentum", o.momentum, 0, 0.9999, &o.momentum)) ||
        (rc = amt_config_get_bool(c, sec, "nesterov", o.nesterov, &o.nesterov)) ||
        (rc = amt_config_get_float(c, sec, "beta1", o.beta1, 0, 0.9999999, &o.beta1)) ||
        (rc = amt_config_get_float(c, sec, "beta2", o.beta2, 0, 0.9999999, &o.beta2)) ||
        (rc = amt_config_get_float(c, sec, "eps", o.eps, 1e-30, 1, &o.eps)) ||
        (rc = amt_config_get_float(c, sec, "weight_decay", o.weight_decay, 0, 10, &o.weight_decay)) ||
        (rc = amt_config_get_enum(c, sec, "schedule", scheds, AMT_SCHED_CONSTANT, &sched)) ||
        (rc = amt_config_get_int(c, sec, "step_size", o.step_size, 1, 1 << 30, &o.step_size)) ||
        (rc = amt_config_get_float(c, sec, "gamma", o.gamma, 1e-12, 10, &o.gamma)) ||
        (rc = amt_config_get_int(c, sec, "warmup_steps", o.warmup_steps, 0, 1 << 30, &o.warmup_steps)) ||
        (rc = amt_config_get_int(c, sec, "total_steps", o.total_steps, 1, 1 << 30, &o.total_steps)) ||
        (rc = amt_config_get_float(c, sec, "min_lr", o.min_lr, 0, 10, &o.min_lr)) ||
        (rc = amt_config_get_float(c, sec, "clip_norm", o.clip_norm, 0, 1e12, &o.clip_norm)))
        return rc;
    o.sched = (amt_sched_kind)sched;
    if (check_config(&o) != AMT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", amt_errmsg());   /* amt_error must not read its own buffer */
        return amt_error(AMT_ECONFIG, "%s: [%s]: %s", amt_config_path(c), sec, msg);
    }
    *out = o;
    return AMT_OK;
}

static int states_per_param(const amt_optim_config *c)
{
    if (c->kind == AMT_OPTIM_SGD) return c->momentum > 0 ? 1 : 0;
    return 2;
}

amt_optim *amt_optim_new(amt_params *ps, const amt_optim_config *c)
{
    if (!ps || !c) { amt_error(AMT_EINVAL, "optimizer: NULL parameters or config"); return NULL; }
    if (check_config(c) != AMT_OK) return NULL;
    amt_optim *o = calloc(1, sizeof *o);
    if (!o) { amt_error(AMT_ENOMEM, "optimizer: out of memory"); return NULL; }
    o->cfg = *c;
    o->ps = ps;
    int per = states_per_param(c);
    int n_train = 0;
    for (int i = 0; i < ps->n; i++) n_train += ps->p[i]->t.grad != NULL;
    size_t n_slot = 2 * (size_t)(ps->n > 0 ? ps->n : 1), n_st = (size_t)n_train * (size_t)per;
    o->slot = calloc(n_slot, sizeof *o->slot);
    o->state = calloc(n_st > 0 ? n_st : 1, sizeof *o->state);
    if (!o->slot || !o->state) goto oom;
    static const char *adam_names[2] = {"m", "v"};
    for (int i = 0; i < ps->n; i++) {
        amt_param *p = ps->p[i];
        if (!p->t.grad) continue;
        for (int k = 0; k < per; k++) {
            amt_optim_state *s = &o->state[o->n_state];
            snprintf(s->name, sizeof s->name, "%s/%s", p->name, c->kind == AMT_OPTIM_SGD ? "momentum" : adam_names[k]);
            s->t.ndim = p->t.ndim;
            memcpy(s->t.shape, p->t.shape, sizeof s->t.shape);
            s->t.size = p->t.size;
            s->t.name = s->name;
            s->param = p;
            void *mem = NULL;
            if (posix_memalign(&mem, AMT_ALIGN, (p->t.size ? p->t.size : 1) * sizeof(float)) != 0) goto oom;
            memset(mem, 0, p->t.size * sizeof(float));
            s->t.data = mem;
            o->slot[2 * i + k] = mem;
            o->n_state++;
        }
    }
    return o;
oom:
    amt_optim_free(o);
    amt_error(AMT_ENOMEM, "optimizer: out of memory for state buffers");
    return NULL;
}

void amt_optim_free(amt_optim *o)
{
    if (!o) return;
    for (int i = 0; i < o->n_state; i++) free(o->state[i].t.data);
    free(o->state);
    free(o->slot);
    free(o);
}

double amt_optim_lr(const amt_optim *o) { return amt_sched_lr(&o->cfg, o->step); }

void amt_optim_reset(amt_optim *o)
{
    for (int i = 0; i < o->n_state; i++) memset(o->state[i].t.data, 0, o->state[i].t.size * sizeof(float));
    o->step = 0;
}

int amt_optim_n_state(const amt_optim *o) { return o->n_state; }
amt_optim_state *amt_optim_state_at(amt_optim *o, int i) { return i >= 0 && i < o->n_state ? &o->state[i] : NULL; }

amt_optim_state *amt_optim_find_state(amt_optim *o, const char *name)
{
    for (int i = 0; i < o->n_state; i++)
        if (strcmp(o->state[i].name, name) == 0) return &o->state[i];
    return NULL;
}

static void sgd_update(float *restrict p, const float *restrict g, float *restrict buf, long n,
                       float lr, float wd, float mom, int nesterov, int first)
{
#pragma omp parallel for schedule(static) if (n >= OPTIM_PARALLEL_MIN)
    for (long i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0.0f) d = d + wd * p[i];
        if (buf) {
            float b = first ? d : mom * buf[i] + d;
            buf[i] = b;
            d = nesterov ? d + mom * b : b;
        }
        p[i] = p[i] - lr * d;
    }
}

/* Square roots of s[0..n) in place. sqrtf sets errno for negative input, so without
 * -fno-math-errno the compiler keeps it scalar, and a scalar sqrt + divide per parameter made
 * Adam compute-bound (~30 ms a step for the transcriber's 9 M parameters); the SIMD square
 * root is the same IEEE correctly rounded operation, so results are bit-identical. */
static void sqrt_block(float *s, int n)
{
    int i = 0;
#if defined(__AVX__)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(s + i, _mm256_sqrt_ps(_mm256_loadu_ps(s + i)));
#elif defined(__SSE2__)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(s + i, _mm_sqrt_ps(_mm_loadu_ps(s + i)));
#endif
    for (; i < n; i++) s[i] = sqrtf(s[i]);
}

#define ADAM_BLOCK 512   /* parameters per block: the square roots stay in L1 */

static void adam_update(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                        float b1, float b2, float wd, float eps, float step_size, float bc2_sqrt, float decay, int decoupled)
{
    long nb = (n + ADAM_BLOCK - 1) / ADAM_BLOCK;
#pragma omp parallel for schedule(static) if (n >= OPTIM_PARALLEL_MIN)
    for (long blk = 0; blk < nb; blk++) {
        const long i0 = blk * ADAM_BLOCK;
        const int k = (int)(n - i0 < ADAM_BLOCK ? n - i0 : ADAM_BLOCK);
        float *pb = p + i0, *mb = m + i0, *vb = v + i0;
        const float *gb = g + i0;
        float s[ADAM_BLOCK];
        /* three vectorisable passes: moments, square roots, update */
        for (int i = 0; i < k; i++) {
            float d = gb[i];
            if (!decoupled && wd != 0.0f) d = d + wd * pb[i];
            float mi = mb[i] * b1 + (1.0f - b1) * d;
            float vi = vb[i] * b2 + (1.0f - b2) * (d * d);
            mb[i] = mi;
            vb[i] = vi;
            s[i] = vi;
        }
        sqrt_block(s, k);
        for (int i = 0; i < k; i++) {
            float x = decoupled ? pb[i] * decay : pb[i];
            float denom = s[i] / bc2_sqrt + eps;
            pb[i] = x - step_size * (mb[i] / denom);
        }
    }
}

int amt_optim_step(amt_optim *o)
{
    const amt_optim_config *c = &o->cfg;
    double lr = amt_optim_lr(o);
    amt_params *ps = o->ps;
    if (c->kind == AMT_OPTIM_SGD) {
        for (int i = 0; i < ps->n; i++) {
            amt_tensor *t = &ps->p[i]->t;
            if (!t->grad) continue;
            sgd_update(t->data, t->grad, o->slot[2 * i], (long)t->size, (float)lr, (float)c->weight_decay,
                       (float)c->momentum, c->nesterov, o->step == 0);
        }
    } else {
        double t1 = (double)(o->step + 1);
        double bc1 = 1.0 - pow(c->beta1, t1), bc2 = 1.0 - pow(c->beta2, t1);
        float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
        int decoupled = c->kind == AMT_OPTIM_ADAMW;
        float decay = (float)(1.0 - lr * c->weight_decay);
        for (int i = 0; i < ps->n; i++) {
            amt_tensor *t = &ps->p[i]->t;
            if (!t->grad) continue;
            adam_update(t->data, t->grad, o->slot[2 * i], o->slot[2 * i + 1], (long)t->size, (float)c->beta1, (float)c->beta2,
                        (float)c->weight_decay, (float)c->eps, step_size, bc2_sqrt, decay, decoupled);
        }
    }
    o->step++;
    return AMT_OK;
}

double amt_clip_grad_norm(amt_params *ps, double max_norm)
{
    double ss = 0.0;
    for (int i = 0; i < ps->n; i++) {
        const amt_tensor *t = &ps->p[i]->t;
        if (!t->grad) continue;
        for (size_t k = 0; k < t->size; k++) ss += (double)t->grad[k] * (double)t->grad[k];
    }
    double total = sqrt(ss);
    if (max_norm > 0) {
        double coef = max_norm / (total + CLIP_EPS);
        if (coef < 1.0) {
            float cf = (float)coef;
            for (int i = 0; i < ps->n; i++) {
                amt_tensor *t = &ps->p[i]->t;
                if (!t->grad) continue;
                for (size_t k = 0; k < t->size; k++) t->grad[k] *= cf;
            }
        }
    }
    return total;
}
