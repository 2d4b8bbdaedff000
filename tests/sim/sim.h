/* rollnet-sim: a deterministic simulation campaign over the public API.
 *
 * A scenario (scenario.c) is a small text file: session parameters, then one
 * line per fault with its time in ms since the start. The generator
 * (generator.c) writes one from a seed; the runner (runner.c, world.c) runs it
 * on a virtual clock over the memnet, with one network simulator per
 * direction of every link (router.c) and strangers (stranger.c) knocking on
 * the nodes; the oracles (oracles.c) watch every tick; the shrinker
 * (shrink.c) makes a failing scenario small. main.c is the command line.
 * Some scenarios add spectators (spectator.c): sessions of kind
 * ROLLNET_SESSION_SPECTATOR watching one peer, with faults of their own;
 * oracle f checks them, and oracle e that the players do exactly what they
 * do without them. Some scenarios restart a crashed process with
 * desc.rejoin (rejoin.c), some with absent_play NEUTRAL. Some are private (keys.c): a session key on every peer
 * and spectator, and strangers that know none, another or the right one;
 * oracle k checks that none gets in.
 *
 * Everything is a function of the scenario: no sleeps, no real clock, no
 * globals. Not thread-safe. */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rollnet/rollnet.h"

#define SIM_MAX_PEERS ROLLNET_MAX_PLAYERS
#define SIM_MAX_STRANGERS 4
#define SIM_MAX_SPECTATORS 3
/* A spectator's id where a fault names a node: SIM_SPEC_NODE + k is
 * spectator k ("s<k>" in the text), so the players' numbers never move. */
#define SIM_SPEC_NODE 32
#define SIM_SPECTATOR_PERCENT 20 /* of generated scenarios draw spectators */
#define SIM_REJOIN_PERCENT 45 /* of two-player scenarios with reconnection and no
                                 spectators draw a rejoin */
#define SIM_REJOIN_MESH_PERCENT 20 /* of those with three or more players */
#define SIM_MAX_NODES (SIM_MAX_PEERS + SIM_MAX_STRANGERS + SIM_MAX_SPECTATORS)
#define SIM_MAX_FAULTS 48
#define SIM_MAX_INPUT 4
#define SIM_START_MS 1000u /* the virtual clock's value at scenario time 0 */
#define SIM_FPS 60

/* ------------------------------------------------------------------------ */
/* Scenarios (scenario.c)                                                    */
/* ------------------------------------------------------------------------ */

typedef enum sim_fault_kind {
    SIM_LINK = 0,  /* a -> b: new conditions from at on */
    SIM_BURST,     /* a -> b: every unreliable message lost for `for` ms */
    SIM_PARTITION, /* a -> b (both: and b -> a): nothing gets through for `for` ms */
    SIM_FREEZE,    /* node a is not run for `for` ms (a blocked process) */
    SIM_LOADING,   /* node a announces loading, blocks `for` ms, ends loading */
    SIM_DIE,       /* node a stops for good, silently (a crash) */
    SIM_QUIT,      /* node a destroys its session (connections closed) */
    SIM_STRANGER,  /* an endpoint outside the session connects to node b */
    SIM_NOREAD,    /* node a's game does not read its ledger for `for` ms */
    SIM_CLOSE,     /* a -> b: a's transport closes its connection to b (b is told, a too) */
    SIM_REBIND,    /* a -> b: b sees a's traffic under a new transport id (a NAT rebinding) */
    SIM_SPECTATE,  /* spectator a (SIM_SPEC_NODE + k) starts watching peer b at at_ms */
    SIM_RESTART,   /* node a's process is started again with desc.rejoin set (rejoin.c) */
    SIM_FAULT_KINDS
} sim_fault_kind;

typedef enum sim_stranger_kind {
    SIM_STRANGER_SILENT = 0, /* connects and says nothing */
    SIM_STRANGER_GARBAGE,    /* random bytes on both channels */
    SIM_STRANGER_HELLO,      /* well-formed HELLOs with one wrong parameter */
    SIM_STRANGER_RANGE,      /* HELLOs with out-of-range fields */
    SIM_STRANGER_WIRE,       /* well-formed per-frame messages with wrong tags and fields */
    SIM_STRANGER_RESUME,     /* private scenarios: RESUME claims of a peer's place (keys.c) */
    SIM_STRANGER_KINDS
} sim_stranger_kind;
/* The kinds the generator draws in every scenario (keys.c draws the rest). */
#define SIM_STRANGER_PUBLIC_KINDS SIM_STRANGER_RESUME

