/* models/transcriber.c: see transcriber.h. */
#include "transcriber.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/resample.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/shape.h"
#include "core/rng.h"
#include "core/threads.h"
#include "eval/transcription.h"
#include "layers/init.h"

#define TR_MAX_CHANNELS 4096
#define TR_MAX_KT 16
#define TR_MIN_BINS 12        /* the smallest bins with F' >= 1 after two poolings */

/* ---- configuration ---- */

void amt_transcriber_config_default(amt_transcriber_config *c)
{
    memset(c, 0, sizeof *c);
    c->feat = amt_semitone_default();
    c->channels[0] = 32; c->channels[1] = 32; c->channels[2] = 64;
    c->dense = 512;
    c->kt = 3;
    c->dropout_conv = 0.25f;
    c->dropout_dense = 0.5f;
    c->onset_head = 1;
    c->velocity_head = 1;
    snprintf(c->instrument, sizeof c->instrument, "piano");
    c->onset_frames = 1;
    c->onset_soft = 0;
    c->frame_weight = 1; c->onset_weight = 1; c->velocity_weight = 1;
    c->onset_threshold = 0.5f; c->frame_threshold = 0.5f; c->sustain_threshold = 0;
    c->min_note_ms = 30;
    c->gap_ms = AMT_TR_DEFAULT_GAP_MS;
    c->min_pitch = AMT_TR_LOWEST_PITCH;
    c->max_pitch = AMT_TR_LOWEST_PITCH + AMT_TR_KEYS - 1;
    amt_optim_config_default(&c->optim, AMT_OPTIM_ADAM);
    c->batch = 16;
    c->chunk_frames = 100;
    c->epochs = 20;
    c->split = AMT_TR_SPLIT_LAYOUT;
    c->val_fraction = 0.1;
    c->seed = 1;
    c->block_frames = 128;
    c->bins = AMT_SEMITONE_BINS;
    c->ctx = 6 + c->kt;
    c->fprime = 55;
    c->fps = 100.0;
}

int amt_transcriber_config_check(amt_transcriber_config *c, const char *name)
{
    if (!name) name = "config";
    if (c->min_pitch > c->max_pitch)
        return amt_error(AMT_ECONFIG, "%s: decode.min_pitch: %d is above max_pitch %d", name, c->min_pitch, c->max_pitch);
    if (c->sustain_threshold > c->frame_threshold)
        return amt_error(AMT_ECONFIG, "%s: decode.sustain_threshold: %g is above frame_threshold %g (0 = off)", name,
                         c->sustain_threshold, c->frame_threshold);
    if (c->feat.fmin >= c->feat.fmax)
        return amt_error(AMT_ECONFIG, "%s: features.fmin: %g Hz must be below fmax %g Hz", name, c->feat.fmin, c->feat.fmax);
    if (c->feat.fmax > c->feat.rate / 2.0)
        return amt_error(AMT_ECONFIG, "%s: features.fmax: %g Hz is above the Nyquist frequency %g Hz", name,
                         c->feat.fmax, c->feat.rate / 2.0);
    if (c->feat.hop > c->feat.n_fft)
        return amt_error(AMT_ECONFIG, "%s: features.hop: %d is larger than n_fft %d", name, c->feat.hop, c->feat.n_fft);
    amt_semitone *s = amt_semitone_new(&c->feat);
    if (!s) return amt_error(AMT_ECONFIG, "%s: [features]: %s", name, amt_errmsg());
    int bins = amt_semitone_bins(s);
    amt_semitone_del(s);
    if (bins < TR_MIN_BINS)
        return amt_error(AMT_ECONFIG, "%s: [features]: the filterbank has %d bins, the network needs >= %d", name, bins,
                         TR_MIN_BINS);
    c->bins = bins;
    c->ctx = 6 + c->kt;
    c->fprime = ((bins - 4) / 2 - 2) / 2;
    c->fps = (double)c->feat.rate / c->feat.hop;
    return AMT_OK;
}

