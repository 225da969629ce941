#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "error.h"

/* a config file larger than this is surely a mistake (a binary given by accident) */
#define CONFIG_MAX_BYTES (1 << 20)
/* longest line, including the newline (long file lists and paths fit) */
#define CONFIG_MAX_LINE 4096

typedef struct cfg_entry {
    char *section, *key, *value;
    int line;         /* 1-based line in the file; 0 for an override */
    char *set_text;   /* the --set argument that gave the value, or NULL */
    int used;
} cfg_entry;

typedef struct cfg_asked { char *section, *key; } cfg_asked;

struct amt_config {
    char *path;
    cfg_entry *e;
    int n, cap;
    cfg_asked *asked;   /* every (section, key) a getter asked for, once */
    int n_asked, cap_asked;
};

/* ---- small helpers ---- */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* "FILE:LINE" or "--set a.b=c" for messages */
static const char *loc(const amt_config *c, const cfg_entry *e, char *buf, size_t n)
{
    if (e->set_text) snprintf(buf, n, "--set %s", e->set_text);
    else snprintf(buf, n, "%s:%d", c->path, e->line);
    return buf;
}

static cfg_entry *find(const amt_config *c, const char *section, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].key, key) == 0) return &c->e[i];
    return NULL;
}

static int add_entry(amt_config *c, const char *section, const char *key, const char *value, int line, const char *set_text)
{
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 32;
        cfg_entry *ne = realloc(c->e, (size_t)cap * sizeof *ne);
        if (!ne) return amt_error(AMT_ENOMEM, "%s: out of memory", c->path);
        c->e = ne;
        c->cap = cap;
    }
    cfg_entry *e = &c->e[c->n];
    memset(e, 0, sizeof *e);
    e->section = dupstr(section);
    e->key = dupstr(key);
    e->value = dupstr(value);
    e->set_text = set_text ? dupstr(set_text) : NULL;
    e->line = line;
    c->n++;
    if (!e->section || !e->key || !e->value || (set_text && !e->set_text))
        return amt_error(AMT_ENOMEM, "%s: out of memory", c->path);
    return AMT_OK;
}

/* records that a getter asked for section.key, marks the entry used, returns it (or NULL) */
static cfg_entry *ask(amt_config *c, const char *section, const char *key)
{
    int known = 0;
    for (int i = 0; i < c->n_asked && !known; i++)
        known = strcmp(c->asked[i].section, section) == 0 && strcmp(c->asked[i].key, key) == 0;
    if (!known) {
        if (c->n_asked == c->cap_asked) {
            int cap = c->cap_asked ? 2 * c->cap_asked : 32;
            cfg_asked *na = realloc(c->asked, (size_t)cap * sizeof *na);
            if (na) { c->asked = na; c->cap_asked = cap; }
        }
        if (c->n_asked < c->cap_asked) {
            char *s = dupstr(section), *k = dupstr(key);
            if (s && k) {
                c->asked[c->n_asked].section = s;
                c->asked[c->n_asked].key = k;
                c->n_asked++;
            } else {
                free(s);
                free(k);
            }
        }
    }
    cfg_entry *e = find(c, section, key);
    if (e) e->used = 1;
    return e;
}

static int bad(const amt_config *c, const cfg_entry *e, const char *fmt, const char *detail)
{
    char where[512], what[1024];
    snprintf(what, sizeof what, fmt, detail);
    return amt_error(AMT_ECONFIG, "%s: %s.%s: %s", loc(c, e, where, sizeof where), e->section, e->key, what);
}

/* ---- parsing ---- */

typedef struct reader_state {
    const char *text;
    size_t pos, len;
    int line;          /* lines handed to inih so far */
    int long_line;     /* first line longer than inih's buffer, 0 if none */
    int max_line;      /* inih's buffer size */
} reader_state;

static char *reader(char *str, int num, void *stream)
{
    reader_state *r = stream;
    if (r->pos >= r->len || num < 2) return NULL;
    r->max_line = num;
    size_t n = 0;
    while (r->pos < r->len && n < (size_t)num - 1) {
        char ch = r->text[r->pos++];
        str[n++] = ch;
        if (ch == '\n') break;
    }
    str[n] = '\0';
    r->line++;
    if (str[n - 1] != '\n' && r->pos < r->len && !r->long_line) {
        r->long_line = r->line;
        while (r->pos < r->len && r->text[r->pos] != '\n') r->pos++;   /* drop the rest */
        if (r->pos < r->len) r->pos++;
    }
    return str;
}

