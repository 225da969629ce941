#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct amt_arena_chunk {
    amt_arena_chunk *next;
    size_t size;   /* usable bytes after the header */
    size_t off;    /* bytes used */
    unsigned char *base;
};

void amt_arena_init(amt_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
    a->chunk_size = chunk_size ? chunk_size : (size_t)16 << 20;
}

void *amt_arena_alloc(amt_arena *a, size_t bytes)
{
    size_t need = (bytes + AMT_ALIGN - 1) & ~(size_t)(AMT_ALIGN - 1);
    if (need == 0) need = AMT_ALIGN;
    amt_arena_chunk *c = a->head;
    if (!c || c->off + need > c->size) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;
        c = malloc(sizeof *c);
        if (!c) { amt_error(AMT_ENOMEM, "out of memory (arena chunk header)"); return NULL; }
        void *mem = NULL;
        if (posix_memalign(&mem, AMT_ALIGN, size) != 0) {
            free(c);
            amt_error(AMT_ENOMEM, "out of memory: arena needs %zu more bytes", size);
            return NULL;
        }
        memset(mem, 0, size);
        c->base = mem;
        c->size = size;
        c->off = 0;
        c->next = a->head;
        a->head = c;
        a->reserved += size;
    }
    void *p = c->base + c->off;
    c->off += need;
    a->used += need;
    return p;
}

void amt_arena_free(amt_arena *a)
{
    amt_arena_chunk *c = a->head;
    while (c) {
        amt_arena_chunk *n = c->next;
        free(c->base);
        free(c);
        c = n;
    }
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
}
