/* tests/test_ops_basic.c: matmul/linear, elementwise, reductions, shape ops, losses, the
 * time-frequency mask + discriminative loss, and the Linear and Mask layers:
 * finite-difference gradient checks, hand-computed forward values, PyTorch golden values
 * (tests/golden/losses.txt from make_golden_losses.py), shape errors, determinism. */
#include <math.h>

#include "core/amt.h"
#include "layers/linear.h"
#include "layers/mask.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

#define GOLDEN "tests/golden/losses.txt"
#define GC_TOL 1e-2      /* worst relative error allowed by the gradient checks */
#define GOLD_TOL 1e-4    /* relative agreement with PyTorch */

/* ------------------------------------------------------------------ gradient checks */

enum {
    K_MATMUL, K_LINEAR, K_LINEAR_NOBIAS, K_ADD, K_SUB, K_MUL, K_DIV, K_MUL_SELF, K_ADD_CHANNEL,
    K_AFFINE, K_ABS, K_SIGMOID, K_TANH, K_RELU, K_SOFTPLUS, K_LOG1P, K_SUM, K_MEAN, K_RESHAPE,
    K_SLICE, K_CONCAT, K_TRANSPOSE, K_SCE, K_BCE, K_BCEW, K_MSE, K_TF_MASK, K_DISCRIM,
    K_MASK_LAYER_S, K_MASK_LAYER_LOSS
};

typedef struct op_ctx {
    int kind;
    int ta, tb;          /* matmul */
    int axis, start, len;
    int perm[4];
    int n;               /* concat inputs */
    float p0, p1;        /* scalars: affine s, c; log1p c; gamma */
    int shape[4], ndim;  /* reshape target */
    int labels[16];
    int away_from_zero;  /* push inputs off the kinks of abs / relu / sign */
} op_ctx;

static amt_tensor *build_op(amt_graph *g, amt_tensor **in, void *vctx)
{
    op_ctx *c = vctx;
    if (c->away_from_zero)
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; in[k] && i < in[k]->size; i++) {
                float *v = &in[k]->data[i];
                *v = *v >= 0 ? *v + 0.15f : *v - 0.15f;
            }
    switch (c->kind) {
    case K_MATMUL: return amt_matmul(g, in[0], in[1], c->ta, c->tb);
    case K_LINEAR: return amt_linear(g, in[0], in[1], in[2]);
    case K_LINEAR_NOBIAS: return amt_linear(g, in[0], in[1], NULL);
    case K_ADD: return amt_add(g, in[0], in[1]);
    case K_SUB: return amt_sub(g, in[0], in[1]);
    case K_MUL: return amt_mul(g, in[0], in[1]);
    case K_DIV: return amt_div(g, in[0], in[1]);
    case K_MUL_SELF: return amt_mul(g, in[0], in[0]);
    case K_ADD_CHANNEL: return amt_add_channel(g, in[0], in[1]);
    case K_AFFINE: return amt_affine_scalar(g, in[0], c->p0, c->p1);
    case K_ABS: return amt_abs(g, in[0]);
    case K_SIGMOID: return amt_sigmoid(g, in[0]);
    case K_TANH: return amt_tanh(g, in[0]);
    case K_RELU: return amt_relu(g, in[0]);
    case K_SOFTPLUS: return amt_softplus(g, in[0]);
    case K_LOG1P: return amt_log1p_scaled(g, in[0], c->p0);
    case K_SUM: return amt_sum(g, in[0]);
    case K_MEAN: return amt_mean(g, in[0]);
    case K_RESHAPE: return amt_reshape(g, in[0], c->ndim, c->shape);
    case K_SLICE: return amt_slice(g, in[0], c->axis, c->start, c->len);
    case K_CONCAT: return amt_concat(g, c->n, in, c->axis);
    case K_TRANSPOSE: return amt_transpose(g, in[0], c->perm);
    case K_SCE: return amt_softmax_cross_entropy(g, in[0], c->labels);
    case K_BCE: return amt_bce_with_logits(g, in[0], in[1], NULL);
    case K_BCEW: return amt_bce_with_logits(g, in[0], in[1], in[2]);
    case K_MSE: return amt_mse(g, in[0], in[1]);
    case K_TF_MASK: return amt_tf_mask(g, in[0], in[1], in[2], AMT_MASK_EPS);
    case K_DISCRIM: return amt_discriminative_loss(g, in[0], in[1], in[2], in[3], c->p0);
    case K_MASK_LAYER_S: case K_MASK_LAYER_LOSS: {
        amt_mask_layer l;
        if (amt_mask_layer_init(&l, AMT_MASK_EPS, c->p0) != AMT_OK) return NULL;
        amt_tensor *s2, *s1 = amt_mask_layer_forward(g, &l, in[0], in[1], in[2], &s2);
        if (c->kind == K_MASK_LAYER_LOSS) return amt_mask_layer_loss(g, &l, s1, s2, in[3], in[4]);
        amt_tensor *both[2] = {s1, s2};
        return amt_concat(g, 2, both, 0);
    }
    }
    return NULL;
}

static gc_input IN(int nd, int d0, int d1, int d2, int d3, float lo, float hi)
{
    gc_input s = {nd, {d0, d1, d2, d3}, 1, lo, hi};
    return s;
}
static gc_input CONST_IN(gc_input s) { s.requires_grad = 0; return s; }

static uint64_t g_seed = 100;

static void gc(const char *what, op_ctx *c, int n_in, const gc_input *spec, double eps)
{
    double err = gradcheck_ex(build_op, c, n_in, spec, g_seed++, eps, GC_TOL, 1e-2, 0);
    CHECK_MSG(err < GC_TOL, "%s: gradient check worst error %.3g", what, err);
#ifdef GC_VERBOSE
    fprintf(stderr, "gc %-40s %.3g\n", what, err);
#endif
}

