/* models/transcriber.h: the piano transcriber, the ConvNet of Kelz et al. 2016 ("On the
 * potential of simple framewise approaches to piano transcription") made exactly
 * shift-invariant in time, with an onset and a velocity head beside the frame head
 * (as Onsets and Frames / Kelz et al. 2018):
 *
 *   x (B, 1, T + ctx - 1, bins)      log-frequency features (audio/semitone.h, 229 bins,
 *                                    100 frames/s at the defaults), time along H
 *   -> conv 3x3 c1 -> ReLU -> conv 3x3 c2 -> ReLU -> BatchNorm -> maxpool (1, 2) -> dropout
 *   -> conv 3x3 c3 -> ReLU -> maxpool (1, 2) -> dropout
 *   -> "dense": conv (kt, F') over the whole remaining frequency axis (F' = 55 at 229 bins)
 *      -> ReLU -> dropout
 *   -> heads, 1x1 convs: frame (88), onset (88), velocity (88) -> (B, 88, T, 1)
 *   -> transposed to (B, T, 88): row t = output frame t, column k = MIDI pitch 21 + k.
 * Every convolution is 'valid' in time and frequency, so ctx = 6 + kt input frames give
 * one output frame (default kt 3: ctx 9, 4 frames each side) and the same weights run
 * over any number of frames: training uses chunks of T frames (every output frame
 * computed once), inference whole blocks of N frames. Pooling is over frequency only.
 *
 * Loss (training graph): frame_weight * BCE(frame logits, frame target)
 *   + onset_weight * BCE(onset logits, onset target)
 *   + velocity_weight * sum(onset_t * (sigmoid(velocity logits) - velocity_t)^2) / max(1, sum(onset_t))
 * (BCE = mean over all B*T*88 cells; the velocity error counts only where the onset target
 * is 1, velocity target = MIDI velocity / 127).
 *
 * Input alignment: output frame t of a graph sees input rows t .. t + ctx - 1, i.e. the
 * feature frames t - L .. t + R of the unpadded matrix with L = (ctx - 1) / 2 and
 * R = ctx - 1 - L. Whole-file inference (amt_tr_infer_run) pads the feature matrix with
 * L frames before and R after of zeros (log(1 + C * 0): the features of silence), so
 * output frame i belongs to feature frame i.
 *
 * Decoding thresholds live in the parameter store as NON-trainable parameters
 * "decode/onset_threshold", "decode/frame_threshold" and "decode/sustain_threshold" (shape
 * (1)), so they ride in checkpoints; models/note_decode.h tunes them on validation data.
 * The sustain threshold is optional in checkpoints (older files lack it: 0 = off).
 *
 * Memory ownership: amt_transcriber owns its parameters; graphs and runners own their
 * arenas; functions taking caller buffers never keep them. */
#ifndef AMT_TRANSCRIBER_H
#define AMT_TRANSCRIBER_H

#include <stdint.h>

#include "audio/notes.h"
#include "audio/semitone.h"
#include "core/config.h"
#include "core/graph.h"
#include "core/optim.h"
#include "core/param.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/pool.h"
#include "models/note_decode.h"

#define AMT_TRANSCRIBER_KIND "transcriber"   /* [model] kind and checkpoint model attribute */
#define AMT_TR_KEYS 88                       /* piano keys: output columns */
#define AMT_TR_LOWEST_PITCH 21               /* MIDI pitch of column 0 (A0) */
#define AMT_TR_PATH_MAX 1024
/* [decode] gap_ms default: chosen on the shipped model's validation files (0, 50, 100, 150,
 * 200, 300 ms: the best note-with-offset F1 within 0.005 of the best onset F1, the rule of
 * amt_decode_tune); frame F1 0.52 -> 0.70, with-offset F1 0.37 -> 0.48 there */
#define AMT_TR_DEFAULT_GAP_MS 150.0
#define AMT_TR_NAME_MAX 32

enum { AMT_TR_SPLIT_LAYOUT = 0, AMT_TR_SPLIT_RANDOM = 1 };

