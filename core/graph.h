/* core/graph.h: a computation graph built once for fixed shapes, then replayed.
 *
 * Building: ops (the headers in core/ops/) append nodes in topological order and take every buffer
 * they need (outputs, gradients, saved state, workspaces) from the graph's arena. After
 * building, amt_graph_forward / amt_graph_backward allocate nothing.
 *
 * Gradients: a graph made with with_grad = 1 gives an output a gradient buffer when any
 * input requires a gradient (parameters and amt_graph_input(..., requires_grad=1)).
 * amt_graph_backward(g, loss) zeroes the gradients of the graph's own tensors, seeds
 * d(loss) = 1 and runs the nodes in reverse; parameter gradients ACCUMULATE (call
 * amt_params_zero_grad between steps). A graph made with with_grad = 0 keeps no gradient
 * buffers and no backward-only state: that is the inference graph.
 *
 * Mode: g->training (default = with_grad) selects dropout on/off and batch-norm batch vs
 * running statistics; it can be switched between forward calls (validation with the
 * training graph).
 *
 * Errors while building: a builder returns NULL and records the message; builders given
 * a NULL input return NULL, so a model can check once at the end. A graph that failed
 * to build refuses to run. */
#ifndef AMT_GRAPH_H
#define AMT_GRAPH_H

#include <stdint.h>

#include "arena.h"
#include "tensor.h"

#define AMT_MAX_INPUTS 8

typedef struct amt_graph amt_graph;
typedef struct amt_node amt_node;

typedef void (*amt_op_fn)(amt_graph *g, amt_node *n);

/* An operation kind: forward computes n->out from n->in; backward reads n->out->grad and
 * ADDS into n->in[i]->grad for every input whose grad is non-NULL. */
typedef struct amt_op {
    const char *name;
    amt_op_fn forward;
    amt_op_fn backward;   /* NULL: the op has no gradient (e.g. a constant input) */
} amt_op;

struct amt_node {
    const amt_op *op;
    int n_in;
    amt_tensor *in[AMT_MAX_INPUTS];
    amt_tensor *out;
    void *attr;           /* op-specific attributes and saved buffers, in the arena */
};

struct amt_graph {
    amt_arena arena;
    amt_node *nodes;
    int n_nodes, cap_nodes;
    amt_tensor **owned;   /* tensors whose grad this graph zeroes before backward */
    int n_owned, cap_owned;
    int with_grad;        /* built for training (gradient buffers exist) */
    int training;         /* dropout active, batch norm uses batch statistics */
    uint64_t seed;        /* base of the counter-based random streams (dropout) */
    uint64_t step;        /* forward calls so far; part of each dropout stream key */
    int broken;           /* a build error happened: forward/backward refuse */
};

/* New empty graph, or NULL (error set). seed feeds dropout masks. */
amt_graph *amt_graph_new(int with_grad, uint64_t seed);
/* Frees the graph, its arena and all graph-owned tensors (not parameters). */
void amt_graph_free(amt_graph *g);

/* Zeroed, 64-byte aligned memory living as long as g; NULL (error set, graph marked
 * broken) when out of memory. For op attributes, saved state and workspaces. */
void *amt_graph_alloc(amt_graph *g, size_t bytes);
/* Floats from the arena, as amt_graph_alloc(n * sizeof(float)). */
float *amt_graph_floats(amt_graph *g, size_t n);

/* An input placeholder whose data the caller fills before each forward. With
 * requires_grad (and a with_grad graph) it also gets a gradient (used by gradient
 * checks). */
amt_tensor *amt_graph_input(amt_graph *g, const char *name, int ndim, const int *shape, int requires_grad);

/* A new graph-owned output tensor for an op with the given inputs: data always, a grad
 * buffer when g->with_grad and any input requires a gradient. NULL if any input is
 * NULL or the shape is bad. */
amt_tensor *amt_graph_output(amt_graph *g, int ndim, const int *shape, int n_in, amt_tensor *const *in);

/* A tensor sharing src's data and grad with another shape of the same size (reshape
 * without copying; its backward is a no-op because gradients alias). */
amt_tensor *amt_graph_view(amt_graph *g, amt_tensor *src, int ndim, const int *shape);

/* Appends a node computing out from in[0..n_in). Returns the node or NULL (error set)
 * when any of out/in is NULL. */
amt_node *amt_graph_node(amt_graph *g, const amt_op *op, amt_tensor *out, int n_in, amt_tensor *const *in, void *attr);

/* Marks the graph broken with the current error and returns NULL: for builders,
 * `return amt_graph_fail(g, AMT_EINVAL, "conv2d: ...")`. */
amt_tensor *amt_graph_fail(amt_graph *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs every node forward; increments g->step. AMT_OK or an error if the graph is broken. */
int amt_graph_forward(amt_graph *g);
/* Reverse pass from a scalar (size 1) loss; see the header comment. */
int amt_graph_backward(amt_graph *g, amt_tensor *loss);

/* Bytes the graph's arena holds (its whole memory besides parameters). */
size_t amt_graph_bytes(const amt_graph *g);

#endif
