/* core/ops/elementwise.c: pointwise ops, forward and backward side by side. */
#include "elementwise.h"

#include <math.h>

#include "../error.h"
#include "reduce.h"

/* ------------------------------------------------------------ binary, with broadcast */

enum { EW_ADD, EW_SUB, EW_MUL, EW_DIV };
static const char *const ew_names[] = {"add", "sub", "mul", "div"};

typedef struct { int kind; size_t outer, inner; } ew_attr;  /* out[o*inner+j] = a[o*inner+j] op b[j] */

static void ew_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const ew_attr *at = n->attr;
    const float *a = n->in[0]->data, *b = n->in[1]->data;
    float *y = n->out->data;
    long outer = (long)at->outer, inner = (long)at->inner;
    int par = at->outer * at->inner >= AMT_OMP_MIN_ELEMS;
    switch (at->kind) {
    case EW_ADD:
        #pragma omp parallel for collapse(2) schedule(static) if (par)
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < inner; j++) y[o * inner + j] = a[o * inner + j] + b[j];
        break;
    case EW_SUB:
        #pragma omp parallel for collapse(2) schedule(static) if (par)
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < inner; j++) y[o * inner + j] = a[o * inner + j] - b[j];
        break;
    case EW_MUL:
        #pragma omp parallel for collapse(2) schedule(static) if (par)
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < inner; j++) y[o * inner + j] = a[o * inner + j] * b[j];
        break;
    default:
        #pragma omp parallel for collapse(2) schedule(static) if (par)
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < inner; j++) y[o * inner + j] = a[o * inner + j] / b[j];
        break;
    }
}

/* db[j] += sum_o term(o, j) over column blocks, in double, o in order. */
#define EW_COLBLOCK 256
static void ew_reduce_b(int kind, const float *dy, const float *a, const float *b, const float *y,
                        float *db, long outer, long inner)
{
    long nb = (inner + EW_COLBLOCK - 1) / EW_COLBLOCK;
    #pragma omp parallel for schedule(static) if (outer * inner >= AMT_OMP_MIN_ELEMS && nb > 1)
    for (long blk = 0; blk < nb; blk++) {
        long j0 = blk * EW_COLBLOCK, j1 = j0 + EW_COLBLOCK < inner ? j0 + EW_COLBLOCK : inner;
        double acc[EW_COLBLOCK] = {0};
        for (long o = 0; o < outer; o++) {
            const float *d = dy + o * inner, *ar = a + o * inner, *yr = y + o * inner;
            switch (kind) {
            case EW_ADD: for (long j = j0; j < j1; j++) acc[j - j0] += d[j]; break;
            case EW_SUB: for (long j = j0; j < j1; j++) acc[j - j0] -= d[j]; break;
            case EW_MUL: for (long j = j0; j < j1; j++) acc[j - j0] += (double)d[j] * ar[j]; break;
            default:     for (long j = j0; j < j1; j++) acc[j - j0] -= (double)d[j] * yr[j] / b[j]; break;
            }
        }
        for (long j = j0; j < j1; j++) db[j] += (float)acc[j - j0];
    }
}

static void ew_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const ew_attr *at = n->attr;
    amt_tensor *ta = n->in[0], *tb = n->in[1];
    const float *dy = n->out->grad, *a = ta->data, *b = tb->data, *y = n->out->data;
    long outer = (long)at->outer, inner = (long)at->inner;
    int par = at->outer * at->inner >= AMT_OMP_MIN_ELEMS;
    if (ta->grad) {
        float *da = ta->grad;
        if (at->kind == EW_ADD || at->kind == EW_SUB) {
            #pragma omp parallel for schedule(static) if (par)
            for (long i = 0; i < outer * inner; i++) da[i] += dy[i];
        } else if (at->kind == EW_MUL) {
            #pragma omp parallel for collapse(2) schedule(static) if (par)
            for (long o = 0; o < outer; o++)
                for (long j = 0; j < inner; j++) da[o * inner + j] += dy[o * inner + j] * b[j];
        } else {
            #pragma omp parallel for collapse(2) schedule(static) if (par)
            for (long o = 0; o < outer; o++)
                for (long j = 0; j < inner; j++) da[o * inner + j] += dy[o * inner + j] / b[j];
        }
    }
    if (tb->grad) {
        float *db = tb->grad;
        if (outer == 1) {   /* equal shapes: no reduction */
            switch (at->kind) {
            case EW_ADD:
                #pragma omp parallel for schedule(static) if (par)
                for (long j = 0; j < inner; j++) db[j] += dy[j];
                break;
            case EW_SUB:
                #pragma omp parallel for schedule(static) if (par)
                for (long j = 0; j < inner; j++) db[j] -= dy[j];
                break;
            case EW_MUL:
                #pragma omp parallel for schedule(static) if (par)
                for (long j = 0; j < inner; j++) db[j] += dy[j] * a[j];
                break;
            default:
                #pragma omp parallel for schedule(static) if (par)
                for (long j = 0; j < inner; j++) db[j] -= dy[j] * y[j] / b[j];
                break;
            }
        } else {
            ew_reduce_b(at->kind, dy, a, b, y, db, outer, inner);
        }
    }
}

