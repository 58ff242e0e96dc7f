/*
 * schema.c - the flowmedic database schema, one SQL script per user_version step.
 * Times are REAL seconds since the epoch (UTC); endpoints are "ip:port" ("[ip]:port" for
 * IPv6) plus separate ip/port columns. README.md ("The findings database") describes every table and view.
 */
#include "store/schema.h"

/* Version 1: runs, flows and findings. */
static const char schema_v1[] =
    "CREATE TABLE runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  started REAL NOT NULL,\n"     /* wall clock when the run started */
    "  ended REAL,\n"                /* wall clock at the end; NULL: running or killed */
    "  sources TEXT NOT NULL,\n"     /* capture files (comma separated) or iface:NAME */
    "  filter TEXT,\n"               /* BPF filter */
    "  servers TEXT,\n"              /* --server list */
    "  options TEXT,\n"              /* the command line */
    "  version TEXT NOT NULL,\n"     /* flowmedic version */
    "  first_ts REAL,\n"             /* capture time of the first frame */
    "  last_ts REAL,\n"              /* capture time of the last frame */
    "  packets INTEGER,\n"           /* frames read */
    "  tcp_packets INTEGER,\n"       /* TCP segments analysed */
    "  bytes INTEGER,\n"             /* frame bytes on the wire */
    "  flows INTEGER,\n"             /* flows created */
    "  dropped_kernel INTEGER,\n"    /* pcap_stats ps_drop */
    "  dropped_if INTEGER,\n"        /* pcap_stats ps_ifdrop */
    "  malformed INTEGER,\n"         /* malformed or truncated frames */
    "  evicted INTEGER,\n"           /* flows evicted at the flow cap */
    "  mirror_duplicates INTEGER,\n" /* SPAN duplicates dropped */
    "  store_dropped INTEGER NOT NULL DEFAULT 0,\n" /* records not written (queue full, error) */
    "  status TEXT NOT NULL DEFAULT 'running',\n"   /* running, complete, incomplete, failed */
    "  error TEXT\n"                                /* why the run is incomplete or failed */
    ");\n"
    "CREATE TABLE flows (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  flow_id INTEGER NOT NULL,\n"
    "  client TEXT NOT NULL, server TEXT NOT NULL,\n"
    "  client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,\n"
    "  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  first_ts REAL NOT NULL, last_ts REAL NOT NULL, first_frame INTEGER,\n"
    "  state TEXT NOT NULL, close TEXT NOT NULL,\n"
    "  saw_syn INTEGER NOT NULL, one_direction INTEGER NOT NULL,\n"
    "  packets_c2s INTEGER NOT NULL, packets_s2c INTEGER NOT NULL,\n"
    "  bytes_c2s INTEGER NOT NULL, bytes_s2c INTEGER NOT NULL,\n"
    "  retransmission_c2s INTEGER NOT NULL, retransmission_s2c INTEGER NOT NULL,\n"
    "  fast_retransmission_c2s INTEGER NOT NULL, fast_retransmission_s2c INTEGER NOT NULL,\n"
    "  spurious_retransmission_c2s INTEGER NOT NULL,\n"
    "  spurious_retransmission_s2c INTEGER NOT NULL,\n"
    "  out_of_order_c2s INTEGER NOT NULL, out_of_order_s2c INTEGER NOT NULL,\n"
    "  lost_segment_c2s INTEGER NOT NULL, lost_segment_s2c INTEGER NOT NULL,\n"
    "  dup_ack_c2s INTEGER NOT NULL, dup_ack_s2c INTEGER NOT NULL,\n"
    "  zero_window_c2s INTEGER NOT NULL, zero_window_s2c INTEGER NOT NULL,\n"
    "  window_full_c2s INTEGER NOT NULL, window_full_s2c INTEGER NOT NULL,\n"
    "  keep_alive_c2s INTEGER NOT NULL, keep_alive_s2c INTEGER NOT NULL,\n"
    "  reset_c2s INTEGER NOT NULL, reset_s2c INTEGER NOT NULL,\n"
    "  capture_loss_c2s INTEGER NOT NULL, capture_loss_s2c INTEGER NOT NULL,\n"
    "  mirror_duplicate_c2s INTEGER NOT NULL, mirror_duplicate_s2c INTEGER NOT NULL,\n"
    "  retrans_total INTEGER NOT NULL,\n" /* all retransmission kinds, both ways */
    "  hs_rtt_server REAL,\n"             /* SYN -> SYN-ACK seconds, NULL if unknown */
    "  hs_rtt_client REAL,\n"             /* SYN-ACK -> ACK seconds, NULL if unknown */
    "  syn_count INTEGER NOT NULL, synack_count INTEGER NOT NULL\n"
    ");\n"
    "CREATE INDEX flows_run_flow ON flows(run_id, flow_id);\n"
    "CREATE INDEX flows_worst ON flows(run_id, retrans_total);\n"
    "CREATE INDEX flows_server ON flows(server_ip, server_port, first_ts);\n"
    "CREATE TABLE findings (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  ts REAL NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"     /* finding kind (DESIGN.md names) */
    "  severity TEXT NOT NULL,\n" /* info, warn, error */
    "  flow_id INTEGER,\n"        /* NULL for server-level findings */
    "  client TEXT, server TEXT NOT NULL,\n"
    "  client_ip TEXT, client_port INTEGER,\n"
    "  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  detail TEXT NOT NULL,\n"
    "  frames TEXT,\n" /* evidence frame numbers, comma separated */
    "  confidence REAL,\n"
    "  extra TEXT\n" /* kind-specific fields, a JSON object */
    ");\n"
    "CREATE INDEX findings_kind_server_ts ON findings(kind, server_ip, server_port, ts);\n"
    "CREATE INDEX findings_run ON findings(run_id, ts);\n";

