/* gridworld: two players on a 12x9 grid collect items, over rollnet.
 *
 * This file is the glue a game needs around its deterministic simulation
 * (game.c): command line, SDL window, the rollnet session and its request
 * loop, the confirmed-record export, and the exit status. Copy it as the
 * starting point of your own game; the parts marked "rollnet:" are the ones
 * every game needs. */
#include <SDL.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "game.h"
#include "replay.h"
#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"
#include "rollnet/rollnet_export.h"
#include "rollnet/rollnet_sdl.h"

/* Both peers must agree on these; the handshake refuses a peer that does not.
 * --max-steps is folded into the game id so that peers with different
 * episode lengths refuse each other instead of desyncing. */
#define GW_GAME_ID 0x67726964776f726cull /* "gridworl" */
#define GW_SEED 0x5eed0f9a1d2e3c4bull

#define CELL 48
#define HUD 48
#define WIN_W (GW_WIDTH * CELL)
#define WIN_H (GW_HEIGHT * CELL + HUD)

/* After the last episode, keep answering the peer this long so that it gets
 * our last inputs and acks before we close the connection. */
#define LINGER_MS 1500u
#define HANDSHAKE_TIMEOUT_MS 30000u
/* After the last frame ran, how long its confirmation may take before the run
 * fails; longer than the session's episode and disconnect timeouts. */
#define FINAL_WAIT_MS 15000u
/* --loading-pause: longest time given to the loading notice to reach the peer
 * (and its acknowledgement to come back) before blocking. */
#define LOADING_ACK_WAIT_MS 2000u

typedef struct options {
    int host_port;            /* --host PORT, or 0 */
    const char *join;         /* --join HOST:PORT, or NULL */
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
    const char *replay;       /* --replay PATH.msgpack, or NULL */
} options;

typedef enum input_source { SRC_KEYBOARD = 0, SRC_BOT } input_source;

typedef struct game {
    options opt;
    gw_config cfg;
    gw_state state;

    rollnet_session *session;
    int local[GW_PLAYERS];      /* local player handles */
    int num_local;
    int remote;                 /* the remote player's handle, or -1 */
    input_source source[GW_PLAYERS];
    gw_bot bots[GW_PLAYERS];
    rollnet_sdl_input keys[GW_PLAYERS];

    rollnet_exporter *exporter;
    rollnet_peerlog *peerlog;
    uint64_t records_exported;

    SDL_Window *window;
    SDL_Renderer *renderer;
    rollnet_sdl_pacer pacer;
    rollnet_sdl_focus focus;
    rollnet_sdl_overlay overlay;

    bool running;               /* RUNNING seen */
    bool complete;              /* every episode confirmed */
    uint64_t complete_ms;
    uint64_t final_wait_since;  /* when the last frame ran, or 0 */
    bool final_timeout;         /* the last episode's barrier timed out: advance no more */
    bool loading_due;           /* --loading-pause: pause before the next tick */
    bool peer_gone;
    bool render_ok;             /* the last ADVANCE may be shown */
    bool done;
    int exit_code;
    char reason[256];
} game;

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gridworld (--host PORT | --join HOST:PORT | --synctest N | --replay FILE) [options]\n"
            "\n"
            "Two players collect items on a %dx%d grid. Player 0 is the host, player 1\n"
            "the joiner; both connect over ENet (UDP).\n"
            "\n"
            "  --host PORT          be player 0 and wait for the joiner on UDP PORT\n"
            "  --join HOST:PORT     be player 1 and connect to the host at HOST:PORT\n"
            "  --synctest N         no network: both players local, and every frame is\n"
            "                       rolled back N frames (1..%d) to prove determinism\n"
            "  --replay FILE        no network: re-run the game from the inputs in FILE (the\n"
            "                       PATH.msgpack that --export writes) and check that every\n"
            "                       recorded frame comes out the same; --max-steps must match\n"
            "  --bot SEED           a bot plays the local player(s) instead of the keyboard\n"
            "                       (in a sync test the bots use SEED and SEED+1)\n"
            "  --headless           no window and no rendering (SDL_VIDEODRIVER=dummy);\n"
            "                       implies --bot 1 unless --bot is given\n"
            "  --episodes N         episodes to play, then exit (default 3)\n"
            "  --max-steps N        frames per episode (default 450); must match the peer\n"
            "  --fps N              frames per second (default 60); must match the peer\n"
            "  --input-delay N      frames of input delay, 0..%d (default 2); must match\n"
            "  --export PATH        write confirmed frames to PATH (CSV) and PATH.msgpack,\n"
            "                       and this peer's event log to PATH.peer.csv\n"
            "  --netsim SPEC        simulate a bad network on this side's outgoing packets,\n"
            "                       e.g. delay=50,jitter=10,loss=2,dup=1,reorder=1,seed=7\n"
            "  --stats              print session and peer statistics at the end, one\n"
            "                       \"name value\" per line\n"
            "  --loading-pause S    at the start of episode 2, announce loading, block for\n"
            "                       S seconds, then end loading\n"
            "  --help               show this text\n"
            "\n"
            "Keys: arrows/WASD move (in a sync test: WASD player 0, arrows player 1),\n"
            "F1 toggles the network overlay, Esc quits. A game controller's d-pad works too.\n"
            "\n"
            "Exit status: 0 when every episode completed and was exported; 1 when the peer\n"
            "disconnected, refused the handshake, a desync was found, or the game was quit\n"
            "early (one line on stderr says which); 2 for a bad command line.\n",
            GW_WIDTH, GW_HEIGHT, ROLLNET_MAX_PREDICTION, ROLLNET_MAX_INPUT_DELAY);
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static bool is_valued_option(const char *a)
{
    static const char *const names[] = {"--host",      "--join",   "--bot",    "--episodes",
                                        "--max-steps", "--fps",    "--input-delay",
                                        "--export",    "--netsim", "--synctest",
                                        "--loading-pause", "--replay"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(a, names[i]))
            return true;
    }
    return false;
}

