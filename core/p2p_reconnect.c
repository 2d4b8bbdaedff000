/* Lost connections and reconnection. A transport close or timeout the peer
 * did not announce (no LEAVE), or silence past disconnect_timeout_ms, is a
 * lost connection, not a departure: the peer keeps its players, its inputs
 * and its place (it stays INTERRUPTED, `lost`), and for reconnect_timeout_ms
 *
 *   - the side that dialled it (it knows the address) connects again, once
 *     a second, and CLAIMs to be the peer it was (both session nonces of the
 *     first handshake and its players);
 *   - the side that accepted it waits (from the moment the other side must
 *     have noticed the loss too: disconnect_timeout_ms after the last message
 *     it sent): the claim arrives on a new incoming
 *     connection (a stranger until it proves itself; also from a new
 *     address or port, a NAT that rebinds, even before this side noticed
 *     the old connection die). It answers with a CHALLENGE it never issued
 *     before; the claimer answers with a PROOF over it (in a private session
 *     an HMAC with the session key, auth.h); the peer is bound to the new
 *     connection, the old one is closed, and an ACCEPT tells the claimer.
 *
 * Both then go on from where they were: every unacknowledged input is sent
 * again (the next INPUT carries all of them), the reliable state that may
 * have been lost with the old connection (this side's loading notice, its
 * FINISH, its LEAVE notices about departed peers, also those settled
 * meanwhile: the peer's departure agreement may wait for them) is sent again, and time
 * sync starts afresh. Past the window the peer is gone
 * (ROLLNET_DISCONNECT_CONNECTION_LOST; with 3+ players the survivors agree on
 * its last frame as for any departure). A resume claim with the wrong
 * nonces, players or proof is a stranger's: counted, no event. */
#include <string.h>

#include "p2p_session.h"

bool rn_p2p_reconnects(const rn_p2p *p)
{
    return p->base.desc.reconnect_timeout_ms != ROLLNET_RECONNECT_OFF;
}

static void reconnecting_event(rn_p2p *p, const rn_peer *peer)
{
    rollnet_session *s = &p->base;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_RECONNECTING, rn_peer_event_player(peer));
    ev.u.waiting.attempt = peer->lost_attempts;
    uint64_t waited = s->now - peer->lost_since_ms;
    ev.u.waiting.waited_ms = waited > UINT32_MAX ? UINT32_MAX : (uint32_t)waited;
    ev.u.waiting.missing = peer->player_mask;
    rn_events_push(&s->events, &ev);
}

static void send_resume(rn_p2p *p, rn_peer *peer, rn_resume_kind kind, uint64_t peer_nonce,
                        uint64_t challenge)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_RESUME;
    m.u.resume.kind = (uint8_t)kind;
    m.u.resume.nonce = p->nonce;
    m.u.resume.peer_nonce = peer_nonce;
    m.u.resume.player_mask = p->base.local_mask;
    m.u.resume.challenge = challenge;
    rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, p->base.now);
}

/* The side that dials: one more connection to the peer's address. */
static void attempt(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    peer->lost_attempts++;
    peer->attempt_ms = s->now;
    peer->proved = false;
    peer->tp = rn_link_connect(&p->link, peer, s->now);
    if (peer->tp < 0) {
        peer->next_retry_ms = s->now + RN_RETRY_MS;
    }
    reconnecting_event(p, peer);
}

