/* test_finding.c - the finding-kind table and the one JSON encoder of typed finding fields. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/finding.h"
#include "tests/unit/testhelp.h"

/* Every kind has a name, a name that maps back, and fields that fit its family. */
static void test_kind_table(void)
{
    for (int k = 0; k < FK__COUNT; k++) {
        const struct fk_info *i = fk_info((enum fkind)k);
        CHECK(i->name != NULL && strcmp(i->name, "?") != 0);
        CHECK_EQ_U64(fk_from_name(i->name), k);
        /* a kind that reports a per-flow TCP event counter has the counted fields; only reset
           (one finding per event) has a counter without them */
        if (i->family == FX_TCP_EVENTS)
            CHECK(i->tev >= 0 && i->tev < TEV__COUNT);
        else
            CHECK(i->tev < 0 || (i->family == FX_RESET && i->tev == TEV_RESET));
        /* only FX_TCP_EVENTS kinds carry optional fx.tcp members */
        if (i->tcp_extra != FXT_NONE)
            CHECK(i->family == FX_TCP_EVENTS);
        /* an incident evidence kind names a cause; one named in wording feeds its cause */
        if (i->inc_role != IR_NONE)
            CHECK(i->inc_cause >= 0 && i->inc_cause < IC__COUNT);
        if (i->inc_words || i->inc_advice)
            CHECK(i->inc_rank > 0 && i->inc_role != IR_NONE);
        /* a flow trouble is a counted event */
        if (i->flow_trouble)
            CHECK(i->tev >= 0);
        /* only kinds reporting a retransmission counter count as data retransmissions */
        if (i->data_retransmission)
            CHECK(i->tev == TEV_RETRANSMISSION || i->tev == TEV_FAST_RETRANSMISSION ||
                  i->tev == TEV_SPURIOUS_RETRANSMISSION);
        CHECK(strcmp(fk_layer_name(i->layer), "?") != 0);
    }
    CHECK(strcmp(fk_info(FK__COUNT)->name, "?") == 0);
    CHECK(fk_info(FK_CONN_REFUSED)->fail == FAIL_REFUSED);
    CHECK(fk_info(FK_SERVER_UNREACHABLE)->fail == FAIL_TIMEOUT);
    CHECK(fk_info(FK_RESET)->fail == FAIL_NONE);
    /* the incident causes findings open, and the one attached to health-row incidents */
    CHECK(fk_info(FK_ACCEPT_QUEUE_OVERFLOW)->inc_role == IR_OPENS &&
          fk_info(FK_ACCEPT_QUEUE_OVERFLOW)->inc_cause == IC_ACCEPT_QUEUE_OVERFLOW);
    CHECK(fk_info(FK_SLOW_RESPONSE)->inc_role == IR_OPENS &&
          fk_info(FK_SLOW_RESPONSE)->inc_cause == IC_SLOW_RESPONSES);
    CHECK(fk_info(FK_HTTP_5XX)->inc_role == IR_ATTACHES &&
          fk_info(FK_HTTP_5XX)->inc_cause == IC_HTTP_ERRORS);
    CHECK(fk_info(FK_CERT_INVALID_DATE)->inc_role == IR_NONE);
    CHECK(fk_info(FK_CERT_CHAIN_INCOMPLETE)->inc_rank < fk_info(FK_CERT_UNTRUSTED)->inc_rank);
    CHECK(strcmp(fail_name(FAIL_TLS), "tls") == 0);
    CHECK(strcmp(alert_rule_name(AR_CERT_EXPIRING), "cert_expiring") == 0);
    CHECK(strcmp(alert_rule_name(AR__COUNT), "?") == 0);
}

static struct finding mk(enum fkind k)
{
    struct finding f;
    memset(&f, 0, sizeof(f));
    f.kind = k;
    return f;
}

static void check_json(const struct finding *f, const char *want)
{
    char buf[FINDING_JSON_MAX];
    size_t n = finding_json_members(f, buf, sizeof(buf));
    CHECK_EQ_U64(n, strlen(want));
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "  got  %s\n  want %s\n", buf, want);
        CHECK(0);
    }
}

