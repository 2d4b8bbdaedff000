/* Finishing and leaving on the paths test_p2p_finish.c does not walk: two
 * finishers at different frames and delays, finish then leave, a FINISH
 * that reaches only one survivor, a FINISH before the others run, a full
 * ledger, loading, deaths and departures in a mesh mid-finish. Each test
 * asserts the documented guarantee: one end, identical ledgers, FINISHED
 * once everywhere, no silent wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p_fixture.h"

#define ALL_CHANNELS 3u

static void fin_log(rollnet_log_level level, const char *message, void *user_data)
{
    (void)level;
    if (strstr(message, "finish") || strstr(message, "leav") || strstr(message, "disconn") ||
        strstr(message, "inputs end")) {
        fprintf(stderr, "  [node %d] %s\n", (int)(intptr_t)user_data, message);
    }
}


static void dump(fx *f, const char *what)
{
    fprintf(stderr, "--- %s\n", what);
    for (int i = 0; i < f->n; i++) {
        if (f->gone[i]) {
            fprintf(stderr, "node %d: gone\n", i);
            continue;
        }
        rollnet_session_stats st = fx_stats(f, i);
        fprintf(stderr,
                "node %d: frame %d confirmed %d rows %d finished %d (x%llu) finishing %llu "
                "disc %llu stalled %llu stall_ended %llu left %llu\n",
                i, st.frame, st.confirmed_frame, f->rec[i]->count, fx_finished_end(f, i),
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_FINISHED],
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_FINISHING],
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED],
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_STALLED],
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_STALL_ENDED],
                (unsigned long long)f->hp[i].event_counts[ROLLNET_EVENT_LEFT]);
    }
}

static bool run_until_finished(fx *f, uint64_t max_ticks)
{
    for (uint64_t t = 0; t < max_ticks; t++) {
        bool all = true;
        for (int i = 0; i < f->n; i++) {
            all = all && (f->gone[i] || fx_finished_end(f, i) >= 0);
        }
        if (all) {
            return true;
        }
        fx_run(f, 1);
    }
    return false;
}

static void kill_node(fx *f, int i)
{
    rollnet_session_destroy(f->s[i]);
    f->s[i] = NULL;
    f->sim[i] = (rollnet_transport){0};
    f->gone[i] = true;
}

/* Rows of the non-gone nodes: same count, same hashes. */
static void assert_live_ledgers_identical(fx *f)
{
    int ref = -1;
    for (int i = 0; i < f->n; i++) {
        if (f->gone[i]) {
            continue;
        }
        if (ref < 0) {
            ref = i;
            continue;
        }
        assert_int_equal(f->rec[i]->count, f->rec[ref]->count);
        for (int k = 0; k < f->rec[i]->count; k++) {
            if (f->rec[i]->hash[k] != f->rec[ref]->hash[k]) {
                fprintf(stderr, "row %d differs between node %d and node %d\n", k, ref, i);
                fail();
            }
        }
    }
}

/* 1. Three players. Node 2 is a few frames ahead, calls finish and dies at
 * once; its FINISH reaches node 0 but not node 1 (link cut). Guarantee:
 * nodes 0 and 1 end on the same frame with identical ledgers. */
static void test_finisher_dies_and_its_finish_reaches_one_survivor(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 4, .seed = 7, .write_records = true,
                 .log = fin_log,
                 /* the finish must settle after the reconnect window, not the 60 s rejoin one */
                 .rejoin_timeout_ms = ROLLNET_REJOIN_OFF};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    f.paused[0] = f.paused[1] = true;
    fx_run(&f, 3); /* node 2 runs 3 frames ahead (predicting) */
    f.paused[0] = f.paused[1] = false;
    rollnet_memnet_set_link_cut(f.net, 2, 1, ALL_CHANNELS);
    assert_int_equal(rollnet_session_finish(f.s[2]), ROLLNET_ERR_OK);
    rollnet_session_poll(f.s[2], harness_clock_now(&f.clock)); /* flush the FINISH */
    kill_node(&f, 2);
    bool done = run_until_finished(&f, 3000);
    dump(&f, "finisher dies");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_live_ledgers_identical(&f);
    fx_free(&f);
}

