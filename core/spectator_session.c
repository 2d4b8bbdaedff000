/* The spectator session (ROLLNET_SESSION_SPECTATOR): a connection to a P2P
 * host that plays nobody. It handshakes like a joiner that claims no player
 * (HELLO with no players, AUTH with a key), then receives either WATCH
 * batches from frame 0 or, joining late, a state transfer
 * (state_transfer.h) of a confirmed frame followed by WATCH batches from
 * that frame. Every input it runs with is confirmed before the frame runs
 * (its window is zero frames), so nothing is predicted and nothing rolls
 * back: its records are the players'. The frames received and not yet run
 * wait in a buffer sized once at creation (RN_SPECTATE_BUFFER_FRAMES, more
 * than the host lets it fall behind); it acknowledges the frames it has run
 * (WATCH_ACK), which is what the host bounds. Where the session ends comes
 * in a last WATCH: the spectator finishes there (FINISHED). */
#include <string.h>

#include "auth.h"
#include "confirm.h"
#include "link.h"
#include "rn_alloc.h"
#include "session.h"
#include "state_transfer.h"

#define RN_SPECTATE_BUFFER_FRAMES 1024 /* > RN_SPECTATOR_LAG_FRAMES + RN_MAX_INPUT_FRAMES */
#define RN_SPECTATE_ACK_MS 100u        /* least time between two acks */
#define RN_SPECTATE_HEARTBEAT_MS 250u  /* an ack at least this often, even unchanged */
#define RN_SPECTATE_RETRY_MS 1000u

typedef enum sp_phase {
    SP_CONNECTING = 0, /* dialling the host */
    SP_HANDSHAKE,      /* connected: HELLOs (and AUTHs) */
    SP_ADMITTED,       /* the host's HELLO matched: a state or frame 0's inputs come next */
    SP_TRANSFER,       /* receiving a state */
    SP_WATCHING        /* running */
} sp_phase;

typedef struct rn_spectate {
    rollnet_session base; /* first: a rollnet_session * points here */
    rn_link link;
    rn_peer host;
    uint64_t nonce;
    uint16_t tag;
    uint8_t key[RN_AUTH_KEY_BYTES];
    sp_phase phase;
    bool polled, gone;
    uint64_t first_attempt_ms;
    rn_state_in xfer;
    uint8_t *buf;      /* RN_SPECTATE_BUFFER_FRAMES blocks, frame % size */
    int block;         /* num_players * input_size */
    int32_t fed;       /* frames before this are in the input queues */
    int32_t received;  /* frames before this are received (buffered or fed) */
    int32_t end_frame; /* -1, or where the session ends */
    int32_t acked;     /* the last ack sent */
    uint64_t ack_ms;
} rn_spectate;

static rn_spectate *sp_of(rollnet_session *s)
{
    return (rn_spectate *)s;
}

static void sp_destroy(rollnet_session *s)
{
    rn_spectate *t = sp_of(s);
    rn_link_free(&t->link, &t->host, 1);
    rn_state_in_free(&t->xfer);
    rn_free(&s->alloc, t->buf);
    rn_auth_wipe(t->key);
    rn_frame_free(s);
}

/* The host went, refused us, or sent what cannot be used: the session stops. */
static void sp_stop(rn_spectate *t, rollnet_disconnect_reason reason, rollnet_error err,
                    const char *why)
{
    rollnet_session *s = &t->base;
    if (s->failed != ROLLNET_ERR_OK || t->gone) {
        return;
    }
    t->gone = true;
    rn_logf(&s->events, ROLLNET_LOG_ERROR, "spectator: %s", why);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, -1);
    ev.u.disconnected.reason = reason;
    rn_events_push(&s->events, &ev);
    rn_peer_set_state(&t->host, RN_PEER_GONE, &s->events);
    rn_link_close(&t->link, t->host.tp);
    t->host.tp = -1;
    rn_frame_fail(s, err);
}

static void sp_send(rn_spectate *t, const rn_msg *m)
{
    rn_link_send(&t->link, &t->host, m, ROLLNET_CHANNEL_RELIABLE, t->base.now);
}

