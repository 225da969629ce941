/* models/separator.c: the LSTM singing-voice separator (see separator.h). */
#include "separator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/resample.h"
#include "audio/stft.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/mask.h"
#include "core/rng.h"

/* ------------------------------------------------------------------ configuration */

void amt_separator_config_default(amt_separator_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden = 256;
    c->layers = 2;
    c->bidirectional = 0;
    c->eps = AMT_MASK_EPS;
    c->rate = 16000;
    c->n_fft = 1024;
    c->hop = 256;
    c->log = 0;
    c->context = 0;
    c->gamma = AMT_DISCRIM_GAMMA;
    amt_optim_config_default(&c->optim, AMT_OPTIM_ADAM);
    c->batch = 16;
    c->seq_frames = 100;
    c->epochs = 10;
    c->data_dir[0] = 0;
    c->split = AMT_SEP_SPLIT_HUANG;
    c->val_fraction = 0.1;
    c->seed = 1;
    c->block_frames = 1000;
    c->overlap_frames = 64;
    c->segment_frames = 8192;
}

int amt_separator_config_check(const amt_separator_config *c)
{
    if (c->n_fft < 4 || c->n_fft % 2)
        return amt_error(AMT_ECONFIG, "separator: features.n_fft = %d must be even and >= 4", c->n_fft);
    if (c->hop < 1 || c->hop > c->n_fft)
        return amt_error(AMT_ECONFIG, "separator: features.hop = %d must be in 1..n_fft (%d)", c->hop, c->n_fft);
    if (c->hidden < 1 || c->layers < 1 || c->layers > AMT_LSTM_MAX_LAYERS)
        return amt_error(AMT_ECONFIG, "separator: model.hidden = %d, model.layers = %d (1..%d) out of range",
                         c->hidden, c->layers, AMT_LSTM_MAX_LAYERS);
    if (c->context < 0 || c->context > AMT_SEP_MAX_CONTEXT)
        return amt_error(AMT_ECONFIG, "separator: features.context = %d must be in 0..%d", c->context, AMT_SEP_MAX_CONTEXT);
    if (!(c->eps > 0) || !(c->gamma >= 0) || !isfinite(c->gamma))
        return amt_error(AMT_ECONFIG, "separator: model.eps = %g must be > 0 and loss.gamma = %g >= 0",
                         (double)c->eps, (double)c->gamma);
    if (c->overlap_frames < 2 || c->overlap_frames % 2)
        return amt_error(AMT_ECONFIG, "separator: infer.overlap_frames = %d must be even and >= 2", c->overlap_frames);
    if (c->block_frames < 2 * c->overlap_frames)
        return amt_error(AMT_ECONFIG, "separator: infer.block_frames = %d must be >= 2 x overlap_frames (%d)",
                         c->block_frames, 2 * c->overlap_frames);
    if (c->segment_frames <= 2 * c->overlap_frames)
        return amt_error(AMT_ECONFIG, "separator: infer.segment_frames = %d must be > 2 x overlap_frames (%d)",
                         c->segment_frames, 2 * c->overlap_frames);
    if (c->rate < 1000)
        return amt_error(AMT_ECONFIG, "separator: features.rate = %d Hz is below 1000", c->rate);
    return AMT_OK;
}

