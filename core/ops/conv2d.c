/* core/ops/conv2d.c: 2-D convolution as im2col + cblas_sgemm, one GEMM per example, or
 * Winograd F(2x2, 3x3) for 3x3 stride-1 layers with enough channels (below).
 *
 * Layout per example n: x_n (C, H, W), col (K = C*KH*KW, P = OH*OW), out_n (O, P):
 *   forward   out_n  = W (O x K) * col (K x P) + b
 *   backward  dW    += dout_n (O x P) * col^T (P x K)      (per-thread partials)
 *             dcol   = W^T (K x O) * dout_n (O x P);  dx_n += col2im(dcol)
 *             db    += sum_p dout_n
 * One GEMM per example (e.g. 32 x 5504 x 288) runs faster here than one batched GEMM over
 * all examples (see ../shared/reference/README.md), and it parallelises across the batch
 * with OpenMP; inside our parallel region OpenBLAS (OpenMP build) runs single-threaded,
 * so there is one thread pool (measured: at 2 threads this beats a sequential loop over
 * threaded sgemm by ~1.35x, bench/bench_conv --strategy). When the batch is smaller than
 * the thread count we loop over examples and let OpenBLAS use the threads instead.
 *
 * Small outputs (P < CONV_GROUP_COLS, e.g. the classifier's 4x1 maps) make thin GEMMs
 * that run at half speed; there G examples share one GEMM: their cols sit side by side
 * (K x G*P), the product goes to a scratch (O x G*P) and is scattered to (N, O, P)
 * (gathered for backward). G is chosen at build time so the groups split evenly over
 * the threads.
 *
 * Large outputs (P > 1.5 * CONV_CHUNK_COLS, e.g. the classifier's 128x43 maps) go in
 * chunks of output rows, so the col chunk stays in cache: ~1.1x on those layers.
 *
 * Kernel taps that read only padding at every output (with a map one column wide, the
 * classifier's 4x1 blocks, 2 of the 3 kernel columns of a 3x3 'same' conv) are left out:
 * the col matrix has C * n_taps rows, the GEMMs use the weight's active taps gathered into
 * wc (O x C*n_taps), and the weight gradient of those taps is scattered back; the skipped
 * taps' gradients are exactly zero. 2.5-3x on the classifier's conv4a/conv4b.
 *
 * Workspaces (per thread: an im2col buffer of K*G*P or K*chunk floats, a scratch of
 * O*G*P when G > 1, dW and db partials) come from the graph arena at build time. With one
 * thread dW accumulates straight into the weight gradient. Partials are
 * reduced in thread order and the static schedule gives each thread a fixed range of
 * groups: bit-identical results for a given thread count. A 1x1 convolution with stride 1
 * and no padding uses x_n as its own col matrix.
 *
 * Winograd: a 3x3 stride-1 convolution with >= 16 input and output channels and a map at
 * least 2x2 takes Winograd F(2x2, 3x3) instead (core/ops/winograd.h: per block of tiles,
 * 16 GEMMs (tiles x C) x (C x O), 2.25x fewer multiply-adds than im2col; the backward is
 * its exact adjoint, weight gradient included). The path is chosen at build time by that
 * shape rule only (wino_auto; amt_conv2d_set_algorithm forces either). Examples share one
 * set of GEMMs when a map has fewer than WINO_GROUP_COLS tiles; each thread takes whole
 * groups (static schedule) with its own workspace and dU/db partials, reduced in thread
 * order: bit-identical for a given thread count, like the im2col path. The workspaces
 * (channels-last copies of a group's input/output, transformed tiles, products) come from
 * the graph arena at build time.
 * Measured forward+backward, 1 thread, shapes of bench/bench_conv (--algo im2col vs auto,
 * ms): classifier conv1b 143 -> 85, conv2a 26 -> 16, conv2b 53 -> 28, conv3a 10.5 -> 5.8,
 * conv3b 21 -> 11; transcriber conv2 219 -> 165, conv3 183 -> 127. Winograd is slower on
 * the 1-channel first layers (7.5 -> 15) and the 4x1 maps (1.6 -> 6.5): those stay im2col. */
#include "conv2d.h"

#include <cblas.h>
#include <string.h>

#include "../error.h"
#include "winograd.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define CONV_GROUP_COLS 128   /* outputs per example below which examples share a GEMM */
#define CONV_CHUNK_COLS 1024  /* columns of one col chunk: a large output map (the classifier's
                               * 128x43 = 5504) runs its GEMMs at ~70 GFLOP/s unchunked, ~90
                               * in chunks whose col (K x 1024) stays in cache */

#define WINO_GROUP_COLS 128   /* tiles per example below which examples share a Winograd block */
#define WINO_BLOCK_COLS 512   /* tiles (GEMM rows) per Winograd block: V and M of a block (16 x 512 x
                               * (C + O) floats, 4 MB at C = O = 64) stay in L2/L3; 256 and 1024
                               * measured slower on the classifier's and transcriber's layers, as
                               * was grouping below 256 tiles instead of 128 */

static int g_conv_strategy = AMT_CONV2D_AUTO;
static int g_conv_algo = AMT_CONV2D_ALGO_AUTO;

