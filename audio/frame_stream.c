/* audio/frame_stream.c: see frame_stream.h. The buffer holds samples [s0, s0 + slen) of
 * the resampled signal, s0 a multiple of hop; frames next_f .. are still to come. */
#include "audio/frame_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/resample.h"
#include "core/error.h"

#define FSTREAM_IN_PIECE 4096   /* input samples resampled per call */

struct amt_frame_stream {
    amt_frame_fn fn;
    void *ctx;
    amt_resampler *rs;          /* NULL when in_rate == rate */
    int n_fft, hop, pad, center;
    long min_len;
    float *sig, *rs_out, *zeros;
    long sig_cap, rs_cap, s0, slen, n_in, n_res, next_f;
    int finished;
};

static long frames_of(int n_fft, int hop, int center, long len)
{
    if (center) return 1 + len / hop;
    return len < n_fft ? 0 : 1 + (len - n_fft) / hop;
}

long amt_frame_stream_count(double in_rate, int rate, int n_fft, int hop, int center, long len)
{
    long n = in_rate == (double)rate ? len : amt_resample_len(in_rate, rate, len);
    return frames_of(n_fft, hop, center, n);
}

void amt_frame_stream_del(amt_frame_stream *s)
{
    if (!s) return;
    amt_resampler_del(s->rs);
    free(s->sig);
    free(s->rs_out);
    free(s->zeros);
    free(s);
}

amt_frame_stream *amt_frame_stream_new(double in_rate, int rate, int n_fft, int hop, int center, long min_len,
                                       amt_frame_fn fn, void *ctx)
{
    if (!(in_rate > 0) || !isfinite(in_rate) || rate <= 0) {
        amt_error(AMT_EINVAL, "sample rate %g Hz must be > 0", in_rate);
        return NULL;
    }
    if (n_fft < 1 || hop < 1 || !fn) {
        amt_error(AMT_EINVAL, "frame stream: n_fft %d, hop %d", n_fft, hop);
        return NULL;
    }
    amt_frame_stream *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "frame stream: out of memory"); return NULL; }
    s->fn = fn;
    s->ctx = ctx;
    s->n_fft = n_fft;
    s->hop = hop;
    s->center = center != 0;
    s->pad = center ? n_fft / 2 : 0;
    s->min_len = min_len > 0 ? min_len : 0;
    s->sig_cap = (long)n_fft + (long)AMT_FSTREAM_HOPS * hop;
    s->sig = malloc(sizeof(float) * (size_t)s->sig_cap);
    s->zeros = calloc(FSTREAM_IN_PIECE, sizeof(float));
    int ok = s->sig && s->zeros;
    if (ok && in_rate != (double)rate) {
        s->rs = amt_resampler_new(in_rate, rate, 1);
        s->rs_cap = s->rs ? amt_resampler_max_out(s->rs, FSTREAM_IN_PIECE) : 0;
        s->rs_out = s->rs ? malloc(sizeof(float) * (size_t)(s->rs_cap > 0 ? s->rs_cap : 1)) : NULL;
        ok = s->rs && s->rs_out;
    }
    if (!ok) {
        if (!amt_errcode()) amt_error(AMT_ENOMEM, "frame stream: out of memory");
        amt_frame_stream_del(s);
        return NULL;
    }
    return s;
}

/* Hands out every frame whose window is here (final: up to the last frame), then drops
 * the samples no later frame reads. */
static int pump(amt_frame_stream *s, int final)
{
    const long n_frames = final ? frames_of(s->n_fft, s->hop, s->center, s->n_res) : -1;
    for (;;) {
        const long f = s->next_f;
        if (final ? f >= n_frames : f * s->hop - s->pad + s->n_fft > s->s0 + s->slen) break;
        int rc = s->fn(s->ctx, s->sig, s->slen, f - s->s0 / s->hop, f);
        if (rc) return rc;
        s->next_f++;
    }
    long keep_from = (s->next_f * s->hop - s->pad) / s->hop * s->hop;   /* a multiple of hop */
    if (keep_from > s->s0) {
        long drop = keep_from - s->s0 < s->slen ? keep_from - s->s0 : s->slen;
        memmove(s->sig, s->sig + drop, sizeof(float) * (size_t)(s->slen - drop));
        s->s0 += drop;
        s->slen -= drop;
    }
    return AMT_OK;
}

/* Appends samples at the analysis rate, handing out frames whenever the buffer fills. */
static int push(amt_frame_stream *s, const float *x, long n)
{
    while (n > 0) {
        long k = s->sig_cap - s->slen < n ? s->sig_cap - s->slen : n;
        if (k <= 0) return amt_error(AMT_EINVAL, "frame stream: sample buffer full");
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

int amt_frame_stream_feed(amt_frame_stream *s, const float *x, long n)
{
    if (!s || n < 0 || (n > 0 && !x)) return amt_error(AMT_EINVAL, "frame stream: bad block (%ld samples)", n);
    if (s->finished) return amt_error(AMT_EINVAL, "frame stream: fed after finish");
    for (long i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return amt_error(AMT_EINVAL, "sample %ld is %s", s->n_in + i, isnan(x[i]) ? "NaN" : "infinite");
    for (long i = 0; i < n;) {
        long k = n - i < FSTREAM_IN_PIECE ? n - i : FSTREAM_IN_PIECE;
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

int amt_frame_stream_finish(amt_frame_stream *s)
{
    if (!s) return amt_error(AMT_EINVAL, "frame stream: no stream");
    if (s->finished) return amt_error(AMT_EINVAL, "frame stream: finished twice");
    s->finished = 1;
    if (s->rs)
        for (long w; (w = amt_resampler_flush(s->rs, s->rs_out, s->rs_cap)) != 0;) {
            if (w < 0) return (int)w;
            int rc = push(s, s->rs_out, w);
            if (rc) return rc;
        }
    while (s->n_res < s->min_len) {   /* zero padding to the minimum length */
        long k = s->min_len - s->n_res < FSTREAM_IN_PIECE ? s->min_len - s->n_res : FSTREAM_IN_PIECE;
        int rc = push(s, s->zeros, k);
        if (rc) return rc;
    }
    return pump(s, 1);
}

long amt_frame_stream_samples(const amt_frame_stream *s) { return s ? s->n_in : 0; }
long amt_frame_stream_frames(const amt_frame_stream *s) { return s ? s->next_f : 0; }
