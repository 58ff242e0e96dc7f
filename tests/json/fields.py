#!/usr/bin/env python3
"""fields.py - every member flowmedic emits in JSON is documented in README.md.

Parses the field tables of README.md's "JSON output" section (headings `#### JSON lines:
"TYPE"...` and `#### report --json`; a row's first cell holds one or more `names`, its second
the type: string, integer, number, boolean, object, array of integers|numbers|objects, each
optionally "or null"), runs flowmedic on every capture in samples/ (--json, and -w into
databases that `report --json` then reads, one database and two at once) and fails when a
member is emitted that no row lists, or when its value has another type. A name `a.b` is
member b of object a, `a[]` an element of array a, and a segment `<kind>` any key. An object
without documented members is opaque (e.g. report's `extra`). Generic on purpose: a new line
type or member needs only its README row.

Usage: fields.py README FLOWMEDIC SAMPLES_DIR TMPDIR. Exit 1 on any undocumented member.
"""
import glob
import json
import os
import re
import subprocess
import sys

TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
}


def parse_type(text):
    """'integer or null' -> (python types, element types or None, nullable)."""
    t = text.strip()
    nullable = t.endswith(" or null")
    if nullable:
        t = t[: -len(" or null")].strip()
    if t.startswith("array"):
        m = re.match(r"array(?: of (\w+?)s?)?$", t)
        if not m:
            raise ValueError("unknown type %r" % text)
        elem = TYPES.get(m.group(1)) if m.group(1) else None
        if m.group(1) and elem is None:
            raise ValueError("unknown array element type %r" % text)
        return (list,), elem, nullable
    if t not in TYPES:
        raise ValueError("unknown type %r" % text)
    return TYPES[t], None, nullable


def parse_readme(path):
    """{scope: [(regex, name, types, elem, nullable)]}; scope is 'line:TYPE' or 'report'."""
    docs, scope = {}, None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.startswith("#"):
            m = re.match(r'####\s+JSON lines:\s+"(\w+)"', line)
            if m:
                scope = "line:" + m.group(1)
            elif re.match(r"####\s+report --json", line):
                scope = "report"
            else:
                scope = None
            continue
        if scope is None or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        try:
            types, elem, nullable = parse_type(cells[1])
        except ValueError as e:
            sys.exit("README.md:%d: %s" % (n, e))
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rx = "^" + re.sub(r"<[^>]+>", "[^.]+", re.escape(name).replace(r"\<", "<").replace(r"\>", ">")) + "$"
            docs.setdefault(scope, []).append((re.compile(rx), name, types, elem, nullable))
    return docs


def type_ok(v, types, nullable):
    if v is None:
        return nullable
    if isinstance(v, bool) and bool not in types:
        return False
    return isinstance(v, types)


class Checker:
    def __init__(self, docs):
        self.docs = docs
        self.problems = {}
        self.seen = set()

    def find(self, scope, path):
        for entry in self.docs.get(scope, []):
            if entry[0].match(path):
                return entry
        return None

    def has_children(self, scope, path):
        pre = path + "."
        probe = path + ".x"
        for rx, name, *_ in self.docs.get(scope, []):
            if name.startswith(pre) or rx.match(probe):
                return True
        return False

    def problem(self, scope, path, what):
        self.problems.setdefault((scope, path), what)

    def walk(self, scope, prefix, obj):
        for key, v in obj.items():
            path = prefix + key
            entry = self.find(scope, path)
            if entry is None:
                self.problem(scope, path, "not documented (example value: %s)" % json.dumps(v)[:80])
                continue
            self.seen.add((scope, entry[1]))
            _, name, types, elem, nullable = entry
            if not type_ok(v, types, nullable):
                self.problem(scope, path, "documented as %s%s, emitted %s" % (
                    "/".join(t.__name__ for t in types), " or null" if nullable else "",
                    json.dumps(v)[:80]))
                continue
            if isinstance(v, dict) and self.has_children(scope, path):
                self.walk(scope, path + ".", v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, dict):
                        self.walk(scope, path + "[].", x)
                    elif elem is not None and not type_ok(x, elem, False):
                        self.problem(scope, path, "array element %s is not %s" % (
                            json.dumps(x)[:40], "/".join(t.__name__ for t in elem)))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 3) or "Sanitizer" in r.stderr or "runtime error" in r.stderr:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-500:]))
    return r.stdout


def main():
    readme, fm, samples, tmp = sys.argv[1:5]
    docs = parse_readme(readme)
    for want in ("line:meta", "line:flow", "line:finding", "line:summary", "report"):
        if want not in docs:
            sys.exit("FAIL: README.md has no field table for %s" % want)
    check = Checker(docs)
    pcaps = sorted(glob.glob(os.path.join(samples, "*.pcap")) + glob.glob(os.path.join(samples, "*.pcapng")))
    if not pcaps:
        sys.exit("FAIL: no captures in %s" % samples)
    dbs = [os.path.join(tmp, "one.db"), os.path.join(tmp, "two.db")]
    lines = 0
    for i, pcap in enumerate(pcaps):
        db = dbs[i % 2]
        out = run([fm, "-r", pcap, "--json", "-q", "-w", db, "--sensor", "s%d" % (i % 2)])
        for n, line in enumerate(out.splitlines(), 1):
            try:
                obj = json.loads(line)
            except ValueError:
                sys.exit("FAIL: %s line %d is not JSON: %s" % (pcap, n, line[:200]))
            t = obj.get("type")
            if not isinstance(t, str):
                check.problem("line:?", "type", "a line without a type: %s" % line[:100])
                continue
            scope = "line:" + t
            if scope not in docs:
                check.problem(scope, "", "line type %r has no field table" % t)
                continue
            check.walk(scope, "", obj)
            lines += 1
    reports = 0
    for args in ([dbs[0]], [dbs[0], dbs[1]], [dbs[0], "--sensor", "s0", "--run", "1"]):
        check.walk("report", "", json.loads(run([fm, "report"] + args + ["--json"])))
        reports += 1
    for (scope, path), what in sorted(check.problems.items()):
        print("FAIL %s %s: %s" % (scope, path or "(line)", what))
    unseen = sorted("%s %s" % (s, e[1]) for s, es in docs.items() for e in es if (s, e[1]) not in check.seen)
    print("note: %d documented members were not emitted by these samples (kind- or "
          "situation-specific): %s" % (len(unseen), ", ".join(unseen[:40]) + (" ..." if len(unseen) > 40 else "")))
    print("%s: %d JSON lines of %d captures and %d reports checked against %d README rows, %d problems"
          % ("FAIL" if check.problems else "ok", lines, len(pcaps), reports,
             sum(len(v) for v in docs.values()), len(check.problems)))
    return 1 if check.problems else 0


if __name__ == "__main__":
    sys.exit(main())
