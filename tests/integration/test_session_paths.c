/* Paths at the ends of a session that example tests did not walk: a game
 * that opts in to the ledger late, the last frame number a session can
 * send, a stall still open when the game stops advancing, and peers whose
 * games end episodes at different frames. */
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

/* Node 1's game ends its first episode at frame 9, node 0's at frame 39 (a
 * parameter the handshake did not compare). Both used to stall for good with
 * no event and no log line; each now stops with EPISODE_MISMATCH, the one
 * that is behind at once, the other within episode_timeout_ms. */
static void run_disagreeing_episodes(bool node1_forgets_advance_end)
{
    fx_opts o = {.num_players = 2, .input_delay = 2, .max_steps = 40, .write_records = true,
                 .episode_timeout_ms = 1000, .seed = 12};
    o.sim[0].delay_ms = 30;
    o.sim[1].delay_ms = 30;
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fx_init(f, &o);
    f->g[1].max_steps = 10;
    if (node1_forgets_advance_end) {
        f->g[0].max_steps = 10;
        f->g[1].max_steps = 0; /* never flags an episode end */
    }
    rollnet_error last[2] = {ROLLNET_ERR_OK, ROLLNET_ERR_OK};
    int t = 0;
    for (; t < 600 && (last[0] != ROLLNET_ERR_EPISODE_MISMATCH ||
                       last[1] != ROLLNET_ERR_EPISODE_MISMATCH); t++) {
        uint64_t now = harness_clock_now(&f->clock);
        for (int i = 0; i < 2; i++) {
            if (last[i] != ROLLNET_ERR_EPISODE_MISMATCH) {
                last[i] = harness_tick(&f->hp[i], now);
            } else {
                rollnet_session_poll(f->s[i], now); /* a game that lingers to say why */
            }
            fx_record_hash(f, i);
        }
        harness_clock_tick(&f->clock);
    }
    /* The node that flags the earlier end is ahead in episodes; the other
     * promotes past that end without one of its own. */
    int ahead = 1, behind = 0;
    if (node1_forgets_advance_end) {
        ahead = 0;
        behind = 1;
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(last[i], ROLLNET_ERR_EPISODE_MISMATCH);
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
        assert_int_equal(f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    assert_int_equal(f->hp[ahead].event_counts[ROLLNET_EVENT_EPISODE_COMPLETE], 1);
    assert_int_equal(f->hp[behind].event_counts[ROLLNET_EVENT_EPISODE_COMPLETE], 0);
    /* A node that promotes past the other's end knows at once and tells it:
     * well within a second, not after the 5 s disconnect timeout. */
    assert_true(t < 60);
    fx_free(f);
    free(f);
}

static void test_peers_that_end_episodes_at_different_frames_stop_with_an_error(void **state)
{
    (void)state;
    run_disagreeing_episodes(false);
}

static void test_a_peer_that_never_flags_episode_ends_is_named(void **state)
{
    (void)state;
    run_disagreeing_episodes(true);
}

/* Node 1's game never calls advance_end (no ledger, no episode ends) while
 * node 0's ends an episode every 10 frames. Node 1 cannot tell; node 0 sees
 * node 1 run past its end, holding node 0's inputs up to it, still in
 * episode 0, for episode_timeout_ms, and stops with EPISODE_MISMATCH. */
static void test_a_peer_without_a_ledger_is_named_after_the_episode_timeout(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .max_steps = 10, .write_records = true,
                 .episode_timeout_ms = 1000, .seed = 13};
    o.sim[0].delay_ms = 30;
    o.sim[1].delay_ms = 30;
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fx_init(f, &o);
    rollnet_error err0 = ROLLNET_ERR_OK;
    int t = 0;
    for (; t < 600 && err0 != ROLLNET_ERR_EPISODE_MISMATCH; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        err0 = harness_tick(&f->hp[0], now);
        rollnet_session_poll(f->s[1], now);
        uint8_t in = (uint8_t)(t / 5);
        const rollnet_request *reqs;
        int n;
        if (rollnet_session_add_local_input(f->s[1], 1, &in, 1) == ROLLNET_ERR_OK &&
            rollnet_session_advance(f->s[1], &reqs, &n) == ROLLNET_ERR_OK) {
            assert_int_equal(execute_without_ends(&f->g[1], f->s[1], reqs, n), ROLLNET_ERR_OK);
        }
        harness_clock_tick(&f->clock);
    }
    assert_int_equal(err0, ROLLNET_ERR_EPISODE_MISMATCH);
    assert_int_equal(f->hp[0].event_counts[ROLLNET_EVENT_EPISODE_COMPLETE], 1);
    /* After the timeout (about 60 frames), well before the disconnect timeout. */
    assert_true(t > 60 && t < 60 + 1000 / 16 + 30);
    fx_free(f);
    free(f);
}

static int destroyed;
static void count_destroy(void *self)
{
    (void)self;
    destroyed++;
}

/* A game compiled against the headers of another build (another
 * max_players) is refused at creation, naming what differs, instead of
 * corrupting memory. */
static void test_a_game_built_against_other_headers_is_refused(void **state)
{
    (void)state;
    static const rollnet_transport_vtable vt = {.destroy = count_destroy};
    log_seen seen = {0};
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.logger.log = on_log;
    d.logger.user_data = &seen;
    d.transport.vtable = &vt;
    rollnet_abi abi = rollnet_abi_here();
    abi.max_players++;
    rollnet_session *s = (rollnet_session *)&abi; /* must be reset to NULL */
    destroyed = 0;
    assert_int_equal(rollnet_session_create_checked(&d, &s, &abi), ROLLNET_ERR_ABI_MISMATCH);
    assert_null(s);
    assert_int_equal(seen.errors, 1);
    assert_non_null(strstr(seen.last, "max_players"));
    assert_int_equal(destroyed, 1); /* the desc reads right: its transport is released */

    /* A desc of another size: nothing in it is read, not even the logger. */
    abi = rollnet_abi_here();
    abi.session_desc += 8;
    destroyed = 0;
    assert_int_equal(rollnet_session_create_checked(&d, &s, &abi), ROLLNET_ERR_ABI_MISMATCH);
    assert_int_equal(seen.errors, 1);
    assert_int_equal(destroyed, 0);

    /* The same headers: created. */
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    rollnet_session_destroy(s);
}

/* A record with a lying container header would be exported and read by
 * every peer: it is refused at advance_end, as a snapshot is at save_end. */
static void test_a_record_with_a_lying_header_stops_the_session(void **state)
{
    (void)state;
    log_seen seen = {0};
    rollnet_session *s = synctest_new(&seen);
    tg_game g;
    assert_true(tg_init(&g, 3, 2, 1, 0, 0));
    uint8_t in = 0;
    rollnet_error err = ROLLNET_ERR_OK;
    for (int p = 0; p < 2; p++) {
        assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
        const rollnet_request *req = &reqs[i];
        if (req->type == ROLLNET_REQUEST_ADVANCE) {
            tg_step(&g, req->inputs);
            rollnet_writer *w = rollnet_session_record_begin(s, req);
            assert_non_null(w);
            rollnet_write_array(w, 100000000u); /* announces 10^8 values, writes one */
            rollnet_write_int(w, 1);
            err = rollnet_session_advance_end(s, req, 0);
        } else {
            err = tg_execute(&g, s, req, 1);
        }
    }
    assert_int_equal(err, ROLLNET_ERR_SNAPSHOT_INVALID);
    assert_int_equal(rollnet_session_poll(s, 0), ROLLNET_ERR_SNAPSHOT_INVALID);
    assert_non_null(strstr(seen.last, "record of frame 0 is not whole"));
    rollnet_record r;
    assert_false(rollnet_session_next_record(s, &r));
    rollnet_session_destroy(s);
}

/* Regression: a host that had stopped (nobody came within the handshake
 * timeout) still completed a late joiner's handshake and kept it waiting
 * for good. A stopped session lets nobody new in: the joiner's attempts are
 * closed before any handshake, and once its join timeout has passed it is
 * told so (no handshake, not "nobody answered"). */
static void test_a_stopped_host_turns_a_late_joiner_away(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .seed = 21, .handshake_timeout_ms = 10000,
                 .join_timeout_ms = 3000};
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fx_init(f, &o);
    /* The joiner's session exists but is not polled: it has not started. */
    rollnet_error host = ROLLNET_ERR_OK;
    for (int t = 0; t < 11000 / 16 && host == ROLLNET_ERR_OK; t++) {
        rollnet_error e = harness_tick(&f->hp[1], harness_clock_now(&f->clock));
        host = harness_is_skip(e) ? ROLLNET_ERR_OK : e;
        harness_clock_tick(&f->clock);
    }
    assert_int_equal(host, ROLLNET_ERR_DISCONNECTED);
    rollnet_error joiner = ROLLNET_ERR_OK;
    for (int t = 0; t < 300 && joiner == ROLLNET_ERR_OK; t++) {
        uint64_t now = harness_clock_now(&f->clock);
        rollnet_session_poll(f->s[1], now); /* the host's game lingers, polling */
        rollnet_error e = harness_tick(&f->hp[0], now);
        joiner = harness_is_skip(e) ? ROLLNET_ERR_OK : e;
        harness_clock_tick(&f->clock);
    }
    assert_int_equal(joiner, ROLLNET_ERR_DISCONNECTED);
    assert_int_equal(f->hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f->hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT);
    assert_true(f->hp[0].event_counts[ROLLNET_EVENT_CONNECTING] >= 2); /* it tried again */
    assert_int_equal(f->hp[1].event_counts[ROLLNET_EVENT_RUNNING], 0);
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
        cmocka_unit_test(test_peers_that_end_episodes_at_different_frames_stop_with_an_error),
        cmocka_unit_test(test_a_peer_that_never_flags_episode_ends_is_named),
        cmocka_unit_test(test_a_peer_without_a_ledger_is_named_after_the_episode_timeout),
        cmocka_unit_test(test_a_game_built_against_other_headers_is_refused),
        cmocka_unit_test(test_a_record_with_a_lying_header_stops_the_session),
        cmocka_unit_test(test_a_stopped_host_turns_a_late_joiner_away),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
