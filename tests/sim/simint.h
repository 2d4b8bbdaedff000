/* rollnet-sim internals shared by router.c, stranger.c, world.c, oracles.c,
 * spectator.c, rejoin.c, alloc.c and runner.c. */
#ifndef SIMINT_H
#define SIMINT_H

#include <string.h>

#include "harness.h"
#include "peer.h"
#include "protocol.h"
#include "sim.h"
#include "testgame.h"

#define SIM_GAME_ID 0x51A1u /* every peer's game_id */
#define SIM_SABOTAGE_MS 5000u /* self-test: when the sabotage starts */

/* What every session of a scenario shares (peers and spectators): its
 * parameters, timeouts, capacities and key. The caller adds kind, players,
 * nonce, allocator and transport. */
static inline void sim_session_desc(const sim_scenario *sc, rollnet_session_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->num_players = sc->peers;
    d->input_size = sc->input_size;
    d->input_delay = sc->input_delay;
    d->max_prediction = sc->prediction;
    d->fps = SIM_FPS;
    d->checksum_interval = sc->checksum_interval;
    d->handshake_timeout_ms = sc->handshake_ms;
    d->notify_timeout_ms = sc->notify_ms;
    d->disconnect_timeout_ms = sc->disconnect_ms;
    d->loading_grace_ms = sc->loading_ms;
    d->episode_timeout_ms = sc->episode_ms;
    d->reconnect_timeout_ms = sc->reconnect_ms ? sc->reconnect_ms : ROLLNET_RECONNECT_OFF;
    d->snapshot_capacity = 4096;
    d->record_capacity = 512;
    d->ledger_capacity = 64; /* small, so that a game that stops reading fills it */
    d->game_id = SIM_GAME_ID;
    d->seed = sc->seed;
    if (sc->key[0]) {
        d->session_key = sc->key;
        d->session_key_size = strlen(sc->key);
    }
}

/* A HELLO with the scenario's parameters, as a peer would send it (the
 * strangers', stranger.c and keys.c, then change what they lie about). */
static inline void sim_scenario_hello(const sim_scenario *sc, uint64_t nonce, rn_msg *m)
{
    rollnet_session_desc d;
    sim_session_desc(sc, &d);
    rn_peer_make_hello(&d, nonce, 0, m);
    m->u.hello.keyed = false; /* the caller says what key it claims to know */
}

/* Node i's session nonce (world.c); a stranger that listened to the
 * handshakes knows them (keys.c). */
static inline uint64_t sim_node_nonce(uint64_t seed, int i)
{
    return (seed << 8) + 0x1000u + (uint64_t)i;
}

/* ------------------------------------------------------------------------ */
/* Router (router.c): node `self`'s transport. Messages to peer d go through
 * their own network simulator (the public rollnet_netsim over the memnet), so
 * every direction of every link has its own conditions; a partition drops
 * unreliable messages and holds reliable ones until it ends (as a reliable
 * channel resends through an outage); what was already in flight still
 * arrives. Connection events always get through (the memnet's rule: a closed
 * connection is seen at once). Messages to strangers go straight out.
 * The session owns the transport; its destroy releases the simulators but
 * not the router, which the world frees. */
/* ------------------------------------------------------------------------ */

typedef struct sim_router sim_router;

sim_router *sim_router_create(rollnet_memnet *net, int net_nodes, int self, int peers,
                              uint64_t seed,
                              const rollnet_allocator *alloc);
/* A netsim towards memnet node `dest` too (a spectator and its host); false
 * when it cannot be made. */
bool sim_router_add_route(sim_router *r, int dest, uint64_t netsim_seed,
                          const rollnet_allocator *alloc);
rollnet_transport sim_router_transport(sim_router *r);
bool sim_router_alive(const sim_router *r);
void sim_router_set_link(sim_router *r, int dest, const rollnet_netsim_desc *d);
void sim_router_set_partition(sim_router *r, int dest, bool cut);
/* Once per tick, whatever the node does: release what a healed partition
 * held and put due messages on the wire. */
/* This side's transport closes its connection to `dest` (a timeout, a
 * reset): the other side is told by the memnet, this side's session at
 * its next receive. */
void sim_router_close(sim_router *r, int dest);
void sim_router_tick(sim_router *r, uint64_t now);
void sim_router_free(sim_router *r);

/* ------------------------------------------------------------------------ */
/* Strangers (stranger.c)                                                    */
/* ------------------------------------------------------------------------ */

