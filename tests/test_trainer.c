/* tests/test_trainer.c: the training loop (train/trainer.h) with a toy classifier kind
 * that lives only here (an MLP with dropout on synthetic data): the loss falls, best/last
 * checkpoints exist and load, the CSV has the right columns and rows, the PNG reads back;
 * N epochs + resume + M epochs == N + M epochs straight (parameters and logged losses
 * bit-identical), also from a Ctrl-C checkpoint in mid-epoch; SIGINT raised from a
 * callback stops cleanly with a valid checkpoint; bad config values give
 * "FILE:LINE: section.key: problem"; progress output off a terminal has no carriage
 * returns; the log, plot and progress helpers; and the amt-train tool's usage errors
 * (binary from $AMT_BIN, default bin/; skipped when absent). */
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/picture.h"
#include "core/amt.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "layers/dropout.h"
#include "layers/linear.h"
#include "tests/test.h"
#include "train/log.h"
#include "app/plot.h"
#include "app/progress.h"
#include "train/registry.h"
#include "train/sigint.h"
#include "train/trainer.h"

/* libhdf5 keeps a few allocations on some paths; LeakSanitizer ignores leaks inside it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\nleak:libhdf5.so\n"; }

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
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

/* ------------------------------------------------------------ the toy model kind */

#define TOY_IN 8
#define TOY_CLASSES 3
#define TOY_VAL_BATCHES 4

static int64_t g_raise_at = -1;   /* global step at which next_batch raises SIGINT */
static int64_t g_nan_at = -1;     /* global step whose batch gets a bad label */
static int g_const_metric;        /* validate reports 0.5 whatever the model does */

typedef struct toy {
    amt_params ps;
    amt_graph *g;
    amt_linear_layer l1, l2;
    amt_dropout_layer drop;
    amt_tensor *x, *logits, *loss;
    int *labels, batch, spe;
    float teacher[TOY_CLASSES][TOY_IN];
    float *val_x;
    int *val_y;
} toy;

static int teacher_label(const toy *t, const float *x)
{
    int best = 0;
    float bv = -1e30f;
    for (int c = 0; c < TOY_CLASSES; c++) {
        float v = 0;
        for (int i = 0; i < TOY_IN; i++) v += t->teacher[c][i] * x[i];
        if (v > bv) { bv = v; best = c; }
    }
    return best;
}

static void toy_sample(toy *t, amt_rng *r, float *x, int *y)
{
    for (int b = 0; b < t->batch; b++) {
        for (int i = 0; i < TOY_IN; i++) x[b * TOY_IN + i] = (float)amt_rng_normal(r);
        y[b] = teacher_label(t, x + b * TOY_IN);
    }
}

static int toy_next(void *ctx, int64_t epoch, int64_t index, amt_rng *rng)
{
    toy *t = ctx;
    toy_sample(t, rng, t->x->data, t->labels);
    if (epoch * t->spe + index == g_raise_at) raise(SIGINT);
    if (epoch * t->spe + index == g_nan_at) t->labels[0] = TOY_CLASSES + 4;   /* the loss becomes NaN */
    return AMT_OK;
}

static int toy_validate(void *ctx, double *metric, double *extra)
{
    toy *t = ctx;
    t->g->training = 0;
    int correct = 0, n = 0;
    double loss = 0;
    for (int v = 0; v < TOY_VAL_BATCHES; v++) {
        memcpy(t->x->data, t->val_x + (size_t)v * t->batch * TOY_IN, (size_t)t->batch * TOY_IN * sizeof(float));
        memcpy(t->labels, t->val_y + v * t->batch, (size_t)t->batch * sizeof(int));
        int rc = amt_graph_forward(t->g);
        if (rc) return rc;
        loss += t->loss->data[0];
        for (int b = 0; b < t->batch; b++) {
            const float *l = t->logits->data + b * TOY_CLASSES;
            int am = 0;
            for (int c = 1; c < TOY_CLASSES; c++) if (l[c] > l[am]) am = c;
            correct += am == t->labels[b];
            n++;
        }
    }
    *metric = g_const_metric ? 0.5 : (double)correct / n;
    extra[0] = loss / TOY_VAL_BATCHES;
    return AMT_OK;
}

