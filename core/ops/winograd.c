/* core/ops/winograd.c: Winograd F(2x2, 3x3) transforms and group drivers (see winograd.h).
 *
 * F(2,3) matrices (rows):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * Their entries are 0, +-1 and +-1/2, so the transforms add float32 rounding only through
 * their sums: measured against im2col, max |diff| / max |im2col| <= 9e-7 for y, dx and dw
 * on the classifier's shapes (tests/test_ops_conv.c checks < 1e-5 on small ones).
 * F(4x4, 3x3) (4x fewer multiply-adds than im2col instead of 2.25x, transform entries up
 * to 8, reported 1-2 decimal digits less accurate) was not tried: F(2,3) already beat the
 * PyTorch/oneDNN layer times it was written to catch up with.
 *
 * Position xi = 4 i + j of a transformed tile is row i, column j of the 4x4 matrix.
 * Every transform is separable (rows, then columns) and works on channels-last data, so
 * its loops run over C or O contiguous floats; they are small functions with restrict
 * pointers, which is what lets gcc vectorise them (written inline over offsets of one
 * buffer they stayed scalar). */
#include "winograd.h"

#include <cblas.h>
#include <string.h>

int amt_wino_init(amt_wino *p, int C, int O, int H, int W, int ph, int pw)
{
    if (ph < 0 || ph > 2 || pw < 0 || pw > 2 || C < 1 || O < 1) return -1;
    p->C = C; p->O = O; p->H = H; p->W = W; p->ph = ph; p->pw = pw;
    p->OH = H + 2 * ph - 2;
    p->OW = W + 2 * pw - 2;
    if (p->OH < 1 || p->OW < 1) return -1;
    p->TH = (p->OH + 1) / 2;
    p->TW = (p->OW + 1) / 2;
    p->HP = 2 * p->TH + 2;
    p->WP = 2 * p->TW + 2;
    return 0;
}

/* Workspace layout (floats), for groups of g and blocks of `rows` tile rows:
 *   V   16 * cols * C     transformed input tiles (xi, tile, c); dV in the backward
 *   M   16 * cols * O     GEMM products (xi, tile, o); dM in the backward
 *   X   g * HP * WP * C   the group's input, channels-last, zero-padded
 *   Y   g * 2TH * 2TW * O the group's output or output gradient, channels-last
 *   S   row scratch: 4 * WP * max(C, O) + 8 * max(C, O)
 *   D   g * HP * WP * C   the group's input gradient, channels-last (only with_dx) */
typedef struct wino_ws { float *V, *M, *X, *Y, *S, *D; } wino_ws;

static size_t scratch_floats(const amt_wino *p)
{
    const size_t mc = (size_t)(p->C > p->O ? p->C : p->O);
    return 4 * (size_t)p->WP * mc + 8 * mc;
}

static wino_ws ws_split(const amt_wino *p, int g, int rows, float *ws)
{
    const size_t cols = (size_t)rows * p->TW, pad = (size_t)g * p->HP * p->WP;
    wino_ws w;
    w.V = ws;
    w.M = w.V + AMT_WINO_T * cols * p->C;
    w.X = w.M + AMT_WINO_T * cols * p->O;
    w.Y = w.X + pad * p->C;
    w.S = w.Y + (size_t)g * 4 * p->TH * p->TW * p->O;
    w.D = w.S + scratch_floats(p);
    return w;
}

size_t amt_wino_workspace_floats(const amt_wino *p, int g, int rows, int with_dx)
{
    const size_t cols = (size_t)rows * p->TW, pad = (size_t)g * p->HP * p->WP;
    return AMT_WINO_T * cols * (p->C + p->O) + (with_dx ? 2 : 1) * pad * p->C
         + (size_t)g * 4 * p->TH * p->TW * p->O + scratch_floats(p);
}

/* ---------------------------------------------------------------- weights */

