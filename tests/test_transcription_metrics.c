/* tests/test_transcription_metrics.c: note- and frame-level metrics against mir_eval 0.7
 * goldens (tests/golden/make_metric_golden.py) and hand cases. */
#include "audio/notes.h"
#include "core/error.h"
#include "eval/transcription.h"
#include "golden.h"
#include "test.h"

#include <stdlib.h>

#define GOLDEN "tests/golden/metrics_transcription.txt"

static int load_notes(const char *name, amt_notes *ns)
{
    int nd, sh[8];
    size_t n;
    float *v = golden_get(GOLDEN, name, &nd, sh, &n);
    amt_notes_init(ns);
    if (!v) return -1;
    for (int i = 0; nd == 2 && i < sh[0]; i++) {
        amt_note x = amt_note_make(v[3 * i], v[3 * i + 1], (int)v[3 * i + 2]);
        amt_notes_push(ns, &x);
    }
    free(v);
    return 0;
}

static void test_golden_mir_eval(void)
{
    float *nc = golden_get(GOLDEN, "ncases", NULL, NULL, NULL);
    REQUIRE(nc);
    int ncases = (int)nc[0];
    free(nc);
    CHECK(ncases >= 50);
    int checked = 0, nontrivial = 0;
    for (int k = 0; k < ncases; k++) {
        char rn[32], en[32], sn[32];
        snprintf(rn, sizeof rn, "ref_%d", k); snprintf(en, sizeof en, "est_%d", k); snprintf(sn, sizeof sn, "res_%d", k);
        amt_notes ref, est;
        REQUIRE(load_notes(rn, &ref) == 0);
        REQUIRE(load_notes(en, &est) == 0);
        size_t n;
        float *res = golden_get(GOLDEN, sn, NULL, NULL, &n);
        REQUIRE(res && n == 13);
        amt_note_metric_opts o;
        amt_note_metric_defaults(&o);
        amt_note_scores on, off;
        o.offset_ratio = 0;   /* None */
        CHECK_OK(amt_transcription_note_scores(&ref, &est, &o, &on));
        o.offset_ratio = 0.2;
        CHECK_OK(amt_transcription_note_scores(&ref, &est, &o, &off));
        amt_frame_scores fs;
        CHECK_OK(amt_transcription_frame_scores(&ref, &est, res[12], &fs));
        double got[12] = {on.precision, on.recall, on.f1, on.overlap, off.precision, off.recall, off.f1, off.overlap,
                          fs.precision, fs.recall, fs.f1, fs.accuracy};
        for (int i = 0; i < 12; i++) {
            if (!(fabs(got[i] - res[i]) <= 1e-6))
                fprintf(stderr, "  case %d value %d: C %.9g vs mir_eval %.9g\n", k, i, got[i], res[i]);
            CHECK_NEAR(got[i], res[i], 1e-6);
        }
        if (on.n_match > 0 && on.n_match < ref.n) nontrivial++;
        checked++;
        free(res);
        amt_notes_free(&ref); amt_notes_free(&est);
    }
    CHECK(checked == ncases);
    CHECK(nontrivial >= 20);   /* the golden exercises partial matches */
}

static amt_note N(double on, double off, int p) { return amt_note_make(on, off, p); }

static void test_hand_cases(void)
{
    amt_notes ref, est;
    amt_notes_init(&ref); amt_notes_init(&est);
    amt_note a = N(1.0, 2.0, 60), b = N(1.04, 2.1, 60), c = N(3.0, 3.5, 62), d = N(3.06, 3.5, 62);
    amt_notes_push(&ref, &a); amt_notes_push(&ref, &c);
    amt_notes_push(&est, &b); amt_notes_push(&est, &d);
    amt_note_scores s;
    CHECK_OK(amt_transcription_note_scores(&ref, &est, NULL, &s));
    /* b matches a (onset 40 ms, offset 100 ms <= 0.2 * 1 s); d misses c by 60 ms */
    CHECK(s.n_match == 1);
    CHECK_NEAR(s.precision, 0.5, 1e-12);
    CHECK_NEAR(s.recall, 0.5, 1e-12);
    CHECK_NEAR(s.f1, 0.5, 1e-12);
    CHECK_NEAR(s.overlap, (2.0 - 1.04) / (2.1 - 1.0), 1e-12);
    /* exactly 50 ms apart: matched thanks to mir_eval's rounding to 4 decimals */
    amt_notes_clear(&est);
    amt_note e = N(1.05, 2.0, 60);
    amt_notes_push(&est, &e);
    int r2e[2];
    int m;
    CHECK_OK(amt_transcription_match(&ref, &est, NULL, r2e, &m));
    CHECK(m == 1 && r2e[0] == 0 && r2e[1] == -1);
    /* strict: 50 ms no longer matches */
    amt_note_metric_opts o;
    amt_note_metric_defaults(&o);
    o.strict = 1;
    CHECK_OK(amt_transcription_match(&ref, &est, &o, r2e, &m));
    CHECK(m == 0);
    /* a greedy matcher would get 1 here, the maximum matching gets 2 */
    amt_notes_clear(&ref); amt_notes_clear(&est);
    amt_note r1 = N(1.00, 2, 60), r2 = N(1.06, 2, 60), e1 = N(1.03, 2, 60), e2 = N(0.96, 2, 60);
    amt_notes_push(&ref, &r1); amt_notes_push(&ref, &r2); amt_notes_push(&est, &e1); amt_notes_push(&est, &e2);
    CHECK_OK(amt_transcription_match(&ref, &est, NULL, r2e, &m));
    CHECK(m == 2 && r2e[0] == 1 && r2e[1] == 0);
    /* bad input */
    amt_note bad = N(2.0, 1.0, 60);
    amt_notes_push(&est, &bad);
    CHECK(amt_transcription_note_scores(&ref, &est, NULL, &s) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "estimate note 2") != NULL);
    amt_notes_free(&ref); amt_notes_free(&est);
}

static void test_frames_hand(void)
{
    amt_notes ref, est;
    amt_notes_init(&ref); amt_notes_init(&est);
    amt_note a = N(0.0, 0.10, 60), b = N(0.05, 0.20, 60), c = N(0.0, 0.05, 72);
    amt_notes_push(&ref, &a); amt_notes_push(&est, &b); amt_notes_push(&est, &c);
    amt_frame_scores f;
    CHECK_OK(amt_transcription_frame_scores(&ref, &est, 100.0, &f));
    /* ref frames 0..9 of 60; est 5..19 of 60 and 0..4 of 72 */
    CHECK(f.tp == 5 && f.fn == 5 && f.fp == 15);
    CHECK(f.frames == 20);
    CHECK_NEAR(f.accuracy, 5.0 / 25.0, 1e-12);
    CHECK_NEAR(f.precision, 0.25, 1e-12);
    CHECK_NEAR(f.recall, 0.5, 1e-12);
    CHECK(amt_transcription_frame_scores(&ref, &est, 0.0, &f) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "frame rate") != NULL);
    amt_notes_free(&ref); amt_notes_free(&est);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    (void)golden_max_rel;
    RUN(test_golden_mir_eval);
    RUN(test_hand_cases);
    RUN(test_frames_hand);
    return TEST_DONE();
}
