/* tests/test_features.c: mel filterbank and log-mel vs librosa-equivalent numpy goldens,
 * the semitone filterbank vs madmom-equivalent goldens and pure tones, magnitude spectrogram. */
#include "audio/cqt.h"
#include "audio/features.h"
#include "core/amt.h"
#include "tests/golden.h"
#include "tests/test.h"

#include <stdlib.h>

#define GOLD "tests/golden/audio.txt"

static float *gold(const char *name, size_t *n) { return golden_get(GOLD, name, NULL, NULL, n); }

static void test_hz_to_mel(void)
{
    size_t n, m;
    float *hz = gold("hz", &n), *mel = gold("hz_to_mel", &m);
    REQUIRE(hz && mel && n == m);
    for (size_t i = 0; i < n; i++) {
        CHECK_NEAR(amt_hz_to_mel(hz[i]), mel[i], 1e-5 * fmax(1.0, mel[i]));
        CHECK_NEAR(amt_mel_to_hz(amt_hz_to_mel(hz[i])), hz[i], 1e-9 * fmax(1.0, hz[i]));
    }
    free(hz); free(mel);
}

static void check_fb(const char *name, double rate, int n_fft, int n_mels, double fmin, double fmax_hz, int row_step)
{
    size_t n;
    int bins = n_fft / 2 + 1;
    float *g = gold(name, &n);
    REQUIRE(g);
    float *w = malloc(sizeof(float) * (size_t)n_mels * bins);
    CHECK_OK(amt_mel_filterbank(rate, n_fft, n_mels, fmin, fmax_hz, w));
    size_t rows = n / (size_t)bins;
    REQUIRE(rows == (size_t)((n_mels + row_step - 1) / row_step));
    double worst = 0;
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < bins; k++)
            worst = fmax(worst, fabs(w[r * row_step * bins + k] - g[r * bins + k]));
    CHECK_MSG(worst < 1e-7, "%s: max abs error %g", name, worst);   /* weights are ~1e-3..1e-2 */
    free(w); free(g);
}

static void test_mel_filterbank_golden(void)
{
    check_fb("mel_16000_256_20", 16000, 256, 20, 0, 0, 1);
    check_fb("mel_22050_1024_64_f50_8000", 22050, 1024, 64, 50, 8000, 8);
    size_t n, ns;
    float *g = gold("mel_22050_2048_128_rows", &n), *sums = gold("mel_22050_2048_128_rowsum", &ns);
    REQUIRE(g && sums && n == 5 * 1025 && ns == 128);
    float *w = malloc(sizeof(float) * 128 * 1025);
    CHECK_OK(amt_mel_filterbank(22050, 2048, 128, 0, 0, w));
    int rows[5] = { 0, 5, 40, 100, 127 };
    double worst = 0, worst_sum = 0;
    for (int r = 0; r < 5; r++)
        for (int k = 0; k < 1025; k++) worst = fmax(worst, fabs(w[rows[r] * 1025 + k] - g[r * 1025 + k]));
    for (int r = 0; r < 128; r++) {
        double s = 0;
        for (int k = 0; k < 1025; k++) s += w[r * 1025 + k];
        worst_sum = fmax(worst_sum, fabs(s - sums[r]) / sums[r]);
    }
    CHECK_MSG(worst < 1e-7, "default rows: max abs error %g", worst);
    CHECK_MSG(worst_sum < 1e-6, "default row sums: max rel error %g", worst_sum);
    CHECK(amt_mel_filterbank(22050, 2048, 128, 12000, 0, w) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "fmin 12000") != NULL);
    free(w); free(g); free(sums);
}

static void logmel_signal(float *x, long n)
{
    for (long i = 0; i < n; i++) {
        double t = i / 22050.0;
        x[i] = (float)(0.5 * sin(2 * M_PI * 440 * t) + 0.2 * sin(2 * M_PI * 3000 * t) +
                       0.05 * sin(2 * M_PI * (100 * t + 4000 * t * t)));
    }
}

