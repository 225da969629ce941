/* tests/test_classifier.c: the instrument classifier (models/classifier.h): the shipped
 * config, shapes and parameter count of the reference layout, config errors, a
 * finite-difference check of every parameter gradient of a tiny variant, inference graph
 * == training graph in eval mode, patch standardisation, the clip function (window count,
 * short audio, silence, NaN, any sample rate, gain invariance, multi-label threshold),
 * logits of the full model against PyTorch (tests/golden/classifier.txt, written by
 * tests/golden/make_golden_classifier.py from ../shared/reference/torch/models.py),
 * checkpoint round trip, determinism, and a tiny variant learning 3 synthetic "instruments". */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/amt.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/optim.h"
#include "audio/resample.h"
#include "models/classifier.h"
#include "models/classifier_stream.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#include "train/trainer.h"

#define REF_PARAMS 1446123   /* ../shared/reference/torch/models.py Classifier */
#define PI 3.14159265358979323846

/* a config from INI text (model kind classifier + extra lines) */
static int cfg_from(const char *text, amt_classifier_config *c)
{
    amt_config *cfg = amt_config_from_string(text, "test.ini");
    if (!cfg) return amt_errcode();
    int rc = amt_classifier_config_read(cfg, c);
    amt_config_free(cfg);
    return rc;
}

/* a small but complete variant at the default features (128 x 43 patches) */
static const char *SMALL =
    "[model]\nkind = classifier\nchannels = 4, 8, 8, 8\ndense = 16\n";

static int valid_probs(const amt_cls_result *r)
{
    double s = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) {
        if (!(r->probs[j] >= 0 && r->probs[j] <= 1)) return 0;
        s += r->probs[j];
    }
    return fabs(s - 1) < 1e-5;
}

/* ------------------------------------------------------------------ config and shapes */

static void test_shipped_config(void)
{
    amt_config *cfg = amt_config_load("configs/classifier.ini");
    REQUIRE(cfg);
    amt_classifier_config c;
    amt_train_config tc;
    amt_optim_config oc;
    int rc = amt_classifier_config_read(cfg, &c);
    if (!rc) rc = amt_train_config_read(cfg, &tc);
    if (!rc) rc = amt_optim_config_read(cfg, "optim", &oc);
    /* the augmentation and cache keys of [train] are read by train/kind_classifier.c; the
     * whole file is checked through amt-train in tests/test_train_classifier.c */
    CHECK_MSG(rc == AMT_OK, "%s", amt_errmsg());
    amt_config_free(cfg);
    REQUIRE(rc == AMT_OK);
    CHECK(c.n_blocks == 4 && c.channels[0] == 32 && c.channels[3] == 256);
    CHECK(c.rate == 22050 && c.n_mels == 128 && c.hop == 512 && c.n_fft == 1024);
    CHECK(c.frames == 43);
    CHECK(c.normalize == AMT_CLS_NORM_PATCH && c.log == AMT_LOG_DB);
    CHECK_NEAR(c.hop_s, 0.5, 0);
    /* the defaults are the shipped values */
    amt_classifier_config d;
    amt_classifier_config_default(&d);
    CHECK(d.frames == c.frames && d.dense == c.dense && d.n_fft == c.n_fft && d.pool == c.pool);
    CHECK(!strcmp(amt_classifier_classes[0], "cel") && !strcmp(amt_classifier_classes[10], "voi"));
    CHECK(amt_classifier_class_index("pia") == 6 && amt_classifier_class_index("dru") == -1);
    CHECK(c.seed == 1);
    /* seed 0 = the config's seed */
    amt_classifier a, b;
    c.channels[0] = 2; c.channels[1] = 2; c.channels[2] = 2; c.channels[3] = 2; c.dense = 4;
    CHECK_OK(amt_classifier_init(&a, &c, 0));
    CHECK_OK(amt_classifier_init(&b, &c, 1));
    amt_param *pa = amt_params_find(&a.params, "block1/conv1/weight"), *pb = amt_params_find(&b.params, "block1/conv1/weight");
    CHECK(pa && pb && !memcmp(pa->t.data, pb->t.data, sizeof(float) * pa->t.size));
    amt_classifier_free(&a);
    amt_classifier_free(&b);
}

