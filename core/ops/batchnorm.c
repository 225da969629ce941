/* core/ops/batchnorm.c: batch normalisation of (N, C, H, W) per channel, M = N*H*W values.
 *
 * Training:  mean, var (biased) over the batch, in double; y = gamma (x - mean) istd + beta,
 *            istd = 1 / sqrt(var + eps); running_mean/var <- (1 - m) running + m batch, with
 *            the unbiased variance var * M / (M - 1) (PyTorch).
 *            Saved for backward: mean and istd per channel (x-hat is recomputed from x).
 *            dx = gamma istd / M (M dy - sum dy - xhat sum(dy xhat)),
 *            dgamma = sum dy xhat, dbeta = sum dy.
 * Eval:      mean/istd from the running statistics, a fixed affine map; backward
 *            dx = gamma istd dy.
 * Parallel over channels (each channel's sums run in a fixed order). */
#include "batchnorm.h"

#include <math.h>

#include "../error.h"

typedef struct bn_attr {
    int N, C, HW;
    float momentum, eps;
    double *mean, *istd;   /* C each: the statistics the last forward used */
    int used_batch_stats;  /* mode of the last forward */
} bn_attr;

/* acc[0..4) += sum (p - shift), acc[4..8) += sum (p - shift)^2, 4 lanes so the double
 * sums pipeline; fixed order, so deterministic. */
static void sums_shifted(const float *p, int n, double shift, double *acc)
{
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        for (int j = 0; j < 4; j++) {
            double d = (double)p[k + j] - shift;
            acc[j] += d;
            acc[4 + j] += d * d;
        }
    }
    for (; k < n; k++) {
        double d = (double)p[k] - shift;
        acc[0] += d;
        acc[4] += d * d;
    }
}

/* acc[0..4) += sum g, acc[4..8) += sum g (p - shift). */
static void sums_grad(const float *g, const float *p, int n, double shift, double *acc)
{
    int k = 0;
    for (; k + 4 <= n; k += 4) {
        for (int j = 0; j < 4; j++) {
            acc[j] += g[k + j];
            acc[4 + j] += (double)g[k + j] * ((double)p[k + j] - shift);
        }
    }
    for (; k < n; k++) {
        acc[0] += g[k];
        acc[4] += (double)g[k] * ((double)p[k] - shift);
    }
}

static void bn_forward(amt_graph *g, amt_node *n)
{
    bn_attr *a = n->attr;
    const float *x = n->in[0]->data, *gamma = n->in[1]->data, *beta = n->in[2]->data;
    float *rm = n->in[3]->data, *rv = n->in[4]->data;
    float *y = n->out->data;
    const int N = a->N, C = a->C, HW = a->HW;
    const size_t CHW = (size_t)C * HW;
    const double M = (double)N * HW;
    int train = g->training;
    a->used_batch_stats = train;
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean, istd;
        if (train) {
            /* one pass: sums of (x - shift) and its square, shift = a sample of the channel
             * (keeps the variance free of cancellation when |mean| >> std) */
            double shift = x[(size_t)c * HW], acc[8] = {0};
            for (int i = 0; i < N; i++) sums_shifted(x + i * CHW + (size_t)c * HW, HW, shift, acc);
            double s1 = (acc[0] + acc[1]) + (acc[2] + acc[3]), s2 = (acc[4] + acc[5]) + (acc[6] + acc[7]);
            double dm = s1 / M;
            mean = shift + dm;
            double v = s2 - s1 * dm;   /* sum (x - mean)^2 */
            if (v < 0) v = 0;
            double var = v / M;
            istd = 1.0 / sqrt(var + a->eps);
            double unbiased = M > 1 ? v / (M - 1) : var;
            rm[c] = (float)((1.0 - a->momentum) * rm[c] + a->momentum * mean);
            rv[c] = (float)((1.0 - a->momentum) * rv[c] + a->momentum * unbiased);
        } else {
            mean = rm[c];
            istd = 1.0 / sqrt((double)rv[c] + a->eps);
        }
        a->mean[c] = mean;
        a->istd[c] = istd;
        /* the affine map in double: a float scale would round differently for every
         * batch and make the output noisy in the last bits as a whole channel */
        double sc = gamma[c] * istd, sh = beta[c] - gamma[c] * istd * mean;
        for (int i = 0; i < N; i++) {
            const float *xp = x + i * CHW + (size_t)c * HW;
            float *yp = y + i * CHW + (size_t)c * HW;
            for (int k = 0; k < HW; k++) yp[k] = (float)(xp[k] * sc + sh);
        }
    }
}

