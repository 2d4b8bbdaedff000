/* The event queue and the log hook (core/events.c): first in, first out; a
 * full queue drops its oldest droppable entry (advice, progress) and counts
 * it, and loses an important one only when nothing else can go; the logger
 * gets the formatted text, and nothing is formatted when there is no logger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_fixture.h"
#include "events.h"

static void new_queue_is_empty_and_silent(void **state)
{
    (void)state;
    rn_events q;
    rn_events_init(&q, NULL);
    assert_int_equal(q.count, 0);
    assert_int_equal(q.dropped, 0);
    assert_null(q.logger.log);
    expect_no_event(&q);
    rn_log(&q, ROLLNET_LOG_ERROR, "nobody listens"); /* no logger: must not crash */
}

static void made_event_has_its_type_and_player_and_a_zero_payload(void **state)
{
    (void)state;
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DESYNC, 3);
    assert_int_equal(ev.type, ROLLNET_EVENT_DESYNC);
    assert_int_equal(ev.player, 3);
    assert_int_equal(ev.u.desync.frame, 0);
    assert_int_equal(ev.u.desync.local_checksum, 0);
    assert_int_equal(ev.u.desync.remote_checksum, 0);
    rollnet_event session = rn_event_make(ROLLNET_EVENT_RUNNING, -1);
    assert_int_equal(session.player, -1);
}

static void events_come_out_in_the_order_they_went_in(void **state)
{
    (void)state;
    rn_events q;
    rn_events_init(&q, NULL);
    rn_events_simple(&q, ROLLNET_EVENT_SYNCHRONIZING, 1);
    rollnet_event d = rn_event_make(ROLLNET_EVENT_DESYNC, 2);
    d.u.desync.frame = 32;
    d.u.desync.local_checksum = 0xaaaa;
    d.u.desync.remote_checksum = 0xbbbb;
    rn_events_push(&q, &d);
    rn_events_simple(&q, ROLLNET_EVENT_RUNNING, -1);
    assert_int_equal(q.count, 3);

    expect_event(&q, ROLLNET_EVENT_SYNCHRONIZING, 1);
    rollnet_event got = expect_event(&q, ROLLNET_EVENT_DESYNC, 2);
    assert_int_equal(got.u.desync.frame, 32);
    assert_int_equal(got.u.desync.local_checksum, 0xaaaa);
    assert_int_equal(got.u.desync.remote_checksum, 0xbbbb);
    expect_event(&q, ROLLNET_EVENT_RUNNING, -1);
    expect_no_event(&q);
    assert_int_equal(q.dropped, 0);
}

/* The ring's head moves as events are taken: order holds across its end. */
static void order_holds_when_the_ring_wraps(void **state)
{
    (void)state;
    rn_events q;
    rn_events_init(&q, NULL);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 3 * RN_EVENT_CAP; round++) {
        for (int k = 0; k < 3; k++) {
            rn_events_simple(&q, ROLLNET_EVENT_WAIT_RECOMMENDED, next_in++);
        }
        for (int k = 0; k < 2; k++) {
            expect_event(&q, ROLLNET_EVENT_WAIT_RECOMMENDED, next_out++);
        }
        while (q.count > RN_EVENT_CAP / 2) {
            expect_event(&q, ROLLNET_EVENT_WAIT_RECOMMENDED, next_out++);
        }
    }
    while (next_out < next_in) {
        expect_event(&q, ROLLNET_EVENT_WAIT_RECOMMENDED, next_out++);
    }
    expect_no_event(&q);
    assert_int_equal(q.dropped, 0);
}

static void full_queue_drops_the_oldest_and_counts_it(void **state)
{
    (void)state;
    rn_events q;
    rn_events_init(&q, NULL);
    const int extra = 5;
    for (int i = 0; i < RN_EVENT_CAP + extra; i++) {
        rn_events_simple(&q, ROLLNET_EVENT_STALLED, i);
    }
    assert_int_equal(q.count, RN_EVENT_CAP);
    assert_int_equal(q.dropped, extra);
    /* Events 0..extra-1 are gone; the newest is still there, last. */
    for (int i = extra; i < RN_EVENT_CAP + extra; i++) {
        expect_event(&q, ROLLNET_EVENT_STALLED, i);
    }
    expect_no_event(&q);
    assert_int_equal(q.dropped, extra);
}

/* A droppable event (advice or progress) numbered through its player field,
 * so the order of what survives can be checked. */
