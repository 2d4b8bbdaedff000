/* The test game through SYNCTEST sessions: every check distance, 2 and 4
 * players, 1- and 8-byte inputs, seeded bots. A deterministic game must never
 * desync and must end where a straight run without rollnet ends; a game that
 * reads state it never saves must be caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "harness.h"
#include "testgame.h"

#define FRAMES 3000
#define BLOB_SIZE 256
#define GAME_SEED 0x5eed0001u
#define BOT_SEED 77u
#define DUMP_CAP 65536

typedef struct synctest_params {
    int num_players;
    int input_size;
} synctest_params;

typedef struct synctest_run {
    tg_game *game;
    rollnet_session *session;
    harness_peer peer;
    harness_clock clock;
} synctest_run;

static rollnet_session_desc synctest_desc(int num_players, int input_size, int check_distance)
{
    rollnet_session_desc d = {0};
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = num_players;
    d.input_size = input_size;
    d.check_distance = check_distance;
    d.max_prediction = ROLLNET_MAX_PREDICTION;
    return d;
}

static void run_start(synctest_run *run, int num_players, int input_size, int check_distance,
                      size_t blob_size, int32_t max_steps)
{
    memset(run, 0, sizeof *run);
    run->game = calloc(1, sizeof *run->game);
    assert_non_null(run->game);
    assert_true(tg_init(run->game, GAME_SEED, num_players, input_size, blob_size, max_steps));
    rollnet_session_desc d = synctest_desc(num_players, input_size, check_distance);
    assert_int_equal(rollnet_session_create(&d, &run->session), ROLLNET_ERR_OK);
    assert_non_null(run->session);
    harness_peer_init(&run->peer, run->session, run->game, &d, BOT_SEED);
    harness_clock_init(&run->clock, 1000, 60);
}

static void run_end(synctest_run *run)
{
    rollnet_session_destroy(run->session);
    free(run->game);
    run->session = NULL;
    run->game = NULL;
}

/* Tick until `frames` frames have run or a tick fails; returns the failure or OK. */
static rollnet_error run_frames(synctest_run *run, uint64_t frames)
{
    uint64_t max_ticks = frames * 4 + 100;
    for (uint64_t t = 0; t < max_ticks && run->peer.frames_advanced < frames; t++) {
        rollnet_error err = harness_tick(&run->peer, harness_clock_now(&run->clock));
        harness_clock_tick(&run->clock);
        if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
            return err;
        }
    }
    return ROLLNET_ERR_OK;
}

/* The state a straight run reaches with the same bots, without rollnet. */
static uint64_t straight_run_hash(int num_players, int input_size, uint64_t frames)
{
    tg_game *g = calloc(1, sizeof *g);
    assert_non_null(g);
    assert_true(tg_init(g, GAME_SEED, num_players, input_size, BLOB_SIZE, 0));
    tg_bot bots[ROLLNET_MAX_PLAYERS];
    for (int i = 0; i < num_players; i++) {
        tg_bot_init(&bots[i], harness_bot_seed(BOT_SEED, i), input_size);
    }
    uint8_t inputs[ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE];
    for (uint64_t f = 0; f < frames; f++) {
        for (int i = 0; i < num_players; i++) {
            memcpy(inputs + i * input_size, tg_bot_next(&bots[i]), (size_t)input_size);
        }
        tg_step(g, inputs);
    }
    uint64_t h = tg_state_hash(g);
    free(g);
    return h;
}

/* A sync test with check distance d rolls back d frames after every frame
 * that leaves d frames behind it: after frames d-1..n-1 of a run of n. */
static uint64_t expected_rollbacks(int check_distance, uint64_t frames)
{
    uint64_t d = (uint64_t)check_distance;
    return frames >= d ? frames - d + 1 : 0;
}