/* Version 2: TLS handshakes, certificates, server health, alerts; indexes and views. */
static const char schema_v2[] =
    "CREATE TABLE tls_handshakes (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  flow_id INTEGER NOT NULL,\n"
    "  ts REAL NOT NULL,\n" /* ClientHello time */
    "  client TEXT NOT NULL, server TEXT NOT NULL,\n"
    "  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  client_version TEXT, version TEXT,\n" /* "TLS 1.2", ...; version NULL: no ServerHello */
    "  cipher INTEGER,\n"                    /* chosen cipher suite code, NULL if none */
    "  hello_retry INTEGER NOT NULL,\n"
    "  sni TEXT, alpn TEXT, ja3 TEXT, ja3s TEXT, ja4 TEXT,\n"
    "  outcome TEXT NOT NULL,\n"           /* completed, failed_alert, reset, ... */
    "  inferred INTEGER NOT NULL,\n"       /* 1: outcome inferred (TLS 1.3 record sizes) */
    "  alert_level INTEGER, alert TEXT,\n" /* alert description by name, NULL if none */
    "  alert_from TEXT,\n"                 /* client or server (alert or reset sender) */
    "  duration REAL,\n"                   /* handshake seconds, NULL if unknown */
    "  leaf_sha256 TEXT\n"                 /* leaf certificate (certificates.sha256) */
    ");\n"
    "CREATE INDEX tls_server_ts ON tls_handshakes(server_ip, server_port, ts);\n"
    "CREATE INDEX tls_run ON tls_handshakes(run_id, flow_id);\n"
    "CREATE TABLE certificates (\n"
    "  sha256 TEXT PRIMARY KEY,\n"
    "  subject TEXT, issuer TEXT, sans TEXT, serial TEXT,\n"
    "  not_before REAL, not_after REAL,\n"
    "  key_type TEXT, key_bits INTEGER, sig_alg TEXT,\n"
    "  self_signed INTEGER, chain_pos INTEGER,\n"
    "  first_seen REAL NOT NULL, last_seen REAL NOT NULL,\n" /* capture times */
    "  first_run_id INTEGER, last_run_id INTEGER,\n"
    "  first_server TEXT, last_server TEXT\n" /* server that presented it */
    ");\n"
    "CREATE INDEX certs_not_after ON certificates(not_after);\n"
    "CREATE TABLE server_health (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  start REAL NOT NULL, len REAL NOT NULL,\n" /* interval start (capture time), seconds */
    "  server TEXT NOT NULL, server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  attempts INTEGER, established INTEGER,\n"
    "  failed_refused INTEGER, failed_timeout INTEGER, failed_backlog INTEGER,\n"
    "  failed_reset INTEGER, failed_tls INTEGER,\n"
    "  syn_retries INTEGER, synack_retries INTEGER, resets INTEGER, zero_windows INTEGER,\n"
    "  data_segs_c2s INTEGER, data_segs_s2c INTEGER,\n"
    "  retrans_segs_c2s INTEGER, retrans_segs_s2c INTEGER,\n"
    "  bytes_c2s INTEGER, bytes_s2c INTEGER,\n"
    "  http_requests INTEGER, http_5xx INTEGER, slow_responses INTEGER,\n"
    "  hs_rtt_n INTEGER, hs_rtt_p50 REAL, hs_rtt_p95 REAL, hs_rtt_p99 REAL,\n" /* seconds */
    "  resp_n INTEGER, resp_p50 REAL, resp_p95 REAL, resp_p99 REAL,\n"         /* seconds */
    "  error_rate REAL, retrans_rate REAL,\n"                                  /* 0..1 */
    "  open_alerts INTEGER\n" /* bit per alert rule open at the end */
    ");\n"
    "CREATE INDEX health_server_start ON server_health(server_ip, server_port, start);\n"
    "CREATE INDEX health_run ON server_health(run_id, start);\n"
    "CREATE TABLE alerts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  server TEXT NOT NULL, server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  rule TEXT NOT NULL,\n"                /* which threshold (alert_rule_name) */
    "  opened REAL NOT NULL, closed REAL,\n" /* capture times; closed NULL: still open */
    "  open_detail TEXT, close_detail TEXT\n"
    ");\n"
    "CREATE INDEX alerts_server ON alerts(server_ip, server_port, opened);\n"
    /* Views: the on-call questions. */
    "CREATE VIEW v_failed_connections AS\n"
    "SELECT run_id, server, server_ip, server_port,\n"
    "  sum(kind = 'conn_refused') AS refused,\n"
    "  sum(kind = 'syn_unanswered') AS unanswered,\n"
    "  sum(kind = 'syn_backlog_drop') AS backlog_drop,\n"
    "  sum(kind = 'accept_queue_overflow') AS accept_queue_overflow,\n"
    "  sum(kind = 'reset') AS reset_in_handshake,\n"
    "  sum(kind = 'server_unreachable') AS unreachable,\n"
    "  count(*) AS total,\n"
    "  datetime(min(ts), 'unixepoch') AS first_utc, datetime(max(ts), 'unixepoch') AS last_utc\n"
    "FROM findings\n"
    "WHERE kind IN ('conn_refused', 'syn_unanswered', 'syn_backlog_drop',\n"
    "               'accept_queue_overflow', 'server_unreachable')\n"
    "   OR (kind = 'reset' AND CASE WHEN json_valid(extra)\n"
    "       THEN json_extract(extra, '$.phase') END = 'handshake')\n"
    "GROUP BY run_id, server;\n"
    "CREATE VIEW v_resets_by_phase AS\n"
    "SELECT run_id, server,\n"
    "  coalesce(CASE WHEN json_valid(extra) THEN json_extract(extra, '$.phase') END,\n"
    "           'unknown') AS phase,\n"
    "  coalesce(CASE WHEN json_valid(extra) THEN json_extract(extra, '$.from') END,\n"
    "           'unknown') AS sent_by,\n"
    "  count(*) AS resets,\n"
    "  sum(coalesce(CASE WHEN json_valid(extra)\n"
    "               THEN json_extract(extra, '$.ttl_mismatch') END, 0)) AS ttl_mismatch\n"
    "FROM findings WHERE kind = 'reset'\n"
    "GROUP BY run_id, server, phase, sent_by;\n"
    "CREATE VIEW v_retrans_rate AS\n"
    "SELECT f.run_id, f.server, count(*) AS flows,\n"
    "  sum(f.packets_c2s + f.packets_s2c) AS packets,\n"
    "  sum(f.retrans_total) AS retransmitted,\n"
    "  round(100.0 * sum(f.retrans_total) / max(1, sum(f.packets_c2s + f.packets_s2c)), 3)\n"
    "    AS retrans_pct_of_packets,\n"
    "  h.data_segs AS data_segs, h.retrans_segs AS retrans_segs,\n"
    "  round(100.0 * h.retrans_segs / nullif(h.data_segs, 0), 3) AS retrans_pct_of_data\n"
    "FROM flows f LEFT JOIN (\n"
    "  SELECT run_id, server, sum(data_segs_c2s + data_segs_s2c) AS data_segs,\n"
    "         sum(retrans_segs_c2s + retrans_segs_s2c) AS retrans_segs\n"
    "  FROM server_health GROUP BY run_id, server) h\n"
    "  ON h.run_id = f.run_id AND h.server = f.server\n"
    "GROUP BY f.run_id, f.server;\n"
    "CREATE VIEW v_worst_flows AS\n"
    "SELECT run_id, flow_id, client, server, datetime(first_ts, 'unixepoch') AS first_utc,\n"
    "  round(last_ts - first_ts, 3) AS duration, packets_c2s + packets_s2c AS packets,\n"
    "  retrans_total,\n"
    "  lost_segment_c2s + lost_segment_s2c AS lost,\n"
    "  dup_ack_c2s + dup_ack_s2c AS dup_acks,\n"
    "  zero_window_c2s + zero_window_s2c AS zero_windows,\n"
    "  reset_c2s + reset_s2c AS resets, close, hs_rtt_server, hs_rtt_client\n"
    "FROM flows\n"
    "ORDER BY retrans_total DESC, lost DESC, resets DESC, zero_windows DESC;\n"
    "CREATE VIEW v_tls_failures AS\n"
    "SELECT run_id, server, coalesce(sni, '') AS sni, outcome,\n"
    "  coalesce(alert, '') AS alert, coalesce(alert_from, '') AS alert_from,\n"
    "  max(inferred) AS inferred, count(*) AS handshakes,\n"
    "  datetime(min(ts), 'unixepoch') AS first_utc, datetime(max(ts), 'unixepoch') AS last_utc\n"
    "FROM tls_handshakes WHERE outcome NOT IN ('completed', 'in_progress')\n"
    "GROUP BY run_id, server, sni, outcome, alert, alert_from;\n"
    "CREATE VIEW v_certs_expiring AS\n"
    "SELECT sha256, subject, sans, issuer, last_server,\n"
    "  datetime(not_after, 'unixepoch') AS not_after_utc,\n"
    "  round((not_after - CAST(strftime('%s', 'now') AS REAL)) / 86400.0, 1) AS days_left_now,\n"
    "  round((not_after - (SELECT max(coalesce(last_ts, started)) FROM runs)) / 86400.0, 1)\n"
    "    AS days_left_at_last_run\n"
    "FROM certificates\n"
    "WHERE not_after <= CAST(strftime('%s', 'now') AS REAL) + 30 * 86400\n"
    "   OR not_after <= (SELECT max(coalesce(last_ts, started)) FROM runs) + 30 * 86400\n"
    "ORDER BY not_after;\n"
    "CREATE VIEW v_server_health_latest AS\n"
    "SELECT h.*, datetime(h.start, 'unixepoch') AS start_utc FROM server_health h\n"
    "WHERE h.start = (SELECT max(h2.start) FROM server_health h2\n"
    "                 WHERE h2.server_ip = h.server_ip AND h2.server_port = h.server_port);\n";

