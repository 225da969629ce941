/* datasets/filelist.h: what the dataset loaders share: sorted recursive file listings,
 * WAV header validation with errors naming the file, seeded splits and shuffles, and a
 * resident-memory probe for the streaming tests. */
#ifndef AMT_FILELIST_H
#define AMT_FILELIST_H

#include <stdint.h>

typedef struct amt_filelist {
    char **path;   /* owned, sorted by strcmp (deterministic order whatever readdir says) */
    int n, cap;
} amt_filelist;

/* Lists files under dir whose names end with ext (case-insensitive, e.g. ".wav"), down to
 * max_depth directory levels (0 = dir only). Hidden entries are skipped. *out is
 * initialised here. Error if dir cannot be opened (names it). */
int amt_filelist_scan(const char *dir, const char *ext, int max_depth, amt_filelist *out);
int amt_filelist_push(amt_filelist *fl, const char *path);
void amt_filelist_sort(amt_filelist *fl);
void amt_filelist_free(amt_filelist *fl);

/* How loaders treat a file they cannot use. */
typedef struct amt_validate_opts {
    int skip_bad;     /* 1: skip it with a warning (counted) instead of failing */
    int check_audio;  /* 1: open each WAV and check its header (rate/channels) at index time */
} amt_validate_opts;

/* Opens a sound file's header and checks channels/rate (0 = any). Errors name the file:
 * "x.wav: 1 channel, expected 2" or the reader's message. frames_out may be NULL. */
int amt_check_audio(const char *path, int channels, int rate, long *frames_out);

/* Splits n items into train (1) / test (0) membership at random: exactly
 * round(n * test_fraction) test items chosen by seed. */
void amt_random_split(int n, double test_fraction, uint64_t seed, unsigned char *is_train);

/* Resident set size of this process in kB (from /proc/self/statm), -1 if unknown. */
long amt_rss_kb(void);

/* Last path component (pointer into path). */
const char *amt_basename(const char *path);

#endif
