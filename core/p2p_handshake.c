/* Connections and the handshake. A connection becomes a peer of the session
 * once both HELLOs match: the same parameters, and players that are remote
 * here and not held by another peer. Otherwise it is refused (REFUSE tells
 * the other side which parameter differs, REFUSED tells the game).
 *
 * In a private session (a session key) a matching HELLO is answered with
 * AUTH, this side's proof of the key over both nonces (auth.h), and the
 * connection becomes a peer only once the other side's AUTH verifies: until
 * then an incoming connection is still a stranger. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "p2p_session.h"

/* ------------------------------------------------------------------------ */
/* Joining: connecting to an address until it answers                       */
/* ------------------------------------------------------------------------ */

/* One connect to the peer's address; a transport that cannot even start it
 * (no free slot) counts as a failed attempt. */
static void attempt(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    peer->attempts++;
    peer->since_ms = s->now;
    peer->tp = rn_link_connect(&p->link, peer, s->now);
    rn_peer_set_state(peer, RN_PEER_CONNECTING, &s->events);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_CONNECTING, rn_peer_event_player(peer));
    ev.u.waiting.attempt = peer->attempts;
    ev.u.waiting.waited_ms = (uint32_t)(s->now - peer->first_attempt_ms);
    ev.u.waiting.missing = peer->player_mask;
    rn_events_push(&s->events, &ev);
    if (peer->tp < 0) {
        peer->next_attempt_ms = s->now + RN_RETRY_MS;
    }
}

void rn_p2p_dial(rn_p2p *p, rn_peer *peer)
{
    peer->first_attempt_ms = p->base.now;
    attempt(p, peer);
}

void rn_p2p_connect_all(rn_p2p *p)
{
    p->next_waiting_ms = RN_WAITING_EVENT_MS;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (peer->outgoing) {
            rn_p2p_dial(p, peer);
        }
    }
}

static bool join_time_left(const rn_p2p *p, const rn_peer *peer)
{
    uint32_t limit = p->base.desc.join_timeout_ms;
    return limit == ROLLNET_WAIT_FOREVER || p->base.now - peer->first_attempt_ms < limit;
}

bool rn_p2p_connect_failed(rn_p2p *p, rn_peer *peer, bool close)
{
    rollnet_session *s = &p->base;
    if (!peer->outgoing || (peer->state != RN_PEER_CONNECTING && peer->state != RN_PEER_HANDSHAKE)) {
        return false;
    }
    if (close) {
        rn_link_close(&p->link, peer->tp);
    }
    peer->tp = -1;
    peer->st.connected = false;
    peer->hello_ok = false; /* the next connection's handshake starts afresh */
    peer->claim_mask = 0;
    if (s->failed == ROLLNET_ERR_OK && join_time_left(p, peer)) {
        rn_logf(&s->events, ROLLNET_LOG_INFO, "player %d's address %s: attempt %d failed; again in %u ms",
                rn_peer_event_player(peer), peer->address, peer->attempts, (unsigned)RN_RETRY_MS);
        rn_peer_set_state(peer, RN_PEER_CONNECTING, &s->events);
        peer->next_attempt_ms = s->now + RN_RETRY_MS;
        return true;
    }
    rn_logf(&s->events, ROLLNET_LOG_ERROR, "player %d's address %s: %s after %d attempts",
            rn_peer_event_player(peer), peer->address,
            peer->answered ? "no handshake" : "nobody answered", peer->attempts);
    rn_p2p_peer_gone(p, peer,
                     peer->answered ? ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT : ROLLNET_DISCONNECT_NO_ANSWER,
                     false);
    return true;
}

bool rn_p2p_redial_before_start(rn_p2p *p, rn_peer *peer, bool close)
{
    rollnet_session *s = &p->base;
    if (!peer->outgoing || s->running || peer->st.last_received_frame >= 0 ||
        s->failed != ROLLNET_ERR_OK || !join_time_left(p, peer) || (p->rejoined && peer->ready)) {
        return false; /* (a rejoin's survivor that sent its state: it resumes) */
    }
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d's address %s: the connection closed before the session ran; "
            "dialling again",
            rn_peer_event_player(peer), peer->address);
    if (close) {
        rn_link_close(&p->link, peer->tp);
    }
    peer->tp = -1;
    peer->st.connected = false;
    peer->hello_ok = false;
    peer->claim_mask = 0;
    peer->ready = false;
    rn_peer_set_state(peer, RN_PEER_CONNECTING, &s->events);
    peer->next_attempt_ms = s->now + RN_RETRY_MS;
    return true;
}

