/* infer/amt-infer.c: the whole pipeline on audio files:
 *   amt-infer AUDIO|DIR ... -o OUTDIR [--stages separate,classify,transcribe] [--models DIR]
 *             [--threads N] [-q] [transcription knobs]
 * Stages and outputs: infer/pipeline.h. Models: a directory of checkpoints (infer/model_dir.h):
 * --models DIR, else $AMT_MODELS, else ./models, else models/ beside the binary's bin/.
 * Results on stdout (a short summary per input, the speed at the end), diagnostics on
 * stderr; exit 0 when every input succeeded, 1 when any failed (the others are still
 * processed) or the models cannot be loaded, 2 on bad usage. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/threads.h"
#include "app/cli.h"
#include "app/decode_knobs.h"
#include "infer/model_dir.h"
#include "infer/pipeline.h"
#include "models/classifier.h"
#include "app/progress.h"

#ifndef AMT_VERSION
#define AMT_VERSION "unknown"
#endif

#define MAX_THREADS 256

static const char *const AUDIO_EXTS[] = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff",
                                         ".aifc", ".au", ".snd", ".w64", ".rf64", ".caf", NULL};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: amt-infer AUDIO|DIR ... -o OUTDIR [options]\n"
        "Separates voice and accompaniment, names the accompaniment's predominant instrument and\n"
        "transcribes it to notes. A DIR argument means every audio file in it (sorted).\n"
        "\n"
        "outputs per input NAME (in OUTDIR):\n"
        "  separate    NAME.voice.wav NAME.music.wav (float WAV, the input's rate, length and\n"
        "              channels; voice + music = input) and NAME.spectrograms.png (input, voice,\n"
        "              music)\n"
        "  classify    NAME.instrument.json (label, the 11 class probabilities, the\n"
        "              transcription model used and any warning)\n"
        "  transcribe  NAME.mid (GM program of the instrument), NAME.notes.tsv (MAPS:\n"
        "              OnsetTime OffsetTime MidiPitch), NAME.notes.json (onset, offset, pitch,\n"
        "              velocity, confidence), NAME.pianoroll.png (features with the notes)\n"
        "\n"
        "options:\n"
        "  -o, --out DIR          output directory (created if missing)\n"
        "  --stages LIST          comma-separated subset of separate,classify,transcribe\n"
        "                         (default: all three)\n"
        "  --models DIR           directory of model checkpoints (default: $AMT_MODELS, else\n"
        "                         ./models, else models/ beside the tool's bin/)\n"
        "  --threads N            threads for OpenMP/OpenBLAS (default: all cores)\n"
        "  --segment-seconds S    separate long inputs in segments of S seconds with 2 s of\n"
        "                         context each side (default 30; memory grows with S)\n"
        "  --onset-threshold P    note onset probability threshold in (0, 1] (default: the\n"
        "                         model's tuned value)\n"
        "  --frame-threshold P    frame probability threshold in (0, 1] (default: the model's)\n"
        "  --sustain-threshold P  a note that reached the frame threshold rings on while its\n"
        "                         frame probability stays >= P, in [0, 1]; 0 = off (notes end\n"
        "                         below the frame threshold) (default: the model's tuned value)\n"
        "  --min-note-ms MS       drop notes shorter than MS milliseconds (default: the model's)\n"
        "  --gap-ms MS            a note survives dips of its frame probability below the\n"
        "                         threshold of at most MS milliseconds (default: the model's)\n"
        "  --min-pitch N          lowest MIDI pitch kept, 0..127 (default: the model's, 21)\n"
        "  --max-pitch N          highest MIDI pitch kept, 0..127 (default: the model's, 108)\n"
        "  --save-activations     also write NAME.activations.h5: the raw frame, onset and\n"
        "                         velocity probabilities (frames x 88, attribute fps)\n"
        "  -q, --quiet            no progress line or warnings on stderr\n"
        "  -h, --help             this help\n"
        "  --version              print the version\n"
        "exit status: 0 success, 1 an input or the models failed (the other inputs are still\n"
        "processed), 2 bad usage\n");
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "amt-infer: %s (see amt-infer --help)\n", msg);
    return AMT_EXIT_USAGE;
}

/* ---- progress line (terminal only) ---- */