/* 1b. Same, but node 2 stays alive: only its link to node 1 is cut (one
 * way) as it finishes. */
static void test_finish_reaches_one_survivor_link_cut(void **state)
{
    (void)state;
    /* The cut link is given up after the disconnect timeout (with
     * reconnection it would be retried for reconnect_timeout_ms first). */
    fx_opts o = {.num_players = 3, .input_delay = 4, .seed = 7, .write_records = true,
                 .disconnect_timeout_ms = 2000, .reconnect_timeout_ms = ROLLNET_RECONNECT_OFF,
                 .log = fin_log};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    f.paused[0] = f.paused[1] = true;
    fx_run(&f, 3); /* node 2 runs 3 frames ahead (predicting) */
    f.paused[0] = f.paused[1] = false;
    rollnet_memnet_set_link_cut(f.net, 2, 1, ALL_CHANNELS);
    assert_int_equal(rollnet_session_finish(f.s[2]), ROLLNET_ERR_OK);
    bool done = run_until_finished(&f, 3000);
    dump(&f, "finish reaches one survivor, link cut");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 2));
    assert_live_ledgers_identical(&f);
    fx_free(&f);
}

/* 2. Three players: node 0 runs (it has both HELLOs) while nodes 1 and 2 do
 * not yet (their link is cut). Node 0 finishes at once: "at any time while
 * running". Guarantee: everybody finishes. */
static void test_finish_before_the_others_run(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 9, .write_records = true};
    fx f;
    fx_init(&f, &o);
    rollnet_memnet_set_link_cut(f.net, 1, 2, ALL_CHANNELS);
    rollnet_memnet_set_link_cut(f.net, 2, 1, ALL_CHANNELS);
    int t = 0;
    for (; t < 600 && !fx_stats(&f, 0).running; t++) {
        fx_run(&f, 1);
    }
    assert_true(fx_stats(&f, 0).running);
    assert_false(fx_stats(&f, 1).running);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    fx_run(&f, 5);
    rollnet_memnet_set_link_cut(f.net, 1, 2, 0);
    rollnet_memnet_set_link_cut(f.net, 2, 1, 0);
    bool done = run_until_finished(&f, 60 * 60);
    dump(&f, "finish before others run");
    assert_true(fx_all_running(&f));
    assert_true(done);
    fx_free(&f);
}

/* 3. A game that does not read its records while finishing (it reads them
 * after FINISHED, as the docs say): the ring fills. Expected: the wait is
 * said (STALLED ledger full, not cleared while it holds), and FINISHED
 * once the game reads. */
static void test_finish_with_the_ledger_ring_full(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .seed = 13, .write_records = true,
                 .ledger_capacity = 100};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 60);
    assert_true(fx_all_running(&f));
    f.no_read[1] = true;
    fx_run(&f, 130); /* node 1's ring of 100 is full: both stall */
    dump(&f, "ring full, before finish");
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    fx_run(&f, 1);
    /* Now let node 0 run a little further than node 1's ring: pause 1. */
    fx_run(&f, 600);
    dump(&f, "ledger full while finishing");
    rollnet_session_stats st1 = fx_stats(&f, 1);
    int32_t end0 = fx_finished_end(&f, 0);
    fprintf(stderr, "node 1 last skip: %s, stalled flag event diff %lld\n",
            rollnet_error_string(f.hp[1].last_error),
            (long long)(f.hp[1].event_counts[ROLLNET_EVENT_STALLED] -
                        f.hp[1].event_counts[ROLLNET_EVENT_STALL_ENDED]));
    (void)st1;
    (void)end0;
    /* Node 1 cannot finish with its ring full; it must say it is stalled. */
    if (fx_finished_end(&f, 1) < 0) {
        /* A stall still standing (STALLED repeats while it lasts; the stats
         * count each stall once). */
        st1 = fx_stats(&f, 1);
        assert_int_equal(st1.stalls, f.hp[1].event_counts[ROLLNET_EVENT_STALL_ENDED] + 1);
        assert_true(f.hp[1].event_counts[ROLLNET_EVENT_STALLED] >= st1.stalls);
        assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_STALLED].u.stall.reason,
                         ROLLNET_STALL_LEDGER_FULL);
    }
    f.no_read[1] = false;
    assert_true(run_until_finished(&f, 600));
    fx_record_hash(&f, 1);
    dump(&f, "after reading");
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_live_ledgers_identical(&f);
    fx_free(&f);
}

