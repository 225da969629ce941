/* core/ops/matmul.c: matmul and linear, forward and backward as sgemm calls. */
#include "matmul.h"

#include <cblas.h>

#include "../error.h"
#include "reduce.h"

/* ------------------------------------------------------------ matmul */

typedef struct { int ta, tb, m, n, k; } mm_attr;

static void matmul_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const mm_attr *at = nd->attr;
    const amt_tensor *a = nd->in[0], *b = nd->in[1];
    cblas_sgemm(CblasRowMajor, at->ta ? CblasTrans : CblasNoTrans, at->tb ? CblasTrans : CblasNoTrans,
                at->m, at->n, at->k, 1.0f, a->data, a->shape[1], b->data, b->shape[1], 0.0f, nd->out->data, at->n);
}

/* C = op(A) op(B):  dop(A) = dC op(B)^T,  dop(B) = op(A)^T dC; a transposed operand gets the
 * transpose of that, written as one sgemm with beta = 1 (accumulate). */
static void matmul_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const mm_attr *at = nd->attr;
    amt_tensor *a = nd->in[0], *b = nd->in[1];
    const float *dc = nd->out->grad;
    int m = at->m, n = at->n, k = at->k, lda = a->shape[1], ldb = b->shape[1];
    if (a->grad) {
        if (!at->ta)   /* dA (M, K) += dC (M, N) op(B)^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, at->tb ? CblasNoTrans : CblasTrans,
                        m, k, n, 1.0f, dc, n, b->data, ldb, 1.0f, a->grad, lda);
        else           /* dA (K, M) += op(B) (K, N) dC^T */
            cblas_sgemm(CblasRowMajor, at->tb ? CblasTrans : CblasNoTrans, CblasTrans,
                        k, m, n, 1.0f, b->data, ldb, dc, n, 1.0f, a->grad, lda);
    }
    if (b->grad) {
        if (!at->tb)   /* dB (K, N) += op(A)^T (K, M) dC */
            cblas_sgemm(CblasRowMajor, at->ta ? CblasNoTrans : CblasTrans, CblasNoTrans,
                        k, n, m, 1.0f, a->data, lda, dc, n, 1.0f, b->grad, ldb);
        else           /* dB (N, K) += dC^T (N, M) op(A) */
            cblas_sgemm(CblasRowMajor, CblasTrans, at->ta ? CblasTrans : CblasNoTrans,
                        n, k, m, 1.0f, dc, n, a->data, lda, 1.0f, b->grad, ldb);
    }
}

static const amt_op matmul_op = {"matmul", matmul_fwd, matmul_bwd};

amt_tensor *amt_matmul(amt_graph *g, amt_tensor *a, amt_tensor *b, int trans_a, int trans_b)
{
    if (!a || !b) return NULL;
    char sa[64], sb[64];
    if (a->ndim != 2 || b->ndim != 2)
        return amt_graph_fail(g, AMT_EINVAL, "matmul: needs 2-D operands, got %s and %s",
                              amt_shape_str(a, sa, sizeof sa), amt_shape_str(b, sb, sizeof sb));
    int m = trans_a ? a->shape[1] : a->shape[0], ka = trans_a ? a->shape[0] : a->shape[1];
    int kb = trans_b ? b->shape[1] : b->shape[0], n = trans_b ? b->shape[0] : b->shape[1];
    if (ka != kb)
        return amt_graph_fail(g, AMT_EINVAL, "matmul: inner dims differ: a %s%s vs b %s%s (%d != %d)",
                              amt_shape_str(a, sa, sizeof sa), trans_a ? "^T" : "",
                              amt_shape_str(b, sb, sizeof sb), trans_b ? "^T" : "", ka, kb);
    amt_tensor *in[2] = {a, b};
    int shape[2] = {m, n};
    amt_tensor *y = amt_graph_output(g, 2, shape, 2, in);
    mm_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    *at = (mm_attr){trans_a ? 1 : 0, trans_b ? 1 : 0, m, n, ka};
    return amt_graph_node(g, &matmul_op, y, 2, in, at) ? y : NULL;
}

/* ------------------------------------------------------------ linear */

typedef struct { int rows, in, out; } lin_attr;

static void linear_fwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const lin_attr *at = nd->attr;
    const float *x = nd->in[0]->data, *w = nd->in[1]->data;
    float *y = nd->out->data;
    float beta = 0.0f;
    if (nd->n_in > 2) {   /* start from the bias, then accumulate x W^T */
        const float *b = nd->in[2]->data;
        for (int r = 0; r < at->rows; r++)
            for (int j = 0; j < at->out; j++) y[(size_t)r * at->out + j] = b[j];
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, at->rows, at->out, at->in,
                1.0f, x, at->in, w, at->in, beta, y, at->out);
}

static void linear_bwd(amt_graph *g, amt_node *nd)
{
    (void)g;
    const lin_attr *at = nd->attr;
    amt_tensor *x = nd->in[0], *w = nd->in[1];
    const float *dy = nd->out->grad;
    if (x->grad)   /* dx (R, in) += dy (R, out) W (out, in) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, at->rows, at->in, at->out,
                    1.0f, dy, at->out, w->data, at->in, 1.0f, x->grad, at->in);
    if (w->grad)   /* dW (out, in) += dy^T (out, R) x (R, in) */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, at->out, at->in, at->rows,
                    1.0f, dy, at->out, x->data, at->in, 1.0f, w->grad, at->in);
    if (nd->n_in > 2 && nd->in[2]->grad)
        amt_colsum_add(nd->in[2]->grad, dy, (size_t)at->rows, (size_t)at->out, 1.0f);
}

static const amt_op linear_op = {"linear", linear_fwd, linear_bwd};

amt_tensor *amt_linear(amt_graph *g, amt_tensor *x, amt_tensor *w, amt_tensor *b)
{
    if (!x || !w) return NULL;
    char sx[64], sw[64], sb[64];
    if (w->ndim != 2 || x->shape[x->ndim - 1] != w->shape[1])
        return amt_graph_fail(g, AMT_EINVAL, "linear: x %s and W %s: W must be (out, in) with in = x's last dim",
                              amt_shape_str(x, sx, sizeof sx), amt_shape_str(w, sw, sizeof sw));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return amt_graph_fail(g, AMT_EINVAL, "linear: bias %s must be (%d) for W %s",
                              amt_shape_str(b, sb, sizeof sb), w->shape[0], amt_shape_str(w, sw, sizeof sw));
    amt_tensor *in[3] = {x, w, b};
    int n_in = b ? 3 : 2;
    int shape[AMT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = w->shape[0];
    amt_tensor *y = amt_graph_output(g, x->ndim, shape, n_in, in);
    lin_attr *at = amt_graph_alloc(g, sizeof *at);
    if (!y || !at) return NULL;
    at->in = w->shape[1];
    at->out = w->shape[0];
    at->rows = (int)(x->size / (size_t)at->in);
    return amt_graph_node(g, &linear_op, y, n_in, in, at) ? y : NULL;
}
