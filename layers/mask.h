/* layers/mask.h: the time-frequency Mask layer of Huang et al. 2014 (no parameters).
 * Given two network outputs y1, y2 (non-negative in the separator, |.| taken anyway) and
 * the mixture magnitude x, all of one shape (e.g. (B, T, F)):
 *   s1 = |y1| / (|y1| + |y2| + eps) * x,   s2 = x - s1
 * so s1 + s2 = x exactly (the partition). Follows the layers/linear.h pattern: _init sets
 * the sizes once, _forward adds ops to any number of graphs. */
#ifndef AMT_LAYER_MASK_H
#define AMT_LAYER_MASK_H

#include "core/graph.h"

typedef struct amt_mask_layer {
    float eps;     /* denominator guard, AMT_MASK_EPS by default */
    float gamma;   /* discriminative weight of the loss, AMT_DISCRIM_GAMMA by default */
} amt_mask_layer;

/* eps <= 0 or gamma < 0 give AMT_EINVAL ("mask layer: ..."). */
int amt_mask_layer_init(amt_mask_layer *l, float eps, float gamma);
/* Returns s1 and writes s2 (both graph tensors of x's shape); NULL (s2 NULL) on error. */
amt_tensor *amt_mask_layer_forward(amt_graph *g, const amt_mask_layer *l, amt_tensor *y1, amt_tensor *y2,
                                   amt_tensor *x, amt_tensor **s2);
/* The discriminative loss of (s1, s2) against targets (t1, t2) with the layer's gamma
 * (amt_discriminative_loss): a scalar. */
amt_tensor *amt_mask_layer_loss(amt_graph *g, const amt_mask_layer *l, amt_tensor *s1, amt_tensor *s2,
                                amt_tensor *t1, amt_tensor *t2);

#endif
