#include "batchnorm.h"

#include <stdio.h>

#include "core/error.h"
#include "core/ops/batchnorm.h"
#include "init.h"

static amt_tensor *add1(amt_params *ps, const char *name, const char *what, int c, int trainable, float v)
{
    char pname[AMT_PARAM_NAME_MAX];
    snprintf(pname, sizeof pname, "%s/%s", name, what);
    amt_tensor *t = amt_params_add(ps, pname, 1, &c, trainable);
    if (t) amt_init_const(t, v);
    return t;
}

int amt_batchnorm2d_layer_init(amt_batchnorm2d_layer *l, amt_params *ps, const char *name, int channels,
                               float momentum, float eps)
{
    if (channels <= 0) return amt_error(AMT_EINVAL, "batchnorm2d layer '%s': channels %d must be > 0", name, channels);
    if (!(momentum >= 0 && momentum <= 1) || !(eps > 0))
        return amt_error(AMT_EINVAL, "batchnorm2d layer '%s': momentum %g must be in [0, 1] and eps %g > 0", name, momentum, eps);
    l->channels = channels;
    l->momentum = momentum;
    l->eps = eps;
    if (!(l->gamma = add1(ps, name, "weight", channels, 1, 1.0f))) return amt_errcode();
    if (!(l->beta = add1(ps, name, "bias", channels, 1, 0.0f))) return amt_errcode();
    if (!(l->running_mean = add1(ps, name, "running_mean", channels, 0, 0.0f))) return amt_errcode();
    if (!(l->running_var = add1(ps, name, "running_var", channels, 0, 1.0f))) return amt_errcode();
    return AMT_OK;
}

amt_tensor *amt_batchnorm2d_layer_forward(amt_graph *g, const amt_batchnorm2d_layer *l, amt_tensor *x)
{
    return amt_batchnorm2d(g, x, l->gamma, l->beta, l->running_mean, l->running_var, l->momentum, l->eps);
}
