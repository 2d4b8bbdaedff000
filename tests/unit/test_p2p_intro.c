/* Host introduction (core/p2p_intro.c), against peers driven by hand on the
 * memnet: what a host sends once two joiners are in, which INTROs a joiner
 * acts on, which it ignores (counted), and that an introduced connection
 * still has to pass the handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocol.h"
#include "rollnet/rollnet.h"

#define NODES 4

typedef struct bench {
    rollnet_memnet *net;
    rollnet_transport node[NODES]; /* the fakes' transports (the session's node is unused) */
    int peer_of[NODES];            /* each fake's peer id for the session's node, -1 none */
    bool connected_by_session[NODES]; /* the session dialled this fake */
    rollnet_session *s;
    int me;                        /* the session's node and player */
    uint64_t now;
    rn_decoder dec;
    int warnings;
    uint32_t asked[NODES]; /* the last INTRO_ASK each fake received, 0 none */
} bench;

static uint64_t nonce_of(int node)
{
    return 0xabc000u + (uint64_t)node;
}

static void on_log(rollnet_log_level level, const char *message, void *user_data)
{
    bench *b = user_data;
    (void)message;
    if (level == ROLLNET_LOG_WARN) {
        b->warnings++;
    }
}

/* The session at node `me` with player `me` local; `addressed` players get
 * "mem:N" (the session dials them), every other remote one NULL. */
static void bench_init(bench *b, int num_players, int me, uint32_t addressed)
{
    memset(b, 0, sizeof(*b));
    b->now = 1000;
    b->me = me;
    b->net = rollnet_memnet_create(NODES, NULL);
    assert_non_null(b->net);
    static char addr[NODES][16];
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = num_players;
    for (int q = 0; q < NODES; q++) {
        b->node[q] = rollnet_memnet_transport(b->net, q);
        b->peer_of[q] = -1;
    }
    for (int q = 0; q < num_players; q++) {
        if (q == me) {
            continue;
        }
        d.players[q].kind = ROLLNET_PLAYER_REMOTE;
        if (addressed & (1u << q)) {
            snprintf(addr[q], sizeof(addr[q]), "mem:%d", q);
            d.players[q].address = addr[q];
        }
    }
    d.players[me].kind = ROLLNET_PLAYER_LOCAL;
    d.transport = rollnet_memnet_transport(b->net, me);
    d.nonce = nonce_of(me);
    d.logger = (rollnet_logger){on_log, b};
    assert_int_equal(rollnet_session_create(&d, &b->s), ROLLNET_ERR_OK);
    assert_int_equal(rn_decoder_init(&b->dec, NULL), ROLLNET_ERR_OK);
}

static void bench_free(bench *b)
{
    rollnet_session_destroy(b->s);
    rn_decoder_free(&b->dec);
    rollnet_memnet_destroy(b->net);
}

