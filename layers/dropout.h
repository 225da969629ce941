/* layers/dropout.h: Dropout (no parameters), see core/ops/dropout.h: active only while
 * g->training; masks keyed by (graph seed, step, node). */
#ifndef AMT_LAYER_DROPOUT_H
#define AMT_LAYER_DROPOUT_H

#include "core/graph.h"

typedef struct amt_dropout_layer { float p; } amt_dropout_layer;

/* p: drop probability in [0, 1). */
int amt_dropout_layer_init(amt_dropout_layer *l, float p);
amt_tensor *amt_dropout_layer_forward(amt_graph *g, const amt_dropout_layer *l, amt_tensor *x);

#endif
