/*
 * What strangers can hold of an ENet transport, over real UDP sockets on
 * loopback: a CONNECT never followed up is dropped after
 * ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS, one address holds at most
 * max_peers_per_address connections, and the host keeps
 * ROLLNET_ENET_SPARE_PEERS slots beyond max_peers. Strangers come from other
 * loopback addresses (127.0.0.2 ...), as they would on a network. Every side
 * lives in this process and every wait is bounded by a deadline.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getpid */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <enet/enet.h>

#include "peer.h" /* RN_PENDING_SLOTS */
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"

/* The transport never hands a session more connections in their handshake
 * than the session keeps slots for. */
_Static_assert(ROLLNET_ENET_SPARE_PEERS == RN_PENDING_SLOTS,
               "the ENet spare slots must match the session's pending slots");

#define MAX_SIDES 12

typedef struct side {
    rollnet_transport t;
    int connected;    /* CONNECTED events seen */
    int disconnected; /* DISCONNECTED events seen */
    int last_peer;    /* peer id of the last CONNECTED */
} side;

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void side_free(side *s)
{
    if (s->t.vtable) {
        rollnet_transport_destroy(&s->t);
    }
    memset(s, 0, sizeof(*s));
}

static void side_drain(side *s)
{
    rollnet_transport_event e;
    while (s->t.vtable->receive(s->t.self, clock_ms(), &e) == ROLLNET_ERR_OK &&
           e.type != ROLLNET_TRANSPORT_NONE) {
        if (e.type == ROLLNET_TRANSPORT_CONNECTED) {
            s->connected++;
            s->last_peer = e.peer;
        } else if (e.type == ROLLNET_TRANSPORT_DISCONNECTED) {
            s->disconnected++;
        }
    }
}

typedef int (*done_fn)(void *ctx);

/* Service every side until done(ctx) or cap_ms passes; whether done() held. */
static int pump(side **sides, int count, done_fn done, void *ctx, uint32_t cap_ms)
{
    uint64_t deadline = clock_ms() + cap_ms;
    for (;;) {
        for (int i = 0; i < count; i++) {
            side_drain(sides[i]);
        }
        if (done && done(ctx)) {
            return 1;
        }
        if (clock_ms() >= deadline) {
            return 0;
        }
        for (int i = 0; i < count; i++) {
            (void)rollnet_enet_wait(&sides[i]->t, 1);
        }
    }
}

static rollnet_enet_stats stats_of(const side *s)
{
    rollnet_enet_stats st;
    assert_int_equal(rollnet_enet_stats_get(&s->t, &st), ROLLNET_ERR_OK);
    return st;
}

/* A transport listening on 127.0.0.1 at the first free port from a
 * per-process base (distinct from test_enet_transport's). */
static uint16_t listen_side(side *s, rollnet_enet_desc desc)
{
    uint16_t base = (uint16_t)(45000 + getpid() % 1000);
    desc.bind_address = "127.0.0.1";
    for (int i = 0; i < 64; i++) {
        desc.port = (uint16_t)(base + i);
        rollnet_error err = rollnet_enet_create(&desc, NULL, &s->t);
        if (err == ROLLNET_ERR_OK) {
            return desc.port;
        }
        assert_int_equal(err, ROLLNET_ERR_TRANSPORT); /* taken: try the next one */
    }
    fail_msg("no free UDP port near %u", (unsigned)base);
    return 0;
}

/* A client on `ip` (a loopback address) that connects to 127.0.0.1:port. */
static void client_connect(side *s, const char *ip, uint16_t port)
{
    rollnet_enet_desc d = {.bind_address = ip};
    assert_int_equal(rollnet_enet_create(&d, NULL, &s->t), ROLLNET_ERR_OK);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    int peer = -1;
    assert_int_equal(s->t.vtable->connect(s->t.self, addr, clock_ms(), &peer), ROLLNET_ERR_OK);
    assert_true(peer >= 0);
}

typedef struct want_connected {
    side **sides;
    int count;
    side *host;     /* ... and the host has seen host_count CONNECTED */
    int host_count;
} want_connected;

/* Every side in the list has seen a CONNECTED, and so has the host as often
 * as asked (it sees it one round trip later). */
static int all_connected(void *ctx)
{
    const want_connected *w = ctx;
    if (w->host->connected < w->host_count) {
        return 0;
    }
    for (int i = 0; i < w->count; i++) {
        if (w->sides[i]->connected == 0) {
            return 0;
        }
    }
    return 1;
}