typedef struct amt_transcriber_config {
    /* [features]: preset = 44k (default) | 16k, then any of rate, n_fft, hop,
     * bands_per_octave, fmin, fmax, fref, log_c override the preset */
    amt_semitone_cfg feat;
    /* [model] */
    int channels[3];        /* c1, c2, c3 (32, 32, 64) */
    int dense;              /* units of the dense (kt x F') conv (512) */
    int kt;                 /* time extent of the dense conv, frames (3) */
    float dropout_conv;     /* after each pooling (0.25) */
    float dropout_dense;    /* after the dense layer (0.5) */
    int onset_head;         /* 1: onset head (default 1) */
    int velocity_head;      /* 1: velocity head (default 1) */
    char instrument[AMT_TR_NAME_MAX];   /* what it transcribes ("piano"; infer/model_dir.h) */
    /* [loss] */
    float frame_weight, onset_weight, velocity_weight;   /* 1, 1, 1 */
    int onset_frames;       /* frames labelled onset from a note's onset frame on (1) */
    double onset_soft;      /* > 0: soft onset targets, a triangle of this half-width in
                             * frames around the exact onset (Kong et al. 2021); 0 = off */
    /* [decode]: initial values of the decode/... parameters and decoding defaults
     * (models/note_decode.h) */
    float onset_threshold, frame_threshold;   /* 0.5, 0.5 */
    float sustain_threshold;/* 0 = off, else in (0, frame_threshold] (0) */
    double min_note_ms;     /* milliseconds (30) */
    double gap_ms;          /* milliseconds: frame-head dips this short do not end a note
                             * (AMT_TR_DEFAULT_GAP_MS; models/note_decode.h gap_frames) */
    int min_pitch, max_pitch;   /* MIDI (21, 108) */
    /* [optim] */
    amt_optim_config optim; /* core/optim.h (Adam 1e-3 by default) */
    /* [train] */
    int batch;              /* chunks per step (16) */
    int chunk_frames;       /* T: output frames per training chunk (100) */
    int epochs;             /* (20) */
    char data_dir[AMT_TR_PATH_MAX];   /* MAPS-layout root ("" = none given) */
    int split;              /* AMT_TR_SPLIT_LAYOUT or _RANDOM */
    double val_fraction;    /* pieces held out for validation (0.1) */
    uint64_t seed;          /* initialisation, data order, dropout (1) */
    /* [infer] */
    int block_frames;       /* N: output frames per inference block (128) */
    /* derived by amt_transcriber_config_check (not config keys) */
    int bins;               /* feature bins of the semitone filterbank (229) */
    int ctx;                /* input frames per output frame: 6 + kt */
    int fprime;             /* frequency width before the dense conv: ((bins-4)/2 - 2)/2 */
    double fps;             /* frames per second: rate / hop */
} amt_transcriber_config;

/* The defaults above. */
void amt_transcriber_config_default(amt_transcriber_config *c);
/* Reads [model] (kind, if present, must be "transcriber"), [features], [loss], [decode],
 * [optim], [train], [infer] over the defaults; every key validated (AMT_ECONFIG
 * "file:line: section.key: problem"), then amt_transcriber_config_check. Does not call
 * amt_config_check_unused (the tool does, after reading its own keys). */
int amt_transcriber_config_read(amt_config *cfg, amt_transcriber_config *out);
/* Cross-field rules (min_pitch <= max_pitch, enough bins for the two poolings, a valid
 * semitone filterbank) and the derived fields. AMT_ECONFIG "FILE: section.key: problem"
 * (FILE = name, may be NULL). */
int amt_transcriber_config_check(amt_transcriber_config *c, const char *name);

typedef struct amt_transcriber {
    amt_transcriber_config cfg;   /* with the derived fields */
    amt_params params;            /* owned */
    amt_conv2d_layer conv1, conv2, conv3, dense, head_frame, head_onset, head_vel;
    amt_batchnorm2d_layer bn;
    amt_maxpool2d_layer pool;     /* (1, 2) over frequency */
    amt_dropout_layer drop_conv, drop_dense;
    amt_tensor *onset_threshold, *frame_threshold, *sustain_threshold;   /* "decode/..." (1), non-trainable */
} amt_transcriber;

/* Creates the parameters ("conv1", "conv2", "bn", "conv3", "dense", "frame", "onset",
 * "velocity" + "/weight", "/bias"; "bn/running_mean|running_var"; "decode/...") initialised
 * from seed (cfg->seed when seed == 0). cfg must have passed amt_transcriber_config_check. */
int amt_transcriber_init(amt_transcriber *m, const amt_transcriber_config *cfg, uint64_t seed);
void amt_transcriber_free(amt_transcriber *m);
/* Loads a checkpoint: builds the model from the config text stored in it, then loads its
 * parameters. AMT_EFORMAT naming the file for another model kind. m untouched on error. */
int amt_transcriber_load(const char *path, amt_transcriber *m);