int amt_separator_config_read(amt_config *cfg, amt_separator_config *out)
{
    static const char *const splits[] = {"huang", "random", NULL};
    amt_separator_config c;
    amt_separator_config_default(&c);
    const char *kind = NULL, *dir = NULL;
    double eps = c.eps, gamma = c.gamma;
    int seed = (int)c.seed, rc;
    if ((rc = amt_config_get_string(cfg, "model", "kind", AMT_SEPARATOR_KIND, &kind))) return rc;
    if (strcmp(kind, AMT_SEPARATOR_KIND) != 0)
        return amt_error(AMT_ECONFIG, "%s: model.kind: '%s' is not '%s'", amt_config_path(cfg), kind, AMT_SEPARATOR_KIND);
    if ((rc = amt_config_get_int(cfg, "model", "hidden", c.hidden, 1, 4096, &c.hidden)) ||
        (rc = amt_config_get_int(cfg, "model", "layers", c.layers, 1, AMT_LSTM_MAX_LAYERS, &c.layers)) ||
        (rc = amt_config_get_bool(cfg, "model", "bidirectional", c.bidirectional, &c.bidirectional)) ||
        (rc = amt_config_get_float(cfg, "model", "eps", eps, 1e-30, 1, &eps)) ||
        (rc = amt_config_get_int(cfg, "features", "rate", c.rate, 1000, 384000, &c.rate)) ||
        (rc = amt_config_get_int(cfg, "features", "n_fft", c.n_fft, 4, 65536, &c.n_fft)) ||
        (rc = amt_config_get_int(cfg, "features", "hop", c.hop, 1, 65536, &c.hop)) ||
        (rc = amt_config_get_bool(cfg, "features", "log", c.log, &c.log)) ||
        (rc = amt_config_get_int(cfg, "features", "context", c.context, 0, AMT_SEP_MAX_CONTEXT, &c.context)) ||
        (rc = amt_config_get_float(cfg, "loss", "gamma", gamma, 0, 1, &gamma)) ||
        (rc = amt_optim_config_read(cfg, "optim", &c.optim)) ||
        (rc = amt_config_get_int(cfg, "train", "batch", c.batch, 1, 65536, &c.batch)) ||
        (rc = amt_config_get_int(cfg, "train", "seq_frames", c.seq_frames, 1, 1 << 20, &c.seq_frames)) ||
        (rc = amt_config_get_int(cfg, "train", "epochs", c.epochs, 1, 1 << 20, &c.epochs)) ||
        (rc = amt_config_get_string(cfg, "train", "data_dir", "", &dir)) ||
        (rc = amt_config_get_enum(cfg, "train", "split", splits, AMT_SEP_SPLIT_HUANG, &c.split)) ||
        (rc = amt_config_get_float(cfg, "train", "val_fraction", c.val_fraction, 0, 0.9, &c.val_fraction)) ||
        (rc = amt_config_get_int(cfg, "train", "seed", seed, 0, 0x7fffffff, &seed)) ||
        (rc = amt_config_get_int(cfg, "infer", "block_frames", c.block_frames, 4, 1 << 20, &c.block_frames)) ||
        (rc = amt_config_get_int(cfg, "infer", "overlap_frames", c.overlap_frames, 2, 1 << 19, &c.overlap_frames)) ||
        (rc = amt_config_get_int(cfg, "infer", "segment_frames", c.segment_frames, 4, 1 << 24, &c.segment_frames)))
        return rc;
    if (strlen(dir) >= sizeof c.data_dir)
        return amt_error(AMT_ECONFIG, "%s: train.data_dir: path longer than %zu bytes", amt_config_path(cfg), sizeof c.data_dir - 1);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", dir);
    c.eps = (float)eps;
    c.gamma = (float)gamma;
    c.seed = (uint64_t)seed;
    if (amt_separator_config_check(&c) != AMT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", amt_errmsg());
        return amt_error(AMT_ECONFIG, "%s: %s", amt_config_path(cfg), msg);
    }
    *out = c;
    return AMT_OK;
}

/* ------------------------------------------------------------------ model */

int amt_separator_init(amt_separator *m, const amt_separator_config *cfg)
{
    memset(m, 0, sizeof *m);
    int rc = amt_separator_config_check(cfg);
    if (rc) return rc;
    m->cfg = *cfg;
    m->bins = cfg->n_fft / 2 + 1;
    m->in_features = m->bins * (2 * cfg->context + 1);
    amt_params_init(&m->params);
    amt_rng rng;
    amt_rng_seed(&rng, cfg->seed);
    if ((rc = amt_lstm_layer_init(&m->lstm, &m->params, "lstm", m->in_features, cfg->hidden, cfg->layers,
                                  cfg->bidirectional, &rng)) ||
        (rc = amt_linear_layer_init(&m->head1, &m->params, "head1", amt_lstm_layer_out(&m->lstm), m->bins, 1, &rng)) ||
        (rc = amt_linear_layer_init(&m->head2, &m->params, "head2", amt_lstm_layer_out(&m->lstm), m->bins, 1, &rng)) ||
        (rc = amt_mask_layer_init(&m->mask, cfg->eps, cfg->gamma))) {
        amt_params_free(&m->params);
        return rc;
    }
    return AMT_OK;
}

