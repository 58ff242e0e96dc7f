/*
 * fanout.c - N live handles in one PACKET_FANOUT group, each read by a worker of its own.
 *
 * Each handle is an ordinary live source (source.c: snaplen, promiscuous mode, buffer, BPF
 * filter) whose socket then joins the group (setsockopt PACKET_FANOUT on pcap_fileno after
 * activation; mode PACKET_FANOUT_HASH with PACKET_FANOUT_FLAG_DEFRAG). The kernel picks the
 * handle by the symmetric flow hash of the packet (__skb_get_hash_symmetric: addresses and
 * ports only, sorted, so both directions of a flow, and every copy of one frame, go to one
 * handle; fragments are reassembled first). Packets a handle received before every handle
 * joined are dropped once (they were also seen by the others), and the kernel's counters
 * start from there (cap_drain). There is no merge here: each
 * worker analyses its handle's flows, and the aggregator orders the workers' records by
 * capture time (analyzers/worker.c, README "Workers").
 */
#define _GNU_SOURCE /* PACKET_FANOUT in <linux/if_packet.h> */
#include "capture/fanout.h"

#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/err.h"

struct cap_fanout {
    unsigned n;                      /* handles */
    struct cap_source *src[FAN_MAX]; /* them */
};

/* Join handle src's socket to the group. */
static int fan_join(struct cap_source *src, int group, char *errbuf, size_t errlen)
{
    int fd = cap_fileno(src);
    /* unsigned: FLAG_DEFRAG (0x8000) << 16 does not fit an int */
    uint32_t arg = ((uint32_t)group & 0xffffu) |
                   ((uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
        snprintf(errbuf, errlen,
                 "cannot join the capture handles into one PACKET_FANOUT group "
                 "(--workers on a live interface needs Linux packet sockets)");
        return ERR_IO;
    }
    return 0;
}

struct cap_fanout *fan_open(const struct cap_live_opts *o, const char *filter, char *errbuf,
                            size_t errlen)
{
    if (o->fanout < 2 || o->fanout > FAN_MAX) {
        snprintf(errbuf, errlen, "capture handles: %d (2..%d)", o->fanout, FAN_MAX);
        return NULL;
    }
    struct cap_fanout *fo = calloc(1, sizeof(*fo));
    if (!fo) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    fo->n = (unsigned)o->fanout;
    struct cap_live_opts one = *o;
    one.fanout = 0;
    int group = (int)(getpid() & 0xffff);
    for (unsigned i = 0; i < fo->n; i++) {
        fo->src[i] = cap_open_live(&one, filter, errbuf, errlen);
        if (!fo->src[i] || fan_join(fo->src[i], group, errbuf, errlen) != 0) {
            fan_close(fo);
            return NULL;
        }
    }
    for (unsigned i = 0; i < fo->n; i++)
        cap_drain(fo->src[i]);
    return fo;
}

unsigned fan_count(const struct cap_fanout *fo)
{
    return fo ? fo->n : 0;
}

struct cap_source *fan_member(struct cap_fanout *fo, unsigned i)
{
    return fo && i < fo->n ? fo->src[i] : NULL;
}

void fan_stats(struct cap_fanout *fo, struct cap_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->live = true;
    for (unsigned i = 0; i < fo->n; i++) {
        struct cap_stats one;
        if (!fo->src[i])
            continue;
        cap_stats(fo->src[i], &one);
        st->frames += one.frames;
        st->kernel_recv += one.kernel_recv;
        st->kernel_drop += one.kernel_drop;
        st->if_drop += one.if_drop;
        st->prefiltered += one.prefiltered;
    }
}

void fan_break(struct cap_fanout *fo)
{
    if (!fo)
        return;
    for (unsigned i = 0; i < fo->n; i++)
        if (fo->src[i])
            cap_break(fo->src[i]);
}

void fan_close(struct cap_fanout *fo)
{
    if (!fo)
        return;
    for (unsigned i = 0; i < fo->n; i++)
        cap_close(fo->src[i]);
    free(fo);
}