static void sp_start_running(rn_spectate *t, int32_t frame)
{
    rollnet_session *s = &t->base;
    t->phase = SP_WATCHING;
    t->fed = t->received = t->acked = frame;
    s->running = true;
    rn_events_simple(&s->events, ROLLNET_EVENT_RUNNING, -1);
    rn_logf(&s->events, ROLLNET_LOG_INFO, "spectator: watching from frame %d", frame);
}

/* ---- Handshake ------------------------------------------------------------ */

static void sp_on_hello(rn_spectate *t, const rn_hello *h)
{
    rollnet_session *s = &t->base;
    rollnet_param param;
    int64_t mine, theirs;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    if (t->phase != SP_HANDSHAKE) {
        t->host.st.dropped_malformed++;
        return;
    }
    bool matches = rn_peer_hello_matches(&s->desc, h, &param, &mine, &theirs, key);
    if (!matches || h->player_mask == 0) {
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_REFUSED, -1);
        ev.u.refused.param = !matches ? param : ROLLNET_PARAM_PLAYERS;
        snprintf(ev.u.refused.key, sizeof ev.u.refused.key, "%s", key);
        rn_events_push(&s->events, &ev);
        sp_stop(t, ROLLNET_DISCONNECT_CLOSED, ROLLNET_ERR_REFUSED,
                "the host's session parameters differ from this spectator's");
        return;
    }
    t->host.nonce = h->nonce;
    t->host.tag = rn_nonce_tag(h->nonce);
    t->host.player_mask = h->player_mask;
    t->phase = SP_ADMITTED;
    rn_peer_set_state(&t->host, RN_PEER_RUNNING, &s->events);
    if (s->desc.session_key_size > 0) {
        rn_msg m;
        memset(&m, 0, sizeof m);
        m.type = RN_MSG_AUTH;
        if (rn_auth_proof(t->key, t->nonce, h->nonce, 0, h->player_mask, m.u.auth.proof)) {
            sp_send(t, &m);
        }
    }
}

static void sp_on_refuse(rn_spectate *t, const rn_refuse *r)
{
    rollnet_session *s = &t->base;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_REFUSED, -1);
    ev.u.refused.param = (rollnet_param)r->param;
    ev.u.refused.local_value = r->remote_value;
    ev.u.refused.remote_value = r->local_value;
    snprintf(ev.u.refused.key, sizeof ev.u.refused.key, "%s", r->key);
    rn_events_push(&s->events, &ev);
    char why[160];
    snprintf(why, sizeof why, "the host refused this spectator: %s (host %lld, here %lld)",
             rollnet_param_string((rollnet_param)r->param), (long long)r->local_value,
             (long long)r->remote_value);
    sp_stop(t, ROLLNET_DISCONNECT_CLOSED, ROLLNET_ERR_REFUSED, why);
}

static void sp_on_auth(rn_spectate *t, const rn_auth *a)
{
    if (t->base.desc.session_key_size == 0 || t->phase < SP_ADMITTED ||
        !rn_auth_verify(t->key, t->host.nonce, t->nonce, t->host.player_mask, 0, a->proof)) {
        rollnet_event ev = rn_event_make(ROLLNET_EVENT_REFUSED, -1);
        ev.u.refused.param = ROLLNET_PARAM_SESSION_KEY;
        rn_events_push(&t->base.events, &ev);
        sp_stop(t, ROLLNET_DISCONNECT_CLOSED, ROLLNET_ERR_REFUSED,
                "the host could not prove the session key");
    }
}

/* ---- State and inputs ----------------------------------------------------- */

static void sp_on_state(rn_spectate *t, const rn_msg *m)
{
    rollnet_session *s = &t->base;
    if (t->phase != SP_ADMITTED && t->phase != SP_TRANSFER) {
        sp_stop(t, ROLLNET_DISCONNECT_STATE_INVALID, ROLLNET_ERR_STATE_INVALID,
                "the host sent a state while this spectator was already watching");
        return;
    }
    t->phase = SP_TRANSFER;
    const char *why = NULL;
    rn_state_result r = rn_state_in_feed(&t->xfer, m, &why);
    if (r == RN_STATE_MORE) {
        return;
    }
    char text[200];
    if (r == RN_STATE_REFUSED) {
        snprintf(text, sizeof text, "the state the host sent is refused: %s", why);
        sp_stop(t, ROLLNET_DISCONNECT_STATE_INVALID, ROLLNET_ERR_STATE_INVALID, text);
        return;
    }
    size_t size = 0;
    const uint8_t *data = rn_state_in_data(&t->xfer, &size);
    const rn_state_info *info = &t->xfer.info;
    if (rn_state_start(s, info, data, size) != ROLLNET_ERR_OK) {
        sp_stop(t, ROLLNET_DISCONNECT_STATE_INVALID, ROLLNET_ERR_STATE_INVALID,
                "the state the host sent does not fit this session");
        return;
    }
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "spectator: received the state of frame %d (%zu bytes, episode %d from frame %d)",
            info->frame, size, info->episode, info->episode_start);
    sp_start_running(t, info->frame);
}

