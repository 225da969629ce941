/* train/registry.h: the model kinds amt-train can train, chosen by [model] kind.
 * Adding a kind is one table entry in registry.c: its amt_model_kind, which reads its own
 * config sections (e.g. [model], [features], [data], [loss]), builds its parameters and
 * training graph for batch tc->batch, and fills the amt_train_model callbacks
 * (train/trainer.h). The loop reads [train] and [optim] (core/optim.h keys). */
#ifndef AMT_TRAIN_REGISTRY_H
#define AMT_TRAIN_REGISTRY_H

#include "train/trainer.h"

struct amt_config;

typedef struct amt_model_kind {
    const char *name;          /* the [model] kind value, also stored in checkpoints */
    const char *description;   /* one line for --help */
    /* Reads the kind's config sections, creates parameters (initialised from tc->seed),
     * data sources and the training graph; fills m (all owned by m->ctx). Config errors
     * AMT_ECONFIG with "FILE:LINE: section.key: problem"; missing data AMT_EIO. On error
     * nothing is left allocated. */
    int (*create)(struct amt_config *cfg, const amt_train_config *tc, amt_train_model *m);
    /* Frees everything create made. */
    void (*destroy)(amt_train_model *m);
} amt_model_kind;

/* The built-in kinds, NULL-terminated. */
const amt_model_kind *const *amt_model_kinds(void);
/* The kind called name in kinds (NULL = the built-in list), or NULL. */
const amt_model_kind *amt_model_kind_find(const amt_model_kind *const *kinds, const char *name);
/* Reads the required [model] kind of c and finds it in kinds (NULL = built-in).
 * AMT_ECONFIG "FILE:LINE: model.kind: 'x' is not one of: a, b" when unknown. */
int amt_model_kind_read(struct amt_config *c, const amt_model_kind *const *kinds, const amt_model_kind **out);

/* The whole training run for a config: reads [train] and [optim], creates the model,
 * rejects unused config keys, runs amt_train_run (opts' model_kind and config_text are
 * filled in from k and c), frees the model. AMT_ECONFIG for any configuration problem
 * (before anything is written), else as amt_train_run. */
int amt_train_with_kind(struct amt_config *c, const amt_model_kind *k, const amt_train_opts *opts, amt_train_result *r);

#endif
