/* A session's life around its edges: how the game reads the ledger, games that
 * end only some ADVANCEs, peers that leave, come back or are refused, and
 * inspection calls made in the middle of a LOAD. Two peers over the memnet
 * and the network simulator on a virtual clock; fixed seeds throughout.
 *
 * Node 0 connects to node 1 ("mem:1"); node 1 is the host that accepts. A
 * node's session can be replaced mid-test (a client that restarts) while the
 * other keeps running. */
#include "p2p_fixture.h"

#define LC_MAX_ROWS 4096
#define LC_MAX_EPISODES 512

typedef struct lc_opts {
    int32_t max_steps;           /* 0 = one endless episode */
    int ledger_capacity;         /* 0 = the session's default */
    uint32_t delay_ms;           /* one-way delay of every link */
    uint32_t episode_timeout_ms; /* 0 = the session's default */
    uint32_t handshake_timeout_ms;
    uint32_t reconnect_timeout_ms; /* 0 = the session's default */
} lc_opts;

/* Confirmed records as the game read them. */
typedef struct lc_rows {
    int count;
    int32_t frame[LC_MAX_ROWS];
    int32_t episode[LC_MAX_ROWS];
    int32_t step[LC_MAX_ROWS];
    bool end[LC_MAX_ROWS];
    uint64_t inputs_hash[LC_MAX_ROWS];
    uint64_t hash[LC_MAX_ROWS]; /* everything, record data included */
} lc_rows;

typedef struct lc_node {
    rollnet_session *s;
    tg_game g;
    harness_peer hp;
    lc_rows rows;
    int episodes;                          /* EPISODE_COMPLETE events seen */
    int32_t episode_id[LC_MAX_EPISODES];   /* u.episode.episode, in the order raised */
    int32_t episode_end[LC_MAX_EPISODES];  /* u.episode.end_frame */
    bool read_requested;                   /* an EPISODE_COMPLETE asked the game to read */
} lc_node;

typedef struct lc {
    rollnet_memnet *net;
    harness_clock clock;
    lc_opts opts;
    lc_node node[2];
} lc;

static void lc_on_event(const rollnet_event *ev, void *user_data)
{
    lc_node *n = user_data;
    if (ev->type == ROLLNET_EVENT_EPISODE_COMPLETE) {
        assert_true(n->episodes < LC_MAX_EPISODES);
        n->episode_id[n->episodes] = ev->u.episode.episode;
        n->episode_end[n->episodes] = ev->u.episode.end_frame;
        n->episodes++;
        n->read_requested = true;
    }
}

/* Events raised outside harness_tick (a read can promote) go through the same
 * counters as the harness's. */
static void lc_drain_events(lc_node *n)
{
    rollnet_event ev;
    while (rollnet_session_next_event(n->s, &ev)) {
        if ((int)ev.type >= 0 && (int)ev.type < HARNESS_EVENT_TYPES) {
            n->hp.event_counts[ev.type]++;
            n->hp.last_event[ev.type] = ev;
        }
        lc_on_event(&ev, n);
    }
}

/* A fresh session on `node` (a client that starts or restarts), over a new
 * simulator on the node's memnet transport. */
static void lc_open(lc *p, int node, uint64_t game_id, uint64_t nonce, uint64_t sim_seed)
{
    lc_node *n = &p->node[node];
    rollnet_netsim_desc sd;
    memset(&sd, 0, sizeof(sd));
    sd.delay_ms = p->opts.delay_ms;
    sd.seed = sim_seed;
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = 2;
    d.ledger_capacity = p->opts.ledger_capacity;
    d.episode_timeout_ms = p->opts.episode_timeout_ms;
    d.handshake_timeout_ms = p->opts.handshake_timeout_ms;
    d.reconnect_timeout_ms = p->opts.reconnect_timeout_ms;
    d.game_id = game_id;
    d.nonce = nonce;
    assert_int_equal(
        rollnet_netsim_create(rollnet_memnet_transport(p->net, node), &sd, NULL, &d.transport),
        ROLLNET_ERR_OK);
    assert_non_null(d.transport.vtable);
    d.players[node].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1 - node].kind = ROLLNET_PLAYER_REMOTE;
    if (node == 0) {
        d.players[1].address = "mem:1";
    }
    memset(&n->rows, 0, sizeof(n->rows));
    n->episodes = 0;
    n->read_requested = false;
    assert_true(tg_init(&n->g, 5, 2, 1, 0, p->opts.max_steps));
    n->g.write_records = true;
    assert_int_equal(rollnet_session_create(&d, &n->s), ROLLNET_ERR_OK);
    harness_peer_init(&n->hp, n->s, &n->g, &d, 11);
    n->hp.event_fn = lc_on_event;
    n->hp.event_user_data = n;
}

