#!/usr/bin/env python3
"""tests/tls/check.py - run flowmedic --json on TLS captures and assert what each one must show.

Samples (samples/tls*.pcap, made by tests/gen/tls.sh with real openssl/GnuTLS stacks): the
handshake outcome, alert (code and sender), negotiated version, inferred flag and certificate
findings of the single connection in each; clean samples must give no TLS/certificate error or
warning. tshark cross-checks: plaintext alert frames (tls.alert_message.desc) equal flowmedic's
tls_alert findings, on corpus captures JA3 of every ClientHello equals tshark's, and the cipher
suite name of every tls record equals the one tshark shows for its ServerHello.
Exit 0 all passed, 1 a check failed, 77 nothing to check.
"""
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")
CORPUS = os.path.join(SRC, "..", "shared", "corpus")
if not os.path.isdir(CORPUS):
    CORPUS = "/work/shared/corpus"
TSHARK = shutil.which("tshark")

# sample -> expectations for its one TLS handshake
SAMPLES = {
    # the generator's CA is private (not on the wire, not in the system trust store): judged
    # against the system store, the one certificate sent is a chain missing its issuer
    "tls12-ok": dict(outcome="completed", version=0x0303, clean=True,
                     kinds=["cert_chain_incomplete"]),
    "tls13-ok": dict(outcome="completed", version=0x0304, clean=True),
    "tls12-expired": dict(outcome="failed_alert", version=0x0303, alert=45, frm="client",
                          kinds=["cert_expired", "tls_alert"]),
    "tls13-expired": dict(outcome="rejected_inferred", version=0x0304, frm="client",
                          inferred=True, kinds=["tls_handshake_failed"]),
    "tls13-expired-openssl": dict(outcome="failed_alert", version=0x0304, alert=45,
                                  frm="client", kinds=["tls_alert"]),
    "tls-unknown-ca": dict(outcome="failed_alert", version=0x0303, alert=48, frm="client"),
    "tls-self-signed": dict(outcome="failed_alert", version=0x0303, alert=48, frm="client",
                            kinds=["cert_self_signed"]),
    "tls-name-mismatch": dict(outcome="failed_alert", version=0x0303, alert=42, frm="client",
                              kinds=["cert_name_mismatch"]),
    "tls-version-mismatch": dict(outcome="failed_alert", version=0, alert=70, frm="server"),
    "tls-no-shared-cipher": dict(outcome="failed_alert", version=0, alert=40, frm="server"),
    "tls-no-server-hello": dict(outcome="no_server_hello", version=0),
    "tls-reset-mid-handshake": dict(outcome="reset", version=0, frm="server"),
    # notAfter month 13: cert_invalid_date, and neither an expiry finding nor an alert
    "tls-hostile-cert": dict(outcome="failed_alert", version=0x0303, alert=51, frm="client",
                             kinds=["cert_invalid_date", "tls_alert"],
                             never=["cert_expired", "cert_expiring", "cert_not_yet_valid",
                                    "health_alert"]),
}

# corpus capture -> (outcomes multiset, plaintext alert codes) it must show
CORPUS_EXPECT = {
    "nDPI/tls_alert.pcap": ({"failed_alert": 1}, [70]),
    "arkime/badcurveball.pcap": ({"failed_alert": 1}, [46]),
    "zeek/tls/certificate-request-failed.pcap": ({"failed_alert": 1}, [40]),
    "zeek/tls/tls13draft16-ff52.a01.pcap": ({"failed_alert": 1, "completed": 1}, [48]),
    "zeek/tls/tls1.2.pcap": ({"completed": 1}, []),
    "nDPI/selfsigned.pcap": ({"completed": 1}, []),
    "zeek/tls/tls-early-alert.pcap": ({"completed": 1}, [112]),
}

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: " + what)


def run(pcap, extra=()):
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([os.path.abspath(FM), "-r", os.path.abspath(pcap), "--json",
                            "-w", os.path.join(d, "t.db")] + list(extra),
                           cwd=d, capture_output=True, text=True, timeout=300)
    objs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    run.stderr = p.stderr
    return p.returncode, objs


def tshark_fields(pcap, filt, field):
    p = subprocess.run([TSHARK, "-r", pcap, "-Y", filt, "-T", "fields", "-e", field],
                       capture_output=True, text=True, timeout=300)
    return [v for line in p.stdout.splitlines() for v in line.split(",") if v]


