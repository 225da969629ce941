/* infer/eval_separator.c: `amt-eval --model SEPARATOR.h5 --data DIR [--split test]`:
 * separates every clip of the split of a MIR-1K-layout dataset with the trained model
 * (models/separator.h amt_separator_separate: the mixture left + right, block inference,
 * ISTFT with the mixture phase) and scores it with BSS Eval (eval/separation.h), next to
 * the two baselines of issue 6 computed by the same code on the same clips:
 *   irm      the ideal ratio mask from the true sources (models/irm.h, the model's STFT):
 *            the oracle upper bound
 *   mixture  the unprocessed mixture as the estimate of both sources: NSDR 0 by definition
 *            (its SDR is the reference every NSDR subtracts)
 * Splits: "test" / "train" as the model's [train] split (huang: singers abjones and amy
 * train; random: the loader's seeded split); "val" and "train" drop / keep the validation
 * clips the training run held out (the same seeded choice, train/kind_separator.c), and
 * with [data] all_train the training split is every clip; "all" is every clip (a rendered
 * test set: its singer names mean nothing). A clip whose BSS Eval fails (a silent source)
 * is skipped with a warning and counted. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "datasets/mir1k.h"
#include "eval/separation.h"
#include "app/cli.h"
#include "infer/eval_model.h"
#include "models/irm.h"
#include "models/separator.h"

/* train/kind_separator.c: the validation clips of a root's training split. */

enum { M_MODEL, M_IRM, M_METHODS };
static const char *const METHOD[M_METHODS] = {"model", "irm"};

typedef struct row {
    const char *name;      /* points into the dataset */
    amt_sep_scores s[M_METHODS];
} row;

static int fail_msg(const char *what)
{
    fprintf(stderr, "amt-eval: %s%s\n", what, amt_errmsg());
    return AMT_EXIT_FAIL;
}

/* [data] all_train of the checkpoint's stored config (0 when absent or unreadable). */
static int read_all_train(const char *ckpt)
{
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    int v = 0;
    if (amt_checkpoint_read_info(ckpt, &info) == AMT_OK && info.config) {
        amt_config *c = amt_config_from_string(info.config, ckpt);
        if (c && amt_config_get_bool(c, "data", "all_train", 0, &v)) v = 0;
        amt_config_free(c);
    }
    amt_ckpt_info_free(&info);
    amt_error_clear();
    return v;
}

/* Clip indices of the split. *idx malloc'd. */
static int select_clips(const amt_mir1k *ds, const amt_separator_config *c, int all_train, const char *split,
                        int **idx, int *n)
{
    *idx = NULL;
    *n = 0;
    if (!strcmp(split, "test") && !all_train) return amt_mir1k_split(ds, 0, idx, n);
    if (!strcmp(split, "test") || !strcmp(split, "all")) {
        /* all_train: the training run had no test clips in its roots; "test" = every clip */
        int *v = malloc(sizeof(int) * (size_t)ds->n);
        if (!v) return amt_error(AMT_ENOMEM, "out of memory");
        for (int i = 0; i < ds->n; i++) v[i] = i;
        *idx = v;
        *n = ds->n;
        return AMT_OK;
    }
    int *tr = NULL, ntr = 0, rc;
    if (all_train) {
        tr = malloc(sizeof(int) * (size_t)ds->n);
        if (!tr) return amt_error(AMT_ENOMEM, "out of memory");
        for (int i = 0; i < ds->n; i++) tr[i] = i;
        ntr = ds->n;
    } else if ((rc = amt_mir1k_split(ds, 1, &tr, &ntr))) {
        return rc;
    }
    unsigned char *is_val = malloc((size_t)ntr + 1);
    if (!is_val) { free(tr); return amt_error(AMT_ENOMEM, "out of memory"); }
    if ((rc = amt_mir1k_val_choice(ntr, c->val_fraction, c->seed, is_val))) { free(tr); free(is_val); return rc; }
    int want_val = !strcmp(split, "val"), k = 0;
    for (int i = 0; i < ntr; i++)
        if (is_val[i] == want_val) tr[k++] = tr[i];
    free(is_val);
    *idx = tr;
    *n = k;
    return AMT_OK;
}

static void json_scores(const char *name, const amt_sep_scores *s, int src, int global)
{
    const char *g = global ? "g" : "";
    printf("\"%s\": {\"%snsdr\": ", name, g); amt_json_number(stdout, s->nsdr[src]);
    printf(", \"%ssir\": ", g); amt_json_number(stdout, s->sir[src]);
    printf(", \"%ssar\": ", g); amt_json_number(stdout, s->sar[src]);
    printf(", \"%ssdr\": ", g); amt_json_number(stdout, s->sdr[src]);
    printf("}");
}

