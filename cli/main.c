/* main.c - flowmedic's command line: options, wiring source -> decode -> engine -> sinks. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzers/engine.h"
#include "analyzers/stream.h"
#include "analyzers/x509.h"
#include "analyzers/worker.h"
#include "capture/clock.h"
#include "capture/decode.h"
#include "capture/log.h"
#include "capture/source.h"
#include "cli/config.h"
#include "cli/extract.h"
#include "cli/metrics.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "cli/report.h"
#include "cli/sandbox.h"
#include "cli/sinks.h"
#include "cli/summary.h"
#include "store/store.h"
#include "tui/tui.h"

/* Exit codes (documented in --help, README and flowmedic.1). */
enum {
    EXIT_OK = 0,        /* analysis complete */
    EXIT_RUNTIME = 1,   /* could not open the input, the database or an output failed */
    EXIT_USAGE = 2,     /* bad command line or configuration */
    EXIT_PARTIAL = 3,   /* a capture was damaged: what came before the damage was analysed */
};

#define SNAP_FLOWS 256 /* open flows handed to the live view per frame */

/*
 * Set by SIGINT/SIGTERM: the only thing the handler touches. The read loops test it after
 * every frame and every capture timeout (100 ms), so nothing else needs waking; the handler
 * never reaches the capture source, which close_run frees (issue 14: it used to call
 * cap_break on it). Helper threads block the signals (see run), so the handler runs on the
 * main thread, whose poll it interrupts.
 */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *o)
{
    fputs("Usage: flowmedic [options] -r FILE [-r FILE ...] [filter expression]\n"
          "       flowmedic [options] -i IFACE [filter expression]\n"
          "       flowmedic report DB [DB ...] [--run N] [--sensor NAME] [--server ADDR[:PORT]]\n"
          "                           [--since T] [--until T] [--utc] [--json]\n"
          "       flowmedic extract DB (--flow RUN:ID | --finding ID | --incident [RUN:]N)\n"
          "                            -o OUT.pcap\n"
          "\n"
          "Passive TCP health analysis of a server: retransmissions, resets, refused and\n"
          "dropped connections, TLS handshake failures, latency.\n"
          "\n"
          "Input:\n"
          "  -r FILE              read a .pcap/.pcapng file (repeatable, in order; - = stdin)\n"
          "  -i IFACE             capture live from IFACE (e.g. a mirror port)\n"
          "  -f EXPR              BPF filter, tcpdump syntax (or give it after the options)\n"
          "  -s SNAPLEN           bytes kept per frame, live (default 262144)\n"
          "  -p                   do not put the interface into promiscuous mode\n"
          "  -B MIB               kernel capture buffer in MiB, live\n"
          "  --immediate          deliver packets at once (live; off by default)\n"
          "  -Z USER              drop privileges to USER after opening the capture; also\n"
          "                       no_new_privs and the seccomp sandbox (see --no-sandbox)\n"
          "  --sandbox            apply no_new_privs and the seccomp sandbox without -Z too\n"
          "  --no-sandbox         neither, even with -Z\n"
          "Analysis:\n"
          "  --server ADDR[:PORT] this endpoint is a server (repeatable; IPv6 as [ADDR]:PORT)\n"
          "  --max-flows N        flow table cap (default 262144); the oldest are evicted\n"
          "  --workers N|auto     analysis threads (default auto: the online CPUs less one, at\n"
          "                       most 8; 1 with 2 CPUs or fewer); caps are split among them\n"
          "  --idle-timeout SEC   end flows idle this long (default 300)\n"
          "  --interval SEC       server health interval (default 10)\n"
          "  --slow-response SEC  slow response threshold (default 5)\n"
          "  --error-rate PCT     error-rate alert threshold in percent (default 5)\n"
          "  --retrans-rate PCT   retransmission-rate alert threshold in percent (default 5)\n"
          "  --cert-days N        warn about certificates expiring within N days (default 30)\n"
          "  --notable N          TCP events in a flow before a finding is written (default 1)\n"
          "  --stream-cap BYTES   bytes kept per direction for TLS/HTTP parsing (default 16384)\n"
          "  --stream-budget BYTES  all stream buffers together (default 67108864); with a large\n"
          "                       --stream-cap fewer TLS handshakes are followed at once\n"
          "  --tls-keylog FILE    SSLKEYLOGFILE for reading TLS 1.3 handshakes\n"
          "  --ca-file FILE       trust these CA certificates (PEM, one or a bundle;\n"
          "                       repeatable) for chain checks instead of the system store\n"
          "  --http-full-uri      http records keep the query string (default: path only)\n"
          "  --config FILE        read options from FILE (default $FLOWMEDIC_CONFIG, else\n"
          "                       /etc/flowmedic.conf if present)\n"
          "  --set KEY=VALUE      set a configuration file key, e.g. incident-min-attempts=20\n"
          "Output:\n"
          "  -w DB                write findings to the SQLite database DB (appended to);\n"
          "                       without -w (or a config file's db = PATH), nothing is\n"
          "                       written: the summary is printed from memory\n"
          "  --no-db              do not write a database, even if the config file names one\n"
          "  --sensor NAME        this sensor's name in the database's runs (default: the host\n"
          "                       name), for flowmedic report A.db B.db ...\n"
          "  --retain DAYS        delete the database's runs that ended more than DAYS ago\n"
          "                       (in small batches by the database writer, also during a run)\n"
          "  --json               JSON lines on stdout (meta, flow, finding, health, tls, cert,\n"
          "                       http, incident, summary; README.md lists every member)\n"
          "  --tui                live ncurses view (files replay at their recorded pace)\n"
          "  --speed N|max        replay speed for --tui on files (default 1)\n"
          "  --no-color           monochrome view (also when NO_COLOR is set)\n"
          "  --metrics-listen ADDR:PORT  serve Prometheus metrics on /metrics\n"
          "  --metrics-file PATH  write Prometheus metrics to PATH (textfile collector)\n"
          "  --metrics-file-follow  PATH may be a symbolic link (written where it points)\n"
          "  --web-config FILE    TLS and basic auth for --metrics-listen (exporter-toolkit\n"
          "                       web configuration format)\n"
          "  --evidence-dir DIR   keep each flow's first and last packets; write them to\n"
          "                       DIR/RUN-FLOW.pcap for flows with an error finding\n"
          "  --evidence-packets FIRST,LAST[,FLOWS]  evidence kept per flow and flows followed\n"
          "                       at once (default 16,16,256)\n"
          "  -q                   print only the problems: incidents, error and warning\n"
          "                       findings, capture loss (nothing when all is well)\n"
          "  -v                   more messages\n"
          "  -h, --help           this help;  -V, --version  the version\n"
          "\n"
          "Exit status: 0 analysis complete; 1 input, database or output failure;\n"
          "2 bad command line or configuration; 3 a capture was damaged (what came before\n"
          "the damage was analysed and reported).\n",
          o);
}

