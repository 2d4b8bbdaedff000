/* Rejoin and the session's other paths: finishing, spectators, loading on
 * either side, desync detection, a survivor that dies meanwhile, the events
 * and stats the game sees, the pace after a rejoin. */
#include "rejoin_util.h"

/* Tick until every node has raised FINISHED (or max_ticks). */
static void run_until_finished(fx *f, uint64_t max_ticks)
{
    for (uint64_t t = 0; t < max_ticks; t++) {
        if (fx_finished_end(f, 0) >= 0 && fx_finished_end(f, 1) >= 0) {
            return;
        }
        fx_run(f, 1);
    }
    fail_msg("not finished within %llu ticks (ends %d, %d)", (unsigned long long)max_ticks,
             fx_finished_end(f, 0), fx_finished_end(f, 1));
}

/* The survivor finishes while its peer is down: the rejoined process learns
 * the end with its state, and both ledgers end on the same frame. */
static void finish_while_down(uint64_t seed, int who)
{
    fx_opts o;
    base_opts(&o, seed);
    o.input_delay = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, who);
    fx_run(&f, 60);
    assert_int_equal(rollnet_session_finish(f.s[1 - who]), ROLLNET_ERR_OK);
    fx_run(&f, 60);
    fx_restart(&f, who);
    run_until_finished(&f, 1200);
    int32_t end = fx_finished_end(&f, 0);
    assert_int_equal(fx_finished_end(&f, 1), end);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    const fx_records *a = f.rec[1 - who], *b = f.rec[who];
    assert_int_equal(a->frame[a->count - 1], end - 1);
    assert_true(b->count > 0);
    assert_int_equal(b->frame[b->count - 1], end - 1);
    assert_int_equal(agree_by_frame(a, b), b->count);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_joiner_rejoins_a_survivor_that_finished(void **state) { (void)state; finish_while_down(460, 1); }
static void test_a_host_rejoins_a_survivor_that_finished(void **state) { (void)state; finish_while_down(461, 0); }

/* The rejoined process finishes at once. */
static void test_a_rejoined_process_finishes_at_once(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 462);
    o.input_delay = 2;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 1);
    fx_run(&f, 60);
    fx_restart(&f, 1);
    for (int t = 0; t < 600 && f.hp[1].event_counts[ROLLNET_EVENT_RUNNING] == 0; t++) {
        fx_run(&f, 1);
    }
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(rollnet_session_finish(f.s[1]), ROLLNET_ERR_OK);
    run_until_finished(&f, 1200);
    int32_t end = fx_finished_end(&f, 0);
    assert_int_equal(fx_finished_end(&f, 1), end);
    const fx_records *a = f.rec[0], *b = f.rec[1];
    assert_int_equal(a->frame[a->count - 1], end - 1);
    if (b->count > 0) {
        assert_int_equal(b->frame[b->count - 1], end - 1);
        assert_int_equal(agree_by_frame(a, b), b->count);
    }
    assert_clean(&f);
    fx_free(&f);
}

/* A spectator of node 1, node 2 of the memnet: its records hashed as the
 * fixture hashes the players'. */
typedef struct spect {
    rollnet_session *s;
    tg_game g;
    harness_peer hp;
    fx_records rec;
} spect;

static void spect_open(fx *f, spect *sp)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_SPECTATOR;
    d.num_players = 2;
    d.seed = f->opts.seed;
    d.spectate_address = "mem:1";
    d.players[0].kind = d.players[1].kind = ROLLNET_PLAYER_REMOTE;
    d.transport = rollnet_memnet_transport(f->net, 2);
    d.nonce = 0x3000u;
    d.checksum_interval = f->opts.checksum_interval;
    assert_true(tg_init(&sp->g, f->opts.seed, 2, 1, 0, 0));
    sp->g.write_records = true;
    assert_int_equal(rollnet_session_create(&d, &sp->s), ROLLNET_ERR_OK);
    harness_peer_init(&sp->hp, sp->s, &sp->g, &d, 5);
}