static const amt_op ew_ops[4] = {
    {"add", ew_fwd, ew_bwd}, {"sub", ew_fwd, ew_bwd}, {"mul", ew_fwd, ew_bwd}, {"div", ew_fwd, ew_bwd}};

static amt_tensor *ew_build(amt_graph *g, amt_tensor *a, amt_tensor *b, int kind)
{
    if (!a || !b) return NULL;
    int ok = b->ndim <= a->ndim;
    for (int i = 0; ok && i < b->ndim; i++) ok = b->shape[b->ndim - 1 - i] == a->shape[a->ndim - 1 - i];
    if (!ok) {
        char sa[64], sb[64];
        return amt_graph_fail(g, AMT_EINVAL, "%s: shapes %s and %s do not broadcast (b must equal a or a's trailing dims)",
                              ew_names[kind], amt_shape_str(a, sa, sizeof sa), amt_shape_str(b, sb, sizeof sb));
    }
    amt_tensor *in[2] = {a, b};
    amt_tensor *y = amt_graph_output(g, a->ndim, a->shape, 2, in);
    ew_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->kind = kind;
    at->inner = b->size;
    at->outer = a->size / b->size;
    return amt_graph_node(g, &ew_ops[kind], y, 2, in, at) ? y : NULL;
}

amt_tensor *amt_add(amt_graph *g, amt_tensor *a, amt_tensor *b) { return ew_build(g, a, b, EW_ADD); }
amt_tensor *amt_sub(amt_graph *g, amt_tensor *a, amt_tensor *b) { return ew_build(g, a, b, EW_SUB); }
amt_tensor *amt_mul(amt_graph *g, amt_tensor *a, amt_tensor *b) { return ew_build(g, a, b, EW_MUL); }
amt_tensor *amt_div(amt_graph *g, amt_tensor *a, amt_tensor *b) { return ew_build(g, a, b, EW_DIV); }

/* ------------------------------------------------------------ per-channel bias */

typedef struct { long n, c, s; } chan_attr;   /* a viewed as (n, c, s) */

static void add_channel_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const chan_attr *at = nd->attr;
    const float *a = nd->in[0]->data, *b = nd->in[1]->data;
    float *y = nd->out->data;
    long nc = at->n * at->c, s = at->s, c = at->c;
    #pragma omp parallel for schedule(static) if (nc * s >= AMT_OMP_MIN_ELEMS)
    for (long r = 0; r < nc; r++) {
        float bv = b[r % c];
        for (long k = 0; k < s; k++) y[r * s + k] = a[r * s + k] + bv;
    }
}

static void add_channel_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const chan_attr *at = nd->attr;
    amt_tensor *ta = nd->in[0], *tb = nd->in[1];
    const float *dy = nd->out->grad;
    long nc = at->n * at->c, s = at->s, c = at->c, n = at->n;
    int par = nc * s >= AMT_OMP_MIN_ELEMS;
    if (ta->grad) {
        #pragma omp parallel for schedule(static) if (par)
        for (long i = 0; i < nc * s; i++) ta->grad[i] += dy[i];
    }
    if (tb->grad) {
        #pragma omp parallel for schedule(static) if (par)
        for (long ch = 0; ch < c; ch++) {
            double acc = 0;
            for (long i = 0; i < n; i++) {
                const float *d = dy + (i * c + ch) * s;
                for (long k = 0; k < s; k++) acc += d[k];
            }
            tb->grad[ch] += (float)acc;
        }
    }
}

static const amt_op add_channel_op = {"add_channel", add_channel_fwd, add_channel_bwd};

amt_tensor *amt_add_channel(amt_graph *g, amt_tensor *a, amt_tensor *b)
{
    if (!a || !b) return NULL;
    if (a->ndim < 2 || b->ndim != 1 || b->shape[0] != a->shape[1]) {
        char sa[64], sb[64];
        return amt_graph_fail(g, AMT_EINVAL, "add_channel: a %s needs >= 2 dims and b %s must be (C) with C = a's dim 1",
                              amt_shape_str(a, sa, sizeof sa), amt_shape_str(b, sb, sizeof sb));
    }
    amt_tensor *in[2] = {a, b};
    amt_tensor *y = amt_graph_output(g, a->ndim, a->shape, 2, in);
    chan_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->n = a->shape[0];
    at->c = a->shape[1];
    at->s = (long)(a->size / ((size_t)at->n * (size_t)at->c));
    return amt_graph_node(g, &add_channel_op, y, 2, in, at) ? y : NULL;
}

/* ------------------------------------------------------------ unary */

typedef struct { float s, c; } un_attr;

#define UN_LOOP(n_, body) do { long n__ = (long)(n_); \
    _Pragma("omp parallel for schedule(static) if (n__ >= AMT_OMP_MIN_ELEMS)") \
    for (long i = 0; i < n__; i++) { body; } } while (0)