enum {
    OPT_SERVER = 256,
    OPT_JSON,
    OPT_TUI,
    OPT_SPEED,
    OPT_NO_COLOR,
    OPT_NO_DB,
    OPT_MAX_FLOWS,
    OPT_WORKERS,
    OPT_IDLE,
    OPT_INTERVAL,
    OPT_SLOW,
    OPT_ERR_RATE,
    OPT_RETR_RATE,
    OPT_CERT_DAYS,
    OPT_NOTABLE,
    OPT_STREAM_CAP,
    OPT_STREAM_BUDGET,
    OPT_RETAIN,
    OPT_KEYLOG,
    OPT_CA_FILE,
    OPT_CONFIG,
    OPT_SET,
    OPT_METRICS_LISTEN,
    OPT_METRICS_FILE,
    OPT_METRICS_FILE_FOLLOW,
    OPT_WEB_CONFIG,
    OPT_IMMEDIATE,
    OPT_SANDBOX,
    OPT_NO_SANDBOX,
    OPT_SANDBOX_SELFTEST,
    OPT_EVIDENCE_DIR,
    OPT_EVIDENCE_PACKETS,
    OPT_SENSOR,
    OPT_HTTP_FULL_URI,
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"json", no_argument, NULL, OPT_JSON},
    {"tui", no_argument, NULL, OPT_TUI},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"no-db", no_argument, NULL, OPT_NO_DB},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"slow-response", required_argument, NULL, OPT_SLOW},
    {"error-rate", required_argument, NULL, OPT_ERR_RATE},
    {"retrans-rate", required_argument, NULL, OPT_RETR_RATE},
    {"cert-days", required_argument, NULL, OPT_CERT_DAYS},
    {"notable", required_argument, NULL, OPT_NOTABLE},
    {"stream-cap", required_argument, NULL, OPT_STREAM_CAP},
    {"stream-budget", required_argument, NULL, OPT_STREAM_BUDGET},
    {"retain", required_argument, NULL, OPT_RETAIN},
    {"tls-keylog", required_argument, NULL, OPT_KEYLOG},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"set", required_argument, NULL, OPT_SET},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"metrics-file", required_argument, NULL, OPT_METRICS_FILE},
    {"metrics-file-follow", no_argument, NULL, OPT_METRICS_FILE_FOLLOW},
    {"web-config", required_argument, NULL, OPT_WEB_CONFIG},
    {"immediate", no_argument, NULL, OPT_IMMEDIATE},
    {"sandbox", no_argument, NULL, OPT_SANDBOX},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"sandbox-selftest", required_argument, NULL, OPT_SANDBOX_SELFTEST}, /* tests only */
    {"evidence-dir", required_argument, NULL, OPT_EVIDENCE_DIR},
    {"evidence-packets", required_argument, NULL, OPT_EVIDENCE_PACKETS},
    {"sensor", required_argument, NULL, OPT_SENSOR},
    {"http-full-uri", no_argument, NULL, OPT_HTTP_FULL_URI},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* A number in [lo, hi]; prints the problem and returns false otherwise. */
static bool num_arg(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || v != v || v < lo || v > hi) {
        log_error("%s: '%s' is not a number between %g and %g", opt, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static bool add_server(struct opts *o, const char *s)
{
    if (o->eng.nservers == ENG_MAX_SERVERS) {
        log_error("--server: at most %d servers", ENG_MAX_SERVERS);
        return false;
    }
    if (pkt_endpoint_parse(s, &o->eng.servers[o->eng.nservers]) != 0) {
        log_error("--server: '%s' is not ADDR, ADDR:PORT or [IPv6]:PORT", s);
        return false;
    }
    o->eng.nservers++;
    return true;
}

/* The runs table records every server, including those that came from the config file. */
static void servers_text_from_config(struct opts *o)
{
    size_t used = 0;
    for (size_t i = 0; i < o->eng.nservers && used < sizeof(o->servers_text); i++) {
        char buf[64];
        used += (size_t)snprintf(o->servers_text + used, sizeof(o->servers_text) - used, "%s%s",
                                 i ? "," : "",
                                 pkt_endpoint_str(&o->eng.servers[i], buf, sizeof(buf)));
    }
}

/* Find --config FILE before the other options, so that the command line overrides it. */
static const char *find_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strcmp(argv[i], "--") == 0)
            break;
    }
    return NULL;
}

