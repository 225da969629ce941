/* tests/test_amt_infer.c: runs the built amt-infer (from $AMT_BIN, default bin/) with tiny
 * UNTRAINED models of each kind made here (seeded init + amt_checkpoint_save with a config
 * text) on a few seconds of synthetic audio, and checks every output file (WAVs with the
 * input's rate/length/channels and voice + music == input, MIDI readable and equal to the
 * TSV, JSON keys and finite numbers, PNGs readable, the activations HDF5), --stages
 * subsets, model selection (closest instrument with a warning), a batch with a corrupt
 * file, missing models and bad options (exit codes and one-line messages). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "audio/midi.h"
#include "audio/notes.h"
#include "audio/picture.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "infer/model_dir.h"
#include "infer/pipeline.h"
#include "models/classifier.h"
#include "models/separator.h"
#include "models/transcriber.h"
#include "tests/test.h"
#include "tests/tool_run.h"

static char tool[600];
static int have_models;

#define IN_RATE 22050
#define IN_SECONDS 3
#define IN_CHANNELS 2

/* Runs amt-infer with args (env: extra "VAR=value " prefix or ""), from the project root;
 * fills out_s/err_s (tests/tool_run.h); returns the exit code (-1 if it crashed). */
static int run_env(const char *env, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s%s %s", env, tool, args);
    return run_cmd(cmd);
}

static int infer(const char *args) { return run_env("", args); }

static void path_of(char *p, size_t n, const char *rel) { snprintf(p, n, "%s/%s", tmp, rel); }

static void mkdirs(const char *rel)
{
    char p[512];
    path_of(p, sizeof p, rel);
    mkdir(p, 0755);
}

/* ---- tiny models ---- */

static const char *TR_CFG =
    "[model]\nkind = transcriber\ninstrument = %s\nchannels = 2, 2, 2\ndense = 4\nkt = 1\n"
    "[features]\npreset = 16k\n";
static const char *SEP_CFG =
    "[model]\nkind = separator\nhidden = 4\nlayers = 1\n[infer]\nblock_frames = 64\noverlap_frames = 16\n";
static const char *CLS_CFG =
    "[model]\nkind = classifier\nchannels = 2, 2\ndense = 8\n[features]\nn_mels = 32\n[infer]\nbatch = 4\n";

static int save(const char *dir, const char *file, const char *kind, const char *text, const amt_params *ps)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/%s", tmp, dir, file);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.model, sizeof info.model, "%s", kind);
    info.config = (char *)text;
    return amt_checkpoint_save(p, ps, NULL, &info, 0);
}

static int make_transcriber(const char *dir, const char *file, const char *instrument)
{
    char text[512];
    snprintf(text, sizeof text, TR_CFG, instrument);
    amt_config *c = amt_config_from_string(text, "tiny-transcriber");
    if (!c) return -1;
    amt_transcriber_config tc;
    amt_transcriber m;
    int rc = amt_transcriber_config_read(c, &tc);
    amt_config_free(c);
    if (rc || (rc = amt_transcriber_init(&m, &tc, 7))) return rc;
    rc = save(dir, file, AMT_TRANSCRIBER_KIND, text, &m.params);
    amt_transcriber_free(&m);
    return rc;
}

static int make_separator(const char *dir)
{
    amt_config *c = amt_config_from_string(SEP_CFG, "tiny-separator");
    if (!c) return -1;
    amt_separator_config sc;
    amt_separator m;
    int rc = amt_separator_config_read(c, &sc);
    amt_config_free(c);
    if (rc || (rc = amt_separator_init(&m, &sc))) return rc;
    rc = save(dir, "separator.h5", AMT_SEPARATOR_KIND, SEP_CFG, &m.params);
    amt_separator_free(&m);
    return rc;
}

static int make_classifier(const char *dir)
{
    amt_config *c = amt_config_from_string(CLS_CFG, "tiny-classifier");
    if (!c) return -1;
    amt_classifier_config cc;
    amt_classifier m;
    int rc = amt_classifier_config_read(c, &cc);
    amt_config_free(c);
    if (rc || (rc = amt_classifier_init(&m, &cc, 3))) return rc;
    rc = save(dir, "classifier.h5", AMT_CLASSIFIER_KIND, CLS_CFG, &m.params);
    amt_classifier_free(&m);
    return rc;
}

/* ---- inputs ---- */

/* A chord of sines with note-like envelopes: frames x channels at rate. */
static float *synth(long frames, int channels, int rate)
{
    float *x = malloc((size_t)frames * channels * sizeof *x);
    const double f0[3] = {261.63, 329.63, 392.0};
    for (long i = 0; i < frames; i++) {
        double t = (double)i / rate, env = exp(-3.0 * fmod(t, 0.5));
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += sin(2 * M_PI * f0[k] * (1 + 0.01 * c) * t);
            x[(size_t)i * channels + c] = (float)(0.2 * env * s);
        }
    }
    return x;
}

