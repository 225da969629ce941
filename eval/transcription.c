/* eval/transcription.c: note- and frame-level transcription metrics (see transcription.h).
 * The note matching replays mir_eval.util._bipartite_match (Eppstein's Hopcroft-Karp)
 * with the same visiting order, so the chosen pairs are identical, not only their count. */
#include "transcription.h"

#include "audio/pianoroll.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_DECIMALS_SCALE 10000.0   /* mir_eval rounds distances to 4 decimals */

void amt_note_metric_defaults(amt_note_metric_opts *o)
{
    o->onset_tol = AMT_ONSET_TOLERANCE;
    o->pitch_tol_cents = AMT_PITCH_TOLERANCE_CENTS;
    o->offset_ratio = AMT_OFFSET_RATIO;
    o->offset_min_tol = AMT_OFFSET_MIN_TOLERANCE;
    o->strict = 0;
}

static int check_notes(const amt_notes *ns, const char *what)
{
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        if (!isfinite(n->onset) || !isfinite(n->offset) || n->onset < 0 || n->offset < n->onset)
            return amt_error(AMT_EINVAL, "%s note %d: bad interval [%g, %g]", what, i, n->onset, n->offset);
        if (n->pitch < 0 || n->pitch > 127)
            return amt_error(AMT_EINVAL, "%s note %d: pitch %d outside MIDI 0..127", what, i, n->pitch);
    }
    return AMT_OK;
}

/* numpy.around(x, 4): multiply, round half to even, divide */
static double round4(double x) { return rint(x * N_DECIMALS_SCALE) / N_DECIMALS_SCALE; }
static int cmp_le(double a, double b, int strict) { return strict ? a < b : a <= b; }

/* Hopcroft-Karp state, arrays indexed by est (u) or ref (v) note index. */
typedef struct hk {
    int nu_order, *uorder;          /* estimates in the graph's key order */
    int *adj_start, *adj;           /* CSR adjacency of each estimate: references, ascending */
    int *match_v;                   /* ref -> est or -1 (mir_eval's `matching`) */
    int *pred;                      /* est -> -2 not in pred, -1 free root, else ref */
    unsigned char *in_preds, *in_new;
    int *ph, *pt, *pool_u, *pool_next, npool;   /* preds[v] lists */
    int *layer, *nl_order, *unmatched;
} hk;

#define PRED_NONE (-2)
#define PRED_ROOT (-1)

static int hk_recurse(hk *g, int v)
{
    if (!g->in_preds[v]) return 0;
    g->in_preds[v] = 0;
    for (int k = g->ph[v]; k >= 0; k = g->pool_next[k]) {
        int u = g->pool_u[k];
        if (g->pred[u] == PRED_NONE) continue;
        int pu = g->pred[u];
        g->pred[u] = PRED_NONE;
        if (pu == PRED_ROOT || hk_recurse(g, pu)) { g->match_v[v] = u; return 1; }
    }
    return 0;
}

static void hk_run(hk *g, int nref, int nest)
{
    /* greedy start */
    for (int a = 0; a < g->nu_order; a++) {
        int u = g->uorder[a];
        for (int k = g->adj_start[u]; k < g->adj_start[u + 1]; k++)
            if (g->match_v[g->adj[k]] < 0) { g->match_v[g->adj[k]] = u; break; }
    }
    for (;;) {
        memset(g->in_preds, 0, (size_t)nref);
        g->npool = 0;
        int nun = 0, nl = 0;
        for (int u = 0; u < nest; u++) g->pred[u] = PRED_NONE;
        for (int a = 0; a < g->nu_order; a++) g->pred[g->uorder[a]] = PRED_ROOT;
        for (int v = 0; v < nref; v++) if (g->match_v[v] >= 0) g->pred[g->match_v[v]] = PRED_NONE;
        for (int a = 0; a < g->nu_order; a++) if (g->pred[g->uorder[a]] == PRED_ROOT) g->layer[nl++] = g->uorder[a];
        while (nl > 0 && nun == 0) {
            int nn = 0;
            for (int a = 0; a < nl; a++) {
                int u = g->layer[a];
                for (int k = g->adj_start[u]; k < g->adj_start[u + 1]; k++) {
                    int v = g->adj[k];
                    if (g->in_preds[v]) continue;
                    if (!g->in_new[v]) { g->in_new[v] = 1; g->nl_order[nn++] = v; g->ph[v] = g->pt[v] = -1; }
                    int c = g->npool++;
                    g->pool_u[c] = u; g->pool_next[c] = -1;
                    if (g->pt[v] >= 0) g->pool_next[g->pt[v]] = c; else g->ph[v] = c;
                    g->pt[v] = c;
                }
            }
            nl = 0;
            for (int a = 0; a < nn; a++) {
                int v = g->nl_order[a];
                g->in_new[v] = 0;
                g->in_preds[v] = 1;
                if (g->match_v[v] >= 0) { int u = g->match_v[v]; g->layer[nl++] = u; g->pred[u] = v; }
                else g->unmatched[nun++] = v;
            }
        }
        if (nun == 0) return;
        for (int a = 0; a < nun; a++) hk_recurse(g, g->unmatched[a]);
    }
}

