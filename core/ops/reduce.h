/* core/ops/reduce.h: reductions to a scalar (shape (1)), accumulated in double in a fixed
 * order so results do not depend on the thread count. */
#ifndef AMT_OP_REDUCE_H
#define AMT_OP_REDUCE_H

#include "../graph.h"

amt_tensor *amt_sum(amt_graph *g, amt_tensor *a);
amt_tensor *amt_mean(amt_graph *g, amt_tensor *a);

#endif
