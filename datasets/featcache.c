/* datasets/featcache.c: HDF5 feature cache (see featcache.h). */
#include "datasets/featcache.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/rng.h"

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s; s++) h = amt_hash64(h ^ (unsigned char)*s);
    return h;
}

int amt_featcache_open(amt_featcache *c, const char *h5path, const char *config, int fdim, int tdim,
                       amt_item_loader inner, void *inner_ud, amt_item_path_fn path)
{
    memset(c, 0, sizeof *c);
    c->file = -1;
    if (fdim <= 0 || tdim < 0) return amt_error(AMT_EINVAL, "featcache: bad dims %d %d", fdim, tdim);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* errors are reported through amt_error */
    hid_t f = access(h5path, F_OK) == 0 ? H5Fopen(h5path, H5F_ACC_RDWR, H5P_DEFAULT)
                                        : H5Fcreate(h5path, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return amt_error(AMT_EIO, "%s: cannot open or create the HDF5 feature cache", h5path);
    c->file = f;
    c->inner = inner; c->inner_ud = inner_ud; c->path = path;
    c->fdim = fdim; c->tdim = tdim;
    snprintf(c->config, sizeof c->config, "%s", config ? config : "");
    return AMT_OK;
}

void amt_featcache_close(amt_featcache *c)
{
    if (c->file >= 0) H5Fclose((hid_t)c->file);
    c->file = -1;
}

static int read2d(hid_t g, const char *name, int cols, float **out, long *rows)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (nd != 2 || (int)dims[1] != cols) { H5Dclose(d); return -1; }
    float *buf = malloc((size_t)(dims[0] * dims[1] > 0 ? dims[0] * dims[1] : 1) * sizeof *buf);
    if (!buf) { H5Dclose(d); return -1; }
    if (dims[0] * dims[1] > 0 && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) { free(buf); H5Dclose(d); return -1; }
    H5Dclose(d);
    *out = buf; *rows = (long)dims[0];
    return 0;
}

static int write2d(hid_t g, const char *name, const float *x, long rows, int cols)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || (rows * cols > 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0);
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc ? -1 : 0;
}

int amt_featcache_load(void *ud, int item, float **feat, float **tgt, long *frames)
{
    amt_featcache *c = ud;
    *feat = *tgt = NULL;
    const char *p = c->path(c->inner_ud, item);
    struct stat sb;
    if (!p || stat(p, &sb) != 0) return amt_error(AMT_EIO, "%s: cannot stat item %d", p ? p : "(null)", item);
    uint64_t h = hash_str(0x46434143ull, p);
    h = amt_hash64(h ^ (uint64_t)sb.st_size);
    h = amt_hash64(h ^ (uint64_t)sb.st_mtime);
    h = hash_str(h, c->config);
    h = amt_hash64(h ^ ((uint64_t)c->fdim << 32) ^ (uint64_t)c->tdim);
    char key[24];
    snprintf(key, sizeof key, "k%016llx", (unsigned long long)h);
    hid_t f = (hid_t)c->file;
    if (H5Lexists(f, key, H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(f, key, H5P_DEFAULT);
        long rf = 0, rt = 0;
        int ok = g >= 0 && read2d(g, "feat", c->fdim, feat, &rf) == 0 && read2d(g, "tgt", c->tdim, tgt, &rt) == 0 && rf == rt;
        if (g >= 0) H5Gclose(g);
        if (ok) { *frames = rf; c->hits++; return AMT_OK; }
        free(*feat); free(*tgt); *feat = *tgt = NULL;
        H5Ldelete(f, key, H5P_DEFAULT);   /* unreadable entry: recompute */
    }
    int rc = c->inner(c->inner_ud, item, feat, tgt, frames);
    if (rc) return rc;
    c->misses++;
    hid_t g = H5Gcreate2(f, key, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || write2d(g, "feat", *feat, *frames, c->fdim) || write2d(g, "tgt", *tgt, *frames, c->tdim)) {
        if (g >= 0) H5Gclose(g);
        free(*feat); free(*tgt); *feat = *tgt = NULL;
        return amt_error(AMT_EIO, "feature cache: cannot write entry for %s", p);
    }
    H5Gclose(g);
    H5Fflush(f, H5F_SCOPE_LOCAL);
    return AMT_OK;
}
