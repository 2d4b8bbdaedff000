/* Episodes (core/episode.c) over a real rn_sync and rn_ledger: promotion
 * stops at every episode end and raises one EPISODE_COMPLETE each, the
 * barrier holds play at an unconfirmed end until it is confirmed or
 * episode_timeout_ms passes (EPISODE_TIMEOUT, then play goes on), and the
 * check after the first reset is asked for exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_fixture.h"
#include "episode.h"

#define TIMEOUT_MS 500

typedef struct fixture {
    drv d;
    rn_episodes e;
    rn_events ev;
    log_capture log;
} fixture;

static fixture fx;

/* Episodes end at the frames whose bit is set in `ends`. */
static void fx_init(uint64_t ends)
{
    drv_init(&fx.d, 8, true);
    fx.d.episode_ends = ends;
    rn_episodes_init(&fx.e, TIMEOUT_MS);
    events_with_capture(&fx.ev, &fx.log);
}

static void fx_free(void)
{
    drv_free(&fx.d);
}

static void promote(void)
{
    rn_episodes_promote(&fx.e, &fx.d.ledger, &fx.d.sync, &fx.ev);
}

static void update_barrier(uint64_t now)
{
    rn_episodes_update_barrier(&fx.e, &fx.d.ledger, &fx.d.sync, &fx.ev, now);
}

/* The episode end play must wait at before the next frame, or -1. */
static int32_t barrier_end(void)
{
    return rn_episodes_barrier_end(&fx.e, &fx.d.ledger, fx.d.sync.frame);
}

static void expect_episode_event(rollnet_event_type type, int32_t episode, int32_t end_frame)
{
    rollnet_event ev = expect_event(&fx.ev, type, -1);
    assert_int_equal(ev.u.episode.episode, episode);
    assert_int_equal(ev.u.episode.end_frame, end_frame);
}

/* Episode `episode` completed at `end_frame`, and nothing else happened. */
static void expect_only_completion(int32_t episode, int32_t end_frame)
{
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, episode, end_frame);
    expect_no_event(&fx.ev);
    assert_int_equal(fx.e.completed, episode + 1);
}

/* Run frames 0..frame-1 with the remote confirmed up to `confirmed`. */
static void run_with_confirmed(int32_t frame, int32_t confirmed)
{
    drv_confirm_remote(&fx.d, confirmed, 0);
    drv_run_to(&fx.d, frame);
}

/* ---- Promotion ---------------------------------------------------------------- */

static void several_episodes_ending_at_once_raise_one_event_each_with_its_end(void **state)
{
    (void)state;
    fx_init((1u << 0) | (1u << 1) | (1u << 4)); /* two one-frame episodes, then 2..4 */
    run_with_confirmed(7, 6);
    promote();
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 0, 0);
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 1, 1);
    expect_only_completion(2, 4);
    assert_int_equal(fx.e.released_end, 4);
    assert_int_equal(fx.d.ledger.episode, 3);
    /* Every confirmed record moved, each in its own episode. */
    const int32_t want_episode[] = {0, 1, 2, 2, 2, 3, 3};
    rollnet_record r;
    for (int32_t f = 0; f < 7; f++) {
        assert_true(rn_ledger_next(&fx.d.ledger, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.episode, want_episode[f]);
        assert_int_equal(r.episode_end, f == 0 || f == 1 || f == 4);
    }
    assert_false(rn_ledger_next(&fx.d.ledger, &r));
    promote(); /* nothing new: nothing raised twice */
    expect_no_event(&fx.ev);
    fx_free();
}

static void episode_completes_only_once_its_last_frame_is_confirmed(void **state)
{
    (void)state;
    fx_init(1u << 4);
    run_with_confirmed(7, 3);
    promote();
    expect_no_event(&fx.ev);
    assert_int_equal(fx.d.ledger.next_promote, 4);
    assert_int_equal(fx.e.completed, 0);
    drv_confirm_remote(&fx.d, 4, 0);
    promote();
    expect_only_completion(0, 4);
    fx_free();
}

/* A late input shows the end frame was predicted wrong: nothing completes
 * until the rollback has run, and the records that move are the replay's. */
static void no_episode_completes_while_a_rollback_is_pending(void **state)
{
    (void)state;
    fx_init(1u << 2);
    drv_run_to(&fx.d, 4); /* frames 0..3 on a prediction of the remote (0) */
    drv_confirm_remote(&fx.d, 3, 7);
    assert_true(rn_rollback_pending(&fx.d.sync));
    promote();
    expect_no_event(&fx.ev);
    assert_int_equal(fx.d.ledger.next_promote, 0);
    drv_step(&fx.d, 1); /* the rollback, then frame 4 */
    promote();
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 0, 2);
    rollnet_record r;
    for (int32_t f = 0; f <= 3; f++) {
        assert_true(rn_ledger_next(&fx.d.ledger, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.inputs[1], 7);
    }
    fx_free();
}

static void validation_is_asked_for_exactly_once_after_the_first_completed_episode(void **state)
{
    (void)state;
    fx_init((1u << 1) | (1u << 3));
    assert_false(rn_episodes_take_validation(&fx.e));
    run_with_confirmed(1, 0);
    promote();
    assert_false(rn_episodes_take_validation(&fx.e)); /* frame 1 not run yet */
    run_with_confirmed(2, 1);
    promote();
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 0, 1);
    assert_true(rn_episodes_take_validation(&fx.e));
    assert_false(rn_episodes_take_validation(&fx.e));
    run_with_confirmed(5, 4);
    promote();
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 1, 3);
    assert_false(rn_episodes_take_validation(&fx.e));
    fx_free();
}

