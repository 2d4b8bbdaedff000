/* gridworld's rollnet wiring: everything that talks to the session other
 * than the frame loop's poll / input / advance. Setup (the ENet transport,
 * optionally behind the network simulator; the session desc; the exporter
 * and peer log), the log hook, the events and how each changes the run, the
 * drain of confirmed records into the export, and --stats. The parts a game
 * copies almost as they are. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "playback.h"
#include "rollnet/rollnet_enet.h"

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

/* The library's messages go to the peer log, so that stderr keeps to the one
 * line that says why a run failed. */
static void on_rollnet_log(rollnet_log_level level, const char *message, void *user_data)
{
    game *g = user_data;
    if (level < ROLLNET_LOG_INFO)
        return;
    if (!g->session && level >= ROLLNET_LOG_ERROR) {
        /* Before the session exists, its errors are why it could not be made. */
        fprintf(stderr, "gridworld: %s\n", message);
    }
    char event[160];
    snprintf(event, sizeof event, "log: %s", message);
    app_peer_log(g, event, (int64_t)level);
}

rollnet_logger net_logger(game *g)
{
    rollnet_logger l = {on_rollnet_log, g};
    return l;
}

static rollnet_error make_transport(const options *o, rollnet_transport *out)
{
    rollnet_enet_desc ed = {0};
    ed.port = (uint16_t)o->host_port; /* the joiner lets the OS pick a port */
    /* One connection per other player: a joiner dials the host and the
     * joiners below its seat, and accepts those above it (on its own port,
     * which the host saw and tells them). */
    ed.max_peers = o->players - 1;
    if (o->host_port)
        ed.max_peers += GW_SPECTATORS; /* --spectate connects to the host */
    ed.service_thread = !o->no_net_thread; /* block.h */
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
        /* The simulator owns the ENet transport from here on; on failure it
         * has destroyed it and *out is a zero transport. */
        err = rollnet_netsim_create(*out, &nd, NULL, out);
        if (err != ROLLNET_ERR_OK)
            return err;
    }
    return ROLLNET_ERR_OK;
}

/* The rules both peers must play by, as the handshake compares them: a
 * msgpack map written with a standalone writer. A peer with other rules
 * (another --max-steps, or a build with another grid) is refused, and the
 * REFUSED event names the rule. Returns the size, 0 when it cannot be written. */
static size_t write_rules(const gw_config *cfg, uint8_t *buf, size_t cap)
{
    void *storage = malloc(rollnet_writer_storage_size());
    if (!storage)
        return 0;
    rollnet_writer *w = rollnet_writer_open(storage, buf, cap);
    rollnet_write_map(w, 4);
    rollnet_write_str(w, "max_steps", strlen("max_steps"));
    rollnet_write_int(w, cfg->max_steps);
    rollnet_write_str(w, "width", strlen("width"));
    rollnet_write_int(w, GW_WIDTH);
    rollnet_write_str(w, "height", strlen("height"));
    rollnet_write_int(w, GW_HEIGHT);
    rollnet_write_str(w, "items", strlen("items"));
    rollnet_write_int(w, GW_ITEMS);
    size_t n = rollnet_writer_error(w) == ROLLNET_ERR_OK ? rollnet_writer_length(w) : 0;
    free(storage);
    return n;
}

