/* datasets/synth_maps.c: MAPS-layout piano renders (ISOL, RAND, UCHO, MUS); see synth.h. */
#include "datasets/synth.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/midi.h"
#include "audio/notes.h"
#include "core/error.h"

#define MAPS_RATE 44100
#define MAPS_KIND 1
#define MAPS_MUS_MIN_S 20.0
#define MAPS_MUS_MAX_S 30.0
#define MAPS_SHORT_S 2.5       /* typical ISOL/RAND/UCHO file length used for planning */
#define MAPS_LEAD_S 0.5        /* silence before the first onset of ISOL/RAND/UCHO files */
#define MAPS_MAX_MIDI 4096

enum { SUB_ISOL, SUB_RAND, SUB_UCHO, SUB_MUS };

typedef struct maps_item { int sub; int k; double seconds; } maps_item;

typedef struct maps_ctx {
    const amt_synth_cfg *cfg;
    const char *fonts[AMT_RENDER_MAX_FONTS];
    int nfonts;
    maps_item *items;
    char **midi;
    int nmidi;
} maps_ctx;

static const int UCHORDS[][5] = {
    {0, 4, 7, -1}, {0, 3, 7, -1}, {0, 3, 6, -1}, {0, 4, 8, -1}, {0, 5, 7, -1},
    {0, 4, 7, 10, -1}, {0, 4, 7, 11, -1}, {0, 3, 7, 10, -1}, {0, 4, 7, 9, -1}, {0, 3, 6, 9, -1},
    {0, 3, 6, 10, -1}, {0, 4, 10, -1}, {0, 7, -1}, {0, 4, 7, 10, 14},
};
#define NUCHORDS ((int)(sizeof UCHORDS / sizeof UCHORDS[0]))
static const int RANGES[][2] = {{21, 108}, {36, 96}, {48, 84}, {60, 72}};
#define NRANGES 4
static const char *ISOL_TYPES[] = {"NO", "RE", "CH"};
static const char LOUD[] = {'P', 'M', 'F'};
static const int LOUD_VEL[3][2] = {{20, 45}, {50, 80}, {85, 120}};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_midi(const char *dir, char ***out, int *n, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return amt_error(AMT_EIO, "%s: cannot open MIDI directory", dir);
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) { if (depth < 4) rc = list_midi(path, out, n, depth + 1); continue; }
        size_t L = strlen(e->d_name);
        if (L < 5 || (strcasecmp(e->d_name + L - 4, ".mid") && strcasecmp(e->d_name + L - 5, ".midi"))) continue;
        if (*n >= MAPS_MAX_MIDI) continue;
        char **nv = realloc(*out, (size_t)(*n + 1) * sizeof *nv);
        if (!nv) { rc = amt_error(AMT_ENOMEM, "out of memory listing %s", dir); break; }
        *out = nv;
        (*out)[(*n)++] = strdup(path);
    }
    closedir(d);
    return rc;
}

/* Writes NAME.wav/.txt/.mid for a rendered piece (notes key-up, pedals as CC64). */
static int write_item(amt_renderer *r, const char *base, const amt_notes *ns, const amt_pedal *ped, int nped,
                      amt_render_opts *o, double *audio_s, long *files)
{
    amt_notes ext;
    int rc = amt_notes_pedal_extend(ns, ped, nped, &ext);
    if (rc) return rc;
    float *pcm = NULL;
    long nf = 0;
    rc = amt_render(r, ns, ped, nped, o, &pcm, &nf);
    char path[4096];
    if (!rc) { snprintf(path, sizeof path, "%s.wav", base); rc = amt_synth_write_wav(path, pcm, nf, MAPS_RATE); }
    if (!rc) { snprintf(path, sizeof path, "%s.txt", base); rc = amt_notes_write_tsv(path, &ext); }
    if (!rc) { snprintf(path, sizeof path, "%s.mid", base); rc = amt_midi_write(path, &ext, NULL); }
    if (!rc) { *audio_s += nf / (double)MAPS_RATE; *files += 1; }
    free(pcm);
    amt_notes_free(&ext);
    return rc;
}

