/* audio/features.h: feature extractors, each a new_ object (plans and filterbanks made once),
 * a _do writing frames x bins floats into a caller buffer (no allocation), and a _del.
 * Frames: frame f is centred at sample f * hop (time f * hop / rate seconds) when centred.
 *   amt_specgram  linear magnitude (power 1) or power (2) spectrogram, bins = n_fft/2 + 1,
 *                 bin k at k * rate / n_fft Hz (the separator: 16 kHz, n_fft 1024, hop 256);
 *   amt_melspec   log-mel (audio/mel.h; the classifier: 22050 Hz, 128 mels, hop 512);
 *   amt_semitone  log-frequency filterbank (audio/semitone.h; the transcriber: 229 bins,
 *                 100 frames/s);
 *   amt_cqt       constant-Q magnitude (audio/cqt.h, optional: 88 piano keys at 16 kHz). */
#ifndef AMT_FEATURES_H
#define AMT_FEATURES_H

#include "audio/mel.h"
#include "audio/semitone.h"
#include "audio/stft.h"

typedef struct amt_specgram amt_specgram;
/* cfg: the STFT; power 1 = |X|, 2 = |X|^2. */
amt_specgram *amt_specgram_new(const amt_stft_cfg *cfg, int power);
void amt_specgram_del(amt_specgram *s);
int amt_specgram_bins(const amt_specgram *s);
long amt_specgram_frames(const amt_specgram *s, long len);
int amt_specgram_do(amt_specgram *s, const float *x, long len, float *out);

#endif
