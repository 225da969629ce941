/* tests/test_datasets.c: MIR-1K, MAPS and IRMAS loaders, splits, validation, streaming. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "audio/notes.h"
#include "core/error.h"
#include "datasets/featcache.h"
#include "datasets/filelist.h"
#include "datasets/irmas.h"
#include "datasets/maps.h"
#include "datasets/mir1k.h"
#include "datasets/render.h"
#include "datasets/stream.h"
#include "datasets/synth.h"
#include "tests/test.h"

#define REAL_MIR1K "../shared/data/mir1k-train/MIR-1K"

static char g_tmp[256];

static const char *tmp(const char *tag)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, tag);
    return buf;
}

static void touch(const char *path, const char *content)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (s) { *s = 0; amt_synth_mkdirs(dir); }
    FILE *f = fopen(path, "w");
    if (f) { if (content) fputs(content, f); fclose(f); }
}

static void write_tone(const char *path, int channels, int rate, double secs, double hz)
{
    long n = (long)(secs * rate);
    float *x = malloc((size_t)n * channels * sizeof *x);
    for (long i = 0; i < n; i++)
        for (int c = 0; c < channels; c++) x[i * channels + c] = (float)(0.1 * (c + 1) * sin(2 * M_PI * hz * (c + 1) * i / rate));
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (s) { *s = 0; amt_synth_mkdirs(dir); }
    amt_audio_write_wav(path, x, n, channels, rate, AMT_WAV_PCM16);
    free(x);
}

/* ---------------- MIR-1K ---------------- */
static void test_mir1k_real_clips(void)
{
    if (access(REAL_MIR1K "/Wavfile", R_OK) != 0) SKIP("%s absent", REAL_MIR1K);
    amt_mir1k ds;
    amt_mir1k_opts o;
    amt_mir1k_opts_default(&o);
    CHECK_OK(amt_mir1k_open(REAL_MIR1K, &o, &ds));
    CHECK(ds.n == 21);
    int *tr, ntr, *te, nte;
    CHECK_OK(amt_mir1k_split(&ds, 1, &tr, &ntr));
    CHECK_OK(amt_mir1k_split(&ds, 0, &te, &nte));
    CHECK(ntr == 21 && nte == 0);   /* all are abjones/amy: the protocol's training singers */
    free(tr); free(te);
    for (int i = 0; i < ds.n; i++) {
        CHECK_OK(amt_check_audio(ds.clips[i].wav, 2, 16000, NULL));
        float *mix, *mus, *voc;
        long n;
        CHECK_OK(amt_mir1k_read(&ds, i, &mix, &mus, &voc, &n));
        CHECK(n == ds.clips[i].frames);
        CHECK(n > 3 * 16000 && n < 14 * 16000);
        double emus = 0, evoc = 0, err = 0;
        for (long k = 0; k < n; k++) { emus += mus[k] * mus[k]; evoc += voc[k] * voc[k]; err += fabs(mix[k] - mus[k] - voc[k]); }
        CHECK(emus > 0 && evoc > 0 && err < 1e-3);
        const char *subs[3][2] = {{"PitchLabel", ".pv"}, {"UnvoicedFrameLabel", ".unv"}, {"vocal-nonvocalLabel", ".vocal"}};
        for (int k = 0; k < 3; k++) {
            char lp[2048];
            long lines;
            amt_mir1k_label_path(&ds, i, subs[k][0], subs[k][1], lp, sizeof lp);
            CHECK_OK(amt_mir1k_label_lines(lp, &lines));
            CHECK_MSG(lines == amt_mir1k_label_frames(n), "%s: %ld lines, formula %ld for %ld samples", lp, lines, amt_mir1k_label_frames(n), n);
        }
        free(mix); free(mus); free(voc);
    }
    amt_mir1k_close(&ds);
}

