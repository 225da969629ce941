/* core/param.h: the named parameters of a model, shared by all graphs built from it
 * (a training graph at batch 16 and an inference graph at batch 1 use the same tensors).
 * Names are "<layer>/<name>" (e.g. "conv1/weight"); a checkpoint stores each as
 * /params/<layer>/<name>. The store owns each parameter's data and gradient buffers.
 * Non-trainable state (batch-norm running statistics) is a parameter with
 * trainable = 0: saved in checkpoints, never given a gradient or optimizer update. */
#ifndef AMT_PARAM_H
#define AMT_PARAM_H

#include "tensor.h"

#define AMT_PARAM_NAME_MAX 96

typedef struct amt_param {
    char name[AMT_PARAM_NAME_MAX];
    amt_tensor t;    /* t.data (zeroed) and, when trainable, t.grad are owned here */
    int trainable;
    int optional;    /* a checkpoint without it loads, keeping the current value (a setting
                      * added after older checkpoints were written; amt_params_set_optional) */
} amt_param;

typedef struct amt_params {
    amt_param **p;   /* stable pointers: a tensor's address never moves */
    int n, cap;
} amt_params;

void amt_params_init(amt_params *ps);
/* Adds a zero-initialised parameter; returns its tensor or NULL (error set) on a
 * duplicate name, bad shape or out of memory. */
amt_tensor *amt_params_add(amt_params *ps, const char *name, int ndim, const int *shape, int trainable);
/* Marks the parameter called name optional (see amt_param); AMT_EINVAL if there is none. */
int amt_params_set_optional(amt_params *ps, const char *name);
/* The parameter called name, or NULL. */
amt_param *amt_params_find(const amt_params *ps, const char *name);
/* Sets every trainable gradient to zero. */
void amt_params_zero_grad(amt_params *ps);
/* Number of scalar values in trainable parameters (or all when all != 0). */
size_t amt_params_count(const amt_params *ps, int all);
/* Frees all buffers and the store's arrays. */
void amt_params_free(amt_params *ps);

#endif
