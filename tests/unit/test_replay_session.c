/* The replay session (core/replay_session.c) over a source in memory, no
 * file: the first list loads the recorded state, each ADVANCE carries the
 * recorded inputs, confirmed (nothing predicted, nothing rolled back), the
 * session finishes where the recording ends, a read failure stops it, and
 * an initial state that is not whole msgpack is refused at creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"
#include "session.h"
#include "testgame.h"

#define FRAMES 30

typedef struct mem_source {
    int32_t next, frames;
    int32_t fail_at; /* -1: never */
    uint8_t inputs[2];
    uint8_t state[256];
    size_t state_size;
} mem_source;

static rollnet_error mem_read(void *self, rn_replay_frame *out, bool *end)
{
    mem_source *m = self;
    if (m->next == m->fail_at) {
        return ROLLNET_ERR_REPLAY_INVALID;
    }
    *end = m->next >= m->frames;
    if (*end) {
        return ROLLNET_ERR_OK;
    }
    m->inputs[0] = (uint8_t)(m->next * 3);
    m->inputs[1] = (uint8_t)(m->next ^ 0x5a);
    out->inputs = m->inputs;
    out->record = NULL;
    out->record_size = 0;
    out->episode_end = false;
    m->next++;
    return ROLLNET_ERR_OK;
}

/* A test game's fresh state, as a recorder would have kept it. */
static void state_of(tg_game *g, mem_source *m)
{
    uint8_t storage[512];
    rollnet_writer *w = rollnet_writer_open(storage, m->state, sizeof(m->state));
    assert_true(rollnet_writer_storage_size() <= sizeof(storage));
    tg_save(g, w);
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_OK);
    m->state_size = rollnet_writer_length(w);
}

static rollnet_error create(mem_source *m, rollnet_session **out)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_REPLAY;
    d.num_players = 2;
    d.checksum_interval = ROLLNET_CHECKSUMS_OFF;
    rn_replay_source src = {.read = mem_read, .self = m, .initial_state = m->state,
                            .initial_state_size = m->state_size};
    return rn_session_create_replay(&d, &src, out);
}

static void test_plays_the_recorded_inputs_from_the_recorded_state(void **state)
{
    (void)state;
    mem_source m = {.frames = FRAMES, .fail_at = -1};
    tg_game rec;
    assert_true(tg_init(&rec, 77, 2, 1, 8, 0));
    state_of(&rec, &m);
    rollnet_session *s = NULL;
    assert_int_equal(create(&m, &s), ROLLNET_ERR_OK);
    tg_game g;
    assert_true(tg_init(&g, 1, 2, 1, 8, 0)); /* another seed: the LOAD must win */
    int32_t ran = 0;
    bool finished = false;
    for (int t = 0; t < 3 * FRAMES && !finished; t++) {
        assert_int_equal(rollnet_session_poll(s, (uint64_t)t), ROLLNET_ERR_OK);
        const rollnet_request *reqs;
        int n = 0;
        rollnet_error err = rollnet_session_advance(s, &reqs, &n);
        if (err == ROLLNET_ERR_FINISHED) {
            rollnet_event ev;
            while (rollnet_session_next_event(s, &ev)) {
                if (ev.type == ROLLNET_EVENT_FINISHED) {
                    assert_int_equal(ev.u.finish.end_frame, FRAMES);
                    finished = true;
                }
            }
            continue;
        }
        assert_int_equal(err, ROLLNET_ERR_OK);
        if (ran == 0) {
            assert_int_equal(reqs[0].type, ROLLNET_REQUEST_LOAD);
            assert_int_equal(reqs[0].frame, 0);
            assert_int_equal(reqs[0].flags, 0u);
        }
        for (int i = 0; i < n; i++) {
            assert_false(reqs[i].flags & ROLLNET_REQUEST_REPLAY);
            if (reqs[i].type == ROLLNET_REQUEST_ADVANCE) {
                assert_int_equal(reqs[i].frame, ran);
                assert_int_equal(reqs[i].inputs[0], (uint8_t)(ran * 3));
                assert_int_equal(reqs[i].inputs[1], (uint8_t)(ran ^ 0x5a));
                assert_int_equal(reqs[i].disconnected, 0u);
                ran++;
            }
        }
        assert_int_equal(tg_execute(&g, s, reqs, n), ROLLNET_ERR_OK);
    }
    assert_true(finished);
    assert_int_equal(ran, FRAMES);
    /* The same run without rollnet, from the recorded state. */
    for (int32_t f = 0; f < FRAMES; f++) {
        uint8_t in[2] = {(uint8_t)(f * 3), (uint8_t)(f ^ 0x5a)};
        tg_step(&rec, in);
    }
    assert_int_equal(tg_state_hash(&g), tg_state_hash(&rec));
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(s, &st), ROLLNET_ERR_OK);
    assert_int_equal(st.rollbacks, 0u);
    assert_int_equal(st.confirmed_frame, FRAMES - 1);
    uint8_t in = 0;
    assert_int_equal(rollnet_session_add_local_input(s, 0, &in, 1), ROLLNET_ERR_INVALID_PLAYER);
    assert_int_equal(rollnet_session_leave(s), ROLLNET_ERR_WRONG_SESSION_KIND);
    rollnet_session_destroy(s);
}

