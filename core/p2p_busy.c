/* Busy peers: a transport whose network side runs on its own thread (the ENet
 * transport's service thread) reports, while the peer's game thread does not
 * poll, that the peer is alive but busy (ROLLNET_TRANSPORT_PEER_BUSY). Such a
 * peer is kept for busy_timeout_ms, counted from when its game last polled,
 * instead of the silence timeouts: the network is not gone, the game is
 * loading or compiling or stopped at a breakpoint.
 *
 * A busy spell ends when a message of the peer arrives (RESUMED), or when its
 * reports stop for notify_timeout_ms: the silence rules then apply again,
 * counted from the last report (the network was alive until then), so a
 * network that dies during a busy spell is noticed as any silence is. */
#include "p2p_session.h"

/* Between two PEER_BUSY events of one spell. */
#define RN_BUSY_EVENT_INTERVAL_MS 1000u

static void busy_event(rn_p2p *p, rn_peer *peer, uint64_t busy_ms)
{
    rollnet_session *s = &p->base;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_PEER_BUSY, rn_peer_event_player(peer));
    ev.u.busy.ms = busy_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)busy_ms;
    rn_events_push(&s->events, &ev);
    peer->busy.event_ms = s->now;
}

void rn_p2p_on_busy(rn_p2p *p, const rollnet_transport_event *ev)
{
    rollnet_session *s = &p->base;
    rn_peer *peer = rn_p2p_peer_by_tp(p, ev->peer);
    /* Only a player's peer that runs: strangers and handshakes keep their
     * own timeouts and cause no event (invariant 9). */
    if (!peer || !rn_peer_live(peer)) {
        return;
    }
    peer->busy.heard_ms = s->now;
    if (!peer->busy.on) {
        peer->busy.on = true;
        /* The report says how long its game has not polled: the spell began
         * then, by our clock (never before our clock began). */
        uint64_t ms = ev->busy_ms;
        peer->busy.since_ms = ms < s->now ? s->now - ms : 0;
        rn_logf(&s->events, ROLLNET_LOG_INFO, "peer %d (player %d): busy (its game has not polled for %u ms)",
                peer->index, rn_peer_event_player(peer), (unsigned)ev->busy_ms);
        busy_event(p, peer, ev->busy_ms);
        return;
    }
    if (s->now - peer->busy.event_ms >= RN_BUSY_EVENT_INTERVAL_MS) {
        busy_event(p, peer, s->now - peer->busy.since_ms);
    }
}

bool rn_p2p_busy_end(rn_p2p *p, rn_peer *peer)
{
    if (!peer->busy.on) {
        return false;
    }
    peer->busy.on = false;
    rn_logf(&p->base.events, ROLLNET_LOG_INFO, "peer %d (player %d): no longer busy after %llu ms",
            peer->index, rn_peer_event_player(peer),
            (unsigned long long)(p->base.now - peer->busy.since_ms));
    return true;
}

bool rn_p2p_busy_timers(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    const rollnet_session_desc *d = &s->desc;
    if (!peer->busy.on) {
        return false;
    }
    if (s->now - peer->busy.heard_ms >= d->notify_timeout_ms) {
        /* Its reports stopped: silence from the last one on. */
        peer->busy.on = false;
        if (peer->busy.heard_ms > peer->last_recv_ms) {
            peer->last_recv_ms = peer->busy.heard_ms;
        }
        rn_logf(&s->events, ROLLNET_LOG_INFO, "peer %d (player %d): busy reports stopped",
                peer->index, rn_peer_event_player(peer));
        return false;
    }
    if (s->now - peer->busy.since_ms >= d->busy_timeout_ms) {
        rn_p2p_peer_gone(p, peer, ROLLNET_DISCONNECT_BUSY_TIMEOUT, true);
    }
    return true;
}
