/* audio/midi.c: Standard MIDI File reader/writer (see midi.h for why not libsmf). */
#include "midi.h"

#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TICK ((int64_t)1 << 40)   /* absolute ticks beyond this are garbage */
#define MAX_OPEN_PER_KEY 4096         /* open notes of one channel+pitch beyond this: garbage */
#define NKEYS (16 * 128)

typedef unsigned __int128 u128;

/* ---------------------------------------------------------------- reading */

typedef struct ev {
    int64_t tick;
    int64_t seq;        /* global parse order: track-major, then file order */
    int track;
    uint8_t status;     /* channel message status byte 0x80..0xEF */
    uint8_t d1, d2;
} ev;

typedef struct tempo_ev { int64_t tick, seq; uint32_t uspq; } tempo_ev;

typedef struct parser {
    const char *name;
    const uint8_t *base;
    ev *evs; size_t nev, cap;
    tempo_ev *tempos; size_t ntempo, tcap;
    int64_t *track_end; int ntracks, track_cap;
    int64_t seq;
} parser;

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 1024;
    while (c < need) c *= 2;
    void *n = realloc(*v, c * elem);
    if (!n) return -1;
    *v = n; *cap = c;
    return 0;
}

/* Variable-length quantity, at most 4 bytes. 0 ok, -1 truncated, -2 too long. */
static int read_vlq(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    const uint8_t *p = *pp;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        v = (v << 7) | (b & 0x7F);
        if (!(b & 0x80)) { *pp = p; *out = v; return 0; }
    }
    return -2;
}

static int vlq_error(parser *ps, int track, const uint8_t *p, int r, const char *what)
{
    return amt_error(AMT_EFORMAT, "%s: track %d: %s at byte %ld", ps->name, track,
                     r == -1 ? "truncated" : what, (long)(p - ps->base));
}

static int parse_track(parser *ps, int track, const uint8_t *p, const uint8_t *end)
{
    int64_t tick = 0;
    uint8_t running = 0;
    while (p < end) {
        uint32_t delta;
        int r = read_vlq(&p, end, &delta);
        if (r) return vlq_error(ps, track, p, r, "delta time longer than 4 bytes");
        tick += delta;
        if (tick > MAX_TICK) return amt_error(AMT_EFORMAT, "%s: track %d: absurd time (tick %lld)", ps->name, track, (long long)tick);
        if (p >= end) return amt_error(AMT_EFORMAT, "%s: track %d: truncated at byte %ld", ps->name, track, (long)(p - ps->base));
        uint8_t status = *p;
        if (status & 0x80) p++;
        else if (running) status = running;
        else return amt_error(AMT_EFORMAT, "%s: track %d: data byte 0x%02X without running status at byte %ld",
                              ps->name, track, status, (long)(p - ps->base));
        if (status < 0xF0) {
            running = status;
            int nd = ((status & 0xF0) == 0xC0 || (status & 0xF0) == 0xD0) ? 1 : 2;
            if (end - p < nd) return amt_error(AMT_EFORMAT, "%s: track %d: truncated at byte %ld", ps->name, track, (long)(p - ps->base));
            for (int i = 0; i < nd; i++)
                if (p[i] & 0x80) return amt_error(AMT_EFORMAT, "%s: track %d: data byte 0x%02X >= 0x80 at byte %ld",
                                                  ps->name, track, p[i], (long)(p + i - ps->base));
            if (grow((void **)&ps->evs, &ps->cap, ps->nev + 1, sizeof(ev))) return amt_error(AMT_ENOMEM, "%s: out of memory", ps->name);
            ev *e = &ps->evs[ps->nev++];
            e->tick = tick; e->seq = ps->seq++; e->track = track; e->status = status;
            e->d1 = p[0]; e->d2 = nd == 2 ? p[1] : 0;
            p += nd;
        } else if (status == 0xFF) {
            if (p >= end) return amt_error(AMT_EFORMAT, "%s: track %d: truncated at byte %ld", ps->name, track, (long)(p - ps->base));
            uint8_t type = *p++;
            uint32_t len;
            r = read_vlq(&p, end, &len);
            if (r) return vlq_error(ps, track, p, r, "meta length longer than 4 bytes");
            if ((size_t)(end - p) < len)
                return amt_error(AMT_EFORMAT, "%s: track %d: meta event 0x%02X of %u bytes truncated at byte %ld",
                                 ps->name, track, type, len, (long)(p - ps->base));
            if (type == 0x2F) { p = end; break; }   /* end of track */
            if (type == 0x51) {
                if (len < 3) return amt_error(AMT_EFORMAT, "%s: track %d: tempo event of %u bytes at byte %ld", ps->name, track, len, (long)(p - ps->base));
                uint32_t uspq = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
                if (uspq == 0) return amt_error(AMT_EFORMAT, "%s: track %d: tempo 0 at byte %ld", ps->name, track, (long)(p - ps->base));
                if (grow((void **)&ps->tempos, &ps->tcap, ps->ntempo + 1, sizeof(tempo_ev)))
                    return amt_error(AMT_ENOMEM, "%s: out of memory", ps->name);
                tempo_ev *t = &ps->tempos[ps->ntempo++];
                t->tick = tick; t->seq = ps->seq++; t->uspq = uspq;
            }
            p += len;
        } else if (status == 0xF0 || status == 0xF7) {
            uint32_t len;
            r = read_vlq(&p, end, &len);
            if (r) return vlq_error(ps, track, p, r, "sysex length longer than 4 bytes");
            if ((size_t)(end - p) < len)
                return amt_error(AMT_EFORMAT, "%s: track %d: sysex of %u bytes truncated at byte %ld", ps->name, track, len, (long)(p - ps->base));
            p += len;
        } else {
            return amt_error(AMT_EFORMAT, "%s: track %d: unexpected status byte 0x%02X at byte %ld",
                             ps->name, track, status, (long)(p - 1 - ps->base));
        }
    }
    ps->track_end[track] = tick;
    return AMT_OK;
}

