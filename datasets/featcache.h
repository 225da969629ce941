/* datasets/featcache.h: an optional HDF5 cache of per-item (features, targets), wrapped
 * around any amt_item_loader. Each item is stored as a group /<key> with datasets "feat"
 * (frames x fdim) and "tgt" (frames x tdim), float32; the key (16 hex digits) hashes the
 * item's file path, size and modification time with a feature-config string, so a changed
 * file or feature config never reads stale data. Reads one item at a time (bounded
 * memory). Not thread-safe: one cache per thread/stream. */
#ifndef AMT_FEATCACHE_H
#define AMT_FEATCACHE_H

#include <stdint.h>
#include "datasets/stream.h"

typedef const char *(*amt_item_path_fn)(void *ud, int item);

typedef struct amt_featcache {
    int64_t file;            /* hid_t of the HDF5 file */
    amt_item_loader inner;
    void *inner_ud;
    amt_item_path_fn path;
    int fdim, tdim;
    char config[512];
    long hits, misses;
} amt_featcache;

/* Opens (or creates) h5path. config: text describing the features (e.g. "stft 1024 256
 * 16000"). path(ud, item) names an item's file. */
int amt_featcache_open(amt_featcache *c, const char *h5path, const char *config, int fdim, int tdim,
                       amt_item_loader inner, void *inner_ud, amt_item_path_fn path);
/* An amt_item_loader: pass the amt_featcache as ud. */
int amt_featcache_load(void *ud, int item, float **feat, float **tgt, long *frames);
void amt_featcache_close(amt_featcache *c);

#endif
