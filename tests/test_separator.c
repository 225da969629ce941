/* tests/test_separator.c: the separator model (models/separator.c) and the ideal-ratio-mask
 * baseline (models/irm.c): configuration, parameter names and count, PyTorch golden values
 * of the loss and every gradient at gamma 0 and 0.05, the gamma term of the gradient against
 * the loss formula, a finite-difference check of the whole tiny network, block inference
 * against one-block inference, audio-level layout/partition/bad input, checkpoints, and a
 * tiny model learning to beat the mixture (NSDR > 0, eval/separation.h) on synthetic clips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/stft.h"
#include "core/amt.h"
#include "layers/init.h"
#include "eval/separation.h"
#include "models/irm.h"
#include "models/separator.h"
#include "tests/golden.h"
#include "tests/test.h"

#define GOLDEN "tests/golden/separator.txt"

static amt_separator_config tiny_config(int n_fft, int hop, int hidden, int layers)
{
    amt_separator_config c;
    amt_separator_config_default(&c);
    c.n_fft = n_fft;
    c.hop = hop;
    c.hidden = hidden;
    c.layers = layers;
    c.block_frames = 64;
    c.overlap_frames = 16;
    return c;
}

static void fill_uniform(float *x, size_t n, float lo, float hi, amt_rng *r)
{
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)amt_rng_uniform(r);
}

/* ---------------------------------------------------------------- configuration */

static void test_config_file(void)
{
    amt_config *cfg = amt_config_load("configs/separator.ini");
    REQUIRE(cfg);
    amt_separator_config c, d;
    int rc = amt_separator_config_read(cfg, &c);
    CHECK_MSG(rc == AMT_OK, "%s", amt_errmsg());
    /* [train]/[data]/[optim] keys beyond the model's are read by train/kind_separator.c and
     * the training loop; the whole file is checked there (amt-train rejects unused keys) */
    amt_config_free(cfg);
    amt_separator_config_default(&d);
    CHECK(c.hidden == 256 && c.layers == 2 && !c.bidirectional && c.n_fft == 1024 && c.hop == 256);
    CHECK(c.rate == 16000 && !c.log && c.context == 0 && c.batch == 16 && c.seq_frames == 100);
    CHECK_NEAR(c.gamma, 0.05, 1e-7);
    CHECK_NEAR(c.eps, 1e-8, 1e-15);
    CHECK(c.split == AMT_SEP_SPLIT_HUANG && strncmp(c.data_dir, "data/mir1k-train", 16) == 0);
    CHECK(c.optim.kind == AMT_OPTIM_ADAM && fabs(c.optim.clip_norm - 5) < 1e-12);
    CHECK(c.block_frames == d.block_frames && c.overlap_frames == d.overlap_frames && c.segment_frames == d.segment_frames);
}

static void expect_config_error(const char *text, const char *needle)
{
    amt_config *cfg = amt_config_from_string(text, "bad.ini");
    if (!cfg) { CHECK_MSG(0, "parse failed: %s", amt_errmsg()); return; }
    amt_separator_config c;
    int rc = amt_separator_config_read(cfg, &c);
    CHECK_MSG(rc == AMT_ECONFIG && strstr(amt_errmsg(), needle), "'%s' -> %d '%s' (want '%s')", text, rc,
              amt_errmsg(), needle);
    amt_config_free(cfg);
}

static void test_config_errors(void)
{
    expect_config_error("[model]\nkind = classifier\n", "classifier");
    expect_config_error("[model]\nhidden = 0\n", "model.hidden");
    expect_config_error("[features]\nn_fft = 1023\n", "n_fft");
    expect_config_error("[features]\nhop = 2048\n", "hop");
    expect_config_error("[loss]\ngamma = -1\n", "loss.gamma");
    expect_config_error("[train]\nsplit = thirds\n", "train.split");
    expect_config_error("[infer]\nblock_frames = 100\noverlap_frames = 64\n", "block_frames");
    expect_config_error("[infer]\noverlap_frames = 15\n", "overlap_frames");
    expect_config_error("[infer]\nsegment_frames = 100\n", "segment_frames");
    expect_config_error("[optim]\nlr = abc\n", "optim.lr");
}

/* ---------------------------------------------------------------- shapes and parameters */

static void test_params_reference_shape(void)
{
    amt_separator_config c;
    amt_separator_config_default(&c);
    amt_separator m;
    CHECK_OK(amt_separator_init(&m, &c));
    CHECK(m.bins == 513 && m.in_features == 513);
    /* PyTorch's 1,579,522 minus its second recurrent bias (2 layers x 4 x 256) */
    CHECK(amt_params_count(&m.params, 1) == 1579522 - 2 * 1024);
    static const char *const names[] = {"lstm/l0/w_ih", "lstm/l0/w_hh", "lstm/l0/b", "lstm/l1/w_ih", "lstm/l1/w_hh",
                                        "lstm/l1/b", "head1/weight", "head1/bias", "head2/weight", "head2/bias"};
    static const int shp[10][2] = {{1024, 513}, {1024, 256}, {1024, 1}, {1024, 256}, {1024, 256}, {1024, 1},
                                   {513, 256}, {513, 1}, {513, 256}, {513, 1}};
    CHECK(m.params.n == 10);
    for (int i = 0; i < 10; i++) {
        amt_param *p = amt_params_find(&m.params, names[i]);
        CHECK_MSG(p && p->t.shape[0] == shp[i][0] && (p->t.ndim == 1 || p->t.shape[1] == shp[i][1]), "%s", names[i]);
    }
    amt_separator_free(&m);

    /* bidirectional with context and log: feature width and reverse stack */
    c = tiny_config(64, 16, 8, 2);
    c.bidirectional = 1;
    c.context = 2;
    c.log = 1;
    CHECK_OK(amt_separator_init(&m, &c));
    CHECK(m.bins == 33 && m.in_features == 33 * 5);
    amt_param *p = amt_params_find(&m.params, "lstm/rev/l0/w_ih");
    CHECK(p && p->t.shape[0] == 32 && p->t.shape[1] == 165);
    p = amt_params_find(&m.params, "head1/weight");
    CHECK(p && p->t.shape[0] == 33 && p->t.shape[1] == 16);
    amt_sep_graph sg;
    CHECK_OK(amt_separator_build_train(&m, 3, 7, 1, &sg));
    CHECK(sg.feat != sg.mix && sg.feat->shape[2] == 165 && sg.mix->shape[2] == 33);
    CHECK(sg.s1->ndim == 3 && sg.s1->shape[0] == 3 && sg.s1->shape[1] == 7 && sg.s1->shape[2] == 33);
    CHECK(amt_tensor_same_shape(sg.s1, sg.s2) && sg.loss->size == 1);
    amt_sep_graph_free(&sg);
    CHECK_OK(amt_separator_build_infer(&m, 11, &sg));
    CHECK(sg.s1->shape[1] == 11 && sg.s1->shape[2] == 33 && !sg.loss && !sg.g->with_grad);
    amt_sep_graph_free(&sg);
    amt_separator_free(&m);

    /* plain features: one input tensor */
    c = tiny_config(64, 16, 8, 1);
    CHECK_OK(amt_separator_init(&m, &c));
    CHECK_OK(amt_separator_build_train(&m, 2, 5, 1, &sg));
    CHECK(sg.feat == sg.mix);
    amt_sep_graph_free(&sg);
    CHECK(amt_separator_build_train(&m, 0, 5, 1, &sg) == AMT_EINVAL && strstr(amt_errmsg(), "batch"));
    amt_separator_free(&m);
}

