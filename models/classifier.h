/* models/classifier.h: the predominant-instrument classifier of Han et al. 2017 ("Deep
 * convolutional neural networks for predominant instrument recognition in polyphonic
 * music"), as the reference (../shared/reference/torch/models.py, Classifier):
 *
 *   patch x (B, 1, n_mels, frames)   1 s of log-mel (128 bands x 43 frames at 22.05 kHz,
 *                                    hop 512), band-major, standardised per patch (below)
 *   -> for each block k = 1..n_blocks (channels c_k = 32, 64, 128, 256):
 *        conv3x3 'same' c_k -> ReLU -> conv3x3 'same' c_k -> ReLU  ("block<k>/conv<j>")
 *        and, after every block but the last: maxpool pool x pool stride pool (3) -> dropout 0.25
 *        (128 x 43 -> 42 x 14 -> 14 x 4 -> 4 x 1)
 *   -> global max pool (B, c_last) -> dense 1024 ("fc1") -> ReLU -> dropout 0.5
 *   -> dense 11 ("fc2") = logits; training loss softmax cross-entropy over the IRMAS classes.
 * convs_per_block (2) is configurable. Parameters: the reference layout has 1,446,123
 * trainable values (exactly the reference's); the store also holds one non-trainable
 * "decode/threshold" (IRMAS multi-label decision threshold, default 0.5, tuned on
 * validation after training, saved in checkpoints like any parameter).
 *
 * Features (amt_classifier_mel_cfg): audio/mel.h at [features] rate (22050 Hz), n_fft
 * (1024, Han et al.'s window; the mel default is librosa's 2048), hop (512), n_mels (128),
 * power 2, compression dB with top_db 80 (or log1p / none), centred frames. The mel of a
 * whole clip is computed in one call (so the top_db floor is relative to the clip's
 * maximum, the same for the training loader, which cuts a whole clip's mel into windows).
 * Window: frames = floor(window_s * rate / hop) = 43 at 1 s (a centred 1 s excerpt has
 * 1 + 22050/512 = 44 frames; the model takes the first 43, as the reference's 43).
 *
 * Input normalisation: each patch is standardised on the host (amt_classifier_patch):
 * x' = (x - mean) / max(std, AMT_CLS_STD_FLOOR) over its n_mels x frames values. In dB a
 * gain change is an additive shift (the top_db floor moves with the maximum), so the model
 * is gain-invariant up to the 1e-10 power floor; silence (constant dB) gives an all-zero
 * patch. Chosen over a BatchNorm on the input (which would learn one global shift and
 * scale, not per-clip gain): no parameters, so the count equals the reference's.
 * [features] normalize = none switches it off (the patch is only transposed).
 *
 * Clip level (amt_classifier_classify): mono audio at any rate -> resample to the model
 * rate (audio/resample.h) -> log-mel of the whole clip, without its last centred frame
 * (centred at the end, half of its window past it: a 1 s clip gives 1 + 22050/512 = 44
 * frames, the first 43 are used, one window) -> windows of `frames` frames every
 * round(hop_s * rate / hop) frames ([infer] hop_seconds 0.5 -> 22 frames) from frame 0, plus
 * one window aligned to the last frame when the regular ones miss the end -> softmax per
 * window -> mean over windows = clip probabilities (sum to 1), arg max = the predominant
 * instrument, and the IRMAS multi-label decision (eval/classification.h
 * amt_multilabel_decide: mean, divided by its maximum when [infer] max_norm, >= the
 * "decode/threshold" parameter). Audio shorter than one window (1 s) is zero-padded at the
 * end to one window (window_s * rate samples at the model rate). Windows run through one
 * inference graph of [infer] batch windows built once by the runner.
 *
 * Memory ownership: amt_classifier owns its parameters; graphs and runners own their
 * arenas; functions taking caller buffers never keep them. */
#ifndef AMT_CLASSIFIER_H
#define AMT_CLASSIFIER_H

#include <stdint.h>

#include "audio/mel.h"
#include "core/config.h"
#include "core/graph.h"
#include "core/param.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/pool.h"

#define AMT_CLASSIFIER_KIND "classifier"   /* [model] kind and checkpoint model attribute */
#define AMT_CLS_NCLASS 11                  /* IRMAS classes */
#define AMT_CLS_MAX_BLOCKS 8
#define AMT_CLS_MAX_CONVS 4                /* convs per block limit */
#define AMT_CLS_STD_FLOOR 1e-4f            /* standardisation: std below this counts as this */
#define AMT_CLS_THRESHOLD_PARAM "decode/threshold"
#define AMT_CLS_DEFAULT_THRESHOLD 0.5f
#define AMT_CLS_PATH_MAX 1024

/* Class codes in model output order: cel cla flu gac gel org pia sax tru vio voi. */
extern const char *const amt_classifier_classes[AMT_CLS_NCLASS];
/* Full names in the same order ("cello", "clarinet", ...). */
extern const char *const amt_classifier_class_names[AMT_CLS_NCLASS];
/* Index of a class code, -1 if unknown. */
int amt_classifier_class_index(const char *code);

