/* Strangers: memnet endpoints outside the session that connect to a peer
 * and stay silent, send garbage, or send well-formed messages with wrong
 * parameters, wrong tags or out-of-range fields. Well-formed HELLOs come
 * from the library's own encoder (core/protocol.h) so they stay well-formed
 * when the protocol changes; the rest is written with the public msgpack
 * writer (rollnet_writer_open). In a private scenario the HELLO and RESUME
 * strangers speak as keys.c says: keyed HELLOs and AUTHs, RESUME claims. */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "simint.h"

void sim_stranger_init(sim_stranger *st, const sim_fault *f, int node, uint64_t seed)
{
    memset(st, 0, sizeof(*st));
    st->kind = f->stranger;
    st->node = node;
    st->target = f->b;
    st->rng = seed * 0xD1B54A32D192ED03ull + (uint64_t)node * 7919u + 17u;
    st->tp = -1;
}

typedef struct msg_buf {
    uint8_t storage[512] __attribute__((aligned(16)));
    uint8_t data[1400];
    rollnet_writer *w;
} msg_buf;

static void buf_open(msg_buf *b)
{
    if (rollnet_writer_storage_size() > sizeof(b->storage)) {
        abort(); /* the writer grew: enlarge storage */
    }
    b->w = rollnet_writer_open(b->storage, b->data, sizeof(b->data));
}

void sim_stranger_send(sim_stranger *st, sim_world *w, const uint8_t *data, size_t size,
                       rollnet_channel ch)
{
    rollnet_transport t = rollnet_memnet_transport(w->net, st->node);
    uint64_t now = harness_clock_now(&w->clock);
    if (t.vtable->send(t.self, st->tp, ch, data, size, now) == ROLLNET_ERR_OK) {
        st->sent++;
    }
}

static void send_garbage(sim_stranger *st, sim_world *w)
{
    uint8_t data[300];
    size_t size = 1 + sim_below(&st->rng, sizeof(data));
    for (size_t i = 0; i < size; i++) {
        data[i] = (uint8_t)sim_rand(&st->rng);
    }
    if (sim_below(&st->rng, 2)) {
        /* Look like a message: an array header and a known type. */
        data[0] = (uint8_t)(0x90 | sim_below(&st->rng, 16));
        if (size > 1) {
            data[1] = (uint8_t)(1 + sim_below(&st->rng, 6));
        }
    }
    sim_stranger_send(st, w, data, size, sim_below(&st->rng, 2) ? ROLLNET_CHANNEL_RELIABLE
                                                         : ROLLNET_CHANNEL_UNRELIABLE);
}

/* The target's HELLO as a peer would send it, then one parameter changed. */
static void send_wrong_hello(sim_stranger *st, sim_world *w)
{
    const sim_scenario *sc = w->sc;
    rn_msg m;
    sim_scenario_hello(sc, sim_rand(&st->rng), &m);
    rn_hello *h = &m.u.hello;
    /* A player the target accepts from below, or any. */
    h->player_mask = st->target > 0 ? 1u << sim_below(&st->rng, (uint32_t)st->target)
                                    : 1u << sim_below(&st->rng, (uint32_t)sc->peers);
    /* Rules the target does not play by (it has none). */
    static const uint8_t rules[] = { 0x81, 0xa3, 'm', 'a', 'p', 0x07 };
    switch (sim_below(&st->rng, 9)) {
    case 7:
        h->game_params = rules;
        h->game_params_size = sizeof(rules);
        break;
    case 0: h->num_players = sc->peers == 2 ? 3 : 2; break;
    case 1: h->input_size = sc->input_size + 1; break;
    /* (input_delay is each peer's own: another one is no mismatch) */
    case 2: h->checksum_interval = sc->checksum_interval == 1 ? 2 : 1; break;
    case 3: h->fps = 30; break;
    case 4: h->max_prediction = sc->prediction == 1 ? 2 : sc->prediction - 1; break;
    case 5: h->game_id = SIM_GAME_ID + 1; break;
    case 6: h->seed = sc->seed + 1; break;
    default: h->player_mask = 1u << st->target; break; /* claims the target's own player */
    }
    uint8_t out[RN_MAX_MESSAGE];
    size_t n = rn_encode(&m, 0, out, sizeof(out));
    if (n > 0) {
        sim_stranger_send(st, w, out, n, ROLLNET_CHANNEL_RELIABLE);
    }
}

