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
} amt_note;

typedef struct amt_notes {
    amt_note *v;            /* owned, grown by amt_notes_push */
    int n, cap;
} amt_notes;

void amt_notes_init(amt_notes *ns);
/* Appends a copy of *note; AMT_ENOMEM on failure. */
int amt_notes_push(amt_notes *ns, const amt_note *note);
/* Sorts by onset, then pitch. */
void amt_notes_sort(amt_notes *ns);
void amt_notes_free(amt_notes *ns);

/* MAPS-style TSV read/write; errors name the file and line. */
int amt_notes_read_tsv(const char *path, amt_notes *out);
int amt_notes_write_tsv(const char *path, const amt_notes *ns);

#endif
