/* A lost peer in a session of three or more players that takes rejoins:
 * the survivors agree on its frames before anything goes on without it.
 *
 * Each survivor may hold a different number of the lost peer's inputs (it
 * sent them to each survivor on its own). Before a survivor plays on with
 * its players neutral (absent_play NEUTRAL) or gives the state of a frame
 * to the process that rejoins in its place, every survivor must hold the
 * same inputs of those players up to the same frame, as in a departure
 * (p2p_leave.c). So each survivor sends the others a note (ABSENT,
 * reliable): the last frame of those players it has confirmed, the first
 * of them it played neutral, and the real inputs before that. Once the
 * notes of every survivor that was there when this side sent its own are
 * in, all take the highest frame: real inputs come from the notes, neutral
 * ones need no data. Every survivor computes the same frame from the same
 * set of notes, so all of them play on from, or send the state of, the
 * same frame.
 *
 *   - absent_play NEUTRAL: a survivor sends its note (nonce 0) once the
 *     connection counts as lost, and from then on takes the peer back only
 *     as a rejoin (a RESUME is answered PLAYED_ON): another survivor may
 *     already be playing on with this note, so a resume here could confirm
 *     real inputs where that one confirmed neutral ones. Once agreed, each
 *     plays the players neutral from the frame after the agreed one (and
 *     flags them). The one that lost everybody else can agree with nobody:
 *     it waits, and comes back by rejoining.
 *   - a rejoin: each survivor sends its note (the new process's nonce) when
 *     it accepts the claim (p2p_rejoin.c); the state goes out once the
 *     notes agree, the lost players' inputs neutral up to the agreed frame
 *     where they were played neutral anywhere. The rejoining process runs
 *     once every survivor has sent it the state (their READYs come with
 *     it), so it never plays a frame some survivor has not agreed to.
 *   - a needed survivor gone before its note came (its own window ended,
 *     it stopped): what it held can no longer be known here, and settling
 *     without it could confirm what it confirmed otherwise: the session
 *     stops, like a departure that cannot be agreed ("the mesh split").
 *
 * A note is fixed once sent: it is sent again, unchanged, to a survivor
 * whose connection is regained (what went out while it was lost is lost). */
#include <string.h>

#include "p2p_session.h"

bool rn_p2p_agreeing(const rn_p2p *p)
{
    return p->base.desc.num_players > 2 && rn_p2p_rejoins(p);
}

/* The other survivors: live peers with players, but `lost`. */
static uint32_t survivors(const rn_p2p *p, const rn_peer *lost)
{
    uint32_t m = 0;
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if (q != lost && rn_peer_live(q) && q->player_mask != 0) {
            m |= 1u << i;
        }
    }
    return m;
}

/* The first frame of `lost`'s players played neutral here in an absence not
 * over yet, -1 none. */
static int32_t neutral_from(const rollnet_session *s, const rn_peer *lost)
{
    for (int q = 0; q < s->desc.num_players; q++) {
        const rn_input_queue *iq = &s->sync.queues[q];
        if ((lost->player_mask & (1u << q)) && iq->absent_to == INT32_MAX &&
            iq->absent_from != INT32_MAX) {
            return iq->absent_from;
        }
    }
    return -1;
}

static void send_note(rn_p2p *p, rn_peer *lost, uint32_t to)
{
    rollnet_session *s = &p->base;
    int32_t carried_to = lost->note.neutral_from >= 0 ? lost->note.neutral_from - 1 : lost->note.last;
    size_t packed = 0;
    int32_t count = carried_to >= 0 ? rn_p2p_pack_last(p, lost->player_mask, carried_to, &packed) : 0;
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_ABSENT;
    m.u.absent.tag = p->tag;
    m.u.absent.player_mask = lost->player_mask;
    m.u.absent.nonce = lost->note.nonce;
    m.u.absent.last_frame = lost->note.last;
    m.u.absent.neutral_from = lost->note.neutral_from;
    m.u.absent.count = count;
    m.u.absent.data = count > 0 ? p->leave_packed : NULL;
    m.u.absent.size = count > 0 ? packed : 0;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if ((to & (1u << i)) && rn_peer_live(q) && !q->lost && q->tp >= 0) {
            rn_link_send(&p->link, q, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
        }
    }
}

void rn_p2p_absent_note(rn_p2p *p, rn_peer *lost)
{
    rollnet_session *s = &p->base;
    lost->note.sent = true;
    lost->note.nonce = lost->rejoin_owed ? lost->nonce : 0;
    lost->note.last = rn_p2p_peer_confirmed(p, lost);
    lost->note.neutral_from = neutral_from(s, lost);
    lost->note.need = survivors(p, lost);
    rn_logf(&s->events, ROLLNET_LOG_INFO,
            "player %d %s: told the other survivors its frames here (confirmed to %d)",
            rn_peer_event_player(lost), lost->note.nonce ? "rejoins" : "is lost", lost->note.last);
    send_note(p, lost, lost->note.need);
}

/* A survivor's connection is regained: this side's notes go to it again. */
void rn_p2p_absent_resend(rn_p2p *p, rn_peer *to)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *lost = &p->peers[i];
        if (lost != to && lost->note.sent && rn_peer_live(lost) &&
            (lost->note.need & (1u << to->index))) {
            send_note(p, lost, 1u << to->index);
        }
    }
}

