/* tests/test_audio_io.c: audio file reading/writing with libsndfile: every format written and
 * read back (fixtures made here with libsndfile in a temporary folder), mix-down and channel
 * selection, streaming reads, bad inputs. */
#include "audio/audio_io.h"
#include "audio/resample.h"
#include "core/amt.h"
#include "tests/test.h"

#include <dirent.h>
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

#define RATE 16000
#define FRAMES 8000   /* 0.5 s */

static char dir[64];

static const char *tpath(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* Stereo test signal: 440 Hz at 0.5 left, 1000 Hz at 0.25 right. */
static float *stereo(long n, int rate)
{
    float *x = malloc(sizeof(float) * 2 * (size_t)n);
    for (long i = 0; i < n; i++) {
        x[2 * i] = (float)(0.5 * sin(2 * M_PI * 440.0 * i / rate));
        x[2 * i + 1] = (float)(0.25 * sin(2 * M_PI * 1000.0 * i / rate));
    }
    return x;
}

static double level_at(const float *x, int stride, long a, long b, double rate, double f)
{
    double re = 0, im = 0, ws = 0;
    for (long i = a; i < b; i++) {
        double w = 0.5 - 0.5 * cos(2 * M_PI * (i - a) / (b - a));
        re += w * x[i * stride] * cos(2 * M_PI * f * i / rate);
        im += w * x[i * stride] * sin(2 * M_PI * f * i / rate);
        ws += w;
    }
    return 2 * sqrt(re * re + im * im) / ws;
}

/* Raw libsndfile writer for fixtures the library itself refuses to make (NaN, 0 frames). */
static int raw_write(const char *path, int format, const float *x, long frames, int ch, int rate)
{
    SF_INFO si = { 0 };
    si.samplerate = rate;
    si.channels = ch;
    si.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &si);
    if (!sf) return -1;
    if (frames) sf_writef_float(sf, x, frames);
    sf_close(sf);
    return 0;
}

static void roundtrip(const char *name, int format, double tol, int lossy)
{
    float *x = stereo(FRAMES, RATE);
    const char *p = tpath(name);
    CHECK_OK(amt_audio_write(p, x, FRAMES, 2, RATE, format));
    amt_audio a;
    int rc = amt_audio_read(p, &a);
    CHECK_MSG(rc == 0, "%s: %s", name, amt_errmsg());
    if (rc) { free(x); return; }
    CHECK(a.channels == 2 && a.rate == RATE);
    if (!lossy) {
        CHECK_MSG(a.frames == FRAMES, "%s: %ld frames", name, a.frames);
        double worst = 0;
        for (long i = 0; i < 2 * FRAMES && a.frames == FRAMES; i++) worst = fmax(worst, fabs(a.data[i] - x[i]));
        CHECK_MSG(worst <= tol, "%s: max error %g > %g", name, worst, tol);
    } else {
        /* libsndfile trims the encoders' priming/padding (Vorbis, Opus pre-skip, MP3 gapless
         * info): the length is exact; the tones keep their level */
        CHECK_MSG(a.frames == FRAMES, "%s: %ld frames", name, a.frames);
        long m = a.frames < FRAMES ? a.frames : FRAMES;
        double l0 = level_at(a.data, 2, m / 4, 3 * m / 4, RATE, 440), l1 = level_at(a.data + 1, 2, m / 4, 3 * m / 4, RATE, 1000);
        CHECK_MSG(fabs(20 * log10(l0 / 0.5)) < 1.0, "%s: left 440 Hz level %g", name, l0);
        CHECK_MSG(fabs(20 * log10(l1 / 0.25)) < 1.0, "%s: right 1 kHz level %g", name, l1);
    }
    amt_audio_free(&a);
    free(x);
}

