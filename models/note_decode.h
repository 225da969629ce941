/* models/note_decode.h: from frame / onset / velocity probabilities (frames x 88, row t =
 * frame t at t / fps seconds, column k = MIDI pitch lowest_pitch + k) to notes, and the
 * tuning of the two thresholds on validation data.
 *
 * Decoding, per pitch column (pitches outside [min_pitch, max_pitch] are skipped):
 *   - onset peak at t: onset[t] >= onset_threshold, onset[t] > onset[t-1] (or t = 0) and
 *     onset[t] >= onset[t+1] (or t last): on a plateau the first frame is the peak.
 *   - a note starts at every onset peak; a note already sounding on that pitch ends there
 *     (repeated notes).
 *   - frame-started notes: when no note is sounding and frame[t] >= frame_threshold with
 *     frame[t-1] < frame_threshold (or t = 0), a note starts at t if onset_support >= 0 and
 *     some onset[u] >= onset_threshold * AMT_DECODE_SUPPORT_RATIO for |u - t| <= onset_support
 *     (the onset head saw something just below its threshold). Without an onset head
 *     (onset == NULL) every such rise starts a note.
 *   - a sounding note started at t0 continues at frame t while frame[t] >= frame_threshold,
 *     or t is in its onset run (onset[t0..t] all >= onset_threshold), or (with a
 *     sustain_threshold > 0) the note is confirmed and frame[t] >= sustain_threshold; a note
 *     is confirmed from the first frame of it with frame >= frame_threshold on (frame-started
 *     notes at once). It ends at the first frame where none holds, unless a frame within the
 *     next gap_frames frames is back at or above the level that keeps it (sustain_threshold
 *     when confirmed, else frame_threshold: a dip of at most gap_frames frames is bridged,
 *     like Basic Pitch's energy tolerance), at the next onset peak of its pitch, or at the
 *     end. The sustain threshold is a hysteresis: onsets still need the frame head's
 *     confirmation, but once confirmed a note rings through the frame head's unsure,
 *     pedal-sustained tail.
 *   - a note of frames [t0, t1) has onset t0 / fps and offset t1 / fps seconds; it is dropped
 *     when (t1 - t0) / fps * 1000 < min_note_ms (milliseconds);
 *     velocity = round(velocity[t0] * 127) clamped to 1..127 (64 without a velocity head);
 *     confidence = mean of frame[t0..t1).
 * Notes come out sorted (amt_notes_sort), program 0 (piano), channel/track -1.
 *
 * Frame (piano-roll) output: every maximal run of frames t0..t1-1 with frame >= threshold
 * of an in-range pitch becomes a "note" [t0 / fps, t1 / fps) (no minimum length): fed to
 * amt_transcription_frame_scores at rate fps it gives exactly the thresholded roll. */
#ifndef AMT_NOTE_DECODE_H
#define AMT_NOTE_DECODE_H

#include "audio/notes.h"

#define AMT_DECODE_SUPPORT_RATIO 0.5f   /* fraction of onset_threshold that supports a frame rise */
#define AMT_DECODE_TUNE_SLACK 0.005     /* onset F1 a tuned pair may give up for better offsets */

typedef struct amt_decode_opts {
    double fps;              /* frames per second of the rolls (100) */
    float onset_threshold;   /* probability (0.5) */
    float frame_threshold;   /* probability (0.5) */
    double min_note_ms;      /* milliseconds (30) */
    int min_pitch, max_pitch;/* MIDI, inclusive (21, 108) */
    int lowest_pitch;        /* MIDI pitch of column 0 (21) */
    int keys;                /* columns of the rolls (88) */
    int onset_support;       /* frames each side for frame-started notes; -1 = never (2) */
    int gap_frames;          /* frame-head dips of at most this many frames do not end a
                              * note (0 = every dip ends it: the default) */
    float sustain_threshold; /* probability in (0, frame_threshold]: a confirmed note goes on
                              * while frame >= this; 0 = frame_threshold (no hysteresis) */
} amt_decode_opts;

