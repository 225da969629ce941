#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "error.h"

#define PARAMS_GROUP "params"
#define OPTIM_GROUP "optim"
#define CKPT_PATH_MAX 4096
/* The file starts with an HDF5 user block (ignored by HDF5 and h5py) holding our own
 * header: magic, the file size and a CRC-32 of everything after the block. A truncated or
 * corrupted file is recognised before HDF5 parses it (HDF5 can crash on some damage). */
#define UB_SIZE 512
#define UB_MAGIC "AMT-CHECKPOINT\n"

/* ---- float16 ---- */

uint16_t amt_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u));   /* inf, nan */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);   /* >= 65520 rounds to inf */
    if (a < 0x38800000u) {   /* below 2^-14: a half subnormal (or zero) = round(|f| * 2^24) */
        float af;
        memcpy(&af, &a, 4);
        return (uint16_t)(sign | (uint16_t)lrintf(af * 16777216.0f));
    }
    uint32_t h = ((a >> 23) - 127 + 15) << 10 | ((a & 0x7fffffu) >> 13);
    uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;   /* nearest even; carries into exponent */
    return (uint16_t)(sign | h);
}

float amt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        float v = (float)m * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (e == 31) x = sign | 0x7f800000u | (m << 13);
    else x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* the HDF5 description of IEEE half precision, as h5py defines it */
static hid_t f16_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- file seal: size + CRC-32 in the user block ---- */

/* CRC-32 (IEEE, zlib's crc32: ~20x a byte-table loop, which took 9% of a 20 s
 * transcription's CPU time in loading the model) of bytes [from, to) of fd */
static int file_crc(int fd, off_t from, off_t to, uint32_t *out)
{
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return -1;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (off_t at = from; at < to;) {
        size_t want = (size_t)(to - at < CHUNK ? to - at : CHUNK);
        ssize_t got = pread(fd, buf, want, at);
        if (got <= 0) { free(buf); return -1; }
        crc = crc32(crc, buf, (uInt)got);
        at += got;
    }
    free(buf);
    *out = (uint32_t)crc;
    return 0;
}

/* writes the user block header of a finished file and syncs it */
static int seal_file(const char *tmp)
{
    int fd = open(tmp, O_RDWR);
    if (fd < 0) return -1;
    struct stat st;
    uint32_t crc = 0;
    char hdr[UB_SIZE];
    int ok = fstat(fd, &st) == 0 && st.st_size >= UB_SIZE && file_crc(fd, UB_SIZE, st.st_size, &crc) == 0;
    if (ok) {
        memset(hdr, 0, sizeof hdr);
        snprintf(hdr, sizeof hdr, "%ssize=%lld crc32=%08x\n", UB_MAGIC, (long long)st.st_size, (unsigned)crc);
        ok = pwrite(fd, hdr, UB_SIZE, 0) == UB_SIZE && fsync(fd) == 0;
    }
    int e = errno;
    close(fd);
    errno = e;
    return ok ? 0 : -1;
}

