/* test_decode.c - unit tests for capture/decode.c: link types, IPv4/IPv6, TCP options, cuts. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"
#include "tests/unit/testhelp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- building blocks: link headers and IP packets, concatenated by frame() ---- */

/* clang-format off */

/* Ethernet II: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, type IPv4. */
static const uint8_t eth_ip4[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00};
/* Ethernet II, type IPv6. */
static const uint8_t eth_ip6[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0x86, 0xdd};
/* Ethernet + 802.1Q tag (VLAN 100) + type IPv4. */
static const uint8_t eth_vlan[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                   0x99, 0xaa, 0xbb, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
/* Ethernet + 802.1ad outer tag (S-VLAN 10) + 802.1Q inner tag (VLAN 100) + type IPv4. */
static const uint8_t eth_qinq[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0x88, 0xa8, 0x00, 0x0a,
                                   0x81, 0x00, 0x00, 0x64, 0x08, 0x00};
/* Ethernet + old-style 0x9100 outer tag + 802.1Q inner tag + type IPv6. */
static const uint8_t eth_q9100[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0x91, 0x00, 0x00, 0x0a,
                                    0x81, 0x00, 0x00, 0x64, 0x86, 0xdd};
/* Linux cooked v1: outgoing(4), ARPHRD_ETHER(1), halen 6, address, pad, protocol IPv4. */
static const uint8_t sll_ip4[] = {0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x00, 0x11,
                                  0x22, 0x33, 0x44, 0x55, 0x00, 0x00, 0x08, 0x00};
/* Linux cooked v2: protocol IPv6, reserved, ifindex 2, ARPHRD_ETHER, host(0), halen 6, addr. */
static const uint8_t sll2_ip6[] = {0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
                                   0x00, 0x06, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00};
/* DLT_NULL written by a little-endian host: AF_INET = 2. */
static const uint8_t null_le_inet[] = {0x02, 0x00, 0x00, 0x00};
/* DLT_NULL little-endian, AF_INET6 as FreeBSD writes it: 28. */
static const uint8_t null_le_inet6_28[] = {0x1c, 0x00, 0x00, 0x00};
/* DLT_NULL little-endian, AF_INET6 as macOS writes it: 30. */
static const uint8_t null_le_inet6_30[] = {0x1e, 0x00, 0x00, 0x00};
/* DLT_LOOP (network order), AF_INET = 2. */
static const uint8_t loop_be_inet[] = {0x00, 0x00, 0x00, 0x02};
/* DLT_LOOP (network order), AF_INET6 as NetBSD/OpenBSD write it: 24. */
static const uint8_t loop_be_inet6_24[] = {0x00, 0x00, 0x00, 0x18};

/*
 * IPv4 + TCP SYN with the usual Linux options (total length 60):
 * IPv4 IHL 5, id 0x1234, DF, TTL 64, proto TCP, 10.0.0.1 -> 10.0.0.2;
 * TCP 49152 -> 443, seq 100, ack 0, data offset 10 (40 bytes), SYN, window 64240, csum 0xabcd;
 * options MSS 1460, SACK-permitted, timestamps 1/0, NOP, window scale 7.
 */
static const uint8_t ip4_syn[] = {
    0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02,                                                   /* IPv4 */
    0xc0, 0x00, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa,
    0xf0, 0xab, 0xcd, 0x00, 0x00,                                                   /* TCP */
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x03, 0x03, 0x07,                                                   /* opts */
};

/*
 * IPv4 + TCP ACK|PSH carrying "hello" (total length 45): 10.0.0.2:443 -> 10.0.0.1:49152,
 * seq 1000, ack 101, data offset 5, window 512.
 */
static const uint8_t ip4_data[] = {
    0x45, 0x00, 0x00, 0x2d, 0x00, 0x07, 0x40, 0x00, 0x3f, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x02, 0x0a, 0x00, 0x00, 0x01,                                             /* IPv4 */
    0x01, 0xbb, 0xc0, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x65, 0x50, 0x18,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
    'h',  'e',  'l',  'l',  'o',                                                    /* data */
};

/*
 * IPv4 with 4 option bytes (IHL 6: NOP NOP NOP EOL) + TCP ACK, no data (total length 44).
 */
static const uint8_t ip4_opts[] = {
    0x46, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0xc0, 0xa8,
    0x01, 0x01, 0xc0, 0xa8, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,                     /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x50, 0x10,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv4 first fragment: MF set, offset 0, proto TCP (total length 40). */
static const uint8_t ip4_frag_mf[] = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x09, 0x20, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x50, 0x10,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv4 last fragment: MF clear, offset 185 (1480 bytes), proto TCP, 8 bytes of data. */
static const uint8_t ip4_frag_last[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x09, 0x00, 0xb9, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    1, 2, 3, 4, 5, 6, 7, 8,                                                         /* data */
};

/* IPv4 UDP 53 -> 53, 8-byte header, no data (total length 28). */
static const uint8_t ip4_udp[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x35, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};

/*
 * IPv6 with hop-by-hop options (PadN 4) and destination options (PadN 4) before TCP
 * (payload length 36): 2001:db8::1 port 5000 -> 2001:db8::2 port 443, hop limit 63,
 * TCP SYN|ACK seq 7 ack 8 data offset 5, window 1024.
 */
static const uint8_t ip6_ext[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x3f,                                 /* IPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                  /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,                  /* dst */
    0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,                                 /* HBH */
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,                                 /* DST */
    0x13, 0x88, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x50, 0x12,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv6 fragment header, offset 0, M=1 (a real first fragment), then TCP (payload 28). */
static const uint8_t ip6_frag[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x2c, 0x40,                                 /* IPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                  /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,                  /* dst */
    0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a,                                 /* FRAG */
    0x13, 0x88, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x50, 0x10,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv6 atomic fragment (offset 0, M=0, RFC 6946), then TCP: decoded as TCP (payload 28). */
static const uint8_t ip6_atomic[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x2c, 0x40,                                 /* IPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                  /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,                  /* dst */
    0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,                                 /* FRAG */
    0x13, 0x88, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x50, 0x10,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv6 with routing header (type 0, 0 segments) then AH (len 4: 24 bytes), then TCP. */
static const uint8_t ip6_rt_ah[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x34, 0x2b, 0x40,                                 /* IPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                  /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,                  /* dst */
    0x33, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                                 /* RT */
    0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                                             /* AH */
    0x13, 0x88, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x50, 0x10,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv6, next header 59 (no next header), payload length 0... well 4 bytes of nothing. */
static const uint8_t ip6_nonext[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x04, 0x3b, 0x40,                                 /* IPv6 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                  /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,                  /* dst */
    0, 0, 0, 0,
};

/*
 * IPv4 + TCP ACK with NOP NOP and a SACK option holding 4 blocks (hlen 56, total 76):
 * blocks [1000,2000) [3000,4000) [5000,6000) [0xfffffff0,0x10).
 */
static const uint8_t ip4_sack4[] = {
    0x45, 0x00, 0x00, 0x4c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xe0, 0x10,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
    0x01, 0x01, 0x05, 0x22,                                                         /* SACK */
    0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0,
    0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x17, 0x70, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10,
};

/*
 * IPv4 + TCP with a truncated option list (hlen 28, total 48): MSS 1460, then a timestamps
 * option whose length 10 runs past the header's 4 remaining bytes.
 */
static const uint8_t ip4_optcut[] = {
    0x45, 0x00, 0x00, 0x30, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x70, 0x02,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
    0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a, 0x00, 0x00,                                 /* opts */
};

/* IPv4 + TCP (hlen 24): an MSS option with a wrong length 3, then NOP: bad but skipped. */
static const uint8_t ip4_optbadlen[] = {
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x60, 0x02,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
    0x02, 0x03, 0x05, 0x01,                                                         /* opts */
};

/* IPv4 + TCP with data offset 4 (less than the minimum 5): malformed. */
static const uint8_t ip4_tcp_off4[] = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x40, 0x10,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* IPv4 total length 40 but TCP data offset 15 (60 bytes): header beyond segment, malformed. */
static const uint8_t ip4_tcp_off15[] = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                                             /* IPv4 */
    0x00, 0x50, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xf0, 0x10,
    0x10, 0x00, 0x00, 0x00, 0x00, 0x00,                                             /* TCP */
};

/* A "version 5" header where IPv4 was announced: malformed. */
static const uint8_t ip4_badver[] = {
    0x55, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
};

/* IPv4 with IHL 4 (16 bytes, below the minimum): malformed. */
static const uint8_t ip4_ihl4[] = {
    0x44, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
};

/* 802.3 frame with length 0x0026 and LLC/SNAP (AA AA 03, OUI 0, type IPv4): skipped. */
static const uint8_t eth_llc[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                  0xaa, 0xbb, 0x00, 0x26, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00,
                                  0x08, 0x00};

/* ARP request header start (EtherType 0x0806). */
static const uint8_t eth_arp[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66, 0x77, 0x88, 0x99,
                                  0xaa, 0xbb, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04};

/* clang-format on */

/* A frame assembled from a link header, an IP packet and optional trailing padding. */
struct frame {
    uint8_t b[256]; /* bytes */
    uint32_t len;   /* used */
};

static struct frame frame(const uint8_t *link, size_t ll, const uint8_t *ip, size_t il, size_t pad)
{
    struct frame f;
    memset(&f, 0, sizeof f);
    if (ll)
        memcpy(f.b, link, ll);
    if (il)
        memcpy(f.b + ll, ip, il);
    f.len = (uint32_t)(ll + il + pad); /* padding bytes are zero */
    return f;
}

/* Decode a full (uncut) frame. */
static enum pkt_kind dec(int dlt, const struct frame *f, struct pkt *p, struct decode_stats *st)
{
    return pkt_decode(dlt, f->b, f->len, f->len, 1234567890123456789ull, 7, p, st);
}

/* Fields of ip4_syn as decoded. */
static void check_syn(const struct pkt *p)
{
    char a[64], b[64];
    CHECK(strcmp(pkt_endpoint_str(&p->src, a, sizeof a), "10.0.0.1:49152") == 0);
    CHECK(strcmp(pkt_endpoint_str(&p->dst, b, sizeof b), "10.0.0.2:443") == 0);
    CHECK_EQ_U64(p->ttl, 64);
    CHECK_EQ_U64(p->ip_id, 0x1234);
    CHECK_EQ_U64(p->seq, 100);
    CHECK_EQ_U64(p->ack, 0);
    CHECK_EQ_U64(p->flags, TCP_SYN);
    CHECK_EQ_U64(p->win, 64240);
    CHECK_EQ_U64(p->tcp_csum, 0xabcd);
    CHECK_EQ_U64(p->tcp_hlen, 40);
    CHECK_EQ_U64(p->tcp_len, 0);
    CHECK(p->payload == NULL);
    CHECK_EQ_U64(p->payload_caplen, 0);
    CHECK(p->has_mss);
    CHECK_EQ_U64(p->mss, 1460);
    CHECK(p->sack_perm);
    CHECK(p->has_ts);
    CHECK_EQ_U64(p->tsval, 1);
    CHECK_EQ_U64(p->tsecr, 0);
    CHECK(p->has_wscale);
    CHECK_EQ_U64(p->wscale, 7);
    CHECK_EQ_U64(p->nsack, 0);
    CHECK(!p->opts_truncated);
}

static void test_ethernet(void)
{
    struct decode_stats st = {0};
    struct pkt p;
    struct frame f = frame(eth_ip4, sizeof eth_ip4, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    check_syn(&p);
    CHECK_EQ_U64(p.ts_ns, 1234567890123456789ull);
    CHECK_EQ_U64(p.frame, 7);
    CHECK_EQ_U64(p.caplen, 74);
    CHECK_EQ_U64(p.wirelen, 74);
    CHECK_EQ_U64(st.frames, 1);
    CHECK_EQ_U64(st.tcp, 1);
    CHECK_EQ_U64(st.vlan, 0);

    /* Ethernet padding: 14 + 45 = 59 bytes padded to 60; padding is not payload. */
    f = frame(eth_ip4, sizeof eth_ip4, ip4_data, sizeof ip4_data, 1);
    CHECK_EQ_U64(f.len, 60);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.tcp_len, 5);
    CHECK_EQ_U64(p.payload_caplen, 5);
    CHECK(p.payload && memcmp(p.payload, "hello", 5) == 0);
    CHECK_EQ_U64(p.flags, TCP_ACK | TCP_PSH);
    CHECK_EQ_U64(p.seq, 1000);
    CHECK_EQ_U64(p.ack, 101);
    CHECK_EQ_U64(p.ttl, 63);
    CHECK(!p.has_mss && !p.has_ts && !p.sack_perm && !p.has_wscale);

    /* Larger padding (e.g. a switch that pads to 64). */
    f = frame(eth_ip4, sizeof eth_ip4, ip4_data, sizeof ip4_data, 20);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.payload_caplen, 5);

    f = frame(eth_llc, sizeof eth_llc, NULL, 0, 26);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_OTHER);
    f = frame(eth_arp, sizeof eth_arp, NULL, 0, 22);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_OTHER);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_udp, sizeof ip4_udp, 18);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_OTHER);
    CHECK_EQ_U64(st.other, 3);
    CHECK_EQ_U64(st.frames, 6);
}

