/* models/classifier.c: see classifier.h. */
#include "classifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/resample.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/rng.h"
#include "eval/classification.h"
#include "layers/init.h"

const char *const amt_classifier_classes[AMT_CLS_NCLASS] = {
    "cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi"};
const char *const amt_classifier_class_names[AMT_CLS_NCLASS] = {
    "cello", "clarinet", "flute", "acoustic guitar", "electric guitar", "organ", "piano",
    "saxophone", "trumpet", "violin", "voice"};

int amt_classifier_class_index(const char *code)
{
    if (!code) return -1;
    for (int i = 0; i < AMT_CLS_NCLASS; i++)
        if (!strcmp(code, amt_classifier_classes[i])) return i;
    return -1;
}

/* ------------------------------------------------------------------ configuration */

void amt_classifier_config_default(amt_classifier_config *c)
{
    memset(c, 0, sizeof *c);
    static const int ch[4] = {32, 64, 128, 256};
    c->n_blocks = 4;
    memcpy(c->channels, ch, sizeof ch);
    c->convs_per_block = 2;
    c->kernel = 3;
    c->pool = 3;
    c->dense = 1024;
    c->dropout_conv = 0.25f;
    c->dropout_dense = 0.5f;
    c->rate = 22050;
    c->n_mels = 128;
    c->n_fft = 1024;
    c->hop = 512;
    c->fmin = 0;
    c->fmax = 0;
    c->log = AMT_LOG_DB;
    c->log_c = 1.0f;
    c->top_db = 80.0f;
    c->window_s = 1.0;
    c->normalize = AMT_CLS_NORM_PATCH;
    c->data_dir[0] = 0;
    c->split = AMT_CLS_SPLIT_LAYOUT;
    c->val_fraction = 0.1;
    c->gain_db = 0;
    c->seed = 1;
    c->hop_s = 0.5;
    c->infer_batch = 8;
    c->max_norm = 1;
    c->frames = 43;
}

/* spatial size after the pooling stages (all blocks but the last) */
static void cls_out_size(const amt_classifier_config *c, int *h, int *w)
{
    int H = c->n_mels, W = c->frames;
    for (int k = 0; k + 1 < c->n_blocks; k++) {
        H = H >= c->pool ? (H - c->pool) / c->pool + 1 : 0;
        W = W >= c->pool ? (W - c->pool) / c->pool + 1 : 0;
    }
    *h = H; *w = W;
}

