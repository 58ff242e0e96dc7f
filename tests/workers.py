#!/usr/bin/env python3
"""workers.py - the outputs do not depend on the number of workers.

Every sample (samples/*.pcap, with its key log when it has one) and every capture of the
public corpus (../shared/corpus/MANIFEST.tsv) is analysed with --workers 1, 2 and 4; the JSON
lines, sorted, must be identical (flow ids included), and so must the exit status.

A capture in which SPAN duplicates were dropped is analysed a second time with --workers 1:
the duplicate filter's hash key is random per run, and its verdicts must not depend on it.
nDPI/fix2.pcap must drop exactly the copies counted from tshark's fields (DUPS below).

A capture of 2 000 interleaved flows over several seconds (bench/mkbig.py) is analysed with
health intervals of 1 s, 1.5 s and 10 s: server health's per-flow half holds segment counts
back until an interval may close (whole seconds: at ticks) or sends each at once (1.5 s), and
the rows must not depend on it (INTERVALS). So is one of 6 000 flows to 2 000 servers, three
each (more than its table holds: which idle server gives way reads the active marks and last
times that the held-back counts set), with intervals of 1 s and 3 s (MANY_SERVERS).
"""
import glob
import json
import gzip
import os
import re
import subprocess
import sys
import tempfile

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
binary = os.environ.get("FLOWMEDIC") or os.path.join(top, "flowmedic")
COUNTS = (1, 2, 4)
checked = []  # captures analysed twice (duplicates were dropped)
expected_seen = []  # captures of DUPS that were analysed
# Copies per capture: frames equal to one at most 1 ms earlier in addresses, ports, IP ID, TCP
# checksum, seq, ack, length, window, flags and timestamps (tshark -T fields of those, and a
# dictionary; frames with IP ID 0 and no timestamps never count).
DUPS = {"corpus/nDPI/fix2.pcap": 784}
INTERVALS = ("1", "1.5", "10")
MANY_SERVERS = ("1", "3")


def find_corpus():
    for c in (os.environ.get("FLOWMEDIC_CORPUS", ""), os.path.join(top, "..", "shared", "corpus"),
              os.path.join(top, "..", "..", "shared", "corpus"), "/work/shared/corpus"):
        if c and os.path.isfile(os.path.join(c, "MANIFEST.tsv")):
            return c
    return None


def run(path, extra, n):
    args = [binary, "-r", path, "--json", "--no-db", "-q", "--workers", str(n)] + extra
    p = subprocess.run(args, capture_output=True, timeout=300)
    lines = sorted(p.stdout.decode("utf-8", "replace").splitlines())
    return p.returncode, lines, p.stderr.decode("utf-8", "replace")


def mirror_duplicates(lines):
    for line in lines:
        if line.startswith('{"type":"summary"'):
            return json.loads(line).get("mirror_duplicates", 0)
    return 0


def dup_checks(name, path, extra, lines):
    """Where duplicates were dropped, a second run (another hash key) gives the same lines."""
    dups = mirror_duplicates(lines)
    if name in DUPS:
        expected_seen.append(name)
        if dups != DUPS[name]:
            return [f"{name}: {dups} mirror duplicates, {DUPS[name]} expected"]
    if not dups:
        return []
    checked.append(name)
    _, again, _ = run(path, extra, 1)
    if again != lines:
        return [f"{name}: two runs with --workers 1 differ ({dups} mirror duplicates): the"
                " duplicate filter's verdicts depend on its random hash key"]
    return []


def check(name, path, extra):
    base = None
    for n in COUNTS:
        rc, lines, err = run(path, extra, n)
        if rc < 0 or "Sanitizer" in err or "runtime error" in err:
            return [f"{name}: --workers {n}: crashed or sanitizer report (exit {rc}): {err[-400:]}"]
        if base is None:
            base = (rc, lines)
            problems = dup_checks(name, path, extra, lines)
            if problems:
                return problems
            continue
        if rc != base[0]:
            return [f"{name}: exit {rc} with --workers {n}, {base[0]} with 1"]
        if lines != base[1]:
            a, b = set(base[1]), set(lines)
            only1 = sorted(a - b)[:3]
            onlyn = sorted(b - a)[:3]
            return [f"{name}: --workers {n} differs from --workers 1 ({len(a - b)} lines only in 1,"
                    f" {len(b - a)} only in {n}):\n  1: " + "\n  1: ".join(x[:300] for x in only1) +
                    f"\n  {n}: " + f"\n  {n}: ".join(x[:300] for x in onlyn)]
    return []


