/* tests/test_lstm.c: the fused LSTM op (core/ops/lstm.c) and the LSTM layer
 * (layers/lstm.c): finite-difference gradients, PyTorch golden values (forward and every
 * gradient, 2 layers, both directions), inference graph vs training graph, determinism,
 * shape errors, and learning a delayed-copy task. */
#include "core/amt.h"
#include "layers/linear.h"
#include "layers/lstm.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

#define GOLDEN "tests/golden/lstm.txt"

/* ---------------------------------------------------------------- gradient checks */

typedef struct lstm_ctx { int n_layers, reverse; } lstm_ctx;

/* in[0] = x, then (w_ih, w_hh, b) per layer */
static amt_tensor *build_lstm(amt_graph *g, amt_tensor **in, void *ctx)
{
    lstm_ctx *c = ctx;
    amt_tensor *wi[4], *wh[4], *b[4];
    for (int l = 0; l < c->n_layers; l++) {
        wi[l] = in[1 + 3 * l];
        wh[l] = in[2 + 3 * l];
        b[l] = in[3 + 3 * l];
    }
    return amt_lstm(g, in[0], c->n_layers, wi, wh, b, c->reverse);
}

static int lstm_spec(gc_input *spec, int B, int T, int I, int H, int n_layers)
{
    spec[0] = (gc_input){3, {B, T, I}, 1, -1.5f, 1.5f};
    for (int l = 0; l < n_layers; l++) {
        spec[1 + 3 * l] = (gc_input){2, {4 * H, l == 0 ? I : H}, 1, -0.7f, 0.7f};
        spec[2 + 3 * l] = (gc_input){2, {4 * H, H}, 1, -0.7f, 0.7f};
        spec[3 + 3 * l] = (gc_input){1, {4 * H}, 1, -0.5f, 0.5f};
    }
    return 1 + 3 * n_layers;
}

static void check_grad(int B, int T, int I, int H, int n_layers, int reverse, uint64_t seed)
{
    gc_input spec[AMT_MAX_INPUTS];
    lstm_ctx c = {n_layers, reverse};
    int n = lstm_spec(spec, B, T, I, H, n_layers);
    double err = gradcheck_ex(build_lstm, &c, n, spec, seed, 1e-2, 1e-2, 1e-2, 0);
    CHECK_MSG(err < 1e-2, "B=%d T=%d I=%d H=%d layers=%d reverse=%d: worst error %.3g", B, T, I, H,
              n_layers, reverse, err);
}

static void test_gradcheck_one_layer(void) { check_grad(2, 4, 3, 5, 1, 0, 11); }
static void test_gradcheck_two_layers(void) { check_grad(2, 4, 3, 5, 2, 0, 12); }
static void test_gradcheck_reverse(void)
{
    check_grad(2, 4, 3, 5, 1, 1, 13);
    check_grad(3, 5, 2, 4, 2, 1, 14);
}
static void test_gradcheck_shapes(void)
{
    check_grad(1, 1, 1, 1, 1, 0, 15);   /* single step: no recurrence */
    check_grad(3, 7, 4, 3, 2, 0, 16);
}

/* ---------------------------------------------------------------- golden (PyTorch) */

static amt_tensor *golden_input(amt_graph *g, const char *name, int requires_grad)
{
    int nd = 0, sh[8];
    size_t n = 0;
    float *v = golden_get(GOLDEN, name, &nd, sh, &n);
    if (!v) return NULL;
    amt_tensor *t = amt_graph_input(g, name, nd, sh, requires_grad);
    if (t) memcpy(t->data, v, n * sizeof(float));
    free(v);
    return t;
}

static double golden_cmp(const char *name, const float *got, size_t n)
{
    size_t gn = 0;
    float *want = golden_get(GOLDEN, name, NULL, NULL, &gn);
    if (!want || gn != n) { free(want); return INFINITY; }
    double e = golden_max_rel(got, want, n, 1e-2);
    free(want);
    if (e > 1e-4) fprintf(stderr, "  %s: max relative error %.3g\n", name, e);
    return e;
}

