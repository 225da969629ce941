/* core/ops/batchnorm.h: batch normalisation over (N, H, W) per channel of (N, C, H, W).
 * Training mode (g->training): batch statistics (biased variance for normalising), and the
 * running statistics updated as PyTorch does (unbiased variance, momentum). Eval mode:
 * running statistics. */
#ifndef AMT_OP_BATCHNORM_H
#define AMT_OP_BATCHNORM_H

#include "../graph.h"

/* gamma, beta (C) trainable; running_mean, running_var (C) non-trainable parameters. */
amt_tensor *amt_batchnorm2d(amt_graph *g, amt_tensor *x, amt_tensor *gamma, amt_tensor *beta,
                            amt_tensor *running_mean, amt_tensor *running_var, float momentum, float eps);

#endif
