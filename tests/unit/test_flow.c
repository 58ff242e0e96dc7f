/* test_flow.c - the flow table: lookups in both directions, IPv6, LRU order, eviction, release. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analyzers/det.h"
#include "analyzers/flow.h"
#include "analyzers/pool.h"
#include "analyzers/siphash.h"
#include "tests/unit/testhelp.h"

static struct endpoint ep4(uint8_t d, uint16_t port)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    e.ip.family = 4;
    e.ip.a[0] = 10;
    e.ip.a[3] = d;
    e.port = port;
    return e;
}

static struct endpoint ep6(uint8_t last, uint16_t port)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    e.ip.family = 6;
    e.ip.a[0] = 0x20;
    e.ip.a[1] = 0x01;
    e.ip.a[2] = 0x0d;
    e.ip.a[3] = 0xb8;
    e.ip.a[15] = last;
    e.port = port;
    return e;
}

static struct pkt mk(struct endpoint src, struct endpoint dst)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    p.src = src;
    p.dst = dst;
    return p;
}

/* Evicted flows, as the callback saw them. */
static struct endpoint evicted[16];
static size_t nevicted;

static void on_evict(void *ctx, struct flow *f)
{
    int *calls = ctx;
    (*calls)++;
    if (nevicted < 16)
        evicted[nevicted++] = f->rec.client;
}

static void test_lookup_both_directions(void)
{
    struct flow_table *t = flow_table_new(8, 32);
    CHECK(t != NULL);
    if (!t)
        return;
    struct pkt p = mk(ep4(1, 40000), ep4(2, 443));
    int dir = -1;
    CHECK(flow_lookup(t, &p, &dir) == NULL);
    struct flow *f = flow_create(t, &p, NULL, NULL);
    CHECK(f != NULL);
    CHECK(f->ext != NULL);
    CHECK_EQ_U64(flow_count(t), 1);
    CHECK(flow_lookup(t, &p, &dir) == f);
    CHECK_EQ_U64(dir, DIR_C2S);
    struct pkt r = mk(ep4(2, 443), ep4(1, 40000));
    CHECK(flow_lookup(t, &r, &dir) == f);
    CHECK_EQ_U64(dir, DIR_S2C);
    /* Same addresses, other port: another flow. */
    struct pkt o = mk(ep4(1, 40001), ep4(2, 443));
    CHECK(flow_lookup(t, &o, &dir) == NULL);
    /* The caller may swap client/server after create: lookups follow once it commits. */
    f->rec.client = r.src;
    f->rec.server = r.dst;
    CHECK(flow_commit(t, f) == f);
    CHECK(flow_lookup(t, &p, &dir) == f);
    CHECK_EQ_U64(dir, DIR_S2C);
    flow_release(t, f);
    CHECK_EQ_U64(flow_count(t), 0);
    CHECK(flow_lookup(t, &p, &dir) == NULL);
    flow_table_free(t);
}

static void test_ipv6(void)
{
    struct flow_table *t = flow_table_new(4, 0);
    CHECK(t != NULL);
    if (!t)
        return;
    struct pkt a = mk(ep6(1, 50000), ep6(2, 443));
    struct pkt b = mk(ep6(2, 443), ep6(1, 50000));
    struct flow *f = flow_create(t, &a, NULL, NULL);
    int dir = -1;
    CHECK(flow_lookup(t, &b, &dir) == f);
    CHECK_EQ_U64(dir, DIR_S2C);
    /* An IPv4 packet whose first address bytes match must not find the IPv6 flow. */
    struct pkt v4 = mk(ep4(1, 50000), ep4(2, 443));
    memcpy(v4.src.ip.a, a.src.ip.a, 4);
    memcpy(v4.dst.ip.a, a.dst.ip.a, 4);
    CHECK(flow_lookup(t, &v4, &dir) == NULL);
    flow_table_free(t);
}

