/* app/cli.h: helpers shared by the command-line tools (train/amt-*.c, infer/amt-*.c):
 * option parsing (--key value, --key=value, -k, flags), strict number parsing, directory
 * listing and path helpers. Library code: nothing here prints or exits; errors come back
 * as AMT_E* codes with an amt_error message (or, for parsing, a one-line message). */
#ifndef AMT_INFER_CLI_H
#define AMT_INFER_CLI_H

#include <stddef.h>

/* Exit codes of every tool. */
enum { AMT_EXIT_OK = 0, AMT_EXIT_FAIL = 1, AMT_EXIT_USAGE = 2 };

typedef struct amt_cli_opt {
    const char *name;     /* long name without dashes, e.g. "ref" */
    char short_name;      /* e.g. 'q'; 0 for none */
    int has_value;        /* 1: takes a value (--ref DIR or --ref=DIR) */
    const char *value;    /* set by amt_cli_parse: the last value given (points into argv) */
    int set;              /* set by amt_cli_parse: how many times it was given */
} amt_cli_opt;

/* Parses argv[first..argc): known options into opts, everything else (and all after
 * "--") into pos (up to max_pos). Returns 0, or -1 with a one-line message in err for an
 * unknown option, a missing value, a value given to a flag, or too many arguments. */
int amt_cli_parse(int argc, char **argv, int first, amt_cli_opt *opts, int nopts,
                  const char **pos, int max_pos, int *npos, char *err, size_t errlen);
/* The option called name (NULL if absent from opts). */
amt_cli_opt *amt_cli_find(amt_cli_opt *opts, int nopts, const char *name);

/* Strict conversions: the whole string must be a finite number. 0 on success, -1 if not. */
int amt_cli_double(const char *s, double *out);
int amt_cli_long(const char *s, long *out);

/* A sorted list of paths relative to the listed directory. */
typedef struct amt_file_list {
    char **v;
    int n, cap;
} amt_file_list;

/* Lists the regular files under dir (into subdirectories when recursive; hidden entries
 * skipped) whose name ends with one of exts (case-insensitive, e.g. ".wav"; exts NULL or
 * empty = any; the list ends with NULL), sorted by strcmp. Errors name the directory. */
int amt_list_dir(const char *dir, int recursive, const char *const *exts, amt_file_list *out);
void amt_file_list_free(amt_file_list *l);

int amt_is_dir(const char *path);
int amt_is_file(const char *path);
/* "a/b" (malloc'd; NULL when out of memory). */
char *amt_path_join(const char *a, const char *b);
/* Pointer to the extension (".wav") of the last path component, or to the final '\0'. */
const char *amt_path_ext(const char *path);
/* Copy of path without its extension (malloc'd). */
char *amt_path_strip_ext(const char *path);
/* Pointer to the last path component. */
const char *amt_path_base(const char *path);

/* Prints v as a JSON number, or null when it is not finite. */
void amt_json_number(void *file, double v);
/* Prints s as a JSON string with escapes. */
void amt_json_string(void *file, const char *s);


/* Call first in a tool's main. Unless OMP_WAIT_POLICY is set, re-executes the tool once
 * with OMP_WAIT_POLICY=passive: libgomp (shared by our loops and OpenBLAS) reads the policy
 * only when it loads, and spinning waits made 2-thread runs 1.3-12x slower when other
 * processes share the cores (bench/compare_torch.py --passive-ab). Set OMP_WAIT_POLICY
 * yourself (e.g. active) to keep that. Returns normally when no re-exec happens. */
void amt_cli_wait_policy(char **argv);

#endif
