/* core/ops/shape.h: reshape (a view, no copy), slice, concat and transpose (copies). */
#ifndef AMT_OP_SHAPE_H
#define AMT_OP_SHAPE_H

#include "../graph.h"

/* Same data, new shape of equal size (amt_graph_view). */
amt_tensor *amt_reshape(amt_graph *g, amt_tensor *a, int ndim, const int *shape);
/* a[..., start:start+len, ...] along axis. */
amt_tensor *amt_slice(amt_graph *g, amt_tensor *a, int axis, int start, int len);
/* Concatenation of n tensors (equal shapes except along axis). */
amt_tensor *amt_concat(amt_graph *g, int n, amt_tensor *const *ts, int axis);
/* Permutes dims: out.shape[i] = a.shape[perm[i]]. */
amt_tensor *amt_transpose(amt_graph *g, amt_tensor *a, const int *perm);

#endif
