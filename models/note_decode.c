/* models/note_decode.c: see note_decode.h. */
#include "note_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "eval/transcription.h"

/* default threshold grid: 0.01 .. 0.04 step 0.01 (under-confident heads, e.g. an onset
 * head on quiet audio), then 0.05 .. 0.95 step 0.05 */
#define DEFAULT_GRID_FINE 4
#define DEFAULT_GRID_N (DEFAULT_GRID_FINE + 19)

void amt_decode_opts_default(amt_decode_opts *o)
{
    o->fps = 100.0;
    o->onset_threshold = 0.5f;
    o->frame_threshold = 0.5f;
    o->min_note_ms = 30.0;
    o->min_pitch = 21;
    o->max_pitch = 108;
    o->lowest_pitch = 21;
    o->keys = 88;
    o->onset_support = 2;
    o->gap_frames = 0;
}

int amt_decode_opts_check(const amt_decode_opts *o)
{
    if (!o) return amt_error(AMT_EINVAL, "note decode: no options");
    if (!(o->fps > 0) || !isfinite(o->fps)) return amt_error(AMT_EINVAL, "note decode: fps %g must be > 0", o->fps);
    if (!(o->onset_threshold > 0 && o->onset_threshold <= 1))
        return amt_error(AMT_EINVAL, "note decode: onset_threshold %g must be in (0, 1]", o->onset_threshold);
    if (!(o->frame_threshold > 0 && o->frame_threshold <= 1))
        return amt_error(AMT_EINVAL, "note decode: frame_threshold %g must be in (0, 1]", o->frame_threshold);
    if (!(o->min_note_ms >= 0) || !isfinite(o->min_note_ms))
        return amt_error(AMT_EINVAL, "note decode: min_note_ms %g must be >= 0", o->min_note_ms);
    if (o->min_pitch < 0 || o->max_pitch > 127 || o->min_pitch > o->max_pitch)
        return amt_error(AMT_EINVAL, "note decode: pitch range %d..%d must be within 0..127 with min <= max",
                         o->min_pitch, o->max_pitch);
    if (o->keys < 1 || o->lowest_pitch < 0 || o->lowest_pitch + o->keys > 128)
        return amt_error(AMT_EINVAL, "note decode: %d keys from pitch %d exceed 0..127", o->keys, o->lowest_pitch);
    if (o->onset_support < -1) return amt_error(AMT_EINVAL, "note decode: onset_support %d must be >= -1", o->onset_support);
    if (o->gap_frames < 0) return amt_error(AMT_EINVAL, "note decode: gap_frames %d must be >= 0", o->gap_frames);
    return AMT_OK;
}

/* column k, frame t of a (n_frames x keys) roll */
#define AT(p, t, k) ((p)[(size_t)(t) * keys + (k)])

static int is_peak(const float *on, long n, int keys, long t, int k, float thr)
{
    float v = AT(on, t, k);
    if (!(v >= thr)) return 0;
    if (t > 0 && !(v > AT(on, t - 1, k))) return 0;
    if (t + 1 < n && !(v >= AT(on, t + 1, k))) return 0;
    return 1;
}

static int supported(const float *on, long n, int keys, long t, int k, const amt_decode_opts *o)
{
    if (!on) return 1;
    if (o->onset_support < 0) return 0;
    float thr = o->onset_threshold * AMT_DECODE_SUPPORT_RATIO;
    for (long u = t - o->onset_support; u <= t + o->onset_support; u++)
        if (u >= 0 && u < n && AT(on, u, k) >= thr) return 1;
    return 0;
}

static int emit(amt_notes *out, const float *fr, const float *vel, int keys, long t0, long t1, int k,
                const amt_decode_opts *o)
{
    if ((double)(t1 - t0) / o->fps * 1000.0 < o->min_note_ms) return AMT_OK;
    double s = 0;
    for (long t = t0; t < t1; t++) s += AT(fr, t, k);
    amt_note nt = amt_note_make((double)t0 / o->fps, (double)t1 / o->fps, o->lowest_pitch + k);
    nt.program = 0;
    nt.confidence = (float)(s / (double)(t1 - t0));
    if (vel) {
        double v = floor((double)AT(vel, t0, k) * 127.0 + 0.5);
        if (!(v >= 1)) v = 1;   /* also NaN */
        if (v > 127) v = 127;
        nt.velocity = (int)v;
    }
    return amt_notes_push(out, &nt);
}

