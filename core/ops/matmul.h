/* core/ops/matmul.h: matrix products through OpenBLAS cblas_sgemm (forward and backward). */
#ifndef AMT_OP_MATMUL_H
#define AMT_OP_MATMUL_H

#include "../graph.h"

/* C = op(A) op(B) for 2-D A, B; op transposes when trans_* is set: A (M, K) or (K, M) with
 * trans_a, B (K, N) or (N, K) with trans_b, C (M, N). Shapes checked ("matmul: ..."). */
amt_tensor *amt_matmul(amt_graph *g, amt_tensor *a, amt_tensor *b, int trans_a, int trans_b);
/* y = x W^T + b. x (..., in) with any leading dims (flattened to rows), W (out, in), b (out)
 * or NULL. y (..., out). Shapes checked ("linear: ..."). */
amt_tensor *amt_linear(amt_graph *g, amt_tensor *x, amt_tensor *w, amt_tensor *b);

#endif
