/* Sessions: the sync test and the peer-to-peer session share this file. The
 * P2P session adds the handshake, input exchange, timeouts, time sync,
 * checksum comparison and loading grace on top of rn_sync and rn_ledger.
 *
 * IMPORTANT: single-threaded. No call here re-enters the game; the game acts
 * on the request list between rollnet calls. */
#include <string.h>

#include "ledger.h"
#include "protocol.h"
#include "rn_alloc.h"
#include "session.h"
#include "sync.h"
#include "timesync.h"

#define RN_EVENT_CAP 256
#define RN_CHECKSUM_RING 256 /* checksums kept per peer: covers any window at interval 1 */
#define RN_MAX_EVENTS_PER_POLL 4096
#define RN_WAIT_EVENT_INTERVAL 60 /* frames between two WAIT_RECOMMENDED events */

typedef enum rn_peer_state {
    RN_PEER_EMPTY = 0,
    RN_PEER_CONNECTING, /* outgoing connect issued */
    RN_PEER_HANDSHAKE,  /* connected, HELLO sent, waiting for the peer's */
    RN_PEER_RUNNING,
    RN_PEER_GONE
} rn_peer_state;

typedef struct rn_sum_entry {
    int32_t frame; /* -1 when empty */
    uint64_t sum;
    bool unsent;   /* local: still to be sent to the peers */
} rn_sum_entry;

typedef struct rn_peer {
    rn_peer_state state;
    int tp;                /* transport peer id, -1 none */
    uint32_t player_mask;  /* remote players this peer hosts */
    bool outgoing;
    char address[128];
    uint64_t nonce;
    uint16_t tag;
    uint64_t since_ms;     /* connect issued / connected */
    uint64_t last_recv_ms;
    uint64_t last_input_send_ms;
    bool interrupted;
    bool loading;
    int32_t loading_frame; /* newest remote frame seen when loading began */
    uint64_t close_at_ms;  /* a refused peer's connection closes then (0: not pending) */
    int32_t ack;           /* the peer's last confirmed frame of our inputs */
    int32_t remote_frame;  /* the peer's next frame, as its inputs tell */
    int32_t remote_advantage;
    int32_t local_advantage;
    rn_timesync ts;
    rollnet_peer_stats st;
    uint64_t rate_start_ms, rate_sent_base, rate_recv_base;
    rn_sum_entry rsum[RN_CHECKSUM_RING];
} rn_peer;

struct rollnet_session {
    rollnet_session_desc desc; /* defaults resolved; addresses point into peers */
    rollnet_allocator alloc;
    rn_sync sync;
    bool sync_ready;
    rn_ledger ledger;
    bool ledger_ready;
    bool ledger_used; /* the game has ended an ADVANCE with advance_end */
    rn_decoder dec;
    bool dec_ready;
    rollnet_transport transport;

    rn_peer peers[ROLLNET_MAX_PLAYERS];
    int num_peers;
    int player_peer[ROLLNET_MAX_PLAYERS]; /* peer index of a claimed remote player, -1 */
    uint32_t local_mask, remote_mask, incoming_mask;

    uint64_t nonce;
    uint16_t tag;
    uint64_t now;
    bool polled;
    uint64_t start_ms;
    bool running;
    bool handshake_failed;
    bool missing_reported; /* the handshake timeout named the players nobody claimed */
    rollnet_error failed; /* sticky error once the session cannot go on */

