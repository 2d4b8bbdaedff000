/* The sync-test session (core/synctest_session.c) through the public API:
 * a deterministic game passes at every check distance and stays where a
 * straight run is, a game with hidden state is caught with
 * ROLLNET_ERR_DESYNC (info names the frame, the two dumps differ), calls
 * that belong to P2P sessions say so, and remote players are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rollnet/rollnet.h"
#include "testgame.h"

#define PLAYERS 2
#define BLOB 64
#define GAME_SEED 0x5eed5eedu
#define DUMP_CAP 8192

typedef struct st_run {
    rollnet_session *s;
    tg_game *game; /* driven by the session's requests */
    tg_game *ref;  /* stepped directly with the same inputs: a straight run */
    tg_bot bots[PLAYERS];
} st_run;

static rollnet_session_desc synctest_desc(int check_distance)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = PLAYERS;
    d.check_distance = check_distance;
    return d;
}

static void run_open(st_run *r, const rollnet_session_desc *d, int32_t max_steps)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(rollnet_session_create(d, &r->s), ROLLNET_ERR_OK);
    assert_non_null(r->s);
    r->game = calloc(1, sizeof(*r->game));
    r->ref = calloc(1, sizeof(*r->ref));
    assert_non_null(r->game);
    assert_non_null(r->ref);
    assert_true(tg_init(r->game, GAME_SEED, PLAYERS, 1, BLOB, max_steps));
    assert_true(tg_init(r->ref, GAME_SEED, PLAYERS, 1, BLOB, max_steps));
    for (int p = 0; p < PLAYERS; p++) {
        tg_bot_init(&r->bots[p], 100u + (uint64_t)p, 1);
    }
}

static void run_close(st_run *r)
{
    rollnet_session_destroy(r->s);
    free(r->game);
    free(r->ref);
}

