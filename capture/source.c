/*
 * source.c - frames from libpcap: capture files (pcap and pcapng, several in order, "-" for
 * stdin) at nanosecond precision, or a live interface; BPF filter, drop counters, one-line
 * error messages that name the file or interface and the problem.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "capture/source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdio_ext.h> /* __fsetlocking */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/clock.h"
#include "capture/decode.h"
#include "capture/fanout.h"
#include "capture/log.h"

#define CAP_DEFAULT_SNAPLEN 262144 /* as tcpdump: enough for any frame incl. TSO/GRO */
#define CAP_DEFAULT_TIMEOUT_MS 100
#define CAP_ERRLEN 512
#define CAP_FILE_BUFFER (1u << 16) /* stdio buffer of an offline file: 64 KiB reads, not 4 KiB */

/* A capture source: the open pcap handle plus what is needed to go on to the next file. */
struct cap_source {
    pcap_t *pc;                 /* current handle; NULL between files and after the last */
    bool live;                  /* a live interface (else files) */
    bool nano;                  /* handle delivers ns in tv_usec (else us) */
    volatile sig_atomic_t stop; /* cap_break was called */
    char **paths;               /* input paths (copies), npaths of them */
    size_t npaths;              /* number of input paths */
    size_t cur;                 /* index of the current (or next to open) path */
    char *filter;               /* BPF expression (copy) or NULL */
    char *iface;                /* interface name (copy) for live */
    int fd;                     /* live: selectable fd polled for the read timeout, or -1 */
    int timeout_ms;             /* live: how long one cap_next waits before ERR_AGAIN */
    uint64_t frames;            /* frames delivered, all inputs */
    uint64_t numbered;          /* frames read, all inputs, before the filter (frame numbers) */
    uint64_t file_frames;       /* frames read from the current file (before the filter) */
    struct bpf_program prog;    /* files: the filter compiled for the current file */
    bool has_prog;              /* prog holds a compiled filter to free */
    int linktype;               /* DLT of the current handle */
    struct cap_fanout *fan;     /* live on several handles read apart (fanout.h), or NULL */
    /* Live: what came before the filter (live_settle). */
    uint64_t settle_ns;         /* frames stamped up to then may predate the filter; 0: none */
    uint64_t early;             /* such frames that match the filter (counted in base_recv) */
    uint64_t prefiltered;       /* such frames that do not: left out */
    uint64_t base_recv;         /* pcap_stats when the filter was in place: what the kernel */
    uint64_t base_drop;         /* counted before is not ours */
    uint64_t base_ifdrop;
    char *iobuf;                /* files: CAP_FILE_BUFFER bytes of stdio buffer, or NULL */
    char err[CAP_ERRLEN];       /* last error text */
};

/* ---- helpers ---- */

static const char *path_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "stdin" : path;
}

const char *cap_linktype_name(int linktype)
{
    const char *n = pcap_datalink_val_to_name(linktype);
    return n ? n : "unknown";
}

/* A printable list of the link types decode knows, for the unsupported-link-type message. */
static const char known_links[] = "EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP";

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* True when s contains needle. */
static bool has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

/* Check that a regular file is there and not empty, before libpcap sees it. */
static int precheck_file(const char *path, char *errbuf, size_t errlen)
{
    struct stat sb;
    if (strcmp(path, "-") == 0)
        return 0;
    if (stat(path, &sb) != 0) {
        snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
        return errno == EACCES ? ERR_PERM : ERR_IO;
    }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(errbuf, errlen, "%s: is a directory, not a capture file", path);
        return ERR_IO;
    }
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
        snprintf(errbuf, errlen, "%s: is empty (0 bytes), not a capture file", path);
        return ERR_FORMAT;
    }
    return 0;
}

