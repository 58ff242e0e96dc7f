/*
 * ring.h - a single-producer/single-consumer byte ring of variable-length messages between two
 * threads (the reader and a worker, a worker and the aggregator), allocated once. No lock per
 * message: the producer publishes a batch with one release store of its tail, the consumer
 * frees a batch with one release store of its head. A side that must wait sleeps on a
 * ring_event (mutex + condition variable), woken only when it said it sleeps.
 */
#ifndef FM_RING_H
#define FM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Where one thread sleeps: each thread that waits owns one, and any thread may wake it. The
 * waiter announces itself (waiting) before it checks its condition a last time, the waker
 * publishes before it looks at waiting: one of the two always sees the other.
 */
struct ring_event;

struct ring_event *ring_event_new(void);
void ring_event_free(struct ring_event *ev);

/*
 * Sleep until ring_event_wake, at most timeout_ns, unless ready(ctx) is already true after
 * announcing the wait (so a wake between the caller's check and the sleep is not lost).
 */
void ring_event_wait(struct ring_event *ev, bool (*ready)(void *ctx), void *ctx,
                     uint64_t timeout_ns);

/* Wake ev's thread if it sleeps (cheap when it does not: one atomic load). */
void ring_event_wake(struct ring_event *ev);

struct ring;

/*
 * A ring of cap bytes (rounded up to a power of two, at least 4 KiB); a message may take up
 * to cap / 4 bytes. data_ev: woken when messages are published (the consumer's event);
 * space_ev: woken when space is freed (the producer's). NULL on failure.
 */
struct ring *ring_new(size_t cap, struct ring_event *data_ev, struct ring_event *space_ev);
void ring_free(struct ring *r);

/* The largest message a ring of this capacity takes. */
size_t ring_max_msg(const struct ring *r);

/*
 * Producer: room for a message of len bytes (8-byte aligned), or NULL when the ring has not
 * that much free space now (or len > ring_max_msg). The message is not visible until
 * ring_publish; ring_push makes it part of the batch being written.
 */
void *ring_try_reserve(struct ring *r, size_t len);

/* Producer: the message last reserved is complete (it goes out with the next publish). */
void ring_push(struct ring *r);

/* Producer: make every pushed message visible to the consumer (and wake it if it sleeps). */
void ring_publish(struct ring *r);

/* Producer: ring_try_reserve, publishing and sleeping on space_ev until it succeeds. */
void *ring_reserve(struct ring *r, size_t len);

/*
 * Producer: sleep until a message of len bytes fits (whatever the wrap), without publishing
 * anything (for a producer whose pushed messages are not complete yet).
 */
void ring_wait_room(struct ring *r, size_t len);

/*
 * Consumer: the oldest published message not yet taken (its length in *len), or NULL when
 * none is published. Stays valid until ring_release frees it.
 */
void *ring_peek(struct ring *r, size_t *len);

/* Consumer: step past the message ring_peek returned (its space is freed by ring_release). */
void ring_take(struct ring *r);

/* Consumer: free the space of every message taken so far (and wake the producer if it sleeps). */
void ring_release(struct ring *r);

/* Published messages not yet taken (consumer side; for waits). */
bool ring_readable(struct ring *r);

#endif