def tshark_ciphers(pcap):
    """(client port, suite name) of every ServerHello, as tshark names the suite ("Cipher
    Suite: TLS_AES_256_GCM_SHA384 (0x1302)"; an unknown one as its number, like flowmedic)."""
    import re
    import xml.etree.ElementTree as ET
    p = subprocess.run([TSHARK, "-r", pcap, "-Y", "tls.handshake.type==2", "-T", "pdml"],
                       capture_output=True, text=True, timeout=300)
    out = collections.Counter()
    for pkt in ET.fromstring(p.stdout).iter("packet"):
        port, names = None, []
        for f in pkt.iter("field"):
            if f.get("name") == "tcp.dstport" and port is None:
                port = int(f.get("show"))
            elif f.get("name") == "tls.handshake.ciphersuite":
                m = re.match(r"Cipher Suite: (\S+) \((0x[0-9a-f]{4})\)", f.get("showname", ""))
                if m:
                    names.append(m.group(2) if m.group(1) == "Unknown" else m.group(1))
        for n in names:
            out[(port, n)] += 1
    return out


def check_ciphers(what, pcap, tls):
    """flowmedic's cipher_name of each handshake with a ServerHello against tshark's."""
    if not TSHARK:
        return
    mine = collections.Counter((t["client"].rsplit(":", 1)[1], t["cipher_name"]) for t in tls
                               if t["version"])
    mine = collections.Counter({(int(p), n): c for (p, n), c in mine.items()})
    theirs = tshark_ciphers(pcap)
    check(all(t["cipher_name"] is None for t in tls if not t["version"]),
          f"{what}: a cipher_name without a ServerHello")
    # tshark may file a ServerHello under retransmissions (see JA3S below): one extra of ours
    check(not (theirs - mine) and sum((mine - theirs).values()) <= 1,
          f"{what}: cipher names {dict(mine)} vs tshark {dict(theirs)}")


def check_sample(name, exp):
    pcap = os.path.join(SRC, "samples", name + ".pcap")
    rc, objs = run(pcap)
    check(rc == 0, f"{name}: flowmedic exit {rc}")
    tls = [o for o in objs if o["type"] == "tls"]
    finds = [o for o in objs if o["type"] == "finding"]
    kinds = collections.Counter(f["kind"] for f in finds)
    check(len(tls) == 1, f"{name}: {len(tls)} tls records, expected 1")
    if not tls:
        return
    t = tls[0]
    check_ciphers(name, pcap, tls)
    check(t["outcome"] == exp["outcome"], f"{name}: outcome {t['outcome']} != {exp['outcome']}")
    check(t["version"] == exp["version"], f"{name}: version {t['version']:#x} != {exp['version']:#x}")
    check(t["inferred"] == exp.get("inferred", False), f"{name}: inferred {t['inferred']}")
    check(t["sni"] == "invoice.test", f"{name}: sni {t['sni']!r}")
    check(len(t["ja3"]) == 32 and t["ja4"].startswith("t1"), f"{name}: ja3/ja4 {t['ja3']} {t['ja4']}")
    if "alert" in exp:
        check(t["alert_desc"] == exp["alert"], f"{name}: alert {t['alert_desc']} != {exp['alert']}")
        check(t["alert_level"] == 2, f"{name}: alert level {t['alert_level']}")
    else:
        check(t["alert_desc"] == -1, f"{name}: unexpected alert {t['alert_desc']}")
    if "frm" in exp:
        check(t["alert_from"] == exp["frm"], f"{name}: from {t['alert_from']} != {exp['frm']}")
    for k in exp.get("kinds", []):
        check(kinds[k] >= 1, f"{name}: no {k} finding ({dict(kinds)})")
    for k in exp.get("never", []):
        check(kinds[k] == 0, f"{name}: unexpected {k} finding ({dict(kinds)})")
    tls_kinds = [k for k in kinds if (k.startswith("tls_") or k.startswith("cert_"))
                 and k not in exp.get("kinds", [])]
    if exp.get("clean"):
        check(not tls_kinds, f"{name}: clean sample has TLS findings {tls_kinds}")
        check(t["duration"] is not None and t["duration"] > 0, f"{name}: duration {t['duration']}")
        check(t["alert_from"] is None, f"{name}: alert_from {t['alert_from']}")
    else:
        check(kinds["tls_handshake_failed"] == 1, f"{name}: tls_handshake_failed {kinds['tls_handshake_failed']}")
        fail = [f for f in finds if f["kind"] == "tls_handshake_failed"][0]
        check(fail["outcome"] == exp["outcome"], f"{name}: finding outcome {fail['outcome']}")
        check(len(fail["detail"]) > 40, f"{name}: detail too short: {fail['detail']!r}")
    if exp["version"] == 0x0303 and exp["outcome"] != "no_server_hello":
        check(len([o for o in objs if o["type"] == "cert"]) >= 1, f"{name}: no certificate record")
    if TSHARK:
        plain = tshark_fields(pcap, "tls.alert_message.desc", "tls.alert_message.desc")
        check(len(plain) == kinds["tls_alert"],
              f"{name}: tshark plaintext alerts {len(plain)} != tls_alert findings {kinds['tls_alert']}")
        if "alert" in exp and plain:
            check(int(plain[0]) == exp["alert"], f"{name}: tshark alert {plain[0]}")