static int push(amt_notes *ns, double on, double off, int pitch, int vel)
{
    amt_note n = amt_note_make(on, off, pitch);
    n.velocity = vel < 1 ? 1 : vel > 127 ? 127 : vel;
    n.program = 0;
    return amt_notes_push(ns, &n);
}

static int maps_item_fn(void *vctx, amt_renderer *r, long index, uint64_t seed, double *audio_s, long *files)
{
    maps_ctx *c = vctx;
    const maps_item *it = &c->items[index];
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    amt_render_opts o;
    amt_render_opts_random(&o, c->nfonts, &rng);
    o.chorus = 0;                                     /* a piano in a room: reverb, no chorus */
    o.reverb_level *= 0.6f;
    char piano[64], dir[2048], base[3072];
    amt_synth_maps_piano_name(c->fonts[o.font], piano, sizeof piano);
    amt_piece pc;
    amt_piece_init(&pc);
    int rc = 0, k = it->k;
    double cap = c->cfg->max_item_s > 0 ? c->cfg->max_item_s : 1e9;
    if (it->sub == SUB_MUS) {
        double secs = it->seconds;
        int use_midi = c->nmidi > 0 && (k % 2 == 1);   /* with --midi: every other MUS piece */
        char name[256];
        if (use_midi) {
            const char *mp = c->midi[amt_rng_below(&rng, (uint64_t)c->nmidi)];
            rc = amt_piece_from_midi(mp, secs, amt_rng_u64(&rng), &pc);
            const char *b = strrchr(mp, '/');
            b = b ? b + 1 : mp;
            int n = 0;
            for (const char *p = b; *p && *p != '.' && n < 40; p++) name[n++] = (*p == ' ' || *p == '/') ? '-' : *p;
            name[n] = 0;
            snprintf(name + n, sizeof name - (size_t)n, "-x%d", k);
        } else {
            amt_compose_cfg cc;
            amt_compose_defaults(&cc);
            cc.seconds = secs;
            cc.texture = AMT_TEXTURE_PIANO;
            /* spread the registers: a left-hand bass line often, a melody centred anywhere
             * from the tenor to the high treble (weighted to the middle) */
            if (amt_rng_uniform(&rng) < 0.6) cc.prog_bass = 0;
            int centre = (int)lround(72 + 9 * amt_rng_normal(&rng));
            centre = centre < 52 ? 52 : centre > 100 ? 100 : centre;
            int span = 10 + (int)amt_rng_below(&rng, 8);
            cc.lead_lo = centre - span / 2; cc.lead_hi = centre + span / 2;
            if (cc.lead_hi > 108) cc.lead_hi = 108;
            rc = amt_compose(&cc, amt_rng_u64(&rng), &pc);
            snprintf(name, sizeof name, "comp%d", k);
        }
        if (rc) { amt_piece_free(&pc); return rc; }
        for (int i = 0; i < pc.notes.n; i++) pc.notes.v[i].program = 0;
        for (int i = 0; i < pc.npedals; i++) pc.pedals[i].program = -1;
        snprintf(dir, sizeof dir, "%s/%s/MUS", c->cfg->out_dir, piano);
        snprintf(base, sizeof base, "%s/MAPS_MUS-%s_%s", dir, name, piano);
        o.length_s = secs + 1.0;
    } else if (it->sub == SUB_ISOL) {
        int pitch = 21 + k % 88, loud = (k / 88) % 3, sus = (k / 264) % 2, type = (k / 528) % 3;
        int v0 = LOUD_VEL[loud][0], v1 = LOUD_VEL[loud][1];
        double t = MAPS_LEAD_S;
        if (type == 0) {
            double d = fmin(0.4 + 1.6 * amt_rng_uniform(&rng), cap - 1.2);
            rc = push(&pc.notes, t, t + fmax(d, 0.1), pitch, v0 + (int)amt_rng_below(&rng, (uint64_t)(v1 - v0 + 1)));
            t += fmax(d, 0.1);
        } else if (type == 1) {
            int nrep = 3 + (int)amt_rng_below(&rng, 5);
            double ioi = 0.15 + 0.25 * amt_rng_uniform(&rng);
            for (int i = 0; i < nrep && !rc && t + ioi < cap - 0.8; i++, t += ioi)
                rc = push(&pc.notes, t, t + ioi * 0.7, pitch, v0 + (int)amt_rng_below(&rng, (uint64_t)(v1 - v0 + 1)));
        } else {
            int nrun = 6 + (int)amt_rng_below(&rng, 10), dirn = pitch > 96 ? -1 : pitch < 33 ? 1 : (amt_rng_uniform(&rng) < 0.5 ? 1 : -1);
            double ioi = 0.1 + 0.15 * amt_rng_uniform(&rng);
            for (int i = 0, p = pitch; i < nrun && !rc && p >= 21 && p <= 108 && t + ioi < cap - 0.8; i++, p += dirn, t += ioi)
                rc = push(&pc.notes, t, t + ioi * 0.9, p, v0 + (int)amt_rng_below(&rng, (uint64_t)(v1 - v0 + 1)));
        }
        if (!rc && sus) rc = amt_piece_add_pedal(&pc, 0.2, t + 0.3, -1);
        snprintf(dir, sizeof dir, "%s/%s/ISOL/%s", c->cfg->out_dir, piano, ISOL_TYPES[type]);
        if (k < 1584) snprintf(base, sizeof base, "%s/MAPS_ISOL_%s_%c_S%d_M%d_%s", dir, ISOL_TYPES[type], LOUD[loud], sus, pitch, piano);
        else snprintf(base, sizeof base, "%s/MAPS_ISOL_%s_%c_S%d_M%d_n%d_%s", dir, ISOL_TYPES[type], LOUD[loud], sus, pitch, k, piano);
        o.length_s = t + 0.6 + (sus ? 0.3 : 0);
    } else {
        const int *rg = RANGES[amt_rng_below(&rng, NRANGES)];
        int sus = amt_rng_uniform(&rng) < 0.3;
        double d = fmin(0.4 + 1.4 * amt_rng_uniform(&rng), cap - 1.2);
        if (d < 0.1) d = 0.1;
        double t = MAPS_LEAD_S;
        char chordname[64] = "";
        if (it->sub == SUB_RAND) {
            int P = 2 + k % 6, used[128] = {0};
            for (int i = 0; i < P && !rc; i++) {
                int p;
                do p = rg[0] + (int)amt_rng_below(&rng, (uint64_t)(rg[1] - rg[0] + 1)); while (used[p]);
                used[p] = 1;
                rc = push(&pc.notes, t, t + d, p, 30 + (int)amt_rng_below(&rng, 81));
            }
            snprintf(dir, sizeof dir, "%s/%s/RAND/P%d", c->cfg->out_dir, piano, P);
            snprintf(base, sizeof base, "%s/MAPS_RAND_P%d_M_I%d-%d_S%d_n%d_%s", dir, P, rg[0], rg[1], sus, k, piano);
        } else {
            const int *ch = UCHORDS[k % NUCHORDS];
            int top = 0, n = 0;
            while (n < 5 && ch[n] >= 0) { if (ch[n] > top) top = ch[n]; n++; }
            int root = rg[0] + (int)amt_rng_below(&rng, (uint64_t)(rg[1] - rg[0] - top > 0 ? rg[1] - rg[0] - top + 1 : 1));
            int v = 30 + (int)amt_rng_below(&rng, 81), len = 0;
            for (int i = 0; i < n && !rc; i++) {
                rc = push(&pc.notes, t, t + d, root + ch[i], v + (int)amt_rng_below(&rng, 9) - 4);
                len += snprintf(chordname + len, sizeof chordname - (size_t)len, "%s%d", i ? "-" : "", ch[i]);
            }
            snprintf(dir, sizeof dir, "%s/%s/UCHO/I%d-%d", c->cfg->out_dir, piano, rg[0], rg[1]);
            snprintf(base, sizeof base, "%s/MAPS_UCHO_C%s_I%d-%d_S%d_n%d_%s", dir, chordname, rg[0], rg[1], sus, k, piano);
        }
        t += d;
        if (!rc && sus) rc = amt_piece_add_pedal(&pc, 0.2, t + 0.3, -1);
        o.length_s = t + 0.6 + (sus ? 0.3 : 0);
    }
    if (!rc) rc = amt_synth_mkdirs(dir);
    if (!rc) { amt_notes_sort(&pc.notes); rc = write_item(r, base, &pc.notes, pc.pedals, pc.npedals, &o, audio_s, files); }
    amt_piece_free(&pc);
    return rc;
}