void rn_p2p_connection_lost(rn_p2p *p, rn_peer *peer, rollnet_disconnect_reason reason, bool close)
{
    rollnet_session *s = &p->base;
    if (!peer->lost && rn_peer_live(peer) && rn_p2p_redial_before_start(p, peer, close)) {
        return;
    }
    /* Reconnecting makes sense only for a running peer of a session that
     * goes on; a peer that finished and closes after we are done is done. */
    if (!rn_p2p_reconnects(p) || !rn_peer_live(peer) || peer->lost ||
        s->failed != ROLLNET_ERR_OK || s->left || (s->fin.done_local && peer->fin_end >= 0)) {
        if (!peer->lost) {
            rn_p2p_peer_gone(p, peer, reason, close);
        }
        return;
    }
    if (close) {
        rn_link_close(&p->link, peer->tp);
    }
    peer->tp = -1;
    peer->lost = true;
    if (!peer->rejoin_owed) {
        /* (A rejoin not complete yet: the window still counts from the
         * loss of the process it replaces, so that claims that never
         * complete cannot keep the place for ever.) */
        peer->lost_since_ms = s->now;
    }
    peer->lost_attempts = 0;
    peer->st.connected = false;
    peer->st.connections_lost++;
    if (peer->state == RN_PEER_RUNNING) {
        rn_peer_set_state(peer, RN_PEER_INTERRUPTED, &s->events);
        rn_events_simple(&s->events, ROLLNET_EVENT_INTERRUPTED, rn_peer_event_player(peer));
    }
    rn_logf(&s->events, ROLLNET_LOG_WARN, "player %d: connection lost (%s); %s for up to %u ms",
            rn_peer_event_player(peer), rollnet_disconnect_reason_string(reason),
            peer->outgoing ? "reconnecting" : "waiting for it to reconnect",
            (unsigned)rn_p2p_hold_ms(p));
    if (peer->outgoing) {
        attempt(p, peer);
    } else {
        reconnecting_event(p, peer);
    }
}

void rn_p2p_lost_timers(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    uint32_t window = rn_p2p_hold_ms(p);
    /* The side that waits allows the other side first to notice the loss,
     * which may take it disconnect_timeout_ms of silence (a close told only
     * this side): its window runs from then. */
    uint64_t from = peer->lost_since_ms;
    if (!peer->outgoing && peer->last_recv_ms + s->desc.disconnect_timeout_ms > from) {
        from = peer->last_recv_ms + s->desc.disconnect_timeout_ms;
    }
    /* An attempt the other side has challenged and we have answered is let
     * finish (its ACCEPT is on the way): the window does not cut it short. */
    bool finishing = peer->outgoing && peer->tp >= 0 && peer->proved &&
                     s->now - peer->attempt_ms < RN_RECONNECT_ATTEMPT_MS;
    if (window != ROLLNET_WAIT_FOREVER && s->now >= from + window && !finishing) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR,
                "player %d: connection not regained within reconnect_timeout_ms (%u ms, %d "
                "attempts)",
                rn_peer_event_player(peer), (unsigned)window, peer->lost_attempts);
        rn_link_close(&p->link, peer->tp);
        peer->tp = -1;
        peer->lost = false;
        rn_p2p_peer_gone(p, peer, ROLLNET_DISCONNECT_CONNECTION_LOST, false);
        return;
    }
    if (!peer->outgoing) {
        return; /* it reconnects to us */
    }
    if (peer->tp < 0) {
        if (s->now >= peer->next_retry_ms) {
            attempt(p, peer);
        }
    } else if (s->now - peer->attempt_ms >= RN_RECONNECT_ATTEMPT_MS) {
        rn_link_close(&p->link, peer->tp); /* no resume on this one: another */
        peer->tp = -1;
        peer->next_retry_ms = s->now + RN_RETRY_MS;
    }
}

void rn_p2p_attempt_closed(rn_p2p *p, rn_peer *peer)
{
    peer->tp = -1;
    peer->next_retry_ms = p->base.now + RN_RETRY_MS;
}

bool rn_p2p_reconnect_connected(rn_p2p *p, int tp)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (peer->lost && peer->outgoing && peer->tp == tp) {
            send_resume(p, peer, RN_RESUME_CLAIM, peer->nonce, 0);
            return true;
        }
    }
    return false;
}

rn_peer *rn_p2p_handshake_again(rn_p2p *p, const rn_peer *conn, uint64_t nonce, uint32_t mask)
{
    if (!rn_p2p_reconnects(p) || conn->outgoing) {
        return NULL;
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (q != conn && !q->outgoing && rn_peer_live(q) && q->nonce == nonce &&
            q->player_mask == mask && q->st.last_received_frame < 0) {
            return q; /* it never sent an input: it never ran with us */
        }
    }
    return NULL;
}

