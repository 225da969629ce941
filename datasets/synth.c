/* datasets/synth.c: shared machinery of the dataset renderers (see synth.h). */
#include "datasets/synth.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "core/error.h"

void amt_synth_defaults(amt_synth_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->minutes = 1;
    cfg->seed = 1;
}

void amt_synth_maps_piano_name(const char *font_path, char *out, int cap)
{
    const char *b = strrchr(font_path, '/');
    b = b ? b + 1 : font_path;
    const char *dot = strrchr(b, '.');
    int n = snprintf(out, (size_t)cap, "Syn");
    for (const char *p = b; *p && (!dot || p < dot) && n < cap - 1 && n < 19; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) out[n++] = *p;
    out[n] = 0;
}

int amt_synth_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return amt_error(AMT_EINVAL, "bad directory path '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            buf[i] = c;
            return amt_error(AMT_EIO, "%s: cannot create directory: %s", path, strerror(e));
        }
        struct stat sb;
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) return amt_error(AMT_EIO, "%s: not a directory", buf);
        buf[i] = c;
    }
    if (access(path, W_OK) != 0) return amt_error(AMT_EIO, "%s: directory not writable", path);
    return AMT_OK;
}

int amt_synth_write_wav(const char *path, const float *st, long frames, int rate)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        int rc = amt_synth_mkdirs(dir);
        if (rc) return rc;
    }
    return amt_audio_write_wav(path, st, frames, 2, rate, AMT_WAV_PCM16);
}

double amt_synth_rms(const float *x, long n, int stride)
{
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)x[i * stride] * x[i * stride];
    return n > 0 ? sqrt(s / n) : 0;
}

int amt_synth_resolve_fonts(const amt_synth_cfg *cfg, const char **fonts)
{
    int nf = cfg->nfonts;
    if (nf > AMT_RENDER_MAX_FONTS) return amt_error(AMT_EINVAL, "too many soundfonts (%d > %d)", nf, AMT_RENDER_MAX_FONTS);
    for (int i = 0; i < nf; i++) {
        fonts[i] = cfg->fonts[i];
        if (access(fonts[i], R_OK) != 0) return amt_error(AMT_EIO, "%s: cannot read soundfont: %s", fonts[i], strerror(errno));
    }
    if (nf == 0) {
        if (access(AMT_SF_FLUIDR3, R_OK) == 0) fonts[nf++] = AMT_SF_FLUIDR3;
        if (access(AMT_SF_TIMGM6MB, R_OK) == 0) fonts[nf++] = AMT_SF_TIMGM6MB;
        if (nf == 0) return amt_error(AMT_EIO, "no soundfont: %s and %s missing (give --soundfont FILE)", AMT_SF_FLUIDR3, AMT_SF_TIMGM6MB);
    }
    return nf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int amt_synth_run(const amt_synth_cfg *cfg, int rate, long nitems, uint64_t kind,
                  amt_synth_item_fn fn, void *ctx, amt_synth_stats *st)
{
    memset(st, 0, sizeof *st);
    const char *fonts[AMT_RENDER_MAX_FONTS];
    int nf = amt_synth_resolve_fonts(cfg, fonts);
    if (nf < 0) return nf;
    int rc = amt_synth_mkdirs(cfg->out_dir);
    if (rc) return rc;
    double t0 = now_s();
    int nthreads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    if (nthreads > nitems) nthreads = nitems > 0 ? (int)nitems : 1;
    int err = 0;
    char errmsg[512] = "";
    long done = 0, files = 0;
    double audio = 0;
    #pragma omp parallel num_threads(nthreads)
    {
        amt_renderer *r = amt_renderer_new(fonts, nf, rate);
        if (!r) {
            #pragma omp critical(amt_synth_err)
            if (!err) { err = amt_errcode() ? amt_errcode() : AMT_EINTERNAL; snprintf(errmsg, sizeof errmsg, "%s", amt_errmsg()); }
        }
        #pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < nitems; i++) {
            int stop;
            #pragma omp atomic read
            stop = err;
            if (stop || !r) continue;
            uint64_t seed = amt_hash64(cfg->seed ^ amt_hash64(kind * 0x100000000ull + (uint64_t)i));
            double a = 0;
            long nfiles = 0;
            amt_renderer_reset(r);   /* each file independent of the ones before it */
            int e = fn(ctx, r, i, seed, &a, &nfiles);
            #pragma omp critical(amt_synth_err)
            {
                if (e && !err) { err = e; snprintf(errmsg, sizeof errmsg, "%s", amt_errmsg()); }
                done++; files += nfiles; audio += a;
                if (!e && cfg->progress) cfg->progress(cfg->progress_ud, done, nitems, audio);
            }
        }
        amt_renderer_free(r);
    }
    st->files = files;
    st->audio_s = audio;
    st->wall_s = now_s() - t0;
    if (err) return amt_error(err, "%s", errmsg);
    return AMT_OK;
}