static void golden_direction(int reverse)
{
    const char *tag = reverse ? "rev" : "fwd";
    char name[64];
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *x = golden_input(g, "x", 1), *wi[2], *wh[2], *b[2];
    REQUIRE(x);
    for (int l = 0; l < 2; l++) {
        snprintf(name, sizeof name, "w_ih%d", l); wi[l] = golden_input(g, name, 1);
        snprintf(name, sizeof name, "w_hh%d", l); wh[l] = golden_input(g, name, 1);
        snprintf(name, sizeof name, "b%d", l); b[l] = golden_input(g, name, 1);
    }
    amt_tensor *y = amt_lstm(g, x, 2, wi, wh, b, reverse);
    REQUIRE(y);
    size_t rn = 0;
    gc_dot_attr *a = amt_graph_alloc(g, sizeof *a);
    a->r = golden_get(GOLDEN, "r", NULL, NULL, &rn);
    REQUIRE(a->r && rn == y->size);
    int one = 1;
    amt_tensor *loss = amt_graph_output(g, 1, &one, 1, &y);
    amt_graph_node(g, &gc_dot_op, loss, 1, &y, a);
    CHECK_OK(amt_graph_forward(g));
    CHECK_OK(amt_graph_backward(g, loss));
    double worst = 0;
#define CMP(nm, t, field) do { snprintf(name, sizeof name, "%s_%s", tag, nm); \
        double e_ = golden_cmp(name, (t)->field, (t)->size); worst = e_ > worst ? e_ : worst; } while (0)
    CMP("y", y, data);
    CMP("dx", x, grad);
    for (int l = 0; l < 2; l++) {
        char nm[32];
        snprintf(nm, sizeof nm, "dw_ih%d", l); CMP(nm, wi[l], grad);
        snprintf(nm, sizeof nm, "dw_hh%d", l); CMP(nm, wh[l], grad);
        snprintf(nm, sizeof nm, "db%d", l); CMP(nm, b[l], grad);
    }
#undef CMP
    CHECK_MSG(worst <= 1e-4, "%s: worst relative error %.3g", tag, worst);
    free(a->r);
    amt_graph_free(g);
}

static void test_golden_pytorch_forward_dir(void) { golden_direction(0); }
static void test_golden_pytorch_reverse_dir(void) { golden_direction(1); }

/* ---------------------------------------------------------------- helpers */

typedef struct net {
    amt_params ps;
    amt_lstm_layer lstm;
} net;

static void fill_uniform(float *v, size_t n, uint64_t seed, float a)
{
    amt_rng r;
    amt_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) v[i] = a * (float)(2 * amt_rng_uniform(&r) - 1);
}

/* ---------------------------------------------------------------- inference graph */

static void test_inference_graph_identical_and_smaller(void)
{
    const int B = 16, T = 100, I = 513, H = 256;   /* the separator's shape */
    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer l;
    amt_rng rng;
    amt_rng_seed(&rng, 5);
    CHECK_OK(amt_lstm_layer_init(&l, &ps, "lstm", I, H, 2, 0, &rng));
    int xs[3] = {B, T, I};
    amt_graph *gt = amt_graph_new(1, 1), *gi = amt_graph_new(0, 1);
    amt_tensor *xt = amt_graph_input(gt, "x", 3, xs, 0), *xi = amt_graph_input(gi, "x", 3, xs, 0);
    amt_tensor *yt = amt_lstm_layer_forward(gt, &l, xt), *yi = amt_lstm_layer_forward(gi, &l, xi);
    REQUIRE(yt && yi && yt->grad && !yi->grad);
    fill_uniform(xt->data, xt->size, 9, 1.0f);
    memcpy(xi->data, xt->data, xt->size * sizeof(float));
    CHECK_OK(amt_graph_forward(gt));
    CHECK_OK(amt_graph_forward(gi));
    CHECK(memcmp(yt->data, yi->data, yt->size * sizeof(float)) == 0);
    /* run the inference graph again: its in-place cell state must restart from zero */
    CHECK_OK(amt_graph_forward(gi));
    CHECK(memcmp(yt->data, yi->data, yt->size * sizeof(float)) == 0);
    fprintf(stderr, "  arena: training %zu bytes used (%zu reserved), inference %zu used (%zu reserved)\n",
            gt->arena.used, amt_graph_bytes(gt), gi->arena.used, amt_graph_bytes(gi));
    CHECK(gi->arena.used * 2 < gt->arena.used);
    CHECK(amt_graph_bytes(gi) < amt_graph_bytes(gt));
    amt_graph_free(gt);
    amt_graph_free(gi);
    amt_params_free(&ps);
}

/* ---------------------------------------------------------------- determinism */

/* forward + backward of a 2-layer bidirectional stack; returns a malloc'd copy of the
 * output followed by every parameter gradient */