# with the sample's key log (--tls-keylog): the TLS 1.3 handshake is read, not inferred
KEYLOG = {
    # decrypted, its certificate is judged too: the generator's private CA (see tls12-ok)
    "tls13-ok": dict(outcome="completed", version=0x0304, clean=True, certs=1,
                     kinds=["cert_chain_incomplete"]),
    "tls13-expired": dict(outcome="failed_alert", version=0x0304, alert=42, frm="client",
                          kinds=["cert_expired", "tls_alert"], certs=1),
    "tls13-expired-openssl": dict(outcome="failed_alert", version=0x0304, alert=45,
                                  frm="client", kinds=["cert_expired", "tls_alert"], certs=1),
}


def check_keylog(name, exp):
    pcap = os.path.join(SRC, "samples", name + ".pcap")
    kl = os.path.join(SRC, "samples", name + ".keylog")
    if not (os.path.exists(pcap) and os.path.exists(kl)):
        check(False, f"samples/{name}.pcap and .keylog are committed but missing")
        return
    rc, objs = run(pcap, ["--tls-keylog", os.path.abspath(kl)])
    what = f"{name} with key log"
    check(rc == 0, f"{what}: flowmedic exit {rc}")
    tls = [o for o in objs if o["type"] == "tls"]
    finds = [o for o in objs if o["type"] == "finding"]
    kinds = collections.Counter(f["kind"] for f in finds)
    certs = [o for o in objs if o["type"] == "cert"]
    check(len(tls) == 1, f"{what}: {len(tls)} tls records")
    if not tls:
        return
    t = tls[0]
    check(t["outcome"] == exp["outcome"], f"{what}: outcome {t['outcome']} != {exp['outcome']}")
    check(not t["inferred"], f"{what}: still inferred")
    check(len(certs) >= exp["certs"], f"{what}: {len(certs)} certificate records")
    check(t["leaf_sha256"] == (certs[0]["sha256"] if certs else ""), f"{what}: leaf fingerprint")
    if "alert" in exp:
        check(t["alert_desc"] == exp["alert"] and t["alert_from"] == exp["frm"],
              f"{what}: alert {t['alert_desc']} from {t['alert_from']}")
    for k in exp.get("kinds", []):
        check(kinds[k] >= 1, f"{what}: no {k} finding ({dict(kinds)})")
    if exp.get("clean"):
        bad = [k for k in kinds if (k.startswith("tls_") or k.startswith("cert_"))
               and k not in exp.get("kinds", [])]
        check(not bad, f"{what}: clean sample has TLS findings {bad}")
    if TSHARK and "alert" in exp:
        p = subprocess.run([TSHARK, "-r", pcap, "-o", "tls.keylog_file:" + kl, "-Y",
                            "tls.alert_message.desc", "-T", "fields", "-e",
                            "tls.alert_message.desc"], capture_output=True, text=True)
        first = p.stdout.split()
        check(first and int(first[0]) == t["alert_desc"],
              f"{what}: tshark decrypts alert {first[:1]}, flowmedic {t['alert_desc']}")


