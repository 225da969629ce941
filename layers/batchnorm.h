/* layers/batchnorm.h: BatchNorm2d over (N, C, H, W), see core/ops/batchnorm.h.
 * Parameters: "<name>/weight" (gamma, ones) and "<name>/bias" (beta, zeros), trainable;
 * "<name>/running_mean" (zeros) and "<name>/running_var" (ones), non-trainable so
 * checkpoints keep them. Names as PyTorch's state_dict. Defaults as PyTorch:
 * momentum 0.1, eps 1e-5. */
#ifndef AMT_LAYER_BATCHNORM_H
#define AMT_LAYER_BATCHNORM_H

#include "core/graph.h"
#include "core/param.h"

#define AMT_BN_MOMENTUM 0.1f
#define AMT_BN_EPS 1e-5f

typedef struct amt_batchnorm2d_layer {
    int channels;
    float momentum, eps;
    amt_tensor *gamma, *beta, *running_mean, *running_var;
} amt_batchnorm2d_layer;

/* Creates the four parameters in ps; momentum in [0, 1], eps > 0. */
int amt_batchnorm2d_layer_init(amt_batchnorm2d_layer *l, amt_params *ps, const char *name, int channels,
                               float momentum, float eps);
/* x (N, channels, H, W) -> same shape; batch or running statistics by g->training. */
amt_tensor *amt_batchnorm2d_layer_forward(amt_graph *g, const amt_batchnorm2d_layer *l, amt_tensor *x);

#endif
