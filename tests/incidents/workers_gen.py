#!/usr/bin/env python3
"""workers_gen.py - writes a synthetic capture for tests/incidents/workers.sh (stdlib only).

What the incident layer's cut for --workers (analyzers/incident.c, "Batching") could get
wrong, in one capture of 40 s:
- 700 servers (more than the 512 server slots) each with one short connection (handshake,
  request, response, FIN), so slots are recycled between ticks, by last activity;
- a refusing server 10.88.0.1:8080 (RST to every SYN, 5 clients, 5-20 s): service_down;
- a silent one 10.89.0.1:9000 (lone SYNs never answered nor retried, ending at the end of
  input): host_unreachable counts them at flow end, by the clock;
- a server 10.90.0.1:80 that retransmits lost data on 6 connections (network_loss), one whose
  client stops reading (a zero window held 12 s: receiver_stall), and resets with a TTL the
  endpoint never uses (forged_resets).
Usage: workers_gen.py OUT.pcap
"""
import struct
import sys

T0 = 1700000000.0
pkts = []  # (time, bytes)
ipid = [0]


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FL = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}


def seg(t, src, sport, dst, dport, flags, seq, ack, data=b"", win=64240, ttl=64):
    ipid[0] = (ipid[0] + 1) & 0xFFFF
    fl = sum(FL[c] for c in flags)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, fl,
                      win, 0, 0) + data
    ph = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ipid[0], 0x4000, ttl, 6, 0,
                      ip4(src), ip4(dst))
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    pkts.append((T0 + t, eth + iph + tcp))


def conn(t, c, cp, s, sp, req=100, resp=200, isn=1000, sisn=5000):
    """A whole short connection from t on."""
    seg(t, c, cp, s, sp, "S", isn, 0)
    seg(t + 0.001, s, sp, c, cp, "SA", sisn, isn + 1)
    seg(t + 0.002, c, cp, s, sp, "A", isn + 1, sisn + 1)
    seg(t + 0.003, c, cp, s, sp, "PA", isn + 1, sisn + 1, b"G" * req)
    seg(t + 0.005, s, sp, c, cp, "PA", sisn + 1, isn + 1 + req, b"R" * resp)
    seg(t + 0.006, c, cp, s, sp, "FA", isn + 1 + req, sisn + 1 + resp)
    seg(t + 0.007, s, sp, c, cp, "FA", sisn + 1 + resp, isn + 2 + req)
    seg(t + 0.008, c, cp, s, sp, "A", isn + 2 + req, sisn + 2 + resp)


def main():
    # 700 servers, one connection each, every 50 ms over 35 s
    for i in range(700):
        srv = "10.77.%d.%d" % (i // 200, i % 200 + 1)
        conn(1.0 + i * 0.05, "10.66.0.%d" % (i % 50 + 1), 20000 + i, srv, 80, isn=1000 + i)
    # a refusing server: a SYN every 0.5 s from 5 clients, RST-ACK to each
    for k in range(30):
        t = 5.0 + k * 0.5
        c, cp, isn = "10.66.1.%d" % (k % 5 + 1), 30000 + k, 777000 + k
        seg(t, c, cp, "10.88.0.1", 8080, "S", isn, 0)
        seg(t + 0.001, "10.88.0.1", 8080, c, cp, "RA", 0, isn + 1)
    # a silent server: lone SYNs, never retried (they end at the end of input)
    for k in range(8):
        seg(30.0 + k * 0.3, "10.66.2.%d" % (k + 1), 31000 + k, "10.89.0.1", 9000, "S", 5550 + k, 0)
    # a lossy server: each response's second segment is lost (never captured), then resent
    for k in range(6):
        t, c, cp, isn, sisn = 8.0 + k, "10.66.3.%d" % (k + 1), 32000 + k, 9000, 70000
        s = "10.90.0.1"
        seg(t, c, cp, s, 80, "S", isn, 0)
        seg(t + 0.001, s, 80, c, cp, "SA", sisn, isn + 1)
        seg(t + 0.002, c, cp, s, 80, "A", isn + 1, sisn + 1)
        seg(t + 0.003, c, cp, s, 80, "PA", isn + 1, sisn + 1, b"G" * 50)
        for j in range(20):
            if j % 4 == 1:
                continue  # lost upstream of the tap
            seg(t + 0.004 + j * 0.001, s, 80, c, cp, "A", sisn + 1 + j * 1000, isn + 51,
                b"D" * 1000)
        for j in range(20):
            if j % 4 == 1:  # the client's duplicate ACKs, then the retransmission
                seg(t + 0.030 + j * 0.001, c, cp, s, 80, "A", isn + 51, sisn + 1 + j * 1000)
                seg(t + 0.100 + j * 0.001, s, 80, c, cp, "A", sisn + 1 + j * 1000, isn + 51,
                    b"D" * 1000)
        seg(t + 0.2, c, cp, s, 80, "A", isn + 51, sisn + 1 + 20000)
        seg(t + 0.3, c, cp, s, 80, "FA", isn + 51, sisn + 1 + 20000)
        seg(t + 0.301, s, 80, c, cp, "FA", sisn + 1 + 20000, isn + 52)
        seg(t + 0.302, c, cp, s, 80, "A", isn + 52, sisn + 2 + 20000)
    # a client that stops reading: zero window for 12 s, then open again
    c, cp, s, isn, sisn = "10.66.4.1", 33000, "10.90.0.1", 4000, 8000
    seg(3.0, c, cp, s, 80, "S", isn, 0)
    seg(3.001, s, 80, c, cp, "SA", sisn, isn + 1)
    seg(3.002, c, cp, s, 80, "A", isn + 1, sisn + 1)
    seg(3.003, s, 80, c, cp, "PA", sisn + 1, isn + 1, b"Z" * 500)
    for j in range(13):
        seg(3.004 + j, c, cp, s, 80, "A", isn + 1, sisn + 501, win=0)
        seg(3.5 + j, s, 80, c, cp, "A", sisn + 500, isn + 1, b"Z")  # window probe
    seg(16.2, c, cp, s, 80, "A", isn + 1, sisn + 501, win=65000)
    seg(16.3, s, 80, c, cp, "FA", sisn + 501, isn + 1)
    seg(16.31, c, cp, s, 80, "FA", isn + 1, sisn + 502)
    # resets from a middlebox: TTL 250 where the server's packets have 64
    for k in range(4):
        t, c, cp, isn, sisn = 12.0 + k * 0.7, "10.66.5.%d" % (k + 1), 34000 + k, 100, 600
        s = "10.91.0.1"
        seg(t, c, cp, s, 443, "S", isn, 0)
        seg(t + 0.001, s, 443, c, cp, "SA", sisn, isn + 1)
        seg(t + 0.002, c, cp, s, 443, "A", isn + 1, sisn + 1)
        seg(t + 0.003, c, cp, s, 443, "PA", isn + 1, sisn + 1, b"H" * 80)
        seg(t + 0.004, s, 443, c, cp, "RA", sisn + 1, isn + 81, ttl=250)
    pkts.sort(key=lambda p: p[0])
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # ns timestamps
        for ts, b in pkts:
            sec = int(ts)
            ns = int(round((ts - sec) * 1e9))
            f.write(struct.pack("<IIII", sec, ns, len(b), len(b)) + b)


if __name__ == "__main__":
    main()
