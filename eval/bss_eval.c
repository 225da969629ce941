/* eval/bss_eval.c: BSS Eval v3 (mir_eval 0.7 bss_eval_sources) with FFTW and LAPACK.
 *
 * mir_eval's _project for an estimate e and references s_0..s_{K-1} (N samples each),
 * flen = L:
 *   r_ij[k] = sum_n s_i[n+k] s_j[n]          (FFT cross-correlation, lags |k| < L)
 *   G[iL+a, jL+b] = r_ij[b-a]                (inner products of delayed references)
 *   D[iL+a] = sum_n s_i[n-a] e[n]
 *   C = G^-1 D,  P = sum_i C_i * s_i         (projection, N + L - 1 samples)
 * and the criteria are energy ratios of P_own (own reference only), P_all - P_own and
 * e - P_all. What we do differently, each exact up to rounding:
 *  - the FFT length is the smallest 2^a 3^b 5^c >= N + L - 1 (mir_eval: the next power of
 *    2); any length >= N + L - 1 gives the same correlations and convolutions, and these
 *    lengths are ~2x faster;
 *  - G is built and factorised once per set of references, not once per estimate;
 *  - G is symmetric positive (semi)definite and, ordered by delay, block Toeplitz: for up
 *    to 4 sources it is solved by block Levinson (O(K^3 L^2) instead of O(K^3 L^3)),
 *    accepted only when a test solve has a residual at rounding level; otherwise by
 *    Cholesky, by LU as numpy.linalg.solve when Cholesky fails, and by least squares
 *    (dgelsd, rcond = machine precision, as numpy's lstsq) when LU finds G exactly
 *    singular, as mir_eval falls back;
 *  - each signal is transformed once (the references at set-up, an estimate once for all
 *    its references); only the lags that are used are read from inverse FFTs;
 *  - the energies come from Gram products (|e - S C|^2 = |e|^2 - 2 C.D + C.(G C), see
 *    score_range) with no FFT of the projections; when such a difference is too small
 *    against its terms to be accurate (ratios far above 60 dB) they are taken from the
 *    spectra instead (Parseval: |x|^2 = (1/nfft) sum_k |X_k|^2, nothing wraps around).
 * FFTs of different signals run in parallel (OpenMP); each FFT and every sum is done by
 * one thread in a fixed order, so results do not depend on the thread count. */
#include "eval/bss_eval.h"
#include "audio/stft.h"

#include <fftw3.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define MAX_FFT_LEN (1L << 30)

enum { SOLVE_CHOL = 0, SOLVE_LU = 1, SOLVE_LSTSQ = 2, SOLVE_LEVINSON = 3 };
/* Block Levinson is used up to this many sources (its cost grows as K^3 L^2). */
#define LEVINSON_MAX_K 4
static int use_levinson = 1;

void amt_bss_use_levinson(int on)
{
    use_levinson = on != 0;
}

typedef struct linsys {
    int s0, s1;        /* sources [s0, s1) spanned: order n = (s1 - s0) * flen */
    int kind;          /* SOLVE_* */
    double *f;         /* factor (column-major, leading dimension ld); not owned if shared */
    int ld, owned;
    int *ipiv;         /* LU pivots */
    double *lev;       /* Levinson: backward solutions B_1..B_L (layout: lev_build_k), owned */
    double *rs;        /* R_ij[m], |m| < L, K^2 sequences (see sys_seqs), owned */
    double *lev_x;     /* Levinson: solution scratch, L * K */
} linsys;

struct amt_bss {
    int nsrc, flen, n;          /* n = nsrc * flen */
    long nsampl, nproj;         /* nproj = nsampl + flen - 1 */
    long nfft, nf;              /* nf = nfft / 2 + 1 complex bins */
    long rstride, cstride;      /* nfft and nf rounded up to 64 bytes: every FFT array
                                 * must have the alignment the plans were made with */
    int nthr;                   /* scratch sets (threads used) */
    fftw_complex *sf;           /* nsrc x nf reference spectra */
    double *lags;               /* pair p = i(i+1)/2 + j (i >= j): r_ij[k], k = -(L-1)..L-1 */
    linsys all, *own;           /* the all-sources system and nsrc single-source ones */
    /* scratch */
    double *rbuf;               /* nthr x nfft */
    fftw_complex *cspec;        /* nsrc x nf: per-source products */
    fftw_complex *se, *pa, *po; /* nf each: estimate, P_all, P_own spectra */
    double *d, *c, *lsq_a, *lsq_s;
    double *g, *u, *cown;       /* n, n, flen: G C, G[:, j] c, own solution */
    fftw_plan fwd, inv;
    int own_plans;              /* 1: fwd/inv are not in the shared cache */
};

/* Work memory. An amt_bss of a 10 s clip uses ~15 MB of buffers; fresh pages from the
 * kernel (malloc returns big blocks to it on free) cost more than all the arithmetic, so
 * the big buffers are recycled process-wide: wfree keeps up to WCACHE_SLOTS blocks,
 * WCACHE_MAX_BYTES in all, and wmalloc hands back the smallest kept block that fits (and
 * is at most twice the request). Blocks are 64-byte aligned (as FFTW arrays must be) and
 * carry their capacity in a 64-byte header. The cache is guarded by one named critical
 * section and is never released (like the plan cache below). */
#define WCACHE_SLOTS 32
#define WCACHE_MAX_BYTES ((size_t)64 << 20)
#define WHEADER 64
static struct { unsigned char *p; size_t n; } wcache[WCACHE_SLOTS];
static size_t wcache_bytes;

/* n bytes, 64-byte aligned, uninitialised; NULL when out of memory. Free with wfree. */
static void *wmalloc(size_t n)
{
    unsigned char *p = NULL;
    #pragma omp critical(amt_bss_wcache)
    {
        int best = -1;
        for (int k = 0; k < WCACHE_SLOTS; k++)
            if (wcache[k].p && wcache[k].n >= n && wcache[k].n / 2 <= n &&
                (best < 0 || wcache[k].n < wcache[best].n)) best = k;
        if (best >= 0) {
            p = wcache[best].p;
            wcache_bytes -= wcache[best].n;
            wcache[best].p = NULL;
        }
    }
    if (p) return p + WHEADER;
    void *q = NULL;
    if (n > SIZE_MAX - WHEADER || posix_memalign(&q, WHEADER, n + WHEADER)) return NULL;
    *(size_t *)q = n;
    return (unsigned char *)q + WHEADER;
}

