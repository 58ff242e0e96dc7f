/* source.h - where frames come from: capture files in order, or a live interface. */
#ifndef FM_SOURCE_H
#define FM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"

/* One frame, borrowed from the source until the next call to cap_next. */
struct cap_frame {
    uint64_t ts_ns;         /* capture time, ns since the epoch */
    uint32_t caplen;        /* bytes in data */
    uint32_t wirelen;       /* original frame length */
    int linktype;           /* DLT_* of the file or interface this frame came from */
    const uint8_t *data;    /* frame bytes */
    uint64_t number;        /* frame number as Wireshark counts it: 1-based across all inputs,
                               counting the frames a BPF filter left out (live: frames read) */
};

/* How to open a live capture (-i). */
struct cap_live_opts {
    const char *iface;      /* interface name */
    int snaplen;            /* bytes per frame to keep (-s); 0 = 262144 */
    bool promisc;           /* promiscuous mode (on unless -p) */
    int buffer_mib;         /* kernel buffer in MiB (-B); 0 = libpcap default */
    bool immediate;         /* deliver each packet at once (--immediate) */
    int timeout_ms;         /* read timeout; 0 = 100 ms */
    int fanout;             /* > 1: this many handles in one PACKET_FANOUT group (fanout.h),
                               each read with cap_handle; cap_next on the group fails */
};

/* Drop and progress counters of a source. */
struct cap_stats {
    uint64_t frames;        /* frames delivered so far */
    uint64_t kernel_recv;   /* pcap_stats ps_recv (live only) */
    uint64_t kernel_drop;   /* pcap_stats ps_drop: dropped for lack of buffer space */
    uint64_t if_drop;       /* pcap_stats ps_ifdrop: dropped by the interface/driver */
    uint64_t prefiltered;   /* frames queued before the filter was set that it would have
                               left out: left out here, and not in the counters above */
    bool live;              /* the counters above are from a live capture */
};

struct cap_source;

/*
 * Open capture files to be read one after the other ("-" is stdin). filter is a BPF
 * expression or NULL. On failure returns NULL and writes a one-line reason into errbuf.
 */
struct cap_source *cap_open_files(const char *const *paths, size_t npaths, const char *filter,
                                  char *errbuf, size_t errlen);

/* Open a live capture. Same failure contract as cap_open_files. */
struct cap_source *cap_open_live(const struct cap_live_opts *o, const char *filter, char *errbuf,
                                 size_t errlen);

/*
 * Next frame. Returns 0 and fills f; ERR_AGAIN when a live read timed out (call again);
 * ERR_EOF at the end of the last file; ERR_FORMAT when a file's remainder is corrupt or
 * truncated (message in cap_error; the frames before it were delivered) -- the caller may
 * call again to continue with the next file.
 */
int cap_next(struct cap_source *s, struct cap_frame *f) FM_WUR;

/* How long a stop goes on reading what the kernel had queued (cap_read_queued). */
#define CAP_DRAIN_NS (1000 * 1000000ull)

/*
 * Live, after a stop: each frame the kernel had queued for this handle already, to fn, without
 * waiting (also after cap_break), for at most CAP_DRAIN_NS (the kernel keeps queueing under a
 * flood). Returns false when it stopped there with frames left; true when none was left (and
 * for files and groups, which have none of their own).
 */
bool cap_read_queued(struct cap_source *s, void (*fn)(void *ctx, struct cap_frame *f), void *ctx);

/* Ask a blocking live read to return soon (safe from a signal handler). */
void cap_break(struct cap_source *s);

/* Last error text ("" if none). */
const char *cap_error(const struct cap_source *s);

/* Name of the current input: file path, "stdin" or the interface. */
const char *cap_name(const struct cap_source *s);

/* Fill st (kernel counters are read from pcap_stats for live sources). */
void cap_stats(struct cap_source *s, struct cap_stats *st);

/* Name of a link type, e.g. "EN10MB". */
const char *cap_linktype_name(int linktype);

void cap_close(struct cap_source *s);

/*
 * A live source opened with fanout > 1: its handles (0 when it is not a group), and handle i,
 * which one thread reads with cap_next (cap_stats on the group sums the handles; cap_break
 * and cap_close on the group reach every handle).
 */
unsigned cap_handles(const struct cap_source *s);
struct cap_source *cap_handle(struct cap_source *s, unsigned i);

/* For fanout.c: the live handle's socket (pcap_fileno), or -1. */
int cap_fileno(const struct cap_source *s);

/*
 * For fanout.c: read and drop what a live handle has buffered now, and count from now on (the
 * kernel counters' zero, the frames checked against the filter); returns the frames dropped.
 */
uint64_t cap_drain(struct cap_source *s);

#endif
