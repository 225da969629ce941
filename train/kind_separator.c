/* train/kind_separator.c: amt-train's "separator" kind: MIR-1K-layout data -> the LSTM
 * separator of models/separator.h (Huang et al. 2014) with the discriminative loss.
 *
 * Config: the model's own sections ([model], [features], [loss], [optim], [train],
 * [infer]; models/separator.h) and [data]:
 *   [train] data_dir  one or more MIR-1K-layout roots, comma-separated (e.g. the rendered
 *                     set and the real MIR-1K clips: "/tmp/mir1k-train, ../shared/...")
 *   [train] split     huang | random: which clips of each root are training clips
 *   [data] all_train  true: every clip of every root is a training clip (rendered sets,
 *                     whose singer names mean nothing); the split is then ignored
 *   [data] repeat     clips of root k are visited repeat[k] times per epoch (one value per
 *                     root; default 1 each): weights a small real set against a big render
 *   [data] cache_mb   magnitude spectrograms kept in memory (MB, default 2048); clips beyond
 *                     it are read and transformed again when visited (bounded memory)
 * Validation: [train] val_fraction of each root's training clips (a seeded choice, the
 * same for a root whatever the other roots are) are held out; each epoch they are
 * separated with the audio-level function (block inference, ISTFT) and scored with BSS
 * Eval: metric = voice GNSDR (dB), extras music GNSDR, voice GSIR/GSAR and, with several
 * roots, the voice GNSDR of each root's validation clips.
 *
 * An epoch visits every training clip (repeat times): a clip of F frames gives k =
 * max(1, F / T) sequences of T = seq_frames frames, consecutive from a random offset in
 * [0, F - k T]; all sequences of the epoch are shuffled, and step i takes sequences
 * [i B, i B + B) (wrapping). A clip shorter than T is zero-padded to T frames. All
 * randomness comes from the trainer's (seed, epoch) generator: deterministic. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "datasets/mir1k.h"
#include "eval/separation.h"
#include "models/separator.h"
#include "train/kinds.h"

#define SEP_MAX_DIRS 4
#define SEP_DEFAULT_CACHE_MB 2048

typedef struct sep_clip {
    int dir, index;          /* root and clip index in that root's amt_mir1k */
    long frames;             /* STFT frames estimated from the sample count */
    float *mag;              /* cached: 3 x nf x bins (mix, voice, music), or NULL */
    long nf;                 /* frames of the cached spectrogram (>= T, padded) */
} sep_clip;

typedef struct sep_seq { int clip; long t0; } sep_seq;

typedef struct sep_ctx {
    amt_separator model;
    amt_sep_graph sg;
    amt_sep_infer *infer;
    amt_mir1k ds[SEP_MAX_DIRS];
    int ndirs, repeat[SEP_MAX_DIRS];
    sep_clip *train;  int ntrain;
    sep_clip *val;    int nval;
    sep_seq *seqs;    long nseqs;
    size_t cache_bytes, cache_cap;
} sep_ctx;

/* ------------------------------------------------------------------ split helpers */

/* Splits a comma-separated list into at most max trimmed entries (in place). */
static int split_list(char *s, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ' || *tok == '\t') tok++;
        char *e = tok + strlen(tok);
        while (e > tok && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*tok) continue;
        if (n == max) return -1;
        out[n++] = tok;
    }
    return n;
}

/* ------------------------------------------------------------------ clip data */

/* Reads clip c and computes the three magnitudes into buf (3 x nf x bins, nf >= T,
 * zero-padded). *nf_out = nf. buf NULL: malloc'd (*out). */
static int load_clip(sep_ctx *x, const sep_clip *c, int T, float **out, long *nf_out)
{
    float *mix = NULL, *music = NULL, *voice = NULL, *mm = NULL, *mv = NULL, *mu = NULL;
    long n = 0, f1 = 0, f2 = 0, f3 = 0;
    int rc = amt_mir1k_read(&x->ds[c->dir], c->index, &mix, &music, &voice, &n);
    if (!rc) rc = amt_separator_magnitude(&x->model, mix, n, &mm, &f1);
    if (!rc) rc = amt_separator_magnitude(&x->model, voice, n, &mv, &f2);
    if (!rc) rc = amt_separator_magnitude(&x->model, music, n, &mu, &f3);
    free(mix); free(music); free(voice);
    if (!rc) {
        const size_t bins = (size_t)x->model.bins;
        long nf = f1 < T ? T : f1;
        float *buf = calloc(3 * (size_t)nf * bins, sizeof(float));
        if (!buf) rc = amt_error(AMT_ENOMEM, "separator: out of memory for %ld frames", nf);
        else {
            memcpy(buf, mm, sizeof(float) * (size_t)f1 * bins);
            memcpy(buf + (size_t)nf * bins, mv, sizeof(float) * (size_t)f1 * bins);
            memcpy(buf + 2 * (size_t)nf * bins, mu, sizeof(float) * (size_t)f1 * bins);
            *out = buf;
            *nf_out = nf;
        }
    }
    free(mm); free(mv); free(mu);
    return rc;
}

