/*
 * The ENet transport over real UDP sockets on 127.0.0.1. Both ends live in
 * this process and are serviced in turn; every wait is bounded by a deadline
 * of a few seconds and blocks only in rollnet_enet_wait (ENet's socket wait).
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

#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"

#define MAX_EVENTS 512
#define BIG_MESSAGE (64 * 1024)
#define HUGE_MESSAGE (256 * 1024)

typedef struct logged_event {
    rollnet_transport_event_type type;
    int peer;
    rollnet_channel channel;
    size_t size;
    uint8_t *data; /* copy: the transport's bytes live only until its next receive */
} logged_event;

typedef struct side {
    rollnet_transport t;
    logged_event ev[MAX_EVENTS];
    int n;
    int dropped; /* events past MAX_EVENTS; a test that sees any has failed */
} side;

/* Run with --service-thread: every listening and client side gets a service
 * thread; the transport's contract is the same. */
static bool threaded;

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void destroy_transport(rollnet_transport *t)
{
    if (t->vtable && t->vtable->destroy) {
        t->vtable->destroy(t->self);
    }
    memset(t, 0, sizeof(*t));
}

static void side_free(side *s)
{
    destroy_transport(&s->t);
    for (int i = 0; i < s->n; i++) {
        free(s->ev[i].data);
    }
    s->n = 0;
}

static void side_drain(side *s)
{
    rollnet_transport_event e;
    while (s->t.vtable->receive(s->t.self, clock_ms(), &e) == ROLLNET_ERR_OK &&
           e.type != ROLLNET_TRANSPORT_NONE) {
        if (s->n == MAX_EVENTS) {
            s->dropped++;
            continue;
        }
        logged_event *l = &s->ev[s->n++];
        l->type = e.type;
        l->peer = e.peer;
        l->channel = e.channel;
        l->size = e.size;
        l->data = NULL;
        if (e.type == ROLLNET_TRANSPORT_RECEIVE) {
            l->data = malloc(e.size ? e.size : 1);
            assert_non_null(l->data);
            if (e.size) {
                memcpy(l->data, e.data, e.size);
            }
        }
    }
}

typedef int (*done_fn)(void *ctx);

/* Service every side in `sides` until done(ctx) or cap_ms passes. Returns
 * whether done() became true. */
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

static int count_events(const side *s, rollnet_transport_event_type type, int peer)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->ev[i].type == type && (peer < 0 || s->ev[i].peer == peer)) {
            n++;
        }
    }
    return n;
}

typedef struct want {
    side *s;
    rollnet_transport_event_type type;
    int peer; /* -1 = any */
    int count;
} want;

static int want_done(void *ctx)
{
    const want *w = ctx;
    return count_events(w->s, w->type, w->peer) >= w->count;
}

typedef struct want_pair {
    want a, b;
} want_pair;

static int want_pair_done(void *ctx)
{
    want_pair *w = ctx;
    return want_done(&w->a) && want_done(&w->b);
}

typedef struct drained {
    side *s;
    int peer;
} drained;

/* Every message to the peer was sent and acknowledged. */
static int drained_done(void *ctx)
{
    const drained *d = ctx;
    rollnet_transport_peer_info info;
    return d->s->t.vtable->peer_info(d->s->t.self, d->peer, &info) == ROLLNET_ERR_OK &&
           info.send_queue == 0;
}

static uint16_t base_port(void)
{
    return (uint16_t)(47000 + getpid() % 1000);
}

/* A transport listening on 127.0.0.1 at the first free port from base_port(). */
static uint16_t listen_side(side *s, rollnet_enet_desc desc)
{
    desc.bind_address = "127.0.0.1";
    desc.service_thread = threaded;
    for (int i = 0; i < 64; i++) {
        desc.port = (uint16_t)(base_port() + i);
        rollnet_error err = rollnet_enet_create(&desc, NULL, &s->t);
        if (err == ROLLNET_ERR_OK) {
            return desc.port;
        }
        assert_int_equal(err, ROLLNET_ERR_TRANSPORT); /* taken: try the next one */
    }
    fail_msg("no free UDP port near %u", (unsigned)base_port());
    return 0;
}

