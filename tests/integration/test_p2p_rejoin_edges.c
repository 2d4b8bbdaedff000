/* Rejoin, the edges: input delays and checksums every frame, a second crash
 * soon after a rejoin, a reconnect after a rejoin, crashes on both sides,
 * a wrong key or other parameters on the restarted process, an episode
 * boundary, a big state over lossy links. Fixture as in test_p2p_rejoin.c. */
#include "rejoin_util.h"

static void rejoin_with_delays(uint64_t seed, int who, int d0, int d1, int iv)
{
    fx_opts o;
    base_opts(&o, seed);
    o.node_delay[0] = d0;
    o.node_delay[1] = d1;
    o.checksum_interval = iv;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, 150, 900);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}

static void test_a_joiner_rejoins_with_delay_2_and_checksums_every_frame(void **state)
{
    (void)state;
    rejoin_with_delays(401, 1, 2, 2, 1);
}
static void test_a_host_rejoins_with_delay_2_and_checksums_every_frame(void **state)
{
    (void)state;
    rejoin_with_delays(402, 0, 2, 2, 1);
}
static void test_a_rejoin_with_delay_on_the_survivor_only(void **state)
{
    (void)state;
    rejoin_with_delays(403, 1, 3, 0, 1);
}
static void test_a_joiner_rejoins_with_delay_on_the_rejoiner_only(void **state)
{
    (void)state;
    rejoin_with_delays(404, 1, 0, 3, 1);
}
static void test_a_host_rejoins_with_delay_on_the_rejoiner_only(void **state)
{
    (void)state;
    rejoin_with_delays(405, 0, 3, 0, 1);
}


/* The restarted process runs with another input delay than the crashed one. */
static void test_a_rejoiner_may_change_its_input_delay(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 406);
    o.checksum_interval = 1;
    o.node_delay[1] = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 1);
    fx_run(&f, 100);
    f.opts.node_delay[1] = 4;
    fx_restart(&f, 1);
    fx_run(&f, 900);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_clean(&f);
    fx_free(&f);
}

/* Crashes again soon after the rejoin, and comes back again. */
static void rejoin_twice(uint64_t seed, int who, uint64_t gap)
{
    fx_opts o;
    base_opts(&o, seed);
    o.checksum_interval = 1;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, 100, gap);
    fx_crash(&f, who);
    fx_run(&f, 100);
    fx_restart(&f, who);
    fx_run(&f, 900);
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED], 2);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 600);
    /* The first new process's records before the second rejoin's frame. */
    int32_t from = f.hp[1 - who].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame;
    fx_records *before = f.rec_before[who];
    while (before->count > 0 && before->frame[before->count - 1] >= from) {
        before->count--;
    }
    assert_true(agree_by_frame(f.rec[1 - who], before) > 0);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_joiner_crashes_again_after_a_rejoin(void **state) { (void)state; rejoin_twice(410, 1, 200); }
static void test_a_host_crashes_again_after_a_rejoin(void **state) { (void)state; rejoin_twice(411, 0, 200); }
static void test_a_joiner_crashes_again_soon_after_a_rejoin(void **state) { (void)state; rejoin_twice(412, 1, 40); }
static void test_a_host_crashes_again_soon_after_a_rejoin(void **state) { (void)state; rejoin_twice(413, 0, 40); }

/* After a rejoin the connection drops (a cut) and comes back: RESUMED,
 * with the new process's nonce. */
static void reconnect_after(uint64_t seed, int who, int cut)
{
    fx_opts o;
    base_opts(&o, seed);
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, 100, 300);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    uint64_t r0 = f.hp[0].event_counts[ROLLNET_EVENT_RESUMED];
    uint64_t r1 = f.hp[1].event_counts[ROLLNET_EVENT_RESUMED];
    rollnet_memnet_set_cut(f.net, cut, true);
    fx_run(&f, 7 * 60);
    rollnet_memnet_set_cut(f.net, cut, false);
    fx_run(&f, 15 * 60);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_RESUMED] > r0);
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_RESUMED] > r1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_rejoined_listener_resumes_after_a_connection_loss(void **state) { (void)state; reconnect_after(420, 1, 1); }
static void test_a_rejoined_dialler_resumes_after_a_connection_loss(void **state) { (void)state; reconnect_after(421, 0, 1); }

