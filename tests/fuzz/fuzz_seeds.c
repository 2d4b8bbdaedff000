/* Writes the seed corpus of every libFuzzer target:
 *
 *   fuzz_seeds DIR        (DIR/<target>/<name>; tests/fuzz/corpus is the checked-in one)
 *
 * session: real traffic. Each scenario runs a short memnet session of one
 * variant (fuzz_session.h) with the test game and seeded bots, some peers
 * behind the network simulator, some leaving, loading, refused or out of
 * step, and records what node 0's session receives, tick by tick, in the
 * session target's input format. Every recording is then replayed through
 * fz_run and must reproduce node 0's session exactly (frames, rollbacks,
 * records, events, game state), or nothing is written and the exit status
 * is 1: the seeds are real sessions, not approximations.
 *
 * protocol, inputs, snapshot, export, netsim_spec: valid inputs of each
 * kind, written by the library's own encoders, for the decoders to start from.
 *
 * replay_file: replays recorded by the library's recorder from short sync
 * tests of the test game.
 *
 * Deterministic: the same tree writes the same bytes. */
#define _DEFAULT_SOURCE /* mkstemp */
#include <errno.h>
#include <msgpack.h>
#include <sys/stat.h>

#include <unistd.h>

#include "fuzz_session.h"
#include "snapshot.h"
#include "rollnet/rollnet_replay.h"

static const char *g_dir;
static int g_files;

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", g_dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s", g_dir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", g_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    g_files++;
}

/* ------------------------------------------------------------------------ */
/* session: recorded traffic                                                 */
/* ------------------------------------------------------------------------ */

/* Node 0's transport: the real one, with every event it hands the session
 * written down as an op. No peer_info, as the fake transport has none. */
typedef struct rec_tp {
    rollnet_transport inner;
    fz_buf *ops;
} rec_tp;

static rollnet_error rec_connect(void *self, const char *address, uint64_t now_ms, int *peer_out)
{
    rec_tp *r = self;
    rollnet_error err = r->inner.vtable->connect(r->inner.self, address, now_ms, peer_out);
    int fake = -1;
    rollnet_error fake_err = fz_tp_connect(NULL, address, now_ms, &fake);
    if (err != fake_err || *peer_out != fake) {
        fprintf(stderr,
                "fuzz_seeds: connect(%s) gave peer %d (%s), the fake transport %d (%s)\n",
                address, *peer_out, rollnet_error_string(err), fake,
                rollnet_error_string(fake_err));
        exit(1);
    }
    return err;
}

static rollnet_error rec_send(void *self, int peer, rollnet_channel channel, const void *data,
                              size_t size, uint64_t now_ms)
{
    rec_tp *r = self;
    return r->inner.vtable->send(r->inner.self, peer, channel, data, size, now_ms);
}

static rollnet_error rec_receive(void *self, uint64_t now_ms, rollnet_transport_event *out)
{
    rec_tp *r = self;
    rollnet_error err = r->inner.vtable->receive(r->inner.self, now_ms, out);
    if (err == ROLLNET_ERR_OK && out->type != ROLLNET_TRANSPORT_NONE) {
        fz_put_event(r->ops, out);
    }
    return err;
}

static void rec_disconnect(void *self, int peer)
{
    rec_tp *r = self;
    if (r->inner.vtable->disconnect) {
        r->inner.vtable->disconnect(r->inner.self, peer);
    }
}

static void rec_set_timeout(void *self, int peer, uint32_t timeout_ms)
{
    rec_tp *r = self;
    if (r->inner.vtable->set_timeout) {
        r->inner.vtable->set_timeout(r->inner.self, peer, timeout_ms);
    }
}

static void rec_flush(void *self, uint64_t now_ms)
{
    rec_tp *r = self;
    if (r->inner.vtable->flush) {
        r->inner.vtable->flush(r->inner.self, now_ms);
    }
}

static void rec_destroy(void *self)
{
    rec_tp *r = self;
    rollnet_transport_destroy(&r->inner);
}

static const rollnet_transport_vtable rec_vtable = {
    .connect = rec_connect,
    .send = rec_send,
    .receive = rec_receive,
    .disconnect = rec_disconnect,
    .set_timeout = rec_set_timeout,
    .destroy = rec_destroy,
    .flush = rec_flush,
};

typedef struct scenario {
    const char *name;
    int variant;
    int ticks;
    const char *netsim[FZ_MAX_NODES]; /* on each node's outgoing messages */
    int start_tick[FZ_MAX_NODES];     /* a peer that starts late */
    int close_node, close_tick;       /* a peer quits (its session closes) */
    int cut_node, cut_tick;           /* a peer goes silent (cut off, stops) */
    int load_node, load_tick, load_ticks; /* a peer announces loading and blocks */
    int busy_node, busy_tick, busy_ticks; /* a peer blocks; its transport reports it busy */
    int local_load_tick, local_load_ticks; /* node 0 does */
    int unread_tick, unread_ticks;    /* node 0 stops reading records */
    int fps_node;                     /* a peer with another frame rate: refused */
    int rules_node;                   /* a peer with other game parameters: refused */
    int nondet_node;                  /* a peer whose game is not deterministic: desync */
    int steps_node, steps;            /* a peer whose episodes have another length */
    int spectator_tick;               /* a spectator of node 0 starts then (0: none) */
} scenario;