static lc *lc_new(const lc_opts *o)
{
    lc *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->opts = *o;
    p->net = rollnet_memnet_create(2, NULL);
    assert_non_null(p->net);
    harness_clock_init(&p->clock, 1000, 60);
    lc_open(p, 0, 0, 0x1000u, 7);
    lc_open(p, 1, 0, 0x1001u, 8);
    return p;
}

static void lc_free(lc *p)
{
    for (int i = 0; i < 2; i++) {
        rollnet_session_destroy(p->node[i].s);
    }
    rollnet_memnet_destroy(p->net);
    free(p);
}

static uint64_t lc_hash(const void *a, size_t an, const void *b, size_t bn)
{
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    XXH64_update(st, a, an);
    if (bn) {
        XXH64_update(st, b, bn);
    }
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

/* Read every confirmed record the session holds, checking order as it goes. */
static void lc_read(lc_node *n)
{
    rollnet_record r;
    while (rollnet_session_next_record(n->s, &r)) {
        lc_rows *rows = &n->rows;
        assert_true(rows->count < LC_MAX_ROWS);
        if (rows->count > 0) {
            assert_int_equal(r.frame, rows->frame[rows->count - 1] + 1);
        } else {
            assert_int_equal(r.frame, 0);
        }
        int k = rows->count++;
        rows->frame[k] = r.frame;
        rows->episode[k] = r.episode;
        rows->step[k] = r.step;
        rows->end[k] = r.episode_end;
        rows->inputs_hash[k] = lc_hash(r.inputs, 2, NULL, 0);
        int32_t head[4] = {r.frame, r.episode, r.step, r.episode_end};
        rows->hash[k] = lc_hash(head, sizeof(head), r.data, r.size) ^ rows->inputs_hash[k];
    }
    n->read_requested = false;
}

/* One tick of one node; fails the test on anything but OK or a skip. */
static rollnet_error lc_tick(lc *p, int node)
{
    rollnet_error err = harness_tick(&p->node[node].hp, harness_clock_now(&p->clock));
    /* A session refused after it ran stops with REFUSED: the tests check for it. */
    if (err != ROLLNET_ERR_OK && !harness_is_skip(err) && err != ROLLNET_ERR_REFUSED) {
        fail_msg("node %d: %s", node, rollnet_error_string(err));
    }
    return err;
}

static rollnet_session_stats lc_stats(const lc_node *n)
{
    rollnet_session_stats st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(rollnet_session_stats_get(n->s, &st), ROLLNET_ERR_OK);
    return st;
}

static void lc_run(lc *p, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        lc_tick(p, 0);
        lc_tick(p, 1);
        harness_clock_tick(&p->clock);
    }
}

/* Tick only `node`; the other node's process is gone or not started. */
static void lc_run_alone(lc *p, int node, int ticks)
{
    for (int t = 0; t < ticks; t++) {
        lc_tick(p, node);
        harness_clock_tick(&p->clock);
    }
}

/* Each record carries the episode and step its frame has in a game of
 * max_steps-frame episodes, and ends its episode exactly on the last step. */
static void lc_assert_rows_follow_episodes(const lc_rows *rows, int32_t max_steps)
{
    for (int k = 0; k < rows->count; k++) {
        assert_int_equal(rows->episode[k], rows->frame[k] / max_steps);
        assert_int_equal(rows->step[k], rows->frame[k] % max_steps);
        assert_int_equal(rows->end[k], rows->step[k] == max_steps - 1);
    }
}

/* One EPISODE_COMPLETE per episode, in order, each naming the episode's last
 * frame; as many as the episode ends the game read. */
static void lc_assert_episode_events(const lc_node *n, int32_t max_steps)
{
    int ends = 0;
    for (int k = 0; k < n->rows.count; k++) {
        ends += n->rows.end[k];
    }
    assert_int_equal(n->episodes, ends);
    for (int e = 0; e < n->episodes; e++) {
        assert_int_equal(n->episode_id[e], e);
        assert_int_equal(n->episode_end[e], (e + 1) * max_steps - 1);
    }
}

/* The rows both nodes read are the same rows. Returns how many they share. */
static int lc_assert_rows_agree(const lc *p)
{
    const lc_rows *a = &p->node[0].rows;
    const lc_rows *b = &p->node[1].rows;
    int common = a->count < b->count ? a->count : b->count;
    for (int k = 0; k < common; k++) {
        assert_int_equal(a->frame[k], b->frame[k]);
        assert_int_equal(a->episode[k], b->episode[k]);
        assert_int_equal(a->step[k], b->step[k]);
        assert_int_equal(a->end[k], b->end[k]);
        assert_true(a->inputs_hash[k] == b->inputs_hash[k]);
        assert_true(a->hash[k] == b->hash[k]);
    }
    return common;
}