static void test_wav16(void) { roundtrip("a16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0 / 32768 + 1e-7, 0); }
static void test_wav24(void) { roundtrip("a24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1.0 / 8388608 + 1e-7, 0); }
static void test_wav_float(void) { roundtrip("af.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0, 0); }
static void test_flac(void) { roundtrip("a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1.0 / 32768 + 1e-7, 0); }
static void test_flac24(void) { roundtrip("a24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1.0 / 8388608 + 1e-7, 0); }
static void test_ogg_vorbis(void) { roundtrip("a.ogg", 0, 0, 1); }
static void test_opus(void) { roundtrip("a.opus", 0, 0, 1); }
static void test_mp3(void) { roundtrip("a.mp3", 0, 0, 1); }

static void test_wav_writer_clips(void)
{
    float x[6] = { 1.5f, -2.0f, 0.5f, 0.25f, -0.25f, 1.0f };
    const char *p = tpath("clip.wav");
    CHECK_OK(amt_audio_write_wav(p, x, 3, 2, 8000, AMT_WAV_PCM16));
    amt_audio a;
    CHECK_OK(amt_audio_read(p, &a));
    CHECK(a.frames == 3 && a.channels == 2 && a.rate == 8000);
    CHECK_NEAR(a.data[0], 32767.0 / 32768, 1e-6);
    CHECK_NEAR(a.data[1], -1.0, 1e-6);
    CHECK_NEAR(a.data[2], 0.5, 1e-6);
    amt_audio_free(&a);
    CHECK_OK(amt_audio_write_wav(p, x, 3, 2, 8000, AMT_WAV_FLOAT));   /* float keeps > 1 */
    CHECK_OK(amt_audio_read(p, &a));
    CHECK_NEAR(a.data[0], 1.5, 0);
    amt_audio_free(&a);
    /* no temporary files left behind */
    DIR *d = opendir(dir);
    REQUIRE(d);
    struct dirent *e;
    int tmp = 0;
    while ((e = readdir(d))) tmp += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    CHECK(tmp == 0);
}

static void test_mono_and_channels(void)
{
    float *x = stereo(FRAMES, RATE);
    const char *p = tpath("st.wav");
    CHECK_OK(amt_audio_write_wav(p, x, FRAMES, 2, RATE, AMT_WAV_FLOAT));
    float *m;
    long n;
    int r;
    CHECK_OK(amt_audio_read_mono(p, 0, 0, &m, &n, &r));
    CHECK(n == FRAMES && r == RATE);
    int ok = 1;
    for (long i = 0; i < n; i++) ok &= m[i] == x[2 * i];
    CHECK(ok);
    free(m);
    CHECK_OK(amt_audio_read_mono(p, 1, 0, &m, &n, NULL));
    ok = 1;
    for (long i = 0; i < n; i++) ok &= m[i] == x[2 * i + 1];
    CHECK(ok);
    free(m);
    CHECK_OK(amt_audio_read_mono(p, -1, 0, &m, &n, NULL));
    double worst = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs(m[i] - 0.5 * (x[2 * i] + x[2 * i + 1])));
    CHECK(worst < 1e-7);
    free(m);
    /* with resampling to 22050 Hz: exact length, both tones at half level */
    CHECK_OK(amt_audio_read_mono(p, -1, 22050, &m, &n, &r));
    CHECK(r == 22050);
    CHECK(n == amt_resample_len(RATE, 22050, FRAMES));
    CHECK_NEAR(level_at(m, 1, n / 4, 3 * n / 4, 22050, 440), 0.25, 0.003);
    CHECK_NEAR(level_at(m, 1, n / 4, 3 * n / 4, 22050, 1000), 0.125, 0.0015);
    free(m);
    CHECK(amt_audio_read_mono(p, 2, 0, &m, &n, NULL) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "channel 2") && strstr(amt_errmsg(), "st.wav"));
    free(x);
}

static void test_streaming_equals_whole(void)
{
    const char *p = tpath("a.flac");   /* made by test_flac; remake if run alone */
    float *x = stereo(FRAMES, RATE);
    CHECK_OK(amt_audio_write(p, x, FRAMES, 2, RATE, 0));
    amt_audio whole, info;
    CHECK_OK(amt_audio_read(p, &whole));
    amt_audio_reader *r = amt_audio_open(p, &info);
    REQUIRE(r);
    CHECK(info.frames == FRAMES && info.channels == 2 && info.rate == RATE && info.data == NULL);
    float buf[2 * 777];
    long pos = 0, k;
    int same = 1;
    while ((k = amt_audio_read_block(r, buf, 777)) > 0) {
        for (long i = 0; i < 2 * k && pos + k <= whole.frames; i++) same &= buf[i] == whole.data[2 * pos + i];
        pos += k;
    }
    CHECK(k == 0);
    CHECK(pos == whole.frames);
    CHECK(same);
    amt_audio_close(r);
    amt_audio_free(&whole);
    free(x);
}

static void check_bad(const char *p, int code, const char *what)
{
    amt_audio a;
    int rc = amt_audio_read(p, &a);
    CHECK_MSG(rc == code, "%s: code %d, want %d (%s)", p, rc, code, amt_errmsg());
    CHECK_MSG(strstr(amt_errmsg(), p) != NULL, "message does not name the file: %s", amt_errmsg());
    CHECK_MSG(strstr(amt_errmsg(), what) != NULL, "message lacks '%s': %s", what, amt_errmsg());
    CHECK(a.data == NULL);
    if (getenv("AMT_TEST_VERBOSE")) fprintf(stderr, "  (%s)\n", amt_errmsg());
    float *m = NULL;
    long n = 0;
    CHECK(amt_audio_read_mono(p, -1, 22050, &m, &n, NULL) == code);
    CHECK(m == NULL && n == 0);
    CHECK(strstr(amt_errmsg(), p) != NULL);
}

static void test_bad_inputs(void)
{
    check_bad(tpath("missing.wav"), AMT_EIO, "No such file");
    check_bad(dir, AMT_EIO, "directory");
    FILE *f = fopen(tpath("zero.wav"), "wb");
    REQUIRE(f);
    fclose(f);
    check_bad(tpath("zero.wav"), AMT_EFORMAT, "empty");
    REQUIRE(raw_write(tpath("noframes.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, NULL, 0, 1, RATE) == 0);
    check_bad(tpath("noframes.wav"), AMT_EFORMAT, "0 frames");
    f = fopen(tpath("text.wav"), "w");
    REQUIRE(f);
    fputs("this is not a sound file, just some text\n", f);
    fclose(f);
    check_bad(tpath("text.wav"), AMT_EFORMAT, "not a readable audio file");
    float *x = stereo(FRAMES, RATE);
    CHECK_OK(amt_audio_write_wav(tpath("trunc.wav"), x, FRAMES, 2, RATE, AMT_WAV_PCM16));
    REQUIRE(truncate(tpath("trunc.wav"), 44 + 2 * 2 * FRAMES / 2) == 0);
    check_bad(tpath("trunc.wav"), AMT_EFORMAT, "truncated");
    REQUIRE(truncate(tpath("trunc.wav"), 30) == 0);   /* inside the header */
    check_bad(tpath("trunc.wav"), AMT_EFORMAT, "not a readable audio file");
    CHECK_OK(amt_audio_write(tpath("trunc.flac"), x, FRAMES, 2, RATE, 0));
    FILE *ff = fopen(tpath("trunc.flac"), "rb");
    REQUIRE(ff);
    fseek(ff, 0, SEEK_END);
    long fsz = ftell(ff);
    fclose(ff);
    /* cut mid-frame the decoder loses sync; cut on a frame boundary it decodes fewer frames
     * than STREAMINFO says: either way a "truncated" error */
    for (int k = 7; k >= 1; k--) {
        REQUIRE(truncate(tpath("trunc.flac"), fsz * k / 8) == 0);
        check_bad(tpath("trunc.flac"), AMT_EFORMAT, "truncated");
    }
    x[2 * 100 + 1] = NAN;
    REQUIRE(raw_write(tpath("nan.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x, FRAMES, 2, RATE) == 0);
    check_bad(tpath("nan.wav"), AMT_EFORMAT, "NaN");
    CHECK(strstr(amt_errmsg(), "frame 100") != NULL);
    x[2 * 100 + 1] = INFINITY;
    REQUIRE(raw_write(tpath("inf.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, x, FRAMES, 2, RATE) == 0);
    check_bad(tpath("inf.wav"), AMT_EFORMAT, "Inf");
    /* the writer refuses NaN/Inf, impossible formats and unwritable places, naming the file */
    CHECK(amt_audio_write_wav(tpath("w.wav"), x, FRAMES, 2, RATE, AMT_WAV_FLOAT) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "w.wav") && strstr(amt_errmsg(), "non-finite"));
    CHECK(access(tpath("w.wav"), F_OK) != 0);
    x[2 * 100 + 1] = 0;
    CHECK_MSG(amt_audio_write(tpath("w.opus"), x, FRAMES, 2, 44100, 0) == AMT_EINVAL, "%s", amt_errmsg());
    CHECK(strstr(amt_errmsg(), "w.opus") && strstr(amt_errmsg(), "cannot write format"));
    CHECK(amt_audio_write_wav("/nonexistent-dir/x.wav", x, FRAMES, 2, RATE, AMT_WAV_PCM16) == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent-dir/x.wav") != NULL);
    CHECK(amt_audio_write(tpath("w.xyz"), x, FRAMES, 2, RATE, 0) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "extension") != NULL);
    free(x);
}

static void test_format_list(void)
{
    char buf[1024];
    int n = amt_audio_formats(buf, sizeof buf);
    CHECK(n >= 20);
    CHECK(strstr(buf, "wav") && strstr(buf, "flac") && strstr(buf, "oga") && strstr(buf, "m1a"));
    CHECK(strstr(strstr(buf, "wav") + 3, "wav") == NULL);   /* listed once */
    char small[8];
    amt_audio_formats(small, sizeof small);
    CHECK(strlen(small) == 7);
}

static void cleanup(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    strcpy(dir, "/tmp/amt-test-XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    RUN(test_wav16);
    RUN(test_wav24);
    RUN(test_wav_float);
    RUN(test_flac);
    RUN(test_flac24);
    RUN(test_ogg_vorbis);
    RUN(test_opus);
    RUN(test_mp3);
    RUN(test_wav_writer_clips);
    RUN(test_mono_and_channels);
    RUN(test_streaming_equals_whole);
    RUN(test_bad_inputs);
    RUN(test_format_list);
    cleanup();
    return TEST_DONE();
}
