/* bench/bench_conv.c: conv2d forward+backward GFLOP/s for every conv layer of the
 * classifier (batch 32, 1 x 128 x 43, 3x3 'same') and the transcriber (batch 256,
 * 1 x 5 x 229, 3x3 with padding (1, 0)), against the raw cblas_sgemm GFLOP/s of the same
 * GEMMs (the per-example products conv2d issues, run the same way across threads: the
 * ceiling) and of one batched GEMM over all examples (O x N*P x K, only when its col
 * matrix is small); "ratio" is conv2d against the better of the two. Prints one JSON
 * object on stdout.
 *
 *   bench_conv [--threads N] [--reps R] [--strategy auto|batch|blas] [--algo auto|im2col|winograd]
 *
 * --algo picks conv2d's algorithm (amt_conv2d_set_algorithm: auto = by shape; winograd
 * applies to the 3x3 stride-1 layers, i.e. all of these). A Winograd layer does 2.25x fewer
 * multiply-adds than the im2col GEMMs the sgemm columns time, so its "ratio" can exceed 1.
 * "fwd_ms" is the forward alone (best of R), within the same repetitions.
 *
 * FLOPs: 2*MACs for the forward, the weight gradient and the input gradient each. The
 * first layer of each model needs no input gradient (its input is data), so it does and
 * counts only forward + weight gradient ("dx": false). Each figure is the best of R timed
 * repetitions after one warm-up; conv and sgemm runs alternate so host noise hits both. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/amt.h"

typedef struct layer_spec {
    const char *model, *name;
    int N, C, H, W, O, ph, pw, dx;
} layer_spec;

static const layer_spec LAYERS[] = {
    {"classifier", "conv1a", 32, 1, 128, 43, 32, 1, 1, 0},
    {"classifier", "conv1b", 32, 32, 128, 43, 32, 1, 1, 1},
    {"classifier", "conv2a", 32, 32, 42, 14, 64, 1, 1, 1},
    {"classifier", "conv2b", 32, 64, 42, 14, 64, 1, 1, 1},
    {"classifier", "conv3a", 32, 64, 14, 4, 128, 1, 1, 1},
    {"classifier", "conv3b", 32, 128, 14, 4, 128, 1, 1, 1},
    {"classifier", "conv4a", 32, 128, 4, 1, 256, 1, 1, 1},
    {"classifier", "conv4b", 32, 256, 4, 1, 256, 1, 1, 1},
    {"transcriber", "conv1", 256, 1, 5, 229, 32, 1, 0, 0},
    {"transcriber", "conv2", 256, 32, 5, 227, 32, 1, 0, 1},
    {"transcriber", "conv3", 256, 32, 5, 112, 64, 1, 0, 1},
};
#define N_LAYERS (int)(sizeof LAYERS / sizeof LAYERS[0])

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(float *p, size_t n, amt_rng *r)
{
    for (size_t i = 0; i < n; i++) p[i] = (float)(amt_rng_uniform(r) * 2 - 1);
}

/* The GEMMs conv2d runs for one layer, per example, parallel over the batch like it. */
typedef struct gemm_bufs { float *w, *col, *y, *dw, *dcol, *bcol, *by; int nt; } gemm_bufs;

#define BATCHED_MAX_FLOATS (16u << 20)   /* skip the batched layout when its col is larger */

/* The same GEMMs as one product over the whole batch (cols side by side: O x N*P x K),
 * threaded by OpenBLAS. */
static void run_batched(const layer_spec *L, int K, int P, gemm_bufs *b)
{
    const int O = L->O, NP = L->N * P;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, NP, K, 1.0f, b->w, K, b->bcol, NP, 0.0f, b->by, NP);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, K, NP, 1.0f, b->by, NP, b->bcol, NP, 1.0f, b->dw, K);
    if (L->dx)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, NP, O, 1.0f, b->w, K, b->by, NP, 0.0f, b->bcol, NP);
}

