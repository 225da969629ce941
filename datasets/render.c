/* datasets/render.c: libfluidsynth offline renderer (see render.h). */
#include "datasets/render.h"

#include <fluidsynth.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define RENDER_BLOCK 64             /* fluidsynth's internal block: events land on its edges */
#define SYNTH_GAIN 1.0              /* fluidsynth master gain before our own gain */
#define PEAK_LIMIT 0.98f            /* output scaled down if it would exceed this */
#define BEND_RANGE 12               /* pitch-wheel sensitivity (semitones) on the voice channel */
#define VIB_ONSET_S 0.18            /* vibrato fades in over this time after a note starts */
#define GLIDE_GAP_S 0.12            /* a glide is drawn only from a note that ended this recently */
#define DRUM_CHANNEL 9
#define RENDER_CHUNK (RENDER_BLOCK * 256) /* most frames per fluid_synth_write_float call */
#define RENDER_POLYPHONY 128        /* voices (a note takes 1-4); oldest released voices are stolen */
#define QUIESCE_MAX_BLOCKS 16        /* silent blocks rendered after a reset, at most */

struct amt_renderer {
    fluid_settings_t *settings;
    fluid_synth_t *synth;
    int font_id[AMT_RENDER_MAX_FONTS];
    char *path[AMT_RENDER_MAX_FONTS];
    fluid_synth_t *work;    /* synth of the current session (NULL after a reset) */
    int work_font, work_sfid;
    int nfonts;
    int rate;
};

static void quiet_log(int level, const char *msg, void *data) { (void)level; (void)msg; (void)data; }

static void silence_fluid(void)
{
    fluid_set_log_function(FLUID_PANIC, quiet_log, NULL);
    fluid_set_log_function(FLUID_ERR, quiet_log, NULL);
    fluid_set_log_function(FLUID_WARN, quiet_log, NULL);
    fluid_set_log_function(FLUID_INFO, quiet_log, NULL);
    fluid_set_log_function(FLUID_DBG, quiet_log, NULL);
}

amt_renderer *amt_renderer_new(const char *const *paths, int n, int rate)
{
    if (n < 1 || n > AMT_RENDER_MAX_FONTS) {
        amt_error(AMT_EINVAL, "renderer: %d soundfonts given (1..%d allowed)", n, AMT_RENDER_MAX_FONTS);
        return NULL;
    }
    if (rate < 8000 || rate > 192000) {
        amt_error(AMT_EINVAL, "renderer: sample rate %d Hz out of range [8000, 192000]", rate);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        char magic[12] = {0};
        if (!f) { amt_error(AMT_EIO, "%s: cannot open soundfont", paths[i]); return NULL; }
        size_t got = fread(magic, 1, sizeof magic, f);
        fclose(f);
        if (got < 12 || memcmp(magic, "RIFF", 4) || memcmp(magic + 8, "sfbk", 4)) {
            amt_error(AMT_EFORMAT, "%s: not a SoundFont (.sf2/.sf3) file", paths[i]);
            return NULL;
        }
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, silence_fluid);
    amt_renderer *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "renderer: out of memory"); return NULL; }
    r->rate = rate;
    r->settings = new_fluid_settings();
    if (!r->settings) { free(r); amt_error(AMT_ENOMEM, "renderer: fluidsynth settings failed"); return NULL; }
    fluid_settings_setnum(r->settings, "synth.sample-rate", rate);
    fluid_settings_setint(r->settings, "synth.polyphony", RENDER_POLYPHONY);
    fluid_settings_setint(r->settings, "synth.lock-memory", 0);
    fluid_settings_setint(r->settings, "synth.threadsafe-api", 0);
    fluid_settings_setint(r->settings, "synth.cpu-cores", 1);
    fluid_settings_setint(r->settings, "synth.midi-channels", 16);
    fluid_settings_setint(r->settings, "synth.reverb.active", 0);
    fluid_settings_setint(r->settings, "synth.chorus.active", 0);
    fluid_settings_setnum(r->settings, "synth.gain", SYNTH_GAIN);
    r->synth = new_fluid_synth(r->settings);
    if (!r->synth) {
        delete_fluid_settings(r->settings); free(r);
        amt_error(AMT_EINTERNAL, "renderer: cannot create a fluidsynth synth");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        int id = fluid_synth_sfload(r->synth, paths[i], 0);
        if (id == FLUID_FAILED) {
            amt_renderer_free(r);
            amt_error(AMT_EFORMAT, "%s: fluidsynth cannot load this soundfont", paths[i]);
            return NULL;
        }
        r->path[r->nfonts] = strdup(paths[i]);
        r->font_id[r->nfonts++] = id;
    }
    return r;
}

