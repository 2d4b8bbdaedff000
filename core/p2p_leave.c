/* A peer that goes. With two players the survivor plays the departed
 * player's inputs as neutral from the first frame it does not hold. With 3+
 * players the survivors may hold different numbers of its inputs, so each
 * tells the others (LEAVE, reliable) the last frame it holds and those
 * inputs; all switch to neutral after the highest such frame once the notice
 * of every survivor that was there when it went (leave_need) is in.
 *
 * The rule that keeps a mesh from splitting: a departure is settled only
 * with every needed notice. A survivor being reconnected, or itself being
 * agreed on, is waited for. A survivor gone before its notice arrived (its
 * window ended, it was dropped, it stopped) may have confirmed frames with
 * inputs of the departed player nobody here holds: settling without it
 * could promote frames on which the two sides differ, so the session stops
 * with ROLLNET_ERR_DISCONNECTED, every pending departure named with
 * DISCONNECTED of frame -1 ("the mesh split" in the log). Not a majority:
 * the side cut off may have confirmed what the majority never received.
 * A survivor that closed after finishing (this side is done too), or left
 * on purpose no later than the frame agreed, is not needed. */
#include <string.h>

#include "p2p_session.h"

uint32_t rn_p2p_live_peers(const rn_p2p *p)
{
    uint32_t m = 0;
    for (int i = 0; i < p->num_peers; i++) {
        if (rn_peer_live(&p->peers[i])) {
            m |= 1u << i;
        }
    }
    return m;
}

uint32_t rn_p2p_rejoining_peers(const rn_p2p *p)
{
    uint32_t m = 0;
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if (rn_peer_live(q) && (q->rejoin_owed || q->rejoin_unconfirmed)) {
            m |= 1u << i;
        }
    }
    return m;
}

/* A process that rejoins and does not run yet hears from a survivor that
 * players it has not reached departed (the survivors settled it: the
 * notice's frame is final): they play neutral after it here too, and the
 * start no longer waits for them. */
static bool settled_before_rejoin(rn_p2p *p, rn_peer *from, rn_peer *gone, const rn_leave *l)
{
    rollnet_session *s = &p->base;
    if (!s->desc.rejoin || s->running || !rn_peer_live(from) || from->player_mask == 0 ||
        (gone && (rn_peer_live(gone) || gone->state == RN_PEER_LEAVING)) ||
        (l->player_mask & ~p->remote_mask) != 0) {
        return false;
    }
    if (l->neutral_from >= 0) {
        rn_sync_absence_begin(&s->sync, l->player_mask, l->neutral_from);
    }
    for (int q = 0; q < s->desc.num_players; q++) {
        rn_input_queue *iq = &s->sync.queues[q];
        if ((l->player_mask & (1u << q)) && iq->disconnected_from < 0) {
            rn_iq_disconnect(iq, l->last_frame + 1);
            rn_sync_mark_absent(&s->sync);
            rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, q);
            ev.u.disconnected.reason = l->left ? ROLLNET_DISCONNECT_LEFT : ROLLNET_DISCONNECT_BY_PEERS;
            ev.u.disconnected.frame = l->last_frame + 1; /* (its queue may start later) */
            rn_events_push(&s->events, &ev);
        }
    }
    if (gone && gone->state != RN_PEER_GONE) {
        if (gone->tp >= 0) {
            rn_link_close(&p->link, gone->tp); /* still dialling it: no more */
        }
        gone->tp = -1;
        rn_peer_set_state(gone, RN_PEER_GONE, &s->events);
    }
    if (gone) {
        gone->leave_last = l->last_frame;
        gone->leave_settled = true;
    }
    p->incoming_mask &= ~l->player_mask;
    s->dirty = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d departed before this process rejoined: neutral after frame %d",
            rn_lowest_player(l->player_mask), l->last_frame);
    rn_p2p_check_running(p);
    return true;
}

/* A player's peer went before the session ran: it can never start (a player
 * that left cannot be claimed again, and nothing reconnects yet). Said with
 * an error instead of NOT_RUNNING for ever. */
static void cannot_start(rn_p2p *p, const rn_peer *peer)
{
    rollnet_session *s = &p->base;
    if (s->running || s->failed != ROLLNET_ERR_OK) {
        return;
    }
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "player %d's peer is gone before the session started: it cannot start",
            rn_peer_event_player(peer));
    rn_frame_fail(s, ROLLNET_ERR_DISCONNECTED);
}

