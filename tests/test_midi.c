/* tests/test_midi.c: Standard MIDI File reader/writer: round trips, tempo maps, running
 * status, sustain pedal, garbage and truncated input, real files (../shared). */
#include "audio/midi.h"
#include "audio/notes.h"
#include "core/error.h"
#include "test.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#define TICK_TOL (0.5 * 500000.0 / (960 * 1e6) + 1e-9)   /* half a tick at 960 tpq, 120 bpm */

static uint32_t lcg_state = 12345;
static uint32_t lcg(void) { lcg_state = lcg_state * 1664525u + 1013904223u; return lcg_state >> 8; }
static double urand(void) { return (double)lcg() / (double)(1u << 24); }

static void make_song(amt_notes *ns)
{
    amt_notes_init(ns);
    static const int programs[4] = {0, 40, 73, AMT_PROGRAM_DRUMS};
    for (int slot = 0; slot < 200; slot++) {
        double jitter = 0.0004 * urand();                  /* one jitter per slot keeps sort order */
        int npoly = 1 + (int)(lcg() % 3);
        for (int k = 0; k < npoly; k++) {
            amt_note n = amt_note_make(0.05 * slot + jitter, 0.05 * slot + jitter + 0.02 + 0.6 * urand(), 40 + 8 * k + (int)(lcg() % 8));
            n.velocity = 1 + (int)(lcg() % 127);
            n.program = programs[(slot + k) % 4];
            int clash = 0;   /* nested same-pitch notes cannot survive FIFO pairing: avoid overlaps */
            for (int i = 0; i < ns->n; i++)
                clash |= ns->v[i].pitch == n.pitch && ns->v[i].program == n.program &&
                         ns->v[i].onset < n.offset + 0.01 && n.onset < ns->v[i].offset + 0.01;
            if (!clash) amt_notes_push(ns, &n);
        }
    }
    /* overlapping (not nested) notes of one pitch and instrument */
    amt_note a = amt_note_make(20.0, 20.5, 90), b = amt_note_make(20.3, 20.9, 90);
    a.program = b.program = 0;
    amt_notes_push(ns, &a); amt_notes_push(ns, &b);
    amt_notes_sort(ns);
}

static int same_notes(const amt_notes *a, const amt_notes *b, double tol, int check_prog)
{
    if (a->n != b->n) { fprintf(stderr, "  note counts %d vs %d\n", a->n, b->n); return 0; }
    for (int i = 0; i < a->n; i++) {
        const amt_note *x = &a->v[i], *y = &b->v[i];
        if (fabs(x->onset - y->onset) > tol || fabs(x->offset - y->offset) > tol || x->pitch != y->pitch ||
            x->velocity != y->velocity || (check_prog && x->program != y->program)) {
            fprintf(stderr, "  note %d: [%.6f %.6f] p%d v%d prog%d vs [%.6f %.6f] p%d v%d prog%d\n", i, x->onset, x->offset,
                    x->pitch, x->velocity, x->program, y->onset, y->offset, y->pitch, y->velocity, y->program);
            return 0;
        }
    }
    return 1;
}

static void test_roundtrip(void)
{
    amt_notes song, back, back2;
    make_song(&song);
    unsigned char *a, *b;
    size_t na, nb;
    CHECK_OK(amt_midi_encode(&song, NULL, &a, &na));
    amt_midi_info info;
    CHECK_OK(amt_midi_parse(a, na, "song.mid", NULL, &back, &info));
    CHECK(info.format == 1 && info.ntracks == 5 && info.division == 960 && info.tempo_changes == 1);
    CHECK(same_notes(&song, &back, TICK_TOL, 1));
    for (int i = 0; i < back.n; i++) CHECK(back.v[i].program != AMT_PROGRAM_DRUMS || back.v[i].channel == 9);
    CHECK_OK(amt_midi_encode(&back, NULL, &b, &nb));
    CHECK(na == nb && memcmp(a, b, na) == 0);                /* byte-identical */
    CHECK_OK(amt_midi_parse(b, nb, "song2.mid", NULL, &back2, NULL));
    CHECK(same_notes(&back, &back2, 0.0, 1));                 /* note-identical */
    /* through files */
    const char *path = "/tmp/amt_test_midi_roundtrip.mid";
    CHECK_OK(amt_midi_write(path, &song, NULL));
    amt_notes fromfile;
    CHECK_OK(amt_midi_read(path, NULL, &fromfile, NULL));
    CHECK(same_notes(&back, &fromfile, 0.0, 1));
    remove(path);
    /* other resolutions keep < 1 ms */
    amt_midi_write_opts wo = {480, 600000};
    free(b);
    CHECK_OK(amt_midi_encode(&song, &wo, &b, &nb));
    amt_notes_free(&back2);
    CHECK_OK(amt_midi_parse(b, nb, "song3.mid", NULL, &back2, NULL));
    CHECK(same_notes(&song, &back2, 0.5 * 600000.0 / (480 * 1e6) + 1e-9, 1));
    free(a); free(b);
    amt_notes_free(&song); amt_notes_free(&back); amt_notes_free(&back2); amt_notes_free(&fromfile);
}