static void push_advice(rn_events *q, int seq)
{
    static const rollnet_event_type kinds[] = {
        ROLLNET_EVENT_WAIT_RECOMMENDED, ROLLNET_EVENT_STALLED, ROLLNET_EVENT_SYNCHRONIZING,
        ROLLNET_EVENT_STALL_ENDED,      ROLLNET_EVENT_INTERRUPTED, ROLLNET_EVENT_RESUMED,
        ROLLNET_EVENT_LOADING,          ROLLNET_EVENT_LOADING_ENDED,
    };
    rollnet_event_type t = kinds[seq % (int)(sizeof kinds / sizeof kinds[0])];
    assert_true(rn_event_droppable(t));
    rn_events_simple(q, t, seq);
}

/* The event that says the session is over must reach a game that polls
 * rarely: a queue full of advice gives up advice, oldest first, and the
 * DISCONNECTED comes out in its place in the order. */
static void a_disconnect_survives_a_flood_of_advice_in_order(void **state)
{
    (void)state;
    rn_events q;
    rn_events_init(&q, NULL);
    int seq = 0;
    while (q.count < RN_EVENT_CAP) {
        push_advice(&q, seq++);
    }
    const int disconnect_after = seq; /* advice numbered below came before it */
    rollnet_event d = rn_event_make(ROLLNET_EVENT_DISCONNECTED, 1000);
    d.u.disconnected.reason = ROLLNET_DISCONNECT_TIMEOUT;
    d.u.disconnected.frame = 77;
    rn_events_push(&q, &d);
    for (int i = 0; i < 3 * RN_EVENT_CAP; i++) {
        push_advice(&q, seq++);
    }
    const int pushed = seq + 1;
    assert_int_equal(q.count, RN_EVENT_CAP);
    assert_int_equal(q.dropped, (uint64_t)(pushed - RN_EVENT_CAP));
    assert_int_equal(q.dropped_important, 0);

    /* Out come the DISCONNECTED and the newest advice, in push order. */
    int last = -1, delivered = 0;
    bool seen = false;
    rollnet_event ev;
    while (rn_events_next(&q, &ev)) {
        delivered++;
        if (ev.type == ROLLNET_EVENT_DISCONNECTED) {
            assert_false(seen);
            seen = true;
            assert_int_equal(ev.player, 1000);
            assert_int_equal(ev.u.disconnected.reason, ROLLNET_DISCONNECT_TIMEOUT);
            assert_int_equal(ev.u.disconnected.frame, 77);
            assert_true(last < disconnect_after);
            continue;
        }
        assert_true(rn_event_droppable(ev.type));
        assert_true(ev.player > last);
        assert_true(seen == (ev.player >= disconnect_after));
        last = ev.player;
    }
    assert_true(seen);
    assert_int_equal(delivered, RN_EVENT_CAP);
    assert_int_equal(last, seq - 1); /* the newest advice is there */
    assert_int_equal(q.dropped, (uint64_t)(pushed - delivered));
}

/* One of every kind that must not be lost, each buried under more advice
 * than the queue holds. */
static void every_important_kind_survives_floods_of_advice(void **state)
{
    (void)state;
    static const rollnet_event_type important[] = {
        ROLLNET_EVENT_SYNCHRONIZED,     ROLLNET_EVENT_RUNNING,
        ROLLNET_EVENT_DISCONNECTED,     ROLLNET_EVENT_REFUSED,
        ROLLNET_EVENT_DESYNC,           ROLLNET_EVENT_EPISODE_COMPLETE,
        ROLLNET_EVENT_EPISODE_TIMEOUT,  ROLLNET_EVENT_EPISODE_MISMATCH,
    };
    const int kinds = (int)(sizeof important / sizeof important[0]);
    rn_events q;
    rn_events_init(&q, NULL);
    int seq = 0;
    for (int k = 0; k < kinds; k++) {
        assert_false(rn_event_droppable(important[k]));
        rn_events_simple(&q, important[k], -1 - k);
        for (int i = 0; i < RN_EVENT_CAP + 17; i++) {
            push_advice(&q, seq++);
        }
    }
    assert_int_equal(q.count, RN_EVENT_CAP);
    for (int k = 0; k < kinds; k++) {
        expect_event(&q, important[k], -1 - k);
    }
    /* then the newest advice, in order */
    for (int i = seq - (RN_EVENT_CAP - kinds); i < seq; i++) {
        rollnet_event ev;
        assert_true(rn_events_next(&q, &ev));
        assert_int_equal(ev.player, i);
    }
    expect_no_event(&q);
    assert_int_equal(q.dropped, (uint64_t)(kinds + seq - RN_EVENT_CAP));
    assert_int_equal(q.dropped_important, 0);
}

/* A queue holding only important events gives up new advice, then repeats
 * that say nothing new: later DESYNCs of the same player, identical
 * refusals. The first DESYNC (the frame the game acts on) stays. */