static void test_vlan(void)
{
    struct decode_stats st = {0};
    struct pkt p;
    struct frame f = frame(eth_vlan, sizeof eth_vlan, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    check_syn(&p);
    f = frame(eth_qinq, sizeof eth_qinq, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    check_syn(&p);
    f = frame(eth_q9100, sizeof eth_q9100, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.src.port, 5000);
    CHECK_EQ_U64(st.vlan, 3);
    CHECK_EQ_U64(st.tcp, 3);

    /* Nine stacked 802.1Q tags: more than any real network uses. */
    struct frame g;
    memset(&g, 0, sizeof g);
    memcpy(g.b, eth_ip4, 12);
    size_t o = 12;
    for (int i = 0; i < 9; i++) {
        g.b[o++] = 0x81;
        g.b[o++] = 0x00;
        g.b[o++] = 0x00;
        g.b[o++] = 0x01;
    }
    g.b[o++] = 0x08;
    g.b[o++] = 0x00;
    memcpy(g.b + o, ip4_syn, sizeof ip4_syn);
    g.len = (uint32_t)(o + sizeof ip4_syn);
    CHECK_EQ_U64(dec(DLT_EN10MB, &g, &p, &st), PKT_MALFORMED);
}

static void test_link_types(void)
{
    struct pkt p;
    struct frame f;
    char buf[64];

    f = frame(sll_ip4, sizeof sll_ip4, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_LINUX_SLL, &f, &p, NULL), PKT_TCP);
    check_syn(&p);

    f = frame(sll2_ip6, sizeof sll2_ip6, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_LINUX_SLL2, &f, &p, NULL), PKT_TCP);
    CHECK(strcmp(pkt_endpoint_str(&p.src, buf, sizeof buf), "[2001:db8::1]:5000") == 0);

    f = frame(NULL, 0, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    check_syn(&p);
    CHECK_EQ_U64(dec(101, &f, &p, NULL), PKT_TCP); /* LINKTYPE_RAW */
    CHECK_EQ_U64(dec(228, &f, &p, NULL), PKT_TCP); /* DLT_IPV4 */
    f = frame(NULL, 0, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK_EQ_U64(dec(229, &f, &p, NULL), PKT_TCP); /* DLT_IPV6 */
    f = frame(NULL, 0, ip4_badver, sizeof ip4_badver, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_MALFORMED);

    f = frame(null_le_inet, 4, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_NULL, &f, &p, NULL), PKT_TCP);
    check_syn(&p);
    f = frame(loop_be_inet, 4, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_LOOP, &f, &p, NULL), PKT_TCP);
    CHECK_EQ_U64(dec(DLT_NULL, &f, &p, NULL), PKT_TCP); /* NULL written big-endian */
    f = frame(null_le_inet6_28, 4, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_NULL, &f, &p, NULL), PKT_TCP);
    CHECK_EQ_U64(p.dst.port, 443);
    f = frame(null_le_inet6_30, 4, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_NULL, &f, &p, NULL), PKT_TCP);
    f = frame(loop_be_inet6_24, 4, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_LOOP, &f, &p, NULL), PKT_TCP);
    /* AF 7 (AF_OSI on BSD): not IP. */
    static const uint8_t null_af7[] = {0x07, 0x00, 0x00, 0x00};
    f = frame(null_af7, 4, ip4_syn, sizeof ip4_syn, 0);
    CHECK_EQ_U64(dec(DLT_NULL, &f, &p, NULL), PKT_OTHER);

    CHECK(pkt_linktype_supported(DLT_EN10MB));
    CHECK(pkt_linktype_supported(DLT_LINUX_SLL2));
    CHECK(pkt_linktype_supported(DLT_NULL));
    CHECK(!pkt_linktype_supported(DLT_IEEE802_11_RADIO));
    struct decode_stats st = {0};
    CHECK_EQ_U64(dec(DLT_IEEE802_11_RADIO, &f, &p, &st), PKT_UNSUPPORTED);
    CHECK_EQ_U64(st.unsupported, 1);
    CHECK_EQ_U64(pkt_decode(DLT_EN10MB, NULL, 0, 0, 0, 1, &p, &st), PKT_MALFORMED);
}

