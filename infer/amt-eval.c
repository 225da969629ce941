/* infer/amt-eval.c: scores existing outputs against references, without a model.
 *   amt-eval notes      --ref DIR --est DIR   note lists (MAPS-style .txt/.tsv)
 *   amt-eval separation --ref DIR --est DIR   MIR-1K voice/music separation (BSS Eval)
 *   amt-eval labels     --ref DIR --pred CSV  IRMAS instrument labels
 * Results on stdout (a table, or JSON with --json), diagnostics on stderr; exit 0 on
 * success, 1 on a runtime failure (bad or missing input), 2 on bad usage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "audio/audio_io.h"
#include "audio/notes.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "eval/bss_eval.h"
#include "eval/classification.h"
#include "eval/separation.h"
#include "eval/transcription.h"
#include "app/cli.h"
#include "app/decode_knobs.h"
#include "infer/eval_model.h"

#ifndef AMT_VERSION
#define AMT_VERSION "unknown"
#endif

#define MAX_POS 4
/* An estimate may differ from its reference by up to this many seconds (STFT framing);
 * it is then zero-padded or cut to the reference length. */
#define SEP_LENGTH_TOLERANCE_S 0.1

static int quiet;

static const char *USAGE =
    "usage: amt-eval MODE [options]\n"
    "       amt-eval --model CKPT --data DIR [--split test] [--out FILE.csv] [--json]\n"
    "Scores existing outputs against references (no model needed).\n"
    "\n"
    "modes:\n"
    "  notes      --ref DIR --est DIR [--frame-rate 100] [--onset-tolerance 0.05]\n"
    "             [--offset-ratio 0.2] [--offset-min 0.05]\n"
    "             MAPS-style note lists (.txt/.tsv: OnsetTime OffsetTime MidiPitch, header\n"
    "             line), matched by relative path without extension. Note precision/\n"
    "             recall/F1 as mir_eval 0.7 (onsets only, and with offsets), frame-level\n"
    "             P/R/F1/accuracy on a piano roll; per file and the mean over files.\n"
    "  separation --ref DIR --est DIR\n"
    "             MIR-1K layout: DIR/Wavfile/*.wav or DIR/*.wav, stereo, left =\n"
    "             accompaniment, right = voice; estimates EST/NAME.voice.wav and\n"
    "             EST/NAME.music.wav. BSS Eval v3 SDR/SIR/SAR (mir_eval 0.7, 512-tap\n"
    "             filter), NSDR against the mixture left + right, and GNSDR/GSIR/GSAR\n"
    "             (length-weighted means, Huang et al. 2014) for voice and music.\n"
    "  labels     --ref DIR --pred FILE.csv\n"
    "             IRMAS layout: NAME.wav with NAME.txt (one instrument code per line,\n"
    "             testing set: multi-label) or class folders DIR/CODE/*.wav (training\n"
    "             set: single label). Predictions: lines 'relative_path,label' (labels\n"
    "             may repeat per path or be joined with ';'). Codes: cel cla flu gac gel\n"
    "             org pia sax tru vio voi.\n"
    "\n"
    "model mode:\n"
    "  --model CKPT   a trained checkpoint (transcriber, separator or classifier): runs it\n"
    "                 over the --split (test, train, val, all; default test) of the dataset\n"
    "                 at --data (MAPS, MIR-1K or IRMAS layout) and scores it as above;\n"
    "                 --out FILE.csv writes the per-item scores\n"
    "  transcriber decoding (default: the thresholds tuned in training, stored in CKPT):\n"
    "  --onset-threshold P  --frame-threshold P   probabilities in (0, 1]\n"
    "  --sustain-threshold P                      probability in [0, 1], 0 = off\n"
    "  --min-note-ms MS     --gap-ms MS           milliseconds (as amt-infer)\n"
    "  --min-pitch N        --max-pitch N         MIDI pitch range kept, 0..127\n"
    "  --tune OUT.h5   tune the thresholds on --split first (as training does) and write\n"
    "                  the checkpoint with them to OUT.h5; then score (e.g. --split val\n"
    "                  --tune new.h5, then --model new.h5 --split test)\n"
    "\n"
    "options:\n"
    "  --json         machine-readable output\n"
    "  -q, --quiet    no progress or warnings on stderr\n"
    "  -h, --help     this help\n"
    "  --version      print the version\n"
    "exit status: 0 success, 1 bad or missing input, 2 bad usage\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "amt-eval: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see amt-eval --help)\n");
    return AMT_EXIT_USAGE;
}

static int fail(void)
{
    fprintf(stderr, "amt-eval: %s\n", amt_errmsg());
    return AMT_EXIT_FAIL;
}

