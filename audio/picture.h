/* audio/picture.h: PNG pictures for looking at what a stage did: an RGB image object,
 * spectrograms (log magnitude in dB through the magma colour map, low frequencies at
 * the bottom, optional tick lines), piano rolls (reference vs estimate in two colours),
 * notes drawn over a spectrogram, and panels side by side. Images are 8-bit RGB, row 0
 * at the top; all drawing clips to the image. PNGs via libpng, written to a temporary
 * file renamed into place. */
#ifndef AMT_PICTURE_H
#define AMT_PICTURE_H

#include "notes.h"

typedef struct amt_image {
    int w, h;
    unsigned char *rgb;   /* w * h * 3 bytes, row-major from the top, owned */
} amt_image;

#define AMT_IMAGE_MAX_SIDE 32768

/* Allocates a w x h image filled with bg (NULL = black). */
int amt_image_init(amt_image *im, int w, int h, const unsigned char bg[3]);
void amt_image_free(amt_image *im);
/* Sets one pixel (ignored outside the image). */
void amt_image_set(amt_image *im, int x, int y, const unsigned char rgb[3]);
/* Blends rgb over the half-open rectangle [x0, x1) x [y0, y1) with opacity alpha
 * (1 = opaque); clipped to the image. */
void amt_image_fill_rect(amt_image *im, int x0, int y0, int x1, int y1, const unsigned char rgb[3], float alpha);
int amt_image_write_png(const amt_image *im, const char *path);
/* Reads any 8/16-bit PNG (grey, palette, RGB, with or without alpha) as 8-bit RGB. */
int amt_image_read_png(const char *path, amt_image *out);

/* Magma colour map (matplotlib's, 17 knots interpolated linearly); x in [0, 1], clamped. */
void amt_colormap_magma(float x, unsigned char rgb[3]);

typedef struct amt_spec_picture_opts {
    float top_db;          /* dynamic range shown below the maximum, dB (0 = 80) */
    int is_db;             /* 1: values are already log/dB (used as they are) */
    int xscale, yscale;    /* pixels per frame / per bin (0 = 1) */
    const float *bin_hz;   /* centre frequency of each bin, increasing (NULL: no ticks) */
    const float *tick_hz;  /* frequencies that get a tick line (needs bin_hz) */
    int ntick_hz;
    float frames_per_sec;  /* > 0: a tick at every second along the bottom */
} amt_spec_picture_opts;

/* mag: frames x bins magnitudes (frame-major, linear unless is_db). dB = 20 log10(max(
 * mag, 1e-10)), mapped from [max - top_db, max] to the colour map. out (initialised
 * here) is frames*xscale wide and bins*yscale high, bin 0 at the bottom. opt may be NULL. */
int amt_picture_spectrogram(amt_image *out, const float *mag, int frames, int bins, const amt_spec_picture_opts *opt);

typedef struct amt_roll_picture_opts {
    double px_per_sec;     /* 0 = 100 */
    int px_per_key;        /* 0 = 4 */
    int lo, hi;            /* MIDI pitch range shown (0, 0 = 21..108) */
    double duration;       /* seconds shown (0 = up to the last offset) */
} amt_roll_picture_opts;

/* Colours used by the piano roll picture. */
extern const unsigned char AMT_COLOR_REF[3], AMT_COLOR_EST[3], AMT_COLOR_BOTH[3];

/* Piano roll over time: notes as bars, high pitches at the top, a grey line under every
 * C. ref notes green, est notes red, cells covered by both yellow; either list may be
 * NULL. out is initialised here. */
int amt_picture_pianoroll(amt_image *out, const amt_notes *ref, const amt_notes *est, const amt_roll_picture_opts *opt);

/* Draws notes over a spectrogram picture made by amt_picture_spectrogram with the same
 * bin_hz and yscale: a note spans pitch -+ half a semitone in frequency (at least one
 * pixel) and [onset, offset) * px_per_sec in x. filled = 0 draws outlines (e.g. ground
 * truth), 1 a half-transparent fill (e.g. the estimate). */
int amt_picture_overlay_notes(amt_image *im, const amt_notes *ns, double px_per_sec, const float *bin_hz, int bins,
                              int yscale, const unsigned char rgb[3], int filled);

/* Panels side by side (hstack) or one above the other (vstack), gap pixels of bg
 * between them, aligned at the top / left. out is initialised here. */
int amt_picture_hstack(amt_image *out, const amt_image *panels, int n, int gap, const unsigned char bg[3]);
int amt_picture_vstack(amt_image *out, const amt_image *panels, int n, int gap, const unsigned char bg[3]);

#endif
