#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/picture.h"
#include "core/error.h"
#include "app/plot.h"

#define LOG_LINE_MAX 8192

static int grow(amt_train_log *l)
{
    if (l->nrow < l->cap) return AMT_OK;
    int cap = l->cap ? 2 * l->cap : 64;
    double *r = realloc(l->rows, (size_t)cap * (size_t)l->ncol * sizeof *r);
    if (!r) return amt_error(AMT_ENOMEM, "%s: out of memory", l->csv_path);
    l->rows = r;
    l->cap = cap;
    return AMT_OK;
}

static void write_value(FILE *f, double v)
{
    if (isnan(v)) fputs("nan", f);
    else fprintf(f, "%.17g", v);
}

static void write_row(FILE *f, const amt_train_log *l, const double *row)
{
    for (int j = 0; j < l->ncol; j++) {
        if (j) fputc(',', f);
        write_value(f, row[j]);
    }
    fputc('\n', f);
}

/* Writes the header and every row to csv_path.tmp, then renames it over csv_path. */
static int rewrite(amt_train_log *l)
{
    size_t n = strlen(l->csv_path) + 5;
    char *tmp = malloc(n);
    if (!tmp) return amt_error(AMT_ENOMEM, "%s: out of memory", l->csv_path);
    snprintf(tmp, n, "%s.tmp", l->csv_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        free(tmp);
        return amt_error(AMT_EIO, "%s: cannot write log: %s", l->csv_path, strerror(e));
    }
    for (int j = 0; j < l->ncol; j++) fprintf(f, "%s%s", j ? "," : "", l->names[j]);
    fputc('\n', f);
    for (int i = 0; i < l->nrow; i++) write_row(f, l, l->rows + (size_t)i * l->ncol);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, l->csv_path) != 0) {
        remove(tmp);
        free(tmp);
        return amt_error(AMT_EIO, "%s: cannot write log", l->csv_path);
    }
    free(tmp);
    return AMT_OK;
}

/* Reads an existing CSV: header must equal names; rows with epoch <= keep are kept. */
static int read_existing(amt_train_log *l, FILE *f, int64_t keep)
{
    char *line = malloc(LOG_LINE_MAX);
    if (!line) return amt_error(AMT_ENOMEM, "%s: out of memory", l->csv_path);
    int rc = AMT_OK, lineno = 0;
    if (!fgets(line, LOG_LINE_MAX, f)) { free(line); return AMT_OK; }   /* empty file: start afresh */
    lineno = 1;
    line[strcspn(line, "\r\n")] = 0;
    char want[LOG_LINE_MAX];
    size_t used = 0;
    want[0] = 0;
    for (int j = 0; j < l->ncol; j++) {
        int w = snprintf(want + used, sizeof want - used, "%s%s", j ? "," : "", l->names[j]);
        if (w > 0 && used + (size_t)w < sizeof want) used += (size_t)w;
    }
    if (strcmp(line, want) != 0) {
        amt_error(AMT_EFORMAT, "%s: columns '%s' differ from this run's '%s' (move the old log away)", l->csv_path,
                  line, want);
        free(line);
        return AMT_EFORMAT;
    }
    while (fgets(line, LOG_LINE_MAX, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == 0) continue;
        if ((rc = grow(l))) break;
        double *row = l->rows + (size_t)l->nrow * l->ncol;
        char *p = line;
        int j;
        for (j = 0; j < l->ncol; j++) {
            char *end;
            row[j] = strtod(p, &end);
            if (end == p || (j + 1 < l->ncol ? *end != ',' : (*end != '\n' && *end != '\r' && *end != 0))) break;
            p = end + 1;
        }
        if (j < l->ncol) { rc = amt_error(AMT_EFORMAT, "%s:%d: malformed log row", l->csv_path, lineno); break; }
        if (row[0] <= (double)keep) l->nrow++;
    }
    free(line);
    return rc;
}

