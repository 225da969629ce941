#include "app/plot.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* ---- font: 3 columns x 5 rows, '#' = ink ---- */
typedef struct glyph { char c; const char *rows; } glyph;
static const glyph FONT[] = {
    {'0', "####.##.##.####"}, {'1', ".#.##..#..#.###"}, {'2', "###..#####..###"}, {'3', "###..#.##..####"},
    {'4', "#.##.####..#..#"}, {'5', "####..###..####"}, {'6', "####..####.####"}, {'7', "###..#..#.#..#."},
    {'8', "####.#####.####"}, {'9', "####.####..####"}, {'A', ".#.#.#####.##.#"}, {'B', "##.#.###.#.###."},
    {'C', ".###..#..#...##"}, {'D', "##.#.##.##.###."}, {'E', "####..##.#..###"}, {'F', "####..##.#..#.."},
    {'G', ".###..#.##.#.##"}, {'H', "#.##.#####.##.#"}, {'I', "###.#..#..#.###"}, {'J', "..#..#..##.#.#."},
    {'K', "#.##.###.#.##.#"}, {'L', "#..#..#..#..###"}, {'M', "#.########.##.#"}, {'N', "##.#.##.##.##.#"},
    {'O', ".#.#.##.##.#.#."}, {'P', "##.#.###.#..#.."}, {'Q', ".#.#.##.###..##"}, {'R', "##.#.###.#.##.#"},
    {'S', ".###...#...###."}, {'T', "###.#..#..#..#."}, {'U', "#.##.##.##.####"}, {'V', "#.##.##.##.#.#."},
    {'W', "#.##.########.#"}, {'X', "#.##.#.#.#.##.#"}, {'Y', "#.##.#.#..#..#."}, {'Z', "###..#.#.#..###"},
    {'.', ".............#."}, {'-', "......###......"}, {'_', "............###"}, {':', "....#.....#...."},
    {'/', "..#..#.#.#..#.."}, {'+', "....#.###.#...."}, {'%', "#....#.#.#....#"}, {'(', "..#.#..#..#...#"},
    {')', "#...#..#..#.#.."}, {'=', "...###...###..."}, {',', "..........#.#.."}, {' ', "..............."},
};

static const char *glyph_rows(char c)
{
    c = (char)toupper((unsigned char)c);
    for (size_t i = 0; i < sizeof FONT / sizeof FONT[0]; i++)
        if (FONT[i].c == c) return FONT[i].rows;
    return "####.##.##.####";   /* unknown: a box */
}

int amt_plot_text_width(const char *text, int scale)
{
    int n = (int)strlen(text);
    return n > 0 ? (4 * n - 1) * scale : 0;
}

int amt_plot_text(amt_image *im, int x, int y, const char *text, int scale, const unsigned char rgb[3])
{
    int x0 = x;
    for (const char *p = text; *p; p++) {
        const char *r = glyph_rows(*p);
        for (int row = 0; row < 5; row++)
            for (int col = 0; col < 3; col++)
                if (r[row * 3 + col] == '#')
                    amt_image_fill_rect(im, x + col * scale, y + row * scale, x + (col + 1) * scale,
                                        y + (row + 1) * scale, rgb, 1.0f);
        x += 4 * scale;
    }
    return x > x0 ? x - x0 - scale : 0;
}