static void run_gemms(const layer_spec *L, int K, int P, gemm_bufs *b, int batch_parallel)
{
    const int O = L->O;
    int nt = batch_parallel ? b->nt : 1;
    #pragma omp parallel for num_threads(nt) schedule(static)
    for (int n = 0; n < L->N; n++) {
        int t = omp_get_thread_num();
        float *col = b->col + (size_t)t * K * P, *dcol = b->dcol + (size_t)t * K * P;
        float *y = b->y + (size_t)n * O * P, *dw = b->dw + (size_t)t * O * K;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, P, K, 1.0f, b->w, K, col, P, 0.0f, y, P);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, K, P, 1.0f, y, P, col, P, 1.0f, dw, K);
        if (L->dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, O, 1.0f, b->w, K, y, P, 0.0f, dcol, P);
    }
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 2, strategy = AMT_CONV2D_AUTO, algo = AMT_CONV2D_ALGO_AUTO;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--strategy") && i + 1 < argc) {
            const char *s = argv[++i];
            strategy = !strcmp(s, "batch") ? AMT_CONV2D_BATCH_PARALLEL : !strcmp(s, "blas") ? AMT_CONV2D_BLAS_THREADS : AMT_CONV2D_AUTO;
        } else if (!strcmp(argv[i], "--algo") && i + 1 < argc) {
            const char *s = argv[++i];
            algo = !strcmp(s, "im2col") ? AMT_CONV2D_ALGO_IM2COL : !strcmp(s, "winograd") ? AMT_CONV2D_ALGO_WINOGRAD : AMT_CONV2D_ALGO_AUTO;
        } else {
            fprintf(stderr, "usage: bench_conv [--threads N] [--reps R] [--strategy auto|batch|blas] [--algo auto|im2col|winograd]\n");
            return 2;
        }
    }
    if (threads < 1) threads = 1;
    if (reps < 1) reps = 1;
    amt_set_threads(threads);
    amt_conv2d_set_strategy(strategy);
    amt_conv2d_set_algorithm(algo);
    int batch_parallel = strategy != AMT_CONV2D_BLAS_THREADS;
    amt_rng rng;
    amt_rng_seed(&rng, 1);

    /* a large square sgemm for reference */
    const int S = 1024;
    float *A = malloc((size_t)S * S * sizeof(float)), *B = malloc((size_t)S * S * sizeof(float)), *Cm = malloc((size_t)S * S * sizeof(float));
    fill(A, (size_t)S * S, &rng); fill(B, (size_t)S * S, &rng);
    double best_sq = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, S, S, 1.0f, A, S, B, S, 0.0f, Cm, S);
        double dt = now() - t0;
        if (r > 0 && dt < best_sq) best_sq = dt;
    }
    free(A); free(B); free(Cm);

    printf("{\"threads\": %d, \"reps\": %d, \"strategy\": \"%s\", \"algo\": \"%s\", \"sgemm_1024_gflops\": %.1f, \"layers\": [",
           threads, reps, strategy == AMT_CONV2D_BATCH_PARALLEL ? "batch" : strategy == AMT_CONV2D_BLAS_THREADS ? "blas" : "auto",
           algo == AMT_CONV2D_ALGO_IM2COL ? "im2col" : algo == AMT_CONV2D_ALGO_WINOGRAD ? "winograd" : "auto",
           2.0 * S * S * S / best_sq * 1e-9);
    double tot_flops[2] = {0, 0}, tot_conv[2] = {0, 0}, tot_gemm[2] = {0, 0};
    for (int li = 0; li < N_LAYERS; li++) {
        const layer_spec *L = &LAYERS[li];
        amt_graph *g = amt_graph_new(1, 0);
        int xs[4] = {L->N, L->C, L->H, L->W}, ws[4] = {L->O, L->C, 3, 3};
        amt_tensor *x = amt_graph_input(g, "x", 4, xs, L->dx);
        amt_tensor *w = amt_graph_input(g, "w", 4, ws, 1);
        amt_tensor *b = amt_graph_input(g, "b", 1, &L->O, 1);
        amt_tensor *y = amt_conv2d(g, x, w, b, 1, 1, L->ph, L->pw);
        if (!y) { fprintf(stderr, "bench_conv: %s\n", amt_errmsg()); return 1; }
        fill(x->data, x->size, &rng);
        fill(w->data, w->size, &rng);
        fill(y->grad, y->size, &rng);
        amt_node *node = &g->nodes[g->n_nodes - 1];
        const int K = L->C * 9, P = y->shape[2] * y->shape[3];
        double macs = (double)L->N * L->O * K * P;
        double flops = 2 * macs * (L->dx ? 3 : 2);

        gemm_bufs gb;
        gb.nt = threads;
        gb.w = w->data;
        gb.col = malloc((size_t)threads * K * P * sizeof(float));
        gb.dcol = malloc((size_t)threads * K * P * sizeof(float));
        gb.y = malloc((size_t)L->N * L->O * P * sizeof(float));
        gb.dw = calloc((size_t)threads * L->O * K, sizeof(float));
        fill(gb.col, (size_t)threads * K * P, &rng);
        size_t bsz = (size_t)K * L->N * P;
        int batched = bsz <= BATCHED_MAX_FLOATS;
        gb.bcol = batched ? malloc(bsz * sizeof(float)) : NULL;
        gb.by = batched ? malloc((size_t)L->O * L->N * P * sizeof(float)) : NULL;
        if (batched) fill(gb.bcol, bsz, &rng);

        double best_conv = 1e30, best_gemm = 1e30, best_batched = 1e30, best_fwd = 1e30;
        for (int r = 0; r <= reps; r++) {
            double t0 = now();
            amt_graph_forward(g);
            double tf = now();
            node->op->backward(g, node);
            double t1 = now();
            run_gemms(L, K, P, &gb, batch_parallel);
            double t2 = now();
            if (batched) run_batched(L, K, P, &gb);
            double t3 = now();
            if (r > 0) {
                if (t1 - t0 < best_conv) best_conv = t1 - t0;
                if (tf - t0 < best_fwd) best_fwd = tf - t0;
                if (t2 - t1 < best_gemm) best_gemm = t2 - t1;
                if (batched && t3 - t2 < best_batched) best_batched = t3 - t2;
            }
        }
        double pe_gf = flops / best_gemm * 1e-9, ba_gf = batched ? flops / best_batched * 1e-9 : 0;
        if (batched && best_batched < best_gemm) best_gemm = best_batched;
        double conv_gf = flops / best_conv * 1e-9, gemm_gf = flops / best_gemm * 1e-9;
        int m = strcmp(L->model, "classifier") == 0 ? 0 : 1;
        tot_flops[m] += flops; tot_conv[m] += best_conv; tot_gemm[m] += best_gemm;
        printf("%s\n  {\"model\": \"%s\", \"layer\": \"%s\", \"x\": [%d, %d, %d, %d], \"out_channels\": %d, "
               "\"padding\": [%d, %d], \"dx\": %s, \"gemm_MxNxK\": [%d, %d, %d], \"gflop\": %.3f, \"fwd_ms\": %.2f, \"conv_ms\": %.2f, "
               "\"conv_gflops\": %.1f, \"sgemm_per_example_gflops\": %.1f, \"sgemm_batched_gflops\": %.1f, "
               "\"sgemm_gflops\": %.1f, \"ratio\": %.2f}",
               li ? "," : "", L->model, L->name, L->N, L->C, L->H, L->W, L->O, L->ph, L->pw, L->dx ? "true" : "false",
               L->O, P, K, flops * 1e-9, best_fwd * 1e3, best_conv * 1e3, conv_gf, pe_gf, ba_gf, gemm_gf, conv_gf / gemm_gf);
        fflush(stdout);
        free(gb.col); free(gb.dcol); free(gb.y); free(gb.dw); free(gb.bcol); free(gb.by);
        amt_graph_free(g);
    }
    printf("],\n \"totals\": {");
    for (int m = 0; m < 2; m++) {
        double c = tot_flops[m] / tot_conv[m] * 1e-9, s = tot_flops[m] / tot_gemm[m] * 1e-9;
        printf("%s\"%s\": {\"gflop\": %.2f, \"conv_ms\": %.1f, \"conv_gflops\": %.1f, \"sgemm_gflops\": %.1f, \"ratio\": %.2f}",
               m ? ", " : "", m ? "transcriber" : "classifier", tot_flops[m] * 1e-9, tot_conv[m] * 1e3, c, s, c / s);
    }
    printf("}}\n");
    return 0;
}