void rn_p2p_release_for_handshake(rn_p2p *p, rn_peer *old)
{
    if (!old) {
        return;
    }
    rn_logf(&p->base.events, ROLLNET_LOG_INFO,
            "player %d's peer starts its handshake again on a new connection",
            rn_peer_event_player(old));
    rn_link_close(&p->link, old->tp);
    int idx = old->index;
    rn_peer_reset(old, idx);
    rn_confirm_forget_peer(&p->confirm, idx);
    old->state = RN_PEER_GONE; /* a free slot, no connection, no players */
}

/* What may have been lost with the old connection, sent again: that this
 * side accepted the peer (READY: it may not run yet), this side's loading
 * state, its FINISH, and its notices about departed peers (the receivers
 * take them idempotently). */
static void resend_state(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    rn_p2p_send_ready(p, peer, ROLLNET_CHANNEL_RELIABLE);
    rn_msg m;
    rn_p2p_loading_notice(p, &m);
    rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    if (s->fin.active) {
        memset(&m, 0, sizeof(m));
        m.type = RN_MSG_FINISH;
        m.u.finish.tag = p->tag;
        m.u.finish.stop = s->fin.stop;
        m.u.finish.inputs_end = s->fin.inputs_end < RN_MAX_FRAME ? s->fin.inputs_end : RN_MAX_FRAME;
        m.u.finish.done = s->fin.done_local;
        rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    }
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        /* Also those settled here meanwhile: the peer may still be waiting
         * for this side's notice, sent on the connection that was lost. */
        if (q->state == RN_PEER_LEAVING || (q->state == RN_PEER_GONE && q->leave_settled)) {
            int32_t last = q->state == RN_PEER_LEAVING ? rn_p2p_peer_confirmed(p, q) : q->leave_last;
            rn_p2p_send_leave(p, q->player_mask, last, q->leave_reason == ROLLNET_DISCONNECT_LEFT,
                              q->fin_stop, q->fin_end);
        }
    }
    rn_p2p_absent_resend(p, peer);
}

/* The connection is back: play goes on from where it was. */
void rn_p2p_resumed(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    uint64_t gap = s->now - (peer->lost ? peer->lost_since_ms : peer->last_recv_ms);
    peer->lost = false;
    rn_p2p_rejoin_resumed(p, peer);
    peer->resumed_ms = s->now;
    peer->st.reconnects++;
    peer->st.connected = true;
    peer->input_sends = 0; /* the next INPUT carries every unacknowledged input */
    rn_timesync_init(&peer->ts); /* samples from before the gap say nothing now */
    rn_link_set_timeout(&p->link, peer,
                        peer->loading ? s->desc.loading_grace_ms : s->desc.disconnect_timeout_ms);
    rn_logf(&s->events, ROLLNET_LOG_INFO, "player %d: connection regained after %llu ms",
            rn_peer_event_player(peer), (unsigned long long)gap);
    if (rn_peer_heard(peer, s->now, &s->events)) {
        rn_events_simple(&s->events, ROLLNET_EVENT_RESUMED, rn_peer_event_player(peer));
    }
    resend_state(p, peer);
    rn_p2p_send_inputs(p, peer);
    s->dirty = true;
}

/* The running peer an incoming claim names, or NULL. */
static rn_peer *claimed_peer(rn_p2p *p, const rn_peer *conn, const rn_resume *r)
{
    if (r->peer_nonce != p->nonce) {
        return NULL;
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (q != conn && !q->outgoing && rn_peer_live(q) && q->player_mask == r->player_mask &&
            q->nonce == r->nonce) {
            return q;
        }
    }
    return NULL;
}

/* A claim that does not hold: its connection is a stranger's. */
static void refuse_claim(rn_p2p *p, rn_peer *conn, const char *why)
{
    p->resumes_refused++;
    rn_logf(&p->base.events, ROLLNET_LOG_WARN, "incoming connection: resume refused (%s)", why);
    if (rn_peer_stranger(conn) && conn->state == RN_PEER_HANDSHAKE) {
        rn_p2p_peer_gone(p, conn, ROLLNET_DISCONNECT_CLOSED, true); /* no event: a stranger */
    }
}