/* One frame: every player's input, advance, and the list carried out. */
static rollnet_error run_frame(st_run *r)
{
    uint8_t inputs[PLAYERS];
    for (int p = 0; p < PLAYERS; p++) {
        inputs[p] = *tg_bot_next(&r->bots[p]);
        assert_int_equal(rollnet_session_add_local_input(r->s, p, &inputs[p], 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n;
    rollnet_error err = rollnet_session_advance(r->s, &reqs, &n);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    tg_step(r->ref, inputs);
    return tg_execute(r->game, r->s, reqs, n);
}

/* Run `frames` frames; each must pass. */
static void run_frames_ok(st_run *r, int frames)
{
    for (int f = 0; f < frames; f++) {
        assert_int_equal(run_frame(r), ROLLNET_ERR_OK);
    }
}

static rollnet_session_stats stats_of(const st_run *r)
{
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(r->s, &st), ROLLNET_ERR_OK);
    return st;
}

static bool next_event_of_type(rollnet_session *s, rollnet_event_type type, rollnet_event *out)
{
    while (rollnet_session_next_event(s, out)) {
        if (out->type == type) {
            return true;
        }
    }
    return false;
}

static void deterministic_game_passes_at_every_check_distance(void **state)
{
    (void)state;
    const int frames = 60;
    for (int cd = 1; cd <= ROLLNET_MAX_PREDICTION; cd++) {
        rollnet_session_desc d = synctest_desc(cd);
        st_run r;
        run_open(&r, &d, 0);
        for (int f = 0; f < frames; f++) {
            assert_int_equal(run_frame(&r), ROLLNET_ERR_OK);
            /* After every list the game is where a straight run is. */
            assert_int_equal(tg_state_hash(r.game), tg_state_hash(r.ref));
        }
        rollnet_session_stats st = stats_of(&r);
        assert_true(st.running);
        assert_int_equal(st.frame, frames);
        assert_int_equal(st.confirmed_frame, frames - 1);
        /* Every frame with cd frames behind it was rolled back cd frames. */
        assert_int_equal(st.rollbacks, frames - cd + 1);
        assert_int_equal(st.max_rollback_depth, cd);
        assert_int_equal(st.frames_resimulated, (uint64_t)(frames - cd + 1) * (uint64_t)cd);
        assert_int_equal(r.game->replayed_advances, st.frames_resimulated);
        assert_int_equal(r.game->frame_mismatches, 0);
        rollnet_desync_info info;
        assert_int_equal(rollnet_session_desync_info(r.s, &info), ROLLNET_ERR_NO_DESYNC);
        rollnet_event ev;
        assert_false(next_event_of_type(r.s, ROLLNET_EVENT_DESYNC, &ev));
        run_close(&r);
    }
}

static void check_hidden_nondeterminism_caught(int check_distance)
{
    rollnet_session_desc d = synctest_desc(check_distance);
    st_run r;
    run_open(&r, &d, 0);
    r.game->nondeterministic = true;
    rollnet_error err = ROLLNET_ERR_OK;
    int f = 0;
    for (; f < 50 && err == ROLLNET_ERR_OK; f++) {
        err = run_frame(&r);
    }
    assert_int_equal(err, ROLLNET_ERR_DESYNC);
    /* Caught at the first replayed SAVE, in the first rollback. */
    assert_true(f <= check_distance + 1);
    assert_int_equal(r.game->failed_type, ROLLNET_REQUEST_SAVE);

    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(r.s, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.frame, r.game->failed_frame);
    assert_true(info.frame >= 1);
    assert_true(info.first_checksum != info.second_checksum);

    rollnet_event ev;
    assert_true(next_event_of_type(r.s, ROLLNET_EVENT_DESYNC, &ev));
    assert_int_equal(ev.u.desync.frame, info.frame);
    assert_int_equal(ev.u.desync.local_checksum, info.first_checksum);
    assert_int_equal(ev.u.desync.remote_checksum, info.second_checksum);

    static char straight[DUMP_CAP], replay[DUMP_CAP];
    assert_int_equal(rollnet_session_desync_dump(r.s, 0, straight, sizeof(straight)),
                     ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_desync_dump(r.s, 1, replay, sizeof(replay)), ROLLNET_ERR_OK);
    assert_true(strlen(straight) > 0);
    assert_true(strlen(replay) > 0);
    assert_string_not_equal(straight, replay);

    /* The session stops: the error sticks. */
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(r.s, &reqs, &n), ROLLNET_ERR_DESYNC);
    assert_false(stats_of(&r).running);
    run_close(&r);
}

static void hidden_nondeterminism_is_caught_as_a_desync(void **state)
{
    (void)state;
    check_hidden_nondeterminism_caught(1);
    check_hidden_nondeterminism_caught(ROLLNET_MAX_PREDICTION);
}

/* A game with a hidden state of period 3 (not saved, but it influences the
 * saved state): a rollback of exactly 3 frames replays it in the same phase,
 * so a fixed distance of 3 never notices; rotating the distance does. */
typedef struct period3 {
    int64_t value;  /* saved */
    int hidden;     /* not saved: cycles 0, 1, 2 */
} period3;

static rollnet_error run_period3(int distance, bool rotate, int frames)
{
    rollnet_session_desc d = synctest_desc(distance);
    d.check_distance_rotate = rotate;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    period3 g = {0, 0};
    rollnet_error err = ROLLNET_ERR_OK;
    for (int f = 0; f < frames && err == ROLLNET_ERR_OK; f++) {
        uint8_t in = (uint8_t)(f % 7);
        rollnet_session_add_local_input(s, 0, &in, 1);
        rollnet_session_add_local_input(s, 1, &in, 1);
        const rollnet_request *reqs;
        int n = 0;
        err = rollnet_session_advance(s, &reqs, &n);
        for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
            const rollnet_request *r = &reqs[i];
            if (r->type == ROLLNET_REQUEST_SAVE) {
                rollnet_writer *w = rollnet_session_save_begin(s, r);
                rollnet_write_int(w, g.value);
                err = rollnet_session_save_end(s, r);
            } else if (r->type == ROLLNET_REQUEST_LOAD) {
                rollnet_reader *rd = rollnet_session_load_begin(s, r);
                assert_true(rollnet_read_int(rd, &g.value));
                err = rollnet_session_load_end(s, r);
            } else {
                g.value = (g.value * 3 + r->inputs[0] + g.hidden) % 1000003;
                g.hidden = (g.hidden + 1) % 3;
                err = rollnet_session_advance_end(s, r, 0);
            }
        }
    }
    rollnet_session_destroy(s);
    return err;
}

static void rotating_the_distance_catches_a_hidden_period(void **state)
{
    (void)state;
    assert_int_equal(run_period3(3, false, 60), ROLLNET_ERR_OK); /* the blind spot */
    assert_int_equal(run_period3(3, true, 60), ROLLNET_ERR_DESYNC);
    assert_int_equal(run_period3(1, false, 60), ROLLNET_ERR_DESYNC);
}

static void no_desync_to_report_before_one_is_found(void **state)
{
    (void)state;
    rollnet_session_desc d = synctest_desc(2);
    st_run r;
    run_open(&r, &d, 0);
    run_frames_ok(&r, 5);
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(r.s, &info), ROLLNET_ERR_NO_DESYNC);
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(rollnet_session_desync_dump(r.s, 0, buf, sizeof(buf)),
                     ROLLNET_ERR_NO_DESYNC);
    assert_string_equal(buf, "");
    assert_int_equal(rollnet_session_desync_dump(r.s, 2, buf, sizeof(buf)),
                     ROLLNET_ERR_INVALID_ARGUMENT);
    run_close(&r);
}

