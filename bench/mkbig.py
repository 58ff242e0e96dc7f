#!/usr/bin/env python3
"""mkbig.py [--packets N] OUT.pcap [FLOWS [PER_SERVER]] - a large capture from the samples.

Each TCP flow of the Ethernet samples is copied many times with a different client address
(10.200.x.y), a new flow every 2 ms, and the copies are interleaved in time, so the file has
the shape of busy server traffic. Only the IPv4 client address bytes are rewritten (checksums
are not verified by the tools compared).

By default flow i is the samples' flow i modulo their number: about 10.8 packets a flow
(40 000 flows: 430 k packets, 94 MB with today's samples).

--packets N gives the file about N packets for the same number of flows with longer
transfers: a share of the flows (spread evenly) are the samples' bulk transfers (flows of at
least BULK_MIN_PACKETS packets averaging at least BULK_MIN_BYTES bytes a frame, each copied
whole: handshake, losses and all), the rest as by default. `--packets 1480000 OUT 40000` is
the shape of the capture issue 12 measured its targets on (40 000 flows, 1.48 M packets,
1.29 GB, made from older samples): 1.48 M packets and about 1.2 GB from today's.

With PER_SERVER, the server address is rewritten too (10.201.x.y), one server per PER_SERVER
consecutive flows: many servers (tests/workers.py fills server health's table with them).
"""
import glob
import heapq
import os
import struct
import sys

BULK_MIN_PACKETS = 40
BULK_MIN_BYTES = 900  # captured bytes a frame, pcap record header included


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        return None, []
    linktype = struct.unpack_from("<I", data, 20)[0]
    off, recs = 24, []
    nano = magic == 0xa1b23c4d
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, off)
        body = data[off + 16: off + 16 + incl]
        if len(body) < incl:
            break
        ns = sec * 10**9 + (frac if nano else frac * 1000)
        recs.append((ns, orig, body))
        off += 16 + incl
    return linktype, recs


def sample_flows(top):
    """Every TCP flow of the Ethernet IPv4 samples: (packets [(rel_ns, orig, body)], client)."""
    flows = []
    for path in sorted(glob.glob(os.path.join(top, "samples", "*.pcap"))):
        if "truncated" in path or "snaplen" in path or "ipv6" in path:
            continue
        lt, recs = read_pcap(path)
        if lt != 1 or not recs:
            continue
        by = {}
        for ns, orig, body in recs:
            if len(body) < 38 or body[12:14] != b"\x08\x00" or body[23] != 6:
                continue
            a, b = body[26:30], body[30:34]
            sp, dp = body[34:36], body[36:38]
            key = tuple(sorted([(a, sp), (b, dp)]))
            by.setdefault(key, []).append((ns, orig, body))
        for key, pk in by.items():
            t0 = pk[0][0]
            syn_src = pk[0][2][26:30]
            pk = sorted(((ns - t0, o, bd) for ns, o, bd in pk), key=lambda e: e[0])
            flows.append((pk, syn_src))
    return flows


def plan(flows, want_flows, want_packets):
    """The sample flow of each new flow: flow i modulo, or with bulk transfers spread in."""
    if not want_packets:
        return [flows[i % len(flows)] for i in range(want_flows)]
    bulk = [f for f in flows if len(f[0]) >= BULK_MIN_PACKETS and
            sum(len(b) + 16 for _, _, b in f[0]) >= BULK_MIN_BYTES * len(f[0])]
    if not bulk:
        sys.exit("no bulk transfer among the samples")
    small = sum(len(f[0]) for f in flows) / len(flows)
    big = sum(len(f[0]) for f in bulk) / len(bulk)
    share = (want_packets / want_flows - small) / (big - small)
    if not 0 <= share <= 1:
        sys.exit(f"{want_packets} packets cannot be made of {want_flows} flows of the samples")
    out, nbulk = [], 0
    for i in range(want_flows):
        if int((i + 1) * share) > nbulk:  # spread evenly: a bulk flow each 1/share flows
            out.append(bulk[nbulk % len(bulk)])
            nbulk += 1
        else:
            out.append(flows[(i - nbulk) % len(flows)])
    return out


def copy(i, pk, cli, per_server):
    """New flow i: the records of sample flow pk in time order, with its own client address
    (and server address i // per_server, if per_server)."""
    new = bytes([10, 200, (i >> 8) & 255, i & 255])
    j = i // per_server if per_server else 0
    srv = bytes([10, 201, (j >> 8) & 255, j & 255]) if per_server else None
    start = i * 2_000_000  # a new flow every 2 ms
    for rel, orig, body in pk:
        b = bytearray(body)
        if b[26:30] == cli:
            b[26:30] = new
            b[30:34] = srv or b[30:34]
        elif b[30:34] == cli:
            b[30:34] = new
            b[26:30] = srv or b[26:30]
        yield start + min(rel, 30 * 10**9), orig, bytes(b)


def main():
    args = sys.argv[1:]
    want_packets = 0
    if len(args) >= 2 and args[0] == "--packets":
        want_packets = int(args[1])
        args = args[2:]
    if not args or len(args) > 3:
        sys.exit("usage: mkbig.py [--packets N] OUT.pcap [FLOWS [PER_SERVER]]")
    out = args[0]
    want_flows = int(args[1]) if len(args) > 1 else 40000
    per_server = int(args[2]) if len(args) > 2 else 0
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    flows = sample_flows(top)
    if not flows:
        sys.exit("no Ethernet IPv4 samples found in samples/")
    # Merged by time, ties in flow order: the order a stable sort of all records gives.
    chosen = plan(flows, want_flows, want_packets)
    events = heapq.merge(*(copy(i, pk, cli, per_server) for i, (pk, cli) in enumerate(chosen)),
                         key=lambda e: e[0])
    base = 1_700_000_000 * 10**9
    n = size = 0
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
        for ns, orig, body in events:
            t = base + ns
            f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(body), orig))
            f.write(body)
            n += 1
            size += 16 + len(body)
    print(f"{out}: {n} packets, {want_flows} flows, {size + 24} bytes")


if __name__ == "__main__":
    main()
