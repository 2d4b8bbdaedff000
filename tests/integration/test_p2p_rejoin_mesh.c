/* Rejoin with three or more players: the survivors agree on the crashed
 * peer's last frame (ABSENT notes, p2p_absent.c) before giving its state to
 * the new process; with keys, via a host, twice, with a spectator. absent_play
 * NEUTRAL: test_p2p_play_on_mesh.c. In the fixture node i dials every node
 * j > i. */
#include "mesh_util.h"

/* A crash of node `who` in a mesh of `n`, restarted after `down` ticks:
 * every survivor raises REJOINED naming the same frame, and from there all
 * records agree. */
static void crash_and_rejoin(uint64_t seed, int n, int who, uint64_t down)
{
    fx_opts o;
    mesh_opts(&o, seed, n);
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, who, 400, down, 900);
    all_rejoined(&f, who, 600);
    all_agree(&f, 600);
    fx_free(&f);
}

static void test_three_players_the_middle_node_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(401, 3, 1, 6 * 60);
}

static void test_three_players_the_node_that_dials_everyone_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(402, 3, 0, 6 * 60);
}

static void test_three_players_the_node_everyone_dials_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(403, 3, 2, 6 * 60);
}

static void test_four_players_a_quick_restart_rejoins(void **state)
{
    (void)state;
    crash_and_rejoin(404, 4, 2, 60); /* back before the loss is noticed */
}

/* Node 0 holds more of player 1's inputs than node 2 when node 1 crashes.
 * Each survivor's note names what it holds; both give the new process the
 * state of the frame after the higher of the two (node 0's inputs reach
 * node 2 in node 0's note), so both REJOINED name that frame, and every
 * ledger agrees, node 2's frames past what it held alone included. */
static void test_survivors_holding_different_inputs_rejoin_from_the_same_frame(void **state)
{
    (void)state;
    for (uint64_t seed = 411; seed <= 413; seed++) {
        fx_opts o;
        mesh_opts(&o, seed, 3);
        static fx f;
        fx_init(&f, &o);
        fx_run(&f, 400);
        starve_then_crash(&f, 1, 2, 6);
        fx_run(&f, 6 * 60);
        fx_restart(&f, 1);
        fx_run(&f, 900);
        int32_t held0 = mesh_seen[0].note_last[1], held2 = mesh_seen[2].note_last[1];
        assert_true(held2 >= 0);
        assert_true(held0 > held2); /* node 0 held more */
        int32_t from = all_rejoined(&f, 1, 600);
        assert_int_equal(from, held0 + 1);
        all_agree(&f, 600);
        fx_free(&f);
    }
}

/* Run every node, tolerating stops, until node `who` raised `type` or its
 * session stopped, at most `max` ticks. */
static void run_until_event(fx *f, int who, rollnet_event_type type, int max,
                            rollnet_error *stopped)
{
    for (int t = 0; t < max && f->hp[who].event_counts[type] == 0 &&
                    stopped[who] == ROLLNET_ERR_OK;
         t++) {
        run_tolerating_stops(f, 1, stopped);
    }
}

/* A private session of three: the crashed node comes back with the key.
 * Started again with another key first, it is refused (REFUSED naming the
 * key), nobody raises REJOINED and the survivors keep its place; started
 * once more with the key it rejoins. */
static void test_a_private_three_player_session_takes_a_rejoin_only_with_its_key(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 421, 3);
    for (int i = 0; i < 3; i++) {
        o.key[i] = "invite: 3P-7F3K";
    }
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 1);
    fx_run(&f, 6 * 60);
    f.opts.key[1] = "invite: 3P-7F3X";
    fx_restart(&f, 1);
    rollnet_error stopped[FX_MAX] = {ROLLNET_ERR_OK};
    run_until_event(&f, 1, ROLLNET_EVENT_REFUSED, 10 * 60, stopped);
    run_tolerating_stops(&f, 120, stopped); /* whatever else it would do */
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED] >= 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_SESSION_KEY);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_RUNNING], 0);
    uint32_t refused = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REJOINED], 0);
        if (i != 1) {
            assert_int_equal(stopped[i], ROLLNET_ERR_OK);
            assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
            refused += fx_stats(&f, i).handshakes_refused;
        }
    }
    assert_true(refused >= 1); /* a survivor refused it too */
    fx_crash(&f, 1);
    f.opts.key[1] = "invite: 3P-7F3K";
    fx_restart(&f, 1);
    fx_run(&f, 900);
    all_rejoined(&f, 1, 600);
    all_agree(&f, 600);
    fx_free(&f);
}

