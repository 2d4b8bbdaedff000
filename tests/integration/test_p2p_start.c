/* Starting together: both ends of a link run their first frame at the same
 * moment, within one frame, even when a handshake message is late (the
 * network simulator delivers a "lost" reliable message one round trip
 * later, as a resend would). 100 ms RTT, 5% loss, many seeds. */
#include "p2p_fixture.h"

typedef struct start_times {
    harness_clock *clock;
    uint64_t synchronized_ms, running_ms;
} start_times;

static void note_start(const rollnet_event *ev, void *user_data)
{
    start_times *t = user_data;
    if (ev->type == ROLLNET_EVENT_SYNCHRONIZED && t->synchronized_ms == 0) {
        t->synchronized_ms = harness_clock_now(t->clock);
    } else if (ev->type == ROLLNET_EVENT_RUNNING) {
        t->running_ms = harness_clock_now(t->clock);
    }
}

static void test_peers_start_within_a_frame_when_a_handshake_message_is_late(void **state)
{
    (void)state;
    const uint64_t frame_ms = 1000 / 60 + 1;
    int late_handshakes = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        fx_opts o = {.num_players = 2, .seed = seed};
        for (int i = 0; i < 2; i++) {
            o.sim[i].delay_ms = 50;
            o.sim[i].loss_permille = 50;
        }
        fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        fx_init(f, &o);
        start_times t[2] = {{&f->clock, 0, 0}, {&f->clock, 0, 0}};
        for (int i = 0; i < 2; i++) {
            f->hp[i].event_fn = note_start;
            f->hp[i].event_user_data = &t[i];
        }
        for (int k = 0; k < 120 && (t[0].running_ms == 0 || t[1].running_ms == 0); k++) {
            fx_run(f, 1);
        }
        assert_true(t[0].running_ms > 0 && t[1].running_ms > 0);
        uint64_t apart = t[0].running_ms > t[1].running_ms ? t[0].running_ms - t[1].running_ms
                                                           : t[1].running_ms - t[0].running_ms;
        uint64_t accepted_apart = t[0].synchronized_ms > t[1].synchronized_ms
                                      ? t[0].synchronized_ms - t[1].synchronized_ms
                                      : t[1].synchronized_ms - t[0].synchronized_ms;
        /* A late HELLO makes the two sides accept each other a round trip
         * apart; they still start together. */
        late_handshakes += accepted_apart > 2 * frame_ms;
        if (apart > frame_ms) {
            fail_msg("seed %llu: started %llu ms apart (accepted %llu ms apart)",
                     (unsigned long long)seed, (unsigned long long)apart,
                     (unsigned long long)accepted_apart);
        }
        fx_run(f, 120);
        rollnet_session_stats a = fx_stats(f, 0), b = fx_stats(f, 1);
        assert_true(a.frame > 100 && b.frame > 100);
        fx_free(f);
        free(f);
    }
    /* The seeds walk the path this test is about. */
    assert_true(late_handshakes >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_start_within_a_frame_when_a_handshake_message_is_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