static void test_mir1k_splits_fake_tree(void)
{
    const char *names[] = {"abjones_1_01", "abjones_1_02", "amy_3_05", "annar_1_01", "ariel_2_03", "bobon_4_01",
                           "geniusturtle_1_07", "Kenshin_3_02", "yifen_5_09", "titon_2_01"};
    const char *root = tmp("mir_fake");
    char p[1024];
    for (int i = 0; i < 10; i++) { snprintf(p, sizeof p, "%s/Wavfile/%s.wav", root, names[i]); touch(p, ""); }
    amt_mir1k_opts o;
    amt_mir1k_opts_default(&o);
    o.v.check_audio = 0;
    amt_mir1k ds;
    CHECK_OK(amt_mir1k_open(root, &o, &ds));
    REQUIRE(ds.n == 10);
    int ntrain = 0;
    for (int i = 0; i < ds.n; i++) {
        int expect = !strcmp(ds.clips[i].singer, "abjones") || !strcmp(ds.clips[i].singer, "amy");
        CHECK(ds.clips[i].train == expect);
        ntrain += ds.clips[i].train;
    }
    CHECK(ntrain == 3);
    /* names parsed */
    int found = 0;
    for (int i = 0; i < ds.n; i++)
        if (!strcmp(ds.clips[i].singer, "geniusturtle")) { found = 1; CHECK(ds.clips[i].song == 1 && ds.clips[i].clip == 7); }
    CHECK(found);
    amt_mir1k_close(&ds);
    /* random split: deterministic by seed, 20 % test */
    o.split = AMT_SPLIT_RANDOM; o.seed = 7;
    amt_mir1k a, b, c;
    CHECK_OK(amt_mir1k_open(root, &o, &a));
    CHECK_OK(amt_mir1k_open(root, &o, &b));
    o.seed = 8;
    CHECK_OK(amt_mir1k_open(root, &o, &c));
    int same = 1, diff = 0, nt = 0;
    for (int i = 0; i < a.n; i++) { same &= a.clips[i].train == b.clips[i].train; diff |= a.clips[i].train != c.clips[i].train; nt += !a.clips[i].train; }
    CHECK(same && nt == 2);
    (void)diff;
    amt_mir1k_close(&a); amt_mir1k_close(&b); amt_mir1k_close(&c);
    /* a bad name */
    snprintf(p, sizeof p, "%s/Wavfile/nonsense.wav", root);
    touch(p, "");
    o.split = AMT_SPLIT_PROTOCOL;
    CHECK(amt_mir1k_open(root, &o, &ds) == AMT_EFORMAT && strstr(amt_errmsg(), "nonsense.wav"));
    o.v.skip_bad = 1;
    CHECK_OK(amt_mir1k_open(root, &o, &ds));
    CHECK(ds.n == 10 && ds.skipped == 1 && strstr(ds.warning, "nonsense.wav"));
    amt_mir1k_close(&ds);
}

static void test_mir1k_bad_audio(void)
{
    const char *root = tmp("mir_bad");
    char p[1024], broken[1024], mono[1024];
    snprintf(p, sizeof p, "%s/Wavfile/abjones_1_01.wav", root);
    write_tone(p, 2, 16000, 1.0, 220);
    snprintf(broken, sizeof broken, "%s/Wavfile/amy_1_01.wav", root);
    touch(broken, "RIFF\x10\x00\x00\x00WAVEfmt garbage that is not a wav file");
    amt_mir1k_opts o;
    amt_mir1k_opts_default(&o);
    amt_mir1k ds;
    int rc = amt_mir1k_open(root, &o, &ds);
    CHECK_MSG(rc != 0 && strstr(amt_errmsg(), "amy_1_01.wav"), "rc %d: %s", rc, amt_errmsg());
    o.v.skip_bad = 1;
    CHECK_OK(amt_mir1k_open(root, &o, &ds));
    CHECK(ds.n == 1 && ds.skipped == 1);
    amt_mir1k_close(&ds);
    unlink(broken);
    /* mono where stereo is required */
    snprintf(mono, sizeof mono, "%s/Wavfile/annar_2_01.wav", root);
    write_tone(mono, 1, 16000, 1.0, 220);
    o.v.skip_bad = 0;
    rc = amt_mir1k_open(root, &o, &ds);
    CHECK_MSG(rc == AMT_EFORMAT && strstr(amt_errmsg(), "annar_2_01.wav") && strstr(amt_errmsg(), "1 channel, expected 2"), "%s", amt_errmsg());
    /* also caught at read time when not validated at open */
    o.v.check_audio = 0;
    CHECK_OK(amt_mir1k_open(root, &o, &ds));
    int k = ds.clips[0].wav && strstr(ds.clips[0].wav, "annar") ? 0 : 1;
    float *mix;
    long n;
    rc = amt_mir1k_read(&ds, k, &mix, NULL, NULL, &n);
    CHECK_MSG(rc == AMT_EFORMAT && strstr(amt_errmsg(), "annar_2_01.wav"), "%s", amt_errmsg());
    amt_mir1k_close(&ds);
}