int amt_transcriber_config_read(amt_config *cfg, amt_transcriber_config *out)
{
    static const char *const presets[] = {"44k", "16k", NULL};
    static const char *const splits[] = {"layout", "random", NULL};
    amt_transcriber_config c;
    amt_transcriber_config_default(&c);
    const char *kind, *dir, *instrument;
    int rc, preset, seed = (int)c.seed, n_ch = 0;
    if ((rc = amt_config_get_string(cfg, "model", "kind", AMT_TRANSCRIBER_KIND, &kind))) return rc;
    if (strcmp(kind, AMT_TRANSCRIBER_KIND) != 0)
        return amt_error(AMT_ECONFIG, "%s: model.kind: '%s' is not '%s'", amt_config_path(cfg), kind, AMT_TRANSCRIBER_KIND);
    if ((rc = amt_config_get_enum(cfg, "features", "preset", presets, 0, &preset))) return rc;
    c.feat = preset == 1 ? amt_semitone_default_16k() : amt_semitone_default();
    double fmin = c.feat.fmin, fmax = c.feat.fmax, fref = c.feat.fref, log_c = c.feat.log_c;
    double d_conv = c.dropout_conv, d_dense = c.dropout_dense, wf = c.frame_weight, wo = c.onset_weight,
           wv = c.velocity_weight, ot = c.onset_threshold, ft = c.frame_threshold,
           st = c.sustain_threshold;
    int ch[3] = {c.channels[0], c.channels[1], c.channels[2]};
    if ((rc = amt_config_get_int(cfg, "features", "rate", c.feat.rate, 1000, 384000, &c.feat.rate)) ||
        (rc = amt_config_get_int(cfg, "features", "n_fft", c.feat.n_fft, 16, 65536, &c.feat.n_fft)) ||
        (rc = amt_config_get_int(cfg, "features", "hop", c.feat.hop, 1, 65536, &c.feat.hop)) ||
        (rc = amt_config_get_int(cfg, "features", "bands_per_octave", c.feat.bands_per_octave, 1, 192,
                                 &c.feat.bands_per_octave)) ||
        (rc = amt_config_get_float(cfg, "features", "fmin", fmin, 1, 192000, &fmin)) ||
        (rc = amt_config_get_float(cfg, "features", "fmax", fmax, 1, 192000, &fmax)) ||
        (rc = amt_config_get_float(cfg, "features", "fref", fref, 1, 192000, &fref)) ||
        (rc = amt_config_get_float(cfg, "features", "log_c", log_c, 0, 1e6, &log_c)) ||
        (rc = amt_config_get_int_list(cfg, "model", "channels", 1, TR_MAX_CHANNELS, ch, 3, &n_ch)))
        return rc;
    if (n_ch != 0 && n_ch != 3)
        return amt_error(AMT_ECONFIG, "%s: model.channels: needs 3 values (c1, c2, c3), got %d", amt_config_path(cfg), n_ch);
    if ((rc = amt_config_get_int(cfg, "model", "dense", c.dense, 1, 65536, &c.dense)) ||
        (rc = amt_config_get_int(cfg, "model", "kt", c.kt, 1, TR_MAX_KT, &c.kt)) ||
        (rc = amt_config_get_float(cfg, "model", "dropout_conv", d_conv, 0, 0.95, &d_conv)) ||
        (rc = amt_config_get_float(cfg, "model", "dropout_dense", d_dense, 0, 0.95, &d_dense)) ||
        (rc = amt_config_get_bool(cfg, "model", "onset_head", c.onset_head, &c.onset_head)) ||
        (rc = amt_config_get_bool(cfg, "model", "velocity_head", c.velocity_head, &c.velocity_head)) ||
        (rc = amt_config_get_string(cfg, "model", "instrument", "piano", &instrument)) ||
        (rc = amt_config_get_float(cfg, "loss", "frame_weight", wf, 0, 1000, &wf)) ||
        (rc = amt_config_get_float(cfg, "loss", "onset_weight", wo, 0, 1000, &wo)) ||
        (rc = amt_config_get_float(cfg, "loss", "velocity_weight", wv, 0, 1000, &wv)) ||
        (rc = amt_config_get_int(cfg, "loss", "onset_frames", c.onset_frames, 1, 16, &c.onset_frames)) ||
        (rc = amt_config_get_float(cfg, "loss", "onset_soft", c.onset_soft, 0, 16, &c.onset_soft)) ||
        (rc = amt_config_get_float(cfg, "decode", "onset_threshold", ot, 0.001, 1, &ot)) ||
        (rc = amt_config_get_float(cfg, "decode", "frame_threshold", ft, 0.001, 1, &ft)) ||
        (rc = amt_config_get_float(cfg, "decode", "sustain_threshold", st, 0, 1, &st)) ||
        (rc = amt_config_get_float(cfg, "decode", "min_note_ms", c.min_note_ms, 0, 10000, &c.min_note_ms)) ||
        (rc = amt_config_get_float(cfg, "decode", "gap_ms", c.gap_ms, 0, 10000, &c.gap_ms)) ||
        (rc = amt_config_get_int(cfg, "decode", "min_pitch", c.min_pitch, AMT_TR_LOWEST_PITCH,
                                 AMT_TR_LOWEST_PITCH + AMT_TR_KEYS - 1, &c.min_pitch)) ||
        (rc = amt_config_get_int(cfg, "decode", "max_pitch", c.max_pitch, AMT_TR_LOWEST_PITCH,
                                 AMT_TR_LOWEST_PITCH + AMT_TR_KEYS - 1, &c.max_pitch)) ||
        (rc = amt_optim_config_read(cfg, "optim", &c.optim)) ||
        (rc = amt_config_get_int(cfg, "train", "batch", c.batch, 1, 65536, &c.batch)) ||
        (rc = amt_config_get_int(cfg, "train", "chunk_frames", c.chunk_frames, 1, 1 << 16, &c.chunk_frames)) ||
        (rc = amt_config_get_int(cfg, "train", "epochs", c.epochs, 1, 1 << 20, &c.epochs)) ||
        (rc = amt_config_get_string(cfg, "train", "data_dir", "", &dir)) ||
        (rc = amt_config_get_enum(cfg, "train", "split", splits, AMT_TR_SPLIT_LAYOUT, &c.split)) ||
        (rc = amt_config_get_float(cfg, "train", "val_fraction", c.val_fraction, 0, 0.9, &c.val_fraction)) ||
        (rc = amt_config_get_int(cfg, "train", "seed", seed, 0, 0x7fffffff, &seed)) ||
        (rc = amt_config_get_int(cfg, "infer", "block_frames", c.block_frames, 1, 1 << 20, &c.block_frames)))
        return rc;
    if (strlen(dir) >= sizeof c.data_dir)
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: path longer than %zu bytes", amt_config_path(cfg),
                         sizeof c.data_dir - 1);
    strcpy(c.data_dir, dir);
    if (strlen(instrument) >= sizeof c.instrument)
        return amt_error(AMT_ECONFIG, "%s: model.instrument: name longer than %zu bytes", amt_config_path(cfg),
                         sizeof c.instrument - 1);
    strcpy(c.instrument, instrument);
    c.feat.fmin = fmin; c.feat.fmax = fmax; c.feat.fref = fref; c.feat.log_c = (float)log_c;
    memcpy(c.channels, ch, sizeof ch);
    c.dropout_conv = (float)d_conv; c.dropout_dense = (float)d_dense;
    c.frame_weight = (float)wf; c.onset_weight = (float)wo; c.velocity_weight = (float)wv;
    c.onset_threshold = (float)ot; c.frame_threshold = (float)ft; c.sustain_threshold = (float)st;
    c.seed = (uint64_t)seed;
    if ((rc = amt_transcriber_config_check(&c, amt_config_path(cfg)))) return rc;
    *out = c;
    return AMT_OK;
}