static void test_param_count_and_shapes(void)
{
    amt_classifier_config c;
    amt_classifier_config_default(&c);
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 1));
    CHECK(amt_params_count(&m.params, 0) == REF_PARAMS);
    CHECK(amt_params_count(&m.params, 1) == REF_PARAMS + 1);   /* + decode/threshold */
    amt_param *th = amt_params_find(&m.params, AMT_CLS_THRESHOLD_PARAM);
    CHECK(th && !th->trainable && th->t.data[0] == 0.5f);
    amt_param *w = amt_params_find(&m.params, "block4/conv2/weight");
    CHECK(w && w->t.shape[0] == 256 && w->t.shape[1] == 256 && w->t.shape[2] == 3);
    w = amt_params_find(&m.params, "fc1/weight");
    CHECK(w && w->t.shape[0] == 1024 && w->t.shape[1] == 256);
    w = amt_params_find(&m.params, "fc2/bias");
    CHECK(w && w->t.shape[0] == 11);
    amt_cls_graph cg;
    CHECK_OK(amt_classifier_build_train(&m, 2, 7, &cg));
    CHECK(cg.x->ndim == 4 && cg.x->shape[0] == 2 && cg.x->shape[1] == 1 && cg.x->shape[2] == 128 && cg.x->shape[3] == 43);
    CHECK(cg.logits->shape[0] == 2 && cg.logits->shape[1] == 11);
    CHECK(cg.loss->size == 1);
    /* the map sizes of the reference: 128x43 -> 42x14 -> 14x4 -> 4x1 before the global pool */
    int found = 0;
    for (int i = 0; i < cg.g->n_nodes; i++) {
        const amt_tensor *o = cg.g->nodes[i].out;
        if (o->ndim == 4 && o->shape[1] == 256 && o->shape[2] == 4 && o->shape[3] == 1) found = 1;
        CHECK(!(o->ndim == 4 && o->shape[1] == 256 && (o->shape[2] != 4 || o->shape[3] != 1)));
    }
    CHECK(found);
    amt_rng rng;
    amt_rng_seed(&rng, 3);
    for (size_t i = 0; i < cg.x->size; i++) cg.x->data[i] = (float)amt_rng_normal(&rng);
    cg.labels[0] = 3; cg.labels[1] = 10;
    CHECK_OK(amt_graph_forward(cg.g));
    CHECK(isfinite(cg.loss->data[0]) && cg.loss->data[0] > 0);
    amt_cls_graph_free(&cg);
    amt_classifier_free(&m);
}