static void test_logmel_db_golden(void)
{
    size_t n;
    float *g = gold("logmel_db", &n);
    REQUIRE(g);
    float x[11025];
    logmel_signal(x, 11025);
    amt_mel_cfg c = amt_mel_default();
    amt_melspec *m = amt_melspec_new(&c);
    REQUIRE(m);
    long frames = amt_melspec_frames(m, 11025);
    CHECK(frames == 22);
    CHECK(amt_melspec_bins(m) == 128);
    REQUIRE(n == (size_t)frames * 128);
    float *out = malloc(sizeof(float) * n);
    CHECK_OK(amt_melspec_do(m, x, 11025, out));
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(out[i] - g[i]));
    CHECK_MSG(worst < 2e-3, "log-mel dB: max abs error %g dB", worst);
    CHECK(golden_max_rel(out, g, n, 1.0) < 1e-4);
    /* log(1 + C x) mode on the same mel energies */
    amt_mel_cfg c2 = c;
    c2.log = AMT_LOG_1P;
    c2.log_c = 10.0f;
    amt_melspec *m2 = amt_melspec_new(&c2);
    REQUIRE(m2);
    CHECK_OK(amt_melspec_do(m2, x, 11025, out));
    worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = pow(10.0, g[i] / 10.0);   /* golden energy where above the top_db floor */
        if (g[i] > -60) worst = fmax(worst, fabs(out[i] - log1p(10.0 * e)) / fmax(1.0, log1p(10.0 * e)));
    }
    CHECK_MSG(worst < 1e-3, "log1p: max rel error %g", worst);
    amt_melspec_del(m2);
    amt_melspec_del(m);
    free(out); free(g);
}

static void test_log1pf(void)
{
    double worst = 0;
    float y = 0.0f;
    CHECK(amt_log1pf(0.0f) == 0.0f);
    for (int i = 0; i < 200000; i++) {
        y = i < 100 ? (float)i * 1e-9f : y * 1.0003f + 1e-9f;   /* 0 .. ~1e17 */
        double ref = log1p((double)y), got = amt_log1pf(y);
        worst = fmax(worst, fabs(got - ref) / fmax(ref, 1e-30));
    }
    CHECK_MSG(worst < 5e-7, "amt_log1pf: max rel error %g", worst);
}

static void test_specgram(void)
{
    float x[4000];
    for (int i = 0; i < 4000; i++) x[i] = (float)sin(2 * M_PI * 1000.0 * i / 16000.0);
    amt_stft_cfg c = amt_stft_default(1024, 256);
    amt_specgram *s = amt_specgram_new(&c, 1);
    REQUIRE(s);
    CHECK(amt_specgram_bins(s) == 513);
    long frames = amt_specgram_frames(s, 4000);
    CHECK(frames == 16);
    float *out = malloc(sizeof(float) * (size_t)frames * 513);
    CHECK_OK(amt_specgram_do(s, x, 4000, out));
    /* 1 kHz at 16 kHz / 1024 = bin 64; Hann sum 512 -> peak amplitude 512 / 2 = 256 */
    const float *row = out + 8 * 513;
    int arg = 0;
    for (int k = 1; k < 513; k++) if (row[k] > row[arg]) arg = k;
    CHECK(arg == 64);
    CHECK_NEAR(row[64], 256.0, 0.05);
    free(out);
    amt_specgram_del(s);
    CHECK(amt_specgram_new(&c, 3) == NULL);
    CHECK(strstr(amt_errmsg(), "power 3") != NULL);
}

static void test_semitone_golden(void)
{
    amt_semitone_cfg c = amt_semitone_default();
    amt_semitone *s = amt_semitone_new(&c);
    REQUIRE(s);
    CHECK(amt_semitone_bins(s) == AMT_SEMITONE_BINS);
    size_t ns, nl, np, nw;
    float *st = gold("semi_start", &ns), *ln = gold("semi_len", &nl), *pk = gold("semi_peak", &np), *w = gold("semi_w", &nw);
    REQUIRE(st && ln && pk && w && ns == (size_t)amt_semitone_bins(s));
    size_t off = 0;
    double worst = 0;
    int bad = 0;
    for (int i = 0; i < amt_semitone_bins(s); i++) {
        int first, count;
        const float *wi;
        amt_semitone_filter(s, i, &first, &count, &wi);
        if (first != (int)st[i] || count != (int)ln[i]) { bad++; continue; }
        CHECK_NEAR(amt_semitone_center_hz(s, i), pk[i] * 44100.0 / 4096.0, 1e-9);
        for (int k = 0; k < count && off + k < nw; k++) worst = fmax(worst, fabs(wi[k] - w[off + k]));
        off += (size_t)count;
    }
    CHECK_MSG(bad == 0, "%d filters differ in position from madmom's", bad);
    CHECK(off == nw);
    CHECK_MSG(worst < 1e-7, "weights: max abs error %g", worst);
    for (int i = 1; i < amt_semitone_bins(s); i++) CHECK(amt_semitone_center_hz(s, i) > amt_semitone_center_hz(s, i - 1));
    CHECK(amt_semitone_center_hz(s, 0) < 50.0);   /* 43 Hz: FFT bin 4; bins 2..3 only feed its rising edge */
    CHECK(amt_semitone_center_hz(s, amt_semitone_bins(s) - 1) > 4186.0);
    amt_semitone_del(s);
    free(st); free(ln); free(pk); free(w);
    c = amt_semitone_default_16k();
    s = amt_semitone_new(&c);
    REQUIRE(s);
    CHECK(amt_semitone_bins(s) == AMT_SEMITONE_BINS);
    CHECK(amt_semitone_frames(s, 16000) == 101);   /* 100 frames/s, centred */
    amt_semitone_del(s);
    c = amt_semitone_default();
    c.fmax = 30000;
    CHECK(amt_semitone_new(&c) == NULL);
    CHECK(strstr(amt_errmsg(), "30000") != NULL);
}