static void test_ipv4(void)
{
    struct decode_stats st = {0};
    struct pkt p;
    char buf[64];
    struct frame f = frame(eth_ip4, sizeof eth_ip4, ip4_opts, sizeof ip4_opts, 2);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK(strcmp(pkt_endpoint_str(&p.src, buf, sizeof buf), "192.168.1.1:80") == 0);
    CHECK_EQ_U64(p.dst.port, 1024);
    CHECK_EQ_U64(p.seq, 1);
    CHECK_EQ_U64(p.ack, 2);
    CHECK_EQ_U64(p.tcp_len, 0);

    f = frame(eth_ip4, sizeof eth_ip4, ip4_frag_mf, sizeof ip4_frag_mf, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_FRAGMENT);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_frag_last, sizeof ip4_frag_last, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_FRAGMENT);
    CHECK_EQ_U64(st.fragments, 2);

    f = frame(eth_ip4, sizeof eth_ip4, ip4_badver, sizeof ip4_badver, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_ihl4, sizeof ip4_ihl4, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_tcp_off4, sizeof ip4_tcp_off4, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_tcp_off15, sizeof ip4_tcp_off15, 20);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    CHECK_EQ_U64(st.malformed, 4);

    /* Total length 19 (< IHL 20): malformed. */
    f = frame(eth_ip4, sizeof eth_ip4, ip4_syn, sizeof ip4_syn, 0);
    f.b[14 + 3] = 19;
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    /* Total length 30: TCP header would need 20 but only 10 are declared: malformed. */
    f.b[14 + 3] = 30;
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    /* Total length 0 (TSO on the capturing host): the frame length is used. */
    f = frame(eth_ip4, sizeof eth_ip4, ip4_data, sizeof ip4_data, 0);
    f.b[14 + 2] = 0;
    f.b[14 + 3] = 0;
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.tcp_len, 5);

    /* Snaplen cut inside the payload: tcp_len from the IP header, payload what was captured. */
    f = frame(eth_ip4, sizeof eth_ip4, ip4_data, sizeof ip4_data, 0);
    CHECK_EQ_U64(pkt_decode(DLT_EN10MB, f.b, f.len - 2, f.len, 0, 1, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.tcp_len, 5);
    CHECK_EQ_U64(p.payload_caplen, 3);
    CHECK(p.payload && memcmp(p.payload, "hel", 3) == 0);
}

