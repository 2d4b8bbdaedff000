/* Strangers: connections that never claim a player of the session (invariant
 * 9). A host waiting for its joiner and a running session are attacked by
 * extra memnet nodes that connect and stay silent, send garbage, send HELLOs
 * with other parameters or out-of-range fields, or a REFUSE; more of them at
 * once than the session has spare slots. None of it may reach the game as an
 * event, hold a player's slot, or keep the real joiner out. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <msgpack.h>

#include "peer.h" /* RN_PENDING_SLOTS */
#include "protocol.h"

#define STRANGERS 12 /* more than RN_PENDING_SLOTS */
#define NODES (2 + STRANGERS)

typedef struct strangers {
    rollnet_memnet *net;
    harness_clock clock;
    rollnet_session *s[2];
    tg_game g[2];
    harness_peer hp[2];
    rollnet_transport t[NODES]; /* the strangers' raw memnet transports */
    bool joiner_started;
} strangers;

static void open_node(strangers *x, int i)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[i].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1 - i].kind = ROLLNET_PLAYER_REMOTE;
    if (i == 0) {
        d.players[1].address = "mem:1";
    }
    d.nonce = 0x500u + (uint64_t)i;
    d.transport = rollnet_memnet_transport(x->net, i);
    assert_int_equal(rollnet_session_create(&d, &x->s[i]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x->g[i], 3, 2, 1, 0, 0));
    harness_peer_init(&x->hp[i], x->s[i], &x->g[i], &d, 21 + (uint64_t)i);
}

static void send_hello(strangers *x, int node, int fps, uint32_t mask)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_HELLO;
    m.u.hello = (rn_hello){.version = RN_PROTOCOL_VERSION, .nonce = 7, .num_players = 2,
                           .input_size = 1, .fps = fps, .max_prediction = ROLLNET_MAX_PREDICTION,
                           .checksum_interval = 16, .player_mask = mask};
    uint8_t buf[RN_MAX_MESSAGE];
    size_t n = rn_encode(&m, 0, buf, sizeof(buf));
    assert_true(n > 0);
    x->t[node].vtable->send(x->t[node].self, 1, ROLLNET_CHANNEL_RELIABLE, buf, n, 0);
}

/* What stranger `k` does on this tick of its life. */
static void act(strangers *x, int k, int age)
{
    int node = 2 + k;
    rollnet_transport *t = &x->t[node];
    uint64_t now = harness_clock_now(&x->clock);
    if (age == 0) {
        int peer = -1;
        assert_int_equal(t->vtable->connect(t->self, "mem:1", now, &peer), ROLLNET_ERR_OK);
        assert_int_equal(peer, 1);
        return;
    }
    static const uint8_t garbage[] = {0x97, 0x03, 0xff, 0x00, 0xc1, 0x42};
    static const uint8_t refuse[] = {0x94, 0x02, 0x01, 0x01, 0x02};
    switch (k % 5) {
    case 0: /* silent */
        break;
    case 1:
        t->vtable->send(t->self, 1, (rollnet_channel)(age % 2), garbage, sizeof garbage, now);
        break;
    case 2:
        if (age == 1) {
            send_hello(x, node, 30, 1u << 0); /* other parameters */
        }
        break;
    case 3:
        if (age == 1) {
            send_hello(x, node, 60, 1u << 3); /* a player the session does not have */
        }
        break;
    case 4:
        t->vtable->send(t->self, 1, ROLLNET_CHANNEL_RELIABLE, refuse, sizeof refuse, now);
        break;
    }
    rollnet_transport_event ev;
    do {
        assert_int_equal(t->vtable->receive(t->self, now, &ev), ROLLNET_ERR_OK);
    } while (ev.type != ROLLNET_TRANSPORT_NONE);
}

static void tick(strangers *x, int i)
{
    rollnet_error err = harness_tick(&x->hp[i], harness_clock_now(&x->clock));
    assert_true(err == ROLLNET_ERR_OK || harness_is_skip(err));
}

