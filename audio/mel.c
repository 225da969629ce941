/* audio/mel.c: Slaney mel filterbank (librosa.filters.mel) and log-mel spectrogram. */
#include "audio/mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define SLANEY_F_SP (200.0 / 3.0)   /* Hz per mel below 1 kHz */
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)   /* 15 */
#define SLANEY_LOGSTEP (log(6.4) / 27.0)

double amt_hz_to_mel(double hz)
{
    if (hz >= SLANEY_MIN_LOG_HZ) return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
    return hz / SLANEY_F_SP;
}

double amt_mel_to_hz(double mel)
{
    if (mel >= SLANEY_MIN_LOG_MEL) return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
    return SLANEY_F_SP * mel;
}

int amt_mel_filterbank(double rate, int n_fft, int n_mels, double fmin, double fmax, float *w)
{
    if (!(rate > 0) || n_fft < 2 || n_mels < 1 || !w) return amt_error(AMT_EINVAL, "mel: bad rate %g, n_fft %d or n_mels %d", rate, n_fft, n_mels);
    if (fmax <= 0) fmax = rate / 2;
    if (fmin < 0 || fmin >= fmax) return amt_error(AMT_EINVAL, "mel: fmin %g Hz must be in [0, fmax %g Hz)", fmin, fmax);
    int bins = n_fft / 2 + 1;
    double *f = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!f) return amt_error(AMT_ENOMEM, "mel: out of memory");
    double m0 = amt_hz_to_mel(fmin), m1 = amt_hz_to_mel(fmax);
    for (int i = 0; i < n_mels + 2; i++)   /* np.linspace(m0, m1, n_mels + 2) */
        f[i] = amt_mel_to_hz(i == n_mels + 1 ? m1 : m0 + (m1 - m0) * i / (n_mels + 1));
    for (int i = 0; i < n_mels; i++) {
        double d0 = f[i + 1] - f[i], d1 = f[i + 2] - f[i + 1], enorm = 2.0 / (f[i + 2] - f[i]);
        for (int k = 0; k < bins; k++) {
            double fk = (double)k * rate / n_fft;
            double lower = (fk - f[i]) / d0, upper = (f[i + 2] - fk) / d1;
            double v = lower < upper ? lower : upper;
            w[(size_t)i * bins + k] = (float)((v > 0 ? v : 0) * enorm);
        }
    }
    free(f);
    return AMT_OK;
}

amt_mel_cfg amt_mel_default(void)
{
    amt_mel_cfg c = { 22050, 2048, 512, 128, 0.0, 0.0, 2, AMT_LOG_DB, 1.0f, 80.0f, 1, AMT_PAD_CONSTANT };
    return c;
}

struct amt_melspec {
    amt_mel_cfg cfg;
    amt_stft *st;
    int bins;
    int *lo, *len;     /* per band: first nonzero bin and count */
    int *off;          /* per band: offset into wt */
    float *wt;         /* packed nonzero weights */
    float *spec;       /* bins: one frame's (power) spectrum */
};

void amt_melspec_del(amt_melspec *m)
{
    if (!m) return;
    amt_stft_del(m->st);
    free(m->lo); free(m->len); free(m->off); free(m->wt); free(m->spec);
    free(m);
}