static void test_lru_and_eviction(void)
{
    struct flow_table *t = flow_table_new(3, 16);
    CHECK(t != NULL);
    if (!t)
        return;
    struct flow *f[3];
    for (int i = 0; i < 3; i++) {
        struct pkt p = mk(ep4((uint8_t)(10 + i), 1000), ep4(2, 80));
        f[i] = flow_create(t, &p, NULL, NULL);
        f[i]->ext[0] = (uint8_t)(0xa0 + i);
    }
    CHECK(flow_oldest(t) == f[0]);
    flow_touch(t, f[0]); /* order now f1, f2, f0 */
    CHECK(flow_oldest(t) == f[1]);
    int calls = 0;
    nevicted = 0;
    struct pkt n = mk(ep4(99, 1000), ep4(2, 80));
    struct flow *g = flow_create(t, &n, on_evict, &calls);
    CHECK(g != NULL);
    CHECK_EQ_U64(calls, 1);
    CHECK_EQ_U64(nevicted, 1);
    CHECK_EQ_U64(evicted[0].ip.a[3], 11); /* f1 was the least recently used */
    CHECK_EQ_U64(flow_count(t), 3);
    CHECK(g->ext[0] == 0); /* detector state is zeroed for the new flow */
    int dir;
    struct pkt old = mk(ep4(11, 1000), ep4(2, 80));
    CHECK(flow_lookup(t, &old, &dir) == NULL);
    struct pkt kept = mk(ep4(10, 1000), ep4(2, 80));
    CHECK(flow_lookup(t, &kept, &dir) == f[0]);
    CHECK(flow_oldest(t) == f[2]);
    flow_table_free(t);
}

/* Collects client addresses in foreach order. */
struct order {
    uint8_t last[8]; /* client address last byte, in visiting order */
    size_t n;        /* entries used */
};

static void visit(void *ctx, struct flow *f)
{
    struct order *o = ctx;
    if (o->n < 8)
        o->last[o->n++] = f->rec.client.ip.a[3];
}

static void test_closed_list_and_foreach(void)
{
    struct flow_table *t = flow_table_new(4, 0);
    CHECK(t != NULL);
    if (!t)
        return;
    struct flow *f[3];
    for (int i = 0; i < 3; i++) {
        struct pkt p = mk(ep4((uint8_t)(20 + i), 2000), ep4(2, 80));
        f[i] = flow_create(t, &p, NULL, NULL);
    }
    CHECK(flow_oldest_closed(t) == NULL);
    flow_set_closed(t, f[2], 100);
    flow_set_closed(t, f[0], 200);
    flow_set_closed(t, f[2], 300); /* already closed: no change */
    CHECK(flow_oldest_closed(t) == f[2]);
    CHECK_EQ_U64(f[2]->closed_ts_ns, 100);
    flow_release(t, f[2]);
    CHECK(flow_oldest_closed(t) == f[0]);
    flow_touch(t, f[0]);
    struct order o = {{0}, 0};
    flow_foreach(t, visit, &o);
    CHECK_EQ_U64(o.n, 2);
    CHECK_EQ_U64(o.last[0], 21);
    CHECK_EQ_U64(o.last[1], 20);
    flow_release(t, f[0]);
    CHECK(flow_oldest_closed(t) == NULL);
    /* Released flows come back from the pool. */
    struct pkt p = mk(ep4(30, 1), ep4(2, 80));
    CHECK(flow_create(t, &p, NULL, NULL) != NULL);
    CHECK_EQ_U64(flow_count(t), 2);
    flow_table_free(t);
}

static void test_many_flows(void)
{
    /* Fill a table, find every flow again from the other direction, then churn past the cap. */
    enum { N = 4096 };
    struct flow_table *t = flow_table_new(N, 8);
    CHECK(t != NULL);
    if (!t)
        return;
    int misses = 0;
    for (int i = 0; i < N; i++) {
        struct pkt p = mk(ep4((uint8_t)(i & 0xff), (uint16_t)(1024 + i)), ep4(2, 443));
        if (!flow_create(t, &p, NULL, NULL))
            misses++;
    }
    CHECK_EQ_U64(misses, 0);
    int found = 0, dir;
    for (int i = 0; i < N; i++) {
        struct pkt r = mk(ep4(2, 443), ep4((uint8_t)(i & 0xff), (uint16_t)(1024 + i)));
        struct flow *f = flow_lookup(t, &r, &dir);
        found += f != NULL && dir == DIR_S2C && f->rec.client.port == 1024 + i;
    }
    CHECK_EQ_U64(found, N);
    int calls = 0;
    for (int i = 0; i < 100; i++) {
        struct pkt p = mk(ep4(3, (uint16_t)(i + 1)), ep4(2, 443));
        flow_create(t, &p, on_evict, &calls);
    }
    CHECK_EQ_U64(calls, 100);
    CHECK_EQ_U64(flow_count(t), N);
    flow_table_free(t);
}

