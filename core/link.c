#include <stdio.h>
#include <string.h>

#include "link.h"

rollnet_error rn_link_init(rn_link *l, const rollnet_transport *t, const rollnet_allocator *a,
                           const rn_events *log)
{
    memset(l, 0, sizeof(*l));
    l->transport = *t;
    l->log = log;
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

int rn_link_connect(rn_link *l, const rn_peer *p, uint64_t now)
{
    int tp = -1;
    rollnet_error err = l->transport.vtable->connect(l->transport.self, p->address, now, &tp);
    if (err == ROLLNET_ERR_OK && tp >= 0) {
        return tp;
    }
    if (l->log) {
        rn_logf(l->log, ROLLNET_LOG_ERROR, "peer %d (players 0x%x): cannot connect to '%s': %s",
                p->index, (unsigned)p->player_mask, p->address,
                rollnet_error_string(err != ROLLNET_ERR_OK ? err : ROLLNET_ERR_TRANSPORT));
    }
    return -1;
}

void rn_link_fault_log(rn_link *l, rn_link_fault *f, rollnet_error err, uint64_t now,
                       rollnet_log_level level, const char *what)
{
    bool same = f->err == err;
    if (same && now - f->logged_ms < RN_LINK_LOG_INTERVAL_MS) {
        f->unlogged++;
        return;
    }
    if (l->log) {
        if (same && f->unlogged > 0) {
            rn_logf(l->log, level, "%s: %s (%u times in %llu ms)", what, rollnet_error_string(err),
                    (unsigned)f->unlogged + 1, (unsigned long long)(now - f->logged_ms));
        } else {
            rn_logf(l->log, level, "%s: %s", what, rollnet_error_string(err));
        }
    }
    f->err = err;
    f->logged_ms = now;
    f->unlogged = 0;
}

void rn_link_send_failed(rn_link *l, const rn_peer *p, rollnet_channel ch, rollnet_error err,
                         uint64_t now)
{
    if (p->index < 0 || p->index >= RN_MAX_PEERS || (ch != ROLLNET_CHANNEL_RELIABLE &&
                                                      ch != ROLLNET_CHANNEL_UNRELIABLE) ||
        !l->log || !l->log->logger.log) {
        return;
    }
    bool reliable = ch == ROLLNET_CHANNEL_RELIABLE;
    char what[96];
    snprintf(what, sizeof(what), "peer %d (players 0x%x): %s message not sent", p->index,
             (unsigned)p->player_mask, reliable ? "reliable" : "unreliable");
    /* A peer the transport no longer knows is going away: its DISCONNECTED
     * event follows, so even a reliable message lost to it is only a warning. */
    bool serious = reliable && err != ROLLNET_ERR_UNKNOWN_PEER;
    rn_link_fault_log(l, &l->send_fault[p->index][ch], err, now,
                      serious ? ROLLNET_LOG_ERROR : ROLLNET_LOG_WARN, what);
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
    if (p->tp < 0) {
        return; /* no connection (lost, reconnecting): the last figures stand */
    }
    rollnet_transport_peer_info info;
    memset(&info, 0, sizeof(info));
    /* A peer the transport no longer knows (closing, say) reads as all zero:
     * statistics, not worth a log line. */
    if (l->transport.vtable->peer_info &&
        l->transport.vtable->peer_info(l->transport.self, p->tp, &info) != ROLLNET_ERR_OK) {
        memset(&info, 0, sizeof(info));
    }
    /* The transport's figures are believed within sane ranges only: an RTT
     * sampled across a stall, or pushed up by replayed datagrams, can read
     * seconds, and time sync and the stats take it as it is. */
    p->st.rtt_ms = info.rtt_ms > ROLLNET_MAX_RTT_MS ? ROLLNET_MAX_RTT_MS : info.rtt_ms;
    p->st.jitter_ms =
        info.rtt_variance_ms > ROLLNET_MAX_RTT_MS ? ROLLNET_MAX_RTT_MS : info.rtt_variance_ms;
    p->st.send_queue = info.send_queue > RN_LINK_MAX_SEND_QUEUE ? RN_LINK_MAX_SEND_QUEUE
                                                                : info.send_queue;
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
        /* A lost peer's new connection carries only RESUME until it resumes. */
        if (rn_peer_live(&peers[i]) && !peers[i].lost) {
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
    case RN_MSG_ABSENT:
        *tag = m->u.absent.tag;
        return true;
    case RN_MSG_FINISH:
        *tag = m->u.finish.tag;
        return true;
    case RN_MSG_INTRO:
        *tag = m->u.intro.tag;
        return true;
    case RN_MSG_INTRO_ASK:
        *tag = m->u.intro_ask.tag;
        return true;
    case RN_MSG_STATE_HEAD:
        *tag = m->u.state_head.tag;
        return true;
    case RN_MSG_STATE_CHUNK:
        *tag = m->u.state_chunk.tag;
        return true;
    case RN_MSG_WATCH:
        *tag = m->u.watch.tag;
        return true;
    case RN_MSG_WATCH_ACK:
        *tag = m->u.watch_ack.tag;
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
