/* A whole P2P session fed an arbitrary sequence of transport events.
 *
 * Shared by the libFuzzer target (fuzz_session.c) and the seed generator
 * (fuzz_seeds.c), which records what a real peer sends during a short memnet
 * session in this very format, so that the checked-in seeds replay a real
 * session step for step and the fuzzer starts from deep states.
 *
 * The session under test is node 0 of a small mesh (the variant): its
 * players on this node are local and played by seeded bots through the test
 * game (tg_execute carries out every request); every other player is remote.
 * Its transport is a fake that hands it the events the input describes.
 *
 * Input format:
 *   byte 0         variant (mod FZ_VARIANTS): the session's desc, see fz_variants
 *   then ops, each one byte, some followed by data:
 *   0x00..0x3f     TICK: the clock advances by op ms, then one game tick: poll,
 *                  events, every local input, advance, the requests, records
 *   0x40..0x4f     CONNECTED from transport peer op & 0xf (queued)
 *   0x50..0x5f     DISCONNECTED of transport peer op & 0xf (queued)
 *   0x60..0x7f     RECEIVE from peer op & 0xf on channel (op >> 4) & 1 (queued);
 *                  then a length (L < 0x80: L; else ((L & 0x7f) << 8) | next
 *                  byte) and that many bytes
 *   0x80..0xbf     WAIT: the clock advances by ((op & 0x3f) + 1) * 32 ms; no call
 *   0xc0           begin_loading      0xc1  end_loading
 *   0xc2           poll only (and events)
 *   0xc3           stop / resume reading records (a full ledger stalls play)
 *   0xc4           inspection calls: stats, peer stats, dumps, checksums
 *   0xc5..0xcf     nothing
 *   0xd0..0xdf     PEER_BUSY of peer op & 0xf (queued); then one byte B:
 *                  busy for B * 256 ms
 *   0xe0..0xff     nothing
 * Queued events reach the session at its next poll, in order. The fake
 * transport behaves like a real one: it delivers RECEIVE and DISCONNECTED
 * only for a peer it has a connection with, and CONNECTED only for one it
 * has none with; a peer the session disconnects is closed at once.
 *
 * Invariants checked (abort on a violation):
 *   - every call returns one of the results its documentation allows; the
 *     game's requests always succeed (its snapshots are its own);
 *   - no allocation through the desc's allocator after create, every one
 *     freed by destroy; with ASan hooks (FUZZ_MALLOC_HOOKS) no malloc at all
 *     by the library between create and destroy, msgpack-c's zones included;
 *   - events are well-formed (known type, a remote player or -1, payload in
 *     range); log messages are short NUL-terminated strings;
 *   - every datagram the session sends decodes (rn_decode) with the block
 *     size its receiver expects, on the channel its type belongs to;
 *   - every request's frame is the game's frame;
 *   - confirmed records come once each in frame order from frame 0, with
 *     episode and step derived from the frame, and the local players' inputs
 *     as they were added. */
#ifndef FUZZ_SESSION_H
#define FUZZ_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "protocol.h"
#include "rollnet/rollnet.h"
#include "testgame.h"

#define FZ_VARIANTS 4
#define FZ_MAX_NODES 4
#define FZ_MAX_TP 16 /* transport peer ids 0..15 */
#define FZ_HISTORY 256

/* ---- variants ------------------------------------------------------------ */

typedef struct fz_variant {
    const char *name;
    int num_players;
    int input_size;
    int input_delay;
    int32_t max_steps;      /* episode length of the test game; 0: one endless episode */
    int checksum_interval;  /* 0: the default, ROLLNET_CHECKSUMS_OFF: none */
    rollnet_prediction prediction;
    int num_nodes;
    int player_node[ROLLNET_MAX_PLAYERS];       /* the node hosting each player */
    bool connects[FZ_MAX_NODES][FZ_MAX_NODES];  /* [a][b]: a connects to b, b accepts */
} fz_variant;

static const fz_variant fz_variants[FZ_VARIANTS] = {
    { .name = "2p-host", .num_players = 2, .input_size = 1, .input_delay = 1, .max_steps = 40,
      .checksum_interval = 8, .prediction = ROLLNET_PREDICT_REPEAT_LAST, .num_nodes = 2,
      .player_node = { 0, 1 }, .connects = { [1][0] = true } },
    { .name = "2p-join", .num_players = 2, .input_size = 2, .input_delay = 2, .max_steps = 0,
      .checksum_interval = 16, .prediction = ROLLNET_PREDICT_NEUTRAL, .num_nodes = 2,
      .player_node = { 1, 0 }, .connects = { [0][1] = true } },
    { .name = "3p-mesh", .num_players = 3, .input_size = 1, .input_delay = 1, .max_steps = 50,
      .checksum_interval = 8, .prediction = ROLLNET_PREDICT_REPEAT_LAST, .num_nodes = 3,
      .player_node = { 0, 1, 2 }, .connects = { [1][0] = true, [2][0] = true, [2][1] = true } },
    { .name = "4p-pairs", .num_players = 4, .input_size = 1, .input_delay = 0, .max_steps = 30,
      .checksum_interval = ROLLNET_CHECKSUMS_OFF, .prediction = ROLLNET_PREDICT_REPEAT_LAST,
      .num_nodes = 2, .player_node = { 0, 0, 1, 1 }, .connects = { [1][0] = true } },
};

