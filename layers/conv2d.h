/* layers/conv2d.h: 2-D convolution layer (N, C, H, W) -> (N, O, OH, OW), see core/ops/conv2d.h.
 * Parameters "<name>/weight" (O, C, KH, KW), He (Kaiming) normal with std sqrt(2 / fan_in),
 * fan_in = C*KH*KW, the right scale for the ReLU networks we build (PyTorch's default is
 * Kaiming uniform with a = sqrt(5), i.e. a smaller scale, which trains deep ReLU stacks
 * slower); "<name>/bias" (O), zeros. */
#ifndef AMT_LAYER_CONV2D_H
#define AMT_LAYER_CONV2D_H

#include "core/graph.h"
#include "core/param.h"
#include "core/rng.h"

typedef struct amt_conv2d_layer {
    int in, out, kh, kw, stride_h, stride_w, pad_h, pad_w;
    amt_tensor *weight;   /* (out, in, kh, kw) */
    amt_tensor *bias;     /* (out), or NULL without bias */
} amt_conv2d_layer;

/* Creates the parameters in ps. Sizes, kernel and stride >= 1, padding >= 0. */
int amt_conv2d_layer_init(amt_conv2d_layer *l, amt_params *ps, const char *name, int in, int out,
                          int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w,
                          int bias, amt_rng *rng);
/* x (N, in, H, W) -> (N, out, OH, OW). */
amt_tensor *amt_conv2d_layer_forward(amt_graph *g, const amt_conv2d_layer *l, amt_tensor *x);

#endif