    uint8_t pending[ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    uint32_t pending_mask;

    rollnet_event events[RN_EVENT_CAP];
    int ev_head, ev_count;
    uint64_t events_dropped;

    bool stalled;
    rollnet_stall_reason stall_reason;
    uint64_t stalls;

    bool validated_start;
    bool validate_next;      /* save-load-save check at the next list */
    bool validated_reset;    /* the check after the first episode reset is done */
    int32_t barrier_frame;   /* episode end being waited for, or -1 */
    uint64_t barrier_since;
    int32_t released_end;    /* last episode end the barrier let pass, -1 */
    int32_t completed_episodes;

    int32_t next_checksum_frame;
    rn_sum_entry lsum[RN_CHECKSUM_RING];
    int unsent_sums;
    bool desync_found;
    rollnet_desync_info desync;

    int recommended_wait;
    int32_t last_wait_event_frame;

    /* Peers that left a 3+ player session, by peer index, while the survivors
     * agree on the last frame of their players (the highest any survivor
     * holds; LEAVE notices carry the inputs up to it). */
    uint32_t leave_pending;
    int32_t leave_last[ROLLNET_MAX_PLAYERS];
    uint32_t leave_heard[ROLLNET_MAX_PLAYERS]; /* peers whose notice arrived */
    uint64_t leave_since[ROLLNET_MAX_PLAYERS];
    rollnet_disconnect_reason leave_reason[ROLLNET_MAX_PLAYERS];
    uint8_t leave_packed[RN_MAX_MESSAGE];

    /* Something confirmation depends on changed since after_confirmation ran:
     * inputs, acks, the ledger, the request list, a peer leaving. */
    bool dirty;

    uint8_t send_buf[RN_MAX_MESSAGE];
    rollnet_writer scratch_writer;
    uint8_t *scratch_record; /* record_capacity bytes */
    uint8_t *block_buf; /* RN_MAX_INPUT_FRAMES * players * input_size */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------ */

static int popcount32(uint32_t v)
{
    int n = 0;
    while (v) {
        v &= v - 1;
        n++;
    }
    return n;
}

static int lowest_player(uint32_t mask)
{
    for (int p = 0; p < ROLLNET_MAX_PLAYERS; p++) {
        if (mask & (1u << p)) {
            return p;
        }
    }
    return -1;
}

static void push_event(rollnet_session *s, const rollnet_event *ev)
{
    if (s->ev_count == RN_EVENT_CAP) {
        s->ev_head = (s->ev_head + 1) % RN_EVENT_CAP;
        s->ev_count--;
        s->events_dropped++;
    }
    s->events[(s->ev_head + s->ev_count) % RN_EVENT_CAP] = *ev;
    s->ev_count++;
}

static rollnet_event make_event(rollnet_event_type type, int player)
{
    rollnet_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.player = player;
    return ev;
}

static void simple_event(rollnet_session *s, rollnet_event_type type, int player)
{
    rollnet_event ev = make_event(type, player);
    push_event(s, &ev);
}

static void log_msg(rollnet_session *s, rollnet_log_level level, const char *msg)
{
    if (s->desc.logger.log) {
        s->desc.logger.log(level, msg, s->desc.logger.user_data);
    }
}

static bool is_p2p(const rollnet_session *s)
{
    return s->desc.kind == ROLLNET_SESSION_P2P;
}

static int first_local(const rollnet_session *s)
{
    return lowest_player(s->local_mask);
}

/* ------------------------------------------------------------------------ */
/* Creation                                                                   */
/* ------------------------------------------------------------------------ */

static rollnet_error resolve_desc(const rollnet_session_desc *in, rollnet_session_desc *d)
{
    *d = *in;
    if (d->kind != ROLLNET_SESSION_P2P && d->kind != ROLLNET_SESSION_SYNCTEST) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    /* Zero means "the documented default" (rollnet.h). */
#define RN_DEFAULT(field, value) \
    if (d->field == 0) {          \
        d->field = (value);       \
    }
    RN_DEFAULT(num_players, 2);
    RN_DEFAULT(input_size, 1);
    RN_DEFAULT(max_prediction, ROLLNET_MAX_PREDICTION);
    RN_DEFAULT(fps, 60);
    RN_DEFAULT(check_distance, 1);
    RN_DEFAULT(checksum_interval, 16);
    RN_DEFAULT(handshake_timeout_ms, 10000);
    RN_DEFAULT(notify_timeout_ms, 750);
    RN_DEFAULT(disconnect_timeout_ms, 5000);
    RN_DEFAULT(loading_grace_ms, 60000);
    RN_DEFAULT(episode_timeout_ms, 5000);
    RN_DEFAULT(snapshot_capacity, 65536);
    RN_DEFAULT(record_capacity, 1024);
    RN_DEFAULT(ledger_capacity, 4096);
#undef RN_DEFAULT
    if (d->num_players < 1 || d->num_players > ROLLNET_MAX_PLAYERS || d->input_size < 1 ||
        d->input_size > ROLLNET_MAX_INPUT_SIZE || d->input_delay < 0 ||
        d->input_delay > ROLLNET_MAX_INPUT_DELAY || d->max_prediction < 1 ||
        d->max_prediction > ROLLNET_MAX_PREDICTION || d->fps < 1 || d->fps > 1000 ||
        d->check_distance < 1 || d->check_distance > d->max_prediction ||
        (d->checksum_interval != ROLLNET_CHECKSUMS_OFF &&
         (d->checksum_interval < 1 || d->checksum_interval > 65535)) ||
        d->ledger_capacity < 1 || (unsigned)d->prediction > ROLLNET_PREDICT_NEUTRAL ||
        d->snapshot_capacity < 16) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    int locals = 0, remotes = 0;
    for (int p = 0; p < d->num_players; p++) {
        if (d->players[p].kind == ROLLNET_PLAYER_LOCAL) {
            locals++;
        } else if (d->players[p].kind == ROLLNET_PLAYER_REMOTE) {
            remotes++;
        } else {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
    }
    if (d->kind == ROLLNET_SESSION_SYNCTEST) {
        if (remotes > 0) {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
    } else if (locals == 0 || remotes == 0 || !d->transport.vtable ||
               !d->transport.vtable->send || !d->transport.vtable->receive ||
               !d->transport.vtable->connect) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    return ROLLNET_ERR_OK;
}

static rollnet_error setup_peers(rollnet_session *s)
{
    for (int p = 0; p < ROLLNET_MAX_PLAYERS; p++) {
        s->player_peer[p] = -1;
    }
    for (int p = 0; p < s->desc.num_players; p++) {
        const rollnet_player_desc *pd = &s->desc.players[p];
        if (pd->kind == ROLLNET_PLAYER_LOCAL) {
            s->local_mask |= 1u << p;
            continue;
        }
        s->remote_mask |= 1u << p;
        if (!pd->address) {
            s->incoming_mask |= 1u << p;
            continue;
        }
        size_t alen = strlen(pd->address);
        if (alen == 0 || alen >= sizeof(s->peers[0].address)) {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
        int found = -1;
        for (int i = 0; i < s->num_peers; i++) {
            if (strcmp(s->peers[i].address, pd->address) == 0) {
                found = i;
            }
        }
        if (found < 0) {
            found = s->num_peers++;
            rn_peer *peer = &s->peers[found];
            peer->outgoing = true;
            memcpy(peer->address, pd->address, alen + 1);
        }
        s->peers[found].player_mask |= 1u << p;
    }
    for (int i = 0; i < ROLLNET_MAX_PLAYERS; i++) {
        rn_peer *peer = &s->peers[i];
        peer->tp = -1;
        peer->ack = -1;
        peer->remote_frame = 0;
        peer->st.last_received_frame = -1;
        rn_timesync_init(&peer->ts);
        for (int k = 0; k < RN_CHECKSUM_RING; k++) {
            peer->rsum[k].frame = -1;
        }
    }
    /* Player handles of a remote peer resolve to the peer only once it is claimed. */
    for (int i = 0; i < s->num_peers; i++) {
        for (int p = 0; p < s->desc.num_players; p++) {
            if (s->peers[i].player_mask & (1u << p)) {
                s->player_peer[p] = i;
            }
        }
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rn_session_create(const rollnet_session_desc *desc, uint64_t nonce,
                                rollnet_session **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_transport transport = desc->transport;
    rollnet_allocator alloc;
    rn_allocator_resolve(&desc->allocator, &alloc);
    rollnet_session_desc d;
    rollnet_error err = resolve_desc(desc, &d);
    if (err != ROLLNET_ERR_OK) {
        rollnet_transport_destroy(&transport);
        return err;
    }
    rollnet_session *s = rn_calloc(&alloc, 1, sizeof(*s));
    if (!s) {
        rollnet_transport_destroy(&transport);
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    s->alloc = alloc;
    s->desc = d;
    s->transport = transport;
    s->desc.transport.vtable = NULL;
    s->desc.transport.self = NULL;
    s->nonce = nonce;
    s->tag = rn_nonce_tag(nonce);
    s->barrier_frame = -1;
    s->released_end = -1;
    s->dirty = true;
    s->last_wait_event_frame = -1000000;
    s->next_checksum_frame = d.checksum_interval > 0 ? d.checksum_interval : 0;
    for (int k = 0; k < RN_CHECKSUM_RING; k++) {
        s->lsum[k].frame = -1;
    }
    if (d.kind == ROLLNET_SESSION_SYNCTEST) {
        rollnet_transport_destroy(&s->transport);
    }

    err = setup_peers(s);
    if (err != ROLLNET_ERR_OK) {
        goto fail;
    }
    /* The neutral input: the caller's bytes are copied by rn_sync_init. */
    uint8_t zero[ROLLNET_MAX_INPUT_SIZE] = {0};
    rn_sync_config cfg = {
        .num_players = d.num_players,
        .input_size = d.input_size,
        .input_delay = d.input_delay,
        .max_prediction = d.max_prediction,
        .snapshot_capacity = d.snapshot_capacity,
        .prediction = d.prediction,
        .neutral = d.neutral_input ? (const uint8_t *)d.neutral_input : zero,
        .user_data = d.user_data,
        .keep_desync_copies = d.kind == ROLLNET_SESSION_SYNCTEST,
    };
    s->desc.neutral_input = NULL;
    err = rn_sync_init(&s->sync, &alloc, &cfg);
    if (err != ROLLNET_ERR_OK) {
        goto fail;
    }
    s->sync_ready = true;
    int spec = 2 * d.max_prediction + 8;
    err = rn_ledger_init(&s->ledger, &alloc, d.num_players, d.input_size, d.record_capacity, spec,
                         d.ledger_capacity);
    if (err != ROLLNET_ERR_OK) {
        goto fail;
    }
    s->ledger_ready = true;
    s->scratch_record = rn_calloc(&alloc, 1, d.record_capacity);
    if (!s->scratch_record) {
        err = ROLLNET_ERR_OUT_OF_MEMORY;
        goto fail;
    }
    if (is_p2p(s)) {
        err = rn_decoder_init(&s->dec, &s->alloc);
        if (err != ROLLNET_ERR_OK) {
            goto fail;
        }
        s->dec_ready = true;
        s->block_buf = rn_calloc(&alloc, RN_MAX_INPUT_FRAMES,
                                 (size_t)d.num_players * (size_t)d.input_size);
        if (!s->block_buf) {
            err = ROLLNET_ERR_OUT_OF_MEMORY;
            goto fail;
        }
    } else {
        s->running = true;
    }
    *out = s;
    return ROLLNET_ERR_OK;
fail:
    rollnet_session_destroy(s);
    return err;
}

void rollnet_session_destroy(rollnet_session *s)
{
    if (!s) {
        return;
    }
    if (s->transport.vtable) {
        for (int i = 0; i < s->num_peers; i++) {
            rn_peer *peer = &s->peers[i];
            if (peer->tp >= 0 && peer->state != RN_PEER_GONE && s->transport.vtable->disconnect) {
                s->transport.vtable->disconnect(s->transport.self, peer->tp);
            }
        }
        rollnet_transport_destroy(&s->transport);
    }
    if (s->sync_ready) {
        rn_sync_free(&s->sync);
    }
    if (s->ledger_ready) {
        rn_ledger_free(&s->ledger);
    }
    if (s->dec_ready) {
        rn_decoder_free(&s->dec);
    }
    rollnet_allocator a = s->alloc;
    rn_free(&a, s->block_buf);
    rn_free(&a, s->scratch_record);
    rn_free(&a, s);
}

/* ------------------------------------------------------------------------ */
/* Sending                                                                    */
/* ------------------------------------------------------------------------ */

static void send_msg(rollnet_session *s, rn_peer *peer, const rn_msg *m, rollnet_channel ch,
                     int block_size)
{
    size_t n = rn_encode(m, block_size, s->send_buf, sizeof(s->send_buf));
    if (n == 0 || peer->tp < 0) {
        return;
    }
    if (s->transport.vtable->send(s->transport.self, peer->tp, ch, s->send_buf, n, s->now) == 0) {
        peer->st.bytes_sent += n;
        peer->st.messages_sent++;
    }
}

static void flush_transport(rollnet_session *s)
{
    if (s->transport.vtable && s->transport.vtable->flush) {
        s->transport.vtable->flush(s->transport.self, s->now);
    }
}

static void send_hello(rollnet_session *s, rn_peer *peer)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_HELLO;
    rn_hello *h = &m.u.hello;
    h->version = RN_PROTOCOL_VERSION;
    h->nonce = s->nonce;
    h->num_players = s->desc.num_players;
    h->input_size = s->desc.input_size;
    h->input_delay = s->desc.input_delay;
    h->fps = s->desc.fps;
    h->max_prediction = s->desc.max_prediction;
    h->checksum_interval = s->desc.checksum_interval;
    h->game_id = s->desc.game_id;
    h->seed = s->desc.seed;
    h->player_mask = s->local_mask;
    h->reply = false;
    send_msg(s, peer, &m, ROLLNET_CHANNEL_RELIABLE, 0);
}

static int32_t peer_confirmed(const rollnet_session *s, const rn_peer *peer)
{
    int32_t c = RN_IQ_CONFIRMED_FOREVER;
    for (int p = 0; p < s->desc.num_players; p++) {
        if (peer->player_mask & (1u << p)) {
            int32_t q = s->sync.queues[p].last_confirmed;
            if (q < c) {
                c = q;
            }
        }
    }
    return c == RN_IQ_CONFIRMED_FOREVER ? -1 : c;
}

static int8_t clamp8(int32_t v)
{
    return (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
}

/* Every local input the peer has not acknowledged, as many as fit. */
static void send_inputs(rollnet_session *s, rn_peer *peer)
{
    int lp = first_local(s);
    const rn_input_queue *lq = &s->sync.queues[lp];
    int32_t start = peer->ack + 1;
    if (start < lq->tail) {
        start = lq->tail;
    }
    int32_t count = lq->last_confirmed - start + 1;
    if (count < 0) {
        count = 0;
    }
    if (count > RN_MAX_INPUT_FRAMES) {
        count = RN_MAX_INPUT_FRAMES;
    }
    int nloc = popcount32(s->local_mask);
    int block = nloc * s->desc.input_size;
    for (int32_t i = 0; i < count; i++) {
        uint8_t *dst = s->block_buf + (size_t)i * (size_t)block;
        int k = 0;
        for (int p = 0; p < s->desc.num_players; p++) {
            if (s->local_mask & (1u << p)) {
                const uint8_t *in = rn_iq_peek(&s->sync.queues[p], start + i);
                if (!in) {
                    count = i;
                    break;
                }
                if (s->desc.input_size == 1) {
                    dst[k] = *in; /* the common case, without a call */
                } else {
                    memcpy(dst + (size_t)k * (size_t)s->desc.input_size, in,
                           (size_t)s->desc.input_size);
                }
                k++;
            }
        }
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    rn_input *in = &m.u.input;
    in->tag = s->tag;
    in->episode = s->completed_episodes;
    in->ack_frame = peer_confirmed(s, peer);
    in->start_frame = count > 0 ? start : 0;
    in->frame_advantage = clamp8(peer->local_advantage);
    in->inputs = s->block_buf;
    /* Shrink until the message fits; a few frames always do. */
    size_t n = 0;
    for (;;) {
        in->count = count;
        n = rn_encode(&m, block, s->send_buf, sizeof(s->send_buf));
        if (n > 0 || count == 0) {
            break;
        }
        count /= 2;
    }
    if (n == 0) {
        return;
    }
    if (s->transport.vtable->send(s->transport.self, peer->tp, ROLLNET_CHANNEL_UNRELIABLE,
                                  s->send_buf, n, s->now) == 0) {
        peer->st.bytes_sent += n;
        peer->st.messages_sent++;
    }
    peer->last_input_send_ms = s->now;
}

/* ------------------------------------------------------------------------ */
/* Peers                                                                      */
/* ------------------------------------------------------------------------ */

static rn_peer *peer_by_tp(rollnet_session *s, int tp)
{
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].tp == tp && s->peers[i].state != RN_PEER_EMPTY &&
            s->peers[i].state != RN_PEER_GONE) {
            return &s->peers[i];
        }
    }
    return NULL;
}

static int peer_event_player(const rn_peer *peer)
{
    return lowest_player(peer->player_mask);
}

static void check_running(rollnet_session *s)
{
    if (s->running) {
        return;
    }
    uint32_t claimed = 0;
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].state == RN_PEER_RUNNING) {
            claimed |= s->peers[i].player_mask;
        }
    }
    if (claimed == s->remote_mask) {
        s->running = true;
        simple_event(s, ROLLNET_EVENT_RUNNING, -1);
        log_msg(s, ROLLNET_LOG_INFO, "every peer synchronized: running");
    }
}

static uint32_t running_peers(const rollnet_session *s)
{
    uint32_t m = 0;
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].state == RN_PEER_RUNNING) {
            m |= 1u << i;
        }
    }
    return m;
}