def read_pcap(path):
    """Classic pcap: (global header bytes, endianness prefix, [(sec, usec, data, origlen)])."""
    with open(path, "rb") as f:
        b = f.read()
    e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    recs, o = [], 24
    while o + 16 <= len(b):
        sec, usec, incl, orig = struct.unpack(e + "IIII", b[o:o + 16])
        recs.append((sec, usec, b[o + 16:o + 16 + incl], orig))
        o += 16 + incl
    return b[:24], e, recs


def write_pcap(path, hdr, e, recs):
    with open(path, "wb") as f:
        f.write(hdr)
        for sec, usec, data, orig in recs:
            f.write(struct.pack(e + "IIII", sec, usec, len(data), orig) + data)


def check_stall(name, keep, outcome, sev):
    """Keep the first `keep` frames of a sample, then repeat the last one 20 s later: the
    handshake made no progress for longer than the stall time (10 s), seen from on_tick."""
    src = os.path.join(SRC, "samples", name + ".pcap")
    if not os.path.exists(src):
        check(False, f"samples/{name}.pcap is committed but missing")
        return
    hdr, e, recs = read_pcap(src)
    recs = recs[:keep]
    sec, usec, data, orig = recs[-1]
    recs.append((sec + 20, usec, data, orig))
    with tempfile.TemporaryDirectory() as d:
        cut = os.path.join(d, "stall.pcap")
        write_pcap(cut, hdr, e, recs)
        rc, objs = run(cut)
    tls = [o for o in objs if o["type"] == "tls"]
    what = f"{name} cut after {keep} frames"
    check(len(tls) == 1 and tls[0]["outcome"] == outcome,
          f"{what}: outcome {[t['outcome'] for t in tls]} != {outcome}")
    fails = [o for o in objs if o.get("kind") == "tls_handshake_failed"]
    check(len(fails) == 1 and fails[0]["severity"] == sev and fails[0]["outcome"] == outcome,
          f"{what}: tls_handshake_failed {[(f['severity'], f['outcome']) for f in fails]}")


def check_capture_loss(name, drop):
    """Drop frame `drop` (1-based) from a clean sample, as a capture that missed it: the bytes
    after the hole cannot be read, so no failure may be claimed (outcome stays in_progress)."""
    src = os.path.join(SRC, "samples", name + ".pcap")
    if not os.path.exists(src):
        check(False, f"samples/{name}.pcap is committed but missing")
        return
    hdr, e, recs = read_pcap(src)
    del recs[drop - 1]
    with tempfile.TemporaryDirectory() as d:
        cut = os.path.join(d, "loss.pcap")
        write_pcap(cut, hdr, e, recs)
        rc, objs = run(cut)
    tls = [o for o in objs if o["type"] == "tls"]
    what = f"{name} without frame {drop}"
    check(len(tls) == 1 and tls[0]["outcome"] in ("in_progress", "completed"),
          f"{what}: outcome {[t['outcome'] for t in tls]}")
    # the certificate itself is judged as on the whole capture (tls12-ok: the private CA)
    bad = [o["kind"] for o in objs if o.get("kind", "").startswith(("tls_", "cert_"))
           and o["kind"] not in SAMPLES[name].get("kinds", [])]
    check(not bad, f"{what}: TLS findings {bad} on a handshake that completed")


