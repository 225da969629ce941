/* tests/test_notes.c: note lists (TSV/JSON I/O, malformed lines) and piano roll conventions. */
#include "audio/notes.h"
#include "audio/pianoroll.h"
#include "core/error.h"
#include "test.h"

#include <stdlib.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_tsv_roundtrip(void)
{
    amt_notes ns, back;
    amt_notes_init(&ns);
    for (int i = 0; i < 50; i++) {
        amt_note n = amt_note_make(0.123457 * i, 0.123457 * i + 0.5 + 0.01 * (i % 7), 21 + (i * 7) % 88);
        amt_notes_push(&ns, &n);
    }
    const char *p = "/tmp/amt_test_notes.txt";
    CHECK_OK(amt_notes_write_tsv(p, &ns));
    char *text = slurp(p);
    REQUIRE(text);
    CHECK(strncmp(text, "OnsetTime\tOffsetTime\tMidiPitch\n0.000000\t0.500000\t21\n", 52) == 0);
    CHECK_OK(amt_notes_read_tsv(p, &back));
    REQUIRE(back.n == ns.n);
    for (int i = 0; i < ns.n; i++) {
        CHECK_NEAR(back.v[i].onset, ns.v[i].onset, 5e-7);
        CHECK_NEAR(back.v[i].offset, ns.v[i].offset, 5e-7);
        CHECK(back.v[i].pitch == ns.v[i].pitch && back.v[i].velocity == 64);
    }
    /* second write of what was read is byte-identical */
    char first[1 << 16];
    strcpy(first, text);
    CHECK_OK(amt_notes_write_tsv(p, &back));
    CHECK(strcmp(first, slurp(p)) == 0);
    remove(p);
    /* JSON */
    const char *j = "/tmp/amt_test_notes.json";
    back.v[0].confidence = 0.25f;
    CHECK_OK(amt_notes_write_json(j, &back));
    text = slurp(j);
    REQUIRE(text);
    CHECK(strstr(text, "{\"notes\": [\n  {\"onset\": 0.000000, \"offset\": 0.500000, \"pitch\": 21, \"velocity\": 64, "
                       "\"program\": -1, \"confidence\": 0.2500},") == text);
    CHECK(strcmp(text + strlen(text) - 4, "}\n]}") == 0 || strcmp(text + strlen(text) - 5, "}\n]}\n") == 0);
    amt_notes empty;
    amt_notes_init(&empty);
    CHECK_OK(amt_notes_write_json(j, &empty));
    CHECK(strcmp(slurp(j), "{\"notes\": []}\n") == 0);
    remove(j);
    amt_notes_free(&ns); amt_notes_free(&back);
}

static void test_tsv_tolerant(void)
{
    const char *p = "/tmp/amt_test_maps.txt";
    /* a real MAPS file: header, CRLF, tabs, trailing whitespace; also spaces, velocity column, "60.0" */
    write_file(p, "OnsetTime\tOffsetTime\tMidiPitch\r\n0.500004\t0.882566\t60\r\n\r\n1.25 1.5  62.0 \t\r\n2\t3\t64\t90\n");
    amt_notes ns;
    CHECK_OK(amt_notes_read_tsv(p, &ns));
    REQUIRE(ns.n == 3);
    CHECK_NEAR(ns.v[0].onset, 0.500004, 1e-12); CHECK_NEAR(ns.v[0].offset, 0.882566, 1e-12); CHECK(ns.v[0].pitch == 60);
    CHECK(ns.v[1].pitch == 62 && ns.v[2].pitch == 64 && ns.v[2].velocity == 90);
    amt_notes_free(&ns);
    /* no header */
    write_file(p, "0.1\t0.2\t50\n");
    CHECK_OK(amt_notes_read_tsv(p, &ns));
    CHECK(ns.n == 1);
    amt_notes_free(&ns);
    /* empty file and header-only file: no notes, no error */
    write_file(p, "OnsetTime\tOffsetTime\tMidiPitch\n");
    CHECK_OK(amt_notes_read_tsv(p, &ns));
    CHECK(ns.n == 0);
    amt_notes_free(&ns);
    remove(p);
}

static void expect_error(const char *text, const char *msg)
{
    const char *p = "/tmp/x.txt";
    write_file(p, text);
    amt_notes ns;
    int rc = amt_notes_read_tsv(p, &ns);
    CHECK_MSG(rc == AMT_EFORMAT, "'%s' gave %d", text, rc);
    CHECK_MSG(strstr(amt_errmsg(), msg) != NULL, "message '%s' lacks '%s'", amt_errmsg(), msg);
    CHECK(ns.n == 0 && ns.v == NULL);
    remove(p);
}

