/* The public session API: desc defaults and validation, and every misuse
 * returning a clear error instead of undefined behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"

/* A sync test of `players` (0: the default) whose log goes to `log` (or nowhere). */
static rollnet_session *synctest_logged(int players,
                                        void (*log)(rollnet_log_level, const char *, void *))
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = players;
    d.logger.log = log;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_non_null(s);
    return s;
}

static rollnet_session *synctest(int players)
{
    return synctest_logged(players, NULL);
}

static void test_zero_desc_is_a_two_player_p2p_that_needs_a_transport(void **state)
{
    (void)state;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    rollnet_session *s = (rollnet_session *)&d;
    /* All local and no transport: a P2P session cannot be made. */
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);
    assert_null(s);
}

static void test_zero_desc_synctest_uses_documented_defaults(void **state)
{
    (void)state;
    rollnet_session *s = synctest(0);
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(s, &st), ROLLNET_ERR_OK);
    assert_int_equal(st.frame, 0);
    assert_true(st.running);
    uint8_t one = 1;
    /* input_size defaults to 1, num_players to 2. */
    assert_int_equal(rollnet_session_add_local_input(s, 0, &one, 1), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_add_local_input(s, 1, &one, 1), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_add_local_input(s, 2, &one, 1), ROLLNET_ERR_INVALID_PLAYER);
    rollnet_session_destroy(s);
}

/* The last warning or error the library logged. */
static char last_log[256];
static void keep_last_log(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)user_data;
    if (level >= ROLLNET_LOG_WARN) {
        snprintf(last_log, sizeof(last_log), "%s", msg);
    }
}

/* Each refused field is named in the log with its value and the rule. */
static void test_out_of_range_desc_fields_are_refused(void **state)
{
    (void)state;
    rollnet_session_desc base;
    memset(&base, 0, sizeof(base));
    base.kind = ROLLNET_SESSION_SYNCTEST;
    base.logger.log = keep_last_log;
    rollnet_session_desc d;
    rollnet_session *s;
#define REFUSED(stmt, named)                                                          \
    do {                                                                              \
        d = base;                                                                     \
        stmt;                                                                         \
        s = NULL;                                                                     \
        last_log[0] = '\0';                                                           \
        assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);   \
        assert_null(s);                                                               \
        assert_non_null(strstr(last_log, named));                                     \
    } while (0)
    REFUSED(d.num_players = ROLLNET_MAX_PLAYERS + 1, "desc.num_players = ");
    REFUSED(d.num_players = -1, "desc.num_players = -1: must be 1..");
    REFUSED(d.input_size = ROLLNET_MAX_INPUT_SIZE + 1, "desc.input_size");
    REFUSED(d.input_delay = ROLLNET_MAX_INPUT_DELAY + 1, "desc.input_delay");
    REFUSED(d.input_delay = -1, "desc.input_delay = -1");
    REFUSED(d.max_prediction = ROLLNET_MAX_PREDICTION + 1, "desc.max_prediction");
    REFUSED(d.fps = 1001, "desc.fps = 1001: must be 1..1000");
    REFUSED(d.check_distance = ROLLNET_MAX_PREDICTION + 1, "desc.check_distance");
    REFUSED(d.checksum_interval = -2, "desc.checksum_interval = -2");
    REFUSED(d.prediction = (rollnet_prediction)7, "desc.prediction = 7");
    REFUSED(d.kind = (rollnet_session_kind)9, "desc.kind = 9");
    REFUSED(d.players[1].kind = ROLLNET_PLAYER_REMOTE, "players[1].kind"); /* a sync test is all local */
    REFUSED(d.kind = ROLLNET_SESSION_P2P, "transport"); /* P2P without a transport */
    /* game_params: one msgpack map with string keys, each once, within the limit. */
    static const uint8_t not_a_map[] = { 0x92, 0x01, 0x02 };
    static const uint8_t int_key[] = { 0x81, 0x01, 0x02 };
    static const uint8_t truncated[] = { 0x82, 0xa1, 'a', 0x01 };
    static const uint8_t twice[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02 };
    static uint8_t oversize[ROLLNET_MAX_GAME_PARAMS + 1] = { 0x80 };
    REFUSED((d.game_params = not_a_map, d.game_params_size = sizeof not_a_map),
            "desc.game_params (3 bytes) is not a msgpack map");
    REFUSED((d.game_params = int_key, d.game_params_size = sizeof int_key),
            "desc.game_params (3 bytes) has a key that is not a string");
    REFUSED((d.game_params = truncated, d.game_params_size = sizeof truncated),
            "desc.game_params (4 bytes) is not whole msgpack");
    REFUSED((d.game_params = twice, d.game_params_size = sizeof twice), "has a key twice");
    REFUSED((d.game_params = oversize, d.game_params_size = sizeof oversize),
            "desc.game_params (513 bytes) is larger than ROLLNET_MAX_GAME_PARAMS");
    REFUSED((d.game_params = NULL, d.game_params_size = 4), "desc.game_params (4 bytes) is NULL");
    /* A valid map, and none (a pointer with size 0 is none too). */
    static const uint8_t rules[] = { 0x81, 0xa1, 'a', 0x01 };
    d = base;
    d.game_params = rules;
    d.game_params_size = sizeof rules;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    rollnet_session_destroy(s);
    d.game_params = not_a_map;
    d.game_params_size = 0;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    rollnet_session_destroy(s);
    assert_int_equal(rollnet_session_create(NULL, &s), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_create(&base, NULL), ROLLNET_ERR_INVALID_ARGUMENT);