#define FZ_GAME_ID 0x66757a7aull
#define FZ_SEED 7u
#define FZ_BLOB 16

static const char *const fz_addresses[FZ_MAX_NODES] = { "mem:0", "mem:1", "mem:2", "mem:3" };

/* The game parameters every node plays by: {"mode": "fuzz", "level": 3}. */
static const uint8_t fz_rules[] = { 0x82, 0xa4, 'm', 'o', 'd', 'e', 0xa4, 'f', 'u', 'z', 'z',
                                    0xa5, 'l', 'e', 'v', 'e', 'l', 0x03 };
/* The same with another level: a peer with these is refused, naming "level". */
static const uint8_t fz_other_rules[] = { 0x82, 0xa5, 'l', 'e', 'v', 'e', 'l', 0x04, 0xa4, 'm',
                                          'o', 'd', 'e', 0xa4, 'f', 'u', 'z', 'z' };

/* The desc of node `node` in variant v. The fuzzed session is node 0. */
static inline void fz_desc(const fz_variant *v, int node, rollnet_session_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->kind = ROLLNET_SESSION_P2P;
    d->num_players = v->num_players;
    d->input_size = v->input_size;
    d->input_delay = v->input_delay;
    d->prediction = v->prediction;
    d->checksum_interval = v->checksum_interval;
    d->game_id = FZ_GAME_ID;
    d->seed = FZ_SEED;
    d->game_params = fz_rules;
    d->game_params_size = sizeof fz_rules;
    d->fps = 60;
    /* Short timeouts: silence, departures and barriers within a few seconds. */
    d->handshake_timeout_ms = 2000;
    d->notify_timeout_ms = 300;
    d->disconnect_timeout_ms = 1200;
    d->loading_grace_ms = 3000;
    d->episode_timeout_ms = 1000;
    /* A short reconnect window: a peer that closes is reconnected for a
     * second (RESUME reachable), then gone (departures reachable). */
    d->reconnect_timeout_ms = 1000;
    d->rejoin_timeout_ms = 1000; /* the place is kept for a rejoin that long too */
    /* Small buffers: create stays cheap, a full ledger within a second. */
    d->snapshot_capacity = 1024;
    d->record_capacity = 256;
    d->ledger_capacity = 32;
    d->nonce = 0x1000u + (uint64_t)node;
    for (int q = 0; q < v->num_players; q++) {
        int host = v->player_node[q];
        if (host == node) {
            d->players[q].kind = ROLLNET_PLAYER_LOCAL;
        } else {
            d->players[q].kind = ROLLNET_PLAYER_REMOTE;
            d->players[q].address = v->connects[node][host] ? fz_addresses[host] : NULL;
        }
    }
}

/* ---- checks --------------------------------------------------------------- */

#define FZ_CHECK FUZZ_CHECK

/* Results are named as in ROLLNET_ERROR_LIST, so a set can name a code the
 * header does not have (yet, or any more) without breaking the build. */
static const char *const fz_error_names[] = {
#define FZ_X(name, text) #name,
    ROLLNET_ERROR_LIST(FZ_X)
#undef FZ_X
};
#define FZ_NUM_ERRORS ((int)(sizeof fz_error_names / sizeof fz_error_names[0]))

static inline uint64_t fz_error_set(const char *names)
{
    uint64_t set = 0;
    for (int e = 0; e < FZ_NUM_ERRORS && e < 64; e++) {
        size_t n = strlen(fz_error_names[e]);
        for (const char *p = names; (p = strstr(p, fz_error_names[e])) != NULL; p += n) {
            bool start = p == names || p[-1] == ' ';
            bool end = p[n] == '\0' || p[n] == ' ';
            if (start && end) {
                set |= 1ull << e;
            }
        }
    }
    return set;
}

/* Errors that end a session and that a peer can cause; every call returns
 * them from then on. DISCONNECTED: a peer went (or never came) before the
 * session could start. */
#define FZ_FATAL "REFUSED EPISODE_MISMATCH FRAME_LIMIT DISCONNECTED"
/* "Skip this frame and poll again" (rollnet.h, add_local_input). */
#define FZ_SKIP "PREDICTION_LIMIT EPISODE_BARRIER LEDGER_FULL NOT_RUNNING"

/* The sets each call may return, computed once. */
static struct {
    bool ready;
    uint64_t fatal, poll, step, ok, peer_stats, dump, checksum, desync;
    uint64_t documented; /* codes rollnet_error_string knows */
    uint64_t params;     /* rollnet_param values rollnet_param_string knows */
} fz_sets;