void amt_conv2d_set_strategy(int s) { g_conv_strategy = s; }
void amt_conv2d_set_algorithm(int algo) { g_conv_algo = algo; }

typedef struct conv_attr {
    int N, C, H, W, O, KH, KW, sh, sw, ph, pw, OH, OW;
    int K, P;            /* rows (C * n_taps) and columns (OH*OW) of one example's col matrix */
    int KF;              /* length of a weight row: C*KH*KW */
    int n_taps, *tap;    /* kernel taps ki*KW + kj (in order) that see the image at some output;
                          * the others only ever read padding (the 3x3 'same' conv of a map one
                          * column wide: 2 of 3 kernel columns) and are left out of the GEMMs */
    float *wc;           /* O * K: the weight's active taps when n_taps < KH*KW, else NULL */
    int G, n_groups;     /* examples per GEMM, number of groups */
    int R, n_chunks;     /* output rows per chunk of one example (G == 1), number of chunks */
    int pointwise;       /* 1x1, stride 1, no padding: col == x_n (when G == 1) */
    int nthreads;        /* workspaces were made for this many threads */
    float *ws;           /* nthreads * K * G * P floats (NULL when pointwise and G == 1) */
    float *ybuf;         /* nthreads * O * G * P floats (NULL when G == 1) */
    float *dw_part;      /* nthreads * O * K floats (NULL without weight gradient) */
    double *db_part;     /* nthreads * O doubles (NULL without bias gradient) */
    /* Winograd path (wino != 0): G examples per group, blocks of WR tile rows */
    int wino, WR;
    int wino_dx;         /* the workspaces have room for the input gradient */
    amt_wino wp;
    float *U;            /* 16 * C * O: the transformed weight */
    float *wws;          /* nthreads workspaces of wws_n floats (amt_wino_workspace_floats) */
    size_t wws_n;
    float *du_part;      /* nthreads * 16 * C * O (NULL without weight gradient) */
} conv_attr;

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Threads to use for the group loop: 1 means a sequential loop with threaded sgemm. */
static int batch_threads(const conv_attr *a)
{
    int nt = max_threads();
    if (nt > a->nthreads) nt = a->nthreads;
    if (g_conv_strategy == AMT_CONV2D_BLAS_THREADS) return 1;
    if (g_conv_strategy == AMT_CONV2D_AUTO && a->n_groups < nt) return 1;
    if (nt > a->n_groups) nt = a->n_groups;
    return nt < 1 ? 1 : nt;
}

/* Valid output columns [lo, hi) of kernel column kj: 0 <= ow*sw - pw + kj < W. */
static void valid_cols(const conv_attr *a, int kj, int *lo, int *hi)
{
    int l = 0, h = a->OW;
    while (l < a->OW && l * a->sw - a->pw + kj < 0) l++;
    while (h > l && (h - 1) * a->sw - a->pw + kj >= a->W) h--;
    *lo = l;
    *hi = h;
}

/* The col matrix of output rows [oh0, oh1) of one example: K rows of (oh1 - oh0) * OW
 * values, row stride ld. */

/* 'Same' width at stride 1 (OW == W): the col row of kernel tap (ki, kj) is the channel
 * plane shifted by s = (ki - ph) W + (kj - pw) elements, so it is one long contiguous copy
 * (or add) over the rows that exist, plus zeros in the |kj - pw| columns per row that
 * wrap around. Short image rows (the classifier's 14- and 4-wide maps) made per-row loops
 * the largest cost after the GEMMs. */
typedef struct shift_span {
    int oh_lo, oh_hi;   /* output rows in [oh0, oh1) whose input row exists */
    long s;             /* source offset of output element q = oh * W + ow: q + s */
    long t_lo, t_hi;    /* within the valid rows' span, the range whose source is in the plane */
} shift_span;

static int same_width(const conv_attr *a) { return a->sh == 1 && a->sw == 1 && a->OW == a->W; }

static shift_span shift_of(const conv_attr *a, int ki, int kj, int oh0, int oh1)
{
    shift_span sp;
    const int dy = ki - a->ph, dx = kj - a->pw, W = a->W;
    sp.oh_lo = -dy > oh0 ? -dy : oh0;
    sp.oh_hi = a->H - dy < oh1 ? a->H - dy : oh1;
    sp.s = (long)dy * W + dx;
    long base = (long)sp.oh_lo * W + sp.s, n = (long)(sp.oh_hi - sp.oh_lo) * W, hw = (long)a->H * W;
    sp.t_lo = base < 0 ? -base : 0;
    sp.t_hi = hw - base < n ? hw - base : n;
    return sp;
}

/* Zeroes the wrapped columns (ow + kj - pw outside [0, W)) of the valid rows; r is the
 * col row of output row oh0. */
static void zero_wrapped(const conv_attr *a, const shift_span *sp, int kj, int oh0, float *r)
{
    const int dx = kj - a->pw, W = a->W;
    int c0 = dx < 0 ? 0 : W - dx, c1 = dx < 0 ? -dx : W;
    if (dx == 0) return;
    for (int oh = sp->oh_lo; oh < sp->oh_hi; oh++)
        for (int ow = c0; ow < c1; ow++) r[(size_t)(oh - oh0) * W + ow] = 0;
}