void amt_renderer_free(amt_renderer *r)
{
    if (!r) return;
    if (r->work) delete_fluid_synth(r->work);
    if (r->synth) delete_fluid_synth(r->synth);
    for (int i = 0; i < r->nfonts; i++) free(r->path[i]);
    if (r->settings) delete_fluid_settings(r->settings);
    free(r);
}

void amt_renderer_reset(amt_renderer *r)
{
    if (r->work) delete_fluid_synth(r->work);
    r->work = NULL;
}

int amt_renderer_rate(const amt_renderer *r) { return r->rate; }
int amt_renderer_nfonts(const amt_renderer *r) { return r->nfonts; }

int amt_renderer_has_program(const amt_renderer *r, int font, int program)
{
    if (font < 0 || font >= r->nfonts) return 0;
    fluid_sfont_t *sf = fluid_synth_get_sfont_by_id(r->synth, r->font_id[font]);
    if (!sf) return 0;
    int bank = program == AMT_PROGRAM_DRUMS ? 128 : 0;
    return fluid_sfont_get_preset(sf, bank, program == AMT_PROGRAM_DRUMS ? 0 : program) != NULL;
}

void amt_render_opts_default(amt_render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gain = 1.0f;
    o->noise_db = -200.0f;
    o->expr_program = -1;
    o->tail_s = 1.0;
}

void amt_render_opts_random(amt_render_opts *o, int nfonts, amt_rng *rng)
{
    amt_render_opts_default(o);
    o->font = nfonts > 1 ? (int)amt_rng_below(rng, (uint64_t)nfonts) : 0;
    o->gain = (float)(0.5 + 0.7 * amt_rng_uniform(rng));
    o->reverb = amt_rng_uniform(rng) < 0.7;
    o->reverb_room = (float)(0.1 + 0.8 * amt_rng_uniform(rng));
    o->reverb_damp = (float)(0.1 + 0.6 * amt_rng_uniform(rng));
    o->reverb_width = (float)(0.5 + 10 * amt_rng_uniform(rng));
    o->reverb_level = (float)(0.1 + 0.6 * amt_rng_uniform(rng));
    o->chorus = amt_rng_uniform(rng) < 0.4;
    o->chorus_level = (float)(0.5 + 1.5 * amt_rng_uniform(rng));
    o->chorus_depth_ms = (float)(2 + 8 * amt_rng_uniform(rng));
    o->chorus_speed_hz = (float)(0.2 + 0.8 * amt_rng_uniform(rng));
    o->noise_db = (float)(-60 + 20 * amt_rng_uniform(rng));
    o->seed = amt_rng_u64(rng);
}

/* Silences the synth: all voices off, controllers and effects reset, then a few silent
 * blocks until no voice is left and the output is zero (bounded: a reverb tail may
 * leave tiny values; within a session that is deterministic anyway). */
static void quiesce(fluid_synth_t *s)
{
    float junk[2 * RENDER_BLOCK];
    fluid_synth_all_sounds_off(s, -1);
    fluid_synth_system_reset(s);
    int zero_run = 0;
    for (int k = 0; k < QUIESCE_MAX_BLOCKS && zero_run < 2; k++) {
        fluid_synth_write_float(s, RENDER_BLOCK, junk, 0, 2, junk, 1, 2);
        int z = fluid_synth_get_active_voice_count(s) == 0;
        for (int i = 0; i < 2 * RENDER_BLOCK && z; i++) z = junk[i] == 0.0f;
        zero_run = z ? zero_run + 1 : 0;
    }
}