def agg_check(name, path, long_flows):
    """With workers and without --tui the aggregator gets no record per segment (README
    "Workers"): -v says what it took. A capture of long flows makes far fewer records than
    packets."""
    args = [binary, "-r", path, "--json", "--no-db", "-q", "-v", "--workers", "2"]
    p = subprocess.run(args, capture_output=True, timeout=300)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"the aggregator took (\d+) records: (\d+) segment records", err)
    pk = re.search(r'"tcp_packets":(\d+)', p.stdout.decode("utf-8", "replace"))
    if not m or not pk:
        return [f"{name}: no aggregator line with -v or no summary ({err[-200:]!r})"]
    records, segs, packets = int(m.group(1)), int(m.group(2)), int(pk.group(1))
    print(f"{name}: the aggregator took {records} records for {packets} TCP packets")
    if segs:
        return [f"{name}: {segs} segment records reached the aggregator without --tui"]
    if long_flows and records * 4 > packets:
        return [f"{name}: {records} aggregator records for {packets} packets of long flows"]
    return []


def main():
    problems, done = [], 0
    problems += agg_check("samples/loss-bulk-c2s.pcap",
                          os.path.join(top, "samples", "loss-bulk-c2s.pcap"), True)
    for pcap in sorted(glob.glob(os.path.join(top, "samples", "*.pcap"))):
        keylog = pcap[:-5] + ".keylog"
        extra = ["--tls-keylog", keylog] if os.path.exists(keylog) else []
        problems += check("samples/" + os.path.basename(pcap), pcap, extra)
        done += 1
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "mkbig.pcap")
        subprocess.run([sys.executable, os.path.join(top, "bench", "mkbig.py"), big, "2000"],
                       check=True, capture_output=True)
        for iv in INTERVALS:
            problems += check(f"mkbig-2000 --interval {iv}", big, ["--interval", iv])
            done += 1
        problems += agg_check("mkbig-2000", big, False)
        subprocess.run([sys.executable, os.path.join(top, "bench", "mkbig.py"), big, "6000", "3"],
                       check=True, capture_output=True)
        for iv in MANY_SERVERS:
            problems += check(f"mkbig-6000-servers --interval {iv}", big, ["--interval", iv])
            done += 1
    corpus = find_corpus()
    if corpus:
        with open(os.path.join(corpus, "MANIFEST.tsv")) as f, tempfile.TemporaryDirectory() as tmp:
            rows = [line.rstrip("\n").split("\t")[0] for line in f][1:]
            for rel in rows:
                path = os.path.join(corpus, rel)
                if not os.path.isfile(path):
                    continue
                if path.endswith(".gz"):
                    plain = os.path.join(tmp, "c.pcap")
                    with gzip.open(path) as g, open(plain, "wb") as o:
                        o.write(g.read())
                    path = plain
                problems += check("corpus/" + rel, path, [])
                done += 1
    else:
        print("note: ../shared/corpus not found: samples only (set FLOWMEDIC_CORPUS)")
    if corpus:
        missing = [n for n in DUPS if n not in expected_seen]
        if missing and os.path.isfile(os.path.join(corpus, "nDPI", "fix2.pcap")):
            problems.append("not analysed: " + ", ".join(missing))
    for p in problems:
        print("FAIL " + p)
    print(f"{len(checked)} captures with mirror duplicates gave the same lines in two runs")
    print(f"{done} captures, --workers {'/'.join(map(str, COUNTS))}: {len(problems)} differ")
    return 1 if problems or done == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