static int write_input(const char *rel, long frames, int channels, int rate, int sf_format)
{
    char p[512];
    path_of(p, sizeof p, rel);
    float *x = synth(frames, channels, rate);
    int rc = sf_format ? amt_audio_write(p, x, frames, channels, rate, 0)
                       : amt_audio_write_wav(p, x, frames, channels, rate, AMT_WAV_FLOAT);
    free(x);
    return rc;
}

/* ---- output checks ---- */

static void check_wavs(const char *out, const char *name, const char *input_rel)
{
    char p[512], in_p[512];
    amt_audio in, v, m;
    path_of(in_p, sizeof in_p, input_rel);
    if (amt_audio_read(in_p, &in)) { CHECK_MSG(0, "%s", amt_errmsg()); return; }
    snprintf(p, sizeof p, "%s/%s/%s.voice.wav", tmp, out, name);
    int rv = amt_audio_read(p, &v);
    CHECK_MSG(rv == 0, "%s", amt_errmsg());
    snprintf(p, sizeof p, "%s/%s/%s.music.wav", tmp, out, name);
    int rm = amt_audio_read(p, &m);
    CHECK_MSG(rm == 0, "%s", amt_errmsg());
    if (rv == 0 && rm == 0) {
        CHECK(v.rate == in.rate && m.rate == in.rate);
        CHECK(v.channels == in.channels && m.channels == in.channels);
        CHECK(v.frames == in.frames && m.frames == in.frames);
        if (v.frames == in.frames && m.frames == in.frames && v.channels == in.channels && m.channels == in.channels) {
            double err = 0, vmax = 0, xmax = 0;
            for (size_t i = 0; i < (size_t)in.frames * in.channels; i++) {
                err = fmax(err, fabs((double)v.data[i] + m.data[i] - in.data[i]));
                vmax = fmax(vmax, fabs(v.data[i]));
                xmax = fmax(xmax, fabs(in.data[i]));
            }
            CHECK_MSG(err <= 1e-3, "voice + music differs from the input by %g", err);
            CHECK(vmax > 0 || xmax == 0);   /* the untrained mask is neither 0 nor 1 everywhere */
        }
    }
    if (rv == 0) amt_audio_free(&v);
    if (rm == 0) amt_audio_free(&m);
    amt_audio_free(&in);
}

static void check_png(const char *out, const char *file)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/%s", tmp, out, file);
    amt_image im;
    int rc = amt_image_read_png(p, &im);
    CHECK_MSG(rc == 0, "%s: %s", file, amt_errmsg());
    if (rc == 0) {
        CHECK(im.w > 10 && im.h > 10);
        amt_image_free(&im);
    }
}

/* Minimal JSON sanity: balanced braces/brackets outside strings, starts with '{'. */
static int json_balanced(const char *s)
{
    int depth = 0, in_str = 0;
    while (*s == ' ' || *s == '\n') s++;
    if (*s != '{') return 0;
    for (; *s; s++) {
        if (in_str) {
            if (*s == '\\' && s[1]) s++;
            else if (*s == '"') in_str = 0;
        } else if (*s == '"') in_str = 1;
        else if (*s == '{' || *s == '[') depth++;
        else if (*s == '}' || *s == ']') { if (--depth < 0) return 0; }
    }
    return depth == 0 && !in_str;
}

/* Counts occurrences of "key": followed by a finite number; *bad counts the others. */
static int json_numbers(const char *s, const char *key, int *bad, double *vals, int maxv)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    int n = 0;
    for (const char *p = strstr(s, k); p; p = strstr(p + 1, k)) {
        const char *q = p + strlen(k);
        char *e;
        double v = strtod(q, &e);
        if (e == q || !isfinite(v)) (*bad)++;
        else if (vals && n < maxv) vals[n] = v;
        n++;
    }
    return n;
}

