/* models/note_decode.c: see note_decode.h. */
#include "note_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    o->sustain_threshold = 0;
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
    if (!(o->sustain_threshold == 0 || (o->sustain_threshold > 0 && o->sustain_threshold <= o->frame_threshold)))
        return amt_error(AMT_EINVAL, "note decode: sustain_threshold %g must be 0 (off) or in (0, frame_threshold %g]",
                         o->sustain_threshold, o->frame_threshold);
    return AMT_OK;
}

/* ---- the decoder: per frame, every pitch (pitches are independent) ---- */

/* One pitch's state while scanning frames. */
typedef struct dec_pitch {
    int active, in_run;   /* a note is sounding; still inside its onset run */
    int confirmed;        /* its frame probability has reached frame_threshold */
    long t0;              /* its first frame */
    double sum;           /* sum of frame[t0 .. t] so far (its confidence) */
    float v0;             /* velocity[t0] */
} dec_pitch;

/* The rows around frame t: row(d) for d = -lb .. la is frame t + d (NULL outside the
 * rolls); onset rows NULL without an onset head. */
typedef struct dec_rows {
    const float **fr, **on;   /* lb + 1 + la pointers each, index d + lb */
    const float *ve;          /* velocity row t or NULL */
    int lb, la;
} dec_rows;

#define FR(rw, d) ((rw)->fr[(d) + (rw)->lb])
#define ON(rw, d) ((rw)->on[(d) + (rw)->lb])

static int dec_emit(amt_notes *out, const dec_pitch *s, long t1, int k, int has_vel, const amt_decode_opts *o)
{
    if ((double)(t1 - s->t0) / o->fps * 1000.0 < o->min_note_ms) return AMT_OK;
    amt_note nt = amt_note_make((double)s->t0 / o->fps, (double)t1 / o->fps, o->lowest_pitch + k);
    nt.program = 0;
    nt.confidence = (float)(s->sum / (double)(t1 - s->t0));
    if (has_vel) {
        double v = floor((double)s->v0 * 127.0 + 0.5);
        if (!(v >= 1)) v = 1;   /* also NaN */
        if (v > 127) v = 127;
        nt.velocity = (int)v;
    }
    return amt_notes_push(out, &nt);
}

/* A note of pitch column k starts at frame t, whose frame probability is f. */
static void dec_start(dec_pitch *s, long t, int in_run, int confirmed, float f, const dec_rows *rw, int k)
{
    s->active = 1;
    s->in_run = in_run;
    s->confirmed = confirmed;
    s->t0 = t;
    s->sum = f;
    s->v0 = rw->ve ? rw->ve[k] : 0.0f;
}

/* Whether a frame rise at the current frame of pitch k has onset support (see note_decode.h). */
static int dec_supported(int k, const dec_rows *rw, const amt_decode_opts *o)
{
    if (!rw->on) return 1;
    if (o->onset_support < 0) return 0;
    const float thr = o->onset_threshold * AMT_DECODE_SUPPORT_RATIO;
    for (int d = -o->onset_support; d <= o->onset_support; d++)
        if (ON(rw, d) && ON(rw, d)[k] >= thr) return 1;
    return 0;
}

/* Frame t of pitch column k (see note_decode.h for the rules). */
static int dec_step(dec_pitch *s, long t, int k, const dec_rows *rw, const amt_decode_opts *o, amt_notes *out)
{
    const float fthr = o->frame_threshold, othr = o->onset_threshold;
    const float sthr = o->sustain_threshold > 0 ? o->sustain_threshold : fthr;
    const float f = FR(rw, 0)[k];
    const int has_on = rw->on != NULL, has_vel = rw->ve != NULL;
    int rc;
    if (has_on) {
        float v = ON(rw, 0)[k];
        int peak = v >= othr && (!ON(rw, -1) || v > ON(rw, -1)[k]) && (!ON(rw, 1) || v >= ON(rw, 1)[k]);
        if (peak) {
            if (s->active && (rc = dec_emit(out, s, t, k, has_vel, o))) return rc;
            dec_start(s, t, 1, f >= fthr, f, rw, k);
            return AMT_OK;
        }
    }
    if (s->active) {
        if (s->in_run && !(ON(rw, 0)[k] >= othr)) s->in_run = 0;
        if (f >= fthr) s->confirmed = 1;
        const int high = f >= fthr || s->in_run;
        int keep = high || (s->confirmed && f >= sthr);
        /* a short dip: the frame head comes back within gap_frames */
        const float back = s->confirmed ? sthr : fthr;
        for (int d = 1; !keep && d <= o->gap_frames && FR(rw, d); d++) keep = FR(rw, d)[k] >= back;
        if (keep) {
            s->sum += f;
            return AMT_OK;
        }
        if ((rc = dec_emit(out, s, t, k, has_vel, o))) return rc;
        s->active = 0;
    }
    /* not sounding (possibly just ended): a frame rise may start a note */
    int rise = f >= fthr && (!FR(rw, -1) || !(FR(rw, -1)[k] >= fthr));
    if (rise && dec_supported(k, rw, o)) dec_start(s, t, 0, 1, f, rw, k);
    return AMT_OK;
}

