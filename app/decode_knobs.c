/* app/decode_knobs.c: see decode_knobs.h. */
#include "decode_knobs.h"

#include <stdio.h>

#define AMT_KNOB_COUNT 7
static const char *const knob_names[AMT_KNOB_COUNT] = {"onset-threshold", "frame-threshold", "sustain-threshold",
                                                    "min-note-ms",     "gap-ms",          "min-pitch",
                                                    "max-pitch"};

int amt_knobs_parse(amt_cli_opt *opts, int nopts, amt_tr_knobs *k, int *given, char *err, size_t errlen)
{
    /* per option: range, whether lo is excluded, what it is */
    static const struct { double lo, hi; int open_lo; const char *what; } spec[AMT_KNOB_COUNT] = {
        {0, 1, 1, "a probability in (0, 1]"},
        {0, 1, 1, "a probability in (0, 1]"},
        {0, 1, 0, "a probability in [0, 1] (0 = off)"},
        {0, 1e6, 0, "a duration in milliseconds (0..1e6)"},
        {0, 1e4, 0, "a duration in milliseconds (0..1e4)"},
        {0, 127, 0, "a MIDI pitch 0..127"},
        {0, 127, 0, "a MIDI pitch 0..127"},
    };
    double v[AMT_KNOB_COUNT] = {k->onset_threshold, k->frame_threshold, k->sustain_threshold, k->min_note_ms,
                                k->gap_ms, k->min_pitch, k->max_pitch};
    int n = 0;
    for (int i = 0; i < AMT_KNOB_COUNT; i++) {
        amt_cli_opt *o = amt_cli_find(opts, nopts, knob_names[i]);
        if (!o || !o->set) continue;
        n++;
        double x;
        int is_pitch = i >= 5;
        if (is_pitch) {
            long l;
            x = amt_cli_long(o->value, &l) ? -1 : (double)l;
        } else if (amt_cli_double(o->value, &x)) {
            x = -1;
        }
        if (!(spec[i].open_lo ? x > spec[i].lo : x >= spec[i].lo) || !(x <= spec[i].hi)) {
            snprintf(err, errlen, "--%s: '%s' is not %s", knob_names[i], o->value, spec[i].what);
            return -1;
        }
        v[i] = x;
    }
    if (v[5] >= 0 && v[6] >= 0 && v[5] > v[6]) {
        snprintf(err, errlen, "--min-pitch %g is above --max-pitch %g", v[5], v[6]);
        return -1;
    }
    if (v[2] > 0 && v[1] > 0 && v[2] > v[1]) {
        snprintf(err, errlen, "--sustain-threshold %g is above --frame-threshold %g (0 = off)", v[2], v[1]);
        return -1;
    }
    k->onset_threshold = v[0]; k->frame_threshold = v[1]; k->sustain_threshold = v[2];
    k->min_note_ms = v[3]; k->gap_ms = v[4]; k->min_pitch = (int)v[5]; k->max_pitch = (int)v[6];
    if (given) *given = n;
    return 0;
}
