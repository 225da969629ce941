/* app/progress.h: the progress report of a training run. On a terminal it is one line
 * rewritten in place ("\r...", at most AMT_PROGRESS_TTY_HZ times a second); on anything
 * else (a log file, a pipe, a test) no carriage returns are written, only a plain line
 * every interval_s seconds. Messages (epoch summaries) are always whole lines. The line:
 *   epoch 3/20  step 1234/8000  loss 0.1234  1520 ex/s  lr 1.0e-03  ETA 1:02:03
 * Writes to the FILE given (the tool passes stderr; NULL = silent). */
#ifndef AMT_TRAIN_PROGRESS_H
#define AMT_TRAIN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define AMT_PROGRESS_TTY_HZ 4

typedef struct amt_progress {
    FILE *f;              /* NULL: silent */
    int tty;              /* f is a terminal: redraw one line */
    double interval_s;    /* non-terminal: seconds between plain lines (<= 0: never) */
    double t_start;       /* clock at init (seconds, monotonic) */
    double t_last;        /* clock of the last line written */
    int64_t step0;        /* step at init (for the rate: resumed runs start later) */
    int line_open;        /* a terminal line is shown without its newline */
} amt_progress;

/* Starts a report on f (NULL = silent). tty: 1/0, or -1 to ask isatty(fileno(f)). */
void amt_progress_init(amt_progress *p, FILE *f, int tty, double interval_s, int64_t step0);
/* Monotonic clock in seconds. */
double amt_progress_now(void);
/* Reports the state after a step; writes only when due (see above). epoch is 0-based
 * (shown 1-based), total_steps is the step count at the end of the run. */
void amt_progress_update(amt_progress *p, int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps,
                         double loss, double examples_per_step, double lr);
/* Writes a whole line (printf format), first ending a terminal line in progress. */
void amt_progress_message(amt_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the terminal line in progress, if any. */
void amt_progress_end(amt_progress *p);

/* The progress line text into buf (no newline). rate_steps_s: steps per second so far
 * (<= 0: unknown, no ETA). */
void amt_progress_format(char *buf, size_t n, int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps,
                         double loss, double examples_per_step, double lr, double rate_steps_s);
/* Seconds as "M:SS" or "H:MM:SS" ("?" when negative or not finite). */
void amt_format_duration(char *buf, size_t n, double seconds);

#endif