/* One method's scores of both sources as JSON. */
static void json_method(const char *name, const amt_sep_scores *s, int global)
{
    printf("\"%s\": {", name);
    json_scores("voice", s, AMT_SEP_VOICE, global);
    printf(", ");
    json_scores("music", s, AMT_SEP_MUSIC, global);
    printf("}");
}

static void write_csv(FILE *f, const row *rows, int n)
{
    fprintf(f, "clip,samples,voice_sdr_mix,music_sdr_mix");
    for (int m = 0; m < M_METHODS; m++)
        fprintf(f, ",%s_voice_nsdr,%s_voice_sir,%s_voice_sar,%s_voice_sdr,%s_music_nsdr,%s_music_sir,%s_music_sar,%s_music_sdr",
                METHOD[m], METHOD[m], METHOD[m], METHOD[m], METHOD[m], METHOD[m], METHOD[m], METHOD[m]);
    fprintf(f, "\n");
    for (int i = 0; i < n; i++) {
        const amt_sep_scores *s = rows[i].s;
        fprintf(f, "%s,%ld,%.4f,%.4f", rows[i].name, s[0].samples, s[0].sdr_mix[0], s[0].sdr_mix[1]);
        for (int m = 0; m < M_METHODS; m++)
            for (int j = 0; j < AMT_SEP_SOURCES; j++)
                fprintf(f, ",%.4f,%.4f,%.4f,%.4f", s[m].nsdr[j], s[m].sir[j], s[m].sar[j], s[m].sdr[j]);
        fprintf(f, "\n");
    }
}

