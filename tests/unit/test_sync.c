/* rn_sync: the request list for straight frames, rollbacks of every depth,
 * the prediction window, and replays that re-save exactly what a straight
 * run saves. The "game" here is a running sum of all inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rn_alloc.h"
#include "sync.h"

typedef struct mini_game {
    int64_t frame;
    int64_t sum;
} mini_game;

static void setup(rn_sync *s, int max_prediction)
{
    rollnet_allocator a;
    rn_allocator_resolve(NULL, &a);
    rn_sync_config cfg = {
        .num_players = 2,
        .input_size = 1,
        .max_prediction = max_prediction,
        .snapshot_capacity = 256,
        .prediction = ROLLNET_PREDICT_REPEAT_LAST,
    };
    assert_int_equal(rn_sync_init(s, &a, &cfg), ROLLNET_ERR_OK);
}

/* Carry out the list; returns the number of ADVANCE requests. */
static int execute(rn_sync *s, mini_game *g, int count)
{
    int advances = 0;
    for (int i = 0; i < count; i++) {
        const rollnet_request *r = &s->reqs[i];
        switch (r->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w = rn_sync_save_begin(s, r);
            assert_non_null(w);
            assert_int_equal(g->frame, r->frame);
            rollnet_write_int(w, g->frame);
            rollnet_write_int(w, g->sum);
            rollnet_error err = rn_sync_save_end(s, r);
            assert_int_equal(err, ROLLNET_ERR_OK);
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *rd = rn_sync_load_begin(s, r);
            assert_non_null(rd);
            assert_true(rollnet_read_int(rd, &g->frame));
            assert_true(rollnet_read_int(rd, &g->sum));
            assert_int_equal(rn_sync_load_end(s, r), ROLLNET_ERR_OK);
            assert_int_equal(g->frame, r->frame);
            break;
        }
        case ROLLNET_REQUEST_ADVANCE:
            assert_int_equal(g->frame, r->frame);
            g->sum = (int64_t)(((uint64_t)g->sum * 31u + r->inputs[0] * 7u + r->inputs[1]) & 0xffffffffffffu);
            g->frame++;
            assert_int_equal(rn_sync_advance_done(s, r), ROLLNET_ERR_OK);
            advances++;
            break;
        }
    }
    assert_false(rn_sync_requests_pending(s));
    return advances;
}

static int step(rn_sync *s, mini_game *g, const uint8_t *local, const rn_sync_plan *plan_in)
{
    rn_sync_plan plan = {.advance = true};
    if (plan_in) {
        plan = *plan_in;
    }
    if (plan.advance) {
        assert_int_equal(rn_iq_add(&s->queues[0], s->frame, local), RN_IQ_ADDED);
    }
    int n = rn_sync_build(s, &plan);
    execute(s, g, n);
    return n;
}

static void test_first_list_saves_frame_zero_then_runs_it(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 1;
    assert_int_equal(rn_iq_add(&s.queues[0], 0, &in), RN_IQ_ADDED);
    rn_sync_plan plan = {.advance = true, .validate = true};
    int n = rn_sync_build(&s, &plan);
    assert_int_equal(n, 5);
    assert_int_equal(s.reqs[0].type, ROLLNET_REQUEST_SAVE);
    assert_int_equal(s.reqs[0].frame, 0);
    assert_int_equal(s.reqs[1].type, ROLLNET_REQUEST_LOAD);
    assert_int_equal(s.reqs[2].type, ROLLNET_REQUEST_SAVE);
    assert_int_equal(s.reqs[2].frame, 0);
    assert_int_equal(s.reqs[3].type, ROLLNET_REQUEST_ADVANCE);
    assert_int_equal(s.reqs[3].frame, 0);
    assert_int_equal(s.reqs[3].flags, 0);
    assert_int_equal(s.reqs[4].type, ROLLNET_REQUEST_SAVE);
    assert_int_equal(s.reqs[4].frame, 1);
    execute(&s, &g, n);
    assert_int_equal(s.frame, 1);
    rn_sync_free(&s);
}

/* A received state (state_transfer.h): the clock and the queues start at
 * its frame, the first list LOADs it, and frames before it are never asked
 * for. */
