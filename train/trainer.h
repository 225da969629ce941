/* train/trainer.h: the generic training loop. A model kind (train/registry.h) builds its
 * parameters and training graph and hands the loop a few callbacks; the loop owns the
 * optimizer, the schedule, checkpoints, the log, progress and Ctrl-C:
 *
 *   for each epoch:  begin_epoch(ctx, epoch, rng_e)                      (optional)
 *     for each step: next_batch(ctx, epoch, index, rng_s)  fills the graph inputs
 *                    zero_grad; forward; backward; [clip]; optimizer step
 *     validate(ctx, &metric, extra)  (higher metric is better)           (optional)
 *     log row (CSV + PNG); DIR/last.h5 (with optimizer state); DIR/best.h5 when the
 *     metric improved (parameters only)
 *
 * Determinism: the random streams given to the callbacks depend only on the run's seed
 * and (epoch) or (step), and before every training forward the loop sets g->step = the
 * step count (dropout masks depend on it), so a run resumed from any checkpoint - an
 * epoch's end or a Ctrl-C in the middle of an epoch - continues exactly as the straight
 * run (bit-identical parameters and losses, same seed and thread count). Callbacks must
 * therefore draw their randomness only from the rng they are given.
 *
 * Checkpoint attributes: epoch = completed epochs, step = steps taken (= g->step of the
 * next forward), rng = the run's base generator (its seed), config = the INI text.
 * Resuming into the same output directory continues its log.csv (rows after the
 * checkpoint's epoch are dropped) and takes the best metric so far from it; into a new
 * directory the log starts empty and the first validation writes best.h5. The training
 * loss logged for an epoch interrupted by Ctrl-C and resumed covers only the steps after
 * the resume (parameters are still bit-identical to a straight run). */
#ifndef AMT_TRAIN_TRAINER_H
#define AMT_TRAIN_TRAINER_H

#include <stdint.h>
#include <stdio.h>

#include "core/graph.h"
#include "core/optim.h"
#include "core/param.h"
#include "core/rng.h"

#define AMT_TRAIN_MAX_EXTRA 12
#define AMT_TRAIN_PATH_MAX 4096

struct amt_config;

/* [train] section. */
typedef struct amt_train_config {
    int epochs;            /* epochs: total epochs of the run, resumed ones included (default 10) */
    int steps_per_epoch;   /* steps_per_epoch: optimizer steps per epoch (0 when absent: the model's) */
    int batch;             /* batch: examples per step (default 16); the model builds its graph with it */
    int seed;              /* seed: initialisation, data order, dropout (default 1) */
    int validate_every;    /* validate_every: epochs between validations (default 1; the last epoch always) */
    int patience;          /* patience: stop after this many validations without improvement (0 = never) */
    double progress_s;     /* progress_seconds: period of progress lines when not on a terminal (default 60) */
    const char *out_dir;   /* out_dir: output directory (NULL when absent; the tool picks one) */
} amt_train_config;

/* Reads [train] with validated getters ("FILE:LINE: train.key: problem" errors). */
int amt_train_config_read(struct amt_config *c, amt_train_config *out);

/* What a model kind gives the loop. */
typedef struct amt_train_model {
    void *ctx;                 /* the model's own state, passed to every callback */
    amt_params *params;        /* every parameter (checkpointed); owned by the model */
    amt_graph *graph;          /* training graph (with_grad = 1); owned by the model */
    amt_tensor *loss;          /* its scalar loss (size 1) */
    int batch;                 /* examples per step (for examples/s) */
    int steps_per_epoch;       /* used when [train] steps_per_epoch is absent (0: then required) */
    const char *metric_name;   /* name of validate's metric, e.g. "val_note_f1" (NULL: "val_metric") */
    int n_extra;               /* extra validation values for the log (<= AMT_TRAIN_MAX_EXTRA) */
    const char *extra_names[AMT_TRAIN_MAX_EXTRA];  /* "...loss..." names go in the loss panel */
    /* Optional: called at the start of each epoch (also a resumed partial one) with a
     * generator that depends only on (seed, epoch), e.g. to shuffle the file order. */
    int (*begin_epoch)(void *ctx, int64_t epoch, amt_rng *rng);
    /* Required: fills the graph inputs for batch `index` (0-based within epoch) with a
     * generator that depends only on (seed, step). AMT_OK or an error (message set). */
    int (*next_batch)(void *ctx, int64_t epoch, int64_t index, amt_rng *rng);
    /* Optional: computes the validation metric (higher is better; NaN = none) and
     * n_extra extra values (pre-set to NaN). May use the training graph with
     * g->training = 0; the loop switches it back. It may set non-trainable parameters
     * (e.g. decoding thresholds tuned on the validation set): the checkpoints of the
     * epoch are written after it. Without validate the loop selects best.h5 by the
     * lowest mean training loss. */
    int (*validate)(void *ctx, double *metric, double *extra);
} amt_train_model;

typedef struct amt_train_opts {
    const char *out_dir;       /* output directory (created); overrides the config's */
    const char *resume;        /* checkpoint to continue from, or NULL */
    const char *model_kind;    /* stored in and checked against checkpoints (required) */
    const char *config_text;   /* INI text stored in checkpoints (NULL = "") */
    FILE *progress;            /* progress and epoch lines (NULL = silent) */
    int progress_tty;          /* 1/0, or -1 = isatty(progress) */
    int catch_signals;         /* install SIGINT/SIGTERM handlers for the run (train/sigint.h) */
} amt_train_opts;

typedef struct amt_train_result {
    int64_t epoch, step;       /* completed epochs and steps at the end */
    double last_loss;          /* mean training loss of the last epoch (NaN if none ran) */
    double best_metric;        /* best selection metric so far (-inf if none) */
    int64_t best_epoch;        /* epoch of best.h5 (0 = none) */
    int signal;                /* the signal that stopped the run (0 = none) */
    int stopped_early;         /* patience ran out */
} amt_train_result;

/* File names inside the output directory. */
#define AMT_TRAIN_LAST "last.h5"
#define AMT_TRAIN_BEST "best.h5"
#define AMT_TRAIN_CSV "log.csv"
#define AMT_TRAIN_PNG "curves.png"

/* Runs the loop until tc->epochs epochs are complete, patience runs out, or a caught
 * signal stops it (then DIR/last.h5 holds the state after the step in progress, r->signal
 * is set and AMT_OK is returned). Errors: AMT_ECONFIG for inconsistent settings (e.g. a
 * checkpoint whose step does not fit steps_per_epoch), AMT_EIO/AMT_EFORMAT for files,
 * AMT_EINVAL when the loss becomes NaN/inf (the step is not applied, nothing is saved),
 * or a callback's error. Prints only to o->progress. */
int amt_train_run(amt_train_model *m, const amt_train_config *tc, const amt_optim_config *oc,
                  const amt_train_opts *o, amt_train_result *r);

/* Creates dir and its parents (like mkdir -p). AMT_EIO naming the directory. */
int amt_mkdir_p(const char *dir);

#endif
