/* audio/notes.h: note lists. Times in seconds, pitch as MIDI note number (21..108 is the
 * piano), velocity 1..127. MAPS-style TSV: a header line "OnsetTime\tOffsetTime\tMidiPitch"
 * then one note per line. */
#ifndef AMT_NOTES_H
#define AMT_NOTES_H

typedef struct amt_note {
    double onset, offset;   /* seconds, offset > onset */
    int pitch;              /* MIDI note number */
    int velocity;           /* 1..127 (64 when unknown) */
    int program;            /* General MIDI program 0..127 (-1 unknown); 128 = drums */
    float confidence;       /* 0..1 for transcribed notes, 1 for ground truth */
    int channel;            /* MIDI channel 0..15 it came from (-1 unknown) */
    int track;              /* MIDI track index it came from (-1 unknown) */
} amt_note;

typedef struct amt_notes {
    amt_note *v;            /* owned, grown by amt_notes_push */
    int n, cap;
} amt_notes;

#define AMT_NOTE_DEFAULT_VELOCITY 64
#define AMT_PROGRAM_DRUMS 128

void amt_notes_init(amt_notes *ns);
/* A note with defaults (velocity 64, program -1, confidence 1, channel/track -1). */
amt_note amt_note_make(double onset, double offset, int pitch);
/* Appends a copy of *note; AMT_ENOMEM on failure. */
int amt_notes_push(amt_notes *ns, const amt_note *note);
/* Sorts by onset, then pitch (then offset, program, velocity, channel, track: a total
 * order, so the result does not depend on the input order of equal notes). */
void amt_notes_sort(amt_notes *ns);
/* Empties the list, keeping its memory. */
void amt_notes_clear(amt_notes *ns);
void amt_notes_free(amt_notes *ns);
/* Checks every note: finite times, 0 <= onset < offset, pitch 0..127. `what` names the
 * list in the message ("x.mid: note 7: offset 1.2 <= onset 1.5"). */
int amt_notes_validate(const amt_notes *ns, const char *what);

/* MAPS-style TSV read. Accepts a header line (any first line starting with a letter),
 * tab- or space-separated columns OnsetTime OffsetTime MidiPitch [Velocity], CRLF line
 * ends, blank lines and trailing whitespace. Pitch may be written "60" or "60.0". Errors
 * name the file and line: "x.txt:7: offset 1.2 <= onset 1.5". *out is initialised
 * here; on error it is left empty. */
int amt_notes_read_tsv(const char *path, amt_notes *out);
/* Writes the header and one "%.6f\t%.6f\t%d" line per note (via temp file + rename). */
int amt_notes_write_tsv(const char *path, const amt_notes *ns);
/* Writes {"notes": [{"onset":..,"offset":..,"pitch":..,"velocity":..,"program":..,
 * "confidence":..}, ...]} (via temp file + rename), for NAME.notes.json. */
int amt_notes_write_json(const char *path, const amt_notes *ns);

/* MIDI note number -> Hz (A4 = 69 = 440 Hz), as mir_eval.util.midi_to_hz. */
double amt_midi_to_hz(double midi);

#endif
