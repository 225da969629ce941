/* bench/bench_models.c: training and inference throughput of the three reference
 * networks of ../shared/reference/torch/models.py, built from our layers, measured the way
 * that reference's bench.py measures PyTorch: a training step = zero_grad + forward + loss
 * + backward + Adam step on a synthetic batch of the real shapes; inference = the
 * inference graph (no gradients) on the same batch. Median and best of --steps individually
 * timed steps after --warmup. GFLOP/s count the analytic forward FLOPs of models.py, x3 for
 * a training step.
 *
 *   bench_models [--models separator,classifier,transcriber] [--threads N] [--steps 20] [--warmup 5]
 *
 * Prints one JSON object: {"threads": N, "results": [{model, batch, train{...}, infer{...}}]}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/amt.h"
#include "core/optim.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/mask.h"
#include "layers/pool.h"

/* Reference shapes (shared/reference/README.md). */
enum { SEP_BATCH = 16, SEP_FRAMES = 100, SEP_BINS = 513, SEP_HIDDEN = 256, SEP_LAYERS = 2 };
enum { CLS_BATCH = 32, CLS_MELS = 128, CLS_FRAMES = 43, CLS_CLASSES = 11 };
enum { TRN_BATCH = 256, TRN_FRAMES = 5, TRN_BINS = 229, TRN_PITCHES = 88 };
#define SEP_GAMMA 0.05f

typedef struct bench_model {
    const char *name;
    int batch;
    double fwd_flops;        /* per example, analytic (models.py) */
    amt_params ps;
    amt_graph *train, *infer;
    amt_tensor *loss;
    amt_tensor *x_train, *x_infer;
    int *labels;             /* classifier */
} bench_model;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill_uniform(amt_tensor *t, amt_rng *r, float lo, float hi)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = lo + (hi - lo) * (float)amt_rng_uniform(r);
}

static void fill_normal(amt_tensor *t, amt_rng *r)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = (float)amt_rng_normal(r);
}

/* ------------------------------------------------------------------ separator */
typedef struct sep_net { amt_lstm_layer lstm; amt_linear_layer h1, h2; amt_mask_layer mask; } sep_net;

static amt_tensor *sep_build(amt_graph *g, sep_net *n, amt_tensor *x, amt_tensor *t1, amt_tensor *t2)
{
    amt_tensor *h = amt_lstm_layer_forward(g, &n->lstm, x);
    amt_tensor *y1 = amt_relu(g, amt_linear_layer_forward(g, &n->h1, h));
    amt_tensor *y2 = amt_relu(g, amt_linear_layer_forward(g, &n->h2, h));
    amt_tensor *s2 = NULL;
    amt_tensor *s1 = amt_mask_layer_forward(g, &n->mask, y1, y2, x, &s2);
    return t1 ? amt_mask_layer_loss(g, &n->mask, s1, s2, t1, t2) : s1;
}

static int sep_setup(bench_model *m, amt_rng *rng)
{
    static sep_net n;
    int rc;
    if ((rc = amt_lstm_layer_init(&n.lstm, &m->ps, "lstm", SEP_BINS, SEP_HIDDEN, SEP_LAYERS, 0, rng))) return rc;
    if ((rc = amt_linear_layer_init(&n.h1, &m->ps, "head1", SEP_HIDDEN, SEP_BINS, 1, rng))) return rc;
    if ((rc = amt_linear_layer_init(&n.h2, &m->ps, "head2", SEP_HIDDEN, SEP_BINS, 1, rng))) return rc;
    if ((rc = amt_mask_layer_init(&n.mask, 1e-8f, SEP_GAMMA))) return rc;
    int s[3] = {SEP_BATCH, SEP_FRAMES, SEP_BINS};
    amt_graph *g = m->train = amt_graph_new(1, 1);
    m->x_train = amt_graph_input(g, "x", 3, s, 0);
    amt_tensor *t1 = amt_graph_input(g, "t1", 3, s, 0), *t2 = amt_graph_input(g, "t2", 3, s, 0);
    m->loss = sep_build(g, &n, m->x_train, t1, t2);
    if (!m->loss) return amt_errcode();
    fill_uniform(t1, rng, 0, 1);
    fill_uniform(t2, rng, 0, 1);
    for (size_t i = 0; i < t1->size; i++) m->x_train->data[i] = t1->data[i] + t2->data[i];
    amt_graph *gi = m->infer = amt_graph_new(0, 1);
    m->x_infer = amt_graph_input(gi, "x", 3, s, 0);
    if (!sep_build(gi, &n, m->x_infer, NULL, NULL)) return amt_errcode();
    memcpy(m->x_infer->data, m->x_train->data, m->x_train->size * sizeof(float));
    return AMT_OK;
}

