/* Silence, loading grace and refused handshakes, on a virtual clock. */
#include "p2p_fixture.h"

static void base_opts(fx_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->num_players = 2;
    o->seed = seed;
    o->write_records = true;
    o->sim[0].delay_ms = 10;
    o->sim[1].delay_ms = 10;
}

/* Tick only node 0 for `ms` of virtual time. */
static void run_alone(fx *f, int node, uint64_t ms)
{
    for (int i = 0; i < f->n; i++) {
        f->paused[i] = i != node;
    }
    uint64_t end = harness_clock_now(&f->clock) + ms;
    while (harness_clock_now(&f->clock) < end) {
        fx_run(f, 1);
    }
    for (int i = 0; i < f->n; i++) {
        f->paused[i] = false;
    }
}

static void test_silent_peer_disconnects_at_the_timeout_not_before(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 31);
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF; /* today's behaviour: silence ends the peer */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    /* Node 1's process stops. Node 0 hears nothing from now on. */
    run_alone(&f, 0, 700);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
    run_alone(&f, 0, 100); /* past 750 ms (+ the in-flight 10 ms) */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
    run_alone(&f, 0, 4100); /* 4.9 s of silence */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    run_alone(&f, 0, 200);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_TIMEOUT);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].player, 1);
    /* Player 1 plays neutral from its first unconfirmed frame on. */
    int32_t from = f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.frame;
    assert_true(from > 0);
    assert_true(from <= fx_stats(&f, 0).frame);
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(f.s[0], 1, &ps), ROLLNET_ERR_OK);
    assert_true(ps.disconnected);
    fx_free(&f);
}

static void test_custom_disconnect_timeout_is_honoured(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 32);
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF;
    o.disconnect_timeout_ms = 2000;
    o.notify_timeout_ms = 300;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 200);
    run_alone(&f, 0, 1900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    run_alone(&f, 0, 200);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    fx_free(&f);
}

static void test_loading_peer_silent_20s_survives(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 33);
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF; /* the last silence ends the peer */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    /* Node 1 announces loading, then blocks for 20 s. */
    assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    run_alone(&f, 0, 20000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    rollnet_peer_stats ps;
    rollnet_session_peer_stats(f.s[0], 1, &ps);
    assert_true(ps.loading);
    assert_int_equal(rollnet_session_end_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 1200);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING_ENDED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    rollnet_session_peer_stats(f.s[0], 1, &ps);
    assert_false(ps.loading);
    /* Normal timeouts apply again after loading. */
    fx_assert_ledgers_agree(&f, 1300);
    fx_assert_states_agree(&f);
    run_alone(&f, 0, 5200);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_TIMEOUT);
    fx_free(&f);
}

/* Under jitter, inputs sent just before the loading notice arrive after it;
 * they must not end the loading (the notice names the newest frame sent). */
static void test_late_inputs_do_not_end_loading(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 40);
    o.sim[1] = (rollnet_netsim_desc){.delay_ms = 40, .jitter_ms = 38, .reorder_permille = 300};
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    run_alone(&f, 0, 12000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING_ENDED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(rollnet_session_end_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 600);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING_ENDED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_assert_ledgers_agree(&f, 800);
    fx_free(&f);
}

static void test_loading_peer_silent_70s_is_dropped_at_the_grace_limit(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 34);
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF; /* the grace's end ends the peer */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    uint64_t t0 = harness_clock_now(&f.clock);
    assert_int_equal(rollnet_session_begin_loading(f.s[1], t0), ROLLNET_ERR_OK);
    run_alone(&f, 0, 59000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    run_alone(&f, 0, 11000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_LOADING_GRACE);
    fx_free(&f);
}

/* With reconnection the grace's end is a lost connection: the window
 * follows, and the peer is given up only at its end. */
static void test_loading_peer_silent_past_the_grace_is_reconnected_first(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 35);
    o.loading_grace_ms = 10000;
    o.reconnect_timeout_ms = 5000;
    o.rejoin_timeout_ms = ROLLNET_REJOIN_OFF; /* else the place is kept for a rejoin too */
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    run_alone(&f, 0, 10500);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RECONNECTING], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    run_alone(&f, 0, 5000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_CONNECTION_LOST);
    fx_free(&f);
}

static void test_mismatched_parameters_are_refused_with_the_parameter(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 35);
    o.game_id[0] = 1;
    o.game_id[1] = 2;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 120);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_RUNNING], 0);
        assert_int_equal(fx_stats(&f, i).frame, 0);
    }
    /* The joiner is told which parameter differs. */
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_GAME_ID);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.local_value, 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.remote_value, 2);
    /* For the host, a connection that claims no player of this session is a
     * stranger: counted, logged, no event (invariant 9). */
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_SYNCHRONIZING], 0);
    assert_int_equal(fx_stats(&f, 1).handshakes_refused, 1);
    assert_string_equal(rollnet_param_string(ROLLNET_PARAM_GAME_ID), "game_id");
    fx_free(&f);
}

static void test_nobody_connects_handshake_times_out(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 36);
    o.handshake_timeout_ms = 10000;
    static fx f;
    fx_init(&f, &o);
    run_alone(&f, 1, 9900); /* node 1 waits for node 0's connection */
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    /* Then the wait ends, with an event and an error: the session stops. */
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < 12; t++) {
        err = harness_tick(&f.hp[1], harness_clock_now(&f.clock));
        harness_clock_tick(&f.clock);
    }
    assert_int_equal(err, ROLLNET_ERR_DISCONNECTED);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_peer_disconnects_at_the_timeout_not_before),
        cmocka_unit_test(test_custom_disconnect_timeout_is_honoured),
        cmocka_unit_test(test_loading_peer_silent_20s_survives),
        cmocka_unit_test(test_late_inputs_do_not_end_loading),
        cmocka_unit_test(test_loading_peer_silent_70s_is_dropped_at_the_grace_limit),
        cmocka_unit_test(test_loading_peer_silent_past_the_grace_is_reconnected_first),
        cmocka_unit_test(test_mismatched_parameters_are_refused_with_the_parameter),
        cmocka_unit_test(test_nobody_connects_handshake_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