static void spect_tick(fx *f, spect *sp)
{
    rollnet_error err = harness_tick(&sp->hp, harness_clock_now(&f->clock));
    if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
        fail_msg("spectator: %s", rollnet_error_string(err));
    }
    rollnet_record r;
    fx_records *rec = &sp->rec;
    while (rollnet_session_next_record(sp->s, &r)) {
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        XXH64_update(st, &r.frame, sizeof(r.frame));
        XXH64_update(st, &r.episode, sizeof(r.episode));
        XXH64_update(st, &r.step, sizeof(r.step));
        XXH64_update(st, &r.disconnected, sizeof(r.disconnected)); /* as fx_record_hash */
        XXH64_update(st, r.inputs, 2);
        if (r.size) {
            XXH64_update(st, r.data, r.size);
        }
        assert_true(rec->count < FX_MAX_RECORDS);
        if (rec->count > 0) {
            assert_int_equal(r.frame, rec->frame[rec->count - 1] + 1);
        }
        rec->frame[rec->count] = r.frame;
        rec->hash[rec->count] = XXH64_digest(st);
        XXH64_freeState(st);
        rec->count++;
    }
}

static void run_with(fx *f, spect *sp, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        spect_tick(f, sp);
        fx_run(f, 1);
    }
}

/* Node 1 (it accepts) has a spectator; node 0 crashes and rejoins. The
 * spectator sees nothing of it but a pause: its records equal node 1's. */
static void test_a_spectator_of_the_survivor_watches_through_a_rejoin(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 470);
    o.extra_nodes = 1;
    o.max_spectators = 2;
    o.checksum_interval = 1;
    static fx f;
    static spect sp;
    memset(&sp, 0, sizeof sp);
    fx_init(&f, &o);
    spect_open(&f, &sp);
    run_with(&f, &sp, 400);
    assert_true(sp.rec.count > 100);
    fx_crash(&f, 0);
    run_with(&f, &sp, 100);
    fx_restart(&f, 0);
    run_with(&f, &sp, 900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[1], f.rec[0]) > 600);
    assert_true(sp.rec.count > 1000);
    assert_int_equal(agree_by_frame(f.rec[1], &sp.rec), sp.rec.count);
    assert_int_equal(sp.hp.event_counts[ROLLNET_EVENT_DESYNC], 0);
    assert_int_equal(sp.hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_clean(&f);
    rollnet_session_destroy(sp.s);
    fx_free(&f);
}

/* The peer crashes while it loads (a level, say): the survivor saw LOADING.
 * The new process does not load: once it has rejoined, the survivor says
 * so (LOADING_ENDED, the peer's stats no longer loading). */
static void test_a_peer_that_crashed_while_loading_is_not_loading_after_its_rejoin(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 480);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    assert_int_equal(rollnet_session_begin_loading(f.s[1], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    f.paused[1] = true; /* it loads: it polls, its game does not advance */
    for (int t = 0; t < 30; t++) {
        rollnet_session_poll(f.s[1], harness_clock_now(&f.clock));
        fx_run(&f, 1);
    }
    f.paused[1] = false;
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING], 1);
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(f.s[0], 1, &ps), ROLLNET_ERR_OK);
    assert_true(ps.loading);
    fx_crash(&f, 1);
    fx_run(&f, 100);
    fx_restart(&f, 1);
    fx_run(&f, 900);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_int_equal(rollnet_session_peer_stats(f.s[0], 1, &ps), ROLLNET_ERR_OK);
    assert_false(ps.loading);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_LOADING_ENDED], 1);
    assert_clean(&f);
    fx_free(&f);
}

/* After a rejoin, a real divergence is still found (the checksums of the
 * rejoined peer are compared again). */
static void test_a_divergence_after_a_rejoin_is_detected(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 490);
    o.checksum_interval = 4;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 1, 400, 100, 300);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_clean(&f);
    f.g[1].nondeterministic = true;
    f.paused[0] = f.paused[1] = false;
    for (int t = 0; t < 300 && (f.hp[0].event_counts[ROLLNET_EVENT_DESYNC] == 0 ||
                                f.hp[1].event_counts[ROLLNET_EVENT_DESYNC] == 0); t++) {
        fx_run(&f, 1);
    }
    assert_true(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC] >= 1);
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_DESYNC] >= 1);
    fx_free(&f);
}

/* The survivor crashes too, right after it took the rejoin and before its
 * state arrives: the rejoining process does not wait for ever (invariant 5):
 * a rejoiner that dials gives up after join_timeout_ms, one that listens
 * after handshake_timeout_ms, as any joiner and host. */
