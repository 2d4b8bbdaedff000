/* Ending a session on purpose. rollnet_session_finish: every peer's ledger
 * ends at the same frame, and a peer that exits right after FINISHED leaves
 * the others complete. rollnet_session_leave: the others are told where the
 * leaver's inputs end and go on without it from the same frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p_fixture.h"


/* Tick until every node not gone has raised FINISHED. */
static void run_until_finished(fx *f, uint64_t max_ticks)
{
    for (uint64_t t = 0; t < max_ticks; t++) {
        bool all = true;
        for (int i = 0; i < f->n; i++) {
            all = all && (f->gone[i] || fx_finished_end(f, i) >= 0);
        }
        if (all) {
            return;
        }
        fx_run(f, 1);
    }
    for (int i = 0; i < f->n; i++) {
        rollnet_session_stats st = f->gone[i] ? (rollnet_session_stats){0} : fx_stats(f, i);
        fprintf(stderr, "node %d: frame %d confirmed %d rows %d finished %d\n", i, st.frame,
                st.confirmed_frame, f->rec[i]->count, fx_finished_end(f, i));
    }
    fail_msg("not finished within %llu ticks", (unsigned long long)max_ticks);
}

/* Every node's ledger holds exactly the frames before `end`, the same bytes. */
static void assert_ledgers_end_at(fx *f, int32_t end)
{
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(f->rec[i]->count, end);
        assert_int_equal(f->rec[i]->frame[end - 1], end - 1);
    }
    assert_int_equal(fx_assert_ledgers_agree(f, end), end);
}

/* One peer finishes in the middle of play under loss; the other learns it
 * from the network (FINISHING) and finishes too. Both end on one frame with
 * the same ledger, and nobody sees a DISCONNECTED. */
static void test_one_peer_finishes_the_other_follows(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .seed = 11, .write_records = true};
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    assert_true(fx_all_running(&f));
    rollnet_session_stats before = fx_stats(&f, 0);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_OK); /* again: harmless */
    run_until_finished(&f, 2000);
    int32_t end = fx_finished_end(&f, 0);
    assert_int_equal(fx_finished_end(&f, 1), end);
    /* Node 0 stopped where it was; node 1, ahead or behind, ends there too
     * (the end is at most node 0's inputs' end: its frame plus the delay). */
    assert_true(end >= before.frame - 10 && end <= before.frame + o.input_delay);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_FINISHING], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_FINISHING].player, 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_FINISHING], 0);
    assert_ledgers_end_at(&f, end);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        /* Nothing more runs: the session is complete. */
        uint8_t in = 0;
        assert_int_equal(rollnet_session_add_local_input(f.s[i], i, &in, 1), ROLLNET_ERR_FINISHED);
        const rollnet_request *reqs;
        int n = -1;
        assert_int_equal(rollnet_session_advance(f.s[i], &reqs, &n), ROLLNET_ERR_FINISHED);
        assert_int_equal(fx_stats(&f, i).records_promoted, (uint64_t)end);
    }
    /* Quiet afterwards, however long the peers stay. */
    fx_run(&f, 600);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        assert_int_equal(f.rec[i]->count, end);
    }
    fx_free(&f);
}

/* Games that stop at the end of their last episode, as a two-human
 * experiment does: both call finish on its EPISODE_COMPLETE, held at the
 * episode barrier, and the ledgers end with that episode, not a frame more. */
static void finish_on_second_episode(const rollnet_event *ev, void *user_data)
{
    harness_peer *hp = user_data;
    if (ev->type == ROLLNET_EVENT_EPISODE_COMPLETE && ev->u.episode.episode == 1) {
        assert_int_equal(rollnet_session_finish(hp->session), ROLLNET_ERR_OK);
    }
}

static void test_finish_at_an_episode_end_ends_the_ledger_there(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 3, .seed = 5, .max_steps = 120,
                 .write_records = true};
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &o);
    for (int i = 0; i < 2; i++) {
        f.hp[i].event_fn = finish_on_second_episode;
        f.hp[i].event_user_data = &f.hp[i];
    }
    run_until_finished(&f, 3000);
    assert_int_equal(fx_finished_end(&f, 0), 240);
    assert_int_equal(fx_finished_end(&f, 1), 240);
    assert_ledgers_end_at(&f, 240);
    assert_int_equal(fx_assert_episodes_agree(&f, 120), 2);
    fx_free(&f);
}

/* The peer that finished first leaves the moment it sees FINISHED, as a game
 * that exits would. Its last FINISH may never arrive; the other still
 * finishes complete, without a DISCONNECTED. */
static void test_peer_that_exits_after_finished_leaves_the_other_complete(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 1, .seed = 23, .write_records = true};
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
    int exited = -1;
    for (int t = 0; t < 2000 && exited < 0; t++) {
        fx_run(&f, 1);
        for (int i = 0; i < 2 && exited < 0; i++) {
            if (fx_finished_end(&f, i) >= 0) {
                exited = i;
            }
        }
    }
    assert_true(exited >= 0);
    int other = 1 - exited;
    rollnet_session_destroy(f.s[exited]); /* its transport with it */
    f.s[exited] = NULL;
    f.sim[exited] = (rollnet_transport){0};
    f.gone[exited] = true;
    run_until_finished(&f, 2000);
    int32_t end = fx_finished_end(&f, exited);
    assert_int_equal(fx_finished_end(&f, other), end);
    assert_int_equal(f.hp[other].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_ledgers_end_at(&f, end);
    fx_free(&f);
}

