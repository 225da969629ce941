/* audio/picture.c: RGB images, colour map, spectrogram / piano roll pictures, PNG I/O. */
#include "picture.h"

#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TOP_DB 80.0f
#define MAG_FLOOR 1e-10f
#define TICK_LEN 8              /* pixels */

const unsigned char AMT_COLOR_REF[3] = {60, 200, 110};
const unsigned char AMT_COLOR_EST[3] = {235, 80, 60};
const unsigned char AMT_COLOR_BOTH[3] = {250, 220, 60};
static const unsigned char ROLL_BG[3] = {18, 18, 26}, ROLL_GRID[3] = {55, 55, 70}, WHITE[3] = {255, 255, 255};

int amt_image_init(amt_image *im, int w, int h, const unsigned char bg[3])
{
    im->w = im->h = 0; im->rgb = NULL;
    if (w < 1 || h < 1 || w > AMT_IMAGE_MAX_SIDE || h > AMT_IMAGE_MAX_SIDE)
        return amt_error(AMT_EINVAL, "image: size %d x %d outside 1..%d", w, h, AMT_IMAGE_MAX_SIDE);
    im->rgb = malloc((size_t)w * (size_t)h * 3);
    if (!im->rgb) return amt_error(AMT_ENOMEM, "image: out of memory for %d x %d", w, h);
    im->w = w; im->h = h;
    unsigned char c[3] = {0, 0, 0};
    if (bg) memcpy(c, bg, 3);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) memcpy(im->rgb + 3 * i, c, 3);
    return AMT_OK;
}

void amt_image_free(amt_image *im) { free(im->rgb); im->rgb = NULL; im->w = im->h = 0; }

void amt_image_set(amt_image *im, int x, int y, const unsigned char rgb[3])
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return;
    memcpy(im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3, rgb, 3);
}

void amt_image_fill_rect(amt_image *im, int x0, int y0, int x1, int y1, const unsigned char rgb[3], float alpha)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    if (alpha > 1) alpha = 1;
    if (!(alpha > 0)) return;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            unsigned char *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
            for (int c = 0; c < 3; c++) p[c] = (unsigned char)lrintf((1 - alpha) * p[c] + alpha * rgb[c]);
        }
}

/* ---- colour map: matplotlib magma (BIDS colormap, CC0) at entries 0,16,...,240,255 */
static const float MAGMA[17][3] = {
    {0.001462f, 0.000466f, 0.013866f}, {0.039608f, 0.031090f, 0.133515f}, {0.113094f, 0.065492f, 0.276784f},
    {0.211718f, 0.061992f, 0.418647f}, {0.316654f, 0.071690f, 0.485380f}, {0.414709f, 0.110431f, 0.504662f},
    {0.512831f, 0.148179f, 0.507648f}, {0.613617f, 0.181811f, 0.498536f}, {0.716387f, 0.214982f, 0.475290f},
    {0.816914f, 0.255895f, 0.436461f}, {0.904281f, 0.319610f, 0.388137f}, {0.960949f, 0.418323f, 0.359630f},
    {0.986700f, 0.535582f, 0.382210f}, {0.996096f, 0.653659f, 0.446213f}, {0.996898f, 0.769591f, 0.534892f},
    {0.992440f, 0.884330f, 0.640099f}, {0.987053f, 0.991438f, 0.749504f}};

void amt_colormap_magma(float x, unsigned char rgb[3])
{
    if (!(x > 0)) x = 0;   /* also NaN */
    if (x > 1) x = 1;
    float idx = x * 255.0f;               /* knot i sits at entry 16 i (the last at 255) */
    int k = (int)(idx / 16.0f);
    if (k > 15) k = 15;
    float a = 16.0f * (float)k, b = k == 15 ? 255.0f : 16.0f * (float)(k + 1);
    float t = (idx - a) / (b - a);
    if (t > 1) t = 1;
    for (int c = 0; c < 3; c++) {
        float v = (1 - t) * MAGMA[k][c] + t * MAGMA[k + 1][c];
        rgb[c] = (unsigned char)lrintf(255.0f * v);
    }
}

/* ---- PNG I/O */

typedef struct png_err { char msg[200]; } png_err;
static void on_png_error(png_structp png, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(png);
    if (e) snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}
static void on_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