static void wfree(void *ptr)
{
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - WHEADER;
    size_t n = *(size_t *)p;
    int kept = 0;
    #pragma omp critical(amt_bss_wcache)
    {
        for (int k = 0; k < WCACHE_SLOTS && !kept; k++)
            if (!wcache[k].p && wcache_bytes + n <= WCACHE_MAX_BYTES) {
                wcache[k].p = p; wcache[k].n = n; wcache_bytes += n; kept = 1;
            }
    }
    if (!kept) free(p);
}

static void sys_free(linsys *s)
{
    if (s->owned) wfree(s->f);
    free(s->ipiv); wfree(s->lev); wfree(s->rs); wfree(s->lev_x);
    s->f = NULL; s->ipiv = NULL; s->lev = NULL; s->rs = NULL; s->lev_x = NULL;
}

void amt_bss_free(amt_bss *b)
{
    if (!b) return;
    if (b->own_plans) {
        amt_fftw_lock(); /* one lock for every FFTW planner call (audio/stft.h) */
    {
            if (b->fwd) fftw_destroy_plan(b->fwd);
            if (b->inv) fftw_destroy_plan(b->inv);
        } amt_fftw_unlock();
    }
    if (b->own)
        for (int j = 0; j < b->nsrc; j++) sys_free(&b->own[j]);
    sys_free(&b->all);
    free(b->own);
    wfree(b->sf); wfree(b->rbuf); wfree(b->cspec);
    wfree(b->se); wfree(b->pa); wfree(b->po);
    free(b->lags); free(b->d); free(b->c); free(b->lsq_a); free(b->lsq_s);
    free(b->g); free(b->u); free(b->cown);
    free(b);
}

/* 0: fine; 1: all zeros; 2: NaN/Inf somewhere. */
static int signal_state(const float *x, long n)
{
    int nonzero = 0;
    for (long t = 0; t < n; t++) {
        if (!isfinite(x[t])) return 2;
        if (x[t] != 0.0f) nonzero = 1;
    }
    return nonzero ? 0 : 1;
}

/* Smallest 2^a 3^b 5^c >= n. */
static long fft_size(long n)
{
    for (long m = n;; m++) {
        long r = m;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        while (r % 5 == 0) r /= 5;
        if (r == 1) return m;
    }
}

/* out = FFT of x (len samples, zero-padded to nfft), using real scratch rb. */
static void fft_real(const amt_bss *b, const double *x, long len, double *rb, fftw_complex *out)
{
    memcpy(rb, x, (size_t)len * sizeof(double));
    memset(rb + len, 0, (size_t)(b->nfft - len) * sizeof(double));
    fftw_execute_dft_r2c(b->fwd, rb, out);
}

/* out = FFT of the float signal x (len samples, zero-padded), using real scratch rb. */
static void fft_float(const amt_bss *b, const float *x, long len, double *rb, fftw_complex *out)
{
    for (long t = 0; t < len; t++) rb[t] = x[t];
    memset(rb + len, 0, (size_t)(b->nfft - len) * sizeof(double));
    fftw_execute_dft_r2c(b->fwd, rb, out);
}

/* rb[k mod nfft] = nfft * sum_n x[n+k] y[n] (unnormalised real(ifft(X conj(Y))): the
 * caller scales the few lags it uses by 1/nfft); tmp (nf) is destroyed. */
static void xcorr(const amt_bss *b, const fftw_complex *X, const fftw_complex *Y, fftw_complex *tmp, double *rb)
{
    for (long f = 0; f < b->nf; f++) {
        double xr = X[f][0], xi = X[f][1], yr = Y[f][0], yi = Y[f][1];
        tmp[f][0] = xr * yr + xi * yi;
        tmp[f][1] = xi * yr - xr * yi;
    }
    fftw_execute_dft_c2r(b->inv, tmp, rb);
}

/* Writes the system's matrix (column-major, leading dimension ld), the lower triangle
 * only or all of it, as mir_eval leaves G: block (i, j), row a, column c holds
 *   r_ij[c-a] for i > j (toeplitz(r_ij)),  r_ji[a-c] for i < j (its transpose),
 *   r_ii[a-c] on the diagonal (mir_eval's last write there is the transpose). */
static void fill_gram(const amt_bss *b, const linsys *s, double *dst, int ld, int lower_only)
{
    long L = b->flen, W = 2 * L - 1;
    for (int j = s->s0; j < s->s1; j++)
        for (long c = 0; c < L; c++) {
            double *col = dst + (size_t)((j - s->s0) * L + c) * ld;
            for (int i = lower_only ? j : s->s0; i < s->s1; i++) {
                double *out = col + (size_t)(i - s->s0) * L;
                long a0 = (lower_only && i == j) ? c : 0;
                if (i > j) {
                    const double *base = b->lags + ((size_t)i * (i + 1) / 2 + j) * W + (c + L - 1);
                    for (long a = a0; a < L; a++) out[a] = base[-a];
                } else {
                    int hi = i > j ? i : j, lo = i > j ? j : i;
                    const double *lag = b->lags + ((size_t)hi * (hi + 1) / 2 + lo) * W;
                    memcpy(out + a0, lag + (a0 - c + L - 1), (size_t)(L - a0) * sizeof(double));
                }
            }
        }
}

/* ---- block Levinson (Whittle / Wiggins-Robinson) for the block-Toeplitz form of G.
 * Ordering the unknowns by delay (a) then source (i), G becomes block Toeplitz with
 * K x K blocks T[a][c] = R(c - a), R(m)[i][j] = r_ij[m], R(-m) = R(m)^T. With T_n the
 * leading n x n blocks, F_n and B_n solve T_n F_n = [I; 0..], T_n B_n = [0..; I]:
 *   Ef = sum_a R(a-n) F_n[a],  Eb = sum_{c=1..n} R(c) B_n[c-1],
 *   F_{n+1} = [F_n; 0] al + [0; B_n] (-Ef al),   al = (I - Eb Ef)^-1,
 *   B_{n+1} = [F_n; 0] (-Eb de) + [0; B_n] de,   de = (I - Ef Eb)^-1,
 * and a right-hand side y is solved by x_{n+1} = [x_n; 0] + B_{n+1} (y_n - sum_a R(a-n) x_n[a]).
 * All B_n are kept (L(L+1)/2 blocks) so each later solve is O(K^2 L^2). O(K^3 L^2) set-up
 * instead of Cholesky's O(K^3 L^3 / 3). */

