/* One remote endpoint (core/peer.c): its state machine logs every change
 * once and only changes, the live/departed predicates follow the state, a
 * message ends an interruption exactly once, the handshake check names the
 * first differing parameter with both values, and rates are per second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_fixture.h"
#include "peer.h"

#define NUM_STATES (RN_PEER_GONE + 1)

/* A blank peer whose transitions are logged into `log`. */
typedef struct fixture {
    rn_peer p;
    rn_events events;
    log_capture log;
} fixture;

static fixture fx;

static void fx_init(int index, uint32_t player_mask)
{
    events_with_capture(&fx.events, &fx.log);
    rn_peer_reset(&fx.p, index);
    fx.p.player_mask = player_mask;
}

/* Change state and check that exactly `want` was logged, at INFO. */
static void expect_transition(rn_peer_state to, const char *want)
{
    int before = fx.log.count;
    rn_peer_set_state(&fx.p, to, &fx.events);
    assert_int_equal(fx.p.state, to);
    assert_int_equal(fx.log.count, before + 1);
    assert_int_equal(fx.log.level[before], ROLLNET_LOG_INFO);
    assert_string_equal(fx.log.text[before], want);
}

static void reset_peer_has_no_connection_and_nothing_acknowledged(void **state)
{
    (void)state;
    rn_peer p;
    memset(&p, 0x5a, sizeof(p));
    rn_peer_reset(&p, 3);
    assert_int_equal(p.state, RN_PEER_EMPTY);
    assert_int_equal(p.index, 3);
    assert_int_equal(p.tp, -1);
    assert_int_equal(p.ack, -1);
    assert_int_equal(p.player_mask, 0);
    assert_int_equal(p.st.last_received_frame, -1);
    assert_int_equal(p.st.bytes_sent, 0);
    assert_false(p.st.synchronized);
    assert_false(p.st.disconnected);
    assert_int_equal(rn_peer_event_player(&p), -1);
}

static void every_state_has_its_own_name(void **state)
{
    (void)state;
    const char *want[NUM_STATES] = {"empty",       "connecting", "handshake", "running",
                                    "interrupted", "leaving",    "gone"};
    for (int i = 0; i < NUM_STATES; i++) {
        assert_string_equal(rn_peer_state_name((rn_peer_state)i), want[i]);
    }
    assert_string_equal(rn_peer_state_name((rn_peer_state)99), "?");
}

static void every_transition_is_logged_once_with_both_state_names(void **state)
{
    (void)state;
    fx_init(2, (1u << 3) | (1u << 1)); /* hosts players 1 and 3: named by 1 */
    expect_transition(RN_PEER_CONNECTING, "peer 2 (player 1): empty -> connecting");
    expect_transition(RN_PEER_HANDSHAKE, "peer 2 (player 1): connecting -> handshake");
    expect_transition(RN_PEER_RUNNING, "peer 2 (player 1): handshake -> running");
    expect_transition(RN_PEER_INTERRUPTED, "peer 2 (player 1): running -> interrupted");
    expect_transition(RN_PEER_RUNNING, "peer 2 (player 1): interrupted -> running");
    expect_transition(RN_PEER_LEAVING, "peer 2 (player 1): running -> leaving");
    expect_transition(RN_PEER_GONE, "peer 2 (player 1): leaving -> gone");
    assert_int_equal(fx.log.count, 7);
}

static void peer_without_players_is_logged_as_player_minus_one(void **state)
{
    (void)state;
    fx_init(0, 0);
    expect_transition(RN_PEER_HANDSHAKE, "peer 0 (player -1): empty -> handshake");
}

static void setting_the_same_state_logs_nothing_and_changes_nothing(void **state)
{
    (void)state;
    fx_init(1, 1u << 1);
    for (int s = 0; s < NUM_STATES; s++) {
        if (s != RN_PEER_EMPTY) {
            rn_peer_set_state(&fx.p, (rn_peer_state)s, &fx.events);
        }
        int logged = fx.log.count;
        rollnet_peer_stats before = fx.p.st;
        rn_peer_set_state(&fx.p, (rn_peer_state)s, &fx.events);
        assert_int_equal(fx.p.state, s);
        assert_int_equal(fx.log.count, logged);
        assert_memory_equal(&fx.p.st, &before, sizeof(before));
    }
}

