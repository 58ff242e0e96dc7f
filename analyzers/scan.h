/*
 * scan.h - the scan tracker: one client probing many ports or hosts, most of them
 * unanswered. The engine feeds it (every new connection attempt, every first SYN-ACK) before
 * the detectors see the segment; detectors only ask (det_scans), so the incident layer and
 * server health agree on who is a scanner and keep its probes out of the servers' counts.
 */
#ifndef FM_SCAN_H
#define FM_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../capture/pkt.h"

#define SCAN_TARGETS_MAX 64 /* distinct targets remembered per client */

/* What the tracker knows of one client address. */
struct scan_client {
    bool used;                          /* slot in use */
    bool scanner;                       /* recognised as a scanner (stays so for the run) */
    struct ip_addr ip;                  /* the client */
    uint64_t first_ns;                  /* first target of the current count */
    uint64_t last_ns;                   /* newest probe */
    uint32_t ntargets;                  /* distinct targets (counted up to SCAN_TARGETS_MAX) */
    uint32_t answered;                  /* attempts answered with a SYN-ACK */
    struct endpoint first_target;       /* the first target of the count */
    uint32_t hash[SCAN_TARGETS_MAX];    /* targets seen */
};

struct scan_table;

/* A tracker that calls a client a scanner at min_targets targets (2..SCAN_TARGETS_MAX). */
struct scan_table *scan_new(uint32_t min_targets);
void scan_free(struct scan_table *t);

/* A new connection attempt (a first SYN) of client to server at ts_ns. */
void scan_probe(struct scan_table *t, const struct endpoint *client, const struct endpoint *server,
                uint64_t ts_ns);

/* The server answered an attempt of client (its first SYN-ACK). */
void scan_answered(struct scan_table *t, const struct ip_addr *client);

/* The entry of client ip, or NULL if it is not tracked. */
const struct scan_client *scan_lookup(const struct scan_table *t, const struct ip_addr *ip);

/* ip is a scanner. */
bool scan_is_scanner(const struct scan_table *t, const struct ip_addr *ip);

#endif
