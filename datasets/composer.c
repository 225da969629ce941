/* datasets/composer.c: seeded algorithmic composer (see composer.h). */
#include "datasets/composer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "audio/midi.h"

/* Modes as semitone offsets of the 7 scale degrees. */
static const int MODES[][7] = {
    {0, 2, 4, 5, 7, 9, 11},   /* major */
    {0, 2, 3, 5, 7, 8, 10},   /* natural minor */
    {0, 2, 3, 5, 7, 8, 11},   /* harmonic minor */
    {0, 2, 3, 5, 7, 9, 10},   /* dorian */
    {0, 2, 4, 5, 7, 9, 10},   /* mixolydian */
};
#define NMODES ((int)(sizeof MODES / sizeof MODES[0]))
static const double MODE_WEIGHT[NMODES] = {0.45, 0.2, 0.15, 0.1, 0.1};

/* Progressions as 0-based scale degrees, one chord per bar (or half bar). */
static const int PROGS[][8] = {
    {0, 3, 4, 0, -1}, {0, 4, 5, 3, -1}, {5, 3, 0, 4, -1}, {1, 4, 0, 0, -1},
    {0, 5, 3, 4, -1}, {0, 3, 0, 4, -1}, {0, 5, 1, 4, -1}, {0, 2, 3, 4, -1},
    {5, 4, 3, 4, -1}, {0, 6, 5, 4, -1}, {0, 3, 6, 2, 5, 1, 4, 0}, {0, 4, 5, 2, 3, 0, 3, 4},
};
#define NPROGS ((int)(sizeof PROGS / sizeof PROGS[0]))

#define PIANO_LO 21
#define PIANO_HI 108
#define HUMANIZE_S 0.006      /* onset jitter (s, std dev) */
#define MIN_NOTE_S 0.04       /* shortest note */

typedef struct comp {
    amt_rng rng;
    const amt_compose_cfg *cfg;
    amt_piece *p;
    int key, mode;
    int vlo, vhi;
    double beat;   /* seconds per beat */
    int meter;     /* beats per bar */
} comp;

static double urand(comp *c) { return amt_rng_uniform(&c->rng); }
static int irand(comp *c, int n) { return (int)amt_rng_below(&c->rng, (uint64_t)n); }
static int clampi(int x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : x; }

/* MIDI pitch of scale degree d (any integer) with the tonic at octave base `tonic`. */
static int degree_pitch(const comp *c, int tonic, int d)
{
    int oct = d >= 0 ? d / 7 : -((6 - d) / 7);
    int r = d - 7 * oct;
    return tonic + 12 * oct + MODES[c->mode][r];
}

/* The tonic pitch nearest to `center`. */
static int tonic_near(const comp *c, int center)
{
    int t = c->key + 12 * (center / 12);
    while (t > center + 6) t -= 12;
    while (t < center - 6) t += 12;
    return t;
}

/* Scale degree (relative to tonic t) whose pitch is nearest to `pitch`. */
static int degree_near(const comp *c, int t, int pitch)
{
    int best = 0, bd = 1 << 30;
    for (int d = -28; d <= 28; d++) {
        int dist = abs(degree_pitch(c, t, d) - pitch);
        if (dist < bd) { bd = dist; best = d; }
    }
    return best;
}

static int vel(comp *c, double level)   /* level 0..1 within the velocity range + jitter */
{
    double v = c->vlo + level * (c->vhi - c->vlo) + 6.0 * amt_rng_normal(&c->rng);
    return clampi((int)lround(v), 1, 127);
}

static int add(comp *c, double on, double dur, int pitch, int velocity, int program)
{
    if (pitch < 0 || pitch > 127) return 0;
    if (program != AMT_PROGRAM_DRUMS && (pitch < PIANO_LO || pitch > PIANO_HI)) return 0;
    on += HUMANIZE_S * amt_rng_normal(&c->rng);
    if (on < 0) on = 0;
    if (on >= c->cfg->seconds) return 0;
    if (dur < MIN_NOTE_S) dur = MIN_NOTE_S;
    double off = on + dur;
    if (off > c->cfg->seconds) off = c->cfg->seconds;
    if (off - on < 0.02) return 0;
    amt_note n = amt_note_make(on, off, pitch);
    n.velocity = velocity; n.program = program;
    return amt_notes_push(&c->p->notes, &n);
}