/* a tiny SMF builder for hand-made files */
typedef struct buf { unsigned char d[4096]; size_t n; } buf;
static void B(buf *b, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) b->d[b->n++] = (unsigned char)va_arg(ap, int);
    va_end(ap);
}
static void header(buf *b, int format, int ntrk, int div) { B(b, 14, 'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, format, 0, ntrk, div >> 8, div & 0xFF); }
static size_t track_begin(buf *b) { B(b, 8, 'M', 'T', 'r', 'k', 0, 0, 0, 0); return b->n; }
static void track_end(buf *b, size_t at)
{
    B(b, 4, 0, 0xFF, 0x2F, 0);
    size_t len = b->n - at;
    b->d[at - 4] = (unsigned char)(len >> 24); b->d[at - 3] = (unsigned char)(len >> 16);
    b->d[at - 2] = (unsigned char)(len >> 8); b->d[at - 1] = (unsigned char)len;
}

static void test_tempo_changes_running_status(void)
{
    buf b = {{0}, 0};
    header(&b, 1, 2, 480);
    size_t t = track_begin(&b);
    B(&b, 7, 0, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20);             /* 500000 us/q at 0 */
    B(&b, 8, 0x87, 0x40, 0xFF, 0x51, 3, 0x0F, 0x42, 0x40);    /* delta 960: 1000000 us/q (t = 1.0 s) */
    B(&b, 8, 0x87, 0x40, 0xFF, 0x51, 3, 0x03, 0xD0, 0x90);    /* delta 960: 250000 us/q (t = 3.0 s) */
    track_end(&b, t);
    t = track_begin(&b);
    B(&b, 3, 0, 0xC0, 41);                                    /* program 41 on channel 1 */
    B(&b, 6, 0, 0xF0, 3, 0x7E, 0x09, 0xF7);                   /* sysex, skipped */
    B(&b, 7, 0, 0xFF, 0x01, 3, 'a', 'b', 'c');                /* text meta */
    B(&b, 5, 0x83, 0x60, 0x90, 60, 100);                      /* delta 480: on 60 (0.5 s) */
    B(&b, 3, 0, 64, 90);                                      /* running status: on 64 */
    B(&b, 4, 0x87, 0x40, 60, 0);                              /* delta 960: 60 off by velocity 0 (2.0 s) */
    B(&b, 4, 0x83, 0x60, 64, 0);                              /* delta 480: 64 off (tick 1920 = 3.0 s) */
    B(&b, 5, 0x83, 0x60, 0x99, 36, 120);                      /* tick 2400 (3.25 s): drum on */
    B(&b, 5, 0x83, 0x60, 0x89, 36, 64);                       /* tick 2880: drum off (3.5 s) */
    track_end(&b, t);
    amt_notes ns;
    amt_midi_info info;
    CHECK_OK(amt_midi_parse(b.d, b.n, "tempo.mid", NULL, &ns, &info));
    REQUIRE(ns.n == 3);
    CHECK(info.tempo_changes == 3 && info.ntracks == 2);
    CHECK_NEAR(ns.v[0].onset, 0.5, 1e-12); CHECK_NEAR(ns.v[0].offset, 2.0, 1e-12); CHECK(ns.v[0].pitch == 60);
    CHECK(ns.v[0].program == 41 && ns.v[0].velocity == 100 && ns.v[0].channel == 0 && ns.v[0].track == 1);
    CHECK_NEAR(ns.v[1].onset, 0.5, 1e-12); CHECK_NEAR(ns.v[1].offset, 3.0, 1e-12); CHECK(ns.v[1].pitch == 64);
    CHECK(ns.v[1].velocity == 90);
    CHECK_NEAR(ns.v[2].onset, 3.25, 1e-12); CHECK_NEAR(ns.v[2].offset, 3.5, 1e-12);
    CHECK(ns.v[2].program == AMT_PROGRAM_DRUMS && ns.v[2].channel == 9);
    CHECK_NEAR(info.duration, 3.5, 1e-12);
    amt_notes_free(&ns);
    amt_midi_read_opts o = {0, 1};                            /* skip drums */
    CHECK_OK(amt_midi_parse(b.d, b.n, "tempo.mid", &o, &ns, NULL));
    CHECK(ns.n == 2);
    amt_notes_free(&ns);
    /* format 0, SMPTE division 25 fps x 40 ticks = 1 ms per tick */
    buf c = {{0}, 0};
    header(&c, 0, 1, 0xE728);
    t = track_begin(&c);
    B(&c, 4, 0x87, 0x68, 0x90, 70);  B(&c, 1, 80);           /* delta 1000 ticks = 1 s */
    B(&c, 4, 0x83, 0x74, 70, 0);                              /* delta 500: off at 1.5 s */
    track_end(&c, t);
    CHECK_OK(amt_midi_parse(c.d, c.n, "smpte.mid", NULL, &ns, NULL));
    REQUIRE(ns.n == 1);
    CHECK_NEAR(ns.v[0].onset, 1.0, 1e-12); CHECK_NEAR(ns.v[0].offset, 1.5, 1e-12);
    amt_notes_free(&ns);
}

static void test_overlap_fifo(void)
{
    buf b = {{0}, 0};
    header(&b, 0, 1, 480);                                    /* 1 tick = 1/960 s */
    size_t t = track_begin(&b);
    B(&b, 4, 0, 0x90, 60, 100);                               /* A on at 0 */
    B(&b, 4, 0x83, 0x60, 60, 50);                             /* B on at 480 */
    B(&b, 4, 0x83, 0x60, 0x80, 60); B(&b, 1, 0);              /* off at 960: ends A (FIFO) */
    B(&b, 4, 0x83, 0x60, 60, 0);                              /* off at 1440: ends B */
    B(&b, 3, 0, 0x90, 62); B(&b, 1, 70);                      /* C on at 1440, never released */
    B(&b, 4, 0x83, 0x60, 0xB0, 7); B(&b, 1, 100);             /* volume CC at 1920: track end */
    track_end(&b, t);
    amt_notes ns;
    CHECK_OK(amt_midi_parse(b.d, b.n, "fifo.mid", NULL, &ns, NULL));
    REQUIRE(ns.n == 3);
    CHECK_NEAR(ns.v[0].onset, 0.0, 1e-12); CHECK_NEAR(ns.v[0].offset, 1.0, 1e-12); CHECK(ns.v[0].velocity == 100);
    CHECK_NEAR(ns.v[1].onset, 0.5, 1e-12); CHECK_NEAR(ns.v[1].offset, 1.5, 1e-12); CHECK(ns.v[1].velocity == 50);
    CHECK(ns.v[2].pitch == 62); CHECK_NEAR(ns.v[2].offset, 2.0, 1e-12);
    amt_notes_free(&ns);
}

static void test_sustain_pedal(void)
{
    buf b = {{0}, 0};
    header(&b, 0, 1, 480);                                    /* 1 tick = 1/960 s */
    size_t t = track_begin(&b);
    B(&b, 4, 0, 0xB0, 64, 127);                               /* pedal down */
    B(&b, 4, 0, 0x90, 60, 80);                                /* 60 on at 0 */
    B(&b, 4, 0x83, 0x60, 60, 0);                              /* 60 off at 480 (0.5 s, pedal down) */
    B(&b, 3, 0, 62, 80);                                      /* 62 on at 480 */
    B(&b, 4, 0x83, 0x60, 62, 0);                              /* 62 off at 960 */
    B(&b, 4, 0x81, 0x70, 60, 81);                             /* 60 again at 1200 (1.25 s) */
    B(&b, 3, 0x64, 60, 0);                                    /* 60 off at 1300 */
    B(&b, 5, 0x84, 0x6C, 0xB0, 64, 0);                        /* pedal up at 1920 (2.0 s) */
    track_end(&b, t);
    amt_notes dry, wet;
    amt_midi_read_opts o = {1, 0};
    CHECK_OK(amt_midi_parse(b.d, b.n, "pedal.mid", NULL, &dry, NULL));
    CHECK_OK(amt_midi_parse(b.d, b.n, "pedal.mid", &o, &wet, NULL));
    REQUIRE(dry.n == 3 && wet.n == 3);
    CHECK_NEAR(dry.v[0].offset, 0.5, 1e-12); CHECK_NEAR(dry.v[1].offset, 1.0, 1e-12);
    CHECK_NEAR(dry.v[2].onset, 1.25, 1e-12); CHECK_NEAR(dry.v[2].offset, 1300 / 960.0, 1e-12);
    /* with the pedal: first 60 ends when 60 is struck again, 62 and the second 60 at pedal up */
    CHECK(wet.v[0].pitch == 60); CHECK_NEAR(wet.v[0].offset, 1.25, 1e-12);
    CHECK(wet.v[1].pitch == 62); CHECK_NEAR(wet.v[1].offset, 2.0, 1e-12);
    CHECK(wet.v[2].pitch == 60); CHECK_NEAR(wet.v[2].onset, 1.25, 1e-12); CHECK_NEAR(wet.v[2].offset, 2.0, 1e-12);
    amt_notes_free(&dry); amt_notes_free(&wet);
}

static void test_garbage(void)
{
    amt_notes ns;
    /* random bytes, with and without a valid-looking header */
    unsigned char r[600];
    int errors = 0, trials = 3000;
    for (int trial = 0; trial < trials; trial++) {
        size_t n = 1 + lcg() % sizeof r;
        for (size_t i = 0; i < n; i++) r[i] = (unsigned char)lcg();
        if (trial % 2 && n > 22) {
            memcpy(r, "MThd\0\0\0\6\0\1\0\2\1\xE0MTrk", 18);
            uint32_t len = (uint32_t)(lcg() % 700);
            r[18] = 0; r[19] = 0; r[20] = (unsigned char)(len >> 8); r[21] = (unsigned char)len;
        }
        int rc = amt_midi_parse(r, n, "junk.mid", NULL, &ns, NULL);
        if (rc) { errors++; CHECK(rc == AMT_EFORMAT && strstr(amt_errmsg(), "junk.mid") != NULL); }
        amt_notes_free(&ns);
    }
    CHECK(errors > trials * 9 / 10);
    CHECK(amt_midi_parse(r, 0, "empty.mid", NULL, &ns, NULL) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "empty.mid: empty file") != NULL);
    const char *txt = "this is a text file named .mid, not music\n";
    CHECK(amt_midi_parse((const unsigned char *)txt, strlen(txt), "text.mid", NULL, &ns, NULL) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "text.mid: not a MIDI file") != NULL);
    /* every proper prefix of a valid file fails cleanly; random mutations never crash */
    amt_notes song;
    make_song(&song);
    unsigned char *a;
    size_t na;
    CHECK_OK(amt_midi_encode(&song, NULL, &a, &na));
    int prefix_ok = 0;
    for (size_t cut = 0; cut < na; cut += 1 + cut / 50) {
        int rc = amt_midi_parse(a, cut, "cut.mid", NULL, &ns, NULL);
        if (rc == AMT_OK) prefix_ok++;
        else CHECK(strstr(amt_errmsg(), "cut.mid") != NULL);
        amt_notes_free(&ns);
    }
    CHECK(prefix_ok == 0);
    CHECK(amt_midi_parse(a, na - 10, "cut.mid", NULL, &ns, NULL) == AMT_EFORMAT);
    CHECK(strstr(amt_errmsg(), "truncated") != NULL);
    unsigned char *m = malloc(na);
    for (int trial = 0; trial < 300; trial++) {
        memcpy(m, a, na);
        for (int k = 0; k < 1 + trial % 8; k++) m[lcg() % na] = (unsigned char)lcg();
        amt_midi_parse(m, na, "mutant.mid", NULL, &ns, NULL);
        amt_notes_free(&ns);
    }
    free(m); free(a);
    amt_notes_free(&song);
    /* files */
    CHECK(amt_midi_read("/nonexistent/x.mid", NULL, &ns, NULL) == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent/x.mid: cannot open") != NULL);
    /* writer rejects bad notes */
    amt_notes bad;
    amt_notes_init(&bad);
    amt_note x = amt_note_make(1.0, 0.5, 60);
    amt_notes_push(&bad, &x);
    CHECK(amt_midi_write("/tmp/amt_bad.mid", &bad, NULL) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "offset 0.5 <= onset 1") != NULL);
    amt_notes_free(&bad);
    amt_notes_init(&bad);
    CHECK(amt_midi_write("/nonexistent-dir/x.mid", &bad, NULL) == AMT_EIO);
    CHECK(strstr(amt_errmsg(), "/nonexistent-dir/x.mid") != NULL);
}

