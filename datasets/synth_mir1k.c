/* datasets/synth_mir1k.c: MIR-1K-layout renders: Wavfile/singer_song_clip.wav, 16 kHz
 * 16-bit stereo, left = accompaniment, right = a sung melody (see synth.h). */
#include "datasets/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define MIR1K_RATE 16000
#define MIR1K_KIND 2
#define MIR1K_MIN_S 4.0
#define MIR1K_MAX_S 13.0
#define MIR1K_CLIPS_PER_SONG 8

/* The MIR-1K singers (abjones and amy are the Huang et al. training singers). */
static const char *SINGERS[] = {
    "abjones", "amy", "annar", "ariel", "bobon", "bug", "davidson", "fdps", "geniusturtle",
    "heycat", "jmzen", "khair", "leon", "stool", "tammy", "titon", "yifen", "Ani", "Kenshin",
};
#define NSINGERS ((int)(sizeof SINGERS / sizeof SINGERS[0]))
/* Singers with a lower (male) range; the others sing an octave-ish higher. */
static int singer_low(int s) { return s == 0 || s == 4 || s == 6 || s == 7 || s == 8 || s == 10 || s == 12 || s == 13 || s == 15 || s == 18; }

static const int VOICE_PROGS[] = {52, 53, 54, 85};          /* choir aahs, voice oohs, synth voice, lead voice */
static const int CHORD_PROGS[] = {0, 1, 4, 5, 24, 25, 26, 27, 48, 49, 50, 88};
static const int BASS_PROGS[] = {32, 33, 34, 35, 38};
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct mir_ctx { const amt_synth_cfg *cfg; int nfonts; double *secs; } mir_ctx;

static void mono_of(const float *st, long n, float *out)
{
    for (long i = 0; i < n; i++) out[i] = 0.5f * (st[2 * i] + st[2 * i + 1]);
}