static void state_never_comes(uint64_t seed, int who)
{
    fx_opts o;
    base_opts(&o, seed);
    o.handshake_timeout_ms = 30000;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, who);
    fx_run(&f, 100);
    fx_restart(&f, who);
    for (int t = 0; t < 600 && f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED] == 0; t++) {
        fx_run(&f, 1);
    }
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 0);
    fx_crash(&f, 1 - who);
    rollnet_error err = ROLLNET_ERR_OK;
    int t = 0;
    for (; t < 120 * 60 && (err == ROLLNET_ERR_OK || harness_is_skip(err)); t++) {
        err = harness_tick(&f.hp[who], harness_clock_now(&f.clock));
        harness_clock_tick(&f.clock);
    }
    assert_false(err == ROLLNET_ERR_OK || harness_is_skip(err));
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_RUNNING], 0);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    fx_free(&f);
}
static void test_a_listening_rejoiner_whose_state_never_comes_gives_up(void **state)
{
    (void)state;
    state_never_comes(491, 1);
}
static void test_a_dialling_rejoiner_whose_state_never_comes_gives_up(void **state)
{
    (void)state;
    state_never_comes(492, 0);
}

/* The survivor's connection events about the crashed player, in order. */
typedef struct ev_log {
    int n;
    rollnet_event_type type[256];
} ev_log;

static void log_peer_events(const rollnet_event *ev, void *user_data)
{
    ev_log *l = user_data;
    switch (ev->type) {
    case ROLLNET_EVENT_INTERRUPTED:
    case ROLLNET_EVENT_RESUMED:
    case ROLLNET_EVENT_RECONNECTING:
    case ROLLNET_EVENT_REJOINED:
    case ROLLNET_EVENT_DISCONNECTED:
    case ROLLNET_EVENT_SYNCHRONIZING:
    case ROLLNET_EVENT_SYNCHRONIZED:
        if (l->n < 256) {
            l->type[l->n++] = ev->type;
        }
        break;
    default:
        break;
    }
}

/* INTERRUPTED, RECONNECTING (one per attempt), REJOINED, RESUMED: the
 * connection events the docs promise, nothing of the new process's
 * handshake (it took a place, it is not a new player); the peer's stats
 * count one loss and one reconnect. */
static void event_order(uint64_t seed, int who)
{
    fx_opts o;
    base_opts(&o, seed);
    static fx f;
    static ev_log l;
    memset(&l, 0, sizeof l);
    fx_init(&f, &o);
    fx_run(&f, 400);
    f.hp[1 - who].event_fn = log_peer_events;
    f.hp[1 - who].event_user_data = &l;
    fx_crash(&f, who);
    fx_run(&f, 100);
    fx_restart(&f, who);
    fx_run(&f, 300);
    assert_true(l.n >= 4);
    assert_int_equal(l.type[0], ROLLNET_EVENT_INTERRUPTED);
    int k = 1;
    while (k < l.n && l.type[k] == ROLLNET_EVENT_RECONNECTING) {
        k++;
    }
    assert_true(k >= 2);
    assert_int_equal(l.n, k + 2);
    assert_int_equal(l.type[k], ROLLNET_EVENT_REJOINED);
    assert_int_equal(l.type[k + 1], ROLLNET_EVENT_RESUMED);
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(f.s[1 - who], who, &ps), ROLLNET_ERR_OK);
    assert_int_equal(ps.connections_lost, 1);
    assert_int_equal(ps.reconnects, 1);
    assert_true(ps.connected && ps.synchronized && !ps.interrupted && !ps.disconnected);
    fx_free(&f);
}
static void test_the_survivor_of_a_joiner_sees_reconnecting_rejoined_resumed(void **state)
{
    (void)state;
    event_order(495, 1);
}
static void test_the_survivor_of_a_host_sees_reconnecting_rejoined_resumed(void **state)
{
    (void)state;
    event_order(496, 0);
}

/* After a rejoin the survivor, paused up to max_prediction frames ahead, is
 * told to wait (WAIT_RECOMMENDED) while the game does not catch up; a game
 * that fast-forwards when it runs behind closes the gap. Nobody stalls. */
static void pace_after(uint64_t seed, int who, bool catch_up)
{
    fx_opts o;
    base_opts(&o, seed);
    static fx f;
    fx_init(&f, &o);
    f.catch_up = catch_up;
    fx_run(&f, 400);
    fx_crash(&f, who);
    fx_run(&f, 100);
    fx_restart(&f, who);
    fx_run(&f, 300);
    uint64_t stalls0 = fx_stats(&f, 0).stalls, stalls1 = fx_stats(&f, 1).stalls;
    fx_run(&f, 600);
    int32_t apart = fx_stats(&f, 0).frame - fx_stats(&f, 1).frame;
    if (catch_up) {
        assert_true(apart >= -2 && apart <= 2);
        assert_true(f.catch_up_frames[who] > 0);
    } else {
        assert_true(f.hp[1 - who].event_counts[ROLLNET_EVENT_WAIT_RECOMMENDED] > 0);
    }
    assert_int_equal(fx_stats(&f, 0).stalls, stalls0);
    assert_int_equal(fx_stats(&f, 1).stalls, stalls1);
    fx_free(&f);
}
static void test_after_a_rejoin_the_survivor_is_told_to_wait_or_the_rejoiner_catches_up(
    void **state)
{
    (void)state;
    pace_after(500, 1, false);
    pace_after(501, 0, false);
    pace_after(502, 1, true);
    pace_after(503, 0, true);
}