static void send_msg(bench *b, int node, const rn_msg *m)
{
    uint8_t buf[RN_MAX_MESSAGE];
    size_t n = rn_encode(m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(b->node[node].vtable->send(b->node[node].self, b->peer_of[node],
                                                ROLLNET_CHANNEL_RELIABLE, buf, n, b->now),
                     ROLLNET_ERR_OK);
}

/* Read what reached fake `node`: remember a connection the session made,
 * and return how many INTROs arrived (the last one in *last). */
static int drain(bench *b, int node, rn_intro *last)
{
    int intros = 0;
    rollnet_transport_event ev;
    for (;;) {
        assert_int_equal(b->node[node].vtable->receive(b->node[node].self, b->now, &ev),
                         ROLLNET_ERR_OK);
        if (ev.type == ROLLNET_TRANSPORT_NONE) {
            return intros;
        }
        if (ev.type == ROLLNET_TRANSPORT_CONNECTED && ev.peer == b->me) {
            b->peer_of[node] = ev.peer;
            b->connected_by_session[node] = true;
        }
        rn_msg m;
        if (ev.type == ROLLNET_TRANSPORT_RECEIVE &&
            rn_decode(&b->dec, ev.data, ev.size, 1, &m) == RN_DECODE_OK) {
            if (m.type == RN_MSG_INTRO) {
                intros++;
                if (last) {
                    /* The address points into the datagram: keep a copy. */
                    static char kept[RN_INTRO_ADDRESS_MAX];
                    memcpy(kept, m.u.intro.address, m.u.intro.address_len);
                    *last = m.u.intro;
                    last->address = kept;
                }
            } else if (m.type == RN_MSG_INTRO_ASK) {
                assert_int_equal(m.u.intro_ask.tag, rn_nonce_tag(nonce_of(b->me)));
                b->asked[node] = m.u.intro_ask.player_mask;
            }
        }
    }
}

static void poll_session(bench *b)
{
    rollnet_session_poll(b->s, b->now);
}

/* Fake `node` (player `node`) says HELLO to the session. */
static void hello_from(bench *b, int node, int num_players)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_HELLO;
    m.u.hello.version = RN_PROTOCOL_VERSION;
    m.u.hello.nonce = nonce_of(node);
    m.u.hello.num_players = num_players;
    m.u.hello.input_size = 1;
    m.u.hello.fps = 60;
    m.u.hello.max_prediction = ROLLNET_MAX_PREDICTION;
    m.u.hello.checksum_interval = 16; /* the default */
    m.u.hello.player_mask = 1u << node;
    send_msg(b, node, &m);
}

/* Fake `node` connects to the session and completes its handshake. */
static void join_from(bench *b, int node, int num_players)
{
    char addr[16];
    snprintf(addr, sizeof(addr), "mem:%d", b->me);
    assert_int_equal(b->node[node].vtable->connect(b->node[node].self, addr, b->now,
                                                   &b->peer_of[node]),
                     ROLLNET_ERR_OK);
    assert_int_equal(b->peer_of[node], b->me);
    poll_session(b);
    drain(b, node, NULL);
    hello_from(b, node, num_players);
    poll_session(b);
}

static void intro_from(bench *b, int node, uint32_t mask, const char *address)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INTRO;
    m.u.intro.tag = rn_nonce_tag(nonce_of(node));
    m.u.intro.player_mask = mask;
    m.u.intro.address = address;
    m.u.intro.address_len = (uint32_t)strlen(address);
    send_msg(b, node, &m);
}

/* Fake `node` (a joiner that dialled the session) asks for `mask`. */
static void ask_from(bench *b, int node, uint32_t mask)
{
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INTRO_ASK;
    m.u.intro_ask.tag = rn_nonce_tag(nonce_of(node));
    m.u.intro_ask.player_mask = mask;
    send_msg(b, node, &m);
}

static bool synchronized(bench *b, int player)
{
    rollnet_peer_stats ps;
    return rollnet_session_peer_stats(b->s, player, &ps) == ROLLNET_ERR_OK && ps.synchronized;
}

static uint64_t malformed_from(bench *b, int player)
{
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(b->s, player, &ps), ROLLNET_ERR_OK);
    return ps.dropped_malformed;
}

/* ------------------------------------------------------------------------ */

static void test_a_host_introduces_two_joiners_that_asked_for_each_other_once(void **state)
{
    (void)state;
    static bench b;
    bench_init(&b, 3, 0, 0); /* the host: nobody has an address */
    poll_session(&b);
    join_from(&b, 1, 3);
    ask_from(&b, 1, 1u << 2);
    poll_session(&b);
    rn_intro got;
    assert_int_equal(drain(&b, 1, &got), 0); /* alone: nobody to introduce */
    join_from(&b, 2, 3);
    poll_session(&b);
    assert_int_equal(drain(&b, 1, &got), 0); /* player 2 has not asked for player 1 */
    assert_int_equal(drain(&b, 2, &got), 0);
    ask_from(&b, 2, 1u << 1);
    poll_session(&b);
    assert_int_equal(drain(&b, 1, &got), 1);
    assert_int_equal(got.player_mask, 1u << 2);
    assert_int_equal(got.address_len, 5);
    assert_memory_equal(got.address, "mem:2", 5);
    assert_int_equal(got.tag, rn_nonce_tag(nonce_of(0)));
    assert_int_equal(drain(&b, 2, &got), 1);
    assert_int_equal(got.player_mask, 1u << 1);
    assert_int_equal(got.address_len, 5);
    assert_memory_equal(got.address, "mem:1", 5);
    for (int k = 0; k < 5; k++) {
        b.now += 16;
        poll_session(&b);
    }
    assert_int_equal(drain(&b, 1, NULL), 0); /* once per pair */
    assert_int_equal(drain(&b, 2, NULL), 0);
    bench_free(&b);
}