/* The departed peer's players play neutral after `last`. */
static void finish_leave(rollnet_session *s, rn_peer *peer, int32_t last,
                         rollnet_disconnect_reason reason)
{
    int32_t from = -1;
    for (int p = 0; p < s->desc.num_players; p++) {
        if (peer->player_mask & (1u << p)) {
            rn_input_queue *q = &s->sync.queues[p];
            if (q->last_confirmed < last) {
                /* A notice could not carry every input (too large): the best
                 * this peer can do; the desync check will tell if it matters. */
                log_msg(s, ROLLNET_LOG_WARN, "a departed player's last inputs are missing");
            }
            rn_iq_disconnect(q, last + 1);
            if (from < 0 || q->disconnected_from < from) {
                from = q->disconnected_from;
            }
        }
    }
    s->dirty = true;
    rollnet_event ev = make_event(ROLLNET_EVENT_DISCONNECTED, peer_event_player(peer));
    ev.u.disconnected.reason = reason;
    ev.u.disconnected.frame = from;
    push_event(s, &ev);
    log_msg(s, ROLLNET_LOG_WARN, "peer disconnected");
}

/* Tell every survivor the last frame held of a departed peer's players, with
 * those inputs (as many of the newest as fit). */
static void send_leave(rollnet_session *s, const rn_peer *gone, int32_t last)
{
    int isz = s->desc.input_size;
    int nplayers = popcount32(gone->player_mask);
    int block = nplayers * isz;
    int32_t start = last - RN_MAX_INPUT_FRAMES + 1;
    for (int p = 0; p < s->desc.num_players; p++) {
        if ((gone->player_mask & (1u << p)) && s->sync.queues[p].tail > start) {
            start = s->sync.queues[p].tail;
        }
    }
    if (start < 0) {
        start = 0;
    }
    size_t packed = 0;
    int32_t count = last - start + 1;
    for (; count > 0; count = count / 2, start = last - count + 1) {
        for (int32_t i = 0; i < count; i++) {
            int k = 0;
            for (int p = 0; p < s->desc.num_players; p++) {
                if (gone->player_mask & (1u << p)) {
                    const uint8_t *in = rn_iq_peek(&s->sync.queues[p], start + i);
                    uint8_t *dst = s->block_buf + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz;
                    if (in) {
                        memcpy(dst, in, (size_t)isz);
                    }
                    k++;
                }
            }
        }
        /* Leave room for the message around the data. */
        if (rn_inputs_compress(s->block_buf, count, block, s->leave_packed,
                               sizeof(s->leave_packed) - 32, &packed)) {
            break;
        }
    }
    if (count < 0) {
        count = 0;
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_LEAVE;
    m.u.leave.tag = s->tag;
    m.u.leave.player_mask = gone->player_mask;
    m.u.leave.last_frame = last;
    m.u.leave.count = count;
    m.u.leave.data = count > 0 ? s->leave_packed : NULL;
    m.u.leave.size = count > 0 ? packed : 0;
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].state == RN_PEER_RUNNING) {
            send_msg(s, &s->peers[i], &m, ROLLNET_CHANNEL_RELIABLE, 0);
        }
    }
}

/* Agreement reached (every survivor's notice arrived) or given up on. */
static void try_finish_leaves(rollnet_session *s)
{
    for (int i = 0; i < s->num_peers; i++) {
        if (!(s->leave_pending & (1u << i))) {
            continue;
        }
        uint32_t missing = running_peers(s) & ~s->leave_heard[i];
        if (missing == 0 || s->now - s->leave_since[i] >= s->desc.disconnect_timeout_ms) {
            s->leave_pending &= ~(1u << i);
            finish_leave(s, &s->peers[i], s->leave_last[i], s->leave_reason[i]);
        }
    }
}

static void peer_gone(rollnet_session *s, rn_peer *peer, rollnet_disconnect_reason reason,
                      bool close_transport)
{
    if (peer->state == RN_PEER_GONE || peer->state == RN_PEER_EMPTY) {
        return;
    }
    bool was_running = peer->state == RN_PEER_RUNNING;
    peer->state = RN_PEER_GONE;
    s->dirty = true;
    peer->st.disconnected = true;
    peer->st.connected = false;
    if (close_transport && peer->tp >= 0 && s->transport.vtable->disconnect) {
        s->transport.vtable->disconnect(s->transport.self, peer->tp);
    }
    if (!was_running) {
        s->handshake_failed = true;
        rollnet_event ev = make_event(ROLLNET_EVENT_DISCONNECTED, peer_event_player(peer));
        ev.u.disconnected.reason = reason;
        ev.u.disconnected.frame = -1;
        push_event(s, &ev);
        log_msg(s, ROLLNET_LOG_WARN, "peer disconnected");
        return;
    }
    int32_t last = peer_confirmed(s, peer);
    if (running_peers(s) == 0) {
        /* Nobody else to agree with: neutral from the first unconfirmed frame. */
        finish_leave(s, peer, last, reason);
        return;
    }
    /* Survivors may hold different numbers of its inputs: agree first. */
    int idx = (int)(peer - s->peers);
    s->leave_pending |= 1u << idx;
    s->leave_last[idx] = last;
    s->leave_heard[idx] = 0;
    s->leave_since[idx] = s->now;
    s->leave_reason[idx] = reason;
    send_leave(s, peer, last);
    try_finish_leaves(s);
}

static void on_leave(rollnet_session *s, rn_peer *from, const rn_leave *l)
{
    rn_peer *gone = NULL;
    for (int i = 0; i < s->num_peers; i++) {
        if (&s->peers[i] != from && s->peers[i].player_mask == l->player_mask &&
            s->peers[i].player_mask != 0) {
            gone = &s->peers[i];
        }
    }
    if (!gone) {
        from->st.dropped_malformed++;
        return;
    }
    int idx = (int)(gone - s->peers);
    if (gone->state == RN_PEER_RUNNING) {
        /* Another peer lost it: everyone drops it together. */
        peer_gone(s, gone, ROLLNET_DISCONNECT_BY_PEERS, true);
    }
    if (!(s->leave_pending & (1u << idx))) {
        return; /* already settled (or never ran here) */
    }
    /* The inputs it carries, then what it knows. */
    int isz = s->desc.input_size;
    int nplayers = popcount32(l->player_mask);
    int block = nplayers * isz;
    int got = l->count > 0 ? rn_inputs_decompress(l->data, l->size, block, s->block_buf,
                                                  RN_MAX_INPUT_FRAMES)
                           : 0;
    if (got != l->count) {
        from->st.dropped_malformed++;
        return;
    }
    for (int32_t i = 0; i < l->count; i++) {
        int32_t f = l->last_frame - l->count + 1 + i;
        int k = 0;
        for (int p = 0; p < s->desc.num_players; p++) {
            if (l->player_mask & (1u << p)) {
                rn_input_queue *q = &s->sync.queues[p];
                if (rn_iq_has_room(q, f)) {
                    rn_iq_add(q, f, s->block_buf + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz);
                }
                k++;
            }
        }
    }
    if (l->last_frame > s->leave_last[idx]) {
        s->leave_last[idx] = l->last_frame;
    }
    s->leave_heard[idx] |= 1u << (int)(from - s->peers);
    s->dirty = true;
    try_finish_leaves(s);
}

