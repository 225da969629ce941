/* bench/bench_features.c: single-thread throughput of the feature extractors in multiples of
 * real time (seconds of audio per second of compute), on 60 s of noise+tones per rate:
 *   stft      complex STFT, n_fft 1024, hop 256 (the separator's, at each rate)
 *   logmel    128 mels, n_fft 2048, hop 512, dB
 *   semitone  229-band log filterbank, 100 frames/s: 44.1 kHz n_fft 4096 hop 441; 16 kHz n_fft
 *             2048 hop 160; 22.05 kHz n_fft 2048 hop 221
 *   cqt       (16 kHz only) 88 piano-key bins, 100 frames/s, n_fft 16384; not in all_three
 * Prints one JSON object. AMT_BENCH_SECONDS (default 60) sets the audio length. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "audio/cqt.h"
#include "audio/features.h"
#include "core/amt.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best of 3 runs: x real time. */
#define TIME_IT(expr, seconds, out) do { double best_ = 1e30; for (int r_ = 0; r_ < 3; r_++) { \
    double t0_ = now(); expr; double t_ = now() - t0_; if (t_ < best_) best_ = t_; } (out) = (seconds) / best_; } while (0)

int main(void)
{
    amt_set_threads(1);
    double secs = 60;
    const char *env = getenv("AMT_BENCH_SECONDS");
    if (env && atof(env) > 0) secs = atof(env);
    int rates[3] = { 16000, 22050, 44100 };
    printf("{\"threads\": 1, \"audio_seconds\": %g", secs);
    for (int ri = 0; ri < 3; ri++) {
        int rate = rates[ri];
        long n = (long)(secs * rate);
        float *x = malloc(sizeof(float) * (size_t)n);
        unsigned s = 1;
        for (long i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = 0.3f * sinf(6.2831853f * 440.0f * (float)i / rate) + 0.01f * ((float)(s >> 8) / 16777216.0f - 0.5f);
        }
        double x_stft = 0, x_mel = 0, x_semi = 0;
        amt_stft_cfg sc = amt_stft_default(1024, 256);
        amt_stft *st = amt_stft_new(&sc);
        float *spec = st ? malloc(sizeof(float) * 2 * (size_t)amt_stft_frames(st, n) * amt_stft_bins(st)) : NULL;
        if (st && spec) TIME_IT(amt_stft_do(st, x, n, spec), secs, x_stft);
        free(spec);
        amt_stft_del(st);

        amt_mel_cfg mc = amt_mel_default();
        mc.rate = rate;
        amt_melspec *m = amt_melspec_new(&mc);
        float *mo = m ? malloc(sizeof(float) * (size_t)amt_melspec_frames(m, n) * amt_melspec_bins(m)) : NULL;
        if (m && mo) TIME_IT(amt_melspec_do(m, x, n, mo), secs, x_mel);
        free(mo);
        amt_melspec_del(m);

        amt_semitone_cfg tc = rate == 16000 ? amt_semitone_default_16k() : amt_semitone_default();
        if (rate == 22050) { tc.rate = rate; tc.n_fft = 2048; tc.hop = 221; }   /* 229 bins, 99.8 frames/s */
        amt_semitone *sm = amt_semitone_new(&tc);
        int sbins = sm ? amt_semitone_bins(sm) : 0;
        float *so = sm ? malloc(sizeof(float) * (size_t)amt_semitone_frames(sm, n) * sbins) : NULL;
        if (sm && so) TIME_IT(amt_semitone_do(sm, x, n, so), secs, x_semi);
        free(so);
        amt_semitone_del(sm);
        double x_cqt = 0;
        if (rate == 16000) {   /* optional feature: 88 keys, 100 frames/s, n_fft 16384 */
            amt_cqt_cfg qc = amt_cqt_default();
            amt_cqt *q = amt_cqt_new(&qc);
            float *qo = q ? malloc(sizeof(float) * (size_t)amt_cqt_frames(q, n) * amt_cqt_bins(q)) : NULL;
            if (q && qo) TIME_IT(amt_cqt_do(q, x, n, qo), secs, x_cqt);
            free(qo);
            amt_cqt_del(q);
        }
        double all = x_stft > 0 && x_mel > 0 && x_semi > 0 ? 1.0 / (1.0 / x_stft + 1.0 / x_mel + 1.0 / x_semi) : 0;
        printf(", \"%d\": {\"stft_1024_256_xrt\": %.0f, \"logmel_128_2048_512_xrt\": %.0f, \"semitone_%d_xrt\": %.0f, "
               "\"all_three_xrt\": %.0f", rate, x_stft, x_mel, sbins, x_semi, all);
        if (x_cqt > 0) printf(", \"cqt_88_xrt\": %.0f", x_cqt);
        printf("}");
        free(x);
    }
    printf("}\n");
    return 0;
}
