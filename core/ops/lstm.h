/* core/ops/lstm.h: a fused multi-layer LSTM over a whole sequence.
 * Per layer l and time t (PyTorch gate order i, f, g, o):
 *   z = W_ih x_t + W_hh h_{t-1} + b;  i,f,o = sigmoid; g = tanh
 *   c_t = f c_{t-1} + i g;  h_t = o tanh(c_t);  h_0 = c_0 = 0.
 * The input projection of all time steps is one sgemm per layer, the recurrent product one
 * sgemm per step, gates fused; backward is BPTT. b is one bias (PyTorch's b_ih + b_hh).
 * reverse = 1 runs each layer from t = T-1 down to 0 (for a bidirectional stack).
 *
 * Graph shape: one node per layer (inputs x_l, w_ih, w_hh, b), so layer l's output is a
 * graph tensor that layer l+1 reads and differentiates into. A training graph saves per
 * layer the gate activations (B, T, 4H), c and tanh(c) (B, T, H) from its arena, and
 * shares one set of backward scratch buffers between the layers of a call. An inference
 * graph (with_grad 0, or nothing requires a gradient) saves nothing: one (B, T, 4H)
 * pre-activation workspace and one (B, H) cell state shared by all layers.
 * Threads: the big sgemms (input projection, weight and input gradients) are threaded by
 * OpenBLAS (its OpenMP build: one pool with ours). The recurrence (per-step sgemm + gate
 * loop, forward and BPTT) runs in one OpenMP region per layer whose threads each own a
 * block of batch rows for all T steps (rows are independent sequences), calling sgemm
 * single-threaded: 2 thread joins per layer instead of ~3 per step, which matters when
 * another process takes a core. Same thread count => bit-identical. */
#ifndef AMT_OP_LSTM_H
#define AMT_OP_LSTM_H

#include "../graph.h"

/* Below this many gate values per step (B * H), the gate loops run on one thread. */
#define AMT_LSTM_OMP_MIN 2048

/* 1 (default): the recurrence splits the batch over threads as above; 0: it runs on the
 * calling thread with each per-step sgemm threaded by OpenBLAS (for benchmarks). */
extern int amt_lstm_split_batch;

/* x (B, T, I). For layer l: w_ih[l] (4H, I_l) with I_0 = I and I_l = H after, w_hh[l]
 * (4H, H), b[l] (4H). Returns the last layer's hidden states (B, T, H), or NULL (error
 * "lstm: layer 1 w_ih is (..), expected (..)" etc., graph broken) on a shape mismatch. */
amt_tensor *amt_lstm(amt_graph *g, amt_tensor *x, int n_layers, amt_tensor *const *w_ih,
                     amt_tensor *const *w_hh, amt_tensor *const *b, int reverse);

#endif