static void check_deterministic_run(const synctest_params *p, int check_distance,
                                    uint64_t reference_hash)
{
    synctest_run run;
    run_start(&run, p->num_players, p->input_size, check_distance, BLOB_SIZE, 0);

    assert_int_equal(run_frames(&run, FRAMES), ROLLNET_ERR_OK);
    assert_int_equal(run.peer.frames_advanced, FRAMES);
    assert_int_equal(run.game->frame, FRAMES);

    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(run.session, &st), ROLLNET_ERR_OK);
    uint64_t rollbacks = expected_rollbacks(check_distance, FRAMES);
    assert_int_equal(st.frame, FRAMES);
    assert_true(st.frames_resimulated > 0);
    assert_int_equal(st.rollbacks, rollbacks);
    assert_int_equal(st.frames_resimulated, rollbacks * (uint64_t)check_distance);
    assert_int_equal(st.max_rollback_depth, check_distance);

    /* What the game saw agrees with what the session counted. */
    assert_int_equal(run.game->replayed_advances, st.frames_resimulated);
    assert_int_equal(run.game->replayed_loads, st.rollbacks);
    assert_int_equal(run.game->advances, FRAMES + st.frames_resimulated);
    assert_int_equal(run.game->frame_mismatches, 0);

    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(run.session, &info), ROLLNET_ERR_NO_DESYNC);

    /* Replay is exact: all the loading and replaying ends where a straight run ends. */
    assert_int_equal(tg_state_hash(run.game), reference_hash);
    run_end(&run);
}

static void synctest_never_desyncs_and_matches_straight_run(void **state)
{
    const synctest_params *p = *state;
    if (p->num_players > ROLLNET_MAX_PLAYERS) {
        skip();
    }
    uint64_t reference = straight_run_hash(p->num_players, p->input_size, FRAMES);
    for (int cd = 1; cd <= ROLLNET_MAX_PREDICTION; cd++) {
        check_deterministic_run(p, cd, reference);
    }
}

static void check_nondeterminism_caught(int check_distance)
{
    synctest_run run;
    run_start(&run, 2, 1, check_distance, BLOB_SIZE, 0);
    run.game->nondeterministic = true;

    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(run.session, &info), ROLLNET_ERR_NO_DESYNC);

    rollnet_error err = run_frames(&run, FRAMES);
    assert_int_equal(err, ROLLNET_ERR_DESYNC);
    /* Caught on the first rollback, at the replayed save. */
    assert_true(run.peer.frames_advanced <= (uint64_t)check_distance + 2);
    assert_int_equal(run.game->failed_type, ROLLNET_REQUEST_SAVE);

    assert_int_equal(rollnet_session_desync_info(run.session, &info), ROLLNET_ERR_OK);
    assert_int_equal(info.frame, run.game->failed_frame);
    assert_true(info.frame >= 1);
    assert_true(info.frame <= check_distance + 1);
    assert_true(info.first_checksum != info.second_checksum);

    char *straight = calloc(1, DUMP_CAP);
    char *replay = calloc(1, DUMP_CAP);
    assert_non_null(straight);
    assert_non_null(replay);
    assert_int_equal(rollnet_session_desync_dump(run.session, 0, straight, DUMP_CAP),
                     ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_desync_dump(run.session, 1, replay, DUMP_CAP),
                     ROLLNET_ERR_OK);
    assert_true(strlen(straight) > 0);
    assert_true(strlen(replay) > 0);
    assert_string_not_equal(straight, replay);

    /* A buffer too small for the dump is reported, and still terminated. */
    char tiny[8];
    assert_int_equal(rollnet_session_desync_dump(run.session, 0, tiny, sizeof tiny),
                     ROLLNET_ERR_BUFFER_TOO_SMALL);
    assert_true(strlen(tiny) < sizeof tiny);

    free(straight);
    free(replay);
    run_end(&run);
}

static void synctest_catches_state_the_game_does_not_save(void **state)
{
    (void)state;
    check_nondeterminism_caught(1);
    check_nondeterminism_caught(ROLLNET_MAX_PREDICTION);
}

/* Read record data: {frame, episode, step, ...} as the test game writes it. */
typedef struct record_fields {
    int64_t frame, episode, step;
} record_fields;