/* ---- hash flooding (issue 14): tuples that all collide under the old fixed-key hash ---- */

/* The flow hash before issue 14 (a multiply-xor chain with a key fixed at build time). */
static const uint64_t OLD_K = 0x9e3779b97f4a7c15ULL;

static uint64_t old_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t load64(const uint8_t *b)
{
    uint64_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration: each step doubles the bits). */
static uint64_t inv64(uint64_t a)
{
    uint64_t x = a;
    for (int i = 0; i < 6; i++)
        x *= 2 - a * x;
    return x;
}

/*
 * n IPv6 clients of one server whose old hash is identical, found the way an attacker who
 * read the source would: the old hash is invertible, so with the client address's last 8
 * bytes free, solve for them so that the state before the final mix is the same for all.
 */
static void old_colliding_clients(size_t max_flows, struct endpoint srv, struct endpoint *cli,
                                  size_t n)
{
    const uint64_t kinv = inv64(OLD_K);
    const uint64_t target = 0x0123456789abcdefULL; /* any value: the state before the mix */
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)max_flows;
    h = (h ^ load64(srv.ip.a)) * OLD_K;
    h = (h ^ load64(srv.ip.a + 8)) * OLD_K;
    for (size_t i = 0; i < n; i++) {
        struct endpoint *c = &cli[i];
        memset(c, 0, sizeof(*c));
        c->ip.family = 6;
        c->ip.a[0] = 0xfd; /* a ULA, above the server's 2001:db8:: in memcmp order */
        c->ip.a[1] = (uint8_t)(i >> 16);
        c->ip.a[2] = (uint8_t)(i >> 8);
        c->ip.a[3] = (uint8_t)i;
        c->port = (uint16_t)(1024 + i % 60000);
        uint64_t h3 = (h ^ load64(c->ip.a)) * OLD_K;
        uint64_t ports = (uint64_t)srv.port << 32 | (uint64_t)c->port << 16 | 6;
        uint64_t last = ((target ^ ports) * kinv) ^ h3; /* (h3 ^ last) * K == target ^ ports */
        memcpy(c->ip.a + 8, &last, sizeof(last));
        CHECK(old_fmix64(((h3 ^ load64(c->ip.a + 8)) * OLD_K) ^ ports) == old_fmix64(target));
    }
}

/*
 * 32 k crafted clients (one flow and one more packet each) cost as little per lookup as any
 * others: the chains stay short because the key is not known to whoever picks the tuples.
 */
static void test_colliding_tuples_stay_cheap(void)
{
    enum { N = 32768, MAX = 65536 };
    static struct endpoint cli[N];
    struct endpoint srv = ep6(5, 443);
    old_colliding_clients(MAX, srv, cli, N);
    struct flow_table *t = flow_table_new(MAX, 0);
    CHECK(t != NULL);
    if (!t)
        return;
    size_t found = 0;
    for (size_t i = 0; i < N; i++) {
        struct pkt p = mk(cli[i], srv);
        int dir;
        if (!flow_lookup(t, &p, &dir))
            CHECK(flow_create(t, &p, NULL, NULL) != NULL);
    }
    for (size_t i = 0; i < N; i++) { /* the server's answer on every flow */
        struct pkt p = mk(srv, cli[i]);
        int dir = -1;
        found += flow_lookup(t, &p, &dir) != NULL && dir == DIR_S2C;
    }
    CHECK_EQ_U64(found, N);
    struct flow_table_stats st;
    flow_table_get_stats(t, &st);
    CHECK_EQ_U64(st.lookups, 2 * N);
    /* Under the old hash every lookup walked the one chain: 16 k flows on average. */
    fprintf(stderr,
            "  32k crafted flows: %.2f flows compared per lookup, at most %" PRIu64
            ", longest chain %zu\n",
            (double)st.probes / (double)st.lookups, st.max_probes, flow_table_longest_chain(t));
    CHECK(st.probes <= 4 * st.lookups);
    CHECK(st.max_probes <= 32);
    CHECK(flow_table_longest_chain(t) <= 32);
    flow_table_free(t);
}

