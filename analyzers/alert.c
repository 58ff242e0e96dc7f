/* alert.c - hysteresis and hold time for server-health alert rules. */
#include "analyzers/alert.h"

#include <math.h>

enum alert_change alert_step(struct alert_state *a, const struct alert_cfg *c, double value,
                             bool quiet, uint64_t now_ns)
{
    uint32_t open_after = c->open_after ? c->open_after : 1;
    uint32_t clear_after = c->clear_after ? c->clear_after : 1;
    bool nodata = isnan(value);
    a->value = value;
    if (!nodata)
        a->last_value = value;
    if (!a->open) {
        if (!nodata && value > c->threshold) {
            if (++a->streak >= open_after) {
                a->open = true;
                a->streak = 0;
                a->opened_ns = now_ns;
                return ALERT_OPENED;
            }
        } else if (!nodata || quiet) {
            a->streak = 0;
        }
        return ALERT_SAME;
    }
    bool clear = nodata ? quiet : value <= c->threshold * c->clear_ratio;
    if (clear) {
        if (++a->streak >= clear_after) {
            a->open = false;
            a->streak = 0;
            return ALERT_CLOSED;
        }
    } else if (!nodata) {
        a->streak = 0;
    }
    return ALERT_SAME;
}

static const char *const alert_rule_names[AR__COUNT] = {
    [AR_RESP_P99] = "resp_p99",
    [AR_ERROR_RATE] = "error_rate",
    [AR_RETRANS_RATE] = "retrans_rate",
    [AR_CERT_EXPIRING] = "cert_expiring",
};

const char *alert_rule_name(enum alert_rule r)
{
    return (unsigned)r < AR__COUNT ? alert_rule_names[r] : "?";
}
