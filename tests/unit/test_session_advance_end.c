/* How a session takes a game's advance_end calls, or their absence
 * (core/frame.c): an ADVANCE left open is ended by the SAVE after it and,
 * once the ledger is in use, warned about once and counted; reading records
 * with no ADVANCE ever ended says why none come; an unfinished list names
 * its next request; and a game that does everything right hears nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"
#include "testgame.h"

#define PLAYERS 2

/* Every warning and error a session logged. */
typedef struct log_lines {
    int warnings, errors;
    char warning[512], error[512]; /* the last of each */
} log_lines;

static void keep_log(rollnet_log_level level, const char *msg, void *user_data)
{
    log_lines *l = user_data;
    if (level == ROLLNET_LOG_WARN) {
        l->warnings++;
        snprintf(l->warning, sizeof(l->warning), "%s", msg);
    } else if (level == ROLLNET_LOG_ERROR) {
        l->errors++;
        snprintf(l->error, sizeof(l->error), "%s", msg);
    }
}

static rollnet_session *synctest_logged(log_lines *log, int check_distance)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = PLAYERS;
    d.check_distance = check_distance;
    d.logger.log = keep_log;
    d.logger.user_data = log;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    return s;
}

static rollnet_session_stats stats_of(rollnet_session *s)
{
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(s, &st), ROLLNET_ERR_OK);
    return st;
}

/* Which ADVANCEs the game ends with advance_end. */
typedef enum ends {
    END_ALL,
    END_NONE,
    END_STRAIGHT_ONLY, /* none of the replays */
} ends;

/* Carry out a list with tg_execute, except for the ADVANCEs `which` leaves
 * open: those are stepped and left for the next save_begin. */
static rollnet_error execute(tg_game *g, rollnet_session *s, const rollnet_request *reqs, int n,
                             ends which)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *q = &reqs[i];
        bool open = q->type == ROLLNET_REQUEST_ADVANCE &&
                    (which == END_NONE ||
                     (which == END_STRAIGHT_ONLY && (q->flags & ROLLNET_REQUEST_REPLAY)));
        if (open) {
            tg_step(g, q->inputs);
            continue;
        }
        rollnet_error err = tg_execute(g, s, q, 1);
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    return ROLLNET_ERR_OK;
}

/* One frame: inputs, advance, the list. advance never finds requests left:
 * every ADVANCE left open was ended by the SAVE after it. */