void amt_wino_weights(const amt_wino *p, const float *w, float *U)
{
    const int C = p->C, O = p->O;
    const size_t CO = (size_t)C * O;
    for (int c = 0; c < C; c++)   /* o inner: U's writes contiguous */
        for (int o = 0; o < O; o++) {
            const float *g = w + ((size_t)o * C + c) * 9;
            float t[4][3];   /* G g: rows */
            for (int j = 0; j < 3; j++) {
                float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            float *u = U + (size_t)c * O + o;
            for (int i = 0; i < 4; i++) {   /* (G g) G^T: columns */
                float a0 = t[i][0], a1 = t[i][1], a2 = t[i][2];
                u[(size_t)(4 * i + 0) * CO] = a0;
                u[(size_t)(4 * i + 1) * CO] = 0.5f * (a0 + a1 + a2);
                u[(size_t)(4 * i + 2) * CO] = 0.5f * (a0 - a1 + a2);
                u[(size_t)(4 * i + 3) * CO] = a2;
            }
        }
}

void amt_wino_weights_grad_add(const amt_wino *p, const float *dU, float *dw)
{
    const int C = p->C, O = p->O;
    const size_t CO = (size_t)C * O;
    for (int c = 0; c < C; c++)   /* o inner: dU's reads contiguous */
        for (int o = 0; o < O; o++) {
            const float *du = dU + (size_t)c * O + o;
            float u[4][4], t[3][4];
            for (int xi = 0; xi < AMT_WINO_T; xi++) u[xi / 4][xi % 4] = du[(size_t)xi * CO];
            for (int j = 0; j < 4; j++) {   /* G^T dU: rows */
                t[0][j] = u[0][j] + 0.5f * (u[1][j] + u[2][j]);
                t[1][j] = 0.5f * (u[1][j] - u[2][j]);
                t[2][j] = 0.5f * (u[1][j] + u[2][j]) + u[3][j];
            }
            float *g = dw + ((size_t)o * C + c) * 9;
            for (int i = 0; i < 3; i++) {   /* (G^T dU) G: columns */
                g[3 * i + 0] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
                g[3 * i + 1] += 0.5f * (t[i][1] - t[i][2]);
                g[3 * i + 2] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
}

/* ---------------------------------------------------------------- vector kernels (n floats) */

/* B^T d on 4 rows: (a - c, b + c, c - b, b - d) */
static void k_bt(float *restrict t0, float *restrict t1, float *restrict t2, float *restrict t3,
                 const float *restrict a, const float *restrict b, const float *restrict c,
                 const float *restrict d, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        float a_ = a[k], b_ = b[k], c_ = c[k], d_ = d[k];
        t0[k] = a_ - c_;
        t1[k] = b_ + c_;
        t2[k] = c_ - b_;
        t3[k] = b_ - d_;
    }
}

/* A^T M on 4 rows: (a + b + c, b - c - d) (+ nothing: the bias is added later) */
static void k_at(float *restrict s0, float *restrict s1, const float *restrict a, const float *restrict b,
                 const float *restrict c, const float *restrict d, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        float b_ = b[k], c_ = c[k];
        s0[k] = a[k] + b_ + c_;
        s1[k] = b_ - c_ - d[k];
    }
}

/* A dY on 2 rows: (a, a + b, a - b, -b) */
static void k_a(float *restrict m0, float *restrict m1, float *restrict m2, float *restrict m3,
                const float *restrict a, const float *restrict b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        float a_ = a[k], b_ = b[k];
        m0[k] = a_;
        m1[k] = a_ + b_;
        m2[k] = a_ - b_;
        m3[k] = -b_;
    }
}

/* B dV on 4 rows (the middle two): (b - c + d, b + c - a) */
static void k_b(float *restrict t1, float *restrict t2, const float *restrict a, const float *restrict b,
                const float *restrict c, const float *restrict d, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        float b_ = b[k], c_ = c[k];
        t1[k] = b_ - c_ + d[k];
        t2[k] = b_ + c_ - a[k];
    }
}

/* (B dV) B^T of one row, times s = +-1, added into the 4 patch columns x0..x3:
 * (a, b - c + d, b + c - a, -d) */
static void k_bt_add(float *restrict x0, float *restrict x1, float *restrict x2, float *restrict x3,
                     const float *restrict a, const float *restrict b, const float *restrict c,
                     const float *restrict d, float s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        float a_ = a[k], b_ = b[k], c_ = c[k], d_ = d[k];
        x0[k] += s * a_;
        x1[k] += s * (b_ - c_ + d_);
        x2[k] += s * (b_ + c_ - a_);
        x3[k] -= s * d_;
    }
}

/* ---------------------------------------------------------------- layout changes */

