/* Paths at the ends of a session that example tests did not walk: a game
 * that opts in to the ledger late, the last frame number a session can
 * send, and a stall still open when the game stops advancing. */
#include "p2p_fixture.h"
#include "session.h" /* internal: lower the last frame so a test reaches it */

typedef struct log_seen {
    int warnings, errors;
    char last[256];
} log_seen;

static void on_log(rollnet_log_level level, const char *msg, void *user_data)
{
    log_seen *seen = user_data;
    if (level == ROLLNET_LOG_WARN) {
        seen->warnings++;
    } else if (level == ROLLNET_LOG_ERROR) {
        seen->errors++;
    }
    if (level >= ROLLNET_LOG_WARN) {
        snprintf(seen->last, sizeof(seen->last), "%s", msg);
    }
}

static rollnet_session *synctest_new(log_seen *seen)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 2;
    d.check_distance = 2;
    d.logger.log = on_log;
    d.logger.user_data = seen;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    return s;
}

/* One frame of a sync test: both inputs, advance, the list. */
static rollnet_error synctest_frame(rollnet_session *s, tg_game *g, uint8_t input)
{
    for (int p = 0; p < 2; p++) {
        rollnet_error err = rollnet_session_add_local_input(s, p, &input, 1);
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    const rollnet_request *reqs;
    int n;
    rollnet_error err = rollnet_session_advance(s, &reqs, &n);
    return err != ROLLNET_ERR_OK ? err : tg_execute(g, s, reqs, n);
}

/* Carries out a list without ending any ADVANCE (a game that has not
 * opted in to the ledger yet). */
static rollnet_error execute_without_ends(tg_game *g, rollnet_session *s,
                                          const rollnet_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *req = &reqs[i];
        rollnet_error err = ROLLNET_ERR_OK;
        if (req->type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, req);
            assert_non_null(w);
            tg_save(g, w);
            err = rollnet_session_save_end(s, req);
        } else if (req->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *r = rollnet_session_load_begin(s, req);
            assert_non_null(r);
            assert_true(tg_load(g, r));
            err = rollnet_session_load_end(s, req);
        } else {
            tg_step(g, req->inputs);
        }
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    return ROLLNET_ERR_OK;
}

/* The game skips advance_end on its first request list only. The ledger
 * used to wait for frame 0's record forever and refuse every frame from 25
 * on with LEDGER_FULL; it now starts at the first frame with a record, and
 * says so in the log. */
static void test_late_ledger_opt_in_starts_the_ledger_at_its_first_record(void **state)
{
    (void)state;
    log_seen seen = {0};
    rollnet_session *s = synctest_new(&seen);
    tg_game g;
    assert_true(tg_init(&g, 3, 2, 1, 0, 0));
    g.write_records = true;
    uint8_t in = 0;
    for (int p = 0; p < 2; p++) {
        assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    assert_int_equal(execute_without_ends(&g, s, reqs, n), ROLLNET_ERR_OK);

    int32_t expect = -1;
    int rows = 0;
    for (int f = 1; f < 300; f++) {
        assert_int_equal(synctest_frame(s, &g, (uint8_t)(f / 5)), ROLLNET_ERR_OK);
        rollnet_record r;
        while (rollnet_session_next_record(s, &r)) {
            if (expect < 0) {
                expect = r.frame;
                assert_int_equal(r.frame, 1); /* frame 0 ran without a record */
            }
            assert_int_equal(r.frame, expect); /* in order, none missing */
            assert_int_equal(r.step, r.frame); /* steps still derive from frames */
            expect++;
            rows++;
        }
    }
    assert_true(rows > 250);
    assert_int_equal(seen.warnings, 1);
    assert_non_null(strstr(seen.last, "ledger starts at frame 1"));
    rollnet_session_destroy(s);
}

/* Past the last frame whose inputs can still be encoded, a session stops
 * with FRAME_LIMIT and an error in the log, instead of sending empty input
 * messages and stalling for good. The limit is lowered to reach it. */
static void test_sync_test_stops_at_the_frame_limit_with_an_error(void **state)
{
    (void)state;
    log_seen seen = {0};
    rollnet_session *s = synctest_new(&seen);
    s->last_frame = 40;
    tg_game g;
    assert_true(tg_init(&g, 3, 2, 1, 0, 0));
    int f = 0;
    rollnet_error err = ROLLNET_ERR_OK;
    for (; f < 100 && err == ROLLNET_ERR_OK; f++) {
        err = synctest_frame(s, &g, 1);
    }
    assert_int_equal(err, ROLLNET_ERR_FRAME_LIMIT);
    assert_int_equal(f - 1, 41); /* frames 0..40 ran */
    assert_int_equal(rollnet_session_poll(s, 0), ROLLNET_ERR_FRAME_LIMIT); /* sticky */
    assert_int_equal(seen.errors, 1);
    assert_non_null(strstr(seen.last, "last frame"));
    rollnet_session_destroy(s);
}

static void test_p2p_peers_stop_at_the_frame_limit_instead_of_stalling(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .seed = 4};
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fx_init(f, &o);
    fx_run(f, 30);
    assert_true(fx_all_running(f));
    for (int i = 0; i < 2; i++) {
        f->s[i]->last_frame = 90;
    }
    rollnet_error last[2] = {ROLLNET_ERR_OK, ROLLNET_ERR_OK};
    for (int t = 0; t < 200; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        for (int i = 0; i < 2; i++) {
            last[i] = harness_tick(&f->hp[i], now);
        }
        harness_clock_tick(&f->clock);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(last[i], ROLLNET_ERR_FRAME_LIMIT);
        assert_int_equal(fx_stats(f, i).frame, 91);
        assert_false(fx_stats(f, i).running);
    }
    fx_free(f);
    free(f);
}

