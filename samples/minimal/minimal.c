/* minimal: the smallest correct rollnet game. Two processes, one player each,
 * play a counter game over ENet with bots for FRAMES frames (one episode),
 * then export the confirmed ledger: the two exports are byte-identical.
 *   minimal (--host PORT | --join HOST:PORT) [--export PATH]
 * Exit status: 0 when every frame was confirmed and exported, 1 after a line
 * on stderr, 2 for a bad command line. docs/getting-started.md explains it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rollnet/rollnet.h"
#include "rollnet/rollnet_enet.h"
#include "rollnet/rollnet_export.h"

#define FPS 60
#define FRAME_US (1000000u / FPS)
#define FRAMES 300                    /* the last one ends the episode */
#define GAME_ID 0x6d696e696d616c00ull /* any constant; both sides must agree */
#define TIMEOUT_MS 60000u             /* the whole run, handshake included */

typedef struct app {
    int32_t frame, value[2]; /* the game: frames run, one counter per player */
    rollnet_session *s;
    rollnet_exporter *exp;
    int me;                  /* this side's player handle: 0 hosts, 1 joins */
    int32_t exported;        /* confirmed records written */
    int wait_ticks;          /* ticks to sit out after WAIT_RECOMMENDED */
    bool running, peer_left, finished;
} app;

static bool fail(const char *what, const char *why)
{
    fprintf(stderr, "minimal: %s: %s\n", what, why);
    return false;
}

/* The bot's input (0, 1, 2: count down, stay, up) depends only on the player
 * and the frame, so a frame retried later gets the same input. */
static uint8_t bot_input(int player, int32_t frame)
{
    uint64_t x = (uint64_t)(player + 1) * 0x9e3779b97f4a7c15ull + (uint64_t)frame;
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
    return (uint8_t)((x >> 33) % 3);
}

/* The snapshot, and also each frame's ledger record: [frame, value0, value1]. */
static void write_state(const app *a, rollnet_writer *w)
{
    rollnet_write_array(w, 3);
    rollnet_write_int(w, a->frame);
    rollnet_write_int(w, a->value[0]);
    rollnet_write_int(w, a->value[1]);
}

/* rollnet: carry out the request list, in order. */
static rollnet_error carry_out(app *a, const rollnet_request *reqs, int n)
{
    rollnet_error err = ROLLNET_ERR_OK;
    for (int i = 0; i < n && err == ROLLNET_ERR_OK; i++) {
        const rollnet_request *q = &reqs[i];
        if (q->type == ROLLNET_REQUEST_SAVE) {
            write_state(a, rollnet_session_save_begin(a->s, q));
            err = rollnet_session_save_end(a->s, q);
        } else if (q->type == ROLLNET_REQUEST_LOAD) {
            rollnet_reader *r = rollnet_session_load_begin(a->s, q);
            uint32_t len = 0;
            int64_t v[3] = {0, 0, 0};
            rollnet_read_array(r, &len); /* a failed read is sticky: load_end reports it */
            for (int k = 0; k < 3; k++)
                rollnet_read_int(r, &v[k]);
            if ((err = rollnet_session_load_end(a->s, q)) == ROLLNET_ERR_OK) {
                a->frame = (int32_t)v[0];
                a->value[0] = (int32_t)v[1];
                a->value[1] = (int32_t)v[2];
            }
        } else { /* ADVANCE, replays included: step, record, report the episode end */
            for (int p = 0; p < 2; p++)
                a->value[p] += q->inputs[p] - 1;
            a->frame++;
            write_state(a, rollnet_session_record_begin(a->s, q));
            err = rollnet_session_advance_end(a->s, q,
                                              a->frame == FRAMES ? ROLLNET_STEP_EPISODE_END : 0);
        }
    }
    return err;
}

/* rollnet: events and confirmed records. False when the run must end. */
static bool drain(app *a)
{
    rollnet_event ev;
    while (rollnet_session_next_event(a->s, &ev)) {
        if (ev.type == ROLLNET_EVENT_RUNNING)
            a->running = true; /* the handshake is done: frames advance from now on */
        else if (ev.type == ROLLNET_EVENT_WAIT_RECOMMENDED)
            a->wait_ticks += ev.u.wait.frames; /* we run ahead of the peer */
        else if (ev.type == ROLLNET_EVENT_REFUSED)
            return fail("handshake refused", rollnet_param_string(ev.u.refused.param));
        else if (ev.type == ROLLNET_EVENT_FINISHED)
            a->finished = true; /* every peer holds every frame: safe to leave */
        else if (ev.type == ROLLNET_EVENT_DESYNC)
            return fail("desync", "the two games' states differ");
        else if (ev.type == ROLLNET_EVENT_DISCONNECTED) {
            a->peer_left = true; /* its input is neutral from u.disconnected.frame on */
            if (ev.u.disconnected.frame < FRAMES)
                return fail("the peer is gone", a->running ? "mid-game" : "before the game began");
        }
    }
    /* Confirmed records, in frame order, each once. Frames past the last one
     * run only if the episode barrier timed out (EPISODE_TIMEOUT). */
    rollnet_record rec;
    while (rollnet_session_next_record(a->s, &rec)) {
        if (rec.frame >= FRAMES)
            continue;
        rollnet_error err = rollnet_exporter_write(a->exp, &rec);
        if (err != ROLLNET_ERR_OK)
            return fail("export", rollnet_error_string(err));
        a->exported++;
    }
    return true;
}