/* ---------------- MAPS ---------------- */
static void test_maps_sigtia_fake_tree(void)
{
    const char *root = tmp("maps_fake");
    const char *files[] = {
        "AkPnBcht/MUS/MAPS_MUS-alb_se3_AkPnBcht", "AkPnBcht/ISOL/NO/MAPS_ISOL_NO_F_S0_M23_AkPnBcht",
        "SptkBGCl/MUS/MAPS_MUS-chpn_op25_e4_SptkBGCl", "StbgTGd2/RAND/P2/MAPS_RAND_P2_M_I60-68_S0_n10_StbgTGd2",
        "ENSTDkCl/MUS/MAPS_MUS-bk_xmas1_ENSTDkCl", "ENSTDkCl/ISOL/NO/MAPS_ISOL_NO_M_S1_M60_ENSTDkCl",
        "ENSTDkAm/MUS/MAPS_MUS-chpn-p19_ENSTDkAm", "ENSTDkAm/UCHO/I60-68/MAPS_UCHO_C0-4-7_I60-68_S0_n13_ENSTDkAm",
    };
    const int NF = 8;
    char p[1024];
    for (int i = 0; i < NF; i++) {
        snprintf(p, sizeof p, "%s/%s.wav", root, files[i]); touch(p, "");
        snprintf(p, sizeof p, "%s/%s.txt", root, files[i]); touch(p, "OnsetTime\tOffsetTime\tMidiPitch\n0.5\t1.0\t60\n");
    }
    amt_maps_opts o;
    amt_maps_opts_default(&o);
    o.v.check_audio = 0;
    amt_maps ds;
    CHECK_OK(amt_maps_open(root, &o, &ds));
    REQUIRE(ds.n == NF);
    int ntr = 0, nte = 0, nun = 0;
    for (int i = 0; i < ds.n; i++) {
        const amt_maps_file *f = &ds.files[i];
        int enst = !strncmp(f->piano, "ENSTDk", 6);
        if (f->split == AMT_MAPS_TEST) { nte++; CHECK(enst && f->subset == AMT_MAPS_MUS); }
        else if (f->split == AMT_MAPS_TRAIN) { ntr++; CHECK(!enst && f->subset == AMT_MAPS_MUS); }
        else nun++;
    }
    CHECK(ntr == 2 && nte == 2 && nun == 4);
    amt_maps_close(&ds);
    o.train_subsets = AMT_MAPS_ALL;
    CHECK_OK(amt_maps_open(root, &o, &ds));
    ntr = 0;
    for (int i = 0; i < ds.n; i++) ntr += ds.files[i].split == AMT_MAPS_TRAIN;
    CHECK(ntr == 4);
    amt_maps_close(&ds);
    /* malformed .txt line: error names the file and the line */
    snprintf(p, sizeof p, "%s/%s.txt", root, files[3]);
    touch(p, "OnsetTime\tOffsetTime\tMidiPitch\n0.5\t1.0\t60\n0.7\tabc\t61\n");
    int rc = amt_maps_open(root, &o, &ds);
    CHECK_MSG(rc != 0 && strstr(amt_errmsg(), "MAPS_RAND_P2_M_I60-68_S0_n10_StbgTGd2.txt") && strstr(amt_errmsg(), ":3"), "%s", amt_errmsg());
    o.v.skip_bad = 1;
    CHECK_OK(amt_maps_open(root, &o, &ds));
    CHECK(ds.n == NF - 1 && ds.skipped == 1 && strstr(ds.warning, "StbgTGd2.txt:3"));
    amt_maps_close(&ds);
    /* a .wav without its .txt */
    snprintf(p, sizeof p, "%s/%s.txt", root, files[3]);
    unlink(p);
    o.v.skip_bad = 0;
    rc = amt_maps_open(root, &o, &ds);
    CHECK_MSG(rc != 0 && strstr(amt_errmsg(), "MAPS_RAND_P2_M_I60-68_S0_n10_StbgTGd2.wav") && strstr(amt_errmsg(), "missing"), "%s", amt_errmsg());
}

