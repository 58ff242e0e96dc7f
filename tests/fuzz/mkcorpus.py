#!/usr/bin/env python3
"""mkcorpus.py - (re)build the committed seed corpora of the fuzz targets from samples/.

  engine/  every sample capture, cut at a frame boundary to at most 32 KiB (editcap)
  tls/     each TLS connection of the samples: both reassembled directions (tshark
           follow,tcp,raw) in fuzz_tls's chunk format
  http/    each plain HTTP connection (first 8 KiB per direction), in fuzz_http's chunk format
  x509/    every DER certificate the samples carry: TLS 1.2 in the clear, TLS 1.3 decrypted
           with the samples' key logs (tshark -e tls.handshake.certificate)

Chunk format (fuzz_tls.c, fuzz_http.c): one control byte (bit 0 direction, bits 2-7 length - 1)
then up to 64 bytes. Usage: tests/fuzz/mkcorpus.py [SRCDIR]  (needs tshark and editcap).
"""
import glob
import hashlib
import os
import re
import subprocess
import sys

ENGINE_MAX = 32768
HTTP_MAX = 8192


def run(args):
    """stdout of a tshark-family command; a capture cut short (status 2) still gives output."""
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode not in (0, 2):
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def engine(src, out):
    for pcap in sorted(glob.glob(os.path.join(src, "samples", "*.pcap"))):
        name = os.path.basename(pcap)
        dst = os.path.join(out, "engine", name)
        if os.path.getsize(pcap) <= ENGINE_MAX:
            with open(pcap, "rb") as f:
                write(dst, f.read())
            continue
        frames = int(run(["capinfos", "-Mc", pcap]).split()[-1])
        lo, hi = 1, frames
        while lo < hi:  # the most frames whose cut copy still fits
            mid = (lo + hi + 1) // 2
            subprocess.run(["editcap", "-r", pcap, dst, "1-%d" % mid], check=True,
                           capture_output=True)
            if os.path.getsize(dst) <= ENGINE_MAX:
                lo = mid
            else:
                hi = mid - 1
        subprocess.run(["editcap", "-r", pcap, dst, "1-%d" % lo], check=True, capture_output=True)


def streams(pcap, display_filter):
    """tcp.stream numbers of pcap matching display_filter."""
    txt = run(["tshark", "-r", pcap, "-Y", display_filter, "-T", "fields", "-e", "tcp.stream"])
    return sorted({int(x) for x in txt.split()})


def follow(pcap, n):
    """[(dir, bytes)] in capture order: dir 0 for the connection's first node (the client)."""
    txt = run(["tshark", "-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % n])
    out = []
    for line in txt.splitlines():
        if not line.strip() or line.startswith("=") or ":" in line:
            continue
        d = 1 if line.startswith("\t") else 0
        hexs = line.strip()
        if re.fullmatch(r"[0-9a-fA-F]+", hexs):
            out.append((d, bytes.fromhex(hexs)))
    return out


def chunks(parts, limit=None):
    """The fuzz chunk format; at most limit bytes per direction when given."""
    out = bytearray()
    seen = [0, 0]
    for d, b in parts:
        if limit is not None:
            b = b[: max(0, limit - seen[d])]
        seen[d] += len(b)
        for i in range(0, len(b), 64):
            piece = b[i: i + 64]
            out.append(((len(piece) - 1) << 2) | d)
            out += piece
    return bytes(out)


def tls_and_http(src, out):
    for pcap in sorted(glob.glob(os.path.join(src, "samples", "*.pcap"))):
        base = os.path.basename(pcap)[:-5]
        for n in streams(pcap, "tls.handshake.type == 1")[:4]:
            data = chunks(follow(pcap, n))
            if data:
                write(os.path.join(out, "tls", "%s-%d" % (base, n)), data)
        for n in streams(pcap, "http.request")[:3]:
            data = chunks(follow(pcap, n), HTTP_MAX)
            if data:
                write(os.path.join(out, "http", "%s-%d" % (base, n)), data)


def x509(src, out):
    seen = set()
    for pcap in sorted(glob.glob(os.path.join(src, "samples", "*.pcap"))):
        args = ["tshark", "-r", pcap, "-Y", "tls.handshake.certificate", "-T", "fields",
                "-e", "tls.handshake.certificate"]
        keylog = pcap[:-5] + ".keylog"
        if os.path.exists(keylog):
            args[3:3] = ["-o", "tls.keylog_file:" + keylog]
        for line in run(args).split():
            for h in line.split(","):
                der = bytes.fromhex(h.replace(":", ""))
                digest = hashlib.sha256(der).hexdigest()
                if der and digest not in seen:
                    seen.add(digest)
                    write(os.path.join(out, "x509", digest[:16] + ".der"), der)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    out = os.path.join(src, "tests", "fuzz", "corpus")
    engine(src, out)
    tls_and_http(src, out)
    x509(src, out)


if __name__ == "__main__":
    main()