#define NONE 0 /* node 0 is never a "peer": 0 means none in the fields above */

static bool summary_equal(const fz_summary *a, const fz_summary *b)
{
    bool eq = a->ticks == b->ticks && a->frames == b->frames && a->records == b->records &&
              a->frame == b->frame && a->confirmed_frame == b->confirmed_frame &&
              a->episode == b->episode && a->max_rollback_depth == b->max_rollback_depth &&
              a->rollbacks == b->rollbacks && a->resimulated == b->resimulated &&
              a->promoted == b->promoted && a->stalls == b->stalls &&
              a->state_hash == b->state_hash && a->leaves == b->leaves && a->failed == b->failed;
    for (int t = 0; t < FZ_EVENT_TYPES; t++) {
        eq = eq && a->events[t] == b->events[t];
    }
    return eq;
}

static void print_summary(const char *what, const fz_summary *s)
{
    fprintf(stderr,
            "  %s: ticks %lld frames %lld records %lld frame %d confirmed %d episode %d "
            "rollbacks %llu resim %llu promoted %llu stalls %llu hash %016llx failed %d events",
            what, (long long)s->ticks, (long long)s->frames, (long long)s->records, s->frame,
            s->confirmed_frame, s->episode, (unsigned long long)s->rollbacks,
            (unsigned long long)s->resimulated, (unsigned long long)s->promoted,
            (unsigned long long)s->stalls, (unsigned long long)s->state_hash, (int)s->failed);
    for (int t = 0; t < FZ_EVENT_TYPES; t++) {
        if (s->events[t]) {
            fprintf(stderr, " %d:%llu", t, (unsigned long long)s->events[t]);
        }
    }
    fprintf(stderr, "\n");
}

static void check(rollnet_error err, const char *what)
{
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "fuzz_seeds: %s: %s\n", what, rollnet_error_string(err));
        exit(1);
    }
}

static fz_node g_nodes[FZ_MAX_NODES];