static int ev_cmp(const void *pa, const void *pb)
{
    const ev *a = pa, *b = pb;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int tempo_cmp(const void *pa, const void *pb)
{
    const tempo_ev *a = pa, *b = pb;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Tempo map: segment k starts at tick t[k] with accumulated numerator N[k] = sum of
 * dt * uspq over earlier segments; seconds = N / (1e6 * tpq). */
typedef struct tempo_map {
    int smpte;                 /* 1: SMPTE division, seconds = tick * num / den */
    uint64_t num, den;         /* SMPTE: seconds per tick = num / den */
    int tpq;
    int64_t *t; u128 *N; uint32_t *uspq; size_t n;
} tempo_map;

static double tick_seconds(const tempo_map *m, int64_t tick)
{
    u128 N, D;
    if (m->smpte) { N = (u128)tick * m->num; D = m->den; }
    else {
        size_t lo = 0, hi = m->n;   /* last segment with t <= tick */
        while (hi - lo > 1) { size_t mid = (lo + hi) / 2; if (m->t[mid] <= tick) lo = mid; else hi = mid; }
        N = m->N[lo] + (u128)(tick - m->t[lo]) * m->uspq[lo];
        D = (u128)1000000 * (u128)m->tpq;
    }
    u128 q = N / D, r = N % D;
    return (double)q + (double)r / (double)D;
}

typedef struct act {
    int64_t on;
    int track, next;
    uint8_t vel, prog, sustained;
} act;

typedef struct note_state {
    act *pool; size_t npool, pcap;
    int free_head;
    int head[NKEYS], tail[NKEYS], count[NKEYS];
} note_state;

static int emit(const tempo_map *m, int chan, int pitch, const act *a, int64_t off, const amt_midi_read_opts *o, amt_notes *out)
{
    if (off <= a->on) return AMT_OK;   /* zero-length: dropped */
    if (chan == 9 && o->skip_drums) return AMT_OK;
    amt_note n = amt_note_make(tick_seconds(m, a->on), tick_seconds(m, off), pitch);
    n.velocity = a->vel;
    n.program = chan == 9 ? AMT_PROGRAM_DRUMS : a->prog;
    n.channel = chan; n.track = a->track;
    return amt_notes_push(out, &n);
}

/* Removes entry idx (with predecessor prev, -1 for head) from key's list. */
static void unlink_act(note_state *s, int key, int prev, int idx)
{
    int nx = s->pool[idx].next;
    if (prev < 0) s->head[key] = nx; else s->pool[prev].next = nx;
    if (s->tail[key] == idx) s->tail[key] = prev;
    s->count[key]--;
    s->pool[idx].next = s->free_head;
    s->free_head = idx;
}

/* Ends every note of `key` that is sustained (and of `track` when track >= 0). */
static int end_sustained(note_state *s, const tempo_map *m, int key, int track, int64_t tick,
                         const amt_midi_read_opts *o, amt_notes *out)
{
    int prev = -1, i = s->head[key];
    while (i >= 0) {
        int nx = s->pool[i].next;
        if (s->pool[i].sustained && (track < 0 || s->pool[i].track == track)) {
            int rc = emit(m, key / 128, key % 128, &s->pool[i], tick, o, out);
            if (rc) return rc;
            unlink_act(s, key, prev, i);
        } else prev = i;
        i = nx;
    }
    return AMT_OK;
}

static int derive_notes(parser *ps, const tempo_map *m, const amt_midi_read_opts *o, amt_notes *out)
{
    note_state *s = calloc(1, sizeof *s);
    if (!s) return amt_error(AMT_ENOMEM, "%s: out of memory", ps->name);
    for (int k = 0; k < NKEYS; k++) s->head[k] = s->tail[k] = -1;
    s->free_head = -1;
    uint8_t program[16] = {0}, pedal[16] = {0};
    int rc = AMT_OK;
    for (size_t i = 0; i < ps->nev && rc == AMT_OK; i++) {
        const ev *e = &ps->evs[i];
        int hi = e->status & 0xF0, ch = e->status & 0x0F;
        if (hi == 0x90 && e->d2 > 0) {
            int key = ch * 128 + e->d1;
            if (o->sustain && (rc = end_sustained(s, m, key, e->track, e->tick, o, out))) break;
            if (s->count[key] >= MAX_OPEN_PER_KEY) {
                rc = amt_error(AMT_EFORMAT, "%s: more than %d overlapping notes of pitch %d on channel %d",
                               ps->name, MAX_OPEN_PER_KEY, e->d1, ch + 1);
                break;
            }
            int idx;
            if (s->free_head >= 0) { idx = s->free_head; s->free_head = s->pool[idx].next; }
            else {
                if (grow((void **)&s->pool, &s->pcap, s->npool + 1, sizeof(act))) { rc = amt_error(AMT_ENOMEM, "%s: out of memory", ps->name); break; }
                idx = (int)s->npool++;
            }
            act *a = &s->pool[idx];
            a->on = e->tick; a->track = e->track; a->next = -1; a->vel = e->d2; a->prog = program[ch]; a->sustained = 0;
            if (s->tail[key] >= 0) s->pool[s->tail[key]].next = idx; else s->head[key] = idx;
            s->tail[key] = idx;
            s->count[key]++;
        } else if (hi == 0x80 || hi == 0x90) {
            int key = ch * 128 + e->d1, prev = -1, j = s->head[key];
            while (j >= 0 && (s->pool[j].track != e->track || s->pool[j].sustained)) { prev = j; j = s->pool[j].next; }
            if (j < 0) continue;   /* stray note-off */
            if (o->sustain && pedal[ch]) s->pool[j].sustained = 1;
            else {
                if ((rc = emit(m, ch, e->d1, &s->pool[j], e->tick, o, out))) break;
                unlink_act(s, key, prev, j);
            }
        } else if (hi == 0xB0 && e->d1 == AMT_MIDI_SUSTAIN_CC) {
            int down = e->d2 >= 64;
            if (pedal[ch] && !down && o->sustain)
                for (int p = 0; p < 128 && rc == AMT_OK; p++) rc = end_sustained(s, m, ch * 128 + p, -1, e->tick, o, out);
            pedal[ch] = (uint8_t)down;
        } else if (hi == 0xC0) {
            program[ch] = e->d1;
        }
    }
    /* notes still sounding end at their track's last tick */
    for (int k = 0; k < NKEYS && rc == AMT_OK; k++)
        for (int j = s->head[k]; j >= 0 && rc == AMT_OK; j = s->pool[j].next)
            rc = emit(m, k / 128, k % 128, &s->pool[j], ps->track_end[s->pool[j].track], o, out);
    free(s->pool);
    free(s);
    return rc;
}

int amt_midi_parse(const unsigned char *buf, size_t len, const char *name, const amt_midi_read_opts *opt,
                   amt_notes *out, amt_midi_info *info)
{
    amt_notes_init(out);
    amt_midi_read_opts o = {0};
    if (opt) o = *opt;
    if (!name) name = "(memory)";
    if (!buf || len == 0) return amt_error(AMT_EFORMAT, "%s: empty file, not a MIDI file", name);
    const uint8_t *base = buf, *end = buf + len;
    /* RIFF RMID wrapper: use its "data" chunk */
    if (len >= 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "RMID", 4)) {
        const uint8_t *p = buf + 12;
        while (end - p >= 8 && memcmp(p, "data", 4)) {
            uint32_t cl = le32(p + 4);
            if ((size_t)(end - p - 8) < cl) break;
            p += 8 + cl + (cl & 1);
        }
        if (end - p < 8 || memcmp(p, "data", 4)) return amt_error(AMT_EFORMAT, "%s: RIFF MIDI without a data chunk", name);
        uint32_t cl = le32(p + 4);
        if ((size_t)(end - p - 8) < cl) return amt_error(AMT_EFORMAT, "%s: RIFF MIDI data chunk truncated", name);
        base = p + 8; end = base + cl; len = cl;
    }
    if (len < 14 || memcmp(base, "MThd", 4))
        return amt_error(AMT_EFORMAT, "%s: not a MIDI file (no MThd header)", name);
    uint32_t hlen = be32(base + 4);
    if (hlen < 6 || hlen > len - 8) return amt_error(AMT_EFORMAT, "%s: bad MThd header length %u", name, hlen);
    unsigned format = be16(base + 8), ntrks = be16(base + 10), division = be16(base + 12);
    if (format > 2) return amt_error(AMT_EFORMAT, "%s: unknown MIDI format %u", name, format);
    if (ntrks == 0) return amt_error(AMT_EFORMAT, "%s: header declares no tracks", name);
    if (division == 0) return amt_error(AMT_EFORMAT, "%s: division (ticks per quarter) is 0", name);
    tempo_map m = {0};
    if (division & 0x8000) {
        int fps = -(int)(int8_t)(division >> 8), tpf = (int)(division & 0xFF);
        if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || tpf == 0)
            return amt_error(AMT_EFORMAT, "%s: bad SMPTE division %d fps x %d", name, fps, tpf);
        m.smpte = 1;
        if (fps == 29) { m.num = 1001; m.den = (uint64_t)30000 * (uint64_t)tpf; }
        else { m.num = 1; m.den = (uint64_t)fps * (uint64_t)tpf; }
    }
    m.tpq = (int)division;

    parser ps = {0};
    ps.name = name; ps.base = base;
    ps.track_end = calloc(ntrks, sizeof(int64_t));
    if (!ps.track_end) return amt_error(AMT_ENOMEM, "%s: out of memory", name);
    int rc = AMT_OK;
    const uint8_t *p = base + 8 + hlen;
    unsigned found = 0;
    while (found < ntrks) {
        if (end - p < 8) {
            rc = amt_error(AMT_EFORMAT, "%s: header declares %u tracks, found %u (file truncated at byte %ld?)",
                           name, ntrks, found, (long)(end - base));
            break;
        }
        uint32_t cl = be32(p + 4);
        if ((size_t)(end - p - 8) < cl) {
            rc = amt_error(AMT_EFORMAT, "%s: chunk '%.4s' of %u bytes at byte %ld truncated (%ld bytes left)",
                           name, (const char *)p, cl, (long)(p - base), (long)(end - p - 8));
            break;
        }
        if (!memcmp(p, "MTrk", 4)) {
            if ((rc = parse_track(&ps, (int)found, p + 8, p + 8 + cl)) != AMT_OK) break;
            found++;
        }
        p += 8 + cl;
    }
    if (rc == AMT_OK) {
        if (ps.nev > 1) qsort(ps.evs, ps.nev, sizeof(ev), ev_cmp);
        if (ps.ntempo > 1) qsort(ps.tempos, ps.ntempo, sizeof(tempo_ev), tempo_cmp);
        size_t ns = 1 + ps.ntempo;
        m.t = malloc(ns * sizeof *m.t); m.N = malloc(ns * sizeof *m.N); m.uspq = malloc(ns * sizeof *m.uspq);
        if (!m.t || !m.N || !m.uspq) rc = amt_error(AMT_ENOMEM, "%s: out of memory", name);
        else {
            m.t[0] = 0; m.N[0] = 0; m.uspq[0] = AMT_MIDI_DEFAULT_TEMPO; m.n = 1;
            for (size_t i = 0; i < ps.ntempo; i++) {
                const tempo_ev *t = &ps.tempos[i];
                size_t k = m.n - 1;
                if (t->tick == m.t[k]) { m.uspq[k] = t->uspq; continue; }  /* same tick: last wins */
                m.t[m.n] = t->tick;
                m.N[m.n] = m.N[k] + (u128)(t->tick - m.t[k]) * m.uspq[k];
                m.uspq[m.n] = t->uspq;
                m.n++;
            }
            rc = derive_notes(&ps, &m, &o, out);
        }
    }
    if (rc == AMT_OK) {
        amt_notes_sort(out);
        if (info) {
            info->format = (int)format; info->ntracks = (int)found; info->division = (int)division;
            info->tempo_changes = (int)ps.ntempo; info->events = (long)ps.nev;
            int64_t last = 0;
            for (unsigned t = 0; t < found; t++) if (ps.track_end[t] > last) last = ps.track_end[t];
            info->duration = tick_seconds(&m, last);
        }
    } else {
        amt_notes_free(out);
    }
    free(m.t); free(m.N); free(m.uspq);
    free(ps.evs); free(ps.tempos); free(ps.track_end);
    return rc;
}

