/* datasets/stream.c: bounded-memory batch streaming (see stream.h). */
#include "datasets/stream.h"

#include <stdlib.h>
#include <string.h>

#include "audio/features.h"
#include "core/error.h"
#include "core/rng.h"

/* ---- featurizer adapters ---- */
static long sg_frames(void *ud, long n) { return amt_specgram_frames(ud, n); }
static int sg_compute(void *ud, const float *x, long n, float *out) { return amt_specgram_do(ud, x, n, out); }
static void sg_del(void *ud) { amt_specgram_del(ud); }

int amt_featurizer_specgram(amt_featurizer *f, int rate, int n_fft, int hop)
{
    memset(f, 0, sizeof *f);
    amt_stft_cfg c = amt_stft_default(n_fft, hop);
    amt_specgram *s = amt_specgram_new(&c, 1);
    if (!s) return amt_errcode() ? amt_errcode() : AMT_EINVAL;
    *f = (amt_featurizer){rate, amt_specgram_bins(s), (double)rate / hop, sg_frames, sg_compute, sg_del, s};
    return AMT_OK;
}

static long mel_frames(void *ud, long n) { return amt_melspec_frames(ud, n); }
static int mel_compute(void *ud, const float *x, long n, float *out) { return amt_melspec_do(ud, x, n, out); }
static void mel_del(void *ud) { amt_melspec_del(ud); }

int amt_featurizer_melspec(amt_featurizer *f, int rate, int n_fft, int hop, int n_mels)
{
    memset(f, 0, sizeof *f);
    amt_mel_cfg c = amt_mel_default();
    c.rate = rate; c.n_fft = n_fft; c.hop = hop; c.n_mels = n_mels;
    amt_melspec *m = amt_melspec_new(&c);
    if (!m) return amt_errcode() ? amt_errcode() : AMT_EINVAL;
    *f = (amt_featurizer){rate, amt_melspec_bins(m), (double)rate / hop, mel_frames, mel_compute, mel_del, m};
    return AMT_OK;
}

static long st_frames(void *ud, long n) { return amt_semitone_frames(ud, n); }
static int st_compute(void *ud, const float *x, long n, float *out) { return amt_semitone_do(ud, x, n, out); }
static void st_del(void *ud) { amt_semitone_del(ud); }

int amt_featurizer_semitone(amt_featurizer *f)
{
    memset(f, 0, sizeof *f);
    amt_semitone_cfg c = amt_semitone_default();
    amt_semitone *s = amt_semitone_new(&c);
    if (!s) return amt_errcode() ? amt_errcode() : AMT_EINVAL;
    *f = (amt_featurizer){c.rate, amt_semitone_bins(s), (double)c.rate / c.hop, st_frames, st_compute, st_del, s};
    return AMT_OK;
}

void amt_featurizer_free(amt_featurizer *f)
{
    if (f->del && f->ud) f->del(f->ud);
    memset(f, 0, sizeof *f);
}

/* ---- stream ---- */
static void reshuffle(amt_stream *s)
{
    for (int i = 0; i < s->nitems; i++) s->order[i] = s->items[i];
    amt_rng rng;
    amt_rng_seed(&rng, amt_hash64(s->seed ^ amt_hash64((uint64_t)s->epoch + 0x5354524dull)));
    amt_rng_shuffle_int(&rng, s->order, s->nitems);
}

int amt_stream_init(amt_stream *s, const int *items, int nitems, int fdim, int tdim, int T, uint64_t seed,
                    amt_item_loader load, void *ud)
{
    memset(s, 0, sizeof *s);
    if (nitems <= 0) return amt_error(AMT_EINVAL, "stream: no items to stream (empty split?)");
    if (fdim <= 0 || tdim < 0 || T <= 0) return amt_error(AMT_EINVAL, "stream: bad shape fdim %d tdim %d T %d", fdim, tdim, T);
    s->items = items; s->nitems = nitems; s->fdim = fdim; s->tdim = tdim; s->T = T;
    s->seed = seed; s->load = load; s->ud = ud;
    s->order = malloc((size_t)nitems * sizeof *s->order);
    if (!s->order) return amt_error(AMT_ENOMEM, "stream: out of memory");
    reshuffle(s);
    return AMT_OK;
}

void amt_stream_free(amt_stream *s)
{
    free(s->order); free(s->feat); free(s->tgt);
    memset(s, 0, sizeof *s);
}

int amt_stream_next(amt_stream *s, int B, float *feat, float *tgt, int *epoch_end)
{
    if (epoch_end) *epoch_end = 0;
    int b = 0, empty_run = 0;
    while (b < B) {
        long rem = s->feat ? s->frames - s->seg : 0;
        if (!(rem >= s->T || (rem > 0 && 2 * rem >= s->T))) {
            /* next item */
            free(s->feat); free(s->tgt);
            s->feat = s->tgt = NULL;
            if (s->pos >= s->nitems) {
                s->pos = 0; s->epoch++;
                reshuffle(s);
                if (epoch_end) *epoch_end = 1;
            }
            if (++empty_run > 2 * s->nitems + 2)
                return amt_error(AMT_EFORMAT, "stream: no item is long enough for a segment of %d frames", s->T);
            int rc = s->load(s->ud, s->order[s->pos++], &s->feat, &s->tgt, &s->frames);
            if (rc) { free(s->feat); free(s->tgt); s->feat = s->tgt = NULL; return rc; }
            s->seg = 0;
            continue;
        }
        empty_run = 0;
        long n = s->frames - s->seg < s->T ? s->frames - s->seg : s->T;
        float *fo = feat + (size_t)b * s->T * s->fdim, *to = tgt ? tgt + (size_t)b * s->T * s->tdim : NULL;
        memcpy(fo, s->feat + (size_t)s->seg * s->fdim, (size_t)n * s->fdim * sizeof *fo);
        memset(fo + (size_t)n * s->fdim, 0, (size_t)(s->T - n) * s->fdim * sizeof *fo);
        if (to && s->tdim > 0) {
            memcpy(to, s->tgt + (size_t)s->seg * s->tdim, (size_t)n * s->tdim * sizeof *to);
            memset(to + (size_t)n * s->tdim, 0, (size_t)(s->T - n) * s->tdim * sizeof *to);
        }
        s->seg += s->T;
        b++;
    }
    return AMT_OK;
}
