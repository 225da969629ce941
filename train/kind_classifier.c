/* train/kind_classifier.c: the "classifier" model kind of amt-train: the Han et al. 2017
 * predominant-instrument ConvNet (models/classifier.h) trained on an IRMAS-layout dataset
 * (datasets/irmas.h: real IRMAS or `amt-synth irmas` renders).
 *
 * Config: [model] [features] [infer] and the [train] keys data_dir, split, val_fraction,
 * gain_db, seed are the model's (amt_classifier_config_read); this file adds to [train]:
 *   cache_mb = 512        memory limit of the clip spectrogram cache (MB; 0 = no cache)
 *   tune_threshold = true tune "decode/threshold" on the multi-label testing parts of
 *                         data_dir (split = layout) at every validation (micro F1)
 *   export_fp16 =         path: every validation that improves the metric also writes the
 *                         parameters there as a float16 checkpoint (the shipped model)
 *   eq_db = 0             augmentation: a random smooth equaliser of up to +-eq_db dB per
 *                         mel band (a tilt across the bands plus one bell), for timbre
 *                         differences between instruments' renderings (soundfonts, rooms)
 *   shift_bands = 0       augmentation: shift the patch by up to +-shift_bands mel bands
 *                         (a rough pitch/formant shift; edge bands repeated)
 *
 * Data: the training clips (single label, IRMAS-TrainingData/<cls>/) minus a seeded
 * val_fraction held out for validation (amt_random_split with [train] seed over the
 * training clips in index order; amt-eval --split val draws the same). A clip's features
 * are exactly those of amt_classifier_classify: mono mix at its own rate -> amt_resample to
 * [features] rate -> zero-padded to one window -> log-mel of the whole clip
 * (amt_classifier_mel_cfg) without its last centred frame. Spectrograms are computed on
 * first use and kept while the cache has room (cache_mb); the rest are recomputed each
 * time (bounded memory).
 *
 * An epoch visits every training clip floor(frames / window frames) times (>= 1; 3 for
 * 3 s clips) in a seeded shuffled order; each visit takes one window at a random frame
 * offset, applies a random gain in +-gain_db dB in the feature domain (db: an added
 * constant, which the per-patch standardisation removes; log1p / none: the power scaled)
 * and standardises it (amt_classifier_patch). Never a zero-padded segment (0 dB would be
 * louder than anything in the clip). steps_per_epoch = ceil(visits / batch).
 *
 * Validation metric: clip accuracy on the held-out clips (window softmaxes averaged, as
 * amt_classifier_classify_mel); extras: the clips' mean cross-entropy, macro F1, and the
 * tuned threshold with its multi-label micro F1. Deterministic: randomness comes only from
 * the trainer's generators. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/audio_io.h"
#include "audio/mel.h"
#include "audio/resample.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/filelist.h"
#include "datasets/irmas.h"
#include "eval/classification.h"
#include "models/classifier.h"
#include "train/kinds.h"

#define CLS_DEFAULT_CACHE_MB 512
#define CLS_TUNE_LO 0.02          /* threshold grid: lo, lo + step, ..., hi */
#define CLS_TUNE_HI 0.98
#define CLS_TUNE_STEP 0.02
#define CLS_PROB_FLOOR 1e-12      /* cross-entropy of a clip: -log(max(p, floor)) */

typedef struct cls_ctx {
    amt_classifier model;
    int have_model;
    amt_cls_graph cg;
    amt_irmas ds;
    int have_ds;
    int *train, ntrain;           /* training clip ids (dataset items) */
    int *val, nval;               /* validation clip ids */
    int *tune, ntune;             /* multi-label clips for threshold tuning */
    int *order, norder;           /* one entry per window visit of an epoch (shuffled) */
    int *canon;                   /* the same entries in index order */
    int *label;                   /* class per item (lowest label bit) */
    amt_melspec *mel;
    float **cache;                /* per item: cached spectrogram or NULL */
    long *cache_frames;
    size_t cache_bytes, cache_limit;
    float *scratch;               /* the last uncached spectrogram */
    float *win;                   /* one window (frames x n_mels) after gain */
    float *tune_probs;            /* ntune x 11 clip probabilities */
    amt_cls_infer *runner;
    double gain_db, eq_db;
    int shift_bands;
    float *eq;                    /* n_mels: the current equaliser curve (dB) */
    int tune_threshold;
    char *export_path;
    char *config_text;
    double best;                  /* best metric seen (for export_fp16) */
} cls_ctx;