/* C = A B (K x K, row-major) */
static inline __attribute__((always_inline)) void mm(int K, const double *A, const double *B, double *C)
{
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += A[i * K + k] * B[k * K + j];
            C[i * K + j] = s;
        }
}
/* A <- A^-1 (K x K) by Gauss-Jordan with partial pivoting; -1 if singular. */
static int inv_small(int K, double *A)
{
    double tmp[LEVINSON_MAX_K * LEVINSON_MAX_K * 2];
    int W = 2 * K;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < W; j++) tmp[i * W + j] = j < K ? A[i * K + j] : (j - K == i);
    for (int c = 0; c < K; c++) {
        int p = c;
        for (int r = c + 1; r < K; r++) if (fabs(tmp[r * W + c]) > fabs(tmp[p * W + c])) p = r;
        if (!(fabs(tmp[p * W + c]) > 0) || !isfinite(tmp[p * W + c])) return -1;
        if (p != c) for (int j = 0; j < W; j++) { double t = tmp[c * W + j]; tmp[c * W + j] = tmp[p * W + j]; tmp[p * W + j] = t; }
        double d = 1.0 / tmp[c * W + c];
        for (int j = 0; j < W; j++) tmp[c * W + j] *= d;
        for (int r = 0; r < K; r++) {
            if (r == c) continue;
            double f = tmp[r * W + c];
            if (f != 0) for (int j = 0; j < W; j++) tmp[r * W + j] -= f * tmp[c * W + j];
        }
    }
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) A[i * K + j] = tmp[i * W + K + j];
    return 0;
}

/* The system's R(m)[i][j] = r_ij[m], |m| < L, as K x K sequences (s->rs, owned):
 * R_ij[m] at rs[(i K + j) W + m + L - 1], W = 2L - 1. Every system has them (the energy
 * sums use G v products); 0 or -1 when out of memory. */
static int sys_seqs(const amt_bss *b, linsys *s)
{
    int K = s->s1 - s->s0;
    long L = b->flen, W = 2 * L - 1;
    s->rs = wmalloc((size_t)K * K * W * sizeof(double));
    if (!s->rs) return -1;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            int gi = s->s0 + i, gj = s->s0 + j;
            double *o = s->rs + ((size_t)i * K + j) * W;
            if (gi >= gj) memcpy(o, b->lags + ((size_t)gi * (gi + 1) / 2 + gj) * W, (size_t)W * sizeof(double));
            else {
                const double *lg = b->lags + ((size_t)gj * (gj + 1) / 2 + gi) * W;
                for (long m = 0; m < W; m++) o[m] = lg[W - 1 - m];
            }
        }
    return 0;
}

/* sum_{a < n} x[a] y[a] (vectorised; fixed order for a given build) */
static inline double dot(const double *x, const double *y, long n)
{
    double acc = 0;
    #pragma omp simd reduction(+:acc)
    for (long a = 0; a < n; a++) acc += x[a] * y[a];
    return acc;
}

/* Sets up Levinson for system s; -1 (nothing kept) when a step is singular or not finite.
 * Every K x K block sequence is stored as K^2 scalar sequences (F_ij[a], B_ij[a],
 * R_ij[m]) so the inner loops are contiguous dot products and axpys; B_n (n blocks) is
 * kept at lev + KK n(n-1)/2, B_n,ij[a] at [(i K + j) n + a]. Inlined for each K. */
static inline __attribute__((always_inline)) int lev_build_k(const amt_bss *b, linsys *s, const int K)
{
    long L = b->flen, W = 2 * L - 1;
    size_t KK = (size_t)K * K;
    s->lev = wmalloc((size_t)L * (L + 1) / 2 * KK * sizeof(double));
    s->lev_x = wmalloc((size_t)L * K * sizeof(double));
    double *F = wmalloc((size_t)L * KK * sizeof(double)), *Fn = wmalloc((size_t)L * KK * sizeof(double));
    int ok = s->lev && s->lev_x && F && Fn && s->rs;
    const double *R[LEVINSON_MAX_K * LEVINSON_MAX_K];   /* R[i K + j][m] = R_ij[m] */
    for (size_t k = 0; ok && k < KK; k++) R[k] = s->rs + k * W + (L - 1);
    double Ef[LEVINSON_MAX_K * LEVINSON_MAX_K], Eb[LEVINSON_MAX_K * LEVINSON_MAX_K], al[LEVINSON_MAX_K * LEVINSON_MAX_K];
    double de[LEVINSON_MAX_K * LEVINSON_MAX_K], be[LEVINSON_MAX_K * LEVINSON_MAX_K], ga[LEVINSON_MAX_K * LEVINSON_MAX_K];
    if (ok) {
        for (size_t k = 0; k < KK; k++) Ef[k] = R[k][0];
        ok = inv_small(K, Ef) == 0;
        for (size_t k = 0; k < KK; k++) F[k] = s->lev[k] = Ef[k];   /* B_1 = F_1 = R(0)^-1 */
    }
    for (long n = 1; ok && n < L; n++) {
        const double *B = s->lev + (size_t)n * (n - 1) / 2 * KK;   /* B_n: sequences of n */
        double *Bn = s->lev + (size_t)n * (n + 1) / 2 * KK;        /* B_{n+1}: of n + 1 */
        /* F is stored with stride n, Fn gets stride n + 1 */
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                double ef = 0, eb = 0;
                for (int k = 0; k < K; k++) {
                    ef += dot(R[i * K + k] - n, F + ((size_t)k * K + j) * n, n);
                    eb += dot(R[i * K + k] + 1, B + ((size_t)k * K + j) * n, n);
                }
                Ef[i * K + j] = ef;
                Eb[i * K + j] = eb;
            }
        mm(K, Eb, Ef, al);
        mm(K, Ef, Eb, de);
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) { al[i * K + j] = (i == j) - al[i * K + j]; de[i * K + j] = (i == j) - de[i * K + j]; }
        if (inv_small(K, al) || inv_small(K, de)) { ok = 0; break; }
        mm(K, Ef, al, be);   /* -beta  = Ef al */
        mm(K, Eb, de, ga);   /* -gamma = Eb de */
        /* F_{n+1}[a] = F_n[a] al - B_n[a-1] be,  B_{n+1}[a] = B_n[a-1] de - F_n[a] ga */
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                double *fo = Fn + ((size_t)i * K + j) * (n + 1), *bo = Bn + ((size_t)i * K + j) * (n + 1);
                const double *fi = F + (size_t)i * K * n, *bi = B + (size_t)i * K * n;
                double a1[LEVINSON_MAX_K], g1[LEVINSON_MAX_K], b1[LEVINSON_MAX_K], d1[LEVINSON_MAX_K];
                for (int k = 0; k < K; k++) {
                    a1[k] = al[k * K + j]; g1[k] = ga[k * K + j]; b1[k] = be[k * K + j]; d1[k] = de[k * K + j];
                }
                /* a = 0..n in one pass; F_n[n] and B_n[-1] are 0 */
                for (long a = 0; a <= n; a++) {
                    double f = 0, g = 0;
                    if (a < n)
                        for (int k = 0; k < K; k++) { f += fi[(size_t)k * n + a] * a1[k]; g -= fi[(size_t)k * n + a] * g1[k]; }
                    if (a > 0)
                        for (int k = 0; k < K; k++) { f -= bi[(size_t)k * n + a - 1] * b1[k]; g += bi[(size_t)k * n + a - 1] * d1[k]; }
                    fo[a] = f;
                    bo[a] = g;
                }
            }
        double *t = F; F = Fn; Fn = t;
        for (size_t k = 0; k < KK; k++) if (!isfinite(Bn[k * (n + 1) + n])) ok = 0;
    }
    wfree(F); wfree(Fn);
    return ok ? 0 : -1;
}