/* The same node crashes and rejoins twice; each time every survivor names
 * one frame, and all agree. With keys each process has a random nonce; with
 * none, the fixture gives every process of a node the same one. */
static void crash_twice(uint64_t seed, const char *key)
{
    fx_opts o;
    mesh_opts(&o, seed, 3);
    for (int i = 0; i < 3 && key; i++) {
        o.key[i] = key;
    }
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 2, 400, 3 * 60, 900);
    int32_t first = all_rejoined(&f, 2, 600);
    for (int i = 0; i < 2; i++) {
        f.hp[i].event_counts[ROLLNET_EVENT_REJOINED] = 0; /* count the second one alone */
    }
    crash_restart(&f, 2, 0, 3 * 60, 900);
    int32_t second = all_rejoined(&f, 2, 600);
    assert_true(second > first + 600);
    all_agree(&f, 600);
    fx_free(&f);
}

static void test_a_node_crashes_and_rejoins_twice(void **state)
{
    (void)state;
    crash_twice(431, NULL);
    crash_twice(432, "invite: twice");
}

/* Episodes of 100 frames and checksums of every frame through a rejoin of
 * three, the crash at an episode end: no DESYNC anywhere, and the rejoined
 * process's episodes and steps are the survivors'. */
static void test_checksums_every_frame_and_episode_ends_through_a_rejoin(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 441, 3);
    o.checksum_interval = 1;
    o.max_steps = 100;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 0, 400, 4 * 60, 900); /* the crash near frame 400: an episode end */
    all_rejoined(&f, 0, 600); /* no DESYNC, records equal, episodes too */
    all_agree(&f, 600);
    const fx_records *r = f.rec[0];
    assert_true(r->episode[r->count - 1] >= r->episode[0] + 5); /* through episode ends */
    fx_free(&f);
}

/* Node 0 is the host and the joiners know only its address; it introduces
 * them to each other. Joiner 2 crashes and comes back (the host introduces
 * it again to joiner 1, which hears its claim), then joiner 1 does. Keys
 * give each process a random nonce, as in a real restart. The memnet's
 * addresses never change, so a host's INTRO re-addressing a lost peer finds
 * the same address and logs nothing ("is now at"). */
static void test_via_host_joiners_crash_and_rejoin(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 451, 3);
    o.via_host = true;
    for (int i = 0; i < 3; i++) {
        o.key[i] = "invite: via-host";
    }
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 2, 400, 6 * 60, 900);
    all_rejoined(&f, 2, 600);
    for (int i = 0; i < 3; i++) {
        f.hp[i].event_counts[ROLLNET_EVENT_REJOINED] = 0;
    }
    crash_restart(&f, 1, 0, 6 * 60, 900);
    forget_before(f.rec_before[1], f.rec[2]->frame[0]); /* node 2 holds nothing before */
    all_rejoined(&f, 1, 600);
    all_agree(&f, 600);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mesh_seen[i].readdressed, 0);
    }
    fx_free(&f);
}

/* The same without keys: each restarted process has a new nonce of its own
 * (the fixture's), so the host introduces it again to the other joiner. */
static void test_via_host_a_public_session_introduces_the_new_process_again(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 451, 3);
    o.via_host = true;
    static fx f;
    fx_init(&f, &o);
    crash_restart(&f, 2, 400, 6 * 60, 900);
    all_rejoined(&f, 2, 600);
    fx_free(&f);
}

