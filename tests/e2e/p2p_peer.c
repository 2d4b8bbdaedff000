/*
 * p2p_peer: one player of a rollback session over ENet, as a real process on
 * the real monotonic clock. Two players by default: the host is player 0 and
 * accepts the joiner, player 1. With --players N (a mesh), --player K picks
 * this side's player, --peer Q=HOST:PORT connects to player Q's process, and
 * every other remote player is accepted on the --host port. Each side plays
 * the deterministic test game with its own seeded bot and exports the
 * confirmed rows of the first --episodes episodes; peers of one session must
 * write byte-identical files.
 *
 * On stderr, "running after N ms" gives the time from the start of the
 * process to RUNNING. The final line on stdout also counts link events
 * after RUNNING (SYNCHRONIZING, SYNCHRONIZED, INTERRUPTED, RESUMED,
 * DISCONNECTED before done, REFUSED) and the strangers the session and the
 * ENet transport turned away.
 *
 * Exit codes: 0 done; 1 the session failed (DISCONNECTED, REFUSED, DESYNC or
 * an error), one line on stderr says why; 2 bad arguments; 3 not done within
 * --timeout-s; 4 the host could not bind its port (the caller may retry
 * another). The last line on stdout gives frames, rollbacks and depth.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"
#include "rollnet/rollnet_export.h"
#include "testgame.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3
#define EXIT_BIND 4

#define GAME_ID 0x7032707065657231ull /* both peers must agree; any constant will do */
#define LINGER_US 1000000u            /* after the last row: serve the other side this long */
#define MAX_CATCH_UP 4                /* frames run back to back after the process fell behind */

typedef struct opts {
    int host_port;         /* --host PORT (0: the OS picks one), or -1 */
    int num_players;       /* --players N, default 2 */
    int player;            /* --player K; default 0 with --host alone, else 1 */
    const char *addr[ROLLNET_MAX_PLAYERS]; /* --join (player 0), --peer Q=ADDR; NULL: accepted */
    uint64_t seed;         /* bot seed */
    uint64_t game_seed;    /* game and session seed; must agree on both sides */
    int episodes;
    int32_t max_steps;
    const char *export_path;
    const char *netsim;
    int input_delay;
    int fps;
    int timeout_s;
} opts;

/* Everything one run owns; torn down by finish() whatever the outcome. */
typedef struct peer {
    opts o;
    int local;  /* this side's player handle */
    uint64_t start_us;
    bool running;         /* RUNNING was seen */
    uint64_t link_events; /* connection events after RUNNING: strangers must cause none */
    rollnet_session *s;
    rollnet_transport enet; /* copies of the handles the session owns, for wait and flush */
    rollnet_transport sim;  /* zero when no --netsim */
    rollnet_exporter *exp;
    tg_game game;
    tg_bot bot;
    uint8_t pending;
    bool has_pending;
    int skip_frames; /* left to skip after WAIT_RECOMMENDED */
    uint64_t frames_skipped_wait;
    int32_t rows;      /* confirmed records read */
    int32_t next_row;  /* frame the next record must carry */
    bool done;         /* every row of the first `episodes` episodes confirmed */
    uint64_t linger_until_us;
    bool other_left;   /* the other side disconnected after we were done */
} peer;

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: p2p_peer (--host PORT | --join HOST:PORT) [--seed N] [--game-seed N]\n"
            "                [--players N --player K [--peer Q=HOST:PORT]...]\n"
            "                [--episodes E] [--max-steps S] [--export PATH] [--netsim SPEC]\n"
            "                [--input-delay N] [--fps N] [--timeout-s N]\n");
}

