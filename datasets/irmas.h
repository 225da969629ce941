/* datasets/irmas.h: the IRMAS instrument-recognition dataset layout.
 *   ROOT/IRMAS-TrainingData/<cls>/NAME.wav   3 s, 44.1 kHz, 16-bit stereo; single label =
 *       the folder; names carry tags: "[cla][cla]0189__2.wav" (instrument, genre) or
 *       "[gel][dru][pop_roc]0829__2.wav" (instrument, drums dru/nod, genre).
 *   ROOT/IRMAS-TestingData-Part<k>/.../NAME.wav + NAME.txt   one class code per line
 *       (multi-label).
 * Classes (11): cel cla flu gac gel org pia sax tru vio voi. Training on 1 s windows
 * (Han et al. 2017): stream with T = frames of 1 s; targets are the multi-hot class vector
 * repeated on every frame. */
#ifndef AMT_IRMAS_H
#define AMT_IRMAS_H

#include <stdint.h>
#include "datasets/filelist.h"
#include "datasets/stream.h"

#define AMT_IRMAS_NCLASS 11
extern const char *const amt_irmas_classes[AMT_IRMAS_NCLASS];
/* Index of a class code ("cla" -> 1), -1 if unknown. */
int amt_irmas_class_index(const char *code);

enum { AMT_IRMAS_SPLIT_LAYOUT = 0, AMT_IRMAS_SPLIT_RANDOM = 1 };

typedef struct amt_irmas_file {
    char *wav;            /* owned */
    unsigned labels;      /* bit c set = class c present */
    int drums;            /* 1 [dru], 0 [nod], -1 no tag / testing */
    int testing;          /* 1 = from IRMAS-TestingData-Part* */
    int train;            /* 1 = training split */
} amt_irmas_file;

typedef struct amt_irmas_opts {
    int split;            /* LAYOUT: training folders train, testing parts test; RANDOM: a
                           * seeded test_fraction of the training files is held out */
    double test_fraction;
    uint64_t seed;
    int training_only;    /* 1: ignore the testing parts */
    amt_validate_opts v;  /* check_audio: 2 channels */
} amt_irmas_opts;

typedef struct amt_irmas {
    amt_irmas_file *files;
    int n, skipped;       /* skipped: files/folders skipped (v.skip_bad) */
    int ntraining_files, ntesting_files;
    char warning[600];    /* the last skip warning ("" if none) */
} amt_irmas;

void amt_irmas_opts_default(amt_irmas_opts *o);
/* Errors name the file or folder: an unknown class folder, a tag that disagrees with its
 * folder, a testing .txt missing or with an unknown code (file:line), a WAV that is not
 * stereo. With v.skip_bad bad files are skipped and counted. */
int amt_irmas_open(const char *root, const amt_irmas_opts *o, amt_irmas *ds);
void amt_irmas_close(amt_irmas *ds);
int amt_irmas_split(const amt_irmas *ds, int train, int **idx, int *n);
/* Parses a testing label file into a class bitmask; errors name file and line. */
int amt_irmas_read_labels(const char *txt, unsigned *labels);

/* Streaming: features = featurizer(mono mix), targets = 11-dim multi-hot per frame. */
typedef struct amt_irmas_loader { const amt_irmas *ds; amt_featurizer *fz; } amt_irmas_loader;
int amt_irmas_load_item(void *ud, int item, float **feat, float **tgt, long *frames);

#endif
