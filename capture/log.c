/* log.c - messages for people, on stderr. */
#include "capture/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_verbose;
int log_quiet;
static _Thread_local const char *log_tag; /* log_set_thread */
static _Thread_local int log_mute;        /* log_set_thread */

void log_set_thread(const char *tag, int mute)
{
    log_tag = tag;
    log_mute = mute;
}

__attribute__((format(printf, 2, 0))) static void vlog(const char *prefix, const char *fmt,
                                                      va_list ap)
{
    fputs("flowmedic: ", stderr);
    if (log_tag)
        fputs(log_tag, stderr);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    if (log_quiet || log_mute)
        return;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    if (!log_verbose || log_mute)
        return;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}
