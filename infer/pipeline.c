/* infer/pipeline.c: separate -> classify -> transcribe on one input, models loaded once. */
#include "infer/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_io.h"
#include "audio/midi.h"
#include "audio/notes.h"
#include "core/error.h"
#include "app/cli.h"
#include "infer/outputs.h"
#include "models/note_decode.h"
#include "models/separator.h"
#include "models/transcriber.h"
#include "models/classifier_stream.h"
#include "models/transcriber_stream.h"

struct amt_pipeline {
    const amt_model_dir *md;
    amt_pipeline_opts o;
    amt_separator *sep;
    amt_sep_infer *sep_run;
    amt_classifier *cls;
    amt_cls_infer *cls_run;
    amt_transcriber **tr;      /* per model-dir entry, loaded on first use */
    amt_tr_infer **tr_run;
};

static const char *const STAGE_NAMES[3] = {"separate", "classify", "transcribe"};

void amt_pipeline_opts_default(amt_pipeline_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stages = AMT_STAGE_ALL;
    amt_tr_knobs_default(&o->knobs);
}

int amt_pipeline_parse_stages(const char *s, int *stages)
{
    int bits = 0;
    const char *p = s ? s : "";
    if (!*p) return amt_error(AMT_EINVAL, "--stages: empty list (choose from separate,classify,transcribe)");
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strlen(STAGE_NAMES[i]) == len && !strncmp(STAGE_NAMES[i], p, len)) k = i;
        if (k < 0)
            return amt_error(AMT_EINVAL, "--stages: unknown stage '%.*s' (choose from separate,classify,transcribe)",
                             (int)len, p);
        if (bits & (1 << k)) return amt_error(AMT_EINVAL, "--stages: stage '%s' given twice", STAGE_NAMES[k]);
        bits |= 1 << k;
        if (!e) break;
        p = e + 1;
        if (!*p) return amt_error(AMT_EINVAL, "--stages: trailing comma in '%s'", s);
    }
    *stages = bits;
    return AMT_OK;
}

static int missing(const amt_model_dir *md, const char *kind, const char *stage)
{
    return amt_error(AMT_EIO,
                     "%s: no %s checkpoint (needed by stage '%s'; point --models at a directory that has one, "
                     "or leave the stage out with --stages)",
                     md->dir, kind, stage);
}

void amt_pipeline_close(amt_pipeline *p)
{
    if (!p) return;
    amt_sep_infer_free(p->sep_run);
    if (p->sep) amt_separator_free(p->sep);
    free(p->sep);
    amt_cls_infer_free(p->cls_run);
    if (p->cls) amt_classifier_free(p->cls);
    free(p->cls);
    if (p->tr)
        for (int i = 0; i < p->md->n; i++) {
            if (p->tr_run[i]) amt_tr_infer_free(p->tr_run[i]);
            if (p->tr[i]) amt_transcriber_free(p->tr[i]);
            free(p->tr[i]);
        }
    free(p->tr);
    free(p->tr_run);
    free(p);
}