int amt_classifier_config_check(amt_classifier_config *c)
{
    if (c->n_blocks < 1 || c->n_blocks > AMT_CLS_MAX_BLOCKS)
        return amt_error(AMT_ECONFIG, "classifier: model.channels: %d blocks, expected 1..%d", c->n_blocks, AMT_CLS_MAX_BLOCKS);
    for (int k = 0; k < c->n_blocks; k++)
        if (c->channels[k] < 1) return amt_error(AMT_ECONFIG, "classifier: model.channels: block %d has %d channels", k + 1, c->channels[k]);
    if (c->convs_per_block < 1 || c->convs_per_block > AMT_CLS_MAX_CONVS)
        return amt_error(AMT_ECONFIG, "classifier: model.convs_per_block = %d, expected 1..%d", c->convs_per_block, AMT_CLS_MAX_CONVS);
    if (c->kernel < 1 || c->kernel % 2 == 0)
        return amt_error(AMT_ECONFIG, "classifier: model.kernel = %d must be odd ('same' padding)", c->kernel);
    if (c->pool < 1) return amt_error(AMT_ECONFIG, "classifier: model.pool = %d must be >= 1", c->pool);
    if (c->dense < 1) return amt_error(AMT_ECONFIG, "classifier: model.dense = %d must be >= 1", c->dense);
    if (!(c->dropout_conv >= 0 && c->dropout_conv < 1) || !(c->dropout_dense >= 0 && c->dropout_dense < 1))
        return amt_error(AMT_ECONFIG, "classifier: model dropout rates (%g, %g) must be in [0, 1)", c->dropout_conv, c->dropout_dense);
    if (c->rate < 1000) return amt_error(AMT_ECONFIG, "classifier: features.rate = %d Hz is too low", c->rate);
    if (c->n_fft < 2 || c->n_fft % 2) return amt_error(AMT_ECONFIG, "classifier: features.n_fft = %d must be even", c->n_fft);
    if (c->hop < 1 || c->hop > c->n_fft)
        return amt_error(AMT_ECONFIG, "classifier: features.hop = %d must be in [1, n_fft = %d]", c->hop, c->n_fft);
    if (c->n_mels < 1) return amt_error(AMT_ECONFIG, "classifier: features.n_mels = %d must be >= 1", c->n_mels);
    double nyq = c->rate / 2.0, fmax = c->fmax > 0 ? c->fmax : nyq;
    if (fmax > nyq || c->fmin < 0 || c->fmin >= fmax)
        return amt_error(AMT_ECONFIG, "classifier: features.fmin/fmax = %g/%g Hz outside [0, %g Hz] or empty", c->fmin, fmax, nyq);
    if (c->log == AMT_LOG_1P && !(c->log_c > 0)) return amt_error(AMT_ECONFIG, "classifier: features.log_c = %g must be > 0", c->log_c);
    double fr = c->window_s * c->rate / c->hop;
    c->frames = (int)floor(fr + 1e-9);
    if (c->frames < 1) return amt_error(AMT_ECONFIG, "classifier: features.window = %g s is shorter than one hop", c->window_s);
    int h, w;
    cls_out_size(c, &h, &w);
    if (h < 1 || w < 1)
        return amt_error(AMT_ECONFIG, "classifier: the patch (%d x %d) is too small for %d pooling stages of %d",
                         c->n_mels, c->frames, c->n_blocks - 1, c->pool);
    if (!(c->hop_s > 0)) return amt_error(AMT_ECONFIG, "classifier: infer.hop_seconds = %g must be > 0", c->hop_s);
    if (c->infer_batch < 1) return amt_error(AMT_ECONFIG, "classifier: infer.batch = %d must be >= 1", c->infer_batch);
    if (!(c->val_fraction >= 0 && c->val_fraction < 1))
        return amt_error(AMT_ECONFIG, "classifier: train.val_fraction = %g outside [0, 1)", c->val_fraction);
    return AMT_OK;
}