/* Is this file gzip-compressed? (For a better "not a capture file" message.) */
static bool is_gzip(const char *path)
{
    if (strcmp(path, "-") == 0)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char m[2] = {0, 0};
    size_t n = fread(m, 1, 2, f);
    fclose(f);
    return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* Turn libpcap's open failure text into one clear line naming the file. */
static void explain_open_error(const char *path, const char *perr, char *errbuf, size_t errlen)
{
    const char *name = path_name(path);
    if (has(perr, "unknown file format")) {
        if (is_gzip(path))
            snprintf(errbuf, errlen,
                     "%s: is gzip-compressed, not a capture file: decompress it first "
                     "(zcat %s | flowmedic -r -)",
                     name, name);
        else
            snprintf(errbuf, errlen, "%s: not a capture file (neither pcap nor pcapng)", name);
    } else if (has(perr, "archaic") || has(perr, "unsupported pcap savefile version") ||
               has(perr, "unsupported pcapng") || has(perr, "version")) {
        snprintf(errbuf, errlen, "%s: unsupported capture file version (%s)", name, perr);
    } else if (has(perr, "file header bytes, only got 0")) {
        snprintf(errbuf, errlen, "%s: is empty (0 bytes), not a capture file", name);
    } else if (has(perr, "truncated") && has(perr, "header")) {
        snprintf(errbuf, errlen, "%s: capture file header is truncated (%s)", name, perr);
    } else if (has(perr, name)) {
        snprintf(errbuf, errlen, "%s", perr); /* libpcap already named the file */
    } else {
        snprintf(errbuf, errlen, "%s: cannot read as a capture file: %s", name, perr);
    }
}

/* Compile and install filter on pc; on failure a message naming the expression. */
static int set_filter(pcap_t *pc, const char *filter, bpf_u_int32 netmask, const char *name,
                      char *errbuf, size_t errlen)
{
    struct bpf_program prog;
    if (!filter || !*filter)
        return 0;
    if (pcap_compile(pc, &prog, filter, 1, netmask) != 0) {
        snprintf(errbuf, errlen, "invalid filter expression '%s': %s", filter, pcap_geterr(pc));
        return ERR_ARG;
    }
    int rc = pcap_setfilter(pc, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(errbuf, errlen, "%s: cannot install filter '%s': %s", name, filter,
                 pcap_geterr(pc));
        return ERR_ARG;
    }
    return 0;
}

/* Refuse a link type decode does not know, naming it. */
static int check_linktype(int dlt, const char *name, char *errbuf, size_t errlen)
{
    if (pkt_linktype_supported(dlt))
        return 0;
    const char *ln = pcap_datalink_val_to_name(dlt);
    snprintf(errbuf, errlen, "%s: unsupported link type %s%s%d%s; flowmedic decodes %s", name,
             ln ? ln : "", ln ? " (" : "", dlt, ln ? ")" : "", known_links);
    return ERR_FORMAT;
}

/* Compile filter for pc's link type into prog; on failure a message naming the expression. */
static int compile_filter(pcap_t *pc, const char *filter, struct bpf_program *prog, char *errbuf,
                          size_t errlen)
{
    if (pcap_compile(pc, prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, errlen, "invalid filter expression '%s': %s", filter, pcap_geterr(pc));
        return ERR_ARG;
    }
    return 0;
}

/*
 * Open one capture file and compile the filter for it into prog (if filter and prog are
 * given; with prog NULL the filter is only checked). NULL and a message on failure. Files are
 * filtered with pcap_offline_filter rather than pcap_setfilter so that the source still sees
 * every record and can tell an empty file from one whose frames all missed the filter.
 */
/*
 * Open path for libpcap at nanosecond precision. With iobuf (CAP_FILE_BUFFER bytes, kept until
 * the handle is closed) the file is read through it: libpcap freads each record, and a 4 KiB
 * default buffer made a read(2) every 20 frames of a busy capture. NULL with perr set.
 */
static pcap_t *open_offline(const char *path, char *iobuf, char *perr)
{
    FILE *fp = iobuf && strcmp(path, "-") != 0 ? fopen(path, "rb") : NULL;
    if (!fp) /* stdin, no buffer, or libpcap's own message for the failure */
        return pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    (void)setvbuf(fp, iobuf, _IOFBF, CAP_FILE_BUFFER); /* fails only with a bad mode */
    /* one thread reads it: fread need not lock the FILE for each record (two a frame) */
    (void)__fsetlocking(fp, FSETLOCKING_BYCALLER);
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!pc)
        fclose(fp); /* libpcap leaves it open on failure */
    return pc;
}