static void im2col_same(const conv_attr *a, const float *x, float *col, size_t ld, int oh0, int oh1)
{
    const int W = a->W;
    const size_t plane = (size_t)a->H * W, rowlen = (size_t)(oh1 - oh0) * W;
    for (int c = 0; c < a->C; c++) {
        const float *xc = x + (size_t)c * plane;
        for (int tp = 0; tp < a->n_taps; tp++) {
            const int ki = a->tap[tp] / a->KW, kj = a->tap[tp] % a->KW;
            float *r = col + (size_t)(c * a->n_taps + tp) * ld;
            shift_span sp = shift_of(a, ki, kj, oh0, oh1);
            if (sp.oh_hi <= sp.oh_lo) { memset(r, 0, rowlen * sizeof(float)); continue; }
            size_t lo = (size_t)(sp.oh_lo - oh0) * W, hi = (size_t)(sp.oh_hi - oh0) * W;
            float *d = r + lo;
            long n = (long)(hi - lo);
            memset(r, 0, lo * sizeof(float));
            memset(r + hi, 0, (rowlen - hi) * sizeof(float));
            for (long t = 0; t < sp.t_lo; t++) d[t] = 0;
            memcpy(d + sp.t_lo, xc + (long)sp.oh_lo * W + sp.s + sp.t_lo, (size_t)(sp.t_hi - sp.t_lo) * sizeof(float));
            for (long t = sp.t_hi; t < n; t++) d[t] = 0;
            zero_wrapped(a, &sp, kj, oh0, r);
        }
    }
}

/* dx_n += col2im(col) for OW == W; clobbers col's wrapped entries (scratch). */
static void col2im_same_add(const conv_attr *a, float *col, size_t ld, float *dx, int oh0, int oh1)
{
    const int W = a->W;
    const size_t plane = (size_t)a->H * W;
    for (int c = 0; c < a->C; c++) {
        float *dc = dx + (size_t)c * plane;
        for (int tp = 0; tp < a->n_taps; tp++) {
            const int ki = a->tap[tp] / a->KW, kj = a->tap[tp] % a->KW;
            float *r = col + (size_t)(c * a->n_taps + tp) * ld;
            shift_span sp = shift_of(a, ki, kj, oh0, oh1);
            if (sp.oh_hi <= sp.oh_lo) continue;
            zero_wrapped(a, &sp, kj, oh0, r);
            const float *d = r + (size_t)(sp.oh_lo - oh0) * W;
            float *o = dc + (long)sp.oh_lo * W + sp.s;
            for (long t = sp.t_lo; t < sp.t_hi; t++) o[t] += d[t];
        }
    }
}

/* col of output rows [oh0, oh1) (K rows: channel-major, then the active taps; row stride
 * ld) from x_n, zero outside the image. */
/* im2col of a kernel as wide as the unpadded input (OW = 1: a "dense" layer over the whole
 * width, e.g. the transcriber's): row (c, ki, kj) at column oh is x[c][oh * sh + ki][kj], so
 * each input row is read once, contiguously, and scattered down a column of col. */
static int full_width(const conv_attr *a)
{
    return a->OW == 1 && a->KW == a->W && a->pw == 0 && a->ph == 0 && a->n_taps == a->KH * a->KW;
}
static void im2col_full_width(const conv_attr *a, const float *x, float *col, size_t ld, int oh0, int oh1)
{
    const int W = a->W, KH = a->KH;
    const size_t plane = (size_t)a->H * W;
    for (int c = 0; c < a->C; c++)
        for (int ki = 0; ki < KH; ki++) {
            float *base = col + (size_t)(c * KH + ki) * W * ld;
            for (int oh = oh0; oh < oh1; oh++) {
                const float *src = x + (size_t)c * plane + (size_t)(oh * a->sh + ki) * W;
                float *d = base + (oh - oh0);
                for (int kj = 0; kj < W; kj++) d[(size_t)kj * ld] = src[kj];
            }
        }
}

static void im2col(const conv_attr *a, const float *x, float *col, size_t ld, int oh0, int oh1)
{
    const int H = a->H, W = a->W, OW = a->OW;
    if (same_width(a)) { im2col_same(a, x, col, ld, oh0, oh1); return; }
    if (full_width(a)) { im2col_full_width(a, x, col, ld, oh0, oh1); return; }
    for (int c = 0; c < a->C; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int tp = 0; tp < a->n_taps; tp++) {
            const int ki = a->tap[tp] / a->KW, kj = a->tap[tp] % a->KW;
            float *row = col + (size_t)(c * a->n_taps + tp) * ld;
            int lo, hi;
            valid_cols(a, kj, &lo, &hi);
            for (int oh = oh0; oh < oh1; oh++) {
                float *r = row + (size_t)(oh - oh0) * OW;
                int ih = oh * a->sh - a->ph + ki;
                if (ih < 0 || ih >= H) {   /* a loop, not memset: rows are often short */
                    for (int ow = 0; ow < OW; ow++) r[ow] = 0;
                    continue;
                }
                const float *xr = xc + (size_t)ih * W - a->pw + kj;
                for (int ow = 0; ow < lo; ow++) r[ow] = 0;
                if (a->sw == 1) {
                    for (int ow = lo; ow < hi; ow++) r[ow] = xr[ow];
                } else {
                    for (int ow = lo; ow < hi; ow++) r[ow] = xr[ow * a->sw];
                }
                for (int ow = hi; ow < OW; ow++) r[ow] = 0;
            }
        }
    }
}