static void test_features(void)
{
    amt_separator_config c = tiny_config(8, 4, 4, 1);
    c.context = 1;
    c.log = 1;
    amt_separator m;
    CHECK_OK(amt_separator_init(&m, &c));
    float mag[4 * 5], feat[2 * 15];
    for (int i = 0; i < 20; i++) mag[i] = (float)i;
    amt_separator_features(&m, mag, 4, 2, 2, feat);   /* frames 2, 3: neighbours 1..4, 4 is outside */
    for (int j = 0; j < 5; j++) {
        CHECK_NEAR(feat[j], log1pf(mag[5 + j]), 1e-6);          /* frame 2: t-1 = 1 */
        CHECK_NEAR(feat[5 + j], log1pf(mag[10 + j]), 1e-6);     /* t = 2 */
        CHECK_NEAR(feat[10 + j], log1pf(mag[15 + j]), 1e-6);    /* t+1 = 3 */
        CHECK(feat[15 + 10 + j] == 0.0f);                       /* frame 3: t+1 = 4 outside */
    }
    amt_separator_free(&m);
}

/* ---------------------------------------------------------------- golden (PyTorch) and gamma */

static int load_golden_into(amt_separator *m)
{
    for (int i = 0; i < m->params.n; i++) {
        amt_param *p = m->params.p[i];
        size_t n = 0;
        float *v = golden_get(GOLDEN, p->name, NULL, NULL, &n);
        if (!v || n != p->t.size) { free(v); return 0; }
        memcpy(p->t.data, v, n * sizeof(float));
        free(v);
    }
    return 1;
}

static int load_golden_tensor(const char *name, float *dst, size_t n_expect)
{
    size_t n = 0;
    float *v = golden_get(GOLDEN, name, NULL, NULL, &n);
    if (!v || n != n_expect) { free(v); return 0; }
    memcpy(dst, v, n * sizeof(float));
    free(v);
    return 1;
}

static void test_golden_loss_and_gradients(void)
{
    amt_separator_config c = tiny_config(8, 4, 4, 2);   /* 5 bins, LSTM 2 x 4 */
    static const float gammas[2] = {0.0f, 0.05f};
    static const char *const tags[2] = {"g0", "g5"};
    for (int gi = 0; gi < 2; gi++) {
        c.gamma = gammas[gi];
        amt_separator m;
        CHECK_OK(amt_separator_init(&m, &c));
        REQUIRE(load_golden_into(&m));
        amt_sep_graph sg;
        CHECK_OK(amt_separator_build_train(&m, 2, 3, 1, &sg));
        REQUIRE(load_golden_tensor("x", sg.mix->data, 30) && load_golden_tensor("t1", sg.voice->data, 30) &&
                load_golden_tensor("t2", sg.music->data, 30));
        amt_params_zero_grad(&m.params);
        CHECK_OK(amt_graph_forward(sg.g));
        CHECK_OK(amt_graph_backward(sg.g, sg.loss));
        char name[160];
        float ref[80];
        snprintf(name, sizeof name, "loss_%s", tags[gi]);
        REQUIRE(load_golden_tensor(name, ref, 1));
        CHECK_NEAR(sg.loss->data[0], ref[0], 1e-6 + 1e-5 * fabs(ref[0]));
        REQUIRE(load_golden_tensor("s1", ref, 30));
        double worst = 0;
        for (int i = 0; i < 30; i++) worst = fmax(worst, fabs(sg.s1->data[i] - ref[i]));
        CHECK_MSG(worst < 1e-5, "s1 differs by %.3g", worst);
        for (int i = 0; i < m.params.n; i++) {
            amt_param *p = m.params.p[i];
            snprintf(name, sizeof name, "grad_%s/%s", tags[gi], p->name);
            REQUIRE(p->t.size <= 80 && load_golden_tensor(name, ref, p->t.size));
            double err = 0, scale = 1e-6;
            for (size_t k = 0; k < p->t.size; k++) {
                err = fmax(err, fabs(p->t.grad[k] - ref[k]));
                scale = fmax(scale, fabs(ref[k]));
            }
            CHECK_MSG(err <= 1e-4 * scale + 1e-7, "gamma %g %s: max error %.3g (max |grad| %.3g)", (double)gammas[gi],
                      p->name, err, scale);
        }
        amt_sep_graph_free(&sg);
        amt_separator_free(&m);
    }
}

