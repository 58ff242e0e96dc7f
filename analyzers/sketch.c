/* sketch.c - DDSketch-style quantile sketch: log buckets of ratio gamma = (1+a)/(1-a). */
#include "analyzers/sketch.h"

#include <math.h>
#include <string.h>

/* gamma = (1 + alpha) / (1 - alpha); a bucket's estimate 2 g^i / (g + 1) is within alpha. */
#define SKETCH_GAMMA ((1.0 + SKETCH_ALPHA) / (1.0 - SKETCH_ALPHA))

/* Bucket index (before the offset) of v > 0: ceil(log_gamma(v)). */
static int sk_index(double v)
{
    return (int)ceil(log(v) / log(SKETCH_GAMMA));
}

/* Index of SKETCH_MIN: bucket 0 in counts[]. */
static int sk_offset(void)
{
    return sk_index(SKETCH_MIN);
}

/* The estimate for bucket i (after the offset). */
static double sk_value(int i)
{
    double g = SKETCH_GAMMA;
    return 2.0 * pow(g, (double)(i + sk_offset())) / (g + 1.0);
}

void sketch_reset(struct sketch *s)
{
    memset(s, 0, sizeof(*s));
}

void sketch_add(struct sketch *s, double v)
{
    if (isnan(v))
        return;
    if (s->n == 0 || v < s->min)
        s->min = v;
    if (s->n == 0 || v > s->max)
        s->max = v;
    s->n++;
    if (v < SKETCH_MIN) {
        s->n_low++;
        return;
    }
    if (v > SKETCH_MAX) {
        s->n_high++;
        return;
    }
    int i = sk_index(v) - sk_offset();
    if (i < 0)
        i = 0;
    if (i >= SKETCH_BUCKETS)
        i = SKETCH_BUCKETS - 1;
    if (s->counts[i] == UINT32_MAX) {
        /* saturated bucket: keep the rank structure by not counting (never seen in practice) */
        s->n--;
        return;
    }
    s->counts[i]++;
}

void sketch_merge(struct sketch *dst, const struct sketch *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->n == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->n += src->n;
    dst->n_low += src->n_low;
    dst->n_high += src->n_high;
    for (int i = 0; i < SKETCH_BUCKETS; i++) {
        uint64_t c = (uint64_t)dst->counts[i] + src->counts[i];
        if (c > UINT32_MAX) {
            dst->n -= c - UINT32_MAX;
            c = UINT32_MAX;
        }
        dst->counts[i] = (uint32_t)c;
    }
}

double sketch_quantile(const struct sketch *s, double q)
{
    if (s->n == 0 || isnan(q))
        return NAN;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* nearest rank, 0-based; the epsilon keeps 0.95 * 20 = 19.000000000000004 at 19 */
    double r1 = ceil(q * (double)s->n - 1e-9);
    uint64_t rank = r1 <= 1 ? 0 : (uint64_t)r1 - 1;
    if (rank >= s->n)
        rank = s->n - 1;
    double est;
    if (rank < s->n_low) {
        est = s->min;
    } else {
        uint64_t seen = s->n_low;
        int i = 0;
        for (; i < SKETCH_BUCKETS; i++) {
            seen += s->counts[i];
            if (seen > rank)
                break;
        }
        est = i < SKETCH_BUCKETS ? sk_value(i) : s->max;
    }
    /* the exact sample lies in [min, max], so clamping never moves away from it */
    if (est < s->min)
        est = s->min;
    if (est > s->max)
        est = s->max;
    return est;
}
