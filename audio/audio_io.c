/* audio/audio_io.c: libsndfile reading/writing (see audio_io.h). */
#include "audio/audio_io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/resample.h"
#include "core/error.h"

#define WRITE_BLOCK 4096   /* frames converted per write call */
/* Header frame counts above this (e.g. SF_COUNT_MAX for "unknown") are not trusted for
 * pre-allocation: buffers then start at one block and grow. 2^32 frames = 27 h at 44.1 kHz. */
#define MAX_TRUSTED_FRAMES (1L << 32)

static long frames_hint(long frames) { return frames > 0 && frames <= MAX_TRUSTED_FRAMES ? frames : AMT_AUDIO_BLOCK; }

struct amt_audio_reader {
    SNDFILE *sf;
    SF_INFO info;
    long pos;              /* frames read so far */
    int exact;             /* header frame count is exact (lossless formats): a shortfall is an error */
    char path[];
};

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* RIFF/WAVE: libsndfile silently reads a truncated file (data chunk size larger than what
 * follows) with fewer frames. We walk the chunks and compare. Returns 0 if fine/unknown. */
static int check_wav_truncated(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char h[12];
    int rc = 0;
    if (fread(h, 1, 12, f) == 12 && !memcmp(h, "RIFF", 4) && !memcmp(h + 8, "WAVE", 4)) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        long pos = 12;
        while (pos + 8 <= size) {
            unsigned char c[8];
            if (fseek(f, pos, SEEK_SET) || fread(c, 1, 8, f) != 8) break;
            uint32_t len = le32(c + 4);
            if (!memcmp(c, "data", 4)) {
                long avail = size - (pos + 8);
                if (len != 0 && len != 0xFFFFFFFFu && (long)len > avail)
                    rc = amt_error(AMT_EFORMAT, "%s: truncated WAV: data chunk says %lu bytes, file has %ld",
                                   path, (unsigned long)len, avail);
                break;
            }
            pos += 8 + (long)len + (len & 1);
        }
    }
    fclose(f);
    return rc;
}

amt_audio_reader *amt_audio_open(const char *path, amt_audio *info)
{
    if (!path) { amt_error(AMT_EINVAL, "audio: NULL path"); return NULL; }
    struct stat sb;
    if (stat(path, &sb) != 0) { amt_error(AMT_EIO, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    if (S_ISDIR(sb.st_mode)) { amt_error(AMT_EIO, "%s: is a directory, not an audio file", path); return NULL; }
    if (sb.st_size == 0) { amt_error(AMT_EFORMAT, "%s: empty file (0 bytes)", path); return NULL; }
    size_t plen = strlen(path);
    amt_audio_reader *r = calloc(1, sizeof *r + plen + 1);
    if (!r) { amt_error(AMT_ENOMEM, "%s: out of memory", path); return NULL; }
    memcpy(r->path, path, plen + 1);
    r->sf = sf_open(path, SFM_READ, &r->info);
    if (!r->sf) {
        amt_error(AMT_EFORMAT, "%s: not a readable audio file (libsndfile: %s)", path, sf_strerror(NULL));
        free(r);
        return NULL;
    }
    int major = r->info.format & SF_FORMAT_TYPEMASK;
    r->exact = major != SF_FORMAT_OGG && major != SF_FORMAT_MPEG;   /* lossy: counts may be estimates */
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) && check_wav_truncated(path)) {
        amt_audio_close(r);
        return NULL;
    }
    if (r->info.frames <= 0) {
        amt_error(AMT_EFORMAT, "%s: empty audio (0 frames)", path);
        amt_audio_close(r);
        return NULL;
    }
    if (r->info.channels < 1 || r->info.samplerate < 1) {
        amt_error(AMT_EFORMAT, "%s: bad header (%d channels, %d Hz)", path, r->info.channels, r->info.samplerate);
        amt_audio_close(r);
        return NULL;
    }
    if (info) {
        info->data = NULL;
        info->frames = (long)r->info.frames;
        info->channels = r->info.channels;
        info->rate = r->info.samplerate;
    }
    return r;
}

