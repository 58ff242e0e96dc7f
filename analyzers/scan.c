/* scan.c - the scan tracker (scan.h): a direct-mapped table of client addresses. */
#include "analyzers/scan.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_SLOTS 4096                      /* client addresses tracked (direct-mapped) */
#define SCAN_WINDOW_NS (60 * NS_PER_S)       /* a client's targets are counted over this long */

struct scan_table {
    uint32_t min_targets;      /* targets that make a scanner */
    struct scan_client *slot;  /* SCAN_SLOTS entries */
};

/* FNV-1a of an address and, when port >= 0, a port. */
static uint32_t scan_hash(const struct ip_addr *ip, int port)
{
    uint32_t h = 2166136261u;
    size_t n = ip->family == 6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ip->a[i]) * 16777619u;
    if (port >= 0) {
        h = (h ^ ((unsigned)port & 0xffu)) * 16777619u;
        h = (h ^ ((unsigned)port >> 8)) * 16777619u;
    }
    return h;
}

static bool scan_ip_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return a->family == b->family && memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

struct scan_table *scan_new(uint32_t min_targets)
{
    struct scan_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->slot = calloc(SCAN_SLOTS, sizeof(*t->slot));
    if (!t->slot) {
        free(t);
        return NULL;
    }
    if (min_targets < 2)
        min_targets = 2;
    t->min_targets = min_targets > SCAN_TARGETS_MAX ? SCAN_TARGETS_MAX : min_targets;
    return t;
}

void scan_free(struct scan_table *t)
{
    if (!t)
        return;
    free(t->slot);
    free(t);
}

/* The slot of ip, taken over unless a scanner holds it (then NULL: not tracked). */
static struct scan_client *scan_slot(struct scan_table *t, const struct ip_addr *ip)
{
    struct scan_client *c = &t->slot[scan_hash(ip, -1) % SCAN_SLOTS];
    if (c->used && scan_ip_eq(&c->ip, ip))
        return c;
    if (c->used && c->scanner)
        return NULL; /* a scanner keeps its slot */
    memset(c, 0, sizeof(*c));
    c->used = true;
    c->ip = *ip;
    return c;
}

void scan_probe(struct scan_table *t, const struct endpoint *client, const struct endpoint *server,
                uint64_t ts_ns)
{
    struct scan_client *c = t ? scan_slot(t, &client->ip) : NULL;
    if (!c)
        return;
    c->last_ns = ts_ns;
    if (!c->scanner && ts_ns > c->first_ns && ts_ns - c->first_ns > SCAN_WINDOW_NS) {
        c->ntargets = 0; /* a new count */
        c->answered = 0;
    }
    uint32_t h = scan_hash(&server->ip, server->port) | 1u;
    uint32_t n = c->ntargets < SCAN_TARGETS_MAX ? c->ntargets : SCAN_TARGETS_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (c->hash[i] == h)
            return;
    if (c->ntargets < SCAN_TARGETS_MAX)
        c->hash[c->ntargets] = h;
    if (c->ntargets == 0) {
        c->first_target = *server;
        c->first_ns = ts_ns;
    }
    c->ntargets++;
    if (!c->scanner && c->ntargets >= t->min_targets && c->answered * 2 < c->ntargets)
        c->scanner = true;
}

void scan_answered(struct scan_table *t, const struct ip_addr *client)
{
    struct scan_client *c = t ? &t->slot[scan_hash(client, -1) % SCAN_SLOTS] : NULL;
    if (c && c->used && scan_ip_eq(&c->ip, client))
        c->answered++;
}

const struct scan_client *scan_lookup(const struct scan_table *t, const struct ip_addr *ip)
{
    const struct scan_client *c = t ? &t->slot[scan_hash(ip, -1) % SCAN_SLOTS] : NULL;
    return c && c->used && scan_ip_eq(&c->ip, ip) ? c : NULL;
}

bool scan_is_scanner(const struct scan_table *t, const struct ip_addr *ip)
{
    const struct scan_client *c = scan_lookup(t, ip);
    return c && c->scanner;
}
