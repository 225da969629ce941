/* tests/test_train_classifier.c: the instrument classifier end to end through the tools
 * (from $AMT_BIN, default bin/): amt-synth renders a tiny IRMAS-layout set (11 training
 * clips of 3 s, one per class, plus its testing part), amt-train trains a tiny ConvNet for
 * 24 steps with every augmentation on and the float16 export, and amt-eval --model scores
 * it. Checks: the loss falls, best/last checkpoints, the log and the float16 export exist
 * and the export evaluates like best.h5; the same seed gives the same losses whether the
 * spectrogram cache is on or off; amt-eval prints accuracy, per-class recall, micro/macro
 * F1 and the confusion matrix (table and JSON), writes the per-clip CSV and the confusion
 * PNG; the shipped configs/classifier.ini is accepted unchanged (one tiny step); bad data
 * folders give one line naming the folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/picture.h"
#include "tests/test.h"
#include "tests/tool_run.h"

static char cwd[400];
static int rendered, trained;

static const char *TINY_INI =
    "[model]\nkind = classifier\nchannels = 8, 16\nconvs_per_block = 1\ndense = 32\ndropout_conv = 0\ndropout_dense = 0\n"
    "[features]\nn_mels = 32\n"
    "[optim]\nlr = 0.003\n"
    "[train]\nbatch = 8\nepochs = 4\nsteps_per_epoch = 6\nseed = 3\ndata_dir = train\nval_fraction = 0.2\n"
    "gain_db = 6\neq_db = 6\nshift_bands = 1\ncache_mb = 0\nexport_fp16 = run/model16.h5\n"
    "[infer]\nbatch = 4\n";

static void test_render(void)
{
    if (!tools_ok()) return;
    int rc = run("amt-synth", "irmas --out train --count 11 --seed 1 --threads 1 -q");
    CHECK_MSG(rc == 0, "amt-synth exit %d: %s", rc, err_s);
    REQUIRE(write_tmp("tiny.ini", TINY_INI) == 0);
    rendered = exists("train/IRMAS-TrainingData/pia") && exists("train/IRMAS-TrainingData/voi");
    CHECK(rendered);
}

static void test_train_and_eval(void)
{
    if (!rendered) SKIP("no tiny render (see test_render)");
    int rc = run("amt-train", "tiny.ini --threads 1 -q --out run");
    CHECK_MSG(rc == 0, "amt-train exit %d: %s", rc, err_s);
    CHECK(exists("run/best.h5") && exists("run/last.h5") && exists("run/log.csv") && exists("run/model16.h5"));
    double loss[8];
    int n = read_losses("run", "val_accuracy", loss, 8);
    REQUIRE(n == 4);
    CHECK_MSG(loss[3] < loss[0], "train loss %g (epoch 1) -> %g (epoch 4)", loss[0], loss[3]);
    trained = exists("run/best.h5");

    rc = run("amt-eval", "--model run/best.h5 --data train --split all -q --out clips.csv");
    CHECK_MSG(rc == 0, "amt-eval exit %d: %s", rc, err_s);
    CHECK(strstr(out_s, "accuracy") && strstr(out_s, "recall") && strstr(out_s, "micro") && strstr(out_s, "macro"));
    CHECK(strstr(out_s, "confusion (rows = true, columns = predicted)") && strstr(out_s, "multi-label"));
    char p[512], line[1024];
    snprintf(p, sizeof p, "%s/clips.csv", tmp);
    FILE *f = fopen(p, "r");
    REQUIRE(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) rows++;
    fclose(f);
    int nwav = 0;
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "find '%s/train' -name '*.wav' | wc -l", tmp);
        FILE *pp = popen(cmd, "r");
        if (pp) { if (fscanf(pp, "%d", &nwav) != 1) nwav = 0; pclose(pp); }
    }
    CHECK_MSG(nwav >= 11 && rows == nwav + 1, "%d CSV rows for %d clips", rows, nwav);
    snprintf(p, sizeof p, "%s/clips.confusion.png", tmp);
    amt_image im;
    if (amt_image_read_png(p, &im) == 0) {
        CHECK(im.w > 300 && im.h > 300);
        amt_image_free(&im);
    } else {
        CHECK_MSG(0, "confusion PNG %s not readable", p);
    }

    /* JSON: the same numbers; the float16 export scores like best.h5 (same best epoch) */
    rc = run("amt-eval", "--model run/best.h5 --data train --split all --json -q");
    CHECK_MSG(rc == 0, "amt-eval --json exit %d: %s", rc, err_s);
    double acc = json_num(out_s, "\"single_label\"", "\"accuracy\""), clips = json_num(out_s, NULL, "\"clips\"");
    double f1 = json_num(out_s, "\"multi_label\"", "\"micro_f1\"");
    CHECK(clips == nwav && acc >= 0 && acc <= 1 && f1 >= 0 && f1 <= 1);
    CHECK(strstr(out_s, "\"rows_true_cols_pred\"") && strstr(out_s, "\"recall\""));
    rc = run("amt-eval", "--model run/model16.h5 --data train --split all --json -q");
    CHECK_MSG(rc == 0, "amt-eval fp16 exit %d: %s", rc, err_s);
    double acc16 = json_num(out_s, "\"single_label\"", "\"accuracy\"");
    CHECK_MSG(fabs(acc16 - acc) <= 1.0 / 11 + 1e-9, "float16 export accuracy %g vs best.h5 %g", acc16, acc);
    /* the validation split exists and is scored */
    rc = run("amt-eval", "--model run/best.h5 --data train --split val -q");
    CHECK_MSG(rc == 0 && strstr(out_s, "split val"), "amt-eval --split val exit %d: %s", rc, err_s);

    /* deterministic: the same seed with the spectrogram cache on gives the same losses */
    rc = run("amt-train", "tiny.ini --threads 1 -q --out run2 --set train.cache_mb=64 --set train.export_fp16=run2/m16.h5");
    CHECK_MSG(rc == 0, "amt-train (cached) exit %d: %s", rc, err_s);
    double loss2[8];
    REQUIRE(read_losses("run2", "val_accuracy", loss2, 8) == 4);
    for (int i = 0; i < 4; i++) CHECK_MSG(loss2[i] == loss[i], "epoch %d loss %.17g vs %.17g", i + 1, loss2[i], loss[i]);
}

