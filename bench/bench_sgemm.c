/* bench/bench_sgemm.c: raw OpenBLAS cblas_sgemm GFLOP/s at the shapes our models run: the
 * ceiling every op is measured against. Prints one JSON object on stdout.
 *
 *   bench_sgemm [--threads N] [--seconds S]
 *
 * Shapes are M x N x K (C = op(A) op(B), row-major, as the op issues it): the separator's
 * LSTM (batch 16 x 100 frames, 513 -> 2 x 256: input projection, recurrent step, weight
 * gradients, input gradient), its two heads 256 -> 513, and conv GEMMs of the classifier
 * (one per example: O x H*W x 9C) and transcriber. Each figure is the best of 5 timed
 * batches of ~S/5 seconds each (the host is noisy; best-of is the ceiling), after a
 * warm-up; "median" is the median batch. FLOPs = 2 M N K. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/amt.h"

typedef struct shape { const char *name; int ta, tb, M, N, K; } shape;

static const shape SHAPES[] = {
    {"lstm_input_proj", 0, 1, 1600, 1024, 513},     /* (B*T) x 4H x I */
    {"lstm_recurrent", 0, 1, 16, 1024, 256},        /* B x 4H x H, per step */
    {"lstm_recurrent_wt", 0, 0, 16, 1024, 256},     /* same with W_hh stored transposed */
    {"lstm_recurrent_half", 0, 1, 8, 1024, 256},    /* per thread when 2 threads split the batch */
    {"lstm_recurrent_bwd", 0, 0, 16, 256, 1024},    /* dZ_t W_hh, per step */
    {"lstm_dw_ih", 1, 0, 1024, 513, 1600},          /* dZ^T X */
    {"lstm_dw_hh", 1, 0, 1024, 256, 1600},          /* dZ^T Hprev */
    {"lstm_dx", 0, 0, 1600, 256, 1024},             /* dZ W_ih (layer 2 input) */
    {"lstm_input_proj_l2", 0, 1, 1600, 1024, 256},
    {"sep_head", 0, 1, 1600, 513, 256},             /* (B*T) x 513 x H */
    {"cls_conv1b", 0, 0, 32, 5504, 288},            /* 32 x (128*43) x 32*9 per example */
    {"cls_conv2b", 0, 0, 64, 588, 576},
    {"cls_conv3b", 0, 0, 128, 56, 1152},
    {"cls_conv4b", 0, 0, 256, 4, 2304},
    {"trn_conv2", 0, 0, 32, 1125, 288},
    {"trn_conv3", 0, 0, 64, 550, 288},
    {"trn_fc1", 0, 1, 256, 512, 17600},
};
#define N_SHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])
#define BATCHES 5

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

int main(int argc, char **argv)
{
    int threads = 1;
    double seconds = 0.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_sgemm [--threads N] [--seconds S]\n");
            return 2;
        }
    }
    amt_set_threads(threads);
    amt_rng rng;
    amt_rng_seed(&rng, 1);
    printf("{\"threads\": %d, \"shapes\": [", threads);
    for (int s = 0; s < N_SHAPES; s++) {
        const shape *sh = &SHAPES[s];
        size_t na = (size_t)sh->M * sh->K, nb = (size_t)sh->K * sh->N, nc = (size_t)sh->M * sh->N;
        float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float)), *c = calloc(nc, sizeof(float));
        if (!a || !b || !c) { fprintf(stderr, "bench_sgemm: out of memory\n"); return 1; }
        for (size_t i = 0; i < na; i++) a[i] = (float)amt_rng_uniform(&rng) - 0.5f;
        for (size_t i = 0; i < nb; i++) b[i] = (float)amt_rng_uniform(&rng) - 0.5f;
        int lda = sh->ta ? sh->M : sh->K, ldb = sh->tb ? sh->K : sh->N;
        double flop = 2.0 * sh->M * sh->N * sh->K;
#define GEMM() cblas_sgemm(CblasRowMajor, sh->ta ? CblasTrans : CblasNoTrans, sh->tb ? CblasTrans : CblasNoTrans, \
                           sh->M, sh->N, sh->K, 1.0f, a, lda, b, ldb, 0.0f, c, sh->N)
        /* warm-up and calibration: reps per batch so a batch lasts ~seconds / BATCHES */
        double t0 = now();
        int warm = 0;
        do { GEMM(); warm++; } while (now() - t0 < 0.05);
        double per = (now() - t0) / warm;
        int reps = (int)(seconds / BATCHES / per) + 1;
        double gf[BATCHES];
        for (int k = 0; k < BATCHES; k++) {
            t0 = now();
            for (int r = 0; r < reps; r++) GEMM();
            gf[k] = flop * reps / (now() - t0) * 1e-9;
        }
#undef GEMM
        qsort(gf, BATCHES, sizeof gf[0], cmp_double);
        printf("%s\n  {\"name\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"trans_a\": %d, \"trans_b\": %d, "
               "\"gflops\": %.1f, \"median\": %.1f}",
               s ? "," : "", sh->name, sh->M, sh->N, sh->K, sh->ta, sh->tb, gf[BATCHES - 1], gf[BATCHES / 2]);
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    printf("\n]}\n");
    return 0;
}