static void refuse(rollnet_session *s, rn_peer *peer, rollnet_param param, int64_t local,
                   int64_t remote)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_REFUSE;
    m.u.refuse.param = (uint32_t)param;
    m.u.refuse.local_value = local;
    m.u.refuse.remote_value = remote;
    send_msg(s, peer, &m, ROLLNET_CHANNEL_RELIABLE, 0);
    rollnet_event ev = make_event(ROLLNET_EVENT_REFUSED, peer_event_player(peer));
    ev.u.refused.param = param;
    ev.u.refused.local_value = local;
    ev.u.refused.remote_value = remote;
    push_event(s, &ev);
    log_msg(s, ROLLNET_LOG_ERROR, "handshake refused: session parameters differ");
    peer->state = RN_PEER_GONE;
    peer->st.disconnected = true;
    s->handshake_failed = true;
    /* Not closed at once: ENet drops packets still waiting for delivery when
     * the close arrives with them, and the peer must read why it is refused.
     * The peer closes on reading REFUSE; this is the fallback. */
    peer->close_at_ms = s->now + 1000;
}

static void on_hello(rollnet_session *s, rn_peer *peer, const rn_hello *h)
{
    if (peer->state != RN_PEER_HANDSHAKE) {
        peer->st.dropped_malformed++;
        return;
    }
    const rollnet_session_desc *d = &s->desc;
    struct {
        rollnet_param param;
        int64_t mine, theirs;
    } checks[] = {
        {ROLLNET_PARAM_PROTOCOL_VERSION, RN_PROTOCOL_VERSION, h->version},
        {ROLLNET_PARAM_NUM_PLAYERS, d->num_players, h->num_players},
        {ROLLNET_PARAM_INPUT_SIZE, d->input_size, h->input_size},
        {ROLLNET_PARAM_INPUT_DELAY, d->input_delay, h->input_delay},
        {ROLLNET_PARAM_FPS, d->fps, h->fps},
        {ROLLNET_PARAM_MAX_PREDICTION, d->max_prediction, h->max_prediction},
        {ROLLNET_PARAM_GAME_ID, (int64_t)d->game_id, (int64_t)h->game_id},
        {ROLLNET_PARAM_SEED, (int64_t)d->seed, (int64_t)h->seed},
        {ROLLNET_PARAM_CHECKSUM_INTERVAL, d->checksum_interval, h->checksum_interval},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i].mine != checks[i].theirs) {
            refuse(s, peer, checks[i].param, checks[i].mine, checks[i].theirs);
            return;
        }
    }
    /* The players it claims must be remote here and not held by another peer. */
    uint32_t mask = h->player_mask;
    uint32_t allowed = peer->outgoing ? peer->player_mask : s->incoming_mask;
    /* A player who left plays neutral for good: it cannot rejoin this session. */
    for (int p = 0; p < s->desc.num_players; p++) {
        if (s->sync.queues[p].disconnected_from >= 0) {
            allowed &= ~(1u << p);
        }
    }
    if (!peer->outgoing) {
        for (int i = 0; i < s->num_peers; i++) {
            if (&s->peers[i] != peer && s->peers[i].state == RN_PEER_RUNNING) {
                allowed &= ~s->peers[i].player_mask;
            }
        }
    }
    bool ok = peer->outgoing ? mask == allowed : (mask != 0 && (mask & ~allowed) == 0);
    if (!ok) {
        refuse(s, peer, ROLLNET_PARAM_PLAYERS, (int64_t)allowed, (int64_t)mask);
        return;
    }
    peer->player_mask = mask;
    peer->nonce = h->nonce;
    peer->tag = rn_nonce_tag(h->nonce);
    peer->state = RN_PEER_RUNNING;
    peer->st.synchronized = true;
    int idx = (int)(peer - s->peers);
    for (int p = 0; p < s->desc.num_players; p++) {
        if (mask & (1u << p)) {
            s->player_peer[p] = idx;
        }
    }
    if (s->transport.vtable->set_timeout) {
        s->transport.vtable->set_timeout(s->transport.self, peer->tp, d->disconnect_timeout_ms);
    }
    rollnet_event ev = make_event(ROLLNET_EVENT_SYNCHRONIZING, peer_event_player(peer));
    ev.u.synchronizing.done = 1;
    ev.u.synchronizing.total = 1;
    push_event(s, &ev);
    simple_event(s, ROLLNET_EVENT_SYNCHRONIZED, peer_event_player(peer));
    check_running(s);
}

static void compare_checksum(rollnet_session *s, int32_t frame)
{
    const rn_sum_entry *l = &s->lsum[(frame / s->desc.checksum_interval) % RN_CHECKSUM_RING];
    if (l->frame != frame) {
        return;
    }
    for (int i = 0; i < s->num_peers; i++) {
        rn_peer *peer = &s->peers[i];
        rn_sum_entry *r = &peer->rsum[(frame / s->desc.checksum_interval) % RN_CHECKSUM_RING];
        if (r->frame != frame || peer->state != RN_PEER_RUNNING) {
            continue; /* a peer that left plays on alone: nothing to compare */
        }
        if (r->sum != l->sum) {
            if (!s->desync_found) {
                s->desync_found = true;
                s->desync.frame = frame;
                s->desync.first_checksum = l->sum;
                s->desync.second_checksum = r->sum;
            }
            rollnet_event ev = make_event(ROLLNET_EVENT_DESYNC, peer_event_player(peer));
            ev.u.desync.frame = frame;
            ev.u.desync.local_checksum = l->sum;
            ev.u.desync.remote_checksum = r->sum;
            push_event(s, &ev);
            log_msg(s, ROLLNET_LOG_ERROR, "desync: checksums of a confirmed frame differ");
        }
        r->frame = -1; /* compared once */
    }
}

static void on_input(rollnet_session *s, rn_peer *peer, const rn_input *in)
{
    int nplayers = popcount32(peer->player_mask);
    int isz = s->desc.input_size;
    int lp = first_local(s);
    /* Validate everything before touching the queues. */
    if (in->ack_frame > s->sync.queues[lp].last_confirmed) {
        peer->st.dropped_malformed++;
        return;
    }
    int32_t pc = peer_confirmed(s, peer);
    const rn_input_queue *q0 = &s->sync.queues[lowest_player(peer->player_mask)];
    if (in->count > 0) {
        int32_t last = in->start_frame + in->count - 1;
        if (in->start_frame > pc + 1 || !rn_iq_has_room(q0, last)) {
            peer->st.dropped_malformed++;
            return;
        }
    }
    if (peer->loading && in->count > 0 &&
        in->start_frame + in->count - 1 > peer->loading_frame) {
        /* Fresh inputs: the peer is back from loading. */
        peer->loading = false;
        peer->st.loading = false;
        if (s->transport.vtable->set_timeout) {
            s->transport.vtable->set_timeout(s->transport.self, peer->tp,
                                             s->desc.disconnect_timeout_ms);
        }
        simple_event(s, ROLLNET_EVENT_LOADING_ENDED, peer_event_player(peer));
    }
    for (int32_t i = 0; i < in->count; i++) {
        int32_t f = in->start_frame + i;
        if (f <= pc) {
            continue;
        }
        int k = 0;
        for (int p = 0; p < s->desc.num_players; p++) {
            if (peer->player_mask & (1u << p)) {
                const uint8_t *src =
                    in->inputs + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz;
                rn_iq_add(&s->sync.queues[p], f, src);
                k++;
            }
        }
    }
    if (in->count > 0) {
        int32_t newest = in->start_frame + in->count - 1;
        if (newest > peer->st.last_received_frame) {
            peer->st.last_received_frame = newest;
        }
        int32_t rf = newest - s->desc.input_delay + 1;
        if (rf > peer->remote_frame) {
            peer->remote_frame = rf;
        }
    }
    if (in->ack_frame > peer->ack) {
        peer->ack = in->ack_frame;
    }
    peer->remote_advantage = in->frame_advantage;
    peer->st.remote_frames_ahead = -in->frame_advantage;
    s->dirty = true;
}