static void check_notes(const char *out, const char *name, int expect_program, int *n_notes)
{
    char p[512];
    amt_notes mid, tsv;
    snprintf(p, sizeof p, "%s/%s/%s.mid", tmp, out, name);
    int rm = amt_midi_read(p, NULL, &mid, NULL);
    CHECK_MSG(rm == 0, "%s", amt_errmsg());
    snprintf(p, sizeof p, "%s/%s/%s.notes.tsv", tmp, out, name);
    int rt = amt_notes_read_tsv(p, &tsv);
    CHECK_MSG(rt == 0, "%s", amt_errmsg());
    if (rm == 0 && rt == 0) {
        CHECK_MSG(mid.n == tsv.n, "MIDI %d notes, TSV %d", mid.n, tsv.n);
        for (int i = 0; i < mid.n && i < tsv.n; i++) {
            CHECK(mid.v[i].pitch == tsv.v[i].pitch);
            CHECK_NEAR(mid.v[i].onset, tsv.v[i].onset, 1e-3);
            CHECK_NEAR(mid.v[i].offset, tsv.v[i].offset, 1e-3);
            CHECK(mid.v[i].velocity >= 1 && mid.v[i].velocity <= 127);
            if (expect_program >= 0) CHECK(mid.v[i].program == expect_program);
            if (t_cur_failed) break;
        }
        *n_notes = mid.n;
    }
    if (rm == 0) amt_notes_free(&mid);
    if (rt == 0) amt_notes_free(&tsv);
    snprintf(p, sizeof p, "%s/%s/%s.notes.json", tmp, out, name);
    char *js = slurp(p);
    CHECK_MSG(js != NULL, "%s missing", p);
    if (js) {
        CHECK(json_balanced(js));
        CHECK(strstr(js, "\"notes\"") != NULL);
        int bad = 0;
        int n_on = json_numbers(js, "onset", &bad, NULL, 0);
        CHECK(n_on == *n_notes);
        CHECK(json_numbers(js, "offset", &bad, NULL, 0) == n_on);
        CHECK(json_numbers(js, "pitch", &bad, NULL, 0) == n_on);
        CHECK(json_numbers(js, "velocity", &bad, NULL, 0) == n_on);
        CHECK(json_numbers(js, "confidence", &bad, NULL, 0) == n_on);
        CHECK_MSG(bad == 0, "%d non-finite numbers in %s", bad, p);
        free(js);
    }
}

/* NAME.instrument.json: keys, 11 probabilities summing to 1; returns the label in lab. */
static void check_instrument(const char *out, const char *name, char *lab, char *model, int *has_warning)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/%s.instrument.json", tmp, out, name);
    char *js = slurp(p);
    CHECK_MSG(js != NULL, "%s missing", p);
    lab[0] = model[0] = '\0';
    *has_warning = 0;
    if (!js) return;
    CHECK(json_balanced(js));
    int bad = 0;
    double sum = 0, v;
    for (int i = 0; i < AMT_CLS_NCLASS; i++) {
        CHECK_MSG(json_numbers(js, amt_classifier_classes[i], &bad, &v, 1) == 1, "class %s", amt_classifier_classes[i]);
        sum += v;
    }
    CHECK(bad == 0);
    CHECK_NEAR(sum, 1.0, 1e-3);
    const char *l = strstr(js, "\"label\": \"");
    CHECK(l != NULL);
    if (l) sscanf(l + 10, "%15[a-z]", lab);
    CHECK(amt_classifier_class_index(lab) >= 0);
    const char *m = strstr(js, "\"transcription_model\": ");
    CHECK(m != NULL);
    if (m) sscanf(m + 23, "\"%255[^\"]", model);
    const char *w = strstr(js, "\"warning\": ");
    CHECK(w != NULL);
    if (w) *has_warning = w[11] == '"';
    free(js);
}

static void check_activations(const char *out, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s/%s.activations.h5", tmp, out, name);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_MSG(f >= 0, "%s does not open", p);
    if (f < 0) return;
    const char *names[3] = {"frame", "onset", "velocity"};
    for (int k = 0; k < 3; k++) {
        hid_t d = H5Dopen2(f, names[k], H5P_DEFAULT);
        CHECK_MSG(d >= 0, "dataset %s", names[k]);
        if (d < 0) continue;
        hid_t sp = H5Dget_space(d);
        hsize_t dims[2] = {0, 0};
        CHECK(H5Sget_simple_extent_ndims(sp) == 2);
        H5Sget_simple_extent_dims(sp, dims, NULL);
        CHECK(dims[1] == 88);
        CHECK_MSG(dims[0] >= (hsize_t)(IN_SECONDS * 100 - 2) && dims[0] <= (hsize_t)(IN_SECONDS * 100 + 2),
                  "%llu frames", (unsigned long long)dims[0]);
        float *v = malloc(dims[0] * dims[1] * sizeof *v);
        if (v && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
            int ok = 1;
            for (hsize_t i = 0; i < dims[0] * dims[1]; i++) ok &= v[i] >= 0 && v[i] <= 1;
            CHECK_MSG(ok, "%s: probabilities outside [0, 1]", names[k]);
        } else {
            CHECK_MSG(0, "cannot read %s", names[k]);
        }
        free(v);
        H5Sclose(sp);
        H5Dclose(d);
    }
    CHECK(H5Aexists(f, "fps") > 0);
    H5Fclose(f);
}

/* ---- tests ---- */

