/* models/transcriber_stream.c: see transcriber_stream.h.
 *
 * Buffers: sig holds resampled samples [s0, s0 + slen) (s0 a multiple of hop, so a frame's
 * index in the stretch is f - s0 / hop); feat holds feature rows [q0, q0 + qlen); frames
 * next_f .. are still to be computed, output frames t_out .. still to be run. */
#include "models/transcriber_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/resample.h"
#include "audio/semitone.h"
#include "core/error.h"

#define STREAM_SIG_HOPS 256     /* hops of samples buffered beyond one window */
#define STREAM_IN_PIECE 4096    /* input samples resampled per call */

struct amt_tr_stream {
    amt_tr_infer *r;
    const amt_transcriber_config *cfg;
    amt_tr_rows_fn fn;
    void *ctx;
    amt_resampler *rs;          /* NULL when the rate is the features' */
    amt_semitone *sm;
    int bins, hop, n_fft, pad;  /* pad: samples before frame f's hop position its window starts */
    int L, R;                   /* network context (frames) before / after an output frame */
    long chunk;                 /* output frames per forward */
    float *sig, *rs_out;
    long sig_cap, rs_cap, s0, slen, n_in, n_res;
    float *feat;
    long feat_cap, q0, qlen, next_f, t_out;
    float *pf, *po, *pv;
    int finished;
};

long amt_tr_stream_frames_for(const amt_transcriber_config *cfg, double rate, long len)
{
    long n = rate == (double)cfg->feat.rate ? len : amt_resample_len(rate, cfg->feat.rate, len);
    if (cfg->feat.center) return 1 + n / cfg->feat.hop;
    return n < cfg->feat.n_fft ? 0 : 1 + (n - cfg->feat.n_fft) / cfg->feat.hop;
}

void amt_tr_stream_del(amt_tr_stream *s)
{
    if (!s) return;
    amt_resampler_del(s->rs);
    amt_semitone_del(s->sm);
    free(s->sig); free(s->rs_out); free(s->feat);
    free(s->pf); free(s->po); free(s->pv);
    free(s);
}

amt_tr_stream *amt_tr_stream_new(amt_tr_infer *r, double rate, amt_tr_rows_fn fn, void *ctx)
{
    if (!r || !fn) { amt_error(AMT_EINVAL, "transcriber stream: no runner or callback"); return NULL; }
    if (!(rate > 0) || !isfinite(rate)) {
        amt_error(AMT_EINVAL, "transcriber stream: sample rate %g must be > 0", rate);
        return NULL;
    }
    amt_tr_stream *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "transcriber stream: out of memory"); return NULL; }
    const amt_transcriber_config *c = &amt_tr_infer_model(r)->cfg;
    s->r = r;
    s->cfg = c;
    s->fn = fn;
    s->ctx = ctx;
    s->bins = c->bins;
    s->hop = c->feat.hop;
    s->n_fft = c->feat.n_fft;
    s->pad = c->feat.center ? c->feat.n_fft / 2 : 0;
    s->L = (c->ctx - 1) / 2;
    s->R = c->ctx - 1 - s->L;
    s->chunk = amt_tr_infer_chunk(r);
    s->sig_cap = (long)s->n_fft + (long)STREAM_SIG_HOPS * s->hop;
    s->feat_cap = s->chunk + c->ctx;
    const size_t cells = (size_t)s->chunk * AMT_TR_KEYS;
    s->sig = malloc(sizeof(float) * (size_t)s->sig_cap);
    s->feat = malloc(sizeof(float) * (size_t)s->feat_cap * s->bins);
    s->pf = malloc(sizeof(float) * cells);
    s->po = c->onset_head ? malloc(sizeof(float) * cells) : NULL;
    s->pv = c->velocity_head ? malloc(sizeof(float) * cells) : NULL;
    s->sm = amt_semitone_new(&c->feat);
    int ok = s->sig && s->feat && s->pf && (!c->onset_head || s->po) && (!c->velocity_head || s->pv) && s->sm;
    if (ok && rate != (double)c->feat.rate) {
        s->rs = amt_resampler_new(rate, c->feat.rate, 1);
        s->rs_cap = s->rs ? amt_resampler_max_out(s->rs, STREAM_IN_PIECE) : 0;
        s->rs_out = s->rs ? malloc(sizeof(float) * (size_t)(s->rs_cap > 0 ? s->rs_cap : 1)) : NULL;
        ok = s->rs && s->rs_out;
    }
    if (!ok) {
        if (!amt_errcode()) amt_error(AMT_ENOMEM, "transcriber stream: out of memory");
        amt_tr_stream_del(s);
        return NULL;
    }
    return s;
}

/* Runs the network over the output frames whose inputs are all here (final: all of them),
 * a chunk at a time, and drops the feature rows no later output needs. */
