#include "init.h"

#include <math.h>

void amt_init_uniform(amt_tensor *t, float a, amt_rng *rng)
{
    if (!rng) return;
    for (size_t i = 0; i < t->size; i++) t->data[i] = (float)((amt_rng_uniform(rng) * 2 - 1) * a);
}

void amt_init_glorot_uniform(amt_tensor *t, int fan_in, int fan_out, amt_rng *rng)
{
    amt_init_uniform(t, sqrtf(6.0f / (float)(fan_in + fan_out)), rng);
}

void amt_init_he_normal(amt_tensor *t, int fan_in, amt_rng *rng)
{
    if (!rng) return;
    double std = sqrt(2.0 / fan_in);
    for (size_t i = 0; i < t->size; i++) t->data[i] = (float)(amt_rng_normal(rng) * std);
}

void amt_init_const(amt_tensor *t, float v)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = v;
}
