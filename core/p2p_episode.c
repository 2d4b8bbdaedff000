/* Peers agree on where episodes end. Every INPUT names the episode its
 * sender was in; peers whose games flag episode ends at different frames
 * would otherwise wait for each other for good in silence (the older label's
 * inputs are dropped as stale), so the disagreement is detected here and the
 * session stops with ROLLNET_ERR_EPISODE_MISMATCH. */
#include <string.h>

#include "p2p_session.h"

/* Stop with EPISODE_MISMATCH; the peer is told (a REFUSE naming
 * EPISODE_ENDS), as it may have no way to tell on its own. */
void rn_p2p_episode_mismatch(rn_p2p *p, rn_peer *peer, int32_t theirs, bool tell)
{
    rollnet_session *s = &p->base;
    if (s->failed != ROLLNET_ERR_OK) {
        return;
    }
    if (tell) {
        rn_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RN_MSG_REFUSE;
        m.u.refuse.param = ROLLNET_PARAM_EPISODE_ENDS;
        m.u.refuse.local_value = s->episodes.completed;
        m.u.refuse.remote_value = theirs;
        rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    }
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "peer %d (player %d) says it is in episode %d, this peer in episode %d (the last "
            "ended at frame %d): the games end episodes at different frames",
            peer->index, rn_peer_event_player(peer), theirs, s->episodes.completed,
            s->episodes.last_end);
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_EPISODE_MISMATCH, rn_peer_event_player(peer));
    ev.u.episode.episode = s->episodes.completed;
    ev.u.episode.end_frame = s->episodes.last_end;
    rn_events_push(&s->events, &ev);
    rn_frame_fail(s, ROLLNET_ERR_EPISODE_MISMATCH);
}

/* An INPUT names the episode its sender was in when it sent it. Peers that
 * flag episode ends at different frames otherwise wait for each other for
 * good in silence (the older label's inputs are dropped as stale). */
void rn_p2p_check_episode_label(rn_p2p *p, rn_peer *peer, const rn_input *in)
{
    rollnet_session *s = &p->base;
    int32_t mine = s->episodes.completed;
    if (in->count == 0 || s->failed != ROLLNET_ERR_OK) {
        return;
    }
    int32_t newest = in->start_frame + in->count - 1;
    /* An input for frame f is added while running frame f - delay (the
     * sender's delay, which the INPUT carries), after
     * every episode end the sender had promoted, all at or before that frame.
     * If it has completed more episodes than we have, and we have promoted
     * past that frame, our game did not flag the end its game did. Exact: no
     * wait needed. */
    if (in->episode > mine) {
        if (s->ledger_used && s->ledger.next_promote - 1 >= newest - in->delay) {
            rn_p2p_episode_mismatch(p, peer, in->episode, true);
        }
        return;
    }
    /* It has completed fewer but runs frames past our end although it holds
     * our inputs up to it (its ack): it would have completed the episode at
     * its next promotion. A pending rollback can delay that by a list; for
     * episode_timeout_ms it means its game did not flag our end. */
    /* Only with one remote peer: in a mesh it may lack a third player's inputs
     * (its barrier then times out and it runs on, legitimately behind). */
    int32_t end = s->episodes.last_end;
    if (in->episode == mine || rn_p2p_player_peers(p) > 1 || newest <= end + in->delay ||
        in->ack_frame < end) {
        peer->label_lagging = false;
        return;
    }
    if (!peer->label_lagging) {
        peer->label_lagging = true;
        peer->label_lag_since = s->now;
    } else if (s->now - peer->label_lag_since >= s->desc.episode_timeout_ms) {
        rn_p2p_episode_mismatch(p, peer, in->episode, true);
    }
}

