/* The state transfer (core/state_transfer.c) and the spectator's messages
 * (core/protocol_spectate.c): round trips over the wire encoding, and every
 * corrupt, oversize or inconsistent transfer refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state_transfer.h"

#define STATE_BYTES 5000u

static rn_decoder dec;

static int setup(void **state)
{
    (void)state;
    return rn_decoder_init(&dec, NULL) == ROLLNET_ERR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rn_decoder_free(&dec);
    return 0;
}

/* A snapshot of whole msgpack values: one bin of STATE_BYTES - 5 bytes. */
static void make_state(uint8_t *buf)
{
    uint32_t n = STATE_BYTES - 5;
    buf[0] = 0xc6;
    buf[1] = (uint8_t)(n >> 24);
    buf[2] = (uint8_t)(n >> 16);
    buf[3] = (uint8_t)(n >> 8);
    buf[4] = (uint8_t)n;
    for (uint32_t i = 5; i < STATE_BYTES; i++) {
        buf[i] = (uint8_t)(i * 31u + 7u);
    }
}

/* Encode and decode, as the wire does. */
static rn_msg wire(const rn_msg *m, int block_size)
{
    uint8_t out[RN_MAX_MESSAGE];
    size_t n = rn_encode(m, block_size, out, sizeof out);
    assert_true(n > 0);
    rn_msg back;
    assert_int_equal(rn_decode(&dec, out, n, block_size, &back), RN_DECODE_OK);
    assert_int_equal(back.type, m->type);
    return back;
}

static const rn_state_info INFO = {.frame = 300, .episode = 2, .episode_start = 240};

/* Send a whole transfer of `data` into `in`; `corrupt` flips a byte of the
 * given chunk on the way (-1: none). Returns the last result. */
static rn_state_result transfer(rn_state_in *in, const uint8_t *data, size_t size, int corrupt,
                                const char **why)
{
    rn_state_out o;
    rn_msg head;
    assert_true(rn_state_out_begin(&o, 7, &INFO, data, size, &head));
    rn_msg h = wire(&head, 1);
    rn_state_result r = rn_state_in_feed(in, &h, why);
    for (uint32_t i = 0; r == RN_STATE_MORE && i < rn_state_out_chunks(&o); i++) {
        rn_msg c;
        rn_state_out_chunk(&o, i, &c);
        uint8_t copy[RN_STATE_CHUNK_BYTES];
        if ((int)i == corrupt) {
            memcpy(copy, c.u.state_chunk.data, c.u.state_chunk.size);
            copy[3] ^= 0x40;
            c.u.state_chunk.data = copy;
        }
        rn_msg back = wire(&c, 1);
        r = rn_state_in_feed(in, &back, why);
    }
    return r;
}

static void a_transfer_arrives_whole_with_its_session_state(void **state)
{
    (void)state;
    static uint8_t data[STATE_BYTES];
    make_state(data);
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    const char *why = NULL;
    assert_int_equal(transfer(&in, data, STATE_BYTES, -1, &why), RN_STATE_DONE);
    size_t size = 0;
    const uint8_t *got = rn_state_in_data(&in, &size);
    assert_int_equal(size, STATE_BYTES);
    assert_memory_equal(got, data, STATE_BYTES);
    assert_int_equal(in.info.frame, 300);
    assert_int_equal(in.info.episode, 2);
    assert_int_equal(in.info.episode_start, 240);
    rn_state_in_free(&in);
}

static void a_corrupt_chunk_fails_the_checksum(void **state)
{
    (void)state;
    static uint8_t data[STATE_BYTES];
    make_state(data);
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    const char *why = NULL;
    assert_int_equal(transfer(&in, data, STATE_BYTES, 2, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "checksum"));
    rn_state_in_free(&in);
}

