/* health.h - the server health detector (det_health.c), for the detector table. */
#ifndef FM_HEALTH_H
#define FM_HEALTH_H

#include "analyzers/det.h"

/* Response times, slow_response findings, per-server interval rows and health alerts. */
extern const struct det_ops det_health_ops;

#endif
