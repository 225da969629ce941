/* models/classifier_stream.h: the clip-level classification of models/classifier.h
 * (amt_classifier_classify: the same numbers) over a signal of any length in bounded
 * memory, fed in blocks, in TWO passes over the same samples: the log-mel's dB floor is
 * the loudest cell of the whole clip minus top_db, so pass 1 finds the loudest cell and
 * pass 2 computes the windows (audio/frame_stream.h: resampled, framed; a ring of
 * frames + 1 mel frames; windows run in the runner's batches as they complete).
 * Memory: the frame stream's buffer, the ring and one window, fixed at creation. */
#ifndef AMT_CLASSIFIER_STREAM_H
#define AMT_CLASSIFIER_STREAM_H

#include "models/classifier.h"

typedef struct amt_cls_stream amt_cls_stream;

/* A stream of mono audio at rate Hz into runner r (kept by reference: it must outlive the
 * stream). NULL (error set) on a bad rate or no memory. */
amt_cls_stream *amt_cls_stream_new(amt_cls_infer *r, double rate);
void amt_cls_stream_del(amt_cls_stream *s);
/* Feeds n samples of the current pass. AMT_EINVAL "sample I is NaN" for a non-finite sample. */
int amt_cls_stream_feed(amt_cls_stream *s, const float *x, long n);
/* Ends pass 1; feed the same samples again. AMT_EINVAL when pass 1 saw no samples. */
int amt_cls_stream_next_pass(amt_cls_stream *s);
/* Ends pass 2 and writes the clip's result. AMT_EINVAL when pass 2 saw other than the
 * samples of pass 1 (a count that differs). */
int amt_cls_stream_finish(amt_cls_stream *s, amt_cls_result *res);

#endif