static int record(const scenario *sc)
{
    const fz_variant *v = &fz_variants[sc->variant];
    /* A spectator, when there is one, is the node after the players'. */
    int spect = sc->spectator_tick > 0 ? v->num_nodes : -1;
    rollnet_memnet *net = rollnet_memnet_create(v->num_nodes + (spect >= 0), NULL);
    if (!net) {
        return 1;
    }
    fz_buf out = { 0 }, tick_ops = { 0 };
    fz_put_byte(&out, (uint8_t)sc->variant);
    rec_tp rec;
    bool alive[FZ_MAX_NODES] = { false }, paused[FZ_MAX_NODES] = { false };
    bool cut[FZ_MAX_NODES] = { false };

    /* Harness-style clock: frames of 1/60 s without drift, in ms. */
    uint64_t start_us = 1000u * 1000u;
    uint64_t replay_now = 1000; /* node 0's clock as the replay will see it */

    for (int tick = 0; tick < sc->ticks; tick++) {
        uint64_t now = (start_us + (uint64_t)(tick + 1) * 1000000u / 60u) / 1000u;
        for (int k = 0; k < v->num_nodes; k++) {
            if (alive[k] || cut[k] || tick != sc->start_tick[k]) {
                continue;
            }
            rollnet_session_desc d;
            fz_desc(v, k, &d);
            rollnet_transport t = rollnet_memnet_transport(net, k);
            if (sc->netsim[k]) {
                rollnet_netsim_desc nd;
                check(rollnet_netsim_parse(sc->netsim[k], &nd), "netsim spec");
                check(rollnet_netsim_create(t, &nd, NULL, &t), "netsim create");
            }
            if (k == 0) {
                rec.inner = t;
                rec.ops = &tick_ops;
                d.transport = (rollnet_transport){ &rec_vtable, &rec };
            } else {
                d.transport = t;
            }
            if (k != NONE && k == sc->fps_node) {
                d.fps = 30;
            }
            if (k != NONE && k == sc->rules_node) {
                d.game_params = fz_other_rules;
                d.game_params_size = sizeof fz_other_rules;
            }
            int32_t steps = k != NONE && k == sc->steps_node ? sc->steps : v->max_steps;
            fz_node_init_desc(&g_nodes[k], v, k, &d, steps);
            g_nodes[k].game.nondeterministic = k != NONE && k == sc->nondet_node;
            alive[k] = true;
        }
        if (spect >= 0 && tick == sc->spectator_tick) {
            rollnet_session_desc d;
            fz_desc(v, spect, &d); /* every player remote, no address */
            d.kind = ROLLNET_SESSION_SPECTATOR;
            d.spectate_address = fz_addresses[0];
            d.transport = rollnet_memnet_transport(net, spect);
            fz_node_init_desc(&g_nodes[spect], v, spect, &d, v->max_steps);
            alive[spect] = true;
        }
        if (sc->close_node != NONE && tick == sc->close_tick && alive[sc->close_node]) {
            fz_node_destroy(&g_nodes[sc->close_node]);
            alive[sc->close_node] = false;
        }
        if (sc->cut_node != NONE && tick == sc->cut_tick && alive[sc->cut_node]) {
            rollnet_memnet_set_cut(net, sc->cut_node, true);
            cut[sc->cut_node] = true;
            paused[sc->cut_node] = true;
        }
        if (sc->load_node != NONE && alive[sc->load_node]) {
            fz_node *n = &g_nodes[sc->load_node];
            if (tick == sc->load_tick) {
                check(rollnet_session_begin_loading(n->s, now), "begin_loading");
                paused[sc->load_node] = true;
            } else if (tick == sc->load_tick + sc->load_ticks) {
                check(rollnet_session_end_loading(n->s, now), "end_loading");
                paused[sc->load_node] = false;
            }
        }
        if (sc->busy_node != NONE && alive[sc->busy_node]) {
            int in = tick - sc->busy_tick;
            paused[sc->busy_node] = in >= 0 && in < sc->busy_ticks;
            if (paused[sc->busy_node] && in % 15 == 14) {
                rollnet_memnet_send_busy(net, sc->busy_node, (uint32_t)(in * 1000 / 60));
            }
        }
        /* Node 0: everything it does is an op of the recording. */
        fz_node *n0 = &g_nodes[0];
        if (sc->local_load_ticks > 0 && tick == sc->local_load_tick) {
            fz_put_byte(&out, 0xc0);
            check(rollnet_session_begin_loading(n0->s, replay_now), "begin_loading");
            paused[0] = true;
        } else if (sc->local_load_ticks > 0 && tick == sc->local_load_tick + sc->local_load_ticks) {
            uint64_t whole = (now - replay_now) / 32 * 32;
            fz_put_time(&out, whole, false);
            replay_now += whole;
            fz_put_byte(&out, 0xc1);
            check(rollnet_session_end_loading(n0->s, replay_now), "end_loading");
            paused[0] = false;
        }
        if (sc->unread_ticks > 0 &&
            (tick == sc->unread_tick || tick == sc->unread_tick + sc->unread_ticks)) {
            fz_put_byte(&out, 0xc3);
            n0->read_records = !n0->read_records;
        }
        if (!paused[0]) {
            tick_ops.len = 0;
            fz_tick(n0, now);
            if (tick_ops.len) {
                fz_put(&out, tick_ops.data, tick_ops.len);
            }
            fz_put_time(&out, now - replay_now, true);
            replay_now = now;
        }
        for (int k = 1; k < v->num_nodes + (spect >= 0); k++) {
            if (alive[k] && !paused[k]) {
                fz_tick(&g_nodes[k], now);
            }
        }
    }
    fz_summarise(&g_nodes[0]);
    fz_summary recorded = g_nodes[0].sum;
    for (int k = 0; k < v->num_nodes + (spect >= 0); k++) {
        if (alive[k]) {
            fz_node_destroy(&g_nodes[k]);
        }
    }
    rollnet_memnet_destroy(net);
    free(tick_ops.data);

    fz_summary replayed;
    memset(&replayed, 0, sizeof replayed);
    fz_run(out.data, out.len, &replayed);
    int rc = 0;
    if (!summary_equal(&recorded, &replayed)) {
        fprintf(stderr, "fuzz_seeds: session/%s: the replay differs from the recorded session\n",
                sc->name);
        print_summary("recorded", &recorded);
        print_summary("replayed", &replayed);
        rc = 1;
    } else {
        write_seed("session", sc->name, out.data, out.len);
        printf("session/%-28s %6zu bytes: %lld frames, confirmed %d, %llu rollbacks, %lld records\n",
               sc->name, out.len, (long long)recorded.frames, recorded.confirmed_frame,
               (unsigned long long)recorded.rollbacks, (long long)recorded.records);
    }
    free(out.data);
    return rc;
}

#define LOSSY "delay=40,jitter=15,loss=10,dup=3,reorder=5,seed=3"
#define LOSSY2 "delay=25,jitter=25,loss=20,dup=5,reorder=10,seed=11"

