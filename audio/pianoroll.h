/* audio/pianoroll.h: notes <-> piano roll. A roll is a frames x keys float array, frame
 * major (roll[t * keys + k]), key k = MIDI pitch lo + k; the 88-key piano roll uses
 * lo = 21 (A0) .. 108 (C8). Frame convention (as mir_eval / Onsets & Frames): pitch p is
 * active in frame t (time t / rate seconds) when onset <= t / rate < offset, compared in
 * double precision exactly as written. */
#ifndef AMT_PIANOROLL_H
#define AMT_PIANOROLL_H

#include "notes.h"

#define AMT_PIANO_KEYS 88
#define AMT_PIANO_LOWEST 21     /* MIDI pitch of key 0 (A0) */

/* Frames needed to hold every note: max over notes of (last active frame + 1), i.e.
 * the number of t >= 0 with t / rate < offset; 0 for an empty list. */
int amt_roll_frames(const amt_notes *ns, double rate);

/* First frame t with t / rate >= x (x >= 0). */
long amt_time_to_frame_ceil(double x, double rate);

/* Fills roll (frames x nkeys, zeroed here) with 1 where a note of pitch lo + k is active.
 * onsets (may be NULL; same shape, zeroed here) gets 1 at each note's first frame
 * ceil-frame of its onset (even when the note is shorter than a frame), if < frames.
 * Notes outside [lo, lo + nkeys) or beyond `frames` are clipped. */
int amt_notes_to_roll_range(const amt_notes *ns, double rate, int frames, int lo, int nkeys,
                            float *roll, float *onsets);
/* The 88-key piano roll (lo = 21). */
int amt_notes_to_roll(const amt_notes *ns, double rate, int frames, float *roll, float *onsets);

/* Each maximal run of frames t0..t1-1 of one key with roll >= threshold becomes a note
 * [t0 / rate, t1 / rate) of pitch lo + k (velocity 64, confidence = mean roll value over
 * the run), appended to *out (initialised by the caller) and then sorted. */
int amt_roll_to_notes(const float *roll, int frames, int lo, int nkeys, double rate, float threshold,
                      amt_notes *out);

#endif
