/* infer/model_dir.h: the model registry of amt-infer: a directory of HDF5 checkpoints
 * (core/checkpoint.h), each declaring its kind in its "model" attribute (transcriber,
 * separator, classifier). A transcriber also declares the instrument it was trained for in
 * its config text: [model] instrument = piano (an IRMAS code "pia" or full name "piano",
 * case-insensitive; absent = piano). For an instrument without its own transcriber the
 * closest available one is chosen by amt_instrument_distance.
 *
 * Instruments are the 11 IRMAS classes in the classifier's order (models/classifier.h):
 * cel cla flu gac gel org pia sax tru vio voi; index -1 = not one of them. Library code:
 * nothing here prints; the directory listing is owned by the amt_model_dir. */
#ifndef AMT_INFER_MODEL_DIR_H
#define AMT_INFER_MODEL_DIR_H

#include "core/checkpoint.h"

#define AMT_INSTRUMENT_PIANO 6              /* index of "pia" */
#define AMT_INSTRUMENT_NAME_MAX 64
#define AMT_INSTRUMENT_FAR 9                /* distance of an unknown instrument */

typedef struct amt_model_entry {
    char *path;                             /* DIR/file.h5, malloc'd */
    char kind[AMT_CKPT_MODEL_MAX];          /* "transcriber", "separator", ... */
    int instrument;                         /* transcribers: class index, or -1 (unknown name) */
    char instrument_name[AMT_INSTRUMENT_NAME_MAX];   /* full class name ("piano", the default), or
                                                        the unknown name as written, lower-case */
} amt_model_entry;

typedef struct amt_model_dir {
    char *dir;                              /* malloc'd copy of the directory path */
    amt_model_entry *v;                     /* checkpoints in file-name order */
    int n;
    char **skipped;                         /* one message per unreadable .h5 file (malloc'd) */
    int nskipped;
} amt_model_dir;

/* Lists the .h5 files of DIR (sorted, not recursive) and reads each one's attributes. A file that is
 * not a readable checkpoint is skipped with a message in skipped[] (a corrupt file must not
 * hide the others). Errors: AMT_EIO "DIR: no such models directory" (also when DIR is a
 * file), AMT_ENOMEM. An empty directory is not an error (n = 0). */
int amt_model_dir_scan(const char *dir, amt_model_dir *out);
void amt_model_dir_free(amt_model_dir *md);
/* Index of the first checkpoint of a kind (file-name order), or -1. */
int amt_model_dir_find(const amt_model_dir *md, const char *kind);
/* Number of checkpoints of a kind. */
int amt_model_dir_count(const amt_model_dir *md, const char *kind);
/* The transcriber for instrument cls (class index, or -1): the one declaring cls, else the
 * one at the smallest amt_instrument_distance (ties: the piano model, then file-name order).
 * *exact = 1 when it declares cls. -1 when the directory has no transcriber. */
int amt_model_dir_transcriber(const amt_model_dir *md, int cls, int *exact);

/* Class index of an instrument name: IRMAS code ("pia") or full name ("piano", as
 * amt_classifier_class_names; also "guitar" = acoustic guitar, "singing" = voice),
 * case-insensitive; -1 if unknown. */
int amt_instrument_index(const char *name);
/* How far apart two instruments are for transcription: 0 same, 1 same family (keyboards,
 * guitars, bowed strings, woodwinds), 2 similar envelopes (struck/plucked: piano, guitars,
 * organ; sustained: strings, winds, brass, voice), 3 otherwise; AMT_INSTRUMENT_FAR when
 * either is -1 (and they differ). */
int amt_instrument_distance(int a, int b);
/* General MIDI program (0..127) used for notes of class cls in MIDI files (-1: piano). */
int amt_instrument_gm_program(int cls);

#endif
