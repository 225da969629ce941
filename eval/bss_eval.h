/* eval/bss_eval.h: BSS Eval v3 source criteria (SDR, SIR, SAR in dB), numerically as
 * mir_eval 0.7 separation.bss_eval_sources: each estimate is projected by least squares on
 * the span of the references delayed by 0..flen-1 samples (flen = 512), the projections
 * built from FFT cross-correlations (a Toeplitz-block Gram matrix, solved by block
 * Levinson or Cholesky/LU/least squares, see bss_eval.c) and their energies taken from
 * Gram products (from the spectra when that would lose accuracy); then
 *   s_filt = P_own(est), e_interf = P_all(est) - P_own(est), e_artif = est - P_all(est),
 *   SDR = 10 log10(|s_filt|^2 / |e_interf + e_artif|^2), SIR = .. / |e_interf|^2,
 *   SAR = 10 log10(|P_all|^2 / |e_artif|^2)   (+inf when a denominator is 0).
 * Signals are float samples (any scale), one array of nsampl samples per source; all
 * arithmetic is double. The references are prepared once (FFTs, factorised Gram
 * matrices) and any number of estimates is then scored against them cheaply. */
#ifndef AMT_BSS_EVAL_H
#define AMT_BSS_EVAL_H

#define AMT_BSS_FLEN 512        /* distortion filter taps, as BSS Eval v3 / mir_eval */
#define AMT_BSS_MAX_SOURCES 100 /* mir_eval.separation.MAX_SOURCES */
#define AMT_BSS_MAX_PERM_SOURCES 8 /* permutation search tries nsrc! orders */

typedef struct amt_bss amt_bss;

/* Prepares nsrc reference sources refs[0..nsrc-1] (each nsampl samples; the caller keeps
 * ownership, they are copied) with a flen-tap distortion filter (AMT_BSS_FLEN). Errors:
 * a silent (all-zero) or non-finite reference (named by index), bad sizes, no memory.
 * *out is freed with amt_bss_free, which keeps up to 64 MB of its work buffers
 * (process-wide) for the next amt_bss_new. One amt_bss must not be used by two threads at once;
 * FFTW (double) plans are made under the OpenMP critical section "amt_fftw_planner", so
 * other code planning double-precision FFTW transforms concurrently must use it too. */
int amt_bss_new(const float *const *refs, int nsrc, long nsampl, int flen, amt_bss **out);
void amt_bss_free(amt_bss *b);

/* Scores one estimate (nsampl samples) as an estimate of each reference j = 0..nsrc-1:
 * sdr[j], sir[j], sar[j] (arrays of nsrc, dB). Error when the estimate is silent or
 * non-finite. */
int amt_bss_score(amt_bss *b, const float *est, double *sdr, double *sir, double *sar);

/* Scores one estimate as an estimate of reference j only (cheaper than amt_bss_score). */
int amt_bss_score_one(amt_bss *b, const float *est, int j, double *sdr, double *sir, double *sar);

/* mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation): sdr, sir, sar
 * (nsrc each, dB) and perm (nsrc; may be NULL): estimate perm[j] goes with reference j.
 * Without permutation estimate j is scored against reference j and perm is the identity;
 * with it, the order maximising the mean SIR (first in lexicographic order on ties, as
 * mir_eval), limited to nsrc <= AMT_BSS_MAX_PERM_SOURCES. */
int amt_bss_eval_sources(const float *const *refs, const float *const *ests, int nsrc, long nsampl,
                         int compute_permutation, double *sdr, double *sir, double *sar, int *perm);

/* Solver choice for all later amt_bss_new calls (process-wide; for tests and benchmarks):
 * on (default) = block Levinson for up to 4 sources, falling back to Cholesky/LU/least
 * squares; off = Cholesky/LU/least squares only. */
void amt_bss_use_levinson(int on);

#endif
