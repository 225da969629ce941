/* core/ops/lstm.c: the fused LSTM sequence op (see lstm.h).
 *
 * Layout: everything is (B, T, .) row-major, row r = b*T + t, so the input projection of
 * all steps is one (B*T) x I x 4H sgemm and the rows of one time step form a B-row matrix
 * with leading dimension T*4H (or T*H) that sgemm takes without copying.
 *
 * Forward, per layer: Z = X W_ih^T (one sgemm); per step s (time t = s, or T-1-s when
 * reversed): Z_t += h_prev W_hh^T (one sgemm, beta 1), then the fused gate loop adds b,
 * applies sigmoid/tanh, updates c and h. Training keeps the activations in Z (in place),
 * c and tanh(c).
 *
 * Backward, per layer: BPTT in reverse step order; per step dh = dY_t + dZ_next W_hh (one
 * sgemm), then the fused gate-gradient loop writes dZ_t and carries dc. Then the weight
 * gradients as whole-sequence sgemms: dW_ih += dZ^T X, dW_hh += dZ^T Hprev (Hprev = h of the
 * previous step laid out as (B*T) x H, zero at the first step), db += column sums of dZ
 * (fixed order), dX += dZ W_ih.
 *
 * Threads: the whole-sequence sgemms are threaded by OpenBLAS; the recurrence (forward and
 * BPTT) runs in one parallel region per layer, each thread owning a block of batch rows
 * for all steps and calling sgemm on its own rows (see rec_threads). */
#include "lstm.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "../error.h"

/* exp for the gate loops: Cephes' single-precision polynomial (about 1 ulp on the clamped
 * range), branch-free so gcc vectorises the loops. The clamps vectorise (as min/max) only
 * when gcc may assume finite values and ignore the sign of zero, so the gate-loop
 * functions carry those two flags (not -ffast-math: no reassociation, results stay exact
 * functions of the inputs). A NaN input gives an unspecified (but no trapping) result. */
#define LSTM_VEC __attribute__((optimize("finite-math-only", "no-signed-zeros")))
LSTM_VEC static inline float lstm_exp(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 87.0f ? 87.0f : x;
    float v = x * 1.44269504088896341f + 0.5f;
    float fx = (float)(int32_t)v;          /* floor(v) without floorf, which does not vectorise */
    fx -= fx > v ? 1.0f : 0.0f;
    float r = x - fx * 0.693359375f;
    r = r + fx * 2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + r + 1.0f;
    int32_t n = (int32_t)fx;
    union { uint32_t u; float f; } s = {.u = (uint32_t)(n + 127) << 23};
    return y * s.f;
}
LSTM_VEC static inline float lstm_sigmoid(float x) { return 1.0f / (1.0f + lstm_exp(-x)); }
/* tanh x = 1 - 2 / (1 + e^{2x}): absolute error ~1e-7 (relative error grows near 0). */
LSTM_VEC static inline float lstm_tanh(float x) { return 1.0f - 2.0f / (1.0f + lstm_exp(2.0f * x)); }

/* Shared by the layer nodes of one amt_lstm call. */
typedef struct lstm_ws {
    float *zero;   /* (H) zeros: c_{-1} */
    /* inference */
    float *z;      /* (B, T, 4H) pre-activations of the layer being run */
    float *c;      /* (B, H) cell state, updated in place */
    float *tc;     /* (B, H) tanh(c) scratch */
    /* training (backward scratch) */
    float *dz;     /* (B, T, 4H) gate gradients */
    float *hprev;  /* (B, T, H) h of the previous step */
    float *dh;     /* (B, H) dZ_next W_hh */
    float *dc;     /* (B, H) dc carried to the previous step */
} lstm_ws;

typedef struct lstm_attr {
    int B, T, IN, H, reverse;
    int saved;     /* training: gates/c/tc below are per-layer saved state */
    float *gates;  /* (B, T, 4H): training activations i f g o; inference ws->z */
    float *c;      /* (B, T, H) training only */
    float *tc;     /* (B, T, H) training only */
    lstm_ws *ws;
} lstm_attr;

/* n units of one row of the gate loop: z pre-activations without bias (the four gates H
 * apart), overwritten with the activations; bias likewise; cp previous c; writes c,
 * tanh(c), h. */