static void toy_free(toy *t)
{
    if (!t) return;
    amt_graph_free(t->g);
    amt_params_free(&t->ps);
    free(t->labels);
    free(t->val_x);
    free(t->val_y);
    free(t);
}

static int toy_create(amt_config *cfg, const amt_train_config *tc, amt_train_model *m)
{
    int hidden = 16, rc;
    double p = 0.1;
    if ((rc = amt_config_get_int(cfg, "model", "hidden", hidden, 1, 1024, &hidden)) ||
        (rc = amt_config_get_float(cfg, "model", "dropout", p, 0, 0.9, &p)))
        return rc;
    toy *t = calloc(1, sizeof *t);
    if (!t) return amt_error(AMT_ENOMEM, "toy: out of memory");
    t->batch = tc->batch;
    t->spe = tc->steps_per_epoch > 0 ? tc->steps_per_epoch : 20;
    amt_params_init(&t->ps);
    amt_rng r;
    amt_rng_seed(&r, (uint64_t)tc->seed);
    for (int c = 0; c < TOY_CLASSES; c++)   /* the teacher is fixed, independent of the seed */
        for (int i = 0; i < TOY_IN; i++) t->teacher[c][i] = (float)((c * 7 + i * 3) % 5) - 2.0f + 0.3f * (float)c;
    if ((rc = amt_linear_layer_init(&t->l1, &t->ps, "fc1", TOY_IN, hidden, 1, &r)) ||
        (rc = amt_linear_layer_init(&t->l2, &t->ps, "fc2", hidden, TOY_CLASSES, 1, &r)) ||
        (rc = amt_dropout_layer_init(&t->drop, (float)p))) {
        toy_free(t);
        return rc;
    }
    t->labels = calloc((size_t)t->batch, sizeof(int));
    t->val_x = malloc((size_t)TOY_VAL_BATCHES * t->batch * TOY_IN * sizeof(float));
    t->val_y = malloc((size_t)TOY_VAL_BATCHES * t->batch * sizeof(int));
    t->g = amt_graph_new(1, (uint64_t)tc->seed + 77);
    if (!t->labels || !t->val_x || !t->val_y || !t->g) { toy_free(t); return amt_error(AMT_ENOMEM, "toy: out of memory"); }
    amt_rng vr;
    amt_rng_seed(&vr, 4242);
    for (int v = 0; v < TOY_VAL_BATCHES; v++)
        toy_sample(t, &vr, t->val_x + (size_t)v * t->batch * TOY_IN, t->val_y + v * t->batch);
    int xs[2] = {t->batch, TOY_IN};
    t->x = amt_graph_input(t->g, "x", 2, xs, 0);
    amt_tensor *h = amt_relu(t->g, amt_linear_layer_forward(t->g, &t->l1, t->x));
    h = amt_dropout_layer_forward(t->g, &t->drop, h);
    t->logits = amt_linear_layer_forward(t->g, &t->l2, h);
    t->loss = amt_softmax_cross_entropy(t->g, t->logits, t->labels);
    if (!t->loss) { toy_free(t); return amt_errcode() ? amt_errcode() : AMT_EINTERNAL; }
    memset(m, 0, sizeof *m);
    m->ctx = t;
    m->params = &t->ps;
    m->graph = t->g;
    m->loss = t->loss;
    m->batch = t->batch;
    m->steps_per_epoch = 20;
    m->metric_name = "val_acc";
    m->n_extra = 1;
    m->extra_names[0] = "val_loss";
    m->next_batch = toy_next;
    m->validate = toy_validate;
    return AMT_OK;
}

static void toy_destroy(amt_train_model *m) { toy_free(m->ctx); m->ctx = NULL; }

static const amt_model_kind TOY_KIND = {"toy", "a test MLP", toy_create, toy_destroy};
static const amt_model_kind *const TOY_KINDS[] = {&TOY_KIND, NULL};

#define TOY_INI \
    "[model]\nkind = toy\nhidden = 16\ndropout = 0.1\n" \
    "[train]\nepochs = 6\nsteps_per_epoch = 20\nbatch = 32\nseed = 3\n" \
    "[optim]\noptimizer = adam\nlr = 0.01\nschedule = cosine\nwarmup_steps = 10\ntotal_steps = 120\nclip_norm = 5\n"

