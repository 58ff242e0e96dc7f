#!/usr/bin/env python3
"""mkbig.py OUT.pcap [FLOWS] - build a large benchmark capture from the bundled samples.

Each TCP flow of the Ethernet samples is copied many times with a different client address
(10.200.x.y), and the copies are interleaved in time, so the file has the shape of busy
server traffic: ~1.5 M packets over ~40 k flows by default. Only the IPv4 client address
bytes are rewritten (checksums are not verified by the tools compared).
"""
import glob
import os
import struct
import sys


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


def main():
    out = sys.argv[1]
    want_flows = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    flows = []  # list of (packets [(rel_ns, orig, body)], client_ip_bytes)
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
            flows.append(([(ns - t0, o, bd) for ns, o, bd in pk], syn_src))
    if not flows:
        sys.exit("no Ethernet IPv4 samples found in samples/")
    total_pk = 0
    events = []
    for i in range(want_flows):
        pk, cli = flows[i % len(flows)]
        new = bytes([10, 200, (i >> 8) & 255, i & 255])
        start = i * 2_000_000  # a new flow every 2 ms
        for rel, orig, body in pk:
            b = bytearray(body)
            if b[26:30] == cli:
                b[26:30] = new
            elif b[30:34] == cli:
                b[30:34] = new
            events.append((start + min(rel, 30 * 10**9), orig, bytes(b)))
        total_pk += len(pk)
    events.sort(key=lambda e: e[0])
    base = 1_700_000_000 * 10**9
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
        for ns, orig, body in events:
            t = base + ns
            f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(body), orig))
            f.write(body)
    print(f"{out}: {len(events)} packets, {want_flows} flows")


if __name__ == "__main__":
    main()