void amt_plot_line(amt_image *im, int x0, int y0, int x1, int y1, int thick, const unsigned char rgb[3])
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (long guard = 0; guard < 1L << 20; guard++) {
        amt_image_set(im, x0, y0, rgb);
        if (thick > 1) { amt_image_set(im, x0 + 1, y0, rgb); amt_image_set(im, x0, y0 + 1, rgb); }
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

void amt_plot_color(int i, unsigned char rgb[3])
{
    static const unsigned char tab10[10][3] = {
        {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
    };
    int k = ((i % 10) + 10) % 10;
    memcpy(rgb, tab10[k], 3);
}

/* A round tick step near range / target: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void fmt_tick(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-6) v = 0;
    double a = fabs(v);
    if (a != 0 && (a >= 1e5 || a < 1e-3)) snprintf(buf, n, "%.1e", v);
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        if (dec > 6) dec = 6;
        snprintf(buf, n, "%.*f", dec, v);
    }
}

int amt_plot_lines(amt_image *out, int w, int h, const char *title, const char *xlabel, const amt_plot_series *s,
                   int ns)
{
    static const unsigned char WHITE[3] = {255, 255, 255}, BLACK[3] = {0, 0, 0}, GRID[3] = {225, 225, 225},
                               TEXT[3] = {40, 40, 40};
    const int sc = 2, ch = 6 * sc;                 /* text scale, character height with gap */
    const int ml = 8 + 10 * 4 * sc, mr = 12, mt = title ? 12 + ch : 12, mb = 16 + 2 * ch;
    if (w < ml + mr + 40 || h < mt + mb + 40 || w > AMT_IMAGE_MAX_SIDE || h > AMT_IMAGE_MAX_SIDE)
        return amt_error(AMT_EINVAL, "plot: size %dx%d too small or too large", w, h);
    if (ns < 0 || ns > AMT_PLOT_MAX_SERIES) return amt_error(AMT_EINVAL, "plot: %d series (at most %d)", ns, AMT_PLOT_MAX_SERIES);
    int rc = amt_image_init(out, w, h, WHITE);
    if (rc) return rc;
    /* data ranges over finite points */
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++)
            if (isfinite(s[k].x[i]) && isfinite(s[k].y[i])) {
                xlo = fmin(xlo, s[k].x[i]); xhi = fmax(xhi, s[k].x[i]);
                ylo = fmin(ylo, s[k].y[i]); yhi = fmax(yhi, s[k].y[i]);
            }
    if (!(xlo <= xhi)) { xlo = 0; xhi = 1; }
    if (!(ylo <= yhi)) { ylo = 0; yhi = 1; }
    if (xhi - xlo <= 0) { xlo -= 0.5; xhi += 0.5; }
    if (yhi - ylo <= 1e-12 * fmax(1, fabs(yhi))) { double d = fmax(0.5 * fabs(yhi), 1e-3); ylo -= d; yhi += d; }
    double pad = 0.05 * (yhi - ylo);
    ylo -= pad; yhi += pad;
    int px0 = ml, px1 = w - mr, py0 = mt, py1 = h - mb;   /* plot area [px0, px1] x [py0, py1] */
#define MAPX(v) (px0 + (int)lround(((v) - xlo) / (xhi - xlo) * (px1 - px0)))
#define MAPY(v) (py1 - (int)lround(((v) - ylo) / (yhi - ylo) * (py1 - py0)))
    char buf[64];
    /* grid and tick labels */
    double ys = nice_step(yhi - ylo, 5);
    for (double v = ceil(ylo / ys) * ys; v <= yhi + 1e-9 * ys; v += ys) {
        int y = MAPY(v);
        amt_plot_line(out, px0, y, px1, y, 1, GRID);
        fmt_tick(buf, sizeof buf, v, ys);
        amt_plot_text(out, px0 - 6 - amt_plot_text_width(buf, sc), y - 5 * sc / 2, buf, sc, TEXT);
    }
    double xs = nice_step(xhi - xlo, 6);
    if (xs < 1 && xhi - xlo >= 1 && floor(xlo) == xlo) xs = 1;   /* epochs: integer ticks */
    for (double v = ceil(xlo / xs) * xs; v <= xhi + 1e-9 * xs; v += xs) {
        int x = MAPX(v);
        amt_plot_line(out, x, py0, x, py1, 1, GRID);
        fmt_tick(buf, sizeof buf, v, xs);
        amt_plot_text(out, x - amt_plot_text_width(buf, sc) / 2, py1 + 6, buf, sc, TEXT);
    }
    /* axes */
    amt_plot_line(out, px0, py0, px0, py1, 1, BLACK);
    amt_plot_line(out, px0, py1, px1, py1, 1, BLACK);
    if (title) amt_plot_text(out, (w - amt_plot_text_width(title, sc)) / 2, 6, title, sc, TEXT);
    if (xlabel) amt_plot_text(out, (px0 + px1 - amt_plot_text_width(xlabel, sc)) / 2, py1 + 8 + ch, xlabel, sc, TEXT);
    /* series: lines between consecutive finite points, a 3x3 marker on each */
    for (int k = 0; k < ns; k++) {
        unsigned char c[3];
        amt_plot_color(k, c);
        int have = 0, lx = 0, ly = 0;
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) { have = 0; continue; }
            int x = MAPX(s[k].x[i]), y = MAPY(s[k].y[i]);
            if (have) amt_plot_line(out, lx, ly, x, y, 2, c);
            amt_image_fill_rect(out, x - 1, y - 1, x + 2, y + 2, c, 1.0f);
            have = 1; lx = x; ly = y;
        }
    }
    /* legend: top right inside the plot area, on a translucent white box */
    int lw = 0;
    for (int k = 0; k < ns; k++) {
        int tw = amt_plot_text_width(s[k].name ? s[k].name : "", sc);
        if (tw > lw) lw = tw;
    }
    if (ns > 0) {
        int bw = lw + 8 + 3 * sc * 4 + 4, bh = ns * (ch + 4) + 6;
        /* the corner of the plot area whose box covers the fewest curve samples */
        int cx[4] = {px1 - bw - 6, px1 - bw - 6, px0 + 6, px0 + 6}, cy[4] = {py0 + 6, py1 - bh - 6, py0 + 6, py1 - bh - 6};
        int best = 0;
        long cover[4] = {0, 0, 0, 0};
        for (int k = 0; k < ns; k++)
            for (int i = 0; i + 1 < s[k].n; i++) {
                if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]) || !isfinite(s[k].x[i + 1]) || !isfinite(s[k].y[i + 1]))
                    continue;
                for (int q = 0; q <= 16; q++) {
                    double t = q / 16.0;
                    int x = MAPX(s[k].x[i] + t * (s[k].x[i + 1] - s[k].x[i]));
                    int y = MAPY(s[k].y[i] + t * (s[k].y[i + 1] - s[k].y[i]));
                    for (int c = 0; c < 4; c++)
                        cover[c] += x >= cx[c] && x < cx[c] + bw && y >= cy[c] && y < cy[c] + bh;
                }
            }
        for (int c = 1; c < 4; c++)
            if (cover[c] < cover[best]) best = c;
        int bx = cx[best], by = cy[best];
        amt_image_fill_rect(out, bx, by, bx + bw, by + bh, WHITE, 0.85f);
        for (int k = 0; k < ns; k++) {
            unsigned char c[3];
            amt_plot_color(k, c);
            int y = by + 4 + k * (ch + 4);
            amt_image_fill_rect(out, bx + 4, y + 2, bx + 4 + 8 * sc, y + 2 + 3 * sc - 2, c, 1.0f);
            amt_plot_text(out, bx + 8 + 8 * sc, y, s[k].name ? s[k].name : "", sc, TEXT);
        }
    }
#undef MAPX
#undef MAPY
    return AMT_OK;
}