/* Trains the toy from TOY_INI with overrides (NULL-terminated), into dir. */
static int train_toy(const char *dir, const char *resume, const char *const *sets, FILE *progress, amt_train_result *r)
{
    amt_config *c = amt_config_from_string(TOY_INI, "toy.ini");
    if (!c) return amt_errcode();
    int rc = AMT_OK;
    for (int i = 0; sets && sets[i] && !rc; i++) rc = amt_config_set(c, sets[i]);
    const amt_model_kind *k = NULL;
    if (!rc) rc = amt_model_kind_read(c, TOY_KINDS, &k);
    if (!rc) {
        amt_train_opts o;
        memset(&o, 0, sizeof o);
        o.out_dir = dir;
        o.resume = resume;
        o.progress = progress;
        o.progress_tty = -1;
        o.catch_signals = 1;
        rc = amt_train_with_kind(c, k, &o, r);
    }
    amt_config_free(c);
    return rc;
}

/* Loads a checkpoint into a fresh toy model; returns all parameter values (malloc'd). */
static float *load_params(const char *path, size_t *n, amt_ckpt_info *info)
{
    amt_config *c = amt_config_from_string(TOY_INI, "toy.ini");
    amt_train_config tc;
    amt_train_model m;
    float *out = NULL;
    if (c && amt_train_config_read(c, &tc) == AMT_OK && toy_create(c, &tc, &m) == AMT_OK) {
        if (amt_checkpoint_load(path, "toy", m.params, NULL, info) == AMT_OK) {
            *n = amt_params_count(m.params, 1);
            out = malloc(*n * sizeof *out);
            size_t k = 0;
            for (int i = 0; out && i < m.params->n; i++) {
                memcpy(out + k, m.params->p[i]->t.data, m.params->p[i]->t.size * sizeof *out);
                k += m.params->p[i]->t.size;
            }
        }
        toy_destroy(&m);
    }
    amt_config_free(c);
    return out;
}

/* Reads a whole CSV: rows x cols values after the header (returned malloc'd). */
static double *read_csv(const char *path, char *header, size_t hn, int *rows, int *cols)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[4096];
    *rows = 0;
    *cols = 0;
    double *v = NULL;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t k = strlen(line) < hn ? strlen(line) : hn - 1;
        memcpy(header, line, k);
        header[k] = 0;
        *cols = 1;
        for (char *p = line; *p; p++) *cols += *p == ',';
    }
    while (fgets(line, sizeof line, f)) {
        v = realloc(v, (size_t)(*rows + 1) * (size_t)*cols * sizeof *v);
        char *p = line;
        for (int j = 0; j < *cols; j++) { v[*rows * *cols + j] = strtod(p, &p); if (*p == ',') p++; }
        (*rows)++;
    }
    fclose(f);
    return v;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ------------------------------------------------------------ tests */