static void lc_assert_never_disconnected(const lc *p)
{
    for (int i = 0; i < 2; i++) {
        const lc_node *n = &p->node[i];
        assert_int_equal(n->hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        rollnet_peer_stats ps;
        assert_int_equal(rollnet_session_peer_stats(n->s, 1 - i, &ps), ROLLNET_ERR_OK);
        assert_false(ps.disconnected);
    }
}

/* ------------------------------------------------------------------------ */

/* The game reads the ledger every `read_every` ticks, so a read takes more
 * records than the ledger holds at once (the rest are promoted during the
 * read) or several episode ends at a time. */
static void run_batched_reads(const lc_opts *o, int read_every, int ticks, int min_episodes)
{
    lc *p = lc_new(o);
    for (int t = 0; t < ticks; t++) {
        for (int i = 0; i < 2; i++) {
            lc_tick(p, i);
            if (t % read_every == 0) {
                lc_read(&p->node[i]);
            }
        }
        harness_clock_tick(&p->clock);
    }
    for (int i = 0; i < 2; i++) {
        /* Reading promotes, and promotion raises events: settle both. */
        for (int k = 0; k < 2; k++) {
            lc_read(&p->node[i]);
            lc_drain_events(&p->node[i]);
        }
        assert_true(p->node[i].episodes >= min_episodes);
        lc_assert_rows_follow_episodes(&p->node[i].rows, o->max_steps);
        lc_assert_episode_events(&p->node[i], o->max_steps);
    }
    assert_true(lc_assert_rows_agree(p) >= min_episodes * o->max_steps);
    lc_assert_never_disconnected(p);
    lc_free(p);
}

static void test_batched_reads_raise_one_episode_complete_per_episode(void **state)
{
    (void)state;
    /* A 4-record ledger read every 10 frames: most records are promoted inside
     * rollnet_session_next_record, episode ends among them. */
    lc_opts small = {.max_steps = 20, .ledger_capacity = 4, .delay_ms = 20};
    run_batched_reads(&small, 10, 1200, 20);
    /* Episodes of 4 frames on a slow link with a 20 ms boundary wait: play
     * runs past several unconfirmed episode ends, which are then promoted
     * together. */
    lc_opts short_eps = {.max_steps = 4, .delay_ms = 100, .episode_timeout_ms = 20};
    run_batched_reads(&short_eps, 1, 600, 40);
}

/* ------------------------------------------------------------------------ */

/* Carries out a list but ends only the ADVANCEs of new frames: a replayed
 * ADVANCE is left for the next SAVE to end. */
static rollnet_error execute_without_replay_ends(tg_game *g, rollnet_session *s,
                                                 const rollnet_request *reqs, int count)
{
    for (int i = 0; i < count; i++) {
        const rollnet_request *req = &reqs[i];
        rollnet_error err = ROLLNET_ERR_OK;
        if (req->type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, req);
            if (!w) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            tg_save(g, w);
            err = rollnet_session_save_end(s, req);
        } else if (req->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *r = rollnet_session_load_begin(s, req);
            if (!r) {
                return ROLLNET_ERR_WRONG_REQUEST;
            }
            bool ok = tg_load(g, r);
            err = rollnet_session_load_end(s, req);
            if (err == ROLLNET_ERR_OK && !ok) {
                err = ROLLNET_ERR_SNAPSHOT_READ;
            }
        } else {
            tg_step(g, req->inputs);
            if (!(req->flags & ROLLNET_REQUEST_REPLAY)) {
                err = rollnet_session_advance_end(s, req, 0);
            }
        }
        if (err != ROLLNET_ERR_OK) {
            return err;
        }
    }
    return ROLLNET_ERR_OK;
}