/* The library pieces: instrument names, distances, programs, stage lists, the model dir. */
static void test_library(void)
{
    CHECK(amt_instrument_index("pia") == AMT_INSTRUMENT_PIANO && amt_instrument_index("Piano") == AMT_INSTRUMENT_PIANO);
    CHECK(amt_instrument_index("acoustic guitar") == 3 && amt_instrument_index("VOI") == 10);
    CHECK(amt_instrument_index("bass") == -1 && amt_instrument_index(NULL) == -1);
    for (int a = -1; a < AMT_CLS_NCLASS; a++)
        for (int b = -1; b < AMT_CLS_NCLASS; b++) {
            CHECK(amt_instrument_distance(a, b) == amt_instrument_distance(b, a));
            CHECK((amt_instrument_distance(a, b) == 0) == (a == b));
        }
    CHECK(amt_instrument_distance(6, 5) == 1);    /* piano - organ: keyboards */
    CHECK(amt_instrument_distance(6, 3) == 2);    /* piano - guitar: struck/plucked */
    CHECK(amt_instrument_distance(6, 1) == 3);    /* piano - clarinet */
    CHECK(amt_instrument_distance(6, -1) == AMT_INSTRUMENT_FAR);
    CHECK(amt_instrument_gm_program(6) == 0 && amt_instrument_gm_program(-1) == 0 && amt_instrument_gm_program(2) == 73);
    int st = 0;
    CHECK(amt_pipeline_parse_stages("transcribe,separate", &st) == 0 && st == (AMT_STAGE_TRANSCRIBE | AMT_STAGE_SEPARATE));
    CHECK(amt_pipeline_parse_stages("classify,", &st) != 0 && strstr(amt_errmsg(), "trailing comma"));
    CHECK(amt_pipeline_parse_stages("split", &st) != 0 && strstr(amt_errmsg(), "'split'"));
    if (!have_models) return;
    char dir[512];
    path_of(dir, sizeof dir, "m_flute");
    amt_model_dir md;
    CHECK_OK(amt_model_dir_scan(dir, &md));
    CHECK(md.n == 1 && md.nskipped == 1 && strstr(md.skipped[0], "broken.h5"));
    CHECK(amt_model_dir_count(&md, "transcriber") == 1 && amt_model_dir_find(&md, "separator") == -1);
    int exact = -1;
    CHECK(amt_model_dir_transcriber(&md, 2, &exact) == 0 && exact == 1);
    CHECK(amt_model_dir_transcriber(&md, AMT_INSTRUMENT_PIANO, &exact) == 0 && exact == 0);
    CHECK(!strcmp(md.v[0].instrument_name, "flute") && md.v[0].instrument == 2);
    amt_model_dir_free(&md);
    path_of(dir, sizeof dir, "m_all");
    CHECK_OK(amt_model_dir_scan(dir, &md));
    CHECK(md.n == 4 && amt_model_dir_count(&md, "transcriber") == 2);
    int i = amt_model_dir_transcriber(&md, 9 /* violin: no model; flute (sustained) beats piano */, &exact);
    CHECK(i >= 0 && exact == 0 && md.v[i].instrument == 2);
    i = amt_model_dir_transcriber(&md, 4 /* electric guitar: piano (struck/plucked) */, &exact);
    CHECK(i >= 0 && exact == 0 && md.v[i].instrument == AMT_INSTRUMENT_PIANO);
    i = amt_model_dir_transcriber(&md, -1, &exact);   /* unknown: every distance equal, piano preferred */
    CHECK(i >= 0 && md.v[i].instrument == AMT_INSTRUMENT_PIANO);
    amt_model_dir_free(&md);
    CHECK(amt_model_dir_scan("/nonexistent/models", &md) == AMT_EIO && strstr(amt_errmsg(), "/nonexistent/models"));
}

static int ready(void)
{
    if (access(tool, X_OK) != 0) {
        CHECK_MSG(0, "%s not found: build the tools first (make tools) or set AMT_BIN", tool);
        return 0;
    }
    if (!have_models) { CHECK_MSG(0, "could not make the tiny models: %s", amt_errmsg()); return 0; }
    return 1;
}