static void sp_on_watch(rn_spectate *t, const rn_watch *w)
{
    if (t->phase == SP_ADMITTED && w->start_frame == 0) {
        sp_start_running(t, 0); /* from the start: the game makes frame 0's state itself */
    }
    if (t->phase != SP_WATCHING || w->start_frame != t->received ||
        (t->end_frame >= 0 && w->count > 0)) {
        sp_stop(t, ROLLNET_DISCONNECT_STATE_INVALID, ROLLNET_ERR_STATE_INVALID,
                "the host's inputs do not continue the frames received (inconsistent)");
        return;
    }
    if (t->received + w->count - t->fed > RN_SPECTATE_BUFFER_FRAMES) {
        sp_stop(t, ROLLNET_DISCONNECT_STATE_INVALID, ROLLNET_ERR_STATE_INVALID,
                "the host sent more frames than this spectator buffers");
        return;
    }
    for (int i = 0; i < w->count; i++) {
        int32_t f = t->received + i;
        memcpy(t->buf + (size_t)(f % RN_SPECTATE_BUFFER_FRAMES) * (size_t)t->block,
               w->inputs + (size_t)i * (size_t)t->block, (size_t)t->block);
    }
    t->received += w->count;
    if (w->end_frame >= 0) {
        t->end_frame = w->end_frame;
    }
}

/* Buffered frames into the input queues, as far as they have room; at the
 * session's end, finish. */
static void sp_prepare(rollnet_session *s)
{
    rn_spectate *t = sp_of(s);
    size_t isize = (size_t)s->desc.input_size;
    while (t->fed < t->received && rn_iq_has_room(&s->sync.queues[0], t->fed)) {
        const uint8_t *blk = t->buf + (size_t)(t->fed % RN_SPECTATE_BUFFER_FRAMES) * (size_t)t->block;
        for (int q = 0; q < s->desc.num_players; q++) {
            rn_iq_add(&s->sync.queues[q], t->fed, blk + (size_t)q * isize);
        }
        t->fed++;
        s->dirty = true;
    }
    if (t->end_frame >= 0 && s->sync.frame >= t->end_frame && !s->fin.active && s->running &&
        s->failed == ROLLNET_ERR_OK) {
        rn_finish_begin(s);
    }
}

/* ---- Poll ------------------------------------------------------------------ */

static void sp_on_message(rn_spectate *t, const uint8_t *data, size_t size)
{
    rn_msg m;
    if (!rn_link_decode(&t->link, &t->host, t->block, data, size, &m)) {
        return;
    }
    t->host.last_recv_ms = t->base.now;
    switch (m.type) {
    case RN_MSG_HELLO:
        sp_on_hello(t, &m.u.hello);
        break;
    case RN_MSG_REFUSE:
        sp_on_refuse(t, &m.u.refuse);
        break;
    case RN_MSG_AUTH:
        sp_on_auth(t, &m.u.auth);
        break;
    case RN_MSG_STATE_HEAD:
    case RN_MSG_STATE_CHUNK:
        sp_on_state(t, &m);
        break;
    case RN_MSG_WATCH:
        sp_on_watch(t, &m.u.watch);
        break;
    default:
        break; /* a host's messages to its players (READY, ...) are not ours */
    }
}