/* ---- The barrier ---------------------------------------------------------------- */

static void barrier_holds_play_at_an_episode_end_until_it_is_confirmed(void **state)
{
    (void)state;
    fx_init(1u << 3);
    run_with_confirmed(3, 1);
    assert_int_equal(barrier_end(), -1); /* the end frame has not run yet */
    drv_step(&fx.d, 1);                  /* frame 3, the episode's last */
    assert_int_equal(barrier_end(), 3);
    update_barrier(1000);
    assert_int_equal(fx.e.barrier_frame, 3);
    assert_int_equal(fx.e.barrier_since, 1000);
    update_barrier(1000 + TIMEOUT_MS - 1);
    expect_no_event(&fx.ev);
    assert_int_equal(barrier_end(), 3);
    assert_int_equal(fx.d.ledger.next_promote, 2);

    drv_confirm_remote(&fx.d, 3, 0);
    update_barrier(1000 + TIMEOUT_MS - 1);
    expect_only_completion(0, 3);
    assert_int_equal(fx.e.barrier_frame, -1);
    assert_int_equal(barrier_end(), -1);
    update_barrier(1000 + 10 * TIMEOUT_MS); /* long after: no timeout for a released end */
    expect_no_event(&fx.ev);
    fx_free();
}

static void barrier_times_out_after_timeout_ms_then_releases_play(void **state)
{
    (void)state;
    fx_init(1u << 3);
    run_with_confirmed(4, 1);
    update_barrier(1000);
    update_barrier(1000 + TIMEOUT_MS - 1);
    expect_no_event(&fx.ev);
    assert_int_equal(barrier_end(), 3);

    update_barrier(1000 + TIMEOUT_MS);
    expect_episode_event(ROLLNET_EVENT_EPISODE_TIMEOUT, 0, 3);
    expect_no_event(&fx.ev);
    assert_int_equal(fx.log.count, 1);
    assert_int_equal(fx.log.level[0], ROLLNET_LOG_WARN);
    assert_int_equal(fx.e.barrier_frame, -1);
    assert_int_equal(fx.e.released_end, 3);
    assert_int_equal(barrier_end(), -1); /* play goes on */
    assert_int_equal(fx.e.completed, 0);
    assert_false(rn_episodes_take_validation(&fx.e)); /* timed out is not completed */

    drv_run_to(&fx.d, 6);
    update_barrier(1000 + 4 * TIMEOUT_MS);
    expect_no_event(&fx.ev); /* one timeout per end */

    /* Records still promote only when confirmed; the episode then completes. */
    assert_int_equal(fx.d.ledger.next_promote, 2);
    drv_confirm_remote(&fx.d, 5, 0);
    update_barrier(1000 + 5 * TIMEOUT_MS);
    expect_only_completion(0, 3);
    fx_free();
}

static void each_new_barrier_waits_its_own_full_timeout(void **state)
{
    (void)state;
    fx_init((1u << 3) | (1u << 7));
    run_with_confirmed(4, 1);
    update_barrier(1000);
    drv_confirm_remote(&fx.d, 3, 0);
    update_barrier(1000 + TIMEOUT_MS - 50);
    expect_episode_event(ROLLNET_EVENT_EPISODE_COMPLETE, 0, 3);

    run_with_confirmed(8, 5); /* frame 7 ends episode 1, unconfirmed */
    const uint64_t start = 1000 + TIMEOUT_MS;
    update_barrier(start);
    assert_int_equal(fx.e.barrier_frame, 7);
    assert_int_equal(fx.e.barrier_since, start);
    update_barrier(start + TIMEOUT_MS - 1);
    expect_no_event(&fx.ev);
    update_barrier(start + TIMEOUT_MS);
    expect_episode_event(ROLLNET_EVENT_EPISODE_TIMEOUT, 1, 7);
    expect_no_event(&fx.ev);
    fx_free();
}

static void without_an_episode_end_there_is_no_barrier(void **state)
{
    (void)state;
    fx_init(0);
    run_with_confirmed(8, 1);
    assert_int_equal(barrier_end(), -1);
    update_barrier(1000);
    update_barrier(1000 + 10 * TIMEOUT_MS);
    assert_int_equal(fx.e.barrier_frame, -1);
    expect_no_event(&fx.ev);
    assert_int_equal(fx.d.ledger.next_promote, 2); /* promotion still runs */
    fx_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(several_episodes_ending_at_once_raise_one_event_each_with_its_end),
        cmocka_unit_test(episode_completes_only_once_its_last_frame_is_confirmed),
        cmocka_unit_test(no_episode_completes_while_a_rollback_is_pending),
        cmocka_unit_test(validation_is_asked_for_exactly_once_after_the_first_completed_episode),
        cmocka_unit_test(barrier_holds_play_at_an_episode_end_until_it_is_confirmed),
        cmocka_unit_test(barrier_times_out_after_timeout_ms_then_releases_play),
        cmocka_unit_test(each_new_barrier_waits_its_own_full_timeout),
        cmocka_unit_test(without_an_episode_end_there_is_no_barrier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
