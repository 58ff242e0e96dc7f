/*
 * flow.c - the bidirectional flow table: entries from an array sized at start-up, a chained
 * hash on the canonical 5-tuple, LRU; full flow state in blocks from a pool, taken when an
 * entry's compact form (a SYN-only flow) no longer says everything.
 */
#include "analyzers/flow.h"

#include <stdlib.h>
#include <string.h>

#include "analyzers/hash.h"
#include "analyzers/pool.h"
#include "analyzers/siphash.h"

/*
 * One flow's entry: what lookups and the LRU need, and the compact state of a SYN-only flow
 * (flow_id .. syn and the small_size bytes of detector state that follow the entry).
 */
struct flow_node {
    struct flow_node *hnext;    /* next in the hash bucket */
    struct flow_node *lru_prev; /* older flow (LRU list, by last packet) */
    struct flow_node *lru_next; /* newer flow */
    uint64_t last_ts_ns;        /* rec.last_ts_ns at the last commit (idle expiry) */
    uint64_t flow_id;           /* compact: rec.flow_id */
    uint64_t first_ts_ns;       /* compact: rec.first_ts_ns */
    uint64_t first_frame;       /* compact: rec.first_frame */
    struct endpoint client;     /* rec.client (lookups) */
    struct endpoint server;     /* rec.server */
    uint32_t hash;              /* hash of the canonical 5-tuple */
    uint32_t block;             /* handle of the flow's block in the pool; 0 = compact */
    struct tcp_syn syn;         /* compact: the TCP state */
    bool in_use;                /* allocated */
};

/* The table: every byte is allocated in flow_table_new_compact. */
struct flow_table {
    uint8_t *nodes;          /* max_flows entries of node_size bytes */
    size_t node_size;        /* sizeof(struct flow_node) + small_size, rounded up to 8 */
    struct pool *blocks;     /* full states: struct flow, then ext_size bytes */
    size_t ext_off;          /* offset of ext in a block */
    size_t max_flows;        /* entries */
    size_t ext_size;         /* bytes of detector state per flow */
    bool compact;            /* SYN-only flows stay compact (cp is set) */
    struct flow_compact cp;  /* how detector state is packed */
    struct flow *view;       /* the view of a compact flow (with view_ext) */
    uint8_t *view_ext;       /* its ext */
    struct flow *check;      /* what a packed view unpacks to (with check_ext) */
    uint8_t *check_ext;      /* its ext */
    struct flow_node *img;   /* a packed view before it is stored (node_size bytes) */
    struct flow_node **buckets; /* hash chains */
    uint32_t mask;           /* buckets - 1 (a power of two minus one) */
    struct flow_node *free_list; /* released entries, linked through hnext */
    size_t fresh;                /* entries[fresh..] never used yet (untouched memory stays lazy) */
    struct flow_node *lru_head;  /* least recently used */
    struct flow_node *lru_tail;  /* most recently used */
    struct flow *cl_head;        /* closed first (closed flows always have their block) */
    struct flow *cl_tail;    /* closed last */
    size_t count;            /* flows in use */
    uint64_t exhausted;      /* flows that needed a block when none was left */
    struct siphash_key key;  /* hash key, random per table */
    struct endpoint last_src;   /* the last lookup's source... */
    struct endpoint last_dst;   /* ...destination... */
    uint32_t last_hash;         /* ...and hash: flow_create for the same packet reuses it */
    struct flow_table_stats st; /* lookup cost counters */
};

/* The detector state that follows entry n. */
static uint8_t *flow_small(struct flow_node *n)
{
    return (uint8_t *)n + sizeof(*n);
}

/* Order two endpoints: <0, 0, >0 like memcmp. */
static int flow_ep_cmp(const struct endpoint *a, const struct endpoint *b)
{
    int c = memcmp(a->ip.a, b->ip.a, sizeof(a->ip.a));
    if (c)
        return c;
    return (int)a->port - (int)b->port;
}

/*
 * Hash of the unordered endpoint pair (the same for both directions: the lower endpoint goes
 * first), SipHash-1-3 under this table's random key: someone who sends packets past the
 * mirror port cannot pick tuples that share a bucket (issue 14: 32 k of them slowed the
 * analysis 67 times under the old fixed key). IPv4 pairs are packed into two words.
 */