int amt_classifier_config_read(amt_config *cfg, amt_classifier_config *out)
{
    amt_classifier_config c;
    amt_classifier_config_default(&c);
    int rc;
    const char *kind;
    if ((rc = amt_config_get_string(cfg, "model", "kind", AMT_CLASSIFIER_KIND, &kind))) return rc;
    if (strcmp(kind, AMT_CLASSIFIER_KIND))
        return amt_error(AMT_ECONFIG, "%s: model.kind: '%s' is not '%s'", amt_config_path(cfg), kind, AMT_CLASSIFIER_KIND);
    int n = c.n_blocks;
    double dc = c.dropout_conv, dd = c.dropout_dense;
    if ((rc = amt_config_get_int_list(cfg, "model", "channels", 1, 4096, c.channels, AMT_CLS_MAX_BLOCKS, &n)) ||
        (rc = amt_config_get_int(cfg, "model", "convs_per_block", c.convs_per_block, 1, AMT_CLS_MAX_CONVS, &c.convs_per_block)) ||
        (rc = amt_config_get_int(cfg, "model", "kernel", c.kernel, 1, 15, &c.kernel)) ||
        (rc = amt_config_get_int(cfg, "model", "pool", c.pool, 1, 16, &c.pool)) ||
        (rc = amt_config_get_int(cfg, "model", "dense", c.dense, 1, 65536, &c.dense)) ||
        (rc = amt_config_get_float(cfg, "model", "dropout_conv", dc, 0, 0.99, &dc)) ||
        (rc = amt_config_get_float(cfg, "model", "dropout_dense", dd, 0, 0.99, &dd)))
        return rc;
    c.n_blocks = n;
    c.dropout_conv = (float)dc;
    c.dropout_dense = (float)dd;
    static const char *const logs[] = {"none", "log1p", "db", NULL};   /* = AMT_LOG_* order */
    static const char *const norms[] = {"none", "patch", NULL};
    double log_c = c.log_c, top_db = c.top_db;
    if ((rc = amt_config_get_int(cfg, "features", "rate", c.rate, 1000, 384000, &c.rate)) ||
        (rc = amt_config_get_int(cfg, "features", "n_mels", c.n_mels, 1, 1024, &c.n_mels)) ||
        (rc = amt_config_get_int(cfg, "features", "n_fft", c.n_fft, 2, 65536, &c.n_fft)) ||
        (rc = amt_config_get_int(cfg, "features", "hop", c.hop, 1, 65536, &c.hop)) ||
        (rc = amt_config_get_float(cfg, "features", "fmin", c.fmin, 0, 192000, &c.fmin)) ||
        (rc = amt_config_get_float(cfg, "features", "fmax", c.fmax, 0, 192000, &c.fmax)) ||
        (rc = amt_config_get_enum(cfg, "features", "log", logs, c.log, &c.log)) ||
        (rc = amt_config_get_float(cfg, "features", "log_c", log_c, 1e-6, 1e9, &log_c)) ||
        (rc = amt_config_get_float(cfg, "features", "top_db", top_db, 0, 1000, &top_db)) ||
        (rc = amt_config_get_float(cfg, "features", "window", c.window_s, 0.01, 60, &c.window_s)) ||
        (rc = amt_config_get_enum(cfg, "features", "normalize", norms, c.normalize, &c.normalize)))
        return rc;
    c.log_c = (float)log_c;
    c.top_db = (float)top_db;
    static const char *const splits[] = {"layout", "random", NULL};
    const char *dir;
    if ((rc = amt_config_get_string(cfg, "train", "data_dir", "", &dir)) ||
        (rc = amt_config_get_enum(cfg, "train", "split", splits, c.split, &c.split)) ||
        (rc = amt_config_get_float(cfg, "train", "val_fraction", c.val_fraction, 0, 0.9, &c.val_fraction)) ||
        (rc = amt_config_get_float(cfg, "train", "gain_db", c.gain_db, 0, 60, &c.gain_db)))
        return rc;
    int seed = (int)c.seed;
    if ((rc = amt_config_get_int(cfg, "train", "seed", seed, 0, 2147483647, &seed))) return rc;
    c.seed = (uint64_t)seed;
    if (strlen(dir) >= sizeof c.data_dir)
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: path longer than %zu characters", amt_config_path(cfg), sizeof c.data_dir - 1);
    strcpy(c.data_dir, dir);
    if ((rc = amt_config_get_float(cfg, "infer", "hop_seconds", c.hop_s, 0.01, 60, &c.hop_s)) ||
        (rc = amt_config_get_int(cfg, "infer", "batch", c.infer_batch, 1, 4096, &c.infer_batch)) ||
        (rc = amt_config_get_bool(cfg, "infer", "max_norm", c.max_norm, &c.max_norm)))
        return rc;
    if ((rc = amt_classifier_config_check(&c))) return rc;
    *out = c;
    return AMT_OK;
}

amt_mel_cfg amt_classifier_mel_cfg(const amt_classifier_config *c)
{
    amt_mel_cfg m = amt_mel_default();
    m.rate = c->rate;
    m.n_fft = c->n_fft;
    m.hop = c->hop;
    m.n_mels = c->n_mels;
    m.fmin = c->fmin;
    m.fmax = c->fmax;
    m.power = 2;
    m.log = c->log;
    m.log_c = c->log_c;
    m.top_db = c->top_db;
    m.center = 1;
    m.pad_mode = AMT_PAD_CONSTANT;
    return m;
}

/* ------------------------------------------------------------------ parameters */