/* 3b. The peer whose ring is full finishes itself (delay 0: its end is its
 * frame). It cannot promote its last frames until the game reads; it must
 * keep saying so, not end the stall. */
static void test_finish_while_own_ring_full(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 0, .seed = 13, .write_records = true,
                 .ledger_capacity = 100};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 60);
    f.no_read[1] = true;
    fx_run(&f, 130);
    dump(&f, "own ring full, before finish");
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_STALLED].u.stall.reason,
                     ROLLNET_STALL_LEDGER_FULL);
    assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
    fx_run(&f, 600);
    dump(&f, "own ring full, 10 s after finish");
    /* Held: every frame before the end was promoted before the ring filled. */
    assert_true(fx_finished_end(&f, 1) >= 0);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    fx_free(&f);
}

/* 3c. Frames run ahead but not yet promoted when the ring fills; then this
 * peer finishes at its frame. It is blocked by its ring: it must say so. */
static void test_finish_ahead_with_ring_full(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 0, .seed = 13, .write_records = true,
                 .ledger_capacity = 100, .log = fin_log};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 60);
    f.no_read[1] = true;
    fx_run(&f, 97);
    f.paused[0] = true;
    fx_run(&f, 12);
    f.paused[0] = false;
    fx_run(&f, 2);
    dump(&f, "ahead, ring full");
    rollnet_session_stats st = fx_stats(&f, 1);
    fprintf(stderr, "node 1: frame %d promoted %llu\n", st.frame,
            (unsigned long long)st.records_promoted);
    assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
    fx_run(&f, 600);
    dump(&f, "ahead, ring full, 10 s after finish");
    st = fx_stats(&f, 1);
    fprintf(stderr, "node 1: frame %d promoted %llu last result %s\n", st.frame,
            (unsigned long long)st.records_promoted, rollnet_error_string(f.hp[1].last_error));
    if (fx_finished_end(&f, 1) < 0) {
        /* A stall still standing (STALLED repeats while it lasts; the stats
         * count each stall once). */
        assert_int_equal(st.stalls, f.hp[1].event_counts[ROLLNET_EVENT_STALL_ENDED] + 1);
        assert_true(f.hp[1].event_counts[ROLLNET_EVENT_STALLED] >= st.stalls);
    }
    fx_free(&f);
}

/* 4. Two peers call finish at different frames with different input delays,
 * under loss. */
static void test_two_finishers_different_delays(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 1, .node_delay = {0, 6, 3}, .seed = 21,
                 .write_records = true};
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
    fx_run(&f, 2);
    assert_int_equal(rollnet_session_finish(f.s[2]), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_set_input_delay(f.s[0], 0, 7), ROLLNET_ERR_OK);
    bool done = run_until_finished(&f, 3000);
    dump(&f, "two finishers");
    assert_true(done);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx_finished_end(&f, i), fx_finished_end(&f, 0));
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_FINISHED], 1);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        assert_int_equal(f.rec[i]->count, fx_finished_end(&f, 0));
    }
    assert_live_ledgers_identical(&f);
    fx_free(&f);
}

/* 5. Finish at the first frames (delay 0). */
static void test_finish_at_frame_zero(void **state)
{
    (void)state;
    for (int delay = 0; delay < 3; delay++) {
        fx_opts o = {.num_players = 2, .input_delay = delay, .seed = 3, .write_records = true};
        fx f;
        fx_init(&f, &o);
        for (int t = 0; t < 300 && !fx_stats(&f, 1).running; t++) {
            fx_run(&f, 1);
        }
        assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
        bool done = run_until_finished(&f, 600);
        dump(&f, "finish at 0");
        assert_true(done);
        assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
        assert_live_ledgers_identical(&f);
        fx_free(&f);
    }
}

