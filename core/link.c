#include <string.h>

#include "link.h"

rollnet_error rn_link_init(rn_link *l, const rollnet_transport *t, const rollnet_allocator *a)
{
    memset(l, 0, sizeof(*l));
    l->transport = *t;
    rollnet_error err = rn_decoder_init(&l->dec, a);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    l->dec_ready = true;
    return ROLLNET_ERR_OK;
}

void rn_link_free(rn_link *l, rn_peer *peers, int num_peers)
{
    if (l->transport.vtable) {
        for (int i = 0; i < num_peers; i++) {
            if (peers[i].tp >= 0 && !rn_peer_departed(&peers[i])) {
                rn_link_close(l, peers[i].tp);
            }
        }
        rollnet_transport_destroy(&l->transport);
    }
    if (l->dec_ready) {
        rn_decoder_free(&l->dec);
        l->dec_ready = false;
    }
}

int rn_link_connect(rn_link *l, const char *address, uint64_t now)
{
    return l->transport.vtable->connect(l->transport.self, address, now);
}

void rn_link_close(rn_link *l, int tp)
{
    if (tp >= 0 && l->transport.vtable->disconnect) {
        l->transport.vtable->disconnect(l->transport.self, tp);
    }
}

void rn_link_set_timeout(rn_link *l, const rn_peer *p, uint32_t timeout_ms)
{
    if (l->transport.vtable->set_timeout) {
        l->transport.vtable->set_timeout(l->transport.self, p->tp, timeout_ms);
    }
}

void rn_link_flush(rn_link *l, uint64_t now)
{
    if (l->transport.vtable && l->transport.vtable->flush) {
        l->transport.vtable->flush(l->transport.self, now);
    }
}

void rn_link_refresh_info(rn_link *l, rn_peer *p)
{
    rollnet_transport_peer_info info;
    memset(&info, 0, sizeof(info));
    if (l->transport.vtable->peer_info) {
        l->transport.vtable->peer_info(l->transport.self, p->tp, &info);
    }
    p->st.rtt_ms = info.rtt_ms;
    p->st.jitter_ms = info.rtt_variance_ms;
    p->st.send_queue = info.send_queue;
}

size_t rn_link_encode(rn_link *l, const rn_msg *m, int block_size)
{
    return rn_encode(m, block_size, l->send_buf, sizeof(l->send_buf));
}

void rn_link_send(rn_link *l, rn_peer *p, const rn_msg *m, rollnet_channel ch, uint64_t now)
{
    rn_link_send_encoded(l, p, ch, rn_link_encode(l, m, 0), now);
}

void rn_link_broadcast(rn_link *l, rn_peer *peers, int num_peers, const rn_msg *m,
                       rollnet_channel ch, uint64_t now)
{
    size_t n = rn_link_encode(l, m, 0);
    for (int i = 0; i < num_peers; i++) {
        if (rn_peer_live(&peers[i])) {
            rn_link_send_encoded(l, &peers[i], ch, n, now);
        }
    }
}

/* The tag of a per-frame message; false for handshake messages, which have none. */
static bool message_tag(const rn_msg *m, uint16_t *tag)
{
    switch (m->type) {
    case RN_MSG_INPUT:
        *tag = m->u.input.tag;
        return true;
    case RN_MSG_CHECKSUM:
        *tag = m->u.checksum.tag;
        return true;
    case RN_MSG_LOADING:
        *tag = m->u.loading.tag;
        return true;
    case RN_MSG_LEAVE:
        *tag = m->u.leave.tag;
        return true;
    case RN_MSG_FINISH:
        *tag = m->u.finish.tag;
        return true;
    default:
        return false;
    }
}

bool rn_link_decode(rn_link *l, rn_peer *p, int block_size, const uint8_t *data, size_t size,
                    rn_msg *out)
{
    if (size > RN_MAX_MESSAGE) {
        p->st.dropped_oversize++;
        return false;
    }
    rn_decode_result res = rn_decode(&l->dec, data, size, block_size, out);
    if (res == RN_DECODE_OVERSIZE) {
        p->st.dropped_oversize++;
        return false;
    }
    if (res != RN_DECODE_OK) {
        /* Unreliable inputs may overtake the peer's reliable HELLO; they are
         * resent until acknowledged, so dropping them costs nothing. */
        if (block_size == 0 && size >= 2 && data[0] == (0x90 | RN_INPUT_ELEMENTS) &&
            data[1] == RN_MSG_INPUT) {
            p->st.dropped_early++;
        } else {
            p->st.dropped_malformed++;
        }
        return false;
    }
    /* Per-frame messages must carry the peer's tag: anything else is foreign. */
    uint16_t tag = 0;
    if (message_tag(out, &tag) && (!rn_peer_live(p) || tag != p->tag)) {
        p->st.dropped_foreign++;
        return false;
    }
    return true;
}
