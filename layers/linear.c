#include "linear.h"

#include <stdio.h>

#include "core/error.h"
#include "core/ops/matmul.h"
#include "init.h"

int amt_linear_layer_init(amt_linear_layer *l, amt_params *ps, const char *name, int in, int out, int bias, amt_rng *rng)
{
    char pname[AMT_PARAM_NAME_MAX];
    if (in <= 0 || out <= 0) return amt_error(AMT_EINVAL, "linear layer '%s': sizes %d -> %d must be > 0", name, in, out);
    l->in = in;
    l->out = out;
    int ws[2] = {out, in};
    snprintf(pname, sizeof pname, "%s/weight", name);
    l->weight = amt_params_add(ps, pname, 2, ws, 1);
    if (!l->weight) return amt_errcode();
    amt_init_glorot_uniform(l->weight, in, out, rng);
    l->bias = NULL;
    if (bias) {
        snprintf(pname, sizeof pname, "%s/bias", name);
        l->bias = amt_params_add(ps, pname, 1, &out, 1);
        if (!l->bias) return amt_errcode();
    }
    return AMT_OK;
}

amt_tensor *amt_linear_layer_forward(amt_graph *g, const amt_linear_layer *l, amt_tensor *x)
{
    return amt_linear(g, x, l->weight, l->bias);
}