def tshark_ja4(pcap):
    """JA4 of every ClientHello, computed here from tshark's dissection (PDML) with the FoxIO
    algorithm - an implementation independent of analyzers/tls.c."""
    import hashlib
    import xml.etree.ElementTree as ET
    p = subprocess.run([TSHARK, "-r", pcap, "-Y", "tls.handshake.type==1", "-T", "pdml"],
                       capture_output=True, text=True, timeout=300)
    grease = lambda v: (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)
    out = []
    for pkt in ET.fromstring(p.stdout).iter("packet"):
        ciph, exts, sigs, vers, alpn, ext = [], [], [], [], None, None
        for f in pkt.iter("field"):
            n, v = f.get("name"), f.get("show")
            if n == "tls.handshake.type" and v == "1" and exts:
                break  # a second ClientHello in the same frame: keep the first
            if n == "tls.handshake.ciphersuite":
                ciph.append(int(v, 0))
            elif n == "tls.handshake.extension.type":
                ext = int(v)
                exts.append(ext)
            elif n == "tls.handshake.sig_hash_alg" and ext == 13:
                sigs.append(int(v, 0))
            elif n == "tls.handshake.extensions.supported_version":
                vers.append(int(v, 0))
            elif n == "tls.handshake.extensions_alpn_str" and alpn is None:
                alpn = v
        ciph = [c for c in ciph if not grease(c)]
        exts = [e for e in exts if not grease(e)]
        sigs = [g for g in sigs if not grease(g)]
        vers = [v for v in vers if not grease(v)]
        ver = max(vers) if vers else None
        if ver is None:
            for f in pkt.iter("field"):
                if f.get("name") == "tls.handshake.version":
                    ver = int(f.get("show"), 0)
                    break
        label = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}.get(ver, "00")
        if alpn:
            a = alpn if alpn[0].isalnum() and alpn[-1].isalnum() else alpn.encode().hex()
            a = a[0] + a[-1]
        else:
            a = "00"
        h = lambda t: hashlib.sha256(t.encode()).hexdigest()[:12] if t else "000000000000"
        b = h(",".join("%04x" % c for c in sorted(ciph)))
        rest = sorted(e for e in exts if e not in (0, 16))
        c = ",".join("%04x" % e for e in rest)
        if sigs:
            c += "_" + ",".join("%04x" % g for g in sigs)
        c = h(c) if rest else "000000000000"
        out.append("t%s%s%02d%02d%s_%s_%s" % (label, "d" if 0 in exts else "i", min(len(ciph), 99),
                                               min(len(exts), 99), a, b, c))
    return out


# Chain samples (tests/gen/tls-chain.sh): kind, OpenSSL code and the subject the error is about,
# with --ca-file of the generator's root (samples/tls-chain-root.pem) and against the system
# trust store (where that private root is unknown, so even the good chain is incomplete).
CHAINS = {
    "tls-chain-incomplete": dict(ca=("cert_chain_incomplete", 20, "CN = invoice.test"),
                                 system=("cert_chain_incomplete", 20, "CN = invoice.test")),
    "tls-chain-untrusted": dict(ca=("cert_untrusted", 19, "O = Elsewhere, CN = Elsewhere chain root"),
                                system=("cert_untrusted", 19,
                                        "O = Elsewhere, CN = Elsewhere chain root")),
    "tls-chain-ok": dict(ca=None,
                         system=("cert_chain_incomplete", 20,
                                 "O = flowmedic tests, CN = flowmedic chain test intermediate")),
}
CHAIN_KINDS = ("cert_untrusted", "cert_chain_incomplete")


def tshark_cert_counts(pcap):
    """Certificates per server Certificate message, as tshark dissects them. tshark does not
    verify chains: it only says what was sent, which is what chain_sent must equal."""
    p = subprocess.run([TSHARK, "-r", pcap, "-Y", "tls.handshake.type==11", "-T", "fields",
                        "-e", "tls.handshake.certificate"], capture_output=True, text=True,
                       timeout=300)
    return [len(l.split(",")) for l in p.stdout.splitlines() if l]