int amt_midi_read(const char *path, const amt_midi_read_opts *opt, amt_notes *out, amt_midi_info *info)
{
    amt_notes_init(out);
    FILE *f = fopen(path, "rb");
    if (!f) return amt_error(AMT_EIO, "%s: cannot open (%s)", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return amt_error(AMT_EIO, "%s: cannot seek", path); }
    long sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return amt_error(AMT_EIO, "%s: cannot seek", path); }
    if (sz > AMT_MIDI_MAX_FILE_BYTES) { fclose(f); return amt_error(AMT_EFORMAT, "%s: %ld bytes is too large for a MIDI file", path, sz); }
    unsigned char *buf = malloc(sz ? (size_t)sz : 1);
    if (!buf) { fclose(f); return amt_error(AMT_ENOMEM, "%s: out of memory", path); }
    size_t got = fread(buf, 1, (size_t)sz, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != (size_t)sz) { free(buf); return amt_error(AMT_EIO, "%s: read error", path); }
    int rc = amt_midi_parse(buf, got, path, opt, out, info);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- writing */

typedef struct bytes { unsigned char *p; size_t n, cap; int oom; } bytes;

static void put(bytes *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (grow((void **)&b->p, &b->cap, b->n + n, 1)) { b->oom = 1; return; }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put1(bytes *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put_be32(bytes *b, uint32_t v) { unsigned char c[4] = {v >> 24, v >> 16, v >> 8, v}; put(b, c, 4); }
static void put_be16(bytes *b, unsigned v) { unsigned char c[2] = {v >> 8, v}; put(b, c, 2); }
static void put_vlq(bytes *b, uint32_t v)
{
    unsigned char c[5];
    int n = 0;
    c[4 - n++] = v & 0x7F;
    while ((v >>= 7)) c[4 - n++] = (unsigned char)(0x80 | (v & 0x7F));
    put(b, c + 5 - n, (size_t)n);
}

typedef struct wev { int64_t tick; int on, pitch, vel; } wev;

static int wev_cmp(const void *pa, const void *pb)
{
    const wev *a = pa, *b = pb;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    if (a->on != b->on) return a->on - b->on;            /* note-offs first */
    if (a->pitch != b->pitch) return a->pitch - b->pitch;
    return a->vel - b->vel;
}

int amt_midi_encode(const amt_notes *ns, const amt_midi_write_opts *opt, unsigned char **buf, size_t *len)
{
    *buf = NULL; *len = 0;
    int tpq = opt && opt->tpq ? opt->tpq : AMT_MIDI_DEFAULT_TPQ;
    int tempo = opt && opt->tempo ? opt->tempo : AMT_MIDI_DEFAULT_TEMPO;
    if (tpq < 1 || tpq > 0x7FFF) return amt_error(AMT_EINVAL, "midi write: ticks per quarter %d outside 1..32767", tpq);
    if (tempo < 1 || tempo > 0xFFFFFF) return amt_error(AMT_EINVAL, "midi write: tempo %d us/quarter outside 1..16777215", tempo);
    int rc = amt_notes_validate(ns, "midi write");
    if (rc) return rc;
    int present[129] = {0};
    for (int i = 0; i < ns->n; i++) {
        int pg = ns->v[i].program < 0 ? 0 : ns->v[i].program;
        if (pg > 128) return amt_error(AMT_EINVAL, "midi write: note %d: program %d outside 0..128", i, ns->v[i].program);
        present[pg] = 1;
    }
    int ninst = 0;
    for (int pg = 0; pg <= 128; pg++) ninst += present[pg];
    double ticks_per_sec = (double)tpq * 1e6 / (double)tempo;

    bytes b = {0};
    put(&b, "MThd", 4); put_be32(&b, 6); put_be16(&b, 1); put_be16(&b, (unsigned)(1 + ninst)); put_be16(&b, (unsigned)tpq);
    /* track 0: tempo */
    put(&b, "MTrk", 4); put_be32(&b, 11);
    put1(&b, 0); put1(&b, 0xFF); put1(&b, 0x51); put1(&b, 3);
    put1(&b, (unsigned)tempo >> 16 & 0xFF); put1(&b, (unsigned)tempo >> 8 & 0xFF); put1(&b, (unsigned)tempo & 0xFF);
    put1(&b, 0); put1(&b, 0xFF); put1(&b, 0x2F); put1(&b, 0);

    wev *w = malloc((size_t)(2 * ns->n + 1) * sizeof *w);
    if (!w) { free(b.p); return amt_error(AMT_ENOMEM, "midi write: out of memory"); }
    static const int melodic_ch[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15};
    int inst = 0;
    for (int pg = 0; pg <= 128 && rc == AMT_OK; pg++) {
        if (!present[pg]) continue;
        int ch = pg == AMT_PROGRAM_DRUMS ? 9 : melodic_ch[inst++ % 15];
        size_t nw = 0;
        for (int i = 0; i < ns->n; i++) {
            const amt_note *n = &ns->v[i];
            if ((n->program < 0 ? 0 : n->program) != pg) continue;
            double on = floor(n->onset * ticks_per_sec + 0.5), off = floor(n->offset * ticks_per_sec + 0.5);
            if (off > (double)INT32_MAX) { rc = amt_error(AMT_EINVAL, "midi write: note %d: offset %g s too late", i, n->offset); break; }
            if (off <= on) off = on + 1;
            int vel = n->velocity < 1 ? 1 : n->velocity > 127 ? 127 : n->velocity;
            w[nw++] = (wev){(int64_t)on, 1, n->pitch, vel};
            w[nw++] = (wev){(int64_t)off, 0, n->pitch, 0};
        }
        if (rc) break;
        qsort(w, nw, sizeof *w, wev_cmp);
        put(&b, "MTrk", 4);
        size_t len_at = b.n;
        put_be32(&b, 0);
        if (pg != AMT_PROGRAM_DRUMS) { put1(&b, 0); put1(&b, 0xC0 | (unsigned)ch); put1(&b, (unsigned)pg); }
        int64_t t = 0;
        unsigned running = 0;
        for (size_t k = 0; k < nw; k++) {
            put_vlq(&b, (uint32_t)(w[k].tick - t));
            t = w[k].tick;
            unsigned st = (w[k].on ? 0x90u : 0x80u) | (unsigned)ch;
            if (st != running) { put1(&b, st); running = st; }
            put1(&b, (unsigned)w[k].pitch); put1(&b, w[k].on ? (unsigned)w[k].vel : 0x40u);
        }
        put1(&b, 0); put1(&b, 0xFF); put1(&b, 0x2F); put1(&b, 0);
        if (!b.oom) {
            uint32_t tl = (uint32_t)(b.n - len_at - 4);
            unsigned char c[4] = {tl >> 24, tl >> 16, tl >> 8, tl};
            memcpy(b.p + len_at, c, 4);
        }
    }
    free(w);
    if (rc == AMT_OK && b.oom) rc = amt_error(AMT_ENOMEM, "midi write: out of memory");
    if (rc) { free(b.p); return rc; }
    *buf = b.p; *len = b.n;
    return AMT_OK;
}

int amt_midi_write(const char *path, const amt_notes *ns, const amt_midi_write_opts *opt)
{
    unsigned char *buf;
    size_t len;
    int rc = amt_midi_encode(ns, opt, &buf, &len);
    if (rc) return rc;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) { free(buf); return amt_error(AMT_EIO, "%s: path too long", path); }
    int fd = mkstemp(tmp);
    if (fd < 0) { free(buf); return amt_error(AMT_EIO, "%s: cannot create (%s)", path, strerror(errno)); }
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) { close(fd); unlink(tmp); free(buf); return amt_error(AMT_EIO, "%s: cannot create", path); }
    int bad = fwrite(buf, 1, len, f) != len;
    if (fclose(f) != 0) bad = 1;
    free(buf);
    if (bad) { unlink(tmp); return amt_error(AMT_EIO, "%s: write failed", path); }
    if (rename(tmp, path) != 0) { int e = errno; unlink(tmp); return amt_error(AMT_EIO, "%s: cannot rename into place (%s)", path, strerror(e)); }
    return AMT_OK;
}
