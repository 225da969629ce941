/* eval/separation.c: per-clip SDR/SIR/SAR/NSDR and GNSDR/GSIR/GSAR (Huang et al. 2014). */
#include "eval/separation.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/bss_eval.h"

int amt_sep_eval_clip(const float *voice_ref, const float *music_ref, const float *mixture,
                      const float *voice_est, const float *music_est, long n, amt_sep_scores *out)
{
    memset(out, 0, sizeof(*out));
    if (!voice_ref || !music_ref || !voice_est || !music_est)
        return amt_error(AMT_EINVAL, "separation: a reference or estimate signal is NULL");
    if (n < 1) return amt_error(AMT_EINVAL, "separation: clip has %ld samples", n);
    float *mix = NULL;
    if (!mixture) {
        mix = malloc((size_t)n * sizeof(float));
        if (!mix) return amt_error(AMT_ENOMEM, "separation: out of memory");
        for (long t = 0; t < n; t++) mix[t] = voice_ref[t] + music_ref[t];
        mixture = mix;
    }
    const float *refs[AMT_SEP_SOURCES] = { voice_ref, music_ref };
    const float *ests[AMT_SEP_SOURCES] = { voice_est, music_est };
    amt_bss *b = NULL;
    int rc = amt_bss_new(refs, AMT_SEP_SOURCES, n, AMT_BSS_FLEN, &b);
    for (int j = 0; j < AMT_SEP_SOURCES && !rc; j++)
        rc = amt_bss_score_one(b, ests[j], j, &out->sdr[j], &out->sir[j], &out->sar[j]);
    double sir[AMT_SEP_SOURCES], sar[AMT_SEP_SOURCES];
    if (!rc) rc = amt_bss_score(b, mixture, out->sdr_mix, sir, sar);
    amt_bss_free(b);
    free(mix);
    if (rc) return rc;
    for (int j = 0; j < AMT_SEP_SOURCES; j++) out->nsdr[j] = out->sdr[j] - out->sdr_mix[j];
    out->samples = n;
    return AMT_OK;
}

void amt_sep_acc_init(amt_sep_acc *a)
{
    memset(a, 0, sizeof(*a));
}

void amt_sep_acc_add(amt_sep_acc *a, const amt_sep_scores *c)
{
    double w = (double)c->samples;
    for (int j = 0; j < AMT_SEP_SOURCES; j++) {
        a->sum_sdr[j] += w * c->sdr[j];
        a->sum_sir[j] += w * c->sir[j];
        a->sum_sar[j] += w * c->sar[j];
        a->sum_sdr_mix[j] += w * c->sdr_mix[j];
        a->sum_nsdr[j] += w * c->nsdr[j];
    }
    a->samples += c->samples;
    a->clips++;
}

int amt_sep_acc_result(const amt_sep_acc *a, amt_sep_scores *out)
{
    memset(out, 0, sizeof(*out));
    if (a->clips < 1 || a->samples < 1) return amt_error(AMT_EINVAL, "separation: no clips were scored");
    double w = (double)a->samples;
    for (int j = 0; j < AMT_SEP_SOURCES; j++) {
        out->sdr[j] = a->sum_sdr[j] / w;
        out->sir[j] = a->sum_sir[j] / w;
        out->sar[j] = a->sum_sar[j] / w;
        out->sdr_mix[j] = a->sum_sdr_mix[j] / w;
        out->nsdr[j] = a->sum_nsdr[j] / w;
    }
    out->samples = a->samples;
    return AMT_OK;
}
