/* infer/outputs.c: pictures, activations and instrument JSON of amt-infer. */
#include "infer/outputs.h"

#include <hdf5.h>
#include <sndfile.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/picture.h"
#include "audio/stft.h"
#include "core/error.h"
#include "app/cli.h"

#define SPEC_HOP 256               /* samples per column at most (short signals) */
#define SPEC_TOP_DB 80.0f           /* dB range of the separation panels */
#define ROLL_YSCALE 2              /* pixels per semitone-filterbank band */

static char *tmp_path(const char *path)
{
    size_t n = strlen(path) + 5;
    char *t = malloc(n);
    if (t) snprintf(t, n, "%s.tmp", path);
    return t;
}

static int finish_tmp(char *tmp, const char *path, int ok)
{
    int rc = AMT_OK;
    if (!ok) {
        remove(tmp);
        rc = amt_error(AMT_EIO, "%s: cannot write", path);
    } else if (rename(tmp, path) != 0) {
        remove(tmp);
        rc = amt_error(AMT_EIO, "%s: cannot rename the temporary file into place", path);
    }
    free(tmp);
    return rc;
}

struct amt_out_speccols {
    amt_stft *st;       /* not centred: frame 0 = samples [0, n_fft) of the buffer given */
    long len;
    int cols, bins, sub;
    float *mag;         /* cols x bins, sums of sub frames */
    float *win, *tmp;   /* n_fft samples, bins_all values */
};

amt_out_speccols *amt_out_speccols_new(long len, int rate)
{
    if (len < 1 || rate <= 0) { amt_error(AMT_EINVAL, "spectrogram: bad length %ld or rate %d", len, rate); return NULL; }
    amt_out_speccols *s = calloc(1, sizeof *s);
    if (!s) { amt_error(AMT_ENOMEM, "spectrogram: out of memory"); return NULL; }
    amt_stft_cfg sc = amt_stft_default(AMT_OUT_SPEC_NFFT, AMT_OUT_SPEC_NFFT);
    sc.center = 0;
    if (!(s->st = amt_stft_new(&sc))) { free(s); return NULL; }
    int bins_all = amt_stft_bins(s->st);
    s->len = len;
    s->bins = (int)floor(AMT_OUT_SPEC_MAX_HZ * AMT_OUT_SPEC_NFFT / rate) + 1;
    if (s->bins > bins_all) s->bins = bins_all;
    long natural = len / SPEC_HOP + 1;
    s->cols = natural < AMT_OUT_MAX_COLUMNS ? (int)natural : AMT_OUT_MAX_COLUMNS;
    double span = (double)len / s->cols;   /* samples per column */
    s->sub = (int)ceil(span / SPEC_HOP);
    if (s->sub > AMT_OUT_SPEC_SUBFRAMES) s->sub = AMT_OUT_SPEC_SUBFRAMES;
    if (s->sub < 1) s->sub = 1;
    s->mag = calloc((size_t)s->cols * s->bins, sizeof *s->mag);
    s->win = malloc(AMT_OUT_SPEC_NFFT * sizeof *s->win);
    s->tmp = malloc((size_t)bins_all * sizeof *s->tmp);
    if (!s->mag || !s->win || !s->tmp) {
        amt_out_speccols_free(s);
        amt_error(AMT_ENOMEM, "spectrogram: out of memory");
        return NULL;
    }
    return s;
}

void amt_out_speccols_free(amt_out_speccols *s)
{
    if (!s) return;
    amt_stft_del(s->st);
    free(s->mag);
    free(s->win);
    free(s->tmp);
    free(s);
}

