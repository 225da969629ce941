#include "conv2d.h"

#include <stdio.h>

#include "core/error.h"
#include "core/ops/conv2d.h"
#include "init.h"

int amt_conv2d_layer_init(amt_conv2d_layer *l, amt_params *ps, const char *name, int in, int out,
                          int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w,
                          int bias, amt_rng *rng)
{
    char pname[AMT_PARAM_NAME_MAX];
    if (in <= 0 || out <= 0 || kh <= 0 || kw <= 0)
        return amt_error(AMT_EINVAL, "conv2d layer '%s': channels %d -> %d and kernel %dx%d must be > 0", name, in, out, kh, kw);
    if (stride_h <= 0 || stride_w <= 0 || pad_h < 0 || pad_w < 0)
        return amt_error(AMT_EINVAL, "conv2d layer '%s': stride (%d, %d) must be > 0 and padding (%d, %d) >= 0",
                         name, stride_h, stride_w, pad_h, pad_w);
    l->in = in; l->out = out; l->kh = kh; l->kw = kw;
    l->stride_h = stride_h; l->stride_w = stride_w; l->pad_h = pad_h; l->pad_w = pad_w;
    int ws[4] = {out, in, kh, kw};
    snprintf(pname, sizeof pname, "%s/weight", name);
    l->weight = amt_params_add(ps, pname, 4, ws, 1);
    if (!l->weight) return amt_errcode();
    amt_init_he_normal(l->weight, in * kh * kw, rng);
    l->bias = NULL;
    if (bias) {
        snprintf(pname, sizeof pname, "%s/bias", name);
        l->bias = amt_params_add(ps, pname, 1, &out, 1);
        if (!l->bias) return amt_errcode();
    }
    return AMT_OK;
}

amt_tensor *amt_conv2d_layer_forward(amt_graph *g, const amt_conv2d_layer *l, amt_tensor *x)
{
    return amt_conv2d(g, x, l->weight, l->bias, l->stride_h, l->stride_w, l->pad_h, l->pad_w);
}
