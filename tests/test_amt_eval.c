/* tests/test_amt_eval.c: runs the built amt-eval (from $AMT_BIN, default bin/) on small
 * fixture directories made in a temporary directory, and checks its numbers, exit codes
 * and one-line error messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "core/error.h"
#include "eval/separation.h"
#include "tests/test.h"
#include "tests/tool_run.h"

static char tool[600];   /* bin/amt-eval, for the existence check */

/* Runs bin/amt-eval with args (paths in args are absolute); see tests/tool_run.h. */
static int eval(const char *args) { return run("amt-eval", args); }

static void mkdirs(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    mkdir(p, 0755);
}

static void write_text(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static int tool_ok(void)
{
    if (access(tool, X_OK) != 0) {
        CHECK_MSG(0, "%s not found: build the tools first (make tools) or set AMT_BIN", tool);
        return 0;
    }
    return 1;
}

static void test_usage(void)
{
    if (!tool_ok()) return;
    CHECK(eval("--help") == 0);
    CHECK(strstr(out_s, "usage: amt-eval") != NULL);
    CHECK(eval("--version") == 0);
    CHECK_MSG(strstr(out_s, AMT_VERSION) != NULL, "%s", out_s);
    CHECK(eval("") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "missing MODE"));
    CHECK(eval("transcribe --ref x") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "unknown mode 'transcribe'"));
    CHECK(eval("notes --bogus 1") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "unknown option '--bogus'"));
    CHECK(eval("notes --ref") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "needs a value"));
    CHECK(eval("notes --est /tmp") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "missing --ref"));
    CHECK(eval("separation --ref /tmp --est /tmp --frame-rate 10") == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "--frame-rate applies to 'notes' only"));
}

static void test_notes(void)
{
    if (!tool_ok()) return;
    mkdirs("nref"); mkdirs("nest");
    /* 4 reference notes; the estimate has 3: one exact, one onset 30 ms late with an
     * offset far off (onset match only), one wrong pitch */
    write_text("nref/a.txt", "OnsetTime\tOffsetTime\tMidiPitch\n0.5\t1.0\t60\n1.0\t1.5\t62\n2.0\t3.0\t64\n2.5\t2.7\t67\n");
    write_text("nest/a.tsv", "OnsetTime\tOffsetTime\tMidiPitch\n0.5\t1.0\t60\n1.03\t2.5\t62\n2.0\t3.0\t65\n");
    /* a second file: perfect */
    write_text("nref/b.txt", "OnsetTime\tOffsetTime\tMidiPitch\n0.1\t0.2\t40\n");
    write_text("nest/b.txt", "OnsetTime\tOffsetTime\tMidiPitch\n0.1\t0.2\t40\n");
    char args[1024];
    snprintf(args, sizeof args, "notes --ref %s/nref --est %s/nest --json", tmp, tmp);
    int rc = eval(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    if (rc != 0) return;
    /* file a: onset-only matches 2 of 3 estimates / 4 references; with offsets 1 */
    CHECK_NEAR(json_num(out_s, "\"file\": \"a.txt\"", "\"precision\""), 2.0 / 3, 1e-6);
    CHECK_NEAR(json_num(out_s, "\"file\": \"a.txt\"", "\"recall\""), 0.5, 1e-6);
    CHECK_NEAR(json_num(out_s, "\"file\": \"a.txt\"", "\"note_offset\": {\"precision\""), 1.0 / 3, 1e-6);
    CHECK_NEAR(json_num(out_s, "\"file\": \"b.txt\"", "\"f1\""), 1.0, 1e-6);
    /* mean of note F1 over files: a: 2PR/(P+R) = 4/7; b: 1 */
    CHECK_NEAR(json_num(out_s, "\"mean\"", "\"f1\""), (4.0 / 7 + 1.0) / 2, 1e-6);
    CHECK_NEAR(json_num(out_s, "\"settings\"", "\"onset_tolerance_s\""), 0.05, 1e-12);
    CHECK_NEAR(json_num(out_s, "\"settings\"", "\"frame_rate\""), 100, 1e-12);
    /* a wider onset tolerance changes nothing here; a tighter one (20 ms) loses the late onset */
    snprintf(args, sizeof args, "notes --ref %s/nref --est %s/nest --json --onset-tolerance 0.02", tmp, tmp);
    CHECK(eval(args) == 0);
    CHECK_NEAR(json_num(out_s, "\"file\": \"a.txt\"", "\"precision\""), 1.0 / 3, 1e-6);
    CHECK_NEAR(json_num(out_s, "\"settings\"", "\"onset_tolerance_s\""), 0.02, 1e-12);
    /* the text form prints the tolerances */
    snprintf(args, sizeof args, "notes --ref %s/nref --est %s/nest", tmp, tmp);
    CHECK(eval(args) == 0);
    CHECK(strstr(out_s, "onset tolerance 0.05 s") != NULL && strstr(out_s, "mean") != NULL);
    /* bad option value */
    snprintf(args, sizeof args, "notes --ref %s/nref --est %s/nest --frame-rate abc", tmp, tmp);
    CHECK(eval(args) == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "--frame-rate 'abc'"));
    /* missing estimate */
    snprintf(args, sizeof args, "notes --ref %s/nref --est %s/nest", tmp, tmp);
    write_text("nref/c.txt", "OnsetTime\tOffsetTime\tMidiPitch\n0.1\t0.2\t40\n");
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "nest/c.tsv") && strstr(err_s, "missing estimate"), "%s", err_s);
    /* malformed estimate */
    write_text("nest/c.txt", "OnsetTime\tOffsetTime\tMidiPitch\n0.1\tzero\t40\n");
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "nest/c.txt:2"), "%s", err_s);
    /* missing directory */
    snprintf(args, sizeof args, "notes --ref %s/nowhere --est %s/nest", tmp, tmp);
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "nowhere: no such directory"), "%s", err_s);
}