int amt_train_log_open(amt_train_log *l, const char *csv_path, const char *png_path, int ncol,
                       const char *const *names, const int *panel, int64_t keep_epochs)
{
    memset(l, 0, sizeof *l);
    if (ncol < 2 || ncol > AMT_LOG_MAX_COLS || strcmp(names[0], "epoch") || strcmp(names[1], "step"))
        return amt_error(AMT_EINVAL, "%s: log needs 2..%d columns starting with epoch, step", csv_path, AMT_LOG_MAX_COLS);
    l->ncol = ncol;
    l->csv_path = strdup(csv_path);
    l->png_path = png_path ? strdup(png_path) : NULL;
    if (!l->csv_path || (png_path && !l->png_path)) goto oom;
    for (int j = 0; j < ncol; j++) {
        if (!(l->names[j] = strdup(names[j]))) goto oom;
        l->panel[j] = panel ? panel[j] : AMT_LOG_NOPLOT;
    }
    int rc;
    if (keep_epochs >= 0) {
        FILE *f = fopen(csv_path, "r");
        if (f) {
            rc = read_existing(l, f, keep_epochs);
            fclose(f);
            if (rc) { amt_train_log_close(l); return rc; }
        }
    }
    if ((rc = rewrite(l))) { amt_train_log_close(l); return rc; }
    return AMT_OK;
oom:
    amt_train_log_close(l);
    return amt_error(AMT_ENOMEM, "%s: out of memory", csv_path);
}

int amt_train_log_col(const amt_train_log *l, const char *name)
{
    for (int j = 0; j < l->ncol; j++)
        if (!strcmp(l->names[j], name)) return j;
    return -1;
}

int amt_train_log_append(amt_train_log *l, const double *row)
{
    int rc = grow(l);
    if (rc) return rc;
    memcpy(l->rows + (size_t)l->nrow * l->ncol, row, (size_t)l->ncol * sizeof *row);
    l->nrow++;
    FILE *f = fopen(l->csv_path, "a");
    if (!f) return amt_error(AMT_EIO, "%s: cannot append to log: %s", l->csv_path, strerror(errno));
    write_row(f, l, row);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) return amt_error(AMT_EIO, "%s: cannot append to log", l->csv_path);
    if (l->png_path) return amt_train_log_plot(l, l->png_path);
    return AMT_OK;
}

int amt_train_log_plot(const amt_train_log *l, const char *path)
{
    static const char *const titles[3] = {NULL, "training loss", "validation"};
    static const unsigned char WHITE[3] = {255, 255, 255};
    amt_image panels[2];
    int np = 0, rc = AMT_OK;
    double *x = malloc((size_t)(l->nrow > 0 ? l->nrow : 1) * sizeof *x);
    double *ys = malloc((size_t)(l->nrow > 0 ? l->nrow : 1) * (size_t)l->ncol * sizeof *ys);
    if (!x || !ys) { free(x); free(ys); return amt_error(AMT_ENOMEM, "%s: out of memory", path); }
    for (int i = 0; i < l->nrow; i++) x[i] = l->rows[(size_t)i * l->ncol];
    for (int j = 0; j < l->ncol; j++)   /* column-major copies for the plot */
        for (int i = 0; i < l->nrow; i++) ys[(size_t)j * l->nrow + i] = l->rows[(size_t)i * l->ncol + j];
    for (int p = AMT_LOG_PANEL_LOSS; p <= AMT_LOG_PANEL_METRIC && rc == AMT_OK; p++) {
        amt_plot_series s[AMT_PLOT_MAX_SERIES];
        int ns = 0;
        for (int j = 0; j < l->ncol && ns < AMT_PLOT_MAX_SERIES; j++)
            if (l->panel[j] == p) s[ns++] = (amt_plot_series){l->names[j], x, ys + (size_t)j * l->nrow, l->nrow};
        if (ns == 0) continue;
        rc = amt_plot_lines(&panels[np], AMT_LOG_PLOT_W, AMT_LOG_PLOT_H, titles[p], "epoch", s, ns);
        if (rc == AMT_OK) np++;
    }
    if (rc == AMT_OK && np == 0) {   /* nothing to draw: an empty loss panel */
        rc = amt_plot_lines(&panels[0], AMT_LOG_PLOT_W, AMT_LOG_PLOT_H, titles[1], "epoch", NULL, 0);
        if (rc == AMT_OK) np = 1;
    }
    if (rc == AMT_OK) {
        amt_image all;
        rc = amt_picture_vstack(&all, panels, np, 0, WHITE);
        if (rc == AMT_OK) {
            rc = amt_image_write_png(&all, path);
            amt_image_free(&all);
        }
    }
    for (int i = 0; i < np; i++) amt_image_free(&panels[i]);
    free(x);
    free(ys);
    return rc;
}

void amt_train_log_close(amt_train_log *l)
{
    free(l->csv_path);
    free(l->png_path);
    for (int j = 0; j < AMT_LOG_MAX_COLS; j++) free(l->names[j]);
    free(l->rows);
    memset(l, 0, sizeof *l);
}
