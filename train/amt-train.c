/* train/amt-train.c: trains a model described by an INI config.
 *   amt-train CONFIG [--resume CKPT] [--set section.key=value ...] [--out DIR] [-q] [--threads N]
 * [model] kind picks the model (train/registry.h); [train] and [optim] drive the loop
 * (train/trainer.h). Writes DIR/last.h5, DIR/best.h5, DIR/log.csv, DIR/curves.png.
 * Exit 0 on success, 1 on a runtime failure, 2 on bad usage or config, 128 + signal when
 * Ctrl-C/SIGTERM stopped the run (after saving DIR/last.h5). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/threads.h"
#include "app/cli.h"
#include "train/registry.h"

#ifndef AMT_VERSION
#define AMT_VERSION "unknown"
#endif

#define MAX_SETS 256
#define MAX_THREADS 1024

static void usage(FILE *f)
{
    fprintf(f,
        "usage: amt-train CONFIG [--resume CKPT] [--set section.key=value ...]\n"
        "                 [--out DIR] [--threads N] [-q]\n"
        "Trains the model described by CONFIG (an INI file; [model] kind picks it).\n"
        "  --resume CKPT   continue from a DIR/last.h5: parameters, optimizer state,\n"
        "                  epoch, step and random state; the log continues (best.h5\n"
        "                  holds parameters only and cannot be resumed)\n"
        "  --set S.K=V     override a config value (repeatable): --set train.epochs=5\n"
        "  --out DIR       output directory (default: [train] out_dir, else runs/NAME for\n"
        "                  CONFIG NAME.ini); gets last.h5, best.h5, log.csv, curves.png\n"
        "  --threads N     threads for OpenMP/OpenBLAS (default: all cores); results are\n"
        "                  bit-identical for the same seed and thread count\n"
        "  -q, --quiet     no progress or epoch lines on stderr\n"
        "  -h, --help      this help;  --version  print the version\n"
        "Ctrl-C finishes the current step, saves DIR/last.h5 and exits (status 130).\n"
        "exit status: 0 success, 1 runtime failure, 2 bad usage or config\n"
        "model kinds:");
    const amt_model_kind *const *k = amt_model_kinds();
    if (!k[0]) fprintf(f, " (none built in)");
    for (; *k; k++) fprintf(f, "\n  %-14s %s", (*k)->name, (*k)->description ? (*k)->description : "");
    fputc('\n', f);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "amt-train: %s (see amt-train --help)\n", msg);
    return AMT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    amt_cli_wait_policy(argv);
    /* --set may repeat: collect those first, hand the rest to amt_cli_parse */
    const char *sets[MAX_SETS];
    int nset = 0, nrest = 0;
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    if (!rest) { fprintf(stderr, "amt-train: out of memory\n"); return AMT_EXIT_FAIL; }
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { while (i < argc) rest[nrest++] = argv[i++]; break; }
        const char *v = NULL;
        if (!strcmp(argv[i], "--set")) {
            if (i + 1 >= argc) { free(rest); return usage_error("--set needs a value section.key=value"); }
            v = argv[++i];
        } else if (!strncmp(argv[i], "--set=", 6)) {
            v = argv[i] + 6;
        }
        if (v) {
            if (nset >= MAX_SETS) { free(rest); return usage_error("too many --set options"); }
            sets[nset++] = v;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    rest[nrest] = NULL;
    amt_cli_opt opts[] = {
        {"resume", 0, 1, NULL, 0}, {"out", 0, 1, NULL, 0}, {"threads", 0, 1, NULL, 0},
        {"quiet", 'q', 0, NULL, 0}, {"help", 'h', 0, NULL, 0}, {"version", 0, 0, NULL, 0},
    };
    const int nopt = (int)(sizeof opts / sizeof opts[0]);
    const char *pos[2];
    int npos = 0;
    char err[256];
    int prc = amt_cli_parse(nrest, rest, 1, opts, nopt, pos, 2, &npos, err, sizeof err);
    free(rest);
    if (prc) return usage_error(err);
    if (amt_cli_find(opts, nopt, "help")->set) { usage(stdout); return AMT_EXIT_OK; }
    if (amt_cli_find(opts, nopt, "version")->set) { printf("amt-train %s\n", AMT_VERSION); return AMT_EXIT_OK; }
    if (npos == 0) {
        usage(stderr);
        return AMT_EXIT_USAGE;
    }
    if (npos > 1) return usage_error("exactly one CONFIG expected");
    const amt_cli_opt *th = amt_cli_find(opts, nopt, "threads");
    if (th->set) {
        long n;
        if (amt_cli_long(th->value, &n) || n < 1 || n > MAX_THREADS) {
            fprintf(stderr, "amt-train: --threads: '%s' is not a thread count (1..%d)\n", th->value, MAX_THREADS);
            return AMT_EXIT_USAGE;
        }
        amt_set_threads((int)n);
    }
    int quiet = amt_cli_find(opts, nopt, "quiet")->set > 0;
    const char *resume = amt_cli_find(opts, nopt, "resume")->value;
    if (resume && !amt_is_file(resume)) {
        fprintf(stderr, "amt-train: %s: no such checkpoint (--resume)\n", resume);
        return AMT_EXIT_USAGE;
    }

    amt_config *c = amt_config_load(pos[0]);
    if (!c) { fprintf(stderr, "amt-train: %s\n", amt_errmsg()); return AMT_EXIT_USAGE; }
    for (int i = 0; i < nset; i++)
        if (amt_config_set(c, sets[i])) {
            fprintf(stderr, "amt-train: %s\n", amt_errmsg());
            amt_config_free(c);
            return AMT_EXIT_USAGE;
        }
    const amt_model_kind *kind;
    if (amt_model_kind_read(c, NULL, &kind)) {
        fprintf(stderr, "amt-train: %s\n", amt_errmsg());
        amt_config_free(c);
        return AMT_EXIT_USAGE;
    }
    /* output directory: --out, else [train] out_dir (read by the loop), else runs/NAME */
    char *out = NULL;
    const char *outv = amt_cli_find(opts, nopt, "out")->value;
    if (!outv && !amt_config_has(c, "train", "out_dir")) {
        char *stem = amt_path_strip_ext(amt_path_base(pos[0]));
        out = stem ? amt_path_join("runs", stem) : NULL;
        free(stem);
        if (!out) { fprintf(stderr, "amt-train: out of memory\n"); amt_config_free(c); return AMT_EXIT_FAIL; }
        outv = out;
    }
    amt_train_opts to;
    memset(&to, 0, sizeof to);
    to.out_dir = outv;
    to.resume = resume;
    to.progress = quiet ? NULL : stderr;
    to.progress_tty = -1;
    to.catch_signals = 1;
    amt_train_result res;
    memset(&res, 0, sizeof res);
    int rc = amt_train_with_kind(c, kind, &to, &res);
    amt_config_free(c);
    int status = AMT_EXIT_OK;
    if (rc) {
        fprintf(stderr, "amt-train: %s\n", amt_errmsg());
        status = rc == AMT_ECONFIG ? AMT_EXIT_USAGE : AMT_EXIT_FAIL;
    } else {
        const char *dir = to.out_dir ? to.out_dir : "(config out_dir)";
        printf("%s\tepochs %lld\tsteps %lld\tloss %.6g\tbest %.6g at epoch %lld\n", dir, (long long)res.epoch,
               (long long)res.step, res.last_loss, res.best_metric, (long long)res.best_epoch);
        if (res.signal) status = 128 + res.signal;
    }
    free(out);
    return status;
}