/* X (g, HP, WP, C) = the g examples of x (C, H, W), shifted by the padding, zero elsewhere. */
static void to_padded_nhwc(const amt_wino *p, const float *x, float *X, int g)
{
    const int C = p->C, H = p->H, W = p->W, WP = p->WP;
    const size_t prow = (size_t)WP * C, plane = (size_t)H * W;
    for (int e = 0; e < g; e++) {
        float *Xe = X + (size_t)e * p->HP * prow;
        const float *xe = x + (size_t)e * C * plane;
        for (int r = 0; r < p->HP; r++) {
            float *d = Xe + (size_t)r * prow;
            const int ih = r - p->ph;
            if (ih < 0 || ih >= H) { memset(d, 0, prow * sizeof(float)); continue; }
            memset(d, 0, (size_t)p->pw * C * sizeof(float));
            memset(d + (size_t)(p->pw + W) * C, 0, (size_t)(WP - p->pw - W) * C * sizeof(float));
            float *di = d + (size_t)p->pw * C;
            const float *s = xe + (size_t)ih * W;
            for (int iw = 0; iw < W; iw++)   /* contiguous writes: ~1.6x faster than contiguous reads */
                for (int c = 0; c < C; c++) di[(size_t)iw * C + c] = s[c * plane + iw];
        }
    }
}

/* dx (C, H, W) of g examples += the image part of D (g, HP, WP, C). */
static void add_from_padded_nhwc(const amt_wino *p, const float *D, float *dx, int g)
{
    const int C = p->C, H = p->H, W = p->W;
    const size_t prow = (size_t)p->WP * C, plane = (size_t)H * W;
    for (int e = 0; e < g; e++)
        for (int ih = 0; ih < H; ih++) {
            const float *s = D + ((size_t)e * p->HP + ih + p->ph) * prow + (size_t)p->pw * C;
            for (int c = 0; c < C; c++) {
                float *d = dx + ((size_t)e * C + c) * plane + (size_t)ih * W;
                for (int iw = 0; iw < W; iw++) d[iw] += s[(size_t)iw * C + c];
            }
        }
}

/* y (O, OH, OW) of g examples = Y (g, 2TH, 2TW, O) cropped, + b[o] when b. */
static void from_nhwc(const amt_wino *p, const float *Y, const float *b, float *y, int g)
{
    const int O = p->O, OH = p->OH, OW = p->OW;
    const size_t yrow = (size_t)2 * p->TW * O, plane = (size_t)OH * OW;
    for (int e = 0; e < g; e++)
        for (int oh = 0; oh < OH; oh++) {
            const float *s = Y + ((size_t)e * 2 * p->TH + oh) * yrow;
            for (int o = 0; o < O; o++) {
                float *d = y + ((size_t)e * O + o) * plane + (size_t)oh * OW;
                const float bo = b ? b[o] : 0.0f;
                for (int ow = 0; ow < OW; ow++) d[ow] = s[(size_t)ow * O + o] + bo;
            }
        }
}

/* Y (g, 2TH, 2TW, O) = dy (O, OH, OW) of g examples, zero beyond the output map. */
static void to_nhwc(const amt_wino *p, const float *dy, float *Y, int g)
{
    const int O = p->O, OH = p->OH, OW = p->OW, YW = 2 * p->TW;
    const size_t yrow = (size_t)YW * O, plane = (size_t)OH * OW;
    for (int e = 0; e < g; e++)
        for (int oh = 0; oh < 2 * p->TH; oh++) {
            float *d = Y + ((size_t)e * 2 * p->TH + oh) * yrow;
            if (oh >= OH) { memset(d, 0, yrow * sizeof(float)); continue; }
            memset(d + (size_t)OW * O, 0, (size_t)(YW - OW) * O * sizeof(float));
            const float *s = dy + (size_t)e * O * plane + (size_t)oh * OW;
            for (int ow = 0; ow < OW; ow++)   /* contiguous writes, as to_padded_nhwc */
                for (int o = 0; o < O; o++) d[(size_t)ow * O + o] = s[o * plane + ow];
        }
}

/* ---------------------------------------------------------------- tile transforms */