int amt_pipeline_open(const amt_model_dir *md, const amt_pipeline_opts *o, amt_pipeline **out)
{
    *out = NULL;
    if (!(o->stages & AMT_STAGE_ALL)) return amt_error(AMT_EINVAL, "pipeline: no stage to run");
    amt_pipeline *p = calloc(1, sizeof *p);
    if (!p) return amt_error(AMT_ENOMEM, "pipeline: out of memory");
    p->md = md;
    p->o = *o;
    int rc = AMT_OK;
    p->tr = calloc((size_t)(md->n > 0 ? md->n : 1), sizeof *p->tr);
    p->tr_run = calloc((size_t)(md->n > 0 ? md->n : 1), sizeof *p->tr_run);
    if (!p->tr || !p->tr_run) { rc = amt_error(AMT_ENOMEM, "pipeline: out of memory"); goto fail; }
    /* check every needed kind first, so one message lists the first missing one before
     * any slow loading */
    int si = -1, ci = -1;
    if ((o->stages & AMT_STAGE_SEPARATE) && (si = amt_model_dir_find(md, AMT_SEPARATOR_KIND)) < 0) {
        rc = missing(md, AMT_SEPARATOR_KIND, "separate");
        goto fail;
    }
    if ((o->stages & AMT_STAGE_CLASSIFY) && (ci = amt_model_dir_find(md, AMT_CLASSIFIER_KIND)) < 0) {
        rc = missing(md, AMT_CLASSIFIER_KIND, "classify");
        goto fail;
    }
    if ((o->stages & AMT_STAGE_TRANSCRIBE) && amt_model_dir_find(md, AMT_TRANSCRIBER_KIND) < 0) {
        rc = missing(md, AMT_TRANSCRIBER_KIND, "transcribe");
        goto fail;
    }
    if (si >= 0) {
        amt_separator tmp;
        if ((rc = amt_separator_load(md->v[si].path, &tmp))) goto fail;
        if (!(p->sep = malloc(sizeof *p->sep))) {
            amt_separator_free(&tmp);
            rc = amt_error(AMT_ENOMEM, "pipeline: out of memory");
            goto fail;
        }
        *p->sep = tmp;
        if (!(p->sep_run = amt_sep_infer_new(p->sep, 0, 0))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }
    }
    if (ci >= 0) {
        amt_classifier tmp;
        if ((rc = amt_classifier_load(md->v[ci].path, &tmp))) goto fail;
        if (!(p->cls = malloc(sizeof *p->cls))) {
            amt_classifier_free(&tmp);
            rc = amt_error(AMT_ENOMEM, "pipeline: out of memory");
            goto fail;
        }
        *p->cls = tmp;
        if (!(p->cls_run = amt_cls_infer_new(p->cls, 0))) { rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM; goto fail; }
    }
    *out = p;
    return AMT_OK;
fail:
    amt_pipeline_close(p);
    return rc;
}

/* The transcriber of model-dir entry i, loaded on first use. */
static int get_transcriber(amt_pipeline *p, int i)
{
    if (p->tr[i]) return AMT_OK;
    amt_transcriber tmp;
    int rc = amt_transcriber_load(p->md->v[i].path, &tmp);
    if (rc) return rc;
    if (!(p->tr[i] = malloc(sizeof *p->tr[i]))) {
        amt_transcriber_free(&tmp);
        return amt_error(AMT_ENOMEM, "pipeline: out of memory");
    }
    *p->tr[i] = tmp;
    if (!(p->tr_run[i] = amt_tr_infer_new(p->tr[i], 0))) {
        rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM;
        amt_transcriber_free(p->tr[i]);
        free(p->tr[i]);
        p->tr[i] = NULL;
        return rc;
    }
    return AMT_OK;
}