typedef struct want_dropped {
    side *s;
    uint64_t count;
} want_dropped;

static int handshakes_dropped(void *ctx)
{
    const want_dropped *w = ctx;
    return stats_of(w->s).handshakes_dropped >= w->count;
}

/* One CONNECT from `ip` to 127.0.0.1:port, from a host that is gone before the answer. */
static void connect_and_vanish(const char *ip, uint16_t port)
{
    ENetAddress bind = {.host = ENET_HOST_ANY, .port = 0};
    assert_int_equal(enet_address_set_host_ip(&bind, ip), 0);
    ENetHost *h = enet_host_create(&bind, 1, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
    assert_non_null(h);
    ENetAddress to = {.port = port};
    assert_int_equal(enet_address_set_host_ip(&to, "127.0.0.1"), 0);
    assert_non_null(enet_host_connect(h, &to, ROLLNET_ENET_CHANNEL_LIMIT, 0));
    enet_host_flush(h);
    enet_host_destroy(h);
}

static void test_a_connect_never_followed_up_is_dropped_after_the_handshake_timeout(void **state)
{
    (void)state;
    static side a;
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});

    connect_and_vanish("127.0.0.2", port);
    uint64_t start = clock_ms();

    side *only_a[] = {&a};
    want_dropped w = {&a, 1};
    assert_true(pump(only_a, 1, handshakes_dropped, &w, ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS + 2000));
    uint64_t elapsed = clock_ms() - start;
    print_message("half-open connection dropped after %llu ms\n", (unsigned long long)elapsed);
    assert_true(elapsed >= ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS - 100);
    assert_true(elapsed <= ROLLNET_ENET_HANDSHAKE_TIMEOUT_MS + 1000);
    /* Silently: the session would never have heard of it. */
    assert_int_equal(a.connected, 0);
    assert_int_equal(a.disconnected, 0);
    assert_int_equal(stats_of(&a).handshakes_dropped, 1);
    side_free(&a);
}

