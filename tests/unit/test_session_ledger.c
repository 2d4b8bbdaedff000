/* Every path by which a session promotes records goes through the one guard:
 * nothing moves while a rollback is pending (a late input marked a frame
 * wrong) or in progress (its replay is being carried out), on the poll path,
 * the request-list path, the next_record path and the episode-end path.
 * Also: the save-load-save check runs again after the first episode reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"
#include "testgame.h"

#define FRAME_US 16667u

typedef struct pair {
    rollnet_memnet *net;
    rollnet_transport sim[2];
    rollnet_session *s[2];
    tg_game g[2];
    uint8_t input[2];
    uint64_t now_us;
    char addr[16];
} pair;

static uint64_t now_ms(const pair *p)
{
    return p->now_us / 1000u;
}

/* Node 0 hosts player 0, node 1 player 1. Node 1's outgoing link is slow, so
 * node 0 runs on predictions of player 1 and learns its inputs late. */
static void pair_init(pair *p, uint32_t slow_ms, int32_t max_steps)
{
    memset(p, 0, sizeof(*p));
    p->now_us = 1000000;
    p->net = rollnet_memnet_create(2, NULL);
    for (int i = 0; i < 2; i++) {
        rollnet_netsim_desc sd = {.delay_ms = i == 1 ? slow_ms : 0, .seed = 5};
        assert_int_equal(
            rollnet_netsim_create(rollnet_memnet_transport(p->net, i), &sd, NULL, &p->sim[i]),
            ROLLNET_ERR_OK);
        rollnet_session_desc d;
        memset(&d, 0, sizeof(d));
        d.players[i].kind = ROLLNET_PLAYER_LOCAL;
        d.players[1 - i].kind = ROLLNET_PLAYER_REMOTE;
        if (i == 0) {
            snprintf(p->addr, sizeof(p->addr), "mem:1");
            d.players[1].address = p->addr;
        }
        d.transport = p->sim[i];
        d.nonce = 77 + (uint64_t)i;
        assert_int_equal(rollnet_session_create(&d, &p->s[i]), ROLLNET_ERR_OK);
        assert_true(tg_init(&p->g[i], 3, 2, 1, 0, max_steps));
        p->g[i].write_records = true;
    }
}

static void pair_free(pair *p)
{
    rollnet_session_destroy(p->s[0]);
    rollnet_session_destroy(p->s[1]);
    rollnet_memnet_destroy(p->net);
}

static rollnet_session_stats stats(rollnet_session *s)
{
    rollnet_session_stats st;
    rollnet_session_stats_get(s, &st);
    return st;
}

/* One tick of node i: poll, input, advance, carry out everything. */
static rollnet_error tick_node(pair *p, int i)
{
    rollnet_session_poll(p->s[i], now_ms(p));
    rollnet_error err = rollnet_session_add_local_input(p->s[i], i, &p->input[i], 1);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    const rollnet_request *reqs;
    int n;
    err = rollnet_session_advance(p->s[i], &reqs, &n);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    return tg_execute(&p->g[i], p->s[i], reqs, n);
}

static void tick_both(pair *p)
{
    tick_node(p, 0);
    tick_node(p, 1);
    p->now_us += FRAME_US;
}

static void run_until_running(pair *p)
{
    for (int t = 0; t < 100 && !(stats(p->s[0]).running && stats(p->s[1]).running); t++) {
        rollnet_session_poll(p->s[0], now_ms(p));
        rollnet_session_poll(p->s[1], now_ms(p));
        p->now_us += FRAME_US;
    }
    assert_true(stats(p->s[0]).running && stats(p->s[1]).running);
}

/* Run until a poll of node 0 delivers an input that contradicts its
 * prediction. Asserts that neither that poll nor the advance after it
 * promoted anything, and returns the rollback list that advance produced. */
