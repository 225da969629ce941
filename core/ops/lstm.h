/* core/ops/lstm.h: a fused multi-layer LSTM over a whole sequence.
 * Per layer l and time t (PyTorch gate order i, f, g, o):
 *   z = W_ih x_t + W_hh h_{t-1} + b;  i,f,o = sigmoid; g = tanh
 *   c_t = f c_{t-1} + i g;  h_t = o tanh(c_t);  h_0 = c_0 = 0.
 * The input projection of all time steps is one sgemm per layer, the recurrent product one
 * sgemm per step, gates fused; backward is BPTT. b is one bias (PyTorch's b_ih + b_hh).
 * reverse = 1 runs each layer from t = T-1 down to 0 (for a bidirectional stack). */
#ifndef AMT_OP_LSTM_H
#define AMT_OP_LSTM_H

#include "../graph.h"

/* x (B, T, I). For layer l: w_ih[l] (4H, I_l) with I_0 = I and I_l = H after, w_hh[l]
 * (4H, H), b[l] (4H). Returns the last layer's hidden states (B, T, H). */
amt_tensor *amt_lstm(amt_graph *g, amt_tensor *x, int n_layers, amt_tensor *const *w_ih,
                     amt_tensor *const *w_hh, amt_tensor *const *b, int reverse);

#endif
