/* audio/semitone.c: madmom-style logarithmic filterbank (see semitone.h). */
#include "audio/semitone.h"
#include "audio/mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct amt_semitone {
    amt_semitone_cfg cfg;
    amt_stft *st;
    int nb, fft_bins;
    int *lo, *len, *off, *peak;
    float *wt, *spec;
};

amt_semitone_cfg amt_semitone_default(void)
{
    amt_semitone_cfg c = { 44100, 4096, 441, 48, 27.5, 8000.0, 440.0, 1, 1.0f, 1, AMT_PAD_CONSTANT };
    return c;
}

amt_semitone_cfg amt_semitone_default_16k(void)
{
    amt_semitone_cfg c = { 16000, 2048, 160, 48, 27.5, 5900.0, 440.0, 1, 1.0f, 1, AMT_PAD_CONSTANT };
    return c;
}

void amt_semitone_del(amt_semitone *s)
{
    if (!s) return;
    amt_stft_del(s->st);
    free(s->lo); free(s->len); free(s->off); free(s->peak); free(s->wt); free(s->spec);
    free(s);
}

amt_semitone *amt_semitone_new(const amt_semitone_cfg *cfg)
{
    if (!cfg || cfg->rate < 1 || cfg->bands_per_octave < 1 || !(cfg->fmin > 0) || !(cfg->fmax > cfg->fmin) ||
        !(cfg->fref > 0) || cfg->fmax > cfg->rate / 2.0) {
        amt_error(AMT_EINVAL, "semitone: bad config (rate %d Hz, %d bands/octave, %g..%g Hz)", cfg ? cfg->rate : 0,
                  cfg ? cfg->bands_per_octave : 0, cfg ? cfg->fmin : 0, cfg ? cfg->fmax : 0);
        return NULL;
    }
    amt_semitone *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "semitone: out of memory"); return NULL; }
    s->cfg = *cfg;
    amt_stft_cfg sc = amt_stft_default(cfg->n_fft, cfg->hop);
    sc.center = cfg->center;
    sc.pad_mode = cfg->pad_mode;
    if (!(s->st = amt_stft_new(&sc))) { amt_semitone_del(s); return NULL; }
    int fb = s->fft_bins = cfg->n_fft / 2 + 1;
    double df = (double)cfg->rate / cfg->n_fft;
    /* 1-2: log-spaced frequencies -> nearest FFT bins, unique, increasing */
    double bpo = cfg->bands_per_octave;
    long j0 = (long)floor(log2(cfg->fmin / cfg->fref) * bpo), j1 = (long)ceil(log2(cfg->fmax / cfg->fref) * bpo);
    int *bins = malloc(sizeof(int) * (size_t)(j1 - j0 + 2));
    if (!bins) { amt_semitone_del(s); amt_error(AMT_ENOMEM, "semitone: out of memory"); return NULL; }
    int nb = 0;
    for (long j = j0; j <= j1; j++) {
        double f = cfg->fref * pow(2.0, (double)j / bpo);
        if (f < cfg->fmin || f > cfg->fmax) continue;
        /* nearest FFT bin, ties to the upper one (madmom frequencies2bins) */
        long k = (long)ceil(f / df);           /* first bin frequency >= f */
        if (k < 1) k = 1;
        if (k > fb - 1) k = fb - 1;
        if (f - (k - 1) * df < k * df - f) k--;
        if (nb == 0 || bins[nb - 1] != (int)k) bins[nb++] = (int)k;
    }
    if (nb < 3) { free(bins); amt_semitone_del(s); amt_error(AMT_EINVAL, "semitone: only %d distinct FFT bins in %g..%g Hz", nb, cfg->fmin, cfg->fmax); return NULL; }
    s->nb = nb - 2;
    s->lo = calloc((size_t)s->nb, sizeof(int));
    s->len = calloc((size_t)s->nb, sizeof(int));
    s->off = calloc((size_t)s->nb, sizeof(int));
    s->peak = calloc((size_t)s->nb, sizeof(int));
    s->spec = malloc(sizeof(float) * (size_t)fb);
    int total = 0;
    for (int i = 0; i < s->nb; i++) total += bins[i + 2] - bins[i];
    s->wt = malloc(sizeof(float) * (size_t)total);
    if (!s->lo || !s->len || !s->off || !s->peak || !s->spec || !s->wt) {
        free(bins); amt_semitone_del(s); amt_error(AMT_ENOMEM, "semitone: out of memory"); return NULL;
    }
    /* 3: triangles (madmom TriangularFilter with overlap) */
    total = 0;
    for (int i = 0; i < s->nb; i++) {
        int a = bins[i], c = bins[i + 1], b = bins[i + 2];
        s->lo[i] = a;
        s->len[i] = b - a;
        s->off[i] = total;
        s->peak[i] = c;
        float *w = s->wt + total;
        int up = c - a, down = b - c;
        double sum = 0;
        for (int k = 0; k < up; k++) { w[k] = (float)((double)k / up); sum += w[k]; }
        for (int k = 0; k < down; k++) { w[up + k] = (float)(1.0 - (double)k / down); sum += w[up + k]; }
        if (cfg->norm && sum > 0)
            for (int k = 0; k < b - a; k++) w[k] = (float)(w[k] / sum);
        total += b - a;
    }
    free(bins);
    return s;
}

int amt_semitone_bins(const amt_semitone *s) { return s->nb; }
long amt_semitone_frames(const amt_semitone *s, long len) { return amt_stft_frames(s->st, len); }

double amt_semitone_center_hz(const amt_semitone *s, int i)
{
    return (double)s->peak[i] * s->cfg.rate / s->cfg.n_fft;
}

void amt_semitone_filter(const amt_semitone *s, int i, int *first, int *count, const float **w)
{
    *first = s->lo[i];
    *count = s->len[i];
    *w = s->wt + s->off[i];
}

void amt_semitone_frame(amt_semitone *s, const float *x, long len, long f, float *out)
{
    amt_stft_frame_mag(s->st, x, len, f, 1, s->spec);
    for (int i = 0; i < s->nb; i++) {
        const float *w = s->wt + s->off[i], *sp = s->spec + s->lo[i];
        float acc = 0.0f;
        for (int k = 0; k < s->len[i]; k++) acc += w[k] * sp[k];
        out[i] = acc;
    }
    const float c = s->cfg.log_c;
    if (c > 0)
        for (int i = 0; i < s->nb; i++) out[i] = amt_log1pf(c * out[i]);
}

int amt_semitone_do(amt_semitone *s, const float *x, long len, float *out)
{
    if (!s || len < 0 || (!x && len > 0) || !out) return amt_error(AMT_EINVAL, "semitone: bad arguments (len %ld)", len);
    long frames = amt_stft_frames(s->st, len);
    for (long f = 0; f < frames; f++) amt_semitone_frame(s, x, len, f, out + (size_t)f * s->nb);
    return AMT_OK;
}
