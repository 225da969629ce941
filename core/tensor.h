/* core/tensor.h: a float32 contiguous (row-major) tensor of up to 4 dimensions.
 * A tensor does not own memory: graph tensors point into the graph's arena, parameter
 * tensors into their amt_params store. Layout conventions: images (N, C, H, W),
 * sequences (B, T, F). */
#ifndef AMT_TENSOR_H
#define AMT_TENSOR_H

#include <stddef.h>

#define AMT_MAX_DIMS 4

typedef struct amt_tensor {
    int ndim;                 /* 1..AMT_MAX_DIMS */
    int shape[AMT_MAX_DIMS];  /* unused trailing entries are 1 */
    size_t size;              /* product of shape[0..ndim) */
    float *data;              /* size floats */
    float *grad;              /* size floats, or NULL when no gradient is kept */
    int requires_grad;        /* 1 for parameters and anything computed from them */
    const char *name;         /* optional, for messages; not owned */
} amt_tensor;

/* Product of the first ndim entries of shape (0 if any is <= 0). */
size_t amt_shape_size(int ndim, const int *shape);
/* Fills t's shape fields (ndim, shape, size); data/grad untouched. Returns AMT_EINVAL
 * (with message) for ndim outside 1..4 or a non-positive dimension. */
int amt_tensor_set_shape(amt_tensor *t, int ndim, const int *shape);
/* 1 if a and b have the same ndim and shape. */
int amt_tensor_same_shape(const amt_tensor *a, const amt_tensor *b);
/* Writes "(2, 3, 4)" into buf; returns buf. */
const char *amt_shape_str(const amt_tensor *t, char *buf, size_t n);

#endif
