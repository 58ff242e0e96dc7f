/* pkt.h - the decoded packet view: the one struct that every analyzer reads. */
#ifndef FM_PKT_H
#define FM_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NS_PER_S 1000000000ull /* nanoseconds per second (capture times are ns) */

/* TCP header flag bits, as on the wire (byte 13 of the TCP header). */
enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
    TCP_URG = 0x20,
    TCP_ECE = 0x40,
    TCP_CWR = 0x80,
};

#define PKT_MAX_SACK 4 /* a TCP header holds at most 4 SACK blocks */

/* An IP address with its family; IPv4 uses the first 4 bytes of a. */
struct ip_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t a[16];  /* network byte order, unused bytes zero */
};

/* An address and port: one end of a TCP connection. */
struct endpoint {
    struct ip_addr ip; /* the address */
    uint16_t port;     /* host byte order */
};

/* Same address: family and every byte (unused bytes are zero). */
static inline bool pkt_ip_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return a->family == b->family && memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

/* Same address and port. */
static inline bool pkt_ep_eq(const struct endpoint *a, const struct endpoint *b)
{
    return a->port == b->port && pkt_ip_eq(&a->ip, &b->ip);
}

/* What decode found in a frame; only PKT_TCP frames reach the analyzers. */
enum pkt_kind {
    PKT_TCP = 0,      /* a TCP segment, view filled in */
    PKT_OTHER,        /* valid but not TCP (ARP, UDP, ICMP, ...): counted, skipped */
    PKT_FRAGMENT,     /* an IP fragment: counted, skipped (no reassembly) */
    PKT_MALFORMED,    /* headers inconsistent with themselves: counted as malformed */
    PKT_TRUNCATED,    /* cut by snaplen before the end of the TCP header: counted */
    PKT_UNSUPPORTED,  /* a link or network type decode does not know */
};

/*
 * The decoded view of one TCP segment. Filled once by decode; nothing downstream parses
 * headers again. payload points into the capture buffer and is valid for one call only.
 */
struct pkt {
    uint64_t ts_ns;            /* capture time, ns since the epoch */
    uint64_t frame;            /* 1-based frame number across all inputs (as Wireshark counts) */
    uint32_t caplen;           /* bytes captured of this frame */
    uint32_t wirelen;          /* bytes of this frame on the wire */
    struct endpoint src;       /* sender address and port */
    struct endpoint dst;       /* receiver address and port */
    uint8_t ttl;               /* IPv4 TTL or IPv6 hop limit */
    uint16_t ip_id;            /* IPv4 identification; 0 for IPv6 */
    uint32_t seq;              /* raw sequence number */
    uint32_t ack;              /* raw acknowledgment number */
    uint16_t win;              /* raw window field (unscaled) */
    uint16_t tcp_csum;         /* TCP checksum field as sent (not verified) */
    uint8_t flags;             /* TCP_* bits */
    uint8_t tcp_hlen;          /* TCP header length in bytes */
    uint32_t tcp_len;          /* TCP payload length as the IP header declares it */
    const uint8_t *payload;    /* first captured payload byte (NULL if none captured) */
    uint32_t payload_caplen;   /* payload bytes actually captured (<= tcp_len) */
    bool has_mss;              /* MSS option present */
    uint16_t mss;              /* MSS option value */
    bool has_wscale;           /* window scale option present */
    uint8_t wscale;            /* window scale shift (as sent, not clamped) */
    bool sack_perm;            /* SACK-permitted option present */
    bool has_ts;               /* timestamps option present */
    uint32_t tsval;            /* timestamp value */
    uint32_t tsecr;            /* timestamp echo reply */
    uint8_t nsack;             /* number of SACK blocks in sack[] */
    uint32_t sack[PKT_MAX_SACK][2]; /* SACK blocks: left edge, right edge (raw seq) */
    bool opts_truncated;       /* TCP options cut short or malformed (view still usable) */
};

#endif