/* ---- parameters ---- */

static amt_tensor *scalar_param(amt_params *ps, const char *name, float v)
{
    int one = 1;
    amt_tensor *t = amt_params_add(ps, name, 1, &one, 0);
    if (t) t->data[0] = v;
    return t;
}

/* The network with random initial values from rng, or none (zeros) when rng is NULL. */
static int transcriber_init(amt_transcriber *m, const amt_transcriber_config *cfg, amt_rng *rng)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    amt_params_init(&m->params);
    const int c1 = cfg->channels[0], c2 = cfg->channels[1], c3 = cfg->channels[2], d = cfg->dense;
    amt_params *ps = &m->params;
    int rc;
    if ((rc = amt_conv2d_layer_init(&m->conv1, ps, "conv1", 1, c1, 3, 3, 1, 1, 0, 0, 1, rng)) ||
        (rc = amt_conv2d_layer_init(&m->conv2, ps, "conv2", c1, c2, 3, 3, 1, 1, 0, 0, 1, rng)) ||
        (rc = amt_batchnorm2d_layer_init(&m->bn, ps, "bn", c2, AMT_BN_MOMENTUM, AMT_BN_EPS)) ||
        (rc = amt_conv2d_layer_init(&m->conv3, ps, "conv3", c2, c3, 3, 3, 1, 1, 0, 0, 1, rng)) ||
        (rc = amt_conv2d_layer_init(&m->dense, ps, "dense", c3, d, cfg->kt, cfg->fprime, 1, 1, 0, 0, 1, rng)) ||
        (rc = amt_conv2d_layer_init(&m->head_frame, ps, "frame", d, AMT_TR_KEYS, 1, 1, 1, 1, 0, 0, 1, rng)) ||
        (cfg->onset_head &&
         (rc = amt_conv2d_layer_init(&m->head_onset, ps, "onset", d, AMT_TR_KEYS, 1, 1, 1, 1, 0, 0, 1, rng))) ||
        (cfg->velocity_head &&
         (rc = amt_conv2d_layer_init(&m->head_vel, ps, "velocity", d, AMT_TR_KEYS, 1, 1, 1, 1, 0, 0, 1, rng))) ||
        (rc = amt_maxpool2d_layer_init(&m->pool, 1, 2, 1, 2)) ||
        (rc = amt_dropout_layer_init(&m->drop_conv, cfg->dropout_conv)) ||
        (rc = amt_dropout_layer_init(&m->drop_dense, cfg->dropout_dense))) {
        amt_params_free(&m->params);
        return rc;
    }
    /* heads: Glorot-uniform (no ReLU after them) */
    amt_init_glorot_uniform(m->head_frame.weight, d, AMT_TR_KEYS, rng);
    if (cfg->onset_head) amt_init_glorot_uniform(m->head_onset.weight, d, AMT_TR_KEYS, rng);
    if (cfg->velocity_head) amt_init_glorot_uniform(m->head_vel.weight, d, AMT_TR_KEYS, rng);
    m->onset_threshold = scalar_param(ps, "decode/onset_threshold", cfg->onset_threshold);
    m->frame_threshold = scalar_param(ps, "decode/frame_threshold", cfg->frame_threshold);
    m->sustain_threshold = scalar_param(ps, "decode/sustain_threshold", cfg->sustain_threshold);
    if (!m->onset_threshold || !m->frame_threshold || !m->sustain_threshold ||
        amt_params_set_optional(ps, "decode/sustain_threshold")) {
        rc = amt_errcode();
        amt_params_free(&m->params);
        return rc;
    }
    return AMT_OK;
}

int amt_transcriber_init(amt_transcriber *m, const amt_transcriber_config *cfg, uint64_t seed)
{
    amt_rng rng;
    amt_rng_seed(&rng, seed ? seed : cfg->seed);
    return transcriber_init(m, cfg, &rng);
}