static void test_ipv6(void)
{
    struct decode_stats st = {0};
    struct pkt p;
    char buf[64];
    struct frame f = frame(eth_ip6, sizeof eth_ip6, ip6_ext, sizeof ip6_ext, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK(strcmp(pkt_endpoint_str(&p.src, buf, sizeof buf), "[2001:db8::1]:5000") == 0);
    CHECK(strcmp(pkt_endpoint_str(&p.dst, buf, sizeof buf), "[2001:db8::2]:443") == 0);
    CHECK_EQ_U64(p.ttl, 63);
    CHECK_EQ_U64(p.ip_id, 0);
    CHECK_EQ_U64(p.seq, 7);
    CHECK_EQ_U64(p.ack, 8);
    CHECK_EQ_U64(p.flags, TCP_SYN | TCP_ACK);
    CHECK_EQ_U64(p.win, 1024);
    CHECK_EQ_U64(p.tcp_len, 0);

    f = frame(eth_ip6, sizeof eth_ip6, ip6_frag, sizeof ip6_frag, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_FRAGMENT);
    f = frame(eth_ip6, sizeof eth_ip6, ip6_atomic, sizeof ip6_atomic, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.flags, TCP_ACK);
    f = frame(eth_ip6, sizeof eth_ip6, ip6_rt_ah, sizeof ip6_rt_ah, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.tcp_len, 0);
    CHECK_EQ_U64(p.dst.port, 443);
    f = frame(eth_ip6, sizeof eth_ip6, ip6_nonext, sizeof ip6_nonext, 0);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_OTHER);

    /* Payload length 10 cannot hold the 16 bytes of extension headers: malformed. */
    f = frame(eth_ip6, sizeof eth_ip6, ip6_ext, sizeof ip6_ext, 0);
    f.b[14 + 5] = 10;
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    /* Payload length 30 leaves 14 bytes for TCP: malformed. */
    f.b[14 + 5] = 30;
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_MALFORMED);
    /* Ethernet padding after an IPv6 packet is ignored. */
    f = frame(eth_ip6, sizeof eth_ip6, ip6_ext, sizeof ip6_ext, 6);
    CHECK_EQ_U64(dec(DLT_EN10MB, &f, &p, &st), PKT_TCP);
    CHECK_EQ_U64(p.tcp_len, 0);
    CHECK_EQ_U64(p.payload_caplen, 0);
}

