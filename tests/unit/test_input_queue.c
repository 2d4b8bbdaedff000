#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "input_queue.h"

#define CAP 64

static uint8_t mem[CAP * 4];

static void init_q(rn_input_queue *q, rollnet_prediction mode, int size, const uint8_t *neutral)
{
    rn_iq_init(q, mem, CAP, size, mode, neutral);
}

static void test_missing_input_repeats_last_confirmed(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t in = 7, out = 0;
    assert_int_equal(rn_iq_add(&q, 0, &in), RN_IQ_ADDED);
    assert_true(rn_iq_get(&q, 0, &out));
    assert_int_equal(out, 7);
    assert_false(rn_iq_get(&q, 1, &out));
    assert_int_equal(out, 7);
    assert_false(rn_iq_get(&q, 5, &out));
    assert_int_equal(out, 7);
}

static void test_neutral_mode_predicts_neutral_input(void **state)
{
    (void)state;
    rn_input_queue q;
    uint8_t neutral[2] = {0xaa, 0xbb};
    init_q(&q, ROLLNET_PREDICT_NEUTRAL, 2, neutral);
    uint8_t in[2] = {1, 2}, out[2];
    rn_iq_add(&q, 0, in);
    assert_false(rn_iq_get(&q, 1, out));
    assert_memory_equal(out, neutral, 2);
}

static void test_prediction_before_any_input_is_neutral(void **state)
{
    (void)state;
    rn_input_queue q;
    uint8_t neutral[1] = {3};
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, neutral);
    uint8_t out = 0;
    assert_false(rn_iq_get(&q, 0, &out));
    assert_int_equal(out, 3);
}

static void test_correct_prediction_marks_nothing(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t in = 4, out;
    rn_iq_add(&q, 0, &in);
    for (int f = 1; f <= 5; f++) {
        rn_iq_get(&q, f, &out);
    }
    for (int f = 1; f <= 5; f++) {
        assert_int_equal(rn_iq_add(&q, f, &in), RN_IQ_ADDED);
    }
    assert_int_equal(q.first_incorrect, -1);
    assert_int_equal(q.last_confirmed, 5);
}

static void test_wrong_prediction_marks_first_wrong_frame(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t a = 1, b = 2, out;
    rn_iq_add(&q, 0, &a);
    for (int f = 1; f <= 6; f++) {
        rn_iq_get(&q, f, &out);
    }
    rn_iq_add(&q, 1, &a);
    rn_iq_add(&q, 2, &a);
    assert_int_equal(q.first_incorrect, -1);
    rn_iq_add(&q, 3, &b); /* predicted 1, was 2 */
    assert_int_equal(q.first_incorrect, 3);
    rn_iq_add(&q, 4, &a); /* predicted 1, still wrong relative to nothing earlier */
    assert_int_equal(q.first_incorrect, 3);
    rn_iq_clear_incorrect(&q);
    assert_int_equal(q.first_incorrect, -1);
}

static void test_input_for_unsimulated_frame_is_not_a_misprediction(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t a = 1, b = 9;
    rn_iq_add(&q, 0, &a);
    rn_iq_add(&q, 1, &b); /* frame 1 was never handed out */
    assert_int_equal(q.first_incorrect, -1);
}

static void test_gap_duplicate_and_full_are_refused(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t a = 1;
    assert_int_equal(rn_iq_add(&q, 1, &a), RN_IQ_GAP);
    assert_int_equal(rn_iq_add(&q, 0, &a), RN_IQ_ADDED);
    assert_int_equal(rn_iq_add(&q, 0, &a), RN_IQ_DUPLICATE);
    for (int f = 1; f < CAP; f++) {
        assert_int_equal(rn_iq_add(&q, f, &a), RN_IQ_ADDED);
    }
    assert_int_equal(rn_iq_add(&q, CAP, &a), RN_IQ_FULL);
    rn_iq_discard_before(&q, 10);
    assert_int_equal(rn_iq_add(&q, CAP, &a), RN_IQ_ADDED);
    assert_null(rn_iq_peek(&q, 9));
    assert_non_null(rn_iq_peek(&q, 10));
}

static void test_prefill_confirms_the_delay_frames_with_neutral(void **state)
{
    (void)state;
    rn_input_queue q;
    uint8_t neutral = 5;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, &neutral);
    rn_iq_prefill(&q, 3);
    assert_int_equal(q.last_confirmed, 2);
    uint8_t out = 0;
    assert_true(rn_iq_get(&q, 2, &out));
    assert_int_equal(out, 5);
    uint8_t a = 1;
    assert_int_equal(rn_iq_add(&q, 3, &a), RN_IQ_ADDED);
}

static void test_disconnect_confirms_neutral_and_flags_wrong_predictions(void **state)
{
    (void)state;
    rn_input_queue q;
    init_q(&q, ROLLNET_PREDICT_REPEAT_LAST, 1, NULL);
    uint8_t a = 6, out;
    rn_iq_add(&q, 0, &a);
    rn_iq_get(&q, 1, &out);
    rn_iq_get(&q, 2, &out);
    rn_iq_disconnect(&q, 1);
    assert_int_equal(q.first_incorrect, 1);
    assert_true(rn_iq_get(&q, 2, &out));
    assert_int_equal(out, 0);
    assert_int_equal(rn_iq_confirmed(&q), RN_IQ_CONFIRMED_FOREVER);
    assert_int_equal(rn_iq_add(&q, 1, &a), RN_IQ_DUPLICATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_input_repeats_last_confirmed),
        cmocka_unit_test(test_neutral_mode_predicts_neutral_input),
        cmocka_unit_test(test_prediction_before_any_input_is_neutral),
        cmocka_unit_test(test_correct_prediction_marks_nothing),
        cmocka_unit_test(test_wrong_prediction_marks_first_wrong_frame),
        cmocka_unit_test(test_input_for_unsimulated_frame_is_not_a_misprediction),
        cmocka_unit_test(test_gap_duplicate_and_full_are_refused),
        cmocka_unit_test(test_prefill_confirms_the_delay_frames_with_neutral),
        cmocka_unit_test(test_disconnect_confirms_neutral_and_flags_wrong_predictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