/* The departed peer's players play neutral after `last`. */
static void finish_leave(rn_p2p *p, rn_peer *peer, int32_t last, rollnet_disconnect_reason reason)
{
    rollnet_session *s = &p->base;
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    peer->leave_last = last;
    peer->leave_settled = true;
    int32_t from = -1;
    for (int q = 0; q < s->desc.num_players; q++) {
        if (peer->player_mask & (1u << q)) {
            rn_input_queue *iq = &s->sync.queues[q];
            if (iq->last_confirmed < last) {
                /* A notice could not carry every input (too large): the best
                 * this peer can do; the desync check will tell if it matters. */
                rn_log(&s->events, ROLLNET_LOG_WARN, "a departed player's last inputs are missing");
            }
            rn_iq_disconnect(iq, last + 1);
            rn_sync_mark_absent(&s->sync);
            if (from < 0 || iq->disconnected_from < from) {
                from = iq->disconnected_from;
            }
        }
    }
    s->dirty = true;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(peer));
    ev.u.disconnected.reason = reason;
    ev.u.disconnected.frame = from;
    rn_events_push(&s->events, &ev);
    rn_log(&s->events, ROLLNET_LOG_WARN, "peer disconnected");
    cannot_start(p, peer);
}

/* Frames start..start+count-1 of the players in `mask`, frame-major blocks
 * in handle order, compressed into leave_packed. False when they do not fit. */
static bool pack_inputs(rn_p2p *p, uint32_t mask, int32_t start, int32_t count, size_t *packed)
{
    const rollnet_session *s = &p->base;
    int isz = s->desc.input_size;
    int nplayers = rn_popcount32(mask);
    for (int32_t i = 0; i < count; i++) {
        int k = 0;
        for (int q = 0; q < s->desc.num_players; q++) {
            if (mask & (1u << q)) {
                const uint8_t *in = rn_iq_peek(&s->sync.queues[q], start + i);
                uint8_t *dst =
                    p->block_buf + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz;
                if (in) {
                    memcpy(dst, in, (size_t)isz);
                }
                k++;
            }
        }
    }
    /* Leave room for the message around the data. */
    return rn_inputs_compress(p->block_buf, count, nplayers * isz, p->leave_packed,
                              sizeof(p->leave_packed) - 32, packed);
}

int32_t rn_p2p_pack_last(rn_p2p *p, uint32_t players, int32_t last, size_t *packed)
{
    const rollnet_session *s = &p->base;
    int32_t start = last - RN_MAX_INPUT_FRAMES + 1;
    for (int q = 0; q < s->desc.num_players; q++) {
        if ((players & (1u << q)) && s->sync.queues[q].tail > start) {
            start = s->sync.queues[q].tail;
        }
    }
    if (start < 0) {
        start = 0;
    }
    *packed = 0;
    int32_t count = last - start + 1;
    for (; count > 0; count = count / 2, start = last - count + 1) {
        if (pack_inputs(p, players, start, count, packed)) {
            break;
        }
    }
    return count < 0 ? 0 : count;
}

void rn_p2p_send_leave(rn_p2p *p, uint32_t players, int32_t last, bool left, int32_t fin_stop,
                       int32_t fin_end)
{
    const rollnet_session *s = &p->base;
    size_t packed = 0;
    int32_t count = rn_p2p_pack_last(p, players, last, &packed);
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_LEAVE;
    m.u.leave.tag = p->tag;
    m.u.leave.player_mask = players;
    m.u.leave.left = left;
    m.u.leave.fin_stop = fin_end >= 0 ? fin_stop : -1;
    m.u.leave.fin_end = fin_end >= 0 ? fin_end : -1;
    int32_t nf = left ? -1 : rn_sync_absence_start(&s->sync, players);
    m.u.leave.neutral_from = nf <= last + 1 ? nf : -1;
    m.u.leave.last_frame = last;
    m.u.leave.count = count;
    m.u.leave.data = count > 0 ? p->leave_packed : NULL;
    m.u.leave.size = count > 0 ? packed : 0;
    rn_link_broadcast(&p->link, p->peers, p->num_peers, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
}

/* A needed survivor whose notice never came is gone itself (its reconnect
 * window ended, its session stopped): what it held of the departed player,
 * and what it may have confirmed with those inputs, can no longer be known
 * here. Settling alone could promote frames on which the two sides differ:
 * the session stops instead, the departed player named with no frame. */
static void cannot_agree(rn_p2p *p, const rn_peer *peer, uint32_t unheard)
{
    rollnet_session *s = &p->base;
    for (int j = 0; j < p->num_peers; j++) {
        if (unheard & (1u << j)) {
            rn_logf(&s->events, ROLLNET_LOG_ERROR,
                    "player %d's notice about player %d's departure cannot arrive: it is gone",
                    rn_peer_event_player(&p->peers[j]), rn_peer_event_player(peer));
        }
    }
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "the mesh split: no agreement on player %d's departure; the session stops",
            rn_peer_event_player(peer));
    /* Every departure still being agreed ends here without a frame: none
     * of those players is played neutral. */
    for (int j = 0; j < p->num_peers; j++) {
        rn_peer *q = &p->peers[j];
        if (q->state != RN_PEER_LEAVING) {
            continue;
        }
        rn_peer_set_state(q, RN_PEER_GONE, &s->events);
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(q));
        ev.u.disconnected.reason = q->leave_reason;
        ev.u.disconnected.frame = -1;
        rn_events_push(&s->events, &ev);
    }
    s->dirty = true;
    rn_frame_fail(s, ROLLNET_ERR_DISCONNECTED);
}

