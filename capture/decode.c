/*
 * decode.c - one frame to a packet view: a DLT dispatch table (as tcpdump print.c), Ethernet
 * with 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD loopback; IPv4 (RFC 791), IPv6 and
 * its extension headers (RFC 8200), TCP and its options (RFC 9293, RFC 7323, RFC 2018).
 * Every byte is read through the rd.h cursor.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "capture/decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/rd.h"
#include "capture/text.h"

/* Values that are not in every dlt.h, or that the brief fixes by number. */
enum {
    LINKTYPE_RAW_NUM = 101, /* LINKTYPE_RAW as stored in files (libpcap maps it to DLT_RAW) */
    DLT_IPV4_NUM = 228,     /* raw IPv4 */
    DLT_IPV6_NUM = 229,     /* raw IPv6 */
    DLT_LOOP_LINUX = 108,   /* DLT_LOOP everywhere but OpenBSD */
};

/* EtherType values (IEEE registry) that decode acts on. */
enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_8021Q = 0x8100,
    ETHERTYPE_8021AD = 0x88a8,
    ETHERTYPE_QINQ_OLD = 0x9100,
    ETHERTYPE_MIN = 0x0600, /* below this the field is an 802.3 length: LLC follows */
};

/* IP protocol / IPv6 next-header numbers. */
enum {
    IPPROTO_NUM_HOPOPTS = 0,
    IPPROTO_NUM_TCP = 6,
    IPPROTO_NUM_ROUTING = 43,
    IPPROTO_NUM_FRAGMENT = 44,
    IPPROTO_NUM_AH = 51,
    IPPROTO_NUM_NONE = 59,
    IPPROTO_NUM_DSTOPTS = 60,
};

/* TCP option kinds (IANA). */
enum {
    TCPOPT_EOL = 0,
    TCPOPT_NOP = 1,
    TCPOPT_MSS = 2,
    TCPOPT_WSCALE = 3,
    TCPOPT_SACK_PERM = 4,
    TCPOPT_SACK = 5,
    TCPOPT_TIMESTAMP = 8,
};

#define VLAN_MAX_TAGS 8 /* more stacked tags than this is not a real frame: malformed */
#define IP6_MAX_EXT 16  /* bound on IPv6 extension headers walked per packet */

/* State of one decode call, passed down the layers. */
struct dctx {
    struct pkt *p; /* view being filled */
    bool cut;      /* caplen < wirelen: the frame was cut by snaplen */
    bool vlan;     /* at least one 802.1Q/802.1ad tag seen */
};

/* A link-layer decoder: r covers the whole frame. */
typedef enum pkt_kind (*link_fn)(struct rd *r, struct dctx *c);

/* One line of the DLT dispatch table. */
struct dlt_entry {
    int dlt;    /* DLT_* / LINKTYPE_* value */
    link_fn fn; /* decoder for frames of this type */
};

static enum pkt_kind dec_ether(struct rd *r, struct dctx *c);
static enum pkt_kind dec_sll(struct rd *r, struct dctx *c);
static enum pkt_kind dec_sll2(struct rd *r, struct dctx *c);
static enum pkt_kind dec_raw(struct rd *r, struct dctx *c);
static enum pkt_kind dec_null(struct rd *r, struct dctx *c);

/* clang-format off */
static const struct dlt_entry dlt_table[] = {
    {DLT_EN10MB, dec_ether},
    {DLT_LINUX_SLL, dec_sll},
    {DLT_LINUX_SLL2, dec_sll2},
    {DLT_RAW, dec_raw},
    {LINKTYPE_RAW_NUM, dec_raw},
    {DLT_IPV4_NUM, dec_raw},
    {DLT_IPV6_NUM, dec_raw},
    {DLT_NULL, dec_null},
    {DLT_LOOP, dec_null},
#if DLT_LOOP != DLT_LOOP_LINUX
    {DLT_LOOP_LINUX, dec_null},
#endif
};
/* clang-format on */

static link_fn dlt_lookup(int linktype)
{
    for (size_t i = 0; i < sizeof dlt_table / sizeof dlt_table[0]; i++)
        if (dlt_table[i].dlt == linktype)
            return dlt_table[i].fn;
    return NULL;
}

bool pkt_linktype_supported(int linktype)
{
    return dlt_lookup(linktype) != NULL;
}

