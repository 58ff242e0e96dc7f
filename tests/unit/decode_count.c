/*
 * decode_count.c - read capture files through capture/source.c, decode every frame and print
 * the decode counters on one line (used by tests/decode_corpus.sh to compare with tshark).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture/decode.h"
#include "capture/source.h"

int main(int argc, char **argv)
{
    char err[512];
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    struct cap_source *s =
        cap_open_files((const char *const *)(argv + 1), (size_t)(argc - 1), NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct cap_frame f;
    struct pkt p;
    struct decode_stats st = {0};
    uint64_t n = 0;
    int rc, status = 0;
    while ((rc = cap_next(s, &f)) != ERR_EOF) {
        if (rc != 0) {
            fprintf(stderr, "%s\n", cap_error(s));
            status = 3;
            if (rc != ERR_FORMAT)
                break;
            continue;
        }
        (void)pkt_decode(f.linktype, f.data, f.caplen, f.wirelen, f.ts_ns, ++n, &p, &st);
    }
    printf("frames=%" PRIu64 " tcp=%" PRIu64 " other=%" PRIu64 " fragments=%" PRIu64
           " malformed=%" PRIu64 " truncated=%" PRIu64 " unsupported=%" PRIu64 " vlan=%" PRIu64
           "\n",
           st.frames, st.tcp, st.other, st.fragments, st.malformed, st.truncated, st.unsupported,
           st.vlan);
    cap_close(s);
    return status;
}