int net_setup_session(game *g)
{
    if (g->opt.replay)
        return playback_setup_session(g);
    const options *o = &g->opt;
    rollnet_session_desc d = {0};
    d.num_players = o->players; /* the handshake compares it: --players must match */
    d.input_size = 1;
    d.input_delay = o->input_delay;
    d.fps = o->fps;
    d.game_id = GW_GAME_ID;
    d.seed = GW_SEED;
    uint8_t rules[ROLLNET_MAX_GAME_PARAMS]; /* copied by rollnet_session_create */
    d.game_params = rules;
    d.game_params_size = write_rules(&g->cfg, rules, sizeof rules);
    if (d.game_params_size == 0) {
        fprintf(stderr, "gridworld: cannot write the game parameters\n");
        return 1;
    }
    /* The defaults: the host waits for its joiner as long as it takes; the
     * joiner tries the host's address for a minute. */
    d.logger.log = on_rollnet_log;
    d.logger.user_data = g;
    d.user_data = g;
    g->remote = -1;
    if (o->synctest) {
        d.kind = ROLLNET_SESSION_SYNCTEST;
        d.check_distance = o->synctest;
        for (int p = 0; p < o->players; p++)
            g->local[p] = p;
        g->num_local = o->players;
    } else if (o->spectate) {
        /* Plays nobody: every input comes from the host, confirmed. */
        d.kind = ROLLNET_SESSION_SPECTATOR;
        d.spectate_address = o->spectate;
        for (int p = 0; p < o->players; p++)
            d.players[p].kind = ROLLNET_PLAYER_REMOTE;
        g->num_local = 0;
    } else {
        d.kind = ROLLNET_SESSION_P2P;
        d.max_spectators = GW_SPECTATORS;
        int me = o->player; /* 0 on the host, the joiner's seat */
        g->remote = me == 0 ? 1 : 0;
        g->local[0] = me;
        g->num_local = 1;
        for (int p = 0; p < o->players; p++)
            d.players[p].kind = p == me ? ROLLNET_PLAYER_LOCAL : ROLLNET_PLAYER_REMOTE;
        /* A joiner knows only the host's address. Every other player is
         * NULL: on the host, each joiner connects to it; on a joiner, the
         * host introduces the other joiners (the higher seat dials). */
        if (me != 0)
            d.players[0].address = o->join;
        d.rejoin = o->rejoin; /* block.h */
        d.absent_play = o->play_on ? ROLLNET_ABSENT_NEUTRAL : ROLLNET_ABSENT_PAUSE;
    }
    if (!o->synctest) {
        if (o->key) {
            d.session_key = o->key; /* read at creation: the session keeps only the key */
            d.session_key_size = strlen(o->key);
        }
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
    return playback_open_recorder(g);
}

int net_setup_export(game *g)
{
    const char *path = g->opt.export_path;
    if (!path)
        return 0;
    rollnet_export_desc ed = {0};
    ed.csv_path = path;
    static const char *columns[GW_MAX_COLUMNS];
    ed.num_columns = gw_columns(g->opt.players, columns);
    ed.columns = columns;
    ed.num_players = g->opt.players;
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

/* ------------------------------------------------------------------------ */
/* rollnet: records                                                          */
/* ------------------------------------------------------------------------ */

/* Confirmed records come out in frame order, each once. Drain them every
 * tick: the ledger holds ledger_capacity of them at most. */
void net_drain_records(game *g)
{
    rollnet_record rec;
    while (rollnet_session_next_record(g->session, &rec)) {
        if (g->records_exported == 0)
            g->first_exported = rec.frame;
        if (g->exporter) {
            rollnet_error err = rollnet_exporter_write(g->exporter, &rec);
            if (err != ROLLNET_ERR_OK) {
                app_fail(g, "export of frame %" PRId32 " failed: %s", rec.frame,
                         rollnet_error_string(err));
                return;
            }
        }
        playback_record(g, &rec);
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
    case ROLLNET_DISCONNECT_LEFT: return "left the session";
    case ROLLNET_DISCONNECT_NO_ANSWER: return "did not answer at its address within a minute";
    case ROLLNET_DISCONNECT_BUSY_TIMEOUT: return "stayed busy past the busy timeout";
    case ROLLNET_DISCONNECT_CONNECTION_LOST:
        return "lost the connection and did not regain it in time";
    case ROLLNET_DISCONNECT_STATE_INVALID: return "sent a state that was refused";
    case ROLLNET_DISCONNECT_PLAYED_ON:
        return "played on without this side (--play-on): start again with --rejoin";
    }
    return "unknown reason";
}

/* A refused rule is named by its key (write_rules): max_steps is
 * --max-steps, the others come with the build. */
static void on_refused(game *g, const rollnet_event *ev)
{
    app_peer_log(g, "refused", (int64_t)ev->u.refused.param);
    if (ev->u.refused.param == ROLLNET_PARAM_GAME_PARAMS) {
        const char *key = ev->u.refused.key;
        if (!strcmp(key, "max_steps")) {
            app_fail(g, "handshake refused: the peer plays another max_steps (--max-steps %d "
                        "here)",
                     g->opt.max_steps);
        } else {
            app_fail(g, "handshake refused: the game parameter %s %s", key,
                     !ev->u.refused.remote_value ? "is missing on the peer"
                     : !ev->u.refused.local_value ? "is missing here"
                                                  : "differs (another gridworld build?)");
        }
        return;
    }
    if (ev->u.refused.param == ROLLNET_PARAM_SESSION_FULL) {
        /* The peer's value: the seats it still has free. */
        char free_seats[32] = "";
        size_t n = 0;
        for (int p = 0; p < GW_MAX_PLAYERS && n + 4 < sizeof free_seats; p++) {
            if ((uint64_t)ev->u.refused.remote_value & (1ull << p))
                n += (size_t)snprintf(free_seats + n, sizeof free_seats - n, " %d", p);
        }
        app_fail(g, "handshake refused: session full: seat %d is taken (%s%s)", g->opt.player,
                 n ? "free seats:" : "no seat is free", free_seats);
        return;
    }
    if (ev->u.refused.param == ROLLNET_PARAM_NUM_PLAYERS) {
        app_fail(g, "handshake refused: the peer plays --players %" PRId64 " (here %d)",
                 ev->u.refused.remote_value, g->opt.players);
        return;
    }
    if (ev->u.refused.param == ROLLNET_PARAM_SESSION_KEY) {
        app_fail(g, "handshake refused: %s", g->opt.key ? "the peer does not know this --key"
                                                         : "the peer wants a --key");
        return;
    }
    app_fail(g, "handshake refused: %s differs (here %" PRId64 ", peer %" PRId64 ")",
             rollnet_param_string(ev->u.refused.param), ev->u.refused.local_value,
             ev->u.refused.remote_value);
}

static void on_episode_complete(game *g, const rollnet_event *ev)
{
    app_peer_log(g, "episode_complete", ev->u.episode.episode);
    /* Per-peer facts for the analysis: how much this side rolled back. */
    rollnet_session_stats st;
    if (rollnet_session_stats_get(g->session, &st) == ROLLNET_ERR_OK) {
        app_peer_log(g, "rollbacks", (int64_t)st.rollbacks);
        app_peer_log(g, "frames_resimulated", (int64_t)st.frames_resimulated);
    }
    if (ev->u.episode.episode >= g->opt.episodes - 1 && !g->complete) {
        g->complete = true;
        g->complete_ms = app_now_ms();
    } else if (ev->u.episode.episode == 0 && g->opt.loading_pause > 0) {
        g->loading_due = true;
    }
}

void net_handle_events(game *g)
{
    rollnet_event ev;
    while (rollnet_session_next_event(g->session, &ev)) {
        switch (ev.type) {
        case ROLLNET_EVENT_SYNCHRONIZING:
        case ROLLNET_EVENT_SYNCHRONIZED:
            break;
        case ROLLNET_EVENT_RUNNING:
            g->running = true;
            app_peer_log(g, "running", 0);
            printf("gridworld: running\n"); /* scripts wait for this line */
            fflush(stdout);
            break;
        case ROLLNET_EVENT_INTERRUPTED:
            app_peer_log(g, "interrupted", ev.player);
            break;
        case ROLLNET_EVENT_RESUMED:
            app_peer_log(g, "resumed", ev.player);
            break;
        case ROLLNET_EVENT_DISCONNECTED:
            app_peer_log(g, "disconnected", (int64_t)ev.u.disconnected.reason);
            g->peer_gone = true;
            if (!g->complete)
                app_fail(g, "peer (player %d) %s", ev.player,
                         disconnect_reason(ev.u.disconnected.reason));
            break;
        case ROLLNET_EVENT_REFUSED:
            on_refused(g, &ev);
            break;
        case ROLLNET_EVENT_DESYNC:
            app_peer_log(g, "desync", ev.u.desync.frame);
            app_fail(g, "desync at frame %" PRId32 " (checksum here %016" PRIx64 ", peer %016" PRIx64
                        ")",
                     ev.u.desync.frame, ev.u.desync.local_checksum, ev.u.desync.remote_checksum);
            break;
        case ROLLNET_EVENT_WAIT_RECOMMENDED:
            app_peer_log(g, "wait_recommended", ev.u.wait.frames);
            rollnet_sdl_pacer_add_wait_frames(&g->pacer, ev.u.wait.frames);
            break;
        case ROLLNET_EVENT_STALLED:
            app_peer_log(g, "stalled", ev.u.stall.frame);
            break;
        case ROLLNET_EVENT_STALL_ENDED:
            app_peer_log(g, "stall_ended", ev.u.stall.frame);
            break;
        case ROLLNET_EVENT_LOADING:
            app_peer_log(g, "peer_loading", ev.player);
            break;
        case ROLLNET_EVENT_LOADING_ENDED:
            app_peer_log(g, "peer_loading_ended", ev.player);
            break;
        case ROLLNET_EVENT_PEER_BUSY:
            app_peer_log(g, "peer_busy", (int64_t)ev.u.busy.ms);
            break;
        case ROLLNET_EVENT_EPISODE_COMPLETE:
            on_episode_complete(g, &ev);
            break;
        case ROLLNET_EVENT_EPISODE_MISMATCH:
            app_peer_log(g, "episode_mismatch", ev.u.episode.episode);
            app_fail(g, "the peer's game ends episodes at other frames (episode %" PRId32
                        " here, the last ended at frame %" PRId32 "): check --max-steps",
                     ev.u.episode.episode, ev.u.episode.end_frame);
            break;
        case ROLLNET_EVENT_FINISHING:
            /* The peer finished first: this session finishes too. */
            app_peer_log(g, "peer_finishing", ev.u.finish.end_frame);
            break;
        case ROLLNET_EVENT_LEFT: /* gridworld leaves only when it quits */
            break;
        case ROLLNET_EVENT_CONNECTING:
            app_peer_log(g, "connecting", ev.u.waiting.attempt);
            if (ev.u.waiting.attempt > 1)
                fprintf(stderr, "gridworld: no answer from the host yet (%u s): trying again\n",
                        (unsigned)(ev.u.waiting.waited_ms / 1000u));
            break;
        case ROLLNET_EVENT_RECONNECTING:
            app_peer_log(g, "reconnecting", ev.u.waiting.attempt);
            break;
        case ROLLNET_EVENT_REJOINED:
            app_peer_log(g, "rejoined", ev.u.rejoin.frame);
            if (ev.player < 0) {
                printf("gridworld: rejoined at frame %" PRId32 "\n", ev.u.rejoin.frame);
                fflush(stdout);
            }
            break;
        case ROLLNET_EVENT_WAITING:
            app_peer_log(g, "waiting", ev.player);
            fprintf(stderr, "gridworld: waiting for player %d (%u s)\n", ev.player,
                    (unsigned)(ev.u.waiting.waited_ms / 1000u));
            break;
        case ROLLNET_EVENT_FINISHED:
            app_peer_log(g, "finished", ev.u.finish.end_frame);
            g->finished = true;
            break;
        case ROLLNET_EVENT_EPISODE_TIMEOUT:
            app_peer_log(g, "episode_timeout", ev.u.episode.episode);
            /* Past the last episode the released barrier would let play
             * run into an episode nobody asked for. */
            if (ev.u.episode.episode >= g->opt.episodes - 1)
                g->final_timeout = true;
            break;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* --stats                                                                   */
/* ------------------------------------------------------------------------ */

void net_print_stats(game *g)
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
        printf("spectators_joined %" PRIu64 "\n", st.spectators_joined);
        printf("spectators_dropped %" PRIu64 "\n", st.spectators_dropped);
        printf("spectators_refused %" PRIu64 "\n", st.spectators_refused);
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
