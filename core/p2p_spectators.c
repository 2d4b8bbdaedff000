/* A P2P session's spectators (p2p_spectators.h): admitted from the
 * handshake, sent what is confirmed here, dropped when they fall behind.
 * Nothing here allocates after creation, and nothing here changes what the
 * players do: spectators are read from the sync state, never waited for. */
#include <string.h>

#include "confirm.h"
#include "p2p_session.h"
#include "rn_alloc.h"
#include "state_transfer.h"

rollnet_error rn_p2p_spectators_init(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    int max = s->desc.max_spectators;
    p->spect.max = max < 0 ? 0 : max;
    if (p->spect.max == 0) {
        return ROLLNET_ERR_OK;
    }
    p->spect.slots = rn_calloc(&s->alloc, (size_t)p->spect.max, sizeof(rn_spectator));
    if (!p->spect.slots) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < p->spect.max; i++) {
        rn_peer_reset(&p->spect.slots[i].peer, RN_MAX_PEERS + i);
    }
    return ROLLNET_ERR_OK;
}

void rn_p2p_spectators_free(rn_p2p *p)
{
    for (int i = 0; p->spect.slots && i < p->spect.max; i++) {
        if (p->spect.slots[i].peer.state != RN_PEER_EMPTY) {
            rn_link_close(&p->link, p->spect.slots[i].peer.tp);
        }
    }
    rn_free(&p->base.alloc, p->spect.slots);
    p->spect.slots = NULL;
}

static int active(const rn_p2p *p)
{
    return p->spect.count;
}

static rn_spectator *by_tp(rn_p2p *p, int tp)
{
    if (p->spect.count == 0) {
        return NULL;
    }
    for (int i = 0; i < p->spect.max; i++) {
        rn_spectator *sp = &p->spect.slots[i];
        if (sp->peer.state != RN_PEER_EMPTY && sp->peer.tp == tp) {
            return sp;
        }
    }
    return NULL;
}

bool rn_p2p_spectator_room(rn_p2p *p, rn_peer *peer)
{
    if (active(p) < p->spect.max) {
        return true;
    }
    p->spect.refused++;
    rn_logf(&p->base.events, ROLLNET_LOG_WARN,
            "a spectator is refused: %d watch already (max_spectators %d)", active(p),
            p->spect.max);
    rn_p2p_refuse(p, peer, ROLLNET_PARAM_SESSION_FULL, p->spect.max, active(p));
    return false;
}

/* The slot leaves the table: `close` closes its connection too. */
static void release(rn_p2p *p, rn_spectator *sp, bool close)
{
    if (close) {
        rn_link_close(&p->link, sp->peer.tp);
    }
    int index = sp->peer.index;
    memset(sp, 0, sizeof *sp);
    rn_peer_reset(&sp->peer, index);
    p->spect.count--;
}

static void drop(rn_p2p *p, rn_spectator *sp, const char *why)
{
    p->spect.dropped++;
    rn_logf(&p->base.events, ROLLNET_LOG_WARN,
            "spectator %d dropped: %s (it has run %d frames; %d were sent)",
            sp->peer.index - RN_MAX_PEERS, why, sp->acked, sp->next_send);
    release(p, sp, true);
}

/* Bytes sent to it count until it has run the frames before `after`. */
static void mark(rn_spectator *sp, int32_t after, size_t bytes)
{
    sp->sent_bytes += bytes;
    int last = (sp->mark_head + sp->mark_count - 1) % RN_SPECTATOR_MARKS;
    if (sp->mark_count == RN_SPECTATOR_MARKS) {
        /* Full: the newest mark takes these too (released later, never sooner). */
        sp->marks[last].after = after;
        sp->marks[last].bytes = sp->sent_bytes;
        return;
    }
    last = (sp->mark_head + sp->mark_count) % RN_SPECTATOR_MARKS;
    sp->marks[last].after = after;
    sp->marks[last].bytes = sp->sent_bytes;
    sp->mark_count++;
}

static void send_counted(rn_p2p *p, rn_spectator *sp, const rn_msg *m, int block,
                         int32_t after)
{
    size_t n = rn_link_encode(&p->link, m, block);
    if (n == 0) {
        return;
    }
    rn_link_send_encoded(&p->link, &sp->peer, ROLLNET_CHANNEL_RELIABLE, n, p->base.now);
    mark(sp, after, n);
}

/* The inputs of every player from `from` that are held here: all of them
 * are, or a state must go first. */
static bool inputs_held_from(const rn_sync *sy, int32_t from)
{
    for (int q = 0; q < sy->cfg.num_players; q++) {
        const rn_input_queue *iq = &sy->queues[q];
        if (iq->disconnected_from >= 0 && from >= iq->disconnected_from) {
            continue;
        }
        if (iq->tail > from) {
            return false;
        }
    }
    return true;
}

static const uint8_t *input_at(const rn_sync *sy, int q, int32_t f)
{
    const rn_input_queue *iq = &sy->queues[q];
    if (iq->disconnected_from >= 0 && f >= iq->disconnected_from) {
        return iq->neutral;
    }
    return rn_iq_peek(iq, f);
}

