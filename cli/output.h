/*
 * output.h - the output queue: the analysis thread puts records (struct out_rec copies) into
 * one bounded ring preallocated at start-up; one output thread takes them in order and hands
 * each to every sink (sink_ops.put), so no sink ever runs on the analysis thread.
 */
#ifndef FM_OUTPUT_H
#define FM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/finding.h"

#define OUTPUT_MAX_SINKS 16       /* sinks one output fans out to */
#define OUTPUT_DEFAULT_SLOTS 2048 /* records the queue holds */

/* One opened sink: its operations and the state its open returned. */
struct out_sink {
    const struct sink_ops *ops; /* what it does */
    void *ctx;                  /* its state */
};

struct output;

/*
 * Start the output thread over sinks[0..n) (already opened; the output does not close
 * them); those marked on_analysis_thread are fed by the producer, before the queue. slots: queue
 * size in records (0: OUTPUT_DEFAULT_SLOTS). block: when the queue is full the producer waits
 * (offline input: nothing is lost); otherwise the record is counted as dropped (live input: capture
 * never stalls). The summary record is never dropped. NULL with a reason in err on failure. Call it
 * with SIGINT/SIGTERM blocked: the thread inherits the mask.
 */
struct output *output_new(const struct out_sink *sinks, size_t n, size_t slots, bool block,
                          char *err, size_t errlen);

/*
 * The producer side, for eng_new: put copies the record into the queue (ctx: the output). One
 * producer thread at a time: offline it fills free slots without the lock.
 */
extern const struct sink_ops output_sink_ops;

/*
 * prompt: a live view watches a file replay, so every record is queued at once (the thread
 * takes them within 100 ms) instead of 64 at a time (the producer's call).
 */
void output_set_prompt(struct output *o, bool prompt);

/* Wait until every record put so far has been handed to every sink (the producer's call). */
void output_sync(struct output *o);

/* Records dropped because the queue was full (live input only). Any thread. */
uint64_t output_dropped(struct output *o);

/* Deliver what is queued, stop and join the thread, free. NULL is allowed. */
void output_free(struct output *o);

#endif
