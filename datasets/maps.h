/* datasets/maps.h: the MAPS piano dataset layout.
 *   ROOT/<Piano>/{ISOL,RAND,UCHO,MUS}/.../MAPS_*_<Piano>.wav (44.1 kHz stereo) with NAME.txt
 *   ("OnsetTime\tOffsetTime\tMidiPitch", header line) and NAME.mid beside each.
 * Pianos: AkPnBcht AkPnBsdf AkPnCGdD AkPnStgb SptkBGAm SptkBGCl StbgTGd2 (synthesised),
 * ENSTDkAm ENSTDkCl (a real Disklavier), plus any rendered "Syn*" piano (amt-synth maps).
 * The piano is the last '_' field of a file name, the subset its prefix (MAPS_ISOL_,
 * MAPS_RAND_, MAPS_UCHO_, MAPS_MUS-). Splits: configuration II of Sigtia et al. 2016 (train
 * on the synthesised pianos, test on the ENSTDkCl and ENSTDkAm MUS pieces) or random.
 * Targets at the feature frame rate: a piano roll (frame f, time f / fps, is on for a note
 * when onset <= t < offset, and always on the note's onset frame) and onsets (the frame
 * nearest the onset), 88 keys from MIDI 21. */
#ifndef AMT_MAPS_H
#define AMT_MAPS_H

#include <stdint.h>
#include "audio/notes.h"
#include "datasets/filelist.h"
#include "datasets/stream.h"

#define AMT_MAPS_KEYS 88
#define AMT_MAPS_LOWEST 21

enum { AMT_MAPS_ISOL = 1, AMT_MAPS_RAND = 2, AMT_MAPS_UCHO = 4, AMT_MAPS_MUS = 8, AMT_MAPS_ALL = 15 };
enum { AMT_MAPS_SPLIT_SIGTIA2 = 0, AMT_MAPS_SPLIT_RANDOM = 1 };
enum { AMT_MAPS_TEST = 0, AMT_MAPS_TRAIN = 1, AMT_MAPS_UNUSED = 2 };

typedef struct amt_maps_file {
    char *wav, *txt;      /* owned paths */
    char piano[32];
    int subset;           /* AMT_MAPS_ISOL.. */
    int split;            /* AMT_MAPS_TEST / TRAIN / UNUSED */
} amt_maps_file;

typedef struct amt_maps_opts {
    int split;            /* AMT_MAPS_SPLIT_* */
    int train_subsets;    /* subsets used for training (default AMT_MAPS_MUS, as Sigtia II) */
    double test_fraction; /* random split (default 0.2) */
    uint64_t seed;
    amt_validate_opts v;  /* check_audio: open each WAV (2 channels); .txt always parsed */
} amt_maps_opts;

typedef struct amt_maps {
    amt_maps_file *files;
    int n;
    int skipped;          /* files skipped (v.skip_bad) */
    char warning[600];    /* the last skip warning ("" if none) */
} amt_maps;

void amt_maps_opts_default(amt_maps_opts *o);
/* Indexes ROOT recursively (6 levels); every .wav needs its .txt (error names the .wav),
 * every .txt must parse (error names file and line), names must follow MAPS. With
 * v.skip_bad a bad file is skipped and counted instead. */
int amt_maps_open(const char *root, const amt_maps_opts *o, amt_maps *ds);
void amt_maps_close(amt_maps *ds);
int amt_maps_split(const amt_maps *ds, int which, int **idx, int *n);

/* Piano roll and onsets (each frames x 88, caller buffers, zeroed here) at fps. */
void amt_maps_targets(const amt_notes *ns, double fps, long frames, float *roll, float *onset);

/* Streaming for the transcriber: features = featurizer(mono mix of the file at fz->rate),
 * targets = roll (88) then onsets (88) per frame (tdim = 176). */
typedef struct amt_maps_loader { const amt_maps *ds; amt_featurizer *fz; } amt_maps_loader;
int amt_maps_load_item(void *ud, int item, float **feat, float **tgt, long *frames);

#endif
