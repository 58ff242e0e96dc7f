/* estab.h - the connection-establishment detector (det_estab.c), for det_table.c. */
#ifndef FM_ESTAB_H
#define FM_ESTAB_H

#include "analyzers/det.h"

/* Refused, unanswered SYN, SYN backlog drop, accept-queue overflow, unreachable, slow handshake. */
extern const struct det_ops det_estab_ops;

#endif