static void test_usage(void)
{
    if (!ready()) return;
    char args[2048];
    CHECK(infer("--help") == 0 && strstr(out_s, "usage: amt-infer") && strstr(out_s, "--stages"));
    CHECK(infer("--version") == 0 && strstr(out_s, "amt-infer"));
    CHECK(infer("") == 2);
    snprintf(args, sizeof args, "%s/a.wav", tmp);
    CHECK(infer(args) == 2 && lines(err_s) == 1 && strstr(err_s, "-o"));
    const char *bad[][2] = {
        {"--stages separate,sing", "sing"}, {"--stages ''", "empty"},
        {"--stages transcribe,transcribe", "twice"}, {"--onset-threshold 1.5", "onset-threshold"},
        {"--frame-threshold 0", "frame-threshold"}, {"--onset-threshold abc", "onset-threshold"},
        {"--sustain-threshold 1.5", "sustain-threshold"}, {"--sustain-threshold -0.1", "sustain-threshold"},
        {"--frame-threshold 0.3 --sustain-threshold 0.5", "sustain-threshold"},
        {"--min-note-ms -5", "min-note-ms"}, {"--gap-ms -1", "gap-ms"}, {"--gap-ms x", "gap-ms"},
        {"--min-pitch 200", "min-pitch"},
        {"--min-pitch 80 --max-pitch 60", "max-pitch"}, {"--threads 0", "threads"},
        {"--segment-seconds 0", "segment-seconds"}, {"--bogus", "bogus"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "%s/a.wav -o %s/o_usage --models %s/m_all %s", tmp, tmp, tmp, bad[i][0]);
        int rc = infer(args);
        CHECK_MSG(rc == 2 && lines(err_s) == 1 && strstr(err_s, bad[i][1]), "%s: exit %d, stderr: %s", bad[i][0], rc,
                  err_s);
    }
    CHECK(!exists("o_usage"));
}

static void test_all_stages(void)
{
    if (!ready()) return;
    char args[2048];
    snprintf(args, sizeof args,
             "%s/a.wav -o %s/o_all --models %s/m_all --threads 2 --onset-threshold 0.02 --frame-threshold 0.02 "
             "--save-activations",
             tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    const char *files[] = {"a.voice.wav", "a.music.wav", "a.spectrograms.png", "a.instrument.json", "a.mid",
                           "a.notes.tsv", "a.notes.json", "a.pianoroll.png", "a.activations.h5"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "o_all/%s", files[i]);
        CHECK_MSG(exists(rel), "%s not written", rel);
    }
    check_wavs("o_all", "a", "in/a.wav");
    check_png("o_all", "a.spectrograms.png");
    check_png("o_all", "a.pianoroll.png");
    char lab[16], model[256];
    int warn = 0, n = 0;
    check_instrument("o_all", "a", lab, model, &warn);
    /* the models dir has piano and flute transcribers: those labels run their own, others
     * the closest with a warning (untrained classifier: any label) */
    int own = !strcmp(lab, "pia") || !strcmp(lab, "flu");
    CHECK_MSG(warn == !own, "label %s, warning %d", lab, warn);
    char mdir[512];
    path_of(mdir, sizeof mdir, "m_all");
    amt_model_dir md;
    if (amt_model_dir_scan(mdir, &md) == 0) {   /* the transcriber the label should pick */
        int ti = amt_model_dir_transcriber(&md, amt_classifier_class_index(lab), NULL);
        CHECK_MSG(ti >= 0 && !strcmp(md.v[ti].path, model), "label %s ran %s", lab, model);
        amt_model_dir_free(&md);
    } else {
        CHECK_MSG(0, "%s", amt_errmsg());
    }
    if (!own) CHECK(strstr(err_s, "warning") && strstr(err_s, "closest"));
    int program[AMT_CLS_NCLASS] = {42, 71, 73, 24, 27, 16, 0, 65, 56, 40, 52};
    int ci = amt_classifier_class_index(lab);
    check_notes("o_all", "a", ci >= 0 ? program[ci] : -1, &n);
    CHECK_MSG(n > 0, "no notes at threshold 0.02");
    check_activations("o_all", "a");
    CHECK(strstr(out_s, "notes") && strstr(out_s, "x real time") && strstr(out_s, "instrument"));
}