/*
 * The counters see a flood when the key is known: clients brute-forced into one bucket of a
 * table whose key the test fixed (what an attacker could do if the key never changed) make
 * one long chain there, and none in a table with its own random key.
 */
static void test_known_key_flood_is_counted(void)
{
    enum { N = 1024, MAX = 1024 };
    static struct endpoint cli[N];
    const struct siphash_key fixed = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    struct endpoint srv = ep4(5, 443);
    struct flow_table *probe = flow_table_new(MAX, 0), *t = flow_table_new(MAX, 0);
    CHECK(probe && t);
    if (!probe || !t)
        goto out;
    CHECK(flow_table_set_key(probe, &fixed) == 0);
    /* Brute force: keep the clients whose flow would go into the bucket of the first one. */
    size_t n = 0;
    for (uint32_t i = 0; n < N && i < (1u << 24); i++) {
        struct endpoint c = ep4(0, (uint16_t)(1024 + (i & 0x7fff)));
        c.ip.a[1] = (uint8_t)(i >> 15);
        c.ip.a[2] = (uint8_t)(i >> 23);
        c.ip.a[3] = 200;
        struct pkt p = mk(c, srv);
        int dir;
        struct flow_table_stats before, after;
        flow_table_get_stats(probe, &before);
        if (flow_lookup(probe, &p, &dir))
            continue; /* the same tuple again */
        flow_table_get_stats(probe, &after);
        if (after.probes - before.probes != n) /* another bucket: its chain is empty */
            continue;
        CHECK(flow_create(probe, &p, NULL, NULL) != NULL);
        cli[n++] = c;
    }
    CHECK_EQ_U64(n, N);
    CHECK_EQ_U64(flow_table_longest_chain(probe), N);
    for (size_t i = 0; i < n; i++) {
        struct pkt p = mk(cli[i], srv);
        CHECK(flow_create(t, &p, NULL, NULL) != NULL);
    }
    CHECK(flow_table_longest_chain(t) <= 16);
out:
    flow_table_free(probe);
    flow_table_free(t);
}

/* The lazy-state pool: zeroed blocks by handle, reuse, exhaustion counted, stats. */
static void test_pool(void)
{
    struct pool *p = pool_new(2, 24);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(pool_at(p, 0) == NULL);
    uint32_t a = pool_get(p), b = pool_get(p);
    CHECK(a != 0 && b != 0 && a != b);
    CHECK(pool_get(p) == 0); /* two blocks only */
    uint8_t *pa = pool_at(p, a);
    CHECK(pa != NULL && pool_at(p, b) != pa);
    if (pa)
        memset(pa, 0xab, 24);
    struct pool_stats st;
    pool_get_stats(p, &st);
    CHECK_EQ_U64(st.block, 24);
    CHECK_EQ_U64(st.nblocks, 2);
    CHECK_EQ_U64(st.used, 2);
    CHECK_EQ_U64(st.peak, 2);
    CHECK_EQ_U64(st.exhausted, 1);
    pool_put(p, a);
    pool_put(p, 0); /* no-op */
    uint32_t c = pool_get(p);
    CHECK_EQ_U64(c, a); /* the block freed last is reused first */
    const uint8_t *pc = pool_at(p, c);
    bool zero = pc != NULL;
    for (size_t i = 0; pc && i < 24; i++)
        zero = zero && pc[i] == 0;
    CHECK(zero); /* handed out zeroed */
    pool_put(p, b);
    pool_put(p, c);
    pool_get_stats(p, &st);
    CHECK_EQ_U64(st.used, 0);
    CHECK_EQ_U64(st.peak, 2);
    pool_free(p);
    CHECK(pool_new(0, 8) == NULL);
    CHECK(pool_new(8, 0) == NULL);
}