typedef struct sim_stranger {
    sim_stranger_kind kind;
    int node;          /* its memnet node */
    int target;        /* the peer it knocks on */
    uint64_t rng;
    bool connected, done;
    int tp;            /* its transport's peer id for the target */
    uint32_t next_send_ms;
    uint64_t sent;
    /* A private scenario (keys.c): what it sent and heard. */
    uint64_t hello_nonce;        /* of its last keyed HELLO */
    uint32_t claim_mask;         /* the players that HELLO or its RESUME claims */
    bool sent_hello, got_auth, sent_auth, sent_claim, got_challenge, sent_proof, refused;
    bool ended;                  /* its connection ended: it hung up or was closed */
    uint32_t ended_ms;
} sim_stranger;

struct sim_world;
void sim_stranger_init(sim_stranger *st, const sim_fault *f, int node, uint64_t seed);
/* Connect, talk or hang up as the fault says; drains its inbox. */
void sim_stranger_tick(sim_stranger *st, struct sim_world *w, const sim_fault *f, uint32_t t_ms);
void sim_stranger_send(sim_stranger *st, struct sim_world *w, const uint8_t *data, size_t size,
                       rollnet_channel ch);

/* Private scenarios (keys.c). A keyed HELLO or a RESUME attempt instead of
 * the stranger's usual talk (false: talk as usual); every message the
 * stranger hears; the end of its connection. */
bool sim_keys_talk(sim_stranger *st, struct sim_world *w, const sim_fault *f);
void sim_keys_heard(sim_stranger *st, struct sim_world *w, const uint8_t *data, size_t size);
void sim_keys_ended(sim_stranger *st, struct sim_world *w, bool by_target);

/* ------------------------------------------------------------------------ */
/* The world (world.c): one run of a scenario                                */
/* ------------------------------------------------------------------------ */

typedef enum sim_node_state {
    SIM_NODE_ACTIVE = 0,
    SIM_NODE_FROZEN,   /* frozen or loading: not run this tick */
    SIM_NODE_DEAD,     /* crashed: never run again */
    SIM_NODE_QUIT,     /* session destroyed */
    SIM_NODE_STOPPED   /* the session returned an error */
} sim_node_state;

typedef struct sim_record {
    int32_t frame, episode, step;
    uint32_t disconnected; /* rollnet_record::disconnected */
    uint64_t hash;
    uint8_t inputs[SIM_MAX_PEERS * SIM_MAX_INPUT];
} sim_record;

typedef struct sim_logged_event {
    uint64_t tick;
    rollnet_event ev;
} sim_logged_event;

/* What the oracles keep per node (oracles.c). */
typedef struct sim_watch {
    bool running, stalled, said_handshake;
    bool said_reconnecting; /* RECONNECTING before RUNNING: it waits the reconnect window */
    uint32_t reconnecting;  /* players whose connection is being regained (RECONNECTING, no
                               RESUMED or DISCONNECTED since) */
    uint64_t reconnecting_ms[SIM_MAX_PEERS]; /* clock of its latest RECONNECTING for a player */
    rollnet_stall_reason stall_reason;
    uint32_t loading_peers;      /* players whose peer announced loading */
    uint32_t synchronized;       /* players whose peer's handshake completed here */
    bool loading_seen;           /* in the current wait */
    int32_t departed[SIM_MAX_PEERS]; /* frame from which a player is neutral, -1 not departed */
    uint32_t unagreed;           /* running: players whose departure could not be agreed
                                    (DISCONNECTED with frame -1: none is played neutral) */
    uint64_t last_event_ms, wait_since_ms, started_ms;
    bool waiting;
    bool handshake_failed;       /* before RUNNING: a player it connects to is gone */
    uint64_t handshake_failed_ms;
    /* Rejoins (rejoin.c). */
    bool rejoined;               /* a restarted process: REJOINED said (its records start) */
    bool played_on;              /* DISCONNECTED PLAYED_ON: its stop is justified */
    bool gave_up;                /* a restarted process: DISCONNECTED before REJOINED */
    uint32_t dropped;            /* players it said DISCONNECTED for, ever */
    int32_t absent_cut[SIM_MAX_PEERS]; /* first flagged frame of its latest absence, or -1 */
    int32_t rejoin_cut[SIM_MAX_PEERS]; /* frame of its latest REJOINED for the player, or -1 */
    int32_t rejoin_frame;        /* a restarted process: the frame the first REJOINED about it
                                    named (its own or a survivor's), or -1 */
    int rejoin_frame_by;         /* the node that said that one */
} sim_watch;

