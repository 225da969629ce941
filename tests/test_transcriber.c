/* tests/test_transcriber.c: the transcriber ConvNet (models/transcriber.h) and note
 * decoding / threshold tuning (models/note_decode.h). PyTorch golden values:
 * tests/golden/make_golden_transcriber.py (run with /usr/bin/python3). */
#include <stdlib.h>
#include <time.h>

#include "core/amt.h"
#include "eval/transcription.h"
#include "models/note_decode.h"
#include "models/transcriber.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

#define KEYS AMT_TR_KEYS
#define AT_(p, t, col) ((p)[(size_t)(t) * KEYS + (col)])

/* A tiny network without the semitone filterbank (bins set directly). */
static amt_transcriber_config tiny_config(int bins, int c1, int c2, int c3, int dense, int kt)
{
    amt_transcriber_config c;
    amt_transcriber_config_default(&c);
    c.channels[0] = c1; c.channels[1] = c2; c.channels[2] = c3;
    c.dense = dense;
    c.kt = kt;
    c.bins = bins;
    c.ctx = 6 + kt;
    c.fprime = ((bins - 4) / 2 - 2) / 2;
    return c;
}

static void fill_uniform(float *p, size_t n, float lo, float hi, amt_rng *rng)
{
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)amt_rng_uniform(rng);
}

/* ---- model shapes ---- */

static void test_default_shapes_and_param_count(void)
{
    amt_transcriber_config c;
    amt_transcriber_config_default(&c);
    CHECK_OK(amt_transcriber_config_check(&c, "defaults"));
    CHECK(c.bins == 229);
    CHECK(c.ctx == 9);
    CHECK(c.fprime == 55);
    CHECK_NEAR(c.fps, 100.0, 1e-12);
    amt_transcriber m;
    CHECK_OK(amt_transcriber_init(&m, &c, 1));
    /* conv1 320 + conv2 9248 + bn 64 + conv3 18496 + dense 64*512*3*55+512 + heads 3*(512*88+88) */
    CHECK(amt_params_count(&m.params, 0) == 5570792);
    CHECK(amt_params_count(&m.params, 1) == 5570792 + 64 + 3);   /* bn running stats, 3 decode thresholds */
    CHECK(m.dense.weight->shape[3] == 55 && m.dense.weight->shape[2] == 3);
    amt_param *p = amt_params_find(&m.params, "decode/onset_threshold");
    REQUIRE(p);
    CHECK(!p->trainable && p->t.data[0] == 0.5f);
    amt_tr_graph tg;
    CHECK_OK(amt_transcriber_build(&m, 2, 5, 1, 7, &tg));
    CHECK(tg.x->shape[0] == 2 && tg.x->shape[1] == 1 && tg.x->shape[2] == 13 && tg.x->shape[3] == 229);
    CHECK(tg.frame_prob->ndim == 3 && tg.frame_prob->shape[0] == 2 && tg.frame_prob->shape[1] == 5 &&
          tg.frame_prob->shape[2] == KEYS);
    CHECK(tg.onset_prob && tg.vel_prob && tg.loss && tg.loss->size == 1);
    amt_rng rng;
    amt_rng_seed(&rng, 3);
    fill_uniform(tg.x->data, tg.x->size, 0, 2, &rng);
    CHECK_OK(amt_graph_forward(tg.g));
    CHECK(isfinite(tg.loss->data[0]) && tg.loss->data[0] > 0);
    CHECK_OK(amt_graph_backward(tg.g, tg.loss));
    amt_tr_graph_free(&tg);
    /* without the optional heads */
    amt_transcriber_free(&m);
    c.onset_head = 0;
    c.velocity_head = 0;
    CHECK_OK(amt_transcriber_init(&m, &c, 1));
    CHECK(amt_params_count(&m.params, 0) == 5570792 - 2 * (512 * 88 + 88));
    CHECK_OK(amt_transcriber_build(&m, 1, 3, 0, 0, &tg));
    CHECK(tg.onset_prob == NULL && tg.vel_prob == NULL && tg.loss == NULL);
    amt_tr_graph_free(&tg);
    amt_transcriber_free(&m);
}

/* ---- gradient check of the whole loss ---- */

typedef struct gc_ctx { amt_transcriber *m; } gc_ctx;

static amt_tensor *build_loss(amt_graph *g, amt_tensor **in, void *vctx)
{
    gc_ctx *c = vctx;
    amt_transcriber m = *c->m;     /* weights replaced by graph inputs to check them too */
    m.conv1.weight = in[4];
    m.dense.weight = in[5];
    m.head_vel.weight = in[6];
    amt_tr_graph tg;
    if (amt_transcriber_attach(&m, g, in[0], in[1], in[2], in[3], &tg)) return NULL;
    return amt_affine_scalar(g, tg.loss, 10.0f, 0);
}

static void test_gradcheck_whole_loss(void)
{
    amt_transcriber_config c = tiny_config(16, 2, 3, 3, 4, 2);
    c.dropout_conv = 0.2f;
    c.dropout_dense = 0.3f;
    c.onset_weight = 0.7f;
    c.velocity_weight = 2.0f;
    amt_transcriber m;
    CHECK_OK(amt_transcriber_init(&m, &c, 5));
    const int B = 2, T = 3;
    gc_input spec[7] = {
        {4, {B, 1, T + c.ctx - 1, c.bins}, 1, -1, 1},
        {3, {B, T, KEYS}, 0, 0.0f, 1.0f},
        {3, {B, T, KEYS}, 0, 0.0f, 1.0f},
        {3, {B, T, KEYS}, 0, 0.0f, 1.0f},
        {4, {c.channels[0], 1, 3, 3}, 1, -0.5f, 0.5f},
        {4, {c.dense, c.channels[2], c.kt, c.fprime}, 1, -0.5f, 0.5f},
        {4, {KEYS, c.dense, 1, 1}, 1, -0.5f, 0.5f},
    };
    gc_ctx ctx = {&m};
    int threads = amt_get_threads();
    amt_set_threads(1);   /* tiny graphs: threads only add synchronisation */
    /* eps 3e-3 balances float32 rounding of the loss against ReLU/max-pool kinks */
    double err = gradcheck_ex(build_loss, &ctx, 7, spec, 11, 3e-3, 5e-2, 1e-2, 120);
    amt_set_threads(threads);
    CHECK_MSG(err < 5e-2, "worst relative error %g", err);
    amt_transcriber_free(&m);
}

/* ---- against PyTorch (tests/golden/make_golden_transcriber.py) ---- */

#define GOLDEN "tests/golden/transcriber.txt"

/* max |a - g| / (atol + |g|) over the record */
static double golden_err(const char *name, const float *a, size_t n, double atol)
{
    size_t gn = 0;
    float *g = golden_get(GOLDEN, name, NULL, NULL, &gn);
    if (!g || gn != n) { fprintf(stderr, "  golden %s: missing or %zu values, expected %zu\n", name, gn, n); free(g); return INFINITY; }
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - g[i]) / (atol + fabs((double)g[i])));
    free(g);
    return worst;
}

