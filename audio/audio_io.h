/* audio/audio_io.h: reading and writing sound files with libsndfile.
 * Samples are float in [-1, 1], interleaved by frame (frame f, channel c at
 * data[f * channels + c]). Sample rates in Hz; lengths in frames. */
#ifndef AMT_AUDIO_IO_H
#define AMT_AUDIO_IO_H

#include <stddef.h>

typedef struct amt_audio {
    float *data;      /* frames * channels interleaved samples, owned (amt_audio_free) */
    long frames;
    int channels;
    int rate;         /* Hz */
} amt_audio;

/* Reads a whole file of any format libsndfile reads (WAV incl. 24-bit/float, FLAC,
 * OGG/Vorbis, Opus, MP3). Errors name the file: missing, unreadable, not audio, empty
 * (0 frames), or containing NaN/Inf samples. */
int amt_audio_read(const char *path, amt_audio *out);
/* Reads a file and returns one channel (channel >= 0) or the mean of all channels
 * (channel = -1) as a malloc'd mono signal, resampled to `rate` Hz (rate 0 keeps the
 * file's rate, returned in *rate_out when non-NULL). */
int amt_audio_read_mono(const char *path, int channel, int rate, float **out, long *frames, int *rate_out);

enum { AMT_WAV_PCM16 = 0, AMT_WAV_FLOAT = 1 };
/* Writes interleaved samples as WAV (16-bit PCM, clipped to [-1, 1], or 32-bit float),
 * through a temporary file renamed into place. */
int amt_audio_write_wav(const char *path, const float *data, long frames, int channels, int rate, int format);

void amt_audio_free(amt_audio *a);

/* Streaming reader for long files: read blocks of frames with bounded memory. */
typedef struct amt_audio_reader amt_audio_reader;
/* Opens path; fills frames/channels/rate of info (info->data stays NULL). */
amt_audio_reader *amt_audio_open(const char *path, amt_audio *info);
/* Reads up to max_frames interleaved frames into buf; returns frames read (0 at end) or
 * a negative error code. */
long amt_audio_read_block(amt_audio_reader *r, float *buf, long max_frames);
void amt_audio_close(amt_audio_reader *r);

#endif