static void on_message(rollnet_session *s, rn_peer *peer, const uint8_t *data, size_t size)
{
    if (size > RN_MAX_MESSAGE) {
        peer->st.dropped_oversize++;
        return;
    }
    int block = peer->state == RN_PEER_RUNNING
                    ? popcount32(peer->player_mask) * s->desc.input_size
                    : 0;
    rn_msg m;
    rn_decode_result res = rn_decode(&s->dec, data, size, block, &m);
    if (res == RN_DECODE_OVERSIZE) {
        peer->st.dropped_oversize++;
        return;
    }
    if (res != RN_DECODE_OK) {
        /* Unreliable inputs may overtake the peer's reliable HELLO; they are
         * resent until acknowledged, so dropping them costs nothing. */
        if (block == 0 && size >= 2 && data[0] == 0x97 && data[1] == RN_MSG_INPUT) {
            peer->st.dropped_early++;
        } else {
            peer->st.dropped_malformed++;
        }
        return;
    }
    /* Per-frame messages must carry the peer's tag: anything else is foreign. */
    uint16_t tag = 0;
    int32_t episode = -1;
    switch (m.type) {
    case RN_MSG_INPUT:
        tag = m.u.input.tag;
        episode = m.u.input.episode;
        break;
    case RN_MSG_CHECKSUM:
        tag = m.u.checksum.tag;
        episode = m.u.checksum.episode;
        break;
    case RN_MSG_LOADING:
        tag = m.u.loading.tag;
        break;
    case RN_MSG_LEAVE:
        tag = m.u.leave.tag;
        break;
    default:
        break;
    }
    bool stale = false;
    if (m.type == RN_MSG_INPUT || m.type == RN_MSG_CHECKSUM || m.type == RN_MSG_LOADING ||
        m.type == RN_MSG_LEAVE) {
        if (peer->state != RN_PEER_RUNNING || tag != peer->tag) {
            peer->st.dropped_foreign++;
            return;
        }
        /* Inputs from an earlier episode are ignored (they are resent until
         * acknowledged). Checksums name their frame, so they still count. */
        stale = m.type == RN_MSG_INPUT && episode >= 0 && episode < s->completed_episodes;
        if (stale) {
            peer->st.dropped_stale++;
        }
    }
    peer->st.bytes_received += size;
    peer->st.messages_received++;
    peer->last_recv_ms = s->now;
    if (peer->interrupted) {
        peer->interrupted = false;
        peer->st.interrupted = false;
        simple_event(s, ROLLNET_EVENT_RESUMED, peer_event_player(peer));
    }
    switch (m.type) {
    case RN_MSG_HELLO:
        on_hello(s, peer, &m.u.hello);
        break;
    case RN_MSG_REFUSE: {
        rollnet_event ev = make_event(ROLLNET_EVENT_REFUSED, peer_event_player(peer));
        ev.u.refused.param = (rollnet_param)m.u.refuse.param;
        ev.u.refused.local_value = m.u.refuse.remote_value;
        ev.u.refused.remote_value = m.u.refuse.local_value;
        push_event(s, &ev);
        bool was_running = peer->state == RN_PEER_RUNNING;
        peer->state = RN_PEER_GONE;
        peer->st.disconnected = true;
        peer->st.connected = false;
        s->handshake_failed = true;
        if (peer->tp >= 0 && s->transport.vtable->disconnect) {
            s->transport.vtable->disconnect(s->transport.self, peer->tp);
        }
        if (was_running || s->running) {
            /* Accepted here but refused there (a departed player trying to
             * rejoin): this session cannot go on. */
            s->failed = ROLLNET_ERR_REFUSED;
        }
        break;
    }
    case RN_MSG_INPUT:
        if (stale) {
            /* Still a sign of life with a valid ack. */
            if (m.u.input.ack_frame > peer->ack &&
                m.u.input.ack_frame <= s->sync.queues[first_local(s)].last_confirmed) {
                peer->ack = m.u.input.ack_frame;
            }
        } else {
            on_input(s, peer, &m.u.input);
        }
        break;
    case RN_MSG_CHECKSUM: {
        if (s->desc.checksum_interval <= 0 || m.u.checksum.frame % s->desc.checksum_interval) {
            peer->st.dropped_malformed++;
            break;
        }
        int32_t f = m.u.checksum.frame;
        rn_sum_entry *r = &peer->rsum[(f / s->desc.checksum_interval) % RN_CHECKSUM_RING];
        r->frame = f;
        r->sum = m.u.checksum.checksum;
        compare_checksum(s, f);
        break;
    }
    case RN_MSG_LEAVE:
        on_leave(s, peer, &m.u.leave);
        break;
    case RN_MSG_LOADING:
        if (m.u.loading.loading) {
            if (!peer->loading) {
                peer->loading = true;
                peer->st.loading = true;
                peer->loading_frame = m.u.loading.frame > peer->st.last_received_frame
                                          ? m.u.loading.frame
                                          : peer->st.last_received_frame;
                if (s->transport.vtable->set_timeout) {
                    s->transport.vtable->set_timeout(s->transport.self, peer->tp,
                                                     s->desc.loading_grace_ms);
                }
                simple_event(s, ROLLNET_EVENT_LOADING, peer_event_player(peer));
            }
        } else if (peer->loading) {
            peer->loading = false;
            peer->st.loading = false;
            if (s->transport.vtable->set_timeout) {
                s->transport.vtable->set_timeout(s->transport.self, peer->tp,
                                                 s->desc.disconnect_timeout_ms);
            }
            simple_event(s, ROLLNET_EVENT_LOADING_ENDED, peer_event_player(peer));
        }
        break;
    }
}

static void on_connected(rollnet_session *s, int tp)
{
    rn_peer *peer = NULL;
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].outgoing && s->peers[i].tp == tp &&
            s->peers[i].state == RN_PEER_CONNECTING) {
            peer = &s->peers[i];
        }
    }
    if (!peer) {
        /* An incoming connection: it says which players it hosts in its HELLO. */
        /* Reuse the slot of an incoming connection that never claimed a
         * player (refused, or timed out in its handshake). */
        for (int i = 0; i < s->num_peers && !peer; i++) {
            rn_peer *old = &s->peers[i];
            if (!old->outgoing && old->state == RN_PEER_GONE && old->player_mask == 0 &&
                old->tp < 0) {
                peer = old;
            }
        }
        if (!peer && (s->incoming_mask == 0 || s->num_peers >= ROLLNET_MAX_PLAYERS)) {
            if (s->transport.vtable->disconnect) {
                s->transport.vtable->disconnect(s->transport.self, tp);
            }
            return;
        }
        if (!peer) {
            peer = &s->peers[s->num_peers++];
        }
        memset(peer, 0, sizeof(*peer));
        peer->ack = -1;
        peer->st.last_received_frame = -1;
        rn_timesync_init(&peer->ts);
        for (int k = 0; k < RN_CHECKSUM_RING; k++) {
            peer->rsum[k].frame = -1;
        }
        peer->tp = tp;
        peer->outgoing = false;
        peer->player_mask = 0;
    }
    peer->state = RN_PEER_HANDSHAKE;
    peer->since_ms = s->now;
    peer->last_recv_ms = s->now;
    peer->st.connected = true;
    peer->rate_start_ms = s->now;
    rollnet_event ev = make_event(ROLLNET_EVENT_SYNCHRONIZING, peer_event_player(peer));
    ev.u.synchronizing.done = 0;
    ev.u.synchronizing.total = 1;
    push_event(s, &ev);
    send_hello(s, peer);
}

/* ------------------------------------------------------------------------ */
/* Confirmation: promotion, checksums, the episode barrier                    */
/* ------------------------------------------------------------------------ */

static bool rollback_pending(const rollnet_session *s)
{
    return rn_sync_first_incorrect(&s->sync) >= 0;
}

static int32_t confirmed_frame(const rollnet_session *s)
{
    int32_t c = rn_sync_confirmed_frame(&s->sync);
    /* Only frames that have been simulated count. */
    int32_t last = s->sync.frame - 1;
    if (c > last) {
        c = last;
    }
    return c;
}

/* Every promotion goes through here; rn_ledger_promote applies the guard. */
/* Every promotion goes through here; rn_ledger_promote applies the guard.
 * Promotion stops at each episode end so that the episode's completion is
 * recorded (event, counters, the check after the first reset) before the
 * next episode's records move, whichever path promoted. */
static void promote(rollnet_session *s)
{
    rn_promote_guard g = {
        .confirmed_frame = confirmed_frame(s),
        .rollback_pending = rollback_pending(s),
        .rollback_in_progress = rn_sync_rollback_in_progress(&s->sync),
        .limit_frame = -1,
    };
    for (;;) {
        int32_t before = s->ledger.episode;
        g.limit_frame = rn_ledger_pending_episode_end(&s->ledger);
        if (rn_ledger_promote(&s->ledger, &g) == 0 || s->ledger.episode == before) {
            return;
        }
        /* The episode's last record went to the confirmed ledger. */
        int32_t end = s->ledger.episode_start - 1;
        rollnet_event ev = make_event(ROLLNET_EVENT_EPISODE_COMPLETE, -1);
        ev.u.episode.episode = before;
        ev.u.episode.end_frame = end;
        push_event(s, &ev);
        if (end > s->released_end) {
            s->released_end = end;
        }
        s->completed_episodes = s->ledger.episode;
        if (!s->validated_reset) {
            /* Games whose state exists only after a reset are checked again now. */
            s->validated_reset = true;
            s->validate_next = true;
        }
    }
}

