#include "tensor.h"

#include <stdio.h>

#include "error.h"

size_t amt_shape_size(int ndim, const int *shape)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) return 0;
        n *= (size_t)shape[i];
    }
    return n;
}

int amt_tensor_set_shape(amt_tensor *t, int ndim, const int *shape)
{
    if (ndim < 1 || ndim > AMT_MAX_DIMS)
        return amt_error(AMT_EINVAL, "tensor rank %d outside 1..%d", ndim, AMT_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] <= 0) return amt_error(AMT_EINVAL, "tensor dimension %d is %d (must be > 0)", i, shape[i]);
    t->ndim = ndim;
    for (int i = 0; i < AMT_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 1;
    t->size = amt_shape_size(ndim, shape);
    return AMT_OK;
}

int amt_tensor_same_shape(const amt_tensor *a, const amt_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

const char *amt_shape_str(const amt_tensor *t, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %d" : "%d", t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
    return buf;
}