void rn_p2p_connecting_timers(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    if (s->failed != ROLLNET_ERR_OK) {
        /* Stopped (and said why): no more attempts, no second event. */
        rn_link_close(&p->link, peer->tp);
        peer->tp = -1;
        rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
        return;
    }
    if (peer->tp < 0) {
        if (!join_time_left(p, peer)) {
            rn_p2p_connect_failed(p, peer, false);
        } else if (s->now >= peer->next_attempt_ms) {
            attempt(p, peer);
        }
        return;
    }
    /* One attempt (the transport's connect, then HELLOs) gets a bounded
     * time: a transport without timeouts of its own never gives up. */
    if (s->now - peer->since_ms >= RN_ATTEMPT_MS || !join_time_left(p, peer)) {
        rn_p2p_connect_failed(p, peer, true);
    }
}

/* The slot for a new incoming connection, or NULL when nobody may connect.
 * Strangers use slots of their own (RN_PENDING_SLOTS beyond one per player);
 * when every slot is taken, the oldest stranger makes room, so strangers can
 * delay a joiner by at most a few of their own handshakes, never lock it out. */
static rn_peer *incoming_slot(rn_p2p *p)
{
    if (p->incoming_mask == 0) {
        return NULL;
    }
    /* Reuse the slot of an incoming connection that never claimed a player
     * (refused, or dropped in its handshake). */
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *old = &p->peers[i];
        if (rn_peer_stranger(old) && old->state == RN_PEER_GONE && old->tp < 0) {
            return old;
        }
    }
    if (p->num_peers < RN_MAX_PEERS) {
        return &p->peers[p->num_peers++];
    }
    rn_peer *oldest = NULL;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (rn_peer_stranger(q) && q->state == RN_PEER_HANDSHAKE &&
            (!oldest || q->since_ms < oldest->since_ms)) {
            oldest = q;
        }
    }
    if (oldest) {
        rn_p2p_peer_gone(p, oldest, ROLLNET_DISCONNECT_CLOSED, true);
    }
    return oldest;
}

void rn_p2p_send_ready(rn_p2p *p, rn_peer *peer, rollnet_channel ch)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_READY;
    uint64_t elapsed = p->base.now - peer->admitted_ms;
    m.u.ready.elapsed_ms = elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed;
    rn_link_send(&p->link, peer, &m, ch, p->base.now);
}

void rn_p2p_send_hello(rn_p2p *p, rn_peer *peer)
{
    rn_msg hello;
    rn_peer_make_hello(&p->base.desc, p->nonce, p->base.local_mask, &hello);
    /* Once its state is loaded this process is the peer, not a restart: a
     * reconnect to it, or a restart of the other side, must not read its
     * HELLO as a claim on a seat (p2p_rejoin.c). With 3+ players it runs
     * once every survivor sent its state: until then a survivor that has
     * not may be dialled again, and takes the claim again. */
    hello.u.hello.rejoin = hello.u.hello.rejoin &&
                           (!p->rejoined || (rn_p2p_agreeing(p) && !p->base.running));
    rn_link_send(&p->link, peer, &hello, ROLLNET_CHANNEL_RELIABLE, p->base.now);
}

void rn_p2p_on_connected(rn_p2p *p, int tp)
{
    rollnet_session *s = &p->base;
    rn_peer *peer = NULL;
    for (int i = 0; i < p->num_peers; i++) {
        if (p->peers[i].outgoing && p->peers[i].tp == tp &&
            p->peers[i].state == RN_PEER_CONNECTING) {
            peer = &p->peers[i];
        }
    }
    if (s->failed != ROLLNET_ERR_OK) {
        rn_link_close(&p->link, tp); /* stopped: nobody new gets in, nobody is greeted */
        if (peer) {
            peer->tp = -1;
            rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
        }
        return;
    }
    if (!peer) {
        /* An incoming connection: it says which players it hosts in its HELLO. */
        peer = incoming_slot(p);
        if (!peer) {
            rn_link_close(&p->link, tp);
            return;
        }
        int idx = (int)(peer - p->peers);
        rn_peer_reset(peer, idx);
        rn_confirm_forget_peer(&p->confirm, idx);
        peer->tp = tp;
    }
    rn_peer_set_state(peer, RN_PEER_HANDSHAKE, &s->events);
    peer->answered = true;
    peer->since_ms = s->now;
    peer->last_recv_ms = s->now;
    peer->st.connected = true;
    peer->rate_start_ms = s->now;
    if (!rn_peer_stranger(peer)) {
        /* Our own peer: the game hears of its progress. A stranger is named
         * only once its HELLO claims a player. */
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_SYNCHRONIZING, rn_peer_event_player(peer));
        ev.u.synchronizing.done = 0;
        ev.u.synchronizing.total = 1;
        rn_events_push(&s->events, &ev);
    }
    rn_p2p_send_hello(p, peer);
}