void amt_separator_free(amt_separator *m)
{
    if (!m) return;
    amt_params_free(&m->params);
    memset(m, 0, sizeof *m);
}

int amt_separator_load(const char *path, amt_separator *m)
{
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    int rc = amt_checkpoint_read_info(path, &info);
    if (rc) return rc;
    if (strcmp(info.model, AMT_SEPARATOR_KIND) != 0) {
        rc = amt_error(AMT_EFORMAT, "%s: checkpoint of model kind '%s', expected '%s'", path, info.model, AMT_SEPARATOR_KIND);
        amt_ckpt_info_free(&info);
        return rc;
    }
    amt_config *cfg = amt_config_from_string(info.config ? info.config : "", path);
    amt_ckpt_info_free(&info);
    if (!cfg) return amt_errcode();
    amt_separator_config c;
    rc = amt_separator_config_read(cfg, &c);
    amt_config_free(cfg);
    if (rc) return rc;
    amt_separator tmp;
    if ((rc = amt_separator_init(&tmp, &c))) return rc;
    if ((rc = amt_checkpoint_load(path, AMT_SEPARATOR_KIND, &tmp.params, NULL, NULL))) {
        amt_separator_free(&tmp);
        return rc;
    }
    *m = tmp;
    return AMT_OK;
}

void amt_separator_features(const amt_separator *m, const float *mag, long n_frames, long t0, int T, float *feat)
{
    const int bins = m->bins, k = m->cfg.context, lg = m->cfg.log, F = m->in_features;
    for (int t = 0; t < T; t++) {
        float *o = feat + (size_t)t * F;
        for (int d = -k; d <= k; d++, o += bins) {
            long src = t0 + t + d;
            if (src < 0 || src >= n_frames) { memset(o, 0, sizeof(float) * (size_t)bins); continue; }
            const float *x = mag + (size_t)src * bins;
            if (lg) for (int j = 0; j < bins; j++) o[j] = log1pf(x[j]);
            else memcpy(o, x, sizeof(float) * (size_t)bins);
        }
    }
}

int amt_separator_magnitude(const amt_separator *m, const float *x, long n, float **mag, long *n_frames)
{
    *mag = NULL;
    *n_frames = 0;
    if (n < 1) return amt_error(AMT_EINVAL, "separator: magnitude of %ld samples (need >= 1)", n);
    amt_stft_cfg sc = amt_stft_default(m->cfg.n_fft, m->cfg.hop);
    amt_stft *st = amt_stft_new(&sc);
    if (!st) return amt_errcode();
    long nf = amt_stft_frames(st, n);
    size_t nb = (size_t)nf * (size_t)m->bins;
    float *spec = malloc(sizeof(float) * 2 * nb), *out = malloc(sizeof(float) * nb);
    int rc = spec && out ? amt_stft_do(st, x, n, spec) : amt_error(AMT_ENOMEM, "separator: out of memory for %ld frames", nf);
    if (!rc) amt_spec_to_magphase(spec, (long)nb, out, NULL);
    amt_stft_del(st);
    free(spec);
    if (rc) { free(out); return rc; }
    *mag = out;
    *n_frames = nf;
    return AMT_OK;
}

