/* layers/lstm.h: a stack of LSTM layers over sequences (B, T, in) -> (B, T, H), or
 * (B, T, 2H) when bidirectional: then a forward stack and an independent reverse stack
 * (each n_layers deep, both reading x) run side by side and their last outputs are
 * concatenated along features, forward first. (PyTorch's bidirectional nn.LSTM instead
 * feeds both directions of layer k into layer k+1; for n_layers = 1 the two agree.)
 *
 * Parameters (owned by the model's amt_params), for k = 0 .. n_layers-1:
 *   "<name>/l<k>/w_ih" (4H, in_k), "<name>/l<k>/w_hh" (4H, H), "<name>/l<k>/b" (4H),
 *   and "<name>/rev/l<k>/..." for the reverse stack; in_0 = in, in_k = H after; gate order
 *   i, f, g, o as PyTorch. b stands for PyTorch's b_ih + b_hh (one bias per gate unit).
 * Initialisation: weights uniform in +-1/sqrt(H) (PyTorch's default); the bias uniform in
 * +-1/sqrt(H) except the forget-gate slice b[H:2H] = 1 (forget-gate bias 1, Gers et al.;
 * as b = b_ih + b_hh, this is the total forget bias). */
#ifndef AMT_LAYER_LSTM_H
#define AMT_LAYER_LSTM_H

#include "core/graph.h"
#include "core/param.h"
#include "core/rng.h"

#define AMT_LSTM_MAX_LAYERS 8
#define AMT_LSTM_FORGET_BIAS 1.0f

typedef struct amt_lstm_layer {
    int in, hidden, n_layers, bidirectional;
    amt_tensor *w_ih[AMT_LSTM_MAX_LAYERS], *w_hh[AMT_LSTM_MAX_LAYERS], *b[AMT_LSTM_MAX_LAYERS];
    amt_tensor *rw_ih[AMT_LSTM_MAX_LAYERS], *rw_hh[AMT_LSTM_MAX_LAYERS], *rb[AMT_LSTM_MAX_LAYERS];
} amt_lstm_layer;

/* Creates and initialises the parameters in ps. AMT_EINVAL for sizes <= 0 or n_layers
 * outside 1..AMT_LSTM_MAX_LAYERS. */
int amt_lstm_layer_init(amt_lstm_layer *l, amt_params *ps, const char *name, int in, int hidden,
                        int n_layers, int bidirectional, amt_rng *rng);
/* x (B, T, in) -> (B, T, H), or (B, T, 2H) when bidirectional. */
amt_tensor *amt_lstm_layer_forward(amt_graph *g, const amt_lstm_layer *l, amt_tensor *x);
/* Output feature count: H or 2H. */
int amt_lstm_layer_out(const amt_lstm_layer *l);

#endif
