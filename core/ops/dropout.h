/* core/ops/dropout.h: inverted dropout. In training mode each element is kept with
 * probability 1 - p and scaled by 1 / (1 - p); the mask comes from amt_hash_uniform keyed
 * by (g->seed, g->step, node) so it does not depend on the thread count. Identity in eval
 * mode. */
#ifndef AMT_OP_DROPOUT_H
#define AMT_OP_DROPOUT_H

#include "../graph.h"

amt_tensor *amt_dropout(amt_graph *g, amt_tensor *x, float p);

#endif