static void a_full_queue_of_important_events_coalesces_repeats(void **state)
{
    (void)state;
    log_capture c;
    rn_events q;
    events_with_capture(&q, &c);
    rn_events_simple(&q, ROLLNET_EVENT_RUNNING, -1);
    while (q.count < RN_EVENT_CAP) {
        rollnet_event e = rn_event_make(ROLLNET_EVENT_DESYNC, 2);
        e.u.desync.frame = 16 * q.count;
        rn_events_push(&q, &e);
    }
    push_advice(&q, 5); /* nothing droppable queued: the new advice goes */
    assert_int_equal(q.dropped, 1);
    rollnet_event refused = rn_event_make(ROLLNET_EVENT_REFUSED, -1);
    refused.u.refused.param = ROLLNET_PARAM_SEED;
    refused.u.refused.local_value = 1;
    refused.u.refused.remote_value = 2;
    rn_events_push(&q, &refused); /* room made by the newest repeated DESYNC */
    rn_events_push(&q, &refused); /* the same again: itself a repeat */
    for (int i = 0; i < 10; i++) {
        rollnet_event e = rn_event_make(ROLLNET_EVENT_DESYNC, 2);
        e.u.desync.frame = 100000 + i;
        rn_events_push(&q, &e);
    }
    rollnet_event d = rn_event_make(ROLLNET_EVENT_DISCONNECTED, 3);
    d.u.disconnected.reason = ROLLNET_DISCONNECT_CLOSED;
    d.u.disconnected.frame = 9;
    rn_events_push(&q, &d);
    assert_int_equal(q.count, RN_EVENT_CAP);
    assert_int_equal(q.dropped, 1 + 1 + 1 + 10 + 1);
    assert_int_equal(q.dropped_important, 0);
    assert_int_equal(c.count, 0); /* nothing lost, nothing to warn about */

    expect_event(&q, ROLLNET_EVENT_RUNNING, -1);
    rollnet_event first = expect_event(&q, ROLLNET_EVENT_DESYNC, 2);
    assert_int_equal(first.u.desync.frame, 16);
    for (int i = 2; i < RN_EVENT_CAP - 2; i++) {
        rollnet_event e = expect_event(&q, ROLLNET_EVENT_DESYNC, 2);
        assert_int_equal(e.u.desync.frame, 16 * i);
    }
    rollnet_event r = expect_event(&q, ROLLNET_EVENT_REFUSED, -1);
    assert_int_equal(r.u.refused.param, ROLLNET_PARAM_SEED);
    rollnet_event got = expect_event(&q, ROLLNET_EVENT_DISCONNECTED, 3);
    assert_int_equal(got.u.disconnected.frame, 9);
    expect_no_event(&q);
}

/* With RN_EVENT_CAP important events, no two alike, something must go: the
 * oldest EPISODE_COMPLETE (the records say the same), else the oldest event,
 * counted apart and logged as an error. */
static void when_nothing_can_be_coalesced_the_loss_is_counted_and_logged(void **state)
{
    (void)state;
    log_capture c;
    rn_events q;
    events_with_capture(&q, &c);
    rn_events_simple(&q, ROLLNET_EVENT_DISCONNECTED, 1);
    for (int ep = 0; q.count < RN_EVENT_CAP; ep++) {
        rollnet_event e = rn_event_make(ROLLNET_EVENT_EPISODE_COMPLETE, -1);
        e.u.episode.episode = ep;
        rn_events_push(&q, &e);
    }
    /* Two more episodes than there is room for: the oldest ones go, never
     * the DISCONNECTED queued before them. */
    for (int ep = RN_EVENT_CAP - 1; ep < RN_EVENT_CAP + 1; ep++) {
        rollnet_event e = rn_event_make(ROLLNET_EVENT_EPISODE_COMPLETE, -1);
        e.u.episode.episode = ep;
        rn_events_push(&q, &e);
    }
    assert_int_equal(q.dropped, 2);
    assert_int_equal(q.dropped_important, 2);
    assert_int_equal(c.count, 2);
    assert_int_equal(c.level[0], ROLLNET_LOG_ERROR);
    assert_non_null(strstr(c.text[0], "event queue full"));
    expect_event(&q, ROLLNET_EVENT_DISCONNECTED, 1);
    for (int ep = 2; ep < RN_EVENT_CAP + 1; ep++) {
        rollnet_event e = expect_event(&q, ROLLNET_EVENT_EPISODE_COMPLETE, -1);
        assert_int_equal(e.u.episode.episode, ep);
    }
    expect_no_event(&q);

    /* No EPISODE_COMPLETE to give up: the oldest event goes. */
    for (int ep = 0; q.count < RN_EVENT_CAP; ep++) {
        rollnet_event e = rn_event_make(ROLLNET_EVENT_EPISODE_TIMEOUT, -1);
        e.u.episode.episode = ep;
        rn_events_push(&q, &e);
    }
    rn_events_simple(&q, ROLLNET_EVENT_EPISODE_COMPLETE, -1); /* gives up itself */
    rn_events_simple(&q, ROLLNET_EVENT_DISCONNECTED, 2);
    assert_int_equal(q.dropped, 4);
    assert_int_equal(q.dropped_important, 4);
    assert_int_equal(c.count, 4);
    rollnet_event e = expect_event(&q, ROLLNET_EVENT_EPISODE_TIMEOUT, -1);
    assert_int_equal(e.u.episode.episode, 1);
    while (q.count > 1) {
        expect_event(&q, ROLLNET_EVENT_EPISODE_TIMEOUT, -1);
    }
    expect_event(&q, ROLLNET_EVENT_DISCONNECTED, 2);
}