/* Chord tones (scale degrees) of chord root degree r: triad, sometimes a seventh. */
static int chord_degrees(int r, int seventh, int *out)
{
    out[0] = r; out[1] = r + 2; out[2] = r + 4;
    if (seventh) { out[3] = r + 6; return 4; }
    return 3;
}

/* ---- accompaniment patterns ---- */
enum { ACC_BLOCK, ACC_ARP, ACC_ALBERTI, ACC_BROKEN, ACC_SUSTAIN, NACC };

static int accompany(comp *c, int pattern, double t, double bar_s, int tonic, const int *deg, int nd,
                     int program, double level, int rh_chords)
{
    int rc = 0;
    double b = c->beat;
    int pitches[8];
    for (int i = 0; i < nd; i++) pitches[i] = degree_pitch(c, tonic, deg[i]);
    switch (pattern) {
    case ACC_BLOCK: {
        /* chords on the beats (or on 1 and 3), root doubled an octave below sometimes */
        int every = c->meter == 3 ? 1 : (urand(c) < 0.5 ? 1 : 2);
        for (int k = 0; k < c->meter; k += every) {
            int v = vel(c, level * (k == 0 ? 1.0 : 0.8));
            for (int i = 0; i < nd && !rc; i++) rc = add(c, t + k * b, every * b * 0.95, pitches[i], v, program);
            if (!rc && k == 0 && urand(c) < 0.5) rc = add(c, t, bar_s * 0.95, pitches[0] - 12, v, program);
        }
        break;
    }
    case ACC_ARP: {
        double step = urand(c) < 0.5 ? b / 2 : b / 4;
        int n = (int)lround(bar_s / step), up = urand(c) < 0.7;
        int seq[16], ns = 0;
        for (int i = 0; i < nd; i++) seq[ns++] = pitches[i];
        seq[ns++] = pitches[0] + 12;
        for (int k = 0; k < n && !rc; k++) {
            int idx = k % (2 * ns - 2 > 0 ? 2 * ns - 2 : 1);
            if (idx >= ns) idx = 2 * ns - 2 - idx;
            if (!up) idx = ns - 1 - idx;
            rc = add(c, t + k * step, step * (urand(c) < 0.5 ? 1.0 : 2.5), seq[idx],
                     vel(c, level * (k % 4 == 0 ? 0.95 : 0.75)), program);
        }
        break;
    }
    case ACC_ALBERTI: {   /* low-high-mid-high in eighths */
        double step = b / 2;
        int n = (int)lround(bar_s / step);
        int ord[4] = {0, nd > 2 ? 2 : 1, 1, nd > 2 ? 2 : 1};
        for (int k = 0; k < n && !rc; k++)
            rc = add(c, t + k * step, step * 0.9, pitches[ord[k % 4]], vel(c, level * (k % 4 == 0 ? 0.85 : 0.65)), program);
        break;
    }
    case ACC_BROKEN: {   /* root on the beat, the rest of the chord after it */
        for (int k = 0; k < c->meter && !rc; k++) {
            rc = add(c, t + k * b, b * 0.5, pitches[0] - (k == 0 ? 12 : 0), vel(c, level), program);
            for (int i = 1; i < nd && !rc; i++) rc = add(c, t + k * b + b / 2, b * 0.45, pitches[i], vel(c, level * 0.7), program);
        }
        break;
    }
    default: {   /* held chord for the bar */
        int v = vel(c, level * 0.7);
        for (int i = 0; i < nd && !rc; i++) rc = add(c, t, bar_s * 0.98, pitches[i], v, program);
        break;
    }
    }
    (void)rh_chords;
    return rc;
}

/* ---- bass line ---- */
static int bass_line(comp *c, double t, double bar_s, int tonic, int root_deg, int next_root_deg, int program, double level)
{
    int rc = 0, style = irand(c, 3);
    double b = c->beat;
    int root = degree_pitch(c, tonic, root_deg), fifth = degree_pitch(c, tonic, root_deg + 4);
    if (style == 0) {              /* root held / on 1 */
        rc = add(c, t, bar_s * 0.9, root, vel(c, level), program);
    } else if (style == 1) {       /* root-fifth on the beats */
        for (int k = 0; k < c->meter && !rc; k++)
            rc = add(c, t + k * b, b * 0.9, (k % 2) ? fifth - (fifth - root > 6 ? 12 : 0) : root, vel(c, level * (k ? 0.8 : 1)), program);
    } else {                       /* walking toward the next root by scale steps */
        int d = root_deg, target = next_root_deg;
        while (target - d > 3) target -= 7;
        while (d - target > 3) target += 7;
        for (int k = 0; k < c->meter && !rc; k++) {
            rc = add(c, t + k * b, b * 0.9, degree_pitch(c, tonic, d), vel(c, level * (k ? 0.8 : 1)), program);
            if (k == c->meter - 2 && abs(target - d) > 1) d += target > d ? 2 : -2;
            else if (d != target) d += target > d ? 1 : -1;
            else d += urand(c) < 0.5 ? 1 : -1;
        }
    }
    return rc;
}

