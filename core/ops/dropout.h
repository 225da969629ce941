/* core/ops/dropout.h: inverted dropout. In training mode (g->training) each element is
 * kept with probability 1 - p (p quantised to 1/65536) and scaled by 1 / (1 - p); the mask
 * is a counter-based hash (splitmix64, as amt_hash64) of (g->seed, g->step, node index,
 * element index), so it changes every forward and does not depend on the thread count;
 * the backward uses the mask of the last forward. Identity in eval mode. */
#ifndef AMT_OP_DROPOUT_H
#define AMT_OP_DROPOUT_H

#include "../graph.h"

amt_tensor *amt_dropout(amt_graph *g, amt_tensor *x, float p);

#endif