def check_chain(name, exp):
    pcap = os.path.join(SRC, "samples", name + ".pcap")
    root = os.path.join(SRC, "samples", "tls-chain-root.pem")
    if not (os.path.exists(pcap) and os.path.exists(root)):
        check(False, f"samples/{name}.pcap and tls-chain-root.pem are committed but missing")
        return
    counts = tshark_cert_counts(pcap) if TSHARK else None
    for trust, extra in (("ca", ["--ca-file", root]), ("system", [])):
        what = f"{name} ({'--ca-file' if extra else 'system trust store'})"
        rc, objs = run(pcap, extra)
        check(rc == 0, f"{what}: exit {rc}")
        chain = [o for o in objs if o.get("kind") in CHAIN_KINDS]
        certs = [o for o in objs if o["type"] == "cert"]
        if counts is not None:
            check(counts == [len(certs)], f"{what}: tshark certificates {counts}, cert records {len(certs)}")
        want = exp[trust]
        if want is None:
            check(not chain, f"{what}: unexpected {[o['kind'] for o in chain]}")
            continue
        check(len(chain) == 1, f"{what}: {len(chain)} chain findings, expected 1")
        if not chain:
            continue
        f = chain[0]
        check((f["kind"], f["verify_code"], f["subject"]) == want,
              f"{what}: {f['kind']} {f['verify_code']} {f['subject']!r} != {want}")
        check(f["severity"] == ("error" if extra else "warn"), f"{what}: severity {f['severity']}")
        check(f["trust"] == ("ca_file" if extra else "system"), f"{what}: trust {f['trust']}")
        if counts is not None:
            check([f["chain_sent"]] == counts, f"{what}: chain_sent {f['chain_sent']} != tshark {counts}")
        check(len(f["verify_status"]) > 10 and len(f["detail"]) > 60, f"{what}: text {f!r}")
    # once per (server, chain): the capture twice in a row (the second copy 60 s later, the
    # same server and chain) gives two handshakes and still one chain finding
    hdr, e, recs = read_pcap(pcap)
    with tempfile.TemporaryDirectory() as d:
        twice = os.path.join(d, "twice.pcap")
        write_pcap(twice, hdr, e, recs + [(sec + 60, us, data, orig) for sec, us, data, orig in recs])
        rc, objs = run(twice)
    n_tls = len([o for o in objs if o["type"] == "tls"])
    n_chain = len([o for o in objs if o.get("kind") in CHAIN_KINDS])
    check(n_tls == 2 and n_chain == 1, f"{name} twice: {n_tls} handshakes, {n_chain} chain findings")
    # judged at the capture's own time: replayed 2 years later, the leaf has expired - that is
    # cert_expired's to say, never the verifier's (no chain finding with the right root)
    hdr, e, recs = read_pcap(pcap)
    with tempfile.TemporaryDirectory() as d:
        later = os.path.join(d, "later.pcap")
        write_pcap(later, hdr, e, [(sec + 2 * 365 * 86400, us, data, orig) for sec, us, data, orig in recs])
        rc, objs = run(later, ["--ca-file", root])
    kinds = collections.Counter(o.get("kind") for o in objs if o["type"] == "finding")
    want = exp["ca"][0] if exp["ca"] else None
    check(kinds["cert_expired"] >= 1, f"{name} two years later: no cert_expired ({dict(kinds)})")
    check(sorted(k for k in kinds if k in CHAIN_KINDS) == ([want] if want else []),
          f"{name} two years later: chain findings {dict(kinds)} (expiry is not the verifier's)")


def check_zeek_missing_intermediate():
    """Zeek's own capture of a server without its intermediate, judged as Zeek's validate-certs
    baseline judges it (testing/btest/Baseline/scripts.policy.protocols.ssl.validate-certs-no-
    cache/ssl.log, read from Zeek's repository): 128.32.169.140:443 sends its leaf alone,
    twice - 'unable to get local issuer certificate' (Zeek logs it per connection, flowmedic
    once per server and chain); 72.167.102.91:443 sends leaf + intermediates - 'ok' (against
    Debian's ca-certificates, which holds its Starfield root)."""
    rel = "zeek/tls/missing-intermediate.pcap"
    pcap = os.path.join(CORPUS, rel)
    if not os.path.exists(pcap):
        return
    rc, objs = run(pcap)
    chain = [(o["server"], o["kind"], o["verify_code"], o["chain_sent"]) for o in objs
             if o.get("kind") in CHAIN_KINDS]
    check(chain == [("128.32.169.140:443", "cert_chain_incomplete", 20, 1)],
          f"{rel}: chain findings {chain}")
    tls = collections.Counter(o["server"] for o in objs if o["type"] == "tls")
    check(tls == {"128.32.169.140:443": 2, "72.167.102.91:443": 1}, f"{rel}: handshakes {dict(tls)}")


def check_pool_exhausted():
    """One stream session (stream-buffers = 2) for a capture of 40 TLS connections: the ones
    that find the pool busy are counted and said, the others still analysed, nothing crashes."""
    rel = "suricata-verify/tls/tls-subjectaltname/input.pcap"
    pcap = os.path.join(CORPUS, rel)
    if not os.path.exists(pcap):
        return
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "fm.conf")
        with open(conf, "w") as f:
            f.write("stream-buffers = 2\n")
        rc, objs = run(pcap, ["--config", conf])
    tls = [o for o in objs if o["type"] == "tls"]
    import re
    # with workers, each says how many of its connections it could not follow
    m = re.findall(r"TLS: (\d+) TLS connections not analysed", run.stderr)
    check(rc == 0 and m, f"pool exhausted: exit {rc}, no warning in {run.stderr!r}")
    if m:
        skipped = sum(int(x) for x in m)
        check(len(tls) + skipped == 40 and len(tls) > 0,
              f"pool exhausted: {len(tls)} analysed + {skipped} not != 40 ClientHellos")


