/*
 * tcp.h - per-direction TCP sequence analysis with Wireshark's tcp.analysis.* definitions,
 * mirror-port duplicate removal, port reuse, handshake timing and reset classification.
 */
#ifndef FM_TCP_H
#define FM_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/pkt.h"

struct flow;
struct tcp_seg;
struct det_ops;
struct pool;

/* The TCP events detector (det_tcp.c), for det_table.c. */
extern const struct det_ops det_tcp_ops;

/* Wrap-safe 32-bit sequence comparisons (RFC 1982 serial arithmetic). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_HOLES 4    /* sequence gaps (segments never captured) remembered per direction */
#define TCP_SYN_LOG 7  /* SYNs whose time and frame a direction keeps (Linux sends 7 at most) */

/*
 * A SYN with the ISN of the direction's previous SYN, sooner than this after the SYN that
 * started the handshake clock, is a copy of it (the same frame seen again on a second VLAN, a
 * second tap or a mirror), not a retry: no SYN retransmission timer fires that soon (Linux
 * starts at 1 s, and never goes below TCP_RTO_MIN, 200 ms). A copy is still a SYN segment on
 * the wire (counted in syn_count and as a retransmission, as tshark counts it) but it does not
 * restart the handshake clock, so the SYN-ACK is timed from the SYN it answers.
 */
#define TCP_SYN_COPY_NS 200000000ull

/* A range of sequence space that was never captured: [start, end). */
struct tcp_hole {
    uint32_t start; /* first missing byte */
    uint32_t end;   /* one past the last missing byte */
    bool used;      /* slot in use */
};

/* Flags remembered from the previous segment of a direction (Wireshark's lastsegmentflags). */
enum {
    TCP_LF_KEEP_ALIVE = 1u << 0, /* the last segment was a keep-alive */
    TCP_LF_ZWP = 1u << 1,        /* the last segment was a zero window probe */
};

/*
 * Loss bookkeeping of one direction, taken from a pool at its first gap or retransmission
 * (a SYN-only or clean flow never takes one): where losses happened.
 */
struct tcp_loss {
    struct tcp_hole rtx[TCP_HOLES];   /* recent retransmitted ranges counted as lost_down */
    struct tcp_hole holes[TCP_HOLES]; /* gaps never captured */
    uint8_t rtx_next;                 /* next slot of rtx[] to overwrite */
};

/* Sequence state of one direction of a flow (the sender's side). */
struct tcp_half {
    uint64_t syn_ts_ns;      /* time of the last SYN (or SYN-ACK) sent, copies aside */
    uint64_t nextseq_ts_ns;  /* when nextseq last advanced */
    uint64_t lastack_ts_ns;  /* when lastack was sent */
    uint64_t data_segs;      /* segments with payload */
    uint64_t rel_top;        /* highest unwrapped relative sequence seen (for rel_seq) */
    uint64_t lost_up;        /* retransmissions of bytes never seen at the tap */
    uint64_t lost_down;      /* retransmissions of bytes seen at the tap */
    uint64_t capture_loss_bytes; /* bytes ACKed by the peer that were never captured */
    uint64_t rtx_unneeded;       /* retransmissions the peer reported as duplicates (D-SACK) */
    uint64_t ctl_rtx;            /* retransmitted SYN or FIN segments without data */
    uint64_t syn_log_ns[TCP_SYN_LOG];    /* times of the first SYNs (no ACK) sent */
    uint64_t syn_log_frame[TCP_SYN_LOG]; /* their frames */
    uint8_t nsyn_log;                    /* entries used */
    uint8_t syn_log_copies;              /* bit i: entry i is a copy (TCP_SYN_COPY_NS), a
                                            retransmission on the wire that did not restart
                                            the handshake clock */
    uint32_t base_seq;           /* ISN (from the SYN) or first seq - 1 */
    uint32_t isn;                /* sequence number of that SYN */
    uint32_t nextseq;            /* highest seq + len seen (raw); 0 = none yet, as in Wireshark */
    uint32_t maxseqtobeacked;/* highest contiguous sequence seen; 0 = none yet */
    uint32_t lastack;        /* ack of the last segment sent; 0 = none yet */
    int32_t dupacknum;       /* duplicate ACKs in a row (-1: after an ACKed unseen segment) */
    uint32_t window;         /* raw window of the last segment (UINT32_MAX before any) */
    uint32_t unseen_acked;   /* end of the bytes the peer ACKed beyond nextseq (capture loss) */
    uint32_t loss;           /* handle of this direction's struct tcp_loss in the loss pool
                                (tcp_analyze's), 0 until a gap or retransmission needs one */
    bool seen;               /* any segment sent in this direction */
    bool base_set;           /* base_seq is known */
    bool syn_seen;           /* a SYN was sent in this direction */
    int8_t win_scale;        /* shift; -1 unknown (no SYN seen), -2 no scaling */
    bool win_from_syn;       /* window came from a SYN: never scaled (Wireshark's is_first_ack) */
    uint8_t lastflags;       /* TCP_LF_* of the last segment */
    bool fin_seen;           /* a FIN was sent */
    bool rst_seen;           /* a RST was sent */
    uint8_t ttl_min;         /* lowest TTL of non-RST segments */
    uint8_t ttl_max;         /* highest TTL of non-RST segments */
    bool ttl_known;          /* ttl_min/max are set */
    bool rel_init;           /* rel_top is set */
    bool unseen_set;         /* unseen_acked is set */
};

