/* tests/test_graph.c: arena, tensor, parameter store, graph mechanics, RNG. */
#include "core/amt.h"
#include "tests/test.h"

static void test_arena_alignment_and_zero(void)
{
    amt_arena a;
    amt_arena_init(&a, 1024);
    for (int i = 1; i < 200; i += 7) {
        unsigned char *p = amt_arena_alloc(&a, (size_t)i * 13);
        REQUIRE(p);
        CHECK(((uintptr_t)p % AMT_ALIGN) == 0);
        int zero = 1;
        for (int k = 0; k < i * 13; k++) zero &= p[k] == 0;
        CHECK(zero);
        memset(p, 0xab, (size_t)i * 13);
    }
    CHECK(a.reserved >= a.used);
    amt_arena_free(&a);
}

static void test_tensor_shape_errors(void)
{
    amt_tensor t;
    int bad[2] = {3, 0};
    CHECK(amt_tensor_set_shape(&t, 2, bad) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "dimension 1") != NULL);
    int five[5] = {1, 1, 1, 1, 1};
    CHECK(amt_tensor_set_shape(&t, 5, five) == AMT_EINVAL);
    int ok[3] = {2, 3, 4};
    CHECK_OK(amt_tensor_set_shape(&t, 3, ok));
    CHECK(t.size == 24);
    char buf[32];
    CHECK(strcmp(amt_shape_str(&t, buf, sizeof buf), "(2, 3, 4)") == 0);
}

static void test_params(void)
{
    amt_params ps;
    amt_params_init(&ps);
    int s[2] = {3, 4};
    amt_tensor *w = amt_params_add(&ps, "fc/weight", 2, s, 1);
    REQUIRE(w && w->grad && w->requires_grad);
    amt_tensor *rm = amt_params_add(&ps, "bn/running_mean", 1, s, 0);
    REQUIRE(rm && !rm->grad && !rm->requires_grad);
    CHECK(amt_params_add(&ps, "fc/weight", 2, s, 1) == NULL);
    CHECK(strstr(amt_errmsg(), "twice") != NULL);
    CHECK(amt_params_count(&ps, 0) == 12);
    CHECK(amt_params_count(&ps, 1) == 15);
    w->grad[5] = 3;
    amt_params_zero_grad(&ps);
    CHECK(w->grad[5] == 0);
    CHECK(amt_params_find(&ps, "bn/running_mean")->t.data == rm->data);
    amt_params_free(&ps);
}

/* a test-local op: y = 2 x, to exercise the graph without other op files */
static void dbl_fwd(amt_graph *g, amt_node *n) { (void)g; for (size_t i = 0; i < n->out->size; i++) n->out->data[i] = 2 * n->in[0]->data[i]; }
static void dbl_bwd(amt_graph *g, amt_node *n) { (void)g; for (size_t i = 0; i < n->out->size; i++) n->in[0]->grad[i] += 2 * n->out->grad[i]; }
static const amt_op dbl_op = {"double", dbl_fwd, dbl_bwd};
static void sum_fwd(amt_graph *g, amt_node *n) { (void)g; float s = 0; for (size_t i = 0; i < n->in[0]->size; i++) s += n->in[0]->data[i]; n->out->data[0] = s; }
static void sum_bwd(amt_graph *g, amt_node *n) { (void)g; for (size_t i = 0; i < n->in[0]->size; i++) n->in[0]->grad[i] += n->out->grad[0]; }
static const amt_op sum_op = {"sum", sum_fwd, sum_bwd};

static amt_tensor *dbl(amt_graph *g, amt_tensor *x)
{
    amt_tensor *y = amt_graph_output(g, x ? x->ndim : 1, x ? x->shape : NULL, 1, &x);
    return amt_graph_node(g, &dbl_op, y, 1, &x, NULL) ? y : NULL;
}

static void test_graph_backward_accumulates(void)
{
    amt_params ps;
    amt_params_init(&ps);
    int s[1] = {4};
    amt_tensor *p = amt_params_add(&ps, "p", 1, s, 1);
    for (int i = 0; i < 4; i++) p->data[i] = (float)i;
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *y = dbl(g, p);
    amt_tensor *y2 = dbl(g, y);
    int one = 1;
    amt_tensor *v = amt_graph_view(g, y2, 1, s);
    amt_tensor *l = amt_graph_output(g, 1, &one, 1, &v);
    REQUIRE(amt_graph_node(g, &sum_op, l, 1, &v, NULL));
    CHECK_OK(amt_graph_forward(g));
    CHECK(l->data[0] == 4 * (0 + 1 + 2 + 3));
    CHECK_OK(amt_graph_backward(g, l));
    CHECK(p->grad[2] == 4);
    CHECK_OK(amt_graph_backward(g, l));
    CHECK(p->grad[2] == 8);   /* parameter gradients accumulate */
    CHECK(y->grad[2] == 2);   /* graph tensors are zeroed each backward */
    CHECK(g->step == 1);
    amt_graph_free(g);

    amt_graph *gi = amt_graph_new(0, 1);
    amt_tensor *yi = dbl(gi, p);
    REQUIRE(yi);
    CHECK(yi->grad == NULL);
    CHECK_OK(amt_graph_forward(gi));
    CHECK(yi->data[3] == 6);
    CHECK(amt_graph_backward(gi, yi) == AMT_EINVAL);
    amt_graph_free(gi);
    amt_params_free(&ps);
}

static void test_graph_broken_refuses(void)
{
    amt_graph *g = amt_graph_new(1, 0);
    int s[2] = {2, 3}, s2[1] = {5};
    amt_tensor *x = amt_graph_input(g, "x", 2, s, 0);
    CHECK(amt_graph_view(g, x, 1, s2) == NULL);
    CHECK(strstr(amt_errmsg(), "cannot view") != NULL);
    CHECK(dbl(g, NULL) == NULL);
    CHECK(amt_graph_forward(g) == AMT_EINVAL);
    amt_graph_free(g);
}

static void test_rng_deterministic(void)
{
    amt_rng a, b;
    amt_rng_seed(&a, 42);
    amt_rng_seed(&b, 42);
    int same = 1;
    double mean = 0;
    for (int i = 0; i < 10000; i++) {
        double u = amt_rng_uniform(&a);
        same &= u == amt_rng_uniform(&b);
        CHECK(u >= 0 && u < 1);
        mean += u;
    }
    CHECK(same);
    CHECK_NEAR(mean / 10000, 0.5, 0.02);
    amt_rng_seed(&b, 43);
    CHECK(amt_rng_u64(&a) != amt_rng_u64(&b));
    double m = 0, v = 0;
    for (int i = 0; i < 20000; i++) { double z = amt_rng_normal(&a); m += z; v += z * z; }
    CHECK_NEAR(m / 20000, 0, 0.03);
    CHECK_NEAR(v / 20000, 1, 0.05);
    float h = amt_hash_uniform(7, 123);
    CHECK(h == amt_hash_uniform(7, 123) && h >= 0 && h < 1);
    int perm[10];
    for (int i = 0; i < 10; i++) perm[i] = i;
    amt_rng_shuffle_int(&a, perm, 10);
    int seen = 0;
    for (int i = 0; i < 10; i++) seen |= 1 << perm[i];
    CHECK(seen == 1023);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_arena_alignment_and_zero);
    RUN(test_tensor_shape_errors);
    RUN(test_params);
    RUN(test_graph_backward_accumulates);
    RUN(test_graph_broken_refuses);
    RUN(test_rng_deterministic);
    return TEST_DONE();
}
