#!/bin/sh
# escape.sh - strings from the wire cannot drive the terminal through `flowmedic report`: a
# database whose certificate subject, SNI and finding detail hold ESC sequences, BEL, a raw
# 0x9b byte (8-bit CSI), U+009B and a right-to-left override prints them escaped ("\x1b",
# "\u009b", ...) in the text report, and as valid UTF-8 JSON with --json. Then the real capture
# samples/tls-hostile-cert.pcap, whose certificate subject holds ESC and U+009B, through JSON
# lines, the report and the live view (tmux, when installed).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need sqlite3 python3
fm_tmpdir
db="$tmp/h.db"
if ! "$FLOWMEDIC" -q -r "$top_srcdir/samples/tls12-expired.pcap" -w "$db" >/dev/null 2>"$tmp/run.err"; then
    # exit 3 means "errors found", which this sample has
    [ $? -eq 3 ] || { cat "$tmp/run.err"; echo "FAIL: flowmedic could not analyse the sample"; exit 1; }
fi
# hostile = ESC [2J, BEL, raw 0x9b, U+009B, ESC ]0;title BEL, U+202E
sqlite3 "$db" "
  UPDATE certificates SET subject = 'CN = a' || char(27) || '[2J' || char(7)
      || CAST(X'9b' AS TEXT) || '31m' || char(155) || '1m' || char(8238) || 'txt.exe';
  UPDATE tls_handshakes SET sni = 'sni' || char(27) || ']0;pwned' || char(7) || CAST(X'9b' AS TEXT);
  UPDATE findings SET detail = detail || ' ' || char(27) || '[31m' || CAST(X'9b' AS TEXT) || char(155)
      WHERE kind = 'cert_expired';" || { echo "FAIL: cannot plant the hostile strings"; exit 1; }
for rel in text json; do
    if [ $rel = json ]; then
        "$FLOWMEDIC" report "$db" --json >"$tmp/out" 2>"$tmp/err"
    else
        "$FLOWMEDIC" report "$db" >"$tmp/out" 2>"$tmp/err"
    fi || { cat "$tmp/err"; echo "FAIL: report ($rel) failed"; exit 1; }
done
fail=0
python3 - "$tmp" <<'PY' || fail=1
import json, subprocess, sys, os
tmp = sys.argv[1]
fm, db = os.environ.get("FLOWMEDIC"), os.path.join(tmp, "h.db")
ok = True
def check(mode, out):
    global ok
    bad = [b for b in (b"\x1b", b"\x07", b"\x9b") if b in out]
    if bad:
        print("FAIL: %s report writes raw control bytes %r" % (mode, bad)); ok = False
    try:
        txt = out.decode("utf-8")
    except UnicodeDecodeError as e:
        print("FAIL: %s report is not valid UTF-8: %s" % (mode, e)); ok = False
        return None
    for ch in ("\u009b", "\u202e"):
        if ch in txt:
            print("FAIL: %s report writes %r unescaped" % (mode, ch)); ok = False
    return txt
text = check("text", subprocess.run([fm, "report", db], capture_output=True).stdout)
if text is not None:
    for want in ("\\x1b[2J\\x07\\x9b31m\\u009b1m\\u202etxt.exe", "\\x1b[31m\\x9b\\u009b"):
        if want not in text:
            print("FAIL: text report lacks the escaped form %s" % want); ok = False
js = check("json", subprocess.run([fm, "report", db, "--json"], capture_output=True).stdout)
if js is not None:
    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)
    if "CN = a\x1b[2J\x07\ufffd31m\x9b1m\u202etxt.exe" not in strings(json.loads(js)):
        print("FAIL: JSON report lost the subject (want raw 0x9b as U+FFFD, the rest kept)"); ok = False
sys.exit(0 if ok else 1)
PY
[ $fail -eq 0 ] && echo "ok   planted strings: text and JSON reports are terminal-safe"

# The real capture samples/tls-hostile-cert.pcap: its certificate's subject holds ESC [2J and
# U+009B. JSON lines, the report and the live view must carry it escaped, never raw.
real="$top_srcdir/samples/tls-hostile-cert.pcap"
"$FLOWMEDIC" -q -r "$real" -w "$tmp/real.db" --json >"$tmp/real.jsonl" 2>"$tmp/real.err"
rc=$?
[ $rc -eq 0 ] || { fail=1; echo "FAIL: analysing $real: status $rc $(cat "$tmp/real.err")"; }
"$FLOWMEDIC" report "$tmp/real.db" >"$tmp/real.txt" 2>&1 || { fail=1; echo "FAIL: report of $real"; }
# the end-of-run summary (and -q's problem lines) quote finding details: escaped too
for q in "" -q; do
    "$FLOWMEDIC" $q -r "$real" >"$tmp/real.sum" 2>&1
    if ! grep -q "cert_invalid_date" "$tmp/real.sum" || LC_ALL=C grep -q "$(printf '\033')" "$tmp/real.sum" ||
        LC_ALL=C grep -q "$(printf '\302\233')" "$tmp/real.sum"; then
        fail=1
        echo "FAIL: summary ${q:-(full)} of the real capture: no finding, or raw control bytes"
    fi
done
python3 - "$tmp/real.jsonl" "$tmp/real.txt" <<'PY' || fail=1
import json, sys
ok = True
for path, what in ((sys.argv[1], "JSON lines"), (sys.argv[2], "report")):
    raw = open(path, "rb").read()
    for b in (b"\x1b", b"\x9b", b"\xc2\x9b"):
        if b in raw:
            print("FAIL: %s of the real capture hold the raw bytes %r" % (what, b)); ok = False
text = open(sys.argv[2], encoding="utf-8").read()
if "\\u009b31m" not in text or "cert_invalid_date" not in text:
    print("FAIL: the report lacks the escaped subject or the cert_invalid_date finding"); ok = False
subjects = [json.loads(l).get("subject") for l in open(sys.argv[1], encoding="utf-8")]
if "O = evil\\1B[2J\u009b31m, CN = invoice.test" not in subjects:
    print("FAIL: JSON cert subject is not the certificate's: %r" % subjects); ok = False
sys.exit(0 if ok else 1)
PY
if command -v tmux >/dev/null 2>&1; then
    unset TMUX
    TMUX_TMPDIR=$tmp
    export TMUX_TMPDIR
    sock=fmesc-$$
    tmux -L $sock -f /dev/null new-session -d -s e -x 160 -y 40 \
        "TERM=xterm-256color '$FLOWMEDIC' --tui --speed max --no-db -r '$real'; sleep 30"
    i=0
    while [ $i -lt 100 ] && ! tmux -L $sock capture-pane -p -t e | grep -q "replay finished"; do
        sleep 0.1
        i=$((i + 1))
    done
    tmux -L $sock capture-pane -p -t e >"$tmp/screen"
    tmux -L $sock kill-server 2>/dev/null
    if ! grep -qF 'evil\1B[2J\u009b31m' "$tmp/screen"; then
        fail=1
        echo "FAIL: the live view does not show the subject escaped:"
        cat "$tmp/screen"
    fi
fi
[ $fail -eq 0 ] && echo "ok   real capture: JSON lines, report and live view show the hostile subject escaped"
exit $fail