/* rollnet: one tick. Poll every tick, even when no frame can run. */
static bool tick(app *a, uint64_t now_ms)
{
    rollnet_error err = rollnet_session_poll(a->s, now_ms);
    if (!drain(a))
        return false;
    if (err != ROLLNET_ERR_OK)
        return fail("poll", rollnet_error_string(err));
    /* Every frame is confirmed here: finish, so that we leave only once the
     * peer holds every frame too. Frames go on being advanced (the inputs are
     * ignored) while finishing: a late input may still need a rollback. */
    if (a->exported == FRAMES && (err = rollnet_session_finish(a->s)) != ROLLNET_ERR_OK)
        return fail("finish", rollnet_error_string(err));
    if (a->wait_ticks > 0) {
        a->wait_ticks--;
        return true;
    }
    /* At the last frame the episode barrier refuses new frames, but add and
     * advance are still called: a pending rollback runs only from advance. */
    uint8_t in = bot_input(a->me, a->frame);
    const rollnet_request *reqs = NULL;
    int n = 0;
    err = rollnet_session_add_local_input(a->s, a->me, &in, sizeof in);
    if (err == ROLLNET_ERR_OK)
        err = rollnet_session_advance(a->s, &reqs, &n);
    if (err == ROLLNET_ERR_OK)
        err = carry_out(a, reqs, n);
    if (err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
        err == ROLLNET_ERR_NOT_RUNNING || err == ROLLNET_ERR_LEDGER_FULL ||
        err == ROLLNET_ERR_FINISHED)
        return drain(a); /* this frame cannot run yet: skip it */
    return err == ROLLNET_ERR_OK ? drain(a) : fail("frame", rollnet_error_string(err));
}

/* The library's warnings and errors (a bad address, a refusal) say why on stderr. */
static void on_log(rollnet_log_level level, const char *message, void *user_data)
{
    (void)user_data;
    if (level >= ROLLNET_LOG_WARN)
        fprintf(stderr, "minimal: rollnet: %s\n", message);
}

/* The ENet transport, the export and the session; false after a line on stderr. */
static bool setup(app *a, int port, const char *join, const char *path)
{
    rollnet_session_desc d = {0}; /* zero is every default */
    rollnet_enet_desc ed = {.port = (uint16_t)port, .max_peers = 1}; /* joiner: any port */
    rollnet_error err = rollnet_enet_create(&ed, NULL, &d.transport);
    if (err != ROLLNET_ERR_OK)
        return fail("cannot open the network", rollnet_error_string(err));
    if (port)
        printf("minimal: listening on UDP port %u\n", rollnet_enet_port(&d.transport));
    fflush(stdout);
    static const char *const columns[] = {"frames_run", "value0", "value1"};
    rollnet_export_desc xd = {.csv_path = path, .columns = columns, .num_columns = 3,
                              .num_players = 2, .input_size = 1};
    if ((err = rollnet_exporter_open(&xd, NULL, &a->exp)) != ROLLNET_ERR_OK) {
        rollnet_transport_destroy(&d.transport);
        return fail(path, rollnet_error_string(err));
    }
    d.num_players = 2;
    d.input_size = 1;
    d.fps = FPS;
    d.game_id = GAME_ID; /* the handshake refuses a peer that differs */
    d.players[a->me].kind = ROLLNET_PLAYER_LOCAL;
    d.players[1 - a->me].kind = ROLLNET_PLAYER_REMOTE;
    d.players[1 - a->me].address = join; /* NULL on the host: accept the joiner */
    d.logger.log = on_log;
    err = rollnet_session_create(&d, &a->s); /* owns the transport, even on failure */
    return err == ROLLNET_ERR_OK || fail("cannot create the session", rollnet_error_string(err));
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int main(int argc, char **argv)
{
    app a = {0};
    int port = argc >= 3 && !strcmp(argv[1], "--host") ? atoi(argv[2]) : 0;
    const char *join = argc >= 3 && !strcmp(argv[1], "--join") ? argv[2] : NULL;
    const char *path = argc == 5 && !strcmp(argv[3], "--export") ? argv[4] : NULL;
    if ((port > 0 && port <= 65535) == (join != NULL) || (argc != 3 && !path)) {
        fprintf(stderr, "usage: minimal (--host PORT | --join HOST:PORT) [--export PATH]\n");
        return 2;
    }
    a.me = join ? 1 : 0;
    path = path ? path : join ? "minimal-join.csv" : "minimal-host.csv";
    bool ok = setup(&a, port, join, path);

    /* Tick at FPS until the session is finished: every frame confirmed and
     * exported here and on the peer (or the peer is gone). */
    uint64_t start = now_us(), next = start;
    while (ok) {
        uint64_t now = now_us();
        if (now < next) {
            nanosleep(&(struct timespec){0, (long)(next - now) * 1000L}, NULL);
            continue;
        }
        /* Far behind (the process was stopped): restart the schedule from now. */
        next = (now > next + 4 * FRAME_US ? now : next) + FRAME_US;
        ok = tick(&a, now / 1000u);
        if (a.finished || (a.peer_left && a.exported == FRAMES))
            break;
        if (ok && now - start >= TIMEOUT_MS * 1000u)
            ok = fail("timed out", "not every frame was confirmed");
    }
    rollnet_error err = rollnet_exporter_close(a.exp);
    ok = ok && (err == ROLLNET_ERR_OK || fail(path, rollnet_error_string(err)));
    rollnet_session_stats st = {0};
    rollnet_session_stats_get(a.s, &st); /* leaves st alone when the session is NULL */
    rollnet_session_destroy(a.s);
    if (ok)
        printf("minimal: %d frames confirmed and exported to %s; %llu rollbacks\n",
               (int)a.exported, path, (unsigned long long)st.rollbacks);
    return ok ? 0 : 1;
}