amt_melspec *amt_melspec_new(const amt_mel_cfg *cfg)
{
    if (!cfg || cfg->rate < 1 || (cfg->power != 1 && cfg->power != 2) || cfg->log < AMT_LOG_NONE || cfg->log > AMT_LOG_DB) {
        amt_error(AMT_EINVAL, "melspec: bad config (rate %d, power %d, log %d)", cfg ? cfg->rate : 0, cfg ? cfg->power : 0, cfg ? cfg->log : 0);
        return NULL;
    }
    amt_melspec *m = calloc(1, sizeof *m);
    if (!m) { amt_error(AMT_ENOMEM, "melspec: out of memory"); return NULL; }
    m->cfg = *cfg;
    amt_stft_cfg sc = amt_stft_default(cfg->n_fft, cfg->hop);
    sc.center = cfg->center;
    sc.pad_mode = cfg->pad_mode;
    if (!(m->st = amt_stft_new(&sc))) { amt_melspec_del(m); return NULL; }
    int bins = m->bins = cfg->n_fft / 2 + 1, nm = cfg->n_mels;
    float *dense = malloc(sizeof(float) * (size_t)nm * bins);
    m->lo = calloc((size_t)nm, sizeof(int));
    m->len = calloc((size_t)nm, sizeof(int));
    m->off = calloc((size_t)nm, sizeof(int));
    m->spec = malloc(sizeof(float) * (size_t)bins);
    if (!dense || !m->lo || !m->len || !m->off || !m->spec) { free(dense); amt_melspec_del(m); amt_error(AMT_ENOMEM, "melspec: out of memory"); return NULL; }
    if (amt_mel_filterbank(cfg->rate, cfg->n_fft, nm, cfg->fmin, cfg->fmax, dense)) { free(dense); amt_melspec_del(m); return NULL; }
    int total = 0;
    for (int i = 0; i < nm; i++) {
        const float *row = dense + (size_t)i * bins;
        int a = 0, b = bins - 1;
        while (a < bins && row[a] == 0.0f) a++;
        while (b >= a && row[b] == 0.0f) b--;
        m->lo[i] = a < bins ? a : 0;
        m->len[i] = a < bins ? b - a + 1 : 0;
        m->off[i] = total;
        total += m->len[i];
    }
    m->wt = malloc(sizeof(float) * (size_t)(total ? total : 1));
    if (!m->wt) { free(dense); amt_melspec_del(m); amt_error(AMT_ENOMEM, "melspec: out of memory"); return NULL; }
    for (int i = 0; i < nm; i++)
        memcpy(m->wt + m->off[i], dense + (size_t)i * bins + m->lo[i], sizeof(float) * (size_t)m->len[i]);
    free(dense);
    return m;
}

int amt_melspec_bins(const amt_melspec *m) { return m->cfg.n_mels; }
long amt_melspec_frames(const amt_melspec *m, long len) { return amt_stft_frames(m->st, len); }

float amt_mel_compress_raw(const amt_mel_cfg *cfg, float *v, long n, float top)
{
    if (cfg->log == AMT_LOG_1P) {
        const float c = cfg->log_c;
        for (long i = 0; i < n; i++) v[i] = amt_log1pf(c * v[i]);
    } else if (cfg->log == AMT_LOG_DB) {
        for (long i = 0; i < n; i++) {
            v[i] = 10.0f * log10f(v[i] > AMT_DB_AMIN ? v[i] : AMT_DB_AMIN);
            if (v[i] > top) top = v[i];
        }
    }
    return top;
}

void amt_mel_floor(const amt_mel_cfg *cfg, float *v, long n, float top)
{
    if (cfg->log != AMT_LOG_DB || !(cfg->top_db > 0)) return;
    float floor_ = top - cfg->top_db;
    for (long i = 0; i < n; i++) if (v[i] < floor_) v[i] = floor_;
}

void amt_mel_compress(const amt_mel_cfg *cfg, float *v, long n)
{
    float top = amt_mel_compress_raw(cfg, v, n, -INFINITY);
    amt_mel_floor(cfg, v, n, top);
}

void amt_melspec_frame(amt_melspec *m, const float *x, long len, long f, float *out)
{
    amt_stft_frame_mag(m->st, x, len, f, m->cfg.power, m->spec);
    for (int i = 0; i < m->cfg.n_mels; i++) {
        const float *w = m->wt + m->off[i], *s = m->spec + m->lo[i];
        float acc = 0.0f;
        for (int k = 0; k < m->len[i]; k++) acc += w[k] * s[k];
        out[i] = acc;
    }
}

int amt_melspec_do(amt_melspec *m, const float *x, long len, float *out)
{
    if (!m || len < 0 || (!x && len > 0) || !out) return amt_error(AMT_EINVAL, "melspec: bad arguments (len %ld)", len);
    long frames = amt_stft_frames(m->st, len);
    for (long f = 0; f < frames; f++) amt_melspec_frame(m, x, len, f, out + (size_t)f * m->cfg.n_mels);
    amt_mel_compress(&m->cfg, out, frames * m->cfg.n_mels);
    return AMT_OK;
}
