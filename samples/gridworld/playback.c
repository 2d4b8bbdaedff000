/* gridworld's replays: --replay-out records a network or sync-test game to a
 * replay file (the session's parameters, the state at frame 0, every
 * confirmed frame's inputs and record); --replay plays one back through the
 * normal frame loop, in a window or headless. The replay session hands out
 * the recorded inputs and finishes where the recording ends, so --export
 * during a playback writes the original export byte for byte. */
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "playback.h"
#include "rollnet/rollnet_replay.h"

/* Only a short stack buffer is ever needed: the game parameters are at most
 * ROLLNET_MAX_GAME_PARAMS bytes, checked by the replay reader. */
static bool rule(const rollnet_replay_info *in, const char *key, int64_t *out)
{
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return false;
    msgpack_object map;
    size_t off = 0;
    bool found = false;
    if (msgpack_unpack(in->game_params, in->game_params_size, &off, &zone, &map) ==
            MSGPACK_UNPACK_SUCCESS &&
        map.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < map.via.map.size && !found; i++) {
            const msgpack_object *k = &map.via.map.ptr[i].key;
            const msgpack_object *v = &map.via.map.ptr[i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
                !memcmp(k->via.str.ptr, key, k->via.str.size) &&
                v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT32_MAX) {
                *out = (int64_t)v->via.u64;
                found = true;
            }
        }
    }
    msgpack_zone_destroy(&zone);
    return found;
}

/* Is it a gridworld recording this build can play? NULL, or why not. */
static const char *not_ours(const rollnet_replay_info *in, int64_t *max_steps)
{
    int64_t w = 0, h = 0, items = 0;
    if (in->game_id != GW_GAME_ID)
        return "it was recorded by another game (game_id)";
    if (in->num_players < 2 || in->num_players > GW_MAX_PLAYERS || in->input_size != 1)
        return "its players or input size are not gridworld's";
    if (!rule(in, "max_steps", max_steps) || *max_steps < 1 || !rule(in, "width", &w) ||
        !rule(in, "height", &h) || !rule(in, "items", &items))
        return "its game parameters lack gridworld's rules";
    if (w != GW_WIDTH || h != GW_HEIGHT || items != GW_ITEMS)
        return "it was recorded by a gridworld build with another grid";
    return NULL;
}

int playback_setup_session(game *g)
{
    char why[256];
    rollnet_replay_desc rd = {0};
    rd.path = g->opt.replay;
    rollnet_error err = rollnet_replay_open(&rd, &g->replay, why, sizeof why);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "gridworld: cannot play %s: %s (%s)\n", g->opt.replay, why,
                rollnet_error_string(err));
        return 1;
    }
    rollnet_replay_info in;
    rollnet_replay_get_info(g->replay, &in);
    int64_t max_steps = 0;
    const char *bad = not_ours(&in, &max_steps);
    if (bad) {
        fprintf(stderr, "gridworld: cannot play %s: %s\n", g->opt.replay, bad);
        return 1;
    }
    /* The recording's rules, not the command line's. */
    g->cfg.seed = in.seed;
    g->cfg.num_players = in.num_players;
    g->opt.players = in.num_players;
    g->cfg.max_steps = (int32_t)max_steps;
    g->opt.max_steps = (int)max_steps;
    g->opt.fps = in.fps;
    g->opt.episodes = (int)((in.num_frames + max_steps - 1) / max_steps);
    g->replay_frames = in.num_frames;
    gw_reset(&g->state, &g->cfg, 0);
    g->remote = -1;
    g->num_local = 0; /* every input comes from the recording */

    rollnet_replay_session_desc sd = {0};
    sd.logger = net_logger(g);
    sd.user_data = g;
    err = rollnet_replay_session_create(g->replay, &sd, &g->session);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "gridworld: cannot play %s: %s\n", g->opt.replay,
                rollnet_error_string(err));
        return 1;
    }
    printf("gridworld: playing %s: %" PRId32 " frames%s\n", g->opt.replay, in.num_frames,
           in.complete ? "" : " (cut short: its recorder stopped there)");
    fflush(stdout);
    return 0;
}

int playback_open_recorder(game *g)
{
    if (!g->opt.replay_out)
        return 0;
    rollnet_replay_recorder_desc rd = {0};
    rd.path = g->opt.replay_out;
    rollnet_error err = rollnet_replay_recorder_open(&rd, g->session, &g->recorder);
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "gridworld: cannot record to %s: %s\n", g->opt.replay_out,
                rollnet_error_string(err));
        return 1;
    }
    return 0;
}

void playback_record(game *g, const rollnet_record *rec)
{
    if (!g->recorder)
        return;
    rollnet_error err = rollnet_replay_recorder_write(g->recorder, rec);
    if (err != ROLLNET_ERR_OK)
        app_fail(g, "recording frame %" PRId32 " to %s failed: %s", rec->frame,
                 g->opt.replay_out, rollnet_error_string(err));
}

void playback_close(game *g)
{
    rollnet_error err = rollnet_replay_recorder_close(g->recorder);
    g->recorder = NULL;
    if (err != ROLLNET_ERR_OK && g->exit_code == 0)
        app_fail(g, "closing the replay %s failed: %s", g->opt.replay_out,
                 rollnet_error_string(err));
    /* After the session: it reads the replay until it is destroyed. */
    rollnet_replay_close(g->replay);
    g->replay = NULL;
}