static void test_a_state_preloaded_at_a_frame_is_loaded_first_and_run_from(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    /* The mini game's state at frame 500: [frame, sum]. */
    const uint8_t saved[] = {0xcd, 0x01, 0xf4, 0x2a};
    assert_int_equal(rn_sync_preload_at(&s, 500, saved, sizeof saved), ROLLNET_ERR_OK);
    assert_int_equal(s.frame, 500);
    assert_int_equal(rn_sync_preload_at(&s, 600, saved, sizeof saved), ROLLNET_ERR_INVALID_ARGUMENT);
    uint8_t in[2] = {4, 5};
    assert_int_equal(rn_iq_add(&s.queues[0], 499, in), RN_IQ_DUPLICATE);
    assert_int_equal(rn_iq_add(&s.queues[0], 500, &in[0]), RN_IQ_ADDED);
    assert_int_equal(rn_iq_add(&s.queues[1], 500, &in[1]), RN_IQ_ADDED);
    mini_game g = {0, 0};
    rn_sync_plan plan = {.advance = true};
    int n = rn_sync_build(&s, &plan);
    assert_int_equal(n, 3);
    assert_int_equal(s.reqs[0].type, ROLLNET_REQUEST_LOAD);
    assert_int_equal(s.reqs[0].frame, 500);
    assert_int_equal(s.reqs[1].type, ROLLNET_REQUEST_ADVANCE);
    assert_int_equal(s.reqs[1].frame, 500);
    execute(&s, &g, n);
    assert_int_equal(g.frame, 501);
    assert_int_equal(g.sum, 42 * 31 + 4 * 7 + 5);
    rn_sync_free(&s);

    /* Bytes that are not whole msgpack values are refused. */
    setup(&s, 8);
    const uint8_t cut[] = {0xcd, 0x01};
    assert_int_equal(rn_sync_preload_at(&s, 5, cut, sizeof cut), ROLLNET_ERR_SNAPSHOT_INVALID);
    rn_sync_free(&s);
}

