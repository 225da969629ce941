/* tests/test_transcriber_stream.c: bounded-memory transcription of long signals:
 * the streaming note decoder (models/note_decode.h) and the audio -> rows stream
 * (models/transcriber_stream.h) give the numbers of the whole-file path, fed in blocks of
 * any size, at the features' rate and through the resampler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/amt.h"
#include "models/note_decode.h"
#include "models/transcriber.h"
#include "models/transcriber_stream.h"
#include "tests/test.h"

#define KEYS AMT_TR_KEYS

/* ---- the note decoder ---- */

/* Rolls with notes of random lengths, dips and onset bumps, and background noise. */
static void random_rolls(long n, uint64_t seed, float *fr, float *on, float *ve)
{
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    for (size_t i = 0; i < (size_t)n * KEYS; i++) {
        fr[i] = 0.3f * (float)amt_rng_uniform(&rng);
        on[i] = 0.2f * (float)amt_rng_uniform(&rng);
        ve[i] = (float)amt_rng_uniform(&rng);
    }
    for (int k = 0; k < KEYS; k++)
        for (long t = (long)amt_rng_below(&rng, 40); t < n; t += 5 + (long)amt_rng_below(&rng, 60)) {
            long len = 1 + (long)amt_rng_below(&rng, 50);
            for (long u = t; u < t + len && u < n; u++) {
                int dip = amt_rng_below(&rng, 10) == 0;
                fr[(size_t)u * KEYS + k] = dip ? 0.2f : 0.5f + 0.5f * (float)amt_rng_uniform(&rng);
            }
            for (long u = t - 2; u <= t + 2; u++)
                if (u >= 0 && u < n) on[(size_t)u * KEYS + k] = 0.9f - 0.2f * (float)labs(u - t);
        }
}

static int same_notes(const amt_notes *a, const amt_notes *b)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        const amt_note *x = &a->v[i], *y = &b->v[i];
        if (x->onset != y->onset || x->offset != y->offset || x->pitch != y->pitch || x->velocity != y->velocity ||
            x->confidence != y->confidence)
            return 0;
    }
    return 1;
}

/* Decodes the rolls through a stream fed in random blocks. */
static int stream_decode(const float *fr, const float *on, const float *ve, long n, const amt_decode_opts *o,
                         uint64_t seed, amt_notes *out)
{
    amt_note_stream *s = amt_note_stream_new(o, on != NULL, ve != NULL);
    if (!s) return amt_errcode();
    amt_notes_clear(out);
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    int rc = AMT_OK;
    for (long t = 0; t < n && !rc;) {
        long k = 1 + (long)amt_rng_below(&rng, 97);
        if (k > n - t) k = n - t;
        size_t off = (size_t)t * KEYS;
        rc = amt_note_stream_feed(s, fr + off, on ? on + off : NULL, ve ? ve + off : NULL, k, out);
        t += k;
    }
    if (!rc && amt_note_stream_frames(s) != n) rc = amt_error(AMT_EINVAL, "stream saw %ld of %ld rows", amt_note_stream_frames(s), n);
    if (!rc) rc = amt_note_stream_finish(s, out);
    amt_note_stream_del(s);
    return rc;
}

static void test_note_stream_equals_whole(void)
{
    const long n = 1500;
    float *fr = malloc(sizeof(float) * n * KEYS), *on = malloc(sizeof(float) * n * KEYS),
          *ve = malloc(sizeof(float) * n * KEYS);
    REQUIRE(fr && on && ve);
    random_rolls(n, 7, fr, on, ve);
    amt_notes whole, part;
    amt_notes_init(&whole);
    amt_notes_init(&part);
    const int gaps[4] = {0, 1, 15, 40}, supports[4] = {2, -1, 0, 6};
    for (int v = 0; v < 16; v++) {   /* 12..15: with a sustain threshold */
        amt_decode_opts o;
        amt_decode_opts_default(&o);
        o.gap_frames = gaps[v % 4];
        o.onset_support = supports[(v / 2) % 4];
        o.frame_threshold = 0.45f;
        o.onset_threshold = 0.6f;
        if (v == 5) { o.min_pitch = 40; o.max_pitch = 70; }
        if (v >= 12) o.sustain_threshold = v % 2 ? 0.2f : 0.4f;
        const float *use_on = v % 3 == 2 ? NULL : on, *use_ve = v % 5 == 4 ? NULL : ve;
        CHECK_OK(amt_note_decode(fr, use_on, use_ve, n, &o, &whole));
        CHECK_OK(stream_decode(fr, use_on, use_ve, n, &o, 100 + (uint64_t)v, &part));
        CHECK_MSG(whole.n > 100, "variant %d: %d notes", v, whole.n);
        CHECK_MSG(same_notes(&whole, &part), "variant %d: whole %d notes, stream %d", v, whole.n, part.n);
    }
    /* short inputs: fewer rows than the look-ahead; none at all */
    amt_decode_opts o;
    amt_decode_opts_default(&o);
    o.gap_frames = 15;
    for (long m = 0; m <= 3; m++) {
        CHECK_OK(amt_note_decode(fr, on, ve, m, &o, &whole));
        CHECK_OK(stream_decode(fr, on, ve, m, &o, 5, &part));
        CHECK_MSG(same_notes(&whole, &part), "%ld rows", m);
    }
    /* bad calls */
    CHECK(amt_note_stream_new(&(amt_decode_opts){0}, 1, 1) == NULL);
    amt_note_stream *s = amt_note_stream_new(&o, 1, 1);
    REQUIRE(s);
    CHECK(amt_note_stream_feed(s, fr, NULL, ve, 1, &part) == AMT_EINVAL);
    amt_note_stream_del(s);
    amt_notes_free(&whole);
    amt_notes_free(&part);
    free(fr); free(on); free(ve);
}