static int lev_build(const amt_bss *b, linsys *s)
{
    switch (s->s1 - s->s0) {
    case 1: return lev_build_k(b, s, 1);
    case 2: return lev_build_k(b, s, 2);
    case 3: return lev_build_k(b, s, 3);
    default: return lev_build_k(b, s, s->s1 - s->s0);
    }
}

/* rhs (source-major: rhs[i L + a]) <- G_s^-1 rhs by the stored Levinson recursion:
 * x_{n+1} = [x_n; 0] + B_{n+1} (y_n - sum_{a<n} R(a-n) x_n[a]), x source-major. */
static inline __attribute__((always_inline)) void lev_solve_k(const amt_bss *b, const linsys *s, double *rhs, const int K)
{
    long L = b->flen, W = 2 * L - 1;
    size_t KK = (size_t)K * K;
    double *x = s->lev_x, v[LEVINSON_MAX_K];
    for (int i = 0; i < K; i++) {
        double acc = 0;
        for (int j = 0; j < K; j++) acc += s->lev[i * K + j] * rhs[(long)j * L];
        x[(long)i * L] = acc;
    }
    for (long n = 1; n < L; n++) {
        for (int i = 0; i < K; i++) {
            double acc = 0;
            for (int j = 0; j < K; j++)
                acc += dot(s->rs + ((size_t)i * K + j) * W + (L - 1) - n, x + (long)j * L, n);
            v[i] = rhs[(long)i * L + n] - acc;
        }
        const double *Bn = s->lev + (size_t)n * (n + 1) / 2 * KK;   /* B_{n+1} */
        for (int i = 0; i < K; i++) {
            double *xi = x + (long)i * L;
            xi[n] = 0;
            for (int j = 0; j < K; j++) {
                const double *bij = Bn + ((size_t)i * K + j) * (n + 1);
                double vj = v[j];
                for (long a = 0; a <= n; a++) xi[a] += bij[a] * vj;
            }
        }
    }
    memcpy(rhs, x, (size_t)K * L * sizeof(double));
}

static void lev_solve(const amt_bss *b, const linsys *s, double *rhs)
{
    switch (s->s1 - s->s0) {
    case 1: lev_solve_k(b, s, rhs, 1); break;
    case 2: lev_solve_k(b, s, rhs, 2); break;
    case 3: lev_solve_k(b, s, rhs, 3); break;
    default: lev_solve_k(b, s, rhs, s->s1 - s->s0); break;
    }
}

/* out (rows of sources [r0, r1) of the system, source-major) = G_s[rows, :] v, v over all
 * of the system's sources (source-major, v[i L + a]); out[(i - r0) L + a]. */
static void sys_matvec_rows(const amt_bss *b, const linsys *s, int r0, int r1, const double *v, double *out)
{
    int K = s->s1 - s->s0;
    long L = b->flen, W = 2 * L - 1;
    for (int i = r0; i < r1; i++)
        for (long a = 0; a < L; a++) {
            double acc = 0;
            for (int j = 0; j < K; j++)
                acc += dot(s->rs + ((size_t)i * K + j) * W + (L - 1) - a, v + (long)j * L, L);
            out[(long)(i - r0) * L + a] = acc;
        }
}

/* out = G_s v (both source-major, v[i L + a]) from the stored R_ij sequences. */
static void sys_matvec(const amt_bss *b, const linsys *s, const double *v, double *out)
{
    sys_matvec_rows(b, s, 0, s->s1 - s->s0, v, out);
}

/* Levinson is not backward stable on (nearly) rank-deficient G (e.g. signals shorter
 * than the filter, or with spectral gaps): it is accepted only if it solves a test
 * system G x = y = G v (v pseudo-random) with |G x - y| <= LEVINSON_RESIDUAL_TOL |y|;
 * otherwise the system goes to Cholesky / LU / least squares like mir_eval. */
#define LEVINSON_RESIDUAL_TOL 1e-10
static int lev_check(const amt_bss *b, linsys *s)
{
    int K = s->s1 - s->s0;
    long n = (long)K * b->flen;
    double *v = calloc((size_t)n * 3, sizeof(double));
    if (!v) return -1;
    double *y = v + n, *r = v + 2 * n;
    uint64_t st = 0x9E3779B97F4A7C15ULL;
    for (long k = 0; k < n; k++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        v[k] = (double)(st >> 11) / 9007199254740992.0 - 0.5;
    }
    sys_matvec(b, s, v, y);
    memcpy(r, y, (size_t)n * sizeof(double));
    lev_solve(b, s, r);                 /* r = x */
    memcpy(v, r, (size_t)n * sizeof(double));
    sys_matvec(b, s, v, r);             /* r = G x */
    double res = 0, yn = 0;
    for (long k = 0; k < n; k++) {
        res += (r[k] - y[k]) * (r[k] - y[k]);
        yn += y[k] * y[k];
    }
    free(v);
    int ok = isfinite(res) && sqrt(res) <= LEVINSON_RESIDUAL_TOL * sqrt(yn);
    return ok ? 0 : -1;
}

