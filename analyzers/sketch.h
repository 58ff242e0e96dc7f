/*
 * sketch.h - a streaming quantile sketch with a stated error bound (DDSketch, Masson et al.,
 * VLDB 2019): a log-bucket histogram of fixed size, no allocation per sample.
 *
 * Guarantee: for a value range of [SKETCH_MIN, SKETCH_MAX] (1 us .. 100000 s when the samples
 * are seconds), sketch_quantile(s, q) is within a relative error of SKETCH_ALPHA (1 %) of the
 * exact nearest-rank quantile: the sample at 1-based rank max(1, ceil(q * n)) of the sorted
 * samples (so the p99 of 4 samples is the largest, as an operator expects). Samples below
 * SKETCH_MIN are kept in one bucket and reported as the smallest sample seen (absolute error
 * < SKETCH_MIN); samples above SKETCH_MAX are reported as the largest sample seen.
 */
#ifndef FM_SKETCH_H
#define FM_SKETCH_H

#include <stdint.h>

#define SKETCH_ALPHA 0.01   /* relative accuracy */
#define SKETCH_MIN 1e-6     /* smallest value with the relative guarantee */
#define SKETCH_MAX 1e5      /* largest value with the relative guarantee */
#define SKETCH_BUCKETS 1280 /* covers log(SKETCH_MAX/SKETCH_MIN)/log(gamma) + 2 */

/* One sketch: bucket i holds samples in (gamma^(i+off-1), gamma^(i+off)]. */
struct sketch {
    uint64_t n;                      /* samples added */
    uint64_t n_low;                  /* samples below SKETCH_MIN (incl. zero and negative) */
    uint64_t n_high;                 /* samples above SKETCH_MAX */
    double min;                      /* smallest sample (valid when n > 0) */
    double max;                      /* largest sample (valid when n > 0) */
    uint32_t counts[SKETCH_BUCKETS]; /* per-bucket sample counts */
};

/* Empty the sketch. */
void sketch_reset(struct sketch *s);

/* Add one sample (NaN is ignored). */
void sketch_add(struct sketch *s, double v);

/* Add every sample of src to dst. */
void sketch_merge(struct sketch *dst, const struct sketch *src);

/* The q-quantile (0 <= q <= 1) as described above; NAN when the sketch is empty. */
double sketch_quantile(const struct sketch *s, double q);

#endif