enum { AMT_CLS_NORM_NONE = 0, AMT_CLS_NORM_PATCH = 1 };
enum { AMT_CLS_SPLIT_LAYOUT = 0, AMT_CLS_SPLIT_RANDOM = 1 };

typedef struct amt_classifier_config {
    /* [model] */
    int n_blocks;                      /* entries of channels (4) */
    int channels[AMT_CLS_MAX_BLOCKS];  /* channels = 32, 64, 128, 256 */
    int convs_per_block;               /* 2 */
    int kernel;                        /* conv kernel, odd ('same' padding kernel/2) (3) */
    int pool;                          /* max-pool size = stride after all blocks but the last (3) */
    int dense;                         /* fc1 units (1024) */
    float dropout_conv;                /* after each pool (0.25) */
    float dropout_dense;               /* after fc1 (0.5) */
    /* [features] */
    int rate;                          /* Hz (22050) */
    int n_mels, n_fft, hop;            /* 128, 1024, 512 */
    double fmin, fmax;                 /* Hz (0, 0 = rate / 2) */
    int log;                           /* AMT_LOG_DB (db | log1p | none) */
    float log_c;                       /* C of log(1 + C x) (1) */
    float top_db;                      /* dB range kept (80; <= 0: no floor) */
    double window_s;                   /* seconds per patch (1.0) */
    int normalize;                     /* AMT_CLS_NORM_PATCH (patch | none) */
    /* [train] (model-specific keys; batch/seed/epochs are train/trainer.h's) */
    char data_dir[AMT_CLS_PATH_MAX];   /* IRMAS layout root ("" = none given) */
    int split;                         /* AMT_CLS_SPLIT_LAYOUT or _RANDOM */
    double val_fraction;               /* training clips held out for validation (0.1) */
    double gain_db;                    /* augmentation: random gain in +-gain_db dB (0) */
    uint64_t seed;                     /* seed (1): initialisation when init gets seed 0 */
    /* [infer] */
    double hop_s;                      /* seconds between window starts (0.5) */
    int infer_batch;                   /* windows per inference forward (8) */
    int max_norm;                      /* multi-label: divide the mean by its maximum (1) */
    /* derived by amt_classifier_config_check */
    int frames;                        /* frames per patch: floor(window_s * rate / hop) (43) */
} amt_classifier_config;

/* The defaults above (the reference shape). */
void amt_classifier_config_default(amt_classifier_config *c);
/* Reads [model] (kind, if present, must be "classifier"), [features], [train] (data_dir,
 * split, val_fraction, gain_db, seed; batch/epochs are the training loop's) and [infer] over the defaults; every key validated (AMT_ECONFIG
 * "file:line: section.key: ..."), then amt_classifier_config_check. Does not call
 * amt_config_check_unused (the tool does, after reading its own keys). */
int amt_classifier_config_read(amt_config *cfg, amt_classifier_config *out);
/* Cross-field rules and the derived frames: n_fft even and >= hop, kernel odd, fmax <=
 * rate / 2, the patch large enough for every pooling stage ("... the patch (128 x 3) is too
 * small for 3 pooling stages of 3"). AMT_ECONFIG naming the field. */
int amt_classifier_config_check(amt_classifier_config *c);
/* The mel-spectrogram configuration of the model's features (audio/mel.h). */
amt_mel_cfg amt_classifier_mel_cfg(const amt_classifier_config *c);

typedef struct amt_classifier {
    amt_classifier_config cfg;
    amt_params params;                 /* owned */
    amt_conv2d_layer conv[AMT_CLS_MAX_BLOCKS][AMT_CLS_MAX_CONVS];
    amt_maxpool2d_layer pool;
    amt_dropout_layer drop_conv, drop_dense;
    amt_linear_layer fc1, fc2;
    amt_tensor *threshold;             /* "decode/threshold" (1), non-trainable */
} amt_classifier;

/* Checks cfg, creates the parameters ("block<k>/conv<j>/weight|bias", k, j from 1,
 * "fc1/...", "fc2/...", "decode/threshold") initialised from seed (cfg->seed when seed ==
 * 0): He normal convs, Glorot uniform dense layers, zero biases. */
int amt_classifier_init(amt_classifier *m, const amt_classifier_config *cfg, uint64_t seed);
void amt_classifier_free(amt_classifier *m);
/* Loads a checkpoint: builds the model from the config stored in it, then loads its
 * parameters. Another model kind is AMT_EFORMAT naming the file. m untouched on error. */
int amt_classifier_load(const char *path, amt_classifier *m);
/* The stored multi-label threshold. */
float amt_classifier_threshold(const amt_classifier *m);

