/* Rejoin: a peer whose process crashed comes back (desc.rejoin).
 *
 * The side that stays sees a lost connection (p2p_reconnect.c) and keeps
 * the peer's place for the longer of reconnect_timeout_ms and
 * rejoin_timeout_ms, paused at the prediction window. The new process has
 * a new nonce and nothing else of the old one, so it cannot RESUME; its
 * HELLO says `rejoin` instead, and
 *
 *   - arrives on a new incoming connection (the rejoiner dials: it has this
 *     side's address), or on this side's own reconnect attempt (this side
 *     dials: the rejoiner, listening again, answers the attempt's CLAIM
 *     with nothing and sends its HELLO like to any incoming connection).
 *     The attempt's connection then moves to a slot of its own and goes
 *     through the same handshake;
 *   - must match the session parameters and, in a private session, prove
 *     the key (AUTH) like any joiner; its players must be exactly those of
 *     a live peer of a running session whose connection is lost or that has
 *     been silent past notify_timeout_ms (a peer that plays keeps its seat);
 *   - takes that peer's place: the new connection and nonce, the peer's
 *     inputs and queues as they are. Nothing else of the old process counts
 *     (its loading notice, FINISH, checksums).
 *
 * The state it is owed: the frame F after the last frame of its players
 * confirmed here, once everything before F is confirmed here, no rollback
 * is under way and promotion has reached F (rn_state_here gives F's
 * snapshot). Then STATE_HEAD and STATE_CHUNKs (state_transfer.h), REJOINED,
 * and play goes on as after a resume: this side's inputs from F, its
 * reliable state, time sync afresh. The rejoiner LOADs F's state, its own
 * players' frames F..F+delay-1 are neutral as at a start, and it runs.
 * Nothing the old process sent past F-1 was confirmed here, so nothing the
 * new one plays contradicts it: both ledgers agree from F on. Until an
 * input of the new process arrives, the state may have died with the
 * connection it went on: a resume (the rejoining side answers RESUME on its
 * own attempt even before it runs) sends it again, and the rejoining side
 * takes the transfer afresh.
 *
 * With three or more players each survivor may hold a different last frame
 * of the crashed peer's inputs: each survivor that accepts the claim tells
 * the others what it holds (p2p_absent.c), and the state goes out once they
 * agree, so that F is the same frame everywhere and every survivor holds
 * the same inputs before it. The claim needs a new nonce (one with the
 * crashed process's is refused: the survivors tell one rejoin from the
 * next by it). Every survivor sends the state, the same bytes; the
 * rejoining side takes them from whichever copy brings its next bytes
 * first (a survivor dying mid-transfer costs nothing) and runs once every
 * survivor has sent its own (their READYs come with it). Until then it
 * answers RESUMEs that name its own nonce, dials a survivor that sent its
 * state again with RESUME, and says `rejoin` in its HELLO to one that has
 * not (which takes the claim again). A survivor whose state waits for the
 * notes sends a loading notice every half notify_timeout_ms meanwhile. A rejoin that
 * cannot complete ends with the window, counted from the loss of the
 * crashed process: the peer is gone (DISCONNECTED TIMEOUT). */
#include <string.h>

#include "p2p_session.h"
#include "rn_alloc.h"
#include "state_transfer.h"

bool rn_p2p_rejoins(const rn_p2p *p)
{
    const rollnet_session_desc *d = &p->base.desc;
    return rn_p2p_reconnects(p) && d->rejoin_timeout_ms != ROLLNET_REJOIN_OFF;
}

uint32_t rn_p2p_hold_ms(const rn_p2p *p)
{
    uint32_t hold = p->base.desc.reconnect_timeout_ms;
    if (rn_p2p_rejoins(p)) {
        uint32_t r = p->base.desc.rejoin_timeout_ms;
        hold = (hold == ROLLNET_WAIT_FOREVER || r == ROLLNET_WAIT_FOREVER) ? ROLLNET_WAIT_FOREVER
               : r > hold                                                 ? r
                                                                          : hold;
    }
    return hold;
}

rollnet_error rn_p2p_rejoin_init(rn_p2p *p)
{
    const rollnet_session_desc *d = &p->base.desc;
    if (!d->rejoin) {
        return ROLLNET_ERR_OK;
    }
    return rn_state_in_init(&p->rejoin_in, &p->base.alloc, d->snapshot_capacity);
}