static void loading_and_peer_stats_are_for_p2p_sessions_only(void **state)
{
    (void)state;
    rollnet_session_desc d = synctest_desc(1);
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_begin_loading(s, 1000), ROLLNET_ERR_WRONG_SESSION_KIND);
    assert_int_equal(rollnet_session_end_loading(s, 1000), ROLLNET_ERR_WRONG_SESSION_KIND);
    rollnet_peer_stats ps;
    for (int p = 0; p < PLAYERS; p++) {
        assert_int_equal(rollnet_session_peer_stats(s, p, &ps), ROLLNET_ERR_WRONG_SESSION_KIND);
    }
    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(s, &st), ROLLNET_ERR_OK);
    assert_int_equal(st.recommended_wait, 0);
    rollnet_session_destroy(s);
}

/* A transport that counts how often it is destroyed. */
static void count_destroy(void *self)
{
    (*(int *)self)++;
}

static const rollnet_transport_vtable counting_vtable = {.destroy = count_destroy};

static void remote_player_is_refused_at_create(void **state)
{
    (void)state;
    int destroyed = 0;
    rollnet_session_desc d = synctest_desc(1);
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.transport.vtable = &counting_vtable;
    d.transport.self = &destroyed;
    rollnet_session *s = (rollnet_session *)&d; /* anything but NULL */
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);
    assert_null(s);
    assert_int_equal(destroyed, 1); /* the transport was the session's from create on */
}

static void transport_given_to_a_sync_test_is_released_at_create(void **state)
{
    (void)state;
    int destroyed = 0;
    rollnet_session_desc d = synctest_desc(1);
    d.transport.vtable = &counting_vtable;
    d.transport.self = &destroyed;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_int_equal(destroyed, 1);
    rollnet_session_destroy(s);
    assert_int_equal(destroyed, 1);
}

static void check_distance_must_fit_the_prediction_window(void **state)
{
    (void)state;
    rollnet_session_desc d = synctest_desc(4);
    d.max_prediction = 3;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);
    assert_null(s);
    d.check_distance = 3;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    rollnet_session_destroy(s);
    d.check_distance = -1;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);

    /* Zero stands for 1: one frame rolled back every frame. */
    rollnet_session_desc zero = synctest_desc(0);
    st_run r;
    run_open(&r, &zero, 0);
    run_frames_ok(&r, 6);
    rollnet_session_stats st = stats_of(&r);
    assert_int_equal(st.rollbacks, 6);
    assert_int_equal(st.max_rollback_depth, 1);
    run_close(&r);
}

/* Every input is local, so nothing waits for confirmation: each frame's
 * record is out by the end of its own list, and an episode is complete as
 * soon as its last frame has run. */
static void every_frame_is_confirmed_by_the_end_of_its_own_list(void **state)
{
    (void)state;
    const int32_t steps = 5;
    rollnet_session_desc d = synctest_desc(3);
    st_run r;
    run_open(&r, &d, steps);
    r.game->write_records = true;
    for (int32_t f = 0; f < 4 * steps; f++) {
        assert_int_equal(run_frame(&r), ROLLNET_ERR_OK);
        rollnet_record rec;
        assert_true(rollnet_session_next_record(r.s, &rec));
        assert_int_equal(rec.frame, f);
        assert_int_equal(rec.episode, f / steps);
        assert_false(rollnet_session_next_record(r.s, &rec));
        rollnet_event ev;
        bool ends = f % steps == steps - 1;
        assert_int_equal(next_event_of_type(r.s, ROLLNET_EVENT_EPISODE_COMPLETE, &ev), ends);
        if (ends) {
            assert_int_equal(ev.u.episode.episode, f / steps);
            assert_int_equal(ev.u.episode.end_frame, f);
        }
        assert_int_equal(stats_of(&r).confirmed_frame, f);
    }
    run_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deterministic_game_passes_at_every_check_distance),
        cmocka_unit_test(hidden_nondeterminism_is_caught_as_a_desync),
        cmocka_unit_test(rotating_the_distance_catches_a_hidden_period),
        cmocka_unit_test(no_desync_to_report_before_one_is_found),
        cmocka_unit_test(loading_and_peer_stats_are_for_p2p_sessions_only),
        cmocka_unit_test(remote_player_is_refused_at_create),
        cmocka_unit_test(transport_given_to_a_sync_test_is_released_at_create),
        cmocka_unit_test(check_distance_must_fit_the_prediction_window),
        cmocka_unit_test(every_frame_is_confirmed_by_the_end_of_its_own_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
