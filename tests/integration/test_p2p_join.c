/* Joining: a joiner keeps trying an address that does not answer, up to its
 * join timeout, with an event per attempt; a host waits for its players as
 * long as it takes, naming who is missing; a joiner to a full session is
 * refused at once with "session full". Over the memnet, driven by a virtual
 * clock; "nobody answers" is a transport whose connect fails while the test
 * says so. */
#include "join_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>


/* The joiner starts 8 s before its host answers (two people starting a game
 * by hand): it keeps trying, once a second after each failure, and plays as
 * soon as the host is there. */
static void test_joiner_keeps_trying_until_the_host_answers(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    open_node(&x, 0, 0, "mem:1");
    open_node(&x, 1, 0, NULL);
    for (int t = 0; t < 8 * 60; t++) {
        tick(&x, 1u << 0);
    }
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    uint64_t tries = x.hp[0].event_counts[ROLLNET_EVENT_CONNECTING];
    assert_true(tries >= 7 && tries <= 9); /* one a second */
    assert_int_equal((uint64_t)x.deaf.connects, tries);
    rollnet_event last = x.hp[0].last_event[ROLLNET_EVENT_CONNECTING];
    assert_int_equal(last.player, 1);
    assert_int_equal((uint64_t)last.u.waiting.attempt, tries);
    assert_true(last.u.waiting.waited_ms >= 6000 && last.u.waiting.waited_ms <= 8000);
    x.deaf.deaf = false; /* the host's port answers now */
    for (int t = 0; t < 3 * 60 && !(running(&x, 0) && running(&x, 1)); t++) {
        tick(&x, 3u);
    }
    assert_true(running(&x, 0) && running(&x, 1));
    for (int t = 0; t < 120; t++) {
        tick(&x, 3u);
    }
    assert_true(x.hp[0].frames_advanced > 60 && x.hp[1].frames_advanced > 60);
    assert_int_equal(x.hard_error[0], ROLLNET_ERR_OK);
    joinfx_free(&x);
}

/* Nobody ever answers: past join_timeout_ms the joiner stops with
 * DISCONNECTED, reason NO_ANSWER ("nobody answered at its address"). */
static void test_joiner_gives_up_with_no_answer(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    open_node(&x, 0, 5000, "mem:1");
    uint64_t start = harness_clock_now(&x.clock);
    while (harness_clock_now(&x.clock) < start + 4900) {
        tick(&x, 1u << 0);
    }
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    for (int t = 0; t < 30; t++) {
        tick(&x, 1u << 0);
    }
    assert_int_equal(x.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    rollnet_event ev = x.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED];
    assert_int_equal(ev.player, 1);
    assert_int_equal(ev.u.disconnected.reason, ROLLNET_DISCONNECT_NO_ANSWER);
    assert_int_equal(rollnet_session_poll(x.s[0], harness_clock_now(&x.clock)),
                     ROLLNET_ERR_DISCONNECTED);
    joinfx_free(&x);
}

/* A host waits for its joiner without a timeout by default, saying every 5 s
 * who it waits for; a joiner that comes after two minutes plays. */
static void test_host_waits_for_its_player_naming_it(void **state)
{
    (void)state;
    joinfx x;
    joinfx_init(&x);
    open_node(&x, 1, 0, NULL);
    for (int t = 0; t < 120 * 60; t++) {
        tick(&x, 1u << 1);
    }
    assert_int_equal(x.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    uint64_t waits = x.hp[1].event_counts[ROLLNET_EVENT_WAITING];
    assert_true(waits >= 23 && waits <= 24); /* every 5 s, from 5 s on */
    rollnet_event ev = x.hp[1].last_event[ROLLNET_EVENT_WAITING];
    assert_int_equal(ev.player, 0);
    assert_int_equal(ev.u.waiting.missing, 1u << 0);
    assert_true(ev.u.waiting.waited_ms >= 115000);
    open_node(&x, 0, 0, "mem:1");
    x.deaf.deaf = false;
    for (int t = 0; t < 120; t++) {
        tick(&x, 3u);
    }
    assert_true(running(&x, 0) && running(&x, 1));
    assert_int_equal(x.hard_error[1], ROLLNET_ERR_OK);
    joinfx_free(&x);
}

/* A second joiner claiming the player another joiner holds is refused at
 * once, told "session full"; the host's game hears nothing of it. */
static void test_second_joiner_is_told_the_session_is_full(void **state)
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
    assert_true(running(&x, 0) && running(&x, 1));
    /* Node 2: another joiner of player 0 to the same host. */
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.nonce = 0x799u;
    d.transport = rollnet_memnet_transport(x.net, 2);
    assert_int_equal(rollnet_session_create(&d, &x.s[2]), ROLLNET_ERR_OK);
    assert_true(tg_init(&x.g[2], 3, 2, 1, 0, 0));
    harness_peer_init(&x.hp[2], x.s[2], &x.g[2], &d, 77);
    for (int t = 0; t < 30; t++) {
        tick(&x, 7u);
    }
    assert_int_equal(x.hp[2].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(x.hp[2].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_SESSION_FULL);
    assert_string_equal(rollnet_param_string(ROLLNET_PARAM_SESSION_FULL), "session_full");
    assert_int_equal(x.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(x.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(x.s[1], &st), ROLLNET_ERR_OK);
    assert_int_equal(st.handshakes_refused, 1);
    assert_true(running(&x, 0));
    joinfx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joiner_keeps_trying_until_the_host_answers),
        cmocka_unit_test(test_joiner_gives_up_with_no_answer),
        cmocka_unit_test(test_host_waits_for_its_player_naming_it),
        cmocka_unit_test(test_second_joiner_is_told_the_session_is_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