/* A state the spectator can start from (rn_state_here), with every input
 * from there held. */
static bool send_state(rn_p2p *p, rn_spectator *sp)
{
    rollnet_session *s = &p->base;
    rn_state_info info;
    const rn_snapshot_slot *slot = rn_state_here(s, &info);
    if (!slot || !inputs_held_from(&s->sync, info.frame)) {
        return false;
    }
    rn_state_out out;
    rn_msg m;
    if (!rn_state_out_begin(&out, p->tag, &info, slot->buf, slot->size, &m)) {
        return false;
    }
    send_counted(p, sp, &m, 0, info.frame);
    for (uint32_t i = 0; i < rn_state_out_chunks(&out); i++) {
        rn_state_out_chunk(&out, i, &m);
        send_counted(p, sp, &m, 0, info.frame);
    }
    sp->next_send = info.frame;
    sp->acked = info.frame;
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "spectator %d: sent the state of frame %d (%zu bytes, episode %d)",
            sp->peer.index - RN_MAX_PEERS, info.frame, slot->size, info.episode);
    return true;
}

void rn_p2p_spectator_admit(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    rn_spectator *sp = NULL;
    for (int i = 0; i < p->spect.max && !sp; i++) {
        if (p->spect.slots[i].peer.state == RN_PEER_EMPTY) {
            sp = &p->spect.slots[i];
        }
    }
    if (!sp) {
        rn_p2p_spectator_room(p, peer); /* refuses */
        return;
    }
    int index = sp->peer.index;
    p->spect.count++;
    sp->peer = *peer;
    sp->peer.index = index;
    sp->peer.hello_ok = false;
    sp->peer.tag = rn_nonce_tag(peer->nonce);
    sp->peer.state = RN_PEER_RUNNING;
    sp->peer.last_recv_ms = s->now;
    sp->next_send = -1;
    sp->acked = 0;
    sp->last_send_ms = s->now;
    /* Its pending slot is free again: the connection is the spectator's now. */
    int slot = peer->index;
    rn_peer_reset(peer, slot);
    peer->state = RN_PEER_GONE;
    rn_link_set_timeout(&p->link, &sp->peer, s->desc.disconnect_timeout_ms);
    p->spect.joined++;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "spectator %d admitted (%d watching)",
            index - RN_MAX_PEERS, active(p));
    if (inputs_held_from(&s->sync, 0)) {
        sp->next_send = 0; /* it starts where the players did */
    } else {
        send_state(p, sp);
    }
}

/* Up to `end` (exclusive), in batches that fit a message. */
static void send_inputs(rn_p2p *p, rn_spectator *sp, int32_t end)
{
    rollnet_session *s = &p->base;
    int np = s->desc.num_players;
    size_t isize = (size_t)s->desc.input_size;
    int block = np * s->desc.input_size;
    while (sp->next_send < end) {
        int count = end - sp->next_send;
        count = count > RN_MAX_INPUT_FRAMES ? RN_MAX_INPUT_FRAMES : count;
        int held = 0;
        for (; held < count; held++) {
            uint8_t *dst = p->block_buf + (size_t)held * (size_t)block;
            bool ok = true;
            for (int q = 0; q < np && ok; q++) {
                const uint8_t *in = input_at(&s->sync, q, sp->next_send + held);
                ok = in != NULL;
                if (ok) {
                    memcpy(dst + (size_t)q * isize, in, isize);
                }
            }
            if (!ok) {
                break;
            }
        }
        size_t len = 0;
        while (held > 0 && !(rn_inputs_compress(p->block_buf, held, block, NULL, 0, &len) &&
                             len <= RN_MAX_MESSAGE - 32)) {
            held /= 2;
        }
        if (held == 0) {
            return;
        }
        rn_msg m;
        memset(&m, 0, sizeof m);
        m.type = RN_MSG_WATCH;
        m.u.watch = (rn_watch){.tag = p->tag, .start_frame = sp->next_send, .count = held,
                               .end_frame = -1, .inputs = p->block_buf};
        send_counted(p, sp, &m, block, sp->next_send + held);
        sp->next_send += held;
        sp->last_send_ms = s->now;
    }
}

/* Where the session ends, once every input before it went out. */
static void send_end(rn_p2p *p, rn_spectator *sp)
{
    const rollnet_session *s = &p->base;
    if (sp->end_sent || !s->fin.end_known || sp->next_send < s->fin.end) {
        return;
    }
    rn_msg m;
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH;
    m.u.watch = (rn_watch){.tag = p->tag, .start_frame = s->fin.end, .count = 0,
                           .end_frame = s->fin.end};
    send_counted(p, sp, &m, s->desc.num_players * s->desc.input_size, s->fin.end);
    sp->end_sent = true;
}