int amt_synth_maps(const amt_synth_cfg *cfg, amt_synth_stats *st)
{
    memset(st, 0, sizeof *st);
    maps_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.nfonts = amt_synth_resolve_fonts(cfg, c.fonts);
    if (c.nfonts < 0) return c.nfonts;
    int rc = 0;
    if (cfg->midi_dir) {
        rc = list_midi(cfg->midi_dir, &c.midi, &c.nmidi, 0);
        if (!rc && c.nmidi == 0) rc = amt_error(AMT_EIO, "%s: no .mid files found", cfg->midi_dir);
        if (!rc) qsort(c.midi, (size_t)c.nmidi, sizeof *c.midi, cmp_str);
    }
    /* plan: subsets by a fixed cycle (MUS gets most of the audio time) */
    static const int CYCLE[] = {SUB_MUS, SUB_ISOL, SUB_RAND, SUB_UCHO, SUB_ISOL, SUB_RAND, SUB_UCHO, SUB_ISOL};
    const int NCYC = (int)(sizeof CYCLE / sizeof CYCLE[0]);
    double target = cfg->minutes * 60;
    long cap_items = cfg->count > 0 ? cfg->count : (long)(target / 4) + 16;
    if (!rc && (cap_items <= 0 || cap_items > 10000000)) rc = amt_error(AMT_EINVAL, "maps: %ld files requested", cap_items);
    if (!rc && !(c.items = calloc((size_t)cap_items, sizeof *c.items))) rc = amt_error(AMT_ENOMEM, "maps: out of memory");
    long n = 0;
    double total = 0;
    int kcount[4] = {0, 0, 0, 0};
    amt_rng prng;
    amt_rng_seed(&prng, amt_hash64(cfg->seed ^ 0x4d415053ull));
    double cap = cfg->max_item_s > 0 ? cfg->max_item_s : 1e9;
    while (!rc && n < cap_items && (cfg->count > 0 || total < target)) {
        maps_item *it = &c.items[n];
        it->sub = CYCLE[n % NCYC];
        it->k = kcount[it->sub]++;
        it->seconds = it->sub == SUB_MUS ? MAPS_MUS_MIN_S + (MAPS_MUS_MAX_S - MAPS_MUS_MIN_S) * amt_rng_uniform(&prng) : MAPS_SHORT_S;
        if (it->seconds > cap) it->seconds = cap;
        total += it->seconds + (it->sub == SUB_MUS ? 1 : 0);
        n++;
    }
    if (!rc) rc = amt_synth_run(cfg, MAPS_RATE, n, MAPS_KIND, maps_item_fn, &c, st);
    for (int i = 0; i < c.nmidi; i++) free(c.midi[i]);
    free(c.midi);
    free(c.items);
    return rc;
}