int amt_note_decode(const float *frame, const float *onset, const float *velocity, long n_frames,
                    const amt_decode_opts *o, amt_notes *out)
{
    int rc = amt_decode_opts_check(o);
    if (rc) return rc;
    if (n_frames < 0 || (!frame && n_frames > 0)) return amt_error(AMT_EINVAL, "note decode: bad rolls (%ld frames)", n_frames);
    amt_notes_clear(out);
    const int keys = o->keys;
    const float fthr = o->frame_threshold, othr = o->onset_threshold;
    for (int k = 0; k < keys; k++) {
        int pitch = o->lowest_pitch + k;
        if (pitch < o->min_pitch || pitch > o->max_pitch) continue;
        int active = 0, in_run = 0;
        long t0 = 0;
        for (long t = 0; t < n_frames; t++) {
            float f = AT(frame, t, k);
            if (onset && is_peak(onset, n_frames, keys, t, k, othr)) {
                if (active && (rc = emit(out, frame, velocity, keys, t0, t, k, o))) return rc;
                active = 1; in_run = 1; t0 = t;
                continue;
            }
            if (active) {
                if (in_run && !(AT(onset, t, k) >= othr)) in_run = 0;
                if (f >= fthr || in_run) continue;
                int bridged = 0;   /* a short dip: the frame head comes back within gap_frames */
                for (long u = t + 1; u <= t + o->gap_frames && u < n_frames && !bridged; u++)
                    bridged = AT(frame, u, k) >= fthr;
                if (bridged) continue;
                if ((rc = emit(out, frame, velocity, keys, t0, t, k, o))) return rc;
                active = 0;
            }
            /* not sounding (possibly just ended): a frame rise may start a note */
            int rise = f >= fthr && (t == 0 || !(AT(frame, t - 1, k) >= fthr));
            if (rise && supported(onset, n_frames, keys, t, k, o)) {
                active = 1; in_run = 0; t0 = t;
            }
        }
        if (active && (rc = emit(out, frame, velocity, keys, t0, n_frames, k, o))) return rc;
    }
    amt_notes_sort(out);
    return AMT_OK;
}

int amt_note_decode_frames(const float *frame, long n_frames, const amt_decode_opts *o, amt_notes *out)
{
    int rc = amt_decode_opts_check(o);
    if (rc) return rc;
    if (n_frames < 0 || (!frame && n_frames > 0)) return amt_error(AMT_EINVAL, "note decode: bad roll (%ld frames)", n_frames);
    amt_notes_clear(out);
    const int keys = o->keys;
    for (int k = 0; k < keys; k++) {
        int pitch = o->lowest_pitch + k;
        if (pitch < o->min_pitch || pitch > o->max_pitch) continue;
        long t0 = -1;
        for (long t = 0; t <= n_frames; t++) {
            int on = t < n_frames && AT(frame, t, k) >= o->frame_threshold;
            if (on && t0 < 0) t0 = t;
            if (!on && t0 >= 0) {
                amt_note nt = amt_note_make((double)t0 / o->fps, (double)t / o->fps, pitch);
                nt.program = 0;
                if ((rc = amt_notes_push(out, &nt))) return rc;
                t0 = -1;
            }
        }
    }
    amt_notes_sort(out);
    return AMT_OK;
}

static double f1_of(long match, long n_ref, long n_est)
{
    if (n_ref == 0 || n_est == 0 || match == 0) return 0;
    double p = (double)match / n_est, r = (double)match / n_ref;
    return 2 * p * r / (p + r);
}

/* Note counts of every item at options d (items in parallel; summed in item order by the
 * caller): onset matches, n_ref, n_est, with-offset matches. An error names the first failing
 * item; the message is recorded on the calling thread (amt_error is per thread). */
#define TUNE_CNT 4
static int tune_counts(const amt_decode_item *items, int n_items, const amt_decode_opts *d,
                       const amt_note_metric_opts *mo, const amt_note_metric_opts *mo_off,
                       long *cnt /* TUNE_CNT per item */)
{
    int rc = AMT_OK, bad = n_items;
    char msg[256] = "";
    #pragma omp parallel
    {
        amt_notes est;
        amt_notes_init(&est);
        #pragma omp for schedule(static)
        for (int it = 0; it < n_items; it++) {
            const amt_decode_item *x = &items[it];
            amt_note_scores ns, ns_off;
            int r = amt_note_decode(x->frame, x->onset, x->velocity, x->n_frames, d, &est);
            if (!r) r = amt_transcription_note_scores(x->ref, &est, mo, &ns);
            if (!r) r = amt_transcription_note_scores(x->ref, &est, mo_off, &ns_off);
            if (r) {
                #pragma omp critical(amt_tune_error)
                if (it < bad) { bad = it; rc = r; snprintf(msg, sizeof msg, "%s", amt_errmsg()); }
                continue;
            }
            long *c = cnt + (size_t)TUNE_CNT * it;
            c[0] = ns.n_match; c[1] = ns.n_ref; c[2] = ns.n_est; c[3] = ns_off.n_match;
        }
        amt_notes_free(&est);
    }
    if (rc) return amt_error(rc, "threshold tuning: item %d: %s", bad, msg);
    return AMT_OK;
}