/* V (16, cols, C) of tile rows [r0, r1) = B^T d B from X. */
static void input_transform(const amt_wino *p, const float *X, int r0, int r1, float *V, float *S)
{
    const int C = p->C, TH = p->TH, TW = p->TW;
    const size_t cols = (size_t)(r1 - r0) * TW, prow = (size_t)p->WP * C, xs = cols * C;
    float *t[4] = {S, S + prow, S + 2 * prow, S + 3 * prow};
    for (int r = r0; r < r1; r++) {
        const int e = r / TH, th = r % TH;
        const float *R = X + ((size_t)e * p->HP + 2 * th) * prow;
        k_bt(t[0], t[1], t[2], t[3], R, R + prow, R + 2 * prow, R + 3 * prow, prow);   /* B^T d */
        for (int tw = 0; tw < TW; tw++) {
            float *v = V + ((size_t)(r - r0) * TW + tw) * C;
            for (int i = 0; i < 4; i++) {   /* (B^T d) B: the same on columns 2 tw .. 2 tw + 3 */
                const float *q = t[i] + (size_t)2 * tw * C;
                float *v0 = v + (size_t)(4 * i) * xs;
                k_bt(v0, v0 + xs, v0 + 2 * xs, v0 + 3 * xs, q, q + C, q + 2 * C, q + 3 * C, (size_t)C);
            }
        }
    }
}

/* Y (channels-last output) of tile rows [r0, r1) = A^T M A. */
static void output_transform(const amt_wino *p, const float *M, float *Y, int r0, int r1, float *S)
{
    const int O = p->O, TH = p->TH, TW = p->TW;
    const size_t cols = (size_t)(r1 - r0) * TW, ms = cols * O, yrow = (size_t)2 * TW * O;
    float *s[8];
    for (int k = 0; k < 8; k++) s[k] = S + (size_t)k * O;
    for (int r = r0; r < r1; r++) {
        const int e = r / TH, th = r % TH;
        float *Y0 = Y + ((size_t)e * 2 * TH + 2 * th) * yrow, *Y1 = Y0 + yrow;
        for (int tw = 0; tw < TW; tw++) {
            const float *m = M + ((size_t)(r - r0) * TW + tw) * O;
            for (int j = 0; j < 4; j++) {   /* A^T M: rows */
                const float *mj = m + (size_t)j * ms;
                k_at(s[j], s[4 + j], mj, mj + 4 * ms, mj + 8 * ms, mj + 12 * ms, (size_t)O);
            }
            float *y0 = Y0 + (size_t)2 * tw * O, *y1 = Y1 + (size_t)2 * tw * O;
            k_at(y0, y0 + O, s[0], s[1], s[2], s[3], (size_t)O);   /* (A^T M) A: columns */
            k_at(y1, y1 + O, s[4], s[5], s[6], s[7], (size_t)O);
        }
    }
}

/* dM (16, cols, O) of tile rows [r0, r1) = A dY A^T from Y (channels-last dy). */
static void output_grad_transform(const amt_wino *p, const float *Y, float *dM, int r0, int r1, float *S)
{
    const int O = p->O, TH = p->TH, TW = p->TW;
    const size_t cols = (size_t)(r1 - r0) * TW, ms = cols * O, yrow = (size_t)2 * TW * O;
    float *h[4] = {S, S + yrow, S + 2 * yrow, S + 3 * yrow};
    for (int r = r0; r < r1; r++) {
        const int e = r / TH, th = r % TH;
        const float *G0 = Y + ((size_t)e * 2 * TH + 2 * th) * yrow;
        k_a(h[0], h[1], h[2], h[3], G0, G0 + yrow, yrow);   /* A dY: rows */
        for (int tw = 0; tw < TW; tw++) {
            float *m = dM + ((size_t)(r - r0) * TW + tw) * O;
            for (int i = 0; i < 4; i++) {   /* (A dY) A^T: columns 2 tw, 2 tw + 1 */
                const float *q = h[i] + (size_t)2 * tw * O;
                float *m0 = m + (size_t)(4 * i) * ms;
                k_a(m0, m0 + ms, m0 + 2 * ms, m0 + 3 * ms, q, q + O, (size_t)O);
            }
        }
    }
}

/* D (channels-last input gradient) += B dV B^T of tile rows [r0, r1), patches
 * overlap-added in tile order. */