/*
 * Version 3: typed finding columns (no view or report reads findings.extra any more; extra
 * stays, the kind-specific fields as a JSON object for people and other tools), data
 * segment and data retransmission counts on flows (SYN and SYN-ACK retries are not data
 * retransmissions), and the views rebuilt on them.
 */
static const char schema_v3[] =
    "ALTER TABLE findings ADD COLUMN side TEXT;\n"            /* sender: client or server (reset,
                                                                 tls_alert, tls_handshake_failed) */
    "ALTER TABLE findings ADD COLUMN phase TEXT;\n"           /* reset: answer_to_syn, handshake,
                                                                 mid, after_fin */
    "ALTER TABLE findings ADD COLUMN ttl_mismatch INTEGER;\n" /* reset, conn_refused: 1 when the
                                                                 RST's TTL differs */
    "UPDATE findings SET side = " STORE_V3_SIDE_SQL ", phase = " STORE_V3_PHASE_SQL
    ", ttl_mismatch = " STORE_V3_TTL_MISMATCH_SQL " WHERE extra IS NOT NULL;\n"
    "ALTER TABLE flows ADD COLUMN data_segs_c2s INTEGER;\n"    /* segments with payload, not */
    "ALTER TABLE flows ADD COLUMN data_segs_s2c INTEGER;\n"    /* keep-alives (NULL: older run) */
    "ALTER TABLE flows ADD COLUMN data_retrans_c2s INTEGER;\n" /* data retransmissions */
    "ALTER TABLE flows ADD COLUMN data_retrans_s2c INTEGER;\n"
    /* retrans_total: data retransmissions from v3 on; an older row keeps its old count
       (every retransmission event, SYN retries included) */
    "DROP VIEW v_failed_connections;\n"
    "CREATE VIEW v_failed_connections AS\n"
    "SELECT run_id, server, server_ip, server_port,\n"
    "  sum(kind = 'conn_refused') AS refused,\n"
    "  sum(kind = 'syn_unanswered') AS unanswered,\n"
    "  sum(kind = 'syn_backlog_drop') AS backlog_drop,\n"
    "  sum(kind = 'accept_queue_overflow') AS accept_queue_overflow,\n"
    "  sum(kind = 'reset') AS reset_in_handshake,\n"
    "  sum(kind = 'server_unreachable') AS unreachable,\n"
    "  count(*) AS total,\n"
    "  datetime(min(ts), 'unixepoch') AS first_utc, datetime(max(ts), 'unixepoch') AS last_utc\n"
    "FROM findings\n"
    "WHERE kind IN ('conn_refused', 'syn_unanswered', 'syn_backlog_drop',\n"
    "               'accept_queue_overflow', 'server_unreachable')\n"
    "   OR (kind = 'reset' AND phase = 'handshake')\n"
    "GROUP BY run_id, server;\n"
    "DROP VIEW v_resets_by_phase;\n"
    "CREATE VIEW v_resets_by_phase AS\n"
    "SELECT run_id, server, coalesce(phase, 'unknown') AS phase,\n"
    "  coalesce(side, 'unknown') AS sent_by, count(*) AS resets,\n"
    "  sum(coalesce(ttl_mismatch, 0)) AS ttl_mismatch\n"
    "FROM findings WHERE kind = 'reset'\n"
    "GROUP BY run_id, server, phase, sent_by;\n"
    "DROP VIEW v_retrans_rate;\n"
    "CREATE VIEW v_retrans_rate AS\n"
    "SELECT run_id, server, count(*) AS flows,\n"
    "  sum(packets_c2s + packets_s2c) AS packets,\n"
    "  sum(retrans_total) AS retransmitted,\n"
    "  round(100.0 * sum(retrans_total) / max(1, sum(packets_c2s + packets_s2c)), 3)\n"
    "    AS retrans_pct_of_packets,\n"
    "  sum(data_segs_c2s + data_segs_s2c) AS data_segs,\n"
    "  sum(data_retrans_c2s + data_retrans_s2c) AS retrans_segs,\n"
    "  round(100.0 * sum(data_retrans_c2s + data_retrans_s2c)\n"
    "        / nullif(sum(data_segs_c2s + data_segs_s2c), 0), 3) AS retrans_pct_of_data\n"
    "FROM flows GROUP BY run_id, server;\n"
    "CREATE INDEX findings_kind_phase ON findings(kind, phase);\n";