#undef REFUSED
}

static void test_input_misuse_is_reported(void **state)
{
    (void)state;
    rollnet_session *s = synctest(2);
    uint8_t in[2] = {0};
    assert_int_equal(rollnet_session_add_local_input(s, -1, in, 1), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_add_local_input(s, 2, in, 1), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_add_local_input(s, 0, in, 2), ROLLNET_ERR_INVALID_INPUT_SIZE);
    assert_int_equal(rollnet_session_add_local_input(s, 0, in, 0), ROLLNET_ERR_INVALID_INPUT_SIZE);
    assert_int_equal(rollnet_session_add_local_input(s, 0, NULL, 1), ROLLNET_ERR_INVALID_ARGUMENT);
    rollnet_session_destroy(s);
}

static void test_advance_before_every_local_input_is_refused(void **state)
{
    (void)state;
    rollnet_session *s = synctest(2);
    const rollnet_request *reqs;
    int n = -1;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_NO_LOCAL_INPUT);
    assert_int_equal(n, 0);
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_NO_LOCAL_INPUT);
    rollnet_session_add_local_input(s, 1, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    assert_true(n > 0);
    rollnet_session_destroy(s);
}

/* Out parameters are set on every error, a NULL session included. */
static void test_advance_clears_its_outputs_on_every_error(void **state)
{
    (void)state;
    const rollnet_request *reqs = (const rollnet_request *)&reqs;
    int n = -1;
    assert_int_equal(rollnet_session_advance(NULL, &reqs, &n), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_null(reqs);
    assert_int_equal(n, 0);
}

static int clock_warnings;
static void count_clock_warnings(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)user_data;
    clock_warnings += level == ROLLNET_LOG_WARN && strstr(msg, "clock went back") != NULL;
}

/* A clock that goes back is a bug in the game: said once, and time stands
 * still instead of running backwards through the timers. */
static void test_a_clock_that_goes_back_is_reported_once(void **state)
{
    (void)state;
    rollnet_session *s = synctest_logged(0, count_clock_warnings);
    clock_warnings = 0;
    assert_int_equal(rollnet_session_poll(s, 5000), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_poll(s, 5000), ROLLNET_ERR_OK);
    assert_int_equal(clock_warnings, 0);
    assert_int_equal(rollnet_session_poll(s, 4000), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_poll(s, 3000), ROLLNET_ERR_OK);
    assert_int_equal(clock_warnings, 1);
    rollnet_session_destroy(s);
}

/* A game may keep copies of the requests; a request out of order is refused
 * with the reason in the log. */