void amt_transcriber_free(amt_transcriber *m)
{
    if (!m) return;
    amt_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

int amt_transcriber_load(const char *path, amt_transcriber *m)
{
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    int rc = amt_checkpoint_read_info(path, &info);
    if (rc) return rc;
    if (strcmp(info.model, AMT_TRANSCRIBER_KIND) != 0) {
        rc = amt_error(AMT_EFORMAT, "%s: checkpoint of model kind '%s', expected '%s'", path, info.model,
                       AMT_TRANSCRIBER_KIND);
        amt_ckpt_info_free(&info);
        return rc;
    }
    amt_config *cfg = amt_config_from_string(info.config ? info.config : "", path);
    amt_ckpt_info_free(&info);
    if (!cfg) return amt_errcode();
    amt_transcriber_config c;
    rc = amt_transcriber_config_read(cfg, &c);
    amt_config_free(cfg);
    if (rc) return rc;
    amt_transcriber tmp;
    if ((rc = transcriber_init(&tmp, &c, NULL))) return rc;   /* every value comes from the file */
    if ((rc = amt_checkpoint_load(path, AMT_TRANSCRIBER_KIND, &tmp.params, NULL, NULL))) {
        amt_transcriber_free(&tmp);
        return rc;
    }
    *m = tmp;
    return AMT_OK;
}

/* ---- the velocity loss: sum(m (v - t)^2) / max(1, sum(m)), forward and backward ---- */

typedef struct vel_attr { double denom; } vel_attr;

static void vel_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const amt_tensor *v = n->in[0], *t = n->in[1], *w = n->in[2];
    double s = 0, cnt = 0;
    for (size_t i = 0; i < v->size; i++) {
        double d = (double)v->data[i] - t->data[i];
        s += w->data[i] * d * d;
        cnt += w->data[i];
    }
    vel_attr *a = n->attr;
    a->denom = cnt > 1 ? cnt : 1;
    n->out->data[0] = (float)(s / a->denom);
}

static void vel_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    amt_tensor *v = n->in[0];
    const amt_tensor *t = n->in[1], *w = n->in[2];
    if (!v->grad) return;
    const vel_attr *a = n->attr;
    float k = (float)(2.0 * n->out->grad[0] / a->denom);
    for (size_t i = 0; i < v->size; i++) v->grad[i] += k * w->data[i] * (v->data[i] - t->data[i]);
}

static const amt_op vel_loss_op = {"transcriber_velocity_loss", vel_fwd, vel_bwd};

static amt_tensor *velocity_loss(amt_graph *g, amt_tensor *v, amt_tensor *t, amt_tensor *w)
{
    if (!v || !t || !w) return NULL;
    if (!amt_tensor_same_shape(v, t) || !amt_tensor_same_shape(v, w))
        return amt_graph_fail(g, AMT_EINVAL, "transcriber velocity loss: shapes differ");
    vel_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    int one = 1;
    amt_tensor *in[3] = {v, t, w};
    amt_tensor *out = amt_graph_output(g, 1, &one, 1, in);
    if (!amt_graph_node(g, &vel_loss_op, out, 3, in, a)) return NULL;
    return out;
}

/* ---- graphs ---- */

/* (B, 88, T, 1) head output -> (B, T, 88) */
static amt_tensor *to_rows(amt_graph *g, amt_tensor *h)
{
    if (!h) return NULL;
    static const int perm[4] = {0, 2, 1, 3};
    amt_tensor *tr = amt_transpose(g, h, perm);
    if (!tr) return NULL;
    int s[3] = {tr->shape[0], tr->shape[1], tr->shape[2]};
    return amt_reshape(g, tr, 3, s);
}

static amt_tensor *weighted(amt_graph *g, amt_tensor *sum, amt_tensor *term, float w)
{
    if (!term) return sum;
    amt_tensor *t = w == 1.0f ? term : amt_affine_scalar(g, term, w, 0);
    return sum ? amt_add(g, sum, t) : t;
}