int amt_image_write_png(const amt_image *im, const char *path)
{
    if (!im->rgb || im->w < 1 || im->h < 1) return amt_error(AMT_EINVAL, "%s: empty image", path);
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) return amt_error(AMT_EIO, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return amt_error(AMT_EIO, "%s: cannot create (%s)", path, strerror(errno));
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) { close(fd); unlink(tmp); return amt_error(AMT_EIO, "%s: cannot create", path); }
    png_err err = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        fclose(f); unlink(tmp);
        return amt_error(AMT_ENOMEM, "%s: libpng: out of memory", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f); unlink(tmp);
        return amt_error(AMT_EIO, "%s: libpng: %s", path, err.msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < im->h; y++) png_write_row(png, im->rgb + (size_t)y * (size_t)im->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (bad) { unlink(tmp); return amt_error(AMT_EIO, "%s: write failed", path); }
    if (rename(tmp, path) != 0) { int e = errno; unlink(tmp); return amt_error(AMT_EIO, "%s: cannot rename into place (%s)", path, strerror(e)); }
    return AMT_OK;
}

int amt_image_read_png(const char *path, amt_image *out)
{
    out->w = out->h = 0; out->rgb = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return amt_error(AMT_EIO, "%s: cannot open (%s)", path, strerror(errno));
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8)) { fclose(f); return amt_error(AMT_EFORMAT, "%s: not a PNG file", path); }
    png_err err = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { png_destroy_read_struct(&png, NULL, NULL); fclose(f); return amt_error(AMT_ENOMEM, "%s: libpng: out of memory", path); }
    unsigned char *volatile pix = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f); free(pix);
        return amt_error(AMT_EFORMAT, "%s: libpng: %s", path, err.msg);
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (w < 1 || h < 1 || w > AMT_IMAGE_MAX_SIDE || h > AMT_IMAGE_MAX_SIDE) png_error(png, "image size out of range");
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected row layout");
    pix = malloc((size_t)w * (size_t)h * 3);
    if (!pix) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) png_read_row(png, pix + (size_t)y * w * 3, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    out->w = (int)w; out->h = (int)h; out->rgb = pix;
    return AMT_OK;
}

/* ---- spectrogram */

/* Fractional bin index of frequency hz in an increasing bin_hz table, or -1 outside. */
static double hz_to_bin(const float *bin_hz, int bins, double hz)
{
    if (bins < 2 || hz < bin_hz[0] || hz > bin_hz[bins - 1]) return -1;
    int lo = 0, hi = bins - 1;
    while (hi - lo > 1) { int m = (lo + hi) / 2; if (bin_hz[m] <= hz) lo = m; else hi = m; }
    double d = (double)bin_hz[hi] - bin_hz[lo];
    return lo + (d > 0 ? (hz - bin_hz[lo]) / d : 0);
}

