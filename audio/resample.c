/* audio/resample.c: libsoxr wrapper (see resample.h). */
#include "audio/resample.h"

#include <math.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define AMT_SOXR_QUALITY SOXR_HQ

struct amt_resampler {
    soxr_t sx;
    int channels;
    double ratio;          /* out_rate / in_rate */
    long total_in, total_out;
    int flushing;
};

long amt_resample_len(double in_rate, double out_rate, long in_frames)
{
    if (in_frames <= 0 || in_rate <= 0) return 0;
    return (long)floor((double)in_frames * out_rate / in_rate + 0.5);
}

amt_resampler *amt_resampler_new(double in_rate, double out_rate, int channels)
{
    if (!(in_rate > 0) || !(out_rate > 0) || channels < 1 || channels > 256) {
        amt_error(AMT_EINVAL, "resample: bad rates %g -> %g Hz or channels %d", in_rate, out_rate, channels);
        return NULL;
    }
    amt_resampler *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "resample: out of memory"); return NULL; }
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(AMT_SOXR_QUALITY, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    soxr_error_t err = NULL;
    r->sx = soxr_create(in_rate, out_rate, (unsigned)channels, &err, &io, &q, &rt);
    if (!r->sx || err) {
        amt_error(AMT_EINTERNAL, "resample: soxr_create %g -> %g Hz failed: %s", in_rate, out_rate, err ? err : "?");
        if (r->sx) soxr_delete(r->sx);
        free(r);
        return NULL;
    }
    r->channels = channels;
    r->ratio = out_rate / in_rate;
    return r;
}

void amt_resampler_del(amt_resampler *r)
{
    if (!r) return;
    soxr_delete(r->sx);
    free(r);
}

long amt_resampler_max_out(const amt_resampler *r, long in_frames)
{
    long reach = (long)ceil((double)(r->total_in + in_frames) * r->ratio) - r->total_out + 2;
    return reach > 0 ? reach : 2;
}

long amt_resampler_process(amt_resampler *r, const float *in, long in_frames, long *used, float *out, long out_cap)
{
    if (used) *used = 0;
    if (!r || in_frames < 0 || out_cap < 0 || (!in && in_frames > 0) || (!out && out_cap > 0))
        return amt_error(AMT_EINVAL, "resample: bad arguments");
    if (r->flushing) return amt_error(AMT_EINVAL, "resample: process after flush");
    long in_done = 0, out_done = 0;
    while (in_done < in_frames && out_done < out_cap) {
        size_t idone = 0, odone = 0;
        soxr_error_t err = soxr_process(r->sx, in + (size_t)in_done * r->channels, (size_t)(in_frames - in_done), &idone,
                                        out + (size_t)out_done * r->channels, (size_t)(out_cap - out_done), &odone);
        if (err) return amt_error(AMT_EINTERNAL, "resample: soxr_process: %s", err);
        in_done += (long)idone;
        out_done += (long)odone;
        if (idone == 0 && odone == 0) break;
    }
    r->total_in += in_done;
    r->total_out += out_done;
    if (used) *used = in_done;
    return out_done;
}

long amt_resampler_flush(amt_resampler *r, float *out, long out_cap)
{
    if (!r || out_cap < 0 || (!out && out_cap > 0)) return amt_error(AMT_EINVAL, "resample: bad arguments");
    r->flushing = 1;
    long target = (long)floor((double)r->total_in * r->ratio + 0.5);
    long want = target - r->total_out;
    if (want > out_cap) want = out_cap;
    if (want <= 0) return 0;
    long out_done = 0;
    while (out_done < want) {
        size_t odone = 0;
        soxr_error_t err = soxr_process(r->sx, NULL, 0, NULL, out + (size_t)out_done * r->channels,
                                        (size_t)(want - out_done), &odone);
        if (err) return amt_error(AMT_EINTERNAL, "resample: soxr_process (flush): %s", err);
        if (odone == 0) break;
        out_done += (long)odone;
    }
    if (out_done < want) {   /* soxr ended short of the rounded length: pad with zeros */
        memset(out + (size_t)out_done * r->channels, 0, sizeof(float) * (size_t)(want - out_done) * r->channels);
        out_done = want;
    }
    r->total_out += out_done;
    return out_done;
}

int amt_resample(const float *in, long in_frames, int channels, double in_rate, double out_rate,
                 float **out, long *out_frames)
{
    *out = NULL;
    *out_frames = 0;
    if (in_frames < 0 || channels < 1 || (!in && in_frames > 0))
        return amt_error(AMT_EINVAL, "resample: bad arguments (frames %ld, channels %d)", in_frames, channels);
    long n = in_rate == out_rate ? in_frames : amt_resample_len(in_rate, out_rate, in_frames);
    float *o = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1) * channels);
    if (!o) return amt_error(AMT_ENOMEM, "resample: out of memory for %ld frames", n);
    if (in_rate == out_rate) {
        if (n) memcpy(o, in, sizeof(float) * (size_t)n * channels);
        *out = o; *out_frames = n;
        return AMT_OK;
    }
    amt_resampler *r = amt_resampler_new(in_rate, out_rate, channels);
    if (!r) { free(o); return amt_errcode(); }
    long got = 0, used = 0;
    long k = amt_resampler_process(r, in, in_frames, &used, o, n);
    if (k >= 0) {
        got += k;
        /* output space may have run out before all input was used: soxr keeps the rest */
        while (k >= 0 && used < in_frames && got < n) {
            long u = 0;
            k = amt_resampler_process(r, in + (size_t)used * channels, in_frames - used, &u, o + (size_t)got * channels, n - got);
            if (k > 0) got += k;
            used += u;
            if (k == 0 && u == 0) break;
        }
    }
    while (k >= 0 && got < n) {
        k = amt_resampler_flush(r, o + (size_t)got * channels, n - got);
        if (k <= 0) break;
        got += k;
    }
    amt_resampler_del(r);
    if (k < 0) { free(o); return (int)k; }
    *out = o;
    *out_frames = got;
    return AMT_OK;
}