/* A HELLO-shaped array with fields out of range, game parameters that are
 * not a map, or one element too many/few. */
static void send_range_hello(sim_stranger *st, sim_world *w)
{
    static const int64_t odd[] = {0, -1, 1000, 65, 33, 5000, INT32_MAX, -2147483647 - 1};
    static const uint8_t not_a_map[] = {0x82, 0xa1, 'a', 0x01}; /* announces a pair it lacks */
    msg_buf b;
    buf_open(&b);
    uint32_t elements = 13;
    uint32_t which = sim_below(&st->rng, 15);
    if (which == 13) {
        elements = 12;
    } else if (which == 14) {
        elements = 14;
    }
    rollnet_write_array(b.w, elements);
    rollnet_write_int(b.w, 1);
    for (uint32_t i = 1; i < elements; i++) {
        if (i == 12) { /* game_params: none, or not a map when it is the odd one */
            rollnet_write_bin(b.w, not_a_map, which == 12 ? sizeof(not_a_map) : 0);
            continue;
        }
        int64_t v = i == 1 ? RN_PROTOCOL_VERSION : i == 3 ? w->sc->peers : 1;
        if (i == which) {
            v = odd[sim_below(&st->rng, sizeof(odd) / sizeof(odd[0]))];
        }
        if (i == 11 && i == which) {
            v = (int64_t)(0xFFFFFFFFu << sim_below(&st->rng, 8)); /* players that do not exist */
        }
        rollnet_write_int(b.w, v);
    }
    sim_stranger_send(st, w, b.data, rollnet_writer_length(b.w), ROLLNET_CHANNEL_RELIABLE);
}

/* INPUT, CHECKSUM, LOADING, LEAVE or REFUSE, well-formed but with a tag it
 * cannot know and fields that may be out of range. */
static void send_wire(sim_stranger *st, sim_world *w)
{
    msg_buf b;
    buf_open(&b);
    int64_t big = sim_below(&st->rng, 2) ? (int64_t)sim_below(&st->rng, 100000) : -5;
    uint8_t bin[16];
    for (size_t i = 0; i < sizeof(bin); i++) {
        bin[i] = (uint8_t)sim_rand(&st->rng);
    }
    uint32_t type = 2 + sim_below(&st->rng, 5);
    rollnet_channel ch = ROLLNET_CHANNEL_RELIABLE;
    rollnet_write_array(b.w, type == 3 ? 7 : type == 6 ? 6 : 5);
    rollnet_write_int(b.w, type);
    switch (type) {
    case 2: /* REFUSE: param, local_value, remote_value, key */
        rollnet_write_int(b.w, sim_below(&st->rng, 13));
        rollnet_write_int(b.w, big);
        rollnet_write_int(b.w, 1);
        rollnet_write_str(b.w, "map", sim_below(&st->rng, 4));
        break;
    case 3: /* INPUT: tag, episode, ack, start - ack, advantage, inputs */
        rollnet_write_uint(b.w, sim_below(&st->rng, 65536));
        rollnet_write_int(b.w, sim_below(&st->rng, 3));
        rollnet_write_int(b.w, big);
        rollnet_write_int(b.w, sim_below(&st->rng, 4));
        rollnet_write_int(b.w, (int64_t)sim_below(&st->rng, 256) - 128);
        rollnet_write_bin(b.w, bin, 1 + sim_below(&st->rng, sizeof(bin)));
        ch = ROLLNET_CHANNEL_UNRELIABLE;
        break;
    case 4: /* CHECKSUM: tag, episode, frame, checksum */
        rollnet_write_uint(b.w, sim_below(&st->rng, 65536));
        rollnet_write_int(b.w, 0);
        rollnet_write_int(b.w, big);
        rollnet_write_uint(b.w, sim_rand(&st->rng));
        break;
    case 5: /* LOADING: tag, loading, grace, frame */
        rollnet_write_uint(b.w, sim_below(&st->rng, 65536));
        rollnet_write_bool(b.w, sim_below(&st->rng, 2) != 0);
        rollnet_write_uint(b.w, 60000);
        rollnet_write_int(b.w, big);
        break;
    default: /* LEAVE: tag, player_mask, last_frame, count, data */
        rollnet_write_uint(b.w, sim_below(&st->rng, 65536));
        rollnet_write_uint(b.w, 1u << sim_below(&st->rng, (uint32_t)w->sc->peers));
        rollnet_write_int(b.w, big);
        rollnet_write_int(b.w, sim_below(&st->rng, 4));
        rollnet_write_bin(b.w, bin, sim_below(&st->rng, sizeof(bin)));
        break;
    }
    sim_stranger_send(st, w, b.data, rollnet_writer_length(b.w), ch);
}