/* The gradient reaching s1 (through s1 and through s2 = x - s1) against the formula
 *   dL/ds1 - dL/ds2 = 2/n [(s1 - t1) - g (s1 - t2) - (s2 - t2) + g (s2 - t1)]
 * at gamma 0 and 0.05, and their difference -2g/n [(s1 - t2) - (s2 - t1)]. */
static void test_gamma_term_gradient(void)
{
    amt_separator_config c = tiny_config(32, 8, 6, 1);
    float *grad0 = NULL;
    size_t n = 0;
    for (int gi = 0; gi < 2; gi++) {
        float gm = gi ? 0.05f : 0.0f;
        c.gamma = gm;
        amt_separator m;
        CHECK_OK(amt_separator_init(&m, &c));
        amt_sep_graph sg;
        CHECK_OK(amt_separator_build_train(&m, 2, 6, 1, &sg));
        amt_rng r;
        amt_rng_seed(&r, 77);
        n = sg.mix->size;
        fill_uniform(sg.mix->data, n, 0.1f, 3.0f, &r);
        for (size_t i = 0; i < n; i++) {
            float a = (float)amt_rng_uniform(&r);
            sg.voice->data[i] = a * sg.mix->data[i];
            sg.music->data[i] = (1 - a) * sg.mix->data[i];
        }
        amt_params_zero_grad(&m.params);
        CHECK_OK(amt_graph_forward(sg.g));
        CHECK_OK(amt_graph_backward(sg.g, sg.loss));
        double worst = 0, worst_d = 0;
        const float *s1 = sg.s1->data, *s2 = sg.s2->data, *t1 = sg.voice->data, *t2 = sg.music->data;
        for (size_t i = 0; i < n; i++) {
            double f = 2.0 / n * ((s1[i] - t1[i]) - gm * (s1[i] - t2[i]) - (s2[i] - t2[i]) + gm * (s2[i] - t1[i]));
            worst = fmax(worst, fabs(sg.s1->grad[i] - f) / (fabs(f) + 1e-6));
            if (gi) {
                double d = -2.0 * gm / n * ((s1[i] - t2[i]) - (s2[i] - t1[i]));
                worst_d = fmax(worst_d, fabs((sg.s1->grad[i] - grad0[i]) - d) / (fabs(d) + 1e-7));
            }
        }
        CHECK_MSG(worst < 1e-4, "gamma %g: ds1 relative error %.3g", (double)gm, worst);
        if (gi) CHECK_MSG(worst_d < 1e-2, "gamma term: relative error %.3g", worst_d);
        if (!gi) { grad0 = malloc(n * sizeof(float)); memcpy(grad0, sg.s1->grad, n * sizeof(float)); }
        /* the loss itself against the formula, in double */
        double l = 0;
        for (size_t i = 0; i < n; i++)
            l += ((s1[i] - t1[i]) * (double)(s1[i] - t1[i]) + (s2[i] - t2[i]) * (double)(s2[i] - t2[i]) -
                  gm * ((s1[i] - t2[i]) * (double)(s1[i] - t2[i]) + (s2[i] - t1[i]) * (double)(s2[i] - t1[i]))) / n;
        CHECK_NEAR(sg.loss->data[0], l, 1e-5 * fabs(l) + 1e-7);
        amt_sep_graph_free(&sg);
        amt_separator_free(&m);
    }
    free(grad0);
}

/* ---------------------------------------------------------------- whole-network gradient check */

static double loss_now(amt_sep_graph *sg)
{
    amt_graph_forward(sg->g);
    return sg->loss->data[0];
}

static void gradcheck_network(int bidirectional, int context, int log, int layers)
{
    amt_separator_config c = tiny_config(8, 4, 3, layers);   /* 5 bins, hidden 3 */
    c.bidirectional = bidirectional;
    c.context = context;
    c.log = log;
    amt_separator m;
    CHECK_OK(amt_separator_init(&m, &c));
    /* head biases well above |W h| so the ReLUs stay off their kink */
    amt_init_const(m.head1.bias, 2.0f);
    amt_init_const(m.head2.bias, 2.5f);
    amt_sep_graph sg;
    const int B = 2, T = 4;
    CHECK_OK(amt_separator_build_train(&m, B, T, 1, &sg));
    amt_rng r;
    amt_rng_seed(&r, 99);
    fill_uniform(sg.mix->data, sg.mix->size, 0.2f, 2.0f, &r);
    fill_uniform(sg.voice->data, sg.voice->size, 0.0f, 1.0f, &r);
    fill_uniform(sg.music->data, sg.music->size, 0.0f, 1.0f, &r);
    if (sg.feat != sg.mix)
        for (int b = 0; b < B; b++)
            amt_separator_features(&m, sg.mix->data + (size_t)b * T * m.bins, T, 0, T,
                                   sg.feat->data + (size_t)b * T * m.in_features);
    amt_params_zero_grad(&m.params);
    CHECK_OK(amt_graph_forward(sg.g));
    CHECK_OK(amt_graph_backward(sg.g, sg.loss));
    const double eps = 1e-2;
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < m.params.n; i++) {
        amt_param *p = m.params.p[i];
        for (size_t k = 0; k < p->t.size; k++) {
            float orig = p->t.data[k];
            p->t.data[k] = orig + (float)eps;
            double lp = loss_now(&sg);
            p->t.data[k] = orig - (float)eps;
            double lm = loss_now(&sg);
            p->t.data[k] = orig;
            double num = (lp - lm) / (2 * eps), ana = p->t.grad[k];
            double err = fabs(num - ana) / fmax(1e-3, fmax(fabs(num), fabs(ana)));
            if (err > worst) worst = err;
            if (err > 2e-2) fprintf(stderr, "  %s[%zu]: analytic %.6g numeric %.6g\n", p->name, k, ana, num);
            checked++;
        }
    }
    CHECK_MSG(worst < 2e-2 && checked == (int)amt_params_count(&m.params, 0),
              "bidir %d context %d log %d layers %d: worst relative error %.3g over %d values", bidirectional, context,
              log, layers, worst, checked);
    amt_sep_graph_free(&sg);
    amt_separator_free(&m);
}

