/* Rejoin: a peer whose process crashed is started again with desc.rejoin
 * (a new nonce, a new game, nothing of the old process) and takes its place
 * in the running session. In the fixture node 0 dials node 1, so a crashed
 * node 1 is found by node 0's reconnect attempts (the rejoin HELLO answers
 * one of them), and a crashed node 0 dials node 1 itself. Both ledgers
 * agree on every frame both hold, before and after the crash. */
#include "rejoin_util.h"
#include "rollnet/rollnet_replay.h"

/* Node `who` crashes at `at` ticks, is started again `down` ticks later;
 * the survivor pauses meanwhile (its frame stays within the prediction
 * window of the last frame it confirmed). */
static int32_t crash_and_rejoin(fx *f, int who, uint64_t at, uint64_t down, int min_rows)
{
    int other = 1 - who;
    fx_run(f, at);
    assert_true(fx_all_running(f));
    fx_crash(f, who);
    fx_run(f, down);
    rollnet_session_stats st = fx_stats(f, other);
    assert_true(st.frame - st.confirmed_frame <= f->opts.input_delay + ROLLNET_MAX_PREDICTION + 1);
    int32_t paused_at = st.frame;
    fx_run(f, 60);
    assert_int_equal(fx_stats(f, other).frame, paused_at); /* paused, not neutral */
    fx_restart(f, who);
    fx_run(f, 900);
    return assert_rejoined(f, other, who, min_rows);
}

static void test_a_crashed_joiner_rejoins_and_the_ledgers_agree(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 301);
    static fx f;
    fx_init(&f, &o);
    int32_t from = crash_and_rejoin(&f, 1, 400, 180, 600);
    assert_true(from > 300);
    fx_free(&f);
}

static void test_a_crashed_host_rejoins_by_dialling(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 302);
    static fx f;
    fx_init(&f, &o);
    crash_and_rejoin(&f, 0, 400, 180, 600);
    fx_free(&f);
}

/* Jitter and loss both ways: the survivor has predictions in flight (a
 * rollback pending) when the rejoin arrives; its state waits for them. */
static void test_a_rejoin_while_rollbacks_are_pending(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 303);
    for (int i = 0; i < 2; i++) {
        o.sim[i].delay_ms = 60;
        o.sim[i].jitter_ms = 30;
        o.sim[i].loss_permille = 100;
    }
    static fx f;
    fx_init(&f, &o);
    crash_and_rejoin(&f, 1, 500, 120, 400);
    assert_true(fx_stats(&f, 0).rollbacks > 0);
    fx_free(&f);
}

/* Episodes of 100 steps: the crash falls just before an episode's end and
 * the rejoiner's records carry on the same episode numbers. */
static void test_a_rejoin_across_an_episode_boundary(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 304);
    o.max_steps = 100;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 280);
    int32_t frame = fx_stats(&f, 1).frame;
    crash_and_rejoin(&f, 1, (uint64_t)(300 - frame % 100 > 0 ? 300 - frame % 100 : 1), 200,
                     500);
    const fx_records *r = f.rec[1];
    assert_true(r->episode[r->count - 1] > r->episode[0]); /* it went past episode ends */
    fx_free(&f);
}

static void test_a_rejoin_in_a_private_session(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 305);
    o.key[0] = "invite-99";
    o.key[1] = "invite-99";
    static fx f;
    fx_init(&f, &o);
    crash_and_rejoin(&f, 1, 300, 120, 500);
    fx_free(&f);
}

/* A rejoin with nothing to rejoin: the session is refused, naming rejoin. */
static void test_a_rejoin_to_a_session_that_never_ran_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 306);
    o.rejoin[1] = true;
    static fx f;
    fx_init(&f, &o);
    tick_until_event(&f, 1, ROLLNET_EVENT_REFUSED, 300);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_REJOIN);
    assert_string_equal(rollnet_param_string(ROLLNET_PARAM_REJOIN), "rejoin");
    assert_int_equal(rollnet_session_poll(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_REFUSED);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_RUNNING], 0);
    fx_free(&f);
}