void rn_p2p_rejoin_free(rn_p2p *p)
{
    rn_state_in_free(&p->rejoin_in);
}

/* ---- The side that kept the place ------------------------------------------ */

/* absent_play NEUTRAL with two players: the side the peer connected to
 * plays on while the peer is lost; the side that connected waits (so the
 * two never play on apart, each with the other neutral). With more, the
 * survivors agree first (p2p_absent.c). */
static bool plays_on(const rn_p2p *p, const rn_peer *peer)
{
    return p->base.desc.absent_play == ROLLNET_ABSENT_NEUTRAL && rn_p2p_rejoins(p) &&
           p->base.desc.num_players == 2 && !peer->outgoing && p->base.running;
}

/* The lost peer's players: neutral and confirmed from the frame after
 * their last confirmed input up to this side's newest input, the range
 * flagged (rn_input_queue::absent_from). */
static void play_on(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    int32_t upto = rn_frame_local_newest(s);
    for (int q = 0; q < s->desc.num_players; q++) {
        if (!(peer->player_mask & (1u << q))) {
            continue;
        }
        rn_input_queue *iq = &s->sync.queues[q];
        if (!peer->played_on &&
            rn_sync_absence_begin(&s->sync, 1u << q, iq->last_confirmed + 1) != 0) {
            rn_logf(&s->events, ROLLNET_LOG_WARN,
                    "player %d is away: playing on with its input neutral from frame %d",
                    q, iq->absent_from);
        }
        while (iq->last_confirmed < upto && rn_iq_has_room(iq, iq->last_confirmed + 1)) {
            rn_iq_add(iq, iq->last_confirmed + 1, iq->neutral);
            s->dirty = true;
        }
    }
    peer->played_on = true;
}

/* The peer is back at `frame`: its players' absence ends there. */
static void absence_ends(rn_p2p *p, rn_peer *peer, int32_t frame)
{
    rn_sync_absence_end(&p->base.sync, peer->player_mask, frame);
    peer->played_on = false;
}

/* The live peer whose place a rejoin HELLO from `conn` claims, or NULL: one
 * whose connection is lost or that has been silent past notify_timeout_ms
 * (INTERRUPTED). A peer that is heard from keeps its place: in a public
 * session a stranger who knows the parameters could otherwise take the seat
 * of a player who is playing. */
static rn_peer *target(rn_p2p *p, const rn_peer *conn, uint32_t mask)
{
    if (!rn_p2p_rejoins(p) || !p->base.running || p->base.failed != ROLLNET_ERR_OK ||
        p->base.left || mask == 0) {
        return NULL;
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (q != conn && rn_peer_live(q) && q->player_mask == mask &&
            (q->lost || q->state == RN_PEER_INTERRUPTED)) {
            return q;
        }
    }
    return NULL;
}

/* 3+ players: another seat than `old`'s that is away here (lost, being
 * rejoined, played on without, or leaving), or NULL. */
static const rn_peer *another_away(const rn_p2p *p, const rn_peer *old)
{
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if (q != old && q->player_mask != 0 &&
            ((rn_peer_live(q) && (q->lost || (q->rejoin_owed && q->nonce != old->nonce) ||
                                  q->rejoin_unconfirmed || rn_p2p_plays_on_without(p, q))) ||
             q->state == RN_PEER_LEAVING)) {
            return q;
        }
    }
    return NULL;
}

