/* tests/test_synth.c: composer, fluidsynth renderer and the amt-synth layouts. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "audio/midi.h"
#include "audio/notes.h"
#include "core/error.h"
#include "datasets/composer.h"
#include "datasets/render.h"
#include "datasets/synth.h"
#include "tests/test.h"

static int have_font(void) { return access(AMT_SF_TIMGM6MB, R_OK) == 0; }

static void tmpdir(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/amt_test_synth_%d_%s", (int)getpid(), tag);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
    if (system(cmd) != 0) fprintf(stderr, "warning: %s failed\n", cmd);
}

static void rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: %s failed\n", cmd);
}

/* ---------------- composer ---------------- */
static void test_composer_deterministic_and_musical(void)
{
    amt_compose_cfg cfg;
    amt_compose_defaults(&cfg);
    cfg.seconds = 20;
    int total_steps = 0, total_int = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        amt_piece a, b;
        CHECK_OK(amt_compose(&cfg, seed, &a));
        CHECK_OK(amt_compose(&cfg, seed, &b));
        CHECK(a.notes.n == b.notes.n);
        CHECK(a.notes.n > 20);
        CHECK(a.notes.n == b.notes.n && memcmp(a.notes.v, b.notes.v, (size_t)a.notes.n * sizeof *a.notes.v) == 0);
        CHECK(a.bpm >= 60 && a.bpm <= 180);
        int maxpoly = 0;
        for (int i = 0; i < a.notes.n; i++) {
            const amt_note *n = &a.notes.v[i];
            CHECK(n->pitch >= 21 && n->pitch <= 108);
            CHECK(n->offset > n->onset && n->onset >= 0 && n->offset <= cfg.seconds + 1e-9);
            CHECK(n->velocity >= 1 && n->velocity <= 127);
            int poly = 0;
            for (int j = 0; j < a.notes.n; j++)
                if (a.notes.v[j].onset <= n->onset + 1e-9 && a.notes.v[j].offset > n->onset + 1e-9) poly++;
            if (poly > maxpoly) maxpoly = poly;
        }
        CHECK_MSG(maxpoly <= AMT_COMPOSE_MAX_POLY && maxpoly >= 2, "seed %d max polyphony %d", (int)seed, maxpoly);
        /* pitch classes mostly in the key's scale: count distinct pitch classes */
        int pcs[12] = {0}, npc = 0;
        for (int i = 0; i < a.notes.n; i++) pcs[a.notes.v[i].pitch % 12]++;
        for (int k = 0; k < 12; k++) npc += pcs[k] > 0;
        CHECK_MSG(npc <= 9, "seed %d uses %d pitch classes", (int)seed, npc);
        amt_piece_free(&a); amt_piece_free(&b);
    }
    /* melody alone (band texture): mostly steps (<= 2 semitones) with some leaps */
    cfg.texture = AMT_TEXTURE_BAND; cfg.prog_chords = -1; cfg.prog_lead = 73;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        amt_piece p;
        CHECK_OK(amt_compose(&cfg, seed, &p));
        for (int i = 1; i < p.notes.n; i++) {
            int d = abs(p.notes.v[i].pitch - p.notes.v[i - 1].pitch);
            total_int++;
            total_steps += d <= 2;
        }
        amt_piece_free(&p);
    }
    CHECK_MSG(total_steps > total_int * 4 / 10 && total_steps < total_int, "%d steps of %d intervals", total_steps, total_int);
    amt_piece x, y;
    CHECK_OK(amt_compose(&cfg, 1, &x));
    CHECK_OK(amt_compose(&cfg, 2, &y));
    CHECK(x.notes.n != y.notes.n || memcmp(x.notes.v, y.notes.v, (size_t)x.notes.n * sizeof *x.notes.v) != 0);
    amt_piece_free(&x); amt_piece_free(&y);
    cfg.seconds = -1;
    CHECK(amt_compose(&cfg, 1, &x) == AMT_EINVAL && strstr(amt_errmsg(), "duration"));
}

