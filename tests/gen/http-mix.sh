#!/bin/bash
# tests/gen/http-mix.sh: samples/http-mix.pcap - per-request HTTP records: a Python HTTP/1.1
# server on 8080 answering by path (/api/pay* 503, /missing* 404, else 200; /chunked with a
# chunked body), and a client with 5 connections: 6 sequential requests (queries, 404, 503, a
# POST with a 40-byte body, HEAD, chunked), 3 pipelined in one write, 3 with hostile or long
# fields (a 315-byte path, a 156-byte Host, a path with a quote, a backslash and ESC), 6
# pipelined in one write (more than flowmedic follows per connection), 2 sequential. No loss.
. "$(dirname "$0")/lib.sh"
gen_init http-mix
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-mix-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
cap_start
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" http-mix-client --host "$S4" --port 8080 --gap 0.2 \
	--out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none \
	--set "server_rule=status by path: /api/pay* 503, /missing* 404, anything else 200 (/chunked: chunked body)" \
	--set "expected=20 requests on 5 connections: 4 x 503 (/api/pay?amount=5, POST /api/pay, /api/pay/retry, /api/pay/status), 2 x 404, 14 x 200; 9 pipelined requests (3 and 6 in one write each); no loss, no resets"