/* 6. Leave in a mesh where the leaver's LEAVE reaches one survivor only. */
static void test_leave_notice_reaches_one_survivor(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 31, .write_records = true};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_memnet_set_link_cut(f.net, 2, 1, ALL_CHANNELS);
    assert_int_equal(rollnet_session_leave(f.s[2]), ROLLNET_ERR_OK);
    fx_run(&f, 600);
    dump(&f, "leave reaches one");
    fx_assert_left(&f, 2, 1);
    fx_free(&f);
}

/* 6b. Same under loss, 4 players, the leaver's link to two survivors cut. */
static void test_leave_notice_reaches_one_survivor_lossy(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 4, .input_delay = 1, .seed = 71, .write_records = true};
    for (int i = 0; i < 4; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    rollnet_memnet_set_link_cut(f.net, 3, 1, ALL_CHANNELS);
    rollnet_memnet_set_link_cut(f.net, 3, 2, ALL_CHANNELS);
    assert_int_equal(rollnet_session_leave(f.s[3]), ROLLNET_ERR_OK);
    fx_run(&f, 900);
    dump(&f, "leave reaches one, lossy 4");
    fx_assert_left(&f, 3, 901);
    fx_free(&f);
}

/* 7. Two peers of a 4-player mesh leave at once, under loss. */
static void test_two_leave_at_once(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 4, .input_delay = 2, .seed = 37, .write_records = true};
    for (int i = 0; i < 4; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_leave(f.s[2]), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_leave(f.s[3]), ROLLNET_ERR_OK);
    fx_run(&f, 900);
    dump(&f, "two leave");
    for (int l = 2; l < 4; l++) {
        assert_int_equal(f.hp[l].event_counts[ROLLNET_EVENT_LEFT], 1);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 2);
    }
    int common = f.rec[0]->count < f.rec[1]->count ? f.rec[0]->count : f.rec[1]->count;
    assert_true(common > 500);
    for (int k = 0; k < common; k++) {
        assert_true(f.rec[0]->hash[k] == f.rec[1]->hash[k]);
    }
    for (int l = 2; l < 4; l++) {
        for (int k = 0; k < f.rec[l]->count; k++) {
            assert_true(f.rec[l]->hash[k] == f.rec[0]->hash[k]);
        }
    }
    fx_free(&f);
}

/* 8. Finish by node 0, then node 2 leaves mid-finish (3 players, loss). */
static void test_leave_mid_finish(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 3, .seed = 43, .write_records = true};
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    fx_run(&f, 2);
    assert_int_equal(rollnet_session_leave(f.s[2]), ROLLNET_ERR_OK);
    f.gone[2] = false;
    bool done = false;
    for (int t = 0; t < 3000 && !done; t++) {
        fx_run(&f, 1);
        done = fx_finished_end(&f, 0) >= 0 && fx_finished_end(&f, 1) >= 0;
    }
    dump(&f, "leave mid finish");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_int_equal(f.rec[0]->count, f.rec[1]->count);
    for (int k = 0; k < f.rec[0]->count; k++) {
        assert_true(f.rec[0]->hash[k] == f.rec[1]->hash[k]);
    }
    fx_free(&f);
}

/* 9. A 3-player mesh where one peer's process dies mid-finish (before it
 * heard anything), under loss. */
static void test_peer_dies_mid_finish(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 47, .write_records = true,
                 .disconnect_timeout_ms = 2000,
                 /* the finish must settle after the reconnect window, not the 60 s rejoin one */
                 .rejoin_timeout_ms = ROLLNET_REJOIN_OFF};
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    kill_node(&f, 1);
    bool done = run_until_finished(&f, 3000);
    dump(&f, "peer dies mid finish");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 2));
    assert_live_ledgers_identical(&f);
    fx_free(&f);
}