static void test_stage_subsets(void)
{
    if (!ready()) return;
    char args[2048];
    /* transcription only, on a mono FLAC at another rate */
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_tr --models %s/m_all --stages transcribe -q", tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(exists("o_tr/b.mid") && exists("o_tr/b.notes.tsv") && exists("o_tr/b.notes.json") &&
          exists("o_tr/b.pianoroll.png"));
    CHECK(!exists("o_tr/b.voice.wav") && !exists("o_tr/b.instrument.json") && !exists("o_tr/b.activations.h5"));
    int n = -1;
    check_notes("o_tr", "b", 0, &n);   /* no classification: the piano model and program */
    CHECK(err_s[0] == '\0');           /* -q */
    /* deterministic: the same run again gives the same bytes */
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_tr2 --models %s/m_all --stages transcribe -q", tmp, tmp, tmp);
    CHECK(infer(args) == 0);
    const char *same[] = {"b.mid", "b.notes.tsv", "b.notes.json", "b.pianoroll.png"};
    for (int i = 0; i < 4; i++) {
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "%s/o_tr/%s", tmp, same[i]);
        snprintf(p2, sizeof p2, "%s/o_tr2/%s", tmp, same[i]);
        FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
        int eq = f1 && f2;
        while (eq) {
            int c1 = fgetc(f1), c2 = fgetc(f2);
            if (c1 != c2) eq = 0;
            if (c1 == EOF) break;
        }
        CHECK_MSG(eq, "%s differs between two identical runs", same[i]);
        if (f1) fclose(f1);
        if (f2) fclose(f2);
    }
    /* separation only */
    snprintf(args, sizeof args, "%s/a.wav -o %s/o_sep --models %s/m_all --stages separate", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(exists("o_sep/a.voice.wav") && exists("o_sep/a.music.wav") && exists("o_sep/a.spectrograms.png"));
    CHECK(!exists("o_sep/a.mid") && !exists("o_sep/a.instrument.json"));
    check_wavs("o_sep", "a", "in/a.wav");
    /* the same in segments of 0.7 s (2 s of context): streamed, cross-faded, still exact */
    snprintf(args, sizeof args, "%s/a.wav -o %s/o_seg --models %s/m_all --stages separate --segment-seconds 0.7", tmp,
             tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    check_wavs("o_seg", "a", "in/a.wav");
    check_png("o_seg", "a.spectrograms.png");
    /* classify + transcribe without a separator in the models dir works ... */
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_ct --models %s/m_nosep --stages classify,transcribe", tmp, tmp,
             tmp);
    rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(exists("o_ct/b.instrument.json") && exists("o_ct/b.mid") && !exists("o_ct/b.voice.wav"));
    /* ... but the default stages need it: a clear error naming the missing kind */
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_ns --models %s/m_nosep", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "no separator checkpoint") && strstr(err_s, "separate"),
              "exit %d: %s", rc, err_s);
    CHECK(!exists("o_ns/b.mid"));
    /* the models directory from $AMT_MODELS */
    char env[600];
    snprintf(env, sizeof env, "AMT_MODELS=%s/m_nosep ", tmp);
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_env --stages transcribe", tmp, tmp);
    rc = run_env(env, args);
    CHECK_MSG(rc == 0 && exists("o_env/b.mid"), "exit %d: %s", rc, err_s);
}

static void test_closest_model(void)
{
    if (!ready()) return;
    char args[2048];
    /* only a flute transcriber: piano audio (no classification) uses it with a warning,
     * and the MIDI carries the flute's program */
    snprintf(args, sizeof args,
             "%s/b.flac -o %s/o_fl --models %s/m_flute --stages transcribe --onset-threshold 0.02 "
             "--frame-threshold 0.02 --min-pitch 60 --max-pitch 72",
             tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK_MSG(strstr(err_s, "no piano transcriber") && strstr(err_s, "transcriber-flute.h5") &&
              strstr(err_s, "closest"), "%s", err_s);
    char p[512];
    snprintf(p, sizeof p, "%s/o_fl/b.mid", tmp);
    amt_notes ns;
    if (amt_midi_read(p, NULL, &ns, NULL) == 0) {
        CHECK(ns.n > 0);
        for (int i = 0; i < ns.n; i++) {
            CHECK(ns.v[i].program == 73);
            CHECK(ns.v[i].pitch >= 60 && ns.v[i].pitch <= 72);
            if (t_cur_failed) break;
        }
        amt_notes_free(&ns);
    } else {
        CHECK_MSG(0, "%s", amt_errmsg());
    }
    /* a models dir without any transcriber */
    snprintf(args, sizeof args, "%s/b.flac -o %s/o_none --models %s/m_sep_only --stages transcribe", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "no transcriber checkpoint"), "exit %d: %s", rc, err_s);
}

static void test_batch(void)
{
    if (!ready()) return;
    char args[2048];
    /* in/: a.wav, b.flac, c.wav (corrupt), notes.txt (ignored) */
    snprintf(args, sizeof args, "%s/in -o %s/o_batch --models %s/m_all --stages separate,transcribe", tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 1, "exit %d", rc);
    CHECK_MSG(lines(err_s) == 1 && strstr(err_s, "c.wav"), "%s", err_s);
    CHECK(exists("o_batch/a.mid") && exists("o_batch/b.mid") && exists("o_batch/a.voice.wav") &&
          exists("o_batch/b.music.wav"));
    CHECK(!exists("o_batch/c.mid") && !exists("o_batch/notes.mid"));
    check_wavs("o_batch", "b", "in/b.flac");
    CHECK(strstr(out_s, "2 inputs done, 1 failed") != NULL);
    /* a missing file among good ones */
    snprintf(args, sizeof args, "%s/nothere.wav %s/in/a.wav -o %s/o_b2 --models %s/m_all --stages transcribe", tmp, tmp,
             tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "nothere.wav") && exists("o_b2/a.mid"), "exit %d: %s", rc,
              err_s);
    /* two inputs with the same NAME: the second would overwrite the first's outputs */
    snprintf(args, sizeof args, "%s/in/a.wav %s/a.wav -o %s/o_b3 --models %s/m_all --stages transcribe", tmp, tmp, tmp,
             tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "overwrite") && exists("o_b3/a.mid"), "exit %d: %s", rc,
              err_s);
}