/* Removing from the middle keeps the order whichever end closes the gap,
 * across the ring's wrap. */
static void order_holds_when_advice_is_removed_from_the_middle(void **state)
{
    (void)state;
    for (int pos = 0; pos < RN_EVENT_CAP; pos += 37) {
        rn_events q;
        rn_events_init(&q, NULL);
        for (int i = 0; i < pos + 5; i++) { /* move the head round the ring */
            push_advice(&q, 0);
            rollnet_event ev;
            assert_true(rn_events_next(&q, &ev));
        }
        for (int i = 0; i < RN_EVENT_CAP; i++) {
            if (i == pos) {
                push_advice(&q, i);
            } else {
                rn_events_simple(&q, ROLLNET_EVENT_EPISODE_TIMEOUT, i);
            }
        }
        rn_events_simple(&q, ROLLNET_EVENT_RUNNING, RN_EVENT_CAP);
        for (int i = 0; i <= RN_EVENT_CAP; i++) {
            if (i != pos) {
                expect_event(&q, i == RN_EVENT_CAP ? ROLLNET_EVENT_RUNNING
                                                   : ROLLNET_EVENT_EPISODE_TIMEOUT, i);
            }
        }
        expect_no_event(&q);
        assert_int_equal(q.dropped, 1);
        assert_int_equal(q.dropped_important, 0);
    }
}

static void logger_receives_formatted_text_level_and_user_data(void **state)
{
    (void)state;
    log_capture c;
    rn_events q;
    events_with_capture(&q, &c);
    rn_logf(&q, ROLLNET_LOG_WARN, "peer %d: %s after %u ms", 2, "silent", 750u);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.level[0], ROLLNET_LOG_WARN);
    assert_string_equal(c.text[0], "peer 2: silent after 750 ms");
    assert_ptr_equal(c.user_data_seen, &c);

    rn_log(&q, ROLLNET_LOG_ERROR, "100% as given, no %d formatting");
    assert_int_equal(c.count, 2);
    assert_int_equal(c.level[1], ROLLNET_LOG_ERROR);
    assert_string_equal(c.text[1], "100% as given, no %d formatting");
}

static void formatted_text_is_cut_at_255_bytes(void **state)
{
    (void)state;
    log_capture c;
    rn_events q;
    events_with_capture(&q, &c);
    char long_text[400];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    rn_logf(&q, ROLLNET_LOG_INFO, "<%s>", long_text);
    assert_int_equal(c.count, 1);
    assert_int_equal(strlen(c.text[0]), 255);
    assert_int_equal(c.text[0][0], '<');
    assert_int_equal(c.text[0][254], 'x');
}

/* %n stores how many characters were formatted so far: the sentinel changes
 * only if the text is formatted. Without a logger it must not be. */
static void nothing_is_formatted_without_a_logger(void **state)
{
    (void)state;
    rn_events q;
    events_with_capture(&q, NULL);
    int formatted = -1;
    rn_logf(&q, ROLLNET_LOG_INFO, "abc%n", &formatted);
    assert_int_equal(formatted, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_queue_is_empty_and_silent),
        cmocka_unit_test(made_event_has_its_type_and_player_and_a_zero_payload),
        cmocka_unit_test(events_come_out_in_the_order_they_went_in),
        cmocka_unit_test(order_holds_when_the_ring_wraps),
        cmocka_unit_test(full_queue_drops_the_oldest_and_counts_it),
        cmocka_unit_test(a_disconnect_survives_a_flood_of_advice_in_order),
        cmocka_unit_test(every_important_kind_survives_floods_of_advice),
        cmocka_unit_test(a_full_queue_of_important_events_coalesces_repeats),
        cmocka_unit_test(when_nothing_can_be_coalesced_the_loss_is_counted_and_logged),
        cmocka_unit_test(order_holds_when_advice_is_removed_from_the_middle),
        cmocka_unit_test(logger_receives_formatted_text_level_and_user_data),
        cmocka_unit_test(formatted_text_is_cut_at_255_bytes),
        cmocka_unit_test(nothing_is_formatted_without_a_logger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
