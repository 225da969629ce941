/* tests/test_checkpoint.c: HDF5 checkpoints: bit-exact float32 round trip (parameters,
 * optimizer state, attributes), float16 round trip, 2N training steps == N steps + save +
 * load + N steps (bit-exact), clear errors and no crash for a missing, non-HDF5, truncated or
 * corrupted file, a missing/extra dataset, a shape mismatch, the wrong model kind or
 * optimizer; the previous checkpoint survives a failed save; h5py reads what we wrote
 * (skipped when /usr/bin/python3 or h5py is absent). Files go to a temporary directory. */
#include <hdf5.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/amt.h"
#include "core/checkpoint.h"
#include "core/optim.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "tests/test.h"

static char g_dir[256];

/* HDF5 1.10 itself leaks a few hundred bytes on some error paths when it parses a damaged
 * file without our seal (test_corrupted_bytes does that on purpose); LeakSanitizer (in
 * SANITIZE=1 builds) reads this hook and ignores leaks inside libhdf5 only. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\nleak:libhdf5.so\n"; }

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int msg_has(const char *a, const char *b)
{
    const char *m = amt_errmsg();
    int ok = strstr(m, a) && (!b || strstr(m, b));
    if (!ok) fprintf(stderr, "  message was: %s\n", m);
    return ok;
}

/* a parameter store like a small CNN's: conv, batch norm (with non-trainable stats), fc */
static void make_params(amt_params *ps, uint64_t seed, int fc_in)
{
    amt_params_init(ps);
    int sw[4] = {4, 3, 3, 3}, s4[1] = {4}, sf[2] = {2, fc_in}, s2[1] = {2};
    amt_params_add(ps, "conv1/weight", 4, sw, 1);
    amt_params_add(ps, "conv1/bias", 1, s4, 1);
    amt_params_add(ps, "bn1/gamma", 1, s4, 1);
    amt_params_add(ps, "bn1/running_mean", 1, s4, 0);
    amt_params_add(ps, "bn1/running_var", 1, s4, 0);
    amt_params_add(ps, "fc/weight", 2, sf, 1);
    amt_params_add(ps, "fc/bias", 1, s2, 1);
    amt_rng r;
    amt_rng_seed(&r, seed);
    for (int i = 0; i < ps->n; i++)
        for (size_t k = 0; k < ps->p[i]->t.size; k++) ps->p[i]->t.data[k] = (float)amt_rng_normal(&r);
}

static int params_equal(const amt_params *a, const amt_params *b)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->p[i]->t.size != b->p[i]->t.size || memcmp(a->p[i]->t.data, b->p[i]->t.data, a->p[i]->t.size * sizeof(float)))
            return 0;
    return 1;
}

static amt_ckpt_info make_info(const char *model)
{
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "%s", model);
    info.config = "[model]\nkind = classifier\n\n[train]\nbatch = 16\nlr = 0.001\n";
    info.step = 1234567890123LL;
    info.epoch = 7;
    amt_rng_seed(&info.rng, 99);
    amt_rng_u64(&info.rng);
    return info;
}