typedef struct prog {
    int on;            /* stderr is a terminal and not quiet */
    int i, n;          /* input index (1-based), count */
    const char *name;
    double t0;
} prog;

static void prog_clear(prog *p)
{
    if (p->on) fputs("\r\033[K", stderr);
}

static void on_stage(void *ctx, const char *stage)
{
    prog *p = ctx;
    if (!p->on) return;
    char el[32];
    amt_format_duration(el, sizeof el, amt_progress_now() - p->t0);
    fprintf(stderr, "\r\033[K[%d/%d] %s: %s  (%s elapsed)", p->i, p->n, p->name, stage, el);
    fflush(stderr);
}

/* ---- inputs ---- */

typedef struct inputs {
    char **v;
    int n, cap;
} inputs;

static int push_input(inputs *in, const char *path)
{
    if (in->n == in->cap) {
        int cap = in->cap ? 2 * in->cap : 16;
        char **nv = realloc(in->v, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        in->v = nv;
        in->cap = cap;
    }
    if (!(in->v[in->n] = strdup(path))) return -1;
    in->n++;
    return 0;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return -1;
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    return amt_is_dir(buf) ? 0 : -1;
}

/* The models directory: --models, $AMT_MODELS, ./models, BIN/../models. NULL if none. */
static char *models_dir(const char *opt, char *tried, size_t n)
{
    if (opt) return strdup(opt);
    const char *env = getenv("AMT_MODELS");
    if (env && *env) return strdup(env);
    if (amt_is_dir("models")) return strdup("models");
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[PATH_MAX + 16];
            snprintf(cand, sizeof cand, "%s/../models", exe);
            if (amt_is_dir(cand)) return strdup(cand);
            snprintf(tried, n, "$AMT_MODELS (unset), ./models, %s", cand);
            return NULL;
        }
    }
    snprintf(tried, n, "$AMT_MODELS (unset), ./models");
    return NULL;
}

/* A number option in [lo, hi] (what: "a duration in milliseconds", ...); unset keeps *out. */
static int opt_range(amt_cli_opt *o, double lo, double hi, const char *what, double *out)
{
    if (!o->set) return 0;
    if (amt_cli_double(o->value, out) || !(*out >= lo && *out <= hi)) {
        fprintf(stderr, "amt-infer: --%s: '%s' is not %s (%g..%g)\n", o->name, o->value, what, lo, hi);
        return -1;
    }
    return 0;
}

static void print_summary(const char *input, const amt_pipeline_result *r)
{
    printf("%s: %.2f s, %d Hz, %d channel%s\n", input, r->seconds, r->rate, r->channels, r->channels == 1 ? "" : "s");
    if (r->classified) {
        int t = r->cls.top;
        printf("  instrument   %s (%s, p = %.2f)\n", amt_classifier_class_names[t], amt_classifier_classes[t],
               r->cls.probs[t]);
    }
    if (r->transcribed) {
        printf("  transcriber  %s (%s)%s\n", r->model, r->model_instrument, r->warning[0] ? " [closest available]" : "");
        printf("  notes        %d\n", r->notes);
    }
    printf("  seconds     ");
    if (r->t_separate > 0) printf(" separate %.2f", r->t_separate);
    if (r->classified) printf(" classify %.2f", r->t_classify);
    if (r->transcribed) printf(" transcribe %.2f", r->t_transcribe);
    printf("\n");
    printf("  wrote       ");
    for (int i = 0; i < r->n_outputs; i++) printf(" %s", amt_path_base(r->outputs[i]));
    printf("\n");
}

