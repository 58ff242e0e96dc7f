/*
 * alert.h - one server-health alert rule with hysteresis and a hold time: it opens after
 * open_after consecutive intervals over the threshold and closes only after clear_after
 * consecutive intervals at or under threshold * clear_ratio, so it does not flap.
 */
#ifndef FM_ALERT_H
#define FM_ALERT_H

#include <stdbool.h>
#include <stdint.h>

/* The server-health alert rules, in the bit order of health_row.open_alerts. */
enum alert_rule {
    AR_RESP_P99 = 0,  /* response time p99 over the threshold */
    AR_ERROR_RATE,    /* failed connections or HTTP 5xx over the threshold */
    AR_RETRANS_RATE,  /* data retransmission rate over the threshold */
    AR_CERT_EXPIRING, /* a certificate expiring within the days set (or expired) */
    AR__COUNT
};

/* The bit of rule r in health_row.open_alerts. */
#define ALERT_BIT(r) (1u << (unsigned)(r))

/* Stable name of a rule ("resp_p99", ...; the alerts table and metrics use it); "?" if none. */
const char *alert_rule_name(enum alert_rule r);

/* How a rule opens and clears. */
struct alert_cfg {
    double threshold;     /* opens when the value is above this */
    double clear_ratio;   /* clears when the value is at or below threshold * clear_ratio */
    uint32_t open_after;  /* consecutive intervals over the threshold to open (>= 1) */
    uint32_t clear_after; /* consecutive clear intervals to close (>= 1): the hold time */
};

/* A rule's state for one server. Zero means closed. */
struct alert_state {
    bool open;          /* the alert is open */
    uint32_t streak;    /* consecutive intervals pointing to the other state */
    double last_value;  /* the last value that was not "no data" */
    double value;       /* the value of the last interval stepped (NAN: no data) */
    uint64_t opened_ns; /* when it opened (capture time) */
};

/* What one interval did to the rule. */
enum alert_change {
    ALERT_SAME = 0, /* no change */
    ALERT_OPENED,   /* it opened now */
    ALERT_CLOSED,   /* it cleared now */
};

/*
 * Feed one interval's value. NAN means "no data": when quiet is true (nothing pending on the
 * server, it is simply idle) the interval counts as clear; otherwise it leaves the rule as it
 * is. now_ns is the interval end, recorded as opened_ns on opening.
 */
enum alert_change alert_step(struct alert_state *a, const struct alert_cfg *c, double value,
                             bool quiet, uint64_t now_ns);

#endif