static bool parse_int(const char *text, long long lo, long long hi, long long *out)
{
    if (!text || !*text) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    o->host_port = -1;
    o->num_players = 2;
    o->player = -1;
    o->seed = 1;
    o->game_seed = 1;
    o->episodes = 3;
    o->max_steps = 300;
    o->fps = 60;
    o->timeout_s = 60;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        if (!v) {
            fprintf(stderr, "p2p_peer: %s needs a value\n", k);
            return false;
        }
        i++;
        if (strcmp(k, "--host") == 0 && parse_int(v, 0, 65535, &n)) {
            o->host_port = (int)n;
        } else if (strcmp(k, "--join") == 0 && strchr(v, ':')) {
            o->addr[0] = v;
        } else if (strcmp(k, "--peer") == 0 && v[0] >= '0' && v[0] < '0' + ROLLNET_MAX_PLAYERS &&
                   v[1] == '=' && strchr(v + 2, ':')) {
            o->addr[v[0] - '0'] = v + 2;
        } else if (strcmp(k, "--players") == 0 && parse_int(v, 2, ROLLNET_MAX_PLAYERS, &n)) {
            o->num_players = (int)n;
        } else if (strcmp(k, "--player") == 0 && parse_int(v, 0, ROLLNET_MAX_PLAYERS - 1, &n)) {
            o->player = (int)n;
        } else if (strcmp(k, "--seed") == 0 && parse_int(v, 0, INT64_MAX, &n)) {
            o->seed = (uint64_t)n;
        } else if (strcmp(k, "--game-seed") == 0 && parse_int(v, 0, INT64_MAX, &n)) {
            o->game_seed = (uint64_t)n;
        } else if (strcmp(k, "--episodes") == 0 && parse_int(v, 1, 1000, &n)) {
            o->episodes = (int)n;
        } else if (strcmp(k, "--max-steps") == 0 && parse_int(v, 1, 1000000, &n)) {
            o->max_steps = (int32_t)n;
        } else if (strcmp(k, "--export") == 0 && *v) {
            o->export_path = v;
        } else if (strcmp(k, "--netsim") == 0) {
            o->netsim = v;
        } else if (strcmp(k, "--input-delay") == 0 &&
                   parse_int(v, 0, ROLLNET_MAX_INPUT_DELAY, &n)) {
            o->input_delay = (int)n;
        } else if (strcmp(k, "--fps") == 0 && parse_int(v, 1, 1000, &n)) {
            o->fps = (int)n;
        } else if (strcmp(k, "--timeout-s") == 0 && parse_int(v, 1, 86400, &n)) {
            o->timeout_s = (int)n;
        } else {
            fprintf(stderr, "p2p_peer: bad option %s %s\n", k, v);
            return false;
        }
    }
    bool connects = false;
    for (int q = 0; q < ROLLNET_MAX_PLAYERS; q++) {
        connects |= o->addr[q] != NULL;
    }
    if (o->player < 0) {
        o->player = connects ? 1 : 0;
    }
    if (o->player >= o->num_players || o->addr[o->player] != NULL) {
        fprintf(stderr, "p2p_peer: --player must be below --players and have no address\n");
        return false;
    }
    bool accepts = false;
    for (int q = 0; q < o->num_players; q++) {
        accepts |= q != o->player && o->addr[q] == NULL;
    }
    for (int q = o->num_players; q < ROLLNET_MAX_PLAYERS; q++) {
        if (o->addr[q]) {
            fprintf(stderr, "p2p_peer: --peer %d is not a player\n", q);
            return false;
        }
    }
    if (accepts != (o->host_port >= 0)) {
        fprintf(stderr, "p2p_peer: --host exactly when some remote player has no address\n");
        return false;
    }
    return true;
}

static void log_hook(rollnet_log_level level, const char *message, void *user_data)
{
    const peer *p = user_data;
    if (level >= ROLLNET_LOG_WARN) {
        fprintf(stderr, "p2p_peer[%d]: rollnet: %s\n", p->local, message);
    }
}