static void test_toy_trains(void)
{
    amt_train_result r;
    const char *dir = tmp_path("a");
    CHECK_OK(train_toy(dir, NULL, NULL, NULL, &r));
    CHECK(r.epoch == 6 && r.step == 120 && r.signal == 0);
    char hdr[512];
    int rows, cols;
    double *v = read_csv(tmp_path("a/log.csv"), hdr, sizeof hdr, &rows, &cols);
    REQUIRE(v);
    CHECK_MSG(!strcmp(hdr, "epoch,step,lr,train_loss,val_acc,val_loss,time_s"), "header %s", hdr);
    CHECK(rows == 6 && cols == 7);
    for (int i = 0; i < rows; i++) CHECK(v[i * cols] == i + 1 && v[i * cols + 1] == 20.0 * (i + 1));
    CHECK_MSG(v[(rows - 1) * cols + 3] < 0.6 * v[3], "train loss %g -> %g", v[3], v[(rows - 1) * cols + 3]);
    CHECK_MSG(v[(rows - 1) * cols + 4] > 0.85, "val acc %g", v[(rows - 1) * cols + 4]);
    CHECK(v[(rows - 1) * cols + 5] < v[5]);
    CHECK(r.best_metric == v[(r.best_epoch - 1) * cols + 4]);
    CHECK_NEAR(r.last_loss, v[(rows - 1) * cols + 3], 0);
    free(v);
    /* checkpoints exist and load */
    CHECK(file_exists(tmp_path("a/last.h5")) && file_exists(tmp_path("a/best.h5")));
    amt_ckpt_info info;
    size_t n = 0;
    float *p = load_params(tmp_path("a/best.h5"), &n, &info);
    CHECK(p != NULL && n > 0);
    CHECK(info.epoch == r.best_epoch && !strcmp(info.model, "toy") && info.config && strstr(info.config, "kind = toy"));
    amt_ckpt_info_free(&info);
    free(p);
    p = load_params(tmp_path("a/last.h5"), &n, &info);
    CHECK(p != NULL && info.epoch == 6 && info.step == 120);
    amt_ckpt_info_free(&info);
    free(p);
    /* the curves PNG reads back: two stacked panels with the first series' colour */
    amt_image im;
    CHECK_OK(amt_image_read_png(tmp_path("a/curves.png"), &im));
    CHECK(im.w == AMT_LOG_PLOT_W && im.h == 2 * AMT_LOG_PLOT_H);
    unsigned char blue[3];
    amt_plot_color(0, blue);
    int nblue[2] = {0, 0};
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < im.w; x++)
            if (!memcmp(im.rgb + 3 * ((size_t)y * im.w + x), blue, 3)) nblue[y >= AMT_LOG_PLOT_H]++;
    CHECK_MSG(nblue[0] > 50 && nblue[1] > 50, "blue pixels %d %d", nblue[0], nblue[1]);
    amt_image_free(&im);
}

static int same_floats(const float *a, const float *b, size_t n) { return a && b && !memcmp(a, b, n * sizeof *a); }

static void test_resume_bit_exact(void)
{
    amt_train_result r;
    const char *straight = tmp_path("s"), *part = tmp_path("p");
    CHECK_OK(train_toy(straight, NULL, NULL, NULL, &r));
    const char *first[] = {"train.epochs=3", NULL};
    CHECK_OK(train_toy(part, NULL, first, NULL, &r));
    CHECK(r.epoch == 3 && r.step == 60);
    CHECK_OK(train_toy(part, tmp_path("p/last.h5"), NULL, NULL, &r));
    CHECK(r.epoch == 6 && r.step == 120);
    size_t n1 = 0, n2 = 0;
    amt_ckpt_info i1, i2;
    float *a = load_params(tmp_path("s/last.h5"), &n1, &i1), *b = load_params(tmp_path("p/last.h5"), &n2, &i2);
    CHECK(n1 == n2 && same_floats(a, b, n1));
    CHECK(i1.step == i2.step && i1.epoch == i2.epoch && !memcmp(&i1.rng, &i2.rng, sizeof i1.rng));
    amt_ckpt_info_free(&i1);
    amt_ckpt_info_free(&i2);
    free(a);
    free(b);
    /* the logs agree in every column but the wall time */
    char h1[512], h2[512];
    int r1, c1, r2, c2;
    double *v1 = read_csv(tmp_path("s/log.csv"), h1, sizeof h1, &r1, &c1);
    double *v2 = read_csv(tmp_path("p/log.csv"), h2, sizeof h2, &r2, &c2);
    REQUIRE(v1 && v2);
    CHECK(!strcmp(h1, h2) && r1 == 6 && r2 == 6 && c1 == c2);
    int diff = 0;
    for (int i = 0; i < r1 && r1 == r2 && c1 == c2; i++)
        for (int j = 0; j < c1 - 1; j++) diff += memcmp(&v1[i * c1 + j], &v2[i * c1 + j], sizeof(double)) != 0;
    CHECK_MSG(diff == 0, "%d logged values differ", diff);
    free(v1);
    free(v2);
    /* both best.h5 are the same epoch's parameters */
    a = load_params(tmp_path("s/best.h5"), &n1, &i1);
    b = load_params(tmp_path("p/best.h5"), &n2, &i2);
    CHECK(i1.epoch == i2.epoch && same_floats(a, b, n1));
    amt_ckpt_info_free(&i1);
    amt_ckpt_info_free(&i2);
    free(a);
    free(b);
}