static void an_oversize_transfer_is_refused_at_its_head(void **state)
{
    (void)state;
    static uint8_t data[STATE_BYTES];
    make_state(data);
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, STATE_BYTES - 1), ROLLNET_ERR_OK);
    const char *why = NULL;
    assert_int_equal(transfer(&in, data, STATE_BYTES, -1, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "oversize"));
    rn_state_in_free(&in);
}

static void bytes_that_are_not_msgpack_are_refused_even_with_a_good_checksum(void **state)
{
    (void)state;
    static uint8_t data[STATE_BYTES];
    make_state(data);
    data[4] = 0xff; /* the bin announces more bytes than follow */
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    const char *why = NULL;
    assert_int_equal(transfer(&in, data, STATE_BYTES, -1, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "msgpack"));
    rn_state_in_free(&in);
}

static void chunks_out_of_order_before_the_head_or_past_the_end_are_refused(void **state)
{
    (void)state;
    static uint8_t data[STATE_BYTES];
    make_state(data);
    rn_state_out o;
    rn_msg head, c0, c1, c4;
    assert_true(rn_state_out_begin(&o, 7, &INFO, data, STATE_BYTES, &head));
    assert_int_equal(rn_state_out_chunks(&o), 5);
    rn_state_out_chunk(&o, 0, &c0);
    rn_state_out_chunk(&o, 1, &c1);
    rn_state_out_chunk(&o, 4, &c4);
    assert_int_equal(c4.u.state_chunk.size, STATE_BYTES - 4 * RN_STATE_CHUNK_BYTES);
    const char *why = NULL;
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);

    assert_int_equal(rn_state_in_feed(&in, &c0, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "before the head"));
    /* Once refused, nothing more is taken. */
    assert_int_equal(rn_state_in_feed(&in, &head, &why), RN_STATE_REFUSED);
    rn_state_in_free(&in);

    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    assert_int_equal(rn_state_in_feed(&in, &head, &why), RN_STATE_MORE);
    assert_int_equal(rn_state_in_feed(&in, &c1, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "out of order"));
    rn_state_in_free(&in);

    /* A head announcing fewer bytes than the chunks carry. */
    rn_msg small = head;
    small.u.state_head.size = 100;
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    assert_int_equal(rn_state_in_feed(&in, &small, &why), RN_STATE_MORE);
    assert_int_equal(rn_state_in_feed(&in, &c0, &why), RN_STATE_REFUSED);
    assert_non_null(strstr(why, "more bytes"));
    rn_state_in_free(&in);

    /* A second head. */
    assert_int_equal(rn_state_in_init(&in, NULL, 8192), ROLLNET_ERR_OK);
    assert_int_equal(rn_state_in_feed(&in, &head, &why), RN_STATE_MORE);
    assert_int_equal(rn_state_in_feed(&in, &head, &why), RN_STATE_REFUSED);
    rn_state_in_free(&in);
}

static void an_empty_state_is_done_at_its_head(void **state)
{
    (void)state;
    rn_state_in in;
    assert_int_equal(rn_state_in_init(&in, NULL, 64), ROLLNET_ERR_OK);
    const char *why = NULL;
    assert_int_equal(transfer(&in, NULL, 0, -1, &why), RN_STATE_DONE);
    rn_state_in_free(&in);
}