/* A required directory option: exit code or 0. */
static int need_dir(amt_cli_opt *o, const char *what)
{
    if (!o->set) {
        fprintf(stderr, "amt-eval: missing --%s %s (see amt-eval --help)\n", o->name, what);
        return AMT_EXIT_USAGE;
    }
    if (!amt_is_dir(o->value)) {
        fprintf(stderr, "amt-eval: %s: %s (--%s)\n", o->value,
                amt_is_file(o->value) ? "is a file, expected a directory" : "no such directory", o->name);
        return AMT_EXIT_FAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------- notes */

typedef struct note_row {
    const char *name;
    amt_note_scores on, off;
    amt_frame_scores fr;
} note_row;

static const char *const NOTE_EXTS[] = { ".txt", ".tsv", NULL };

/* Finds EST/<stem>.tsv or .txt; malloc'd path or NULL. */
static char *find_est_notes(const char *est_dir, const char *stem)
{
    const char *exts[] = { ".tsv", ".txt" };
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(stem) + 5;
        char *rel = malloc(len);
        if (!rel) return NULL;
        snprintf(rel, len, "%s%s", stem, exts[i]);
        char *p = amt_path_join(est_dir, rel);
        free(rel);
        if (p && amt_is_file(p)) return p;
        free(p);
    }
    return NULL;
}

static int mode_notes(amt_cli_opt *o, int nopt, int json)
{
    int rc;
    if ((rc = need_dir(amt_cli_find(o, nopt, "ref"), "DIR"))) return rc;
    if ((rc = need_dir(amt_cli_find(o, nopt, "est"), "DIR"))) return rc;
    const char *ref_dir = amt_cli_find(o, nopt, "ref")->value, *est_dir = amt_cli_find(o, nopt, "est")->value;
    amt_note_metric_opts mo;
    amt_note_metric_defaults(&mo);
    double rate = AMT_FRAME_RATE;
    struct { const char *name; double *dst; double lo; int strict_lo; } num[] = {
        { "frame-rate", &rate, 0, 1 }, { "onset-tolerance", &mo.onset_tol, 0, 0 },
        { "offset-ratio", &mo.offset_ratio, 0, 1 }, { "offset-min", &mo.offset_min_tol, 0, 0 },
    };
    for (size_t i = 0; i < sizeof num / sizeof num[0]; i++) {
        amt_cli_opt *x = amt_cli_find(o, nopt, num[i].name);
        if (!x->set) continue;
        double v;
        if (amt_cli_double(x->value, &v) || (num[i].strict_lo ? !(v > num[i].lo) : !(v >= num[i].lo))) {
            fprintf(stderr, "amt-eval: --%s '%s': expected a number %s %g\n", num[i].name, x->value,
                    num[i].strict_lo ? ">" : ">=", num[i].lo);
            return AMT_EXIT_USAGE;
        }
        *num[i].dst = v;
    }
    amt_note_metric_opts mo_on = mo;
    mo_on.offset_ratio = 0;   /* onsets only */

    amt_file_list refs;
    if (amt_list_dir(ref_dir, 1, NOTE_EXTS, &refs)) return fail();
    if (refs.n == 0) {
        fprintf(stderr, "amt-eval: %s: no .txt or .tsv note lists found\n", ref_dir);
        amt_file_list_free(&refs);
        return AMT_EXIT_FAIL;
    }
    note_row *rows = calloc((size_t)refs.n, sizeof(note_row));
    if (!rows) { amt_file_list_free(&refs); fprintf(stderr, "amt-eval: out of memory\n"); return AMT_EXIT_FAIL; }
    rc = AMT_EXIT_OK;
    for (int i = 0; i < refs.n && rc == AMT_EXIT_OK; i++) {
        char *stem = amt_path_strip_ext(refs.v[i]);
        char *rp = amt_path_join(ref_dir, refs.v[i]);
        char *ep = stem ? find_est_notes(est_dir, stem) : NULL;
        rows[i].name = refs.v[i];
        if (!stem || !rp) { fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; }
        else if (!ep) {
            fprintf(stderr, "amt-eval: %s/%s.tsv (or .txt): missing estimate for reference %s\n", est_dir, stem, rp);
            rc = AMT_EXIT_FAIL;
        } else {
            amt_notes rn, en;
            if (amt_notes_read_tsv(rp, &rn)) rc = fail();
            else {
                if (amt_notes_read_tsv(ep, &en)) rc = fail();
                else {
                    if (amt_transcription_note_scores(&rn, &en, &mo_on, &rows[i].on) ||
                        amt_transcription_note_scores(&rn, &en, &mo, &rows[i].off) ||
                        amt_transcription_frame_scores(&rn, &en, rate, &rows[i].fr)) {
                        fprintf(stderr, "amt-eval: %s vs %s: %s\n", rp, ep, amt_errmsg());
                        rc = AMT_EXIT_FAIL;
                    } else if (!quiet && rn.n == 0)
                        fprintf(stderr, "amt-eval: warning: %s has no notes (its scores are 0)\n", rp);
                    amt_notes_free(&en);
                }
                amt_notes_free(&rn);
            }
        }
        free(stem); free(rp); free(ep);
    }
    if (rc != AMT_EXIT_OK) { free(rows); amt_file_list_free(&refs); return rc; }

    /* means over files */
    note_row mean;
    memset(&mean, 0, sizeof mean);
    amt_frame_scores micro;
    memset(&micro, 0, sizeof micro);
    for (int i = 0; i < refs.n; i++) {
        mean.on.precision += rows[i].on.precision; mean.on.recall += rows[i].on.recall; mean.on.f1 += rows[i].on.f1;
        mean.off.precision += rows[i].off.precision; mean.off.recall += rows[i].off.recall; mean.off.f1 += rows[i].off.f1;
        mean.fr.precision += rows[i].fr.precision; mean.fr.recall += rows[i].fr.recall;
        mean.fr.f1 += rows[i].fr.f1; mean.fr.accuracy += rows[i].fr.accuracy;
        micro.tp += rows[i].fr.tp; micro.fp += rows[i].fr.fp; micro.fn += rows[i].fr.fn;
    }
    double k = 1.0 / refs.n;
    mean.on.precision *= k; mean.on.recall *= k; mean.on.f1 *= k;
    mean.off.precision *= k; mean.off.recall *= k; mean.off.f1 *= k;
    mean.fr.precision *= k; mean.fr.recall *= k; mean.fr.f1 *= k; mean.fr.accuracy *= k;
    amt_frame_scores_from(&micro);

    if (json) {
        printf("{\"mode\": \"notes\", \"settings\": {\"onset_tolerance_s\": %g, \"pitch_tolerance_cents\": %g, "
               "\"offset_ratio\": %g, \"offset_min_tolerance_s\": %g, \"frame_rate\": %g},\n \"files\": [",
               mo.onset_tol, mo.pitch_tol_cents, mo.offset_ratio, mo.offset_min_tol, rate);
        for (int i = 0; i <= refs.n; i++) {
            const note_row *r = i < refs.n ? &rows[i] : &mean;
            if (i == refs.n) printf("],\n \"mean\": ");
            else { printf(i ? ",\n  " : "\n  "); }
            printf("{");
            if (i < refs.n) { printf("\"file\": "); amt_json_string(stdout, r->name); printf(", \"n_ref\": %d, \"n_est\": %d, ", r->on.n_ref, r->on.n_est); }
            printf("\"note\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}, ", r->on.precision, r->on.recall, r->on.f1);
            printf("\"note_offset\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}, ", r->off.precision, r->off.recall, r->off.f1);
            printf("\"frame\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"accuracy\": %.6f}}",
                   r->fr.precision, r->fr.recall, r->fr.f1, r->fr.accuracy);
        }
        printf(",\n \"frame_micro\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"accuracy\": %.6f, "
               "\"tp\": %ld, \"fp\": %ld, \"fn\": %ld},\n \"files_scored\": %d}\n",
               micro.precision, micro.recall, micro.f1, micro.accuracy, micro.tp, micro.fp, micro.fn, refs.n);
    } else {
        printf("# amt-eval notes: onset tolerance %g s, pitch tolerance %g cents, offset tolerance max(%g x duration, %g s),"
               " frame rate %g frames/s\n", mo.onset_tol, mo.pitch_tol_cents, mo.offset_ratio, mo.offset_min_tol, rate);
        printf("%-40s %5s %5s | %6s %6s %6s | %6s %6s %6s | %6s %6s %6s %6s\n", "file", "n_ref", "n_est",
               "note_P", "note_R", "note_F", "off_P", "off_R", "off_F", "frm_P", "frm_R", "frm_F", "frm_A");
        for (int i = 0; i <= refs.n; i++) {
            const note_row *r = i < refs.n ? &rows[i] : &mean;
            if (i < refs.n) printf("%-40s %5d %5d", r->name, r->on.n_ref, r->on.n_est);
            else printf("%-40s %5s %5s", "mean", "", "");
            printf(" | %6.4f %6.4f %6.4f | %6.4f %6.4f %6.4f | %6.4f %6.4f %6.4f %6.4f\n",
                   r->on.precision, r->on.recall, r->on.f1, r->off.precision, r->off.recall, r->off.f1,
                   r->fr.precision, r->fr.recall, r->fr.f1, r->fr.accuracy);
        }
        printf("%-40s %5s %5s | %6s %6s %6s | %6s %6s %6s | %6.4f %6.4f %6.4f %6.4f\n", "frame micro (all frames)",
               "", "", "", "", "", "", "", "", micro.precision, micro.recall, micro.f1, micro.accuracy);
    }
    free(rows);
    amt_file_list_free(&refs);
    return AMT_EXIT_OK;
}

/* ----------------------------------------------------------- separation */

typedef struct sep_row {
    char *name;
    amt_sep_scores s;
} sep_row;

/* Reads an estimate as mono at the reference rate and length n (pads/cuts within the
 * tolerance). *out malloc'd. Returns exit code. */
static int read_estimate(const char *path, const char *ref_path, int rate, long n, float **out)
{
    amt_audio a;
    if (!amt_is_file(path)) {
        fprintf(stderr, "amt-eval: %s: missing estimate for reference %s\n", path, ref_path);
        return AMT_EXIT_FAIL;
    }
    if (amt_audio_read(path, &a)) return fail();
    if (a.rate != rate) {
        fprintf(stderr, "amt-eval: %s: sample rate %d Hz, but the reference %s is %d Hz\n", path, a.rate, ref_path, rate);
        amt_audio_free(&a);
        return AMT_EXIT_FAIL;
    }
    long tol = (long)(SEP_LENGTH_TOLERANCE_S * rate);
    if (labs(a.frames - n) > tol) {
        fprintf(stderr, "amt-eval: %s: %ld samples, but the reference %s has %ld (more than %g s apart)\n",
                path, a.frames, ref_path, n, SEP_LENGTH_TOLERANCE_S);
        amt_audio_free(&a);
        return AMT_EXIT_FAIL;
    }
    if (a.frames != n && !quiet)
        fprintf(stderr, "amt-eval: warning: %s: %ld samples, reference %ld; %s to match\n", path, a.frames, n,
                a.frames < n ? "zero-padded" : "cut");
    float *m = calloc((size_t)n, sizeof(float));
    if (!m) { amt_audio_free(&a); fprintf(stderr, "amt-eval: out of memory\n"); return AMT_EXIT_FAIL; }
    long len = a.frames < n ? a.frames : n;
    for (long t = 0; t < len; t++) {
        double s = 0;
        for (int c = 0; c < a.channels; c++) s += a.data[t * a.channels + c];
        m[t] = (float)(s / a.channels);
    }
    amt_audio_free(&a);
    *out = m;
    return AMT_EXIT_OK;
}

static int sep_clip(const char *ref_path, const char *est_dir, const char *name, sep_row *row)
{
    amt_audio a;
    if (amt_audio_read(ref_path, &a)) return fail();
    if (a.channels != 2) {
        fprintf(stderr, "amt-eval: %s: %d channel(s); MIR-1K references are stereo (left = accompaniment, right = voice)\n",
                ref_path, a.channels);
        amt_audio_free(&a);
        return AMT_EXIT_FAIL;
    }
    long n = a.frames;
    float *music = malloc((size_t)n * sizeof(float)), *voice = malloc((size_t)n * sizeof(float));
    float *ev = NULL, *em = NULL;
    int rc = AMT_EXIT_OK;
    if (!music || !voice) { fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; }
    else
        for (long t = 0; t < n; t++) { music[t] = a.data[2 * t]; voice[t] = a.data[2 * t + 1]; }
    char *vp = NULL, *mp = NULL;
    if (rc == AMT_EXIT_OK) {
        size_t len = strlen(name) + 16;
        char *v = malloc(len), *m = malloc(len);
        if (v && m) {
            snprintf(v, len, "%s.voice.wav", name);
            snprintf(m, len, "%s.music.wav", name);
            vp = amt_path_join(est_dir, v);
            mp = amt_path_join(est_dir, m);
        }
        free(v); free(m);
        if (!vp || !mp) { fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; }
    }
    if (rc == AMT_EXIT_OK) rc = read_estimate(vp, ref_path, a.rate, n, &ev);
    if (rc == AMT_EXIT_OK) rc = read_estimate(mp, ref_path, a.rate, n, &em);
    if (rc == AMT_EXIT_OK && amt_sep_eval_clip(voice, music, NULL, ev, em, n, &row->s)) {
        const char *msg = amt_errmsg();
        /* name the file a silent/non-finite signal came from */
        const char *which = strstr(msg, "reference source 0") ? ref_path
                          : strstr(msg, "reference source 1") ? ref_path : NULL;
        if (which) fprintf(stderr, "amt-eval: %s (%s channel): %s\n", ref_path,
                           strstr(msg, "source 0") ? "right/voice" : "left/accompaniment", msg);
        else if (strstr(msg, "estimated source")) {
            /* score_one reports the estimate being scored: find out which one is bad */
            int v_bad = 1;
            for (long t = 0; t < n; t++) if (ev[t] != 0.0f && isfinite(ev[t])) { v_bad = 0; break; }
            for (long t = 0; t < n && !v_bad; t++) if (!isfinite(ev[t])) v_bad = 1;
            fprintf(stderr, "amt-eval: %s: %s\n", v_bad ? vp : mp, msg);
        } else fprintf(stderr, "amt-eval: %s: %s\n", ref_path, msg);
        rc = AMT_EXIT_FAIL;
    }
    amt_audio_free(&a);
    free(music); free(voice); free(ev); free(em); free(vp); free(mp);
    return rc;
}

static void json_source(const char *name, double sdr, double sir, double sar, double nsdr, const char *tag)
{
    printf("\"%s\": {\"%ssdr\": ", name, tag); amt_json_number(stdout, sdr);
    printf(", \"%ssir\": ", tag); amt_json_number(stdout, sir);
    printf(", \"%ssar\": ", tag); amt_json_number(stdout, sar);
    printf(", \"%snsdr\": ", tag); amt_json_number(stdout, nsdr);
    printf("}");
}

static int mode_separation(amt_cli_opt *o, int nopt, int json)
{
    int rc;
    if ((rc = need_dir(amt_cli_find(o, nopt, "ref"), "DIR"))) return rc;
    if ((rc = need_dir(amt_cli_find(o, nopt, "est"), "DIR"))) return rc;
    const char *ref_root = amt_cli_find(o, nopt, "ref")->value, *est_dir = amt_cli_find(o, nopt, "est")->value;
    char *wavdir = amt_path_join(ref_root, "Wavfile");
    if (!wavdir) { fprintf(stderr, "amt-eval: out of memory\n"); return AMT_EXIT_FAIL; }
    const char *ref_dir = amt_is_dir(wavdir) ? wavdir : ref_root;
    static const char *const exts[] = { ".wav", NULL };
    amt_file_list refs;
    if (amt_list_dir(ref_dir, 0, exts, &refs)) { free(wavdir); return fail(); }
    if (refs.n == 0) {
        fprintf(stderr, "amt-eval: %s: no .wav references found (MIR-1K layout: DIR/Wavfile/*.wav or DIR/*.wav)\n", ref_dir);
        free(wavdir);
        amt_file_list_free(&refs);
        return AMT_EXIT_FAIL;
    }
    sep_row *rows = calloc((size_t)refs.n, sizeof(sep_row));
    if (!rows) { free(wavdir); amt_file_list_free(&refs); fprintf(stderr, "amt-eval: out of memory\n"); return AMT_EXIT_FAIL; }
    amt_sep_acc acc;
    amt_sep_acc_init(&acc);
    rc = AMT_EXIT_OK;
    int progress = !quiet && isatty(2);   /* a progress line on a terminal only */
    for (int i = 0; i < refs.n && rc == AMT_EXIT_OK; i++) {
        char *rp = amt_path_join(ref_dir, refs.v[i]);
        rows[i].name = amt_path_strip_ext(refs.v[i]);
        if (!rp || !rows[i].name) { fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; }
        else rc = sep_clip(rp, est_dir, rows[i].name, &rows[i]);
        if (rc == AMT_EXIT_OK) amt_sep_acc_add(&acc, &rows[i].s);
        if (rc == AMT_EXIT_OK && progress)
            fprintf(stderr, "\r[%d/%d] %-40s", i + 1, refs.n, rows[i].name);
        free(rp);
    }
    if (progress) fprintf(stderr, "\n");
    amt_sep_scores g;
    if (rc == AMT_EXIT_OK && amt_sep_acc_result(&acc, &g)) rc = fail();
    if (rc == AMT_EXIT_OK) {
        const char *how = "BSS Eval v3 as mir_eval 0.7 bss_eval_sources (512-tap distortion filter, estimate j vs "
                          "reference j), mixture = left + right, NSDR = SDR(estimate) - SDR(mixture), "
                          "G* = length-weighted means over clips (Huang et al. 2014)";
        if (json) {
            printf("{\"mode\": \"separation\", \"method\": "); amt_json_string(stdout, how);
            printf(",\n \"clips\": [");
            for (int i = 0; i < refs.n; i++) {
                const amt_sep_scores *s = &rows[i].s;
                printf(i ? ",\n  {" : "\n  {");
                printf("\"name\": "); amt_json_string(stdout, rows[i].name);
                printf(", \"samples\": %ld, ", s->samples);
                json_source("voice", s->sdr[AMT_SEP_VOICE], s->sir[AMT_SEP_VOICE], s->sar[AMT_SEP_VOICE], s->nsdr[AMT_SEP_VOICE], "");
                printf(", ");
                json_source("music", s->sdr[AMT_SEP_MUSIC], s->sir[AMT_SEP_MUSIC], s->sar[AMT_SEP_MUSIC], s->nsdr[AMT_SEP_MUSIC], "");
                printf("}");
            }
            printf("],\n \"summary\": {\"clips\": %d, \"samples\": %ld, ", acc.clips, g.samples);
            json_source("voice", g.sdr[AMT_SEP_VOICE], g.sir[AMT_SEP_VOICE], g.sar[AMT_SEP_VOICE], g.nsdr[AMT_SEP_VOICE], "g");
            printf(", ");
            json_source("music", g.sdr[AMT_SEP_MUSIC], g.sir[AMT_SEP_MUSIC], g.sar[AMT_SEP_MUSIC], g.nsdr[AMT_SEP_MUSIC], "g");
            printf("}}\n");
        } else {
            printf("# amt-eval separation: %s\n", how);
            printf("%-32s %8s | %8s %8s %8s %8s | %8s %8s %8s %8s\n", "clip", "samples", "v_SDR", "v_SIR", "v_SAR", "v_NSDR",
                   "m_SDR", "m_SIR", "m_SAR", "m_NSDR");
            for (int i = 0; i < refs.n; i++) {
                const amt_sep_scores *s = &rows[i].s;
                printf("%-32s %8ld | %8.3f %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f %8.3f\n", rows[i].name, s->samples,
                       s->sdr[0], s->sir[0], s->sar[0], s->nsdr[0], s->sdr[1], s->sir[1], s->sar[1], s->nsdr[1]);
            }
            printf("%d clips, %ld samples\n", acc.clips, g.samples);
            printf("%-8s %10s %10s\n", "", "voice", "music");
            printf("%-8s %10.3f %10.3f\n", "GNSDR", g.nsdr[0], g.nsdr[1]);
            printf("%-8s %10.3f %10.3f\n", "GSIR", g.sir[0], g.sir[1]);
            printf("%-8s %10.3f %10.3f\n", "GSAR", g.sar[0], g.sar[1]);
            printf("%-8s %10.3f %10.3f\n", "GSDR", g.sdr[0], g.sdr[1]);
        }
    }
    for (int i = 0; i < refs.n; i++) free(rows[i].name);
    free(rows);
    free(wavdir);
    amt_file_list_free(&refs);
    return rc;
}

/* --------------------------------------------------------------- labels */

#define NCLASS 11
static const char *const CLASSES[NCLASS] = { "cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi" };

static int class_index(const char *s, size_t len)
{
    for (int i = 0; i < NCLASS; i++)
        if (strlen(CLASSES[i]) == len && strncasecmp(CLASSES[i], s, len) == 0) return i;
    return -1;
}

typedef struct label_clip {
    char *key;                       /* relative path without extension */
    unsigned char truth[NCLASS], pred[NCLASS];
    int has_pred;
} label_clip;

static int cmp_clip(const void *a, const void *b)
{
    return strcmp(((const label_clip *)a)->key, ((const label_clip *)b)->key);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

/* Reads NAME.txt labels into truth. Exit code. */
static int read_label_txt(const char *path, unsigned char *truth)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "amt-eval: %s: cannot open\n", path); return AMT_EXIT_FAIL; }
    char line[256];
    int lineno = 0, any = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s) continue;
        int c = class_index(s, strlen(s));
        if (c < 0) {
            fprintf(stderr, "amt-eval: %s:%d: unknown instrument code '%.40s' (expected cel cla flu gac gel org pia sax tru vio voi)\n",
                    path, lineno, s);
            fclose(f);
            return AMT_EXIT_FAIL;
        }
        truth[c] = 1;
        any = 1;
    }
    fclose(f);
    if (!any) { fprintf(stderr, "amt-eval: %s: no instrument codes\n", path); return AMT_EXIT_FAIL; }
    return AMT_EXIT_OK;
}

