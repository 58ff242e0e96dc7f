/*
 * evidence.h - the evidence ring of --evidence-dir: per flow the first packets and a ring of
 * the last ones, in a pool allocated at start-up (no allocation per packet), written out as
 * DIR/<run>-<flow>.pcap when the flow ends after it was marked (an error finding, or it
 * joined an incident). Flows are named by their flow id only, so this stays a capture-layer
 * module: the caller says which flow a frame belongs to and which flows to keep.
 */
#ifndef FM_EVIDENCE_H
#define FM_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/err.h"
#include "capture/source.h"

#define EVIDENCE_DEFAULT_FIRST 16  /* packets kept from the start of each flow */
#define EVIDENCE_DEFAULT_LAST 16   /* packets kept in the ring of each flow's last packets */
#define EVIDENCE_DEFAULT_FLOWS 256 /* flows followed at once */
#define EVIDENCE_SNAPLEN 1600      /* bytes kept of each packet (longer frames are cut) */
#define EVIDENCE_MAX_FILES 10000   /* files written per run; later ones are counted, not written */

/* Sizes of the pool (0 = the default above). */
struct evidence_config {
    const char *dir;  /* where the pcaps go (must exist and be writable) */
    size_t first;     /* first packets kept per flow */
    size_t last;      /* last packets kept per flow (a ring) */
    size_t flows;     /* flows followed at once (the pool's slots) */
    uint32_t snaplen; /* bytes kept per packet */
};

/* What the ring did (for the summary and the tests). */
struct evidence_stats {
    uint64_t written;        /* pcap files written */
    uint64_t packets;        /* packets written into them */
    uint64_t not_followed;   /* packets not kept: every slot was marked when their flow began,
                                or the flow lost its slot to a newer one */
    uint64_t evicted;        /* unmarked flows whose slot was taken by a newer flow */
    uint64_t dropped_middle; /* packets of written flows between the first and the last ring */
    uint64_t write_errors;   /* files that could not be written */
    uint64_t over_limit;     /* marked flows not written: EVIDENCE_MAX_FILES reached */
};

struct evidence;

/*
 * A ring of cfg->flows slots of (first + last) packets of snaplen bytes each, allocated here
 * once. NULL with a one-line reason in err (directory missing or not writable, no memory).
 */
struct evidence *evidence_new(const struct evidence_config *cfg, char *err, size_t errlen);

/* The run id used in file names (the database's runs.id; 0 without a database). */
void evidence_set_run(struct evidence *ev, int64_t run_id);

/*
 * Keep frame f of flow flow_id (0: not a flow, ignored). Flow ids must grow with each new
 * flow (the engine's do): a new flow takes a free slot, or the slot of the next unmarked flow
 * round robin. Bounded work, no allocation.
 */
void evidence_packet(struct evidence *ev, uint64_t flow_id, const struct cap_frame *f);

/*
 * The same for a source whose flow ids do not grow in time (several workers feed one ring):
 * first says that f is the flow's first packet, the only one that may take a slot.
 */
void evidence_packet_new(struct evidence *ev, uint64_t flow_id, bool first,
                         const struct cap_frame *f);

/*
 * A feeder's staging (one per worker thread): frames given to evidence_stage_packet are
 * handed to the ring in batches, under one lock each, by evidence_stage_flush, or when the
 * staging is full. A frame is copied into the staging (frames * snaplen bytes, allocated
 * here) unless the caller keeps its bytes in place until the next flush (keep). The ring sees
 * a flow's frames in the order they were staged; whoever names the flow (evidence_alias,
 * evidence_mark, evidence_flow_end) must come after the flush of its frames. NULL: no memory.
 */
struct evidence_stage;
struct evidence_stage *evidence_stage_new(struct evidence *ev, size_t frames, bool copy);
/* Frame f of flow_id (first: the flow's first frame), as evidence_packet_new. */
void evidence_stage_packet(struct evidence_stage *st, uint64_t flow_id, bool first,
                           const struct cap_frame *f, bool keep);
/* Hand every staged frame to the ring (one lock); nothing staged: no lock. */
void evidence_stage_flush(struct evidence_stage *st);
/* Frames handed to the ring so far, and flushes that took the lock (for tests). */
void evidence_stage_counts(const struct evidence_stage *st, uint64_t *frames, uint64_t *flushes);
void evidence_stage_free(struct evidence_stage *st);

/*
 * With workers: flows are fed by the worker's id for them (evidence_packet_new) and named in
 * the output by the aggregator's (evidence_alias, when it numbers the flow). After
 * evidence_use_aliases, evidence_mark, evidence_holds and evidence_flow_end take the
 * output's ids and the files are named by them. Every call may come from any thread.
 */
void evidence_use_aliases(struct evidence *ev);
void evidence_alias(struct evidence *ev, uint64_t flow_id, uint64_t alias);

/*
 * Keep flow_id's packets: it has an error finding, or it joined an incident (the incident
 * layer's hook). A marked flow keeps its slot until it ends.
 */
void evidence_mark(struct evidence *ev, uint64_t flow_id);

/* flow_id holds a slot now (it is followed: seen and not ended, nor evicted). */
bool evidence_holds(struct evidence *ev, uint64_t flow_id);

/*
 * flow_id ended: if it was marked, write DIR/<run>-<flow>.pcap (capture order, nanosecond
 * timestamps); free its slot either way. 0, or a negative enum err when the file failed.
 */
int evidence_flow_end(struct evidence *ev, uint64_t flow_id);

/* The file name of a flow's evidence: DIR/<run>-<flow>.pcap into buf; buf. */
const char *evidence_path(const char *dir, int64_t run_id, uint64_t flow_id, char *buf, size_t len);

void evidence_get_stats(struct evidence *ev, struct evidence_stats *st);

void evidence_free(struct evidence *ev);

#endif
