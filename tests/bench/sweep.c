/*
 * rollnet-bench's network sweep: the conditions of Fortress Rollback's
 * published baseline (its docs/tuning.md, "Measured baseline"), so the two
 * libraries can be compared row by row.
 *
 *   condition   players  loss  RTT     jitter
 *   2p-lan      2         0 %   10 ms   0 ms
 *   2p-wifi     2         1 %   50 ms  20 ms
 *   2p-mobile   2         5 %  100 ms  20 ms
 *   4p-wifi     4         1 %   50 ms  20 ms
 *   4p-severe   4        15 %  200 ms  20 ms
 *
 * Its sixth row (16 players, regional) is left out: a rollnet session holds
 * at most ROLLNET_MAX_PLAYERS players (the meson option max_players, 2..8).
 *
 * Workload, as Fortress states it: 4-byte inputs, sessions at 60 fps with
 * input delay 0 and max_prediction 8, every node advancing once every 16 ms
 * of virtual time (62.5 ticks per second) whatever the session recommends
 * (WAIT_RECOMMENDED is not obeyed; all nodes run at the same rate). Each
 * node runs the test game; player p's input for frame f is the 32-bit
 * little-endian word f * 31 + p * 7 + 1, Fortress's sweep input: it changes
 * every frame, so every prediction is wrong and every input costs bytes
 * after compression (the low byte always differs). The nodes form a full mesh over one memnet; each
 * node sends through a rollnet_netsim with one-way delay RTT/2 plus a
 * uniform 0..jitter (Fortress's link model: netsim delay RTT/2 + jitter/2,
 * netsim jitter +-jitter/2) and loses that share of unreliable messages
 * independently (reliable ones arrive late instead). Every condition runs
 * SWEEP_RUNS times, SWEEP_SECONDS of virtual time each from session creation
 * (the handshake included, as Fortress counts from its first step), with
 * the simulators seeded SWEEP_SEED + run: the figures are over all runs.
 * Seeds are fixed, so the figures are exactly reproducible; one run alone
 * moves by several percent with the seed (the 4p-severe stalls by +-10 a
 * minute), which is why there are eight.
 *
 * Figures, sweep.<condition>.<figure>:
 *   payload_kib_s_per_player  bytes each session handed its transport, on
 *                   both channels (INPUT, CHECKSUM and the handshake's HELLO
 *                   alike; ENet's own headers, acknowledgements and resends
 *                   are not in it), summed over the node's links, averaged
 *                   over nodes, per virtual second, in KiB (1024 B): the
 *                   sessions' own count, rollnet_peer_stats.bytes_sent. This
 *                   is what Fortress's "Encoded KiB/s/player" states: encoded
 *                   payload at enqueue, without IP/UDP headers, per player
 *                   summed over its remote links.
 *   stalls_per_min  ticks at which a session refused to advance because it
 *                   was stalled (prediction limit, episode barrier, full
 *                   ledger), per node per virtual minute. Fortress counts
 *                   refused advances the same way (its 4-player severe row,
 *                   2064 a minute of 3750 ticks, is more than stalls begun
 *                   every other tick could give).
 *   stall_events_per_min  STALLED events (stalls begun), per node per minute.
 *   rollbacks_per_100_frames  rollbacks per 100 frames that went ahead.
 *   confirm_lag_frames  mean, over every frame that went ahead on every
 *                   node, of that frame minus the node's confirmed frame
 *                   right after it ran (1 when the remote inputs of the
 *                   frame before were in).
 *   confirm_lag_max_frames  the largest such lag.
 *   agree           1 when every node's confirmed ledger equals node 0's
 *                   over their common prefix, no DESYNC event was raised,
 *                   and every node confirmed at least SWEEP_MIN_CONFIRMED
 *                   frames.
 *
 * Run it alone: build-opt/tests/bench/rollnet-bench --filter sweep.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollnet/rollnet.h"
#include "sweep.h"
#include "testgame.h"

#define SWEEP_SECONDS 60
#define SWEEP_TICK_MS 16
#define SWEEP_TICKS (SWEEP_SECONDS * 1000 / SWEEP_TICK_MS)
#define SWEEP_FPS 60
#define SWEEP_INPUT_SIZE 4
#define SWEEP_MAX_PREDICTION 8
#define SWEEP_SEED UINT64_C(0x5eedf00d)
#define SWEEP_RUNS 8
#define SWEEP_MIN_CONFIRMED 100
#define SWEEP_MAX_NODES 4
#define SWEEP_MAX_RECORDS ((size_t)SWEEP_TICKS + 16)

typedef struct sweep_condition {
    const char *label;
    int players;
    uint32_t loss_permille, rtt_ms, jitter_ms;
} sweep_condition;

static const sweep_condition sweep_conditions[] = {
    {"2p-lan", 2, 0, 10, 0},    {"2p-wifi", 2, 10, 50, 20},     {"2p-mobile", 2, 50, 100, 20},
    {"4p-wifi", 4, 10, 50, 20}, {"4p-severe", 4, 150, 200, 20},
};

typedef struct sweep_node {
    rollnet_session *s;
    rollnet_transport sim; /* owned by the session once created */
    tg_game game;
    char addr[SWEEP_MAX_NODES][16];
    uint64_t *hash; /* confirmed records, in frame order */
    size_t nrec;
    uint64_t frames, stalled_ticks, desyncs, lag_sum;
    int32_t lag_max;
} sweep_node;