static void test_matches_pytorch(void)
{
    amt_transcriber_config c = tiny_config(16, 2, 3, 4, 5, 2);
    c.dropout_conv = 0;
    c.dropout_dense = 0;
    c.frame_weight = 1.0f; c.onset_weight = 0.7f; c.velocity_weight = 2.0f;
    amt_transcriber m;
    CHECK_OK(amt_transcriber_init(&m, &c, 1));
    /* every parameter but decode/... from the file */
    for (int i = 0; i < m.params.n; i++) {
        amt_param *p = m.params.p[i];
        if (!strncmp(p->name, "decode/", 7)) continue;
        size_t n = 0;
        float *v = golden_get(GOLDEN, p->name, NULL, NULL, &n);
        REQUIRE(v && n == p->t.size);
        memcpy(p->t.data, v, n * sizeof(float));
        free(v);
    }
    amt_tr_graph tg;
    CHECK_OK(amt_transcriber_build(&m, 2, 4, 1, 1, &tg));
    const char *ins[4] = {"x", "t_frame", "t_onset", "t_vel"};
    amt_tensor *dst[4] = {tg.x, tg.t_frame, tg.t_onset, tg.t_vel};
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        float *v = golden_get(GOLDEN, ins[i], NULL, NULL, &n);
        REQUIRE(v && n == dst[i]->size);
        memcpy(dst[i]->data, v, n * sizeof(float));
        free(v);
    }
    amt_params_zero_grad(&m.params);
    CHECK_OK(amt_graph_forward(tg.g));
    CHECK_OK(amt_graph_backward(tg.g, tg.loss));
    float terms[3] = {tg.loss_frame->data[0], tg.loss_onset->data[0], tg.loss_vel->data[0]};
    CHECK(golden_err("train/loss", tg.loss->data, 1, 1e-6) < 1e-5);
    CHECK(golden_err("train/loss_terms", terms, 3, 1e-6) < 1e-5);
    CHECK(golden_err("train/frame_prob", tg.frame_prob->data, tg.frame_prob->size, 1e-6) < 1e-4);
    CHECK(golden_err("train/onset_prob", tg.onset_prob->data, tg.onset_prob->size, 1e-6) < 1e-4);
    CHECK(golden_err("train/vel_prob", tg.vel_prob->data, tg.vel_prob->size, 1e-6) < 1e-4);
    for (int i = 0; i < m.params.n; i++) {
        amt_param *p = m.params.p[i];
        char name[AMT_PARAM_NAME_MAX + 8];
        if (!p->trainable) continue;
        snprintf(name, sizeof name, "grad/%s", p->name);
        double e = golden_err(name, p->t.grad, p->t.size, 1e-5);
        CHECK_MSG(e < 1e-3, "%s: relative error %g", name, e);
    }
    CHECK(golden_err("after/bn/running_mean", m.bn.running_mean->data, 3, 1e-6) < 1e-5);
    CHECK(golden_err("after/bn/running_var", m.bn.running_var->data, 3, 1e-6) < 1e-5);
    /* eval mode with the updated running statistics: the training graph and the runner */
    tg.g->training = 0;
    CHECK_OK(amt_graph_forward(tg.g));
    CHECK(golden_err("eval/frame_prob", tg.frame_prob->data, tg.frame_prob->size, 1e-6) < 1e-4);
    CHECK(golden_err("eval/onset_prob", tg.onset_prob->data, tg.onset_prob->size, 1e-6) < 1e-4);
    CHECK(golden_err("eval/vel_prob", tg.vel_prob->data, tg.vel_prob->size, 1e-6) < 1e-4);
    amt_tr_graph_free(&tg);
    amt_transcriber_free(&m);
}

/* ---- chunk (training graph, eval mode) == blocked full-convolution inference ---- */

static void test_chunk_equals_blocked_inference(void)
{
    amt_transcriber_config c = tiny_config(24, 3, 4, 5, 6, 3);
    amt_transcriber m;
    CHECK_OK(amt_transcriber_init(&m, &c, 9));
    amt_rng rng;
    amt_rng_seed(&rng, 4);
    /* non-trivial batch-norm running statistics and biases */
    fill_uniform(m.bn.running_mean->data, c.channels[1], -0.5f, 0.5f, &rng);
    fill_uniform(m.bn.running_var->data, c.channels[1], 0.5f, 2.0f, &rng);
    fill_uniform(m.head_frame.bias->data, KEYS, -1, 1, &rng);
    fill_uniform(m.conv2.bias->data, c.channels[1], -0.2f, 0.2f, &rng);
    const long n = 75;
    float *feat = malloc((size_t)n * c.bins * sizeof(float));
    fill_uniform(feat, (size_t)n * c.bins, 0, 3, &rng);
    /* training graph, 3 chunks of 20 frames: at the start (left padding), the middle, the end */
    const int B = 3, T = 20;
    const long starts[3] = {0, 31, 55};
    amt_tr_graph tg;
    CHECK_OK(amt_transcriber_build(&m, B, T, 1, 1, &tg));
    tg.g->training = 0;
    const size_t rows = (size_t)(T + c.ctx - 1) * c.bins;
    for (int b = 0; b < B; b++) amt_transcriber_input_rows(&m, feat, n, starts[b], T, tg.x->data + b * rows);
    CHECK_OK(amt_graph_forward(tg.g));
    const int blocks[3] = {16, 75, 100};   /* partial last block; exactly one block; block > file */
    float *fr = malloc((size_t)n * KEYS * sizeof(float)), *on = malloc((size_t)n * KEYS * sizeof(float)),
          *ve = malloc((size_t)n * KEYS * sizeof(float));
    int threads = amt_get_threads();
    for (int bi = 0; bi < 6; bi++) {
        amt_set_threads(bi < 3 ? 1 : 3);   /* runners of 1 and 3 blocks per forward */
        amt_tr_infer *r = amt_tr_infer_new(&m, blocks[bi % 3]);
        amt_set_threads(threads);
        REQUIRE(r);
        CHECK(amt_tr_infer_bytes(r) > 0);
        CHECK_OK(amt_tr_infer_run(r, feat, n, fr, on, ve));
        double worst = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int k = 0; k < KEYS; k++) {
                    size_t gi = ((size_t)b * T + t) * KEYS + k, fi = (size_t)(starts[b] + t) * KEYS + k;
                    worst = fmax(worst, fabs(tg.frame_prob->data[gi] - fr[fi]));
                    worst = fmax(worst, fabs(tg.onset_prob->data[gi] - on[fi]));
                    worst = fmax(worst, fabs(tg.vel_prob->data[gi] - ve[fi]));
                }
        CHECK_MSG(worst <= 1e-5, "block %d: worst difference %g", blocks[bi % 3], worst);
        amt_tr_infer_free(r);
    }
    /* bounded memory: a longer input allocates nothing more */
    amt_tr_infer *r16 = amt_tr_infer_new(&m, 16);
    REQUIRE(r16);
    size_t bytes = amt_tr_infer_bytes(r16);
    const long n_long = 1000;
    float *lf = calloc((size_t)n_long * c.bins, sizeof(float)), *lo = malloc((size_t)n_long * KEYS * sizeof(float));
    CHECK_OK(amt_tr_infer_run(r16, lf, n_long, lo, NULL, NULL));
    CHECK(amt_tr_infer_bytes(r16) == bytes);
    free(lf); free(lo);
    amt_tr_infer_free(r16);
    free(fr); free(on); free(ve); free(feat);
    amt_tr_graph_free(&tg);
    amt_transcriber_free(&m);
}

/* ---- learning sanity on synthetic "notes" ---- */

#define SYN_PITCHES 8
#define SYN_BINS 36

typedef struct syn_piece {
    long n;
    float *feat;                      /* n x SYN_BINS */
    float *frame, *onset, *vel;       /* n x 88 targets */
    amt_notes notes;
} syn_piece;

static int syn_col(int p) { return 20 + 6 * p; }          /* output column of synthetic pitch p */
static int syn_bin(int p) { return 2 + 4 * p; }           /* its fundamental bin (4 per "semitone", as the real features) */