/* Events a host may see: its joiner's, and the session's own. */
static void assert_no_stranger_event(const harness_peer *hp)
{
    assert_int_equal(hp->event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(hp->event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(hp->event_counts[ROLLNET_EVENT_SYNCHRONIZING], 1); /* the joiner, once its HELLO matched */
    assert_int_equal(hp->event_counts[ROLLNET_EVENT_SYNCHRONIZED], 1);
    assert_int_equal(hp->last_event[ROLLNET_EVENT_SYNCHRONIZED].player, 0);
}

static void run(bool attack_while_running)
{
    strangers *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->net = rollnet_memnet_create(NODES, NULL);
    assert_non_null(x->net);
    harness_clock_init(&x->clock, 1000, 60);
    for (int n = 2; n < NODES; n++) {
        x->t[n] = rollnet_memnet_transport(x->net, n);
    }
    open_node(x, 1); /* the host waits */
    int start = attack_while_running ? 200 : 0;
    int joined_at = -1;
    for (int t = 0; t < 700; t++) {
        for (int k = 0; k < STRANGERS; k++) {
            int born = start + k * 3; /* a new stranger every few frames */
            if (t >= born) {
                act(x, k, t - born);
            }
        }
        if (t == (attack_while_running ? 0 : 40)) {
            open_node(x, 0); /* the real joiner, in the middle of the crowd */
            x->joiner_started = true;
        }
        tick(x, 1);
        if (x->joiner_started) {
            tick(x, 0);
            rollnet_session_stats st;
            rollnet_session_stats_get(x->s[1], &st);
            if (joined_at < 0 && st.running) {
                joined_at = t;
            }
        }
        harness_clock_tick(&x->clock);
    }
    assert_true(joined_at >= 0);
    assert_true(joined_at < (attack_while_running ? 20 : 40 + 20)); /* within a third of a second */
    rollnet_session_stats st;
    rollnet_session_stats_get(x->s[1], &st);
    assert_true(st.running);
    assert_true(st.confirmed_frame > 500);
    /* Every stranger was refused (HELLO) or dropped (silent, garbage, REFUSE). */
    assert_int_equal(st.handshakes_refused, 2 * STRANGERS / 5 + (STRANGERS % 5 > 2) +
                                                (STRANGERS % 5 > 3));
    assert_true(st.handshakes_dropped >= STRANGERS - st.handshakes_refused - RN_PENDING_SLOTS);
    assert_no_stranger_event(&x->hp[1]);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x->hp[i].event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
        rollnet_session_destroy(x->s[i]);
    }
    rollnet_memnet_destroy(x->net);
    free(x);
}

/* Regression: strangers dropped at their pending timeout kept their slot
 * (the transport need not confirm a close), so once every slot had held one,
 * the real joiner was turned away. Every slot is used here, then freed. */
static void test_slots_of_dropped_strangers_are_free_again(void **state)
{
    (void)state;
    strangers *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->net = rollnet_memnet_create(NODES, NULL);
    assert_non_null(x->net);
    harness_clock_init(&x->clock, 1000, 60);
    open_node(x, 1);
    for (int n = 2; n < NODES; n++) {
        x->t[n] = rollnet_memnet_transport(x->net, n);
        int peer = -1;
        assert_int_equal(x->t[n].vtable->connect(x->t[n].self, "mem:1", 1000, &peer),
                         ROLLNET_ERR_OK);
        assert_int_equal(peer, 1);
    }
    for (int t = 0; t < 240; t++) { /* 4 s: every one is dropped, silently */
        tick(x, 1);
        harness_clock_tick(&x->clock);
    }
    rollnet_session_stats st;
    rollnet_session_stats_get(x->s[1], &st);
    assert_int_equal(st.handshakes_dropped, STRANGERS);
    open_node(x, 0);
    int joined_at = -1;
    for (int t = 0; t < 120 && joined_at < 0; t++) {
        tick(x, 1);
        tick(x, 0);
        rollnet_session_stats_get(x->s[1], &st);
        joined_at = st.running ? t : -1;
        harness_clock_tick(&x->clock);
    }
    assert_true(joined_at >= 0 && joined_at < 20);
    assert_no_stranger_event(&x->hp[1]);
    for (int i = 0; i < 2; i++) {
        rollnet_session_destroy(x->s[i]);
    }
    rollnet_memnet_destroy(x->net);
    free(x);
}

/* A peer of an older rollnet (version 9's HELLO: 14 elements, no rejoin
 * flag) is told why: a REFUSE naming the protocol version, which every
 * version since 2 reads, instead of silence until its handshake times out.
 * The host's game hears nothing of it. */
static void test_an_older_rollnet_is_refused_naming_the_protocol_version(void **state)
{
    (void)state;
    strangers *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->net = rollnet_memnet_create(NODES, NULL);
    harness_clock_init(&x->clock, 1000, 60);
    open_node(x, 1);
    x->t[2] = rollnet_memnet_transport(x->net, 2);
    int peer = -1;
    assert_int_equal(x->t[2].vtable->connect(x->t[2].self, "mem:1", 1000, &peer), ROLLNET_ERR_OK);
    tick(x, 1);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 14);
    msgpack_pack_uint8(&pk, RN_MSG_HELLO);
    msgpack_pack_uint32(&pk, 9);
    msgpack_pack_uint64(&pk, 77);
    for (int k = 0; k < 6; k++) {
        msgpack_pack_int32(&pk, k == 0 ? 2 : 1);
    }
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_uint32(&pk, 1);
    msgpack_pack_bin(&pk, 0);
    msgpack_pack_false(&pk);
    x->t[2].vtable->send(x->t[2].self, 1, ROLLNET_CHANNEL_RELIABLE, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
    bool told = false;
    rn_decoder dec;
    assert_int_equal(rn_decoder_init(&dec, NULL), ROLLNET_ERR_OK);
    for (int t = 0; t < 60 && !told; t++) {
        tick(x, 1);
        harness_clock_tick(&x->clock);
        rollnet_transport_event ev;
        do {
            assert_int_equal(x->t[2].vtable->receive(x->t[2].self, harness_clock_now(&x->clock), &ev),
                             ROLLNET_ERR_OK);
            rn_msg m;
            if (ev.type == ROLLNET_TRANSPORT_RECEIVE &&
                rn_decode(&dec, ev.data, ev.size, 0, &m) == RN_DECODE_OK && m.type == RN_MSG_REFUSE) {
                told = m.u.refuse.param == ROLLNET_PARAM_PROTOCOL_VERSION &&
                       m.u.refuse.local_value == RN_PROTOCOL_VERSION && m.u.refuse.remote_value == 9;
            }
        } while (ev.type != ROLLNET_TRANSPORT_NONE);
    }
    rn_decoder_free(&dec);
    assert_true(told);
    rollnet_session_stats st;
    rollnet_session_stats_get(x->s[1], &st);
    assert_int_equal(st.handshakes_refused, 1);
    assert_int_equal(x->hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0);
    rollnet_session_destroy(x->s[1]);
    rollnet_memnet_destroy(x->net);
    free(x);
}

static void test_strangers_never_keep_a_waiting_host_from_its_joiner(void **state)
{
    (void)state;
    run(false);
}

static void test_strangers_never_disturb_a_running_session(void **state)
{
    (void)state;
    run(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strangers_never_keep_a_waiting_host_from_its_joiner),
        cmocka_unit_test(test_strangers_never_disturb_a_running_session),
        cmocka_unit_test(test_an_older_rollnet_is_refused_naming_the_protocol_version),
        cmocka_unit_test(test_slots_of_dropped_strangers_are_free_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