typedef struct sim_counting {
    uint64_t allocs, frees;
} sim_counting;

typedef struct sim_node {
    struct sim_world *world;
    int index;
    sim_node_state state;
    rollnet_session *s;
    sim_router *router;
    tg_game game;
    harness_peer hp;
    tg_bot bot;
    rollnet_error error;
    bool loading;                /* between begin_loading and end_loading */
    uint64_t gone_ms;            /* clock when it died or quit */
    bool noread;                 /* its game leaves the ledger unread now */
    uint8_t *produced;           /* [frame * input_size], inputs this node's player produced */
    uint8_t *produced_set;       /* [frame] */
    int produced_cap;
    sim_record *rec;             /* rec[f] is frame f's, from rec_from on */
    int rec_count, rec_cap;
    int rec_from;                /* a restarted process's first frame (REJOINED), else 0 */
    /* Restarts (rejoin.c): the process now running is incarnation N; the
     * one before it left its records in rec_old. A restarted process has an
     * allocator of its own (it is created during play). */
    int incarnation;
    uint32_t born_ms;            /* scenario time its process started */
    sim_record *rec_old;
    int rec_old_count;
    sim_counting inc_count;
    rollnet_allocator inc_alloc;
    uint64_t inc_allocs_after_create;
    sim_logged_event *log;
    int log_count, log_cap;
    int log_seen;                /* events already compared with the shadow run */
    sim_watch watch;
} sim_node;

/* A spectator (spectator.c): a ROLLNET_SESSION_SPECTATOR watching peer
 * `host` from its SPECTATE fault's time on, with its own router, game,
 * allocator (it is created during play) and record list. */
typedef struct sim_spect {
    struct sim_world *world;
    bool exists, joined;
    int id;                      /* SIM_SPEC_NODE + k, as faults name it */
    int host;                    /* the peer it watches */
    int node;                    /* its memnet node */
    uint32_t join_ms;
    sim_node_state state;
    rollnet_session *s;
    sim_router *router;
    tg_game game;
    harness_peer hp;
    sim_counting alloc_count;
    rollnet_allocator alloc;
    uint64_t allocs_after_create;
    sim_record *rec;
    int rec_count, rec_cap;
    int verified;                /* records compared with the host's */
    bool running, ended;         /* RUNNING; DISCONNECTED or FINISHED said */
    uint64_t quiet_from_ms;      /* last frame run, RUNNING, creation or end of a freeze */
    bool partitioned[2];         /* [0] host -> spectator, [1] spectator -> host */
    rollnet_netsim_desc link_now[2];
} sim_spect;

typedef struct sim_world {
    const sim_scenario *sc;
    bool with_outsiders;         /* strangers and spectators (not in the shadow run) */
    const char *oracles;
    char *oracles_owned;         /* freed by the runner */
    bool trace;
    char sabotage;               /* sim_options.sabotage (the run with strangers only) */
    rollnet_memnet *net;
    int num_nodes;               /* peers + strangers */
    sim_node nodes[SIM_MAX_PEERS];
    sim_stranger strangers[SIM_MAX_STRANGERS];
    sim_spect spects[SIM_MAX_SPECTATORS];
    int stranger_fault[SIM_MAX_STRANGERS];
    harness_clock clock;
    uint64_t tick;
    uint32_t t_ms;               /* scenario time of this tick */
    uint64_t link_done;          /* CLOSE and REBIND faults carried out (bit per fault) */
    uint64_t restart_done;       /* RESTART faults carried out (bit per fault) */
    sim_counting alloc_count;
    rollnet_allocator alloc;
    uint64_t allocs_after_setup;
    bool partitioned[SIM_MAX_PEERS][SIM_MAX_PEERS];
    rollnet_netsim_desc link_now[SIM_MAX_PEERS][SIM_MAX_PEERS];
    bool setup_done;
    /* Oracle k (keys.c): each node's refusal counters at the last tick. */
    uint64_t key_counts[SIM_MAX_PEERS][3];
    int key_incarnation[SIM_MAX_PEERS]; /* the process key_counts are of */
    sim_result *res;             /* the first failure lands here */
    uint64_t digest;
} sim_world;