/* Counts what the stall test is about. */
typedef struct stall_count {
    int stalled, ended, barrier_stalls, complete;
} stall_count;

static void count_stalls(const rollnet_event *ev, void *user_data)
{
    stall_count *c = user_data;
    c->stalled += ev->type == ROLLNET_EVENT_STALLED;
    c->barrier_stalls +=
        ev->type == ROLLNET_EVENT_STALLED && ev->u.stall.reason == ROLLNET_STALL_EPISODE_BARRIER;
    c->ended += ev->type == ROLLNET_EVENT_STALL_ENDED;
    c->complete += ev->type == ROLLNET_EVENT_EPISODE_COMPLETE;
}

/* The game plays one episode and then only polls (it is done). The stall at
 * the episode's barrier used to stay open for good: one STALLED more than
 * STALL_ENDED in the per-peer log. A stall now ends when its cause does. */
static void test_stall_at_the_last_barrier_ends_without_another_advance(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 1, .max_steps = 60, .write_records = true,
                 .seed = 9};
    o.sim[0].delay_ms = 50;
    o.sim[1].delay_ms = 50;
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fx_init(f, &o);
    stall_count c[2];
    memset(c, 0, sizeof(c));
    for (int t = 0; t < 400; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        for (int i = 0; i < 2; i++) {
            /* As a game does: poll, act on the events, then play on unless done. */
            rollnet_session_poll(f->s[i], now);
            rollnet_event ev;
            while (rollnet_session_next_event(f->s[i], &ev)) {
                count_stalls(&ev, &c[i]);
            }
            uint8_t in = (uint8_t)(t / 9 + i);
            const rollnet_request *reqs;
            int n;
            if (c[i].complete == 0 &&
                rollnet_session_add_local_input(f->s[i], i, &in, 1) == ROLLNET_ERR_OK &&
                rollnet_session_advance(f->s[i], &reqs, &n) == ROLLNET_ERR_OK) {
                assert_int_equal(tg_execute(&f->g[i], f->s[i], reqs, n), ROLLNET_ERR_OK);
            }
            while (rollnet_session_next_event(f->s[i], &ev)) {
                count_stalls(&ev, &c[i]);
            }
            fx_record_hash(f, i);
        }
        harness_clock_tick(&f->clock);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c[i].complete, 1);
        assert_true(c[i].barrier_stalls >= 1); /* the case this test is about happened */
        assert_int_equal(c[i].stalled, c[i].ended);
    }
    fx_free(f);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_ledger_opt_in_starts_the_ledger_at_its_first_record),
        cmocka_unit_test(test_sync_test_stops_at_the_frame_limit_with_an_error),
        cmocka_unit_test(test_p2p_peers_stop_at_the_frame_limit_instead_of_stalling),
        cmocka_unit_test(test_stall_at_the_last_barrier_ends_without_another_advance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