static int run_net(amt_tr_stream *s, int final)
{
    const long n_total = final ? s->next_f : -1;
    for (;;) {
        long avail = final ? n_total : s->q0 + s->qlen - s->R;   /* outputs < avail are ready */
        long n = avail - s->t_out;
        if (n <= 0 || (!final && n < s->chunk)) break;
        if (n > s->chunk) n = s->chunk;
        int rc = amt_tr_infer_span(s->r, s->feat, s->q0, s->q0 + s->qlen, n_total, s->t_out, n, s->pf, s->po, s->pv);
        if (!rc) rc = s->fn(s->ctx, s->t_out, n, s->feat + (size_t)(s->t_out - s->q0) * s->bins, s->pf, s->po, s->pv);
        if (rc) return rc;
        s->t_out += n;
        long drop = s->t_out - s->L - s->q0;
        if (drop > s->qlen) drop = s->qlen;
        if (drop > 0) {
            memmove(s->feat, s->feat + (size_t)drop * s->bins, sizeof(float) * (size_t)(s->qlen - drop) * s->bins);
            s->q0 += drop;
            s->qlen -= drop;
        }
    }
    return AMT_OK;
}

/* Computes every feature frame whose window is here (final: up to the last frame), then
 * drops the samples no later frame reads. */
static int pump(amt_tr_stream *s, int final)
{
    const long n_frames = final ? amt_semitone_frames(s->sm, s->n_res) : -1;
    for (;;) {
        const long f = s->next_f;
        if (final ? f >= n_frames : (long)f * s->hop - s->pad + s->n_fft > s->s0 + s->slen) break;
        if (s->qlen == s->feat_cap) {
            int rc = run_net(s, 0);
            if (rc) return rc;
            if (s->qlen == s->feat_cap) return amt_error(AMT_EINVAL, "transcriber stream: feature buffer full");
        }
        amt_semitone_frame(s->sm, s->sig, s->slen, f - s->s0 / s->hop, s->feat + (size_t)s->qlen * s->bins);
        s->qlen++;
        s->next_f++;
    }
    long keep_from = ((long)s->next_f * s->hop - s->pad) / s->hop * s->hop;   /* a multiple of hop */
    if (keep_from > s->s0) {
        long drop = keep_from - s->s0 < s->slen ? keep_from - s->s0 : s->slen;
        memmove(s->sig, s->sig + drop, sizeof(float) * (size_t)(s->slen - drop));
        s->s0 += drop;
        s->slen -= drop;
    }
    return run_net(s, final);
}

/* Appends resampled samples, computing frames whenever the buffer fills. */
static int push(amt_tr_stream *s, const float *x, long n)
{
    while (n > 0) {
        long k = s->sig_cap - s->slen < n ? s->sig_cap - s->slen : n;
        if (k <= 0) return amt_error(AMT_EINVAL, "transcriber stream: sample buffer full");
        memcpy(s->sig + s->slen, x, sizeof(float) * (size_t)k);
        s->slen += k;
        s->n_res += k;
        x += k;
        n -= k;
        int rc = pump(s, 0);
        if (rc) return rc;
    }
    return AMT_OK;
}

int amt_tr_stream_feed(amt_tr_stream *s, const float *x, long n)
{
    if (!s || n < 0 || (n > 0 && !x)) return amt_error(AMT_EINVAL, "transcriber stream: bad block (%ld samples)", n);
    if (s->finished) return amt_error(AMT_EINVAL, "transcriber stream: fed after finish");
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return amt_error(AMT_EINVAL, "sample %ld is %s", s->n_in + i, isnan(x[i]) ? "NaN" : "infinite");
    for (long i = 0; i < n;) {
        long k = n - i < STREAM_IN_PIECE ? n - i : STREAM_IN_PIECE;
        int rc;
        if (!s->rs) {
            rc = push(s, x + i, k);
            i += k;
        } else {
            long used = 0, w = amt_resampler_process(s->rs, x + i, k, &used, s->rs_out, s->rs_cap);
            if (w < 0) return (int)w;
            rc = push(s, s->rs_out, w);
            i += used;
        }
        if (rc) return rc;
    }
    s->n_in += n;
    return AMT_OK;
}

int amt_tr_stream_finish(amt_tr_stream *s)
{
    if (!s) return amt_error(AMT_EINVAL, "transcriber stream: no stream");
    if (s->finished) return amt_error(AMT_EINVAL, "transcriber stream: finished twice");
    s->finished = 1;
    if (s->rs)
        for (long w; (w = amt_resampler_flush(s->rs, s->rs_out, s->rs_cap)) != 0;) {
            if (w < 0) return (int)w;
            int rc = push(s, s->rs_out, w);
            if (rc) return rc;
        }
    return pump(s, 1);
}

long amt_tr_stream_samples(const amt_tr_stream *s) { return s ? s->n_in : 0; }
long amt_tr_stream_frames(const amt_tr_stream *s) { return s ? s->t_out : 0; }