static bool record_decode(const rollnet_record *rec, record_fields *out)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    bool ok = msgpack_unpack_next(&u, (const char *)rec->data, rec->size, NULL) ==
                  MSGPACK_UNPACK_SUCCESS &&
              u.data.type == MSGPACK_OBJECT_MAP;
    int found = 0;
    for (uint32_t i = 0; ok && i < u.data.via.map.size; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key;
        const msgpack_object *v = &u.data.via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR) {
            continue;
        }
        int64_t *dst = NULL;
        if (k->via.str.size == 5 && memcmp(k->via.str.ptr, "frame", 5) == 0) {
            dst = &out->frame;
        } else if (k->via.str.size == 7 && memcmp(k->via.str.ptr, "episode", 7) == 0) {
            dst = &out->episode;
        } else if (k->via.str.size == 4 && memcmp(k->via.str.ptr, "step", 4) == 0) {
            dst = &out->step;
        }
        if (!dst) {
            continue;
        }
        if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            *dst = (int64_t)v->via.u64;
        } else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
            *dst = v->via.i64;
        } else {
            ok = false;
        }
        found++;
    }
    msgpack_unpacked_destroy(&u);
    return ok && found == 3;
}

static void check_episodes_at_distance(int distance)
{
    const int32_t steps = 100;
    const uint64_t frames = 1000;
    synctest_run run;
    run_start(&run, 2, 1, distance, BLOB_SIZE, steps);
    run.game->write_records = true;

    int32_t next_frame = 0;
    uint64_t episode_ends = 0;
    uint64_t max_ticks = frames * 4 + 100;
    for (uint64_t t = 0; t < max_ticks && next_frame < (int32_t)frames; t++) {
        rollnet_error err = harness_tick(&run.peer, harness_clock_now(&run.clock));
        harness_clock_tick(&run.clock);
        if (!harness_is_skip(err)) {
            assert_int_equal(err, ROLLNET_ERR_OK);
        }
        rollnet_record rec;
        while (rollnet_session_next_record(run.session, &rec)) {
            /* Every frame once, in order; episode and step derive from the
             * frame, not from how often it was replayed. */
            assert_int_equal(rec.frame, next_frame);
            assert_int_equal(rec.episode, next_frame / steps);
            assert_int_equal(rec.step, next_frame % steps);
            assert_int_equal(rec.episode_end, next_frame % steps == steps - 1);
            record_fields f;
            assert_true(record_decode(&rec, &f));
            assert_int_equal(f.frame, rec.frame);
            assert_int_equal(f.episode, rec.episode);
            assert_int_equal(f.step, rec.step);
            episode_ends += rec.episode_end;
            next_frame++;
        }
    }
    assert_int_equal(next_frame, (int32_t)frames);
    assert_int_equal(episode_ends, frames / (uint64_t)steps);
    assert_int_equal(run.game->frame_mismatches, 0);

    rollnet_session_stats st;
    assert_int_equal(rollnet_session_stats_get(run.session, &st), ROLLNET_ERR_OK);
    assert_true(st.episode >= (int32_t)(frames / (uint64_t)steps) - 1);
    assert_true(st.frames_resimulated > 0);
    /* Every episode end was confirmed at once: no wait ran into its timeout. */
    assert_int_equal(run.peer.event_counts[ROLLNET_EVENT_EPISODE_TIMEOUT], 0);
    assert_true(run.peer.event_counts[ROLLNET_EVENT_EPISODE_COMPLETE] >=
                frames / (uint64_t)steps - 1);
    assert_true(run.peer.frames_skipped <= frames / (uint64_t)steps);
    run_end(&run);
}

static void synctest_accepts_episode_end_and_records_follow_episodes(void **state)
{
    (void)state;
    check_episodes_at_distance(1);
    check_episodes_at_distance(4);
    check_episodes_at_distance(ROLLNET_MAX_PREDICTION);
}

int main(void)
{
    static synctest_params p2i1 = {2, 1}, p2i8 = {2, 8}, p4i1 = {4, 1}, p4i8 = {4, 8};
#define DETERMINISTIC_CASE(name, params)                                                     \
    {"synctest_" name "_never_desyncs_and_matches_straight_run",                             \
     synctest_never_desyncs_and_matches_straight_run, NULL, NULL, &(params)}
    const struct CMUnitTest tests[] = {
        DETERMINISTIC_CASE("2p_input1", p2i1),
        DETERMINISTIC_CASE("2p_input8", p2i8),
        DETERMINISTIC_CASE("4p_input1", p4i1),
        DETERMINISTIC_CASE("4p_input8", p4i8),
        cmocka_unit_test(synctest_catches_state_the_game_does_not_save),
        cmocka_unit_test(synctest_accepts_episode_end_and_records_follow_episodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