static void bn_backward(amt_graph *g, amt_node *n)
{
    (void)g;
    const bn_attr *a = n->attr;
    const amt_tensor *X = n->in[0], *G = n->in[1], *B = n->in[2];
    const float *x = X->data, *gamma = G->data, *dy = n->out->grad;
    float *dx = X->grad;
    const int N = a->N, C = a->C, HW = a->HW;
    const size_t CHW = (size_t)C * HW;
    const double M = (double)N * HW;
    #pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean = a->mean[c], istd = a->istd[c], acc[8] = {0};
        for (int i = 0; i < N; i++)
            sums_grad(dy + i * CHW + (size_t)c * HW, x + i * CHW + (size_t)c * HW, HW, mean, acc);
        double sdy = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        double sdyx = ((acc[4] + acc[5]) + (acc[6] + acc[7])) * istd;   /* sum dy * xhat */
        if (G->grad) G->grad[c] += (float)sdyx;
        if (B->grad) B->grad[c] += (float)sdy;
        if (!dx) continue;
        if (a->used_batch_stats) {
            /* dx = k (dy - sdy/M - xhat sdyx/M), k = gamma istd */
            double k = gamma[c] * istd;
            float ka = (float)k, kb = (float)(-k * sdy / M + k * sdyx / M * mean * istd);
            float kc = (float)(-k * sdyx / M * istd);
            for (int i = 0; i < N; i++) {
                const float *xp = x + i * CHW + (size_t)c * HW;
                const float *gp = dy + i * CHW + (size_t)c * HW;
                float *dp = dx + i * CHW + (size_t)c * HW;
                for (int j = 0; j < HW; j++) dp[j] += ka * gp[j] + kc * xp[j] + kb;
            }
        } else {
            float k = (float)(gamma[c] * istd);
            for (int i = 0; i < N; i++) {
                const float *gp = dy + i * CHW + (size_t)c * HW;
                float *dp = dx + i * CHW + (size_t)c * HW;
                for (int j = 0; j < HW; j++) dp[j] += k * gp[j];
            }
        }
    }
}

static const amt_op bn_op = {"batchnorm2d", bn_forward, bn_backward};

amt_tensor *amt_batchnorm2d(amt_graph *g, amt_tensor *x, amt_tensor *gamma, amt_tensor *beta,
                            amt_tensor *running_mean, amt_tensor *running_var, float momentum, float eps)
{
    if (!x || !gamma || !beta || !running_mean || !running_var) { g->broken = 1; return NULL; }
    char s[64];
    if (x->ndim != 4) return amt_graph_fail(g, AMT_EINVAL, "batchnorm2d: input must be (N, C, H, W), got %s", amt_shape_str(x, s, sizeof s));
    int C = x->shape[1];
    const amt_tensor *ps[4] = {gamma, beta, running_mean, running_var};
    const char *names[4] = {"gamma", "beta", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        if (ps[i]->ndim != 1 || ps[i]->shape[0] != C)
            return amt_graph_fail(g, AMT_EINVAL, "batchnorm2d: %s %s must be (%d) for input %s", names[i],
                                  amt_shape_str(ps[i], s, sizeof s), C, x->name ? x->name : "x");
    if (!(momentum >= 0 && momentum <= 1) || !(eps > 0))
        return amt_graph_fail(g, AMT_EINVAL, "batchnorm2d: momentum %g must be in [0, 1] and eps %g > 0", momentum, eps);
    bn_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    a->N = x->shape[0]; a->C = C; a->HW = x->shape[2] * x->shape[3];
    a->momentum = momentum; a->eps = eps;
    a->mean = amt_graph_alloc(g, (size_t)C * sizeof(double));
    a->istd = amt_graph_alloc(g, (size_t)C * sizeof(double));
    if (!a->mean || !a->istd) return NULL;
    /* running statistics are state, not differentiated inputs */
    amt_tensor *in[5] = {x, gamma, beta, running_mean, running_var};
    amt_tensor *y = amt_graph_output(g, 4, x->shape, 3, in);
    return amt_graph_node(g, &bn_op, y, 5, in, a) ? y : NULL;
}
