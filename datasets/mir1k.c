/* datasets/mir1k.c: MIR-1K loader (see mir1k.h). */
#include "datasets/mir1k.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio/audio_io.h"
#include "audio/resample.h"
#include "core/error.h"
#include "core/rng.h"

#define MIR1K_DEFAULT_TEST_FRACTION 0.2

void amt_mir1k_opts_default(amt_mir1k_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = AMT_SPLIT_PROTOCOL;
    o->test_fraction = MIR1K_DEFAULT_TEST_FRACTION;
    o->seed = 1;
    o->v.check_audio = 1;
}

static int is_dir(const char *p) { struct stat sb; return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode); }

/* "abjones_1_01.wav" -> singer, song, clip (clip -1 for undivided names). */
static int parse_name(const char *path, int undivided, char *singer, int cap, int *song, int *clip)
{
    const char *b = amt_basename(path);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", b);
    char *dot = strrchr(tmp, '.');
    if (dot) *dot = 0;
    char *u2 = strrchr(tmp, '_');
    if (!u2) return -1;
    char *end;
    if (undivided) {
        *song = (int)strtol(u2 + 1, &end, 10);
        if (end == u2 + 1 || *end) return -1;
        *clip = -1;
    } else {
        *clip = (int)strtol(u2 + 1, &end, 10);
        if (end == u2 + 1 || *end) return -1;
        *u2 = 0;
        char *u1 = strrchr(tmp, '_');
        if (!u1) return -1;
        *song = (int)strtol(u1 + 1, &end, 10);
        if (end == u1 + 1 || *end) return -1;
        u2 = u1;
    }
    *u2 = 0;
    if (!tmp[0]) return -1;
    size_t L = strlen(tmp);
    if (L >= (size_t)cap) return -1;
    memcpy(singer, tmp, L + 1);
    return 0;
}

int amt_mir1k_open(const char *root, const amt_mir1k_opts *opt, amt_mir1k *ds)
{
    memset(ds, 0, sizeof *ds);
    amt_mir1k_opts o;
    if (opt) o = *opt; else amt_mir1k_opts_default(&o);
    const char *sub = o.undivided ? "UndividedWavfile" : "Wavfile";
    char dir[2048];
    snprintf(ds->root, sizeof ds->root, "%s", root);
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    if (!is_dir(dir)) {
        snprintf(ds->root, sizeof ds->root, "%s/MIR-1K", root);
        snprintf(dir, sizeof dir, "%s/MIR-1K/%s", root, sub);
        if (!is_dir(dir)) return amt_error(AMT_EIO, "%s: no %s/ folder (not a MIR-1K directory)", root, sub);
    }
    amt_filelist fl;
    int rc = amt_filelist_scan(dir, ".wav", 0, &fl);
    if (rc) return rc;
    if (fl.n == 0) { amt_filelist_free(&fl); return amt_error(AMT_EIO, "%s: no .wav files", dir); }
    ds->clips = calloc((size_t)fl.n, sizeof *ds->clips);
    if (!ds->clips) { amt_filelist_free(&fl); return amt_error(AMT_ENOMEM, "mir1k: out of memory"); }
    char warn[512] = "";
    for (int i = 0; i < fl.n && !rc; i++) {
        amt_mir1k_clip c;
        memset(&c, 0, sizeof c);
        int bad = 0;
        if (parse_name(fl.path[i], o.undivided, c.singer, sizeof c.singer, &c.song, &c.clip)) {
            bad = amt_error(AMT_EFORMAT, "%s: name is not %s", fl.path[i], o.undivided ? "singer_song.wav" : "singer_song_clip.wav");
        } else if (o.v.check_audio) {
            bad = amt_check_audio(fl.path[i], 2, 0, &c.frames);
        }
        if (bad) {
            if (!o.v.skip_bad) { rc = bad; break; }
            ds->skipped++;
            snprintf(warn, sizeof warn, "%s (skipped)", amt_errmsg());
            continue;
        }
        c.wav = fl.path[i];
        fl.path[i] = NULL;
        ds->clips[ds->n++] = c;
    }
    amt_filelist_free(&fl);
    if (!rc && ds->n == 0) rc = amt_error(AMT_EFORMAT, "%s: no usable clips (%d skipped)", dir, ds->skipped);
    if (rc) { amt_mir1k_close(ds); return rc; }
    /* splits */
    if (o.split == AMT_SPLIT_PROTOCOL) {
        for (int i = 0; i < ds->n; i++)
            ds->clips[i].train = !strcmp(ds->clips[i].singer, "abjones") || !strcmp(ds->clips[i].singer, "amy");
    } else {
        unsigned char *tr = malloc((size_t)ds->n);
        if (!tr) { amt_mir1k_close(ds); return amt_error(AMT_ENOMEM, "mir1k: out of memory"); }
        amt_random_split(ds->n, o.test_fraction > 0 ? o.test_fraction : MIR1K_DEFAULT_TEST_FRACTION, o.seed, tr);
        for (int i = 0; i < ds->n; i++) ds->clips[i].train = tr[i];
        free(tr);
    }
    snprintf(ds->warning, sizeof ds->warning, "%s", warn);
    return AMT_OK;
}