bool rn_p2p_rejoin_claim(rn_p2p *p, rn_peer *conn, const rn_hello *h)
{
    rn_peer *old = target(p, conn, h->player_mask);
    if (!old) {
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "a rejoin claiming players 0x%x is refused: %s", (unsigned)h->player_mask,
                !rn_p2p_rejoins(p) ? "this session takes no rejoin (reconnection and "
                                     "rejoin_timeout_ms on)"
                : !p->base.running ? "the session does not run yet"
                                   : "no silent or lost peer holds those players");
        rn_p2p_refuse(p, conn, ROLLNET_PARAM_REJOIN, rn_p2p_rejoins(p), 1);
        return false;
    }
    if (rn_p2p_agreeing(p) && h->nonce == old->nonce && !old->rejoin_owed) {
        /* The survivors tell a rejoin from the next by its nonce. */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "a rejoin claiming player %d's place is refused: it has the nonce of the process "
                "it replaces (leave desc.nonce 0 for a new one)",
                rn_peer_event_player(old));
        rn_p2p_refuse(p, conn, ROLLNET_PARAM_REJOIN, 1, 2);
        return false;
    }
    conn->rejoin_for = old->index;
    if (!old->lost && p->base.desc.session_key_size == 0) {
        /* A public session: nothing proves who the claimer is, so the seat
         * of a peer that is only silent (a lag spike) is not given away;
         * the claim waits until its connection counts as lost
         * (rn_p2p_rejoin_waiting). */
        conn->rejoin_wait = true;
        conn->nonce = h->nonce;
        conn->st.input_delay = h->input_delay;
        rn_logf(&p->base.events, ROLLNET_LOG_INFO,
                "a rejoin claims player %d's place: waiting until its connection counts as lost",
                rn_peer_event_player(old));
        return false;
    }
    return true;
}

/* A claim accepted but for another player away: it goes on once none is,
 * or is refused (value 3) after as long as a public claim may wait. */
static void waiting_for_the_away(rn_p2p *p, rn_peer *conn)
{
    const rollnet_session *s = &p->base;
    rn_peer *old = &p->peers[conn->rejoin_for];
    const rn_peer *away = rn_peer_live(old) ? another_away(p, old) : NULL;
    if (!away && rn_peer_live(old)) {
        conn->rejoin_away = false;
        rn_p2p_rejoin_accept(p, conn);
    } else if (!rn_peer_live(old) || s->now - conn->since_ms >= (uint64_t)s->desc.disconnect_timeout_ms +
                                                               RN_PENDING_TIMEOUT_MS) {
        conn->rejoin_away = false;
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "a rejoin claiming player %d's place is refused: %s", rn_peer_event_player(old),
                rn_peer_live(old) ? "another player is still away (one rejoin at a time)"
                                  : "its peer is gone");
        rn_p2p_refuse(p, conn, ROLLNET_PARAM_REJOIN, 1, rn_peer_live(old) ? 3 : 1);
    }
}

bool rn_p2p_rejoin_waiting(rn_p2p *p, rn_peer *conn)
{
    const rollnet_session *s = &p->base;
    if (conn->rejoin_away) {
        waiting_for_the_away(p, conn);
        return true;
    }
    if (!conn->rejoin_wait) {
        return false;
    }
    rn_peer *old = &p->peers[conn->rejoin_for];
    if (old->lost && rn_peer_live(old)) {
        conn->rejoin_wait = false;
        rn_p2p_rejoin_accept(p, conn);
    } else if (old->state != RN_PEER_INTERRUPTED || !rn_peer_live(old) ||
               s->now - conn->since_ms >= (uint64_t)s->desc.disconnect_timeout_ms +
                                              RN_PENDING_TIMEOUT_MS) {
        conn->rejoin_wait = false; /* heard again: it keeps its seat (or gone) */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "a rejoin claiming player %d's place is refused: its peer %s",
                rn_peer_event_player(old), rn_peer_live(old) ? "is heard again" : "is gone");
        rn_p2p_refuse(p, conn, ROLLNET_PARAM_REJOIN, rn_p2p_rejoins(p), 1);
    }
    return true;
}

/* Everything of the old process that no longer holds. */
static void forget_old_process(rn_p2p *p, rn_peer *old)
{
    if (old->loading) {
        rn_p2p_loading_ended(p, old); /* the game saw LOADING: it hears the end too */
    }
    old->busy.on = false;
    old->label_lagging = false;
    old->fin_stop = old->fin_end = -1;
    old->fin_done = false;
    old->remote_advantage = 0;
    old->lost = false;
    old->proved = false;
    memset(old->notes, 0, sizeof(old->notes)); /* what it said of others died with it */
    rn_confirm_forget_peer(&p->confirm, old->index);
}

