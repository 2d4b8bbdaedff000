/* The peer-to-peer session: creation, poll (receive, dispatch, timers),
 * time sync, checksums, loading notices and statistics. The handshake,
 * the input exchange and departures live in p2p_handshake.c, p2p_inputs.c
 * and p2p_leave.c. */
#include <string.h>

#include "p2p_session.h"
#include "rn_alloc.h"

rn_peer *rn_p2p_peer_by_tp(rn_p2p *p, int tp)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (peer->tp == tp && peer->state != RN_PEER_EMPTY && !rn_peer_departed(peer)) {
            return peer;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Checksums                                                                  */
/* ------------------------------------------------------------------------ */

/* Checksums go out with the next inputs, in the same datagram. */
static void send_due_checksums(rn_p2p *p)
{
    if (p->confirm.unsent == 0) {
        return;
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_CHECKSUM;
    m.u.checksum.tag = p->tag;
    while (rn_confirm_next_unsent(&p->confirm, &m.u.checksum.frame, &m.u.checksum.checksum)) {
        m.u.checksum.episode = p->base.episodes.completed;
        rn_link_broadcast(&p->link, p->peers, p->num_peers, &m, ROLLNET_CHANNEL_RELIABLE,
                          p->base.now);
    }
}

/* The first frame whose inputs must still be kept. Our own inputs until
 * every live peer acknowledged them. With two or more remote peers, also the
 * inputs of other peers' players that a survivor may lack if their owner
 * leaves (invariant 8): a live peer confirms at most max_prediction + its
 * input delay frames less than we do, since we confirm no frame it has not
 * sent an input for, and it sends none beyond its window. Each peer chooses
 * its delay and may change it: the bound takes the largest there is. */
static int32_t keep_inputs_from(const rn_p2p *p)
{
    const rollnet_session *s = &p->base;
    int32_t keep = rn_confirmed_frame(&s->sync);
    if (rn_p2p_player_peers(p) > 1) {
        keep -= s->desc.max_prediction + ROLLNET_MAX_INPUT_DELAY + 1;
    }
    for (int i = 0; i < p->num_peers; i++) {
        /* Not for a peer played on without (absent_play): it can only come
         * back by rejoining, from a state after those frames. */
        if (rn_peer_live(&p->peers[i]) && !p->peers[i].played_on && p->peers[i].ack + 1 < keep) {
            keep = p->peers[i].ack + 1;
        }
    }
    return keep;
}

static void p2p_confirmed(rollnet_session *s)
{
    rn_p2p *p = rn_p2p_of(s);
    rn_confirm_local(&p->confirm, &s->sync, p->peers, p->num_peers, &s->events);
    int32_t keep = keep_inputs_from(p);
    if (p->spect.count > 0) {
        rn_p2p_spectators_send(p, keep); /* before their inputs are discarded */
    }
    if (keep > 0) {
        rn_sync_discard_inputs_before(&s->sync, keep);
    }
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                  */
/* ------------------------------------------------------------------------ */

static void on_message(rn_p2p *p, rn_peer *peer, const uint8_t *data, size_t size)
{
    rollnet_session *s = &p->base;
    int block = rn_peer_live(peer) ? rn_popcount32(peer->player_mask) * s->desc.input_size : 0;
    rn_msg m;
    if (!rn_link_decode(&p->link, peer, block, data, size, &m)) {
        return;
    }
    /* Inputs from an earlier episode are ignored (they are resent until
     * acknowledged). Checksums name their frame, so they still count. */
    bool stale = m.type == RN_MSG_INPUT && m.u.input.episode >= 0 &&
                 m.u.input.episode < s->episodes.completed;
    if (stale) {
        peer->st.dropped_stale++;
    }
    peer->st.bytes_received += size;
    peer->st.messages_received++;
    if (m.type == RN_MSG_RESUME) {
        rn_p2p_on_resume(p, peer, &m.u.resume);
        return;
    }
    if (peer->lost) {
        /* A new connection that has not resumed: only RESUME counts, and a
         * HELLO that says its peer was started again (p2p_rejoin.c). */
        if (m.type == RN_MSG_HELLO && m.u.hello.rejoin) {
            rn_p2p_rejoin_on_attempt(p, peer, &m.u.hello);
        }
        return;
    }
    bool busy_ended = rn_p2p_busy_end(p, peer);
    if (peer->rejoin_owed) {
        peer->last_recv_ms = s->now; /* heard; RESUMED comes once its state is out */
    } else if (rn_peer_heard(peer, s->now, &s->events) || busy_ended) {
        rn_events_simple(&s->events, ROLLNET_EVENT_RESUMED, rn_peer_event_player(peer));
    }
    switch (m.type) {
    case RN_MSG_HELLO:
        rn_p2p_on_hello(p, peer, &m.u.hello);
        break;
    case RN_MSG_REFUSE:
        rn_p2p_on_refuse(p, peer, &m.u.refuse);
        break;
    case RN_MSG_INPUT:
        if (!rn_p2p_inputs_flow(p, peer)) {
            break; /* from before a rejoin's state: sent again after it */
        }
        peer->rejoin_unconfirmed = false; /* it runs from the state it was sent */
        rn_p2p_check_episode_label(p, peer, &m.u.input);
        rn_p2p_on_input(p, peer, &m.u.input, stale);
        break;
    case RN_MSG_CHECKSUM:
        if (!rn_confirm_remote(&p->confirm, p->peers, p->num_peers, peer->index,
                               m.u.checksum.frame, m.u.checksum.checksum, &s->events)) {
            peer->st.dropped_malformed++;
        }
        break;
    case RN_MSG_LEAVE:
        rn_p2p_on_leave(p, peer, &m.u.leave);
        break;
    case RN_MSG_ABSENT:
        rn_p2p_on_absent(p, peer, &m.u.absent);
        break;
    case RN_MSG_LOADING:
        rn_p2p_on_loading(p, peer, &m.u.loading);
        break;
    case RN_MSG_FINISH:
        rn_p2p_on_finish(p, peer, &m.u.finish);
        break;
    case RN_MSG_AUTH:
        rn_p2p_on_auth(p, peer, &m.u.auth);
        break;
    case RN_MSG_READY:
        rn_p2p_on_ready(p, peer, &m.u.ready);
        break;
    case RN_MSG_INTRO:
        rn_p2p_on_intro(p, peer, &m.u.intro);
        break;
    case RN_MSG_INTRO_ASK:
        rn_p2p_on_intro_ask(p, peer, &m.u.intro_ask);
        break;
    case RN_MSG_RESUME:
        break; /* above */
    case RN_MSG_STATE_HEAD:
    case RN_MSG_STATE_CHUNK:
        rn_p2p_on_state(p, peer, &m);
        break;
    default: /* a spectator's messages come through rn_p2p_spectator_message */
        peer->st.dropped_malformed++;
        break;
    }
}

static void on_transport_event(rn_p2p *p, const rollnet_transport_event *ev)
{
    if (p->spect.count > 0 && ev->type != ROLLNET_TRANSPORT_CONNECTED &&
        !rn_p2p_peer_by_tp(p, ev->peer) && rn_p2p_spectator_event(p, ev)) {
        return;
    }
    switch (ev->type) {
    case ROLLNET_TRANSPORT_CONNECTED: {
        if (rn_p2p_reconnect_connected(p, ev->peer)) {
            break;
        }
        /* A transport that gives a new connection the id of a running
         * peer's says the old one is gone. */
        rn_peer *old = rn_p2p_peer_by_tp(p, ev->peer);
        if (old && rn_peer_live(old) && !old->lost) {
            rn_p2p_connection_lost(p, old, ROLLNET_DISCONNECT_CLOSED, false);
        }
        rn_p2p_on_connected(p, ev->peer);
        break;
    }
    case ROLLNET_TRANSPORT_DISCONNECTED: {
        /* The id is free now: forget it on peers that already left. */
        for (int i = 0; i < p->num_peers; i++) {
            if (rn_peer_departed(&p->peers[i]) && p->peers[i].tp == ev->peer) {
                p->peers[i].tp = -1;
                p->peers[i].close_at_ms = 0;
            }
        }
        rn_peer *peer = rn_p2p_peer_by_tp(p, ev->peer);
        if (!peer) {
            break;
        }
        if (peer->lost) {
            rn_p2p_attempt_closed(p, peer); /* a reconnect attempt failed: another later */
        } else if (rn_peer_live(peer)) {
            /* Not announced (a LEAVE would have said so): lost, not gone. */
            rn_p2p_connection_lost(p, peer, ROLLNET_DISCONNECT_CLOSED, false);
        } else if (!rn_p2p_connect_failed(p, peer, false)) {
            rn_p2p_peer_gone(p, peer, ROLLNET_DISCONNECT_CLOSED, false);
        }
        break;
    }
    case ROLLNET_TRANSPORT_PEER_BUSY:
        rn_p2p_on_busy(p, ev);
        break;
    case ROLLNET_TRANSPORT_RECEIVE: {
        rn_peer *peer = rn_p2p_peer_by_tp(p, ev->peer);
        if (peer) {
            on_message(p, peer, ev->data, ev->size);
        }
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Timers                                                                     */
/* ------------------------------------------------------------------------ */

/* A live peer: silence ends it (loading grace while it loads), interrupts
 * it, and inputs keep flowing while no frame is being sent. */
static void live_peer_timers(rn_p2p *p, rn_peer *peer, uint64_t frame_ms)
{
    rollnet_session *s = &p->base;
    const rollnet_session_desc *d = &s->desc;
    /* The transport's figures move with its acknowledgements, not with our
     * frames: asked for at most every RN_INFO_EVERY_MS, and at once on a new
     * connection. */
    if (peer->info_tp != peer->tp || s->now - peer->info_at_ms >= RN_INFO_EVERY_MS) {
        rn_link_refresh_info(&p->link, peer);
        peer->info_at_ms = s->now;
        peer->info_tp = peer->tp;
    }
    if (peer->lost) {
        rn_p2p_lost_timers(p, peer);
        rn_peer_update_rates(peer, s->now);
        return;
    }
    if (rn_p2p_busy_timers(p, peer) && !rn_peer_live(peer)) {
        return; /* busy past busy_timeout_ms */
    }
    /* A busy peer (p2p_busy.c) is held on busy_timeout_ms instead. */
    uint64_t silence = peer->busy.on ? 0 : s->now - peer->last_recv_ms;
    /* Silence is a lost connection (with reconnection off, the end). */
    if (peer->loading ? silence >= d->loading_grace_ms : silence >= d->disconnect_timeout_ms) {
        rn_p2p_connection_lost(p, peer,
                               peer->loading ? ROLLNET_DISCONNECT_LOADING_GRACE
                                             : ROLLNET_DISCONNECT_TIMEOUT,
                               true);
        return;
    }
    if (silence >= d->notify_timeout_ms && peer->state == RN_PEER_RUNNING) {
        rn_peer_set_state(peer, RN_PEER_INTERRUPTED, &s->events);
        rn_events_simple(&s->events, ROLLNET_EVENT_INTERRUPTED, rn_peer_event_player(peer));
    }
    if (s->now - peer->last_input_send_ms >= 2 * frame_ms) {
        send_due_checksums(p);
        rn_p2p_send_inputs(p, peer);
    }
    rn_peer_update_rates(peer, s->now);
}

/* An incoming connection gets a few seconds to say who it is (it is a
 * stranger until its HELLO claims a player). */
static uint64_t handshake_timeout(const rollnet_session *s, const rn_peer *peer)
{
    uint64_t t = s->desc.handshake_timeout_ms;
    return rn_peer_stranger(peer) && RN_PENDING_TIMEOUT_MS < t ? RN_PENDING_TIMEOUT_MS : t;
}

static void check_timers(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    uint64_t frame_ms = 1000u / (uint64_t)s->desc.fps;
    if (frame_ms == 0) {
        frame_ms = 1;
    }
    bool leaving = false;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (p->closing && rn_p2p_close_due(p, peer)) {
            continue;
        }
        switch (peer->state) {
        case RN_PEER_CONNECTING:
        case RN_PEER_HANDSHAKE:
            if (peer->outgoing) {
                rn_p2p_connecting_timers(p, peer);
            } else if (rn_p2p_rejoin_waiting(p, peer)) {
                break; /* its own timeout */
            } else if (s->now - peer->since_ms >= handshake_timeout(s, peer)) {
                rn_p2p_peer_gone(p, peer, ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT, true);
            }
            break;
        case RN_PEER_RUNNING:
        case RN_PEER_INTERRUPTED:
            live_peer_timers(p, peer, frame_ms);
            break;
        case RN_PEER_LEAVING:
        case RN_PEER_GONE:
            leaving = leaving || peer->state == RN_PEER_LEAVING;
            /* A refused peer's connection, kept open so it could read why. */
            if (peer->close_at_ms && s->now >= peer->close_at_ms) {
                peer->close_at_ms = 0;
                if (peer->tp >= 0 && !rn_p2p_peer_by_tp(p, peer->tp)) {
                    rn_link_close(&p->link, peer->tp);
                }
                peer->tp = -1;
            }
            break;
        default:
            break;
        }
    }
    if (leaving) {
        rn_p2p_finish_leaves(p);
    }
    rn_p2p_left_check(p);
    if (p->spect.count > 0) {
        rn_p2p_spectators_timers(p);
    }
    if (!s->running) {
        rn_p2p_starting_timers(p); /* READYs, and the moment to start together */
        rn_p2p_report_missing(p);
    }
}

static rollnet_error p2p_poll(rollnet_session *s)
{
    rn_p2p *p = rn_p2p_of(s);
    if (!p->polled) {
        p->polled = true;
        p->start_ms = s->now;
        rn_p2p_connect_all(p);
    }
    rollnet_transport_event ev;
    for (int n = 0; n < RN_MAX_EVENTS_PER_POLL && rn_link_receive(&p->link, s->now, &ev); n++) {
        on_transport_event(p, &ev);
    }
    check_timers(p);
    rn_p2p_intro_timers(p);
    rn_frame_confirm(s);
    if (p->rejoins_owed > 0 || s->desc.absent_play == ROLLNET_ABSENT_NEUTRAL) {
        rn_p2p_rejoin_timers(p); /* a state owed, or a lost peer played on without */
    }
    rn_p2p_close_after_failure(p);
    rn_link_flush(&p->link, s->now);
    return s->failed;
}

/* ------------------------------------------------------------------------ */
/* A new frame: inputs out, time sync                                        */
/* ------------------------------------------------------------------------ */

static void update_timesync(rn_p2p *p)
{
    rollnet_session *s = &p->base;
    int wait = 0;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (!rn_peer_live(peer) || !rn_p2p_inputs_flow(p, peer)) {
            continue; /* a lost peer's frame is old news until it resumes */
        }
        /* An RTT sample taken across a stall (a blocked process) can read
         * seconds; no latency beyond the prediction window is believable. */
        uint32_t rtt = peer->st.rtt_ms;
        uint32_t cap_ms = (uint32_t)(2000 * s->desc.max_prediction / s->desc.fps);
        if (rtt > cap_ms) {
            rtt = cap_ms;
        }
        peer->local_advantage =
            rn_timesync_local_advantage(s->sync.frame, peer->remote_frame, rtt, s->desc.fps);
        peer->st.local_frames_ahead = -peer->local_advantage;
        rn_timesync_sample(&peer->ts, peer->local_advantage, peer->remote_advantage);
        int w = rn_timesync_recommend(&peer->ts);
        if (w > wait) {
            wait = w;
        }
    }
    p->recommended_wait = wait;
    if (wait > 0 && s->sync.frame - p->last_wait_event_frame >= RN_WAIT_EVENT_INTERVAL) {
        p->last_wait_event_frame = s->sync.frame;
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_WAIT_RECOMMENDED, -1);
        ev.u.wait.frames = wait;
        rn_events_push(&s->events, &ev);
    }
}

static void p2p_frame_queued(rollnet_session *s, rn_sync_plan *plan)
{
    rn_p2p *p = rn_p2p_of(s);
    send_due_checksums(p);
    for (int i = 0; i < p->num_peers; i++) {
        if (rn_peer_live(&p->peers[i])) {
            rn_p2p_send_inputs(p, &p->peers[i]);
        }
    }
    rn_link_flush(&p->link, s->now);
    update_timesync(p);
    int32_t behind = 0;
    for (int i = 0; i < p->num_peers; i++) {
        if (rn_peer_live(&p->peers[i]) && rn_p2p_inputs_flow(p, &p->peers[i]) &&
            p->peers[i].local_advantage > behind) {
            behind = p->peers[i].local_advantage;
        }
    }
    if (behind > s->desc.max_prediction / 2) {
        plan->advance_flags |= ROLLNET_REQUEST_FAST_FORWARD;
    }
}

/* The rollback about to be built is charged to the peer whose player's
 * input was mispredicted first. */
static void p2p_rollback_planned(rollnet_session *s)
{
    rn_p2p *p = rn_p2p_of(s);
    int32_t fi = rn_sync_first_incorrect(&s->sync);
    for (int q = 0; q < s->desc.num_players; q++) {
        if (s->sync.queues[q].first_incorrect == fi && p->player_peer[q] >= 0) {
            rollnet_peer_stats *st = &p->peers[p->player_peer[q]].st;
            int32_t depth = s->sync.frame - fi;
            st->rollbacks++;
            st->frames_resimulated += (uint64_t)depth;
            if (depth > st->max_rollback_depth) {
                st->max_rollback_depth = depth;
            }
            return;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Inspection                                                                 */
/* ------------------------------------------------------------------------ */

static rollnet_error p2p_peer_stats(const rollnet_session *s, int player, rollnet_peer_stats *out)
{
    const rn_p2p *p = (const rn_p2p *)s;
    if (player < 0 || player >= s->desc.num_players || !(p->remote_mask & (1u << player)) ||
        p->player_peer[player] < 0) {
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    *out = p->peers[p->player_peer[player]].st;
    return ROLLNET_ERR_OK;
}

static bool p2p_desync(const rollnet_session *s, rollnet_desync_info *out)
{
    const rn_p2p *p = (const rn_p2p *)s;
    if (!p->confirm.desync_found) {
        return false;
    }
    *out = p->confirm.desync;
    return true;
}

static void p2p_stats(const rollnet_session *s, rollnet_session_stats *out)
{
    const rn_p2p *p = (const rn_p2p *)s;
    out->recommended_wait = p->recommended_wait;
    out->handshakes_refused = p->handshakes_refused;
    out->handshakes_dropped = p->handshakes_dropped;
    out->resumes_refused = p->resumes_refused;
    rn_p2p_spectators_stats(p, out);
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                   */
/* ------------------------------------------------------------------------ */

static void p2p_destroy(rollnet_session *s)
{
    rn_p2p *p = rn_p2p_of(s);
    rn_p2p_spectators_free(p);
    rn_p2p_rejoin_free(p);
    rn_link_free(&p->link, p->peers, p->num_peers);
    rollnet_allocator a = s->alloc;
    rn_free(&a, p->block_buf);
    rn_auth_wipe(p->key);
    rn_frame_free(s);
}

static const rn_session_ops p2p_ops = {
    .destroy = p2p_destroy,
    .poll = p2p_poll,
    .frame_queued = p2p_frame_queued,
    .rollback_planned = p2p_rollback_planned,
    .confirmed = p2p_confirmed,
    .set_loading = rn_p2p_set_loading,
    .peer_stats = p2p_peer_stats,
    .desync = p2p_desync,
    .stats = p2p_stats,
    .finish_tell = rn_p2p_finish_tell,
    .finish_heard = rn_p2p_finish_heard,
    .leave = rn_p2p_leave,
};

rollnet_error rn_p2p_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                            uint64_t nonce, rollnet_session **out)
{
    rollnet_transport transport = d->transport;
    rollnet_error check = rn_p2p_desc_check(d);
    if (check != ROLLNET_ERR_OK) {
        rollnet_transport_destroy(&transport);
        return check;
    }
    rollnet_session *s = NULL;
    rollnet_error err = rn_frame_init(&s, sizeof(rn_p2p), d, a);
    if (!s) {
        rollnet_transport_destroy(&transport);
        return err;
    }
    rn_p2p *p = rn_p2p_of(s);
    s->ops = &p2p_ops;
    p->link.transport = transport; /* owned from here: p2p_destroy destroys it */
    p->nonce = nonce;
    p->tag = rn_nonce_tag(nonce);
    /* The caller's secret is read here only: the session keeps the key. */
    if (err == ROLLNET_ERR_OK && d->session_key_size > 0 &&
        !rn_auth_derive_key(d->session_key, d->session_key_size, p->key)) {
        err = ROLLNET_ERR_INVALID_DESC; /* checked at creation: libsodium failed */
    }
    p->last_wait_event_frame = -1000000;
    rn_confirm_init(&p->confirm, d->checksum_interval);
    if (err == ROLLNET_ERR_OK) {
        err = rn_link_init(&p->link, &transport, &s->alloc, &s->events); /* both kept */
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_p2p_setup_peers(p, d);
        rn_p2p_intro_init(p);
    }
    if (err == ROLLNET_ERR_OK) {
        p->block_buf = rn_calloc(a, RN_MAX_INPUT_FRAMES, (size_t)d->num_players * (size_t)d->input_size);
        err = p->block_buf ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_p2p_spectators_init(p);
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_p2p_rejoin_init(p);
    }
    if (err != ROLLNET_ERR_OK) {
        p2p_destroy(s);
        return err;
    }
    *out = s;
    return ROLLNET_ERR_OK;
}
