/* app/plot.h: small line plots into an amt_image (audio/picture.h), for training
 * curves: axes with "nice" ticks and numeric labels, a title, several series in distinct
 * colours with a legend (colour swatch + name). Text uses a built-in 3x5 pixel font
 * (digits, letters shown upper case, . - _ : / + % ( ) = , and space) scaled up. */
#ifndef AMT_TRAIN_PLOT_H
#define AMT_TRAIN_PLOT_H

#include "audio/picture.h"

#define AMT_PLOT_MAX_SERIES 16

typedef struct amt_plot_series {
    const char *name;       /* legend text */
    const double *x, *y;    /* n points; non-finite y values leave a gap in the line */
    int n;
} amt_plot_series;

/* The colour of series i (a 10-colour cycle, matplotlib's "tab10"). */
void amt_plot_color(int i, unsigned char rgb[3]);

/* Draws the series into out (initialised here, w x h pixels, white background) with the
 * y range fitted to the finite values. title/xlabel may be NULL. AMT_EINVAL on a bad
 * size or more than AMT_PLOT_MAX_SERIES series; AMT_ENOMEM. */
int amt_plot_lines(amt_image *out, int w, int h, const char *title, const char *xlabel, const amt_plot_series *s,
                   int ns);

/* Draws text with its top-left corner at (x, y), each font pixel scale x scale. Returns
 * the width drawn in pixels. Characters outside the font draw as a box. */
int amt_plot_text(amt_image *im, int x, int y, const char *text, int scale, const unsigned char rgb[3]);
/* Width in pixels that amt_plot_text would draw. */
int amt_plot_text_width(const char *text, int scale);
/* A line from (x0, y0) to (x1, y1), thickness 1 or 2 pixels, clipped to the image. */
void amt_plot_line(amt_image *im, int x0, int y0, int x1, int y1, int thick, const unsigned char rgb[3]);

#endif