static int load_config(struct opts *o, int argc, char **argv)
{
    char err[512];
    const char *path = find_config(argc, argv);
    if (!path) {
        /* FLOWMEDIC_CONFIG names another default file; set but empty, no default file (the
           test suite sets it so an installed /etc/flowmedic.conf cannot change its results). */
        const char *env = getenv("FLOWMEDIC_CONFIG");
        const char *def = env ? env : "/etc/flowmedic.conf";
        if (!def[0] || access(def, R_OK) != 0)
            return 0;
        path = def;
    }
    o->config = path;
    if (cli_config_load(path, &o->eng, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

static bool parse_one(struct opts *o, int c, const char *arg)
{
    double v;
    switch (c) {
    case 'r':
        if (o->ninputs == MAX_INPUTS) {
            log_error("-r: at most %d files", MAX_INPUTS);
            return false;
        }
        o->inputs[o->ninputs++] = arg;
        return true;
    case 'i':
        o->iface = arg;
        return true;
    case 'f':
        free(o->filter);
        o->filter = strdup(arg);
        return o->filter != NULL;
    case 'w':
        o->db = arg;
        return true;
    case 'Z':
        if (!getpwnam(arg)) { /* a usage error: found now, before any capture is opened */
            log_error("-Z %s: no such user (give an existing account, e.g. -Z nobody)", arg);
            return false;
        }
        o->user = arg;
        return true;
    case 's':
        if (!num_arg("-s", arg, 64, 262144, &v))
            return false;
        o->live.snaplen = (int)v;
        return true;
    case 'p':
        o->live.promisc = false;
        return true;
    case 'B':
        if (!num_arg("-B", arg, 1, 4096, &v))
            return false;
        o->live.buffer_mib = (int)v;
        return true;
    case 'q':
        log_quiet = 1;
        return true;
    case 'v':
        log_verbose = 1;
        return true;
    case OPT_IMMEDIATE:
        o->live.immediate = true;
        return true;
    case OPT_SANDBOX:
        o->sandbox = SANDBOX_ON;
        return true;
    case OPT_NO_SANDBOX:
        o->sandbox = SANDBOX_OFF;
        return true;
    case OPT_SANDBOX_SELFTEST:
        o->sandbox_selftest = arg;
        return true;
    case OPT_SERVER:
        return add_server(o, arg);
    case OPT_JSON:
        o->json = true;
        return true;
    case OPT_TUI:
        o->tui = true;
        return true;
    case OPT_NO_COLOR:
        o->no_color = true;
        return true;
    case OPT_NO_DB:
        o->no_db = true;
        return true;
    case OPT_SPEED:
        if (strcmp(arg, "max") == 0) {
            o->speed = 0;
            return true;
        }
        return num_arg("--speed", arg, 0.01, 1e6, &o->speed);
    case OPT_WORKERS:
        o->workers_given = true;
        if (strcmp(arg, "auto") == 0) {
            o->workers = 0;
            return true;
        }
        if (!num_arg("--workers", arg, 1, WK_MAX, &v))
            return false;
        o->workers = (unsigned)v;
        return true;
    case OPT_MAX_FLOWS:
        if (!num_arg("--max-flows", arg, 16, 100e6, &v))
            return false;
        o->eng.max_flows = (size_t)v;
        return true;
    case OPT_IDLE:
        if (!num_arg("--idle-timeout", arg, 1, 86400, &v))
            return false;
        o->eng.idle_timeout_ns = (uint64_t)(v * 1e9);
        return true;
    case OPT_INTERVAL:
        if (!num_arg("--interval", arg, 1, 86400, &v))
            return false;
        o->eng.health_interval_ns = (uint64_t)(v * 1e9);
        return true;
    case OPT_SLOW:
        return num_arg("--slow-response", arg, 0.001, 86400, &o->eng.slow_response_s);
    case OPT_ERR_RATE:
        if (!num_arg("--error-rate", arg, 0, 100, &v))
            return false;
        o->eng.alert_error_rate = v / 100.0;
        return true;
    case OPT_RETR_RATE:
        if (!num_arg("--retrans-rate", arg, 0, 100, &v))
            return false;
        o->eng.alert_retrans_rate = v / 100.0;
        return true;
    case OPT_CERT_DAYS:
        if (!num_arg("--cert-days", arg, 0, 3650, &v))
            return false;
        o->eng.cert_expiring_days = (uint32_t)v;
        return true;
    case OPT_NOTABLE:
        if (!num_arg("--notable", arg, 1, 1e9, &v))
            return false;
        o->eng.notable_events = (uint32_t)v;
        return true;
    case OPT_STREAM_CAP:
        if (!num_arg("--stream-cap", arg, 1024, 1 << 24, &v))
            return false;
        o->eng.stream_cap = (size_t)v;
        return true;
    case OPT_RETAIN:
        if (!num_arg("--retain", arg, 0.0001, 36500, &v))
            return false;
        o->retain_days = v;
        return true;
    case OPT_STREAM_BUDGET:
        if (!num_arg("--stream-budget", arg, 65536, 1099511627776.0, &v))
            return false;
        o->stream_budget = (size_t)v;
        return true;
    case OPT_KEYLOG:
        o->eng.tls_keylog = arg;
        return true;
    case OPT_CA_FILE:
        if (o->eng.nca_files >= ENG_MAX_CA_FILES) {
            log_error("--ca-file: at most %d files (put the certificates in one bundle)",
                      ENG_MAX_CA_FILES);
            return false;
        }
        o->eng.ca_files[o->eng.nca_files++] = arg;
        return true;
    case OPT_HTTP_FULL_URI:
        o->eng.http_full_uri = true;
        return true;
    case OPT_SET: {
        char err[512];
        if (cli_config_set(arg, &o->eng, err, sizeof(err)) != 0) {
            log_error("%s", err);
            return false;
        }
        return true;
    }
    case OPT_CONFIG:
        return true; /* read before the other options */
    case OPT_METRICS_LISTEN:
        o->metrics_listen = arg;
        return true;
    case OPT_METRICS_FILE:
        o->metrics_file = arg;
        return true;
    case OPT_METRICS_FILE_FOLLOW:
        o->metrics_file_follow = true;
        return true;
    case OPT_WEB_CONFIG:
        o->web_config = arg;
        return true;
    case OPT_SENSOR:
        if (!arg[0] || strlen(arg) >= sizeof(o->sensor)) {
            log_error("--sensor: give a name of 1 to %zu bytes", sizeof(o->sensor) - 1);
            return false;
        }
        snprintf(o->sensor, sizeof(o->sensor), "%s", arg);
        return true;
    case OPT_EVIDENCE_DIR:
        o->evidence.dir = arg;
        return true;
    case OPT_EVIDENCE_PACKETS: {
        unsigned long a = 0, b = 0, nf = 0;
        int n = sscanf(arg, "%lu,%lu,%lu", &a, &b, &nf);
        if (n < 2 || a < 1 || a > 100000 || b < 1 || b > 100000 || nf > 1000000) {
            log_error("--evidence-packets: '%s' is not FIRST,LAST[,FLOWS] (each at least 1)", arg);
            return false;
        }
        o->evidence.first = a;
        o->evidence.last = b;
        o->evidence.flows = n == 3 ? nf : 0;
        return true;
    }
    default:
        return false;
    }
}

/* The trailing words form the BPF filter, as with tcpdump. */
static bool take_filter_words(struct opts *o, int argc, char **argv, int first)
{
    if (first >= argc)
        return true;
    if (o->filter) {
        log_error("give the filter either with -f or after the options, not both");
        return false;
    }
    size_t len = 1;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    o->filter = malloc(len);
    if (!o->filter)
        return false;
    o->filter[0] = '\0';
    size_t used = 0;
    for (int i = first; i < argc; i++)
        used += (size_t)snprintf(o->filter + used, len - used, "%s%s", i > first ? " " : "",
                                 argv[i]);
    return true;
}

static void record_cmdline(struct opts *o, int argc, char **argv)
{
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof(o->cmdline); i++)
        used += (size_t)snprintf(o->cmdline + used, sizeof(o->cmdline) - used, "%s%s",
                                 i ? " " : "", argv[i]);
}

/* Parse argv into o. Returns -1 on a usage error, 1 when done (help/version), 0 to run. */
/*
 * Stream buffers are allocated as TLS handshakes need them, within one byte budget: a
 * handshake needs two buffers of --stream-cap bytes (three with a key log). Refuse a cap
 * that not even one handshake fits in; say how many fit when the budget is what limits them.
 */
static bool check_stream_budget(struct opts *o)
{
    size_t budget = o->stream_budget ? o->stream_budget : STREAM_DEFAULT_BUDGET;
    size_t cap = o->eng.stream_cap ? o->eng.stream_cap : 16384;
    size_t per = o->eng.tls_keylog ? 3 : 2;
    size_t slots = o->eng.stream_buffers ? o->eng.stream_buffers : 4096;
    o->stream_budget = budget;
    if (cap > budget / per) {
        log_error("--stream-cap %zu: a TLS handshake needs %zu buffers of that size (%zu "
                  "bytes), more than the stream budget of %zu bytes; raise --stream-budget "
                  "or lower --stream-cap",
                  cap, per, cap * per, budget);
        return false;
    }
    size_t fit = budget / cap / per;
    if (fit < slots / per) {
        if (fit < 256)
            log_warn("--stream-cap %zu: the stream budget of %zu bytes holds %zu buffers, so at "
                     "most %zu TLS handshakes are followed at once (--stream-budget raises it)",
                     cap, budget, fit * per, fit);
        else
            log_info("--stream-cap %zu: at most %zu TLS handshakes are followed at once "
                     "(stream budget %zu bytes)",
                     cap, fit, budget);
    }
    return true;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    eng_config_default(&o->eng);
    o->live.promisc = true;
    o->speed = 1.0;
    record_cmdline(o, argc, argv);
    if (load_config(o, argc, argv) != 0)
        return -1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:i:f:w:Z:s:pB:qvhV", long_opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == 'V') {
            printf("flowmedic %s\n", FM_VERSION);
            return 1;
        }
        if (c == '?') {
            if (optopt)
                log_error("unknown option '-%c' (see flowmedic --help)", optopt);
            else
                log_error("unknown option '%s' (see flowmedic --help)", argv[optind - 1]);
            return -1;
        }
        if (c == ':') {
            log_error("option '%s' needs a value (see flowmedic --help)", argv[optind - 1]);
            return -1;
        }
        if (!parse_one(o, c, optarg))
            return -1;
    }
    if (!take_filter_words(o, argc, argv, optind))
        return -1;
    if (!o->db)
        o->db = cli_config_db(); /* the config file's (or --set) db = PATH; -w wins */
    if (!o->workers_given && cli_config_workers() >= 0)
        o->workers = (unsigned)cli_config_workers(); /* workers = N|auto; --workers wins */
    if (!o->sensor[0] && gethostname(o->sensor, sizeof(o->sensor) - 1) != 0)
        o->sensor[0] = '\0'; /* no --sensor and no host name: the runs' sensor is NULL */
    servers_text_from_config(o);
    if (!o->ninputs && !o->iface) {
        log_error("nothing to analyse: give -r FILE or -i IFACE (see flowmedic --help)");
        return -1;
    }
    if (o->ninputs && o->iface) {
        log_error("give either -r FILE or -i IFACE, not both");
        return -1;
    }
    if (o->retain_days > 0 && !cli_db_path(o)) {
        log_error("--retain needs a database (-w DB)");
        return -1;
    }
    if (!check_stream_budget(o))
        return -1;
    if (o->web_config && !o->metrics_listen) {
        log_error("--web-config configures --metrics-listen, which is not given");
        return -1;
    }
    if (o->metrics_file_follow && !o->metrics_file) {
        log_error("--metrics-file-follow goes with --metrics-file, which is not given");
        return -1;
    }
    /* read now, before -Z: the key file may be readable by root only */
    char err[512];
    for (size_t i = 0; i < o->eng.nca_files; i++) {
        /* a bad --ca-file is a usage error here, not a failed analysis set-up later */
        struct x509_trust *t = x509_trust_new(&o->eng.ca_files[i], 1, err, sizeof(err));
        if (!t) {
            log_error("%s", err);
            return -1;
        }
        x509_trust_free(t);
    }
    if (o->web_config && webconfig_load(o->web_config, &o->web, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_error("-Z %s: no such user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        log_error("-Z %s: cannot drop privileges: %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 && pw->pw_uid != 0) {
        log_error("-Z %s: privileges could be regained; refusing to continue", user);
        return -1;
    }
    return 0;
}

/* What the run has open, so that every exit path closes it. */
struct run {
    struct opts *o;                  /* options */
    struct cap_source *src;          /* frames */
    struct workers *wk;              /* analysis (one engine, or workers and an aggregator) */
    unsigned nworkers;               /* how many (resolve_workers) */
    bool live_workers;               /* -i with nworkers > 1: the workers read the handles */
    uint64_t last_flush;             /* paced replay with workers: the last wk_flush (monotonic) */
    struct cli_sinks sinks;          /* the outputs, opened from the sink table */
    struct output *out;              /* the queue and thread that feed them */
    uint64_t out_dropped;            /* its drops, once it is freed */
    struct store *store;             /* -w (in sinks), for its status */
    struct metrics *metrics;         /* --metrics-* (in sinks), for the self counters */
    struct tui *tui;                 /* --tui (in sinks), drawn from the main thread */
    struct evidence *evidence;       /* --evidence-dir (in sinks), fed by the packet path */
    struct decode_stats dst;         /* decode counters */
    uint64_t frames;                 /* frames read */
    uint64_t bytes;                  /* frame bytes on the wire */
    uint64_t first_ts, last_ts;      /* capture times */
    bool input_error;                /* a capture ended early */
    bool drain_cut;                  /* live: frames queued at the stop were left (cap_read_queued) */
    const char *db_path;             /* database in use, or NULL */
    char store_state[320];           /* for the TUI header */
    struct flow_record snap[SNAP_FLOWS]; /* open flows for the TUI */
    size_t nsnap;                    /* entries of snap in use */
    uint64_t snap_wall;              /* wall time snap was taken */
};

/*
 * Open the sink table's outputs and start the output thread over them (with SIGINT/SIGTERM
 * blocked by the caller, so that every helper thread leaves the signals to the main thread).
 */
static int open_sinks(struct run *r)
{
    char err[512];
    if (cli_sinks_open(&r->sinks, r->o) != 0)
        return -1;
    r->db_path = cli_db_path(r->o);
    r->store = cli_sinks_find(&r->sinks, &store_sink_ops);
    r->metrics = cli_sinks_find(&r->sinks, &metrics_sink_ops);
    r->tui = cli_sinks_find(&r->sinks, &tui_sink_ops);
    r->evidence = cli_evidence_ring(cli_sinks_find(&r->sinks, &evidence_sink_ops));
    evidence_set_run(r->evidence, store_run_id(r->store));
    /* offline nothing may be lost: the analysis waits for the sinks; live it never does */
    r->out = output_new(r->sinks.s, r->sinks.n, 0, r->o->iface == NULL, err, sizeof(err));
    if (!r->out) {
        log_error("%s", err);
        return -1;
    }
    if (r->tui || r->metrics) /* watched while a file is read: no batching of records */
        output_set_prompt(r->out, true);
    return 0;
}

/* -v: what flows cost in memory (the bytes-per-flow measurement tests/synflood.sh checks). */
static void log_flow_memory(struct workers *wk)
{
    struct eng_stats es;
    wk_get_stats(wk, &es);
    uint64_t per = es.state_peak_flows ? es.state_peak_bytes / es.state_peak_flows : 0;
    log_info("flow state: %" PRIu64 " bytes per flow at the peak (%" PRIu64 " flows, %" PRIu64
             " bytes); every flow costs %" PRIu64 " (table entry %" PRIu64
             ", detectors' small forms %" PRIu64 "), full flow state and detectors' lazy "
             "state come from pools; "
             "%" PRIu64 " lazy blocks refused (pool empty)",
             per, es.state_peak_flows, es.state_peak_bytes, es.flow_fixed_bytes,
             es.flow_struct_bytes, es.flow_fixed_bytes - es.flow_struct_bytes, es.lazy_exhausted);
}

static void fill_store_state(struct run *r)
{
    if (!r->store) {
        snprintf(r->store_state, sizeof(r->store_state), "no database");
        return;
    }
    struct store_status st;
    store_get_status(r->store, &st);
    uint64_t out_dropped = r->out ? output_dropped(r->out) : r->out_dropped;
    char more[64] = "";
    if (out_dropped)
        snprintf(more, sizeof(more), "; %" PRIu64 " output records dropped", out_dropped);
    snprintf(r->store_state, sizeof(r->store_state),
             "db %s: %" PRIu64 " written, %" PRIu64 " queued, %" PRIu64 " dropped%s%s", r->db_path,
             st.written, st.queued, st.dropped,
             st.failed   ? " FAILED"
             : st.locked ? " (locked by another program: waiting)"
                         : "",
             more);
}

/* Periodic work on wall time: TUI frame, metrics. Returns 1 when the user quit the TUI. */
static int periodic(struct run *r, bool done)
{
    struct eng_stats es;
    struct cap_stats cs;
    wk_get_stats(r->wk, &es);
    cap_stats(r->src, &cs);
    if (r->metrics) {
        struct metrics_self ms = {
            .packets = r->frames,
            .bytes = r->bytes,
            .kernel_drops = cs.kernel_drop,
            .if_drops = cs.if_drop,
            .flows_active = es.flows_active,
            .flows_evicted = es.evicted,
            .malformed = r->dst.malformed + r->dst.truncated,
            .mirror_duplicates = es.mirror_duplicates,
            .http_reclaimed = es.http_reclaimed,
        };
        if (r->store) {
            struct store_status st;
            store_get_status(r->store, &st);
            ms.store_queued = st.queued;
            ms.store_dropped = st.dropped;
        }
        metrics_update_self(r->metrics, &ms);
    }
    if (!r->tui)
        return 0;
    fill_store_state(r);
    struct tui_status ts = {
        .source = r->o->iface ? r->o->iface : cap_name(r->src),
        .filter = r->o->filter,
        .live = r->o->iface != NULL,
        .replay_done = done,
        .now_ns = r->last_ts,
        .elapsed_ns = r->last_ts > r->first_ts ? r->last_ts - r->first_ts : 0,
        .packets = r->frames,
        .bytes = r->bytes,
        .kernel_drops = cs.kernel_drop,
        .if_drops = cs.if_drop,
        .flows_active = es.flows_active,
        .flows_evicted = es.evicted,
        .malformed = r->dst.malformed + r->dst.truncated,
        .mirror_duplicates = es.mirror_duplicates,
        .store_state = r->store_state,
    };
    /* the snapshot walks every open flow: take it at the view's redraw rate, not per call */
    uint64_t now = clock_mono_ns();
    if (done) {
        r->nsnap = 0;
    } else if (now - r->snap_wall >= 250000000u) {
        r->nsnap = wk_snapshot_flows(r->wk, r->snap, SNAP_FLOWS);
        r->snap_wall = now;
    }
    return tui_frame(r->tui, &ts, r->snap, r->nsnap, now);
}

static void on_frame(struct run *r, const struct cap_frame *f)
{
    struct pkt p;
    r->frames++;
    r->bytes += f->wirelen;
    if (r->frames == 1)
        r->first_ts = f->ts_ns;
    r->last_ts = f->ts_ns;
    enum pkt_kind k =
        pkt_decode(f->linktype, f->data, f->caplen, f->wirelen, f->ts_ns, f->number, &p, &r->dst);
    if (k == PKT_TCP) {
        struct engine *one = wk_engine(r->wk);
        wk_frame(r->wk, &p, f); /* with workers, they feed the evidence ring */
        if (r->evidence && one)
            evidence_packet(r->evidence, eng_last_flow_id(one), f);
    } else if (k == PKT_MALFORMED || k == PKT_TRUNCATED) {
        wk_malformed(r->wk, f->ts_ns, f->number, pkt_malformed_what(k));
    }
}

/*
 * Paced replay (TUI on files) with workers: hand the reader's partial batch on at least every
 * 20 ms of wall time, or a slow replay would reach the workers only when a batch fills.
 */
static void flush_paced(struct run *r)
{
    uint64_t now = clock_mono_ns();
    if (r->nworkers < 2 || now - r->last_flush < 20000000u)
        return;
    r->last_flush = now;
    wk_flush(r->wk);
}

/* Sleep until capture time ts is due at the replay speed (TUI on files). Returns 1 on quit. */
static int pace(struct run *r, uint64_t ts, uint64_t wall0, uint64_t ts0)
{
    if (!r->tui || r->o->iface || r->o->speed <= 0 || ts < ts0)
        return 0;
    uint64_t due = wall0 + (uint64_t)((double)(ts - ts0) / r->o->speed);
    for (;;) {
        uint64_t now = clock_mono_ns();
        if (now >= due || g_stop)
            return 0;
        flush_paced(r);
        if (periodic(r, false))
            return 1;
        uint64_t left = due - now;
        struct timespec sl = {0, (long)(left < 20000000u ? left : 20000000u)};
        nanosleep(&sl, NULL);
    }
}

/*
 * Live, after a stop, each frame the kernel had queued already (cap_read_queued): analysed (a
 * SIGINT right after the traffic left them unread: their flows went unreported); the workers
 * do the same for their handles (wk_live_drained).
 */
static void drained(void *ctx, struct cap_frame *f)
{
    on_frame(ctx, f);
}

/* Read every frame; returns EXIT_OK, EXIT_PARTIAL or EXIT_RUNTIME. */
static int read_loop(struct run *r)
{
    struct cap_frame f;
    uint64_t last_periodic = clock_mono_ns(), wall0 = 0, ts0 = 0;
    int status = EXIT_OK;
    while (!g_stop) {
        int rc = cap_next(r->src, &f);
        if (rc == ERR_EOF)
            break;
        if (rc == ERR_FORMAT) {
            log_error("%s", cap_error(r->src));
            r->input_error = true;
            status = EXIT_PARTIAL;
            continue;
        }
        if (rc == 0) {
            if (r->frames == 0) {
                wall0 = clock_mono_ns();
                ts0 = f.ts_ns;
            }
            if (pace(r, f.ts_ns, wall0, ts0))
                break;
            on_frame(r, &f);
        } else if (rc == ERR_AGAIN) {
            wk_tick(r->wk, clock_real_ns());
        } else {
            log_error("%s", cap_error(r->src));
            return EXIT_RUNTIME;
        }
        if (rc == ERR_AGAIN || (r->frames & 255) == 0) {
            uint64_t now = clock_mono_ns();
            uint64_t every = r->tui ? 50000000u : 1000000000u;
            if (now - last_periodic >= every) {
                last_periodic = now;
                if (periodic(r, false))
                    break;
            }
        }
    }
    if (g_stop && r->o->iface)
        r->drain_cut = !cap_read_queued(r->src, drained, r);
    if (g_stop && !r->o->iface && !r->tui)
        log_warn("interrupted after frame %" PRIu64 "; the findings so far are kept", r->frames);
    if (!r->o->iface && r->frames == 0 && status == EXIT_OK && !g_stop) {
        if (!r->o->filter) {
            log_error("%s: no packets in the input (the capture holds only a file header)",
                      r->o->ninputs == 1 ? r->o->inputs[0] : "the capture files");
            return EXIT_RUNTIME;
        }
        log_warn("no packet matched the filter '%s'", r->o->filter);
    }
    return status;
}

/* Live workers: what they read, into the run's counters (for periodic and the summary). */
static void take_live_stats(struct run *r)
{
    struct wk_live_stats ls;
    wk_live_stats(r->wk, &ls);
    r->frames = ls.frames;
    r->bytes = ls.bytes;
    r->dst = ls.dst;
    r->first_ts = ls.first_ts;
    r->last_ts = ls.last_ts;
}

/*
 * Live with workers: each worker reads its own capture handle (README "Workers"); this
 * thread only draws the live view, updates the metrics and waits for a signal or a failed
 * handle. Returns EXIT_OK or EXIT_RUNTIME.
 */
static int live_workers_loop(struct run *r)
{
    uint64_t last_periodic = clock_mono_ns();
    uint64_t every = r->tui ? 50000000u : 1000000000u;
    while (!g_stop) {
        const char *err = wk_live_error(r->wk);
        if (err) {
            log_error("%s", err);
            return EXIT_RUNTIME;
        }
        struct timespec sl = {0, 20000000};
        nanosleep(&sl, NULL);
        uint64_t now = clock_mono_ns();
        if (now - last_periodic < every)
            continue;
        last_periodic = now;
        take_live_stats(r);
        if (periodic(r, false))
            break;
    }
    return EXIT_OK;
}

static void wait_tui_quit(struct run *r)
{
    while (!g_stop) {
        if (periodic(r, true))
            return;
        struct timespec sl = {0, 50000000};
        nanosleep(&sl, NULL);
    }
}

/*
 * Live with workers: with -v the kernel counters of each capture handle (their sums are
 * above), and the packets that reached their worker after its clock had passed them.
 */
static void print_handle_stats(struct run *r)
{
    bool cut = r->drain_cut;
    if (r->live_workers) {
        struct wk_live_stats ls;
        wk_live_stats(r->wk, &ls);
        cut = cut || ls.drain_cut;
        if (ls.late || log_verbose)
            fprintf(stderr,
                    "flowmedic: %" PRIu64 " packets reached their worker after its clock had "
                    "passed them (the per-server detectors saw them that late)\n",
                    ls.late);
    }
    for (unsigned i = 0; log_verbose && i < cap_handles(r->src); i++) { /* the sums: above */
        struct cap_stats hs;
        cap_stats(cap_handle(r->src, i), &hs);
        fprintf(stderr,
                "flowmedic: handle %u (worker %u): %" PRIu64 " frames read, %" PRIu64
                " received by the kernel, %" PRIu64 " dropped by the kernel\n",
                i, i, hs.frames, hs.kernel_recv, hs.kernel_drop);
    }
    if (cut)
        log_warn("after the stop, the frames the kernel had queued were read for %u s and it "
                 "still held more (a flood): those were not analysed (the kernel's received "
                 "count includes them)",
                 (unsigned)(CAP_DRAIN_NS / 1000000000u));
}

static int finish(struct run *r, int status)
{
    struct run_summary sum;
    struct cap_stats cs;
    memset(&sum, 0, sizeof(sum));
    if (r->live_workers) { /* their last frames, before the counters are taken */
        wk_live_stop(r->wk);
        take_live_stats(r);
    }
    cap_stats(r->src, &cs);
    sum.frames = r->frames;
    sum.bytes = r->bytes;
    sum.malformed = r->dst.malformed + r->dst.truncated;
    sum.non_tcp = r->dst.other + r->dst.unsupported;
    sum.fragments = r->dst.fragments;
    sum.kernel_drops = cs.kernel_drop;
    sum.if_drops = cs.if_drop;
    sum.first_ts_ns = r->first_ts;
    sum.last_ts_ns = r->last_ts;
    sum.input_error = r->input_error;
    wk_finish(r->wk, &sum);
    log_flow_memory(r->wk);
    r->out_dropped = output_dropped(r->out);
    output_free(r->out); /* every record delivered; the sinks are the main thread's again */
    r->out = NULL;
    if (r->tui) {
        wait_tui_quit(r);
        cli_sinks_close_one(&r->sinks, &tui_sink_ops);
        r->tui = NULL;
        cli_sinks_close_one(&r->sinks, &summary_sink_ops); /* it waited for the terminal */
    }
    if (r->out_dropped)
        log_warn("%" PRIu64 " output records were dropped (the outputs fell behind the live "
                 "capture)",
                 r->out_dropped);
    if (cs.live) {
        fprintf(stderr,
                "flowmedic: %" PRIu64 " packets received by the kernel, %" PRIu64
                " dropped by the kernel, %" PRIu64 " dropped by the interface\n",
                cs.kernel_recv, cs.kernel_drop, cs.if_drop);
        log_info("%" PRIu64 " frames queued before the filter was set did not match it: "
                 "left out, and not counted above",
                 cs.prefiltered);
        print_handle_stats(r);
    }
    if (wk_count(r->wk) > 1) {
        struct wk_agg_counts ac;
        wk_agg_counts(r->wk, &ac);
        log_info("the aggregator took %" PRIu64 " records: %" PRIu64 " segment records, %" PRIu64
                 " ops of the per-flow halves",
                 ac.records, ac.segments, ac.ops);
    }
    if (r->store) {
        if (cli_sinks_close_one(&r->sinks, &store_sink_ops) != 0)
            status = EXIT_RUNTIME;
        else if (!r->o->json && !log_quiet)
            printf("\nFindings stored in %s (query with: flowmedic report %s)\n", r->db_path,
                   r->db_path);
        r->store = NULL;
    } else if (!r->o->iface && !r->o->json && !r->o->no_db && !log_quiet) {
        printf("\nNothing stored (-w FILE.db keeps every finding for flowmedic report)\n");
    }
    r->metrics = NULL;
    if (cli_sinks_close(&r->sinks) != 0) /* JSON: a failed write to stdout */
        status = EXIT_RUNTIME;
    return status;
}

static void close_run(struct run *r)
{
    output_free(r->out);
    r->out = NULL;
    cli_sinks_close(&r->sinks);
    if (r->wk)
        wk_free(r->wk);
    r->evidence = NULL; /* freed by its sink */
    if (r->src)
        cap_close(r->src);
    r->src = NULL;
}

/*
 * --workers auto (README "Workers"). The issue asks for the online CPUs, at most WK_MAX; the
 * rule kept for now is the online CPUs less one (at most WK_MAX), and 1 with two CPUs or
 * fewer: besides the workers, the aggregator, the output thread and the database writer each
 * need a core (offline also the reader), and bench/README.md measured more threads than cores
 * to be slower on this 2-CPU machine. Change the rule here only.
 */
static unsigned auto_workers(char *why, size_t len)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus <= 2) {
        /* bench/README.md, 40 000 flows, --no-db: 1.59 M packets/s with 1, 878 k with 2 */
        snprintf(why, len,
                 "auto: %ld online CPU%s; with 2 or fewer one thread, as 2 workers measured "
                 "slower than 1 on 2 CPUs, bench/README.md",
                 cpus, cpus == 1 ? "" : "s");
        return 1;
    }
    unsigned n = cpus - 1 > WK_MAX ? WK_MAX : (unsigned)(cpus - 1);
    snprintf(why, len,
             "auto: %ld online CPUs less one for the aggregator, output and database threads, "
             "at most %u",
             cpus, (unsigned)WK_MAX);
    return n;
}