static void test_composer_band_parts(void)
{
    amt_compose_cfg cfg;
    amt_compose_defaults(&cfg);
    cfg.seconds = 15; cfg.texture = AMT_TEXTURE_BAND;
    cfg.prog_lead = 52; cfg.prog_chords = 24; cfg.prog_bass = 33; cfg.drums = 1;
    cfg.lead_lo = 55; cfg.lead_hi = 72;
    amt_piece p;
    CHECK_OK(amt_compose(&cfg, 7, &p));
    int cnt[4] = {0};
    for (int i = 0; i < p.notes.n; i++) {
        const amt_note *n = &p.notes.v[i];
        if (n->program == 52) { cnt[0]++; CHECK(n->pitch >= 55 && n->pitch <= 72); }
        else if (n->program == 24) cnt[1]++;
        else if (n->program == 33) { cnt[2]++; CHECK(n->pitch < 60); }
        else if (n->program == AMT_PROGRAM_DRUMS) cnt[3]++;
        else CHECK(0);
    }
    CHECK(cnt[0] > 5 && cnt[1] > 5 && cnt[2] > 5 && cnt[3] > 5);
    amt_piece_free(&p);
}

static void test_pedal_extend(void)
{
    amt_notes ns, ext;
    amt_notes_init(&ns);
    amt_note a = amt_note_make(0.0, 0.5, 60), b = amt_note_make(0.2, 0.4, 64), c = amt_note_make(1.5, 1.7, 60),
             d = amt_note_make(3.0, 3.2, 67);
    a.program = b.program = c.program = d.program = 0;
    amt_notes_push(&ns, &a); amt_notes_push(&ns, &b); amt_notes_push(&ns, &c); amt_notes_push(&ns, &d);
    amt_pedal ped[2] = {{0.1, 2.0, -1}, {3.1, 3.15, -1}};
    CHECK_OK(amt_notes_pedal_extend(&ns, ped, 2, &ext));
    REQUIRE(ext.n == 4);
    CHECK_NEAR(ext.v[0].offset, 1.5, 1e-12);   /* 60 held by the pedal until struck again */
    CHECK_NEAR(ext.v[1].offset, 2.0, 1e-12);   /* 64 until the pedal comes up */
    CHECK_NEAR(ext.v[2].offset, 2.0, 1e-12);   /* 60 again: released under the pedal */
    CHECK_NEAR(ext.v[3].offset, 3.2, 1e-12);   /* released after the pedal went up */
    amt_notes_free(&ns); amt_notes_free(&ext);
}

static void test_midi_excerpt(void)
{
    const char *mid = "../shared/data/piano-midi/Chopin";
    DIR *d = opendir(mid);
    if (!d) SKIP("../shared/data/piano-midi absent");
    struct dirent *e;
    char path[1024] = "";
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".mid") && (!path[0] || strcmp(e->d_name, strrchr(path, '/') + 1) < 0))
            snprintf(path, sizeof path, "%s/%s", mid, e->d_name);
    closedir(d);
    if (!path[0]) SKIP("no .mid in %s", mid);
    amt_piece a, b;
    CHECK_OK(amt_piece_from_midi(path, 10.0, 5, &a));
    CHECK_OK(amt_piece_from_midi(path, 10.0, 5, &b));
    CHECK(a.notes.n > 5 && a.notes.n == b.notes.n);
    for (int i = 0; i < a.notes.n; i++) {
        CHECK(a.notes.v[i].onset >= 0 && a.notes.v[i].onset < 10.0);
        CHECK(a.notes.v[i].offset <= 10.0 + 1e-9);
    }
    amt_piece_free(&a); amt_piece_free(&b);
    CHECK(amt_piece_from_midi("/nonexistent/x.mid", 5, 1, &a) != 0 && strstr(amt_errmsg(), "x.mid"));
}

/* ---------------- renderer ---------------- */
static amt_renderer *g_r;

static amt_renderer *renderer(void)
{
    if (!g_r) {
        const char *f[1] = {AMT_SF_TIMGM6MB};
        g_r = amt_renderer_new(f, 1, 44100);
    }
    return g_r;
}

static void test_render_errors(void)
{
    const char *bad[1] = {"/nonexistent/piano.sf2"};
    CHECK(amt_renderer_new(bad, 1, 44100) == NULL && strstr(amt_errmsg(), "/nonexistent/piano.sf2"));
    const char *notsf[1] = {"Makefile"};
    CHECK(amt_renderer_new(notsf, 1, 44100) == NULL && strstr(amt_errmsg(), "Makefile") && strstr(amt_errmsg(), "SoundFont"));
}