/* One patch from a log-mel spectrogram: mel holds frames rows of n_mels values (time-major,
 * as audio/mel.h writes; the caller passes &mel[t0 * n_mels] for a window at frame t0);
 * out (n_mels x frames, band-major: the model's (1, n_mels, frames) input) gets the
 * transpose, standardised when [features] normalize = patch. No allocation. */
void amt_classifier_patch(const amt_classifier *m, const float *mel, float *out);

typedef struct amt_cls_graph {
    amt_graph *g;          /* owned */
    int batch;
    amt_tensor *x;         /* input (B, 1, n_mels, frames): patches from amt_classifier_patch */
    int *labels;           /* training: B class indices in [0, 11) the caller fills (graph arena) */
    amt_tensor *logits;    /* (B, 11) */
    amt_tensor *loss;      /* training: mean softmax cross-entropy (1); inference NULL */
} amt_cls_graph;

/* Builds the network on an existing graph from input x (B, 1, n_mels, frames); with labels
 * (B ints the caller fills before each forward) also the loss. Fills out (out->g = g is NOT
 * owned: do not call amt_cls_graph_free; for gradient checks of the input). */
int amt_classifier_attach(const amt_classifier *m, amt_graph *g, amt_tensor *x, int *labels, amt_cls_graph *out);
/* Training graph (gradients on, dropout active while g->training) for batch patches. */
int amt_classifier_build_train(const amt_classifier *m, int batch, uint64_t seed, amt_cls_graph *out);
/* Inference graph (no gradients, eval mode) for batch patches: output logits only. */
int amt_classifier_build_infer(const amt_classifier *m, int batch, amt_cls_graph *out);
void amt_cls_graph_free(amt_cls_graph *cg);

/* Softmax of each of rows rows of k logits into probs (may alias), stable. */
void amt_softmax_rows(const float *logits, int rows, int k, float *probs);

/* Clip-level runner: the mel extractor and the inference graph of [infer] batch windows. */
typedef struct amt_cls_infer amt_cls_infer;
/* batch <= 0 takes the model's [infer] batch. m must outlive the runner. NULL (error set). */
amt_cls_infer *amt_cls_infer_new(const amt_classifier *m, int batch);
void amt_cls_infer_free(amt_cls_infer *r);

/* A clip's result. */
typedef struct amt_cls_result {
    float probs[AMT_CLS_NCLASS];       /* mean of the window softmaxes (sum to 1) */
    int top;                           /* arg max of probs (first on ties) */
    unsigned char labels[AMT_CLS_NCLASS]; /* multi-label decision (>= threshold, see top) */
    int windows;                       /* windows averaged */
} amt_cls_result;

/* Classifies mono audio (frames samples at rate Hz, any rate) as described at the top.
 * Errors (AMT_EINVAL, message names the problem): frames < 1, rate <= 0, a non-finite
 * sample ("classifier: sample 17 is NaN"). Memory: the resampled signal and its mel
 * (O(frames) floats, malloc'd and freed here) plus the runner's graph; a signal too long
 * to hold goes through models/classifier_stream.h instead (the same numbers). */
int amt_classifier_classify(amt_cls_infer *r, const float *audio, long frames, int rate, amt_cls_result *res);
/* Same from a log-mel spectrogram already computed with amt_classifier_mel_cfg (n_frames
 * rows of n_mels); n_frames < frames pads with the row the model sees for silence (the
 * minimum value of mel) at the end. Writes per-window probabilities into win_probs
 * (windows x 11, may be NULL; amt_classifier_n_windows gives the count). */
int amt_classifier_classify_mel(amt_cls_infer *r, const float *mel, long n_frames, amt_cls_result *res,
                                float *win_probs);
/* The clip-level accumulation under classify, classify_mel and models/classifier_stream.h:
 * begin a clip (win_probs as in classify_mel, or NULL), add its windows in order (mel:
 * frames x n_mels values of one window, contiguous; run in batches of the runner's
 * batch), end it: the mean of the window softmaxes and the decision into res. AMT_EINVAL
 * for a non-finite mel value or a clip without windows. */
void amt_cls_infer_begin(amt_cls_infer *r, float *win_probs);
int amt_cls_infer_window(amt_cls_infer *r, const float *mel);
int amt_cls_infer_end(amt_cls_infer *r, amt_cls_result *res);
/* The runner's model, its mel extractor (owned by r) and the window step in frames. */
const amt_classifier *amt_cls_infer_model(const amt_cls_infer *r);
amt_melspec *amt_cls_infer_mel(amt_cls_infer *r);
long amt_cls_infer_step(const amt_cls_infer *r);
/* Frames of a clip's log-mel of n_frames frames that the windows use: its last, centred
 * frame (the window mostly past the end) is dropped while more than `frames` remain. */
long amt_classifier_used_frames(const amt_classifier *m, long n_frames);
/* Number of windows a spectrogram of n_frames frames gives (>= 1). */
long amt_classifier_n_windows(const amt_classifier *m, long n_frames);

#endif