/* The accepting side: the claimer proved it; it takes the peer's place. */
static void rebind(rn_p2p *p, rn_peer *conn, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    int old = peer->tp;
    peer->tp = conn->tp;
    conn->tp = -1;
    conn->resume_for = -1;
    rn_peer_set_state(conn, RN_PEER_GONE, &s->events); /* its slot is free again */
    if (old >= 0 && old != peer->tp) {
        rn_link_close(&p->link, old);
    }
    if (!peer->lost) {
        peer->st.connections_lost++; /* it came back before we noticed (a NAT rebinding) */
    }
    send_resume(p, peer, RN_RESUME_ACCEPT, peer->nonce, 0);
    rn_p2p_resumed(p, peer);
}

static void on_claim(rn_p2p *p, rn_peer *conn, const rn_resume *r)
{
    if (!rn_peer_stranger(conn) || conn->state != RN_PEER_HANDSHAKE) {
        conn->st.dropped_malformed++;
        return;
    }
    rn_peer *peer = claimed_peer(p, conn, r);
    if (!peer) {
        refuse_claim(p, conn, "no running peer has those nonces and players");
        return;
    }
    /* A value never issued before in this session: a proof over an older
     * one (a recording) does not verify. */
    conn->resume_for = peer->index;
    conn->resume_challenge = ++p->challenges;
    send_resume(p, conn, RN_RESUME_CHALLENGE, peer->nonce, conn->resume_challenge);
}

static void on_proof(rn_p2p *p, rn_peer *conn, const rn_resume *r)
{
    const rollnet_session *s = &p->base;
    if (!rn_peer_stranger(conn) || conn->state != RN_PEER_HANDSHAKE || conn->resume_for < 0 ||
        r->challenge != conn->resume_challenge) {
        refuse_claim(p, conn, "a proof without its challenge");
        return;
    }
    rn_peer *peer = claimed_peer(p, conn, r);
    if (!peer || peer->index != conn->resume_for) {
        refuse_claim(p, conn, "the proof names another peer");
        return;
    }
    bool keyed = s->desc.session_key_size > 0;
    if (keyed != r->has_proof ||
        (keyed && !rn_auth_resume_verify(p->key, r->nonce, p->nonce, r->player_mask,
                                         s->local_mask, r->challenge, r->proof))) {
        refuse_claim(p, conn, "the proof of the session key does not verify");
        return;
    }
    if (peer->played_on) {
        /* absent_play NEUTRAL: frames were played without it; it comes
         * back only as a rejoin, from the state after them. */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "player %d's peer is back, but this side played on without it: told to rejoin",
                rn_peer_event_player(peer));
        send_resume(p, conn, RN_RESUME_PLAYED_ON, peer->nonce, 0);
        conn->resume_for = -1;
        conn->close_at_ms = p->base.now + 1000; /* after it read why */
        rn_peer_set_state(conn, RN_PEER_GONE, &p->base.events);
        return;
    }
    rebind(p, conn, peer);
}

/* The dialling side, absent_play NEUTRAL: the peer played on without this
 * side, so a resume cannot go on from where this side is. It stops; the
 * game comes back by creating its session again with `rejoin`. */
static void played_on_without_us(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "player %d's peer played on without this side (absent_play NEUTRAL): this session "
            "stops; create it again with rejoin set to come back",
            rn_peer_event_player(peer));
    rn_link_close(&p->link, peer->tp);
    peer->tp = -1;
    peer->lost = false;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(peer));
    ev.u.disconnected.reason = ROLLNET_DISCONNECT_PLAYED_ON;
    ev.u.disconnected.frame = -1;
    rn_events_push(&s->events, &ev);
    rn_peer_set_state(peer, RN_PEER_GONE, &s->events);
    rn_frame_fail(s, ROLLNET_ERR_DISCONNECTED);
}

/* The dialling side: the message comes on its new connection from the
 * peer it lost, naming both nonces. */
static bool from_lost_peer(const rn_p2p *p, const rn_peer *peer, const rn_resume *r)
{
    return peer->lost && peer->outgoing && r->nonce == peer->nonce && r->peer_nonce == p->nonce &&
           r->player_mask == peer->player_mask;
}

/* The accepting side: the peer it let resume a moment ago says, on that
 * connection, that it may not (it answers our ACCEPT with PLAYED_ON). */
