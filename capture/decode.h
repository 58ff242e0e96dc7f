/* decode.h - one frame in, one packet view out: link layer, IPv4/IPv6, TCP and its options. */
#ifndef FM_DECODE_H
#define FM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"
#include "capture/pkt.h"

/* Counters decode keeps about what it saw, for the run summary. */
struct decode_stats {
    uint64_t frames;       /* frames given to decode */
    uint64_t tcp;          /* TCP segments decoded */
    uint64_t other;        /* non-TCP frames (skipped) */
    uint64_t fragments;    /* IP fragments (skipped, not reassembled) */
    uint64_t malformed;    /* inconsistent headers */
    uint64_t truncated;    /* cut before the end of the TCP header */
    uint64_t unsupported;  /* unknown link type or protocol */
    uint64_t vlan;         /* frames that carried at least one 802.1Q/802.1ad tag */
};

/* True when decode knows this DLT_* link type. */
bool pkt_linktype_supported(int linktype);

/*
 * Decode one frame of the given DLT_* link type into p. Only caplen bytes of data are read.
 * ts_ns, frame, caplen and wirelen are copied into p. Returns what the frame was; p is
 * complete only for PKT_TCP. Updates st.
 */
enum pkt_kind pkt_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                         uint64_t ts_ns, uint64_t frame, struct pkt *p, struct decode_stats *st);

/* What a PKT_MALFORMED or PKT_TRUNCATED frame is reported as (the malformed record's text). */
const char *pkt_malformed_what(enum pkt_kind kind);

/* Format an IP address ("10.0.0.1", "2001:db8::1") into buf; returns buf. */
const char *pkt_addr_str(const struct ip_addr *a, char *buf, size_t len);

/* Format an endpoint as "ip:port" or "[ip6]:port" into buf; returns buf. */
const char *pkt_endpoint_str(const struct endpoint *e, char *buf, size_t len);

/* Room for an endpoint's text: INET6_ADDRSTRLEN, "[", "]", ":" and five digits. */
#define PKT_ENDPOINT_STRLEN 56

/* The same text into out (PKT_ENDPOINT_STRLEN bytes) from its address already formatted as ip
   (il bytes, under INET6_ADDRSTRLEN): the length, without the NUL after it. */
size_t pkt_endpoint_fmt(const struct endpoint *e, const char *ip, size_t il, char *out);

/* Parse "ADDR", "ADDR:PORT", "[ADDR6]" or "[ADDR6]:PORT"; port 0 means any. 0 or ERR_ARG. */
int pkt_endpoint_parse(const char *s, struct endpoint *e) FM_WUR;

#endif