static void test_config_errors(void)
{
    amt_classifier_config c;
    CHECK(cfg_from("[model]\nkind = separator\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "separator") && strstr(amt_errmsg(), "classifier"));
    CHECK(cfg_from("[model]\nkind = classifier\n[features]\nn_mels = 8\n", &c) == AMT_ECONFIG);
    CHECK_MSG(strstr(amt_errmsg(), "too small") && strstr(amt_errmsg(), "8 x 43"), "%s", amt_errmsg());
    CHECK(cfg_from("[model]\nkind = classifier\nkernel = 4\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "kernel"));
    CHECK(cfg_from("[model]\nkind = classifier\ndropout_conv = 1.5\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "test.ini") && strstr(amt_errmsg(), "dropout_conv"));
    CHECK(cfg_from("[model]\nkind = classifier\n[features]\nlog = ln\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "features.log"));
    CHECK(cfg_from("[model]\nkind = classifier\n[features]\nfmax = 20000\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "fmax"));
    CHECK(cfg_from("[model]\nkind = classifier\nchannels = 8, 8, 8, 8, 8, 8, 8, 8, 8\n", &c) == AMT_ECONFIG);
    CHECK(strstr(amt_errmsg(), "channels"));
    CHECK(cfg_from("[model]\nkind = classifier\nchannels = 8, 8\npool = 2\n[features]\nwindow = 0.5\n", &c) == AMT_OK);
    CHECK(c.frames == 21 && c.n_blocks == 2);
}

/* ------------------------------------------------------------------ gradients */

/* finite differences on every parameter (a sample of each) of a tiny variant through the
 * training graph's loss, dropout active (masks fixed by resetting g->step) */
static void test_gradcheck_tiny(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from("[model]\nkind = classifier\nchannels = 2, 3\nconvs_per_block = 2\npool = 2\ndense = 5\n"
                      "dropout_conv = 0.25\ndropout_dense = 0.2\n"
                      "[features]\nrate = 4000\nhop = 100\nn_fft = 256\nn_mels = 8\nwindow = 0.25\n", &c));
    REQUIRE(c.frames == 10);
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 5));
    /* non-zero biases so that every path is exercised */
    amt_rng rng;
    amt_rng_seed(&rng, 11);
    for (int i = 0; i < m.params.n; i++) {
        amt_param *p = m.params.p[i];
        if (strstr(p->name, "bias"))
            for (size_t k = 0; k < p->t.size; k++) p->t.data[k] = 0.1f * (float)amt_rng_normal(&rng);
    }
    amt_cls_graph cg;
    CHECK_OK(amt_classifier_build_train(&m, 3, 9, &cg));
    for (size_t i = 0; i < cg.x->size; i++) cg.x->data[i] = (float)amt_rng_normal(&rng);
    cg.labels[0] = 0; cg.labels[1] = 4; cg.labels[2] = 10;
    amt_params_zero_grad(&m.params);
    cg.g->step = 0;
    CHECK_OK(amt_graph_forward(cg.g));
    CHECK_OK(amt_graph_backward(cg.g, cg.loss));
    const double eps = 1e-3, tol = 2e-2, floor_ = 3e-2;   /* floor: float32 loss resolution */
    double worst = 0;
    int checked = 0, bad = 0;
    for (int i = 0; i < m.params.n; i++) {
        amt_param *p = m.params.p[i];
        if (!p->trainable) { CHECK(p->t.grad == NULL); continue; }
        int npts = p->t.size < 12 ? (int)p->t.size : 12;
        for (int q = 0; q < npts; q++) {
            size_t k = npts == (int)p->t.size ? (size_t)q : (size_t)amt_rng_below(&rng, p->t.size);
            float orig = p->t.data[k];
            double ana = p->t.grad[k], err = INFINITY, num = 0;
            /* a ReLU or max-pool switch inside +-eps spoils the difference quotient: then
             * retry with a 4x smaller step (float32 loss: not smaller) */
            for (double e = eps; e > eps / 5 && err > tol; e /= 4) {
                p->t.data[k] = orig + (float)e;
                cg.g->step = 0; amt_graph_forward(cg.g);
                double lp = cg.loss->data[0];
                p->t.data[k] = orig - (float)e;
                cg.g->step = 0; amt_graph_forward(cg.g);
                double lm = cg.loss->data[0];
                p->t.data[k] = orig;
                num = (lp - lm) / (2 * e);
                err = fmin(err, fabs(num - ana) / fmax(floor_, fmax(fabs(num), fabs(ana))));
            }
            checked++;
            if (err > tol) {
                bad++;
                fprintf(stderr, "  note: %s[%zu] analytic %.6g numeric %.6g (error %.3g)\n", p->name, k, ana, num, err);
            } else if (err > worst) worst = err;
        }
    }
    CHECK_MSG(bad * 50 <= checked, "%d of %d gradient points off", bad, checked);
    CHECK_MSG(worst < tol, "worst error %.3g", worst);
    CHECK(checked > 80);
    amt_cls_graph_free(&cg);
    amt_classifier_free(&m);
}

/* the input gradient through the whole network (tests/gradcheck.h: L = sum(logits * r)) */
static amt_tensor *build_tiny(amt_graph *g, amt_tensor **in, void *ctx)
{
    amt_cls_graph cg;
    return amt_classifier_attach(ctx, g, in[0], NULL, &cg) ? NULL : cg.logits;
}

static void test_gradcheck_input(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from("[model]\nkind = classifier\nchannels = 2, 3\npool = 2\ndense = 5\n"
                      "[features]\nrate = 4000\nhop = 100\nn_fft = 256\nn_mels = 8\nwindow = 0.25\n", &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 6));
    gc_input spec[1] = {{4, {2, 1, 8, 10}, 1, 0, 0}};
    double err = gradcheck_ex(build_tiny, &m, 1, spec, 3, 1e-3, 2e-2, 3e-2, 0);
    CHECK_MSG(err < 2e-2, "input gradient error %.3g", err);
    /* a wrong input shape is refused by attach */
    amt_graph *g = amt_graph_new(0, 0);
    int bad[4] = {2, 1, 9, 10};
    amt_tensor *x = amt_graph_input(g, "x", 4, bad, 0);
    amt_cls_graph cg;
    CHECK(amt_classifier_attach(&m, g, x, NULL, &cg) == AMT_EINVAL);
    CHECK_MSG(strstr(amt_errmsg(), "(2, 1, 9, 10)") && strstr(amt_errmsg(), "(B, 1, 8, 10)"), "%s", amt_errmsg());
    amt_graph_free(g);
    amt_classifier_free(&m);
}

/* ------------------------------------------------------------------ PyTorch golden */

/* the full reference model with the formula weights of tests/golden/make_golden_classifier.py */
static void test_golden_reference(void)
{
    const char *path = "tests/golden/classifier.txt";
    float *want = golden_get(path, "logits", NULL, NULL, NULL);
    float *np_ = golden_get(path, "n_params", NULL, NULL, NULL);
    float *wl = golden_get(path, "loss", NULL, NULL, NULL);
    float *w64 = golden_get(path, "logits64", NULL, NULL, NULL);
    REQUIRE(want && np_ && wl && w64);
    amt_classifier_config c;
    amt_classifier_config_default(&c);
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 1));
    CHECK(amt_params_count(&m.params, 0) == (size_t)np_[0]);
    int p = 0;
    for (int i = 0; i < m.params.n; i++) {
        amt_param *q = m.params.p[i];
        if (!q->trainable) continue;
        int is_bias = strstr(q->name, "bias") != NULL;
        size_t fan_in = q->t.size / (size_t)q->t.shape[0];
        for (size_t k = 0; k < q->t.size; k++)
            q->t.data[k] = is_bias ? (float)(0.05 * sin(1.3 * (double)k + p))
                                   : (float)(sqrt(2.0 / (double)fan_in) * sqrt(2.0) * sin(1e-3 * (double)k * (double)k + 0.7 * (double)k + 0.3 * p));
        p++;
    }
    CHECK(p == 20);
    amt_cls_graph cg;
    CHECK_OK(amt_classifier_build_train(&m, 2, 1, &cg));
    for (size_t i = 0; i < cg.x->size; i++) cg.x->data[i] = (float)(sin(0.05 * (double)i) * cos(0.003 * (double)i) * 2);
    cg.labels[0] = 3; cg.labels[1] = 10;
    cg.g->training = 0;
    CHECK_OK(amt_graph_forward(cg.g));
    double err = golden_max_rel(cg.logits->data, want, 22, 1.0), err64 = golden_max_rel(cg.logits->data, w64, 22, 1.0);
    CHECK_MSG(err < 1e-5, "logits vs PyTorch float32: error %.3g", err);
    CHECK_MSG(err64 < 1e-5, "logits vs PyTorch float64: error %.3g", err64);
    CHECK_NEAR(cg.loss->data[0], wl[0], 1e-5);
    amt_cls_graph_free(&cg);
    amt_classifier_free(&m);
    free(want); free(np_); free(wl); free(w64);
}

/* ------------------------------------------------------------------ inference graph */

static void test_infer_equals_train_eval(void)
{
    amt_classifier_config c;
    amt_classifier_config_default(&c);   /* the full reference model */
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 2));
    for (int i = 0; i < m.params.n; i++)   /* non-zero biases */
        if (strstr(m.params.p[i]->name, "bias"))
            for (size_t k = 0; k < m.params.p[i]->t.size; k++) m.params.p[i]->t.data[k] = 0.01f * (float)(k % 7) - 0.03f;
    const int B = 3;
    amt_cls_graph tr, inf, one;
    CHECK_OK(amt_classifier_build_train(&m, B, 4, &tr));
    CHECK_OK(amt_classifier_build_infer(&m, B, &inf));
    CHECK_OK(amt_classifier_build_infer(&m, 1, &one));
    CHECK(inf.loss == NULL && inf.labels == NULL && !inf.g->training);
    amt_rng rng;
    amt_rng_seed(&rng, 5);
    for (size_t i = 0; i < tr.x->size; i++) tr.x->data[i] = (float)amt_rng_normal(&rng);
    memcpy(inf.x->data, tr.x->data, sizeof(float) * tr.x->size);
    for (int b = 0; b < B; b++) tr.labels[b] = b;
    tr.g->training = 0;
    CHECK_OK(amt_graph_forward(tr.g));
    CHECK_OK(amt_graph_forward(inf.g));
    double worst = 0;
    for (int i = 0; i < B * AMT_CLS_NCLASS; i++) worst = fmax(worst, fabs(tr.logits->data[i] - inf.logits->data[i]));
    CHECK_MSG(worst <= 1e-5, "train(eval) vs infer logits differ by %.3g", worst);
    /* batch 1 graph, example by example */
    size_t ps = (size_t)c.n_mels * c.frames;
    worst = 0;
    for (int b = 0; b < B; b++) {
        memcpy(one.x->data, tr.x->data + b * ps, sizeof(float) * ps);
        CHECK_OK(amt_graph_forward(one.g));
        for (int j = 0; j < AMT_CLS_NCLASS; j++)
            worst = fmax(worst, fabs(one.logits->data[j] - tr.logits->data[b * AMT_CLS_NCLASS + j]));
    }
    CHECK_MSG(worst <= 1e-4, "batch-1 vs batch-3 logits differ by %.3g", worst);
    /* in training mode dropout changes the result */
    tr.g->training = 1;
    CHECK_OK(amt_graph_forward(tr.g));
    double diff = 0;
    for (int i = 0; i < B * AMT_CLS_NCLASS; i++) diff = fmax(diff, fabs(tr.logits->data[i] - inf.logits->data[i]));
    CHECK(diff > 1e-4);
    amt_cls_graph_free(&tr);
    amt_cls_graph_free(&inf);
    amt_cls_graph_free(&one);
    amt_classifier_free(&m);
}

/* ------------------------------------------------------------------ patches */

static void test_patch(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from(SMALL, &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 1));
    int nm = c.n_mels, T = c.frames;
    float *mel = malloc(sizeof(float) * nm * T), *p = malloc(sizeof(float) * nm * T), *q = malloc(sizeof(float) * nm * T);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < nm; b++) mel[t * nm + b] = (float)(b * 0.5 + sin(t * 0.3) * 3 - 40);
    amt_classifier_patch(&m, mel, p);
    double s = 0, s2 = 0;
    for (int i = 0; i < nm * T; i++) { s += p[i]; s2 += (double)p[i] * p[i]; }
    CHECK_NEAR(s / (nm * T), 0, 1e-5);
    CHECK_NEAR(s2 / (nm * T), 1, 1e-4);
    /* band-major transpose: p[b][t] ordering follows mel[t][b] */
    CHECK(p[5 * T + 2] > p[4 * T + 2]);
    /* a +20 dB shift (gain) changes nothing */
    for (int i = 0; i < nm * T; i++) mel[i] += 20;
    amt_classifier_patch(&m, mel, q);
    double d = 0;
    for (int i = 0; i < nm * T; i++) d = fmax(d, fabs(p[i] - q[i]));
    CHECK(d < 1e-4);
    /* a constant patch (silence) becomes zeros */
    for (int i = 0; i < nm * T; i++) mel[i] = -100;
    amt_classifier_patch(&m, mel, q);
    d = 0;
    for (int i = 0; i < nm * T; i++) d = fmax(d, fabs(q[i]));
    CHECK(d == 0);
    /* normalize = none: only the transpose */
    m.cfg.normalize = AMT_CLS_NORM_NONE;
    mel[3 * nm + 7] = 5;
    amt_classifier_patch(&m, mel, q);
    CHECK(q[7 * T + 3] == 5 && q[0] == -100);
    free(mel); free(p); free(q);
    amt_classifier_free(&m);
}