static const char *disconnect_reason(rollnet_disconnect_reason r)
{
    switch (r) {
    case ROLLNET_DISCONNECT_TIMEOUT:
        return "timeout";
    case ROLLNET_DISCONNECT_LOADING_GRACE:
        return "loading grace ran out";
    case ROLLNET_DISCONNECT_CLOSED:
        return "closed";
    case ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT:
        return "handshake timeout";
    case ROLLNET_DISCONNECT_BY_PEERS:
        return "lost by another peer";
    case ROLLNET_DISCONNECT_LEFT:
        return "left";
    case ROLLNET_DISCONNECT_NO_ANSWER:
        return "no answer";
    case ROLLNET_DISCONNECT_BUSY_TIMEOUT:
        return "busy timeout";
    case ROLLNET_DISCONNECT_CONNECTION_LOST:
        return "connection lost, not regained";
    case ROLLNET_DISCONNECT_STATE_INVALID:
        return "state transfer refused";
    case ROLLNET_DISCONNECT_PLAYED_ON:
        return "played on without this peer";
    }
    return "unknown";
}

/* The one-line reason of a failure goes to stderr; the caller exits with EXIT_FAILED. */
static bool fail(const peer *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "p2p_peer[%d]: ", p->local);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

/* False when an event ends the run. */
static bool drain_events(peer *p)
{
    rollnet_event ev;
    while (rollnet_session_next_event(p->s, &ev)) {
        switch (ev.type) {
        case ROLLNET_EVENT_RUNNING:
            p->running = true;
            fprintf(stderr, "p2p_peer[%d]: running after %llu ms\n", p->local,
                    (unsigned long long)((mono_us() - p->start_us) / 1000u));
            break;
        case ROLLNET_EVENT_SYNCHRONIZING:
        case ROLLNET_EVENT_SYNCHRONIZED:
            if (p->running) {
                p->link_events++;
                fprintf(stderr, "p2p_peer[%d]: player %d handshake event %d while running\n",
                        p->local, ev.player, (int)ev.type);
            }
            break;
        case ROLLNET_EVENT_DISCONNECTED:
            if (p->done) {
                /* The other side finished too and closed: nothing left to serve. */
                p->other_left = true;
                break;
            }
            return fail(p, "player %d disconnected (%s) at frame %d", ev.player,
                        disconnect_reason(ev.u.disconnected.reason), (int)p->game.frame);
        case ROLLNET_EVENT_REFUSED:
            return fail(p, "handshake refused: %s%s%s differs (local %" PRId64 ", remote %" PRId64 ")",
                        rollnet_param_string(ev.u.refused.param), ev.u.refused.key[0] ? " " : "",
                        ev.u.refused.key, ev.u.refused.local_value, ev.u.refused.remote_value);
        case ROLLNET_EVENT_DESYNC:
            return fail(p, "desync at frame %d (local %016" PRIx64 ", remote %016" PRIx64 ")",
                        (int)ev.u.desync.frame, ev.u.desync.local_checksum,
                        ev.u.desync.remote_checksum);
        case ROLLNET_EVENT_WAIT_RECOMMENDED:
            p->skip_frames += ev.u.wait.frames;
            break;
        case ROLLNET_EVENT_INTERRUPTED:
            if (p->done) {
                break; /* the other side finished too and closed: a lost connection now */
            }
            p->link_events++;
            fprintf(stderr, "p2p_peer[%d]: player %d interrupted\n", p->local, ev.player);
            break;
        case ROLLNET_EVENT_RESUMED:
            p->link_events++;
            fprintf(stderr, "p2p_peer[%d]: player %d resumed\n", p->local, ev.player);
            break;
        case ROLLNET_EVENT_RECONNECTING:
            if (p->done) {
                break;
            }
            p->link_events++;
            fprintf(stderr, "p2p_peer[%d]: player %d reconnecting (attempt %d, %u ms)\n", p->local,
                    ev.player, ev.u.waiting.attempt, (unsigned)ev.u.waiting.waited_ms);
            break;
        case ROLLNET_EVENT_EPISODE_TIMEOUT:
            fprintf(stderr, "p2p_peer[%d]: episode %d boundary wait timed out\n", p->local,
                    (int)ev.u.episode.episode);
            break;
        default:
            break;
        }
    }
    return true;
}

/* Reads every confirmed record, checks it continues the ledger, exports the
 * rows of the first `episodes` episodes. False on a broken ledger or export. */
