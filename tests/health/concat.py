#!/usr/bin/env python3
"""tests/health/concat.py - join two classic pcap files (same link type) into one, the second
shifted by whole seconds so that it starts GAP seconds after the first one's last packet.
Prints the shift in seconds. Usage: concat.py OUT FIRST GAP SECOND
"""
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    end = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
           b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
    if not end:
        sys.exit("concat.py: %s is not a classic pcap file" % path)
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        recs.append([sec, frac, incl, orig, data[off + 16:off + 16 + incl]])
        off += 16 + incl
    return data[:24], end, recs


def main():
    out, first, gap, second = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    h1, e1, r1 = read(first)
    h2, e2, r2 = read(second)
    if h1 != h2 or e1 != e2:
        sys.exit("concat.py: the two files differ in format or link type")
    shift = int(r1[-1][0] + gap - r2[0][0]) + 1
    with open(out, "wb") as f:
        f.write(h1)
        for sec, frac, incl, orig, body in r1:
            f.write(struct.pack(e1 + "IIII", sec, frac, incl, orig) + body)
        for sec, frac, incl, orig, body in r2:
            f.write(struct.pack(e1 + "IIII", sec + shift, frac, incl, orig) + body)
    print(shift)


main()
