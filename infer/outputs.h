/* infer/outputs.h: the files amt-infer writes beside the audio and the notes (which
 * audio/audio_io.h, audio/midi.h and audio/notes.h write): the spectrogram panels of the
 * separation, the piano roll over the transcriber's features, the raw activations (HDF5)
 * and the instrument decision (JSON). Every writer goes through a temporary file renamed
 * into place and returns AMT_* codes with a message naming the file. Pictures are bounded
 * in size whatever the input length: time is reduced to at most AMT_OUT_MAX_COLUMNS
 * columns (mean of the frames in each column). */
#ifndef AMT_INFER_OUTPUTS_H
#define AMT_INFER_OUTPUTS_H

#include "audio/notes.h"
#include "audio/semitone.h"
#include "models/classifier.h"

#define AMT_OUT_MAX_COLUMNS 1000     /* pixels along time per panel */
#define AMT_OUT_SPEC_NFFT 1024       /* STFT of the separation panels */
#define AMT_OUT_SPEC_MAX_HZ 11025.0  /* highest frequency shown in the separation panels */
#define AMT_OUT_PANEL_GAP 6          /* pixels between panels */

/* Spectrogram columns of one signal, filled piecewise as the signal streams by (for
 * NAME.spectrograms.png): column c of `cols` (cols = min(AMT_OUT_MAX_COLUMNS, len / hop))
 * is the mean magnitude of up to AMT_OUT_SPEC_SUBFRAMES STFT frames (AMT_OUT_SPEC_NFFT
 * points, Hann) centred at evenly spaced positions inside the column's time span;
 * 0 .. min(rate / 2, AMT_OUT_SPEC_MAX_HZ) Hz. Memory: cols x bins floats. */
#define AMT_OUT_SPEC_SUBFRAMES 4
typedef struct amt_out_speccols amt_out_speccols;
/* len: the signal's length in samples (an estimate is fine: positions past the real end
 * stay silent), rate in Hz. NULL (error set) on bad sizes or no memory. */
amt_out_speccols *amt_out_speccols_new(long len, int rate);
void amt_out_speccols_free(amt_out_speccols *s);
/* Adds every frame position p with core0 <= p < core1 from x, which holds n samples of the
 * signal starting at sample x0 (samples outside [x0, x0 + n) count as 0: give AMT_OUT_SPEC_NFFT
 * / 2 samples of context around the core). Each position must be added exactly once. */
void amt_out_speccols_add(amt_out_speccols *s, const float *x, long x0, long n, long core0, long core1);
/* NAME.spectrograms.png: the panels side by side (e.g. input, voice, music), low
 * frequencies at the bottom, one dB colour scale for all (the loudest cell = top, 80 dB
 * shown). All panels must have the same size. */
int amt_out_speccols_png(const char *path, amt_out_speccols *const *panels, int n);

/* A float WAV written in pieces (libsndfile, 32-bit float: exact), to PATH.tmp renamed
 * into place by amt_out_wav_close(keep = 1); keep = 0 removes it. */
typedef struct amt_out_wav amt_out_wav;
amt_out_wav *amt_out_wav_open(const char *path, int rate, int channels);
int amt_out_wav_write(amt_out_wav *w, const float *x, long frames);
int amt_out_wav_close(amt_out_wav *w, int keep);

/* NAME.pianoroll.png: the transcriber's features feat (n_frames x bins, log-compressed, at
 * fps frames per second, bands of the semitone filterbank cfg) with the notes drawn over
 * them (filled, half transparent; pitch p at its frequency). */
int amt_out_pianoroll_png(const char *path, const float *feat, long n_frames, int bins, double fps,
                          const amt_semitone_cfg *cfg, const amt_notes *notes);

/* The piano roll built as the frames go by (long inputs: memory cols x bins floats, not
 * the whole feature matrix): frame f goes to column f * cols / n_frames (frames past
 * n_frames, the expected count, to the last column), cols = min(n_frames,
 * AMT_OUT_MAX_COLUMNS); a column shows the mean of its frames. */
typedef struct amt_out_rollcols amt_out_rollcols;
amt_out_rollcols *amt_out_rollcols_new(long n_frames, int bins);
void amt_out_rollcols_free(amt_out_rollcols *r);
/* Adds frames t0 .. t0 + n - 1 (feat: n x bins). */
void amt_out_rollcols_add(amt_out_rollcols *r, const float *feat, long t0, long n);
/* Writes NAME.pianoroll.png as amt_out_pianoroll_png does (time axis: n_frames at fps). */
int amt_out_rollcols_png(const char *path, const amt_out_rollcols *r, double fps, const amt_semitone_cfg *cfg,
                         const amt_notes *notes);

/* NAME.activations.h5 written as the rows go by (chunked, extendible datasets; the same
 * file as amt_out_activations_h5): open, write rows in order, close(keep = 1) renames
 * PATH.tmp into place; keep = 0 removes it. */
typedef struct amt_out_acts amt_out_acts;
amt_out_acts *amt_out_acts_open(const char *path, int keys, int has_onset, int has_velocity, double fps,
                                int lowest_pitch, const char *input, const char *model);
/* n rows (n x keys each; onset / velocity ignored when the file has none). */
int amt_out_acts_write(amt_out_acts *a, const float *frame, const float *onset, const float *velocity, long n);
int amt_out_acts_close(amt_out_acts *a, int keep);

/* NAME.activations.h5: datasets /frame, /onset, /velocity (n_frames x keys float32
 * probabilities; onset/velocity skipped when NULL) with attributes fps (float64),
 * lowest_pitch (int32, MIDI pitch of column 0), input and model (strings). */
int amt_out_activations_h5(const char *path, const float *frame, const float *onset, const float *velocity,
                           long n_frames, int keys, double fps, int lowest_pitch, const char *input,
                           const char *model);

/* NAME.instrument.json:
 *   {"input": "...", "label": "pia", "name": "piano", "probabilities": {"cel": p, ...},
 *    "windows": n, "transcription_model": "PATH" | null, "transcription_instrument": "piano" | null,
 *    "warning": "..." | null}
 * res: the classifier's clip result; model / model_instrument / warning may be NULL. */
int amt_out_instrument_json(const char *path, const char *input, const amt_cls_result *res, const char *model,
                            const char *model_instrument, const char *warning);

#endif
