/* audio/stft.c: STFT/ISTFT with FFTW3f (see stft.h for conventions). */
#include "audio/stft.h"

#include <float.h>
#include <fftw3.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* FFTW's planner keeps global state: every plan creation/destruction goes through this lock. */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
#ifndef AMT_FFTW_FLAGS
#define AMT_FFTW_FLAGS FFTW_ESTIMATE
#endif

void amt_fftw_lock(void) { pthread_mutex_lock(&plan_lock); }
void amt_fftw_unlock(void) { pthread_mutex_unlock(&plan_lock); }

struct amt_stft {
    amt_stft_cfg cfg;
    int bins;
    float *win;            /* n_fft */
    float *buf;            /* n_fft real (fftwf_malloc) */
    fftwf_complex *cbuf;   /* bins */
    fftwf_plan fwd, inv;
};

amt_stft_cfg amt_stft_default(int n_fft, int hop)
{
    amt_stft_cfg c = { n_fft, hop, 0, AMT_WIN_HANN, 1, AMT_PAD_CONSTANT };
    return c;
}

amt_stft *amt_stft_new(const amt_stft_cfg *cfg)
{
    if (!cfg || cfg->n_fft < 2 || (cfg->n_fft & 1) || cfg->hop < 1) {
        amt_error(AMT_EINVAL, "stft: n_fft %d must be even and >= 2, hop %d >= 1",
                  cfg ? cfg->n_fft : 0, cfg ? cfg->hop : 0);
        return NULL;
    }
    int n = cfg->n_fft, wl = cfg->win_length ? cfg->win_length : n;
    if (wl < 1 || wl > n) { amt_error(AMT_EINVAL, "stft: win_length %d not in 1..n_fft %d", wl, n); return NULL; }
    if (cfg->window < AMT_WIN_HANN || cfg->window > AMT_WIN_RECT) { amt_error(AMT_EINVAL, "stft: unknown window %d", cfg->window); return NULL; }
    if (cfg->pad_mode != AMT_PAD_CONSTANT && cfg->pad_mode != AMT_PAD_REFLECT) { amt_error(AMT_EINVAL, "stft: unknown pad mode %d", cfg->pad_mode); return NULL; }
    amt_stft *st = calloc(1, sizeof *st);
    if (!st) { amt_error(AMT_ENOMEM, "stft: out of memory"); return NULL; }
    st->cfg = *cfg;
    st->cfg.win_length = wl;
    st->bins = n / 2 + 1;
    st->win = calloc((size_t)n, sizeof(float));
    st->buf = fftwf_malloc(sizeof(float) * (size_t)n);
    st->cbuf = fftwf_malloc(sizeof(fftwf_complex) * (size_t)st->bins);
    if (!st->win || !st->buf || !st->cbuf) { amt_stft_del(st); amt_error(AMT_ENOMEM, "stft: out of memory"); return NULL; }
    int off = (n - wl) / 2;   /* librosa.util.pad_center */
    for (int i = 0; i < wl; i++) {
        double w = 1.0;
        if (cfg->window == AMT_WIN_HANN) w = 0.5 - 0.5 * cos(2.0 * M_PI * i / wl);
        else if (cfg->window == AMT_WIN_HANN_SYM) w = wl > 1 ? 0.5 - 0.5 * cos(2.0 * M_PI * i / (wl - 1)) : 1.0;
        st->win[off + i] = (float)w;
    }
    pthread_mutex_lock(&plan_lock);
    st->fwd = fftwf_plan_dft_r2c_1d(n, st->buf, st->cbuf, AMT_FFTW_FLAGS);
    st->inv = fftwf_plan_dft_c2r_1d(n, st->cbuf, st->buf, AMT_FFTW_FLAGS);
    pthread_mutex_unlock(&plan_lock);
    if (!st->fwd || !st->inv) { amt_stft_del(st); amt_error(AMT_EINTERNAL, "stft: FFTW planning failed for n_fft %d", n); return NULL; }
    return st;
}

void amt_stft_del(amt_stft *st)
{
    if (!st) return;
    pthread_mutex_lock(&plan_lock);
    if (st->fwd) fftwf_destroy_plan(st->fwd);
    if (st->inv) fftwf_destroy_plan(st->inv);
    pthread_mutex_unlock(&plan_lock);
    fftwf_free(st->buf);
    fftwf_free(st->cbuf);
    free(st->win);
    free(st);
}

int amt_stft_bins(const amt_stft *st) { return st->bins; }
int amt_stft_n_fft(const amt_stft *st) { return st->cfg.n_fft; }
int amt_stft_hop(const amt_stft *st) { return st->cfg.hop; }
const float *amt_stft_window(const amt_stft *st) { return st->win; }

long amt_stft_frames(const amt_stft *st, long len)
{
    if (len < 0) return 0;
    if (st->cfg.center) return 1 + len / st->cfg.hop;
    if (len < st->cfg.n_fft) return 0;
    return 1 + (len - st->cfg.n_fft) / st->cfg.hop;
}

/* numpy.pad(mode='reflect') index for i outside [0, len). */
static long reflect_index(long i, long len)
{
    if (len == 1) return 0;
    long period = 2 * (len - 1);
    i %= period;
    if (i < 0) i += period;
    return i < len ? i : period - i;
}