/* Frames of look-back and look-ahead the rules need. */
static int dec_lookback(const amt_decode_opts *o) { return o->onset_support > 1 ? o->onset_support : 1; }
static int dec_lookahead(const amt_decode_opts *o)
{
    int la = o->gap_frames > 1 ? o->gap_frames : 1;
    return o->onset_support > la ? o->onset_support : la;
}

struct amt_note_stream {
    amt_decode_opts o;
    int has_on, has_vel, lb, la;
    long W;                    /* rows of the rings (lb + 1 + la), or 0: the rolls are borrowed whole */
    float *fr, *on, *ve;       /* rings of W rows (owned), or the whole rolls (borrowed) */
    long n_in, t_next;         /* rows received; next frame to decode */
    dec_pitch st[128];
    const float **ptr;         /* 2 (lb + 1 + la) row pointers */
};

static const float *dec_row(const amt_note_stream *s, const float *base, long t, long n)
{
    if (!base || t < 0 || t >= n) return NULL;
    return base + (size_t)(s->W ? t % s->W : t) * s->o.keys;
}

/* Decodes frame t of every in-range pitch; n = frames known to exist (all of them once
 * the input has ended). */
static int dec_frame(amt_note_stream *s, long t, long n, amt_notes *out)
{
    const int span = s->lb + 1 + s->la;
    dec_rows rw = {s->ptr, s->has_on ? s->ptr + span : NULL, dec_row(s, s->ve, t, n), s->lb, s->la};
    for (int d = -s->lb; d <= s->la; d++) {
        rw.fr[d + s->lb] = dec_row(s, s->fr, t + d, n);
        if (rw.on) rw.on[d + s->lb] = dec_row(s, s->on, t + d, n);
    }
    for (int k = 0; k < s->o.keys; k++) {
        int pitch = s->o.lowest_pitch + k;
        if (pitch < s->o.min_pitch || pitch > s->o.max_pitch) continue;
        int rc = dec_step(&s->st[k], t, k, &rw, &s->o, out);
        if (rc) return rc;
    }
    return AMT_OK;
}

/* Ends the notes still sounding at frame n. */
static int dec_close(amt_note_stream *s, long n, amt_notes *out)
{
    for (int k = 0; k < s->o.keys; k++)
        if (s->st[k].active) {
            int rc = dec_emit(out, &s->st[k], n, k, s->has_vel, &s->o);
            if (rc) return rc;
            s->st[k].active = 0;
        }
    return AMT_OK;
}

static int dec_init(amt_note_stream *s, const amt_decode_opts *o, int has_on, int has_vel)
{
    memset(s, 0, sizeof *s);
    s->o = *o;
    s->has_on = has_on;
    s->has_vel = has_vel;
    s->lb = dec_lookback(o);
    s->la = dec_lookahead(o);
    s->ptr = malloc(sizeof *s->ptr * 2 * (size_t)(s->lb + 1 + s->la));
    return s->ptr ? AMT_OK : amt_error(AMT_ENOMEM, "note decode: out of memory");
}

int amt_note_decode(const float *frame, const float *onset, const float *velocity, long n_frames,
                    const amt_decode_opts *o, amt_notes *out)
{
    int rc = amt_decode_opts_check(o);
    if (rc) return rc;
    if (n_frames < 0 || (!frame && n_frames > 0)) return amt_error(AMT_EINVAL, "note decode: bad rolls (%ld frames)", n_frames);
    amt_notes_clear(out);
    amt_note_stream s;
    if ((rc = dec_init(&s, o, onset != NULL, velocity != NULL))) return rc;
    s.fr = (float *)frame;   /* borrowed, read only */
    s.on = (float *)onset;
    s.ve = (float *)velocity;
    for (long t = 0; t < n_frames && !rc; t++) rc = dec_frame(&s, t, n_frames, out);
    if (!rc) rc = dec_close(&s, n_frames, out);
    free(s.ptr);
    if (!rc) amt_notes_sort(out);
    return rc;
}