static uint32_t flow_hash(const struct flow_table *t, const struct endpoint *x,
                          const struct endpoint *y)
{
    const struct endpoint *lo = x, *hi = y;
    if (flow_ep_cmp(x, y) > 0) {
        lo = y;
        hi = x;
    }
    uint64_t w[5];
    size_t n;
    uint64_t ports = (uint64_t)lo->port << 32 | (uint64_t)hi->port << 16 | lo->ip.family;
    if (lo->ip.family == 4) {
        uint32_t a, b;
        memcpy(&a, lo->ip.a, sizeof(a));
        memcpy(&b, hi->ip.a, sizeof(b));
        w[0] = (uint64_t)a << 32 | b;
        w[1] = ports;
        n = 2;
    } else {
        w[0] = hash_load64(lo->ip.a);
        w[1] = hash_load64(lo->ip.a + 8);
        w[2] = hash_load64(hi->ip.a);
        w[3] = hash_load64(hi->ip.a + 8);
        w[4] = ports;
        n = 5;
    }
    uint64_t h = siphash13_words(&t->key, w, n);
    return (uint32_t)(h ^ (h >> 32));
}

static size_t flow_round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

struct flow_table *flow_table_new_compact(size_t max_flows, size_t ext_size,
                                          const struct flow_compact *c)
{
    if (max_flows == 0 || max_flows > (1u << 30) || ext_size > (1u << 20) ||
        (c && (c->small_size > (1u << 16) || c->nblocks == 0 || !c->pack || !c->unpack)))
        return NULL;
    struct flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t nb = 16;
    while (nb < max_flows * 2)
        nb <<= 1;
    t->compact = c != NULL;
    if (c)
        t->cp = *c;
    t->node_size = flow_round8(sizeof(struct flow_node) + t->cp.small_size);
    t->ext_off = flow_round8(sizeof(struct flow));
    /* Entries and blocks are handed out from their never-used ends first, so the kernel
       commits memory only for as many flows (and blocks) as were ever in use at once. */
    t->nodes = calloc(max_flows, t->node_size);
    t->blocks = pool_new(c ? c->nblocks : max_flows, t->ext_off + ext_size);
    t->view = calloc(1, sizeof(*t->view));
    t->check = calloc(1, sizeof(*t->check));
    t->view_ext = calloc(1, ext_size + 1);
    t->check_ext = calloc(1, ext_size + 1);
    t->img = calloc(1, t->node_size);
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->nodes || !t->blocks || !t->view || !t->check || !t->view_ext || !t->check_ext ||
        !t->img || !t->buckets)
        goto free_table;
    t->mask = (uint32_t)(nb - 1);
    t->max_flows = max_flows;
    t->ext_size = ext_size;
    /* Bucket placement never reaches the output, so a random key keeps runs reproducible. */
    if (siphash_key_random(&t->key) != 0)
        goto free_table;
    return t;

free_table:
    flow_table_free(t);
    return NULL;
}

struct flow_table *flow_table_new(size_t max_flows, size_t ext_size)
{
    return flow_table_new_compact(max_flows, ext_size, NULL);
}

void flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    free(t->buckets);
    free(t->img);
    free(t->check_ext);
    free(t->view_ext);
    free(t->check);
    free(t->view);
    pool_free(t->blocks);
    free(t->nodes);
    free(t);
}

/* The block of entry n (which has one). */
static struct flow *flow_block(const struct flow_table *t, const struct flow_node *n)
{
    return pool_at(t->blocks, n->block);
}

struct flow *flow_of_node(const struct flow_table *t, const struct flow_node *n)
{
    return n && n->block ? flow_block(t, n) : NULL;
}

/* Fill f (ext: its detector state) from the compact entry n. */
static void flow_unpack(struct flow_table *t, struct flow_node *n, struct flow *f, uint8_t *ext)
{
    memset(f, 0, sizeof(*f));
    memset(ext, 0, t->ext_size);
    f->ext = ext;
    f->node = n;
    f->rec.flow_id = n->flow_id;
    f->rec.client = n->client;
    f->rec.server = n->server;
    f->rec.first_ts_ns = n->first_ts_ns;
    f->rec.last_ts_ns = n->last_ts_ns;
    f->rec.first_frame = n->first_frame;
    tcp_syn_unpack(f, &n->syn);
    t->cp.unpack(t->cp.ctx, f, flow_small(n));
}

/* The flow of entry n: its block, or the table's view filled from the entry. */
static struct flow *flow_view(struct flow_table *t, struct flow_node *n)
{
    if (n->block)
        return flow_block(t, n);
    flow_unpack(t, n, t->view, t->view_ext);
    return t->view;
}

struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, int *dir)
{
    uint32_t h = flow_hash(t, &p->src, &p->dst);
    t->last_src = p->src;
    t->last_dst = p->dst;
    t->last_hash = h;
    uint64_t n = 0;
    struct flow_node *f;
    t->st.lookups++;
    for (f = t->buckets[h & t->mask]; f; f = f->hnext) {
        n++;
        if (f->hash != h)
            continue;
        if (pkt_ep_eq(&f->client, &p->src) && pkt_ep_eq(&f->server, &p->dst)) {
            *dir = DIR_C2S;
            break;
        }
        if (pkt_ep_eq(&f->client, &p->dst) && pkt_ep_eq(&f->server, &p->src)) {
            *dir = DIR_S2C;
            break;
        }
    }
    t->st.probes += n;
    if (n > t->st.max_probes)
        t->st.max_probes = n;
    return f ? flow_view(t, f) : NULL;
}

