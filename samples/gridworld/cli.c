/* gridworld's command line: --help's text, the parsing of each option's
 * value, and the checks across options (exactly one mode). Every error is one
 * line on stderr and exit status 2, so that scripts can tell a bad command
 * line from a failed run (status 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "cli.h"
#include "game.h"
#include "rollnet/rollnet.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gridworld (--host PORT | --join HOST:PORT | --spectate HOST:PORT |\n"
            "                 --synctest N | --replay FILE | --check-export FILE) [options]\n"
            "\n"
            "Two to four players collect items on a %dx%d grid. Player 0 is the host;\n"
            "each joiner takes a seat (player 1, 2 or 3) and needs only the host's address:\n"
            "the host introduces the joiners to each other. All connect over ENet (UDP).\n"
            "\n"
            "  --host PORT          be player 0 and wait for the joiners on UDP PORT\n"
            "  --join HOST:PORT     join the host at HOST:PORT (as player 1, or --player K)\n"
            "  --spectate HOST:PORT watch the host's game, playing nobody, from where it is\n"
            "                       (a late spectator first loads the state the host sends);\n"
            "                       --players, --max-steps, --fps, --key must match; exits\n"
            "                       when the players finish (a host accepts %d spectators)\n"
            "  --players N          players in the session, 2..%d (default 2); must match\n"
            "                       on every peer\n"
            "  --player K           the joiner's seat, 1..N-1 (default 1): each joiner takes\n"
            "                       another one; a seat that is taken is refused\n"
            "                       (\"session full\")\n"
            "  --synctest N         no network: every player local, and every frame is\n"
            "                       rolled back N frames (1..%d) to prove determinism\n"
            "  --replay FILE        no network: play back a replay that --replay-out recorded\n"
            "                       (in the window, or --headless), with its own rules; with\n"
            "                       --export it writes the original export byte for byte\n"
            "  --check-export FILE  no network, no window: re-run the game from the inputs in\n"
            "                       FILE (the PATH.msgpack that --export writes) and check that\n"
            "                       every recorded frame comes out the same; --max-steps must\n"
            "                       match (the number of players comes from FILE)\n"
            "  --replay-out PATH    record this network or sync-test game to the replay PATH\n"
            "                       (parameters, the state at frame 0, every confirmed frame)\n"
            "  --bot SEED           a bot plays the local player(s) instead of the keyboard\n"
            "                       (in a sync test the bots use SEED and SEED+1)\n"
            "  --headless           no window and no rendering (SDL_VIDEODRIVER=dummy);\n"
            "                       implies --bot 1 unless --bot is given\n"
            "  --episodes N         episodes to play, then exit (default 3)\n"
            "  --max-steps N        frames per episode (default 450); must match the peer\n"
            "  --fps N              frames per second (default 60); must match the peer\n"
            "  --input-delay N      frames of input delay of this peer's player, 0..%d\n"
            "                       (default 2); the peer may choose another\n"
            "  --export PATH        write confirmed frames to PATH (CSV) and PATH.msgpack,\n"
            "                       and this peer's event log to PATH.peer.csv\n"
            "  --netsim SPEC        simulate a bad network on this side's outgoing packets,\n"
            "                       e.g. delay=50,jitter=10,loss=2,dup=1,reorder=1,seed=7\n"
            "  --key TEXT           a private session: both sides must give the same TEXT\n"
            "                       (e.g. an invite code); a peer without it is refused%s\n"
            "  --stats              print session and peer statistics at the end, one\n"
            "                       \"name value\" per line\n"
            "  --loading-pause S    at the start of episode 2, announce loading, block for\n"
            "                       S seconds, then end loading\n"
            "  --no-net-thread      service the network only inside the game loop (by\n"
            "                       default a thread of the transport does it, so a\n"
            "                       blocked game thread reads as busy, not gone)\n"
            "  --block-at S:L       S seconds after the start, block the game thread for L\n"
            "                       seconds without announcing it\n"
            "  --rejoin             this process replaces a player whose process crashed\n"
            "                       (same other arguments, within 60 s): it gets the\n"
            "                       game's state from the others and plays on; a joiner\n"
            "                       is introduced to the other joiners again by the host;\n"
            "                       its --export starts at the frame it rejoined at\n"
            "  --play-on            every peer: while a player is away (lost or crashed)\n"
            "                       the others play on with it standing still (flagged in\n"
            "                       the export) once they agree on its last frame; it\n"
            "                       comes back with --rejoin (by default all wait for it)\n"
            "  --help               show this text\n"
            "\n"
            "Keys: arrows/WASD move (in a sync test: WASD player 0, arrows player 1;\n"
            "players 2 and 3 stand still unless --bot),\n"
            "F1 toggles the network overlay, Esc quits. A game controller's d-pad works too.\n"
            "\n"
            "Exit status: 0 when every episode completed and was exported; 1 when a peer\n"
            "disconnected, refused the handshake, a desync was found, or the game was quit\n"
            "early (one line on stderr says which); 2 for a bad command line.\n",
            GW_WIDTH, GW_HEIGHT, GW_SPECTATORS, GW_MAX_PLAYERS, ROLLNET_MAX_PREDICTION, ROLLNET_MAX_INPUT_DELAY,
            ROLLNET_HAVE_SESSION_KEY ? "" : "\n                       (not in this build: rollnet has no libsodium)");
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
    static const char *const names[] = {"--host",      "--join",   "--spectate", "--bot", "--episodes",
                                        "--max-steps", "--fps",    "--input-delay",
                                        "--export",    "--netsim", "--synctest",
                                        "--loading-pause", "--replay", "--key",
                                        "--replay-out", "--check-export", "--players",
                                        "--player"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(a, names[i]))
            return true;
    }
    return false;
}

/* Store the value v of option a (one is_valued_option accepts); false when v
 * is not a valid value for it. */