int amt_transcriber_attach(const amt_transcriber *m, amt_graph *g, amt_tensor *x, amt_tensor *t_frame,
                           amt_tensor *t_onset, amt_tensor *t_vel, amt_tr_graph *out)
{
    const amt_transcriber_config *c = &m->cfg;
    memset(out, 0, sizeof *out);
    out->g = g;
    out->x = x;
    if (!x) return amt_error(AMT_EINVAL, "transcriber: no input");
    if (x->ndim != 4 || x->shape[1] != 1 || x->shape[3] != c->bins || x->shape[2] < c->ctx)
        return amt_error(AMT_EINVAL, "transcriber: input (%d, %d, %d, %d) is not (B, 1, T + %d, %d)", x->shape[0],
                         x->shape[1], x->shape[2], x->shape[3], c->ctx - 1, c->bins);
    out->batch = x->shape[0];
    out->frames = x->shape[2] - (c->ctx - 1);
    /* dropout is the identity outside training: an inference graph leaves it out (saves
     * three activation copies); a training graph keeps it (validation switches modes) */
    const amt_dropout_layer *dc = g->with_grad ? &m->drop_conv : NULL, *dd = g->with_grad ? &m->drop_dense : NULL;
    amt_tensor *h = amt_conv2d_layer_forward(g, &m->conv1, x);
    h = amt_relu(g, h);
    h = amt_conv2d_layer_forward(g, &m->conv2, h);
    h = amt_relu(g, h);
    h = amt_batchnorm2d_layer_forward(g, &m->bn, h);
    h = amt_maxpool2d_layer_forward(g, &m->pool, h);
    if (dc) h = amt_dropout_layer_forward(g, dc, h);
    h = amt_conv2d_layer_forward(g, &m->conv3, h);
    h = amt_relu(g, h);
    h = amt_maxpool2d_layer_forward(g, &m->pool, h);
    if (dc) h = amt_dropout_layer_forward(g, dc, h);
    h = amt_conv2d_layer_forward(g, &m->dense, h);
    h = amt_relu(g, h);
    if (dd) h = amt_dropout_layer_forward(g, dd, h);
    out->frame_logit = to_rows(g, amt_conv2d_layer_forward(g, &m->head_frame, h));
    out->frame_prob = amt_sigmoid(g, out->frame_logit);
    if (c->onset_head) {
        out->onset_logit = to_rows(g, amt_conv2d_layer_forward(g, &m->head_onset, h));
        out->onset_prob = amt_sigmoid(g, out->onset_logit);
    }
    if (c->velocity_head) {
        out->vel_logit = to_rows(g, amt_conv2d_layer_forward(g, &m->head_vel, h));
        out->vel_prob = amt_sigmoid(g, out->vel_logit);
    }
    if (!out->frame_prob || (c->onset_head && !out->onset_prob) || (c->velocity_head && !out->vel_prob))
        return amt_errcode() ? amt_errcode() : amt_error(AMT_EINTERNAL, "transcriber: graph build failed");
    if (t_frame && t_onset && t_vel) {
        out->t_frame = t_frame; out->t_onset = t_onset; out->t_vel = t_vel;
        amt_tensor *sum = NULL;
        out->loss_frame = amt_bce_with_logits(g, out->frame_logit, t_frame, NULL);
        if (!out->loss_frame) return amt_errcode();
        sum = weighted(g, sum, out->loss_frame, c->frame_weight);
        if (c->onset_head) {
            if (!(out->loss_onset = amt_bce_with_logits(g, out->onset_logit, t_onset, NULL))) return amt_errcode();
            sum = weighted(g, sum, out->loss_onset, c->onset_weight);
        }
        if (c->velocity_head) {
            if (!(out->loss_vel = velocity_loss(g, out->vel_prob, t_vel, t_onset))) return amt_errcode();
            sum = weighted(g, sum, out->loss_vel, c->velocity_weight);
        }
        if (!sum) return amt_errcode();
        out->loss = sum;
    }
    return AMT_OK;
}

int amt_transcriber_build(const amt_transcriber *m, int batch, int frames, int with_grad, uint64_t seed,
                          amt_tr_graph *out)
{
    memset(out, 0, sizeof *out);
    if (batch < 1 || frames < 1)
        return amt_error(AMT_EINVAL, "transcriber: batch %d and frames %d must be >= 1", batch, frames);
    amt_graph *g = amt_graph_new(with_grad, seed);
    if (!g) return amt_errcode();
    int xs[4] = {batch, 1, frames + m->cfg.ctx - 1, m->cfg.bins};
    int ts[3] = {batch, frames, AMT_TR_KEYS};
    amt_tensor *x = amt_graph_input(g, "features", 4, xs, 0);
    amt_tensor *tf = NULL, *to = NULL, *tv = NULL;
    if (with_grad) {
        tf = amt_graph_input(g, "frame_target", 3, ts, 0);
        to = amt_graph_input(g, "onset_target", 3, ts, 0);
        tv = amt_graph_input(g, "velocity_target", 3, ts, 0);
        if (!tf || !to || !tv) { amt_graph_free(g); return amt_errcode(); }
    }
    int rc = amt_transcriber_attach(m, g, x, tf, to, tv, out);
    if (rc == AMT_OK && g->broken) rc = amt_errcode() ? amt_errcode() : AMT_EINTERNAL;
    if (rc) {
        amt_graph_free(g);
        memset(out, 0, sizeof *out);
        return rc;
    }
    return AMT_OK;
}

void amt_tr_graph_free(amt_tr_graph *tg)
{
    if (!tg) return;
    amt_graph_free(tg->g);
    memset(tg, 0, sizeof *tg);
}

/* ---- targets and decoding options ---- */