/* Past the window the place is given up (CONNECTION_LOST), and a rejoin
 * after that is refused. */
static void test_a_rejoin_after_the_window_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 307);
    o.reconnect_timeout_ms = 2000;
    o.rejoin_timeout_ms = 4000;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 0); /* node 0 dials: started again, it comes to node 1 */
    /* The side that waits counts from when the other side must have
     * noticed the loss: disconnect_timeout_ms (5 s) after it last heard. */
    fx_run(&f, 8 * 60);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0); /* rejoin window */
    fx_run(&f, 2 * 60);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_CONNECTION_LOST);
    fx_restart(&f, 0);
    tick_until_event(&f, 0, ROLLNET_EVENT_REFUSED, 600);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_REJOIN);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 0);
    fx_free(&f);
}

/* The state is larger than the rejoiner's snapshot_capacity: refused with
 * STATE_INVALID, nothing recorded; the survivor goes on waiting. */
static void test_an_oversize_state_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 308);
    o.blob_size = 3000;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 1);
    fx_run(&f, 60);
    f.opts.snapshot_capacity = 1024; /* the restarted process's */
    fx_restart(&f, 1);
    tick_until_event(&f, 1, ROLLNET_EVENT_DISCONNECTED, 600);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_STATE_INVALID);
    assert_int_equal(rollnet_session_poll(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_STATE_INVALID);
    assert_int_equal(f.rec[1]->count, 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 0);
    fx_free(&f);
}

/* A process that claims to rejoin in the place of a peer that plays (it
 * is heard from) is refused, and the game goes on as if nothing happened:
 * in a public session that is what keeps a stranger from taking a seat. */
static void test_a_rejoin_claiming_a_playing_peers_seat_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 309);
    o.extra_nodes = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.num_players = 2;
    d.seed = o.seed;
    d.players[0].kind = ROLLNET_PLAYER_LOCAL; /* node 0's seat */
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.transport = rollnet_memnet_transport(f.net, 2);
    d.rejoin = true;
    rollnet_session *x = NULL;
    assert_int_equal(rollnet_session_create(&d, &x), ROLLNET_ERR_OK);
    rollnet_error xe = ROLLNET_ERR_OK;
    bool refused = false;
    for (int t = 0; t < 300 && xe == ROLLNET_ERR_OK; t++) {
        xe = rollnet_session_poll(x, harness_clock_now(&f.clock));
        rollnet_event ev;
        while (rollnet_session_next_event(x, &ev)) {
            refused = refused || (ev.type == ROLLNET_EVENT_REFUSED &&
                                  ev.u.refused.param == ROLLNET_PARAM_REJOIN);
            assert_int_not_equal(ev.type, ROLLNET_EVENT_REJOINED);
        }
        fx_run(&f, 1);
    }
    assert_true(refused);
    assert_int_equal(xe, ROLLNET_ERR_REFUSED);
    rollnet_session_destroy(x);
    fx_run(&f, 300);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REJOINED], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
    }
    assert_true(fx_stats(&f, 1).handshakes_refused >= 1);
    fx_assert_ledgers_agree(&f, 400);
    fx_free(&f);
}

/* A public session: a claim on the seat of a player who is only silent (a
 * lag spike, its process paused 2 s) waits; the player is heard again and
 * keeps its seat, the claimer is refused. */
