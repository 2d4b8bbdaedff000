#define _DEFAULT_SOURCE
/* Replays: a session recorded with a replay recorder, then played back by a
 * replay session through the same frame loop, writes the original export
 * byte for byte, for both session kinds (P2P over the simulator, and the sync
 * test). A game that makes something else of the recorded inputs is stopped
 * with a DESYNC at the first frame that differs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "p2p_fixture.h"
#include "rollnet/rollnet_replay.h"

#define MAX_STEPS 90

typedef struct out_files {
    char csv[512];
    char replay[512];
    rollnet_exporter *exp;
    rollnet_replay_recorder *rec;
    int32_t records;
} out_files;

static char tmp_dir[256];

static void make_tmp_dir(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/rollnet_itest_replay_XXXXXX");
    assert_non_null(mkdtemp(tmp_dir));
}

static void open_export(out_files *o, const char *name, int num_players)
{
    static const char *cols[3 * ROLLNET_MAX_PLAYERS + 4];
    snprintf(o->csv, sizeof(o->csv), "%s/%s.csv", tmp_dir, name);
    rollnet_export_desc ed;
    memset(&ed, 0, sizeof(ed));
    ed.csv_path = o->csv;
    ed.num_columns = tg_row_columns(num_players, cols);
    ed.columns = cols;
    ed.num_players = num_players;
    ed.input_size = 1;
    assert_int_equal(rollnet_exporter_open(&ed, NULL, &o->exp), ROLLNET_ERR_OK);
}

static void open_recorder(out_files *o, const char *name, rollnet_session *s)
{
    snprintf(o->replay, sizeof(o->replay), "%s/%s.rnr", tmp_dir, name);
    rollnet_replay_recorder_desc rd;
    memset(&rd, 0, sizeof(rd));
    rd.path = o->replay;
    assert_int_equal(rollnet_replay_recorder_open(&rd, s, &o->rec), ROLLNET_ERR_OK);
}

/* Every confirmed record into the export (and the replay, when recording). */
static void drain(rollnet_session *s, out_files *o)
{
    rollnet_record r;
    while (rollnet_session_next_record(s, &r)) {
        assert_int_equal(r.frame, o->records);
        assert_int_equal(rollnet_exporter_write(o->exp, &r), ROLLNET_ERR_OK);
        if (o->rec) {
            assert_int_equal(rollnet_replay_recorder_write(o->rec, &r), ROLLNET_ERR_OK);
        }
        o->records++;
    }
}

static void close_files(out_files *o)
{
    assert_int_equal(rollnet_exporter_close(o->exp), ROLLNET_ERR_OK);
    o->exp = NULL;
    assert_int_equal(rollnet_replay_recorder_close(o->rec), ROLLNET_ERR_OK);
    o->rec = NULL;
}

static void assert_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb");
    FILE *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    long n = 0;
    for (;; n++) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) {
            fail_msg("%s and %s differ at byte %ld", a, b, n);
        }
        if (ca == EOF) {
            break;
        }
    }
    assert_true(n > 100);
    fclose(fa);
    fclose(fb);
}

/* Play `replay_path` back with a fresh game, exporting to `name`. Returns
 * the DESYNC frame, or -1 when the playback reached FINISHED. */
static int32_t play_back(const char *replay_path, const char *name, tg_game *g, out_files *o)
{
    char why[256];
    rollnet_replay_desc rd;
    memset(&rd, 0, sizeof(rd));
    rd.path = replay_path;
    rollnet_replay *rp = NULL;
    rollnet_error err = rollnet_replay_open(&rd, &rp, why, sizeof(why));
    if (err != ROLLNET_ERR_OK) {
        fail_msg("%s: %s", replay_path, why);
    }
    rollnet_replay_info info;
    assert_int_equal(rollnet_replay_get_info(rp, &info), ROLLNET_ERR_OK);
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_replay_session_create(rp, NULL, &s), ROLLNET_ERR_OK);
    memset(o, 0, sizeof(*o));
    open_export(o, name, info.num_players);
    uint8_t in = 0;
    assert_int_equal(rollnet_session_add_local_input(s, 0, &in, 1), ROLLNET_ERR_INVALID_PLAYER);
    int32_t desync = -1;
    bool finished = false;
    for (int t = 0; t < 100000 && !finished && desync < 0; t++) {
        assert_int_equal(rollnet_session_poll(s, 1000 + (uint64_t)t), ROLLNET_ERR_OK);
        const rollnet_request *reqs;
        int n = 0;
        err = rollnet_session_advance(s, &reqs, &n);
        if (err == ROLLNET_ERR_OK) {
            for (int i = 0; i < n; i++) {
                assert_false(reqs[i].flags & ROLLNET_REQUEST_REPLAY); /* nothing rolls back */
            }
            err = tg_execute(g, s, reqs, n);
        } else {
            assert_int_equal(err, ROLLNET_ERR_FINISHED);
        }
        drain(s, o);
        rollnet_event ev;
        while (rollnet_session_next_event(s, &ev)) {
            if (ev.type == ROLLNET_EVENT_FINISHED) {
                assert_int_equal(ev.u.finish.end_frame, info.num_frames);
                finished = true;
            } else if (ev.type == ROLLNET_EVENT_DESYNC) {
                desync = ev.u.desync.frame;
            }
        }
        if (desync >= 0) {
            assert_int_equal(err, ROLLNET_ERR_DESYNC);
        } else {
            assert_true(err == ROLLNET_ERR_OK || err == ROLLNET_ERR_FINISHED);
        }
    }
    if (desync < 0) {
        assert_true(finished);
        assert_int_equal(o->records, info.num_frames);
    }
    assert_int_equal(rollnet_exporter_close(o->exp), ROLLNET_ERR_OK);
    o->exp = NULL;
    rollnet_session_destroy(s);
    rollnet_replay_close(rp);
    return desync;
}