/* Windowed frame f into st->buf, then the forward FFT into st->cbuf. */
static void frame_fft(amt_stft *st, const float *x, long len, long f)
{
    int n = st->cfg.n_fft;
    long start = f * st->cfg.hop - (st->cfg.center ? n / 2 : 0);
    const float *w = st->win;
    float *b = st->buf;
    if (start >= 0 && start + n <= len) {
        const float *xs = x + start;
        for (int i = 0; i < n; i++) b[i] = w[i] * xs[i];
    } else {
        int reflect = st->cfg.center && st->cfg.pad_mode == AMT_PAD_REFLECT && len > 0;
        for (int i = 0; i < n; i++) {
            long j = start + i;
            float v;
            if (j >= 0 && j < len) v = x[j];
            else if (reflect) v = x[reflect_index(j, len)];
            else v = 0.0f;
            b[i] = w[i] * v;
        }
    }
    fftwf_execute(st->fwd);
}

void amt_stft_frame(amt_stft *st, const float *x, long len, long f, float *out)
{
    frame_fft(st, x, len, f);
    memcpy(out, st->cbuf, sizeof(float) * 2 * (size_t)st->bins);
}

void amt_stft_frame_mag(amt_stft *st, const float *x, long len, long f, int power, float *out)
{
    frame_fft(st, x, len, f);
    const float *c = (const float *)st->cbuf;
    const int bins = st->bins;
    if (power == 2)
        for (int k = 0; k < bins; k++) out[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1];
    else {
        int k = 0;
#ifdef __AVX2__
        /* gcc keeps sqrtf scalar (errno) without -fno-math-errno: 8 magnitudes at a time */
        for (; k + 8 <= bins; k += 8) {
            __m256 a = _mm256_loadu_ps(c + 2 * k), b = _mm256_loadu_ps(c + 2 * k + 8);
            __m256 h = _mm256_hadd_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b));  /* k,k+1,k+4,k+5 | k+2,k+3,k+6,k+7 */
            h = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xD8));
            _mm256_storeu_ps(out + k, _mm256_sqrt_ps(h));
        }
#endif
        for (; k < bins; k++) out[k] = sqrtf(c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1]);
    }
}

int amt_stft_do(amt_stft *st, const float *x, long len, float *spec)
{
    if (!st || (!x && len > 0) || len < 0 || !spec) return amt_error(AMT_EINVAL, "stft: bad arguments (len %ld)", len);
    long frames = amt_stft_frames(st, len);
    for (long f = 0; f < frames; f++) amt_stft_frame(st, x, len, f, spec + (size_t)f * 2 * st->bins);
    return AMT_OK;
}

int amt_istft_do(amt_stft *st, const float *spec, long frames, long length, float *y, long *length_out)
{
    if (!st || frames < 0) return amt_error(AMT_EINVAL, "istft: bad arguments (frames %ld)", frames);
    int n = st->cfg.n_fft, hop = st->cfg.hop, bins = st->bins;
    long pad = st->cfg.center ? n / 2 : 0;
    if (length <= 0) {
        length = st->cfg.center ? (frames > 0 ? (long)hop * (frames - 1) : 0)
                                : (frames > 0 ? n + (long)hop * (frames - 1) : 0);
    }
    if (length_out) *length_out = length;
    if (!y) return AMT_OK;
    if (!spec && frames > 0) return amt_error(AMT_EINVAL, "istft: NULL spectrum");
    memset(y, 0, sizeof(float) * (size_t)length);
    const float *w = st->win;
    const float scale = 1.0f / (float)n;   /* FFTW's c2r is unnormalised; numpy irfft divides by n */
    for (long f = 0; f < frames; f++) {
        long start = f * hop - pad;          /* output index of the frame's first sample */
        if (start >= length) break;
        if (start + n <= 0) continue;
        memcpy(st->cbuf, spec + (size_t)f * 2 * bins, sizeof(float) * 2 * (size_t)bins);
        fftwf_execute(st->inv);
        int i0 = start < 0 ? (int)-start : 0;
        int i1 = start + n > length ? (int)(length - start) : n;
        for (int i = i0; i < i1; i++) y[start + i] += w[i] * st->buf[i] * scale;
    }
    /* Divide by the window-sum-square at each output sample (librosa window_sumsquare over
     * all frames; computed per sample: at most ceil(n / hop) terms). */
    for (long t = 0; t < length; t++) {
        long p = t + pad;                    /* index in the padded signal */
        long f0 = p - n + 1 > 0 ? (p - n + 1 + hop - 1) / hop : 0;
        long f1 = p / hop;
        if (f1 > frames - 1) f1 = frames - 1;
        float wss = 0.0f;
        for (long f = f0; f <= f1; f++) { float v = w[p - f * hop]; wss += v * v; }
        if (wss > FLT_MIN) y[t] /= wss;
    }
    return AMT_OK;
}

void amt_spec_to_magphase(const float *spec, long n, float *mag, float *phase)
{
    for (long i = 0; i < n; i++) {
        float re = spec[2 * i], im = spec[2 * i + 1];
        if (mag) mag[i] = sqrtf(re * re + im * im);
        if (phase) phase[i] = atan2f(im, re);
    }
}

void amt_spec_from_magphase(const float *mag, const float *phase, long n, float *spec)
{
    for (long i = 0; i < n; i++) {
        spec[2 * i] = mag[i] * cosf(phase[i]);
        spec[2 * i + 1] = mag[i] * sinf(phase[i]);
    }
}
