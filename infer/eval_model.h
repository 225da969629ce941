/* infer/eval_model.h: amt-eval's model-driven mode (`amt-eval --model CKPT --data DIR
 * [--split test] [--out report.csv] [--json]`): run a trained model over a dataset split
 * and score it with the eval/ metrics. One function per model kind, each in
 * infer/eval_KIND.c; amt-eval reads the checkpoint's kind and dispatches. Each prints the
 * scores on stdout (JSON with json != 0), per-item rows to out_csv when given, diagnostics
 * on stderr, and returns a process exit code (0 ok, 1 runtime failure, 2 bad usage). */
#ifndef AMT_EVAL_MODEL_H
#define AMT_EVAL_MODEL_H

#include "models/transcriber.h"

typedef struct amt_eval_model_opts {
    const char *model;     /* checkpoint path */
    const char *data;      /* dataset root in the model's layout (MAPS, MIR-1K, IRMAS) */
    const char *split;     /* "test" (default), "train", "val" or "all" */
    const char *out_csv;   /* per-item CSV, or NULL */
    int json;              /* machine-readable summary on stdout */
    int quiet;             /* no progress on stderr */
    amt_tr_knobs knobs;    /* transcriber note decoding, as amt-infer's (< 0: the model's) */
    const char *tune_out;  /* transcriber: tune the decoding thresholds on the split first and
                            * write the model with them here (NULL = no tuning) */
} amt_eval_model_opts;

int amt_eval_transcriber(const amt_eval_model_opts *o);
int amt_eval_separator(const amt_eval_model_opts *o);
int amt_eval_classifier(const amt_eval_model_opts *o);

#endif
