/* tests/tool_run.h: helpers for tests that run the built tools (bin/amt-*) in a temporary
 * directory: tool_setup() makes tmp (the work directory) and finds bin (the tools, from
 * $AMT_BIN, default bin/), run() captures stdout/stderr into out_s/err_s, tool_cleanup()
 * removes tmp. Include after tests/test.h. */
#ifndef AMT_TESTS_TOOL_RUN_H
#define AMT_TESTS_TOOL_RUN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test.h"

static char tmp[256];
static char bin[512];
static char out_s[65536], err_s[16384];

/* Runs the shell command cmd with stdout and stderr captured (files in tmp) into out_s and
 * err_s; returns the exit code (-1 if it crashed). */
static inline int run_cmd(const char *cmd)
{
    char full[4096 + 2 * sizeof tmp + 32];
    snprintf(full, sizeof full, "%s >'%s/stdout' 2>'%s/stderr'", cmd, tmp, tmp);
    int st = system(full);
    char p[512];
    out_s[0] = err_s[0] = '\0';
    snprintf(p, sizeof p, "%s/stdout", tmp);
    FILE *f = fopen(p, "r");
    if (f) { size_t n = fread(out_s, 1, sizeof out_s - 1, f); out_s[n] = '\0'; fclose(f); }
    snprintf(p, sizeof p, "%s/stderr", tmp);
    f = fopen(p, "r");
    if (f) { size_t n = fread(err_s, 1, sizeof err_s - 1, f); err_s[n] = '\0'; fclose(f); }
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

/* Runs "BIN/tool args" with tmp as the working directory (see run_cmd). */
static inline int run(const char *tool, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/%s' %s", tmp, bin, tool, args);
    return run_cmd(cmd);
}

/* The whole file at path, NUL-terminated, malloc'd (caller frees); NULL if unreadable. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* Number of lines (newlines) in s. */
static inline int lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* 1 if tmp/rel exists and is readable. */
static inline int exists(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    return access(p, R_OK) == 0;
}

/* The number after key at or after the first occurrence of from (NAN when absent). */
static inline double json_num(const char *text, const char *from, const char *key)
{
    const char *p = from ? strstr(text, from) : text;
    if (!p) return NAN;
    p = strstr(p, key);
    if (!p) return NAN;
    p += strlen(key);
    while (*p == '"' || *p == ':' || *p == ' ') p++;
    return strtod(p, NULL);
}

/* Resolves bin from $AMT_BIN (relative to the working directory) and makes tmp from the
 * mkdtemp pattern (e.g. "/tmp/amt_test_x_XXXXXX"). 0, or -1 after printing why. */
static inline int tool_setup(const char *pattern)
{
    char cwd[400];
    const char *b = getenv("AMT_BIN");
    if (!getcwd(cwd, sizeof cwd)) { fprintf(stderr, "getcwd failed\n"); return -1; }
    b = b && *b ? b : "bin";
    if (b[0] == '/') snprintf(bin, sizeof bin, "%s", b);
    else snprintf(bin, sizeof bin, "%s/%s", cwd, b);
    snprintf(tmp, sizeof tmp, "%s", pattern);
    if (!mkdtemp(tmp)) { fprintf(stderr, "cannot make a temporary directory\n"); return -1; }
    return 0;
}

/* Removes tmp and everything in it. */
static inline void tool_cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

/* 1 if amt-synth, amt-train and amt-eval are in bin; else fails the current test. */
static inline int tools_ok(void)
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

/* 1 if err_s is exactly one line holding needle and (when not NULL) needle2. */
static inline int one_error_line(const char *needle, const char *needle2)
{
    return lines(err_s) == 1 && strstr(err_s, needle) && (!needle2 || strstr(err_s, needle2));
}

/* Checks a tool run that must fail on bad input (its exit status rc): status want (0: 1 or
 * 2) and one stderr line holding needle and needle2 (NULL: none). */
#define CHECK_TOOL_ERROR(rc, want, needle, needle2) do { \
        int rc_ = (rc); \
        CHECK_MSG((want) ? rc_ == (want) : (rc_ == 1 || rc_ == 2), "exit %d: %s", rc_, err_s); \
        CHECK_MSG(one_error_line(needle, needle2), "%s", err_s); \
    } while (0)

/* The bad data folders every amt-train kind must refuse with config ini (in tmp): a missing
 * train.data_dir and an empty one (tmp/empty, plus tmp/empty/sub when sub is not NULL, as a
 * layout's own folder) each give exit 1 or 2, one stderr line naming the folder (and
 * empty_msg for the empty one, when not NULL) and no checkpoint. */
static inline void check_train_bad_dirs(const char *ini, const char *sub, const char *empty_msg)
{
    char args[1024], p[512];
    snprintf(args, sizeof args, "%s -q --out bad --set train.data_dir=no_such_dir", ini);
    CHECK_TOOL_ERROR(run("amt-train", args), 0, "no_such_dir", NULL);
    CHECK(!exists("bad/last.h5"));
    snprintf(p, sizeof p, "%s/empty", tmp);
    mkdir(p, 0755);
    if (sub) {
        snprintf(p, sizeof p, "%s/empty/%s", tmp, sub);
        mkdir(p, 0755);
    }
    snprintf(args, sizeof args, "%s -q --out bad --set train.data_dir=empty", ini);
    CHECK_TOOL_ERROR(run("amt-train", args), 0, "empty", empty_msg);
    CHECK(!exists("bad/last.h5"));
}

/* amt-eval --model model on a missing data folder (and on tmp/empty when empty_too): exit 1
 * and one stderr line naming the folder. */
static inline void check_eval_bad_dirs(const char *model, int empty_too)
{
    char args[1024];
    snprintf(args, sizeof args, "--model %s --data no_such_dir -q", model);
    CHECK_TOOL_ERROR(run("amt-eval", args), 1, "no_such_dir", NULL);
    if (empty_too) {
        snprintf(args, sizeof args, "--model %s --data empty -q", model);
        CHECK_TOOL_ERROR(run("amt-eval", args), 1, "empty", NULL);
    }
}

/* Writes text to tmp/name; 0 or -1. */
static inline int write_tmp(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The train_loss column (4th) of tmp/DIR/log.csv (amt-train's log) into loss, up to max
 * rows; the header must also name metric. Rows read, or -1. */
static inline int read_losses(const char *dir, const char *metric, double *loss, int max)
{
    char p[512], line[2048];
    snprintf(p, sizeof p, "%s/%s/log.csv", tmp, dir);
    FILE *f = fopen(p, "r");
    if (!f) return -1;
    int n = 0;
    if (!fgets(line, sizeof line, f) || !strstr(line, "train_loss") || !strstr(line, metric)) { fclose(f); return -1; }
    while (n < max && fgets(line, sizeof line, f)) {
        char *c = line;   /* epoch,step,lr,train_loss,... */
        for (int k = 0; k < 3 && c; k++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        if (c) loss[n++] = strtod(c, NULL);
    }
    fclose(f);
    return n;
}

#endif