/* A header did not fit: cut by snaplen if the frame was cut, else the frame itself is short. */
static enum pkt_kind short_kind(const struct dctx *c)
{
    return c->cut ? PKT_TRUNCATED : PKT_MALFORMED;
}

/* ---- TCP ---- */

/* Parse the option bytes of a TCP header (o covers exactly hlen - 20 bytes). */
static void tcp_options(struct rd *o, struct pkt *p)
{
    while (rd_left(o) > 0) {
        uint8_t kind = rd_u8(o);
        if (kind == TCPOPT_EOL)
            return;
        if (kind == TCPOPT_NOP)
            continue;
        uint8_t len = rd_u8(o);
        if (o->err || len < 2 || (size_t)(len - 2) > rd_left(o)) {
            p->opts_truncated = true;
            return;
        }
        struct rd v = rd_sub(o, (size_t)len - 2);
        switch (kind) {
        case TCPOPT_MSS:
            if (len != 4)
                goto bad;
            p->has_mss = true;
            p->mss = rd_u16(&v);
            break;
        case TCPOPT_WSCALE:
            if (len != 3)
                goto bad;
            p->has_wscale = true;
            p->wscale = rd_u8(&v);
            break;
        case TCPOPT_SACK_PERM:
            if (len != 2)
                goto bad;
            p->sack_perm = true;
            break;
        case TCPOPT_SACK:
            if (len < 10 || (len - 2) % 8 != 0)
                goto bad;
            p->nsack = 0;
            while (rd_left(&v) >= 8 && p->nsack < PKT_MAX_SACK) {
                p->sack[p->nsack][0] = rd_u32(&v);
                p->sack[p->nsack][1] = rd_u32(&v);
                p->nsack++;
            }
            break;
        case TCPOPT_TIMESTAMP:
            if (len != 10)
                goto bad;
            p->has_ts = true;
            p->tsval = rd_u32(&v);
            p->tsecr = rd_u32(&v);
            break;
        default:
            break; /* unknown kinds are skipped by their length */
        }
        continue;
    bad:
        p->opts_truncated = true; /* a known kind with the wrong length: skip it, keep going */
    }
}

/*
 * r covers the IP payload as captured (already clamped to the declared length); seglen is the
 * segment length that the IP header declares.
 */
static enum pkt_kind dec_tcp(struct rd *r, uint32_t seglen, struct dctx *c)
{
    struct pkt *p = c->p;

    p->src.port = rd_u16(r);
    p->dst.port = rd_u16(r);
    p->seq = rd_u32(r);
    p->ack = rd_u32(r);
    uint8_t off = rd_u8(r);
    p->flags = rd_u8(r);
    p->win = rd_u16(r);
    p->tcp_csum = rd_u16(r);
    (void)rd_u16(r); /* urgent pointer */
    if (r->err)
        return seglen >= 20 ? short_kind(c) : PKT_MALFORMED;

    uint32_t hlen = (uint32_t)(off >> 4) * 4;
    if (hlen < 20 || hlen > seglen)
        return PKT_MALFORMED;
    p->tcp_hlen = (uint8_t)hlen;

    struct rd o = rd_sub(r, hlen - 20);
    if (r->err)
        return short_kind(c);
    tcp_options(&o, p);

    p->tcp_len = seglen - hlen;
    size_t have = rd_left(r);
    p->payload_caplen = have < p->tcp_len ? (uint32_t)have : p->tcp_len;
    p->payload = p->payload_caplen ? rd_ptr(r, p->payload_caplen) : NULL;
    return PKT_TCP;
}

/* ---- IPv4 / IPv6 ---- */

/*
 * Clamp r to a declared payload length. A declared length beyond the captured bytes is a
 * snaplen cut (decode what is there); bytes beyond the declared length are link padding.
 */
static struct rd clamp(struct rd *r, uint32_t declared)
{
    size_t left = rd_left(r);
    return rd_sub(r, declared < left ? declared : left);
}

static enum pkt_kind dec_ip4(struct rd *r, struct dctx *c)
{
    struct pkt *p = c->p;
    size_t frame_left = rd_left(r);

