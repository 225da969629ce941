/* tests/test_alloc.c: after set-up, a training step allocates nothing; and determinism:
 * two identical runs (same seed, same thread count) give bit-identical losses.
 *
 * The Makefile links this test with -Wl,--wrap=malloc,calloc,realloc,free,posix_memalign, so
 * every allocation made by our code (the test and libamt.a; not by shared libraries such as
 * OpenBLAS or libgomp, which keep their own pools) goes through the counters below. A step
 * is forward + backward + gradient clipping + optimizer step, for an MLP (linear, relu,
 * dropout, mse), a CNN (conv2d, batch norm, relu, max pool, global max pool, dropout,
 * linear, softmax cross-entropy) and an LSTM (2-layer fused LSTM, linear, mse), with each
 * optimizer. */
#include <stdint.h>
#include <stdlib.h>

#include "core/amt.h"
#include "core/optim.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "layers/pool.h"
#include "tests/test.h"

/* ---- allocation counters ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
int __real_posix_memalign(void **p, size_t a, size_t n);

static volatile int g_counting;
static long g_calls;

static void count(void) { if (g_counting) __atomic_add_fetch(&g_calls, 1, __ATOMIC_RELAXED); }
void *__wrap_malloc(size_t n) { count(); return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { count(); return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { count(); return __real_realloc(p, n); }
void __wrap_free(void *p) { count(); __real_free(p); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { count(); return __real_posix_memalign(p, a, n); }

static void count_start(void) { g_calls = 0; g_counting = 1; }
static long count_stop(void) { g_counting = 0; return g_calls; }

/* ---- the models ---- */

enum { MODEL_MLP, MODEL_CNN, MODEL_LSTM, N_MODELS };
static const char *model_name[N_MODELS] = {"mlp", "cnn", "lstm"};

#define NB 4          /* batch */
#define N_CLASSES 3

typedef struct model {
    int kind;
    amt_params ps;
    amt_graph *g;
    amt_tensor *x, *y, *loss;
    int labels[NB];
    amt_optim *opt;
} model;

