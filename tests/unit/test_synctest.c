/* The sync-test session (core/synctest_session.c) through the public API:
 * a deterministic game passes at every check distance and stays where a
 * straight run is, a game with hidden state is caught with
 * ROLLNET_ERR_DESYNC (info names the frame, the two dumps differ), calls
 * that belong to P2P sessions say so, and remote players are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* The warnings and errors a session logged. */
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

/* A game whose saved state is deterministic, but whose step flags or record
 * depend on how many ADVANCEs it carried out, which it saves nowhere: the
 * snapshots of a replay agree, only what advance_end is given differs. With
 * check_distance 1 the ADVANCEs run 0, 0 (replay), 1, 1 (replay), ... */
typedef enum hidden_kind {
    FLAG_IN_STRAIGHT_RUN_ONLY, /* the 3rd ADVANCE (frame 1) ends an episode */
    FLAG_IN_REPLAY_ONLY,       /* the 4th ADVANCE (frame 1, replayed) ends an episode */
    RECORD_OF_THE_COUNT        /* the record holds the count */
} hidden_kind;

typedef struct hidden_run {
    rollnet_error err;
    int32_t failed_frame;
    rollnet_request_type failed_type;
} hidden_run;

static hidden_run run_hidden(rollnet_session *s, hidden_kind kind)
{
    int64_t value = 0;
    int advances = 0;
    hidden_run out = {ROLLNET_ERR_OK, -1, ROLLNET_REQUEST_SAVE};
    for (int f = 0; f < 20 && out.err == ROLLNET_ERR_OK; f++) {
        uint8_t in = (uint8_t)(f % 5);
        assert_int_equal(rollnet_session_add_local_input(s, 0, &in, 1), ROLLNET_ERR_OK);
        assert_int_equal(rollnet_session_add_local_input(s, 1, &in, 1), ROLLNET_ERR_OK);
        const rollnet_request *reqs;
        int n = 0;
        assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
        for (int i = 0; i < n && out.err == ROLLNET_ERR_OK; i++) {
            const rollnet_request *r = &reqs[i];
            if (r->type == ROLLNET_REQUEST_SAVE) {
                rollnet_writer *w = rollnet_session_save_begin(s, r);
                rollnet_write_int(w, value);
                out.err = rollnet_session_save_end(s, r);
            } else if (r->type == ROLLNET_REQUEST_LOAD) {
                rollnet_reader *rd = rollnet_session_load_begin(s, r);
                assert_true(rollnet_read_int(rd, &value));
                out.err = rollnet_session_load_end(s, r);
            } else {
                value = value * 3 + r->inputs[0];
                int count = advances++;
                uint32_t flags = 0;
                if ((kind == FLAG_IN_STRAIGHT_RUN_ONLY && count == 2) ||
                    (kind == FLAG_IN_REPLAY_ONLY && count == 3)) {
                    flags = ROLLNET_STEP_EPISODE_END;
                }
                if (kind == RECORD_OF_THE_COUNT) {
                    rollnet_write_int(rollnet_session_record_begin(s, r), count);
                }
                out.err = rollnet_session_advance_end(s, r, flags);
            }
            out.failed_frame = r->frame;
            out.failed_type = r->type;
        }
    }
    return out;
}

