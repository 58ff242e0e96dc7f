/*
 * test_evidence.c - the evidence ring (capture/evidence.c): first and last packets per flow,
 * the bounded pool (eviction of unmarked flows only, marked flows kept), the flow-id index
 * under many insertions and removals, and the files written (read back with libpcap); and the
 * wireshark_filter generator.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/finding.h"
#include "capture/decode.h"
#include "capture/evidence.h"
#include "tests/unit/testhelp.h"

static char g_dir[] = "/tmp/fm_test_evidence_XXXXXX";

/* Frame number n of a flow: 60 bytes whose first 8 hold (flow, n), time n us. */
static void frame_of(uint64_t flow, uint32_t n, uint8_t *buf, struct cap_frame *f)
{
    memset(buf, 0, 60);
    memcpy(buf, &flow, 4);
    memcpy(buf + 4, &n, 4);
    f->ts_ns = 1700000000000000000ull + (uint64_t)n * 1000u + flow;
    f->caplen = 60;
    f->wirelen = 60;
    f->linktype = DLT_EN10MB;
    f->data = buf;
}

/* The frame numbers stored in a written file, in order; returns how many (at most max). */
static size_t read_back(const char *path, uint32_t *out, size_t max, uint64_t *flow)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    size_t n = 0;
    if (!pc)
        return 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1 && n < max) {
        uint32_t fl = 0;
        memcpy(&fl, d, 4);
        *flow = fl;
        memcpy(&out[n++], d + 4, 4);
    }
    pcap_close(pc);
    return n;
}

static struct evidence *ring(size_t flows, size_t first, size_t last)
{
    char err[256];
    struct evidence_config c = {.dir = g_dir, .first = first, .last = last, .flows = flows};
    struct evidence *ev = evidence_new(&c, err, sizeof(err));
    if (!ev)
        fprintf(stderr, "  %s\n", err);
    return ev;
}

static void feed(struct evidence *ev, uint64_t flow, uint32_t from, uint32_t to)
{
    uint8_t buf[60];
    struct cap_frame f;
    for (uint32_t n = from; n <= to; n++) {
        frame_of(flow, n, buf, &f);
        evidence_packet(ev, flow, &f);
    }
}

/* First 3 and last 4 of 20 packets, in capture order. */
static void test_first_and_last(void)
{
    struct evidence *ev = ring(8, 3, 4);
    CHECK(ev != NULL);
    if (!ev)
        return;
    evidence_set_run(ev, 7);
    feed(ev, 42, 1, 20);
    evidence_mark(ev, 42);
    CHECK_EQ_U64(evidence_flow_end(ev, 42), 0);
    char path[4200];
    uint32_t got[32];
    uint64_t flow = 0;
    size_t n = read_back(evidence_path(g_dir, 7, 42, path, sizeof(path)), got, 32, &flow);
    const uint32_t want[] = {1, 2, 3, 17, 18, 19, 20};
    CHECK_EQ_U64(n, 7);
    for (size_t i = 0; i < n && i < 7; i++)
        CHECK_EQ_U64(got[i], want[i]);
    CHECK_EQ_U64(flow, 42);
    struct evidence_stats st;
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.written, 1);
    CHECK_EQ_U64(st.packets, 7);
    CHECK_EQ_U64(st.dropped_middle, 13);
    unlink(path);
    /* a short flow: everything, no wrap */
    feed(ev, 43, 1, 5);
    evidence_mark(ev, 43);
    CHECK_EQ_U64(evidence_flow_end(ev, 43), 0);
    n = read_back(evidence_path(g_dir, 7, 43, path, sizeof(path)), got, 32, &flow);
    CHECK_EQ_U64(n, 5);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_U64(got[i], i + 1);
    unlink(path);
    evidence_free(ev);
}

/* Unmarked flows are not written, and give their slots to newer flows; marked ones keep them. */
static void test_pool_bounds(void)
{
    struct evidence *ev = ring(4, 2, 2);
    CHECK(ev != NULL);
    if (!ev)
        return;
    for (uint64_t fl = 1; fl <= 4; fl++)
        feed(ev, fl, 1, 3);
    evidence_mark(ev, 2);
    evidence_mark(ev, 3);
    for (uint64_t fl = 5; fl <= 40; fl++) /* 36 new flows through the 2 unmarked slots */
        feed(ev, fl, 1, 3);
    struct evidence_stats st;
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.evicted, 36);
    CHECK_EQ_U64(st.not_followed, 0);
    /* flow 1 lost its slot: its later packets are not kept and take no slot from others */
    feed(ev, 1, 4, 6);
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.evicted, 36);
    CHECK_EQ_U64(st.not_followed, 3);
    evidence_mark(ev, 39);
    evidence_mark(ev, 40); /* now every slot is marked: a new flow is not followed */
    feed(ev, 41, 1, 2);
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.not_followed, 5);
    for (uint64_t fl = 1; fl <= 41; fl++)
        CHECK_EQ_U64(evidence_flow_end(ev, fl), 0);
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.written, 4); /* 2, 3, 39, 40 */
    char path[4200];
    uint32_t got[8];
    uint64_t flow = 0;
    const uint64_t kept[] = {2, 3, 39, 40};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_U64(read_back(evidence_path(g_dir, 0, kept[i], path, sizeof(path)), got, 8, &flow),
                     3);
        CHECK_EQ_U64(flow, kept[i]);
        unlink(path);
    }
    CHECK(access(evidence_path(g_dir, 0, 1, path, sizeof(path)), F_OK) != 0);
    evidence_free(ev);
}

