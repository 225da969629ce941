/* datasets/synth_irmas.c: IRMAS-layout renders: 3 s training excerpts per class with the
 * class instrument leading over a quieter accompaniment, and a small multi-label testing
 * part (see synth.h). */
#include "datasets/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define IRMAS_RATE 44100
#define IRMAS_KIND 3
#define IRMAS_TRAIN_S 3.0
#define IRMAS_TEST_MIN_S 5.0
#define IRMAS_TEST_MAX_S 10.0
#define IRMAS_TEST_EVERY 10      /* one testing file per this many training files */
#define IRMAS_LEAD_DB_MIN 6.0    /* lead louder than the accompaniment by 6..12 dB (RMS) */
#define IRMAS_LEAD_DB_MAX 12.0
#define NCLASS 11

static const char *CLASSES[NCLASS] = {"cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi"};
/* GM programs per class, -1 terminated. */
static const int CLASS_PROGS[NCLASS][6] = {
    {42, -1},                 /* cello */
    {71, -1},                 /* clarinet */
    {73, 72, -1},             /* flute, piccolo */
    {24, 25, -1},             /* nylon, steel guitar */
    {26, 27, 28, 29, 30, -1}, /* jazz, clean, muted, overdriven, distortion guitar */
    {16, 17, 18, 19, -1},     /* drawbar, percussive, rock, church organ */
    {0, 1, 2, -1},            /* grand, bright, electric grand piano */
    {64, 65, 66, 67, -1},     /* soprano, alto, tenor, baritone sax */
    {56, 59, -1},             /* trumpet, muted trumpet */
    {40, 110, -1},            /* violin, fiddle */
    {52, 53, 54, 85, -1},     /* choir aahs, voice oohs, synth voice, lead voice */
};
/* Lead ranges (MIDI) per class. */
static const int CLASS_RANGE[NCLASS][2] = {
    {36, 69}, {50, 86}, {60, 96}, {40, 79}, {40, 84}, {36, 84}, {36, 96}, {49, 81}, {55, 82}, {55, 96}, {55, 79},
};
/* Classes whose instrument plays chords (piano texture for the lead part). */
static int class_chordal(int c) { return c == 3 || c == 4 || c == 5 || c == 6; }
static const char *GENRES[] = {"cla", "cou_fol", "jaz_blu", "pop_roc", "lat_sou"};
static const int ACC_CHORDS[] = {0, 4, 24, 25, 48, 49, 16, 88};
static const int ACC_BASS[] = {32, 33, 34, 35, 43};

typedef struct irmas_ctx { const amt_synth_cfg *cfg; int nfonts; long ntrain; } irmas_ctx;

static int pick_prog(amt_rng *rng, int cls)
{
    int n = 0;
    while (n < 6 && CLASS_PROGS[cls][n] >= 0) n++;
    return CLASS_PROGS[cls][amt_rng_below(rng, (uint64_t)n)];
}

static int class_of_prog(int p)
{
    for (int c = 0; c < NCLASS; c++)
        for (int k = 0; k < 6 && CLASS_PROGS[c][k] >= 0; k++) if (CLASS_PROGS[c][k] == p) return c;
    return -1;
}

/* An accompaniment program from `list` whose class is none of the excluded classes. */
static int pick_acc(amt_rng *rng, const int *list, int n, const int *excl, int nexcl)
{
    for (int tries = 0; tries < 32; tries++) {
        int p = list[amt_rng_below(rng, (uint64_t)n)], c = class_of_prog(p), bad = 0;
        for (int k = 0; k < nexcl; k++) if (c == excl[k]) bad = 1;
        if (!bad) return p;
    }
    return -1;
}