static void test_gradcheck_network(void)
{
    gradcheck_network(0, 0, 0, 2);
    gradcheck_network(1, 1, 1, 1);
}

/* ---------------------------------------------------------------- block inference */

/* Warm-up/overlap scheme (separator.h): blocks of N = 64 frames every 48 (W = 16): block b+1
 * drops its first 8 frames and cross-fades over the next 8. The LSTM forgets its zero start
 * state geometrically: the mask agrees with one-block inference to ~2e-2 at W = 16, 3e-3
 * at W = 32, < 1e-3 at W = 64 (checked), frames before the first cross-fade exactly; a
 * bidirectional model (cross-fade centred in the overlap) to ~1e-3 at W = 64. */
static void test_block_inference(void)
{
    amt_separator_config c = tiny_config(64, 16, 16, 2);   /* 33 bins */
    c.log = 1;
    amt_separator m;
    CHECK_OK(amt_separator_init(&m, &c));
    /* keep y1, y2 away from 0: where both ReLU heads give ~0 the mask y1 / (y1 + y2) is
     * discontinuous and any difference, however small, can flip it from 0 to 1 */
    amt_init_const(m.head1.bias, 1.0f);
    amt_init_const(m.head2.bias, 1.0f);
    const long n = 300;
    const int bins = m.bins;
    float *mag = malloc(sizeof(float) * n * bins), *full = malloc(sizeof(float) * n * bins),
          *blk = malloc(sizeof(float) * n * bins);
    amt_rng r;
    amt_rng_seed(&r, 5);
    for (long t = 0; t < n; t++)   /* a slowly changing spectrum plus noise */
        for (int j = 0; j < bins; j++)
            mag[t * bins + j] = (float)(5 * (1 + sinf(0.05f * t + 0.3f * j)) * amt_rng_uniform(&r));
    amt_sep_infer *one = amt_sep_infer_new(&m, 320, 16), *bl = amt_sep_infer_new(&m, 64, 16);
    REQUIRE(one && bl);
    CHECK_OK(amt_sep_infer_masks(one, mag, n, full));
    size_t bytes = amt_sep_infer_bytes(bl);
    CHECK_OK(amt_sep_infer_masks(bl, mag, n, blk));
    double exact = 0, worst = 0, mean_abs = 0;
    for (long t = 0; t < n; t++)
        for (int j = 0; j < bins; j++) {
            double d = fabs(full[t * bins + j] - blk[t * bins + j]);
            if (t < 48 + 8) exact = fmax(exact, d); else worst = fmax(worst, d);
            mean_abs += d;
            CHECK(blk[t * bins + j] >= 0 && blk[t * bins + j] <= 1);
        }
    mean_abs /= (double)n * bins;
    fprintf(stderr, "  block inference: first block max diff %.2g, later max %.2g, mean %.2g\n", exact, worst, mean_abs);
    CHECK_MSG(exact < 1e-5, "first block differs by %.3g", exact);
    CHECK_MSG(worst < 5e-2, "blocks differ from one-block inference by %.3g (W = 16)", worst);
    /* a wider overlap warms up longer: closer */
    static const int Ws[3] = {16, 32, 64};
    double prev = worst;
    for (int i = 0; i < 3; i++) {
        amt_sep_infer *bl2 = amt_sep_infer_new(&m, 2 * Ws[i] + 48, Ws[i]);
        REQUIRE(bl2);
        CHECK_OK(amt_sep_infer_masks(bl2, mag, n, blk));
        double w2 = 0;
        for (long t = 2 * Ws[i] + 48 - Ws[i]; t < n; t++)   /* from the second block's overlap on */
            for (int j = 0; j < bins; j++) w2 = fmax(w2, fabs(full[t * bins + j] - blk[t * bins + j]));
        fprintf(stderr, "  W = %d (warm-up %d frames): max mask difference %.2g\n", Ws[i], Ws[i] / 2, w2);
        if (i) CHECK_MSG(w2 < prev, "W = %d: %.3g not below %.3g", Ws[i], w2, prev);
        prev = w2;
        amt_sep_infer_free(bl2);
    }
    CHECK_MSG(prev < 1e-3, "W = 64: %.3g", prev);
    /* bounded memory: the graph is built once, a longer input costs nothing more */
    const long n2 = 3000;
    float *mag2 = malloc(sizeof(float) * n2 * bins), *out2 = malloc(sizeof(float) * n2 * bins);
    for (long i = 0; i < n2 * bins; i++) mag2[i] = mag[i % (n * bins)];
    CHECK_OK(amt_sep_infer_masks(bl, mag2, n2, out2));
    CHECK(amt_sep_infer_bytes(bl) == bytes);
    /* short inputs (shorter than one block, one frame) */
    CHECK_OK(amt_sep_infer_masks(bl, mag, 1, out2));
    CHECK_NEAR(out2[3], full[3], 1e-5);
    CHECK_OK(amt_sep_infer_masks(bl, mag, 40, out2));
    CHECK_NEAR(out2[39 * bins + 7], full[39 * bins + 7], 1e-5);
    CHECK(amt_sep_infer_masks(bl, mag, 0, out2) == AMT_EINVAL && strstr(amt_errmsg(), "0 frames"));
    CHECK(!amt_sep_infer_new(&m, 20, 16) && strstr(amt_errmsg(), "overlap"));
    amt_sep_infer_free(one);
    amt_sep_infer_free(bl);
    amt_separator_free(&m);
    /* bidirectional: the block ends lack future context too; the cross-fade ramps them out */
    c.bidirectional = 1;
    CHECK_OK(amt_separator_init(&m, &c));
    amt_init_const(m.head1.bias, 1.0f);
    amt_init_const(m.head2.bias, 1.0f);
    one = amt_sep_infer_new(&m, 320, 64);
    bl = amt_sep_infer_new(&m, 160, 64);
    REQUIRE(one && bl);
    CHECK_OK(amt_sep_infer_masks(one, mag, n, full));
    CHECK_OK(amt_sep_infer_masks(bl, mag, n, blk));
    double wb = 0;
    for (size_t i = 0; i < (size_t)n * bins; i++) wb = fmax(wb, fabs(full[i] - blk[i]));
    fprintf(stderr, "  bidirectional, W = 64: max mask difference %.2g\n", wb);
    CHECK_MSG(wb < 3e-3, "bidirectional blocks differ by %.3g", wb);
    /* shorter than a block: a graph of its own length (the reverse stack sees only the clip) */
    CHECK_OK(amt_sep_infer_masks(bl, mag, 40, blk));
    CHECK_OK(amt_sep_infer_masks(one, mag, 40, full));
    CHECK(memcmp(blk, full, sizeof(float) * 40 * bins) == 0);
    amt_sep_infer_free(one);
    amt_sep_infer_free(bl);
    free(mag); free(full); free(blk); free(mag2); free(out2);
    amt_separator_free(&m);
}

