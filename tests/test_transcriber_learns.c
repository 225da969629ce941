/* tests/test_transcriber_learns.c: the piano transcriber really learns (issue #5). A tiny
 * MAPS-layout ISOL set - one octave of single notes (LEARN_PITCHES pitches from C4) at two
 * velocities, each as an ISOL "NO" file (one note) and a "RE" file (three repeats): 48
 * files, 96 notes, about 90 s of audio - is rendered with the library's fluidsynth
 * renderer and the default TimGM6mb soundfont into a temporary directory. A small
 * transcriber (the same model code; channels 8, 8, 16, dense 64, kt 1, batch 8 x 50 frames)
 * trains for LEARN_STEPS Adam steps through amt-train's code path (amt_train_with_kind,
 * "transcriber" kind); its last.h5 then transcribes the same files the way amt-eval --model
 * does (features, amt-infer's block runner, decoding thresholds tuned on these files, note
 * decoding) and note-onset F1 (mir_eval conventions, 50 ms) must exceed LEARN_MIN_F1. The
 * untrained network (0 steps: the same initialisation) scored the same way must stay below
 * LEARN_UNTRAINED_MAX_F1, so the check can fail. One thread and fixed seeds: the same
 * numbers on every run (training seeds 1, 2, 3 gave F1 1.000, 1.000, 0.979). Skips when the
 * soundfont is not installed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/test.h"
#include "tests/tool_run.h"

#include "app/maps_transcriber.h"
#include "core/config.h"
#include "core/error.h"
#include "core/threads.h"
#include "datasets/render.h"
#include "datasets/synth.h"
#include "models/transcriber.h"
#include "train/kinds.h"
#include "train/registry.h"

#define LEARN_LOWEST 60          /* MIDI pitch of the lowest note (C4) */
#define LEARN_PITCHES 12         /* pitches LEARN_LOWEST .. + 11 (one octave) */
#define LEARN_RATE 44100         /* MAPS audio rate (Hz) */
#define LEARN_LEAD_S 0.3         /* silence before the first onset (s) */
#define LEARN_NO_S 0.5           /* ISOL NO: one note of this length (s) */
#define LEARN_RE_N 3             /* ISOL RE: this many repeats ... */
#define LEARN_RE_IOI_S 0.3       /* ... this far apart (s) ... */
#define LEARN_RE_DUR_S 0.2       /* ... each this long (s) */
#define LEARN_TAIL_S 0.4         /* audio after the last offset (s) */
#define LEARN_STEPS 300          /* Adam steps (batch 8 x 50 frames) */
#define LEARN_MIN_F1 0.9         /* the claim: note-onset F1 on its own notes */
#define LEARN_UNTRAINED_MAX_F1 0.5   /* the untrained network must stay below this */

static const int VELS[2] = {40, 100};           /* MAPS loudness P and F */
static const char LOUD[2] = {'P', 'F'};

/* The small transcriber (train.data_dir and train.steps_per_epoch are set by the test). */
static const char *CONFIG =
    "[model]\nkind = transcriber\nchannels = 8, 8, 16\ndense = 64\nkt = 1\n"
    "dropout_conv = 0\ndropout_dense = 0\n"
    "[loss]\nonset_weight = 3\nonset_frames = 2\n"
    "[optim]\nlr = 0.01\n"
    "[train]\nbatch = 8\nchunk_frames = 50\nepochs = 1\nseed = 1\n"
    "split = layout\nsubsets = isol\nval_fraction = 0\ngain_db = 0\ncache_mb = 64\n"
    "[infer]\nblock_frames = 128\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int push_note(amt_notes *ns, double on, double off, int pitch, int vel)
{
    amt_note n = amt_note_make(on, off, pitch);
    n.velocity = vel;
    n.program = 0;
    return amt_notes_push(ns, &n);
}

/* Renders one ISOL file (type "NO" or "RE") of pitch at loudness index lv into
 * root/<piano>/ISOL/<type>/MAPS_ISOL_<type>_<L>_S0_M<pitch>_<piano>.{wav,txt}. */