void rn_p2p_spectators_send(rn_p2p *p, int32_t keep)
{
    rollnet_session *s = &p->base;
    if (p->spect.count == 0) {
        return; /* the players' path: nothing to look at */
    }
    int32_t end = rn_confirmed_frame(&s->sync) + 1;
    for (int i = 0; i < p->spect.max; i++) {
        rn_spectator *sp = &p->spect.slots[i];
        if (sp->peer.state == RN_PEER_EMPTY || sp->next_send < 0) {
            continue;
        }
        bool due = end - sp->next_send >= RN_SPECTATOR_BATCH_FRAMES || sp->next_send < keep ||
                   s->now - sp->last_send_ms >= RN_SPECTATOR_BATCH_MS ||
                   (s->fin.end_known && end >= s->fin.end);
        if (due) {
            send_inputs(p, sp, end);
        }
        send_end(p, sp);
    }
}

/* Nothing to send for a while (the players stall): an empty WATCH, so that
 * a spectator tells a host that waits from one that is gone. */
static void heartbeat(rn_p2p *p, rn_spectator *sp)
{
    const rollnet_session *s = &p->base;
    uint64_t every = s->desc.disconnect_timeout_ms / 4;
    every = every > RN_SPECTATOR_HEARTBEAT_MS ? RN_SPECTATOR_HEARTBEAT_MS : every;
    if (sp->next_send < 0 || sp->end_sent || s->now - sp->last_send_ms < every) {
        return;
    }
    rn_msg m;
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH;
    m.u.watch = (rn_watch){.tag = p->tag, .start_frame = sp->next_send, .count = 0,
                           .end_frame = -1};
    send_counted(p, sp, &m, s->desc.num_players * s->desc.input_size, sp->next_send);
    sp->last_send_ms = s->now;
}

static void on_ack(rn_spectator *sp, int32_t next)
{
    if (next > sp->next_send || next <= sp->acked) {
        return; /* nothing new, or frames it was never sent */
    }
    sp->acked = next;
    while (sp->mark_count > 0 && sp->marks[sp->mark_head].after <= next) {
        sp->released_bytes = sp->marks[sp->mark_head].bytes;
        sp->mark_head = (sp->mark_head + 1) % RN_SPECTATOR_MARKS;
        sp->mark_count--;
    }
}

bool rn_p2p_spectator_event(rn_p2p *p, const rollnet_transport_event *ev)
{
    rn_spectator *sp = by_tp(p, ev->peer);
    if (!sp) {
        return false;
    }
    if (ev->type == ROLLNET_TRANSPORT_DISCONNECTED) {
        rn_logf(&p->base.events, ROLLNET_LOG_INFO, "spectator %d left after frame %d",
                sp->peer.index - RN_MAX_PEERS, sp->acked);
        release(p, sp, false);
        return true;
    }
    if (ev->type != ROLLNET_TRANSPORT_RECEIVE) {
        return true;
    }
    rn_msg m;
    sp->peer.st.bytes_received += ev->size;
    if (!rn_link_decode(&p->link, &sp->peer, 0, ev->data, ev->size, &m)) {
        return true;
    }
    sp->peer.last_recv_ms = p->base.now;
    if (m.type == RN_MSG_WATCH_ACK) {
        on_ack(sp, m.u.watch_ack.next_frame);
    } else if (m.type != RN_MSG_READY) {
        sp->peer.st.dropped_malformed++; /* a spectator has nothing else to say */
    }
    return true;
}

void rn_p2p_spectators_timers(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (p->spect.count == 0) {
        return;
    }
    uint64_t byte_bound = RN_SPECTATOR_LAG_BYTES + s->desc.snapshot_capacity;
    for (int i = 0; i < p->spect.max; i++) {
        rn_spectator *sp = &p->spect.slots[i];
        if (sp->peer.state == RN_PEER_EMPTY) {
            continue;
        }
        /* last_send_ms: its admission, while no state could be sent yet. */
        if (sp->next_send < 0 && !send_state(p, sp) &&
            s->now - sp->last_send_ms >= s->desc.disconnect_timeout_ms) {
            drop(p, sp, "no confirmed state could be sent to it in time");
        } else if (s->now - sp->peer.last_recv_ms >= s->desc.disconnect_timeout_ms) {
            drop(p, sp, "silent past disconnect_timeout_ms");
        } else if (sp->next_send - sp->acked > RN_SPECTATOR_LAG_FRAMES) {
            drop(p, sp, "too far behind (frames sent but not run)");
        } else if (sp->sent_bytes - sp->released_bytes > byte_bound) {
            drop(p, sp, "too far behind (bytes sent but not acknowledged)");
        } else {
            heartbeat(p, sp);
        }
    }
    /* Frames confirmed earlier that waited for a batch: RN_SPECTATOR_BATCH_MS
     * bounds their wait even while nothing new is confirmed. */
    if (s->running) {
        rn_p2p_spectators_send(p, -1);
    }
}

void rn_p2p_spectators_stats(const rn_p2p *p, rollnet_session_stats *out)
{
    out->spectators = active(p);
    out->spectators_joined = p->spect.joined;
    out->spectators_dropped = p->spect.dropped;
    out->spectators_refused = p->spect.refused;
}