/* How many analysis threads: --workers (or the configuration's workers key), or auto; why. */
static unsigned resolve_workers(const struct run *r, char *why, size_t len)
{
    const struct opts *o = r->o;
    if (o->workers) {
        snprintf(why, len, "%s",
                 o->workers_given ? "--workers" : "the configuration's workers key");
        return o->workers;
    }
    return auto_workers(why, len);
}

static int open_source(struct run *r)
{
    char err[512];
    struct opts *o = r->o;
    if (o->iface) {
        o->live.iface = o->iface;
        o->live.fanout = (int)r->nworkers; /* > 1: one capture handle per worker */
        r->src = cap_open_live(&o->live, o->filter, err, sizeof(err));
    } else {
        r->src = cap_open_files(o->inputs, o->ninputs, o->filter, err, sizeof(err));
    }
    if (!r->src) {
        log_error("%s", err);
        return -1;
    }
    unsigned nh = cap_handles(r->src);
    if (o->iface) /* from here on the kernel queues what the interface sees (tests wait for it) */
        log_info("listening on %s, %u capture handle%s", o->iface, nh ? nh : 1, nh > 1 ? "s" : "");
    return 0;
}

/*
 * Start-up is over (capture, sinks, threads, key log open): install the seccomp filter.
 * With --sandbox a build or kernel without seccomp is an error; with -Z alone a warning.
 */
