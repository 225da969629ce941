/* core/rng.h: deterministic random numbers.
 * amt_rng is a small sequential generator (xoshiro256**, seeded through splitmix64) for
 * initialisation, shuffling and data synthesis; its whole state is 4 x uint64 so a
 * checkpoint can store it. amt_hash_uniform gives a counter-based stream (value depends
 * only on key and index), used where work is split across threads (dropout masks), so
 * results do not depend on the thread count. */
#ifndef AMT_RNG_H
#define AMT_RNG_H

#include <stdint.h>

typedef struct amt_rng { uint64_t s[4]; } amt_rng;

void amt_rng_seed(amt_rng *r, uint64_t seed);
uint64_t amt_rng_u64(amt_rng *r);
/* Uniform in [0, 1). */
double amt_rng_uniform(amt_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t amt_rng_below(amt_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached spare so the state is only s[]). */
double amt_rng_normal(amt_rng *r);
/* Fisher-Yates shuffle of n ints. */
void amt_rng_shuffle_int(amt_rng *r, int *v, int n);

/* splitmix64 finaliser: a good 64-bit mix of x. */
uint64_t amt_hash64(uint64_t x);
/* Uniform float in [0, 1) determined by (key, index) alone. */
static inline float amt_hash_uniform(uint64_t key, uint64_t index)
{
    return (float)(amt_hash64(key ^ amt_hash64(index)) >> 40) * (1.0f / 16777216.0f);
}

#endif
