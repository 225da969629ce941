#include "dropout.h"

#include "core/error.h"
#include "core/ops/dropout.h"

int amt_dropout_layer_init(amt_dropout_layer *l, float p)
{
    if (!(p >= 0 && p < 1)) return amt_error(AMT_EINVAL, "dropout layer: probability %g must be in [0, 1)", p);
    l->p = p;
    return AMT_OK;
}

amt_tensor *amt_dropout_layer_forward(amt_graph *g, const amt_dropout_layer *l, amt_tensor *x)
{
    return amt_dropout(g, x, l->p);
}