static inline void fz_sets_init(void)
{
    if (!fz_sets.ready) {
        for (int e = 0; e < FZ_NUM_ERRORS && e < 64; e++) {
            if (strcmp(rollnet_error_string((rollnet_error)e), "unknown error") != 0) {
                fz_sets.documented |= 1ull << e;
            }
        }
        for (int p = 0; p < 64; p++) {
            if (strcmp(rollnet_param_string((rollnet_param)p), "unknown parameter") != 0) {
                fz_sets.params |= 1ull << p;
            }
        }
        fz_sets.fatal = fz_error_set(FZ_FATAL);
        fz_sets.poll = fz_error_set("OK " FZ_FATAL);
        fz_sets.step = fz_error_set("OK " FZ_SKIP " " FZ_FATAL);
        fz_sets.ok = fz_error_set("OK");
        fz_sets.peer_stats = fz_error_set("OK INVALID_PLAYER");
        fz_sets.dump = fz_error_set("OK NO_SNAPSHOT BUFFER_TOO_SMALL");
        fz_sets.checksum = fz_error_set("OK NO_SNAPSHOT");
        /* rollnet.h says NO_SNAPSHOT when there is none; core says NO_DESYNC. */
        fz_sets.desync = fz_error_set("OK NO_SNAPSHOT NO_DESYNC");
        fz_sets.ready = true;
    }
}

static inline void fz_check_result(const char *call, rollnet_error err, uint64_t allowed)
{
    bool known = (int)err >= 0 && (int)err < FZ_NUM_ERRORS && (int)err < 64 &&
                 (fz_sets.documented & (1ull << (int)err));
    FZ_CHECK(known && (allowed & (1ull << (int)err)),
             "%s returned %d (%s), not one of the results it may return", call, (int)err,
             known ? fz_error_names[err] : "undocumented");
}

/* ---- the fake transport --------------------------------------------------- */

typedef struct fz_event {
    rollnet_transport_event_type type;
    int peer;
    rollnet_channel channel;
    const uint8_t *data; /* into the input */
    size_t size;
} fz_event;

#define FZ_QUEUE 4096

typedef struct fz_transport {
    const fz_variant *variant;
    fz_event queue[FZ_QUEUE];
    int head, count;
    bool open[FZ_MAX_TP];
    uint8_t *held; /* the data of the event handed out last, exactly its size */
    rn_decoder dec; /* checks what the session sends */
    uint64_t sent, delivered, refused, send_refused;
} fz_transport;

static inline void fz_tp_release(fz_transport *t)
{
    FUZZ_OWN_BEGIN();
    free(t->held);
    FUZZ_OWN_END();
    t->held = NULL;
}

/* "mem:N" -> N, as the memnet numbers peers. */
static inline rollnet_error fz_tp_connect(void *self, const char *address, uint64_t now_ms,
                                          int *peer_out)
{
    (void)now_ms;
    (void)self;
    *peer_out = -1;
    for (int n = 1; n < FZ_MAX_NODES; n++) {
        if (address && strcmp(address, fz_addresses[n]) == 0) {
            *peer_out = n;
            return ROLLNET_ERR_OK;
        }
    }
    return ROLLNET_ERR_BAD_ADDRESS;
}

/* Block size the receiving node expects of INPUT from node 0: its players. */
static inline int fz_block_from_node0(const fz_variant *v)
{
    int n = 0;
    for (int q = 0; q < v->num_players; q++) {
        n += v->player_node[q] == 0;
    }
    return n * v->input_size;
}

/* A message to a closed connection is refused as the memnet refuses it, so
 * the session's handling of a failed send is fuzzed too. */
static inline rollnet_error fz_tp_send(void *self, int peer, rollnet_channel channel,
                                       const void *data, size_t size, uint64_t now_ms)
{
    (void)now_ms;
    fz_transport *t = self;
    FZ_CHECK(peer >= 0 && peer < FZ_MAX_TP, "send to transport peer %d, which never existed", peer);
    FZ_CHECK(channel == ROLLNET_CHANNEL_RELIABLE || channel == ROLLNET_CHANNEL_UNRELIABLE,
             "send on channel %d", (int)channel);
    FZ_CHECK(size > 0 && size <= RN_MAX_MESSAGE && data, "send of %zu bytes", size);
    rn_msg m;
    rn_decode_result r = rn_decode(&t->dec, data, size, fz_block_from_node0(t->variant), &m);
    if (r != RN_DECODE_OK) {
        /* To a spectator: WATCH carries every player's inputs. */
        int all = t->variant->num_players * t->variant->input_size;
        r = rn_decode(&t->dec, data, size, all, &m);
        FZ_CHECK(r != RN_DECODE_OK || m.type == RN_MSG_WATCH,
                 "message type %d decodes only with every player's block size", (int)m.type);
    }
    FZ_CHECK(r == RN_DECODE_OK, "the session sent a message a peer drops (decode result %d)",
             (int)r);
    /* INPUT only unreliably; READY both ways (once reliably, then repeated
     * unreliably until the sender runs); everything else reliably. */
    bool unreliable = m.type == RN_MSG_INPUT;
    FZ_CHECK(m.type == RN_MSG_READY || unreliable == (channel == ROLLNET_CHANNEL_UNRELIABLE),
             "message type %d sent on channel %d", (int)m.type, (int)channel);
    if (!t->open[peer]) {
        t->send_refused++;
        return ROLLNET_ERR_UNKNOWN_PEER;
    }
    t->sent++;
    return ROLLNET_ERR_OK;
}