/* Returns 0 to go on, -1 after --help, or an exit status. */
static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->episodes = 3;
    o->max_steps = 450;
    o->fps = 60;
    o->input_delay = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes_value = true;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--headless")) {
            o->headless = true;
            takes_value = false;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
            takes_value = false;
        } else if (!is_valued_option(a)) {
            fprintf(stderr, "gridworld: unknown option %s (see --help)\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "gridworld: %s needs a value (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--host")) {
            ok = parse_int(v, 1, 65535, &o->host_port);
        } else if (!strcmp(a, "--join")) {
            const char *colon = strrchr(v, ':');
            int port;
            ok = colon && colon != v && parse_int(colon + 1, 1, 65535, &port);
            o->join = v;
        } else if (!strcmp(a, "--bot")) {
            ok = parse_u64(v, &o->bot_seed);
            o->bot = true;
        } else if (!strcmp(a, "--episodes")) {
            ok = parse_int(v, 1, 1000000, &o->episodes);
        } else if (!strcmp(a, "--max-steps")) {
            ok = parse_int(v, 1, 100000000, &o->max_steps);
        } else if (!strcmp(a, "--fps")) {
            ok = parse_int(v, 1, 1000, &o->fps);
        } else if (!strcmp(a, "--input-delay")) {
            ok = parse_int(v, 0, ROLLNET_MAX_INPUT_DELAY, &o->input_delay);
        } else if (!strcmp(a, "--export")) {
            o->export_path = v;
        } else if (!strcmp(a, "--netsim")) {
            rollnet_netsim_desc d;
            ok = rollnet_netsim_parse(v, &d) == ROLLNET_ERR_OK;
            o->netsim = v;
        } else if (!strcmp(a, "--synctest")) {
            ok = parse_int(v, 1, ROLLNET_MAX_PREDICTION, &o->synctest);
        } else if (!strcmp(a, "--replay")) {
            o->replay = v;
        } else if (!strcmp(a, "--loading-pause")) {
            char *end;
            o->loading_pause = strtod(v, &end);
            ok = end != v && !*end && o->loading_pause >= 0 && o->loading_pause <= 3600;
        }
        if (!ok) {
            fprintf(stderr, "gridworld: bad value for %s: %s (see --help)\n", a, v);
            return 2;
        }
        if (takes_value)
            i++;
    }
    int modes = (o->host_port ? 1 : 0) + (o->join ? 1 : 0) + (o->synctest ? 1 : 0) +
                (o->replay ? 1 : 0);
    if (modes != 1) {
        fprintf(stderr,
                "gridworld: give exactly one of --host, --join, --synctest, --replay (see --help)\n");
        return 2;
    }
    if (o->synctest && o->netsim) {
        fprintf(stderr, "gridworld: --netsim needs a network (--host or --join)\n");
        return 2;
    }
    if (o->headless && !o->bot) {
        o->bot = true;
        o->bot_seed = 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Logging and failure                                                       */
/* ------------------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    return SDL_GetTicks64();
}

static void peer_log(game *g, const char *event, int64_t value)
{
    if (g->peerlog)
        (void)rollnet_peerlog_write(g->peerlog, now_ms(), event, value);
}

/* Stop with a non-zero status; the first reason wins. */
static void fail(game *g, const char *fmt, ...)
{
    if (g->exit_code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->reason, sizeof g->reason, fmt, ap);
        va_end(ap);
        g->exit_code = 1;
    }
    g->done = true;
}

/* The library's messages go to the peer log, so that stderr keeps to the one
 * line that says why a run failed. */
static void on_rollnet_log(rollnet_log_level level, const char *message, void *user_data)
{
    game *g = user_data;
    if (level < ROLLNET_LOG_INFO)
        return;
    char event[160];
    snprintf(event, sizeof event, "log: %s", message);
    peer_log(g, event, (int64_t)level);
}

/* ------------------------------------------------------------------------ */
/* rollnet: records                                                          */
/* ------------------------------------------------------------------------ */

/* Confirmed records come out in frame order, each once. Drain them every
 * tick: the ledger holds ledger_capacity of them at most. */
static void drain_records(game *g)
{
    rollnet_record rec;
    while (rollnet_session_next_record(g->session, &rec)) {
        if (g->exporter) {
            rollnet_error err = rollnet_exporter_write(g->exporter, &rec);
            if (err != ROLLNET_ERR_OK) {
                fail(g, "export of frame %" PRId32 " failed: %s", rec.frame,
                     rollnet_error_string(err));
                return;
            }
        }
        g->records_exported++;
    }
}

/* ------------------------------------------------------------------------ */
/* rollnet: events                                                           */
/* ------------------------------------------------------------------------ */

static const char *disconnect_reason(rollnet_disconnect_reason r)
{
    switch (r) {
    case ROLLNET_DISCONNECT_TIMEOUT: return "timed out";
    case ROLLNET_DISCONNECT_LOADING_GRACE: return "timed out while loading";
    case ROLLNET_DISCONNECT_CLOSED: return "closed the connection";
    case ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT: return "did not complete the handshake";
    case ROLLNET_DISCONNECT_BY_PEERS: return "was lost by another peer";
    }
    return "unknown reason";
}

static void handle_session_events(game *g)
{
    rollnet_event ev;
    while (rollnet_session_next_event(g->session, &ev)) {
        switch (ev.type) {
        case ROLLNET_EVENT_SYNCHRONIZING:
        case ROLLNET_EVENT_SYNCHRONIZED:
            break;
        case ROLLNET_EVENT_RUNNING:
            g->running = true;
            peer_log(g, "running", 0);
            break;
        case ROLLNET_EVENT_INTERRUPTED:
            peer_log(g, "interrupted", ev.player);
            break;
        case ROLLNET_EVENT_RESUMED:
            peer_log(g, "resumed", ev.player);
            break;
        case ROLLNET_EVENT_DISCONNECTED:
            peer_log(g, "disconnected", (int64_t)ev.u.disconnected.reason);
            g->peer_gone = true;
            if (!g->complete)
                fail(g, "peer (player %d) %s", ev.player,
                     disconnect_reason(ev.u.disconnected.reason));
            break;
        case ROLLNET_EVENT_REFUSED:
            peer_log(g, "refused", (int64_t)ev.u.refused.param);
            if (ev.u.refused.param == ROLLNET_PARAM_GAME_ID) {
                uint64_t theirs = (uint64_t)ev.u.refused.remote_value ^ GW_GAME_ID;
                if (theirs > 0 && theirs <= 100000000u) {
                    fail(g, "handshake refused: the peer plays --max-steps %" PRIu64 ", here %d",
                         theirs, g->opt.max_steps);
                    break;
                }
            }
            fail(g, "handshake refused: %s differs (here %" PRId64 ", peer %" PRId64 ")",
                 rollnet_param_string(ev.u.refused.param), ev.u.refused.local_value,
                 ev.u.refused.remote_value);
            break;
        case ROLLNET_EVENT_DESYNC:
            peer_log(g, "desync", ev.u.desync.frame);
            fail(g, "desync at frame %" PRId32 " (checksum here %016" PRIx64 ", peer %016" PRIx64
                    ")",
                 ev.u.desync.frame, ev.u.desync.local_checksum, ev.u.desync.remote_checksum);
            break;
        case ROLLNET_EVENT_WAIT_RECOMMENDED:
            peer_log(g, "wait_recommended", ev.u.wait.frames);
            rollnet_sdl_pacer_add_wait_frames(&g->pacer, ev.u.wait.frames);
            break;
        case ROLLNET_EVENT_STALLED:
            peer_log(g, "stalled", ev.u.stall.frame);
            break;
        case ROLLNET_EVENT_STALL_ENDED:
            peer_log(g, "stall_ended", ev.u.stall.frame);
            break;
        case ROLLNET_EVENT_LOADING:
            peer_log(g, "peer_loading", ev.player);
            break;
        case ROLLNET_EVENT_LOADING_ENDED:
            peer_log(g, "peer_loading_ended", ev.player);
            break;
        case ROLLNET_EVENT_EPISODE_COMPLETE:
            peer_log(g, "episode_complete", ev.u.episode.episode);
            {
                /* Per-peer facts for the analysis: how much this side rolled back. */
                rollnet_session_stats st;
                if (rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK) {
                    peer_log(g, "rollbacks", (int64_t)st.rollbacks);
                    peer_log(g, "frames_resimulated", (int64_t)st.frames_resimulated);
                }
            }
            if (ev.u.episode.episode >= g->opt.episodes - 1 && !g->complete) {
                g->complete = true;
                g->complete_ms = now_ms();
            } else if (ev.u.episode.episode == 0 && g->opt.loading_pause > 0) {
                g->loading_due = true;
            }
            break;
        case ROLLNET_EVENT_EPISODE_TIMEOUT:
            peer_log(g, "episode_timeout", ev.u.episode.episode);
            /* Past the last episode the released barrier would let play
             * run into an episode nobody asked for. */
            if (ev.u.episode.episode >= g->opt.episodes - 1)
                g->final_timeout = true;
            break;
        }
    }
}

/* Longest time the network simulator may hold one outgoing message. */
static uint64_t netsim_hold_ms(const char *spec)
{
    rollnet_netsim_desc d;
    if (rollnet_netsim_parse(spec, &d) != ROLLNET_ERR_OK)
        return 0;
    uint64_t reorder = d.reorder_permille ? (d.reorder_ms ? d.reorder_ms : 2u * d.delay_ms + 10u) : 0;
    return (uint64_t)d.delay_ms + d.jitter_ms + reorder + 10u;
}

/* --loading-pause: tell the peer, block as a level load would, come back. */
static void loading_pause(game *g)
{
    g->loading_due = false;
    uint32_t ms = (uint32_t)(g->opt.loading_pause * 1000.0 + 0.5);
    rollnet_error err = rollnet_session_begin_loading(g->session, now_ms());
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_WRONG_SESSION_KIND) {
        fail(g, "begin_loading failed: %s", rollnet_error_string(err));
        return;
    }
    peer_log(g, "loading", ms);
    /* Block only once the peer has had time to acknowledge the notice: the
     * peer then knows to wait, and nothing reliable is left in flight that
     * the transport could time out on while we are not servicing it. The
     * network simulator holds outgoing messages for their delay and releases
     * them only from later calls, so it gets those calls too. */
    rollnet_peer_stats ps;
    uint64_t rtt = rollnet_session_peer_stats(g->session, g->remote, &ps) == ROLLNET_ERR_OK
                       ? ps.rtt_ms
                       : 0;
    uint64_t wait = (g->opt.netsim ? 2 * netsim_hold_ms(g->opt.netsim) : 0) + 2 * rtt + 50;
    if (wait > LOADING_ACK_WAIT_MS)
        wait = LOADING_ACK_WAIT_MS;
    for (uint64_t start = now_ms(); now_ms() - start < wait;) {
        (void)rollnet_session_poll(g->session, now_ms());
        SDL_Delay(1);
    }
    SDL_Delay(ms);
    err = rollnet_session_end_loading(g->session, now_ms());
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_WRONG_SESSION_KIND) {
        fail(g, "end_loading failed: %s", rollnet_error_string(err));
        return;
    }
    peer_log(g, "loading_ended", ms);
    /* The block was deliberate: do not fast-forward through it. */
    rollnet_sdl_pacer_reset(&g->pacer);
}