static void test_game_that_skips_advance_end_on_replays_keeps_promoting(void **state)
{
    (void)state;
    lc_opts o = {.delay_ms = 40};
    lc *p = lc_new(&o);
    const int ticks = 1500;
    for (int t = 0; t < ticks; t++) {
        uint64_t now = harness_clock_now(&p->clock);
        for (int i = 0; i < 2; i++) {
            lc_node *n = &p->node[i];
            assert_int_equal(rollnet_session_poll(n->s, now), ROLLNET_ERR_OK);
            lc_drain_events(n);
            /* Inputs that change every few frames, different per player, so
             * predictions miss and frames get replayed. */
            uint8_t in = (uint8_t)((t / 7) * (i + 3));
            rollnet_error err = rollnet_session_add_local_input(n->s, i, &in, 1);
            if (err == ROLLNET_ERR_OK) {
                const rollnet_request *reqs;
                int count;
                err = rollnet_session_advance(n->s, &reqs, &count);
                if (err == ROLLNET_ERR_OK) {
                    err = execute_without_replay_ends(&n->g, n->s, reqs, count);
                }
            }
            /* A full ledger would mean a frame never reached it; the game
             * reads every tick, so only the prediction window may stop it. */
            if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_PREDICTION_LIMIT &&
                !(err == ROLLNET_ERR_NOT_RUNNING && t < 60)) {
                fail_msg("node %d, tick %d: %s", i, t, rollnet_error_string(err));
            }
            lc_read(n);
        }
        harness_clock_tick(&p->clock);
    }
    for (int i = 0; i < 2; i++) {
        rollnet_session_stats st = {0};
        assert_int_equal(rollnet_session_stats_get(p->node[i].s, &st), ROLLNET_ERR_OK);
        assert_true(st.rollbacks > 20); /* the replays this test is about happened */
        /* Each replay was left open, ended by its SAVE, and counted. */
        assert_int_equal(st.advances_unended, st.frames_resimulated);
        assert_true(st.frame > ticks - 100);
        /* Every confirmed frame but the few still in flight was read. */
        assert_true(p->node[i].rows.count >= st.confirmed_frame - 10);
        assert_true(p->node[i].rows.count > ticks - 150);
    }
    assert_true(lc_assert_rows_agree(p) > ticks - 150);
    lc_assert_never_disconnected(p);
    lc_free(p);
}

/* ------------------------------------------------------------------------ */

static void test_departed_player_cannot_rejoin_and_host_plays_on(void **state)
{
    (void)state;
    /* A client that quits without leaving is a lost connection, kept for
     * reconnect_timeout_ms; with reconnection off it is gone at once, which
     * is the departure this test is about. */
    lc_opts o = {.delay_ms = 20, .reconnect_timeout_ms = ROLLNET_RECONNECT_OFF};
    lc *p = lc_new(&o);
    lc_run(p, 300);
    lc_node *host = &p->node[1];
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_SYNCHRONIZED], 1);
    /* The client quits; the host plays on with player 0 neutral. */
    rollnet_session_destroy(p->node[0].s);
    p->node[0].s = NULL;
    lc_run_alone(p, 1, 300);
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    int32_t frame_before = lc_stats(host).frame;

    /* The player restarts the client: same settings, a new session. */
    lc_open(p, 0, 0, 0x2001u, 99);
    lc_run(p, 600);

    /* For the host it is a stranger now: refused, counted, no event. */
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(lc_stats(host).handshakes_refused, 1);
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_SYNCHRONIZED], 1);
    /* The client is told why. */
    assert_int_equal(p->node[0].hp.event_counts[ROLLNET_EVENT_REFUSED], 1);
    assert_int_equal(p->node[0].hp.last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                     ROLLNET_PARAM_PLAYERS);
    /* ...and its session stops instead of stalling for ever. */
    assert_false(lc_stats(&p->node[0]).running);
    uint8_t in = 0;
    assert_int_equal(rollnet_session_add_local_input(p->node[0].s, 0, &in, 1), ROLLNET_ERR_REFUSED);
    rollnet_peer_stats cps;
    assert_int_equal(rollnet_session_peer_stats(p->node[0].s, 1, &cps), ROLLNET_ERR_OK);
    assert_false(cps.connected);
    assert_true(cps.disconnected);

    /* The host never stopped: a frame per tick, still alone. */
    rollnet_session_stats st = lc_stats(host);
    assert_true(st.running);
    assert_true(st.frame - frame_before >= 590);
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    rollnet_peer_stats ps;
    assert_int_equal(rollnet_session_peer_stats(host->s, 0, &ps), ROLLNET_ERR_OK);
    assert_true(ps.disconnected);
    lc_free(p);
}

/* ------------------------------------------------------------------------ */