/* ------------------------------------------------------------------ clip level */

static float *tone(long n, int rate, double f, double amp)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    for (long i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * PI * f * i / rate) + 0.3 * amp * sin(2 * PI * 2.7 * f * i / rate));
    return x;
}

static void test_clip_windows(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from(SMALL, &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 3));
    /* 3 s at 22050 Hz: 1 + 66150/512 = 130 frames; windows at 0, 22, 44, 66 + one at 87 */
    CHECK(amt_classifier_n_windows(&m, 130) == 5);
    CHECK(amt_classifier_n_windows(&m, 43) == 1);
    CHECK(amt_classifier_n_windows(&m, 44) == 2);
    CHECK(amt_classifier_n_windows(&m, 65) == 2);
    CHECK(amt_classifier_n_windows(&m, 10) == 1);
    amt_cls_infer *r = amt_cls_infer_new(&m, 2);   /* batch 2: 5 windows in 3 forwards */
    REQUIRE(r);
    float *x = tone(3 * 22050, 22050, 440, 0.5);
    amt_cls_result res;
    CHECK_OK(amt_classifier_classify(r, x, 3 * 22050, 22050, &res));
    CHECK(res.windows == 5);
    CHECK(valid_probs(&res));
    int top = 0;
    for (int j = 1; j < AMT_CLS_NCLASS; j++) if (res.probs[j] > res.probs[top]) top = j;
    CHECK(res.top == top);
    /* the same through a batch-8 runner (one forward) */
    amt_cls_infer *r8 = amt_cls_infer_new(&m, 8);
    REQUIRE(r8);
    amt_cls_result res8;
    CHECK_OK(amt_classifier_classify(r8, x, 3 * 22050, 22050, &res8));
    double d = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) d = fmax(d, fabs(res.probs[j] - res8.probs[j]));
    CHECK_MSG(d < 1e-5, "batch 2 vs 8 differ by %.3g", d);
    /* gain invariance (dB + per-patch standardisation) */
    float *y = malloc(sizeof(float) * 3 * 22050);
    for (long i = 0; i < 3 * 22050; i++) y[i] = 0.01f * x[i];
    CHECK_OK(amt_classifier_classify(r, y, 3 * 22050, 22050, &res8));
    d = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) d = fmax(d, fabs(res.probs[j] - res8.probs[j]));
    CHECK_MSG(d < 1e-3, "gain 0.01 changes the probabilities by %.3g", d);
    /* multi-label decision by the stored threshold (max_norm: the top class scores 1) */
    m.threshold->data[0] = 1.0f;
    CHECK_OK(amt_classifier_classify(r, x, 3 * 22050, 22050, &res));
    int nl = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) nl += res.labels[j];
    CHECK(nl >= 1 && res.labels[res.top]);
    m.threshold->data[0] = 1.01f;
    CHECK_OK(amt_classifier_classify(r, x, 3 * 22050, 22050, &res));
    nl = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) nl += res.labels[j];
    CHECK(nl == 0);
    m.threshold->data[0] = 0.0f;
    CHECK_OK(amt_classifier_classify(r, x, 3 * 22050, 22050, &res));
    nl = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) nl += res.labels[j];
    CHECK(nl == AMT_CLS_NCLASS);
    free(x); free(y);
    amt_cls_infer_free(r);
    amt_cls_infer_free(r8);
    amt_classifier_free(&m);
}