/* ---- melody ---- */
static const double RHYTHMS[] = {0.25, 0.5, 0.5, 0.75, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0};
#define NRHY ((int)(sizeof RHYTHMS / sizeof RHYTHMS[0]))

static int melody(comp *c, double t_end, const int *prog_deg, int nprog, double bar_s, double chord_s,
                  int tonic, int lo, int hi, int program, double level, int harmonise)
{
    int rc = 0;
    double b = c->beat, t = 0;
    int d = degree_near(c, tonic, (lo + hi) / 2);
    int phrase_bars = 2 + irand(c, 3);
    double phrase_end = phrase_bars * bar_s;
    double density = 0.6 + 0.8 * urand(c);   /* >1: shorter notes */
    while (t < t_end && !rc) {
        double r = RHYTHMS[irand(c, NRHY)] / density;
        r = b * fmax(0.25, round(r * 4) / 4);
        if (t + r > phrase_end) r = fmax(b * 0.5, phrase_end - t);
        int ci = (int)(t / chord_s) % nprog;
        int chord[4], nc = chord_degrees(prog_deg[ci], 0, chord);
        double u = urand(c);
        int strong = fmod(t, b) < 1e-6;
        if (u < 0.62) d += urand(c) < 0.5 ? 1 : -1;                   /* step */
        else if (u < 0.82) d += (urand(c) < 0.5 ? 1 : -1) * (2 + irand(c, 3)); /* leap */
        else if (u < 0.87) d += (urand(c) < 0.5 ? 7 : -7);            /* octave leap */
        /* on strong beats move to the nearest chord tone */
        if (strong && urand(c) < 0.7) {
            int best = d, bd = 99;
            for (int k = 0; k < nc; k++)
                for (int o = -21; o <= 21; o += 7) {
                    int cand = chord[k] + o;
                    if (abs(cand - d) < bd) { bd = abs(cand - d); best = cand; }
                }
            d = best;
        }
        int p = degree_pitch(c, tonic, d);
        while (p > hi) { d -= 7; p = degree_pitch(c, tonic, d); }
        while (p < lo) { d += 7; p = degree_pitch(c, tonic, d); }
        double phrase_pos = fmod(t, phrase_bars * bar_s) / (phrase_bars * bar_s);
        double lv = level * (0.75 + 0.25 * sin(M_PI * phrase_pos));   /* swell within a phrase */
        double legato = 0.75 + 0.25 * urand(c);
        int v = vel(c, lv);
        rc = add(c, t, r * legato, p, v, program);
        if (!rc && harmonise && urand(c) < 0.35) {   /* a third or sixth below */
            int hd = d - (urand(c) < 0.6 ? 2 : 5);
            rc = add(c, t, r * legato, degree_pitch(c, tonic, hd), vel(c, lv * 0.8), program);
        }
        t += r;
        if (t >= phrase_end - 1e-9) {            /* phrase break: a rest, then a new phrase */
            double rest = b * (urand(c) < 0.5 ? 1 : 2) * (urand(c) < 0.3 ? 0 : 1);
            t = phrase_end + rest;
            t = ceil(t / b - 1e-9) * b;
            phrase_bars = 2 + irand(c, 3);
            phrase_end = t + phrase_bars * bar_s;
        }
    }
    return rc;
}

/* ---- drums ---- */
static int drum_part(comp *c, double bar_s, int nbars, double level)
{
    int rc = 0;
    double b = c->beat;
    int hat = urand(c) < 0.75 ? 42 : 51;   /* closed hi-hat or ride */
    int sub = urand(c) < 0.6 ? 2 : 1;
    for (int bar = 0; bar < nbars && !rc; bar++) {
        double t = bar * bar_s;
        if (bar % 8 == 0) rc = add(c, t, 0.5, 49, vel(c, level), AMT_PROGRAM_DRUMS);
        for (int k = 0; k < c->meter && !rc; k++) {
            double tb = t + k * b;
            if (k == 0 || (c->meter == 4 && k == 2) || urand(c) < 0.1) rc = add(c, tb, 0.12, 36, vel(c, level), AMT_PROGRAM_DRUMS);
            if (!rc && (k % 2 == 1)) rc = add(c, tb, 0.12, 38, vel(c, level * 0.9), AMT_PROGRAM_DRUMS);
            for (int s = 0; s < sub && !rc; s++) rc = add(c, tb + s * b / sub, 0.08, hat, vel(c, level * (s ? 0.5 : 0.7)), AMT_PROGRAM_DRUMS);
        }
    }
    return rc;
}

