/* The ledger: one test per promotion path and rule (ARCHITECTURE invariants 1
 * and 2). Records are written through the real writer, as the game would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counting_alloc.h"
#include <msgpack.h>

#include "ledger.h"

#define NUM_PLAYERS 2
#define INPUT_SIZE 1
#define TAG_PREDICTED 1
#define TAG_CORRECTED 2


static rn_promote_guard clear_guard(int32_t confirmed_frame)
{
    rn_promote_guard g = {.confirmed_frame = confirmed_frame, .limit_frame = -1};
    return g;
}

/* The inputs a frame ran with identify the frame and the run that produced it. */
static void frame_inputs(int32_t frame, int64_t tag, uint8_t out[NUM_PLAYERS * INPUT_SIZE])
{
    out[0] = (uint8_t)frame;
    out[1] = (uint8_t)tag;
}

/* Simulate `frame`: the game writes [frame, tag] as its record. */
static rollnet_error record(rn_ledger *l, int32_t frame, int64_t tag, uint32_t flags)
{
    rollnet_writer *w = rn_ledger_record_begin(l, frame);
    if (w) {
        rollnet_write_array(w, 2);
        rollnet_write_int(w, frame);
        rollnet_write_int(w, tag);
    }
    uint8_t in[NUM_PLAYERS * INPUT_SIZE];
    frame_inputs(frame, tag, in);
    return rn_ledger_step_end(l, frame, in, flags, 0);
}

static void record_range(rn_ledger *l, int32_t first, int32_t last, int64_t tag)
{
    for (int32_t f = first; f <= last; f++) {
        assert_int_equal(record(l, f, tag, 0), ROLLNET_ERR_OK);
    }
}

/* Decode a record written by record() and check it belongs to `frame`; returns its tag. */
static int64_t record_tag(const rollnet_record *r)
{
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, 256));
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal(msgpack_unpack((const char *)r->data, r->size, &off, &zone, &obj),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, r->size);
    assert_int_equal(obj.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(obj.via.array.size, 2);
    assert_int_equal(obj.via.array.ptr[0].via.u64, (uint64_t)r->frame);
    int64_t tag = (int64_t)obj.via.array.ptr[1].via.u64;
    msgpack_zone_destroy(&zone);
    assert_int_equal(r->inputs[0], (uint8_t)r->frame);
    assert_int_equal(r->inputs[1], (uint8_t)tag);
    return tag;
}

static void init_ledger(rn_ledger *l, int spec_capacity, int conf_capacity)
{
    assert_int_equal(rn_ledger_init(l, NULL, NUM_PLAYERS, INPUT_SIZE, 64, spec_capacity,
                                     conf_capacity),
                     ROLLNET_ERR_OK);
}

static void promote_refuses_while_rollback_pending(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 4, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(4);
    g.rollback_pending = true;
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    rollnet_record r;
    assert_false(rn_ledger_next(&l, &r));
    assert_int_equal(l.promoted, 0);
    rn_ledger_free(&l);
}

static void promote_refuses_while_rollback_in_progress(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 4, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(4);
    g.rollback_in_progress = true;
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    rollnet_record r;
    assert_false(rn_ledger_next(&l, &r));
    rn_ledger_free(&l);
}

static void promote_moves_only_confirmed_frames(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 9, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(-1);
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    g = clear_guard(3);
    assert_int_equal(rn_ledger_promote(&l, &g), 4);
    rollnet_record r;
    for (int32_t f = 0; f <= 3; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
    }
    assert_false(rn_ledger_next(&l, &r));
    rn_ledger_free(&l);
}

static void promotion_stops_at_first_missing_frame(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 2, TAG_PREDICTED);
    record_range(&l, 4, 6, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(6);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    assert_int_equal(l.next_promote, 3);
    record_range(&l, 3, 3, TAG_PREDICTED);
    assert_int_equal(rn_ledger_promote(&l, &g), 4);
    rn_ledger_free(&l);
}