/* Factorises a system: Cholesky, else LU, else marks it for least squares. */
static int sys_factor(amt_bss *b, linsys *s)
{
    int n = (s->s1 - s->s0) * b->flen;
    if (!s->rs && sys_seqs(b, s))
        return amt_error(AMT_ENOMEM, "bss_eval: out of memory for a %d x %d system", n, n);
    if (use_levinson && s->s1 - s->s0 <= LEVINSON_MAX_K) {
        if (lev_build(b, s) == 0 && lev_check(b, s) == 0) { s->kind = SOLVE_LEVINSON; return AMT_OK; }
        wfree(s->lev); wfree(s->lev_x);
        s->lev = s->lev_x = NULL;
    }
    s->ld = n;
    s->owned = 1;
    s->f = wmalloc((size_t)n * n * sizeof(double));
    if (!s->f) return amt_error(AMT_ENOMEM, "bss_eval: out of memory for a %d x %d system", n, n);
    fill_gram(b, s, s->f, n, 1);
    lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, s->f, n);
    if (info == 0) { s->kind = SOLVE_CHOL; return AMT_OK; }
    if (info < 0) return amt_error(AMT_EINTERNAL, "bss_eval: LAPACK dpotrf failed (%d)", (int)info);
    s->ipiv = malloc((size_t)n * sizeof(int));
    if (!s->ipiv) return amt_error(AMT_ENOMEM, "bss_eval: out of memory");
    fill_gram(b, s, s->f, n, 0);
    info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, s->f, n, s->ipiv);
    if (info < 0) return amt_error(AMT_EINTERNAL, "bss_eval: LAPACK dgetrf failed (%d)", (int)info);
    if (info == 0) { s->kind = SOLVE_LU; return AMT_OK; }
    s->kind = SOLVE_LSTSQ;
    wfree(s->f); s->f = NULL;
    free(s->ipiv); s->ipiv = NULL;
    if (!b->lsq_a) {
        b->lsq_a = malloc((size_t)b->n * b->n * sizeof(double));
        b->lsq_s = malloc((size_t)b->n * sizeof(double));
        if (!b->lsq_a || !b->lsq_s) return amt_error(AMT_ENOMEM, "bss_eval: out of memory");
    }
    return AMT_OK;
}

/* rhs <- G_s^-1 rhs */
static int sys_solve(amt_bss *b, const linsys *s, double *rhs)
{
    int n = (s->s1 - s->s0) * b->flen;
    lapack_int info = 0;
    if (s->kind == SOLVE_LEVINSON) lev_solve(b, s, rhs);
    else if (s->kind == SOLVE_CHOL) info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', n, 1, s->f, s->ld, rhs, n);
    else if (s->kind == SOLVE_LU) info = LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', n, 1, s->f, s->ld, s->ipiv, rhs, n);
    else {
        fill_gram(b, s, b->lsq_a, n, 0);
        lapack_int rank = 0;
        info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, n, n, 1, b->lsq_a, n, rhs, n, b->lsq_s, -1.0, &rank);
    }
    if (info != 0) return amt_error(AMT_EINTERNAL, "bss_eval: LAPACK solve failed (kind %d, info %d)", s->kind, (int)info);
    return AMT_OK;
}

/* FFTW plans, made once per FFT length and shared by every amt_bss (planning a new
 * length costs milliseconds). FFTW's planner is not thread-safe, so the look-up and the
 * planning run in one critical section; plans are only executed afterwards, through the
 * thread-safe fftw_execute_dft_* on our own (equally aligned) arrays. The cache is never
 * freed (a handful of small plans). */
#define PLAN_CACHE 16
static struct { long n; fftw_plan fwd, inv; } plan_cache[PLAN_CACHE];

/* Plans for length nfft (planned on rb/cb when new); 0 if FFTW fails; *owned = 1 when the
 * cache was full and the caller must destroy them. */
static int get_plans(long nfft, double *rb, fftw_complex *cb, fftw_plan *fwd, fftw_plan *inv, int *owned)
{
    int ok = 0;
    *owned = 0;
    amt_fftw_lock(); /* one lock for every FFTW planner call (audio/stft.h) */
    {
        int k = 0;
        while (k < PLAN_CACHE && plan_cache[k].n && plan_cache[k].n != nfft) k++;
        if (k < PLAN_CACHE && plan_cache[k].n == nfft) {
            *fwd = plan_cache[k].fwd; *inv = plan_cache[k].inv; ok = 1;
        } else {
            *fwd = fftw_plan_dft_r2c_1d((int)nfft, rb, cb, FFTW_ESTIMATE);
            *inv = fftw_plan_dft_c2r_1d((int)nfft, cb, rb, FFTW_ESTIMATE);
            ok = *fwd && *inv;
            if (ok && k < PLAN_CACHE) { plan_cache[k].n = nfft; plan_cache[k].fwd = *fwd; plan_cache[k].inv = *inv; }
            else if (ok) *owned = 1;
        }
    } amt_fftw_unlock();
    return ok;
}

static int thread_count(const amt_bss *b, int items)
{
    return items < b->nthr ? (items > 0 ? items : 1) : b->nthr;
}