/* ---------------------------------------------------------------- audio level */

/* Two copies of one tiny model (same seed): whole-file segments, and segments of 100
 * frames (1.6 s at hop 64) so that the layout tests cross segment boundaries. */
static amt_separator g_audio_model, g_seg_model;
static amt_sep_infer *g_audio_run, *g_seg_run;

static int audio_model(void)
{
    if (g_audio_run && g_seg_run) return 1;
    amt_separator_config c = tiny_config(256, 64, 8, 1);
    c.block_frames = 128;
    c.overlap_frames = 32;
    if (amt_separator_init(&g_audio_model, &c)) return 0;
    c.segment_frames = 100;
    if (amt_separator_init(&g_seg_model, &c)) return 0;
    /* head biases away from 0: masks continuous in the features (see test_block_inference) */
    amt_init_const(g_audio_model.head1.bias, 1.0f);
    amt_init_const(g_audio_model.head2.bias, 1.0f);
    amt_init_const(g_seg_model.head1.bias, 1.0f);
    amt_init_const(g_seg_model.head2.bias, 1.0f);
    g_audio_run = amt_sep_infer_new(&g_audio_model, 0, 0);
    g_seg_run = amt_sep_infer_new(&g_seg_model, 0, 0);
    return g_audio_run && g_seg_run;
}

/* frames x channels: a 1 kHz tone (phase per channel) plus a different low tone per channel. */
static float *make_audio(long frames, int channels, int rate)
{
    float *x = malloc(sizeof(float) * frames * channels);
    for (long f = 0; f < frames; f++)
        for (int c = 0; c < channels; c++) {
            double t = (double)f / rate;
            x[f * channels + c] = (float)(0.3 * sin(2 * M_PI * 1000 * t + c) + 0.2 * sin(2 * M_PI * (200 + 50 * c) * t));
        }
    return x;
}

static void check_layout(long frames, int channels, int rate)
{
    float *x = make_audio(frames, channels, rate);
    float *v = malloc(sizeof(float) * frames * channels), *mu = malloc(sizeof(float) * frames * channels);
    int rc = amt_separator_separate(g_seg_run, x, frames, channels, rate, v, mu);
    CHECK_MSG(rc == AMT_OK, "%ld x %d at %d Hz: %s", frames, channels, rate, amt_errmsg());
    double worst = 0, ev = 0;
    int finite = 1;
    for (long i = 0; i < frames * channels; i++) {
        if (!isfinite(v[i]) || !isfinite(mu[i])) finite = 0;
        worst = fmax(worst, fabs(v[i] + mu[i] - x[i]));
        ev += (double)v[i] * v[i];
    }
    CHECK_MSG(finite && worst <= 1e-6 && ev > 0, "%d Hz x %d: partition error %.3g, voice energy %.3g", rate, channels,
              worst, ev);
    if (channels > 1) {   /* each channel keeps its own image */
        double d = 0;
        for (long f = 0; f < frames; f++) d = fmax(d, fabs(v[f * channels] - v[f * channels + 1]));
        CHECK(d > 1e-3);
    }
    /* time alignment at the input rate: the voice of a steady mixture follows the mixture */
    if (frames > rate / 4) {
        double sxy = 0, sxx = 0, syy = 0;
        for (long f = frames / 8; f < frames - frames / 8; f++) {
            double a = v[f * channels], b = x[f * channels];
            sxy += a * b; sxx += a * a; syy += b * b;
        }
        double corr = sxy / sqrt(sxx * syy + 1e-30);
        CHECK_MSG(corr > 0.5, "%d Hz x %d: voice/mixture correlation %.3f", rate, channels, corr);
    }
    free(x); free(v); free(mu);
}

static void count_progress(void *ctx, double f)
{
    double *last = ctx;
    if (f > last[0]) last[1] += 1;   /* calls with increasing fraction */
    last[0] = f;
}

/* Segmented separation against whole-file separation: the masks differ only through the
 * LSTM warm-up and STFT edges in the overlaps (W = 16 frames here: 4 warm-up frames). */
static void test_audio_segments(void)
{
    REQUIRE(audio_model());
    const long n = 3 * 16000;
    float *x = make_audio(n, 1, 16000);
    for (long i = 0; i < n; i++) x[i] *= (float)(0.5 + 0.5 * sin(2 * M_PI * 0.7 * i / 16000.0));   /* changing level */
    float *v1 = malloc(sizeof(float) * n), *m1 = malloc(sizeof(float) * n), *v2 = malloc(sizeof(float) * n),
          *m2 = malloc(sizeof(float) * n);
    double prog[2] = {0, 0};
    amt_sep_infer_on_progress(g_seg_run, count_progress, prog);
    CHECK_OK(amt_separator_separate(g_audio_run, x, n, 1, 16000, v1, m1));
    CHECK_OK(amt_separator_separate(g_seg_run, x, n, 1, 16000, v2, m2));
    amt_sep_infer_on_progress(g_seg_run, NULL, NULL);
    CHECK_MSG(prog[0] == 1.0 && prog[1] >= 8, "progress: last %.3f, %g increasing calls", prog[0], prog[1]);
    double worst = 0, peak = 0, err = 0, en = 0;
    for (long i = 0; i < n; i++) {
        worst = fmax(worst, fabs(v1[i] - v2[i]));
        peak = fmax(peak, fabs(v1[i]));
        err += (v1[i] - v2[i]) * (double)(v1[i] - v2[i]);
        en += v1[i] * (double)v1[i];
        CHECK(fabsf(v2[i] + m2[i] - x[i]) <= 1e-6f);
    }
    fprintf(stderr, "  segments of 100 frames vs whole file: max voice difference %.2g (peak %.2g), SNR %.1f dB\n",
            worst, peak, 10 * log10(en / (err + 1e-30)));
    CHECK_MSG(10 * log10(en / (err + 1e-30)) > 40, "segmented voice SNR %.1f dB", 10 * log10(en / (err + 1e-30)));
    free(x); free(v1); free(m1); free(v2); free(m2);
}