static pcap_t *open_file(const char *path, const char *filter, struct bpf_program *prog,
                         bool *has_prog, char *iobuf, char *errbuf, size_t errlen)
{
    struct bpf_program tmp;
    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    if (precheck_file(path, errbuf, errlen) != 0)
        return NULL;
    pcap_t *pc = open_offline(path, iobuf, perr);
    if (!pc) {
        explain_open_error(path, perr, errbuf, errlen);
        return NULL;
    }
    if (check_linktype(pcap_datalink(pc), path_name(path), errbuf, errlen) != 0)
        goto fail_close;
    if (filter && *filter) {
        if (compile_filter(pc, filter, prog ? prog : &tmp, errbuf, errlen) != 0)
            goto fail_close;
        if (prog)
            *has_prog = true;
        else
            pcap_freecode(&tmp);
    }
    return pc;

fail_close:
    pcap_close(pc);
    return NULL;
}

/* Make s->pc the handle of s->paths[s->cur]; 0 or ERR_FORMAT with s->err set. */
static int open_current(struct cap_source *s)
{
    s->pc = open_file(s->paths[s->cur], s->filter, &s->prog, &s->has_prog, s->iobuf, s->err,
                      sizeof s->err);
    if (!s->pc)
        return ERR_FORMAT;
    s->linktype = pcap_datalink(s->pc);
    s->nano = pcap_get_tstamp_precision(s->pc) == PCAP_TSTAMP_PRECISION_NANO;
    s->file_frames = 0;
    return 0;
}

static struct cap_source *new_source(void)
{
    struct cap_source *s = calloc(1, sizeof *s);
    if (s)
        s->fd = -1;
    return s;
}

/* ---- public API ---- */

struct cap_source *cap_open_files(const char *const *paths, size_t npaths, const char *filter,
                                  char *errbuf, size_t errlen)
{
    size_t nstdin = 0;
    if (npaths == 0 || !paths) {
        snprintf(errbuf, errlen, "no capture files given");
        return NULL;
    }
    for (size_t i = 0; i < npaths; i++)
        nstdin += strcmp(paths[i], "-") == 0;
    if (nstdin > 1) {
        snprintf(errbuf, errlen, "stdin (-) can be read only once");
        return NULL;
    }

    struct cap_source *s = new_source();
    if (!s)
        goto fail_nomem;
    s->paths = calloc(npaths, sizeof *s->paths);
    if (!s->paths)
        goto fail_nomem;
    s->npaths = npaths;
    for (size_t i = 0; i < npaths; i++)
        if (!(s->paths[i] = dup_str(paths[i])))
            goto fail_nomem;
    if (filter && !(s->filter = dup_str(filter)))
        goto fail_nomem;
    s->iobuf = malloc(CAP_FILE_BUFFER); /* without it, libpcap's default buffering */

    if (open_current(s) != 0) {
        snprintf(errbuf, errlen, "%s", s->err);
        goto fail;
    }
    /* Check the later files now (opened and closed), so a bad one stops the run early. */
    for (size_t i = 1; i < npaths; i++) {
        if (strcmp(paths[i], "-") == 0)
            continue;
        pcap_t *pc = open_file(paths[i], filter, NULL, NULL, NULL, errbuf, errlen);
        if (!pc)
            goto fail;
        pcap_close(pc);
    }
    s->err[0] = '\0';
    return s;

fail_nomem:
    snprintf(errbuf, errlen, "out of memory opening capture files");
fail:
    cap_close(s);
    return NULL;
}

