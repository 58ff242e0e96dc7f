/*
 * metrics_render.h - Prometheus text exposition (format 0.0.4) of a metrics snapshot: a pure
 * function of struct mx_snap, written into a growing text buffer. A new metric is a field in
 * struct mx_snap (metrics_agg.h), its update in metrics_agg.c and its family in mx_render().
 */
#ifndef FM_METRICS_RENDER_H
#define FM_METRICS_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/metrics_agg.h"

/* A growing text buffer (rendering happens about once a second, off the packet path). */
struct mx_buf {
    char *p;    /* text */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    bool oom;   /* an allocation failed: the text is incomplete */
};

/* Replace b's text with the exposition of s; false when out of memory. */
bool mx_render(const struct mx_snap *s, struct mx_buf *b) __attribute__((warn_unused_result));

/* Free b's text. */
void mx_buf_free(struct mx_buf *b);

#endif
