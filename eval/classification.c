/* eval/classification.c: single- and multi-label classification metrics. */
#include "classification.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int amt_confusion_init(amt_confusion *c, int k)
{
    c->k = 0; c->m = NULL;
    if (k < 1) return amt_error(AMT_EINVAL, "confusion matrix: %d classes", k);
    c->m = calloc((size_t)k * (size_t)k, sizeof *c->m);
    if (!c->m) return amt_error(AMT_ENOMEM, "confusion matrix: out of memory for %d classes", k);
    c->k = k;
    return AMT_OK;
}

int amt_confusion_add(amt_confusion *c, int truth, int pred)
{
    if (truth < 0 || truth >= c->k || pred < 0 || pred >= c->k)
        return amt_error(AMT_EINVAL, "confusion matrix: class %d -> %d outside 0..%d", truth, pred, c->k - 1);
    c->m[(size_t)truth * (size_t)c->k + (size_t)pred]++;
    return AMT_OK;
}

void amt_confusion_free(amt_confusion *c) { free(c->m); c->m = NULL; c->k = 0; }

static double ratio(long a, long b) { return b > 0 ? (double)a / (double)b : 0.0; }
static double fmeas(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

static int alloc_scores(amt_class_scores *s, int k)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    s->precision = calloc((size_t)k, sizeof(double)); s->recall = calloc((size_t)k, sizeof(double));
    s->f1 = calloc((size_t)k, sizeof(double)); s->support = calloc((size_t)k, sizeof(long));
    if (!s->precision || !s->recall || !s->f1 || !s->support) {
        amt_class_scores_free(s);
        return amt_error(AMT_ENOMEM, "class scores: out of memory");
    }
    return AMT_OK;
}

/* Per-class and averaged scores from per-class tp/fp/fn. */
static void fill_scores(amt_class_scores *s, const long *tp, const long *fp, const long *fn)
{
    long TP = 0, FP = 0, FN = 0;
    int used = 0;
    double sp = 0, sr = 0, sf = 0;
    for (int c = 0; c < s->k; c++) {
        s->precision[c] = ratio(tp[c], tp[c] + fp[c]);
        s->recall[c] = ratio(tp[c], tp[c] + fn[c]);
        s->f1[c] = fmeas(s->precision[c], s->recall[c]);
        s->support[c] = tp[c] + fn[c];
        TP += tp[c]; FP += fp[c]; FN += fn[c];
        if (tp[c] + fp[c] + fn[c] > 0) { used++; sp += s->precision[c]; sr += s->recall[c]; sf += s->f1[c]; }
    }
    s->micro_p = ratio(TP, TP + FP);
    s->micro_r = ratio(TP, TP + FN);
    s->micro_f1 = fmeas(s->micro_p, s->micro_r);
    if (used) { s->macro_p = sp / used; s->macro_r = sr / used; s->macro_f1 = sf / used; }
}

int amt_confusion_scores(const amt_confusion *c, amt_class_scores *s)
{
    int k = c->k, rc = alloc_scores(s, k);
    if (rc) return rc;
    long *tp = calloc((size_t)k * 3, sizeof(long));
    if (!tp) { amt_class_scores_free(s); return amt_error(AMT_ENOMEM, "class scores: out of memory"); }
    long *fp = tp + k, *fn = tp + 2 * k, total = 0, correct = 0;
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            long v = c->m[(size_t)t * (size_t)k + (size_t)p];
            total += v;
            if (t == p) { tp[t] += v; correct += v; }
            else { fn[t] += v; fp[p] += v; }
        }
    fill_scores(s, tp, fp, fn);
    s->n = total;
    s->accuracy = ratio(correct, total);
    free(tp);
    return AMT_OK;
}

void amt_class_scores_free(amt_class_scores *s)
{
    free(s->precision); free(s->recall); free(s->f1); free(s->support);
    s->precision = s->recall = s->f1 = NULL; s->support = NULL;
}

int amt_multilabel_decide(const float *probs, int windows, int k, int max_norm, float threshold,
                          float *avg, unsigned char *pred)
{
    if (windows < 1 || k < 1) return amt_error(AMT_EINVAL, "multi-label decision: %d windows x %d classes", windows, k);
    double mx = 0;
    for (int c = 0; c < k; c++) {
        double s = 0;
        for (int w = 0; w < windows; w++) s += probs[(size_t)w * (size_t)k + (size_t)c];
        avg[c] = (float)(s / windows);
        if (avg[c] > mx) mx = avg[c];
    }
    for (int c = 0; c < k; c++) {
        if (max_norm && mx > 0) avg[c] = (float)(avg[c] / mx);
        pred[c] = avg[c] >= threshold;
    }
    return AMT_OK;
}

int amt_multilabel_init(amt_multilabel *ml, int k)
{
    memset(ml, 0, sizeof *ml);
    if (k < 1) return amt_error(AMT_EINVAL, "multi-label: %d classes", k);
    ml->tp = calloc((size_t)k * 3, sizeof(long));
    if (!ml->tp) return amt_error(AMT_ENOMEM, "multi-label: out of memory");
    ml->fp = ml->tp + k; ml->fn = ml->tp + 2 * k; ml->k = k;
    return AMT_OK;
}

void amt_multilabel_add(amt_multilabel *ml, const unsigned char *truth, const unsigned char *pred)
{
    for (int c = 0; c < ml->k; c++) {
        int t = truth[c] != 0, p = pred[c] != 0;
        ml->tp[c] += t && p; ml->fp[c] += !t && p; ml->fn[c] += t && !p;
    }
    ml->clips++;
}

int amt_multilabel_scores(const amt_multilabel *ml, amt_class_scores *s)
{
    int rc = alloc_scores(s, ml->k);
    if (rc) return rc;
    fill_scores(s, ml->tp, ml->fp, ml->fn);
    s->n = ml->clips;
    return AMT_OK;
}

void amt_multilabel_free(amt_multilabel *ml) { free(ml->tp); memset(ml, 0, sizeof *ml); }