/* The survivor loads a level: its peer runs on to the prediction window
 * (its inputs ahead of the survivor's frame), crashes and is started again
 * while the survivor still loads. The state it is owed is a frame the
 * survivor has not run yet: it goes out once the survivor is back, and the
 * new process waits for it without either side giving the other up. */
static void rejoin_while_loading(uint64_t seed, int who)
{
    int other = 1 - who;
    static fx f;
    crash_while_other_loads(&f, seed, who);
    run_loading(&f, other, 12 * 60); /* a long load: past disconnect_timeout_ms */
    assert_int_equal(rollnet_session_end_loading(f.s[other], harness_clock_now(&f.clock)),
                     ROLLNET_ERR_OK);
    fx_run(&f, 900);
    assert_int_equal(f.hp[other].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_REJOINED], 1);
    assert_true(agree_by_frame(f.rec[other], f.rec[who]) > 600);
    assert_clean(&f);
    fx_free(&f);
}
static void test_a_joiner_rejoins_while_the_survivor_loads(void **state)
{
    (void)state;
    rejoin_while_loading(540, 1);
}
static void test_a_host_rejoins_while_the_survivor_loads(void **state)
{
    (void)state;
    rejoin_while_loading(541, 0);
}

static void test_a_joiner_whose_connection_fails_before_its_state_still_rejoins(void **state)
{
    (void)state;
    rejoin_cut_while_owed(545, 1);
}
static void test_a_host_whose_connection_fails_before_its_state_still_rejoins(void **state)
{
    (void)state;
    rejoin_cut_while_owed(546, 0);
}

/* The rejoining side's own events: REJOINED (player -1, the frame its
 * records start at) before RUNNING, and no DISCONNECTED or REFUSED. */
typedef struct run_log {
    int rejoined_at, running_at, n;
} run_log;

static void log_run_events(const rollnet_event *ev, void *user_data)
{
    run_log *l = user_data;
    if (ev->type == ROLLNET_EVENT_REJOINED && l->rejoined_at < 0) {
        l->rejoined_at = l->n;
    }
    if (ev->type == ROLLNET_EVENT_RUNNING && l->running_at < 0) {
        l->running_at = l->n;
    }
    l->n++;
}

static void test_the_rejoiner_sees_rejoined_then_running(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 560);
    static fx f;
    static run_log l;
    l = (run_log){-1, -1, 0};
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 1);
    fx_run(&f, 100);
    fx_restart(&f, 1);
    f.hp[1].event_fn = log_run_events;
    f.hp[1].event_user_data = &l;
    fx_run(&f, 300);
    assert_true(l.rejoined_at >= 0 && l.running_at > l.rejoined_at);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_RUNNING], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame, f.rec[1]->frame[0]);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_clean(&f);
    fx_free(&f);
}

/* A survivor with rejoin_timeout_ms ROLLNET_REJOIN_OFF refuses the new
 * process (REJOIN, local value 0) and goes on waiting for a resume. */
static void test_a_survivor_with_rejoin_off_refuses_and_keeps_waiting(void **state)
{
    (void)state;
    fx_opts o;
    base_opts(&o, 561);
    o.rejoin_timeout_ms = ROLLNET_REJOIN_OFF;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 300);
    fx_crash(&f, 0);
    fx_run(&f, 60);
    fx_restart(&f, 0);
    f.paused[0] = true;
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < 300 && err == ROLLNET_ERR_OK; t++) {
        err = harness_tick(&f.hp[0], harness_clock_now(&f.clock));
        err = harness_is_skip(err) ? ROLLNET_ERR_OK : err;
        fx_run(&f, 1);
    }
    assert_int_equal(err, ROLLNET_ERR_REFUSED);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_REJOIN);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.local_value, 1);
    assert_int_equal(f.hp[0].last_event[ROLLNET_EVENT_REFUSED].u.refused.remote_value, 0);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_true(fx_stats(&f, 1).running);
    fx_free(&f);
}