static void test_grad_matmul_linear(void)
{
    int shapes[][3] = {{3, 4, 5}, {1, 7, 2}, {6, 1, 3}, {8, 9, 7}};
    for (int s = 0; s < 4; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
                op_ctx c = {.kind = K_MATMUL, .ta = ta, .tb = tb};
                gc_input sp[2] = {ta ? IN(2, k, m, 1, 1, -1, 1) : IN(2, m, k, 1, 1, -1, 1),
                                  tb ? IN(2, n, k, 1, 1, -1, 1) : IN(2, k, n, 1, 1, -1, 1)};
                char what[64];
                snprintf(what, sizeof what, "matmul %dx%dx%d ta=%d tb=%d", m, k, n, ta, tb);
                gc(what, &c, 2, sp, 1e-2);
                sp[0].requires_grad = (s + ta + tb) & 1;   /* only one side differentiated */
                sp[1].requires_grad = !sp[0].requires_grad;
                gc(what, &c, 2, sp, 1e-2);
            }
    op_ctx c = {.kind = K_LINEAR};
    gc_input l1[3] = {IN(2, 5, 4, 1, 1, -1, 1), IN(2, 3, 4, 1, 1, -1, 1), IN(1, 3, 1, 1, 1, -1, 1)};
    gc("linear (5,4)x(3,4)+b", &c, 3, l1, 1e-2);
    gc_input l2[3] = {IN(3, 2, 3, 4, 1, -1, 1), IN(2, 6, 4, 1, 1, -1, 1), IN(1, 6, 1, 1, 1, -1, 1)};
    gc("linear (2,3,4)x(6,4)+b", &c, 3, l2, 1e-2);
    gc_input l3[3] = {IN(1, 4, 1, 1, 1, -1, 1), IN(2, 2, 4, 1, 1, -1, 1), IN(1, 2, 1, 1, 1, -1, 1)};
    gc("linear (4)x(2,4)+b", &c, 3, l3, 1e-2);
    l2[0].requires_grad = 0;
    gc("linear const x", &c, 3, l2, 1e-2);
    c.kind = K_LINEAR_NOBIAS;
    gc_input l4[2] = {IN(4, 2, 2, 3, 5, -1, 1), IN(2, 4, 5, 1, 1, -1, 1)};
    gc("linear 4-D no bias", &c, 2, l4, 1e-2);
}

static void test_grad_binary(void)
{
    /* {a shape, b shape}: equal shapes 1-D..4-D, then suffix broadcasts */
    struct { int na; int a[4]; int nb; int b[4]; } cases[] = {
        {1, {7}, 1, {7}}, {2, {3, 4}, 2, {3, 4}}, {3, {2, 3, 4}, 3, {2, 3, 4}}, {4, {2, 2, 3, 2}, 4, {2, 2, 3, 2}},
        {3, {2, 3, 5}, 1, {5}}, {3, {2, 3, 5}, 2, {3, 5}}, {4, {2, 3, 2, 4}, 3, {3, 2, 4}}, {2, {6, 1}, 1, {1}},
        {2, {300, 5}, 1, {5}},
    };
    int kinds[4] = {K_ADD, K_SUB, K_MUL, K_DIV};
    const char *names[4] = {"add", "sub", "mul", "div"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int k = 0; k < 4; k++) {
            op_ctx c = {.kind = kinds[k]};
            gc_input sp[2] = {IN(cases[i].na, cases[i].a[0], cases[i].a[1], cases[i].a[2], cases[i].a[3], -1, 1),
                              IN(cases[i].nb, cases[i].b[0], cases[i].b[1], cases[i].b[2], cases[i].b[3], -1, 1)};
            if (kinds[k] == K_DIV) { sp[1].lo = 0.5f; sp[1].hi = 2.0f; }
            char what[64];
            snprintf(what, sizeof what, "%s case %zu", names[k], i);
            gc(what, &c, 2, sp, 1e-2);
            if (i == 5) { sp[0].requires_grad = 0; gc(what, &c, 2, sp, 1e-2); }
        }
    op_ctx c = {.kind = K_MUL_SELF};
    gc_input sq[1] = {IN(2, 3, 3, 1, 1, -1, 1)};
    gc("mul(a, a) (aliased inputs)", &c, 1, sq, 1e-2);
    c.kind = K_ADD_CHANNEL;
    gc_input ch1[2] = {IN(4, 2, 3, 4, 5, -1, 1), IN(1, 3, 1, 1, 1, -1, 1)};
    gc("add_channel 4-D", &c, 2, ch1, 1e-2);
    gc_input ch2[2] = {IN(2, 4, 3, 1, 1, -1, 1), IN(1, 3, 1, 1, 1, -1, 1)};
    gc("add_channel 2-D", &c, 2, ch2, 1e-2);
    gc_input ch3[2] = {IN(3, 2, 5, 3, 1, -1, 1), IN(1, 5, 1, 1, 1, -1, 1)};
    gc("add_channel 3-D", &c, 2, ch3, 1e-2);
}