/* A joiner that has the other's address dials it by itself: it does not ask,
 * and the host introduces neither (the other accepts, as configured). */
static void test_a_host_does_not_introduce_a_joiner_that_did_not_ask(void **state)
{
    (void)state;
    static bench b;
    bench_init(&b, 3, 0, 0);
    poll_session(&b);
    join_from(&b, 1, 3);
    ask_from(&b, 1, 1u << 2);
    join_from(&b, 2, 3); /* knows player 1's address: asks for nobody */
    for (int k = 0; k < 5; k++) {
        b.now += 16;
        poll_session(&b);
    }
    assert_int_equal(drain(&b, 1, NULL), 0);
    assert_int_equal(drain(&b, 2, NULL), 0);
    /* An ask naming the host's own player, or sent twice, changes nothing
     * either; the bad one is counted. */
    ask_from(&b, 2, 1u << 0);
    poll_session(&b);
    assert_int_equal(drain(&b, 1, NULL), 0);
    assert_int_equal(malformed_from(&b, 2), 1);
    bench_free(&b);
}

/* The session is player 2 of 4; it knows only the host's address (mem:0). */
static void joiner_with_host(bench *b)
{
    bench_init(b, 4, 2, 1u << 0);
    poll_session(b); /* dials the host */
    drain(b, 0, NULL);
    assert_true(b->connected_by_session[0]);
    hello_from(b, 0, 4);
    poll_session(b);
    assert_true(synchronized(b, 0));
    /* It asks its host for the players it has no address for, once. */
    drain(b, 0, NULL);
    assert_int_equal(b->asked[0], 1u << 1 | 1u << 3);
    b->asked[0] = 0;
    b->now += 16;
    poll_session(b);
    drain(b, 0, NULL);
    assert_int_equal(b->asked[0], 0);
}

static void test_a_joiner_dials_a_lower_player_its_host_introduces(void **state)
{
    (void)state;
    static bench b;
    joiner_with_host(&b);
    intro_from(&b, 0, 1u << 1, "mem:1");
    poll_session(&b);
    drain(&b, 1, NULL);
    assert_true(b.connected_by_session[1]);
    /* The INTRO admits nobody: the introduced peer is not synchronized
     * until its own HELLO matches. */
    assert_false(synchronized(&b, 1));
    hello_from(&b, 1, 4);
    poll_session(&b);
    assert_true(synchronized(&b, 1));
    bench_free(&b);
}

static void test_a_joiner_waits_for_a_higher_player_its_host_introduces(void **state)
{
    (void)state;
    static bench b;
    joiner_with_host(&b);
    intro_from(&b, 0, 1u << 3, "mem:3");
    poll_session(&b);
    drain(&b, 3, NULL);
    assert_false(b.connected_by_session[3]); /* player 3 dials us */
    assert_int_equal(malformed_from(&b, 0), 0);
    bench_free(&b);
}

/* An incoming peer (it dialled us) that completed its handshake names a
 * player we would dial: ignored, counted, logged once. */
