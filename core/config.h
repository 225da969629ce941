/* core/config.h: INI configuration files (read with libinih) with validated, typed getters.
 *
 *   amt_config *c = amt_config_load("configs/x.ini");           // NULL + error if missing/malformed
 *   amt_config_set(c, "train.batch=32");                        // --set overrides, before reading
 *   amt_config_get_int(c, "train", "batch", 16, 1, 4096, &batch);   // default 16 when absent
 *   ...
 *   amt_config_check_unused(c);   // any key never read (typo, unknown section) is an error
 *
 * Every error is AMT_ECONFIG with a message "FILE:LINE: section.key: problem", e.g.
 * "configs/x.ini:12: train.batch: 'abc' is not an integer"; a value that came from an
 * override reads "--set train.batch=abc: train.batch: ...". Sections and keys are case
 * sensitive. A getter marks the key as used even when it fails. */
#ifndef AMT_CONFIG_H
#define AMT_CONFIG_H

typedef struct amt_config amt_config;

/* Reads path. NULL (error set) when the file is missing/unreadable, a line is malformed,
 * too long, or a key repeats in a section. */
amt_config *amt_config_load(const char *path);
/* Same from text in memory; name is used in messages in place of a file name. */
amt_config *amt_config_from_string(const char *text, const char *name);
void amt_config_free(amt_config *c);

/* Applies an override "section.key=value" (the argument of --set): replaces the value of an
 * existing key, or adds the key (then amt_config_check_unused reports it if no getter reads
 * it). AMT_ECONFIG on a malformed assignment. */
int amt_config_set(amt_config *c, const char *assignment);

/* 1 if section.key is present (does not mark it used). */
int amt_config_has(const amt_config *c, const char *section, const char *key);
/* AMT_ECONFIG "FILE: section.key: missing required key" when absent. */
int amt_config_require(amt_config *c, const char *section, const char *key);

/* Typed getters: when the key is absent *out = def and AMT_OK; when present the value is
 * parsed and checked, AMT_ECONFIG (message) on failure with *out unchanged. */
int amt_config_get_int(amt_config *c, const char *section, const char *key, int def, int lo, int hi, int *out);
int amt_config_get_float(amt_config *c, const char *section, const char *key, double def, double lo, double hi, double *out);
/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int amt_config_get_bool(amt_config *c, const char *section, const char *key, int def, int *out);
/* *out points into c (valid until amt_config_free) or is def. def NULL makes the key
 * required. An empty value is an error. */
int amt_config_get_string(amt_config *c, const char *section, const char *key, const char *def, const char **out);
/* The value must be one of allowed[0..) (NULL-terminated); *out = its index. def is an index
 * (-1 makes the key required). */
int amt_config_get_enum(amt_config *c, const char *section, const char *key, const char *const *allowed, int def, int *out);
/* A comma- and/or space-separated list of 1..max ints in [lo, hi]; *n = count. When absent,
 * out[] and *n are untouched (the caller's default). */
int amt_config_get_int_list(amt_config *c, const char *section, const char *key, int lo, int hi, int *out, int max, int *n);

/* AMT_ECONFIG naming the first entry (in file order) that no getter has read: an unknown
 * section ("FILE:LINE: [sec]: unknown section") when no key of its section was asked for,
 * else "FILE:LINE: sec.key: unknown key (known: a, b, c)". */
int amt_config_check_unused(const amt_config *c);

/* The configuration as INI text, overrides applied ("[section]\nkey = value\n", file order,
 * comments dropped); malloc'd, the caller frees. NULL when out of memory. For checkpoints. */
char *amt_config_text(const amt_config *c);
/* The file name given to load (or the name given to from_string). */
const char *amt_config_path(const amt_config *c);

#endif