static void test_sigint_mid_epoch(void)
{
    if (!file_exists(tmp_path("s/last.h5"))) SKIP("needs test_resume_bit_exact's straight run");
    amt_train_result r;
    const char *dir = tmp_path("i");
    struct sigaction before, sa;
    sigaction(SIGINT, NULL, &before);   /* SIG_DFL, or SIG_IGN when started in the background */
    g_raise_at = 50;   /* epoch 3 (0-based 2), batch 10 */
    int rc = train_toy(dir, NULL, NULL, NULL, &r);
    g_raise_at = -1;
    CHECK_OK(rc);
    CHECK(r.signal == SIGINT && r.step == 51 && r.epoch == 2);
    sigaction(SIGINT, NULL, &sa);
    CHECK(sa.sa_handler == before.sa_handler);   /* handlers restored after the run */
    CHECK(amt_sigint_caught() == 0);
    size_t n = 0, n2 = 0;
    amt_ckpt_info info, i2;
    float *p = load_params(tmp_path("i/last.h5"), &n, &info);
    CHECK(p != NULL && info.step == 51 && info.epoch == 2);
    amt_ckpt_info_free(&info);
    free(p);
    /* the log holds the two completed epochs */
    char h[512];
    int rows, cols;
    double *v = read_csv(tmp_path("i/log.csv"), h, sizeof h, &rows, &cols);
    CHECK(v && rows == 2);
    free(v);
    /* resuming from the mid-epoch checkpoint ends exactly where the straight run did */
    CHECK_OK(train_toy(dir, tmp_path("i/last.h5"), NULL, NULL, &r));
    CHECK(r.epoch == 6 && r.step == 120 && r.signal == 0);
    float *a = load_params(tmp_path("s/last.h5"), &n, &info), *b = load_params(tmp_path("i/last.h5"), &n2, &i2);
    CHECK(n == n2 && same_floats(a, b, n));
    amt_ckpt_info_free(&info);
    amt_ckpt_info_free(&i2);
    free(a);
    free(b);
    v = read_csv(tmp_path("i/log.csv"), h, sizeof h, &rows, &cols);
    CHECK(v && rows == 6);
    free(v);
}

static void test_sigint_at_epoch_end(void)
{
    amt_train_result r;
    g_raise_at = 39;   /* the last batch of epoch 2: that epoch is validated and saved */
    int rc = train_toy(tmp_path("e"), NULL, NULL, NULL, &r);
    g_raise_at = -1;
    CHECK_OK(rc);
    CHECK(r.signal == SIGINT && r.step == 40 && r.epoch == 2);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(amt_checkpoint_read_info(tmp_path("e/last.h5"), &info));
    CHECK(info.step == 40 && info.epoch == 2);
    amt_ckpt_info_free(&info);
    CHECK_OK(train_toy(tmp_path("e"), tmp_path("e/last.h5"), (const char *[]){"train.epochs=3", NULL}, NULL, &r));
    CHECK(r.epoch == 3 && r.step == 60);
}

static void check_bad(const char *set, const char *want1, const char *want2)
{
    amt_train_result r;
    const char *sets[] = {set, NULL};
    int rc = train_toy(tmp_path("bad"), NULL, sets, NULL, &r);
    CHECK_MSG(rc == AMT_ECONFIG, "%s: rc %d", set, rc);
    CHECK(msg_has(want1, want2));
}

