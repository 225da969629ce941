/* infer/eval_transcriber.c: `amt-eval --model CKPT --data DIR [--split test]` for a
 * transcriber checkpoint: runs the model over a MAPS-layout split file by file (features,
 * block inference, note decoding with the thresholds stored in the checkpoint, exactly as
 * amt-infer) and scores it against the files' .txt annotations with eval/transcription.h:
 * frame P/R/F1 (100 frames/s roll of the decoded notes, what a user gets and what `amt-eval
 * notes` computes from note lists, so comparable with any other system), note P/R/F1 (onsets
 * only, 50 ms) and note-with-offset P/R/F1 (mir_eval defaults), overall micro-averaged
 * (matches, notes and frame cells summed over files) and per file (stdout table, --out CSV),
 * plus the mean absolute velocity error of onset-matched notes and, as a diagnostic, the
 * frame scores of the frame head's thresholded roll ("frame head": the roll before note
 * decoding; notes without an onset are not in the decoded roll).
 *
 * With --tune OUT.h5 (tune_out), the decoding thresholds are first tuned on the split
 * (amt_transcriber_evaluate: the training run's rule, models/note_decode.h amt_decode_tune)
 * and OUT.h5 is written: the checkpoint with the tuned decode/... parameters (same storage
 * precision, config and counters); the split is then scored with them (so those scores are
 * tuned on what they measure: tune on val, score test with OUT.h5). Tuning holds every
 * file's features of the split in memory.
 *
 * Splits (train/kind_transcriber.c draws them from the checkpoint's config: split, subsets,
 * val_fraction, val_max_seconds, seed): test = the layout's test part (ENSTDk MUS with
 * split = layout; when DIR has none, e.g. a directory rendered for testing, every file);
 * train / val = the training files / the held-out validation files of a training run on
 * DIR; all = every file. Memory: one file's features and activations at a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/notes.h"
#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/maps.h"
#include "eval/transcription.h"
#include "app/cli.h"
#include "app/maps_transcriber.h"
#include "infer/eval_model.h"
#include "models/note_decode.h"
#include "models/transcriber.h"

/* The dataset splits of a training run come from app/maps_transcriber.h. */

typedef struct file_row {
    const char *name;            /* path relative to the data root */
    double seconds;
    amt_note_scores on, off;
    amt_frame_scores fr;         /* roll of the decoded notes */
    amt_frame_scores head;       /* thresholded frame-head roll */
    double vel_err;              /* sum of |velocity error| over onset matches */
    int vel_n;
} file_row;

static double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The parameter storage of a checkpoint: float16 when any /params dataset is. */
static void note_f16(void *ctx, const amt_ckpt_item *it)
{
    if (!it->is_attr && !strncmp(it->name, "/params/", 8) && !strcmp(it->dtype, "float16")) *(int *)ctx = 1;
}

/* --tune: tunes m's thresholds on the split's files and writes m to out (see the top). */
static int tune_and_save(amt_transcriber *m, amt_tr_infer *r, const char *src, const char *out, amt_maps *ds,
                         const int *idx, int n, int quiet)
{
    float **feat = calloc((size_t)n, sizeof *feat);
    amt_notes *refs = calloc((size_t)n, sizeof *refs);
    amt_tr_piece *pc = calloc((size_t)n, sizeof *pc);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    int rc = (!feat || !refs || !pc) ? amt_error(AMT_ENOMEM, "out of memory") : AMT_OK;
    for (int i = 0; i < n && !rc; i++) {
        const amt_maps_file *f = &ds->files[idx[i]];
        amt_notes_init(&refs[i]);
        long nf = 0;
        if ((rc = amt_tr_file_features(&m->cfg, f->wav, &feat[i], &nf)) || (rc = amt_tr_file_notes(f, &refs[i]))) break;
        pc[i] = (amt_tr_piece){feat[i], nf, &refs[i]};
        if (!quiet) fprintf(stderr, "\ramt-eval: tuning: features of %d/%d files", i + 1, n);
    }
    amt_tr_scores sc;
    if (!rc && !quiet) fprintf(stderr, "\n");
    if (!rc) rc = amt_transcriber_evaluate(m, r, pc, n, 1, &sc);
    int f16 = 0;
    if (!rc) rc = amt_checkpoint_inspect(src, note_f16, &f16);
    if (!rc) rc = amt_checkpoint_read_info(src, &info);
    if (!rc) rc = amt_checkpoint_save(out, &m->params, NULL, &info, f16 ? AMT_CKPT_FLOAT16 : 0);
    if (!rc && !quiet)
        fprintf(stderr, "amt-eval: tuned on %d files: onset %.3f, frame %.3f, sustain %.3f (note F1 %.4f, with "
                "offsets %.4f, frame %.4f); wrote %s\n", n, sc.onset_threshold, sc.frame_threshold,
                sc.sustain_threshold, sc.note_f1, sc.offset_f1, sc.frame_f1, out);
    amt_ckpt_info_free(&info);
    for (int i = 0; i < n && feat && refs; i++) { free(feat[i]); amt_notes_free(&refs[i]); }
    free(feat); free(refs); free(pc);
    return rc;
}