/* dx_n (C, H, W) += col2im(col of rows [oh0, oh1)), row stride ld; col is scratch and may
 * be clobbered. */
static void col2im_add(const conv_attr *a, float *col, size_t ld, float *dx, int oh0, int oh1)
{
    const int H = a->H, W = a->W, OW = a->OW;
    if (same_width(a)) { col2im_same_add(a, col, ld, dx, oh0, oh1); return; }
    for (int c = 0; c < a->C; c++) {
        float *dc = dx + (size_t)c * H * W;
        for (int tp = 0; tp < a->n_taps; tp++) {
            const int ki = a->tap[tp] / a->KW, kj = a->tap[tp] % a->KW;
            const float *row = col + (size_t)(c * a->n_taps + tp) * ld;
            int lo, hi;
            valid_cols(a, kj, &lo, &hi);
            for (int oh = oh0; oh < oh1; oh++) {
                int ih = oh * a->sh - a->ph + ki;
                if (ih < 0 || ih >= H) continue;
                const float *r = row + (size_t)(oh - oh0) * OW;
                float *dr = dc + (size_t)ih * W - a->pw + kj;
                if (a->sw == 1) {
                    for (int ow = lo; ow < hi; ow++) dr[ow] += r[ow];
                } else {
                    for (int ow = lo; ow < hi; ow++) dr[ow * a->sw] += r[ow];
                }
            }
        }
    }
}

/* Group of g > 1 examples from n0: their whole col matrices side by side (K x g*P) in ws. */
static void group_cols(const conv_attr *a, const float *x, float *ws, int n0, int g)
{
    const size_t xs = (size_t)a->C * a->H * a->W, cols = (size_t)g * a->P;
    for (int e = 0; e < g; e++) im2col(a, x + (size_t)(n0 + e) * xs, ws + (size_t)e * a->P, cols, 0, a->OH);
}

/* Columns of one thread's col workspace: a group's g*P, or one chunk's R*OW. */
static size_t ws_cols(const conv_attr *a) { return a->G > 1 ? (size_t)a->G * a->P : (size_t)a->R * a->OW; }

/* Output rows [oh0, oh1) of chunk ci of one example. */
static void chunk_rows(const conv_attr *a, int ci, int *oh0, int *oh1)
{
    *oh0 = ci * a->R;
    *oh1 = *oh0 + a->R < a->OH ? *oh0 + a->R : a->OH;
}

static void conv_fwd_group(const conv_attr *a, const float *x, const float *w, const float *b, float *y,
                           float *ws, float *ybuf, int gi)
{
    const int O = a->O, K = a->K, P = a->P;
    const int n0 = gi * a->G, g = a->N - n0 < a->G ? a->N - n0 : a->G, cols = g * P;
    if (g == 1) {
        const float *xn = x + (size_t)n0 * a->C * a->H * a->W;
        float *yn = y + (size_t)n0 * O * P;
        float beta = 0.0f;
        if (b) {
            for (int o = 0; o < O; o++)
                for (int p = 0; p < P; p++) yn[(size_t)o * P + p] = b[o];
            beta = 1.0f;
        }
        if (a->pointwise) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, P, K, 1.0f, w, K, xn, P, beta, yn, P);
            return;
        }
        for (int ci = 0; ci < a->n_chunks; ci++) {   /* output rows in cache-sized chunks */
            int oh0, oh1;
            chunk_rows(a, ci, &oh0, &oh1);
            const int cc = (oh1 - oh0) * a->OW;
            im2col(a, xn, ws, (size_t)cc, oh0, oh1);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, cc, K, 1.0f, w, K, ws, cc, beta,
                        yn + (size_t)oh0 * a->OW, P);
        }
        return;
    }
    group_cols(a, x, ws, n0, g);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, cols, K, 1.0f, w, K, ws, cols, 0.0f, ybuf, cols);
    for (int e = 0; e < g; e++) {   /* scatter (O, g*P) -> (g, O, P), adding the bias */
        float *yn = y + (size_t)(n0 + e) * O * P;
        for (int o = 0; o < O; o++) {
            const float *src = ybuf + (size_t)o * cols + (size_t)e * P;
            float bo = b ? b[o] : 0.0f;
            for (int p = 0; p < P; p++) yn[(size_t)o * P + p] = src[p] + bo;
        }
    }
}

static void wino_forward(const conv_attr *a, const float *x, const float *w, const float *b, float *y);
static void wino_backward(conv_attr *a, amt_tensor *X, amt_tensor *Wt, amt_tensor *B, const float *dy);

/* The weight the GEMMs use: w itself, or its active taps gathered into wc (O x K). */
static const float *gemm_weight(const conv_attr *a, const float *w)
{
    if (!a->wc) return w;
    const int KHW = a->KH * a->KW;
    for (int o = 0; o < a->O; o++)
        for (int c = 0; c < a->C; c++)
            for (int t = 0; t < a->n_taps; t++)
                a->wc[((size_t)o * a->C + c) * a->n_taps + t] = w[(size_t)o * a->KF + (size_t)c * KHW + a->tap[t]];
    return a->wc;
}