int amt_separator_fill(const amt_separator *m, amt_sep_graph *sg, int b, const float *mix, const float *voice,
                       const float *music, long n_frames, long t0)
{
    const int T = sg->frames;
    if (!sg->voice || b < 0 || b >= sg->batch || t0 < 0 || t0 + T > n_frames)
        return amt_error(AMT_EINVAL, "separator: fill slot %d of %d with frames %ld..%ld of %ld (training graph needed)",
                         b, sg->batch, t0, t0 + T, n_frames);
    size_t n = (size_t)T * m->bins, off = (size_t)t0 * m->bins, d = (size_t)b * n;
    memcpy(sg->mix->data + d, mix + off, sizeof(float) * n);
    memcpy(sg->voice->data + d, voice + off, sizeof(float) * n);
    memcpy(sg->music->data + d, music + off, sizeof(float) * n);
    if (sg->feat != sg->mix)
        amt_separator_features(m, mix, n_frames, t0, T, sg->feat->data + (size_t)b * T * m->in_features);
    return AMT_OK;
}

/* feat -> y1, y2 (ReLU heads). */
static int build_heads(const amt_separator *m, amt_sep_graph *sg)
{
    amt_tensor *h = amt_lstm_layer_forward(sg->g, &m->lstm, sg->feat);
    sg->y1 = amt_relu(sg->g, amt_linear_layer_forward(sg->g, &m->head1, h));
    sg->y2 = amt_relu(sg->g, amt_linear_layer_forward(sg->g, &m->head2, h));
    return sg->y1 && sg->y2 ? AMT_OK : amt_errcode();
}

int amt_separator_build_train(const amt_separator *m, int batch, int frames, uint64_t seed, amt_sep_graph *out)
{
    memset(out, 0, sizeof *out);
    if (batch < 1 || frames < 1)
        return amt_error(AMT_EINVAL, "separator: training graph batch %d x frames %d must be >= 1", batch, frames);
    out->g = amt_graph_new(1, seed);
    if (!out->g) return amt_errcode();
    out->batch = batch;
    out->frames = frames;
    int sb[3] = {batch, frames, m->bins}, sf[3] = {batch, frames, m->in_features};
    out->mix = amt_graph_input(out->g, "mix", 3, sb, 0);
    int plain = !m->cfg.log && m->cfg.context == 0;
    out->feat = plain ? out->mix : amt_graph_input(out->g, "feat", 3, sf, 0);
    out->voice = amt_graph_input(out->g, "voice", 3, sb, 0);
    out->music = amt_graph_input(out->g, "music", 3, sb, 0);
    int rc = out->mix && out->feat && out->voice && out->music ? build_heads(m, out) : amt_errcode();
    if (!rc) {
        out->s1 = amt_mask_layer_forward(out->g, &m->mask, out->y1, out->y2, out->mix, &out->s2);
        out->loss = amt_mask_layer_loss(out->g, &m->mask, out->s1, out->s2, out->voice, out->music);
        if (!out->loss) rc = amt_errcode() ? amt_errcode() : AMT_EINTERNAL;
    }
    if (rc) { amt_sep_graph_free(out); return rc; }
    return AMT_OK;
}

int amt_separator_build_infer(const amt_separator *m, int frames, amt_sep_graph *out)
{
    memset(out, 0, sizeof *out);
    if (frames < 1) return amt_error(AMT_EINVAL, "separator: inference graph frames %d must be >= 1", frames);
    out->g = amt_graph_new(0, 0);
    if (!out->g) return amt_errcode();
    out->batch = 1;
    out->frames = frames;
    int sb[3] = {1, frames, m->bins}, sf[3] = {1, frames, m->in_features};
    out->feat = amt_graph_input(out->g, "feat", 3, sf, 0);
    out->mix = amt_graph_input(out->g, "ones", 3, sb, 0);
    int rc = out->feat && out->mix ? build_heads(m, out) : amt_errcode();
    if (!rc) {
        for (size_t i = 0; i < out->mix->size; i++) out->mix->data[i] = 1.0f;
        out->s1 = amt_tf_mask(out->g, out->y1, out->y2, out->mix, m->mask.eps);
        if (!out->s1) rc = amt_errcode() ? amt_errcode() : AMT_EINTERNAL;
    }
    if (rc) { amt_sep_graph_free(out); return rc; }
    return AMT_OK;
}

