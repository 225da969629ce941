/* audio/pianoroll.c: notes <-> piano roll (see pianoroll.h for the frame convention). */
#include "pianoroll.h"

#include "core/error.h"

#include <math.h>
#include <string.h>

long amt_time_to_frame_ceil(double x, double rate)
{
    if (!(x > 0)) return 0;
    double g = ceil(x * rate);
    if (g > 2e9) return 2000000000L;
    long t = (long)g;
    /* fix the product's rounding so that the result agrees with t / rate >= x */
    while (t > 0 && (double)(t - 1) / rate >= x) t--;
    while ((double)t / rate < x) t++;
    return t;
}

int amt_roll_frames(const amt_notes *ns, double rate)
{
    long n = 0;
    for (int i = 0; i < ns->n; i++) {
        long e = amt_time_to_frame_ceil(ns->v[i].offset, rate);   /* frames t < offset * rate */
        if (e > n) n = e;
    }
    return n > 2000000000L ? 2000000000 : (int)n;
}

int amt_notes_to_roll_range(const amt_notes *ns, double rate, int frames, int lo, int nkeys,
                            float *roll, float *onsets)
{
    if (!(rate > 0) || frames < 0 || nkeys <= 0)
        return amt_error(AMT_EINVAL, "piano roll: bad rate %g, frames %d or keys %d", rate, frames, nkeys);
    if (frames == 0) return AMT_OK;
    memset(roll, 0, (size_t)frames * (size_t)nkeys * sizeof *roll);
    if (onsets) memset(onsets, 0, (size_t)frames * (size_t)nkeys * sizeof *onsets);
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        int k = n->pitch - lo;
        if (k < 0 || k >= nkeys) continue;
        long t0 = amt_time_to_frame_ceil(n->onset, rate), t1 = amt_time_to_frame_ceil(n->offset, rate);
        if (t1 > frames) t1 = frames;
        for (long t = t0; t < t1; t++) roll[(size_t)t * (size_t)nkeys + (size_t)k] = 1.0f;
        if (onsets && t0 < frames) onsets[(size_t)t0 * (size_t)nkeys + (size_t)k] = 1.0f;
    }
    return AMT_OK;
}

int amt_notes_to_roll(const amt_notes *ns, double rate, int frames, float *roll, float *onsets)
{
    return amt_notes_to_roll_range(ns, rate, frames, AMT_PIANO_LOWEST, AMT_PIANO_KEYS, roll, onsets);
}

int amt_roll_to_notes(const float *roll, int frames, int lo, int nkeys, double rate, float threshold,
                      amt_notes *out)
{
    if (!(rate > 0) || frames < 0 || nkeys <= 0)
        return amt_error(AMT_EINVAL, "piano roll: bad rate %g, frames %d or keys %d", rate, frames, nkeys);
    for (int k = 0; k < nkeys; k++) {
        int t = 0;
        while (t < frames) {
            if (!(roll[(size_t)t * (size_t)nkeys + (size_t)k] >= threshold)) { t++; continue; }
            int t0 = t;
            double sum = 0;
            while (t < frames && roll[(size_t)t * (size_t)nkeys + (size_t)k] >= threshold)
                sum += roll[(size_t)t++ * (size_t)nkeys + (size_t)k];
            amt_note n = amt_note_make(t0 / rate, t / rate, lo + k);
            n.confidence = (float)(sum / (t - t0));
            if (n.confidence > 1) n.confidence = 1;
            int rc = amt_notes_push(out, &n);
            if (rc) return rc;
        }
    }
    amt_notes_sort(out);
    return AMT_OK;
}
