/* absent_play NEUTRAL (two players): the side the lost peer had connected
 * to plays on with its players neutral, every such frame flagged in the
 * records; the side that had connected waits; a peer comes back only by
 * rejoining, after the neutral frames. In the fixture node 0 dials node 1,
 * so node 1 is the host that plays on. */
#include "rejoin_util.h"

/* absent_play NEUTRAL: node 0 (it dials node 1, the host) crashes; node 1
 * plays on with player 0 neutral, every such record flagged; the restarted
 * node 0 rejoins after the neutral frames, and from there both agree. */
static void test_the_host_plays_on_while_a_crashed_joiner_is_away(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 310);
    o.absent_play = ROLLNET_ABSENT_NEUTRAL;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    int32_t crashed_at = fx_stats(&f, 1).frame;
    fx_crash(&f, 0);
    fx_run(&f, 15 * 60); /* 5 s to notice the loss, then 10 s played on */
    int32_t played = fx_stats(&f, 1).frame;
    assert_true(played > crashed_at + 500); /* more than any input queue holds */
    fx_restart(&f, 0);
    fx_run(&f, 900);
    int32_t from = assert_rejoined(&f, 1, 0, 600);
    assert_true(from > crashed_at + 200);
    /* The host's records: player 0 neutral and flagged from some frame
     * after the crash to `from`, unflagged before and after. */
    const fx_records *h = f.rec[1];
    int32_t first_flagged = -1, flagged = 0;
    for (int k = 0; k < h->count; k++) {
        bool flag = (h->disconnected[k] & 1u) != 0;
        assert_int_equal(h->disconnected[k] & ~1u, 0);
        if (flag) {
            first_flagged = first_flagged < 0 ? h->frame[k] : first_flagged;
            flagged++;
            assert_int_equal(h->first_input_byte[k][0], 0);
            assert_true(h->frame[k] < from);
        } else {
            assert_true(h->frame[k] < crashed_at + ROLLNET_MAX_PREDICTION + 2 || h->frame[k] >= from);
        }
    }
    assert_true(first_flagged >= 0 && first_flagged <= crashed_at + ROLLNET_MAX_PREDICTION + 1);
    assert_int_equal(flagged, from - first_flagged);
    fx_free(&f);
}

/* absent_play NEUTRAL and a partition, both processes alive: the host
 * plays on, the dialling side waits; when the link is back its resume is
 * answered "played on" (DISCONNECTED, PLAYED_ON, the session stops), and
 * created again with rejoin it comes back. */
static void test_a_live_peer_the_host_played_on_without_comes_back_by_rejoining(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 311);
    o.absent_play = ROLLNET_ABSENT_NEUTRAL;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_set_cut(f.net, 0, true);
    fx_run(&f, 9 * 60);
    int32_t waiting = fx_stats(&f, 0).frame;
    int32_t host = fx_stats(&f, 1).frame;
    fx_run(&f, 60);
    assert_int_equal(fx_stats(&f, 0).frame, waiting); /* the dialling side waits */
    assert_true(fx_stats(&f, 1).frame > host + 40);   /* the host plays on */
    rollnet_memnet_set_cut(f.net, 0, false);
    rollnet_error e0 = ROLLNET_ERR_OK;
    for (int t = 0; t < 10 * 60 && (e0 == ROLLNET_ERR_OK || harness_is_skip(e0)); t++) {
        uint64_t now = harness_clock_now(&f.clock);
        e0 = harness_tick(&f.hp[0], now);
        harness_tick(&f.hp[1], now);
        fx_record_hash(&f, 0);
        fx_record_hash(&f, 1);
        harness_clock_tick(&f.clock);
    }
    assert_int_equal(e0, ROLLNET_ERR_DISCONNECTED);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_PLAYED_ON);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_crash(&f, 0); /* the game creates its session again, with rejoin */
    fx_restart(&f, 0);
    fx_run(&f, 900);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1], f.rec[0]) >= 600);
    no_desync(&f);
    fx_free(&f);
}

/* The last error line a session's desc check logged. */
static char desc_log[256];
static void keep_desc_log(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)user_data;
    if (level == ROLLNET_LOG_ERROR) {
        snprintf(desc_log, sizeof desc_log, "%s", msg);
    }
}

static rollnet_error create_and_destroy(rollnet_memnet *net, rollnet_session_desc *d)
{
    rollnet_session *s = NULL;
    desc_log[0] = '\0';
    d->transport = rollnet_memnet_transport(net, 0);
    rollnet_error err = rollnet_session_create(d, &s);
    assert_true((err == ROLLNET_ERR_OK) == (s != NULL));
    rollnet_session_destroy(s);
    return err;
}

/* absent_play NEUTRAL is for any number of players now (three or more
 * agree on the lost peer's frames first), but only with reconnection and
 * rejoin on: the place is kept for the crashed process to come back. */
static void test_play_on_with_three_players_needs_reconnection_and_rejoin(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.num_players = 3;
    d.players[0].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.players[2].kind = ROLLNET_PLAYER_REMOTE;
    d.players[2].address = "mem:2";
    d.logger.log = keep_desc_log;
    d.absent_play = ROLLNET_ABSENT_NEUTRAL;
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_OK);
    d.rejoin = true; /* a restarted process plays on too */
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_OK);
    d.rejoin = false;
    d.rejoin_timeout_ms = ROLLNET_REJOIN_OFF;
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_INVALID_DESC);
    assert_non_null(strstr(desc_log, "desc.absent_play"));
    d.rejoin_timeout_ms = 0;
    d.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF;
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_INVALID_DESC);
    assert_non_null(strstr(desc_log, "desc.absent_play"));
    /* Two players without rejoin: refused alike. */
    d.reconnect_timeout_ms = 0;
    d.rejoin_timeout_ms = ROLLNET_REJOIN_OFF;
    d.num_players = 2;
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_INVALID_DESC);
    assert_non_null(strstr(desc_log, "desc.absent_play"));
    d.rejoin_timeout_ms = 0;
    d.absent_play = (rollnet_absent_play)7;
    assert_int_equal(create_and_destroy(net, &d), ROLLNET_ERR_INVALID_DESC);
    assert_non_null(strstr(desc_log, "desc.absent_play"));
    rollnet_memnet_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_host_plays_on_while_a_crashed_joiner_is_away),
        cmocka_unit_test(test_a_live_peer_the_host_played_on_without_comes_back_by_rejoining),
        cmocka_unit_test(test_play_on_with_three_players_needs_reconnection_and_rejoin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