/* A client without a service thread, whatever the run: one that falls
 * silent when it is not serviced. */
static void silent_side(side *s, rollnet_enet_desc desc)
{
    desc.bind_address = "127.0.0.1";
    assert_int_equal(rollnet_enet_create(&desc, NULL, &s->t), ROLLNET_ERR_OK);
}

static void client_side(side *s, rollnet_enet_desc desc)
{
    desc.bind_address = "127.0.0.1";
    desc.service_thread = threaded;
    assert_int_equal(rollnet_enet_create(&desc, NULL, &s->t), ROLLNET_ERR_OK);
}

/* The new peer id, or -1 (connect's error must then say so). */
static int connect_to(side *s, uint16_t port)
{
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    int peer = 12345;
    rollnet_error err = s->t.vtable->connect(s->t.self, addr, clock_ms(), &peer);
    assert_true((err == ROLLNET_ERR_OK) == (peer >= 0));
    return peer;
}

/* B connects to listening A; returns each side's id for the other. */
static void connect_pair(side *a, side *b, uint16_t port, int *a_peer_of_b, int *b_peer_of_a)
{
    int id = connect_to(b, port);
    assert_true(id >= 0);
    int before_a = count_events(a, ROLLNET_TRANSPORT_CONNECTED, -1);
    want_pair w = {
        .a = {a, ROLLNET_TRANSPORT_CONNECTED, -1, before_a + 1},
        .b = {b, ROLLNET_TRANSPORT_CONNECTED, id, 1},
    };
    side *both[] = {a, b};
    assert_true(pump(both, 2, want_pair_done, &w, 3000));
    int found = -1;
    for (int i = a->n - 1; i >= 0; i--) {
        if (a->ev[i].type == ROLLNET_TRANSPORT_CONNECTED) {
            found = a->ev[i].peer;
            break;
        }
    }
    assert_true(found >= 0);
    *a_peer_of_b = found;
    *b_peer_of_a = id;
}

static rollnet_error send_msg(side *s, int peer, rollnet_channel ch, const void *data, size_t size)
{
    return s->t.vtable->send(s->t.self, peer, ch, data, size, clock_ms());
}

/* Reliable traffic from `from` until every message is acknowledged: ENet's
 * RTT estimate (and so its resend timer) then reflects the loopback link. */
static void settle(side *from, side *to, int peer)
{
    for (int i = 0; i < 50; i++) {
        uint8_t msg[16] = {(uint8_t)i};
        assert_int_equal(send_msg(from, peer, ROLLNET_CHANNEL_RELIABLE, msg, sizeof(msg)), 0);
    }
    drained d = {from, peer};
    side *both[] = {from, to};
    assert_true(pump(both, 2, drained_done, &d, 3000));
}

static void fill_pattern(uint8_t *buf, size_t size, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}

/* ------------------------------------------------------------------------ */

static void test_connect_is_seen_on_both_sides_with_the_returned_peer_id(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    assert_int_equal(rollnet_enet_port(&a.t), port);
    /* port 0: bound at create to a port the OS chose, different from A's */
    assert_true(rollnet_enet_port(&b.t) != 0);
    assert_true(rollnet_enet_port(&b.t) != port);

    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);
    assert_true(a_b >= 0 && a_b < ROLLNET_MAX_PLAYERS);
    assert_int_equal(count_events(&a, ROLLNET_TRANSPORT_CONNECTED, -1), 1);
    assert_int_equal(count_events(&b, ROLLNET_TRANSPORT_CONNECTED, -1), 1);
    assert_int_equal(b.ev[0].peer, b_a);
    side_free(&a);
    side_free(&b);
}