static void test_grad_unary(void)
{
    gc_input shapes[4] = {IN(1, 9, 1, 1, 1, 0, 0), IN(2, 3, 4, 1, 1, 0, 0), IN(3, 2, 3, 4, 1, 0, 0), IN(4, 2, 1, 3, 4, 0, 0)};
    struct { int kind; const char *name; float lo, hi, p0, p1; int away; } ops[] = {
        {K_AFFINE, "affine_scalar", -2, 2, -1.5f, 0.25f, 0}, {K_ABS, "abs", -1, 1, 0, 0, 1},
        {K_SIGMOID, "sigmoid", -4, 4, 0, 0, 0}, {K_TANH, "tanh", -2, 2, 0, 0, 0},
        {K_RELU, "relu", -1, 1, 0, 0, 1}, {K_SOFTPLUS, "softplus", -6, 6, 0, 0, 0},
        {K_LOG1P, "log1p_scaled", 0, 2, 10, 0, 0}, {K_SUM, "sum", -1, 1, 0, 0, 0}, {K_MEAN, "mean", -1, 1, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (int s = 0; s < 4; s++) {
            op_ctx c = {.kind = ops[k].kind, .p0 = ops[k].p0, .p1 = ops[k].p1, .away_from_zero = ops[k].away};
            gc_input sp = shapes[s];
            sp.lo = ops[k].lo;
            sp.hi = ops[k].hi;
            char what[64];
            snprintf(what, sizeof what, "%s %d-D", ops[k].name, sp.ndim);
            gc(what, &c, 1, &sp, 1e-3);
        }
    op_ctx c = {.kind = K_SUM};
    gc_input big = IN(1, 10000, 1, 1, 1, -1, 1);   /* more than one reduction block */
    double err = gradcheck_ex(build_op, &c, 1, &big, 7, 1e-2, GC_TOL, 1e-2, 50);
    CHECK_MSG(err < GC_TOL, "sum over 10000: %.3g", err);
}

static void test_grad_shape_ops(void)
{
    op_ctx c = {.kind = K_RESHAPE, .ndim = 2, .shape = {6, 4}};
    gc_input a3 = IN(3, 2, 3, 4, 1, -1, 1);
    gc("reshape (2,3,4)->(6,4)", &c, 1, &a3, 1e-2);

    gc_input a4 = IN(4, 2, 3, 4, 5, -1, 1);
    for (int axis = 0; axis < 4; axis++) {
        op_ctx s = {.kind = K_SLICE, .axis = axis, .start = 1, .len = a4.shape[axis] - 1};
        char what[64];
        snprintf(what, sizeof what, "slice axis %d", axis);
        gc(what, &s, 1, &a4, 1e-2);
    }
    op_ctx s1 = {.kind = K_SLICE, .axis = 0, .start = 2, .len = 3};
    gc_input a1 = IN(1, 8, 1, 1, 1, -1, 1);
    gc("slice 1-D", &s1, 1, &a1, 1e-2);

    for (int axis = 0; axis < 4; axis++) {   /* three inputs differing along axis */
        gc_input sp[3];
        for (int k = 0; k < 3; k++) {
            sp[k] = IN(4, 2, 3, 2, 3, -1, 1);
            sp[k].shape[axis] = k + 1;
        }
        sp[1].requires_grad = axis != 2;   /* one constant input in one case */
        op_ctx cc = {.kind = K_CONCAT, .n = 3, .axis = axis};
        char what[64];
        snprintf(what, sizeof what, "concat axis %d", axis);
        gc(what, &cc, 3, sp, 1e-2);
    }
    for (int axis = 0; axis < 3; axis++) {
        gc_input sp[2] = {IN(3, 2, 3, 4, 1, -1, 1), IN(3, 2, 3, 4, 1, -1, 1)};
        sp[1].shape[axis] = 2;
        op_ctx cc = {.kind = K_CONCAT, .n = 2, .axis = axis};
        gc("concat 3-D", &cc, 2, sp, 1e-2);
    }
    gc_input sp8[8];
    for (int k = 0; k < 8; k++) sp8[k] = IN(1, k + 1, 1, 1, 1, -1, 1);
    op_ctx c8 = {.kind = K_CONCAT, .n = 8, .axis = 0};
    gc("concat 8 x 1-D", &c8, 8, sp8, 1e-2);

    struct { int nd; int shape[4]; int perm[4]; } tr[] = {
        {2, {3, 5}, {1, 0}}, {3, {2, 3, 4}, {2, 0, 1}}, {3, {2, 3, 4}, {0, 2, 1}},
        {4, {2, 3, 4, 5}, {0, 2, 3, 1}}, {4, {2, 3, 4, 5}, {3, 2, 1, 0}}, {1, {4}, {0}},
    };
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
        op_ctx t = {.kind = K_TRANSPOSE};
        memcpy(t.perm, tr[i].perm, sizeof t.perm);
        gc_input sp = IN(tr[i].nd, tr[i].shape[0], tr[i].shape[1], tr[i].shape[2], tr[i].shape[3], -1, 1);
        char what[64];
        snprintf(what, sizeof what, "transpose case %zu", i);
        gc(what, &t, 1, &sp, 1e-2);
    }
}

static void test_grad_losses(void)
{
    op_ctx c = {.kind = K_SCE, .labels = {2, 0, 3, 3, 1, 0, 2}};
    gc_input x1 = IN(2, 5, 4, 1, 1, -3, 3);
    gc("softmax_cross_entropy (5,4)", &c, 1, &x1, 1e-2);
    gc_input x2 = IN(2, 7, 11, 1, 1, -3, 3);
    gc("softmax_cross_entropy (7,11)", &c, 1, &x2, 1e-2);

    gc_input shapes[3] = {IN(1, 9, 1, 1, 1, 0, 0), IN(3, 2, 3, 4, 1, 0, 0), IN(4, 2, 2, 2, 3, 0, 0)};
    for (int s = 0; s < 3; s++) {
        gc_input x = shapes[s], t = shapes[s], w = shapes[s];
        x.lo = -4; x.hi = 4;
        t = CONST_IN(t); t.lo = 0; t.hi = 1;
        w = CONST_IN(w); w.lo = 0.5f; w.hi = 2;
        gc_input sp[3] = {x, t, w};
        op_ctx b = {.kind = K_BCE};
        gc("bce_with_logits", &b, 2, sp, 1e-2);
        b.kind = K_BCEW;
        gc("bce_with_logits weighted", &b, 3, sp, 1e-2);
        gc_input m[2] = {x, x};
        op_ctx mc = {.kind = K_MSE};
        gc("mse", &mc, 2, m, 1e-2);
        m[1].requires_grad = 0;
        gc("mse const b", &mc, 2, m, 1e-2);
    }
}

static void test_grad_mask(void)
{
    gc_input shapes[3] = {IN(1, 7, 1, 1, 1, 0, 0), IN(3, 2, 3, 5, 1, 0, 0), IN(4, 2, 2, 3, 2, 0, 0)};
    for (int s = 0; s < 3; s++) {
        gc_input y = shapes[s], x = shapes[s], t = CONST_IN(shapes[s]);
        y.lo = -1; y.hi = 1;          /* pushed to |y| >= 0.15 by away_from_zero */
        x.lo = 0; x.hi = 3;
        t.lo = 0; t.hi = 2;
        gc_input sp[5] = {y, y, x, t, t};
        op_ctx c = {.kind = K_TF_MASK, .away_from_zero = 1};
        gc("tf_mask", &c, 3, sp, 1e-3);
        sp[2].requires_grad = 0;
        gc("tf_mask const x", &c, 3, sp, 1e-3);
        sp[2].requires_grad = 1;
        float gammas[3] = {0.05f, 0.0f, 0.5f};
        for (int k = 0; k < 3; k++) {
            gc_input d[4] = {x, x, t, t};
            op_ctx dc = {.kind = K_DISCRIM, .p0 = gammas[k]};
            gc("discriminative_loss", &dc, 4, d, 1e-2);
            op_ctx lc = {.kind = K_MASK_LAYER_LOSS, .p0 = gammas[k], .away_from_zero = 1};
            gc("mask layer + loss", &lc, 5, sp, 4e-3);
        }
        op_ctx ls = {.kind = K_MASK_LAYER_S, .p0 = 0.05f, .away_from_zero = 1};
        gc("mask layer s1,s2", &ls, 3, sp, 4e-3);
    }
}

/* ------------------------------------------------------------------ forward values */

static amt_tensor *input(amt_graph *g, int nd, int d0, int d1, int d2, int d3, const float *v)
{
    int s[4] = {d0, d1, d2, d3};
    amt_tensor *t = amt_graph_input(g, "in", nd, s, 1);
    if (t && v) memcpy(t->data, v, t->size * sizeof(float));
    return t;
}

static int close_all(const amt_tensor *t, const float *want, size_t n, double tol)
{
    if (!t || t->size != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)t->data[i] - want[i]) <= tol)) {
            fprintf(stderr, "  value %zu: got %.9g want %.9g\n", i, t->data[i], want[i]);
            return 0;
        }
    return 1;
}

