#include <stdio.h>
#include <string.h>

#include "game_params.h"
#include "peer.h"

void rn_peer_reset(rn_peer *p, int index)
{
    memset(p, 0, sizeof(*p));
    p->index = index;
    p->tp = -1;
    p->ack = -1;
    p->fin_stop = -1;
    p->fin_end = -1;
    p->st.last_received_frame = -1;
    p->resume_for = -1;
    p->rejoin_for = -1;
    rn_timesync_init(&p->ts);
}

const char *rn_peer_state_name(rn_peer_state state)
{
    switch (state) {
    case RN_PEER_EMPTY:
        return "empty";
    case RN_PEER_CONNECTING:
        return "connecting";
    case RN_PEER_HANDSHAKE:
        return "handshake";
    case RN_PEER_RUNNING:
        return "running";
    case RN_PEER_INTERRUPTED:
        return "interrupted";
    case RN_PEER_LEAVING:
        return "leaving";
    case RN_PEER_GONE:
        return "gone";
    }
    return "?";
}

void rn_peer_set_state(rn_peer *p, rn_peer_state to, const rn_events *log)
{
    rn_peer_state from = p->state;
    if (from == to) {
        return;
    }
    p->state = to;
    switch (to) {
    case RN_PEER_RUNNING:
        p->st.synchronized = true;
        p->st.interrupted = false;
        break;
    case RN_PEER_INTERRUPTED:
        p->st.interrupted = true;
        break;
    case RN_PEER_LEAVING:
    case RN_PEER_GONE:
        p->st.disconnected = true;
        break;
    default:
        break;
    }
    rn_logf(log, ROLLNET_LOG_INFO, "peer %d (player %d): %s -> %s", p->index,
            rn_peer_event_player(p), rn_peer_state_name(from), rn_peer_state_name(to));
}

int rn_peer_event_player(const rn_peer *p)
{
    return rn_lowest_player(p->player_mask);
}

bool rn_peer_heard(rn_peer *p, uint64_t now, const rn_events *log)
{
    p->last_recv_ms = now;
    if (p->state != RN_PEER_INTERRUPTED) {
        return false;
    }
    rn_peer_set_state(p, RN_PEER_RUNNING, log);
    return true;
}

void rn_peer_update_rates(rn_peer *p, uint64_t now)
{
    uint64_t span = now - p->rate_start_ms;
    if (span < 1000) {
        return;
    }
    p->st.bytes_sent_per_sec = (uint32_t)((p->st.bytes_sent - p->rate_sent_base) * 1000 / span);
    p->st.bytes_received_per_sec =
        (uint32_t)((p->st.bytes_received - p->rate_recv_base) * 1000 / span);
    p->rate_sent_base = p->st.bytes_sent;
    p->rate_recv_base = p->st.bytes_received;
    p->rate_start_ms = now;
}

/* The two maps of game parameters, compared as maps (the decoder and
 * rn_session_create checked both). */
static bool game_params_match(const rollnet_session_desc *d, const rn_hello *h, int64_t *mine,
                              int64_t *theirs, char *key)
{
    rn_gp_map here, there;
    if (rn_game_params_parse(d->game_params, d->game_params_size, &here) ||
        rn_game_params_parse(h->game_params, h->game_params_size, &there)) {
        /* Unreachable: both were checked. Refuse rather than guess. */
        snprintf(key, ROLLNET_GAME_PARAM_KEY_SIZE, "?");
        *mine = *theirs = 1;
        return false;
    }
    bool in_here = false, in_there = false;
    if (rn_game_params_equal(&here, &there, key, &in_here, &in_there)) {
        return true;
    }
    *mine = in_here;
    *theirs = in_there;
    return false;
}

bool rn_peer_hello_matches(const rollnet_session_desc *d, const rn_hello *h, rollnet_param *param,
                           int64_t *mine, int64_t *theirs, char *key)
{
    key[0] = '\0';
    /* input_delay is not compared: each peer chooses its own. */
    const struct {
        rollnet_param param;
        int64_t mine, theirs;
    } checks[] = {
        {ROLLNET_PARAM_PROTOCOL_VERSION, RN_PROTOCOL_VERSION, h->version},
        {ROLLNET_PARAM_NUM_PLAYERS, d->num_players, h->num_players},
        {ROLLNET_PARAM_INPUT_SIZE, d->input_size, h->input_size},
        {ROLLNET_PARAM_FPS, d->fps, h->fps},
        {ROLLNET_PARAM_MAX_PREDICTION, d->max_prediction, h->max_prediction},
        {ROLLNET_PARAM_GAME_ID, (int64_t)d->game_id, (int64_t)h->game_id},
        {ROLLNET_PARAM_SEED, (int64_t)d->seed, (int64_t)h->seed},
        {ROLLNET_PARAM_CHECKSUM_INTERVAL, d->checksum_interval, h->checksum_interval},
        /* Last: a peer whose parameters differ is told so, whatever its key. */
        {ROLLNET_PARAM_SESSION_KEY, d->session_key_size > 0, h->keyed},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i].mine != checks[i].theirs) {
            *param = checks[i].param;
            *mine = checks[i].mine;
            *theirs = checks[i].theirs;
            return false;
        }
    }
    if (!game_params_match(d, h, mine, theirs, key)) {
        *param = ROLLNET_PARAM_GAME_PARAMS;
        return false;
    }
    return true;
}

void rn_peer_make_hello(const rollnet_session_desc *d, uint64_t nonce, uint32_t local_mask,
                        rn_msg *out)
{
    memset(out, 0, sizeof(*out));
    out->type = RN_MSG_HELLO;
    rn_hello *h = &out->u.hello;
    h->version = RN_PROTOCOL_VERSION;
    h->nonce = nonce;
    h->num_players = d->num_players;
    h->input_size = d->input_size;
    h->input_delay = d->input_delay;
    h->fps = d->fps;
    h->max_prediction = d->max_prediction;
    h->checksum_interval = d->checksum_interval;
    h->game_id = d->game_id;
    h->seed = d->seed;
    h->player_mask = local_mask;
    h->game_params = d->game_params;
    h->game_params_size = d->game_params_size;
    h->keyed = d->session_key_size > 0;
    h->rejoin = d->rejoin && local_mask != 0;
}