/* Letters of Zeek's history whose repeats depend on a sequence number: s, h, f, r. */
enum { TCP_HS_SYN = 0, TCP_HS_SYNACK, TCP_HS_FIN, TCP_HS_RST, TCP_HS__COUNT };
/* Letters written in Zeek's logarithmic fashion (1, 10, 100, ... events): t, w, g. */
enum { TCP_HL_RTX = 0, TCP_HL_ZWIN, TCP_HL_GAP, TCP_HL__COUNT };

/* Zeek's history and conn_state bookkeeping of one direction (the sender's side). */
struct tcp_hist {
    uint8_t once;                     /* bits of the a, d, i, q letters already written */
    uint8_t seq_known;                /* bit per TCP_HS_*: last_seq[] holds a value */
    uint8_t sent;                     /* TCP_HS_* bits of what this side ever sent */
    uint32_t last_seq[TCP_HS__COUNT]; /* sequence number of the last s, h, f, r letter */
    uint32_t count[TCP_HL__COUNT];    /* t, w, g events so far */
    uint32_t next[TCP_HL__COUNT];     /* event count that writes the next letter (1, 10, ..) */
};

/* Flow-wide TCP analysis state. */
struct tcp_flow {
    struct tcp_hist hist[2]; /* per direction (DIR_C2S = originator, upper-case letters) */
    uint8_t hist_len;        /* letters in rec.history */
    int8_t first_rst_dir;    /* direction of the first RST, -1 before any */
    uint64_t mru_syn_ts_ns;    /* time of the latest SYN, either direction (0 = none) */
    uint64_t client_syn_ts_ns; /* latest client SYN, copies aside (0 = none): hs_rtt_ns */
    uint64_t first_rtt_ns;   /* SYN -> first ACK without SYN (Wireshark's first RTT); 0 = unknown */
    uint64_t synack_ts_ns;   /* time of the last SYN-ACK */
    uint32_t synack_isn;     /* sequence number of the last SYN-ACK */
    bool synack_seen;        /* a SYN-ACK was seen */
    bool established;        /* the handshake completed */
    uint8_t fins;            /* bit per direction that sent a FIN */
};

/*
 * What a flow that has sent only client SYNs (the first and its retries, nothing back yet)
 * needs of its TCP state, 20 bytes instead of struct flow's record, halves and tcp_flow:
 * everything else of that state follows from these and the record's times (tcp_syn_unpack).
 */