static void run_until_misprediction(pair *p, uint64_t *promoted, const rollnet_request **out,
                                    int *out_n)
{
    for (int t = 0; t < 400; t++) {
        if (t == 60) {
            p->input[1] = 9; /* player 1 changes its input; node 0 learns it 3 frames late */
        }
        uint64_t before = stats(p->s[0]).records_promoted;
        int32_t conf_before = stats(p->s[0]).confirmed_frame;
        rollnet_session_poll(p->s[0], now_ms(p));
        uint64_t after_poll = stats(p->s[0]).records_promoted;
        int32_t conf_after = stats(p->s[0]).confirmed_frame;
        rollnet_error err = rollnet_session_add_local_input(p->s[0], 0, &p->input[0], 1);
        if (err == ROLLNET_ERR_OK) {
            const rollnet_request *reqs;
            int n;
            assert_int_equal(rollnet_session_advance(p->s[0], &reqs, &n), ROLLNET_ERR_OK);
            if (reqs[0].type == ROLLNET_REQUEST_LOAD) {
                /* This poll confirmed frames that had run on a wrong prediction. */
                assert_true(conf_after > conf_before);
                assert_int_equal(after_poll, before);
                assert_int_equal(stats(p->s[0]).records_promoted, before);
                *promoted = before;
                *out = reqs;
                *out_n = n;
                return;
            }
            assert_int_equal(tg_execute(&p->g[0], p->s[0], reqs, n), ROLLNET_ERR_OK);
        }
        tick_node(p, 1);
        p->now_us += FRAME_US;
    }
    fail_msg("no misprediction reached node 0");
}

static void test_poll_path_promotes_nothing_while_a_rollback_is_pending(void **state)
{
    (void)state;
    static pair p;
    pair_init(&p, 48, 0);
    run_until_running(&p);
    uint64_t before = 0;
    const rollnet_request *reqs;
    int n;
    run_until_misprediction(&p, &before, &reqs, &n);
    assert_true(reqs[0].flags & ROLLNET_REQUEST_REPLAY);
    /* Polling again while the rollback is pending or in progress moves nothing. */
    rollnet_session_poll(p.s[0], now_ms(&p));
    assert_int_equal(stats(p.s[0]).records_promoted, before);
    pair_free(&p);
}

static void test_list_and_next_record_paths_promote_nothing_during_a_replay(void **state)
{
    (void)state;
    static pair p;
    pair_init(&p, 48, 0);
    run_until_running(&p);
    uint64_t before = 0;
    const rollnet_request *reqs;
    int n;
    run_until_misprediction(&p, &before, &reqs, &n);
    int32_t wrong = reqs[0].frame;
    int last_replay = 0;
    for (int i = 0; i < n; i++) {
        if (reqs[i].flags & ROLLNET_REQUEST_REPLAY) {
            last_replay = i;
        }
    }
    rollnet_record rec;
    /* Drain what was promoted before; all of it precedes the wrong frame. */
    while (rollnet_session_next_record(p.s[0], &rec)) {
        assert_true(rec.frame < wrong);
    }
    assert_int_equal(stats(p.s[0]).records_promoted, before);
    for (int i = 0; i < n; i++) {
        assert_int_equal(tg_execute(&p.g[0], p.s[0], &reqs[i], 1), ROLLNET_ERR_OK);
        if (i < last_replay) {
            /* In progress: neither the list path, a poll, nor next_record moves a record. */
            assert_int_equal(stats(p.s[0]).records_promoted, before);
            assert_false(rollnet_session_next_record(p.s[0], &rec));
            rollnet_session_poll(p.s[0], now_ms(&p));
            assert_int_equal(stats(p.s[0]).records_promoted, before);
        }
    }
    /* Once the replay is done the corrected frames are promoted. */
    assert_true(stats(p.s[0]).records_promoted > before);
    bool saw_wrong = false;
    while (rollnet_session_next_record(p.s[0], &rec)) {
        if (rec.frame >= wrong) {
            assert_int_equal(rec.inputs[1], 9);
            saw_wrong = true;
        }
    }
    assert_true(saw_wrong);
    pair_free(&p);
}