static void test_bad_config(void)
{
    /* values from the file carry FILE:LINE; overrides name the --set */
    amt_config *c = amt_config_from_string("[model]\nkind = toy\n[train]\nepochs = 0\n", "x.ini");
    REQUIRE(c);
    amt_train_config tc;
    CHECK(amt_train_config_read(c, &tc) == AMT_ECONFIG);
    CHECK(msg_has("x.ini:4: train.epochs: ", NULL));
    amt_config_free(c);
    check_bad("train.batch=abc", "train.batch: ", "not an integer");
    check_bad("train.seed=-1", "train.seed", NULL);
    check_bad("train.progress_seconds=-2", "train.progress_seconds", NULL);
    check_bad("optim.lr=-1", "optim.lr", NULL);
    check_bad("optim.optimizer=rmsprop", "optim.optimizer", "rmsprop");
    check_bad("model.hidden=0", "model.hidden", NULL);
    check_bad("train.epoks=3", "train.epoks", "unknown key");
    check_bad("model.kind=nosuch", "model.kind", "nosuch");
    /* resuming with a steps_per_epoch the checkpoint's step does not fit */
    if (file_exists(tmp_path("p/last.h5"))) {
        amt_train_result r;
        const char *sets[] = {"train.steps_per_epoch=7", NULL};
        int rc = train_toy(tmp_path("q"), tmp_path("p/last.h5"), sets, NULL, &r);
        CHECK(rc == AMT_ECONFIG && msg_has("p/last.h5", "steps_per_epoch"));
    }
    /* best.h5 holds parameters only: not a resume point */
    if (file_exists(tmp_path("a/best.h5"))) {
        amt_train_result r;
        CHECK(train_toy(tmp_path("q2"), tmp_path("a/best.h5"), NULL, NULL, &r) == AMT_EFORMAT);
        CHECK(msg_has("best.h5", "optimizer state"));
    }
    /* a wrong model kind in a checkpoint */
    if (file_exists(tmp_path("a/last.h5"))) {
        amt_config *c2 = amt_config_from_string(TOY_INI, "toy.ini");
        amt_train_config tc2;
        amt_optim_config oc;
        amt_train_model m;
        REQUIRE(c2 && amt_train_config_read(c2, &tc2) == AMT_OK && amt_optim_config_read(c2, "optim", &oc) == AMT_OK);
        REQUIRE(toy_create(c2, &tc2, &m) == AMT_OK);
        amt_train_opts o;
        memset(&o, 0, sizeof o);
        o.out_dir = tmp_path("w");
        o.resume = tmp_path("a/last.h5");
        o.model_kind = "other";
        amt_train_result r;
        CHECK(amt_train_run(&m, &tc2, &oc, &o, &r) == AMT_EFORMAT);
        toy_destroy(&m);
        amt_config_free(c2);
    }
}

static void test_nan_and_patience(void)
{
    amt_train_result r;
    g_nan_at = 45;
    int rc = train_toy(tmp_path("n"), NULL, NULL, NULL, &r);
    g_nan_at = -1;
    CHECK(rc == AMT_EINVAL);
    CHECK(msg_has("step 45: loss is", "label 7 of row 0"));
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(amt_checkpoint_read_info(tmp_path("n/last.h5"), &info));   /* the epoch-2 checkpoint survives */
    CHECK(info.epoch == 2 && info.step == 40);
    amt_ckpt_info_free(&info);
    /* patience: the metric never improves after epoch 1, so epochs 2 and 3 use it up */
    g_const_metric = 1;
    const char *sets[] = {"train.patience=2", NULL};
    rc = train_toy(tmp_path("pt"), NULL, sets, NULL, &r);
    g_const_metric = 0;
    CHECK_OK(rc);
    CHECK(r.stopped_early && r.epoch == 3 && r.best_epoch == 1 && r.best_metric == 0.5);
    /* validate_every: unvalidated epochs log nan, the last epoch is always validated */
    const char *sets2[] = {"train.validate_every=2", "train.epochs=3", NULL};
    CHECK_OK(train_toy(tmp_path("ve"), NULL, sets2, NULL, &r));
    char h[512];
    int rows, cols;
    double *v = read_csv(tmp_path("ve/log.csv"), h, sizeof h, &rows, &cols);
    CHECK(v && rows == 3 && isnan(v[4]) && !isnan(v[cols + 4]) && !isnan(v[2 * cols + 4]) && !isnan(v[5]) == 0);
    free(v);
}