static void records_come_out_in_frame_order_exactly_once(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 5, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(2);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    assert_int_equal(rn_ledger_promote(&l, &g), 0); /* same guard again: nothing twice */
    g = clear_guard(5);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    rollnet_record r;
    for (int32_t f = 0; f <= 5; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(record_tag(&r), TAG_PREDICTED);
    }
    assert_false(rn_ledger_next(&l, &r));
    assert_int_equal(l.promoted, 6);
    rn_ledger_free(&l);
}

static void discard_then_rerecord_promotes_replayed_record(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 5, TAG_PREDICTED);
    rn_ledger_discard_from(&l, 3);
    rn_promote_guard g = clear_guard(5);
    /* Discarded frames are missing until the replay writes them again. */
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    record_range(&l, 3, 5, TAG_CORRECTED);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    rollnet_record r;
    for (int32_t f = 0; f <= 5; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(record_tag(&r), f < 3 ? TAG_PREDICTED : TAG_CORRECTED);
    }
    rn_ledger_free(&l);
}

static void rerecord_without_discard_replaces_speculative_record(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 3, TAG_PREDICTED);
    record_range(&l, 2, 3, TAG_CORRECTED);
    rn_promote_guard g = clear_guard(3);
    assert_int_equal(rn_ledger_promote(&l, &g), 4);
    rollnet_record r;
    for (int32_t f = 0; f <= 3; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(record_tag(&r), f < 2 ? TAG_PREDICTED : TAG_CORRECTED);
    }
    rn_ledger_free(&l);
}

static void limit_frame_stops_promotion_at_episode_end(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    for (int32_t f = 0; f <= 9; f++) {
        assert_int_equal(record(&l, f, TAG_PREDICTED, f == 4 ? ROLLNET_STEP_EPISODE_END : 0),
                         ROLLNET_ERR_OK);
    }
    assert_int_equal(rn_ledger_pending_episode_end(&l), 4);
    rn_promote_guard g = clear_guard(9);
    g.limit_frame = rn_ledger_pending_episode_end(&l);
    assert_int_equal(rn_ledger_promote(&l, &g), 5);
    assert_int_equal(l.next_promote, 5);
    assert_int_equal(rn_ledger_pending_episode_end(&l), -1);
    rollnet_record r;
    for (int32_t f = 0; f <= 4; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.episode, 0);
        assert_int_equal(r.episode_end, f == 4);
    }
    assert_false(rn_ledger_next(&l, &r));
    g.limit_frame = -1;
    assert_int_equal(rn_ledger_promote(&l, &g), 5);
    assert_true(rn_ledger_next(&l, &r));
    assert_int_equal(r.frame, 5);
    assert_int_equal(r.episode, 1);
    assert_int_equal(r.step, 0);
    rn_ledger_free(&l);
}

static void pending_episode_end_is_the_first_flagged_unpromoted_frame(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    assert_int_equal(rn_ledger_pending_episode_end(&l), -1);
    for (int32_t f = 0; f <= 11; f++) {
        uint32_t flags = (f == 2 || f == 6 || f == 9) ? ROLLNET_STEP_EPISODE_END : 0;
        assert_int_equal(record(&l, f, TAG_PREDICTED, flags), ROLLNET_ERR_OK);
    }
    assert_int_equal(rn_ledger_pending_episode_end(&l), 2);
    rn_promote_guard g = clear_guard(2);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    assert_int_equal(rn_ledger_pending_episode_end(&l), 6);
    /* A rollback may find the episode did not end there after all. */
    rn_ledger_discard_from(&l, 5);
    assert_int_equal(rn_ledger_pending_episode_end(&l), -1);
    record_range(&l, 5, 7, TAG_CORRECTED);
    assert_int_equal(rn_ledger_pending_episode_end(&l), -1);
    assert_int_equal(record(&l, 8, TAG_CORRECTED, ROLLNET_STEP_EPISODE_END), ROLLNET_ERR_OK);
    assert_int_equal(rn_ledger_pending_episode_end(&l), 8);
    rn_ledger_free(&l);
}

