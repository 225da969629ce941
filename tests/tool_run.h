/* tests/tool_run.h: helpers for tests that run the built tools (bin/amt-*) in a temporary
 * directory: the test sets tmp (its work directory) and bin (where the tools are, from
 * $AMT_BIN), then run() captures stdout/stderr into out_s/err_s. */
#ifndef AMT_TESTS_TOOL_RUN_H
#define AMT_TESTS_TOOL_RUN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];
static char bin[512];
static char out_s[65536], err_s[8192];

/* Runs "BIN/tool args" in tmp; fills out_s/err_s; returns the exit code (-1 if it crashed). */
static inline int run(const char *tool, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/%s' %s >stdout 2>stderr", tmp, bin, tool, args);
    int st = system(cmd);
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

#endif