long amt_audio_read_block(amt_audio_reader *r, float *buf, long max_frames)
{
    if (!r || !buf || max_frames < 0) return amt_error(AMT_EINVAL, "audio: bad read_block arguments");
    sf_count_t n = sf_readf_float(r->sf, buf, max_frames);
    if (n < 0) return amt_error(AMT_EIO, "%s: read error: %s", r->path, sf_strerror(r->sf));
    if (n == 0 && sf_error(r->sf) != SF_ERR_NO_ERROR)
        return amt_error(AMT_EFORMAT, "%s: truncated or corrupt: decode error: %s", r->path, sf_strerror(r->sf));
    if (n == 0 && max_frames > 0 && r->exact && r->pos < (long)r->info.frames && r->info.frames <= MAX_TRUSTED_FRAMES)
        return amt_error(AMT_EFORMAT, "%s: truncated or corrupt: header says %ld frames, only %ld decoded", r->path,
                         (long)r->info.frames, r->pos);
    long ns = (long)n * r->info.channels;
    for (long i = 0; i < ns; i++)
        if (!isfinite(buf[i]))
            return amt_error(AMT_EFORMAT, "%s: non-finite sample (%s) at frame %ld channel %ld", r->path,
                             isnan(buf[i]) ? "NaN" : "Inf", r->pos + i / r->info.channels, i % r->info.channels);
    r->pos += (long)n;
    return (long)n;
}

void amt_audio_close(amt_audio_reader *r)
{
    if (!r) return;
    if (r->sf) sf_close(r->sf);
    free(r);
}

void amt_audio_free(amt_audio *a)
{
    if (!a) return;
    free(a->data);
    a->data = NULL;
    a->frames = 0;
}

int amt_audio_read(const char *path, amt_audio *out)
{
    memset(out, 0, sizeof *out);
    amt_audio info;
    amt_audio_reader *r = amt_audio_open(path, &info);
    if (!r) return amt_errcode();
    int ch = info.channels;
    /* The header's frame count sizes the buffer; grow if a decoder delivers more. */
    long cap = frames_hint(info.frames) + 1, n = 0;
    float *d = malloc(sizeof(float) * (size_t)cap * ch);
    if (!d) { amt_audio_close(r); return amt_error(AMT_ENOMEM, "%s: out of memory for %ld frames", path, cap); }
    for (;;) {
        if (n == cap) {
            long nc = cap + cap / 2 + AMT_AUDIO_BLOCK;
            float *nd = realloc(d, sizeof(float) * (size_t)nc * ch);
            if (!nd) { free(d); amt_audio_close(r); return amt_error(AMT_ENOMEM, "%s: out of memory", path); }
            d = nd; cap = nc;
        }
        long want = cap - n < AMT_AUDIO_BLOCK ? cap - n : AMT_AUDIO_BLOCK;
        long k = amt_audio_read_block(r, d + (size_t)n * ch, want);
        if (k < 0) { free(d); amt_audio_close(r); return (int)k; }
        if (k == 0) break;
        n += k;
    }
    amt_audio_close(r);
    if (n == 0) { free(d); return amt_error(AMT_EFORMAT, "%s: empty audio (0 frames decoded)", path); }
    out->data = d;
    out->frames = n;
    out->channels = ch;
    out->rate = info.rate;
    return AMT_OK;
}

/* Appends k frames of mono to a growing buffer. */
static int append(float **buf, long *n, long *cap, const float *src, long k, const char *path)
{
    if (*n + k > *cap) {
        long nc = *cap + *cap / 2 + k + AMT_AUDIO_BLOCK;
        float *nb = realloc(*buf, sizeof(float) * (size_t)nc);
        if (!nb) return amt_error(AMT_ENOMEM, "%s: out of memory", path);
        *buf = nb; *cap = nc;
    }
    memcpy(*buf + *n, src, sizeof(float) * (size_t)k);
    *n += k;
    return AMT_OK;
}

