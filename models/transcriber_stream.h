/* models/transcriber_stream.h: transcription of a signal of any length in bounded memory.
 * Mono audio at any rate is fed in blocks; it is resampled as a stream
 * (audio/resample.h), turned into features one frame at a time (audio/semitone.h) and run
 * through the network in chunks of the runner (amt_tr_infer_chunk output frames); every
 * finished chunk of rows (features and probabilities, 100 frames/s at the defaults) is
 * handed to a callback, in order, frame 0 first. The rows are the same numbers as
 * amt_transcriber_features + amt_tr_infer_run on the whole signal (the resampler's
 * streaming output equals its one-shot output; each feature frame reads only its own
 * window; the network is shift-invariant and its forwards start at the same frames).
 *
 * Memory (independent of the length): about n_fft + 256 hops of samples, one chunk plus
 * the network's context of feature rows, and one chunk of each probability roll
 * (B x N x 88 floats); all allocated in amt_tr_stream_new. */
#ifndef AMT_TRANSCRIBER_STREAM_H
#define AMT_TRANSCRIBER_STREAM_H

#include "models/transcriber.h"

/* Receives output frames t0 .. t0 + n - 1: feat (n x bins), frame / onset / velocity (n x 88
 * each; onset / velocity NULL without that head). The buffers are the stream's, valid during
 * the call. A non-zero return stops the stream with that code. */
typedef int (*amt_tr_rows_fn)(void *ctx, long t0, long n, const float *feat, const float *frame,
                              const float *onset, const float *velocity);

typedef struct amt_tr_stream amt_tr_stream;

/* A stream of audio at rate Hz (> 0) into runner r (kept by reference; it and its model
 * must outlive the stream). NULL (error set) on a bad rate or no memory. */
amt_tr_stream *amt_tr_stream_new(amt_tr_infer *r, double rate, amt_tr_rows_fn fn, void *ctx);
void amt_tr_stream_del(amt_tr_stream *s);
/* Feeds n samples; rows that become ready go to the callback. AMT_EINVAL "sample I is NaN"
 * (I counted from the start of the stream) for a non-finite sample. */
int amt_tr_stream_feed(amt_tr_stream *s, const float *x, long n);
/* End of the signal: the last rows go to the callback (a signal of 0 samples gives the one
 * frame of silence amt_transcriber_features gives). Call once. */
int amt_tr_stream_finish(amt_tr_stream *s);
/* Samples fed so far; output frames handed out so far. */
long amt_tr_stream_samples(const amt_tr_stream *s);
long amt_tr_stream_frames(const amt_tr_stream *s);
/* Output frames a signal of len samples at rate Hz gives (the features' frame count). */
long amt_tr_stream_frames_for(const amt_transcriber_config *cfg, double rate, long len);

#endif