/* First onset in a signal: the first 1 ms frame whose RMS exceeds frac of the max frame RMS. */
static double energy_onset(const float *st, long frames, int rate, long from, long to, double frac)
{
    int hop = rate / 1000;
    double maxe = 0;
    for (long f = from; f + hop <= to && f + hop <= frames; f += hop) {
        double e = 0;
        for (int i = 0; i < hop; i++) e += st[2 * (f + i)] * st[2 * (f + i)] + st[2 * (f + i) + 1] * st[2 * (f + i) + 1];
        if (e > maxe) maxe = e;
    }
    for (long f = from; f + hop <= to && f + hop <= frames; f += hop) {
        double e = 0;
        for (int i = 0; i < hop; i++) e += st[2 * (f + i)] * st[2 * (f + i)] + st[2 * (f + i) + 1] * st[2 * (f + i) + 1];
        if (e >= frac * frac * maxe) return f / (double)rate;
    }
    return -1;
}

static void test_render_alignment_and_determinism(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_renderer *r = renderer();
    REQUIRE(r != NULL);
    amt_notes ns;
    amt_notes_init(&ns);
    /* separated staccato notes at times not on 64-sample block edges */
    double on[6] = {0.1234, 0.6011, 1.0507, 1.5523, 2.0999, 2.6180};
    int pitches[6] = {40, 52, 60, 67, 76, 88};
    for (int i = 0; i < 6; i++) {
        amt_note n = amt_note_make(on[i], on[i] + 0.15, pitches[i]);
        n.program = 0; n.velocity = 60 + 10 * i;
        amt_notes_push(&ns, &n);
    }
    amt_render_opts o;
    amt_render_opts_default(&o);
    o.tail_s = 0.3;
    float *x = NULL, *y = NULL;
    long nx = 0, ny = 0;
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o, &x, &nx));
    CHECK(nx == (long)ceil((2.6180 + 0.15 + 0.3) * 44100));
    for (int i = 0; i < 6; i++) {
        long from = (long)((on[i] - 0.08) * 44100), to = (long)((on[i] + 0.3) * 44100);
        double t = energy_onset(x, nx, 44100, from, to, 0.1);
        CHECK_MSG(fabs(t - on[i]) <= 0.010, "note %d: energy onset %.4f s vs annotated %.4f s", i, t, on[i]);
    }
    /* same options after another render on the same synth: bit-identical */
    amt_render_opts o2;
    amt_rng rng;
    amt_rng_seed(&rng, 9);
    amt_render_opts_random(&o2, 1, &rng);
    o2.chorus = 1; o2.reverb = 1;
    float *z = NULL;
    long nz = 0;
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o2, &z, &nz));
    free(z);
    amt_renderer_reset(r);
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o2, &y, &ny));
    amt_renderer_reset(r);
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o2, &z, &nz));
    CHECK(ny == nz && memcmp(y, z, (size_t)ny * 2 * sizeof *y) == 0);
    free(z);
    /* and identical to a fresh renderer */
    const char *f[1] = {AMT_SF_TIMGM6MB};
    amt_renderer *r2 = amt_renderer_new(f, 1, 44100);
    REQUIRE(r2 != NULL);
    CHECK_OK(amt_render(r2, &ns, NULL, 0, &o2, &z, &nz));
    CHECK(ny == nz && memcmp(y, z, (size_t)ny * 2 * sizeof *y) == 0);
    amt_renderer_free(r2);
    free(x); free(y); free(z);
    amt_notes_free(&ns);
}

static void test_render_drums_pedal_voice(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_renderer *r = renderer();
    REQUIRE(r != NULL);
    CHECK(amt_renderer_has_program(r, 0, 0) && amt_renderer_has_program(r, 0, AMT_PROGRAM_DRUMS));
    amt_notes ns;
    amt_notes_init(&ns);
    amt_note d = amt_note_make(0.1, 0.2, 38);
    d.program = AMT_PROGRAM_DRUMS; d.velocity = 100;
    amt_notes_push(&ns, &d);
    amt_render_opts o;
    amt_render_opts_default(&o);
    o.length_s = 0.6;
    float *x;
    long nx;
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o, &x, &nx));
    CHECK(nx == (long)ceil(0.6 * 44100));
    double e = 0;
    for (long i = 0; i < 2 * nx; i++) e += x[i] * x[i];
    CHECK(e > 1e-3);   /* the snare sounds */
    free(x);
    /* pedal: a short note held by CC64 has energy late, without it does not */
    amt_notes_clear(&ns);
    amt_note n = amt_note_make(0.1, 0.2, 60);
    n.program = 0; n.velocity = 100;
    amt_notes_push(&ns, &n);
    amt_pedal ped = {0.05, 1.5, -1};
    o.length_s = 1.6;
    float *a, *b;
    long na, nb;
    CHECK_OK(amt_render(r, &ns, &ped, 1, &o, &a, &na));
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o, &b, &nb));
    double ea = 0, eb = 0;
    for (long i = (long)(1.0 * 44100); i < (long)(1.4 * 44100); i++) { ea += a[2 * i] * a[2 * i]; eb += b[2 * i] * b[2 * i]; }
    CHECK_MSG(ea > 100 * eb, "energy 1.0-1.4 s with pedal %.3g, without %.3g", ea, eb);
    free(a); free(b);
    /* vibrato on a voice patch changes the signal; same seed => same output */
    amt_notes_clear(&ns);
    n = amt_note_make(0.05, 1.0, 64);
    n.program = 53;
    amt_notes_push(&ns, &n);
    o.length_s = 1.1;
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o, &a, &na));
    o.expr_program = 53; o.vibrato_cents = 50; o.vibrato_hz = 5; o.seed = 3;
    CHECK_OK(amt_render(r, &ns, NULL, 0, &o, &b, &nb));
    double diff = 0;
    for (long i = 0; i < 2 * na; i++) diff += fabs(a[i] - b[i]);
    CHECK(diff > 1.0);
    free(a); free(b);
    amt_notes_free(&ns);
}