/* The streamed classification (models/classifier_stream.h, two passes, fed in blocks of
 * any size) gives the numbers of the whole-clip amt_classifier_classify, at the model's
 * rate, through the resampler, and for a clip shorter than one window. */
static void test_stream_equals_whole(void)
{
    amt_classifier_config c;
    REQUIRE(cfg_from(SMALL, &c) == AMT_OK);
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 5));
    amt_cls_infer *r = amt_cls_infer_new(&m, 3);
    REQUIRE(r);
    const int rates[4] = {22050, 44100, 16000, 22050};
    const double secs[4] = {4.7, 2.3, 0.4, 1.0};
    for (int v = 0; v < 4; v++) {
        const int rate = rates[v];
        const long n = (long)(secs[v] * rate);
        float *x = tone(n, rate, 330 + 50 * v, 0.4);
        for (long i = 0; i < n; i++) x[i] *= (float)(1 + 0.5 * sin(2 * M_PI * 0.7 * i / rate));   /* loudness changes */
        amt_cls_result whole, streamed;
        CHECK_OK(amt_classifier_classify(r, x, n, rate, &whole));
        amt_cls_stream *s = amt_cls_stream_new(r, rate);
        REQUIRE(s);
        amt_rng rng;
        amt_rng_seed(&rng, 70 + (uint64_t)v);
        for (int pass = 0; pass < 2; pass++) {
            for (long i = 0; i < n;) {
                long k = 1 + (long)amt_rng_below(&rng, 9000);
                if (k > n - i) k = n - i;
                CHECK_OK(amt_cls_stream_feed(s, x + i, k));
                i += k;
            }
            if (pass == 0) CHECK_OK(amt_cls_stream_next_pass(s));
        }
        CHECK_OK(amt_cls_stream_finish(s, &streamed));
        CHECK_MSG(streamed.windows == whole.windows, "%d Hz %.1f s: %d windows streamed, %d whole", rate, secs[v],
                  streamed.windows, whole.windows);
        for (int j = 0; j < AMT_CLS_NCLASS; j++)
            CHECK_MSG(streamed.probs[j] == whole.probs[j], "%d Hz %.1f s: class %d %.9g vs %.9g", rate, secs[v], j,
                      streamed.probs[j], whole.probs[j]);
        CHECK(streamed.top == whole.top);
        amt_cls_stream_del(s);
        /* pass 2 must see the samples of pass 1 */
        s = amt_cls_stream_new(r, rate);
        CHECK_OK(amt_cls_stream_feed(s, x, n));
        CHECK_OK(amt_cls_stream_next_pass(s));
        CHECK_OK(amt_cls_stream_feed(s, x, n / 2));
        CHECK(amt_cls_stream_finish(s, &streamed) == AMT_EINVAL);
        amt_cls_stream_del(s);
        free(x);
    }
    amt_cls_infer_free(r);
    amt_classifier_free(&m);
}