int amt_transcription_match(const amt_notes *ref, const amt_notes *est, const amt_note_metric_opts *opt,
                            int *ref_to_est, int *n_match)
{
    amt_note_metric_opts o;
    if (opt) o = *opt; else amt_note_metric_defaults(&o);
    int rc;
    if ((rc = check_notes(ref, "reference")) || (rc = check_notes(est, "estimate"))) return rc;
    int nr = ref->n, ne = est->n;
    if (n_match) *n_match = 0;
    if (ref_to_est) for (int i = 0; i < nr; i++) ref_to_est[i] = -1;
    if (nr == 0 || ne == 0) return AMT_OK;
    int use_off = o.offset_ratio > 0;
    double *lr = malloc((size_t)nr * sizeof *lr), *le = malloc((size_t)ne * sizeof *le);
    double *offtol = malloc((size_t)nr * sizeof *offtol);
    int *deg = calloc((size_t)ne + 1, sizeof *deg), *first = malloc((size_t)ne * sizeof *first);
    hk g = {0};
    if (!lr || !le || !offtol || !deg || !first) { rc = amt_error(AMT_ENOMEM, "transcription metric: out of memory"); goto done; }
    for (int i = 0; i < nr; i++) {
        lr[i] = log2(amt_midi_to_hz(ref->v[i].pitch));
        double d = fabs(ref->v[i].offset - ref->v[i].onset), t = o.offset_ratio * d;
        offtol[i] = t > o.offset_min_tol ? t : o.offset_min_tol;
    }
    for (int j = 0; j < ne; j++) { le[j] = log2(amt_midi_to_hz(est->v[j].pitch)); first[j] = -1; }
#define HIT(i, j) (cmp_le(round4(fabs(ref->v[i].onset - est->v[j].onset)), o.onset_tol, o.strict) && \
                   cmp_le(fabs(1200.0 * (lr[i] - le[j])), o.pitch_tol_cents, o.strict) && \
                   (!use_off || cmp_le(round4(fabs(ref->v[i].offset - est->v[j].offset)), offtol[i], o.strict)))
    /* graph: keys = estimates in order of first appearance in the ref-major hit scan */
    long nedge = 0;
    g.uorder = malloc((size_t)ne * sizeof(int));
    if (!g.uorder) { rc = amt_error(AMT_ENOMEM, "transcription metric: out of memory"); goto done; }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < ne; j++)
            if (HIT(i, j)) {
                if (first[j] < 0) { first[j] = i; g.uorder[g.nu_order++] = j; }
                deg[j + 1]++; nedge++;
            }
    if (nedge > 0x7FFFFFFFL) { rc = amt_error(AMT_ENOMEM, "transcription metric: too many candidate pairs"); goto done; }
    g.adj_start = deg;
    for (int j = 0; j < ne; j++) deg[j + 1] += deg[j];
    g.adj = malloc((size_t)(nedge ? nedge : 1) * sizeof(int));
    int *fill = calloc((size_t)ne, sizeof(int));
    g.match_v = malloc((size_t)nr * sizeof(int));
    g.pred = malloc((size_t)ne * sizeof(int));
    g.in_preds = calloc((size_t)nr, 1); g.in_new = calloc((size_t)nr, 1);
    g.ph = malloc((size_t)nr * sizeof(int)); g.pt = malloc((size_t)nr * sizeof(int));
    g.pool_u = malloc((size_t)(nedge ? nedge : 1) * sizeof(int)); g.pool_next = malloc((size_t)(nedge ? nedge : 1) * sizeof(int));
    g.layer = malloc((size_t)ne * sizeof(int)); g.nl_order = malloc((size_t)nr * sizeof(int));
    g.unmatched = malloc((size_t)nr * sizeof(int));
    if (!g.adj || !fill || !g.match_v || !g.pred || !g.in_preds || !g.in_new || !g.ph || !g.pt || !g.pool_u ||
        !g.pool_next || !g.layer || !g.nl_order || !g.unmatched) {
        free(fill);
        rc = amt_error(AMT_ENOMEM, "transcription metric: out of memory");
        goto done;
    }
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < ne; j++)
            if (HIT(i, j)) g.adj[deg[j] + fill[j]++] = i;