static void test_audio_layouts(void)
{
    REQUIRE(audio_model());
    check_layout(48000, 1, 16000);        /* mono 16 kHz, 3 s (several segments) */
    check_layout(88200, 2, 44100);        /* stereo 44.1 kHz, 2 s */
    check_layout(16000, 1, 8000);         /* 8 kHz mono, 2 s */
    check_layout(192000, 6, 96000);       /* 2 s, 96 kHz, 6 channels: same mid mask on each */
    check_layout(800, 1, 16000);          /* 50 ms: 4 STFT frames, a short but valid result */
    check_layout(2205, 2, 44100);         /* 50 ms stereo */
}

/* At 16 kHz mono the music computed as ISTFT((1 - M) X) (the magnitude partition) differs
 * from the residual x - voice only by the STFT/ISTFT round-off. */
static void test_audio_partition_error(void)
{
    REQUIRE(audio_model());
    const long n = 16000;
    float *x = make_audio(n, 1, 16000), *v = malloc(sizeof(float) * n), *mu = malloc(sizeof(float) * n);
    CHECK_OK(amt_separator_separate(g_audio_run, x, n, 1, 16000, v, mu));
    amt_stft_cfg sc = amt_stft_default(256, 64);
    amt_stft *st = amt_stft_new(&sc);
    long nf = amt_stft_frames(st, n);
    int bins = amt_stft_bins(st);
    float *spec = malloc(sizeof(float) * 2 * nf * bins), *mag = malloc(sizeof(float) * nf * bins),
          *mask = malloc(sizeof(float) * nf * bins), *y = malloc(sizeof(float) * n);
    amt_stft_do(st, x, n, spec);
    amt_spec_to_magphase(spec, nf * bins, mag, NULL);
    CHECK_OK(amt_sep_infer_masks(g_audio_run, mag, nf, mask));
    for (long i = 0; i < nf * bins; i++) { spec[2 * i] *= 1 - mask[i]; spec[2 * i + 1] *= 1 - mask[i]; }
    amt_istft_do(st, spec, nf, n, y, NULL);
    double worst = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs(y[i] - mu[i]));
    fprintf(stderr, "  ISTFT((1-M)X) vs x - voice at 16 kHz: max diff %.2g\n", worst);
    /* deterministic: a second run gives the same bits */
    float *v2 = malloc(sizeof(float) * n), *mu2 = malloc(sizeof(float) * n);
    CHECK_OK(amt_separator_separate(g_audio_run, x, n, 1, 16000, v2, mu2));
    CHECK(memcmp(v, v2, sizeof(float) * n) == 0 && memcmp(mu, mu2, sizeof(float) * n) == 0);
    free(v2); free(mu2);
    CHECK_MSG(worst < 1e-4, "magnitude partition through the ISTFT differs by %.3g", worst);
    amt_stft_del(st);
    free(x); free(v); free(mu); free(spec); free(mag); free(mask); free(y);
}

static void test_audio_bad_input(void)
{
    REQUIRE(audio_model());
    const long n = 4000;
    float *x = calloc(n * 2, sizeof(float)), *v = malloc(sizeof(float) * n * 2), *mu = malloc(sizeof(float) * n * 2);
    /* silence in -> silence out */
    CHECK_OK(amt_separator_separate(g_audio_run, x, n, 2, 44100, v, mu));
    int zero = 1;
    for (long i = 0; i < 2 * n; i++) if (v[i] != 0.0f || mu[i] != 0.0f) zero = 0;
    CHECK(zero);
    /* NaN, infinity */
    x[2 * 10 + 1] = NAN;
    CHECK(amt_separator_separate(g_audio_run, x, n, 2, 44100, v, mu) == AMT_EINVAL);
    CHECK_MSG(strstr(amt_errmsg(), "NaN") && strstr(amt_errmsg(), "frame 10 channel 1"), "%s", amt_errmsg());
    x[2 * 10 + 1] = INFINITY;
    CHECK(amt_separator_separate(g_audio_run, x, n, 2, 44100, v, mu) == AMT_EINVAL && strstr(amt_errmsg(), "infinite"));
    x[2 * 10 + 1] = 0;
    /* empty, bad rate, bad channels */
    CHECK(amt_separator_separate(g_audio_run, x, 0, 1, 16000, v, mu) == AMT_EINVAL && strstr(amt_errmsg(), "0 frames"));
    CHECK(amt_separator_separate(g_audio_run, x, n, 1, 0, v, mu) == AMT_EINVAL && strstr(amt_errmsg(), "0 Hz"));
    CHECK(amt_separator_separate(g_audio_run, x, n, 0, 16000, v, mu) == AMT_EINVAL && strstr(amt_errmsg(), "0 channels"));
    /* one sample at 96 kHz: nothing at 16 kHz: all music, no crash */
    x[0] = 0.5f;
    CHECK_OK(amt_separator_separate(g_audio_run, x, 1, 1, 96000, v, mu));
    CHECK(v[0] + mu[0] == 0.5f);
    free(x); free(v); free(mu);
}

/* ---------------------------------------------------------------- checkpoints */

