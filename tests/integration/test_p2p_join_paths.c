/* Joining on the paths test_p2p_join.c does not walk: a session stopped by
 * its handshake timeout while its joins are still being retried, a host that
 * appears after its joiner stopped, attempts that are answered and then
 * closed, a joiner through a stranger flood, a refused joiner. Over the
 * memnet with a virtual clock; "nobody answers" is a transport whose
 * connect fails while the test says so. */
#include "join_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>



static void jlog(rollnet_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    if (getenv("REVIEW_LOG")) {
        fprintf(stderr, "  [log] %s\n", message);
    }
}

static void counts(const joinfx *x, int i, const char *what)
{
    fprintf(stderr, "%s: node %d connecting %llu waiting %llu disconnected %llu refused %llu "
            "running %llu hard %s\n", what, i,
            (unsigned long long)x->hp[i].event_counts[ROLLNET_EVENT_CONNECTING],
            (unsigned long long)x->hp[i].event_counts[ROLLNET_EVENT_WAITING],
            (unsigned long long)x->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED],
            (unsigned long long)x->hp[i].event_counts[ROLLNET_EVENT_REFUSED],
            (unsigned long long)x->hp[i].event_counts[ROLLNET_EVENT_RUNNING],
            rollnet_error_string(x->hard_error[i]));
}

/* J1. handshake_timeout_ms shorter than join_timeout_ms, nobody answers:
 * the session stops with DISCONNECTED (HANDSHAKE_TIMEOUT). Expected: it says
 * so once and stops trying (no CONNECTING, no second DISCONNECTED after). */
static void test_handshake_timeout_with_join_retries(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[0].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.handshake_timeout_ms = 3000;
    d.join_timeout_ms = 60000;
    d.logger.log = jlog;
    d.nonce = 0x700u;
    d.transport = deaf_wrap(&x.deaf, rollnet_memnet_transport(x.net, 0));
    assert_int_equal(rollnet_session_create(&d, &x.s[0]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x.g[0], 3, 2, 1, 0, 0));
    harness_peer_init(&x.hp[0], x.s[0], &x.g[0], &d, 40);
    for (int t = 0; t < 4 * 60; t++) {
        tick(&x, 1u);
    }
    counts(&x, 0, "at 4 s");
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(x.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT);
    uint64_t conn = x.hp[0].event_counts[ROLLNET_EVENT_CONNECTING];
    int connects = x.deaf.connects;
    for (int t = 0; t < 70 * 60; t++) {
        tick(&x, 1u);
    }
    counts(&x, 0, "at 74 s");
    fprintf(stderr, "transport connects: %d at 4 s, %d at 74 s; last DISCONNECTED reason %d\n",
            connects, x.deaf.connects,
            (int)x.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason);
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_CONNECTING], conn);
    assert_int_equal(x.deaf.connects, connects);
    joinfx_free(&x);
}

/* J2. A host whose address answers and closes every time (a raw memnet node
 * that accepts and disconnects): retried once a second; past join_timeout_ms
 * DISCONNECTED with HANDSHAKE_TIMEOUT (an attempt was answered). */
static void test_answered_then_closed(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    open_node(&x, 0, 5000, "mem:1");
    x.deaf.deaf = false;
    rollnet_transport host = rollnet_memnet_transport(x.net, 1);
    int accepted = 0;
    for (int t = 0; t < 8 * 60; t++) {
        rollnet_transport_event ev;
        while (host.vtable->receive(host.self, harness_clock_now(&x.clock), &ev) == ROLLNET_ERR_OK &&
               ev.type != ROLLNET_TRANSPORT_NONE) {
            if (ev.type == ROLLNET_TRANSPORT_CONNECTED) {
                accepted++;
                host.vtable->disconnect(host.self, ev.peer);
            }
        }
        tick(&x, 1u);
    }
    counts(&x, 0, "answered then closed, 8 s");
    fprintf(stderr, "accepted %d\n", accepted);
    assert_true(accepted >= 4 && accepted <= 6);
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(x.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT);
    joinfx_free(&x);
}

/* J3. After SESSION_FULL the refused joiner can never run: expected, the
 * session says so with an error (as a player gone before the start does,
 * cannot_start) instead of NOT_RUNNING and WAITING for ever. */
