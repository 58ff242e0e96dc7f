/*
 * clock.h - the two clocks outside the packet path: monotonic (pacing, timeouts, redraw rate)
 * and real time (run start/end, live idle ticks). Analyzers never read either: their time is
 * the packets' time.
 */
#ifndef FM_CLOCK_H
#define FM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in ns, for measuring intervals. */
static inline uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Real (wall-clock) time in ns since the epoch. */
static inline uint64_t clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