/* What differs, for the log: "fps differs (here 60, there 30)", or for the
 * game parameters "game_params differ at key 'max_steps' (missing there)". */
static void describe(rollnet_param param, int64_t local, int64_t remote, const char *key,
                     char *buf, size_t cap)
{
    if (param == ROLLNET_PARAM_GAME_PARAMS) {
        snprintf(buf, cap, "game_params differ at key '%s' (%s)", key,
                 local && remote ? "the values differ"
                 : local         ? "missing there"
                                 : "missing here");
    } else if (param == ROLLNET_PARAM_REJOIN && (remote == 3 || local == 3)) {
        snprintf(buf, cap, "a rejoin while another player is away (one rejoin at a time)");
    } else if (param == ROLLNET_PARAM_REJOIN && (remote == 2 || local == 2)) {
        /* (2, 3: the claim's value, whichever side tells it) */
        snprintf(buf, cap, "a rejoin with the nonce of the process it replaces (a restarted "
                           "process needs a new one)");
    } else if (param == ROLLNET_PARAM_REJOIN) {
        snprintf(buf, cap, "a rejoin with nothing to rejoin (rejoins taken: %lld)",
                 (long long)(local > remote ? local : remote));
    } else if (param == ROLLNET_PARAM_SESSION_KEY) {
        snprintf(buf, cap, "the peer does not know the session key (key here %lld, there %lld)",
                 (long long)local, (long long)remote);
    } else {
        snprintf(buf, cap, "%s differs (here %lld, there %lld)", rollnet_param_string(param),
                 (long long)local, (long long)remote);
    }
}

static void refuse(rn_p2p *p, rn_peer *peer, rollnet_param param, int64_t local, int64_t remote,
                   const char *key)
{
    rollnet_session *s = &p->base;
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_REFUSE;
    m.u.refuse.param = (uint32_t)param;
    m.u.refuse.local_value = local;
    m.u.refuse.remote_value = remote;
    snprintf(m.u.refuse.key, sizeof(m.u.refuse.key), "%s", key);
    rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    char what[96];
    describe(param, local, remote, key, what, sizeof(what));
    if (rn_peer_stranger(peer)) {
        /* Not a player of this session: it learns why, the game does not. */
        p->handshakes_refused++;
        rn_logf(&s->events, ROLLNET_LOG_WARN, "incoming connection refused: %s", what);
    } else {
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_REFUSED, rn_peer_event_player(peer));
        ev.u.refused.param = param;
        ev.u.refused.local_value = local;
        ev.u.refused.remote_value = remote;
        snprintf(ev.u.refused.key, sizeof(ev.u.refused.key), "%s", key);
        rn_events_push(&s->events, &ev);
        rn_logf(&s->events, ROLLNET_LOG_ERROR, "handshake refused: %s", what);
    }
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    /* Not closed at once: ENet drops packets still waiting for delivery when
     * the close arrives with them, and the peer must read why it is refused.
     * The peer closes on reading REFUSE; this is the fallback. */
    peer->close_at_ms = s->now + 1000;
}

/* The players a HELLO may claim from this peer. */
static uint32_t claimable(const rn_p2p *p, const rn_peer *peer)
{
    uint32_t allowed = peer->outgoing ? peer->player_mask : p->incoming_mask;
    /* A player who left plays neutral for good: it cannot rejoin this session. */
    for (int q = 0; q < p->base.desc.num_players; q++) {
        if (p->base.sync.queues[q].disconnected_from >= 0) {
            allowed &= ~(1u << q);
        }
    }
    if (!peer->outgoing) {
        for (int i = 0; i < p->num_peers; i++) {
            /* A leaving peer's players too: the survivors are still agreeing
             * on their last frame. */
            if (&p->peers[i] != peer &&
                (rn_peer_live(&p->peers[i]) || p->peers[i].state == RN_PEER_LEAVING)) {
                allowed &= ~p->peers[i].player_mask;
            }
        }
    }
    return allowed;
}