/* The spectrogram triple of training clip i: cached, or loaded into a temporary that the
 * caller frees (*tmp). */
static int clip_data(sep_ctx *x, int i, const float **mag, long *nf, float **tmp)
{
    sep_clip *c = &x->train[i];
    *tmp = NULL;
    if (c->mag) { *mag = c->mag; *nf = c->nf; return AMT_OK; }
    float *buf = NULL;
    long n = 0;
    int rc = load_clip(x, c, x->sg.frames, &buf, &n);
    if (rc) return rc;
    size_t bytes = sizeof(float) * 3 * (size_t)n * (size_t)x->model.bins;
    if (x->cache_bytes + bytes <= x->cache_cap) {
        c->mag = buf;
        c->nf = n;
        x->cache_bytes += bytes;
    } else {
        *tmp = buf;
    }
    *mag = buf;
    *nf = n;
    return AMT_OK;
}

/* ------------------------------------------------------------------ callbacks */

static long clip_seqs(const sep_clip *c, int T)
{
    long k = c->frames / T;
    return k < 1 ? 1 : k;
}

static int begin_epoch(void *ctx, int64_t epoch, amt_rng *rng)
{
    (void)epoch;
    sep_ctx *x = ctx;
    const int T = x->sg.frames;
    long s = 0;
    for (int i = 0; i < x->ntrain; i++) {
        const sep_clip *c = &x->train[i];
        long k = clip_seqs(c, T);
        for (int r = 0; r < x->repeat[c->dir]; r++) {
            long slack = c->frames - k * T;
            long off = slack > 0 ? (long)amt_rng_below(rng, (uint64_t)slack + 1) : 0;
            for (long j = 0; j < k; j++) x->seqs[s++] = (sep_seq){i, off + j * T};
        }
    }
    /* Fisher-Yates with the epoch's generator */
    for (long i = s - 1; i > 0; i--) {
        long j = (long)amt_rng_below(rng, (uint64_t)i + 1);
        sep_seq t = x->seqs[i];
        x->seqs[i] = x->seqs[j];
        x->seqs[j] = t;
    }
    return AMT_OK;
}

static int next_batch(void *ctx, int64_t epoch, int64_t index, amt_rng *rng)
{
    (void)epoch; (void)rng;
    sep_ctx *x = ctx;
    const int B = x->sg.batch, T = x->sg.frames;
    const size_t bins = (size_t)x->model.bins;
    for (int b = 0; b < B; b++) {
        sep_seq q = x->seqs[(index * B + b) % x->nseqs];
        const float *mag;
        float *tmp;
        long nf;
        int rc = clip_data(x, q.clip, &mag, &nf, &tmp);
        if (rc) return rc;
        long t0 = q.t0;
        if (t0 > nf - T) t0 = nf - T;
        if (t0 < 0) t0 = 0;
        rc = amt_separator_fill(&x->model, &x->sg, b, mag, mag + (size_t)nf * bins, mag + 2 * (size_t)nf * bins, nf, t0);
        free(tmp);
        if (rc) return rc;
    }
    return AMT_OK;
}

enum { X_MUSIC_GNSDR, X_VOICE_GSIR, X_VOICE_GSAR, X_DIR0 };
static const char *const EXTRA_NAMES[X_DIR0 + SEP_MAX_DIRS] = {
    "val_music_gnsdr", "val_voice_gsir", "val_voice_gsar",
    "val_voice_gnsdr_root1", "val_voice_gnsdr_root2", "val_voice_gnsdr_root3", "val_voice_gnsdr_root4"};

