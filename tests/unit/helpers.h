/*
 * helpers.h - what the engine-driven unit tests (test_estab, test_incident, test_tcp) share:
 * IPv4 endpoints, synthetic TCP segments, a sink that keeps what the engine emits, and the
 * start and end of an engine run.
 */
#ifndef FM_TEST_HELPERS_H
#define FM_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzers/engine.h"
#include "analyzers/finding.h"

/* An IPv4 endpoint a.b.c.d:port. */
struct endpoint th_ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

/*
 * Fill p with a TCP segment from src to dst at ts_ns: len (<= 65535) zero bytes of payload, all
 * captured; no options, TTL 64, on Ethernet with 20-byte IPv4 and TCP headers. The caller sets
 * what tells segments apart (ip_id, tcp_csum) and any option.
 */
void th_tcp_seg(struct pkt *p, uint64_t ts_ns, struct endpoint src, struct endpoint dst,
                uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t win);

/* Sort n packets by time; equal times keep their order of ip_id (the order they were added). */
void th_sort_by_time(struct pkt *p, size_t n);

/* What the capture sink keeps; give it the arrays (NULL: that type is not kept). */
struct th_capture {
    struct finding *fnd;
    size_t nfnd, max_fnd;
    struct incident_record *inc;
    size_t ninc, max_inc;
    struct flow_record *flows;
    size_t nflows, max_flows;
    struct run_summary summary; /* the last summary record */
    uint64_t health_failed;     /* failed connections in the health rows */
};

/* A new engine (cfg NULL: the default configuration) whose records go to c, emptied first. */
struct engine *th_engine_new(const struct eng_config *cfg, struct th_capture *c);

/* End the run (eng_finish: the flows still open and the summary go to the sink) and free e. */
void th_engine_finish(struct engine *e);

#endif
