/* datasets/filelist.c: shared loader helpers (see filelist.h). */
#include "datasets/filelist.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "core/error.h"
#include "core/rng.h"

int amt_filelist_push(amt_filelist *fl, const char *path)
{
    if (fl->n == fl->cap) {
        int cap = fl->cap ? 2 * fl->cap : 64;
        char **np = realloc(fl->path, (size_t)cap * sizeof *np);
        if (!np) return amt_error(AMT_ENOMEM, "file list: out of memory");
        fl->path = np; fl->cap = cap;
    }
    if (!(fl->path[fl->n] = strdup(path))) return amt_error(AMT_ENOMEM, "file list: out of memory");
    fl->n++;
    return AMT_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
void amt_filelist_sort(amt_filelist *fl) { if (fl->n > 1) qsort(fl->path, (size_t)fl->n, sizeof *fl->path, cmp_str); }

void amt_filelist_free(amt_filelist *fl)
{
    for (int i = 0; i < fl->n; i++) free(fl->path[i]);
    free(fl->path);
    memset(fl, 0, sizeof *fl);
}

static int scan(const char *dir, const char *ext, int depth, amt_filelist *out)
{
    DIR *d = opendir(dir);
    if (!d) return amt_error(AMT_EIO, "%s: cannot open directory", dir);
    struct dirent *e;
    int rc = 0;
    size_t le = strlen(ext);
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) { if (depth > 0) rc = scan(path, ext, depth - 1, out); continue; }
        size_t L = strlen(e->d_name);
        if (L > le && strcasecmp(e->d_name + L - le, ext) == 0) rc = amt_filelist_push(out, path);
    }
    closedir(d);
    return rc;
}

int amt_filelist_scan(const char *dir, const char *ext, int max_depth, amt_filelist *out)
{
    memset(out, 0, sizeof *out);
    int rc = scan(dir, ext, max_depth, out);
    if (rc) { amt_filelist_free(out); return rc; }
    amt_filelist_sort(out);
    return AMT_OK;
}

int amt_check_audio(const char *path, int channels, int rate, long *frames_out)
{
    amt_audio info;
    amt_audio_reader *r = amt_audio_open(path, &info);
    if (!r) return amt_errcode() ? amt_errcode() : amt_error(AMT_EIO, "%s: cannot open", path);
    amt_audio_close(r);
    if (channels > 0 && info.channels != channels)
        return amt_error(AMT_EFORMAT, "%s: %d channel%s, expected %d", path, info.channels, info.channels == 1 ? "" : "s", channels);
    if (rate > 0 && info.rate != rate)
        return amt_error(AMT_EFORMAT, "%s: sample rate %d Hz, expected %d Hz", path, info.rate, rate);
    if (info.frames <= 0) return amt_error(AMT_EFORMAT, "%s: no audio frames", path);
    if (frames_out) *frames_out = info.frames;
    return AMT_OK;
}

void amt_random_split(int n, double test_fraction, uint64_t seed, unsigned char *is_train)
{
    if (n <= 0) return;
    int *perm = malloc((size_t)n * sizeof *perm);
    int ntest = (int)(n * test_fraction + 0.5);
    if (!perm) {   /* fall back to a deterministic stride (no allocation) */
        for (int i = 0; i < n; i++) is_train[i] = !(ntest > 0 && i % (n / ntest > 0 ? n / ntest : 1) == 0);
        return;
    }
    for (int i = 0; i < n; i++) perm[i] = i;
    amt_rng rng;
    amt_rng_seed(&rng, seed);
    amt_rng_shuffle_int(&rng, perm, n);
    for (int i = 0; i < n; i++) is_train[perm[i]] = i >= ntest;
    free(perm);
}

long amt_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, res = 0;
    int got = fscanf(f, "%ld %ld", &size, &res);
    fclose(f);
    if (got != 2) return -1;
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

const char *amt_basename(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}
