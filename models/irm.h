/* models/irm.h: the ideal ratio mask, the oracle baseline of the separator's evaluation
 * (it needs the true sources). With V, M the STFTs of the true voice and music and
 * X = V + M the mixture's (the mixture is voice + music, as MIR-1K's left + right):
 *   mask = |V| / (|V| + |M|)   (0 where both are 0)
 *   voice_est = ISTFT(mask * X)   (the mixture magnitude and phase: a real mask keeps phase)
 *   music_est = (voice + music) - voice_est   (the same convention as the separator)
 * at the signals' own rate, Hann window, centred (audio/stft.h). */
#ifndef AMT_IRM_H
#define AMT_IRM_H

/* voice, music: n samples each (mono). voice_est, music_est: caller buffers of n samples.
 * AMT_EINVAL on n < 1, a bad STFT size or a non-finite sample (message names it). */
int amt_irm_separate(const float *voice, const float *music, long n, int n_fft, int hop,
                     float *voice_est, float *music_est);

#endif