/* A restarted process with a wrong key is refused; the right one then rejoins. */
static void test_a_restart_with_a_wrong_key_is_refused_then_the_right_one_rejoins(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 430);
    o.key[0] = "invite-1";
    o.key[1] = "invite-1";
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 1);
    fx_run(&f, 60);
    f.opts.key[1] = "wrong";
    fx_restart(&f, 1);
    f.paused[1] = true; /* the wrong process: ticked here, its errors its own */
    for (int t = 0; t < 300; t++) {
        harness_tick(&f.hp[1], harness_clock_now(&f.clock));
        fx_run(&f, 1);
    }
    f.paused[1] = false;
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_crash(&f, 1);
    f.opts.key[1] = "invite-1";
    fx_restart(&f, 1);
    fx_run(&f, 900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_clean(&f);
    fx_free(&f);
}

/* One side crashes and rejoins, then the other side does: the survivor of
 * the second crash is itself a process that rejoined. */
static void crash_each(uint64_t seed, int first)
{
    fx_opts o;
    base_opts(&o, seed);
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, first, 400, 100, 300);
    assert_int_equal(f.hp[first].event_counts[ROLLNET_EVENT_REJOINED], 1);
    int second = 1 - first;
    fx_crash(&f, second);
    fx_run(&f, 100);
    fx_restart(&f, second);
    fx_run(&f, 900);
    assert_int_equal(f.hp[second].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[first].event_counts[ROLLNET_EVENT_REJOINED], 2);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_rejoined_joiner_keeps_the_place_of_a_crashed_host(void **state) { (void)state; crash_each(440, 1); }
static void test_a_rejoined_host_keeps_the_place_of_a_crashed_joiner(void **state) { (void)state; crash_each(441, 0); }

/* A process started again with other parameters (another build of the game)
 * answers the survivor's reconnect attempt: the survivor's attempt is
 * refused, and it goes on waiting for the right process. */
static void test_a_restart_with_other_parameters_leaves_the_survivor_waiting(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 450);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 1);
    fx_run(&f, 60);
    f.opts.game_id[1] = 77;
    fx_restart(&f, 1);
    f.paused[1] = true; /* the wrong process: ticked here, its errors its own */
    for (int t = 0; t < 300; t++) {
        harness_tick(&f.hp[1], harness_clock_now(&f.clock));
        fx_run(&f, 1);
    }
    f.paused[1] = false;
    assert_int_equal(fx_stats(&f, 0).running, true);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 0);
    fx_crash(&f, 1);
    f.opts.game_id[1] = 0;
    fx_restart(&f, 1);
    fx_run(&f, 900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_clean(&f);
    fx_free(&f);
}

/* The crash falls just before an episode's end and the peer stays down past
 * episode_timeout_ms: the survivor waits at the boundary (its wait times
 * out), the rejoined process's records carry on the same episodes. */
static void across_a_boundary(uint64_t seed, int who, int down)
{
    fx_opts o;
    base_opts(&o, seed);
    o.max_steps = 100;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 280);
    int32_t frame = fx_stats(&f, who).frame;
    fx_run(&f, (uint64_t)(300 - frame % 100 > 0 ? 300 - frame % 100 : 1));
    fx_crash(&f, who);
    fx_run(&f, (uint64_t)down);
    fx_restart(&f, who);
    fx_run(&f, 900);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 500);
    const fx_records *r = f.rec[who];
    assert_true(r->episode[r->count - 1] > r->episode[0]);
    for (int k = 0; k < r->count; k++) {
        assert_int_equal(r->step[k], r->frame[k] % 100);
        assert_int_equal(r->episode[k], r->frame[k] / 100);
    }
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_joiner_down_past_the_episode_timeout_rejoins(void **state)
{
    (void)state;
    across_a_boundary(510, 1, 600);
}
static void test_a_host_down_past_the_episode_timeout_rejoins(void **state)
{
    (void)state;
    across_a_boundary(511, 0, 600);
}

