/* core/ops/loss.c: softmax cross-entropy, BCE with logits, MSE. */
#include "loss.h"

#include <math.h>

#include "../error.h"
#include "reduce.h"

/* ------------------------------------------------------------ softmax cross-entropy */

typedef struct {
    const int *labels;
    int n, k;
    double *row_loss;  /* N, summed in row order after the parallel loop */
    float *prob;       /* N*K softmax kept for backward (NULL without gradients) */
    int n_bad;         /* rows with an invalid label at the last forward */
} sce_attr;

static void sce_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    sce_attr *at = nd->attr;
    const float *x = nd->in[0]->data;
    int n = at->n, k = at->k;
    at->n_bad = 0;
    for (int r = 0; r < n; r++)   /* validate on the calling thread (amt_error is per thread) */
        if (at->labels[r] < 0 || at->labels[r] >= k) {
            if (!at->n_bad)
                amt_error(AMT_EINVAL, "softmax_cross_entropy: label %d of row %d outside [0, %d); loss is NaN",
                          at->labels[r], r, k);
            at->n_bad++;
        }
    #pragma omp parallel for schedule(static) if ((size_t)n * (size_t)k >= AMT_OMP_MIN_ELEMS)
    for (int r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * k;
        float m = xr[0];
        for (int j = 1; j < k; j++) m = xr[j] > m ? xr[j] : m;
        double s = 0;
        for (int j = 0; j < k; j++) s += exp((double)xr[j] - m);
        double lse = m + log(s);
        if (at->prob) {
            float *p = at->prob + (size_t)r * k;
            for (int j = 0; j < k; j++) p[j] = (float)exp((double)xr[j] - lse);
        }
        int lab = at->labels[r];
        at->row_loss[r] = (lab >= 0 && lab < k) ? lse - xr[lab] : NAN;
    }
    double s = 0;
    for (int r = 0; r < n; r++) s += at->row_loss[r];
    nd->out->data[0] = (float)(s / n);
}

static void sce_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const sce_attr *at = nd->attr;
    float *dx = nd->in[0]->grad;
    int n = at->n, k = at->k;
    float scale = nd->out->grad[0] / (float)n;
    #pragma omp parallel for schedule(static) if ((size_t)n * (size_t)k >= AMT_OMP_MIN_ELEMS)
    for (int r = 0; r < n; r++) {
        int lab = at->labels[r];
        if (lab < 0 || lab >= k) continue;   /* invalid label: zero gradient (loss is NaN) */
        const float *p = at->prob + (size_t)r * k;
        float *d = dx + (size_t)r * k;
        for (int j = 0; j < k; j++) d[j] += scale * (p[j] - (j == lab ? 1.0f : 0.0f));
    }
}

static const amt_op sce_op = {"softmax_cross_entropy", sce_fwd, sce_bwd};

amt_tensor *amt_softmax_cross_entropy(amt_graph *g, amt_tensor *logits, const int *labels)
{
    if (!logits) return NULL;
    char s[64];
    if (logits->ndim != 2)
        return amt_graph_fail(g, AMT_EINVAL, "softmax_cross_entropy: logits %s must be 2-D (N, K)",
                              amt_shape_str(logits, s, sizeof s));
    if (!labels) return amt_graph_fail(g, AMT_EINVAL, "softmax_cross_entropy: labels array is NULL");
    int one = 1;
    amt_tensor *y = amt_graph_output(g, 1, &one, 1, &logits);
    sce_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->labels = labels;
    at->n = logits->shape[0];
    at->k = logits->shape[1];
    at->row_loss = amt_graph_alloc(g, (size_t)at->n * sizeof(double));
    if (!at->row_loss) return NULL;
    if (y->grad && !(at->prob = amt_graph_floats(g, logits->size))) return NULL;
    return amt_graph_node(g, &sce_op, y, 1, &logits, at) ? y : NULL;
}

/* ------------------------------------------------------------ BCE with logits, MSE */

typedef struct { double *partials; size_t n; } blk_attr;

static inline double bce_term(float x, float t)
{
    return (double)fmaxf(x, 0.0f) - (double)x * t + log1p(exp(-fabs((double)x)));
}

static void bce_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    blk_attr *at = nd->attr;
    const float *x = nd->in[0]->data, *t = nd->in[1]->data;
    const float *w = nd->n_in > 2 ? nd->in[2]->data : NULL;
    size_t n = at->n;
    double s;
    if (w) AMT_BLOCKED_SUM((at)->partials, n, (double)w[i] * bce_term(x[i], t[i]), s);
    else AMT_BLOCKED_SUM((at)->partials, n, bce_term(x[i], t[i]), s);
    nd->out->data[0] = (float)(s / (double)n);
}