void amt_out_speccols_add(amt_out_speccols *s, const float *x, long x0, long n, long core0, long core1)
{
    const double span = (double)s->len / s->cols;
    const long half = AMT_OUT_SPEC_NFFT / 2;
    /* positions p(c, j) = floor((c + (j + 0.5) / sub) * span), increasing in (c, j) */
    long c0 = (long)floor(core0 / span) - 1;
    if (c0 < 0) c0 = 0;
    for (long c = c0; c < s->cols; c++) {
        if ((double)c * span >= (double)core1 + span) break;
        for (int j = 0; j < s->sub; j++) {
            long p = (long)floor((c + (j + 0.5) / s->sub) * span);
            if (p < core0 || p >= core1) continue;
            for (long i = 0; i < AMT_OUT_SPEC_NFFT; i++) {
                long q = p - half + i - x0;
                s->win[i] = q >= 0 && q < n ? x[q] : 0.0f;
            }
            amt_stft_frame_mag(s->st, s->win, AMT_OUT_SPEC_NFFT, 0, 1, s->tmp);
            float *row = s->mag + (size_t)c * s->bins;
            for (int b = 0; b < s->bins; b++) row[b] += s->tmp[b] / (float)s->sub;
        }
    }
}

int amt_out_speccols_png(const char *path, amt_out_speccols *const *sp, int n)
{
    if (n < 1) return amt_error(AMT_EINVAL, "%s: nothing to draw", path);
    const int cols = sp[0]->cols, bins = sp[0]->bins;
    for (int k = 1; k < n; k++)
        if (sp[k]->cols != cols || sp[k]->bins != bins)
            return amt_error(AMT_EINVAL, "%s: panels of different sizes", path);
    amt_image *panels = calloc((size_t)n, sizeof *panels);
    if (!panels) return amt_error(AMT_ENOMEM, "%s: out of memory", path);
    int rc = AMT_OK;
    float mx = 1e-10f;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < (size_t)cols * bins; i++) mx = fmaxf(mx, sp[k]->mag[i]);
    /* drawn here rather than with amt_picture_spectrogram so that all panels share one
     * scale: [top - SPEC_TOP_DB, top] of the loudest panel */
    const float top = 20.0f * log10f(mx), floor_mag = mx * 1e-6f;
    const int ys = bins < 300 ? 2 : 1;
    for (int k = 0; k < n; k++) {
        const float *m = sp[k]->mag;
        if ((rc = amt_image_init(&panels[k], cols, bins * ys, NULL))) goto done;
        for (int y = 0; y < bins * ys; y++) {
            int b = bins - 1 - y / ys;
            for (int c = 0; c < cols; c++) {
                unsigned char rgb[3];
                float db = 20.0f * log10f(fmaxf(m[(size_t)c * bins + b], floor_mag));
                amt_colormap_magma((db - (top - SPEC_TOP_DB)) / SPEC_TOP_DB, rgb);
                amt_image_set(&panels[k], c, y, rgb);
            }
        }
    }
    amt_image out;
    const unsigned char gap_bg[3] = {255, 255, 255};
    if ((rc = amt_picture_hstack(&out, panels, n, AMT_OUT_PANEL_GAP, gap_bg))) goto done;
    rc = amt_image_write_png(&out, path);
    amt_image_free(&out);
done:
    for (int k = 0; k < n; k++) amt_image_free(&panels[k]);
    free(panels);
    return rc;
}

/* ---- streamed float WAV ---- */

struct amt_out_wav {
    SNDFILE *sf;
    char *path, *tmp;
    int channels;
};