static void process_checksums(rollnet_session *s)
{
    int interval = s->desc.checksum_interval;
    if (!is_p2p(s) || interval <= 0 || rn_sync_requests_pending(&s->sync) || rollback_pending(s)) {
        return;
    }
    int32_t conf = confirmed_frame(s);
    /* The snapshot of frame f is final once every input before f is confirmed. */
    while (s->next_checksum_frame <= conf + 1 && s->next_checksum_frame <= s->sync.frame) {
        int32_t f = s->next_checksum_frame;
        s->next_checksum_frame += interval;
        bool found = false;
        uint64_t sum = rn_sync_checksum(&s->sync, f, &found);
        if (!found) {
            continue;
        }
        rn_sum_entry *l = &s->lsum[(f / interval) % RN_CHECKSUM_RING];
        l->frame = f;
        l->sum = sum;
        if (!l->unsent) {
            l->unsent = true;
            s->unsent_sums++;
        }
        compare_checksum(s, f);
    }
}

/* Checksums go out with the next inputs, in the same datagram. */
static void send_due_checksums(rollnet_session *s)
{
    for (int k = 0; k < RN_CHECKSUM_RING && s->unsent_sums > 0; k++) {
        rn_sum_entry *l = &s->lsum[k];
        if (!l->unsent) {
            continue;
        }
        l->unsent = false;
        s->unsent_sums--;
        rn_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RN_MSG_CHECKSUM;
        m.u.checksum.tag = s->tag;
        m.u.checksum.episode = s->completed_episodes;
        m.u.checksum.frame = l->frame;
        m.u.checksum.checksum = l->sum;
        for (int i = 0; i < s->num_peers; i++) {
            if (s->peers[i].state == RN_PEER_RUNNING) {
                send_msg(s, &s->peers[i], &m, ROLLNET_CHANNEL_RELIABLE, 0);
            }
        }
    }
}

static void discard_old_inputs(rollnet_session *s)
{
    int32_t keep = confirmed_frame(s);
    for (int i = 0; i < s->num_peers; i++) {
        if (s->peers[i].state == RN_PEER_RUNNING && s->peers[i].ack + 1 < keep) {
            keep = s->peers[i].ack + 1;
        }
    }
    if (keep > 0) {
        rn_sync_discard_inputs_before(&s->sync, keep);
    }
}

/* The episode end that play must wait at, or -1. */
static int32_t barrier_end(rollnet_session *s)
{
    int32_t e = rn_ledger_pending_episode_end(&s->ledger);
    if (e < 0 || e >= s->sync.frame || e <= s->released_end) {
        return -1;
    }
    return e;
}

static void update_barrier(rollnet_session *s)
{
    promote(s);
    int32_t e = barrier_end(s);
    if (e < 0) {
        s->barrier_frame = -1;
        return;
    }
    if (s->barrier_frame != e) {
        s->barrier_frame = e;
        s->barrier_since = s->now;
    } else if (s->now - s->barrier_since >= s->desc.episode_timeout_ms) {
        /* Play goes on; records still promote only when confirmed. */
        rollnet_event ev = make_event(ROLLNET_EVENT_EPISODE_TIMEOUT, -1);
        ev.u.episode.episode = s->ledger.episode;
        ev.u.episode.end_frame = e;
        push_event(s, &ev);
        log_msg(s, ROLLNET_LOG_WARN, "episode boundary wait timed out");
        s->released_end = e;
        s->barrier_frame = -1;
    }
}

static void after_confirmation(rollnet_session *s)
{
    if (rn_sync_requests_pending(&s->sync)) {
        return;
    }
    /* Nothing new to promote or checksum; a barrier still needs its clock. */
    if (!s->dirty && s->barrier_frame < 0) {
        return;
    }
    s->dirty = false;
    update_barrier(s);
    process_checksums(s);
    discard_old_inputs(s);
}

/* ------------------------------------------------------------------------ */
/* Poll                                                                       */
/* ------------------------------------------------------------------------ */

static void update_rates(rollnet_session *s, rn_peer *peer)
{
    uint64_t span = s->now - peer->rate_start_ms;
    if (span >= 1000) {
        peer->st.bytes_sent_per_sec =
            (uint32_t)((peer->st.bytes_sent - peer->rate_sent_base) * 1000 / span);
        peer->st.bytes_received_per_sec =
            (uint32_t)((peer->st.bytes_received - peer->rate_recv_base) * 1000 / span);
        peer->rate_sent_base = peer->st.bytes_sent;
        peer->rate_recv_base = peer->st.bytes_received;
        peer->rate_start_ms = s->now;
    }
}

/* What the transport measures (RTT, send queue), fresh at every poll. */
static void refresh_peer_info(rollnet_session *s, rn_peer *peer)
{
    rollnet_transport_peer_info info;
    memset(&info, 0, sizeof(info));
    if (s->transport.vtable->peer_info) {
        s->transport.vtable->peer_info(s->transport.self, peer->tp, &info);
    }
    peer->st.rtt_ms = info.rtt_ms;
    peer->st.jitter_ms = info.rtt_variance_ms;
    peer->st.send_queue = info.send_queue;
}

static void check_timers(rollnet_session *s)
{
    const rollnet_session_desc *d = &s->desc;
    uint64_t frame_ms = 1000u / (uint64_t)d->fps;
    if (frame_ms == 0) {
        frame_ms = 1;
    }
    for (int i = 0; i < s->num_peers; i++) {
        rn_peer *peer = &s->peers[i];
        switch (peer->state) {
        case RN_PEER_CONNECTING:
        case RN_PEER_HANDSHAKE:
            if (s->now - peer->since_ms >= d->handshake_timeout_ms) {
                peer_gone(s, peer, ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT, true);
            }
            break;
        case RN_PEER_RUNNING: {
            refresh_peer_info(s, peer);
            uint64_t silence = s->now - peer->last_recv_ms;
            if (peer->loading) {
                if (silence >= d->loading_grace_ms) {
                    peer_gone(s, peer, ROLLNET_DISCONNECT_LOADING_GRACE, true);
                    break;
                }
            } else if (silence >= d->disconnect_timeout_ms) {
                peer_gone(s, peer, ROLLNET_DISCONNECT_TIMEOUT, true);
                break;
            }
            if (silence >= d->notify_timeout_ms && !peer->interrupted) {
                peer->interrupted = true;
                peer->st.interrupted = true;
                simple_event(s, ROLLNET_EVENT_INTERRUPTED, peer_event_player(peer));
            }
            /* Keep inputs and acks flowing while no frame is being sent. */
            if (s->now - peer->last_input_send_ms >= 2 * frame_ms) {
                send_due_checksums(s);
                send_inputs(s, peer);
            }
            update_rates(s, peer);
            break;
        }
        case RN_PEER_GONE:
            if (peer->close_at_ms && s->now >= peer->close_at_ms) {
                peer->close_at_ms = 0;
                if (peer->tp >= 0 && !peer_by_tp(s, peer->tp) && s->transport.vtable->disconnect) {
                    s->transport.vtable->disconnect(s->transport.self, peer->tp);
                }
                peer->tp = -1;
            }
            break;
        default:
            break;
        }
    }
    if (s->leave_pending) {
        try_finish_leaves(s);
    }
    /* Players nobody connected for. */
    if (!s->running && !s->missing_reported && s->now - s->start_ms >= d->handshake_timeout_ms) {
        uint32_t claimed = 0;
        for (int i = 0; i < s->num_peers; i++) {
            if (s->peers[i].state == RN_PEER_RUNNING) {
                claimed |= s->peers[i].player_mask;
            }
        }
        uint32_t missing = s->remote_mask & ~claimed;
        if (missing) {
            s->handshake_failed = true;
            s->missing_reported = true;
            rollnet_event ev = make_event(ROLLNET_EVENT_DISCONNECTED, lowest_player(missing));
            ev.u.disconnected.reason = ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT;
            ev.u.disconnected.frame = -1;
            push_event(s, &ev);
        }
    }
}

rollnet_error rollnet_session_poll(rollnet_session *s, uint64_t now_ms)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (now_ms > s->now) {
        s->now = now_ms;
    }
    if (!is_p2p(s)) {
        after_confirmation(s);
        return s->failed;
    }
    if (!s->polled) {
        s->polled = true;
        s->start_ms = s->now;
        for (int i = 0; i < s->num_peers; i++) {
            rn_peer *peer = &s->peers[i];
            if (!peer->outgoing) {
                continue;
            }
            peer->since_ms = s->now;
            peer->tp = s->transport.vtable->connect(s->transport.self, peer->address, s->now);
            if (peer->tp < 0) {
                peer->state = RN_PEER_CONNECTING;
                peer_gone(s, peer, ROLLNET_DISCONNECT_CLOSED, false);
            } else {
                peer->state = RN_PEER_CONNECTING;
            }
        }
    }
    rollnet_transport_event ev;
    for (int n = 0; n < RN_MAX_EVENTS_PER_POLL; n++) {
        if (s->transport.vtable->receive(s->transport.self, s->now, &ev) <= 0) {
            break;
        }
        switch (ev.type) {
        case ROLLNET_TRANSPORT_CONNECTED:
            on_connected(s, ev.peer);
            break;
        case ROLLNET_TRANSPORT_DISCONNECTED: {
            /* The id is free now: forget it on peers that already left. */
            for (int i = 0; i < s->num_peers; i++) {
                if (s->peers[i].state == RN_PEER_GONE && s->peers[i].tp == ev.peer) {
                    s->peers[i].tp = -1;
                    s->peers[i].close_at_ms = 0;
                }
            }
            rn_peer *peer = peer_by_tp(s, ev.peer);
            if (peer) {
                peer_gone(s, peer, ROLLNET_DISCONNECT_CLOSED, false);
            }
            break;
        }
        case ROLLNET_TRANSPORT_RECEIVE: {
            rn_peer *peer = peer_by_tp(s, ev.peer);
            if (peer) {
                on_message(s, peer, ev.data, ev.size);
            }
            break;
        }
        default:
            break;
        }
    }
    check_timers(s);
    after_confirmation(s);
    flush_transport(s);
    return s->failed;
}