static int mir_item_fn(void *vctx, amt_renderer *r, long index, uint64_t seed, double *audio_s, long *files)
{
    mir_ctx *c = vctx;
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    double secs = c->secs[index];
    int singer = (int)(index % NSINGERS);
    long j = index / NSINGERS;
    int song = (int)(j / MIR1K_CLIPS_PER_SONG) + 1, clip = (int)(j % MIR1K_CLIPS_PER_SONG) + 1;
    int low = singer_low(singer);
    amt_compose_cfg cc;
    amt_compose_defaults(&cc);
    cc.seconds = secs - 0.3;
    cc.texture = AMT_TEXTURE_BAND;
    cc.prog_lead = VOICE_PROGS[amt_rng_below(&rng, NELEM(VOICE_PROGS))];
    cc.prog_chords = CHORD_PROGS[amt_rng_below(&rng, NELEM(CHORD_PROGS))];
    cc.prog_bass = amt_rng_uniform(&rng) < 0.8 ? BASS_PROGS[amt_rng_below(&rng, NELEM(BASS_PROGS))] : -1;
    cc.drums = amt_rng_uniform(&rng) < 0.5;
    cc.bpm = 60 + 80 * amt_rng_uniform(&rng);          /* songs: 60..140 bpm */
    int center = low ? 55 + (int)amt_rng_below(&rng, 6) : 64 + (int)amt_rng_below(&rng, 6);
    cc.lead_lo = center - 7; cc.lead_hi = center + 8;  /* about 1.25 octaves: a singing range */
    amt_piece pc;
    int rc = amt_compose(&cc, amt_rng_u64(&rng), &pc);
    if (rc) return rc;
    amt_notes voice, acc;
    amt_notes_init(&voice); amt_notes_init(&acc);
    for (int i = 0; i < pc.notes.n && !rc; i++)
        rc = amt_notes_push(pc.notes.v[i].program == cc.prog_lead ? &voice : &acc, &pc.notes.v[i]);
    /* the voice sings legato within phrases: stretch each note to the next if the gap is small */
    for (int i = 0; i + 1 < voice.n; i++) {
        double gap = voice.v[i + 1].onset - voice.v[i].offset;
        if (gap > 0 && gap < 0.15) voice.v[i].offset = voice.v[i + 1].onset - 0.01;
    }
    amt_render_opts o;
    amt_render_opts_random(&o, c->nfonts, &rng);
    o.length_s = secs;
    amt_render_opts ov = o;
    ov.expr_program = cc.prog_lead;
    ov.vibrato_cents = (float)(20 + 40 * amt_rng_uniform(&rng));
    ov.vibrato_hz = (float)(4.5 + 2 * amt_rng_uniform(&rng));
    ov.glide_s = (float)(0.04 + 0.1 * amt_rng_uniform(&rng));
    ov.chorus = 0;
    ov.seed = amt_rng_u64(&rng);
    float *pv = NULL, *pa = NULL, *out = NULL;
    long nv = 0, na = 0;
    if (!rc) rc = amt_render(r, &voice, NULL, 0, &ov, &pv, &nv);
    if (!rc) rc = amt_render(r, &acc, pc.pedals, pc.npedals, &o, &pa, &na);
    if (!rc && !(out = malloc((size_t)nv * 2 * sizeof *out))) rc = amt_error(AMT_ENOMEM, "mir1k: out of memory");
    if (!rc) {
        float *mv = malloc((size_t)nv * sizeof *mv), *ma = malloc((size_t)na * sizeof *ma);
        if (!mv || !ma) rc = amt_error(AMT_ENOMEM, "mir1k: out of memory");
        else {
            mono_of(pv, nv, mv); mono_of(pa, na, ma);
            /* voice-to-accompaniment ratio: -6..+6 dB around equal RMS, peaks below 0.95 */
            double rv = amt_synth_rms(mv, nv, 1), ra = amt_synth_rms(ma, na, 1);
            double target = 0.1 * pow(10, (-3 + 6 * amt_rng_uniform(&rng)) / 20);
            double gv = rv > 1e-9 ? target * pow(10, (-6 + 12 * amt_rng_uniform(&rng)) / 40) / rv : 1;
            double ga = ra > 1e-9 ? target * pow(10, -(-6 + 12 * amt_rng_uniform(&rng)) / 40) / ra : 1;
            float peak = 0;
            for (long i = 0; i < nv; i++) {
                out[2 * i] = (float)(ga * (i < na ? ma[i] : 0));
                out[2 * i + 1] = (float)(gv * mv[i]);
                if (fabsf(out[2 * i]) > peak) peak = fabsf(out[2 * i]);
                if (fabsf(out[2 * i + 1]) > peak) peak = fabsf(out[2 * i + 1]);
            }
            if (peak > 0.95f) for (long i = 0; i < 2 * nv; i++) out[i] *= 0.95f / peak;
            char path[4096];
            snprintf(path, sizeof path, "%s/Wavfile/%s_%d_%02d.wav", c->cfg->out_dir, SINGERS[singer], song, clip);
            rc = amt_synth_write_wav(path, out, nv, MIR1K_RATE);
            if (!rc) { *audio_s += nv / (double)MIR1K_RATE; *files += 1; }
        }
        free(mv); free(ma);
    }
    free(pv); free(pa); free(out);
    amt_notes_free(&voice); amt_notes_free(&acc);
    amt_piece_free(&pc);
    return rc;
}

int amt_synth_mir1k(const amt_synth_cfg *cfg, amt_synth_stats *st)
{
    memset(st, 0, sizeof *st);
    mir_ctx c = {cfg, 0, NULL};
    const char *fonts[AMT_RENDER_MAX_FONTS];
    c.nfonts = amt_synth_resolve_fonts(cfg, fonts);
    if (c.nfonts < 0) return c.nfonts;
    double target = cfg->minutes * 60, total = 0;
    long cap = cfg->count > 0 ? cfg->count : (long)(target / MIR1K_MIN_S) + 2;
    if (cap <= 0 || cap > 10000000) return amt_error(AMT_EINVAL, "mir1k: %ld files requested", cap);
    c.secs = malloc((size_t)cap * sizeof *c.secs);
    if (!c.secs) return amt_error(AMT_ENOMEM, "mir1k: out of memory");
    amt_rng prng;
    amt_rng_seed(&prng, amt_hash64(cfg->seed ^ 0x4d49524bull));
    long n = 0;
    while (n < cap && (cfg->count > 0 || total < target)) {
        double s = MIR1K_MIN_S + (MIR1K_MAX_S - MIR1K_MIN_S) * amt_rng_uniform(&prng);
        if (cfg->max_item_s > 0 && s > cfg->max_item_s) s = cfg->max_item_s;
        c.secs[n++] = s;
        total += s;
    }
    int rc = amt_synth_run(cfg, MIR1K_RATE, n, MIR1K_KIND, mir_item_fn, &c, st);
    free(c.secs);
    return rc;
}
