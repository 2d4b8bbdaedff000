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
 * of them it played neutral, the real inputs before that, and the set of
 * survivors it counts. Once the notes of every survivor it counts are in,
 * each naming the same set, all take the highest frame: real inputs come
 * from the notes, neutral ones need no data. Every survivor of the set
 * computes the same frame from the same notes, so all of them play on
 * from, or send the state of, the same frame.
 *
 * The set: every live peer with players but the lost one, except peers
 * lost here too, or rejoining (a new process that has not played yet: it
 * holds nothing of the lost peer's): two peers may be lost at once. Leaving one
 * out is a promise: it comes back only as a rejoin (its RESUME is answered
 * PLAYED_ON), since what it held is not in the agreement. So that two
 * sides of a partition never both agree, a set agrees only when it holds
 * more than half of the session's processes, or exactly half with the
 * lowest player still in the session (with two processes left, the one
 * with the lowest player decides). A note goes out only once no peer of
 * its set is silent (INTERRUPTED) and its set is such a majority: a peer
 * cut off from everybody waits instead of promising anything, and no note
 * lies in wait for the day its set becomes a majority (a departure) while
 * the peer it is about plays on.
 *
 *   - absent_play NEUTRAL: a survivor sends its note (nonce 0) once the
 *     connection counts as lost, and from then on takes the peer back only
 *     as a rejoin (a RESUME is answered PLAYED_ON, whichever side dials):
 *     another survivor may already be playing on with this note, so a
 *     resume here could confirm real inputs where that one confirmed
 *     neutral ones. Once agreed, each plays the players neutral from the
 *     frame after the agreed one (and flags them). One that lost everybody
 *     else can agree with nobody: it waits, and comes back by rejoining.
 *   - a rejoin: each survivor sends its note (the new process's nonce, a
 *     new one for each process: a claim with the old nonce is refused)
 *     when it accepts the claim (p2p_rejoin.c); the state goes out once the
 *     notes agree, the lost players' inputs neutral up to the agreed frame
 *     where they were played neutral anywhere, and the absence ends at the
 *     frame after it. The rejoining process runs once every survivor has
 *     sent it the state (their READYs come with it), so it never plays a
 *     frame some survivor has not agreed to. Meanwhile a survivor that
 *     waits for notes tells the rejoining process it is there (a loading
 *     notice, every half notify_timeout_ms, at most a second apart).
 *   - a survivor of the set gone before its note came (its own window
 *     ended, it stopped): what it held can no longer be known here, and
 *     settling without it could confirm what it confirmed otherwise: the
 *     session stops, like a departure that cannot be agreed ("the mesh
 *     split").
 *
 * A note's frames are fixed once sent; it goes out again with a new set
 * when the set changes, to a survivor whose connection is regained, and to
 * one whose own note for the same process arrives (it may have dropped
 * ours: a note about a peer that still plays there is not taken, so that
 * no survivor has inputs forced on a player who is playing). */
#include <string.h>

#include "p2p_session.h"

bool rn_p2p_agreeing(const rn_p2p *p)
{
    return p->base.desc.num_players > 2 && rn_p2p_rejoins(p);
}

/* The survivors this side counts for `lost`: live peers with players, but
 * `lost` and peers lost (or rejoining) here too. */
static uint32_t survivors(const rn_p2p *p, const rn_peer *lost)
{
    uint32_t m = 0;
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if (q != lost && rn_peer_live(q) && q->player_mask != 0 && !q->lost && !q->rejoin_owed &&
            !q->rejoin_unconfirmed) {
            m |= 1u << i;
        }
    }
    return m;
}

static uint32_t players_of(const rn_p2p *p, uint32_t peers)
{
    uint32_t m = p->base.local_mask;
    for (int i = 0; i < p->num_peers; i++) {
        if (peers & (1u << i)) {
            m |= p->peers[i].player_mask;
        }
    }
    return m;
}

/* More than half of the session's processes (this one, and every peer with
 * players that has not departed), or half with the lowest player still in
 * the session. */
static bool majority(const rn_p2p *p, uint32_t need)
{
    const rollnet_session *s = &p->base;
    int total = 1, set = 1 + rn_popcount32(need);
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if (q->player_mask != 0 && (rn_peer_live(q) || q->state == RN_PEER_LEAVING)) {
            total++;
        }
    }
    if (2 * set != total) {
        return 2 * set > total;
    }
    for (int q = 0; q < s->desc.num_players; q++) {
        if (s->sync.queues[q].disconnected_from < 0) {
            return (players_of(p, need) & (1u << q)) != 0; /* the lowest player in the session */
        }
    }
    return false;
}

