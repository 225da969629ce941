#include "graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

amt_graph *amt_graph_new(int with_grad, uint64_t seed)
{
    amt_graph *g = calloc(1, sizeof *g);
    if (!g) { amt_error(AMT_ENOMEM, "out of memory creating a graph"); return NULL; }
    amt_arena_init(&g->arena, 0);
    g->with_grad = with_grad ? 1 : 0;
    g->training = g->with_grad;
    g->seed = seed;
    return g;
}

void amt_graph_free(amt_graph *g)
{
    if (!g) return;
    amt_arena_free(&g->arena);
    free(g->nodes);
    free(g->owned);
    free(g);
}

void *amt_graph_alloc(amt_graph *g, size_t bytes)
{
    void *p = amt_arena_alloc(&g->arena, bytes);
    if (!p) g->broken = 1;
    return p;
}

float *amt_graph_floats(amt_graph *g, size_t n) { return amt_graph_alloc(g, n * sizeof(float)); }

amt_tensor *amt_graph_fail(amt_graph *g, int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    amt_error(code, "%s", buf);
    g->broken = 1;
    return NULL;
}

static int own(amt_graph *g, amt_tensor *t)
{
    if (g->n_owned == g->cap_owned) {
        int cap = g->cap_owned ? 2 * g->cap_owned : 64;
        amt_tensor **o = realloc(g->owned, (size_t)cap * sizeof *o);
        if (!o) { g->broken = 1; return amt_error(AMT_ENOMEM, "out of memory building graph"); }
        g->owned = o;
        g->cap_owned = cap;
    }
    g->owned[g->n_owned++] = t;
    return AMT_OK;
}

static amt_tensor *new_tensor(amt_graph *g, const char *name, int ndim, const int *shape, int grad)
{
    amt_tensor *t = amt_graph_alloc(g, sizeof *t);
    if (!t) return NULL;
    if (amt_tensor_set_shape(t, ndim, shape) != AMT_OK) { g->broken = 1; return NULL; }
    t->name = name;
    t->data = amt_graph_floats(g, t->size);
    if (!t->data) return NULL;
    if (grad) {
        t->requires_grad = 1;
        t->grad = amt_graph_floats(g, t->size);
        if (!t->grad) return NULL;
        if (own(g, t) != AMT_OK) return NULL;
    }
    return t;
}

amt_tensor *amt_graph_input(amt_graph *g, const char *name, int ndim, const int *shape, int requires_grad)
{
    return new_tensor(g, name, ndim, shape, requires_grad && g->with_grad);
}

amt_tensor *amt_graph_output(amt_graph *g, int ndim, const int *shape, int n_in, amt_tensor *const *in)
{
    int grad = 0;
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) return NULL;
        if (in[i]->requires_grad) grad = 1;
    }
    return new_tensor(g, NULL, ndim, shape, grad && g->with_grad);
}

amt_tensor *amt_graph_view(amt_graph *g, amt_tensor *src, int ndim, const int *shape)
{
    if (!src) return NULL;
    amt_tensor *t = amt_graph_alloc(g, sizeof *t);
    if (!t) return NULL;
    if (amt_tensor_set_shape(t, ndim, shape) != AMT_OK) { g->broken = 1; return NULL; }
    if (t->size != src->size) {
        char a[64], b[64];
        return amt_graph_fail(g, AMT_EINVAL, "view: cannot view %s (%zu values) as %s",
                              amt_shape_str(src, a, sizeof a), src->size, amt_shape_str(t, b, sizeof b));
    }
    t->data = src->data;
    t->grad = src->grad;
    t->requires_grad = src->requires_grad;
    t->name = src->name;
    return t;
}

amt_node *amt_graph_node(amt_graph *g, const amt_op *op, amt_tensor *out, int n_in, amt_tensor *const *in, void *attr)
{
    if (!out) { g->broken = 1; return NULL; }
    if (n_in > AMT_MAX_INPUTS) { amt_graph_fail(g, AMT_EINTERNAL, "%s: %d inputs (max %d)", op->name, n_in, AMT_MAX_INPUTS); return NULL; }
    for (int i = 0; i < n_in; i++)
        if (!in[i]) { g->broken = 1; return NULL; }
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        amt_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) { amt_graph_fail(g, AMT_ENOMEM, "out of memory building graph"); return NULL; }
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    amt_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++) n->in[i] = in[i];
    n->out = out;
    n->attr = attr;
    return n;
}

int amt_graph_forward(amt_graph *g)
{
    if (g->broken) return amt_error(AMT_EINVAL, "graph failed to build; cannot run it");
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].op->forward(g, &g->nodes[i]);
    g->step++;
    return AMT_OK;
}

int amt_graph_backward(amt_graph *g, amt_tensor *loss)
{
    if (g->broken) return amt_error(AMT_EINVAL, "graph failed to build; cannot run it");
    if (!g->with_grad) return amt_error(AMT_EINVAL, "backward on a graph built without gradients");
    if (!loss || !loss->grad) return amt_error(AMT_EINVAL, "backward: the loss has no gradient (does it depend on any parameter?)");
    if (loss->size != 1) return amt_error(AMT_EINVAL, "backward: the loss must be a scalar, it has %zu values", loss->size);
    for (int i = 0; i < g->n_owned; i++) memset(g->owned[i]->grad, 0, g->owned[i]->size * sizeof(float));
    loss->grad[0] = 1.0f;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        amt_node *n = &g->nodes[i];
        if (!n->out->grad || !n->op->backward) continue;
        int any = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k]->grad) any = 1;
        if (any) n->op->backward(g, n);
    }
    return AMT_OK;
}

size_t amt_graph_bytes(const amt_graph *g) { return g->arena.reserved; }
