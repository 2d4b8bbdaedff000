#include <string.h>

#include "confirm.h"

static void clear_ring(rn_sum_entry *ring)
{
    for (int k = 0; k < RN_CHECKSUM_RING; k++) {
        ring[k].frame = -1;
        ring[k].unsent = false;
    }
}

void rn_confirm_init(rn_confirm *c, int interval)
{
    memset(c, 0, sizeof(*c));
    c->interval = interval;
    c->next_frame = interval > 0 ? interval : 0;
    clear_ring(c->local);
    for (int i = 0; i < RN_MAX_PEERS; i++) {
        clear_ring(c->remote[i]);
    }
}

void rn_confirm_forget_peer(rn_confirm *c, int peer_index)
{
    clear_ring(c->remote[peer_index]);
}

static int slot_of(const rn_confirm *c, int32_t frame)
{
    return (int)((frame / c->interval) % RN_CHECKSUM_RING);
}

/* Compare frame's local checksum with every live peer's, once each. */
static void compare(rn_confirm *c, const rn_peer *peers, int num_peers, int32_t frame,
                    rn_events *ev)
{
    const rn_sum_entry *l = &c->local[slot_of(c, frame)];
    if (l->frame != frame) {
        return;
    }
    for (int i = 0; i < num_peers; i++) {
        rn_sum_entry *r = &c->remote[i][slot_of(c, frame)];
        if (r->frame != frame || !rn_peer_live(&peers[i])) {
            continue; /* a peer that left plays on alone: nothing to compare */
        }
        if (r->sum != l->sum) {
            if (!c->desync_found) {
                c->desync_found = true;
                c->desync.frame = frame;
                c->desync.first_checksum = l->sum;
                c->desync.second_checksum = r->sum;
            }
            rollnet_event e = rn_event_make(ROLLNET_EVENT_DESYNC, rn_peer_event_player(&peers[i]));
            e.u.desync.frame = frame;
            e.u.desync.local_checksum = l->sum;
            e.u.desync.remote_checksum = r->sum;
            rn_events_push(ev, &e);
            rn_log(ev, ROLLNET_LOG_ERROR, "desync: checksums of a confirmed frame differ");
        }
        r->frame = -1; /* compared once */
    }
}

/* A frame played with an absent player's input neutral (absent_play
 * NEUTRAL) is this side's alone: the absent peer may have confirmed it with
 * its real input before it was lost. It is neither compared nor sent. */
static bool played_without(const rn_sync *s, int32_t frame)
{
    for (int p = 0; p < s->cfg.num_players; p++) {
        if (frame >= s->queues[p].absent_from && frame < s->queues[p].absent_to) {
            return true;
        }
    }
    return false;
}

void rn_confirm_local(rn_confirm *c, rn_sync *s, const rn_peer *peers, int num_peers,
                      rn_events *ev)
{
    if (c->interval <= 0 || rn_sync_requests_pending(s) || rn_rollback_pending(s)) {
        return;
    }
    int32_t conf = rn_confirmed_frame(s);
    /* The snapshot of frame f is final once every input before f is confirmed. */
    while (c->next_frame <= conf + 1 && c->next_frame <= s->frame) {
        int32_t f = c->next_frame;
        c->next_frame += c->interval;
        if (played_without(s, f)) {
            continue;
        }
        bool found = false;
        uint64_t sum = rn_sync_checksum(s, f, &found);
        if (!found) {
            continue;
        }
        rn_sum_entry *l = &c->local[slot_of(c, f)];
        l->frame = f;
        l->sum = sum;
        if (!l->unsent) {
            if (c->unsent == 0) {
                c->first_unsent = f;
            }
            l->unsent = true;
            c->unsent++;
        }
        compare(c, peers, num_peers, f, ev);
    }
}

bool rn_confirm_remote(rn_confirm *c, const rn_peer *peers, int num_peers, int peer_index,
                       int32_t frame, uint64_t sum, rn_events *ev)
{
    if (c->interval <= 0 || frame < 0 || frame % c->interval) {
        return false;
    }
    rn_sum_entry *r = &c->remote[peer_index][slot_of(c, frame)];
    r->frame = frame;
    r->sum = sum;
    compare(c, peers, num_peers, frame, ev);
    return true;
}

bool rn_confirm_next_unsent(rn_confirm *c, int32_t *frame, uint64_t *sum)
{
    if (c->unsent == 0) {
        return false;
    }
    /* Frames are hashed in order and sent oldest first, so the unsent ones
     * are the newest: walk from the oldest of them. A slot since reused by a
     * newer frame, or a frame that had no snapshot, is skipped. */
    for (; c->first_unsent < c->next_frame; c->first_unsent += c->interval) {
        rn_sum_entry *l = &c->local[slot_of(c, c->first_unsent)];
        if (l->unsent && l->frame == c->first_unsent) {
            l->unsent = false;
            c->unsent--;
            *frame = l->frame;
            *sum = l->sum;
            c->first_unsent += c->interval;
            return true;
        }
    }
    return false;
}
