/* log.h - one place that writes messages for people to stderr. */
#ifndef FM_LOG_H
#define FM_LOG_H

/* Print "flowmedic: " + message + newline to stderr. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, prefixed "warning: "; suppressed by log_quiet. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, only when verbose is on. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * For the calling thread only: put tag before every message ("worker 1: "; NULL: none), and
 * with mute drop its warnings and info (a worker's copy of what worker 0 already said).
 */
void log_set_thread(const char *tag, int mute);

extern int log_verbose; /* 1: -v given, log_info prints */
extern int log_quiet;   /* 1: warnings suppressed (-q) */

#endif
