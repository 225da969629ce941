/* app/decode_knobs.h: the transcriber's note-decoding options, shared by amt-infer and
 * amt-eval --model: --onset-threshold P, --frame-threshold P (probabilities in (0, 1]),
 * --sustain-threshold P (in [0, 1], 0 = off), --min-note-ms MS, --gap-ms MS
 * (milliseconds), --min-pitch N, --max-pitch N (MIDI 0..127). Parsed into amt_tr_knobs
 * (models/transcriber.h: a negative value keeps the model's own). Library code: errors come
 * back as a one-line message, nothing is printed. */
#ifndef AMT_APP_DECODE_KNOBS_H
#define AMT_APP_DECODE_KNOBS_H

#include <stddef.h>

#include "app/cli.h"
#include "models/transcriber.h"

/* Reads the knob options given in opts (the tool's table lists them, each taking a value)
 * into *k; the others stay as they are (start from amt_tr_knobs_default). *given (may be
 * NULL) = how many were given. Returns 0, or -1 with a one-line message in err for a value
 * out of range, --min-pitch above --max-pitch, or --sustain-threshold above
 * --frame-threshold. */
int amt_knobs_parse(amt_cli_opt *opts, int nopts, amt_tr_knobs *k, int *given, char *err, size_t errlen);

#endif