static void test_f16_conversion(void)
{
    CHECK(amt_f32_to_f16(1.0f) == 0x3c00);
    CHECK(amt_f32_to_f16(-2.0f) == 0xc000);
    CHECK(amt_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(amt_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(amt_f32_to_f16(65520.0f) == 0x7c00);       /* rounds to inf */
    CHECK(amt_f32_to_f16(1e10f) == 0x7c00);
    CHECK(amt_f32_to_f16(5.9604645e-08f) == 0x0001); /* 2^-24, smallest subnormal */
    CHECK(amt_f32_to_f16(2.0e-8f) == 0x0000);
    CHECK(amt_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);     /* tie -> even */
    CHECK(amt_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);     /* tie -> even (up) */
    CHECK(amt_f32_to_f16(0.1f) == 0x2e66);
    CHECK(amt_f16_to_f32(0x3555) == 0.333251953125f);
    /* every non-NaN half survives half -> float -> half */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;
        bad += amt_f32_to_f16(amt_f16_to_f32((uint16_t)h)) != h;
    }
    CHECK(bad == 0);
}

static void test_roundtrip_float32(void)
{
    amt_params a, b;
    make_params(&a, 1, 8);
    make_params(&b, 2, 8);
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    amt_optim *oa = amt_optim_new(&a, &oc), *ob = amt_optim_new(&b, &oc);
    REQUIRE(oa && ob);
    for (int i = 0; i < oa->n_state; i++)
        for (size_t k = 0; k < oa->state[i].t.size; k++) oa->state[i].t.data[k] = (float)(i + 1) * 0.001f * (float)k;
    oa->step = 42;
    amt_ckpt_info info = make_info("classifier");
    const char *path = tmp_path("rt32.h5");
    CHECK_OK(amt_checkpoint_save(path, &a, oa, &info, 0));
    CHECK(access(tmp_path("rt32.h5.tmp"), F_OK) != 0);   /* the temporary is gone */
    CHECK(!params_equal(&a, &b));
    amt_ckpt_info got;
    CHECK_OK(amt_checkpoint_load(path, "classifier", &b, ob, &got));
    CHECK(params_equal(&a, &b));
    CHECK(ob->step == 42);
    for (int i = 0; i < oa->n_state; i++)
        CHECK(memcmp(oa->state[i].t.data, ob->state[i].t.data, oa->state[i].t.size * sizeof(float)) == 0);
    CHECK(got.format_version == AMT_CKPT_FORMAT_VERSION);
    CHECK(strcmp(got.model, "classifier") == 0);
    CHECK(got.config && strcmp(got.config, info.config) == 0);
    CHECK(got.step == info.step && got.epoch == 7);
    CHECK(memcmp(got.rng.s, info.rng.s, sizeof got.rng.s) == 0);
    amt_ckpt_info_free(&got);
    /* attributes alone */
    CHECK_OK(amt_checkpoint_read_info(path, &got));
    CHECK(got.config && strstr(got.config, "batch = 16"));
    amt_ckpt_info_free(&got);
    /* loading parameters only (an inference model) ignores the optimizer state */
    amt_params c;
    make_params(&c, 3, 8);
    CHECK_OK(amt_checkpoint_load(path, NULL, &c, NULL, NULL));
    CHECK(params_equal(&a, &c));
    amt_params_free(&c);
    amt_optim_free(oa);
    amt_optim_free(ob);
    amt_params_free(&a);
    amt_params_free(&b);
}

static void test_roundtrip_float16(void)
{
    amt_params a, b;
    make_params(&a, 4, 200);
    make_params(&b, 5, 200);
    amt_ckpt_info info = make_info("classifier");
    const char *p32 = tmp_path("m32.h5"), *p16 = tmp_path("m16.h5");
    CHECK_OK(amt_checkpoint_save(p32, &a, NULL, &info, 0));
    CHECK_OK(amt_checkpoint_save(p16, &a, NULL, &info, AMT_CKPT_FLOAT16));
    struct stat s32, s16;
    REQUIRE(stat(p32, &s32) == 0 && stat(p16, &s16) == 0);
    CHECK_MSG(s16.st_size < s32.st_size - (off_t)(amt_params_count(&a, 1) * 2) * 9 / 10, "float16 file %lld bytes, float32 %lld",
              (long long)s16.st_size, (long long)s32.st_size);
    CHECK_OK(amt_checkpoint_load(p16, "classifier", &b, NULL, NULL));
    double worst = 0;
    int exact = 1;
    for (int i = 0; i < a.n; i++)
        for (size_t k = 0; k < a.p[i]->t.size; k++) {
            float x = a.p[i]->t.data[k], y = b.p[i]->t.data[k];
            double rel = fabs((double)x - y) / fmax(fabs((double)x), 6.1e-5);
            if (rel > worst) worst = rel;
            /* trainable: float16; non-trainable state (bn statistics): float32, exact */
            exact &= y == (a.p[i]->trainable ? amt_f16_to_f32(amt_f32_to_f16(x)) : x);
        }
    CHECK_MSG(worst <= 1.0 / 2048 + 1e-9, "float16 relative error %.3g", worst);
    CHECK(exact);
    amt_params_free(&a);
    amt_params_free(&b);
}

/* ---- error cases ---- */

static int copy_prefix(const char *src, const char *dst, long n)
{
    FILE *f = fopen(src, "rb"), *g = fopen(dst, "wb");
    if (!f || !g) { if (f) fclose(f); if (g) fclose(g); return -1; }
    int ch;
    long k = 0;
    while ((n < 0 || k < n) && (ch = fgetc(f)) != EOF) { fputc(ch, g); k++; }
    fclose(f);
    fclose(g);
    return 0;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *read_all(const char *p, long *n)
{
    *n = file_size(p);
    if (*n <= 0) return NULL;
    unsigned char *buf = malloc((size_t)*n);
    FILE *f = fopen(p, "rb");
    if (!buf || !f || fread(buf, 1, (size_t)*n, f) != (size_t)*n) { free(buf); if (f) fclose(f); return NULL; }
    fclose(f);
    return buf;
}

static int write_all(const char *p, const unsigned char *buf, long n)
{
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, (size_t)n, f);
    fclose(f);
    return w == (size_t)n ? 0 : -1;
}

static void test_missing_and_not_hdf5(void)
{
    amt_params a;
    make_params(&a, 1, 8);
    const char *p = tmp_path("does_not_exist.h5");
    CHECK(amt_checkpoint_load(p, NULL, &a, NULL, NULL) == AMT_EIO);
    CHECK(msg_has(p, "No such file"));
    const char *t = tmp_path("text.h5");
    REQUIRE(write_all(t, (const unsigned char *)"[model]\nkind = x\n", 17) == 0);
    CHECK(amt_checkpoint_load(t, NULL, &a, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(t, "not an HDF5 checkpoint"));
    CHECK(amt_checkpoint_load(g_dir, NULL, &a, NULL, NULL) == AMT_EIO);
    CHECK(msg_has(g_dir, "not a regular file"));
    amt_params_free(&a);
}

static void test_truncated(void)
{
    amt_params a, b;
    make_params(&a, 1, 8);
    make_params(&b, 2, 8);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("full.h5"), *t = tmp_path("trunc.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, NULL, &info, 0));
    long n = file_size(p);
    REQUIRE(n > 0);
    const long cuts[] = {0, 7, 100, n / 3, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        REQUIRE(copy_prefix(p, t, cuts[i]) == 0);
        int rc = amt_checkpoint_load(t, NULL, &b, NULL, NULL);
        CHECK_MSG(rc == AMT_EFORMAT, "cut at %ld of %ld: rc %d", cuts[i], n, rc);
        CHECK(msg_has(t, NULL));
        if (cuts[i] > 100) CHECK(msg_has("truncated", NULL));
    }
    /* a failed load changed nothing */
    amt_params c;
    make_params(&c, 2, 8);
    CHECK(params_equal(&b, &c));
    amt_params_free(&a);
    amt_params_free(&b);
    amt_params_free(&c);
}

static void test_corrupted_bytes(void)
{
    amt_params a, b;
    make_params(&a, 1, 8);
    /* a recognisable value run in fc/weight so we can find the raw data in the file */
    amt_tensor *w = &amt_params_find(&a, "fc/weight")->t;
    for (size_t k = 0; k < w->size; k++) w->data[k] = 1234.5f + (float)k;
    make_params(&b, 2, 8);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("good.h5"), *c = tmp_path("corrupt.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, NULL, &info, 0));
    long n;
    unsigned char *buf = read_all(p, &n);
    REQUIRE(buf);
    long at = -1;
    for (long i = 0; i + 8 <= n && at < 0; i++)
        if (memcmp(buf + i, w->data, 8) == 0) at = i;
    REQUIRE(at >= 0);
    buf[at + 5] ^= 0x40;   /* one bit of the raw data */
    REQUIRE(write_all(c, buf, n) == 0);
    CHECK(amt_checkpoint_load(c, NULL, &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(c, "corrupted checkpoint (CRC-32"));
    /* without our seal (a file whose user block was wiped), HDF5's Fletcher-32 still tells */
    buf[0] ^= 0xff;
    REQUIRE(write_all(c, buf, n) == 0);
    CHECK(amt_checkpoint_load(c, NULL, &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(c, "/params/fc/weight"));
    CHECK(msg_has("corrupted", NULL));
    buf[0] ^= 0xff;
    buf[at + 5] ^= 0x40;
    /* flipping bytes all over the file, sealed or not, must never crash; whatever loads
     * must be exact */
    int detected = 0, loaded = 0;
    amt_params ref;
    make_params(&ref, 1, 8);
    amt_tensor *rw = &amt_params_find(&ref, "fc/weight")->t;
    memcpy(rw->data, w->data, w->size * sizeof(float));
    for (int sealed = 1; sealed >= 0; sealed--) {
        if (!sealed) buf[0] ^= 0xff;
        for (long i = 1; i < n; i += (n / 150 > 1 ? n / 150 : 1)) {
            buf[i] ^= 0xa5;
            REQUIRE(write_all(c, buf, n) == 0);
            buf[i] ^= 0xa5;
            amt_params d;
            make_params(&d, 2, 8);
            int rc = amt_checkpoint_load(c, "classifier", &d, NULL, NULL);
            if (rc == AMT_OK) {
                loaded++;
                CHECK_MSG(params_equal(&d, &ref), "flip at %ld (sealed %d) loaded wrong values", i, sealed);
            } else {
                detected++;
                CHECK_MSG(strstr(amt_errmsg(), c) != NULL, "flip at %ld: message '%s' does not name the file", i, amt_errmsg());
            }
            amt_params_free(&d);
        }
    }
    CHECK(detected > 0);
    free(buf);
    amt_params_free(&ref);
    amt_params_free(&a);
    amt_params_free(&b);
}

static void test_name_and_shape_mismatch(void)
{
    amt_params a;
    make_params(&a, 1, 8);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("names.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, NULL, &info, 0));

    amt_params b;   /* shape mismatch: fc in 9 instead of 8 */
    make_params(&b, 2, 9);
    CHECK(amt_checkpoint_load(p, "classifier", &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "/params/fc/weight has shape (2, 8) in the file, the model expects (2, 9)"));
    amt_params_free(&b);

    make_params(&b, 2, 8);   /* the model has a parameter the file lacks */
    int s[1] = {3};
    amt_params_add(&b, "fc2/bias", 1, s, 1);
    CHECK(amt_checkpoint_load(p, "classifier", &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "dataset /params/fc2/bias missing"));
    /* ... unless it is optional (a setting newer than the file): it keeps its value and
     * every other parameter loads */
    amt_params_find(&b, "fc2/bias")->t.data[1] = 0.25f;
    CHECK(amt_params_set_optional(&b, "fc2/bias") == AMT_OK);
    CHECK(amt_params_set_optional(&b, "fc3/bias") == AMT_EINVAL);
    CHECK_OK(amt_checkpoint_load(p, "classifier", &b, NULL, NULL));
    CHECK(amt_params_find(&b, "fc2/bias")->t.data[1] == 0.25f);
    CHECK(memcmp(amt_params_find(&b, "fc/weight")->t.data, amt_params_find(&a, "fc/weight")->t.data,
                 16 * sizeof(float)) == 0);
    CHECK(memcmp(amt_params_find(&b, "bn1/running_var")->t.data, amt_params_find(&a, "bn1/running_var")->t.data,
                 4 * sizeof(float)) == 0);
    amt_params_free(&b);
    /* an optional parameter present in the file loads, and its shape is still checked */
    {
        amt_params c;
        make_params(&c, 3, 8);
        amt_params_set_optional(&c, "fc/bias");
        CHECK_OK(amt_checkpoint_load(p, "classifier", &c, NULL, NULL));
        CHECK(params_equal(&a, &c));
        amt_params_free(&c);
    }

    amt_params_init(&b);   /* the file has a dataset the model lacks */
    int sw[4] = {4, 3, 3, 3}, s4[1] = {4}, sf[2] = {2, 8}, s2[1] = {2};
    amt_params_add(&b, "conv1/weight", 4, sw, 1);
    amt_params_add(&b, "conv1/bias", 1, s4, 1);
    amt_params_add(&b, "bn1/gamma", 1, s4, 1);
    amt_params_add(&b, "bn1/running_mean", 1, s4, 0);
    amt_params_add(&b, "fc/weight", 2, sf, 1);
    amt_params_add(&b, "fc/bias", 1, s2, 1);
    CHECK(amt_checkpoint_load(p, "classifier", &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "unexpected dataset /params/bn1/running_var"));
    amt_params_free(&b);

    make_params(&b, 2, 8);   /* wrong model kind */
    CHECK(amt_checkpoint_load(p, "separator", &b, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "checkpoint of a 'classifier' model, expected 'separator'"));

    /* optimizer: none in the file; then the wrong kind */
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    amt_optim *o = amt_optim_new(&b, &oc);
    REQUIRE(o);
    CHECK(amt_checkpoint_load(p, "classifier", &b, o, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "no optimizer state"));
    amt_optim_config_default(&oc, AMT_OPTIM_SGD);
    oc.momentum = 0.9;
    amt_optim *sgd = amt_optim_new(&a, &oc);
    REQUIRE(sgd);
    CHECK_OK(amt_checkpoint_save(p, &a, sgd, &info, 0));
    CHECK(amt_checkpoint_load(p, "classifier", &b, o, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "optimizer state is for 'sgd', the optimizer is 'adam'"));
    /* bad save arguments */
    amt_ckpt_info noname = make_info("");
    CHECK(amt_checkpoint_save(p, &a, NULL, &noname, 0) == AMT_EINVAL);
    CHECK(msg_has(p, "model kind is empty"));
    amt_optim_free(o);
    amt_optim_free(sgd);
    amt_params_free(&b);
    amt_params_free(&a);
}

static void test_failed_save_keeps_previous(void)
{
    amt_params a, b;
    make_params(&a, 1, 8);
    make_params(&b, 2, 8);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("keep.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, NULL, &info, 0));
    /* make the temporary uncreatable: a directory in its place */
    REQUIRE(mkdir(tmp_path("keep.h5.tmp"), 0755) == 0);
    CHECK(amt_checkpoint_save(p, &b, NULL, &info, 0) == AMT_EIO);
    CHECK(msg_has(p, "cannot create"));
    rmdir(tmp_path("keep.h5.tmp"));
    /* into a directory that does not exist */
    const char *q = tmp_path("no/such/dir/x.h5");
    CHECK(amt_checkpoint_save(q, &b, NULL, &info, 0) == AMT_EIO);
    CHECK(msg_has(q, NULL));
    amt_params c;
    make_params(&c, 3, 8);
    CHECK_OK(amt_checkpoint_load(p, "classifier", &c, NULL, NULL));
    CHECK(params_equal(&a, &c));
    /* a stale temporary from a crashed save is simply overwritten */
    REQUIRE(write_all(tmp_path("keep.h5.tmp"), (const unsigned char *)"junk", 4) == 0);
    CHECK_OK(amt_checkpoint_save(p, &b, NULL, &info, 0));
    CHECK_OK(amt_checkpoint_load(p, "classifier", &c, NULL, NULL));
    CHECK(params_equal(&b, &c));
    amt_params_free(&a);
    amt_params_free(&b);
    amt_params_free(&c);
}

static void test_format_version(void)
{
    amt_params a;
    make_params(&a, 1, 8);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("version.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, NULL, &info, 0));
    /* edit the attribute with HDF5 directly: the seal then no longer matches ... */
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(f >= 0);
    hid_t at = H5Aopen(f, "format_version", H5P_DEFAULT);
    int v = 99;
    CHECK(at >= 0 && H5Awrite(at, H5T_NATIVE_INT, &v) >= 0);
    H5Aclose(at);
    H5Fclose(f);
    CHECK(amt_checkpoint_load(p, NULL, &a, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "corrupted checkpoint"));
    /* ... and without the seal the version check speaks */
    long n;
    unsigned char *buf = read_all(p, &n);
    REQUIRE(buf);
    buf[0] = 'X';
    CHECK(write_all(p, buf, n) == 0);
    free(buf);
    CHECK(amt_checkpoint_load(p, NULL, &a, NULL, NULL) == AMT_EFORMAT);
    CHECK(msg_has(p, "format_version 99, this program reads 1"));
    amt_params_free(&a);
}

typedef struct { int n_ds, n_attr, saw_weight, saw_kind; } inspect_count;

static void inspect_fn(void *ctx, const amt_ckpt_item *it)
{
    inspect_count *c = ctx;
    if (it->is_attr) c->n_attr++;
    else c->n_ds++;
    if (!it->is_attr && strcmp(it->name, "/params/fc/weight") == 0 && strcmp(it->dtype, "float32") == 0 && it->ndim == 2 &&
        it->shape[0] == 2 && it->shape[1] == 8)
        c->saw_weight = 1;
    if (it->is_attr && strcmp(it->name, "/optim@kind") == 0 && it->text && strcmp(it->text, "adam") == 0) c->saw_kind = 1;
    if (it->is_attr && strcmp(it->name, "/@epoch") == 0 && it->value != 7) c->saw_kind = -100;
}

static void test_inspect(void)
{
    amt_params a;
    make_params(&a, 1, 8);
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    amt_optim *o = amt_optim_new(&a, &oc);
    REQUIRE(o);
    amt_ckpt_info info = make_info("classifier");
    const char *p = tmp_path("inspect.h5");
    CHECK_OK(amt_checkpoint_save(p, &a, o, &info, 0));
    inspect_count c = {0, 0, 0, 0};
    CHECK_OK(amt_checkpoint_inspect(p, inspect_fn, &c));
    CHECK(c.n_ds == a.n + o->n_state);
    CHECK(c.n_attr == 6 + 2);
    CHECK(c.saw_weight == 1 && c.saw_kind == 1);
    amt_optim_free(o);
    amt_params_free(&a);
}

/* ---- resume: 2N steps == N + save + load + N ---- */

#define TB 8
#define TIN 6
#define THID 16

typedef struct toy {
    amt_params ps;
    amt_linear_layer l1, l2;
    amt_dropout_layer drop;
    amt_graph *g;
    amt_tensor *x, *y, *loss;
    amt_optim *opt;
} toy;

static int toy_init(toy *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    amt_params_init(&t->ps);
    amt_rng r;
    amt_rng_seed(&r, seed);
    if (amt_linear_layer_init(&t->l1, &t->ps, "fc1", TIN, THID, 1, &r) || amt_linear_layer_init(&t->l2, &t->ps, "fc2", THID, 1, 1, &r) ||
        amt_dropout_layer_init(&t->drop, 0.25f))
        return -1;
    t->g = amt_graph_new(1, 77);
    int sx[2] = {TB, TIN}, sy[2] = {TB, 1};
    t->x = amt_graph_input(t->g, "x", 2, sx, 0);
    t->y = amt_graph_input(t->g, "y", 2, sy, 0);
    amt_tensor *h = amt_relu(t->g, amt_linear_layer_forward(t->g, &t->l1, t->x));
    h = amt_dropout_layer_forward(t->g, &t->drop, h);
    t->loss = amt_mse(t->g, amt_linear_layer_forward(t->g, &t->l2, h), t->y);
    if (!t->loss) return -1;
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAMW);
    oc.lr = 0.01; oc.sched = AMT_SCHED_COSINE; oc.warmup_steps = 3; oc.total_steps = 20; oc.min_lr = 1e-4;
    t->opt = amt_optim_new(&t->ps, &oc);
    return t->opt ? 0 : -1;
}

static void toy_free(toy *t)
{
    amt_optim_free(t->opt);
    amt_graph_free(t->g);
    amt_params_free(&t->ps);
}

/* one training step on data determined by the optimizer's step; returns the loss */
static float toy_step(toy *t)
{
    amt_rng r;
    amt_rng_seed(&r, 1000 + (uint64_t)t->opt->step);
    for (int i = 0; i < TB; i++) {
        float s = 0;
        for (int k = 0; k < TIN; k++) { t->x->data[i * TIN + k] = (float)amt_rng_normal(&r); s += (k % 2 ? 1 : -1) * t->x->data[i * TIN + k]; }
        t->y->data[i] = s > 0 ? s : 0.5f * s;
    }
    amt_params_zero_grad(&t->ps);
    if (amt_graph_forward(t->g) || amt_graph_backward(t->g, t->loss)) return NAN;
    amt_clip_grad_norm(&t->ps, 1.0);
    amt_optim_step(t->opt);
    return t->loss->data[0];
}

static void test_resume_bit_exact(void)
{
    enum { N = 6 };
    toy a, b;
    REQUIRE(toy_init(&a, 5) == 0);
    float la[2 * N], lb[2 * N];
    for (int s = 0; s < 2 * N; s++) la[s] = toy_step(&a);
    for (int s = 0; s < 2 * N; s++) CHECK(isfinite(la[s]));
    CHECK(la[1] != la[0]);

    REQUIRE(toy_init(&b, 5) == 0);
    for (int s = 0; s < N; s++) lb[s] = toy_step(&b);
    amt_ckpt_info info = make_info("toy");
    info.step = (int64_t)b.g->step;
    info.config = "[toy]\n";
    const char *p = tmp_path("resume.h5");
    CHECK_OK(amt_checkpoint_save(p, &b.ps, b.opt, &info, 0));
    toy_free(&b);

    toy c;   /* a fresh process: other initial weights, then the checkpoint */
    REQUIRE(toy_init(&c, 999) == 0);
    amt_ckpt_info got;
    CHECK_OK(amt_checkpoint_load(p, "toy", &c.ps, c.opt, &got));
    c.g->step = (uint64_t)got.step;   /* dropout masks continue where they were */
    amt_ckpt_info_free(&got);
    CHECK(c.opt->step == N);
    for (int s = N; s < 2 * N; s++) lb[s] = toy_step(&c);
    CHECK(memcmp(la, lb, sizeof la) == 0);
    CHECK(params_equal(&a.ps, &c.ps));
    for (int i = 0; i < a.opt->n_state; i++)
        CHECK(memcmp(a.opt->state[i].t.data, c.opt->state[i].t.data, a.opt->state[i].t.size * sizeof(float)) == 0);
    toy_free(&a);
    toy_free(&c);
}

/* ---- h5py ---- */

static void test_h5py_reads(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) SKIP("/usr/bin/python3 not installed");
    if (system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) SKIP("h5py not installed");
    amt_params a;
    make_params(&a, 11, 8);
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    amt_optim *o = amt_optim_new(&a, &oc);
    REQUIRE(o);
    amt_ckpt_info info = make_info("classifier");
    const char *p32 = tmp_path("py32.h5"), *p16 = tmp_path("py16.h5"), *script = tmp_path("read.py");
    CHECK_OK(amt_checkpoint_save(p32, &a, o, &info, 0));
    CHECK_OK(amt_checkpoint_save(p16, &a, NULL, &info, AMT_CKPT_FLOAT16));
    const char *py =
        "import sys, h5py\n"
        "for path in sys.argv[1:]:\n"
        "    f = h5py.File(path, 'r')\n"
        "    w = f['params/fc/weight'][:]\n"
        "    c = f.attrs['config']\n"
        "    c = c.decode() if isinstance(c, bytes) else c\n"
        "    m = f.attrs['model']\n"
        "    m = m.decode() if isinstance(m, bytes) else m\n"
        "    print(m, int(f.attrs['format_version']), int(f.attrs['step']), int(f.attrs['epoch']), w.dtype, w.shape[0], w.shape[1],\n"
        "          len(c), int(f.attrs['rng'][3]) % 1000003, 'optim' in f)\n"
        "    print(' '.join('%.9g' % v for v in w.reshape(-1)))\n";
    REQUIRE(write_all(script, (const unsigned char *)py, (long)strlen(py)) == 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s 2>&1", script, p32, p16);
    FILE *pp = popen(cmd, "r");
    REQUIRE(pp);
    const amt_tensor *w = &amt_params_find(&a, "fc/weight")->t;
    for (int k = 0; k < 2; k++) {
        char model[64], dtype[32], has_optim[16];
        int ver = 0, r0 = 0, r1 = 0, clen = 0, rmod = 0;
        long long step = 0, epoch = 0;
        int got = fscanf(pp, "%63s %d %lld %lld %31s %d %d %d %d %15s", model, &ver, &step, &epoch, dtype, &r0, &r1, &clen, &rmod, has_optim);
        CHECK_MSG(got == 10, "h5py output unreadable (got %d fields)", got);
        if (got != 10) break;
        CHECK(strcmp(model, "classifier") == 0 && ver == AMT_CKPT_FORMAT_VERSION && step == info.step && epoch == 7);
        CHECK(strcmp(dtype, k ? "float16" : "float32") == 0);
        CHECK(r0 == 2 && r1 == 8 && clen == (int)strlen(info.config));
        CHECK(rmod == (int)(info.rng.s[3] % 1000003));
        CHECK(strcmp(has_optim, k ? "False" : "True") == 0);
        int same = 1;
        for (size_t i = 0; i < w->size; i++) {
            double v;
            if (fscanf(pp, "%lf", &v) != 1) { same = 0; break; }
            float expect = k ? amt_f16_to_f32(amt_f32_to_f16(w->data[i])) : w->data[i];
            same &= (float)v == expect;
        }
        CHECK_MSG(same, "h5py read different values from the %s file", k ? "float16" : "float32");
    }
    CHECK(pclose(pp) == 0);
    amt_optim_free(o);
    amt_params_free(&a);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    snprintf(g_dir, sizeof g_dir, "/tmp/amt_test_ckpt_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    RUN(test_f16_conversion);
    RUN(test_roundtrip_float32);
    RUN(test_roundtrip_float16);
    RUN(test_missing_and_not_hdf5);
    RUN(test_truncated);
    RUN(test_corrupted_bytes);
    RUN(test_name_and_shape_mismatch);
    RUN(test_failed_save_keeps_previous);
    RUN(test_format_version);
    RUN(test_inspect);
    RUN(test_resume_bit_exact);
    RUN(test_h5py_reads);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return TEST_DONE();
}
