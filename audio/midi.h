/* audio/midi.h: Standard MIDI File (SMF) reading and writing, as note lists in seconds.
 *
 * Own code rather than libsmf: libsmf is unmaintained (last release 2010), pulls in glib,
 * and aborts/asserts on some malformed input; we need bounded, crash-free reading of
 * arbitrary (possibly garbage) files with one-line errors, an exact tempo map, FIFO
 * pairing of overlapping notes and the MAPS sustain-pedal convention, which libsmf does
 * not provide anyway. The format is small (a few hundred lines).
 *
 * Reading: format 0, 1 (and 2, treated like 1: one global tempo map), running status,
 * meta events (tempo 0x51 drives the tempo map; others skipped), sysex skipped, note-on
 * with velocity 0 = note-off, overlapping notes of the same (track, channel, pitch)
 * paired first-in first-out, program changes per channel (a note gets its channel's
 * program at its onset; channel 10 = drums, program 128), metrical or SMPTE division.
 * Ticks -> seconds through the tempo map in exact integer arithmetic (one rounding at
 * the end). Notes still sounding at the end of their track end at the track's last tick;
 * zero-length notes are dropped. */
#ifndef AMT_MIDI_H
#define AMT_MIDI_H

#include <stddef.h>

#include "notes.h"

#define AMT_MIDI_MAX_FILE_BYTES (256L << 20)   /* refuse larger files */
#define AMT_MIDI_DEFAULT_TPQ 960               /* ticks per quarter note when writing */
#define AMT_MIDI_DEFAULT_TEMPO 500000          /* microseconds per quarter (120 bpm) */
#define AMT_MIDI_SUSTAIN_CC 64

typedef struct amt_midi_read_opts {
    /* 1: sustain pedal (CC64 >= 64 = down) extends notes as MAPS annotations do: a note
     * released while the pedal is down ends when the pedal is released, or when the same
     * (track, channel, pitch) is struck again, whichever is first. */
    int sustain;
    int skip_drums;   /* 1: leave out channel-10 notes */
} amt_midi_read_opts;

typedef struct amt_midi_info {
    int format;           /* 0, 1 or 2 */
    int ntracks;          /* MTrk chunks read */
    int division;         /* raw header division field */
    int tempo_changes;    /* tempo meta events seen */
    long events;          /* channel events seen */
    double duration;      /* seconds of the last event of any track */
} amt_midi_info;

/* Reads a .mid file into notes (sorted by amt_notes_sort; program/channel/track set).
 * opt NULL = no sustain, keep drums; info may be NULL. *out is initialised here and
 * empty on error. Errors name the file and problem ("x.mid: track 2 truncated at byte
 * 1234"). */
int amt_midi_read(const char *path, const amt_midi_read_opts *opt, amt_notes *out, amt_midi_info *info);
/* The same from memory (name is used in messages). */
int amt_midi_parse(const unsigned char *buf, size_t len, const char *name, const amt_midi_read_opts *opt,
                   amt_notes *out, amt_midi_info *info);

typedef struct amt_midi_write_opts {
    int tpq;      /* ticks per quarter note, default AMT_MIDI_DEFAULT_TPQ */
    int tempo;    /* microseconds per quarter note, default AMT_MIDI_DEFAULT_TEMPO */
} amt_midi_write_opts;

/* Encodes notes as a format-1 SMF: track 0 holds the tempo, then one track per
 * instrument (per distinct program in ascending order; program -1 is written as 0,
 * program 128 on channel 10 as drums) with its program change at tick 0, note-ons with
 * the note's velocity (clamped to 1..127) and note-offs, running status. Times are
 * rounded to the nearest tick (960 tpq at 120 bpm: 0.52 ms/tick, error <= 0.26 ms);
 * a note shorter than a tick gets one tick. More than 15 melodic programs share
 * channels (their program changes then conflict; a warning-free limitation).
 * Deterministic: equal input gives equal bytes. *buf is malloc'd (caller frees). */
int amt_midi_encode(const amt_notes *ns, const amt_midi_write_opts *opt, unsigned char **buf, size_t *len);
/* amt_midi_encode to a file, via temp file + rename. */
int amt_midi_write(const char *path, const amt_notes *ns, const amt_midi_write_opts *opt);

#endif