bool sim_world_init(sim_world *w, const sim_scenario *sc, bool with_outsiders,
                    const char *oracles, sim_result *res);
const char *sim_event_name(int type);
/* One tick of the virtual clock: faults, routers, nodes, strangers, oracles. */
void sim_world_step(sim_world *w);
void sim_world_free(sim_world *w);
/* Record the first failure (later ones are ignored). */
void sim_fail(sim_world *w, char oracle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool sim_checking(const sim_world *w, char oracle);
void sim_digest(sim_world *w, const void *data, size_t size);
/* A record as the oracles compare it: frame, episode, step, end flag, every
 * input and the game's record (its first 1024 bytes) hashed. */
void sim_record_from(sim_record *rec, const rollnet_record *r, int block);
/* The conditions of a -> b now (ids as faults name them). */
void sim_link_now(const sim_world *w, int a, int b, rollnet_netsim_desc *d, bool *cut);
bool sim_covers(const sim_fault *f, uint32_t t);
/* The counting allocator hook (its user_data is a sim_counting). */
rollnet_allocator sim_counting_allocator(sim_counting *c);
void sim_node_log(sim_world *w, int node, const rollnet_event *ev);

/* Start node i's process (router, session, game, bot); again after a
 * restart (incarnation > 0: desc.rejoin). */
bool sim_node_start(sim_world *w, int i, const rollnet_allocator *alloc);

/* ------------------------------------------------------------------------ */
/* Rejoins (rejoin.c): restarts, and what oracles a, b, c and d make of them */
/* ------------------------------------------------------------------------ */

/* Due RESTART faults: the node's process is replaced by a new one. */
void sim_rejoin_step(sim_world *w, uint64_t now);
/* REJOINED, RUNNING, REFUSED and DISCONNECTED as a rejoin sees them. */
void sim_rejoin_event(sim_world *w, int x, const rollnet_event *ev);
/* Oracle a: whether x's record r and y's record o of the same frame may
 * differ (a crashed or played-on process's last frames). */
bool sim_rejoin_may_differ(sim_world *w, int x, int y, const sim_record *r, const sim_record *o,
                           bool y_old);
/* Oracle a: x's record against the records y's previous process left. */
void sim_rejoin_check_old(sim_world *w, int x, int y, const sim_record *r);
/* Oracle b: a flagged input (disconnected bit) of player p in x's record. */
void sim_rejoin_flagged(sim_world *w, int x, int p, const sim_record *r);
/* Oracle d for restarted processes. */
void sim_rejoin_end_of_tick(sim_world *w);
void sim_rejoin_check_freed(sim_world *w, int i);

/* ------------------------------------------------------------------------ */
/* Spectators (spectator.c)                                                  */
/* ------------------------------------------------------------------------ */

/* Routes from each host to its spectators' nodes (at setup). */
bool sim_spect_setup(sim_world *w);
/* One tick: joins, freezes, deaths and quits, links, routers, the sessions. */
void sim_spect_step(sim_world *w, uint64_t now);
/* Oracle f, every tick: records equal the host's, no silent hang, memory. */
void sim_spect_end_of_tick(sim_world *w);
void sim_spect_free(sim_world *w);

/* ------------------------------------------------------------------------ */
/* Oracles (oracles.c)                                                       */
/* ------------------------------------------------------------------------ */

void sim_watch_init(sim_watch *wt, uint64_t now);
void sim_oracle_event(sim_world *w, int node, const rollnet_event *ev);
void sim_oracle_record(sim_world *w, int node, const sim_record *r);
void sim_oracle_tick_result(sim_world *w, int node, rollnet_error err, bool advanced);
void sim_oracle_resumed(sim_world *w, int node);
void sim_oracle_end_of_tick(sim_world *w);
void sim_oracle_end(sim_world *w);
/* Oracle e (runner.c): the events and records of this tick equal the shadow
 * run's (the run without strangers and spectators). */
void sim_oracle_compare(sim_world *w, sim_world *shadow);
/* Oracle k (keys.c), private scenarios: every tick, the refusal counters
 * never go back; at the end, every stranger connection that ended is
 * counted as refused or dropped by its target. */
void sim_keys_end_of_tick(sim_world *w);
void sim_keys_end(sim_world *w);
/* "strangers", "spectators" or both: what the shadow run leaves out. */
const char *sim_outsiders(const sim_scenario *sc);

#endif