static void test_a_rejoin_claiming_a_lagging_peers_seat_waits_and_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 312);
    o.extra_nodes = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    f.paused[0] = true; /* node 0 (player 0) lags: silent, not lost */
    fx_run(&f, 60);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_INTERRUPTED], 1);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.num_players = 2;
    d.seed = o.seed;
    d.players[0].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.transport = rollnet_memnet_transport(f.net, 2);
    d.rejoin = true;
    rollnet_session *x = NULL;
    assert_int_equal(rollnet_session_create(&d, &x), ROLLNET_ERR_OK);
    rollnet_error xe = ROLLNET_ERR_OK;
    bool refused = false, rejoined = false;
    int refused_at = -1;
    for (int t = 0; t < 600 && xe == ROLLNET_ERR_OK; t++) {
        if (t == 60) {
            f.paused[0] = false; /* heard again after 2 s in all */
        }
        xe = rollnet_session_poll(x, harness_clock_now(&f.clock));
        rollnet_event ev;
        while (rollnet_session_next_event(x, &ev)) {
            if (ev.type == ROLLNET_EVENT_REFUSED && ev.u.refused.param == ROLLNET_PARAM_REJOIN) {
                refused = true;
                refused_at = t;
            }
            rejoined = rejoined || ev.type == ROLLNET_EVENT_REJOINED;
        }
        fx_run(&f, 1);
    }
    assert_false(f.paused[0]);
    assert_false(rejoined);
    assert_true(refused);
    assert_true(refused_at >= 60); /* it waited while the seat's peer was silent */
    assert_int_equal(xe, ROLLNET_ERR_REFUSED);
    rollnet_session_destroy(x);
    fx_run(&f, 300);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REJOINED], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    }
    assert_true(fx_stats(&f, 1).handshakes_refused >= 1);
    fx_assert_ledgers_agree(&f, 400);
    fx_free(&f);
}

/* A decorator over the survivor's transport that, once armed, flips a byte
 * near the end of every large reliable message (the state's chunks). */
typedef struct corrupter {
    rollnet_transport inner;
    bool armed;
    int flipped;
} corrupter;

static corrupter g_corrupt;

static rollnet_error c_connect(void *self, const char *address, uint64_t now, int *out)
{
    corrupter *c = self;
    return c->inner.vtable->connect(c->inner.self, address, now, out);
}

static rollnet_error c_send(void *self, int peer, rollnet_channel ch, const void *data, size_t size,
                            uint64_t now)
{
    corrupter *c = self;
    uint8_t buf[2048];
    if (c->armed && ch == ROLLNET_CHANNEL_RELIABLE && size > 600 && size <= sizeof buf) {
        memcpy(buf, data, size);
        buf[size - 8] ^= 0x5a;
        c->flipped++;
        data = buf;
    }
    return c->inner.vtable->send(c->inner.self, peer, ch, data, size, now);
}

static rollnet_error c_receive(void *self, uint64_t now, rollnet_transport_event *out)
{
    corrupter *c = self;
    return c->inner.vtable->receive(c->inner.self, now, out);
}

static void c_disconnect(void *self, int peer)
{
    corrupter *c = self;
    c->inner.vtable->disconnect(c->inner.self, peer);
}

static void c_set_timeout(void *self, int peer, uint32_t ms)
{
    corrupter *c = self;
    if (c->inner.vtable->set_timeout) {
        c->inner.vtable->set_timeout(c->inner.self, peer, ms);
    }
}

static rollnet_error c_peer_info(void *self, int peer, rollnet_transport_peer_info *out)
{
    corrupter *c = self;
    return c->inner.vtable->peer_info(c->inner.self, peer, out);
}

static void c_flush(void *self, uint64_t now)
{
    corrupter *c = self;
    if (c->inner.vtable->flush) {
        c->inner.vtable->flush(c->inner.self, now);
    }
}

static void c_destroy(void *self)
{
    corrupter *c = self;
    rollnet_transport_destroy(&c->inner);
}

static const rollnet_transport_vtable c_vtable = {
    .destroy = c_destroy,
    .connect = c_connect,
    .send = c_send,
    .receive = c_receive,
    .disconnect = c_disconnect,
    .set_timeout = c_set_timeout,
    .peer_info = c_peer_info,
    .flush = c_flush,
};

static void wrap_survivor(int node, rollnet_transport *t)
{
    if (node != 0) {
        return;
    }
    memset(&g_corrupt, 0, sizeof g_corrupt);
    g_corrupt.inner = *t;
    t->vtable = &c_vtable;
    t->self = &g_corrupt;
}