static void test_clip_edge_cases(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from(SMALL, &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 4));
    amt_cls_infer *r = amt_cls_infer_new(&m, 0);
    REQUIRE(r);
    amt_cls_result res;
    /* shorter than a window: zero-padded to 1 s, one window */
    float *x = tone(4410, 22050, 300, 0.5);
    CHECK_OK(amt_classifier_classify(r, x, 4410, 22050, &res));
    CHECK(res.windows == 1 && valid_probs(&res));
    CHECK_OK(amt_classifier_classify(r, x, 1, 22050, &res));   /* a single sample */
    CHECK(res.windows == 1 && valid_probs(&res));
    /* silence: valid probabilities, equal to those of an all-zero patch */
    float *z = calloc(2 * 22050, sizeof(float));
    CHECK_OK(amt_classifier_classify(r, z, 2 * 22050, 22050, &res));
    CHECK(valid_probs(&res) && res.windows == 3);
    amt_cls_graph one;
    CHECK_OK(amt_classifier_build_infer(&m, 1, &one));
    CHECK_OK(amt_graph_forward(one.g));   /* input all zeros */
    float p0[AMT_CLS_NCLASS];
    amt_softmax_rows(one.logits->data, 1, AMT_CLS_NCLASS, p0);
    double d = 0;
    for (int j = 0; j < AMT_CLS_NCLASS; j++) d = fmax(d, fabs(p0[j] - res.probs[j]));
    CHECK(d < 1e-6);
    amt_cls_graph_free(&one);
    /* NaN and Inf are refused with a clear message */
    x[5] = NAN;
    CHECK(amt_classifier_classify(r, x, 4410, 22050, &res) == AMT_EINVAL);
    CHECK_MSG(strstr(amt_errmsg(), "sample 5") && strstr(amt_errmsg(), "NaN"), "%s", amt_errmsg());
    x[5] = INFINITY;
    CHECK(amt_classifier_classify(r, x, 4410, 22050, &res) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "infinite"));
    CHECK(amt_classifier_classify(r, x, 0, 22050, &res) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "0 audio samples"));
    CHECK(amt_classifier_classify(r, z, 100, 0, &res) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "rate"));
    free(x);
    /* any sample rate: 1.5 s of the same tone */
    static const int rates[] = {8000, 11025, 16000, 22050, 44100, 48000, 96000};
    amt_cls_result ref = {0};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        long n = rates[i] * 3 / 2;
        float *y = tone(n, rates[i], 330, 0.4);
        int rc = amt_classifier_classify(r, y, n, rates[i], &res);
        CHECK_MSG(rc == AMT_OK && valid_probs(&res) && res.windows == 2, "rate %d: rc %d %s", rates[i], rc, amt_errmsg());
        if (rates[i] == 22050) ref = res;
        free(y);
    }
    /* 44.1 and 48 kHz see the same band below 11 kHz: close to the 22.05 kHz result */
    for (int k = 0; k < 2; k++) {
        int rate = k ? 48000 : 44100;
        long n = rate * 3 / 2;
        float *y = tone(n, rate, 330, 0.4);
        CHECK_OK(amt_classifier_classify(r, y, n, rate, &res));
        d = 0;
        for (int j = 0; j < AMT_CLS_NCLASS; j++) d = fmax(d, fabs(res.probs[j] - ref.probs[j]));
        CHECK_MSG(d < 0.05, "rate %d vs 22050: probabilities differ by %.3g", rate, d);
        free(y);
    }
    /* mel entry point: a short spectrogram and a NaN */
    float *mel = malloc(sizeof(float) * 10 * c.n_mels);
    for (int i = 0; i < 10 * c.n_mels; i++) mel[i] = (float)(i % 13) - 50;
    CHECK_OK(amt_classifier_classify_mel(r, mel, 10, &res, NULL));
    CHECK(valid_probs(&res) && res.windows == 1);
    mel[77] = NAN;
    CHECK(amt_classifier_classify_mel(r, mel, 10, &res, NULL) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "not finite"));
    free(mel);
    free(z);
    amt_cls_infer_free(r);
    amt_classifier_free(&m);
}