int amt_picture_spectrogram(amt_image *out, const float *mag, int frames, int bins, const amt_spec_picture_opts *opt)
{
    amt_spec_picture_opts o = {0};
    if (opt) o = *opt;
    float top_db = o.top_db > 0 ? o.top_db : DEFAULT_TOP_DB;
    int xs = o.xscale > 0 ? o.xscale : 1, ys = o.yscale > 0 ? o.yscale : 1;
    if (frames < 1 || bins < 1) return amt_error(AMT_EINVAL, "spectrogram picture: %d frames x %d bins", frames, bins);
    if ((long)frames * xs > AMT_IMAGE_MAX_SIDE || (long)bins * ys > AMT_IMAGE_MAX_SIDE)
        return amt_error(AMT_EINVAL, "spectrogram picture: %d x %d pixels too large (max %d a side)",
                         frames * xs, bins * ys, AMT_IMAGE_MAX_SIDE);
    int rc = amt_image_init(out, frames * xs, bins * ys, NULL);
    if (rc) return rc;
    size_t n = (size_t)frames * (size_t)bins;
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = o.is_db ? mag[i] : 20.0f * log10f(fmaxf(fabsf(mag[i]), MAG_FLOOR));
        if (v > mx) mx = v;   /* NaN never wins */
    }
    if (!isfinite(mx)) mx = 0;
    for (int t = 0; t < frames; t++)
        for (int b = 0; b < bins; b++) {
            float m = mag[(size_t)t * (size_t)bins + (size_t)b];
            float v = o.is_db ? m : 20.0f * log10f(fmaxf(fabsf(m), MAG_FLOOR));
            unsigned char c[3];
            amt_colormap_magma((v - (mx - top_db)) / top_db, c);
            int y0 = (bins - 1 - b) * ys;
            for (int dy = 0; dy < ys; dy++)
                for (int dx = 0; dx < xs; dx++) memcpy(out->rgb + ((size_t)(y0 + dy) * (size_t)out->w + (size_t)(t * xs + dx)) * 3, c, 3);
        }
    if (o.bin_hz && o.tick_hz)
        for (int i = 0; i < o.ntick_hz; i++) {
            double b = hz_to_bin(o.bin_hz, bins, o.tick_hz[i]);
            if (b < 0) continue;
            int y = out->h - 1 - (int)lround(b * ys + (ys - 1) * 0.5);
            amt_image_fill_rect(out, 0, y, TICK_LEN, y + 1, WHITE, 1.0f);
            amt_image_fill_rect(out, TICK_LEN, y, out->w, y + 1, WHITE, 0.25f);
        }
    if (o.frames_per_sec > 0)
        for (int s = 1; s * o.frames_per_sec * xs < out->w; s++) {
            int x = (int)lround(s * o.frames_per_sec * xs);
            amt_image_fill_rect(out, x, out->h - TICK_LEN, x + 1, out->h, WHITE, 1.0f);
        }
    return AMT_OK;
}

/* ---- piano roll */

static int notes_end_px(const amt_notes *ns, double pps)
{
    double e = 0;
    for (int i = 0; ns && i < ns->n; i++) if (ns->v[i].offset > e) e = ns->v[i].offset;
    return (int)ceil(e * pps);
}

static void mark_notes(unsigned char *mask, int w, int h, const amt_notes *ns, double pps, int ppk, int lo, int hi,
                       unsigned char bit)
{
    for (int i = 0; ns && i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        if (n->pitch < lo || n->pitch > hi || !isfinite(n->onset) || !isfinite(n->offset)) continue;
        int x0 = (int)floor(n->onset * pps), x1 = (int)ceil(n->offset * pps);
        if (x1 <= x0) x1 = x0 + 1;
        if (x0 < 0) x0 = 0;
        if (x1 > w) x1 = w;
        int y0 = (hi - n->pitch) * ppk, y1 = y0 + (ppk >= 3 ? ppk - 1 : ppk);
        if (y1 > h) y1 = h;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) mask[(size_t)y * (size_t)w + (size_t)x] |= bit;
    }
}

int amt_picture_pianoroll(amt_image *out, const amt_notes *ref, const amt_notes *est, const amt_roll_picture_opts *opt)
{
    amt_roll_picture_opts o = {0};
    if (opt) o = *opt;
    double pps = o.px_per_sec > 0 ? o.px_per_sec : 100.0;
    int ppk = o.px_per_key > 0 ? o.px_per_key : 4;
    int lo = o.lo, hi = o.hi;
    if (lo == 0 && hi == 0) { lo = 21; hi = 108; }
    if (lo < 0 || hi > 127 || hi < lo) return amt_error(AMT_EINVAL, "piano roll picture: pitch range %d..%d", lo, hi);
    int w;
    if (o.duration > 0) w = (int)ceil(fmin(o.duration * pps, AMT_IMAGE_MAX_SIDE));
    else { int a = notes_end_px(ref, pps), b = notes_end_px(est, pps); w = a > b ? a : b; }
    if (w < 1) w = 1;
    if (w > AMT_IMAGE_MAX_SIDE) return amt_error(AMT_EINVAL, "piano roll picture: %d pixels wide is too large (lower px_per_sec)", w);
    int h = (hi - lo + 1) * ppk;
    int rc = amt_image_init(out, w, h, ROLL_BG);
    if (rc) return rc;
    for (int p = lo; p <= hi; p++)
        if (p % 12 == 0) { int y = (hi - p + 1) * ppk - 1; amt_image_fill_rect(out, 0, y, w, y + 1, ROLL_GRID, 1.0f); }
    unsigned char *mask = calloc((size_t)w * (size_t)h, 1);
    if (!mask) { amt_image_free(out); return amt_error(AMT_ENOMEM, "piano roll picture: out of memory"); }
    mark_notes(mask, w, h, ref, pps, ppk, lo, hi, 1);
    mark_notes(mask, w, h, est, pps, ppk, lo, hi, 2);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        if (mask[i]) memcpy(out->rgb + 3 * i, mask[i] == 3 ? AMT_COLOR_BOTH : mask[i] == 1 ? AMT_COLOR_REF : AMT_COLOR_EST, 3);
    free(mask);
    return AMT_OK;
}