/* Translate a pcap_activate() result into a message; returns an enum err, or 0 for warnings. */
static int explain_activate(pcap_t *pc, int rc, const char *iface, char *errbuf, size_t errlen)
{
    switch (rc) {
    case 0:
        return 0;
    case PCAP_WARNING_PROMISC_NOTSUP:
        log_warn("%s: promiscuous mode not supported: %s", iface, pcap_geterr(pc));
        return 0;
    case PCAP_WARNING_TSTAMP_TYPE_NOTSUP:
        log_warn("%s: time stamp type not supported", iface);
        return 0;
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(errbuf, errlen, "%s: no such interface", iface);
        return ERR_ARG;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(errbuf, errlen,
                 "%s: permission denied: capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN "
                 "(setcap cap_net_raw,cap_net_admin=eip flowmedic)",
                 iface);
        return ERR_PERM;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(errbuf, errlen,
                 "%s: permission denied for promiscuous mode (try -p to capture without it)",
                 iface);
        return ERR_PERM;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(errbuf, errlen, "%s: interface is not up", iface);
        return ERR_IO;
    default:
        if (rc > 0) {
            log_warn("%s: %s", iface, pcap_geterr(pc));
            return 0;
        }
        snprintf(errbuf, errlen, "%s: cannot capture: %s", iface,
                 rc == PCAP_ERROR ? pcap_geterr(pc) : pcap_statustostr(rc));
        return ERR_IO;
    }
}

/*
 * Live: from now on the kernel filters for this handle. libpcap activates the handle before
 * the filter is set, and frames that came in between were queued without a filter and counted
 * by the kernel (ps_recv); pcap_setfilter filters in userland the ring blocks filled by then,
 * but not a block still being filled, nor the counters (tcpdump's "received by filter" counts
 * them too). So: take the counters now as the zero (cap_stats subtracts them), and check the
 * frames stamped up to now against the filter here (s->prog, compiled for the link type
 * alone, as the frames come from the ring with their VLAN tags put back): those that do not
 * match are left out, those that match are counted back (they were in the zero). A frame
 * that came in before the filter was set was stamped before now (the kernel stamps a frame
 * when it queues it, or earlier, on the same real-time clock); the first frame stamped later
 * ends the checks. Called after pcap_setfilter, and by fanout.c once the group is complete.
 */
/* The zero of s's counters: what pcap_stats says now (kept as it was if that fails). */
static void live_zero(struct cap_source *s)
{
    struct pcap_stat ps;
    memset(&ps, 0, sizeof(ps));
    if (pcap_stats(s->pc, &ps) != 0)
        return;
    s->base_recv = ps.ps_recv;
    s->base_drop = ps.ps_drop;
    s->base_ifdrop = ps.ps_ifdrop;
}

