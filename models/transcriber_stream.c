/* models/transcriber_stream.c: see transcriber_stream.h. Frames come from an
 * audio/frame_stream.h stream; feat holds feature rows [q0, q0 + qlen); output frames
 * t_out .. are still to be run through the network. */
#include "models/transcriber_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/frame_stream.h"
#include "audio/semitone.h"
#include "core/error.h"

struct amt_tr_stream {
    amt_tr_infer *r;
    amt_tr_rows_fn fn;
    void *ctx;
    amt_frame_stream *fs;
    amt_semitone *sm;
    int bins;
    int L, R;                   /* network context (frames) before / after an output frame */
    long chunk;                 /* output frames per forward */
    float *feat;
    long feat_cap, q0, qlen, t_out;
    float *pf, *po, *pv;
};

long amt_tr_stream_frames_for(const amt_transcriber_config *cfg, double rate, long len)
{
    return amt_frame_stream_count(rate, cfg->feat.rate, cfg->feat.n_fft, cfg->feat.hop, cfg->feat.center, len);
}

void amt_tr_stream_del(amt_tr_stream *s)
{
    if (!s) return;
    amt_frame_stream_del(s->fs);
    amt_semitone_del(s->sm);
    free(s->feat);
    free(s->pf); free(s->po); free(s->pv);
    free(s);
}

/* Runs the network over the output frames whose inputs are all here (final: all of them,
 * n_total frames), a chunk at a time, and drops the feature rows no later output needs. */
static int run_net(amt_tr_stream *s, long n_total)
{
    const int final = n_total >= 0;
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

/* One feature frame (frame_stream callback); a full buffer first runs the network. */
static int on_frame(void *ctx, const float *x, long len, long f_local, long f)
{
    amt_tr_stream *s = ctx;
    (void)f;
    if (s->qlen == s->feat_cap) {
        int rc = run_net(s, -1);
        if (rc) return rc;
        if (s->qlen == s->feat_cap) return amt_error(AMT_EINVAL, "transcriber stream: feature buffer full");
    }
    amt_semitone_frame(s->sm, x, len, f_local, s->feat + (size_t)s->qlen * s->bins);
    s->qlen++;
    return AMT_OK;
}

amt_tr_stream *amt_tr_stream_new(amt_tr_infer *r, double rate, amt_tr_rows_fn fn, void *ctx)
{
    if (!r || !fn) { amt_error(AMT_EINVAL, "transcriber stream: no runner or callback"); return NULL; }
    amt_tr_stream *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "transcriber stream: out of memory"); return NULL; }
    const amt_transcriber_config *c = &amt_tr_infer_model(r)->cfg;
    s->r = r;
    s->fn = fn;
    s->ctx = ctx;
    s->bins = c->bins;
    s->L = (c->ctx - 1) / 2;
    s->R = c->ctx - 1 - s->L;
    s->chunk = amt_tr_infer_chunk(r);
    s->feat_cap = s->chunk + c->ctx;
    const size_t cells = (size_t)s->chunk * AMT_TR_KEYS;
    s->fs = amt_frame_stream_new(rate, c->feat.rate, c->feat.n_fft, c->feat.hop, c->feat.center, 0, on_frame, s);
    if (!s->fs) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", amt_errmsg());
        amt_error(amt_errcode(), "transcriber stream: %s", msg);
        free(s);
        return NULL;
    }
    s->feat = malloc(sizeof(float) * (size_t)s->feat_cap * s->bins);
    s->pf = malloc(sizeof(float) * cells);
    s->po = c->onset_head ? malloc(sizeof(float) * cells) : NULL;
    s->pv = c->velocity_head ? malloc(sizeof(float) * cells) : NULL;
    s->sm = amt_semitone_new(&c->feat);
    if (!s->feat || !s->pf || (c->onset_head && !s->po) || (c->velocity_head && !s->pv) || !s->sm) {
        if (!amt_errcode()) amt_error(AMT_ENOMEM, "transcriber stream: out of memory");
        amt_tr_stream_del(s);
        return NULL;
    }
    return s;
}

int amt_tr_stream_feed(amt_tr_stream *s, const float *x, long n)
{
    if (!s) return amt_error(AMT_EINVAL, "transcriber stream: no stream");
    return amt_frame_stream_feed(s->fs, x, n);
}

int amt_tr_stream_finish(amt_tr_stream *s)
{
    if (!s) return amt_error(AMT_EINVAL, "transcriber stream: no stream");
    int rc = amt_frame_stream_finish(s->fs);
    return rc ? rc : run_net(s, amt_frame_stream_frames(s->fs));
}

long amt_tr_stream_samples(const amt_tr_stream *s) { return s ? amt_frame_stream_samples(s->fs) : 0; }
long amt_tr_stream_frames(const amt_tr_stream *s) { return s ? s->t_out : 0; }