/* The features of item `item` as amt_classifier_classify computes them: *mel (frames x
 * n_mels) stays valid until the next call (cached ones until destroy). */
static int clip_mel(cls_ctx *x, int item, const float **mel, long *frames)
{
    if (x->cache[item]) { *mel = x->cache[item]; *frames = x->cache_frames[item]; return AMT_OK; }
    const amt_classifier_config *c = &x->model.cfg;
    const char *path = x->ds.files[item].wav;
    float *a = NULL, *y = NULL;
    long n = 0, ny = 0;
    int rate = 0;
    int rc = amt_audio_read_mono(path, -1, 0, &a, &n, &rate);
    if (rc) return rc;
    rc = amt_resample(a, n, 1, rate, c->rate, &y, &ny);
    free(a);
    if (rc) return rc;
    long need = lround(c->window_s * c->rate);
    if (ny < need) {
        float *p = realloc(y, sizeof(float) * (size_t)need);
        if (!p) { free(y); return amt_error(AMT_ENOMEM, "%s: out of memory", path); }
        y = p;
        memset(y + ny, 0, sizeof(float) * (size_t)(need - ny));
        ny = need;
    }
    long nf = amt_melspec_frames(x->mel, ny);
    size_t bytes = sizeof(float) * (size_t)(nf > 0 ? nf : 1) * c->n_mels;
    float *m = malloc(bytes);
    if (!m) { free(y); return amt_error(AMT_ENOMEM, "%s: out of memory", path); }
    rc = amt_melspec_do(x->mel, y, ny, m);
    free(y);
    if (rc) { free(m); return rc; }
    long use = nf - 1 > c->frames ? nf - 1 : (nf < c->frames ? nf : c->frames);
    if (x->cache_bytes + bytes <= x->cache_limit) {
        x->cache[item] = m;
        x->cache_frames[item] = use;
        x->cache_bytes += bytes;
    } else {
        free(x->scratch);
        x->scratch = m;
    }
    *mel = m;
    *frames = use;
    return AMT_OK;
}

/* Adds g + eq[band] dB (eq may be NULL) to a window of frames rows of n_mels values in the
 * model's compression domain (db: added, floored at the power floor; log1p / none: the
 * power scaled). */
static void apply_gain(const amt_classifier_config *c, float *v, long frames, double g, const float *eq)
{
    const int nm = c->n_mels;
    const float floor_db = 10.0f * log10f(AMT_DB_AMIN);
    for (long t = 0; t < frames; t++) {
        float *r = v + (size_t)t * nm;
        for (int b = 0; b < nm; b++) {
            double d = g + (eq ? eq[b] : 0.0);
            if (c->log == AMT_LOG_DB) {
                float u = r[b] + (float)d;
                r[b] = u > floor_db ? u : floor_db;
            } else if (c->log == AMT_LOG_1P) {
                r[b] = (float)log1p(expm1((double)r[b]) * pow(10.0, d / 10.0));
            } else {
                r[b] = (float)(r[b] * pow(10.0, d / 10.0));
            }
        }
    }
}

/* A random equaliser: tilt in [-a, a] dB from the lowest to the highest band plus a bell
 * of [-a, a] dB at a random band with a random width (n_mels/16 .. n_mels/4 bands). */
