#include "app/progress.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double amt_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void amt_progress_init(amt_progress *p, FILE *f, int tty, double interval_s, int64_t step0)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->tty = f ? (tty < 0 ? isatty(fileno(f)) : tty) : 0;
    p->interval_s = interval_s;
    p->t_start = p->t_last = amt_progress_now();
    p->step0 = step0;
}

void amt_format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || !isfinite(s) || s > 1e9) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void amt_progress_format(char *buf, size_t n, int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps,
                         double loss, double examples_per_step, double lr, double rate)
{
    char eta[32];
    if (rate > 0) amt_format_duration(eta, sizeof eta, (double)(total_steps - step) / rate);
    else snprintf(eta, sizeof eta, "?");
    snprintf(buf, n, "epoch %lld/%lld  step %lld/%lld  loss %.4g  %.0f ex/s  lr %.1e  ETA %s", (long long)epoch + 1,
             (long long)epochs, (long long)step, (long long)total_steps, loss, rate > 0 ? rate * examples_per_step : 0.0,
             lr, eta);
}

void amt_progress_update(amt_progress *p, int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps,
                         double loss, double examples_per_step, double lr)
{
    if (!p->f) return;
    double now = amt_progress_now();
    double due = p->tty ? 1.0 / AMT_PROGRESS_TTY_HZ : p->interval_s;
    if (due <= 0 && !p->tty) return;
    if (now - p->t_last < due && step < total_steps) return;
    double el = now - p->t_start;
    double rate = el > 0 && step > p->step0 ? (double)(step - p->step0) / el : 0;
    char line[256];
    amt_progress_format(line, sizeof line, epoch, epochs, step, total_steps, loss, examples_per_step, lr, rate);
    if (p->tty) {
        fprintf(p->f, "\r%s\033[K", line);
        p->line_open = 1;
    } else {
        fprintf(p->f, "%s\n", line);
    }
    fflush(p->f);
    p->t_last = now;
}

void amt_progress_end(amt_progress *p)
{
    if (p->f && p->line_open) { fputc('\n', p->f); fflush(p->f); }
    p->line_open = 0;
}

void amt_progress_message(amt_progress *p, const char *fmt, ...)
{
    if (!p->f) return;
    amt_progress_end(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
    fputc('\n', p->f);
    fflush(p->f);
}
