/* core/ops/conv2d.h: 2-D convolution (cross-correlation, as PyTorch) on (N, C, H, W). */
#ifndef AMT_OP_CONV2D_H
#define AMT_OP_CONV2D_H

#include "../graph.h"

/* x (N, C, H, W), w (O, C, KH, KW), b (O) or NULL; zero padding pad_h/pad_w on each side.
 * out (N, O, (H + 2 pad_h - KH) / stride_h + 1, (W + 2 pad_w - KW) / stride_w + 1). */
amt_tensor *amt_conv2d(amt_graph *g, amt_tensor *x, amt_tensor *w, amt_tensor *b,
                       int stride_h, int stride_w, int pad_h, int pad_w);

#endif