static void test_copied_requests_are_accepted_and_refusals_say_why(void **state)
{
    (void)state;
    rollnet_session *s = synctest_logged(0, keep_last_log);
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    rollnet_session_add_local_input(s, 1, &in, 1);
    const rollnet_request *reqs;
    int n = 0;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    rollnet_request copy[16];
    assert_true(n > 2 && n <= 16);
    memcpy(copy, reqs, (size_t)n * sizeof(copy[0]));
    /* Out of order: the last request first. */
    last_log[0] = '\0';
    assert_null(rollnet_session_save_begin(s, &copy[n - 1]));
    assert_non_null(strstr(last_log, "save_begin: the next request is"));
    assert_null(rollnet_session_load_begin(s, NULL));
    assert_non_null(strstr(last_log, "load_begin: the request is NULL"));
    /* In order, from the copies. */
    for (int i = 0; i < n; i++) {
        const rollnet_request *r = &copy[i];
        if (r->type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, r);
            assert_non_null(w);
            rollnet_write_int(w, 7);
            assert_int_equal(rollnet_session_save_end(s, r), ROLLNET_ERR_OK);
        } else if (r->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *rd = rollnet_session_load_begin(s, r);
            assert_non_null(rd);
            int64_t v = 0;
            assert_true(rollnet_read_int(rd, &v));
            assert_int_equal(rollnet_session_load_end(s, r), ROLLNET_ERR_OK);
        } else {
            assert_int_equal(rollnet_session_advance_end(s, r, 0), ROLLNET_ERR_OK);
        }
    }
    last_log[0] = '\0';
    assert_null(rollnet_session_record_begin(s, &copy[0]));
    assert_non_null(strstr(last_log, "no request is pending"));
    rollnet_session_destroy(s);
}

static void test_advance_with_requests_left_is_refused(void **state)
{
    (void)state;
    rollnet_session *s = synctest(1);
    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_REQUESTS_PENDING);
    rollnet_session_destroy(s);
}

static void test_request_calls_of_the_wrong_kind_or_order_are_refused(void **state)
{
    (void)state;
    rollnet_session *s = synctest(1);
    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    assert_int_equal(reqs[0].type, ROLLNET_REQUEST_SAVE);
    /* Not a LOAD, not an ADVANCE, and not the next one. */
    assert_null(rollnet_session_load_begin(s, &reqs[0]));
    assert_null(rollnet_session_record_begin(s, &reqs[0]));
    assert_int_equal(rollnet_session_advance_end(s, &reqs[0], 0), ROLLNET_ERR_WRONG_REQUEST);
    assert_int_equal(rollnet_session_save_end(s, &reqs[0]), ROLLNET_ERR_WRONG_REQUEST);
    assert_null(rollnet_session_save_begin(s, &reqs[n - 1]));
    assert_null(rollnet_session_save_begin(s, NULL));
    rollnet_writer *w = rollnet_session_save_begin(s, &reqs[0]);
    assert_non_null(w);
    /* A second begin while one is open is refused. */
    assert_null(rollnet_session_save_begin(s, &reqs[0]));
    rollnet_session_destroy(s);
}

static void test_reading_less_than_was_written_is_an_error(void **state)
{
    (void)state;
    rollnet_session *s = synctest(1);
    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    /* SAVE 0, LOAD 0 (validation), ... */
    rollnet_writer *w = rollnet_session_save_begin(s, &reqs[0]);
    rollnet_write_int(w, 1);
    rollnet_write_int(w, 2);
    assert_int_equal(rollnet_session_save_end(s, &reqs[0]), ROLLNET_ERR_OK);
    assert_int_equal(reqs[1].type, ROLLNET_REQUEST_LOAD);
    rollnet_reader *r = rollnet_session_load_begin(s, &reqs[1]);
    int64_t v;
    assert_true(rollnet_read_int(r, &v));
    assert_int_equal(rollnet_session_load_end(s, &reqs[1]), ROLLNET_ERR_SNAPSHOT_READ);
    /* The session now refuses to go on, loudly. */
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_SNAPSHOT_READ);
    rollnet_session_destroy(s);
}

