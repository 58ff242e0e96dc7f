/*
 * fuzz_decode.c - libFuzzer target for the capture path. An input that starts with a pcap or
 * pcapng magic number is read as a whole capture file through libpcap (from memory) and every
 * frame is decoded; any other input is one raw frame whose first byte picks the link type.
 * The raw input is also tried as an endpoint string.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Link types a raw input can select with its first byte (index modulo the table size). */
static const int fuzz_links[] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101, 228, 229, DLT_NULL, DLT_LOOP, 147,
};

#define FUZZ_MAX_FRAMES 100000 /* bound the work per input */

/* True when data starts with a capture file magic number (pcap either order, ns, pcapng). */
static int is_capture(const uint8_t *d, size_t n)
{
    static const uint8_t magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
        {0xa1, 0xb2, 0x3c, 0x4d}, {0x0a, 0x0d, 0x0d, 0x0a},
    };
    if (n < 4)
        return 0;
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(d, magics[i], 4) == 0)
            return 1;
    return 0;
}

/* Read a whole capture from memory and decode every frame. */
static void fuzz_capture(const uint8_t *data, size_t size)
{
    char err[PCAP_ERRBUF_SIZE];
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!f)
        return;
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) {
        fclose(f);
        return;
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *frame;
    struct decode_stats st;
    struct pkt p;
    memset(&st, 0, sizeof st);
    for (uint64_t n = 1; n <= FUZZ_MAX_FRAMES && pcap_next_ex(pc, &h, &frame) == 1; n++)
        (void)pkt_decode(dlt, frame, h->caplen, h->len, 0, n, &p, &st);
    pcap_close(pc); /* closes f */
}

/* One raw frame: byte 0 picks the link type; also parse the bytes as an endpoint string. */
static void fuzz_frame(const uint8_t *data, size_t size)
{
    struct decode_stats st;
    struct pkt p;
    char text[80];
    char buf[64];
    struct endpoint e;

    memset(&st, 0, sizeof st);
    if (size == 0)
        return;
    int dlt = fuzz_links[data[0] % (sizeof fuzz_links / sizeof fuzz_links[0])];
    uint32_t len = (uint32_t)(size - 1 > 0xffff ? 0xffff : size - 1);
    enum pkt_kind k =
        pkt_decode(dlt, data + 1, len, len + (data[0] & 0x80 ? 100 : 0), 0, 1, &p, &st);
    if (k == PKT_TCP) {
        pkt_endpoint_str(&p.src, buf, sizeof buf);
        pkt_endpoint_str(&p.dst, buf, sizeof buf);
    }

    size_t n = size - 1 < sizeof text - 1 ? size - 1 : sizeof text - 1;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    if (pkt_endpoint_parse(text, &e) == 0)
        pkt_endpoint_str(&e, buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (is_capture(data, size))
        fuzz_capture(data, size);
    else
        fuzz_frame(data, size);
    return 0;
}
