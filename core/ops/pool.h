/* core/ops/pool.h: max pooling (no padding, floor mode as PyTorch) and global max pool. */
#ifndef AMT_OP_POOL_H
#define AMT_OP_POOL_H

#include "../graph.h"

/* x (N, C, H, W) -> (N, C, (H - kh) / sh + 1, (W - kw) / sw + 1). Ties: first maximum. */
amt_tensor *amt_maxpool2d(amt_graph *g, amt_tensor *x, int kh, int kw, int sh, int sw);
/* x (N, C, H, W) -> (N, C): max over H and W. */
amt_tensor *amt_global_maxpool(amt_graph *g, amt_tensor *x);

#endif