/* Private scenarios (keys.c): what a stranger knows of the session key. */
typedef enum sim_key_kind {
    SIM_KEY_NONE = 0, /* no key (and every stranger of a public scenario) */
    SIM_KEY_WRONG,    /* another key */
    SIM_KEY_RIGHT,    /* the session's key, with wrong parameters or a taken seat */
    SIM_KEY_KINDS
} sim_key_kind;
#define SIM_KEY_MAX 32      /* a scenario's key, NUL included */
#define SIM_KEY_PERCENT 20  /* of generated scenarios are private */

typedef struct sim_fault {
    sim_fault_kind kind;
    int a, b;           /* nodes; a stranger's target is b; a spectator's id is a, its host b */
    bool both;          /* PARTITION: both directions */
    uint32_t at_ms;
    uint32_t for_ms;    /* BURST, PARTITION, FREEZE, LOADING; STRANGER: 0 = stays */
    rollnet_netsim_desc link; /* LINK (seed and max_queued unused) */
    sim_stranger_kind stranger;
    sim_key_kind key;   /* STRANGER in a private scenario */
} sim_fault;

typedef struct sim_scenario {
    uint64_t seed;
    int peers;
    int frames;          /* ticks of the virtual clock, SIM_FPS per second */
    int input_size, input_delay, prediction, checksum_interval, episode_steps;
    bool catchup;        /* a node behind its peers runs up to 2 extra frames per tick */
    uint32_t handshake_ms, notify_ms, disconnect_ms, episode_ms, loading_ms;
    uint32_t reconnect_ms; /* reconnect_timeout_ms; 0: reconnection off */
    uint32_t rejoin_ms;    /* rejoin_timeout_ms; 0: ROLLNET_REJOIN_OFF (no rejoin) */
    bool absent_neutral;   /* absent_play ROLLNET_ABSENT_NEUTRAL on both sides */
    char key[SIM_KEY_MAX]; /* the session key of every peer and spectator; "": public */
    int num_faults;
    sim_fault faults[SIM_MAX_FAULTS];
} sim_scenario;

/* Defaults for everything but seed and peers. */
void sim_scenario_init(sim_scenario *sc, uint64_t seed, int peers);
bool sim_scenario_add(sim_scenario *sc, const sim_fault *f);
void sim_scenario_remove(sim_scenario *sc, int index);
int sim_scenario_strangers(const sim_scenario *sc);
/* Spectators: how many SPECTATE lines, and the memnet nodes they take (the
 * highest spectator id + 1). */
int sim_scenario_spectators(const sim_scenario *sc);
int sim_scenario_spectator_slots(const sim_scenario *sc);
/* The SPECTATE fault of spectator id (SIM_SPEC_NODE + k), or NULL. */
const sim_fault *sim_scenario_spectate(const sim_scenario *sc, int id);
/* Without spectator id: its SPECTATE line and every fault naming it. */
void sim_scenario_drop_spectator(sim_scenario *sc, int id);
/* How long a lost peer's place is kept: reconnect_ms, or with rejoin on the
 * longer of it and rejoin_ms. */
uint32_t sim_scenario_hold_ms(const sim_scenario *sc);
/* Whether any RESTART line is there. */
bool sim_scenario_restarts(const sim_scenario *sc);
static inline bool sim_is_spectator(int node)
{
    return node >= SIM_SPEC_NODE && node < SIM_SPEC_NODE + SIM_MAX_SPECTATORS;
}
/* Write / read the text form. Read: false and a message in err on a bad line. */
void sim_scenario_write(const sim_scenario *sc, FILE *out);
bool sim_scenario_read(sim_scenario *sc, FILE *in, char *err, size_t err_cap);
bool sim_scenario_load(sim_scenario *sc, const char *path, char *err, size_t err_cap);
bool sim_scenario_save(const sim_scenario *sc, const char *path, const char *comment);
const char *sim_fault_name(sim_fault_kind k);
const char *sim_stranger_name(sim_stranger_kind k);

/* ------------------------------------------------------------------------ */
/* Generator (generator.c)                                                   */
/* ------------------------------------------------------------------------ */

