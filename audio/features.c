/* audio/features.c: linear magnitude spectrogram (the mel and semitone extractors live in
 * mel.c and semitone.c). */
#include "audio/features.h"

#include <stdlib.h>

#include "core/error.h"

struct amt_specgram {
    amt_stft *st;
    int power;
};

amt_specgram *amt_specgram_new(const amt_stft_cfg *cfg, int power)
{
    if (power != 1 && power != 2) { amt_error(AMT_EINVAL, "specgram: power %d must be 1 or 2", power); return NULL; }
    amt_specgram *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "specgram: out of memory"); return NULL; }
    s->power = power;
    if (!(s->st = amt_stft_new(cfg))) { free(s); return NULL; }
    return s;
}

void amt_specgram_del(amt_specgram *s)
{
    if (!s) return;
    amt_stft_del(s->st);
    free(s);
}

int amt_specgram_bins(const amt_specgram *s) { return amt_stft_bins(s->st); }
long amt_specgram_frames(const amt_specgram *s, long len) { return amt_stft_frames(s->st, len); }

int amt_specgram_do(amt_specgram *s, const float *x, long len, float *out)
{
    if (!s || len < 0 || (!x && len > 0) || !out) return amt_error(AMT_EINVAL, "specgram: bad arguments (len %ld)", len);
    long frames = amt_stft_frames(s->st, len);
    int bins = amt_stft_bins(s->st);
    for (long f = 0; f < frames; f++) amt_stft_frame_mag(s->st, x, len, f, s->power, out + (size_t)f * bins);
    return AMT_OK;
}