static void bce_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const blk_attr *at = nd->attr;
    const float *x = nd->in[0]->data, *t = nd->in[1]->data;
    const float *w = nd->n_in > 2 ? nd->in[2]->data : NULL;
    float *dx = nd->in[0]->grad;
    if (!dx) return;   /* only the logits are differentiated */
    float scale = nd->out->grad[0] / (float)at->n;
    long n = (long)at->n;
    #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
    for (long i = 0; i < n; i++) {
        float xi = x[i];
        float sg = xi >= 0 ? 1.0f / (1.0f + expf(-xi)) : expf(xi) / (1.0f + expf(xi));
        dx[i] += scale * (w ? w[i] : 1.0f) * (sg - t[i]);
    }
}

static const amt_op bce_op = {"bce_with_logits", bce_fwd, bce_bwd};

static blk_attr *blk_attr_new(amt_graph *g, size_t n)
{
    blk_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!at) return NULL;
    at->n = n;
    at->partials = amt_graph_alloc(g, amt_reduce_nblocks(n) * sizeof(double));
    return at->partials ? at : NULL;
}

amt_tensor *amt_bce_with_logits(amt_graph *g, amt_tensor *logits, amt_tensor *targets, amt_tensor *weight)
{
    if (!logits || !targets) return NULL;
    char a[64], b[64];
    if (!amt_tensor_same_shape(logits, targets))
        return amt_graph_fail(g, AMT_EINVAL, "bce_with_logits: logits %s and targets %s differ in shape",
                              amt_shape_str(logits, a, sizeof a), amt_shape_str(targets, b, sizeof b));
    if (weight && !amt_tensor_same_shape(logits, weight))
        return amt_graph_fail(g, AMT_EINVAL, "bce_with_logits: logits %s and weight %s differ in shape",
                              amt_shape_str(logits, a, sizeof a), amt_shape_str(weight, b, sizeof b));
    amt_tensor *in[3] = {logits, targets, weight};
    int n_in = weight ? 3 : 2, one = 1;
    /* only the logits decide whether the loss carries a gradient */
    amt_tensor *y = amt_graph_output(g, 1, &one, 1, &logits);
    blk_attr *at = blk_attr_new(g, logits->size);
    if (!y || !at) return NULL;
    return amt_graph_node(g, &bce_op, y, n_in, in, at) ? y : NULL;
}

static void mse_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    blk_attr *at = nd->attr;
    const float *a = nd->in[0]->data, *b = nd->in[1]->data;
    size_t n = at->n;
    double s;
    AMT_BLOCKED_SUM((at)->partials, n, ((double)a[i] - b[i]) * ((double)a[i] - b[i]), s);
    nd->out->data[0] = (float)(s / (double)n);
}

static void mse_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const blk_attr *at = nd->attr;
    amt_tensor *ta = nd->in[0], *tb = nd->in[1];
    const float *a = ta->data, *b = tb->data;
    float scale = 2.0f * nd->out->grad[0] / (float)at->n;
    long n = (long)at->n;
    if (ta->grad) {
        #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
        for (long i = 0; i < n; i++) ta->grad[i] += scale * (a[i] - b[i]);
    }
    if (tb->grad) {
        #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
        for (long i = 0; i < n; i++) tb->grad[i] -= scale * (a[i] - b[i]);
    }
}

static const amt_op mse_op = {"mse", mse_fwd, mse_bwd};

amt_tensor *amt_mse(amt_graph *g, amt_tensor *a, amt_tensor *b)
{
    if (!a || !b) return NULL;
    char sa[64], sb[64];
    if (!amt_tensor_same_shape(a, b))
        return amt_graph_fail(g, AMT_EINVAL, "mse: shapes %s and %s differ",
                              amt_shape_str(a, sa, sizeof sa), amt_shape_str(b, sb, sizeof sb));
    amt_tensor *in[2] = {a, b};
    int one = 1;
    amt_tensor *y = amt_graph_output(g, 1, &one, 2, in);
    blk_attr *at = blk_attr_new(g, a->size);
    if (!y || !at) return NULL;
    return amt_graph_node(g, &mse_op, y, 2, in, at) ? y : NULL;
}