/* Compact entries: detector state whose first 4 bytes are its small form (the rest zero). */
static void small_pack(void *ctx, const struct flow *f, uint8_t *small)
{
    (void)ctx;
    memcpy(small, f->ext, 4);
}

static void small_unpack(void *ctx, struct flow *f, const uint8_t *small)
{
    (void)ctx;
    memcpy(f->ext, small, 4);
}

/* A client SYN of 10.0.0.<d>:<port> -> 10.0.0.2:443, as the engine runs it through tcp.c. */
static struct flow *syn_packet(struct flow_table *t, uint8_t d, uint16_t port, uint64_t ts)
{
    struct pkt p = mk(ep4(d, port), ep4(2, 443));
    p.flags = TCP_SYN;
    p.seq = 1000u * d;
    p.win = 64240;
    p.ttl = 64;
    p.ts_ns = ts;
    p.frame = ts;
    int dir = DIR_C2S;
    struct flow *f = flow_lookup(t, &p, &dir);
    if (!f) {
        f = flow_create(t, &p, NULL, NULL);
        if (!f)
            return NULL;
        f->rec.first_ts_ns = p.ts_ns;
        f->rec.first_frame = p.frame;
        tcp_flow_start(f, &p);
    }
    f->rec.packets[dir]++;
    f->rec.last_ts_ns = p.ts_ns;
    struct tcp_seg s;
    memset(&s, 0, sizeof(s));
    tcp_analyze(f, &p, dir, &s, NULL);
    return f;
}

static void test_compact_entries(void)
{
    struct flow_compact cp = {4, 2, small_pack, small_unpack, NULL};
    struct flow_table *t = flow_table_new_compact(4, 16, &cp);
    CHECK(t != NULL);
    if (!t)
        return;
    struct flow_mem_stats ms;
    /* A SYN and its retry (1 s later, as a SYN timer would) stay compact: no block. */
    struct flow *f = syn_packet(t, 1, 40000, 100);
    CHECK(f && flow_commit(t, f) == f);
    f = syn_packet(t, 1, 40000, 1000000100);
    CHECK(f && flow_commit(t, f) == f);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_used, 0);
    CHECK(ms.entry_bytes < 256);
    struct pkt q = mk(ep4(1, 40000), ep4(2, 443));
    int dir = -1;
    f = flow_lookup(t, &q, &dir);
    CHECK(f != NULL);
    if (!f)
        goto out;
    CHECK_EQ_U64(f->rec.syn_count, 2);
    CHECK_EQ_U64(f->rec.ev[DIR_C2S][TEV_RETRANSMISSION], 1);
    CHECK_EQ_U64(f->half[DIR_C2S].isn, 1000);
    CHECK_EQ_U64(f->rec.last_ts_ns, 1000000100);
    CHECK(strcmp(f->rec.history, "S") == 0);
    CHECK_EQ_U64(f->rec.conn_state, CS_S0);
    /* Detector state within the small form stays compact; beyond it the flow takes a block. */
    f->ext[0] = 7;
    CHECK(flow_commit(t, f) == f);
    f = flow_lookup(t, &q, &dir);
    CHECK(f && f->ext[0] == 7);
    if (!f)
        goto out;
    f->ext[8] = 1;
    struct flow *b = flow_commit(t, f);
    CHECK(b != NULL && b != f && b->ext[0] == 7 && b->ext[8] == 1);
    CHECK(flow_lookup(t, &q, &dir) == b);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_used, 1);
    /* A second flow takes the last block; a third finds none: counted, the view still valid. */
    f = syn_packet(t, 3, 40000, 200);
    CHECK(f != NULL);
    if (!f)
        goto out;
    f->rec.close = CLOSE_FIN; /* not a SYN-only state any more */
    CHECK(flow_commit(t, f) != NULL);
    f = syn_packet(t, 4, 40000, 300);
    CHECK(f != NULL);
    if (!f)
        goto out;
    f->ext[12] = 1;
    CHECK(flow_commit(t, f) == NULL);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_exhausted, 1);
    CHECK_EQ_U64(f->rec.client.ip.a[3], 4);
    flow_release(t, f);
    /* Released flows give their blocks back. */
    flow_release(t, b);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_used, 1); /* the second flow's */
    CHECK_EQ_U64(flow_count(t), 1);