/* ---------------- layouts ---------------- */
static int count_files(const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) n += count_files(p, ext);
        else if (strlen(e->d_name) > strlen(ext) && !strcmp(e->d_name + strlen(e->d_name) - strlen(ext), ext)) n++;
    }
    closedir(d);
    return n;
}

/* Checks every single-onset MAPS file (ISOL NO, RAND, UCHO) under dir: the energy onset
 * in the audio is within 10 ms of the .txt onset. Returns files checked. */
static int check_maps_onsets(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) { n += check_maps_onsets(p); continue; }
        size_t L = strlen(p);
        if (L < 5 || strcmp(p + L - 4, ".txt") || strstr(p, "_MUS-")) continue;
        amt_notes ns;
        if (amt_notes_read_tsv(p, &ns)) { CHECK_MSG(0, "%s", amt_errmsg()); continue; }
        char w[2048];
        snprintf(w, sizeof w, "%.*s.wav", (int)(L - 4), p);
        amt_audio a;
        if (amt_audio_read(w, &a)) { CHECK_MSG(0, "%s", amt_errmsg()); amt_notes_free(&ns); continue; }
        CHECK(a.channels == 2 && a.rate == 44100);
        if (ns.n > 0) {
            double t0 = ns.v[0].onset;
            double t = energy_onset(a.data, a.frames, a.rate, 0, (long)((t0 + 0.3) * a.rate), 0.03);
            CHECK_MSG(fabs(t - t0) <= 0.010, "%s: energy onset %.4f vs annotated %.4f", p, t, t0);
            n++;
        }
        amt_audio_free(&a);
        amt_notes_free(&ns);
    }
    closedir(d);
    return n;
}

/* Lag (s) in [-maxlag, maxlag] that best aligns the annotated onsets of ns with the
 * audio's onset strength (half-wave rectified rise of log energy in 1 ms hops). */
static double best_onset_lag(const amt_audio *a, const amt_notes *ns, double maxlag)
{
    int hop = a->rate / 1000;
    long nfr = a->frames / hop;
    double *le = malloc((size_t)nfr * sizeof *le), *odf = calloc((size_t)nfr, sizeof *odf);
    for (long f = 0; f < nfr; f++) {
        double e = 1e-10;
        for (int i = 0; i < hop; i++) { float v = a->data[2 * (f * hop + i)] + a->data[2 * (f * hop + i) + 1]; e += v * v; }
        le[f] = log(e);
    }
    for (long f = 3; f < nfr; f++) { double d = le[f] - le[f - 3]; odf[f] = d > 0 ? d : 0; }
    int L = (int)(maxlag * 1000), best = 0;
    double bestv = -1;
    for (int lag = -L; lag <= L; lag++) {
        double v = 0;
        for (int i = 0; i < ns->n; i++) {
            long f = lround(ns->v[i].onset * 1000) + lag;
            for (long g = f; g < f + 4; g++) if (g >= 0 && g < nfr) v += odf[g];   /* rise within 4 ms after */
        }
        if (v > bestv) { bestv = v; best = lag; }
    }
    free(le); free(odf);
    return best / 1000.0;
}

