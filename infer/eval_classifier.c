/* infer/eval_classifier.c: amt-eval --model for the instrument classifier
 * (models/classifier.h) on an IRMAS-layout dataset (datasets/irmas.h).
 *
 * Splits, as the training kind (train/kind_classifier.c) draws them from the stored
 * config ([train] split, val_fraction, seed): "train" = the training clips it learned
 * from, "val" = the held-out validation clips, "test" = the clips outside the training
 * split (layout: the IRMAS-TestingData-Part* clips; random: those plus the held-out
 * fraction), "all" = every clip (e.g. a set rendered with an unseen soundfont).
 *
 * Each clip runs through amt_classifier_classify exactly as amt-infer does (mono mix at
 * the file's rate, window softmaxes averaged). Scores:
 *   single-label clips (one labelled instrument: the class folders, or a testing clip with
 *   one label): clip accuracy of the arg max, per-class precision/recall/F1, micro/macro
 *   F1 (eval/classification.h) and the confusion matrix;
 *   every clip: the IRMAS multi-label protocol with the model's tuned threshold
 *   ("decode/threshold"), micro/macro P/R/F1.
 * Outputs: a table (or JSON) on stdout; with --out FILE.csv one row per clip and the
 * confusion matrix as a PNG beside it (FILE.confusion.png: rows = true class, columns =
 * predicted, cells shaded by the row-normalised count, counts written in). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_io.h"
#include "audio/picture.h"
#include "core/error.h"
#include "datasets/filelist.h"
#include "datasets/irmas.h"
#include "eval/classification.h"
#include "app/cli.h"
#include "infer/eval_model.h"
#include "models/classifier.h"
#include "app/plot.h"

#define K AMT_CLS_NCLASS
#define PNG_CELL 40         /* confusion picture: cell side (pixels) */
#define PNG_MARGIN 70       /* room for the class labels and title */
#define PNG_TEXT 2          /* font scale */

static int fail_msg(const char *what)
{
    fprintf(stderr, "amt-eval: %s%s%s\n", what ? what : "", what ? ": " : "", amt_errmsg());
    return AMT_EXIT_FAIL;
}

/* "cel+vio" into buf */
static void label_str(unsigned bits, char *buf, size_t n)
{
    buf[0] = 0;
    size_t len = 0;
    for (int c = 0; c < K; c++)
        if ((bits >> c) & 1u) len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? "+" : "", amt_classifier_classes[c]);
}

/* Confusion matrix picture (see the top). */
static int confusion_png(const amt_confusion *cm, double accuracy, const char *path)
{
    const int W = PNG_MARGIN + K * PNG_CELL + 10, H = PNG_MARGIN + K * PNG_CELL + 10;
    const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    amt_image im;
    int rc = amt_image_init(&im, W, H, white);
    if (rc) return rc;
    char t[96];
    snprintf(t, sizeof t, "ACCURACY %.3f (ROWS TRUE, COLUMNS PREDICTED)", accuracy);
    amt_plot_text(&im, 6, 6, t, PNG_TEXT, black);
    for (int r = 0; r < K; r++) {
        long tot = 0;
        for (int c = 0; c < K; c++) tot += cm->m[r * K + c];
        int y0 = PNG_MARGIN + r * PNG_CELL;
        amt_plot_text(&im, 8, y0 + PNG_CELL / 2 - 5, amt_classifier_classes[r], PNG_TEXT, black);
        for (int c = 0; c < K; c++) {
            int x0 = PNG_MARGIN + c * PNG_CELL;
            if (r == 0) amt_plot_text(&im, x0 + 4, PNG_MARGIN - 16, amt_classifier_classes[c], PNG_TEXT, black);
            long v = cm->m[r * K + c];
            float f = tot > 0 ? (float)v / (float)tot : 0.0f;
            unsigned char col[3];
            amt_colormap_magma(1.0f - 0.9f * f, col);   /* light = few, dark = many */
            amt_image_fill_rect(&im, x0, y0, x0 + PNG_CELL - 1, y0 + PNG_CELL - 1, col, 1.0f);
            if (v > 0) {
                char s[24];
                snprintf(s, sizeof s, "%ld", v);
                const unsigned char *tc = f > 0.5f ? white : black;
                int tw = amt_plot_text_width(s, PNG_TEXT);
                amt_plot_text(&im, x0 + (PNG_CELL - tw) / 2, y0 + PNG_CELL / 2 - 5, s, PNG_TEXT, tc);
            }
        }
    }
    rc = amt_image_write_png(&im, path);
    amt_image_free(&im);
    return rc;
}