void rn_p2p_rejoin_accept(rn_p2p *p, rn_peer *conn)
{
    rollnet_session *s = &p->base;
    rn_peer *old = conn->rejoin_for >= 0 ? &p->peers[conn->rejoin_for] : NULL;
    const rn_peer *away = old && rn_p2p_agreeing(p) ? another_away(p, old) : NULL;
    if (away) {
        /* One rejoin at a time: the new process could not run without the
         * other player's inputs, which only the survivors hold. The claim
         * waits (a loss may be regained at once) and is refused if it lasts. */
        if (!conn->rejoin_away) {
            conn->rejoin_away = true;
            rn_logf(&s->events, ROLLNET_LOG_INFO,
                    "a rejoin claims player %d's place: waiting, player %d is away too",
                    rn_peer_event_player(old), rn_peer_event_player(away));
        }
        return;
    }
    uint32_t mask = conn->hello_ok ? conn->claim_mask : old ? old->player_mask : 0;
    conn->rejoin_for = -1;
    conn->hello_ok = false;
    if (!old || old != target(p, conn, mask)) {
        rn_p2p_refuse(p, conn, ROLLNET_PARAM_REJOIN, rn_p2p_rejoins(p), 1); /* gone meanwhile */
        return;
    }
    int was = old->tp;
    old->tp = conn->tp;
    conn->tp = -1;
    rn_peer_set_state(conn, RN_PEER_GONE, &s->events); /* its slot is free again */
    if (was >= 0 && was != old->tp) {
        rn_link_close(&p->link, was);
    }
    if (!old->lost) {
        old->st.connections_lost++; /* back before the loss was noticed here */
    }
    uint64_t since = old->lost ? old->lost_since_ms : s->now;
    forget_old_process(p, old);
    if (p->intro.asked[old->index].nonce == old->nonce) {
        /* A host: the new process has the old one's addresses, so it lacks
         * the same players; its own INTRO_ASK may have come while its claim
         * waited, and been dropped. */
        p->intro.asked[old->index].nonce = conn->nonce;
    }
    old->nonce = conn->nonce;
    old->tag = rn_nonce_tag(conn->nonce);
    old->st.input_delay = conn->st.input_delay;
    old->st.connected = true;
    old->last_recv_ms = s->now;
    if (!old->rejoin_owed) {
        p->rejoins_owed++;
    }
    old->rejoin_owed = true;
    old->rejoin_unconfirmed = false;
    old->lost_since_ms = since;
    /* While this side loads its state may wait (the frame it owes is one it
     * has not run yet) and nothing else goes out: the new process must know
     * to allow loading_grace_ms of silence, as any peer does. */
    rn_link_set_timeout(&p->link, old,
                        p->loading_self ? s->desc.loading_grace_ms : s->desc.disconnect_timeout_ms);
    if (p->loading_self) {
        rn_msg m;
        rn_p2p_loading_notice(p, &m);
        rn_link_send(&p->link, old, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    }
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d: its peer rejoins after a restart (new connection); its state goes "
            "out once the frames before it are confirmed here",
            rn_peer_event_player(old));
    if (rn_p2p_agreeing(p)) {
        rn_p2p_absent_note(p, old); /* the survivors agree on F first */
    }
}

/* The owed state, when this side can give it: see the top. */
static bool send_state(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    if (rn_p2p_agreeing(p) && !peer->rejoin_unconfirmed && !rn_p2p_absent_agreed(p, peer)) {
        return false; /* the other survivors' notes first (agreed already when sent again) */
    }
    int32_t from = rn_p2p_peer_confirmed(p, peer) + 1;
    rn_state_info info;
    const rn_snapshot_slot *slot = rn_state_here(s, &info);
    if (!slot || info.frame != from) {
        return false; /* not there yet: frames before F unconfirmed, or a rollback */
    }
    rn_state_out out;
    rn_msg m;
    if (!rn_state_out_begin(&out, p->tag, &info, slot->buf, slot->size, &m)) {
        return false;
    }
    if (rn_p2p_agreeing(p)) {
        rn_p2p_absent_done(p, peer);
    }
    rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    for (uint32_t i = 0; i < rn_state_out_chunks(&out); i++) {
        rn_state_out_chunk(&out, i, &m);
        rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    }
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d: sent the state of frame %d to its rejoined peer (%zu bytes, episode %d)",
            rn_peer_event_player(peer), info.frame, slot->size, info.episode);
    bool again = peer->rejoin_unconfirmed; /* after a resume: the game heard it all */
    peer->rejoin_owed = false;
    p->rejoins_owed--;
    absence_ends(p, peer, info.frame);
    peer->ack = info.frame - 1; /* it holds none of our inputs from F on */
    peer->remote_frame = info.frame;
    if (again) {
        peer->input_sends = 0; /* the next INPUT carries every frame from F */
        return true;
    }
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_REJOINED, rn_peer_event_player(peer));
    ev.u.rejoin.frame = info.frame;
    rn_events_push(&s->events, &ev);
    peer->lost = true; /* so the resume counts the gap from the loss */
    rn_p2p_resumed(p, peer);
    peer->rejoin_unconfirmed = true;
    return true;
}

