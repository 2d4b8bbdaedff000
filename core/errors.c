#include "rollnet/rollnet.h"

const char *rollnet_error_string(rollnet_error err)
{
    switch (err) {
#define ROLLNET_X_CASE(name, text) \
    case ROLLNET_ERR_##name:       \
        return text;
        ROLLNET_ERROR_LIST(ROLLNET_X_CASE)
#undef ROLLNET_X_CASE
    default:
        return "unknown error";
    }
}

const char *rollnet_param_string(rollnet_param p)
{
    switch (p) {
    case ROLLNET_PARAM_PROTOCOL_VERSION: return "protocol_version";
    case ROLLNET_PARAM_NUM_PLAYERS: return "num_players";
    case ROLLNET_PARAM_INPUT_SIZE: return "input_size";
    case ROLLNET_PARAM_INPUT_DELAY: return "input_delay";
    case ROLLNET_PARAM_FPS: return "fps";
    case ROLLNET_PARAM_MAX_PREDICTION: return "max_prediction";
    case ROLLNET_PARAM_GAME_ID: return "game_id";
    case ROLLNET_PARAM_SEED: return "seed";
    case ROLLNET_PARAM_CHECKSUM_INTERVAL: return "checksum_interval";
    case ROLLNET_PARAM_PLAYERS: return "players";
    case ROLLNET_PARAM_EPISODE_ENDS: return "episode_ends";
    case ROLLNET_PARAM_SESSION_FULL: return "session_full";
    case ROLLNET_PARAM_GAME_PARAMS: return "game_params";
    case ROLLNET_PARAM_SESSION_KEY: return "session_key";
    case ROLLNET_PARAM_REJOIN: return "rejoin";
    case ROLLNET_PARAM_COUNT_: break;
    }
    return "unknown parameter";
}

const char *rollnet_disconnect_reason_string(rollnet_disconnect_reason r)
{
    switch (r) {
    case ROLLNET_DISCONNECT_TIMEOUT: return "silent past disconnect_timeout_ms";
    case ROLLNET_DISCONNECT_LOADING_GRACE: return "silent past loading_grace_ms while loading";
    case ROLLNET_DISCONNECT_CLOSED: return "the transport closed the connection";
    case ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT: return "the handshake did not complete in time";
    case ROLLNET_DISCONNECT_BY_PEERS: return "another peer lost it; every peer dropped it";
    case ROLLNET_DISCONNECT_LEFT: return "the peer left on purpose";
    case ROLLNET_DISCONNECT_NO_ANSWER: return "nobody answered at its address";
    case ROLLNET_DISCONNECT_BUSY_TIMEOUT: return "busy (its game did not poll) past busy_timeout_ms";
    case ROLLNET_DISCONNECT_CONNECTION_LOST:
        return "the connection was lost and not regained within reconnect_timeout_ms";
    case ROLLNET_DISCONNECT_STATE_INVALID:
        return "the state sent to this peer (a spectator's or a rejoin's) was refused";
    case ROLLNET_DISCONNECT_PLAYED_ON:
        return "the other side played on without this peer: come back with rejoin";
    }
    return "unknown reason";
}

void rollnet_transport_destroy(rollnet_transport *t)
{
    if (t && t->vtable && t->vtable->destroy) {
        t->vtable->destroy(t->self);
    }
    if (t) {
        t->vtable = NULL;
        t->self = NULL;
    }
}
