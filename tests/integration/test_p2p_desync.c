/* Desync detection: checksums of confirmed frames are compared across peers,
 * a real divergence is reported within one checksum interval, and heavy
 * rollbacks alone never raise a false alarm. */
#include "p2p_fixture.h"

static void test_forced_desync_is_detected_within_one_interval(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 51;
    o.sim[0].delay_ms = 40;
    o.sim[1].delay_ms = 40;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 600);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DESYNC], 0);
    /* From now on node 1's game mixes state it never saves into its RNG. */
    int32_t diverge = fx_stats(&f, 1).frame;
    f.g[1].nondeterministic = true;
    fx_run(&f, 200);
    for (int i = 0; i < 2; i++) {
        assert_true(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC] >= 1);
    }
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(f.s[0], &info), ROLLNET_ERR_OK);
    assert_true(info.first_checksum != info.second_checksum);
    /* The first checksummed frame after the divergence, at the latest. */
    assert_true(info.frame > diverge - 16);
    assert_true(info.frame <= diverge + 16 + ROLLNET_MAX_PREDICTION);
    const rollnet_event *ev = &f.hp[0].last_event[ROLLNET_EVENT_DESYNC];
    assert_true(ev->u.desync.local_checksum != ev->u.desync.remote_checksum);
    fx_free(&f);
}

static void test_checksum_every_frame_detects_at_once(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 52;
    o.checksum_interval = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    int32_t diverge = fx_stats(&f, 1).frame;
    f.g[1].nondeterministic = true;
    fx_run(&f, 30);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(f.s[1], &info), ROLLNET_ERR_OK);
    assert_true(info.frame <= diverge + 2);
    fx_free(&f);
}

static void test_no_false_alarm_under_heavy_rollback(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 53;
    o.checksum_interval = 1;
    o.sim[0] = (rollnet_netsim_desc){.delay_ms = 80, .jitter_ms = 40, .loss_permille = 100};
    o.sim[1] = (rollnet_netsim_desc){.delay_ms = 60, .jitter_ms = 40, .loss_permille = 100,
                                     .reorder_permille = 100};
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 3000);
    assert_true(fx_stats(&f, 0).rollbacks > 100);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DESYNC], 0);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(f.s[0], &info), ROLLNET_ERR_NO_DESYNC);
    fx_free(&f);
}

static void test_checksums_off_never_compare(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 54;
    o.checksum_interval = ROLLNET_CHECKSUMS_OFF;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 100);
    f.g[1].nondeterministic = true;
    fx_run(&f, 300);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC], 0);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_desync_is_detected_within_one_interval),
        cmocka_unit_test(test_checksum_every_frame_detects_at_once),
        cmocka_unit_test(test_no_false_alarm_under_heavy_rollback),
        cmocka_unit_test(test_checksums_off_never_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