static void input_grad_transform(const amt_wino *p, const float *dV, float *D, int r0, int r1, float *S)
{
    const int C = p->C, TH = p->TH, TW = p->TW;
    const size_t cols = (size_t)(r1 - r0) * TW, vs = cols * C, prow = (size_t)p->WP * C;
    float *t[8];
    for (int k = 0; k < 8; k++) t[k] = S + (size_t)k * C;
    for (int r = r0; r < r1; r++) {
        const int e = r / TH, th = r % TH;
        float *R = D + ((size_t)e * p->HP + 2 * th) * prow;
        for (int tw = 0; tw < TW; tw++) {
            const float *v = dV + ((size_t)(r - r0) * TW + tw) * C;
            for (int j = 0; j < 4; j++) {   /* B dV: rows (v0, v1 - v2 + v3, v1 + v2 - v0, -v3) */
                const float *vj = v + (size_t)j * vs;
                k_b(t[j], t[4 + j], vj, vj + 4 * vs, vj + 8 * vs, vj + 12 * vs, (size_t)C);
            }
            const float *v3 = v + 12 * vs;
            for (int i = 0; i < 4; i++) {   /* (B dV) B^T: columns, added at 2 tw .. 2 tw + 3 */
                float *x = R + (size_t)i * prow + (size_t)2 * tw * C;
                const float *a, *b, *c, *d;
                float sgn = 1.0f;
                if (i == 0) { a = v; b = v + vs; c = v + 2 * vs; d = v + 3 * vs; }
                else if (i == 3) { a = v3; b = v3 + vs; c = v3 + 2 * vs; d = v3 + 3 * vs; sgn = -1.0f; }
                else { const int o = (i - 1) * 4; a = t[o]; b = t[o + 1]; c = t[o + 2]; d = t[o + 3]; }
                k_bt_add(x, x + C, x + 2 * C, x + 3 * C, a, b, c, d, sgn, (size_t)C);
            }
        }
    }
}

/* ---------------------------------------------------------------- group drivers */

void amt_wino_forward(const amt_wino *p, const float *U, const float *b, const float *x, float *y, int g,
                      int rows, float *ws)
{
    const int O = p->O, C = p->C, n_rows = g * p->TH;
    wino_ws w = ws_split(p, g, rows, ws);
    to_padded_nhwc(p, x, w.X, g);
    for (int r0 = 0; r0 < n_rows; r0 += rows) {
        const int r1 = r0 + rows < n_rows ? r0 + rows : n_rows, cols = (r1 - r0) * p->TW;
        input_transform(p, w.X, r0, r1, w.V, w.S);
        for (int xi = 0; xi < AMT_WINO_T; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cols, O, C, 1.0f, w.V + (size_t)xi * cols * C, C,
                        U + (size_t)xi * C * O, O, 0.0f, w.M + (size_t)xi * cols * O, O);
        output_transform(p, w.M, w.Y, r0, r1, w.S);
    }
    from_nhwc(p, w.Y, b, y, g);
}

void amt_wino_backward(const amt_wino *p, const float *U, const float *x, const float *dy, float *dU,
                       float *dx, int g, int rows, float *ws)
{
    const int O = p->O, C = p->C, n_rows = g * p->TH;
    wino_ws w = ws_split(p, g, rows, ws);
    to_nhwc(p, dy, w.Y, g);
    if (dU) to_padded_nhwc(p, x, w.X, g);
    if (dx) memset(w.D, 0, (size_t)g * p->HP * p->WP * C * sizeof(float));
    for (int r0 = 0; r0 < n_rows; r0 += rows) {
        const int r1 = r0 + rows < n_rows ? r0 + rows : n_rows, cols = (r1 - r0) * p->TW;
        output_grad_transform(p, w.Y, w.M, r0, r1, w.S);
        if (dU) {
            input_transform(p, w.X, r0, r1, w.V, w.S);
            for (int xi = 0; xi < AMT_WINO_T; xi++)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, O, cols, 1.0f, w.V + (size_t)xi * cols * C, C,
                            w.M + (size_t)xi * cols * O, O, 1.0f, dU + (size_t)xi * C * O, O);
        }
        if (dx) {
            for (int xi = 0; xi < AMT_WINO_T; xi++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cols, C, O, 1.0f, w.M + (size_t)xi * cols * O, O,
                            U + (size_t)xi * C * O, O, 0.0f, w.V + (size_t)xi * cols * C, C);
            input_grad_transform(p, w.V, w.D, r0, r1, w.S);
        }
    }
    if (dx) add_from_padded_nhwc(p, w.D, dx, g);
}
