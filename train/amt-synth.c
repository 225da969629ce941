/* train/amt-synth.c: renders a dataset in the MIR-1K, IRMAS or MAPS layout.
 *   amt-synth {mir1k|irmas|maps} --out DIR [--minutes N | --count N] [--seed S]
 *             [--soundfont FILE ...] [--midi DIR] [--max-seconds S] [--threads N] [-q]
 * Exit 0 on success, 1 on a runtime failure, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "datasets/synth.h"
#include "app/cli.h"

#ifndef AMT_VERSION
#define AMT_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: amt-synth {mir1k|irmas|maps} --out DIR [--minutes N | --count N] [--seed S]\n"
        "                 [--soundfont FILE ...] [--midi DIR] [--max-seconds S] [--threads N] [-q]\n"
        "Renders a dataset with fluidsynth in the on-disk layout of MIR-1K, IRMAS or MAPS.\n"
        "  --out DIR          output directory (created)\n"
        "  --minutes N        minutes of audio to render (default 1)\n"
        "  --count N          number of files instead (IRMAS: training files)\n"
        "  --seed S           random seed (default 1); same seed => same files\n"
        "  --soundfont FILE   .sf2/.sf3 to use (repeatable; default FluidR3_GM + TimGM6mb)\n"
        "  --midi DIR         maps: also render excerpts of the .mid files under DIR\n"
        "  --max-seconds S    cap on the length of one file\n"
        "  --threads N        rendering threads (default: OpenMP's)\n"
        "  -q, --quiet        no progress or summary on stderr\n"
        "  --help, --version\n");
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "amt-synth: %s: bad number '%s' (expected %g..%g)\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct prog { int quiet, tty; double t0, last; } prog;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* One line redrawn in place on a terminal (at most 4 times a second, and at the end). */
static void progress(void *ud, long done, long total, double audio_s)
{
    prog *p = ud;
    if (p->quiet || !p->tty) return;
    double t = now_s(), el = t - p->t0;
    if (done < total && t - p->last < 0.25) return;
    p->last = t;
    int w = 30, k = total > 0 ? (int)(w * done / total) : w;
    double eta = done > 0 ? el * (total - done) / done : 0;
    fprintf(stderr, "\r[%.*s%*s] %ld/%ld files  %.1f min audio  %.1fx real time  ETA %.0f s ", k,
            "##############################", w - k, "", done, total, audio_s / 60, el > 0 ? audio_s / el : 0, eta);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

int main(int argc, char **argv)
{
    amt_cli_wait_policy(argv);
    amt_synth_cfg cfg;
    amt_synth_defaults(&cfg);
    prog pr = {0, isatty(2), now_s(), 0};
    const char *kind = NULL;
    int have_minutes = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
#define NEED_ARG() do { if (i + 1 >= argc) { fprintf(stderr, "amt-synth: %s needs a value\n", a); return 2; } } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--version")) { printf("amt-synth %s\n", AMT_VERSION); return 0; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) pr.quiet = 1;
        else if (!strcmp(a, "--out")) { NEED_ARG(); cfg.out_dir = argv[++i]; }
        else if (!strcmp(a, "--minutes")) { NEED_ARG(); if (parse_num(a, argv[++i], 1e-3, 1e6, &v)) return 2; cfg.minutes = v; have_minutes = 1; }
        else if (!strcmp(a, "--count")) { NEED_ARG(); if (parse_num(a, argv[++i], 1, 1e7, &v)) return 2; cfg.count = (long)v; }
        else if (!strcmp(a, "--seed")) { NEED_ARG(); if (parse_num(a, argv[++i], 0, 9007199254740992.0, &v)) return 2; cfg.seed = (uint64_t)v; }
        else if (!strcmp(a, "--max-seconds")) { NEED_ARG(); if (parse_num(a, argv[++i], 0.5, 3600, &v)) return 2; cfg.max_item_s = v; }
        else if (!strcmp(a, "--threads")) { NEED_ARG(); if (parse_num(a, argv[++i], 1, 256, &v)) return 2; cfg.threads = (int)v; }
        else if (!strcmp(a, "--midi")) { NEED_ARG(); cfg.midi_dir = argv[++i]; }
        else if (!strcmp(a, "--soundfont")) {
            NEED_ARG();
            if (cfg.nfonts >= AMT_RENDER_MAX_FONTS) { fprintf(stderr, "amt-synth: at most %d soundfonts\n", AMT_RENDER_MAX_FONTS); return 2; }
            cfg.fonts[cfg.nfonts++] = argv[++i];
        }
        else if (a[0] == '-') { fprintf(stderr, "amt-synth: unknown option '%s' (see --help)\n", a); return 2; }
        else if (!kind) kind = a;
        else { fprintf(stderr, "amt-synth: unexpected argument '%s'\n", a); return 2; }
    }
    if (!kind) { fprintf(stderr, "amt-synth: which dataset? mir1k, irmas or maps (see --help)\n"); return 2; }
    if (strcmp(kind, "mir1k") && strcmp(kind, "irmas") && strcmp(kind, "maps")) {
        fprintf(stderr, "amt-synth: unknown dataset '%s' (mir1k, irmas or maps)\n", kind);
        return 2;
    }
    if (!cfg.out_dir) { fprintf(stderr, "amt-synth: --out DIR is required\n"); return 2; }
    if (have_minutes && cfg.count > 0) { fprintf(stderr, "amt-synth: give --minutes or --count, not both\n"); return 2; }
    if (cfg.midi_dir && strcmp(kind, "maps")) { fprintf(stderr, "amt-synth: --midi is for maps only\n"); return 2; }
    /* check soundfonts and the output directory before the slow work */
    for (int i = 0; i < cfg.nfonts; i++)
        if (access(cfg.fonts[i], R_OK) != 0) { fprintf(stderr, "amt-synth: %s: cannot read soundfont: %s\n", cfg.fonts[i], strerror(errno)); return 1; }
    if (amt_synth_mkdirs(cfg.out_dir)) { fprintf(stderr, "amt-synth: %s\n", amt_errmsg()); return 1; }
    cfg.progress = progress;
    cfg.progress_ud = &pr;
    amt_synth_stats st;
    int rc = !strcmp(kind, "maps") ? amt_synth_maps(&cfg, &st) : !strcmp(kind, "mir1k") ? amt_synth_mir1k(&cfg, &st)
                                                                                       : amt_synth_irmas(&cfg, &st);
    if (rc) {
        if (pr.tty && !pr.quiet) fputc('\n', stderr);
        fprintf(stderr, "amt-synth: %s\n", amt_errmsg());
        return 1;
    }
    if (!pr.quiet)
        fprintf(stderr, "amt-synth: %s: %ld files, %.1f s of audio in %.1f s (%.1fx real time)\n", kind, st.files,
                st.audio_s, st.wall_s, st.wall_s > 0 ? st.audio_s / st.wall_s : 0);
    printf("%s\t%ld files\t%.1f s audio\t%.2f s wall\t%.1fx real time\n", kind, st.files, st.audio_s, st.wall_s,
           st.wall_s > 0 ? st.audio_s / st.wall_s : 0);
    return 0;
}