void amt_sep_graph_free(amt_sep_graph *sg)
{
    if (!sg) return;
    amt_graph_free(sg->g);
    memset(sg, 0, sizeof *sg);
}

/* ------------------------------------------------------------------ block inference */

struct amt_sep_infer {
    const amt_separator *m;
    int block, overlap;
    int segment;           /* audio segment, frames (amt_separator_separate) */
    amt_sep_graph sg;      /* (1, block) */
    void (*progress)(void *ctx, double fraction);
    void *progress_ctx;
};

amt_sep_infer *amt_sep_infer_new(const amt_separator *m, int block_frames, int overlap_frames)
{
    if (block_frames <= 0) block_frames = m->cfg.block_frames;
    if (overlap_frames <= 0) overlap_frames = m->cfg.overlap_frames;
    if (overlap_frames < 2 || overlap_frames % 2 || block_frames < 2 * overlap_frames) {
        amt_error(AMT_EINVAL, "separator: block %d / overlap %d frames: overlap must be even >= 2 and block >= 2 x overlap",
                  block_frames, overlap_frames);
        return NULL;
    }
    amt_sep_infer *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "separator: out of memory"); return NULL; }
    r->m = m;
    r->block = block_frames;
    r->overlap = overlap_frames;
    r->segment = m->cfg.segment_frames > 2 * overlap_frames ? m->cfg.segment_frames : 2 * overlap_frames + 2;
    if (amt_separator_build_infer(m, block_frames, &r->sg) != AMT_OK) { free(r); return NULL; }
    return r;
}

void amt_sep_infer_on_progress(amt_sep_infer *r, void (*fn)(void *ctx, double fraction), void *ctx)
{
    r->progress = fn;
    r->progress_ctx = ctx;
}

void amt_sep_infer_free(amt_sep_infer *r)
{
    if (!r) return;
    amt_sep_graph_free(&r->sg);
    free(r);
}

size_t amt_sep_infer_bytes(const amt_sep_infer *r)
{
    return sizeof *r + amt_graph_bytes(r->sg.g);
}

/* Runs sg on frames [t0, t0 + sg->frames) of mag; the mask of the block is sg->s1. */
static int run_block(const amt_separator *m, amt_sep_graph *sg, const float *mag, long n_frames, long t0)
{
    amt_separator_features(m, mag, n_frames, t0, sg->frames, sg->feat->data);
    return amt_graph_forward(sg->g);
}

int amt_sep_infer_masks(amt_sep_infer *r, const float *mag, long n_frames, float *mask)
{
    const amt_separator *m = r->m;
    const size_t bins = (size_t)m->bins;
    if (n_frames < 1) return amt_error(AMT_EINVAL, "separator: spectrogram of %ld frames (need >= 1)", n_frames);
    int rc;
    if (n_frames <= r->block) {
        /* a causal (unidirectional) model runs the block graph with zero features after the
         * end: its first n_frames outputs do not depend on them; a bidirectional one gets a
         * graph of its own length */
        amt_sep_graph tmp, *sg = &r->sg;
        if (n_frames < r->block && m->cfg.bidirectional) {
            if ((rc = amt_separator_build_infer(m, (int)n_frames, &tmp))) return rc;
            sg = &tmp;
        }
        rc = run_block(m, sg, mag, n_frames, 0);
        if (!rc) memcpy(mask, sg->s1->data, sizeof(float) * bins * (size_t)n_frames);
        if (sg == &tmp) amt_sep_graph_free(&tmp);
        return rc;
    }
    /* overlap [s, s + W) of a block starting at s: frames [s, s + f0) warm-up (dropped),
     * [s + f0, s + f0 + W/2) cross-faded, later ones from this block alone; f0 = W/2
     * (unidirectional) or W/4 (bidirectional: the previous block keeps W/4 frames of future) */
    const long N = r->block, W = r->overlap, half = W / 2, S = N - W;
    const long f0 = m->cfg.bidirectional ? W / 4 : half;
    for (long s = 0;; s += S) {
        int last = s + N >= n_frames;
        if (last) s = n_frames - N;
        if ((rc = run_block(m, &r->sg, mag, n_frames, s))) return rc;
        const float *y = r->sg.s1->data;
        long from = s == 0 ? 0 : s + f0;
        for (long t = from; t < s + N; t++) {
            const float *yt = y + (size_t)(t - s) * bins;
            float *o = mask + (size_t)t * bins;
            if (s > 0 && t < s + f0 + half) {
                float w = ((float)(t - s - f0) + 0.5f) / (float)half;
                for (size_t j = 0; j < bins; j++) o[j] = (1.0f - w) * o[j] + w * yt[j];
            } else {
                memcpy(o, yt, sizeof(float) * bins);
            }
        }
        if (last) break;
    }
    return AMT_OK;
}