typedef struct parse_ctx {
    amt_config *c;
    reader_state *r;
    int err;   /* first error code recorded by the handler */
} parse_ctx;

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *p = user;
    if (p->err) return 0;
    amt_config *c = p->c;
    if (!section[0]) {
        p->err = amt_error(AMT_ECONFIG, "%s:%d: %s: key outside any [section]", c->path, p->r->line, name);
        return 0;
    }
    cfg_entry *prev = find(c, section, name);
    if (prev) {
        p->err = amt_error(AMT_ECONFIG, "%s:%d: %s.%s: key given twice (first at line %d)", c->path, p->r->line,
                           section, name, prev->line);
        return 0;
    }
    if (add_entry(c, section, name, value ? value : "", p->r->line, NULL) != AMT_OK) {
        p->err = AMT_ENOMEM;
        return 0;
    }
    return 1;
}

/* text of line `line` (1-based) of t, trimmed, into buf */
static const char *line_text(const char *t, int line, char *buf, size_t n)
{
    for (int l = 1; l < line && *t; t++)
        if (*t == '\n') l++;
    while (*t == ' ' || *t == '\t') t++;
    size_t k = 0;
    while (t[k] && t[k] != '\n' && t[k] != '\r' && k + 1 < n) { buf[k] = t[k]; k++; }
    buf[k] = '\0';
    return buf;
}

amt_config *amt_config_from_string(const char *text, const char *name)
{
    amt_config *c = calloc(1, sizeof *c);
    if (!c) { amt_error(AMT_ENOMEM, "%s: out of memory", name); return NULL; }
    c->path = dupstr(name ? name : "(string)");
    if (!c->path) { free(c); amt_error(AMT_ENOMEM, "out of memory"); return NULL; }
    ini_allow_multiline = 0;      /* an indented line is a new key, never a continuation */
    ini_stop_on_first_error = 1;  /* report the first problem, not a later consequence */
    ini_use_stack = 0;            /* a heap line buffer of CONFIG_MAX_LINE bytes (Debian's */
    ini_initial_alloc = CONFIG_MAX_LINE;   /* libinih reads these at run time) */
    ini_max_line = CONFIG_MAX_LINE;
    ini_allow_realloc = 0;
    reader_state r = {text, 0, strlen(text), 0, 0, 0};
    parse_ctx p = {c, &r, 0};
    int rc = ini_parse_stream(reader, &r, handler, &p);
    if (p.err) { amt_config_free(c); return NULL; }
    if (r.long_line) {
        amt_error(AMT_ECONFIG, "%s:%d: line too long (limit %d characters)", name, r.long_line, r.max_line - 2);
        amt_config_free(c);
        return NULL;
    }
    if (rc != 0) {
        char buf[120];
        if (rc > 0)
            amt_error(AMT_ECONFIG, "%s:%d: malformed line '%s' (expected [section] or key = value)", name, rc,
                      line_text(text, rc, buf, sizeof buf));
        else
            amt_error(AMT_ENOMEM, "%s: parser out of memory", name);
        amt_config_free(c);
        return NULL;
    }
    return c;
}

amt_config *amt_config_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { amt_error(AMT_EIO, "%s: cannot open config: %s", path, strerror(errno)); return NULL; }
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) { fclose(f); amt_error(AMT_ENOMEM, "%s: out of memory", path); return NULL; }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr) { free(buf); amt_error(AMT_EIO, "%s: read error", path); return NULL; }
    if (n > CONFIG_MAX_BYTES) { free(buf); amt_error(AMT_ECONFIG, "%s: larger than %d bytes, not a config", path, CONFIG_MAX_BYTES); return NULL; }
    if (memchr(buf, '\0', n)) { free(buf); amt_error(AMT_ECONFIG, "%s: contains NUL bytes, not a text config", path); return NULL; }
    buf[n] = '\0';
    amt_config *c = amt_config_from_string(buf, path);
    free(buf);
    return c;
}

