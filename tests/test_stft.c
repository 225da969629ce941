/* tests/test_stft.c: STFT/ISTFT against librosa-equivalent numpy goldens, reconstruction. */
#include "audio/stft.h"
#include "core/amt.h"
#include "tests/golden.h"
#include "tests/test.h"

#include <stdlib.h>

#define GOLD "tests/golden/audio.txt"

static float *gold(const char *name, size_t *n) { return golden_get(GOLD, name, NULL, NULL, n); }

static void noise(float *x, long n, unsigned seed)
{
    for (long i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) / 16777216.0 * 2.0 - 1.0);
    }
}

static void test_frames_and_errors(void)
{
    amt_stft_cfg c = amt_stft_default(2048, 512);
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    CHECK(amt_stft_bins(st) == 1025);
    CHECK(amt_stft_frames(st, 22050) == 44);   /* 1 + 22050 / 512 */
    CHECK(amt_stft_frames(st, 0) == 1);
    amt_stft_del(st);
    c.center = 0;
    st = amt_stft_new(&c);
    REQUIRE(st);
    CHECK(amt_stft_frames(st, 2047) == 0);
    CHECK(amt_stft_frames(st, 2048 + 1023) == 2);
    amt_stft_del(st);
    c = amt_stft_default(255, 64);
    CHECK(amt_stft_new(&c) == NULL);
    CHECK(strstr(amt_errmsg(), "n_fft 255") != NULL);
    c = amt_stft_default(256, 0);
    CHECK(amt_stft_new(&c) == NULL);
    CHECK(strstr(amt_errmsg(), "hop 0") != NULL);
    c = amt_stft_default(256, 64);
    c.win_length = 300;
    CHECK(amt_stft_new(&c) == NULL);
    CHECK(strstr(amt_errmsg(), "win_length 300") != NULL);
}

static void test_window(void)
{
    amt_stft_cfg c = amt_stft_default(8, 2);
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    const float *w = amt_stft_window(st);
    CHECK_NEAR(w[0], 0.0, 0);
    CHECK_NEAR(w[2], 0.5, 1e-7);
    CHECK_NEAR(w[4], 1.0, 1e-7);   /* periodic: peak at n/2 */
    CHECK_NEAR(w[7], 0.5 - 0.5 * cos(2 * M_PI * 7 / 8), 1e-7);
    amt_stft_del(st);
    c.window = AMT_WIN_HANN_SYM;
    st = amt_stft_new(&c);
    REQUIRE(st);
    w = amt_stft_window(st);
    CHECK_NEAR(w[0], 0.0, 0);
    CHECK_NEAR(w[7], 0.0, 1e-7);   /* symmetric: zero at both ends */
    CHECK_NEAR(w[3], w[4], 1e-7);
    amt_stft_del(st);
}

static void check_spec(amt_stft_cfg c, const char *re_name, const char *im_name, const char *mag_name)
{
    size_t nx = 0, nre = 0, nim = 0, nmag = 0;
    float *x = gold("stft_x", &nx);
    REQUIRE(x);
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    long frames = amt_stft_frames(st, (long)nx);
    int bins = amt_stft_bins(st);
    float *spec = malloc(sizeof(float) * 2 * (size_t)frames * bins);
    CHECK_OK(amt_stft_do(st, x, (long)nx, spec));
    if (re_name) {
        float *re = gold(re_name, &nre), *im = gold(im_name, &nim);
        REQUIRE(re && im && nre == (size_t)frames * bins);
        double worst = 0;
        for (size_t i = 0; i < nre; i++) {
            double d = fmax(fabs(spec[2 * i] - re[i]), fabs(spec[2 * i + 1] - im[i]));
            if (d > worst) worst = d;
        }
        CHECK_MSG(worst < 2e-5, "%s: max abs error %g", re_name, worst);   /* |X| up to ~30 */
        free(re); free(im);
    }
    if (mag_name) {
        float *mag = gold(mag_name, &nmag);
        REQUIRE(mag);
        REQUIRE(nmag <= (size_t)frames * bins);
        CHECK_MSG(nmag == (size_t)frames * bins, "%s: %zu values, we have %ld x %d", mag_name, nmag, frames, bins);
        float *m = malloc(sizeof(float) * (size_t)frames * bins);
        amt_spec_to_magphase(spec, frames * bins, m, NULL);
        double worst = golden_max_rel(m, mag, nmag, 1.0);   /* absolute below 1, relative above */
        CHECK_MSG(worst < 2e-6, "%s: max error %g", mag_name, worst);
        free(m); free(mag);
    }
    free(spec); free(x);
    amt_stft_del(st);
}

static void test_stft_golden_constant(void) { check_spec(amt_stft_default(256, 64), "stft_const_re", "stft_const_im", NULL); }

static void test_stft_golden_reflect(void)
{
    amt_stft_cfg c = amt_stft_default(256, 64);
    c.pad_mode = AMT_PAD_REFLECT;
    check_spec(c, NULL, NULL, "stft_reflect_mag");
}

static void test_stft_golden_nocenter_sym(void)
{
    amt_stft_cfg c = amt_stft_default(256, 100);
    c.center = 0;
    c.window = AMT_WIN_HANN_SYM;
    check_spec(c, NULL, NULL, "stft_nocenter_sym_mag");
}