static void test_forward_values(void)
{
    amt_graph *g = amt_graph_new(1, 1);
    const float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    amt_tensor *a = input(g, 2, 2, 2, 1, 1, A), *b = input(g, 2, 2, 2, 1, 1, B);
    amt_tensor *ab = amt_matmul(g, a, b, 0, 0), *atb = amt_matmul(g, a, b, 1, 0), *abt = amt_matmul(g, a, b, 0, 1);
    const float X6[6] = {0, 1, 2, 3, 4, 5}, B3[3] = {10, 20, 30};
    amt_tensor *x6 = input(g, 2, 2, 3, 1, 1, X6), *b3 = input(g, 1, 3, 1, 1, 1, B3);
    amt_tensor *add = amt_add(g, x6, b3), *div = amt_div(g, x6, b3);
    amt_tensor *ch = amt_add_channel(g, x6, input(g, 1, 3, 1, 1, 1, B3));
    amt_tensor *x6c = input(g, 3, 1, 2, 3, 1, X6);
    amt_tensor *ch2 = amt_add_channel(g, x6c, input(g, 1, 2, 1, 1, 1, B3));
    amt_tensor *lin = amt_linear(g, x6, input(g, 2, 2, 3, 1, 1, X6), input(g, 1, 2, 1, 1, 1, B3));
    const float EX[4] = {-100, 100, 0, -1};
    amt_tensor *ex = input(g, 1, 4, 1, 1, 1, EX);
    amt_tensor *sp = amt_softplus(g, ex), *sg = amt_sigmoid(g, ex), *rl = amt_relu(g, ex), *ab_ = amt_abs(g, ex);
    amt_tensor *aff = amt_affine_scalar(g, ex, 0.5f, 1.0f);
    amt_tensor *lg = amt_log1p_scaled(g, x6, 2.0f);
    float H[100];
    for (int i = 0; i < 100; i++) H[i] = (float)(i + 1);
    amt_tensor *h = input(g, 2, 10, 10, 1, 1, H);
    amt_tensor *sum = amt_sum(g, h), *mean = amt_mean(g, h);
    amt_tensor *sl = amt_slice(g, x6, 1, 1, 2);
    amt_tensor *cat_in[2] = {x6, sl};
    amt_tensor *cat = amt_concat(g, 2, cat_in, 1);
    int pt[2] = {1, 0};
    amt_tensor *tr = amt_transpose(g, x6, pt);
    int rs[1] = {6};
    amt_tensor *re = amt_reshape(g, x6, 1, rs);
    REQUIRE(ab && atb && abt && add && div && ch && ch2 && lin && sp && sg && rl && ab_ && aff && lg && sum && mean && sl && cat && tr && re);
    CHECK(re->data == x6->data);   /* a view, no copy */
    CHECK_OK(amt_graph_forward(g));
    CHECK(close_all(ab, (float[]){19, 22, 43, 50}, 4, 1e-6));
    CHECK(close_all(atb, (float[]){26, 30, 38, 44}, 4, 1e-6));
    CHECK(close_all(abt, (float[]){17, 23, 39, 53}, 4, 1e-6));
    CHECK(close_all(add, (float[]){10, 21, 32, 13, 24, 35}, 6, 1e-6));
    CHECK(close_all(div, (float[]){0, 0.05f, 2.0f / 30, 0.3f, 0.2f, 5.0f / 30}, 6, 1e-7));
    CHECK(close_all(ch, (float[]){10, 21, 32, 13, 24, 35}, 6, 1e-6));     /* (2,3): bias per column */
    CHECK(close_all(ch2, (float[]){10, 11, 12, 23, 24, 25}, 6, 1e-6));    /* (1,2,3): bias per row */
    /* lin: x (2,3) [[0,1,2],[3,4,5]], W (2,3) same, b (10,20): x W^T + b */
    CHECK(close_all(lin, (float[]){5 + 10, 14 + 20, 14 + 10, 50 + 20}, 4, 1e-5));
    CHECK(close_all(sp, (float[]){0, 100, logf(2), log1pf(expf(-1))}, 4, 1e-6));
    CHECK(close_all(sg, (float[]){0, 1, 0.5f, 1 / (1 + expf(1))}, 4, 1e-7));
    CHECK(close_all(rl, (float[]){0, 100, 0, 0}, 4, 0));
    CHECK(close_all(ab_, (float[]){100, 100, 0, 1}, 4, 0));
    CHECK(close_all(aff, (float[]){-49, 51, 1, 0.5f}, 4, 1e-6));
    CHECK(close_all(lg, (float[]){0, logf(3), logf(5), logf(7), logf(9), logf(11)}, 6, 1e-6));
    CHECK(sum->data[0] == 5050.0f);
    CHECK_NEAR(mean->data[0], 50.5, 1e-6);
    CHECK(close_all(sl, (float[]){1, 2, 4, 5}, 4, 0));
    CHECK(close_all(cat, (float[]){0, 1, 2, 1, 2, 3, 4, 5, 4, 5}, 10, 0));
    CHECK(cat->shape[0] == 2 && cat->shape[1] == 5);
    CHECK(close_all(tr, (float[]){0, 3, 1, 4, 2, 5}, 6, 0));
    CHECK(tr->shape[0] == 3 && tr->shape[1] == 2);
    for (int i = 0; i < 4; i++) CHECK(isfinite(sp->data[i]) && isfinite(sg->data[i]));
    amt_graph_free(g);
}