void amt_config_free(amt_config *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->e[i].section);
        free(c->e[i].key);
        free(c->e[i].value);
        free(c->e[i].set_text);
    }
    for (int i = 0; i < c->n_asked; i++) {
        free(c->asked[i].section);
        free(c->asked[i].key);
    }
    free(c->asked);
    free(c->e);
    free(c->path);
    free(c);
}

const char *amt_config_path(const amt_config *c) { return c->path; }

/* ---- overrides ---- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k])) k++;
    if (k) memmove(s, s + k, n - k + 1);
}

int amt_config_set(amt_config *c, const char *assignment)
{
    char buf[1024];
    if (!assignment || strlen(assignment) >= sizeof buf)
        return amt_error(AMT_ECONFIG, "--set: missing or too long assignment");
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq)
        return amt_error(AMT_ECONFIG, "--set %s: expected section.key=value", assignment);
    *dot = '\0';
    *eq = '\0';
    char *section = buf, *key = dot + 1, *value = eq + 1;
    trim(section);
    trim(key);
    trim(value);
    if (!*section || !*key) return amt_error(AMT_ECONFIG, "--set %s: expected section.key=value", assignment);
    if (!*value) return amt_error(AMT_ECONFIG, "--set %s: %s.%s: empty value", assignment, section, key);
    cfg_entry *e = find(c, section, key);
    if (e) {
        char *v = dupstr(value), *st = dupstr(assignment);
        if (!v || !st) { free(v); free(st); return amt_error(AMT_ENOMEM, "--set: out of memory"); }
        free(e->value);
        free(e->set_text);
        e->value = v;
        e->set_text = st;
        return AMT_OK;
    }
    return add_entry(c, section, key, value, 0, assignment);
}

/* ---- getters ---- */

int amt_config_has(const amt_config *c, const char *section, const char *key) { return find(c, section, key) != NULL; }

int amt_config_require(amt_config *c, const char *section, const char *key)
{
    if (ask(c, section, key)) return AMT_OK;
    return amt_error(AMT_ECONFIG, "%s: %s.%s: missing required key", c->path, section, key);
}

static int parse_long(const char *s, long *out)
{
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

int amt_config_get_int(amt_config *c, const char *section, const char *key, int def, int lo, int hi, int *out)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) { *out = def; return AMT_OK; }
    long v;
    if (!parse_long(e->value, &v)) return bad(c, e, "'%s' is not an integer", e->value);
    if (v < lo || v > hi) {
        char range[128];
        snprintf(range, sizeof range, "%s outside [%d, %d]", e->value, lo, hi);
        return bad(c, e, "%s", range);
    }
    *out = (int)v;
    return AMT_OK;
}

int amt_config_get_float(amt_config *c, const char *section, const char *key, double def, double lo, double hi, double *out)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) { *out = def; return AMT_OK; }
    char *end;
    errno = 0;
    double v = strtod(e->value, &end);
    if (end == e->value || *end || !isfinite(v)) return bad(c, e, "'%s' is not a finite number", e->value);
    if (v < lo || v > hi) {
        char range[160];
        snprintf(range, sizeof range, "%s outside [%g, %g]", e->value, lo, hi);
        return bad(c, e, "%s", range);
    }
    *out = v;
    return AMT_OK;
}

int amt_config_get_bool(amt_config *c, const char *section, const char *key, int def, int *out)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) { *out = def; return AMT_OK; }
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(e->value, yes[i]) == 0) { *out = 1; return AMT_OK; }
        if (strcasecmp(e->value, no[i]) == 0) { *out = 0; return AMT_OK; }
    }
    return bad(c, e, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", e->value);
}

int amt_config_get_string(amt_config *c, const char *section, const char *key, const char *def, const char **out)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) {
        if (!def) return amt_error(AMT_ECONFIG, "%s: %s.%s: missing required key", c->path, section, key);
        *out = def;
        return AMT_OK;
    }
    if (!e->value[0]) return bad(c, e, "%s", "empty value");
    *out = e->value;
    return AMT_OK;
}

