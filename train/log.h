/* train/log.h: the training log: a CSV file with one row per epoch (written and flushed
 * as each epoch ends, so a killed run keeps its history) and a PNG of the curves redrawn
 * after every row. Values are written with 17 significant digits (doubles read back
 * exactly); a missing value is "nan". The first two columns are always "epoch" and
 * "step". A resumed run reopens its CSV, keeps the rows up to the checkpoint's epoch and
 * continues it, so the log of an interrupted run matches that of a straight run. */
#ifndef AMT_TRAIN_LOG_H
#define AMT_TRAIN_LOG_H

#include <stdint.h>

#define AMT_LOG_MAX_COLS 32
#define AMT_LOG_PLOT_W 900    /* pixels of each plot panel */
#define AMT_LOG_PLOT_H 360

/* Where a column is drawn in the PNG. */
enum { AMT_LOG_NOPLOT = 0, AMT_LOG_PANEL_LOSS = 1, AMT_LOG_PANEL_METRIC = 2 };

typedef struct amt_train_log {
    char *csv_path, *png_path;        /* owned copies; png_path NULL = no plot */
    int ncol;
    char *names[AMT_LOG_MAX_COLS];    /* owned */
    int panel[AMT_LOG_MAX_COLS];
    int nrow, cap;
    double *rows;                     /* nrow x ncol, owned */
} amt_train_log;

/* Opens a log with ncol columns called names[] (names[0] = "epoch", names[1] = "step"),
 * each drawn in panel[i] (AMT_LOG_*; NULL = none). keep_epochs < 0 starts a new log (an
 * existing CSV is replaced). keep_epochs >= 0 resumes: an existing CSV with the same
 * header keeps its rows whose epoch is <= keep_epochs and the file is rewritten with
 * them; a missing CSV starts empty; a CSV with other columns is an AMT_EFORMAT error
 * naming the file. AMT_EIO when the CSV cannot be written. */
int amt_train_log_open(amt_train_log *l, const char *csv_path, const char *png_path, int ncol,
                       const char *const *names, const int *panel, int64_t keep_epochs);
/* Appends one row (ncol values) to the history and the CSV (flushed), then redraws the
 * PNG when the log has one. AMT_EIO naming the file on a write failure. */
int amt_train_log_append(amt_train_log *l, const double *row);
/* Index of the column called name, or -1. */
int amt_train_log_col(const amt_train_log *l, const char *name);
/* Draws the curves (x = epoch): a "loss" panel and a "validation" panel, each present
 * when some column is assigned to it, stacked vertically; writes path as PNG. */
int amt_train_log_plot(const amt_train_log *l, const char *path);
void amt_train_log_close(amt_train_log *l);

#endif