static void syn_make(syn_piece *s, long n, uint64_t seed)
{
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    s->n = n;
    s->feat = calloc((size_t)n * SYN_BINS, sizeof(float));
    s->frame = calloc((size_t)n * KEYS, sizeof(float));
    s->onset = calloc((size_t)n * KEYS, sizeof(float));
    s->vel = calloc((size_t)n * KEYS, sizeof(float));
    amt_notes_init(&s->notes);
    for (int p = 0; p < SYN_PITCHES; p++) {
        long t = (long)amt_rng_below(&rng, 30);
        while (1) {
            long dur = 8 + (long)amt_rng_below(&rng, 30), on = t, off = t + dur;
            if (off >= n) break;
            int velocity = 38 + (int)amt_rng_below(&rng, 90);   /* MIDI 38..127 */
            float v = (float)velocity / 127.0f;
            int col = syn_col(p), bin = syn_bin(p);
            for (long u = on; u < off; u++) {
                float e = v * (0.4f + 0.6f * expf(-(float)(u - on) / 15.0f));
                s->feat[(size_t)u * SYN_BINS + bin] += e;
                s->feat[(size_t)u * SYN_BINS + bin + 1] += 0.3f * e;      /* a "harmonic" */
                s->frame[(size_t)u * KEYS + col] = 1;
            }
            for (int b = 0; b < SYN_BINS; b++) s->feat[(size_t)on * SYN_BINS + b] += 0.3f * v;   /* click */
            s->onset[(size_t)on * KEYS + col] = 1;
            s->vel[(size_t)on * KEYS + col] = v;
            amt_note nt = amt_note_make(on / 100.0, off / 100.0, AMT_TR_LOWEST_PITCH + col);
            nt.velocity = velocity;
            amt_notes_push(&s->notes, &nt);
            t = off + 2 + (long)amt_rng_below(&rng, 40);   /* repeated notes with short gaps */
        }
    }
    for (size_t i = 0; i < (size_t)n * SYN_BINS; i++) s->feat[i] += 0.05f * (float)amt_rng_uniform(&rng);
    amt_notes_sort(&s->notes);
}

static void syn_free(syn_piece *s)
{
    free(s->feat); free(s->frame); free(s->onset); free(s->vel);
    amt_notes_free(&s->notes);
}

static void test_learns_synthetic_notes(void)
{
    double t_start = (double)clock() / CLOCKS_PER_SEC;
    amt_transcriber_config c = tiny_config(SYN_BINS, 8, 8, 16, 32, 3);
    c.dropout_conv = 0.0f;
    c.dropout_dense = 0.1f;
    c.onset_weight = 4.0f;   /* onset targets are sparse: one frame per note */
    int threads = amt_get_threads();
    amt_set_threads(1);      /* a tiny network: threads only add synchronisation */
    amt_transcriber m;
    CHECK_OK(amt_transcriber_init(&m, &c, 2));
    syn_piece tr, te;
    syn_make(&tr, 3000, 101);
    syn_make(&te, 1000, 202);
    /* the rolls the model learns from are exactly amt_transcriber_targets of the notes */
    {
        float *f2 = malloc((size_t)tr.n * KEYS * sizeof(float)), *o2 = malloc((size_t)tr.n * KEYS * sizeof(float)),
              *v2 = malloc((size_t)tr.n * KEYS * sizeof(float));
        amt_transcriber_targets(&tr.notes, 100.0, 1, 0, 0, (int)tr.n, f2, o2, v2);
        CHECK(!memcmp(f2, tr.frame, (size_t)tr.n * KEYS * sizeof(float)));
        CHECK(!memcmp(o2, tr.onset, (size_t)tr.n * KEYS * sizeof(float)));
        double vd = 0;
        for (size_t i = 0; i < (size_t)tr.n * KEYS; i++) vd = fmax(vd, fabs(v2[i] - tr.vel[i]));
        CHECK(vd < 1e-6);
        free(f2); free(o2); free(v2);
    }
    const int B = 8, T = 48, steps = 600;
    amt_tr_graph tg;
    CHECK_OK(amt_transcriber_build(&m, B, T, 1, 3, &tg));
    amt_optim_config oc;
    amt_optim_config_default(&oc, AMT_OPTIM_ADAM);
    oc.lr = 0.01;
    amt_optim *opt = amt_optim_new(&m.params, &oc);
    REQUIRE(opt);
    amt_rng rng;
    amt_rng_seed(&rng, 17);
    const size_t rows = (size_t)(T + c.ctx - 1) * c.bins, tsz = (size_t)T * KEYS;
    double first = 0, last = 0;
    for (int s = 0; s < steps; s++) {
        for (int b = 0; b < B; b++) {
            long t0 = (long)amt_rng_below(&rng, (uint64_t)(tr.n - T));
            amt_transcriber_input_rows(&m, tr.feat, tr.n, t0, T, tg.x->data + b * rows);
            memcpy(tg.t_frame->data + b * tsz, tr.frame + t0 * KEYS, tsz * sizeof(float));
            memcpy(tg.t_onset->data + b * tsz, tr.onset + t0 * KEYS, tsz * sizeof(float));
            memcpy(tg.t_vel->data + b * tsz, tr.vel + t0 * KEYS, tsz * sizeof(float));
        }
        amt_params_zero_grad(&m.params);
        CHECK_OK(amt_graph_forward(tg.g));
        CHECK_OK(amt_graph_backward(tg.g, tg.loss));
        amt_clip_grad_norm(&m.params, 5.0);
        amt_optim_step(opt);
        if (s < 10) first += tg.loss->data[0] / 10;
        if (s >= steps - 10) last += tg.loss->data[0] / 10;
    }
    CHECK_MSG(last < 0.3 * first, "loss %g -> %g", first, last);
    /* whole-piece inference, decoding, note-onset F1 */
    float *fr = malloc((size_t)te.n * KEYS * sizeof(float)), *on = malloc((size_t)te.n * KEYS * sizeof(float)),
          *ve = malloc((size_t)te.n * KEYS * sizeof(float));
    amt_tr_infer *r = amt_tr_infer_new(&m, 200);
    REQUIRE(r);
    CHECK_OK(amt_tr_infer_run(r, te.feat, te.n, fr, on, ve));
    /* thresholds tuned on a validation piece, as after training */
    syn_piece va;
    syn_make(&va, 600, 303);
    float *vfr = malloc((size_t)va.n * KEYS * sizeof(float)), *von = malloc((size_t)va.n * KEYS * sizeof(float));
    CHECK_OK(amt_tr_infer_run(r, va.feat, va.n, vfr, von, NULL));
    amt_decode_item item = {vfr, von, NULL, va.n, &va.notes};
    amt_decode_opts o;
    amt_transcriber_decode_opts(&m, &o);   /* the model's options (gap_ms etc.), as amt-infer */
    amt_tune_result tune;
    CHECK_OK(amt_decode_tune(&item, 1, &o, NULL, 0, NULL, 0, &tune));
    o.onset_threshold = tune.onset_threshold;
    o.frame_threshold = tune.frame_threshold;
    o.sustain_threshold = tune.sustain_threshold;
    free(vfr); free(von);
    syn_free(&va);
    amt_notes est;
    amt_notes_init(&est);
    CHECK_OK(amt_note_decode(fr, on, ve, te.n, &o, &est));
    amt_note_metric_opts mo;
    amt_note_metric_defaults(&mo);
    mo.offset_ratio = -1;
    amt_note_scores ns;
    CHECK_OK(amt_transcription_note_scores(&te.notes, &est, &mo, &ns));
    amt_frame_scores fs;
    amt_notes roll;
    amt_notes_init(&roll);
    CHECK_OK(amt_note_decode_frames(fr, te.n, &o, &roll));
    CHECK_OK(amt_transcription_frame_scores(&te.notes, &roll, 100.0, &fs));
    double secs = (double)clock() / CLOCKS_PER_SEC - t_start;
    fprintf(stderr, "  synthetic: tuned onset threshold %.2f, frame threshold %.2f (validation note F1 %.3f)\n",
            tune.onset_threshold, tune.frame_threshold, tune.note_f1);
    fprintf(stderr, "  synthetic: loss %.4f -> %.4f, %d ref notes, note-onset P %.3f R %.3f F1 %.3f, frame F1 %.3f (%.1f s CPU)\n",
            first, last, ns.n_ref, ns.precision, ns.recall, ns.f1, fs.f1, secs);
    CHECK_MSG(ns.f1 > 0.9, "note-onset F1 %g", ns.f1);
    CHECK_MSG(fs.f1 > 0.8, "frame F1 %g", fs.f1);
    /* velocities: mean absolute error on matched notes well under a random guess */
    int *match = malloc((size_t)te.notes.n * sizeof(int)), nm = 0;
    CHECK_OK(amt_transcription_match(&te.notes, &est, &mo, match, &nm));
    double verr = 0;
    int nv = 0;
    for (int i = 0; i < te.notes.n; i++) {
        if (match[i] < 0) continue;
        long t0 = lround(te.notes.v[i].onset * 100);
        int col = te.notes.v[i].pitch - AMT_TR_LOWEST_PITCH;
        verr += fabs(est.v[match[i]].velocity - te.vel[(size_t)t0 * KEYS + col] * 127.0);
        nv++;
    }
    if (nv) verr /= nv;
    fprintf(stderr, "  synthetic: velocity mean abs error %.1f (of 127) over %d notes\n", verr, nv);
    CHECK(nv > 0 && verr < 20);
    /* the same through amt_transcriber_evaluate: tuning on the validation piece stores the
     * thresholds in the model; scoring the test piece with them gives the F1 above */
    syn_piece va2;
    syn_make(&va2, 600, 303);
    amt_tr_piece vp = {va2.feat, va2.n, &va2.notes}, tp = {te.feat, te.n, &te.notes};
    amt_tr_scores sc;
    CHECK_OK(amt_transcriber_evaluate(&m, r, &vp, 1, 1, &sc));
    CHECK(m.onset_threshold->data[0] == tune.onset_threshold && m.frame_threshold->data[0] == tune.frame_threshold);
    CHECK(m.sustain_threshold->data[0] == tune.sustain_threshold);
    CHECK_NEAR(sc.note_f1, tune.note_f1, 1e-12);
    CHECK_OK(amt_transcriber_evaluate(&m, r, &tp, 1, 0, &sc));
    CHECK_NEAR(sc.note_f1, ns.f1, 1e-12);
    amt_frame_scores fs_notes;   /* evaluate's frame F1 is of the decoded notes' roll */
    CHECK_OK(amt_transcription_frame_scores(&te.notes, &est, 100.0, &fs_notes));
    CHECK_NEAR(sc.frame_f1, fs_notes.f1, 1e-12);
    CHECK(sc.offset_f1 <= sc.note_f1 && sc.offset_f1 > 0.5);
    fprintf(stderr, "  synthetic: evaluate: note F1 %.3f, with offsets %.3f, frame F1 %.3f\n", sc.note_f1,
            sc.offset_f1, sc.frame_f1);
    syn_free(&va2);
    free(match);
    amt_notes_free(&roll);
    amt_notes_free(&est);
    amt_tr_infer_free(r);
    free(fr); free(on); free(ve);
    amt_optim_free(opt);
    amt_tr_graph_free(&tg);
    syn_free(&tr);
    syn_free(&te);
    amt_transcriber_free(&m);
    amt_set_threads(threads);
}