/* ------------------------------------------------------------------------ */
/* rollnet: requests                                                         */
/* ------------------------------------------------------------------------ */

static rollnet_error carry_out(game *g, const rollnet_request *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        const rollnet_request *q = &reqs[i];
        rollnet_error err = ROLLNET_ERR_OK;
        switch (q->type) {
        case ROLLNET_REQUEST_SAVE: {
            rollnet_writer *w = rollnet_session_save_begin(g->session, q);
            if (!w)
                return ROLLNET_ERR_WRONG_REQUEST;
            gw_save(&g->state, w);
            err = rollnet_session_save_end(g->session, q);
            break;
        }
        case ROLLNET_REQUEST_LOAD: {
            rollnet_reader *r = rollnet_session_load_begin(g->session, q);
            if (!r)
                return ROLLNET_ERR_WRONG_REQUEST;
            bool ok = gw_load(&g->state, r);
            err = rollnet_session_load_end(g->session, q);
            if (err == ROLLNET_ERR_OK && !ok)
                err = ROLLNET_ERR_SNAPSHOT_READ;
            break;
        }
        case ROLLNET_REQUEST_ADVANCE: {
            bool ended = gw_step(&g->state, &g->cfg, q->inputs);
            rollnet_writer *w = rollnet_session_record_begin(g->session, q);
            if (w)
                gw_write_record(&g->state, w);
            err = rollnet_session_advance_end(g->session, q, ended ? ROLLNET_STEP_EPISODE_END : 0);
            g->render_ok = !(q->flags & (ROLLNET_REQUEST_REPLAY | ROLLNET_REQUEST_FAST_FORWARD));
            if ((int64_t)q->frame >= (int64_t)g->opt.episodes * g->opt.max_steps)
                fail(g, "frame %" PRId32 " ran past the last episode", q->frame);
            break;
        }
        }
        if (err != ROLLNET_ERR_OK)
            return err;
    }
    return ROLLNET_ERR_OK;
}