bool rn_p2p_plays_on_without(const rn_p2p *p, const rn_peer *peer)
{
    return peer->player_mask != 0 &&
           rn_sync_absence_start(&p->base.sync, peer->player_mask) >= 0;
}

/* This side's note about `lost` to the peers in `to`. A note made with a
 * set that can agree is a promise about every peer it leaves out (and, for
 * a loss, about `lost`): they come back only as a rejoin. */
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
    m.u.absent.survivors = lost->note.survivors;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if ((to & (1u << i)) && rn_peer_live(q) && !q->lost && q->tp >= 0) {
            rn_link_send(&p->link, q, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
        }
    }
    if (lost->note.done || !majority(p, lost->note.need)) {
        return; /* (sent or not: with nobody else in its set, it agrees alone) */
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if ((q->lost && rn_peer_live(q) && q != lost && !(lost->note.need & (1u << i))) ||
            (q == lost && lost->note.nonce == 0)) {
            q->played_on = true;
        }
    }
}

/* A peer of the set is silent, or resumed and has sent no input since (it
 * may be about to say it was played on without): its note, or its loss,
 * is to come first. */
static bool set_settled(const rn_p2p *p, uint32_t need)
{
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        if ((need & (1u << i)) &&
            (q->state == RN_PEER_INTERRUPTED || q->input_ms < q->resumed_ms)) {
            return false;
        }
    }
    return true;
}

/* This side's note about `lost` (its loss, or the rejoining process that
 * took its place): made once its set is settled, and sent again with a new
 * set when the set changes. */
static void note_now(rn_p2p *p, rn_peer *lost)
{
    rollnet_session *s = &p->base;
    uint64_t nonce = lost->rejoin_owed ? lost->nonce : 0;
    bool fresh = !lost->note.sent || lost->note.done || lost->note.nonce != nonce;
    uint32_t need = survivors(p, lost);
    if (!set_settled(p, need) || (!fresh && need == lost->note.need) ||
        (fresh && !majority(p, need))) {
        return; /* (a note whose set cannot agree now is not sent: it could later) */
    }
    if (fresh) {
        lost->note.sent = true;
        lost->note.done = false;
        lost->note.nonce = nonce;
        lost->note.last = rn_p2p_peer_confirmed(p, lost);
        lost->note.neutral_from = rn_sync_absence_start(&s->sync, lost->player_mask);
        lost->note.needed = 0;
        rn_logf(&s->events, ROLLNET_LOG_INFO,
                "player %d %s: told the other survivors its frames here (confirmed to %d)",
                rn_peer_event_player(lost), nonce ? "rejoins" : "is lost", lost->note.last);
    }
    lost->note.need = need;
    lost->note.needed |= need;
    lost->note.survivors = players_of(p, need);
    send_note(p, lost, need);
}

void rn_p2p_absent_note(rn_p2p *p, rn_peer *lost)
{
    note_now(p, lost);
}

void rn_p2p_absent_resend(rn_p2p *p, rn_peer *to)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *lost = &p->peers[i];
        if (lost != to && lost->note.sent && rn_peer_live(lost)) {
            send_note(p, lost, 1u << to->index);
        }
    }
}

/* The peer a note is about, or NULL. */
static rn_peer *subject(rn_p2p *p, const rn_peer *from, uint32_t mask)
{
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (q != from && q->player_mask == mask && (rn_peer_live(q) || rn_peer_departed(q))) {
            return q;
        }
    }
    return NULL;
}