/* ---- events ---- */
enum { EV_PEDAL_UP = 0, EV_OFF = 1, EV_PROG = 2, EV_PEDAL_DOWN = 3, EV_ON = 4 };
typedef struct ev { long at; int kind, chan, a, b, note; } ev;

static int ev_cmp(const void *x, const void *y)
{
    const ev *p = x, *q = y;
    if (p->at != q->at) return p->at < q->at ? -1 : 1;
    if (p->kind != q->kind) return p->kind - q->kind;
    if (p->chan != q->chan) return p->chan - q->chan;
    return p->a - q->a;
}

/* Selects `program` on channel chan from font, falling back to the family's first
 * program, then to program 0, when the font lacks it. */
static void select_program(fluid_synth_t *s, int sfid, int chan, int program)
{
    fluid_sfont_t *sf = fluid_synth_get_sfont_by_id(s, sfid);
    if (program == AMT_PROGRAM_DRUMS) {
        fluid_synth_program_select(s, chan, sfid, 128, 0);
        return;
    }
    int cand[3] = {program, program & ~7, 0};
    for (int i = 0; i < 3; i++)
        if (sf && fluid_sfont_get_preset(sf, 0, cand[i])) {
            fluid_synth_program_select(s, chan, sfid, 0, cand[i]);
            return;
        }
}

