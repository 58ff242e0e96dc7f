#!/usr/bin/env python3
"""corpus_incidents.py - the incidents flowmedic opens on every capture of ../shared/corpus.

Every capture of MANIFEST.tsv is analysed (as tests/corpus_check.py reads it); the incidents
it opens (cause, severity, server) are compared with tests/incidents/corpus.golden, where
every line carries the reason the verdict is right. A change of verdict is a visible diff.

  corpus_incidents.py            check (exit 1 on a difference, 77 without the corpus)
  corpus_incidents.py --update   rewrite the golden file: lines that stay keep their reason,
                                 new ones get "REASON?" (which the check refuses) to fill in
"""
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "corpus.golden")


def find_corpus():
    top = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
    for c in (os.environ.get("FLOWMEDIC_CORPUS", ""), os.path.join(top, "..", "shared", "corpus"),
              os.path.join(top, "..", "..", "shared", "corpus"), "/work/shared/corpus"):
        if c and os.path.isfile(os.path.join(c, "MANIFEST.tsv")):
            return c
    return None


def incidents(binary, path, tmpdir):
    """The (cause, severity, server) of every incident path opens, worst severity seen."""
    if path.endswith(".gz"):
        plain = os.path.join(tmpdir, os.path.basename(path)[:-3])
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            dst.write(src.read())
        path = plain
    p = subprocess.run([binary, "--json", "--no-db", "-q", "-r", path], capture_output=True,
                       text=True, timeout=120, check=False)
    sev_rank = {"info": 0, "warn": 1, "error": 2}
    seen = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        if o.get("type") != "incident":
            continue
        key = o["id"]
        cur = seen.get(key)
        if cur is None or sev_rank[o["severity"]] > sev_rank[cur[1]]:
            seen[key] = (o["cause"], o["severity"], o["server"])
    return sorted(set(seen.values()))


def load_golden():
    rows = {}
    if not os.path.exists(GOLDEN):
        return rows
    for line in open(GOLDEN):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) != 5:
            raise SystemExit("corpus.golden: bad line (want 5 tab-separated fields): %r" % line)
        rows[tuple(f[:4])] = f[4]
    return rows


def main():
    update = "--update" in sys.argv[1:]
    corpus = find_corpus()
    if not corpus:
        print("SKIP: ../shared/corpus not found (set FLOWMEDIC_CORPUS to its path)")
        return 77
    binary = os.environ.get("FLOWMEDIC") or os.path.join(
        os.environ.get("top_srcdir", os.path.join(HERE, "..", "..")), "flowmedic")
    golden = load_golden()
    got = {}
    captures = []
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f, tempfile.TemporaryDirectory() as tmp:
        for row in csv.DictReader(f, delimiter="\t"):
            rel = row["local_path"]
            captures.append(rel)
            for cause, sev, server in incidents(binary, os.path.join(corpus, rel), tmp):
                got[(rel, cause, sev, server)] = True
    if update:
        with open(GOLDEN, "w") as out:
            out.write("# capture\tcause\tseverity\tserver\treason (why this verdict is right)\n")
            out.write("# regenerate: tests/incidents/corpus_incidents.py --update, then write "
                      "the reason of every new line\n")
            for key in sorted(got):
                out.write("\t".join(key) + "\t" + golden.get(key, "REASON?") + "\n")
        print("wrote %s: %d incidents over %d captures" % (GOLDEN, len(got), len(captures)))
        return 0
    fail = 0
    for key in sorted(set(got) | set(golden)):
        if key in got and key not in golden:
            print("NEW      %s" % "\t".join(key))
            fail += 1
        elif key in golden and key not in got:
            print("GONE     %s\t(%s)" % ("\t".join(key), golden[key]))
            fail += 1
        elif golden[key].strip() in ("", "REASON?"):
            print("NO REASON %s" % "\t".join(key))
            fail += 1
    print("corpus incidents: %d over %d captures, %d differences from corpus.golden"
          % (len(got), len(captures), fail))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