int main(int argc, char **argv)
{
    amt_cli_wait_policy(argv);
    amt_cli_opt opts[] = {
        {"out", 'o', 1, NULL, 0},           {"stages", 0, 1, NULL, 0},          {"models", 0, 1, NULL, 0},
        {"threads", 0, 1, NULL, 0},         {"onset-threshold", 0, 1, NULL, 0}, {"frame-threshold", 0, 1, NULL, 0},
        {"sustain-threshold", 0, 1, NULL, 0}, {"min-note-ms", 0, 1, NULL, 0},     {"gap-ms", 0, 1, NULL, 0},          {"min-pitch", 0, 1, NULL, 0},       {"max-pitch", 0, 1, NULL, 0},
        {"save-activations", 0, 0, NULL, 0}, {"segment-seconds", 0, 1, NULL, 0}, {"quiet", 'q', 0, NULL, 0},        {"help", 'h', 0, NULL, 0},
        {"version", 0, 0, NULL, 0},
    };
    const int nopt = (int)(sizeof opts / sizeof opts[0]);
    const char **pos = malloc((size_t)(argc > 1 ? argc : 1) * sizeof *pos);
    if (!pos) { fprintf(stderr, "amt-infer: out of memory\n"); return AMT_EXIT_FAIL; }
    int npos = 0;
    char err[512];
    if (amt_cli_parse(argc, argv, 1, opts, nopt, pos, argc, &npos, err, sizeof err)) {
        free(pos);
        return usage_error(err);
    }
#define OPT(name) amt_cli_find(opts, nopt, name)
    if (OPT("help")->set) { usage(stdout); free(pos); return AMT_EXIT_OK; }
    if (OPT("version")->set) { printf("amt-infer %s\n", AMT_VERSION); free(pos); return AMT_EXIT_OK; }
    int quiet = OPT("quiet")->set > 0;
    int rc_usage = 0;
    amt_pipeline_opts po;
    amt_pipeline_opts_default(&po);
    if (npos == 0) { usage(stderr); rc_usage = 1; }
    else if (!OPT("out")->set) { usage_error("missing -o OUTDIR"); rc_usage = 1; }
    if (!rc_usage && OPT("stages")->set && amt_pipeline_parse_stages(OPT("stages")->value, &po.stages)) {
        usage_error(amt_errmsg());
        rc_usage = 1;
    }
    if (!rc_usage && OPT("threads")->set) {
        long n;
        if (amt_cli_long(OPT("threads")->value, &n) || n < 1 || n > MAX_THREADS) {
            fprintf(stderr, "amt-infer: --threads: '%s' is not a thread count (1..%d)\n", OPT("threads")->value, MAX_THREADS);
            rc_usage = 1;
        } else {
            amt_set_threads((int)n);
        }
    }
    if (!rc_usage && amt_knobs_parse(opts, nopt, &po.knobs, NULL, err, sizeof err)) {
        usage_error(err);
        rc_usage = 1;
    }
    if (!rc_usage && opt_range(OPT("segment-seconds"), 0.5, 3600, "a duration in seconds", &po.segment_s))
        rc_usage = 1;
    if (rc_usage) { free(pos); return AMT_EXIT_USAGE; }
    po.save_activations = OPT("save-activations")->set > 0;
    if (po.save_activations && !(po.stages & AMT_STAGE_TRANSCRIBE)) {
        free(pos);
        return usage_error("--save-activations needs the transcribe stage");
    }
    const char *outdir = OPT("out")->value;

    /* models */
    double t_start = amt_progress_now();
    char tried[PATH_MAX + 64] = "";
    char *mdir = models_dir(OPT("models")->value, tried, sizeof tried);
    if (!mdir) {
        fprintf(stderr, "amt-infer: no models directory found (tried %s); give --models DIR\n", tried);
        free(pos);
        return AMT_EXIT_FAIL;
    }
    amt_model_dir md;
    if (amt_model_dir_scan(mdir, &md)) {
        fprintf(stderr, "amt-infer: %s%s\n", amt_errmsg(), OPT("models")->set ? " (--models)" : "");
        free(mdir);
        free(pos);
        return AMT_EXIT_FAIL;
    }
    free(mdir);
    if (!quiet)
        for (int i = 0; i < md.nskipped; i++) fprintf(stderr, "amt-infer: warning: skipped %s\n", md.skipped[i]);
    prog pr = {!quiet && isatty(fileno(stderr)), 0, 0, "", 0};
    po.on_stage = on_stage;
    po.ctx = &pr;
    amt_pipeline *pipe = NULL;
    if (amt_pipeline_open(&md, &po, &pipe)) {
        fprintf(stderr, "amt-infer: %s\n", amt_errmsg());
        amt_model_dir_free(&md);
        free(pos);
        return AMT_EXIT_FAIL;
    }
    double t_models = amt_progress_now() - t_start;

    /* inputs: files as given, directories expanded (sorted); a missing one fails alone */
    inputs in = {NULL, 0, 0};
    int failed = 0, oom = 0;
    for (int i = 0; i < npos && !oom; i++) {
        if (amt_is_dir(pos[i])) {
            amt_file_list fl;
            memset(&fl, 0, sizeof fl);
            if (amt_list_dir(pos[i], 0, AUDIO_EXTS, &fl)) {
                fprintf(stderr, "amt-infer: %s\n", amt_errmsg());
                failed++;
                continue;
            }
            if (fl.n == 0) {
                fprintf(stderr, "amt-infer: %s: no audio files in this directory\n", pos[i]);
                failed++;
            }
            for (int k = 0; k < fl.n && !oom; k++) {
                char *p = amt_path_join(pos[i], fl.v[k]);
                oom = !p || push_input(&in, p);
                free(p);
            }
            amt_file_list_free(&fl);
        } else {
            oom = push_input(&in, pos[i]);
        }
    }
    free(pos);
    if (oom) { fprintf(stderr, "amt-infer: out of memory\n"); failed++; }
    if (in.n > 0 && make_dirs(outdir)) {
        fprintf(stderr, "amt-infer: %s: cannot create the output directory (-o): %s\n", outdir, strerror(errno));
        in.n = 0;
        failed++;
    }

    /* the batch */
    double audio_s = 0, t_run0 = amt_progress_now();
    pr.n = in.n;
    pr.t0 = t_run0;
    int done = 0;
    for (int i = 0; i < in.n; i++) {
        pr.i = i + 1;
        pr.name = amt_path_base(in.v[i]);
        /* two inputs with the same NAME would overwrite each other's outputs */
        char *stem = amt_path_strip_ext(amt_path_base(in.v[i]));
        int clash = -1;
        for (int k = 0; k < i && stem && clash < 0; k++) {
            char *s2 = amt_path_strip_ext(amt_path_base(in.v[k]));
            if (s2 && !strcmp(stem, s2)) clash = k;
            free(s2);
        }
        if (clash >= 0) {
            prog_clear(&pr);
            fprintf(stderr, "amt-infer: %s: its outputs %s.* would overwrite those of %s; skipped\n", in.v[i], stem,
                    in.v[clash]);
            free(stem);
            failed++;
            continue;
        }
        free(stem);
        amt_pipeline_result res;
        int rc = amt_pipeline_run(pipe, in.v[i], outdir, &res);
        prog_clear(&pr);
        if (rc) {
            const char *msg = amt_errmsg();
            if (strstr(msg, in.v[i])) fprintf(stderr, "amt-infer: %s\n", msg);
            else fprintf(stderr, "amt-infer: %s: %s\n", in.v[i], msg);
            failed++;
        } else {
            if (res.warning[0] && !quiet) fprintf(stderr, "amt-infer: warning: %s: %s\n", in.v[i], res.warning);
            print_summary(in.v[i], &res);
            fflush(stdout);
            audio_s += res.seconds;
            done++;
        }
        amt_pipeline_result_free(&res);
    }
    double t_run = amt_progress_now() - t_run0;
    prog_clear(&pr);
    struct rusage ru;
    double peak_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0;   /* ru_maxrss: KB */
    printf("%d input%s done, %d failed: %.2f s of audio in %.2f s = %.1fx real time (models loaded in %.2f s, "
           "peak memory %.0f MB); outputs in %s\n",
           done, done == 1 ? "" : "s", failed, audio_s, t_run, t_run > 0 ? audio_s / t_run : 0.0, t_models, peak_mb,
           outdir);
    for (int i = 0; i < in.n; i++) free(in.v[i]);
    free(in.v);
    amt_pipeline_close(pipe);
    amt_model_dir_free(&md);
    return failed ? AMT_EXIT_FAIL : AMT_EXIT_OK;
#undef OPT
}
