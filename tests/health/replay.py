#!/usr/bin/env python3
"""tests/health/replay.py - write a pcap to stdout ROUNDS times, each round shifted SHIFT
seconds later in capture time, sleeping PAUSE seconds of wall time between rounds, then keep
stdout open HOLD seconds: a long, slowly fed capture for `flowmedic -r -` so that metrics can be
scraped while the run is in progress. Usage: replay.py PCAP ROUNDS SHIFT PAUSE HOLD
"""
import struct
import sys
import time


def main():
    path, rounds, shift, pause, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        float(sys.argv[4]), float(sys.argv[5])
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit("replay.py: %s is not a classic pcap file" % path)
    out = sys.stdout.buffer
    out.write(data[:24])
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        recs.append((sec, frac, incl, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    for r in range(rounds):
        add = int(round(shift * r))
        for sec, frac, incl, orig, body in recs:
            out.write(struct.pack(end + "IIII", sec + add, frac, incl, orig) + body)
        out.flush()
        time.sleep(pause)
    time.sleep(hold)


main()