/* The players a HELLO claims must be remote here and not held by another
 * peer; otherwise the peer is refused (false). */
/* The players a HELLO claims must be remote here and not held by another
 * peer; else it is refused: SESSION_FULL when they connect here and other
 * peers hold them, PLAYERS otherwise. */
static bool claim_ok(rn_p2p *p, rn_peer *peer, uint32_t mask)
{
    uint32_t allowed = claimable(p, peer);
    bool ok = peer->outgoing ? mask == allowed : (mask != 0 && (mask & ~allowed) == 0);
    if (!ok) {
        uint32_t taken = 0;
        for (int i = 0; i < p->num_peers; i++) {
            const rn_peer *q = &p->peers[i];
            if (q != peer && (rn_peer_live(q) || q->state == RN_PEER_LEAVING)) {
                taken |= q->player_mask;
            }
        }
        bool full = !peer->outgoing && mask != 0 && (mask & ~p->incoming_mask) == 0 &&
                    (mask & ~allowed & ~taken) == 0;
        refuse(p, peer, full ? ROLLNET_PARAM_SESSION_FULL : ROLLNET_PARAM_PLAYERS, (int64_t)allowed,
               (int64_t)mask, "");
    }
    return ok;
}

static void admit(rn_p2p *p, rn_peer *peer, uint32_t mask);

void rn_p2p_on_hello(rn_p2p *p, rn_peer *peer, const rn_hello *h)
{
    rollnet_session *s = &p->base;
    if (peer->state != RN_PEER_HANDSHAKE || peer->hello_ok || s->failed != ROLLNET_ERR_OK) {
        peer->st.dropped_malformed++; /* out of turn, or the session has stopped */
        return;
    }
    rollnet_param param;
    int64_t mine, theirs;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    if (!rn_peer_hello_matches(&s->desc, h, &param, &mine, &theirs, key)) {
        refuse(p, peer, param, mine, theirs, key);
        return;
    }
    rn_peer *again = NULL;
    if (h->rejoin && !(s->desc.rejoin && !s->running)) {
        /* (Between two processes that both rejoin, 3+ players, a HELLO is
         * only a HELLO: neither knew the other.) */
        /* A crashed peer started again (p2p_rejoin.c): it takes a place. */
        if (peer->outgoing || !rn_p2p_rejoin_claim(p, peer, h)) {
            if (peer->outgoing) {
                rn_p2p_refuse(p, peer, ROLLNET_PARAM_REJOIN, rn_p2p_rejoins(p), 1);
            }
            return;
        }
    } else if (h->player_mask == 0 && !peer->outgoing) {
        /* A spectator (p2p_spectators.c): it plays nobody. */
        if (!rn_p2p_spectator_room(p, peer)) {
            return;
        }
        if (s->desc.session_key_size == 0) {
            peer->nonce = h->nonce;
            rn_p2p_spectator_admit(p, peer);
            return;
        }
    } else {
        /* A peer we accepted whose connection was lost before it heard so
         * starts its handshake again: its HELLO (same nonce, same players)
         * takes the place it held, once proven. */
        again = rn_p2p_handshake_again(p, peer, h->nonce, h->player_mask);
        if (!again && !claim_ok(p, peer, h->player_mask)) {
            return;
        }
    }
    peer->nonce = h->nonce;
    peer->st.input_delay = h->input_delay; /* its starting delay, until its inputs say more */
    if (s->desc.session_key_size == 0) {
        if (peer->rejoin_for >= 0) {
            rn_p2p_rejoin_accept(p, peer);
            return;
        }
        rn_p2p_release_for_handshake(p, again);
        admit(p, peer, h->player_mask);
        return;
    }
    /* A private session: prove the key, and wait for the peer's proof. */
    peer->hello_ok = true;
    peer->claim_mask = h->player_mask;
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_AUTH;
    if (!rn_auth_proof(p->key, p->nonce, h->nonce, s->local_mask, h->player_mask,
                       m.u.auth.proof)) {
        refuse(p, peer, ROLLNET_PARAM_SESSION_KEY, 0, 1, ""); /* unreachable: creation checked */
        return;
    }
    rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
}