void rn_p2p_on_absent(rn_p2p *p, rn_peer *from, const rn_absent *a)
{
    rollnet_session *s = &p->base;
    rn_peer *lost = NULL;
    for (int i = 0; i < p->num_peers && !lost; i++) {
        rn_peer *q = &p->peers[i];
        if (q != from && q->player_mask == a->player_mask &&
            (rn_peer_live(q) || rn_peer_departed(q))) {
            lost = q;
        }
    }
    if (!rn_p2p_agreeing(p) || !rn_peer_live(from) || from->player_mask == 0 || !lost) {
        from->st.dropped_malformed++; /* about nobody here, or from no survivor */
        return;
    }
    if (!rn_peer_live(lost)) {
        return; /* it departed meanwhile: the departure's own agreement settles it */
    }
    int32_t carried_to = a->neutral_from >= 0 ? a->neutral_from - 1 : a->last_frame;
    if (!rn_p2p_take_inputs(p, a->player_mask, carried_to, a->count, a->data, a->size)) {
        from->st.dropped_malformed++;
        return;
    }
    int k = rn_lowest_player(a->player_mask);
    from->notes[k].on = true;
    from->notes[k].nonce = a->nonce;
    from->notes[k].last = a->last_frame;
    from->notes[k].neutral_from = a->neutral_from;
    s->dirty = true;
}

/* A needed survivor is gone without its note: see the top. */
static void cannot_agree(rn_p2p *p, rn_peer *lost, const rn_peer *gone)
{
    rollnet_session *s = &p->base;
    rn_logf(&s->events, ROLLNET_LOG_ERROR,
            "the mesh split: player %d's note about player %d cannot arrive (it is gone); the "
            "session stops",
            rn_peer_event_player(gone), rn_peer_event_player(lost));
    rollnet_event ev = rn_event_make(ROLLNET_EVENT_DISCONNECTED, rn_peer_event_player(lost));
    ev.u.disconnected.reason = ROLLNET_DISCONNECT_BY_PEERS;
    ev.u.disconnected.frame = -1;
    rn_events_push(&s->events, &ev);
    lost->note.sent = false;
    rn_frame_fail(s, ROLLNET_ERR_DISCONNECTED);
}

/* `lost`'s players neutral and confirmed up to `upto`, the frames from
 * `from` on flagged as played without them. */
static void fill_neutral(rn_p2p *p, rn_peer *lost, int32_t from, int32_t upto)
{
    rollnet_session *s = &p->base;
    for (int q = 0; q < s->desc.num_players; q++) {
        if (!(lost->player_mask & (1u << q))) {
            continue;
        }
        rn_input_queue *iq = &s->sync.queues[q];
        if (iq->absent_to != INT32_MAX || iq->absent_from == INT32_MAX) {
            rn_sync_mark_absent(&s->sync);
            iq->absent_from = from;
            iq->absent_to = INT32_MAX;
            rn_logf(&s->events, ROLLNET_LOG_WARN,
                    "player %d is away: playing on with its input neutral from frame %d", q, from);
        }
        while (iq->last_confirmed < upto && iq->last_confirmed + 1 >= from &&
               rn_iq_has_room(iq, iq->last_confirmed + 1)) {
            rn_iq_add(iq, iq->last_confirmed + 1, iq->neutral);
            s->dirty = true;
        }
    }
}

/* The agreed last frame and first neutral one (-1 none); false while a
 * note is missing. */
static bool agreement(rn_p2p *p, rn_peer *lost, int32_t *last, int32_t *nf)
{
    if (!lost->note.sent) {
        return false;
    }
    int k = rn_lowest_player(lost->player_mask);
    *last = lost->note.last;
    *nf = lost->note.neutral_from;
    for (int j = 0; j < p->num_peers; j++) {
        const rn_peer *q = &p->peers[j];
        if (!(lost->note.need & (1u << j))) {
            continue;
        }
        if (!q->notes[k].on || q->notes[k].nonce != lost->note.nonce) {
            if (!rn_peer_live(q)) {
                cannot_agree(p, lost, q);
            }
            return false;
        }
        if (q->notes[k].last > *last) {
            *last = q->notes[k].last;
        }
        if (q->notes[k].neutral_from >= 0 && (*nf < 0 || q->notes[k].neutral_from < *nf)) {
            *nf = q->notes[k].neutral_from;
        }
    }
    return true;
}

bool rn_p2p_absent_agreed(rn_p2p *p, rn_peer *lost)
{
    int32_t last, nf;
    if (!agreement(p, lost, &last, &nf)) {
        return false;
    }
    if (nf >= 0) {
        fill_neutral(p, lost, nf, last);
    }
    return rn_p2p_peer_confirmed(p, lost) == last;
}

void rn_p2p_absent_timers(rn_p2p *p, rn_peer *lost)
{
    rollnet_session *s = &p->base;
    if (s->desc.absent_play != ROLLNET_ABSENT_NEUTRAL || !s->running || lost->rejoin_owed) {
        return;
    }
    if (!lost->note.sent) {
        rn_p2p_absent_note(p, lost);
        lost->played_on = true; /* from now on it comes back only as a rejoin */
    }
    int32_t last, nf;
    if (!agreement(p, lost, &last, &nf)) {
        return;
    }
    if (nf >= 0) {
        fill_neutral(p, lost, nf, last); /* played neutral already by some survivor */
    }
    if (rn_p2p_peer_confirmed(p, lost) >= last) {
        fill_neutral(p, lost, nf >= 0 ? nf : last + 1, rn_frame_local_newest(s));
    } /* else the real inputs the notes carry are not all here (too many to carry): wait */
}
