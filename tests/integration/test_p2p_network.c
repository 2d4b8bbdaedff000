/* Two sessions over the network simulator: latency, asymmetry, jitter, loss,
 * duplication and reordering. Every scenario runs thousands of frames with
 * seeded bots and must end with identical confirmed ledgers and states, with
 * rollbacks as deep as the latency forces. */
#include "p2p_fixture.h"

typedef struct scenario {
    const char *name;
    rollnet_netsim_desc a_to_b, b_to_a;
    int frames;
} scenario;

/* Frames of one-way delay at 60 fps, rounded up. */
static int delay_frames(uint32_t ms)
{
    return (int)((ms * 60 + 999) / 1000);
}

static void run_scenario(const scenario *sc, uint64_t seed)
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = seed;
    o.write_records = true;
    o.sim[0] = sc->a_to_b;
    o.sim[1] = sc->b_to_a;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, (uint64_t)sc->frames);
    assert_true(fx_all_running(&f));
    int rows = fx_assert_ledgers_agree(&f, sc->frames * 8 / 10);
    fx_assert_states_agree(&f);
    rollnet_session_stats a = fx_stats(&f, 0), b = fx_stats(&f, 1);
    int slow = delay_frames(sc->a_to_b.delay_ms > sc->b_to_a.delay_ms ? sc->a_to_b.delay_ms
                                                                       : sc->b_to_a.delay_ms);
    fprintf(stderr, "%-12s rows %d | a: frame %d rb %llu depth %d | b: frame %d rb %llu depth %d\n",
            sc->name, rows, a.frame, (unsigned long long)a.rollbacks, a.max_rollback_depth, b.frame,
            (unsigned long long)b.rollbacks, b.max_rollback_depth);
    /* Latency forces rollbacks of at least the one-way delay on some peer,
     * and no rollback may exceed the prediction window. */
    if (slow > 0) {
        assert_true(a.rollbacks + b.rollbacks > 0);
        int deepest = a.max_rollback_depth > b.max_rollback_depth ? a.max_rollback_depth
                                                                  : b.max_rollback_depth;
        assert_true(deepest >= (slow < ROLLNET_MAX_PREDICTION ? slow : ROLLNET_MAX_PREDICTION));
    }
    assert_true(a.max_rollback_depth <= ROLLNET_MAX_PREDICTION);
    assert_true(b.max_rollback_depth <= ROLLNET_MAX_PREDICTION);
    /* With two players every rollback is charged to the one remote peer. */
    rollnet_peer_stats pa, pb;
    assert_int_equal(rollnet_session_peer_stats(f.s[0], 1, &pa), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_peer_stats(f.s[1], 0, &pb), ROLLNET_ERR_OK);
    assert_true(pa.rollbacks == a.rollbacks && pb.rollbacks == b.rollbacks);
    assert_true(pa.frames_resimulated == a.frames_resimulated);
    assert_int_equal(pa.max_rollback_depth, a.max_rollback_depth);
    assert_true(pa.rtt_ms >= 2 * sc->a_to_b.delay_ms);
    assert_int_equal(pa.dropped_malformed + pa.dropped_foreign + pa.dropped_oversize, 0);
    /* Frames keep moving: neither peer stalls for long. */
    assert_true(a.frame > sc->frames * 8 / 10 && b.frame > sc->frames * 8 / 10);
    fx_free(&f);
}

static void test_rtt_100ms(void **state)
{
    (void)state;
    scenario sc = {"rtt100", {.delay_ms = 50}, {.delay_ms = 50}, 3000};
    run_scenario(&sc, 21);
}

static void test_rtt_200ms(void **state)
{
    (void)state;
    scenario sc = {"rtt200", {.delay_ms = 100}, {.delay_ms = 100}, 3000};
    run_scenario(&sc, 22);
}

static void test_asymmetric_25_100(void **state)
{
    (void)state;
    scenario sc = {"asym25/100", {.delay_ms = 25}, {.delay_ms = 100}, 3000};
    run_scenario(&sc, 23);
}