static uint8_t local_input(game *g, int player)
{
    if (g->source[player] == SRC_BOT)
        return gw_bot_input(&g->bots[player], &g->state, player);
    /* The adapter gives neutral input while the window is unfocused. */
    return (uint8_t)rollnet_sdl_input_bits(&g->keys[player]);
}

static bool frames_left(game *g)
{
    rollnet_session_stats st;
    if (rollnet_session_stats_get(g->session, &st) != ROLLNET_ERR_OK)
        return false;
    return (int64_t)st.frame < (int64_t)g->opt.episodes * g->opt.max_steps;
}

/* One frame of the session: poll, events, inputs, advance, records. */
static void tick(game *g)
{
    rollnet_error err = rollnet_session_poll(g->session, now_ms());
    if (err != ROLLNET_ERR_OK && err != ROLLNET_ERR_NOT_RUNNING)
        fail(g, "poll failed: %s", rollnet_error_string(err));
    handle_session_events(g);
    drain_records(g);
    if (g->done || g->complete)
        return;
    if (g->loading_due) {
        loading_pause(g);
        return;
    }
    /* After the last episode's last frame, keep calling add_local_input and
     * advance anyway: the episode barrier refuses new frames, but a rollback
     * still pending is handed out alone and must run before the last records
     * can be confirmed. */
    bool last_frame_ran = !frames_left(g);
    if (last_frame_ran) {
        uint64_t now = now_ms();
        if (g->final_wait_since == 0)
            g->final_wait_since = now;
        else if (now - g->final_wait_since > FINAL_WAIT_MS)
            fail(g, "the end of episode %d was not confirmed within %u s", g->opt.episodes - 1,
                 FINAL_WAIT_MS / 1000u);
        if (g->done || g->final_timeout)
            return;
    }

    for (int i = 0; i < g->num_local; i++) {
        int p = g->local[i];
        uint8_t in = last_frame_ran ? 0 : local_input(g, p);
        err = rollnet_session_add_local_input(g->session, p, &in, 1);
        if (err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
            err == ROLLNET_ERR_NOT_RUNNING)
            return; /* skip this frame; keep polling and rendering */
        if (err != ROLLNET_ERR_OK) {
            fail(g, "add_local_input failed: %s", rollnet_error_string(err));
            return;
        }
    }
    const rollnet_request *reqs;
    int n = 0;
    err = rollnet_session_advance(g->session, &reqs, &n);
    if (err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
        err == ROLLNET_ERR_NOT_RUNNING)
        return;
    if (err != ROLLNET_ERR_OK) {
        fail(g, "advance failed: %s", rollnet_error_string(err));
        return;
    }
    err = carry_out(g, reqs, n);
    if (err == ROLLNET_ERR_DESYNC) {
        rollnet_desync_info d;
        if (rollnet_session_desync_info(g->session, &d) == ROLLNET_ERR_OK)
            fail(g, "sync test desync at frame %" PRId32 " (straight run %016" PRIx64
                    ", replay %016" PRIx64 ")",
                 d.frame, d.first_checksum, d.second_checksum);
        else
            fail(g, "sync test desync");
        return;
    }
    if (err != ROLLNET_ERR_OK) {
        fail(g, "carrying out a request failed: %s", rollnet_error_string(err));
        return;
    }
    handle_session_events(g);
    drain_records(g);
}

