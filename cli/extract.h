/*
 * extract.h - `flowmedic extract DB (--flow RUN:ID | --finding ID | --incident N) -o OUT.pcap`:
 * the packets of the flows concerned, from the run's capture files or its --evidence-dir;
 * and the glue that feeds the evidence ring (capture/evidence.h) from the analysis.
 */
#ifndef FM_EXTRACT_H
#define FM_EXTRACT_H

#include <stddef.h>

#include "analyzers/finding.h"
#include "capture/evidence.h"

/*
 * argv[0] is "extract". Messages to stderr. Returns the exit code: 0 written, 1 runtime error
 * (database or capture missing, no such flow, nothing found), 2 usage error.
 */
int cli_extract_main(int argc, char **argv);

/*
 * The sink that decides what the evidence ring writes (cfg: the run's struct
 * evidence_config): a flow with an error finding, or one of an incident's evidence flows
 * while it is followed, is marked, and written when its flow record arrives. It runs on the
 * analysis thread (the packet path fills the same ring); close prints what was written.
 */
extern const struct sink_ops evidence_sink_ops;

/* The ring of an opened evidence sink (its ctx), NULL for NULL: the packet path feeds it. */
struct evidence *cli_evidence_ring(void *ctx);

/*
 * The absolute paths of capture files, one a line, into buf ("-" stays "-": stdin). 0, or
 * ERR_FULL when buf is too small.
 */
int cli_inputs_text(const char *const *paths, size_t n, char *buf, size_t len);

#endif