static void test_a_read_failure_stops_the_session(void **state)
{
    (void)state;
    mem_source m = {.frames = FRAMES, .fail_at = 5};
    tg_game g;
    assert_true(tg_init(&g, 77, 2, 1, 0, 0));
    state_of(&g, &m);
    rollnet_session *s = NULL;
    assert_int_equal(create(&m, &s), ROLLNET_ERR_OK);
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < FRAMES && err == ROLLNET_ERR_OK; t++) {
        const rollnet_request *reqs;
        int n = 0;
        err = rollnet_session_advance(s, &reqs, &n);
        if (err == ROLLNET_ERR_OK) {
            assert_int_equal(tg_execute(&g, s, reqs, n), ROLLNET_ERR_OK);
        }
    }
    assert_int_equal(err, ROLLNET_ERR_REPLAY_INVALID);
    assert_int_equal(g.frame, 5);
    assert_int_equal(rollnet_session_poll(s, 1), ROLLNET_ERR_REPLAY_INVALID);
    rollnet_session_destroy(s);
}

static void test_an_initial_state_that_is_not_whole_msgpack_is_refused(void **state)
{
    (void)state;
    mem_source m = {.frames = FRAMES, .fail_at = -1};
    memcpy(m.state, "\x93\x01\x02", 3); /* an array of 3 holding 2 */
    m.state_size = 3;
    rollnet_session *s = (rollnet_session *)&m;
    assert_int_equal(create(&m, &s), ROLLNET_ERR_SNAPSHOT_INVALID);
    assert_null(s);
    m.state_size = 70000; /* past snapshot_capacity (64 KiB) */
    assert_int_equal(create(&m, &s), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    assert_null(s);
}

static void test_an_empty_recording_finishes_at_once(void **state)
{
    (void)state;
    mem_source m = {.frames = 0, .fail_at = -1};
    tg_game g;
    assert_true(tg_init(&g, 77, 2, 1, 0, 0));
    state_of(&g, &m);
    rollnet_session *s = NULL;
    assert_int_equal(create(&m, &s), ROLLNET_ERR_OK);
    const rollnet_request *reqs;
    int n = 0;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_FINISHED);
    rollnet_event ev;
    bool finished = false;
    while (rollnet_session_next_event(s, &ev)) {
        finished = finished || (ev.type == ROLLNET_EVENT_FINISHED && ev.u.finish.end_frame == 0);
    }
    assert_true(finished);
    rollnet_session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plays_the_recorded_inputs_from_the_recorded_state),
        cmocka_unit_test(test_a_read_failure_stops_the_session),
        cmocka_unit_test(test_an_initial_state_that_is_not_whole_msgpack_is_refused),
        cmocka_unit_test(test_an_empty_recording_finishes_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
