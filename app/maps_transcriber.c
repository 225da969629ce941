/* app/maps_transcriber.c: see maps_transcriber.h. */
#include "app/maps_transcriber.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "audio/audio_io.h"
#include "audio/midi.h"
#include "audio/resample.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/filelist.h"
#include "datasets/maps.h"
#include "models/transcriber.h"

int amt_tr_parse_subsets(const char *s, const char **bad)
{
    static const struct { const char *name; int bit; } names[] = {
        {"isol", AMT_MAPS_ISOL}, {"rand", AMT_MAPS_RAND}, {"ucho", AMT_MAPS_UCHO}, {"mus", AMT_MAPS_MUS},
        {"all", AMT_MAPS_ALL}};
    int bits = 0;
    *bad = s;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ',' && *e != ' ' && *e != '\t') e++;
        int hit = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == (size_t)(e - s) && !strncasecmp(s, names[i].name, (size_t)(e - s))) {
                bits |= names[i].bit;
                hit = 1;
            }
        if (!hit) { *bad = s; return 0; }
        s = e;
    }
    return bits;
}

int amt_tr_data_keys(struct amt_config *cfg, int *subsets, double *val_max_seconds)
{
    const char *subs, *bad;
    int rc;
    if ((rc = amt_config_get_float(cfg, "train", "val_max_seconds", TR_DEFAULT_VAL_SECONDS, 0, 1e7, val_max_seconds)) ||
        (rc = amt_config_get_string(cfg, "train", "subsets", TR_SUBSETS_DEFAULT, &subs)))
        return rc;
    if (!(*subsets = amt_tr_parse_subsets(subs, &bad)))
        return amt_error(AMT_ECONFIG, "%s: train.subsets: '%s' is not a list of isol, rand, ucho, mus (or all)",
                         amt_config_path(cfg), bad);
    return AMT_OK;
}

/* Seconds of audio of a sound file from its header (0 when unreadable: indexing checked it). */
static double file_seconds(const char *path)
{
    amt_audio info;
    memset(&info, 0, sizeof info);
    amt_audio_reader *r = amt_audio_open(path, &info);
    if (!r) { amt_error_clear(); return 0; }
    amt_audio_close(r);
    return info.rate > 0 ? (double)info.frames / info.rate : 0;
}

int amt_tr_data_open(const char *root, int split, int subsets, double val_fraction, double val_max_seconds,
                     uint64_t seed, amt_maps *ds, int **train, int *ntrain, int **val, int *nval, int **test,
                     int *ntest)
{
    *train = *val = *test = NULL;
    *ntrain = *nval = *ntest = 0;
    amt_maps_opts mo;
    amt_maps_opts_default(&mo);
    mo.split = split == AMT_TR_SPLIT_RANDOM ? AMT_MAPS_SPLIT_RANDOM : AMT_MAPS_SPLIT_SIGTIA2;
    mo.train_subsets = subsets ? subsets : AMT_MAPS_ALL;
    mo.seed = seed;
    int rc = amt_maps_open(root, &mo, ds);
    if (rc) return rc;
    int *cand = NULL, ncand = 0;
    unsigned char *keep = NULL;
    if ((rc = amt_maps_split(ds, AMT_MAPS_TRAIN, &cand, &ncand)) ||
        (rc = amt_maps_split(ds, AMT_MAPS_TEST, test, ntest)))
        goto fail;
    *train = malloc(sizeof(int) * (size_t)(ncand + 1));
    *val = malloc(sizeof(int) * (size_t)(ncand + 1));
    keep = malloc((size_t)ncand + 1);
    if (!*train || !*val || !keep) { rc = amt_error(AMT_ENOMEM, "maps: out of memory"); goto fail; }
    amt_random_split(ncand, val_fraction, seed, keep);
    double held = 0;
    for (int i = 0; i < ncand; i++) {
        if (!keep[i] && held < val_max_seconds) {
            held += file_seconds(ds->files[cand[i]].wav);
            (*val)[(*nval)++] = cand[i];
        } else {
            (*train)[(*ntrain)++] = cand[i];
        }
    }
    free(cand);
    free(keep);
    return AMT_OK;
fail:
    free(cand);
    free(keep);
    free(*train); free(*val); free(*test);
    *train = *val = *test = NULL;
    *ntrain = *nval = *ntest = 0;
    amt_maps_close(ds);
    return rc;
}

static int by_onset(const void *a, const void *b)
{
    double x = ((const amt_note *)a)->onset, y = ((const amt_note *)b)->onset;
    return x < y ? -1 : x > y;
}

int amt_tr_file_notes(const amt_maps_file *f, amt_notes *out)
{
    int rc = amt_notes_read_tsv(f->txt, out);
    if (rc) return rc;
    size_t len = strlen(f->wav);
    char *mid = malloc(len + 1);
    if (!mid) return amt_error(AMT_ENOMEM, "%s: out of memory", f->wav);
    memcpy(mid, f->wav, len + 1);
    if (len > 4) strcpy(mid + len - 4, ".mid");
    FILE *probe = fopen(mid, "rb");
    if (probe) {
        fclose(probe);
        amt_notes m;
        amt_midi_read_opts opt = {1, 1};
        if (amt_midi_read(mid, &opt, &m, NULL) == AMT_OK) {
            qsort(m.v, (size_t)m.n, sizeof *m.v, by_onset);   /* amt_notes_sort order is by onset first too */
            for (int i = 0; i < out->n; i++) {
                amt_note *nt = &out->v[i];
                int lo = 0, hi = m.n;   /* first mid note with onset >= nt->onset - tol */
                while (lo < hi) {
                    int md = (lo + hi) / 2;
                    if (m.v[md].onset < nt->onset - TR_VEL_MATCH_S) lo = md + 1;
                    else hi = md;
                }
                for (int j = lo; j < m.n && m.v[j].onset <= nt->onset + TR_VEL_MATCH_S; j++)
                    if (m.v[j].pitch == nt->pitch) { nt->velocity = m.v[j].velocity; break; }
            }
            amt_notes_free(&m);
        } else {
            amt_error_clear();   /* a bad .mid only costs the velocities */
        }
    }
    free(mid);
    return AMT_OK;
}

int amt_tr_file_features(const amt_transcriber_config *c, const char *wav, float **feat, long *n_frames)
{
    float *a = NULL;
    long n = 0;
    int rate = 0;
    int rc = amt_audio_read_mono(wav, -1, 0, &a, &n, &rate);
    if (rc) return rc;
    rc = amt_transcriber_features(c, a, n, rate, feat, n_frames);
    free(a);
    return rc;
}