/* ------------------------------------------------------------------------ */
/* Inputs and requests                                                        */
/* ------------------------------------------------------------------------ */

/* Why the next frame cannot run now, or OK. */
static rollnet_error blocked_reason(rollnet_session *s)
{
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (!s->running) {
        return ROLLNET_ERR_NOT_RUNNING;
    }
    if (s->ledger.conf_count == s->ledger.conf_capacity) {
        return ROLLNET_ERR_LEDGER_FULL; /* the game must read records before anything moves */
    }
    if (barrier_end(s) >= 0) {
        return ROLLNET_ERR_EPISODE_BARRIER;
    }
    if (!rn_sync_within_window(&s->sync)) {
        return ROLLNET_ERR_PREDICTION_LIMIT;
    }
    const rn_input_queue *lq = &s->sync.queues[first_local(s)];
    if (!rn_iq_has_room(lq, s->sync.frame + s->desc.input_delay)) {
        return ROLLNET_ERR_PREDICTION_LIMIT;
    }
    if (s->ledger_used && !rn_ledger_can_store(&s->ledger, s->sync.frame)) {
        return ROLLNET_ERR_LEDGER_FULL;
    }
    return ROLLNET_ERR_OK;
}

static void clear_stalled(rollnet_session *s)
{
    if (!s->stalled) {
        return;
    }
    s->stalled = false;
    rollnet_event ev = make_event(ROLLNET_EVENT_STALL_ENDED, -1);
    ev.u.stall.reason = s->stall_reason;
    ev.u.stall.frame = s->sync.frame;
    push_event(s, &ev);
}

static void set_stalled(rollnet_session *s, rollnet_error why)
{
    rollnet_stall_reason reason = why == ROLLNET_ERR_EPISODE_BARRIER ? ROLLNET_STALL_EPISODE_BARRIER
                                  : why == ROLLNET_ERR_LEDGER_FULL    ? ROLLNET_STALL_LEDGER_FULL
                                                                      : ROLLNET_STALL_PREDICTION_LIMIT;
    if (s->stalled && s->stall_reason == reason) {
        return;
    }
    if (s->stalled) {
        clear_stalled(s); /* one stall ends, another begins */
    }
    s->stalled = true;
    s->stall_reason = reason;
    s->stalls++;
    rollnet_event ev = make_event(ROLLNET_EVENT_STALLED, -1);
    ev.u.stall.reason = reason;
    ev.u.stall.frame = s->sync.frame;
    push_event(s, &ev);
}