/* Many flows in and out, interleaved: the index finds each flow's own packets. */
static void test_index_churn(void)
{
    struct evidence *ev = ring(64, 1, 1);
    CHECK(ev != NULL);
    if (!ev)
        return;
    uint64_t next = 1, oldest = 1;
    for (int round = 0; round < 5000; round++) {
        feed(ev, next, 1, 1);
        if (next % 7 == 0)
            evidence_mark(ev, next);
        next++;
        if (next - oldest > 50) {
            feed(ev, oldest, 2, 2); /* its last packet, then it ends */
            CHECK_EQ_U64(evidence_flow_end(ev, oldest), 0);
            oldest++;
        }
    }
    struct evidence_stats st;
    evidence_get_stats(ev, &st);
    CHECK_EQ_U64(st.evicted, 0);
    CHECK_EQ_U64(st.not_followed, 0);
    CHECK(st.written > 600);
    /* every written file holds its own flow's two packets, 1 then 2 */
    char path[4200];
    uint32_t got[4];
    for (uint64_t fl = 7; fl < oldest; fl += 7) {
        uint64_t flow = 0;
        size_t n = read_back(evidence_path(g_dir, 0, fl, path, sizeof(path)), got, 4, &flow);
        CHECK_EQ_U64(n, 2);
        CHECK_EQ_U64(flow, fl);
        CHECK(n == 2 && got[0] == 1 && got[1] == 2);
        unlink(path);
    }
    evidence_free(ev);
}

static void test_bad_dir(void)
{
    char err[256] = "";
    struct evidence_config c = {.dir = "/nonexistent/evidence"};
    CHECK(evidence_new(&c, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/evidence") != NULL);
}

/* The one wireshark_filter generator: IPv4, IPv6, server only, port 0, a buffer too small. */
static void test_wireshark_filter(void)
{
    struct endpoint c, s, c6, s6, host, scanner;
    char buf[WIRESHARK_FILTER_MAX];
    CHECK(pkt_endpoint_parse("10.0.0.1:40000", &c) == 0);
    CHECK(pkt_endpoint_parse("10.0.0.5:443", &s) == 0);
    CHECK(pkt_endpoint_parse("[2001:db8::1]:40000", &c6) == 0);
    CHECK(pkt_endpoint_parse("[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535", &s6) == 0);
    CHECK(pkt_endpoint_parse("10.0.0.5", &host) == 0);
    CHECK(pkt_endpoint_parse("192.0.2.9", &scanner) == 0);
    CHECK(wireshark_filter(&c, &s, buf, sizeof(buf)) > 0);
    CHECK(strcmp(buf, "ip.addr==10.0.0.1 && tcp.port==40000 && ip.addr==10.0.0.5 && "
                      "tcp.port==443") == 0);
    CHECK(wireshark_filter(NULL, &s, buf, sizeof(buf)) > 0);
    CHECK(strcmp(buf, "ip.addr==10.0.0.5 && tcp.port==443") == 0);
    CHECK(wireshark_filter(&c6, &s6, buf, sizeof(buf)) > 0);
    CHECK(strcmp(buf, "ipv6.addr==2001:db8::1 && tcp.port==40000 && "
                      "ipv6.addr==2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff && tcp.port==65535") == 0);
    CHECK(wireshark_filter(NULL, &host, buf, sizeof(buf)) > 0);
    CHECK(strcmp(buf, "ip.addr==10.0.0.5 && tcp") == 0);
    CHECK(wireshark_filter(&scanner, &host, buf, sizeof(buf)) > 0); /* a scan: hosts only */
    CHECK(strcmp(buf, "ip.addr==192.0.2.9 && ip.addr==10.0.0.5 && tcp") == 0);
    char small[20];
    CHECK_EQ_U64(wireshark_filter(&c, &s, small, sizeof(small)), 0);
    CHECK(small[0] == '\0');
    struct finding f;
    memset(&f, 0, sizeof(f));
    f.server = s;
    f.client = c;
    CHECK(finding_wireshark_filter(&f, buf, sizeof(buf)) > 0); /* has_client false: server */
    CHECK(strcmp(buf, "ip.addr==10.0.0.5 && tcp.port==443") == 0);
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_first_and_last);
    TEST_RUN(test_pool_bounds);
    TEST_RUN(test_index_churn);
    TEST_RUN(test_bad_dir);
    TEST_RUN(test_wireshark_filter);
    rmdir(g_dir);
    return TEST_REPORT();
}
