/* core/ops/winograd.h: Winograd F(2x2, 3x3) for a 3x3, stride-1 convolution
 * (cross-correlation) with zero padding ph, pw in [0, 2]: transforms, tiling and the
 * per-group drivers conv2d.c calls (it owns threads, partials and the choice of path).
 *
 * The output map (OH, OW) is covered by TH x TW tiles of 2x2 outputs (TH = ceil(OH/2));
 * tile (th, tw) reads the 4x4 input patch at rows 2 th - ph .. + 3, columns 2 tw - pw .. + 3
 * (zero outside the image). With B, G, A the F(2,3) matrices (Lavin & Gray 2016):
 *   V = B^T d B (input tile, 4x4)   U = G g G^T (kernel, 4x4)   Y = A^T M A (2x2 outputs)
 *   M[xi][t][o] = sum_c V[xi][t][c] U[xi][c][o]      for each of the 16 positions xi:
 * 16 GEMMs (tiles x C) x (C x O) with cblas_sgemm. The backward passes are the exact
 * adjoints of that computation (transposed transforms, the same GEMM shapes):
 *   dM = A dY A^T,  dV[xi] = dM[xi] U[xi]^T,  dx += B dV B^T (overlap-add of the patches),
 *   dU[xi] += V[xi]^T dM[xi],  dw += G^T dU G.
 *
 * Batching: a "group" is g consecutive examples; its tile rows are numbered
 * r = e * TH + th (e = example within the group) and are processed in blocks of up to
 * `rows` tile rows, whose rows * TW tiles are one set of GEMM rows. The group's input,
 * output and gradients are first moved to channels-last (pixel-major, channel-minor)
 * zero-padded copies so every transform loop runs over contiguous channels.
 *
 * Layouts (row-major floats): x (C, H, W) and y (O, OH, OW) per example, examples
 * contiguous; w (O, C, 3, 3); U and dU (16, C, O). All memory belongs to the caller:
 * nothing here allocates; ws is a per-thread workspace of amt_wino_workspace_floats. */
#ifndef AMT_OP_WINOGRAD_H
#define AMT_OP_WINOGRAD_H

#include <stddef.h>

#define AMT_WINO_T 16   /* transform positions of an F(2x2, 3x3) tile (4 x 4) */

typedef struct amt_wino {
    int C, O, H, W, ph, pw;  /* input channels, output channels, input map, padding */
    int OH, OW, TH, TW;      /* output map and its tiles */
    int HP, WP;              /* the padded input the tiles read: 2 TH + 2 by 2 TW + 2 */
} amt_wino;

/* Fills p for x (C, H, W) and w (O, C, 3, 3) with padding ph, pw (0..2); returns 0, or -1
 * when the shape does not fit (padding outside [0, 2], no channels or an empty output). */
int amt_wino_init(amt_wino *p, int C, int O, int H, int W, int ph, int pw);

/* Floats of one thread's workspace for groups of up to g examples in blocks of up to
 * `rows` tile rows; with_dx: room for the input gradient too (amt_wino_backward with dx). */
size_t amt_wino_workspace_floats(const amt_wino *p, int g, int rows, int with_dx);

/* U (16, C, O) = G w G^T for every (o, c). */
void amt_wino_weights(const amt_wino *p, const float *w, float *U);

/* dw (O, C, 3, 3) += G^T dU G for every (o, c); dU (16, C, O). */
void amt_wino_weights_grad_add(const amt_wino *p, const float *dU, float *dw);

/* y = conv(x) (+ b[o] when b) for the g examples starting at x and y, in blocks of `rows`
 * tile rows; ws: amt_wino_workspace_floats(p, g, rows, 0) floats (or more). */
void amt_wino_forward(const amt_wino *p, const float *U, const float *b, const float *x, float *y, int g,
                      int rows, float *ws);

/* Backward of the g examples starting at x, dy and dx: dU (16, C, O) += their weight
 * gradient in the transformed domain when dU, dx += their input gradient when dx;
 * ws: amt_wino_workspace_floats(p, g, rows, dx != NULL) floats. */
void amt_wino_backward(const amt_wino *p, const float *U, const float *x, const float *dy, float *dU,
                       float *dx, int g, int rows, float *ws);

#endif
