/* audio/cqt.c: constant-Q transform by sparse spectral kernels (see cqt.h). */
#include "audio/cqt.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/mel.h"
#include "audio/stft.h"
#include "core/error.h"

struct amt_cqt {
    amt_cqt_cfg cfg;
    amt_stft *st;          /* rectangular window, n_fft, centred: gives the frame spectrum X */
    int n_fft, nb;
    int *lo, *len, *off;   /* per bin: spectral support [lo, lo + len) and offset into kr/ki */
    float *kr, *ki;        /* conj-ready kernel values (real, imaginary), / n_fft folded in */
    float *spec;           /* 2 * (n_fft/2 + 1): one frame's spectrum */
    double *freq;
};

amt_cqt_cfg amt_cqt_default(void)
{
    amt_cqt_cfg c = { 16000, 160, 27.5, 88, 12, 0.005f, 1.0f };
    return c;
}

void amt_cqt_del(amt_cqt *q)
{
    if (!q) return;
    amt_stft_del(q->st);
    free(q->lo); free(q->len); free(q->off); free(q->kr); free(q->ki); free(q->spec); free(q->freq);
    free(q);
}

amt_cqt *amt_cqt_new(const amt_cqt_cfg *cfg)
{
    if (!cfg || cfg->rate < 1 || cfg->hop < 1 || !(cfg->fmin > 0) || cfg->n_bins < 1 || cfg->bins_per_octave < 1 ||
        cfg->fmin * pow(2.0, (cfg->n_bins - 1.0) / cfg->bins_per_octave) >= cfg->rate / 2.0) {
        amt_error(AMT_EINVAL, "cqt: bad config (rate %d Hz, fmin %g Hz, %d bins at %d per octave: top bin must be below %g Hz)",
                  cfg ? cfg->rate : 0, cfg ? cfg->fmin : 0, cfg ? cfg->n_bins : 0, cfg ? cfg->bins_per_octave : 0,
                  cfg ? cfg->rate / 2.0 : 0);
        return NULL;
    }
    amt_cqt *q = calloc(1, sizeof *q);
    if (!q) { amt_error(AMT_ENOMEM, "cqt: out of memory"); return NULL; }
    q->cfg = *cfg;
    int nb = q->nb = cfg->n_bins;
    double Q = 1.0 / (pow(2.0, 1.0 / cfg->bins_per_octave) - 1.0);
    long nmax = (long)ceil(Q * cfg->rate / cfg->fmin);
    int n = 2;
    while (n < nmax) {
        if (n > (1 << 24)) { amt_cqt_del(q); amt_error(AMT_EINVAL, "cqt: kernel of %ld samples too long (fmin %g Hz)", nmax, cfg->fmin); return NULL; }
        n *= 2;
    }
    q->n_fft = n;
    int half = n / 2 + 1;
    amt_stft_cfg sc = amt_stft_default(n, cfg->hop);
    sc.window = AMT_WIN_RECT;
    q->st = amt_stft_new(&sc);
    q->lo = calloc((size_t)nb, sizeof(int));
    q->len = calloc((size_t)nb, sizeof(int));
    q->off = calloc((size_t)nb, sizeof(int));
    q->freq = calloc((size_t)nb, sizeof(double));
    q->spec = malloc(sizeof(float) * 2 * (size_t)half);
    fftw_complex *buf = fftw_malloc(sizeof(fftw_complex) * (size_t)n);
    float *mag = malloc(sizeof(float) * (size_t)half);
    /* kernels are kept in full in a temporary, then compacted */
    float *tr = malloc(sizeof(float) * (size_t)half * nb), *ti = malloc(sizeof(float) * (size_t)half * nb);
    fftw_plan plan = NULL;
    if (q->st && buf) {
        amt_fftw_lock();
        plan = fftw_plan_dft_1d(n, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
        amt_fftw_unlock();
    }
    if (!q->st || !q->lo || !q->len || !q->off || !q->freq || !q->spec || !buf || !mag || !tr || !ti || !plan) {
        if (plan) { amt_fftw_lock(); fftw_destroy_plan(plan); amt_fftw_unlock(); }
        fftw_free(buf); free(mag); free(tr); free(ti);
        if (q->st) amt_error(AMT_ENOMEM, "cqt: out of memory (n_fft %d)", n);
        amt_cqt_del(q);
        return NULL;
    }
    int total = 0;
    for (int k = 0; k < nb; k++) {
        double fk = cfg->fmin * pow(2.0, (double)k / cfg->bins_per_octave);
        q->freq[k] = fk;
        int nk = (int)ceil(Q * cfg->rate / fk);
        if (nk > n) nk = n;
        int start = (n - nk) / 2;
        double wsum = 0;
        for (int i = 0; i < nk; i++) wsum += 0.5 - 0.5 * cos(2 * M_PI * i / nk);
        memset(buf, 0, sizeof(fftw_complex) * (size_t)n);
        for (int i = 0; i < nk; i++) {
            double w = 2.0 * (0.5 - 0.5 * cos(2 * M_PI * i / nk)) / wsum;
            double ph = 2 * M_PI * Q * i / nk;
            buf[start + i][0] = w * cos(ph);
            buf[start + i][1] = w * sin(ph);
        }
        fftw_execute(plan);
        /* CQT_k = (1/n) sum_j X[j] conj(K[j]); keep the contiguous support around the peak */
        float peak = 0;
        int arg = 0;
        for (int j = 0; j < half; j++) {
            mag[j] = (float)hypot(buf[j][0], buf[j][1]);
            if (mag[j] > peak) { peak = mag[j]; arg = j; }
        }
        int a = arg, b = arg;
        while (a > 0 && mag[a - 1] >= cfg->sparsity * peak) a--;
        while (b < half - 1 && mag[b + 1] >= cfg->sparsity * peak) b++;
        q->lo[k] = a;
        q->len[k] = b - a + 1;
        q->off[k] = total;
        for (int j = a; j <= b; j++) {
            tr[total + j - a] = (float)(buf[j][0] / n);
            ti[total + j - a] = (float)(-buf[j][1] / n);
        }
        total += b - a + 1;
    }
    amt_fftw_lock();
    fftw_destroy_plan(plan);
    amt_fftw_unlock();
    fftw_free(buf);
    free(mag);
    q->kr = realloc(tr, sizeof(float) * (size_t)total);
    q->ki = realloc(ti, sizeof(float) * (size_t)total);
    if (!q->kr) q->kr = tr;   /* shrinking realloc failing keeps the old block */
    if (!q->ki) q->ki = ti;
    return q;
}

int amt_cqt_bins(const amt_cqt *q) { return q->nb; }
int amt_cqt_n_fft(const amt_cqt *q) { return q->n_fft; }
long amt_cqt_frames(const amt_cqt *q, long len) { return amt_stft_frames(q->st, len); }
double amt_cqt_freq(const amt_cqt *q, int k) { return q->freq[k]; }

int amt_cqt_do(amt_cqt *q, const float *x, long len, float *out)
{
    if (!q || len < 0 || (!x && len > 0) || !out) return amt_error(AMT_EINVAL, "cqt: bad arguments (len %ld)", len);
    long frames = amt_stft_frames(q->st, len);
    for (long f = 0; f < frames; f++) {
        amt_stft_frame(q->st, x, len, f, q->spec);
        float *o = out + (size_t)f * q->nb;
        for (int k = 0; k < q->nb; k++) {
            const float *s = q->spec + 2 * (size_t)q->lo[k], *kr = q->kr + q->off[k], *ki = q->ki + q->off[k];
            float re = 0, im = 0;
            for (int j = 0; j < q->len[k]; j++) {   /* (sr + i si) (kr + i ki) */
                re += s[2 * j] * kr[j] - s[2 * j + 1] * ki[j];
                im += s[2 * j] * ki[j] + s[2 * j + 1] * kr[j];
            }
            o[k] = sqrtf(re * re + im * im);
        }
        if (q->cfg.log_c > 0)
            for (int k = 0; k < q->nb; k++) o[k] = amt_log1pf(q->cfg.log_c * o[k]);
    }
    return AMT_OK;
}