/* ------------------------------------------------------------------------ */
/* SDL: events and drawing                                                   */
/* ------------------------------------------------------------------------ */

static void pump_sdl_events(game *g)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT ||
            (ev.type == SDL_KEYDOWN && ev.key.keysym.sym == SDLK_ESCAPE)) {
            fail(g, "quit before the episodes completed");
            return;
        }
        rollnet_sdl_overlay_handle_event(&g->overlay, &ev);
        rollnet_sdl_window_change c = rollnet_sdl_focus_handle_event(&g->focus, &ev);
        if (c != ROLLNET_SDL_WINDOW_NONE) {
            rollnet_session_stats st;
            int64_t frame = rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK
                                ? st.frame
                                : -1;
            peer_log(g, rollnet_sdl_window_change_string(c), frame);
        }
        for (int i = 0; i < g->num_local; i++)
            rollnet_sdl_input_handle_event(&g->keys[g->local[i]], &ev);
    }
}

static const SDL_Color player_colors[GW_PLAYERS] = {{70, 150, 255, 255}, {255, 140, 60, 255}};

static void fill(SDL_Renderer *r, int x, int y, int w, int h)
{
    SDL_Rect rc = {x, y, w, h};
    SDL_RenderFillRect(r, &rc);
}

static void render(game *g)
{
    SDL_Renderer *r = g->renderer;
    const gw_state *s = &g->state;
    char text[64];

    SDL_SetRenderDrawColor(r, 24, 26, 32, 255);
    SDL_RenderClear(r);

    /* HUD: score bars and numbers, episode and step. */
    for (int p = 0; p < GW_PLAYERS; p++) {
        SDL_Color c = player_colors[p];
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255);
        snprintf(text, sizeof text, "P%d %d", p, (int)s->players[p].score);
        int x = p == 0 ? 8 : WIN_W - 8 - rollnet_sdl_text_width(text, 3);
        rollnet_sdl_draw_text(r, x, 6, 3, text);
        int bar = s->players[p].score * 4;
        if (bar > WIN_W / 2 - 16)
            bar = WIN_W / 2 - 16;
        fill(r, p == 0 ? 8 : WIN_W - 8 - bar, 28, bar, 6);
        bool local = false;
        for (int i = 0; i < g->num_local; i++)
            local = local || g->local[i] == p;
        if (local && g->num_local == 1) {
            const char *you = "YOU";
            int yx = p == 0 ? 8 : WIN_W - 8 - rollnet_sdl_text_width(you, 1);
            rollnet_sdl_draw_text(r, yx, 38, 1, you);
        }
    }
    SDL_SetRenderDrawColor(r, 200, 200, 200, 255);
    snprintf(text, sizeof text, "EPISODE %d/%d", (int)s->episode + 1, g->opt.episodes);
    rollnet_sdl_draw_text(r, (WIN_W - rollnet_sdl_text_width(text, 2)) / 2, 6, 2, text);
    snprintf(text, sizeof text, "STEP %d/%d", (int)s->step, (int)g->cfg.max_steps);
    rollnet_sdl_draw_text(r, (WIN_W - rollnet_sdl_text_width(text, 2)) / 2, 22, 2, text);
    /* Time left in the episode as a thin bar. */
    SDL_SetRenderDrawColor(r, 90, 90, 110, 255);
    fill(r, 0, HUD - 4, WIN_W - WIN_W * s->step / (g->cfg.max_steps ? g->cfg.max_steps : 1), 3);

    /* Grid. */
    SDL_SetRenderDrawColor(r, 44, 48, 58, 255);
    for (int x = 0; x <= GW_WIDTH; x++)
        SDL_RenderDrawLine(r, x * CELL, HUD, x * CELL, WIN_H);
    for (int y = 0; y <= GW_HEIGHT; y++)
        SDL_RenderDrawLine(r, 0, HUD + y * CELL, WIN_W, HUD + y * CELL);

    /* Items. */
    SDL_SetRenderDrawColor(r, 250, 210, 60, 255);
    for (int i = 0; i < GW_ITEMS; i++)
        fill(r, s->item_x[i] * CELL + CELL / 2 - 7, HUD + s->item_y[i] * CELL + CELL / 2 - 7, 14,
             14);

    /* Players; both on one cell share it side by side. */
    bool shared = s->players[0].x == s->players[1].x && s->players[0].y == s->players[1].y;
    for (int p = 0; p < GW_PLAYERS; p++) {
        SDL_Color c = player_colors[p];
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255);
        int px = s->players[p].x * CELL + 6, py = HUD + s->players[p].y * CELL + 6;
        int w = CELL - 12;
        if (shared) {
            w = (CELL - 12) / 2;
            px += p * w;
        }
        fill(r, px, py, w, CELL - 12);
        if (s->players[p].reward) {
            SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
            SDL_Rect rc = {px - 2, py - 2, w + 4, CELL - 8};
            SDL_RenderDrawRect(r, &rc);
        }
    }

    /* Status text over the grid. */
    const char *status = NULL;
    if (g->complete)
        status = "DONE";
    else if (!g->running)
        status = g->opt.host_port ? "WAITING FOR PEER" : "CONNECTING";
    else if (g->overlay.peer_loading)
        status = "PEER LOADING";
    else if (g->overlay.interrupted)
        status = "CONNECTION INTERRUPTED";
    if (status) {
        int tw = rollnet_sdl_text_width(status, 4);
        SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
        fill(r, (WIN_W - tw) / 2 - 10, HUD + GW_HEIGHT * CELL / 2 - 20, tw + 20, 40);
        SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
        rollnet_sdl_draw_text(r, (WIN_W - tw) / 2, HUD + GW_HEIGHT * CELL / 2 - 10, 4, status);
    }

    rollnet_sdl_overlay_draw(&g->overlay, r, 8, HUD + 8);
    SDL_RenderPresent(r);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

