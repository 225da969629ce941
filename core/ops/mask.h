/* core/ops/mask.h: the time-frequency masking of Huang et al. 2014 and its
 * discriminative loss, fused. */
#ifndef AMT_OP_MASK_H
#define AMT_OP_MASK_H

#include "../graph.h"

#define AMT_MASK_EPS 1e-8f           /* eps of the mask denominator (as the reference) */
#define AMT_DISCRIM_GAMMA 0.05f      /* default gamma of the discriminative loss */

/* s1 = |y1| / (|y1| + |y2| + eps) * x; all three the same shape. (s2 = x - s1 with
 * amt_sub.) Gradients to y1 and y2 (and x if it requires one); d|y|/dy = sign(y), 0 at 0.
 * Shapes checked ("tf_mask: ..."). */
amt_tensor *amt_tf_mask(amt_graph *g, amt_tensor *y1, amt_tensor *y2, amt_tensor *x, float eps);
/* L = mse(s1,t1) + mse(s2,t2) - gamma (mse(s1,t2) + mse(s2,t1)), each a mean over
 * elements. t1, t2 are targets (not differentiated). gamma >= 0. All four the same shape.
 *   dL/ds1 = 2/n ((s1 - t1) - gamma (s1 - t2)),  dL/ds2 = 2/n ((s2 - t2) - gamma (s2 - t1)). */
amt_tensor *amt_discriminative_loss(amt_graph *g, amt_tensor *s1, amt_tensor *s2, amt_tensor *t1, amt_tensor *t2, float gamma);

#endif