/* ---- audio -> rows ---- */

/* A small random network on the real 16 kHz features (229 bins, kt 1). */
static int small_model(amt_transcriber *m)
{
    amt_transcriber_config c;
    amt_transcriber_config_default(&c);
    c.feat = amt_semitone_default_16k();
    c.channels[0] = 3; c.channels[1] = 4; c.channels[2] = 5;
    c.dense = 6;
    c.kt = 1;
    int rc = amt_transcriber_config_check(&c, "small");
    if (!rc) rc = amt_transcriber_init(m, &c, 11);
    if (rc) return rc;
    amt_rng rng;
    amt_rng_seed(&rng, 3);
    for (int i = 0; i < KEYS; i++) m->head_frame.bias->data[i] = (float)amt_rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < c.channels[1]; i++) m->bn.running_mean->data[i] = 0.1f * (float)amt_rng_uniform(&rng);
    return AMT_OK;
}

/* Chords of sines with a little noise: len samples at rate Hz. */
static float *test_signal(long len, int rate)
{
    float *x = malloc(sizeof(float) * (size_t)(len > 0 ? len : 1));
    if (!x) return NULL;
    amt_rng rng;
    amt_rng_seed(&rng, 9);
    for (long i = 0; i < len; i++) {
        double t = (double)i / rate, seg = floor(t / 0.4);
        double f1 = 110 * pow(2, fmod(seg * 5, 24) / 12), f2 = f1 * 1.5;
        x[i] = (float)(0.3 * sin(2 * M_PI * f1 * t) + 0.2 * sin(2 * M_PI * f2 * t) +
                       0.01 * (amt_rng_uniform(&rng) - 0.5));
    }
    return x;
}

typedef struct rows_sink {
    int bins;
    long n, cap;                 /* rows received */
    float *feat, *fr, *on, *ve;  /* cap rows each */
    int out_of_order;
} rows_sink;