void amt_mir1k_close(amt_mir1k *ds)
{
    for (int i = 0; i < ds->n; i++) free(ds->clips[i].wav);
    free(ds->clips);
    memset(ds, 0, sizeof *ds);
}

int amt_mir1k_split(const amt_mir1k *ds, int train, int **idx, int *n)
{
    *idx = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof **idx);
    if (!*idx) return amt_error(AMT_ENOMEM, "mir1k: out of memory");
    *n = 0;
    for (int i = 0; i < ds->n; i++) if (ds->clips[i].train == (train != 0)) (*idx)[(*n)++] = i;
    return AMT_OK;
}

int amt_mir1k_read(const amt_mir1k *ds, int i, float **mix, float **music, float **voice, long *n)
{
    if (mix) *mix = NULL;
    if (music) *music = NULL;
    if (voice) *voice = NULL;
    *n = 0;
    if (i < 0 || i >= ds->n) return amt_error(AMT_EINVAL, "mir1k: clip %d out of range (0..%d)", i, ds->n - 1);
    const char *path = ds->clips[i].wav;
    amt_audio a;
    int rc = amt_audio_read(path, &a);
    if (rc) return rc;
    if (a.channels != 2) {
        int ch = a.channels;
        amt_audio_free(&a);
        return amt_error(AMT_EFORMAT, "%s: %d channel%s, expected 2 (left accompaniment, right voice)", path, ch, ch == 1 ? "" : "s");
    }
    if (a.rate != AMT_MIR1K_RATE) {
        float *rs;
        long nr;
        rc = amt_resample(a.data, a.frames, 2, a.rate, AMT_MIR1K_RATE, &rs, &nr);
        if (rc) { amt_audio_free(&a); return rc; }
        free(a.data);
        a.data = rs; a.frames = nr; a.rate = AMT_MIR1K_RATE;
    }
    long N = a.frames;
    float *m = mix ? malloc((size_t)N * sizeof *m) : NULL;
    float *l = music ? malloc((size_t)N * sizeof *l) : NULL;
    float *r = voice ? malloc((size_t)N * sizeof *r) : NULL;
    if ((mix && !m) || (music && !l) || (voice && !r)) {
        free(m); free(l); free(r); amt_audio_free(&a);
        return amt_error(AMT_ENOMEM, "%s: out of memory", path);
    }
    for (long f = 0; f < N; f++) {
        float L = a.data[2 * f], R = a.data[2 * f + 1];
        if (m) m[f] = L + R;
        if (l) l[f] = L;
        if (r) r[f] = R;
    }
    amt_audio_free(&a);
    if (mix) *mix = m;
    if (music) *music = l;
    if (voice) *voice = r;
    *n = N;
    return AMT_OK;
}

long amt_mir1k_label_frames(long n)
{
    return n < AMT_MIR1K_LABEL_WIN ? 0 : (n - AMT_MIR1K_LABEL_WIN) / AMT_MIR1K_LABEL_HOP + 1;
}