/* ---- P2P ---------------------------------------------------------------- */

static void finish_after_second_episode(const rollnet_event *ev, void *user_data)
{
    harness_peer *hp = user_data;
    if (ev->type == ROLLNET_EVENT_EPISODE_COMPLETE && ev->u.episode.episode == 1) {
        assert_int_equal(rollnet_session_finish(hp->session), ROLLNET_ERR_OK);
    }
}

/* Two peers over a lossy, jittery link (rollbacks on both sides), each
 * recording: both replays are the same bytes, and playing one back writes
 * the export both peers wrote. */
static void test_p2p_replay_reproduces_the_export(void **state)
{
    (void)state;
    make_tmp_dir();
    fx_opts opt = {.num_players = 2, .input_delay = 1, .seed = 41, .max_steps = MAX_STEPS,
                   .write_records = true, .blob_size = 40};
    opt.sim[0] = fx_lossy();
    opt.sim[1] = fx_lossy();
    fx f;
    fx_init(&f, &opt);
    out_files o[2];
    memset(o, 0, sizeof(o));
    for (int i = 0; i < 2; i++) {
        f.g[i].record_rows = true;
        f.no_read[i] = true; /* the records are drained here, into the files */
        f.hp[i].event_fn = finish_after_second_episode;
        f.hp[i].event_user_data = &f.hp[i];
        char name[16];
        snprintf(name, sizeof(name), "node%d", i);
        open_export(&o[i], name, 2);
        open_recorder(&o[i], name, f.s[i]);
    }
    for (int t = 0; t < 4000 && (fx_finished_end(&f, 0) < 0 || fx_finished_end(&f, 1) < 0); t++) {
        fx_run(&f, 1);
        drain(f.s[0], &o[0]);
        drain(f.s[1], &o[1]);
    }
    assert_int_equal(fx_finished_end(&f, 0), 2 * MAX_STEPS);
    assert_true(fx_stats(&f, 0).rollbacks + fx_stats(&f, 1).rollbacks > 0);
    for (int i = 0; i < 2; i++) {
        close_files(&o[i]);
        assert_int_equal(o[i].records, 2 * MAX_STEPS);
    }
    assert_same_file(o[0].replay, o[1].replay);
    assert_same_file(o[0].csv, o[1].csv);

    tg_game g;
    assert_true(tg_init(&g, 999, 2, 1, 40, MAX_STEPS)); /* another seed: the replay's state wins */
    g.write_records = true;
    g.record_rows = true;
    out_files play;
    assert_int_equal(play_back(o[1].replay, "played", &g, &play), -1);
    assert_same_file(o[0].csv, play.csv);
    char a[600], b[600];
    snprintf(a, sizeof(a), "%s.msgpack", o[0].csv);
    snprintf(b, sizeof(b), "%s.msgpack", play.csv);
    assert_same_file(a, b);
    assert_int_equal(tg_state_hash(&g), tg_state_hash(&f.g[0]));
    fx_free(&f);
}

/* ---- Sync test ---------------------------------------------------------- */

/* A sync test (every frame rolled back 3 frames) recorded, cut short in the
 * middle of an episode, then played back: the same export, and the same
 * final state. */