int amt_render(amt_renderer *r, const amt_notes *ns, const amt_pedal *pedals, int npedals,
               const amt_render_opts *o, float **out, long *frames)
{
    *out = NULL; *frames = 0;
    if (o->font < 0 || o->font >= r->nfonts)
        return amt_error(AMT_EINVAL, "render: soundfont index %d out of range (0..%d)", o->font, r->nfonts - 1);
    int chan_prog[16];
    for (int c = 0; c < 16; c++) chan_prog[c] = -1;
    int *note_chan = malloc((size_t)(ns->n > 0 ? ns->n : 1) * sizeof *note_chan);
    if (!note_chan) return amt_error(AMT_ENOMEM, "render: out of memory");
    double end = 0;
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        if (n->pitch < 0 || n->pitch > 127 || !(n->offset > n->onset) || n->onset < 0) {
            free(note_chan);
            return amt_error(AMT_EINVAL, "render: note %d invalid (pitch %d, %g..%g s)", i, n->pitch, n->onset, n->offset);
        }
        int prog = n->program < 0 ? 0 : n->program, ch = -1;
        if (prog == AMT_PROGRAM_DRUMS) ch = DRUM_CHANNEL;
        else {
            for (int c = 0; c < 16 && ch < 0; c++) if (c != DRUM_CHANNEL && chan_prog[c] == prog) ch = c;
            for (int c = 0; c < 16 && ch < 0; c++) if (c != DRUM_CHANNEL && chan_prog[c] < 0) { chan_prog[c] = prog; ch = c; }
            if (ch < 0) { free(note_chan); return amt_error(AMT_EINVAL, "render: more than 15 melodic programs"); }
        }
        if (ch == DRUM_CHANNEL) chan_prog[ch] = AMT_PROGRAM_DRUMS;
        note_chan[i] = ch;
        if (n->offset > end) end = n->offset;
    }
    for (int k = 0; k < npedals; k++) if (pedals[k].off > end) end = pedals[k].off;
    long nf = o->length_s > 0 ? (long)ceil(o->length_s * r->rate) : (long)ceil((end + o->tail_s) * r->rate);
    if (nf < RENDER_BLOCK) nf = RENDER_BLOCK;
    /* render whole fluidsynth blocks so its internal buffer is empty at the end (the next
     * render then starts block-aligned); the padding is cut off below */
    long nf_out = nf;
    nf = (nf + RENDER_BLOCK - 1) / RENDER_BLOCK * RENDER_BLOCK;

    /* event list */
    int cap = 2 * ns->n + 2 * 16 * npedals + 16;
    ev *evs = malloc((size_t)cap * sizeof *evs);
    float *buf = calloc((size_t)nf * 2, sizeof *buf);
    if (!evs || !buf) { free(evs); free(buf); free(note_chan); return amt_error(AMT_ENOMEM, "render: out of memory for %ld frames", nf); }
    int ne = 0;
    for (int c = 0; c < 16; c++) if (chan_prog[c] >= 0) evs[ne++] = (ev){0, EV_PROG, c, chan_prog[c], 0, -1};
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        int v = n->velocity < 1 ? 1 : n->velocity > 127 ? 127 : n->velocity;
        evs[ne++] = (ev){lround(n->onset * r->rate), EV_ON, note_chan[i], n->pitch, v, i};
        evs[ne++] = (ev){lround(n->offset * r->rate), EV_OFF, note_chan[i], n->pitch, 0, i};
    }
    for (int k = 0; k < npedals; k++)
        for (int c = 0; c < 16; c++) {
            if (chan_prog[c] < 0 || c == DRUM_CHANNEL) continue;
            if (pedals[k].program >= 0 && pedals[k].program != chan_prog[c]) continue;
            evs[ne++] = (ev){lround(pedals[k].on * r->rate), EV_PEDAL_DOWN, c, 127, 0, -1};
            evs[ne++] = (ev){lround(pedals[k].off * r->rate), EV_PEDAL_UP, c, 0, 0, -1};
        }
    qsort(evs, (size_t)ne, sizeof *evs, ev_cmp);

    /* the work synth: fresh after amt_renderer_reset or a change of soundfont.
     * fluidsynth keeps voice and effect state (reverb modulation, voice slots) across
     * system resets, so only a new synth makes a render independent of earlier ones.
     * The soundfont's samples stay in fluidsynth's process-wide sample cache (held by
     * the keeper synth), so loading it again takes milliseconds. */
    if (!r->work || r->work_font != o->font) {
        if (r->work) delete_fluid_synth(r->work);
        r->work = new_fluid_synth(r->settings);
        r->work_sfid = r->work ? fluid_synth_sfload(r->work, r->path[o->font], 0) : FLUID_FAILED;
        if (r->work_sfid == FLUID_FAILED) {
            if (r->work) delete_fluid_synth(r->work);
            r->work = NULL;
            free(evs); free(buf); free(note_chan);
            return amt_error(AMT_EINTERNAL, "%s: fluidsynth cannot reload this soundfont", r->path[o->font]);
        }
        r->work_font = o->font;
    }
    fluid_synth_t *s = r->work;
    int sfid = r->work_sfid;
    quiesce(s);
    fluid_synth_reverb_on(s, -1, o->reverb);
    fluid_synth_chorus_on(s, -1, o->chorus);
    if (o->reverb) {
        fluid_synth_set_reverb_group_roomsize(s, -1, o->reverb_room);
        fluid_synth_set_reverb_group_damp(s, -1, o->reverb_damp);
        fluid_synth_set_reverb_group_width(s, -1, o->reverb_width);
        fluid_synth_set_reverb_group_level(s, -1, o->reverb_level);
    }
    if (o->chorus) {
        fluid_synth_set_chorus_group_nr(s, -1, 3);
        fluid_synth_set_chorus_group_level(s, -1, o->chorus_level);
        fluid_synth_set_chorus_group_depth(s, -1, o->chorus_depth_ms);
        fluid_synth_set_chorus_group_speed(s, -1, o->chorus_speed_hz < 0.1f ? 0.1f : o->chorus_speed_hz);
    }
    quiesce(s);

    /* expressive (voice) channel */
    int expr_chan = -1;
    for (int c = 0; c < 16; c++) if (o->expr_program >= 0 && chan_prog[c] == o->expr_program && c != DRUM_CHANNEL) expr_chan = c;
    if (expr_chan >= 0) fluid_synth_pitch_wheel_sens(s, expr_chan, BEND_RANGE);
    amt_rng rng;
    amt_rng_seed(&rng, o->seed);
    double vib_phase = 2 * M_PI * amt_rng_uniform(&rng);
    double vib_rate = o->vibrato_hz;
    int cur_note = -1, prev_note = -1;      /* indices of the current/previous voice notes */
    double glide_from = 0;                  /* semitones offset at the current note's start */

    int ei = 0;
    long pos = 0;
    while (pos < nf) {
        while (ei < ne && evs[ei].at < pos + RENDER_BLOCK / 2) {
            ev *e = &evs[ei++];
            switch (e->kind) {
            case EV_PROG: select_program(s, sfid, e->chan, e->a); break;
            case EV_PEDAL_DOWN: fluid_synth_cc(s, e->chan, 64, 127); break;
            case EV_PEDAL_UP: fluid_synth_cc(s, e->chan, 64, 0); break;
            case EV_OFF:
                fluid_synth_noteoff(s, e->chan, e->a);
                if (e->chan == expr_chan && e->note == cur_note) { prev_note = cur_note; cur_note = -1; }
                break;
            case EV_ON:
                if (e->chan == expr_chan) {
                    glide_from = 0;
                    if (prev_note >= 0 && o->glide_s > 0 &&
                        ns->v[e->note].onset - ns->v[prev_note].offset < GLIDE_GAP_S) {
                        glide_from = ns->v[prev_note].pitch - ns->v[e->note].pitch;
                        if (glide_from > BEND_RANGE) glide_from = BEND_RANGE;
                        if (glide_from < -BEND_RANGE) glide_from = -BEND_RANGE;
                    }
                    cur_note = e->note;
                }
                fluid_synth_noteon(s, e->chan, e->a, e->b);
                break;
            }
        }
        if (expr_chan >= 0) {
            double semis = 0, t = pos / (double)r->rate;
            if (cur_note >= 0) {
                double since = t - ns->v[cur_note].onset;
                if (o->glide_s > 0 && since < o->glide_s) semis += glide_from * (1 - since / o->glide_s) * (1 - since / o->glide_s);
                double fade = since < VIB_ONSET_S ? since / VIB_ONSET_S : 1;
                semis += fade * o->vibrato_cents / 100.0 * sin(2 * M_PI * vib_rate * t + vib_phase);
            }
            int bend = 8192 + (int)lround(semis / BEND_RANGE * 8192);
            bend = bend < 0 ? 0 : bend > 16383 ? 16383 : bend;
            fluid_synth_pitch_bend(s, expr_chan, bend);
        }
        /* render up to the block where the next event lands (one block at a time while a
         * voice channel needs its pitch bend updated): few calls, same output */
        long next = nf;
        if (expr_chan >= 0) next = pos + RENDER_BLOCK;
        else if (ei < ne) {
            long at = evs[ei].at - RENDER_BLOCK / 2 + 1;
            long eb = at <= 0 ? 0 : (at + RENDER_BLOCK - 1) / RENDER_BLOCK * RENDER_BLOCK;
            if (eb < next) next = eb;
        }
        if (next <= pos) next = pos + RENDER_BLOCK;
        if (next > nf) next = nf;
        if (next - pos > RENDER_CHUNK) next = pos + RENDER_CHUNK;
        fluid_synth_write_float(s, (int)(next - pos), buf + 2 * pos, 0, 2, buf + 2 * pos, 1, 2);
        pos = next;
    }
    free(evs);
    free(note_chan);
    nf = nf_out;

    /* gain, noise (relative to the signal's RMS), peak limit */
    float peak = 0;
    double rms = 0;
    for (long i = 0; i < 2 * nf; i++) rms += (double)buf[i] * buf[i];
    rms = sqrt(rms / (2.0 * nf));
    double nstd = o->noise_db > -150 ? rms * pow(10.0, o->noise_db / 20.0) : 0;
    for (long i = 0; i < 2 * nf; i++) {
        float v = buf[i];
        if (nstd > 0) v += (float)(nstd * amt_rng_normal(&rng));
        v *= o->gain;
        buf[i] = v;
        float a = fabsf(v);
        if (a > peak) peak = a;
    }
    if (peak > PEAK_LIMIT) {
        float sc = PEAK_LIMIT / peak;
        for (long i = 0; i < 2 * nf; i++) buf[i] *= sc;
    }
    *out = buf;
    *frames = nf;
    return AMT_OK;
}