static void test_tsv_malformed(void)
{
    const char *h = "OnsetTime\tOffsetTime\tMidiPitch\n";
    char t[512];
    snprintf(t, sizeof t, "%s0.1\t0.2\t60\n1.5\t1.2\t60\n", h);
    expect_error(t, "/tmp/x.txt:3: offset 1.2 <= onset 1.5");
    snprintf(t, sizeof t, "%s0.1\t0.2\n", h);
    expect_error(t, "/tmp/x.txt:2: expected 'OnsetTime OffsetTime MidiPitch'");
    snprintf(t, sizeof t, "%s0.1\t0.2\t60\tabc\n", h);
    expect_error(t, "/tmp/x.txt:2: expected");
    snprintf(t, sizeof t, "%s0.1\t0.2\t60.5\n", h);
    expect_error(t, "/tmp/x.txt:2: pitch 60.5 is not a MIDI note number");
    snprintf(t, sizeof t, "%s0.1\t0.2\t200\n", h);
    expect_error(t, "/tmp/x.txt:2: pitch 200");
    snprintf(t, sizeof t, "%s-0.1\t0.2\t60\n", h);
    expect_error(t, "/tmp/x.txt:2: onset -0.1 < 0");
    snprintf(t, sizeof t, "%snan\t0.2\t60\n", h);
    expect_error(t, "/tmp/x.txt:2: value is not finite");
    snprintf(t, sizeof t, "0.1\t0.2\t60\nOnsetTime\tOffsetTime\tMidiPitch\n");
    expect_error(t, "/tmp/x.txt:2: expected");
    amt_notes ns;
    CHECK(amt_notes_read_tsv("/nonexistent/y.txt", &ns) == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent/y.txt: cannot open") != NULL);
    amt_notes_init(&ns);
    CHECK(amt_notes_write_tsv("/nonexistent/y.txt", &ns) == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent/y.txt: cannot create") != NULL);
}

static void test_pianoroll(void)
{
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note a = amt_note_make(0.10, 0.20, 60);     /* frames 10..19 at 100/s */
    amt_note b = amt_note_make(0.005, 0.009, 21);   /* shorter than a frame: no active frame, onset frame 1 */
    amt_note c = amt_note_make(0.3, 0.35, 10);      /* outside the piano: ignored */
    amt_note d = amt_note_make(0.295, 0.3, 108);    /* frame 30 starts at 0.30 = offset: not active; onset frame 30 */
    amt_notes_push(&ns, &a); amt_notes_push(&ns, &b); amt_notes_push(&ns, &c); amt_notes_push(&ns, &d);
    int frames = amt_roll_frames(&ns, 100.0);
    CHECK(frames == 35);
    float *roll = malloc(sizeof(float) * 88 * (size_t)frames), *on = malloc(sizeof(float) * 88 * (size_t)frames);
    CHECK_OK(amt_notes_to_roll(&ns, 100.0, frames, roll, on));
    int k60 = 60 - 21, active = 0;
    for (int t = 0; t < frames; t++)
        for (int k = 0; k < 88; k++) active += roll[t * 88 + k] > 0;
    CHECK(active == 10);
    CHECK(roll[9 * 88 + k60] == 0 && roll[10 * 88 + k60] == 1 && roll[19 * 88 + k60] == 1 && roll[20 * 88 + k60] == 0);
    CHECK(on[10 * 88 + k60] == 1 && on[11 * 88 + k60] == 0);
    CHECK(on[1 * 88 + 0] == 1);
    CHECK(roll[30 * 88 + 87] == 0 && on[30 * 88 + 87] == 1);
    /* exact boundaries as t / rate: 0.29 s is frame 29 exactly, though 0.29 * 100 = 28.999999999999996 */
    CHECK(amt_time_to_frame_ceil(0.29, 100.0) == 29);
    CHECK((double)29 / 100.0 >= 0.29);
    /* roll -> notes */
    amt_notes back;
    amt_notes_init(&back);
    CHECK_OK(amt_roll_to_notes(roll, frames, 21, 88, 100.0, 0.5f, &back));
    REQUIRE(back.n == 1);
    CHECK(back.v[0].pitch == 60);
    CHECK_NEAR(back.v[0].onset, 0.10, 1e-12); CHECK_NEAR(back.v[0].offset, 0.20, 1e-12);
    CHECK_NEAR(back.v[0].confidence, 1.0, 1e-6);
    /* notes on frame boundaries survive notes -> roll -> notes exactly */
    float *r2 = calloc(88 * 100, sizeof(float));
    amt_notes grid;
    amt_notes_init(&grid);
    for (int i = 0; i < 20; i++) { amt_note n = amt_note_make((4 * i) / 100.0, (4 * i + 3 + i % 3) / 100.0, 30 + i); amt_notes_push(&grid, &n); }
    CHECK_OK(amt_notes_to_roll(&grid, 100.0, 100, r2, NULL));
    amt_notes_clear(&back);
    CHECK_OK(amt_roll_to_notes(r2, 100, 21, 88, 100.0, 0.5f, &back));
    REQUIRE(back.n == grid.n);
    for (int i = 0; i < grid.n; i++) {
        CHECK_NEAR(back.v[i].onset, grid.v[i].onset, 1e-9);
        CHECK_NEAR(back.v[i].offset, grid.v[i].offset, 1e-9);
        CHECK(back.v[i].pitch == grid.v[i].pitch);
    }
    CHECK(amt_notes_to_roll(&grid, 0.0, 100, r2, NULL) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "bad rate 0") != NULL);
    free(roll); free(on); free(r2);
    amt_notes_free(&ns); amt_notes_free(&back); amt_notes_free(&grid);
}

static void test_sort_validate(void)
{
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note a = amt_note_make(1.0, 2.0, 62), b = amt_note_make(1.0, 1.5, 60), c = amt_note_make(0.5, 3.0, 70);
    amt_notes_push(&ns, &a); amt_notes_push(&ns, &b); amt_notes_push(&ns, &c);
    amt_notes_sort(&ns);
    CHECK(ns.v[0].pitch == 70 && ns.v[1].pitch == 60 && ns.v[2].pitch == 62);
    CHECK_OK(amt_notes_validate(&ns, "list"));
    ns.v[1].offset = 0.9;
    CHECK(amt_notes_validate(&ns, "list") == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "list: note 1: offset 0.9 <= onset 1") != NULL);
    CHECK_NEAR(amt_midi_to_hz(69), 440.0, 1e-12);
    CHECK_NEAR(amt_midi_to_hz(60), 261.6255653005986, 1e-9);
    amt_notes_free(&ns);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_tsv_roundtrip);
    RUN(test_tsv_tolerant);
    RUN(test_tsv_malformed);
    RUN(test_pianoroll);
    RUN(test_sort_validate);
    return TEST_DONE();
}
