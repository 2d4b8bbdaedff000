/* gridworld's app: the one struct that the glue files share, and the two ways
 * any of them reports (the peer log, and failure). main() owns the struct,
 * zeroes it and tears it down; the comments on each group say which file sets
 * it up and which files read it. The simulation itself (game.h) knows none of
 * this. */
#ifndef GRIDWORLD_APP_H
#define GRIDWORLD_APP_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "game.h"
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_export.h"
#include "rollnet/rollnet_replay.h"
#include "rollnet/rollnet_sdl.h"

/* Both peers must agree on these; the handshake refuses a peer that does not.
 * The rules (--max-steps and the grid) travel as game parameters (net.c,
 * write_rules), so peers with different episode lengths refuse each other,
 * naming max_steps, instead of desyncing. */
#define GW_GAME_ID 0x67726964776f726cull /* "gridworl" */
#define GW_SEED 0x5eed0f9a1d2e3c4bull

typedef enum input_source { SRC_KEYBOARD = 0, SRC_BOT } input_source;

typedef struct game {
    options opt;                /* cli.c; read-only afterwards */
    gw_config cfg;              /* main.c; fixed for the whole session */
    gw_state state;             /* main.c resets it; loop.c steps, saves and loads it
                                 * (and its bots read it); render.c draws it */

    /* rollnet: net.c creates the session and picks the players; main.c
     * destroys it. */
    rollnet_session *session;
    int local[GW_MAX_PLAYERS];  /* local player handles */
    int num_local;
    int remote;                 /* a remote player for the overlay and --stats (a joiner's
                                 * host, the host's player 1), or -1 */

    /* Local input: loop.c sets these up and reads them; main.c closes keys. */
    input_source source[GW_MAX_PLAYERS];
    gw_bot bots[GW_MAX_PLAYERS];
    rollnet_sdl_input keys[GW_MAX_PLAYERS];

    /* --export: net.c opens and writes them; main.c closes them. */
    rollnet_exporter *exporter;
    rollnet_peerlog *peerlog;
    uint64_t records_exported;
    int32_t first_exported;     /* the first record's frame (a late --spectate's is not 0) */

    /* --replay-out, --replay: playback.c opens and closes them. */
    rollnet_replay_recorder *recorder;
    rollnet_replay *replay;
    int32_t replay_frames;      /* --replay: frames the recording holds */

    /* SDL: render.c owns the window and renderer; loop.c runs the pacer
     * (net.c stretches it on a wait recommendation) and feeds the focus and
     * the overlay, which render.c draws. */
    SDL_Window *window;
    SDL_Renderer *renderer;
    rollnet_sdl_pacer pacer;
    rollnet_sdl_focus focus;
    rollnet_sdl_overlay overlay;

    /* Run state: net.c sets it from rollnet's events, loop.c from the
     * frames it runs; main.c turns it into the exit status. */
    bool running;               /* RUNNING seen */
    bool complete;              /* every episode confirmed */
    uint64_t complete_ms;
    bool finish_called;         /* rollnet_session_finish called after complete */
    bool finished;              /* FINISHED: every peer holds every frame */
    uint64_t final_wait_since;  /* when the last frame ran, or 0 */
    bool final_timeout;         /* the last episode's barrier timed out: advance no more */
    bool loading_due;           /* --loading-pause: pause before the next tick */
    bool peer_gone;
    bool render_ok;             /* the last ADVANCE may be shown */
    uint64_t block_start_ms;    /* block.c: the run's start, for --block-at */
    bool block_done;
    bool done;
    int exit_code;
    char reason[256];
} game;

/* The clock every rollnet call and the peer log are given. */
static inline uint64_t app_now_ms(void)
{
    return SDL_GetTicks64();
}

/* One row of this peer's event log (--export's PATH.peer.csv), if open. */
void app_peer_log(game *g, const char *event, int64_t value);

/* Stop with a non-zero status; the first reason wins. */
void app_fail(game *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