LSTM_VEC static void gates_fwd_row(float *restrict z, const float *restrict bias, const float *cp,
                          float *c, float *restrict tc, float *restrict h, int H, int n)
{
    float *zi = z, *zf = z + H, *zg = z + 2 * H, *zo = z + 3 * H;
    const float *bi = bias, *bf = bias + H, *bg = bias + 2 * H, *bo = bias + 3 * H;
#pragma omp simd
    for (int j = 0; j < n; j++) {
        float i = lstm_sigmoid(zi[j] + bi[j]);
        float f = lstm_sigmoid(zf[j] + bf[j]);
        float gg = lstm_tanh(zg[j] + bg[j]);
        float o = lstm_sigmoid(zo[j] + bo[j]);
        float cv = f * cp[j] + i * gg;
        float t = lstm_tanh(cv);
        zi[j] = i; zf[j] = f; zg[j] = gg; zo[j] = o;
        c[j] = cv;
        tc[j] = t;
        h[j] = o * t;
    }
}

/* The recurrence of one layer for batch rows [b0, b1): every step's recurrent sgemm (rows
 * b0..b1 only) and gate loop. Rows are independent sequences, so threads that own
 * different rows never wait for each other inside the time loop. */
static void fwd_rows(const lstm_attr *a, const float *whh, const float *bias, float *z, float *h, int b0, int b1)
{
    lstm_ws *ws = a->ws;
    const int T = a->T, H = a->H, G = 4 * H, M = b1 - b0;
    if (!a->saved) memset(ws->c + (size_t)b0 * H, 0, (size_t)M * H * sizeof(float));
    for (int s = 0; s < T; s++) {
        int t = a->reverse ? T - 1 - s : s;
        int tp = a->reverse ? t + 1 : t - 1;
        if (s > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, G, H, 1.0f, h + ((size_t)b0 * T + tp) * H,
                        T * H, whh, H, 1.0f, z + ((size_t)b0 * T + t) * G, T * G);
        for (int b = b0; b < b1; b++) {
            size_t r = (size_t)b * T + t, rp = (size_t)b * T + tp;
            const float *cp;
            float *c, *tc;
            if (a->saved) {
                cp = s > 0 ? a->c + rp * H : ws->zero;
                c = a->c + r * H;
                tc = a->tc + r * H;
            } else {
                cp = c = ws->c + (size_t)b * H;   /* in place; zeroed above */
                tc = ws->tc + (size_t)b * H;
            }
            gates_fwd_row(z + r * G, bias, cp, c, tc, h + r * H, H, H);
        }
    }
}

int amt_lstm_split_batch = 1;

/* Threads for the recurrence: one per block of batch rows when the step is big enough
 * (1 = the caller's thread, each sgemm then threaded by OpenBLAS). */
static int rec_threads(const lstm_attr *a)
{
    if (!amt_lstm_split_batch) return 1;
    int nt = a->B * a->H >= AMT_LSTM_OMP_MIN ? omp_get_max_threads() : 1;
    return nt < a->B ? nt : a->B;
}

static void lstm_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    lstm_attr *a = n->attr;
    const amt_tensor *x = n->in[0], *wih = n->in[1], *whh = n->in[2], *bias = n->in[3];
    const int B = a->B, T = a->T, IN = a->IN, H = a->H, G = 4 * H;
    float *z = a->gates, *h = n->out->data;
    /* input projection of all steps: one sgemm, threaded by OpenBLAS */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * T, G, IN, 1.0f, x->data, IN, wih->data, IN,
                0.0f, z, G);
    int nt = rec_threads(a);
    if (nt <= 1) { fwd_rows(a, whh->data, bias->data, z, h, 0, B); return; }
    /* inside a parallel region OpenBLAS runs each sgemm on the calling thread */
#pragma omp parallel num_threads(nt)
    {
        int k = omp_get_thread_num(), m = omp_get_num_threads();
        fwd_rows(a, whh->data, bias->data, z, h, B * k / m, B * (k + 1) / m);
    }
}

/* n units of one row of BPTT: act saved activations (four gates H apart); cp previous c;
 * tc tanh(c); dy upstream gradient of h; dh recurrent gradient; dc in: dc from the next
 * step, out: dc for the previous one; writes dz (four gates H apart). */
static void gates_bwd_row(const float *restrict act, const float *restrict cp, const float *restrict tc,
                          const float *restrict dy, const float *restrict dh, float *restrict dc,
                          float *restrict dz, int H, int n)
{
    const float *ai = act, *af = act + H, *ag = act + 2 * H, *ao = act + 3 * H;
    float *di = dz, *df = dz + H, *dg = dz + 2 * H, *dout = dz + 3 * H;
#pragma omp simd
    for (int j = 0; j < n; j++) {
        float i = ai[j], f = af[j], gg = ag[j], o = ao[j], t = tc[j];
        float dhv = dy[j] + dh[j];
        float dcv = dc[j] + dhv * o * (1.0f - t * t);
        di[j] = dcv * gg * i * (1.0f - i);
        df[j] = dcv * cp[j] * f * (1.0f - f);
        dg[j] = dcv * i * (1.0f - gg * gg);
        dout[j] = dhv * t * o * (1.0f - o);
        dc[j] = dcv * f;
    }
}