static void conv_forward(amt_graph *g, amt_node *n)
{
    (void)g;
    const conv_attr *a = n->attr;
    const float *b = n->n_in > 2 ? n->in[2]->data : NULL;
    if (a->wino) { wino_forward(a, n->in[0]->data, n->in[1]->data, b, n->out->data); return; }
    const float *x = n->in[0]->data, *w = gemm_weight(a, n->in[1]->data);
    float *y = n->out->data;
    int nt = batch_threads(a);
    const size_t wsz = (size_t)a->K * ws_cols(a), ysz = (size_t)a->O * a->G * a->P;
    if (nt == 1) {
        for (int i = 0; i < a->n_groups; i++) conv_fwd_group(a, x, w, b, y, a->ws, a->ybuf, i);
        return;
    }
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int i = 0; i < a->n_groups; i++) {
        int t = thread_id();
        conv_fwd_group(a, x, w, b, y, a->ws ? a->ws + t * wsz : NULL, a->ybuf ? a->ybuf + t * ysz : NULL, i);
    }
}

/* Sum of r[0..n) in double, in SUM_LANES interleaved partial sums so the additions
 * pipeline and vectorise (one accumulator is latency-bound: it cost ~10 % of the
 * transcriber's conv backward); a fixed order, so deterministic. */
#define SUM_LANES 16
static double row_sum(const float *r, int n)
{
    double acc[SUM_LANES] = {0};
    int k = 0;
    for (; k + SUM_LANES <= n; k += SUM_LANES)
        for (int j = 0; j < SUM_LANES; j++) acc[j] += r[k + j];
    for (; k < n; k++) acc[0] += r[k];
    double s = 0;
    for (int j = 0; j < SUM_LANES; j++) s += acc[j];
    return s;
}

static void reduce_db(const conv_attr *a, amt_tensor *B, int nt);

/* Backward of group gi: partial dW (beta 1), partial db, dx. */
static void conv_bwd_group(const conv_attr *a, const float *x, const float *w, const float *dy,
                           float *dwp, double *dbp, float *dx, float *ws, float *ybuf, int gi)
{
    const int O = a->O, K = a->K, P = a->P;
    const int n0 = gi * a->G, g = a->N - n0 < a->G ? a->N - n0 : a->G, cols = g * P;
    const size_t xs = (size_t)a->C * a->H * a->W;
    const float *dyg = dy + (size_t)n0 * O * P;
    if (g > 1) {   /* gather (g, O, P) -> (O, g*P) */
        for (int e = 0; e < g; e++)
            for (int o = 0; o < O; o++)
                memcpy(ybuf + (size_t)o * cols + (size_t)e * P, dy + ((size_t)(n0 + e) * O + o) * P, (size_t)P * sizeof(float));
        dyg = ybuf;
    }
    if (dbp)
        for (int o = 0; o < O; o++) dbp[o] += row_sum(dyg + (size_t)o * cols, cols);
    if (g == 1) {
        const float *xn = x + (size_t)n0 * xs;
        float *dxn = dx ? dx + (size_t)n0 * xs : NULL;
        if (a->pointwise) {
            if (dwp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, K, P, 1.0f, dyg, P, xn, P, 1.0f, dwp, K);
            if (dxn) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, O, 1.0f, w, K, dyg, P, 1.0f, dxn, P);
            return;
        }
        for (int ci = 0; ci < a->n_chunks; ci++) {
            int oh0, oh1;
            chunk_rows(a, ci, &oh0, &oh1);
            const int cc = (oh1 - oh0) * a->OW;
            const float *dyc = dyg + (size_t)oh0 * a->OW;
            if (dwp) {
                im2col(a, xn, ws, (size_t)cc, oh0, oh1);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, K, cc, 1.0f, dyc, P, ws, cc, 1.0f, dwp, K);
            }
            if (dxn) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cc, O, 1.0f, w, K, dyc, P, 0.0f, ws, cc);
                col2im_add(a, ws, (size_t)cc, dxn, oh0, oh1);
            }
        }
        return;
    }
    if (dwp) {
        group_cols(a, x, ws, n0, g);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, K, cols, 1.0f, dyg, cols, ws, cols, 1.0f, dwp, K);
    }
    if (dx) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, cols, O, 1.0f, w, K, dyg, cols, 0.0f, ws, cols);
        for (int e = 0; e < g; e++) col2im_add(a, ws + (size_t)e * P, cols, dx + (size_t)(n0 + e) * xs, 0, a->OH);
    }
}

