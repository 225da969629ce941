/* infer/pipeline.h: the three stages of amt-infer on one input file, with the models
 * loaded once for a whole batch:
 *   1. separate (models/separator.h): NAME.voice.wav, NAME.music.wav (32-bit float WAV,
 *      the input's rate, length and channels; voice + music == input up to float rounding)
 *      and NAME.spectrograms.png (input, voice, music panels);
 *   2. classify (models/classifier.h) the accompaniment (the music of stage 1, or the input
 *      when stage 1 is not run; channels averaged): NAME.instrument.json;
 *   3. transcribe (models/transcriber.h + models/note_decode.h) the same signal with the
 *      transcriber of the classified instrument (else the closest available, with a
 *      warning; piano when stage 2 is not run): NAME.mid (GM program of the instrument),
 *      NAME.notes.tsv (MAPS), NAME.notes.json, NAME.pianoroll.png, and with
 *      save_activations NAME.activations.h5.
 * NAME = the input's file name without its extension, in the output directory.
 *
 * Long inputs: the file is read in blocks and separated in segments of AMT_PIPE_SEGMENT_S
 * seconds, each with AMT_PIPE_CONTEXT_S seconds of context either side (LSTM warm-up,
 * STFT and resampler edges); a segment's voice is kept for its core only, its first
 * AMT_PIPE_CONTEXT_S / 2 seconds cross-faded linearly from the previous segment's estimate,
 * and music = input - voice, so the partition stays exact. Voice and music are streamed to
 * their WAVs, the spectrogram panels are reduced to columns as the segments go by.
 * Memory per input is independent of its length: the separator's working set for one
 * segment; stages 2 and 3 read the accompaniment's WAV when stage 1 ran (else the input)
 * in blocks, as the channel mean: classification in two passes (models/classifier_stream.h:
 * the log-mel's dB floor needs the clip's loudest cell first), transcription in one
 * (models/transcriber_stream.h: features, probabilities and note decoding a chunk at a
 * time, the piano roll reduced to columns, activations appended to their HDF5 file).
 * Only the notes, the output, grow with what is played.
 * The networks run in blocks of fixed size (the runners of the model APIs). Library code:
 * no printing; warnings come back in the result. */
#ifndef AMT_INFER_PIPELINE_H
#define AMT_INFER_PIPELINE_H

#include "infer/model_dir.h"
#include "models/classifier.h"
#include "models/transcriber.h"

enum { AMT_STAGE_SEPARATE = 1, AMT_STAGE_CLASSIFY = 2, AMT_STAGE_TRANSCRIBE = 4, AMT_STAGE_ALL = 7 };

#define AMT_PIPE_SEGMENT_S 30.0   /* seconds separated at once */
#define AMT_PIPE_CONTEXT_S 2.0    /* seconds of context each side of a segment */
#define AMT_PIPE_MAX_OUTPUTS 12
#define AMT_PIPE_MSG_MAX 512

typedef struct amt_pipeline_opts {
    int stages;                /* AMT_STAGE_* bits */
    amt_tr_knobs knobs;        /* decoding knobs (models/transcriber.h): negative keeps the model's */
    int save_activations;      /* 1: NAME.activations.h5 */
    double segment_s;          /* seconds separated at once (<= 0: AMT_PIPE_SEGMENT_S) */
    /* called at the start of each stage (stage = "read", "separate", "classify",
     * "transcribe", "write"; "separate K/N" per segment of a long input); may be NULL */
    void (*on_stage)(void *ctx, const char *stage);
    void *ctx;
} amt_pipeline_opts;

/* The defaults: all stages, every knob from the model, no activations. */
void amt_pipeline_opts_default(amt_pipeline_opts *o);
/* Parses "separate,classify,transcribe" (any subset, any order, no repeats) into bits.
 * AMT_EINVAL naming the unknown or repeated stage. */
int amt_pipeline_parse_stages(const char *s, int *stages);

typedef struct amt_pipeline amt_pipeline;

/* Loads the models the stages need from md (kept by reference: md must outlive the
 * pipeline): the separator, the classifier; transcribers are loaded on first use and kept.
 * Errors (AMT_EIO) name the missing kind and the directory: "models/: no separator
 * checkpoint (needed by stage 'separate'; ...)"; a checkpoint that
 * fails to load is its own error (naming the file). */
int amt_pipeline_open(const amt_model_dir *md, const amt_pipeline_opts *o, amt_pipeline **out);
void amt_pipeline_close(amt_pipeline *p);

typedef struct amt_pipeline_result {
    double seconds;            /* input duration */
    int rate, channels;        /* of the input */
    long frames;
    int classified;            /* stage 2 ran */
    amt_cls_result cls;        /* its result */
    int transcribed;           /* stage 3 ran */
    const char *model;         /* transcriber checkpoint used (points into the model dir) */
    const char *model_instrument;   /* its declared instrument */
    int program;               /* GM program written to the MIDI file */
    int notes;                 /* notes transcribed */
    char warning[AMT_PIPE_MSG_MAX];   /* "" or a warning (closest model used) */
    double t_separate, t_classify, t_transcribe;   /* wall seconds of each stage (incl. its
                                                      reading and writing) */
    char *outputs[AMT_PIPE_MAX_OUTPUTS];   /* paths written (malloc'd) */
    int n_outputs;
} amt_pipeline_result;

/* Runs the stages on input, writing into outdir (must exist). res is filled (free with
 * amt_pipeline_result_free, also after an error: it lists what was written). Errors come
 * back with a message naming the file. */
int amt_pipeline_run(amt_pipeline *p, const char *input, const char *outdir, amt_pipeline_result *res);
void amt_pipeline_result_free(amt_pipeline_result *res);

#endif
