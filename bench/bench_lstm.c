/* bench/bench_lstm.c: the fused LSTM op at the separator's shape (batch 16 x 100 steps,
 * input 513, hidden 256, 2 layers) against the raw sgemm ceiling. One JSON object on stdout.
 *
 *   bench_lstm [--threads N] [--reps R] [--B b --T t --I i --H h --layers l]
 *
 * FLOPs: forward = sum over layers of 2 * B*T * 4H * (I_l + H) (the matrix products);
 * training (forward + backward) is counted as 3 x forward, the usual convention, although
 * layer 0's input gradient is not computed (x is data, as in the separator), so the real
 * work is a little less ("train_gflops_executed" leaves that product out). "infer" is the inference graph (with_grad 0) forward.
 * Ceilings, from the same run, interleaved with the op runs: "sgemm_gflops", the raw sgemm
 * at the input projection's shape (B*T) x 4H x NI; "gemm_only_*", exactly the sgemm calls the
 * op makes (per-step recurrent products included) with no gate work between them: the
 * best the op could do with this BLAS with every step's sgemm threaded by OpenBLAS.
 * "no_split_*": the op with amt_lstm_split_batch = 0 (the recurrence on one thread, each
 * step's sgemm threaded by OpenBLAS), interleaved with the default runs. Each figure is the best of R repetitions (host
 * noise), medians are given too. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/amt.h"
#include "layers/lstm.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* L = sum(y * r): a loss whose gradient seeds the LSTM's output with r */
typedef struct dot_attr { const float *r; } dot_attr;
static void dot_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const dot_attr *a = n->attr;
    double s = 0;
    for (size_t i = 0; i < n->in[0]->size; i++) s += (double)n->in[0]->data[i] * a->r[i];
    n->out->data[0] = (float)s;
}
static void dot_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    const dot_attr *a = n->attr;
    float go = n->out->grad[0];
    for (size_t i = 0; i < n->in[0]->size; i++) n->in[0]->grad[i] += go * a->r[i];
}
static const amt_op dot_op = {"dot", dot_fwd, dot_bwd};

typedef struct shape { int B, T, NI, H, L; } shape;