/* Three players, lossy links, the finish started by the last one. */
static void test_mesh_finishes_together(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 2, .seed = 41, .write_records = true};
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 500);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_finish(f.s[2]), ROLLNET_ERR_OK);
    run_until_finished(&f, 3000);
    int32_t end = fx_finished_end(&f, 2);
    assert_true(end > 400);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx_finished_end(&f, i), end);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_FINISHING], i == 2 ? 0 : 1);
    }
    assert_ledgers_end_at(&f, end);
    fx_free(&f);
}

/* Before it runs, a session cannot finish; after a sync test finishes, its
 * ledger ends where its inputs ended. */
static void test_finish_before_running_and_in_a_sync_test(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .seed = 3};
    fx f;
    fx_init(&f, &o);
    assert_int_equal(rollnet_session_finish(f.s[0]), ROLLNET_ERR_NOT_RUNNING);
    assert_int_equal(rollnet_session_finish(NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    fx_free(&f);

    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 2;
    d.input_delay = 2;
    d.check_distance = 3;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    tg_game g;
    assert_true(tg_init(&g, 9, 2, 1, 0, 0));
    g.write_records = true;
    harness_peer hp;
    harness_peer_init(&hp, s, &g, &d, 9);
    for (int t = 0; t < 50; t++) {
        assert_int_equal(harness_tick(&hp, 1000 + (uint64_t)t * 16), ROLLNET_ERR_OK);
    }
    assert_int_equal(rollnet_session_finish(s), ROLLNET_ERR_OK);
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < 20 && err != ROLLNET_ERR_FINISHED; t++) {
        err = harness_tick(&hp, 2000 + (uint64_t)t * 16);
    }
    assert_int_equal(err, ROLLNET_ERR_FINISHED);
    assert_int_equal(hp.event_counts[ROLLNET_EVENT_FINISHED], 1);
    assert_int_equal(hp.last_event[ROLLNET_EVENT_FINISHED].u.finish.end_frame, 50);
    int rows = 0;
    rollnet_record r;
    while (rollnet_session_next_record(s, &r)) {
        assert_int_equal(r.frame, rows);
        rows++;
    }
    assert_int_equal(rows, 50);
    rollnet_session_destroy(s);
}

/* The first frame from which player `p` is neutral in node i's ledger; the
 * ledger holds player p's real inputs (as node p recorded them) before it. */
static void assert_left_from(fx *f, int i, int p, int32_t from)
{
    const fx_records *r = f->rec[i];
    const fx_records *own = f->rec[p];
    assert_true(r->count > from + 60); /* play went on without it */
    assert_true(own->count <= from);   /* the leaver confirmed nothing past its inputs */
    for (int k = 0; k < own->count; k++) {
        assert_int_equal(r->first_input_byte[k][p], own->first_input_byte[k][p]);
    }
    for (int k = from; k < r->count; k++) {
        assert_int_equal(r->first_input_byte[k][p], 0);
    }
}

/* Two players: one leaves under loss. The other hears "the peer left" with
 * the frame its inputs end, holds all of them, and plays on alone; the
 * leaver gets LEFT once the other has read the notice. */
static void test_leave_two_players(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .input_delay = 2, .seed = 17, .write_records = true};
    o.sim[0] = fx_lossy();
    o.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_leave(f.s[1]), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_leave(f.s[1]), ROLLNET_ERR_OK); /* again: harmless */
    uint8_t in = 1;
    assert_int_equal(rollnet_session_add_local_input(f.s[1], 1, &in, 1), ROLLNET_ERR_LEFT);
    for (int t = 0; t < 600 && f.hp[1].event_counts[ROLLNET_EVENT_LEFT] == 0; t++) {
        fx_run(&f, 1);
    }
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_LEFT], 1);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    rollnet_event ev = f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED];
    assert_int_equal(ev.player, 1);
    assert_int_equal(ev.u.disconnected.reason, ROLLNET_DISCONNECT_LEFT);
    fx_run(&f, 300);
    assert_left_from(&f, 0, 1, ev.u.disconnected.frame);
    fx_free(&f);
}

/* Three players on lossy links: the one that leaves is dropped from the
 * same frame by both survivors, whose ledgers stay identical. */
static void test_leave_mesh(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 3, .input_delay = 1, .seed = 29, .write_records = true};
    for (int i = 0; i < 3; i++) {
        o.sim[i] = fx_lossy();
    }
    fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    assert_true(fx_all_running(&f));
    assert_int_equal(rollnet_session_leave(f.s[2]), ROLLNET_ERR_OK);
    fx_run(&f, 600);
    int32_t from = fx_assert_left(&f, 2, 1);
    for (int i = 0; i < 2; i++) {
        assert_left_from(&f, i, 2, from);
    }
    assert_true(f.rec[0]->count > from + 100 && f.rec[1]->count > from + 100);
    fx_free(&f);
}

static void test_leave_refusals(void **state)
{
    (void)state;
    fx_opts o = {.num_players = 2, .seed = 3};
    fx f;
    fx_init(&f, &o);
    assert_int_equal(rollnet_session_leave(f.s[0]), ROLLNET_ERR_NOT_RUNNING);
    assert_int_equal(rollnet_session_leave(NULL), ROLLNET_ERR_INVALID_ARGUMENT);
    fx_free(&f);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_SYNCTEST;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_leave(s), ROLLNET_ERR_WRONG_SESSION_KIND);
    rollnet_session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_peer_finishes_the_other_follows),
        cmocka_unit_test(test_finish_at_an_episode_end_ends_the_ledger_there),
        cmocka_unit_test(test_peer_that_exits_after_finished_leaves_the_other_complete),
        cmocka_unit_test(test_mesh_finishes_together),
        cmocka_unit_test(test_finish_before_running_and_in_a_sync_test),
        cmocka_unit_test(test_leave_two_players),
        cmocka_unit_test(test_leave_mesh),
        cmocka_unit_test(test_leave_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
