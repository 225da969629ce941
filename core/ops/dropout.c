/* core/ops/dropout.c: inverted dropout with a counter-based mask.
 * The mask of a forward is a pure function of (key, element index), key = hash(seed,
 * step, node index): it changes every forward (step) and does not depend on how the loop
 * is split across threads. Speed matters (mask generation was 10-14 % of PyTorch's
 * transcriber step): one 64-bit splitmix64 value (the amt_hash64 finaliser, inlined here)
 * gives the uniforms of 4 consecutive elements, 16 bits each (block i / 4 hashed as
 * mix64(key + (i / 4 + 1) * golden), i.e. a splitmix64 stream); element i is kept when its
 * 16-bit value >= round(p * 65536). So p is quantised to 1/65536 and the scale is the exact
 * inverse of the quantised keep rate. The forward stores the mask as bytes (only in graphs
 * with a backward) so the backward uses exactly the forward's mask. */
#include "dropout.h"

#include <math.h>
#include <string.h>

#include "../error.h"
#include "../rng.h"

#define DROPOUT_BITS 16
#define DROPOUT_LANES 4   /* 64 / DROPOUT_BITS uniforms per hash */

/* amt_hash64, inlined so the mask loop vectorises. */
static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

typedef struct dropout_attr {
    float p, scale;        /* drop probability, 1 / (quantised keep rate) */
    uint32_t threshold;    /* drop when the 16-bit uniform < threshold */
    uint64_t node;         /* node index: part of the key */
    unsigned char *mask;   /* size bytes (1 kept), or NULL without backward */
    int active;            /* the last forward dropped (training and p > 0) */
} dropout_attr;

#define DROPOUT_PAR_MIN 16384
#define DROPOUT_CHUNK 1024    /* elements per batch of hashes (a multiple of DROPOUT_LANES) */

static uint64_t dropout_key(uint64_t seed, uint64_t step, uint64_t node)
{
    return amt_hash64(amt_hash64(amt_hash64(seed) ^ step) ^ (node * 0x9e3779b97f4a7c15ULL));
}

static void dropout_forward(amt_graph *g, amt_node *n)
{
    dropout_attr *a = n->attr;
    const float *x = n->in[0]->data;
    float *y = n->out->data;
    const long long size = (long long)n->out->size;
    a->active = g->training && a->threshold > 0;
    if (!a->active) {
        memcpy(y, x, (size_t)size * sizeof(float));
        return;
    }
    const uint64_t key = dropout_key(g->seed, g->step, a->node);
    const uint32_t thr = a->threshold;
    const float scale = a->scale;
    unsigned char *m = a->mask;
    const long long chunks = (size + DROPOUT_CHUNK - 1) / DROPOUT_CHUNK;
    #pragma omp parallel for schedule(static) if (size >= DROPOUT_PAR_MIN)
    for (long long ch = 0; ch < chunks; ch++) {
        /* this chunk's uniforms: element i takes bits 16 (i % 4) .. 16 (i % 4) + 15 of the
         * hash of block i / 4 */
        uint16_t u[DROPOUT_CHUNK];
        const long long i0 = ch * DROPOUT_CHUNK;
        const int len = size - i0 < DROPOUT_CHUNK ? (int)(size - i0) : DROPOUT_CHUNK;
        const uint64_t b0 = (uint64_t)i0 / DROPOUT_LANES;
        for (int b = 0; b < DROPOUT_CHUNK / DROPOUT_LANES; b++) {
            uint64_t h = mix64(key + (b0 + (uint64_t)b) * 0x9e3779b97f4a7c15ULL);
            for (int j = 0; j < DROPOUT_LANES; j++) u[b * DROPOUT_LANES + j] = (uint16_t)(h >> (DROPOUT_BITS * j));
        }
        const float *xc = x + i0;
        float *yc = y + i0;
        if (m) {
            unsigned char *mc = m + i0;
            for (int i = 0; i < len; i++) {
                int keep = u[i] >= thr;
                yc[i] = keep ? xc[i] * scale : 0.0f;
                mc[i] = (unsigned char)keep;
            }
        } else {
            for (int i = 0; i < len; i++) yc[i] = u[i] >= thr ? xc[i] * scale : 0.0f;
        }
    }
}

static void dropout_backward(amt_graph *g, amt_node *n)
{
    (void)g;
    const dropout_attr *a = n->attr;
    float *dx = n->in[0]->grad;
    const float *dy = n->out->grad;
    const long long size = (long long)n->out->size;
    if (!a->active) {
        for (long long i = 0; i < size; i++) dx[i] += dy[i];
        return;
    }
    const unsigned char *m = a->mask;
    const float scale = a->scale;
    #pragma omp parallel for schedule(static) if (size >= DROPOUT_PAR_MIN)
    for (long long i = 0; i < size; i++) dx[i] += m[i] ? dy[i] * scale : 0.0f;
}

static const amt_op dropout_op = {"dropout", dropout_forward, dropout_backward};

amt_tensor *amt_dropout(amt_graph *g, amt_tensor *x, float p)
{
    if (!x) { g->broken = 1; return NULL; }
    if (!(p >= 0 && p < 1)) return amt_graph_fail(g, AMT_EINVAL, "dropout: probability %g must be in [0, 1)", p);
    dropout_attr *a = amt_graph_alloc(g, sizeof *a);
    if (!a) return NULL;
    a->p = p;
    a->threshold = (uint32_t)lrint((double)p * 65536.0);
    if (a->threshold > 65535) a->threshold = 65535;
    a->scale = (float)(65536.0 / (65536.0 - a->threshold));
    a->node = (uint64_t)g->n_nodes;
    amt_tensor *y = amt_graph_output(g, x->ndim, x->shape, 1, &x);
    if (!y) return NULL;
    if (y->grad) {
        a->mask = amt_graph_alloc(g, x->size);
        if (!a->mask) return NULL;
    }
    return amt_graph_node(g, &dropout_op, y, 1, &x, a) ? y : NULL;
}
