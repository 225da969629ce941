/* models/irm.c: the ideal-ratio-mask baseline (see irm.h). */
#include "irm.h"

#include <math.h>
#include <stdlib.h>

#include "audio/stft.h"
#include "core/error.h"

int amt_irm_separate(const float *voice, const float *music, long n, int n_fft, int hop,
                     float *voice_est, float *music_est)
{
    if (n < 1) return amt_error(AMT_EINVAL, "irm: %ld samples (need >= 1)", n);
    for (long i = 0; i < n; i++)
        if (!isfinite(voice[i]) || !isfinite(music[i]))
            return amt_error(AMT_EINVAL, "irm: %s sample %ld is not finite", isfinite(voice[i]) ? "music" : "voice", i);
    amt_stft_cfg sc = amt_stft_default(n_fft, hop);
    amt_stft *st = amt_stft_new(&sc);
    if (!st) return amt_errcode();
    int rc = AMT_OK;
    long nf = amt_stft_frames(st, n);
    size_t nb = (size_t)nf * (size_t)amt_stft_bins(st);
    float *sv = malloc(sizeof(float) * 2 * nb), *sm = malloc(sizeof(float) * 2 * nb), *mix = malloc(sizeof(float) * (size_t)n);
    if (!sv || !sm || !mix) { rc = amt_error(AMT_ENOMEM, "irm: out of memory for %ld samples", n); goto done; }
    for (long i = 0; i < n; i++) mix[i] = voice[i] + music[i];
    if ((rc = amt_stft_do(st, voice, n, sv)) || (rc = amt_stft_do(st, music, n, sm))) goto done;
    for (size_t i = 0; i < nb; i++) {
        float av = hypotf(sv[2 * i], sv[2 * i + 1]), am = hypotf(sm[2 * i], sm[2 * i + 1]);
        float mk = av + am > 0 ? av / (av + am) : 0.0f;
        float xr = sv[2 * i] + sm[2 * i], xi = sv[2 * i + 1] + sm[2 * i + 1];   /* X = V + M */
        sv[2 * i] = mk * xr;
        sv[2 * i + 1] = mk * xi;
    }
    if ((rc = amt_istft_do(st, sv, nf, n, voice_est, NULL))) goto done;
    for (long i = 0; i < n; i++) music_est[i] = mix[i] - voice_est[i];
done:
    free(sv); free(sm); free(mix);
    amt_stft_del(st);
    return rc;
}