static void test_unstable_snapshot_fails_validation_loudly(void **state)
{
    (void)state;
    rollnet_session *s = synctest(1);
    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    int counter = 0;
    rollnet_error last = ROLLNET_ERR_OK;
    for (int i = 0; i < n && last == ROLLNET_ERR_OK; i++) {
        if (reqs[i].type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, &reqs[i]);
            rollnet_write_int(w, counter++); /* a "state" that changes on every save */
            last = rollnet_session_save_end(s, &reqs[i]);
        } else if (reqs[i].type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *r = rollnet_session_load_begin(s, &reqs[i]);
            int64_t v;
            rollnet_read_int(r, &v);
            last = rollnet_session_load_end(s, &reqs[i]);
        } else {
            last = rollnet_session_advance_end(s, &reqs[i], 0);
        }
    }
    assert_int_equal(last, ROLLNET_ERR_SNAPSHOT_UNSTABLE);
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_SNAPSHOT_UNSTABLE);
    rollnet_session_destroy(s);
}

/* An allocator hook that records every call and the largest request. */
typedef struct alloc_meter {
    int live;
    int calls;
    size_t largest;
} alloc_meter;

static void *metered_alloc(size_t size, void *user)
{
    alloc_meter *m = user;
    m->live++;
    m->calls++;
    m->largest = size > m->largest ? size : m->largest;
    return malloc(size);
}

static void metered_free(void *p, void *user)
{
    if (p) {
        ((alloc_meter *)user)->live--;
    }
    free(p);
}

/* A game bug: the save announces an array of 10^8 elements and writes two.
 * Stored, its LOAD would make msgpack-c reserve 1.6 GB with malloc, outside
 * the desc's allocator. The session refuses it at the frame that wrote it,
 * names the cause, never decodes it, and allocates nothing more. */
static void test_a_snapshot_with_a_lying_array_header_is_refused_at_save_end(void **state)
{
    (void)state;
    alloc_meter m = {0, 0, 0};
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 1;
    d.allocator.alloc = metered_alloc;
    d.allocator.free = metered_free;
    d.allocator.user_data = &m;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    int calls_at_create = m.calls;
    m.largest = 0; /* from here on: the largest request made while running */

    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    /* SAVE 0, then LOAD 0 and SAVE 0 (the save-load-save check), ... */
    assert_int_equal(reqs[0].type, ROLLNET_REQUEST_SAVE);
    rollnet_writer *w = rollnet_session_save_begin(s, &reqs[0]);
    assert_non_null(w);
    rollnet_write_array(w, 100000000u);
    rollnet_write_int(w, 1);
    rollnet_write_int(w, 2);
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_OK); /* it fits: no overflow */
    assert_int_equal(rollnet_session_save_end(s, &reqs[0]), ROLLNET_ERR_SNAPSHOT_INVALID);
    assert_non_null(strstr(rollnet_error_string(ROLLNET_ERR_SNAPSHOT_INVALID), "announce"));

    /* Not stored, so the LOAD that would decode it finds nothing. */
    assert_int_equal(reqs[1].type, ROLLNET_REQUEST_LOAD);
    assert_null(rollnet_session_load_begin(s, &reqs[1]));
    /* The session stops, loudly, with the cause. */
    rollnet_session_add_local_input(s, 0, &in, 1);
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_SNAPSHOT_INVALID);

    /* Memory stayed what creation fixed: no call through the hook since.
     * (msgpack-c's zone mallocs on its own; test_sync.c checks that the
     * zone never grows.) */
    assert_int_equal(m.calls, calls_at_create);
    assert_int_equal(m.largest, 0);
    rollnet_session_destroy(s);
    assert_int_equal(m.live, 0);
}

