/* The ENet transport's service thread over 127.0.0.1: while the game thread
 * does not poll, the peers keep the connection and hear that it is busy;
 * what arrives meanwhile waits in the bounded queue (reliable messages all
 * of it, in order; unreliable ones up to the queue's share). Real time,
 * bounded; the sleeps stand for a blocked game thread, not for
 * synchronisation. */
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

#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"

typedef struct side {
    rollnet_transport t;
    int peer; /* the other side */
    int connected, disconnected, busy, reliable, unreliable;
    uint32_t first_busy_ms, last_busy_ms;
    int next_reliable; /* the sequence number the next reliable message must carry */
    bool out_of_order;
} side;

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drain(side *s)
{
    rollnet_transport_event e;
    while (s->t.vtable->receive(s->t.self, clock_ms(), &e) == ROLLNET_ERR_OK &&
           e.type != ROLLNET_TRANSPORT_NONE) {
        switch (e.type) {
        case ROLLNET_TRANSPORT_CONNECTED:
            s->connected++;
            s->peer = e.peer;
            break;
        case ROLLNET_TRANSPORT_DISCONNECTED:
            s->disconnected++;
            break;
        case ROLLNET_TRANSPORT_PEER_BUSY:
            if (s->busy++ == 0) {
                s->first_busy_ms = e.busy_ms;
            }
            s->last_busy_ms = e.busy_ms;
            break;
        case ROLLNET_TRANSPORT_RECEIVE:
            if (e.channel == ROLLNET_CHANNEL_RELIABLE) {
                int seq = e.data[0] | (e.data[1] << 8);
                s->out_of_order = s->out_of_order || seq != s->next_reliable;
                s->next_reliable = seq + 1;
                s->reliable++;
            } else {
                s->unreliable++;
            }
            break;
        default:
            break;
        }
    }
}

/* Poll the sides in `polled` for ms. */
static void run(side **polled, int n, uint32_t ms)
{
    uint64_t end = clock_ms() + ms;
    while (clock_ms() < end) {
        for (int i = 0; i < n; i++) {
            drain(polled[i]);
            (void)rollnet_enet_wait(&polled[i]->t, 1);
        }
    }
}

static void open_pair(side *a, side *b, bool a_thread, uint32_t timeout_ms)
{
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    rollnet_enet_desc da = {.bind_address = "127.0.0.1", .timeout_ms = timeout_ms,
                            .service_thread = a_thread};
    rollnet_enet_desc db = {.bind_address = "127.0.0.1", .timeout_ms = timeout_ms};
    assert_int_equal(rollnet_enet_create(&da, NULL, &a->t), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_enet_create(&db, NULL, &b->t), ROLLNET_ERR_OK);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)rollnet_enet_port(&a->t));
    assert_int_equal(b->t.vtable->check_address(b->t.self, addr, NULL, 0), ROLLNET_ERR_OK);
    int peer = -1;
    assert_int_equal(b->t.vtable->connect(b->t.self, addr, clock_ms(), &peer), ROLLNET_ERR_OK);
    side *both[] = {a, b};
    uint64_t end = clock_ms() + 3000;
    while ((a->connected == 0 || b->connected == 0) && clock_ms() < end) {
        run(both, 2, 5);
    }
    assert_int_equal(a->connected, 1);
    assert_int_equal(b->connected, 1);
    assert_int_equal(b->peer, peer);
}

static void close_pair(side *a, side *b)
{
    rollnet_transport_destroy(&a->t);
    rollnet_transport_destroy(&b->t);
}

/* A's game thread stops polling for 3 s, three times ENet's timeout: with
 * the service thread B keeps the connection and hears that A is busy, for
 * longer and longer; without it, B loses A. */
static void blocked_poller(bool a_thread, side *a, side *b)
{
    open_pair(a, b, a_thread, 1000);
    side *only_b[] = {b};
    run(only_b, 1, 3000);
    drain(a); /* back */
}

static void test_a_blocked_game_thread_is_reported_busy_not_lost(void **state)
{
    (void)state;
    static side a, b;
    blocked_poller(true, &a, &b);
    assert_int_equal(b.disconnected, 0);
    assert_int_equal(a.disconnected, 0);
    /* About every 250 ms from about 300 ms on. */
    assert_true(b.busy >= 6);
    assert_true(b.busy <= 14);
    assert_true(b.first_busy_ms >= 300);
    assert_true(b.first_busy_ms < 1000);
    assert_true(b.last_busy_ms >= 2400);
    /* It polls again: the reports stop. */
    side *both[] = {&a, &b};
    run(both, 2, 200);
    int busy = b.busy;
    run(both, 2, 800);
    assert_int_equal(b.busy, busy);
    close_pair(&a, &b);
}

