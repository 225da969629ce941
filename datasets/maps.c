/* datasets/maps.c: MAPS loader (see maps.h). */
#include "datasets/maps.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "core/error.h"

#define MAPS_DEFAULT_TEST_FRACTION 0.2
#define MAPS_SCAN_DEPTH 6

void amt_maps_opts_default(amt_maps_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = AMT_MAPS_SPLIT_SIGTIA2;
    o->train_subsets = AMT_MAPS_MUS;
    o->test_fraction = MAPS_DEFAULT_TEST_FRACTION;
    o->seed = 1;
    o->v.check_audio = 1;
}

static int parse_maps_name(const char *path, char *piano, int cap, int *subset)
{
    const char *b = amt_basename(path);
    if (!strncmp(b, "MAPS_ISOL_", 10)) *subset = AMT_MAPS_ISOL;
    else if (!strncmp(b, "MAPS_RAND_", 10)) *subset = AMT_MAPS_RAND;
    else if (!strncmp(b, "MAPS_UCHO_", 10)) *subset = AMT_MAPS_UCHO;
    else if (!strncmp(b, "MAPS_MUS-", 9)) *subset = AMT_MAPS_MUS;
    else return -1;
    const char *dot = strrchr(b, '.'), *u = NULL;
    for (const char *p = b; p < dot; p++) if (*p == '_') u = p;
    if (!u || dot - u - 1 <= 0 || dot - u - 1 >= cap) return -1;
    memcpy(piano, u + 1, (size_t)(dot - u - 1));
    piano[dot - u - 1] = 0;
    return 0;
}

static int is_test_piano(const char *p) { return !strcmp(p, "ENSTDkCl") || !strcmp(p, "ENSTDkAm"); }

int amt_maps_open(const char *root, const amt_maps_opts *opt, amt_maps *ds)
{
    memset(ds, 0, sizeof *ds);
    amt_maps_opts o;
    if (opt) o = *opt; else amt_maps_opts_default(&o);
    amt_filelist fl;
    int rc = amt_filelist_scan(root, ".wav", MAPS_SCAN_DEPTH, &fl);
    if (rc) return rc;
    if (fl.n == 0) { amt_filelist_free(&fl); return amt_error(AMT_EIO, "%s: no .wav files (not a MAPS directory)", root); }
    ds->files = calloc((size_t)fl.n, sizeof *ds->files);
    if (!ds->files) { amt_filelist_free(&fl); return amt_error(AMT_ENOMEM, "maps: out of memory"); }
    char warn[600] = "";
    for (int i = 0; i < fl.n; i++) {
        amt_maps_file f;
        memset(&f, 0, sizeof f);
        const char *w = fl.path[i];
        size_t L = strlen(w);
        char txt[4096];
        snprintf(txt, sizeof txt, "%.*s.txt", (int)(L - 4), w);
        int bad = 0;
        if (parse_maps_name(w, f.piano, sizeof f.piano, &f.subset))
            bad = amt_error(AMT_EFORMAT, "%s: not a MAPS file name (MAPS_{ISOL_,RAND_,UCHO_,MUS-}..._<Piano>.wav)", w);
        else if (access(txt, R_OK) != 0)
            bad = amt_error(AMT_EIO, "%s: annotation %s missing or unreadable", w, amt_basename(txt));
        else {
            amt_notes ns;
            bad = amt_notes_read_tsv(txt, &ns);
            if (!bad) amt_notes_free(&ns);
        }
        if (!bad && o.v.check_audio) bad = amt_check_audio(w, 2, 0, NULL);
        if (bad) {
            if (!o.v.skip_bad) { rc = bad; break; }
            ds->skipped++;
            snprintf(warn, sizeof warn, "%s (skipped)", amt_errmsg());
            continue;
        }
        f.wav = fl.path[i];
        fl.path[i] = NULL;
        if (!(f.txt = strdup(txt))) { free(f.wav); rc = amt_error(AMT_ENOMEM, "maps: out of memory"); break; }
        ds->files[ds->n++] = f;
    }
    amt_filelist_free(&fl);
    if (!rc && ds->n == 0) rc = amt_error(AMT_EFORMAT, "%s: no usable MAPS files (%d skipped)", root, ds->skipped);
    if (rc) { amt_maps_close(ds); return rc; }
    if (o.split == AMT_MAPS_SPLIT_SIGTIA2) {
        for (int i = 0; i < ds->n; i++) {
            amt_maps_file *f = &ds->files[i];
            if (is_test_piano(f->piano)) f->split = f->subset == AMT_MAPS_MUS ? AMT_MAPS_TEST : AMT_MAPS_UNUSED;
            else f->split = (f->subset & o.train_subsets) ? AMT_MAPS_TRAIN : AMT_MAPS_UNUSED;
        }
    } else {
        unsigned char *tr = malloc((size_t)ds->n);
        if (!tr) { amt_maps_close(ds); return amt_error(AMT_ENOMEM, "maps: out of memory"); }
        amt_random_split(ds->n, o.test_fraction > 0 ? o.test_fraction : MAPS_DEFAULT_TEST_FRACTION, o.seed, tr);
        for (int i = 0; i < ds->n; i++) ds->files[i].split = tr[i] ? AMT_MAPS_TRAIN : AMT_MAPS_TEST;
        free(tr);
    }
    snprintf(ds->warning, sizeof ds->warning, "%s", warn);
    return AMT_OK;
}