/* Scores one file into *row. est/roll are scratch lists. */
static int score_file(amt_transcriber *m, amt_tr_infer *r, const amt_decode_opts *dopt, const amt_maps_file *f,
                      amt_notes *est, amt_notes *roll, file_row *row)
{
    float *feat = NULL, *fr = NULL, *on = NULL, *vel = NULL;
    long nf = 0;
    amt_notes ref;
    amt_notes_init(&ref);
    int *r2e = NULL;
    int rc = amt_tr_file_features(&m->cfg, f->wav, &feat, &nf);
    if (!rc) rc = amt_tr_file_notes(f, &ref);
    if (rc) goto done;
    size_t cells = (size_t)(nf > 0 ? nf : 1) * AMT_TR_KEYS;
    fr = malloc(cells * sizeof(float));
    on = malloc(cells * sizeof(float));
    vel = malloc(cells * sizeof(float));
    r2e = malloc(sizeof(int) * (size_t)(ref.n + 1));
    if (!fr || !on || !vel || !r2e) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", f->wav); goto done; }
    if ((rc = amt_tr_infer_run(r, feat, nf, fr, on, vel))) goto done;
    amt_note_metric_opts off_opt, on_opt;
    amt_note_metric_defaults(&off_opt);
    on_opt = off_opt;
    on_opt.offset_ratio = -1;
    const float *onp = m->cfg.onset_head ? on : NULL, *velp = m->cfg.velocity_head ? vel : NULL;
    int nm = 0;
    if ((rc = amt_note_decode(fr, onp, velp, nf, dopt, est)) ||
        (rc = amt_transcription_note_scores(&ref, est, &on_opt, &row->on)) ||
        (rc = amt_transcription_note_scores(&ref, est, &off_opt, &row->off)) ||
        (rc = amt_transcription_match(&ref, est, &on_opt, r2e, &nm)) ||
        (rc = amt_transcription_frame_scores(&ref, est, dopt->fps, &row->fr)) ||
        (rc = amt_note_decode_frames(fr, nf, dopt, roll)) ||
        (rc = amt_transcription_frame_scores(&ref, roll, dopt->fps, &row->head)))
        goto done;
    for (int i = 0; i < ref.n; i++)
        if (r2e[i] >= 0) { row->vel_err += fabs((double)ref.v[i].velocity - est->v[r2e[i]].velocity); row->vel_n++; }
    row->seconds = nf / dopt->fps;
done:
    free(feat); free(fr); free(on); free(vel); free(r2e);
    amt_notes_free(&ref);
    return rc;
}

static void print_row_csv(FILE *fp, const char *name, double sec, const amt_note_scores *a, const amt_note_scores *b,
                          const amt_frame_scores *fs, const amt_frame_scores *hs, double vel_mae)
{
    fprintf(fp, "%s,%.3f,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.6f,%.6f,%.6f\n", name, sec, a->n_ref,
            a->n_est, fs->precision, fs->recall, fs->f1, a->precision, a->recall, a->f1, b->precision, b->recall, b->f1,
            vel_mae, hs->precision, hs->recall, hs->f1);
}