/* Version 4: incidents (one row per incident, updated as it evolves) and v_incidents. */
static const char schema_v4[] =
    "CREATE TABLE incidents (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  id INTEGER NOT NULL,\n"           /* incident id within the run (JSON "id") */
    "  server TEXT NOT NULL, server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  client TEXT,\n"                   /* a scan: the scanner */
    "  cause TEXT NOT NULL,\n"           /* service_down, host_unreachable, ... */
    "  layer TEXT NOT NULL,\n"           /* network, transport, tls, application, capture */
    "  severity TEXT NOT NULL,\n"        /* info, warn, error (the latest) */
    "  since REAL NOT NULL,\n"           /* first evidence (capture time) */
    "  until REAL,\n"                    /* end of the problem; NULL while open */
    "  state TEXT NOT NULL,\n"           /* open, closed */
    "  close_reason TEXT,\n"             /* recovered, no_traffic, end_of_input */
    "  updated REAL NOT NULL,\n"         /* capture time of the latest event */
    "  events INTEGER NOT NULL,\n"       /* open/update/close events written */
    "  connections_affected INTEGER, connections_total INTEGER, clients_affected INTEGER,\n"
    "  confidence REAL,\n"
    "  summary TEXT NOT NULL, advice TEXT NOT NULL,\n"
    "  evidence TEXT,\n"                 /* {"kinds":{...},"flows":[...],"frames":[...]} */
    "  PRIMARY KEY (run_id, id)\n"
    ");\n"
    "CREATE INDEX incidents_server ON incidents(server_ip, server_port, since);\n"
    "CREATE VIEW v_incidents AS\n"
    "SELECT run_id, id, severity, cause, layer, server, client,\n"
    "  datetime(since, 'unixepoch') AS since_utc, datetime(until, 'unixepoch') AS until_utc,\n"
    "  round(coalesce(until, updated) - since, 1) AS duration, state, close_reason,\n"
    "  connections_affected, connections_total, clients_affected, confidence, summary, advice\n"
    "FROM incidents\n"
    "ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END,\n"
    "  connections_affected DESC, since;\n";