/* Writes a stereo reference and the two estimates of clip name (n samples, 16 kHz). */
static void make_sep_clip(const char *name, long n, unsigned seed, float *music, float *voice, float *ev, float *em)
{
    unsigned s = seed;
    float *st = malloc((size_t)2 * n * sizeof(float));
    double y = 0;
    for (long t = 0; t < n; t++) {
        s = s * 1103515245u + 12345u;
        double w = ((s >> 8) & 0xffff) / 32768.0 - 1.0;
        y = w + 0.8 * y;
        voice[t] = (float)(0.1 * y);
        music[t] = (float)(0.3 * sin(0.05 * t) + 0.2 * sin(0.013 * t * (1 + seed % 3)));
    }
    for (long t = 0; t < n; t++) {
        ev[t] = 0.9f * voice[t] + 0.1f * music[t];
        em[t] = 0.8f * music[t] + 0.2f * voice[t] + (t > 5 ? 0.05f * music[t - 5] : 0.0f);
        st[2 * t] = music[t];
        st[2 * t + 1] = voice[t];
    }
    char p[512];
    snprintf(p, sizeof p, "%s/sref/Wavfile/%s.wav", tmp, name);
    CHECK_OK(amt_audio_write_wav(p, st, n, 2, 16000, AMT_WAV_FLOAT));
    snprintf(p, sizeof p, "%s/sest/%s.voice.wav", tmp, name);
    CHECK_OK(amt_audio_write_wav(p, ev, n, 1, 16000, AMT_WAV_FLOAT));
    snprintf(p, sizeof p, "%s/sest/%s.music.wav", tmp, name);
    CHECK_OK(amt_audio_write_wav(p, em, n, 1, 16000, AMT_WAV_FLOAT));
    free(st);
}

