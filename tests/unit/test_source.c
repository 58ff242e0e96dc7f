/* test_source.c - unit tests for capture/source.c: files in order, damage, messages, filter. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/source.h"
#include "tests/unit/testhelp.h"

static char tmpdir[64]; /* scratch directory for the capture files written here */

/*
 * One IPv4/TCP SYN frame without a link header (LINKTYPE_RAW):
 * 10.0.0.1:1234 -> 10.0.0.2:443 (sport selectable in byte 21), 40 bytes.
 */
static const uint8_t syn[] = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Little-endian stores for the pcap headers written below. */
static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/*
 * Write a classic pcap file: magic (us or ns), version 2.4, snaplen 65535, the link type,
 * then nframes copies of syn with source ports 1001, 1002, ... and times 100 s + i us/ns.
 * cut bytes are removed from the end. The file goes to tmpdir/name; returns path.
 */
static const char *write_pcap(const char *name, bool nano, uint32_t linktype, int nframes,
                              size_t cut, char *path, size_t plen)
{
    uint8_t buf[4096];
    size_t n = 0;
    le32(buf, nano ? 0xa1b23c4d : 0xa1b2c3d4);
    buf[4] = 2; /* version 2.4, little-endian 16-bit fields */
    buf[5] = 0;
    buf[6] = 4;
    buf[7] = 0;
    le32(buf + 8, 0);
    le32(buf + 12, 0);
    le32(buf + 16, 65535);
    le32(buf + 20, linktype);
    n = 24;
    for (int i = 0; i < nframes; i++) {
        le32(buf + n, 100);
        le32(buf + n + 4, (uint32_t)(i + 1));
        le32(buf + n + 8, sizeof syn);
        le32(buf + n + 12, sizeof syn);
        memcpy(buf + n + 16, syn, sizeof syn);
        uint16_t port = (uint16_t)(1001 + i);
        buf[n + 16 + 20] = (uint8_t)(port >> 8);
        buf[n + 16 + 21] = (uint8_t)port;
        n += 16 + sizeof syn;
    }
    n = cut < n ? n - cut : 0;
    snprintf(path, plen, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        if (n)
            fwrite(buf, 1, n, f);
        fclose(f);
    }
    return path;
}

/* Source port of a delivered raw frame. */
static unsigned sport(const struct cap_frame *f)
{
    if (f->caplen < 22)
        return 0;
    return (unsigned)(f->data[20] << 8 | f->data[21]);
}

static void test_files_in_order(void)
{
    char a[128], b[128], c[128], err[512];
    const char *paths[] = {write_pcap("a.pcap", false, 101, 3, 0, a, sizeof a),
                           write_pcap("cut.pcap", false, 101, 3, 5, b, sizeof b),
                           write_pcap("c.pcap", true, 101, 2, 0, c, sizeof c)};
    struct cap_source *s = cap_open_files(paths, 3, NULL, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    struct cap_frame f;
    CHECK(strcmp(cap_name(s), a) == 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ_U64(cap_next(s, &f), 0);
        CHECK_EQ_U64(sport(&f), 1001 + i);
        CHECK_EQ_U64(f.linktype, 12); /* LINKTYPE_RAW is delivered as DLT_RAW */
        CHECK_EQ_U64(f.caplen, 40);
        CHECK_EQ_U64(f.wirelen, 40);
        CHECK_EQ_U64(f.ts_ns, 100000000000ull + (i + 1) * 1000ull); /* microseconds file */
        CHECK_EQ_U64(f.number, i + 1);
    }
    /* cut.pcap: two whole frames, then a short last record. */
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK(strcmp(cap_name(s), b) == 0);
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK_EQ_U64(sport(&f), 1002);
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_FORMAT);
    CHECK(strstr(cap_error(s), "cut.pcap: capture ends early after frame 2") != NULL);
    CHECK(strstr(cap_error(s), "truncated") != NULL);
    /* The next call goes on with c.pcap (nanosecond timestamps). */
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK(strcmp(cap_name(s), c) == 0);
    CHECK_EQ_U64(f.ts_ns, 100000000001ull);
    CHECK_EQ_U64(f.number, 6); /* numbering goes on across files, after the 2 whole frames */
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK_EQ_U64(f.ts_ns, 100000000002ull);
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
    struct cap_stats st;
    cap_stats(s, &st);
    CHECK_EQ_U64(st.frames, 7);
    CHECK(!st.live);
    CHECK_EQ_U64(st.kernel_drop, 0);
    cap_close(s);
}

static void test_filter(void)
{
    char a[128], h[128], err[512];
    const char *paths[] = {write_pcap("f.pcap", false, 101, 5, 0, a, sizeof a),
                           write_pcap("f2.pcap", false, 101, 5, 0, h, sizeof h)};
    struct cap_source *s = cap_open_files(paths, 2, "tcp src port 1003", err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct cap_frame f;
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK_EQ_U64(sport(&f), 1003);
    CHECK_EQ_U64(f.number, 3); /* the file's own frame number: frames 1, 2 missed the filter */
    CHECK_EQ_U64(cap_next(s, &f), 0); /* the same frame in the second file */
    CHECK_EQ_U64(sport(&f), 1003);
    CHECK_EQ_U64(f.number, 8); /* 5 frames of f.pcap, then the third of f2.pcap */
    CHECK(strcmp(cap_name(s), h) == 0);
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
    cap_close(s);

    /* A filter that matches nothing is not an error. */
    s = cap_open_files(paths, 1, "udp", err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
        cap_close(s);
    }

    s = cap_open_files(paths, 1, "tcp port and", err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, "invalid filter expression 'tcp port and'") != NULL);
}