static void affine_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const un_attr *at = n->attr;
    const float *x = n->in[0]->data; float *y = n->out->data; float s = at->s, c = at->c;
    UN_LOOP(n->out->size, y[i] = s * x[i] + c);
}
static void affine_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const un_attr *at = n->attr;
    const float *dy = n->out->grad; float *dx = n->in[0]->grad; float s = at->s;
    UN_LOOP(n->out->size, dx[i] += s * dy[i]);
}

static void abs_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data; float *y = n->out->data;
    UN_LOOP(n->out->size, y[i] = fabsf(x[i]));
}
static void abs_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data, *dy = n->out->grad; float *dx = n->in[0]->grad;
    UN_LOOP(n->out->size, dx[i] += x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0.0f);
}

static inline float sigmoidf(float x)
{
    /* stable on both sides: exp of a non-positive number only */
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static void sigmoid_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data; float *y = n->out->data;
    UN_LOOP(n->out->size, y[i] = sigmoidf(x[i]));
}
static void sigmoid_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *y = n->out->data, *dy = n->out->grad; float *dx = n->in[0]->grad;
    UN_LOOP(n->out->size, dx[i] += dy[i] * y[i] * (1.0f - y[i]));
}

static void tanh_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data; float *y = n->out->data;
    UN_LOOP(n->out->size, y[i] = tanhf(x[i]));
}
static void tanh_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *y = n->out->data, *dy = n->out->grad; float *dx = n->in[0]->grad;
    UN_LOOP(n->out->size, dx[i] += dy[i] * (1.0f - y[i] * y[i]));
}

static void relu_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data; float *y = n->out->data;
    UN_LOOP(n->out->size, y[i] = x[i] > 0 ? x[i] : 0.0f);
}
static void relu_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data, *dy = n->out->grad; float *dx = n->in[0]->grad;
    UN_LOOP(n->out->size, dx[i] += x[i] > 0 ? dy[i] : 0.0f);
}

static void softplus_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data; float *y = n->out->data;
    UN_LOOP(n->out->size, y[i] = fmaxf(x[i], 0.0f) + log1pf(expf(-fabsf(x[i]))));
}
static void softplus_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const float *x = n->in[0]->data, *dy = n->out->grad; float *dx = n->in[0]->grad;
    UN_LOOP(n->out->size, dx[i] += dy[i] * sigmoidf(x[i]));
}

static void log1p_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const un_attr *at = n->attr;
    const float *x = n->in[0]->data; float *y = n->out->data; float c = at->c;
    UN_LOOP(n->out->size, y[i] = log1pf(c * x[i]));
}
static void log1p_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const un_attr *at = n->attr;
    const float *x = n->in[0]->data, *dy = n->out->grad; float *dx = n->in[0]->grad; float c = at->c;
    UN_LOOP(n->out->size, dx[i] += dy[i] * c / (1.0f + c * x[i]));
}

static const amt_op affine_op = {"affine_scalar", affine_fwd, affine_bwd};
static const amt_op abs_op = {"abs", abs_fwd, abs_bwd};
static const amt_op sigmoid_op = {"sigmoid", sigmoid_fwd, sigmoid_bwd};
static const amt_op tanh_op = {"tanh", tanh_fwd, tanh_bwd};
static const amt_op relu_op = {"relu", relu_fwd, relu_bwd};
static const amt_op softplus_op = {"softplus", softplus_fwd, softplus_bwd};
static const amt_op log1p_op = {"log1p_scaled", log1p_fwd, log1p_bwd};

static amt_tensor *unary(amt_graph *g, amt_tensor *a, const amt_op *op, float s, float c)
{
    if (!a) return NULL;
    amt_tensor *y = amt_graph_output(g, a->ndim, a->shape, 1, &a);
    un_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->s = s;
    at->c = c;
    return amt_graph_node(g, op, y, 1, &a, at) ? y : NULL;
}

amt_tensor *amt_affine_scalar(amt_graph *g, amt_tensor *a, float s, float c) { return unary(g, a, &affine_op, s, c); }
amt_tensor *amt_abs(amt_graph *g, amt_tensor *a) { return unary(g, a, &abs_op, 0, 0); }
amt_tensor *amt_sigmoid(amt_graph *g, amt_tensor *a) { return unary(g, a, &sigmoid_op, 0, 0); }
amt_tensor *amt_tanh(amt_graph *g, amt_tensor *a) { return unary(g, a, &tanh_op, 0, 0); }
amt_tensor *amt_relu(amt_graph *g, amt_tensor *a) { return unary(g, a, &relu_op, 0, 0); }
amt_tensor *amt_softplus(amt_graph *g, amt_tensor *a) { return unary(g, a, &softplus_op, 0, 0); }

amt_tensor *amt_log1p_scaled(amt_graph *g, amt_tensor *a, float c)
{
    if (!a) return NULL;
    if (!(c > 0)) return amt_graph_fail(g, AMT_EINVAL, "log1p_scaled: scale c = %g must be > 0", (double)c);
    return unary(g, a, &log1p_op, 0, c);
}
