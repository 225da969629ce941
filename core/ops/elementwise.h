/* core/ops/elementwise.h: pointwise ops, OpenMP-parallel over elements (from
 * AMT_OMP_MIN_ELEMS values on; results do not depend on the thread count).
 * Binary ops take equal shapes, or b broadcast over a's leading dims when b's shape equals
 * the trailing dims of a (e.g. a (B, T, F) with b (F) or (T, F)); the output has a's
 * shape and b's gradient sums over the broadcast dims (in double, rows in order). A
 * per-channel bias for (N, C, H, W) is amt_add_channel. Builders return NULL (error
 * "add: shapes (2, 3) and (4) do not broadcast", ...) on a shape mismatch. */
#ifndef AMT_OP_ELEMENTWISE_H
#define AMT_OP_ELEMENTWISE_H

#include "../graph.h"

amt_tensor *amt_add(amt_graph *g, amt_tensor *a, amt_tensor *b);
amt_tensor *amt_sub(amt_graph *g, amt_tensor *a, amt_tensor *b);
amt_tensor *amt_mul(amt_graph *g, amt_tensor *a, amt_tensor *b);
amt_tensor *amt_div(amt_graph *g, amt_tensor *a, amt_tensor *b);  /* b must not be 0 */
/* a (N, C, ...) + b (C): bias per channel (dim 1); a needs >= 2 dims. */
amt_tensor *amt_add_channel(amt_graph *g, amt_tensor *a, amt_tensor *b);
/* s * a + c (scalars fixed at build time). */
amt_tensor *amt_affine_scalar(amt_graph *g, amt_tensor *a, float s, float c);
amt_tensor *amt_abs(amt_graph *g, amt_tensor *a);       /* d|x|/dx = sign(x), 0 at 0 */
amt_tensor *amt_sigmoid(amt_graph *g, amt_tensor *a);
amt_tensor *amt_tanh(amt_graph *g, amt_tensor *a);
amt_tensor *amt_relu(amt_graph *g, amt_tensor *a);      /* gradient 0 at 0 */
amt_tensor *amt_softplus(amt_graph *g, amt_tensor *a);  /* log(1 + e^x), stable */
/* log(1 + c x), for x >= 0 and c > 0 (magnitude compression); NaN where 1 + c x <= 0. */
amt_tensor *amt_log1p_scaled(amt_graph *g, amt_tensor *a, float c);

#endif