int amt_classifier_init(amt_classifier *m, const amt_classifier_config *cfg, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    int rc = amt_classifier_config_check(&m->cfg);
    if (rc) return rc;
    const amt_classifier_config *c = &m->cfg;
    amt_params_init(&m->params);
    amt_rng rng;
    amt_rng_seed(&rng, seed ? seed : c->seed);
    char name[64];
    int in = 1, pad = c->kernel / 2;
    for (int k = 0; k < c->n_blocks; k++) {
        for (int j = 0; j < c->convs_per_block; j++) {
            snprintf(name, sizeof name, "block%d/conv%d", k + 1, j + 1);
            if ((rc = amt_conv2d_layer_init(&m->conv[k][j], &m->params, name, in, c->channels[k], c->kernel, c->kernel,
                                            1, 1, pad, pad, 1, &rng)))
                goto fail;
            in = c->channels[k];
        }
    }
    if ((rc = amt_maxpool2d_layer_init(&m->pool, c->pool, c->pool, c->pool, c->pool)) ||
        (rc = amt_dropout_layer_init(&m->drop_conv, c->dropout_conv)) ||
        (rc = amt_dropout_layer_init(&m->drop_dense, c->dropout_dense)) ||
        (rc = amt_linear_layer_init(&m->fc1, &m->params, "fc1", in, c->dense, 1, &rng)) ||
        (rc = amt_linear_layer_init(&m->fc2, &m->params, "fc2", c->dense, AMT_CLS_NCLASS, 1, &rng)))
        goto fail;
    int one = 1;
    m->threshold = amt_params_add(&m->params, AMT_CLS_THRESHOLD_PARAM, 1, &one, 0);
    if (!m->threshold) { rc = amt_errcode(); goto fail; }
    m->threshold->data[0] = AMT_CLS_DEFAULT_THRESHOLD;
    return AMT_OK;
fail:
    amt_params_free(&m->params);
    return rc ? rc : AMT_EINTERNAL;
}

void amt_classifier_free(amt_classifier *m)
{
    if (!m) return;
    amt_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

float amt_classifier_threshold(const amt_classifier *m) { return m->threshold->data[0]; }

int amt_classifier_load(const char *path, amt_classifier *m)
{
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    int rc = amt_checkpoint_read_info(path, &info);
    if (rc) return rc;
    if (strcmp(info.model, AMT_CLASSIFIER_KIND)) {
        rc = amt_error(AMT_EFORMAT, "%s: checkpoint of a '%s' model, expected '%s'", path, info.model, AMT_CLASSIFIER_KIND);
        amt_ckpt_info_free(&info);
        return rc;
    }
    amt_config *cfg = amt_config_from_string(info.config ? info.config : "", path);
    amt_ckpt_info_free(&info);
    if (!cfg) return amt_errcode() ? amt_errcode() : AMT_EFORMAT;
    amt_classifier_config c;
    rc = amt_classifier_config_read(cfg, &c);
    amt_config_free(cfg);
    if (rc) return amt_error(AMT_EFORMAT, "%s: stored config: %s", path, amt_errmsg());
    amt_classifier tmp;
    if ((rc = amt_classifier_init(&tmp, &c, 0))) return rc;
    if ((rc = amt_checkpoint_load(path, AMT_CLASSIFIER_KIND, &tmp.params, NULL, NULL))) {
        amt_classifier_free(&tmp);
        return rc;
    }
    *m = tmp;
    /* the layer structs point at parameter tensors, whose addresses are stable (amt_params
     * keeps pointers), so the copy stays valid */
    return AMT_OK;
}

/* ------------------------------------------------------------------ patches */

void amt_classifier_patch(const amt_classifier *m, const float *mel, float *out)
{
    const int nm = m->cfg.n_mels, T = m->cfg.frames;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < nm; b++) out[(size_t)b * T + t] = mel[(size_t)t * nm + b];
    if (m->cfg.normalize != AMT_CLS_NORM_PATCH) return;
    size_t n = (size_t)nm * T;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += out[i];
    double mean = s / (double)n, v = 0;
    for (size_t i = 0; i < n; i++) { double d = out[i] - mean; v += d * d; }
    double sd = sqrt(v / (double)n);
    if (sd < AMT_CLS_STD_FLOOR) sd = AMT_CLS_STD_FLOOR;
    float fm = (float)mean, inv = (float)(1.0 / sd);
    for (size_t i = 0; i < n; i++) out[i] = (out[i] - fm) * inv;
}

/* ------------------------------------------------------------------ graphs */