void rn_p2p_rejoin_resumed(rn_p2p *p, rn_peer *peer)
{
    if (peer->rejoin_unconfirmed && !peer->rejoin_owed) {
        peer->rejoin_owed = true; /* this side: the state again, on the new connection */
        p->rejoins_owed++;
    }
    if (p->base.desc.rejoin && !p->rejoined) {
        /* The rejoining side: a transfer cut short starts over. */
        p->rejoin_in.have_head = false;
        p->rejoin_in.received = 0;
    }
}

/* A rejoin whose state could not go out within the window, counted from
 * the loss of the process it replaces (3+ players: the survivors never
 * agreed): the peer is gone, as a lost one whose window ends. */
static bool rejoin_expired(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    uint32_t window = rn_p2p_hold_ms(p);
    if (window == ROLLNET_WAIT_FOREVER || peer->rejoin_unconfirmed ||
        s->now < peer->lost_since_ms + window) {
        return false;
    }
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "player %d: its rejoin did not complete within the window (%u ms)",
            rn_peer_event_player(peer), (unsigned)window);
    peer->rejoin_owed = false;
    p->rejoins_owed--;
    rn_p2p_peer_gone(p, peer, ROLLNET_DISCONNECT_TIMEOUT, true);
    return true;
}

void rn_p2p_rejoin_timers(rn_p2p *p)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (!rn_peer_live(peer) || p->base.failed != ROLLNET_ERR_OK) {
            continue;
        }
        if (peer->rejoin_owed && rejoin_expired(p, peer)) {
            continue;
        }
        if (peer->rejoin_owed) {
            uint32_t every = p->base.desc.notify_timeout_ms / 2;
            if (!peer->lost && !send_state(p, peer) && rn_p2p_agreeing(p) &&
                p->base.now - peer->owed_notice_ms >= (every < 1000 ? every : 1000)) {
                /* Waiting for the other survivors' notes: the new process
                 * must not take the silence for a lost connection. */
                rn_msg m;
                rn_p2p_loading_notice(p, &m);
                rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, p->base.now);
                peer->owed_notice_ms = p->base.now;
            } /* lost: owed once it is back (RESUME) */
        } else if (peer->lost && rn_p2p_agreeing(p)) {
            rn_p2p_absent_timers(p, peer);
        } else if (peer->lost && plays_on(p, peer)) {
            play_on(p, peer);
        }
    }
}

/* A free slot for a connection that is not a peer yet, or NULL. */
static rn_peer *free_slot(rn_p2p *p)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (rn_peer_stranger(q) && q->state == RN_PEER_GONE && q->tp < 0) {
            return q;
        }
    }
    return p->num_peers < RN_MAX_PEERS ? &p->peers[p->num_peers++] : NULL;
}

void rn_p2p_rejoin_on_attempt(rn_p2p *p, rn_peer *peer, const rn_hello *h)
{
    rollnet_session *s = &p->base;
    if (h->nonce == peer->nonce) {
        return; /* the process that rejoined here, not running yet (3+ players): it resumes */
    }
    rn_peer *conn = free_slot(p);
    if (!conn || !peer->outgoing) {
        peer->st.dropped_malformed++;
        return;
    }
    int idx = (int)(conn - p->peers);
    rn_peer_reset(conn, idx);
    rn_confirm_forget_peer(&p->confirm, idx);
    conn->tp = peer->tp;
    conn->since_ms = conn->last_recv_ms = conn->rate_start_ms = s->now;
    conn->st.connected = true;
    rn_peer_set_state(conn, RN_PEER_HANDSHAKE, &s->events);
    /* The attempt is this handshake now; the next one waits for its outcome. */
    peer->tp = -1;
    peer->next_retry_ms = s->now + RN_RECONNECT_ATTEMPT_MS;
    rn_p2p_send_hello(p, conn);
    rn_p2p_on_hello(p, conn, h);
}