static rollnet_error frame(tg_game *g, rollnet_session *s, int f, ends which)
{
    for (int p = 0; p < PLAYERS; p++) {
        uint8_t in = (uint8_t)((f / 3) * (p + 1));
        assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    rollnet_error err = rollnet_session_advance(s, &reqs, &n);
    assert_int_not_equal(err, ROLLNET_ERR_REQUESTS_PENDING);
    return err != ROLLNET_ERR_OK ? err : execute(g, s, reqs, n, which);
}

/* Regression: a game that skipped advance_end on replays lost, without a
 * word, the episode-end flag of every frame a rollback crossed. Here the game
 * flags no episode end and writes no record, so nothing differs from the
 * straight run and the sync test passes; the mistake is still named once,
 * with the first frame it hit, and every open ADVANCE is counted. */
static void test_skipping_advance_end_on_replays_is_warned_once_and_counted(void **state)
{
    (void)state;
    log_lines log = {0};
    rollnet_session *s = synctest_logged(&log, 2);
    tg_game g;
    assert_true(tg_init(&g, 3, PLAYERS, 1, 0, 0));
    for (int f = 0; f < 40; f++) {
        assert_int_equal(frame(&g, s, f, END_STRAIGHT_ONLY), ROLLNET_ERR_OK);
    }
    assert_int_equal(log.errors, 0);
    assert_int_equal(log.warnings, 1);
    assert_non_null(strstr(log.warning,
                           "advance_end was not called for the ADVANCE of frame 0 (a replay): "
                           "its episode-end flag is lost and its record is empty; call "
                           "advance_end for every ADVANCE, replays included"));
    rollnet_session_stats st = stats_of(s);
    assert_true(st.frames_resimulated > 0);
    assert_int_equal(st.advances_unended, st.frames_resimulated);
    assert_int_equal(st.records_promoted, 40); /* every frame still reaches the ledger */
    rollnet_session_destroy(s);
}

/* The record written with record_begin is kept when the ADVANCE is left
 * open; the warning says only the flag is lost. */
static void test_an_open_advance_keeps_the_record_it_wrote(void **state)
{
    (void)state;
    log_lines log = {0};
    rollnet_session *s = synctest_logged(&log, 1);
    tg_game g;
    assert_true(tg_init(&g, 3, PLAYERS, 1, 0, 0));
    g.write_records = true;
    for (int f = 0; f < 6; f++) {
        const rollnet_request *reqs;
        int n;
        for (int p = 0; p < PLAYERS; p++) {
            uint8_t in = (uint8_t)f;
            assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
        }
        assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
        for (int i = 0; i < n; i++) {
            const rollnet_request *q = &reqs[i];
            if (q->type == ROLLNET_REQUEST_ADVANCE) {
                tg_step(&g, q->inputs);
                tg_write_record(&g, rollnet_session_record_begin(s, q), q->inputs);
                if ((q->flags & ROLLNET_REQUEST_REPLAY) && f < 2) {
                    continue; /* the SAVE after it ends it */
                }
                assert_int_equal(rollnet_session_advance_end(s, q, 0), ROLLNET_ERR_OK);
            } else {
                assert_int_equal(tg_execute(&g, s, q, 1), ROLLNET_ERR_OK);
            }
        }
        rollnet_record r;
        assert_true(rollnet_session_next_record(s, &r));
        assert_int_equal(r.frame, f);
        assert_true(r.size > 0);
    }
    assert_int_equal(log.warnings, 1);
    assert_non_null(strstr(log.warning,
                           "ADVANCE of frame 0 (a replay): its episode-end flag is lost; call"));
    rollnet_session_destroy(s);
}

/* Regression: a game that never called advance_end and read records got
 * none, and no word why. Reading before anything ran is no mistake. */
static void test_reading_records_without_any_advance_end_says_why(void **state)
{
    (void)state;
    log_lines log = {0};
    rollnet_session *s = synctest_logged(&log, 1);
    tg_game g;
    assert_true(tg_init(&g, 3, PLAYERS, 1, 0, 4));
    rollnet_record r;
    assert_false(rollnet_session_next_record(s, &r));
    assert_int_equal(log.warnings, 0);
    for (int f = 0; f < 10; f++) {
        assert_int_equal(frame(&g, s, f, END_NONE), ROLLNET_ERR_OK);
        assert_false(rollnet_session_next_record(s, &r));
    }
    assert_int_equal(log.errors, 0);
    assert_int_equal(log.warnings, 1); /* once, not per call */
    assert_non_null(strstr(log.warning, "next_record: there are no records: 2 ADVANCEs ran and "
                                        "none was ended with advance_end"));
    rollnet_session_stats st = stats_of(s);
    assert_int_equal(st.advances_unended, 10 + st.frames_resimulated);
    assert_int_equal(st.episode, 0);
    rollnet_session_destroy(s);
}

/* A game that ends every ADVANCE, writes records, ends episodes and reads
 * the ledger hears nothing from the session. */
static void test_a_game_that_ends_every_advance_hears_nothing(void **state)
{
    (void)state;
    for (int cd = 1; cd <= 3; cd++) {
        log_lines log = {0};
        rollnet_session *s = synctest_logged(&log, cd);
        tg_game g;
        assert_true(tg_init(&g, 3, PLAYERS, 1, 0, 4));
        g.write_records = true;
        int rows = 0;
        for (int f = 0; f < 60; f++) {
            assert_int_equal(frame(&g, s, f, END_ALL), ROLLNET_ERR_OK);
            rollnet_record r;
            while (rollnet_session_next_record(s, &r)) {
                assert_int_equal(r.episode, r.frame / 4);
                assert_int_equal(r.episode_end, r.frame % 4 == 3);
                rows++;
            }
        }
        assert_int_equal(rows, 60);
        assert_int_equal(log.warnings, 0);
        assert_int_equal(log.errors, 0);
        rollnet_session_stats st = stats_of(s);
        assert_int_equal(st.advances_unended, 0);
        assert_int_equal(st.episode, 15);
        rollnet_session_destroy(s);
    }
}

/* advance with requests left names the next one, once per list. */
static void test_an_unfinished_list_names_its_next_request_once(void **state)
{
    (void)state;
    log_lines log = {0};
    rollnet_session *s = synctest_logged(&log, 1);
    tg_game g;
    assert_true(tg_init(&g, 3, PLAYERS, 1, 0, 0));
    for (int p = 0; p < PLAYERS; p++) {
        uint8_t in = 0;
        assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    /* Up to the first ADVANCE, included: the SAVE of frame 1 is next. */
    int done = 0;
    while (reqs[done].type != ROLLNET_REQUEST_ADVANCE) {
        done++;
    }
    done++;
    assert_int_equal(tg_execute(&g, s, reqs, done), ROLLNET_ERR_OK);
    const rollnet_request *again;
    int m;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(rollnet_session_advance(s, &again, &m), ROLLNET_ERR_REQUESTS_PENDING);
    }
    assert_int_equal(log.warnings, 1);
    char expect[128];
    snprintf(expect, sizeof(expect), "its next request is SAVE of frame 1 (%d of %d left)",
             n - done, n);
    assert_non_null(strstr(log.warning, expect));
    assert_int_equal(tg_execute(&g, s, reqs + done, n - done), ROLLNET_ERR_OK);
    assert_int_equal(log.warnings, 1);
    rollnet_session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skipping_advance_end_on_replays_is_warned_once_and_counted),
        cmocka_unit_test(test_an_open_advance_keeps_the_record_it_wrote),
        cmocka_unit_test(test_reading_records_without_any_advance_end_says_why),
        cmocka_unit_test(test_a_game_that_ends_every_advance_hears_nothing),
        cmocka_unit_test(test_an_unfinished_list_names_its_next_request_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
