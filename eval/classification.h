/* eval/classification.h: classification metrics.
 *
 * Single-label (one class per example): a confusion matrix (rows = true class, columns
 * = predicted), accuracy, per-class precision/recall/F1, micro and macro averages. As
 * scikit-learn: per-class values are 0 when their denominator is 0, and the macro
 * averages run over the classes that occur in the truth or the predictions (classes
 * with neither are left out); micro P = R = F1 = accuracy for single-label data.
 *
 * Multi-label, the IRMAS test protocol (Han et al. 2017, "Deep convolutional neural
 * networks for predominant instrument recognition in polyphonic music"): the per-window
 * class probabilities of a clip are averaged (optionally divided by their maximum, Han's
 * normalisation), thresholded (>= threshold = present) and compared with the clip's set
 * of labelled instruments. Micro P/R/F1 from the tp/fp/fn summed over all clips and
 * classes; macro P/R/F1 = unweighted means over classes of the per-class P/R/F1 (classes
 * with no reference and no prediction are left out, as above). */
#ifndef AMT_EVAL_CLASSIFICATION_H
#define AMT_EVAL_CLASSIFICATION_H

typedef struct amt_confusion {
    int k;          /* number of classes */
    long *m;        /* k x k counts, m[true * k + pred], owned */
} amt_confusion;

int amt_confusion_init(amt_confusion *c, int k);
/* Adds one example; AMT_EINVAL when a class index is outside 0..k-1. */
int amt_confusion_add(amt_confusion *c, int truth, int pred);
void amt_confusion_free(amt_confusion *c);

typedef struct amt_class_scores {
    int k;
    double accuracy;                        /* single-label; 0 for multi-label */
    double micro_p, micro_r, micro_f1;
    double macro_p, macro_r, macro_f1;
    double *precision, *recall, *f1;        /* k each, owned (amt_class_scores_free) */
    long *support;                          /* k: true examples of each class */
    long n;                                 /* examples (clips) counted */
} amt_class_scores;

/* Scores of a confusion matrix (allocates the per-class arrays). */
int amt_confusion_scores(const amt_confusion *c, amt_class_scores *s);
void amt_class_scores_free(amt_class_scores *s);

/* IRMAS clip decision: probs is windows x k (row-major); avg (k, caller's) receives the
 * mean over windows (divided by its maximum when max_norm and the maximum is > 0);
 * pred (k, caller's) gets 1 where avg >= threshold. AMT_EINVAL for windows < 1. */
int amt_multilabel_decide(const float *probs, int windows, int k, int max_norm, float threshold,
                          float *avg, unsigned char *pred);

typedef struct amt_multilabel {
    int k;
    long *tp, *fp, *fn;   /* k each, owned */
    long clips;
} amt_multilabel;

int amt_multilabel_init(amt_multilabel *ml, int k);
/* Adds one clip: truth and pred are k flags (nonzero = present). */
void amt_multilabel_add(amt_multilabel *ml, const unsigned char *truth, const unsigned char *pred);
/* Micro/macro P/R/F1 and per-class values (accuracy = exact-set match rate is not
 * tracked: 0). */
int amt_multilabel_scores(const amt_multilabel *ml, amt_class_scores *s);
void amt_multilabel_free(amt_multilabel *ml);

#endif
