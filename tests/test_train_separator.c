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

static void test_render(void)
{
    if (!tools_ok()) return;
    CHECK(run("amt-synth", "mir1k --out train --count 6 --max-seconds 3 --seed 1 --threads 1 -q") == 0);
    CHECK(run("amt-synth", "mir1k --out test --count 3 --max-seconds 3 --seed 2 --threads 1 -q") == 0);
    CHECK(exists("train/Wavfile/abjones_1_01.wav") && exists("test/Wavfile/abjones_1_01.wav"));
    REQUIRE(write_tmp("tiny.ini", TINY_INI) == 0);
    rendered = exists("train/Wavfile/abjones_1_01.wav");
}

static void test_train_and_eval(void)
{
    if (!rendered) SKIP("no tiny render (see test_render)");
    int rc = run("amt-train", "tiny.ini --threads 1 -q --out run");
    CHECK_MSG(rc == 0, "amt-train exit %d: %s", rc, err_s);
    CHECK(exists("run/best.h5") && exists("run/last.h5") && exists("run/log.csv"));
    /* the loss falls: epoch 4's mean training loss below epoch 1's */
    double loss[8];
    int n = read_losses("run", "val_voice_gnsdr", loss, 8);
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
    char p[512], line[2048];
    snprintf(p, sizeof p, "%s/clips.csv", tmp);
    FILE *f = fopen(p, "r");
    REQUIRE(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    CHECK(rows == 4);   /* header + 3 clips */
    /* the table form names the baselines */
    rc = run("amt-eval", "--model run/best.h5 --data test --split all -q");
    CHECK(rc == 0 && strstr(out_s, "irm") && strstr(out_s, "mixture") && strstr(out_s, "GNSDR"));
}

/* The shipped configs/separator.ini is accepted unchanged by amt-train (every key read): one
 * step on the tiny render, data paths and run length overridden. */
static void test_shipped_config(void)
{{
    if (!rendered) SKIP("no tiny render (see test_render)");
    char cwd[400], args[1024];
    REQUIRE(getcwd(cwd, sizeof cwd));
    snprintf(args, sizeof args,
             "'%s/configs/separator.ini' --threads 1 -q --out ship --set train.data_dir=train --set train.epochs=1 "
             "--set train.steps_per_epoch=1 --set train.batch=2 --set data.repeat=1",   /* one folder */
             cwd);
    int rc = run("amt-train", args);
    CHECK_MSG(rc == 0, "amt-train configs/separator.ini exit %d: %s", rc, err_s);
    CHECK(exists("ship/last.h5"));
}}

static void test_bad_data(void)
{
    if (!tools_ok()) return;
    if (!rendered) SKIP("no tiny render (see test_render)");
    check_train_bad_dirs("tiny.ini", "Wavfile", "no .wav");
    CHECK_TOOL_ERROR(run("amt-train", "tiny.ini -q --out bad --set data.repeat=1,2"), 2, "data.repeat", NULL);
    if (exists("run/best.h5")) check_eval_bad_dirs("run/best.h5", 0);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    if (tool_setup("/tmp/amt_test_train_sep_XXXXXX")) return 1;
    RUN(test_render);
    RUN(test_train_and_eval);
    RUN(test_shipped_config);
    RUN(test_bad_data);
    tool_cleanup();
    return TEST_DONE();
}