void rn_p2p_finish_leaves(rn_p2p *p)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (peer->state != RN_PEER_LEAVING) {
            continue;
        }
        uint32_t missing = peer->leave_need & ~peer->leave_heard;
        /* Every survivor that was there when it went must be heard: a
         * survivor's notice comes (reliably) while it is connected, once it
         * is back when its connection is being regained, and never when it
         * is gone itself. A survivor that is itself being agreed on is
         * waited for (a later departure never needs an earlier one: no
         * cycle). Not needed: one that closed after finishing (this side is
         * done too: nothing past the end is confirmed) and one that left on purpose no later than the frame
         * agreed here (it confirmed nothing past its own last input). */
        uint32_t unheard = 0;
        for (int j = 0; j < p->num_peers; j++) {
            const rn_peer *q = &p->peers[j];
            if (!(missing & (1u << j))) {
                continue;
            }
            bool left_before = q->leave_settled && q->leave_reason == ROLLNET_DISCONNECT_LEFT &&
                               q->leave_last <= peer->leave_last;
            if ((q->fin_done && q->state == RN_PEER_GONE) || q->state == RN_PEER_EMPTY || left_before) {
                missing &= ~(1u << j);
            } else if (q->state == RN_PEER_GONE) {
                unheard |= 1u << j;
            }
        }
        if (unheard) {
            cannot_agree(p, peer, unheard);
        } else if (missing == 0) {
            finish_leave(p, peer, peer->leave_last, peer->leave_reason);
        }
    }
}

void rn_p2p_peer_gone(rn_p2p *p, rn_peer *peer, rollnet_disconnect_reason reason,
                      bool close_transport)
{
    rollnet_session *s = &p->base;
    if (rn_peer_departed(peer) || peer->state == RN_PEER_EMPTY) {
        return;
    }
    if (rn_p2p_left_departure(p, peer) || rn_p2p_finish_departure(p, peer)) {
        if (close_transport) {
            rn_link_close(&p->link, peer->tp);
        }
        return;
    }
    bool was_live = rn_peer_live(peer);
    s->dirty = true;
    peer->st.connected = false;
    if (close_transport) {
        rn_link_close(&p->link, peer->tp);
    }
    if (rn_peer_stranger(peer)) {
        rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
        /* Its slot is free again now: a close we asked for may never be
         * confirmed by the transport (memnet never does, ENet only later). */
        peer->tp = -1;
        p->handshakes_dropped++;
        return; /* it never was a player here: nothing to tell the game */
    }
    if (!was_live) {
        rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(peer));
        ev.u.disconnected.reason = reason;
        ev.u.disconnected.frame = -1;
        rn_events_push(&s->events, &ev);
        rn_log(&s->events, ROLLNET_LOG_WARN, "peer disconnected");
        cannot_start(p, peer);
        return;
    }
    int32_t last = rn_p2p_peer_confirmed(p, peer);
    rn_peer_set_state(peer, RN_PEER_LEAVING, &s->events);
    if (rn_p2p_live_peers(p) == 0) {
        /* Nobody else to agree with: neutral from the first unconfirmed frame. */
        finish_leave(p, peer, last, reason);
        rn_p2p_finish_leaves(p); /* a departure that needed its notice cannot settle now */
        return;
    }
    /* Survivors may hold different numbers of its inputs: agree first. */
    peer->leave_last = last;
    /* (Not a process that rejoins and has not played yet: it holds nothing
     * of the departed player's but what the survivors gave it.) */
    peer->leave_need = rn_p2p_live_peers(p) & ~rn_p2p_rejoining_peers(p);
    peer->leave_heard = 0;
    peer->leave_since = s->now;
    peer->leave_reason = reason;
    rn_p2p_send_leave(p, peer->player_mask, last, reason == ROLLNET_DISCONNECT_LEFT, peer->fin_stop,
                      peer->fin_end);
    rn_p2p_finish_leaves(p);
}