static void test_forward_losses(void)
{
    amt_graph *g = amt_graph_new(1, 1);
    int labels[3] = {0, 3, 1};
    amt_tensor *z = input(g, 2, 3, 4, 1, 1, NULL);   /* all-zero logits: loss = log K */
    amt_tensor *sce = amt_softmax_cross_entropy(g, z, labels);
    const float BX[4] = {0, 100, -100, 2}, BT[4] = {1, 0, 0, 0.5f};
    amt_tensor *bx = input(g, 1, 4, 1, 1, 1, BX), *bt = input(g, 1, 4, 1, 1, 1, BT);
    bt->requires_grad = 0;
    amt_tensor *bce = amt_bce_with_logits(g, bx, bt, NULL);
    amt_tensor *mse = amt_mse(g, bx, bt);
    const float Y1[2] = {1, -2}, Y2[2] = {3, 2}, X[2] = {8, 5};
    amt_tensor *y1 = input(g, 1, 2, 1, 1, 1, Y1), *y2 = input(g, 1, 2, 1, 1, 1, Y2), *x = input(g, 1, 2, 1, 1, 1, X);
    amt_mask_layer ml;
    CHECK_OK(amt_mask_layer_init(&ml, AMT_MASK_EPS, AMT_DISCRIM_GAMMA));
    amt_tensor *s2, *s1 = amt_mask_layer_forward(g, &ml, y1, y2, x, &s2);
    const float T1[2] = {2, 2}, T2[2] = {6, 3};
    amt_tensor *t1 = input(g, 1, 2, 1, 1, 1, T1), *t2 = input(g, 1, 2, 1, 1, 1, T2);
    amt_tensor *dl = amt_mask_layer_loss(g, &ml, s1, s2, t1, t2);
    REQUIRE(sce && bce && mse && s1 && s2 && dl);
    CHECK_OK(amt_graph_forward(g));
    CHECK_NEAR(sce->data[0], log(4.0), 1e-6);
    /* terms: log 2, 100, 0 (exp(-100) underflows), 2 - 1 + log(1 + e^-2) */
    CHECK_NEAR(bce->data[0], (log(2.0) + 100 + 0 + 1 + log1p(exp(-2.0))) / 4, 1e-5);
    CHECK_NEAR(mse->data[0], (1.0 + 10000 + 10000 + 2.25) / 4, 1e-2);
    CHECK_NEAR(s1->data[0], 2, 1e-6);
    CHECK_NEAR(s1->data[1], 2.5, 1e-6);
    CHECK(s1->data[0] + s2->data[0] == 8 && s1->data[1] + s2->data[1] == 5);
    /* s1 = (2, 2.5), s2 = (6, 2.5): L = mean((0, .5)^2) + mean((0, .5)^2) - 0.05 (mean((4, .5)^2) + mean((4, .5)^2)) */
    CHECK_NEAR(dl->data[0], 0.125 + 0.125 - 0.05 * (8.125 + 8.125), 1e-5);
    CHECK_OK(amt_graph_backward(g, sce));
    CHECK_NEAR(z->grad[0], (0.25 - 1) / 3, 1e-7);
    CHECK_NEAR(z->grad[1], 0.25 / 3, 1e-7);

    /* an invalid label: NaN loss, a message naming it, zero gradient for its row, no crash */
    labels[1] = 4;
    CHECK_OK(amt_graph_forward(g));
    CHECK(isnan(sce->data[0]));
    CHECK(strstr(amt_errmsg(), "softmax_cross_entropy: label 4 of row 1") != NULL);
    CHECK_OK(amt_graph_backward(g, sce));
    CHECK(z->grad[4] == 0 && z->grad[7] == 0);
    CHECK_NEAR(z->grad[0], (0.25 - 1) / 3, 1e-7);
    labels[1] = -1;
    CHECK_OK(amt_graph_forward(g));
    CHECK(isnan(sce->data[0]));
    labels[1] = 3;
    CHECK_OK(amt_graph_forward(g));
    CHECK_NEAR(sce->data[0], log(4.0), 1e-6);
    amt_graph_free(g);
}

static void test_concat_many(void)
{
    enum { N = 19 };   /* more than AMT_MAX_INPUTS: joined by a chain of concat nodes */
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *ts[N];
    for (int k = 0; k < N; k++) {
        float v[2] = {(float)(2 * k), (float)(2 * k + 1)};
        ts[k] = input(g, 2, 1, 2, 1, 1, v);
    }
    amt_tensor *c = amt_concat(g, N, ts, 0);
    REQUIRE(c && c->shape[0] == N && c->shape[1] == 2);
    amt_tensor *w = input(g, 2, N, 2, 1, 1, NULL);
    for (int i = 0; i < 2 * N; i++) w->data[i] = (float)i;
    w->requires_grad = 0;
    amt_tensor *l = amt_sum(g, amt_mul(g, c, w));
    REQUIRE(l);
    CHECK_OK(amt_graph_forward(g));
    int ok = 1;
    for (int i = 0; i < 2 * N; i++) ok &= c->data[i] == (float)i;
    CHECK(ok);
    CHECK_OK(amt_graph_backward(g, l));
    ok = 1;
    for (int k = 0; k < N; k++) ok &= ts[k]->grad[0] == (float)(2 * k) && ts[k]->grad[1] == (float)(2 * k + 1);
    CHECK(ok);
    amt_graph_free(g);
}

/* ------------------------------------------------------------------ golden (PyTorch) */

static float *gold(const char *name, size_t *n)
{
    return golden_get(GOLDEN, name, NULL, NULL, n);
}

/* relative error with a floor of 1e-3 x the largest reference magnitude (elements near 0) */
static double rel_err(const float *got, const float *want, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs((double)want[i]));
    return golden_max_rel(got, want, n, fmax(1e-3 * mx, 1e-30));
}

static void golden_sce(const char *tag)
{
    char nm[64];
    size_t n, nl, ng, n1;
    int nd, sh[8];
    snprintf(nm, sizeof nm, "%s_logits", tag);
    float *x = golden_get(GOLDEN, nm, &nd, sh, &n);
    snprintf(nm, sizeof nm, "%s_labels", tag);
    float *lf = gold(nm, &nl);
    snprintf(nm, sizeof nm, "%s_loss", tag);
    float *loss = gold(nm, &n1);
    snprintf(nm, sizeof nm, "%s_grad", tag);
    float *grad = gold(nm, &ng);
    if (!x || !lf || !loss || !grad) { free(x); free(lf); free(loss); free(grad); CHECK_MSG(0, "golden %s missing", tag); return; }
    int labels[64];
    for (size_t i = 0; i < nl && i < 64; i++) labels[i] = (int)lf[i];
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *t = input(g, 2, sh[0], sh[1], 1, 1, x);
    amt_tensor *l = amt_softmax_cross_entropy(g, t, labels);
    if (l && amt_graph_forward(g) == AMT_OK && amt_graph_backward(g, l) == AMT_OK) {
        CHECK_MSG(fabs(l->data[0] - loss[0]) <= GOLD_TOL * fabs(loss[0]), "%s loss %.9g vs torch %.9g", tag, l->data[0], loss[0]);
        double e = rel_err(t->grad, grad, ng);
        CHECK_MSG(e <= GOLD_TOL, "%s grad rel err %.3g", tag, e);
    } else CHECK_MSG(0, "%s: %s", tag, amt_errmsg());
    amt_graph_free(g);
    free(x); free(lf); free(loss); free(grad);
}

static void test_golden_softmax_ce(void)
{
    golden_sce("sce");
    golden_sce("sce_big");
}