/* ---- The rejoining side ---------------------------------------------------- */

static void refused_state(rn_p2p *p, rn_peer *peer, const char *why)
{
    rollnet_session *s = &p->base;
    rn_logf(&s->events, ROLLNET_LOG_ERROR, "rejoin: the state player %d's peer sent is refused: %s",
            rn_peer_event_player(peer), why);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(peer));
    ev.u.disconnected.reason = ROLLNET_DISCONNECT_STATE_INVALID;
    ev.u.disconnected.frame = -1;
    rn_events_push(&s->events, &ev);
    rn_frame_fail(s, ROLLNET_ERR_STATE_INVALID);
}

static void start_from(rn_p2p *p, rn_peer *peer, const rn_state_info *info, const uint8_t *data,
                       size_t size)
{
    rollnet_session *s = &p->base;
    if (rn_state_start(s, info, data, size) != ROLLNET_ERR_OK) {
        refused_state(p, peer, "it does not fit this session (snapshot_capacity, or not msgpack)");
        return;
    }
    /* This side's players start as at frame 0: their delay's first frames
     * are neutral, and its peer learns them as its inputs. */
    for (int q = 0; q < s->desc.num_players; q++) {
        if (s->local_mask & (1u << q)) {
            rn_iq_prefill_at(&s->sync.queues[q], info->frame, s->delay[q]);
        }
    }
    int iv = p->confirm.interval;
    if (iv > 0) {
        p->confirm.next_frame = (info->frame + iv - 1) / iv * iv; /* nothing before F is hashed */
        if (p->confirm.next_frame == 0) {
            p->confirm.next_frame = iv;
        }
    }
    p->rejoined = true;
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "rejoin: loaded the state of frame %d (%zu bytes, episode %d from frame %d)",
            info->frame, size, info->episode, info->episode_start);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_REJOINED, -1);
    ev.u.rejoin.frame = info->frame;
    rn_events_push(&s->events, &ev);
    rn_p2p_check_running(p);
}

/* 3+ players: every survivor sends the state of the same frame, the same
 * bytes. A transfer is taken from whichever copy brings its next bytes
 * first (so a survivor whose connection dies halfway costs nothing); a head
 * like the one taken, and chunks already had, are those copies. */
static bool another_copy(const rn_p2p *p, const rn_msg *m)
{
    const rn_state_in *in = &p->rejoin_in;
    if (!in->have_head) {
        return m->type != RN_MSG_STATE_HEAD;
    }
    if (m->type == RN_MSG_STATE_HEAD) {
        const rn_state_head *h = &m->u.state_head;
        return h->frame == in->info.frame && h->size == in->size && h->checksum == in->checksum;
    }
    return m->type == RN_MSG_STATE_CHUNK && m->u.state_chunk.offset < in->received;
}

void rn_p2p_on_state(rn_p2p *p, rn_peer *peer, const rn_msg *m)
{
    rollnet_session *s = &p->base;
    if (s->desc.rejoin && p->rejoined && rn_p2p_agreeing(p) && rn_peer_live(peer)) {
        return; /* another survivor's copy of the state already loaded */
    }
    if (!s->desc.rejoin || p->rejoined || !rn_peer_live(peer) || peer->player_mask == 0 ||
        s->failed != ROLLNET_ERR_OK) {
        peer->st.dropped_malformed++; /* nobody asked for a state */
        return;
    }
    if (rn_p2p_agreeing(p) && another_copy(p, m)) {
        return;
    }
    const char *why = NULL;
    rn_state_result r = rn_state_in_feed(&p->rejoin_in, m, &why);
    if (r == RN_STATE_REFUSED) {
        refused_state(p, peer, why);
    } else if (r == RN_STATE_DONE) {
        size_t size = 0;
        const uint8_t *data = rn_state_in_data(&p->rejoin_in, &size);
        start_from(p, peer, &p->rejoin_in.info, data, size);
    }
}