static void test_checkpoint(void)
{
    amt_separator_config c = tiny_config(32, 8, 5, 1);
    c.context = 1;
    amt_separator m, m2;
    CHECK_OK(amt_separator_init(&m, &c));
    const char *text = "[model]\nkind = separator\nhidden = 5\nlayers = 1\n[features]\nn_fft = 32\nhop = 8\ncontext = 1\n";
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "separator");
    info.config = (char *)text;
    const char *path = "/tmp/amt_test_separator.h5", *path2 = "/tmp/amt_test_separator_cls.h5";
    CHECK_OK(amt_checkpoint_save(path, &m.params, NULL, &info, 0));
    CHECK_OK(amt_separator_load(path, &m2));
    CHECK(m2.cfg.hidden == 5 && m2.in_features == 17 * 3 && m2.params.n == m.params.n);
    amt_param *a = amt_params_find(&m.params, "head2/weight"), *b = amt_params_find(&m2.params, "head2/weight");
    CHECK(a && b && memcmp(a->t.data, b->t.data, a->t.size * sizeof(float)) == 0);
    amt_separator_free(&m2);
    snprintf(info.model, sizeof info.model, "classifier");
    CHECK_OK(amt_checkpoint_save(path2, &m.params, NULL, &info, 0));
    CHECK(amt_separator_load(path2, &m2) == AMT_EFORMAT);
    CHECK_MSG(strstr(amt_errmsg(), "classifier") && strstr(amt_errmsg(), path2), "%s", amt_errmsg());
    CHECK(amt_separator_load("/tmp/amt_no_such_checkpoint.h5", &m2) == AMT_EIO);
    remove(path);
    remove(path2);
    amt_separator_free(&m);
}

/* ---------------------------------------------------------------- learning sanity */

#define SR 16000
#define CLIP 16000   /* 1 s */

/* voice: sung notes (f0 250-500 Hz, 6 harmonics, 5.5 Hz vibrato of 2 %, gaps between
 * notes); music: a low bass (55-110 Hz, 3 harmonics) and decaying noise bursts (drums). */
static void synth_clip(amt_rng *r, float *voice, float *music)
{
    memset(voice, 0, sizeof(float) * CLIP);
    memset(music, 0, sizeof(float) * CLIP);
    for (long s = 0; s < CLIP;) {
        long len = 3000 + (long)amt_rng_below(r, 5000), gap = (long)amt_rng_below(r, 1500);
        double f0 = 250 + 250 * amt_rng_uniform(r), ph = 0, vib = 2 * M_PI * amt_rng_uniform(r);
        for (long i = 0; i < len && s + i < CLIP; i++) {
            double t = (double)i / SR, env = fmin(1.0, fmin(t / 0.02, (double)(len - i) / (0.03 * SR)));
            ph += 2 * M_PI * f0 * (1 + 0.02 * sin(2 * M_PI * 5.5 * t + vib)) / SR;
            double y = 0;
            for (int k = 1; k <= 6; k++) y += sin(k * ph) / k;
            voice[s + i] = (float)(0.25 * env * y);
        }
        s += len + gap;
    }
    for (long s = 0; s < CLIP;) {
        long len = 4000 + (long)amt_rng_below(r, 4000);
        double f0 = 55 + 55 * amt_rng_uniform(r);
        for (long i = 0; i < len && s + i < CLIP; i++) {
            double t = (double)i / SR, env = fmin(1.0, t / 0.01) * exp(-t * 1.5);
            double y = 0;
            for (int k = 1; k <= 3; k++) y += sin(2 * M_PI * k * f0 * t) / k;
            music[s + i] += (float)(0.3 * env * y);
        }
        s += len;
    }
    for (long s = (long)amt_rng_below(r, 2000); s < CLIP; s += 2000 + (long)amt_rng_below(r, 2000)) {
        for (long i = 0; i < 2400 && s + i < CLIP; i++)
            music[s + i] += (float)(0.3 * exp(-(double)i / (0.03 * SR)) * (2 * amt_rng_uniform(r) - 1));
    }
}