/* The crashed process had called finish (the survivor heard it: FINISHING)
 * and crashed before FINISHED: a peer that closes after saying it finished
 * counts as done, so the survivor FINISHES with its ledger complete, and
 * the new process has nothing to rejoin (REFUSED, REJOIN). */
static void crash_while_finishing(uint64_t seed, int who)
{
    fx_opts o;
    base_opts(&o, seed);
    o.input_delay = 1;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    assert_int_equal(rollnet_session_finish(f.s[who]), ROLLNET_ERR_OK);
    for (int t = 0; t < 60 && f.hp[1 - who].event_counts[ROLLNET_EVENT_FINISHING] == 0; t++) {
        fx_run(&f, 1);
    }
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_FINISHING], 1);
    assert_true(fx_finished_end(&f, who) < 0);
    fx_crash(&f, who);
    fx_run(&f, 60);
    int32_t end = fx_finished_end(&f, 1 - who);
    assert_true(end > 0);
    const fx_records *a = f.rec[1 - who];
    assert_int_equal(a->frame[a->count - 1], end - 1);
    assert_int_equal(agree_by_frame(a, f.rec_before[who]), f.rec_before[who]->count);
    fx_restart(&f, who);
    f.paused[who] = true;
    rollnet_error err = ROLLNET_ERR_OK;
    for (int t = 0; t < 600 && err == ROLLNET_ERR_OK; t++) {
        err = harness_tick(&f.hp[who], harness_clock_now(&f.clock));
        err = harness_is_skip(err) ? ROLLNET_ERR_OK : err;
        fx_run(&f, 1);
    }
    if (who == 0) {
        /* It dials the survivor, which refuses it. */
        assert_int_equal(err, ROLLNET_ERR_REFUSED);
        assert_int_equal(f.hp[who].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                         ROLLNET_PARAM_REJOIN);
    } else {
        /* It listens, and the survivor, done, dials no more: it waits like
         * any host (handshake_timeout_ms), saying so. */
        assert_int_equal(err, ROLLNET_ERR_OK);
        assert_true(f.hp[who].event_counts[ROLLNET_EVENT_WAITING] > 0);
    }
    assert_int_equal(f.hp[who].event_counts[ROLLNET_EVENT_RUNNING], 0);
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[1 - who].event_counts[ROLLNET_EVENT_REJOINED], 0);
    fx_free(&f);
}
static void test_a_joiner_that_crashed_while_finishing_has_nothing_to_rejoin(void **state)
{
    (void)state;
    crash_while_finishing(570, 1);
}
static void test_a_host_that_crashed_while_finishing_has_nothing_to_rejoin(void **state)
{
    (void)state;
    crash_while_finishing(571, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]); /* a test name or a pattern */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_joiner_rejoins_a_survivor_that_finished),
        cmocka_unit_test(test_a_host_rejoins_a_survivor_that_finished),
        cmocka_unit_test(test_a_rejoined_process_finishes_at_once),
        cmocka_unit_test(test_a_spectator_of_the_survivor_watches_through_a_rejoin),
        cmocka_unit_test(test_a_peer_that_crashed_while_loading_is_not_loading_after_its_rejoin),
        cmocka_unit_test(test_a_divergence_after_a_rejoin_is_detected),
        cmocka_unit_test(test_a_listening_rejoiner_whose_state_never_comes_gives_up),
        cmocka_unit_test(test_a_dialling_rejoiner_whose_state_never_comes_gives_up),
        cmocka_unit_test(test_the_survivor_of_a_joiner_sees_reconnecting_rejoined_resumed),
        cmocka_unit_test(test_the_survivor_of_a_host_sees_reconnecting_rejoined_resumed),
        cmocka_unit_test(test_after_a_rejoin_the_survivor_is_told_to_wait_or_the_rejoiner_catches_up),
        cmocka_unit_test(test_a_joiner_rejoins_while_the_survivor_loads),
        cmocka_unit_test(test_a_host_rejoins_while_the_survivor_loads),
        cmocka_unit_test(test_a_joiner_whose_connection_fails_before_its_state_still_rejoins),
        cmocka_unit_test(test_a_host_whose_connection_fails_before_its_state_still_rejoins),
        cmocka_unit_test(test_the_rejoiner_sees_rejoined_then_running),
        cmocka_unit_test(test_a_survivor_with_rejoin_off_refuses_and_keeps_waiting),
        cmocka_unit_test(test_a_joiner_that_crashed_while_finishing_has_nothing_to_rejoin),
        cmocka_unit_test(test_a_host_that_crashed_while_finishing_has_nothing_to_rejoin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
