/* tests/gradcheck.h: finite-difference gradient checks for ops and layers.
 *
 * build(g, in, ctx) builds the op under test from the graph inputs in[0..n) and returns
 * its output y. gradcheck forms L = sum(y * r) with fixed random r (its own op, so the
 * check depends on no other op), runs backward, then compares every input's analytic
 * gradient with (L(x + eps) - L(x - eps)) / (2 eps), L accumulated in double. It checks
 * up to max_points elements per input (all when 0). Returns the worst error
 *   |analytic - numeric| / max(atol_floor, |analytic|, |numeric|)
 * and prints the first element beyond tol. g->step is reset before each forward so
 * dropout masks stay fixed. */
#ifndef AMT_GRADCHECK_H
#define AMT_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/amt.h"

typedef amt_tensor *(*gc_build_fn)(amt_graph *g, amt_tensor **in, void *ctx);

typedef struct gc_input {
    int ndim;
    int shape[4];
    int requires_grad;   /* 0: a constant input (targets, masks) */
    float lo, hi;        /* values drawn uniform in [lo, hi] (both 0: [-1, 1]) */
} gc_input;

typedef struct gc_dot_attr { float *r; double value; } gc_dot_attr;

static void gc_dot_fwd(amt_graph *g, amt_node *n)
{
    (void)g;
    gc_dot_attr *a = n->attr;
    const amt_tensor *y = n->in[0];
    double s = 0;
    for (size_t i = 0; i < y->size; i++) s += (double)y->data[i] * a->r[i];
    a->value = s;
    n->out->data[0] = (float)s;
}
static void gc_dot_bwd(amt_graph *g, amt_node *n)
{
    (void)g;
    gc_dot_attr *a = n->attr;
    amt_tensor *y = n->in[0];
    float go = n->out->grad[0];
    if (y->grad)
        for (size_t i = 0; i < y->size; i++) y->grad[i] += go * a->r[i];
}
static const amt_op gc_dot_op = {"gc_dot", gc_dot_fwd, gc_dot_bwd};

static inline double gradcheck_ex(gc_build_fn build, void *ctx, int n_in, const gc_input *spec,
                           uint64_t seed, double eps, double tol, double atol_floor, int max_points)
{
    amt_graph *g = amt_graph_new(1, seed);
    amt_tensor *in[AMT_MAX_INPUTS] = {0};
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    for (int i = 0; i < n_in; i++) {
        in[i] = amt_graph_input(g, "x", spec[i].ndim, spec[i].shape, spec[i].requires_grad);
        float lo = spec[i].lo, hi = spec[i].hi;
        if (lo == 0 && hi == 0) { lo = -1; hi = 1; }
        for (size_t k = 0; in[i] && k < in[i]->size; k++)
            in[i]->data[k] = lo + (hi - lo) * (float)amt_rng_uniform(&rng);
    }
    amt_tensor *y = build(g, in, ctx);
    if (!y) { fprintf(stderr, "  gradcheck: build failed: %s\n", amt_errmsg()); amt_graph_free(g); return INFINITY; }
    gc_dot_attr *a = amt_graph_alloc(g, sizeof *a);
    a->r = amt_graph_floats(g, y->size);
    for (size_t k = 0; k < y->size; k++) a->r[k] = (float)(amt_rng_uniform(&rng) * 2 - 1);
    int one = 1;
    amt_tensor *loss = amt_graph_output(g, 1, &one, 1, &y);
    amt_graph_node(g, &gc_dot_op, loss, 1, &y, a);
    g->step = 0;
    if (amt_graph_forward(g) != AMT_OK || amt_graph_backward(g, loss) != AMT_OK) {
        fprintf(stderr, "  gradcheck: run failed: %s\n", amt_errmsg());
        amt_graph_free(g);
        return INFINITY;
    }
    double worst = 0;
    int reported = 0;
    for (int i = 0; i < n_in; i++) {
        if (!spec[i].requires_grad) continue;
        amt_tensor *x = in[i];
        if (!x->grad) { fprintf(stderr, "  gradcheck: input %d has no gradient\n", i); worst = INFINITY; continue; }
        float *ana = malloc(x->size * sizeof(float));
        memcpy(ana, x->grad, x->size * sizeof(float));
        size_t npts = (max_points > 0 && (size_t)max_points < x->size) ? (size_t)max_points : x->size;
        for (size_t p = 0; p < npts; p++) {
            size_t k = npts == x->size ? p : (size_t)amt_rng_below(&rng, x->size);
            float orig = x->data[k];
            x->data[k] = orig + (float)eps;
            g->step = 0; amt_graph_forward(g);
            double lp = a->value;
            x->data[k] = orig - (float)eps;
            g->step = 0; amt_graph_forward(g);
            double lm = a->value;
            x->data[k] = orig;
            double num = (lp - lm) / (2 * eps);
            double den = fmax(atol_floor, fmax(fabs(num), fabs((double)ana[k])));
            double err = fabs(num - (double)ana[k]) / den;
            if (err > worst) worst = err;
            if (err > tol && !reported) {
                fprintf(stderr, "  gradcheck: input %d element %zu: analytic %.7g numeric %.7g (error %.3g)\n",
                        i, k, ana[k], num, err);
                reported = 1;
            }
        }
        free(ana);
    }
    g->step = 0;
    amt_graph_forward(g);   /* leave outputs consistent with unperturbed inputs */
    amt_graph_free(g);
    return worst;
}

/* Defaults: eps 1e-3, all points, error floor 1e-2 (absolute gradients below ~1e-4 are
 * compared absolutely). */
static inline double gradcheck(gc_build_fn build, void *ctx, int n_in, const gc_input *spec, uint64_t seed)
{
    return gradcheck_ex(build, ctx, n_in, spec, seed, 1e-3, 1e-2, 1e-2, 0);
}

#endif
