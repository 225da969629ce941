/* bench/bench_bss.c: BSS Eval speed on a 10 s, 16 kHz, 2-source clip, ours vs mir_eval 0.7.
 * Prints one JSON object. mir_eval runs (through /usr/bin/python3 on the same samples,
 * written to a temporary raw float32 file) when it is installed; skipped otherwise.
 * Both sides score estimate j against reference j (compute_permutation=False), which is
 * what amt-eval does; the speed-up is mir_eval time / our time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/bss_eval.h"

#define RATE 16000
#define SECONDS 10
#define NSRC 2
#define REPS 5      /* ours: best of */
#define PY_REPS 3   /* mir_eval: best of */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 12345;
static double urand(void)   /* splitmix64 -> [-1, 1) */
{
    rng_state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return 2.0 * (double)(z >> 11) / 9007199254740992.0 - 1.0;
}

static const char *PY =
    "import sys, time, numpy as np, mir_eval\n"
    "x = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64).reshape(4, -1)\n"
    "ref, est = x[:2], x[2:]\n"
    "best = 1e9\n"
    "for r in range(int(sys.argv[2])):\n"
    "    t = time.perf_counter()\n"
    "    sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(ref, est, compute_permutation=False)\n"
    "    best = min(best, time.perf_counter() - t)\n"
    "print(best, *sdr, *sir, *sar)\n";

int main(void)
{
    long n = (long)RATE * SECONDS;
    float *sig = malloc((size_t)4 * n * sizeof(float));
    if (!sig) return 1;
    float *ref[NSRC] = { sig, sig + n }, *est[NSRC] = { sig + 2 * n, sig + 3 * n };
    /* voice-like: AR(1) noise with a slow tremolo; music-like: a detuned pulse train plus noise */
    double y = 0;
    for (long t = 0; t < n; t++) {
        y = urand() + 0.9 * y;
        ref[0][t] = (float)(0.1 * y * (1.0 + 0.5 * sin(2 * M_PI * 3.0 * t / RATE)));
        ref[1][t] = (float)(0.3 * sin(2 * M_PI * 220.0 * t / RATE) + 0.2 * sin(2 * M_PI * 331.0 * t / RATE) + 0.05 * urand());
    }
    for (long t = 0; t < n; t++) {
        est[0][t] = (float)(0.9 * ref[0][t] + 0.1 * ref[1][t] + 0.02 * urand());
        est[1][t] = (float)(0.8 * ref[1][t] + (t > 3 ? 0.1 * ref[1][t - 3] : 0) + 0.15 * ref[0][t] + 0.02 * urand());
    }
    double sdr[NSRC], sir[NSRC], sar[NSRC];
    double best = 1e9;
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        if (amt_bss_eval_sources((const float *const *)ref, (const float *const *)est, NSRC, n, 0, sdr, sir, sar, NULL)) {
            fprintf(stderr, "bench_bss: %s\n", amt_errmsg());
            return 1;
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    /* the same with the Cholesky solver instead of block Levinson */
    double sdr_c[NSRC], sir_c[NSRC], sar_c[NSRC], best_chol = 1e9;
    amt_bss_use_levinson(0);
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        if (amt_bss_eval_sources((const float *const *)ref, (const float *const *)est, NSRC, n, 0, sdr_c, sir_c, sar_c, NULL)) {
            fprintf(stderr, "bench_bss: %s\n", amt_errmsg());
            return 1;
        }
        double dt = now() - t0;
        if (dt < best_chol) best_chol = dt;
    }
    amt_bss_use_levinson(1);
    double solver_diff = 0;
    for (int j = 0; j < NSRC; j++)
        solver_diff = fmax(solver_diff, fmax(fabs(sdr[j] - sdr_c[j]), fmax(fabs(sir[j] - sir_c[j]), fabs(sar[j] - sar_c[j]))));
    /* the same with references prepared once and both estimates scored (amt-eval's use) */
    double t0 = now();
    amt_bss *b = NULL;
    if (amt_bss_new((const float *const *)ref, NSRC, n, AMT_BSS_FLEN, &b)) { fprintf(stderr, "bench_bss: %s\n", amt_errmsg()); return 1; }
    double t_prep = now() - t0;
    t0 = now();
    double a, c, d;
    for (int j = 0; j < NSRC; j++) amt_bss_score_one(b, est[j], j, &a, &c, &d);
    double t_score = now() - t0;
    amt_bss_free(b);

    printf("{\"clip_seconds\": %d, \"rate\": %d, \"sources\": %d, \"flen\": %d, \"ours_s\": %.4f, "
           "\"ours_prepare_s\": %.4f, \"ours_score_per_estimate_s\": %.4f, \"ours_cholesky_s\": %.4f, "
           "\"levinson_vs_cholesky_max_diff_db\": %.2e, \"sdr\": [%.4f, %.4f]",
           SECONDS, RATE, NSRC, AMT_BSS_FLEN, best, t_prep, t_score / NSRC, best_chol, solver_diff, sdr[0], sdr[1]);

    int have_py = access("/usr/bin/python3", X_OK) == 0 &&
                  system("/usr/bin/python3 -c 'import mir_eval' >/dev/null 2>&1") == 0;
    if (have_py) {
        char raw[] = "/tmp/bench_bss_XXXXXX";
        int fd = mkstemp(raw);
        FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        char py[] = "/tmp/bench_bss_py_XXXXXX";
        int fdp = mkstemp(py);
        FILE *fp = fdp >= 0 ? fdopen(fdp, "w") : NULL;
        if (f && fp && fwrite(sig, sizeof(float), (size_t)4 * n, f) == (size_t)4 * n) {
            fclose(f); f = NULL;
            fputs(PY, fp); fclose(fp); fp = NULL;
            char cmd[256];
            snprintf(cmd, sizeof cmd, "/usr/bin/python3 -W ignore %s %s %d 2>/dev/null", py, raw, PY_REPS);
            FILE *p = popen(cmd, "r");
            double tpy = 0, v[6];
            int got = p ? fscanf(p, "%lf %lf %lf %lf %lf %lf %lf", &tpy, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) : 0;
            if (p) pclose(p);
            if (got == 7) {
                double md = 0;
                for (int j = 0; j < NSRC; j++) {
                    md = fmax(md, fabs(v[j] - sdr[j]));
                    md = fmax(md, fabs(v[2 + j] - sir[j]));
                    md = fmax(md, fabs(v[4 + j] - sar[j]));
                }
                printf(", \"mir_eval_s\": %.4f, \"speedup\": %.1f, \"max_abs_diff_db\": %.2e", tpy, tpy / best, md);
            } else printf(", \"mir_eval\": \"failed to run\"");
        } else printf(", \"mir_eval\": \"could not write temporary files\"");
        if (f) fclose(f);
        if (fp) fclose(fp);
        unlink(raw);
        unlink(py);
    } else printf(", \"mir_eval\": \"skipped: /usr/bin/python3 with mir_eval not found\"");
    printf("}\n");
    free(sig);
    return 0;
}