static void test_without_the_thread_a_blocked_game_thread_is_lost(void **state)
{
    (void)state;
    static side a, b;
    blocked_poller(false, &a, &b);
    assert_int_equal(b.disconnected, 1);
    assert_int_equal(b.busy, 0);
    close_pair(&a, &b);
}

/* B sends while A's game thread does not poll: every reliable message waits
 * in A's queue (in order, none lost), unreliable ones fill their share and
 * the rest is dropped and counted. */
static void test_a_full_queue_keeps_reliable_messages_and_drops_unreliable_ones(void **state)
{
    (void)state;
    static side a, b;
    open_pair(&a, &b, true, 5000);
    side *only_b[] = {&b};
    enum { RELIABLE = 300, UNRELIABLE = 2000 };
    int sent_reliable = 0;
    for (int i = 0; i < UNRELIABLE; i++) {
        uint8_t msg[32] = {0};
        assert_int_equal(b.t.vtable->send(b.t.self, b.peer, ROLLNET_CHANNEL_UNRELIABLE, msg,
                                          sizeof(msg), clock_ms()),
                         ROLLNET_ERR_OK);
        if (i % 7 == 0 && sent_reliable < RELIABLE) {
            msg[0] = (uint8_t)(sent_reliable & 0xff);
            msg[1] = (uint8_t)(sent_reliable >> 8);
            assert_int_equal(b.t.vtable->send(b.t.self, b.peer, ROLLNET_CHANNEL_RELIABLE, msg,
                                              sizeof(msg), clock_ms()),
                             ROLLNET_ERR_OK);
            sent_reliable++;
        }
        if (i % 50 == 0) {
            run(only_b, 1, 2);
        }
    }
    while (sent_reliable < RELIABLE) {
        uint8_t msg[32] = {(uint8_t)(sent_reliable & 0xff), (uint8_t)(sent_reliable >> 8)};
        assert_int_equal(b.t.vtable->send(b.t.self, b.peer, ROLLNET_CHANNEL_RELIABLE, msg,
                                          sizeof(msg), clock_ms()),
                         ROLLNET_ERR_OK);
        sent_reliable++;
    }
    run(only_b, 1, 1000);
    side *both[] = {&a, &b};
    run(both, 2, 1500);
    assert_int_equal(a.reliable, RELIABLE);
    assert_false(a.out_of_order);
    assert_true(a.unreliable > 0);
    assert_true(a.unreliable < UNRELIABLE);
    rollnet_enet_stats st;
    assert_int_equal(rollnet_enet_stats_get(&a.t, &st), ROLLNET_ERR_OK);
    assert_true(st.receive_dropped > 0);
    assert_int_equal(a.disconnected, 0);
    close_pair(&a, &b);
}

/* Channel 2 carries busy reports only: a well-formed one ('R' 'B', then the
 * ms big-endian) becomes PEER_BUSY, anything else is dropped and counted,
 * with or without a service thread on the receiving side. */
static void busy_channel_check(bool threaded)
{
    side a;
    memset(&a, 0, sizeof(a));
    rollnet_enet_desc da = {.bind_address = "127.0.0.1", .service_thread = threaded};
    assert_int_equal(rollnet_enet_create(&da, NULL, &a.t), ROLLNET_ERR_OK);
    ENetAddress bind = {.host = ENET_HOST_ANY, .port = 0};
    enet_address_set_host_ip(&bind, "127.0.0.1");
    ENetHost *h = enet_host_create(&bind, 1, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
    assert_non_null(h);
    ENetAddress to = bind;
    to.port = rollnet_enet_port(&a.t);
    ENetPeer *p = enet_host_connect(h, &to, ROLLNET_ENET_CHANNEL_LIMIT, 0);
    assert_non_null(p);
    const uint8_t bad[][6] = {{'R', 'B', 0, 0, 1}, {'X', 'B', 0, 0, 1, 0}};
    const size_t bad_size[] = {5, 6};
    const uint8_t good[6] = {'R', 'B', 0, 0, 0x12, 0x34};
    bool sent = false;
    uint64_t end = clock_ms() + 3000;
    while (clock_ms() < end && a.busy == 0) {
        ENetEvent ev;
        while (enet_host_service(h, &ev, 0) > 0) {
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                enet_packet_destroy(ev.packet);
            }
        }
        if (!sent && p->state == ENET_PEER_STATE_CONNECTED) {
            for (int i = 0; i < 2; i++) {
                enet_peer_send(p, 2, enet_packet_create(bad[i], bad_size[i], ENET_PACKET_FLAG_RELIABLE));
            }
            enet_peer_send(p, 2, enet_packet_create(good, sizeof(good), ENET_PACKET_FLAG_RELIABLE));
            enet_host_flush(h);
            sent = true;
        }
        drain(&a);
        (void)rollnet_enet_wait(&a.t, 1);
    }
    assert_int_equal(a.busy, 1);
    assert_int_equal(a.first_busy_ms, 0x1234);
    rollnet_enet_stats st;
    assert_int_equal(rollnet_enet_stats_get(&a.t, &st), ROLLNET_ERR_OK);
    assert_int_equal(st.busy_malformed, 2);
    enet_peer_reset(p);
    enet_host_destroy(h);
    rollnet_transport_destroy(&a.t);
}