amt_note_stream *amt_note_stream_new(const amt_decode_opts *o, int has_onset, int has_velocity)
{
    if (amt_decode_opts_check(o)) return NULL;
    amt_note_stream *s = malloc(sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "note decode: out of memory"); return NULL; }
    if (dec_init(s, o, has_onset != 0, has_velocity != 0)) { free(s); return NULL; }
    s->W = s->lb + 1 + s->la;
    const size_t cells = (size_t)s->W * o->keys;
    s->fr = malloc(cells * sizeof(float));
    s->on = s->has_on ? malloc(cells * sizeof(float)) : NULL;
    s->ve = s->has_vel ? malloc(cells * sizeof(float)) : NULL;
    if (!s->fr || (s->has_on && !s->on) || (s->has_vel && !s->ve)) {
        amt_note_stream_del(s);
        amt_error(AMT_ENOMEM, "note decode: out of memory");
        return NULL;
    }
    return s;
}

void amt_note_stream_del(amt_note_stream *s)
{
    if (!s) return;
    if (s->W) { free(s->fr); free(s->on); free(s->ve); }
    free(s->ptr);
    free(s);
}

int amt_note_stream_feed(amt_note_stream *s, const float *frame, const float *onset, const float *velocity, long n,
                         amt_notes *out)
{
    if (!s || n < 0 || (n > 0 && (!frame || (s->has_on && !onset) || (s->has_vel && !velocity))))
        return amt_error(AMT_EINVAL, "note decode: bad rows (%ld)", n);
    const int keys = s->o.keys;
    const size_t bytes = (size_t)keys * sizeof(float);
    for (long i = 0; i < n; i++) {
        /* the slot of row n_in held row n_in - W, which frame t_next (>= n_in - la) no longer needs */
        const size_t slot = (size_t)(s->n_in % s->W) * keys;
        memcpy(s->fr + slot, frame + (size_t)i * keys, bytes);
        if (s->has_on) memcpy(s->on + slot, onset + (size_t)i * keys, bytes);
        if (s->has_vel) memcpy(s->ve + slot, velocity + (size_t)i * keys, bytes);
        s->n_in++;
        for (; s->t_next + s->la < s->n_in; s->t_next++) {
            int rc = dec_frame(s, s->t_next, s->n_in, out);
            if (rc) return rc;
        }
    }
    return AMT_OK;
}

int amt_note_stream_finish(amt_note_stream *s, amt_notes *out)
{
    if (!s) return amt_error(AMT_EINVAL, "note decode: no stream");
    for (; s->t_next < s->n_in; s->t_next++) {
        int rc = dec_frame(s, s->t_next, s->n_in, out);
        if (rc) return rc;
    }
    int rc = dec_close(s, s->n_in, out);
    if (!rc) amt_notes_sort(out);
    return rc;
}

long amt_note_stream_frames(const amt_note_stream *s) { return s ? s->n_in : 0; }

/* column k, frame t of a (n_frames x keys) roll */
#define AT(p, t, k) ((p)[(size_t)(t) * keys + (k)])

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

/* Counts of every item at options d (items in parallel; summed in item order by the
 * caller): onset matches, n_ref, n_est, with-offset matches, and the decoded notes' frame
 * tp, fp, fn. An error names the first failing item; the message is recorded on the
 * calling thread (amt_error is per thread). */
#define TUNE_CNT 7
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
            amt_frame_scores fs;
            int r = amt_note_decode(x->frame, x->onset, x->velocity, x->n_frames, d, &est);
            if (!r) r = amt_transcription_note_scores(x->ref, &est, mo, &ns);
            if (!r) r = amt_transcription_note_scores(x->ref, &est, mo_off, &ns_off);
            if (!r) r = amt_transcription_frame_scores(x->ref, &est, d->fps, &fs);
            if (r) {
                #pragma omp critical(amt_tune_error)
                if (it < bad) { bad = it; rc = r; snprintf(msg, sizeof msg, "%s", amt_errmsg()); }
                continue;
            }
            long *c = cnt + (size_t)TUNE_CNT * it;
            c[0] = ns.n_match; c[1] = ns.n_ref; c[2] = ns.n_est; c[3] = ns_off.n_match;
            c[4] = fs.tp; c[5] = fs.fp; c[6] = fs.fn;
        }
        amt_notes_free(&est);
    }
    if (rc) return amt_error(rc, "threshold tuning: item %d: %s", bad, msg);
    return AMT_OK;
}