/* ---- features from audio ---- */

static void test_features_from_audio(void)
{
    amt_transcriber_config c;
    amt_transcriber_config_default(&c);
    c.feat = amt_semitone_default_16k();
    CHECK_OK(amt_transcriber_config_check(&c, "16k"));
    CHECK(c.bins == 229);
    /* 0.5 s of A4 at 22050 Hz -> resampled to 16 kHz; the strongest band is near 440 Hz */
    const int rate = 22050;
    const long len = rate / 2;
    float *x = malloc((size_t)len * sizeof(float));
    for (long i = 0; i < len; i++) x[i] = 0.5f * sinf(2 * (float)M_PI * 440.0f * (float)i / rate);
    float *feat = NULL;
    long nf = 0;
    CHECK_OK(amt_transcriber_features(&c, x, len, rate, &feat, &nf));
    CHECK(nf == 51);   /* 8000 samples, hop 160, centred: 8000 / 160 + 1 */
    REQUIRE(feat);
    const float *row = feat + (size_t)25 * c.bins;
    int best = 0;
    for (int i = 1; i < c.bins; i++)
        if (row[i] > row[best]) best = i;
    amt_semitone *s = amt_semitone_new(&c.feat);
    double hz = amt_semitone_center_hz(s, best);
    amt_semitone_del(s);
    CHECK_MSG(fabs(1200 * log2(hz / 440.0)) < 60, "peak band at %g Hz", hz);
    free(feat);
    /* 0.1 s at 96 kHz: 1600 samples at 16 kHz -> 11 frames; no samples at all -> 1 frame */
    const long short_len = 9600;
    float *y = calloc((size_t)short_len, sizeof(float));
    CHECK_OK(amt_transcriber_features(&c, y, short_len, 96000, &feat, &nf));
    CHECK(nf == 11 && feat && feat[0] == 0.0f);
    free(feat);
    CHECK_OK(amt_transcriber_features(&c, NULL, 0, 16000, &feat, &nf));
    CHECK(nf >= 0 && feat != NULL);
    free(feat);
    free(y);
    CHECK(amt_transcriber_features(&c, x, len, 0, &feat, &nf) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "sample rate") != NULL);
    x[100] = NAN;
    CHECK(amt_transcriber_features(&c, x, len, rate, &feat, &nf) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "sample 100 is NaN") != NULL);
    CHECK(feat == NULL);
    free(x);
}

/* ---- checkpoint round trip ---- */