static void drain(sim_stranger *st, sim_world *w)
{
    rollnet_transport t = rollnet_memnet_transport(w->net, st->node);
    rollnet_transport_event ev;
    uint64_t now = harness_clock_now(&w->clock);
    while (t.vtable->receive(t.self, now, &ev) == ROLLNET_ERR_OK &&
           ev.type != ROLLNET_TRANSPORT_NONE) {
        if (ev.type == ROLLNET_TRANSPORT_DISCONNECTED && ev.peer == st->tp) {
            st->connected = false;
            st->done = true;
            sim_keys_ended(st, w, true);
        } else if (ev.type == ROLLNET_TRANSPORT_RECEIVE && ev.peer == st->tp && w->sc->key[0]) {
            sim_keys_heard(st, w, ev.data, ev.size);
        }
    }
}

static void talk(sim_stranger *st, sim_world *w, const sim_fault *f, uint32_t t_ms)
{
    if (t_ms < st->next_send_ms) {
        return;
    }
    bool keyed = w->sc->key[0] && sim_keys_talk(st, w, f);
    switch (keyed ? SIM_STRANGER_KINDS : st->kind) {
    case SIM_STRANGER_KINDS: break; /* keys.c spoke */
    case SIM_STRANGER_GARBAGE: send_garbage(st, w); break;
    case SIM_STRANGER_HELLO: send_wrong_hello(st, w); break;
    case SIM_STRANGER_RANGE: send_range_hello(st, w); break;
    case SIM_STRANGER_WIRE: send_wire(st, w); break;
    default: return;
    }
    /* HELLOs rarely (a peer sends one); the rest often. */
    bool hello = st->kind == SIM_STRANGER_HELLO || st->kind == SIM_STRANGER_RANGE ||
                 st->kind == SIM_STRANGER_RESUME;
    st->next_send_ms = t_ms + (hello ? 400 + sim_below(&st->rng, 1200) : 20 + sim_below(&st->rng, 200));
}

void sim_stranger_tick(sim_stranger *st, sim_world *w, const sim_fault *f, uint32_t t_ms)
{
    if (st->done || t_ms < f->at_ms) {
        return;
    }
    rollnet_transport t = rollnet_memnet_transport(w->net, st->node);
    if (!st->connected) {
        char addr[16];
        snprintf(addr, sizeof(addr), "mem:%d", st->target);
        st->connected = t.vtable->connect(t.self, addr, harness_clock_now(&w->clock), &st->tp) ==
                        ROLLNET_ERR_OK;
        st->done = !st->connected;
        st->next_send_ms = t_ms;
        return; /* it speaks once the target has seen the connection */
    }
    drain(st, w);
    if (st->done) {
        return;
    }
    if (f->for_ms && t_ms >= f->at_ms + f->for_ms) {
        t.vtable->disconnect(t.self, st->tp);
        st->connected = false;
        st->done = true;
        sim_keys_ended(st, w, false);
        return;
    }
    talk(st, w, f, t_ms);
}