int amt_decode_tune(const amt_decode_item *items, int n_items, const amt_decode_opts *o,
                    const float *onset_grid, int n_onset, const float *frame_grid, int n_frame,
                    amt_tune_result *out)
{
    float def_grid[DEFAULT_GRID_N];
    for (int i = 0; i < DEFAULT_GRID_N; i++)
        def_grid[i] = i < DEFAULT_GRID_FINE ? 0.01f * (float)(i + 1) : 0.05f * (float)(i - DEFAULT_GRID_FINE + 1);
    if (!onset_grid) { onset_grid = def_grid; n_onset = DEFAULT_GRID_N; }
    if (!frame_grid) { frame_grid = def_grid; n_frame = DEFAULT_GRID_N; }
    if (n_items < 1 || !items) return amt_error(AMT_EINVAL, "threshold tuning: no validation items");
    if (n_onset < 1 || n_frame < 1) return amt_error(AMT_EINVAL, "threshold tuning: empty threshold grid");
    int rc = amt_decode_opts_check(o);
    if (rc) return rc;
    amt_note_metric_opts mo, mo_off;
    amt_note_metric_defaults(&mo);
    amt_note_metric_defaults(&mo_off);   /* with offsets (mir_eval defaults) */
    mo.offset_ratio = -1;   /* onsets only */
    const size_t n_pairs = (size_t)n_onset * n_frame;
    long *cnt = calloc((size_t)n_items * TUNE_CNT, sizeof *cnt);
    double *sc = malloc(sizeof(double) * 3 * n_pairs);   /* per pair: onset F1, offset F1, frame F1 */
    if (!cnt || !sc) { free(cnt); free(sc); return amt_error(AMT_ENOMEM, "threshold tuning: out of memory"); }
    amt_notes est;
    amt_notes_init(&est);
    amt_decode_opts d = *o;
    double top_note = 0;
    for (int j = 0; j < n_frame && !rc; j++) {
        d.frame_threshold = frame_grid[j];
        /* frame F1 depends on the frame threshold only */
        amt_frame_scores tot = {0};
        for (int it = 0; it < n_items && !rc; it++) {
            amt_frame_scores fs;
            if ((rc = amt_note_decode_frames(items[it].frame, items[it].n_frames, &d, &est)) ||
                (rc = amt_transcription_frame_scores(items[it].ref, &est, d.fps, &fs))) {
                char msg[256];
                snprintf(msg, sizeof msg, "%s", amt_errmsg());
                rc = amt_error(rc, "threshold tuning: item %d: %s", it, msg);
                break;
            }
            tot.tp += fs.tp; tot.fp += fs.fp; tot.fn += fs.fn;
        }
        if (rc) break;
        amt_frame_scores_from(&tot);
        for (int i = 0; i < n_onset && !rc; i++) {
            d.onset_threshold = onset_grid[i];
            if ((rc = amt_decode_opts_check(&d)) || (rc = tune_counts(items, n_items, &d, &mo, &mo_off, cnt))) break;
            long match = 0, n_ref = 0, n_est = 0, match_off = 0;
            for (int it = 0; it < n_items; it++) {
                const long *c = cnt + (size_t)TUNE_CNT * it;
                match += c[0]; n_ref += c[1]; n_est += c[2]; match_off += c[3];
            }
            double *q = sc + 3 * ((size_t)j * n_onset + i);
            q[0] = f1_of(match, n_ref, n_est);
            q[1] = f1_of(match_off, n_ref, n_est);
            q[2] = tot.f1;
            if (q[0] > top_note) top_note = q[0];
        }
    }
    amt_notes_free(&est);
    free(cnt);
    if (rc) { free(sc); return rc; }
    /* among the pairs within AMT_DECODE_TUNE_SLACK of the best onset F1: the best offset F1,
     * then the best frame F1, then the earliest in grid order */
    size_t best = n_pairs;
    for (size_t k = 0; k < n_pairs; k++) {
        const double *q = sc + 3 * k;
        if (q[0] < top_note - AMT_DECODE_TUNE_SLACK) continue;
        if (best == n_pairs || q[1] > sc[3 * best + 1] || (q[1] == sc[3 * best + 1] && q[2] > sc[3 * best + 2])) best = k;
    }
    const double *q = sc + 3 * best;
    float best_on = onset_grid[best % (size_t)n_onset], best_fr = frame_grid[best / (size_t)n_onset];
    double best_note = q[0], best_off = q[1], best_frame = q[2];
    free(sc);
    out->onset_threshold = best_on;
    out->frame_threshold = best_fr;
    out->note_f1 = best_note;
    out->offset_f1 = best_off;
    out->frame_f1 = best_frame;
    return AMT_OK;
}