/* Renders `nlead` lead classes over an accompaniment into a stereo buffer of secs. */
static int render_mix(amt_renderer *r, const irmas_ctx *c, amt_rng *rng, const int *lead, int nlead,
                      double secs, int drums, float **out, float **lead_out, float **acc_out, long *frames)
{
    *out = NULL;
    if (lead_out) *lead_out = NULL;
    if (acc_out) *acc_out = NULL;
    int rc = 0;
    amt_render_opts o;
    amt_render_opts_random(&o, c->nfonts, rng);
    o.length_s = secs;
    /* accompaniment: chords + bass (+ drums), shared key/tempo through one composition */
    amt_compose_cfg cc;
    amt_compose_defaults(&cc);
    cc.seconds = secs;
    cc.texture = AMT_TEXTURE_BAND;
    cc.prog_lead = -1;
    cc.prog_chords = amt_rng_uniform(rng) < 0.85 ? pick_acc(rng, ACC_CHORDS, 8, lead, nlead) : -1;
    cc.prog_bass = amt_rng_uniform(rng) < 0.7 ? pick_acc(rng, ACC_BASS, 5, lead, nlead) : -1;
    cc.drums = drums;
    cc.bpm = 70 + 90 * amt_rng_uniform(rng);
    uint64_t song_seed = amt_rng_u64(rng);
    float *acc = NULL, *mix = NULL;
    long nacc = 0;
    amt_piece pa;
    amt_piece_init(&pa);
    if (cc.prog_chords >= 0 || cc.prog_bass >= 0 || cc.drums) {
        rc = amt_compose(&cc, song_seed, &pa);
        if (!rc) rc = amt_render(r, &pa.notes, pa.pedals, pa.npedals, &o, &acc, &nacc);
    }
    amt_piece_free(&pa);
    long nf = (long)ceil(secs * IRMAS_RATE);
    float *lsum = NULL;
    if (!rc && (!(mix = calloc((size_t)nf * 2, sizeof *mix)) || !(lsum = calloc((size_t)nf * 2, sizeof *lsum))))
        rc = amt_error(AMT_ENOMEM, "irmas: out of memory");
    double racc = acc ? amt_synth_rms(acc, nacc * 2, 1) : 0;
    for (int l = 0; l < nlead && !rc; l++) {
        /* the lead: same song seed => same key, tempo and chords as the accompaniment */
        amt_compose_cfg lc = cc;
        int prog = pick_prog(rng, lead[l]);
        lc.prog_bass = -1; lc.drums = 0;
        if (class_chordal(lead[l]) && amt_rng_uniform(rng) < 0.6) {
            lc.texture = AMT_TEXTURE_PIANO; lc.prog_lead = prog; lc.prog_chords = prog;
        } else {
            lc.prog_lead = prog; lc.prog_chords = -1;
        }
        lc.lead_lo = CLASS_RANGE[lead[l]][0] + (int)amt_rng_below(rng, 6);
        lc.lead_hi = CLASS_RANGE[lead[l]][1] - (int)amt_rng_below(rng, 6);
        amt_piece pl;
        amt_render_opts lo = o;
        if (prog >= 52 && prog <= 54) { lo.expr_program = prog; lo.vibrato_cents = 30; lo.vibrato_hz = 5.5f; lo.glide_s = 0.06f; }
        if (prog == 40 || prog == 42 || prog == 110) { lo.expr_program = prog; lo.vibrato_cents = 15; lo.vibrato_hz = 6; }
        lo.noise_db = -200;
        float *ld = NULL;
        long nl = 0;
        rc = amt_compose(&lc, song_seed, &pl);
        if (!rc && pl.notes.n == 0) {   /* never an empty lead: one held note */
            amt_note n = amt_note_make(0.1, secs - 0.2, (lc.lead_lo + lc.lead_hi) / 2);
            n.program = prog; n.velocity = 90;
            rc = amt_notes_push(&pl.notes, &n);
        }
        if (!rc) rc = amt_render(r, &pl.notes, pl.pedals, pl.npedals, &lo, &ld, &nl);
        amt_piece_free(&pl);
        if (!rc) {
            double rl = amt_synth_rms(ld, nl * 2, 1);
            double db = IRMAS_LEAD_DB_MIN + (IRMAS_LEAD_DB_MAX - IRMAS_LEAD_DB_MIN) * amt_rng_uniform(rng);
            double g = 1;
            if (racc > 1e-9 && rl > 1e-9) g = racc * pow(10, db / 20) / rl;
            else if (rl > 1e-9) g = 0.1 / rl;
            for (long i = 0; i < 2 * nf && i < 2 * nl; i++) { mix[i] += (float)(g * ld[i]); lsum[i] += (float)(g * ld[i]); }
        }
        free(ld);
    }
    if (!rc && acc) for (long i = 0; i < 2 * nf && i < 2 * nacc; i++) mix[i] += acc[i];
    if (!rc) {
        float peak = 0;
        for (long i = 0; i < 2 * nf; i++) if (fabsf(mix[i]) > peak) peak = fabsf(mix[i]);
        double target = 0.3 + 0.6 * amt_rng_uniform(rng);
        float sc = peak > 1e-9 ? (float)(target / peak) : 1.0f;
        for (long i = 0; i < 2 * nf; i++) mix[i] *= sc;
        if (lead_out) { for (long i = 0; i < 2 * nf; i++) lsum[i] *= sc; *lead_out = lsum; lsum = NULL; }
        if (acc_out) {
            float *a = calloc((size_t)nf * 2, sizeof *a);
            if (!a) rc = amt_error(AMT_ENOMEM, "irmas: out of memory");
            else { if (acc) for (long i = 0; i < 2 * nf && i < 2 * nacc; i++) a[i] = acc[i] * sc; *acc_out = a; }
        }
    }
    free(acc);
    free(lsum);
    if (!rc) { *out = mix; *frames = nf; }
    else {
        free(mix);
        if (lead_out) { free(*lead_out); *lead_out = NULL; }
    }
    return rc;
}