/* A restarted process with the nonce of the one it replaces is refused with
 * 3+ players (the survivors tell one rejoin from the next by its nonce):
 * REFUSED naming ROLLNET_PARAM_REJOIN, and the survivors go on waiting. */
static void test_a_rejoin_with_the_crashed_process_nonce_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 452, 3);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 1);
    fx_run(&f, 6 * 60);
    f.restarts[1] = -1; /* fx_restart counts it back to 0: the old nonce */
    f.opts.rejoin[1] = true;
    fx_restart(&f, 1);
    for (int t = 0; t < 5 * 60; t++) {
        for (int i = 0; i < 3; i++) {
            (void)harness_tick(&f.hp[i], harness_clock_now(&f.clock));
            fx_record_hash(&f, i);
        }
        harness_clock_tick(&f.clock);
    }
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED] >= 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_REJOIN);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.hp[2].event_counts[ROLLNET_EVENT_REJOINED], 0);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    fx_free(&f);
}

/* Ticks every node that has a session, whatever its errors. */
static void run_any(fx *f, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        for (int i = 0; i < f->n; i++) {
            if (!f->gone[i]) {
                (void)harness_tick(&f->hp[i], harness_clock_now(&f->clock));
                fx_record_hash(f, i);
            }
        }
        harness_clock_tick(&f->clock);
    }
}

/* Four players: node 3 crashes and, its window over, departs; then node 1
 * crashes and is started again. The new process hears from the survivors
 * that player 3 departed (their LEAVE notices), does not wait for it, and
 * rejoins; the three agree from the rejoin on. */
static void test_a_rejoin_after_another_player_departed(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 461, 4);
    o.reconnect_timeout_ms = 2000;
    o.rejoin_timeout_ms = 4000;
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 3);
    fx_run(&f, 15 * 60); /* 5 s to notice, 4 s kept, the departure agreed */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    }
    fx_crash(&f, 1);
    fx_run(&f, 2 * 60);
    fx_restart(&f, 1);
    run_any(&f, 15 * 60);
    int32_t from = f.hp[0].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REJOINED], 1);
        assert_int_equal(f.hp[i].last_event[ROLLNET_EVENT_REJOINED].u.rejoin.frame, from);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
    }
    /* The new process names player 3's departure too, and runs. */
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_DISCONNECTED].player, 3);
    assert_true(fx_stats(&f, 1).running);
    assert_true(f.rec[1]->count > 600);
    assert_true(agree_by_frame(f.rec[0], f.rec[1]) > 600);
    assert_true(agree_by_frame(f.rec[2], f.rec[1]) > 600);
    assert_true(agree_by_frame(f.rec[0], f.rec[2]) > 600);
    fx_free(&f);
}

/* One rejoin at a time: node 3 crashes and stays away; node 1 crashes and
 * is started again while player 3 is still away. The new process could not
 * run without player 3's inputs, which only the survivors hold: its claim
 * waits (a loss may be regained at once), then is refused (REFUSED,
 * ROLLNET_PARAM_REJOIN), and the survivors go on waiting, no ledger touched. */
static void test_a_rejoin_while_another_player_is_away_is_refused(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 462, 4);
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, 400);
    fx_crash(&f, 3);
    fx_run(&f, 6 * 60);
    fx_crash(&f, 1);
    fx_run(&f, 6 * 60);
    fx_restart(&f, 1);
    run_any(&f, 5 * 60);
    assert_int_equal(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED], 0); /* the claim waits */
    run_any(&f, 10 * 60);
    assert_true(f.hp[1].event_counts[ROLLNET_EVENT_REFUSED] >= 1);
    assert_int_equal(f.hp[1].last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_REJOIN);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_REJOINED], 0);
        assert_int_equal(f.hp[i].event_counts[ROLLNET_EVENT_DESYNC], 0);
    }
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_int_equal(f.hp[2].event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    assert_true(agree_by_frame(f.rec[0], f.rec[2]) > 380);
    fx_free(&f);
}

