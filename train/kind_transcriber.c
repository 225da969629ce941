/* train/kind_transcriber.c: the "transcriber" model kind of amt-train: the piano
 * transcriber ConvNet (models/transcriber.h) trained on a MAPS-layout dataset
 * (datasets/maps.h: the real MAPS or `amt-synth maps` renders).
 *
 * Config: [model] [features] [loss] [decode] [infer] and the [train] keys batch,
 * chunk_frames, epochs, data_dir, split, val_fraction, seed are the model's
 * (amt_transcriber_config_read); this file adds to [train]:
 *   subsets = isol, rand, ucho, mus   MAPS subsets trained on (split = layout)
 *   cache_mb = 2048        memory limit of the per-file feature cache (MB; 0 = no cache)
 *   gain_db = 6            random gain per chunk, uniform in +-gain_db dB (amplitude)
 *   tilt_db = 0            random spectral tilt per chunk ("EQ"): a gain linear in the
 *                          feature bin, uniform in +-tilt_db dB at the lowest and highest
 *                          bin (opposite signs), 0 dB in the middle; added to gain_db
 *   val_max_seconds = 300  audio held out for validation at most (seconds; the rest of
 *                          the val_fraction draw goes back to training)
 *   export_fp16 =          path: every validation that improves the metric also writes the
 *                          parameters (with the tuned thresholds) there as float16
 *
 * Data (amt_tr_data_open, shared with amt-eval --model): split = layout is configuration
 * II of Sigtia et al. 2016 with the chosen training subsets (every non-ENSTDk piano,
 * rendered "Syn*" ones included, is training material; ENSTDkAm/Cl MUS is the test part);
 * split = random holds out a seeded 20% of all files as the test part. From the training
 * files, amt_random_split(val_fraction, seed) holds files out for validation; those are
 * kept in index order up to val_max_seconds of audio.
 *
 * A file's features are exactly amt_transcriber_features of its mono mix (what amt-infer
 * computes); its notes come from NAME.txt (the MAPS annotation, sustain pedal included)
 * with velocities from NAME.mid when it exists (same pitch, onset within
 * TR_VEL_MATCH_S seconds; else 64). Features are computed on first use and kept while the
 * cache has room (bounded memory; the rest are recomputed each time).
 *
 * A training example is a chunk of chunk_frames output frames: a file drawn with
 * probability proportional to its length (frames estimated from the sound file header),
 * a start frame uniform over the file (chunks of files shorter than a chunk are
 * zero-padded, as inference pads), and a gain applied in the feature domain:
 * log(1 + C g x) = log1p(g * expm1(f)) for features f = log(1 + C x). An epoch is
 * steps_per_epoch steps (default: the training frames / (batch x chunk_frames), one pass
 * in expectation).
 *
 * Validation metric: note-onset F1 (micro over the validation files) after tuning the
 * decoding thresholds on them (amt_transcriber_evaluate), which stay in the model's
 * decode/... parameters and so in every checkpoint. Extras: with-offset F1, frame F1 (of
 * the decoded notes' roll), note P/R and the three thresholds (sustain 0 = off). Deterministic: randomness only from the trainer's generators. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio_io.h"
#include "audio/midi.h"
#include "audio/resample.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/filelist.h"
#include "datasets/maps.h"
#include "models/transcriber.h"
#include "app/maps_transcriber.h"
#include "train/kinds.h"

#define TR_DEFAULT_CACHE_MB 2048
#define TR_DEFAULT_GAIN_DB 6.0
#define TR_DEFAULT_TILT_DB 0.0

/* ---- the training context ---- */

typedef struct tr_item {
    float *feat;           /* cached features (n_frames x bins) or NULL */
    long n_frames;         /* of the cached features; else the header estimate */
    amt_notes notes;       /* loaded with the features (kept) */
    int have_notes;
} tr_item;