static void conv_backward(amt_graph *g, amt_node *n)
{
    (void)g;
    conv_attr *a = n->attr;
    amt_tensor *X = n->in[0], *Wt = n->in[1], *B = n->n_in > 2 ? n->in[2] : NULL;
    const float *dy = n->out->grad;
    if (a->wino) { wino_backward(a, X, Wt, B, dy); return; }
    float *dx = X->grad;
    int want_dw = Wt->grad != NULL && a->dw_part;
    int want_db = B && B->grad && a->db_part;
    const float *w = gemm_weight(a, Wt->data);
    const size_t OK = (size_t)a->O * a->K;
    const size_t wsz = (size_t)a->K * ws_cols(a), ysz = (size_t)a->O * a->G * a->P;
    int nt = batch_threads(a);
    if (want_db) memset(a->db_part, 0, (size_t)nt * a->O * sizeof(double));
    if (nt == 1 && !a->wc) {   /* one thread accumulates dW straight into the gradient */
        for (int i = 0; i < a->n_groups; i++)
            conv_bwd_group(a, X->data, w, dy, want_dw ? Wt->grad : NULL, want_db ? a->db_part : NULL,
                           dx, a->ws, a->ybuf, i);
        want_dw = 0;
    } else if (nt == 1) {   /* compact taps: dW of the active taps, scattered below */
        if (want_dw) memset(a->dw_part, 0, OK * sizeof(float));
        for (int i = 0; i < a->n_groups; i++)
            conv_bwd_group(a, X->data, w, dy, want_dw ? a->dw_part : NULL, want_db ? a->db_part : NULL,
                           dx, a->ws, a->ybuf, i);
    } else {
        if (want_dw) memset(a->dw_part, 0, (size_t)nt * OK * sizeof(float));
        #pragma omp parallel for num_threads(nt) schedule(static)
        for (int i = 0; i < a->n_groups; i++) {
            int t = thread_id();
            conv_bwd_group(a, X->data, w, dy, want_dw ? a->dw_part + t * OK : NULL,
                           want_db ? a->db_part + (size_t)t * a->O : NULL, dx,
                           a->ws ? a->ws + t * wsz : NULL, a->ybuf ? a->ybuf + t * ysz : NULL, i);
        }
    }
    /* reduce the partials in thread order */
    if (want_dw) {
        float *gw = Wt->grad;
        const int KHW = a->KH * a->KW;
        for (size_t k = 0; k < OK; k++) {
            float s = a->dw_part[k];
            for (int t = 1; t < nt; t++) s += a->dw_part[(size_t)t * OK + k];
            if (a->wc) {   /* k = (o * C + c) * n_taps + tap index */
                size_t oc = k / (size_t)a->n_taps;
                gw[oc * KHW + (size_t)a->tap[k % (size_t)a->n_taps]] += s;
            } else {
                gw[k] += s;
            }
        }
    }
    if (want_db) reduce_db(a, B, nt);
}

/* ---------------------------------------------------------------- Winograd path */

/* Examples [n0, n0 + g) of Winograd group gi. */
static int wino_group(const conv_attr *a, int gi, int *n0)
{
    *n0 = gi * a->G;
    return a->N - *n0 < a->G ? a->N - *n0 : a->G;
}

static void wino_forward(const conv_attr *a, const float *x, const float *w, const float *b, float *y)
{
    amt_wino_weights(&a->wp, w, a->U);
    const size_t xs = (size_t)a->C * a->H * a->W, ys = (size_t)a->O * a->P;
    int nt = batch_threads(a);
    #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int i = 0; i < a->n_groups; i++) {
        int n0, g = wino_group(a, i, &n0);
        amt_wino_forward(&a->wp, a->U, b, x + (size_t)n0 * xs, y + (size_t)n0 * ys, g, a->WR,
                         a->wws + (size_t)thread_id() * a->wws_n);
    }
}

/* Winograd backward of group gi: partial dU (accumulated), partial db, dx. */
static void wino_bwd_group(const conv_attr *a, const float *x, const float *dy, float *dup, double *dbp,
                           float *dx, float *ws, int gi)
{
    int n0, g = wino_group(a, gi, &n0);
    const size_t xs = (size_t)a->C * a->H * a->W, ys = (size_t)a->O * a->P;
    const float *dyg = dy + (size_t)n0 * ys;
    if (dbp)
        for (int e = 0; e < g; e++)
            for (int o = 0; o < a->O; o++) dbp[o] += row_sum(dyg + (size_t)e * ys + (size_t)o * a->P, a->P);
    if (!dup && !dx) return;
    amt_wino_backward(&a->wp, a->U, x + (size_t)n0 * xs, dyg, dup, dx ? dx + (size_t)n0 * xs : NULL, g, a->WR, ws);
}

/* B->grad += the thread-order sum of the nt bias partials. */
static void reduce_db(const conv_attr *a, amt_tensor *B, int nt)
{
    for (int o = 0; o < a->O; o++) {
        double s = a->db_part[o];
        for (int t = 1; t < nt; t++) s += a->db_part[(size_t)t * a->O + o];
        B->grad[o] += (float)s;
    }
}

