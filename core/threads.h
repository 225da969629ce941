/* core/threads.h: one place that sets how many threads our OpenMP loops and OpenBLAS use.
 * We link Debian's OpenMP build of OpenBLAS, so both share one pool. */
#ifndef AMT_THREADS_H
#define AMT_THREADS_H

/* Sets the thread count for OpenMP and OpenBLAS (n <= 0: all cores). */
void amt_set_threads(int n);
/* The current thread count. */
int amt_get_threads(void);

#endif
