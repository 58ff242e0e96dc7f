/*
 * metrics_file.c - atomic, symlink-safe replacement of the metrics file: the directory is
 * opened once and every name is resolved relative to it with *at() calls, so neither a link
 * planted at a temporary name nor a directory swapped later redirects a write.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW, getrandom */
#endif
#include "cli/metrics_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MXF_TRIES 16 /* temporary names tried before giving up */

struct mx_file {
    char *path; /* the target as given */
    char *dir;  /* its directory (for messages) */
    char *base; /* its last component, relative to dfd */
    int dfd;    /* the directory, opened once */
};

/* Split path into a directory and a last component (both malloc'd). 0 or -1. */
static int mxf_split(const char *path, char **dir, char **base)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t dl = slash ? (size_t)(slash - path) : 1;
    *dir = malloc(dl + 1);
    *base = strdup(b);
    if (!*dir || !*base)
        return -1;
    if (!slash)
        memcpy(*dir, ".", 2);
    else if (dl == 0)
        memcpy(*dir, "/", 2);
    else {
        memcpy(*dir, path, dl);
        (*dir)[dl] = 0;
    }
    return 0;
}

/* Check what is at the target now: nothing, or a regular file; a link only when following. */
static int mxf_check_target(struct mx_file *f, char *err, size_t errlen)
{
    struct stat st;
    if (fstatat(f->dfd, f->base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "--metrics-file %s: %s", f->path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen,
                 "--metrics-file %s: is a symbolic link; refusing to replace it "
                 "(--metrics-file-follow writes to where it points)",
                 f->path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "--metrics-file %s: exists and is not a regular file", f->path);
        return -1;
    }
    return 0;
}

struct mx_file *mx_file_open(const char *path, bool follow, char *err, size_t errlen)
{
    struct mx_file *f = calloc(1, sizeof(*f));
    char *resolved = NULL;
    if (!f)
        goto fail_nomem;
    f->dfd = -1;
    f->path = strdup(path);
    if (!f->path)
        goto fail_nomem;
    if (path[0] == 0 || path[strlen(path) - 1] == '/') {
        snprintf(err, errlen, "--metrics-file '%s': expected a file name", path);
        goto fail;
    }
    const char *target = path;
    struct stat st;
    if (follow && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        resolved = realpath(path, NULL);
        if (!resolved) {
            snprintf(err, errlen, "--metrics-file %s: cannot resolve the link: %s", path,
                     strerror(errno));
            goto fail;
        }
        target = resolved;
    }
    if (mxf_split(target, &f->dir, &f->base) != 0)
        goto fail_nomem;
    f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dfd < 0) {
        snprintf(err, errlen, "--metrics-file %s: directory %s: %s", path, f->dir, strerror(errno));
        goto fail;
    }
    if (mxf_check_target(f, err, errlen) != 0)
        goto fail;
    free(resolved);
    return f;
fail_nomem:
    snprintf(err, errlen, "--metrics-file: out of memory");
fail:
    free(resolved);
    mx_file_close(f);
    return NULL;
}

/* Create a new temporary file next to the target; its name goes to name. fd or -1 (errno). */
static int mxf_create_tmp(struct mx_file *f, char *name, size_t len)
{
    for (int i = 0; i < MXF_TRIES; i++) {
        uint64_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull + (uint64_t)i;
        /* ".tmp" then random: never ends in ".prom", so the collector ignores it */
        int n = snprintf(name, len, ".%s.tmp%016" PRIx64, f->base, r);
        if (n < 0 || (size_t)n >= len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = openat(f->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Write all of text to fd. 0 or -1 (errno). */
static int mxf_write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

int mx_file_write(struct mx_file *f, const char *text, size_t len, char *err, size_t errlen)
{
    char name[NAME_MAX + 1];
    int fd = mxf_create_tmp(f, name, sizeof(name));
    if (fd < 0) {
        snprintf(err, errlen, "--metrics-file %s: cannot create a temporary file in %s: %s",
                 f->path, f->dir, strerror(errno));
        return -1;
    }
    const char *what = "fchmod";
    if (fchmod(fd, 0644) != 0)
        goto fail_close;
    what = "write";
    if (mxf_write_all(fd, text, len) != 0)
        goto fail_close;
    what = "fsync";
    if (fsync(fd) != 0)
        goto fail_close;
    what = "close";
    int rc = close(fd);
    fd = -1;
    if (rc != 0)
        goto fail_unlink;
    what = "rename";
    if (renameat(f->dfd, name, f->dfd, f->base) != 0)
        goto fail_unlink;
    return 0;
fail_close : {
    int e = errno;
    close(fd);
    errno = e;
}
fail_unlink:
    snprintf(err, errlen, "--metrics-file %s: %s: %s", f->path, what, strerror(errno));
    unlinkat(f->dfd, name, 0);
    return -1;
}

const char *mx_file_path(const struct mx_file *f)
{
    return f->path;
}

void mx_file_close(struct mx_file *f)
{
    if (!f)
        return;
    if (f->dfd >= 0)
        close(f->dfd);
    free(f->path);
    free(f->dir);
    free(f->base);
    free(f);
}