static void test_refused_connections_do_not_use_up_peer_slots(void **state)
{
    (void)state;
    /* Long enough that the host's own handshake wait outlasts every attempt. */
    lc_opts o = {.delay_ms = 20, .handshake_timeout_ms = 60000};
    lc *p = lc_new(&o);
    lc_node *client = &p->node[0];
    lc_node *host = &p->node[1];
    /* More refusals than the host has peer slots. */
    const int refusals = ROLLNET_MAX_PLAYERS + 2;
    for (int attempt = 0; attempt <= refusals; attempt++) {
        bool right = attempt == refusals;
        rollnet_session_destroy(client->s);
        lc_open(p, 0, right ? 0 : 1, 0x3000u + (uint64_t)attempt, 50 + (uint64_t)attempt);
        lc_run(p, 90);
        rollnet_session_stats hs = {0};
        rollnet_session_stats cs = {0};
        assert_int_equal(rollnet_session_stats_get(host->s, &hs), ROLLNET_ERR_OK);
        assert_int_equal(rollnet_session_stats_get(client->s, &cs), ROLLNET_ERR_OK);
        /* Strangers to the host: counted, never an event. */
        assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_REFUSED], 0);
        if (!right) {
            assert_int_equal(hs.handshakes_refused, (uint64_t)attempt + 1);
            assert_int_equal(client->hp.event_counts[ROLLNET_EVENT_REFUSED], 1);
            assert_int_equal(client->hp.last_event[ROLLNET_EVENT_REFUSED].u.refused.param,
                             ROLLNET_PARAM_GAME_ID);
            assert_false(hs.running);
            assert_false(cs.running);
        } else {
            assert_int_equal(hs.handshakes_refused, (uint64_t)refusals);
            assert_true(hs.running);
            assert_true(cs.running);
        }
    }
    /* And they play. */
    lc_run(p, 120);
    for (int i = 0; i < 2; i++) {
        rollnet_session_stats st = {0};
        assert_int_equal(rollnet_session_stats_get(p->node[i].s, &st), ROLLNET_ERR_OK);
        assert_true(st.confirmed_frame > 150);
    }
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_SYNCHRONIZED], 1);
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
    lc_free(p);
}

/* ------------------------------------------------------------------------ */

static void test_refused_connections_delayed_close_spares_a_reused_id(void **state)
{
    (void)state;
    lc_opts o = {.delay_ms = 20};
    lc *p = lc_new(&o);
    lc_node *host = &p->node[1];
    /* The client starts with a wrong game id and is refused. */
    rollnet_session_destroy(p->node[0].s);
    lc_open(p, 0, 1, 0x4000u, 70);
    lc_run(p, 15);
    assert_int_equal(lc_stats(host).handshakes_refused, 1);
    /* It retries at once, well inside the host's one-second grace for the
     * refused connection, and the memnet hands it the same peer id. The ENet
     * transport's destroy closes every link; the memnet's does not, so the
     * test closes it. */
    rollnet_session_destroy(p->node[0].s);
    rollnet_transport mt = rollnet_memnet_transport(p->net, 0);
    mt.vtable->disconnect(mt.self, 1);
    lc_open(p, 0, 0, 0x4001u, 77);
    /* Far past the refused connection's close time. */
    lc_run(p, 285);
    for (int i = 0; i < 2; i++) {
        const lc_node *n = &p->node[i];
        rollnet_session_stats st = {0};
        assert_int_equal(rollnet_session_stats_get(n->s, &st), ROLLNET_ERR_OK);
        assert_true(st.running);
        assert_true(st.confirmed_frame > 200);
        assert_int_equal(n->hp.event_counts[ROLLNET_EVENT_INTERRUPTED], 0);
        assert_int_equal(n->hp.event_counts[ROLLNET_EVENT_DISCONNECTED], 0);
        rollnet_peer_stats ps;
        assert_int_equal(rollnet_session_peer_stats(n->s, 1 - i, &ps), ROLLNET_ERR_OK);
        assert_true(ps.connected);
        assert_false(ps.disconnected);
    }
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_REFUSED], 0);
    assert_int_equal(lc_stats(host).handshakes_refused, 1);
    assert_int_equal(host->hp.event_counts[ROLLNET_EVENT_SYNCHRONIZED], 1);
    lc_free(p);
}

/* ------------------------------------------------------------------------ */

/* Checksums every frame, inputs lost on the way: when node 1 stops, node 0
 * may hold checksums node 1 sent of frames node 0 will now play with neutral
 * input instead of node 1's lost inputs. Those must not be compared. */