static int build(model *m, int kind, uint64_t seed, amt_optim_kind okind)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    amt_params_init(&m->ps);
    amt_rng r;
    amt_rng_seed(&r, seed);
    m->g = amt_graph_new(1, seed);
    if (!m->g) return -1;
    amt_graph *g = m->g;
    if (kind == MODEL_MLP) {
        static amt_linear_layer l1, l2;
        static amt_dropout_layer d;
        if (amt_linear_layer_init(&l1, &m->ps, "fc1", 10, 16, 1, &r) || amt_linear_layer_init(&l2, &m->ps, "fc2", 16, 2, 1, &r) ||
            amt_dropout_layer_init(&d, 0.2f))
            return -1;
        int sx[2] = {NB, 10}, sy[2] = {NB, 2};
        m->x = amt_graph_input(g, "x", 2, sx, 0);
        m->y = amt_graph_input(g, "y", 2, sy, 0);
        amt_tensor *h = amt_dropout_layer_forward(g, &d, amt_relu(g, amt_linear_layer_forward(g, &l1, m->x)));
        m->loss = amt_mse(g, amt_linear_layer_forward(g, &l2, h), m->y);
    } else if (kind == MODEL_CNN) {
        static amt_conv2d_layer c1, c2;
        static amt_batchnorm2d_layer bn;
        static amt_maxpool2d_layer mp;
        static amt_dropout_layer d;
        static amt_linear_layer fc;
        if (amt_conv2d_layer_init(&c1, &m->ps, "conv1", 1, 4, 3, 3, 1, 1, 1, 1, 1, &r) ||
            amt_batchnorm2d_layer_init(&bn, &m->ps, "bn1", 4, 0.1f, 1e-5f) || amt_maxpool2d_layer_init(&mp, 2, 2, 2, 2) ||
            amt_conv2d_layer_init(&c2, &m->ps, "conv2", 4, 6, 3, 3, 1, 1, 1, 1, 1, &r) || amt_dropout_layer_init(&d, 0.3f) ||
            amt_linear_layer_init(&fc, &m->ps, "fc", 6, N_CLASSES, 1, &r))
            return -1;
        int sx[4] = {NB, 1, 8, 8};
        m->x = amt_graph_input(g, "x", 4, sx, 0);
        amt_tensor *h = amt_relu(g, amt_batchnorm2d_layer_forward(g, &bn, amt_conv2d_layer_forward(g, &c1, m->x)));
        h = amt_maxpool2d_layer_forward(g, &mp, h);
        h = amt_global_maxpool_layer_forward(g, amt_relu(g, amt_conv2d_layer_forward(g, &c2, h)));
        h = amt_dropout_layer_forward(g, &d, h);
        m->loss = amt_softmax_cross_entropy(g, amt_linear_layer_forward(g, &fc, h), m->labels);
    } else {
        static amt_lstm_layer lstm;
        static amt_linear_layer fc;
        if (amt_lstm_layer_init(&lstm, &m->ps, "lstm", 6, 8, 2, 0, &r) || amt_linear_layer_init(&fc, &m->ps, "fc", 8, 3, 1, &r))
            return -1;
        int sx[3] = {NB, 5, 6}, sy[3] = {NB, 5, 3};
        m->x = amt_graph_input(g, "x", 3, sx, 0);
        m->y = amt_graph_input(g, "y", 3, sy, 0);
        m->loss = amt_mse(g, amt_linear_layer_forward(g, &fc, amt_lstm_layer_forward(g, &lstm, m->x)), m->y);
    }
    if (!m->loss) return -1;
    amt_optim_config oc;
    amt_optim_config_default(&oc, okind);
    oc.lr = 0.01;
    if (okind == AMT_OPTIM_SGD) { oc.momentum = 0.9; oc.nesterov = 1; oc.weight_decay = 1e-4; }
    oc.sched = AMT_SCHED_COSINE; oc.warmup_steps = 2; oc.total_steps = 50; oc.min_lr = 1e-4;
    m->opt = amt_optim_new(&m->ps, &oc);
    return m->opt ? 0 : -1;
}

static void destroy(model *m)
{
    amt_optim_free(m->opt);
    amt_graph_free(m->g);
    amt_params_free(&m->ps);
}

/* inputs for step s (a function of s only), then one training step; returns the loss */
static float train_step(model *m)
{
    amt_rng r;
    amt_rng_seed(&r, 7777 + (uint64_t)m->opt->step);
    for (size_t i = 0; i < m->x->size; i++) m->x->data[i] = (float)amt_rng_normal(&r);
    if (m->y)
        for (size_t i = 0; i < m->y->size; i++) m->y->data[i] = 0.5f * m->x->data[i % m->x->size];
    for (int i = 0; i < NB; i++) m->labels[i] = (int)amt_rng_below(&r, N_CLASSES);
    amt_params_zero_grad(&m->ps);
    if (amt_graph_forward(m->g) || amt_graph_backward(m->g, m->loss)) return NAN;
    amt_clip_grad_norm(&m->ps, 5.0);
    amt_optim_step(m->opt);
    return m->loss->data[0];
}

/* ---- tests ---- */

static void test_counter_works(void)
{
    count_start();
    void *p = malloc(16);
    free(p);
    amt_params ps;
    amt_params_init(&ps);
    int s[1] = {3};
    amt_params_add(&ps, "x", 1, s, 1);   /* library code is counted too */
    long n = count_stop();
    amt_params_free(&ps);
    CHECK_MSG(n >= 4, "only %ld calls counted", n);
}