static void test_tcp_options(void)
{
    struct pkt p;
    struct frame f = frame(NULL, 0, ip4_sack4, sizeof ip4_sack4, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK_EQ_U64(p.tcp_hlen, 56);
    CHECK_EQ_U64(p.nsack, 4);
    CHECK_EQ_U64(p.sack[0][0], 1000);
    CHECK_EQ_U64(p.sack[0][1], 2000);
    CHECK_EQ_U64(p.sack[1][0], 3000);
    CHECK_EQ_U64(p.sack[1][1], 4000);
    CHECK_EQ_U64(p.sack[2][0], 5000);
    CHECK_EQ_U64(p.sack[2][1], 6000);
    CHECK_EQ_U64(p.sack[3][0], 0xfffffff0u);
    CHECK_EQ_U64(p.sack[3][1], 0x10);
    CHECK(!p.opts_truncated);

    f = frame(NULL, 0, ip4_optcut, sizeof ip4_optcut, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK(p.has_mss);
    CHECK_EQ_U64(p.mss, 1460);
    CHECK(!p.has_ts);
    CHECK(p.opts_truncated);

    f = frame(NULL, 0, ip4_optbadlen, sizeof ip4_optbadlen, 0);
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK(!p.has_mss);
    CHECK(p.opts_truncated);

    /* Option length 1 (below the minimum 2): truncated, packet kept. */
    f = frame(NULL, 0, ip4_optbadlen, sizeof ip4_optbadlen, 0);
    f.b[41] = 1;
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK(p.opts_truncated);

    /* EOL ends the list: what follows is not parsed. */
    f = frame(NULL, 0, ip4_optcut, sizeof ip4_optcut, 0);
    f.b[40] = 0; /* EOL instead of MSS */
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK(!p.has_mss && !p.opts_truncated);

    /* SACK length 12 (not 2 + 8n): flagged, block not used. */
    f = frame(NULL, 0, ip4_sack4, sizeof ip4_sack4, 0);
    f.b[43] = 12;
    CHECK_EQ_U64(dec(DLT_RAW, &f, &p, NULL), PKT_TCP);
    CHECK(p.opts_truncated);
    CHECK_EQ_U64(p.nsack, 0);
}

/* Cut each frame at every length and check the kind is sane; heap copies let ASan see. */
static void cut_all(int dlt, const struct frame *f, uint32_t tcp_end, enum pkt_kind full)
{
    for (uint32_t n = 0; n <= f->len; n++) {
        uint8_t *b = malloc(n ? n : 1);
        if (!b)
            return;
        memcpy(b, f->b, n);
        struct pkt p;
        struct decode_stats st = {0};
        enum pkt_kind k = pkt_decode(dlt, b, n, f->len, 0, 1, &p, &st);
        if (n == f->len) {
            CHECK_EQ_U64(k, full);
        } else if (full == PKT_TCP) {
            CHECK_EQ_U64(k, n < tcp_end ? PKT_TRUNCATED : PKT_TCP);
            if (k == PKT_TCP)
                CHECK(p.payload_caplen <= p.tcp_len && p.payload_caplen == n - tcp_end);
        } else {
            CHECK(k == PKT_TRUNCATED || k == full);
        }
        CHECK_EQ_U64(st.frames, 1);
        /* The same cut, claimed as the whole frame, must not crash either. */
        k = pkt_decode(dlt, b, n, n, 0, 1, &p, &st);
        CHECK(k <= PKT_UNSUPPORTED);
        free(b);
    }
}

static void test_snaplen_cuts(void)
{
    struct frame f;
    f = frame(eth_ip4, sizeof eth_ip4, ip4_syn, sizeof ip4_syn, 0);
    cut_all(DLT_EN10MB, &f, 74, PKT_TCP);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_data, sizeof ip4_data, 0);
    cut_all(DLT_EN10MB, &f, 54, PKT_TCP);
    f = frame(eth_qinq, sizeof eth_qinq, ip4_opts, sizeof ip4_opts, 0);
    cut_all(DLT_EN10MB, &f, 22 + 44, PKT_TCP);
    f = frame(eth_ip6, sizeof eth_ip6, ip6_ext, sizeof ip6_ext, 0);
    cut_all(DLT_EN10MB, &f, 14 + 76, PKT_TCP);
    f = frame(eth_q9100, sizeof eth_q9100, ip6_rt_ah, sizeof ip6_rt_ah, 0);
    cut_all(DLT_EN10MB, &f, 22 + 92, PKT_TCP);
    f = frame(sll_ip4, sizeof sll_ip4, ip4_sack4, sizeof ip4_sack4, 0);
    cut_all(DLT_LINUX_SLL, &f, 16 + 76, PKT_TCP);
    f = frame(sll2_ip6, sizeof sll2_ip6, ip6_atomic, sizeof ip6_atomic, 0);
    cut_all(DLT_LINUX_SLL2, &f, 20 + 68, PKT_TCP);
    f = frame(null_le_inet6_30, 4, ip6_ext, sizeof ip6_ext, 0);
    cut_all(DLT_NULL, &f, 4 + 76, PKT_TCP);
    f = frame(loop_be_inet, 4, ip4_optcut, sizeof ip4_optcut, 0);
    cut_all(DLT_LOOP, &f, 4 + 48, PKT_TCP);
    f = frame(NULL, 0, ip4_syn, sizeof ip4_syn, 0);
    cut_all(DLT_RAW, &f, 60, PKT_TCP);
    f = frame(eth_ip6, sizeof eth_ip6, ip6_frag, sizeof ip6_frag, 0);
    cut_all(DLT_EN10MB, &f, 0, PKT_FRAGMENT);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_frag_mf, sizeof ip4_frag_mf, 0);
    cut_all(DLT_EN10MB, &f, 0, PKT_FRAGMENT);
    f = frame(eth_ip4, sizeof eth_ip4, ip4_tcp_off15, sizeof ip4_tcp_off15, 0);
    cut_all(DLT_EN10MB, &f, 0, PKT_MALFORMED);
}

