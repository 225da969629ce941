/* core/ops/pool.c: max pooling and global max pooling. Forward records the flat index
 * (within its (H, W) plane) of each output's maximum when a backward is possible; backward
 * routes each output gradient there. Parallel over (n, c) planes: windows of one plane
 * stay on one thread, so overlapping windows never race. */
#include "pool.h"

#include <string.h>

#include "../error.h"

typedef struct pool_attr {
    int NC, H, W, kh, kw, sh, sw, OH, OW;
    int *argmax;   /* NC * OH * OW plane offsets, or NULL without backward */
} pool_attr;

#define POOL_PAR_MIN 4096   /* outputs below which the loop stays serial */

/* Output row oh of one plane, a pass per window offset (i, j) over the whole output row:
 * vectorises for narrow windows (the transcriber's 1x2). A later element wins only when
 * strictly greater: ties keep the first maximum in window order (both row functions). */
static void pool_row_passes(const pool_attr *a, const float *xp, float *m, int *idx, int oh)
{
    const int W = a->W, OW = a->OW, h0 = oh * a->sh, sw = a->sw;
    const float *r0 = xp + (size_t)h0 * W;
    for (int ow = 0; ow < OW; ow++) m[ow] = r0[ow * sw];
    if (idx) {
        for (int ow = 0; ow < OW; ow++) idx[ow] = h0 * W + ow * sw;
        for (int i = 0; i < a->kh; i++) {
            const float *r = xp + (size_t)(h0 + i) * W;
            for (int j = (i == 0); j < a->kw; j++) {
                const int off = (h0 + i) * W + j;
                for (int ow = 0; ow < OW; ow++) {
                    float v = r[ow * sw + j];
                    if (v > m[ow]) { m[ow] = v; idx[ow] = off + ow * sw; }
                }
            }
        }
    } else {
        for (int i = 0; i < a->kh; i++) {
            const float *r = xp + (size_t)(h0 + i) * W;
            for (int j = (i == 0); j < a->kw; j++)
                for (int ow = 0; ow < OW; ow++) {
                    float v = r[ow * sw + j];
                    m[ow] = v > m[ow] ? v : m[ow];
                }
        }
    }
}

/* The same, one output at a time with its window's maximum in registers: ~3x faster for
 * the classifier's 3x3 windows (the passes above store the row's max and index back after
 * every offset). */
static void pool_row_windows(const pool_attr *a, const float *xp, float *m, int *idx, int oh)
{
    const int W = a->W, OW = a->OW, h0 = oh * a->sh, sw = a->sw, kh = a->kh, kw = a->kw;
    const float *r0 = xp + (size_t)h0 * W;
    for (int ow = 0; ow < OW; ow++) {
        const float *w0 = r0 + ow * sw;
        float best = w0[0];
        int at = 0;
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                float v = w0[i * W + j];
                if (v > best) { best = v; at = i * W + j; }
            }
        m[ow] = best;
        if (idx) idx[ow] = h0 * W + ow * sw + at;
    }
}

#define POOL_WINDOW_MIN 4   /* window sizes (kh*kw) from which pool_row_windows is faster */

static void maxpool_forward(amt_graph *g, amt_node *n)
{
    (void)g;
    const pool_attr *a = n->attr;
    const float *x = n->in[0]->data;
    float *y = n->out->data;
    int *am = a->argmax;
    const int H = a->H, W = a->W, OH = a->OH, OW = a->OW;
    const int by_window = a->kh * a->kw >= POOL_WINDOW_MIN;
    #pragma omp parallel for schedule(static) if ((size_t)a->NC * OH * OW >= POOL_PAR_MIN)
    for (int p = 0; p < a->NC; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * OH * OW;
        int *ap = am ? am + (size_t)p * OH * OW : NULL;
        for (int oh = 0; oh < OH; oh++) {
            float *m = yp + (size_t)oh * OW;
            int *idx = ap ? ap + (size_t)oh * OW : NULL;
            if (by_window) pool_row_windows(a, xp, m, idx, oh);
            else pool_row_passes(a, xp, m, idx, oh);
        }
    }
}

