/*
 * incident.h - the incident layer (incident.c): per server endpoint and cause, one incident
 * that opens when the evidence crosses a threshold, is updated while the problem lasts and
 * closes on positive evidence of recovery (or after a quiet period, or at the end of input).
 * It reads typed records only (TCP segment facts, finding kinds, flow records, health rows,
 * TLS records), never another module's text. The record it emits is struct incident_record
 * (finding.h); README.md, "Diagnosis", explains the causes and rules.
 */
#ifndef FM_INCIDENT_H
#define FM_INCIDENT_H

#include "det.h"

/* The incident detector, last in det_table so it sees every other detector's output. */
extern const struct det_ops det_incident_ops;

/* Layer of a cause (the runbook's order: network, transport, tls, application, capture). */
enum inc_layer inc_cause_layer(enum inc_cause c);

#endif
