/* Rollback while the network thread writes: three peers in one process, each
 * with its own game thread and an ENet transport with a service thread, over
 * 127.0.0.1. Every outgoing link loses, delays, jitters and reorders
 * messages (the network simulator on the sending side), so each game thread
 * rolls back deeply nearly every frame, with a large state (the test game's
 * largest blob), while its service thread receives from the two other peers
 * at full rate. Built with -Db_sanitize=thread (meson test --setup tsan) it
 * asks ThreadSanitizer whether the game thread ever reads what the service
 * thread writes without the hand-over; in every build it checks that the
 * peers' confirmed ledgers agree frame by frame and that the rollbacks were
 * deep and frequent.
 *
 * Real time, bounded: STRESS_FRAMES confirmed frames (or the wall-clock cap).
 * Exit 0 on success, 1 with a message on failure. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "harness.h"
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"
#include "testgame.h"

#define NODES 3
#define STRESS_FRAMES 900          /* confirmed frames every node must reach */
#define STRESS_CAP_MS 240000u      /* the wall-clock cap (TSan slows everything) */
#define FPS 60

typedef struct node {
    int index;
    rollnet_session *s;
    tg_game g;
    harness_peer hp;
    char addr[NODES][32];
    uint64_t *hash; /* per confirmed frame */
    int records;
    rollnet_error error;
    pthread_t thread;
} node;

static node nodes[NODES];
static atomic_int reached;  /* nodes with STRESS_FRAMES records */
static atomic_bool failed;
static uint64_t start_ms;

static uint64_t clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void read_records(node *n)
{
    rollnet_record r;
    while (rollnet_session_next_record(n->s, &r)) {
        if (r.frame != n->records) {
            fprintf(stderr, "node %d: record of frame %d, expected %d\n", n->index, r.frame,
                    n->records);
            atomic_store(&failed, true);
            return;
        }
        XXH64_state_t *st = XXH64_createState();
        XXH64_reset(st, 0);
        XXH64_update(st, &r.frame, sizeof(r.frame));
        XXH64_update(st, r.inputs, (size_t)NODES);
        if (r.size) {
            XXH64_update(st, r.data, r.size);
        }
        if (n->records < STRESS_FRAMES * 4) {
            n->hash[n->records] = XXH64_digest(st);
        }
        XXH64_freeState(st);
        if (++n->records == STRESS_FRAMES) {
            atomic_fetch_add(&reached, 1);
        }
    }
}

/* A new input every frame: a prediction (the last input repeated) is then
 * almost always wrong, so nearly every remote input starts a rollback. */
static void changing_input(int player, int32_t frame, uint8_t *out, int input_size, void *user)
{
    (void)user;
    uint64_t x = XXH64(&frame, sizeof(frame), (uint64_t)player + 1u);
    for (int i = 0; i < input_size; i++) {
        out[i] = (uint8_t)(x >> (8 * (i % 8)));
    }
}

/* The game thread: one frame every 1/FPS s of the real clock. */
static void *game_main(void *arg)
{
    node *n = arg;
    uint64_t frame_us = 1000000u / FPS;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&failed) && atomic_load(&reached) < NODES &&
           clock_ms() - start_ms < STRESS_CAP_MS) {
        rollnet_error err = harness_tick(&n->hp, clock_ms());
        if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
            fprintf(stderr, "node %d: %s\n", n->index, rollnet_error_string(err));
            n->error = err;
            atomic_store(&failed, true);
            break;
        }
        read_records(n);
        /* Pacing (a game's frame clock), not synchronisation. */
        next.tv_nsec += (long)frame_us * 1000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    return NULL;
}

static int fail_msg(const char *what)
{
    fprintf(stderr, "thread_stress: %s\n", what);
    return 1;
}