int amt_mir1k_label_lines(const char *path, long *lines)
{
    FILE *f = fopen(path, "r");
    if (!f) return amt_error(AMT_EIO, "%s: cannot open label file", path);
    long n = 0;
    int c, last = '\n', nonblank = 0;
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') { if (nonblank) n++; nonblank = 0; }
        else if (c != '\r' && c != ' ' && c != '\t') nonblank = 1;
        last = c;
    }
    if (last != '\n' && nonblank) n++;
    fclose(f);
    *lines = n;
    return AMT_OK;
}

void amt_mir1k_label_path(const amt_mir1k *ds, int i, const char *sub, const char *ext, char *out, int cap)
{
    const char *b = amt_basename(ds->clips[i].wav);
    const char *dot = strrchr(b, '.');
    int stem = dot ? (int)(dot - b) : (int)strlen(b);
    snprintf(out, (size_t)cap, "%s/%s/%.*s%s", ds->root, sub, stem, b, ext);
}

int amt_mir1k_load_item(void *ud, int item, float **feat, float **tgt, long *frames)
{
    amt_mir1k_loader *L = ud;
    amt_featurizer *fz = L->fz;
    float *mix, *mus, *voc;
    long n;
    *feat = *tgt = NULL;
    int rc = amt_mir1k_read(L->ds, item, &mix, &mus, &voc, &n);
    if (rc) return rc;
    if (fz->rate != AMT_MIR1K_RATE) {
        float *bufs[3] = {mix, mus, voc};
        long nr = n;
        for (int k = 0; k < 3 && !rc; k++) {
            float *o;
            rc = amt_resample(bufs[k], n, 1, AMT_MIR1K_RATE, fz->rate, &o, &nr);
            if (!rc) { free(bufs[k]); bufs[k] = o; }
        }
        mix = bufs[0]; mus = bufs[1]; voc = bufs[2];
        n = nr;
    }
    long F = rc ? 0 : fz->frames(fz->ud, n);
    int B = fz->bins;
    if (!rc) {
        *feat = malloc((size_t)F * B * sizeof **feat);
        *tgt = malloc((size_t)F * 2 * B * sizeof **tgt);
        float *tmp = malloc((size_t)F * B * sizeof *tmp);
        if (!*feat || !*tgt || !tmp) rc = amt_error(AMT_ENOMEM, "mir1k: out of memory for %ld frames", F);
        if (!rc) rc = fz->compute(fz->ud, mix, n, *feat);
        if (!rc) rc = fz->compute(fz->ud, voc, n, tmp);
        for (long f = 0; !rc && f < F; f++) memcpy(*tgt + (size_t)f * 2 * B, tmp + (size_t)f * B, (size_t)B * sizeof *tmp);
        if (!rc) rc = fz->compute(fz->ud, mus, n, tmp);
        for (long f = 0; !rc && f < F; f++) memcpy(*tgt + (size_t)f * 2 * B + B, tmp + (size_t)f * B, (size_t)B * sizeof *tmp);
        free(tmp);
    }
    free(mix); free(mus); free(voc);
    if (rc) { free(*feat); free(*tgt); *feat = *tgt = NULL; return rc; }
    *frames = F;
    return AMT_OK;
}

#define MIR1K_VAL_SALT 0x5e9a7a11c0ffee01ULL   /* mixes the seed for the validation choice */

/* Marks which of n training clips of one root are held out for validation: a seeded
 * permutation's first round(fraction * n) (at least 1 when fraction > 0 and n >= 2).
 * Used by training (train/kind_separator.c) and evaluation (--split val / train). */
int amt_mir1k_val_choice(int n, double fraction, uint64_t seed, unsigned char *is_val)
{
    memset(is_val, 0, (size_t)(n > 0 ? n : 0));
    if (n < 2 || fraction <= 0) return AMT_OK;
    int nv = (int)lround(fraction * n);
    if (nv < 1) nv = 1;
    if (nv > n - 1) nv = n - 1;
    int *perm = malloc(sizeof(int) * (size_t)n);
    if (!perm) return amt_error(AMT_ENOMEM, "mir1k: out of memory");
    for (int i = 0; i < n; i++) perm[i] = i;
    amt_rng r;
    amt_rng_seed(&r, seed ^ MIR1K_VAL_SALT);
    amt_rng_shuffle_int(&r, perm, n);
    for (int i = 0; i < nv; i++) is_val[perm[i]] = 1;
    free(perm);
    return AMT_OK;
}
