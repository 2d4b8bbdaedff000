#define _DEFAULT_SOURCE
/* The confirmed ledger is identical, byte for byte, on both peers whatever
 * the network does: several 450-step episodes per scenario, exported to CSV
 * and msgpack by each peer and compared; every episode has the same rows on
 * both peers; rollbacks happen where the latency forces them. */
#include <sys/stat.h>
#include <unistd.h>

#include "p2p_fixture.h"

#define STEPS 450
#define EPISODES 3

static char tmpdir[256];

static int make_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rollnet-ledger-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void idle_input(int player, int32_t frame, uint8_t *out, int size, void *user)
{
    (void)player;
    (void)frame;
    (void)user;
    memset(out, 0, (size_t)size);
}

typedef struct scenario {
    const char *name;
    rollnet_netsim_desc a_to_b, b_to_a;
    bool idle;
    uint64_t ticks;
} scenario;

static fx f;

static void start(const scenario *sc, uint64_t seed, const char *sub)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
    mkdir(dir, 0700);
    static char dirs[16][400];
    static int ndirs;
    char *d = dirs[ndirs++ % 16];
    memcpy(d, dir, sizeof(dir));
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = seed;
    o.write_records = true;
    o.max_steps = STEPS;
    o.export_dir = d;
    o.export_episodes = EPISODES;
    o.sim[0] = sc->a_to_b;
    o.sim[1] = sc->b_to_a;
    o.disconnect_timeout_ms = 10000;
    fx_init(&f, &o);
    f.catch_up = true;
    if (sc->idle) {
        for (int i = 0; i < 2; i++) {
            f.hp[i].input_fn = idle_input;
        }
    }
}

static void finish(const scenario *sc)
{
    int episodes = fx_assert_episodes_agree(&f, STEPS);
    assert_true(episodes >= EPISODES);
    fx_assert_ledgers_agree(&f, EPISODES * STEPS);
    long size = fx_close_and_compare_exports(&f);
    assert_true(size > EPISODES * STEPS * 10);
    rollnet_session_stats a = fx_stats(&f, 0), b = fx_stats(&f, 1);
    uint32_t slow = sc->a_to_b.delay_ms > sc->b_to_a.delay_ms ? sc->a_to_b.delay_ms
                                                               : sc->b_to_a.delay_ms;
    int slow_frames = (int)((slow * 60 + 999) / 1000);
    fprintf(stderr, "%-10s a: rb %llu depth %d | b: rb %llu depth %d | csv %ld bytes\n", sc->name,
            (unsigned long long)a.rollbacks, a.max_rollback_depth, (unsigned long long)b.rollbacks,
            b.max_rollback_depth, size);
    if (!sc->idle && slow_frames > 0) {
        assert_true(a.rollbacks + b.rollbacks > 0);
        int deepest = a.max_rollback_depth > b.max_rollback_depth ? a.max_rollback_depth
                                                                  : b.max_rollback_depth;
        int want = slow_frames < ROLLNET_MAX_PREDICTION ? slow_frames : ROLLNET_MAX_PREDICTION;
        assert_true(deepest >= want);
    }
    if (sc->idle) {
        /* Nothing was ever mispredicted. */
        assert_int_equal(a.rollbacks + b.rollbacks, 0);
    }
    /* Each peer saw every episode complete. */
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_EPISODE_COMPLETE] >= EPISODES);
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_EPISODE_COMPLETE] >= EPISODES);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC], 0);
    fx_free(&f);
}

static void run(const scenario *sc, uint64_t seed, const char *sub)
{
    start(sc, seed, sub);
    fx_run_until_episodes(&f, EPISODES, sc->ticks ? sc->ticks : 4000);
    finish(sc);
}

static void test_idle_players(void **state)
{
    (void)state;
    scenario sc = {"idle", {.delay_ms = 50}, {.delay_ms = 50}, true, 0};
    run(&sc, 61, "idle");
}

static void test_active_inputs(void **state)
{
    (void)state;
    scenario sc = {"active", {0}, {0}, false, 0};
    run(&sc, 62, "active");
}

static void test_rtt_100ms(void **state)
{
    (void)state;
    scenario sc = {"rtt100", {.delay_ms = 50}, {.delay_ms = 50}, false, 0};
    run(&sc, 63, "rtt100");
}

static void test_rtt_200ms(void **state)
{
    (void)state;
    scenario sc = {"rtt200", {.delay_ms = 100}, {.delay_ms = 100}, false, 0};
    run(&sc, 64, "rtt200");
}

