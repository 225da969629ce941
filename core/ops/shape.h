/* core/ops/shape.h: reshape (a view, no copy), slice, concat and transpose (copies).
 * Builders return NULL with a message naming the op and the shapes on a bad argument. */
#ifndef AMT_OP_SHAPE_H
#define AMT_OP_SHAPE_H

#include "../graph.h"

/* Same data, new shape of equal size (amt_graph_view; adds no node). */
amt_tensor *amt_reshape(amt_graph *g, amt_tensor *a, int ndim, const int *shape);
/* a[..., start:start+len, ...] along axis (0 <= start, start + len <= a.shape[axis]). */
amt_tensor *amt_slice(amt_graph *g, amt_tensor *a, int axis, int start, int len);
/* Concatenation of n >= 1 tensors (equal ndim and shapes except along axis). More than
 * AMT_MAX_INPUTS tensors are joined by a chain of concat nodes. */
amt_tensor *amt_concat(amt_graph *g, int n, amt_tensor *const *ts, int axis);
/* Permutes dims: out.shape[i] = a.shape[perm[i]]; perm a permutation of 0..a.ndim-1. */
amt_tensor *amt_transpose(amt_graph *g, amt_tensor *a, const int *perm);

#endif