int amt_bss_new(const float *const *refs, int nsrc, long nsampl, int flen, amt_bss **out)
{
    *out = NULL;
    if (nsrc < 1 || nsrc > AMT_BSS_MAX_SOURCES)
        return amt_error(AMT_EINVAL, "bss_eval: %d sources (need 1..%d)", nsrc, AMT_BSS_MAX_SOURCES);
    if (nsampl < 1) return amt_error(AMT_EINVAL, "bss_eval: signals have %ld samples (need >= 1)", nsampl);
    if (flen < 1) return amt_error(AMT_EINVAL, "bss_eval: filter length %d (need >= 1)", flen);
    if (nsampl + flen - 1 > MAX_FFT_LEN / 2)
        return amt_error(AMT_EINVAL, "bss_eval: signals of %ld samples are too long", nsampl);
    for (int i = 0; i < nsrc; i++) {
        if (!refs || !refs[i]) return amt_error(AMT_EINVAL, "bss_eval: reference source %d is NULL", i);
        int st = signal_state(refs[i], nsampl);
        if (st == 1)
            return amt_error(AMT_EINVAL, "bss_eval: reference source %d is silent (all zeros); "
                             "BSS Eval is undefined for silent references", i);
        if (st == 2) return amt_error(AMT_EINVAL, "bss_eval: reference source %d contains NaN or Inf", i);
    }
    amt_bss *b = calloc(1, sizeof(*b));
    if (!b) return amt_error(AMT_ENOMEM, "bss_eval: out of memory");
    b->nsrc = nsrc; b->flen = flen; b->n = nsrc * flen;
    b->nsampl = nsampl; b->nproj = nsampl + flen - 1;
    b->nfft = fft_size(b->nproj);
    b->nf = b->nfft / 2 + 1;
    b->rstride = (b->nfft + 7) / 8 * 8;
    b->cstride = (b->nf + 3) / 4 * 4;
    b->nthr = omp_get_max_threads();
    if (b->nthr > nsrc + 1) b->nthr = nsrc + 1;
    if (b->nthr < 1) b->nthr = 1;
    long L = flen, nf = b->nf;
    size_t npairs = (size_t)nsrc * (nsrc + 1) / 2;
    b->sf = wmalloc((size_t)nsrc * b->cstride * sizeof(fftw_complex));
    b->lags = malloc(npairs * (2 * L - 1) * sizeof(double));
    b->own = calloc((size_t)nsrc, sizeof(linsys));
    b->rbuf = wmalloc((size_t)b->nthr * b->rstride * sizeof(double));
    b->cspec = wmalloc((size_t)(nsrc > 1 ? nsrc : 2) * b->cstride * sizeof(fftw_complex));
    b->se = wmalloc((size_t)nf * sizeof(fftw_complex));
    b->pa = wmalloc((size_t)nf * sizeof(fftw_complex));
    b->po = wmalloc((size_t)nf * sizeof(fftw_complex));
    b->d = malloc((size_t)b->n * sizeof(double));
    b->c = malloc((size_t)b->n * sizeof(double));
    b->g = malloc((size_t)b->n * sizeof(double));
    b->u = malloc((size_t)b->n * sizeof(double));
    b->cown = malloc((size_t)flen * sizeof(double));
    if (!b->sf || !b->lags || !b->own || !b->rbuf || !b->cspec || !b->se || !b->pa || !b->po ||
        !b->d || !b->c || !b->g || !b->u || !b->cown) {
        amt_bss_free(b);
        return amt_error(AMT_ENOMEM, "bss_eval: out of memory for %d sources of %ld samples", nsrc, nsampl);
    }
    /* FFTW_ESTIMATE plans: deterministic, and planning does not touch the buffers. */
    if (!get_plans(b->nfft, b->rbuf, b->se, &b->fwd, &b->inv, &b->own_plans)) {
        amt_bss_free(b);
        return amt_error(AMT_EINTERNAL, "bss_eval: FFTW planning failed for length %ld", b->nfft);
    }

    #pragma omp parallel for schedule(static) num_threads(thread_count(b, nsrc))
    for (int i = 0; i < nsrc; i++)
        fft_float(b, refs[i], nsampl, b->rbuf + (size_t)omp_get_thread_num() * b->rstride,
                  b->sf + (size_t)i * b->cstride);
    /* cross-correlations of every pair i >= j (each thread: its rbuf slot, a private tmp) */
    int np = (int)npairs;
    int fail = 0;
    #pragma omp parallel num_threads(thread_count(b, np))
    {
        int tid = omp_get_thread_num();
        fftw_complex *tmp = wmalloc((size_t)nf * sizeof(fftw_complex));
        double *rb = b->rbuf + (size_t)tid * b->rstride;
        if (!tmp) {
            #pragma omp atomic write
            fail = 1;
        }
        #pragma omp for schedule(static)
        for (int p = 0; p < np; p++) {
            if (!tmp) continue;
            int i = 0;
            while ((i + 1) * (i + 2) / 2 <= p) i++;
            int j = p - i * (i + 1) / 2;
            xcorr(b, b->sf + (size_t)i * b->cstride, b->sf + (size_t)j * b->cstride, tmp, rb);
            double *lg = b->lags + (size_t)p * (2 * L - 1);
            double sc = 1.0 / (double)b->nfft;
            for (long k = -(L - 1); k < L; k++) lg[k + L - 1] = rb[k >= 0 ? k : b->nfft + k] * sc;
        }
        wfree(tmp);
    }
    if (fail) { amt_bss_free(b); return amt_error(AMT_ENOMEM, "bss_eval: out of memory"); }

    b->all.s0 = 0; b->all.s1 = nsrc;
    int rc = sys_factor(b, &b->all);
    for (int j = 0; j < nsrc && !rc; j++) {
        b->own[j].s0 = j; b->own[j].s1 = j + 1;
        if (j == 0 && b->all.kind == SOLVE_CHOL) {
            /* the Cholesky factor of G's leading block is the leading block of G's factor */
            b->own[0].kind = SOLVE_CHOL; b->own[0].f = b->all.f; b->own[0].ld = b->all.ld; b->own[0].owned = 0;
            if (sys_seqs(b, &b->own[0])) rc = amt_error(AMT_ENOMEM, "bss_eval: out of memory");
        } else rc = sys_factor(b, &b->own[j]);
    }
    if (rc) { amt_bss_free(b); return rc; }
    *out = b;
    return AMT_OK;
}

/* Parseval weight of half-spectrum bin f: 1 for DC and (even nfft) Nyquist, else 2. */
static inline double bin_weight(const amt_bss *b, long f)
{
    return (f == 0 || (b->nfft % 2 == 0 && f == b->nf - 1)) ? 1.0 : 2.0;
}

static double safe_db(double num, double den)
{
    if (den == 0) return INFINITY;
    return 10.0 * log10(num / den);
}

/* Energy sums from Gram products. For any coefficients C (source-major, C[iL+a]) the
 * projection P = sum_i C_i * s_i satisfies exactly
 *   |e - P|^2 = |e|^2 - 2 C.D + C.(G C),   |P|^2 = C.(G C),   <P, Q> = C.(G C'),
 * so with C the all-sources solution, c the own one (reference j) and
 *   g = G C, u = G[:, j] c (u_j = G_jj c):
 *   |P_own|^2 = c.u_j,  |e - P_own|^2 = |e|^2 - 2 c.D_j + c.u_j,
 *   |P_all - P_own|^2 = C.g - 2 C.u + c.u_j,  |P_all|^2 = C.g,  |e - P_all|^2 = |e|^2 - 2 C.D + C.g.
 * This replaces 3 FFTs of length nfft per estimate by O(K^2 L^2) products. A difference
 * of large terms loses accuracy when it is tiny relative to them (a ratio far above
 * 60 dB); ALG_REL_MIN bounds that: each difference must exceed ALG_REL_MIN times a bound
 * on its terms' magnitude (absolute sums, plus |C|_1^2 max_i r_ii[0] for rounding in G),
 * else the estimate's energies for that reference are taken from the spectra. */