/* The state arrives corrupt (a byte of a chunk flipped on the way): the
 * checksum refuses it, the rejoiner stops with STATE_INVALID and records
 * nothing; the survivor keeps the place. */
static void test_a_corrupt_state_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 313);
    o.blob_size = 3000; /* chunks of 1 KiB */
    o.wrap = wrap_survivor;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 1);
    fx_run(&f, 60);
    g_corrupt.armed = true;
    fx_restart(&f, 1);
    tick_until_event(&f, 1, ROLLNET_EVENT_DISCONNECTED, 900);
    assert_true(g_corrupt.flipped >= 1);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.reason,
                     ROLLNET_DISCONNECT_STATE_INVALID);
    assert_int_equal(rollnet_session_poll(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_STATE_INVALID);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.rec[1]->count, 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    /* With the transport healed, a restart rejoins. */
    g_corrupt.armed = false;
    fx_crash(&f, 1);
    fx_restart(&f, 1);
    fx_run(&f, 900);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    fx_free(&f);
}

/* The last error line a session's desc check logged. */
static char desc_log[256];
static void keep_desc_log(rollnet_log_level level, const char *msg, void *user_data)
{
    (void)user_data;
    if (level == ROLLNET_LOG_ERROR) {
        snprintf(desc_log, sizeof desc_log, "%s", msg);
    }
}

/* Rejoin is for any number of players now (three or more agree on the lost
 * peer's frames first); it still needs reconnection, and a session that
 * may start from a received state still cannot be recorded. */
static void test_rejoin_with_three_players_is_created_but_needs_reconnection(void **state)
{
    (void)state;
    rollnet_memnet *net = rollnet_memnet_create(3, NULL);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.num_players = 3;
    d.players[0].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1].address = "mem:1";
    d.players[2].kind = ROLLNET_PLAYER_REMOTE;
    d.players[2].address = "mem:2";
    d.logger.log = keep_desc_log;
    d.rejoin = true;
    d.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF;
    d.transport = rollnet_memnet_transport(net, 0);
    rollnet_session *s = NULL;
    desc_log[0] = '\0';
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_INVALID_DESC);
    assert_null(s);
    assert_non_null(strstr(desc_log, "desc.rejoin"));
    /* With reconnection: created; a recording, which starts at frame 0, is
     * not for a session that starts from a received state. */
    d.reconnect_timeout_ms = 0;
    d.transport = rollnet_memnet_transport(net, 0);
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    assert_non_null(s);
    rollnet_replay_recorder_desc rd;
    memset(&rd, 0, sizeof rd);
    rd.path = "/tmp/rollnet-rejoin-never-written.replay";
    rollnet_replay_recorder *rec = NULL;
    assert_int_equal(rollnet_replay_recorder_open(&rd, s, &rec), ROLLNET_ERR_WRONG_SESSION_KIND);
    assert_null(rec);
    rollnet_session_destroy(s);
    rollnet_memnet_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_crashed_joiner_rejoins_and_the_ledgers_agree),
        cmocka_unit_test(test_a_crashed_host_rejoins_by_dialling),
        cmocka_unit_test(test_a_rejoin_while_rollbacks_are_pending),
        cmocka_unit_test(test_a_rejoin_across_an_episode_boundary),
        cmocka_unit_test(test_a_rejoin_in_a_private_session),
        cmocka_unit_test(test_a_rejoin_to_a_session_that_never_ran_is_refused),
        cmocka_unit_test(test_a_rejoin_after_the_window_is_refused),
        cmocka_unit_test(test_an_oversize_state_is_refused),
        cmocka_unit_test(test_a_corrupt_state_is_refused),
        cmocka_unit_test(test_a_rejoin_claiming_a_playing_peers_seat_is_refused),
        cmocka_unit_test(test_a_rejoin_claiming_a_lagging_peers_seat_waits_and_is_refused),
        cmocka_unit_test(test_rejoin_with_three_players_is_created_but_needs_reconnection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