static void test_checkpoint_roundtrip(void)
{
    const char *ini = "[model]\nkind = classifier\nchannels = 4, 8, 8, 8\ndense = 16\n[infer]\nhop_seconds = 0.25\n";
    amt_classifier_config c;
    CHECK_OK(cfg_from(ini, &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 8));
    m.threshold->data[0] = 0.3f;
    char path[] = "/tmp/amt_test_cls_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "%s", AMT_CLASSIFIER_KIND);
    info.config = (char *)ini;
    CHECK_OK(amt_checkpoint_save(path, &m.params, NULL, &info, 0));
    amt_classifier l;
    CHECK_OK(amt_classifier_load(path, &l));
    CHECK(l.cfg.n_blocks == 4 && l.cfg.dense == 16 && fabs(l.cfg.hop_s - 0.25) < 1e-12);
    CHECK(amt_classifier_threshold(&l) == 0.3f);
    amt_cls_infer *r1 = amt_cls_infer_new(&m, 0), *r2 = amt_cls_infer_new(&l, 0);
    REQUIRE(r1 && r2);
    float *x = tone(30000, 22050, 500, 0.3);
    amt_cls_result a, b;
    CHECK_OK(amt_classifier_classify(r1, x, 30000, 22050, &a));
    CHECK_OK(amt_classifier_classify(r2, x, 30000, 22050, &b));
    CHECK(memcmp(a.probs, b.probs, sizeof a.probs) == 0);
    free(x);
    amt_cls_infer_free(r1);
    amt_cls_infer_free(r2);
    amt_classifier_free(&l);
    /* another model kind is refused, naming both */
    snprintf(info.model, sizeof info.model, "separator");
    CHECK_OK(amt_checkpoint_save(path, &m.params, NULL, &info, 0));
    CHECK(amt_classifier_load(path, &l) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "separator") && strstr(amt_errmsg(), path));
    remove(path);
    amt_classifier_free(&m);
}

/* ------------------------------------------------------------------ determinism */

/* a few Adam steps of a tiny variant; returns the final loss and copies fc1/weight */
static double run_steps(uint64_t graph_seed, float *fc1_out, size_t *n_fc1)
{
    amt_classifier_config c;
    if (cfg_from("[model]\nkind = classifier\nchannels = 3, 4\npool = 2\ndense = 6\n"
                 "[features]\nrate = 4000\nhop = 100\nn_fft = 256\nn_mels = 8\nwindow = 0.25\n", &c)) return NAN;
    amt_classifier m;
    if (amt_classifier_init(&m, &c, 4)) return NAN;
    amt_cls_graph cg;
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    amt_optim *opt = NULL;
    double loss = NAN;
    if (amt_classifier_build_train(&m, 4, graph_seed, &cg) == AMT_OK && (opt = amt_optim_new(&m.params, &oc))) {
        amt_rng rng;
        amt_rng_seed(&rng, 9);
        for (int s = 0; s < 4; s++) {
            for (size_t i = 0; i < cg.x->size; i++) cg.x->data[i] = (float)amt_rng_normal(&rng);
            for (int b = 0; b < 4; b++) cg.labels[b] = (int)amt_rng_below(&rng, AMT_CLS_NCLASS);
            amt_params_zero_grad(&m.params);
            amt_graph_forward(cg.g);
            amt_graph_backward(cg.g, cg.loss);
            amt_optim_step(opt);
            loss = cg.loss->data[0];
        }
        amt_param *w = amt_params_find(&m.params, "fc1/weight");
        memcpy(fc1_out, w->t.data, sizeof(float) * w->t.size);
        *n_fc1 = w->t.size;
        amt_cls_graph_free(&cg);
    }
    amt_optim_free(opt);
    amt_classifier_free(&m);
    return loss;
}

static void test_deterministic(void)
{
    float a[64], b[64], d[64];
    size_t na = 0, nb = 0, nd = 0;
    double la = run_steps(5, a, &na), lb = run_steps(5, b, &nb), ld = run_steps(6, d, &nd);
    REQUIRE(isfinite(la) && na == 24 && nb == 24 && nd == 24);
    CHECK(la == lb && memcmp(a, b, sizeof(float) * na) == 0);   /* same seeds: bit-identical */
    CHECK(memcmp(a, d, sizeof(float) * na) != 0);               /* another dropout seed */
    (void)ld;
}

/* ------------------------------------------------------------------ learning sanity */

/* a synthetic "instrument" clip: notes of random pitch and length with gaps.
 * kind 0: sine; 1: square (odd harmonics); 2: noise bursts (band-limited by a random
 * one-pole low-pass). Random gain. */
static float *synth_clip(int kind, long n, int rate, amt_rng *rng)
{
    float *x = calloc((size_t)n, sizeof(float));
    double gain = 0.05 + 0.6 * amt_rng_uniform(rng);
    long i = (long)(amt_rng_uniform(rng) * 0.1 * rate);
    while (i < n) {
        long len = (long)((0.15 + 0.35 * amt_rng_uniform(rng)) * rate);
        double f = 110.0 * pow(2.0, 3.5 * amt_rng_uniform(rng));   /* 110 .. 1250 Hz */
        double ph = 0, a = 0.2 + 0.8 * amt_rng_uniform(rng), lp = 0;
        double alpha = 0.2 + 0.7 * amt_rng_uniform(rng);
        for (long k = 0; k < len && i + k < n; k++) {
            double env = fmin(1.0, k / (0.01 * rate)) * exp(-2.0 * k / len);
            double v;
            ph += 2 * PI * f / rate;
            if (kind == 0) v = sin(ph);
            else if (kind == 1) v = sin(ph) >= 0 ? 0.7 : -0.7;
            else { lp += alpha * ((amt_rng_uniform(rng) * 2 - 1) - lp); v = 2 * lp; }
            x[i + k] += (float)(gain * a * env * v);
        }
        i += len + (long)(amt_rng_uniform(rng) * 0.15 * rate);
    }
    return x;
}