static void test_refused_joiner_does_not_wait_for_ever(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    open_node(&x, 0, 0, "mem:1");
    x.deaf.deaf = false;
    open_node(&x, 1, 0, NULL);
    for (int t = 0; t < 60; t++) {
        tick(&x, 3u);
    }
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.nonce = 0x799u;
    d.transport = rollnet_memnet_transport(x.net, 2);
    assert_int_equal(rollnet_session_create(&d, &x.s[2]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x.g[2], 3, 2, 1, 0, 0));
    harness_peer_init(&x.hp[2], x.s[2], &x.g[2], &d, 77);
    for (int t = 0; t < 30 * 60; t++) {
        tick(&x, 7u);
    }
    rollnet_error err = rollnet_session_poll(x.s[2], harness_clock_now(&x.clock));
    assert_int_equal(x.hp[2].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(x.hp[2].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_SESSION_FULL);
    assert_int_equal(x.hp[2].event_counts[ROLLNET_EVENT_WAITING], 0);
    /* The host greets at once (both HELLOs cross, so peers start together),
     * so the joiner may run for a round trip before the refusal arrives; it
     * then stops with REFUSED instead of waiting. */
    assert_int_equal(err, ROLLNET_ERR_REFUSED);
    joinfx_free(&x);
}

/* J1b. The joiner stopped (handshake_timeout_ms) and its host appears later:
 * the stopped joiner must not shake hands and make the host run. */
static void test_stopped_joiner_does_not_make_the_host_run(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[0].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.handshake_timeout_ms = 3000;
    d.nonce = 0x700u;
    d.transport = deaf_wrap(&x.deaf, rollnet_memnet_transport(x.net, 0));
    assert_int_equal(rollnet_session_create(&d, &x.s[0]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x.g[0], 3, 2, 1, 0, 0));
    harness_peer_init(&x.hp[0], x.s[0], &x.g[0], &d, 40);
    for (int t = 0; t < 5 * 60; t++) {
        tick(&x, 1u);
    }
    assert_int_equal(x.hard_error[0], ROLLNET_ERR_DISCONNECTED);
    open_node(&x, 1, 0, NULL);
    x.deaf.deaf = false;
    for (int t = 0; t < 10 * 60; t++) {
        tick(&x, 3u);
    }
    counts(&x, 0, "stopped joiner");
    counts(&x, 1, "host");
    fprintf(stderr, "joiner's last DISCONNECTED reason %d, host's %d\n",
            (int)x.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
            (int)x.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason);
    assert_int_equal(x.hp[1].event_counts[ROLLNET_EVENT_RUNNING], 0);
    assert_int_equal(x.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    joinfx_free(&x);
}

/* J4. The host is flooded by strangers that connect and never say HELLO,
 * reconnecting as soon as they are dropped (12 of them, more than the
 * stranger slots). The joiner retries: it must get in ("strangers can delay
 * a joiner by at most a few of their own handshakes, never lock it out"). */
#define FLOOD 20
static void test_joiner_gets_in_through_a_stranger_flood(void **state)
{
    (void)state;
    joinfx x;
    memset(&x, 0, sizeof x);
    x.net = rollnet_memnet_create(2 + FLOOD, NULL);
    harness_clock_init(&x.clock, 1000, 60);
    open_node(&x, 1, 0, NULL);
    rollnet_transport st[FLOOD];
    bool linked[FLOOD] = {0};
    for (int k = 0; k < FLOOD; k++) {
        st[k] = rollnet_memnet_transport(x.net, 2 + k);
    }
    int connects = 0;
    bool opened = false;
    int t = 0;
    for (; t < 40 * 60 && !(opened && running(&x, 0)); t++) {
        uint64_t now = harness_clock_now(&x.clock);
        for (int k = 0; k < FLOOD; k++) {
            rollnet_transport_event ev;
            while (st[k].vtable->receive(st[k].self, now, &ev) == ROLLNET_ERR_OK &&
                   ev.type != ROLLNET_TRANSPORT_NONE) {
                if (ev.type == ROLLNET_TRANSPORT_DISCONNECTED) {
                    linked[k] = false;
                }
            }
            if (!linked[k]) {
                int peer = -1;
                if (st[k].vtable->connect(st[k].self, "mem:1", now, &peer) == ROLLNET_ERR_OK) {
                    linked[k] = true;
                    connects++;
                }
            }
        }
        if (t == 200) {
            open_node(&x, 0, 0, "mem:1");
            x.deaf.deaf = false;
            opened = true;
        }
        tick(&x, opened ? 3u : 2u);
    }
    counts(&x, 0, "joiner in a flood");
    counts(&x, 1, "flooded host");
    rollnet_session_stats hs;
    rollnet_session_stats_get(x.s[1], &hs);
    fprintf(stderr, "stranger connects %d, host handshakes_dropped %llu, ticks %d\n", connects,
            (unsigned long long)hs.handshakes_dropped, t);
    assert_true(running(&x, 0) && running(&x, 1));
    joinfx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_timeout_with_join_retries),
        cmocka_unit_test(test_stopped_joiner_does_not_make_the_host_run),
        cmocka_unit_test(test_answered_then_closed),
        cmocka_unit_test(test_joiner_gets_in_through_a_stranger_flood),
        cmocka_unit_test(test_refused_joiner_does_not_wait_for_ever),
    };
    if (getenv("T")) {
        cmocka_set_test_filter(getenv("T"));
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