static void test_synctest_replay_reproduces_the_export(void **state)
{
    (void)state;
    make_tmp_dir();
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 3;
    d.check_distance = 3;
    d.seed = 7;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    tg_game g;
    assert_true(tg_init(&g, 7, 3, 1, 16, MAX_STEPS));
    g.write_records = true;
    g.record_rows = true;
    out_files o;
    memset(&o, 0, sizeof(o));
    open_export(&o, "synctest", 3);
    open_recorder(&o, "synctest", s);
    tg_bot bots[3];
    for (int p = 0; p < 3; p++) {
        tg_bot_init(&bots[p], 100 + (uint64_t)p, 1);
    }
    for (int frame = 0; frame < 2 * MAX_STEPS + 37; frame++) {
        for (int p = 0; p < 3; p++) {
            assert_int_equal(rollnet_session_add_local_input(s, p, tg_bot_next(&bots[p]), 1),
                             ROLLNET_ERR_OK);
        }
        const rollnet_request *reqs;
        int n = 0;
        assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
        assert_int_equal(tg_execute(&g, s, reqs, n), ROLLNET_ERR_OK);
        drain(s, &o);
    }
    assert_int_equal(rollnet_session_poll(s, 1), ROLLNET_ERR_OK);
    drain(s, &o);
    assert_true(o.records >= 2 * MAX_STEPS + 30);
    int32_t recorded = o.records;
    close_files(&o);
    uint64_t straight = tg_state_hash(&g);
    rollnet_session_destroy(s);

    tg_game h;
    assert_true(tg_init(&h, 7, 3, 1, 16, MAX_STEPS));
    h.write_records = true;
    h.record_rows = true;
    out_files play;
    assert_int_equal(play_back(o.replay, "synctest_played", &h, &play), -1);
    assert_int_equal(play.records, recorded);
    assert_same_file(o.csv, play.csv);
    /* The recording stops at the last confirmed frame: the playback's game
     * is where the straight run was when that frame ran. */
    assert_int_equal(h.frame, recorded);
    (void)straight;
}

/* The game played back ends episodes elsewhere (another episode length):
 * the playback stops at the first such frame with a DESYNC, and says so. */
static void test_playback_of_another_game_stops_at_the_first_differing_frame(void **state)
{
    (void)state;
    make_tmp_dir();
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 2;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    tg_game g;
    assert_true(tg_init(&g, 3, 2, 1, 0, 50));
    g.write_records = true;
    g.record_rows = true;
    out_files o;
    memset(&o, 0, sizeof(o));
    open_recorder(&o, "short", s);
    tg_bot bot;
    tg_bot_init(&bot, 5, 1);
    int32_t records = 0;
    for (int frame = 0; frame < 80; frame++) {
        for (int p = 0; p < 2; p++) {
            assert_int_equal(rollnet_session_add_local_input(s, p, tg_bot_next(&bot), 1),
                             ROLLNET_ERR_OK);
        }
        const rollnet_request *reqs;
        int n = 0;
        assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
        assert_int_equal(tg_execute(&g, s, reqs, n), ROLLNET_ERR_OK);
        rollnet_record r;
        while (rollnet_session_next_record(s, &r)) {
            assert_int_equal(rollnet_replay_recorder_write(o.rec, &r), ROLLNET_ERR_OK);
            records++;
        }
    }
    assert_int_equal(rollnet_replay_recorder_close(o.rec), ROLLNET_ERR_OK);
    rollnet_session_destroy(s);
    assert_true(records > 50);

    /* Its episodes last 60 frames, the recording's 50: its records differ
     * from frame 50 on (the step count), so frame 49 already differs in
     * its episode end. */
    tg_game other;
    assert_true(tg_init(&other, 3, 2, 1, 0, 60));
    other.write_records = true;
    other.record_rows = true;
    out_files play;
    assert_int_equal(play_back(o.replay, "other", &other, &play), 49);
}

/* rollnet_session_create cannot make a replay session: it needs a file. */
static void test_session_create_refuses_the_replay_kind(void **state)
{
    (void)state;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_REPLAY;
    rollnet_session *s = (rollnet_session *)&d;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);
    assert_null(s);
}

/* A recorder needs the state of frame 0: opened after the first advance,
 * it is refused. */
static void test_recorder_opened_after_the_first_advance_is_refused(void **state)
{
    (void)state;
    make_tmp_dir();
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    tg_game g;
    assert_true(tg_init(&g, 1, 2, 1, 0, 0));
    uint8_t in = 0;
    for (int p = 0; p < 2; p++) {
        assert_int_equal(rollnet_session_add_local_input(s, p, &in, 1), ROLLNET_ERR_OK);
    }
    const rollnet_request *reqs;
    int n = 0;
    assert_int_equal(rollnet_session_advance(s, &reqs, &n), ROLLNET_ERR_OK);
    assert_int_equal(tg_execute(&g, s, reqs, n), ROLLNET_ERR_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/late.rnr", tmp_dir);
    rollnet_replay_recorder_desc rd = {.path = path};
    rollnet_replay_recorder *rec = (rollnet_replay_recorder *)&rd;
    assert_int_equal(rollnet_replay_recorder_open(&rd, s, &rec), ROLLNET_ERR_NOT_RUNNING);
    assert_null(rec);
    rollnet_session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p2p_replay_reproduces_the_export),
        cmocka_unit_test(test_synctest_replay_reproduces_the_export),
        cmocka_unit_test(test_playback_of_another_game_stops_at_the_first_differing_frame),
        cmocka_unit_test(test_session_create_refuses_the_replay_kind),
        cmocka_unit_test(test_recorder_opened_after_the_first_advance_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
