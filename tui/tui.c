/*
 * tui.c - the ncurses live view: keys are read without blocking, and the screen is redrawn at
 * most TUI_REDRAW_NS apart from a snapshot of the model (tui_model_copy), so drawing never holds up
 * the capture. Layout: a 3-line header, the server panel, the flow table, the findings feed
 * and a footer of keys; Enter opens a detail timeline, ? a help page.
 */
#include <curses.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/decode.h"
#include "capture/text.h"
#include "tui/model.h"
#include "tui/tui.h"

#define TUI_REDRAW_NS 250000000ull /* at most 4 redraws per second from new data */
#define TUI_FILTER_MAX 64          /* bytes of the / filter */
#define TUI_LINE 1536              /* bytes of one line being composed (a whole advice fits) */
#define TUI_DLINES 768             /* lines of the detail or help page */
#define TUI_DTEXT 256              /* bytes of one detail line */
#define TUI_MIN_W 40               /* below this the view only says the terminal is too small */
#define TUI_MIN_H 12
#define TUI_KEY_ESC 27

/* Panels that take the focus with Tab. */
enum tui_panel { P_SERVERS = 0, P_FLOWS, P_FINDINGS, P__COUNT };

/* What the body shows. */
enum tui_mode { M_MAIN = 0, M_DETAIL, M_HELP };

/* Colour pairs (when colours are in use). */
enum { CP_GREEN = 1, CP_YELLOW, CP_RED, CP_CYAN, CP_BAR };

/* One composed line of the detail or help page. */
struct tui_dline {
    int attr;             /* curses attributes */
    char text[TUI_DTEXT]; /* the text */
};

struct tui {
    struct tui_opts o;                         /* options as given */
    bool color;                                /* colours asked for and available */
    SCREEN *scr;                               /* the curses screen */
    FILE *in;                                  /* /dev/tty when stdin is not a terminal */
    pthread_mutex_t mu;                        /* guards live: the sink fills it on the
                                                  output thread, tui_frame reads it */
    struct tui_model *live;                    /* fed by the sink and by tui_frame */
    struct tui_model *snap;                    /* the snapshot that is drawn */
    bool quit;                                 /* q was pressed (sticky) */
    bool paused;                               /* display frozen */
    bool drawn;                                /* at least one snapshot was drawn */
    uint64_t last_draw_ns;                     /* wall time of the last snapshot */
    enum tui_mode mode;                        /* main, detail or help */
    enum tui_mode help_from;                   /* mode to return to from help */
    enum tui_panel focus;                      /* panel with the selection */
    enum tui_sort sort;                        /* flow table order */
    bool editing;                              /* the / prompt is open */
    char edit[TUI_FILTER_MAX];                 /* text being typed after / */
    char filter[TUI_FILTER_MAX];               /* filter in force ("" = none) */
    size_t sel[P__COUNT];                      /* selected row per panel */
    size_t top[P__COUNT];                      /* first visible row per panel */
    uint64_t sel_flow;                         /* flow_id of the selected flow row */
    struct tui_flow_row rows[TUI_ROWS];        /* flow table rows (into snap) */
    size_t nrows;                              /* entries in rows */
    const struct finding *feed[TUI_FINDINGS];  /* findings feed (into snap) */
    size_t nfeed;                              /* entries in feed */
    const struct tui_server *srv[TUI_SERVERS]; /* server rows (into snap) */
    size_t nsrv;                               /* entries in srv */
    bool detail_incidents;                     /* the detail page lists the open incidents */
    bool detail_has_finding;                   /* the detail was opened on a finding */
    struct finding detail_finding;             /* that finding (a copy) */
    uint64_t detail_flow;                      /* flow shown in the detail (0 = none) */
    size_t detail_top;                         /* first visible detail line */
    struct tui_dline dl[TUI_DLINES];           /* the detail or help page */
    size_t ndl;                                /* lines in dl */
    struct tui_event ev[TUI_EVENTS];           /* timeline being shown */
};

/* ---- sink (output thread) ---- */

/* sink_ops.put: copy the record into the live model, under the lock tui_frame takes. */
static void tui_put(void *ctx, const struct out_rec *r)
{
    struct tui *t = ctx;
    pthread_mutex_lock(&t->mu);
    switch (r->type) {
    case OUT_FINDING:
        tui_model_add_finding(t->live, &r->u.finding);
        break;
    case OUT_FLOW:
        tui_model_add_flow(t->live, &r->u.flow);
        break;
    case OUT_HEALTH:
        tui_model_add_health(t->live, &r->u.health);
        break;
    case OUT_TLS:
        tui_model_add_tls(t->live, &r->u.tls);
        break;
    case OUT_CERT:
        tui_model_add_cert(t->live, &r->u.cert);
        break;
    case OUT_INCIDENT:
        tui_model_add_incident(t->live, &r->u.incident);
        break;
    case OUT_SUMMARY:
    case OUT_HTTP: /* the live view shows the http_5xx findings, not every request */
    case OUT__COUNT:
        break;
    }
    pthread_mutex_unlock(&t->mu);
}

static void *tui_open(const void *cfg, char *err, size_t errlen)
{
    return tui_new(cfg, err, errlen);
}

static int tui_close(void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    tui_free(ctx);
    return 0;
}

const struct sink_ops tui_sink_ops = {
    .name = "tui",
    .open = tui_open,
    .put = tui_put,
    .close = tui_close,
};

/* ---- set-up ---- */

struct tui *tui_new(const struct tui_opts *o, char *err, size_t errlen)
{
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO)) {
        snprintf(err, errlen,
                 "--tui needs a terminal, but stdout is not one; "
                 "leave out --tui (summary) or use --json");
        return NULL;
    }
    if (!term || !*term || strcmp(term, "dumb") == 0) {
        snprintf(err, errlen,
                 "--tui needs a terminal that can move the cursor, but TERM is %s; "
                 "set TERM (e.g. xterm-256color) or leave out --tui",
                 term && *term ? "\"dumb\"" : "not set");
        return NULL;
    }
    struct tui *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "--tui: out of memory");
        return NULL;
    }
    t->o = *o;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        snprintf(err, errlen, "--tui: cannot create a lock");
        free(t);
        return NULL;
    }
    struct tui_thresholds th = {o->error_rate, o->retrans_rate, o->resp_p99_s};
    t->live = tui_model_new(&th);
    t->snap = tui_model_new(&th);
    if (!t->live || !t->snap) {
        snprintf(err, errlen, "--tui: out of memory");
        goto fail;
    }
    if (!isatty(STDIN_FILENO)) {
        t->in = fopen("/dev/tty", "r");
        if (!t->in) {
            snprintf(err, errlen,
                     "--tui: stdin is not a terminal and /dev/tty cannot be opened "
                     "for the keys");
            goto fail;
        }
    }
    t->scr = newterm(NULL, stdout, t->in ? t->in : stdin);
    if (!t->scr) {
        snprintf(err, errlen, "--tui: cannot drive the terminal TERM=%s (no terminfo entry?)",
                 term);
        goto fail;
    }
    set_term(t->scr);
    cbreak(); /* Ctrl-C still interrupts: main stops the capture cleanly */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    t->color = o->color && has_colors();
    if (t->color) {
        start_color();
        use_default_colors();
        init_pair(CP_GREEN, COLOR_GREEN, -1);
        init_pair(CP_YELLOW, COLOR_YELLOW, -1);
        init_pair(CP_RED, COLOR_RED, -1);
        init_pair(CP_CYAN, COLOR_CYAN, -1);
        init_pair(CP_BAR, COLOR_BLACK, COLOR_CYAN);
    }
    t->focus = P_FLOWS;
    return t;