static void test_training_step_allocates_nothing(void)
{
    const amt_optim_kind kinds[3] = {AMT_OPTIM_SGD, AMT_OPTIM_ADAM, AMT_OPTIM_ADAMW};
    for (int k = 0; k < N_MODELS; k++)
        for (int o = 0; o < 3; o++) {
            model m;
            int rc = build(&m, k, 42, kinds[o]);
            CHECK_MSG(rc == 0, "%s: build failed: %s", model_name[k], amt_errmsg());
            if (rc) { destroy(&m); continue; }
            float first = train_step(&m);   /* warm-up: thread pools, first-step paths */
            train_step(&m);
            count_start();
            float last = 0;
            for (int s = 0; s < 3; s++) last = train_step(&m);
            long n = count_stop();
            CHECK_MSG(n == 0, "%s + %s: %ld allocator calls in 3 training steps", model_name[k], amt_optim_kind_name(kinds[o]), n);
            CHECK(isfinite(first) && isfinite(last));
            /* evaluation mode (dropout off, running statistics) allocates nothing either */
            m.g->training = 0;
            count_start();
            amt_graph_forward(m.g);
            n = count_stop();
            CHECK_MSG(n == 0, "%s: %ld allocator calls in an eval forward", model_name[k], n);
            destroy(&m);
        }
}

static void test_optimizer_alone_allocates_nothing(void)
{
    amt_params ps;
    amt_params_init(&ps);
    int s[2] = {300, 200};
    amt_tensor *w = amt_params_add(&ps, "w", 2, s, 1);   /* big enough for the parallel path */
    REQUIRE(w);
    for (size_t i = 0; i < w->size; i++) { w->data[i] = (float)i * 1e-5f; w->grad[i] = 1e-3f * (float)(i % 7); }
    const amt_optim_kind kinds[3] = {AMT_OPTIM_SGD, AMT_OPTIM_ADAM, AMT_OPTIM_ADAMW};
    for (int o = 0; o < 3; o++) {
        amt_optim_config oc;
        amt_optim_config_default(&oc, kinds[o]);
        oc.momentum = 0.9;
        amt_optim *opt = amt_optim_new(&ps, &oc);
        REQUIRE(opt);
        amt_optim_step(opt);
        count_start();
        for (int k = 0; k < 3; k++) { amt_clip_grad_norm(&ps, 1.0); amt_optim_step(opt); }
        long n = count_stop();
        CHECK_MSG(n == 0, "%s: %ld allocator calls", amt_optim_kind_name(kinds[o]), n);
        amt_optim_free(opt);
    }
    amt_params_free(&ps);
}

#define DET_STEPS 20

static void run_losses(int kind, int threads, float *loss)
{
    amt_set_threads(threads);
    model m;
    if (build(&m, kind, 1234, AMT_OPTIM_ADAM) != 0) {
        for (int s = 0; s < DET_STEPS; s++) loss[s] = NAN;
        destroy(&m);
        return;
    }
    for (int s = 0; s < DET_STEPS; s++) loss[s] = train_step(&m);
    destroy(&m);
}

static void test_determinism(void)
{
    const int threads[2] = {1, 2};
    for (int k = 0; k < N_MODELS; k++)
        for (int t = 0; t < 2; t++) {
            float a[DET_STEPS], b[DET_STEPS];
            run_losses(k, threads[t], a);
            run_losses(k, threads[t], b);
            int finite = 1;
            for (int s = 0; s < DET_STEPS; s++) finite &= isfinite(a[s]);
            CHECK_MSG(finite, "%s: non-finite loss", model_name[k]);
            CHECK_MSG(memcmp(a, b, sizeof a) == 0, "%s at %d threads: two identical runs differ", model_name[k], threads[t]);
            CHECK_MSG(a[DET_STEPS - 1] != a[0], "%s: loss never changed", model_name[k]);
        }
    amt_set_threads(0);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_counter_works);
    RUN(test_training_step_allocates_nothing);
    RUN(test_optimizer_alone_allocates_nothing);
    RUN(test_determinism);
    return TEST_DONE();
}