static void test_asymmetric_50_200(void **state)
{
    (void)state;
    scenario sc = {"asym", {.delay_ms = 50}, {.delay_ms = 200}, false, 8000};
    run(&sc, 65, "asym");
}

static void test_jitter_100_75(void **state)
{
    (void)state;
    scenario sc = {"jitter", {.delay_ms = 100, .jitter_ms = 75}, {.delay_ms = 100, .jitter_ms = 75},
                   false, 8000};
    run(&sc, 66, "jitter");
}

static void test_loss_15_delay_50(void **state)
{
    (void)state;
    scenario sc = {"loss15", {.delay_ms = 50, .loss_permille = 150},
                   {.delay_ms = 50, .loss_permille = 150}, false, 0};
    run(&sc, 67, "loss15");
}

/* One peer's process stops for 5 s in the middle of episode 1. The other
 * predicts up to the window, waits with an event, and both go on. */
static void test_peer_stalled_5s_mid_episode(void **state)
{
    (void)state;
    scenario sc = {"stall", {.delay_ms = 30}, {.delay_ms = 30}, false, 0};
    start(&sc, 68, "stall");
    fx_run(&f, STEPS + 200);
    f.paused[1] = true;
    int32_t frame0 = fx_stats(&f, 0).frame;
    fx_run(&f, 300); /* 5 s */
    assert_true(fx_stats(&f, 0).frame <= frame0 + ROLLNET_MAX_PREDICTION + 1);
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_STALLED] >= 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
    f.paused[1] = false;
    fx_run_until_episodes(&f, EPISODES, 4000);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_RESUMED], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    finish(&sc);
}

/* The stall starts a few frames before an episode's end and lasts past it. */
static void test_peer_stalled_across_episode_boundary(void **state)
{
    (void)state;
    scenario sc = {"stall-end", {.delay_ms = 30}, {.delay_ms = 30}, false, 0};
    start(&sc, 69, "stallend");
    while (f.hp[1].frames_advanced < STEPS - 5) {
        fx_run(&f, 1);
    }
    f.paused[1] = true;
    fx_run(&f, 300);
    /* Node 0 reached the end of episode 0 at most and waits there. */
    assert_true(fx_stats(&f, 0).frame <= STEPS);
    assert_true(f.rec[0]->count < STEPS);
    f.paused[1] = false;
    fx_run_until_episodes(&f, EPISODES, 4000);
    finish(&sc);
}

/* Node 1 changes its input on the last frame of episode 0 only; node 0 has
 * predicted the old input and must replay before the episode is promoted. */
static void late_input(int player, int32_t frame, uint8_t *out, int size, void *user)
{
    (void)player;
    (void)user;
    memset(out, 0, (size_t)size);
    out[0] = (uint8_t)(frame == STEPS - 1 ? 7 : 1);
}

static void test_late_input_at_last_frame_of_episode(void **state)
{
    (void)state;
    scenario sc = {"late-end", {.delay_ms = 50}, {.delay_ms = 50}, false, 0};
    start(&sc, 70, "lateend");
    f.hp[0].input_fn = late_input;
    f.hp[1].input_fn = late_input;
    fx_run_until_episodes(&f, EPISODES, 4000);
    for (int i = 0; i < 2; i++) {
        /* The promoted row of the last frame holds the input really played. */
        assert_int_equal(f.rec[i]->frame[STEPS - 1], STEPS - 1);
        assert_int_equal(f.rec[i]->first_input_byte[STEPS - 1][0], 7);
        assert_int_equal(f.rec[i]->first_input_byte[STEPS - 1][1], 7);
        assert_int_equal(f.rec[i]->first_input_byte[STEPS - 2][1], 1);
    }
    /* Someone had predicted 1 for the last frame and rolled back at the boundary. */
    assert_true(fx_stats(&f, 0).rollbacks + fx_stats(&f, 1).rollbacks >= 1);
    finish(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_players),
        cmocka_unit_test(test_active_inputs),
        cmocka_unit_test(test_rtt_100ms),
        cmocka_unit_test(test_rtt_200ms),
        cmocka_unit_test(test_asymmetric_50_200),
        cmocka_unit_test(test_jitter_100_75),
        cmocka_unit_test(test_loss_15_delay_50),
        cmocka_unit_test(test_peer_stalled_5s_mid_episode),
        cmocka_unit_test(test_peer_stalled_across_episode_boundary),
        cmocka_unit_test(test_late_input_at_last_frame_of_episode),
    };
    return cmocka_run_group_tests(tests, make_dir, NULL);
}