typedef struct tr_ctx {
    amt_transcriber model;
    int have_model;
    amt_tr_graph tg;
    amt_maps ds;
    int have_ds;
    int *train, ntrain, *val, nval, *test, ntest;
    tr_item *items;        /* per dataset item */
    double *cum;           /* cumulative estimated frames of the training files */
    float *scratch;        /* the last uncached features */
    size_t cache_bytes, cache_limit;
    amt_tr_piece *pieces;  /* validation pieces (features always cached) */
    amt_tr_infer *runner;
    double gain_db, tilt_db;
    float *gain_bins;      /* per-bin linear gain of the current chunk (bins) */
    char *export_path;
    char *config_text;
    double best;
} tr_ctx;

/* Features and notes of item it; *feat valid until the next call (cached ones until destroy). */
static int item_load(tr_ctx *x, int it, int force_cache, const float **feat, long *n_frames)
{
    tr_item *ti = &x->items[it];
    if (!ti->have_notes) {
        int rc = amt_tr_file_notes(&x->ds.files[it], &ti->notes);
        if (rc) return rc;
        ti->have_notes = 1;
    }
    if (ti->feat) { *feat = ti->feat; *n_frames = ti->n_frames; return AMT_OK; }
    float *f = NULL;
    long nf = 0;
    int rc = amt_tr_file_features(&x->model.cfg, x->ds.files[it].wav, &f, &nf);
    if (rc) return rc;
    size_t bytes = sizeof(float) * (size_t)(nf > 0 ? nf : 1) * (size_t)x->model.cfg.bins;
    if (force_cache || x->cache_bytes + bytes <= x->cache_limit) {
        ti->feat = f;
        x->cache_bytes += bytes;
    } else {
        free(x->scratch);
        x->scratch = f;
    }
    ti->n_frames = nf;
    *feat = f;
    *n_frames = nf;
    return AMT_OK;
}

static int tr_next_batch(void *ctx, int64_t epoch, int64_t index, amt_rng *rng)
{
    (void)epoch; (void)index;
    tr_ctx *x = ctx;
    const amt_transcriber_config *c = &x->model.cfg;
    const int B = x->tg.batch, T = x->tg.frames, bins = c->bins;
    const size_t in_size = (size_t)(T + c->ctx - 1) * bins, out_size = (size_t)T * AMT_TR_KEYS;
    const double total = x->cum[x->ntrain - 1];
    for (int b = 0; b < B; b++) {
        /* a file with probability proportional to its length */
        double u = amt_rng_uniform(rng) * total;
        int lo = 0, hi = x->ntrain - 1;
        while (lo < hi) {
            int md = (lo + hi) / 2;
            if (x->cum[md] <= u) lo = md + 1;
            else hi = md;
        }
        int it = x->train[lo];
        const float *feat;
        long nf;
        int rc = item_load(x, it, 0, &feat, &nf);
        if (rc) return rc;
        long t0 = nf > T ? (long)amt_rng_below(rng, (uint64_t)(nf - T + 1)) : 0;
        double g_db = x->gain_db > 0 ? (2.0 * amt_rng_uniform(rng) - 1.0) * x->gain_db : 0.0;
        double t_db = x->tilt_db > 0 ? (2.0 * amt_rng_uniform(rng) - 1.0) * x->tilt_db : 0.0;
        float *dst = x->tg.x->data + (size_t)b * in_size;
        amt_transcriber_input_rows(&x->model, feat, nf, t0, T, dst);
        if (g_db != 0 || t_db != 0) {
            for (int k = 0; k < bins; k++) {
                double pos = bins > 1 ? 2.0 * k / (bins - 1) - 1.0 : 0.0;   /* -1 .. 1 */
                x->gain_bins[k] = (float)pow(10.0, (g_db + t_db * pos) / 20.0);
            }
            for (size_t r = 0; r < in_size / (size_t)bins; r++) {
                float *row = dst + r * (size_t)bins;
                for (int k = 0; k < bins; k++)
                    if (row[k] != 0) row[k] = (float)log1p(x->gain_bins[k] * expm1((double)row[k]));
            }
        }
        amt_transcriber_targets(&x->items[it].notes, c->fps, c->onset_frames, c->onset_soft, t0, T, x->tg.t_frame->data + (size_t)b * out_size,
                                x->tg.t_onset->data + (size_t)b * out_size, x->tg.t_vel->data + (size_t)b * out_size);
    }
    return AMT_OK;
}

