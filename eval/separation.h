/* eval/separation.h: singing-voice separation scores of one clip and over a data set,
 * as Huang et al. 2014 (ISMIR, "Singing-voice separation from monaural recordings using
 * deep recurrent neural networks") report them on MIR-1K:
 *   SDR/SIR/SAR = BSS Eval v3 (eval/bss_eval.h) of [voice, music] estimates against the
 *     [voice, music] references, estimate j scored against reference j (no permutation);
 *   NSDR = SDR(estimate, reference) - SDR(mixture, reference), the mixture scored as the
 *     estimate of every source;
 *   GNSDR, GSIR, GSAR (and GSDR) = means over clips weighted by clip length (samples).
 * All values in dB. */
#ifndef AMT_EVAL_SEPARATION_H
#define AMT_EVAL_SEPARATION_H

enum { AMT_SEP_VOICE = 0, AMT_SEP_MUSIC = 1, AMT_SEP_SOURCES = 2 };

typedef struct amt_sep_scores {
    double sdr[AMT_SEP_SOURCES], sir[AMT_SEP_SOURCES], sar[AMT_SEP_SOURCES];
    double sdr_mix[AMT_SEP_SOURCES];   /* SDR of the unprocessed mixture */
    double nsdr[AMT_SEP_SOURCES];      /* sdr - sdr_mix */
    long samples;                      /* clip length (weight); total for an accumulator */
} amt_sep_scores;

/* Scores one clip of n samples. mixture may be NULL: then voice_ref + music_ref. Errors
 * (from bss_eval) for silent or non-finite signals. */
int amt_sep_eval_clip(const float *voice_ref, const float *music_ref, const float *mixture,
                      const float *voice_est, const float *music_est, long n, amt_sep_scores *out);

/* Length-weighted means over clips. */
typedef struct amt_sep_acc {
    int clips;
    long samples;
    double sum_sdr[AMT_SEP_SOURCES], sum_sir[AMT_SEP_SOURCES], sum_sar[AMT_SEP_SOURCES];
    double sum_sdr_mix[AMT_SEP_SOURCES], sum_nsdr[AMT_SEP_SOURCES];
} amt_sep_acc;

void amt_sep_acc_init(amt_sep_acc *a);
void amt_sep_acc_add(amt_sep_acc *a, const amt_sep_scores *clip);
/* out->nsdr = GNSDR, out->sir = GSIR, out->sar = GSAR, out->sdr = GSDR, out->sdr_mix =
 * weighted mean mixture SDR, out->samples = total samples. AMT_EINVAL with no clips. */
int amt_sep_acc_result(const amt_sep_acc *a, amt_sep_scores *out);

#endif