static inline rollnet_error fz_tp_receive(void *self, uint64_t now_ms,
                                          rollnet_transport_event *out)
{
    (void)now_ms;
    fz_transport *t = self;
    fz_tp_release(t);
    out->type = ROLLNET_TRANSPORT_NONE;
    while (t->count > 0) {
        fz_event e = t->queue[t->head];
        t->head = (t->head + 1) % FZ_QUEUE;
        t->count--;
        bool ok;
        switch (e.type) {
        case ROLLNET_TRANSPORT_CONNECTED:
            ok = !t->open[e.peer];
            t->open[e.peer] = true;
            break;
        case ROLLNET_TRANSPORT_DISCONNECTED:
            ok = t->open[e.peer];
            t->open[e.peer] = false;
            break;
        default:
            ok = t->open[e.peer];
            break;
        }
        if (!ok) {
            t->refused++;
            continue;
        }
        memset(out, 0, sizeof(*out));
        out->type = e.type;
        out->peer = e.peer;
        out->channel = e.channel;
        if (e.type == ROLLNET_TRANSPORT_RECEIVE) {
            /* A copy of exactly the message's size: ASan sees any read past it. */
            FUZZ_OWN_BEGIN();
            t->held = malloc(e.size ? e.size : 1);
            FUZZ_OWN_END();
            if (!t->held) {
                abort();
            }
            if (e.size) {
                memcpy(t->held, e.data, e.size);
            }
            out->data = t->held;
            out->size = e.size;
        } else if (e.type == ROLLNET_TRANSPORT_PEER_BUSY) {
            out->busy_ms = (uint32_t)e.size; /* the busy ms travel in size */
        }
        t->delivered++;
        return ROLLNET_ERR_OK;
    }
    return ROLLNET_ERR_OK;
}

static inline void fz_tp_disconnect(void *self, int peer)
{
    fz_transport *t = self;
    if (peer >= 0 && peer < FZ_MAX_TP) {
        t->open[peer] = false;
    }
}

static inline void fz_tp_destroy(void *self)
{
    fz_transport *t = self;
    fz_tp_release(t);
}

static const rollnet_transport_vtable fz_tp_vtable = {
    .connect = fz_tp_connect,
    .send = fz_tp_send,
    .receive = fz_tp_receive,
    .disconnect = fz_tp_disconnect,
    .destroy = fz_tp_destroy,
};

static inline void fz_tp_push(fz_transport *t, rollnet_transport_event_type type, int peer,
                       rollnet_channel channel, const uint8_t *data, size_t size)
{
    if (t->count == FZ_QUEUE) {
        return; /* a real transport's queue is finite too */
    }
    fz_event *e = &t->queue[(t->head + t->count) % FZ_QUEUE];
    e->type = type;
    e->peer = peer;
    e->channel = channel;
    e->data = data;
    e->size = size;
    t->count++;
}

/* ---- one node: a session, the test game, bots ----------------------------- */

#define FZ_EVENT_TYPES 32

typedef struct fz_summary {
    int64_t ticks, frames, records;
    int32_t frame, confirmed_frame, episode, max_rollback_depth;
    uint64_t rollbacks, resimulated, promoted, stalls, state_hash;
    uint64_t events[FZ_EVENT_TYPES];
    uint64_t leaves; /* DISCONNECTED events naming the frame the survivors agreed on */
    rollnet_error failed;
} fz_summary;

