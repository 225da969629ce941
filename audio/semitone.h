/* audio/semitone.h: log-frequency (semitone) filterbank spectrogram for piano transcription,
 * as madmom's LogarithmicFilterbank used by Kelz et al. 2016:
 *   1. band frequencies f_j = fref * 2^(j / bands_per_octave) for all integer j with
 *      fmin <= f_j <= fmax;
 *   2. each f_j is mapped to its nearest FFT bin (bin k at k * rate / n_fft Hz); duplicate bins
 *      are merged (at low frequencies several f_j share one FFT bin), leaving B distinct
 *      increasing bins b_0 < b_1 < ... < b_{B-1};
 *   3. filter i (0 <= i < B - 2) is a triangle over FFT bins [b_i, b_{i+2}) peaking (1) at
 *      b_{i+1}: weight (k - b_i) / (b_{i+1} - b_i) rising, 1 - (k - b_{i+1}) / (b_{i+2} - b_{i+1})
 *      falling, normalised to sum 1 (norm = 1).
 * So the number of bins is (number of distinct nearest FFT bins of the f_j) - 2. Defaults
 * (Kelz et al. 2016): 44100 Hz, n_fft 4096, hop 441 (100 frames/s, the eval frame rate),
 * 48 bands per octave (4 per semitone), 27.5 Hz (A0) .. 8000 Hz, fref 440 Hz => 229 bins
 * (the same count as their 30 Hz lower edge). Input: magnitude spectrum (Hann periodic,
 * centred, zero padding); output log(1 + C * filtered magnitude) (natural log, C = log_c).
 * Resolution limit (as in madmom/Kelz): with 10.8 Hz FFT bins the lowest band peaks at FFT bin 4
 * (43 Hz); the keys A0..D#1 (27.5..39 Hz) all fall near bin 3 and reach band 0 through its
 * rising edge and the window's leakage. Every band is a distinct quarter tone above ~750 Hz, >= 2 per semitone above ~370 Hz. */
#ifndef AMT_SEMITONE_H
#define AMT_SEMITONE_H

#include "audio/stft.h"

typedef struct amt_semitone_cfg {
    int rate;               /* Hz */
    int n_fft, hop;         /* samples */
    int bands_per_octave;
    double fmin, fmax, fref;/* Hz */
    int norm;               /* 1: each filter sums to 1 */
    float log_c;            /* C of log(1 + C x); <= 0: no log */
    int center, pad_mode;   /* as amt_stft_cfg */
} amt_semitone_cfg;

#define AMT_SEMITONE_BINS 229   /* with the defaults */
amt_semitone_cfg amt_semitone_default(void);
/* The same 229 bins at 16 kHz: n_fft 2048 (7.8 Hz bins), hop 160 (100 frames/s), 48 bands per
 * octave, 27.5 .. 5900 Hz (covers C8 = 4186 Hz; fewer merged bins at the bottom). (At 22050 Hz,
 * n_fft 2048 with 27.5 .. 8000 Hz also gives 229, but 100 frames/s is no integer hop.) */
amt_semitone_cfg amt_semitone_default_16k(void);

typedef struct amt_semitone amt_semitone;
amt_semitone *amt_semitone_new(const amt_semitone_cfg *cfg);
void amt_semitone_del(amt_semitone *s);
int amt_semitone_bins(const amt_semitone *s);
long amt_semitone_frames(const amt_semitone *s, long len);
/* Centre frequency (Hz) of band i: the frequency of its peak FFT bin (strictly increasing). */
double amt_semitone_center_hz(const amt_semitone *s, int i);
/* Filter i as (first FFT bin, count, weights); pointers owned by s. */
void amt_semitone_filter(const amt_semitone *s, int i, int *first, int *count, const float **w);
/* Writes frames x bins features of x (len samples at cfg.rate) into out. No allocation. */
/* One frame f of them (bins floats into out): it reads only samples within n_fft / 2 of
 * f * hop, so a caller streaming a long signal may pass any stretch of it that starts at a
 * multiple of hop and holds those samples (x, len and f relative to the stretch). */
void amt_semitone_frame(amt_semitone *s, const float *x, long len, long f, float *out);
int amt_semitone_do(amt_semitone *s, const float *x, long len, float *out);

#endif