static void test_checkpoint_load(void)
{
    amt_config *cfg = amt_config_from_string("[model]\nkind = transcriber\nchannels = 2, 3, 4\ndense = 8\n"
                                             "[decode]\nonset_threshold = 0.4\n", "mem.ini");
    REQUIRE(cfg);
    amt_transcriber_config c;
    CHECK_OK(amt_transcriber_config_read(cfg, &c));
    CHECK_OK(amt_config_check_unused(cfg));
    amt_transcriber m, m2;
    CHECK_OK(amt_transcriber_init(&m, &c, 3));
    CHECK(m.onset_threshold->data[0] == 0.4f);
    m.frame_threshold->data[0] = 0.35f;   /* as threshold tuning would */
    CHECK(m.sustain_threshold->data[0] == 0.0f);   /* off unless configured or tuned */
    m.sustain_threshold->data[0] = 0.15f;
    char *text = amt_config_text(cfg);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "%s", AMT_TRANSCRIBER_KIND);
    info.config = text;
    const char *path = "build-test-transcriber.h5";
    CHECK_OK(amt_checkpoint_save(path, &m.params, NULL, &info, 0));
    CHECK_OK(amt_transcriber_load(path, &m2));
    CHECK(m2.cfg.dense == 8 && m2.cfg.channels[2] == 4);
    CHECK(m2.frame_threshold->data[0] == 0.35f);
    amt_decode_opts dopt;
    amt_transcriber_decode_opts(&m2, &dopt);
    CHECK(dopt.frame_threshold == 0.35f && dopt.onset_threshold == 0.4f && dopt.fps == 100.0 && dopt.keys == KEYS);
    CHECK(dopt.sustain_threshold == 0.15f);
    /* a checkpoint written before the sustain threshold existed loads with it off */
    {
        amt_params old;
        amt_params_init(&old);
        for (int i = 0; i < m.params.n; i++) {
            const amt_param *q = m.params.p[i];
            if (!strcmp(q->name, "decode/sustain_threshold")) continue;
            amt_tensor *t = amt_params_add(&old, q->name, q->t.ndim, q->t.shape, q->trainable);
            REQUIRE(t);
            memcpy(t->data, q->t.data, q->t.size * sizeof(float));
        }
        CHECK_OK(amt_checkpoint_save(path, &old, NULL, &info, 0));
        amt_params_free(&old);
        amt_transcriber m4;
        CHECK_OK(amt_transcriber_load(path, &m4));
        amt_transcriber_decode_opts(&m4, &dopt);
        CHECK(dopt.sustain_threshold == 0.0f && dopt.frame_threshold == 0.35f);
        CHECK(m4.dense.weight->data[5] == m.dense.weight->data[5]);
        amt_transcriber_free(&m4);
    }
    CHECK(!strcmp(m2.cfg.instrument, "piano"));
    CHECK(m2.dense.weight->data[5] == m.dense.weight->data[5]);
    snprintf(info.model, sizeof info.model, "separator");
    CHECK_OK(amt_checkpoint_save(path, &m.params, NULL, &info, 0));
    amt_transcriber m3;
    CHECK(amt_transcriber_load(path, &m3) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "'separator'") != NULL);
    remove(path);
    free(text);
    amt_transcriber_free(&m);
    amt_transcriber_free(&m2);
    amt_config_free(cfg);
}

/* ---- config errors ---- */

static void expect_config_error(const char *text, const char *needle)
{
    amt_config *cfg = amt_config_from_string(text, "t.ini");
    REQUIRE(cfg);
    amt_transcriber_config c;
    int rc = amt_transcriber_config_read(cfg, &c);
    CHECK_MSG(rc == AMT_ECONFIG, "'%s' gave %d", text, rc);
    CHECK_MSG(strstr(amt_errmsg(), needle) != NULL, "message '%s' lacks '%s'", amt_errmsg(), needle);
    amt_config_free(cfg);
}

static void test_config_errors(void)
{
    expect_config_error("[model]\nkind = transcriber\ndropout_conv = 1.5\n", "t.ini:3: model.dropout_conv:");
    expect_config_error("[model]\nchannels = 4, x, 8\n", "t.ini:2: model.channels:");
    expect_config_error("[model]\nchannels = 4, 8\n", "model.channels: needs 3 values");
    expect_config_error("[model]\nkt = 0\n", "t.ini:2: model.kt:");
    expect_config_error("[model]\nkind = separator\n", "model.kind: 'separator' is not 'transcriber'");
    expect_config_error("[model]\nonset_head = maybe\n", "t.ini:2: model.onset_head:");
    expect_config_error("[features]\npreset = 22k\n", "t.ini:2: features.preset:");
    expect_config_error("[features]\nfmax = 30000\n", "features.fmax: 30000 Hz is above the Nyquist");
    expect_config_error("[features]\n\nhop = abc\n", "t.ini:3: features.hop:");
    expect_config_error("[features]\nbands_per_octave = 1\n", "the network needs >= 12");
    expect_config_error("[features]\nhop = 8192\n", "features.hop: 8192 is larger than n_fft 4096");
    expect_config_error("[loss]\nonset_weight = -1\n", "t.ini:2: loss.onset_weight:");
    expect_config_error("[decode]\nmin_pitch = 100\nmax_pitch = 50\n", "decode.min_pitch: 100 is above max_pitch 50");
    expect_config_error("[decode]\nmax_pitch = 120\n", "t.ini:2: decode.max_pitch:");
    expect_config_error("[decode]\nframe_threshold = 0.4\nsustain_threshold = 0.5\n",
                        "decode.sustain_threshold: 0.5 is above frame_threshold 0.4");
    expect_config_error("[decode]\nsustain_threshold = -0.1\n", "t.ini:2: decode.sustain_threshold:");
    expect_config_error("[train]\nchunk_frames = 0\n", "t.ini:2: train.chunk_frames:");
    expect_config_error("[loss]\nonset_frames = 0\n", "t.ini:2: loss.onset_frames:");
    expect_config_error("[train]\nsplit = folds\n", "t.ini:2: train.split:");
    expect_config_error("[optim]\nlr = -3\n", "t.ini:2: optim.lr:");
    /* the shipped configuration reads cleanly (its other [train] keys belong to the
     * training loop and the data sampler: amt-train checks for unknown keys) */
    amt_config *cfg = amt_config_load("configs/transcriber.ini");
    REQUIRE(cfg);
    amt_transcriber_config c;
    int rc = amt_transcriber_config_read(cfg, &c);
    CHECK_MSG(rc == AMT_OK, "%s", amt_errmsg());
    CHECK(rc || (c.bins == 229 && c.ctx == 6 + c.kt && c.chunk_frames > 0));
    amt_config_free(cfg);
}

/* ---- targets from notes ---- */

