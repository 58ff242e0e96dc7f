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
