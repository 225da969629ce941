/* audio/notes.c: note list container, MAPS-style TSV and JSON I/O. */
#include "notes.h"

#include "core/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_CHARS 4096

void amt_notes_init(amt_notes *ns) { ns->v = NULL; ns->n = ns->cap = 0; }

amt_note amt_note_make(double onset, double offset, int pitch)
{
    amt_note n = {0};
    n.onset = onset; n.offset = offset; n.pitch = pitch;
    n.velocity = AMT_NOTE_DEFAULT_VELOCITY; n.program = -1; n.confidence = 1.0f;
    n.channel = -1; n.track = -1;
    return n;
}

int amt_notes_push(amt_notes *ns, const amt_note *note)
{
    if (ns->n == ns->cap) {
        int cap = ns->cap ? ns->cap * 2 : 64;
        if (cap < ns->cap) return amt_error(AMT_ENOMEM, "note list: too many notes (%d)", ns->n);
        amt_note *v = realloc(ns->v, (size_t)cap * sizeof *v);
        if (!v) return amt_error(AMT_ENOMEM, "note list: out of memory for %d notes", cap);
        ns->v = v; ns->cap = cap;
    }
    ns->v[ns->n++] = *note;
    return AMT_OK;
}

#define CMP(a, b) do { if ((a) < (b)) return -1; if ((a) > (b)) return 1; } while (0)
static int note_cmp(const void *pa, const void *pb)
{
    const amt_note *a = pa, *b = pb;
    CMP(a->onset, b->onset); CMP(a->pitch, b->pitch); CMP(a->offset, b->offset);
    CMP(a->program, b->program); CMP(a->velocity, b->velocity);
    CMP(a->channel, b->channel); CMP(a->track, b->track); CMP(a->confidence, b->confidence);
    return 0;
}

void amt_notes_sort(amt_notes *ns) { if (ns->n > 1) qsort(ns->v, (size_t)ns->n, sizeof *ns->v, note_cmp); }
void amt_notes_clear(amt_notes *ns) { ns->n = 0; }
void amt_notes_free(amt_notes *ns) { free(ns->v); amt_notes_init(ns); }

int amt_notes_validate(const amt_notes *ns, const char *what)
{
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        if (!isfinite(n->onset) || !isfinite(n->offset))
            return amt_error(AMT_EINVAL, "%s: note %d: time is not finite", what, i);
        if (n->onset < 0) return amt_error(AMT_EINVAL, "%s: note %d: onset %g < 0", what, i, n->onset);
        if (!(n->offset > n->onset))
            return amt_error(AMT_EINVAL, "%s: note %d: offset %g <= onset %g", what, i, n->offset, n->onset);
        if (n->pitch < 0 || n->pitch > 127)
            return amt_error(AMT_EINVAL, "%s: note %d: pitch %d outside MIDI 0..127", what, i, n->pitch);
    }
    return AMT_OK;
}

double amt_midi_to_hz(double midi) { return 440.0 * pow(2.0, (midi - 69.0) / 12.0); }

/* ---- TSV reading ---- */

/* Parses one number at *p (skipping spaces/tabs); returns 0 when there is none. */
static int parse_num(char **p, double *x)
{
    while (**p == ' ' || **p == '\t') (*p)++;
    if (!**p) return 0;
    char *end;
    errno = 0;
    *x = strtod(*p, &end);
    if (end == *p || errno == ERANGE) return 0;
    if (*end && *end != ' ' && *end != '\t' && *end != ',') return 0;
    if (*end == ',') end++;
    *p = end;
    return 1;
}

