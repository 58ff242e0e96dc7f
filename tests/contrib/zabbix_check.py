#!/usr/bin/env python3
"""zabbix_check.py TEMPLATE AGENT_CONF_D_FILE PORT STATEDIR PROMDIR - checks the Zabbix 6.0
template against a running zabbix_agent2 (listening on 127.0.0.1:PORT with the flowmedic user
parameters, reading STATEDIR/sensor.prom):

 - the template's shape: version 6.0, unique UUIDv4s, every trigger on an item of the template
   (or of its own discovery rule), every {$MACRO} defined, every {#MACRO} discovered;
 - every item key is served by the agent through the passive-check protocol (ZBXD header);
 - the triggers fire exactly at the runbook's thresholds: for each sample, with the metrics
   file of a sensor that has just started (PROMDIR/zero.prom) as the previous check and the
   sample's file (PROMDIR/SAMPLE.prom) as the current one, the agent's values go through the
   items' preprocessing and the trigger expressions, and the set of triggers that fire must
   equal the expected one; the stale-sensor trigger fires on a file not written for 10 minutes.

Trigger functions are evaluated on the one value each check produces (last, min, max, sum and
avg of a single value are that value); any other expression form fails the test, so a new
trigger must come with its evaluation here."""
import json
import os
import re
import shutil
import socket
import struct
import sys
import time

import yaml

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def zbx_get(port, key):
    """One passive check: send the key with the ZBXD header, return the value or None."""
    data = key.encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    if buf[:5] != b"ZBXD\x01" or len(buf) < 13:
        fail("%s: answer without a ZBXD header: %r" % (key, buf[:40]))
        return None
    (n,) = struct.unpack("<I", buf[5:9])
    value = buf[13:13 + n].decode()
    if value.startswith("ZBX_NOTSUPPORTED"):
        return None
    return value


UUID4 = re.compile(r"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$")


def check_shape(exp):
    if exp.get("version") != "6.0":
        fail("template export version is %r, not 6.0" % exp.get("version"))
    uuids = []

    def walk(o):
        if isinstance(o, dict):
            if "uuid" in o:
                uuids.append(o["uuid"])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(exp)
    for x in uuids:
        if not UUID4.match(x):
            fail("uuid %s is not a UUIDv4 in Zabbix's form" % x)
    if len(set(uuids)) != len(uuids):
        fail("duplicate uuids")
    (tpl,) = exp["templates"]
    defined = {m["macro"] for m in tpl.get("macros", [])}
    text = yaml.safe_dump(exp)
    for m in set(re.findall(r"\{\$[A-Z0-9_.]+\}", text)):
        if m not in defined:
            fail("user macro %s is used but not defined in the template" % m)
    return tpl, {m["macro"]: m["value"] for m in tpl.get("macros", [])}


def expand(s, macros):
    for k, v in macros.items():
        s = s.replace(k, v)
    return s


TRIG = re.compile(r"^(last|min|max|sum|avg)\(/([^/]+)/(.+?)(?:,(\d+[smhd]))?\)(>=|<=|<>|>|<|=)(.+)$")


def evaluate(expr, template, values, where):
    """values: item key -> number or None. Returns True/False, or None when unsupported."""
    m = TRIG.match(expr)
    if not m:
        fail("%s: trigger expression %r has a form this test cannot evaluate" % (where, expr))
        return None
    func, host, key, _period, op, rhs = m.groups()
    if host != template:
        fail("%s: trigger on another host/template %r" % (where, host))
    if key not in values:
        fail("%s: trigger on %s, which is not an item of the template" % (where, key))
        return None
    v = values[key]
    if v is None:
        return None
    r = float(rhs)
    return {">": v > r, "<": v < r, "=": v == r, ">=": v >= r, "<=": v <= r, "<>": v != r}[op]


def preprocess(item, prev, cur, dt):
    if cur is None:
        return None
    try:
        v, p = float(cur), (float(prev) if prev is not None else None)
    except ValueError:
        return None  # text in a numeric item: not supported
    for step in item.get("preprocessing", []):
        t = step["type"]
        if t == "MULTIPLIER":
            v *= float(step["parameters"][0])
            if p is not None:
                p *= float(step["parameters"][0])
        elif t in ("SIMPLE_CHANGE", "CHANGE_PER_SECOND"):
            if p is None:
                return None  # Zabbix discards the first value
            v = v - p
            if t == "CHANGE_PER_SECOND":
                v /= dt
        else:
            fail("%s: preprocessing %s not handled by this test" % (item["key"], t))
            return None
    return v


