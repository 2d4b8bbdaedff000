/* Ending on purpose over the network.
 *
 * Finishing: FINISH tells the peers where this peer stopped and where its
 * inputs end (done false) and, later, that every frame before the session's
 * end is confirmed here (done true). A peer's FINISH makes this session
 * finish too: without that peer's inputs no later frame can be confirmed.
 *
 * Leaving: a LEAVE about the sender itself carries where its players'
 * inputs end and the last of them; the others treat it as a departure with
 * a known last frame (p2p_leave.c) and close, which is the leaver's sign
 * that its notice arrived. */
#include <string.h>

#include "p2p_session.h"

static bool counts(const rn_peer *peer)
{
    return rn_peer_live(peer) && peer->player_mask != 0;
}

void rn_p2p_finish_tell(rollnet_session *s, bool done)
{
    rn_p2p *p = rn_p2p_of(s);
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_FINISH;
    m.u.finish.tag = p->tag;
    m.u.finish.stop = s->fin.stop;
    m.u.finish.inputs_end = s->fin.inputs_end < RN_MAX_FRAME ? s->fin.inputs_end : RN_MAX_FRAME;
    m.u.finish.done = done;
    rn_link_broadcast(&p->link, p->peers, p->num_peers, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
}

bool rn_p2p_finish_heard(const rollnet_session *s, bool done, int32_t *max_stop,
                         int32_t *min_inputs_end)
{
    const rn_p2p *p = (const rn_p2p *)s;
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *peer = &p->peers[i];
        if (!done && peer->state == RN_PEER_LEAVING) {
            /* Survivors are still telling each other what they know of it,
             * its FINISH included: settling now could differ from them. */
            return false;
        }
        if (counts(peer) && (peer->fin_end < 0 || (done && !peer->fin_done))) {
            return false;
        }
        /* A peer that finished counts, also once gone: every survivor
         * heard its FINISH directly or in another survivor's LEAVE notice. */
        if (peer->player_mask != 0 && peer->fin_end >= 0 && !done) {
            *max_stop = peer->fin_stop > *max_stop ? peer->fin_stop : *max_stop;
            *min_inputs_end = peer->fin_end < *min_inputs_end ? peer->fin_end : *min_inputs_end;
        }
    }
    return true;
}

void rn_p2p_on_finish(rn_p2p *p, rn_peer *peer, const rn_finish *f)
{
    rollnet_session *s = &p->base;
    if (!counts(peer)) {
        return;
    }
    if (peer->fin_end < 0) {
        /* Its inputs up to what is confirmed here are in already: an end
         * before them cannot come from an honest peer; keep what arrived. */
        int32_t held = rn_p2p_peer_confirmed(p, peer) + 1;
        peer->fin_stop = f->stop;
        peer->fin_end = f->inputs_end;
        if (peer->fin_end < held) {
            rn_logf(&s->events, ROLLNET_LOG_WARN,
                    "player %d's peer says its inputs end before frame %d, but frame %d is here",
                    rn_peer_event_player(peer), f->inputs_end, held - 1);
            peer->fin_end = held;
        }
    }
    peer->fin_done = peer->fin_done || f->done;
    rn_p2p_finish_follow(p);
}

void rn_p2p_finish_follow(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (!s->running) {
        return; /* kept on the peer: the session finishes as soon as it runs */
    }
    for (int i = 0; i < p->num_peers && !s->fin.active; i++) {
        const rn_peer *peer = &p->peers[i];
        if (counts(peer) && peer->fin_end >= 0) {
            rollnet_event ev = rn_event_make(ROLLNET_EVENT_FINISHING, rn_peer_event_player(peer));
            ev.u.finish.end_frame = peer->fin_end;
            rn_events_push(&s->events, &ev);
            rn_finish_begin(s);
        }
    }
    rn_finish_update(s);
}

