/* The ranges a wire message must respect (protocol.h), checked by the
 * encoder before it writes and by the decoder after it reads, so that no
 * side ever holds a message the other would refuse. */
#include <string.h>

#include "game_params.h"
#include "protocol.h"
#include "protocol_valid.h"

/* ------------------------------------------------------------------------ */
/* Validation shared by encode and decode                                    */
/* ------------------------------------------------------------------------ */

/* The ranges a message must respect, whichever side holds it. */
bool rn_msg_valid(const rn_msg *m)
{
    switch (m->type) {
    case RN_MSG_HELLO: {
        const rn_hello *h = &m->u.hello;
        if (h->version != RN_PROTOCOL_VERSION) {
            return true; /* only its version was read (rn_decode): it is refused for it */
        }
        return h->num_players >= 1 && h->num_players <= ROLLNET_MAX_PLAYERS &&
               h->input_size >= 1 && h->input_size <= ROLLNET_MAX_INPUT_SIZE &&
               h->input_delay >= 0 && h->input_delay <= ROLLNET_MAX_INPUT_DELAY &&
               h->fps >= 1 && h->fps <= 1000 && h->max_prediction >= 1 &&
               h->max_prediction <= 64 &&
               (h->checksum_interval == ROLLNET_CHECKSUMS_OFF ||
                (h->checksum_interval >= 1 && h->checksum_interval <= 65535)) &&
               h->player_mask < (1u << ROLLNET_MAX_PLAYERS) && /* 0: a spectator */
               rn_game_params_parse(h->game_params, h->game_params_size, NULL) == NULL;
    }
    case RN_MSG_REFUSE:
        return m->u.refuse.param < ROLLNET_PARAM_COUNT_ &&
               rn_game_params_refusal_ok(m->u.refuse.param, m->u.refuse.local_value,
                                         m->u.refuse.remote_value, m->u.refuse.key);
    case RN_MSG_INPUT: {
        const rn_input *in = &m->u.input;
        if (!rn_episode_ok(in->episode) || !rn_frame_ok(in->ack_frame) || in->count < 0 ||
            in->count > RN_MAX_INPUT_FRAMES || in->delay < 0 ||
            in->delay > ROLLNET_MAX_INPUT_DELAY) {
            return false;
        }
        if (in->count == 0) {
            return true;
        }
        return in->inputs != NULL && in->start_frame >= 0 &&
               (int64_t)in->start_frame + in->count - 1 <= RN_MAX_FRAME;
    }
    case RN_MSG_CHECKSUM: /* of a frame that has a snapshot: never negative */
        return rn_episode_ok(m->u.checksum.episode) && m->u.checksum.frame >= 0 &&
               rn_frame_ok(m->u.checksum.frame);
    case RN_MSG_LOADING:
        return rn_frame_ok(m->u.loading.frame);
    case RN_MSG_LEAVE: {
        const rn_leave *l = &m->u.leave;
        return l->player_mask != 0 && l->player_mask < (1u << ROLLNET_MAX_PLAYERS) &&
               rn_frame_ok(l->last_frame) && l->count >= 0 && l->count <= RN_MAX_INPUT_FRAMES &&
               l->count <= l->last_frame + 1 && (l->size == 0 || l->data != NULL) &&
               l->size <= RN_MAX_MESSAGE && l->neutral_from >= -1 &&
               l->neutral_from <= l->last_frame + 1 &&
               ((l->fin_stop == -1 && l->fin_end == -1) ||
                (l->fin_stop >= 0 && l->fin_end >= l->fin_stop && rn_frame_ok(l->fin_end)));
    }
    case RN_MSG_ABSENT: {
        const rn_absent *a = &m->u.absent;
        int32_t carried_to = a->neutral_from >= 0 ? a->neutral_from - 1 : a->last_frame;
        return a->player_mask != 0 && a->player_mask < (1u << ROLLNET_MAX_PLAYERS) &&
               rn_frame_ok(a->last_frame) && a->neutral_from >= -1 &&
               a->neutral_from <= a->last_frame + 1 && a->count >= 0 &&
               a->count <= RN_MAX_INPUT_FRAMES && a->count <= carried_to + 1 &&
               (a->size == 0 || a->data != NULL) && a->size <= RN_MAX_MESSAGE &&
               a->survivors < (1u << ROLLNET_MAX_PLAYERS);
    }
    case RN_MSG_FINISH:
        return m->u.finish.stop >= 0 && m->u.finish.inputs_end >= m->u.finish.stop &&
               rn_frame_ok(m->u.finish.inputs_end);
    case RN_MSG_AUTH:
        return true; /* any proof is well-formed: verifying it is the session's */
    case RN_MSG_READY:
        return true;
    case RN_MSG_INTRO: {
        const rn_intro *in = &m->u.intro;
        return in->player_mask != 0 && in->player_mask < (1u << ROLLNET_MAX_PLAYERS) &&
               in->address != NULL && in->address_len >= 1 &&
               in->address_len <= RN_INTRO_ADDRESS_MAX &&
               memchr(in->address, '\0', in->address_len) == NULL;
    }
    case RN_MSG_INTRO_ASK:
        return m->u.intro_ask.player_mask != 0 &&
               m->u.intro_ask.player_mask < (1u << ROLLNET_MAX_PLAYERS);
    case RN_MSG_RESUME: {
        const rn_resume *r = &m->u.resume;
        bool asks = r->kind == RN_RESUME_CHALLENGE || r->kind == RN_RESUME_PROOF;
        return r->kind < RN_RESUME_KINDS_ && r->player_mask != 0 &&
               r->player_mask < (1u << ROLLNET_MAX_PLAYERS) && (asks || r->challenge == 0) &&
               (!r->has_proof || r->kind == RN_RESUME_PROOF);
    }
    default: /* the state transfer and spectators' messages (protocol_spectate.c) */
        return rn_spectate_msg_valid(m);
    }
}