static void check_hidden_step_caught(hidden_kind kind, int32_t frame, const char *what)
{
    log_lines log = {0};
    rollnet_session_desc d = synctest_desc(1);
    d.logger.log = keep_log;
    d.logger.user_data = &log;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    hidden_run run = run_hidden(s, kind);
    /* Caught at the replayed ADVANCE's advance_end, before its SAVE. */
    assert_int_equal(run.err, ROLLNET_ERR_DESYNC);
    assert_int_equal(run.failed_type, ROLLNET_REQUEST_ADVANCE);
    assert_int_equal(run.failed_frame, frame);
    char expect[128];
    snprintf(expect, sizeof(expect), "the replay of frame %d differs from the straight run: %s",
             (int)frame, what);
    assert_non_null(strstr(log.error, expect));
    assert_int_equal(log.warnings, 0);

    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(s, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.frame, frame);
    assert_true(info.first_checksum != info.second_checksum);
    rollnet_event ev;
    assert_true(next_event_of_type(s, ROLLNET_EVENT_DESYNC, &ev));
    assert_int_equal(ev.u.desync.frame, frame);
    assert_int_equal(ev.u.desync.local_checksum, info.first_checksum);
    assert_int_equal(ev.u.desync.remote_checksum, info.second_checksum);
    /* No snapshot differed: there are none to dump. */
    char buf[64];
    assert_int_equal(rollnet_session_desync_dump(s, 0, buf, sizeof(buf)),
                     ROLLNET_ERR_NO_SNAPSHOT);
    const rollnet_request *reqs;
    int n;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_DESYNC);
    rollnet_session_destroy(s);
}

/* Regression: only snapshots were compared, so a game whose episode-end flag
 * or record came from unsaved state passed the sync test and lost episode
 * ends (or wrote other records) on every rollback. */
static void a_replay_whose_step_flags_or_record_differ_is_a_desync(void **state)
{
    (void)state;
    check_hidden_step_caught(FLAG_IN_STRAIGHT_RUN_ONLY, 1,
                             "the episode-end flag was set in the straight run, not in the replay");
    check_hidden_step_caught(FLAG_IN_REPLAY_ONLY, 1,
                             "the episode-end flag was set in the replay, not in the straight run");
    check_hidden_step_caught(RECORD_OF_THE_COUNT, 0,
                             "the record differs (1 bytes in both, other content)");
}

/* Regression: a game that skipped advance_end on replays lost every
 * episode end a rollback crossed, in silence. The sync test now stops at the
 * first such frame and says why, after a warning at the first replay. */
static void skipping_advance_end_on_replays_is_warned_and_caught(void **state)
{
    (void)state;
    log_lines log = {0};
    rollnet_session_desc d = synctest_desc(2);
    d.logger.log = keep_log;
    d.logger.user_data = &log;
    st_run r;
    run_open(&r, &d, 3); /* frames 2, 5, 8, ... end episodes */
    uint8_t inputs[PLAYERS] = {0};
    rollnet_error err = ROLLNET_ERR_OK;
    int32_t failed = -1;
    for (int f = 0; f < 10 && err == ROLLNET_ERR_OK; f++) {
        for (int p = 0; p < PLAYERS; p++) {
            assert_int_equal(rollnet_session_add_local_input(r.s, p, &inputs[p], 1),
                             ROLLNET_ERR_OK);
        }
        const rollnet_request *reqs;
        int n;
        assert_int_equal(rollnet_session_advance(r.s, &reqs, &n), ROLLNET_ERR_OK);
        for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
            const rollnet_request *q = &reqs[i];
            if (q->type == ROLLNET_REQUEST_ADVANCE && (q->flags & ROLLNET_REQUEST_REPLAY)) {
                tg_step(r.game, q->inputs); /* and no advance_end */
            } else {
                err = tg_execute(r.game, r.s, q, 1);
                failed = q->frame;
            }
        }
    }
    assert_int_equal(err, ROLLNET_ERR_DESYNC);
    assert_int_equal(failed, 3); /* the SAVE after the replay of frame 2 ended it */
    assert_int_equal(log.warnings, 1);
    assert_non_null(strstr(log.warning, "advance_end was not called for the ADVANCE of frame 0 "
                                        "(a replay): its episode-end flag is lost and its record "
                                        "is empty; call advance_end for every ADVANCE"));
    assert_non_null(strstr(log.error, "the replay of frame 2 differs from the straight run: the "
                                      "episode-end flag was set in the straight run, not in the "
                                      "replay; advance_end was not called for the replay"));
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(r.s, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.frame, 2);
    assert_true(stats_of(&r).advances_unended > 0);
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
        cmocka_unit_test(a_replay_whose_step_flags_or_record_differ_is_a_desync),
        cmocka_unit_test(skipping_advance_end_on_replays_is_warned_and_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