static amt_tensor *cls_forward(amt_graph *g, const amt_classifier *m, amt_tensor *x)
{
    const amt_classifier_config *c = &m->cfg;
    amt_tensor *h = x;
    for (int k = 0; k < c->n_blocks; k++) {
        for (int j = 0; j < c->convs_per_block; j++)
            h = amt_relu(g, amt_conv2d_layer_forward(g, &m->conv[k][j], h));
        if (k + 1 < c->n_blocks) {
            h = amt_maxpool2d_layer_forward(g, &m->pool, h);
            if (c->dropout_conv > 0) h = amt_dropout_layer_forward(g, &m->drop_conv, h);
        }
    }
    h = amt_global_maxpool_layer_forward(g, h);
    h = amt_relu(g, amt_linear_layer_forward(g, &m->fc1, h));
    if (c->dropout_dense > 0) h = amt_dropout_layer_forward(g, &m->drop_dense, h);
    return amt_linear_layer_forward(g, &m->fc2, h);
}

int amt_classifier_attach(const amt_classifier *m, amt_graph *g, amt_tensor *x, int *labels, amt_cls_graph *out)
{
    memset(out, 0, sizeof *out);
    if (!g || !x) return amt_error(AMT_EINVAL, "classifier: no graph or input");
    if (x->ndim != 4 || x->shape[1] != 1 || x->shape[2] != m->cfg.n_mels || x->shape[3] != m->cfg.frames) {
        char b[64];
        return amt_error(AMT_EINVAL, "classifier: input %s, expected (B, 1, %d, %d)", amt_shape_str(x, b, sizeof b),
                         m->cfg.n_mels, m->cfg.frames);
    }
    out->g = g;
    out->batch = x->shape[0];
    out->x = x;
    out->labels = labels;
    out->logits = cls_forward(g, m, x);
    if (labels) out->loss = amt_softmax_cross_entropy(g, out->logits, labels);
    if (g->broken || !out->logits || (labels && !out->loss)) {
        memset(out, 0, sizeof *out);
        return amt_errcode() ? amt_errcode() : AMT_EINTERNAL;
    }
    return AMT_OK;
}

static int cls_build(const amt_classifier *m, int batch, int train, uint64_t seed, amt_cls_graph *out)
{
    memset(out, 0, sizeof *out);
    if (batch < 1) return amt_error(AMT_EINVAL, "classifier: batch %d must be >= 1", batch);
    amt_graph *g = amt_graph_new(train, seed);
    if (!g) return amt_errcode() ? amt_errcode() : AMT_ENOMEM;
    int shape[4] = {batch, 1, m->cfg.n_mels, m->cfg.frames};
    amt_tensor *x = amt_graph_input(g, "patches", 4, shape, 0);
    int *labels = train ? amt_graph_alloc(g, sizeof(int) * (size_t)batch) : NULL;
    int rc = (!x || (train && !labels)) ? (amt_errcode() ? amt_errcode() : AMT_ENOMEM)
                                        : amt_classifier_attach(m, g, x, labels, out);
    if (rc) {
        amt_graph_free(g);
        memset(out, 0, sizeof *out);
        return rc;
    }
    g->training = train;
    return AMT_OK;
}

int amt_classifier_build_train(const amt_classifier *m, int batch, uint64_t seed, amt_cls_graph *out)
{
    return cls_build(m, batch, 1, seed, out);
}

int amt_classifier_build_infer(const amt_classifier *m, int batch, amt_cls_graph *out)
{
    return cls_build(m, batch, 0, 0, out);
}

void amt_cls_graph_free(amt_cls_graph *cg)
{
    if (!cg) return;
    amt_graph_free(cg->g);
    memset(cg, 0, sizeof *cg);
}

void amt_softmax_rows(const float *logits, int rows, int k, float *probs)
{
    for (int r = 0; r < rows; r++) {
        const float *z = logits + (size_t)r * k;
        float *p = probs + (size_t)r * k;
        float mx = z[0];
        for (int j = 1; j < k; j++) if (z[j] > mx) mx = z[j];
        double s = 0;
        for (int j = 0; j < k; j++) { p[j] = expf(z[j] - mx); s += p[j]; }
        float inv = (float)(1.0 / s);
        for (int j = 0; j < k; j++) p[j] *= inv;
    }
}

/* ------------------------------------------------------------------ clip level */

struct amt_cls_infer {
    const amt_classifier *m;
    amt_melspec *mel;
    amt_cls_graph cg;
    float *probs;     /* batch x 11 */
    /* the clip being accumulated (amt_cls_infer_begin .. end) */
    int nb;           /* windows in the batch not yet run */
    long nw;          /* windows so far */
    double sum[AMT_CLS_NCLASS];
    float *win_probs; /* caller's, or NULL */
};