/*
 * Version 5 (evidence and records): Zeek's conn_state and history per flow; the absolute
 * paths of a run's capture files and its --evidence-dir, for `flowmedic extract`.
 */
static const char schema_v5[] =
    "ALTER TABLE flows ADD COLUMN conn_state TEXT;\n" /* Zeek conn.log conn_state (S0, SF, ..) */
    "ALTER TABLE flows ADD COLUMN history TEXT;\n"    /* Zeek conn.log history letters */
    "ALTER TABLE runs ADD COLUMN inputs TEXT;\n"      /* absolute capture file paths, one a line */
    "ALTER TABLE runs ADD COLUMN evidence_dir TEXT;\n"; /* --evidence-dir, absolute */

/* Version 6: the sensor that wrote a run (--sensor, default the host name), for `flowmedic
 * report A.db B.db ...` over several sensors' databases. */
static const char schema_v6[] = "ALTER TABLE runs ADD COLUMN sensor TEXT;\n";
/*
 * Version 7 (HTTP records): one row per HTTP/1.x request/response exchange, indexed for
 * "which URL returned 503, to whom, when"; the http_5xx findings' typed fields as columns
 * (slow_response fills status and response_time too).
 */
static const char schema_v7[] =
    "CREATE TABLE http_requests (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  flow_id INTEGER NOT NULL,\n"
    "  trans_depth INTEGER NOT NULL,\n" /* position of the request on its connection, from 1 */
    "  ts REAL NOT NULL,\n"             /* the request's first byte (capture time) */
    "  client TEXT NOT NULL, server TEXT NOT NULL,\n"
    "  client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,\n"
    "  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,\n"
    "  method TEXT NOT NULL,\n"
    "  host TEXT,\n"          /* Host header value; NULL: none sent */
    "  path TEXT NOT NULL,\n" /* request-target, query dropped by default */
    "  status INTEGER,\n"     /* final status code; NULL: no response read */
    "  request_body_bytes INTEGER NOT NULL, response_body_bytes INTEGER NOT NULL,\n"
    "  response_time REAL,\n"         /* request end -> first response byte, seconds */
    "  state TEXT NOT NULL,\n"        /* complete, no_response, gap, ... */
    "  gap_bytes INTEGER NOT NULL,\n" /* bytes stepped over unparsed (a capture hole) */
    "  truncated TEXT,\n"             /* fields cut (method,host,path); NULL: none */
    "  request_frame INTEGER NOT NULL, response_frame INTEGER\n"
    ");\n"
    "CREATE INDEX http_status_url ON http_requests(status, host, path, ts);\n"
    "CREATE INDEX http_run_flow ON http_requests(run_id, flow_id);\n"
    "CREATE INDEX http_server_ts ON http_requests(server_ip, server_port, ts);\n"
    "ALTER TABLE findings ADD COLUMN http_method TEXT;\n"    /* http_5xx */
    "ALTER TABLE findings ADD COLUMN http_host TEXT;\n"      /* http_5xx */
    "ALTER TABLE findings ADD COLUMN http_path TEXT;\n"      /* http_5xx */
    "ALTER TABLE findings ADD COLUMN http_status INTEGER;\n" /* http_5xx, slow_response */
    "ALTER TABLE findings ADD COLUMN response_time REAL;\n"; /* http_5xx, slow_response (s) */