static void test_targets_from_notes(void)
{
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note a = amt_note_make(0.104, 0.25, 60);   /* frames 11..24; onset label at round(10.4) = 10 */
    a.velocity = 100;
    amt_note b = amt_note_make(0.25, 0.30, 60);    /* repeated: frames 25..29, onset 25 */
    b.velocity = 127;
    amt_note c = amt_note_make(0.0, 0.02, 108);    /* 2 frames: onset label clipped to them */
    amt_note d = amt_note_make(0.1, 0.2, 20);      /* below the piano: ignored */
    amt_note e = amt_note_make(0.38, 0.9, 21);     /* runs past the window */
    amt_notes_push(&ns, &a); amt_notes_push(&ns, &b); amt_notes_push(&ns, &c);
    amt_notes_push(&ns, &d); amt_notes_push(&ns, &e);
    const int T = 40;
    float *fr = malloc((size_t)T * KEYS * sizeof(float)), *on = malloc((size_t)T * KEYS * sizeof(float)),
          *ve = malloc((size_t)T * KEYS * sizeof(float));
    amt_transcriber_targets(&ns, 100.0, 3, 0, 0, T, fr, on, ve);
    for (int t = 0; t < T; t++) {
        CHECK(AT_(fr, t, 39) == ((t >= 11 && t < 30) ? 1.0f : 0.0f));
        CHECK(AT_(on, t, 39) == (((t >= 10 && t < 13) || (t >= 25 && t < 28)) ? 1.0f : 0.0f));
        CHECK(AT_(fr, t, 87) == (t < 2 ? 1.0f : 0.0f));
        CHECK(AT_(on, t, 87) == (t < 2 ? 1.0f : 0.0f));
        CHECK(AT_(fr, t, 0) == (t >= 38 ? 1.0f : 0.0f));
    }
    CHECK_NEAR(AT_(ve, 10, 39), 100 / 127.0, 1e-6);
    CHECK_NEAR(AT_(ve, 26, 39), 1.0, 1e-6);
    CHECK(AT_(ve, 20, 39) == 0.0f);
    /* the frame targets are exactly eval/transcription.h's roll of the notes */
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    amt_notes roll, ref;
    amt_notes_init(&roll);
    amt_notes_init(&ref);
    for (int i = 0; i < ns.n; i++) {
        amt_note x = ns.v[i];
        if (x.pitch < 21) continue;
        if (x.offset > T / 100.0) x.offset = T / 100.0;
        amt_notes_push(&ref, &x);
    }
    CHECK_OK(amt_note_decode_frames(fr, T, &o, &roll));
    amt_frame_scores fs;
    CHECK_OK(amt_transcription_frame_scores(&ref, &roll, 100.0, &fs));
    CHECK(fs.fp == 0 && fs.fn == 0 && fs.tp == 19 + 2 + 2);
    /* a window in the middle: frames 20..39 */
    amt_transcriber_targets(&ns, 100.0, 1, 0, 20, 20, fr, on, ve);
    CHECK(AT_(fr, 0, 39) == 1.0f && AT_(fr, 10, 39) == 0.0f && AT_(on, 5, 39) == 1.0f && AT_(on, 6, 39) == 0.0f);
    CHECK(AT_(fr, 18, 0) == 1.0f && AT_(on, 18, 0) == 1.0f);
    /* soft onsets (half-width 3 frames): note a at x = 10.4 gives 1 - |t - 10.4| / 3 on frames
     * 8..13, note b at x = 25 gives 1/3, 2/3, 1, 2/3, 1/3 on 23..27; velocities follow; the
     * frame targets do not change */
    amt_transcriber_targets(&ns, 100.0, 1, 3.0, 0, T, fr, on, ve);
    for (int t = 0; t < T; t++) {
        double wa = 1 - fabs(t - 10.4) / 3, wb = 1 - fabs(t - 25.0) / 3;
        double want = wa > 0 ? wa : wb > 0 ? wb : 0;
        CHECK_NEAR(AT_(on, t, 39), want, 1e-6);
        CHECK(AT_(fr, t, 39) == ((t >= 11 && t < 30) ? 1.0f : 0.0f));
    }
    CHECK_NEAR(AT_(ve, 8, 39), 100 / 127.0, 1e-6);
    CHECK_NEAR(AT_(ve, 27, 39), 1.0, 1e-6);
    CHECK(AT_(ve, 7, 39) == 0.0f && AT_(on, 7, 39) == 0.0f);
    CHECK_NEAR(AT_(on, 0, 87), 1.0, 1e-6);   /* note c at frame 0: the triangle's right half */
    CHECK_NEAR(AT_(on, 2, 87), 1.0 / 3, 1e-6);
    free(fr); free(on); free(ve);
    amt_notes_free(&roll);
    amt_notes_free(&ref);
    amt_notes_free(&ns);
}

/* ---- note decoding ---- */

typedef struct rolls { long n; float *fr, *on, *ve; } rolls;

static rolls rolls_new(long n, float fr_bg, float on_bg)
{
    rolls r = {n, malloc((size_t)n * KEYS * sizeof(float)), malloc((size_t)n * KEYS * sizeof(float)),
               malloc((size_t)n * KEYS * sizeof(float))};
    for (size_t i = 0; i < (size_t)n * KEYS; i++) { r.fr[i] = fr_bg; r.on[i] = on_bg; r.ve[i] = 0.5f; }
    return r;
}
static void rolls_free(rolls *r) { free(r->fr); free(r->on); free(r->ve); }
static void set_run(float *p, int col, long t0, long t1, float v)
{
    for (long t = t0; t < t1; t++) p[(size_t)t * KEYS + col] = v;
}
#define AT(p, t, col) ((p)[(size_t)(t) * KEYS + (col)])

static int has_note(const amt_notes *ns, double on, double off, int pitch)
{
    for (int i = 0; i < ns->n; i++)
        if (fabs(ns->v[i].onset - on) < 1e-9 && fabs(ns->v[i].offset - off) < 1e-9 && ns->v[i].pitch == pitch) return 1;
    return 0;
}

static void test_decode_basic_notes(void)
{
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    amt_notes ns;
    amt_notes_init(&ns);
    rolls r = rolls_new(100, 0.1f, 0.05f);
    /* pitch 60 (column 39): onset peak at 10, frame on 10..29, velocity 0.5 -> 64 */
    set_run(r.fr, 39, 10, 30, 0.8f);
    AT(r.on, 10, 39) = 0.9f;
    AT(r.on, 11, 39) = 0.3f;
    /* pitch 62 (column 41): repeated: peaks at 40 and 55, frame on 40..69 */
    set_run(r.fr, 41, 40, 70, 0.7f);
    AT(r.on, 40, 41) = 0.8f;
    AT(r.on, 55, 41) = 0.6f;
    AT(r.ve, 40, 41) = 1.0f;   /* -> 127 */
    AT(r.ve, 55, 41) = 0.0f;   /* clamped to 1 */
    /* pitch 64 (column 43): onset run 80..82 (plateau 0.7, 0.7, 0.6: peak at 80), frame low -> [80, 83) */
    AT(r.on, 80, 43) = 0.7f; AT(r.on, 81, 43) = 0.7f; AT(r.on, 82, 43) = 0.6f;
    /* pitch 65 (column 44): a 2-frame note (20 ms) - below min_note_ms 30 */
    set_run(r.fr, 44, 20, 22, 0.9f);
    AT(r.on, 20, 44) = 0.9f;
    /* pitch 67 (column 46): runs to the end of the roll */
    set_run(r.fr, 46, 90, 100, 0.9f);
    AT(r.on, 90, 46) = 0.9f;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 5, "%d notes", ns.n);
    CHECK(has_note(&ns, 0.10, 0.30, 60));
    CHECK(has_note(&ns, 0.40, 0.55, 62));
    CHECK(has_note(&ns, 0.55, 0.70, 62));
    CHECK(has_note(&ns, 0.80, 0.83, 64));
    CHECK(has_note(&ns, 0.90, 1.00, 67));
    CHECK(!has_note(&ns, 0.20, 0.22, 65));
    for (int i = 0; i < ns.n; i++) {
        const amt_note *nt = &ns.v[i];
        if (nt->pitch == 60) { CHECK(nt->velocity == 64); CHECK_NEAR(nt->confidence, 0.8, 1e-6); }
        if (nt->pitch == 62 && nt->onset < 0.5) CHECK(nt->velocity == 127);
        if (nt->pitch == 62 && nt->onset > 0.5) CHECK(nt->velocity == 1);
        CHECK(nt->program == 0);
    }
    /* sorted by onset */
    for (int i = 1; i < ns.n; i++) CHECK(ns.v[i - 1].onset <= ns.v[i].onset);
    /* min_note_ms 20 keeps the 2-frame note; 0.5 s drops all but ... the 1.5 s? none is that long */
    o.min_note_ms = 20;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 6 && has_note(&ns, 0.20, 0.22, 65));
    o.min_note_ms = 199.9;   /* only the 20-frame note (200 ms) survives */
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 1 && has_note(&ns, 0.10, 0.30, 60));
    /* pitch range limits */
    amt_decode_opts_default(&o);
    o.min_pitch = 61;
    o.max_pitch = 66;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 3);
    for (int i = 0; i < ns.n; i++) CHECK(ns.v[i].pitch >= 61 && ns.v[i].pitch <= 66);
    /* no velocity head: 64 */
    amt_decode_opts_default(&o);
    CHECK_OK(amt_note_decode(r.fr, r.on, NULL, r.n, &o, &ns));
    for (int i = 0; i < ns.n; i++) CHECK(ns.v[i].velocity == 64);
    /* a different frame rate: 50 frames/s doubles the times */
    o.fps = 50;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(has_note(&ns, 0.20, 0.60, 60));
    rolls_free(&r);
    amt_notes_free(&ns);
}