void amt_compose_defaults(amt_compose_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seconds = 10;
    cfg->texture = AMT_TEXTURE_PIANO;
    cfg->prog_lead = 0; cfg->prog_chords = 0; cfg->prog_bass = -1;
}

void amt_piece_init(amt_piece *p)
{
    memset(p, 0, sizeof *p);
    amt_notes_init(&p->notes);
}

void amt_piece_free(amt_piece *p)
{
    amt_notes_free(&p->notes);
    free(p->pedals);
    p->pedals = NULL; p->npedals = 0;
}

int amt_piece_add_pedal(amt_piece *p, double on, double off, int program)
{
    if (!(off > on)) return AMT_OK;
    amt_pedal *np = realloc(p->pedals, (size_t)(p->npedals + 1) * sizeof *np);
    if (!np) return amt_error(AMT_ENOMEM, "composer: out of memory for pedals");
    p->pedals = np;
    p->pedals[p->npedals++] = (amt_pedal){on, off, program};
    return AMT_OK;
}

static int cmp_on_then_vel(const void *a, const void *b)
{
    const amt_note *x = a, *y = b;
    if (x->onset != y->onset) return x->onset < y->onset ? -1 : 1;
    if (x->velocity != y->velocity) return y->velocity - x->velocity;
    return x->pitch - y->pitch;
}

void amt_notes_limit_polyphony(amt_notes *ns, int max_poly)
{
    if (max_poly <= 0 || ns->n == 0) return;
    qsort(ns->v, (size_t)ns->n, sizeof *ns->v, cmp_on_then_vel);
    int kept = 0;
    for (int i = 0; i < ns->n; i++) {
        amt_note *n = &ns->v[i];
        int sounding = 0;
        for (int j = kept - 1; j >= 0 && sounding < max_poly; j--)
            if (ns->v[j].offset > n->onset + 1e-9 && ns->v[j].program != AMT_PROGRAM_DRUMS) sounding++;
        /* scan all kept notes (older long notes can still sound); the loop above stops early
         * only once the cap is reached, which is all we need */
        if (n->program == AMT_PROGRAM_DRUMS || sounding < max_poly) ns->v[kept++] = *n;
    }
    ns->n = kept;
    amt_notes_sort(ns);
}

/* Removes overlapping repeats of the same pitch+program (a key cannot be down twice). */
static void fix_overlaps(amt_notes *ns)
{
    amt_notes_sort(ns);
    int kept = 0;
    for (int i = 0; i < ns->n; i++) {
        amt_note n = ns->v[i];
        int drop = 0;
        for (int j = kept - 1; j >= 0; j--) {
            amt_note *m = &ns->v[j];
            if (m->pitch != n.pitch || m->program != n.program) continue;
            if (m->offset > n.onset) {
                if (n.onset - m->onset < 0.03) drop = 1;     /* same key struck twice at once */
                else m->offset = n.onset - 0.005;            /* release just before the re-strike */
            }
            break;
        }
        if (!drop) ns->v[kept++] = n;
    }
    ns->n = kept;
}

