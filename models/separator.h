/* models/separator.h: the singing-voice separator of Huang et al. 2014 ("Singing-voice
 * separation from monaural recordings using deep recurrent neural networks"), with LSTM
 * layers in place of their RNN:
 *
 *   mixture magnitude x (B, T, bins)  [bins = n_fft/2 + 1, linear magnitude of audio/stft.h]
 *     -> features f (B, T, in):  log(1 + x) when [features] log, and +-context neighbouring
 *        frames concatenated (frame t-k first ... t+k last; frames outside the clip are 0);
 *        in = bins * (2 context + 1). Made on the host (amt_separator_features), so block
 *        inference can take the neighbours of a block from the whole spectrogram.
 *     -> LSTM stack (layers/lstm.h, "lstm/...": layers x hidden, optionally bidirectional)
 *     -> two Linear heads hidden -> bins ("head1", "head2") + ReLU = y1, y2 >= 0
 *     -> Mask layer (layers/mask.h): s1 = |y1| / (|y1| + |y2| + eps) * x, s2 = x - s1
 *     -> discriminative loss (training): mse(s1,t1) + mse(s2,t2) - gamma (mse(s1,t2) + mse(s2,t1))
 * s1 = voice, s2 = accompaniment ("music"). The mask multiplies the LINEAR mixture
 * magnitude whatever the features are. One LSTM bias per gate unit (PyTorch's b_ih + b_hh):
 * the reference shape (513 -> 2 x 256 -> heads) has 1,577,474 parameters, PyTorch's
 * 1,579,522 minus its duplicate 2 x 1024 recurrent biases.
 *
 * Block inference (amt_sep_infer_masks): one inference graph of (1, N, in) is built once
 * (N = [infer] block_frames) and replayed over blocks starting every S = N - W frames
 * (W = [infer] overlap_frames, even, N >= 2 W); the last block is aligned to the end of
 * the spectrogram (so every block is full). A spectrogram shorter than N runs the block
 * graph with zero features after its end (a unidirectional model is causal: its outputs
 * do not depend on them), or, bidirectional, a temporary graph of its own length. The LSTM starts from zero state in each block, so in the overlap of
 * block b and b+1 (which starts at s): frames [s, s + f0) come from block b only (b+1
 * warms up), frames [s + f0, s + f0 + W/2) cross-fade linearly from b to b+1 (weight of
 * b+1 = (j + 0.5) / (W/2) at the j-th frame), later frames come from block b+1. f0 = W/2
 * for a unidirectional model (block b's frames up to its end have their whole past); f0 =
 * W/4 for a bidirectional one, whose reverse stack also starts from zero at the block's end:
 * then both blocks have >= W/4 frames of warm-up wherever they count. Memory: the graph of
 * N frames, whatever the length. Measured (tests/test_separator.c, random tiny models): the
 * mask differs from one-block inference by ~1e-3 at W = 64 (unidirectional 0.9e-3,
 * bidirectional 1.1e-3; 3e-3 at W = 32, 1.6e-2 at W = 16); the default W = 64 gives 32
 * (16) frames = 0.5 s (0.25 s) of warm-up at hop 256, 16 kHz.
 *
 * Audio (amt_separator_separate): any rate, any channel count. The mean of the channels
 * (mid) and every channel are resampled to [features] rate. The mid's STFT magnitude gives
 * the voice mask M (above); each channel's voice is ISTFT(M * STFT(x_c)) (the mixture
 * phase: a real mask keeps each bin's phase), resampled back to the input rate and length,
 * and music_c = x_c - voice_c at the input rate. So voice + music == mixture up to the float
 * rounding of one subtraction (the partition holds by construction), every channel keeps
 * its own image (> 2 channels alike: the mid's mask on each), and what the model's band
 * cannot hold (above its rate / 2, e.g. 8-22 kHz of a 44.1 kHz file) stays in music.
 * Computing music through the ISTFT too (ISTFT((1 - M) X), the magnitude partition) would
 * add the STFT/ISTFT round-off and the resampling loss; tests/test_separator.c measures the
 * former at 16 kHz (~1e-7).
 * Long inputs go in segments of [infer] segment_frames frames (8192 = 131 s) overlapping by
 * W frames, at the model rate: each segment's STFT, masks (block inference) and ISTFT are
 * computed alone; the next segment skips the first W/4 frames' samples of the overlap (LSTM
 * warm-up, STFT edge) and cross-fades the waveform over the next W/2. Memory: the input,
 * the outputs, (2 channels + 1) signals at the model rate (n16 floats each) and one segment's
 * spectra (~6 x segment_frames x bins floats, 100 MB at the defaults), never the whole
 * file's spectrogram.
 *
 * Memory ownership: amt_separator owns its parameters (amt_params); graphs and runners own
 * their arenas; functions taking caller buffers never keep them. */