static void test_straight_frame_is_advance_then_save(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 3;
    step(&s, &g, &in, NULL);
    int n = step(&s, &g, &in, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(s.reqs[0].type, ROLLNET_REQUEST_ADVANCE);
    assert_int_equal(s.reqs[0].frame, 1);
    assert_int_equal(s.reqs[0].inputs[0], 3);
    assert_int_equal(s.reqs[1].type, ROLLNET_REQUEST_SAVE);
    assert_int_equal(s.reqs[1].frame, 2);
    rn_sync_free(&s);
}

/* A remote input arrives `depth` frames late and differs from the
 * prediction: the next list loads the first wrong frame and replays to now. */
static void check_late_input_at_depth(int depth)
{
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 1, remote = 0;
    /* Frames 0..9 with the remote confirmed through 9. */
    for (int f = 0; f < 10; f++) {
        rn_iq_add(&s.queues[1], f, &remote);
        step(&s, &g, &in, NULL);
    }
    /* `depth` frames run on a prediction (remote repeats 0). */
    for (int k = 0; k < depth; k++) {
        step(&s, &g, &in, NULL);
    }
    int32_t now = s.frame;
    int32_t late = now - depth;
    uint8_t changed = 9;
    rn_iq_add(&s.queues[1], late, &changed);
    assert_int_equal(rn_sync_first_incorrect(&s), late);
    assert_int_equal(rn_iq_add(&s.queues[0], now, &in), RN_IQ_ADDED);
    rn_sync_plan plan = {.advance = true};
    int n = rn_sync_build(&s, &plan);
    /* LOAD late, (ADVANCE g REPLAY, SAVE g+1 REPLAY) for g in late..now-1, ADVANCE now, SAVE now+1. */
    assert_int_equal(n, 1 + 2 * depth + 2);
    assert_int_equal(s.reqs[0].type, ROLLNET_REQUEST_LOAD);
    assert_int_equal(s.reqs[0].frame, late);
    for (int k = 0; k < depth; k++) {
        const rollnet_request *a = &s.reqs[1 + 2 * k];
        const rollnet_request *v = &s.reqs[2 + 2 * k];
        assert_int_equal(a->type, ROLLNET_REQUEST_ADVANCE);
        assert_int_equal(a->frame, late + k);
        assert_true(a->flags & ROLLNET_REQUEST_REPLAY);
        /* The corrected input, then the new prediction repeats it. */
        assert_int_equal(a->inputs[1], 9);
        assert_int_equal(v->type, ROLLNET_REQUEST_SAVE);
        assert_int_equal(v->frame, late + k + 1);
    }
    assert_int_equal(s.reqs[n - 2].type, ROLLNET_REQUEST_ADVANCE);
    assert_int_equal(s.reqs[n - 2].frame, now);
    assert_false(s.reqs[n - 2].flags & ROLLNET_REQUEST_REPLAY);
    assert_true(rn_sync_rollback_in_progress(&s));
    execute(&s, &g, n);
    assert_false(rn_sync_rollback_in_progress(&s));
    assert_int_equal(rn_sync_first_incorrect(&s), -1);
    assert_int_equal(s.rollbacks, 1);
    assert_int_equal(s.last_depth, depth);
    assert_int_equal(s.frames_resimulated, (uint64_t)depth);
    rn_sync_free(&s);
}

static void test_late_input_rollback_sequence_every_depth(void **state)
{
    (void)state;
    for (int depth = 1; depth <= 8; depth++) {
        check_late_input_at_depth(depth);
    }
}

static void test_correct_prediction_needs_no_rollback(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 1, remote = 4;
    rn_iq_add(&s.queues[1], 0, &remote);
    for (int f = 0; f < 5; f++) {
        step(&s, &g, &in, NULL);
    }
    for (int f = 1; f < 5; f++) {
        rn_iq_add(&s.queues[1], f, &remote);
    }
    assert_int_equal(rn_sync_first_incorrect(&s), -1);
    assert_int_equal(step(&s, &g, &in, NULL), 2);
    rn_sync_free(&s);
}

static void test_prediction_window_full_stalls(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 4);
    mini_game g = {0, 0};
    uint8_t in = 1;
    for (int f = 0; f < 4; f++) {
        assert_true(rn_sync_within_window(&s));
        step(&s, &g, &in, NULL);
    }
    /* Frames 0..3 ran on predictions of the remote: the window is full. */
    assert_false(rn_sync_within_window(&s));
    uint8_t remote = 0;
    rn_iq_add(&s.queues[1], 0, &remote);
    assert_true(rn_sync_within_window(&s));
    rn_sync_free(&s);
}

/* Every ADVANCE of a list is followed by the SAVE of the next frame, with the
 * same REPLAY flag: the header promises that an ADVANCE the game did not end
 * is ended by that SAVE's save_begin, so no list may end on an open ADVANCE
 * (advance would then refuse with REQUESTS_PENDING for good). */
static void assert_every_advance_is_closed_by_a_save(const rn_sync *s, int n)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *a = &s->reqs[i];
        if (a->type != ROLLNET_REQUEST_ADVANCE) {
            continue;
        }
        assert_true(i + 1 < n);
        const rollnet_request *v = &s->reqs[i + 1];
        assert_int_equal(v->type, ROLLNET_REQUEST_SAVE);
        assert_int_equal(v->frame, a->frame + 1);
        assert_int_equal(v->flags & ROLLNET_REQUEST_REPLAY, a->flags & ROLLNET_REQUEST_REPLAY);
    }
}

static void test_every_advance_is_followed_by_the_save_of_the_next_frame(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 1;
    int lists = 0;
    /* Every kind of list: the first one, straight frames, a forced rollback
     * of each depth (sync test), a validation, a late input's rollback with
     * and without a new frame, and both at once. */
    for (int f = 0; f < 64; f++) {
        rn_sync_plan plan = {.advance = (f % 11) != 5, .validate = (f % 7) == 3};
        if (f % 3 == 0) {
            plan.force_rollback = 1 + f % 8;
        }
        /* The remote's inputs arrive 0..3 frames late and change every 4
         * frames: predictions miss and frames are replayed. */
        int lag = f % 4;
        while (rn_iq_confirmed(&s.queues[1]) < s.frame - 1 - lag) {
            int32_t next = rn_iq_confirmed(&s.queues[1]) + 1;
            uint8_t remote = (uint8_t)(next / 4);
            assert_int_equal(rn_iq_add(&s.queues[1], next, &remote), RN_IQ_ADDED);
        }
        assert_true(rn_sync_within_window(&s));
        if (plan.advance) {
            assert_int_equal(rn_iq_add(&s.queues[0], s.frame, &in), RN_IQ_ADDED);
        }
        int n = rn_sync_build(&s, &plan);
        assert_every_advance_is_closed_by_a_save(&s, n);
        execute(&s, &g, n);
        lists++;
    }
    assert_true(s.rollbacks > 20);
    assert_int_equal(lists, 64);
    rn_sync_free(&s);
}

