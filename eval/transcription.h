/* eval/transcription.h: transcription metrics, as mir_eval 0.7 `transcription` (note
 * level) and a micro-averaged piano-roll frame metric.
 *
 * Note level (mir_eval.transcription.precision_recall_f1_overlap, strict=False):
 * reference note i and estimated note j may match when
 *   round(|onset_i - onset_j|, 4 decimals) <= onset_tol,
 *   |1200 * (log2 hz(pitch_i) - log2 hz(pitch_j))| <= pitch_tol_cents  (MIDI -> Hz first),
 *   and, when offset_ratio > 0, round(|offset_i - offset_j|, 4) <=
 *       max(offset_ratio * (offset_i - onset_i), offset_min_tol);
 * the matching is mir_eval's Hopcroft-Karp maximum bipartite matching replayed step by
 * step (same graph order), so the matched pairs and hence the overlap ratio agree too.
 * P = matches / n_est, R = matches / n_ref, F = 2PR / (P + R), all 0 when either list is
 * empty (as mir_eval). Times in seconds.
 *
 * Frame level (our convention, the usual piano-roll metric of Onsets & Frames papers,
 * not mir_eval.multipitch): both lists become binary rolls over all 128 MIDI pitches at
 * `rate` frames/s with pitch p active in frame t when onset <= t / rate < offset;
 * frames = max of both lists' amt_roll_frames. Over all (frame, pitch) cells:
 * TP = ref & est, FP = est & !ref, FN = ref & !est; P = TP/(TP+FP), R = TP/(TP+FN),
 * F1 = 2PR/(P+R), accuracy = TP/(TP+FP+FN) (Dixon 2000), each 0 when its denominator is
 * 0. To micro-average over several files, add up tp/fp/fn and call amt_frame_scores_from. */
#ifndef AMT_EVAL_TRANSCRIPTION_H
#define AMT_EVAL_TRANSCRIPTION_H

#include "audio/notes.h"

#define AMT_ONSET_TOLERANCE 0.05        /* seconds */
#define AMT_PITCH_TOLERANCE_CENTS 50.0
#define AMT_OFFSET_RATIO 0.2
#define AMT_OFFSET_MIN_TOLERANCE 0.05   /* seconds */
#define AMT_FRAME_RATE 100.0            /* frames per second */

typedef struct amt_note_metric_opts {
    double onset_tol;         /* seconds (0.05) */
    double pitch_tol_cents;   /* cents (50) */
    double offset_ratio;      /* 0.2; <= 0 means None: onsets only */
    double offset_min_tol;    /* seconds (0.05) */
    int strict;               /* 1: '<' instead of '<=' (mir_eval strict=True) */
} amt_note_metric_opts;

/* mir_eval defaults, with offsets (offset_ratio 0.2). */
void amt_note_metric_defaults(amt_note_metric_opts *o);

typedef struct amt_note_scores {
    double precision, recall, f1, overlap;   /* overlap: mean overlap ratio of matches */
    int n_ref, n_est, n_match;
} amt_note_scores;

/* The maximum matching: ref_to_est[i] = matched estimate of reference i or -1 (n_ref
 * entries, caller's memory, may be NULL); returns the number of matches in *n_match.
 * Errors (AMT_EINVAL) for non-finite times, offset < onset or pitch outside 0..127. */
int amt_transcription_match(const amt_notes *ref, const amt_notes *est, const amt_note_metric_opts *opt,
                            int *ref_to_est, int *n_match);
/* Precision, recall, F1 and average overlap ratio (opt NULL = defaults with offsets). */
int amt_transcription_note_scores(const amt_notes *ref, const amt_notes *est, const amt_note_metric_opts *opt,
                                  amt_note_scores *out);

typedef struct amt_frame_scores {
    double precision, recall, f1, accuracy;
    long tp, fp, fn;
    int frames;
} amt_frame_scores;

/* Frame-level scores at `rate` frames/s (see the convention above). */
int amt_transcription_frame_scores(const amt_notes *ref, const amt_notes *est, double rate,
                                   amt_frame_scores *out);
/* Fills precision/recall/f1/accuracy of *s from its tp/fp/fn. */
void amt_frame_scores_from(amt_frame_scores *s);

#endif
