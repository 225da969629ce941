/* audio/mel.h: mel filterbank and log-mel spectrogram, as librosa 0.10 defaults:
 * Slaney mel scale (htk=False: linear below 1 kHz at 200/3 Hz per mel, logarithmic above with
 * step log(6.4)/27), triangular filters between n_mels + 2 mel-spaced edge frequencies
 * evaluated at the FFT bin frequencies k * rate / n_fft, each scaled by 2 / (f[i+2] - f[i])
 * (norm='slaney', equal area). Spectrogram of power `power` (2: power, librosa default; 1:
 * magnitude) through the filterbank, then a compression:
 *   AMT_LOG_NONE  the mel energies;
 *   AMT_LOG_1P    log(1 + C * x) (natural log, C = log_c);
 *   AMT_LOG_DB    librosa.power_to_db(ref=1, amin=1e-10, top_db): 10 log10(max(1e-10, x)),
 *                 floored at (max over the whole amt_melspec_do call) - top_db (top_db <= 0: no floor). */
#ifndef AMT_MEL_H
#define AMT_MEL_H

#include "audio/stft.h"

#include <stdint.h>
#include <string.h>

enum { AMT_LOG_NONE = 0, AMT_LOG_1P = 1, AMT_LOG_DB = 2 };

/* log(1 + y) for finite y >= 0 (the feature compressions): Cephes' logf polynomial on
 * u = 1 + y, corrected as log(u) * y / (u - 1) (Goldberg), within a few ulp of log1pf; inline and
 * branch-free so loops over it vectorise (glibc's log1pf is scalar). */
static inline float amt_log1pf(float y)
{
    float x = 1.0f + y;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    int e = (int)((u >> 23) & 0xff) - 126;            /* x = m * 2^e, m in [0.5, 1) */
    u = (u & 0x007fffffu) | 0x3f000000u;
    float m;
    memcpy(&m, &u, sizeof m);
    int lt = m < 0.707106781186547524f;
    e -= lt;
    m = lt ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float p = 7.0376836292e-2f;
    p = p * m - 1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m - 1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m - 1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m - 2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    float fe = (float)e;
    float r = m + (p * m * z - 2.12194440e-4f * fe - 0.5f * z) + 0.693359375f * fe;
    float d = x - 1.0f;
    return d == 0.0f ? y : r * (y / d);
}
#define AMT_DB_AMIN 1e-10f

/* Slaney mel scale (librosa hz_to_mel / mel_to_hz with htk=False). */
double amt_hz_to_mel(double hz);
double amt_mel_to_hz(double mel);

/* Dense filterbank w[n_mels][n_fft/2 + 1] (caller buffer) exactly as librosa.filters.mel(sr=rate,
 * n_fft, n_mels, fmin, fmax, htk=False, norm='slaney'); fmax <= 0 means rate / 2. */
int amt_mel_filterbank(double rate, int n_fft, int n_mels, double fmin, double fmax, float *w);

typedef struct amt_mel_cfg {
    int rate;          /* Hz */
    int n_fft, hop;    /* samples */
    int n_mels;
    double fmin, fmax; /* Hz; fmax <= 0: rate / 2 */
    int power;         /* 1 magnitude, 2 power */
    int log;           /* AMT_LOG_* */
    float log_c;       /* C of log(1 + C x) */
    float top_db;      /* dB range kept by AMT_LOG_DB */
    int center, pad_mode;  /* as amt_stft_cfg (Hann periodic window, win_length = n_fft) */
} amt_mel_cfg;

/* Classifier defaults: 22050 Hz, n_fft 2048 (librosa default), hop 512 (43.07 frames/s,
 * 1 s = 1 + 22050/512 = 44 centred frames; the classifier keeps 43), 128 mels, 0..11025 Hz,
 * power 2, dB with top_db 80, centred with zero padding (librosa >= 0.10). */
amt_mel_cfg amt_mel_default(void);

typedef struct amt_melspec amt_melspec;
amt_melspec *amt_melspec_new(const amt_mel_cfg *cfg);
void amt_melspec_del(amt_melspec *m);
int amt_melspec_bins(const amt_melspec *m);                /* n_mels */
long amt_melspec_frames(const amt_melspec *m, long len);   /* frames for len samples */
/* Writes frames x n_mels features of x (len samples at cfg.rate) into out. No allocation. */
int amt_melspec_do(amt_melspec *m, const float *x, long len, float *out);
/* Applies the configured compression to n values in place (AMT_LOG_DB: top_db over these n). */
void amt_mel_compress(const amt_mel_cfg *cfg, float *v, long n);
/* The same in pieces (a signal streamed frame by frame): amt_mel_compress_raw compresses
 * without the top_db floor and returns the larger of top and the largest dB value seen
 * (top unchanged unless AMT_LOG_DB); amt_mel_floor then floors at top - top_db (AMT_LOG_DB
 * only). Over all values with the overall top they give amt_mel_compress's numbers. */
float amt_mel_compress_raw(const amt_mel_cfg *cfg, float *v, long n, float top);
void amt_mel_floor(const amt_mel_cfg *cfg, float *v, long n, float top);
/* One frame f of the mel energies (before compression) into out[n_mels]; x, len, f as
 * amt_stft_frame_mag (a stretch of a streamed signal: audio/frame_stream.h). */
void amt_melspec_frame(amt_melspec *m, const float *x, long len, long f, float *out);

#endif