static void random_eq(amt_rng *rng, double a, int nm, float *eq)
{
    double tilt = (2 * amt_rng_uniform(rng) - 1) * a;
    double bell = (2 * amt_rng_uniform(rng) - 1) * a;
    double centre = amt_rng_uniform(rng) * (nm - 1);
    double width = nm / 16.0 + amt_rng_uniform(rng) * (nm / 4.0 - nm / 16.0);
    if (width < 1) width = 1;
    for (int b = 0; b < nm; b++) {
        double z = (b - centre) / width;
        eq[b] = (float)(tilt * ((nm > 1 ? (double)b / (nm - 1) : 0.5) - 0.5) + bell * exp(-0.5 * z * z));
    }
}

/* Shifts each row of a window by s bands (s > 0: content moves up), repeating edge bands. */
static void shift_window(float *v, long frames, int nm, int s, float *tmp)
{
    if (s == 0) return;
    for (long t = 0; t < frames; t++) {
        float *r = v + (size_t)t * nm;
        for (int b = 0; b < nm; b++) {
            int src = b - s;
            tmp[b] = r[src < 0 ? 0 : (src >= nm ? nm - 1 : src)];
        }
        memcpy(r, tmp, sizeof(float) * (size_t)nm);
    }
}

static int cls_begin_epoch(void *ctx, int64_t epoch, amt_rng *rng)
{
    (void)epoch;
    cls_ctx *x = ctx;
    /* from the canonical order, so the shuffle depends only on (seed, epoch) */
    memcpy(x->order, x->canon, sizeof(int) * (size_t)x->norder);
    amt_rng_shuffle_int(rng, x->order, x->norder);
    return AMT_OK;
}

static int cls_next_batch(void *ctx, int64_t epoch, int64_t index, amt_rng *rng)
{
    (void)epoch;
    cls_ctx *x = ctx;
    const amt_classifier_config *c = &x->model.cfg;
    const int B = x->cg.batch, T = c->frames, nm = c->n_mels;
    const size_t psize = (size_t)nm * T;
    for (int b = 0; b < B; b++) {
        int item = x->order[(size_t)((index * B + b) % x->norder)];
        const float *mel;
        long frames;
        int rc = clip_mel(x, item, &mel, &frames);
        if (rc) return rc;
        if (frames >= T) {
            long t0 = (long)amt_rng_below(rng, (uint64_t)(frames - T + 1));
            memcpy(x->win, mel + (size_t)t0 * nm, sizeof(float) * psize);
        } else {   /* shorter than a window: pad with the clip's quietest value */
            float lo = INFINITY;
            for (long i = 0; i < frames * nm; i++) if (mel[i] < lo) lo = mel[i];
            memcpy(x->win, mel, sizeof(float) * (size_t)frames * nm);
            for (size_t i = (size_t)frames * nm; i < psize; i++) x->win[i] = lo;
        }
        double g = x->gain_db > 0 ? (2.0 * amt_rng_uniform(rng) - 1.0) * x->gain_db : 0.0;
        if (x->eq_db > 0) random_eq(rng, x->eq_db, nm, x->eq);
        apply_gain(c, x->win, T, g, x->eq_db > 0 ? x->eq : NULL);
        if (x->shift_bands > 0) {
            int sh = (int)amt_rng_below(rng, (uint64_t)(2 * x->shift_bands + 1)) - x->shift_bands;
            shift_window(x->win, T, nm, sh, x->eq + nm);
        }
        amt_classifier_patch(&x->model, x->win, x->cg.x->data + (size_t)b * psize);
        x->cg.labels[b] = x->label[item];
    }
    return AMT_OK;
}