void amt_maps_close(amt_maps *ds)
{
    for (int i = 0; i < ds->n; i++) { free(ds->files[i].wav); free(ds->files[i].txt); }
    free(ds->files);
    memset(ds, 0, sizeof *ds);
}

int amt_maps_split(const amt_maps *ds, int which, int **idx, int *n)
{
    *idx = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof **idx);
    if (!*idx) return amt_error(AMT_ENOMEM, "maps: out of memory");
    *n = 0;
    for (int i = 0; i < ds->n; i++) if (ds->files[i].split == which) (*idx)[(*n)++] = i;
    return AMT_OK;
}

void amt_maps_targets(const amt_notes *ns, double fps, long frames, float *roll, float *onset)
{
    memset(roll, 0, (size_t)frames * AMT_MAPS_KEYS * sizeof *roll);
    memset(onset, 0, (size_t)frames * AMT_MAPS_KEYS * sizeof *onset);
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        int k = n->pitch - AMT_MAPS_LOWEST;
        if (k < 0 || k >= AMT_MAPS_KEYS) continue;
        long f0 = (long)ceil(n->onset * fps - 1e-9), f1 = (long)ceil(n->offset * fps - 1e-9);   /* frames with onset <= t < offset */
        long fon = lround(n->onset * fps);
        if (fon >= 0 && fon < frames) { onset[fon * AMT_MAPS_KEYS + k] = 1; roll[fon * AMT_MAPS_KEYS + k] = 1; }
        if (f0 < 0) f0 = 0;
        if (f1 > frames) f1 = frames;
        for (long f = f0; f < f1; f++) roll[f * AMT_MAPS_KEYS + k] = 1;
    }
}

int amt_maps_load_item(void *ud, int item, float **feat, float **tgt, long *frames)
{
    amt_maps_loader *L = ud;
    *feat = *tgt = NULL;
    if (item < 0 || item >= L->ds->n) return amt_error(AMT_EINVAL, "maps: item %d out of range", item);
    const amt_maps_file *f = &L->ds->files[item];
    float *x;
    long n;
    int rc = amt_audio_read_mono(f->wav, -1, L->fz->rate, &x, &n, NULL);
    if (rc) return rc;
    amt_notes ns;
    rc = amt_notes_read_tsv(f->txt, &ns);
    if (rc) { free(x); return rc; }
    long F = L->fz->frames(L->fz->ud, n);
    int B = L->fz->bins;
    *feat = malloc((size_t)F * B * sizeof **feat);
    *tgt = malloc((size_t)F * 2 * AMT_MAPS_KEYS * sizeof **tgt);
    float *roll = malloc((size_t)F * AMT_MAPS_KEYS * sizeof *roll), *on = malloc((size_t)F * AMT_MAPS_KEYS * sizeof *on);
    if (!*feat || !*tgt || !roll || !on) rc = amt_error(AMT_ENOMEM, "%s: out of memory for %ld frames", f->wav, F);
    if (!rc) rc = L->fz->compute(L->fz->ud, x, n, *feat);
    if (!rc) {
        amt_maps_targets(&ns, L->fz->fps, F, roll, on);
        for (long t = 0; t < F; t++) {
            memcpy(*tgt + (size_t)t * 2 * AMT_MAPS_KEYS, roll + (size_t)t * AMT_MAPS_KEYS, AMT_MAPS_KEYS * sizeof *roll);
            memcpy(*tgt + (size_t)t * 2 * AMT_MAPS_KEYS + AMT_MAPS_KEYS, on + (size_t)t * AMT_MAPS_KEYS, AMT_MAPS_KEYS * sizeof *on);
        }
    }
    free(roll); free(on); free(x);
    amt_notes_free(&ns);
    if (rc) { free(*feat); free(*tgt); *feat = *tgt = NULL; return rc; }
    *frames = F;
    return AMT_OK;
}
