/* SDL adapter frame pacer: the schedule from fake counter values, no sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rollnet/rollnet_sdl.h"

/* 600 ticks per second at 60 fps: one frame is exactly 10 ticks. */
#define FREQ 600u
#define FPS 60
#define PERIOD 10u
#define T0 1000000u

static void first_frame_is_due_at_init_and_only_once(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 0);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + PERIOD);
}

static void frames_fall_due_one_period_apart(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + PERIOD - 1), 0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + PERIOD), 1);
    /* Late by half a period: still one frame, and the next keeps the grid. */
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + 2 * PERIOD + PERIOD / 2), 1);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + 3 * PERIOD);
    /* Three and a half periods late: the three frames due are reported. */
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + 5 * PERIOD + PERIOD / 2), 3);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + 6 * PERIOD);
    assert_int_equal(p.frames_dropped, 0);
}

static void schedule_does_not_drift_with_an_inexact_period(void **state)
{
    (void)state;
    /* 1e9 / 60 is not a whole number of ticks. */
    const uint64_t freq = 1000000000u;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, 60, freq, T0);
    uint64_t now = T0;
    for (int i = 0; i < 6000; i++) {
        assert_int_equal(rollnet_sdl_pacer_take(&p, now), 1);
        now = rollnet_sdl_pacer_next_due(&p);
    }
    /* 6000 frames at 60 fps are exactly 100 seconds. */
    assert_int_equal(now, T0 + 100 * freq);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p) - T0 - 100 * freq, 0);
}

static void sleep_covers_whole_milliseconds_and_leaves_the_rest_to_spin(void **state)
{
    (void)state;
    /* 1000 ticks per ms. */
    const uint64_t freq = 1000000u;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, 50, freq, T0); /* 20 ms frames */
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    assert_int_equal(rollnet_sdl_pacer_sleep_ms(&p, T0), 20);
    assert_int_equal(rollnet_sdl_pacer_sleep_ms(&p, T0 + 5500), 14);
    assert_int_equal(rollnet_sdl_pacer_sleep_ms(&p, T0 + 19001), 0);
    assert_int_equal(rollnet_sdl_pacer_sleep_ms(&p, T0 + 20000), 0);
    assert_int_equal(rollnet_sdl_pacer_sleep_ms(&p, T0 + 90000), 0);
}

static void wait_recommendation_stretches_the_schedule(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    rollnet_sdl_pacer_add_wait_frames(&p, 3);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + 4 * PERIOD);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + PERIOD), 0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + 3 * PERIOD), 0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0 + 4 * PERIOD), 1);
    /* The skipped slots are not made up for afterwards. */
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + 5 * PERIOD);
    assert_int_equal(p.frames_dropped, 0);
}

static void wait_recommendation_ignores_non_positive_and_caps_at_one_second(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    rollnet_sdl_pacer_add_wait_frames(&p, 0);
    rollnet_sdl_pacer_add_wait_frames(&p, -5);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + PERIOD);
    rollnet_sdl_pacer_add_wait_frames(&p, 100000);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + PERIOD + FREQ);
}

static void catch_up_after_a_long_stall_is_capped(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    /* Stopped for 100 frames (as after SIGSTOP). */
    uint64_t now = T0 + 100 * PERIOD + 3;
    assert_int_equal(rollnet_sdl_pacer_take(&p, now), ROLLNET_SDL_PACER_MAX_CATCH_UP);
    /* The schedule restarts from now: the backlog is given up, not chased. */
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), now + PERIOD);
    assert_int_equal(rollnet_sdl_pacer_take(&p, now + 1), 0);
    assert_int_equal(p.frames_dropped, 100 - ROLLNET_SDL_PACER_MAX_CATCH_UP);
    assert_int_equal(rollnet_sdl_pacer_take(&p, now + PERIOD), 1);
}

static void exactly_the_cap_due_is_not_a_stall(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    /* Slots 1..8 are due at T0 + 80 (slot 8 exactly); slot 9 is not. */
    uint64_t now = T0 + ROLLNET_SDL_PACER_MAX_CATCH_UP * PERIOD;
    assert_int_equal(rollnet_sdl_pacer_take(&p, now), ROLLNET_SDL_PACER_MAX_CATCH_UP);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), now + PERIOD);
    assert_int_equal(p.frames_dropped, 0);
}

static void reset_forgets_the_backlog(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, FPS, FREQ, T0);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    uint64_t later = T0 + 5 * FREQ; /* a five-second load */
    rollnet_sdl_pacer_reset_at(&p, later);
    assert_int_equal(rollnet_sdl_pacer_take(&p, later), 1);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), later + PERIOD);
    assert_int_equal(p.frames_dropped, 0);
}

static void zero_fps_means_sixty(void **state)
{
    (void)state;
    rollnet_sdl_pacer p;
    rollnet_sdl_pacer_init_at(&p, 0, FREQ, T0);
    assert_int_equal(p.fps, 60);
    assert_int_equal(rollnet_sdl_pacer_take(&p, T0), 1);
    assert_int_equal(rollnet_sdl_pacer_next_due(&p), T0 + PERIOD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_frame_is_due_at_init_and_only_once),
        cmocka_unit_test(frames_fall_due_one_period_apart),
        cmocka_unit_test(schedule_does_not_drift_with_an_inexact_period),
        cmocka_unit_test(sleep_covers_whole_milliseconds_and_leaves_the_rest_to_spin),
        cmocka_unit_test(wait_recommendation_stretches_the_schedule),
        cmocka_unit_test(wait_recommendation_ignores_non_positive_and_caps_at_one_second),
        cmocka_unit_test(catch_up_after_a_long_stall_is_capped),
        cmocka_unit_test(exactly_the_cap_due_is_not_a_stall),
        cmocka_unit_test(reset_forgets_the_backlog),
        cmocka_unit_test(zero_fps_means_sixty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