static void test_synth_maps_layout(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    char dir[256], dir2[256];
    tmpdir(dir, sizeof dir, "maps1");
    tmpdir(dir2, sizeof dir2, "maps2");
    amt_synth_cfg cfg;
    amt_synth_defaults(&cfg);
    cfg.out_dir = dir; cfg.count = 9; cfg.seed = 5; cfg.max_item_s = 3;
    cfg.fonts[0] = AMT_SF_TIMGM6MB; cfg.nfonts = 1;
    cfg.threads = 1;
    amt_synth_stats st;
    CHECK_OK(amt_synth_maps(&cfg, &st));
    CHECK(st.files == 9 && st.audio_s > 9);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/SynTimGM6mb", dir);
    CHECK(count_files(sub, ".wav") == 9 && count_files(sub, ".txt") == 9 && count_files(sub, ".mid") == 9);
    snprintf(sub, sizeof sub, "%s/SynTimGM6mb/MUS", dir);
    CHECK(count_files(sub, ".wav") == 2);
    snprintf(sub, sizeof sub, "%s/SynTimGM6mb/ISOL/NO/MAPS_ISOL_NO_P_S0_M21_SynTimGM6mb.wav", dir);
    CHECK(access(sub, R_OK) == 0);
    int checked = check_maps_onsets(dir);
    CHECK(checked >= 6);
    /* the .mid holds the same notes as the .txt */
    snprintf(sub, sizeof sub, "%s/SynTimGM6mb/MUS/MAPS_MUS-comp0_SynTimGM6mb", dir);
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s.txt", sub);
    snprintf(p2, sizeof p2, "%s.mid", sub);
    amt_notes t, m;
    CHECK_OK(amt_notes_read_tsv(p1, &t));
    CHECK_OK(amt_midi_read(p2, NULL, &m, NULL));
    CHECK(t.n == m.n && t.n > 5);
    for (int i = 0; i < t.n && i < m.n; i++) {
        CHECK(t.v[i].pitch == m.v[i].pitch);
        CHECK_NEAR(t.v[i].onset, m.v[i].onset, 1e-3);
        CHECK_NEAR(t.v[i].offset, m.v[i].offset, 1e-3);
    }
    /* the whole polyphonic piece: annotated onsets line up with the audio's energy rises */
    snprintf(p1, sizeof p1, "%s.wav", sub);
    amt_audio au;
    CHECK_OK(amt_audio_read(p1, &au));
    double lag = best_onset_lag(&au, &t, 0.05);
    CHECK_MSG(fabs(lag) <= 0.010, "MUS onsets best aligned at lag %.1f ms", lag * 1000);
    amt_audio_free(&au);
    amt_notes_free(&t); amt_notes_free(&m);
    /* same seed with 2 threads: byte-identical files */
    cfg.out_dir = dir2; cfg.threads = 2;
    CHECK_OK(amt_synth_maps(&cfg, &st));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "diff -r -q '%s' '%s' >/dev/null", dir, dir2);
    CHECK(system(cmd) == 0);
    rmtree(dir); rmtree(dir2);
}

static void test_synth_mir1k_layout(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    char dir[256];
    tmpdir(dir, sizeof dir, "mir");
    amt_synth_cfg cfg;
    amt_synth_defaults(&cfg);
    cfg.out_dir = dir; cfg.count = 3; cfg.seed = 2; cfg.max_item_s = 4.5;
    cfg.fonts[0] = AMT_SF_TIMGM6MB; cfg.nfonts = 1;
    amt_synth_stats st;
    CHECK_OK(amt_synth_mir1k(&cfg, &st));
    CHECK(st.files == 3);
    const char *names[3] = {"abjones_1_01.wav", "amy_1_01.wav", "annar_1_01.wav"};
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/Wavfile/%s", dir, names[i]);
        amt_audio a;
        CHECK_OK(amt_audio_read(p, &a));
        CHECK(a.channels == 2 && a.rate == 16000);
        CHECK(a.frames >= 4 * 16000 && a.frames <= (long)(4.5 * 16000) + 1);
        double el = 0, er = 0;
        for (long f = 0; f < a.frames; f++) { el += a.data[2 * f] * a.data[2 * f]; er += a.data[2 * f + 1] * a.data[2 * f + 1]; }
        CHECK_MSG(el > 0.1 && er > 0.1, "%s: energy left %.3g right %.3g", p, el, er);
        amt_audio_free(&a);
    }
    rmtree(dir);
}