/* The graph tensors of one transcriber graph. All (B, T, 88) unless noted. */
typedef struct amt_tr_graph {
    amt_graph *g;             /* owned */
    int batch, frames;        /* B, T */
    amt_tensor *x;            /* input (B, 1, T + ctx - 1, bins): the caller fills it */
    amt_tensor *t_frame, *t_onset, *t_vel;   /* targets (training graphs; caller fills;
                                                t_onset also when there is no onset head) */
    amt_tensor *frame_logit, *onset_logit, *vel_logit;   /* onset/vel NULL without the head */
    amt_tensor *frame_prob, *onset_prob, *vel_prob;      /* sigmoids of the logits */
    amt_tensor *loss;         /* scalar (1): training graphs; NULL in inference */
    amt_tensor *loss_frame, *loss_onset, *loss_vel;      /* the unweighted terms (or NULL) */
} amt_tr_graph;

/* Builds the network on an existing graph from input x (B, 1, T + ctx - 1, bins); with
 * targets (all three non-NULL) also the loss. Fills out (out->g = g is NOT owned: do not
 * call amt_tr_graph_free; used by gradient checks). */
int amt_transcriber_attach(const amt_transcriber *m, amt_graph *g, amt_tensor *x, amt_tensor *t_frame,
                           amt_tensor *t_onset, amt_tensor *t_vel, amt_tr_graph *out);
/* A new graph for (batch, frames): with_grad = 1 is the training graph (targets, loss;
 * set g->training = 0 for validation), 0 the inference graph (no gradients, no targets,
 * no dropout nodes, g->training = 0). seed: dropout masks. */
int amt_transcriber_build(const amt_transcriber *m, int batch, int frames, int with_grad, uint64_t seed,
                          amt_tr_graph *out);
void amt_tr_graph_free(amt_tr_graph *tg);

/* Fills one example's input rows (T + ctx - 1 rows of bins) from a whole feature matrix
 * feat (n_frames x bins) for output frames t0 .. t0 + T - 1: row r = feature frame
 * t0 - L + r, zeros outside [0, n_frames) (the padding described at the top). */
void amt_transcriber_input_rows(const amt_transcriber *m, const float *feat, long n_frames, long t0, int T,
                                float *rows);

/* Training targets of output frames t0 .. t0 + T - 1 (T x 88 each, caller buffers) from
 * notes (seconds, MIDI pitch; pitches outside 21..108 ignored) at fps frames/s:
 *   frame[t][k] = 1 when onset <= t / fps < offset (the frame convention of
 *                 eval/transcription.h), else 0;
 *   onset[t][k] = 1 for t = round(onset * fps) .. + onset_frames - 1 (clipped to the note's
 *                 frames when it is shorter), else 0; or, when onset_soft = J > 0 (frames),
 *                 max(0, 1 - |t - onset * fps| / J), the larger where two notes overlap
 *                 (soft targets as Kong et al. 2021; onset_frames is then unused);
 *   vel[t][k]   = velocity / 127 where onset is > 0 (of the note giving the onset value), else 0.
 * A later note of the same pitch overrides an earlier one's hard onset cells (repeated notes). */
void amt_transcriber_targets(const amt_notes *notes, double fps, int onset_frames, double onset_soft, long t0, int T,
                             float *frame, float *onset, float *vel);

/* Frames of a gap of gap_ms milliseconds at fps frames/s (rounded down; 0 when <= 0). */
int amt_transcriber_gap_frames(double gap_ms, double fps);

/* Decoding options for this model: fps, key layout, the decode/... thresholds stored in the
 * parameters, and [decode] min_note_ms, gap_ms and pitch range. */
void amt_transcriber_decode_opts(const amt_transcriber *m, amt_decode_opts *o);

/* A user's decoding knobs (amt-infer / amt-eval options); a negative value keeps the model's. */
typedef struct amt_tr_knobs {
    double onset_threshold, frame_threshold;   /* probabilities in (0, 1] */
    double sustain_threshold;                  /* probability in [0, 1]; 0 = off */
    double min_note_ms, gap_ms;                /* milliseconds */
    int min_pitch, max_pitch;                  /* MIDI */
} amt_tr_knobs;
/* All knobs negative (the model's own options). */
void amt_tr_knobs_default(amt_tr_knobs *k);
/* amt_transcriber_decode_opts with the knobs on top. A frame threshold set at or below the
 * model's sustain threshold turns the sustain off (it no longer changes anything); a
 * sustain threshold given above the frame threshold is AMT_EINVAL, as are other invalid
 * results (amt_decode_opts_check). */
