#include "lstm.h"

#include <math.h>
#include <stdio.h>

#include "core/error.h"
#include "core/ops/lstm.h"
#include "core/ops/shape.h"
#include "init.h"

static int add_stack(amt_lstm_layer *l, amt_params *ps, const char *prefix, amt_tensor **w_ih,
                     amt_tensor **w_hh, amt_tensor **b, amt_rng *rng)
{
    char pname[AMT_PARAM_NAME_MAX];
    const int H = l->hidden, G = 4 * H;
    const float k = 1.0f / sqrtf((float)H);
    for (int i = 0; i < l->n_layers; i++) {
        int wi[2] = {G, i == 0 ? l->in : H}, wh[2] = {G, H};
        snprintf(pname, sizeof pname, "%s/l%d/w_ih", prefix, i);
        if (!(w_ih[i] = amt_params_add(ps, pname, 2, wi, 1))) return amt_errcode();
        snprintf(pname, sizeof pname, "%s/l%d/w_hh", prefix, i);
        if (!(w_hh[i] = amt_params_add(ps, pname, 2, wh, 1))) return amt_errcode();
        snprintf(pname, sizeof pname, "%s/l%d/b", prefix, i);
        if (!(b[i] = amt_params_add(ps, pname, 1, &G, 1))) return amt_errcode();
        amt_init_uniform(w_ih[i], k, rng);
        amt_init_uniform(w_hh[i], k, rng);
        amt_init_uniform(b[i], k, rng);
        for (int j = H; j < 2 * H; j++) b[i]->data[j] = AMT_LSTM_FORGET_BIAS;
    }
    return AMT_OK;
}

int amt_lstm_layer_init(amt_lstm_layer *l, amt_params *ps, const char *name, int in, int hidden,
                        int n_layers, int bidirectional, amt_rng *rng)
{
    char prefix[AMT_PARAM_NAME_MAX];
    if (in <= 0 || hidden <= 0)
        return amt_error(AMT_EINVAL, "lstm layer '%s': sizes in %d, hidden %d must be > 0", name, in, hidden);
    if (n_layers < 1 || n_layers > AMT_LSTM_MAX_LAYERS)
        return amt_error(AMT_EINVAL, "lstm layer '%s': %d layers, expected 1..%d", name, n_layers, AMT_LSTM_MAX_LAYERS);
    *l = (amt_lstm_layer){.in = in, .hidden = hidden, .n_layers = n_layers, .bidirectional = bidirectional ? 1 : 0};
    int rc = add_stack(l, ps, name, l->w_ih, l->w_hh, l->b, rng);
    if (rc != AMT_OK || !l->bidirectional) return rc;
    snprintf(prefix, sizeof prefix, "%s/rev", name);
    return add_stack(l, ps, prefix, l->rw_ih, l->rw_hh, l->rb, rng);
}

amt_tensor *amt_lstm_layer_forward(amt_graph *g, const amt_lstm_layer *l, amt_tensor *x)
{
    amt_tensor *f = amt_lstm(g, x, l->n_layers, l->w_ih, l->w_hh, l->b, 0);
    if (!l->bidirectional || !f) return f;
    amt_tensor *r = amt_lstm(g, x, l->n_layers, l->rw_ih, l->rw_hh, l->rb, 1);
    amt_tensor *both[2] = {f, r};
    return amt_concat(g, 2, both, 2);
}

int amt_lstm_layer_out(const amt_lstm_layer *l) { return l->bidirectional ? 2 * l->hidden : l->hidden; }
