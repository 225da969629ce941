/* datasets/synth.h: rendering whole datasets in the on-disk layouts of MAPS, MIR-1K and
 * IRMAS (amt-synth). Every file is determined by (seed, kind, file index) alone, so the
 * output is the same for a seed whatever the thread count. Files are rendered in
 * parallel with OpenMP, one fluidsynth renderer (soundfonts loaded once) per thread.
 *
 * Layouts written (DIR = cfg.out_dir):
 *   maps:  DIR/<Piano>/{ISOL/<NO|RE|CH>, RAND/P<k>, UCHO/I<lo>-<hi>, MUS}/MAPS_*_<Piano>.{wav,txt,mid}
 *          44.1 kHz 16-bit stereo; .txt "OnsetTime\tOffsetTime\tMidiPitch" with offsets
 *          extended by the sustain pedal; <Piano> = "Syn" + the soundfont's name.
 *   mir1k: DIR/Wavfile/<singer>_<song>_<clip>.wav, 16 kHz 16-bit stereo, left =
 *          accompaniment, right = singing voice, 4..13 s.
 *   irmas: DIR/IRMAS-TrainingData/<cls>/[cls][dru|nod][genre]NNNN__K.wav (3 s, 44.1 kHz,
 *          16-bit stereo) and DIR/IRMAS-TestingData-Part1/NAME.{wav,txt}. */
#ifndef AMT_SYNTH_H
#define AMT_SYNTH_H

#include <stdint.h>
#include "datasets/render.h"

typedef void (*amt_synth_progress_fn)(void *ud, long done, long total, double audio_s);

typedef struct amt_synth_cfg {
    const char *out_dir;
    double minutes;       /* audio to render (minutes); used when count == 0 */
    long count;           /* number of (training) files; 0 = from minutes */
    uint64_t seed;
    const char *fonts[AMT_RENDER_MAX_FONTS];  /* soundfonts (nfonts 0 = FluidR3 + TimGM6mb) */
    int nfonts;
    const char *midi_dir; /* maps: also MUS excerpts of these .mid files (NULL = composer only) */
    double max_item_s;    /* cap on one file's length (0 = the layout's natural lengths) */
    int threads;          /* 0 = OpenMP default */
    amt_synth_progress_fn progress;  /* called under a lock after each file (may be NULL) */
    void *progress_ud;
} amt_synth_cfg;

typedef struct amt_synth_stats {
    long files;           /* audio files written */
    double audio_s;       /* seconds of audio rendered */
    double wall_s;        /* wall-clock seconds */
} amt_synth_stats;

void amt_synth_defaults(amt_synth_cfg *cfg);
int amt_synth_maps(const amt_synth_cfg *cfg, amt_synth_stats *st);
int amt_synth_mir1k(const amt_synth_cfg *cfg, amt_synth_stats *st);
int amt_synth_irmas(const amt_synth_cfg *cfg, amt_synth_stats *st);

/* One IRMAS-style example: classes[0..nclasses-1] (indices in cel cla flu gac gel org pia
 * sax tru vio voi order) lead, 6..12 dB above an accompaniment of other instruments
 * (+ drums when drums = 1), secs long, at the renderer's rate. *mix = lead + acc (stereo
 * interleaved, peak-normalised to 0.3..0.9); *lead and *acc (may be NULL) the two stems
 * at the same scale. All malloc'd. Deterministic for seed (after amt_renderer_reset). */
int amt_synth_irmas_example(amt_renderer *r, const int *classes, int nclasses, double secs, int drums, uint64_t seed,
                            float **mix, float **lead, float **acc, long *frames);

/* MAPS piano folder name for a soundfont path: "Syn" + its alphanumeric basename
 * (without extension, at most 16 characters), e.g. "SynFluidR3GM". */
void amt_synth_maps_piano_name(const char *font_path, char *out, int cap);

/* ---- shared machinery of the synth_*.c files ---- */
/* Renders item `index` (seed = its own seed) with renderer r; adds the seconds of audio
 * written to *audio_s and the files to *files. */
typedef int (*amt_synth_item_fn)(void *ctx, amt_renderer *r, long index, uint64_t seed, double *audio_s, long *files);
/* Runs items 0..nitems-1 in parallel (renderers at `rate` Hz); first error wins. */
int amt_synth_run(const amt_synth_cfg *cfg, int rate, long nitems, uint64_t kind,
                  amt_synth_item_fn fn, void *ctx, amt_synth_stats *st);
/* The soundfonts to use: cfg->fonts, or the defaults (FluidR3, TimGM6mb) that exist.
 * Returns the count (>= 1) or a negative error. */
int amt_synth_resolve_fonts(const amt_synth_cfg *cfg, const char **fonts);
/* mkdir -p; error names the directory. */
int amt_synth_mkdirs(const char *path);
/* Writes interleaved stereo float as 16-bit WAV at rate, creating parent folders. */
int amt_synth_write_wav(const char *path, const float *st, long frames, int rate);
/* RMS of n floats with a stride. */
double amt_synth_rms(const float *x, long n, int stride);

#endif