/* gap_frames: a dip of the frame head of at most gap_frames frames does not end a note; a
 * longer one does (the note ends at the dip's first frame); the default (0) ends at any dip. */
static void test_decode_gap(void)
{
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    CHECK(o.gap_frames == 0);
    amt_notes ns;
    amt_notes_init(&ns);
    rolls r = rolls_new(100, 0.1f, 0.05f);
    /* pitch 60: on 10..49 with a 3-frame dip at 20..22 and a 6-frame dip at 35..40 */
    set_run(r.fr, 39, 10, 50, 0.8f);
    set_run(r.fr, 39, 20, 23, 0.2f);
    set_run(r.fr, 39, 35, 41, 0.2f);
    AT(r.on, 10, 39) = 0.9f;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 1 && has_note(&ns, 0.10, 0.20, 60), "default: %d notes", ns.n);
    o.gap_frames = 3;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 1 && has_note(&ns, 0.10, 0.35, 60), "gap 3: %d notes", ns.n);
    o.gap_frames = 6;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 1 && has_note(&ns, 0.10, 0.50, 60), "gap 6: %d notes", ns.n);
    o.gap_frames = -1;
    CHECK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns) == AMT_EINVAL);
    rolls_free(&r);
    amt_notes_free(&ns);
}

/* sustain_threshold (hysteresis): a note whose frame probability reached frame_threshold
 * goes on while it stays >= sustain_threshold; a note that never reached frame_threshold
 * (an onset peak over a weak frame head) still ends after its onset run; gaps bridge dips
 * back to the sustain level; 0 = off (the rules without it). */
static void test_decode_sustain(void)
{
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    CHECK(o.sustain_threshold == 0.0f);
    amt_notes ns;
    amt_notes_init(&ns);
    rolls r = rolls_new(120, 0.05f, 0.05f);
    /* pitch 60: onset at 10, frame 0.8 for 10..29, a 0.3 tail 30..59 with a 2-frame dip to
     * 0.1 at 45..46 */
    set_run(r.fr, 39, 10, 30, 0.8f);
    set_run(r.fr, 39, 30, 60, 0.3f);
    set_run(r.fr, 39, 45, 47, 0.1f);
    AT(r.on, 10, 39) = 0.9f;
    /* pitch 62: an onset peak over a frame head that never reaches 0.5 (0.35 for 10..29) */
    set_run(r.fr, 41, 10, 30, 0.35f);
    AT(r.on, 10, 41) = 0.9f;
    /* pitch 64: a 0.3 tail that is interrupted by an onset peak (a repeated note) at 40 */
    set_run(r.fr, 43, 10, 20, 0.8f);
    set_run(r.fr, 43, 20, 40, 0.3f);
    set_run(r.fr, 43, 40, 60, 0.8f);
    AT(r.on, 10, 43) = 0.9f;
    AT(r.on, 40, 43) = 0.9f;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));   /* off */
    CHECK_MSG(ns.n == 3 && has_note(&ns, 0.10, 0.30, 60) && has_note(&ns, 0.10, 0.20, 64) &&
              has_note(&ns, 0.40, 0.60, 64), "off: %d notes", ns.n);
    o.sustain_threshold = 0.25f;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 3 && has_note(&ns, 0.10, 0.45, 60) && has_note(&ns, 0.10, 0.40, 64) &&
              has_note(&ns, 0.40, 0.60, 64), "sustain 0.25: %d notes", ns.n);
    /* the confidence is the mean frame probability over the longer note */
    for (int i = 0; i < ns.n; i++)
        if (ns.v[i].pitch == 60) CHECK_NEAR(ns.v[i].confidence, (20 * 0.8 + 15 * 0.3) / 35, 1e-6);
    o.gap_frames = 2;   /* the dip 45..46 comes back to 0.3 >= sustain: bridged */
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 3 && has_note(&ns, 0.10, 0.60, 60), "sustain + gap: %d notes", ns.n);
    o.gap_frames = 0;
    o.sustain_threshold = 0.35f;   /* 0.35 confirms nothing (< 0.5); the 0.3 tails end */
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK_MSG(ns.n == 3 && has_note(&ns, 0.10, 0.30, 60), "sustain 0.35: %d notes", ns.n);
    /* the frame-roll output ignores the sustain threshold (the head's own roll) */
    amt_notes roll;
    amt_notes_init(&roll);
    CHECK_OK(amt_note_decode_frames(r.fr, r.n, &o, &roll));
    CHECK(has_note(&roll, 0.10, 0.30, 60));
    amt_notes_free(&roll);
    /* bad values: above the frame threshold, negative */
    o.sustain_threshold = 0.6f;
    CHECK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "sustain_threshold") != NULL);
    o.sustain_threshold = -0.1f;
    CHECK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns) == AMT_EINVAL);
    rolls_free(&r);
    amt_notes_free(&ns);
}

static void test_decode_edges_and_support(void)
{
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    amt_notes ns;
    amt_notes_init(&ns);
    rolls r = rolls_new(60, 0.0f, 0.0f);
    /* lowest and highest keys */
    set_run(r.fr, 0, 0, 10, 0.9f);  AT(r.on, 0, 0) = 0.9f;
    set_run(r.fr, 87, 5, 15, 0.9f); AT(r.on, 5, 87) = 0.9f;
    /* frame rise at 31 with onset support 0.3 (>= 0.25 = half the threshold) at 30 */
    set_run(r.fr, 50, 31, 45, 0.8f); AT(r.on, 30, 50) = 0.3f;
    /* frame rise at 31 with no support (0.2 < 0.25) */
    set_run(r.fr, 51, 31, 45, 0.8f); AT(r.on, 30, 51) = 0.2f;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 3);
    CHECK(has_note(&ns, 0.00, 0.10, 21));
    CHECK(has_note(&ns, 0.05, 0.15, 108));
    CHECK(has_note(&ns, 0.31, 0.45, 71));
    /* support window 0: the onset at 30 is too far from the rise at 31 */
    o.onset_support = 0;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 2 && !has_note(&ns, 0.31, 0.45, 71));
    /* without an onset head every frame rise starts a note */
    o.onset_support = -1;
    CHECK_OK(amt_note_decode(r.fr, NULL, NULL, r.n, &o, &ns));
    CHECK(ns.n == 4 && has_note(&ns, 0.31, 0.45, 72));
    /* pitch range: 22..107 drops both edge keys */
    amt_decode_opts_default(&o);
    o.min_pitch = 22; o.max_pitch = 107;
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns));
    CHECK(ns.n == 1);
    /* frame roll notes: the exact runs */
    amt_decode_opts_default(&o);
    CHECK_OK(amt_note_decode_frames(r.fr, r.n, &o, &ns));
    CHECK(ns.n == 4 && has_note(&ns, 0.0, 0.10, 21) && has_note(&ns, 0.31, 0.45, 72));
    /* bad options */
    o.frame_threshold = 0;
    CHECK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "frame_threshold") != NULL);
    amt_decode_opts_default(&o);
    o.min_pitch = 90; o.max_pitch = 80;
    CHECK(amt_note_decode(r.fr, r.on, r.ve, r.n, &o, &ns) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "pitch range") != NULL);
    /* empty roll */
    amt_decode_opts_default(&o);
    CHECK_OK(amt_note_decode(r.fr, r.on, r.ve, 0, &o, &ns));
    CHECK(ns.n == 0);
    rolls_free(&r);
    amt_notes_free(&ns);
}

