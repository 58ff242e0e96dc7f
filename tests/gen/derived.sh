#!/bin/bash
# tests/gen/derived.sh: bad-input and mirror-port samples made from committed samples with
# editcap / mergecap / tcpdump -r / head -c (no namespaces, no root needed):
#   http-clean-truncated.pcap  http-clean.pcap cut in the middle of a packet record (head -c)
#   http-clean-snaplen96.pcap     every packet cut to 96 bytes (editcap -s 96)
#   http-clean-dup.pcap        SPAN-port duplicates: every frame twice, the copy 20 us later
#                              (editcap -t 0.00002 + mergecap)
#   http-clean-oneway.pcap     only the server->client direction (tcpdump -r ... 'src host')
#   http-clean-caploss.pcap    two server data segments removed (editcap -d): capture loss, the
#                              client's ACKs cover bytes the capture never saw
#   http-clean-vlan.pcap       every frame with an 802.1Q tag (VID 100) inserted
#   http-clean-qinq.pcap       every frame with 802.1ad VID 200 + 802.1Q VID 100 inserted
set -euo pipefail
GEN_DIR=$(cd "$(dirname "$0")" && pwd)
S=${GEN_SAMPLES:-$GEN_DIR/../../samples}
S=$(cd "$S" && pwd)
IN="$S/http-clean.pcap"
[ -s "$IN" ] || { echo "run tests/gen/http-clean.sh first" >&2; exit 1; }
T=$(mktemp -d /tmp/fmgen-derived.XXXXXX)
trap 'rm -rf "$T"' EXIT
truth() { # NAME OPERATION EXPECTED [truth.py options, e.g. --no-incidents]
	/usr/bin/python3 "$GEN_DIR/truth.py" --pcap "$S/$1.pcap" --out "$S/$1.truth.json" --name "$1" \
		--set "script=tests/gen/derived.sh" --set "derived_from=http-clean.pcap" --set "operation=$2" \
		--set "expected=$3" --set "generated=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${@:4}"
}
# 1. truncated: cut 20 bytes into the data of the record that starts nearest two thirds in
CUT=$(/usr/bin/python3 - "$IN" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
end = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, starts = 24, []
while off + 16 <= len(d):
    starts.append(off)
    off += 16 + struct.unpack(end + "I", d[off + 8:off + 12])[0]
target = len(d) * 2 // 3
rec = min(starts, key=lambda s: abs(s - target))
print(rec + 16 + 20, starts.index(rec) + 1, len(starts))
PY
)
set -- $CUT
head -c "$1" "$IN" >"$S/http-clean-truncated.pcap"
truth http-clean-truncated "head -c $1 http-clean.pcap (record $2 of $3 cut 20 bytes into its packet data)" \
	"frames 1..$(($2 - 1)) of http-clean.pcap read normally, then the file ends in the middle of record $2: a clear 'truncated' message or malformed count, the earlier packets still analysed, no crash"
# 2. snaplen 96
editcap -s 96 "$IN" "$S/http-clean-snaplen96.pcap"
truth http-clean-snaplen96 "editcap -s 96 http-clean.pcap" \
	"every frame captured to at most 96 bytes (caplen < len): headers intact, HTTP payload cut; no crash, no false retransmissions; payload-based analysis (HTTP status) not possible past the cut"
# 3. SPAN duplicates
editcap -t 0.00002 "$IN" "$T/shift.pcap"
mergecap -w "$S/http-clean-dup.pcap" "$IN" "$T/shift.pcap"
truth http-clean-dup "mergecap of http-clean.pcap and editcap -t 0.00002 of it: every frame twice, 20 us apart" \
	"$(tshark -r "$IN" 2>/dev/null | wc -l) duplicate frames (same IP ID, sequence, length, checksum within 1 ms) dropped and counted before analysis; after that the same results as http-clean.pcap (no retransmission findings). tshark itself counts the copies as retransmissions/dup ACKs" --no-incidents
# 4. one direction only
tcpdump -Z root -r "$IN" -w "$S/http-clean-oneway.pcap" 'src host 10.99.1.2' 2>/dev/null
truth http-clean-oneway "tcpdump -r http-clean.pcap -w out 'src host 10.99.1.2' (server->client packets only)" \
	"only the server->client half of 5 HTTP connections (SYN-ACKs, responses, FINs): recognised and reported as a one-direction capture, not as unanswered or lost traffic"
# 5. capture loss: drop the 2nd and 4th server packets with >= 500 bytes of payload
FR=$(tshark -r "$IN" -Y 'ip.src == 10.99.1.2 && tcp.len >= 500' -T fields -e frame.number 2>/dev/null | sed -n '2p;4p' | tr '\n' ' ')
editcap "$IN" "$S/http-clean-caploss.pcap" $FR
truth http-clean-caploss "editcap -d: frames $FR of http-clean.pcap removed (server response body segments)" \
	"two server->client data segments are missing from the capture but were delivered (the client ACKs them; nothing is retransmitted): capture loss (ACK for unseen data), not network loss"
# 6./7. VLAN tags inserted into every Ethernet frame (802.1Q VID 100; QinQ 802.1ad 200 + 802.1Q 100)
vlan() { # OUT TAGS_HEX
	/usr/bin/python3 - "$IN" "$S/$1.pcap" "$2" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
tag = bytes.fromhex(sys.argv[3])
end = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out, off = bytearray(d[:24]), 24
assert struct.unpack(end + "I", d[20:24])[0] == 1, "not Ethernet"
while off + 16 <= len(d):
    ts, tu, incl, orig = struct.unpack(end + "IIII", d[off:off + 16])
    pkt = d[off + 16:off + 16 + incl]
    pkt = pkt[:12] + tag + pkt[12:]
    out += struct.pack(end + "IIII", ts, tu, incl + len(tag), orig + len(tag)) + pkt
    off += 16 + incl
open(sys.argv[2], "wb").write(out)
PY
}
vlan http-clean-vlan 81000064
truth http-clean-vlan "every Ethernet frame of http-clean.pcap given an 802.1Q tag, VID 100 (inserted after the MAC addresses)" \
	"the same flows and results as http-clean.pcap (5 connections, 10 requests, all 200, no loss), decoded through one VLAN tag" --no-incidents
vlan http-clean-qinq 88a800c881000064
truth http-clean-qinq "every Ethernet frame of http-clean.pcap given two tags: 802.1ad (0x88a8) VID 200 outside, 802.1Q VID 100 inside" \
	"the same flows and results as http-clean.pcap, decoded through QinQ" --no-incidents
chmod 644 "$S"/http-clean-*.pcap "$S"/http-clean-*.truth.json
echo "derived samples written" >&2