static void flow_lru_unlink(struct flow_table *t, struct flow_node *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void flow_lru_append(struct flow_table *t, struct flow_node *f)
{
    f->lru_next = NULL;
    f->lru_prev = t->lru_tail;
    if (t->lru_tail)
        t->lru_tail->lru_next = f;
    else
        t->lru_head = f;
    t->lru_tail = f;
}

static void flow_closed_unlink(struct flow_table *t, struct flow *f)
{
    if (!f->closed)
        return;
    if (f->cl_prev)
        f->cl_prev->cl_next = f->cl_next;
    else if (t->cl_head == f)
        t->cl_head = f->cl_next;
    if (f->cl_next)
        f->cl_next->cl_prev = f->cl_prev;
    else if (t->cl_tail == f)
        t->cl_tail = f->cl_prev;
    f->cl_prev = f->cl_next = NULL;
    f->closed = false;
}

/* Remove n from its hash chain. */
static void flow_hash_unlink(struct flow_table *t, struct flow_node *n)
{
    struct flow_node **pp = &t->buckets[n->hash & t->mask];
    while (*pp && *pp != n)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = n->hnext;
    n->hnext = NULL;
}

/* Remove entry n from the table, give its block back and put it on the free list. */
static void flow_release_node(struct flow_table *t, struct flow_node *n)
{
    if (!n || !n->in_use)
        return;
    if (n->block) {
        flow_closed_unlink(t, flow_block(t, n));
        pool_put(t->blocks, n->block);
        n->block = 0;
    }
    flow_hash_unlink(t, n);
    flow_lru_unlink(t, n);
    n->in_use = false;
    n->hnext = t->free_list;
    t->free_list = n;
    t->count--;
}

void flow_release(struct flow_table *t, struct flow *f)
{
    if (f)
        flow_release_node(t, f->node);
}

/* Keep the entry's copies of what lookups and expiry read without a view. */
static void flow_sync(struct flow_node *n, const struct flow *f)
{
    n->last_ts_ns = f->rec.last_ts_ns;
    n->client = f->rec.client;
    n->server = f->rec.server;
}

/* Give the flow of compact view f its block (a copy of the view). NULL when none is left. */
static struct flow *flow_promote(struct flow_table *t, struct flow *f)
{
    struct flow_node *n = f->node;
    uint32_t h = pool_get(t->blocks);
    if (!h) {
        t->exhausted++;
        return NULL;
    }
    struct flow *b = pool_at(t->blocks, h);
    *b = *f;
    b->ext = (uint8_t *)b + t->ext_off;
    memcpy(b->ext, f->ext, t->ext_size);
    n->block = h;
    flow_sync(n, b);
    return b;
}

/* Write the compact form of view f into img (an entry image); true if it gives f back. */
static bool flow_pack(struct flow_table *t, const struct flow *f, struct flow_node *img)
{
    if (f->closed)
        return false;
    img->flow_id = f->rec.flow_id;
    img->first_ts_ns = f->rec.first_ts_ns;
    img->last_ts_ns = f->rec.last_ts_ns;
    img->first_frame = f->rec.first_frame;
    img->client = f->rec.client;
    img->server = f->rec.server;
    tcp_syn_pack(f, &img->syn);
    memset(flow_small(img), 0, t->cp.small_size);
    t->cp.pack(t->cp.ctx, f, flow_small(img));
    flow_unpack(t, img, t->check, t->check_ext);
    return memcmp(&t->check->rec, &f->rec, sizeof(f->rec)) == 0 &&
           memcmp(t->check->half, f->half, sizeof(f->half)) == 0 &&
           memcmp(&t->check->tcp, &f->tcp, sizeof(f->tcp)) == 0 &&
           memcmp(t->check_ext, f->ext, t->ext_size) == 0;
}

struct flow *flow_commit(struct flow_table *t, struct flow *f)
{
    struct flow_node *n = f->node;
    if (n->block) {
        flow_sync(n, f);
        return f;
    }
    if (flow_pack(t, f, t->img)) {
        n->flow_id = t->img->flow_id;
        n->first_ts_ns = t->img->first_ts_ns;
        n->first_frame = t->img->first_frame;
        n->syn = t->img->syn;
        memcpy(flow_small(n), flow_small(t->img), t->cp.small_size);
        flow_sync(n, f);
        return f;
    }
    return flow_promote(t, f);
}

struct flow *flow_create(struct flow_table *t, const struct pkt *p,
                         void (*evict_cb)(void *ctx, struct flow *f), void *ctx)
{
    if (!t->free_list && t->fresh == t->max_flows) {
        struct flow_node *old = t->lru_head;
        if (!old)
            return NULL;
        if (evict_cb)
            evict_cb(ctx, flow_view(t, old));
        flow_release_node(t, old);
    }
    struct flow_node *n;
    if (t->free_list) {
        n = t->free_list;
        t->free_list = n->hnext;
    } else {
        n = (struct flow_node *)(t->nodes + t->fresh++ * t->node_size);
    }
    memset(n, 0, t->node_size);
    struct flow *f = t->view;
    if (!t->compact) {
        n->block = pool_get(t->blocks);
        if (!n->block) {
            t->exhausted++;
            n->hnext = t->free_list;
            t->free_list = n;
            return NULL;
        }
        f = flow_block(t, n);
        f->ext = (uint8_t *)f + t->ext_off;
    } else {
        memset(f, 0, sizeof(*f));
        memset(t->view_ext, 0, t->ext_size);
        f->ext = t->view_ext;
    }
    f->node = n;
    f->rec.client = p->src;
    f->rec.server = p->dst;
    n->client = p->src;
    n->server = p->dst;
    /* a new flow follows a lookup of the same packet: its hash is known (SipHash saved) */
    if (pkt_ep_eq(&p->src, &t->last_src) && pkt_ep_eq(&p->dst, &t->last_dst))
        n->hash = t->last_hash;
    else
        n->hash = flow_hash(t, &p->src, &p->dst);
    n->in_use = true;
    struct flow_node **b = &t->buckets[n->hash & t->mask];
    n->hnext = *b;
    *b = n;
    flow_lru_append(t, n);
    t->count++;
    return f;
}

void flow_touch(struct flow_table *t, struct flow *f)
{
    struct flow_node *n = f->node;
    if (t->lru_tail == n)
        return;
    flow_lru_unlink(t, n);
    flow_lru_append(t, n);
}

struct flow *flow_oldest(struct flow_table *t)
{
    return t->lru_head ? flow_view(t, t->lru_head) : NULL;
}

bool flow_oldest_ts(const struct flow_table *t, uint64_t *ts)
{
    if (!t->lru_head)
        return false;
    *ts = t->lru_head->last_ts_ns;
    return true;
}

void flow_set_closed(struct flow_table *t, struct flow *f, uint64_t ts_ns)
{
    if (f->closed)
        return;
    if (!f->node->block) {
        f = flow_promote(t, f);
        if (!f)
            return; /* no block left (counted): it ends when idle or evicted */
    }
    f->closed = true;
    f->closed_ts_ns = ts_ns;
    f->cl_next = NULL;
    f->cl_prev = t->cl_tail;
    if (t->cl_tail)
        t->cl_tail->cl_next = f;
    else
        t->cl_head = f;
    t->cl_tail = f;
}

struct flow *flow_oldest_closed(const struct flow_table *t)
{
    return t->cl_head;
}

size_t flow_count(const struct flow_table *t)
{
    return t->count;
}

void flow_foreach(struct flow_table *t, void (*fn)(void *ctx, struct flow *f), void *ctx)
{
    for (struct flow_node *n = t->lru_head; n; n = n->lru_next) {
        struct flow *f = flow_view(t, n);
        fn(ctx, f);
        if (!flow_commit(t, f))
            continue; /* no block left (counted): the entry keeps its state before fn */
    }
}

void flow_foreach_view(struct flow_table *t, void (*fn)(void *ctx, const struct flow *f), void *ctx)
{
    for (struct flow_node *n = t->lru_head; n; n = n->lru_next)
        fn(ctx, flow_view(t, n));
}

int flow_table_set_key(struct flow_table *t, const struct siphash_key *k)
{
    if (t->count)
        return ERR_ARG;
    t->key = *k;
    memset(&t->last_src, 0, sizeof(t->last_src)); /* the cached hash was under the old key */
    memset(&t->last_dst, 0, sizeof(t->last_dst));
    return 0;
}

void flow_table_get_stats(const struct flow_table *t, struct flow_table_stats *st)
{
    *st = t->st;
}

void flow_table_get_mem(const struct flow_table *t, struct flow_mem_stats *st)
{
    struct pool_stats ps;
    pool_get_stats(t->blocks, &ps);
    st->entry_bytes = t->node_size;
    st->entry_struct_bytes = sizeof(struct flow_node);
    st->block_bytes = ps.block;
    st->blocks_used = ps.used;
    st->blocks_peak = ps.peak;
    st->blocks_exhausted = t->exhausted;
}

size_t flow_table_longest_chain(const struct flow_table *t)
{
    size_t longest = 0;
    for (size_t b = 0; b <= t->mask; b++) {
        size_t n = 0;
        for (const struct flow_node *f = t->buckets[b]; f; f = f->hnext)
            n++;
        if (n > longest)
            longest = n;
    }
    return longest;
}