static void test_learning_beats_mixture(void)
{
    amt_separator_config c = tiny_config(512, 128, 32, 1);   /* 257 bins, LSTM 1 x 32 */
    c.log = 1;
    c.seed = 3;
    c.block_frames = 128;
    c.overlap_frames = 16;
    amt_separator m;
    CHECK_OK(amt_separator_init(&m, &c));
    /* One thread: at these tiny shapes (8 x 48 frames, 32 units) a second thread does not
     * pay, and on a loaded 2-core host the 2-thread run took 8-40x longer (0.65 s vs 5-25 s)
     * in OpenMP/OpenBLAS waits. */
    int threads = amt_get_threads();
    amt_set_threads(1);
    const int n_train = 12, n_test = 4, B = 8, T = 48, steps = 200;
    amt_rng r;
    amt_rng_seed(&r, 2024);
    long nf = 0;
    float *v = malloc(sizeof(float) * CLIP), *mu = malloc(sizeof(float) * CLIP), *mix = malloc(sizeof(float) * CLIP);
    float *X[12], *V[12], *M[12];
    for (int k = 0; k < n_train; k++) {
        synth_clip(&r, v, mu);
        for (long i = 0; i < CLIP; i++) mix[i] = v[i] + mu[i];
        CHECK_OK(amt_separator_magnitude(&m, mix, CLIP, &X[k], &nf));
        CHECK_OK(amt_separator_magnitude(&m, v, CLIP, &V[k], &nf));
        CHECK_OK(amt_separator_magnitude(&m, mu, CLIP, &M[k], &nf));
    }
    CHECK(nf == 1 + CLIP / c.hop);
    amt_sep_graph sg;
    CHECK_OK(amt_separator_build_train(&m, B, T, 7, &sg));
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    oc.lr = 3e-3;
    amt_optim *opt = amt_optim_new(&m.params, &oc);
    REQUIRE(opt);
    double first = 0, last = 0;
    for (int s = 0; s < steps; s++) {
        for (int b = 0; b < B; b++) {
            int k = (int)amt_rng_below(&r, n_train);
            long t0 = (long)amt_rng_below(&r, nf - T + 1);
            CHECK_OK(amt_separator_fill(&m, &sg, b, X[k], V[k], M[k], nf, t0));
        }
        amt_params_zero_grad(&m.params);
        CHECK_OK(amt_graph_forward(sg.g));
        CHECK_OK(amt_graph_backward(sg.g, sg.loss));
        amt_clip_grad_norm(&m.params, 5.0);
        amt_optim_step(opt);
        if (s < 10) first += sg.loss->data[0] / 10;
        if (s >= steps - 10) last += sg.loss->data[0] / 10;
    }
    CHECK_MSG(last < 0.7 * first, "loss %.4g -> %.4g", first, last);
    /* held-out clips: separate at the audio level, score with BSS Eval */
    amt_sep_infer *run = amt_sep_infer_new(&m, 0, 0);
    REQUIRE(run);
    amt_sep_acc acc, acc_irm;
    amt_sep_acc_init(&acc);
    amt_sep_acc_init(&acc_irm);
    float *ve = malloc(sizeof(float) * CLIP), *me = malloc(sizeof(float) * CLIP);
    amt_rng_seed(&r, 777);
    for (int k = 0; k < n_test; k++) {
        synth_clip(&r, v, mu);
        for (long i = 0; i < CLIP; i++) mix[i] = v[i] + mu[i];
        CHECK_OK(amt_separator_separate(run, mix, CLIP, 1, SR, ve, me));
        amt_sep_scores sc1;
        CHECK_OK(amt_sep_eval_clip(v, mu, mix, ve, me, CLIP, &sc1));
        amt_sep_acc_add(&acc, &sc1);
        CHECK_OK(amt_irm_separate(v, mu, CLIP, c.n_fft, c.hop, ve, me));
        CHECK_OK(amt_sep_eval_clip(v, mu, mix, ve, me, CLIP, &sc1));
        amt_sep_acc_add(&acc_irm, &sc1);
    }
    amt_sep_scores g, gi;
    CHECK_OK(amt_sep_acc_result(&acc, &g));
    CHECK_OK(amt_sep_acc_result(&acc_irm, &gi));
    fprintf(stderr, "  tiny separator (%d steps): loss %.4g -> %.4g; GNSDR voice %.2f music %.2f dB, "
            "GSIR %.2f/%.2f, GSAR %.2f/%.2f; IRM GNSDR %.2f/%.2f dB\n", steps, first, last, g.nsdr[0], g.nsdr[1],
            g.sir[0], g.sir[1], g.sar[0], g.sar[1], gi.nsdr[0], gi.nsdr[1]);
    CHECK_MSG(g.nsdr[AMT_SEP_VOICE] > 0 && g.nsdr[AMT_SEP_MUSIC] > 0, "GNSDR voice %.2f music %.2f dB",
              g.nsdr[0], g.nsdr[1]);
    CHECK(gi.nsdr[AMT_SEP_VOICE] > g.nsdr[AMT_SEP_VOICE]);   /* the oracle bounds us */
    amt_sep_infer_free(run);
    amt_sep_graph_free(&sg);
    amt_optim_free(opt);
    for (int k = 0; k < n_train; k++) { free(X[k]); free(V[k]); free(M[k]); }
    CHECK(amt_separator_fill(&m, &sg, B, X[0], V[0], M[0], nf, 0) == AMT_EINVAL && strstr(amt_errmsg(), "slot"));
    free(v); free(mu); free(mix); free(ve); free(me);
    amt_separator_free(&m);
    amt_set_threads(threads);
}

/* ---------------------------------------------------------------- IRM baseline */

static void test_irm(void)
{
    const long n = 8000;
    float *v = malloc(sizeof(float) * n), *mu = malloc(sizeof(float) * n), *ve = malloc(sizeof(float) * n),
          *me = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) {
        v[i] = (float)(0.3 * sin(2 * M_PI * 440 * i / 16000.0));
        mu[i] = (float)(0.3 * sin(2 * M_PI * 3000 * i / 16000.0));
    }
    CHECK_OK(amt_irm_separate(v, mu, n, 1024, 256, ve, me));
    double err = 0, part = 0, ev = 0;
    for (long i = 1000; i < n - 1000; i++) {
        err += (ve[i] - v[i]) * (double)(ve[i] - v[i]);
        ev += v[i] * (double)v[i];
        part = fmax(part, fabs(ve[i] + me[i] - v[i] - mu[i]));
    }
    CHECK_MSG(10 * log10(ev / err) > 20, "well separated tones: IRM SNR %.1f dB", 10 * log10(ev / err));
    CHECK(part < 1e-6);
    memset(v, 0, sizeof(float) * n);
    memset(mu, 0, sizeof(float) * n);
    CHECK_OK(amt_irm_separate(v, mu, n, 1024, 256, ve, me));   /* silence: no NaN */
    CHECK(ve[100] == 0 && me[100] == 0);
    mu[5] = NAN;
    CHECK(amt_irm_separate(v, mu, n, 1024, 256, ve, me) == AMT_EINVAL && strstr(amt_errmsg(), "music sample 5"));
    free(v); free(mu); free(ve); free(me);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_config_file);
    RUN(test_config_errors);
    RUN(test_params_reference_shape);
    RUN(test_features);
    RUN(test_golden_loss_and_gradients);
    RUN(test_gamma_term_gradient);
    RUN(test_gradcheck_network);
    RUN(test_block_inference);
    RUN(test_audio_layouts);
    RUN(test_audio_partition_error);
    RUN(test_audio_segments);
    RUN(test_audio_bad_input);
    RUN(test_checkpoint);
    RUN(test_irm);
    RUN(test_learning_beats_mixture);
    amt_sep_infer_free(g_audio_run);
    amt_sep_infer_free(g_seg_run);
    amt_separator_free(&g_audio_model);
    amt_separator_free(&g_seg_model);
    return TEST_DONE();
}