amt_out_wav *amt_out_wav_open(const char *path, int rate, int channels)
{
    amt_out_wav *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || !(w->tmp = tmp_path(path))) {
        if (w) { free(w->path); free(w); }
        amt_error(AMT_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    w->channels = channels;
    if (!(w->sf = sf_open(w->tmp, SFM_WRITE, &info))) {
        amt_error(AMT_EIO, "%s: cannot create: %s", path, sf_strerror(NULL));
        free(w->path);
        free(w->tmp);
        free(w);
        return NULL;
    }
    sf_command(w->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);   /* plain fmt + data chunks */
    return w;
}

int amt_out_wav_write(amt_out_wav *w, const float *x, long frames)
{
    for (long i = 0; i < frames * w->channels; i++)
        if (!isfinite(x[i])) return amt_error(AMT_EINVAL, "%s: non-finite sample at frame %ld", w->path, i / w->channels);
    if (sf_writef_float(w->sf, x, frames) != frames) return amt_error(AMT_EIO, "%s: write failed (disk full?)", w->path);
    return AMT_OK;
}

int amt_out_wav_close(amt_out_wav *w, int keep)
{
    if (!w) return AMT_OK;
    int rc = AMT_OK;
    if (sf_close(w->sf) != 0 && keep) rc = amt_error(AMT_EIO, "%s: cannot finish writing", w->path);
    if (keep && rc == AMT_OK && rename(w->tmp, w->path) != 0)
        rc = amt_error(AMT_EIO, "%s: cannot rename the temporary file into place", w->path);
    if (!keep || rc) remove(w->tmp);
    free(w->path);
    free(w->tmp);
    free(w);
    return rc;
}

struct amt_out_rollcols {
    long n_frames;      /* the layout's frame count */
    int cols, bins;
    float *sum;         /* cols x bins */
    long *count;        /* frames per column */
};

amt_out_rollcols *amt_out_rollcols_new(long n_frames, int bins)
{
    if (n_frames < 1 || bins < 1) { amt_error(AMT_EINVAL, "piano roll: %ld frames of %d bins", n_frames, bins); return NULL; }
    amt_out_rollcols *r = calloc(1, sizeof *r);
    if (!r) { amt_error(AMT_ENOMEM, "piano roll: out of memory"); return NULL; }
    r->n_frames = n_frames;
    r->bins = bins;
    r->cols = n_frames < AMT_OUT_MAX_COLUMNS ? (int)n_frames : AMT_OUT_MAX_COLUMNS;
    r->sum = calloc((size_t)r->cols * bins, sizeof *r->sum);
    r->count = calloc((size_t)r->cols, sizeof *r->count);
    if (!r->sum || !r->count) {
        amt_out_rollcols_free(r);
        amt_error(AMT_ENOMEM, "piano roll: out of memory");
        return NULL;
    }
    return r;
}

void amt_out_rollcols_free(amt_out_rollcols *r)
{
    if (!r) return;
    free(r->sum);
    free(r->count);
    free(r);
}

void amt_out_rollcols_add(amt_out_rollcols *r, const float *feat, long t0, long n)
{
    for (long i = 0; i < n; i++) {
        long c = (long)((double)(t0 + i) * r->cols / r->n_frames);
        if (c >= r->cols) c = r->cols - 1;
        if (c < 0) continue;
        float *o = r->sum + (size_t)c * r->bins;
        const float *x = feat + (size_t)i * r->bins;
        for (int b = 0; b < r->bins; b++) o[b] += isfinite(x[b]) ? x[b] : 0.0f;
        r->count[c]++;
    }
}

int amt_out_rollcols_png(const char *path, const amt_out_rollcols *r, double fps, const amt_semitone_cfg *cfg,
                         const amt_notes *notes)
{
    if (!r || !(fps > 0)) return amt_error(AMT_EINVAL, "%s: no frames to draw", path);
    const int cols = r->cols, bins = r->bins;
    amt_semitone *sm = amt_semitone_new(cfg);
    if (!sm) return amt_errcode();
    if (amt_semitone_bins(sm) != bins) {
        amt_semitone_del(sm);
        return amt_error(AMT_EINVAL, "%s: %d feature bins, the filterbank has %d", path, bins, amt_semitone_bins(sm));
    }
    float *img = malloc((size_t)cols * bins * sizeof *img);
    float *hz = malloc((size_t)bins * sizeof *hz);
    int rc = AMT_OK;
    amt_image im = {0, 0, NULL};
    if (!img || !hz) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", path); goto done; }
    for (int b = 0; b < bins; b++) hz[b] = (float)amt_semitone_center_hz(sm, b);
    float mx = 1e-6f, mn = 1e30f;
    for (int c = 0; c < cols; c++)
        for (int b = 0; b < bins; b++) {
            float v = r->count[c] ? r->sum[(size_t)c * bins + b] / (float)r->count[c] : 0.0f;
            img[(size_t)c * bins + b] = v;
            mx = fmaxf(mx, v);
            mn = fminf(mn, v);
        }
    amt_spec_picture_opts po;
    memset(&po, 0, sizeof po);
    po.is_db = 1;                       /* log(1 + C x): shown linearly from its minimum to its maximum */
    po.top_db = mx - mn > 1e-6f ? mx - mn : 1.0f;
    po.yscale = ROLL_YSCALE;
    po.bin_hz = hz;
    if ((rc = amt_picture_spectrogram(&im, img, cols, bins, &po))) goto done;
    double px_per_sec = cols / (r->n_frames / fps);
    if (notes && notes->n &&
        (rc = amt_picture_overlay_notes(&im, notes, px_per_sec, hz, bins, ROLL_YSCALE, AMT_COLOR_REF, 1)))
        goto done;
    rc = amt_image_write_png(&im, path);
done:
    amt_image_free(&im);
    free(img);
    free(hz);
    amt_semitone_del(sm);
    return rc;
}

int amt_out_pianoroll_png(const char *path, const float *feat, long n_frames, int bins, double fps,
                          const amt_semitone_cfg *cfg, const amt_notes *notes)
{
    if (n_frames < 1 || bins < 1 || fps <= 0) return amt_error(AMT_EINVAL, "%s: no frames to draw", path);
    amt_out_rollcols *r = amt_out_rollcols_new(n_frames, bins);
    if (!r) return amt_errcode();
    amt_out_rollcols_add(r, feat, 0, n_frames);
    int rc = amt_out_rollcols_png(path, r, fps, cfg, notes);
    amt_out_rollcols_free(r);
    return rc;
}

/* ---- HDF5 ---- */

static int h5_string_attr(hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

static int h5_scalar_attr(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

#define ACTS_CHUNK_ROWS 256   /* rows per HDF5 chunk of the activation datasets */

struct amt_out_acts {
    char *path, *tmp;
    hid_t f, d[3];        /* frame, onset, velocity (-1: absent) */
    int keys;
    long rows;
};

static hid_t acts_dataset(hid_t f, const char *name, int keys)
{
    hsize_t dims[2] = {0, (hsize_t)keys}, maxd[2] = {H5S_UNLIMITED, (hsize_t)keys}, chunk[2] = {ACTS_CHUNK_ROWS, (hsize_t)keys};
    hid_t space = H5Screate_simple(2, dims, maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0)
        d = H5Dcreate2(f, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return d;
}

amt_out_acts *amt_out_acts_open(const char *path, int keys, int has_onset, int has_velocity, double fps,
                                int lowest_pitch, const char *input, const char *model)
{
    amt_out_acts *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path)) || !(a->tmp = tmp_path(path))) {
        if (a) { free(a->path); free(a); }
        amt_error(AMT_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    a->keys = keys;
    a->d[0] = a->d[1] = a->d[2] = -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    a->f = H5Fcreate(a->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int32_t lp = lowest_pitch;
    int ok = a->f >= 0 && (a->d[0] = acts_dataset(a->f, "frame", keys)) >= 0 &&
             (!has_onset || (a->d[1] = acts_dataset(a->f, "onset", keys)) >= 0) &&
             (!has_velocity || (a->d[2] = acts_dataset(a->f, "velocity", keys)) >= 0) &&
             h5_scalar_attr(a->f, "fps", H5T_NATIVE_DOUBLE, &fps) &&
             h5_scalar_attr(a->f, "lowest_pitch", H5T_NATIVE_INT32, &lp) &&
             h5_string_attr(a->f, "input", input ? input : "") && h5_string_attr(a->f, "model", model ? model : "");
    if (!ok) {
        amt_out_acts_close(a, 0);
        amt_error(AMT_EIO, "%s: cannot create", path);
        return NULL;
    }
    return a;
}

int amt_out_acts_write(amt_out_acts *a, const float *frame, const float *onset, const float *velocity, long n)
{
    if (n <= 0) return AMT_OK;
    const float *src[3] = {frame, onset, velocity};
    hsize_t dims[2] = {(hsize_t)(a->rows + n), (hsize_t)a->keys}, start[2] = {(hsize_t)a->rows, 0},
            count[2] = {(hsize_t)n, (hsize_t)a->keys};
    for (int i = 0; i < 3; i++) {
        if (a->d[i] < 0) continue;
        if (!src[i]) return amt_error(AMT_EINVAL, "%s: rows of dataset %d missing", a->path, i);
        hid_t fs = -1, ms = -1;
        int ok = H5Dset_extent(a->d[i], dims) >= 0 && (fs = H5Dget_space(a->d[i])) >= 0 &&
                 H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                 (ms = H5Screate_simple(2, count, NULL)) >= 0 &&
                 H5Dwrite(a->d[i], H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, src[i]) >= 0;
        if (ms >= 0) H5Sclose(ms);
        if (fs >= 0) H5Sclose(fs);
        if (!ok) return amt_error(AMT_EIO, "%s: write failed (disk full?)", a->path);
    }
    a->rows += n;
    return AMT_OK;
}

int amt_out_acts_close(amt_out_acts *a, int keep)
{
    if (!a) return AMT_OK;
    int ok = 1;
    for (int i = 0; i < 3; i++)
        if (a->d[i] >= 0 && H5Dclose(a->d[i]) < 0) ok = 0;
    if (a->f >= 0 && H5Fclose(a->f) < 0) ok = 0;
    int rc = AMT_OK;
    if (keep) {
        rc = finish_tmp(a->tmp, a->path, ok);   /* takes tmp */
        a->tmp = NULL;
    } else {
        remove(a->tmp);
    }
    free(a->tmp);
    free(a->path);
    free(a);
    return rc;
}

int amt_out_activations_h5(const char *path, const float *frame, const float *onset, const float *velocity,
                           long n_frames, int keys, double fps, int lowest_pitch, const char *input,
                           const char *model)
{
    amt_out_acts *a = amt_out_acts_open(path, keys, onset != NULL, velocity != NULL, fps, lowest_pitch, input, model);
    if (!a) return amt_errcode();
    int rc = amt_out_acts_write(a, frame, onset, velocity, n_frames);
    int rc2 = amt_out_acts_close(a, rc == AMT_OK);
    return rc ? rc : rc2;
}

/* ---- JSON ---- */

int amt_out_instrument_json(const char *path, const char *input, const amt_cls_result *res, const char *model,
                            const char *model_instrument, const char *warning)
{
    char *tmp = tmp_path(path);
    if (!tmp) return amt_error(AMT_ENOMEM, "%s: out of memory", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return amt_error(AMT_EIO, "%s: cannot create", path);
    }
    int top = res->top >= 0 && res->top < AMT_CLS_NCLASS ? res->top : 0;
    fprintf(f, "{\n  \"input\": ");
    amt_json_string(f, input ? input : "");
    fprintf(f, ",\n  \"label\": ");
    amt_json_string(f, amt_classifier_classes[top]);
    fprintf(f, ",\n  \"name\": ");
    amt_json_string(f, amt_classifier_class_names[top]);
    fprintf(f, ",\n  \"probabilities\": {");
    for (int i = 0; i < AMT_CLS_NCLASS; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", amt_classifier_classes[i]);
        amt_json_number(f, res->probs[i]);
    }
    fprintf(f, "},\n  \"labels\": [");
    for (int i = 0, k = 0; i < AMT_CLS_NCLASS; i++)
        if (res->labels[i]) fprintf(f, "%s\"%s\"", k++ ? ", " : "", amt_classifier_classes[i]);
    fprintf(f, "],\n  \"windows\": %d,\n  \"transcription_model\": ", res->windows);
    if (model) amt_json_string(f, model);
    else fputs("null", f);
    fprintf(f, ",\n  \"transcription_instrument\": ");
    if (model_instrument) amt_json_string(f, model_instrument);
    else fputs("null", f);
    fprintf(f, ",\n  \"warning\": ");
    if (warning && *warning) amt_json_string(f, warning);
    else fputs("null", f);
    fprintf(f, "\n}\n");
    int ok = !ferror(f);
    if (fclose(f) != 0) ok = 0;
    return finish_tmp(tmp, path, ok);
}
