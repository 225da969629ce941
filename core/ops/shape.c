/* core/ops/shape.c: reshape, slice, concat, transpose; forward copies, backward adds. */
#include "shape.h"

#include <stdio.h>
#include <string.h>

#include "../error.h"
#include "reduce.h"

amt_tensor *amt_reshape(amt_graph *g, amt_tensor *a, int ndim, const int *shape)
{
    if (!a) return NULL;
    char sa[64];
    size_t n = (ndim >= 1 && ndim <= AMT_MAX_DIMS) ? amt_shape_size(ndim, shape) : 0;
    if (n != a->size) {
        char buf[64];
        size_t k = (size_t)snprintf(buf, sizeof buf, "(");
        for (int i = 0; i < ndim && i < AMT_MAX_DIMS && k < sizeof buf; i++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, i ? ", %d" : "%d", shape[i]);
        if (k < sizeof buf) snprintf(buf + k, sizeof buf - k, ")");
        return amt_graph_fail(g, AMT_EINVAL, "reshape: cannot reshape %s (%zu values) to %s (rank %d, %zu values)",
                              amt_shape_str(a, sa, sizeof sa), a->size, buf, ndim, n);
    }
    return amt_graph_view(g, a, ndim, shape);
}

/* outer x (axis dim) x inner decomposition */
static void split_axis(const amt_tensor *t, int axis, size_t *outer, size_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)t->shape[i];
    for (int i = axis + 1; i < t->ndim; i++) *inner *= (size_t)t->shape[i];
}

/* ------------------------------------------------------------ slice */

typedef struct { size_t outer, inner, dim, start, len; } slice_attr;

static void slice_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const slice_attr *at = n->attr;
    const float *a = n->in[0]->data;
    float *y = n->out->data;
    size_t chunk = at->len * at->inner;
    for (size_t o = 0; o < at->outer; o++)
        memcpy(y + o * chunk, a + (o * at->dim + at->start) * at->inner, chunk * sizeof(float));
}

static void slice_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const slice_attr *at = n->attr;
    float *da = n->in[0]->grad;
    const float *dy = n->out->grad;
    size_t chunk = at->len * at->inner;
    long outer = (long)at->outer;
    #pragma omp parallel for schedule(static) if (at->outer * chunk >= AMT_OMP_MIN_ELEMS)
    for (long o = 0; o < outer; o++) {
        float *d = da + ((size_t)o * at->dim + at->start) * at->inner;
        const float *s = dy + (size_t)o * chunk;
        for (size_t i = 0; i < chunk; i++) d[i] += s[i];
    }
}

static const amt_op slice_op = {"slice", slice_fwd, slice_bwd};

amt_tensor *amt_slice(amt_graph *g, amt_tensor *a, int axis, int start, int len)
{
    if (!a) return NULL;
    char sa[64];
    if (axis < 0 || axis >= a->ndim || start < 0 || len <= 0 || start + len > a->shape[axis])
        return amt_graph_fail(g, AMT_EINVAL, "slice: axis %d [%d, %d) out of range for %s",
                              axis, start, start + len, amt_shape_str(a, sa, sizeof sa));
    int shape[AMT_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) shape[i] = a->shape[i];
    shape[axis] = len;
    amt_tensor *y = amt_graph_output(g, a->ndim, shape, 1, &a);
    slice_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    split_axis(a, axis, &at->outer, &at->inner);
    at->dim = (size_t)a->shape[axis];
    at->start = (size_t)start;
    at->len = (size_t)len;
    return amt_graph_node(g, &slice_op, y, 1, &a, at) ? y : NULL;
}

/* ------------------------------------------------------------ concat */

typedef struct { size_t outer, inner, out_dim; } concat_attr;

static void concat_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const concat_attr *at = n->attr;
    float *y = n->out->data;
    size_t row = at->out_dim * at->inner, off = 0;
    for (int k = 0; k < n->n_in; k++) {
        const amt_tensor *t = n->in[k];
        size_t chunk = t->size / at->outer;
        for (size_t o = 0; o < at->outer; o++)
            memcpy(y + o * row + off, t->data + o * chunk, chunk * sizeof(float));
        off += chunk;
    }
}

static void concat_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const concat_attr *at = n->attr;
    const float *dy = n->out->grad;
    size_t row = at->out_dim * at->inner, off = 0;
    for (int k = 0; k < n->n_in; k++) {
        amt_tensor *t = n->in[k];
        size_t chunk = t->size / at->outer;
        if (t->grad) {
            long outer = (long)at->outer;
            #pragma omp parallel for schedule(static) if (t->size >= AMT_OMP_MIN_ELEMS)
            for (long o = 0; o < outer; o++) {
                float *d = t->grad + (size_t)o * chunk;
                const float *s = dy + (size_t)o * row + off;
                for (size_t i = 0; i < chunk; i++) d[i] += s[i];
            }
        }
        off += chunk;
    }
}

static const amt_op concat_op = {"concat", concat_fwd, concat_bwd};

