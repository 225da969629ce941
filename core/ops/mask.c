/* core/ops/mask.c: time-frequency mask and the discriminative loss (Huang et al. 2014). */
#include "mask.h"

#include <math.h>

#include "../error.h"
#include "reduce.h"

/* ------------------------------------------------------------ tf mask */

typedef struct { float eps; } tfm_attr;

static void tfm_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const tfm_attr *at = n->attr;
    const float *y1 = n->in[0]->data, *y2 = n->in[1]->data, *x = n->in[2]->data;
    float *s = n->out->data, eps = at->eps;
    long sz = (long)n->out->size;
    #pragma omp parallel for schedule(static) if (sz >= AMT_OMP_MIN_ELEMS)
    for (long i = 0; i < sz; i++) {
        float a1 = fabsf(y1[i]), a2 = fabsf(y2[i]);
        s[i] = a1 / (a1 + a2 + eps) * x[i];
    }
}

/* With D = |y1| + |y2| + eps:  ds1/dy1 = x sign(y1) (|y2| + eps) / D^2,
 * ds1/dy2 = -x sign(y2) |y1| / D^2,  ds1/dx = |y1| / D. */
static void tfm_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const tfm_attr *at = n->attr;
    amt_tensor *t1 = n->in[0], *t2 = n->in[1], *tx = n->in[2];
    const float *y1 = t1->data, *y2 = t2->data, *x = tx->data, *ds = n->out->grad;
    float *g1 = t1->grad, *g2 = t2->grad, *gx = tx->grad, eps = at->eps;
    long sz = (long)n->out->size;
    #pragma omp parallel for schedule(static) if (sz >= AMT_OMP_MIN_ELEMS)
    for (long i = 0; i < sz; i++) {
        float a1 = fabsf(y1[i]), a2 = fabsf(y2[i]);
        float inv = 1.0f / (a1 + a2 + eps);
        float dsx = ds[i] * x[i] * inv * inv;
        if (g1) g1[i] += (y1[i] > 0 ? 1.0f : y1[i] < 0 ? -1.0f : 0.0f) * dsx * (a2 + eps);
        if (g2) g2[i] -= (y2[i] > 0 ? 1.0f : y2[i] < 0 ? -1.0f : 0.0f) * dsx * a1;
        if (gx) gx[i] += ds[i] * a1 * inv;
    }
}

static const amt_op tfm_op = {"tf_mask", tfm_fwd, tfm_bwd};

amt_tensor *amt_tf_mask(amt_graph *g, amt_tensor *y1, amt_tensor *y2, amt_tensor *x, float eps)
{
    if (!y1 || !y2 || !x) return NULL;
    char a[64], b[64], c[64];
    if (!amt_tensor_same_shape(y1, y2) || !amt_tensor_same_shape(y1, x))
        return amt_graph_fail(g, AMT_EINVAL, "tf_mask: y1 %s, y2 %s and x %s must have the same shape",
                              amt_shape_str(y1, a, sizeof a), amt_shape_str(y2, b, sizeof b), amt_shape_str(x, c, sizeof c));
    if (!(eps > 0)) return amt_graph_fail(g, AMT_EINVAL, "tf_mask: eps = %g must be > 0", (double)eps);
    amt_tensor *in[3] = {y1, y2, x};
    amt_tensor *s = amt_graph_output(g, x->ndim, x->shape, 3, in);
    tfm_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!s || !at) return NULL;
    at->eps = eps;
    return amt_graph_node(g, &tfm_op, s, 3, in, at) ? s : NULL;
}

/* ------------------------------------------------------------ discriminative loss */

typedef struct { float gamma; size_t n; double *partials; } dl_attr;

static void dl_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    dl_attr *at = nd->attr;
    const float *s1 = nd->in[0]->data, *s2 = nd->in[1]->data, *t1 = nd->in[2]->data, *t2 = nd->in[3]->data;
    double gm = at->gamma, s;
    AMT_BLOCKED_SUM(at->partials, at->n,
                    ((double)s1[i] - t1[i]) * ((double)s1[i] - t1[i]) + ((double)s2[i] - t2[i]) * ((double)s2[i] - t2[i])
                    - gm * (((double)s1[i] - t2[i]) * ((double)s1[i] - t2[i]) + ((double)s2[i] - t1[i]) * ((double)s2[i] - t1[i])),
                    s);
    nd->out->data[0] = (float)(s / (double)at->n);
}

static void dl_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const dl_attr *at = nd->attr;
    amt_tensor *ts1 = nd->in[0], *ts2 = nd->in[1];
    const float *s1 = ts1->data, *s2 = ts2->data, *t1 = nd->in[2]->data, *t2 = nd->in[3]->data;
    float scale = 2.0f * nd->out->grad[0] / (float)at->n, gm = at->gamma;
    long n = (long)at->n;
    if (ts1->grad) {
        #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
        for (long i = 0; i < n; i++) ts1->grad[i] += scale * ((s1[i] - t1[i]) - gm * (s1[i] - t2[i]));
    }
    if (ts2->grad) {
        #pragma omp parallel for schedule(static) if (n >= AMT_OMP_MIN_ELEMS)
        for (long i = 0; i < n; i++) ts2->grad[i] += scale * ((s2[i] - t2[i]) - gm * (s2[i] - t1[i]));
    }
}

static const amt_op dl_op = {"discriminative_loss", dl_fwd, dl_bwd};

amt_tensor *amt_discriminative_loss(amt_graph *g, amt_tensor *s1, amt_tensor *s2, amt_tensor *t1, amt_tensor *t2, float gamma)
{
    if (!s1 || !s2 || !t1 || !t2) return NULL;
    amt_tensor *in[4] = {s1, s2, t1, t2};
    for (int k = 1; k < 4; k++)
        if (!amt_tensor_same_shape(s1, in[k])) {
            static const char *const nm[4] = {"s1", "s2", "t1", "t2"};
            char a[64], b[64];
            return amt_graph_fail(g, AMT_EINVAL, "discriminative_loss: s1 %s and %s %s differ in shape",
                                  amt_shape_str(s1, a, sizeof a), nm[k], amt_shape_str(in[k], b, sizeof b));
        }
    if (!(gamma >= 0) || !isfinite(gamma))
        return amt_graph_fail(g, AMT_EINVAL, "discriminative_loss: gamma = %g must be finite and >= 0", (double)gamma);
    int one = 1;
    amt_tensor *y = amt_graph_output(g, 1, &one, 2, in);   /* only s1, s2 carry gradients */
    dl_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->gamma = gamma;
    at->n = s1->size;
    at->partials = amt_graph_alloc(g, amt_reduce_nblocks(s1->size) * sizeof(double));
    if (!at->partials) return NULL;
    return amt_graph_node(g, &dl_op, y, 4, in, at) ? y : NULL;
}