int amt_eval_transcriber(const amt_eval_model_opts *o)
{
    amt_transcriber m;
    if (amt_transcriber_load(o->model, &m)) { fprintf(stderr, "amt-eval: %s\n", amt_errmsg()); return AMT_EXIT_FAIL; }
    int exit_code = AMT_EXIT_FAIL, subsets = 0;
    double val_s = 0;
    amt_maps ds;
    memset(&ds, 0, sizeof ds);
    int *tr = NULL, *va = NULL, *te = NULL, ntr = 0, nva = 0, nte = 0, have_ds = 0;
    int *idx = NULL, n = 0;
    file_row *rows = NULL;
    amt_tr_infer *runner = NULL;
    FILE *csv = NULL;
    amt_notes est, roll;
    amt_notes_init(&est);
    amt_notes_init(&roll);
    {   /* the data keys of the training run, from the config stored in the checkpoint */
        amt_ckpt_info info;
        memset(&info, 0, sizeof info);
        if (amt_checkpoint_read_info(o->model, &info)) goto fail;
        amt_config *cfg = amt_config_from_string(info.config ? info.config : "", o->model);
        amt_ckpt_info_free(&info);
        if (!cfg) goto fail;
        int rc = amt_tr_data_keys(cfg, &subsets, &val_s);
        amt_config_free(cfg);
        if (rc) goto fail;
    }
    if (!amt_is_dir(o->data)) {
        fprintf(stderr, "amt-eval: %s: not a directory (a MAPS-layout dataset)\n", o->data);
        goto out;
    }
    if (amt_tr_data_open(o->data, m.cfg.split, subsets, m.cfg.val_fraction, val_s, m.cfg.seed, &ds, &tr, &ntr, &va,
                         &nva, &te, &nte))
        goto fail;
    have_ds = 1;
    if (!strcmp(o->split, "train")) { idx = tr; n = ntr; }
    else if (!strcmp(o->split, "val")) { idx = va; n = nva; }
    else if (!strcmp(o->split, "test") && nte > 0) { idx = te; n = nte; }
    else {   /* all, or test without a layout test part: every file */
        if (!strcmp(o->split, "test") && !o->quiet)
            fprintf(stderr, "amt-eval: %s has no layout test part (ENSTDkAm/ENSTDkCl MUS): scoring all %d files\n",
                    o->data, ds.n);
        free(te);
        if (!(te = malloc(sizeof(int) * (size_t)(ds.n + 1)))) { amt_error(AMT_ENOMEM, "out of memory"); goto fail; }
        for (int i = 0; i < ds.n; i++) te[i] = i;
        idx = te;
        n = ds.n;
    }
    if (n == 0) {
        fprintf(stderr, "amt-eval: %s: the %s split is empty\n", o->data, o->split);
        goto out;
    }
    if (!(rows = calloc((size_t)n, sizeof *rows))) { amt_error(AMT_ENOMEM, "out of memory"); goto fail; }
    if (!(runner = amt_tr_infer_new(&m, 0))) goto fail;
    if (o->out_csv) {
        if (!(csv = fopen(o->out_csv, "w"))) {
            fprintf(stderr, "amt-eval: %s: cannot write\n", o->out_csv);
            goto out;
        }
        fprintf(csv, "file,seconds,n_ref,n_est,frame_p,frame_r,frame_f1,note_p,note_r,note_f1,"
                     "note_offset_p,note_offset_r,note_offset_f1,velocity_mae,head_frame_p,head_frame_r,head_frame_f1\n");
    }
    if (o->tune_out && tune_and_save(&m, runner, o->model, o->tune_out, &ds, idx, n, o->quiet)) goto fail;
    amt_decode_opts dopt;
    if (amt_transcriber_decode_knobs(&m, &o->knobs, &dopt)) goto fail;
    size_t rootlen = strlen(o->data);
    double t_start = now_s(), audio_s = 0;
    long m_on = 0, m_off = 0, n_ref = 0, n_est = 0, vel_n = 0;
    double vel_err = 0;
    amt_frame_scores ftot, htot;
    memset(&ftot, 0, sizeof ftot);
    memset(&htot, 0, sizeof htot);
    for (int i = 0; i < n; i++) {
        const amt_maps_file *f = &ds.files[idx[i]];
        file_row *r = &rows[i];
        r->name = f->wav + (strncmp(f->wav, o->data, rootlen) ? 0 : rootlen);
        while (*r->name == '/') r->name++;
        if (score_file(&m, runner, &dopt, f, &est, &roll, r)) goto fail;
        m_on += r->on.n_match; m_off += r->off.n_match; n_ref += r->on.n_ref; n_est += r->on.n_est;
        ftot.tp += r->fr.tp; ftot.fp += r->fr.fp; ftot.fn += r->fr.fn;
        htot.tp += r->head.tp; htot.fp += r->head.fp; htot.fn += r->head.fn;
        vel_err += r->vel_err; vel_n += r->vel_n;
        audio_s += r->seconds;
        if (!o->quiet)
            fprintf(stderr, "\ramt-eval: %d/%d files, %.0f s of audio", i + 1, n, audio_s);
        if (csv) print_row_csv(csv, r->name, r->seconds, &r->on, &r->off, &r->fr, &r->head,
                                r->vel_n ? r->vel_err / r->vel_n : NAN);
    }
    double wall = now_s() - t_start;
    if (!o->quiet) fprintf(stderr, "\n");
    amt_frame_scores_from(&ftot);
    amt_frame_scores_from(&htot);
    amt_note_scores ton = {0}, toff = {0};
    ton.n_ref = toff.n_ref = (int)n_ref;
    ton.n_est = toff.n_est = (int)n_est;
    ton.n_match = (int)m_on; toff.n_match = (int)m_off;
    ton.precision = n_est ? (double)m_on / n_est : 0; ton.recall = n_ref ? (double)m_on / n_ref : 0;
    ton.f1 = f1(ton.precision, ton.recall);
    toff.precision = n_est ? (double)m_off / n_est : 0; toff.recall = n_ref ? (double)m_off / n_ref : 0;
    toff.f1 = f1(toff.precision, toff.recall);
    double vmae = vel_n ? vel_err / vel_n : NAN;
    if (csv) {
        print_row_csv(csv, "overall", audio_s, &ton, &toff, &ftot, &htot, vmae);
        if (fclose(csv)) { csv = NULL; fprintf(stderr, "amt-eval: %s: write failed\n", o->out_csv); goto out; }
        csv = NULL;
    }
    if (o->json) {
        printf("{\"mode\": \"model\", \"kind\": \"transcriber\", \"model\": ");
        amt_json_string(stdout, o->model);
        printf(", \"data\": ");
        amt_json_string(stdout, o->data);
        printf(", \"split\": \"%s\", \"files\": %d, \"audio_seconds\": %.3f, \"wall_seconds\": %.3f,\n", o->split, n,
               audio_s, wall);
        printf(" \"onset_threshold\": %.4f, \"frame_threshold\": %.4f, \"sustain_threshold\": %.4f, \"n_ref\": %ld, "
               "\"n_est\": %ld,\n", dopt.onset_threshold, dopt.frame_threshold, dopt.sustain_threshold, n_ref, n_est);
        printf(" \"frame\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"accuracy\": %.6f},\n", ftot.precision,
               ftot.recall, ftot.f1, ftot.accuracy);
        printf(" \"frame_head\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"accuracy\": %.6f},\n",
               htot.precision, htot.recall, htot.f1, htot.accuracy);
        printf(" \"note\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f},\n", ton.precision, ton.recall, ton.f1);
        printf(" \"note_offset\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f},\n \"velocity_mae\": ",
               toff.precision, toff.recall, toff.f1);
        amt_json_number(stdout, vmae);
        printf("}\n");
    } else {
        printf("# amt-eval --model %s: %s split of %s, %d files, %.1f s of audio (%.1fx real time)\n", o->model, o->split,
               o->data, n, audio_s, wall > 0 ? audio_s / wall : 0);
        printf("# thresholds: onset %.3f, frame %.3f, sustain %.3f (0 = off); min note %g ms; gap %g ms; "
               "micro-averaged over files\n", dopt.onset_threshold, dopt.frame_threshold, dopt.sustain_threshold,
               dopt.min_note_ms, dopt.gap_frames * 1000.0 / dopt.fps);
        printf("%-56s %5s %5s | %6s %6s %6s | %6s %6s %6s | %6s %6s %6s\n", "file", "n_ref", "n_est", "fr_P", "fr_R",
               "fr_F1", "on_P", "on_R", "on_F1", "off_P", "off_R", "off_F1");
        for (int i = 0; i <= n; i++) {
            const char *nm = i < n ? rows[i].name : "overall";
            const amt_note_scores *a = i < n ? &rows[i].on : &ton, *b = i < n ? &rows[i].off : &toff;
            const amt_frame_scores *fs = i < n ? &rows[i].fr : &ftot;
            size_t L = strlen(nm);
            printf("%-56s %5d %5d | %6.4f %6.4f %6.4f | %6.4f %6.4f %6.4f | %6.4f %6.4f %6.4f\n",
                   L > 56 ? nm + L - 56 : nm, a->n_ref, a->n_est, fs->precision, fs->recall, fs->f1, a->precision,
                   a->recall, a->f1, b->precision, b->recall, b->f1);
        }
        printf("frame F1 %.4f  note F1 %.4f  note-with-offset F1 %.4f  velocity MAE %.1f (onset-matched notes)\n",
               ftot.f1, ton.f1, toff.f1, vmae);
        printf("# frame scores are of the decoded notes' roll; the frame head's own thresholded roll: P %.4f R %.4f "
               "F1 %.4f\n", htot.precision, htot.recall, htot.f1);
    }
    exit_code = AMT_EXIT_OK;
    goto out;
fail:
    if (!o->quiet) fprintf(stderr, "\n");
    fprintf(stderr, "amt-eval: %s\n", amt_errmsg());
out:
    if (csv) fclose(csv);
    amt_notes_free(&est);
    amt_notes_free(&roll);
    amt_tr_infer_free(runner);
    free(rows);
    free(tr); free(va); free(te);
    if (have_ds) amt_maps_close(&ds);
    amt_transcriber_free(&m);
    return exit_code;
}