/* Scores of one candidate: onset F1, offset F1, frame F1 into q[0..2]. */
static int tune_score(const amt_decode_item *items, int n_items, const amt_decode_opts *d,
                      const amt_note_metric_opts *mo, const amt_note_metric_opts *mo_off, long *cnt, double *q)
{
    int rc = amt_decode_opts_check(d);
    if (!rc) rc = tune_counts(items, n_items, d, mo, mo_off, cnt);
    if (rc) return rc;
    long t[TUNE_CNT] = {0};
    for (int it = 0; it < n_items; it++)
        for (int c = 0; c < TUNE_CNT; c++) t[c] += cnt[(size_t)TUNE_CNT * it + c];
    amt_frame_scores fs = {0};
    fs.tp = t[4]; fs.fp = t[5]; fs.fn = t[6];
    amt_frame_scores_from(&fs);
    q[0] = f1_of(t[0], t[1], t[2]);
    q[1] = f1_of(t[3], t[1], t[2]);
    q[2] = fs.f1;
    return AMT_OK;
}

/* The index of the best of n candidates' scores sc (3 each, see amt_decode_tune). */
static size_t tune_pick(const double *sc, size_t n, double top_note)
{
    size_t best = n;
    for (size_t k = 0; k < n; k++) {
        const double *q = sc + 3 * k;
        if (q[0] < top_note - AMT_DECODE_TUNE_SLACK) continue;
        if (best == n || q[1] > sc[3 * best + 1] || (q[1] == sc[3 * best + 1] && q[2] > sc[3 * best + 2])) best = k;
    }
    return best;
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
    amt_decode_opts d = *o;
    d.sustain_threshold = 0;
    int rc = amt_decode_opts_check(&d);
    if (rc) return rc;
    amt_note_metric_opts mo, mo_off;
    amt_note_metric_defaults(&mo);
    amt_note_metric_defaults(&mo_off);   /* with offsets (mir_eval defaults) */
    mo.offset_ratio = -1;   /* onsets only */
    const size_t n_pairs = (size_t)n_onset * n_frame;
    long *cnt = calloc((size_t)n_items * TUNE_CNT, sizeof *cnt);
    double *sc = malloc(sizeof(double) * 3 * (n_pairs + (size_t)n_frame + 1));   /* per candidate: onset, offset, frame F1 */
    if (!cnt || !sc) { free(cnt); free(sc); return amt_error(AMT_ENOMEM, "threshold tuning: out of memory"); }
    /* stage 1: (onset, frame) pairs without sustain */
    double top_note = 0;
    for (int j = 0; j < n_frame && !rc; j++) {
        d.frame_threshold = frame_grid[j];
        for (int i = 0; i < n_onset && !rc; i++) {
            d.onset_threshold = onset_grid[i];
            double *q = sc + 3 * ((size_t)j * n_onset + i);
            if ((rc = tune_score(items, n_items, &d, &mo, &mo_off, cnt, q))) break;
            if (q[0] > top_note) top_note = q[0];
        }
    }
    if (rc) { free(cnt); free(sc); return rc; }
    size_t best = tune_pick(sc, n_pairs, top_note);
    d.onset_threshold = onset_grid[best % (size_t)n_onset];
    d.frame_threshold = frame_grid[best / (size_t)n_onset];
    /* stage 2: sustain thresholds for that pair: off (candidate 0: stage 1's scores), then
     * the grid values below its frame threshold (candidate 1 + j for frame_grid[j]) */
    double *sc2 = sc + 3 * n_pairs;
    memcpy(sc2, sc + 3 * best, 3 * sizeof(double));
    for (int j = 0; j < n_frame && !rc; j++) {
        double *q = sc2 + 3 * (size_t)(j + 1);
        q[0] = -1;   /* not a candidate unless scored */
        if (!(frame_grid[j] > 0 && frame_grid[j] < d.frame_threshold)) continue;
        d.sustain_threshold = frame_grid[j];
        rc = tune_score(items, n_items, &d, &mo, &mo_off, cnt, q);
    }
    free(cnt);
    if (rc) { free(sc); return rc; }
    size_t bs = tune_pick(sc2, (size_t)n_frame + 1, top_note);
    out->onset_threshold = d.onset_threshold;
    out->frame_threshold = d.frame_threshold;
    out->sustain_threshold = bs == 0 ? 0.0f : frame_grid[bs - 1];
    out->note_f1 = sc2[3 * bs];
    out->offset_f1 = sc2[3 * bs + 1];
    out->frame_f1 = sc2[3 * bs + 2];
    free(sc);
    return AMT_OK;
}