static rollnet_error make_transport(const options *o, rollnet_transport *out)
{
    rollnet_enet_desc ed = {0};
    ed.port = (uint16_t)o->host_port; /* the joiner lets the OS pick a port */
    ed.max_peers = 1;
    rollnet_error err = rollnet_enet_create(&ed, NULL, out);
    if (err != ROLLNET_ERR_OK)
        return err;
    if (o->netsim) {
        rollnet_netsim_desc nd;
        err = rollnet_netsim_parse(o->netsim, &nd);
        if (err != ROLLNET_ERR_OK) {
            rollnet_transport_destroy(out);
            return err;
        }
        /* The simulator owns the ENet transport from here on. */
        *out = rollnet_netsim_create(*out, &nd, NULL);
        if (!out->vtable)
            return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    return ROLLNET_ERR_OK;
}

static int setup_session(game *g)
{
    const options *o = &g->opt;
    rollnet_session_desc d = {0};
    d.num_players = GW_PLAYERS;
    d.input_size = 1;
    d.input_delay = o->input_delay;
    d.fps = o->fps;
    d.game_id = GW_GAME_ID ^ (uint64_t)o->max_steps;
    d.seed = GW_SEED;
    d.handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;
    d.logger.log = on_rollnet_log;
    d.logger.user_data = g;
    d.user_data = g;
    g->remote = -1;
    if (o->synctest) {
        d.kind = ROLLNET_SESSION_SYNCTEST;
        d.check_distance = o->synctest;
        g->local[0] = 0;
        g->local[1] = 1;
        g->num_local = 2;
    } else {
        d.kind = ROLLNET_SESSION_P2P;
        int me = o->host_port ? 0 : 1;
        g->remote = 1 - me;
        g->local[0] = me;
        g->num_local = 1;
        d.players[me].kind = ROLLNET_PLAYER_LOCAL;
        d.players[g->remote].kind = ROLLNET_PLAYER_REMOTE;
        d.players[g->remote].address = o->join; /* NULL on the host: accept */
        rollnet_error err = make_transport(o, &d.transport);
        if (err != ROLLNET_ERR_OK) {
            fprintf(stderr, "gridworld: cannot open the network (port %d): %s\n", o->host_port,
                    rollnet_error_string(err));
            return 1;
        }
    }
    rollnet_error err = rollnet_session_create(&d, &g->session);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "gridworld: cannot create the session: %s\n", rollnet_error_string(err));
        return 1;
    }
    return 0;
}