rollnet_error rollnet_session_add_local_input(rollnet_session *s, int player, const void *input,
                                              size_t size)
{
    if (!s || !input) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (player < 0 || player >= s->desc.num_players || !(s->local_mask & (1u << player))) {
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    if (size != (size_t)s->desc.input_size) {
        return ROLLNET_ERR_INVALID_INPUT_SIZE;
    }
    rollnet_error why = blocked_reason(s);
    if (why == ROLLNET_ERR_PREDICTION_LIMIT || why == ROLLNET_ERR_EPISODE_BARRIER ||
        why == ROLLNET_ERR_LEDGER_FULL) {
        if (!rollback_pending(s)) {
            set_stalled(s, why);
            return why;
        }
        /* A pending rollback still has to run: advance will return it alone. */
    } else if (why != ROLLNET_ERR_OK) {
        return why;
    }
    memcpy(s->pending[player], input, size);
    s->pending_mask |= 1u << player;
    return ROLLNET_ERR_OK;
}

static void update_timesync(rollnet_session *s)
{
    int wait = 0;
    for (int i = 0; i < s->num_peers; i++) {
        rn_peer *peer = &s->peers[i];
        if (peer->state != RN_PEER_RUNNING) {
            continue;
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
    s->recommended_wait = wait;
    if (wait > 0 && s->sync.frame - s->last_wait_event_frame >= RN_WAIT_EVENT_INTERVAL) {
        s->last_wait_event_frame = s->sync.frame;
        rollnet_event ev = make_event(ROLLNET_EVENT_WAIT_RECOMMENDED, -1);
        ev.u.wait.frames = wait;
        push_event(s, &ev);
    }
}

/* The rollback about to be built is charged to the peer whose player's
 * input was mispredicted first. */
static void attribute_rollback(rollnet_session *s)
{
    int32_t fi = rn_sync_first_incorrect(&s->sync);
    if (fi < 0 || !is_p2p(s)) {
        return;
    }
    for (int p = 0; p < s->desc.num_players; p++) {
        if (s->sync.queues[p].first_incorrect == fi && s->player_peer[p] >= 0) {
            rollnet_peer_stats *st = &s->peers[s->player_peer[p]].st;
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

rollnet_error rollnet_session_advance(rollnet_session *s, const rollnet_request **requests,
                                      int *count)
{
    if (!s || !requests || !count) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *requests = NULL;
    *count = 0;
    if (s->failed != ROLLNET_ERR_OK) {
        return s->failed;
    }
    if (rn_sync_requests_pending(&s->sync)) {
        return ROLLNET_ERR_REQUESTS_PENDING;
    }
    after_confirmation(s);
    rollnet_error why = blocked_reason(s);
    bool pending_rb = rollback_pending(s);
    if (why != ROLLNET_ERR_OK && !(pending_rb && s->running)) {
        if (why == ROLLNET_ERR_PREDICTION_LIMIT || why == ROLLNET_ERR_EPISODE_BARRIER ||
            why == ROLLNET_ERR_LEDGER_FULL) {
            set_stalled(s, why);
        }
        return why;
    }
    rn_sync_plan plan;
    memset(&plan, 0, sizeof(plan));
    plan.advance = why == ROLLNET_ERR_OK;
    if (plan.advance) {
        if ((s->pending_mask & s->local_mask) != s->local_mask) {
            return ROLLNET_ERR_NO_LOCAL_INPUT;
        }
        clear_stalled(s);
        int32_t at = s->sync.frame + s->desc.input_delay;
        for (int p = 0; p < s->desc.num_players; p++) {
            if (s->local_mask & (1u << p)) {
                rn_iq_add(&s->sync.queues[p], at, s->pending[p]);
            }
        }
        s->pending_mask = 0;
        s->dirty = true;
        if (is_p2p(s)) {
            send_due_checksums(s);
            for (int i = 0; i < s->num_peers; i++) {
                if (s->peers[i].state == RN_PEER_RUNNING) {
                    send_inputs(s, &s->peers[i]);
                }
            }
            flush_transport(s);
            update_timesync(s);
            int32_t behind = 0;
            for (int i = 0; i < s->num_peers; i++) {
                if (s->peers[i].state == RN_PEER_RUNNING && s->peers[i].local_advantage > behind) {
                    behind = s->peers[i].local_advantage;
                }
            }
            if (behind > s->desc.max_prediction / 2) {
                plan.advance_flags |= ROLLNET_REQUEST_FAST_FORWARD;
            }
        } else {
            plan.force_rollback = s->desc.check_distance;
        }
    }
    if (!s->validated_start) {
        s->validated_start = true;
        plan.validate = true;
    } else if (s->validate_next) {
        s->validate_next = false;
        plan.validate = true;
    }
    attribute_rollback(s);
    *count = rn_sync_build(&s->sync, &plan);
    *requests = s->sync.reqs;
    return ROLLNET_ERR_OK;
}

static void list_step(rollnet_session *s)
{
    s->dirty = true;
    if (!rn_sync_requests_pending(&s->sync)) {
        after_confirmation(s);
    }
}

static rollnet_error fail_with(rollnet_session *s, rollnet_error err)
{
    if (err != ROLLNET_ERR_OK && s->failed == ROLLNET_ERR_OK) {
        s->failed = err;
    }
    return err;
}

rollnet_writer *rollnet_session_save_begin(rollnet_session *s, const rollnet_request *req)
{
    if (!s) {
        return NULL;
    }
    /* A SAVE right after an ADVANCE the game did not end: once the ledger is
     * in use, end it as advance_end(req, 0) would (an empty record), so the
     * frame still reaches the ledger and promotion never waits for it. */
    rn_sync *y = &s->sync;
    if (s->ledger_used && y->req_next + 1 < y->req_count && req == &y->reqs[y->req_next + 1] &&
        y->reqs[y->req_next].type == ROLLNET_REQUEST_ADVANCE) {
        rollnet_session_advance_end(s, &y->reqs[y->req_next], 0);
    }
    return rn_sync_save_begin(y, req);
}

rollnet_error rollnet_session_save_end(rollnet_session *s, const rollnet_request *req)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_error err = rn_sync_save_end(&s->sync, req);
    if (err == ROLLNET_ERR_WRONG_REQUEST) {
        return err;
    }
    if (err == ROLLNET_ERR_DESYNC) {
        rollnet_event ev = make_event(ROLLNET_EVENT_DESYNC, -1);
        ev.u.desync.frame = s->sync.desync_frame;
        ev.u.desync.local_checksum = s->sync.desync_first;
        ev.u.desync.remote_checksum = s->sync.desync_second;
        push_event(s, &ev);
        log_msg(s, ROLLNET_LOG_ERROR, "sync test: a replayed frame's checksum differs");
    }
    if (err != ROLLNET_ERR_OK) {
        return fail_with(s, err);
    }
    list_step(s);
    return ROLLNET_ERR_OK;
}

rollnet_reader *rollnet_session_load_begin(rollnet_session *s, const rollnet_request *req)
{
    return s ? rn_sync_load_begin(&s->sync, req) : NULL;
}

rollnet_error rollnet_session_load_end(rollnet_session *s, const rollnet_request *req)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_error err = rn_sync_load_end(&s->sync, req);
    if (err == ROLLNET_ERR_WRONG_REQUEST) {
        return err;
    }
    if (err != ROLLNET_ERR_OK) {
        return fail_with(s, err);
    }
    if (req->flags & ROLLNET_REQUEST_REPLAY) {
        /* The replay writes these records again. */
        rn_ledger_discard_from(&s->ledger, req->frame);
    }
    list_step(s);
    return ROLLNET_ERR_OK;
}

/* A sync test replays frames whose records are already confirmed (their
 * inputs were never in doubt); such a replay's record is written into a
 * scratch buffer and dropped, as the snapshot comparison covers the replay. */
static bool already_promoted(const rollnet_session *s, int32_t frame)
{
    return frame < s->ledger.next_promote;
}

rollnet_writer *rollnet_session_record_begin(rollnet_session *s, const rollnet_request *req)
{
    if (!s || rn_sync_check_next(&s->sync, req, ROLLNET_REQUEST_ADVANCE) != ROLLNET_ERR_OK) {
        return NULL;
    }
    if (already_promoted(s, req->frame)) {
        rn_writer_init(&s->scratch_writer, s->scratch_record, s->desc.record_capacity);
        return &s->scratch_writer;
    }
    return rn_ledger_record_begin(&s->ledger, req->frame);
}

rollnet_error rollnet_session_advance_end(rollnet_session *s, const rollnet_request *req,
                                          uint32_t step_flags)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_error err = rn_sync_check_next(&s->sync, req, ROLLNET_REQUEST_ADVANCE);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    s->ledger_used = true;
    err = already_promoted(s, req->frame)
              ? ROLLNET_ERR_OK
              : rn_ledger_step_end(&s->ledger, req->frame, req->inputs, step_flags);
    rn_sync_advance_done(&s->sync, req);
    if (err != ROLLNET_ERR_OK) {
        return fail_with(s, err);
    }
    list_step(s);
    return ROLLNET_ERR_OK;
}

/* ------------------------------------------------------------------------ */
/* Events, loading, ledger, inspection                                        */
/* ------------------------------------------------------------------------ */

bool rollnet_session_next_event(rollnet_session *s, rollnet_event *out)
{
    if (!s || !out || s->ev_count == 0) {
        return false;
    }
    *out = s->events[s->ev_head];
    s->ev_head = (s->ev_head + 1) % RN_EVENT_CAP;
    s->ev_count--;
    return true;
}

static rollnet_error send_loading(rollnet_session *s, bool loading, uint64_t now_ms)
{
    if (!s) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!is_p2p(s)) {
        return ROLLNET_ERR_WRONG_SESSION_KIND;
    }
    if (now_ms > s->now) {
        s->now = now_ms;
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_LOADING;
    m.u.loading.tag = s->tag;
    m.u.loading.loading = loading;
    m.u.loading.grace_ms = s->desc.loading_grace_ms;
    /* Inputs up to this frame may still be in flight behind the notice. */
    m.u.loading.frame = s->sync.queues[first_local(s)].last_confirmed;
    for (int i = 0; i < s->num_peers; i++) {
        rn_peer *peer = &s->peers[i];
        if (peer->state == RN_PEER_RUNNING) {
            send_msg(s, peer, &m, ROLLNET_CHANNEL_RELIABLE, 0);
            /* Our own transport must not give up on the peers while we block. */
            if (s->transport.vtable->set_timeout) {
                s->transport.vtable->set_timeout(s->transport.self, peer->tp,
                                                 loading ? s->desc.loading_grace_ms
                                                         : s->desc.disconnect_timeout_ms);
            }
            if (!loading) {
                /* Our own silence was self-inflicted: do not count it against them. */
                peer->last_recv_ms = s->now;
            }
        }
    }
    flush_transport(s);
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_session_begin_loading(rollnet_session *s, uint64_t now_ms)
{
    return send_loading(s, true, now_ms);
}

rollnet_error rollnet_session_end_loading(rollnet_session *s, uint64_t now_ms)
{
    return send_loading(s, false, now_ms);
}

bool rollnet_session_next_record(rollnet_session *s, rollnet_record *out)
{
    if (!s || !out) {
        return false;
    }
    if (rn_ledger_next(&s->ledger, out)) {
        s->dirty = true; /* room in the confirmed ring */
        return true;
    }
    /* The ring may have been full: promote what waited and try once more. */
    if (!rn_sync_requests_pending(&s->sync)) {
        promote(s);
        return rn_ledger_next(&s->ledger, out);
    }
    return false;
}

rollnet_error rollnet_session_stats_get(const rollnet_session *s, rollnet_session_stats *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    out->frame = s->sync.frame;
    out->confirmed_frame = confirmed_frame(s);
    out->episode = s->ledger.episode;
    out->rollbacks = s->sync.rollbacks;
    out->frames_resimulated = s->sync.frames_resimulated;
    out->max_rollback_depth = s->sync.max_depth;
    out->stalls = s->stalls;
    out->events_dropped = s->events_dropped;
    out->records_promoted = s->ledger.promoted;
    out->recommended_wait = s->recommended_wait;
    out->running = s->running && s->failed == ROLLNET_ERR_OK;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_session_peer_stats(const rollnet_session *s, int player,
                                         rollnet_peer_stats *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!is_p2p(s)) {
        return ROLLNET_ERR_WRONG_SESSION_KIND;
    }
    if (player < 0 || player >= s->desc.num_players || !(s->remote_mask & (1u << player)) ||
        s->player_peer[player] < 0) {
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    *out = s->peers[s->player_peer[player]].st;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_session_desync_info(const rollnet_session *s, rollnet_desync_info *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (s->sync.desync_found) {
        out->frame = s->sync.desync_frame;
        out->first_checksum = s->sync.desync_first;
        out->second_checksum = s->sync.desync_second;
        return ROLLNET_ERR_OK;
    }
    if (s->desync_found) {
        *out = s->desync;
        return ROLLNET_ERR_OK;
    }
    return ROLLNET_ERR_NO_SNAPSHOT;
}

rollnet_error rollnet_session_desync_dump(const rollnet_session *s, int which, char *buf,
                                          size_t cap)
{
    if (!s || !buf || cap == 0 || which < 0 || which > 1) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (!s->sync.desync_found || !s->sync.desync_copy[which]) {
        buf[0] = '\0';
        return ROLLNET_ERR_NO_SNAPSHOT;
    }
    if (s->sync.reading) {
        buf[0] = '\0';
        return ROLLNET_ERR_REQUESTS_PENDING; /* the open LOAD's reader owns the zone */
    }
    /* The zone is the session's reader zone; dumping happens between frames. */
    msgpack_zone *zone = (msgpack_zone *)&s->sync.zone;
    return rn_snapshot_dump(zone, s->sync.desync_copy[which], s->sync.desync_size[which], buf, cap);
}

rollnet_error rollnet_session_snapshot_dump(const rollnet_session *s, int32_t frame, char *buf,
                                            size_t cap)
{
    if (!s || !buf || cap == 0) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    const rn_snapshot_slot *slot = rn_sync_find_snapshot(&s->sync, frame);
    if (!slot) {
        buf[0] = '\0';
        return ROLLNET_ERR_NO_SNAPSHOT;
    }
    if (s->sync.reading) {
        buf[0] = '\0';
        return ROLLNET_ERR_REQUESTS_PENDING; /* the open LOAD's reader owns the zone */
    }
    msgpack_zone *zone = (msgpack_zone *)&s->sync.zone;
    return rn_snapshot_dump(zone, slot->buf, slot->size, buf, cap);
}

rollnet_error rollnet_session_snapshot_checksum(const rollnet_session *s, int32_t frame,
                                                uint64_t *out)
{
    if (!s || !out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    bool found = false;
    /* Hashing on demand fills a cache inside the session: logically const. */
    *out = rn_sync_checksum((rn_sync *)&s->sync, frame, &found);
    return found ? ROLLNET_ERR_OK : ROLLNET_ERR_NO_SNAPSHOT;
}
