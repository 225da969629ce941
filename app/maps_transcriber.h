/* app/maps_transcriber.h: a MAPS-layout dataset as the transcriber sees it, shared by
 * its training kind (train/kind_transcriber.c) and its evaluation (infer/eval_transcriber.c):
 * the splits, a file's reference notes and its features, exactly as amt-infer computes them. */
#ifndef AMT_APP_MAPS_TRANSCRIBER_H
#define AMT_APP_MAPS_TRANSCRIBER_H

#include <stdint.h>

#include "audio/notes.h"
#include "datasets/maps.h"
#include "models/transcriber.h"

struct amt_config;

#define TR_VEL_MATCH_S 0.01        /* .txt note <-> .mid note onset tolerance (seconds) */
#define TR_SUBSETS_DEFAULT "isol, rand, ucho, mus"
#define TR_DEFAULT_VAL_SECONDS 300.0


/* Parses a subsets list ("isol, rand, ucho, mus", case-insensitive, or "all") into
 * AMT_MAPS_* bits. 0 on a bad name (*bad points at it). */
int amt_tr_parse_subsets(const char *s, const char **bad);
/* The data keys this file adds to [train] that the splits depend on: subsets (AMT_MAPS_*
 * bits) and val_max_seconds, with their defaults (AMT_ECONFIG naming the key). */
int amt_tr_data_keys(struct amt_config *cfg, int *subsets, double *val_max_seconds);
/* Indexes root (MAPS layout) and splits it as described at the top: *train, *val, *test
 * (malloc'd item lists, caller frees). subsets: AMT_MAPS_* bits trained on. */
int amt_tr_data_open(const char *root, int split, int subsets, double val_fraction, double val_max_seconds,
                     uint64_t seed, amt_maps *ds, int **train, int *ntrain, int **val, int *nval, int **test,
                     int *ntest);
/* The reference notes of a MAPS file: NAME.txt, velocities from NAME.mid when present. */
int amt_tr_file_notes(const amt_maps_file *f, amt_notes *out);
/* Features of a MAPS file as amt-infer computes them (malloc'd, caller frees). */
int amt_tr_file_features(const amt_transcriber_config *c, const char *wav, float **feat, long *n_frames);

#endif
