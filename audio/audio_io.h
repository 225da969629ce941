/* audio/audio_io.h: reading and writing sound files with libsndfile 1.2 (Debian 12).
 * Samples are float in [-1, 1], interleaved by frame (frame f, channel c at
 * data[f * channels + c]). Sample rates in Hz; lengths in frames.
 * Readable: everything libsndfile reads (WAV PCM 8/16/24/32 and float/double, WAVEX, RF64,
 * W64, AIFF, AU, FLAC, OGG/Vorbis, OGG/Opus, MP3, ...). Writable here: WAV (PCM16 clipped, or
 * float), and by amt_audio_write any format libsndfile writes (FLAC, OGG/Vorbis, Opus at
 * 8/12/16/24/48 kHz, MP3, WAV PCM24). Every error message names the file. */
#ifndef AMT_AUDIO_IO_H
#define AMT_AUDIO_IO_H

#include <stddef.h>

typedef struct amt_audio {
    float *data;      /* frames * channels interleaved samples, owned (amt_audio_free) */
    long frames;
    int channels;
    int rate;         /* Hz */
} amt_audio;

/* Frames per block of the streaming reads inside amt_audio_read/_read_mono. */
#define AMT_AUDIO_BLOCK 65536

/* Reads a whole file of any format libsndfile reads (WAV incl. 24-bit/float, FLAC,
 * OGG/Vorbis, Opus, MP3). Errors name the file: missing (AMT_EIO), not audio (AMT_EFORMAT),
 * truncated WAV (data chunk larger than the file, found by walking the RIFF chunks, since
 * libsndfile silently reads what is there), truncated lossless file (FLAC, AIFF, ...: fewer
 * frames decoded than the header says), empty (0 frames), NaN/Inf samples (all AMT_EFORMAT).
 * A truncated OGG/Opus fails to open; a truncated MP3 either fails with a decode error or
 * yields the frames before the cut (MP3/OGG frame counts can be estimates, so no check).
 * Memory: the float samples (4 bytes x frames x channels) plus one block. */
int amt_audio_read(const char *path, amt_audio *out);
/* Reads a file and returns one channel (channel >= 0) or the mean of all channels
 * (channel = -1) as a malloc'd mono signal (caller frees), resampled to `rate` Hz (rate 0
 * keeps the file's rate, returned in *rate_out when non-NULL). Streams in blocks: memory is
 * the mono output plus O(block). */
int amt_audio_read_mono(const char *path, int channel, int rate, float **out, long *frames, int *rate_out);

enum { AMT_WAV_PCM16 = 0, AMT_WAV_FLOAT = 1 };
/* Writes interleaved samples as WAV (16-bit PCM, clipped to [-1, 1], or 32-bit float),
 * through a temporary file in the same folder renamed into place. NaN/Inf samples are
 * refused (AMT_EINVAL) and no file is written. */
int amt_audio_write_wav(const char *path, const float *data, long frames, int channels, int rate, int format);
/* Same with a libsndfile format code (SF_FORMAT_* major | subtype), or 0 to choose from the
 * extension: .wav PCM16, .flac PCM16, .ogg Vorbis, .opus Opus, .mp3 MPEG layer III. */
int amt_audio_write(const char *path, const float *data, long frames, int channels, int rate, int sf_format);

void amt_audio_free(amt_audio *a);

/* Writes the distinct file extensions of the container formats this libsndfile reads, comma
 * separated, as libsndfile names them (1.2.0: "aiff,au,...,flac,...,m1a,...,oga,...,wav,..."; m1a =
 * MPEG audio incl. .mp3, oga = OGG incl. .ogg/.opus), into buf (size n, always terminated);
 * returns the number of major formats. */
int amt_audio_formats(char *buf, size_t n);

/* Streaming reader for long files: read blocks of frames with bounded memory. */
typedef struct amt_audio_reader amt_audio_reader;
/* Opens path (same checks as amt_audio_read, except NaN which read_block detects); fills
 * frames/channels/rate of info (info->data stays NULL). NULL on error (amt_errmsg). */
amt_audio_reader *amt_audio_open(const char *path, amt_audio *info);
/* Reads up to max_frames interleaved frames into buf (max_frames * channels floats);
 * returns frames read (0 at end) or a negative error code (e.g. NaN/Inf, naming the file
 * and the frame). */
long amt_audio_read_block(amt_audio_reader *r, float *buf, long max_frames);
void amt_audio_close(amt_audio_reader *r);

#endif