static void test_maps_targets(void)
{
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note a = amt_note_make(0.10, 0.35, 60), b = amt_note_make(0.203, 0.207, 21), c = amt_note_make(0.5, 0.6, 108);
    amt_notes_push(&ns, &a); amt_notes_push(&ns, &b); amt_notes_push(&ns, &c);
    float roll[60 * 88], on[60 * 88];
    amt_maps_targets(&ns, 100.0, 60, roll, on);
    int k60 = 60 - 21;
    CHECK(on[10 * 88 + k60] == 1 && on[11 * 88 + k60] == 0);
    for (int f = 0; f < 60; f++) CHECK(roll[f * 88 + k60] == (f >= 10 && f < 35 ? 1 : 0));
    CHECK(roll[20 * 88 + 0] == 1 && on[20 * 88 + 0] == 1);   /* a note shorter than a frame keeps its onset frame */
    CHECK(roll[50 * 88 + 87] == 1 && roll[59 * 88 + 87] == 1);
    double s = 0;
    for (int i = 0; i < 60 * 88; i++) s += on[i];
    CHECK(s == 3);
    amt_notes_free(&ns);
}

/* ---------------- IRMAS ---------------- */
static void test_irmas_fake_tree(void)
{
    const char *root = tmp("irmas_fake");
    char p[1024];
    const char *train[] = {"cla/[cla][cla]0189__2.wav", "gel/[gel][dru][pop_roc]0829__2.wav", "voi/[voi][nod][jaz_blu]0001__1.wav",
                           "pia/[pia][cla]1234__3.wav", "vio/008__[vio][nod][cou_fol]2194__1.wav"};
    for (int i = 0; i < 5; i++) { snprintf(p, sizeof p, "%s/IRMAS-TrainingData/%s", root, train[i]); touch(p, ""); }
    snprintf(p, sizeof p, "%s/IRMAS-TestingData-Part1/Part1/(02) dont kill the whale-1.wav", root); touch(p, "");
    snprintf(p, sizeof p, "%s/IRMAS-TestingData-Part1/Part1/(02) dont kill the whale-1.txt", root); touch(p, "gel\t\nvoi\t\n");
    amt_irmas_opts o;
    amt_irmas_opts_default(&o);
    o.v.check_audio = 0;
    amt_irmas ds;
    CHECK_OK(amt_irmas_open(root, &o, &ds));
    REQUIRE(ds.n == 6);
    CHECK(ds.ntraining_files == 5 && ds.ntesting_files == 1);
    for (int i = 0; i < ds.n; i++) {
        const amt_irmas_file *f = &ds.files[i];
        if (f->testing) CHECK(f->labels == ((1u << 4) | (1u << 10)) && !f->train);
        else {
            CHECK(f->train && __builtin_popcount(f->labels) == 1);
            if (strstr(f->wav, "[gel]")) CHECK(f->labels == 1u << 4 && f->drums == 1);
            if (strstr(f->wav, "[voi]")) CHECK(f->drums == 0);
            if (strstr(f->wav, "[cla][cla]")) CHECK(f->labels == 1u << 1 && f->drums == -1);
        }
    }
    amt_irmas_close(&ds);
    /* a tag that disagrees with its folder */
    snprintf(p, sizeof p, "%s/IRMAS-TrainingData/cla/[flu][cla]0002__1.wav", root);
    touch(p, "");
    int rc0 = amt_irmas_open(root, &o, &ds);
    CHECK_MSG(rc0 == AMT_EFORMAT && strstr(amt_errmsg(), "[flu][cla]0002__1.wav") && strstr(amt_errmsg(), "disagrees"), "%s", amt_errmsg());
    unlink(p);
    /* unknown class folder */
    snprintf(p, sizeof p, "%s/IRMAS-TrainingData/kaz/[kaz][cla]0001__1.wav", root);
    touch(p, "");
    int rc = amt_irmas_open(root, &o, &ds);
    CHECK_MSG(rc == AMT_EFORMAT && strstr(amt_errmsg(), "kaz") && strstr(amt_errmsg(), "unknown IRMAS class"), "%s", amt_errmsg());
    o.v.skip_bad = 1;
    CHECK_OK(amt_irmas_open(root, &o, &ds));
    CHECK(ds.n == 6 && ds.skipped == 1 && strstr(ds.warning, "kaz"));
    amt_irmas_close(&ds);
    /* a testing label with an unknown code */
    snprintf(p, sizeof p, "%s/IRMAS-TestingData-Part1/Part1/(02) dont kill the whale-1.txt", root);
    touch(p, "gel\nbanjo\n");
    o.v.skip_bad = 0;
    snprintf(p, sizeof p, "%s/IRMAS-TrainingData/kaz", root);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    CHECK(system(cmd) == 0);
    rc = amt_irmas_open(root, &o, &ds);
    CHECK_MSG(rc == AMT_EFORMAT && strstr(amt_errmsg(), "whale-1.txt:2") && strstr(amt_errmsg(), "banjo"), "%s", amt_errmsg());
    /* random split of the training files */
    o.training_only = 1; o.split = AMT_IRMAS_SPLIT_RANDOM; o.test_fraction = 0.2;
    CHECK_OK(amt_irmas_open(root, &o, &ds));
    int ntr = 0;
    for (int i = 0; i < ds.n; i++) ntr += ds.files[i].train;
    CHECK(ds.n == 5 && ntr == 4);
    amt_irmas_close(&ds);
}