#ifndef AMT_SEPARATOR_H
#define AMT_SEPARATOR_H

#include <stdint.h>

#include "core/config.h"
#include "core/graph.h"
#include "core/optim.h"
#include "core/param.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/mask.h"

#define AMT_SEPARATOR_KIND "separator"   /* [model] kind and checkpoint model attribute */
#define AMT_SEP_MAX_CONTEXT 8            /* [features] context limit (frames each side) */
#define AMT_SEP_PATH_MAX 1024

enum { AMT_SEP_SPLIT_HUANG = 0, AMT_SEP_SPLIT_RANDOM = 1 };

typedef struct amt_separator_config {
    /* [model] */
    int hidden;            /* LSTM units per direction (256) */
    int layers;            /* LSTM layers (2) */
    int bidirectional;     /* 0 */
    float eps;             /* mask denominator guard (1e-8) */
    /* [features] */
    int rate;              /* Hz the model works at (16000) */
    int n_fft, hop;        /* STFT, samples (1024, 256); Hann window, centred */
    int log;               /* features log(1 + x) (0) */
    int context;           /* neighbouring frames each side in the features (0) */
    /* [loss] */
    float gamma;           /* discriminative weight (0.05) */
    /* [optim] */
    amt_optim_config optim;   /* core/optim.h (Adam 1e-3 by default) */
    /* [train] */
    int batch;             /* sequences per step (16) */
    int seq_frames;        /* frames per sequence (100) */
    int epochs;            /* (10, as train/trainer.h) */
    char data_dir[AMT_SEP_PATH_MAX];   /* MIR-1K layout root ("" = none given) */
    int split;             /* AMT_SEP_SPLIT_HUANG (singers abjones, amy train) or _RANDOM */
    double val_fraction;   /* training clips held out for validation (0.1) */
    uint64_t seed;         /* initialisation, shuffling (1) */
    /* [infer] */
    int block_frames;      /* N of the block inference (1000 = 16 s at hop 256, 16 kHz) */
    int overlap_frames;    /* W (64); even, block_frames >= 2 W */
    int segment_frames;    /* audio segment of amt_separator_separate (8192); > 2 W */
} amt_separator_config;

/* The defaults above (the reference shape). */
void amt_separator_config_default(amt_separator_config *c);
/* Reads [model] (kind must be "separator"), [features], [loss], [optim], [train], [infer]
 * over the defaults; every key validated (AMT_ECONFIG "file:line: section.key: ..."). Does
 * not call amt_config_check_unused (the tool does, after reading its own keys). */
int amt_separator_config_read(amt_config *cfg, amt_separator_config *out);
/* Checks the cross-field rules (n_fft even, hop <= n_fft, overlap even and block >= 2 overlap,
 * ...): AMT_ECONFIG naming the field. */
int amt_separator_config_check(const amt_separator_config *c);

typedef struct amt_separator {
    amt_separator_config cfg;
    int bins;              /* n_fft / 2 + 1 */
    int in_features;       /* bins * (2 context + 1) */
    amt_params params;     /* owned */
    amt_lstm_layer lstm;
    amt_linear_layer head1, head2;
    amt_mask_layer mask;
} amt_separator;

/* Creates the parameters (names "lstm/l<k>/w_ih|w_hh|b" [+ "lstm/rev/..."],
 * "head1/weight|bias", "head2/weight|bias") initialised from cfg->seed. */
int amt_separator_init(amt_separator *m, const amt_separator_config *cfg);
void amt_separator_free(amt_separator *m);
/* Loads a checkpoint: builds the model from the config stored in it (checked as above),
 * then loads its parameters. A checkpoint of another model kind is AMT_EFORMAT naming the
 * file and both kinds. m is untouched on error. */
int amt_separator_load(const char *path, amt_separator *m);