/* ----------------------------------------------------------------- classifier */
typedef struct cls_net {
    amt_conv2d_layer conv[8];
    amt_maxpool2d_layer pool;
    amt_dropout_layer drop25, drop50;
    amt_linear_layer fc1, fc2;
} cls_net;

static amt_tensor *cls_build(amt_graph *g, cls_net *n, amt_tensor *x)
{
    amt_tensor *h = x;
    for (int b = 0; b < 4; b++) {
        h = amt_relu(g, amt_conv2d_layer_forward(g, &n->conv[2 * b], h));
        h = amt_relu(g, amt_conv2d_layer_forward(g, &n->conv[2 * b + 1], h));
        if (b < 3) h = amt_dropout_layer_forward(g, &n->drop25, amt_maxpool2d_layer_forward(g, &n->pool, h));
    }
    h = amt_global_maxpool_layer_forward(g, h);
    h = amt_dropout_layer_forward(g, &n->drop50, amt_relu(g, amt_linear_layer_forward(g, &n->fc1, h)));
    return amt_linear_layer_forward(g, &n->fc2, h);
}

static int cls_setup(bench_model *m, amt_rng *rng)
{
    static cls_net n;
    static const int ch[5] = {1, 32, 64, 128, 256};
    int rc;
    char name[32];
    for (int b = 0; b < 4; b++)
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "conv%d", 2 * b + k + 1);
            rc = amt_conv2d_layer_init(&n.conv[2 * b + k], &m->ps, name, k ? ch[b + 1] : ch[b], ch[b + 1],
                                       3, 3, 1, 1, 1, 1, 1, rng);
            if (rc) return rc;
        }
    amt_maxpool2d_layer_init(&n.pool, 3, 3, 3, 3);
    amt_dropout_layer_init(&n.drop25, 0.25f);
    amt_dropout_layer_init(&n.drop50, 0.5f);
    if ((rc = amt_linear_layer_init(&n.fc1, &m->ps, "fc1", 256, 1024, 1, rng))) return rc;
    if ((rc = amt_linear_layer_init(&n.fc2, &m->ps, "fc2", 1024, CLS_CLASSES, 1, rng))) return rc;
    int s[4] = {CLS_BATCH, 1, CLS_MELS, CLS_FRAMES};
    m->labels = calloc(CLS_BATCH, sizeof(int));
    for (int i = 0; i < CLS_BATCH; i++) m->labels[i] = (int)amt_rng_below(rng, CLS_CLASSES);
    amt_graph *g = m->train = amt_graph_new(1, 1);
    m->x_train = amt_graph_input(g, "x", 4, s, 0);
    m->loss = amt_softmax_cross_entropy(g, cls_build(g, &n, m->x_train), m->labels);
    if (!m->loss) return amt_errcode();
    fill_normal(m->x_train, rng);
    amt_graph *gi = m->infer = amt_graph_new(0, 1);
    m->x_infer = amt_graph_input(gi, "x", 4, s, 0);
    if (!cls_build(gi, &n, m->x_infer)) return amt_errcode();
    memcpy(m->x_infer->data, m->x_train->data, m->x_train->size * sizeof(float));
    return AMT_OK;
}

/* ---------------------------------------------------------------- transcriber */
typedef struct trn_net {
    amt_conv2d_layer c1, c2, c3;
    amt_batchnorm2d_layer bn;
    amt_maxpool2d_layer pool;
    amt_dropout_layer d25, d50;
    amt_linear_layer fc1, fc2;
    int flat;
} trn_net;

static amt_tensor *trn_build(amt_graph *g, trn_net *n, amt_tensor *x)
{
    amt_tensor *h = amt_relu(g, amt_conv2d_layer_forward(g, &n->c1, x));
    h = amt_relu(g, amt_conv2d_layer_forward(g, &n->c2, h));
    h = amt_dropout_layer_forward(g, &n->d25, amt_maxpool2d_layer_forward(g, &n->pool, amt_batchnorm2d_layer_forward(g, &n->bn, h)));
    h = amt_relu(g, amt_conv2d_layer_forward(g, &n->c3, h));
    h = amt_dropout_layer_forward(g, &n->d25, amt_maxpool2d_layer_forward(g, &n->pool, h));
    int fs[2] = {x ? x->shape[0] : 1, n->flat};
    h = amt_reshape(g, h, 2, fs);
    h = amt_dropout_layer_forward(g, &n->d50, amt_relu(g, amt_linear_layer_forward(g, &n->fc1, h)));
    return amt_linear_layer_forward(g, &n->fc2, h);
}