static int tr_validate(void *ctx, double *metric, double *extra)
{
    tr_ctx *x = ctx;
    if (x->nval == 0) { *metric = NAN; return AMT_OK; }
    amt_tr_scores s;
    int rc = amt_transcriber_evaluate(&x->model, x->runner, x->pieces, x->nval, 1, &s);
    if (rc) return rc;
    *metric = s.note_f1;
    extra[0] = s.offset_f1;
    extra[1] = s.frame_f1;
    extra[2] = s.note_p;
    extra[3] = s.note_r;
    extra[4] = s.onset_threshold;
    extra[5] = s.frame_threshold;
    extra[6] = s.sustain_threshold;
    if (x->export_path && isfinite(*metric) && *metric > x->best) {
        x->best = *metric;
        amt_ckpt_info info;
        memset(&info, 0, sizeof info);
        snprintf(info.model, sizeof info.model, "%s", AMT_TRANSCRIBER_KIND);
        info.config = x->config_text;
        if ((rc = amt_checkpoint_save(x->export_path, &x->model.params, NULL, &info, AMT_CKPT_FLOAT16))) return rc;
    }
    return AMT_OK;
}

static void tr_free(tr_ctx *x)
{
    if (!x) return;
    if (x->items)
        for (int i = 0; i < x->ds.n; i++) { free(x->items[i].feat); amt_notes_free(&x->items[i].notes); }
    free(x->items);
    free(x->cum);
    free(x->gain_bins);
    free(x->scratch);
    free(x->pieces);
    free(x->train); free(x->val); free(x->test);
    free(x->export_path);
    free(x->config_text);
    amt_tr_infer_free(x->runner);
    amt_tr_graph_free(&x->tg);
    if (x->have_model) amt_transcriber_free(&x->model);
    if (x->have_ds) amt_maps_close(&x->ds);
    free(x);
}