/* ---------------- rendered datasets read back ---------------- */
static int have_font(void) { return access(AMT_SF_TIMGM6MB, R_OK) == 0; }

static void synth_cfg(amt_synth_cfg *c, const char *out, long count, double maxs)
{
    amt_synth_defaults(c);
    c->out_dir = out; c->count = count; c->seed = 11; c->max_item_s = maxs;
    c->fonts[0] = AMT_SF_TIMGM6MB; c->nfonts = 1;
}

static void test_rendered_maps_roundtrip(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_synth_cfg c;
    amt_synth_stats st;
    synth_cfg(&c, tmp("maps_r"), 5, 2.5);
    CHECK_OK(amt_synth_maps(&c, &st));
    amt_maps_opts o;
    amt_maps_opts_default(&o);
    o.split = AMT_MAPS_SPLIT_RANDOM; o.test_fraction = 0.2;
    amt_maps ds;
    CHECK_OK(amt_maps_open(tmp("maps_r"), &o, &ds));
    REQUIRE(ds.n == 5);
    int subsets = 0;
    for (int i = 0; i < ds.n; i++) { CHECK(!strcmp(ds.files[i].piano, "SynTimGM6mb")); subsets |= ds.files[i].subset; }
    CHECK(subsets == AMT_MAPS_ALL);
    amt_featurizer fz;
    CHECK_OK(amt_featurizer_semitone(&fz));
    amt_maps_loader L = {&ds, &fz};
    /* every file: onset targets match the annotation */
    for (int i = 0; i < ds.n; i++) {
        float *feat, *tgt;
        long F;
        CHECK_OK(amt_maps_load_item(&L, i, &feat, &tgt, &F));
        amt_notes ns;
        CHECK_OK(amt_notes_read_tsv(ds.files[i].txt, &ns));
        double nonset = 0;
        for (long t = 0; t < F; t++) for (int k = 0; k < 88; k++) nonset += tgt[t * 176 + 88 + k];
        int distinct = 0;   /* notes with distinct (onset frame, pitch) */
        for (int a = 0; a < ns.n; a++) {
            int dup = 0;
            for (int b = 0; b < a; b++)
                if (ns.v[b].pitch == ns.v[a].pitch && lround(ns.v[b].onset * fz.fps) == lround(ns.v[a].onset * fz.fps)) dup = 1;
            distinct += !dup && lround(ns.v[a].onset * fz.fps) < F;
        }
        CHECK_MSG(nonset == distinct, "%s: %g onset targets, %d notes", ds.files[i].wav, nonset, distinct);
        free(feat); free(tgt);
        amt_notes_free(&ns);
    }
    /* stream training batches */
    int *idx, n;
    CHECK_OK(amt_maps_split(&ds, AMT_MAPS_TRAIN, &idx, &n));
    CHECK(n == 4);
    amt_stream s;
    int T = 100, B = 3;
    CHECK_OK(amt_stream_init(&s, idx, n, fz.bins, 176, T, 3, amt_maps_load_item, &L));
    float *bf = malloc((size_t)B * T * fz.bins * sizeof *bf), *bt = malloc((size_t)B * T * 176 * sizeof *bt);
    int ee;
    CHECK_OK(amt_stream_next(&s, B, bf, bt, &ee));
    double sr = 0;
    for (int i = 0; i < B * T * 176; i++) sr += bt[i];
    CHECK(sr > 0);
    amt_stream_free(&s);
    free(bf); free(bt); free(idx);
    amt_featurizer_free(&fz);
    amt_maps_close(&ds);
}