amt_tensor *amt_concat(amt_graph *g, int n, amt_tensor *const *ts, int axis)
{
    if (n < 1 || !ts) return amt_graph_fail(g, AMT_EINVAL, "concat: needs at least one tensor (got %d)", n);
    for (int k = 0; k < n; k++)
        if (!ts[k]) return NULL;
    if (n > AMT_MAX_INPUTS) {   /* a chain: the running result plus up to 7 more each */
        amt_tensor *cur = amt_concat(g, AMT_MAX_INPUTS, ts, axis);
        for (int k = AMT_MAX_INPUTS; cur && k < n;) {
            amt_tensor *grp[AMT_MAX_INPUTS];
            int c = 0;
            grp[c++] = cur;
            while (c < AMT_MAX_INPUTS && k < n) grp[c++] = ts[k++];
            cur = amt_concat(g, c, grp, axis);
        }
        return cur;
    }
    const amt_tensor *t0 = ts[0];
    char s0[64], sk[64];
    if (axis < 0 || axis >= t0->ndim)
        return amt_graph_fail(g, AMT_EINVAL, "concat: axis %d out of range for %s", axis, amt_shape_str(t0, s0, sizeof s0));
    int out_dim = 0;
    for (int k = 0; k < n; k++) {
        const amt_tensor *t = ts[k];
        int ok = t->ndim == t0->ndim;
        for (int i = 0; ok && i < t0->ndim; i++) ok = i == axis || t->shape[i] == t0->shape[i];
        if (!ok)
            return amt_graph_fail(g, AMT_EINVAL, "concat: tensor %d %s does not match tensor 0 %s except along axis %d",
                                  k, amt_shape_str(t, sk, sizeof sk), amt_shape_str(t0, s0, sizeof s0), axis);
        out_dim += t->shape[axis];
    }
    int shape[AMT_MAX_DIMS];
    for (int i = 0; i < t0->ndim; i++) shape[i] = t0->shape[i];
    shape[axis] = out_dim;
    amt_tensor *y = amt_graph_output(g, t0->ndim, shape, n, ts);
    concat_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    split_axis(t0, axis, &at->outer, &at->inner);
    at->out_dim = (size_t)out_dim;
    return amt_graph_node(g, &concat_op, y, n, ts, at) ? y : NULL;
}

/* ------------------------------------------------------------ transpose */

/* out index (i0, i1, i2, i3) over the 4-D padded out shape reads a at sum i_d * istr[d]
 * where istr[d] = a's stride of dim perm[d]. */
typedef struct { long oshape[4]; long istr[4]; } tr_attr;

static void transpose_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const tr_attr *at = n->attr;
    const float *a = n->in[0]->data;
    float *y = n->out->data;
    long d0 = at->oshape[0], d1 = at->oshape[1], d2 = at->oshape[2], d3 = at->oshape[3];
    #pragma omp parallel for collapse(2) schedule(static) if (n->out->size >= AMT_OMP_MIN_ELEMS)
    for (long i0 = 0; i0 < d0; i0++)
        for (long i1 = 0; i1 < d1; i1++) {
            float *yo = y + (i0 * d1 + i1) * d2 * d3;
            const float *ai = a + i0 * at->istr[0] + i1 * at->istr[1];
            for (long i2 = 0; i2 < d2; i2++)
                for (long i3 = 0; i3 < d3; i3++) yo[i2 * d3 + i3] = ai[i2 * at->istr[2] + i3 * at->istr[3]];
        }
}

static void transpose_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const tr_attr *at = n->attr;
    float *da = n->in[0]->grad;
    const float *dy = n->out->grad;
    long d0 = at->oshape[0], d1 = at->oshape[1], d2 = at->oshape[2], d3 = at->oshape[3];
    /* a permutation: every da element is touched by exactly one (i0, i1) task */
    #pragma omp parallel for collapse(2) schedule(static) if (n->out->size >= AMT_OMP_MIN_ELEMS)
    for (long i0 = 0; i0 < d0; i0++)
        for (long i1 = 0; i1 < d1; i1++) {
            const float *yo = dy + (i0 * d1 + i1) * d2 * d3;
            float *ai = da + i0 * at->istr[0] + i1 * at->istr[1];
            for (long i2 = 0; i2 < d2; i2++)
                for (long i3 = 0; i3 < d3; i3++) ai[i2 * at->istr[2] + i3 * at->istr[3]] += yo[i2 * d3 + i3];
        }
}

static const amt_op transpose_op = {"transpose", transpose_fwd, transpose_bwd};

amt_tensor *amt_transpose(amt_graph *g, amt_tensor *a, const int *perm)
{
    if (!a) return NULL;
    char sa[64];
    int seen = 0, ok = perm != NULL;
    for (int i = 0; ok && i < a->ndim; i++) {
        ok = perm[i] >= 0 && perm[i] < a->ndim && !(seen & (1 << perm[i]));
        if (ok) seen |= 1 << perm[i];
    }
    if (!ok)
        return amt_graph_fail(g, AMT_EINVAL, "transpose: perm is not a permutation of 0..%d for %s",
                              a->ndim - 1, amt_shape_str(a, sa, sizeof sa));
    long astr[4];
    astr[a->ndim - 1] = 1;
    for (int i = a->ndim - 2; i >= 0; i--) astr[i] = astr[i + 1] * a->shape[i + 1];
    int shape[AMT_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) shape[i] = a->shape[perm[i]];
    amt_tensor *y = amt_graph_output(g, a->ndim, shape, 1, &a);
    tr_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    /* pad at the front to 4-D: leading dims of size 1 with stride 0 */
    int pad = 4 - a->ndim;
    for (int d = 0; d < 4; d++) {
        if (d < pad) { at->oshape[d] = 1; at->istr[d] = 0; }
        else { at->oshape[d] = shape[d - pad]; at->istr[d] = astr[perm[d - pad]]; }
    }
    return amt_graph_node(g, &transpose_op, y, 1, &a, at) ? y : NULL;
}