static void test_reliable_messages_arrive_in_order_and_intact_including_64k(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);

    /* 40 small, one of 64 KiB, one of 256 KiB, 10 small: order must hold
     * across the fragmented ones. */
    enum { SMALL_BEFORE = 40, SMALL_AFTER = 10, TOTAL = SMALL_BEFORE + 2 + SMALL_AFTER };
    static uint8_t buf[HUGE_MESSAGE];
    size_t sizes[TOTAL];
    for (int i = 0; i < TOTAL; i++) {
        size_t size = 8 + (size_t)(i * 37) % 300;
        if (i == SMALL_BEFORE) {
            size = BIG_MESSAGE;
        } else if (i == SMALL_BEFORE + 1) {
            size = HUGE_MESSAGE;
        }
        sizes[i] = size;
        fill_pattern(buf, size, (uint32_t)i);
        assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_RELIABLE, buf, size), 0);
    }
    rollnet_transport_peer_info info;
    assert_int_equal(b.t.vtable->peer_info(b.t.self, b_a, &info), 0);
    assert_true(info.send_queue > 0); /* the big ones cannot all be acknowledged yet */

    want w = {&a, ROLLNET_TRANSPORT_RECEIVE, a_b, TOTAL};
    side *both[] = {&a, &b};
    assert_true(pump(both, 2, want_done, &w, 5000));
    int k = 0;
    for (int i = 0; i < a.n; i++) {
        if (a.ev[i].type != ROLLNET_TRANSPORT_RECEIVE) {
            continue;
        }
        assert_int_equal(a.ev[i].channel, ROLLNET_CHANNEL_RELIABLE);
        assert_int_equal(a.ev[i].size, sizes[k]);
        fill_pattern(buf, sizes[k], (uint32_t)k);
        assert_memory_equal(a.ev[i].data, buf, sizes[k]);
        k++;
    }
    assert_int_equal(k, TOTAL);

    drained d = {&b, b_a};
    assert_true(pump(both, 2, drained_done, &d, 3000));
    assert_int_equal(a.dropped + b.dropped, 0);
    side_free(&a);
    side_free(&b);
}

static void test_unreliable_messages_mostly_arrive_intact_and_once(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);

    enum { COUNT = 100, SIZE = 64 };
    for (int i = 0; i < COUNT; i++) {
        uint8_t msg[SIZE];
        fill_pattern(msg, SIZE, (uint32_t)i + 1000u);
        msg[0] = (uint8_t)i;
        assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_UNRELIABLE, msg, SIZE), 0);
    }
    want w = {&a, ROLLNET_TRANSPORT_RECEIVE, a_b, COUNT};
    side *both[] = {&a, &b};
    (void)pump(both, 2, want_done, &w, 2000); /* loss is allowed; checked below */

    int seen[COUNT] = {0};
    int received = 0;
    for (int i = 0; i < a.n; i++) {
        if (a.ev[i].type != ROLLNET_TRANSPORT_RECEIVE) {
            continue;
        }
        assert_int_equal(a.ev[i].channel, ROLLNET_CHANNEL_UNRELIABLE);
        assert_int_equal(a.ev[i].size, SIZE);
        int idx = a.ev[i].data[0];
        assert_true(idx < COUNT);
        uint8_t expect[SIZE];
        fill_pattern(expect, SIZE, (uint32_t)idx + 1000u);
        expect[0] = (uint8_t)idx;
        assert_memory_equal(a.ev[i].data, expect, SIZE);
        assert_int_equal(seen[idx], 0); /* never duplicated */
        seen[idx] = 1;
        received++;
    }
    assert_true(received >= 90);
    side_free(&a);
    side_free(&b);
}