static void test_real_files(void)
{
    const char *dirs[] = {"../shared/data/piano-midi/Chopin", "../shared/data/piano-midi/Bach", "../shared/data/piano-midi/Mozart"};
    int files = 0;
    for (int d = 0; d < 3; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) continue;
        struct dirent *de;
        int taken = 0;
        while ((de = readdir(dir)) && taken < 2) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 4, ".mid")) continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            amt_notes dry, wet;
            amt_midi_info info;
            amt_midi_read_opts o = {1, 0};
            CHECK_OK(amt_midi_read(path, NULL, &dry, &info));
            CHECK_OK(amt_midi_read(path, &o, &wet, NULL));
            CHECK_MSG(dry.n > 100 && dry.n < 100000, "%s: %d notes", path, dry.n);
            CHECK(wet.n == dry.n);
            CHECK_MSG(info.duration > 20 && info.duration < 3600, "%s: %.1f s", path, info.duration);
            int lo = 127, hi = 0, longer = 0;
            double maxdur = 0;
            for (int i = 0; i < dry.n; i++) {
                const amt_note *n = &dry.v[i];
                if (n->pitch < lo) lo = n->pitch;
                if (n->pitch > hi) hi = n->pitch;
                if (n->offset - n->onset > maxdur) maxdur = n->offset - n->onset;
                CHECK(n->offset > n->onset && n->offset <= info.duration + 1e-9);
            }
            for (int i = 0; i < wet.n; i++) longer += wet.v[i].offset > wet.v[i].onset;
            CHECK_MSG(lo >= 21 && hi <= 108 && hi - lo >= 24, "%s: pitches %d..%d", path, lo, hi);
            CHECK_MSG(maxdur < 60, "%s: a note of %.1f s", path, maxdur);
            CHECK(longer == wet.n);
            double sd = 0, sw = 0;
            for (int i = 0; i < dry.n; i++) sd += dry.v[i].offset - dry.v[i].onset;
            for (int i = 0; i < wet.n; i++) sw += wet.v[i].offset - wet.v[i].onset;
            CHECK(sw >= sd);   /* the pedal never shortens notes */
            /* write -> read keeps the notes within a tick */
            unsigned char *a;
            size_t na;
            CHECK_OK(amt_midi_encode(&dry, NULL, &a, &na));
            amt_notes back;
            CHECK_OK(amt_midi_parse(a, na, path, NULL, &back, NULL));
            CHECK(back.n == dry.n);
            free(a);
            if (files == 0) fprintf(stderr, "  %s: %d notes, pitches %d..%d, %.1f s, pedal adds %.0f%% duration\n", path,
                                    dry.n, lo, hi, info.duration, sd > 0 ? 100 * (sw - sd) / sd : 0);
            amt_notes_free(&dry); amt_notes_free(&wet); amt_notes_free(&back);
            taken++; files++;
        }
        closedir(dir);
    }
    if (files == 0) SKIP("../shared/data/piano-midi is absent");
    CHECK(files >= 3);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_roundtrip);
    RUN(test_tempo_changes_running_status);
    RUN(test_overlap_fifo);
    RUN(test_sustain_pedal);
    RUN(test_garbage);
    RUN(test_real_files);
    return TEST_DONE();
}