static void sp_on_event(rn_spectate *t, const rollnet_transport_event *ev)
{
    rollnet_session *s = &t->base;
    if (ev->peer != t->host.tp || t->host.tp < 0) {
        return;
    }
    if (ev->type == ROLLNET_TRANSPORT_CONNECTED) {
        t->phase = SP_HANDSHAKE;
        t->host.last_recv_ms = s->now;
        rn_peer_set_state(&t->host, RN_PEER_HANDSHAKE, &s->events);
        rn_msg m;
        rn_peer_make_hello(&s->desc, t->nonce, 0, &m);
        sp_send(t, &m);
    } else if (ev->type == ROLLNET_TRANSPORT_DISCONNECTED) {
        t->host.tp = -1;
        if (t->phase == SP_CONNECTING || t->phase == SP_HANDSHAKE) {
            t->phase = SP_CONNECTING; /* dialled again after RN_SPECTATE_RETRY_MS */
            t->host.next_attempt_ms = s->now + RN_SPECTATE_RETRY_MS;
        } else if (t->end_frame >= 0 && t->received >= t->end_frame) {
            rn_log(&s->events, ROLLNET_LOG_INFO,
                   "spectator: the host closed; every input up to the end is here");
        } else {
            sp_stop(t, ROLLNET_DISCONNECT_CLOSED, ROLLNET_ERR_DISCONNECTED,
                    "the host closed the connection (it ended, or dropped this spectator)");
        }
    } else if (ev->type == ROLLNET_TRANSPORT_RECEIVE) {
        sp_on_message(t, ev->data, ev->size);
    }
}

static void sp_timers(rn_spectate *t)
{
    rollnet_session *s = &t->base;
    const rollnet_session_desc *d = &s->desc;
    if (t->gone || s->failed != ROLLNET_ERR_OK) {
        return;
    }
    if (t->phase == SP_CONNECTING) {
        if (d->join_timeout_ms != ROLLNET_WAIT_FOREVER &&
            s->now - t->first_attempt_ms >= d->join_timeout_ms) {
            sp_stop(t, ROLLNET_DISCONNECT_NO_ANSWER, ROLLNET_ERR_DISCONNECTED,
                    "the host did not answer at spectate_address within join_timeout_ms");
        } else if (t->host.tp < 0 && s->now >= t->host.next_attempt_ms) {
            t->host.tp = rn_link_connect(&t->link, &t->host, s->now);
            t->host.next_attempt_ms = s->now + RN_SPECTATE_RETRY_MS;
        }
        return;
    }
    if (t->host.tp >= 0 && s->now - t->host.last_recv_ms >= d->disconnect_timeout_ms) {
        sp_stop(t, ROLLNET_DISCONNECT_TIMEOUT, ROLLNET_ERR_DISCONNECTED,
                "the host was silent past disconnect_timeout_ms");
        return;
    }
    /* The frames run: what the host bounds, and that this spectator is alive. */
    int32_t ran = t->phase == SP_WATCHING ? s->sync.frame : 0;
    bool news = ran != t->acked && s->now - t->ack_ms >= RN_SPECTATE_ACK_MS;
    if (t->phase >= SP_ADMITTED && t->host.tp >= 0 &&
        (news || s->now - t->ack_ms >= RN_SPECTATE_HEARTBEAT_MS)) {
        rn_msg m;
        memset(&m, 0, sizeof m);
        m.type = RN_MSG_WATCH_ACK;
        m.u.watch_ack.tag = t->tag;
        m.u.watch_ack.next_frame = ran;
        sp_send(t, &m);
        t->acked = ran;
        t->ack_ms = s->now;
    }
}

static rollnet_error sp_poll(rollnet_session *s)
{
    rn_spectate *t = sp_of(s);
    if (!t->polled) {
        t->polled = true;
        t->first_attempt_ms = s->now;
        t->host.next_attempt_ms = s->now;
    }
    rollnet_transport_event ev;
    for (int n = 0; n < 4096 && !t->gone && rn_link_receive(&t->link, s->now, &ev); n++) {
        sp_on_event(t, &ev);
    }
    sp_timers(t);
    sp_prepare(s);
    rn_frame_confirm(s);
    rn_link_flush(&t->link, s->now);
    return s->failed;
}

static void sp_frame_queued(rollnet_session *s, rn_sync_plan *plan)
{
    rn_spectate *t = sp_of(s);
    /* Far behind the host: the game may run frames without drawing them. */
    if (t->received - s->sync.frame > s->desc.fps / 4) {
        plan->advance_flags |= ROLLNET_REQUEST_FAST_FORWARD;
    }
}