    uint8_t vihl = rd_u8(r);
    (void)rd_u8(r); /* type of service */
    uint16_t total = rd_u16(r);
    p->ip_id = rd_u16(r);
    uint16_t frag = rd_u16(r);
    p->ttl = rd_u8(r);
    uint8_t proto = rd_u8(r);
    (void)rd_u16(r); /* header checksum */
    p->src.ip.family = 4;
    p->dst.ip.family = 4;
    rd_copy(r, p->src.ip.a, 4);
    rd_copy(r, p->dst.ip.a, 4);
    if (r->err)
        return short_kind(c);
    if ((vihl >> 4) != 4)
        return PKT_MALFORMED;
    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
    if (ihl < 20)
        return PKT_MALFORMED;
    if (total == 0)
        total = (uint16_t)(frame_left > 0xffff ? 0xffff : frame_left); /* TSO: length unset */
    if (total < ihl)
        return PKT_MALFORMED;
    rd_skip(r, ihl - 20); /* options */
    if (r->err)
        return short_kind(c);
    if ((frag & 0x2000) || (frag & 0x1fff))
        return PKT_FRAGMENT;
    if (proto != IPPROTO_NUM_TCP)
        return PKT_OTHER;
    uint32_t seglen = total - ihl;
    struct rd body = clamp(r, seglen);
    return dec_tcp(&body, seglen, c);
}

static enum pkt_kind dec_ip6(struct rd *r, struct dctx *c)
{
    struct pkt *p = c->p;

    uint32_t vtf = rd_u32(r);
    uint32_t plen = rd_u16(r);
    uint8_t nh = rd_u8(r);
    p->ttl = rd_u8(r);
    p->ip_id = 0;
    p->src.ip.family = 6;
    p->dst.ip.family = 6;
    rd_copy(r, p->src.ip.a, 16);
    rd_copy(r, p->dst.ip.a, 16);
    if (r->err)
        return short_kind(c);
    if ((vtf >> 28) != 6)
        return PKT_MALFORMED;
    if (plen == 0) /* jumbogram or TSO: take the captured remainder */
        plen = (uint32_t)rd_left(r);

    bool clipped = rd_left(r) < plen; /* fewer bytes captured than declared */
    struct rd body = clamp(r, plen);
    size_t start_left = rd_left(&body);
    for (int i = 0; i < IP6_MAX_EXT; i++) {
        switch (nh) {
        case IPPROTO_NUM_TCP: {
            size_t used = start_left - rd_left(&body);
            if (used > plen)
                return PKT_MALFORMED;
            return dec_tcp(&body, plen - (uint32_t)used, c);
        }
        case IPPROTO_NUM_HOPOPTS:
        case IPPROTO_NUM_ROUTING:
        case IPPROTO_NUM_DSTOPTS: {
            uint8_t next = rd_u8(&body);
            uint8_t len = rd_u8(&body);
            rd_skip(&body, (size_t)(len + 1) * 8 - 2);
            nh = next;
            break;
        }
        case IPPROTO_NUM_AH: {
            uint8_t next = rd_u8(&body);
            uint8_t len = rd_u8(&body);
            rd_skip(&body, (size_t)(len + 2) * 4 - 2); /* AH length is in 4-byte units, minus 2 */
            nh = next;
            break;
        }
        case IPPROTO_NUM_FRAGMENT: {
            uint8_t next = rd_u8(&body);
            (void)rd_u8(&body); /* reserved */
            uint16_t offm = rd_u16(&body);
            (void)rd_u32(&body); /* identification */
            if (body.err)
                return clipped ? short_kind(c) : PKT_MALFORMED;
            if ((offm >> 3) != 0 || (offm & 1))
                return PKT_FRAGMENT;
            nh = next; /* atomic fragment (RFC 6946): the whole packet is here */
            break;
        }
        case IPPROTO_NUM_NONE:
            return PKT_OTHER;
        default:
            return PKT_OTHER;
        }
        if (body.err) /* an extension header did not fit: captured too little, or declared */
            return clipped ? short_kind(c) : PKT_MALFORMED;
    }
    return PKT_MALFORMED; /* absurdly long extension header chain */
}

/* Dispatch on an EtherType, walking stacked VLAN tags first. */
static enum pkt_kind dec_ethertype(uint16_t type, struct rd *r, struct dctx *c)
{
    int tags = 0;
    while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
        if (++tags > VLAN_MAX_TAGS)
            return PKT_MALFORMED;
        c->vlan = true;
        (void)rd_u16(r); /* TCI: priority, DEI, VLAN id */
        type = rd_u16(r);
        if (r->err)
            return short_kind(c);
    }
    if (type == ETHERTYPE_IPV4)
        return dec_ip4(r, c);
    if (type == ETHERTYPE_IPV6)
        return dec_ip6(r, c);
    return PKT_OTHER; /* ARP, LLC/SNAP (802.3 length), anything else */
}