/* A peer's busy reports arrive while A's game thread does not poll: each
 * replaces the unread one before it (unless another event of that peer came
 * between), so a stream of them, or a flood, does not fill A's queue and stop
 * its service thread; A reads one report before and one after the reliable
 * message sent between them, each with the latest ms. */
static void test_unread_busy_reports_are_replaced_not_queued(void **state)
{
    (void)state;
    side a;
    memset(&a, 0, sizeof(a));
    rollnet_enet_desc da = {.bind_address = "127.0.0.1", .service_thread = true};
    assert_int_equal(rollnet_enet_create(&da, NULL, &a.t), ROLLNET_ERR_OK);
    ENetAddress bind = {.host = ENET_HOST_ANY, .port = 0};
    enet_address_set_host_ip(&bind, "127.0.0.1");
    ENetHost *h = enet_host_create(&bind, 1, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
    assert_non_null(h);
    ENetAddress to = bind;
    to.port = rollnet_enet_port(&a.t);
    ENetPeer *p = enet_host_connect(h, &to, ROLLNET_ENET_CHANNEL_LIMIT, 0);
    assert_non_null(p);
    enum { REPORTS = 1500 };
    int sent = 0;
    uint64_t end = clock_ms() + 2500;
    while (clock_ms() < end) { /* A does not poll */
        ENetEvent ev;
        while (enet_host_service(h, &ev, 1) > 0) {
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                enet_packet_destroy(ev.packet);
            }
        }
        if (sent == 0 && p->state == ENET_PEER_STATE_CONNECTED) {
            for (int i = 0; i < 2 * REPORTS; i++) {
                uint32_t ms = (uint32_t)i + 1;
                uint8_t r[6] = {'R', 'B', (uint8_t)(ms >> 24), (uint8_t)(ms >> 16),
                                (uint8_t)(ms >> 8), (uint8_t)ms};
                enet_peer_send(p, 2, enet_packet_create(r, sizeof(r), ENET_PACKET_FLAG_RELIABLE));
                if (i == REPORTS - 1) {
                    uint8_t msg[4] = {0, 0, 7, 7};
                    enet_peer_send(p, 0, enet_packet_create(msg, sizeof(msg), ENET_PACKET_FLAG_RELIABLE));
                }
            }
            enet_host_flush(h);
            sent = 1;
        }
    }
    end = clock_ms() + 500;
    while (clock_ms() < end) {
        ENetEvent ev;
        while (enet_host_service(h, &ev, 0) > 0) {
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
                enet_packet_destroy(ev.packet);
            }
        }
        drain(&a);
        (void)rollnet_enet_wait(&a.t, 1);
    }
    assert_int_equal(sent, 1);
    assert_int_equal(a.connected, 1);
    assert_int_equal(a.reliable, 1);
    assert_int_equal(a.busy, 2);
    assert_int_equal(a.first_busy_ms, REPORTS);
    assert_int_equal(a.last_busy_ms, 2 * REPORTS);
    enet_peer_reset(p);
    enet_host_destroy(h);
    rollnet_transport_destroy(&a.t);
}

static void test_busy_reports_are_validated_without_a_thread(void **state)
{
    (void)state;
    busy_channel_check(false);
}

static void test_busy_reports_are_validated_with_a_thread(void **state)
{
    (void)state;
    busy_channel_check(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_blocked_game_thread_is_reported_busy_not_lost),
        cmocka_unit_test(test_without_the_thread_a_blocked_game_thread_is_lost),
        cmocka_unit_test(test_a_full_queue_keeps_reliable_messages_and_drops_unreliable_ones),
        cmocka_unit_test(test_busy_reports_are_validated_without_a_thread),
        cmocka_unit_test(test_busy_reports_are_validated_with_a_thread),
        cmocka_unit_test(test_unread_busy_reports_are_replaced_not_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