bool rn_p2p_finish_departure(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    if (!s->fin.done_local || !counts(peer) || peer->fin_end < 0) {
        return false;
    }
    /* It said where it ends and we have every frame before the end: it may
     * close once it has heard the same from us (its last FINISH may be lost
     * with the connection). It is done. */
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d's peer closed after finishing: it counts as done",
            rn_peer_event_player(peer));
    peer->fin_done = true;
    /* Other survivors may still be agreeing on it: they get what we hold
     * of it (every input before the end) and its FINISH. */
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    peer->st.connected = false;
    rn_p2p_send_leave(p, peer->player_mask, rn_p2p_peer_confirmed(p, peer), false, peer->fin_stop,
                      peer->fin_end);
    rn_finish_update(s);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Leaving on purpose                                                         */
/* ------------------------------------------------------------------------ */

/* Every peer hears where this peer's players' inputs end, with the last of
 * them, in a LEAVE about itself; they switch the players to neutral after
 * that frame and close, which tells this side its notice arrived. */
rollnet_error rn_p2p_leave(rollnet_session *s)
{
    rn_p2p *p = rn_p2p_of(s);
    int32_t last = RN_IQ_CONFIRMED_FOREVER;
    for (int q = 0; q < s->desc.num_players; q++) {
        if (s->local_mask & (1u << q)) {
            int32_t lc = s->sync.queues[q].last_confirmed;
            last = lc < last ? lc : last;
        }
    }
    s->left = true;
    s->pending_mask = 0;
    p->left_since = s->now;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "leaving: this peer's inputs end after frame %d", last);
    if (s->local_mask != 0 && last < RN_IQ_CONFIRMED_FOREVER) {
        rn_p2p_send_leave(p, s->local_mask, last, true, s->fin.active ? s->fin.stop : -1,
                          s->fin.active ? s->fin.inputs_end : -1);
    }
    rn_link_flush(&p->link, s->now);
    rn_p2p_left_check(p);
    return ROLLNET_ERR_OK;
}

void rn_p2p_on_own_leave(rn_p2p *p, rn_peer *from, const rn_leave *l)
{
    rollnet_session *s = &p->base;
    if (!rn_peer_live(from) && from->state != RN_PEER_LEAVING) {
        return; /* settled here already */
    }
    if (!rn_p2p_take_leave_inputs(p, l)) {
        from->st.dropped_malformed++;
        return;
    }
    rn_p2p_take_leave_finish(from, l);
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d's peer leaves on purpose: its inputs end after frame %d",
            rn_peer_event_player(from), l->last_frame);
    if (from->state == RN_PEER_LEAVING) {
        /* Another survivor's notice came first: this one says why, and may
         * carry more of its inputs. */
        from->leave_reason = ROLLNET_DISCONNECT_LEFT;
        if (l->last_frame > from->leave_last) {
            from->leave_last = l->last_frame;
        }
        s->dirty = true;
        rn_p2p_finish_leaves(p);
        return;
    }
    rn_p2p_peer_gone(p, from, ROLLNET_DISCONNECT_LEFT, true);
}

bool rn_p2p_left_departure(rn_p2p *p, rn_peer *peer)
{
    if (!p->base.left) {
        return false;
    }
    peer->st.connected = false;
    rn_peer_set_state(peer, RN_PEER_GONE, &p->base.events);
    return true;
}

void rn_p2p_left_check(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (!s->left || p->left_done) {
        return;
    }
    bool waiting = false;
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *peer = &p->peers[i];
        waiting = waiting || (peer->player_mask != 0 && !rn_peer_departed(peer) &&
                              peer->state != RN_PEER_EMPTY);
    }
    if (waiting && s->now - p->left_since < s->desc.disconnect_timeout_ms) {
        return;
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (!rn_peer_departed(peer) && peer->state != RN_PEER_EMPTY) {
            rn_link_close(&p->link, peer->tp);
            rn_p2p_left_departure(p, peer);
        }
    }
    p->left_done = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO, "left: %s",
            waiting ? "not every peer confirmed the notice in time" : "every peer has the notice");
    rn_events_simple(&s->events, ROLLNET_EVENT_LEFT, -1);
}