static void the_decoder_refuses_inconsistent_heads_and_chunks(void **state)
{
    (void)state;
    /* Hand-made messages: [12, tag, frame, episode, episode_start, size, checksum]. */
    static const uint8_t bad_heads[][16] = {
        {0x97, 13, 1, 0xff, 0, 0, 0, 0},      /* frame -1 */
        {0x97, 13, 1, 10, 11, 11, 0, 0},      /* episode past the frame */
        {0x97, 13, 1, 10, 3, 2, 0, 0},        /* episode_start before its episode's count */
        {0x97, 13, 1, 10, 3, 11, 0, 0},       /* episode_start past the frame */
        {0x97, 13, 1, 10, 0, 0, 0xce, 0x04, 0x00, 0x00, 0x01, 0}, /* size past RN_STATE_MAX_BYTES */
        {0x96, 13, 1, 10, 0, 0, 0},           /* an element short */
    };
    static const size_t head_len[] = {8, 8, 8, 8, 12, 7};
    rn_msg m;
    for (size_t i = 0; i < sizeof head_len / sizeof head_len[0]; i++) {
        assert_int_equal(rn_decode(&dec, bad_heads[i], head_len[i], 1, &m), RN_DECODE_MALFORMED);
    }
    /* STATE_CHUNK with an empty bin, and one past the largest transfer. */
    static const uint8_t empty_chunk[] = {0x94, 14, 1, 0, 0xc4, 0};
    assert_int_equal(rn_decode(&dec, empty_chunk, sizeof empty_chunk, 1, &m), RN_DECODE_MALFORMED);
    static const uint8_t far_chunk[] = {0x94, 14, 1, 0xce, 0xff, 0xff, 0xff, 0xff, 0xc4, 1, 9};
    assert_int_equal(rn_decode(&dec, far_chunk, sizeof far_chunk, 1, &m), RN_DECODE_MALFORMED);
    static const uint8_t ok_chunk[] = {0x94, 14, 1, 0, 0xc4, 1, 9};
    assert_int_equal(rn_decode(&dec, ok_chunk, sizeof ok_chunk, 1, &m), RN_DECODE_OK);
}

static void watch_and_its_ack_round_trip_and_are_checked(void **state)
{
    (void)state;
    uint8_t inputs[3 * 4];
    for (int i = 0; i < 12; i++) {
        inputs[i] = (uint8_t)(i * 5);
    }
    rn_msg m;
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH;
    m.u.watch = (rn_watch){.tag = 3, .start_frame = 40, .count = 3, .end_frame = -1,
                           .inputs = inputs};
    rn_msg back = wire(&m, 4);
    assert_int_equal(back.u.watch.start_frame, 40);
    assert_int_equal(back.u.watch.count, 3);
    assert_int_equal(back.u.watch.end_frame, -1);
    assert_memory_equal(back.u.watch.inputs, inputs, sizeof inputs);
    m.u.watch.end_frame = 43;
    assert_int_equal(wire(&m, 4).u.watch.end_frame, 43);
    /* An end before the frames it carries is out of range. */
    m.u.watch.end_frame = 42;
    uint8_t out[RN_MAX_MESSAGE];
    assert_int_equal(rn_encode(&m, 4, out, sizeof out), 0);
    /* Blocks that do not divide the data: malformed for this block size. */
    m.u.watch.end_frame = -1;
    size_t n = rn_encode(&m, 4, out, sizeof out);
    assert_true(n > 0);
    assert_int_equal(rn_decode(&dec, out, n, 5, &back), RN_DECODE_MALFORMED);

    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH_ACK;
    m.u.watch_ack.tag = 9;
    m.u.watch_ack.next_frame = 77;
    assert_int_equal(wire(&m, 4).u.watch_ack.next_frame, 77);
    m.u.watch_ack.next_frame = -1;
    assert_int_equal(rn_encode(&m, 4, out, sizeof out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_transfer_arrives_whole_with_its_session_state),
        cmocka_unit_test(a_corrupt_chunk_fails_the_checksum),
        cmocka_unit_test(an_oversize_transfer_is_refused_at_its_head),
        cmocka_unit_test(bytes_that_are_not_msgpack_are_refused_even_with_a_good_checksum),
        cmocka_unit_test(chunks_out_of_order_before_the_head_or_past_the_end_are_refused),
        cmocka_unit_test(an_empty_state_is_done_at_its_head),
        cmocka_unit_test(the_decoder_refuses_inconsistent_heads_and_chunks),
        cmocka_unit_test(watch_and_its_ack_round_trip_and_are_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