static int create_nodes(void)
{
    rollnet_transport t[NODES];
    uint16_t port[NODES];
    for (int i = 0; i < NODES; i++) {
        rollnet_enet_desc ed = {.bind_address = "127.0.0.1", .service_thread = true};
        if (rollnet_enet_create(&ed, NULL, &t[i]) != ROLLNET_ERR_OK) {
            return fail_msg("rollnet_enet_create failed");
        }
        port[i] = rollnet_enet_port(&t[i]);
    }
    for (int i = 0; i < NODES; i++) {
        node *n = &nodes[i];
        n->index = i;
        n->hash = calloc(STRESS_FRAMES * 4, sizeof(uint64_t));
        /* Deep rollbacks: inputs arrive 2..7 frames late, some much later. */
        rollnet_netsim_desc nd = {.delay_ms = 70, .jitter_ms = 45, .loss_permille = 50,
                                  .reorder_permille = 100, .dup_permille = 20,
                                  .seed = 1000u + (uint64_t)i};
        if (!n->hash || rollnet_netsim_create(t[i], &nd, NULL, &t[i]) != ROLLNET_ERR_OK) {
            return fail_msg("setup failed");
        }
        rollnet_session_desc d;
        memset(&d, 0, sizeof(d));
        d.num_players = NODES;
        d.input_size = 1;
        d.fps = FPS;
        d.seed = 77;
        d.nonce = 0x500u + (uint64_t)i;
        d.snapshot_capacity = 65536;
        d.record_capacity = 4096;
        d.transport = t[i];
        for (int j = 0; j < NODES; j++) {
            d.players[j].kind = j == i ? ROLLNET_PLAYER_LOCAL : ROLLNET_PLAYER_REMOTE;
            if (j > i) {
                snprintf(n->addr[j], sizeof(n->addr[j]), "127.0.0.1:%u", (unsigned)port[j]);
                d.players[j].address = n->addr[j];
            }
        }
        if (!tg_init(&n->g, 77, NODES, 1, TG_MAX_BLOB, 0)) {
            return fail_msg("tg_init failed");
        }
        n->g.write_records = true;
        if (rollnet_session_create(&d, &n->s) != ROLLNET_ERR_OK) {
            return fail_msg("rollnet_session_create failed");
        }
        harness_peer_init(&n->hp, n->s, &n->g, &d, 99);
        n->hp.input_fn = changing_input;
    }
    return 0;
}

static int check(void)
{
    int common = nodes[0].records;
    for (int i = 0; i < NODES; i++) {
        rollnet_session_stats st;
        rollnet_session_stats_get(nodes[i].s, &st);
        printf("node %d: %d confirmed frames, %" PRIu64 " rollbacks, %" PRIu64
               " frames resimulated, deepest %d\n",
               i, nodes[i].records, st.rollbacks, st.frames_resimulated, st.max_rollback_depth);
        if (nodes[i].records < common) {
            common = nodes[i].records;
        }
        /* Rolled back most frames, and deeply. */
        if (st.rollbacks < (uint64_t)STRESS_FRAMES / 2 || st.max_rollback_depth < 4) {
            return fail_msg("too few or too shallow rollbacks to stress anything");
        }
    }
    if (common < STRESS_FRAMES) {
        return fail_msg("the peers did not confirm enough frames in time");
    }
    if (common > STRESS_FRAMES * 4) {
        common = STRESS_FRAMES * 4;
    }
    for (int i = 1; i < NODES; i++) {
        for (int k = 0; k < common; k++) {
            if (nodes[i].hash[k] != nodes[0].hash[k]) {
                fprintf(stderr, "thread_stress: frame %d differs between node 0 and node %d\n", k,
                        i);
                return 1;
            }
        }
    }
    printf("thread_stress: %d confirmed frames agree on %d peers\n", common, NODES);
    return 0;
}

int main(void)
{
    int rc = create_nodes();
    start_ms = clock_ms();
    for (int i = 0; rc == 0 && i < NODES; i++) {
        if (pthread_create(&nodes[i].thread, NULL, game_main, &nodes[i]) != 0) {
            rc = fail_msg("pthread_create failed");
        }
    }
    for (int i = 0; rc == 0 && i < NODES; i++) {
        pthread_join(nodes[i].thread, NULL);
    }
    if (rc == 0) {
        rc = atomic_load(&failed) ? 1 : check();
    }
    for (int i = 0; i < NODES; i++) {
        rollnet_session_destroy(nodes[i].s);
        free(nodes[i].hash);
    }
    return rc;
}
