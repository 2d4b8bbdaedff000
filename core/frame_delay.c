/* A local player's input delay: where its inputs land, and how a change of
 * delay is carried by them so that every peer agrees on every frame's input
 * (rollnet_session_set_input_delay). Shared by both session kinds. */
#include <string.h>

#include "bits.h"
#include "session.h"

int32_t rn_frame_local_newest(const rollnet_session *s)
{
    int32_t newest = INT32_MAX;
    for (uint32_t m = s->local_mask; m; m &= m - 1) {
        int32_t last = s->sync.queues[rn_lowest_player(m)].last_confirmed;
        newest = last < newest ? last : newest;
    }
    return newest;
}

int32_t rn_frame_local_oldest(const rollnet_session *s)
{
    int32_t oldest = 0;
    for (uint32_t m = s->local_mask; m; m &= m - 1) {
        int32_t tail = s->sync.queues[rn_lowest_player(m)].tail;
        oldest = tail > oldest ? tail : oldest;
    }
    return oldest;
}

int rn_frame_local_delay(const rollnet_session *s)
{
    int delay = ROLLNET_MAX_INPUT_DELAY;
    for (uint32_t m = s->local_mask; m; m &= m - 1) {
        int d = s->delay[rn_lowest_player(m)];
        delay = d < delay ? d : delay;
    }
    return delay;
}

/* Can every local player's queue take its inputs of this frame (up to
 * frame + delay, or the larger delay asked for)? */
bool rn_frame_local_room(const rollnet_session *s)
{
    for (uint32_t m = s->local_mask; m; m &= m - 1) {
        int p = rn_lowest_player(m);
        int d = s->delay[p] > s->delay_target[p] ? s->delay[p] : s->delay_target[p];
        if (!rn_iq_has_room(&s->sync.queues[p], s->sync.frame + d)) {
            return false;
        }
    }
    return true;
}

rollnet_error rn_frame_set_input_delay(rollnet_session *s, int player, int frames)
{
    if (player < 0 || player >= s->desc.num_players || !(s->local_mask & (1u << player))) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "set_input_delay: player %d is not a local player of this session", player);
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    if (frames < 0 || frames > ROLLNET_MAX_INPUT_DELAY) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "set_input_delay: %d frames for player %d: must be 0..%d "
                "(ROLLNET_MAX_INPUT_DELAY)",
                frames, player, ROLLNET_MAX_INPUT_DELAY);
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    s->delay_target[player] = frames;
    return ROLLNET_ERR_OK;
}

rollnet_error rn_frame_get_input_delay(const rollnet_session *s, int player, int *current,
                                       int *requested)
{
    if (player < 0 || player >= s->desc.num_players || !(s->local_mask & (1u << player))) {
        return ROLLNET_ERR_INVALID_PLAYER;
    }
    if (current) {
        *current = s->delay[player];
    }
    if (requested) {
        *requested = s->delay_target[player];
    }
    return ROLLNET_ERR_OK;
}

/* Schedule local player p's input of this frame. Its queue holds inputs up
 * to frame + delay - 1 (last_confirmed): the frames of every input it has
 * been given, as its peers received them. A change of delay is carried by
 * where the new input lands, so every peer sees the same frames:
 *   - larger: the frames in between repeat the last scheduled input (what the
 *     player was holding), and the new input lands at frame + target at once;
 *   - smaller: one frame less per input equal to the last scheduled one (the
 *     two merge: nothing is lost), so a changing input is never dropped and a
 *     player standing still reaches the target in (delay - target) frames. */
void rn_frame_schedule_local(rollnet_session *s, int p)
{
    rn_input_queue *q = &s->sync.queues[p];
    size_t isz = (size_t)s->desc.input_size;
    int target = s->delay_target[p];
    const uint8_t *last = q->last_confirmed >= 0 ? rn_iq_peek(q, q->last_confirmed) : NULL;
    if (!last) {
        last = s->sync.neutral;
    }
    if (target < s->delay[p] && memcmp(last, s->pending[p], isz) == 0) {
        s->delay[p]--; /* merged with the input before it */
        return;
    }
    if (target > s->delay[p]) {
        uint8_t held[ROLLNET_MAX_INPUT_SIZE];
        memcpy(held, last, isz);
        for (int32_t f = q->last_confirmed + 1; f < s->sync.frame + target; f++) {
            rn_iq_add(q, f, held);
        }
        s->delay[p] = target;
    }
    rn_iq_add(q, s->sync.frame + s->delay[p], s->pending[p]);
}