/* The sgemm calls of the op (forward, and backward when train), on scratch buffers. */
typedef struct gemm_bufs { float *x, *wih, *whh, *z, *h, *dz, *dw, *dx; } gemm_bufs;
static void gemm_only(const shape *s, gemm_bufs *b, int train)
{
    const int B = s->B, T = s->T, H = s->H, G = 4 * H, R = B * T;
    for (int l = 0; l < s->L; l++) {
        int NI = l == 0 ? s->NI : H;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, G, NI, 1.0f, b->x, NI, b->wih, NI, 0.0f, b->z, G);
        for (int t = 1; t < T; t++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f, b->h + (size_t)(t - 1) * H, T * H,
                        b->whh, H, 1.0f, b->z + (size_t)t * G, T * G);
    }
    if (!train) return;
    for (int l = s->L - 1; l >= 0; l--) {
        int NI = l == 0 ? s->NI : H;
        for (int t = T - 2; t >= 0; t--)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, b->dz + (size_t)(t + 1) * G, T * G,
                        b->whh, H, 0.0f, b->h, H);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, NI, R, 1.0f, b->dz, G, b->x, NI, 1.0f, b->dw, NI);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, R, 1.0f, b->dz, G, b->h, H, 1.0f, b->dw, H);
        if (l > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, NI, G, 1.0f, b->dz, G, b->wih, NI, 0.0f, b->dx, NI);
    }
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 5;
    shape s = {16, 100, 513, 256, 2};
    for (int i = 1; i < argc; i++) {
        int *dst = NULL;
        if (!strcmp(argv[i], "--threads")) dst = &threads;
        else if (!strcmp(argv[i], "--reps")) dst = &reps;
        else if (!strcmp(argv[i], "--B")) dst = &s.B;
        else if (!strcmp(argv[i], "--T")) dst = &s.T;
        else if (!strcmp(argv[i], "--I")) dst = &s.NI;
        else if (!strcmp(argv[i], "--H")) dst = &s.H;
        else if (!strcmp(argv[i], "--layers")) dst = &s.L;
        if (!dst || i + 1 >= argc || (*dst = atoi(argv[++i])) <= 0) {
            fprintf(stderr, "usage: bench_lstm [--threads N] [--reps R] [--B b --T t --I i --H h --layers l]\n");
            return 2;
        }
    }
    if (reps > 64) reps = 64;
    amt_set_threads(threads);
    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer lstm;
    amt_rng rng;
    amt_rng_seed(&rng, 1);
    if (amt_lstm_layer_init(&lstm, &ps, "lstm", s.NI, s.H, s.L, 0, &rng) != AMT_OK) {
        fprintf(stderr, "bench_lstm: %s\n", amt_errmsg());
        return 1;
    }
    int xs[3] = {s.B, s.T, s.NI}, one = 1;
    amt_graph *gt = amt_graph_new(1, 1), *gi = amt_graph_new(0, 1);
    amt_tensor *xt = amt_graph_input(gt, "x", 3, xs, 0), *xi = amt_graph_input(gi, "x", 3, xs, 0);
    amt_tensor *yt = amt_lstm_layer_forward(gt, &lstm, xt), *yi = amt_lstm_layer_forward(gi, &lstm, xi);
    dot_attr *da = amt_graph_alloc(gt, sizeof *da);
    float *r = yt ? amt_graph_floats(gt, yt->size) : NULL;
    amt_tensor *loss = amt_graph_output(gt, 1, &one, 1, &yt);
    if (!yi || !r || !loss || !amt_graph_node(gt, &dot_op, loss, 1, &yt, da)) {
        fprintf(stderr, "bench_lstm: %s\n", amt_errmsg());
        return 1;
    }
    da->r = r;
    for (size_t i = 0; i < yt->size; i++) r[i] = (float)amt_rng_uniform(&rng) * 2e-3f - 1e-3f;
    for (size_t i = 0; i < xt->size; i++) xt->data[i] = xi->data[i] = (float)amt_rng_uniform(&rng);

    const int G = 4 * s.H;
    const size_t R = (size_t)s.B * s.T, maxI = (size_t)(s.NI > s.H ? s.NI : s.H);
    gemm_bufs gb = {
        calloc(R * maxI, 4), calloc((size_t)G * maxI, 4), calloc((size_t)G * s.H, 4), calloc(R * G, 4),
        calloc(R * s.H, 4), calloc(R * G, 4), calloc((size_t)G * maxI, 4), calloc(R * maxI, 4)};
    float *sa = calloc(R * s.NI, 4), *sb = calloc((size_t)G * s.NI, 4), *sc = calloc(R * G, 4);
    if (!gb.x || !gb.wih || !gb.whh || !gb.z || !gb.h || !gb.dz || !gb.dw || !gb.dx || !sa || !sb || !sc) {
        fprintf(stderr, "bench_lstm: out of memory\n");
        return 1;
    }

    double fwd_flop = 0;
    for (int l = 0; l < s.L; l++) fwd_flop += 2.0 * R * G * ((l == 0 ? s.NI : s.H) + s.H);
    double t_train[64], t_infer[64], t_gtrain[64], t_ginfer[64], t_sgemm[64], t_train0[64], t_infer0[64];
    /* warm-up (first touch of every buffer) */
    amt_graph_forward(gt); amt_graph_backward(gt, loss); amt_graph_forward(gi);
    gemm_only(&s, &gb, 1);
    for (int k = 0; k < reps; k++) {
        double t0 = now();
        amt_params_zero_grad(&ps);
        amt_graph_forward(gt);
        amt_graph_backward(gt, loss);
        t_train[k] = now() - t0;
        t0 = now();
        amt_graph_forward(gi);
        t_infer[k] = now() - t0;
        amt_lstm_split_batch = 0;   /* the other recurrence strategy, interleaved */
        t0 = now();
        amt_params_zero_grad(&ps);
        amt_graph_forward(gt);
        amt_graph_backward(gt, loss);
        t_train0[k] = now() - t0;
        t0 = now();
        amt_graph_forward(gi);
        t_infer0[k] = now() - t0;
        amt_lstm_split_batch = 1;
        t0 = now();
        gemm_only(&s, &gb, 1);
        t_gtrain[k] = now() - t0;
        t0 = now();
        gemm_only(&s, &gb, 0);
        t_ginfer[k] = now() - t0;
        t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, G, s.NI, 1.0f, sa, s.NI, sb, s.NI, 0.0f, sc, G);
        t_sgemm[k] = now() - t0;
    }
    qsort(t_train, reps, sizeof(double), cmp_double);
    qsort(t_infer, reps, sizeof(double), cmp_double);
    qsort(t_gtrain, reps, sizeof(double), cmp_double);
    qsort(t_ginfer, reps, sizeof(double), cmp_double);
    qsort(t_sgemm, reps, sizeof(double), cmp_double);
    qsort(t_train0, reps, sizeof(double), cmp_double);
    qsort(t_infer0, reps, sizeof(double), cmp_double);
    double sg_flop = 2.0 * R * G * s.NI;
    double train_gf = 3 * fwd_flop / t_train[0] * 1e-9, infer_gf = fwd_flop / t_infer[0] * 1e-9;
    double sgemm_gf = sg_flop / t_sgemm[0] * 1e-9;
    double gtrain_gf = 3 * fwd_flop / t_gtrain[0] * 1e-9, ginfer_gf = fwd_flop / t_ginfer[0] * 1e-9;
    printf("{\"threads\": %d, \"B\": %d, \"T\": %d, \"I\": %d, \"H\": %d, \"layers\": %d, \"reps\": %d,\n",
           threads, s.B, s.T, s.NI, s.H, s.L, reps);
    printf(" \"train_ms\": %.2f, \"train_ms_median\": %.2f, \"train_gflops\": %.1f,\n", t_train[0] * 1e3,
           t_train[reps / 2] * 1e3, train_gf);
    printf(" \"train_gflops_executed\": %.1f,\n", (3 * fwd_flop - 2.0 * R * G * s.NI) / t_train[0] * 1e-9);
    printf(" \"infer_ms\": %.2f, \"infer_ms_median\": %.2f, \"infer_gflops\": %.1f,\n", t_infer[0] * 1e3,
           t_infer[reps / 2] * 1e3, infer_gf);
    printf(" \"sgemm_gflops\": %.1f, \"gemm_only_train_gflops\": %.1f, \"gemm_only_infer_gflops\": %.1f,\n",
           sgemm_gf, gtrain_gf, ginfer_gf);
    printf(" \"train_vs_sgemm\": %.3f, \"infer_vs_sgemm\": %.3f, \"train_vs_gemm_only\": %.3f, \"infer_vs_gemm_only\": %.3f,\n",
           train_gf / sgemm_gf, infer_gf / sgemm_gf, train_gf / gtrain_gf, infer_gf / ginfer_gf);
    printf(" \"no_split_train_gflops\": %.1f, \"no_split_infer_gflops\": %.1f,\n", 3 * fwd_flop / t_train0[0] * 1e-9,
           fwd_flop / t_infer0[0] * 1e-9);
    printf(" \"train_sequences_per_s\": %.1f, \"arena_train_bytes\": %zu, \"arena_infer_bytes\": %zu}\n",
           s.B / t_train[0], gt->arena.used, gi->arena.used);
    free(gb.x); free(gb.wih); free(gb.whh); free(gb.z); free(gb.h); free(gb.dz); free(gb.dw); free(gb.dx);
    free(sa); free(sb); free(sc);
    amt_graph_free(gt);
    amt_graph_free(gi);
    amt_params_free(&ps);
    return 0;
}