static void test_progress_quiet(void)
{
    FILE *f = tmpfile();
    REQUIRE(f);
    amt_train_result r;
    const char *sets[] = {"train.epochs=2", "train.progress_seconds=0", NULL};
    CHECK_OK(train_toy(tmp_path("q1"), NULL, sets, f, &r));
    rewind(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(memchr(buf, '\r', n) == NULL && strstr(buf, "\033") == NULL);
    int lines = 0;
    for (char *p = buf; (p = strstr(p, "epoch ")); p++) lines++;
    CHECK_MSG(lines == 2, "output: %s", buf);
    CHECK(strstr(buf, "epoch 1/2") && strstr(buf, "val_acc"));
    /* a terminal gets a line redrawn in place */
    f = tmpfile();
    REQUIRE(f);
    amt_progress p;
    amt_progress_init(&p, f, 1, 10, 0);
    amt_progress_update(&p, 0, 1, 10, 10, 0.5, 16, 1e-3);
    amt_progress_message(&p, "done");
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(buf[0] == '\r' && strstr(buf, "step 10/10") && strstr(buf, "\ndone\n"));
    /* off a terminal with a period, plain lines only */
    f = tmpfile();
    amt_progress_init(&p, f, 0, 1e-9, 0);
    amt_progress_update(&p, 0, 1, 3, 10, 0.5, 16, 1e-3);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK(n > 0 && !memchr(buf, '\r', n) && buf[n - 1] == '\n');
    char line[256];
    amt_progress_format(line, sizeof line, 2, 20, 1234, 8000, 0.1234, 16, 1e-3, 95.0);
    CHECK_MSG(!strcmp(line, "epoch 3/20  step 1234/8000  loss 0.1234  1520 ex/s  lr 1.0e-03  ETA 1:11"), "%s", line);
    amt_format_duration(line, sizeof line, 3723);
    CHECK(!strcmp(line, "1:02:03"));
    amt_format_duration(line, sizeof line, NAN);
    CHECK(!strcmp(line, "?"));
}

static void test_log_resume(void)
{
    const char *names[] = {"epoch", "step", "train_loss", "val_f1"};
    const int panel[] = {0, 0, AMT_LOG_PANEL_LOSS, AMT_LOG_PANEL_METRIC};
    amt_train_log l;
    const char *csv = tmp_path("log.csv"), *png = tmp_path("log.png");
    CHECK_OK(amt_train_log_open(&l, csv, png, 4, names, panel, -1));
    for (int e = 1; e <= 5; e++) {
        double row[4] = {e, 10.0 * e, 1.0 / e + 1e-17 * e, e == 3 ? NAN : 0.1 * e};
        CHECK_OK(amt_train_log_append(&l, row));
    }
    amt_train_log_close(&l);
    CHECK_OK(amt_train_log_open(&l, csv, NULL, 4, names, panel, 3));
    CHECK(l.nrow == 3 && l.rows[2 * 4] == 3 && isnan(l.rows[2 * 4 + 3]) && l.rows[1 * 4 + 2] == 1.0 / 2 + 2e-17);
    CHECK(amt_train_log_col(&l, "val_f1") == 3 && amt_train_log_col(&l, "nope") == -1);
    amt_train_log_close(&l);
    char h[256];
    int rows, cols;
    double *v = read_csv(csv, h, sizeof h, &rows, &cols);
    CHECK(v && rows == 3 && cols == 4 && !strcmp(h, "epoch,step,train_loss,val_f1"));
    free(v);
    const char *other[] = {"epoch", "step", "loss"};
    CHECK(amt_train_log_open(&l, csv, NULL, 3, other, NULL, 2) == AMT_EFORMAT);
    CHECK(msg_has("log.csv", "differ"));
    CHECK(amt_train_log_open(&l, csv, NULL, 1, other, NULL, -1) == AMT_EINVAL);
    amt_image im;
    CHECK_OK(amt_image_read_png(png, &im));
    CHECK(im.w == AMT_LOG_PLOT_W && im.h == 2 * AMT_LOG_PLOT_H);
    amt_image_free(&im);
}

static void test_plot(void)
{
    double x[4] = {1, 2, 3, 4}, y1[4] = {3, 2, NAN, 1}, y2[4] = {5, 5, 5, 5};
    amt_plot_series s[2] = {{"loss", x, y1, 4}, {"flat", x, y2, 4}};
    amt_image im;
    CHECK_OK(amt_plot_lines(&im, 400, 300, "title", "epoch", s, 2));
    unsigned char c0[3], c1[3];
    amt_plot_color(0, c0);
    amt_plot_color(1, c1);
    int n0 = 0, n1 = 0, dark = 0;
    for (size_t i = 0; i < (size_t)im.w * im.h; i++) {
        n0 += !memcmp(im.rgb + 3 * i, c0, 3);
        n1 += !memcmp(im.rgb + 3 * i, c1, 3);
        dark += im.rgb[3 * i] < 60 && im.rgb[3 * i + 1] < 60 && im.rgb[3 * i + 2] < 60;
    }
    CHECK(n0 > 30 && n1 > 100 && dark > 200);   /* lines, the flat series, axes and text */
    amt_image_free(&im);
    CHECK(amt_plot_lines(&im, 10, 10, NULL, NULL, s, 2) == AMT_EINVAL);
    CHECK(amt_plot_text_width("ab", 2) == 14 && amt_plot_text_width("", 2) == 0);
}

/* ------------------------------------------------------------ the tool */

static const char *tool(void)
{
    static char path[512];
    const char *bin = getenv("AMT_BIN");
    snprintf(path, sizeof path, "%s/amt-train", bin && *bin ? bin : "bin");
    return path;
}

/* Runs the tool with args (a shell fragment); returns its exit status; stdout/stderr text. */
static int run_tool(const char *args, char *out, char *err, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s' </dev/null", tool(), args, tmp_path("tool.out"), tmp_path("tool.err"));
    int st = system(cmd);
    const char *files[2] = {tmp_path("tool.out"), tmp_path("tool.err")};
    char *bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        size_t k = f ? fread(bufs[i], 1, n - 1, f) : 0;
        bufs[i][k] = 0;
        if (f) fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_tool(void)
{
    if (access(tool(), X_OK) != 0) SKIP("%s not built", tool());
    char out[8192], err[8192];
    CHECK(run_tool("", out, err, sizeof out) == 2 && strstr(err, "usage: amt-train"));
    CHECK(run_tool("--help", out, err, sizeof out) == 0 && strstr(out, "usage: amt-train") && strstr(out, "--resume"));
    CHECK(run_tool("--version", out, err, sizeof out) == 0 && !strncmp(out, "amt-train ", 10));
    CHECK(run_tool("--bogus x.ini", out, err, sizeof out) == 2 && strstr(err, "--bogus"));
    int rc = run_tool("/nonexistent/nosuch.ini", out, err, sizeof out);
    CHECK_MSG(rc == 2 && count_lines(err) == 1 && strstr(err, "nosuch.ini"), "rc %d: %s", rc, err);
    FILE *f = fopen(tmp_path("k.ini"), "w");
    REQUIRE(f);
    fputs("[model]\nkind = nosuch\n[train]\nepochs = 1\n", f);
    fclose(f);
    char args[600];
    snprintf(args, sizeof args, "'%s'", tmp_path("k.ini"));
    rc = run_tool(args, out, err, sizeof out);
    CHECK_MSG(rc == 2 && count_lines(err) == 1 && strstr(err, "k.ini:2: model.kind") && strstr(err, "nosuch"),
              "rc %d: %s", rc, err);
    for (const amt_model_kind *const *k = amt_model_kinds(); *k; k++) CHECK(strstr(err, (*k)->name));
    snprintf(args, sizeof args, "'%s' --set model.kind", tmp_path("k.ini"));
    rc = run_tool(args, out, err, sizeof out);
    CHECK_MSG(rc == 2 && count_lines(err) == 1 && strstr(err, "section.key=value"), "rc %d: %s", rc, err);
    snprintf(args, sizeof args, "'%s' --threads zero", tmp_path("k.ini"));
    CHECK(run_tool(args, out, err, sizeof out) == 2 && strstr(err, "--threads"));
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    snprintf(g_dir, sizeof g_dir, "/tmp/amt_test_trainer_%d", (int)getpid());
    mkdir(g_dir, 0777);
    RUN(test_plot);
    RUN(test_log_resume);
    RUN(test_toy_trains);
    RUN(test_resume_bit_exact);
    RUN(test_sigint_mid_epoch);
    RUN(test_sigint_at_epoch_end);
    RUN(test_bad_config);
    RUN(test_nan_and_patience);
    RUN(test_progress_quiet);
    RUN(test_tool);
    if (!getenv("AMT_KEEP_TMP")) nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_DONE();
}