static void transitions_keep_the_stats_flags_in_step(void **state)
{
    (void)state;
    fx_init(0, 1u << 1);
    rn_peer_set_state(&fx.p, RN_PEER_HANDSHAKE, &fx.events);
    assert_false(fx.p.st.synchronized);
    rn_peer_set_state(&fx.p, RN_PEER_RUNNING, &fx.events);
    assert_true(fx.p.st.synchronized);
    assert_false(fx.p.st.interrupted);
    rn_peer_set_state(&fx.p, RN_PEER_INTERRUPTED, &fx.events);
    assert_true(fx.p.st.interrupted);
    rn_peer_set_state(&fx.p, RN_PEER_RUNNING, &fx.events);
    assert_false(fx.p.st.interrupted);
    assert_false(fx.p.st.disconnected);
    rn_peer_set_state(&fx.p, RN_PEER_LEAVING, &fx.events);
    assert_true(fx.p.st.disconnected);
    fx_init(0, 1u << 1);
    rn_peer_set_state(&fx.p, RN_PEER_GONE, &fx.events);
    assert_true(fx.p.st.disconnected);
}

static void live_and_departed_follow_the_state(void **state)
{
    (void)state;
    const struct {
        rn_peer_state state;
        bool live, departed;
    } want[NUM_STATES] = {
        {RN_PEER_EMPTY, false, false},      {RN_PEER_CONNECTING, false, false},
        {RN_PEER_HANDSHAKE, false, false},  {RN_PEER_RUNNING, true, false},
        {RN_PEER_INTERRUPTED, true, false}, {RN_PEER_LEAVING, false, true},
        {RN_PEER_GONE, false, true},
    };
    for (int i = 0; i < NUM_STATES; i++) {
        fx_init(0, 1u << 1);
        fx.p.state = want[i].state;
        assert_int_equal(rn_peer_live(&fx.p), want[i].live);
        assert_int_equal(rn_peer_departed(&fx.p), want[i].departed);
    }
}

static void event_player_is_the_lowest_hosted_player(void **state)
{
    (void)state;
    fx_init(0, 1u << 2);
    assert_int_equal(rn_peer_event_player(&fx.p), 2);
    fx.p.player_mask = (1u << 3) | (1u << 1);
    assert_int_equal(rn_peer_event_player(&fx.p), 1);
    fx.p.player_mask = 1u;
    assert_int_equal(rn_peer_event_player(&fx.p), 0);
}

static void heard_ends_an_interruption_exactly_once(void **state)
{
    (void)state;
    fx_init(0, 1u << 1);
    fx.p.state = RN_PEER_INTERRUPTED;
    fx.p.st.interrupted = true;

    assert_true(rn_peer_heard(&fx.p, 5000, &fx.events));
    assert_int_equal(fx.p.state, RN_PEER_RUNNING);
    assert_false(fx.p.st.interrupted);
    assert_int_equal(fx.p.last_recv_ms, 5000);
    assert_int_equal(fx.log.count, 1);
    assert_string_equal(fx.log.text[0], "peer 0 (player 1): interrupted -> running");

    assert_false(rn_peer_heard(&fx.p, 5016, &fx.events));
    assert_int_equal(fx.p.state, RN_PEER_RUNNING);
    assert_int_equal(fx.p.last_recv_ms, 5016);
    assert_int_equal(fx.log.count, 1);
}

static void heard_in_other_states_only_notes_the_time(void **state)
{
    (void)state;
    const rn_peer_state states[] = {RN_PEER_EMPTY,   RN_PEER_CONNECTING, RN_PEER_HANDSHAKE,
                                    RN_PEER_RUNNING, RN_PEER_LEAVING,    RN_PEER_GONE};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        fx_init(0, 1u << 1);
        fx.p.state = states[i];
        assert_false(rn_peer_heard(&fx.p, 100 + i, &fx.events));
        assert_int_equal(fx.p.state, states[i]);
        assert_int_equal(fx.p.last_recv_ms, 100 + i);
        assert_int_equal(fx.log.count, 0);
    }
}