static void live_settle(struct cap_source *s)
{
    struct timespec now;
    if (!s->pc)
        return;
    live_zero(s);
    s->early = 0;
    clock_gettime(CLOCK_REALTIME, &now);
    s->settle_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Live: s->prog, the filter for frames as delivered (link type and snaplen of the handle). */
static int live_prog(struct cap_source *s, const char *filter, bpf_u_int32 netmask, char *errbuf,
                     size_t errlen)
{
    if (!filter || !*filter)
        return 0;
    pcap_t *dead = pcap_open_dead(s->linktype, pcap_snapshot(s->pc));
    if (!dead) {
        snprintf(errbuf, errlen, "out of memory compiling the filter");
        return ERR_NOMEM;
    }
    int rc = 0;
    if (pcap_compile(dead, &s->prog, filter, 1, netmask) != 0) {
        snprintf(errbuf, errlen, "invalid filter expression '%s': %s", filter, pcap_geterr(dead));
        rc = ERR_ARG;
    } else {
        s->has_prog = true;
    }
    pcap_close(dead);
    return rc;
}

struct cap_source *cap_open_live(const struct cap_live_opts *o, const char *filter, char *errbuf,
                                 size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    if (!o || !o->iface || !*o->iface) {
        snprintf(errbuf, errlen, "no interface given");
        return NULL;
    }
    const char *iface = o->iface;
    struct cap_source *s = new_source();
    if (!s || !(s->iface = dup_str(iface)) || (filter && !(s->filter = dup_str(filter)))) {
        snprintf(errbuf, errlen, "out of memory opening %s", iface);
        goto fail;
    }
    s->live = true;
    if (o->fanout > 1) {
        s->fan = fan_open(o, filter, errbuf, errlen);
        if (!s->fan)
            goto fail;
        return s;
    }
    s->pc = pcap_create(iface, perr);
    if (!s->pc) {
        snprintf(errbuf, errlen, "%s: %s", iface, perr);
        goto fail;
    }
    pcap_set_snaplen(s->pc, o->snaplen > 0 ? o->snaplen : CAP_DEFAULT_SNAPLEN);
    pcap_set_promisc(s->pc, o->promisc ? 1 : 0);
    pcap_set_timeout(s->pc, o->timeout_ms > 0 ? o->timeout_ms : CAP_DEFAULT_TIMEOUT_MS);
    if (o->buffer_mib > 0)
        pcap_set_buffer_size(s->pc, o->buffer_mib * 1024 * 1024);
    if (o->immediate)
        pcap_set_immediate_mode(s->pc, 1);
    s->nano = pcap_set_tstamp_precision(s->pc, PCAP_TSTAMP_PRECISION_NANO) == 0;

    int rc = pcap_activate(s->pc);
    if (explain_activate(s->pc, rc, iface, errbuf, errlen) != 0)
        goto fail;
    s->nano = pcap_get_tstamp_precision(s->pc) == PCAP_TSTAMP_PRECISION_NANO;
    s->linktype = pcap_datalink(s->pc);
    if (check_linktype(s->linktype, iface, errbuf, errlen) != 0)
        goto fail;

    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    if (pcap_lookupnet(iface, &net, &mask, perr) != 0)
        mask = PCAP_NETMASK_UNKNOWN;
    if (set_filter(s->pc, filter, mask, iface, errbuf, errlen) != 0 ||
        live_prog(s, filter, mask, errbuf, errlen) != 0)
        goto fail;

    /*
     * On Linux (TPACKET_V3) the read timeout does not fire while no packet arrives, so a
     * blocking read could wait forever on a quiet link: read non-blocking and poll the fd.
     */
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CAP_DEFAULT_TIMEOUT_MS;
    s->fd = pcap_get_selectable_fd(s->pc);
    if (s->fd >= 0 && pcap_setnonblock(s->pc, 1, perr) != 0)
        s->fd = -1; /* fall back to blocking reads with the libpcap timeout */
    if (s->has_prog)
        live_settle(s);
    return s;

fail:
    cap_close(s);
    return NULL;
}

/* Capture time in ns; file timestamps are unsigned 32-bit seconds (pcap spec). */
static uint64_t ts_of(const struct cap_source *s, const struct pcap_pkthdr *h)
{
    uint64_t sec = h->ts.tv_sec < 0 ? (uint64_t)(uint32_t)h->ts.tv_sec : (uint64_t)h->ts.tv_sec;
    uint64_t frac = (uint64_t)(h->ts.tv_usec < 0 ? 0 : h->ts.tv_usec);
    return sec * 1000000000u + (s->nano ? frac : frac * 1000u);
}

/* Offline: close the current file and free its filter. */
static void close_file(struct cap_source *s)
{
    if (s->pc) {
        pcap_close(s->pc);
        s->pc = NULL;
    }
    if (s->has_prog) {
        pcap_freecode(&s->prog);
        s->has_prog = false;
    }
}

/* Offline: move on to the next file; 0, ERR_EOF after the last, ERR_FORMAT if it won't open. */
static int next_file(struct cap_source *s)
{
    close_file(s);
    if (s->cur + 1 >= s->npaths) {
        s->cur = s->npaths;
        return ERR_EOF;
    }
    s->cur++;
    return open_current(s);
}

/* Fill f from a frame that pcap_next_ex returned. */
static void deliver(struct cap_source *s, const struct pcap_pkthdr *h, const u_char *data,
                    struct cap_frame *f)
{
    f->ts_ns = ts_of(s, h);
    f->caplen = h->caplen;
    f->wirelen = h->len;
    f->linktype = s->linktype;
    f->data = data;
    if (s->live)
        s->numbered++; /* the kernel filtered: delivered frames are all we can number */
    f->number = s->numbered;
    s->frames++;
}

/*
 * Live read: one frame, ERR_AGAIN after the timeout, ERR_EOF after cap_break, ERR_IO. With
 * queued (cap_read_queued): only a frame the kernel has queued already, ERR_AGAIN at once when
 * there is none, cap_break or not.
 */
static int next_live(struct cap_source *s, struct cap_frame *f, bool queued)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    for (int tries = 0; tries < 2; tries++) {
        int rc = pcap_next_ex(s->pc, &h, &data);
        if (rc == 1 && s->settle_ns) { /* it may have come before the filter (live_settle) */
            if (ts_of(s, h) > s->settle_ns) {
                s->settle_ns = 0; /* after it, all came through the kernel's filter */
            } else if (s->has_prog && pcap_offline_filter(&s->prog, h, data) == 0) {
                s->prefiltered++;
                tries--; /* not a try: the next frame, or the wait */
                continue;
            } else {
                s->early++;
            }
        }
        if (rc == 1) {
            deliver(s, h, data, f);
            return 0;
        }
        if (queued && rc == PCAP_ERROR_BREAK)
            continue; /* cap_break's, said once: the next call reads what is queued */
        if (queued && rc == 0)
            return ERR_AGAIN;
        if (rc == PCAP_ERROR_BREAK || (s->stop && !queued))
            return ERR_EOF;
        if (rc != 0) {
            snprintf(s->err, sizeof s->err, "%s: capture failed: %s", s->iface, pcap_geterr(s->pc));
            return ERR_IO;
        }
        if (s->fd < 0 || tries > 0)
            return ERR_AGAIN;
        struct pollfd pfd = {s->fd, POLLIN, 0};
        int pr = poll(&pfd, 1, s->timeout_ms);
        if (s->stop)
            return ERR_EOF;
        if (pr <= 0)
            return ERR_AGAIN; /* timeout, or EINTR from a signal */
    }
    return ERR_AGAIN;
}