static void test_separation(void)
{
    if (!tool_ok()) return;
    mkdirs("sref"); mkdirs("sref/Wavfile"); mkdirs("sest");
    long n1 = 8000, n2 = 12000;
    float *buf = malloc((size_t)4 * (n1 + n2) * sizeof(float));
    float *m1 = buf, *v1 = m1 + n1, *ev1 = v1 + n1, *em1 = ev1 + n1;
    float *m2 = em1 + n1, *v2 = m2 + n2, *ev2 = v2 + n2, *em2 = ev2 + n2;
    make_sep_clip("abjones_1_01", n1, 7, m1, v1, ev1, em1);
    make_sep_clip("amy_2_03", n2, 11, m2, v2, ev2, em2);
    amt_sep_scores c1, c2;
    CHECK_OK(amt_sep_eval_clip(v1, m1, NULL, ev1, em1, n1, &c1));
    CHECK_OK(amt_sep_eval_clip(v2, m2, NULL, ev2, em2, n2, &c2));
    char args[1024];
    snprintf(args, sizeof args, "separation --ref %s/sref --est %s/sest --json", tmp, tmp);
    int rc = eval(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    if (rc == 0) {
        CHECK_NEAR(json_num(out_s, "\"name\": \"abjones_1_01\"", "\"sdr\""), c1.sdr[AMT_SEP_VOICE], 1e-4);
        const char *c2s = strstr(out_s, "\"name\": \"amy_2_03\"");
        c2s = c2s ? strstr(c2s, "\"music\"") : NULL;
        CHECK(c2s != NULL);
        if (c2s) CHECK_NEAR(json_num(c2s, NULL, "\"sir\""), c2.sir[AMT_SEP_MUSIC], 1e-4);
        double gnsdr_v = (n1 * c1.nsdr[0] + n2 * c2.nsdr[0]) / (n1 + n2);
        double gsar_m = (n1 * c1.sar[1] + n2 * c2.sar[1]) / (n1 + n2);
        CHECK_NEAR(json_num(out_s, "\"summary\"", "\"gnsdr\""), gnsdr_v, 1e-4);
        const char *mus = strstr(out_s, "\"summary\"");
        mus = mus ? strstr(mus, "\"music\"") : NULL;
        CHECK(mus != NULL);
        if (mus) CHECK_NEAR(json_num(mus, NULL, "\"gsar\""), gsar_m, 1e-4);
        if (mus) CHECK_NEAR(json_num(mus, NULL, "\"gsdr\""), (n1 * c1.sdr[1] + n2 * c2.sdr[1]) / (n1 + n2), 1e-4);
        CHECK(c1.nsdr[0] > 0 && c1.sdr[0] > 10);   /* the estimates are better than the mixture */
    }
    /* the table form has the G* lines */
    snprintf(args, sizeof args, "separation --ref %s/sref --est %s/sest -q", tmp, tmp);
    CHECK(eval(args) == 0);
    CHECK(strstr(out_s, "GNSDR") && strstr(out_s, "GSIR") && strstr(out_s, "GSAR") && err_s[0] == '\0');
    /* missing estimate: one line naming the file */
    char p[512];
    snprintf(p, sizeof p, "%s/sest/amy_2_03.music.wav", tmp);
    unlink(p);
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "amy_2_03.music.wav: missing estimate"), "%s", err_s);
    /* a mono reference */
    CHECK_OK(amt_audio_write_wav(p, em2, n2, 1, 16000, AMT_WAV_FLOAT));
    snprintf(p, sizeof p, "%s/sref/Wavfile/mono_1_01.wav", tmp);
    CHECK_OK(amt_audio_write_wav(p, v1, n1, 1, 16000, AMT_WAV_FLOAT));
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "mono_1_01.wav: 1 channel(s)"), "%s", err_s);
    unlink(p);
    /* a silent estimate */
    float *z = calloc((size_t)n1, sizeof(float));
    snprintf(p, sizeof p, "%s/sest/abjones_1_01.voice.wav", tmp);
    CHECK_OK(amt_audio_write_wav(p, z, n1, 1, 16000, AMT_WAV_FLOAT));
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "abjones_1_01.voice.wav") && strstr(err_s, "silent"), "%s", err_s);
    /* an estimate of the wrong length */
    CHECK_OK(amt_audio_write_wav(p, ev1, n1 / 2, 1, 16000, AMT_WAV_FLOAT));
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "abjones_1_01.voice.wav: 4000 samples"), "%s", err_s);
    /* a text file named .wav */
    write_text("sest/abjones_1_01.voice.wav", "not audio\n");
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "abjones_1_01.voice.wav"), "%s", err_s);
    free(z);
    free(buf);
}

