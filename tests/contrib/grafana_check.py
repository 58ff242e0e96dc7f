#!/usr/bin/env python3
"""grafana_check.py DASHBOARD EXPOSITION... - every metric, label and label value that the
Grafana dashboard's PromQL (panel targets, legends and template variables) uses exists in
flowmedic's exposition (text files written by flowmedic --metrics-file on the samples).
Labels that Prometheus attaches to every target (instance, job) are allowed on any metric.
Also checks the dashboard's shape: unique panel ids, the import data source input, and that
every $variable is defined."""
import json
import re
import sys

# PENDING - metrics a dashboard panel may query before flowmedic exports them, with their
# labels. Empty: the incident metrics are exported now, and checked strictly.
PENDING = {}

TARGET_LABELS = {"instance", "job"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "inf", "nan"}
GRAFANA_VARS = {"__rate_interval", "__range", "__interval", "__range_s", "__interval_ms"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def parse_exposition(paths):
    """metric name -> {label: set of values}"""
    metrics = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+$')
    pair_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for path in paths:
        for line in open(path):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = line_re.match(line)
            if not m:
                fail("%s: unparsable exposition line %r" % (path, line))
                continue
            labels = metrics.setdefault(m.group(1), {})
            for k, v in pair_re.findall(m.group(3) or ""):
                labels.setdefault(k, set()).add(v)
    return metrics


def selectors(expr):
    """(selectors [(metric, [(label, op, value)])], grouping labels) used by a PromQL expr."""
    strings = []

    def keep(m):
        strings.append(m.group(0)[1:-1])
        return '"\0%d"' % (len(strings) - 1)

    e = re.sub(r'"(?:[^"\\]|\\.)*"', keep, expr)
    e = re.sub(r'\[[^\]]*\]', ' ', e)  # range and subquery durations
    grouping = []
    for m in re.finditer(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)', e):
        grouping += [x.strip() for x in m.group(1).split(",") if x.strip()]
    e = re.sub(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', e)
    sels = []
    for m in re.finditer(r'(?<![\w.$"])([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(\{[^}]*\})|'
                         r'(?<![\w.$"])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()', e):
        name = m.group(1) or m.group(3)
        if m.group(3) and name.lower() in KEYWORDS:
            continue
        matchers = []
        if m.group(2):
            for mm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"\0(\d+)"',
                                  m.group(2)):
                matchers.append((mm.group(1), mm.group(2), strings[int(mm.group(3))]))
        if name is None:
            fail("selector without a metric name in %r" % expr)
            continue
        sels.append((name, matchers))
    return sels, grouping


def labels_of(name, metrics):
    if name in metrics:
        return set(metrics[name]) | TARGET_LABELS
    if name in PENDING:
        return PENDING[name] | TARGET_LABELS
    return None


def check_expr(where, expr, metrics, legend=None, extra_label=None):
    sels, grouping = selectors(expr)
    if not sels:
        fail("%s: no metric in %r" % (where, expr))
    available = set()
    for name, matchers in sels:
        labs = labels_of(name, metrics)
        if labs is None:
            fail("%s: metric %s is not in flowmedic's exposition" % (where, name))
            continue
        if name not in metrics:
            print("PENDING: %s: %s is not exported yet (allowlisted for the incident layer)"
                  % (where, name))
        available |= labs
        for label, op, value in matchers:
            if label not in labs:
                fail("%s: %s has no label %s" % (where, name, label))
                continue
            if "$" in value or label in TARGET_LABELS or name not in metrics:
                continue
            values = metrics[name].get(label, set())
            if op == "=" and value not in values:
                fail('%s: %s{%s="%s"}: no such value (exposition has %s)'
                     % (where, name, label, value, sorted(values)))
            if op == "=~" and not any(re.fullmatch(value, v) for v in values):
                fail('%s: %s{%s=~"%s"} matches no value' % (where, name, label, value))
    for g in grouping:
        if g not in available:
            fail("%s: grouping label %s is on none of %s" % (where, g, [s[0] for s in sels]))
    for lab in re.findall(r'\{\{\s*(\w+)\s*\}\}', legend or ""):
        if lab not in available:
            fail("%s: legend uses label %s that the query does not carry" % (where, lab))
    if extra_label and extra_label not in available:
        fail("%s: label_values of %s, which the metric does not have" % (where, extra_label))
    return len(sels)


def main(argv):
    dash = json.load(open(argv[0]))
    metrics = parse_exposition(argv[1:])
    if "flowmedic_server_connection_attempts_total" not in metrics:
        fail("the exposition files hold no per-server metrics: nothing to check against")
    names = set()
    n = 0
    defined = {v["name"] for v in dash.get("templating", {}).get("list", [])}
    if [i["name"] for i in dash.get("__inputs", [])] != ["DS_PROMETHEUS"]:
        fail("the dashboard must declare the DS_PROMETHEUS import input")
    for v in dash["templating"]["list"]:
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r'label_values\((.*),\s*(\w+)\)', q)
        if not m:
            fail("variable %s: query %r is not label_values(selector, label)" % (v["name"], q))
            continue
        n += check_expr("variable " + v["name"], m.group(1), metrics, extra_label=m.group(2))
    ids = set()
    for p in dash["panels"]:
        if p["id"] in ids:
            fail("panel id %d used twice" % p["id"])
        ids.add(p["id"])
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${DS_PROMETHEUS}":
            fail("panel %r: data source is not the import input" % p["title"])
        if not p.get("targets"):
            fail("panel %r has no query" % p["title"])
        for t in p.get("targets", []):
            expr = t["expr"]
            for var in re.findall(r'\$(\w+)', expr):
                if var not in defined and var not in GRAFANA_VARS:
                    fail("panel %r: undefined variable $%s" % (p["title"], var))
            n += check_expr("panel %r" % p["title"], expr, metrics, legend=t.get("legendFormat"))
            names |= {s[0] for s in selectors(expr)[0]}
    print("checked %d selectors of %d metrics in %d panels against %d exported metrics"
          % (n, len(names), len(ids), len(metrics)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