static void test_jitter_40(void **state)
{
    (void)state;
    scenario sc = {"jitter40", {.delay_ms = 50, .jitter_ms = 40}, {.delay_ms = 50, .jitter_ms = 40},
                   3000};
    run_scenario(&sc, 24);
}

static void test_loss_5(void **state)
{
    (void)state;
    scenario sc = {"loss5", {.delay_ms = 30, .loss_permille = 50},
                   {.delay_ms = 30, .loss_permille = 50}, 3000};
    run_scenario(&sc, 25);
}

static void test_loss_15(void **state)
{
    (void)state;
    scenario sc = {"loss15", {.delay_ms = 30, .loss_permille = 150},
                   {.delay_ms = 30, .loss_permille = 150}, 3000};
    run_scenario(&sc, 26);
}

static void test_duplication_and_reordering(void **state)
{
    (void)state;
    scenario sc = {"dup+reorder",
                   {.delay_ms = 40, .dup_permille = 100, .reorder_permille = 100, .jitter_ms = 10},
                   {.delay_ms = 40, .dup_permille = 100, .reorder_permille = 100, .jitter_ms = 10},
                   3000};
    run_scenario(&sc, 27);
}

/* The link drops everything for 2 s and recovers: both peers report the peer
 * interrupted, then resumed, nobody disconnects, and the ledgers still agree. */
static void test_link_down_two_seconds_then_recovers(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 28;
    o.write_records = true;
    o.sim[0].delay_ms = 20;
    o.sim[1].delay_ms = 20;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 600);
    int32_t frame_before = fx_stats(&f, 0).frame;
    rollnet_memnet_set_cut(f.net, 1, true);
    fx_run(&f, 120); /* 2 s */
    /* Stalled at the prediction window, not beyond it. */
    assert_true(fx_stats(&f, 0).frame <= frame_before + ROLLNET_MAX_PREDICTION + 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_RESUMED], 0);
        assert_true(f.hp[i].event_counts[ROLLNET_EVENT_STALLED] >= 1);
    }
    rollnet_memnet_set_cut(f.net, 1, false);
    fx_run(&f, 1200);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_RESUMED], 1);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    assert_true(fx_stats(&f, 0).frame > frame_before + 1000);
    fx_assert_ledgers_agree(&f, 1500);
    fx_assert_states_agree(&f);
    fx_free(&f);
}

/* A link that turns bad mid-run and recovers (conditions changed live). */
static void test_link_turns_bad_and_recovers(void **state)
{
    (void)state;
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = 29;
    o.write_records = true;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 500);
    uint64_t rb_before = fx_stats(&f, 0).rollbacks + fx_stats(&f, 1).rollbacks;
    rollnet_netsim_desc bad = {.delay_ms = 80, .jitter_ms = 30, .loss_permille = 100};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rollnet_netsim_set(&f.sim[i], &bad), ROLLNET_ERR_OK);
    }
    fx_run(&f, 1000);
    rollnet_session_stats a = fx_stats(&f, 0), b = fx_stats(&f, 1);
    assert_true(a.rollbacks + b.rollbacks > rb_before + 50);
    assert_true(a.max_rollback_depth >= 5 || b.max_rollback_depth >= 5);
    rollnet_netsim_desc good = {0};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rollnet_netsim_set(&f.sim[i], &good), ROLLNET_ERR_OK);
    }
    fx_run(&f, 1000);
    fx_assert_ledgers_agree(&f, 2300);
    fx_assert_states_agree(&f);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtt_100ms),
        cmocka_unit_test(test_rtt_200ms),
        cmocka_unit_test(test_asymmetric_25_100),
        cmocka_unit_test(test_jitter_40),
        cmocka_unit_test(test_loss_5),
        cmocka_unit_test(test_loss_15),
        cmocka_unit_test(test_duplication_and_reordering),
        cmocka_unit_test(test_link_down_two_seconds_then_recovers),
        cmocka_unit_test(test_link_turns_bad_and_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
