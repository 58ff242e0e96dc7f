/*
 * fanout.h - one live capture on N handles joined to one Linux PACKET_FANOUT group (hash mode
 * with defragmentation: the kernel gives all packets of a flow to one handle), each read by a
 * capture thread of its own into an SPSC ring, merged back into one stream in capture-time
 * order for cap_next (source.c uses it when cap_live_opts.fanout > 1).
 */
#ifndef FM_FANOUT_H
#define FM_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "capture/source.h"

/* How long the merge waits for a quiet handle before it passes a frame on (see fanout.c). */
#define FAN_LATENESS_NS 20000000ull

struct cap_fanout;

/* Open o->fanout handles on o->iface with filter; NULL with a reason in errbuf on failure. */
struct cap_fanout *fan_open(const struct cap_live_opts *o, const char *filter, char *errbuf,
                            size_t errlen);

/*
 * The next frame in capture-time order (number: 1, 2, ... as merged); ERR_AGAIN when none came
 * within the read timeout, ERR_EOF after fan_break, ERR_IO when a handle failed (fan_error).
 */
int fan_next(struct cap_fanout *fo, struct cap_frame *f);

/* Kernel counters summed over the handles. */
void fan_stats(struct cap_fanout *fo, struct cap_stats *st);

/* Ask every capture thread and the merge to stop (async-signal-safe). */
void fan_break(struct cap_fanout *fo);

const char *fan_error(const struct cap_fanout *fo);

/* Stop the threads, close the handles. */
void fan_close(struct cap_fanout *fo);

#endif
