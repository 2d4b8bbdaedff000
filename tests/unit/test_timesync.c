#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timesync.h"

static void fill(rn_timesync *t, int32_t local, int32_t remote)
{
    for (int i = 0; i < RN_TIMESYNC_WINDOW; i++) {
        rn_timesync_sample(t, local, remote);
    }
}

static void test_balanced_peers_wait_zero(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    fill(&t, 0, 0);
    assert_int_equal(rn_timesync_recommend(&t), 0);
}

static void test_peer_running_ahead_is_told_to_wait_half_the_gap(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    /* We are 6 frames ahead: our view -6, the remote's view +6. */
    fill(&t, -6, 6);
    assert_int_equal(rn_timesync_recommend(&t), 6);
    rn_timesync_init(&t);
    fill(&t, -3, 3);
    assert_int_equal(rn_timesync_recommend(&t), 3);
}

static void test_peer_behind_never_waits(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    fill(&t, 6, -6);
    assert_int_equal(rn_timesync_recommend(&t), 0);
}

static void test_small_imbalance_is_tolerated(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    fill(&t, -1, 1);
    assert_int_equal(rn_timesync_recommend(&t), 0);
}

static void test_wait_is_capped(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    fill(&t, -100, 100);
    assert_int_equal(rn_timesync_recommend(&t), RN_TIMESYNC_MAX_WAIT);
}

static void test_too_few_samples_recommend_nothing(void **state)
{
    (void)state;
    rn_timesync t;
    rn_timesync_init(&t);
    rn_timesync_sample(&t, -10, 10);
    assert_int_equal(rn_timesync_recommend(&t), 0);
}

static void test_local_advantage_adds_one_way_latency(void **state)
{
    (void)state;
    /* 100 ms RTT at 60 fps: 3 frames one way. */
    assert_int_equal(rn_timesync_local_advantage(100, 100, 100, 60), 3);
    assert_int_equal(rn_timesync_local_advantage(110, 100, 0, 60), -10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_peers_wait_zero),
        cmocka_unit_test(test_peer_running_ahead_is_told_to_wait_half_the_gap),
        cmocka_unit_test(test_peer_behind_never_waits),
        cmocka_unit_test(test_small_imbalance_is_tolerated),
        cmocka_unit_test(test_wait_is_capped),
        cmocka_unit_test(test_too_few_samples_recommend_nothing),
        cmocka_unit_test(test_local_advantage_adds_one_way_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