struct tcp_syn {
    uint32_t isn;                     /* sequence number of the SYNs */
    uint32_t ack;                     /* their acknowledgment field (normally 0) */
    uint32_t dframe[TCP_SYN_LOG - 1]; /* frame of SYN i + 1 (a retry) - the first SYN's */
    uint32_t dt_lo[TCP_SYN_LOG - 1];  /* its time - the first SYN's, ns: low 32 bits */
    uint8_t dt_hi[TCP_SYN_LOG - 1];   /* ... and the next 8 (up to 1099 s) */
    uint16_t nsyn;                    /* SYNs (client packets) */
    uint16_t dups;                    /* mirror duplicates of them */
    uint16_t win;                     /* raw window of the last SYN */
    int8_t wscale;                    /* the client's window scale (struct tcp_half.win_scale) */
    uint8_t ttl_min;                  /* lowest TTL of the SYNs */
    uint8_t ttl_max;                  /* highest TTL of the SYNs */
    uint8_t copies;                   /* which of them were copies (tcp_half.syn_log_copies) */
};

/*
 * The compact form of f's TCP state and record counters. Never fails: whether the form says
 * everything is for the caller to check (flow.c unpacks it again and compares).
 */
void tcp_syn_pack(const struct flow *f, struct tcp_syn *s);

/*
 * f's TCP state and record counters as after s->nsyn client SYNs, the first at
 * rec.first_ts_ns and the last at rec.last_ts_ns (f zeroed, rec times and endpoints set).
 */
void tcp_syn_unpack(struct flow *f, const struct tcp_syn *s);

/*
 * SPAN duplicate filter: the frames of the last window (a ring of 2^order in arrival order,
 * hash-indexed), shared by all flows, so copies are found however many frames lie between
 * them. A frame is a copy only if its whole signature (addresses, ports, IP ID, seq, ack,
 * length, flags, window, TCP checksum and timestamps) equals a remembered one: the verdict
 * depends on the frames and the window, never on the per-run hash key. No allocation per packet.
 */
struct tcp_dedup;

/* A filter remembering up to 2^order frames (4..24); NULL when out of memory. */
struct tcp_dedup *tcp_dedup_new(unsigned order);
void tcp_dedup_free(struct tcp_dedup *d);

/*
 * Is p a copy of a frame seen at most window_ns earlier? If not, p is remembered. Frames
 * without a per-transmission identifier (IPv4 ID 0 or IPv6, and no TCP timestamps option)
 * are never judged copies: identical RSTs a stack sends back-to-back are real packets. When
 * the window holds more frames than the filter, the oldest are forgotten first (counted).
 */
bool tcp_dedup_check(struct tcp_dedup *d, const struct pkt *p, uint64_t window_ns);

/* Frames forgotten while still inside the window because the filter was full. */
uint64_t tcp_dedup_overflows(const struct tcp_dedup *d);

/* Does p start a new connection on f's 4-tuple (a SYN with another ISN)? */
bool tcp_is_reuse(const struct flow *f, const struct pkt *p, int dir);

/*
 * Start the TCP state of a new flow (rec endpoints are set by the caller); p is its first
 * segment. Sets rec.state, saw_syn and the handshake times to their initial values.
 */
void tcp_flow_start(struct flow *f, const struct pkt *p);

/*
 * Analyse one segment of f in direction dir: sequence events, handshake, state, resets.
 * Fills *s (which the caller zeroed except dir/flow_new) and the flow's rec counters ev[][],
 * state, close, handshake RTTs, syn/synack counts. Returns true when the flow just closed.
 * loss is a pool of struct tcp_loss blocks (two per flow the table holds); a direction takes
 * one at its first gap or retransmission. When it is empty, that direction's loss locations
 * are not kept (its events are still counted).
 */
bool tcp_analyze(struct flow *f, const struct pkt *p, int dir, struct tcp_seg *s,
                 struct pool *loss);

/* f ends: give its directions' loss bookkeeping back to the pool (see tcp_analyze). */
void tcp_flow_end(struct flow *f, struct pool *loss);

/* Which end of p is the server: 0 = p->dst, 1 = p->src. servers may be NULL (n = 0). */
int tcp_pick_server(const struct pkt *p, const struct endpoint *servers, size_t n);

/* True when ep matches a --server entry (port 0 = any port). */
bool tcp_ep_is_server(const struct endpoint *ep, const struct endpoint *servers, size_t n);

#endif