static void test_golden_bce(void)
{
    size_t n, nt, nw, n1, n2, ng1, ng2;
    int nd, sh[8];
    float *x = golden_get(GOLDEN, "bce_logits", &nd, sh, &n), *t = gold("bce_targets", &nt), *w = gold("bce_weight", &nw);
    float *l1 = gold("bce_loss", &n1), *l2 = gold("bcew_loss", &n2), *g1 = gold("bce_grad", &ng1), *g2 = gold("bcew_grad", &ng2);
    if (x && t && w && l1 && l2 && g1 && g2) {
        for (int weighted = 0; weighted < 2; weighted++) {
            amt_graph *g = amt_graph_new(1, 1);
            amt_tensor *tx = input(g, 2, sh[0], sh[1], 1, 1, x);
            amt_tensor *tt = amt_graph_input(g, "t", 2, sh, 0), *tw = amt_graph_input(g, "w", 2, sh, 0);
            memcpy(tt->data, t, n * sizeof(float));
            memcpy(tw->data, w, n * sizeof(float));
            amt_tensor *l = amt_bce_with_logits(g, tx, tt, weighted ? tw : NULL);
            REQUIRE(l);
            CHECK_OK(amt_graph_forward(g));
            CHECK_OK(amt_graph_backward(g, l));
            float want = weighted ? l2[0] : l1[0];
            CHECK_MSG(fabs(l->data[0] - want) <= GOLD_TOL * fabs(want), "bce weighted=%d loss %.9g vs %.9g", weighted, l->data[0], want);
            double e = rel_err(tx->grad, weighted ? g2 : g1, n);
            CHECK_MSG(e <= GOLD_TOL, "bce weighted=%d grad rel err %.3g", weighted, e);
            amt_graph_free(g);
        }
    } else CHECK_MSG(0, "golden bce records missing");
    free(x); free(t); free(w); free(l1); free(l2); free(g1); free(g2);
}

/* Builds the mask layer + loss (or the cross term alone when cross) on the golden inputs,
 * runs forward + backward; fills grads of y1, y2, x. */
typedef struct { float loss; float *gy1, *gy2, *gx, *s1, *s2; } mask_run;

static int run_mask(const float *const *inp, size_t n, int nd, const int *sh, float gamma, int cross, mask_run *r)
{
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *t[5];
    for (int k = 0; k < 5; k++) {
        t[k] = amt_graph_input(g, "m", nd, sh, k < 3);
        if (t[k]) memcpy(t[k]->data, inp[k], n * sizeof(float));
    }
    amt_mask_layer ml;
    int rc = amt_mask_layer_init(&ml, AMT_MASK_EPS, gamma);
    amt_tensor *s2 = NULL, *s1 = amt_mask_layer_forward(g, &ml, t[0], t[1], t[2], &s2), *l;
    if (cross) l = amt_add(g, amt_mse(g, s1, t[4]), amt_mse(g, s2, t[3]));
    else l = amt_mask_layer_loss(g, &ml, s1, s2, t[3], t[4]);
    if (rc || !l || amt_graph_forward(g) || amt_graph_backward(g, l)) { amt_graph_free(g); return -1; }
    r->loss = l->data[0];
    memcpy(r->gy1, t[0]->grad, n * sizeof(float));
    memcpy(r->gy2, t[1]->grad, n * sizeof(float));
    memcpy(r->gx, t[2]->grad, n * sizeof(float));
    memcpy(r->s1, s1->data, n * sizeof(float));
    memcpy(r->s2, s2->data, n * sizeof(float));
    amt_graph_free(g);
    return 0;
}

static void test_golden_mask(void)
{
    const char *in_names[5] = {"mask_y1", "mask_y2", "mask_x", "mask_t1", "mask_t2"};
    float *inp[5] = {0};
    size_t n = 0, m;
    int nd = 0, sh[8];
    int ok = 1;
    for (int k = 0; k < 5; k++) {
        inp[k] = golden_get(GOLDEN, in_names[k], &nd, sh, &m);
        if (!inp[k]) ok = 0;
        n = m;
    }
    float *gs1 = gold("mask_s1", &m), *gs2 = gold("mask_s2", &m);
    mask_run runs[3];
    float *buf = calloc(15 * n + 1, sizeof(float));
    const char *tags[3] = {"g05", "g0", "cross"};
    float gammas[3] = {0.05f, 0.0f, 0.0f};
    REQUIRE(ok && gs1 && gs2 && buf);
    for (int r = 0; r < 3; r++) {
        runs[r].gy1 = buf + (5 * r + 0) * n; runs[r].gy2 = buf + (5 * r + 1) * n; runs[r].gx = buf + (5 * r + 2) * n;
        runs[r].s1 = buf + (5 * r + 3) * n; runs[r].s2 = buf + (5 * r + 4) * n;
        CHECK_MSG(run_mask((const float *const *)inp, n, nd, sh, gammas[r], r == 2, &runs[r]) == 0, "mask run %s: %s", tags[r], amt_errmsg());
        char nm[64];
        size_t k;
        snprintf(nm, sizeof nm, "mask_%s_loss", tags[r]);
        float *wl = gold(nm, &k);
        if (wl) CHECK_MSG(fabs(runs[r].loss - wl[0]) <= GOLD_TOL * fabs(wl[0]), "%s loss %.9g vs torch %.9g", tags[r], runs[r].loss, wl[0]);
        free(wl);
        const char *gn[3] = {"gy1", "gy2", "gx"};
        float *mine[3] = {runs[r].gy1, runs[r].gy2, runs[r].gx};
        for (int q = 0; q < 3; q++) {
            snprintf(nm, sizeof nm, "mask_%s_%s", tags[r], gn[q]);
            float *w = gold(nm, &k);
            CHECK_MSG(w && k == n, "golden %s", nm);
            if (w && k == n) {
                double e = rel_err(mine[q], w, n);
                CHECK_MSG(e <= GOLD_TOL, "%s rel err %.3g", nm, e);
            }
            free(w);
        }
    }
    double e1 = rel_err(runs[0].s1, gs1, n), e2 = rel_err(runs[0].s2, gs2, n);
    CHECK_MSG(e1 <= GOLD_TOL && e2 <= GOLD_TOL, "s1/s2 rel err %.3g %.3g", e1, e2);
    /* the gamma term: grad(gamma) = grad(0) - gamma grad(cross), and it is not negligible */
    double worst = 0, moved = 0;
    for (size_t i = 0; i < n; i++) {
        double want = runs[1].gy1[i] - 0.05 * runs[2].gy1[i];
        worst = fmax(worst, fabs(runs[0].gy1[i] - want));
        moved = fmax(moved, fabs(runs[0].gy1[i] - runs[1].gy1[i]));
        want = runs[1].gy2[i] - 0.05 * runs[2].gy2[i];
        worst = fmax(worst, fabs(runs[0].gy2[i] - want));
    }
    CHECK_MSG(worst < 1e-6, "gamma term mismatch %.3g", worst);
    CHECK_MSG(moved > 1e-3, "gamma 0.05 hardly changes the gradient (%.3g)", moved);
    CHECK_NEAR(runs[0].loss, runs[1].loss - 0.05 * runs[2].loss, 1e-6);
    for (int k = 0; k < 5; k++) free(inp[k]);
    free(gs1); free(gs2); free(buf);
}

