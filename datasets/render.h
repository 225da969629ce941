/* datasets/render.h: offline rendering of note lists with libfluidsynth.
 * A renderer holds a set of soundfonts loaded once (slow: FluidR3 ~0.2 s) in a keeper
 * synth at a fixed sample rate. Renders run on a driverless work synth with one
 * soundfont, made fresh (reloaded from fluidsynth's process-wide sample cache, ~10-30
 * ms) after amt_renderer_reset() or when the soundfont changes. fluidsynth keeps voice
 * and effect state across its own resets, so: the output of a sequence of renders
 * started by amt_renderer_reset() depends only on their inputs (notes, pedals, options,
 * seeds), bit for bit, never on what was rendered before the reset. Call it before each
 * independent item. One renderer per thread (not shared). Times in seconds. */
#ifndef AMT_RENDER_H
#define AMT_RENDER_H

#include <stdint.h>
#include "audio/notes.h"
#include "datasets/composer.h"
#include "core/rng.h"

#define AMT_SF_FLUIDR3 "/usr/share/sounds/sf2/FluidR3_GM.sf2"
#define AMT_SF_TIMGM6MB "/usr/share/sounds/sf2/TimGM6mb.sf2"
/* Reserved as an unseen test soundfont: never render training data with it. */
#define AMT_SF_CSOUND_TEST "/usr/share/sounds/sf2/sf_GMbank.sf2"
#define AMT_RENDER_MAX_FONTS 8

typedef struct amt_renderer amt_renderer;

typedef struct amt_render_opts {
    int font;              /* index of the soundfont (order given to amt_renderer_new) */
    float gain;            /* linear gain applied to the output */
    int reverb;            /* 1 = reverb on */
    float reverb_room, reverb_damp, reverb_width, reverb_level;  /* fluidsynth ranges: 0..1, 0..1, 0..100, 0..1 */
    int chorus;            /* 1 = chorus on */
    float chorus_level, chorus_depth_ms, chorus_speed_hz;
    float noise_db;        /* white noise level in dB relative to the rendered RMS (<= -150: none) */
    int expr_program;      /* GM program that gets vibrato and glides (singing voice), -1 none */
    float vibrato_cents;   /* vibrato depth (peak, cents) */
    float vibrato_hz;      /* vibrato rate */
    float glide_s;         /* duration of the pitch glide into a note from the previous one (s) */
    double tail_s;         /* extra seconds rendered after the last offset (release/reverb tail) */
    double length_s;       /* >0: output exactly this long (overrides the last offset + tail) */
    uint64_t seed;         /* noise and vibrato phase */
} amt_render_opts;

/* Loads the soundfonts (paths[0..n-1]) into a new synth at `rate` Hz. NULL on error
 * (amt_errmsg names the file that failed). Silences fluidsynth's own logging. */
amt_renderer *amt_renderer_new(const char *const *paths, int n, int rate);
void amt_renderer_free(amt_renderer *r);
/* Starts a new session: the next render runs on a fresh synth (see above). */
void amt_renderer_reset(amt_renderer *r);
int amt_renderer_rate(const amt_renderer *r);
int amt_renderer_nfonts(const amt_renderer *r);
/* 1 when soundfont `font` has a preset for GM program (bank 0, or bank 128 for drums). */
int amt_renderer_has_program(const amt_renderer *r, int font, int program);

/* Neutral options: font 0, gain 1, no reverb/chorus/noise/vibrato, 1 s tail. */
void amt_render_opts_default(amt_render_opts *o);
/* Random "room": gain in [0.5, 1.2], reverb/chorus on at random with random settings,
 * noise at -60..-40 dB below the signal, font chosen among nfonts; draws from rng. */
void amt_render_opts_random(amt_render_opts *o, int nfonts, amt_rng *rng);

/* Renders notes (program per note; 128 = drums on GM channel 10) with sustain pedal
 * (CC64) spans, to interleaved stereo float at the renderer's rate. *out is malloc'd
 * (caller frees), *frames its length. Up to 15 distinct melodic programs. */
int amt_render(amt_renderer *r, const amt_notes *ns, const amt_pedal *pedals, int npedals,
               const amt_render_opts *o, float **out, long *frames);

#endif