static void test_rendered_mir1k_roundtrip(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_synth_cfg c;
    amt_synth_stats st;
    synth_cfg(&c, tmp("mir_r"), 3, 4.0);
    CHECK_OK(amt_synth_mir1k(&c, &st));
    amt_mir1k ds;
    CHECK_OK(amt_mir1k_open(tmp("mir_r"), NULL, &ds));
    REQUIRE(ds.n == 3);
    int ntr = 0;
    for (int i = 0; i < ds.n; i++) ntr += ds.clips[i].train;
    CHECK(ntr == 2);   /* abjones and amy train, annar tests */
    amt_featurizer fz;
    CHECK_OK(amt_featurizer_specgram(&fz, 16000, 1024, 256));
    amt_mir1k_loader L = {&ds, &fz};
    int *idx, n;
    CHECK_OK(amt_mir1k_split(&ds, 1, &idx, &n));
    amt_stream s;
    int T = 64, B = 4;
    CHECK_OK(amt_stream_init(&s, idx, n, fz.bins, 2 * fz.bins, T, 1, amt_mir1k_load_item, &L));
    float *bf = malloc((size_t)B * T * fz.bins * sizeof *bf), *bt = malloc((size_t)B * T * 2 * fz.bins * sizeof *bt);
    int ee;
    CHECK_OK(amt_stream_next(&s, B, bf, bt, &ee));
    double ev = 0, em = 0, ef = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            for (int k = 0; k < fz.bins; k++) {
                ef += bf[((size_t)b * T + t) * fz.bins + k];
                ev += bt[((size_t)b * T + t) * 2 * fz.bins + k];
                em += bt[((size_t)b * T + t) * 2 * fz.bins + fz.bins + k];
            }
        }
    CHECK(ev > 0 && em > 0 && ef > 0);
    /* same seed => same batches */
    amt_stream s2;
    float *bf2 = malloc((size_t)B * T * fz.bins * sizeof *bf2), *bt2 = malloc((size_t)B * T * 2 * fz.bins * sizeof *bt2);
    CHECK_OK(amt_stream_init(&s2, idx, n, fz.bins, 2 * fz.bins, T, 1, amt_mir1k_load_item, &L));
    CHECK_OK(amt_stream_next(&s2, B, bf2, bt2, &ee));
    CHECK(!memcmp(bf, bf2, (size_t)B * T * fz.bins * sizeof *bf) && !memcmp(bt, bt2, (size_t)B * T * 2 * fz.bins * sizeof *bt));
    amt_stream_free(&s2);
    free(bf2); free(bt2);
    amt_stream_free(&s);
    free(bf); free(bt); free(idx);
    amt_featurizer_free(&fz);
    amt_mir1k_close(&ds);
}

