#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "train/log.h"
#include "app/progress.h"
#include "train/sigint.h"

/* Tags separating the derived random streams. */
#define STREAM_EPOCH 0x45504f4348ULL   /* "EPOCH" */
#define STREAM_STEP 0x53544550ULL      /* "STEP" */

int amt_train_config_read(amt_config *c, amt_train_config *out)
{
    amt_train_config t = {10, 0, 16, 1, 1, 0, 60.0, NULL};
    int rc;
    if ((rc = amt_config_get_int(c, "train", "epochs", t.epochs, 1, 1000000, &t.epochs)) ||
        (rc = amt_config_get_int(c, "train", "steps_per_epoch", 0, 1, 1 << 30, &t.steps_per_epoch)) ||
        (rc = amt_config_get_int(c, "train", "batch", t.batch, 1, 1 << 20, &t.batch)) ||
        (rc = amt_config_get_int(c, "train", "seed", t.seed, 0, 2147483647, &t.seed)) ||
        (rc = amt_config_get_int(c, "train", "validate_every", t.validate_every, 1, 1000000, &t.validate_every)) ||
        (rc = amt_config_get_int(c, "train", "patience", t.patience, 0, 1000000, &t.patience)) ||
        (rc = amt_config_get_float(c, "train", "progress_seconds", t.progress_s, 0, 86400, &t.progress_s)) ||
        (rc = amt_config_get_string(c, "train", "out_dir", "", &t.out_dir)))
        return rc;
    if (!t.out_dir[0]) t.out_dir = NULL;
    *out = t;
    return AMT_OK;
}

int amt_mkdir_p(const char *dir)
{
    char path[AMT_TRAIN_PATH_MAX];
    if (!dir || !*dir) return amt_error(AMT_EINVAL, "empty output directory name");
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return amt_error(AMT_EINVAL, "%s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return amt_error(AMT_EIO, "%s: cannot create directory: %s", path, strerror(errno));
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
                return amt_error(AMT_EIO, "%s: exists and is not a directory", path);
            *p = c;
            if (!c) break;
        }
    }
    return AMT_OK;
}

/* A generator that depends only on the base generator, a stream tag and a counter. */
static void derive(amt_rng *out, const amt_rng *base, uint64_t tag, uint64_t counter)
{
    uint64_t k = amt_hash64(base->s[0] ^ amt_hash64(base->s[1] ^ amt_hash64(base->s[2] ^ amt_hash64(base->s[3] ^ tag))));
    amt_rng_seed(out, amt_hash64(k ^ amt_hash64(counter)));
}

typedef struct run {
    amt_train_model *m;
    const amt_train_opts *o;
    amt_optim *opt;
    amt_rng base;
    char dir[AMT_TRAIN_PATH_MAX];
} run;

static int path_in(const run *R, const char *name, char *buf, size_t n)
{
    if (snprintf(buf, n, "%s/%s", R->dir, name) >= (int)n) return amt_error(AMT_EINVAL, "%s: path too long", R->dir);
    return AMT_OK;
}

static int save(run *R, const char *name, int with_optim, int64_t epoch, int64_t step)
{
    char path[AMT_TRAIN_PATH_MAX + 64];
    int rc = path_in(R, name, path, sizeof path);
    if (rc) return rc;
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "%s", R->o->model_kind);
    info.config = (char *)(R->o->config_text ? R->o->config_text : "");
    info.step = step;
    info.epoch = epoch;
    info.rng = R->base;
    return amt_checkpoint_save(path, R->m->params, with_optim ? R->opt : NULL, &info, 0);
}

static int check_model(const amt_train_model *m, const amt_train_opts *o)
{
    if (!m || !m->params || !m->graph || !m->loss || !m->next_batch)
        return amt_error(AMT_EINVAL, "trainer: model lacks params, graph, loss or next_batch");
    if (m->loss->size != 1) return amt_error(AMT_EINVAL, "trainer: loss must be a scalar (has %zu values)", m->loss->size);
    if (!m->graph->with_grad) return amt_error(AMT_EINVAL, "trainer: the training graph was built without gradients");
    if (m->n_extra < 0 || m->n_extra > AMT_TRAIN_MAX_EXTRA)
        return amt_error(AMT_EINVAL, "trainer: %d extra validation values (at most %d)", m->n_extra, AMT_TRAIN_MAX_EXTRA);
    if (!o || !o->model_kind || !o->model_kind[0] || strlen(o->model_kind) >= AMT_CKPT_MODEL_MAX)
        return amt_error(AMT_EINVAL, "trainer: missing or too long model kind name");
    return AMT_OK;
}

