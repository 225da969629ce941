/* audio/cqt.h: constant-Q transform magnitude (optional transcription feature), by the
 * spectral-kernel method of Brown & Puckette 1992: bin k has centre frequency
 * f_k = fmin * 2^(k / bins_per_octave) Hz, Q = 1 / (2^(1 / bins_per_octave) - 1), and a temporal
 * kernel of N_k = ceil(Q * rate / f_k) samples, 2 w[n] / sum(w) * e^{2 pi i Q n / N_k} (w = Hann,
 * periodic), centred on the frame centre. Each frame (centred at sample f * hop, zero padding
 * outside the signal) is one real FFT of n_fft = the power of two >= max N_k; bin k is
 * |sum_j X[j] conj(K_k[j])| / n_fft over the kernel's spectral support (the contiguous run of
 * FFT bins around the kernel's peak where |K| >= sparsity x peak: the Hann main lobe). Amplitude-normalised: a sinusoid of amplitude A at
 * f_k gives ~A in bin k. Not librosa.cqt (which resamples by octaves and scales by sqrt(N_k)):
 * no golden match is claimed. Output log(1 + C x) when log_c > 0. */
#ifndef AMT_CQT_H
#define AMT_CQT_H

typedef struct amt_cqt_cfg {
    int rate;              /* Hz */
    int hop;               /* samples */
    double fmin;           /* Hz, centre of bin 0 */
    int n_bins, bins_per_octave;
    float sparsity;        /* relative threshold for the spectral kernels, e.g. 0.005 */
    float log_c;           /* C of log(1 + C x); <= 0: linear magnitude */
} amt_cqt_cfg;

/* 16 kHz, hop 160 (100 frames/s), A0 = 27.5 Hz, 88 bins at 12 per octave (the piano keys,
 * bin k = MIDI note 21 + k), sparsity 0.005, log_c 1. n_fft = 16384. */
amt_cqt_cfg amt_cqt_default(void);

typedef struct amt_cqt amt_cqt;
amt_cqt *amt_cqt_new(const amt_cqt_cfg *cfg);
void amt_cqt_del(amt_cqt *q);
int amt_cqt_bins(const amt_cqt *q);
int amt_cqt_n_fft(const amt_cqt *q);
long amt_cqt_frames(const amt_cqt *q, long len);        /* 1 + len / hop */
double amt_cqt_freq(const amt_cqt *q, int k);           /* Hz */
/* Writes frames x bins values for x (len samples at cfg.rate) into out. No allocation. */
int amt_cqt_do(amt_cqt *q, const float *x, long len, float *out);

#endif