static void test_threshold_tuning(void)
{
    /* true notes: onset peak 0.7, frame 0.8 for 20 frames then a 0.55 tail of 3 frames;
     * spurious: onset plateaus of 0.4 for 4 frames (40 ms notes at any frame threshold).
     * Onset thresholds <= 0.4 add false notes, > 0.7 miss all; frame thresholds <= 0.55
     * add the tails (frame FP), 0.9 kills every note (1-frame notes < 30 ms). Best: onset
     * 0.5 (first of the tied 0.5/0.6), frame 0.6. */
    rolls r = rolls_new(400, 0.05f, 0.05f);
    amt_notes ref;
    amt_notes_init(&ref);
    for (int i = 0; i < 10; i++) {
        int col = 10 + 5 * i;
        long t0 = 10 + 35 * i;
        set_run(r.fr, col, t0, t0 + 20, 0.8f);
        set_run(r.fr, col, t0 + 20, t0 + 23, 0.55f);
        AT(r.on, t0, col) = 0.7f;
        AT(r.on, t0 + 1, col) = 0.2f;
        amt_note nt = amt_note_make(t0 / 100.0, (t0 + 20) / 100.0, AMT_TR_LOWEST_PITCH + col);
        amt_notes_push(&ref, &nt);
        if (i % 2 == 0) set_run(r.on, col + 2, t0 + 5, t0 + 9, 0.4f);
    }
    amt_decode_item item = {r.fr, r.on, r.ve, r.n, &ref};
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    const float og[4] = {0.3f, 0.5f, 0.6f, 0.8f}, fg[4] = {0.3f, 0.5f, 0.6f, 0.9f};
    amt_tune_result res;
    CHECK_OK(amt_decode_tune(&item, 1, &o, og, 4, fg, 4, &res));
    CHECK_NEAR(res.onset_threshold, 0.5, 1e-6);
    CHECK_NEAR(res.frame_threshold, 0.6, 1e-6);
    CHECK_NEAR(res.note_f1, 1.0, 1e-12);
    CHECK_NEAR(res.frame_f1, 1.0, 1e-12);
    /* two items (micro average) with the default grid: still a perfect pair exists */
    amt_decode_item two[2] = {item, item};
    CHECK_OK(amt_decode_tune(two, 2, &o, NULL, 0, NULL, 0, &res));
    CHECK_NEAR(res.note_f1, 1.0, 1e-12);
    CHECK_NEAR(res.frame_f1, 1.0, 1e-12);
    CHECK(res.onset_threshold > 0.4f && res.onset_threshold <= 0.7f);
    CHECK(res.frame_threshold > 0.55f && res.frame_threshold <= 0.8f);
    /* a bad reference list: the error names the item, on the calling thread */
    amt_notes bad;
    amt_notes_init(&bad);
    amt_note bn = amt_note_make(0.5, 0.4, 60);
    amt_notes_push(&bad, &bn);
    amt_decode_item with_bad[2] = {item, {r.fr, r.on, NULL, r.n, &bad}};
    CHECK(amt_decode_tune(with_bad, 2, &o, og, 4, fg, 4, &res) == AMT_EINVAL);
    CHECK_MSG(strstr(amt_errmsg(), "item 1") != NULL, "%s", amt_errmsg());
    amt_notes_free(&bad);
    CHECK(amt_decode_tune(&item, 0, &o, og, 4, fg, 4, &res) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "no validation items") != NULL);
    amt_notes_free(&ref);
    rolls_free(&r);
}

/* Stage 2 of the tuning: reference notes ring on through a 0.3 frame-head tail (a pedal),
 * and ghost onsets sit over a 0.35 frame head. A frame threshold low enough for the tails
 * confirms the ghosts (stage 1 cannot have both); a sustain threshold of 0.3 below the
 * pair's frame threshold can: offsets and frames become exact, onsets stay perfect. */
static void test_threshold_tuning_sustain(void)
{
    rolls r = rolls_new(600, 0.05f, 0.05f);
    amt_notes ref;
    amt_notes_init(&ref);
    for (int i = 0; i < 8; i++) {
        int col = 10 + 6 * i;
        long t0 = 10 + 70 * i;
        set_run(r.fr, col, t0, t0 + 20, 0.8f);
        set_run(r.fr, col, t0 + 20, t0 + 50, 0.3f);
        AT(r.on, t0, col) = 0.7f;
        amt_note nt = amt_note_make(t0 / 100.0, (t0 + 50) / 100.0, AMT_TR_LOWEST_PITCH + col);
        amt_notes_push(&ref, &nt);
        set_run(r.fr, col + 3, t0 + 5, t0 + 15, 0.35f);   /* a ghost: no reference note */
        AT(r.on, t0 + 5, col + 3) = 0.7f;
    }
    amt_decode_item item = {r.fr, r.on, NULL, r.n, &ref};
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    o.sustain_threshold = 0.2f;   /* ignored: stage 1 runs without, stage 2 picks its own */
    const float og[3] = {0.3f, 0.5f, 0.8f}, fg[4] = {0.3f, 0.5f, 0.6f, 0.9f};
    amt_tune_result res;
    CHECK_OK(amt_decode_tune(&item, 1, &o, og, 3, fg, 4, &res));
    CHECK_NEAR(res.onset_threshold, 0.3, 1e-6);
    CHECK_NEAR(res.frame_threshold, 0.5, 1e-6);
    CHECK_NEAR(res.sustain_threshold, 0.3, 1e-6);
    CHECK_NEAR(res.note_f1, 1.0, 1e-12);
    CHECK_NEAR(res.offset_f1, 1.0, 1e-12);
    CHECK_NEAR(res.frame_f1, 1.0, 1e-12);
    /* decoding with the result reproduces the scores */
    o.onset_threshold = res.onset_threshold;
    o.frame_threshold = res.frame_threshold;
    o.sustain_threshold = res.sustain_threshold;
    amt_notes est;
    amt_notes_init(&est);
    CHECK_OK(amt_note_decode(r.fr, r.on, NULL, r.n, &o, &est));
    CHECK(est.n == ref.n);
    /* without tails in the reference, sustain stays off (the first of the ties) */
    for (int i = 0; i < ref.n; i++) ref.v[i].offset = ref.v[i].onset + 0.2;
    CHECK_OK(amt_decode_tune(&item, 1, &o, og, 3, fg, 4, &res));
    CHECK(res.sustain_threshold == 0.0f);
    CHECK_NEAR(res.offset_f1, 1.0, 1e-12);
    amt_notes_free(&est);
    amt_notes_free(&ref);
    rolls_free(&r);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_default_shapes_and_param_count);
    RUN(test_gradcheck_whole_loss);
    RUN(test_matches_pytorch);
    RUN(test_chunk_equals_blocked_inference);
    RUN(test_learns_synthetic_notes);
    RUN(test_features_from_audio);
    RUN(test_checkpoint_load);
    RUN(test_config_errors);
    RUN(test_targets_from_notes);
    RUN(test_decode_basic_notes);
    RUN(test_decode_gap);
    RUN(test_decode_sustain);
    RUN(test_decode_edges_and_support);
    RUN(test_threshold_tuning);
    RUN(test_threshold_tuning_sustain);
    return TEST_DONE();
}