int amt_train_run(amt_train_model *m, const amt_train_config *tc, const amt_optim_config *oc,
                  const amt_train_opts *o, amt_train_result *r)
{
    int rc = check_model(m, o);
    if (rc) return rc;
    memset(r, 0, sizeof *r);
    r->last_loss = NAN;
    r->best_metric = -INFINITY;
    const int64_t spe = tc->steps_per_epoch > 0 ? tc->steps_per_epoch : m->steps_per_epoch;
    if (spe <= 0) return amt_error(AMT_ECONFIG, "train.steps_per_epoch: required for model kind '%s'", o->model_kind);
    const char *dir = o->out_dir ? o->out_dir : tc->out_dir;
    if (!dir) return amt_error(AMT_ECONFIG, "train.out_dir: no output directory given");

    run R;
    memset(&R, 0, sizeof R);
    R.m = m;
    R.o = o;
    if (snprintf(R.dir, sizeof R.dir, "%s", dir) >= (int)sizeof R.dir) return amt_error(AMT_EINVAL, "%s: path too long", dir);
    if ((rc = amt_mkdir_p(R.dir))) return rc;
    if (!(R.opt = amt_optim_new(m->params, oc))) return amt_errcode() ? amt_errcode() : AMT_ENOMEM;
    amt_rng_seed(&R.base, (uint64_t)tc->seed);

    int64_t epoch = 0, step = 0;
    if (o->resume) {
        amt_ckpt_info info;
        memset(&info, 0, sizeof info);
        if ((rc = amt_checkpoint_load(o->resume, o->model_kind, m->params, R.opt, &info))) goto out;
        amt_ckpt_info_free(&info);
        epoch = info.epoch;
        step = R.opt->step;
        R.base = info.rng;
        if (info.step != step || epoch < 0 || step < epoch * spe || step >= (epoch + 1) * spe) {
            rc = amt_error(AMT_ECONFIG, "%s: step %lld (optimizer %lld) at epoch %lld does not fit train.steps_per_epoch = %lld",
                           o->resume, (long long)info.step, (long long)step, (long long)epoch, (long long)spe);
            goto out;
        }
    }

    /* log columns: epoch, step, lr, train_loss, metric, extras..., time_s */
    const char *names[AMT_LOG_MAX_COLS];
    int panel[AMT_LOG_MAX_COLS], nc = 0;
    names[nc] = "epoch"; panel[nc++] = AMT_LOG_NOPLOT;
    names[nc] = "step"; panel[nc++] = AMT_LOG_NOPLOT;
    names[nc] = "lr"; panel[nc++] = AMT_LOG_NOPLOT;
    names[nc] = "train_loss"; panel[nc++] = AMT_LOG_PANEL_LOSS;
    int col_metric = -1;
    if (m->validate) {
        col_metric = nc;
        names[nc] = m->metric_name ? m->metric_name : "val_metric";
        panel[nc++] = AMT_LOG_PANEL_METRIC;
        for (int i = 0; i < m->n_extra; i++) {
            names[nc] = m->extra_names[i] ? m->extra_names[i] : "extra";
            panel[nc] = strstr(names[nc], "loss") ? AMT_LOG_PANEL_LOSS : AMT_LOG_PANEL_METRIC;
            nc++;
        }
    }
    names[nc] = "time_s"; panel[nc++] = AMT_LOG_NOPLOT;
    char csv[AMT_TRAIN_PATH_MAX + 64], png[AMT_TRAIN_PATH_MAX + 64];
    if ((rc = path_in(&R, AMT_TRAIN_CSV, csv, sizeof csv)) || (rc = path_in(&R, AMT_TRAIN_PNG, png, sizeof png))) goto out;
    amt_train_log log;
    if ((rc = amt_train_log_open(&log, csv, png, nc, names, panel, o->resume ? epoch : -1))) goto out;
    /* best so far and the patience counter, from the kept log rows */
    int since_best = 0;
    for (int i = 0; i < log.nrow; i++) {
        const double *row = log.rows + (size_t)i * log.ncol;
        double v = col_metric >= 0 ? row[col_metric] : -row[3];
        if (isnan(v) && col_metric >= 0) continue;
        if (v > r->best_metric) { r->best_metric = v; r->best_epoch = (int64_t)row[0]; since_best = 0; }
        else since_best++;
    }

    amt_progress prog;
    amt_progress_init(&prog, o->progress, o->progress_tty, tc->progress_s, step);
    if (o->catch_signals && (rc = amt_sigint_install())) goto out_log;
    const int64_t epochs = tc->epochs, total = epochs * spe;
    amt_progress_message(&prog, "training %s: %zu parameters, %lld epochs x %lld steps, batch %d -> %s/", o->model_kind,
                         amt_params_count(m->params, 0), (long long)epochs, (long long)spe, m->batch, R.dir);
    if (o->resume)
        amt_progress_message(&prog, "resuming from %s at epoch %lld, step %lld", o->resume, (long long)epoch, (long long)step);
    if (epoch >= epochs) amt_progress_message(&prog, "already %lld epochs trained: nothing to do", (long long)epoch);
    amt_graph *g = m->graph;
    while (epoch < epochs) {
        double t0 = amt_progress_now(), sum = 0;
        int64_t n = 0;
        if (m->begin_epoch) {
            amt_rng er;
            derive(&er, &R.base, STREAM_EPOCH, (uint64_t)epoch);
            if ((rc = m->begin_epoch(m->ctx, epoch, &er))) goto out_sig;
        }
        for (int64_t idx = step - epoch * spe; idx < spe; idx++) {
            amt_rng sr;
            derive(&sr, &R.base, STREAM_STEP, (uint64_t)step);
            if ((rc = m->next_batch(m->ctx, epoch, idx, &sr))) goto out_sig;
            g->training = 1;
            g->step = (uint64_t)step;
            amt_params_zero_grad(m->params);
            amt_error_clear();   /* so a NaN loss can be explained by the op that recorded why */
            if ((rc = amt_graph_forward(g))) goto out_sig;
            double loss = m->loss->data[0];
            if (!isfinite(loss)) {
                const char *why = amt_errcode() ? amt_errmsg() : "";
                rc = amt_error(AMT_EINVAL, "step %lld: loss is %g%s%s; stopped (last checkpoint kept)", (long long)step, loss,
                               *why ? ": " : "", why);
                goto out_sig;
            }
            if ((rc = amt_graph_backward(g, m->loss))) goto out_sig;
            if (oc->clip_norm > 0) amt_clip_grad_norm(m->params, oc->clip_norm);
            double lr = amt_optim_lr(R.opt);
            if ((rc = amt_optim_step(R.opt))) goto out_sig;
            step++;
            sum += loss;
            n++;
            amt_progress_update(&prog, epoch, epochs, step, total, sum / (double)n, m->batch, lr);
            if (amt_sigint_caught() && idx + 1 < spe) {   /* at an epoch's end: validate and save it first */
                r->signal = amt_sigint_caught();
                if ((rc = save(&R, AMT_TRAIN_LAST, 1, epoch, step))) goto out_sig;
                amt_progress_message(&prog, "interrupted (signal %d) at epoch %lld, step %lld: saved %s/%s", r->signal,
                                     (long long)epoch + 1, (long long)step, R.dir, AMT_TRAIN_LAST);
                goto out_sig;
            }
        }
        epoch++;
        double mean = n > 0 ? sum / (double)n : NAN;
        r->last_loss = mean;
        /* validation */
        double metric = NAN, extra[AMT_TRAIN_MAX_EXTRA];
        for (int i = 0; i < AMT_TRAIN_MAX_EXTRA; i++) extra[i] = NAN;
        int validated = 0;
        if (m->validate && (epoch % tc->validate_every == 0 || epoch == epochs)) {
            rc = m->validate(m->ctx, &metric, extra);
            g->training = 1;
            if (rc) goto out_sig;
            validated = 1;
        }
        double row[AMT_LOG_MAX_COLS];
        int k = 0;
        row[k++] = (double)epoch;
        row[k++] = (double)step;
        row[k++] = amt_optim_lr(R.opt);
        row[k++] = mean;
        if (m->validate) {
            row[k++] = metric;
            for (int i = 0; i < m->n_extra; i++) row[k++] = extra[i];
        }
        row[k++] = amt_progress_now() - t0;
        if ((rc = amt_train_log_append(&log, row))) goto out_sig;
        double sel = m->validate ? metric : -mean;
        int improved = (validated || !m->validate) && sel > r->best_metric;
        if ((rc = save(&R, AMT_TRAIN_LAST, 1, epoch, step))) goto out_sig;
        if (improved) {
            r->best_metric = sel;
            r->best_epoch = epoch;
            since_best = 0;
            if ((rc = save(&R, AMT_TRAIN_BEST, 0, epoch, step))) goto out_sig;
        } else if (validated || !m->validate) {
            since_best++;
        }
        double eps_ = row[k - 1] > 0 ? (double)n * m->batch / row[k - 1] : 0;
        if (m->validate)
            amt_progress_message(&prog, "epoch %lld/%lld  step %lld  loss %.5g  %s %.4f%s  (%.1f s, %.0f ex/s)",
                                 (long long)epoch, (long long)epochs, (long long)step, mean, names[col_metric], metric,
                                 improved ? "  best" : "", row[k - 1], eps_);
        else
            amt_progress_message(&prog, "epoch %lld/%lld  step %lld  loss %.5g%s  (%.1f s, %.0f ex/s)", (long long)epoch,
                                 (long long)epochs, (long long)step, mean, improved ? "  best" : "", row[k - 1], eps_);
        if (amt_sigint_caught()) {   /* caught during validation: the epoch is saved already */
            r->signal = amt_sigint_caught();
            amt_progress_message(&prog, "interrupted (signal %d): saved %s/%s", r->signal, R.dir, AMT_TRAIN_LAST);
            break;
        }
        if (tc->patience > 0 && since_best >= tc->patience) {
            r->stopped_early = 1;
            amt_progress_message(&prog, "no improvement in %d validations: stopping", tc->patience);
            break;
        }
    }
    rc = AMT_OK;
out_sig:
    amt_progress_end(&prog);
    if (o->catch_signals) {
        amt_sigint_clear();
        amt_sigint_restore();
    }
out_log:
    amt_train_log_close(&log);
out:
    r->epoch = epoch;
    r->step = step;
    amt_optim_free(R.opt);
    return rc;
}