bool rn_p2p_take_inputs(rn_p2p *p, uint32_t mask, int32_t last, int32_t count,
                        const uint8_t *data, size_t size)
{
    rollnet_session *s = &p->base;
    int isz = s->desc.input_size;
    int nplayers = rn_popcount32(mask);
    int got = count > 0 ? rn_inputs_decompress(data, size, nplayers * isz, p->block_buf,
                                               RN_MAX_INPUT_FRAMES)
                        : 0;
    if (got != count) {
        return false;
    }
    for (int32_t i = 0; i < count; i++) {
        int32_t f = last - count + 1 + i;
        int k = 0;
        for (int q = 0; q < s->desc.num_players; q++) {
            if (mask & (1u << q)) {
                rn_input_queue *iq = &s->sync.queues[q];
                if (rn_iq_has_room(iq, f)) {
                    rn_iq_add(iq, f,
                              p->block_buf + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz);
                }
                k++;
            }
        }
    }
    return true;
}

bool rn_p2p_take_leave_inputs(rn_p2p *p, const rn_leave *l)
{
    return rn_p2p_take_inputs(p, l->player_mask, l->last_frame, l->count, l->data, l->size);
}

void rn_p2p_on_leave(rn_p2p *p, rn_peer *from, const rn_leave *l)
{
    if (l->player_mask == from->player_mask && from->player_mask != 0) {
        rn_p2p_on_own_leave(p, from, l); /* it announces its own departure */
        return;
    }
    /* The peer that hosts (or hosted, while leaving) those players. */
    rn_peer *gone = NULL;
    for (int i = 0; i < p->num_peers && !gone; i++) {
        rn_peer *q = &p->peers[i];
        if (q != from && q->player_mask == l->player_mask && q->player_mask != 0 &&
            (rn_peer_live(q) || q->state == RN_PEER_LEAVING)) {
            gone = q;
        }
    }
    for (int i = 0; i < p->num_peers && !gone; i++) {
        rn_peer *q = &p->peers[i];
        if (q != from && q->player_mask == l->player_mask && q->player_mask != 0) {
            gone = q; /* already settled here: the notice only confirms it */
        }
    }
    if (settled_before_rejoin(p, from, gone, l)) {
        return;
    }
    if (!gone) {
        from->st.dropped_malformed++;
        return;
    }
    if (rn_peer_live(gone)) {
        /* Another peer lost it (or heard it leave): everyone drops it together. */
        rn_p2p_peer_gone(p, gone, l->left ? ROLLNET_DISCONNECT_LEFT : ROLLNET_DISCONNECT_BY_PEERS,
                         true);
    } else if (gone->state == RN_PEER_LEAVING && l->left) {
        gone->leave_reason = ROLLNET_DISCONNECT_LEFT; /* its own notice did not reach us */
    }
    if (gone->state != RN_PEER_LEAVING) {
        return; /* already settled (or never ran here) */
    }
    if (l->neutral_from >= 0) {
        rn_sync_absence_begin(&p->base.sync, l->player_mask, l->neutral_from);
    }
    if (!rn_p2p_take_leave_inputs(p, l)) {
        from->st.dropped_malformed++;
        return;
    }
    rn_p2p_take_leave_finish(gone, l);
    if (l->last_frame > gone->leave_last) {
        gone->leave_last = l->last_frame;
    }
    gone->leave_heard |= 1u << from->index;
    p->base.dirty = true;
    rn_p2p_finish_leaves(p);
}

/* A session that stopped with an error tells its peers by closing its
 * connections, a second later so that what it sent last (a REFUSE naming
 * why) is delivered first. Otherwise they would wait on it in silence. */
void rn_p2p_close_after_failure(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (s->failed == ROLLNET_ERR_OK || p->closing) {
        return;
    }
    p->closing = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "stopped (%s): closing every connection in 1 s",
            rollnet_error_string(s->failed));
    for (int i = 0; i < p->num_peers; i++) {
        if (!rn_peer_departed(&p->peers[i]) && p->peers[i].tp >= 0) {
            p->peers[i].close_at_ms = s->now + 1000;
        }
    }
}

/* A closing peer's time is up: its connection closes, without an event
 * (the session has already stopped and said why). */
bool rn_p2p_close_due(rn_p2p *p, rn_peer *peer)
{
    if (!peer->close_at_ms || p->base.now < peer->close_at_ms || rn_peer_departed(peer)) {
        return false;
    }
    peer->close_at_ms = 0;
    rn_link_close(&p->link, peer->tp);
    peer->tp = -1;
    peer->st.connected = false;
    rn_peer_set_state(peer, RN_PEER_GONE, &p->base.events);
    return true;
}