static void test_rendered_irmas_roundtrip(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_synth_cfg c;
    amt_synth_stats st;
    synth_cfg(&c, tmp("irmas_r"), 11, 3.0);
    CHECK_OK(amt_synth_irmas(&c, &st));
    amt_irmas ds;
    CHECK_OK(amt_irmas_open(tmp("irmas_r"), NULL, &ds));
    CHECK(ds.ntraining_files == 11 && ds.ntesting_files == 2);
    unsigned seen = 0;
    for (int i = 0; i < ds.n; i++) if (!ds.files[i].testing) seen |= ds.files[i].labels;
    CHECK(seen == (1u << 11) - 1);
    amt_featurizer fz;
    CHECK_OK(amt_featurizer_melspec(&fz, 22050, 1024, 512, 128));
    amt_irmas_loader L = {&ds, &fz};
    int *idx, n;
    CHECK_OK(amt_irmas_split(&ds, 1, &idx, &n));
    CHECK(n == 11);
    int T = (int)(fz.fps + 0.5);   /* 1 s windows */
    amt_stream s;
    CHECK_OK(amt_stream_init(&s, idx, n, fz.bins, 11, T, 5, amt_irmas_load_item, &L));
    int B = 8;
    float *bf = malloc((size_t)B * T * fz.bins * sizeof *bf), *bt = malloc((size_t)B * T * 11 * sizeof *bt);
    int ee;
    CHECK_OK(amt_stream_next(&s, B, bf, bt, &ee));
    for (int b = 0; b < B; b++) {
        double sum = 0;
        for (int k = 0; k < 11; k++) sum += bt[(size_t)b * T * 11 + k];
        CHECK(sum == 1);   /* single label per training window */
    }
    amt_stream_free(&s);
    free(bf); free(bt); free(idx);
    amt_featurizer_free(&fz);
    amt_irmas_close(&ds);
}

/* ---------------- streaming memory ---------------- */
static void test_stream_memory_bounded(void)
{
    const char *root = tmp("mir_many");
    char p[1024];
    const int NFILES = 120;
    for (int i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/Wavfile/singer%d_%d_%02d.wav", root, i % 7, i / 7 + 1, i % 5 + 1);
        write_tone(p, 2, 16000, 3.0, 110 + i);
    }
    amt_mir1k_opts o;
    amt_mir1k_opts_default(&o);
    o.split = AMT_SPLIT_RANDOM; o.test_fraction = 0.01;
    amt_mir1k ds;
    CHECK_OK(amt_mir1k_open(root, &o, &ds));
    REQUIRE(ds.n == NFILES);
    amt_featurizer fz;
    CHECK_OK(amt_featurizer_specgram(&fz, 16000, 1024, 256));
    amt_mir1k_loader L = {&ds, &fz};
    int *idx, n;
    CHECK_OK(amt_mir1k_split(&ds, 1, &idx, &n));
    amt_stream s;
    int T = 64, B = 8;
    CHECK_OK(amt_stream_init(&s, idx, n, fz.bins, 2 * fz.bins, T, 1, amt_mir1k_load_item, &L));
    float *bf = malloc((size_t)B * T * fz.bins * sizeof *bf), *bt = malloc((size_t)B * T * 2 * fz.bins * sizeof *bt);
    int ee = 0, batches = 0;
    CHECK_OK(amt_stream_next(&s, B, bf, bt, &ee));
    long rss0 = amt_rss_kb();
    /* one full epoch: every file read once */
    while (!ee && batches < 10000) { CHECK_OK(amt_stream_next(&s, B, bf, bt, &ee)); batches++; }
    long rss1 = amt_rss_kb();
    /* the decoded dataset would be 120 files x 3 s x 16 kHz x 3 signals x 4 B = 69 MB and its
     * features ~3x that: the stream must stay within a few MB of where it started */
    CHECK(batches > 20);
#ifdef __SANITIZE_ADDRESS__
    amt_stream_free(&s); free(bf); free(bt); free(idx); amt_featurizer_free(&fz); amt_mir1k_close(&ds);
    (void)rss1;
    SKIP("ASan keeps freed memory in quarantine: resident memory is not meaningful (%ld kB)", rss0);
#endif
    if (rss0 < 0) SKIP("no /proc/self/statm");
    CHECK_MSG(rss1 - rss0 < 8 * 1024, "resident memory grew by %ld kB over an epoch of %d batches", rss1 - rss0, batches);
    amt_stream_free(&s);
    free(bf); free(bt); free(idx);
    amt_featurizer_free(&fz);
    amt_mir1k_close(&ds);
}