void amt_pipeline_result_free(amt_pipeline_result *res)
{
    for (int i = 0; i < res->n_outputs; i++) free(res->outputs[i]);
    res->n_outputs = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void stage(amt_pipeline *p, const char *s)
{
    if (p->o.on_stage) p->o.on_stage(p->o.ctx, s);
}

/* "PREFIX.suffix" (malloc'd). */
static char *out_path(const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", prefix, suffix);
    return s;
}

/* Records a written file (takes path). */
static void wrote(amt_pipeline_result *res, char *path)
{
    if (res->n_outputs < AMT_PIPE_MAX_OUTPUTS) res->outputs[res->n_outputs++] = path;
    else free(path);
}

/* Writes one output with fn; path built from prefix + suffix. */
#define WRITE_OUT(suffix, call)                                                                   \
    do {                                                                                          \
        char *path_ = out_path(prefix, suffix);                                                   \
        if (!path_) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", input); goto done; }        \
        const char *path = path_;                                                                 \
        if ((rc = (call))) { free(path_); goto done; }                                            \
        wrote(res, path_);                                                                        \
    } while (0)

/* Re-raises the last error as "INPUT: what: message" (the message is copied first: it
 * lives in the buffer amt_error writes). */
static int wrap(int rc, const char *input, const char *what)
{
    char msg[AMT_PIPE_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", amt_errmsg());
    return amt_error(rc, "%s: %s: %s", input, what, msg);
}

/* Channel means of rows [0, n) of x (n x ch) into m. */
static void rows_mean(const float *x, long n, int ch, float *m)
{
    for (long f = 0; f < n; f++) {
        double sum = 0;
        for (int c = 0; c < ch; c++) sum += x[(size_t)f * ch + c];
        m[f] = (float)(sum / ch);
    }
}

/* Stage 1 in segments (see pipeline.h): writes NAME.voice.wav, NAME.music.wav and
 * NAME.spectrograms.png. */
static int separate_stream(amt_pipeline *p, amt_audio_reader *rd, const amt_audio *info, const char *input,
                           const char *prefix, amt_pipeline_result *res)
{
    const int ch = info->channels, rate = info->rate;
    long S = (long)((p->o.segment_s > 0 ? p->o.segment_s : AMT_PIPE_SEGMENT_S) * rate), C = (long)(AMT_PIPE_CONTEXT_S * rate);
    if (S < 1) S = 1;
    if (C < 2) C = 2;
    const long F = C / 2, cap = S + 2 * C;
    float *buf = malloc((size_t)cap * ch * sizeof *buf), *vbuf = malloc((size_t)cap * ch * sizeof *vbuf);
    float *mbuf = malloc((size_t)cap * ch * sizeof *mbuf), *tail = malloc((size_t)F * ch * sizeof *tail);
    float *ov = malloc((size_t)S * ch * sizeof *ov), *om = malloc((size_t)S * ch * sizeof *om);
    float *xm = malloc((size_t)cap * sizeof *xm), *vm = malloc((size_t)cap * sizeof *vm), *mm = malloc((size_t)cap * sizeof *mm);
    amt_out_speccols *sc[3] = {NULL, NULL, NULL};
    amt_out_wav *wv = NULL, *wm = NULL;
    char *pv = out_path(prefix, ".voice.wav"), *pm = out_path(prefix, ".music.wav"), *ps = out_path(prefix, ".spectrograms.png");
    int rc = AMT_OK;
    if (!buf || !vbuf || !mbuf || !tail || !ov || !om || !xm || !vm || !mm || !pv || !pm || !ps) {
        rc = amt_error(AMT_ENOMEM, "%s: out of memory", input);
        goto done;
    }
    for (int k = 0; k < 3; k++)
        if (!(sc[k] = amt_out_speccols_new(info->frames, rate))) { rc = amt_errcode(); goto done; }
    if (!(wv = amt_out_wav_open(pv, rate, ch)) || !(wm = amt_out_wav_open(pm, rate, ch))) { rc = amt_errcode(); goto done; }
    long buf_start = 0, buf_len = 0, a = 0, tail_len = 0, written = 0;
    int eof = 0;
    for (;;) {
        const long want_end = a + S + C;
        while (!eof && buf_start + buf_len < want_end) {
            long k = amt_audio_read_block(rd, buf + (size_t)buf_len * ch, want_end - (buf_start + buf_len));
            if (k < 0) { rc = (int)k; goto done; }
            if (k == 0) eof = 1;
            else buf_len += k;
        }
        const long end = buf_start + buf_len;
        if (a >= end) break;
        const long core_end = a + S < end ? a + S : end, nc = core_end - a;
        if (info->frames > S) {   /* long input: say which segment (the count may be an estimate) */
            char msg[64];
            long total = (info->frames + S - 1) / S;
            snprintf(msg, sizeof msg, "separate %ld/%ld", a / S + 1, total > a / S + 1 ? total : a / S + 1);
            stage(p, msg);
        }
        if ((rc = amt_separator_separate(p->sep_run, buf, buf_len, ch, rate, vbuf, mbuf))) {
            rc = wrap(rc, input, "separation");
            goto done;
        }
        /* the core [a, core_end): voice cross-faded over its first F frames from the previous
         * segment's estimate; music = input - voice (the partition is exact) */
        for (long t = a; t < core_end; t++) {
            const long i = t - buf_start, j = t - a;
            for (int c = 0; c < ch; c++) {
                float v = vbuf[(size_t)i * ch + c];
                if (j < tail_len) {
                    float w = (float)((j + 0.5) / F);
                    v = (1 - w) * tail[(size_t)j * ch + c] + w * v;
                }
                ov[(size_t)j * ch + c] = v;
                om[(size_t)j * ch + c] = buf[(size_t)i * ch + c] - v;
            }
        }
        written = core_end;
        if ((rc = amt_out_wav_write(wv, ov, nc)) || (rc = amt_out_wav_write(wm, om, nc))) goto done;
        rows_mean(buf, buf_len, ch, xm);
        rows_mean(vbuf, buf_len, ch, vm);
        for (long i = 0; i < buf_len; i++) mm[i] = xm[i] - vm[i];
        amt_out_speccols_add(sc[0], xm, buf_start, buf_len, a, core_end);
        amt_out_speccols_add(sc[1], vm, buf_start, buf_len, a, core_end);
        amt_out_speccols_add(sc[2], mm, buf_start, buf_len, a, core_end);
        if (core_end < a + S) break;   /* that was the end of the file */
        /* this segment's estimate of the next core's first F frames */
        tail_len = end - core_end < F ? end - core_end : F;
        memcpy(tail, vbuf + (size_t)(core_end - buf_start) * ch, (size_t)tail_len * ch * sizeof *tail);
        a += S;
        const long new_start = a - C > 0 ? a - C : 0, keep = end - new_start;
        memmove(buf, buf + (size_t)(new_start - buf_start) * ch, (size_t)keep * ch * sizeof *buf);
        buf_start = new_start;
        buf_len = keep;
    }
    if (written == 0) { rc = amt_error(AMT_EFORMAT, "%s: empty audio (0 frames decoded)", input); goto done; }
    res->frames = written;
    stage(p, "write");
    int rv = amt_out_wav_close(wv, 1);
    wv = NULL;
    if (rv) { rc = rv; goto done; }
    wrote(res, pv);
    pv = NULL;
    rv = amt_out_wav_close(wm, 1);
    wm = NULL;
    if (rv) { rc = rv; goto done; }
    wrote(res, pm);
    pm = NULL;
    if ((rc = amt_out_speccols_png(ps, sc, 3))) goto done;
    wrote(res, ps);
    ps = NULL;
done:
    amt_out_wav_close(wv, 0);
    amt_out_wav_close(wm, 0);
    for (int k = 0; k < 3; k++) amt_out_speccols_free(sc[k]);
    free(buf); free(vbuf); free(mbuf); free(tail); free(ov); free(om);
    free(xm); free(vm); free(mm);
    free(pv); free(pm); free(ps);
    return rc;
}

/* ---- stage 3, streamed (bounded memory for any length) ---- */

/* What the rows of the transcriber stream go to: the note decoder, the piano-roll columns
 * and (optionally) the activations file. */
typedef struct tr_sink {
    amt_note_stream *ns;
    amt_notes *notes;
    amt_out_rollcols *roll;
    amt_out_acts *acts;
} tr_sink;

static int tr_rows(void *ctx, long t0, long n, const float *feat, const float *fr, const float *on, const float *ve)
{
    tr_sink *k = ctx;
    amt_out_rollcols_add(k->roll, feat, t0, n);
    int rc = amt_note_stream_feed(k->ns, fr, on, ve, n, k->notes);
    if (!rc && k->acts) rc = amt_out_acts_write(k->acts, fr, on, ve, n);
    return rc;
}

/* The signal stages 2 and 3 read: the channel mean of the file at path (the input, or the
 * accompaniment's WAV), read in blocks and handed to fn; "STAGE K/N" is reported per
 * AMT_PIPE_SEGMENT_S seconds of a long file. *frames and *rate get the file's. */
typedef int (*mono_fn)(void *ctx, const float *x, long n);

static int read_source(amt_pipeline *p, const char *path, const char *what, mono_fn fn, void *ctx, long *frames,
                       int *rate)
{
    amt_audio info;
    amt_audio_reader *rd = amt_audio_open(path, &info);
    if (!rd) return amt_errcode() ? amt_errcode() : AMT_EIO;
    const int ch = info.channels;
    const long seg = (long)(AMT_PIPE_SEGMENT_S * info.rate) > 0 ? (long)(AMT_PIPE_SEGMENT_S * info.rate) : 1;
    float *blk = malloc((size_t)AMT_AUDIO_BLOCK * ch * sizeof *blk), *m = malloc((size_t)AMT_AUDIO_BLOCK * sizeof *m);
    int rc = (!blk || !m) ? amt_error(AMT_ENOMEM, "%s: out of memory", path) : AMT_OK;
    long done = 0, next_report = seg;
    for (long k; !rc && (k = amt_audio_read_block(rd, blk, AMT_AUDIO_BLOCK)) != 0;) {
        if (k < 0) { rc = (int)k; break; }
        rows_mean(blk, k, ch, m);
        if ((rc = fn(ctx, m, k))) break;
        done += k;
        if (info.frames > seg && done >= next_report) {
            char msg[64];
            long total = (info.frames + seg - 1) / seg, at = done / seg + 1;
            snprintf(msg, sizeof msg, "%s %ld/%ld", what, at < total ? at : total, total);
            stage(p, msg);
            next_report += seg;
        }
    }
    amt_audio_close(rd);
    free(blk);
    free(m);
    *frames = done;
    *rate = info.rate;
    if (!rc && done == 0) rc = amt_error(AMT_EFORMAT, "%s: empty audio (0 frames decoded)", path);
    return rc;
}

static int feed_tr(void *ctx, const float *x, long n) { return amt_tr_stream_feed(ctx, x, n); }
static int feed_cls(void *ctx, const float *x, long n) { return amt_cls_stream_feed(ctx, x, n); }

/* Stage 2 on the file at src (two passes: models/classifier_stream.h). */
static int classify_stream(amt_pipeline *p, const char *src, const char *input, amt_pipeline_result *res)
{
    amt_cls_stream *cs = amt_cls_stream_new(p->cls_run, res->rate);
    if (!cs) return wrap(amt_errcode() ? amt_errcode() : AMT_ENOMEM, input, "classification");
    long n = 0;
    int rate = 0;
    int rc = read_source(p, src, "classify", feed_cls, cs, &n, &rate);
    if (!rc && !(p->o.stages & AMT_STAGE_SEPARATE)) {   /* the count the file really had */
        res->frames = n;
        res->seconds = (double)n / rate;
    }
    if (!rc) rc = amt_cls_stream_next_pass(cs);
    if (!rc) rc = read_source(p, src, "classify", feed_cls, cs, &n, &rate);
    if (!rc) rc = amt_cls_stream_finish(cs, &res->cls);
    amt_cls_stream_del(cs);
    if (rc == AMT_EINVAL) rc = wrap(rc, input, "classification");
    return rc;
}

/* Stage 3 on the file at src (expect: its frames, for the piano roll's layout): writes
 * NAME.mid, .notes.tsv, .notes.json, .pianoroll.png and with save_activations
 * .activations.h5. */
static int transcribe_stream(amt_pipeline *p, int ti, const char *input, const char *prefix, const char *src,
                             long expect, amt_notes *notes, amt_pipeline_result *res)
{
    const amt_transcriber *m = p->tr[ti];
    amt_decode_opts d;   /* the model's, with the user's knobs on top */
    int rc = amt_transcriber_decode_knobs(m, &p->o.knobs, &d);
    if (rc) return wrap(rc, input, "decoding options");
    tr_sink k = {NULL, notes, NULL, NULL};
    amt_tr_stream *ts = NULL;
    char *acts_path = p->o.save_activations ? out_path(prefix, ".activations.h5") : NULL;
    const int rate = res->rate;
    long n_layout = amt_tr_stream_frames_for(&m->cfg, rate, expect > 0 ? expect : 0);
    amt_notes_clear(notes);
    if (p->o.save_activations && !acts_path) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", input); goto done; }
    if (!(k.ns = amt_note_stream_new(&d, m->cfg.onset_head, m->cfg.velocity_head)) ||
        !(k.roll = amt_out_rollcols_new(n_layout > 0 ? n_layout : 1, m->cfg.bins)) ||
        (acts_path && !(k.acts = amt_out_acts_open(acts_path, AMT_TR_KEYS, m->cfg.onset_head, m->cfg.velocity_head,
                                                   m->cfg.fps, AMT_TR_LOWEST_PITCH, input, res->model))) ||
        !(ts = amt_tr_stream_new(p->tr_run[ti], rate, tr_rows, &k))) {
        rc = amt_errcode() ? amt_errcode() : AMT_ENOMEM;
        goto done;
    }
    long fed = 0;
    int src_rate = 0;
    if ((rc = read_source(p, src, "transcribe", feed_tr, ts, &fed, &src_rate)) || (rc = amt_tr_stream_finish(ts))) {
        if (rc == AMT_EINVAL) rc = wrap(rc, input, "transcription");
        goto done;
    }
    if ((rc = amt_note_stream_finish(k.ns, notes))) goto done;
    for (int i = 0; i < notes->n; i++) notes->v[i].program = res->program;
    res->notes = notes->n;
    res->transcribed = 1;
    if (!(p->o.stages & (AMT_STAGE_SEPARATE | AMT_STAGE_CLASSIFY))) {
        res->frames = fed;
        res->seconds = (double)fed / rate;
    }
    stage(p, "write");
    WRITE_OUT(".mid", amt_midi_write(path, notes, NULL));
    WRITE_OUT(".notes.tsv", amt_notes_write_tsv(path, notes));
    WRITE_OUT(".notes.json", amt_notes_write_json(path, notes));
    WRITE_OUT(".pianoroll.png", amt_out_rollcols_png(path, k.roll, m->cfg.fps, &m->cfg.feat, notes));
    if (k.acts) {
        rc = amt_out_acts_close(k.acts, 1);
        k.acts = NULL;
        if (rc) goto done;
        wrote(res, acts_path);
        acts_path = NULL;
    }
done:
    amt_tr_stream_del(ts);
    amt_note_stream_del(k.ns);
    amt_out_rollcols_free(k.roll);
    amt_out_acts_close(k.acts, 0);
    free(acts_path);
    return rc;
}

int amt_pipeline_run(amt_pipeline *p, const char *input, const char *outdir, amt_pipeline_result *res)
{
    memset(res, 0, sizeof *res);
    res->program = -1;
    const int st = p->o.stages;
    amt_audio_reader *rd = NULL;
    char *stem = NULL, *prefix = NULL, *music = NULL;
    amt_notes notes;
    amt_notes_init(&notes);
    int rc = AMT_OK;

    stem = amt_path_strip_ext(amt_path_base(input));
    prefix = stem ? amt_path_join(outdir, stem) : NULL;
    if (!prefix) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", input); goto done; }

    stage(p, "read");
    double t0 = now_s();
    amt_audio info;
    memset(&info, 0, sizeof info);
    if (!(rd = amt_audio_open(input, &info))) { rc = amt_errcode() ? amt_errcode() : AMT_EIO; goto done; }
    res->rate = info.rate;
    res->channels = info.channels;
    res->frames = info.frames;

    /* 1. separation; stages 2 and 3 then read the accompaniment's WAV (else the input),
     * each streaming it: nothing of the length of the input is kept in memory */
    const char *src = input;
    if (st & AMT_STAGE_SEPARATE) {
        stage(p, "separate");
        if ((rc = separate_stream(p, rd, &info, input, prefix, res))) goto done;
        res->t_separate = now_s() - t0;
        if (!(music = out_path(prefix, ".music.wav"))) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", input); goto done; }
        src = music;
    }
    amt_audio_close(rd);
    rd = NULL;
    res->seconds = (double)res->frames / info.rate;

    /* 2. classification of the accompaniment */
    if (st & AMT_STAGE_CLASSIFY) {
        stage(p, "classify");
        t0 = now_s();
        if ((rc = classify_stream(p, src, input, res))) goto done;
        res->classified = 1;
        res->t_classify = now_s() - t0;
    }

    /* the transcriber for the instrument */
    int ti = -1;
    if (st & AMT_STAGE_TRANSCRIBE) {
        int want = res->classified ? res->cls.top : AMT_INSTRUMENT_PIANO, exact = 0;
        ti = amt_model_dir_transcriber(p->md, want, &exact);
        if (ti < 0) { rc = missing(p->md, AMT_TRANSCRIBER_KIND, "transcribe"); goto done; }
        res->model = p->md->v[ti].path;
        res->model_instrument = p->md->v[ti].instrument_name;
        if (!exact)
            snprintf(res->warning, sizeof res->warning,
                     "no %s transcriber in %s: used %s (%s), the closest available",
                     amt_classifier_class_names[want], p->md->dir, amt_path_base(res->model), res->model_instrument);
        res->program = amt_instrument_gm_program(res->classified ? res->cls.top : p->md->v[ti].instrument);
    }
    if (st & AMT_STAGE_CLASSIFY)
        WRITE_OUT(".instrument.json", amt_out_instrument_json(path, input, &res->cls, res->model,
                                                              res->model_instrument, res->warning));

    /* 3. transcription, streamed */
    if (st & AMT_STAGE_TRANSCRIBE) {
        stage(p, "transcribe");
        t0 = now_s();
        if ((rc = get_transcriber(p, ti))) goto done;
        if ((rc = transcribe_stream(p, ti, input, prefix, src, res->frames, &notes, res))) goto done;
        res->t_transcribe = now_s() - t0;
    }
done:
    amt_audio_close(rd);
    free(stem);
    free(prefix);
    free(music);
    amt_notes_free(&notes);
    return rc;
}