/* The encoder writes each family's members in the order of the output contract. */
static void test_encoder(void)
{
    struct finding f = mk(FK_RESET);
    f.fx.reset = (struct fx_reset){DIR_S2C, RST_MID, 52, 64, true};
    check_json(&f, "\"from\":\"server\",\"phase\":\"mid\",\"ttl\":52,\"ttl_expected\":64,"
                   "\"ttl_mismatch\":true");

    f = mk(FK_ZERO_WINDOW);
    f.fx.tcp.count[DIR_S2C] = 3;
    f.fx.tcp.data_segs[DIR_C2S] = 10;
    f.fx.tcp.zero_window_ns[DIR_S2C] = 1500000000;
    f.fx.tcp.interim = true;
    check_json(&f, "\"c2s\":0,\"s2c\":3,\"data_segs\":{\"c2s\":10,\"s2c\":0},\"interim\":true,"
                   "\"zero_window_s\":{\"c2s\":0.000000,\"s2c\":1.500000}");

    f = mk(FK_SYN_UNANSWERED);
    f.fx.estab.reason = ER_TIMEOUT;
    f.fx.estab.syns = 3;
    f.fx.estab.ngaps = 2;
    f.fx.estab.gap_ns[0] = 1000000000;
    f.fx.estab.gap_ns[1] = 2001000000;
    check_json(&f,
               "\"reason\":\"timeout\",\"syns\":3,\"gaps\":[1.000,2.001],\"answered_others\":0");

    f = mk(FK_SLOW_HANDSHAKE);
    f.fx.estab.reason = ER_SYN_RETRY;
    f.fx.estab.server_side_ns = -1;
    f.fx.estab.client_side_ns = 250000;
    f.fx.estab.syns = 2;
    check_json(&f, "\"reason\":\"syn_retry\",\"server_side\":null,\"client_side\":0.000250,"
                   "\"syns\":2");

    f = mk(FK_TLS_ALERT);
    f.fx.tls_alert = (struct fx_tls_alert){48, 2, DIR_C2S, true, "a\"b"};
    check_json(&f, "\"alert\":\"unknown_ca\",\"alert_code\":48,\"level\":\"fatal\",\"from\":"
                   "\"client\",\"during_handshake\":true,\"sni\":\"a\\\"b\"");

    f = mk(FK_TLS_HANDSHAKE_FAILED);
    f.fx.tls_hs.outcome = TLS_NO_SERVER_HELLO;
    f.fx.tls_hs.alert_desc = -1;
    f.fx.tls_hs.alert_from = -1;
    check_json(&f, "\"outcome\":\"no_server_hello\",\"inferred\":false,\"version\":\"\",\"sni\":"
                   "\"\",\"alert\":\"\",\"alert_code\":-1,\"alert_from\":\"\"");

    f = mk(FK_HEALTH_ALERT);
    f.fx.alert = (struct fx_health_alert){AR_ERROR_RATE, false, NAN, 0.05};
    check_json(&f, "\"rule\":\"error_rate\",\"state\":\"closed\",\"value\":null,"
                   "\"threshold\":0.05");

    f = mk(FK_SLOW_RESPONSE);
    fx_copy(f.fx.slow.protocol, sizeof(f.fx.slow.protocol), "HTTP");
    f.fx.slow.response_s = -1;
    f.fx.slow.waited_s = 7.25;
    f.fx.slow.threshold_s = 5;
    check_json(&f, "\"protocol\":\"HTTP\",\"response_time\":null,\"waited\":7.25,\"threshold\":5");

    f = mk(FK_HTTP_5XX);
    fx_copy(f.fx.http.method, sizeof(f.fx.http.method), "GET");
    fx_copy(f.fx.http.host, sizeof(f.fx.http.host), "shop");
    fx_copy(f.fx.http.path, sizeof(f.fx.http.path), "/a\"b\\c\x1b");
    f.fx.http.status = 503;
    f.fx.http.response_s = 0.25;
    f.fx.http.trans_depth = 2;
    check_json(&f, "\"method\":\"GET\",\"host\":\"shop\",\"path\":\"/a\\\"b\\\\c\\u001b\","
                   "\"status\":503,\"response_time\":0.25,\"trans_depth\":2");
    /* every byte of every field hostile, every field full: the members still fit, escaped
       values cut at a whole escape */
    memset(f.fx.http.method, 1, sizeof(f.fx.http.method));
    memset(f.fx.http.host, '"', sizeof(f.fx.http.host));
    memset(f.fx.http.path, 0x7f, sizeof(f.fx.http.path));
    char big[FINDING_JSON_MAX];
    CHECK(finding_json_members(&f, big, sizeof(big)) > 0);
    CHECK(strstr(big, "\\u0001\",\"host\":\"\\\"") != NULL);
    /* an incident's evidence requests: four hostile ones fit INC_REQUESTS_JSON_MAX */
    static struct incident_record ir;
    char reqs[INC_REQUESTS_JSON_MAX];
    CHECK_EQ_U64(incident_requests_json(&ir, reqs, sizeof(reqs)), 0);
    ir.nrequests = INC_REQUESTS_MAX;
    for (int i = 0; i < INC_REQUESTS_MAX; i++) {
        ir.requests[i].flow_id = UINT64_MAX;
        ir.requests[i].frame = UINT64_MAX;
        ir.requests[i].status = 599;
        memset(ir.requests[i].method, 0x1b, sizeof(ir.requests[i].method));
        memset(ir.requests[i].path, 0x1b, sizeof(ir.requests[i].path));
    }
    CHECK(incident_requests_json(&ir, reqs, sizeof(reqs)) > 0);
    CHECK(strncmp(reqs, "\"requests\":[{\"flow_id\":18446744073709551615,", 44) == 0);

    f = mk(FK_MALFORMED);
    check_json(&f, "");

    /* a buffer too small gets nothing rather than cut (invalid) JSON */
    char small[16];
    f = mk(FK_RESET);
    CHECK_EQ_U64(finding_json_members(&f, small, sizeof(small)), 0);
    CHECK(small[0] == '\0');
}