static const scenario k_scenarios[] = {
    /* 2p-host: node 0 hosts, node 1 joins. */
    { .name = "2p-host-clean", .variant = 0, .ticks = 200 },
    { .name = "2p-host-lossy", .variant = 0, .ticks = 200, .netsim = { [1] = LOSSY } },
    { .name = "2p-host-lossy-both", .variant = 0, .ticks = 200,
      .netsim = { [0] = LOSSY2, [1] = LOSSY2 } },
    { .name = "2p-host-late-peer", .variant = 0, .ticks = 200, .start_tick = { [1] = 60 } },
    { .name = "2p-host-no-peer", .variant = 0, .ticks = 150, .start_tick = { [1] = 1000 } },
    { .name = "2p-host-peer-closes", .variant = 0, .ticks = 200, .close_node = 1,
      .close_tick = 100 },
    { .name = "2p-host-peer-silent", .variant = 0, .ticks = 200, .cut_node = 1, .cut_tick = 80 },
    { .name = "2p-host-peer-loads", .variant = 0, .ticks = 220, .load_node = 1, .load_tick = 60,
      .load_ticks = 60 },
    { .name = "2p-host-peer-busy", .variant = 0, .ticks = 260, .busy_node = 1, .busy_tick = 60,
      .busy_ticks = 120 },
    { .name = "2p-host-local-loads", .variant = 0, .ticks = 200, .local_load_tick = 60,
      .local_load_ticks = 40 },
    { .name = "2p-host-ledger-full", .variant = 0, .ticks = 200, .unread_tick = 40,
      .unread_ticks = 80 },
    { .name = "2p-host-refused", .variant = 0, .ticks = 80, .fps_node = 1 },
    { .name = "2p-host-desync", .variant = 0, .ticks = 200, .nondet_node = 1 },
    { .name = "2p-host-episode-ends-differ", .variant = 0, .ticks = 200, .steps_node = 1,
      .steps = 35 },
    { .name = "2p-host-spectator", .variant = 0, .ticks = 200, .spectator_tick = 1 },
    { .name = "2p-host-lossy-spectator", .variant = 0, .ticks = 200, .spectator_tick = 1,
      .netsim = { [1] = LOSSY } },
    /* 2p-join: node 0 connects to node 1. */
    { .name = "2p-join-clean", .variant = 1, .ticks = 200 },
    { .name = "2p-join-lossy", .variant = 1, .ticks = 200, .netsim = { [1] = LOSSY } },
    { .name = "2p-join-peer-closes", .variant = 1, .ticks = 160, .close_node = 1,
      .close_tick = 90 },
    { .name = "2p-join-peer-loads", .variant = 1, .ticks = 200, .load_node = 1, .load_tick = 50,
      .load_ticks = 70 },
    { .name = "2p-join-refused", .variant = 1, .ticks = 80, .fps_node = 1 },
    { .name = "2p-join-rules-differ", .variant = 1, .ticks = 80, .rules_node = 1 },
    { .name = "2p-host-rules-differ", .variant = 0, .ticks = 80, .rules_node = 1 },
    /* 3p-mesh: nodes 1 and 2 connect to node 0, node 2 to node 1. */
    { .name = "3p-mesh-clean", .variant = 2, .ticks = 200 },
    { .name = "3p-mesh-lossy", .variant = 2, .ticks = 200,
      .netsim = { [1] = LOSSY, [2] = LOSSY2 } },
    { .name = "3p-mesh-peer-closes", .variant = 2, .ticks = 200, .close_node = 2,
      .close_tick = 100 },
    { .name = "3p-mesh-peer-silent", .variant = 2, .ticks = 220, .cut_node = 1, .cut_tick = 90 },
    { .name = "3p-mesh-lossy-peer-closes", .variant = 2, .ticks = 200,
      .netsim = { [1] = LOSSY, [2] = LOSSY }, .close_node = 1, .close_tick = 100 },
    { .name = "3p-mesh-desync", .variant = 2, .ticks = 200, .nondet_node = 2 },
    /* 4p-pairs: two players on each node. */
    { .name = "4p-pairs-clean", .variant = 3, .ticks = 200 },
    { .name = "4p-pairs-lossy", .variant = 3, .ticks = 200, .netsim = { [1] = LOSSY } },
    { .name = "4p-pairs-peer-closes", .variant = 3, .ticks = 160, .close_node = 1,
      .close_tick = 90 },
};

/* ------------------------------------------------------------------------ */
/* protocol: valid messages                                                  */
/* ------------------------------------------------------------------------ */

static void seed_message(const char *name, const rn_msg *m, int block_size)
{
    uint8_t buf[RN_MAX_MESSAGE];
    size_t n = rn_encode(m, block_size, buf, sizeof buf);
    if (n == 0) {
        fprintf(stderr, "fuzz_seeds: protocol/%s does not encode\n", name);
        exit(1);
    }
    write_seed("protocol", name, buf, n);
}

/* Bot-like inputs: held for a while, then changed. */
static void bot_inputs(uint8_t *out, int count, int block_size, uint64_t seed)
{
    tg_bot bot;
    tg_bot_init(&bot, seed, block_size > ROLLNET_MAX_INPUT_SIZE ? ROLLNET_MAX_INPUT_SIZE : block_size);
    for (int f = 0; f < count; f++) {
        for (int b = 0; b < block_size; b += ROLLNET_MAX_INPUT_SIZE) {
            int n = block_size - b < ROLLNET_MAX_INPUT_SIZE ? block_size - b : ROLLNET_MAX_INPUT_SIZE;
            memcpy(out + (size_t)f * (size_t)block_size + (size_t)b, tg_bot_next(&bot), (size_t)n);
        }
    }
}

