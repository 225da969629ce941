/* datasets/mir1k.h: the MIR-1K singing-voice dataset layout.
 *   ROOT/Wavfile/<singer>_<song>_<clip>.wav   16 kHz, 16-bit, stereo: left = accompaniment,
 *                                             right = singing voice
 *   ROOT/PitchLabel/NAME.pv, UnvoicedFrameLabel/NAME.unv, vocal-nonvocalLabel/NAME.vocal: one line per
 *   label frame (40 ms window, 20 ms hop): floor((N - 640) / 320) + 1 lines for N samples.
 * ROOT may also be a folder holding MIR-1K/. The mixture is left + right (0 dB); the
 * targets are the two channels. Splits: the protocol of Huang et al. 2014 (singers abjones
 * and amy train, the rest test) or a seeded random split. */
#ifndef AMT_MIR1K_H
#define AMT_MIR1K_H

#include <stdint.h>
#include "datasets/filelist.h"
#include "datasets/stream.h"

#define AMT_MIR1K_RATE 16000
#define AMT_MIR1K_LABEL_WIN 640
#define AMT_MIR1K_LABEL_HOP 320

enum { AMT_SPLIT_PROTOCOL = 0, AMT_SPLIT_RANDOM = 1 };

typedef struct amt_mir1k_clip {
    char *wav;            /* owned path */
    char singer[64];
    int song, clip;
    long frames;          /* samples per channel (0 when not validated) */
    unsigned char train;  /* 1 = training split */
} amt_mir1k_clip;

typedef struct amt_mir1k_opts {
    int split;            /* AMT_SPLIT_* */
    double test_fraction; /* random split (default 0.2 when 0) */
    uint64_t seed;
    int undivided;        /* 1: index UndividedWavfile/ (names singer_song.wav) instead */
    amt_validate_opts v;
} amt_mir1k_opts;

typedef struct amt_mir1k {
    char root[1024];      /* the folder holding Wavfile/ */
    amt_mir1k_clip *clips;
    int n;
    int skipped;          /* files skipped (v.skip_bad) */
    char warning[600];    /* the last skip warning ("" if none), for the tool to print */
} amt_mir1k;

void amt_mir1k_opts_default(amt_mir1k_opts *o);   /* protocol split, validate, fail on bad */
/* Indexes (and with v.check_audio validates: 2 channels, 16 kHz) every clip. Errors name
 * the file (unreadable, wrong channel count, name not singer_song_clip.wav); with
 * v.skip_bad such a file is skipped instead: counted in ds->skipped, the last warning
 * kept in ds->warning for the tool to print (the library never prints). */
int amt_mir1k_open(const char *root, const amt_mir1k_opts *o, amt_mir1k *ds);
void amt_mir1k_close(amt_mir1k *ds);
/* Indices of the clips in the training (train = 1) or test split; *idx malloc'd. */
int amt_mir1k_split(const amt_mir1k *ds, int train, int **idx, int *n);

/* Reads clip i at 16 kHz: mixture (left + right), music (left), voice (right), each
 * malloc'd mono (NULL pointers are skipped). Errors name the file (mono file, etc.). */
int amt_mir1k_read(const amt_mir1k *ds, int i, float **mix, float **music, float **voice, long *n);
/* Label frames for n samples: floor((n - 640) / 320) + 1 (0 when n < 640). */
long amt_mir1k_label_frames(long n);
/* Lines of a label file (.pv, .unv, .vocal), blank last line ignored. */
int amt_mir1k_label_lines(const char *path, long *lines);
/* Path of clip i's label file in folder sub ("PitchLabel") with extension ext (".pv"). */
void amt_mir1k_label_path(const amt_mir1k *ds, int i, const char *sub, const char *ext, char *out, int cap);

/* Streaming for the separator: features = featurizer(mixture), targets = featurizer(voice)
 * then featurizer(music) (tdim = 2 * bins). */
typedef struct amt_mir1k_loader { const amt_mir1k *ds; amt_featurizer *fz; } amt_mir1k_loader;
int amt_mir1k_load_item(void *ud, int item, float **feat, float **tgt, long *frames);

/* Marks which of n training clips of one root are held out for validation (is_val: n
 * bytes): the first round(fraction * n) of a permutation seeded by seed (at least 1 when
 * fraction > 0 and n >= 2, never all). */
int amt_mir1k_val_choice(int n, double fraction, uint64_t seed, unsigned char *is_val);

#endif