out:
    flow_table_free(t);
}

/*
 * A SYN copy (the same SYN 50 ms later, another VLAN or tap: TCP_SYN_COPY_NS) keeps the flow
 * compact: the SYN log marks it, so the handshake clock (the SYN a SYN-ACK answers) is
 * restored from the log, not from the copy's time. A retry after it stays compact too, and the
 * SYN-ACK is timed from that retry.
 */
static void test_compact_syn_copy(void)
{
    struct flow_compact cp = {4, 2, small_pack, small_unpack, NULL};
    struct flow_table *t = flow_table_new_compact(4, 16, &cp);
    CHECK(t != NULL);
    if (!t)
        return;
    struct flow_mem_stats ms;
    const uint64_t ms_ns = 1000000;
    struct flow *f = syn_packet(t, 1, 40000, 100 * ms_ns);
    CHECK(f && flow_commit(t, f) == f);
    f = syn_packet(t, 1, 40000, 150 * ms_ns); /* a copy */
    CHECK(f && flow_commit(t, f) == f);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_used, 0);
    struct pkt q = mk(ep4(1, 40000), ep4(2, 443));
    int dir = -1;
    f = flow_lookup(t, &q, &dir);
    CHECK(f != NULL);
    if (!f)
        goto out;
    CHECK_EQ_U64(f->rec.syn_count, 2);
    CHECK_EQ_U64(f->half[DIR_C2S].syn_ts_ns, 100 * ms_ns); /* the copy did not restart it */
    CHECK_EQ_U64(f->half[DIR_C2S].syn_log_copies, 2);
    f = syn_packet(t, 1, 40000, 1100 * ms_ns); /* a retry */
    CHECK(f && flow_commit(t, f) == f);
    flow_table_get_mem(t, &ms);
    CHECK_EQ_U64(ms.blocks_used, 0);
    f = flow_lookup(t, &q, &dir);
    CHECK(f != NULL);
    if (!f)
        goto out;
    CHECK_EQ_U64(f->half[DIR_C2S].syn_ts_ns, 1100 * ms_ns);
    CHECK_EQ_U64(f->rec.syn_count, 3);
    /* the SYN-ACK 2 ms after the retry: timed from it */
    struct pkt sa = mk(ep4(2, 443), ep4(1, 40000));
    sa.flags = TCP_SYN | TCP_ACK;
    sa.seq = 5000;
    sa.ack = 1001;
    sa.win = 65160;
    sa.ttl = 64;
    sa.ts_ns = 1102 * ms_ns;
    sa.frame = 4;
    f = flow_lookup(t, &sa, &dir);
    CHECK(f != NULL && dir == DIR_S2C);
    if (!f)
        goto out;
    f->rec.packets[dir]++;
    f->rec.last_ts_ns = sa.ts_ns;
    struct tcp_seg s;
    memset(&s, 0, sizeof(s));
    tcp_analyze(f, &sa, dir, &s, NULL);
    CHECK_EQ_U64(f->rec.hs_rtt_server_ns, 2 * ms_ns);
    CHECK_EQ_U64(f->rec.hs_syn_ts_ns, 1100 * ms_ns);
out:
    flow_table_free(t);
}

int main(void)
{
    TEST_RUN(test_pool);
    TEST_RUN(test_lookup_both_directions);
    TEST_RUN(test_ipv6);
    TEST_RUN(test_lru_and_eviction);
    TEST_RUN(test_closed_list_and_foreach);
    TEST_RUN(test_many_flows);
    TEST_RUN(test_colliding_tuples_stay_cheap);
    TEST_RUN(test_known_key_flood_is_counted);
    TEST_RUN(test_compact_entries);
    TEST_RUN(test_compact_syn_copy);
    return TEST_REPORT();
}