class Sensor:
    def __init__(self, tpl, macros, port, statedir):
        self.tpl, self.macros, self.port = tpl, macros, port
        self.file = os.path.join(statedir, expand("{$FLOWMEDIC.SENSOR}", macros) + ".prom")

    def items(self, lld_rows):
        """(item, expanded key, trigger list with expanded names/expressions)"""
        out = []
        for it in self.tpl.get("items", []):
            out.append((it, it["key"], it.get("triggers", [])))
        for rule in self.tpl.get("discovery_rules", []):
            for row in lld_rows:
                for it in rule.get("item_prototypes", []):
                    key = expand(it["key"], row)
                    trig = [dict(t, expression=expand(t["expression"], row), name=expand(t["name"], row))
                            for t in it.get("trigger_prototypes", [])]
                    out.append((it, key, trig))
        return out

    def poll(self, items):
        return {key: zbx_get(self.port, expand(key, self.macros)) for _it, key, _t in items}

    def discover(self):
        rows = []
        for rule in self.tpl.get("discovery_rules", []):
            v = zbx_get(self.port, expand(rule["key"], self.macros))
            if v is None:
                fail("discovery %s not supported" % rule["key"])
                continue
            rows += json.loads(v)
            text = yaml.safe_dump(rule)
            for m in set(re.findall(r"\{#[A-Z0-9_.]+\}", text)):
                if any(m not in r for r in json.loads(v)):
                    fail("LLD macro %s is used by the prototypes but not discovered" % m)
        return rows

    def fired(self, prev_file, cur_file, where):
        shutil.copyfile(cur_file, self.file)
        rows = self.discover()
        items = self.items(rows)
        shutil.copyfile(prev_file, self.file)
        t0 = time.monotonic()
        prev = self.poll(items)
        shutil.copyfile(cur_file, self.file)
        dt = max(time.monotonic() - t0, 1e-3)
        cur = self.poll(items)
        values = {expand(key, self.macros): preprocess(it, prev[key], cur[key], dt)
                  for it, key, _t in items}
        out = set()
        for _it, key, trigs in items:
            for t in trigs:
                if evaluate(expand(t["expression"], self.macros), self.tpl["template"], values,
                            where) is True:
                    out.add(expand(t["name"], self.macros))
        return out, cur, items


def incident_servers(path):
    """Servers with flowmedic_incident_open == 1 in the file (None without the metric)."""
    seen, out = False, set()
    for line in open(path):
        if line.startswith("# TYPE flowmedic_incident_open "):
            seen = True
        m = re.match(r'^flowmedic_incident_open\{.*server="([^"]*)".*\}\s+(\S+)$', line)
        if m and float(m.group(2)) == 1:
            out.add(m.group(1))
    return out if seen else None


SCENARIOS = {
    "http-clean": set(),
    "http-503": {"flowmedic: error rate of 10.99.1.2:8080 over 5%"},
    "http-slow": {"flowmedic: response time p99 of 10.99.1.2:8080 over 2 s",
                  "flowmedic: 10.99.1.2:8080 took over 5 s to answer"},
    "refused": {"flowmedic: error rate of 10.99.1.2:8081 over 5%"},
    "tls12-expired": {"flowmedic: certificate of 10.99.1.2:8443 expires within 30 days",
                      "flowmedic: error rate of 10.99.1.2:8443 over 5%"},
}


def main(argv):
    tpl_path, conf, port, statedir, promdir = argv[0], argv[1], int(argv[2]), argv[3], argv[4]
    exp = yaml.safe_load(open(tpl_path))["zabbix_export"]
    tpl, macros = check_shape(exp)
    served = set(re.findall(r"^UserParameter=([\w.]+)\[\*\],", open(conf).read(), re.M))
    keys = [i["key"] for i in tpl["items"]] + [r["key"] for r in tpl["discovery_rules"]] + \
        [p["key"] for r in tpl["discovery_rules"] for p in r["item_prototypes"]]
    for k in keys:
        if k.split("[")[0] not in served:
            fail("item key %s has no UserParameter in %s" % (k, conf))
    sensor = Sensor(tpl, macros, port, statedir)
    zero = os.path.join(promdir, "zero.prom")
    pending = False
    for name, want in SCENARIOS.items():
        cur = os.path.join(promdir, name + ".prom")
        inc = incident_servers(cur)
        if inc is None:
            pending = True
        else:
            want = want | {"flowmedic: incident open on %s" % s for s in inc}
        got, values, items = sensor.fired(zero, cur, name)
        unsupported = sorted(k for k, v in values.items() if v is None
                             and "flowmedic_incident_open" not in k)
        if unsupported:
            fail("%s: the agent did not answer %s" % (name, unsupported))
        if got != want:
            fail("%s: triggers fired %s, expected %s" % (name, sorted(got), sorted(want)))
        else:
            print("ok %s: %d items, fired %s" % (name, len(items), sorted(got) or "nothing"))
    # A sensor that stopped writing its file.
    cur = os.path.join(promdir, "http-clean.prom")
    stale = os.path.join(promdir, "stale.prom")
    shutil.copyfile(cur, stale)
    old = time.time() - 600
    os.utime(stale, (old, old))
    shutil.copy2(stale, sensor.file)
    age = zbx_get(port, expand("flowmedic.age[{$FLOWMEDIC.SENSOR}]", macros))
    values = {expand("flowmedic.age[{$FLOWMEDIC.SENSOR}]", macros): float(age) if age else None}
    (t,) = tpl["items"][0]["triggers"]
    if evaluate(expand(t["expression"], macros), tpl["template"], values, "stale") is not True:
        fail("a metrics file 600 s old (age %s) does not fire %r" % (age, t["name"]))
    else:
        print("ok stale: age %s s fires %r" % (age, expand(t["name"], macros)))
    if pending:
        print("PENDING: flowmedic exports no flowmedic_incident_open yet: the incident items are "
              "not supported and their trigger was not exercised")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
