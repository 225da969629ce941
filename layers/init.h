/* layers/init.h: parameter initialisers. fan_in / fan_out as PyTorch computes them
 * (Linear (out, in): fan_in = in; Conv2d (O, C, KH, KW): fan_in = C*KH*KW, fan_out = O*KH*KW).
 * The random ones leave t untouched when rng is NULL (a model about to load its values from
 * a checkpoint skips the work). */
#ifndef AMT_INIT_H
#define AMT_INIT_H

#include "core/rng.h"
#include "core/tensor.h"

/* Uniform in [-a, a]. */
void amt_init_uniform(amt_tensor *t, float a, amt_rng *rng);
/* Glorot/Xavier uniform: a = sqrt(6 / (fan_in + fan_out)). */
void amt_init_glorot_uniform(amt_tensor *t, int fan_in, int fan_out, amt_rng *rng);
/* He/Kaiming normal for ReLU: std = sqrt(2 / fan_in). */
void amt_init_he_normal(amt_tensor *t, int fan_in, amt_rng *rng);
/* Every element = v. */
void amt_init_const(amt_tensor *t, float v);

#endif