#undef HIT
    free(fill);
    for (int i = 0; i < nr; i++) g.match_v[i] = -1;
    hk_run(&g, nr, ne);
    int m = 0;
    for (int i = 0; i < nr; i++) {
        if (g.match_v[i] >= 0) m++;
        if (ref_to_est) ref_to_est[i] = g.match_v[i];
    }
    if (n_match) *n_match = m;
done:
    free(lr); free(le); free(offtol); free(deg); free(first);
    free(g.uorder); free(g.adj); free(g.match_v); free(g.pred); free(g.in_preds); free(g.in_new);
    free(g.ph); free(g.pt); free(g.pool_u); free(g.pool_next); free(g.layer); free(g.nl_order); free(g.unmatched);
    return rc;
}

int amt_transcription_note_scores(const amt_notes *ref, const amt_notes *est, const amt_note_metric_opts *opt,
                                  amt_note_scores *out)
{
    memset(out, 0, sizeof *out);
    out->n_ref = ref->n; out->n_est = est->n;
    int *r2e = malloc((size_t)(ref->n ? ref->n : 1) * sizeof(int)), m = 0;
    if (!r2e) return amt_error(AMT_ENOMEM, "transcription metric: out of memory");
    int rc = amt_transcription_match(ref, est, opt, r2e, &m);
    if (rc || ref->n == 0 || est->n == 0) { free(r2e); return rc; }
    out->n_match = m;
    out->precision = (double)m / est->n;
    out->recall = (double)m / ref->n;
    out->f1 = (out->precision == 0 && out->recall == 0) ? 0.0
            : 2.0 * out->precision * out->recall / (out->precision + out->recall);
    double sum = 0;
    for (int i = 0; i < ref->n; i++) {
        if (r2e[i] < 0) continue;
        const amt_note *a = &ref->v[i], *b = &est->v[r2e[i]];
        double num = fmin(a->offset, b->offset) - fmax(a->onset, b->onset);
        double den = fmax(a->offset, b->offset) - fmin(a->onset, b->onset);
        sum += num / den;
    }
    out->overlap = m ? sum / m : 0.0;
    free(r2e);
    return AMT_OK;
}

void amt_frame_scores_from(amt_frame_scores *s)
{
    double tp = (double)s->tp;
    s->precision = s->tp + s->fp ? tp / (double)(s->tp + s->fp) : 0.0;
    s->recall = s->tp + s->fn ? tp / (double)(s->tp + s->fn) : 0.0;
    s->f1 = s->precision + s->recall > 0 ? 2 * s->precision * s->recall / (s->precision + s->recall) : 0.0;
    s->accuracy = s->tp + s->fp + s->fn ? tp / (double)(s->tp + s->fp + s->fn) : 0.0;
}

int amt_transcription_frame_scores(const amt_notes *ref, const amt_notes *est, double rate, amt_frame_scores *out)
{
    memset(out, 0, sizeof *out);
    if (!(rate > 0) || !isfinite(rate)) return amt_error(AMT_EINVAL, "frame metric: frame rate %g must be > 0", rate);
    int rc;
    if ((rc = check_notes(ref, "reference")) || (rc = check_notes(est, "estimate"))) return rc;
    int fr = amt_roll_frames(ref, rate), fe = amt_roll_frames(est, rate);
    int frames = fr > fe ? fr : fe;
    out->frames = frames;
    if (frames == 0) return AMT_OK;
    /* one pitch at a time: two frame rows, so memory stays O(frames) */
    unsigned char *r = malloc((size_t)frames), *e = malloc((size_t)frames);
    if (!r || !e) { free(r); free(e); return amt_error(AMT_ENOMEM, "frame metric: out of memory for %d frames", frames); }
    unsigned char present[128] = {0};
    for (int i = 0; i < ref->n; i++) present[ref->v[i].pitch] = 1;
    for (int i = 0; i < est->n; i++) present[est->v[i].pitch] = 1;
    for (int p = 0; p < 128; p++) {
        if (!present[p]) continue;
        memset(r, 0, (size_t)frames); memset(e, 0, (size_t)frames);
        for (int s = 0; s < 2; s++) {
            const amt_notes *ns = s ? est : ref;
            unsigned char *row = s ? e : r;
            for (int i = 0; i < ns->n; i++) {
                if (ns->v[i].pitch != p) continue;
                long t0 = amt_time_to_frame_ceil(ns->v[i].onset, rate), t1 = amt_time_to_frame_ceil(ns->v[i].offset, rate);
                if (t1 > frames) t1 = frames;
                for (long t = t0; t < t1; t++) row[t] = 1;
            }
        }
        for (int t = 0; t < frames; t++) {
            out->tp += r[t] & e[t];
            out->fp += e[t] & !r[t];
            out->fn += r[t] & !e[t];
        }
    }
    free(r); free(e);
    amt_frame_scores_from(out);
    return AMT_OK;
}