static int desyncs_after_leave(uint64_t seed, uint32_t loss0, uint32_t loss1, int ticks)
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.num_players = 2;
    o.seed = seed;
    o.write_records = true;
    o.checksum_interval = 1;
    o.disconnect_timeout_ms = 1000;
    o.reconnect_timeout_ms = ROLLNET_RECONNECT_OFF; /* the silence ends the peer at once */
    for (int i = 0; i < 2; i++) {
        o.sim[i].delay_ms = 60;
        o.sim[i].jitter_ms = 10;
        o.sim[i].loss_permille = i == 0 ? loss0 : loss1;
    }
    static fx f;
    fx_init(&f, &o);
    fx_run(&f, (uint64_t)ticks);
    assert_true(fx_all_running(&f));
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DESYNC], 0);
    f.gone[1] = true; /* the process stops; what it already sent still arrives */
    int32_t frame_at_leave = fx_stats(&f, 0).frame;
    fx_run(&f, 200);
    assert_int_equal(f.hp[0].event_counts[ROLLNET_EVENT_DISCONNECTED], 1);
    assert_true(fx_stats(&f, 0).frame > frame_at_leave + 60); /* it played on alone */
    int desyncs = (int)f.hp[0].event_counts[ROLLNET_EVENT_DESYNC];
    if (desyncs) {
        fprintf(stderr, "seed %llu, %d ticks: DESYNC at frame %d after the peer left at %d\n",
                (unsigned long long)seed, ticks,
                f.hp[0].last_event[ROLLNET_EVENT_DESYNC].u.desync.frame,
                f.hp[0].last_event[ROLLNET_EVENT_DISCONNECTED].u.disconnected.frame);
    }
    fx_free(&f);
    return desyncs;
}

static void test_no_desync_is_raised_against_a_departed_peer(void **state)
{
    (void)state;
    /* None of node 1's inputs arrive, its reliable checksums do: node 0 stalls
     * with node 1's checksums of the first frames in hand, then plays those
     * frames with neutral input once node 1 is gone. */
    assert_int_equal(desyncs_after_leave(1, 0, 1000, 60), 0);
    /* Most inputs lost both ways, the peer leaving at various moments. */
    int runs_with_desync = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        for (int extra = 0; extra < 6; extra++) {
            runs_with_desync += desyncs_after_leave(seed, 700, 700, 200 + extra) > 0;
        }
    }
    assert_int_equal(runs_with_desync, 0);
}

/* ------------------------------------------------------------------------ */

/* Reads the rest of a test-game snapshot whose top array header was already
 * read, into g (the order tg_save writes). */
static void read_state_body(rollnet_reader *r, tg_game *g)
{
    int64_t v;
    uint64_t u;
    uint32_t n;
    assert_true(rollnet_read_int(r, &v));
    g->frame = (int32_t)v;
    assert_true(rollnet_read_int(r, &v));
    g->episode = (int32_t)v;
    assert_true(rollnet_read_int(r, &v));
    g->episode_start = (int32_t)v;
    assert_true(rollnet_read_uint(r, &u));
    g->rng = u;
    assert_true(rollnet_read_array(r, &n));
    assert_int_equal(n, 2);
    assert_true(rollnet_read_int(r, &v));
    g->coin_x = (int32_t)v;
    assert_true(rollnet_read_int(r, &v));
    g->coin_y = (int32_t)v;
    assert_true(rollnet_read_array(r, &n));
    assert_int_equal(n, (uint32_t)g->num_players);
    for (int i = 0; i < g->num_players; i++) {
        tg_player *pl = &g->players[i];
        assert_true(rollnet_read_array(r, &n));
        assert_int_equal(n, 5);
        assert_true(rollnet_read_int(r, &v));
        pl->x = (int32_t)v;
        assert_true(rollnet_read_int(r, &v));
        pl->y = (int32_t)v;
        assert_true(rollnet_read_int(r, &v));
        pl->vx = (int32_t)v;
        assert_true(rollnet_read_int(r, &v));
        pl->vy = (int32_t)v;
        assert_true(rollnet_read_int(r, &pl->score));
    }
    const void *blob;
    size_t len;
    assert_true(rollnet_read_bin(r, &blob, &len));
    assert_int_equal(len, g->blob_size);
    if (len) {
        memcpy(g->blob, blob, len);
    }
    assert_int_equal(rollnet_reader_error(r), ROLLNET_ERR_OK);
}

#define DUMP_RING 64

/* The test game plus what it saved: the state hash of frame f's snapshot at
 * f % DUMP_RING. The session's start-up validation shows as a second SAVE of
 * a frame that is not a replay. */
typedef struct dump_game {
    tg_game g;
    uint64_t saved_hash[DUMP_RING];
    int32_t saved_frame[DUMP_RING];
    bool unstable_validation; /* write a different state in the validation SAVE */
    int loads_checked;
    int desync_dumps_refused;
} dump_game;

/* Carries out a list; inside every LOAD, with the reader half way through the
 * snapshot, asks for the session's text dumps. */
