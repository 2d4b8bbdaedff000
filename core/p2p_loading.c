/* Loading notices (rollnet_session_begin_loading / end_loading): a peer
 * that is about to block tells the others, who keep it for loading_grace_ms
 * of silence instead of disconnect_timeout_ms. */
#include <string.h>

#include "p2p_session.h"

void rn_p2p_loading_ended(rn_p2p *p, rn_peer *peer)
{
    peer->loading = false;
    peer->st.loading = false;
    rn_link_set_timeout(&p->link, peer, p->base.desc.disconnect_timeout_ms);
    rn_events_simple(&p->base.events, ROLLNET_EVENT_LOADING_ENDED, rn_peer_event_player(peer));
}

void rn_p2p_on_loading(rn_p2p *p, rn_peer *peer, const rn_loading *l)
{
    if (!l->loading) {
        if (peer->loading) {
            rn_p2p_loading_ended(p, peer);
        }
        return;
    }
    if (peer->loading) {
        return;
    }
    peer->loading = true;
    peer->st.loading = true;
    /* Inputs up to the newer of the two may still arrive behind the notice. */
    peer->loading_frame =
        l->frame > peer->st.last_received_frame ? l->frame : peer->st.last_received_frame;
    rn_link_set_timeout(&p->link, peer, p->base.desc.loading_grace_ms);
    rn_events_simple(&p->base.events, ROLLNET_EVENT_LOADING, rn_peer_event_player(peer));
}

void rn_p2p_loading_notice(const rn_p2p *p, rn_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = RN_MSG_LOADING;
    m->u.loading.tag = p->tag;
    m->u.loading.loading = p->loading_self;
    m->u.loading.grace_ms = p->base.desc.loading_grace_ms;
    /* Inputs up to this frame may still be in flight behind the notice. */
    m->u.loading.frame = rn_frame_local_newest(&p->base);
}

rollnet_error rn_p2p_set_loading(rollnet_session *s, bool loading)
{
    rn_p2p *p = rn_p2p_of(s);
    p->loading_self = loading;
    rn_msg m;
    rn_p2p_loading_notice(p, &m);
    rn_link_broadcast(&p->link, p->peers, p->num_peers, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (!rn_peer_live(peer)) {
            continue;
        }
        /* Our own transport must not give up on the peers while we block. */
        rn_link_set_timeout(&p->link, peer,
                            loading ? s->desc.loading_grace_ms : s->desc.disconnect_timeout_ms);
        if (!loading) {
            /* Our own silence was self-inflicted: do not count it against them. */
            peer->last_recv_ms = s->now;
        }
    }
    rn_link_flush(&p->link, s->now);
    return ROLLNET_ERR_OK;
}