int amt_audio_read_mono(const char *path, int channel, int rate, float **out, long *frames, int *rate_out)
{
    *out = NULL;
    *frames = 0;
    if (rate < 0) return amt_error(AMT_EINVAL, "%s: bad target rate %d Hz", path, rate);
    amt_audio info;
    amt_audio_reader *r = amt_audio_open(path, &info);
    if (!r) return amt_errcode();
    int ch = info.channels, rc = AMT_OK;
    if (channel < -1 || channel >= ch) {
        amt_audio_close(r);
        return amt_error(AMT_EINVAL, "%s: channel %d requested, file has %d", path, channel, ch);
    }
    int target = rate ? rate : info.rate;
    amt_resampler *rs = NULL;
    if (target != info.rate && !(rs = amt_resampler_new(info.rate, target, 1))) { amt_audio_close(r); return amt_errcode(); }
    float *blk = malloc(sizeof(float) * (size_t)AMT_AUDIO_BLOCK * ch);
    float *mono = malloc(sizeof(float) * AMT_AUDIO_BLOCK);
    long rcap = rs ? amt_resample_len(info.rate, target, AMT_AUDIO_BLOCK) + 4 * AMT_AUDIO_BLOCK : 0;
    float *rbuf = rs ? malloc(sizeof(float) * (size_t)rcap) : NULL;
    long hint = frames_hint(info.frames);
    long cap = (rs ? amt_resample_len(info.rate, target, hint) : hint) + 16, n = 0;
    float *o = malloc(sizeof(float) * (size_t)cap);
    if (!blk || !mono || !o || (rs && !rbuf)) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", path); goto done; }
    for (;;) {
        long k = amt_audio_read_block(r, blk, AMT_AUDIO_BLOCK);
        if (k < 0) { rc = (int)k; goto done; }
        if (k == 0) break;
        if (channel >= 0) {
            for (long i = 0; i < k; i++) mono[i] = blk[(size_t)i * ch + channel];
        } else {
            float inv = 1.0f / (float)ch;
            for (long i = 0; i < k; i++) {
                float s = 0.0f;
                for (int c = 0; c < ch; c++) s += blk[(size_t)i * ch + c];
                mono[i] = s * inv;
            }
        }
        if (!rs) { if ((rc = append(&o, &n, &cap, mono, k, path))) goto done; continue; }
        long used = 0;
        while (used < k) {
            long u = 0;
            long m = amt_resampler_process(rs, mono + used, k - used, &u, rbuf, rcap);
            if (m < 0) { rc = (int)m; goto done; }
            if ((rc = append(&o, &n, &cap, rbuf, m, path))) goto done;
            used += u;
            if (m == 0 && u == 0) { rc = amt_error(AMT_EINTERNAL, "%s: resampler stalled", path); goto done; }
        }
    }
    if (rs) {
        long m;
        while ((m = amt_resampler_flush(rs, rbuf, rcap)) > 0)
            if ((rc = append(&o, &n, &cap, rbuf, m, path))) goto done;
        if (m < 0) { rc = (int)m; goto done; }
    }
    if (n == 0) { rc = amt_error(AMT_EFORMAT, "%s: empty audio (0 frames decoded)", path); goto done; }
done:
    amt_audio_close(r);
    amt_resampler_del(rs);
    free(blk); free(mono); free(rbuf);
    if (rc) { free(o); return rc; }
    *out = o;
    *frames = n;
    if (rate_out) *rate_out = target;
    return AMT_OK;
}

int amt_audio_formats(char *buf, size_t n)
{
    int count = 0;
    sf_command(NULL, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    size_t used = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < count; i++) {
        SF_FORMAT_INFO fi = { 0 };
        fi.format = i;
        if (sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi) != 0 || !fi.extension) continue;
        int dup = 0;   /* several majors share "wav", "mat" */
        for (int j = 0; j < i && !dup; j++) {
            SF_FORMAT_INFO fj = { 0 };
            fj.format = j;
            dup = sf_command(NULL, SFC_GET_FORMAT_MAJOR, &fj, sizeof fj) == 0 && fj.extension && !strcmp(fj.extension, fi.extension);
        }
        if (dup) continue;
        int w = snprintf(buf + used, used < n ? n - used : 0, "%s%s", used ? "," : "", fi.extension);
        if (w > 0) used += (size_t)w;
    }
    if (n && used >= n) buf[n - 1] = '\0';
    return count;
}

