/* layers/linear.h: fully connected layer y = x W^T + b.
 * The pattern every layer follows: a struct holding its sizes and parameter tensors
 * (owned by the model's amt_params, named "<name>/weight", "<name>/bias"); _init creates
 * and initialises the parameters once; _forward adds its ops to a graph and may be called
 * for any number of graphs (training and inference share the parameters). */
#ifndef AMT_LAYER_LINEAR_H
#define AMT_LAYER_LINEAR_H

#include "core/graph.h"
#include "core/param.h"
#include "core/rng.h"

typedef struct amt_linear_layer {
    int in, out;
    amt_tensor *weight;   /* (out, in), Glorot uniform */
    amt_tensor *bias;     /* (out), zeros; NULL without bias */
} amt_linear_layer;

/* Creates "<name>/weight" (and "<name>/bias" when bias != 0) in ps. */
int amt_linear_layer_init(amt_linear_layer *l, amt_params *ps, const char *name, int in, int out, int bias, amt_rng *rng);
/* x (..., in) -> (..., out). */
amt_tensor *amt_linear_layer_forward(amt_graph *g, const amt_linear_layer *l, amt_tensor *x);

#endif