static int setup_export(game *g)
{
    const char *path = g->opt.export_path;
    if (!path)
        return 0;
    rollnet_export_desc ed = {0};
    ed.csv_path = path;
    ed.columns = gw_columns;
    ed.num_columns = GW_NUM_COLUMNS;
    ed.num_players = GW_PLAYERS;
    ed.input_size = 1;
    rollnet_error err = rollnet_exporter_open(&ed, NULL, &g->exporter);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "gridworld: cannot open %s: %s\n", path, rollnet_error_string(err));
        return 1;
    }
    size_t n = strlen(path) + sizeof ".peer.csv";
    char *log_path = malloc(n);
    if (!log_path)
        return 1;
    snprintf(log_path, n, "%s.peer.csv", path);
    err = rollnet_peerlog_open(log_path, NULL, &g->peerlog);
    if (err != ROLLNET_ERR_OK)
        fprintf(stderr, "gridworld: cannot open %s: %s\n", log_path, rollnet_error_string(err));
    free(log_path);
    return err == ROLLNET_ERR_OK ? 0 : 1;
}

static void setup_inputs(game *g)
{
    const options *o = &g->opt;
    for (int p = 0; p < GW_PLAYERS; p++) {
        rollnet_sdl_input_init(&g->keys[p]);
        g->source[p] = o->bot ? SRC_BOT : SRC_KEYBOARD;
        gw_bot_init(&g->bots[p], o->bot_seed + (uint64_t)(o->synctest ? p : 0));
    }
    if (o->synctest && !o->bot) {
        /* Two players on one keyboard: WASD for player 0, arrows for player 1;
         * the controller (d-pad) joins player 0. */
        static const rollnet_sdl_key_binding wasd[] = {
            {SDLK_w, GW_IN_UP}, {SDLK_s, GW_IN_DOWN}, {SDLK_a, GW_IN_LEFT}, {SDLK_d, GW_IN_RIGHT}};
        static const rollnet_sdl_key_binding arrows[] = {{SDLK_UP, GW_IN_UP},
                                                         {SDLK_DOWN, GW_IN_DOWN},
                                                         {SDLK_LEFT, GW_IN_LEFT},
                                                         {SDLK_RIGHT, GW_IN_RIGHT}};
        const rollnet_sdl_bindings *def = rollnet_sdl_default_bindings();
        rollnet_sdl_bindings b0 = {wasd, 4, def->buttons, def->num_buttons};
        rollnet_sdl_bindings b1 = {arrows, 4, NULL, 0};
        (void)rollnet_sdl_input_set_bindings(&g->keys[0], &b0);
        (void)rollnet_sdl_input_set_bindings(&g->keys[1], &b1);
        g->keys[1].open_controllers = false;
    }
}

static int setup_video(game *g)
{
    if (g->opt.headless)
        return 0;
    char title[128];
    if (g->opt.synctest)
        snprintf(title, sizeof title, "rollnet gridworld - sync test");
    else if (g->opt.host_port)
        snprintf(title, sizeof title, "rollnet gridworld - host :%d (player 0)", g->opt.host_port);
    else
        snprintf(title, sizeof title, "rollnet gridworld - joined %s (player 1)", g->opt.join);
    g->window = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, WIN_W,
                                 WIN_H, 0);
    if (!g->window) {
        fprintf(stderr, "gridworld: cannot open a window: %s (try --headless)\n", SDL_GetError());
        return 1;
    }
    /* No vsync: the pacer sets the frame rate, which both peers share. */
    g->renderer = SDL_CreateRenderer(g->window, -1, 0);
    if (!g->renderer) {
        fprintf(stderr, "gridworld: cannot create a renderer: %s\n", SDL_GetError());
        return 1;
    }
    return 0;
}