static void wino_backward(conv_attr *a, amt_tensor *X, amt_tensor *Wt, amt_tensor *B, const float *dy)
{
    const int want_dw = Wt->grad != NULL && a->du_part, want_db = B && B->grad && a->db_part;
    float *dx = a->wino_dx ? X->grad : NULL;
    const size_t usz = (size_t)AMT_WINO_T * a->O * a->C;
    if (!want_dw && !want_db && !dx) return;
    amt_wino_weights(&a->wp, Wt->data, a->U);
    int nt = batch_threads(a);
    if (want_db) memset(a->db_part, 0, (size_t)nt * a->O * sizeof(double));
    if (want_dw) memset(a->du_part, 0, (size_t)nt * usz * sizeof(float));
    #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int i = 0; i < a->n_groups; i++) {
        int t = thread_id();
        wino_bwd_group(a, X->data, dy, want_dw ? a->du_part + t * usz : NULL,
                       want_db ? a->db_part + (size_t)t * a->O : NULL, dx, a->wws + t * a->wws_n, i);
    }
    if (want_dw) {   /* reduce the partials in thread order, then dw += G^T dU G */
        for (int t = 1; t < nt; t++)
            for (size_t k = 0; k < usz; k++) a->du_part[k] += a->du_part[(size_t)t * usz + k];
        amt_wino_weights_grad_add(&a->wp, a->du_part, Wt->grad);
    }
    if (want_db) reduce_db(a, B, nt);
}

/* AUTO's rule for the Winograd path (by shape only, so a shape always takes the same path;
 * bench/bench_conv --algo, numbers in the header comment): enough channels for the
 * transforms' channel loops and the GEMMs' inner dimension (with 1 input channel it is
 * 2-5x slower than im2col), and a map at least 2 wide and tall (a 1-wide map wastes half
 * of every tile, and im2col's tap skipping already makes those layers cheap). */
#define WINO_MIN_CHANNELS 16
static int wino_auto(const conv_attr *a)
{
    return a->C >= WINO_MIN_CHANNELS && a->O >= WINO_MIN_CHANNELS && a->OH >= 2 && a->OW >= 2;
}

/* A 3x3 stride-1 conv with padding <= 2 (fills a->wp). */
static int wino_eligible(conv_attr *a)
{
    return a->KH == 3 && a->KW == 3 && a->sh == 1 && a->sw == 1 &&
           amt_wino_init(&a->wp, a->C, a->O, a->H, a->W, a->ph, a->pw) == 0;
}

/* Sets up the Winograd path (groups, blocks, workspaces from the arena); returns -1 on
 * arena failure. */
static int wino_setup(amt_graph *g, conv_attr *a, int need_bwd, int want_dw, int want_dx)
{
    const int T = a->wp.TH * a->wp.TW;
    a->G = 1;
    if (T < WINO_GROUP_COLS && a->N > 1) {
        int g0 = (WINO_GROUP_COLS + T - 1) / T;
        int ng = (a->N + g0 - 1) / g0;
        if (a->N >= a->nthreads) ng = (ng + a->nthreads - 1) / a->nthreads * a->nthreads;
        a->G = (a->N + ng - 1) / ng;
    }
    a->n_groups = (a->N + a->G - 1) / a->G;
    const int rows = a->G * a->wp.TH;
    a->WR = WINO_BLOCK_COLS / a->wp.TW;
    if (a->WR < 1) a->WR = 1;
    if (a->WR > rows) a->WR = rows;
    /* equal blocks: the same number of blocks, the fewest rows each */
    int nb = (rows + a->WR - 1) / a->WR;
    a->WR = (rows + nb - 1) / nb;
    const size_t usz = (size_t)AMT_WINO_T * a->O * a->C;
    a->U = amt_graph_floats(g, usz);
    a->wino_dx = need_bwd && want_dx;
    a->wws_n = amt_wino_workspace_floats(&a->wp, a->G, a->WR, a->wino_dx);
    a->wws = amt_graph_floats(g, (size_t)a->nthreads * a->wws_n);
    if (!a->U || !a->wws) return -1;
    if (need_bwd && want_dw) {
        a->du_part = amt_graph_floats(g, (size_t)a->nthreads * usz);
        if (!a->du_part) return -1;
    }
    a->wino = 1;
    return 0;
}

static const amt_op conv2d_op = {"conv2d", conv_forward, conv_backward};