/* B * H = 2048 reaches AMT_LSTM_OMP_MIN, so 2 threads split the batch in the recurrence */
static float *run_once(int threads, size_t *n_out)
{
    const int B = 8, T = 24, I = 40, H = 256;
    amt_set_threads(threads);
    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer l;
    amt_rng rng;
    amt_rng_seed(&rng, 77);
    if (amt_lstm_layer_init(&l, &ps, "lstm", I, H, 2, 1, &rng) != AMT_OK) return NULL;
    int xs[3] = {B, T, I};
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *x = amt_graph_input(g, "x", 3, xs, 1);
    amt_tensor *y = amt_lstm_layer_forward(g, &l, x);
    if (!y) return NULL;
    gc_dot_attr *a = amt_graph_alloc(g, sizeof *a);
    a->r = amt_graph_floats(g, y->size);
    fill_uniform(a->r, y->size, 3, 1.0f);
    fill_uniform(x->data, x->size, 4, 1.0f);
    int one = 1;
    amt_tensor *loss = amt_graph_output(g, 1, &one, 1, &y);
    amt_graph_node(g, &gc_dot_op, loss, 1, &y, a);
    amt_graph_forward(g);
    amt_graph_backward(g, loss);
    size_t n = y->size + x->size + amt_params_count(&ps, 0);
    float *out = malloc(n * sizeof(float)), *p = out;
    memcpy(p, y->data, y->size * sizeof(float)); p += y->size;
    memcpy(p, x->grad, x->size * sizeof(float)); p += x->size;
    for (int i = 0; i < ps.n; i++) {
        memcpy(p, ps.p[i]->t.grad, ps.p[i]->t.size * sizeof(float));
        p += ps.p[i]->t.size;
    }
    *n_out = n;
    amt_graph_free(g);
    amt_params_free(&ps);
    return out;
}

static void test_deterministic_same_threads(void)
{
    int saved = amt_get_threads();
    for (int th = 1; th <= 2; th++) {
        size_t n1 = 0, n2 = 0;
        float *a = run_once(th, &n1), *b = run_once(th, &n2);
        REQUIRE(a && b && n1 == n2);
        CHECK_MSG(memcmp(a, b, n1 * sizeof(float)) == 0, "%d threads: two runs differ", th);
        free(a);
        free(b);
    }
    amt_set_threads(saved);
}

/* The batch-split recurrence (default) against the one-thread recurrence with threaded
 * per-step sgemms: the same function up to sgemm rounding. */
static void test_split_batch_matches_unsplit(void)
{
    int saved = amt_get_threads();
    size_t n1 = 0, n2 = 0;
    float *a = run_once(2, &n1);
    amt_lstm_split_batch = 0;
    float *b = run_once(2, &n2);
    amt_lstm_split_batch = 1;
    amt_set_threads(saved);
    REQUIRE(a && b && n1 == n2);
    double worst = golden_max_rel(a, b, n1, 1e-2);
    CHECK_MSG(worst < 1e-4, "split vs unsplit: max relative difference %.3g", worst);
    free(a);
    free(b);
}

/* Bidirectional use: a forward and a reverse stack read the same x, outputs concatenated;
 * x's gradient accumulates from both. */
static amt_tensor *build_bidir(amt_graph *g, amt_tensor **in, void *ctx)
{
    (void)ctx;
    amt_tensor *f = amt_lstm(g, in[0], 1, &in[1], &in[2], &in[3], 0);
    amt_tensor *r = amt_lstm(g, in[0], 1, &in[4], &in[5], &in[6], 1);
    amt_tensor *both[2] = {f, r};
    return amt_concat(g, 2, both, 2);
}

static void test_gradcheck_bidirectional(void)
{
    gc_input spec[7];
    lstm_spec(spec, 2, 4, 3, 5, 1);   /* x, forward w_ih, w_hh, b */
    for (int i = 1; i < 4; i++) spec[3 + i] = spec[i];   /* reverse w_ih, w_hh, b */
    double err = gradcheck_ex(build_bidir, NULL, 7, spec, 21, 1e-2, 1e-2, 1e-2, 0);
    CHECK_MSG(err < 1e-2, "bidirectional: worst error %.3g", err);
}

/* ---------------------------------------------------------------- errors */

