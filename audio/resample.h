/* audio/resample.h: sample-rate conversion with libsoxr (SOXR_HQ: 20-bit, passband to 91 %
 * of the lower Nyquist, linear phase; delay-compensated, so output sample j is at time
 * j / out_rate like input sample i at i / in_rate). Rates in Hz, lengths in frames, samples
 * interleaved by frame. One thread (deterministic). The output of a whole stream is exactly
 * amt_resample_len(in_rate, out_rate, in_frames) frames (soxr's tail is trimmed or zero-padded
 * to that), so one-shot and streaming results are the same. */
#ifndef AMT_RESAMPLE_H
#define AMT_RESAMPLE_H

/* Output length for in_frames frames: round(in_frames * out_rate / in_rate) (half away from 0). */
long amt_resample_len(double in_rate, double out_rate, long in_frames);

/* One-shot: resamples in (in_frames x channels) into a malloc'd *out (caller frees) of
 * *out_frames = amt_resample_len(...) frames. Equal rates copy. */
int amt_resample(const float *in, long in_frames, int channels, double in_rate, double out_rate,
                 float **out, long *out_frames);

/* Streaming: bounded memory for arbitrarily long inputs. */
typedef struct amt_resampler amt_resampler;
amt_resampler *amt_resampler_new(double in_rate, double out_rate, int channels);
/* Feeds up to in_frames frames; writes at most out_cap frames to out. Returns frames written
 * (>= 0) or a negative error; *used gets the frames consumed (all of them whenever out_cap >=
 * amt_resampler_max_out(r, in_frames); otherwise call again with the rest). */
long amt_resampler_process(amt_resampler *r, const float *in, long in_frames, long *used, float *out, long out_cap);
/* After the last input: writes remaining output (at most out_cap frames); call until it returns 0. */
long amt_resampler_flush(amt_resampler *r, float *out, long out_cap);
/* An output capacity that always suffices for one process call of in_frames frames. */
long amt_resampler_max_out(const amt_resampler *r, long in_frames);
void amt_resampler_del(amt_resampler *r);

#endif
