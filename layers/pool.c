#include "pool.h"

#include "core/error.h"
#include "core/ops/pool.h"

int amt_maxpool2d_layer_init(amt_maxpool2d_layer *l, int kh, int kw, int sh, int sw)
{
    if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0)
        return amt_error(AMT_EINVAL, "maxpool2d layer: kernel %dx%d and stride %dx%d must be > 0", kh, kw, sh, sw);
    l->kh = kh; l->kw = kw; l->sh = sh; l->sw = sw;
    return AMT_OK;
}

amt_tensor *amt_maxpool2d_layer_forward(amt_graph *g, const amt_maxpool2d_layer *l, amt_tensor *x)
{
    return amt_maxpool2d(g, x, l->kh, l->kw, l->sh, l->sw);
}

amt_tensor *amt_global_maxpool_layer_forward(amt_graph *g, amt_tensor *x) { return amt_global_maxpool(g, x); }