static int trn_setup(bench_model *m, amt_rng *rng)
{
    static trn_net n;
    int rc;
    if ((rc = amt_conv2d_layer_init(&n.c1, &m->ps, "conv1", 1, 32, 3, 3, 1, 1, 1, 0, 1, rng))) return rc;
    if ((rc = amt_conv2d_layer_init(&n.c2, &m->ps, "conv2", 32, 32, 3, 3, 1, 1, 1, 0, 1, rng))) return rc;
    if ((rc = amt_batchnorm2d_layer_init(&n.bn, &m->ps, "bn", 32, 0.1f, 1e-5f))) return rc;
    if ((rc = amt_conv2d_layer_init(&n.c3, &m->ps, "conv3", 32, 64, 3, 3, 1, 1, 1, 0, 1, rng))) return rc;
    amt_maxpool2d_layer_init(&n.pool, 1, 2, 1, 2);
    amt_dropout_layer_init(&n.d25, 0.25f);
    amt_dropout_layer_init(&n.d50, 0.5f);
    int f = ((TRN_BINS - 2 - 2) / 2 - 2) / 2;
    n.flat = 64 * TRN_FRAMES * f;
    if ((rc = amt_linear_layer_init(&n.fc1, &m->ps, "fc1", n.flat, 512, 1, rng))) return rc;
    if ((rc = amt_linear_layer_init(&n.fc2, &m->ps, "fc2", 512, TRN_PITCHES, 1, rng))) return rc;
    int s[4] = {TRN_BATCH, 1, TRN_FRAMES, TRN_BINS}, ys[2] = {TRN_BATCH, TRN_PITCHES};
    amt_graph *g = m->train = amt_graph_new(1, 1);
    m->x_train = amt_graph_input(g, "x", 4, s, 0);
    amt_tensor *y = amt_graph_input(g, "y", 2, ys, 0);
    m->loss = amt_bce_with_logits(g, trn_build(g, &n, m->x_train), y, NULL);
    if (!m->loss) return amt_errcode();
    fill_normal(m->x_train, rng);
    for (size_t i = 0; i < y->size; i++) y->data[i] = amt_rng_uniform(rng) < 0.05 ? 1.0f : 0.0f;
    amt_graph *gi = m->infer = amt_graph_new(0, 1);
    m->x_infer = amt_graph_input(gi, "x", 4, s, 0);
    if (!trn_build(gi, &n, m->x_infer)) return amt_errcode();
    memcpy(m->x_infer->data, m->x_train->data, m->x_train->size * sizeof(float));
    return AMT_OK;
}

/* ------------------------------------------------------------ analytic FLOPs */
static double conv_macs(int cin, int cout, int k, int h, int w) { return (double)cout * cin * k * k * h * w; }

static double sep_flops(void)
{
    double macs = 0;
    int in = SEP_BINS;
    for (int l = 0; l < SEP_LAYERS; l++) { macs += 4.0 * SEP_HIDDEN * (in + SEP_HIDDEN); in = SEP_HIDDEN; }
    macs += 2.0 * SEP_HIDDEN * SEP_BINS;
    return 2 * macs * SEP_FRAMES;
}

static double cls_flops(void)
{
    static const int ch[4] = {32, 64, 128, 256};
    double macs = 0;
    int h = CLS_MELS, w = CLS_FRAMES, cin = 1;
    for (int i = 0; i < 4; i++) {
        macs += conv_macs(cin, ch[i], 3, h, w) + conv_macs(ch[i], ch[i], 3, h, w);
        cin = ch[i];
        if (i < 3) { h = (h - 3) / 3 + 1; w = (w - 3) / 3 + 1; }
    }
    macs += 256.0 * 1024 + 1024.0 * CLS_CLASSES;
    return 2 * macs;
}

static double trn_flops(void)
{
    int t = TRN_FRAMES, f1 = TRN_BINS - 2, f2 = f1 - 2, p1 = f2 / 2, f3 = p1 - 2, p2 = f3 / 2;
    double macs = conv_macs(1, 32, 3, t, f1) + conv_macs(32, 32, 3, t, f2) + conv_macs(32, 64, 3, t, f3) +
                  64.0 * t * p2 * 512 + 512.0 * TRN_PITCHES;
    return 2 * macs;
}

/* -------------------------------------------------------------------- timing */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct timing { double median, best; } timing;

