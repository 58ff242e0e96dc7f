/*
 * metrics_file.h - a file replaced atomically and safely in a directory other users may write
 * to (node_exporter's textfile collector): each write goes to a new temporary file created
 * with O_CREAT|O_EXCL|O_NOFOLLOW in the target's directory (held open), made 0644, written,
 * fsync'ed and renamed over the target. A target that is a symbolic link is refused unless
 * follow is set; then the link is resolved once, at open.
 */
#ifndef FM_METRICS_FILE_H
#define FM_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>

struct mx_file;

/*
 * Prepare writing path: opens its directory and checks the target. NULL with a one-line
 * reason in err when the directory cannot be used or the target is refused.
 */
struct mx_file *mx_file_open(const char *path, bool follow, char *err, size_t errlen);

/* Replace the file's content with text. 0, or -1 with the reason in err. */
int mx_file_write(struct mx_file *f, const char *text, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The path as given (for messages). */
const char *mx_file_path(const struct mx_file *f);

/* Close the directory, free f. NULL is fine. */
void mx_file_close(struct mx_file *f);

#endif
