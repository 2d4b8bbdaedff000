/* Starting together: every remote player claimed by a peer that is
 * accepted and READY, at the moment both sides agree on; and, while the
 * session waits, who it waits for (WAITING, then the handshake timeout). */
#include "p2p_session.h"

/* Players held by peers exchanging inputs. */
static uint32_t claimed_players(const rn_p2p *p)
{
    uint32_t claimed = 0;
    for (int i = 0; i < p->num_peers; i++) {
        if (rn_peer_live(&p->peers[i])) {
            claimed |= p->peers[i].player_mask;
        }
    }
    return claimed;
}

/* Remote players that departed before this side ran (a process that
 * rejoins hears so from the survivors, p2p_leave.c): not waited for. */
static uint32_t departed_players(const rn_p2p *p)
{
    uint32_t m = 0;
    for (int q = 0; q < p->base.desc.num_players; q++) {
        if (p->base.sync.queues[q].disconnected_from >= 0) {
            m |= 1u << q;
        }
    }
    return m & p->remote_mask;
}

/* When this side may start as far as `peer` is concerned. Each side tells
 * the other when it accepted it (READY: how long ago, repeated until it
 * runs, so one late copy does not matter); both then know both acceptance
 * times and start at the later one plus the one-way time (half the RTT):
 * together, within the RTT's error, even when a HELLO was late. */
static uint64_t one_way_ms(const rn_peer *peer)
{
    return peer->st.rtt_ms / 2 > RN_START_MAX_WAIT_MS ? RN_START_MAX_WAIT_MS : peer->st.rtt_ms / 2;
}

static uint64_t start_at(const rn_peer *peer)
{
    uint64_t later = peer->admitted_ms > peer->accepted_us_ms ? peer->admitted_ms
                                                               : peer->accepted_us_ms;
    return later + one_way_ms(peer);
}

/* Every remote player is held by a peer that is accepted and ready, and
 * the moment to start together has come. */
static bool all_ready(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if ((claimed_players(p) | departed_players(p)) != p->remote_mask ||
        (s->desc.rejoin && !p->rejoined)) {
        return false; /* a rejoin runs once its state is loaded (p2p_rejoin.c) */
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (rn_peer_live(peer) && peer->player_mask != 0) {
            if (!peer->ready) {
                return false;
            }
            if (s->now < start_at(peer)) {
                return false;
            }
        }
    }
    return true;
}

void rn_p2p_check_running(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (!s->running && s->failed == ROLLNET_ERR_OK && all_ready(p)) {
        s->running = true;
        rn_events_simple(&s->events, ROLLNET_EVENT_RUNNING, -1);
        rn_log(&s->events, ROLLNET_LOG_INFO, "every peer synchronized: running");
        rn_p2p_finish_follow(p); /* a peer that finished before we ran */
    }
}

void rn_p2p_on_ready(rn_p2p *p, rn_peer *peer, const rn_ready *r)
{
    rollnet_session *s = &p->base;
    /* An unreliable copy may overtake the sender's HELLO: keep it while the
     * connection is in its handshake too (a stranger's means nothing). */
    if ((!rn_peer_live(peer) && peer->state != RN_PEER_HANDSHAKE) || s->running) {
        return;
    }
    rn_link_refresh_info(&p->link, peer);
    uint64_t back = (uint64_t)r->elapsed_ms + one_way_ms(peer);
    uint64_t at = back < s->now ? s->now - back : 0;
    if (!peer->ready || at < peer->accepted_us_ms) {
        peer->accepted_us_ms = at; /* the least delayed copy is the truest */
    }
    peer->ready = true;
    rn_p2p_check_running(p);
}

void rn_p2p_starting_timers(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (rn_peer_live(peer) && peer->player_mask != 0) {
            rn_p2p_send_ready(p, peer, ROLLNET_CHANNEL_UNRELIABLE);
        }
    }
    (void)s;
    rn_p2p_check_running(p);
}

void rn_p2p_report_missing(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    if (s->running || p->missing_reported || s->failed != ROLLNET_ERR_OK) {
        return;
    }
    /* Missing: players nobody claimed, and those of a peer this side
     * accepted that has not accepted this side (no READY): its handshake is
     * not done either (it may have died before it heard our HELLO). */
    uint32_t missing = p->remote_mask & ~claimed_players(p);
    for (int i = 0; i < p->num_peers; i++) {
        if (rn_peer_live(&p->peers[i]) && !p->peers[i].ready) {
            missing |= p->peers[i].player_mask;
        }
    }
    uint64_t waited = s->now - p->start_ms;
    if (missing && waited >= p->next_waiting_ms) {
        /* Who the session still waits for, so a waiting host says so. */
        p->next_waiting_ms = waited + RN_WAITING_EVENT_MS;
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_WAITING, rn_lowest_player(missing));
        ev.u.waiting.attempt = (int)(waited / RN_WAITING_EVENT_MS);
        ev.u.waiting.waited_ms = (uint32_t)waited;
        ev.u.waiting.missing = missing;
        rn_events_push(&s->events, &ev);
        if (waited > 0) {
            rn_logf(&s->events, ROLLNET_LOG_INFO, "waiting %u s for player %d",
                    (unsigned)(waited / 1000), rn_lowest_player(missing));
        }
    }
    if (s->desc.handshake_timeout_ms == ROLLNET_WAIT_FOREVER || waited < s->desc.handshake_timeout_ms) {
        return;
    }
    if (missing) {
        p->missing_reported = true;
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_lowest_player(missing));
        ev.u.disconnected.reason = ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT;
        ev.u.disconnected.frame = -1;
        rn_events_push(&s->events, &ev);
        /* The wait is over: the session stops (and closes its connections,
         * so peers that already run with it do not wait on it in silence). */
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "player %d did not connect within handshake_timeout_ms (%u ms)",
                rn_lowest_player(missing), (unsigned)s->desc.handshake_timeout_ms);
        rn_frame_fail(s, ROLLNET_ERR_DISCONNECTED);
    }
}