static int create(struct amt_config *cfg, const amt_train_config *tc, amt_train_model *m)
{
    amt_transcriber_config c;
    int rc = amt_transcriber_config_read(cfg, &c);
    if (rc) return rc;
    int cache_mb, subsets;
    double gain_db, tilt_db, val_s;
    const char *exp;
    if ((rc = amt_config_get_int(cfg, "train", "cache_mb", TR_DEFAULT_CACHE_MB, 0, 1 << 20, &cache_mb)) ||
        (rc = amt_config_get_float(cfg, "train", "gain_db", TR_DEFAULT_GAIN_DB, 0, 40, &gain_db)) ||
        (rc = amt_config_get_float(cfg, "train", "tilt_db", TR_DEFAULT_TILT_DB, 0, 40, &tilt_db)) ||
        (rc = amt_tr_data_keys(cfg, &subsets, &val_s)) ||
        (rc = amt_config_get_string(cfg, "train", "export_fp16", "", &exp)))
        return rc;
    if (!c.data_dir[0])
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: missing (a MAPS-layout directory, e.g. from amt-synth maps)",
                         amt_config_path(cfg));
    tr_ctx *x = calloc(1, sizeof *x);
    if (!x) return amt_error(AMT_ENOMEM, "transcriber: out of memory");
    x->gain_db = gain_db;
    x->tilt_db = tilt_db;
    x->cache_limit = (size_t)cache_mb << 20;
    x->best = -INFINITY;
    if (exp[0] && !(x->export_path = strdup(exp))) { rc = amt_error(AMT_ENOMEM, "transcriber: out of memory"); goto fail; }
    if (!(x->config_text = amt_config_text(cfg))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }

    if ((rc = amt_tr_data_open(c.data_dir, c.split, subsets, c.val_fraction, val_s, c.seed, &x->ds, &x->train,
                               &x->ntrain, &x->val, &x->nval, &x->test, &x->ntest)))
        goto fail;
    x->have_ds = 1;
    if (x->ntrain == 0) {
        rc = amt_error(AMT_EIO, "%s: no training files (MAPS layout: PIANO/{ISOL,RAND,UCHO,MUS}/.../MAPS_*.wav + .txt)",
                       c.data_dir);
        goto fail;
    }
    if ((rc = amt_transcriber_init(&x->model, &c, (uint64_t)tc->seed))) goto fail;
    x->have_model = 1;
    if ((rc = amt_transcriber_build(&x->model, tc->batch, c.chunk_frames, 1, (uint64_t)tc->seed, &x->tg))) goto fail;
    if (!(x->runner = amt_tr_infer_new(&x->model, 0))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }
    x->items = calloc((size_t)x->ds.n, sizeof *x->items);
    x->cum = malloc(sizeof(double) * (size_t)x->ntrain);
    x->gain_bins = malloc(sizeof(float) * (size_t)x->model.cfg.bins);
    x->pieces = calloc((size_t)x->nval + 1, sizeof *x->pieces);
    if (!x->items || !x->cum || !x->gain_bins || !x->pieces) { rc = amt_error(AMT_ENOMEM, "transcriber: out of memory"); goto fail; }
    for (int i = 0; i < x->ds.n; i++) amt_notes_init(&x->items[i].notes);

    /* training frames from the headers (the sampling weights) */
    amt_semitone *st = amt_semitone_new(&x->model.cfg.feat);
    if (!st) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }
    double total = 0;
    for (int i = 0; i < x->ntrain; i++) {
        amt_audio info;
        memset(&info, 0, sizeof info);
        amt_audio_reader *r = amt_audio_open(x->ds.files[x->train[i]].wav, &info);
        if (!r) { rc = amt_errcode() ? amt_errcode() : AMT_EIO; amt_semitone_del(st); goto fail; }
        amt_audio_close(r);
        long ns = info.rate == x->model.cfg.feat.rate ? info.frames
                                                       : amt_resample_len(info.rate, x->model.cfg.feat.rate, info.frames);
        long nf = amt_semitone_frames(st, ns);
        total += nf > 1 ? (double)nf : 1.0;
        x->cum[i] = total;
        x->items[x->train[i]].n_frames = nf;
    }
    amt_semitone_del(st);

    /* validation pieces: features kept for the whole run */
    for (int i = 0; i < x->nval; i++) {
        const float *f;
        long nf;
        if ((rc = item_load(x, x->val[i], 1, &f, &nf))) goto fail;
        x->pieces[i] = (amt_tr_piece){f, nf, &x->items[x->val[i]].notes};
    }

    memset(m, 0, sizeof *m);
    m->ctx = x;
    m->params = &x->model.params;
    m->graph = x->tg.g;
    m->loss = x->tg.loss;
    m->batch = tc->batch;
    long spe = (long)ceil(total / ((double)tc->batch * c.chunk_frames));
    m->steps_per_epoch = (int)(spe < 1 ? 1 : spe > (1L << 30) ? (1L << 30) : spe);
    m->metric_name = "val_note_f1";
    m->n_extra = 7;
    m->extra_names[0] = "val_offset_f1";
    m->extra_names[1] = "val_frame_f1";
    m->extra_names[2] = "val_note_p";
    m->extra_names[3] = "val_note_r";
    m->extra_names[4] = "onset_threshold";
    m->extra_names[5] = "frame_threshold";
    m->extra_names[6] = "sustain_threshold";
    m->next_batch = tr_next_batch;
    m->validate = x->nval > 0 ? tr_validate : NULL;
    return AMT_OK;
fail:
    tr_free(x);
    return rc ? rc : AMT_EINTERNAL;
}

static void destroy(amt_train_model *m)
{
    tr_free(m->ctx);
    memset(m, 0, sizeof *m);
}

const amt_model_kind amt_transcriber_kind = {
    "transcriber", "piano transcriber ConvNet (Kelz et al. 2016 + onset/velocity heads) on MAPS-layout data", create,
    destroy};