static void execute_with_dumps_in_loads(rollnet_session *s, dump_game *dg,
                                        const rollnet_request *reqs, int count,
                                        bool expect_desync_dump)
{
    static char text[1 << 16];
    for (int i = 0; i < count; i++) {
        const rollnet_request *req = &reqs[i];
        if (req->type == ROLLNET_REQUEST_SAVE) {
            rollnet_writer *w = rollnet_session_save_begin(s, req);
            assert_non_null(w);
            tg_game saved = dg->g;
            bool validation = dg->saved_frame[req->frame % DUMP_RING] == req->frame &&
                              !(req->flags & ROLLNET_REQUEST_REPLAY);
            if (validation && dg->unstable_validation) {
                saved.rng ^= 1; /* a game whose save is not a function of its state */
            }
            tg_save(&saved, w);
            rollnet_error err = rollnet_session_save_end(s, req);
            if (validation && dg->unstable_validation) {
                assert_int_equal(err, ROLLNET_ERR_SNAPSHOT_UNSTABLE);
            } else {
                assert_int_equal(err, ROLLNET_ERR_OK);
                dg->saved_hash[req->frame % DUMP_RING] = tg_state_hash(&dg->g);
                dg->saved_frame[req->frame % DUMP_RING] = req->frame;
            }
        } else if (req->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *r = rollnet_session_load_begin(s, req);
            assert_non_null(r);
            uint32_t n;
            assert_true(rollnet_read_array(r, &n));
            assert_int_equal(n, 7);
            /* A debug overlay asking for text while the game reads. */
            text[0] = 'x';
            assert_int_equal(rollnet_session_snapshot_dump(s, req->frame, text, sizeof(text)),
                             ROLLNET_ERR_REQUESTS_PENDING);
            assert_int_equal(text[0], '\0');
            if (dg->saved_frame[(req->frame + 1) % DUMP_RING] == req->frame + 1) {
                /* Another frame's snapshot: the same zone. */
                assert_int_equal(
                    rollnet_session_snapshot_dump(s, req->frame + 1, text, sizeof(text)),
                    ROLLNET_ERR_REQUESTS_PENDING);
            }
            rollnet_desync_info info;
            bool desync_kept = rollnet_session_desync_info(s, &info) == ROLLNET_ERR_OK;
            assert_true(desync_kept == (expect_desync_dump && dg->loads_checked > 0));
            if (desync_kept) {
                dg->desync_dumps_refused++;
                assert_int_equal(rollnet_session_desync_dump(s, 0, text, sizeof(text)),
                                 ROLLNET_ERR_REQUESTS_PENDING);
                assert_int_equal(rollnet_session_desync_dump(s, 1, text, sizeof(text)),
                                 ROLLNET_ERR_REQUESTS_PENDING);
            }
            /* The reader goes on where it was, with the saved values. */
            read_state_body(r, &dg->g);
            assert_int_equal(dg->g.frame, req->frame);
            assert_int_equal(dg->saved_frame[req->frame % DUMP_RING], req->frame);
            assert_true(tg_state_hash(&dg->g) == dg->saved_hash[req->frame % DUMP_RING]);
            assert_int_equal(rollnet_session_load_end(s, req), ROLLNET_ERR_OK);
            dg->loads_checked++;
            /* Between requests the dump works again. */
            assert_int_equal(rollnet_session_snapshot_dump(s, req->frame, text, sizeof(text)),
                             ROLLNET_ERR_OK);
            assert_true(strlen(text) > 0);
            if (desync_kept) {
                assert_int_equal(rollnet_session_desync_dump(s, 0, text, sizeof(text)),
                                 ROLLNET_ERR_OK);
                assert_true(strlen(text) > 0);
            }
        } else {
            tg_step(&dg->g, req->inputs);
            /* After a failed validation the session has stopped; the game
             * still carries the list through to the end. */
            rollnet_error err = rollnet_session_advance_end(s, req, 0);
            assert_true(err == ROLLNET_ERR_OK || dg->unstable_validation);
        }
    }
}

static rollnet_session *dump_session(dump_game *dg, int check_distance)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 2;
    d.check_distance = check_distance;
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_session_create(&d, &s), ROLLNET_ERR_OK);
    memset(dg, 0, sizeof(*dg));
    for (int k = 0; k < DUMP_RING; k++) {
        dg->saved_frame[k] = -1;
    }
    assert_true(tg_init(&dg->g, 1, 2, 1, 64, 0));
    return s;
}