static bool parse_value(const char *a, const char *v, options *o)
{
    bool ok = true;
    if (!strcmp(a, "--host")) {
        ok = parse_int(v, 1, 65535, &o->host_port);
    } else if (!strcmp(a, "--join")) {
        const char *colon = strrchr(v, ':');
        int port;
        ok = colon && colon != v && parse_int(colon + 1, 1, 65535, &port);
        o->join = v;
    } else if (!strcmp(a, "--spectate")) {
        const char *colon = strrchr(v, ':');
        int port;
        ok = colon && colon != v && parse_int(colon + 1, 1, 65535, &port);
        o->spectate = v;
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
    } else if (!strcmp(a, "--replay-out")) {
        o->replay_out = v;
    } else if (!strcmp(a, "--check-export")) {
        o->check_export = v;
    } else if (!strcmp(a, "--players")) {
        ok = parse_int(v, 2, GW_MAX_PLAYERS, &o->players);
    } else if (!strcmp(a, "--player")) {
        ok = parse_int(v, 1, GW_MAX_PLAYERS - 1, &o->player);
    } else if (!strcmp(a, "--key")) {
        ok = v[0] != '\0';
        o->key = v;
    } else if (!strcmp(a, "--loading-pause")) {
        char *end;
        o->loading_pause = strtod(v, &end);
        ok = end != v && !*end && o->loading_pause >= 0 && o->loading_pause <= 3600;
    }
    return ok;
}

/* The checks across options, once all are read; then what --headless implies. */
static int check_modes(options *o)
{
    int modes = (o->host_port ? 1 : 0) + (o->join ? 1 : 0) + (o->spectate ? 1 : 0) +
                (o->synctest ? 1 : 0) +
                (o->replay ? 1 : 0) + (o->check_export ? 1 : 0);
    if (modes != 1) {
        fprintf(stderr, "gridworld: give exactly one of --host, --join, --spectate, --synctest, "
                        "--replay, --check-export (see --help)\n");
        return 2;
    }
    if (o->replay_out && (o->replay || o->check_export || o->spectate)) {
        fprintf(stderr, "gridworld: --replay-out records a game (--host, --join or --synctest)\n");
        return 2;
    }
    if (o->replay_out && o->rejoin) {
        fprintf(stderr, "gridworld: --replay-out records a game from its first frame; a --rejoin "
                        "starts later (the process that crashed recorded the beginning)\n");
        return 2;
    }
    if (o->rejoin && !o->join && !o->host_port) {
        fprintf(stderr, "gridworld: --rejoin replaces a player of a network game (--host or "
                        "--join)\n");
        return 2;
    }
    if (o->synctest && o->netsim) {
        fprintf(stderr, "gridworld: --netsim needs a network (--host or --join)\n");
        return 2;
    }
    if (o->replay && o->netsim) {
        fprintf(stderr, "gridworld: --netsim needs a network (--host or --join)\n");
        return 2;
    }
    if (o->key && (o->synctest || o->replay || o->check_export)) {
        fprintf(stderr, "gridworld: --key needs a network (--host or --join)\n");
        return 2;
    }
    if (o->key && !ROLLNET_HAVE_SESSION_KEY) {
        fprintf(stderr, "gridworld: --key: this rollnet was built without libsodium "
                        "(meson feature session_key)\n");
        return 2;
    }
    if (o->player && !o->join) {
        fprintf(stderr, "gridworld: --player is a joiner's seat: it needs --join (the host is "
                        "player 0)\n");
        return 2;
    }
    if (o->join && !o->player)
        o->player = 1;
    if (o->player >= o->players) {
        fprintf(stderr, "gridworld: --player %d: seats of a %d-player game are 1..%d (see "
                        "--players)\n",
                o->player, o->players, o->players - 1);
        return 2;
    }
    if (o->headless && !o->bot) {
        o->bot = true;
        o->bot_seed = 1;
    }
    return 0;
}

int cli_parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->episodes = 3;
    o->max_steps = 450;
    o->fps = 60;
    o->input_delay = 2;
    o->players = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--headless")) {
            o->headless = true;
            continue;
        } else if (!strcmp(a, "--stats")) {
            o->stats = true;
            continue;
        }
        int took = block_cli_option(a, v, o);
        if (took == -2) {
            return 2;
        } else if (took >= 0) {
            i += took;
            continue;
        } else if (!is_valued_option(a)) {
            fprintf(stderr, "gridworld: unknown option %s (see --help)\n", a);
            return 2;
        } else if (!v) {
            fprintf(stderr, "gridworld: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (!parse_value(a, v, o)) {
            fprintf(stderr, "gridworld: bad value for %s: %s (see --help)\n", a, v);
            return 2;
        }
        i++;
    }
    return check_modes(o);
}
