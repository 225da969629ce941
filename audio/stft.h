/* audio/stft.h: short-time Fourier transform and its inverse with FFTW3 (single precision),
 * following librosa 0.10 (stft/istft):
 *   - frame f covers samples [f*hop - n_fft/2, f*hop + n_fft/2) when centred (padding outside
 *     the signal: zeros, AMT_PAD_CONSTANT = librosa >= 0.10 default, or AMT_PAD_REFLECT =
 *     numpy 'reflect', the librosa < 0.10 default), or [f*hop, f*hop + n_fft) when not;
 *   - frames = 1 + floor(len / hop) centred, 1 + floor((len - n_fft) / hop) otherwise (0 if
 *     len < n_fft); bins = n_fft/2 + 1 (bin k is k * rate / n_fft Hz);
 *   - X[f][k] = sum_n w[n] x[f*hop - pad + n] e^{-2 pi i k n / n_fft}, no normalisation;
 *   - window of win_length samples centred in n_fft (zeros either side, librosa pad_center).
 * Spectra are frames x bins, complex interleaved: spec[(f*bins + k)*2 + 0] = Re, +1 = Im.
 * Plans are made once in amt_stft_new (FFTW_ESTIMATE, under a mutex: FFTW planning is not
 * thread-safe) and reused; an amt_stft object must not be used by two threads at once (make one
 * per thread). FFTW_ESTIMATE picks the same plan every run, so results are bit-identical run to
 * run; FFTW_MEASURE (compile with -DAMT_FFTW_FLAGS=FFTW_MEASURE) may be ~10-30 % faster but can
 * pick different plans (and last bits) per run. */
#ifndef AMT_STFT_H
#define AMT_STFT_H

enum { AMT_WIN_HANN = 0,      /* periodic Hann (scipy get_window('hann', N, fftbins=True)) */
       AMT_WIN_HANN_SYM = 1,  /* symmetric Hann (np.hanning, scipy sym=True) */
       AMT_WIN_RECT = 2 };
enum { AMT_PAD_CONSTANT = 0, AMT_PAD_REFLECT = 1 };

typedef struct amt_stft_cfg {
    int n_fft;       /* FFT size, samples (even, >= 2) */
    int hop;         /* hop, samples (>= 1) */
    int win_length;  /* window length <= n_fft; 0 means n_fft */
    int window;      /* AMT_WIN_* */
    int center;      /* 1: pad n_fft/2 each side (librosa center=True) */
    int pad_mode;    /* AMT_PAD_* (centred only) */
} amt_stft_cfg;

/* Defaults: window Hann periodic, win_length n_fft, centred, constant (zero) padding. */
amt_stft_cfg amt_stft_default(int n_fft, int hop);

typedef struct amt_stft amt_stft;

/* Makes the window and the FFTW plans; NULL on error (amt_errmsg says why). */
amt_stft *amt_stft_new(const amt_stft_cfg *cfg);
void amt_stft_del(amt_stft *st);

int amt_stft_bins(const amt_stft *st);
int amt_stft_n_fft(const amt_stft *st);
int amt_stft_hop(const amt_stft *st);
/* The n_fft-sample analysis window (zero-padded to n_fft). Owned by st. */
const float *amt_stft_window(const amt_stft *st);
/* Number of frames for a signal of len samples (see above). */
long amt_stft_frames(const amt_stft *st, long len);

/* Whole STFT of x (len samples): writes frames x bins complex values into spec (caller
 * buffer of 2 * frames * bins floats). No allocation. */
int amt_stft_do(amt_stft *st, const float *x, long len, float *spec);
/* One frame f of the STFT: magnitude (power 1) or squared magnitude (power 2) of bins into
 * out[bins]; the building block of the feature extractors. */
void amt_stft_frame_mag(amt_stft *st, const float *x, long len, long f, int power, float *out);
/* One frame f: complex spectrum into out[2 * bins] (interleaved). */
void amt_stft_frame(amt_stft *st, const float *x, long len, long f, float *out);

/* Inverse (librosa istft): overlap-add of window * irfft(frame), divided by the sum of squared
 * windows where that sum > FLT_MIN (tiny), trimmed to `length` output samples (y is a caller
 * buffer of length floats; samples past the frames' reach are zero). length <= 0 means the
 * librosa default hop * (frames - 1) when centred; the value used is returned in *length_out
 * (may be NULL). When length > 0, y must hold length floats; call with y = NULL to only get the
 * default length. ISTFT(STFT(x), len) == x for hops where the squared window overlaps. */
int amt_istft_do(amt_stft *st, const float *spec, long frames, long length, float *y, long *length_out);

/* The lock around FFTW planning (plan creation/destruction is not thread-safe); for other
 * audio/ files that make their own plans. */
void amt_fftw_lock(void);
void amt_fftw_unlock(void);

/* Complex interleaved <-> magnitude and phase (radians, atan2(Im, Re)); n complex values. */
void amt_spec_to_magphase(const float *spec, long n, float *mag, float *phase);
void amt_spec_from_magphase(const float *mag, const float *phase, long n, float *spec);

#endif