static void test_learns_synthetic_instruments(void)
{
    amt_classifier_config c;
    CHECK_OK(cfg_from("[model]\nkind = classifier\nchannels = 6, 12, 12\ndense = 32\n"
                      "dropout_conv = 0.1\ndropout_dense = 0.2\n[features]\nn_mels = 40\n", &c));
    amt_classifier m;
    CHECK_OK(amt_classifier_init(&m, &c, 21));
    /* one thread: this tiny network's ops are too small to gain from two, and on a loaded
     * host every OpenMP barrier waits for a descheduled thread (20x slower); the threaded
     * paths are covered by the op tests and the other tests here */
    int threads = amt_get_threads();
    amt_set_threads(1);
    const int K = 3, train_clips = 16, B = 16, steps = 120;
    const int rate = 22050;
    const long clip_n = (long)(1.5 * rate);
    amt_mel_cfg mc = amt_classifier_mel_cfg(&c);
    amt_melspec *ms = amt_melspec_new(&mc);
    REQUIRE(ms);
    long nf = amt_melspec_frames(ms, clip_n);
    int nm = c.n_mels, T = c.frames;
    float *mels = malloc(sizeof(float) * (size_t)K * train_clips * nf * nm);
    amt_rng rng;
    amt_rng_seed(&rng, 77);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < train_clips; i++) {
            float *x = synth_clip(k, clip_n, rate, &rng);
            CHECK_OK(amt_melspec_do(ms, x, clip_n, mels + ((size_t)(k * train_clips + i)) * nf * nm));
            free(x);
        }
    amt_cls_graph cg;
    CHECK_OK(amt_classifier_build_train(&m, B, 3, &cg));
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    oc.lr = 2e-3;
    amt_optim *opt = amt_optim_new(&m.params, &oc);
    REQUIRE(opt);
    double first = 0, last = 0;
    size_t ps = (size_t)nm * T;
    for (int s = 0; s < steps; s++) {
        for (int b = 0; b < B; b++) {
            int k = (int)amt_rng_below(&rng, K), i = (int)amt_rng_below(&rng, train_clips);
            long t0 = (long)amt_rng_below(&rng, (uint64_t)(nf - T + 1));
            amt_classifier_patch(&m, mels + ((size_t)(k * train_clips + i) * nf + t0) * nm, cg.x->data + b * ps);
            cg.labels[b] = k;
        }
        amt_params_zero_grad(&m.params);
        cg.g->step = (uint64_t)s;
        CHECK_OK(amt_graph_forward(cg.g));
        CHECK_OK(amt_graph_backward(cg.g, cg.loss));
        amt_optim_step(opt);
        if (s < 10) first += cg.loss->data[0] / 10;
        if (s >= steps - 10) last += cg.loss->data[0] / 10;
    }
    CHECK_MSG(last < 0.5 * first, "loss %.3f -> %.3f", first, last);
    /* held-out clips of 2 s, through the clip function at 22.05 and 44.1 kHz */
    amt_cls_infer *r = amt_cls_infer_new(&m, 0);
    REQUIRE(r);
    int correct = 0, correct44 = 0, total = 0;
    const int test_clips = 10;
    for (int k = 0; k < K; k++)
        for (int i = 0; i < test_clips; i++) {
            long n = 2 * rate;
            float *x = synth_clip(k, n, rate, &rng);
            amt_cls_result res;
            CHECK_OK(amt_classifier_classify(r, x, n, rate, &res));
            correct += res.top == k;
            float *up = NULL;
            long nu = 0;
            CHECK_OK(amt_resample(x, n, 1, rate, 44100, &up, &nu));
            CHECK_OK(amt_classifier_classify(r, up, nu, 44100, &res));
            correct44 += res.top == k;
            total++;
            free(x); free(up);
        }
    double acc = (double)correct / total, acc44 = (double)correct44 / total;
    fprintf(stderr, "  synthetic instruments: loss %.3f -> %.3f, clip accuracy %.3f (44.1 kHz input %.3f) on %d clips\n",
            first, last, acc, acc44, total);
    CHECK_MSG(acc > 0.9, "clip accuracy %.3f", acc);
    CHECK_MSG(acc44 > 0.9, "clip accuracy at 44.1 kHz %.3f", acc44);
    amt_cls_infer_free(r);
    amt_optim_free(opt);
    amt_cls_graph_free(&cg);
    amt_melspec_del(ms);
    free(mels);
    amt_classifier_free(&m);
    amt_set_threads(threads);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_shipped_config);
    RUN(test_param_count_and_shapes);
    RUN(test_golden_reference);
    RUN(test_config_errors);
    RUN(test_gradcheck_tiny);
    RUN(test_gradcheck_input);
    RUN(test_infer_equals_train_eval);
    RUN(test_patch);
    RUN(test_clip_windows);
    RUN(test_clip_edge_cases);
    RUN(test_stream_equals_whole);
    RUN(test_checkpoint_roundtrip);
    RUN(test_deterministic);
    RUN(test_learns_synthetic_instruments);
    return TEST_DONE();
}
