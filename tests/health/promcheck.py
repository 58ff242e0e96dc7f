#!/usr/bin/env python3
"""tests/health/promcheck.py - a strict parser of the Prometheus text exposition format
(version 0.0.4): every line must be a HELP, a TYPE or a sample; every sample's family must have
been declared by TYPE (and HELP) before its first sample; families are contiguous and declared
once; metric and label names follow the grammar; label values use only the \\\\ \\" \\n escapes;
values are floats, NaN or +/-Inf; no series appears twice; counters end in _total and are not
negative or NaN; the text ends with a newline.

Usage: promcheck.py FILE [NAME=VALUE | NAME>=VALUE | NAME~ ...]
  NAME is a series as written ("flowmedic_packets_total", 'm{a="b"}'); NAME~ means the
  series must exist. Prints the number of families and series; exit 1 on any problem.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
problems = []


def bad(lineno, msg):
    problems.append("line %d: %s" % (lineno, msg))


def parse_value(s):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError(s)
    return float(s)


def parse_labels(s, lineno):
    """s is the text between { and }; returns a canonical tuple of (name, value)."""
    out, i = [], 0
    while i < len(s):
        m = re.match(LABEL, s[i:])
        if not m:
            bad(lineno, "bad label name at %r" % s[i:])
            return None
        name = m.group(0)
        i += len(name)
        if s[i:i + 2] != '="':
            bad(lineno, "expected =\" after label %s" % name)
            return None
        i += 2
        val = []
        while True:
            if i >= len(s):
                bad(lineno, "unterminated label value")
                return None
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    bad(lineno, "bad escape \\%s in label value" % nxt)
                    return None
                val.append({"n": "\n"}.get(nxt, nxt))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == "\n":
                bad(lineno, "newline in label value")
                return None
            val.append(c)
            i += 1
        if name in [n for n, _ in out]:
            bad(lineno, "label %s twice" % name)
        out.append((name, "".join(val)))
        if i < len(s):
            if s[i] != ",":
                bad(lineno, "expected , between labels")
                return None
            i += 1
    return tuple(sorted(out))


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)]
    return None


def check(text):
    types, helps, series, order = {}, {}, {}, []
    if not text.endswith("\n"):
        bad(0, "the text does not end with a newline")
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            bad(lineno, "empty line")
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    bad(lineno, "malformed %r" % line)
                continue  # a plain comment
            kind, name, rest = m.groups()
            if kind == "TYPE":
                if rest not in TYPES:
                    bad(lineno, "unknown type %r" % rest)
                if name in types:
                    bad(lineno, "TYPE %s twice" % name)
                if any(family_of(s, {name: 1}) for s, _ in series):
                    bad(lineno, "TYPE %s after its samples" % name)
                types[name] = rest
                order.append(name)
            else:
                if name in helps:
                    bad(lineno, "HELP %s twice" % name)
                if not rest.strip():
                    bad(lineno, "empty HELP for %s" % name)
                helps[name] = rest
            continue
        m = re.fullmatch(r"(" + NAME + r")(\{(.*)\})? (\S+)( [-+]?\d+)?", line)
        if not m:
            bad(lineno, "not a sample: %r" % line)
            continue
        name, _, lab, val, _ts = m.groups()
        fam = family_of(name, types)
        if fam is None:
            bad(lineno, "sample %s before its TYPE" % name)
            continue
        if fam not in helps:
            bad(lineno, "family %s has no HELP" % fam)
        if order and order[-1] != fam:
            bad(lineno, "sample of %s inside family %s (families must be contiguous)" % (fam, order[-1]))
        labels = parse_labels(lab, lineno) if lab else ()
        if labels is None:
            continue
        try:
            v = parse_value(val)
        except ValueError:
            bad(lineno, "bad value %r" % val)
            continue
        if types[fam] == "counter":
            if not name.endswith("_total"):
                bad(lineno, "counter %s does not end in _total" % name)
            if v != v or v < 0:
                bad(lineno, "counter %s has value %s" % (name, val))
        if types[fam] == "gauge" and name.endswith("_total"):
            bad(lineno, "gauge %s ends in _total" % name)
        key = (name, labels)
        if key in series:
            bad(lineno, "series %s%s twice" % (name, lab and "{" + lab + "}" or ""))
        series[key] = v
    return types, series


def lookup(series, spec):
    m = re.fullmatch(r"(" + NAME + r")(\{(.*)\})?", spec)
    if not m:
        return None
    labels = parse_labels(m.group(3), 0) if m.group(3) else ()
    return series.get((m.group(1), labels))


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    types, series = check(text)
    for a in sys.argv[2:]:
        m = re.fullmatch(r"(" + NAME + r"(?:\{[^}]*\})?)(>=|=|~)(.*)", a)
        name, op, want = m.groups()
        v = lookup(series, name)
        if v is None:
            problems.append("missing series %s" % name)
        elif op == "=" and v != float(want):
            problems.append("%s = %s, want %s" % (name, v, want))
        elif op == ">=" and not v >= float(want):
            problems.append("%s = %s, want >= %s" % (name, v, want))
    for p in problems:
        print("FAIL: " + p)
    print("%d families, %d series, %d problems" % (len(types), len(series), len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