static bool from_resumed_peer(const rn_p2p *p, const rn_peer *peer, const rn_resume *r)
{
    return !peer->lost && !peer->outgoing && rn_peer_live(peer) && peer->resumed_ms > 0 &&
           r->nonce == peer->nonce && r->peer_nonce == p->nonce &&
           r->player_mask == peer->player_mask;
}

/* The dialling side: our attempt was accepted. */
static void on_accept(rn_p2p *p, rn_peer *conn, const rn_resume *r)
{
    if (!from_lost_peer(p, conn, r)) {
        conn->st.dropped_malformed++;
        return;
    }
    if (conn->played_on) {
        /* 3+ players, absent_play NEUTRAL: this side told the other
         * survivors it lost the peer, and they may play on without it
         * with that note: it comes back only as a rejoin. */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "player %d's peer accepted our reconnection, but the survivors may play on "
                "without it: told to rejoin",
                rn_peer_event_player(conn));
        send_resume(p, conn, RN_RESUME_PLAYED_ON, conn->nonce, 0);
        return; /* it stops and closes; the attempt's timer closes it otherwise */
    }
    rn_p2p_resumed(p, conn);
}

/* PLAYED_ON: the other side took part in playing on without this one. */
static void on_played_on(rn_p2p *p, rn_peer *conn, const rn_resume *r)
{
    if (rn_p2p_plays_on_without(p, conn)) {
        /* 3+ players: it only promised (its note's set never agreed);
         * this side did play on without it. It is the one to rejoin. */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "player %d's peer says it played on without this side, but this side plays "
                "on without it: ignored",
                rn_peer_event_player(conn));
        return;
    }
    if (from_resumed_peer(p, conn, r)) {
        played_on_without_us(p, conn); /* it accepted us, then found it may not */
        return;
    }
    if (!from_lost_peer(p, conn, r) || !conn->proved) {
        conn->st.dropped_malformed++;
        return;
    }
    played_on_without_us(p, conn);
}

void rn_p2p_on_resume(rn_p2p *p, rn_peer *conn, const rn_resume *r)
{
    const rollnet_session *s = &p->base;
    if (s->desc.rejoin && !s->running && !conn->lost && r->peer_nonce != p->nonce) {
        /* Started again after a crash: the peer's attempt to resume the
         * process it knew. Its connection hears our HELLO, which says
         * rejoin (p2p_rejoin.c). (Our own attempt, conn->lost, to resume
         * a connection lost before the state came is answered, and so is
         * an attempt that names this process: a survivor that accepted it,
         * with 3+ players before every survivor's state is in.) */
        return;
    }
    if (s->failed != ROLLNET_ERR_OK || !rn_p2p_reconnects(p)) {
        conn->st.dropped_malformed++;
        return;
    }
    switch ((rn_resume_kind)r->kind) {
    case RN_RESUME_CLAIM:
        on_claim(p, conn, r);
        break;
    case RN_RESUME_PROOF:
        on_proof(p, conn, r);
        break;
    case RN_RESUME_CHALLENGE: {
        if (!from_lost_peer(p, conn, r)) {
            conn->st.dropped_malformed++;
            return;
        }
        rn_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RN_MSG_RESUME;
        m.u.resume.kind = RN_RESUME_PROOF;
        m.u.resume.nonce = p->nonce;
        m.u.resume.peer_nonce = conn->nonce;
        m.u.resume.player_mask = s->local_mask;
        m.u.resume.challenge = r->challenge;
        if (s->desc.session_key_size > 0) {
            m.u.resume.has_proof =
                rn_auth_resume_proof(p->key, p->nonce, conn->nonce, s->local_mask,
                                     conn->player_mask, r->challenge, m.u.resume.proof);
        }
        rn_link_send(&p->link, conn, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
        conn->proved = true;
        conn->attempt_ms = s->now; /* answered: the attempt gets its time from here */
        break;
    }
    case RN_RESUME_ACCEPT:
        on_accept(p, conn, r);
        break;
    case RN_RESUME_PLAYED_ON:
        on_played_on(p, conn, r);
        break;
    default:
        conn->st.dropped_malformed++;
        break;
    }
}
