/* datasets/composer.h: a seeded algorithmic composer for training data.
 * It writes plausible tonal music as note lists: a key and mode, a chord progression
 * (I-IV-V-vi style templates), an accompaniment (block chords, arpeggios, Alberti or
 * broken chords), a bass line, a melody with stepwise motion, leaps and phrase breaks,
 * optional drums (program 128) and a sustain pedal. Times in seconds; same seed and
 * config => the same piece. The piece owns its memory (amt_piece_free). */
#ifndef AMT_COMPOSER_H
#define AMT_COMPOSER_H

#include <stdint.h>
#include "audio/notes.h"

enum {
    AMT_TEXTURE_PIANO = 0,  /* two hands of one instrument: melody/chords RH, accompaniment LH */
    AMT_TEXTURE_BAND = 1,   /* separate parts: lead, chords, bass, drums (programs below) */
};

#define AMT_COMPOSE_MAX_POLY 8      /* default cap on simultaneously sounding notes */
#ifndef AMT_PROGRAM_DRUMS
#define AMT_PROGRAM_DRUMS 128       /* amt_note.program for percussion (GM channel 10) */
#endif

typedef struct amt_compose_cfg {
    double seconds;     /* length of the piece (notes start before this; offsets clipped to it) */
    int texture;        /* AMT_TEXTURE_* */
    int prog_lead;      /* GM program of the melody, -1 = no melody */
    int prog_chords;    /* GM program of the harmony/accompaniment, -1 = none */
    int prog_bass;      /* GM program of the bass line, -1 = none */
    int drums;          /* 1 = add a drum part (program 128) */
    int lead_lo, lead_hi; /* melody range in MIDI notes (0,0 = centred on a random register) */
    double bpm;         /* tempo, 0 = random in [60, 180] */
    int max_poly;       /* cap on sounding notes, 0 = AMT_COMPOSE_MAX_POLY */
    int pedal;          /* piano texture: -1 never, 0 random per piece, 1 always use the sustain pedal */
    int vel_lo, vel_hi; /* velocity range (0,0 = 30..110) */
} amt_compose_cfg;

/* Sustain pedal held down over [on, off) seconds on the parts of `program` (-1 = all). */
typedef struct amt_pedal { double on, off; int program; } amt_pedal;

typedef struct amt_piece {
    amt_notes notes;    /* key-up offsets (not extended by the pedal), sorted by onset */
    amt_pedal *pedals;  /* owned */
    int npedals;
    double bpm;
    int key;            /* tonic pitch class 0..11 */
    int mode;           /* index into the composer's mode table (0 = major, 1 = minor, ...) */
    double seconds;
} amt_piece;

/* Defaults: 10 s piano texture, piano program 0, random tempo, pedal random. */
void amt_compose_defaults(amt_compose_cfg *cfg);
/* Composes a piece into *out (initialised here). */
int amt_compose(const amt_compose_cfg *cfg, uint64_t seed, amt_piece *out);
void amt_piece_init(amt_piece *p);
void amt_piece_free(amt_piece *p);
int amt_piece_add_pedal(amt_piece *p, double on, double off, int program);

/* MAPS-style offsets: a note released while the pedal of its program is down sounds until
 * the pedal comes up or the same pitch is struck again, whichever is first. Writes the
 * extended copy of `ns` into *out (initialised here), sorted. */
int amt_notes_pedal_extend(const amt_notes *ns, const amt_pedal *pedals, int npedals, amt_notes *out);

/* Keeps notes with onset in [t0, t0 + seconds), shifted by -t0, offsets clipped to the
 * window; pedals likewise (a pedal down at t0 starts at 0). out is initialised here. */
int amt_piece_excerpt(const amt_piece *in, double t0, double seconds, amt_piece *out);

/* A random excerpt of `seconds` from a MIDI file's notes (drums left out), offsets
 * extended by the sustain pedal (MAPS convention, via audio/midi.h). The excerpt starts
 * at a note onset chosen by `seed` (or at 0 for short files); times shifted to start at
 * 0 and offsets clipped to the window. The pedal is folded into the offsets (audio/midi.h
 * gives no pedal events), so out->npedals is 0 and rendering holds the keys instead of
 * sending CC64. Programs are set to 0 (acoustic grand piano). */
int amt_piece_from_midi(const char *path, double seconds, uint64_t seed, amt_piece *out);

/* Drops notes so that at most max_poly notes sound at any onset (keeps the earlier and
 * the louder ones); works in place. */
void amt_notes_limit_polyphony(amt_notes *ns, int max_poly);

#endif