void amt_transcriber_targets(const amt_notes *notes, double fps, int onset_frames, double onset_soft, long t0, int T,
                             float *frame, float *onset, float *vel)
{
    const size_t cells = (size_t)T * AMT_TR_KEYS;
    memset(frame, 0, cells * sizeof(float));
    memset(onset, 0, cells * sizeof(float));
    memset(vel, 0, cells * sizeof(float));
    if (onset_frames < 1) onset_frames = 1;
    const long t1 = t0 + T;
    for (int i = 0; i < notes->n; i++) {
        const amt_note *nt = &notes->v[i];
        int k = nt->pitch - AMT_TR_LOWEST_PITCH;
        if (k < 0 || k >= AMT_TR_KEYS) continue;
        /* frames t with onset <= t / fps < offset */
        long a = (long)ceil(nt->onset * fps - 1e-9), b = (long)ceil(nt->offset * fps - 1e-9);
        while (a > 0 && (double)(a - 1) / fps >= nt->onset) a--;
        while ((double)a / fps < nt->onset) a++;
        while (b > a && (double)(b - 1) / fps >= nt->offset) b--;
        while ((double)b / fps < nt->offset) b++;
        for (long t = a > t0 ? a : t0; t < b && t < t1; t++) frame[(size_t)(t - t0) * AMT_TR_KEYS + k] = 1;
        float v = (float)nt->velocity / 127.0f;
        if (onset_soft > 0) {
            /* triangle of half-width onset_soft frames around the exact onset frame x */
            const double x = nt->onset * fps;
            long s0 = (long)floor(x - onset_soft) + 1, s1 = (long)ceil(x + onset_soft) - 1;
            for (long t = s0 > t0 ? s0 : t0; t <= s1 && t < t1; t++) {
                float w = (float)(1.0 - fabs((double)t - x) / onset_soft);
                size_t cell = (size_t)(t - t0) * AMT_TR_KEYS + k;
                if (w > 0 && w >= onset[cell]) { onset[cell] = w; vel[cell] = v; }
            }
            continue;
        }
        long o0 = lround(nt->onset * fps), o1 = o0 + onset_frames;
        if (o1 > b && b > o0) o1 = b;   /* not beyond a short note */
        for (long t = o0 > t0 ? o0 : t0; t < o1 && t < t1; t++) {
            onset[(size_t)(t - t0) * AMT_TR_KEYS + k] = 1;
            vel[(size_t)(t - t0) * AMT_TR_KEYS + k] = v;
        }
    }
}

int amt_transcriber_gap_frames(double gap_ms, double fps)
{
    return gap_ms > 0 ? (int)floor(gap_ms * fps / 1000.0 + 1e-9) : 0;
}

void amt_transcriber_decode_opts(const amt_transcriber *m, amt_decode_opts *o)
{
    amt_decode_opts_default(o);
    o->fps = m->cfg.fps;
    o->lowest_pitch = AMT_TR_LOWEST_PITCH;
    o->keys = AMT_TR_KEYS;
    o->onset_threshold = m->onset_threshold->data[0];
    o->frame_threshold = m->frame_threshold->data[0];
    o->sustain_threshold = m->sustain_threshold->data[0];
    o->min_note_ms = m->cfg.min_note_ms;
    o->gap_frames = amt_transcriber_gap_frames(m->cfg.gap_ms, m->cfg.fps);
    o->min_pitch = m->cfg.min_pitch;
    o->max_pitch = m->cfg.max_pitch;
}

void amt_tr_knobs_default(amt_tr_knobs *k)
{
    k->onset_threshold = k->frame_threshold = k->sustain_threshold = k->min_note_ms = k->gap_ms = -1;
    k->min_pitch = k->max_pitch = -1;
}

int amt_transcriber_decode_knobs(const amt_transcriber *m, const amt_tr_knobs *k, amt_decode_opts *o)
{
    amt_transcriber_decode_opts(m, o);
    if (k->onset_threshold >= 0) o->onset_threshold = (float)k->onset_threshold;
    if (k->frame_threshold >= 0) {
        o->frame_threshold = (float)k->frame_threshold;
        if (k->sustain_threshold < 0 && o->sustain_threshold >= o->frame_threshold) o->sustain_threshold = 0;
    }
    if (k->sustain_threshold >= 0) {
        o->sustain_threshold = (float)k->sustain_threshold;
        if (o->sustain_threshold > o->frame_threshold)
            return amt_error(AMT_EINVAL, "sustain threshold %g is above the frame threshold %g (0 = off)",
                             o->sustain_threshold, o->frame_threshold);
    }
    if (k->min_note_ms >= 0) o->min_note_ms = k->min_note_ms;
    if (k->gap_ms >= 0) o->gap_frames = amt_transcriber_gap_frames(k->gap_ms, m->cfg.fps);
    if (k->min_pitch >= 0) o->min_pitch = k->min_pitch;
    if (k->max_pitch >= 0) o->max_pitch = k->max_pitch;
    return amt_decode_opts_check(o);
}

/* ---- block inference ---- */

#define TR_INFER_MAX_BATCH 8   /* blocks per forward at most (memory grows with it) */

struct amt_tr_infer {
    const amt_transcriber *m;
    int N, B;                  /* frames per block, blocks per forward */
    amt_tr_graph tg;
};

amt_tr_infer *amt_tr_infer_new(const amt_transcriber *m, int block_frames)
{
    if (block_frames <= 0) block_frames = m->cfg.block_frames;
    amt_tr_infer *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "transcriber: out of memory"); return NULL; }
    r->m = m;
    r->N = block_frames;
    r->B = amt_get_threads();
    if (r->B < 1) r->B = 1;
    if (r->B > TR_INFER_MAX_BATCH) r->B = TR_INFER_MAX_BATCH;
    if (amt_transcriber_build(m, r->B, block_frames, 0, 0, &r->tg)) { free(r); return NULL; }
    return r;
}

void amt_tr_infer_free(amt_tr_infer *r)
{
    if (!r) return;
    amt_tr_graph_free(&r->tg);
    free(r);
}

size_t amt_tr_infer_bytes(const amt_tr_infer *r) { return r ? amt_graph_bytes(r->tg.g) : 0; }