static int validate(void *ctx, double *metric, double *extra)
{
    sep_ctx *x = ctx;
    *metric = NAN;
    if (x->nval == 0) return AMT_OK;
    amt_sep_acc all, per[SEP_MAX_DIRS];
    amt_sep_acc_init(&all);
    for (int d = 0; d < SEP_MAX_DIRS; d++) amt_sep_acc_init(&per[d]);
    int rc = AMT_OK;
    for (int i = 0; i < x->nval && !rc; i++) {
        const sep_clip *c = &x->val[i];
        float *mix = NULL, *music = NULL, *voice = NULL, *ev = NULL, *em = NULL;
        long n = 0;
        rc = amt_mir1k_read(&x->ds[c->dir], c->index, &mix, &music, &voice, &n);
        if (!rc) {
            ev = malloc(sizeof(float) * (size_t)n);
            em = malloc(sizeof(float) * (size_t)n);
            if (!ev || !em) rc = amt_error(AMT_ENOMEM, "separator: out of memory for %ld samples", n);
        }
        if (!rc) rc = amt_separator_separate(x->infer, mix, n, 1, AMT_MIR1K_RATE, ev, em);
        amt_sep_scores s;
        if (!rc) {
            rc = amt_sep_eval_clip(voice, music, mix, ev, em, n, &s);
            if (rc) {   /* e.g. a silent source: skip the clip, as amt-eval does */
                amt_error_clear();
                rc = AMT_OK;
            } else {
                amt_sep_acc_add(&all, &s);
                amt_sep_acc_add(&per[c->dir], &s);
            }
        }
        free(mix); free(music); free(voice); free(ev); free(em);
    }
    if (rc) return rc;
    amt_sep_scores r;
    if (all.clips == 0 || amt_sep_acc_result(&all, &r)) { amt_error_clear(); return AMT_OK; }
    *metric = r.nsdr[AMT_SEP_VOICE];
    extra[X_MUSIC_GNSDR] = r.nsdr[AMT_SEP_MUSIC];
    extra[X_VOICE_GSIR] = r.sir[AMT_SEP_VOICE];
    extra[X_VOICE_GSAR] = r.sar[AMT_SEP_VOICE];
    if (x->ndirs > 1)
        for (int d = 0; d < x->ndirs; d++) {
            amt_sep_scores pd;
            if (per[d].clips && !amt_sep_acc_result(&per[d], &pd)) extra[X_DIR0 + d] = pd.nsdr[AMT_SEP_VOICE];
            else amt_error_clear();
        }
    return AMT_OK;
}

/* ------------------------------------------------------------------ create / destroy */

static void free_ctx(sep_ctx *x)
{
    if (!x) return;
    for (int i = 0; i < x->ntrain; i++) free(x->train[i].mag);
    free(x->train);
    free(x->val);
    free(x->seqs);
    amt_sep_infer_free(x->infer);
    amt_sep_graph_free(&x->sg);
    amt_separator_free(&x->model);
    for (int d = 0; d < x->ndirs; d++) amt_mir1k_close(&x->ds[d]);
    free(x);
}