/* ------------------------------------------------------------------ errors */

static void expect_fail(amt_graph *g, amt_tensor *r, const char *needle)
{
    (void)g;
    CHECK_MSG(r == NULL, "expected NULL for '%s'", needle);
    CHECK_MSG(strstr(amt_errmsg(), needle) != NULL, "message '%s' lacks '%s'", amt_errmsg(), needle);
}

static void test_shape_errors(void)
{
    amt_graph *g = amt_graph_new(1, 1);
    amt_tensor *a = input(g, 2, 2, 3, 1, 1, NULL), *b = input(g, 2, 4, 5, 1, 1, NULL), *v4 = input(g, 1, 4, 1, 1, 1, NULL);
    amt_tensor *c3 = input(g, 3, 2, 3, 4, 1, NULL), *a4 = input(g, 4, 2, 3, 4, 5, NULL);
    expect_fail(g, amt_matmul(g, a, b, 0, 0), "matmul: inner dims differ: a (2, 3) vs b (4, 5)");
    expect_fail(g, amt_matmul(g, c3, b, 0, 0), "matmul: needs 2-D");
    expect_fail(g, amt_linear(g, a, b, NULL), "linear: x (2, 3) and W (4, 5)");
    expect_fail(g, amt_linear(g, input(g, 2, 2, 5, 1, 1, NULL), b, input(g, 1, 3, 1, 1, 1, NULL)), "linear: bias (3) must be (4) for W (4, 5)");
    expect_fail(g, amt_add(g, a, v4), "add: shapes (2, 3) and (4) do not broadcast");
    expect_fail(g, amt_sub(g, v4, a), "sub: shapes (4) and (2, 3)");
    expect_fail(g, amt_mul(g, c3, a), "mul: shapes (2, 3, 4) and (2, 3)");
    expect_fail(g, amt_div(g, a, b), "div: shapes");
    expect_fail(g, amt_add_channel(g, c3, v4), "add_channel: a (2, 3, 4)");
    expect_fail(g, amt_log1p_scaled(g, a, -1), "log1p_scaled: scale");
    int s7[1] = {7};
    expect_fail(g, amt_reshape(g, a, 1, s7), "reshape: cannot reshape (2, 3) (6 values) to (7)");
    expect_fail(g, amt_slice(g, a, 1, 2, 2), "slice: axis 1 [2, 4) out of range for (2, 3)");
    expect_fail(g, amt_slice(g, a, 2, 0, 1), "slice: axis 2");
    amt_tensor *pair[2] = {a, b};
    expect_fail(g, amt_concat(g, 2, pair, 0), "concat: tensor 1 (4, 5) does not match tensor 0 (2, 3)");
    expect_fail(g, amt_concat(g, 2, pair, 3), "concat: axis 3");
    int bad_perm[4] = {0, 1, 1, 3};
    expect_fail(g, amt_transpose(g, a4, bad_perm), "transpose: perm is not a permutation of 0..3 for (2, 3, 4, 5)");
    int labels[2] = {0, 0};
    expect_fail(g, amt_softmax_cross_entropy(g, c3, labels), "softmax_cross_entropy: logits (2, 3, 4) must be 2-D");
    expect_fail(g, amt_softmax_cross_entropy(g, a, NULL), "softmax_cross_entropy: labels");
    expect_fail(g, amt_bce_with_logits(g, a, b, NULL), "bce_with_logits: logits (2, 3) and targets (4, 5)");
    expect_fail(g, amt_bce_with_logits(g, a, a, v4), "bce_with_logits: logits (2, 3) and weight (4)");
    expect_fail(g, amt_mse(g, a, c3), "mse: shapes (2, 3) and (2, 3, 4) differ");
    expect_fail(g, amt_tf_mask(g, a, a, c3, 1e-8f), "tf_mask: y1 (2, 3), y2 (2, 3) and x (2, 3, 4)");
    expect_fail(g, amt_tf_mask(g, a, a, a, 0), "tf_mask: eps");
    expect_fail(g, amt_discriminative_loss(g, a, a, a, b, 0.05f), "discriminative_loss: s1 (2, 3) and t2 (4, 5)");
    expect_fail(g, amt_discriminative_loss(g, a, a, a, a, -1), "discriminative_loss: gamma");
    amt_mask_layer ml;
    CHECK(amt_mask_layer_init(&ml, 0, 0.05f) == AMT_EINVAL && strstr(amt_errmsg(), "mask layer: eps"));
    CHECK(amt_mask_layer_init(&ml, 1e-8f, -0.1f) == AMT_EINVAL && strstr(amt_errmsg(), "mask layer: gamma"));
    /* NULL inputs propagate as NULL */
    CHECK(amt_add(g, NULL, a) == NULL && amt_relu(g, NULL) == NULL && amt_sum(g, NULL) == NULL);
    CHECK(amt_matmul(g, a, NULL, 0, 0) == NULL && amt_reshape(g, NULL, 1, s7) == NULL);
    amt_tensor *withnull[2] = {a, NULL};
    CHECK(amt_concat(g, 2, withnull, 0) == NULL && amt_mse(g, NULL, a) == NULL);
    CHECK(amt_tf_mask(g, a, NULL, a, 1e-8f) == NULL && amt_discriminative_loss(g, NULL, a, a, a, 0) == NULL);
    CHECK(amt_graph_forward(g) == AMT_EINVAL);   /* a failed build leaves the graph broken */
    amt_graph_free(g);
}

/* ------------------------------------------------------------------ inference graph, determinism */

static void test_inference_graph_has_no_grads(void)
{
    amt_graph *g = amt_graph_new(0, 1);
    amt_tensor *x = input(g, 2, 3, 4, 1, 1, NULL), *w = input(g, 2, 5, 4, 1, 1, NULL);
    amt_tensor *y = amt_sigmoid(g, amt_linear(g, x, w, NULL));
    int labels[3] = {0, 1, 4};
    amt_tensor *l = amt_softmax_cross_entropy(g, y, labels);
    REQUIRE(y && l);
    CHECK(x->grad == NULL && y->grad == NULL && l->grad == NULL);
    CHECK_OK(amt_graph_forward(g));
    CHECK_NEAR(y->data[0], 0.5, 1e-7);
    CHECK_NEAR(l->data[0], log(5.0), 1e-6);
    amt_graph_free(g);
}

