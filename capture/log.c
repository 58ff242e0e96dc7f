/* log.c - messages for people, on stderr. */
#include "capture/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_verbose;
int log_quiet;

__attribute__((format(printf, 2, 0))) static void vlog(const char *prefix, const char *fmt,
                                                      va_list ap)
{
    fputs("flowmedic: ", stderr);
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
    if (log_quiet)
        return;
    va_start(ap, fmt);
    vlog("warning: ", fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    if (!log_verbose)
        return;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}