static void episode_and_step_derive_from_promoted_frames(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 8, 64);
    /* Episodes end at frames 3, 4 (a one-frame episode) and 9. */
    const uint32_t end_at[] = {3, 4, 9};
    const int32_t want_episode[] = {0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3};
    const int32_t want_step[] = {0, 1, 2, 3, 0, 0, 1, 2, 3, 4, 0, 1, 2, 3};
    int32_t frame = 0;
    rn_promote_guard g = clear_guard(-1);
    while (frame < 14) {
        /* Run ahead by three frames, then roll back two of them and replay,
         * as a session does after a late input. */
        for (int32_t f = frame; f < frame + 3 && f < 14; f++) {
            uint32_t flags = 0;
            for (size_t i = 0; i < sizeof(end_at) / sizeof(end_at[0]); i++) {
                if ((int32_t)end_at[i] == f) {
                    flags = ROLLNET_STEP_EPISODE_END;
                }
            }
            assert_int_equal(record(&l, f, TAG_PREDICTED, flags), ROLLNET_ERR_OK);
        }
        int32_t replay_from = frame + 1;
        rn_ledger_discard_from(&l, replay_from);
        for (int32_t f = replay_from; f < frame + 3 && f < 14; f++) {
            uint32_t flags = 0;
            for (size_t i = 0; i < sizeof(end_at) / sizeof(end_at[0]); i++) {
                if ((int32_t)end_at[i] == f) {
                    flags = ROLLNET_STEP_EPISODE_END;
                }
            }
            assert_int_equal(record(&l, f, TAG_CORRECTED, flags), ROLLNET_ERR_OK);
        }
        frame = frame + 3 < 14 ? frame + 3 : 14;
        g.confirmed_frame = frame - 1;
        rn_ledger_promote(&l, &g);
    }
    rollnet_record r;
    for (int32_t f = 0; f < 14; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.episode, want_episode[f]);
        assert_int_equal(r.step, want_step[f]);
    }
    assert_false(rn_ledger_next(&l, &r));
    rn_ledger_free(&l);
}

static void confirmed_ring_full_pauses_promotion_until_next(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 3);
    record_range(&l, 0, 7, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(7);
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    rollnet_record r;
    assert_true(rn_ledger_next(&l, &r));
    assert_int_equal(r.frame, 0);
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    for (int32_t f = 1; f <= 3; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
    }
    assert_int_equal(rn_ledger_promote(&l, &g), 3);
    for (int32_t f = 4; f <= 6; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(record_tag(&r), TAG_PREDICTED);
    }
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    assert_true(rn_ledger_next(&l, &r));
    assert_int_equal(r.frame, 7);
    rn_ledger_free(&l);
}

static void next_record_stays_valid_while_its_slot_is_refilled(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 8, 1);
    record_range(&l, 0, 1, TAG_PREDICTED);
    assert_int_equal(record(&l, 1, TAG_CORRECTED, 0), ROLLNET_ERR_OK);
    rn_promote_guard g = clear_guard(1);
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    rollnet_record r;
    assert_true(rn_ledger_next(&l, &r));
    /* Frame 1 now fills the one confirmed slot frame 0 came from. */
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    assert_int_equal(r.frame, 0);
    assert_int_equal(record_tag(&r), TAG_PREDICTED);
    rn_ledger_free(&l);
}

static void can_store_is_false_when_the_ring_would_overwrite(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 4, 16);
    record_range(&l, 0, 3, TAG_PREDICTED);
    assert_false(rn_ledger_can_store(&l, 4)); /* slot of frame 0, not promoted */
    assert_null(rn_ledger_record_begin(&l, 4));
    uint8_t in[NUM_PLAYERS * INPUT_SIZE] = {4, 0};
    assert_int_equal(rn_ledger_step_end(&l, 4, in, 0, 0), ROLLNET_ERR_LEDGER_FULL);
    /* Re-recording a frame the ring already holds is always possible. */
    assert_true(rn_ledger_can_store(&l, 2));
    rn_promote_guard g = clear_guard(0);
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    assert_true(rn_ledger_can_store(&l, 4));
    assert_false(rn_ledger_can_store(&l, 5));
    assert_int_equal(record(&l, 4, TAG_PREDICTED, 0), ROLLNET_ERR_OK);
    /* Frame 0's confirmed record was not disturbed by reusing its slot. */
    g = clear_guard(4);
    assert_int_equal(rn_ledger_promote(&l, &g), 4);
    rollnet_record r;
    for (int32_t f = 0; f <= 4; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(record_tag(&r), TAG_PREDICTED);
    }
    rn_ledger_free(&l);
}