static void sweep_fail(const char *label, const char *what, rollnet_error err)
{
    fprintf(stderr, "rollnet-bench: sweep.%s: %s: %s\n", label, what, rollnet_error_string(err));
    exit(1);
}

/* Some figure under `prefix` can pass the filter. */
static bool sweep_selected(const char *filter, const char *prefix)
{
    size_t n = strlen(prefix) < strlen(filter) ? strlen(prefix) : strlen(filter);
    return strncmp(prefix, filter, n) == 0;
}

static void sweep_report(const char *filter, const char *prefix, const char *figure,
                         const char *fmt, double value, const char *unit)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s", prefix, figure);
    if (strncmp(name, filter, strlen(filter)) == 0) {
        printf(fmt, name, value, unit);
        fflush(stdout);
    }
}

static void sweep_node_init(sweep_node *n, int i, const sweep_condition *c, rollnet_memnet *net,
                            uint64_t seed)
{
    rollnet_netsim_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.delay_ms = c->rtt_ms / 2 + c->jitter_ms / 2;
    sd.jitter_ms = c->jitter_ms / 2;
    sd.loss_permille = c->loss_permille;
    sd.seed = seed * 31u + (uint64_t)i + 1u;
    rollnet_error err = rollnet_netsim_create(rollnet_memnet_transport(net, i), &sd, NULL, &n->sim);
    n->hash = malloc(SWEEP_MAX_RECORDS * sizeof *n->hash);
    if (err != ROLLNET_ERR_OK || !n->hash ||
        !tg_init(&n->game, SWEEP_SEED, c->players, SWEEP_INPUT_SIZE, 0, 0)) {
        sweep_fail(c->label, "set-up", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    n->game.write_records = true;

    rollnet_session_desc d;
    memset(&d, 0, sizeof d);
    d.kind = ROLLNET_SESSION_P2P;
    d.num_players = c->players;
    d.input_size = SWEEP_INPUT_SIZE;
    d.input_delay = 0;
    d.max_prediction = SWEEP_MAX_PREDICTION;
    d.fps = SWEEP_FPS;
    d.seed = SWEEP_SEED;
    d.nonce = 0x1000u + (uint64_t)i;
    d.transport = n->sim;
    for (int j = 0; j < c->players; j++) {
        d.players[j].kind = j == i ? ROLLNET_PLAYER_LOCAL : ROLLNET_PLAYER_REMOTE;
        if (j > i) { /* the lower index connects */
            snprintf(n->addr[j], sizeof n->addr[j], "mem:%d", j);
            d.players[j].address = n->addr[j];
        }
    }
    err = rollnet_session_create(&d, &n->s);
    if (err != ROLLNET_ERR_OK) {
        sweep_fail(c->label, "session create", err);
    }
}

static uint64_t sweep_record_hash(const rollnet_record *r, int players)
{
    uint8_t buf[2 * sizeof(int32_t) + SWEEP_MAX_NODES * SWEEP_INPUT_SIZE + 1024];
    size_t n = 0;
    memcpy(buf + n, &r->frame, sizeof r->frame);
    n += sizeof r->frame;
    memcpy(buf + n, &r->step, sizeof r->step);
    n += sizeof r->step;
    memcpy(buf + n, r->inputs, (size_t)players * SWEEP_INPUT_SIZE);
    n += (size_t)players * SWEEP_INPUT_SIZE;
    size_t data = r->size < sizeof buf - n ? r->size : sizeof buf - n;
    if (data) {
        memcpy(buf + n, r->data, data);
        n += data;
    }
    return rollnet_checksum(buf, n);
}

static bool sweep_is_stall(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_LEDGER_FULL;
}

/* Advance one frame (or carry out a pending rollback alone); the lag when
 * a new frame went ahead. */
static rollnet_error sweep_advance(sweep_node *n, const sweep_condition *c, int local,
                                   int32_t frame)
{
    uint32_t word = (uint32_t)frame * 31u + (uint32_t)local * 7u + 1u;
    uint8_t input[SWEEP_INPUT_SIZE] = {(uint8_t)word, (uint8_t)(word >> 8), (uint8_t)(word >> 16),
                                       (uint8_t)(word >> 24)};
    rollnet_error err = rollnet_session_add_local_input(n->s, local, input, SWEEP_INPUT_SIZE);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    const rollnet_request *reqs = NULL;
    int count = 0;
    err = rollnet_session_advance(n->s, &reqs, &count);
    if (err != ROLLNET_ERR_OK) {
        return err;
    }
    bool ran = false;
    for (int i = 0; i < count; i++) {
        ran |= reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY);
    }
    err = tg_execute(&n->game, n->s, reqs, count);
    if (err != ROLLNET_ERR_OK) {
        sweep_fail(c->label, "requests", err);
    }
    if (ran) {
        rollnet_session_stats st;
        rollnet_session_stats_get(n->s, &st);
        int32_t lag = (st.frame - 1) - st.confirmed_frame;
        n->lag_sum += (uint64_t)lag;
        n->lag_max = lag > n->lag_max ? lag : n->lag_max;
        n->frames++;
    }
    return ROLLNET_ERR_OK;
}

/* One tick of one node: poll, advance once, then events and records. Before
 * the handshake is done the tick ends after poll. */
static void sweep_tick(sweep_node *n, const sweep_condition *c, uint64_t now, int local)
{
    rollnet_error err = rollnet_session_poll(n->s, now);
    if (err != ROLLNET_ERR_OK) {
        sweep_fail(c->label, "poll", err);
    }
    rollnet_session_stats st;
    rollnet_session_stats_get(n->s, &st);
    if (st.running) {
        err = sweep_advance(n, c, local, st.frame);
        if (sweep_is_stall(err)) {
            n->stalled_ticks++;
        } else if (err != ROLLNET_ERR_OK) {
            sweep_fail(c->label, "advance", err);
        }
    }
    rollnet_event ev;
    while (rollnet_session_next_event(n->s, &ev)) {
        n->desyncs += ev.type == ROLLNET_EVENT_DESYNC;
    }
    rollnet_record rec;
    while (rollnet_session_next_record(n->s, &rec)) {
        if (n->nrec < SWEEP_MAX_RECORDS) {
            n->hash[n->nrec++] = sweep_record_hash(&rec, c->players);
        }
    }
}

/* Totals over the nodes of one condition. */
typedef struct sweep_totals {
    uint64_t bytes, frames, stalled, stall_events, rollbacks, lag, desyncs;
    int32_t lag_max, min_confirmed;
    bool agree;
} sweep_totals;

static void sweep_sum(const sweep_node *node, int players, sweep_totals *t_out)
{
    sweep_totals t = *t_out;
    for (int i = 0; i < players; i++) {
        const sweep_node *n = &node[i];
        rollnet_session_stats st;
        rollnet_session_stats_get(n->s, &st);
        for (int j = 0; j < players; j++) {
            rollnet_peer_stats ps;
            if (j != i && rollnet_session_peer_stats(n->s, j, &ps) == ROLLNET_ERR_OK) {
                t.bytes += ps.bytes_sent;
            }
        }
        t.frames += n->frames;
        t.stalled += n->stalled_ticks;
        t.stall_events += st.stalls;
        t.rollbacks += st.rollbacks;
        t.lag += n->lag_sum;
        t.lag_max = n->lag_max > t.lag_max ? n->lag_max : t.lag_max;
        t.desyncs += n->desyncs;
        t.min_confirmed = st.confirmed_frame < t.min_confirmed ? st.confirmed_frame
                                                               : t.min_confirmed;
        size_t common = n->nrec < node[0].nrec ? n->nrec : node[0].nrec;
        t.agree = t.agree && memcmp(n->hash, node[0].hash, common * sizeof *n->hash) == 0;
    }
    t.agree = t.agree && t.desyncs == 0 && t.min_confirmed >= SWEEP_MIN_CONFIRMED;
    *t_out = t;
}

/* One run of a condition, its totals added to *t. */
static void sweep_run_once(const sweep_condition *c, uint64_t seed, sweep_totals *t)
{
    rollnet_memnet *net = rollnet_memnet_create(c->players, NULL);
    if (!net) {
        sweep_fail(c->label, "memnet", ROLLNET_ERR_OUT_OF_MEMORY);
    }
    sweep_node node[SWEEP_MAX_NODES];
    memset(node, 0, sizeof node);
    for (int i = 0; i < c->players; i++) {
        sweep_node_init(&node[i], i, c, net, seed);
    }
    for (uint64_t tick = 0; tick < SWEEP_TICKS; tick++) {
        uint64_t now = tick * SWEEP_TICK_MS;
        /* The simulated wire does not wait for its sender. */
        for (int i = 0; i < c->players; i++) {
            rollnet_netsim_flush(&node[i].sim, now);
        }
        for (int i = 0; i < c->players; i++) {
            sweep_tick(&node[i], c, now, i);
        }
    }

    sweep_sum(node, c->players, t);
    for (int i = 0; i < c->players; i++) {
        rollnet_session_destroy(node[i].s); /* destroys its netsim */
        free(node[i].hash);
    }
    rollnet_memnet_destroy(net);
}

static void sweep_run(const char *filter, const sweep_condition *c, const char *prefix)
{
    sweep_totals t = {.min_confirmed = INT32_MAX, .agree = true};
    for (int r = 0; r < SWEEP_RUNS; r++) {
        sweep_run_once(c, SWEEP_SEED + (uint64_t)r, &t);
    }
    double players = (double)c->players * SWEEP_RUNS;
    double minutes = SWEEP_SECONDS / 60.0;
    double frames = t.frames ? (double)t.frames : 1.0;
    sweep_report(filter, prefix, "payload_kib_s_per_player", "%s %.2f %s\n",
                 (double)t.bytes / players / SWEEP_SECONDS / 1024.0, "KiB/s");
    sweep_report(filter, prefix, "stalls_per_min", "%s %.1f %s\n",
                 (double)t.stalled / players / minutes, "ticks/min");
    sweep_report(filter, prefix, "stall_events_per_min", "%s %.1f %s\n",
                 (double)t.stall_events / players / minutes, "stalls/min");
    sweep_report(filter, prefix, "rollbacks_per_100_frames", "%s %.2f %s\n",
                 100.0 * (double)t.rollbacks / frames, "rollbacks");
    sweep_report(filter, prefix, "confirm_lag_frames", "%s %.2f %s\n", (double)t.lag / frames,
                 "frames");
    sweep_report(filter, prefix, "confirm_lag_max_frames", "%s %.0f %s\n", (double)t.lag_max,
                 "frames");
    sweep_report(filter, prefix, "agree", "%s %.0f %s\n", t.agree ? 1.0 : 0.0, "bool");
    fprintf(stderr,
            "rollnet-bench: %s %d runs of %d nodes, %d ticks of %d ms each; %" PRIu64
            " frames went ahead; confirmed frame >= %d on every node; %" PRIu64
            " desync events\n",
            prefix, SWEEP_RUNS, c->players, SWEEP_TICKS, SWEEP_TICK_MS, t.frames,
            t.min_confirmed, t.desyncs);
}

void bench_sweep(const char *filter)
{
    for (size_t i = 0; i < sizeof sweep_conditions / sizeof sweep_conditions[0]; i++) {
        const sweep_condition *c = &sweep_conditions[i];
        char prefix[64];
        snprintf(prefix, sizeof prefix, "sweep.%s.", c->label);
        if (c->players <= ROLLNET_MAX_PLAYERS && sweep_selected(filter, prefix)) {
            sweep_run(filter, c, prefix);
        }
    }
}
