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

/* n samples whose remote - local advantages sum to `diff`, spread as evenly
 * as integers allow; on the remote side, or negated on the local side. */
static void fill_sum(rn_timesync *t, int n, int64_t diff, int on_local)
{
    rn_timesync_init(t);
    int64_t q = diff / n, rem = diff - q * n;
    for (int i = 0; i < n; i++) {
        int64_t v = q + (i < (rem < 0 ? -rem : rem) ? (rem < 0 ? -1 : 1) : 0);
        if (on_local) {
            rn_timesync_sample(t, (int32_t)-v, 0);
        } else {
            rn_timesync_sample(t, 0, (int32_t)v);
        }
    }
    assert_true(t->remote_sum - t->local_sum == diff);
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

/* Pins the rounding documented in rn_timesync_recommend: with
 * d = (remote_sum - local_sum) / (2 * count), the wait is d rounded half up,
 * 0 while d < 1.5, capped at RN_TIMESYNC_MAX_WAIT. */
static void test_wait_rounds_half_up_at_boundaries(void **state)
{
    (void)state;
    static const struct {
        int count;
        int64_t diff; /* d = diff / (2 * count) */
        int wait;
    } cases[] = {
        /* 20 samples: d = diff / 40. */
        { 20, 96, 2 },   /* 2.4 */
        { 20, 99, 2 },   /* 2.475 */
        { 20, 100, 3 },  /* 2.5 */
        { 20, 104, 3 },  /* 2.6 */
        { 20, 136, 3 },  /* 3.4 */
        { 20, 140, 4 },  /* 3.5 */
        { 20, 144, 4 },  /* 3.6 */
        { 20, 56, 0 },   /* 1.4: rounds to 1, below RN_TIMESYNC_MIN_ADVANTAGE */
        { 20, 60, 2 },   /* 1.5: rounds to 2, the first wait */
        { 20, 64, 2 },   /* 1.6 */
        { 20, 296, 7 },  /* 7.4 */
        { 20, 300, 8 },  /* 7.5 */
        { 20, 340, 8 },  /* 8.5: rounds to 9, capped */
        { 20, 0, 0 },
        { 20, -56, 0 },  /* -1.4 */
        { 20, -60, 0 },  /* -1.5 */
        { 20, -100, 0 }, /* -2.5 */
        { 20, -104, 0 }, /* -2.6 */
        /* A full window: d = diff / 64. */
        { RN_TIMESYNC_WINDOW, 159, 2 }, /* 2.484 */
        { RN_TIMESYNC_WINDOW, 160, 3 }, /* 2.5 */
        { RN_TIMESYNC_WINDOW, 95, 0 },  /* 1.484 */
        { RN_TIMESYNC_WINDOW, 96, 2 },  /* 1.5 */
        /* The fewest samples that count: d = diff / 32. */
        { RN_TIMESYNC_WINDOW / 2, 79, 2 }, /* 2.469 */
        { RN_TIMESYNC_WINDOW / 2, 80, 3 }, /* 2.5 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int side = 0; side < 2; side++) {
            rn_timesync t;
            fill_sum(&t, cases[i].count, cases[i].diff, side);
            int got = rn_timesync_recommend(&t);
            if (got != cases[i].wait) {
                fail_msg("count %d diff %lld (%s side): wait %d, expected %d", cases[i].count,
                         (long long)cases[i].diff, side ? "local" : "remote", got,
                         cases[i].wait);
            }
        }
    }
}

/* The closed form the comment gives: (diff + count) / (2 * count) in C's
 * truncating division, then the tolerance and the cap. */
static void test_wait_matches_the_documented_formula(void **state)
{
    (void)state;
    static const int counts[] = { RN_TIMESYNC_WINDOW / 2, 17, 20, 31, RN_TIMESYNC_WINDOW };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        int n = counts[k];
        for (int64_t diff = -40 * n; diff <= 40 * n; diff++) {
            int64_t w = (diff + n) / (2 * n);
            int expected = w < RN_TIMESYNC_MIN_ADVANTAGE ? 0
                           : w > RN_TIMESYNC_MAX_WAIT    ? RN_TIMESYNC_MAX_WAIT
                                                         : (int)w;
            rn_timesync t;
            fill_sum(&t, n, diff, (int)(diff & 1));
            int got = rn_timesync_recommend(&t);
            if (got != expected) {
                fail_msg("count %d diff %lld: wait %d, expected %d", n, (long long)diff, got,
                         expected);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_peers_wait_zero),
        cmocka_unit_test(test_peer_running_ahead_is_told_to_wait_half_the_gap),
        cmocka_unit_test(test_peer_behind_never_waits),
        cmocka_unit_test(test_small_imbalance_is_tolerated),
        cmocka_unit_test(test_wait_is_capped),
        cmocka_unit_test(test_wait_rounds_half_up_at_boundaries),
        cmocka_unit_test(test_wait_matches_the_documented_formula),
        cmocka_unit_test(test_too_few_samples_recommend_nothing),
        cmocka_unit_test(test_local_advantage_adds_one_way_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