amt_cls_infer *amt_cls_infer_new(const amt_classifier *m, int batch)
{
    if (batch <= 0) batch = m->cfg.infer_batch;
    amt_cls_infer *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "classifier: out of memory"); return NULL; }
    r->m = m;
    amt_mel_cfg mc = amt_classifier_mel_cfg(&m->cfg);
    r->mel = amt_melspec_new(&mc);
    r->probs = malloc(sizeof(float) * (size_t)batch * AMT_CLS_NCLASS);
    if (!r->mel || !r->probs || amt_classifier_build_infer(m, batch, &r->cg)) {
        if (!r->probs) amt_error(AMT_ENOMEM, "classifier: out of memory");
        amt_cls_infer_free(r);
        return NULL;
    }
    return r;
}

void amt_cls_infer_free(amt_cls_infer *r)
{
    if (!r) return;
    amt_melspec_del(r->mel);
    amt_cls_graph_free(&r->cg);
    free(r->probs);
    free(r);
}

/* window step in frames */
static long cls_step(const amt_classifier_config *c)
{
    long s = lround(c->hop_s * c->rate / c->hop);
    return s < 1 ? 1 : s;
}

long amt_classifier_n_windows(const amt_classifier *m, long n_frames)
{
    long T = m->cfg.frames, step = cls_step(&m->cfg);
    if (n_frames <= T) return 1;
    long n = 1 + (n_frames - T) / step;
    if ((n - 1) * step + T < n_frames) n++;   /* one more aligned to the end */
    return n;
}

const amt_classifier *amt_cls_infer_model(const amt_cls_infer *r) { return r ? r->m : NULL; }
amt_melspec *amt_cls_infer_mel(amt_cls_infer *r) { return r ? r->mel : NULL; }
long amt_cls_infer_step(const amt_cls_infer *r) { return cls_step(&r->m->cfg); }

void amt_cls_infer_begin(amt_cls_infer *r, float *win_probs)
{
    r->nb = 0;
    r->nw = 0;
    memset(r->sum, 0, sizeof r->sum);
    r->win_probs = win_probs;
}

/* Runs the windows waiting in the batch (slots past them zeroed). */
static int run_batch(amt_cls_infer *r)
{
    if (r->nb == 0) return AMT_OK;
    const int B = r->cg.batch;
    const size_t psize = (size_t)r->m->cfg.n_mels * r->m->cfg.frames;
    for (int b = r->nb; b < B; b++) memset(r->cg.x->data + (size_t)b * psize, 0, sizeof(float) * psize);
    int rc = amt_graph_forward(r->cg.g);
    if (rc) return rc;
    amt_softmax_rows(r->cg.logits->data, r->nb, AMT_CLS_NCLASS, r->probs);
    for (int b = 0; b < r->nb; b++) {
        for (int j = 0; j < AMT_CLS_NCLASS; j++) r->sum[j] += r->probs[b * AMT_CLS_NCLASS + j];
        if (r->win_probs)
            memcpy(r->win_probs + (size_t)(r->nw - r->nb + b) * AMT_CLS_NCLASS, r->probs + b * AMT_CLS_NCLASS,
                   sizeof(float) * AMT_CLS_NCLASS);
    }
    r->nb = 0;
    return AMT_OK;
}

int amt_cls_infer_window(amt_cls_infer *r, const float *mel)
{
    const amt_classifier *m = r->m;
    const size_t n = (size_t)m->cfg.n_mels * m->cfg.frames;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(mel[i]))
            return amt_error(AMT_EINVAL, "classifier: mel value %zu of window %ld (frame %zu) is not finite", i, r->nw,
                             i / (size_t)m->cfg.n_mels);
    amt_classifier_patch(m, mel, r->cg.x->data + (size_t)r->nb * n);
    r->nb++;
    r->nw++;
    return r->nb == r->cg.batch ? run_batch(r) : AMT_OK;
}