/* ---- link layers ---- */

/* Ethernet II: dst(6) src(6) type(2). A type below 0x0600 is an 802.3 length: LLC, skipped. */
static enum pkt_kind dec_ether(struct rd *r, struct dctx *c)
{
    rd_skip(r, 12);
    uint16_t type = rd_u16(r);
    if (r->err)
        return short_kind(c);
    if (type < ETHERTYPE_MIN)
        return PKT_OTHER;
    return dec_ethertype(type, r, c);
}

/* Linux cooked v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2). */
static enum pkt_kind dec_sll(struct rd *r, struct dctx *c)
{
    rd_skip(r, 14);
    uint16_t proto = rd_u16(r);
    if (r->err)
        return short_kind(c);
    if (proto < ETHERTYPE_MIN)
        return PKT_OTHER; /* 802.2 LLC, Novell 802.3, CAN ...: not IP */
    return dec_ethertype(proto, r, c);
}

/* Linux cooked v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8). */
static enum pkt_kind dec_sll2(struct rd *r, struct dctx *c)
{
    uint16_t proto = rd_u16(r);
    rd_skip(r, 18);
    if (r->err)
        return short_kind(c);
    if (proto < ETHERTYPE_MIN)
        return PKT_OTHER;
    return dec_ethertype(proto, r, c);
}

/* Raw IP: the version nibble says which. */
static enum pkt_kind dec_raw(struct rd *r, struct dctx *c)
{
    struct rd peek = *r; /* look at the version nibble without consuming it */
    uint8_t v = (uint8_t)(rd_u8(&peek) >> 4);
    if (peek.err)
        return short_kind(c);
    if (v == 4)
        return dec_ip4(r, c);
    if (v == 6)
        return dec_ip6(r, c);
    return PKT_MALFORMED;
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte order (DLT_NULL) or
 * network order (DLT_LOOP); both orders are accepted for both. AF_INET6 is 24, 28 or 30.
 */
static enum pkt_kind dec_null(struct rd *r, struct dctx *c)
{
    uint32_t af = rd_u32(r);
    if (r->err)
        return short_kind(c);
    if ((af & 0xffff0000u) && !(af & 0x0000ffffu))
        af = ((af >> 24) & 0xff) | ((af >> 8) & 0xff00); /* little-endian writer */
    switch (af) {
    case 2:
        return dec_ip4(r, c);
    case 24:
    case 28:
    case 30:
        return dec_ip6(r, c);
    default:
        return PKT_OTHER;
    }
}

/* ---- entry point ---- */

static void count(struct decode_stats *st, enum pkt_kind k, bool vlan)
{
    if (!st)
        return;
    st->frames++;
    if (vlan)
        st->vlan++;
    switch (k) {
    case PKT_TCP:
        st->tcp++;
        break;
    case PKT_OTHER:
        st->other++;
        break;
    case PKT_FRAGMENT:
        st->fragments++;
        break;
    case PKT_MALFORMED:
        st->malformed++;
        break;
    case PKT_TRUNCATED:
        st->truncated++;
        break;
    case PKT_UNSUPPORTED:
        st->unsupported++;
        break;
    }
}

enum pkt_kind pkt_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                         uint64_t ts_ns, uint64_t frame, struct pkt *p, struct decode_stats *st)
{
    /*
     * Reset field by field rather than memset the whole view (sack[] is only meaningful up to
     * nsack): on the hot path this is a measurable share of the per-frame cost.
     */
    memset(&p->src, 0, sizeof p->src);
    memset(&p->dst, 0, sizeof p->dst);
    p->ttl = 0;
    p->ip_id = 0;
    p->seq = p->ack = 0;
    p->win = p->tcp_csum = 0;
    p->flags = p->tcp_hlen = 0;
    p->tcp_len = p->payload_caplen = 0;
    p->payload = NULL;
    p->has_mss = p->has_wscale = p->sack_perm = p->has_ts = p->opts_truncated = false;
    p->mss = 0;
    p->wscale = 0;
    p->tsval = p->tsecr = 0;
    p->nsack = 0;
    p->ts_ns = ts_ns;
    p->frame = frame;
    p->caplen = caplen;
    p->wirelen = wirelen;