static void test_missing_models(void)
{
    if (!ready()) return;
    char args[2048];
    snprintf(args, sizeof args, "%s/in/a.wav -o %s/o_mm --models %s/no_such_dir", tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "no_such_dir") && strstr(err_s, "no such models directory"),
              "exit %d: %s", rc, err_s);
    /* an empty models dir: the first needed kind is named */
    snprintf(args, sizeof args, "%s/in/a.wav -o %s/o_mm --models %s/m_empty --stages classify", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "no classifier checkpoint"), "exit %d: %s", rc, err_s);
    /* a corrupt checkpoint beside good ones is skipped with a warning */
    snprintf(args, sizeof args, "%s/in/b.flac -o %s/o_mm2 --models %s/m_flute --stages transcribe", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 0 && strstr(err_s, "broken.h5"), "exit %d: %s", rc, err_s);
}

/* Silence, a 0.1 s 96 kHz 6-channel file, 3 samples: results; NaN samples: a clear error. */
static void test_odd_inputs(void)
{
    if (!ready()) return;
    char p[512], args[2048];
    float *z = calloc((size_t)44100 * 2, sizeof *z);
    path_of(p, sizeof p, "odd/silence.wav");
    mkdirs("odd");
    CHECK_OK(amt_audio_write_wav(p, z, 44100, 2, 44100, AMT_WAV_FLOAT));
    float *hd = synth(9600, 6, 96000);
    path_of(p, sizeof p, "odd/hd6.wav");
    CHECK_OK(amt_audio_write_wav(p, hd, 9600, 6, 96000, AMT_WAV_FLOAT));
    path_of(p, sizeof p, "odd/three.wav");
    CHECK_OK(amt_audio_write_wav(p, hd, 3, 1, 8000, AMT_WAV_FLOAT));
    z[1001] = NAN;
    path_of(p, sizeof p, "nan.wav");
    /* amt_audio_write_wav refuses NaN: write the file with a NaN through raw bytes */
    z[1001] = 0;
    CHECK_OK(amt_audio_write_wav(p, z, 2000, 1, 44100, AMT_WAV_FLOAT));
    FILE *f = fopen(p, "r+b");
    if (f) {
        float nan = NAN;
        fseek(f, -4L * 500, SEEK_END);   /* a sample near the end of the data chunk */
        fwrite(&nan, 4, 1, f);
        fclose(f);
    }
    free(z);
    free(hd);
    snprintf(args, sizeof args, "%s/odd -o %s/o_odd --models %s/m_all", tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
    CHECK(exists("o_odd/silence.mid") && exists("o_odd/hd6.mid") && exists("o_odd/three.mid"));
    check_wavs("o_odd", "hd6", "odd/hd6.wav");
    check_wavs("o_odd", "silence", "odd/silence.wav");
    check_wavs("o_odd", "three", "odd/three.wav");
    snprintf(args, sizeof args, "%s/nan.wav -o %s/o_odd --models %s/m_all", tmp, tmp, tmp);
    rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "nan.wav") && strstr(err_s, "NaN"), "exit %d: %s", rc,
              err_s);
    CHECK(!exists("o_odd/nan.voice.wav") && !exists("o_odd/nan.mid"));
}

/* Peak memory (MB) amt-infer reports in its summary line; -1 if absent. */
static double peak_mb(void)
{
    const char *p = strstr(out_s, "peak memory ");
    if (!p) p = strstr(err_s, "peak memory ");
    return p ? atof(p + strlen("peak memory ")) : -1;
}

/* Every stage streams: a 7x longer input takes no more memory (the whole-file
 * transcription grew by ~110 MB here: its signal, features and probabilities); a NaN
 * sample seen by the transcription stage names the file. */