fail:
    tui_model_free(t->live);
    tui_model_free(t->snap);
    if (t->in)
        fclose(t->in);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return NULL;
}

void tui_free(struct tui *t)
{
    if (!t)
        return;
    if (t->scr) {
        endwin();
        delscreen(t->scr);
    }
    if (t->in)
        fclose(t->in);
    tui_model_free(t->live);
    tui_model_free(t->snap);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* ---- drawing helpers ---- */

static int attr_sev(const struct tui *t, int sev)
{
    if (sev == SEV_ERROR)
        return t->color ? COLOR_PAIR(CP_RED) | A_BOLD : A_BOLD;
    if (sev == SEV_WARN)
        return t->color ? COLOR_PAIR(CP_YELLOW) : A_NORMAL;
    if (sev == SEV_INFO)
        return t->color ? COLOR_PAIR(CP_CYAN) : A_NORMAL;
    return A_NORMAL;
}

static int attr_level(const struct tui *t, enum tui_level l)
{
    switch (l) {
    case TUI_LEVEL_BAD:
        return t->color ? COLOR_PAIR(CP_RED) | A_BOLD : A_BOLD;
    case TUI_LEVEL_WARN:
        return t->color ? COLOR_PAIR(CP_YELLOW) : A_NORMAL;
    case TUI_LEVEL_OK:
        return t->color ? COLOR_PAIR(CP_GREEN) : A_NORMAL;
    default:
        return A_NORMAL;
    }
}

static const char *level_text(enum tui_level l)
{
    return l == TUI_LEVEL_BAD    ? "BAD"
           : l == TUI_LEVEL_WARN ? "warn"
           : l == TUI_LEVEL_OK   ? "ok"
                                 : "--";
}

static const char *sev_text(int sev)
{
    return sev == SEV_ERROR ? "ERROR" : sev == SEV_WARN ? "warn" : sev == SEV_INFO ? "info" : "";
}

/*
 * Write s at (y, x), at most w columns, with attributes a. Every string drawn passes here and
 * is escaped for the terminal first (capture/text.h): names, SNI and details come from the wire.
 */
static void put(int y, int x, int w, int a, const char *s)
{
    char esc[TUI_LINE * 4];
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    attrset(a);
    mvaddnstr(y, x, text_term(s, esc, sizeof(esc)), w);
    attrset(A_NORMAL);
}

/* A full-width line; bar lines fill the whole row with the attribute. */
static void linef(int y, int a, bool bar, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void linef(int y, int a, bool bar, const char *fmt, ...)
{
    char buf[TUI_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (bar) {
        attrset(a);
        mvhline(y, 0, ' ', COLS);
    }
    put(y, 0, COLS, a, buf);
}

static int bar_attr(const struct tui *t)
{
    return t->color ? COLOR_PAIR(CP_BAR) : A_REVERSE;
}

static const char *ep_str(const struct endpoint *e, char *buf, size_t len)
{
    if (e->ip.family != 4 && e->ip.family != 6) {
        snprintf(buf, len, "-");
        return buf;
    }
    return pkt_endpoint_str(e, buf, len);
}

static const char *pct(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (v * 100 >= 99.95)
        snprintf(buf, len, "%.0f%%", v * 100); /* "100%": keeps the 5-column width */
    else
        snprintf(buf, len, "%.1f%%", v * 100);
    return buf;
}

/* ---- header and footer ---- */

static void draw_header(struct tui *t)
{
    const struct tui_model *m = t->snap;
    char el[24], tag[64] = "";
    double pps, mbps;
    tui_model_header_rate(m, &pps, &mbps);
    if (t->paused)
        snprintf(tag, sizeof(tag), "PAUSED - p to resume");
    else if (m->st.replay_done && !m->st.live)
        snprintf(tag, sizeof(tag), "replay finished - q to quit");
    linef(0, bar_attr(t) | A_BOLD, true, " flowmedic  %s %s%s%s", m->st.live ? "live" : "replay",
          m->source[0] ? m->source : "-", m->filter[0] ? "  filter: " : "", m->filter);
    if (tag[0]) {
        int len = (int)strlen(tag) + 3;
        int x = COLS - len > 0 ? COLS - len : 0;
        put(0, x, 1, bar_attr(t), " ");
        put(0, x + 1, COLS - x - 1, A_BOLD | bar_attr(t), tag);
        if (t->paused)
            put(0, x + 1, 6, A_BOLD | (t->color ? COLOR_PAIR(CP_RED) : A_NORMAL), "PAUSED");
    }
    linef(1, A_NORMAL, false,
          " %.0f pkt/s  %.2f Mbit/s  packets %" PRIu64 "  drops kernel %" PRIu64 " if %" PRIu64
          "  elapsed %s",
          pps, mbps, m->st.packets, m->st.kernel_drops, m->st.if_drops,
          tui_fmt_dur(m->st.elapsed_ns, el, sizeof(el)));
    if (m->st.kernel_drops || m->st.if_drops)
        put(1, 0, 1, attr_sev(t, SEV_ERROR), "!");
    linef(2, A_NORMAL, false,
          " flows %" PRIu64 " tracked %" PRIu64 " evicted  malformed %" PRIu64
          "  mirror dups %" PRIu64 "  %s",
          m->st.flows_active, m->st.flows_evicted, m->st.malformed, m->st.mirror_duplicates,
          m->store_state[0] ? m->store_state : "no database");
}

static void draw_footer(struct tui *t)
{
    int y = LINES - 1;
    if (t->editing) {
        linef(y, A_REVERSE, true, " filter: %s_   (Enter apply, Esc cancel, empty = all)", t->edit);
        curs_set(0);
        return;
    }
    if (t->mode == M_DETAIL)
        linef(y, A_REVERSE, true, " q quit  p pause  Esc back  Up/Down PgUp/PgDn scroll  ? help");
    else if (t->mode == M_HELP)
        linef(y, A_REVERSE, true, " q quit  Esc/? back");
    else
        linef(y, A_REVERSE, true,
              " q quit  p pause  Tab panel  s sort  / filter  Enter detail  Esc back  ? help");
}

/* ---- panels ---- */

/* Keep the selection of panel p inside [0, n) and visible in h rows. */
static void fit_selection(struct tui *t, enum tui_panel p, size_t n, int h)
{
    size_t vis = h > 0 ? (size_t)h : 1;
    if (n == 0) {
        t->sel[p] = t->top[p] = 0;
        return;
    }
    if (t->sel[p] >= n)
        t->sel[p] = n - 1;
    if (t->sel[p] < t->top[p])
        t->top[p] = t->sel[p];
    if (t->sel[p] >= t->top[p] + vis)
        t->top[p] = t->sel[p] - vis + 1;
    if (t->top[p] + vis > n)
        t->top[p] = n > vis ? n - vis : 0;
}

static void panel_title(struct tui *t, int y, enum tui_panel p, const char *text)
{
    int a = t->focus == p && t->mode == M_MAIN ? A_REVERSE | A_BOLD : A_BOLD;
    if (t->focus == p) {
        attrset(a);
        mvhline(y, 0, ' ', COLS);
    } else {
        attrset(A_NORMAL);
        mvhline(y, 0, '-', COLS);
    }
    put(y, 1, COLS - 1, a, text);
}

/* A sparkline of values scaled to 2x the threshold: '_' none ... '#' at or over twice it. */
static void spark(char *out, size_t w, const float *v, size_t n, double thr)
{
    static const char levels[] = "_.-:=+*#";
    size_t off = n > w ? n - w : 0, i;
    for (i = 0; i + off < n && i < w; i++) {
        double x = thr > 0 ? v[i + off] / (2 * thr) : 0;
        int l = x <= 0 ? 0 : 1 + (int)(x * 6);
        out[i] = levels[l > 7 ? 7 : l];
    }
    out[i] = '\0';
}

static void draw_servers(struct tui *t, int y, int h)
{
    const struct tui_model *m = t->snap;
    char title[128], line[TUI_LINE], eps[64], a[16], b[16], c[16], d[16], e[16], f[16];
    snprintf(title, sizeof(title), " Servers (%zu)%s ", t->nsrv,
             t->filter[0] ? "  [filtered]" : "");
    panel_title(t, y, P_SERVERS, title);
    int sw = 6;
    for (size_t i = 0; i < t->nsrv; i++) {
        int l = (int)strlen(ep_str(&t->srv[i]->ep, eps, sizeof(eps)));
        sw = l > sw ? l : sw;
    }
    /* wide: p50/p99 of handshake RTT and response time; narrow (80 columns): p99 only */
    bool wide = COLS >= 110;
    int lw = wide ? 15 : 7;
    int used = 1 + 4 + 1 + sw + 6 + 6 + 6 + 6 + 4 + 5 + 2 * (lw + 1) + 3 + (wide ? 9 : 0) + 1;
    int spw = (COLS - used - 1) / 2; /* sparkline width, each */
    if (spw > TUI_HIST)
        spw = TUI_HIST;
    snprintf(line, sizeof(line), " %-4s %-*s %5s %5s %5s %5s %3s %4s %*s %*s %2s %.*s%s", "", sw,
             "server", "att/s", "estab", "err%", "retr%", "rst", "tlsF", lw,
             wide ? "hs rtt p50/p99" : "rtt p99", lw, wide ? "resp p50/p99" : "rsp p99", "al",
             wide ? 9 : 0, "since    ",
             spw >= 4   ? "err|retr"
             : spw >= 1 ? "e|r"
                        : "");
    put(y + 1, 0, COLS, A_UNDERLINE, line);
    int rows = h - 2;
    fit_selection(t, P_SERVERS, t->nsrv, rows);
    if (t->nsrv == 0)
        put(y + 2, 1, COLS - 1, A_DIM,
            t->filter[0] ? "(no server matches the filter)" : "(no server seen yet)");
    for (int r = 0; r < rows && t->top[P_SERVERS] + (size_t)r < t->nsrv; r++) {
        size_t i = t->top[P_SERVERS] + (size_t)r;
        const struct tui_server *s = t->srv[i];
        const struct health_row *hr = &s->last;
        enum tui_level lv = tui_model_server_level(m, s);
        ep_str(&s->ep, eps, sizeof(eps));
        char rtt[40] = "-", resp[40] = "-", sp1[TUI_HIST + 1] = "", sp2[TUI_HIST + 1] = "";
        if (s->has_health && hr->hs_rtt_n)
            snprintf(rtt, sizeof(rtt), "%s%s%s", wide ? tui_fmt_ms(hr->hs_rtt_p50, a, 16) : "",
                     wide ? "/" : "", tui_fmt_ms(hr->hs_rtt_p99, b, sizeof(b)));
        if (s->has_health && hr->resp_n)
            snprintf(resp, sizeof(resp), "%s%s%s", wide ? tui_fmt_ms(hr->resp_p50, c, 16) : "",
                     wide ? "/" : "", tui_fmt_ms(hr->resp_p99, d, sizeof(d)));
        if (spw >= 1) {
            float hist[TUI_HIST];
            size_t n = tui_model_server_history(s, 0, hist, (size_t)spw);
            spark(sp1, (size_t)spw, hist, n, m->th.error_rate);
            n = tui_model_server_history(s, 1, hist, (size_t)spw);
            spark(sp2, (size_t)spw, hist, n, m->th.retrans_rate);
        }
        char since[24] = "-";
        if (s->bad_since_ns)
            tui_fmt_clock(s->bad_since_ns, since, sizeof(since));
        since[8] = '\0'; /* HH:MM:SS */
        unsigned alerts = 0;
        for (uint32_t bits = hr->open_alerts; bits; bits &= bits - 1)
            alerts++;
        if (s->has_health)
            snprintf(line, sizeof(line),
                     " %-4s %-*s %5.*f %5" PRIu64 " %5s %5s %3" PRIu64 " %4" PRIu64
                     " %*s %*s %2u %-*.*s%s%s%s%s",
                     level_text(lv), sw, eps, tui_model_server_attempts_per_s(s) < 100 ? 1 : 0,
                     tui_model_server_attempts_per_s(s), hr->established,
                     pct(hr->error_rate, e, sizeof(e)), pct(hr->retrans_rate, f, sizeof(f)),
                     hr->resets, hr->failed_tls, lw, rtt, lw, resp, alerts, wide ? 8 : 0,
                     wide ? 8 : 0, since, wide ? " " : "", sp1, sp1[0] ? "|" : "", sp2);
        else
            snprintf(line, sizeof(line),
                     " %-4s %-*s  (no health interval closed yet: %" PRIu64 " errors, %" PRIu64
                     " warnings, %" PRIu64 " info%s%s)",
                     level_text(lv), sw, eps, s->nfind[SEV_ERROR], s->nfind[SEV_WARN],
                     s->nfind[SEV_INFO], s->bad_since_ns ? "; since " : "",
                     s->bad_since_ns ? since : "");
        int at = attr_level(t, lv);
        if (t->focus == P_SERVERS && i == t->sel[P_SERVERS] && t->mode == M_MAIN)
            at |= A_REVERSE;
        put(y + 2 + r, 0, COLS, at, line);
    }
}

static void dl_add(struct tui *t, int attr, int indent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Open incidents, worst first, above the server panel: one line each (i: full advice). */
static void draw_incidents(struct tui *t, int y, int h)
{
    const struct incident_record *rows[TUI_INCIDENTS];
    size_t n = tui_model_incident_rows(t->snap, rows, TUI_INCIDENTS);
    char line[TUI_LINE], eps[64], clk[24];
    if (n == 0) {
        put(y, 0, COLS, attr_level(t, TUI_LEVEL_OK), " Incidents: none open");
        return;
    }
    snprintf(line, sizeof(line), " Incidents open (%zu)  i: details and advice", n);
    put(y, 0, COLS, A_BOLD | A_UNDERLINE, line);
    for (int r = 0; r < h - 1 && (size_t)r < n; r++) {
        const struct incident_record *i = rows[r];
        ep_str(&i->server, eps, sizeof(eps));
        tui_fmt_clock(i->since_ns, clk, sizeof(clk));
        clk[8] = '\0';
        snprintf(line, sizeof(line), " %-5s %s %s since %s  %" PRIu64 "/%" PRIu64 " conns: %s",
                 sev_text((int)i->sev), inc_cause_name(i->cause), eps, clk, i->conns_affected,
                 i->conns_total, i->summary);
        put(y + 1 + r, 0, COLS, attr_sev(t, (int)i->sev), line);
    }
}

/* The detail page of the open incidents: everything, with the full advice, wrapped. */
static void build_incidents(struct tui *t)
{
    const struct incident_record *rows[TUI_INCIDENTS];
    size_t n = tui_model_incident_rows(t->snap, rows, TUI_INCIDENTS);
    char eps[64], cl[64], clk[24];
    t->ndl = 0;
    dl_add(t, A_BOLD, 0, "Open incidents (%zu), worst first; %" PRIu64 " opened in this run", n,
           t->snap->incidents_opened);
    if (n == 0)
        dl_add(t, A_NORMAL, 2, "  none: no problem crosses its threshold now");
    for (size_t k = 0; k < n; k++) {
        const struct incident_record *i = rows[k];
        dl_add(t, A_NORMAL, 0, " ");
        dl_add(t, attr_sev(t, (int)i->sev) | A_BOLD, 2, "#%" PRIu64 " %s %s (%s layer) on %s%s%s",
               i->id, sev_name(i->sev), inc_cause_name(i->cause), inc_layer_name(i->layer),
               ep_str(&i->server, eps, sizeof(eps)), i->has_client ? " from " : "",
               i->has_client ? ep_str(&i->client, cl, sizeof(cl)) : "");
        dl_add(t, A_NORMAL, 4, "  since %s; %" PRIu64 " of %" PRIu64 " connections, %" PRIu64
               " clients; confidence %.0f%%",
               tui_fmt_clock(i->since_ns, clk, sizeof(clk)), i->conns_affected, i->conns_total,
               i->clients_affected, i->confidence * 100);
        dl_add(t, A_NORMAL, 4, "  %s", i->summary);
        dl_add(t, A_BOLD, 4, "  What to do:");
        dl_add(t, A_NORMAL, 4, "    %s", i->advice);
    }
}

static const char *row_state(const struct tui_flow_row *r)
{
    return r->open ? flow_state_name(r->rec->state) : close_name(r->rec->close);
}

static void draw_flows(struct tui *t, int y, int h)
{
    char title[192], line[TUI_LINE], cs[64], ss[64], age[24], b0[24], b1[24], rtt[24];
    snprintf(title, sizeof(title), " Flows (%zu)  sort: %s%s%s ", t->nrows, tui_sort_name(t->sort),
             t->filter[0] ? "  filter: " : "", t->filter);
    panel_title(t, y, P_FLOWS, title);
    int rows = h - 2;
    fit_selection(t, P_FLOWS, t->nrows, rows);
    int cw = 6, sw = 6, stw = 5;
    for (int r = 0; r < rows && t->top[P_FLOWS] + (size_t)r < t->nrows; r++) {
        const struct tui_flow_row *fr = &t->rows[t->top[P_FLOWS] + (size_t)r];
        int l = (int)strlen(ep_str(&fr->rec->client, cs, sizeof(cs)));
        cw = l > cw ? l : cw;
        l = (int)strlen(ep_str(&fr->rec->server, ss, sizeof(ss)));
        sw = l > sw ? l : sw;
        l = (int)strlen(row_state(fr));
        stw = l > stw ? l : stw;
    }
    bool wide = COLS >= 100; /* at 80 columns the rtt column gives way to the last problem */
    snprintf(line, sizeof(line), " %-*s %-*s %-*s %6s %5s %5s %4s %*s%s%s", cw, "client", sw,
             "server", stw, "state", "age", "c->s", "s->c", "retr", wide ? 7 : 0, wide ? "rtt" : "",
             wide ? " " : "", "last problem");
    put(y + 1, 0, COLS, A_UNDERLINE, line);
    if (t->nrows == 0)
        put(y + 2, 1, COLS - 1, A_DIM,
            t->filter[0]                   ? "(no flow matches the filter)"
            : t->snap->st.flows_active > 0 ? "(no open flow to show; a closed flow shows once it "
                                             "leaves the flow table)"
                                           : "(no flow yet)");
    for (int r = 0; r < rows && t->top[P_FLOWS] + (size_t)r < t->nrows; r++) {
        size_t i = t->top[P_FLOWS] + (size_t)r;
        const struct tui_flow_row *fr = &t->rows[i];
        const struct flow_record *rec = fr->rec;
        if (rec->hs_rtt_server_ns >= 0 && rec->hs_rtt_client_ns >= 0)
            tui_fmt_ms((double)(rec->hs_rtt_server_ns + rec->hs_rtt_client_ns) / 1e9, rtt,
                       sizeof(rtt));
        else if (rec->hs_rtt_server_ns >= 0)
            tui_fmt_ms((double)rec->hs_rtt_server_ns / 1e9, rtt, sizeof(rtt));
        else
            snprintf(rtt, sizeof(rtt), "-");
        snprintf(line, sizeof(line), " %-*s %-*s %-*s %6s %5s %5s %4" PRIu64 " %*s%s%s", cw,
                 ep_str(&rec->client, cs, sizeof(cs)), sw, ep_str(&rec->server, ss, sizeof(ss)),
                 stw, row_state(fr), tui_fmt_dur(fr->age_ns, age, sizeof(age)),
                 tui_fmt_bytes(rec->bytes[DIR_C2S], b0, sizeof(b0)),
                 tui_fmt_bytes(rec->bytes[DIR_S2C], b1, sizeof(b1)), fr->retrans, wide ? 7 : 0,
                 wide ? rtt : "", wide ? " " : "",
                 fr->last_kind >= 0 ? fk_name((enum fkind)fr->last_kind) : "");
        int at = fr->last_kind >= 0 ? attr_sev(t, (int)fr->worst) : (int)A_NORMAL;
        if (t->focus == P_FLOWS && i == t->sel[P_FLOWS] && t->mode == M_MAIN)
            at |= A_REVERSE;
        put(y + 2 + r, 0, COLS, at, line);
    }
}

static void draw_findings(struct tui *t, int y, int h)
{
    const struct tui_model *m = t->snap;
    char title[128], line[TUI_LINE], clk[24], cs[64], ss[64];
    snprintf(title, sizeof(title),
             " Findings (%zu shown, %" PRIu64 " in all: %" PRIu64 " errors, %" PRIu64 " warnings) ",
             t->nfeed, m->nfindings, m->findings_by_sev[SEV_ERROR], m->findings_by_sev[SEV_WARN]);
    panel_title(t, y, P_FINDINGS, title);
    int rows = h - 1;
    fit_selection(t, P_FINDINGS, t->nfeed, rows);
    if (t->nfeed == 0)
        put(y + 1, 1, COLS - 1, A_DIM,
            t->filter[0] ? "(no finding matches the filter)" : "(no finding yet)");
    for (int r = 0; r < rows && t->top[P_FINDINGS] + (size_t)r < t->nfeed; r++) {
        size_t i = t->top[P_FINDINGS] + (size_t)r;
        const struct finding *f = t->feed[i];
        if (f->has_client)
            snprintf(line, sizeof(line), " %s %-5s %s %s -> %s: %s",
                     tui_fmt_clock(f->ts_ns, clk, sizeof(clk)), sev_text((int)f->sev),
                     fk_name(f->kind), ep_str(&f->client, cs, sizeof(cs)),
                     ep_str(&f->server, ss, sizeof(ss)), f->detail);
        else
            snprintf(line, sizeof(line), " %s %-5s %s %s: %s",
                     tui_fmt_clock(f->ts_ns, clk, sizeof(clk)), sev_text((int)f->sev),
                     fk_name(f->kind), ep_str(&f->server, ss, sizeof(ss)), f->detail);
        int at = attr_sev(t, (int)f->sev);
        if (t->focus == P_FINDINGS && i == t->sel[P_FINDINGS] && t->mode == M_MAIN)
            at |= A_REVERSE;
        put(y + 1 + r, 0, COLS, at, line);
    }
}

/* ---- detail and help pages ---- */

/* Append text as one or more lines of width w (continuations indented by indent). */
static void dl_add(struct tui *t, int attr, int indent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void dl_add(struct tui *t, int attr, int indent, const char *fmt, ...)
{
    char buf[TUI_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    int w = COLS - 1;
    if (w < 20)
        w = 20;
    if (w > TUI_DTEXT - 1)
        w = TUI_DTEXT - 1;
    if (indent > w / 2)
        indent = w / 2;
    size_t len = strlen(buf), pos = 0;
    bool first = true;
    do {
        if (t->ndl >= TUI_DLINES)
            return;
        int pad = first ? 0 : indent;
        size_t room = (size_t)(w - pad);
        size_t take = len - pos > room ? room : len - pos;
        if (len - pos > room) { /* break at a space when there is one in the second half */
            size_t k = take;
            while (k > room / 2 && buf[pos + k] != ' ')
                k--;
            if (k > room / 2)
                take = k;
        }
        struct tui_dline *d = &t->dl[t->ndl++];
        d->attr = attr;
        snprintf(d->text, sizeof(d->text), "%*s%.*s", pad, "", (int)take, buf + pos);
        pos += take;
        while (pos < len && buf[pos] == ' ')
            pos++;
        first = false;
    } while (pos < len);
}

static void detail_counts(struct tui *t, const struct flow_record *r)
{
    static const char *const dir_names[2] = {"client->server", "server->client"};
    for (int d = 0; d < 2; d++) {
        char buf[TUI_LINE];
        size_t used = 0;
        for (int e = 0; e < TEV__COUNT && used < sizeof(buf); e++)
            if (r->ev[d][e])
                used +=
                    (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s %u", used ? ", " : "",
                                     tcp_ev_name((enum tcp_ev)e), r->ev[d][e]);
        if (!used)
            snprintf(buf, sizeof(buf), "no TCP events");
        dl_add(t, A_NORMAL, 4, "  %s: %s", dir_names[d], buf);
    }
}

/* A server's state: colour and since when, totals, the newest interval and the history. */
static void detail_server(struct tui *t, const struct tui_server *s)
{
    const struct tui_model *m = t->snap;
    const struct health_row *h = &s->last;
    enum tui_level lv = tui_model_server_level(m, s);
    char eps[64], clk[24], a[24], b[24], c[24], d[24], e[24], f[24];
    ep_str(&s->ep, eps, sizeof(eps));
    dl_add(t, A_NORMAL, 0, " ");
    dl_add(t, attr_level(t, lv) | A_BOLD, 2, "Server %s: %s%s%s", eps, level_text(lv),
           s->bad_since_ns ? " since " : "",
           s->bad_since_ns ? tui_fmt_clock(s->bad_since_ns, clk, sizeof(clk)) : "");
    dl_add(t, A_NORMAL, 4,
           "  %" PRIu64 " intervals: %" PRIu64 " attempts, %" PRIu64 " established, %" PRIu64
           " resets, %" PRIu64 " TLS failures; findings: %" PRIu64 " errors, %" PRIu64 " warnings",
           s->intervals, s->attempts, s->established, s->resets, s->tls_failed, s->nfind[SEV_ERROR],
           s->nfind[SEV_WARN]);
    if (!s->has_health)
        return;
    dl_add(t, A_NORMAL, 4,
           "  newest interval from %s (%.0f s): %" PRIu64 " attempts, failed: %" PRIu64
           " refused, %" PRIu64 " unanswered, %" PRIu64 " backlog, %" PRIu64 " reset, %" PRIu64
           " TLS; %" PRIu64 " SYN retries, %" PRIu64 " SYN-ACK retries, %" PRIu64
           " zero windows, %" PRIu64 " HTTP 5xx, %" PRIu64 " slow responses",
           tui_fmt_clock(h->start_ns, clk, sizeof(clk)), (double)h->len_ns / 1e9, h->attempts,
           h->failed_refused, h->failed_timeout, h->failed_backlog, h->failed_reset, h->failed_tls,
           h->syn_retries, h->synack_retries, h->zero_windows, h->http_5xx, h->slow_responses);
    dl_add(t, A_NORMAL, 4, "  handshake RTT p50/p95/p99 %s/%s/%s, response p50/p95/p99 %s/%s/%s",
           tui_fmt_ms(h->hs_rtt_n ? h->hs_rtt_p50 : NAN, a, sizeof(a)),
           tui_fmt_ms(h->hs_rtt_n ? h->hs_rtt_p95 : NAN, b, sizeof(b)),
           tui_fmt_ms(h->hs_rtt_n ? h->hs_rtt_p99 : NAN, c, sizeof(c)),
           tui_fmt_ms(h->resp_n ? h->resp_p50 : NAN, d, sizeof(d)),
           tui_fmt_ms(h->resp_n ? h->resp_p95 : NAN, e, sizeof(e)),
           tui_fmt_ms(h->resp_n ? h->resp_p99 : NAN, f, sizeof(f)));
    float err[TUI_HIST], retr[TUI_HIST];
    uint64_t start[TUI_HIST];
    size_t n = tui_model_server_history(s, 0, err, TUI_HIST);
    tui_model_server_history(s, 1, retr, TUI_HIST);
    tui_model_server_history_start(s, start, TUI_HIST);
    dl_add(t, A_BOLD | A_UNDERLINE, 0, "History (%zu intervals, oldest first)", n);
    for (size_t i = 0; i < n; i++) {
        int at =
            attr_level(t, err[i] > m->th.error_rate || retr[i] > m->th.retrans_rate ? TUI_LEVEL_BAD
                                                                                    : TUI_LEVEL_OK);
        dl_add(t, at, 4, " %s  error rate %5.1f%%  retransmission rate %5.1f%%",
               tui_fmt_clock(start[i], clk, sizeof(clk)), err[i] * 100.0, retr[i] * 100.0);
    }
}

/* The open incidents of server ep, with their full advice (detail pages of its flows). */
static void detail_incidents_of(struct tui *t, const struct endpoint *ep)
{
    const struct incident_record *rows[TUI_INCIDENTS];
    size_t n = tui_model_incident_rows(t->snap, rows, TUI_INCIDENTS);
    for (size_t k = 0; k < n; k++) {
        const struct incident_record *i = rows[k];
        if (i->server.port != ep->port || memcmp(&i->server.ip, &ep->ip, sizeof(ep->ip)) != 0)
            continue;
        dl_add(t, attr_sev(t, (int)i->sev) | A_BOLD, 2, "Open incident #%" PRIu64 ": %s (%s): %s",
               i->id, inc_cause_name(i->cause), sev_name(i->sev), i->summary);
        dl_add(t, A_NORMAL, 4, "  What to do: %s", i->advice);
        dl_add(t, A_NORMAL, 0, " ");
    }
}

static void build_detail(struct tui *t)
{
    const struct tui_model *m = t->snap;
    char cs[64], ss[64], clk[24], b0[24], b1[24], a[24], b[24];
    t->ndl = 0;
    if (t->detail_incidents) {
        build_incidents(t);
        return;
    }
    if (t->detail_has_finding) {
        const struct finding *f = &t->detail_finding;
        dl_add(t, attr_sev(t, (int)f->sev) | A_BOLD, 2, "Finding: %s (%s) at %s, %s layer",
               fk_name(f->kind), sev_name(f->sev), tui_fmt_clock(f->ts_ns, clk, sizeof(clk)),
               fk_layer_name(fk_info(f->kind)->layer));
        dl_add(t, A_NORMAL, 2, "  server %s%s%s", ep_str(&f->server, ss, sizeof(ss)),
               f->has_client ? "  client " : "", f->has_client ? ep_str(&f->client, cs, 64) : "");
        dl_add(t, A_NORMAL, 4, "  %s", f->detail);
        if (fk_info(f->kind)->cert_evidence == CE_CHAIN) {
            const struct fx_cert *x = &f->fx.cert;
            dl_add(t, A_NORMAL, 4,
                   "  chain: %u certificate%s sent; verify: %s (OpenSSL %d) at position %d "
                   "'%s', issuer '%s'; trust anchors: %s",
                   x->chain_sent, x->chain_sent == 1 ? "" : "s", x->reason, x->verify_code,
                   x->chain_pos, x->subject, x->issuer,
                   x->ca_file ? "--ca-file" : "the system trust store");
        }
        if (f->nframes) {
            char fr[FINDING_FRAMES_MAX * 24]; /* up to 20 digits and ", " per frame */
            size_t used = 0;
            for (unsigned i = 0; i < f->nframes && i < FINDING_FRAMES_MAX && used < sizeof(fr); i++)
                used += (size_t)snprintf(fr + used, sizeof(fr) - used, "%s%" PRIu64, i ? ", " : "",
                                         f->frames[i]);
            dl_add(t, A_NORMAL, 4, "  evidence frames: %s", fr);
        }
        if (f->confidence < 1)
            dl_add(t, A_NORMAL, 4, "  confidence %.0f%% (inferred)", f->confidence * 100);
        char wf[WIRESHARK_FILTER_MAX];
        if (finding_wireshark_filter(f, wf, sizeof(wf)))
            dl_add(t, A_NORMAL, 4, "  Wireshark filter: %s", wf);
        char members[FINDING_JSON_MAX];
        if (finding_json_members(f, members, sizeof(members)))
            dl_add(t, A_DIM, 4, "  %s", members);
        dl_add(t, A_NORMAL, 0, " ");
    }
    if (!t->detail_flow) {
        dl_add(t, A_NORMAL, 0, "(a server-level finding: no single flow)");
        const struct tui_server *s =
            t->detail_has_finding ? tui_model_find_server(m, &t->detail_finding.server) : NULL;
        if (s)
            detail_server(t, s);
        return;
    }
    bool open;
    const struct flow_record *r = tui_model_find_flow(m, t->detail_flow, &open);
    if (r)
        detail_incidents_of(t, &r->server);
    else if (t->detail_has_finding)
        detail_incidents_of(t, &t->detail_finding.server);
    if (r) {
        dl_add(t, A_BOLD, 2, "Flow %" PRIu64 ": %s -> %s  %s%s  first frame %" PRIu64, r->flow_id,
               ep_str(&r->client, cs, sizeof(cs)), ep_str(&r->server, ss, sizeof(ss)),
               open ? "open, " : "ended: ", open ? flow_state_name(r->state) : close_name(r->close),
               r->first_frame);
        dl_add(t, A_NORMAL, 4,
               "  client sent %" PRIu64 " packets, %s bytes; server sent %" PRIu64
               " packets, %s bytes; handshake RTT server side %s, client side %s",
               r->packets[0], tui_fmt_bytes(r->bytes[0], b0, sizeof(b0)), r->packets[1],
               tui_fmt_bytes(r->bytes[1], b1, sizeof(b1)),
               tui_fmt_ms(r->hs_rtt_server_ns >= 0 ? (double)r->hs_rtt_server_ns / 1e9 : NAN, a,
                          sizeof(a)),
               tui_fmt_ms(r->hs_rtt_client_ns >= 0 ? (double)r->hs_rtt_client_ns / 1e9 : NAN, b,
                          sizeof(b)));
        char wf[WIRESHARK_FILTER_MAX];
        dl_add(t, A_NORMAL, 4, "  Zeek conn_state %s, history %s;  Wireshark filter: %s",
               conn_state_name(r->conn_state), r->history[0] ? r->history : "-",
               wireshark_filter(&r->client, &r->server, wf, sizeof(wf)) ? wf : "-");
        detail_counts(t, r);
    } else {
        dl_add(t, A_BOLD, 2,
               "Flow %" PRIu64 ": no record in the view (a closed flow arrives when it "
               "leaves the flow table; the view keeps the newest %d ended flows); what is "
               "known:",
               t->detail_flow, TUI_FLOWS);
    }
    size_t n = tui_model_timeline(m, t->detail_flow, t->ev, TUI_EVENTS);
    dl_add(t, A_BOLD | A_UNDERLINE, 0, "Timeline (%zu events)", n);
    uint64_t t0 = n ? t->ev[0].ts_ns : 0;
    for (size_t i = 0; i < n; i++) {
        const struct tui_event *e = &t->ev[i];
        char rel[24];
        tui_fmt_ms((double)(e->ts_ns - t0) / 1e9, rel, sizeof(rel));
        dl_add(t, attr_sev(t, e->sev), 30, " %s +%-8s %-5s %s",
               tui_fmt_clock(e->ts_ns, clk, sizeof(clk)), rel, sev_text(e->sev), e->text);
    }
}

static void build_help(struct tui *t)
{
    const struct tui_model *m = t->snap;
    t->ndl = 0;
    dl_add(t, A_BOLD, 0, "flowmedic live view - keys");
    dl_add(t, A_NORMAL, 4, "  q        quit (the capture stops, findings are flushed)");
    dl_add(t, A_NORMAL, 4, "  p        pause: the display freezes, the capture continues");
    dl_add(t, A_NORMAL, 4, "  Tab      move the focus: servers, flows, findings (Shift-Tab back)");
    dl_add(t, A_NORMAL, 4, "  Up/Down  select a row (also j/k, PgUp/PgDn, Home/End)");
    dl_add(t, A_NORMAL, 4, "  s        sort the flows: worst, bytes, age, retrans");
    dl_add(t, A_NORMAL, 4,
           "  /        filter flows, findings and servers by text: an address, "
           "a port (:443), a finding kind (reset), a state (refused)");
    dl_add(t, A_NORMAL, 4,
           "  Enter    detail: the timeline of the selected flow or finding; on "
           "a server, filter by it");
    dl_add(t, A_NORMAL, 4, "  Esc      back from the detail, or clear the filter");
    dl_add(t, A_NORMAL, 4,
           "  i        the open incidents: cause, scope and the full advice (scroll with "
           "Up/Down, PgUp/PgDn)");
    dl_add(t, A_NORMAL, 0, " ");
    dl_add(t, A_BOLD, 0, "Server panel (newest health interval)");
    dl_add(t, A_NORMAL, 4,
           "  att/s attempts per second, estab handshakes completed, err%% "
           "failed/attempts, retr%% retransmitted/data segments, rst resets, tlsF TLS failures, "
           "hs rtt and resp p50/p99, al open alerts, history of err%% | retr%% per interval "
           "(_ none .. # twice the threshold)");
    dl_add(t, A_NORMAL, 4,
           "  BAD (red): over a threshold, an alert or an error incident open; warn (yellow): "
           "over half a threshold or a warn incident open; thresholds: error rate %.1f%%, retransmissions %.1f%%, "
           "response p99 %.1fs",
           m->th.error_rate * 100, m->th.retrans_rate * 100, m->th.resp_p99_s);
    dl_add(t, A_NORMAL, 0, " ");
    dl_add(t, A_BOLD, 0, "Flow table");
    dl_add(t, A_NORMAL, 4,
           "  state: TCP state of open flows, how it ended for the others; "
           "age: open time (or duration); c->s / s->c: payload bytes; retr: retransmissions; "
           "rtt: handshake RTT; last problem: the worst finding of the flow (the newest among "
           "equally bad ones)");
    dl_add(t, A_NORMAL, 4,
           "  The view keeps the newest %d ended flows, %d flows with problems, "
           "%d findings and %d TLS records.",
           TUI_FLOWS, TUI_BAD, TUI_FINDINGS, TUI_TLS);
}

static void draw_page(struct tui *t, int y, int h, const char *title)
{
    int a = A_REVERSE | A_BOLD;
    attrset(a);
    mvhline(y, 0, ' ', COLS);
    put(y, 1, COLS - 1, a, title);
    int rows = h - 1;
    if (rows < 1)
        return;
    if (t->ndl <= (size_t)rows)
        t->detail_top = 0;
    else if (t->detail_top > t->ndl - (size_t)rows)
        t->detail_top = t->ndl - (size_t)rows;
    for (int r = 0; r < rows && t->detail_top + (size_t)r < t->ndl; r++) {
        const struct tui_dline *d = &t->dl[t->detail_top + (size_t)r];
        put(y + 1 + r, 0, COLS, d->attr, d->text);
    }
}

/* ---- frame ---- */

static void rebuild(struct tui *t)
{
    t->nrows = tui_model_flow_rows(t->snap, t->sort, t->filter, t->rows, TUI_ROWS);
    t->nfeed = tui_model_finding_rows(t->snap, t->filter, t->feed, TUI_FINDINGS);
    t->nsrv = tui_model_server_rows(t->snap, t->filter, t->srv, TUI_SERVERS);
    /* keep the selected flow selected when the rows move */
    for (size_t i = 0; t->sel_flow && i < t->nrows; i++)
        if (t->rows[i].rec->flow_id == t->sel_flow) {
            t->sel[P_FLOWS] = i;
            break;
        }
}

static void draw(struct tui *t)
{
    erase();
    if (LINES < TUI_MIN_H || COLS < TUI_MIN_W) {
        mvprintw(0, 0, "flowmedic: terminal too small (%dx%d); needs 80x24", COLS, LINES);
        refresh();
        return;
    }
    draw_header(t);
    int body = LINES - 4, y = 3;
    if (t->mode == M_DETAIL) {
        build_detail(t);
        draw_page(t, y, body, "Detail  (Esc back)");
    } else if (t->mode == M_HELP) {
        build_help(t);
        draw_page(t, y, body, "Help  (Esc or ? back)");
    } else {
        const struct incident_record *ir[TUI_INCIDENTS];
        size_t ni = tui_model_incident_rows(t->snap, ir, TUI_INCIDENTS);
        int inc_h = ni ? 1 + (int)(ni < 4 ? ni : 4) : 1;
        draw_incidents(t, y, inc_h);
        y += inc_h;
        body -= inc_h;
        size_t ns = t->nsrv ? t->nsrv : 1;
        int srv_h = 2 + (int)(ns < (size_t)(body / 5) ? ns : (size_t)(body / 5 > 0 ? body / 5 : 1));
        int fnd_h = body / 4;
        int flow_h = body - srv_h - fnd_h;
        draw_servers(t, y, srv_h);
        draw_flows(t, y + srv_h, flow_h);
        draw_findings(t, y + srv_h + flow_h, fnd_h);
    }
    draw_footer(t);
    refresh();
}

static void open_detail(struct tui *t)
{
    t->detail_incidents = false;
    if (t->focus == P_FLOWS && t->sel[P_FLOWS] < t->nrows) {
        t->detail_has_finding = false;
        t->detail_flow = t->rows[t->sel[P_FLOWS]].rec->flow_id;
    } else if (t->focus == P_FINDINGS && t->sel[P_FINDINGS] < t->nfeed) {
        t->detail_has_finding = true;
        t->detail_finding = *t->feed[t->sel[P_FINDINGS]];
        t->detail_flow = t->detail_finding.flow_id;
    } else if (t->focus == P_SERVERS && t->sel[P_SERVERS] < t->nsrv) {
        char eps[64];
        ep_str(&t->srv[t->sel[P_SERVERS]]->ep, eps, sizeof(eps));
        snprintf(t->filter, sizeof(t->filter), "%s", eps);
        t->focus = P_FLOWS;
        t->sel[P_FLOWS] = 0;
        t->sel_flow = 0;
        return;
    } else {
        return;
    }
    t->mode = M_DETAIL;
    t->detail_top = 0;
}

static void move_sel(struct tui *t, long delta)
{
    if (t->mode != M_MAIN) {
        long top = (long)t->detail_top + delta;
        t->detail_top = top < 0 ? 0 : (size_t)top; /* clamped to the page when drawn */
        return;
    }
    size_t n = t->focus == P_FLOWS ? t->nrows : t->focus == P_FINDINGS ? t->nfeed : t->nsrv;
    long s = (long)t->sel[t->focus] + delta;
    if (s >= (long)n)
        s = (long)n - 1;
    if (s < 0)
        s = 0;
    t->sel[t->focus] = (size_t)s;
    if (t->focus == P_FLOWS)
        t->sel_flow = (size_t)s < t->nrows ? t->rows[s].rec->flow_id : 0;
}

static void edit_key(struct tui *t, int ch)
{
    size_t len = strlen(t->edit);
    if (ch == TUI_KEY_ESC) {
        t->editing = false;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        snprintf(t->filter, sizeof(t->filter), "%s", t->edit);
        t->editing = false;
        t->sel[P_FLOWS] = t->sel[P_FINDINGS] = t->sel[P_SERVERS] = 0;
        t->sel_flow = 0;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len)
            t->edit[len - 1] = '\0';
    } else if (ch == 21) { /* Ctrl-U */
        t->edit[0] = '\0';
    } else if (ch >= 32 && ch < 127 && len + 1 < sizeof(t->edit)) {
        t->edit[len] = (char)ch;
        t->edit[len + 1] = '\0';
    }
}

static void on_key(struct tui *t, int ch)
{
    int page = LINES / 3 > 1 ? LINES / 3 : 1;
    if (t->editing) {
        edit_key(t, ch);
        return;
    }
    switch (ch) {
    case 'q':
    case 'Q':
        t->quit = true;
        break;
    case 'p':
    case 'P':
        t->paused = !t->paused;
        break;
    case '\t':
        t->focus = (enum tui_panel)((t->focus + 1) % P__COUNT);
        break;
    case KEY_BTAB:
        t->focus = (enum tui_panel)((t->focus + P__COUNT - 1) % P__COUNT);
        break;
    case 's':
    case 'S':
        t->sort = (enum tui_sort)((t->sort + 1) % TUI_SORT__COUNT);
        break;
    case '/':
        if (t->mode == M_HELP)
            t->mode = t->help_from;
        snprintf(t->edit, sizeof(t->edit), "%s", t->filter);
        t->editing = true;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (t->mode == M_MAIN)
            open_detail(t);
        break;
    case TUI_KEY_ESC:
    case KEY_BACKSPACE:
        if (t->mode == M_HELP)
            t->mode = t->help_from;
        else if (t->mode == M_DETAIL)
            t->mode = M_MAIN;
        else
            t->filter[0] = '\0';
        break;
    case 'i':
    case 'I':
        if (t->mode == M_MAIN) {
            t->detail_incidents = true;
            t->mode = M_DETAIL;
            t->detail_top = 0;
        }
        break;
    case '?':
        if (t->mode == M_HELP) {
            t->mode = t->help_from;
        } else {
            t->help_from = t->mode;
            t->mode = M_HELP;
            t->detail_top = 0;
        }
        break;
    case KEY_UP:
    case 'k':
        move_sel(t, -1);
        break;
    case KEY_DOWN:
    case 'j':
        move_sel(t, 1);
        break;
    case KEY_PPAGE:
        move_sel(t, -page);
        break;
    case KEY_NPAGE:
    case ' ':
        move_sel(t, page);
        break;
    case KEY_HOME:
        move_sel(t, -1000000);
        break;
    case KEY_END:
        move_sel(t, 1000000);
        break;
    default: /* KEY_RESIZE and others: curses has resized; just redraw */
        break;
    }
}

int tui_frame(struct tui *t, const struct tui_status *st, const struct flow_record *open_flows,
              size_t n, uint64_t wall_ns)
{
    if (t->quit)
        return 1;
    pthread_mutex_lock(&t->mu);
    tui_model_set_status(t->live, st, wall_ns);
    tui_model_set_open(t->live, open_flows, n);
    pthread_mutex_unlock(&t->mu);
    bool key = false;
    int ch;
    while (!t->quit && (ch = getch()) != ERR) {
        on_key(t, ch);
        key = true;
    }
    if (t->quit)
        return 1;
    bool due = !t->drawn || wall_ns < t->last_draw_ns || wall_ns - t->last_draw_ns >= TUI_REDRAW_NS;
    if (due && !t->paused) {
        pthread_mutex_lock(&t->mu);
        tui_model_copy(t->snap, t->live);
        pthread_mutex_unlock(&t->mu);
        t->last_draw_ns = wall_ns;
        t->drawn = true;
        rebuild(t);
        draw(t);
    } else if (key) {
        rebuild(t);
        draw(t);
    }
    return 0;
}