static void test_p2p_calls_on_a_synctest_say_so(void **state)
{
    (void)state;
    rollnet_session *s = synctest(2);
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(s, 1, &ps), ROLLNET_ERR_WRONG_SESSION_KIND);
    assert_int_equal(rollnet_session_begin_loading(s, 0), ROLLNET_ERR_WRONG_SESSION_KIND);
    assert_int_equal(rollnet_session_end_loading(s, 0), ROLLNET_ERR_WRONG_SESSION_KIND);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(s, &info), ROLLNET_ERR_NO_DESYNC);
    char buf[16];
    assert_int_equal(rollnet_session_desync_dump(s, 0, buf, sizeof(buf)), ROLLNET_ERR_NO_DESYNC);
    assert_int_equal(rollnet_session_desync_dump(s, 2, buf, sizeof(buf)),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_snapshot_dump(s, 5, buf, sizeof(buf)), ROLLNET_ERR_NO_SNAPSHOT);
    rollnet_session_destroy(s);
}

static void test_null_session_is_refused_everywhere(void **state)
{
    (void)state;
    const rollnet_request *reqs;
    int n;
    uint8_t in = 0;
    rollnet_event ev;
    rollnet_record rec;
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_poll(NULL, 0), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_add_local_input(NULL, 0, &in, 1), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_session_advance(NULL, &reqs, &n), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_false(rollnet_session_next_event(NULL, &ev));
    assert_false(rollnet_session_next_record(NULL, &rec));
    assert_int_equal(rollnet_session_stats_get(NULL, &st), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_null(rollnet_session_save_begin(NULL, NULL));
    rollnet_session_destroy(NULL);
}

static void test_error_strings_are_distinct_and_present(void **state)
{
    (void)state;
    for (int i = 0; i < ROLLNET_ERR_COUNT_; i++) {
        const char *a = rollnet_error_string((rollnet_error)i);
        assert_non_null(a);
        assert_true(strlen(a) > 1);
        assert_string_not_equal(a, "unknown error");
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(a, rollnet_error_string((rollnet_error)j));
        }
    }
    assert_string_equal(rollnet_error_string(ROLLNET_ERR_COUNT_), "unknown error");
    assert_string_equal(rollnet_error_string((rollnet_error)-1), "unknown error");
    assert_string_equal(rollnet_error_string(ROLLNET_ERR_OK), "ok");
    assert_string_equal(rollnet_version(), ROLLNET_VERSION_STRING);
}

static void *counting_alloc(size_t size, void *user)
{
    (*(int *)user)++;
    return malloc(size);
}

static void counting_free(void *p, void *user)
{
    if (p) {
        (*(int *)user)--;
    }
    free(p);
}

static void test_allocator_hook_receives_every_allocation_and_free(void **state)
{
    (void)state;
    int live = 0;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.allocator.alloc = counting_alloc;
    d.allocator.free = counting_free;
    d.allocator.user_data = &live;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_true(live > 0);
    rollnet_session_destroy(s);
    assert_int_equal(live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_desc_is_a_two_player_p2p_that_needs_a_transport),
        cmocka_unit_test(test_zero_desc_synctest_uses_documented_defaults),
        cmocka_unit_test(test_out_of_range_desc_fields_are_refused),
        cmocka_unit_test(test_advance_clears_its_outputs_on_every_error),
        cmocka_unit_test(test_a_clock_that_goes_back_is_reported_once),
        cmocka_unit_test(test_copied_requests_are_accepted_and_refusals_say_why),
        cmocka_unit_test(test_input_misuse_is_reported),
        cmocka_unit_test(test_advance_before_every_local_input_is_refused),
        cmocka_unit_test(test_advance_with_requests_left_is_refused),
        cmocka_unit_test(test_request_calls_of_the_wrong_kind_or_order_are_refused),
        cmocka_unit_test(test_reading_less_than_was_written_is_an_error),
        cmocka_unit_test(test_unstable_snapshot_fails_validation_loudly),
        cmocka_unit_test(test_a_snapshot_with_a_lying_array_header_is_refused_at_save_end),
        cmocka_unit_test(test_p2p_calls_on_a_synctest_say_so),
        cmocka_unit_test(test_null_session_is_refused_everywhere),
        cmocka_unit_test(test_error_strings_are_distinct_and_present),
        cmocka_unit_test(test_allocator_hook_receives_every_allocation_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
