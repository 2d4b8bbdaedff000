/* gridworld: two to four players on a 12x9 grid collect items, over rollnet.
 *
 * The glue a game needs around its deterministic simulation (game.c), split
 * the way a game would copy it: cli.c reads the command line, net.c wires up
 * the rollnet session, its events and the confirmed-record export, loop.c
 * runs the frames and carries out rollnet's requests, render.c draws, and
 * this file puts them in order: parse, set up, run, finish, tear down, exit
 * status. The parts marked "rollnet:" are the ones every game needs. */
#include <SDL.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "loop.h"
#include "net.h"
#include "render.h"
#include "check_export.h"
#include "playback.h"

/* --check-export: no session and no window, just the check of the ledger. */
static int run_check_export(const options *o)
{
    uint64_t frames = 0;
    int rc = gw_check_export(o->check_export, GW_SEED, o->max_steps, &frames);
    if (rc == 0) {
        printf("replayed %" PRIu64 " frames: every record matches\n", frames);
    }
    return rc;
}

/* The simulation, SDL, the inputs, the window, the export and the session.
 * 0, or 1 after a line on stderr with everything opened closed again. */
static int setup(game *g)
{
    g->cfg.seed = GW_SEED;
    g->cfg.max_steps = g->opt.max_steps;
    g->cfg.num_players = g->opt.players;
    gw_reset(&g->state, &g->cfg, 0);
    g->render_ok = true;

    if (g->opt.headless)
        SDL_setenv("SDL_VIDEODRIVER", "dummy", 1);
    Uint32 subsystems = SDL_INIT_VIDEO | (g->opt.headless ? 0 : SDL_INIT_GAMECONTROLLER);
    if (SDL_Init(subsystems) != 0) {
        fprintf(stderr, "gridworld: SDL_Init failed: %s\n", SDL_GetError());
        return 1;
    }
    rollnet_sdl_focus_init(&g->focus);
    rollnet_sdl_overlay_init(&g->overlay);
    loop_setup_inputs(g);

    /* A playback's number of players comes from its file, which the session
     * opens: there the session comes first, the export (whose columns depend
     * on it) second. */
    bool playback = g->opt.replay != NULL;
    if (render_open(g) != 0 || (playback && net_setup_session(g) != 0) ||
        net_setup_export(g) != 0 || (!playback && net_setup_session(g) != 0)) {
        rollnet_session_destroy(g->session);
        g->session = NULL;
        rollnet_exporter_close(g->exporter);
        rollnet_peerlog_close(g->peerlog);
        SDL_Quit();
        return 1;
    }
    return 0;
}

/* After the loop: let the peer read why we failed, export the last records,
 * check that every frame was exported, --stats. */
static void finish(game *g)
{
    /* A refusal or a failure: keep the connection a moment so the peer reads
     * why (ENet discards what is still undelivered when a close arrives). */
    if (g->exit_code != 0 && g->session && !g->peer_gone) {
        uint64_t until = app_now_ms() + 500;
        while (app_now_ms() < until) {
            rollnet_session_poll(g->session, app_now_ms());
            SDL_Delay(5);
        }
    }
    /* Spectators still catching up: what they lack is still on its way (a
     * close would discard it). Each leaves once it has finished; 3 s at most. */
    rollnet_session_stats st;
    uint64_t spect_until = app_now_ms() + 3000;
    while (g->exit_code == 0 && g->session && g->opt.host_port &&
           rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK && st.spectators > 0 &&
           app_now_ms() < spect_until) {
        rollnet_session_poll(g->session, app_now_ms());
        SDL_Delay(5);
    }

    /* Whatever ended the run, every record confirmed so far reaches the files. */
    if (g->session)
        net_drain_records(g);
    if (g->exit_code == 0) {
        uint64_t want = g->replay ? (uint64_t)g->replay_frames
                                  : (uint64_t)g->opt.episodes * (uint64_t)g->opt.max_steps;
        if ((g->opt.spectate || g->opt.rejoin) && g->records_exported > 0)
            want -= (uint64_t)g->first_exported; /* it saw the frames from there on */
        if (g->records_exported != want)
            app_fail(g, "%" PRIu64 " of %" PRIu64 " frames were confirmed and exported",
                     g->records_exported, want);
    }
    if (g->opt.stats)
        net_print_stats(g);
    /* How the session ended, for whoever compares the two peers' exports:
     * complete (every peer holds every frame), or cut short and why; the
     * value is the number of frames exported. */
    const char *end = g->finished    ? "session_complete"
                      : g->peer_gone ? "session_cut_short_peer_gone"
                      : g->exit_code ? "session_cut_short_error"
                                     : "session_cut_short";
    app_peer_log(g, end, (int64_t)g->records_exported);
    app_peer_log(g, "exit", g->exit_code);
}

/* Close everything setup() opened; a failed close of the export fails the
 * run, since the files may then be incomplete. */
static void teardown(game *g)
{
    rollnet_error err = rollnet_exporter_close(g->exporter);
    if (err != ROLLNET_ERR_OK && g->exit_code == 0)
        app_fail(g, "closing the export failed: %s", rollnet_error_string(err));
    rollnet_peerlog_close(g->peerlog);
    rollnet_session_destroy(g->session);
    playback_close(g);
    for (int p = 0; p < GW_MAX_PLAYERS; p++)
        rollnet_sdl_input_close(&g->keys[p]);
    render_close(g);
    SDL_Quit();
}

int main(int argc, char **argv)
{
    game g;
    memset(&g, 0, sizeof g);
    int rc = cli_parse(argc, argv, &g.opt);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (g.opt.check_export)
        return run_check_export(&g.opt);
    if (setup(&g) != 0)
        return 1;

    loop_run(&g);

    finish(&g);
    teardown(&g);
    if (g.exit_code != 0)
        fprintf(stderr, "gridworld: %s\n", g.reason);
    return g.exit_code;
}
