/* The input exchange. Every frame, each peer gets our newest local inputs,
 * with our ack of its inputs and our frame advantage, on the unreliable
 * channel. What one message repeats is bounded: it carries the last
 * RN_INPUT_REPEAT unacknowledged frames, and every RN_INPUT_FULL_EVERY-th
 * message to a peer carries every frame it has not acknowledged (as many as
 * fit in one datagram). A lost message costs nothing while a later one
 * carries its frames again; when RN_INPUT_REPEAT messages in a row are lost,
 * the receiver holds a gap, takes only the acks and advantages of the
 * messages after it, and the next full message closes it.
 *
 * Why: unacknowledged frames span a round trip, and repeating all of them in
 * every message made the payload grow with the RTT (at 200 ms, 15 % loss and
 * 4 players, 10 KiB/s per player for 4-byte inputs). Bounded, each frame
 * rides in RN_INPUT_REPEAT consecutive messages (all lost: 0.008 % at 15 %
 * loss) and a full message follows within RN_INPUT_FULL_EVERY - 1 messages;
 * rollnet-bench's sweep.* figures show stalls, rollbacks and confirmation
 * lag unchanged. */
#include <string.h>

#include "p2p_session.h"

/* Chosen by rollnet-bench's sweep: repeating 4 frames, or a full message only
 * every 6th, raised the stalls at 15 % loss and 200 ms. */
#define RN_INPUT_REPEAT 5
#define RN_INPUT_FULL_EVERY 4

/* Copy frames start.. of the local players into block_buf, frame-major;
 * returns how many frames were there. */
static int32_t gather_local(rn_p2p *p, int32_t start, int32_t count, int block)
{
    const rollnet_session *s = &p->base;
    int isz = s->desc.input_size;
    for (int32_t i = 0; i < count; i++) {
        uint8_t *dst = p->block_buf + (size_t)i * (size_t)block;
        int k = 0;
        for (int q = 0; q < s->desc.num_players; q++) {
            if (!(s->local_mask & (1u << q))) {
                continue;
            }
            const uint8_t *in = rn_iq_peek(&s->sync.queues[q], start + i);
            if (!in) {
                return i;
            }
            if (isz == 1) {
                dst[k] = *in; /* the common case, without a call */
            } else {
                memcpy(dst + (size_t)k * (size_t)isz, in, (size_t)isz);
            }
            k++;
        }
    }
    return count;
}

void rn_p2p_send_inputs(rn_p2p *p, rn_peer *peer)
{
    rollnet_session *s = &p->base;
    if (!rn_p2p_inputs_flow(p, peer)) {
        return; /* no connection, a new one that has not resumed, or a rejoin's state first */
    }
    /* Local players may run with different delays: send the frames every
     * one of them has an input for. */
    int32_t start = peer->ack + 1;
    int32_t oldest = rn_frame_local_oldest(s);
    if (start < oldest) {
        start = oldest;
    }
    int32_t newest = rn_frame_local_newest(s);
    if (peer->input_sends++ % RN_INPUT_FULL_EVERY != 0 && newest - start + 1 > RN_INPUT_REPEAT) {
        start = newest - RN_INPUT_REPEAT + 1;
    }
    int32_t count = newest - start + 1;
    if (count < 0) {
        count = 0;
    }
    if (count > RN_MAX_INPUT_FRAMES) {
        count = RN_MAX_INPUT_FRAMES;
    }
    int block = rn_popcount32(s->local_mask) * s->desc.input_size;
    count = gather_local(p, start, count, block);
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INPUT;
    rn_input *in = &m.u.input;
    in->tag = p->tag;
    in->episode = s->episodes.completed;
    in->ack_frame = rn_p2p_peer_confirmed(p, peer);
    in->start_frame = count > 0 ? start : 0;
    in->frame_advantage = rn_clamp_advantage(peer->local_advantage);
    in->delay = (int8_t)rn_frame_local_delay(s);
    in->inputs = p->block_buf;
    /* Shrink until the message fits; a few frames always do. */
    size_t n = 0;
    for (;;) {
        in->count = count;
        n = rn_link_encode(&p->link, &m, block);
        if (n > 0 || count == 0) {
            break;
        }
        count /= 2;
    }
    if (n == 0) {
        return;
    }
    rn_link_send_encoded(&p->link, peer, ROLLNET_CHANNEL_UNRELIABLE, n, s->now);
    peer->last_input_send_ms = s->now;
}

