/* tests/test_train_transcriber.c: the transcriber end to end through the tools (from
 * $AMT_BIN, default bin/): amt-synth renders a tiny MAPS-layout set (8 files of at most
 * 3 s), amt-train trains a tiny transcriber for 3 epochs of 8 steps, and amt-eval --model
 * scores it. Checks: the loss falls, best/last checkpoints, the log and the float16 export
 * exist (the export holds the tuned thresholds), amt-eval prints frame / note /
 * note-with-offset scores (table, JSON, per-file CSV), bad data folders and keys give
 * exit 1 or 2 with one line naming the problem. */
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
    "[model]\nkind = transcriber\nchannels = 4, 4, 8\ndense = 16\nkt = 3\n"
    "dropout_conv = 0\ndropout_dense = 0\n"
    "[optim]\nlr = 0.01\n"
    "[train]\nbatch = 4\nchunk_frames = 32\nepochs = 3\nsteps_per_epoch = 8\ndata_dir = train\n"
    "split = layout\nsubsets = all\nval_fraction = 0.25\nval_max_seconds = 100\ngain_db = 3\ntilt_db = 3\ncache_mb = 64\n"
    "export_fp16 = ship.h5\n"
    "[infer]\nblock_frames = 64\n";

static void test_render(void)
{
    if (!tools_ok()) return;
    int rc = run("amt-synth", "maps --out train --count 8 --max-seconds 3 --seed 1 --threads 1 -q");
    CHECK_MSG(rc == 0, "amt-synth exit %d: %s", rc, err_s);
    REQUIRE(write_tmp("tiny.ini", TINY_INI) == 0);
    rendered = rc == 0;
}

static void test_train_and_eval(void)
{
    if (!rendered) SKIP("no tiny render (see test_render)");
    int rc = run("amt-train", "tiny.ini --threads 1 -q --out run");
    CHECK_MSG(rc == 0, "amt-train exit %d: %s", rc, err_s);
    CHECK(exists("run/best.h5") && exists("run/last.h5") && exists("run/log.csv") && exists("ship.h5"));
    double loss[8];
    int n = read_losses("run", "onset_threshold", loss, 8);
    REQUIRE(n == 3);
    CHECK_MSG(loss[2] < loss[0], "train loss %g (epoch 1) -> %g (epoch 3)", loss[0], loss[2]);

    /* deterministic: the same seed and thread count give the same losses */
    rc = run("amt-train", "tiny.ini --threads 1 -q --out run2 --set train.epochs=1 --set train.export_fp16=ship2.h5");
    CHECK_MSG(rc == 0, "amt-train exit %d: %s", rc, err_s);
    double again = NAN;
    REQUIRE(read_losses("run2", "val_note_f1", &again, 1) == 1);
    CHECK_MSG(again == loss[0], "epoch 1 loss %.9g, again %.9g", loss[0], again);

    /* JSON summary and the per-file CSV (header + files + overall) */
    rc = run("amt-eval", "--model ship.h5 --data train --split all --json -q --out files.csv");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    double files = json_num(out_s, NULL, "\"files\""), nref = json_num(out_s, NULL, "\"n_ref\"");
    double ff1 = json_num(out_s, "\"frame\"", "\"f1\""), nf1 = json_num(out_s, "\"note\"", "\"f1\"");
    double of1 = json_num(out_s, "\"note_offset\"", "\"f1\""), thr = json_num(out_s, NULL, "\"onset_threshold\"");
    CHECK_MSG(files == 8 && nref > 0, "%s", out_s);
    CHECK(ff1 >= 0 && ff1 <= 1 && nf1 >= 0 && nf1 <= 1 && of1 >= 0 && of1 <= nf1 + 1e-9);
    /* the tuned onset threshold is on the tuning grid 0.01, ..., 0.04, 0.05, 0.10, ..., 0.95 */
    int on_grid = (thr <= 0.04 + 1e-6 && fabs(thr * 100 - round(thr * 100)) < 0.01) ||
                  (thr >= 0.05 - 1e-6 && fabs(thr * 20 - round(thr * 20)) < 0.01);
    CHECK_MSG(thr >= 0.01 - 1e-6 && thr <= 0.95 + 1e-6 && on_grid, "onset threshold %g", thr);
    char p[512], line[2048];
    snprintf(p, sizeof p, "%s/files.csv", tmp);
    FILE *f = fopen(p, "r");
    REQUIRE(f);
    int rows = 0, overall = 0;
    while (fgets(line, sizeof line, f)) { rows++; overall += !strncmp(line, "overall,", 8); }
    fclose(f);
    CHECK(rows == 10 && overall == 1);
    /* the table names the three metrics; the val split of the run is a non-empty subset */
    rc = run("amt-eval", "--model run/best.h5 --data train --split val");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    CHECK(strstr(out_s, "frame F1") && strstr(out_s, "note F1") && strstr(out_s, "note-with-offset F1"));
    CHECK(strstr(out_s, "2 files") != NULL);   /* round(8 x 0.25) held out */

    /* --tune: thresholds tuned on the split, the model written with them; scoring the
     * written model on the same split gives the same scores and thresholds */
    rc = run("amt-eval", "--model ship.h5 --data train --split all --tune tuned.h5 --json -q");
    CHECK_MSG(rc == 0 && exists("tuned.h5"), "amt-eval --tune exit %d: %s", rc, err_s);
    static char first[sizeof out_s];
    snprintf(first, sizeof first, "%s", out_s);
    rc = run("amt-eval", "--model tuned.h5 --data train --split all --json -q");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    const char *keys[] = {"\"onset_threshold\"", "\"frame_threshold\"", "\"sustain_threshold\"", "\"n_est\""};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(json_num(first, NULL, keys[i]) == json_num(out_s, NULL, keys[i]), "%s differs", keys[i]);
    CHECK(json_num(first, "\"note\"", "\"f1\"") == json_num(out_s, "\"note\"", "\"f1\""));
    CHECK(json_num(first, "\"frame\"", "\"f1\"") == json_num(out_s, "\"frame\"", "\"f1\""));
    /* float16 in, float16 out: the same size as the export */
    struct stat a, b;
    snprintf(p, sizeof p, "%s/ship.h5", tmp);
    int sa = stat(p, &a);
    snprintf(p, sizeof p, "%s/tuned.h5", tmp);
    CHECK(sa == 0 && stat(p, &b) == 0 && labs((long)a.st_size - (long)b.st_size) < 16384);
    /* decoding knobs override the model's thresholds */
    rc = run("amt-eval", "--model ship.h5 --data train --split all --json -q --onset-threshold 0.3 "
                         "--frame-threshold 0.4 --sustain-threshold 0.2 --gap-ms 0 --min-note-ms 50");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    CHECK(fabs(json_num(out_s, NULL, "\"onset_threshold\"") - 0.3) < 1e-4);
    CHECK(fabs(json_num(out_s, NULL, "\"frame_threshold\"") - 0.4) < 1e-4);
    CHECK(fabs(json_num(out_s, NULL, "\"sustain_threshold\"") - 0.2) < 1e-4);
    /* a pitch range keeps only the notes inside it */
    double all_est = json_num(out_s, NULL, "\"n_est\"");
    rc = run("amt-eval", "--model ship.h5 --data train --split all --json -q --onset-threshold 0.3 "
                         "--frame-threshold 0.4 --sustain-threshold 0.2 --gap-ms 0 --min-note-ms 50 --min-pitch 60 "
                         "--max-pitch 64");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    CHECK_MSG(json_num(out_s, NULL, "\"n_est\"") < all_est, "%g of %g notes in 60..64",
              json_num(out_s, NULL, "\"n_est\""), all_est);
    /* bad knobs and --tune misuse: usage errors, one line */
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --frame-threshold 0"), 2, "frame-threshold", NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --sustain-threshold 2"), 2, "sustain-threshold", NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --frame-threshold 0.3 --sustain-threshold 0.5"), 2,
                     "sustain-threshold", NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --gap-ms -3"), 2, "gap-ms", NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --min-pitch 80 --max-pitch 60"), 2, "max-pitch",
                     NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --tune t2.h5 --frame-threshold 0.5"), 2, "--tune",
                     NULL);
    CHECK_TOOL_ERROR(run("amt-eval", "--model ship.h5 --data train --tune ./ship.h5"), 2, "overwrite", NULL);
    CHECK(!exists("t2.h5"));
}