static bool drain_records(peer *p, uint64_t now_us)
{
    rollnet_record r;
    while (rollnet_session_next_record(p->s, &r)) {
        /* Episodes of the test game last exactly max_steps frames. */
        int32_t want_episode = r.frame / p->o.max_steps;
        int32_t want_step = r.frame % p->o.max_steps;
        if (r.frame != p->next_row || r.episode != want_episode || r.step != want_step ||
            r.episode_end != (want_step == p->o.max_steps - 1)) {
            return fail(p, "ledger row %d is frame %d episode %d step %d end %d", (int)p->rows,
                        (int)r.frame, (int)r.episode, (int)r.step, (int)r.episode_end);
        }
        p->next_row++;
        p->rows++;
        if (r.episode >= p->o.episodes) {
            continue;
        }
        if (p->exp) {
            rollnet_error err = rollnet_exporter_write(p->exp, &r);
            if (err != ROLLNET_ERR_OK) {
                return fail(p, "export of frame %d: %s", (int)r.frame, rollnet_error_string(err));
            }
        }
        if (r.episode == p->o.episodes - 1 && r.episode_end) {
            p->done = true;
            p->linger_until_us = now_us + LINGER_US;
            if (p->exp) {
                rollnet_error err = rollnet_exporter_close(p->exp);
                p->exp = NULL;
                if (err != ROLLNET_ERR_OK) {
                    return fail(p, "closing the export: %s", rollnet_error_string(err));
                }
            }
            fprintf(stderr, "p2p_peer[%d]: %d episodes confirmed (%d rows)\n", p->local,
                    p->o.episodes, (int)p->rows);
        }
    }
    return true;
}

static bool is_skip(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_LEDGER_FULL || err == ROLLNET_ERR_NOT_RUNNING;
}

static bool poll_session(peer *p, uint64_t now_us)
{
    rollnet_error err = rollnet_session_poll(p->s, now_us / 1000u);
    if (!drain_events(p)) {
        return false;
    }
    if (err != ROLLNET_ERR_OK) {
        return fail(p, "poll: %s", rollnet_error_string(err));
    }
    return drain_records(p, now_us);
}

/* One frame: poll, add the bot's input, advance, carry out the requests. A
 * frame the session refuses keeps the bot's input for the next one, so each
 * side's inputs are the same sequence whatever the network did. */
static bool tick(peer *p, uint64_t now_us)
{
    if (!poll_session(p, now_us)) {
        return false;
    }
    if (p->skip_frames > 0) {
        p->skip_frames--;
        p->frames_skipped_wait++;
        return true;
    }
    if (!p->has_pending) {
        p->pending = tg_bot_next(&p->bot)[0];
        p->has_pending = true;
    }
    rollnet_error err = rollnet_session_add_local_input(p->s, p->local, &p->pending, 1);
    if (is_skip(err)) {
        return drain_events(p);
    }
    if (err != ROLLNET_ERR_OK) {
        return fail(p, "add_local_input: %s", rollnet_error_string(err));
    }
    const rollnet_request *reqs = NULL;
    int n = 0;
    err = rollnet_session_advance(p->s, &reqs, &n);
    if (is_skip(err)) {
        return drain_events(p);
    }
    if (err != ROLLNET_ERR_OK) {
        return fail(p, "advance: %s", rollnet_error_string(err));
    }
    for (int i = 0; i < n; i++) {
        if (reqs[i].type == ROLLNET_REQUEST_ADVANCE && !(reqs[i].flags & ROLLNET_REQUEST_REPLAY)) {
            /* A new frame took the input; a list holding only a pending
             * rollback leaves it for the next frame. */
            p->has_pending = false;
        }
    }
    err = tg_execute(&p->game, p->s, reqs, n);
    if (err != ROLLNET_ERR_OK) {
        return fail(p, "carrying out frame %d: %s", (int)p->game.failed_frame,
                    rollnet_error_string(err));
    }
    if (!drain_events(p)) {
        return false;
    }
    return drain_records(p, now_us);
}