static int enter_sandbox(const struct opts *o)
{
    if (!sandbox_available()) {
        if (o->sandbox == SANDBOX_ON) {
            log_error("--sandbox: this flowmedic was built without libseccomp");
            return -1;
        }
        log_warn("-Z: no seccomp sandbox (built without libseccomp); no_new_privs is set");
        return 0;
    }
    if (sandbox_enter() != 0)
        return o->sandbox == SANDBOX_ON ? -1 : 0;
    return 0;
}

static int run(struct opts *o)
{
    struct run *r = calloc(1, sizeof(*r));
    int status = EXIT_RUNTIME;
    if (!r) {
        log_error("out of memory");
        return EXIT_RUNTIME;
    }
    r->o = o;
    char why[200];
    r->nworkers = resolve_workers(r, why, sizeof(why));
    log_info("%u analysis worker%s (%s)", r->nworkers, r->nworkers == 1 ? "" : "s", why);
    if (open_source(r) != 0)
        goto out;
    if (o->user && drop_privileges(o->user) != 0)
        goto out;
    bool confine = o->sandbox == SANDBOX_ON || (o->sandbox == SANDBOX_AUTO && o->user);
    if (confine && sandbox_no_new_privs() != 0) /* before any thread starts: all inherit it */
        goto out;
    /* The sinks' threads (output, database writer, metrics) inherit a mask without
       SIGINT/SIGTERM. */
    sigset_t stop_sigs, old_mask;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_mask);
    int sinks_rc = open_sinks(r);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (sinks_rc != 0)
        goto out;
    stream_set_budget(o->stream_budget);
    r->live_workers = o->iface && r->nworkers > 1;
    struct wk_opts wo = {.evidence = r->evidence, .flow_view = r->tui != NULL};
    if (r->live_workers) {
        /* a packet reaches its worker at most a read timeout (TPACKET_V3 block) after its
           stamp; 20 ms more for the worker's own delays */
        uint64_t timeout_ms = o->live.timeout_ms > 0 ? (uint64_t)o->live.timeout_ms : 100;
        wo.src = r->src;
        wo.lateness_ns = (timeout_ms + 20) * 1000000u;
        wo.wall_ns = clock_real_ns;
    }
    r->wk = wk_new_opts(&o->eng, r->nworkers, &output_sink_ops, r->out, &wo);
    if (!r->wk) {
        log_error("cannot set up the analysis: not enough memory for the flow table of %zu "
                  "flows (--max-flows) and the parsers' tables",
                  o->eng.max_flows);
        goto out;
    }
    if (confine && enter_sandbox(o) != 0)
        goto out;
    if (o->sandbox_selftest) {
        status = sandbox_selftest(o->sandbox_selftest) == 0 ? EXIT_OK : EXIT_RUNTIME;
        goto out;
    }
    status = r->live_workers ? live_workers_loop(r) : read_loop(r);
    if (status == EXIT_RUNTIME)
        goto out;
    status = finish(r, status);
out:
    close_run(r);
    free(r);
    return status;
}

int main(int argc, char **argv)
{
    static struct opts o;
    struct sigaction sa;

    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return cli_report_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "extract") == 0)
        return cli_extract_main(argc - 1, argv + 1);

    int rc = parse_args(&o, argc, argv);
    if (rc != 0) {
        free(o.filter);
        webconfig_free(&o.web);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = run(&o);
    webconfig_free(&o.web);
    free(o.filter);
    return rc;
}