/* A spectator of node `of`, on the memnet node after the players', its
 * records hashed as the fixture hashes the players'. */
typedef struct spect {
    rollnet_session *s;
    tg_game g;
    harness_peer hp;
    fx_records rec;
    char address[16];
} spect;

static void spect_open(fx *f, spect *sp, int of)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_SPECTATOR;
    d.num_players = f->n;
    d.seed = f->opts.seed;
    snprintf(sp->address, sizeof sp->address, "mem:%d", of);
    d.spectate_address = sp->address;
    for (int i = 0; i < f->n; i++) {
        d.players[i].kind = ROLLNET_PLAYER_REMOTE;
    }
    d.transport = rollnet_memnet_transport(f->net, f->n);
    d.nonce = 0x3000u;
    d.checksum_interval = f->opts.checksum_interval;
    assert_true(tg_init(&sp->g, f->opts.seed, f->n, 1, 0, 0));
    sp->g.write_records = true;
    assert_int_equal(rollnet_session_create(&d, &sp->s), ROLLNET_ERR_OK);
    harness_peer_init(&sp->hp, sp->s, &sp->g, &d, 5);
}

static void spect_run(fx *f, spect *sp, int ticks)
{
    for (int t = 0; t < ticks; t++) {
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
            XXH64_update(st, r.inputs, (size_t)f->n);
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
        fx_run(f, 1);
    }
}

/* A spectator watches node 2 (every other node dials it) while node 1
 * crashes and rejoins: it sees only a pause, its records equal node 2's,
 * checksums of every frame included, and nobody's DESYNC. */
static void test_a_spectator_watches_a_three_player_session_through_a_rejoin(void **state)
{
    (void)state;
    fx_opts o;
    mesh_opts(&o, 461, 3);
    o.extra_nodes = 1;
    o.max_spectators = 2;
    o.checksum_interval = 1;
    static fx f;
    static spect sp;
    memset(&sp, 0, sizeof sp);
    fx_init(&f, &o);
    spect_open(&f, &sp, 2);
    spect_run(&f, &sp, 400);
    assert_true(sp.rec.count > 100);
    fx_crash(&f, 1);
    spect_run(&f, &sp, 6 * 60);
    fx_restart(&f, 1);
    spect_run(&f, &sp, 900);
    all_rejoined(&f, 1, 600);
    all_agree(&f, 600);
    assert_true(sp.rec.count > 1000);
    assert_int_equal(agree_by_frame(f.rec[2], &sp.rec), sp.rec.count);
    assert_int_equal(sp.hp.event_counts[ROLLNET_EVENT_DESYNC], 0);
    assert_int_equal(sp.hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    rollnet_session_destroy(sp.s);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_players_the_middle_node_rejoins),
        cmocka_unit_test(test_three_players_the_node_that_dials_everyone_rejoins),
        cmocka_unit_test(test_three_players_the_node_everyone_dials_rejoins),
        cmocka_unit_test(test_four_players_a_quick_restart_rejoins),
        cmocka_unit_test(test_survivors_holding_different_inputs_rejoin_from_the_same_frame),
        cmocka_unit_test(test_a_private_three_player_session_takes_a_rejoin_only_with_its_key),
        cmocka_unit_test(test_a_node_crashes_and_rejoins_twice),
        cmocka_unit_test(test_checksums_every_frame_and_episode_ends_through_a_rejoin),
        cmocka_unit_test(test_via_host_joiners_crash_and_rejoin),
        cmocka_unit_test(test_a_spectator_watches_a_three_player_session_through_a_rejoin),
        cmocka_unit_test(test_via_host_a_public_session_introduces_the_new_process_again),
        cmocka_unit_test(test_a_rejoin_with_the_crashed_process_nonce_is_refused),
        cmocka_unit_test(test_a_rejoin_after_another_player_departed),
        cmocka_unit_test(test_a_rejoin_while_another_player_is_away_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
