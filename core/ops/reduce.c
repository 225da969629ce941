/* core/ops/reduce.c: sum, mean and the deterministic blocked/column sums. */
#include "reduce.h"

#include <string.h>

#include "../error.h"

size_t amt_reduce_nblocks(size_t n) { return n ? (n + AMT_REDUCE_BLOCK - 1) / AMT_REDUCE_BLOCK : 1; }

double amt_sum_blocked(const float *x, size_t n, double *partials)
{
    long nb = (long)amt_reduce_nblocks(n);
    #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * AMT_REDUCE_BLOCK, hi = lo + AMT_REDUCE_BLOCK < n ? lo + AMT_REDUCE_BLOCK : n;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += x[i];
        partials[b] = s;
    }
    double s = 0;
    for (long b = 0; b < nb; b++) s += partials[b];
    return s;
}

#define COLSUM_BLOCK 256   /* columns per task: a double accumulator row on the stack */

void amt_colsum_add(float *dst, const float *src, size_t rows, size_t cols, float scale)
{
    long nb = (long)((cols + COLSUM_BLOCK - 1) / COLSUM_BLOCK);
    #pragma omp parallel for schedule(static) if (rows * cols >= AMT_OMP_MIN_ELEMS && nb > 1)
    for (long b = 0; b < nb; b++) {
        size_t j0 = (size_t)b * COLSUM_BLOCK, j1 = j0 + COLSUM_BLOCK < cols ? j0 + COLSUM_BLOCK : cols;
        double acc[COLSUM_BLOCK];
        memset(acc, 0, sizeof acc);
        for (size_t r = 0; r < rows; r++) {
            const float *s = src + r * cols;
            for (size_t j = j0; j < j1; j++) acc[j - j0] += s[j];
        }
        for (size_t j = j0; j < j1; j++) dst[j] += scale * (float)acc[j - j0];
    }
}

/* ---- sum / mean: attr holds the scale (1 or 1/n) and the block partials ---- */

typedef struct { double scale; double *partials; } reduce_attr;

static void reduce_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    reduce_attr *at = n->attr;
    const amt_tensor *a = n->in[0];
    n->out->data[0] = (float)(amt_sum_blocked(a->data, a->size, at->partials) * at->scale);
}

static void reduce_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    reduce_attr *at = n->attr;
    amt_tensor *a = n->in[0];
    float d = (float)(n->out->grad[0] * at->scale);
    long sz = (long)a->size;
    #pragma omp parallel for schedule(static) if (sz >= AMT_OMP_MIN_ELEMS)
    for (long i = 0; i < sz; i++) a->grad[i] += d;
}

static const amt_op sum_op = {"sum", reduce_fwd, reduce_bwd};
static const amt_op mean_op = {"mean", reduce_fwd, reduce_bwd};

static amt_tensor *reduce_build(amt_graph *g, amt_tensor *a, const amt_op *op, int mean)
{
    if (!a) return NULL;
    int one = 1;
    amt_tensor *y = amt_graph_output(g, 1, &one, 1, &a);
    reduce_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->scale = mean ? 1.0 / (double)a->size : 1.0;
    at->partials = amt_graph_alloc(g, amt_reduce_nblocks(a->size) * sizeof(double));
    if (!at->partials) return NULL;
    return amt_graph_node(g, op, y, 1, &a, at) ? y : NULL;
}

amt_tensor *amt_sum(amt_graph *g, amt_tensor *a) { return reduce_build(g, a, &sum_op, 0); }
amt_tensor *amt_mean(amt_graph *g, amt_tensor *a) { return reduce_build(g, a, &mean_op, 1); }