static void sp_confirmed(rollnet_session *s)
{
    int32_t keep = rn_confirmed_frame(&s->sync);
    if (keep > 0) {
        rn_sync_discard_inputs_before(&s->sync, keep);
    }
}

static rollnet_error sp_set_loading(rollnet_session *s, bool loading)
{
    (void)s;
    (void)loading;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static rollnet_error sp_peer_stats(const rollnet_session *s, int player, rollnet_peer_stats *out)
{
    (void)s;
    (void)player;
    (void)out;
    return ROLLNET_ERR_WRONG_SESSION_KIND;
}

static bool sp_desync(const rollnet_session *s, rollnet_desync_info *out)
{
    (void)s;
    (void)out;
    return false;
}

static void sp_stats(const rollnet_session *s, rollnet_session_stats *out)
{
    (void)s;
    (void)out;
}

static const rn_session_ops spectator_ops = {
    .destroy = sp_destroy,
    .poll = sp_poll,
    .frame_queued = sp_frame_queued,
    .rollback_planned = NULL,
    .confirmed = sp_confirmed,
    .set_loading = sp_set_loading,
    .peer_stats = sp_peer_stats,
    .desync = sp_desync,
    .stats = sp_stats,
    .prepare = sp_prepare,
};

rollnet_error rn_spectator_create(const rollnet_session_desc *d, const rollnet_allocator *a,
                                  uint64_t nonce, rollnet_session **out)
{
    rollnet_transport transport = d->transport;
    const rollnet_transport_vtable *vt = transport.vtable;
    size_t alen = d->spectate_address ? strlen(d->spectate_address) : 0;
    if (!vt || !vt->send || !vt->receive || !vt->connect) {
        rollnet_transport_destroy(&transport);
        return rn_desc_error(d, "transport.vtable", vt != NULL,
                             "a spectator needs a transport with connect, send and receive");
    }
    if (alen == 0 || alen >= sizeof(((rn_peer *)0)->address)) {
        rollnet_transport_destroy(&transport);
        return rn_desc_error(d, "spectate_address", (long long)alen,
                             "a spectator needs the host's address (1..127 bytes)");
    }
    rollnet_session_desc sd = *d;
    sd.input_delay = 0;
    sd.max_spectators = 0;
    for (int q = 0; q < sd.num_players; q++) {
        sd.players[q].kind = ROLLNET_PLAYER_REMOTE; /* every input comes from the host */
        sd.players[q].address = NULL;
    }
    rollnet_session *s = NULL;
    rollnet_error err = rn_frame_init(&s, sizeof(rn_spectate), &sd, a);
    if (!s) {
        rollnet_transport_destroy(&transport);
        return err;
    }
    rn_spectate *t = sp_of(s);
    s->ops = &spectator_ops;
    s->desc.spectate_address = NULL; /* the address lives in host.address */
    t->link.transport = transport;
    t->nonce = nonce;
    t->tag = rn_nonce_tag(nonce);
    t->end_frame = -1;
    t->block = sd.num_players * sd.input_size;
    rn_peer_reset(&t->host, 0);
    t->host.outgoing = true;
    memcpy(t->host.address, d->spectate_address, alen + 1);
    /* Never ahead of the confirmed inputs: a window of zero frames. */
    s->sync.cfg.max_prediction = 0;
    if (err == ROLLNET_ERR_OK && d->session_key_size > 0 &&
        !rn_auth_derive_key(d->session_key, d->session_key_size, t->key)) {
        err = ROLLNET_ERR_INVALID_DESC;
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_link_init(&t->link, &transport, &s->alloc, &s->events);
    }
    if (err == ROLLNET_ERR_OK) {
        err = rn_state_in_init(&t->xfer, a, sd.snapshot_capacity);
    }
    if (err == ROLLNET_ERR_OK) {
        t->buf = rn_calloc(a, RN_SPECTATE_BUFFER_FRAMES, (size_t)t->block);
        err = t->buf ? ROLLNET_ERR_OK : ROLLNET_ERR_OUT_OF_MEMORY;
    }
    if (err != ROLLNET_ERR_OK) {
        sp_destroy(s);
        return err;
    }
    *out = s;
    return ROLLNET_ERR_OK;
}