static int cls_validate(void *ctx, double *metric, double *extra)
{
    cls_ctx *x = ctx;
    int rc = AMT_OK;
    amt_confusion conf;
    if ((rc = amt_confusion_init(&conf, AMT_CLS_NCLASS))) return rc;
    double nll = 0;
    for (int i = 0; i < x->nval && !rc; i++) {
        const float *mel;
        long frames;
        amt_cls_result res;
        int it = x->val[i];
        if ((rc = clip_mel(x, it, &mel, &frames)) || (rc = amt_classifier_classify_mel(x->runner, mel, frames, &res, NULL)))
            break;
        rc = amt_confusion_add(&conf, x->label[it], res.top);
        double p = res.probs[x->label[it]];
        nll -= log(p > CLS_PROB_FLOOR ? p : CLS_PROB_FLOOR);
    }
    if (!rc && x->nval > 0) {
        amt_class_scores s;
        if (!(rc = amt_confusion_scores(&conf, &s))) {
            *metric = s.accuracy;
            extra[0] = nll / x->nval;
            extra[1] = s.macro_f1;
            amt_class_scores_free(&s);
        }
    } else if (!rc) {
        *metric = NAN;
    }
    amt_confusion_free(&conf);
    if (rc) return rc;
    /* threshold tuning on the multi-label clips */
    if (x->tune_threshold && x->ntune > 0) {
        for (int i = 0; i < x->ntune && !rc; i++) {
            const float *mel;
            long frames;
            amt_cls_result res;
            if (!(rc = clip_mel(x, x->tune[i], &mel, &frames)) &&
                !(rc = amt_classifier_classify_mel(x->runner, mel, frames, &res, NULL)))
                memcpy(x->tune_probs + (size_t)i * AMT_CLS_NCLASS, res.probs, sizeof res.probs);
        }
        if (rc) return rc;
        double best_f1 = -1, best_t = AMT_CLS_DEFAULT_THRESHOLD;
        int nt = (int)lround((CLS_TUNE_HI - CLS_TUNE_LO) / CLS_TUNE_STEP);
        for (int k = 0; k <= nt && !rc; k++) {
            float thr = (float)(CLS_TUNE_LO + k * CLS_TUNE_STEP);
            amt_multilabel ml;
            if ((rc = amt_multilabel_init(&ml, AMT_CLS_NCLASS))) break;
            for (int i = 0; i < x->ntune; i++) {
                float avg[AMT_CLS_NCLASS];
                unsigned char pred[AMT_CLS_NCLASS], truth[AMT_CLS_NCLASS];
                amt_multilabel_decide(x->tune_probs + (size_t)i * AMT_CLS_NCLASS, 1, AMT_CLS_NCLASS,
                                      x->model.cfg.max_norm, thr, avg, pred);
                for (int j = 0; j < AMT_CLS_NCLASS; j++) truth[j] = (x->ds.files[x->tune[i]].labels >> j) & 1u;
                amt_multilabel_add(&ml, truth, pred);
            }
            amt_class_scores s;
            if (!(rc = amt_multilabel_scores(&ml, &s))) {
                if (s.micro_f1 > best_f1) { best_f1 = s.micro_f1; best_t = thr; }
                amt_class_scores_free(&s);
            }
            amt_multilabel_free(&ml);
        }
        if (rc) return rc;
        x->model.threshold->data[0] = (float)best_t;
        extra[2] = best_t;
        extra[3] = best_f1;
    } else {
        extra[2] = amt_classifier_threshold(&x->model);
    }
    if (x->export_path && isfinite(*metric) && *metric > x->best) {
        x->best = *metric;
        amt_ckpt_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.model, sizeof info.model, "%s", AMT_CLASSIFIER_KIND);
        info.config = x->config_text;
        if ((rc = amt_checkpoint_save(x->export_path, &x->model.params, NULL, &info, AMT_CKPT_FLOAT16))) return rc;
    }
    return AMT_OK;
}

static void cls_free(cls_ctx *x)
{
    if (!x) return;
    if (x->cache)
        for (int i = 0; i < x->ds.n; i++) free(x->cache[i]);
    free(x->cache);
    free(x->cache_frames);
    free(x->scratch);
    free(x->win);
    free(x->eq);
    free(x->tune_probs);
    free(x->train);
    free(x->val);
    free(x->tune);
    free(x->order);
    free(x->canon);
    free(x->label);
    free(x->export_path);
    free(x->config_text);
    amt_cls_infer_free(x->runner);
    amt_melspec_del(x->mel);
    amt_cls_graph_free(&x->cg);
    if (x->have_model) amt_classifier_free(&x->model);
    if (x->have_ds) amt_irmas_close(&x->ds);
    free(x);
}