static void test_bad_shapes(void)
{
    amt_graph *g = amt_graph_new(1, 1);
    int xs[3] = {2, 3, 4}, x2[2] = {2, 4}, wi[2] = {20, 4}, wh[2] = {20, 5}, bs[1] = {20};
    int wib[2] = {20, 3}, whb[2] = {16, 5}, bb[1] = {16};
    amt_tensor *x = amt_graph_input(g, "x", 3, xs, 1), *xf = amt_graph_input(g, "x2", 2, x2, 1);
    amt_tensor *w_ih = amt_graph_input(g, "w", 2, wi, 1), *w_hh = amt_graph_input(g, "w", 2, wh, 1);
    amt_tensor *b = amt_graph_input(g, "b", 1, bs, 1);
    amt_tensor *w_ih_bad = amt_graph_input(g, "w", 2, wib, 1), *w_hh_bad = amt_graph_input(g, "w", 2, whb, 1);
    amt_tensor *b_bad = amt_graph_input(g, "b", 1, bb, 1);
    CHECK(amt_lstm(g, xf, 1, &w_ih, &w_hh, &b, 0) == NULL);
    CHECK(strstr(amt_errmsg(), "x is (2, 4), expected (B, T, I)") != NULL);
    CHECK(amt_lstm(g, x, 1, &w_ih_bad, &w_hh, &b, 0) == NULL);
    CHECK(strstr(amt_errmsg(), "layer 0 w_ih is (20, 3), expected (20, 4)") != NULL);
    CHECK(amt_lstm(g, x, 1, &w_ih, &w_hh_bad, &b, 0) == NULL);
    CHECK(strstr(amt_errmsg(), "w_hh is (16, 5), expected (4H, H)") != NULL);
    CHECK(amt_lstm(g, x, 1, &w_ih, &w_hh, &b_bad, 0) == NULL);
    CHECK(strstr(amt_errmsg(), "layer 0 b is (16), expected (20)") != NULL);
    amt_tensor *wi2[2] = {w_ih, w_ih}, *wh2[2] = {w_hh, w_hh}, *b2[2] = {b, b};
    CHECK(amt_lstm(g, x, 2, wi2, wh2, b2, 0) == NULL);   /* layer 1 must take H = 5 inputs */
    CHECK(strstr(amt_errmsg(), "layer 1 w_ih is (20, 4), expected (20, 5)") != NULL);
    CHECK(amt_lstm(g, x, 0, wi2, wh2, b2, 0) == NULL);
    CHECK(strstr(amt_errmsg(), "n_layers 0") != NULL);
    CHECK(amt_lstm(g, NULL, 1, &w_ih, &w_hh, &b, 0) == NULL);
    CHECK(g->broken);
    CHECK(amt_graph_forward(g) != AMT_OK);
    amt_graph_free(g);

    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer l;
    amt_rng rng;
    amt_rng_seed(&rng, 1);
    CHECK(amt_lstm_layer_init(&l, &ps, "enc", 4, 0, 1, 0, &rng) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "enc") && strstr(amt_errmsg(), "hidden 0"));
    CHECK(amt_lstm_layer_init(&l, &ps, "enc", 4, 3, 9, 0, &rng) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "9 layers"));
    amt_params_free(&ps);
}

/* ---------------------------------------------------------------- layer */

static void test_layer_params_and_init(void)
{
    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer l;
    amt_rng rng;
    amt_rng_seed(&rng, 2);
    const int I = 6, H = 16;
    CHECK_OK(amt_lstm_layer_init(&l, &ps, "sep", I, H, 2, 1, &rng));
    CHECK(ps.n == 12);
    CHECK(amt_lstm_layer_out(&l) == 2 * H);
    const char *names[] = {"sep/l0/w_ih", "sep/l0/w_hh", "sep/l0/b", "sep/l1/w_ih", "sep/l1/w_hh", "sep/l1/b",
                           "sep/rev/l0/w_ih", "sep/rev/l1/b"};
    for (int i = 0; i < 8; i++) CHECK_MSG(amt_params_find(&ps, names[i]) != NULL, "%s missing", names[i]);
    amt_tensor *w = &amt_params_find(&ps, "sep/l0/w_ih")->t, *b = &amt_params_find(&ps, "sep/rev/l1/b")->t;
    CHECK(w->shape[0] == 4 * H && w->shape[1] == I);
    CHECK(amt_params_find(&ps, "sep/l1/w_ih")->t.shape[1] == H);
    float k = 1.0f / sqrtf((float)H), mx = 0;
    for (size_t i = 0; i < w->size; i++) mx = fabsf(w->data[i]) > mx ? fabsf(w->data[i]) : mx;
    CHECK(mx <= k && mx > 0.8f * k);
    int forget_ok = 1, other_ok = 1;
    for (int j = 0; j < 4 * H; j++) {
        if (j >= H && j < 2 * H) forget_ok &= b->data[j] == AMT_LSTM_FORGET_BIAS;
        else other_ok &= fabsf(b->data[j]) <= k;
    }
    CHECK(forget_ok && other_ok);

    /* bidirectional output = [forward stack, reverse stack] along features */
    int xs[3] = {3, 5, I};
    amt_graph *g = amt_graph_new(0, 1);
    amt_tensor *x = amt_graph_input(g, "x", 3, xs, 0);
    amt_tensor *y = amt_lstm_layer_forward(g, &l, x);
    amt_tensor *yf = amt_lstm(g, x, 2, l.w_ih, l.w_hh, l.b, 0);
    amt_tensor *yr = amt_lstm(g, x, 2, l.rw_ih, l.rw_hh, l.rb, 1);
    REQUIRE(y && yf && yr);
    CHECK(y->ndim == 3 && y->shape[0] == 3 && y->shape[1] == 5 && y->shape[2] == 2 * H);
    fill_uniform(x->data, x->size, 8, 1.0f);
    CHECK_OK(amt_graph_forward(g));
    int same = 1;
    for (int r = 0; r < 15; r++)
        for (int j = 0; j < H; j++) {
            same &= y->data[r * 2 * H + j] == yf->data[r * H + j];
            same &= y->data[r * 2 * H + H + j] == yr->data[r * H + j];
        }
    CHECK(same);
    amt_graph_free(g);
    amt_params_free(&ps);
}