static const char *mir_item_path(void *ud, int item) { const amt_mir1k_loader *L = ud; return L->ds->clips[item].wav; }

static void test_feature_cache(void)
{
    const char *root = tmp("mir_cache");
    char p[1024];
    for (int i = 0; i < 3; i++) { snprintf(p, sizeof p, "%s/Wavfile/amy_%d_01.wav", root, i + 1); write_tone(p, 2, 16000, 1.0, 200 + 50 * i); }
    amt_mir1k ds;
    CHECK_OK(amt_mir1k_open(root, NULL, &ds));
    amt_featurizer fz;
    CHECK_OK(amt_featurizer_specgram(&fz, 16000, 512, 256));
    amt_mir1k_loader L = {&ds, &fz};
    char h5[1024];
    snprintf(h5, sizeof h5, "%s/cache.h5", root);
    amt_featcache c;
    CHECK_OK(amt_featcache_open(&c, h5, "stft 512 256 16000", fz.bins, 2 * fz.bins, amt_mir1k_load_item, &L, mir_item_path));
    float *f1[3], *t1[3], *f2, *t2;
    long n1[3], n2;
    for (int i = 0; i < 3; i++) CHECK_OK(amt_featcache_load(&c, i, &f1[i], &t1[i], &n1[i]));
    CHECK(c.misses == 3 && c.hits == 0);
    amt_featcache_close(&c);
    CHECK_OK(amt_featcache_open(&c, h5, "stft 512 256 16000", fz.bins, 2 * fz.bins, amt_mir1k_load_item, &L, mir_item_path));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(amt_featcache_load(&c, i, &f2, &t2, &n2));
        CHECK(n2 == n1[i] && !memcmp(f2, f1[i], (size_t)n2 * fz.bins * sizeof *f2) && !memcmp(t2, t1[i], (size_t)n2 * 2 * fz.bins * sizeof *t2));
        free(f2); free(t2); free(f1[i]); free(t1[i]);
    }
    CHECK(c.hits == 3 && c.misses == 0);   /* counters restart at open */
    amt_featcache_close(&c);
    /* another feature config: a miss, not a stale hit */
    CHECK_OK(amt_featcache_open(&c, h5, "stft 512 256 16000 v2", fz.bins, 2 * fz.bins, amt_mir1k_load_item, &L, mir_item_path));
    CHECK_OK(amt_featcache_load(&c, 0, &f2, &t2, &n2));
    CHECK(c.misses == 1 && c.hits == 0);
    free(f2); free(t2);
    amt_featcache_close(&c);
    amt_featurizer_free(&fz);
    amt_mir1k_close(&ds);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    snprintf(g_tmp, sizeof g_tmp, "/tmp/amt_test_datasets_%d", (int)getpid());
    amt_synth_mkdirs(g_tmp);
    RUN(test_mir1k_real_clips);
    RUN(test_mir1k_splits_fake_tree);
    RUN(test_mir1k_bad_audio);
    RUN(test_maps_sigtia_fake_tree);
    RUN(test_maps_targets);
    RUN(test_irmas_fake_tree);
    RUN(test_rendered_maps_roundtrip);
    RUN(test_rendered_mir1k_roundtrip);
    RUN(test_rendered_irmas_roundtrip);
    RUN(test_stream_memory_bounded);
    RUN(test_feature_cache);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", g_tmp);
    return TEST_DONE();
}
