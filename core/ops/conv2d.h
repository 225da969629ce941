/* core/ops/conv2d.h: 2-D convolution (cross-correlation, as PyTorch) on (N, C, H, W).
 * im2col + one cblas_sgemm per example (a few examples per GEMM when the output map is
 * small; kernel taps that only ever see padding left out), parallel over the batch (see
 * conv2d.c). The per-thread workspaces are sized for the thread count at build time
 * (amt_get_threads()); raising the thread count later uses no more threads than that for
 * this op. 3x3 stride-1 convolutions with >= 16 input and output channels and a map at
 * least 2x2 use Winograd F(2x2, 3x3) instead (core/ops/winograd.h), chosen by that shape
 * rule at build time. Backward: gradients for x, w and b, each only when that tensor has
 * a gradient buffer. */
#ifndef AMT_OP_CONV2D_H
#define AMT_OP_CONV2D_H

#include "../graph.h"

/* x (N, C, H, W), w (O, C, KH, KW), b (O) or NULL; zero padding pad_h/pad_w on each side.
 * out (N, O, (H + 2 pad_h - KH) / stride_h + 1, (W + 2 pad_w - KW) / stride_w + 1). */
amt_tensor *amt_conv2d(amt_graph *g, amt_tensor *x, amt_tensor *w, amt_tensor *b,
                       int stride_h, int stride_w, int pad_h, int pad_w);

/* How the batch loop uses threads (a process-wide knob for benchmarks):
 * AUTO: OpenMP over examples (single-threaded sgemm inside) unless the batch is smaller
 * than the thread count, then a sequential loop with threaded sgemm; BATCH_PARALLEL and
 * BLAS_THREADS force one or the other. */
enum { AMT_CONV2D_AUTO = 0, AMT_CONV2D_BATCH_PARALLEL = 1, AMT_CONV2D_BLAS_THREADS = 2 };
void amt_conv2d_set_strategy(int strategy);

/* Which algorithm a conv2d built from now on uses (a process-wide knob for tests and
 * benchmarks; the choice is made once per layer at graph build time, by shape only):
 * AUTO: Winograd F(2x2, 3x3) (core/ops/winograd.h) for the 3x3 stride-1 shapes where it
 * was measured faster (see conv2d.c, wino_auto), else im2col; IM2COL forces im2col;
 * WINOGRAD uses Winograd for every 3x3 stride-1 conv with padding <= 2 (im2col otherwise). */
enum { AMT_CONV2D_ALGO_AUTO = 0, AMT_CONV2D_ALGO_IM2COL = 1, AMT_CONV2D_ALGO_WINOGRAD = 2 };
void amt_conv2d_set_algorithm(int algo);

#endif