/* Features of frames t0 .. t0+T-1 of one clip's magnitude mag (n_frames x bins, linear):
 * feat (T x in_features). Neighbours outside [0, n_frames) are 0. No allocation. */
void amt_separator_features(const amt_separator *m, const float *mag, long n_frames, long t0, int T, float *feat);

/* Magnitude STFT of mono audio x (n samples, already at [features] rate) with the model's
 * STFT: *mag malloc'd (caller frees), *n_frames x bins, linear. For training data. */
int amt_separator_magnitude(const amt_separator *m, const float *x, long n, float **mag, long *n_frames);

/* A graph of the separator for (batch, frames). Inputs the caller fills before each forward:
 * feat (B, T, in_features) (amt_separator_features per sequence), mix (B, T, bins) the
 * linear mixture magnitude, and in training voice, music (B, T, bins) target magnitudes.
 * feat == mix (one tensor) when the features are the plain magnitude (log 0, context 0) in
 * a training graph. */
typedef struct amt_sep_graph {
    amt_graph *g;          /* owned */
    int batch, frames;
    amt_tensor *feat, *mix, *voice, *music;   /* inputs (voice, music NULL in inference) */
    amt_tensor *y1, *y2;   /* head outputs after ReLU */
    amt_tensor *s1, *s2;   /* training: voice and music estimates; inference: s1 = mask, s2 NULL */
    amt_tensor *loss;      /* training: scalar discriminative loss; inference NULL */
} amt_sep_graph;

/* Training graph (gradients on) with the configured gamma; seed for the graph's streams. */
int amt_separator_build_train(const amt_separator *m, int batch, int frames, uint64_t seed, amt_sep_graph *out);
/* Fills batch slot b of a training graph with frames [t0, t0 + T) of one clip (T = the
 * graph's frames): mix, voice, music magnitudes (n_frames x bins each, t0 + T <= n_frames),
 * and the features (taking context frames from the whole clip). AMT_EINVAL on a bad slot
 * or range. */
int amt_separator_fill(const amt_separator *m, amt_sep_graph *sg, int b, const float *mix, const float *voice,
                       const float *music, long n_frames, long t0);
/* Inference graph (no gradients) of (1, frames): input feat only (mix is a constant of
 * ones), output s1 = the voice mask in [0, 1] (frames x bins). */
int amt_separator_build_infer(const amt_separator *m, int frames, amt_sep_graph *out);
void amt_sep_graph_free(amt_sep_graph *sg);

/* Block inference runner: the inference graph of N frames, built once. */
typedef struct amt_sep_infer amt_sep_infer;
/* block_frames, overlap_frames <= 0 take the model's [infer] values. NULL (error set) on
 * bad sizes or no memory. m must outlive the runner. */
amt_sep_infer *amt_sep_infer_new(const amt_separator *m, int block_frames, int overlap_frames);
void amt_sep_infer_free(amt_sep_infer *r);
/* Optional: amt_separator_separate calls fn(ctx, fraction done in 0..1) after each segment
 * (for a progress line); NULL switches it off. */
void amt_sep_infer_on_progress(amt_sep_infer *r, void (*fn)(void *ctx, double fraction), void *ctx);
/* Bytes the runner holds (graph arena + block buffers): independent of the input length. */
size_t amt_sep_infer_bytes(const amt_sep_infer *r);
/* Voice mask (n_frames x bins, values in [0, 1]) of a whole magnitude spectrogram mag
 * (n_frames x bins, linear), by blocks as described at the top. mask must not alias mag.
 * n_frames >= 1. A spectrogram shorter than a block: see the top (only a bidirectional
 * model builds a temporary graph then). */
int amt_sep_infer_masks(amt_sep_infer *r, const float *mag, long n_frames, float *mask);

/* Separates interleaved audio (frames x channels at rate Hz, any rate and channel count)
 * into voice and music (caller buffers of frames x channels each, same layout) as described
 * at the top. Errors (AMT_EINVAL, message names the problem): frames < 1, channels < 1,
 * rate <= 0, a non-finite sample ("... sample at frame F channel C is NaN"). Silence gives
 * silence. Memory: see the top (segments). */
int amt_separator_separate(amt_sep_infer *r, const float *audio, long frames, int channels, int rate,
                           float *voice, float *music);

#endif