static int create(struct amt_config *cfg, const amt_train_config *tc, amt_train_model *m)
{
    amt_separator_config sc;
    int rc = amt_separator_config_read(cfg, &sc);
    if (rc) return rc;
    int all_train = 0, cache_mb = SEP_DEFAULT_CACHE_MB, nrep = 0, rep[SEP_MAX_DIRS];
    if ((rc = amt_config_get_bool(cfg, "data", "all_train", 0, &all_train)) ||
        (rc = amt_config_get_int(cfg, "data", "cache_mb", SEP_DEFAULT_CACHE_MB, 0, 1 << 20, &cache_mb)) ||
        (rc = amt_config_get_int_list(cfg, "data", "repeat", 1, 1000, rep, SEP_MAX_DIRS, &nrep)))
        return rc;
    /* the trainer's [train] batch and seed rule */
    sc.batch = tc->batch;
    sc.seed = (uint64_t)tc->seed;
    if (!sc.data_dir[0])
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: missing (a MIR-1K-layout folder, e.g. from amt-synth mir1k)",
                         amt_config_path(cfg));
    if (sc.rate != AMT_MIR1K_RATE)
        return amt_error(AMT_ECONFIG, "%s: features.rate: training reads MIR-1K at %d Hz; %d is not supported",
                         amt_config_path(cfg), AMT_MIR1K_RATE, sc.rate);
    char dirs_buf[AMT_SEP_PATH_MAX];
    snprintf(dirs_buf, sizeof dirs_buf, "%s", sc.data_dir);
    char *dirs[SEP_MAX_DIRS];
    int nd = split_list(dirs_buf, dirs, SEP_MAX_DIRS);
    if (nd < 0) return amt_error(AMT_ECONFIG, "%s: train.data_dir: more than %d folders", amt_config_path(cfg), SEP_MAX_DIRS);
    if (nd == 0) return amt_error(AMT_ECONFIG, "%s: train.data_dir: no folder given", amt_config_path(cfg));
    if (nrep && nrep != nd)
        return amt_error(AMT_ECONFIG, "%s: data.repeat: %d values for %d data_dir folders", amt_config_path(cfg), nrep, nd);

    sep_ctx *x = calloc(1, sizeof *x);
    if (!x) return amt_error(AMT_ENOMEM, "separator: out of memory");
    x->cache_cap = (size_t)cache_mb << 20;
    /* index every root */
    int cap = 0;
    for (int d = 0; d < nd && !rc; d++) {
        amt_mir1k_opts o;
        amt_mir1k_opts_default(&o);
        o.split = sc.split == AMT_SEP_SPLIT_HUANG ? AMT_SPLIT_PROTOCOL : AMT_SPLIT_RANDOM;
        o.seed = sc.seed;
        o.v.check_audio = 1;
        rc = amt_mir1k_open(dirs[d], &o, &x->ds[d]);
        if (rc) {
            if (rc == AMT_EIO || rc == AMT_EFORMAT) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s", amt_errmsg());
                rc = amt_error(rc, "train.data_dir: %s", msg);
            }
            break;
        }
        x->ndirs++;
        x->repeat[d] = nrep ? rep[d] : 1;
        cap += x->ds[d].n;
    }
    if (!rc) {
        x->train = calloc((size_t)cap + 1, sizeof *x->train);
        x->val = calloc((size_t)cap + 1, sizeof *x->val);
        if (!x->train || !x->val) rc = amt_error(AMT_ENOMEM, "separator: out of memory");
    }
    for (int d = 0; d < x->ndirs && !rc; d++) {
        const amt_mir1k *ds = &x->ds[d];
        int *idx = NULL, n = 0;
        if (all_train) {
            idx = malloc(sizeof(int) * (size_t)ds->n);
            if (!idx) { rc = amt_error(AMT_ENOMEM, "separator: out of memory"); break; }
            for (int i = 0; i < ds->n; i++) idx[i] = i;
            n = ds->n;
        } else if ((rc = amt_mir1k_split(ds, 1, &idx, &n))) {
            break;
        }
        unsigned char *is_val = malloc((size_t)n + 1);
        if (!is_val) rc = amt_error(AMT_ENOMEM, "separator: out of memory");
        else rc = amt_mir1k_val_choice(n, sc.val_fraction, sc.seed, is_val);
        for (int i = 0; i < n && !rc; i++) {
            long frames = 1 + ds->clips[idx[i]].frames / sc.hop;
            sep_clip c = {d, idx[i], frames, NULL, 0};
            if (is_val[i]) x->val[x->nval++] = c;
            else x->train[x->ntrain++] = c;
        }
        free(is_val);
        free(idx);
    }
    if (!rc && x->ntrain == 0)
        rc = amt_error(AMT_EIO, "train.data_dir: %s: no training clips (split %s)", sc.data_dir,
                       sc.split == AMT_SEP_SPLIT_HUANG ? "huang: singers abjones, amy" : "random");
    if (!rc) rc = amt_separator_init(&x->model, &sc);
    if (!rc) rc = amt_separator_build_train(&x->model, sc.batch, sc.seq_frames, sc.seed, &x->sg);
    if (!rc && !(x->infer = amt_sep_infer_new(&x->model, 0, 0))) rc = amt_errcode();
    if (!rc) {
        long s = 0;
        for (int i = 0; i < x->ntrain; i++) s += clip_seqs(&x->train[i], sc.seq_frames) * x->repeat[x->train[i].dir];
        x->nseqs = s;
        x->seqs = malloc(sizeof(sep_seq) * (size_t)s);
        if (!x->seqs) rc = amt_error(AMT_ENOMEM, "separator: out of memory");
    }
    if (rc) { free_ctx(x); return rc; }

    memset(m, 0, sizeof *m);
    m->ctx = x;
    m->params = &x->model.params;
    m->graph = x->sg.g;
    m->loss = x->sg.loss;
    m->batch = sc.batch;
    m->steps_per_epoch = (int)(x->nseqs / sc.batch > 0 ? x->nseqs / sc.batch : 1);
    m->metric_name = "val_voice_gnsdr";
    m->n_extra = X_DIR0 + (x->ndirs > 1 ? x->ndirs : 0);
    for (int i = 0; i < m->n_extra; i++) m->extra_names[i] = EXTRA_NAMES[i];
    m->begin_epoch = begin_epoch;
    m->next_batch = next_batch;
    m->validate = x->nval ? validate : NULL;
    return AMT_OK;
}

static void destroy(amt_train_model *m)
{
    free_ctx(m->ctx);
    m->ctx = NULL;
}

const amt_model_kind amt_separator_kind = {
    "separator", "LSTM singing-voice separator (Huang et al. 2014) on MIR-1K-layout data", create, destroy};