/* A pure tone at each piano key peaks in the band whose centre is nearest the key. */
static void tones(amt_semitone_cfg c)
{
    amt_semitone *s = amt_semitone_new(&c);
    REQUIRE(s);
    int nb = amt_semitone_bins(s);
    long n = c.rate / 10;   /* 0.1 s */
    float *x = malloc(sizeof(float) * (size_t)n);
    long frames = amt_semitone_frames(s, n);
    CHECK(frames == 11);   /* 100 frames/s */
    float *out = malloc(sizeof(float) * (size_t)frames * nb);
    int wrong = 0;
    for (int key = 21; key <= 108; key++) {
        double f0 = 440.0 * pow(2.0, (key - 69) / 12.0);
        for (long i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * M_PI * f0 * i / c.rate));
        CHECK_OK(amt_semitone_do(s, x, n, out));
        const float *row = out + 5 * nb;
        int arg = 0, near = 0;
        for (int i = 1; i < nb; i++) {
            if (row[i] > row[arg]) arg = i;
            if (fabs(amt_semitone_center_hz(s, i) - f0) < fabs(amt_semitone_center_hz(s, near) - f0)) near = i;
        }
        if (arg != near) {
            wrong++;
            fprintf(stderr, "  key %d (%.2f Hz): peak in band %d (%.2f Hz), nearest band %d (%.2f Hz)\n", key, f0, arg,
                    amt_semitone_center_hz(s, arg), near, amt_semitone_center_hz(s, near));
        }
    }
    CHECK(wrong == 0);
    free(x); free(out);
    amt_semitone_del(s);
}

static void test_semitone_tones(void)
{
    tones(amt_semitone_default());
    tones(amt_semitone_default_16k());
}

/* CQT: a tone at each piano key peaks in its bin at about its amplitude. */
static void test_cqt_tones(void)
{
    amt_cqt_cfg c = amt_cqt_default();
    c.hop = 4000;
    c.log_c = 0;
    amt_cqt *q = amt_cqt_new(&c);
    REQUIRE(q);
    CHECK(amt_cqt_bins(q) == 88);
    CHECK(amt_cqt_n_fft(q) == 16384);
    CHECK_NEAR(amt_cqt_freq(q, 48), 440.0, 1e-9);
    long n = 24000;   /* 1.5 s; frame 3 is centred at 0.75 s */
    float *x = malloc(sizeof(float) * (size_t)n), *out = malloc(sizeof(float) * 88 * (size_t)amt_cqt_frames(q, n));
    int wrong = 0;
    double worst_db = 0;
    for (int k = 0; k < 88; k++) {
        double f0 = amt_cqt_freq(q, k);
        for (long i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * M_PI * f0 * i / 16000.0));
        CHECK_OK(amt_cqt_do(q, x, n, out));
        const float *row = out + 3 * 88;
        int arg = 0;
        for (int j = 1; j < 88; j++) if (row[j] > row[arg]) arg = j;
        wrong += arg != k;
        worst_db = fmax(worst_db, fabs(20 * log10(row[k] / 0.5)));
    }
    CHECK_MSG(wrong == 0, "%d keys peak in another bin", wrong);
    CHECK_MSG(worst_db < 0.5, "level off by %g dB", worst_db);
    free(x); free(out);
    amt_cqt_del(q);
    c.n_bins = 200;
    CHECK(amt_cqt_new(&c) == NULL);
    CHECK(strstr(amt_errmsg(), "200 bins") != NULL);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_hz_to_mel);
    RUN(test_mel_filterbank_golden);
    RUN(test_logmel_db_golden);
    RUN(test_log1pf);
    RUN(test_specgram);
    RUN(test_semitone_golden);
    RUN(test_semitone_tones);
    RUN(test_cqt_tones);
    return TEST_DONE();
}
