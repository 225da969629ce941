/* layers/pool.h: MaxPool2d and GlobalMaxPool (no parameters), see core/ops/pool.h. */
#ifndef AMT_LAYER_POOL_H
#define AMT_LAYER_POOL_H

#include "core/graph.h"

typedef struct amt_maxpool2d_layer { int kh, kw, sh, sw; } amt_maxpool2d_layer;

/* Kernel kh x kw, stride sh x sw (PyTorch's default stride = kernel: pass it). */
int amt_maxpool2d_layer_init(amt_maxpool2d_layer *l, int kh, int kw, int sh, int sw);
/* x (N, C, H, W) -> (N, C, (H - kh) / sh + 1, (W - kw) / sw + 1). */
amt_tensor *amt_maxpool2d_layer_forward(amt_graph *g, const amt_maxpool2d_layer *l, amt_tensor *x);
/* x (N, C, H, W) -> (N, C). */
amt_tensor *amt_global_maxpool_layer_forward(amt_graph *g, amt_tensor *x);

#endif