/* rows [0, n) of example b of a (B, N, 88) output into dst from frame t0 */
static void copy_rows(float *dst, const amt_tensor *src, int b, int N, long t0, long n)
{
    if (!dst) return;
    const size_t bytes = (size_t)n * AMT_TR_KEYS * sizeof(float);
    if (src) memcpy(dst + (size_t)t0 * AMT_TR_KEYS, src->data + (size_t)b * N * AMT_TR_KEYS, bytes);
    else memset(dst + (size_t)t0 * AMT_TR_KEYS, 0, bytes);
}

/* Input rows of the block of output frames t0 .. t0 + N - 1: feature frames t0 - L ..
 * t0 + N - 1 + R, zeros outside [0, n_total); the others are rows of feat (row i = frame
 * f_lo + i, i < f_hi - f_lo; the caller guarantees the block needs no other frames). */
static void span_rows(const amt_transcriber *m, const float *feat, long f_lo, long f_hi, long n_total, long t0, int N,
                      float *rows)
{
    const int bins = m->cfg.bins, L = (m->cfg.ctx - 1) / 2;
    const long R = N + m->cfg.ctx - 1;
    for (long r = 0; r < R; r++) {
        long src = t0 - L + r;
        float *o = rows + (size_t)r * bins;
        int have = src >= 0 && (n_total < 0 || src < n_total) && src >= f_lo && src < f_hi;
        if (have) memcpy(o, feat + (size_t)(src - f_lo) * bins, (size_t)bins * sizeof(float));
        else memset(o, 0, (size_t)bins * sizeof(float));
    }
}

void amt_transcriber_input_rows(const amt_transcriber *m, const float *feat, long n_frames, long t0, int T,
                                float *rows)
{
    span_rows(m, feat, 0, n_frames, n_frames, t0, T, rows);
}

const amt_transcriber *amt_tr_infer_model(const amt_tr_infer *r) { return r ? r->m : NULL; }

long amt_tr_infer_chunk(const amt_tr_infer *r) { return r ? (long)r->B * r->N : 0; }

int amt_tr_infer_span(amt_tr_infer *r, const float *feat, long f_lo, long f_hi, long n_total, long t_first,
                      long n_out, float *frame, float *onset, float *velocity)
{
    if (!r || n_out < 0 || t_first < 0 || f_hi < f_lo || (n_out > 0 && (!frame || (f_hi > f_lo && !feat))))
        return amt_error(AMT_EINVAL, "transcriber inference: bad arguments (%ld frames)", n_out);
    const int N = r->N, B = r->B;
    const size_t rows = (size_t)(N + r->m->cfg.ctx - 1) * r->m->cfg.bins;
    const long end = t_first + n_out;
    for (long g0 = t_first; g0 < end; g0 += (long)B * N) {
        /* B consecutive blocks per forward (examples run in parallel); past the end: zeros */
        for (int b = 0; b < B; b++) {
            long t0 = g0 + (long)b * N;
            if (t0 < end) span_rows(r->m, feat, f_lo, f_hi, n_total, t0, N, r->tg.x->data + b * rows);
            else memset(r->tg.x->data + b * rows, 0, rows * sizeof(float));
        }
        int rc = amt_graph_forward(r->tg.g);
        if (rc) return rc;
        for (int b = 0; b < B; b++) {
            long t0 = g0 + (long)b * N;
            if (t0 >= end) break;
            long n = end - t0 < N ? end - t0 : N;
            copy_rows(frame, r->tg.frame_prob, b, N, t0 - t_first, n);
            copy_rows(onset, r->tg.onset_prob, b, N, t0 - t_first, n);
            copy_rows(velocity, r->tg.vel_prob, b, N, t0 - t_first, n);
        }
    }
    return AMT_OK;
}

int amt_tr_infer_run(amt_tr_infer *r, const float *feat, long n_frames, float *frame, float *onset, float *velocity)
{
    if (!r || n_frames < 0 || (n_frames > 0 && (!feat || !frame)))
        return amt_error(AMT_EINVAL, "transcriber inference: bad arguments (%ld frames)", n_frames);
    return amt_tr_infer_span(r, feat, 0, n_frames, n_frames, 0, n_frames, frame, onset, velocity);
}

/* ---- evaluation ---- */

static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

