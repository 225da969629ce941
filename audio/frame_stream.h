/* audio/frame_stream.h: the analysis frames of a signal of any length in bounded memory.
 * Samples at any rate are fed in blocks, resampled as a stream to the analysis rate
 * (audio/resample.h: the same samples as a one-shot resampling) and kept in a sliding
 * buffer; each frame in the framing of audio/stft.h (frame f covers samples
 * [f * hop - pad, f * hop - pad + n_fft), pad = n_fft / 2 when centred, 0 otherwise) goes
 * to a callback as soon as its window is complete, in order; at the end, the frames that
 * reach past it (amt_stft_frames of the whole length). The callback gets a stretch of the
 * signal that starts at a multiple of hop and holds the frame's window (or the signal's
 * true start / end): x (len samples) and the frame's index in it, f_local, to pass to
 * amt_stft_frame_mag, amt_semitone_frame or amt_melspec_frame unchanged, which then
 * compute exactly the frame f of the whole signal.
 * Memory: n_fft + AMT_FSTREAM_HOPS hops of samples, fixed at creation. */
#ifndef AMT_FRAME_STREAM_H
#define AMT_FRAME_STREAM_H

#define AMT_FSTREAM_HOPS 256   /* hops of samples buffered beyond one window */

/* Frame f of the signal (f_local in the stretch x of len samples); non-zero return stops
 * the stream with that code. */
typedef int (*amt_frame_fn)(void *ctx, const float *x, long len, long f_local, long f);

typedef struct amt_frame_stream amt_frame_stream;

/* in_rate: Hz of the samples fed (> 0); rate: analysis rate (Hz); n_fft, hop: samples;
 * center: 1 = centred frames. min_len: the signal is zero-padded at its end to at least
 * this many samples at the analysis rate (0: none). NULL (error set) on bad values. */
amt_frame_stream *amt_frame_stream_new(double in_rate, int rate, int n_fft, int hop, int center, long min_len,
                                       amt_frame_fn fn, void *ctx);
void amt_frame_stream_del(amt_frame_stream *s);
/* Feeds n samples. AMT_EINVAL "sample I is NaN" (I from the start of the stream) for a
 * non-finite sample. */
int amt_frame_stream_feed(amt_frame_stream *s, const float *x, long n);
/* End of the signal: the last frames. Call once. */
int amt_frame_stream_finish(amt_frame_stream *s);
long amt_frame_stream_samples(const amt_frame_stream *s);   /* samples fed */
long amt_frame_stream_frames(const amt_frame_stream *s);    /* frames handed out */
/* Frames of a signal of len samples at in_rate Hz analysed at rate (resampled length,
 * then the stft framing). */
long amt_frame_stream_count(double in_rate, int rate, int n_fft, int hop, int center, long len);

#endif