void rn_p2p_on_absent(rn_p2p *p, rn_peer *from, const rn_absent *a)
{
    rollnet_session *s = &p->base;
    rn_peer *lost = subject(p, from, a->player_mask);
    if (!rn_p2p_agreeing(p) || !rn_peer_live(from) || from->player_mask == 0 || !lost) {
        from->st.dropped_malformed++; /* about nobody here, or from no survivor */
        return;
    }
    if (!rn_peer_live(lost)) {
        return; /* it departed meanwhile: the departure's own agreement settles it */
    }
    if (lost->state == RN_PEER_RUNNING && !lost->lost && !lost->rejoin_owed) {
        return; /* it plays here: nothing is forced on it (sent again with the sender's own) */
    }
    int32_t carried_to = a->neutral_from >= 0 ? a->neutral_from - 1 : a->last_frame;
    if (!rn_p2p_take_inputs(p, a->player_mask, carried_to, a->count, a->data, a->size)) {
        from->st.dropped_malformed++;
        return;
    }
    int k = rn_lowest_player(a->player_mask);
    bool had = from->notes[k].on && from->notes[k].nonce == a->nonce;
    from->notes[k].on = true;
    from->notes[k].nonce = a->nonce;
    from->notes[k].last = a->last_frame;
    from->notes[k].neutral_from = a->neutral_from;
    from->notes[k].survivors = a->survivors;
    s->dirty = true;
    if (!had && lost->note.sent && !lost->note.done && lost->note.nonce == a->nonce &&
        (lost->note.need & (1u << from->index))) {
        send_note(p, lost, 1u << from->index); /* it may have dropped ours */
    }
}

/* A survivor of the set is gone without its note: see the top. */
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
    uint32_t begun = rn_sync_absence_begin(&s->sync, lost->player_mask, from);
    for (int q = 0; q < s->desc.num_players; q++) {
        if (!(lost->player_mask & (1u << q))) {
            continue;
        }
        rn_input_queue *iq = &s->sync.queues[q];
        if (begun & (1u << q)) {
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
 * note is missing, names another set, or the set may not agree. */
static bool agreement(rn_p2p *p, rn_peer *lost, int32_t *last, int32_t *nf)
{
    if (!lost->note.sent || lost->note.done) {
        return false;
    }
    int k = rn_lowest_player(lost->player_mask);
    *last = lost->note.last;
    *nf = lost->note.neutral_from;
    for (int j = 0; j < p->num_peers; j++) {
        const rn_peer *q = &p->peers[j];
        bool mine = q->notes[k].on && q->notes[k].nonce == lost->note.nonce;
        if ((lost->note.needed & (1u << j)) && !mine && rn_peer_departed(q)) {
            cannot_agree(p, lost, q);
            return false;
        }
        if (!(lost->note.need & (1u << j))) {
            continue;
        }
        if (!mine || q->notes[k].survivors != lost->note.survivors) {
            return false;
        }
        if (q->notes[k].last > *last) {
            *last = q->notes[k].last;
        }
        if (q->notes[k].neutral_from >= 0 && (*nf < 0 || q->notes[k].neutral_from < *nf)) {
            *nf = q->notes[k].neutral_from;
        }
    }
    return majority(p, lost->note.need);
}

bool rn_p2p_absent_agreed(rn_p2p *p, rn_peer *lost)
{
    note_now(p, lost); /* the set may have changed */
    int32_t last, nf;
    if (!agreement(p, lost, &last, &nf)) {
        return false;
    }
    if (nf >= 0) {
        fill_neutral(p, lost, nf, last);
    }
    if (rn_p2p_peer_confirmed(p, lost) != last) {
        return false; /* the real inputs the notes carry are not all here */
    }
    /* The absence ends at the agreed frame on every survivor alike, whether
     * or not this side's state reaches the new process. */
    rn_sync_absence_end(&p->base.sync, lost->player_mask, last + 1);
    return true;
}

void rn_p2p_absent_done(rn_p2p *p, rn_peer *lost)
{
    int k = rn_lowest_player(lost->player_mask);
    lost->note.done = true;
    for (int j = 0; j < p->num_peers; j++) {
        p->peers[j].notes[k].on = false; /* used: the next round's notes are new */
    }
}

void rn_p2p_absent_timers(rn_p2p *p, rn_peer *lost)
{
    rollnet_session *s = &p->base;
    if (s->desc.absent_play != ROLLNET_ABSENT_NEUTRAL || !s->running || lost->rejoin_owed) {
        return;
    }
    note_now(p, lost);
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
