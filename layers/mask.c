/* layers/mask.c: the time-frequency Mask layer and its discriminative loss. */
#include "mask.h"

#include <math.h>

#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/mask.h"

int amt_mask_layer_init(amt_mask_layer *l, float eps, float gamma)
{
    if (!(eps > 0) || !isfinite(eps)) return amt_error(AMT_EINVAL, "mask layer: eps = %g must be > 0", (double)eps);
    if (!(gamma >= 0) || !isfinite(gamma)) return amt_error(AMT_EINVAL, "mask layer: gamma = %g must be >= 0", (double)gamma);
    l->eps = eps;
    l->gamma = gamma;
    return AMT_OK;
}

amt_tensor *amt_mask_layer_forward(amt_graph *g, const amt_mask_layer *l, amt_tensor *y1, amt_tensor *y2,
                                   amt_tensor *x, amt_tensor **s2)
{
    amt_tensor *s1 = amt_tf_mask(g, y1, y2, x, l->eps);
    amt_tensor *r = amt_sub(g, x, s1);
    if (s2) *s2 = r;
    return r ? s1 : NULL;
}

amt_tensor *amt_mask_layer_loss(amt_graph *g, const amt_mask_layer *l, amt_tensor *s1, amt_tensor *s2,
                                amt_tensor *t1, amt_tensor *t2)
{
    return amt_discriminative_loss(g, s1, s2, t1, t2, l->gamma);
}