/* checks the seal when the file has one (files written by other tools may not) */
static int verify_seal(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return amt_error(AMT_EIO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    char hdr[UB_SIZE + 1];
    ssize_t n = pread(fd, hdr, UB_SIZE, 0);
    int rc = AMT_OK;
    size_t ml = strlen(UB_MAGIC);
    if (n >= (ssize_t)ml && memcmp(hdr, UB_MAGIC, ml) == 0) {
        hdr[n] = '\0';
        long long size = -1;
        unsigned crc = 0;
        uint32_t got = 0;
        struct stat st;
        if (sscanf(hdr + ml, "size=%lld crc32=%x", &size, &crc) != 2 || size < UB_SIZE || fstat(fd, &st) != 0)
            rc = amt_error(AMT_EFORMAT, "%s: damaged checkpoint header (truncated or corrupted file)", path);
        else if ((long long)st.st_size < size)
            rc = amt_error(AMT_EFORMAT, "%s: truncated checkpoint (%lld of %lld bytes)", path, (long long)st.st_size, size);
        else if ((long long)st.st_size > size)
            rc = amt_error(AMT_EFORMAT, "%s: corrupted checkpoint (%lld bytes, %lld written)", path, (long long)st.st_size, size);
        else if (file_crc(fd, UB_SIZE, (off_t)size, &got) != 0)
            rc = amt_error(AMT_EIO, "%s: read error: %s", path, strerror(errno));
        else if (got != (uint32_t)crc)
            rc = amt_error(AMT_EFORMAT, "%s: corrupted checkpoint (CRC-32 %08x, header says %08x)", path, (unsigned)got, crc);
    }
    close(fd);
    return rc;
}

/* ---- HDF5 error detail ---- */

static herr_t walk_cb(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;
    if (n == 0 && err->desc) snprintf(buf, 256, "%s", err->desc);
    return 0;
}

/* the innermost HDF5 error description (e.g. "truncated file: eof = ..."), or "" */
static const char *h5_detail(char *buf)
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- writing ---- */

static int write_attr(hid_t loc, const char *name, hid_t type, int n, const void *value)
{
    hsize_t dim = (hsize_t)n;
    hid_t space = n ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = space >= 0 ? H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

/* fixed-length strings live in the (checksummed) object header; variable-length ones would
 * go to the global heap, which has no checksum and crashes HDF5 when corrupted */
static int write_attr_str(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    int ok = H5Tset_size(t, strlen(s) + 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0 &&
             H5Tset_cset(t, H5T_CSET_UTF8) >= 0 && write_attr(loc, name, t, 0, s) == 0;
    H5Tclose(t);
    return ok ? 0 : -1;
}

/* dataset `name` (a path below the file root) with t's shape and data; fp16 stores half floats */
static int write_dataset(hid_t f, hid_t lcpl, const char *name, const amt_tensor *t, hid_t f16)
{
    hsize_t dims[AMT_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
    hid_t space = H5Screate_simple(t->ndim, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, t->ndim, dims) >= 0 && H5Pset_fletcher32(dcpl) >= 0;
    hid_t d = ok ? H5Dcreate2(f, name, f16 >= 0 ? f16 : H5T_IEEE_F32LE, space, lcpl, dcpl, H5P_DEFAULT) : -1;
    ok = d >= 0;
    if (ok && f16 >= 0) {
        uint16_t *h = malloc(t->size * sizeof *h);
        ok = h != NULL;
        if (ok) {
            for (size_t i = 0; i < t->size; i++) h[i] = amt_f32_to_f16(t->data[i]);
            ok = H5Dwrite(d, f16, H5S_ALL, H5S_ALL, H5P_DEFAULT, h) >= 0;
        }
        free(h);
    } else if (ok) {
        ok = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0;
    }
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

static int write_contents(hid_t f, const amt_params *ps, const amt_optim *opt, const amt_ckpt_info *info, int flags,
                          const char *path)
{
    char detail[256], name[CKPT_PATH_MAX];
    int version = AMT_CKPT_FORMAT_VERSION;
    int64_t step = info->step, epoch = info->epoch;
    if (write_attr(f, "format_version", H5T_NATIVE_INT32, 0, &version) || write_attr_str(f, "model", info->model) ||
        write_attr_str(f, "config", info->config ? info->config : "") ||
        write_attr(f, "step", H5T_NATIVE_INT64, 0, &step) || write_attr(f, "epoch", H5T_NATIVE_INT64, 0, &epoch) ||
        write_attr(f, "rng", H5T_NATIVE_UINT64, 4, info->rng.s))
        return amt_error(AMT_EIO, "%s: cannot write attributes: %s", path, h5_detail(detail));
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t f16 = (flags & AMT_CKPT_FLOAT16) ? f16_type() : -1;
    int rc = AMT_OK;
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 || ((flags & AMT_CKPT_FLOAT16) && f16 < 0)) {
        rc = amt_error(AMT_EIO, "%s: HDF5 set-up failed: %s", path, h5_detail(detail));
        goto done;
    }
    hid_t g = H5Gcreate2(f, PARAMS_GROUP, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) { rc = amt_error(AMT_EIO, "%s: cannot create /%s: %s", path, PARAMS_GROUP, h5_detail(detail)); goto done; }
    H5Gclose(g);
    for (int i = 0; i < ps->n; i++) {
        snprintf(name, sizeof name, "%s/%s", PARAMS_GROUP, ps->p[i]->name);
        /* float16 is for weights; non-trainable state (statistics, thresholds) stays exact */
        if (write_dataset(f, lcpl, name, &ps->p[i]->t, ps->p[i]->trainable ? f16 : -1) != 0) {
            rc = amt_error(AMT_EIO, "%s: cannot write /%s: %s", path, name, h5_detail(detail));
            goto done;
        }
    }
    if (opt) {
        g = H5Gcreate2(f, OPTIM_GROUP, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t ostep = opt->step;
        int bad = g < 0 || write_attr_str(g, "kind", amt_optim_kind_name(opt->cfg.kind)) ||
                  write_attr(g, "step", H5T_NATIVE_INT64, 0, &ostep);
        if (g >= 0) H5Gclose(g);
        if (bad) { rc = amt_error(AMT_EIO, "%s: cannot write /%s: %s", path, OPTIM_GROUP, h5_detail(detail)); goto done; }
        for (int i = 0; i < opt->n_state; i++) {
            snprintf(name, sizeof name, "%s/%s", OPTIM_GROUP, opt->state[i].name);
            if (write_dataset(f, lcpl, name, &opt->state[i].t, -1) != 0) {
                rc = amt_error(AMT_EIO, "%s: cannot write /%s: %s", path, name, h5_detail(detail));
                goto done;
            }
        }
    }
done:
    if (f16 >= 0) H5Tclose(f16);
    if (lcpl >= 0) H5Pclose(lcpl);
    return rc;
}

static int fsync_dir(const char *p)
{
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int amt_checkpoint_save(const char *path, const amt_params *ps, const amt_optim *opt, const amt_ckpt_info *info, int flags)
{
    h5_quiet();
    char tmp[CKPT_PATH_MAX], detail[256];
    if (!path || !ps || !info) return amt_error(AMT_EINVAL, "checkpoint save: NULL path, parameters or info");
    if (!info->model[0]) return amt_error(AMT_EINVAL, "%s: checkpoint save: model kind is empty", path);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return amt_error(AMT_EINVAL, "%s: path too long", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return amt_error(AMT_EIO, "%s: HDF5 set-up failed: %s", path, h5_detail(detail));
    }
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl < 0 || H5Pset_userblock(fcpl, UB_SIZE) < 0) {
        if (fcpl >= 0) H5Pclose(fcpl);
        H5Pclose(fapl);
        return amt_error(AMT_EIO, "%s: HDF5 set-up failed: %s", path, h5_detail(detail));
    }
    errno = 0;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (f < 0) {
        int e = errno;
        h5_detail(detail);
        return amt_error(AMT_EIO, "%s: cannot create %s: %s", path, tmp, e ? strerror(e) : detail);
    }
    int rc = write_contents(f, ps, opt, info, flags, path);
    if (H5Fclose(f) < 0 && rc == AMT_OK) rc = amt_error(AMT_EIO, "%s: cannot finish writing %s: %s", path, tmp, h5_detail(detail));
    if (rc == AMT_OK && seal_file(tmp) != 0) rc = amt_error(AMT_EIO, "%s: cannot seal and sync %s: %s", path, tmp, strerror(errno));
    if (rc == AMT_OK && rename(tmp, path) != 0) rc = amt_error(AMT_EIO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (rc != AMT_OK) {
        unlink(tmp);
        return rc;
    }
    char dir[CKPT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    fsync_dir(dirname(dir));   /* make the rename durable; failure here loses nothing */
    return AMT_OK;
}

/* ---- reading ---- */

static int open_file(const char *path, hid_t *out)
{
    h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0) return amt_error(AMT_EIO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return amt_error(AMT_EIO, "%s: not a regular file", path);
    if (access(path, R_OK) != 0) return amt_error(AMT_EIO, "%s: cannot read checkpoint: %s", path, strerror(errno));
    int rc = verify_seal(path);
    if (rc) return rc;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) {
        char detail[256];
        h5_detail(detail);
        if (H5Fis_hdf5(path) <= 0)
            return amt_error(AMT_EFORMAT, "%s: not an HDF5 checkpoint (no HDF5 signature)%s%s", path, detail[0] ? ": " : "", detail);
        return amt_error(AMT_EFORMAT, "%s: cannot open HDF5 file (truncated or corrupted): %s", path, detail);
    }
    *out = f;
    return AMT_OK;
}

static int read_attr_num(hid_t loc, const char *obj, const char *name, hid_t mtype, int n, void *out, const char *path)
{
    char detail[256];
    htri_t ex = H5Aexists(loc, name);
    if (ex <= 0) return amt_error(AMT_EFORMAT, "%s: attribute %s@%s missing", path, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t cnt = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int ok = a >= 0 && cnt == (n ? n : 1);
    hid_t t = ok ? H5Aget_type(a) : -1;
    ok = ok && t >= 0 && (H5Tget_class(t) == H5T_INTEGER || H5Tget_class(t) == H5T_FLOAT);
    ok = ok && H5Aread(a, mtype, out) >= 0;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
    if (!ok) return amt_error(AMT_EFORMAT, "%s: attribute %s@%s unreadable or of the wrong type/size %s", path, obj, name, h5_detail(detail));
    return AMT_OK;
}

/* a string attribute (variable or fixed length) as a malloc'd string */
static int read_attr_str(hid_t loc, const char *obj, const char *name, char **out, const char *path)
{
    char detail[256];
    if (H5Aexists(loc, name) <= 0) return amt_error(AMT_EFORMAT, "%s: attribute %s@%s missing", path, obj, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
    int ok = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1;
    char *s = NULL;
    if (ok && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        char *v = NULL;
        ok = mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) >= 0 && H5Aread(a, mt, &v) >= 0;
        if (ok) {
            s = strdup(v ? v : "");
            H5free_memory(v);
        }
        if (mt >= 0) H5Tclose(mt);
    } else if (ok) {
        size_t n = H5Tget_size(t);
        s = calloc(n + 1, 1);
        hid_t mt = H5Tcopy(t);
        ok = s && mt >= 0 && H5Aread(a, mt, s) >= 0;
        if (mt >= 0) H5Tclose(mt);
    }
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    if (!ok || !s) {
        free(s);
        return amt_error(AMT_EFORMAT, "%s: attribute %s@%s is not a readable string %s", path, obj, name, h5_detail(detail));
    }
    *out = s;
    return AMT_OK;
}

static int read_info(hid_t f, const char *path, amt_ckpt_info *info)
{
    memset(info, 0, sizeof *info);
    int rc = read_attr_num(f, "/", "format_version", H5T_NATIVE_INT, 0, &info->format_version, path);
    if (rc) return rc;
    if (info->format_version != AMT_CKPT_FORMAT_VERSION)
        return amt_error(AMT_EFORMAT, "%s: checkpoint format_version %d, this program reads %d", path, info->format_version,
                         AMT_CKPT_FORMAT_VERSION);
    char *model = NULL;
    if ((rc = read_attr_str(f, "/", "model", &model, path))) return rc;
    snprintf(info->model, sizeof info->model, "%s", model);
    int long_model = strlen(model) >= sizeof info->model;
    free(model);
    if (long_model) return amt_error(AMT_EFORMAT, "%s: model attribute longer than %d", path, AMT_CKPT_MODEL_MAX - 1);
    if ((rc = read_attr_num(f, "/", "step", H5T_NATIVE_INT64, 0, &info->step, path)) ||
        (rc = read_attr_num(f, "/", "epoch", H5T_NATIVE_INT64, 0, &info->epoch, path)) ||
        (rc = read_attr_num(f, "/", "rng", H5T_NATIVE_UINT64, 4, info->rng.s, path)))
        return rc;
    return read_attr_str(f, "/", "config", &info->config, path);
}

void amt_ckpt_info_free(amt_ckpt_info *info)
{
    if (!info) return;
    free(info->config);
    info->config = NULL;
}

int amt_checkpoint_read_info(const char *path, amt_ckpt_info *info)
{
    hid_t f;
    int rc = open_file(path, &f);
    if (rc) return rc;
    rc = read_info(f, path, info);
    if (rc) amt_ckpt_info_free(info);
    H5Fclose(f);
    return rc;
}

/* names of the datasets below a group (relative paths) */
typedef struct name_list { char **v; int n, cap, oom; } name_list;

static herr_t collect_cb(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    name_list *l = data;
    if (li->type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return -1;
    int is_ds = H5Iget_type(o) == H5I_DATASET;
    H5Oclose(o);
    if (!is_ds) return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) { l->oom = 1; return -1; }
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name))) { l->oom = 1; return -1; }
    l->n++;
    return 0;
}

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_take(name_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (l->v[i] && strcmp(l->v[i], name) == 0) { free(l->v[i]); l->v[i] = NULL; return 1; }
    return 0;
}

static int list_group(hid_t f, const char *group, name_list *l, const char *path)
{
    char detail[256];
    memset(l, 0, sizeof *l);
    if (H5Lexists(f, group, H5P_DEFAULT) <= 0) return amt_error(AMT_EFORMAT, "%s: group /%s missing", path, group);
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return amt_error(AMT_EFORMAT, "%s: /%s is not a readable group: %s", path, group, h5_detail(detail));
    herr_t r = H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, collect_cb, l);
    H5Gclose(g);
    if (l->oom) return amt_error(AMT_ENOMEM, "%s: out of memory listing /%s", path, group);
    if (r < 0) return amt_error(AMT_EFORMAT, "%s: cannot list /%s (corrupted?): %s", path, group, h5_detail(detail));
    return AMT_OK;
}

/* checks dataset `name` against t's shape and element type; *half = stored as float16 */
static int check_dataset(hid_t f, const char *name, const amt_tensor *t, int *half, const char *path)
{
    char detail[256], want[64];
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return amt_error(AMT_EFORMAT, "%s: dataset /%s unreadable: %s", path, name, h5_detail(detail));
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    hsize_t dims[8];
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    int rc = AMT_OK;
    if (nd < 0 || nd > 8 || ty < 0) {
        rc = amt_error(AMT_EFORMAT, "%s: dataset /%s has an unreadable shape or type: %s", path, name, h5_detail(detail));
        goto out;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    int same = nd == t->ndim;
    for (int i = 0; same && i < nd; i++) same = dims[i] == (hsize_t)t->shape[i];
    if (!same) {
        char got[128] = "(";
        for (int i = 0; i < nd; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
        strcat(got, ")");
        rc = amt_error(AMT_EFORMAT, "%s: /%s has shape %s in the file, the model expects %s", path, name, got,
                       amt_shape_str(t, want, sizeof want));
        goto out;
    }
    size_t sz = H5Tget_size(ty);
    if (H5Tget_class(ty) != H5T_FLOAT || (sz != 2 && sz != 4 && sz != 8)) {
        rc = amt_error(AMT_EFORMAT, "%s: /%s is not a float16/32/64 dataset", path, name);
        goto out;
    }
    *half = sz == 2;
out:
    if (ty >= 0) H5Tclose(ty);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static int read_dataset(hid_t f, const char *name, float *dst, size_t n, int half, const char *path)
{
    char detail[256];
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    int ok = d >= 0;
    if (ok && half) {
        hid_t ht = f16_type();
        uint16_t *h = malloc((n ? n : 1) * sizeof *h);
        ok = ht >= 0 && h && H5Dread(d, ht, H5S_ALL, H5S_ALL, H5P_DEFAULT, h) >= 0;
        if (ok)
            for (size_t i = 0; i < n; i++) dst[i] = amt_f16_to_f32(h[i]);
        free(h);
        if (ht >= 0) H5Tclose(ht);
    } else if (ok) {
        ok = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) >= 0;
    }
    if (d >= 0) H5Dclose(d);
    if (!ok) return amt_error(AMT_EFORMAT, "%s: cannot read /%s (corrupted data, checksum mismatch?): %s", path, name, h5_detail(detail));
    return AMT_OK;
}

/* one tensor to fill: its dataset name, destination, staging offset */
typedef struct load_item { char name[CKPT_PATH_MAX]; amt_tensor *t; size_t off; int half; } load_item;

int amt_checkpoint_load(const char *path, const char *model, amt_params *ps, amt_optim *opt, amt_ckpt_info *info)
{
    hid_t f;
    int rc = open_file(path, &f);
    if (rc) return rc;
    amt_ckpt_info in;
    memset(&in, 0, sizeof in);
    name_list pl = {0}, ol = {0};
    load_item *items = NULL;
    float *stage = NULL;
    char *okind = NULL;
    int64_t ostep = 0;
    if ((rc = read_info(f, path, &in))) goto out;
    if (model && strcmp(model, in.model) != 0) {
        rc = amt_error(AMT_EFORMAT, "%s: checkpoint of a '%s' model, expected '%s'", path, in.model, model);
        goto out;
    }
    int n_items = ps->n + (opt ? opt->n_state : 0);
    items = calloc((size_t)(n_items ? n_items : 1), sizeof *items);
    if (!items) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", path); goto out; }
    /* 1. structure: every expected name and shape, nothing unexpected */
    if ((rc = list_group(f, PARAMS_GROUP, &pl, path))) goto out;
    size_t total = 0;
    int k = 0;
    for (int i = 0; i < ps->n; i++) {
        load_item *it = &items[k];
        snprintf(it->name, sizeof it->name, "%s/%s", PARAMS_GROUP, ps->p[i]->name);
        it->t = &ps->p[i]->t;
        if (!names_take(&pl, ps->p[i]->name)) {
            if (ps->p[i]->optional) continue;   /* an older file: the parameter keeps its value */
            rc = amt_error(AMT_EFORMAT, "%s: dataset /%s missing (parameter of the model not in the file)", path, it->name);
            goto out;
        }
        if ((rc = check_dataset(f, it->name, it->t, &it->half, path))) goto out;
        it->off = total;
        total += it->t->size;
        k++;
    }
    for (int i = 0; i < pl.n; i++)
        if (pl.v[i]) {
            rc = amt_error(AMT_EFORMAT, "%s: unexpected dataset /%s/%s (not a parameter of this model)", path, PARAMS_GROUP, pl.v[i]);
            goto out;
        }
    if (opt) {
        if (H5Lexists(f, OPTIM_GROUP, H5P_DEFAULT) <= 0) {
            rc = amt_error(AMT_EFORMAT, "%s: no optimizer state (/%s) to resume from", path, OPTIM_GROUP);
            goto out;
        }
        hid_t g = H5Gopen2(f, OPTIM_GROUP, H5P_DEFAULT);
        if (g < 0) { rc = amt_error(AMT_EFORMAT, "%s: /%s unreadable", path, OPTIM_GROUP); goto out; }
        rc = read_attr_str(g, "/optim", "kind", &okind, path);
        if (!rc) rc = read_attr_num(g, "/optim", "step", H5T_NATIVE_INT64, 0, &ostep, path);
        H5Gclose(g);
        if (rc) goto out;
        if (strcmp(okind, amt_optim_kind_name(opt->cfg.kind)) != 0) {
            rc = amt_error(AMT_EFORMAT, "%s: optimizer state is for '%s', the optimizer is '%s'", path, okind,
                           amt_optim_kind_name(opt->cfg.kind));
            goto out;
        }
        if (ostep < 0) { rc = amt_error(AMT_EFORMAT, "%s: /optim@step %lld is negative", path, (long long)ostep); goto out; }
        if ((rc = list_group(f, OPTIM_GROUP, &ol, path))) goto out;
        for (int i = 0; i < opt->n_state; i++, k++) {
            load_item *it = &items[k];
            snprintf(it->name, sizeof it->name, "%s/%s", OPTIM_GROUP, opt->state[i].name);
            it->t = &opt->state[i].t;
            if (!names_take(&ol, opt->state[i].name)) {
                rc = amt_error(AMT_EFORMAT, "%s: dataset /%s missing (optimizer state not in the file)", path, it->name);
                goto out;
            }
            if ((rc = check_dataset(f, it->name, it->t, &it->half, path))) goto out;
            it->off = total;
            total += it->t->size;
        }
        for (int i = 0; i < ol.n; i++)
            if (ol.v[i]) {
                rc = amt_error(AMT_EFORMAT, "%s: unexpected dataset /%s/%s (not a state of this optimizer)", path, OPTIM_GROUP, ol.v[i]);
                goto out;
            }
    }
    /* 2. read everything into a staging buffer (a corrupted dataset fails here) */
    stage = malloc((total ? total : 1) * sizeof *stage);
    if (!stage) { rc = amt_error(AMT_ENOMEM, "%s: out of memory (%zu floats)", path, total); goto out; }
    for (int i = 0; i < k; i++)
        if ((rc = read_dataset(f, items[i].name, stage + items[i].off, items[i].t->size, items[i].half, path))) goto out;
    /* 3. commit */
    for (int i = 0; i < k; i++) memcpy(items[i].t->data, stage + items[i].off, items[i].t->size * sizeof(float));
    if (opt) opt->step = ostep;
    if (info) {
        *info = in;
        in.config = NULL;
    }
out:
    free(okind);
    free(stage);
    free(items);
    names_free(&pl);
    names_free(&ol);
    amt_ckpt_info_free(&in);
    H5Fclose(f);
    return rc;
}

/* ---- inspect ---- */

typedef struct inspect_ctx {
    void (*fn)(void *, const amt_ckpt_item *);
    void *ctx;
    const char *obj;   /* object whose attributes are being listed */
} inspect_ctx;

static const char *type_name(hid_t t)
{
    size_t sz = H5Tget_size(t);
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: return sz == 2 ? "float16" : sz == 4 ? "float32" : sz == 8 ? "float64" : "other";
    case H5T_INTEGER:
        if (H5Tget_sign(t) == H5T_SGN_NONE) return sz == 8 ? "uint64" : "other";
        return sz == 4 ? "int32" : sz == 8 ? "int64" : "other";
    case H5T_STRING: return "string";
    default: return "other";
    }
}

static void fill_shape(hid_t sp, amt_ckpt_item *it)
{
    hsize_t dims[8];
    int nd = H5Sget_simple_extent_ndims(sp);
    if (nd < 0 || nd > 8) nd = 0;
    H5Sget_simple_extent_dims(sp, dims, NULL);
    it->ndim = nd;
    for (int i = 0; i < nd; i++) it->shape[i] = (int64_t)dims[i];
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *ai, void *data)
{
    (void)ai;
    inspect_ctx *c = data;
    char full[CKPT_PATH_MAX];
    snprintf(full, sizeof full, "%s@%s", c->obj, name);
    amt_ckpt_item it = {1, full, "other", 0, {0}, NULL, 0};
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *s = NULL;
    if (t >= 0 && sp >= 0) {
        it.dtype = type_name(t);
        fill_shape(sp, &it);
        if (H5Tget_class(t) == H5T_STRING) {
            if (read_attr_str(loc, c->obj, name, &s, "") == AMT_OK) it.text = s;
        } else if (H5Sget_simple_extent_npoints(sp) == 1 && strcmp(it.dtype, "other") != 0) {
            H5Aread(a, H5T_NATIVE_DOUBLE, &it.value);
        }
        c->fn(c->ctx, &it);
    }
    free(s);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return 0;
}

static herr_t obj_cb(hid_t g, const char *name, const H5L_info_t *li, void *data)
{
    inspect_ctx *c = data;
    if (li->type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return 0;
    char full[CKPT_PATH_MAX];
    snprintf(full, sizeof full, "/%s", name);
    if (H5Iget_type(o) == H5I_DATASET) {
        amt_ckpt_item it = {0, full, "other", 0, {0}, NULL, 0};
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
        if (t >= 0 && sp >= 0) {
            it.dtype = type_name(t);
            fill_shape(sp, &it);
            c->fn(c->ctx, &it);
        }
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
    }
    inspect_ctx sub = {c->fn, c->ctx, full};
    hsize_t idx = 0;
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &sub);
    H5Oclose(o);
    return 0;
}

int amt_checkpoint_inspect(const char *path, void (*fn)(void *ctx, const amt_ckpt_item *item), void *ctx)
{
    hid_t f;
    int rc = open_file(path, &f);
    if (rc) return rc;
    char detail[256];
    inspect_ctx c = {fn, ctx, "/"};
    hsize_t idx = 0;
    herr_t r = H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &c);
    if (r >= 0) r = H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, obj_cb, &c);
    if (r < 0) rc = amt_error(AMT_EFORMAT, "%s: cannot list the file (corrupted?): %s", path, h5_detail(detail));
    H5Fclose(f);
    return rc;
}