static void print_scores_text(const amt_class_scores *s, int single)
{
    if (single) printf("accuracy %.4f\n", s->accuracy);
    printf("micro    P %.4f  R %.4f  F1 %.4f\n", s->micro_p, s->micro_r, s->micro_f1);
    printf("macro    P %.4f  R %.4f  F1 %.4f\n", s->macro_p, s->macro_r, s->macro_f1);
    printf("%-6s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
    for (int c = 0; c < K; c++)
        printf("%-6s %9.4f %9.4f %9.4f %8ld\n", amt_classifier_classes[c], s->precision[c], s->recall[c], s->f1[c],
               s->support[c]);
}

static void print_scores_json(const amt_class_scores *s, int single)
{
    printf("{\"clips\": %ld", s->n);
    if (single) { printf(", \"accuracy\": "); amt_json_number(stdout, s->accuracy); }
    const char *nm[6] = {"micro_p", "micro_r", "micro_f1", "macro_p", "macro_r", "macro_f1"};
    double v[6] = {s->micro_p, s->micro_r, s->micro_f1, s->macro_p, s->macro_r, s->macro_f1};
    for (int i = 0; i < 6; i++) { printf(", \"%s\": ", nm[i]); amt_json_number(stdout, v[i]); }
    printf(", \"per_class\": {");
    for (int c = 0; c < K; c++) {
        printf("%s\"%s\": {\"precision\": ", c ? ", " : "", amt_classifier_classes[c]);
        amt_json_number(stdout, s->precision[c]);
        printf(", \"recall\": ");
        amt_json_number(stdout, s->recall[c]);
        printf(", \"f1\": ");
        amt_json_number(stdout, s->f1[c]);
        printf(", \"support\": %ld}", s->support[c]);
    }
    printf("}}");
}

int amt_eval_classifier(const amt_eval_model_opts *o)
{
    amt_classifier m;
    if (amt_classifier_load(o->model, &m)) return fail_msg(NULL);
    const amt_classifier_config *c = &m.cfg;
    int status = AMT_EXIT_OK;
    amt_irmas ds;
    amt_irmas_opts io;
    amt_irmas_opts_default(&io);
    io.split = c->split == AMT_CLS_SPLIT_RANDOM ? AMT_IRMAS_SPLIT_RANDOM : AMT_IRMAS_SPLIT_LAYOUT;
    io.seed = c->seed;
    io.v.check_audio = 0;   /* each clip is read below; its error names it */
    if (!amt_is_dir(o->data)) {
        fprintf(stderr, "amt-eval: %s: no such dataset directory (--data)\n", o->data);
        amt_classifier_free(&m);
        return AMT_EXIT_FAIL;
    }
    if (amt_irmas_open(o->data, &io, &ds)) { amt_classifier_free(&m); return fail_msg(NULL); }
    const int n = ds.n;
    /* membership: 0 train, 1 val, 2 test */
    unsigned char *role = malloc((size_t)n + 1), *keep = malloc((size_t)n + 1);
    int *cand = malloc(sizeof(int) * ((size_t)n + 1)), *items = malloc(sizeof(int) * ((size_t)n + 1));
    amt_cls_infer *r = NULL;
    FILE *csv = NULL;
    amt_confusion cm = {0};
    amt_multilabel ml = {0};
    int nitems = 0, nsingle = 0;
    if (!role || !keep || !cand || !items) { status = AMT_EXIT_FAIL; fprintf(stderr, "amt-eval: out of memory\n"); goto done; }
    int ncand = 0;
    for (int i = 0; i < n; i++) {
        unsigned l = ds.files[i].labels;
        role[i] = 2;
        if (ds.files[i].train && l && !(l & (l - 1))) cand[ncand++] = i;
    }
    amt_random_split(ncand, c->val_fraction, c->seed, keep);
    for (int i = 0; i < ncand; i++) role[cand[i]] = keep[i] ? 0 : 1;
    int want = !strcmp(o->split, "train") ? 0 : !strcmp(o->split, "val") ? 1 : !strcmp(o->split, "test") ? 2 : -1;
    for (int i = 0; i < n; i++)
        if (want < 0 || role[i] == want) items[nitems++] = i;
    if (nitems == 0) {
        fprintf(stderr, "amt-eval: %s: no clips in the '%s' split (%d clips in all; try --split all)\n", o->data, o->split, n);
        status = AMT_EXIT_FAIL;
        goto done;
    }
    if (!(r = amt_cls_infer_new(&m, 0))) { status = fail_msg(o->model); goto done; }
    if (amt_confusion_init(&cm, K) || amt_multilabel_init(&ml, K)) { status = fail_msg(NULL); goto done; }
    if (o->out_csv) {
        if (!(csv = fopen(o->out_csv, "w"))) {
            fprintf(stderr, "amt-eval: %s: cannot write the per-clip CSV\n", o->out_csv);
            status = AMT_EXIT_FAIL;
            goto done;
        }
        fprintf(csv, "clip,labels,predicted,probability,multilabel,correct");
        for (int k = 0; k < K; k++) fprintf(csv, ",p_%s", amt_classifier_classes[k]);
        fprintf(csv, "\n");
    }
    size_t rootlen = strlen(o->data);
    for (int j = 0; j < nitems; j++) {
        const amt_irmas_file *f = &ds.files[items[j]];
        float *x = NULL;
        long len = 0;
        int rate = 0;
        amt_cls_result res;
        if (amt_audio_read_mono(f->wav, -1, 0, &x, &len, &rate) || amt_classifier_classify(r, x, len, rate, &res)) {
            free(x);
            status = fail_msg(f->wav);
            goto done;
        }
        free(x);
        int single = f->labels && !(f->labels & (f->labels - 1)), truth = -1;
        if (single) {
            while (!((f->labels >> (truth + 1)) & 1u)) truth++;
            truth++;
            amt_confusion_add(&cm, truth, res.top);
            nsingle++;
        }
        unsigned char tr[K];
        unsigned pred = 0;
        for (int k = 0; k < K; k++) { tr[k] = (f->labels >> k) & 1u; if (res.labels[k]) pred |= 1u << k; }
        amt_multilabel_add(&ml, tr, res.labels);
        if (csv) {
            char ls[64], ps[64];
            label_str(f->labels, ls, sizeof ls);
            label_str(pred, ps, sizeof ps);
            const char *rel = f->wav + (strncmp(f->wav, o->data, rootlen) ? 0 : rootlen);
            while (*rel == '/') rel++;
            fprintf(csv, "\"%s\",%s,%s,%.4f,%s,%s", rel, ls, amt_classifier_classes[res.top], res.probs[res.top], ps,
                    single ? (truth == res.top ? "1" : "0") : "");
            for (int k = 0; k < K; k++) fprintf(csv, ",%.4f", res.probs[k]);
            fprintf(csv, "\n");
        }
        if (!o->quiet && (j + 1) % 50 == 0) fprintf(stderr, "amt-eval: %d/%d clips\n", j + 1, nitems);
    }
    amt_class_scores ss, ms;
    memset(&ss, 0, sizeof ss);
    memset(&ms, 0, sizeof ms);
    if ((nsingle && amt_confusion_scores(&cm, &ss)) || amt_multilabel_scores(&ml, &ms)) { status = fail_msg(NULL); goto done; }
    float thr = amt_classifier_threshold(&m);
    if (o->json) {
        printf("{\"model\": ");
        amt_json_string(stdout, o->model);
        printf(", \"kind\": \"classifier\", \"data\": ");
        amt_json_string(stdout, o->data);
        printf(", \"split\": \"%s\", \"clips\": %d", o->split, nitems);
        printf(",\n \"single_label\": ");
        if (nsingle) {
            print_scores_json(&ss, 1);
            printf(",\n \"confusion\": {\"labels\": [");
            for (int k = 0; k < K; k++) printf("%s\"%s\"", k ? ", " : "", amt_classifier_classes[k]);
            printf("], \"rows_true_cols_pred\": [");
            for (int a = 0; a < K; a++) {
                printf("%s[", a ? ", " : "");
                for (int b = 0; b < K; b++) printf("%s%ld", b ? ", " : "", cm.m[a * K + b]);
                printf("]");
            }
            printf("]}");
        } else {
            printf("null");
        }
        printf(",\n \"multi_label\": ");
        print_scores_json(&ms, 0);
        printf(", \"threshold\": ");
        amt_json_number(stdout, thr);
        printf(", \"max_norm\": %s}\n", c->max_norm ? "true" : "false");
    } else {
        printf("# amt-eval --model %s (classifier) on %s, split %s: %d clips, %d single-label\n", o->model, o->data,
               o->split, nitems, nsingle);
        if (nsingle) {
            printf("## single-label clips (arg max of the mean window probabilities)\n");
            print_scores_text(&ss, 1);
            printf("confusion (rows = true, columns = predicted)\n%-6s", "");
            for (int k = 0; k < K; k++) printf(" %5s", amt_classifier_classes[k]);
            printf("\n");
            for (int a = 0; a < K; a++) {
                printf("%-6s", amt_classifier_classes[a]);
                for (int b = 0; b < K; b++) printf(" %5ld", cm.m[a * K + b]);
                printf("\n");
            }
        }
        printf("## multi-label protocol (IRMAS: mean probabilities%s >= threshold %.2f), all %d clips\n",
               c->max_norm ? " / their maximum" : "", thr, nitems);
        print_scores_text(&ms, 0);
    }
    if (csv && nsingle) {
        char *stem = amt_path_strip_ext(o->out_csv);
        size_t L = stem ? strlen(stem) : 0;
        char *png = stem ? malloc(L + 32) : NULL;
        if (png) {
            snprintf(png, L + 32, "%s.confusion.png", stem);
            if (confusion_png(&cm, ss.accuracy, png)) status = fail_msg(png);
        } else {
            status = AMT_EXIT_FAIL;
            fprintf(stderr, "amt-eval: out of memory\n");
        }
        free(png);
        free(stem);
    }
    amt_class_scores_free(&ss);
    amt_class_scores_free(&ms);
done:
    if (csv && fclose(csv) && status == AMT_EXIT_OK) {
        fprintf(stderr, "amt-eval: %s: write failed\n", o->out_csv);
        status = AMT_EXIT_FAIL;
    }
    amt_confusion_free(&cm);
    amt_multilabel_free(&ml);
    amt_cls_infer_free(r);
    free(role);
    free(keep);
    free(cand);
    free(items);
    amt_irmas_close(&ds);
    amt_classifier_free(&m);
    return status;
}