/* ------------------------------------------------------------------ audio */

/* Buffers of one audio segment (allocated once per call, sized for the longest segment). */
typedef struct seg_buf {
    float *spec, *mag, *mask, *y;
} seg_buf;

/* Voice of the segment [a, a + L) of the model-rate signals: the mask from mid, applied to
 * each channel's STFT, ISTFT'd into b->y and blended into voice16[c][a ..]: from sample
 * a + skip on, a linear ramp over `ramp` samples (0: copy), then copied. */
static int separate_segment(amt_sep_infer *r, amt_stft *st, const float *mid, const float *const *ch, int channels,
                            long a, long L, long skip, long ramp, seg_buf *b, float *const *voice16)
{
    const int bins = r->m->bins;
    long nf = amt_stft_frames(st, L);
    size_t nbin = (size_t)nf * bins;
    int rc;
    if ((rc = amt_stft_do(st, mid + a, L, b->spec))) return rc;
    amt_spec_to_magphase(b->spec, (long)nbin, b->mag, NULL);
    if ((rc = amt_sep_infer_masks(r, b->mag, nf, b->mask))) return rc;
    for (int c = 0; c < channels; c++) {
        if (ch[c] != mid)   /* mono: b->spec still holds the mid's STFT */
            if ((rc = amt_stft_do(st, ch[c] + a, L, b->spec))) return rc;
        for (size_t i = 0; i < nbin; i++) { b->spec[2 * i] *= b->mask[i]; b->spec[2 * i + 1] *= b->mask[i]; }
        if ((rc = amt_istft_do(st, b->spec, nf, L, b->y, NULL))) return rc;
        float *o = voice16[c] + a;
        for (long t = skip; t < L; t++) {
            if (t < skip + ramp) {
                float w = ((float)(t - skip) + 0.5f) / (float)ramp;
                o[t] = (1.0f - w) * o[t] + w * b->y[t];
            } else {
                o[t] = b->y[t];
            }
        }
    }
    return AMT_OK;
}