static void maxpool_backward(amt_graph *g, amt_node *n)
{
    (void)g;
    const pool_attr *a = n->attr;
    float *dx = n->in[0]->grad;
    const float *dy = n->out->grad;
    const int HW = a->H * a->W, OHW = a->OH * a->OW;
    #pragma omp parallel for schedule(static) if ((size_t)a->NC * OHW >= POOL_PAR_MIN)
    for (int p = 0; p < a->NC; p++) {
        float *dxp = dx + (size_t)p * HW;
        const float *dyp = dy + (size_t)p * OHW;
        const int *ap = a->argmax + (size_t)p * OHW;
        for (int k = 0; k < OHW; k++) dxp[ap[k]] += dyp[k];
    }
}

static const amt_op maxpool_op = {"maxpool2d", maxpool_forward, maxpool_backward};

amt_tensor *amt_maxpool2d(amt_graph *g, amt_tensor *x, int kh, int kw, int sh, int sw)
{
    if (!x) { g->broken = 1; return NULL; }
    char s[64];
    if (x->ndim != 4) return amt_graph_fail(g, AMT_EINVAL, "maxpool2d: input must be (N, C, H, W), got %s", amt_shape_str(x, s, sizeof s));
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1)
        return amt_graph_fail(g, AMT_EINVAL, "maxpool2d: kernel %dx%d and stride %dx%d must be >= 1", kh, kw, sh, sw);
    if (kh > x->shape[2] || kw > x->shape[3])
        return amt_graph_fail(g, AMT_EINVAL, "maxpool2d: kernel %dx%d larger than input %s", kh, kw, amt_shape_str(x, s, sizeof s));
    pool_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    a->NC = x->shape[0] * x->shape[1];
    a->H = x->shape[2]; a->W = x->shape[3];
    a->kh = kh; a->kw = kw; a->sh = sh; a->sw = sw;
    a->OH = (a->H - kh) / sh + 1;
    a->OW = (a->W - kw) / sw + 1;
    int shape[4] = {x->shape[0], x->shape[1], a->OH, a->OW};
    amt_tensor *y = amt_graph_output(g, 4, shape, 1, &x);
    if (!y) return NULL;
    if (y->grad) {
        a->argmax = amt_graph_alloc(g, (size_t)a->NC * a->OH * a->OW * sizeof(int));
        if (!a->argmax) return NULL;
    }
    return amt_graph_node(g, &maxpool_op, y, 1, &x, a) ? y : NULL;
}

/* ---------------------------------------------------------------- global max pool */

static void gmax_forward(amt_graph *g, amt_node *n)
{
    (void)g;
    const pool_attr *a = n->attr;
    const float *x = n->in[0]->data;
    float *y = n->out->data;
    const int HW = a->H * a->W;
    #pragma omp parallel for schedule(static) if ((size_t)a->NC * HW >= 16 * POOL_PAR_MIN)
    for (int p = 0; p < a->NC; p++) {
        const float *xp = x + (size_t)p * HW;
        int best = 0;
        float m = xp[0];
        for (int k = 1; k < HW; k++)
            if (xp[k] > m) { m = xp[k]; best = k; }
        y[p] = m;
        if (a->argmax) a->argmax[p] = best;
    }
}

static void gmax_backward(amt_graph *g, amt_node *n)
{
    (void)g;
    const pool_attr *a = n->attr;
    float *dx = n->in[0]->grad;
    const float *dy = n->out->grad;
    const size_t HW = (size_t)a->H * a->W;
    for (int p = 0; p < a->NC; p++) dx[(size_t)p * HW + a->argmax[p]] += dy[p];
}

static const amt_op gmax_op = {"global_maxpool", gmax_forward, gmax_backward};

amt_tensor *amt_global_maxpool(amt_graph *g, amt_tensor *x)
{
    if (!x) { g->broken = 1; return NULL; }
    char s[64];
    if (x->ndim != 4) return amt_graph_fail(g, AMT_EINVAL, "global_maxpool: input must be (N, C, H, W), got %s", amt_shape_str(x, s, sizeof s));
    pool_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    a->NC = x->shape[0] * x->shape[1];
    a->H = x->shape[2]; a->W = x->shape[3];
    int shape[2] = {x->shape[0], x->shape[1]};
    amt_tensor *y = amt_graph_output(g, 2, shape, 1, &x);
    if (!y) return NULL;
    if (y->grad) {
        a->argmax = amt_graph_alloc(g, (size_t)a->NC * sizeof(int));
        if (!a->argmax) return NULL;
    }
    return amt_graph_node(g, &gmax_op, y, 1, &x, a) ? y : NULL;
}