/* ---------------------------------------------------------------- learning */

/* Copy task: x_t uniform in [-1, 1], target y_t = x_{t-K} (0 for t < K). An LSTM of 24
 * units + a linear read-out, trained with Adam, must reach MSE < 2e-3 (the target's
 * variance is ~0.33). */
static void test_learns_delayed_copy(void)
{
    const int B = 32, T = 16, K = 2, H = 24, STEPS = 600;
    amt_params ps;
    amt_params_init(&ps);
    amt_lstm_layer l;
    amt_linear_layer out;
    amt_rng rng;
    amt_rng_seed(&rng, 42);
    CHECK_OK(amt_lstm_layer_init(&l, &ps, "lstm", 1, H, 1, 0, &rng));
    CHECK_OK(amt_linear_layer_init(&out, &ps, "out", H, 1, 1, &rng));
    int xs[3] = {B, T, 1};
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *x = amt_graph_input(g, "x", 3, xs, 0), *tg = amt_graph_input(g, "target", 3, xs, 0);
    amt_tensor *y = amt_linear_layer_forward(g, &out, amt_lstm_layer_forward(g, &l, x));
    amt_tensor *loss = amt_mse(g, y, tg);
    REQUIRE(loss);
    /* Adam state, inline (the optimizers are tested elsewhere) */
    size_t np = amt_params_count(&ps, 0);
    float *m = calloc(np, sizeof(float)), *v = calloc(np, sizeof(float));
    const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float last = 1;
    for (int step = 1; step <= STEPS; step++) {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                x->data[b * T + t] = (float)(2 * amt_rng_uniform(&rng) - 1);
                tg->data[b * T + t] = t >= K ? x->data[b * T + t - K] : 0.0f;
            }
        amt_params_zero_grad(&ps);
        CHECK_OK(amt_graph_forward(g));
        CHECK_OK(amt_graph_backward(g, loss));
        last = loss->data[0];
        float c1 = 1 - powf(b1, (float)step), c2 = 1 - powf(b2, (float)step);
        size_t o = 0;
        for (int i = 0; i < ps.n; i++) {
            amt_tensor *p = &ps.p[i]->t;
            for (size_t k = 0; k < p->size; k++, o++) {
                float gr = p->grad[k];
                m[o] = b1 * m[o] + (1 - b1) * gr;
                v[o] = b2 * v[o] + (1 - b2) * gr * gr;
                p->data[k] -= lr * (m[o] / c1) / (sqrtf(v[o] / c2) + eps);
            }
        }
    }
    fprintf(stderr, "  copy task: loss after %d steps %.3g\n", STEPS, last);
    CHECK(last < 2e-3f);
    free(m);
    free(v);
    amt_graph_free(g);
    amt_params_free(&ps);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_gradcheck_one_layer);
    RUN(test_gradcheck_two_layers);
    RUN(test_gradcheck_reverse);
    RUN(test_gradcheck_shapes);
    RUN(test_gradcheck_bidirectional);
    RUN(test_golden_pytorch_forward_dir);
    RUN(test_golden_pytorch_reverse_dir);
    RUN(test_bad_shapes);
    RUN(test_layer_params_and_init);
    RUN(test_inference_graph_identical_and_smaller);
    RUN(test_deterministic_same_threads);
    RUN(test_split_batch_matches_unsplit);
    RUN(test_learns_delayed_copy);
    return TEST_DONE();
}