    struct dctx c = {p, caplen < wirelen, false};
    link_fn fn = dlt_lookup(linktype);
    enum pkt_kind k = PKT_UNSUPPORTED;
    if (fn) {
        struct rd r = rd_init(data, data ? caplen : 0);
        k = fn(&r, &c);
    }
    count(st, k, c.vlan);
    return k;
}

/* ---- addresses ---- */

/*
 * IPv4 is formatted by hand: the sinks format two or four addresses per record, and glibc's
 * inet_ntop formats IPv4 with sprintf (a third of the database writer's formatting). The
 * text is the same, and so is a buffer too small for it ("?", as when inet_ntop fails).
 */
const char *pkt_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    if (a->family == 4) {
        char tmp[16];
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            if (i)
                tmp[n++] = '.';
            n += text_fmt_u64(tmp + n, a->a[i]);
        }
        if (n >= len) {
            snprintf(buf, len, "?");
            return buf;
        }
        memcpy(buf, tmp, n);
        buf[n] = '\0';
        return buf;
    }
    socklen_t slen = len > 4096 ? 4096 : (socklen_t)len;
    if (a->family != 6 || !inet_ntop(AF_INET6, a->a, buf, slen))
        snprintf(buf, len, "?");
    return buf;
}

/* "ip:port" or "[ip6]:port" of e into out (PKT_ENDPOINT_STRLEN), its address already
   formatted as ip (il bytes); the length, without the NUL written after it. */
_Static_assert(PKT_ENDPOINT_STRLEN >= INET6_ADDRSTRLEN + 8, "[, ], : and five digits");

size_t pkt_endpoint_fmt(const struct endpoint *e, const char *ip, size_t il, char *out)
{
    size_t n = 0;
    bool v6 = e->ip.family == 6;
    if (v6)
        out[n++] = '[';
    memcpy(out + n, ip, il);
    n += il;
    if (v6)
        out[n++] = ']';
    out[n++] = ':';
    n += text_fmt_u64(out + n, e->port);
    out[n] = '\0';
    return n;
}

/* "ip:port" or "[ip6]:port", cut to len like snprintf (no snprintf: it is per record). */
const char *pkt_endpoint_str(const struct endpoint *e, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    char tmp[PKT_ENDPOINT_STRLEN];
    pkt_addr_str(&e->ip, ip, sizeof ip);
    if (len == 0)
        return buf;
    size_t n = pkt_endpoint_fmt(e, ip, strnlen(ip, sizeof(ip) - 1), tmp);
    if (n >= len)
        n = len - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}

/* Parse a decimal port 0..65535 (1 to 5 digits, nothing else). */
static int parse_port(const char *s, uint16_t *port)
{
    uint32_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return ERR_ARG;
        v = v * 10 + (uint32_t)(s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return ERR_ARG;
    *port = (uint16_t)v;
    return 0;
}

/* Copy [s, s+n) into a NUL-terminated buffer and parse it as an address of family af. */
static int parse_addr(const char *s, size_t n, int af, struct ip_addr *a)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof tmp)
        return ERR_ARG;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(af, tmp, a->a) != 1)
        return ERR_ARG;
    a->family = af == AF_INET6 ? 6 : 4;
    return 0;
}

int pkt_endpoint_parse(const char *s, struct endpoint *e)
{
    struct endpoint out;
    memset(&out, 0, sizeof out);
    if (!s)
        return ERR_ARG;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || parse_addr(s + 1, (size_t)(close - s - 1), AF_INET6, &out.ip) != 0)
            return ERR_ARG;
        if (close[1] == ':') {
            if (parse_port(close + 2, &out.port) != 0)
                return ERR_ARG;
        } else if (close[1] != '\0') {
            return ERR_ARG;
        }
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            if (parse_addr(s, strlen(s), AF_INET6, &out.ip) != 0) /* bare IPv6, no port */
                return ERR_ARG;
        } else if (colon) {
            if (parse_addr(s, (size_t)(colon - s), AF_INET, &out.ip) != 0 ||
                parse_port(colon + 1, &out.port) != 0)
                return ERR_ARG;
        } else if (parse_addr(s, strlen(s), AF_INET, &out.ip) != 0) {
            return ERR_ARG;
        }
    }
    *e = out;
    return 0;
}

const char *pkt_malformed_what(enum pkt_kind kind)
{
    return kind == PKT_TRUNCATED ? "frame cut before the end of the TCP header"
                                 : "inconsistent IP/TCP header lengths";
}