static int format_from_ext(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return 0;
    if (!strcasecmp(dot, ".wav")) return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    if (!strcasecmp(dot, ".flac")) return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    if (!strcasecmp(dot, ".ogg") || !strcasecmp(dot, ".oga")) return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    if (!strcasecmp(dot, ".opus")) return SF_FORMAT_OGG | SF_FORMAT_OPUS;
    if (!strcasecmp(dot, ".mp3")) return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    return 0;
}

int amt_audio_write(const char *path, const float *data, long frames, int channels, int rate, int sf_format)
{
    if (!path) return amt_error(AMT_EINVAL, "audio: NULL path");
    if (frames < 0 || channels < 1 || rate < 1 || (!data && frames > 0))
        return amt_error(AMT_EINVAL, "%s: bad write arguments (%ld frames, %d channels, %d Hz)", path, frames, channels, rate);
    if (!sf_format && !(sf_format = format_from_ext(path)))
        return amt_error(AMT_EINVAL, "%s: cannot tell the format from the extension", path);
    long ns = frames * channels;
    for (long i = 0; i < ns; i++)
        if (!isfinite(data[i]))
            return amt_error(AMT_EINVAL, "%s: refusing to write non-finite sample at frame %ld", path, i / channels);
    SF_INFO si = { 0 };
    si.samplerate = rate;
    si.channels = channels;
    si.format = sf_format;
    if ((sf_format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS && rate != 8000 && rate != 12000 && rate != 16000 &&
        rate != 24000 && rate != 48000)
        return amt_error(AMT_EINVAL, "%s: cannot write format Opus at %d Hz (8, 12, 16, 24 or 48 kHz only)", path, rate);
    if (!sf_format_check(&si))
        return amt_error(AMT_EINVAL, "%s: libsndfile cannot write format 0x%x at %d Hz, %d channels", path, sf_format, rate, channels);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return amt_error(AMT_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) { int e = errno; free(tmp); return amt_error(AMT_EIO, "%s: cannot create temporary file: %s", path, strerror(e)); }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um)) { /* keep mkstemp's 0600 */ }
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &si, 1);
    if (!sf) {             /* libsndfile closed fd already (close_desc = 1) */
        unlink(tmp);
        free(tmp);
        return amt_error(AMT_EIO, "%s: cannot write: %s", path, sf_strerror(NULL));
    }
    int sub = sf_format & SF_FORMAT_SUBMASK;
    int clip = sub != SF_FORMAT_FLOAT && sub != SF_FORMAT_DOUBLE;
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    float buf[WRITE_BLOCK];
    int rc = AMT_OK;
    long per = WRITE_BLOCK / channels > 0 ? WRITE_BLOCK / channels : 0;
    for (long f = 0; f < frames && per > 0;) {
        long k = frames - f < per ? frames - f : per;
        const float *src = data + (size_t)f * channels;
        for (long i = 0; i < k * channels; i++) {
            float v = src[i];
            if (clip) v = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
            buf[i] = v;
        }
        if (sf_writef_float(sf, buf, k) != k) { rc = amt_error(AMT_EIO, "%s: write failed: %s", path, sf_strerror(sf)); break; }
        f += k;
    }
    if (per == 0) rc = amt_error(AMT_EINVAL, "%s: too many channels (%d)", path, channels);
    if (sf_close(sf) != 0 && !rc) rc = amt_error(AMT_EIO, "%s: close failed", path);
    if (!rc && rename(tmp, path) != 0) rc = amt_error(AMT_EIO, "%s: cannot rename temporary file: %s", path, strerror(errno));
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

int amt_audio_write_wav(const char *path, const float *data, long frames, int channels, int rate, int format)
{
    if (format != AMT_WAV_PCM16 && format != AMT_WAV_FLOAT)
        return amt_error(AMT_EINVAL, "%s: unknown WAV format %d", path ? path : "(null)", format);
    return amt_audio_write(path, data, frames, channels, rate,
                           SF_FORMAT_WAV | (format == AMT_WAV_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16));
}