/* The shipped configs/transcriber.ini is accepted unchanged by amt-train (every key read): one
 * step on the tiny render, data paths and run length overridden. */
static void test_shipped_config(void)
{{
    if (!rendered) SKIP("no tiny render (see test_render)");
    char cwd[400], args[1024];
    REQUIRE(getcwd(cwd, sizeof cwd));
    snprintf(args, sizeof args,
             "'%s/configs/transcriber.ini' --threads 1 -q --out ship --set train.data_dir=train --set train.epochs=1 "
             "--set train.steps_per_epoch=1 --set train.batch=2",
             cwd);
    int rc = run("amt-train", args);
    CHECK_MSG(rc == 0, "amt-train configs/transcriber.ini exit %d: %s", rc, err_s);
    CHECK(exists("ship/last.h5"));
}}

static void test_bad_data(void)
{
    if (!tools_ok()) return;
    if (!rendered) SKIP("no tiny render (see test_render)");
    check_train_bad_dirs("tiny.ini", NULL, NULL);
    CHECK_TOOL_ERROR(run("amt-train", "tiny.ini -q --out bad --set train.subsets=isol,bogus"), 2, "train.subsets", "bogus");
    CHECK_TOOL_ERROR(run("amt-train", "tiny.ini -q --out bad --set train.tilt_db=-1"), 2, "train.tilt_db", NULL);
    if (exists("run/best.h5")) check_eval_bad_dirs("run/best.h5", 1);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    if (tool_setup("/tmp/amt_test_train_tr_XXXXXX")) return 1;
    RUN(test_render);
    RUN(test_train_and_eval);
    RUN(test_shipped_config);
    RUN(test_bad_data);
    tool_cleanup();
    return TEST_DONE();
}