typedef struct fz_node {
    const fz_variant *variant;
    int index;
    rollnet_session *s;
    fuzz_alloc alloc;
    long allocs_after_create;
    tg_game game;
    tg_bot bots[ROLLNET_MAX_PLAYERS];
    uint32_t local_mask;
    bool remote[ROLLNET_MAX_PLAYERS];
    uint8_t pending[ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    bool has_pending;
    /* The local inputs added, by the frame they take effect at. */
    uint8_t history[FZ_HISTORY][ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    int32_t history_end; /* frames below it hold an added input */
    bool read_records;
    int32_t next_record;
    fz_summary sum;
} fz_node;

static inline void fz_log(rollnet_log_level level, const char *message, void *user)
{
    (void)user;
    FZ_CHECK(level >= ROLLNET_LOG_DEBUG && level <= ROLLNET_LOG_ERROR, "log level %d",
             (int)level);
    FZ_CHECK(message && memchr(message, '\0', 4096) != NULL, "log message unterminated");
}

/* Create node `index`'s session from desc d (fz_desc, perhaps changed) over
 * d->transport, with a test game whose episodes last max_steps frames. */
static inline void fz_node_init_desc(fz_node *n, const fz_variant *v, int index,
                                     rollnet_session_desc *d, int32_t max_steps)
{
    fz_sets_init();
    memset(n, 0, sizeof(*n));
    n->variant = v;
    n->index = index;
    d->allocator.alloc = fuzz_alloc_fn;
    d->allocator.free = fuzz_free_fn;
    d->allocator.user_data = &n->alloc;
    d->logger.log = fz_log;
    rollnet_error err = rollnet_session_create(d, &n->s);
    FZ_CHECK(err == ROLLNET_ERR_OK, "create failed: %s", rollnet_error_string(err));
    n->allocs_after_create = n->alloc.allocs;
    if (!tg_init(&n->game, FZ_SEED, v->num_players, v->input_size, FZ_BLOB, max_steps)) {
        abort();
    }
    n->game.write_records = true;
    for (int q = 0; q < v->num_players; q++) {
        if (v->player_node[q] == index) {
            n->local_mask |= 1u << q;
        } else {
            n->remote[q] = true;
        }
        tg_bot_init(&n->bots[q], 1000u + (uint64_t)q, v->input_size);
    }
    n->read_records = true;
    n->sum.failed = ROLLNET_ERR_OK;
}

static inline void fz_node_init(fz_node *n, const fz_variant *v, int index, rollnet_transport t)
{
    rollnet_session_desc d;
    fz_desc(v, index, &d);
    d.transport = t;
    fz_node_init_desc(n, v, index, &d, v->max_steps);
}

static inline void fz_node_destroy(fz_node *n)
{
    rollnet_session_destroy(n->s);
    n->s = NULL;
    FZ_CHECK(n->alloc.frees == n->alloc.allocs, "%ld allocations, %ld frees after destroy",
             n->alloc.allocs, n->alloc.frees);
}

static inline void fz_check_player(const fz_node *n, const rollnet_event *ev, bool may_be_none)
{
    int p = ev->player;
    if (p == -1 && may_be_none) {
        return;
    }
    FZ_CHECK(p >= 0 && p < n->variant->num_players && n->remote[p],
             "event %d names player %d, not a remote player", (int)ev->type, p);
}

static inline void fz_check_event(fz_node *n, const rollnet_event *ev)
{
    int t = (int)ev->type;
    FZ_CHECK(t >= 0 && t < FZ_EVENT_TYPES, "event type %d", t);
    n->sum.events[t]++;
    switch (ev->type) {
    case ROLLNET_EVENT_SYNCHRONIZING:
        fz_check_player(n, ev, true);
        FZ_CHECK(ev->u.synchronizing.done >= 0 &&
                     ev->u.synchronizing.done <= ev->u.synchronizing.total,
                 "SYNCHRONIZING %d/%d", ev->u.synchronizing.done, ev->u.synchronizing.total);
        break;
    case ROLLNET_EVENT_SYNCHRONIZED:
        fz_check_player(n, ev, false);
        break;
    case ROLLNET_EVENT_RUNNING:
        FZ_CHECK(ev->player == -1, "RUNNING names player %d", ev->player);
        break;
    case ROLLNET_EVENT_INTERRUPTED:
    case ROLLNET_EVENT_RESUMED:
    case ROLLNET_EVENT_PEER_BUSY:
    case ROLLNET_EVENT_LOADING:
    case ROLLNET_EVENT_LOADING_ENDED:
        fz_check_player(n, ev, false);
        break;
    case ROLLNET_EVENT_RECONNECTING:
        /* Only a peer that held players loses a connection: a stranger never does. */
        fz_check_player(n, ev, false);
        FZ_CHECK(ev->u.waiting.attempt >= 0 && ev->u.waiting.missing != 0,
                 "RECONNECTING attempt %d players %u", ev->u.waiting.attempt,
                 (unsigned)ev->u.waiting.missing);
        break;
    case ROLLNET_EVENT_DISCONNECTED:
        /* -1: a connection that never claimed a player. */
        fz_check_player(n, ev, true);
        FZ_CHECK((int)ev->u.disconnected.reason >= ROLLNET_DISCONNECT_TIMEOUT &&
                     (int)ev->u.disconnected.reason <= ROLLNET_DISCONNECT_PLAYED_ON,
                 "DISCONNECTED reason %d", (int)ev->u.disconnected.reason);
        FZ_CHECK(ev->u.disconnected.frame >= -1 && ev->u.disconnected.frame <= RN_MAX_FRAME,
                 "DISCONNECTED frame %d", ev->u.disconnected.frame);
        if (ev->u.disconnected.frame >= 0) {
            n->sum.leaves++;
        }
        break;
    case ROLLNET_EVENT_REFUSED:
        fz_check_player(n, ev, true);
        FZ_CHECK((int)ev->u.refused.param >= 0 && (int)ev->u.refused.param < 64 &&
                     (fz_sets.params & (1ull << (int)ev->u.refused.param)),
                 "REFUSED names parameter %d", (int)ev->u.refused.param);
        {
            const char *key = ev->u.refused.key;
            const char *nul = memchr(key, '\0', sizeof ev->u.refused.key);
            size_t len = nul ? (size_t)(nul - key) : sizeof ev->u.refused.key;
            bool game = ev->u.refused.param == ROLLNET_PARAM_GAME_PARAMS;
            FZ_CHECK(len < sizeof ev->u.refused.key && (game ? len > 0 : len == 0),
                     "REFUSED of parameter %d with a key of %zu bytes",
                     (int)ev->u.refused.param, len);
            FZ_CHECK(!game || ((ev->u.refused.local_value | ev->u.refused.remote_value) == 1 &&
                               (ev->u.refused.local_value & ~1) == 0 &&
                               (ev->u.refused.remote_value & ~1) == 0),
                     "REFUSED of game_params with values %lld, %lld",
                     (long long)ev->u.refused.local_value, (long long)ev->u.refused.remote_value);
        }
        break;
    case ROLLNET_EVENT_DESYNC:
        fz_check_player(n, ev, true);
        FZ_CHECK(ev->u.desync.frame >= 0, "DESYNC of frame %d", ev->u.desync.frame);
        FZ_CHECK(ev->u.desync.local_checksum != ev->u.desync.remote_checksum,
                 "DESYNC with equal checksums");
        break;
    case ROLLNET_EVENT_WAIT_RECOMMENDED:
        FZ_CHECK(ev->player == -1 && ev->u.wait.frames > 0, "WAIT_RECOMMENDED of %d frames",
                 ev->u.wait.frames);
        break;
    case ROLLNET_EVENT_STALLED:
    case ROLLNET_EVENT_STALL_ENDED:
        FZ_CHECK((int)ev->u.stall.reason >= ROLLNET_STALL_PREDICTION_LIMIT &&
                     (int)ev->u.stall.reason <= ROLLNET_STALL_LEDGER_FULL &&
                     ev->u.stall.frame >= 0,
                 "stall event: reason %d frame %d", (int)ev->u.stall.reason, ev->u.stall.frame);
        break;
    case ROLLNET_EVENT_EPISODE_COMPLETE:
    case ROLLNET_EVENT_EPISODE_TIMEOUT:
        FZ_CHECK(ev->u.episode.episode >= 0 && ev->u.episode.end_frame >= -1,
                 "episode event: episode %d end %d", ev->u.episode.episode,
                 ev->u.episode.end_frame);
        break;
    default:
        /* Newer event types: a player or -1, nothing more is known here. */
        fz_check_player(n, ev, true);
        break;
    }
}

static inline void fz_drain_events(fz_node *n)
{
    rollnet_event ev;
    int guard = 0;
    while (rollnet_session_next_event(n->s, &ev)) {
        fz_check_event(n, &ev);
        FZ_CHECK(++guard <= 100000, "the event queue never empties");
    }
}

static inline void fz_check_record(fz_node *n, const rollnet_record *r)
{
    const fz_variant *v = n->variant;
    FZ_CHECK(r->frame == n->next_record, "record of frame %d, expected %d", r->frame,
             n->next_record);
    n->next_record++;
    n->sum.records++;
    int32_t m = n->game.max_steps;
    int32_t episode = m > 0 ? r->frame / m : 0;
    int32_t step = m > 0 ? r->frame % m : r->frame;
    FZ_CHECK(r->episode == episode && r->step == step &&
                 r->episode_end == (m > 0 && step == m - 1),
             "record of frame %d: episode %d step %d end %d, the frames say %d %d %d", r->frame,
             r->episode, r->step, (int)r->episode_end, episode, step,
             (int)(m > 0 && step == m - 1));
    FZ_CHECK(r->inputs && r->data && r->size > 0 && r->size <= 256, "record of %zu bytes",
             r->size);
    if (r->frame >= v->input_delay && r->frame < n->history_end &&
        r->frame >= n->history_end - FZ_HISTORY) {
        for (int q = 0; q < v->num_players; q++) {
            if (n->local_mask & (1u << q)) {
                FZ_CHECK(memcmp(r->inputs + (size_t)q * (size_t)v->input_size,
                                n->history[r->frame % FZ_HISTORY][q],
                                (size_t)v->input_size) == 0,
                         "record of frame %d: local player %d's input is not the one added",
                         r->frame, q);
            }
        }
    }
}

static inline void fz_drain_records(fz_node *n)
{
    rollnet_record r;
    while (n->read_records && rollnet_session_next_record(n->s, &r)) {
        fz_check_record(n, &r);
    }
}

static inline void fz_after_call(fz_node *n)
{
    FZ_CHECK(n->alloc.allocs == n->allocs_after_create,
             "%ld allocations through the desc's allocator after create",
             n->alloc.allocs - n->allocs_after_create);
    FZ_CHECK(n->game.frame_mismatches == 0, "a request's frame was not the game's frame");
}

static inline void fz_note_fatal(fz_node *n, rollnet_error err)
{
    if (err != ROLLNET_ERR_OK && (fz_sets.fatal & (1ull << (int)err)) &&
        n->sum.failed == ROLLNET_ERR_OK) {
        n->sum.failed = err;
    }
}

static inline void fz_poll(fz_node *n, uint64_t now)
{
    rollnet_error err = rollnet_session_poll(n->s, now);
    fz_check_result("poll", err, fz_sets.poll);
    fz_note_fatal(n, err);
    fz_drain_events(n);
    fz_after_call(n);
}

/* One frame of the game's loop. */
static inline void fz_tick(fz_node *n, uint64_t now)
{
    const fz_variant *v = n->variant;
    n->sum.ticks++;
    fz_poll(n, now);
    if (!n->has_pending) {
        for (int q = 0; q < v->num_players; q++) {
            if (n->local_mask & (1u << q)) {
                memcpy(n->pending[q], tg_bot_next(&n->bots[q]), (size_t)v->input_size);
            }
        }
        n->has_pending = true;
    }
    rollnet_session_stats st;
    FZ_CHECK(rollnet_session_stats_get(n->s, &st) == ROLLNET_ERR_OK, "stats_get failed");
    int32_t at = st.frame + v->input_delay;
    uint64_t may = fz_sets.step;
    for (int q = 0; q < v->num_players; q++) {
        if (n->local_mask & (1u << q)) {
            rollnet_error err =
                rollnet_session_add_local_input(n->s, q, n->pending[q], (size_t)v->input_size);
            fz_check_result("add_local_input", err, may);
            fz_note_fatal(n, err);
            if (err != ROLLNET_ERR_OK) {
                fz_drain_events(n);
                fz_drain_records(n);
                fz_after_call(n);
                return;
            }
        }
    }
    const rollnet_request *reqs;
    int count;
    rollnet_error err = rollnet_session_advance(n->s, &reqs, &count);
    fz_check_result("advance", err, may);
    fz_note_fatal(n, err);
    if (err == ROLLNET_ERR_OK) {
        FZ_CHECK(count >= 0 && count <= 3 * (ROLLNET_MAX_PREDICTION + 2) && (count == 0 || reqs),
                 "advance handed out %d requests", count);
        bool new_frame = false;
        for (int i = 0; i < count; i++) {
            if (reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY)) {
                new_frame = true;
            }
        }
        rollnet_error ex = tg_execute(&n->game, n->s, reqs, count);
        FZ_CHECK(ex == ROLLNET_ERR_OK, "the game's request %d of frame %d failed: %s",
                 (int)n->game.failed_type, n->game.failed_frame, rollnet_error_string(ex));
        if (new_frame) {
            n->sum.frames++;
            n->has_pending = false;
            if (at >= n->history_end) {
                for (int32_t f = n->history_end; f < at; f++) {
                    memset(n->history[f % FZ_HISTORY], 0, sizeof(n->history[0]));
                }
                for (int q = 0; q < v->num_players; q++) {
                    memcpy(n->history[at % FZ_HISTORY][q], n->pending[q], (size_t)v->input_size);
                }
                n->history_end = at + 1;
            }
        }
    }
    fz_drain_events(n);
    fz_drain_records(n);
    fz_after_call(n);
}

static inline void fz_inspect(fz_node *n)
{
    rollnet_session_stats st;
    FZ_CHECK(rollnet_session_stats_get(n->s, &st) == ROLLNET_ERR_OK, "stats_get failed");
    for (int q = 0; q < n->variant->num_players; q++) {
        rollnet_peer_stats ps;
        rollnet_error err = rollnet_session_peer_stats(n->s, q, &ps);
        fz_check_result("peer_stats", err, fz_sets.peer_stats);
    }
    char text[96];
    for (int32_t f = st.frame - 2; f <= st.frame; f++) {
        rollnet_error err = rollnet_session_snapshot_dump(n->s, f, text, sizeof text);
        fz_check_result("snapshot_dump", err, fz_sets.dump);
        FZ_CHECK(memchr(text, '\0', sizeof text) != NULL, "dump unterminated");
        uint64_t sum;
        err = rollnet_session_snapshot_checksum(n->s, f, &sum);
        fz_check_result("snapshot_checksum", err, fz_sets.checksum);
    }
    rollnet_desync_info info;
    rollnet_error err = rollnet_session_desync_info(n->s, &info);
    fz_check_result("desync_info", err, fz_sets.desync);
    fz_after_call(n);
}

static inline void fz_summarise(fz_node *n)
{
    rollnet_session_stats st;
    FZ_CHECK(rollnet_session_stats_get(n->s, &st) == ROLLNET_ERR_OK, "stats_get failed");
    n->sum.frame = st.frame;
    n->sum.confirmed_frame = st.confirmed_frame;
    n->sum.episode = st.episode;
    n->sum.rollbacks = st.rollbacks;
    n->sum.resimulated = st.frames_resimulated;
    n->sum.max_rollback_depth = st.max_rollback_depth;
    n->sum.promoted = st.records_promoted;
    n->sum.stalls = st.stalls;
    n->sum.state_hash = tg_state_hash(&n->game);
}

/* ---- one input ------------------------------------------------------------- */

typedef struct fz_run_state {
    fz_transport tp;
    fz_node node;
} fz_run_state;

/* Run one input; *out (optional) receives what the session reached. */
static inline void fz_run(const uint8_t *data, size_t size, fz_summary *out)
{
    static fz_run_state st; /* large: not on the stack */
    if (size < 1) {
        return;
    }
    const fz_variant *v = &fz_variants[data[0] % FZ_VARIANTS];
    memset(&st.tp, 0, sizeof(st.tp));
    st.tp.variant = v;
    if (rn_decoder_init(&st.tp.dec, NULL) != ROLLNET_ERR_OK) {
        abort();
    }
    rollnet_transport t = { &fz_tp_vtable, &st.tp };
    fz_node *n = &st.node;
    fz_node_init(n, v, 0, t);
    fuzz_watch_arm(true);
    uint64_t now = 1000;
    size_t i = 1;
    while (i < size) {
        uint8_t op = data[i++];
        if (op < 0x40) {
            now += op;
            fz_tick(n, now);
        } else if (op < 0x60) {
            fz_tp_push(&st.tp, op < 0x50 ? ROLLNET_TRANSPORT_CONNECTED : ROLLNET_TRANSPORT_DISCONNECTED,
                       op & 0xf, ROLLNET_CHANNEL_RELIABLE, NULL, 0);
        } else if (op < 0x80) {
            if (i >= size) {
                break;
            }
            size_t len = data[i++];
            if (len >= 0x80) {
                if (i >= size) {
                    break;
                }
                len = ((len & 0x7f) << 8) | data[i++];
            }
            if (len > size - i) {
                len = size - i;
            }
            fz_tp_push(&st.tp, ROLLNET_TRANSPORT_RECEIVE, op & 0xf,
                       (op & 0x10) ? ROLLNET_CHANNEL_UNRELIABLE : ROLLNET_CHANNEL_RELIABLE,
                       data + i, len);
            i += len;
        } else if (op < 0xc0) {
            now += ((uint64_t)(op & 0x3f) + 1) * 32;
        } else {
            switch (op) {
            case 0xc0: {
                rollnet_error err = rollnet_session_begin_loading(n->s, now);
                fz_check_result("begin_loading", err, fz_sets.ok);
                fz_after_call(n);
                break;
            }
            case 0xc1: {
                rollnet_error err = rollnet_session_end_loading(n->s, now);
                fz_check_result("end_loading", err, fz_sets.ok);
                fz_after_call(n);
                break;
            }
            case 0xc2:
                fz_poll(n, now);
                fz_drain_records(n);
                break;
            case 0xc3:
                n->read_records = !n->read_records;
                break;
            case 0xc4:
                fz_inspect(n);
                break;
            default:
                /* 0xd0 | peer, ms / 256: the transport reports the peer busy. */
                if ((op & 0xf0) == 0xd0 && i < size) {
                    fz_tp_push(&st.tp, ROLLNET_TRANSPORT_PEER_BUSY, op & 0xf,
                               ROLLNET_CHANNEL_UNRELIABLE, NULL, (size_t)data[i++] * 256u);
                }
                break;
            }
        }
    }
    fuzz_watch_disarm();
    FZ_CHECK(fuzz_watch.count == 0, "%ld mallocs by the library between create and destroy",
             (long)fuzz_watch.count);
    fz_summarise(n); /* tg_state_hash allocates */
    if (out) {
        *out = n->sum;
    }
    fz_node_destroy(n);
    rn_decoder_free(&st.tp.dec);
}

/* ---- writing inputs (the seed generator) ---------------------------------- */

typedef struct fz_buf {
    uint8_t *data;
    size_t len, cap;
} fz_buf;

static inline void fz_put(fz_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            abort();
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void fz_put_byte(fz_buf *b, uint8_t v)
{
    fz_put(b, &v, 1);
}

/* The clock moves by `ms`, then a TICK (or nothing when tick is false). */
static inline void fz_put_time(fz_buf *b, uint64_t ms, bool tick)
{
    while (ms > 63 || (!tick && ms > 0)) {
        uint64_t k = ms / 32 > 64 ? 64 : ms / 32;
        if (k == 0) {
            k = 1; /* !tick and under 32 ms: rounds up */
        }
        fz_put_byte(b, (uint8_t)(0x80 | (k - 1)));
        ms = ms > k * 32 ? ms - k * 32 : 0;
    }
    if (tick) {
        fz_put_byte(b, (uint8_t)ms);
    }
}

static inline void fz_put_event(fz_buf *b, const rollnet_transport_event *ev)
{
    if (ev->peer < 0 || ev->peer >= FZ_MAX_TP) {
        abort();
    }
    switch (ev->type) {
    case ROLLNET_TRANSPORT_CONNECTED:
        fz_put_byte(b, (uint8_t)(0x40 | ev->peer));
        break;
    case ROLLNET_TRANSPORT_DISCONNECTED:
        fz_put_byte(b, (uint8_t)(0x50 | ev->peer));
        break;
    case ROLLNET_TRANSPORT_RECEIVE:
        if (ev->size > 0x7fff) {
            abort();
        }
        fz_put_byte(b, (uint8_t)(0x60 | (ev->channel == ROLLNET_CHANNEL_UNRELIABLE ? 0x10 : 0) |
                                 ev->peer));
        if (ev->size < 0x80) {
            fz_put_byte(b, (uint8_t)ev->size);
        } else {
            fz_put_byte(b, (uint8_t)(0x80 | (ev->size >> 8)));
            fz_put_byte(b, (uint8_t)(ev->size & 0xff));
        }
        fz_put(b, ev->data, ev->size);
        break;
    case ROLLNET_TRANSPORT_PEER_BUSY:
        fz_put_byte(b, (uint8_t)(0xd0 | ev->peer));
        fz_put_byte(b, (uint8_t)(ev->busy_ms / 256u > 255u ? 255u : ev->busy_ms / 256u));
        break;
    default:
        break;
    }
}

#endif
