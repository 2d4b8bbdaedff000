/* The send and receive path of a peer-to-peer session: the transport, the
 * wire decoder and one send buffer. Internal.
 *
 * Messages are encoded and decoded by protocol.c; this module moves them to
 * and from peers, counts what was sent and received or dropped per peer, and
 * wraps the optional parts of the transport vtable so callers need not check
 * each hook. Nothing here allocates after rn_link_init.
 *
 * Transport failures are logged here, with rollnet_error_string: a
 * connection that cannot start, a message the transport refuses (ERROR for
 * the reliable channel, whose messages the protocol counts on; WARN for the
 * unreliable one, whose messages are resent anyway, and for any message to a
 * peer the transport no longer knows, which is going away) and a receive
 * error. To
 * keep a failure that repeats every frame from flooding the log, each source
 * (a peer's channel; receive) gets a line when its error code changes, and
 * then at most one a second while the same code repeats, saying how many
 * failures it stands for. */
#ifndef RN_LINK_H
#define RN_LINK_H

#include "events.h"
#include "peer.h"
#include "protocol.h"
#include "rollnet/rollnet.h"

/* The largest send queue a transport may report (packets); more is clamped. */
#define RN_LINK_MAX_SEND_QUEUE 65535u
/* Least time between two log lines about one repeating transport failure. */
#define RN_LINK_LOG_INTERVAL_MS 1000

/* Where transport failures come from (a peer's channel, or receive) and
 * what the log has said of them. */
typedef struct rn_link_fault {
    rollnet_error err;   /* the code of the last line; OK: none yet */
    uint64_t logged_ms;  /* when that line was written */
    uint32_t unlogged;   /* failures with that code since */
} rn_link_fault;

typedef struct rn_link {
    rollnet_transport transport; /* owned: destroyed by rn_link_free */
    const rn_events *log;        /* where failures are logged; NULL: nowhere */
    rn_decoder dec;
    bool dec_ready;
    rn_link_fault send_fault[RN_MAX_PEERS][2]; /* by peer index and channel */
    rn_link_fault receive_fault;
    uint8_t send_buf[RN_MAX_MESSAGE];
} rn_link;

/* Takes ownership of `t` (also when it fails). The decoder keeps `a` and the
 * link keeps `log` (NULL: no log): both must outlive the link. */
rollnet_error rn_link_init(rn_link *l, const rollnet_transport *t, const rollnet_allocator *a,
                           const rn_events *log);
/* Closes the connections of peers that have not departed, then destroys the
 * transport and the decoder. Safe on a zeroed link. */
void rn_link_free(rn_link *l, rn_peer *peers, int num_peers);

/* The transport's id for a new outgoing connection to peer `p`'s address, or
 * -1 (logged with the transport's reason). */
int rn_link_connect(rn_link *l, const rn_peer *p, uint64_t now);
/* Log a transport failure from one source (see the top of this file). */
void rn_link_fault_log(rn_link *l, rn_link_fault *f, rollnet_error err, uint64_t now,
                       rollnet_log_level level, const char *what);
/* The next transport event; false when there is none or receive failed (logged). */
static inline bool rn_link_receive(rn_link *l, uint64_t now, rollnet_transport_event *out)
{
    out->type = ROLLNET_TRANSPORT_NONE;
    rollnet_error err = l->transport.vtable->receive(l->transport.self, now, out);
    if (err != ROLLNET_ERR_OK) {
        rn_link_fault_log(l, &l->receive_fault, err, now, ROLLNET_LOG_WARN,
                          "transport receive failed");
        return false;
    }
    return out->type != ROLLNET_TRANSPORT_NONE;
}
void rn_link_close(rn_link *l, int tp);
void rn_link_set_timeout(rn_link *l, const rn_peer *p, uint32_t timeout_ms);
void rn_link_flush(rn_link *l, uint64_t now);
/* What the transport measures (RTT, send queue) into the peer's statistics,
 * clamped (RTT and its variation to ROLLNET_MAX_RTT_MS, the queue to
 * RN_LINK_MAX_SEND_QUEUE). Nothing while the peer has no connection. */
void rn_link_refresh_info(rn_link *l, rn_peer *p);

/* Encode into the send buffer; 0 when the message does not fit. */
size_t rn_link_encode(rn_link *l, const rn_msg *m, int block_size);
/* Log a send to `p` that the transport refused. */
void rn_link_send_failed(rn_link *l, const rn_peer *p, rollnet_channel ch, rollnet_error err,
                         uint64_t now);
/* Send the first n bytes of the send buffer to `p` and count them. */
static inline void rn_link_send_encoded(rn_link *l, rn_peer *p, rollnet_channel ch, size_t n,
                                        uint64_t now)
{
    if (n == 0 || p->tp < 0) {
        return;
    }
    rollnet_error err = l->transport.vtable->send(l->transport.self, p->tp, ch, l->send_buf, n,
                                                  now);
    if (err == ROLLNET_ERR_OK) {
        p->st.bytes_sent += n;
        p->st.messages_sent++;
    } else {
        rn_link_send_failed(l, p, ch, err, now);
    }
}
/* Encode and send to one peer. */
void rn_link_send(rn_link *l, rn_peer *p, const rn_msg *m, rollnet_channel ch, uint64_t now);
/* Encode once and send to every live peer (RUNNING or INTERRUPTED) that
 * has not lost its connection. */
void rn_link_broadcast(rn_link *l, rn_peer *peers, int num_peers, const rn_msg *m,
                       rollnet_channel ch, uint64_t now);

/* Decode a datagram from `p` and check that per-frame messages carry its
 * tag. False when the message is dropped (the reason is counted in the
 * peer's statistics); true when *out holds a message from this peer. */
bool rn_link_decode(rn_link *l, rn_peer *p, int block_size, const uint8_t *data, size_t size,
                    rn_msg *out);

#endif