amt_tensor *amt_conv2d(amt_graph *g, amt_tensor *x, amt_tensor *w, amt_tensor *b,
                       int stride_h, int stride_w, int pad_h, int pad_w)
{
    if (!x || !w) { g->broken = 1; return NULL; }
    char s1[64], s2[64];
    if (x->ndim != 4) return amt_graph_fail(g, AMT_EINVAL, "conv2d: input must be (N, C, H, W), got %s", amt_shape_str(x, s1, sizeof s1));
    if (w->ndim != 4) return amt_graph_fail(g, AMT_EINVAL, "conv2d: weight must be (O, C, KH, KW), got %s", amt_shape_str(w, s1, sizeof s1));
    if (w->shape[1] != x->shape[1])
        return amt_graph_fail(g, AMT_EINVAL, "conv2d: weight %s expects %d input channels, input %s has %d",
                              amt_shape_str(w, s1, sizeof s1), w->shape[1], amt_shape_str(x, s2, sizeof s2), x->shape[1]);
    if (stride_h < 1 || stride_w < 1 || pad_h < 0 || pad_w < 0)
        return amt_graph_fail(g, AMT_EINVAL, "conv2d: stride (%d, %d) must be >= 1 and padding (%d, %d) >= 0", stride_h, stride_w, pad_h, pad_w);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return amt_graph_fail(g, AMT_EINVAL, "conv2d: bias %s must be (%d)", amt_shape_str(b, s1, sizeof s1), w->shape[0]);
    conv_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    a->N = x->shape[0]; a->C = x->shape[1]; a->H = x->shape[2]; a->W = x->shape[3];
    a->O = w->shape[0]; a->KH = w->shape[2]; a->KW = w->shape[3];
    a->sh = stride_h; a->sw = stride_w; a->ph = pad_h; a->pw = pad_w;
    int eh = a->H + 2 * pad_h - a->KH, ew = a->W + 2 * pad_w - a->KW;
    if (eh < 0 || ew < 0)
        return amt_graph_fail(g, AMT_EINVAL, "conv2d: kernel %dx%d larger than padded input %dx%d",
                              a->KH, a->KW, a->H + 2 * pad_h, a->W + 2 * pad_w);
    a->OH = eh / stride_h + 1;
    a->OW = ew / stride_w + 1;
    a->KF = a->C * a->KH * a->KW;
    a->tap = amt_graph_alloc(g, (size_t)a->KH * a->KW * sizeof(int));
    if (!a->tap) return NULL;
    a->n_taps = 0;
    for (int ki = 0; ki < a->KH; ki++)
        for (int kj = 0; kj < a->KW; kj++) {
            int lo, hi, rows = 0;
            valid_cols(a, kj, &lo, &hi);
            for (int oh = 0; oh < a->OH && !rows; oh++) {
                int ih = oh * stride_h - pad_h + ki;
                rows = ih >= 0 && ih < a->H;
            }
            if (hi > lo && rows) a->tap[a->n_taps++] = ki * a->KW + kj;
        }
    if (a->n_taps == 0)   /* no tap sees the image: keep them all (the output is the bias) */
        for (int t = 0; t < a->KH * a->KW; t++) a->tap[a->n_taps++] = t;
    a->K = a->C * a->n_taps;
    a->P = a->OH * a->OW;
    a->pointwise = a->KH == 1 && a->KW == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
    a->nthreads = max_threads();
    if (a->nthreads < 1) a->nthreads = 1;
    /* examples per GEMM: enough columns, and a number of groups that splits evenly */
    a->G = 1;
    if (a->P < CONV_GROUP_COLS && a->N > 1) {
        int g0 = (CONV_GROUP_COLS + a->P - 1) / a->P;
        int ng = (a->N + g0 - 1) / g0;
        if (a->N >= a->nthreads) ng = (ng + a->nthreads - 1) / a->nthreads * a->nthreads;
        a->G = (a->N + ng - 1) / ng;
    }
    a->n_groups = (a->N + a->G - 1) / a->G;
    /* a large output is done in chunks of output rows so the col chunk stays in cache */
    a->R = a->OH;
    if (a->G == 1 && a->P > CONV_CHUNK_COLS + CONV_CHUNK_COLS / 2) {
        a->R = CONV_CHUNK_COLS / a->OW;
        if (a->R < 1) a->R = 1;
    }
    a->n_chunks = (a->OH + a->R - 1) / a->R;
    if (a->n_taps < a->KH * a->KW) {
        a->wc = amt_graph_floats(g, (size_t)a->O * (a->K > 0 ? a->K : 1));
        if (!a->wc) return NULL;
    }
    int shape[4] = {a->N, a->O, a->OH, a->OW};
    amt_tensor *in[3] = {x, w, b};
    int n_in = b ? 3 : 2;
    amt_tensor *y = amt_graph_output(g, 4, shape, n_in, in);
    if (!y) return NULL;
    int need_bwd = y->grad != NULL;
    if (g_conv_algo != AMT_CONV2D_ALGO_IM2COL && wino_eligible(a) && (g_conv_algo == AMT_CONV2D_ALGO_WINOGRAD || wino_auto(a))) {
        if (wino_setup(g, a, need_bwd, w->requires_grad, x->grad != NULL || x->requires_grad)) return NULL;
        if (need_bwd && b && b->requires_grad) {
            a->db_part = amt_graph_alloc(g, (size_t)a->nthreads * a->O * sizeof(double));
            if (!a->db_part) return NULL;
        }
        return amt_graph_node(g, &conv2d_op, y, n_in, in, a) ? y : NULL;
    }
    if (!a->pointwise || a->G > 1) {
        a->ws = amt_graph_floats(g, (size_t)a->nthreads * a->K * ws_cols(a));
        if (!a->ws) return NULL;
    }
    if (a->G > 1) {
        a->ybuf = amt_graph_floats(g, (size_t)a->nthreads * a->O * a->G * a->P);
        if (!a->ybuf) return NULL;
    }
    if (need_bwd && w->requires_grad) {
        a->dw_part = amt_graph_floats(g, (size_t)a->nthreads * a->O * a->K);
        if (!a->dw_part) return NULL;
    }
    if (need_bwd && b && b->requires_grad) {
        a->db_part = amt_graph_alloc(g, (size_t)a->nthreads * a->O * sizeof(double));
        if (!a->db_part) return NULL;
    }
    return amt_graph_node(g, &conv2d_op, y, n_in, in, a) ? y : NULL;
}