/*
 * Version 8 (typed incident evidence): the flows and HTTP requests of an incident's evidence
 * as rows, written with the incident (replaced at each of its events), so that `flowmedic
 * extract --incident` and the report read columns, not the evidence JSON. Older incidents
 * get theirs from that JSON, here, once.
 */
static const char schema_v8[] =
    "CREATE TABLE incident_flows (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  incident_id INTEGER NOT NULL,\n" /* incidents.id */
    "  flow_id INTEGER NOT NULL\n"      /* an evidence flow, in the incident's order */
    ");\n"
    "CREATE INDEX incident_flows_id ON incident_flows(run_id, incident_id);\n"
    "CREATE TABLE incident_requests (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "  incident_id INTEGER NOT NULL,\n" /* incidents.id */
    "  flow_id INTEGER NOT NULL,\n"
    "  frame INTEGER NOT NULL,\n"                  /* the response's first byte */
    "  status INTEGER NOT NULL,\n"                 /* its status code */
    "  method TEXT NOT NULL, path TEXT NOT NULL\n" /* as kept (cut) */
    ");\n"
    "CREATE INDEX incident_requests_id ON incident_requests(run_id, incident_id);\n"
    "INSERT INTO incident_flows SELECT i.run_id, i.id, j.value FROM incidents i,\n"
    "  json_each(CASE WHEN json_valid(i.evidence) THEN i.evidence ELSE '{}' END, '$.flows') j\n"
    "  ORDER BY i.rowid, j.id;\n"
    "INSERT INTO incident_requests " STORE_V8_REQUESTS_SQL("main") ";\n";

/*
 * Version 9: findings_kind_phase (v3) dropped. Every query that used it filters on kind
 * (findings WHERE kind = 'reset', v_resets_by_phase), which findings_kind_server_ts serves as
 * well (README queries 4 and 5: the same plans on its kind prefix, as fast); it cost 10 ms of
 * the 0.11 s index build of the 40 000-flow bench capture, and its upkeep in a live run.
 */
static const char schema_v9[] = "DROP INDEX IF EXISTS findings_kind_phase;\n";

const char *const store_schema_steps[STORE_SCHEMA_VERSION] = {
    schema_v1, schema_v2, schema_v3, schema_v4, schema_v5,
    schema_v6, schema_v7, schema_v8, schema_v9,
};