/* Sleeps in the ENet socket until the next frame is due, waking early for
 * incoming datagrams (polled at once) and for messages the simulator holds
 * (handed to ENet when due: the simulated wire lives in this process). */
static bool wait_until(peer *p, uint64_t due_us)
{
    for (;;) {
        uint64_t now = mono_us();
        if (now >= due_us) {
            return true;
        }
        uint64_t wake = due_us;
        if (p->sim.vtable) {
            rollnet_netsim_flush(&p->sim, now / 1000u);
            uint64_t held_ms = 0;
            if (rollnet_netsim_next_due(&p->sim, &held_ms) && held_ms * 1000u < wake) {
                wake = held_ms * 1000u > now ? held_ms * 1000u : now;
            }
        }
        uint32_t timeout_ms = (uint32_t)((wake - now + 999u) / 1000u);
        int r = rollnet_enet_wait(&p->enet, timeout_ms);
        if (r < 0) {
            return fail(p, "waiting on the ENet socket failed");
        }
        if (r > 0 && !poll_session(p, mono_us())) {
            return false;
        }
    }
}

static int finish(peer *p, int code)
{
    rollnet_session_stats st;
    memset(&st, 0, sizeof(st));
    if (p->s) {
        rollnet_session_stats_get(p->s, &st);
    }
    rollnet_enet_stats es;
    (void)rollnet_enet_stats_get(&p->enet, &es); /* zeroed if the session never took it */
    printf("p2p_peer: player %d frames %d confirmed %d rows %d rollbacks %" PRIu64
           " max_depth %d resimulated %" PRIu64 " stalls %" PRIu64 " waited %" PRIu64
           " link_events %" PRIu64 " handshakes_refused %" PRIu64 " handshakes_dropped %" PRIu64
           " enet_refused_per_address %" PRIu64 " enet_refused_full %" PRIu64
           " enet_handshakes_dropped %" PRIu64 " exit %d\n",
           p->local, (int)st.frame, (int)st.confirmed_frame, (int)p->rows, st.rollbacks,
           (int)st.max_rollback_depth, st.frames_resimulated, st.stalls, p->frames_skipped_wait,
           p->link_events, st.handshakes_refused, st.handshakes_dropped, es.refused_per_address,
           es.refused_full, es.handshakes_dropped, code);
    fflush(stdout);
    rollnet_exporter_close(p->exp);
    p->exp = NULL;
    rollnet_session_destroy(p->s);
    p->s = NULL;
    return code;
}

static int run(peer *p)
{
    const opts *o = &p->o;
    uint64_t start = mono_us();
    uint64_t deadline = start + (uint64_t)o->timeout_s * 1000000u;
    uint64_t base = start;
    uint64_t ticks = 0;
    for (;;) {
        uint64_t due = base + ticks * 1000000u / (uint64_t)o->fps;
        if (!wait_until(p, due < deadline ? due : deadline)) {
            return EXIT_FAILED;
        }
        uint64_t now = mono_us();
        if (now >= deadline) {
            fprintf(stderr, "p2p_peer[%d]: not done within %d s (%d rows confirmed, frame %d)\n",
                    p->local, o->timeout_s, (int)p->rows, (int)p->game.frame);
            return EXIT_TIMEOUT;
        }
        if (p->done && (now >= p->linger_until_us || p->other_left)) {
            return 0;
        }
        if (!tick(p, now)) {
            return EXIT_FAILED;
        }
        ticks++;
        /* Descheduled for longer than a few frames: catch up by that many
         * frames at most, then resume the pace from now. */
        if (now > base + (ticks + MAX_CATCH_UP) * 1000000u / (uint64_t)o->fps) {
            base = now;
            ticks = 0;
        }
    }
}