/* Invariant 3: snapshots re-saved during a replay hold exactly what a
 * straight run with the corrected inputs saves. */
static void test_replayed_snapshots_equal_a_straight_run(void **state)
{
    (void)state;
    const uint8_t remote_true[12] = {0, 0, 5, 5, 5, 2, 2, 7, 7, 7, 7, 1};
    uint8_t in = 1;
    /* Straight run: the remote's inputs are known in time. */
    rn_sync a;
    setup(&a, 8);
    mini_game ga = {0, 0};
    for (int f = 0; f < 12; f++) {
        rn_iq_add(&a.queues[1], f, &remote_true[f]);
        step(&a, &ga, &in, NULL);
    }
    /* Rolled-back run: the remote's inputs arrive in bursts, late. */
    rn_sync b;
    setup(&b, 8);
    mini_game gb = {0, 0};
    int delivered = 0;
    for (int f = 0; f < 12; f++) {
        if (f % 4 == 3) {
            while (delivered <= f - 1) {
                rn_iq_add(&b.queues[1], delivered, &remote_true[delivered]);
                delivered++;
            }
        }
        step(&b, &gb, &in, NULL);
    }
    while (delivered < 12) {
        rn_iq_add(&b.queues[1], delivered, &remote_true[delivered]);
        delivered++;
    }
    rn_sync_plan only_rollback = {.advance = false};
    execute(&b, &gb, rn_sync_build(&b, &only_rollback));
    assert_true(b.rollbacks > 0);
    for (int32_t f = 12 - 8; f <= 12; f++) {
        const rn_snapshot_slot *sa = rn_sync_find_snapshot(&a, f);
        const rn_snapshot_slot *sb = rn_sync_find_snapshot(&b, f);
        assert_non_null(sa);
        assert_non_null(sb);
        assert_int_equal(sa->size, sb->size);
        assert_memory_equal(sa->buf, sb->buf, sa->size);
        assert_true(rn_sync_checksum(&a, f, NULL) == rn_sync_checksum(&b, f, NULL));
    }
    rn_sync_free(&a);
    rn_sync_free(&b);
}

static void test_requests_out_of_order_are_refused(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    uint8_t in = 1;
    rn_iq_add(&s.queues[0], 0, &in);
    rn_sync_plan plan = {.advance = true};
    int n = rn_sync_build(&s, &plan);
    assert_int_equal(n, 3); /* SAVE 0, ADVANCE 0, SAVE 1 */
    /* The ADVANCE is not next; a LOAD is not the next type. */
    assert_int_equal(rn_sync_advance_done(&s, &s.reqs[1]), ROLLNET_ERR_WRONG_REQUEST);
    assert_null(rn_sync_load_begin(&s, &s.reqs[0]));
    rollnet_request copy = s.reqs[0];
    copy.frame++;
    assert_null(rn_sync_save_begin(&s, &copy)); /* another frame: not the next request */
    copy = s.reqs[0];
    rollnet_writer *w = rn_sync_save_begin(&s, &copy); /* a copy of it is */
    assert_non_null(w);
    rollnet_write_int(w, 1);
    assert_int_equal(rn_sync_save_end(&s, &s.reqs[0]), ROLLNET_ERR_OK);
    /* A SAVE right after an ADVANCE ends the ADVANCE implicitly. */
    w = rn_sync_save_begin(&s, &s.reqs[2]);
    assert_non_null(w);
    rollnet_write_int(w, 2);
    assert_int_equal(rn_sync_save_end(&s, &s.reqs[2]), ROLLNET_ERR_OK);
    assert_false(rn_sync_requests_pending(&s));
    rn_sync_free(&s);
}