int amt_synth_irmas_example(amt_renderer *r, const int *classes, int nclasses, double secs, int drums, uint64_t seed,
                            float **mix, float **lead, float **acc, long *frames)
{
    if (nclasses < 1 || nclasses > NCLASS) return amt_error(AMT_EINVAL, "irmas: %d lead classes", nclasses);
    for (int i = 0; i < nclasses; i++)
        if (classes[i] < 0 || classes[i] >= NCLASS) return amt_error(AMT_EINVAL, "irmas: class %d out of range", classes[i]);
    irmas_ctx c = {NULL, amt_renderer_nfonts(r), 0};
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    return render_mix(r, &c, &rng, classes, nclasses, secs, drums, mix, lead, acc, frames);
}

static int irmas_item_fn(void *vctx, amt_renderer *r, long index, uint64_t seed, double *audio_s, long *files)
{
    irmas_ctx *c = vctx;
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    char path[4096];
    float *mix = NULL;
    long nf = 0;
    int rc;
    if (index < c->ntrain) {
        int cls = (int)(index % NCLASS);
        int drums = amt_rng_uniform(&rng) < 0.4;
        int genre = (int)amt_rng_below(&rng, 5);
        rc = render_mix(r, c, &rng, &cls, 1, IRMAS_TRAIN_S, drums, &mix, NULL, NULL, &nf);
        if (!rc) {
            long num = index / NCLASS + 1;
            if (genre == 0 && !drums)   /* classical pieces carry no drum tag, as in IRMAS */
                snprintf(path, sizeof path, "%s/IRMAS-TrainingData/%s/[%s][%s]%04ld__%d.wav", c->cfg->out_dir, CLASSES[cls],
                         CLASSES[cls], GENRES[genre], num, 1 + (int)(index % 3));
            else
                snprintf(path, sizeof path, "%s/IRMAS-TrainingData/%s/[%s][%s][%s]%04ld__%d.wav", c->cfg->out_dir, CLASSES[cls],
                         CLASSES[cls], drums ? "dru" : "nod", GENRES[genre], num, 1 + (int)(index % 3));
            rc = amt_synth_write_wav(path, mix, nf, IRMAS_RATE);
        }
    } else {
        long t = index - c->ntrain;
        int nlead = 1 + (int)amt_rng_below(&rng, 3), lead[3];
        for (int l = 0; l < nlead; l++) {
            int ok;
            do {
                lead[l] = (int)amt_rng_below(&rng, NCLASS);
                ok = 1;
                for (int m = 0; m < l; m++) if (lead[m] == lead[l]) ok = 0;
            } while (!ok);
        }
        double secs = IRMAS_TEST_MIN_S + (IRMAS_TEST_MAX_S - IRMAS_TEST_MIN_S) * amt_rng_uniform(&rng);
        if (c->cfg->max_item_s > 0 && secs > c->cfg->max_item_s) secs = c->cfg->max_item_s;
        rc = render_mix(r, c, &rng, lead, nlead, secs, amt_rng_uniform(&rng) < 0.4, &mix, NULL, NULL, &nf);
        if (!rc) {
            snprintf(path, sizeof path, "%s/IRMAS-TestingData-Part1/synth-song-%ld-%d.wav", c->cfg->out_dir, t / 4 + 1, (int)(t % 4) + 1);
            rc = amt_synth_write_wav(path, mix, nf, IRMAS_RATE);
        }
        if (!rc) {
            size_t L = strlen(path);
            memcpy(path + L - 4, ".txt", 4);
            FILE *f = fopen(path, "w");
            if (!f) rc = amt_error(AMT_EIO, "%s: cannot write", path);
            else {
                for (int l = 0; l < nlead; l++) fprintf(f, "%s\t\n", CLASSES[lead[l]]);
                if (fclose(f) != 0) rc = amt_error(AMT_EIO, "%s: write failed", path);
            }
        }
    }
    if (!rc) { *audio_s += nf / (double)IRMAS_RATE; *files += 1; }
    free(mix);
    return rc;
}

int amt_synth_irmas(const amt_synth_cfg *cfg, amt_synth_stats *st)
{
    memset(st, 0, sizeof *st);
    irmas_ctx c = {cfg, 0, 0};
    const char *fonts[AMT_RENDER_MAX_FONTS];
    c.nfonts = amt_synth_resolve_fonts(cfg, fonts);
    if (c.nfonts < 0) return c.nfonts;
    c.ntrain = cfg->count > 0 ? cfg->count : (long)ceil(cfg->minutes * 60 / IRMAS_TRAIN_S);
    if (c.ntrain <= 0 || c.ntrain > 10000000) return amt_error(AMT_EINVAL, "irmas: %ld files requested", c.ntrain);
    long ntest = c.ntrain / IRMAS_TEST_EVERY;
    if (ntest < 2) ntest = 2;
    return amt_synth_run(cfg, IRMAS_RATE, c.ntrain + ntest, IRMAS_KIND, irmas_item_fn, &c, st);
}