static void test_synth_irmas_layout(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    char dir[256];
    tmpdir(dir, sizeof dir, "irmas");
    amt_synth_cfg cfg;
    amt_synth_defaults(&cfg);
    cfg.out_dir = dir; cfg.count = 11; cfg.seed = 4; cfg.max_item_s = 3;
    cfg.fonts[0] = AMT_SF_TIMGM6MB; cfg.nfonts = 1;
    amt_synth_stats st;
    CHECK_OK(amt_synth_irmas(&cfg, &st));
    CHECK(st.files == 13);
    const char *cls[11] = {"cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi"};
    for (int c = 0; c < 11; c++) {
        char p[512];
        snprintf(p, sizeof p, "%s/IRMAS-TrainingData/%s", dir, cls[c]);
        CHECK_MSG(count_files(p, ".wav") == 1, "%s", p);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/IRMAS-TestingData-Part1", dir);
    CHECK(count_files(p, ".wav") == 2 && count_files(p, ".txt") == 2);
    rmtree(dir);
}

static void test_irmas_lead_louder(void)
{
    if (!have_font()) SKIP("%s absent", AMT_SF_TIMGM6MB);
    amt_renderer *r = renderer();
    REQUIRE(r != NULL);
    for (int cls = 0; cls < 11; cls++) {
        float *mix, *lead, *acc;
        long n;
        amt_renderer_reset(r);
        CHECK_OK(amt_synth_irmas_example(r, &cls, 1, 3.0, cls % 2, 100 + (uint64_t)cls, &mix, &lead, &acc, &n));
        CHECK(n == 3 * 44100);
        double rl = amt_synth_rms(lead, 2 * n, 1), ra = amt_synth_rms(acc, 2 * n, 1), err = 0;
        for (long i = 0; i < 2 * n; i++) err = fmax(err, fabs(mix[i] - lead[i] - acc[i]));
        CHECK(err < 1e-5);
        CHECK_MSG(rl > 0 && rl >= 1.9 * ra, "class %d: lead RMS %.4f, accompaniment RMS %.4f", cls, rl, ra);
        free(mix); free(lead); free(acc);
    }
}

static void test_synth_tool_errors(void)
{
    const char *bin = getenv("AMT_BIN");
    char tool[512];
    snprintf(tool, sizeof tool, "%s/amt-synth", bin ? bin : "bin");
    if (access(tool, X_OK) != 0) SKIP("%s not built", tool);
    char cmd[2048], out[512];
    snprintf(out, sizeof out, "/tmp/amt_test_synth_%d_tool.err", (int)getpid());
    snprintf(cmd, sizeof cmd, "%s maps --out /tmp/x --soundfont /nonexistent/f.sf2 2>%s", tool, out);
    int rc = system(cmd);
    CHECK(WEXITSTATUS(rc) == 1);
    FILE *f = fopen(out, "r");
    char line[512] = "";
    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
    CHECK_MSG(strstr(line, "/nonexistent/f.sf2") != NULL, "message: %s", line);
    snprintf(cmd, sizeof cmd, "%s maps --out /tmp/x --minutes abc 2>%s", tool, out);
    rc = system(cmd);
    CHECK(WEXITSTATUS(rc) == 2);
    f = fopen(out, "r");
    line[0] = 0;
    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
    CHECK_MSG(strstr(line, "abc") != NULL, "message: %s", line);
    snprintf(cmd, sizeof cmd, "%s maps --out /proc/amt_no_such_dir/x --count 1 2>%s", tool, out);
    rc = system(cmd);
    CHECK(WEXITSTATUS(rc) == 1);
    f = fopen(out, "r");
    line[0] = 0;
    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
    CHECK_MSG(strstr(line, "/proc/amt_no_such_dir") != NULL, "message: %s", line);
    snprintf(cmd, sizeof cmd, "%s --help >/dev/null", tool);
    CHECK(WEXITSTATUS(system(cmd)) == 0);
    snprintf(cmd, sizeof cmd, "%s bogus --out /tmp/x 2>/dev/null", tool);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    unlink(out);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_composer_deterministic_and_musical);
    RUN(test_composer_band_parts);
    RUN(test_pedal_extend);
    RUN(test_midi_excerpt);
    RUN(test_render_errors);
    RUN(test_render_alignment_and_determinism);
    RUN(test_render_drums_pedal_voice);
    RUN(test_synth_maps_layout);
    RUN(test_synth_mir1k_layout);
    RUN(test_synth_irmas_layout);
    RUN(test_irmas_lead_louder);
    RUN(test_synth_tool_errors);
    amt_renderer_free(g_r);
    return TEST_DONE();
}