/* A private session whose dialling side crashes: the rejoin comes as an
 * incoming connection and proves the key (AUTH) before it takes the seat. */
static void test_a_host_rejoins_a_private_session(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 520);
    o.key[0] = "invite-42";
    o.key[1] = "invite-42";
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 0, 400, 120, 900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1], f.rec[0]) > 600);
    assert_clean(&f);
    fx_free(&f);
}

/* A state of many chunks over lossy links with input delay on both sides,
 * checksums every frame. */
static void lossy_big(uint64_t seed, int who)
{
    fx_opts o;
    base_opts(&o, seed);
    o.blob_size = 16000; /* TG_MAX_BLOB */
    o.snapshot_capacity = 32768;
    o.input_delay = 2;
    o.checksum_interval = 1;
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 500, 150, 1200);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_joiner_rejoins_with_a_big_state_over_lossy_links(void **state)
{
    (void)state;
    lossy_big(530, 1);
}
static void test_a_host_rejoins_with_a_big_state_over_lossy_links(void **state)
{
    (void)state;
    lossy_big(531, 0);
}


/* The new process crashes again 0..10 ticks after it was started: before
 * its HELLO arrives, while the survivor sends the state, or just after it
 * loaded it. A third process still rejoins and the ledgers agree. */
static void crash_in_transfer(uint64_t seed, int who, uint64_t gap)
{
    fx_opts o;
    base_opts(&o, seed);
    o.checksum_interval = 1;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, 100, gap);
    fx_crash(&f, who);
    fx_run(&f, 100);
    fx_restart(&f, who);
    fx_run(&f, 900);
    assert_true(f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED] >= 1);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1 - who], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_process_that_crashes_during_its_rejoin_is_replaced_by_a_third(void **state)
{
    (void)state;
    for (uint64_t gap = 0; gap <= 10; gap++) {
        crash_in_transfer(600 + gap, 1, gap);
        crash_in_transfer(700 + gap, 0, gap);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]); /* a test name or a pattern */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_joiner_rejoins_with_delay_2_and_checksums_every_frame),
        cmocka_unit_test(test_a_host_rejoins_with_delay_2_and_checksums_every_frame),
        cmocka_unit_test(test_a_rejoin_with_delay_on_the_survivor_only),
        cmocka_unit_test(test_a_joiner_rejoins_with_delay_on_the_rejoiner_only),
        cmocka_unit_test(test_a_host_rejoins_with_delay_on_the_rejoiner_only),
        cmocka_unit_test(test_a_rejoiner_may_change_its_input_delay),
        cmocka_unit_test(test_a_joiner_crashes_again_after_a_rejoin),
        cmocka_unit_test(test_a_host_crashes_again_after_a_rejoin),
        cmocka_unit_test(test_a_joiner_crashes_again_soon_after_a_rejoin),
        cmocka_unit_test(test_a_host_crashes_again_soon_after_a_rejoin),
        cmocka_unit_test(test_a_rejoined_listener_resumes_after_a_connection_loss),
        cmocka_unit_test(test_a_rejoined_dialler_resumes_after_a_connection_loss),
        cmocka_unit_test(test_a_restart_with_a_wrong_key_is_refused_then_the_right_one_rejoins),
        cmocka_unit_test(test_a_rejoined_joiner_keeps_the_place_of_a_crashed_host),
        cmocka_unit_test(test_a_rejoined_host_keeps_the_place_of_a_crashed_joiner),
        cmocka_unit_test(test_a_restart_with_other_parameters_leaves_the_survivor_waiting),
        cmocka_unit_test(test_a_joiner_down_past_the_episode_timeout_rejoins),
        cmocka_unit_test(test_a_host_down_past_the_episode_timeout_rejoins),
        cmocka_unit_test(test_a_host_rejoins_a_private_session),
        cmocka_unit_test(test_a_joiner_rejoins_with_a_big_state_over_lossy_links),
        cmocka_unit_test(test_a_host_rejoins_with_a_big_state_over_lossy_links),
        cmocka_unit_test(test_a_process_that_crashes_during_its_rejoin_is_replaced_by_a_third),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