static int render_file(amt_renderer *r, const char *root, const char *piano, const char *type, int pitch, int lv)
{
    amt_notes ns;
    amt_notes_init(&ns);
    int rc = 0;
    double end = LEARN_LEAD_S;
    if (!strcmp(type, "NO")) {
        rc = push_note(&ns, LEARN_LEAD_S, LEARN_LEAD_S + LEARN_NO_S, pitch, VELS[lv]);
        end += LEARN_NO_S;
    } else {
        for (int i = 0; i < LEARN_RE_N && !rc; i++)
            rc = push_note(&ns, LEARN_LEAD_S + i * LEARN_RE_IOI_S, LEARN_LEAD_S + i * LEARN_RE_IOI_S + LEARN_RE_DUR_S,
                           pitch, VELS[lv]);
        end += (LEARN_RE_N - 1) * LEARN_RE_IOI_S + LEARN_RE_DUR_S;
    }
    amt_render_opts o;
    amt_render_opts_default(&o);
    o.length_s = end + LEARN_TAIL_S;
    amt_renderer_reset(r);
    float *pcm = NULL;
    long frames = 0;
    if (!rc) rc = amt_render(r, &ns, NULL, 0, &o, &pcm, &frames);
    char base[1024], path[1100];
    snprintf(base, sizeof base, "%s/%s/ISOL/%s/MAPS_ISOL_%s_%c_S0_M%d_%s", root, piano, type, type, LOUD[lv], pitch, piano);
    if (!rc) { snprintf(path, sizeof path, "%s.wav", base); rc = amt_synth_write_wav(path, pcm, frames, LEARN_RATE); }
    if (!rc) { snprintf(path, sizeof path, "%s.txt", base); rc = amt_notes_write_tsv(path, &ns); }
    free(pcm);
    amt_notes_free(&ns);
    return rc;
}

/* The tiny ISOL set: every pitch x loudness as a NO and a RE file. */
static int render_set(const char *font, const char *root, int *nfiles)
{
    const char *fonts[1] = {font};
    amt_renderer *r = amt_renderer_new(fonts, 1, LEARN_RATE);
    if (!r) return amt_errcode() ? amt_errcode() : AMT_EIO;
    char piano[64];
    amt_synth_maps_piano_name(font, piano, sizeof piano);
    int rc = 0;
    *nfiles = 0;
    for (int p = 0; p < LEARN_PITCHES && !rc; p++)
        for (int lv = 0; lv < 2 && !rc; lv++)
            for (int t = 0; t < 2 && !rc; t++, ++*nfiles)
                rc = render_file(r, root, piano, t ? "RE" : "NO", LEARN_LOWEST + p, lv);
    amt_renderer_free(r);
    return rc;
}

/* The rendered files as the evaluation sees them: reference notes and features. */
typedef struct learn_set {
    amt_maps ds;
    int *train, *val, *test, ntrain, nval, ntest;
    amt_notes *notes;
    float **feats;
    amt_tr_piece *pieces;
} learn_set;

static void set_free(learn_set *ls)
{
    for (int i = 0; i < ls->ntrain && ls->notes && ls->feats; i++) { amt_notes_free(&ls->notes[i]); free(ls->feats[i]); }
    free(ls->feats); free(ls->notes); free(ls->pieces);
    free(ls->train); free(ls->val); free(ls->test);
    amt_maps_close(&ls->ds);
}

/* Indexes every ISOL file under root (all training files of the layout split: the ones
 * trained on) with its notes and its features for cfg, as amt-eval --model reads them. */
static int set_load(const char *root, const amt_transcriber_config *cfg, learn_set *ls)
{
    memset(ls, 0, sizeof *ls);
    int rc = amt_tr_data_open(root, AMT_TR_SPLIT_LAYOUT, AMT_MAPS_ISOL, 0, 0, 1, &ls->ds, &ls->train, &ls->ntrain,
                              &ls->val, &ls->nval, &ls->test, &ls->ntest);
    if (rc) return rc;
    size_t n = (size_t)ls->ntrain + 1;
    ls->pieces = calloc(n, sizeof *ls->pieces);
    ls->notes = calloc(n, sizeof *ls->notes);
    ls->feats = calloc(n, sizeof *ls->feats);
    if (!ls->pieces || !ls->notes || !ls->feats) rc = amt_error(AMT_ENOMEM, "out of memory");
    for (int i = 0; i < ls->ntrain && !rc; i++) {
        const amt_maps_file *f = &ls->ds.files[ls->train[i]];
        amt_notes_init(&ls->notes[i]);
        if ((rc = amt_tr_file_notes(f, &ls->notes[i])) ||
            (rc = amt_tr_file_features(cfg, f->wav, &ls->feats[i], &ls->pieces[i].n_frames)))
            break;
        ls->pieces[i].feat = ls->feats[i];
        ls->pieces[i].ref = &ls->notes[i];
    }
    if (rc) set_free(ls);
    return rc;
}