def check_corpus(rel, exp):
    pcap = os.path.join(CORPUS, rel)
    rc, objs = run(pcap)
    tls = [o for o in objs if o["type"] == "tls"]
    outcomes = collections.Counter(t["outcome"] for t in tls)
    alerts = sorted(f["alert_code"] for f in objs if f.get("kind") == "tls_alert")
    if exp is not None:
        check(dict(outcomes) == exp[0], f"{rel}: outcomes {dict(outcomes)} != {exp[0]}")
        check(alerts == sorted(exp[1]), f"{rel}: alerts {alerts} != {exp[1]}")
    if TSHARK:
        ja3 = collections.Counter(tshark_fields(pcap, "tls.handshake.type==1", "tls.handshake.ja3"))
        mine = collections.Counter(t["ja3"] for t in tls)
        check(mine == ja3, f"{rel}: JA3 {dict(mine)} != tshark {dict(ja3)}")
        # JA3S: every ServerHello tshark dissects must be ours too. tshark may dissect fewer: in
        # tls-subjectaltname one connection reuses a port after a RST and tshark files its
        # ServerHello segments under retransmissions; at most one such extra is accepted.
        ja3s = collections.Counter(tshark_fields(pcap, "tls.handshake.type==2",
                                                 "tls.handshake.ja3s"))
        ja4 = collections.Counter(tshark_ja4(pcap))
        mine4 = collections.Counter(t["ja4"] for t in tls)
        check(mine4 == ja4, f"{rel}: JA4 {dict(mine4)} != from tshark {dict(ja4)}")
        mine_s = collections.Counter(t["ja3s"] for t in tls if t["ja3s"])
        extra = mine_s - ja3s
        check(not (ja3s - mine_s) and sum(extra.values()) <= 1,
              f"{rel}: JA3S {dict(mine_s)} vs tshark {dict(ja3s)}")
        plain = tshark_fields(pcap, "tls.alert_message.desc", "tls.alert_message.desc")
        check(len(plain) == len(alerts), f"{rel}: tshark plaintext alerts {len(plain)} != {len(alerts)}")
        check_ciphers(rel, pcap, tls)


def main():
    ran = 0
    for name, exp in SAMPLES.items():
        if os.path.exists(os.path.join(SRC, "samples", name + ".pcap")):
            check_sample(name, exp)
            ran += 1
        else:
            check(False, f"samples/{name}.pcap is committed but missing")
    for name, exp in KEYLOG.items():
        check_keylog(name, exp)
    for name, exp in CHAINS.items():
        check_chain(name, exp)
        ran += 1
    # no progress after the server's flight; no answer at all and the client keeps waiting
    check_stall("tls12-expired", 7, "stalled", "warn")
    check_stall("tls-no-server-hello", 5, "no_server_hello", "error")
    # the server's CCS + Finished segment missing from the capture (not from the network)
    check_capture_loss("tls12-ok", 9)
    if os.path.isdir(CORPUS):
        check_pool_exhausted()
        check_zeek_missing_intermediate()
        manifest = os.path.join(CORPUS, "MANIFEST.tsv")
        rels = set(CORPUS_EXPECT)
        if os.path.exists(manifest):
            with open(manifest) as f:
                head = f.readline().rstrip("\n").split("\t")
                ci = head.index("tls_client_hello")
                for line in f:
                    c = line.rstrip("\n").split("\t")
                    if len(c) > ci and c[ci].isdigit() and int(c[ci]) > 0:
                        rels.add(c[0])
        for rel in sorted(rels):
            if os.path.exists(os.path.join(CORPUS, rel)):
                check_corpus(rel, CORPUS_EXPECT.get(rel))
                ran += 1
    if ran == 0:
        print("SKIP: no TLS sample or corpus capture present")
        return 77
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
