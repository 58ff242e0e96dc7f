#!/bin/sh
# tests/gen/check-samples.sh: consistency of samples/ without regenerating anything (no root):
# every samples/*.pcap has a <name>.truth.json naming it and a line in samples/README.md, every
# truth file has its pcap, and tshark still reads the number of packets the truth file recorded.
# Exit 0 when all agree, 1 otherwise, 77 when tshark is missing.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
S="$top_srcdir/samples"
command -v tshark >/dev/null 2>&1 || { echo "tshark missing: skip"; exit 77; }
exec /usr/bin/python3 - "$S" <<'PY'
import glob, json, os, subprocess, sys
s = sys.argv[1]
readme = open(os.path.join(s, "README.md")).read()
bad = 0
pcaps = sorted(glob.glob(os.path.join(s, "*.pcap")))
for p in pcaps:
    name = os.path.basename(p)
    t = p[:-5] + ".truth.json"
    if not os.path.exists(t):
        print("FAIL %s: no truth file" % name); bad += 1; continue
    truth = json.load(open(t))
    if truth.get("sample") != name:
        print("FAIL %s: truth file names %r" % (name, truth.get("sample"))); bad += 1
    if "| %s |" % name not in readme:
        print("FAIL %s: not in samples/README.md" % name); bad += 1
    r = subprocess.run(["tshark", "-n", "-r", p, "-T", "fields", "-e", "frame.number"], capture_output=True, text=True)
    n = len(r.stdout.split())
    want = truth["tshark"]["packets"]
    if n != want:
        print("FAIL %s: tshark reads %d packets, truth says %d" % (name, n, want)); bad += 1
    else:
        print("ok   %s: %d packets" % (name, n))
for t in sorted(glob.glob(os.path.join(s, "*.truth.json"))):
    if not os.path.exists(t[:-11] + ".pcap"):
        print("FAIL %s: no pcap" % os.path.basename(t)); bad += 1
print("%d samples, %d problems" % (len(pcaps), bad))
sys.exit(1 if bad else 0)
PY