int amt_picture_overlay_notes(amt_image *im, const amt_notes *ns, double px_per_sec, const float *bin_hz, int bins,
                              int yscale, const unsigned char rgb[3], int filled)
{
    if (!(px_per_sec > 0) || !bin_hz || bins < 2)
        return amt_error(AMT_EINVAL, "note overlay: needs px_per_sec > 0 (%g) and >= 2 bin frequencies", px_per_sec);
    int ys = yscale > 0 ? yscale : 1;
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        double blo = hz_to_bin(bin_hz, bins, amt_midi_to_hz(n->pitch - 0.5));
        double bhi = hz_to_bin(bin_hz, bins, amt_midi_to_hz(n->pitch + 0.5));
        if (blo < 0 && bhi < 0) continue;
        if (blo < 0) blo = 0;
        if (bhi < 0) bhi = bins - 1;
        int ytop = im->h - 1 - (int)lround(bhi * ys + (ys - 1) * 0.5);
        int ybot = im->h - 1 - (int)lround(blo * ys + (ys - 1) * 0.5);
        if (ybot < ytop) ybot = ytop;
        int x0 = (int)floor(n->onset * px_per_sec), x1 = (int)ceil(n->offset * px_per_sec);
        if (x1 <= x0) x1 = x0 + 1;
        if (filled) amt_image_fill_rect(im, x0, ytop, x1, ybot + 1, rgb, 0.5f);
        else {
            amt_image_fill_rect(im, x0, ytop, x1, ytop + 1, rgb, 1.0f);
            amt_image_fill_rect(im, x0, ybot, x1, ybot + 1, rgb, 1.0f);
            amt_image_fill_rect(im, x0, ytop, x0 + 1, ybot + 1, rgb, 1.0f);
            amt_image_fill_rect(im, x1 - 1, ytop, x1, ybot + 1, rgb, 1.0f);
        }
    }
    return AMT_OK;
}

static int stack(amt_image *out, const amt_image *panels, int n, int gap, const unsigned char bg[3], int horiz)
{
    if (n < 1 || gap < 0) return amt_error(AMT_EINVAL, "picture stack: %d panels, gap %d", n, gap);
    long along = 0, across = 0;
    for (int i = 0; i < n; i++) {
        if (!panels[i].rgb) return amt_error(AMT_EINVAL, "picture stack: panel %d is empty", i);
        along += (horiz ? panels[i].w : panels[i].h) + (i ? gap : 0);
        int a = horiz ? panels[i].h : panels[i].w;
        if (a > across) across = a;
    }
    if (along > AMT_IMAGE_MAX_SIDE) return amt_error(AMT_EINVAL, "picture stack: %ld pixels too large", along);
    int rc = horiz ? amt_image_init(out, (int)along, (int)across, bg) : amt_image_init(out, (int)across, (int)along, bg);
    if (rc) return rc;
    int pos = 0;
    for (int i = 0; i < n; i++) {
        const amt_image *p = &panels[i];
        for (int y = 0; y < p->h; y++) {
            int ox = horiz ? pos : 0, oy = horiz ? y : pos + y;
            memcpy(out->rgb + ((size_t)oy * (size_t)out->w + (size_t)ox) * 3, p->rgb + (size_t)y * (size_t)p->w * 3, (size_t)p->w * 3);
        }
        pos += (horiz ? p->w : p->h) + gap;
    }
    return AMT_OK;
}

int amt_picture_hstack(amt_image *out, const amt_image *panels, int n, int gap, const unsigned char bg[3])
{
    return stack(out, panels, n, gap, bg, 1);
}

int amt_picture_vstack(amt_image *out, const amt_image *panels, int n, int gap, const unsigned char bg[3])
{
    return stack(out, panels, n, gap, bg, 0);
}