/* BPTT of one layer for batch rows [b0, b1) (see fwd_rows): writes dz for those rows. */
static void bwd_rows(const lstm_attr *a, const float *whh, const float *dy, int b0, int b1)
{
    lstm_ws *ws = a->ws;
    const int T = a->T, H = a->H, G = 4 * H, M = b1 - b0;
    float *dz = ws->dz, *dh = ws->dh + (size_t)b0 * H, *dc = ws->dc + (size_t)b0 * H;
    memset(dc, 0, (size_t)M * H * sizeof(float));
    memset(dh, 0, (size_t)M * H * sizeof(float));
    for (int s = T - 1; s >= 0; s--) {
        int t = a->reverse ? T - 1 - s : s;
        int tp = a->reverse ? t + 1 : t - 1;
        int tn = a->reverse ? t - 1 : t + 1;
        if (s < T - 1)   /* dh = dZ_next W_hh */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, H, G, 1.0f, dz + ((size_t)b0 * T + tn) * G,
                        T * G, whh, H, 0.0f, dh, H);
        for (int b = b0; b < b1; b++) {
            size_t r = (size_t)b * T + t, rp = (size_t)b * T + tp, o = (size_t)(b - b0) * H;
            const float *cp = s > 0 ? a->c + rp * H : ws->zero;
            gates_bwd_row(a->gates + r * G, cp, a->tc + r * H, dy + r * H, dh + o, dc + o, dz + r * G, H, H);
        }
    }
}

static void lstm_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    lstm_attr *a = n->attr;
    lstm_ws *ws = a->ws;
    amt_tensor *x = n->in[0], *wih = n->in[1], *whh = n->in[2], *bias = n->in[3];
    const int B = a->B, T = a->T, IN = a->IN, H = a->H, G = 4 * H;
    const float *h = n->out->data, *dy = n->out->grad;
    float *dz = ws->dz;
    int nt = rec_threads(a);
    if (nt <= 1) {
        bwd_rows(a, whh->data, dy, 0, B);
    } else {
#pragma omp parallel num_threads(nt)
        {
            int k = omp_get_thread_num(), m = omp_get_num_threads();
            bwd_rows(a, whh->data, dy, B * k / m, B * (k + 1) / m);
        }
    }
    const int R = B * T;
    if (wih->grad)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, IN, R, 1.0f, dz, G, x->data, IN, 1.0f,
                    wih->grad, IN);
    if (whh->grad) {
        size_t rowb = (size_t)H * sizeof(float);
        for (int b = 0; b < B; b++) {
            float *hp = ws->hprev + (size_t)b * T * H;
            const float *hb = h + (size_t)b * T * H;
            if (a->reverse) {
                memcpy(hp, hb + H, (size_t)(T - 1) * rowb);
                memset(hp + (size_t)(T - 1) * H, 0, rowb);
            } else {
                memset(hp, 0, rowb);
                memcpy(hp + H, hb, (size_t)(T - 1) * rowb);
            }
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, R, 1.0f, dz, G, ws->hprev, H, 1.0f,
                    whh->grad, H);
    }
    if (bias->grad) {
        enum { CB = 64 };
        int nblk = (G + CB - 1) / CB;
#pragma omp parallel for schedule(static) if ((size_t)R * G >= 32768)
        for (int k = 0; k < nblk; k++) {
            int j0 = k * CB, jn = G - j0 < CB ? G - j0 : CB;
            float acc[CB] = {0};
            for (int r = 0; r < R; r++) {
                const float *row = dz + (size_t)r * G + j0;
                for (int jj = 0; jj < jn; jj++) acc[jj] += row[jj];
            }
            for (int jj = 0; jj < jn; jj++) bias->grad[j0 + jj] += acc[jj];
        }
    }
    if (x->grad)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, IN, G, 1.0f, dz, G, wih->data, IN, 1.0f,
                    x->grad, IN);
}

static const amt_op lstm_op = {"lstm", lstm_fwd, lstm_bwd};

static int shape_is(const amt_tensor *t, int ndim, int d0, int d1)
{
    return t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
}