int amt_compose(const amt_compose_cfg *cfg, uint64_t seed, amt_piece *out)
{
    amt_piece_init(out);
    if (!(cfg->seconds > 0) || cfg->seconds > 36000)
        return amt_error(AMT_EINVAL, "composer: duration %g s out of range (0, 36000]", cfg->seconds);
    if (cfg->bpm != 0 && (cfg->bpm < 20 || cfg->bpm > 400))
        return amt_error(AMT_EINVAL, "composer: tempo %g bpm out of range [20, 400]", cfg->bpm);
    comp c;
    memset(&c, 0, sizeof c);
    amt_rng_seed(&c.rng, seed);
    c.cfg = cfg; c.p = out;
    c.key = irand(&c, 12);
    double u = urand(&c), acc = 0;
    c.mode = NMODES - 1;
    for (int m = 0; m < NMODES; m++) { acc += MODE_WEIGHT[m]; if (u < acc) { c.mode = m; break; } }
    double bpm = cfg->bpm > 0 ? cfg->bpm : 60 + 120 * urand(&c);
    c.beat = 60.0 / bpm;
    c.meter = urand(&c) < 0.8 ? 4 : 3;
    c.vlo = cfg->vel_lo > 0 ? cfg->vel_lo : 30;
    c.vhi = cfg->vel_hi > 0 ? cfg->vel_hi : 110;
    if (c.vhi < c.vlo) c.vhi = c.vlo;
    out->bpm = bpm; out->key = c.key; out->mode = c.mode; out->seconds = cfg->seconds;

    double bar_s = c.beat * c.meter;
    int nbars = (int)ceil(cfg->seconds / bar_s) + 1;
    const int *tmpl = PROGS[irand(&c, NPROGS)];
    int nprog = 0;
    while (nprog < 8 && tmpl[nprog] >= 0) nprog++;
    int two_per_bar = c.meter == 4 && c.beat > 0.45 && urand(&c) < 0.25;
    double chord_s = two_per_bar ? bar_s / 2 : bar_s;
    int nchords = (int)ceil(cfg->seconds / chord_s) + 1;
    int *sev = malloc((size_t)nchords * sizeof *sev);
    if (!sev) return amt_error(AMT_ENOMEM, "composer: out of memory");
    for (int i = 0; i < nchords; i++) sev[i] = urand(&c) < 0.2;

    /* registers: the melody around a centre drawn from a normal around C5 */
    int mcen = clampi((int)lround(72 + 6 * amt_rng_normal(&c.rng)), 55, 96);
    int lo = cfg->lead_lo > 0 ? cfg->lead_lo : mcen - 9 - irand(&c, 4);
    int hi = cfg->lead_hi > 0 ? cfg->lead_hi : mcen + 9 + irand(&c, 4);
    lo = clampi(lo, PIANO_LO, PIANO_HI); hi = clampi(hi, lo + 5, PIANO_HI);
    int acc_cen = clampi((int)lround(52 + 5 * amt_rng_normal(&c.rng)), 36, 64);
    if (acc_cen > lo - 3) acc_cen = lo - 3 < 30 ? 30 : lo - 3;
    int acc_tonic = tonic_near(&c, acc_cen);
    int bass_tonic = tonic_near(&c, clampi(acc_cen - 14, 28, 50));
    int mel_tonic = tonic_near(&c, (lo + hi) / 2);
    int rc = 0;
    double level_acc = 0.35 + 0.3 * urand(&c), level_mel = 0.55 + 0.4 * urand(&c);

    int piano = cfg->texture == AMT_TEXTURE_PIANO;
    int prog_acc = cfg->prog_chords;
    int pattern = irand(&c, NACC);
    int use_pedal = piano && prog_acc >= 0 && (cfg->pedal > 0 || (cfg->pedal == 0 && urand(&c) < 0.5));
    for (int k = 0; k < nchords && !rc; k++) {
        double t = k * chord_s;
        if (t >= cfg->seconds) break;
        if (k % 4 == 0 && urand(&c) < 0.3) pattern = irand(&c, NACC);   /* new section texture */
        int deg[4], nd = chord_degrees(tmpl[k % nprog], sev[k], deg);
        if (prog_acc >= 0) {
            int pat = pattern;
            if (!piano && pat == ACC_ALBERTI) pat = ACC_BLOCK;
            rc = accompany(&c, pat, t, chord_s, acc_tonic, deg, nd, prog_acc, level_acc, 0);
        }
        if (!rc && cfg->prog_bass >= 0)
            rc = bass_line(&c, t, chord_s, bass_tonic, tmpl[k % nprog], tmpl[(k + 1) % nprog], cfg->prog_bass, level_acc + 0.1);
        if (!rc && use_pedal) {   /* legato pedalling: change with the harmony */
            double on = t + 0.03 + 0.03 * urand(&c), off = t + chord_s - 0.02;
            if (off > cfg->seconds) off = cfg->seconds;
            rc = amt_piece_add_pedal(out, on, off, prog_acc);
        }
    }
    if (!rc && cfg->prog_lead >= 0)
        rc = melody(&c, cfg->seconds, tmpl, nprog, bar_s, chord_s, mel_tonic, lo, hi, cfg->prog_lead, level_mel,
                    piano && urand(&c) < 0.5);
    if (!rc && cfg->drums) rc = drum_part(&c, bar_s, nbars, 0.5 + 0.3 * urand(&c));
    free(sev);
    if (rc) { amt_piece_free(out); return rc; }
    fix_overlaps(&out->notes);
    amt_notes_limit_polyphony(&out->notes, cfg->max_poly > 0 ? cfg->max_poly : AMT_COMPOSE_MAX_POLY);
    return AMT_OK;
}