static void test_endpoints(void)
{
    struct endpoint e;
    char buf[64];
    CHECK(pkt_endpoint_parse("1.2.3.4", &e) == 0);
    CHECK_EQ_U64(e.ip.family, 4);
    CHECK_EQ_U64(e.port, 0);
    CHECK(e.ip.a[0] == 1 && e.ip.a[3] == 4 && e.ip.a[4] == 0 && e.ip.a[15] == 0);
    CHECK(strcmp(pkt_addr_str(&e.ip, buf, sizeof buf), "1.2.3.4") == 0);

    CHECK(pkt_endpoint_parse("1.2.3.4:443", &e) == 0);
    CHECK_EQ_U64(e.port, 443);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "1.2.3.4:443") == 0);

    /* The hand-written IPv4 formatting: every width, and buffers too small (as inet_ntop and
       snprintf: "?" for an address that does not fit, an endpoint cut and terminated). */
    CHECK(pkt_endpoint_parse("0.10.100.255:65535", &e) == 0);
    CHECK(strcmp(pkt_addr_str(&e.ip, buf, sizeof buf), "0.10.100.255") == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "0.10.100.255:65535") == 0);
    CHECK(strcmp(pkt_addr_str(&e.ip, buf, 13), "0.10.100.255") == 0);
    CHECK(strcmp(pkt_addr_str(&e.ip, buf, 12), "?") == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, 19), "0.10.100.255:65535") == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, 18), "0.10.100.255:6553") == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, 1), "") == 0);
    CHECK(pkt_endpoint_parse("255.255.255.255", &e) == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "255.255.255.255:0") == 0);
    e.ip.family = 0; /* neither 4 nor 6 */
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "?:0") == 0);

    CHECK(pkt_endpoint_parse("[2001:db8::1]:443", &e) == 0);
    CHECK_EQ_U64(e.ip.family, 6);
    CHECK_EQ_U64(e.port, 443);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "[2001:db8::1]:443") == 0);

    CHECK(pkt_endpoint_parse("[2001:db8::1]", &e) == 0);
    CHECK_EQ_U64(e.port, 0);
    CHECK(strcmp(pkt_addr_str(&e.ip, buf, sizeof buf), "2001:db8::1") == 0);

    CHECK(pkt_endpoint_parse("2001:db8::1", &e) == 0);
    CHECK_EQ_U64(e.ip.family, 6);
    CHECK_EQ_U64(e.port, 0);
    CHECK(pkt_endpoint_parse("::1", &e) == 0);
    CHECK(strcmp(pkt_endpoint_str(&e, buf, sizeof buf), "[::1]:0") == 0);
    CHECK(pkt_endpoint_parse("::ffff:10.0.0.1", &e) == 0);
    CHECK(pkt_endpoint_parse("0.0.0.0:65535", &e) == 0);
    CHECK_EQ_U64(e.port, 65535);

    /* Round trip: format what was parsed, parse it again, compare. */
    static const char *const rt[] = {"10.0.0.1:1", "[fe80::1:2]:8443", "[::]:22",
                                     "255.255.255.255:65535"};
    for (size_t i = 0; i < N(rt); i++) {
        struct endpoint a, b;
        CHECK(pkt_endpoint_parse(rt[i], &a) == 0);
        CHECK(strcmp(pkt_endpoint_str(&a, buf, sizeof buf), rt[i]) == 0);
        CHECK(pkt_endpoint_parse(buf, &b) == 0);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
    }

    static const char *const bad[] = {
        "",
        "garbage",
        "1.2.3",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "1.2.3.4:-1",
        "1.2.3.4:80x",
        "1.2.3.4:099999",
        "256.1.1.1",
        "[2001:db8::1",
        "[2001:db8::1]:",
        "[2001:db8::1]x",
        "[1.2.3.4]:80",
        "2001:db8::1:443:x",
        ":443",
        "[]:80",
        "1.2.3.4 :80",
        "[2001:db8::1]:70000",
    };
    for (size_t i = 0; i < N(bad); i++) {
        e.port = 4242;
        int rc = pkt_endpoint_parse(bad[i], &e);
        CHECK_EQ_U64((uint64_t)(int64_t)rc, (uint64_t)(int64_t)ERR_ARG);
        if (rc != ERR_ARG)
            fprintf(stderr, "  accepted bad endpoint \"%s\"\n", bad[i]);
        CHECK_EQ_U64(e.port, 4242); /* untouched on failure */
    }
    CHECK(pkt_endpoint_parse(NULL, &e) == ERR_ARG);

    /* A too-small buffer is cut, NUL-terminated, never overrun. */
    char small[6];
    CHECK(pkt_endpoint_parse("[2001:db8::1]:443", &e) == 0);
    pkt_endpoint_str(&e, small, sizeof small);
    CHECK(strlen(small) == 5);
}

int main(void)
{
    TEST_RUN(test_ethernet);
    TEST_RUN(test_vlan);
    TEST_RUN(test_link_types);
    TEST_RUN(test_ipv4);
    TEST_RUN(test_ipv6);
    TEST_RUN(test_tcp_options);
    TEST_RUN(test_snaplen_cuts);
    TEST_RUN(test_endpoints);
    return TEST_REPORT();
}