int amt_transcriber_evaluate(amt_transcriber *m, amt_tr_infer *r, const amt_tr_piece *pieces, int n_pieces,
                             int tune, amt_tr_scores *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !r || n_pieces < 1 || !pieces) return amt_error(AMT_EINVAL, "transcriber evaluation: no pieces");
    const int has_on = m->cfg.onset_head;
    float **fr = calloc((size_t)n_pieces, sizeof *fr), **on = calloc((size_t)n_pieces, sizeof *on);
    amt_decode_item *items = calloc((size_t)n_pieces, sizeof *items);
    amt_notes est;
    amt_notes_init(&est);
    int rc = (!fr || !on || !items) ? amt_error(AMT_ENOMEM, "transcriber evaluation: out of memory") : AMT_OK;
    for (int i = 0; i < n_pieces && !rc; i++) {
        size_t cells = (size_t)(pieces[i].n_frames > 0 ? pieces[i].n_frames : 1) * AMT_TR_KEYS;
        fr[i] = malloc(cells * sizeof(float));
        on[i] = has_on ? malloc(cells * sizeof(float)) : NULL;
        if (!fr[i] || (has_on && !on[i])) { rc = amt_error(AMT_ENOMEM, "transcriber evaluation: out of memory"); break; }
        if ((rc = amt_tr_infer_run(r, pieces[i].feat, pieces[i].n_frames, fr[i], on[i], NULL))) break;
        items[i] = (amt_decode_item){fr[i], on[i], NULL, pieces[i].n_frames, pieces[i].ref};
    }
    amt_decode_opts o;
    amt_transcriber_decode_opts(m, &o);
    if (!rc && tune) {
        amt_tune_result tr;
        if (!(rc = amt_decode_tune(items, n_pieces, &o, NULL, 0, NULL, 0, &tr))) {
            m->onset_threshold->data[0] = tr.onset_threshold;
            m->frame_threshold->data[0] = tr.frame_threshold;
            m->sustain_threshold->data[0] = tr.sustain_threshold;
            o.onset_threshold = tr.onset_threshold;
            o.frame_threshold = tr.frame_threshold;
            o.sustain_threshold = tr.sustain_threshold;
        }
    }
    amt_note_metric_opts on_opt, off_opt;
    amt_note_metric_defaults(&off_opt);
    on_opt = off_opt;
    on_opt.offset_ratio = -1;
    long m_on = 0, m_off = 0, n_ref = 0, n_est = 0;
    amt_frame_scores ftot = {0};
    for (int i = 0; i < n_pieces && !rc; i++) {
        amt_note_scores a, b;
        amt_frame_scores fs;
        if ((rc = amt_note_decode(fr[i], on[i], NULL, pieces[i].n_frames, &o, &est)) ||
            (rc = amt_transcription_note_scores(pieces[i].ref, &est, &on_opt, &a)) ||
            (rc = amt_transcription_note_scores(pieces[i].ref, &est, &off_opt, &b)) ||
            (rc = amt_transcription_frame_scores(pieces[i].ref, &est, o.fps, &fs)))
            break;
        m_on += a.n_match; m_off += b.n_match; n_ref += a.n_ref; n_est += a.n_est;
        ftot.tp += fs.tp; ftot.fp += fs.fp; ftot.fn += fs.fn;
    }
    if (!rc) {
        amt_frame_scores_from(&ftot);
        out->note_p = n_est ? (double)m_on / n_est : 0;
        out->note_r = n_ref ? (double)m_on / n_ref : 0;
        out->note_f1 = f1(out->note_p, out->note_r);
        out->offset_p = n_est ? (double)m_off / n_est : 0;
        out->offset_r = n_ref ? (double)m_off / n_ref : 0;
        out->offset_f1 = f1(out->offset_p, out->offset_r);
        out->frame_p = ftot.precision; out->frame_r = ftot.recall; out->frame_f1 = ftot.f1;
        out->n_ref = (int)n_ref; out->n_est = (int)n_est;
        out->onset_threshold = o.onset_threshold;
        out->frame_threshold = o.frame_threshold;
        out->sustain_threshold = o.sustain_threshold;
    }
    for (int i = 0; i < n_pieces; i++) {
        if (fr) free(fr[i]);
        if (on) free(on[i]);
    }
    free(fr); free(on); free(items);
    amt_notes_free(&est);
    return rc;
}

/* ---- features from audio ---- */

int amt_transcriber_features(const amt_transcriber_config *cfg, const float *x, long len, double rate,
                             float **feat, long *n_frames)
{
    *feat = NULL;
    *n_frames = 0;
    if (!(rate > 0) || !isfinite(rate)) return amt_error(AMT_EINVAL, "transcriber features: sample rate %g must be > 0", rate);
    if (len < 0 || (len > 0 && !x)) return amt_error(AMT_EINVAL, "transcriber features: bad signal (%ld samples)", len);
    for (long i = 0; i < len; i++)
        if (!isfinite(x[i])) return amt_error(AMT_EINVAL, "transcriber features: sample %ld is %s", i, isnan(x[i]) ? "NaN" : "infinite");
    float *res = NULL;
    const float *sig = x;
    long slen = len;
    int rc;
    if (rate != (double)cfg->feat.rate && len > 0) {
        if ((rc = amt_resample(x, len, 1, rate, cfg->feat.rate, &res, &slen))) return rc;
        sig = res;
    } else if (rate != (double)cfg->feat.rate) {
        slen = 0;
    }
    amt_semitone *s = amt_semitone_new(&cfg->feat);
    if (!s) { free(res); return amt_errcode(); }
    long frames = amt_semitone_frames(s, slen);
    if (frames < 0) frames = 0;
    float *out = malloc(((size_t)frames * (size_t)amt_semitone_bins(s) + 1) * sizeof(float));
    if (!out) {
        amt_semitone_del(s);
        free(res);
        return amt_error(AMT_ENOMEM, "transcriber features: out of memory for %ld frames", frames);
    }
    rc = frames > 0 ? amt_semitone_do(s, sig, slen, out) : AMT_OK;
    amt_semitone_del(s);
    free(res);
    if (rc) { free(out); return rc; }
    *feat = out;
    *n_frames = frames;
    return AMT_OK;
}