static void test_istft_golden(void)
{
    size_t nre, nim, ny;
    float *re = gold("istft_re", &nre), *im = gold("istft_im", &nim), *yg = gold("istft_y", &ny);
    REQUIRE(re && im && yg && nre == 12 * 33 && ny == 180);
    amt_stft_cfg c = amt_stft_default(64, 16);
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    float spec[2 * 12 * 33], y[180];
    for (size_t i = 0; i < nre; i++) { spec[2 * i] = re[i]; spec[2 * i + 1] = im[i]; }
    long len = 0;
    CHECK_OK(amt_istft_do(st, spec, 12, 180, y, &len));
    CHECK(len == 180);
    double worst = 0;
    for (int i = 0; i < 180; i++) worst = fmax(worst, fabs(y[i] - yg[i]));
    CHECK_MSG(worst < 1e-5, "istft max abs error %g", worst);
    CHECK_OK(amt_istft_do(st, spec, 12, 0, NULL, &len));
    CHECK(len == 16 * 11);   /* librosa default length hop * (frames - 1) */
    amt_stft_del(st);
    free(re); free(im); free(yg);
}

/* The per-frame magnitude/power (vectorised) agrees with the complex frame. */
static void test_frame_mag(void)
{
    amt_stft_cfg c = amt_stft_default(1024, 256);
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    float x[5000], cx[2 * 513], mag[513], pw[513];
    noise(x, 5000, 7);
    double worst = 0;
    for (long f = 0; f < amt_stft_frames(st, 5000); f += 3) {
        amt_stft_frame(st, x, 5000, f, cx);
        amt_stft_frame_mag(st, x, 5000, f, 1, mag);
        amt_stft_frame_mag(st, x, 5000, f, 2, pw);
        for (int k = 0; k < 513; k++) {
            double p = (double)cx[2 * k] * cx[2 * k] + (double)cx[2 * k + 1] * cx[2 * k + 1];
            worst = fmax(worst, fabs(mag[k] - sqrt(p)) / fmax(1e-3, sqrt(p)));
            worst = fmax(worst, fabs(pw[k] - p) / fmax(1e-6, p));
        }
    }
    CHECK_MSG(worst < 1e-6, "frame magnitude/power: max rel error %g", worst);
    amt_stft_del(st);
}

/* Objects made on several threads at once (FFTW planning under the lock) compute the same. */
static void test_threads_make_plans(void)
{
    enum { N = 8 };
    float x[3000], out[N][2 * 257];
    noise(x, 3000, 3);
    int fails = 0;
#pragma omp parallel for num_threads(4) reduction(+ : fails)
    for (int i = 0; i < N; i++) {
        amt_stft_cfg c = amt_stft_default(512, 128);
        amt_stft *st = amt_stft_new(&c);
        if (!st) { fails++; continue; }
        amt_stft_frame(st, x, 3000, 5, out[i]);
        amt_stft_del(st);
    }
    CHECK(fails == 0);
    for (int i = 1; i < N; i++) CHECK(memcmp(out[i], out[0], sizeof out[0]) == 0);
}

static void roundtrip(int n_fft, int hop, int pad_mode, long n)
{
    amt_stft_cfg c = amt_stft_default(n_fft, hop);
    c.pad_mode = pad_mode;
    amt_stft *st = amt_stft_new(&c);
    REQUIRE(st);
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
    noise(x, n, (unsigned)(n_fft + hop + n));
    long frames = amt_stft_frames(st, n);
    int bins = amt_stft_bins(st);
    float *spec = malloc(sizeof(float) * 2 * (size_t)frames * bins);
    float *mag = malloc(sizeof(float) * (size_t)frames * bins), *ph = malloc(sizeof(float) * (size_t)frames * bins);
    CHECK_OK(amt_stft_do(st, x, n, spec));
    amt_spec_to_magphase(spec, frames * bins, mag, ph);
    amt_spec_from_magphase(mag, ph, frames * bins, spec);
    CHECK_OK(amt_istft_do(st, spec, frames, n, y, NULL));
    double worst = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs(x[i] - y[i]));
    CHECK_MSG(worst < 1e-5, "n_fft %d hop %d pad %d len %ld: max error %g", n_fft, hop, pad_mode, n, worst);
    free(x); free(y); free(spec); free(mag); free(ph);
    amt_stft_del(st);
}

static void test_reconstruction_cola(void)
{
    roundtrip(1024, 256, AMT_PAD_CONSTANT, 16000);
    roundtrip(1024, 512, AMT_PAD_CONSTANT, 16001);
    roundtrip(2048, 512, AMT_PAD_REFLECT, 22050);
    roundtrip(512, 128, AMT_PAD_REFLECT, 1000);
    roundtrip(256, 64, AMT_PAD_CONSTANT, 100);   /* shorter than one window */
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_frames_and_errors);
    RUN(test_window);
    RUN(test_stft_golden_constant);
    RUN(test_stft_golden_reflect);
    RUN(test_stft_golden_nocenter_sym);
    RUN(test_istft_golden);
    RUN(test_frame_mag);
    RUN(test_threads_make_plans);
    RUN(test_reconstruction_cola);
    return TEST_DONE();
}