static void test_peer_info_reports_measured_rtt_and_refuses_unknown_peers(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);

    side *both[] = {&a, &b};
    settle(&b, &a, b_a);
    drained d = {&b, b_a};

    rollnet_transport_peer_info info;
    memset(&info, 0xff, sizeof(info));
    assert_int_equal(b.t.vtable->peer_info(b.t.self, b_a, &info), 0);
    /* ENet starts from a 500 ms guess; 50 acknowledged messages on loopback
     * pull the mean far below it. */
    assert_true(info.rtt_ms < 100);
    assert_true(info.rtt_variance_ms < 500);
    assert_int_equal(info.send_queue, 0);
    /* Where each side sees the other: the address a third peer would dial
     * (a host introduces its joiners by it). */
    char want[64];
    snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)port);
    assert_string_equal(info.address, want);
    assert_int_equal(a.t.vtable->peer_info(a.t.self, a_b, &info), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned)rollnet_enet_port(&b.t));
    assert_string_equal(info.address, want);

    /* One message, sent at once by the flush: counted until acknowledged. */
    const uint8_t one[3] = {1, 2, 3};
    assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_RELIABLE, one, sizeof(one)), 0);
    assert_int_equal(b.t.vtable->peer_info(b.t.self, b_a, &info), 0);
    assert_int_equal(info.send_queue, 1);
    assert_true(pump(both, 2, drained_done, &d, 3000));

    assert_int_equal(b.t.vtable->peer_info(b.t.self, -1, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(b.t.vtable->peer_info(b.t.self, ROLLNET_MAX_PLAYERS, &info),
                     ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(b.t.vtable->peer_info(b.t.self, 100000, &info), ROLLNET_ERR_UNKNOWN_PEER);
    /* a slot that holds no connection */
    int unused = b_a == 0 ? 1 : 0;
    assert_int_equal(b.t.vtable->peer_info(b.t.self, unused, &info), ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(b.t.vtable->peer_info(b.t.self, b_a, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    side_free(&a);
    side_free(&b);
}

static void test_malformed_addresses_are_refused_without_taking_a_peer_slot(void **state)
{
    (void)state;
    static side b;
    memset(&b, 0, sizeof(b));
    client_side(&b, (rollnet_enet_desc){.max_peers = 1});
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:",
        ":47000",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:123456",
        "127.0.0.1:12x",
        "127.0.0.1:-5",
        "127.0.0.1:+5",
        "127.0.0.1: 5",
        "127.0.0.1:5000:1",
        "[::1]:5000",
        "::1:5000",
    };
    int peer = 7;
    assert_int_equal(b.t.vtable->connect(b.t.self, NULL, 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
    assert_int_equal(peer, -1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        peer = 7;
        assert_int_equal(b.t.vtable->connect(b.t.self, bad[i], 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
        assert_int_equal(peer, -1);
    }
    char too_long[300];
    memset(too_long, 'a', sizeof(too_long));
    memcpy(too_long + sizeof(too_long) - 6, ":5000", 6);
    assert_int_equal(b.t.vtable->connect(b.t.self, too_long, 0, &peer), ROLLNET_ERR_BAD_ADDRESS);
    assert_int_equal(b.t.vtable->connect(b.t.self, "127.0.0.1:65535", 0, NULL),
                     ROLLNET_ERR_INVALID_ARGUMENT);

    /* Every slot (max_peers and the spare ones) is still free, and then the host is full:
     * no slot is TRANSPORT. */
    for (int i = 0; i < 1 + ROLLNET_ENET_SPARE_PEERS; i++) {
        assert_int_equal(b.t.vtable->connect(b.t.self, "127.0.0.1:65535", 0, &peer), ROLLNET_ERR_OK);
        assert_int_equal(peer, i);
    }
    assert_int_equal(b.t.vtable->connect(b.t.self, "127.0.0.1:65535", 0, &peer),
                     ROLLNET_ERR_TRANSPORT);
    assert_int_equal(peer, -1);
    side_free(&b);
}

static char last_log[256];
static void keep_log(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)level;
    (void)user_data;
    snprintf(last_log, sizeof(last_log), "%s", msg);
}

/* A session refuses an address it could never connect to at creation, with
 * the address and the reason in the log, instead of a "peer disconnected"
 * 0.6 s into the first poll. */
static void test_sessions_refuse_unusable_addresses_at_creation(void **state)
{
    (void)state;
    static const struct {
        const char *address, *why;
    } bad[] = {
        {"garbage", "is not HOST:PORT"},
        {"127.0.0.1", "is not HOST:PORT"},
        {"127.0.0.1:99999", "no port"},
        {"127.0.0.1:0", "no port"},
        {"no-such-host.invalid:7777", "cannot be resolved"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rollnet_session_desc d;
        memset(&d, 0, sizeof(d));
        d.players[0].kind = ROLLNET_PLAYER_LOCAL;
        d.players[1].kind = ROLLNET_PLAYER_REMOTE;
        d.players[1].address = bad[i].address;
        d.logger.log = keep_log;
        assert_int_equal(rollnet_enet_create(NULL, NULL, &d.transport), ROLLNET_ERR_OK);
        char why[128] = "";
        assert_int_equal(d.transport.vtable->check_address(d.transport.self, bad[i].address, why,
                                                           sizeof(why)),
                         ROLLNET_ERR_BAD_ADDRESS);
        assert_non_null(strstr(why, bad[i].why));
        rollnet_session *s = NULL;
        last_log[0] = '\0';
        assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_BAD_ADDRESS);
        assert_null(s);
        assert_non_null(strstr(last_log, bad[i].address));
        assert_non_null(strstr(last_log, bad[i].why));
    }
    rollnet_transport t;
    assert_int_equal(rollnet_enet_create(NULL, NULL, &t), ROLLNET_ERR_OK);
    assert_int_equal(t.vtable->check_address(t.self, "127.0.0.1:7777", NULL, 0), ROLLNET_ERR_OK);
    rollnet_transport_destroy(&t);
}

/* Once frames run (the first receive), check_address, which a session calls
 * inside poll for an INTRO's address, takes dotted addresses and the names it
 * checked at creation, and refuses any other name rather than block the
 * frame on the resolver. Dotted addresses do not push a checked name out of
 * the table connect reads. With and without the service thread. */
static void test_names_are_not_resolved_once_frames_run(void **state)
{
    (void)state;
    for (int threaded = 0; threaded < 2; threaded++) {
        rollnet_enet_desc ed;
        memset(&ed, 0, sizeof(ed));
        ed.service_thread = threaded != 0;
        rollnet_transport t;
        assert_int_equal(rollnet_enet_create(&ed, NULL, &t), ROLLNET_ERR_OK);
        assert_int_equal(t.vtable->check_address(t.self, "localhost:7777", NULL, 0),
                         ROLLNET_ERR_OK);
        rollnet_transport_event ev;
        assert_int_equal(t.vtable->receive(t.self, 0, &ev), ROLLNET_ERR_OK);
        for (int i = 0; i < 40; i++) {
            char a[32];
            snprintf(a, sizeof(a), "127.0.0.%d:7000", i + 1);
            assert_int_equal(t.vtable->check_address(t.self, a, NULL, 0), ROLLNET_ERR_OK);
        }
        assert_int_equal(t.vtable->check_address(t.self, "localhost:7777", NULL, 0),
                         ROLLNET_ERR_OK);
        char why[128] = "";
        assert_int_equal(t.vtable->check_address(t.self, "localhost:7778", why, sizeof(why)),
                         ROLLNET_ERR_BAD_ADDRESS);
        assert_non_null(strstr(why, "names a host while the session runs"));
        rollnet_transport_destroy(&t);
    }
}

static void test_send_fails_for_unknown_peers_and_channels(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);
    const uint8_t msg[4] = {1, 2, 3, 4};
    assert_int_equal(send_msg(&b, -1, ROLLNET_CHANNEL_RELIABLE, msg, sizeof(msg)),
                     ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(send_msg(&b, 1000, ROLLNET_CHANNEL_RELIABLE, msg, sizeof(msg)),
                     ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(send_msg(&b, b_a == 0 ? 1 : 0, ROLLNET_CHANNEL_RELIABLE, msg, sizeof(msg)),
                     ROLLNET_ERR_UNKNOWN_PEER);
    assert_int_equal(send_msg(&b, b_a, (rollnet_channel)2, msg, sizeof(msg)),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_RELIABLE, NULL, 4),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_RELIABLE, msg, sizeof(msg)), 0);
    side_free(&a);
    side_free(&b);
}

static void test_disconnect_delivers_queued_messages_then_is_seen_by_the_other_side(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);

    static uint8_t last[BIG_MESSAGE];
    fill_pattern(last, sizeof(last), 7);
    assert_int_equal(send_msg(&a, a_b, ROLLNET_CHANNEL_RELIABLE, last, sizeof(last)), 0);
    uint64_t start = clock_ms();
    a.t.vtable->disconnect(a.t.self, a_b);

    want w = {&b, ROLLNET_TRANSPORT_DISCONNECTED, b_a, 1};
    side *both[] = {&a, &b};
    assert_true(pump(both, 2, want_done, &w, 3000));
    /* far below the 5000 ms timeout: the close was announced */
    assert_true(clock_ms() - start < 2000);
    int got_last = -1, got_disc = -1;
    for (int i = 0; i < b.n; i++) {
        if (b.ev[i].type == ROLLNET_TRANSPORT_RECEIVE && got_last < 0) {
            got_last = i;
            assert_int_equal(b.ev[i].size, sizeof(last));
            assert_memory_equal(b.ev[i].data, last, sizeof(last));
        }
        if (b.ev[i].type == ROLLNET_TRANSPORT_DISCONNECTED && got_disc < 0) {
            got_disc = i;
        }
    }
    assert_true(got_last >= 0);
    assert_true(got_last < got_disc);
    const uint8_t msg[1] = {0};
    assert_int_equal(send_msg(&b, b_a, ROLLNET_CHANNEL_RELIABLE, msg, 1), ROLLNET_ERR_UNKNOWN_PEER);
    rollnet_transport_peer_info info;
    assert_int_equal(b.t.vtable->peer_info(b.t.self, b_a, &info), ROLLNET_ERR_UNKNOWN_PEER);
    side_free(&a);
    side_free(&b);
}

static void test_destroy_announces_the_close_to_connected_peers(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);

    uint64_t start = clock_ms();
    side_free(&a);
    want w = {&b, ROLLNET_TRANSPORT_DISCONNECTED, b_a, 1};
    side *only_b[] = {&b};
    assert_true(pump(only_b, 1, want_done, &w, 3000));
    assert_true(clock_ms() - start < 2000);
    side_free(&b);
}

static void test_set_timeout_drops_a_silent_peer_after_about_the_set_time(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    /* Default 5000 ms everywhere; only this peer is shortened. */
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    silent_side(&b, (rollnet_enet_desc){0});
    int a_b, b_a;
    connect_pair(&a, &b, port, &a_b, &b_a);
    settle(&a, &b, a_b);
    a.t.vtable->set_timeout(a.t.self, a_b, 1000);

    uint64_t start = clock_ms(); /* from here on B is never serviced */
    want w = {&a, ROLLNET_TRANSPORT_DISCONNECTED, a_b, 1};
    side *only_a[] = {&a};
    assert_true(pump(only_a, 1, want_done, &w, 3500));
    uint64_t elapsed = clock_ms() - start;
    print_message("silent peer with a 1000 ms timeout dropped after %llu ms\n",
                  (unsigned long long)elapsed);
    /* ENet pings after 500 ms of silence and drops the peer 1000 ms (plus
     * up to one resend interval) after that first unanswered command. */
    assert_true(elapsed >= 900);
    assert_true(elapsed <= 3000);
    side_free(&a);
    side_free(&b);
}

static void test_set_timeout_is_per_peer_a_longer_grace_keeps_one_silent_peer(void **state)
{
    (void)state;
    static side a, b, c;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    /* Short default for every peer of A; C gets a loading-style grace. */
    uint16_t port = listen_side(&a, (rollnet_enet_desc){.timeout_ms = 1000});
    silent_side(&b, (rollnet_enet_desc){0});
    silent_side(&c, (rollnet_enet_desc){0});
    int a_b, b_a, a_c, c_a;
    connect_pair(&a, &b, port, &a_b, &b_a);
    connect_pair(&a, &c, port, &a_c, &c_a);
    assert_int_not_equal(a_b, a_c);
    settle(&a, &b, a_b);
    settle(&a, &c, a_c);
    a.t.vtable->set_timeout(a.t.self, a_c, 10000);

    /* B and C both go silent. */
    uint64_t start = clock_ms();
    want w = {&a, ROLLNET_TRANSPORT_DISCONNECTED, a_b, 1};
    side *only_a[] = {&a};
    assert_true(pump(only_a, 1, want_done, &w, 3500));
    assert_true(clock_ms() - start <= 3000);
    assert_int_equal(count_events(&a, ROLLNET_TRANSPORT_DISCONNECTED, a_c), 0);

    /* Another second of silence: still well inside C's grace. */
    (void)pump(only_a, 1, NULL, NULL, 1000);
    assert_int_equal(count_events(&a, ROLLNET_TRANSPORT_DISCONNECTED, a_c), 0);
    rollnet_transport_peer_info info;
    assert_int_equal(a.t.vtable->peer_info(a.t.self, a_c, &info), 0);
    side_free(&a);
    side_free(&b);
    side_free(&c);
}

static void test_unanswered_connect_ends_in_disconnected_after_the_timeout(void **state)
{
    (void)state;
    static side x, b;
    memset(&x, 0, sizeof(x));
    memset(&b, 0, sizeof(b));
    /* A port known to have been free a moment ago, and now unbound. */
    uint16_t port = listen_side(&x, (rollnet_enet_desc){0});
    side_free(&x);
    client_side(&b, (rollnet_enet_desc){.timeout_ms = 1000});
    int id = connect_to(&b, port);
    assert_true(id >= 0);
    want w = {&b, ROLLNET_TRANSPORT_DISCONNECTED, id, 1};
    side *only_b[] = {&b};
    assert_true(pump(only_b, 1, want_done, &w, 3500));
    assert_int_equal(count_events(&b, ROLLNET_TRANSPORT_CONNECTED, -1), 0);
    side_free(&b);
}

static void test_create_validates_its_arguments(void **state)
{
    (void)state;
    rollnet_transport t;
    assert_int_equal(rollnet_enet_create(NULL, NULL, NULL), ROLLNET_ERR_INVALID_ARGUMENT);

    memset(&t, 0xab, sizeof(t));
    assert_int_equal(rollnet_enet_create(&(rollnet_enet_desc){.max_peers = 5000}, NULL, &t),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_null(t.vtable);
    assert_int_equal(rollnet_enet_create(&(rollnet_enet_desc){.max_peers = -1}, NULL, &t),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        rollnet_enet_create(&(rollnet_enet_desc){.bind_address = "not-an-address"}, NULL, &t),
        ROLLNET_ERR_INVALID_ARGUMENT);

    /* A port already bound by another transport. */
    static side a;
    memset(&a, 0, sizeof(a));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    memset(&t, 0xab, sizeof(t));
    assert_int_equal(rollnet_enet_create(
                         &(rollnet_enet_desc){.port = port, .bind_address = "127.0.0.1"}, NULL, &t),
                     ROLLNET_ERR_TRANSPORT);
    assert_null(t.vtable);
    side_free(&a);

    /* NULL desc: every default. */
    assert_int_equal(rollnet_enet_create(NULL, NULL, &t), ROLLNET_ERR_OK);
    assert_non_null(t.vtable);
    assert_true(rollnet_enet_port(&t) != 0);
    destroy_transport(&t);

    rollnet_transport zero = {0};
    assert_int_equal(rollnet_enet_port(&zero), 0);
    assert_int_equal(rollnet_enet_port(NULL), 0);
    assert_int_equal(rollnet_enet_wait(&zero, 0), -1);
}

typedef struct counting {
    int allocs, frees;
} counting;

static void *counting_alloc(size_t size, void *user_data)
{
    ((counting *)user_data)->allocs++;
    return malloc(size);
}

static void counting_free(void *ptr, void *user_data)
{
    ((counting *)user_data)->frees++;
    free(ptr);
}

static void test_adapter_state_comes_from_the_allocator_and_is_returned(void **state)
{
    (void)state;
    counting c = {0};
    rollnet_allocator alloc = {counting_alloc, counting_free, &c};
    rollnet_transport t;
    assert_int_equal(rollnet_enet_create(NULL, &alloc, &t), ROLLNET_ERR_OK);
    assert_true(c.allocs >= 1);
    assert_int_equal(c.frees, 0);
    destroy_transport(&t);
    assert_int_equal(c.frees, c.allocs);

    /* A failed create returns what it took. */
    c = (counting){0};
    static side a;
    memset(&a, 0, sizeof(a));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    assert_int_equal(rollnet_enet_create(
                         &(rollnet_enet_desc){.port = port, .bind_address = "127.0.0.1"}, &alloc, &t),
                     ROLLNET_ERR_TRANSPORT);
    assert_int_equal(c.frees, c.allocs);
    side_free(&a);
}

static void test_wait_returns_early_when_a_datagram_arrives(void **state)
{
    (void)state;
    static side a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    uint16_t port = listen_side(&a, (rollnet_enet_desc){0});
    client_side(&b, (rollnet_enet_desc){0});
    /* Nothing sent yet: the wait runs out. */
    assert_int_equal(rollnet_enet_wait(&a.t, 20), 0);
    assert_true(connect_to(&b, port) >= 0);
    uint64_t start = clock_ms();
    assert_int_equal(rollnet_enet_wait(&a.t, 2000), 1);
    assert_true(clock_ms() - start < 1000);
    side_free(&a);
    side_free(&b);
}

int main(int argc, char **argv)
{
    threaded = argc > 1 && strcmp(argv[1], "--service-thread") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_is_seen_on_both_sides_with_the_returned_peer_id),
        cmocka_unit_test(test_reliable_messages_arrive_in_order_and_intact_including_64k),
        cmocka_unit_test(test_unreliable_messages_mostly_arrive_intact_and_once),
        cmocka_unit_test(test_peer_info_reports_measured_rtt_and_refuses_unknown_peers),
        cmocka_unit_test(test_malformed_addresses_are_refused_without_taking_a_peer_slot),
        cmocka_unit_test(test_names_are_not_resolved_once_frames_run),
        cmocka_unit_test(test_sessions_refuse_unusable_addresses_at_creation),
        cmocka_unit_test(test_send_fails_for_unknown_peers_and_channels),
        cmocka_unit_test(test_disconnect_delivers_queued_messages_then_is_seen_by_the_other_side),
        cmocka_unit_test(test_destroy_announces_the_close_to_connected_peers),
        cmocka_unit_test(test_set_timeout_drops_a_silent_peer_after_about_the_set_time),
        cmocka_unit_test(test_set_timeout_is_per_peer_a_longer_grace_keeps_one_silent_peer),
        cmocka_unit_test(test_unanswered_connect_ends_in_disconnected_after_the_timeout),
        cmocka_unit_test(test_create_validates_its_arguments),
        cmocka_unit_test(test_adapter_state_comes_from_the_allocator_and_is_returned),
        cmocka_unit_test(test_wait_returns_early_when_a_datagram_arrives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