int amt_config_get_enum(amt_config *c, const char *section, const char *key, const char *const *allowed, int def, int *out)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) {
        if (def < 0) return amt_error(AMT_ECONFIG, "%s: %s.%s: missing required key", c->path, section, key);
        *out = def;
        return AMT_OK;
    }
    char list[400] = "";
    size_t used = 0;
    for (int i = 0; allowed[i]; i++) {
        if (strcmp(e->value, allowed[i]) == 0) { *out = i; return AMT_OK; }
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
        if (w > 0 && used + (size_t)w < sizeof list) used += (size_t)w;
    }
    char what[600];
    snprintf(what, sizeof what, "'%s' is not one of: %s", e->value, list);
    return bad(c, e, "%s", what);
}

int amt_config_get_int_list(amt_config *c, const char *section, const char *key, int lo, int hi, int *out, int max, int *n)
{
    cfg_entry *e = ask(c, section, key);
    if (!e) return AMT_OK;
    int count = 0;
    const char *s = e->value;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        if (!*s) break;
        char item[64];
        size_t k = 0;
        while (s[k] && s[k] != ' ' && s[k] != '\t' && s[k] != ',') k++;
        if (k >= sizeof item) k = sizeof item - 1;
        memcpy(item, s, k);
        item[k] = '\0';
        s += k;
        while (*s && *s != ' ' && *s != '\t' && *s != ',') s++;
        long v;
        if (!parse_long(item, &v)) {
            char what[200];
            snprintf(what, sizeof what, "item %d '%s' is not an integer", count + 1, item);
            return bad(c, e, "%s", what);
        }
        if (v < lo || v > hi) {
            char what[200];
            snprintf(what, sizeof what, "item %d (%s) outside [%d, %d]", count + 1, item, lo, hi);
            return bad(c, e, "%s", what);
        }
        if (count == max) {
            char what[120];
            snprintf(what, sizeof what, "more than %d items", max);
            return bad(c, e, "%s", what);
        }
        out[count++] = (int)v;
    }
    if (count == 0) return bad(c, e, "%s", "empty list");
    *n = count;
    return AMT_OK;
}

int amt_config_check_unused(const amt_config *c)
{
    for (int i = 0; i < c->n; i++) {
        const cfg_entry *e = &c->e[i];
        if (e->used) continue;
        char where[512], known[400] = "";
        size_t used = 0;
        int section_known = 0;
        for (int k = 0; k < c->n_asked; k++) {
            if (strcmp(c->asked[k].section, e->section) != 0) continue;
            int w = snprintf(known + used, sizeof known - used, "%s%s", section_known ? ", " : "", c->asked[k].key);
            if (w > 0 && used + (size_t)w < sizeof known) used += (size_t)w;
            section_known = 1;
        }
        loc(c, e, where, sizeof where);
        if (!section_known) return amt_error(AMT_ECONFIG, "%s: [%s]: unknown section (key '%s')", where, e->section, e->key);
        return amt_error(AMT_ECONFIG, "%s: %s.%s: unknown key (known in [%s]: %s)", where, e->section, e->key, e->section, known);
    }
    return AMT_OK;
}

/* ---- serialisation ---- */

char *amt_config_text(const amt_config *c)
{
    size_t cap = 64;
    for (int i = 0; i < c->n; i++)
        cap += 2 * strlen(c->e[i].section) + strlen(c->e[i].key) + strlen(c->e[i].value) + 16;
    char *out = malloc(cap), *p = out;
    if (!out) { amt_error(AMT_ENOMEM, "%s: out of memory", c->path); return NULL; }
    *p = '\0';
    for (int i = 0; i < c->n; i++) {
        int seen = 0;   /* section already written with an earlier entry */
        for (int k = 0; k < i && !seen; k++) seen = strcmp(c->e[k].section, c->e[i].section) == 0;
        if (seen) continue;
        p += sprintf(p, "%s[%s]\n", p == out ? "" : "\n", c->e[i].section);
        for (int k = i; k < c->n; k++)
            if (strcmp(c->e[k].section, c->e[i].section) == 0) p += sprintf(p, "%s = %s\n", c->e[k].key, c->e[k].value);
    }
    return out;
}