amt_tensor *amt_lstm(amt_graph *g, amt_tensor *x, int n_layers, amt_tensor *const *w_ih,
                     amt_tensor *const *w_hh, amt_tensor *const *b, int reverse)
{
    char s1[64];
    if (!x || !w_ih || !w_hh || !b) { g->broken = 1; return NULL; }
    if (n_layers < 1) return amt_graph_fail(g, AMT_EINVAL, "lstm: n_layers %d must be >= 1", n_layers);
    for (int l = 0; l < n_layers; l++)
        if (!w_ih[l] || !w_hh[l] || !b[l]) { g->broken = 1; return NULL; }
    if (x->ndim != 3)
        return amt_graph_fail(g, AMT_EINVAL, "lstm: x is %s, expected (B, T, I)", amt_shape_str(x, s1, sizeof s1));
    const int B = x->shape[0], T = x->shape[1], IN = x->shape[2];
    if (w_hh[0]->ndim != 2 || w_hh[0]->shape[1] <= 0 || w_hh[0]->shape[0] != 4 * w_hh[0]->shape[1])
        return amt_graph_fail(g, AMT_EINVAL, "lstm: layer 0 w_hh is %s, expected (4H, H)",
                              amt_shape_str(w_hh[0], s1, sizeof s1));
    const int H = w_hh[0]->shape[1], G = 4 * H;
    int need_grad = g->with_grad && x->requires_grad;
    for (int l = 0; l < n_layers; l++) {
        int il = l == 0 ? IN : H;
        if (!shape_is(w_ih[l], 2, G, il))
            return amt_graph_fail(g, AMT_EINVAL, "lstm: layer %d w_ih is %s, expected (%d, %d)", l,
                                  amt_shape_str(w_ih[l], s1, sizeof s1), G, il);
        if (!shape_is(w_hh[l], 2, G, H))
            return amt_graph_fail(g, AMT_EINVAL, "lstm: layer %d w_hh is %s, expected (%d, %d)", l,
                                  amt_shape_str(w_hh[l], s1, sizeof s1), G, H);
        if (!shape_is(b[l], 1, G, 0))
            return amt_graph_fail(g, AMT_EINVAL, "lstm: layer %d b is %s, expected (%d)", l,
                                  amt_shape_str(b[l], s1, sizeof s1), G);
        if (g->with_grad && (w_ih[l]->requires_grad || w_hh[l]->requires_grad || b[l]->requires_grad))
            need_grad = 1;
    }
    const size_t BT = (size_t)B * T, BH = (size_t)B * H;
    lstm_ws *ws = amt_graph_alloc(g, sizeof *ws);
    if (!ws || !(ws->zero = amt_graph_floats(g, (size_t)H))) return NULL;
    if (need_grad) {
        ws->dz = amt_graph_floats(g, BT * G);
        ws->hprev = amt_graph_floats(g, BT * H);
        ws->dh = amt_graph_floats(g, BH);
        ws->dc = amt_graph_floats(g, BH);
        if (!ws->dz || !ws->hprev || !ws->dh || !ws->dc) return NULL;
    }
    amt_tensor *in = x;
    for (int l = 0; l < n_layers; l++) {
        amt_tensor *ins[4] = {in, w_ih[l], w_hh[l], b[l]};
        int shape[3] = {B, T, H};
        amt_tensor *out = amt_graph_output(g, 3, shape, 4, ins);
        lstm_attr *a = amt_graph_alloc(g, sizeof *a);
        if (!out || !a) return NULL;
        *a = (lstm_attr){.B = B, .T = T, .IN = l == 0 ? IN : H, .H = H, .reverse = reverse ? 1 : 0, .ws = ws};
        a->saved = out->grad != NULL;   /* backward runs for this node only when out has a grad */
        if (a->saved) {
            a->gates = amt_graph_floats(g, BT * G);
            a->c = amt_graph_floats(g, BT * H);
            a->tc = amt_graph_floats(g, BT * H);
            if (!a->gates || !a->c || !a->tc) return NULL;
        } else {
            if (!ws->z) {
                ws->z = amt_graph_floats(g, BT * G);
                ws->c = amt_graph_floats(g, BH);
                ws->tc = amt_graph_floats(g, BH);
                if (!ws->z || !ws->c || !ws->tc) return NULL;
            }
            a->gates = ws->z;
        }
        if (!amt_graph_node(g, &lstm_op, out, 4, ins, a)) return NULL;
        in = out;
    }
    return in;
}