static void test_overflowing_snapshot_is_reported(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    uint8_t in = 1;
    rn_iq_add(&s.queues[0], 0, &in);
    rn_sync_plan plan = {.advance = true};
    rn_sync_build(&s, &plan);
    rollnet_writer *w = rn_sync_save_begin(&s, &s.reqs[0]);
    uint8_t big[300] = {0};
    rollnet_write_bin(w, big, sizeof(big));
    assert_int_equal(rn_sync_save_end(&s, &s.reqs[0]), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    rn_sync_free(&s);
}

/* A save whose container header announces more values than follow (a game
 * bug) is refused at save_end and never enters a slot: LOAD reads slots
 * without the bounds walk, and msgpack-c would reserve zone space for every
 * announced element (1.6 GB for 10^8, 100 GB for 2^32-1) with malloc. */
static void test_a_snapshot_with_a_lying_header_is_refused_and_not_stored(void **state)
{
    (void)state;
    rn_sync s;
    setup(&s, 8);
    mini_game g = {0, 0};
    uint8_t in = 1;
    step(&s, &g, &in, NULL); /* frames 0 and 1 saved honestly */
    void *zone_head = s.zone.chunk_list.head;
    for (int lie = 0; lie < 3; lie++) {
        rn_iq_add(&s.queues[0], s.frame, &in);
        rn_sync_plan plan = {.advance = true};
        assert_int_equal(rn_sync_build(&s, &plan), 2); /* ADVANCE f, SAVE f+1 */
        assert_int_equal(rn_sync_advance_done(&s, &s.reqs[0]), ROLLNET_ERR_OK);
        rollnet_writer *w = rn_sync_save_begin(&s, &s.reqs[1]);
        assert_non_null(w);
        if (lie == 0) {
            rollnet_write_array(w, 100000000u);
        } else if (lie == 1) {
            rollnet_write_map(w, UINT32_MAX);
        } else {
            rollnet_write_array(w, 2); /* the lie one level down */
            rollnet_write_int(w, 1);
            rollnet_write_array(w, 1000);
        }
        rollnet_write_int(w, g.frame);
        assert_int_equal(rn_sync_save_end(&s, &s.reqs[1]), ROLLNET_ERR_SNAPSHOT_INVALID);
        assert_null(rn_sync_find_snapshot(&s, s.reqs[1].frame));
        assert_false(rn_sync_requests_pending(&s));
        g.frame++;
    }
    /* Earlier snapshots are untouched and still load, within the zone. */
    const rn_snapshot_slot *one = rn_sync_find_snapshot(&s, 1);
    assert_non_null(one);
    rn_reader_init_trusted(&s.reader, &s.zone, one->buf, one->size);
    int64_t frame, sum;
    assert_true(rollnet_read_int(&s.reader, &frame));
    assert_true(rollnet_read_int(&s.reader, &sum));
    assert_true(rn_reader_done(&s.reader));
    assert_int_equal(frame, 1);
    assert_ptr_equal(s.zone.chunk_list.head, zone_head);
    rn_sync_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_list_saves_frame_zero_then_runs_it),
        cmocka_unit_test(test_a_state_preloaded_at_a_frame_is_loaded_first_and_run_from),
        cmocka_unit_test(test_straight_frame_is_advance_then_save),
        cmocka_unit_test(test_late_input_rollback_sequence_every_depth),
        cmocka_unit_test(test_correct_prediction_needs_no_rollback),
        cmocka_unit_test(test_prediction_window_full_stalls),
        cmocka_unit_test(test_every_advance_is_followed_by_the_save_of_the_next_frame),
        cmocka_unit_test(test_replayed_snapshots_equal_a_straight_run),
        cmocka_unit_test(test_requests_out_of_order_are_refused),
        cmocka_unit_test(test_overflowing_snapshot_is_reported),
        cmocka_unit_test(test_a_snapshot_with_a_lying_header_is_refused_and_not_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