int cap_next(struct cap_source *s, struct cap_frame *f)
{
    struct pcap_pkthdr *h;
    const u_char *data;

    if (s->stop)
        return ERR_EOF;
    if (s->fan) { /* a group is read per handle (cap_handle), by the workers */
        snprintf(s->err, sizeof s->err, "%s: read the capture handles one by one", s->iface);
        return ERR_IO;
    }
    if (s->live)
        return s->pc ? next_live(s, f, false) : ERR_EOF;
    for (;;) {
        if (!s->pc) {
            if (s->cur >= s->npaths)
                return ERR_EOF;
            int rc = next_file(s); /* the previous file failed or ended */
            if (rc != 0)
                return rc;
        }
        int rc = pcap_next_ex(s->pc, &h, &data);
        if (rc == 1) {
            s->file_frames++;
            s->numbered++; /* numbered before the filter, as in the file (and in Wireshark) */
            if (s->has_prog && pcap_offline_filter(&s->prog, h, data) == 0)
                continue; /* filtered out */
            deliver(s, h, data, f);
            return 0;
        }
        if (rc == PCAP_ERROR_BREAK && s->file_frames == 0) {
            snprintf(s->err, sizeof s->err, "%s: contains no packets (a capture header only)",
                     path_name(s->paths[s->cur]));
            close_file(s); /* the next call goes on with the next file */
            return ERR_FORMAT;
        }
        if (rc == PCAP_ERROR_BREAK) { /* end of this file */
            rc = next_file(s);
            if (rc != 0)
                return rc;
            continue;
        }
        /* An error inside a file: a truncated last record or a corrupt record header. */
        snprintf(s->err, sizeof s->err, "%s: capture ends early after frame %llu: %s",
                 path_name(s->paths[s->cur]), (unsigned long long)s->file_frames,
                 pcap_geterr(s->pc));
        close_file(s); /* the next call goes on with the next file */
        return ERR_FORMAT;
    }
}