/* Open must fail with a message containing want. */
static void open_fails(const char *path, const char *want)
{
    char err[512] = "";
    const char *paths[] = {path};
    struct cap_source *s = cap_open_files(paths, 1, NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, want) != NULL);
    if (!strstr(err, want))
        fprintf(stderr, "  got \"%s\", wanted \"%s\"\n", err, want);
    cap_close(s);
}

static void test_bad_files(void)
{
    char p[128], q[128], err[512];
    snprintf(p, sizeof p, "%s/nosuch.pcap", tmpdir);
    open_fails(p, "nosuch.pcap: cannot open: No such file or directory");
    open_fails(write_pcap("empty.pcap", false, 1, 0, 24, p, sizeof p), "empty.pcap: is empty");
    open_fails(write_pcap("short.pcap", false, 1, 0, 10, p, sizeof p),
               "short.pcap: capture file header is truncated");
    open_fails(write_pcap("user0.pcap", false, 147, 1, 0, p, sizeof p),
               "user0.pcap: unsupported link type 147");
    open_fails(write_pcap("radio.pcap", false, 127, 1, 0, p, sizeof p),
               "radio.pcap: unsupported link type IEEE802_11_RADIO (127)");
    open_fails(tmpdir, "is a directory");

    snprintf(p, sizeof p, "%s/text.pcap", tmpdir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("this is not a capture file at all\n", f);
        fclose(f);
    }
    open_fails(p, "text.pcap: not a capture file");

    snprintf(p, sizeof p, "%s/v1.pcap", tmpdir);
    write_pcap("v1.pcap", false, 1, 1, 0, p, sizeof p);
    f = fopen(p, "r+b");
    if (f) {
        fseek(f, 4, SEEK_SET);
        fputc(1, f); /* major version 1 */
        fclose(f);
    }
    open_fails(p, "v1.pcap: unsupported capture file version");

    snprintf(p, sizeof p, "%s/gz.pcap.gz", tmpdir);
    f = fopen(p, "wb");
    if (f) {
        /* gzip magic 1f 8b, deflate (8), then zero bytes: enough for libpcap's header read */
        static const uint8_t gz[40] = {0x1f, 0x8b, 0x08};
        fwrite(gz, 1, sizeof gz, f);
        fclose(f);
    }
    open_fails(p, "is gzip-compressed");

    /* A bad file later in the list stops the open too. */
    const char *two[] = {write_pcap("ok.pcap", false, 101, 1, 0, q, sizeof q), p};
    struct cap_source *s = cap_open_files(two, 2, NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, "gz.pcap.gz") != NULL);
    cap_close(s);

    const char *stdin2[] = {"-", "-"};
    s = cap_open_files(stdin2, 2, NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strstr(err, "stdin") != NULL);
    s = cap_open_files(stdin2, 0, NULL, err, sizeof err);
    CHECK(s == NULL);
}

static void test_header_only(void)
{
    char a[128], b[128], err[512];
    const char *paths[] = {write_pcap("hdr.pcap", false, 1, 0, 0, a, sizeof a),
                           write_pcap("after.pcap", false, 101, 1, 0, b, sizeof b)};
    struct cap_source *s = cap_open_files(paths, 2, NULL, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    struct cap_frame f;
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_FORMAT);
    CHECK(strstr(cap_error(s), "hdr.pcap: contains no packets") != NULL);
    CHECK_EQ_U64(cap_next(s, &f), 0);
    CHECK_EQ_U64(sport(&f), 1001);
    CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
    cap_close(s);
}

static void test_break_and_live(void)
{
    char a[128], err[512];
    const char *paths[] = {write_pcap("brk.pcap", false, 101, 3, 0, a, sizeof a)};
    struct cap_source *s = cap_open_files(paths, 1, NULL, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        struct cap_frame f;
        CHECK_EQ_U64(cap_next(s, &f), 0);
        cap_break(s);
        CHECK_EQ_U64((uint64_t)(int64_t)cap_next(s, &f), (uint64_t)(int64_t)ERR_EOF);
        cap_close(s);
    }

    struct cap_live_opts o = {"fmnosuch0", 0, true, 0, false, 0, 0};
    s = cap_open_live(&o, NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK(strcmp(err, "fmnosuch0: no such interface") == 0);
    CHECK(strcmp(cap_linktype_name(1), "EN10MB") == 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fm-test-source-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_files_in_order);
    TEST_RUN(test_filter);
    TEST_RUN(test_bad_files);
    TEST_RUN(test_header_only);
    TEST_RUN(test_break_and_live);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT();
}
