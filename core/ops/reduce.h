/* core/ops/reduce.h: reductions to a scalar (shape (1)), accumulated in double in a fixed
 * order so results do not depend on the thread count: the values are cut into blocks of
 * AMT_REDUCE_BLOCK, each block is summed in order (blocks in parallel), then the block
 * sums are added in block order. Also the column sum other ops use for bias gradients. */
#ifndef AMT_OP_REDUCE_H
#define AMT_OP_REDUCE_H

#include <stddef.h>

#include "../graph.h"

#define AMT_REDUCE_BLOCK 4096    /* values per partial sum */
#define AMT_OMP_MIN_ELEMS 32768  /* below this many values, loops run on one thread */

/* sum of all elements, shape (1). */
amt_tensor *amt_sum(amt_graph *g, amt_tensor *a);
/* sum / size, shape (1). */
amt_tensor *amt_mean(amt_graph *g, amt_tensor *a);

/* Helpers for ops (no allocation; partials has amt_reduce_nblocks(n) doubles, taken from
 * the graph arena at build time). */
size_t amt_reduce_nblocks(size_t n);
/* Sum of x[0..n) in double, blocked as described above. */
double amt_sum_blocked(const float *x, size_t n, double *partials);
/* dst[j] += scale * sum_r src[r * cols + j] for j < cols: rows summed in order in double,
 * OpenMP over column blocks, so the result is independent of the thread count. */
void amt_colsum_add(float *dst, const float *src, size_t rows, size_t cols, float scale);

/* result_ = sum of the double expression term_ (which uses the index i) for i < n_, blocked
 * like amt_sum_blocked: the same value for any thread count. partials_: nblocks doubles. */
#define AMT_BLOCKED_SUM(partials_, n_, term_, result_) do {                                         \
    size_t n__ = (n_);                                                                     \
    long nb__ = (long)amt_reduce_nblocks(n__);                                             \
    _Pragma("omp parallel for schedule(static) if (n__ >= AMT_OMP_MIN_ELEMS)")             \
    for (long b__ = 0; b__ < nb__; b__++) {                                                \
        size_t lo__ = (size_t)b__ * AMT_REDUCE_BLOCK;                                      \
        size_t hi__ = lo__ + AMT_REDUCE_BLOCK < n__ ? lo__ + AMT_REDUCE_BLOCK : n__;       \
        double s__ = 0;                                                                    \
        for (size_t i = lo__; i < hi__; i++) s__ += (term_);                               \
        (partials_)[b__] = s__;                                                        \
    }                                                                                      \
    double t__ = 0;                                                                        \
    for (long b__ = 0; b__ < nb__; b__++) t__ += (partials_)[b__];                     \
    (result_) = t__; } while (0)

#endif