/* fx_days_left is what "%.2f" makes of left / 86400.0, ties and negative zero included. */
static void test_days_left(void)
{
    int bad = 0;
    for (int64_t left = -3 * 86400; left <= 3 * 86400 && bad < 5; left++) {
        char want[32], got[32];
        snprintf(want, sizeof(want), "%.2f", (double)left / 86400.0);
        snprintf(got, sizeof(got), "%.2f", fx_days_left(1000000000 + left, 1000000000));
        if (strcmp(want, got) != 0 || strtod(want, NULL) != fx_days_left(left, 0)) {
            fprintf(stderr, "  left %lld: want %s got %s\n", (long long)left, want, got);
            bad++;
        }
    }
    CHECK_EQ_U64(bad, 0);
    CHECK(fx_days_left(0, 100) == 0 && signbit(fx_days_left(0, 100)));
}

/* Confidences leave as the two-decimal value: 0.3f is 0.300000011920929 as a double. */
static void test_confidence(void)
{
    char buf[64];
    CHECK((double)0.3f != 0.3 && fx_confidence(0.3f) == 0.3);
    CHECK(fx_confidence(0.95f) == 0.95 && fx_confidence(1.0f) == 1.0 && fx_confidence(0) == 0);
    CHECK(fx_confidence(0.555f) == 0.56 || fx_confidence(0.555f) == 0.55);
    snprintf(buf, sizeof(buf), "%.17g", fx_confidence(0.3f));
    CHECK(strcmp(buf, "0.29999999999999999") == 0); /* the double nearest 0.3, as 0.3 reads */
}

int main(void)
{
    TEST_RUN(test_kind_table);
    TEST_RUN(test_encoder);
    TEST_RUN(test_days_left);
    TEST_RUN(test_confidence);
    return TEST_REPORT();
}