int amt_notes_pedal_extend(const amt_notes *ns, const amt_pedal *pedals, int npedals, amt_notes *out)
{
    amt_notes_init(out);
    for (int i = 0; i < ns->n; i++)
        if (amt_notes_push(out, &ns->v[i])) { amt_notes_free(out); return amt_error(AMT_ENOMEM, "pedal: out of memory"); }
    amt_notes_sort(out);
    for (int i = 0; i < out->n; i++) {
        amt_note *n = &out->v[i];
        if (n->program == AMT_PROGRAM_DRUMS) continue;
        double off = n->offset;
        for (int k = 0; k < npedals; k++) {
            const amt_pedal *p = &pedals[k];
            if (p->program >= 0 && p->program != n->program) continue;
            if (off >= p->on && off < p->off) { off = p->off; }
        }
        /* a re-strike of the same key ends the sustained note */
        for (int j = i + 1; j < out->n; j++) {
            const amt_note *m = &out->v[j];
            if (m->onset >= off) break;
            if (m->pitch == n->pitch && m->program == n->program && m->onset > n->onset) { off = m->onset; break; }
        }
        if (off < n->offset) off = n->offset;
        n->offset = off;
    }
    return AMT_OK;
}

int amt_piece_excerpt(const amt_piece *in, double t0, double seconds, amt_piece *out)
{
    amt_piece_init(out);
    out->bpm = in->bpm; out->key = in->key; out->mode = in->mode; out->seconds = seconds;
    double t1 = t0 + seconds;
    for (int i = 0; i < in->notes.n; i++) {
        amt_note n = in->notes.v[i];
        if (n.onset < t0 || n.onset >= t1) continue;
        n.onset -= t0;
        n.offset = (n.offset > t1 ? t1 : n.offset) - t0;
        if (n.offset - n.onset < 0.01) continue;
        if (amt_notes_push(&out->notes, &n)) { amt_piece_free(out); return amt_error(AMT_ENOMEM, "excerpt: out of memory"); }
    }
    for (int k = 0; k < in->npedals; k++) {
        double on = in->pedals[k].on, off = in->pedals[k].off;
        if (off <= t0 || on >= t1) continue;
        on = on < t0 ? t0 : on;
        off = off > t1 ? t1 : off;
        if (amt_piece_add_pedal(out, on - t0, off - t0, in->pedals[k].program)) { amt_piece_free(out); return AMT_ENOMEM; }
    }
    amt_notes_sort(&out->notes);
    return AMT_OK;
}

int amt_piece_from_midi(const char *path, double seconds, uint64_t seed, amt_piece *out)
{
    amt_piece_init(out);
    if (!(seconds > 0)) return amt_error(AMT_EINVAL, "%s: excerpt length %g s must be > 0", path, seconds);
    amt_midi_read_opts mo = {1, 1};
    amt_notes all;
    int rc = amt_midi_read(path, &mo, &all, NULL);
    if (rc) return rc;
    if (all.n == 0) { amt_notes_free(&all); return amt_error(AMT_EFORMAT, "%s: no (non-drum) notes", path); }
    double last_on = all.v[all.n - 1].onset, t0 = 0;
    if (last_on - seconds > 0) {
        /* candidate starts: onsets that leave a full window */
        int ncand = 0;
        while (ncand < all.n && all.v[ncand].onset <= last_on - seconds * 0.5) ncand++;
        amt_rng rng;
        amt_rng_seed(&rng, seed);
        if (ncand > 0) t0 = all.v[amt_rng_below(&rng, (uint64_t)ncand)].onset;
    }
    t0 -= 0.05;   /* a little silence before the first onset */
    if (t0 < 0) t0 = 0;
    amt_piece tmp;
    amt_piece_init(&tmp);
    tmp.notes = all;
    tmp.seconds = all.v[all.n - 1].offset;
    rc = amt_piece_excerpt(&tmp, t0, seconds, out);
    amt_piece_free(&tmp);
    for (int i = 0; !rc && i < out->notes.n; i++) out->notes.v[i].program = 0;   /* render as piano */
    return rc;
}