static int create(struct amt_config *cfg, const amt_train_config *tc, amt_train_model *m)
{
    amt_classifier_config c;
    int rc = amt_classifier_config_read(cfg, &c);
    if (rc) return rc;
    int cache_mb, tune, shift;
    double eq_db;
    const char *exp;
    if ((rc = amt_config_get_int(cfg, "train", "cache_mb", CLS_DEFAULT_CACHE_MB, 0, 1 << 20, &cache_mb)) ||
        (rc = amt_config_get_float(cfg, "train", "eq_db", 0, 0, 60, &eq_db)) ||
        (rc = amt_config_get_int(cfg, "train", "shift_bands", 0, 0, 64, &shift)) ||
        (rc = amt_config_get_bool(cfg, "train", "tune_threshold", 1, &tune)) ||
        (rc = amt_config_get_string(cfg, "train", "export_fp16", "", &exp)))
        return rc;
    if (!c.data_dir[0])
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: missing (an IRMAS-layout directory, e.g. from amt-synth irmas)",
                         amt_config_path(cfg));
    struct stat sb;
    if (stat(c.data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return amt_error(AMT_EIO, "%s: train.data_dir: %s: no such directory", amt_config_path(cfg), c.data_dir);
    cls_ctx *x = calloc(1, sizeof *x);
    if (!x) return amt_error(AMT_ENOMEM, "classifier: out of memory");
    x->gain_db = c.gain_db;
    x->eq_db = eq_db;
    x->shift_bands = shift;
    x->tune_threshold = tune;
    x->cache_limit = (size_t)cache_mb << 20;
    x->best = -INFINITY;
    if (exp[0] && !(x->export_path = strdup(exp))) { rc = amt_error(AMT_ENOMEM, "classifier: out of memory"); goto fail; }
    if (!(x->config_text = amt_config_text(cfg))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }

    amt_irmas_opts io;
    amt_irmas_opts_default(&io);
    io.split = c.split == AMT_CLS_SPLIT_RANDOM ? AMT_IRMAS_SPLIT_RANDOM : AMT_IRMAS_SPLIT_LAYOUT;
    io.seed = c.seed;
    if ((rc = amt_irmas_open(c.data_dir, &io, &x->ds))) goto fail;
    x->have_ds = 1;
    const int n = x->ds.n;
    x->label = malloc(sizeof(int) * (size_t)n);
    x->train = malloc(sizeof(int) * (size_t)n);
    x->val = malloc(sizeof(int) * (size_t)n);
    x->tune = malloc(sizeof(int) * (size_t)n);
    x->cache = calloc((size_t)n, sizeof *x->cache);
    x->cache_frames = calloc((size_t)n, sizeof *x->cache_frames);
    unsigned char *keep = malloc((size_t)n + 1);
    int *cand = malloc(sizeof(int) * (size_t)n + 1);
    if (!x->label || !x->train || !x->val || !x->tune || !x->cache || !x->cache_frames || !keep || !cand) {
        free(keep); free(cand);
        rc = amt_error(AMT_ENOMEM, "classifier: out of memory");
        goto fail;
    }
    int ncand = 0;
    for (int i = 0; i < n; i++) {
        const amt_irmas_file *f = &x->ds.files[i];
        int l = 0;
        while (l < AMT_CLS_NCLASS && !((f->labels >> l) & 1u)) l++;
        x->label[i] = l < AMT_CLS_NCLASS ? l : 0;
        int single = f->labels && !(f->labels & (f->labels - 1));
        if (f->train && single) cand[ncand++] = i;
        else if (!f->train && f->testing) x->tune[x->ntune++] = i;
    }
    amt_random_split(ncand, c.val_fraction, c.seed, keep);
    for (int i = 0; i < ncand; i++) {
        if (keep[i]) x->train[x->ntrain++] = cand[i];
        else x->val[x->nval++] = cand[i];
    }
    free(keep);
    free(cand);
    if (x->ntrain == 0) {
        rc = amt_error(AMT_EIO, "%s: no training clips (IRMAS-TrainingData/<class>/*.wav)", c.data_dir);
        goto fail;
    }
    if (!tune) x->ntune = 0;

    if ((rc = amt_classifier_init(&x->model, &c, (uint64_t)tc->seed))) goto fail;
    x->have_model = 1;
    if ((rc = amt_classifier_build_train(&x->model, tc->batch, (uint64_t)tc->seed, &x->cg))) goto fail;
    amt_mel_cfg mc = amt_classifier_mel_cfg(&x->model.cfg);
    if (!(x->mel = amt_melspec_new(&mc))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }
    x->win = malloc(sizeof(float) * (size_t)c.n_mels * x->model.cfg.frames);
    x->tune_probs = malloc(sizeof(float) * (size_t)(x->ntune + 1) * AMT_CLS_NCLASS);
    x->eq = malloc(sizeof(float) * 2 * (size_t)c.n_mels);
    if (!x->win || !x->tune_probs || !x->eq) { rc = amt_error(AMT_ENOMEM, "classifier: out of memory"); goto fail; }

    /* window visits per clip, from the sound file headers; the inference batch = the
     * first clip's window count */
    long total = 0, typical_frames = 0;
    x->order = malloc(sizeof(int) * (size_t)x->ntrain);
    int cap = x->ntrain;
    for (int i = 0; i < x->ntrain; i++) {
        int it = x->train[i];
        amt_audio info;
        memset(&info, 0, sizeof info);
        amt_audio_reader *r = x->order ? amt_audio_open(x->ds.files[it].wav, &info) : NULL;
        if (!r) { rc = x->order ? (amt_errcode() ? amt_errcode() : AMT_EIO) : amt_error(AMT_ENOMEM, "classifier: out of memory"); goto fail; }
        amt_audio_close(r);
        long ns = amt_resample_len(info.rate, c.rate, info.frames), need = lround(c.window_s * c.rate);
        if (ns < need) ns = need;
        long nf = amt_melspec_frames(x->mel, ns), T = x->model.cfg.frames;
        long use = nf - 1 > T ? nf - 1 : T;
        if (i == 0) typical_frames = use;
        int visits = (int)(use / T);
        if (x->norder + visits > cap) {
            cap = 2 * cap + visits;
            int *p = realloc(x->order, sizeof(int) * (size_t)cap);
            if (!p) { rc = amt_error(AMT_ENOMEM, "classifier: out of memory"); goto fail; }
            x->order = p;
        }
        for (int v = 0; v < visits; v++) x->order[x->norder++] = it;
        total += visits;
    }
    if (!(x->canon = malloc(sizeof(int) * (size_t)x->norder))) { rc = amt_error(AMT_ENOMEM, "classifier: out of memory"); goto fail; }
    memcpy(x->canon, x->order, sizeof(int) * (size_t)x->norder);
    int ib = (int)amt_classifier_n_windows(&x->model, typical_frames);
    if (!(x->runner = amt_cls_infer_new(&x->model, ib))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }

    memset(m, 0, sizeof *m);
    m->ctx = x;
    m->params = &x->model.params;
    m->graph = x->cg.g;
    m->loss = x->cg.loss;
    m->batch = tc->batch;
    m->steps_per_epoch = (int)((total + tc->batch - 1) / tc->batch);
    m->metric_name = "val_accuracy";
    m->n_extra = 4;
    m->extra_names[0] = "val_loss";
    m->extra_names[1] = "val_macro_f1";
    m->extra_names[2] = "threshold";
    m->extra_names[3] = "tune_micro_f1";
    m->begin_epoch = cls_begin_epoch;
    m->next_batch = cls_next_batch;
    m->validate = cls_validate;
    return AMT_OK;
fail:
    cls_free(x);
    return rc ? rc : AMT_EINTERNAL;
}

static void destroy(amt_train_model *m)
{
    cls_free(m->ctx);
    memset(m, 0, sizeof *m);
}

const amt_model_kind amt_classifier_kind = {
    "classifier", "predominant-instrument ConvNet (Han et al. 2017) on IRMAS-layout data", create, destroy};
