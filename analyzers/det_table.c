/* det_table.c - the detector table: one line per detector, run in this order (nginx modules). */
#include "analyzers/det.h"
#include "analyzers/estab.h"
#include "analyzers/health.h"
#include "analyzers/incident.h"
#include "analyzers/tcp.h"
#include "analyzers/tls.h"

const struct det_ops *const det_table[] = {
    &det_tcp_ops,
    &det_estab_ops,
    &det_health_ops,
    &det_tls_ops,
    &det_incident_ops,
    NULL,
};