static void promoted_frame_cannot_be_recorded_again(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 4, 16);
    record_range(&l, 0, 2, TAG_PREDICTED);
    rn_promote_guard g = clear_guard(1);
    assert_int_equal(rn_ledger_promote(&l, &g), 2);
    assert_false(rn_ledger_can_store(&l, 1));
    assert_null(rn_ledger_record_begin(&l, 1));
    uint8_t in[NUM_PLAYERS * INPUT_SIZE] = {1, 0};
    assert_int_equal(rn_ledger_step_end(&l, 1, in, 0, 0), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_false(rn_ledger_can_store(&l, -1));
    rn_ledger_free(&l);
}

static void overflowing_record_reports_snapshot_overflow(void **state)
{
    (void)state;
    rn_ledger l;
    assert_int_equal(rn_ledger_init(&l, NULL, NUM_PLAYERS, INPUT_SIZE, 16, 8, 8),
                     ROLLNET_ERR_OK);
    uint8_t blob[64] = {0};
    rollnet_writer *w = rn_ledger_record_begin(&l, 0);
    assert_non_null(w);
    rollnet_write_bin(w, blob, sizeof(blob));
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    uint8_t in[NUM_PLAYERS * INPUT_SIZE] = {7, 9};
    assert_int_equal(rn_ledger_step_end(&l, 0, in, ROLLNET_STEP_EPISODE_END, 0),
                     ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    /* The frame still counts (inputs, episode end) with an empty record. */
    rn_promote_guard g = clear_guard(0);
    assert_int_equal(rn_ledger_promote(&l, &g), 1);
    rollnet_record r;
    assert_true(rn_ledger_next(&l, &r));
    assert_int_equal(r.size, 0);
    assert_true(r.episode_end);
    assert_memory_equal(r.inputs, in, sizeof(in));
    rn_ledger_free(&l);
}

static void step_end_without_record_begin_stores_empty_record(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 8, 8);
    uint8_t in[NUM_PLAYERS * INPUT_SIZE] = {0x5a, 0xa5};
    assert_int_equal(rn_ledger_step_end(&l, 0, in, 0, 0), ROLLNET_ERR_OK);
    /* A record begun for another frame is not attached to this one. */
    assert_non_null(rn_ledger_record_begin(&l, 5));
    assert_int_equal(rn_ledger_step_end(&l, 1, in, 0, 0), ROLLNET_ERR_OK);
    rn_promote_guard g = clear_guard(1);
    assert_int_equal(rn_ledger_promote(&l, &g), 2);
    rollnet_record r;
    for (int32_t f = 0; f <= 1; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.size, 0);
        assert_memory_equal(r.inputs, in, sizeof(in));
    }
    rn_ledger_free(&l);
}

/* The bug the ledger exists to prevent: a late input shows frame 7 was
 * predicted wrong while frames up to 9 are already confirmed. */
static void late_input_promotes_corrected_records_only(void **state)
{
    (void)state;
    rn_ledger l;
    init_ledger(&l, 16, 16);
    record_range(&l, 0, 9, TAG_PREDICTED);

    rn_promote_guard g = clear_guard(9);
    g.rollback_pending = true;
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    rollnet_record r;
    assert_false(rn_ledger_next(&l, &r));

    g.rollback_pending = false;
    g.rollback_in_progress = true;
    rn_ledger_discard_from(&l, 7);
    assert_int_equal(rn_ledger_promote(&l, &g), 0);
    record_range(&l, 7, 9, TAG_CORRECTED);
    g.rollback_in_progress = false;
    assert_int_equal(rn_ledger_promote(&l, &g), 10);

    for (int32_t f = 0; f <= 9; f++) {
        assert_true(rn_ledger_next(&l, &r));
        assert_int_equal(r.frame, f);
        assert_int_equal(r.step, f);
        assert_int_equal(record_tag(&r), f < 7 ? TAG_PREDICTED : TAG_CORRECTED);
    }
    assert_false(rn_ledger_next(&l, &r));
    rn_ledger_free(&l);
}