static void seeds_protocol(void)
{
    static uint8_t inputs[RN_MAX_INPUT_FRAMES * ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE];
    rn_msg m;
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_HELLO;
    m.u.hello = (rn_hello){ .version = RN_PROTOCOL_VERSION, .nonce = 0x1001, .num_players = 2,
                            .input_size = 1, .input_delay = 1, .fps = 60, .max_prediction = 8,
                            .checksum_interval = 8, .game_id = FZ_GAME_ID, .seed = FZ_SEED,
                            .player_mask = 2 };
    seed_message("hello", &m, 1);
    m.u.hello.checksum_interval = ROLLNET_CHECKSUMS_OFF;
    m.u.hello.nonce = UINT64_MAX;
    m.u.hello.player_mask = 0xc;
    seed_message("hello-big-values", &m, 1);
    m.u.hello.game_params = fz_rules;
    m.u.hello.game_params_size = sizeof fz_rules;
    seed_message("hello-game-params", &m, 1);
    m.u.hello.keyed = true;
    seed_message("hello-keyed", &m, 1);
    m.u.hello.player_mask = 0;
    seed_message("hello-spectator", &m, 1);

    memset(&m, 0, sizeof m);
    m.type = RN_MSG_STATE_HEAD;
    m.u.state_head = (rn_state_head){ .tag = rn_nonce_tag(0x1000), .frame = 300, .episode = 2,
                                      .episode_start = 240, .size = 1500,
                                      .checksum = 0x0123456789abcdefull };
    seed_message("state-head", &m, 1);
    static uint8_t chunk[RN_STATE_CHUNK_BYTES];
    bot_inputs(chunk, RN_STATE_CHUNK_BYTES, 1, 5);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_STATE_CHUNK;
    m.u.state_chunk = (rn_state_chunk){ .tag = rn_nonce_tag(0x1000), .offset = 1024,
                                        .data = chunk, .size = 476 };
    seed_message("state-chunk", &m, 1);
    static uint8_t watch[32 * 2];
    bot_inputs(watch, 32, 2, 9);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH;
    m.u.watch = (rn_watch){ .tag = rn_nonce_tag(0x1000), .start_frame = 64, .count = 32,
                            .end_frame = -1, .inputs = watch };
    seed_message("watch-bs2", &m, 2);
    m.u.watch = (rn_watch){ .tag = rn_nonce_tag(0x1000), .start_frame = 96, .count = 0,
                            .end_frame = 96 };
    seed_message("watch-end", &m, 2);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_WATCH_ACK;
    m.u.watch_ack = (rn_watch_ack){ .tag = rn_nonce_tag(0x1002), .next_frame = 80 };
    seed_message("watch-ack", &m, 1);

    memset(&m, 0, sizeof m);
    m.type = RN_MSG_REFUSE;
    m.u.refuse = (rn_refuse){ .param = ROLLNET_PARAM_FPS, .local_value = 60, .remote_value = 30 };
    seed_message("refuse", &m, 1);
    m.u.refuse = (rn_refuse){ .param = ROLLNET_PARAM_SEED, .local_value = INT64_MIN,
                              .remote_value = INT64_MAX };
    seed_message("refuse-extremes", &m, 1);
    m.u.refuse = (rn_refuse){ .param = ROLLNET_PARAM_GAME_PARAMS, .local_value = 1,
                              .remote_value = 0, .key = "level" };
    seed_message("refuse-game-params", &m, 1);

    static const struct { const char *name; int bs, count, start, ack, episode; } k_inputs[] = {
        { "input-empty", 1, 0, 0, -1, 0 },
        { "input-bs1-steady", 1, 4, 40, 39, 0 },
        { "input-bs1-long", 1, 60, 100, 90, 2 },
        { "input-bs2", 2, 12, 7, 5, 0 },
        { "input-bs3-max-frames", 3, RN_MAX_INPUT_FRAMES, 1000, 999, 1 },
        { "input-bs8", 8, 6, 0, -1, 0 },
        { "input-bs64", 64, 3, 20, 10, 0 },
        { "input-bs256", ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE, 2, RN_MAX_FRAME - 1,
          RN_MAX_FRAME - 2, 3 },
    };
    for (size_t i = 0; i < sizeof k_inputs / sizeof k_inputs[0]; i++) {
        memset(&m, 0, sizeof m);
        m.type = RN_MSG_INPUT;
        m.u.input.tag = rn_nonce_tag(0x1001);
        m.u.input.episode = k_inputs[i].episode;
        m.u.input.ack_frame = k_inputs[i].ack;
        m.u.input.count = k_inputs[i].count;
        m.u.input.start_frame = k_inputs[i].count ? k_inputs[i].start : k_inputs[i].ack;
        m.u.input.frame_advantage = (int8_t)(i * 3 - 5);
        m.u.input.delay = (int8_t)(i % 3);
        bot_inputs(inputs, k_inputs[i].count, k_inputs[i].bs, 77 + i);
        m.u.input.inputs = inputs;
        seed_message(k_inputs[i].name, &m, k_inputs[i].bs);
    }

    memset(&m, 0, sizeof m);
    m.type = RN_MSG_CHECKSUM;
    m.u.checksum = (rn_checksum){ .tag = rn_nonce_tag(0x1001), .episode = 1, .frame = 64,
                                  .checksum = 0x0123456789abcdefull };
    seed_message("checksum", &m, 1);

    memset(&m, 0, sizeof m);
    m.type = RN_MSG_LOADING;
    m.u.loading = (rn_loading){ .tag = rn_nonce_tag(0x1001), .loading = true, .grace_ms = 60000,
                                .frame = 41 };
    seed_message("loading-begin", &m, 1);
    m.u.loading.loading = false;
    m.u.loading.frame = -1;
    seed_message("loading-end", &m, 1);

    uint8_t packed[RN_MAX_MESSAGE];
    size_t packed_len = 0;
    bot_inputs(inputs, 5, 1, 9);
    if (!rn_inputs_compress(inputs, 5, 1, packed, sizeof packed, &packed_len)) {
        exit(1);
    }
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_LEAVE;
    m.u.leave = (rn_leave){ .tag = rn_nonce_tag(0x1002), .player_mask = 4, .last_frame = 90,
                            .count = 5, .data = packed, .size = packed_len,
                            .fin_stop = -1, .fin_end = -1, .neutral_from = 80 };
    seed_message("leave", &m, 1);
    m.u.leave = (rn_leave){ .tag = rn_nonce_tag(0x1002), .player_mask = 6, .last_frame = -1, .left = true,
                            .count = 0, .data = NULL, .size = 0,
                            .fin_stop = 300, .fin_end = 302, .neutral_from = -1 };
    seed_message("leave-none", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_ABSENT;
    m.u.absent = (rn_absent){ .tag = rn_nonce_tag(0x1002), .player_mask = 4, .nonce = 0x2002,
                              .last_frame = 90, .neutral_from = -1, .count = 5,
                              .data = packed, .size = packed_len, .survivors = 3 };
    seed_message("absent", &m, 1);
    m.u.absent = (rn_absent){ .tag = rn_nonce_tag(0x1002), .player_mask = 4, .nonce = 0,
                              .last_frame = 300, .neutral_from = 91, .count = 5,
                              .data = packed, .size = packed_len, .survivors = 3 };
    seed_message("absent-neutral", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_FINISH;
    m.u.finish = (rn_finish){ .tag = rn_nonce_tag(0x1002), .stop = 900, .inputs_end = 902 };
    seed_message("finish", &m, 1);
    m.u.finish.done = true;
    seed_message("finish-done", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_READY;
    m.u.ready.elapsed_ms = 16;
    seed_message("ready", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_AUTH;
    for (int i = 0; i < RN_AUTH_BYTES; i++) {
        m.u.auth.proof[i] = (uint8_t)(0xa5 ^ (i * 29));
    }
    seed_message("auth", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_INTRO;
    m.u.intro.tag = 0x1234;
    m.u.intro.player_mask = 0x4;
    m.u.intro.address = "127.0.0.1:7001";
    m.u.intro.address_len = 14;
    seed_message("intro", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_INTRO_ASK;
    m.u.intro_ask.tag = 0x1234;
    m.u.intro_ask.player_mask = 0x6;
    seed_message("intro-ask", &m, 1);
    memset(&m, 0, sizeof m);
    m.type = RN_MSG_RESUME;
    m.u.resume.kind = RN_RESUME_CLAIM;
    m.u.resume.nonce = 0x1001;
    m.u.resume.peer_nonce = 0x1000;
    m.u.resume.player_mask = 2;
    seed_message("resume-claim", &m, 1);
    m.u.resume.kind = RN_RESUME_PROOF;
    m.u.resume.challenge = 7;
    m.u.resume.has_proof = true;
    for (int i = 0; i < RN_AUTH_BYTES; i++) {
        m.u.resume.proof[i] = (uint8_t)(0x5a ^ (i * 31));
    }
    seed_message("resume-proof", &m, 1);
}

/* ------------------------------------------------------------------------ */
/* inputs: [block size - 1][max frames][compressed data]                     */
/* ------------------------------------------------------------------------ */

static void seeds_inputs(void)
{
    static uint8_t inputs[RN_MAX_INPUT_FRAMES * ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE];
    static uint8_t buf[2 + sizeof inputs * 2];
    static const struct { const char *name; int bs, count, max; bool zeros; } k_cases[] = {
        { "bs1-16", 1, 16, 128, false },
        { "bs1-exact-max", 1, 32, 32, false },
        { "bs2-40", 2, 40, 128, false },
        { "bs3-128", 3, 128, 128, false },
        { "bs8-idle", 8, 100, 128, true },
        { "bs64-5", 64, 5, 16, false },
        { "bs256-2", ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE, 2, 4, false },
        { "bs4-none", 4, 0, 0, false },
    };
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        if (k_cases[i].zeros) {
            memset(inputs, 0, sizeof inputs);
        } else {
            bot_inputs(inputs, k_cases[i].count, k_cases[i].bs, 5 + i);
        }
        size_t len = 0;
        buf[0] = (uint8_t)(k_cases[i].bs - 1);
        buf[1] = (uint8_t)k_cases[i].max;
        if (!rn_inputs_compress(inputs, k_cases[i].count, k_cases[i].bs, buf + 2, sizeof buf - 2,
                                &len)) {
            exit(1);
        }
        write_seed("inputs", k_cases[i].name, buf, len + 2);
    }
}

/* ------------------------------------------------------------------------ */
/* snapshot: [script length][script][snapshot]                               */
/* ------------------------------------------------------------------------ */

/* Script ops as fuzz_snapshot.c reads them (low nibble). */
enum { OP_INT, OP_UINT, OP_DOUBLE, OP_BOOL, OP_BIN, OP_STR, OP_ARRAY, OP_MAP, OP_NIL, OP_BIN_EXACT };

static void script_for(const msgpack_object *o, uint8_t *script, size_t *n, size_t cap)
{
    if (*n >= cap) {
        return;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: script[(*n)++] = OP_UINT; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: script[(*n)++] = OP_INT; break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: script[(*n)++] = OP_DOUBLE; break;
    case MSGPACK_OBJECT_BOOLEAN: script[(*n)++] = OP_BOOL; break;
    case MSGPACK_OBJECT_NIL: script[(*n)++] = OP_NIL; break;
    case MSGPACK_OBJECT_STR: script[(*n)++] = OP_STR; break;
    case MSGPACK_OBJECT_BIN:
        /* An exact read of a small one: length index in the high nibble. */
        if (o->via.bin.size == 16) {
            script[(*n)++] = OP_BIN_EXACT | 0x50;
        } else {
            script[(*n)++] = OP_BIN;
        }
        break;
    case MSGPACK_OBJECT_ARRAY:
        script[(*n)++] = OP_ARRAY;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            script_for(&o->via.array.ptr[i], script, n, cap);
        }
        break;
    case MSGPACK_OBJECT_MAP:
        script[(*n)++] = OP_MAP;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            script_for(&o->via.map.ptr[i].key, script, n, cap);
            script_for(&o->via.map.ptr[i].val, script, n, cap);
        }
        break;
    default:
        script[(*n)++] = OP_NIL;
        break;
    }
}

static void seed_snapshot(const char *name, const uint8_t *data, size_t len)
{
    static uint8_t buf[1 + 255 + 4096];
    uint8_t script[255];
    size_t n = 0;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 65536)) {
        exit(1);
    }
    size_t off = 0;
    while (off < len && n < sizeof script) {
        msgpack_object o;
        if (msgpack_unpack((const char *)data, len, &off, &zone, &o) < 0) {
            break; /* deeper than msgpack-c goes: the reads stop here too */
        }
        script_for(&o, script, &n, sizeof script);
    }
    msgpack_zone_destroy(&zone);
    if (len > 4096) {
        exit(1);
    }
    buf[0] = (uint8_t)n;
    memcpy(buf + 1, script, n);
    memcpy(buf + 1 + n, data, len);
    write_seed("snapshot", name, buf, 1 + n + len);
}

static void seeds_snapshot(void)
{
    static uint8_t snap[4096];
    rollnet_writer w;
    static const struct { const char *name; int players, frames; size_t blob; } k_games[] = {
        { "testgame-2p-start", 2, 0, 16 },
        { "testgame-2p-frame-90", 2, 90, 0 },
        { "testgame-4p-frame-30", 4, 30, 40 },
    };
    for (size_t i = 0; i < sizeof k_games / sizeof k_games[0]; i++) {
        tg_game g;
        if (!tg_init(&g, 3 + i, k_games[i].players, 1, k_games[i].blob, 40)) {
            exit(1);
        }
        tg_bot bot;
        tg_bot_init(&bot, 21, 1);
        uint8_t in[ROLLNET_MAX_PLAYERS];
        for (int f = 0; f < k_games[i].frames; f++) {
            for (int p = 0; p < k_games[i].players; p++) {
                in[p] = tg_bot_next(&bot)[0];
            }
            tg_step(&g, in);
        }
        rn_writer_init(&w, snap, sizeof snap);
        tg_save(&g, &w);
        seed_snapshot(k_games[i].name, snap, w.len);
        if (i == 1) {
            rn_writer_init(&w, snap, sizeof snap);
            g.write_records = true;
            tg_write_record(&g, &w, in);
            seed_snapshot("testgame-record", snap, w.len);
        }
    }
    /* Every kind of value the writer has, in containers. */
    rn_writer_init(&w, snap, sizeof snap);
    rollnet_write_nil(&w);
    rollnet_write_bool(&w, true);
    rollnet_write_bool(&w, false);
    rollnet_write_int(&w, -1);
    rollnet_write_int(&w, INT64_MIN);
    rollnet_write_uint(&w, UINT64_MAX);
    rollnet_write_uint(&w, 200);
    rollnet_write_double(&w, 0.1);
    rollnet_write_double(&w, -1e300);
    rollnet_write_str(&w, "rollnet", 7);
    uint8_t blob[16] = { 1, 2, 3, 0, 0, 0, 7 };
    rollnet_write_bin(&w, blob, sizeof blob);
    rollnet_write_array(&w, 3);
    rollnet_write_int(&w, 1);
    rollnet_write_map(&w, 1);
    rollnet_write_str(&w, "k", 1);
    rollnet_write_array(&w, 0);
    rollnet_write_nil(&w);
    seed_snapshot("every-type", snap, w.len);
    /* Deep nesting, to the reader's depth limit and one past it. */
    for (int depth = 31; depth <= 33; depth += 2) {
        rn_writer_init(&w, snap, sizeof snap);
        for (int d = 0; d < depth; d++) {
            rollnet_write_array(&w, 1);
        }
        rollnet_write_int(&w, 5);
        seed_snapshot(depth == 31 ? "nested-31" : "nested-33", snap, w.len);
    }
}

/* ------------------------------------------------------------------------ */
/* export: [columns][record]                                                 */
/* ------------------------------------------------------------------------ */

static void seeds_export(void)
{
    static uint8_t buf[1 + 1024];
    rollnet_writer w;
    for (int players = 2; players <= 4; players += 2) {
        tg_game g;
        if (!tg_init(&g, 5, players, 1, 0, 40)) {
            exit(1);
        }
        uint8_t in[ROLLNET_MAX_PLAYERS] = { 3, 8, 1, 2 };
        for (int f = 0; f < 17; f++) {
            tg_step(&g, in);
        }
        rn_writer_init(&w, buf + 1, sizeof buf - 1);
        tg_write_row(&g, &w);
        buf[0] = (uint8_t)(3 * players + 4);
        write_seed("export", players == 2 ? "testgame-row-2p" : "testgame-row-4p", buf, 1 + w.len);
    }
    rn_writer_init(&w, buf + 1, sizeof buf - 1);
    rollnet_write_array(&w, 7);
    rollnet_write_nil(&w);
    rollnet_write_bool(&w, true);
    rollnet_write_int(&w, -12345678901ll);
    rollnet_write_uint(&w, UINT64_MAX);
    rollnet_write_double(&w, 0.1);
    rollnet_write_double(&w, 1e16);
    rollnet_write_str(&w, "a,\"b\"\nc", 7);
    buf[0] = 7;
    write_seed("export", "every-scalar", buf, 1 + w.len);
    buf[0] = 0;
    write_seed("export", "empty-record", buf, 1);
    rn_writer_init(&w, buf + 1, sizeof buf - 1);
    rollnet_write_array(&w, 0);
    write_seed("export", "empty-array", buf, 1 + w.len);
}

/* ------------------------------------------------------------------------ */
/* replay_file: a replay file's bytes                                        */
/* ------------------------------------------------------------------------ */

/* A sync test of `frames` frames recorded to a replay, its bytes as a seed. */
static void seed_replay(const char *name, int players, int input_size, int32_t max_steps,
                        int frames, bool records)
{
    char path[] = "/tmp/rollnet_fuzz_seed_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        exit(1);
    }
    close(fd);
    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = players;
    d.input_size = input_size;
    d.snapshot_capacity = 4096;
    d.record_capacity = 512;
    rollnet_session *s = NULL;
    rollnet_replay_recorder *rec = NULL;
    rollnet_replay_recorder_desc rd = {.path = path};
    tg_game g;
    check(rollnet_session_create(&d, &s), "replay seed: session");
    check(rollnet_replay_recorder_open(&rd, s, &rec), "replay seed: recorder");
    if (!tg_init(&g, 9, players, input_size, 0, max_steps)) {
        exit(1);
    }
    g.write_records = records;
    tg_bot bot;
    tg_bot_init(&bot, 4, input_size);
    for (int f = 0; f < frames; f++) {
        for (int p = 0; p < players; p++) {
            check(rollnet_session_add_local_input(s, p, tg_bot_next(&bot), (size_t)input_size),
                  "replay seed: input");
        }
        const rollnet_request *reqs;
        int n = 0;
        check(rollnet_session_advance(s, &reqs, &n), "replay seed: advance");
        check(tg_execute(&g, s, reqs, n), "replay seed: execute");
        rollnet_record r;
        while (rollnet_session_next_record(s, &r)) {
            check(rollnet_replay_recorder_write(rec, &r), "replay seed: write");
        }
    }
    check(rollnet_replay_recorder_close(rec), "replay seed: close");
    rollnet_session_destroy(s);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 16];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (!f || len == 0 || len == sizeof buf) {
        exit(1);
    }
    fclose(f);
    unlink(path);
    write_seed("replay_file", name, buf, len);
}

