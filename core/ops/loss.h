/* core/ops/loss.h: losses, each returning a scalar (shape (1)) mean over the batch,
 * accumulated in double in a fixed order (independent of the thread count). */
#ifndef AMT_OP_LOSS_H
#define AMT_OP_LOSS_H

#include "../graph.h"

/* Softmax cross-entropy: logits (N, K), labels an int array of N class indices in [0, K)
 * read at forward time (the caller owns it and fills it before each forward). Mean over N,
 * via a stable log-sum-exp. A label outside [0, K) is never used as an index: forward makes
 * the loss NaN (so a training loop checking isfinite stops) and records
 * "softmax_cross_entropy: label L of row R outside [0, K)" with amt_error on the calling
 * thread; backward gives such a row a zero gradient. */
amt_tensor *amt_softmax_cross_entropy(amt_graph *g, amt_tensor *logits, const int *labels);
/* Binary cross-entropy with logits, stable form max(x,0) - x t + log(1 + exp(-|x|));
 * targets same shape, values in [0, 1] (a graph input, not differentiated). weight:
 * optional per-element weights (NULL = 1), same shape, not differentiated. Mean over all
 * elements (sum of w * l / count, as PyTorch's weight= argument). */
amt_tensor *amt_bce_with_logits(amt_graph *g, amt_tensor *logits, amt_tensor *targets, amt_tensor *weight);
/* Mean squared error mean((a - b)^2) over all elements; gradients flow to both. */
amt_tensor *amt_mse(amt_graph *g, amt_tensor *a, amt_tensor *b);

#endif