#define ALG_REL_MIN 1e-9

/* sum_t x[t]^2 of a float signal, in double */
static double energy(const float *x, long n)
{
    double acc = 0;
    #pragma omp simd reduction(+:acc)
    for (long t = 0; t < n; t++) acc += (double)x[t] * (double)x[t];
    return acc;
}

/* sum_k |x[k] y[k]| */
static double absdot(const double *x, const double *y, long n)
{
    double acc = 0;
    #pragma omp simd reduction(+:acc)
    for (long k = 0; k < n; k++) acc += fabs(x[k] * y[k]);
    return acc;
}

/* out[i L + a] = (G[i-block, j-block] v)[a] for every source i of the all system */
static void gram_col(const amt_bss *b, int j, const double *v, double *out)
{
    int K = b->nsrc;
    long L = b->flen, W = 2 * L - 1;
    for (int i = 0; i < K; i++) {
        const double *r = b->all.rs + ((size_t)i * K + j) * W + (L - 1);
        for (long a = 0; a < L; a++) out[(long)i * L + a] = dot(r - a, v, L);
    }
}

/* b->pa = spectrum of P_all = sum_i FFT(C_i) S_i, C in b->c */
static void spectral_pall(amt_bss *b)
{
    int nsrc = b->nsrc;
    long nf = b->nf, L = b->flen;
    #pragma omp parallel for schedule(static) num_threads(thread_count(b, nsrc))
    for (int i = 0; i < nsrc; i++) {
        fftw_complex *cs = b->cspec + (size_t)i * b->cstride;
        fft_real(b, b->c + (size_t)i * L, L, b->rbuf + (size_t)omp_get_thread_num() * b->rstride, cs);
        const fftw_complex *S = b->sf + (size_t)i * b->cstride;
        for (long f = 0; f < nf; f++) {
            double cr = cs[f][0], ci = cs[f][1];
            cs[f][0] = cr * S[f][0] - ci * S[f][1];
            cs[f][1] = cr * S[f][1] + ci * S[f][0];
        }
    }
    memcpy(b->pa, b->cspec, (size_t)nf * sizeof(fftw_complex));
    for (int i = 1; i < nsrc; i++) {
        const fftw_complex *cs = b->cspec + (size_t)i * b->cstride;
        for (long f = 0; f < nf; f++) { b->pa[f][0] += cs[f][0]; b->pa[f][1] += cs[f][1]; }
    }
}

/* en = {|P_own|^2, |e - P_own|^2, |P_all - P_own|^2, |P_all|^2, |e - P_all|^2} from the
 * spectra (Parseval), own coefficients in b->cown, P_all spectrum in b->pa. */
static void spectral_energies(amt_bss *b, int j, double *en)
{
    long nf = b->nf;
    fft_real(b, b->cown, b->flen, b->rbuf, b->po);
    const fftw_complex *S = b->sf + (size_t)j * b->cstride;
    double e_filt = 0, e_dist = 0, e_int = 0, e_sig = 0, e_art = 0;
    for (long f = 0; f < nf; f++) {
        double cr = b->po[f][0], ci = b->po[f][1];
        double por = cr * S[f][0] - ci * S[f][1], poi = cr * S[f][1] + ci * S[f][0];
        double par = b->pa[f][0], pai = b->pa[f][1], er = b->se[f][0], ei = b->se[f][1];
        double w = bin_weight(b, f);
        e_filt += w * (por * por + poi * poi);
        e_dist += w * ((er - por) * (er - por) + (ei - poi) * (ei - poi));
        e_int += w * ((par - por) * (par - por) + (pai - poi) * (pai - poi));
        e_sig += w * (par * par + pai * pai);
        e_art += w * ((er - par) * (er - par) + (ei - pai) * (ei - pai));
    }
    en[0] = e_filt; en[1] = e_dist; en[2] = e_int; en[3] = e_sig; en[4] = e_art;
}

/* Scores est against references j in [j0, j1): results at sdr[j] etc. */
static int score_range(amt_bss *b, const float *est, int j0, int j1, double *sdr, double *sir, double *sar)
{
    if (!est) return amt_error(AMT_EINVAL, "bss_eval: estimate is NULL");
    int st = signal_state(est, b->nsampl);
    if (st == 1)
        return amt_error(AMT_EINVAL, "bss_eval: estimated source is silent (all zeros); "
                         "BSS Eval is undefined for silent estimates");
    if (st == 2) return amt_error(AMT_EINVAL, "bss_eval: estimated source contains NaN or Inf");
    int nsrc = b->nsrc, n = b->n;
    long L = b->flen, nfft = b->nfft;
    fft_float(b, est, b->nsampl, b->rbuf, b->se);
    /* D blocks: D[iL+a] = r_{s_i, e}[-a] */
    #pragma omp parallel for schedule(static) num_threads(thread_count(b, nsrc))
    for (int i = 0; i < nsrc; i++) {
        double *rb = b->rbuf + (size_t)omp_get_thread_num() * b->rstride;
        xcorr(b, b->sf + (size_t)i * b->cstride, b->se, b->cspec + (size_t)i * b->cstride, rb);
        double s = 1.0 / (double)nfft;
        b->d[i * L] = rb[0] * s;
        for (long a = 1; a < L; a++) b->d[i * L + a] = rb[nfft - a] * s;
    }
    double E = energy(est, b->nsampl);
    /* projection on all references: C = G^-1 D, g = G C */
    memcpy(b->c, b->d, (size_t)n * sizeof(double));
    int rc = sys_solve(b, &b->all, b->c);
    if (rc) return rc;
    sys_matvec(b, &b->all, b->c, b->g);
    double rmax = 0, c1 = 0;
    for (int i = 0; i < nsrc; i++) rmax = fmax(rmax, b->all.rs[((size_t)i * nsrc + i) * (2 * L - 1) + L - 1]);
    for (int k = 0; k < n; k++) c1 += fabs(b->c[k]);
    double cg = dot(b->c, b->g, n), cd = dot(b->c, b->d, n);
    double a_sig = absdot(b->c, b->g, n) + c1 * c1 * rmax;
    double a_art = E + 2 * absdot(b->c, b->d, n) + a_sig;
    double all_art = E - 2 * cd + cg;
    int all_ok = all_art > ALG_REL_MIN * a_art && cg > ALG_REL_MIN * a_sig;
    int have_pa = 0;
    for (int j = j0; j < j1; j++) {
        memcpy(b->cown, b->d + (size_t)j * L, (size_t)L * sizeof(double));
        rc = sys_solve(b, &b->own[j], b->cown);
        if (rc) return rc;
        gram_col(b, j, b->cown, b->u);
        const double *h = b->u + (size_t)j * L, *dj = b->d + (size_t)j * L;
        double o1 = 0;
        for (long k = 0; k < L; k++) o1 += fabs(b->cown[k]);
        double a_filt = absdot(b->cown, h, L) + o1 * o1 * rmax;
        double a_dist = E + 2 * absdot(b->cown, dj, L) + a_filt;
        double a_int = a_sig + 2 * (absdot(b->c, b->u, n) + c1 * o1 * rmax) + a_filt;
        double en[5];
        en[0] = dot(b->cown, h, L);
        en[1] = E - 2 * dot(b->cown, dj, L) + en[0];
        en[2] = cg - 2 * dot(b->c, b->u, n) + en[0];
        en[3] = cg;
        en[4] = all_art;
        if (!(all_ok && en[0] > ALG_REL_MIN * a_filt && en[1] > ALG_REL_MIN * a_dist &&
              en[2] > ALG_REL_MIN * a_int)) {
            if (!have_pa) { spectral_pall(b); have_pa = 1; }
            spectral_energies(b, j, en);
        }
        /* s_filt = P_own, e_interf = P_all - P_own, e_artif = e - P_all */
        sdr[j] = safe_db(en[0], en[1]);
        sir[j] = safe_db(en[0], en[2]);
        sar[j] = safe_db(en[3], en[4]);
    }
    return AMT_OK;
}