int main(int argc, char **argv)
{
    static peer p; /* the game state is large; keep it off the stack */
    if (!parse_opts(argc, argv, &p.o)) {
        usage();
        return EXIT_USAGE;
    }
    const opts *o = &p.o;
    bool hosting = o->host_port >= 0;
    p.local = o->player;
    p.start_us = mono_us();

    rollnet_enet_desc ed;
    memset(&ed, 0, sizeof(ed));
    ed.port = hosting ? (uint16_t)o->host_port : 0;
    ed.bind_address = hosting ? "127.0.0.1" : NULL;
    rollnet_error err = rollnet_enet_create(&ed, NULL, &p.enet);
    if (err == ROLLNET_ERR_TRANSPORT && hosting) {
        fprintf(stderr, "p2p_peer[%d]: cannot bind 127.0.0.1:%d\n", p.local, o->host_port);
        return EXIT_BIND;
    }
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "p2p_peer[%d]: ENet transport: %s\n", p.local, rollnet_error_string(err));
        return EXIT_FAILED;
    }
    rollnet_transport transport = p.enet;
    if (o->netsim) {
        rollnet_netsim_desc nd;
        if (rollnet_netsim_parse(o->netsim, &nd) != ROLLNET_ERR_OK) {
            fprintf(stderr, "p2p_peer[%d]: bad --netsim spec \"%s\"\n", p.local, o->netsim);
            rollnet_transport_destroy(&p.enet);
            return EXIT_USAGE;
        }
        /* One spec on both sides; distinct seeds keep the two directions independent. */
        nd.seed = nd.seed * 2u + (uint64_t)p.local;
        /* The simulator owns the ENet transport from here on, also when it
         * fails (it has then destroyed it). p.enet stays a view of it. */
        rollnet_error nerr = rollnet_netsim_create(p.enet, &nd, NULL, &p.sim);
        if (nerr != ROLLNET_ERR_OK) {
            fprintf(stderr, "p2p_peer[%d]: netsim: %s\n", p.local, rollnet_error_string(nerr));
            return EXIT_FAILED;
        }
        transport = p.sim;
    }
    if (hosting) {
        printf("p2p_peer: listening on 127.0.0.1:%u\n", (unsigned)rollnet_enet_port(&p.enet));
        fflush(stdout);
    }

    if (!tg_init(&p.game, o->game_seed, o->num_players, 1, 0, o->max_steps)) {
        rollnet_transport_destroy(&transport);
        return EXIT_USAGE;
    }
    p.game.write_records = true;
    p.game.record_rows = true;
    /* The same stream per player handle as the integration harness uses. */
    tg_bot_init(&p.bot, o->seed * 1000003u + (uint64_t)p.local, 1);

    if (o->export_path) {
        const char *cols[3 * ROLLNET_MAX_PLAYERS + 4];
        rollnet_export_desc xd;
        memset(&xd, 0, sizeof(xd));
        xd.csv_path = o->export_path;
        xd.num_columns = tg_row_columns(o->num_players, cols);
        xd.columns = cols;
        xd.num_players = o->num_players;
        xd.input_size = 1;
        err = rollnet_exporter_open(&xd, NULL, &p.exp);
        if (err != ROLLNET_ERR_OK) {
            fprintf(stderr, "p2p_peer[%d]: cannot open %s: %s\n", p.local, o->export_path,
                    rollnet_error_string(err));
            rollnet_transport_destroy(&transport);
            return EXIT_FAILED;
        }
    }

    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.num_players = o->num_players;
    d.input_size = 1;
    d.input_delay = o->input_delay;
    d.fps = o->fps;
    d.game_id = GAME_ID;
    d.seed = o->game_seed;
    d.players[p.local].kind = ROLLNET_PLAYER_LOCAL;
    for (int q = 0; q < o->num_players; q++) {
        if (q != p.local) {
            d.players[q].kind = ROLLNET_PLAYER_REMOTE;
            d.players[q].address = o->addr[q]; /* NULL: accepted on the --host port */
        }
    }
    d.transport = transport;
    d.logger.log = log_hook;
    d.logger.user_data = &p;
    err = rollnet_session_create(&d, &p.s);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "p2p_peer[%d]: session: %s\n", p.local, rollnet_error_string(err));
        return finish(&p, EXIT_FAILED);
    }
    return finish(&p, run(&p));
}