static void seeds_replay_file(void)
{
    seed_replay("testgame-2p-episodes", 2, 1, 6, 20, true);
    seed_replay("testgame-3p-input2", 3, 2, 0, 9, true);
    seed_replay("testgame-no-records", 2, 1, 4, 7, false);
    seed_replay("testgame-one-frame", 1, 1, 0, 1, true);
}

/* ------------------------------------------------------------------------ */
/* netsim_spec: text                                                         */
/* ------------------------------------------------------------------------ */

static void seeds_netsim_spec(void)
{
    static const struct { const char *name, *spec; } k_specs[] = {
        { "readme", "delay=50,jitter=20,loss=5,dup=1,reorder=2,seed=7" },
        { "fractions", "loss=0.5,dup=0.05,reorder=99.95" },
        { "hundred", "loss=100,dup=100.0,reorder=100.00" },
        { "reorder-ms", "delay=1,reorder=50,reorder_ms=4294967295" },
        { "seed-max", "seed=18446744073709551615" },
        { "one", "delay=0" },
        { "empty", "" },
        { "bad-key", "delay=5,lag=3" },
        { "trailing-comma", "delay=5," },
        { "over-hundred", "loss=100.01" },
    };
    for (size_t i = 0; i < sizeof k_specs / sizeof k_specs[0]; i++) {
        write_seed("netsim_spec", k_specs[i].name, k_specs[i].spec, strlen(k_specs[i].spec));
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR   (writes DIR/<target>/<seed>)\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    int failed = 0;
    for (size_t i = 0; i < sizeof k_scenarios / sizeof k_scenarios[0]; i++) {
        failed |= record(&k_scenarios[i]);
    }
    seeds_protocol();
    seeds_inputs();
    seeds_snapshot();
    seeds_export();
    seeds_netsim_spec();
    seeds_replay_file();
    printf("fuzz_seeds: %d files in %s%s\n", g_files, g_dir, failed ? "; some recordings failed" : "");
    return failed;
}