/* Key of a CSV path: strip "./", leading "/" and the extension. */
static char *path_key(const char *p)
{
    while (p[0] == '.' && p[1] == '/') p += 2;
    while (*p == '/') p++;
    return amt_path_strip_ext(p);
}

static void print_class_scores(const amt_class_scores *s, int json, int single)
{
    if (json) {
        if (single) { printf(", \"accuracy\": "); amt_json_number(stdout, s->accuracy); }
        printf(", \"micro\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}", s->micro_p, s->micro_r, s->micro_f1);
        printf(", \"macro\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}", s->macro_p, s->macro_r, s->macro_f1);
        printf(",\n \"classes\": {");
        for (int c = 0; c < NCLASS; c++)
            printf("%s\"%s\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %ld}", c ? ", " : "",
                   CLASSES[c], s->precision[c], s->recall[c], s->f1[c], s->support[c]);
        printf("}");
    } else {
        if (single) printf("accuracy %.4f\n", s->accuracy);
        printf("micro    P %.4f  R %.4f  F1 %.4f\n", s->micro_p, s->micro_r, s->micro_f1);
        printf("macro    P %.4f  R %.4f  F1 %.4f\n", s->macro_p, s->macro_r, s->macro_f1);
        printf("%-6s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
        for (int c = 0; c < NCLASS; c++)
            printf("%-6s %9.4f %9.4f %9.4f %8ld\n", CLASSES[c], s->precision[c], s->recall[c], s->f1[c], s->support[c]);
    }
}

static int mode_labels(amt_cli_opt *o, int nopt, int json)
{
    int rc;
    if ((rc = need_dir(amt_cli_find(o, nopt, "ref"), "DIR"))) return rc;
    amt_cli_opt *po = amt_cli_find(o, nopt, "pred");
    if (!po->set) { fprintf(stderr, "amt-eval: missing --pred FILE.csv (see amt-eval --help)\n"); return AMT_EXIT_USAGE; }
    const char *ref_dir = amt_cli_find(o, nopt, "ref")->value, *csv = po->value;
    static const char *const exts[] = { ".wav", NULL };
    amt_file_list wavs;
    if (amt_list_dir(ref_dir, 1, exts, &wavs)) return fail();
    if (wavs.n == 0) {
        fprintf(stderr, "amt-eval: %s: no .wav clips found (IRMAS layout)\n", ref_dir);
        amt_file_list_free(&wavs);
        return AMT_EXIT_FAIL;
    }
    label_clip *clips = calloc((size_t)wavs.n, sizeof(label_clip));
    if (!clips) { amt_file_list_free(&wavs); fprintf(stderr, "amt-eval: out of memory\n"); return AMT_EXIT_FAIL; }
    int multi = 0, n = wavs.n;
    rc = AMT_EXIT_OK;
    for (int i = 0; i < n && rc == AMT_EXIT_OK; i++) {
        clips[i].key = amt_path_strip_ext(wavs.v[i]);
        char *full = amt_path_join(ref_dir, clips[i].key ? clips[i].key : "");
        char *txt = full ? malloc(strlen(full) + 5) : NULL;
        if (!clips[i].key || !txt) { free(full); fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; break; }
        sprintf(txt, "%s.txt", full);
        if (amt_is_file(txt)) { multi = 1; rc = read_label_txt(txt, clips[i].truth); }
        else {
            /* training layout: the nearest enclosing folder named by a class code */
            int c = -1;
            const char *k = clips[i].key, *end = strrchr(k, '/');
            while (end && c < 0) {
                const char *start = end;
                while (start > k && start[-1] != '/') start--;
                c = class_index(start, (size_t)(end - start));
                if (c < 0) { end = start > k ? start - 1 : NULL; }
            }
            if (c < 0) {
                fprintf(stderr, "amt-eval: %s/%s: no labels (no %s.txt beside it and not inside a class folder such as cel/)\n",
                        ref_dir, wavs.v[i], amt_path_base(clips[i].key));
                rc = AMT_EXIT_FAIL;
            } else clips[i].truth[c] = 1;
        }
        free(full); free(txt);
    }
    if (rc != AMT_EXIT_OK) goto done;
    qsort(clips, (size_t)n, sizeof(label_clip), cmp_clip);

    FILE *f = fopen(csv, "r");
    if (!f) { fprintf(stderr, "amt-eval: %s: cannot open predictions CSV\n", csv); rc = AMT_EXIT_FAIL; goto done; }
    char line[4096];
    int lineno = 0;
    while (rc == AMT_EXIT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *comma = strrchr(s, ',');
        if (!comma) {
            fprintf(stderr, "amt-eval: %s:%d: expected 'relative_path,label', got '%.60s'\n", csv, lineno, s);
            rc = AMT_EXIT_FAIL;
            break;
        }
        *comma = '\0';
        char *path = trim(s), *lab = trim(comma + 1);
        if (lineno == 1 && (strcasecmp(path, "relative_path") == 0 || strcasecmp(path, "path") == 0 ||
                            strcasecmp(path, "file") == 0)) continue;   /* header */
        char *key = path_key(path);
        if (!key) { fprintf(stderr, "amt-eval: out of memory\n"); rc = AMT_EXIT_FAIL; break; }
        label_clip probe = { .key = key };
        label_clip *c = bsearch(&probe, clips, (size_t)n, sizeof(label_clip), cmp_clip);
        if (!c) {
            fprintf(stderr, "amt-eval: %s:%d: '%s' is not a reference clip under %s\n", csv, lineno, path, ref_dir);
            free(key);
            rc = AMT_EXIT_FAIL;
            break;
        }
        free(key);
        c->has_pred = 1;
        /* labels: codes separated by ';', '|', '+' or spaces; empty = no instrument */
        char *p = lab;
        while (*p && rc == AMT_EXIT_OK) {
            while (*p == ';' || *p == '|' || *p == '+' || *p == ' ') p++;
            if (!*p) break;
            char *e = p;
            while (*e && *e != ';' && *e != '|' && *e != '+' && *e != ' ') e++;
            int ci = class_index(p, (size_t)(e - p));
            if (ci < 0) {
                fprintf(stderr, "amt-eval: %s:%d: unknown instrument code '%.*s' (expected cel cla flu gac gel org pia sax tru vio voi)\n",
                        csv, lineno, (int)(e - p > 40 ? 40 : e - p), p);
                rc = AMT_EXIT_FAIL;
            } else c->pred[ci] = 1;
            p = e;
        }
    }
    fclose(f);
    if (rc != AMT_EXIT_OK) goto done;
    int missing = 0, first_missing = -1;
    for (int i = 0; i < n; i++)
        if (!clips[i].has_pred) { if (first_missing < 0) first_missing = i; missing++; }
    if (missing) {
        fprintf(stderr, "amt-eval: %s: no prediction for clip %s (%d of %d clips have none)\n", csv,
                clips[first_missing].key, missing, n);
        rc = AMT_EXIT_FAIL;
        goto done;
    }

    amt_class_scores sc;
    memset(&sc, 0, sizeof sc);
    if (!multi) {
        amt_confusion cm;
        if (amt_confusion_init(&cm, NCLASS)) { rc = fail(); goto done; }
        for (int i = 0; i < n && rc == AMT_EXIT_OK; i++) {
            int t = -1, p = -1, np = 0;
            for (int c = 0; c < NCLASS; c++) { if (clips[i].truth[c]) t = c; if (clips[i].pred[c]) { p = c; np++; } }
            if (np != 1) {
                fprintf(stderr, "amt-eval: %s: clip %s has %d predicted labels; single-label (training layout) scoring needs exactly one\n",
                        csv, clips[i].key, np);
                rc = AMT_EXIT_FAIL;
            } else if (amt_confusion_add(&cm, t, p)) rc = fail();
        }
        if (rc == AMT_EXIT_OK && amt_confusion_scores(&cm, &sc)) rc = fail();
        if (rc == AMT_EXIT_OK) {
            if (json) {
                printf("{\"mode\": \"labels\", \"protocol\": \"single-label\", \"clips\": %d", n);
                print_class_scores(&sc, 1, 1);
                printf(",\n \"confusion\": {\"labels\": [");
                for (int c = 0; c < NCLASS; c++) printf("%s\"%s\"", c ? ", " : "", CLASSES[c]);
                printf("], \"rows_true_cols_pred\": [");
                for (int r = 0; r < NCLASS; r++) {
                    printf("%s[", r ? ", " : "");
                    for (int c = 0; c < NCLASS; c++) printf("%s%ld", c ? ", " : "", cm.m[r * NCLASS + c]);
                    printf("]");
                }
                printf("]}}\n");
            } else {
                printf("# amt-eval labels: single-label (class folders), %d clips\n", n);
                print_class_scores(&sc, 0, 1);
                printf("confusion (rows = true, columns = predicted)\n%-6s", "");
                for (int c = 0; c < NCLASS; c++) printf(" %5s", CLASSES[c]);
                printf("\n");
                for (int r = 0; r < NCLASS; r++) {
                    printf("%-6s", CLASSES[r]);
                    for (int c = 0; c < NCLASS; c++) printf(" %5ld", cm.m[r * NCLASS + c]);
                    printf("\n");
                }
            }
        }
        amt_class_scores_free(&sc);
        amt_confusion_free(&cm);
    } else {
        amt_multilabel ml;
        if (amt_multilabel_init(&ml, NCLASS)) { rc = fail(); goto done; }
        for (int i = 0; i < n; i++) amt_multilabel_add(&ml, clips[i].truth, clips[i].pred);
        if (amt_multilabel_scores(&ml, &sc)) rc = fail();
        else {
            if (json) {
                printf("{\"mode\": \"labels\", \"protocol\": \"multi-label (IRMAS testing)\", \"clips\": %d", n);
                print_class_scores(&sc, 1, 0);
                printf("}\n");
            } else {
                printf("# amt-eval labels: multi-label (IRMAS testing protocol: predicted set vs labelled set), %d clips\n", n);
                print_class_scores(&sc, 0, 0);
            }
        }
        amt_class_scores_free(&sc);
        amt_multilabel_free(&ml);
    }
done:
    for (int i = 0; i < n; i++) free(clips[i].key);
    free(clips);
    amt_file_list_free(&wavs);
    return rc;
}

/* ------------------------------------------------------------ model mode */

/* Whether paths a and b name the same existing file (or are the same string). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strcmp(a, b)) return 1;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* amt-eval --model CKPT --data DIR [--split test] [--out FILE.csv]: dispatches on the
 * checkpoint's model kind to infer/eval_KIND.c. */
static int mode_model(amt_cli_opt *o, int nopt, int json)
{
    static const char *const scoring_only[] = { "ref", "est", "pred", "frame-rate", "onset-tolerance",
                                                "offset-ratio", "offset-min", NULL };
    for (int i = 0; scoring_only[i]; i++)
        if (amt_cli_find(o, nopt, scoring_only[i])->set) {
            fprintf(stderr, "amt-eval: option --%s does not apply with --model (see amt-eval --help)\n", scoring_only[i]);
            return AMT_EXIT_USAGE;
        }
    amt_eval_model_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.model = amt_cli_find(o, nopt, "model")->value;
    mo.data = amt_cli_find(o, nopt, "data")->value;
    mo.split = amt_cli_find(o, nopt, "split")->value;
    mo.out_csv = amt_cli_find(o, nopt, "out")->value;
    mo.json = json;
    mo.quiet = quiet;
    amt_tr_knobs_default(&mo.knobs);   /* the model's decoding options */
    mo.tune_out = amt_cli_find(o, nopt, "tune")->value;
    int any_dec = 0;
    char err[256];
    if (amt_knobs_parse(o, nopt, &mo.knobs, &any_dec, err, sizeof err)) return usage_error("%s", err);
    if (!mo.data) return usage_error("%s--model needs --data DIR", "");
    if (!mo.split) mo.split = "test";
    if (strcmp(mo.split, "test") && strcmp(mo.split, "train") && strcmp(mo.split, "val") && strcmp(mo.split, "all"))
        return usage_error("--split '%s' is not one of test, train, val, all", mo.split);
    amt_ckpt_info info;
    memset(&info, 0, sizeof info);
    if (amt_checkpoint_read_info(mo.model, &info) != AMT_OK) return fail();
    char kind[AMT_CKPT_MODEL_MAX];
    snprintf(kind, sizeof kind, "%s", info.model);
    amt_ckpt_info_free(&info);
    if (mo.tune_out && any_dec)
        return usage_error("%s--tune tunes the thresholds itself: drop the decoding options", "");
    if (mo.tune_out && same_file(mo.tune_out, mo.model))
        return usage_error("--tune %s would overwrite the model: give another path", mo.tune_out);
    if (!strcmp(kind, "transcriber")) return amt_eval_transcriber(&mo);
    if (mo.tune_out) {
        fprintf(stderr, "amt-eval: %s: --tune applies to transcriber checkpoints, not '%s'\n", mo.model, kind);
        return AMT_EXIT_USAGE;
    }
    if (any_dec) {
        fprintf(stderr, "amt-eval: %s: the decoding options (--onset-threshold, --frame-threshold, "
                "--sustain-threshold, --min-note-ms, --gap-ms, --min-pitch, --max-pitch) apply to transcriber checkpoints, not '%s'\n", mo.model, kind);
        return AMT_EXIT_USAGE;
    }
    if (!strcmp(kind, "separator")) return amt_eval_separator(&mo);
    if (!strcmp(kind, "classifier")) return amt_eval_classifier(&mo);
    fprintf(stderr, "amt-eval: %s: unknown model kind '%s' (expected transcriber, separator or classifier)\n", mo.model, kind);
    return AMT_EXIT_FAIL;
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    amt_cli_wait_policy(argv);
    amt_cli_opt opts[] = {
        { "ref", 0, 1, NULL, 0 }, { "est", 0, 1, NULL, 0 }, { "pred", 0, 1, NULL, 0 },
        { "frame-rate", 0, 1, NULL, 0 }, { "onset-tolerance", 0, 1, NULL, 0 },
        { "offset-ratio", 0, 1, NULL, 0 }, { "offset-min", 0, 1, NULL, 0 },
        { "json", 0, 0, NULL, 0 }, { "quiet", 'q', 0, NULL, 0 }, { "help", 'h', 0, NULL, 0 },
        { "version", 0, 0, NULL, 0 }, { "model", 0, 1, NULL, 0 }, { "data", 0, 1, NULL, 0 },
        { "split", 0, 1, NULL, 0 }, { "out", 0, 1, NULL, 0 },
        { "onset-threshold", 0, 1, NULL, 0 }, { "frame-threshold", 0, 1, NULL, 0 },
        { "sustain-threshold", 0, 1, NULL, 0 }, { "min-note-ms", 0, 1, NULL, 0 }, { "gap-ms", 0, 1, NULL, 0 },
        { "min-pitch", 0, 1, NULL, 0 }, { "max-pitch", 0, 1, NULL, 0 }, { "tune", 0, 1, NULL, 0 },
    };
    int nopt = (int)(sizeof opts / sizeof opts[0]);
    const char *pos[MAX_POS];
    int npos = 0;
    char err[256];
    if (amt_cli_parse(argc, argv, 1, opts, nopt, pos, MAX_POS, &npos, err, sizeof err)) {
        fprintf(stderr, "amt-eval: %s (see amt-eval --help)\n", err);
        return AMT_EXIT_USAGE;
    }
    if (amt_cli_find(opts, nopt, "help")->set) { fputs(USAGE, stdout); return AMT_EXIT_OK; }
    if (amt_cli_find(opts, nopt, "version")->set) { printf("amt-eval %s\n", AMT_VERSION); return AMT_EXIT_OK; }
    quiet = amt_cli_find(opts, nopt, "quiet")->set > 0;
    int json = amt_cli_find(opts, nopt, "json")->set > 0;
    if (amt_cli_find(opts, nopt, "model")->set) {
        if (npos > 0) return usage_error("--model takes no MODE (got '%s')", pos[0]);
        return mode_model(opts, nopt, json);
    }
    if (npos == 0) return usage_error("%smissing MODE (notes, separation or labels)", "");
    if (npos > 1) return usage_error("unexpected argument '%s'", pos[1]);
    const char *mode = pos[0];
    /* options that do not belong to the mode are usage errors */
    static const char *const notes_only[] = { "frame-rate", "onset-tolerance", "offset-ratio", "offset-min", NULL };
    int is_notes = strcmp(mode, "notes") == 0, is_sep = strcmp(mode, "separation") == 0, is_lab = strcmp(mode, "labels") == 0;
    if (!is_notes && !is_sep && !is_lab) return usage_error("unknown mode '%s' (expected notes, separation or labels)", mode);
    if (!is_notes)
        for (int i = 0; notes_only[i]; i++)
            if (amt_cli_find(opts, nopt, notes_only[i])->set) {
                fprintf(stderr, "amt-eval: option --%s applies to 'notes' only (see amt-eval --help)\n", notes_only[i]);
                return AMT_EXIT_USAGE;
            }
    if (is_lab && amt_cli_find(opts, nopt, "est")->set)
        return usage_error("%slabels takes --pred FILE.csv, not --est", "");
    if (!is_lab && amt_cli_find(opts, nopt, "pred")->set)
        return usage_error("--pred applies to 'labels' only, not '%s'", mode);
    if (is_notes) return mode_notes(opts, nopt, json);
    if (is_sep) return mode_separation(opts, nopt, json);
    return mode_labels(opts, nopt, json);
}