static void no_allocation_after_init_and_everything_freed(void **state)
{
    (void)state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    rn_ledger l;
    assert_int_equal(rn_ledger_init(&l, &a, NUM_PLAYERS, INPUT_SIZE, 64, 8, 4), ROLLNET_ERR_OK);
    int after_init = counts.allocs;
    assert_true(after_init > 0);
    rn_promote_guard g = clear_guard(-1);
    rollnet_record r;
    for (int32_t f = 0; f < 40; f++) {
        assert_int_equal(record(&l, f, TAG_PREDICTED, f % 7 == 6 ? ROLLNET_STEP_EPISODE_END : 0),
                         ROLLNET_ERR_OK);
        rn_ledger_discard_from(&l, f);
        assert_int_equal(record(&l, f, TAG_CORRECTED, f % 7 == 6 ? ROLLNET_STEP_EPISODE_END : 0),
                         ROLLNET_ERR_OK);
        g.confirmed_frame = f;
        assert_int_equal(rn_ledger_promote(&l, &g), 1);
        (void)rn_ledger_pending_episode_end(&l);
        assert_true(rn_ledger_next(&l, &r));
    }
    assert_int_equal(counts.allocs, after_init);
    rn_ledger_free(&l);
    assert_int_equal(counts.frees, counts.allocs);
}

static void init_rejects_bad_arguments(void **state)
{
    (void)state;
    rn_ledger l;
    assert_int_equal(rn_ledger_init(&l, NULL, 0, 1, 64, 8, 8), ROLLNET_ERR_INVALID_ARGUMENT);
    rn_ledger_free(&l);
    assert_int_equal(rn_ledger_init(&l, NULL, 2, 0, 64, 8, 8), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rn_ledger_init(&l, NULL, 2, 1, 64, 0, 8), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rn_ledger_init(&l, NULL, 2, 1, 64, 8, 0), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rn_ledger_init(&l, NULL, 2, 1, SIZE_MAX / 2, 8, 8),
                     ROLLNET_ERR_OUT_OF_MEMORY);
    rn_ledger_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(promote_refuses_while_rollback_pending),
        cmocka_unit_test(promote_refuses_while_rollback_in_progress),
        cmocka_unit_test(promote_moves_only_confirmed_frames),
        cmocka_unit_test(promotion_stops_at_first_missing_frame),
        cmocka_unit_test(records_come_out_in_frame_order_exactly_once),
        cmocka_unit_test(discard_then_rerecord_promotes_replayed_record),
        cmocka_unit_test(rerecord_without_discard_replaces_speculative_record),
        cmocka_unit_test(limit_frame_stops_promotion_at_episode_end),
        cmocka_unit_test(pending_episode_end_is_the_first_flagged_unpromoted_frame),
        cmocka_unit_test(episode_and_step_derive_from_promoted_frames),
        cmocka_unit_test(confirmed_ring_full_pauses_promotion_until_next),
        cmocka_unit_test(next_record_stays_valid_while_its_slot_is_refilled),
        cmocka_unit_test(can_store_is_false_when_the_ring_would_overwrite),
        cmocka_unit_test(promoted_frame_cannot_be_recorded_again),
        cmocka_unit_test(overflowing_record_reports_snapshot_overflow),
        cmocka_unit_test(step_end_without_record_begin_stores_empty_record),
        cmocka_unit_test(late_input_promotes_corrected_records_only),
        cmocka_unit_test(no_allocation_after_init_and_everything_freed),
        cmocka_unit_test(init_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
