/* tests/test_resample.c: libsoxr resampling: a sine survives 44100 -> 16000 -> 22050 Hz,
 * streaming equals one-shot, output lengths. */
#include "audio/resample.h"
#include "core/amt.h"
#include "tests/test.h"

#include <stdlib.h>

/* Amplitude of the component at f Hz over x[a, b) by correlation with a Hann-windowed
 * complex exponential (a DFT at one frequency). */
static double level_at_s(const float *x, int stride, long a, long b, double rate, double f)
{
    double re = 0, im = 0, ws = 0;
    long n = b - a;
    for (long i = 0; i < n; i++) {
        double w = 0.5 - 0.5 * cos(2 * M_PI * i / n);
        double ph = 2 * M_PI * f * (double)(a + i) / rate;
        re += w * x[(a + i) * stride] * cos(ph);
        im += w * x[(a + i) * stride] * sin(ph);
        ws += w;
    }
    return 2.0 * sqrt(re * re + im * im) / ws;
}

static double level_at(const float *x, long a, long b, double rate, double f) { return level_at_s(x, 1, a, b, rate, f); }

/* The frequency near f (+-2 Hz, 0.05 Hz steps) with the largest level. */
static double peak_freq(const float *x, long a, long b, double rate, double f)
{
    double best = f, lbest = -1;
    for (int k = -40; k <= 40; k++) {
        double l = level_at(x, a, b, rate, f + 0.05 * k);
        if (l > lbest) { lbest = l; best = f + 0.05 * k; }
    }
    return best;
}

static void sine(float *x, long n, double rate, double f, double amp)
{
    for (long i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * f * i / rate));
}

static void test_lengths(void)
{
    CHECK(amt_resample_len(44100, 16000, 44100) == 16000);
    CHECK(amt_resample_len(44100, 16000, 1) == 0);        /* 0.36 -> 0 */
    CHECK(amt_resample_len(44100, 16000, 2) == 1);        /* 0.73 -> 1 */
    CHECK(amt_resample_len(16000, 22050, 16001) == 22051); /* 22051.38 */
    CHECK(amt_resample_len(16000, 44100, 3) == 8);        /* 8.27 */
    float *o;
    long n;
    float in[7] = { 0 };
    CHECK_OK(amt_resample(in, 7, 1, 16000, 44100, &o, &n));
    CHECK(n == 19);   /* 19.29 */
    free(o);
    CHECK(amt_resampler_new(0, 16000, 1) == NULL);
    CHECK(strstr(amt_errmsg(), "bad rates") != NULL);
}

static void test_sine_chain(void)
{
    const long n0 = 44100;   /* 1 s */
    const double f = 1000.0, amp = 0.5;
    float *x = malloc(sizeof(float) * n0), *y, *z;
    sine(x, n0, 44100, f, amp);
    long ny, nz;
    CHECK_OK(amt_resample(x, n0, 1, 44100, 16000, &y, &ny));
    CHECK(ny == 16000);
    CHECK_OK(amt_resample(y, ny, 1, 16000, 22050, &z, &nz));
    CHECK(nz == 22050);
    /* level within 0.1 dB in the middle; frequency: the peak of a fine DFT scan */
    double l16 = level_at(y, 4000, 12000, 16000, f), l22 = level_at(z, 5512, 16537, 22050, f);
    CHECK_NEAR(20 * log10(l16 / amp), 0.0, 0.1);
    CHECK_NEAR(20 * log10(l22 / amp), 0.0, 0.1);
    CHECK_NEAR(peak_freq(y, 4000, 12000, 16000, f), f, 0.026);
    CHECK_NEAR(peak_freq(z, 5512, 16537, 22050, f), f, 0.026);
    /* phase/timing kept (delay-compensated): compare with the ideal sine */
    double worst = 0;
    for (long i = 2000; i < 20000; i++) worst = fmax(worst, fabs(z[i] - amp * sin(2 * M_PI * f * i / 22050.0)));
    CHECK_MSG(worst < 1e-3, "44100->16000->22050: max deviation from the ideal sine %g", worst);
    /* above the new Nyquist is removed: 10 kHz at 44.1k -> 16k is gone */
    sine(x, n0, 44100, 10000.0, amp);
    free(y);
    CHECK_OK(amt_resample(x, n0, 1, 44100, 16000, &y, &ny));
    double rms = 0;
    for (long i = 1000; i < 15000; i++) rms += y[i] * y[i];
    rms = sqrt(rms / 14000);
    CHECK_MSG(rms < 1e-3, "10 kHz leaks through 44.1k -> 16k: rms %g", rms);
    free(x); free(y); free(z);
}

static void test_streaming_equals_oneshot(void)
{
    const long n = 30001;
    const int ch = 2;
    float *x = malloc(sizeof(float) * n * ch);
    for (long i = 0; i < n; i++) {
        x[i * ch] = (float)(0.3 * sin(2 * M_PI * 440.0 * i / 44100));
        x[i * ch + 1] = (float)(0.2 * sin(2 * M_PI * 3000.0 * i / 44100 + 1.0));
    }
    float *one;
    long n1;
    CHECK_OK(amt_resample(x, n, ch, 44100, 16000, &one, &n1));
    CHECK(n1 == amt_resample_len(44100, 16000, n));
    amt_resampler *r = amt_resampler_new(44100, 16000, ch);
    REQUIRE(r);
    float *st = malloc(sizeof(float) * (n1 + 16) * ch), *buf = malloc(sizeof(float) * 4096 * ch);
    long got = 0, pos = 0, blk = 1;
    while (pos < n) {
        long k = n - pos < blk ? n - pos : blk;
        long used = 0;
        long cap = amt_resampler_max_out(r, k);
        REQUIRE(cap <= 4096);
        long m = amt_resampler_process(r, x + pos * ch, k, &used, buf, cap);
        REQUIRE(m >= 0);
        CHECK(used == k);
        REQUIRE(got + m <= n1 + 16);
        memcpy(st + got * ch, buf, sizeof(float) * m * ch);
        got += m;
        pos += used;
        blk = blk * 3 % 1999 + 1;   /* irregular block sizes */
    }
    long m;
    while ((m = amt_resampler_flush(r, buf, 100)) > 0) {
        REQUIRE(got + m <= n1 + 16);
        memcpy(st + got * ch, buf, sizeof(float) * m * ch);
        got += m;
    }
    CHECK(m == 0);
    CHECK(got == n1);
    double worst = 0;
    for (long i = 0; i < n1 * ch && got == n1; i++) worst = fmax(worst, fabs(st[i] - one[i]));
    CHECK_MSG(worst < 1e-6, "streaming vs one-shot: max difference %g", worst);
    /* the channels stay apart */
    CHECK_NEAR(level_at_s(one, 2, 2000, 8000, 16000, 440) / 0.3, 1.0, 0.0116);   /* 0.1 dB */
    CHECK_NEAR(level_at_s(one + 1, 2, 2000, 8000, 16000, 3000) / 0.2, 1.0, 0.0116);
    CHECK(level_at_s(one, 2, 2000, 8000, 16000, 3000) < 1e-4);
    free(x); free(one); free(st); free(buf);
    amt_resampler_del(r);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_lengths);
    RUN(test_sine_chain);
    RUN(test_streaming_equals_oneshot);
    return TEST_DONE();
}
