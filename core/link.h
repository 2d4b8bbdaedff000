/* The send and receive path of a peer-to-peer session: the transport, the
 * wire decoder and one send buffer. Internal.
 *
 * Messages are encoded and decoded by protocol.c; this module moves them to
 * and from peers, counts what was sent and received or dropped per peer, and
 * wraps the optional parts of the transport vtable so callers need not check
 * each hook. Nothing here allocates after rn_link_init. */
#ifndef RN_LINK_H
#define RN_LINK_H

#include "peer.h"
#include "protocol.h"
#include "rollnet/rollnet.h"

typedef struct rn_link {
    rollnet_transport transport; /* owned: destroyed by rn_link_free */
    rn_decoder dec;
    bool dec_ready;
    uint8_t send_buf[RN_MAX_MESSAGE];
} rn_link;

/* Takes ownership of `t` (also when it fails). The decoder keeps `a`: it
 * must outlive the link. */
rollnet_error rn_link_init(rn_link *l, const rollnet_transport *t, const rollnet_allocator *a);
/* Closes the connections of peers that have not departed, then destroys the
 * transport and the decoder. Safe on a zeroed link. */
void rn_link_free(rn_link *l, rn_peer *peers, int num_peers);

/* The transport's id for a new outgoing connection, or -1. */
int rn_link_connect(rn_link *l, const char *address, uint64_t now);
/* The next transport event; false when there is none. */
static inline bool rn_link_receive(rn_link *l, uint64_t now, rollnet_transport_event *out)
{
    return l->transport.vtable->receive(l->transport.self, now, out) > 0;
}
void rn_link_close(rn_link *l, int tp);
void rn_link_set_timeout(rn_link *l, const rn_peer *p, uint32_t timeout_ms);
void rn_link_flush(rn_link *l, uint64_t now);
/* What the transport measures (RTT, send queue) into the peer's statistics. */
void rn_link_refresh_info(rn_link *l, rn_peer *p);

/* Encode into the send buffer; 0 when the message does not fit. */
size_t rn_link_encode(rn_link *l, const rn_msg *m, int block_size);
/* Send the first n bytes of the send buffer to `p` and count them. */
static inline void rn_link_send_encoded(rn_link *l, rn_peer *p, rollnet_channel ch, size_t n,
                                        uint64_t now)
{
    if (n > 0 && p->tp >= 0 &&
        l->transport.vtable->send(l->transport.self, p->tp, ch, l->send_buf, n, now) == 0) {
        p->st.bytes_sent += n;
        p->st.messages_sent++;
    }
}
/* Encode and send to one peer. */
void rn_link_send(rn_link *l, rn_peer *p, const rn_msg *m, rollnet_channel ch, uint64_t now);
/* Encode once and send to every live peer (RUNNING or INTERRUPTED). */
void rn_link_broadcast(rn_link *l, rn_peer *peers, int num_peers, const rn_msg *m,
                       rollnet_channel ch, uint64_t now);

/* Decode a datagram from `p` and check that per-frame messages carry its
 * tag. False when the message is dropped (the reason is counted in the
 * peer's statistics); true when *out holds a message from this peer. */
bool rn_link_decode(rn_link *l, rn_peer *p, int block_size, const uint8_t *data, size_t size,
                    rn_msg *out);

#endif
