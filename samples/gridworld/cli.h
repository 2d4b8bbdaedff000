/* gridworld's command line: the options a run is started with and their
 * parser. Nothing here touches SDL or a session, so that a bad command line
 * fails before anything is opened; copy it and replace the options with your
 * game's. */
#ifndef GRIDWORLD_CLI_H
#define GRIDWORLD_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Spectators a --host accepts at once (rollnet_session_desc::max_spectators). */
#define GW_SPECTATORS 4

typedef struct options {
    int host_port;            /* --host PORT, or 0 */
    const char *join;         /* --join HOST:PORT, or NULL */
    const char *spectate;     /* --spectate HOST:PORT: watch the host's game, or NULL */
    bool bot;
    uint64_t bot_seed;
    bool headless;
    int episodes;
    int max_steps;
    int fps;
    int input_delay;
    const char *export_path;
    const char *netsim;
    int synctest;             /* check distance, or 0 */
    bool stats;
    double loading_pause;     /* seconds, or 0 */
    const char *replay;       /* --replay FILE: a replay to play back, or NULL */
    const char *replay_out;   /* --replay-out PATH: record the session, or NULL */
    const char *check_export; /* --check-export PATH.msgpack, or NULL */
    const char *key;          /* --key TEXT: the session key, or NULL */
    int players;              /* --players N: 2..GW_MAX_PLAYERS, default 2 */
    int player;               /* --player K: a joiner's seat, 1..players-1, default 1;
                               * 0 on the host */
    /* block.c: --no-net-thread, --block-at SECONDS:LENGTH (0 length: none) */
    bool no_net_thread;
    double block_at, block_length;
    bool rejoin; /* --rejoin: this process takes the place of one that crashed */
    bool play_on; /* --play-on: the others play on while a player is away */
} options;

/* Fill *o from the command line, defaults first. Strings in *o point into
 * argv. Returns 0 to go on, -1 after --help (printed on stdout), or an exit
 * status after one line on stderr. */
int cli_parse(int argc, char **argv, options *o);

#endif