static void test_an_intro_from_a_peer_we_did_not_dial_is_ignored(void **state)
{
    (void)state;
    static bench b;
    joiner_with_host(&b);
    assert_int_equal(b.node[3].vtable->connect(b.node[3].self, "mem:2", b.now, &b.peer_of[3]),
                     ROLLNET_ERR_OK);
    poll_session(&b);
    drain(&b, 3, NULL);
    hello_from(&b, 3, 4);
    poll_session(&b);
    assert_true(synchronized(&b, 3));
    int warnings = b.warnings;
    intro_from(&b, 3, 1u << 1, "mem:1");
    intro_from(&b, 3, 1u << 1, "mem:1");
    poll_session(&b);
    drain(&b, 1, NULL);
    assert_false(b.connected_by_session[1]);
    assert_int_equal(malformed_from(&b, 3), 2);
    assert_int_equal(b.warnings - warnings, 1); /* logged once */
    /* The host's own INTRO still works afterwards. */
    intro_from(&b, 0, 1u << 1, "mem:1");
    poll_session(&b);
    drain(&b, 1, NULL);
    assert_true(b.connected_by_session[1]);
    bench_free(&b);
}

/* A stranger (connected, no handshake) cannot introduce anybody either: its
 * INTRO does not even carry a tag the session knows. */
static void test_an_intro_from_a_stranger_is_dropped(void **state)
{
    (void)state;
    static bench b;
    joiner_with_host(&b);
    assert_int_equal(b.node[3].vtable->connect(b.node[3].self, "mem:2", b.now, &b.peer_of[3]),
                     ROLLNET_ERR_OK);
    poll_session(&b);
    drain(&b, 3, NULL);
    intro_from(&b, 3, 1u << 1, "mem:1");
    poll_session(&b);
    drain(&b, 1, NULL);
    assert_false(b.connected_by_session[1]);
    bench_free(&b);
}

/* From the host, but naming what it may not: our own player, the host's own,
 * or a player with an address of its own; or an address the transport
 * refuses. Each ignored and counted; nothing dialled. */
static void test_intros_naming_the_wrong_players_or_a_bad_address_are_ignored(void **state)
{
    (void)state;
    static bench b;
    joiner_with_host(&b);
    intro_from(&b, 0, 1u << 2, "mem:1");            /* our own player */
    intro_from(&b, 0, 1u << 0, "mem:1");            /* the host's own */
    intro_from(&b, 0, 1u << 1 | 1u << 2, "mem:1");  /* partly ours */
    intro_from(&b, 0, 1u << 1, "mem:9");            /* no such node */
    intro_from(&b, 0, 1u << 1, "1.2.3.4:5");        /* not a memnet address */
    poll_session(&b);
    drain(&b, 1, NULL);
    assert_false(b.connected_by_session[1]);
    assert_int_equal(malformed_from(&b, 0), 5);
    assert_true(synchronized(&b, 0)); /* the host is still a peer */
    bench_free(&b);
}

/* A joiner given every address (no player open to introductions) takes an
 * INTRO of a known player as news it does not need: not counted. */
static void test_an_intro_of_a_player_with_an_address_is_not_needed(void **state)
{
    (void)state;
    static bench b;
    bench_init(&b, 3, 2, 1u << 0 | 1u << 1);
    poll_session(&b);
    drain(&b, 0, NULL);
    drain(&b, 1, NULL);
    hello_from(&b, 0, 3);
    poll_session(&b);
    drain(&b, 0, NULL);
    assert_int_equal(b.asked[0], 0); /* nothing to ask for */
    intro_from(&b, 0, 1u << 1, "mem:3");
    poll_session(&b);
    assert_int_equal(malformed_from(&b, 0), 0);
    drain(&b, 3, NULL);
    assert_false(b.connected_by_session[3]);
    bench_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_host_introduces_two_joiners_that_asked_for_each_other_once),
        cmocka_unit_test(test_a_host_does_not_introduce_a_joiner_that_did_not_ask),
        cmocka_unit_test(test_a_joiner_dials_a_lower_player_its_host_introduces),
        cmocka_unit_test(test_a_joiner_waits_for_a_higher_player_its_host_introduces),
        cmocka_unit_test(test_an_intro_from_a_peer_we_did_not_dial_is_ignored),
        cmocka_unit_test(test_an_intro_from_a_stranger_is_dropped),
        cmocka_unit_test(test_intros_naming_the_wrong_players_or_a_bad_address_are_ignored),
        cmocka_unit_test(test_an_intro_of_a_player_with_an_address_is_not_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
