/* datasets/irmas.c: IRMAS loader (see irmas.h). */
#include "datasets/irmas.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "core/error.h"

#define IRMAS_DEFAULT_TEST_FRACTION 0.2

const char *const amt_irmas_classes[AMT_IRMAS_NCLASS] = {"cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi"};

int amt_irmas_class_index(const char *code)
{
    for (int c = 0; c < AMT_IRMAS_NCLASS; c++) if (!strcmp(code, amt_irmas_classes[c])) return c;
    return -1;
}

void amt_irmas_opts_default(amt_irmas_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = AMT_IRMAS_SPLIT_LAYOUT;
    o->test_fraction = IRMAS_DEFAULT_TEST_FRACTION;
    o->seed = 1;
    o->v.check_audio = 1;
}

static int is_dir(const char *p) { struct stat sb; return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode); }

int amt_irmas_read_labels(const char *txt, unsigned *labels)
{
    *labels = 0;
    FILE *f = fopen(txt, "r");
    if (!f) return amt_error(AMT_EIO, "%s: cannot open label file", txt);
    char line[256];
    int ln = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        ln++;
        char *p = line, *e;
        while (*p && isspace((unsigned char)*p)) p++;
        e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1])) *--e = 0;
        if (!*p) continue;
        int c = amt_irmas_class_index(p);
        if (c < 0) rc = amt_error(AMT_EFORMAT, "%s:%d: unknown instrument code '%s'", txt, ln, p);
        else *labels |= 1u << c;
    }
    fclose(f);
    if (!rc && !*labels) rc = amt_error(AMT_EFORMAT, "%s: no instrument codes", txt);
    return rc;
}

/* Tags of a training name: first [xxx] must be the folder's class; [dru]/[nod] noted. */
static int parse_tags(const char *path, int cls, int *drums)
{
    const char *b = amt_basename(path);
    *drums = -1;
    const char *p = strchr(b, '[');   /* some IRMAS names start with a number: "008__[vio][nod]..." */
    if (!p) return amt_error(AMT_EFORMAT, "%s: name has no [class] tag", path);
    int k = 0;
    while (*p == '[') {
        const char *q = strchr(p, ']');
        if (!q || q - p - 1 <= 0 || q - p - 1 > 15) return amt_error(AMT_EFORMAT, "%s: malformed tag", path);
        char tag[16];
        memcpy(tag, p + 1, (size_t)(q - p - 1));
        tag[q - p - 1] = 0;
        if (k == 0 && amt_irmas_class_index(tag) != cls)
            return amt_error(AMT_EFORMAT, "%s: tag [%s] disagrees with folder %s", path, tag, amt_irmas_classes[cls]);
        if (!strcmp(tag, "dru")) *drums = 1;
        if (!strcmp(tag, "nod")) *drums = 0;
        p = q + 1;
        k++;
    }
    return AMT_OK;
}

static int push_file(amt_irmas *ds, int *cap, const amt_irmas_file *f)
{
    if (ds->n == *cap) {
        int nc = *cap ? 2 * *cap : 256;
        amt_irmas_file *nf = realloc(ds->files, (size_t)nc * sizeof *nf);
        if (!nf) return amt_error(AMT_ENOMEM, "irmas: out of memory");
        ds->files = nf; *cap = nc;
    }
    ds->files[ds->n++] = *f;
    return AMT_OK;
}

