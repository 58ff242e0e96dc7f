/*
 * fanout.h - one live capture on N handles joined to one Linux PACKET_FANOUT group (hash mode
 * with defragmentation: the kernel gives all packets of a flow, both directions, to one
 * handle). Each handle is read by the worker that owns it (analyzers/worker.c, --workers on
 * -i); source.c wraps the group as one source for its name, counters and lifetime.
 */
#ifndef FM_FANOUT_H
#define FM_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "capture/source.h"

#define FAN_MAX 8 /* handles at most */

struct cap_fanout;

/* Open o->fanout handles on o->iface with filter; NULL with a reason in errbuf on failure. */
struct cap_fanout *fan_open(const struct cap_live_opts *o, const char *filter, char *errbuf,
                            size_t errlen);

/* Handles in the group. */
unsigned fan_count(const struct cap_fanout *fo);

/* Handle i (0 .. fan_count - 1), to be read by one thread with cap_next. */
struct cap_source *fan_member(struct cap_fanout *fo, unsigned i);

/* Kernel counters summed over the handles (frames: delivered by all of them). */
void fan_stats(struct cap_fanout *fo, struct cap_stats *st);

/* Ask every handle's reader to stop (async-signal-safe). */
void fan_break(struct cap_fanout *fo);

/* Close the handles (their readers have stopped). */
void fan_close(struct cap_fanout *fo);

#endif