static void test_shipped_config(void)
{
    if (!rendered) SKIP("no tiny render (see test_render)");
    char args[1024];
    snprintf(args, sizeof args,
             "'%s/configs/classifier.ini' --threads 1 -q --out ship --set train.data_dir=train --set train.epochs=1 "
             "--set train.steps_per_epoch=1 --set train.batch=2",
             cwd);
    int rc = run("amt-train", args);
    CHECK_MSG(rc == 0, "amt-train configs/classifier.ini exit %d: %s", rc, err_s);
    CHECK(exists("ship/best.h5"));
}

static void test_bad_data(void)
{
    if (!tools_ok()) return;
    if (!rendered) SKIP("no tiny render (see test_render)");
    check_train_bad_dirs("tiny.ini", NULL, "no IRMAS files");
    CHECK_TOOL_ERROR(run("amt-train", "tiny.ini -q --out bad --set train.data_dir="), 2, "train.data_dir", NULL);
    CHECK_TOOL_ERROR(run("amt-train", "tiny.ini -q --out bad --set train.eq_db=-1"), 2, "train.eq_db", NULL);
    if (trained) check_eval_bad_dirs("run/best.h5", 1);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    if (!getcwd(cwd, sizeof cwd) || tool_setup("/tmp/amt_test_train_cls_XXXXXX")) return 1;
    RUN(test_render);
    RUN(test_train_and_eval);
    RUN(test_shipped_config);
    RUN(test_bad_data);
    tool_cleanup();
    return TEST_DONE();
}
