/* core/error.h: error codes and a per-thread last-error message.
 * Library functions return 0 (AMT_OK) on success or a negative AMT_E* code, after
 * calling amt_error() to record a one-line message; tools print amt_errmsg(). */
#ifndef AMT_ERROR_H
#define AMT_ERROR_H

enum {
    AMT_OK = 0,
    AMT_EINVAL = -1,   /* bad argument, shape or value */
    AMT_EIO = -2,      /* file missing, unreadable, unwritable */
    AMT_EFORMAT = -3,  /* file exists but its content is malformed or unsupported */
    AMT_ENOMEM = -4,   /* allocation failed */
    AMT_ECONFIG = -5,  /* configuration key/value invalid */
    AMT_EINTERNAL = -6 /* library bug / unexpected state */
};

/* Records a printf-style message (one line, no trailing newline) for this thread and
 * returns `code`, so error paths read `return amt_error(AMT_EIO, "%s: cannot open", path);` */
int amt_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message recorded on this thread ("" if none). Valid until the next amt_error. */
const char *amt_errmsg(void);
/* The last code recorded on this thread (AMT_OK if none). */
int amt_errcode(void);
/* Clears the last error. */
void amt_error_clear(void);
/* Short name of a code, e.g. "I/O error". */
const char *amt_strerror(int code);

#endif