static void print_stats(game *g)
{
    rollnet_session_stats st;
    if (rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK) {
        printf("frame %" PRId32 "\n", st.frame);
        printf("confirmed_frame %" PRId32 "\n", st.confirmed_frame);
        printf("episode %" PRId32 "\n", st.episode);
        printf("rollbacks %" PRIu64 "\n", st.rollbacks);
        printf("frames_resimulated %" PRIu64 "\n", st.frames_resimulated);
        printf("max_rollback_depth %" PRId32 "\n", st.max_rollback_depth);
        printf("stalls %" PRIu64 "\n", st.stalls);
        printf("events_dropped %" PRIu64 "\n", st.events_dropped);
        printf("records_promoted %" PRIu64 "\n", st.records_promoted);
        printf("recommended_wait %d\n", st.recommended_wait);
        printf("running %d\n", st.running ? 1 : 0);
    }
    printf("records_exported %" PRIu64 "\n", g->records_exported);
    printf("pacer_frames_dropped %" PRIu64 "\n", g->pacer.frames_dropped);
    rollnet_peer_stats ps;
    if (g->remote >= 0 && rollnet_session_peer_stats(g->session, g->remote, &ps) == ROLLNET_ERR_OK) {
        printf("peer_connected %d\n", ps.connected ? 1 : 0);
        printf("peer_synchronized %d\n", ps.synchronized ? 1 : 0);
        printf("peer_disconnected %d\n", ps.disconnected ? 1 : 0);
        printf("peer_rtt_ms %" PRIu32 "\n", ps.rtt_ms);
        printf("peer_jitter_ms %" PRIu32 "\n", ps.jitter_ms);
        printf("peer_send_queue %" PRIu32 "\n", ps.send_queue);
        printf("peer_bytes_sent %" PRIu64 "\n", ps.bytes_sent);
        printf("peer_bytes_received %" PRIu64 "\n", ps.bytes_received);
        printf("peer_messages_sent %" PRIu64 "\n", ps.messages_sent);
        printf("peer_messages_received %" PRIu64 "\n", ps.messages_received);
        printf("peer_local_frames_ahead %" PRId32 "\n", ps.local_frames_ahead);
        printf("peer_remote_frames_ahead %" PRId32 "\n", ps.remote_frames_ahead);
        printf("peer_last_received_frame %" PRId32 "\n", ps.last_received_frame);
        printf("peer_dropped_malformed %" PRIu64 "\n", ps.dropped_malformed);
        printf("peer_dropped_foreign %" PRIu64 "\n", ps.dropped_foreign);
        printf("peer_dropped_stale %" PRIu64 "\n", ps.dropped_stale);
        printf("peer_dropped_oversize %" PRIu64 "\n", ps.dropped_oversize);
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Main loop                                                                 */
/* ------------------------------------------------------------------------ */

static void run(game *g)
{
    rollnet_sdl_pacer_init(&g->pacer, g->opt.fps);
    while (!g->done) {
        int due = rollnet_sdl_pacer_wait(&g->pacer);
        if (due > 1)
            peer_log(g, "catch_up", due);
        pump_sdl_events(g);
        /* After a stall the pacer hands out several frames at once (at most
         * ROLLNET_SDL_PACER_MAX_CATCH_UP): run them all, draw only the last. */
        for (int k = 0; k < due && !g->done; k++) {
            tick(g);
            rollnet_sdl_overlay_sample(&g->overlay, g->session, g->remote);
        }
        if (g->complete && !g->done) {
            /* Every record is in; stay a moment for the peer's sake. */
            bool alone = g->opt.synctest || g->peer_gone;
            if (alone || now_ms() - g->complete_ms >= LINGER_MS)
                g->done = true;
        }
        if (g->renderer && g->render_ok)
            render(g);
    }
}

int main(int argc, char **argv)
{
    game g;
    memset(&g, 0, sizeof g);
    int rc = parse_args(argc, argv, &g.opt);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (g.opt.replay) {
        uint64_t frames = 0;
        rc = gw_replay(g.opt.replay, GW_SEED, g.opt.max_steps, &frames);
        if (rc == 0) {
            printf("replayed %" PRIu64 " frames: every record matches\n", frames);
        }
        return rc;
    }
    g.cfg.seed = GW_SEED;
    g.cfg.max_steps = g.opt.max_steps;
    gw_reset(&g.state, &g.cfg, 0);
    g.render_ok = true;

    if (g.opt.headless)
        SDL_setenv("SDL_VIDEODRIVER", "dummy", 1);
    Uint32 subsystems = SDL_INIT_VIDEO | (g.opt.headless ? 0 : SDL_INIT_GAMECONTROLLER);
    if (SDL_Init(subsystems) != 0) {
        fprintf(stderr, "gridworld: SDL_Init failed: %s\n", SDL_GetError());
        return 1;
    }
    rollnet_sdl_focus_init(&g.focus);
    rollnet_sdl_overlay_init(&g.overlay);
    setup_inputs(&g);

    if (setup_video(&g) != 0 || setup_export(&g) != 0 || setup_session(&g) != 0) {
        rollnet_exporter_close(g.exporter);
        rollnet_peerlog_close(g.peerlog);
        SDL_Quit();
        return 1;
    }

    run(&g);

    /* A refusal or a failure: keep the connection a moment so the peer reads
     * why (ENet discards what is still undelivered when a close arrives). */
    if (g.exit_code != 0 && g.session && !g.peer_gone) {
        uint64_t until = now_ms() + 500;
        while (now_ms() < until) {
            rollnet_session_poll(g.session, now_ms());
            SDL_Delay(5);
        }
    }

    /* Whatever ended the run, every record confirmed so far reaches the files. */
    if (g.session)
        drain_records(&g);
    if (g.exit_code == 0) {
        uint64_t want = (uint64_t)g.opt.episodes * (uint64_t)g.opt.max_steps;
        if (g.records_exported != want)
            fail(&g, "%" PRIu64 " of %" PRIu64 " frames were confirmed and exported",
                 g.records_exported, want);
    }
    if (g.opt.stats)
        print_stats(&g);
    peer_log(&g, "exit", g.exit_code);
    rollnet_error err = rollnet_exporter_close(g.exporter);
    if (err != ROLLNET_ERR_OK && g.exit_code == 0)
        fail(&g, "closing the export failed: %s", rollnet_error_string(err));
    rollnet_peerlog_close(g.peerlog);
    rollnet_session_destroy(g.session);
    for (int p = 0; p < GW_PLAYERS; p++)
        rollnet_sdl_input_close(&g.keys[p]);
    if (g.renderer)
        SDL_DestroyRenderer(g.renderer);
    if (g.window)
        SDL_DestroyWindow(g.window);
    SDL_Quit();
    if (g.exit_code != 0)
        fprintf(stderr, "gridworld: %s\n", g.reason);
    return g.exit_code;
}