int amt_eval_separator(const amt_eval_model_opts *o)
{
    amt_separator model;
    if (amt_separator_load(o->model, &model)) return fail_msg("");
    const int all_train = read_all_train(o->model);
    amt_mir1k ds;
    amt_mir1k_opts mo;
    amt_mir1k_opts_default(&mo);
    mo.split = model.cfg.split == AMT_SEP_SPLIT_HUANG ? AMT_SPLIT_PROTOCOL : AMT_SPLIT_RANDOM;
    mo.seed = model.cfg.seed;
    mo.v.check_audio = 1;
    mo.v.skip_bad = 1;
    if (amt_mir1k_open(o->data, &mo, &ds)) { amt_separator_free(&model); return fail_msg("--data: "); }
    if (ds.skipped && !o->quiet) fprintf(stderr, "amt-eval: warning: %d files skipped, last: %s\n", ds.skipped, ds.warning);
    int *idx = NULL, n = 0, status = AMT_EXIT_OK;
    row *rows = NULL;
    amt_sep_infer *r = NULL;
    if (select_clips(&ds, &model.cfg, all_train, o->split, &idx, &n)) { status = fail_msg(""); goto done; }
    if (n == 0) {
        fprintf(stderr, "amt-eval: %s: no clips in split '%s' (split %s%s; try --split all)\n", ds.root, o->split,
                model.cfg.split == AMT_SEP_SPLIT_HUANG ? "huang: singers abjones, amy train" : "random",
                all_train ? ", all_train" : "");
        status = AMT_EXIT_FAIL;
        goto done;
    }
    rows = calloc((size_t)n, sizeof *rows);
    r = amt_sep_infer_new(&model, 0, 0);
    if (!rows || !r) { status = fail_msg(""); goto done; }

    amt_sep_acc acc[M_METHODS];
    for (int m = 0; m < M_METHODS; m++) amt_sep_acc_init(&acc[m]);
    int nrows = 0, skipped = 0, progress = !o->quiet && isatty(2);   /* progress line on a terminal */
    for (int k = 0; k < n && status == AMT_EXIT_OK; k++) {
        const int i = idx[k];
        const char *name = amt_path_base(ds.clips[i].wav);
        float *mix = NULL, *music = NULL, *voice = NULL, *ev = NULL, *em = NULL, *iv = NULL, *im = NULL;
        long len = 0;
        int rc = amt_mir1k_read(&ds, i, &mix, &music, &voice, &len);
        if (!rc) {
            ev = malloc(sizeof(float) * (size_t)len); em = malloc(sizeof(float) * (size_t)len);
            iv = malloc(sizeof(float) * (size_t)len); im = malloc(sizeof(float) * (size_t)len);
            if (!ev || !em || !iv || !im) rc = amt_error(AMT_ENOMEM, "out of memory for %ld samples", len);
        }
        if (!rc) rc = amt_separator_separate(r, mix, len, 1, AMT_MIR1K_RATE, ev, em);
        if (!rc) rc = amt_irm_separate(voice, music, len, model.cfg.n_fft, model.cfg.hop, iv, im);
        if (rc) {
            status = fail_msg("");
        } else {
            row *w = &rows[nrows];
            w->name = name;
            int bad = amt_sep_eval_clip(voice, music, mix, ev, em, len, &w->s[M_MODEL]) ||
                      amt_sep_eval_clip(voice, music, mix, iv, im, len, &w->s[M_IRM]);
            if (bad) {
                if (!o->quiet) fprintf(stderr, "amt-eval: warning: %s: not scored (%s)\n", name, amt_errmsg());
                amt_error_clear();
                skipped++;
            } else {
                for (int m = 0; m < M_METHODS; m++) amt_sep_acc_add(&acc[m], &w->s[m]);
                nrows++;
            }
        }
        free(mix); free(music); free(voice); free(ev); free(em); free(iv); free(im);
        if (progress) fprintf(stderr, "\ramt-eval: separator: %d/%d %-32s", k + 1, n, name);
    }
    if (progress) fprintf(stderr, "\n");
    if (status != AMT_EXIT_OK) goto done;
    amt_sep_scores g[M_METHODS];
    for (int m = 0; m < M_METHODS; m++)
        if (amt_sep_acc_result(&acc[m], &g[m])) { status = fail_msg("no clip could be scored: "); goto done; }
    const double ratio_v = g[M_MODEL].nsdr[0] / g[M_IRM].nsdr[0], ratio_m = g[M_MODEL].nsdr[1] / g[M_IRM].nsdr[1];
    if (o->out_csv) {
        FILE *f = fopen(o->out_csv, "w");
        if (!f) { fprintf(stderr, "amt-eval: %s: cannot write the CSV\n", o->out_csv); status = AMT_EXIT_FAIL; goto done; }
        write_csv(f, rows, nrows);
        if (fclose(f)) { fprintf(stderr, "amt-eval: %s: write failed\n", o->out_csv); status = AMT_EXIT_FAIL; goto done; }
    }
    if (o->json) {
        printf("{\"mode\": \"model\", \"kind\": \"separator\", \"model\": "); amt_json_string(stdout, o->model);
        printf(", \"data\": "); amt_json_string(stdout, ds.root);
        printf(", \"split\": "); amt_json_string(stdout, o->split);
        printf(",\n \"clips\": %d, \"skipped\": %d, \"samples\": %ld,\n ", nrows, skipped, g[M_MODEL].samples);
        json_method("model", &g[M_MODEL], 1);
        printf(",\n ");
        json_method("irm", &g[M_IRM], 1);
        printf(",\n \"mixture\": {\"voice\": {\"gnsdr\": 0, \"gsdr\": "); amt_json_number(stdout, g[M_MODEL].sdr_mix[0]);
        printf("}, \"music\": {\"gnsdr\": 0, \"gsdr\": "); amt_json_number(stdout, g[M_MODEL].sdr_mix[1]);
        printf("}},\n \"gnsdr_fraction_of_irm\": {\"voice\": "); amt_json_number(stdout, ratio_v);
        printf(", \"music\": "); amt_json_number(stdout, ratio_m);
        printf("}}\n");
    } else {
        printf("# amt-eval --model %s: %s, split %s: %d clips (%d skipped), %.1f s\n", o->model, ds.root, o->split,
               nrows, skipped, (double)g[M_MODEL].samples / AMT_MIR1K_RATE);
        printf("# BSS Eval v3 (mir_eval 0.7), NSDR = SDR - SDR(mixture), G* = length-weighted means (Huang et al. 2014)\n");
        printf("%-10s %9s %9s %9s %9s | %9s %9s %9s %9s\n", "method", "v_GNSDR", "v_GSIR", "v_GSAR", "v_GSDR", "m_GNSDR",
               "m_GSIR", "m_GSAR", "m_GSDR");
        for (int m = 0; m < M_METHODS; m++)
            printf("%-10s %9.3f %9.3f %9.3f %9.3f | %9.3f %9.3f %9.3f %9.3f\n", METHOD[m], g[m].nsdr[0], g[m].sir[0],
                   g[m].sar[0], g[m].sdr[0], g[m].nsdr[1], g[m].sir[1], g[m].sar[1], g[m].sdr[1]);
        printf("%-10s %9.3f %9s %9s %9.3f | %9.3f %9s %9s %9.3f\n", "mixture", 0.0, "-", "-", g[M_MODEL].sdr_mix[0], 0.0,
               "-", "-", g[M_MODEL].sdr_mix[1]);
        printf("model GNSDR / IRM GNSDR: voice %.1f%%, music %.1f%% (issue 6 target >= 70%%)\n", 100 * ratio_v, 100 * ratio_m);
    }
done:
    amt_sep_infer_free(r);
    free(rows);
    free(idx);
    amt_mir1k_close(&ds);
    amt_separator_free(&model);
    return status;
}
