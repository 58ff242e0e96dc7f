/*
 * fuzz_engine.c - libFuzzer target for the whole analysis path: the input is read as a capture
 * file from memory by libpcap (nanosecond precision, as cli does), every frame is decoded and
 * the TCP segments go through the engine (flow table, TCP analysis, stream reassembly, TLS and
 * HTTP parsers, every detector, health and alerts), whose findings, flows, health rows,
 * handshakes, certificates and summary are written by the JSON-lines sink and the human summary
 * sink to /dev/null. An input that libpcap refuses is simply skipped (fuzz_decode covers it).
 *
 * A fresh engine per input keeps runs independent; its pools are small (FZ_FLOWS flows,
 * FZ_STREAMS stream buffers) so that eviction and pool exhaustion are reached too.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/engine.h"
#include "capture/decode.h"
#include "cli/json.h"
#include "cli/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_FRAMES 20000 /* bound the work per input */
#define FZ_FLOWS 64         /* flow table cap: small, so eviction happens */
#define FZ_STREAMS 16       /* stream buffers: small, so the pool runs out */
#define FZ_STREAM_CAP 4096  /* bytes kept per direction */
#define FZ_NS_PER_S 1000000000ull

static FILE *fz_null; /* /dev/null, opened once */

/* The two sinks every input's records go to, in step (no output thread: runs stay simple). */
struct fz_sinks {
    void *json;    /* json_sink_ops state */
    void *summary; /* summary_sink_ops state */
};

static void fz_put(void *ctx, const struct out_rec *r)
{
    struct fz_sinks *s = ctx;
    json_sink_ops.put(s->json, r);
    summary_sink_ops.put(s->summary, r);
}

static const struct sink_ops fz_ops = {.name = "fuzz", .put = fz_put};

/* The engine's options: defaults with small pools and short timers. */
static void fz_config(struct eng_config *cfg)
{
    eng_config_default(cfg);
    cfg->max_flows = FZ_FLOWS;
    cfg->stream_buffers = FZ_STREAMS;
    cfg->stream_cap = FZ_STREAM_CAP;
    cfg->idle_timeout_ns = 30 * FZ_NS_PER_S;
    cfg->tls_stall_ns = 2 * FZ_NS_PER_S;
    cfg->tcp_report_ns = 5 * FZ_NS_PER_S;
}

/* Decode every frame of pc and analyse it; returns the summary's frame counters. */
static void fz_run(pcap_t *pc, struct engine *e, struct run_summary *sum)
{
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *frame;
    struct decode_stats st;
    struct pkt p;
    memset(&st, 0, sizeof st);
    for (uint64_t n = 1; n <= FZ_MAX_FRAMES && pcap_next_ex(pc, &h, &frame) == 1; n++) {
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        enum pkt_kind k = pkt_decode(dlt, frame, h->caplen, h->len, ts, n, &p, &st);
        if (n == 1)
            sum->first_ts_ns = ts;
        sum->last_ts_ns = ts;
        sum->frames = n;
        sum->bytes += h->len;
        if (k == PKT_TCP)
            eng_packet(e, &p);
        else if (k == PKT_MALFORMED || k == PKT_TRUNCATED)
            eng_malformed(e, ts, n, "malformed");
        if (n % 64 == 0)
            eng_tick(e, ts);
    }
    sum->malformed = st.malformed + st.truncated;
    sum->non_tcp = st.other;
    sum->fragments = st.fragments;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[PCAP_ERRBUF_SIZE];
    if (!fz_null) {
        fz_null = fopen("/dev/null", "w");
        if (!fz_null)
            abort();
    }
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!f)
        return 0;
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fclose(f);
        return 0;
    }
    struct eng_config cfg;
    fz_config(&cfg);
    struct json_opts jo = {.out = fz_null};
    struct summary_opts so = {.out = fz_null};
    struct fz_sinks sinks = {
        .json = json_sink_ops.open(&jo, err, sizeof(err)),
        .summary = summary_sink_ops.open(&so, err, sizeof(err)),
    };
    if (!sinks.json || !sinks.summary)
        abort();
    struct engine *e = eng_new(&cfg, &fz_ops, &sinks);
    if (!e)
        abort(); /* the configuration is fixed: failing to build it is a bug */
    struct run_summary sum;
    memset(&sum, 0, sizeof sum);
    fz_run(pc, e, &sum);
    eng_finish(e, &sum);
    eng_free(e);
    summary_sink_ops.close(sinks.summary, err, sizeof(err));
    json_sink_ops.close(sinks.json, err, sizeof(err)); /* /dev/null: a write error is no bug */
    pcap_close(pc); /* closes f */
    return 0;
}