static void run_big(int threads, float *out_sum, float *gb, float *gl, size_t nb)
{
    amt_set_threads(threads);
    amt_graph *g = amt_graph_new(1, 1);
    int sa[3] = {64, 40, (int)nb}, sb[1] = {(int)nb};
    amt_tensor *a = amt_graph_input(g, "a", 3, sa, 1), *b = amt_graph_input(g, "b", 1, sb, 1);
    amt_rng r;
    amt_rng_seed(&r, 5);
    for (size_t i = 0; i < a->size; i++) a->data[i] = (float)amt_rng_uniform(&r) * 2 - 1;
    for (size_t i = 0; i < b->size; i++) b->data[i] = (float)amt_rng_uniform(&r) + 0.5f;
    amt_tensor *t = amt_tanh(g, amt_mul(g, a, b));
    amt_tensor *s = amt_mean(g, t);
    amt_tensor *t2 = amt_graph_input(g, "t", 3, sa, 0);
    amt_tensor *l = amt_add(g, s, amt_bce_with_logits(g, t, t2, NULL));
    if (!l || amt_graph_forward(g) || amt_graph_backward(g, l)) { CHECK_MSG(0, "big run: %s", amt_errmsg()); amt_graph_free(g); return; }
    *out_sum = l->data[0];
    memcpy(gb, b->grad, nb * sizeof(float));
    memcpy(gl, a->grad, 64 * sizeof(float));
    amt_graph_free(g);
}

static void test_deterministic_across_threads(void)
{
    enum { NB = 300 };
    float s1 = 0, s2 = 1, gb1[NB], gb2[NB], ga1[64], ga2[64];
    int old = amt_get_threads();
    run_big(1, &s1, gb1, ga1, NB);
    run_big(2, &s2, gb2, ga2, NB);
    amt_set_threads(old);
    CHECK(s1 == s2);
    CHECK(memcmp(gb1, gb2, sizeof gb1) == 0);
    CHECK(memcmp(ga1, ga2, sizeof ga1) == 0);
}

/* ------------------------------------------------------------------ Linear layer */

static void test_linear_layer(void)
{
    amt_params ps;
    amt_params_init(&ps);
    amt_rng rng;
    amt_rng_seed(&rng, 3);
    amt_linear_layer l;
    CHECK_OK(amt_linear_layer_init(&l, &ps, "fc", 20, 30, 1, &rng));
    REQUIRE(l.weight && l.bias);
    CHECK(l.weight->ndim == 2 && l.weight->shape[0] == 30 && l.weight->shape[1] == 20);
    CHECK(l.bias->ndim == 1 && l.bias->shape[0] == 30);
    CHECK(amt_params_find(&ps, "fc/weight") && amt_params_find(&ps, "fc/bias"));
    float a = sqrtf(6.0f / 50), mx = 0;
    double mean = 0;
    for (size_t i = 0; i < l.weight->size; i++) {
        CHECK(fabsf(l.weight->data[i]) <= a);
        mx = fmaxf(mx, fabsf(l.weight->data[i]));
        mean += l.weight->data[i];
    }
    CHECK(mx > 0.9f * a);                                  /* spans the Glorot range */
    CHECK(fabs(mean / l.weight->size) < 0.1 * a);
    for (int j = 0; j < 30; j++) CHECK(l.bias->data[j] == 0);
    for (int j = 0; j < 30; j++) l.bias->data[j] = 0.01f * j;

    amt_graph *g = amt_graph_new(1, 1);
    int xs[3] = {2, 3, 20};
    amt_tensor *x = amt_graph_input(g, "x", 3, xs, 0);
    for (size_t i = 0; i < x->size; i++) x->data[i] = (float)amt_rng_uniform(&rng) - 0.5f;
    amt_tensor *y = amt_linear_layer_forward(g, &l, x);
    REQUIRE(y);
    CHECK(y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 3 && y->shape[2] == 30);
    CHECK(y->grad != NULL);   /* the weights require a gradient */
    CHECK_OK(amt_graph_forward(g));
    double worst = 0;
    for (int r = 0; r < 6; r++)
        for (int o = 0; o < 30; o++) {
            double s = l.bias->data[o];
            for (int i = 0; i < 20; i++) s += (double)x->data[r * 20 + i] * l.weight->data[o * 20 + i];
            worst = fmax(worst, fabs(s - y->data[r * 30 + o]));
        }
    CHECK_MSG(worst < 1e-5, "linear layer vs manual matmul: %.3g", worst);
    amt_tensor *loss = amt_sum(g, y);
    CHECK_OK(amt_graph_forward(g));
    CHECK_OK(amt_graph_backward(g, loss));
    CHECK_NEAR(l.bias->grad[7], 6, 1e-6);                  /* d sum / d b = rows */
    double gw = 0;
    for (int r = 0; r < 6; r++) gw += x->data[r * 20 + 3];
    CHECK_NEAR(l.weight->grad[5 * 20 + 3], gw, 1e-5);
    amt_graph_free(g);

    amt_linear_layer nb;
    CHECK_OK(amt_linear_layer_init(&nb, &ps, "fc2", 4, 2, 0, &rng));
    CHECK(nb.bias == NULL);
    CHECK(amt_linear_layer_init(&nb, &ps, "fc3", 0, 2, 1, &rng) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "fc3") != NULL);
    CHECK(amt_linear_layer_init(&nb, &ps, "fc", 4, 2, 1, &rng) != AMT_OK);   /* duplicate name */
    amt_graph *g2 = amt_graph_new(0, 1);
    int bad[2] = {5, 7};
    amt_tensor *xb = amt_graph_input(g2, "x", 2, bad, 0);
    CHECK(amt_linear_layer_forward(g2, &l, xb) == NULL);
    CHECK(strstr(amt_errmsg(), "linear: x (5, 7) and W (30, 20)") != NULL);
    amt_graph_free(g2);
    amt_params_free(&ps);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_grad_matmul_linear);
    RUN(test_grad_binary);
    RUN(test_grad_unary);
    RUN(test_grad_shape_ops);
    RUN(test_grad_losses);
    RUN(test_grad_mask);
    RUN(test_forward_values);
    RUN(test_forward_losses);
    RUN(test_concat_many);
    RUN(test_golden_softmax_ce);
    RUN(test_golden_bce);
    RUN(test_golden_mask);
    RUN(test_shape_errors);
    RUN(test_inference_graph_has_no_grads);
    RUN(test_deterministic_across_threads);
    RUN(test_linear_layer);
    return TEST_DONE();
}
