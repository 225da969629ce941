/* datasets/stream.h: streaming (features, targets) batches with bounded memory.
 * A dataset is an index of items (files); a loader callback turns one item into
 * frames x fdim features and frames x tdim targets on demand. The stream visits items in
 * a seeded shuffled order (reshuffled each epoch), cuts each into segments of T frames
 * (hop T; a last partial segment is zero-padded when it holds >= T/2 frames, else
 * dropped) and fills caller buffers of B segments. Only the current item is in memory:
 * resident memory does not grow with the dataset. Same seed => same batches. */
#ifndef AMT_STREAM_H
#define AMT_STREAM_H

#include <stdint.h>

/* A feature extractor seen through one interface (audio at `rate` Hz -> frames x bins). */
typedef struct amt_featurizer {
    int rate;       /* sample rate the extractor expects (Hz) */
    int bins;       /* features per frame */
    double fps;     /* frames per second */
    long (*frames)(void *ud, long nsamples);
    int (*compute)(void *ud, const float *x, long n, float *out);   /* out: frames x bins */
    void (*del)(void *ud);
    void *ud;
} amt_featurizer;

/* Adapters over audio/features.h extractors (the featurizer owns the extractor). */
int amt_featurizer_specgram(amt_featurizer *f, int rate, int n_fft, int hop);      /* |STFT| */
int amt_featurizer_melspec(amt_featurizer *f, int rate, int n_fft, int hop, int n_mels);
int amt_featurizer_semitone(amt_featurizer *f);                                    /* amt_semitone_default() */
void amt_featurizer_free(amt_featurizer *f);

/* Loads item `item`: *feat (frames x fdim) and *tgt (frames x tdim), malloc'd (the stream
 * frees them). */
typedef int (*amt_item_loader)(void *ud, int item, float **feat, float **tgt, long *frames);

typedef struct amt_stream {
    const int *items;   /* dataset item ids to visit (not owned) */
    int nitems;
    int fdim, tdim, T;
    uint64_t seed;
    amt_item_loader load;
    void *ud;
    /* state */
    int *order;
    int epoch, pos;     /* position in order */
    float *feat, *tgt;  /* current item */
    long frames, seg;   /* frames of the current item, next segment start */
} amt_stream;

/* items/nitems: which items (e.g. the training split). T: frames per segment. */
int amt_stream_init(amt_stream *s, const int *items, int nitems, int fdim, int tdim, int T, uint64_t seed,
                    amt_item_loader load, void *ud);
/* Fills feat (B x T x fdim) and tgt (B x T x tdim); *epoch_end is set when the epoch
 * wrapped during this batch (the batch is still full, continuing in the next epoch). */
int amt_stream_next(amt_stream *s, int B, float *feat, float *tgt, int *epoch_end);
void amt_stream_free(amt_stream *s);

#endif
