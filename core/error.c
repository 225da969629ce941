#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[1024];
static _Thread_local int g_code;

int amt_error(int code, const char *fmt, ...)
{
    /* format into a local buffer first: an argument may be amt_errmsg() itself */
    char buf[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(g_msg, buf, sizeof g_msg);
    g_code = code;
    return code;
}

const char *amt_errmsg(void) { return g_msg; }
int amt_errcode(void) { return g_code; }
void amt_error_clear(void) { g_msg[0] = '\0'; g_code = AMT_OK; }

const char *amt_strerror(int code)
{
    switch (code) {
    case AMT_OK: return "ok";
    case AMT_EINVAL: return "invalid argument";
    case AMT_EIO: return "I/O error";
    case AMT_EFORMAT: return "bad file format";
    case AMT_ENOMEM: return "out of memory";
    case AMT_ECONFIG: return "bad configuration";
    case AMT_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}