static void test_half_open_connections_from_many_addresses_make_room_for_a_peer(void **state)
{
    (void)state;
    static side a, player;
    /* 1 + 8 slots; three addresses' worth of half-open connections (4 each,
     * within the per-address limit) is more than that. */
    uint16_t port = listen_side(&a, (rollnet_enet_desc){.max_peers = 1});
    static const char *const ips[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
    for (int i = 0; i < 12; i++) {
        connect_and_vanish(ips[i % 3], port);
    }
    side *only_a[] = {&a};
    (void)pump(only_a, 1, NULL, NULL, 200);
    assert_int_equal(stats_of(&a).handshakes_dropped, 12 - (1 + ROLLNET_ENET_SPARE_PEERS));

    /* Every slot is half-open: the player's CONNECT takes the oldest one's. */
    uint64_t start = clock_ms();
    client_connect(&player, "127.0.0.1", port);
    side *both[] = {&a, &player};
    side *p[] = {&player};
    want_connected w = {p, 1, &a, 1};
    assert_true(pump(both, 2, all_connected, &w, 1000));
    print_message("player connected after %llu ms\n", (unsigned long long)(clock_ms() - start));
    assert_int_equal(stats_of(&a).refused_full, 0);
    side_free(&player);
    side_free(&a);
}

static void test_one_address_holds_at_most_max_peers_per_address_connections(void **state)
{
    (void)state;
    static side a, c[4];
    uint16_t port = listen_side(&a, (rollnet_enet_desc){.max_peers_per_address = 2});
    side *all[] = {&a, &c[0], &c[1], &c[2], &c[3]};
    client_connect(&c[0], "127.0.0.2", port);
    client_connect(&c[1], "127.0.0.2", port);
    side *first[] = {&c[0], &c[1]};
    want_connected w = {first, 2, &a, 2};
    assert_true(pump(all, 3, all_connected, &w, 3000));
    assert_int_equal(a.connected, 2);

    /* A third from the same address is ignored; ENet resends its CONNECT,
     * each one counted. Another address still gets in. */
    client_connect(&c[2], "127.0.0.2", port);
    client_connect(&c[3], "127.0.0.3", port);
    side *other[] = {&c[3]};
    w = (want_connected){other, 1, &a, 3};
    assert_true(pump(all, 5, all_connected, &w, 3000));
    (void)pump(all, 5, NULL, NULL, 1200);
    assert_int_equal(c[2].connected, 0);
    assert_int_equal(a.connected, 3);
    assert_true(stats_of(&a).refused_per_address >= 2);
    assert_int_equal(stats_of(&a).refused_full, 0);
    for (int i = 0; i < 4; i++) {
        side_free(&c[i]);
    }
    side_free(&a);
}

static void test_spare_slots_let_a_player_in_while_strangers_hold_handshakes(void **state)
{
    (void)state;
    /* Room for one player's peer, and ROLLNET_ENET_SPARE_PEERS strangers
     * from two addresses holding connections they never use. */
    static side a, s[ROLLNET_ENET_SPARE_PEERS], player, late;
    uint16_t port = listen_side(&a, (rollnet_enet_desc){.max_peers = 1});
    side *all[ROLLNET_ENET_SPARE_PEERS + 3] = {&a};
    side *strangers[ROLLNET_ENET_SPARE_PEERS];
    for (int i = 0; i < ROLLNET_ENET_SPARE_PEERS; i++) {
        client_connect(&s[i], i % 2 ? "127.0.0.3" : "127.0.0.2", port);
        all[1 + i] = &s[i];
        strangers[i] = &s[i];
    }
    want_connected w = {strangers, ROLLNET_ENET_SPARE_PEERS, &a, ROLLNET_ENET_SPARE_PEERS};
    assert_true(pump(all, 1 + ROLLNET_ENET_SPARE_PEERS, all_connected, &w, 3000));

    /* The player's slot is still free. */
    client_connect(&player, "127.0.0.1", port);
    all[1 + ROLLNET_ENET_SPARE_PEERS] = &player;
    side *p[] = {&player};
    w = (want_connected){p, 1, &a, ROLLNET_ENET_SPARE_PEERS + 1};
    assert_true(pump(all, 2 + ROLLNET_ENET_SPARE_PEERS, all_connected, &w, 3000));
    assert_int_equal(a.connected, ROLLNET_ENET_SPARE_PEERS + 1);

    /* And then the host is full: one more is ignored, and counted. */
    client_connect(&late, "127.0.0.4", port);
    all[2 + ROLLNET_ENET_SPARE_PEERS] = &late;
    (void)pump(all, 3 + ROLLNET_ENET_SPARE_PEERS, NULL, NULL, 1200);
    assert_int_equal(late.connected, 0);
    assert_true(stats_of(&a).refused_full >= 1);
    for (int i = 0; i < ROLLNET_ENET_SPARE_PEERS; i++) {
        side_free(&s[i]);
    }
    side_free(&player);
    side_free(&late);
    side_free(&a);
}

static void test_stats_and_the_new_desc_fields_validate_their_arguments(void **state)
{
    (void)state;
    rollnet_transport t;
    rollnet_enet_stats st;
    assert_int_equal(rollnet_enet_create(&(rollnet_enet_desc){.max_peers_per_address = -1}, NULL, &t),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        rollnet_enet_create(&(rollnet_enet_desc){.max_peers = ROLLNET_ENET_MAX_PEERS + 1}, NULL, &t),
        ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_enet_create(&(rollnet_enet_desc){.max_peers = ROLLNET_ENET_MAX_PEERS},
                                         NULL, &t),
                     ROLLNET_ERR_OK);
    assert_int_equal(rollnet_enet_stats_get(&t, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    memset(&st, 0xab, sizeof(st));
    assert_int_equal(rollnet_enet_stats_get(&t, &st), ROLLNET_ERR_OK);
    assert_int_equal(st.refused_per_address + st.refused_full + st.handshakes_dropped +
                         st.refused_channels,
                     0);
    rollnet_transport_destroy(&t);

    rollnet_transport zero = {0};
    memset(&st, 0xab, sizeof(st));
    assert_int_equal(rollnet_enet_stats_get(&zero, &st), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(st.refused_per_address, 0);
    assert_int_equal(rollnet_enet_stats_get(NULL, &st), ROLLNET_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    /* The transports count ENet's users; this test's raw ENet host needs it too. */
    if (enet_initialize() != 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_connect_never_followed_up_is_dropped_after_the_handshake_timeout),
        cmocka_unit_test(test_half_open_connections_from_many_addresses_make_room_for_a_peer),
        cmocka_unit_test(test_one_address_holds_at_most_max_peers_per_address_connections),
        cmocka_unit_test(test_spare_slots_let_a_player_in_while_strangers_hold_handshakes),
        cmocka_unit_test(test_stats_and_the_new_desc_fields_validate_their_arguments),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    enet_deinitialize();
    return rc;
}