static int run_train(bench_model *m, amt_optim *opt, int warmup, int steps, timing *out, double *loss0, double *loss1)
{
    double *ts = malloc((size_t)steps * sizeof *ts);
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = now_s();
        amt_params_zero_grad(&m->ps);
        int rc = amt_graph_forward(m->train);
        if (!rc) rc = amt_graph_backward(m->train, m->loss);
        if (!rc) rc = amt_optim_step(opt);
        if (rc) { free(ts); return rc; }
        if (i == 0) *loss0 = m->loss->data[0];
        *loss1 = m->loss->data[0];
        if (i >= warmup) ts[i - warmup] = now_s() - t0;
    }
    qsort(ts, (size_t)steps, sizeof *ts, cmp_double);
    out->median = ts[steps / 2];
    out->best = ts[0];
    free(ts);
    if (!isfinite(*loss1)) return amt_error(AMT_EINTERNAL, "%s: non-finite loss", m->name);
    return AMT_OK;
}

static int run_infer(bench_model *m, int warmup, int steps, timing *out)
{
    double *ts = malloc((size_t)steps * sizeof *ts);
    for (int i = 0; i < warmup + steps; i++) {
        double t0 = now_s();
        int rc = amt_graph_forward(m->infer);
        if (rc) { free(ts); return rc; }
        if (i >= warmup) ts[i - warmup] = now_s() - t0;
    }
    qsort(ts, (size_t)steps, sizeof *ts, cmp_double);
    out->median = ts[steps / 2];
    out->best = ts[0];
    free(ts);
    return AMT_OK;
}

int main(int argc, char **argv)
{
    const char *models = "separator,classifier,transcriber";
    int threads = 1, steps = 20, warmup = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else { fprintf(stderr, "bench_models: unknown argument '%s'\n", argv[i]); return 2; }
    }
    if (threads < 1 || steps < 1 || warmup < 0) { fprintf(stderr, "bench_models: bad numbers\n"); return 2; }
    amt_set_threads(threads);
    printf("{\"threads\": %d, \"steps\": %d, \"warmup\": %d, \"results\": [", threads, steps, warmup);
    int first = 1;
    static const struct { const char *name; int batch; int (*setup)(bench_model *, amt_rng *); double (*flops)(void); } defs[] = {
        {"separator", SEP_BATCH, sep_setup, sep_flops},
        {"classifier", CLS_BATCH, cls_setup, cls_flops},
        {"transcriber", TRN_BATCH, trn_setup, trn_flops},
    };
    for (size_t d = 0; d < sizeof defs / sizeof defs[0]; d++) {
        if (!strstr(models, defs[d].name)) continue;
        bench_model m;
        memset(&m, 0, sizeof m);
        m.name = defs[d].name;
        m.batch = defs[d].batch;
        m.fwd_flops = defs[d].flops();
        amt_params_init(&m.ps);
        amt_rng rng;
        amt_rng_seed(&rng, 0);
        if (defs[d].setup(&m, &rng) != AMT_OK) {
            fprintf(stderr, "bench_models: %s: %s\n", m.name, amt_errmsg());
            return 1;
        }
        amt_optim_config oc;
        amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
        oc.lr = 1e-3;
        amt_optim *opt = amt_optim_new(&m.ps, &oc);
        timing tr, inf;
        double l0 = 0, l1 = 0;
        if (!opt || run_train(&m, opt, warmup, steps, &tr, &l0, &l1) || run_infer(&m, warmup > 3 ? warmup / 2 : 3, steps, &inf)) {
            fprintf(stderr, "bench_models: %s: %s\n", m.name, amt_errmsg());
            return 1;
        }
        double ex = m.batch;
        printf("%s{\"model\": \"%s\", \"batch\": %d, \"params\": %zu, \"fwd_flops_per_example\": %.0f, "
               "\"train\": {\"median_s\": %.6f, \"best_s\": %.6f, \"ex_per_s\": %.2f, \"ex_per_s_best\": %.2f, "
               "\"gflops\": %.2f, \"loss_first\": %.6f, \"loss_last\": %.6f, \"graph_bytes\": %zu}, "
               "\"infer\": {\"median_s\": %.6f, \"best_s\": %.6f, \"ex_per_s\": %.2f, \"ex_per_s_best\": %.2f, "
               "\"gflops\": %.2f, \"graph_bytes\": %zu}}",
               first ? "" : ", ", m.name, m.batch, amt_params_count(&m.ps, 0), m.fwd_flops,
               tr.median, tr.best, ex / tr.median, ex / tr.best, 3 * m.fwd_flops * ex / tr.median / 1e9, l0, l1,
               amt_graph_bytes(m.train),
               inf.median, inf.best, ex / inf.median, ex / inf.best, m.fwd_flops * ex / inf.median / 1e9,
               amt_graph_bytes(m.infer));
        fflush(stdout);
        first = 0;
        amt_optim_free(opt);
        amt_graph_free(m.train);
        amt_graph_free(m.infer);
        amt_params_free(&m.ps);
        free(m.labels);
    }
    printf("]}\n");
    return 0;
}
