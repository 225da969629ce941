/* core/ops/loss.h: losses, each returning a scalar (shape (1)) mean over the batch. */
#ifndef AMT_OP_LOSS_H
#define AMT_OP_LOSS_H

#include "../graph.h"

/* Softmax cross-entropy: logits (N, K), labels an int array of N class indices in [0, K)
 * read at forward time (the caller owns it and fills it before each forward). Mean over N. */
amt_tensor *amt_softmax_cross_entropy(amt_graph *g, amt_tensor *logits, const int *labels);
/* Binary cross-entropy with logits, stable form; targets same shape, values in [0, 1]
 * (a graph input, not differentiated). weight: optional per-element weights (NULL = 1),
 * same shape. Mean over all elements. */
amt_tensor *amt_bce_with_logits(amt_graph *g, amt_tensor *logits, amt_tensor *targets, amt_tensor *weight);
/* Mean squared error mean((a - b)^2) over all elements; gradients flow to both. */
amt_tensor *amt_mse(amt_graph *g, amt_tensor *a, amt_tensor *b);

#endif