static void rates_wait_for_a_full_second_then_are_per_second(void **state)
{
    (void)state;
    rn_peer p;
    rn_peer_reset(&p, 0);
    p.rate_start_ms = 10000;
    p.st.bytes_sent = 600;
    p.st.bytes_received = 300;
    rn_peer_update_rates(&p, 10999); /* under a second: nothing yet */
    assert_int_equal(p.st.bytes_sent_per_sec, 0);
    assert_int_equal(p.st.bytes_received_per_sec, 0);
    assert_int_equal(p.rate_start_ms, 10000);

    rn_peer_update_rates(&p, 11000); /* exactly one second */
    assert_int_equal(p.st.bytes_sent_per_sec, 600);
    assert_int_equal(p.st.bytes_received_per_sec, 300);
    assert_int_equal(p.rate_start_ms, 11000);

    /* Only what came since the last refresh counts, over its real span. */
    p.st.bytes_sent += 3000;
    p.st.bytes_received += 1500;
    rn_peer_update_rates(&p, 12500);
    assert_int_equal(p.st.bytes_sent_per_sec, 2000);
    assert_int_equal(p.st.bytes_received_per_sec, 1000);

    /* Another refresh within the second keeps the last figures. */
    p.st.bytes_sent += 10000;
    rn_peer_update_rates(&p, 12600);
    assert_int_equal(p.st.bytes_sent_per_sec, 2000);
}

static void made_hello_carries_the_parameters_and_matches_its_desc(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    memset(&m, 0x77, sizeof(m));
    rn_peer_make_hello(&d, 0xabcdefull, 0x5u, &m);
    assert_int_equal(m.type, RN_MSG_HELLO);
    const rn_hello *h = &m.u.hello;
    assert_int_equal(h->version, RN_PROTOCOL_VERSION);
    assert_int_equal(h->nonce, 0xabcdefull);
    assert_int_equal(h->num_players, 3);
    assert_int_equal(h->input_size, 2);
    assert_int_equal(h->input_delay, 1);
    assert_int_equal(h->fps, 60);
    assert_int_equal(h->max_prediction, 7);
    assert_int_equal(h->checksum_interval, 16);
    assert_int_equal(h->game_id, d.game_id);
    assert_int_equal(h->seed, d.seed);
    assert_int_equal(h->player_mask, 0x5u);
    assert_int_equal(h->game_params_size, 0);

    rollnet_param param = ROLLNET_PARAM_PLAYERS;
    int64_t mine = 12345, theirs = 12345;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE] = "x";
    assert_true(rn_peer_hello_matches(&d, h, &param, &mine, &theirs, key));
    /* Nothing is reported for a match. */
    assert_string_equal(key, "");
    assert_int_equal(param, ROLLNET_PARAM_PLAYERS);
    assert_int_equal(mine, 12345);
    assert_int_equal(theirs, 12345);
}