int amt_notes_read_tsv(const char *path, amt_notes *out)
{
    amt_notes_init(out);
    FILE *f = fopen(path, "r");
    if (!f) return amt_error(AMT_EIO, "%s: cannot open (%s)", path, strerror(errno));
    char line[LINE_MAX_CHARS];
    int lineno = 0, rc = AMT_OK, seen_data = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            rc = amt_error(AMT_EFORMAT, "%s:%d: line longer than %d characters", path, lineno, LINE_MAX_CHARS - 2);
            break;
        }
        while (len && isspace((unsigned char)line[len - 1])) line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (lineno == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
            p += 3; /* UTF-8 byte order mark */
        if (!*p || *p == '#') continue;
        if (!seen_data && isalpha((unsigned char)*p)) { seen_data = 1; continue; } /* header */
        seen_data = 1;
        double v[4];
        int k = 0;
        char *q = p;
        while (k < 4 && parse_num(&q, &v[k])) k++;
        while (*q == ' ' || *q == '\t') q++;
        if (k < 3 || *q) {
            rc = amt_error(AMT_EFORMAT, "%s:%d: expected 'OnsetTime OffsetTime MidiPitch', got '%.60s'", path, lineno, p);
            break;
        }
        if (!isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
            rc = amt_error(AMT_EFORMAT, "%s:%d: value is not finite", path, lineno);
            break;
        }
        if (v[0] < 0) { rc = amt_error(AMT_EFORMAT, "%s:%d: onset %g < 0", path, lineno, v[0]); break; }
        if (!(v[1] > v[0])) {
            rc = amt_error(AMT_EFORMAT, "%s:%d: offset %g <= onset %g", path, lineno, v[1], v[0]);
            break;
        }
        double pr = floor(v[2] + 0.5);
        if (fabs(v[2] - pr) > 1e-6 || pr < 0 || pr > 127) {
            rc = amt_error(AMT_EFORMAT, "%s:%d: pitch %g is not a MIDI note number 0..127", path, lineno, v[2]);
            break;
        }
        amt_note n = amt_note_make(v[0], v[1], (int)pr);
        if (k == 4) {
            if (!(v[3] >= 0 && v[3] <= 127)) {
                rc = amt_error(AMT_EFORMAT, "%s:%d: velocity %g outside 0..127", path, lineno, v[3]);
                break;
            }
            n.velocity = (int)floor(v[3] + 0.5);
        }
        if ((rc = amt_notes_push(out, &n)) != AMT_OK) break;
    }
    if (rc == AMT_OK && ferror(f)) rc = amt_error(AMT_EIO, "%s: read error", path);
    fclose(f);
    if (rc != AMT_OK) amt_notes_free(out);
    return rc;
}

/* ---- writing via temp file + rename ---- */

static FILE *open_tmp(const char *path, char *tmp, size_t cap)
{
    if ((size_t)snprintf(tmp, cap, "%s.XXXXXX", path) >= cap) { errno = ENAMETOOLONG; return NULL; }
    int fd = mkstemp(tmp);
    if (fd < 0) return NULL;
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) { close(fd); unlink(tmp); }
    return f;
}

static int close_tmp(FILE *f, const char *tmp, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (bad) { unlink(tmp); return amt_error(AMT_EIO, "%s: write failed", path); }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return amt_error(AMT_EIO, "%s: cannot rename into place (%s)", path, strerror(e));
    }
    return AMT_OK;
}

int amt_notes_write_tsv(const char *path, const amt_notes *ns)
{
    char tmp[4096];
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f) return amt_error(AMT_EIO, "%s: cannot create (%s)", path, strerror(errno));
    fputs("OnsetTime\tOffsetTime\tMidiPitch\n", f);
    for (int i = 0; i < ns->n; i++)
        fprintf(f, "%.6f\t%.6f\t%d\n", ns->v[i].onset, ns->v[i].offset, ns->v[i].pitch);
    return close_tmp(f, tmp, path);
}

int amt_notes_write_json(const char *path, const amt_notes *ns)
{
    char tmp[4096];
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f) return amt_error(AMT_EIO, "%s: cannot create (%s)", path, strerror(errno));
    fputs("{\"notes\": [", f);
    for (int i = 0; i < ns->n; i++) {
        const amt_note *n = &ns->v[i];
        double c = isfinite(n->confidence) ? n->confidence : 0.0;
        fprintf(f, "%s\n  {\"onset\": %.6f, \"offset\": %.6f, \"pitch\": %d, \"velocity\": %d, "
                   "\"program\": %d, \"confidence\": %.4f}",
                i ? "," : "", n->onset, n->offset, n->pitch, n->velocity, n->program, c);
    }
    fputs(ns->n ? "\n]}\n" : "]}\n", f);
    return close_tmp(f, tmp, path);
}