/* 10. The finisher leaves right after finishing (3 players, loss). */
static void test_finish_then_leave(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 53, .write_records = true,
                 .log = getenv("SEED") ? NULL : fin_log};
    if (getenv("SEED")) {
        o.seed = strtoull(getenv("SEED"), NULL, 10);
    }
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_int_equal(rollnet_session_finish(f.s[2]), ROLLNET_ERR_OK);
    fx_run(&f, 4);
    assert_int_equal(rollnet_session_leave(f.s[2]), ROLLNET_ERR_OK);
    bool done = false;
    for (int t = 0; t < 3000 && !done; t++) {
        fx_run(&f, 1);
        done = fx_finished_end(&f, 0) >= 0 && fx_finished_end(&f, 1) >= 0;
    }
    dump(&f, "finish then leave");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_int_equal(f.rec[0]->count, f.rec[1]->count);
    for (int k = 0; k < f.rec[0]->count; k++) {
        assert_true(f.rec[0]->hash[k] == f.rec[1]->hash[k]);
    }
    for (int k = 0; k < f.rec[2]->count; k++) {
        assert_true(f.rec[2]->hash[k] == f.rec[0]->hash[k]);
    }
    fx_free(&f);
}

/* 11. Leave, then finish on the leaver: harmless; the others go on. */
static void test_leave_then_finish(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 59, .write_records = true};
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 200);
    assert_int_equal(rollnet_session_leave(f.s[1]), ROLLNET_ERR_OK);
    rollnet_error e = rollnet_session_finish(f.s[1]);
    fprintf(stderr, "finish after leave: %s\n", rollnet_error_string(e));
    fx_run(&f, 400);
    dump(&f, "leave then finish");
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_LEFT], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_FINISHING], 0);
    assert_int_equal(f.hp[2].event_counts[ROLLNET_EVENT_FINISHING], 0);
    assert_true(f.rec[0]->count > 500 && f.rec[2]->count > 500);
    fx_free(&f);
}

/* 12. Finish while the other peer is in a loading pause. */
static void test_finish_during_loading(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .seed = 61, .write_records = true};
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 200);
    assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    f.paused[1] = true;
    fx_run(&f, 20);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    fx_run(&f, 8 * 60); /* 8 s of loading: past disconnect_timeout_ms */
    f.paused[1] = false;
    assert_int_equal(rollnet_session_end_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    bool done = run_until_finished(&f, 2000);
    dump(&f, "finish during loading");
    assert_true(done);
    assert_int_equal(fx_finished_end(&f, 0), fx_finished_end(&f, 1));
    assert_live_ledgers_identical(&f);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    fx_free(&f);
}

/* 13. Leave at the first frame with delay 0 (no input given yet). */
static void test_leave_at_frame_zero(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 0, .seed = 67, .write_records = true};
    fx f;
    fx_init(&f, &o);
    for (int t = 0; t < 300 && !fx_stats(&f, 1).running; t++) {
        fx_run(&f, 1);
    }
    assert_int_equal(rollnet_session_leave(f.s[1]), ROLLNET_ERR_OK);
    fx_run(&f, 400);
    dump(&f, "leave at 0");
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_LEFT], 1);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_LEFT);
    assert_true(f.rec[0]->count > 300);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finisher_dies_and_its_finish_reaches_one_survivor),
        cmocka_unit_test(test_finish_reaches_one_survivor_link_cut),
        cmocka_unit_test(test_finish_before_the_others_run),
        cmocka_unit_test(test_finish_with_the_ledger_ring_full),
        cmocka_unit_test(test_finish_while_own_ring_full),
        cmocka_unit_test(test_finish_ahead_with_ring_full),
        cmocka_unit_test(test_two_finishers_different_delays),
        cmocka_unit_test(test_finish_at_frame_zero),
        cmocka_unit_test(test_leave_notice_reaches_one_survivor),
        cmocka_unit_test(test_leave_notice_reaches_one_survivor_lossy),
        cmocka_unit_test(test_two_leave_at_once),
        cmocka_unit_test(test_leave_mid_finish),
        cmocka_unit_test(test_peer_dies_mid_finish),
        cmocka_unit_test(test_finish_then_leave),
        cmocka_unit_test(test_leave_then_finish),
        cmocka_unit_test(test_finish_during_loading),
        cmocka_unit_test(test_leave_at_frame_zero),
    };
    if (getenv("T")) {
        cmocka_set_test_filter(getenv("T"));
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