void rn_p2p_on_auth(rn_p2p *p, rn_peer *peer, const rn_auth *a)
{
    rollnet_session *s = &p->base;
    if (peer->state != RN_PEER_HANDSHAKE || !peer->hello_ok || s->failed != ROLLNET_ERR_OK) {
        peer->st.dropped_malformed++; /* out of turn, unasked, or the session has stopped */
        return;
    }
    if (!rn_auth_verify(p->key, peer->nonce, p->nonce, peer->claim_mask, s->local_mask,
                        a->proof)) {
        refuse(p, peer, ROLLNET_PARAM_SESSION_KEY, 1, 0, "");
        return;
    }
    if (peer->rejoin_for >= 0) {
        rn_p2p_rejoin_accept(p, peer);
        return;
    }
    if (peer->claim_mask == 0) {
        if (rn_p2p_spectator_room(p, peer)) {
            rn_p2p_spectator_admit(p, peer);
        }
        return;
    }
    rn_p2p_release_for_handshake(p,
                                 rn_p2p_handshake_again(p, peer, peer->nonce, peer->claim_mask));
    /* Another connection may have taken its players while it proved the key. */
    if (claim_ok(p, peer, peer->claim_mask)) {
        admit(p, peer, peer->claim_mask);
    }
}

/* The peer's HELLO (and, with a key, its AUTH) is good: it holds its players. */
static void admit(rn_p2p *p, rn_peer *peer, uint32_t mask)
{
    rollnet_session *s = &p->base;
    peer->hello_ok = false;
    peer->player_mask = mask;
    peer->tag = rn_nonce_tag(peer->nonce);
    rn_peer_set_state(peer, RN_PEER_RUNNING, &s->events);
    for (int q = 0; q < s->desc.num_players; q++) {
        if (mask & (1u << q)) {
            p->player_peer[q] = peer->index;
        }
    }
    rn_link_set_timeout(&p->link, peer, s->desc.disconnect_timeout_ms);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_SYNCHRONIZING, rn_peer_event_player(peer));
    ev.u.synchronizing.done = 1;
    ev.u.synchronizing.total = 1;
    rn_events_push(&s->events, &ev);
    rn_events_simple(&s->events, ROLLNET_EVENT_SYNCHRONIZED, rn_peer_event_player(peer));
    /* It may know now that we accepted it. */
    peer->admitted_ms = s->now;
    rn_p2p_send_ready(p, peer, ROLLNET_CHANNEL_RELIABLE);
    rn_p2p_check_running(p);
}

void rn_p2p_on_refuse(rn_p2p *p, rn_peer *peer, const rn_refuse *r)
{
    rollnet_session *s = &p->base;
    if (rn_peer_stranger(peer)) {
        peer->st.dropped_malformed++; /* we asked it nothing: a stranger's REFUSE means nothing */
        return;
    }
    if (r->param == ROLLNET_PARAM_EPISODE_ENDS && rn_peer_live(peer)) {
        rn_p2p_episode_mismatch(p, peer, (int32_t)r->local_value, false);
        return;
    }
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_REFUSED, rn_peer_event_player(peer));
    ev.u.refused.param = (rollnet_param)r->param;
    ev.u.refused.local_value = r->remote_value;
    ev.u.refused.remote_value = r->local_value;
    memcpy(ev.u.refused.key, r->key, sizeof(ev.u.refused.key)); /* NUL-terminated: decoded */
    rn_events_push(&s->events, &ev);
    char what[96];
    describe(ev.u.refused.param, ev.u.refused.local_value, ev.u.refused.remote_value, r->key,
             what, sizeof(what));
    rn_logf(&s->events, ROLLNET_LOG_ERROR, "handshake refused by peer %d: %s", peer->index, what);
    bool was_running = rn_peer_live(peer);
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    peer->st.connected = false;
    rn_link_close(&p->link, peer->tp);
    if (was_running || s->running || peer->outgoing) {
        /* Refused by the peer we connect to (nobody else will host those
         * players), or accepted here but refused there (a departed player
         * trying to rejoin): this session cannot go on. */
        rn_frame_fail(s, ROLLNET_ERR_REFUSED);
    }
}

void rn_p2p_refuse(rn_p2p *p, rn_peer *peer, rollnet_param param, int64_t local, int64_t remote)
{
    refuse(p, peer, param, local, remote, "");
}