/* The nonce and the player mask are not session parameters. */
static void nonce_and_players_do_not_take_part_in_the_check(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    rn_peer_make_hello(&d, 1, 0x1u, &m);
    m.u.hello.nonce = 2;
    m.u.hello.player_mask = 0x6u;
    rollnet_param param;
    int64_t mine, theirs;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    assert_true(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
}

static void each_differing_parameter_is_named_with_both_values(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    const struct {
        rollnet_param param;
        int64_t mine, theirs;
    } want[] = {
        {ROLLNET_PARAM_PROTOCOL_VERSION, RN_PROTOCOL_VERSION, RN_PROTOCOL_VERSION + 1},
        {ROLLNET_PARAM_NUM_PLAYERS, 3, 4},
        {ROLLNET_PARAM_INPUT_SIZE, 2, 8},
        {ROLLNET_PARAM_FPS, 60, 30},
        {ROLLNET_PARAM_MAX_PREDICTION, 7, 8},
        {ROLLNET_PARAM_GAME_ID, (int64_t)0x1122334455667788ull, 42},
        {ROLLNET_PARAM_SEED, (int64_t)0x99aabbccddeeff00ull, 43},
        {ROLLNET_PARAM_CHECKSUM_INTERVAL, 16, ROLLNET_CHECKSUMS_OFF},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        rn_msg m;
        rn_peer_make_hello(&d, 1, 0x1u, &m);
        rn_hello *h = &m.u.hello;
        switch (want[i].param) {
        case ROLLNET_PARAM_PROTOCOL_VERSION: h->version = (uint32_t)want[i].theirs; break;
        case ROLLNET_PARAM_NUM_PLAYERS: h->num_players = (int32_t)want[i].theirs; break;
        case ROLLNET_PARAM_INPUT_SIZE: h->input_size = (int32_t)want[i].theirs; break;
        case ROLLNET_PARAM_FPS: h->fps = (int32_t)want[i].theirs; break;
        case ROLLNET_PARAM_MAX_PREDICTION: h->max_prediction = (int32_t)want[i].theirs; break;
        case ROLLNET_PARAM_GAME_ID: h->game_id = (uint64_t)want[i].theirs; break;
        case ROLLNET_PARAM_SEED: h->seed = (uint64_t)want[i].theirs; break;
        case ROLLNET_PARAM_CHECKSUM_INTERVAL: h->checksum_interval = (int32_t)want[i].theirs; break;
        default: fail();
        }
        rollnet_param param;
        int64_t mine = 0, theirs = 0;
        char key[ROLLNET_GAME_PARAM_KEY_SIZE] = "x";
        assert_false(rn_peer_hello_matches(&d, h, &param, &mine, &theirs, key));
        assert_string_equal(key, "");
        assert_int_equal(param, want[i].param);
        assert_int_equal(mine, want[i].mine);
        assert_int_equal(theirs, want[i].theirs);
    }
}

static void the_first_differing_parameter_is_the_one_named(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    rn_peer_make_hello(&d, 1, 0x1u, &m);
    m.u.hello.seed = 1;          /* later in the list */
    m.u.hello.fps = 30;          /* earlier */
    m.u.hello.checksum_interval = 8;
    rollnet_param param;
    int64_t mine, theirs;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    assert_false(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_FPS);
    assert_int_equal(mine, 60);
    assert_int_equal(theirs, 30);
}

/* Each peer chooses its own input delay: a HELLO with another one matches. */
static void a_different_input_delay_is_not_refused(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    rn_peer_make_hello(&d, 1, 0x1u, &m);
    m.u.hello.input_delay = ROLLNET_MAX_INPUT_DELAY;
    rollnet_param param;
    int64_t mine, theirs;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    assert_true(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
}

/* {"max_steps": 450, "map": "arena"} in two key orders, and with another max_steps. */
static const uint8_t k_rules[] = { 0x82, 0xa9, 'm', 'a', 'x', '_', 's', 't', 'e', 'p', 's',
                                   0xcd, 0x01, 0xc2, 0xa3, 'm', 'a', 'p', 0xa5, 'a', 'r',
                                   'e', 'n', 'a' };
static const uint8_t k_rules_reordered[] = { 0x82, 0xa3, 'm', 'a', 'p', 0xa5, 'a', 'r', 'e',
                                             'n', 'a', 0xa9, 'm', 'a', 'x', '_', 's', 't',
                                             'e', 'p', 's', 0xcd, 0x01, 0xc2 };
static const uint8_t k_rules_300[] = { 0x82, 0xa3, 'm', 'a', 'p', 0xa5, 'a', 'r', 'e', 'n',
                                       'a', 0xa9, 'm', 'a', 'x', '_', 's', 't', 'e', 'p',
                                       's', 0xcd, 0x01, 0x2c };

/* The game parameters travel in the HELLO and are compared as maps, after
 * every other parameter. */
static void game_params_are_compared_as_maps_after_the_other_parameters(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    d.game_params = k_rules;
    d.game_params_size = sizeof k_rules;
    rn_msg m;
    rn_peer_make_hello(&d, 1, 0x1u, &m);
    assert_ptr_equal(m.u.hello.game_params, k_rules);
    assert_int_equal(m.u.hello.game_params_size, sizeof k_rules);
    rollnet_param param;
    int64_t mine = 0, theirs = 0;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    /* Another key order: the same map. */
    m.u.hello.game_params = k_rules_reordered;
    assert_true(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
    /* Another value: named by its key; both sides have it. */
    m.u.hello.game_params = k_rules_300;
    assert_false(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_GAME_PARAMS);
    assert_string_equal(key, "max_steps");
    assert_int_equal(mine, 1);
    assert_int_equal(theirs, 1);
    /* A peer without any: the first key here is missing there. */
    m.u.hello.game_params = NULL;
    m.u.hello.game_params_size = 0;
    assert_false(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
    assert_string_equal(key, "map");
    assert_int_equal(mine, 1);
    assert_int_equal(theirs, 0);
    /* A scalar parameter that differs is named first. */
    m.u.hello.game_params = k_rules_300;
    m.u.hello.game_params_size = sizeof k_rules_300;
    m.u.hello.fps = 30;
    assert_false(rn_peer_hello_matches(&d, &m.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_FPS);
    assert_string_equal(key, "");
}

/* Whether a session key is used must agree; the key itself is the AUTH's
 * business (the HELLO carries only the flag). */
static void a_key_on_one_side_only_is_named_session_key(void **state)
{
    (void)state;
    rollnet_session_desc d = hello_desc();
    rn_msg m;
    rn_peer_make_hello(&d, 1, 0x1u, &m);
    assert_false(m.u.hello.keyed);
    static const char secret[] = "invite";
    rollnet_session_desc keyed = d;
    keyed.session_key = secret;
    keyed.session_key_size = sizeof(secret) - 1;
    rn_msg k;
    rn_peer_make_hello(&keyed, 1, 0x1u, &k);
    assert_true(k.u.hello.keyed);

    rollnet_param param;
    int64_t mine = 0, theirs = 0;
    char key[ROLLNET_GAME_PARAM_KEY_SIZE];
    assert_false(rn_peer_hello_matches(&keyed, &m.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_SESSION_KEY);
    assert_int_equal(mine, 1);
    assert_int_equal(theirs, 0);
    assert_false(rn_peer_hello_matches(&d, &k.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_SESSION_KEY);
    assert_int_equal(mine, 0);
    assert_int_equal(theirs, 1);
    assert_true(rn_peer_hello_matches(&keyed, &k.u.hello, &param, &mine, &theirs, key));
    /* Another parameter that differs is named first. */
    k.u.hello.fps = 30;
    assert_false(rn_peer_hello_matches(&d, &k.u.hello, &param, &mine, &theirs, key));
    assert_int_equal(param, ROLLNET_PARAM_FPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(game_params_are_compared_as_maps_after_the_other_parameters),
        cmocka_unit_test(reset_peer_has_no_connection_and_nothing_acknowledged),
        cmocka_unit_test(every_state_has_its_own_name),
        cmocka_unit_test(every_transition_is_logged_once_with_both_state_names),
        cmocka_unit_test(peer_without_players_is_logged_as_player_minus_one),
        cmocka_unit_test(setting_the_same_state_logs_nothing_and_changes_nothing),
        cmocka_unit_test(transitions_keep_the_stats_flags_in_step),
        cmocka_unit_test(live_and_departed_follow_the_state),
        cmocka_unit_test(event_player_is_the_lowest_hosted_player),
        cmocka_unit_test(heard_ends_an_interruption_exactly_once),
        cmocka_unit_test(heard_in_other_states_only_notes_the_time),
        cmocka_unit_test(rates_wait_for_a_full_second_then_are_per_second),
        cmocka_unit_test(made_hello_carries_the_parameters_and_matches_its_desc),
        cmocka_unit_test(nonce_and_players_do_not_take_part_in_the_check),
        cmocka_unit_test(each_differing_parameter_is_named_with_both_values),
        cmocka_unit_test(the_first_differing_parameter_is_the_one_named),
        cmocka_unit_test(a_different_input_delay_is_not_refused),
        cmocka_unit_test(a_key_on_one_side_only_is_named_session_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