uint64_t sim_rand(uint64_t *state);
uint32_t sim_below(uint64_t *state, uint32_t n);
void sim_generate(sim_scenario *sc, uint64_t seed);

/* Private scenarios (keys.c): in SIM_KEY_PERCENT of seeds, from a stream of
 * the seed of their own, a key and strangers that know none, another or the
 * right one. */
void sim_keys_draw(sim_scenario *sc);
/* Without the key: public, the RESUME strangers dropped, every stranger's
 * key NONE. False when it was public already. */
bool sim_keys_drop(sim_scenario *sc);
const char *sim_key_name(sim_key_kind k);
bool sim_key_parse(const char *s, sim_key_kind *out);

/* ------------------------------------------------------------------------ */
/* Running (runner.c)                                                        */
/* ------------------------------------------------------------------------ */

typedef struct sim_result {
    bool failed;
    char oracle;        /* 'a'..'f', or 'x': an unexpected error or a broken run */
    uint32_t at_ms;     /* scenario time of the failure */
    char what[512];
    uint64_t digest;    /* events and records of every node, for determinism checks */
    uint64_t ticks, frames, records, events;
    /* Spectators: joined, records checked against the host's, how they
     * ended (FINISHED, or DISCONNECTED by reason), and timeouts while the
     * host was running, reachable and not stalled itself. */
    uint64_t spectators, spectator_records;
    uint64_t spectator_finished, spectator_ends[16];
    uint64_t spectator_host_stall_timeouts;
    bool shadowed; /* a shadow run went in lockstep */
    /* Rejoins: processes started again, REJOINED on the restarted side,
     * rejoins refused (ROLLNET_PARAM_REJOIN), DISCONNECTED PLAYED_ON, and
     * records with a player flagged disconnected while it was away;
     * restarted processes that gave up before REJOINED (DISCONNECTED: the
     * handshake timed out, or the peer it dials is gone). */
    uint64_t restarts, rejoins, rejoins_refused, played_on, flagged_records, rejoins_gave_up;
    /* Private scenarios (keys.c): strangers refused at their HELLO, at their
     * AUTH (they passed the HELLO, their proof did not verify) and at their
     * RESUME claim or proof. */
    uint64_t keyed_hello_refused, keyed_auth_refused, keyed_resume_refused;
    uint64_t keyed_resumed; /* RESUMED events: connections regained with the keyed proof */
} sim_result;

/* A campaign's rejoin figures (rejoin.c), by group: [0] two players, [1]
 * three or more. Event counts summed over scenarios with a restart, and
 * how many of those scenarios saw a process rejoin, refused, give up, or
 * told it was played on without. */
typedef struct sim_rejoin_tally {
    uint64_t scenarios, neutral, restarts, rejoins, refused, gave_up, played_on, flagged;
    uint64_t with_rejoin, with_refusal, with_gave_up, with_played_on;
} sim_rejoin_tally;

void sim_rejoin_tally_add(sim_rejoin_tally t[2], const sim_scenario *sc, const sim_result *r);
/* One line for both groups together, then one per group. */
void sim_rejoin_tally_print(const sim_rejoin_tally t[2]);

typedef struct sim_options {
    const char *oracles; /* the oracles checked, e.g. "abcdef"; NULL = all */
    bool verbose;
    bool trace; /* every event, state change and record digest on stderr */
    char sabotage; /* self-test: break what oracle a..f watches, from 5 s on ('r': a
                    * restarted process takes the wrong start frame, rejoin.c) */
    /* The shadow run (oracle e) of a scenario with spectators and no
     * strangers: in one seed of N (seed % N == 0); 0 or 1: in every one. */
    int spectator_shadow;
} sim_options;

/* Run one scenario; with strangers or spectators, a shadow run without them
 * goes in lockstep (oracle e). */
void sim_run(const sim_scenario *sc, const sim_options *opt, sim_result *out);
/* A failure's kind: the oracle and the start of its message without numbers,
 * so the same bug found at other frames or nodes has the same signature. */
void sim_signature(const sim_result *r, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Shrinking (shrink.c)                                                      */
/* ------------------------------------------------------------------------ */

/* Make a failing scenario smaller while it still fails with the same
 * signature.
 * *sc is replaced by the smallest found; *res by its result. Returns the
 * number of runs spent (at most max_runs). */
int sim_shrink(sim_scenario *sc, sim_result *res, const sim_options *opt, int max_runs);

#endif