static void test_dumps_are_refused_during_a_load_and_leave_its_reader_intact(void **state)
{
    (void)state;
    static dump_game dg;
    /* A sync test replays two frames every frame: a LOAD in every list. */
    rollnet_session *s = dump_session(&dg, 2);
    for (int f = 0; f < 60; f++) {
        uint8_t in[2] = {(uint8_t)f, (uint8_t)(3 * f)};
        assert_int_equal(rollnet_session_add_local_input(s, 0, &in[0], 1), ROLLNET_ERR_OK);
        assert_int_equal(rollnet_session_add_local_input(s, 1, &in[1], 1), ROLLNET_ERR_OK);
        const rollnet_request *reqs;
        int count;
        assert_int_equal(rollnet_session_advance(s, &reqs, &count), ROLLNET_ERR_OK);
        execute_with_dumps_in_loads(s, &dg, reqs, count, false);
    }
    /* The replays after those loads matched the straight run. */
    rollnet_desync_info info;
    assert_int_equal(rollnet_session_desync_info(s, &info), ROLLNET_ERR_NO_DESYNC);
    assert_true(dg.loads_checked >= 58);
    rollnet_session_destroy(s);

    /* The desync dump too: a game whose validation SAVE differs keeps the two
     * snapshots, and the same list still holds the sync test's LOAD. */
    s = dump_session(&dg, 1);
    dg.unstable_validation = true;
    uint8_t in[2] = {1, 2};
    assert_int_equal(rollnet_session_add_local_input(s, 0, &in[0], 1), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_session_add_local_input(s, 1, &in[1], 1), ROLLNET_ERR_OK);
    const rollnet_request *reqs;
    int count;
    assert_int_equal(rollnet_session_advance(s, &reqs, &count), ROLLNET_ERR_OK);
    execute_with_dumps_in_loads(s, &dg, reqs, count, true);
    assert_int_equal(dg.loads_checked, 2); /* the validation LOAD and the replay's */
    assert_int_equal(dg.desync_dumps_refused, 1);
    rollnet_session_destroy(s);
}

/* ------------------------------------------------------------------------ */

static void test_full_ledger_at_episode_barrier_reports_ledger_full_then_play_goes_on(void **state)
{
    (void)state;
    /* The ledger holds all but two records of an episode, and confirmation
     * runs about five frames behind: the ledger fills only once play waits at
     * the episode's end. The game reads when told the ledger is full and when
     * an episode completes. */
    const int32_t steps = 100;
    lc_opts o = {.max_steps = steps, .ledger_capacity = steps - 2, .delay_ms = 80,
                 .episode_timeout_ms = 1000};
    lc *p = lc_new(&o);
    int full_at_barrier[2] = {0, 0};
    for (int t = 0; t < 900; t++) {
        for (int i = 0; i < 2; i++) {
            lc_node *n = &p->node[i];
            rollnet_error err = lc_tick(p, i);
            if (err == ROLLNET_ERR_LEDGER_FULL) {
                rollnet_session_stats st = {0};
                assert_int_equal(rollnet_session_stats_get(n->s, &st), ROLLNET_ERR_OK);
                /* Waiting after an episode's last frame, that episode unconfirmed. */
                assert_true(st.frame > 0);
                assert_int_equal(st.frame % steps, 0);
                assert_int_equal(n->episodes, st.frame / steps - 1);
                uint8_t in = 0;
                assert_int_equal(rollnet_session_add_local_input(n->s, i, &in, 1),
                                 ROLLNET_ERR_LEDGER_FULL);
                full_at_barrier[i]++;
                int before = n->rows.count;
                lc_read(n);
                assert_true(n->rows.count - before >= o.ledger_capacity);
            } else if (n->read_requested) {
                lc_read(n);
            }
        }
        harness_clock_tick(&p->clock);
    }
    for (int i = 0; i < 2; i++) {
        lc_node *n = &p->node[i];
        lc_read(n);
        lc_drain_events(n);
        assert_int_equal(n->hp.event_counts[ROLLNET_EVENT_EPISODE_TIMEOUT], 0);
        assert_true(full_at_barrier[i] >= 5);
        assert_true(n->episodes >= 5);
        lc_assert_rows_follow_episodes(&n->rows, steps);
        lc_assert_episode_events(n, steps);
    }
    assert_true(lc_assert_rows_agree(p) >= 5 * steps);
    lc_assert_never_disconnected(p);
    lc_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batched_reads_raise_one_episode_complete_per_episode),
        cmocka_unit_test(test_game_that_skips_advance_end_on_replays_keeps_promoting),
        cmocka_unit_test(test_departed_player_cannot_rejoin_and_host_plays_on),
        cmocka_unit_test(test_refused_connections_do_not_use_up_peer_slots),
        cmocka_unit_test(test_refused_connections_delayed_close_spares_a_reused_id),
        cmocka_unit_test(test_no_desync_is_raised_against_a_departed_peer),
        cmocka_unit_test(test_dumps_are_refused_during_a_load_and_leave_its_reader_intact),
        cmocka_unit_test(test_full_ledger_at_episode_barrier_reports_ledger_full_then_play_goes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
