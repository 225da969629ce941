/* core/arena.h: a bump allocator of 64-byte aligned, zeroed blocks.
 * Everything a graph needs (tensors, buffers, saved state, workspaces) is taken from its
 * arena while the graph is built; nothing is freed individually; amt_arena_free releases
 * all. After building, running a graph allocates nothing. */
#ifndef AMT_ARENA_H
#define AMT_ARENA_H

#include <stddef.h>

#define AMT_ALIGN 64

typedef struct amt_arena_chunk amt_arena_chunk;
typedef struct amt_arena {
    amt_arena_chunk *head;  /* newest chunk first */
    size_t used;            /* bytes handed out (after alignment) */
    size_t reserved;        /* bytes obtained from the system */
    size_t chunk_size;      /* minimum size of a new chunk */
} amt_arena;

/* Initialises an empty arena; chunk_size 0 picks a default (16 MiB). */
void amt_arena_init(amt_arena *a, size_t chunk_size);
/* Returns `bytes` zeroed, AMT_ALIGN-aligned bytes owned by the arena, or NULL (with
 * amt_error set) when memory runs out. bytes == 0 returns a valid non-NULL pointer. */
void *amt_arena_alloc(amt_arena *a, size_t bytes);
/* Releases every chunk; the arena may be reused after amt_arena_init. */
void amt_arena_free(amt_arena *a);

#endif