bool cap_read_queued(struct cap_source *s, void (*fn)(void *ctx, struct cap_frame *f), void *ctx)
{
    if (!s || !s->live || !s->pc || s->fan || s->fd < 0)
        return true; /* no handle of its own, or a blocking one: nothing to drain */
    uint64_t until = clock_mono_ns() + CAP_DRAIN_NS;
    struct cap_frame f;
    for (unsigned n = 1; next_live(s, &f, true) == 0; n++) {
        fn(ctx, &f);
        if (n % 64 == 0 && clock_mono_ns() >= until)
            return false;
    }
    return true;
}

void cap_break(struct cap_source *s)
{
    if (!s)
        return;
    s->stop = 1;
    if (s->fan)
        fan_break(s->fan);
    if (s->pc && s->live)
        pcap_breakloop(s->pc);
}

const char *cap_error(const struct cap_source *s)
{
    return s ? s->err : "";
}

unsigned cap_handles(const struct cap_source *s)
{
    return s && s->fan ? fan_count(s->fan) : 0;
}

struct cap_source *cap_handle(struct cap_source *s, unsigned i)
{
    return s ? fan_member(s->fan, i) : NULL;
}

int cap_fileno(const struct cap_source *s)
{
    return s && s->live && s->pc ? pcap_fileno(s->pc) : -1;
}

uint64_t cap_drain(struct cap_source *s)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0;
    while (s->pc && s->fd >= 0 && pcap_next_ex(s->pc, &h, &data) == 1)
        n++;
    live_settle(s); /* what the kernel counted so far was dropped here, or by the filter */
    return n;
}

const char *cap_name(const struct cap_source *s)
{
    if (!s)
        return "";
    if (s->live)
        return s->iface;
    size_t i = s->cur < s->npaths ? s->cur : s->npaths - 1;
    return path_name(s->paths[i]);
}

void cap_stats(struct cap_source *s, struct cap_stats *st)
{
    if (s->fan) {
        fan_stats(s->fan, st);
        return;
    }
    memset(st, 0, sizeof *st);
    st->frames = s->frames;
    st->live = s->live;
    st->prefiltered = s->prefiltered;
    if (!s->live || !s->pc)
        return;
    struct pcap_stat ps;
    if (pcap_stats(s->pc, &ps) == 0) { /* from the zero of live_settle (u_int counters) */
        st->kernel_recv = (uint32_t)(ps.ps_recv - (u_int)s->base_recv) + s->early;
        st->kernel_drop = (uint32_t)(ps.ps_drop - (u_int)s->base_drop);
        st->if_drop = (uint32_t)(ps.ps_ifdrop - (u_int)s->base_ifdrop);
    }
}

void cap_close(struct cap_source *s)
{
    if (!s)
        return;
    fan_close(s->fan);
    close_file(s);
    if (s->paths) {
        for (size_t i = 0; i < s->npaths; i++)
            free(s->paths[i]);
        free(s->paths);
    }
    free(s->filter);
    free(s->iface);
    free(s->iobuf); /* after close_file: the last handle's FILE used it */
    free(s);
}
