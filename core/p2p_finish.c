/* Finishing over the network: FINISH tells the peers where this peer's
 * inputs end (done false) and, later, that every frame before the session's
 * end is confirmed here (done true). A peer's FINISH makes this session
 * finish too: without that peer's inputs no later frame can be confirmed. */
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
        if (!counts(peer)) {
            continue;
        }
        if (peer->fin_end < 0 || (done && !peer->fin_done)) {
            return false;
        }
        *max_stop = peer->fin_stop > *max_stop ? peer->fin_stop : *max_stop;
        *min_inputs_end = peer->fin_end < *min_inputs_end ? peer->fin_end : *min_inputs_end;
    }
    return true;
}

void rn_p2p_on_finish(rn_p2p *p, rn_peer *peer, const rn_finish *f)
{
    rollnet_session *s = &p->base;
    if (!counts(peer) || !s->running) {
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
    if (!s->fin.active) {
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_FINISHING, rn_peer_event_player(peer));
        ev.u.finish.end_frame = peer->fin_end;
        rn_events_push(&s->events, &ev);
        rn_finish_begin(s);
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
    rn_finish_update(s);
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    peer->st.connected = false;
    return true;
}