int amt_cls_infer_end(amt_cls_infer *r, amt_cls_result *res)
{
    int rc = run_batch(r);
    if (rc) return rc;
    if (r->nw < 1) return amt_error(AMT_EINVAL, "classifier: no windows");
    memset(res, 0, sizeof *res);
    res->windows = (int)r->nw;
    int top = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) {
        res->probs[j] = (float)(r->sum[j] / (double)r->nw);
        if (res->probs[j] > res->probs[top]) top = j;
    }
    res->top = top;
    float avg[AMT_CLS_NCLASS];
    return amt_multilabel_decide(res->probs, 1, AMT_CLS_NCLASS, r->m->cfg.max_norm, amt_classifier_threshold(r->m), avg,
                                 res->labels);
}

int amt_classifier_classify_mel(amt_cls_infer *r, const float *mel, long n_frames, amt_cls_result *res,
                                float *win_probs)
{
    const amt_classifier *m = r->m;
    const int T = m->cfg.frames, nm = m->cfg.n_mels;
    if (n_frames < 1) return amt_error(AMT_EINVAL, "classifier: %ld mel frames", n_frames);
    const float *src = mel;
    float *padded = NULL;
    if (n_frames < T) {   /* pad with the quietest value of the clip */
        float lo = INFINITY;
        for (long i = 0; i < n_frames * nm; i++) if (mel[i] < lo) lo = mel[i];
        padded = malloc(sizeof(float) * (size_t)T * nm);
        if (!padded) return amt_error(AMT_ENOMEM, "classifier: out of memory");
        memcpy(padded, mel, sizeof(float) * (size_t)n_frames * nm);
        for (long i = n_frames * nm; i < (long)T * nm; i++) padded[i] = lo;
        src = padded;
        n_frames = T;
    }
    long nw = amt_classifier_n_windows(m, n_frames), step = cls_step(&m->cfg);
    amt_cls_infer_begin(r, win_probs);
    int rc = AMT_OK;
    for (long w = 0; w < nw && !rc; w++) {
        long t0 = w * step;
        if (t0 + T > n_frames) t0 = n_frames - T;
        rc = amt_cls_infer_window(r, src + (size_t)t0 * nm);
    }
    free(padded);
    return rc ? rc : amt_cls_infer_end(r, res);
}

long amt_classifier_used_frames(const amt_classifier *m, long n_frames)
{
    const long T = m->cfg.frames;
    return n_frames - 1 > T ? n_frames - 1 : (n_frames < T ? n_frames : T);
}

int amt_classifier_classify(amt_cls_infer *r, const float *audio, long frames, int rate, amt_cls_result *res)
{
    const amt_classifier_config *c = &r->m->cfg;
    if (frames < 1) return amt_error(AMT_EINVAL, "classifier: %ld audio samples (need at least 1)", frames);
    if (rate <= 0) return amt_error(AMT_EINVAL, "classifier: sample rate %d Hz must be > 0", rate);
    if (!audio) return amt_error(AMT_EINVAL, "classifier: no audio");
    for (long i = 0; i < frames; i++)
        if (!isfinite(audio[i]))
            return amt_error(AMT_EINVAL, "classifier: sample %ld is %s", i, isnan(audio[i]) ? "NaN" : "infinite");
    float *x = NULL;
    long n = 0;
    int rc = amt_resample(audio, frames, 1, rate, c->rate, &x, &n);
    if (rc) return rc;
    long need = lround(c->window_s * c->rate);   /* shorter clips: zero-padded to one window */
    if (n < need) {
        float *p = realloc(x, sizeof(float) * (size_t)need);
        if (!p) { free(x); return amt_error(AMT_ENOMEM, "classifier: out of memory"); }
        x = p;
        memset(x + n, 0, sizeof(float) * (size_t)(need - n));
        n = need;
    }
    long nf = amt_melspec_frames(r->mel, n);
    float *mel = malloc(sizeof(float) * (size_t)(nf > 0 ? nf : 1) * c->n_mels);
    if (!mel) { free(x); return amt_error(AMT_ENOMEM, "classifier: out of memory"); }
    rc = amt_melspec_do(r->mel, x, n, mel);
    free(x);
    if (!rc) rc = amt_classifier_classify_mel(r, mel, amt_classifier_used_frames(r->m, nf), res, NULL);
    free(mel);
    return rc;
}
