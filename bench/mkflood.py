#!/usr/bin/env python3
"""mkflood.py syn|long|bulk OUT.pcap [COUNT] [SAMPLE.pcap] - a flood (or long flows) with a real
server's traffic in it.

syn:  COUNT (default 2 000 000) SYNs to 10.0.0.5:443, each from its own address and port
      (11.x.y.z), spread evenly over the sample's time span plus one second either side.
long: COUNT (default 1 000 000) concurrent long-lived connections to 10.0.0.6:443 from
      12.x.y.z: all handshakes (SYN, SYN-ACK, ACK) in the sample's first quarter, then one
      complete 100-byte HTTP request (never answered) and its ACK per connection in its last
      quarter; none closes, so every one is open at once.
bulk: COUNT (default 16) long bulk transfers from 10.0.0.7:5001, each 40 000 full-size
      segments (1448 bytes, captured as the first 96 bytes of the frame, as tcpdump -s 96)
      acknowledged every second segment, interleaved: a long-flow capture of 960 000 frames.

The sample's frames (an Ethernet capture: by default samples/network-loss.pcap, 110 HTTP
connections to 10.99.1.2:8080 over 44 s) are merged in at their own times, so the real
server's traffic lies inside the flood. Frames are written in time order with pcap microsecond
timestamps; checksums are not computed (flowmedic does not verify them).
"""
import os
import struct
import sys

ETH = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
ETH_BACK = bytes.fromhex("020000000001020000000002") + b"\x08\x00"


def read_sample(path):
    """(time in us, frame) of every record of an Ethernet pcap (us or ns)."""
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D) or struct.unpack_from("<I", data, 20)[0] != 1:
        sys.exit(f"{path}: not a little-endian Ethernet pcap")
    nano = magic == 0xA1B23C4D
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, off)
        out.append((sec * 10**6 + (frac // 1000 if nano else frac), data[off + 16: off + 16 + incl]))
        off += 16 + incl
    return out


def tcp_frame(back, src, dst, sport, dport, seq, ack, flags, ipid, payload=b""):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), ipid & 0xFFFF, 0, 64, 6, 0, src,
                     dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags,
                      64240, 0, 0)
    return (ETH_BACK if back else ETH) + ip + tcp + payload


def addr(prefix, i):
    return bytes([prefix, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def syn_flood(n, t0, t1):
    dst = bytes([10, 0, 0, 5])
    step = (t1 - t0) / n
    for i in range(n):
        yield int(t0 + i * step), tcp_frame(False, addr(11, i), dst, 1024 + i % 60000, 443,
                                            i * 7919, 0, 0x02, i)


def long_flows(n, t0, t1):
    dst = bytes([10, 0, 0, 6])
    quarter = (t1 - t0) / 4
    step = quarter / n
    req = b"GET / HTTP/1.1\r\nHost: flood.example\r\nX-Pad: " + b"x" * 52 + b"\r\n\r\n"
    assert len(req) == 100
    for i in range(n):  # handshakes in the first quarter, 3 frames 1 us apart
        t = int(t0 + i * step)
        src, port, isn, sisn = addr(12, i), 1024 + i % 60000, i * 7919, i * 104729
        yield t, tcp_frame(False, src, dst, port, 443, isn, 0, 0x02, 3 * i)
        yield t + 1, tcp_frame(True, dst, src, 443, port, sisn, isn + 1, 0x12, 3 * i)
        yield t + 2, tcp_frame(False, src, dst, port, 443, isn + 1, sisn + 1, 0x10, 3 * i + 1)
    for i in range(n):  # one request and its ACK per connection in the last quarter
        t = int(t0 + 3 * quarter + i * step)
        src, port, isn, sisn = addr(12, i), 1024 + i % 60000, i * 7919, i * 104729
        yield t, tcp_frame(False, src, dst, port, 443, isn + 1, sisn + 1, 0x18, 3 * i + 2, req)
        yield t + 1, tcp_frame(True, dst, src, 443, port, sisn + 1, isn + 101, 0x10, 3 * i + 1)


def bulk_flows(n, t0, t1, segs=40000):
    src = bytes([10, 0, 0, 7])
    step = (t1 - t0) / (segs * n * 3 // 2)
    t = t0
    for i in range(n):  # handshakes
        dst, port = addr(13, i), 1024 + i
        yield int(t), tcp_frame(True, dst, src, port, 5001, 1000 * i, 0, 0x02, 1)
        yield int(t) + 1, tcp_frame(False, src, dst, 5001, port, 7000 * i, 1000 * i + 1, 0x12, 1)
        yield int(t) + 2, tcp_frame(True, dst, src, port, 5001, 1000 * i + 1, 7000 * i + 1, 0x10, 2)
        t += 3
    payload = bytes(1448)
    for k in range(segs):
        for i in range(n):
            dst, port = addr(13, i), 1024 + i
            seq = 7000 * i + 1 + k * 1448
            f = tcp_frame(False, src, dst, 5001, port, seq, 1000 * i + 1, 0x10, k + 2, payload)
            yield int(t), (f[:96], len(f))
            t += step
            if k % 2:
                yield int(t), tcp_frame(True, dst, src, port, 5001, 1000 * i + 1, seq + 1448, 0x10,
                                        k + 3)
                t += step


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("syn", "long", "bulk"):
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else {"syn": 2000000, "long": 1000000,
                                                         "bulk": 16}[kind]
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    sample = read_sample(sys.argv[4] if len(sys.argv) > 4 else
                         os.path.join(top, "samples", "network-loss.pcap"))
    first, last = sample[0][0], sample[-1][0]
    if kind == "syn":
        flood = syn_flood(count, first - 10**6, last + 10**6)
    elif kind == "long":
        flood = long_flows(count, first - 10**6, last + 10**6)
    else:
        flood = bulk_flows(count, first - 10**6, last + 10**6)
    buf = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    k, frames = 0, 0
    with open(out + ".tmp", "wb") as o:
        for t, frame in flood:
            while k < len(sample) and sample[k][0] <= t:
                st, sf = sample[k]
                buf += struct.pack("<IIII", st // 10**6, st % 10**6, len(sf), len(sf)) + sf
                k += 1
                frames += 1
            frame, wire = frame if isinstance(frame, tuple) else (frame, len(frame))
            buf += struct.pack("<IIII", t // 10**6, t % 10**6, len(frame), wire) + frame
            frames += 1
            if len(buf) > 1 << 22:
                o.write(buf)
                buf.clear()
        for st, sf in sample[k:]:
            buf += struct.pack("<IIII", st // 10**6, st % 10**6, len(sf), len(sf)) + sf
            frames += 1
        o.write(buf)
    os.replace(out + ".tmp", out)  # no half-written capture left for the next run
    print(f"{out}: {frames} frames ({len(sample)} from the sample)", file=sys.stderr)


if __name__ == "__main__":
    main()