static void test_long_input(void)
{
    if (!ready()) return;
    mkdirs("long");
    /* short: longer than one separation segment (AMT_PIPE_SEGMENT_S + context), whose
     * working set is the separator's largest */
    CHECK_OK(write_input("long/short.wav", 60L * IN_RATE, 1, IN_RATE, 0));
    CHECK_OK(write_input("long/long.wav", 400L * IN_RATE, 1, IN_RATE, 0));
    char args[2048];
    double mb[2], mb_all[2];
    const char *names[2] = {"short", "long"};
    for (int i = 0; i < 4; i++) {
        /* thresholds 1: the random model's notes (hundreds of thousands, output that grows
         * with the input by right) stay out of the measure; transcription alone, then all
         * three stages (classification reads the accompaniment twice, streaming) */
        snprintf(args, sizeof args,
                 "--stages %s --threads 1 --onset-threshold 1 --frame-threshold 1 %s/long/%s.wav -o %s/o_long "
                 "--models %s/m_all",
                 i < 2 ? "transcribe" : "separate,classify,transcribe", tmp, names[i % 2], tmp, tmp);
        int rc = infer(args);
        CHECK_MSG(rc == 0, "exit %d: %s", rc, err_s);
        if (i < 2) mb[i] = peak_mb();
        else mb_all[i - 2] = peak_mb();
    }
    CHECK(exists("o_long/long.music.wav") && exists("o_long/long.instrument.json"));
    fprintf(stderr, "  peak memory (60 s / 400 s): transcription %.0f / %.0f MB, all stages %.0f / %.0f MB\n", mb[0],
            mb[1], mb_all[0], mb_all[1]);
    CHECK(exists("o_long/long.mid") && exists("o_long/long.pianoroll.png"));
    char *tsv = NULL;
    char p[512];
    path_of(p, sizeof p, "o_long/long.notes.tsv");
    tsv = slurp(p);
    CHECK(tsv != NULL);
    free(tsv);
#ifdef __SANITIZE_ADDRESS__
    SKIP("ASan keeps freed memory in quarantine: peak memory is not meaningful (%.0f / %.0f, %.0f / %.0f MB)", mb[0],
         mb[1], mb_all[0], mb_all[1]);
#else
    REQUIRE(mb[0] > 0 && mb[1] > 0 && mb_all[0] > 0 && mb_all[1] > 0);
    CHECK_MSG(mb[1] - mb[0] < 12, "transcription: peak memory %.0f MB on 60 s, %.0f MB on 400 s", mb[0], mb[1]);
    CHECK_MSG(mb_all[1] - mb_all[0] < 12, "all stages: peak memory %.0f MB on 60 s, %.0f MB on 400 s", mb_all[0],
              mb_all[1]);
#endif
    snprintf(args, sizeof args, "--stages transcribe %s/nan.wav -o %s/o_long --models %s/m_all", tmp, tmp, tmp);
    int rc = infer(args);
    CHECK_MSG(rc == 1 && lines(err_s) == 1 && strstr(err_s, "nan.wav") && strstr(err_s, "NaN"), "exit %d: %s", rc,
              err_s);
    CHECK(!exists("o_long/nan.mid") && !exists("o_long/nan.activations.h5.tmp"));
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    const char *bin = getenv("AMT_BIN");
    snprintf(tool, sizeof tool, "%s/amt-infer", bin && *bin ? bin : "bin");
    snprintf(tmp, sizeof tmp, "/tmp/amt_test_infer_XXXXXX");
    if (!mkdtemp(tmp)) { fprintf(stderr, "cannot make a temporary directory\n"); return 1; }
    mkdirs("in");
    mkdirs("m_all");
    mkdirs("m_nosep");
    mkdirs("m_flute");
    mkdirs("m_sep_only");
    mkdirs("m_empty");
    have_models = make_transcriber("m_all", "transcriber-piano.h5", "piano") == 0 &&
                  make_transcriber("m_all", "transcriber-flute.h5", "flu") == 0 && make_separator("m_all") == 0 &&
                  make_classifier("m_all") == 0 && make_transcriber("m_nosep", "transcriber-piano.h5", "Piano") == 0 &&
                  make_classifier("m_nosep") == 0 && make_transcriber("m_flute", "transcriber-flute.h5", "flute") == 0 &&
                  make_separator("m_sep_only") == 0 &&
                  write_input("in/a.wav", (long)IN_SECONDS * IN_RATE, IN_CHANNELS, IN_RATE, 0) == 0 &&
                  write_input("in/b.flac", 2L * 44100, 1, 44100, 1) == 0;
    char p[512];
    path_of(p, sizeof p, "in/c.wav");
    FILE *f = fopen(p, "wb");
    if (f) { fputs("RIFF\x10\x00\x00\x00WAVEgarbage garbage garbage", f); fclose(f); }
    path_of(p, sizeof p, "in/notes.txt");
    if ((f = fopen(p, "w"))) { fputs("not audio\n", f); fclose(f); }
    path_of(p, sizeof p, "m_flute/broken.h5");
    if ((f = fopen(p, "w"))) { fputs("not a checkpoint\n", f); fclose(f); }
    /* copies of the inputs at the top level, for single-file runs */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s/in/a.wav' '%s/in/b.flac' '%s/'", tmp, tmp, tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not copy the inputs\n");
    RUN(test_library);
    RUN(test_usage);
    RUN(test_all_stages);
    RUN(test_stage_subsets);
    RUN(test_closest_model);
    RUN(test_batch);
    RUN(test_missing_models);
    RUN(test_odd_inputs);
    RUN(test_long_input);   /* after test_odd_inputs: uses its nan.wav */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (!getenv("AMT_TEST_KEEP") && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return TEST_DONE();
}