static int sink_rows(void *ctx, long t0, long n, const float *feat, const float *fr, const float *on, const float *ve)
{
    rows_sink *s = ctx;
    if (t0 != s->n) s->out_of_order = 1;
    if (s->n + n > s->cap) return amt_error(AMT_EINVAL, "sink: %ld rows past its %ld", s->n + n, s->cap);
    memcpy(s->feat + (size_t)s->n * s->bins, feat, sizeof(float) * (size_t)n * s->bins);
    memcpy(s->fr + (size_t)s->n * KEYS, fr, sizeof(float) * (size_t)n * KEYS);
    memcpy(s->on + (size_t)s->n * KEYS, on, sizeof(float) * (size_t)n * KEYS);
    memcpy(s->ve + (size_t)s->n * KEYS, ve, sizeof(float) * (size_t)n * KEYS);
    s->n += n;
    return AMT_OK;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void test_stream_equals_whole(void)
{
    amt_transcriber m;
    CHECK_OK(small_model(&m));
    const int bins = m.cfg.bins;
    const int rates[3] = {16000, 22050, 44100};
    const double secs[3] = {2.9, 3.3, 0.05};
    int threads = amt_get_threads();
    for (int v = 0; v < 6; v++) {
        const int rate = rates[v % 3];
        const long len = (long)(secs[v % 3] * rate) + v;
        float *x = test_signal(len, rate);
        REQUIRE(x);
        float *feat = NULL;
        long nf = 0;
        CHECK_OK(amt_transcriber_features(&m.cfg, x, len, rate, &feat, &nf));
        CHECK(nf == amt_tr_stream_frames_for(&m.cfg, rate, len));
        amt_set_threads(v < 3 ? 1 : 3);   /* 1 and 3 blocks per forward */
        amt_tr_infer *r = amt_tr_infer_new(&m, v < 3 ? 16 : 40);
        amt_set_threads(threads);
        REQUIRE(r);
        const size_t cells = (size_t)nf * KEYS;
        float *fr = malloc(sizeof(float) * cells), *on = malloc(sizeof(float) * cells), *ve = malloc(sizeof(float) * cells);
        rows_sink sk = {bins, 0, nf, malloc(sizeof(float) * (size_t)nf * bins), malloc(sizeof(float) * cells),
                        malloc(sizeof(float) * cells), malloc(sizeof(float) * cells), 0};
        REQUIRE(fr && on && ve && sk.feat && sk.fr && sk.on && sk.ve);
        CHECK_OK(amt_tr_infer_run(r, feat, nf, fr, on, ve));
        amt_tr_stream *s = amt_tr_stream_new(r, rate, sink_rows, &sk);
        REQUIRE(s);
        amt_rng rng;
        amt_rng_seed(&rng, 50 + (uint64_t)v);
        for (long i = 0; i < len;) {
            long k = 1 + (long)amt_rng_below(&rng, v % 2 ? 20000 : 700);
            if (k > len - i) k = len - i;
            CHECK_OK(amt_tr_stream_feed(s, x + i, k));
            i += k;
        }
        CHECK_OK(amt_tr_stream_finish(s));
        CHECK(amt_tr_stream_finish(s) == AMT_EINVAL);
        CHECK(amt_tr_stream_samples(s) == len);
        CHECK_MSG(sk.n == nf && amt_tr_stream_frames(s) == nf, "rate %d: %ld rows of %ld", rate, sk.n, nf);
        CHECK(!sk.out_of_order);
        double df = max_diff(feat, sk.feat, (size_t)nf * bins);
        double dp = fmax(max_diff(fr, sk.fr, cells), fmax(max_diff(on, sk.on, cells), max_diff(ve, sk.ve, cells)));
        /* the same arithmetic on the same samples: identical */
        CHECK_MSG(df == 0 && dp == 0, "rate %d: features differ by %g, probabilities by %g", rate, df, dp);
        amt_tr_stream_del(s);
        amt_tr_infer_free(r);
        free(fr); free(on); free(ve); free(feat); free(x);
        free(sk.feat); free(sk.fr); free(sk.on); free(sk.ve);
    }
    amt_transcriber_free(&m);
}

static int count_rows(void *ctx, long t0, long n, const float *feat, const float *fr, const float *on, const float *ve)
{
    long *next = ctx;
    (void)feat; (void)fr; (void)on; (void)ve;
    if (t0 != *next) return amt_error(AMT_EINVAL, "rows from %ld, expected %ld", t0, *next);
    *next += n;
    return AMT_OK;
}

static void test_stream_long_and_bad_input(void)
{
    amt_transcriber m;
    CHECK_OK(small_model(&m));
    amt_tr_infer *r = amt_tr_infer_new(&m, 128);
    REQUIRE(r);
    /* 4 minutes at 8 kHz (resampled), in 1 s blocks: memory of the stream is fixed at
     * creation; every frame comes out once, in order */
    long next = 0;
    amt_tr_stream *s = amt_tr_stream_new(r, 8000, count_rows, &next);
    REQUIRE(s);
    float *blk = calloc(8000, sizeof(float));
    REQUIRE(blk);
    for (int i = 0; i < 8000; i++) blk[i] = 0.1f * sinf(0.3f * (float)i);
    const long blocks = 4 * 60;
    for (long b = 0; b < blocks; b++) CHECK_OK(amt_tr_stream_feed(s, blk, 8000));
    CHECK_OK(amt_tr_stream_finish(s));
    CHECK(next == amt_tr_stream_frames_for(&m.cfg, 8000, blocks * 8000));
    CHECK(next == 24001);
    amt_tr_stream_del(s);
    /* NaN: named by its index from the start */
    next = 0;
    s = amt_tr_stream_new(r, 16000, count_rows, &next);
    REQUIRE(s);
    CHECK_OK(amt_tr_stream_feed(s, blk, 1000));
    blk[5] = NAN;
    CHECK(amt_tr_stream_feed(s, blk, 10) == AMT_EINVAL);
    CHECK_MSG(strstr(amt_errmsg(), "sample 1005 is NaN") != NULL, "%s", amt_errmsg());
    amt_tr_stream_del(s);
    /* nothing fed: one frame of silence, as the whole-file features */
    next = 0;
    s = amt_tr_stream_new(r, 44100, count_rows, &next);
    REQUIRE(s);
    CHECK_OK(amt_tr_stream_finish(s));
    CHECK(next == 1);
    amt_tr_stream_del(s);
    /* bad rate */
    CHECK(amt_tr_stream_new(r, 0, count_rows, &next) == NULL);
    CHECK(strstr(amt_errmsg(), "sample rate") != NULL);
    CHECK(amt_tr_stream_new(r, NAN, count_rows, &next) == NULL);
    free(blk);
    amt_tr_infer_free(r);
    amt_transcriber_free(&m);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_note_stream_equals_whole);
    RUN(test_stream_equals_whole);
    RUN(test_stream_long_and_bad_input);
    return TEST_DONE();
}