void amt_decode_opts_default(amt_decode_opts *o);
/* Checks the options (fps > 0, thresholds in (0, 1], min_note_ms >= 0, pitches in 0..127
 * and min <= max, keys >= 1): AMT_EINVAL naming the field. */
int amt_decode_opts_check(const amt_decode_opts *o);

/* Notes of the rolls (n_frames x keys each); onset and velocity may be NULL (see above).
 * out is emptied first (amt_notes_clear), then filled. */
int amt_note_decode(const float *frame, const float *onset, const float *velocity, long n_frames,
                    const amt_decode_opts *o, amt_notes *out);
/* Streaming decoding (long inputs, bounded memory): the same notes as amt_note_decode of
 * the concatenated rows, fed in blocks of any size. Holds a ring of
 * max(1, onset_support) + 1 + max(1, gap_frames, onset_support) rows of each roll (o->keys
 * floats per row), whatever the input's length; notes are appended to out as they end
 * (unsorted until finish). */
typedef struct amt_note_stream amt_note_stream;
/* NULL (error set) on bad options or no memory. has_onset / has_velocity: whether feed gets
 * those rolls. */
amt_note_stream *amt_note_stream_new(const amt_decode_opts *o, int has_onset, int has_velocity);
void amt_note_stream_del(amt_note_stream *s);
/* Feeds the next n rows (n x keys each; onset / velocity NULL when the stream has none);
 * appends the notes that ended to out. */
int amt_note_stream_feed(amt_note_stream *s, const float *frame, const float *onset, const float *velocity, long n,
                         amt_notes *out);
/* End of input: decodes the last rows, ends the notes still sounding, sorts out. */
int amt_note_stream_finish(amt_note_stream *s, amt_notes *out);
/* Rows fed so far. */
long amt_note_stream_frames(const amt_note_stream *s);

/* The thresholded frame roll as notes (see above); out emptied first. */
int amt_note_decode_frames(const float *frame, long n_frames, const amt_decode_opts *o, amt_notes *out);

/* One validation item for threshold tuning: its rolls (caller's memory) and reference notes. */
typedef struct amt_decode_item {
    const float *frame, *onset, *velocity;   /* n_frames x keys; onset/velocity may be NULL */
    long n_frames;
    const amt_notes *ref;
} amt_decode_item;

typedef struct amt_tune_result {
    float onset_threshold, frame_threshold;   /* the best pair */
    float sustain_threshold; /* the best sustain threshold for that pair (0 = off) */
    double note_f1;          /* note-onset F1 at the best thresholds (micro over items) */
    double offset_f1;        /* note-with-offset F1 at the best thresholds (micro over items) */
    double frame_f1;         /* frame F1 of the decoded notes' roll there (micro) */
} amt_tune_result;

/* Two-stage grid search on validation items, every candidate decoding all items with o's
 * other options and scored by note-onset F1 and note-with-offset F1 (eval/transcription.h:
 * onsets only, 50 ms; with offsets, mir_eval defaults; each micro-averaged: matches, n_ref,
 * n_est summed over items) and the frame F1 of the decoded notes' roll (micro over items at
 * frame rate o->fps).
 *   1. every pair (onset_grid[i], frame_grid[j]) with no sustain threshold (o's
 *      sustain_threshold is ignored);
 *   2. for the best pair, sustain thresholds 0 (off) and every frame_grid value below its
 *      frame threshold (hysteresis: confirmed notes ring on while frame >= it).
 * Selection in both stages: among the candidates within AMT_DECODE_TUNE_SLACK of stage 1's
 * best onset F1, the highest offset F1 wins (the frame and sustain thresholds set where
 * notes end, which onset F1 hardly sees), ties broken by frame F1, then by the earlier
 * candidate in grid order (frame-major; "off" first in stage 2). Grids NULL = 0.01, 0.02,
 * 0.03, 0.04, 0.05, 0.10, ..., 0.95 (n ignored). */
int amt_decode_tune(const amt_decode_item *items, int n_items, const amt_decode_opts *o,
                    const float *onset_grid, int n_onset, const float *frame_grid, int n_frame,
                    amt_tune_result *out);

#endif