/* Scores of model m on the set: whole-file block inference (amt-infer's runner), the
 * decoding thresholds tuned on the set, note decoding, mir_eval note metrics. */
static int set_score(amt_transcriber *m, const learn_set *ls, amt_tr_scores *s)
{
    amt_tr_infer *runner = amt_tr_infer_new(m, 0);
    if (!runner) return amt_errcode() ? amt_errcode() : AMT_ENOMEM;
    int rc = amt_transcriber_evaluate(m, runner, ls->pieces, ls->ntrain, 1, s);
    amt_tr_infer_free(runner);
    return rc;
}

/* Trains the small transcriber on root for LEARN_STEPS steps through amt-train's code
 * path (data and run length given as --set overrides); the checkpoint is out/last.h5. */
static int train_small(const char *root, const char *out, amt_train_result *res)
{
    amt_config *cfg = amt_config_from_string(CONFIG, "learn.ini");
    if (!cfg) return amt_errcode() ? amt_errcode() : AMT_ENOMEM;
    char set[600];
    snprintf(set, sizeof set, "train.data_dir=%s", root);
    int rc = amt_config_set(cfg, set);
    snprintf(set, sizeof set, "train.steps_per_epoch=%d", LEARN_STEPS);
    if (!rc) rc = amt_config_set(cfg, set);
    amt_train_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = out;
    if (!rc) rc = amt_train_with_kind(cfg, &amt_transcriber_kind, &o, res);
    amt_config_free(cfg);
    return rc;
}

static void test_learns_single_notes(void)
{
    const char *font = AMT_SF_TIMGM6MB;
    if (access(font, R_OK) != 0) SKIP("soundfont %s not installed", font);
    amt_set_threads(1);   /* the same numbers on every machine */
    double w0 = now_s(), c0 = cpu_s();
    char root[512], out[512], ckpt[600];
    snprintf(root, sizeof root, "%s/isol", tmp);
    snprintf(out, sizeof out, "%s/run", tmp);
    snprintf(ckpt, sizeof ckpt, "%s/%s", out, AMT_TRAIN_LAST);
    int nfiles = 0;
    CHECK_OK(render_set(font, root, &nfiles));
    double c_render = cpu_s();
    amt_train_result res;
    CHECK_OK(train_small(root, out, &res));
    double c_train = cpu_s();

    amt_transcriber m, m0;
    CHECK_OK(amt_transcriber_load(ckpt, &m));
    learn_set ls;
    int rc = set_load(root, &m.cfg, &ls);
    if (rc) amt_transcriber_free(&m);
    CHECK_OK(rc);
    amt_tr_scores s, s0;
    rc = set_score(&m, &ls, &s);
    double c_eval = cpu_s();
    /* the same network untrained (0 steps), scored the same way */
    if (!rc && !(rc = amt_transcriber_init(&m0, &m.cfg, 0))) {
        rc = set_score(&m0, &ls, &s0);
        amt_transcriber_free(&m0);
    }
    amt_transcriber_free(&m);
    int nscored = ls.ntrain;
    set_free(&ls);
    CHECK_OK(rc);

    fprintf(stderr,
            "  learns: %d files, %d notes, %lld steps (loss %.4f): note-onset F1 %.3f (P %.3f R %.3f, thresholds "
            "%.2f/%.2f), with offsets %.3f, frame F1 %.3f; untrained: note-onset F1 %.3f; CPU s: render %.1f, "
            "train %.1f, evaluate %.1f, untrained %.1f; wall %.1f s\n",
            nscored, s.n_ref, (long long)res.step, res.last_loss, s.note_f1, s.note_p, s.note_r, s.onset_threshold,
            s.frame_threshold, s.offset_f1, s.frame_f1, s0.note_f1, c_render - c0, c_train - c_render,
            c_eval - c_train, cpu_s() - c_eval, now_s() - w0);
    CHECK(nscored == nfiles && s.n_ref == LEARN_PITCHES * 2 * (1 + LEARN_RE_N));
    CHECK(res.step == LEARN_STEPS);
    CHECK_MSG(s.note_f1 > LEARN_MIN_F1, "note-onset F1 %.3f after %d steps", s.note_f1, LEARN_STEPS);
    CHECK_MSG(s0.note_f1 < LEARN_UNTRAINED_MAX_F1, "untrained note-onset F1 %.3f", s0.note_f1);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    if (tool_setup("/tmp/amt_test_learns_XXXXXX")) return 1;
    RUN(test_learns_single_notes);
    tool_cleanup();
    return TEST_DONE();
}
