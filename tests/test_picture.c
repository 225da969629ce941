/* tests/test_picture.c: PNG pictures written with libpng and read back. */
#include "audio/notes.h"
#include "audio/picture.h"
#include "core/error.h"
#include "test.h"

#include <stdlib.h>

static const unsigned char *px(const amt_image *im, int x, int y) { return im->rgb + ((size_t)y * im->w + x) * 3; }
static int eq(const unsigned char *a, const unsigned char *b) { return a[0] == b[0] && a[1] == b[1] && a[2] == b[2]; }

static void test_colormap(void)
{
    unsigned char c[3];
    amt_colormap_magma(0.0f, c); CHECK(c[0] == 0 && c[1] == 0 && c[2] == 4);
    amt_colormap_magma(1.0f, c); CHECK(c[0] == 252 && c[1] == 253 && c[2] == 191);
    amt_colormap_magma(0.5f, c); CHECK(abs(c[0] - 183) <= 1 && abs(c[1] - 55) <= 1 && abs(c[2] - 121) <= 1);
    amt_colormap_magma(NAN, c); CHECK(c[0] == 0 && c[1] == 0 && c[2] == 4);
    /* brightness increases monotonically */
    int prev = -1, mono = 1;
    for (int i = 0; i <= 100; i++) { amt_colormap_magma(i / 100.0f, c); int s = c[0] + c[1] + c[2]; mono &= s >= prev; prev = s; }
    CHECK(mono);
}

static void test_spectrogram_png(void)
{
    int frames = 50, bins = 40;
    float *mag = malloc(sizeof(float) * frames * bins), *hz = malloc(sizeof(float) * bins);
    for (int b = 0; b < bins; b++) hz[b] = 100.0f * b;
    for (int t = 0; t < frames; t++)
        for (int b = 0; b < bins; b++) mag[t * bins + b] = b == 10 ? 1.0f : 1e-6f;   /* -120 dB below: black */
    amt_spec_picture_opts o = {0};
    o.xscale = 2; o.yscale = 3;
    o.bin_hz = hz;
    float ticks[1] = {3000.0f};
    o.tick_hz = ticks; o.ntick_hz = 1;
    o.frames_per_sec = 10;
    amt_image im, back;
    CHECK_OK(amt_picture_spectrogram(&im, mag, frames, bins, &o));
    CHECK(im.w == 100 && im.h == 120);
    const char *p = "/tmp/amt_test_spec.png";
    CHECK_OK(amt_image_write_png(&im, p));
    CHECK_OK(amt_image_read_png(p, &back));
    REQUIRE(back.w == 100 && back.h == 120);
    CHECK(memcmp(back.rgb, im.rgb, 100 * 120 * 3) == 0);
    unsigned char top[3], bottom[3];
    amt_colormap_magma(1.0f, top); amt_colormap_magma(0.0f, bottom);
    /* bin 10 occupies rows h-1-(10*3+2) .. h-1-10*3 = 87..89 (low frequencies at the bottom) */
    CHECK(eq(px(&back, 50, 88), top));
    CHECK(eq(px(&back, 50, 5), bottom));
    CHECK(eq(px(&back, 50, 119 - 33), bottom));
    /* tick at 3000 Hz = bin 30 -> row 119 - 91 = 28: white at the left edge */
    CHECK(px(&back, 0, 28)[0] == 255 && px(&back, 0, 28)[1] == 255);
    /* a time tick each second (10 frames * 2 px): x = 20, bottom rows white */
    CHECK(px(&back, 20, 119)[0] == 255 && px(&back, 21, 119)[0] == 0);
    amt_image_free(&back);
    /* notes over the spectrogram: A4 = 440 Hz ~ bin 4.4 */
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note n = amt_note_make(0.5, 1.0, 69);
    amt_notes_push(&ns, &n);
    CHECK_OK(amt_picture_overlay_notes(&im, &ns, 20.0, hz, bins, 3, AMT_COLOR_REF, 0));
    int yc = im.h - 1 - (int)lround(4.4 * 3 + 1);
    int found = 0;
    for (int y = yc - 3; y <= yc + 3; y++) found |= eq(px(&im, 10, y), AMT_COLOR_REF);   /* left edge x = 10 */
    CHECK(found);
    /* panels */
    amt_image panels[2] = {im, im}, wide;
    CHECK_OK(amt_picture_hstack(&wide, panels, 2, 4, NULL));
    CHECK(wide.w == 204 && wide.h == 120);
    CHECK(eq(px(&wide, 104 + 50, 88), top) && px(&wide, 101, 88)[0] == 0);
    CHECK_OK(amt_image_write_png(&wide, "/tmp/amt_test_panels.png"));
    amt_image_free(&wide);
    CHECK_OK(amt_picture_vstack(&wide, panels, 2, 0, NULL));
    CHECK(wide.w == 100 && wide.h == 240);
    amt_image_free(&wide);
    /* errors */
    CHECK(amt_image_write_png(&im, "/nonexistent-dir/x.png") == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent-dir/x.png: cannot create") != NULL);
    FILE *f = fopen("/tmp/amt_test_notpng.png", "w");
    if (f) { fputs("not a png", f); fclose(f); }
    CHECK(amt_image_read_png("/tmp/amt_test_notpng.png", &back) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "not a PNG file") != NULL);
    CHECK(amt_picture_spectrogram(&back, mag, 0, bins, NULL) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "0 frames") != NULL);
    remove(p); remove("/tmp/amt_test_panels.png"); remove("/tmp/amt_test_notpng.png");
    amt_image_free(&im); amt_notes_free(&ns);
    free(mag); free(hz);
}

static void test_pianoroll_png(void)
{
    amt_notes ref, est;
    amt_notes_init(&ref); amt_notes_init(&est);
    amt_note a = amt_note_make(0.0, 1.0, 60), b = amt_note_make(0.5, 1.5, 60), c = amt_note_make(0.2, 0.4, 72);
    amt_notes_push(&ref, &a); amt_notes_push(&est, &b); amt_notes_push(&est, &c);
    amt_roll_picture_opts o = {0};
    o.px_per_sec = 100; o.px_per_key = 4;
    amt_image im, back;
    CHECK_OK(amt_picture_pianoroll(&im, &ref, &est, &o));
    CHECK(im.w == 150 && im.h == 88 * 4);
    const char *p = "/tmp/amt_test_roll.png";
    CHECK_OK(amt_image_write_png(&im, p));
    CHECK_OK(amt_image_read_png(p, &back));
    REQUIRE(back.w == im.w && back.h == im.h);
    int y60 = (108 - 60) * 4 + 1, y72 = (108 - 72) * 4 + 1;
    CHECK(eq(px(&back, 10, y60), AMT_COLOR_REF));    /* ref only */
    CHECK(eq(px(&back, 70, y60), AMT_COLOR_BOTH));   /* both */
    CHECK(eq(px(&back, 120, y60), AMT_COLOR_EST));   /* est only */
    CHECK(eq(px(&back, 30, y72), AMT_COLOR_EST));
    CHECK(!eq(px(&back, 10, y72), AMT_COLOR_EST));
    amt_image_free(&back); amt_image_free(&im);
    remove(p);
    o.lo = 50; o.hi = 40;
    CHECK(amt_picture_pianoroll(&im, &ref, NULL, &o) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "pitch range 50..40") != NULL);
    amt_notes_free(&ref); amt_notes_free(&est);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_colormap);
    RUN(test_spectrogram_png);
    RUN(test_pianoroll_png);
    return TEST_DONE();
}