static void test_episode_end_path_runs_the_pending_rollback_first(void **state)
{
    (void)state;
    static pair p;
    const int32_t steps = 120;
    pair_init(&p, 48, steps);
    run_until_running(&p);
    p.input[0] = 1;
    p.input[1] = 1;
    bool checked = false;
    for (int t = 0; t < 600 && !checked; t++) {
        p.input[1] = (uint8_t)(p.g[1].frame == steps - 1 ? 5 : 1);
        rollnet_session_poll(p.s[0], now_ms(&p));
        rollnet_error err = rollnet_session_add_local_input(p.s[0], 0, &p.input[0], 1);
        if (err == ROLLNET_ERR_OK) {
            const rollnet_request *reqs;
            int n;
            assert_int_equal(rollnet_session_advance(p.s[0], &reqs, &n), ROLLNET_ERR_OK);
            bool new_frame = false;
            for (int i = 0; i < n; i++) {
                if (reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY)) {
                    new_frame = true;
                }
            }
            if (!new_frame && p.g[0].frame >= steps) {
                /* At the boundary with a rollback pending: the list is that rollback alone. */
                assert_int_equal(reqs[0].type, ROLLNET_REQUEST_LOAD);
                assert_true(stats(p.s[0]).records_promoted < (uint64_t)steps);
                assert_int_equal(tg_execute(&p.g[0], p.s[0], reqs, n), ROLLNET_ERR_OK);
                checked = true;
            } else {
                assert_int_equal(tg_execute(&p.g[0], p.s[0], reqs, n), ROLLNET_ERR_OK);
            }
        } else {
            assert_true(err == ROLLNET_ERR_EPISODE_BARRIER || err == ROLLNET_ERR_PREDICTION_LIMIT);
            /* Waiting at the barrier never promotes a frame whose input is unconfirmed. */
            assert_true(stats(p.s[0]).records_promoted <=
                        (uint64_t)(stats(p.s[0]).confirmed_frame + 1));
        }
        tick_node(&p, 1);
        p.now_us += FRAME_US;
    }
    assert_true(checked);
    for (int t = 0; t < 60; t++) {
        tick_both(&p);
    }
    /* The last row of episode 0 carries the input really played. */
    rollnet_record rec;
    bool seen = false;
    while (rollnet_session_next_record(p.s[0], &rec)) {
        if (rec.frame == steps - 1) {
            assert_int_equal(rec.inputs[1], 5);
            assert_true(rec.episode_end);
            assert_int_equal(rec.episode, 0);
            assert_int_equal(rec.step, steps - 1);
            seen = true;
        }
        if (rec.frame == steps) {
            assert_int_equal(rec.episode, 1);
            assert_int_equal(rec.step, 0);
        }
    }
    assert_true(seen);
    pair_free(&p);
}

/* A game whose snapshots are stable in episode 0 but not after its first
 * reset: the check after the first reset says so. */
typedef struct flaky {
    int64_t frame, episode;
    int64_t saves;
} flaky;

static rollnet_error run_flaky(rollnet_session *s, flaky *g, const rollnet_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *r = &reqs[i];
        rollnet_error err = ROLLNET_ERR_OK;
        if (r->type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, r);
            rollnet_write_int(w, g->frame);
            rollnet_write_int(w, g->episode);
            rollnet_write_int(w, g->episode > 0 ? g->saves++ : 0);
            err = rollnet_session_save_end(s, r);
        } else if (r->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *rd = rollnet_session_load_begin(s, r);
            int64_t junk;
            rollnet_read_int(rd, &g->frame);
            rollnet_read_int(rd, &g->episode);
            rollnet_read_int(rd, &junk);
            err = rollnet_session_load_end(s, r);
        } else {
            g->frame++;
            bool end = g->frame == 10;
            if (end) {
                g->episode = 1;
            }
            err = rollnet_session_advance_end(s, r, end ? ROLLNET_STEP_EPISODE_END : 0);
        }
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    return ROLLNET_ERR_OK;
}

static void test_snapshot_check_runs_again_after_the_first_reset(void **state)
{
    (void)state;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 1;
    d.check_distance = 1;
    rollnet_session *s;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    flaky g = {0, 0, 0};
    uint8_t in = 0;
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < 30 && err == ROLLNET_ERR_OK; t++) {
        rollnet_session_poll(s, (uint64_t)t * 16);
        assert_int_equal(rollnet_session_add_local_input(s, 0, &in, 1), ROLLNET_ERR_OK);
        const rollnet_request *reqs;
        int n;
        err = rollnet_session_advance(s, &reqs, &n);
        if (err == ROLLNET_ERR_OK) {
            err = run_flaky(s, &g, reqs, n);
        }
    }
    /* The first check (frame 0) passed; the one after the reset fails loudly
     * (or the sync test's own replay catches the same instability first). */
    assert_true(err == ROLLNET_ERR_SNAPSHOT_UNSTABLE || err == ROLLNET_ERR_DESYNC);
    assert_true(g.frame >= 10);
    rollnet_session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_path_promotes_nothing_while_a_rollback_is_pending),
        cmocka_unit_test(test_list_and_next_record_paths_promote_nothing_during_a_replay),
        cmocka_unit_test(test_episode_end_path_runs_the_pending_rollback_first),
        cmocka_unit_test(test_snapshot_check_runs_again_after_the_first_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