static void test_labels(void)
{
    if (!tool_ok()) return;
    /* testing layout (multi-label) */
    mkdirs("lt");
    write_text("lt/s1.wav", ""); write_text("lt/s1.txt", "pia\nvoi\n");
    write_text("lt/s2.wav", ""); write_text("lt/s2.txt", "gac\n");
    write_text("lt/s3.wav", ""); write_text("lt/s3.txt", "pia\n");
    /* s1: pia (tp), voi (fn); s2: gac (tp), vio (fp); s3: pia (tp) -> micro P 3/4 R 3/4 */
    write_text("pred_t.csv", "relative_path,label\ns1.wav,pia\ns2.wav,gac;vio\ns3.wav,pia\n");
    char args[1024];
    snprintf(args, sizeof args, "labels --ref %s/lt --pred %s/pred_t.csv --json", tmp, tmp);
    int rc = eval(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    if (rc == 0) {
        CHECK(strstr(out_s, "multi-label") != NULL);
        CHECK_NEAR(json_num(out_s, "\"micro\"", "\"precision\""), 0.75, 1e-6);
        CHECK_NEAR(json_num(out_s, "\"micro\"", "\"recall\""), 0.75, 1e-6);
        CHECK_NEAR(json_num(out_s, "\"pia\"", "\"f1\""), 1.0, 1e-6);
        CHECK_NEAR(json_num(out_s, "\"voi\"", "\"recall\""), 0.0, 1e-6);
    }
    /* training layout (single label) */
    mkdirs("ltr"); mkdirs("ltr/cel"); mkdirs("ltr/pia");
    write_text("ltr/cel/x1.wav", ""); write_text("ltr/pia/y1.wav", ""); write_text("ltr/pia/y2.wav", "");
    write_text("pred_tr.csv", "cel/x1.wav,cel\npia/y1.wav,pia\n./pia/y2.wav,cel\n");
    snprintf(args, sizeof args, "labels --ref %s/ltr --pred %s/pred_tr.csv --json", tmp, tmp);
    rc = eval(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    if (rc == 0) {
        CHECK(strstr(out_s, "single-label") != NULL);
        CHECK_NEAR(json_num(out_s, NULL, "\"accuracy\""), 2.0 / 3, 1e-6);
        CHECK_NEAR(json_num(out_s, "\"cel\": {", "\"precision\""), 0.5, 1e-6);
        CHECK(strstr(out_s, "\"rows_true_cols_pred\": [[1, 0,") != NULL);
    }
    /* bad inputs */
    write_text("pred_bad.csv", "cel/x1.wav,cello\n");
    snprintf(args, sizeof args, "labels --ref %s/ltr --pred %s/pred_bad.csv", tmp, tmp);
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "pred_bad.csv:1: unknown instrument code 'cello'"), "%s", err_s);
    write_text("pred_bad.csv", "cel/x1.wav,cel\n");
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "no prediction for clip pia/y1"), "%s", err_s);
    write_text("pred_bad.csv", "cel/x1.wav,cel\nvio/zz.wav,vio\n");
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "'vio/zz.wav' is not a reference clip"), "%s", err_s);
    snprintf(args, sizeof args, "labels --ref %s/ltr --pred %s/nothing.csv", tmp, tmp);
    CHECK(eval(args) == 1);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "nothing.csv: cannot open"), "%s", err_s);
    snprintf(args, sizeof args, "labels --ref %s/ltr", tmp);
    CHECK(eval(args) == 2);
    CHECK(lines(err_s) == 1 && strstr(err_s, "missing --pred"));
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    if (tool_setup("/tmp/amt_test_eval_XXXXXX")) return 1;
    snprintf(tool, sizeof tool, "%s/amt-eval", bin);
    RUN(test_usage);
    RUN(test_notes);
    RUN(test_separation);
    RUN(test_labels);
    tool_cleanup();
    return TEST_DONE();
}