int amt_separator_separate(amt_sep_infer *r, const float *audio, long frames, int channels, int rate,
                           float *voice, float *music)
{
    const amt_separator *m = r->m;
    if (frames < 1 || channels < 1 || rate <= 0)
        return amt_error(AMT_EINVAL, "separator: audio of %ld frames x %d channels at %d Hz (need >= 1 frame, >= 1 channel, rate > 0)",
                         frames, channels, rate);
    for (long f = 0; f < frames; f++)
        for (int c = 0; c < channels; c++) {
            float v = audio[(size_t)f * channels + c];
            if (!isfinite(v))
                return amt_error(AMT_EINVAL, "separator: input sample at frame %ld channel %d is %s", f, c,
                                 isnan(v) ? "NaN" : "infinite");
        }
    const int mrate = m->cfg.rate, bins = m->bins, hop = m->cfg.hop;
    int rc = AMT_OK;
    float *chan = NULL, *mid = NULL, *back = NULL;
    float **ch = calloc((size_t)channels, sizeof *ch), **v16 = calloc((size_t)channels, sizeof *v16);
    seg_buf b = {0};
    amt_stft *st = NULL;
    amt_stft_cfg sc = amt_stft_default(m->cfg.n_fft, hop);
    if (!ch || !v16 || !(chan = malloc(sizeof(float) * (size_t)frames))) {
        rc = amt_error(AMT_ENOMEM, "separator: out of memory for %ld frames", frames);
        goto done;
    }
    if (!(st = amt_stft_new(&sc))) { rc = amt_errcode(); goto done; }
    /* the mid (mean) channel and every channel at the model's rate */
    for (long f = 0; f < frames; f++) {
        double s = 0;
        for (int c = 0; c < channels; c++) s += audio[(size_t)f * channels + c];
        chan[f] = (float)(s / channels);
    }
    long n16 = 0;
    if ((rc = amt_resample(chan, frames, 1, rate, mrate, &mid, &n16))) goto done;
    if (n16 < 1) {   /* e.g. 1 sample at 96 kHz: nothing at the model's rate: all music */
        memset(voice, 0, sizeof(float) * (size_t)frames * channels);
        memcpy(music, audio, sizeof(float) * (size_t)frames * channels);
        goto done;
    }
    for (int c = 0; c < channels; c++) {
        long k = 0;
        if (channels == 1) ch[c] = mid;
        else {
            for (long f = 0; f < frames; f++) chan[f] = audio[(size_t)f * channels + c];
            if ((rc = amt_resample(chan, frames, 1, rate, mrate, &ch[c], &k))) goto done;
            if (k != n16) { rc = amt_error(AMT_EINTERNAL, "separator: resampled lengths differ"); goto done; }
        }
        if (!(v16[c] = calloc((size_t)n16, sizeof(float)))) { rc = amt_error(AMT_ENOMEM, "separator: out of memory"); goto done; }
    }
    /* segments of seg samples every seg - ov, the last aligned to the end; in an overlap the
     * next segment skips ov/4 samples (LSTM warm-up, STFT edge) and cross-fades over ov/2 */
    const long seg = (long)r->segment * hop, ov = (long)r->overlap * hop;
    const long L0 = n16 < seg ? n16 : seg;
    const long nf0 = amt_stft_frames(st, L0);
    if (!(b.spec = malloc(sizeof(float) * 2 * (size_t)nf0 * bins)) || !(b.mag = malloc(sizeof(float) * (size_t)nf0 * bins)) ||
        !(b.mask = malloc(sizeof(float) * (size_t)nf0 * bins)) || !(b.y = malloc(sizeof(float) * (size_t)L0))) {
        rc = amt_error(AMT_ENOMEM, "separator: out of memory for a segment of %ld frames", nf0);
        goto done;
    }
    for (long a = 0;; a += seg - ov) {
        int last = a + L0 >= n16;
        if (last) a = n16 - L0;
        if ((rc = separate_segment(r, st, mid, (const float *const *)ch, channels, a, L0, a == 0 ? 0 : ov / 4,
                                   a == 0 ? 0 : ov / 2, &b, v16)))
            goto done;
        if (r->progress) r->progress(r->progress_ctx, (double)(a + L0) / (double)n16);
        if (last) break;
    }
    /* back to the input rate; music = mixture - voice */
    for (int c = 0; c < channels; c++) {
        long bn = 0;
        free(back); back = NULL;
        if ((rc = amt_resample(v16[c], n16, 1, mrate, rate, &back, &bn))) goto done;
        for (long f = 0; f < frames; f++) {
            size_t i = (size_t)f * channels + c;
            float v = f < bn ? back[f] : 0.0f;
            voice[i] = v;
            music[i] = audio[i] - v;
        }
        free(v16[c]); v16[c] = NULL;
        if (ch[c] != mid) { free(ch[c]); ch[c] = NULL; }
    }
done:
    amt_stft_del(st);
    for (int c = 0; ch && v16 && c < channels; c++) {
        free(v16[c]);
        if (ch[c] != mid) free(ch[c]);
    }
    free(ch); free(v16);
    free(chan); free(mid); free(back);
    free(b.spec); free(b.mag); free(b.mask); free(b.y);
    return rc;
}
