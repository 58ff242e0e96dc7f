#!/usr/bin/env python3
"""workers_gen.py - writes a synthetic capture for tests/health/workers.sh (stdlib only).

Two health ops that no sample nor corpus capture makes, in 15 s (health interval 10 s):
- 10.93.0.1:80 gets an HTTP request at 1 s that is never answered; the connection's last
  segment is a client ACK at 7 s and it ends at the end of input (15 s): its slow response
  is counted at the flow's end (HOP_SLOW with HOPF_ACTIVE), in the interval from 10 s, where
  nothing else marks the server active;
- 10.94.0.1:80 sees a client reset its connection after the SYN-ACK (a reset during the
  handshake: HOPF_FAILED_RESET, failed.reset in its row);
- 10.95.0.1:80 gets a short connection every 0.5 s, so the capture time goes on.
The segments are made by tests/incidents/workers_gen.py's seg and conn.
Usage: workers_gen.py OUT.pcap
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "incidents"))
import workers_gen as g  # noqa: E402


def main():
    c, s = "10.66.9.1", "10.93.0.1"
    g.seg(1.000, c, 40000, s, 80, "S", 100, 0)
    g.seg(1.001, s, 80, c, 40000, "SA", 900, 101)
    g.seg(1.002, c, 40000, s, 80, "A", 101, 901)
    req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    g.seg(1.003, c, 40000, s, 80, "PA", 101, 901, req)
    g.seg(1.004, s, 80, c, 40000, "A", 901, 101 + len(req))
    g.seg(7.000, c, 40000, s, 80, "A", 101 + len(req), 901)
    c, s = "10.66.9.2", "10.94.0.1"
    g.seg(2.000, c, 40001, s, 80, "S", 300, 0)
    g.seg(2.001, s, 80, c, 40001, "SA", 700, 301)
    g.seg(2.002, c, 40001, s, 80, "R", 301, 0)
    for k in range(30):
        g.conn(0.5 + k * 0.5, "10.66.9.3", 41000 + k, "10.95.0.1", 80, isn=5000 + k)
    g.pkts.sort(key=lambda p: p[0])
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # ns timestamps
        for ts, b in g.pkts:
            sec = int(ts)
            ns = int(round((ts - sec) * 1e9))
            f.write(struct.pack("<IIII", sec, ns, len(b), len(b)) + b)


if __name__ == "__main__":
    main()
