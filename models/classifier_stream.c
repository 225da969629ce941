/* models/classifier_stream.c: see classifier_stream.h. Pass 2 keeps the last T + 1 mel
 * frames in a ring (T = frames per window): a regular window [w step, w step + T) is run
 * when frame w step + T arrives (the clip's last frame is never used, so a window may
 * only end before a frame that exists); at the end, the window aligned to the last used
 * frame, or for clips of at most T used frames the one padded window. */
#include "models/classifier_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/frame_stream.h"
#include "core/error.h"

struct amt_cls_stream {
    amt_cls_infer *r;
    const amt_classifier *m;
    amt_mel_cfg mc;
    double rate;
    int pass;                  /* 1 or 2 */
    amt_frame_stream *fs;
    float top;                 /* loudest compressed value of pass 1 */
    long n1, nf1;              /* samples and frames of pass 1 */
    int T, nm;
    long step, ring_n;         /* ring of ring_n = T + 1 frames */
    float *ring, *frame, *win; /* ring_n x nm; one frame; one window T x nm */
    long regular;              /* regular windows run so far */
};

static amt_frame_stream *new_pass(amt_cls_stream *s, amt_frame_fn fn)
{
    const amt_classifier_config *c = &s->m->cfg;
    long min_len = lround(c->window_s * c->rate);   /* shorter clips: zero-padded to one window */
    return amt_frame_stream_new(s->rate, s->mc.rate, s->mc.n_fft, s->mc.hop, s->mc.center, min_len, fn, s);
}

/* pass 1: the loudest value after compression */
static int on_frame1(void *ctx, const float *x, long len, long f_local, long f)
{
    amt_cls_stream *s = ctx;
    (void)f;
    amt_melspec_frame(amt_cls_infer_mel(s->r), x, len, f_local, s->frame);
    s->top = amt_mel_compress_raw(&s->mc, s->frame, s->nm, s->top);
    return AMT_OK;
}

/* Copies frames t0 .. t0 + n - 1 of the ring into s->win. */
static void gather(amt_cls_stream *s, long t0, long n)
{
    for (long t = t0; t < t0 + n; t++)
        memcpy(s->win + (size_t)(t - t0) * s->nm, s->ring + (size_t)(t % s->ring_n) * s->nm, sizeof(float) * s->nm);
}

/* pass 2: the compressed, floored frame into the ring; a completed regular window runs */
static int on_frame2(void *ctx, const float *x, long len, long f_local, long f)
{
    amt_cls_stream *s = ctx;
    float *o = s->ring + (size_t)(f % s->ring_n) * s->nm;
    amt_melspec_frame(amt_cls_infer_mel(s->r), x, len, f_local, o);
    amt_mel_compress_raw(&s->mc, o, s->nm, s->top);
    amt_mel_floor(&s->mc, o, s->nm, s->top);
    long start = s->regular * s->step;
    if (f == start + s->T) {
        gather(s, start, s->T);
        s->regular++;
        return amt_cls_infer_window(s->r, s->win);
    }
    return AMT_OK;
}

void amt_cls_stream_del(amt_cls_stream *s)
{
    if (!s) return;
    amt_frame_stream_del(s->fs);
    free(s->ring);
    free(s->frame);
    free(s->win);
    free(s);
}

amt_cls_stream *amt_cls_stream_new(amt_cls_infer *r, double rate)
{
    if (!r) { amt_error(AMT_EINVAL, "classifier stream: no runner"); return NULL; }
    amt_cls_stream *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "classifier stream: out of memory"); return NULL; }
    s->r = r;
    s->m = amt_cls_infer_model(r);
    s->mc = amt_classifier_mel_cfg(&s->m->cfg);
    s->rate = rate;
    s->pass = 1;
    s->top = -INFINITY;
    s->T = s->m->cfg.frames;
    s->nm = s->m->cfg.n_mels;
    s->step = amt_cls_infer_step(r);
    s->ring_n = s->T + 1;
    s->ring = malloc(sizeof(float) * (size_t)s->ring_n * s->nm);
    s->frame = malloc(sizeof(float) * (size_t)s->nm);
    s->win = malloc(sizeof(float) * (size_t)s->T * s->nm);
    if (!s->ring || !s->frame || !s->win) {
        amt_error(AMT_ENOMEM, "classifier stream: out of memory");
        amt_cls_stream_del(s);
        return NULL;
    }
    if (!(s->fs = new_pass(s, on_frame1))) {
        amt_cls_stream_del(s);
        return NULL;
    }
    return s;
}

int amt_cls_stream_feed(amt_cls_stream *s, const float *x, long n)
{
    if (!s) return amt_error(AMT_EINVAL, "classifier stream: no stream");
    return amt_frame_stream_feed(s->fs, x, n);
}

int amt_cls_stream_next_pass(amt_cls_stream *s)
{
    if (!s || s->pass != 1) return amt_error(AMT_EINVAL, "classifier stream: not in pass 1");
    int rc = amt_frame_stream_finish(s->fs);
    if (rc) return rc;
    s->n1 = amt_frame_stream_samples(s->fs);
    s->nf1 = amt_frame_stream_frames(s->fs);
    if (s->n1 < 1) return amt_error(AMT_EINVAL, "classifier: %ld audio samples (need at least 1)", s->n1);
    amt_frame_stream_del(s->fs);
    s->pass = 2;
    s->regular = 0;
    if (!(s->fs = new_pass(s, on_frame2))) return amt_errcode();
    amt_cls_infer_begin(s->r, NULL);
    return AMT_OK;
}

int amt_cls_stream_finish(amt_cls_stream *s, amt_cls_result *res)
{
    if (!s || s->pass != 2) return amt_error(AMT_EINVAL, "classifier stream: not in pass 2");
    s->pass = 3;
    int rc = amt_frame_stream_finish(s->fs);
    if (rc) return rc;
    const long nf = amt_frame_stream_frames(s->fs), T = s->T;
    if (amt_frame_stream_samples(s->fs) != s->n1 || nf != s->nf1)
        return amt_error(AMT_EINVAL, "classifier stream: pass 2 saw %ld samples, pass 1 %ld",
                         amt_frame_stream_samples(s->fs), s->n1);
    const long use = amt_classifier_used_frames(s->m, nf);
    if (use <= T) {   /* one window; fewer frames than T: padded with the quietest value */
        float lo = INFINITY;
        gather(s, 0, use);
        for (long i = 0; i < use * s->nm; i++) if (s->win[i] < lo) lo = s->win[i];
        for (long i = use * s->nm; i < T * s->nm; i++) s->win[i] = lo;
        if (s->regular == 0 && (rc = amt_cls_infer_window(s->r, s->win))) return rc;
    } else if ((s->regular - 1) * s->step + T < use) {   /* one more, aligned to the end */
        gather(s, use - T, T);
        if ((rc = amt_cls_infer_window(s->r, s->win))) return rc;
    }
    return amt_cls_infer_end(s->r, res);
}
