/* train/kinds.h: the model kinds built into amt-train, one file each (train/kind_NAME.c):
 * each connects a model (models/), its dataset loader (datasets/) and the training loop. */
#ifndef AMT_TRAIN_KINDS_H
#define AMT_TRAIN_KINDS_H

#include "train/registry.h"

extern const amt_model_kind amt_transcriber_kind;   /* MAPS layout -> models/transcriber */
extern const amt_model_kind amt_separator_kind;     /* MIR-1K layout -> models/separator */
extern const amt_model_kind amt_classifier_kind;    /* IRMAS layout -> models/classifier */

#endif
