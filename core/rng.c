#include "rng.h"

#include <math.h>

uint64_t amt_hash64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void amt_rng_seed(amt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ULL;
        r->s[i] = amt_hash64(x);
    }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t amt_rng_u64(amt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double amt_rng_uniform(amt_rng *r) { return (double)(amt_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

uint64_t amt_rng_below(amt_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = amt_rng_u64(r); while (x >= limit);
    return x % n;
}

double amt_rng_normal(amt_rng *r)
{
    double u1 = amt_rng_uniform(r), u2 = amt_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void amt_rng_shuffle_int(amt_rng *r, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)amt_rng_below(r, (uint64_t)i + 1);
        int t = v[i]; v[i] = v[j]; v[j] = t;
    }
}