int amt_bss_score(amt_bss *b, const float *est, double *sdr, double *sir, double *sar)
{
    return score_range(b, est, 0, b->nsrc, sdr, sir, sar);
}

int amt_bss_score_one(amt_bss *b, const float *est, int j, double *sdr, double *sir, double *sar)
{
    if (j < 0 || j >= b->nsrc) return amt_error(AMT_EINVAL, "bss_eval: reference index %d out of 0..%d", j, b->nsrc - 1);
    double a[AMT_BSS_MAX_SOURCES], c[AMT_BSS_MAX_SOURCES], d[AMT_BSS_MAX_SOURCES];
    int rc = score_range(b, est, j, j + 1, a, c, d);
    if (rc) return rc;
    *sdr = a[j]; *sir = c[j]; *sar = d[j];
    return AMT_OK;
}

/* Next permutation in lexicographic order (as itertools.permutations); 0 after the last. */
static int next_perm(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return 0;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i]; p[i] = p[j]; p[j] = t;
    for (int a = i + 1, z = n - 1; a < z; a++, z--) { t = p[a]; p[a] = p[z]; p[z] = t; }
    return 1;
}

int amt_bss_eval_sources(const float *const *refs, const float *const *ests, int nsrc, long nsampl,
                         int compute_permutation, double *sdr, double *sir, double *sar, int *perm)
{
    if (nsampl < 1) return amt_error(AMT_EINVAL, "bss_eval: signals have %ld samples (need >= 1)", nsampl);
    if (nsrc < 1 || nsrc > AMT_BSS_MAX_SOURCES)
        return amt_error(AMT_EINVAL, "bss_eval: %d sources (need 1..%d)", nsrc, AMT_BSS_MAX_SOURCES);
    if (compute_permutation && nsrc > AMT_BSS_MAX_PERM_SOURCES)
        return amt_error(AMT_EINVAL, "bss_eval: permutation search over %d sources is too costly (max %d)",
                         nsrc, AMT_BSS_MAX_PERM_SOURCES);
    for (int j = 0; j < nsrc; j++) {
        if (!ests || !ests[j]) return amt_error(AMT_EINVAL, "bss_eval: estimated source %d is NULL", j);
        int st = signal_state(ests[j], nsampl);
        if (st == 1)
            return amt_error(AMT_EINVAL, "bss_eval: estimated source %d is silent (all zeros); "
                             "BSS Eval is undefined for silent estimates", j);
        if (st == 2) return amt_error(AMT_EINVAL, "bss_eval: estimated source %d contains NaN or Inf", j);
    }
    amt_bss *b = NULL;
    int rc = amt_bss_new(refs, nsrc, nsampl, AMT_BSS_FLEN, &b);
    if (rc) return rc;
    if (!compute_permutation) {
        for (int j = 0; j < nsrc && !rc; j++) rc = score_range(b, ests[j], j, j + 1, sdr, sir, sar);
        for (int j = 0; perm && j < nsrc; j++) perm[j] = j;
        amt_bss_free(b);
        return rc;
    }
    /* all (estimate, reference) pairs: m[jest * nsrc + jtrue] */
    size_t nn = (size_t)nsrc * nsrc;
    double *m = malloc(3 * nn * sizeof(double));
    if (!m) { amt_bss_free(b); return amt_error(AMT_ENOMEM, "bss_eval: out of memory"); }
    double *msdr = m, *msir = m + nn, *msar = m + 2 * nn;
    for (int je = 0; je < nsrc && !rc; je++)
        rc = score_range(b, ests[je], 0, nsrc, msdr + (size_t)je * nsrc, msir + (size_t)je * nsrc,
                         msar + (size_t)je * nsrc);
    amt_bss_free(b);
    if (rc) { free(m); return rc; }
    int p[AMT_BSS_MAX_PERM_SOURCES], best[AMT_BSS_MAX_PERM_SOURCES];
    for (int j = 0; j < nsrc; j++) p[j] = best[j] = j;
    double best_sir = -INFINITY;
    int first = 1;
    do {
        double s = 0;
        for (int j = 0; j < nsrc; j++) s += msir[(size_t)p[j] * nsrc + j];
        s /= nsrc;
        if (first || s > best_sir) { best_sir = s; memcpy(best, p, sizeof(int) * (size_t)nsrc); first = 0; }
    } while (next_perm(p, nsrc));
    for (int j = 0; j < nsrc; j++) {
        size_t k = (size_t)best[j] * nsrc + j;
        sdr[j] = msdr[k]; sir[j] = msir[k]; sar[j] = msar[k];
        if (perm) perm[j] = best[j];
    }
    free(m);
    return AMT_OK;
}
