/* tests/golden.h: reads the golden files of tests/golden/ (written by golden_io.py).
 * Format, text: a record is a line "@NAME NDIM D0 D1 ..." followed by the values
 * (whitespace separated, %.9g). golden_get returns a malloc'd copy of NAME's values (the
 * caller frees) and its shape, or NULL when the file or name is missing. */
#ifndef AMT_GOLDEN_H
#define AMT_GOLDEN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline float *golden_get(const char *path, const char *name, int *ndim, int *shape, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "  golden: cannot open %s\n", path); return NULL; }
    char tag[256];
    float *out = NULL;
    while (fscanf(f, " @%255s", tag) == 1) {
        int nd = 0, sh[8] = {0};
        if (fscanf(f, "%d", &nd) != 1 || nd < 0 || nd > 8) break;
        size_t cnt = 1;
        for (int i = 0; i < nd; i++) { if (fscanf(f, "%d", &sh[i]) != 1) { nd = -1; break; } cnt *= (size_t)sh[i]; }
        if (nd < 0) break;
        int match = strcmp(tag, name) == 0;
        float *v = match ? malloc((cnt ? cnt : 1) * sizeof(float)) : NULL;
        for (size_t i = 0; i < cnt; i++) {
            double x;
            if (fscanf(f, "%lf", &x) != 1) { free(v); v = NULL; match = 0; break; }
            if (v) v[i] = (float)x;
        }
        if (match) {
            if (ndim) *ndim = nd;
            for (int i = 0; shape && i < nd; i++) shape[i] = sh[i];
            if (n) *n = cnt;
            out = v;
            break;
        }
    }
    fclose(f);
    if (!out) fprintf(stderr, "  golden: %s has no record '%s'\n", path, name);
    return out;
}

/* Max over i of |a[i] - b[i]| / max(floor, |b[i]|). */
static inline double golden_max_rel(const float *a, const float *b, size_t n, double floor_)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        double den = fabs((double)b[i]) > floor_ ? fabs((double)b[i]) : floor_;
        if (d < 0) d = -d;
        if (d / den > worst) worst = d / den;
    }
    return worst;
}

#endif