int amt_irmas_open(const char *root, const amt_irmas_opts *opt, amt_irmas *ds)
{
    memset(ds, 0, sizeof *ds);
    amt_irmas_opts o;
    if (opt) o = *opt; else amt_irmas_opts_default(&o);
    char dir[2048], warn[600] = "";
    int rc = 0, cap = 0;
    snprintf(dir, sizeof dir, "%s/IRMAS-TrainingData", root);
    int have_train = is_dir(dir);
    if (have_train) {
        /* class folders: sorted listing */
        DIR *d = opendir(dir);
        if (!d) return amt_error(AMT_EIO, "%s: cannot open", dir);
        amt_filelist sub = {0};
        struct dirent *e;
        while (!rc && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (is_dir(p)) rc = amt_filelist_push(&sub, p);
        }
        closedir(d);
        amt_filelist_sort(&sub);
        for (int s = 0; s < sub.n && !rc; s++) {
            int cls = amt_irmas_class_index(amt_basename(sub.path[s]));
            if (cls < 0) {
                rc = amt_error(AMT_EFORMAT, "%s: unknown IRMAS class folder '%s' (expected one of cel cla flu gac gel org pia sax tru vio voi)",
                               sub.path[s], amt_basename(sub.path[s]));
                if (o.v.skip_bad) { ds->skipped++; snprintf(warn, sizeof warn, "%s (skipped)", amt_errmsg()); rc = 0; }
                continue;
            }
            amt_filelist fl;
            rc = amt_filelist_scan(sub.path[s], ".wav", 0, &fl);
            for (int i = 0; i < fl.n && !rc; i++) {
                amt_irmas_file f = {0};
                f.labels = 1u << cls;
                int bad = parse_tags(fl.path[i], cls, &f.drums);
                if (!bad && o.v.check_audio) bad = amt_check_audio(fl.path[i], 2, 0, NULL);
                if (bad) {
                    if (!o.v.skip_bad) { rc = bad; break; }
                    ds->skipped++;
                    snprintf(warn, sizeof warn, "%s (skipped)", amt_errmsg());
                    continue;
                }
                f.wav = fl.path[i]; fl.path[i] = NULL;
                f.train = 1;
                rc = push_file(ds, &cap, &f);
                if (!rc) ds->ntraining_files++;
                else free(f.wav);
            }
            amt_filelist_free(&fl);
        }
        amt_filelist_free(&sub);
    }
    /* testing parts */
    if (!rc && !o.training_only) {
        amt_filelist parts = {0};
        DIR *d = opendir(root);
        if (!d) rc = amt_error(AMT_EIO, "%s: cannot open", root);
        struct dirent *e;
        while (!rc && d && (e = readdir(d))) {
            if (strncmp(e->d_name, "IRMAS-TestingData", 17)) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", root, e->d_name);
            if (is_dir(p)) rc = amt_filelist_push(&parts, p);
        }
        if (d) closedir(d);
        amt_filelist_sort(&parts);
        for (int s = 0; s < parts.n && !rc; s++) {
            amt_filelist fl;
            rc = amt_filelist_scan(parts.path[s], ".wav", 2, &fl);
            for (int i = 0; i < fl.n && !rc; i++) {
                amt_irmas_file f = {0};
                f.drums = -1; f.testing = 1;
                char txt[4096];
                size_t L = strlen(fl.path[i]);
                snprintf(txt, sizeof txt, "%.*s.txt", (int)(L - 4), fl.path[i]);
                int bad = access(txt, R_OK) ? amt_error(AMT_EIO, "%s: label file %s missing", fl.path[i], amt_basename(txt))
                                            : amt_irmas_read_labels(txt, &f.labels);
                if (!bad && o.v.check_audio) bad = amt_check_audio(fl.path[i], 2, 0, NULL);
                if (bad) {
                    if (!o.v.skip_bad) { rc = bad; break; }
                    ds->skipped++;
                    snprintf(warn, sizeof warn, "%s (skipped)", amt_errmsg());
                    continue;
                }
                f.wav = fl.path[i]; fl.path[i] = NULL;
                rc = push_file(ds, &cap, &f);
                if (!rc) ds->ntesting_files++;
                else free(f.wav);
            }
            amt_filelist_free(&fl);
        }
        amt_filelist_free(&parts);
    }
    if (!rc && ds->n == 0) rc = amt_error(AMT_EIO, "%s: no IRMAS files (IRMAS-TrainingData/ or IRMAS-TestingData-Part*/)", root);
    if (rc) { amt_irmas_close(ds); return rc; }
    if (o.split == AMT_IRMAS_SPLIT_RANDOM) {
        unsigned char *tr = malloc((size_t)ds->ntraining_files + 1);
        if (!tr) { amt_irmas_close(ds); return amt_error(AMT_ENOMEM, "irmas: out of memory"); }
        amt_random_split(ds->ntraining_files, o.test_fraction > 0 ? o.test_fraction : IRMAS_DEFAULT_TEST_FRACTION, o.seed, tr);
        for (int i = 0, k = 0; i < ds->n; i++) if (!ds->files[i].testing) ds->files[i].train = tr[k++];
        free(tr);
    }
    snprintf(ds->warning, sizeof ds->warning, "%s", warn);
    return AMT_OK;
}

void amt_irmas_close(amt_irmas *ds)
{
    for (int i = 0; i < ds->n; i++) free(ds->files[i].wav);
    free(ds->files);
    memset(ds, 0, sizeof *ds);
}

int amt_irmas_split(const amt_irmas *ds, int train, int **idx, int *n)
{
    *idx = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof **idx);
    if (!*idx) return amt_error(AMT_ENOMEM, "irmas: out of memory");
    *n = 0;
    for (int i = 0; i < ds->n; i++) if (ds->files[i].train == (train != 0)) (*idx)[(*n)++] = i;
    return AMT_OK;
}

int amt_irmas_load_item(void *ud, int item, float **feat, float **tgt, long *frames)
{
    amt_irmas_loader *L = ud;
    *feat = *tgt = NULL;
    if (item < 0 || item >= L->ds->n) return amt_error(AMT_EINVAL, "irmas: item %d out of range", item);
    const amt_irmas_file *f = &L->ds->files[item];
    float *x;
    long n;
    int rc = amt_audio_read_mono(f->wav, -1, L->fz->rate, &x, &n, NULL);
    if (rc) return rc;
    long F = L->fz->frames(L->fz->ud, n);
    *feat = malloc((size_t)F * L->fz->bins * sizeof **feat);
    *tgt = malloc((size_t)F * AMT_IRMAS_NCLASS * sizeof **tgt);
    if (!*feat || !*tgt) rc = amt_error(AMT_ENOMEM, "%s: out of memory", f->wav);
    if (!rc) rc = L->fz->compute(L->fz->ud, x, n, *feat);
    for (long t = 0; !rc && t < F; t++)
        for (int c = 0; c < AMT_IRMAS_NCLASS; c++) (*tgt)[t * AMT_IRMAS_NCLASS + c] = (f->labels >> c) & 1u ? 1.0f : 0.0f;
    free(x);
    if (rc) { free(*feat); free(*tgt); *feat = *tgt = NULL; return rc; }
    *frames = F;
    return AMT_OK;
}
