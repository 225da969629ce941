/* infer/model_dir.c: the checkpoint directory of amt-infer and the instrument table. */
#include "infer/model_dir.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/error.h"
#include "app/cli.h"
#include "models/classifier.h"

/* Families (for amt_instrument_distance), in class order cel cla flu gac gel org pia sax tru vio voi. */
enum { FAM_KEYS, FAM_GUITAR, FAM_BOWED, FAM_WOOD, FAM_BRASS, FAM_VOICE };
static const int FAMILY[AMT_CLS_NCLASS] = {FAM_BOWED, FAM_WOOD, FAM_WOOD, FAM_GUITAR, FAM_GUITAR, FAM_KEYS,
                                           FAM_KEYS,  FAM_WOOD, FAM_BRASS, FAM_BOWED, FAM_VOICE};
/* 1: struck or plucked (decaying notes), 0: sustained. */
static const int STRUCK[AMT_CLS_NCLASS] = {0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0};
/* General MIDI programs: cello, clarinet, flute, nylon guitar, clean electric guitar,
 * drawbar organ, grand piano, alto sax, trumpet, violin, choir aahs. */
static const int GM_PROGRAM[AMT_CLS_NCLASS] = {42, 71, 73, 24, 27, 16, 0, 65, 56, 40, 52};

int amt_instrument_index(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < AMT_CLS_NCLASS; i++)
        if (!strcasecmp(name, amt_classifier_classes[i]) || !strcasecmp(name, amt_classifier_class_names[i]))
            return i;
    if (!strcasecmp(name, "guitar")) return 3;
    if (!strcasecmp(name, "singing") || !strcasecmp(name, "vocals")) return 10;
    return -1;
}

int amt_instrument_distance(int a, int b)
{
    if (a == b) return 0;
    if (a < 0 || b < 0 || a >= AMT_CLS_NCLASS || b >= AMT_CLS_NCLASS) return AMT_INSTRUMENT_FAR;
    if (FAMILY[a] == FAMILY[b]) return 1;
    if (STRUCK[a] == STRUCK[b]) return 2;
    return 3;
}

int amt_instrument_gm_program(int cls)
{
    return cls >= 0 && cls < AMT_CLS_NCLASS ? GM_PROGRAM[cls] : GM_PROGRAM[AMT_INSTRUMENT_PIANO];
}

void amt_model_dir_free(amt_model_dir *md)
{
    if (!md) return;
    for (int i = 0; i < md->n; i++) free(md->v[i].path);
    for (int i = 0; i < md->nskipped; i++) free(md->skipped[i]);
    free(md->v);
    free(md->skipped);
    free(md->dir);
    memset(md, 0, sizeof *md);
}

/* [model] instrument of a transcriber's config text (default piano). */
static void read_instrument(const char *text, const char *path, amt_model_entry *e)
{
    snprintf(e->instrument_name, sizeof e->instrument_name, "piano");
    e->instrument = AMT_INSTRUMENT_PIANO;
    amt_config *c = amt_config_from_string(text ? text : "", path);
    if (!c) { amt_error_clear(); return; }
    const char *v = NULL;
    if (amt_config_get_string(c, "model", "instrument", "piano", &v) == AMT_OK && v) {
        snprintf(e->instrument_name, sizeof e->instrument_name, "%s", v);
        for (char *p = e->instrument_name; *p; p++) *p = (char)tolower((unsigned char)*p);
        e->instrument = amt_instrument_index(v);
        if (e->instrument >= 0)   /* the canonical name: "pia", "Piano" -> "piano" */
            snprintf(e->instrument_name, sizeof e->instrument_name, "%s", amt_classifier_class_names[e->instrument]);
    }
    amt_error_clear();
    amt_config_free(c);
}

static int add_skipped(amt_model_dir *md, const char *msg)
{
    char **nv = realloc(md->skipped, (size_t)(md->nskipped + 1) * sizeof *nv);
    if (!nv) return amt_error(AMT_ENOMEM, "model directory: out of memory");
    md->skipped = nv;
    if (!(md->skipped[md->nskipped] = strdup(msg))) return amt_error(AMT_ENOMEM, "model directory: out of memory");
    md->nskipped++;
    return AMT_OK;
}

int amt_model_dir_scan(const char *dir, amt_model_dir *out)
{
    memset(out, 0, sizeof *out);
    if (!dir || !amt_is_dir(dir))
        return amt_error(AMT_EIO, "%s: no such models directory", dir ? dir : "(null)");
    static const char *const exts[] = {".h5", NULL};
    amt_file_list fl;
    memset(&fl, 0, sizeof fl);
    int rc = amt_list_dir(dir, 0, exts, &fl);
    if (rc) return rc;
    out->dir = strdup(dir);
    out->v = calloc((size_t)(fl.n > 0 ? fl.n : 1), sizeof *out->v);
    if (!out->dir || !out->v) {
        amt_file_list_free(&fl);
        amt_model_dir_free(out);
        return amt_error(AMT_ENOMEM, "%s: out of memory", dir);
    }
    for (int i = 0; i < fl.n; i++) {
        char *path = amt_path_join(dir, fl.v[i]);
        if (!path) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", dir); break; }
        amt_ckpt_info info;
        memset(&info, 0, sizeof info);
        if (amt_checkpoint_read_info(path, &info) != AMT_OK) {
            rc = add_skipped(out, amt_errmsg());
            amt_ckpt_info_free(&info);
            free(path);
            if (rc) break;
            continue;
        }
        amt_model_entry *e = &out->v[out->n++];
        e->path = path;
        snprintf(e->kind, sizeof e->kind, "%s", info.model);
        e->instrument = -1;
        if (!strcmp(info.model, "transcriber")) read_instrument(info.config, path, e);
        amt_ckpt_info_free(&info);
    }
    amt_file_list_free(&fl);
    if (rc) amt_model_dir_free(out);
    return rc;
}

int amt_model_dir_find(const amt_model_dir *md, const char *kind)
{
    for (int i = 0; i < md->n; i++)
        if (!strcmp(md->v[i].kind, kind)) return i;
    return -1;
}

int amt_model_dir_count(const amt_model_dir *md, const char *kind)
{
    int n = 0;
    for (int i = 0; i < md->n; i++) n += !strcmp(md->v[i].kind, kind);
    return n;
}

int amt_model_dir_transcriber(const amt_model_dir *md, int cls, int *exact)
{
    int best = -1, best_d = 0, best_piano = 0;
    for (int i = 0; i < md->n; i++) {
        const amt_model_entry *e = &md->v[i];
        if (strcmp(e->kind, "transcriber")) continue;
        int d = amt_instrument_distance(cls, e->instrument);
        if (cls >= 0 && e->instrument == cls) d = 0;
        int piano = e->instrument == AMT_INSTRUMENT_PIANO;
        if (best < 0 || d < best_d || (d == best_d && piano && !best_piano)) {
            best = i;
            best_d = d;
            best_piano = piano;
        }
    }
    if (exact) *exact = best >= 0 && cls >= 0 && md->v[best].instrument == cls;
    return best;
}