/* Everything is checked before the queues are touched. Frames that start
 * past a gap (confirmed + 1 missing) are within range: the sender repeats
 * only its newest frames, so after a burst of losses a message can start
 * ahead of what we hold. */
static bool input_in_range(rn_p2p *p, const rn_peer *peer, const rn_input *in)
{
    const rn_sync *y = &p->base.sync;
    if (in->ack_frame > rn_frame_local_newest(&p->base)) {
        return false;
    }
    if (in->count > 0) {
        const rn_input_queue *q0 = &y->queues[rn_lowest_player(peer->player_mask)];
        if (!rn_iq_has_room(q0, in->start_frame + in->count - 1)) {
            return false;
        }
    }
    return true;
}

/* Frames past what we hold go into the players' queues; frames past a gap
 * are left for a later message that closes it. */
static void store_inputs(rn_p2p *p, const rn_peer *peer, const rn_input *in, int32_t confirmed)
{
    rollnet_session *s = &p->base;
    if (in->start_frame > confirmed + 1) {
        return;
    }
    int nplayers = rn_popcount32(peer->player_mask);
    int isz = s->desc.input_size;
    for (int32_t i = 0; i < in->count; i++) {
        int32_t f = in->start_frame + i;
        if (f <= confirmed) {
            continue;
        }
        int k = 0;
        for (int q = 0; q < s->desc.num_players; q++) {
            if (peer->player_mask & (1u << q)) {
                const uint8_t *src =
                    in->inputs + ((size_t)i * (size_t)nplayers + (size_t)k) * (size_t)isz;
                rn_iq_add(&s->sync.queues[q], f, src);
                k++;
            }
        }
    }
}

void rn_p2p_on_input(rn_p2p *p, rn_peer *peer, const rn_input *in, bool stale)
{
    rollnet_session *s = &p->base;
    peer->input_ms = s->now;
    if (stale) {
        /* From an earlier episode: the inputs are dropped (they are resent
         * until acknowledged), but the message is still a sign of life with
         * a valid ack. */
        if (in->ack_frame > peer->ack &&
            in->ack_frame <= rn_frame_local_newest(s)) {
            peer->ack = in->ack_frame;
        }
        return;
    }
    int32_t confirmed = rn_p2p_peer_confirmed(p, peer);
    if (!input_in_range(p, peer, in)) {
        peer->st.dropped_malformed++;
        return;
    }
    if (peer->loading && in->count > 0 && in->start_frame + in->count - 1 > peer->loading_frame) {
        rn_p2p_loading_ended(p, peer); /* fresh inputs: the peer is back from loading */
    }
    store_inputs(p, peer, in, confirmed);
    if (in->count > 0) {
        int32_t newest = in->start_frame + in->count - 1;
        if (newest > peer->st.last_received_frame) {
            peer->st.last_received_frame = newest;
        }
        int32_t rf = newest - in->delay + 1; /* the sender's delay, not ours */
        if (rf > peer->remote_frame) {
            peer->remote_frame = rf;
        }
    }
    if (in->ack_frame > peer->ack) {
        peer->ack = in->ack_frame;
    }
    peer->st.input_delay = in->delay;
    peer->remote_advantage = in->frame_advantage;
    peer->st.remote_frames_ahead = -in->frame_advantage;
    s->dirty = true;
}
