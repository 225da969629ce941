/* tests/test_train_separator.c: the separator end to end through the tools (from $AMT_BIN,
 * default bin/): amt-synth renders a tiny MIR-1K-layout set (6 training clips, 3 test
 * clips of 3 s, different seeds), amt-train trains a tiny separator for 40 steps, and
 * amt-eval --model scores it against the IRM and mixture baselines. Checks: the loss falls,
 * best/last checkpoints and the log exist, the trained model beats the mixture (voice and
 * music GNSDR > 0) and stays below the oracle IRM on its test clips, the per-clip CSV; bad
 * data folders give exit 1 with one line naming the folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"
#include "tests/tool_run.h"

static int rendered;

static const char *TINY_INI =
    "[model]\nkind = separator\nhidden = 32\nlayers = 1\n"
    "[features]\nlog = true\n"
    "[optim]\nlr = 0.01\n"
    "[train]\nbatch = 4\nseq_frames = 32\nepochs = 4\nsteps_per_epoch = 10\ndata_dir = train\nval_fraction = 0.2\n"
    "[data]\nall_train = true\nrepeat = 2\ncache_mb = 1\n"
    "[infer]\nblock_frames = 128\noverlap_frames = 16\nsegment_frames = 256\n";

static int tools_ok(void)
{
    const char *tools[] = {"amt-synth", "amt-train", "amt-eval"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", bin, tools[i]);
        if (access(p, X_OK) != 0) {
            CHECK_MSG(0, "%s not found: build the tools first (make tools) or set AMT_BIN", p);
            return 0;
        }
    }
    return 1;
}

static void test_render(void)
{
    if (!tools_ok()) return;
    CHECK(run("amt-synth", "mir1k --out train --count 6 --max-seconds 3 --seed 1 --threads 1 -q") == 0);
    CHECK(run("amt-synth", "mir1k --out test --count 3 --max-seconds 3 --seed 2 --threads 1 -q") == 0);
    CHECK(exists("train/Wavfile/abjones_1_01.wav") && exists("test/Wavfile/abjones_1_01.wav"));
    char p[512];
    snprintf(p, sizeof p, "%s/tiny.ini", tmp);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs(TINY_INI, f);
    fclose(f);
    rendered = exists("train/Wavfile/abjones_1_01.wav");
}

static void test_train_and_eval(void)
{
    if (!rendered) SKIP("no tiny render (see test_render)");
    int rc = run("amt-train", "tiny.ini --threads 1 -q --out run");
    CHECK_MSG(rc == 0, "amt-train exit %d: %s", rc, err_s);
    CHECK(exists("run/best.h5") && exists("run/last.h5") && exists("run/log.csv"));
    /* the loss falls: epoch 4's mean training loss below epoch 1's */
    char p[512];
    snprintf(p, sizeof p, "%s/run/log.csv", tmp);
    FILE *f = fopen(p, "r");
    REQUIRE(f);
    char line[1024];
    double loss[8];
    int n = 0;
    REQUIRE(fgets(line, sizeof line, f) && strstr(line, "train_loss") && strstr(line, "val_voice_gnsdr"));
    while (n < 8 && fgets(line, sizeof line, f)) {
        /* epoch,step,lr,train_loss,... */
        char *c = line;
        for (int k = 0; k < 3 && c; k++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        if (c) loss[n++] = strtod(c, NULL);
    }
    fclose(f);
    REQUIRE(n == 4);
    CHECK_MSG(loss[3] < loss[0], "train loss %g (epoch 1) -> %g (epoch 4)", loss[0], loss[3]);

    rc = run("amt-eval", "--model run/best.h5 --data test --split all --json -q --out clips.csv");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    double clips = json_num(out_s, NULL, "\"clips\""), skipped = json_num(out_s, NULL, "\"skipped\"");
    double v = json_num(out_s, "\"model\": {\"voice\"", "\"gnsdr\""), m = json_num(out_s, "\"model\": {\"voice\"", "\"music\": {\"gnsdr\"");
    double iv = json_num(out_s, "\"irm\"", "\"gnsdr\"");
    CHECK(clips == 3 && skipped == 0);
    CHECK_MSG(v > 0 && m > 0, "model GNSDR voice %g music %g (the mixture is 0)", v, m);
    CHECK_MSG(iv > v, "IRM voice GNSDR %g should beat the model's %g", iv, v);
    CHECK(strstr(out_s, "\"gnsdr_fraction_of_irm\"") != NULL);
    snprintf(p, sizeof p, "%s/clips.csv", tmp);
    f = fopen(p, "r");
    REQUIRE(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    CHECK(rows == 4);   /* header + 3 clips */
    /* the table form names the baselines */
    rc = run("amt-eval", "--model run/best.h5 --data test --split all -q");
    CHECK(rc == 0 && strstr(out_s, "irm") && strstr(out_s, "mixture") && strstr(out_s, "GNSDR"));
}

static void test_bad_data(void)
{
    if (!tools_ok()) return;
    if (!rendered) SKIP("no tiny render (see test_render)");
    int rc = run("amt-train", "tiny.ini -q --out bad --set train.data_dir=no_such_dir");
    CHECK(rc == 1 || rc == 2);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "no_such_dir"), "%s", err_s);
    CHECK(!exists("bad/last.h5"));
    char p[512];
    snprintf(p, sizeof p, "%s/empty", tmp);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/empty/Wavfile", tmp);
    mkdir(p, 0755);
    rc = run("amt-train", "tiny.ini -q --out bad --set train.data_dir=empty");
    CHECK(rc == 1 || rc == 2);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "empty") && strstr(err_s, "no .wav"), "%s", err_s);
    rc = run("amt-train", "tiny.ini -q --out bad --set data.repeat=1,2");
    CHECK(rc == 2);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "data.repeat"), "%s", err_s);
    if (exists("run/best.h5")) {
        rc = run("amt-eval", "--model run/best.h5 --data no_such_dir -q");
        CHECK(rc == 1);
        CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "no_such_dir"), "%s", err_s);
    }
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    const char *b = getenv("AMT_BIN");
    char cwd[400];
    if (!getcwd(cwd, sizeof cwd)) { fprintf(stderr, "getcwd failed\n"); return 1; }
    b = b && *b ? b : "bin";
    if (b[0] == '/') snprintf(bin, sizeof bin, "%s", b);
    else snprintf(bin, sizeof bin, "%s/%s", cwd, b);
    snprintf(tmp, sizeof tmp, "/tmp/amt_test_train_sep_XXXXXX");
    if (!mkdtemp(tmp)) { fprintf(stderr, "cannot make a temporary directory\n"); return 1; }
    RUN(test_render);
    RUN(test_train_and_eval);
    RUN(test_bad_data);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return TEST_DONE();
}
