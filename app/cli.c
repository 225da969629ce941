/* infer/cli.c: option parsing, directory listing and path helpers of the tools. */
#include "app/cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"

amt_cli_opt *amt_cli_find(amt_cli_opt *opts, int nopts, const char *name)
{
    for (int i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0) return &opts[i];
    return NULL;
}

int amt_cli_parse(int argc, char **argv, int first, amt_cli_opt *opts, int nopts,
                  const char **pos, int max_pos, int *npos, char *err, size_t errlen)
{
    *npos = 0;
    int only_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (*npos >= max_pos) { snprintf(err, errlen, "unexpected argument '%s'", a); return -1; }
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { only_pos = 1; continue; }
        amt_cli_opt *o = NULL;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (int k = 0; k < nopts; k++)
                if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0) o = &opts[k];
            if (eq) inline_val = eq + 1;
        } else if (a[2] == '\0') {
            for (int k = 0; k < nopts; k++)
                if (opts[k].short_name && opts[k].short_name == a[1]) o = &opts[k];
        }
        if (!o) { snprintf(err, errlen, "unknown option '%s'", a); return -1; }
        if (o->has_value) {
            if (inline_val) o->value = inline_val;
            else if (i + 1 < argc) o->value = argv[++i];
            else { snprintf(err, errlen, "option '%s' needs a value", a); return -1; }
        } else if (inline_val) {
            snprintf(err, errlen, "option '--%s' takes no value", o->name);
            return -1;
        }
        o->set++;
    }
    return 0;
}

int amt_cli_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int amt_cli_long(const char *s, long *out)
{
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int amt_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int amt_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *amt_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    if (slash) p[la++] = '/';
    memcpy(p + la, b, lb + 1);
    return p;
}

const char *amt_path_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *amt_path_ext(const char *path)
{
    const char *base = amt_path_base(path);
    const char *dot = strrchr(base, '.');
    return (dot && dot != base) ? dot : base + strlen(base);
}

char *amt_path_strip_ext(const char *path)
{
    size_t len = (size_t)(amt_path_ext(path) - path);
    char *p = malloc(len + 1);
    if (!p) return NULL;
    memcpy(p, path, len);
    p[len] = '\0';
    return p;
}

static int ext_ok(const char *name, const char *const *exts)
{
    if (!exts || !exts[0]) return 1;
    size_t ln = strlen(name);
    for (int i = 0; exts[i]; i++) {
        size_t le = strlen(exts[i]);
        if (ln > le && strcasecmp(name + ln - le, exts[i]) == 0) return 1;
    }
    return 0;
}

static int list_push(amt_file_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, (size_t)cap * sizeof(char *));
        if (!v) return amt_error(AMT_ENOMEM, "out of memory listing files");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    if (!l->v[l->n]) return amt_error(AMT_ENOMEM, "out of memory listing files");
    l->n++;
    return AMT_OK;
}

/* root: the listed directory; rel: "" or "sub/dir" below it */
static int list_rec(const char *root, const char *rel, int recursive, const char *const *exts, amt_file_list *out, int depth)
{
    char *dir = *rel ? amt_path_join(root, rel) : strdup(root);
    if (!dir) return amt_error(AMT_ENOMEM, "out of memory listing files");
    DIR *d = opendir(dir);
    if (!d) {
        int rc = amt_error(AMT_EIO, "%s: cannot open directory (%s)", dir, strerror(errno));
        free(dir);
        return rc;
    }
    int rc = AMT_OK;
    struct dirent *e;
    while (rc == AMT_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *r = *rel ? amt_path_join(rel, e->d_name) : strdup(e->d_name);
        char *full = amt_path_join(dir, e->d_name);
        if (!r || !full) { free(r); free(full); rc = amt_error(AMT_ENOMEM, "out of memory listing files"); break; }
        struct stat st;
        if (stat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                if (recursive && depth < 32) rc = list_rec(root, r, recursive, exts, out, depth + 1);
            } else if (S_ISREG(st.st_mode) && ext_ok(e->d_name, exts)) rc = list_push(out, r);
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int amt_list_dir(const char *dir, int recursive, const char *const *exts, amt_file_list *out)
{
    memset(out, 0, sizeof(*out));
    if (!amt_is_dir(dir)) {
        if (amt_is_file(dir)) return amt_error(AMT_EIO, "%s: is a file, expected a directory", dir);
        return amt_error(AMT_EIO, "%s: no such directory", dir);
    }
    int rc = list_rec(dir, "", recursive, exts, out, 0);
    if (rc) { amt_file_list_free(out); return rc; }
    if (out->n > 1) qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
    return AMT_OK;
}

void amt_file_list_free(amt_file_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void amt_json_number(void *file, double v)
{
    FILE *f = file;
    if (isfinite(v)) fprintf(f, "%.6f", v);
    else fputs("null", f);
}

void amt_json_string(void *file, const char *s)
{
    FILE *f = file;
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void amt_cli_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* exec failed (no /proc): carry on with the default policy */
}