int amt_transcriber_decode_knobs(const amt_transcriber *m, const amt_tr_knobs *k, amt_decode_opts *o);

/* Block inference runner: the inference graph of (B, N) built once, B = the thread count
 * at creation (amt_get_threads(), at most 8): B consecutive blocks run per forward, one
 * per thread (the convolutions parallelise over examples). */
typedef struct amt_tr_infer amt_tr_infer;
/* block_frames <= 0 takes cfg.block_frames. m must outlive the runner. */
amt_tr_infer *amt_tr_infer_new(const amt_transcriber *m, int block_frames);
void amt_tr_infer_free(amt_tr_infer *r);
/* Bytes the runner holds (graph arena): independent of the input length. */
size_t amt_tr_infer_bytes(const amt_tr_infer *r);
/* Probabilities (n_frames x 88 each, caller buffers) of a whole feature matrix feat
 * (n_frames x bins): blocks of N output frames read N + ctx - 1 input rows (ctx - 1 rows
 * of overlap); the last partial block is padded with zero rows (and unused examples of the
 * last forward are zeros). onset / velocity may be NULL (skipped); without the head they
 * are filled with 0. n_frames >= 0. Allocates nothing. */
int amt_tr_infer_run(amt_tr_infer *r, const float *feat, long n_frames, float *frame, float *onset,
                     float *velocity);

/* The model the runner runs. */
const amt_transcriber *amt_tr_infer_model(const amt_tr_infer *r);
/* Output frames of one forward of the runner (B x N): a caller feeding spans in steps of
 * this size from frame 0 gets exactly amt_tr_infer_run's numbers. */
long amt_tr_infer_chunk(const amt_tr_infer *r);
/* Output frames t_first .. t_first + n_out - 1 (rows 0 .. n_out - 1 of frame / onset /
 * velocity, caller buffers; onset / velocity may be NULL) from a stretch of the features:
 * row i of feat is feature frame f_lo + i (i < f_hi - f_lo). Frames outside [0, n_total)
 * count as zero rows (n_total < 0: not known yet); every other frame the outputs see,
 * t_first - L .. t_first + n_out - 1 + R, must lie in [f_lo, f_hi) (frames outside it
 * read as zeros).
 * amt_tr_infer_run(feat, n) is amt_tr_infer_span(feat, 0, n, n, 0, n). Allocates nothing. */
int amt_tr_infer_span(amt_tr_infer *r, const float *feat, long f_lo, long f_hi, long n_total, long t_first,
                      long n_out, float *frame, float *onset, float *velocity);

/* Evaluation of a model on whole pieces (validation during training, amt-eval). */
typedef struct amt_tr_piece {
    const float *feat;        /* n_frames x bins features (amt_transcriber_features) */
    long n_frames;
    const amt_notes *ref;     /* reference notes (seconds) */
} amt_tr_piece;

typedef struct amt_tr_scores {
    double note_p, note_r, note_f1;            /* onsets only (50 ms), micro over pieces */
    double offset_p, offset_r, offset_f1;      /* with offsets (mir_eval defaults) */
    double frame_p, frame_r, frame_f1;         /* roll of the decoded notes at fps (what amt-eval
                                                * reports), micro over pieces */
    int n_ref, n_est;                          /* notes over all pieces */
    float onset_threshold, frame_threshold, sustain_threshold;   /* the thresholds used */
} amt_tr_scores;

/* Runs r over every piece, and when tune != 0 first tunes the thresholds on them
 * (amt_decode_tune, default grids) and stores the best thresholds in the model's
 * decode/... parameters; then decodes with amt_transcriber_decode_opts and scores. Micro-averaged:
 * matches and counts summed over pieces. Memory: frame and onset probabilities of all
 * pieces (2 x frames x 88 floats), malloc'd and freed here. */
int amt_transcriber_evaluate(amt_transcriber *m, amt_tr_infer *r, const amt_tr_piece *pieces, int n_pieces,
                             int tune, amt_tr_scores *out);

/* Features of mono audio x (len samples at rate Hz, any rate): resampled to cfg->feat.rate
 * (audio/resample.h) when different, then the semitone filterbank; *feat is malloc'd
 * (*n_frames x cfg->bins, caller frees), frames at cfg->fps per second (frame f at
 * f / fps seconds). AMT_EINVAL for a non-finite sample ("sample I is NaN") or rate <= 0. */
int amt_transcriber_features(const amt_transcriber_config *cfg, const float *x, long len, double rate,
                             float **feat, long *n_frames);

#endif
