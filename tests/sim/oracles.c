/* The oracles, checked while the scenario runs (every event, every record,
 * every tick), not only at the end. The first violation ends the run.
 *
 * a. Agreement. Any two peers x and y agree, byte for byte (frame, episode,
 *    step, every input, the game's record), on every confirmed frame f they
 *    both hold, unless one of them had dropped the other at or before f
 *    (f >= the departure frame x's DISCONNECTED event gives for y, or y's for
 *    x): after such a split each side legitimately plays the other neutral.
 *    Checked when the second of the two records is read; that is final,
 *    because a peer that confirmed f with a player's real input can only drop
 *    that player after f. Each ledger starts at frame 0 and runs in frame
 *    order, once each. A DESYNC event or error is a violation too.
 * b. Inputs. Every confirmed input of player p on node x at frame f is what
 *    p's node produced for f (the bot's input added at frame f - input_delay;
 *    neutral for f < input_delay), or, when x dropped p and f >= the
 *    departure frame of x's DISCONNECTED event, the neutral input (all zero).
 *    One departure frame per player and node. Two peers that have not dropped
 *    each other agree on which players are neutral at every frame both hold,
 *    and at the end on the departure frames both know.
 * c. No silent waits. A node that is being run (not frozen, not dead) and
 *    does not advance a new frame is waiting:
 *    c1 every refusal with PREDICTION_LIMIT, EPISODE_BARRIER or LEDGER_FULL
 *       comes with a STALLED event of that reason (raised by the refusing
 *       call or still standing: no STALL_ENDED since);
 *    c2 while it waits, no stretch without any event (WAIT_RECOMMENDED does
 *       not count) lasts longer than the longest timeout that may be running
 *       — max(disconnect_timeout_ms, episode_timeout_ms, and loading_grace_ms
 *       while a peer is loading), plus reconnect_timeout_ms while a peer's
 *       connection is being regained (the side that waits for a lost peer to
 *       reconnect says so once, with RECONNECTING, then waits the window) —
 *       plus SIM_MARGIN_MS;
 *    (c2 and c3 skip a node whose game leaves its ledger unread: that wait
 *    is the game's own, and the LEDGER_FULL stall says so.)
 *    c3 no wait lasts longer than 3 * disconnect_timeout_ms +
 *       episode_timeout_ms (+ loading_grace_ms if a peer loaded during it,
 *       + 2 * reconnect_timeout_ms with reconnection) + 2 * SIM_MARGIN_MS:
 *       every wait ends;
 *    c4 before RUNNING, the node has RUNNING or a DISCONNECTED
 *       (HANDSHAKE_TIMEOUT) event by handshake_timeout_ms + SIM_MARGIN_MS
 *       after its first poll (+ reconnect_timeout_ms once it said RECONNECTING:
 *       a peer it had accepted lost its connection before the start); and a node that can never run — DISCONNECTED
 *       for a player it connects to (a higher handle: it never reconnects),
 *       or one carrying a departure frame (the player left for good and
 *       cannot rejoin) — must return an error within SIM_MARGIN_MS instead
 *       of NOT_RUNNING forever; and so must a node that is not running while
 *       a peer it connects to, or one that completed its handshake here, is
 *       dead or has quit (ground truth), within max(handshake_timeout_ms,
 *       disconnect_timeout_ms) (+ reconnect_timeout_ms) + SIM_MARGIN_MS. (A host may keep waiting for
 *       a joiner that never completed its handshake, once it has said so.)
 *    An error from a running session other than DESYNC is a violation 'x',
 *    except the split of a mesh (3+ peers): ROLLNET_ERR_DISCONNECTED raised
 *    with a DISCONNECTED of frame -1 for a player p (its departure could not
 *    be agreed, nothing was played neutral) when the node also dropped
 *    another player y (frame -1 too, or a departure frame; with rejoins on,
 *    any other survivor: one whose ABSENT note cannot arrive says no
 *    DISCONNECTED of its own, p2p_absent.c) that really could not be heard: the scenario cut the two apart recently (a partition or
 *    burst between them, a freeze or loading of either, y dead or quit), or
 *    y had dropped this node or stopped itself.
 * d. Memory. No allocation through the allocator hook after setup (checked
 *    every tick); every allocation freed after teardown. Sanitizer reports
 *    abort the run (the sanitizer build).
 * e. Outsiders. A run with strangers and spectators and the same run without
 *    them (lockstep, same seeds) produce the same events (tick, type, player,
 *    payload) and the same records on every peer: a stranger causes no
 *    game-visible event and takes no player's slot; a spectator never makes a
 *    player wait, stall, time out or see anything else.
 * f. Spectators: their records, ends and memory (spectator.c).
 * h. Flags. Two peers' records of a frame carry the same
 *    rollnet_record::disconnected, and a frame played on with a player away
 *    (absent_play NEUTRAL, the player being reconnected) is flagged. (Found:
 *    a record's flags were fixed when its frame was first advanced, so a
 *    frame advanced on a right neutral prediction before the player was
 *    known away or departed kept 0; corpus/h-*.scn.) Rejoins (rejoin.c) are
 *    in a, b and c.
 * k. Keys, in private scenarios: no stranger gets past the HELLO, the AUTH
 *    or the RESUME proof, and the peers' refusal counters hold (keys.c). */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

#define SIM_MARGIN_MS 500u
#define NOT_DEPARTED INT32_MAX

const char *sim_event_name(int type)
{
    static const char *const names[] = {
        "SYNCHRONIZING", "SYNCHRONIZED", "RUNNING",     "INTERRUPTED",    "RESUMED",
        "DISCONNECTED",  "REFUSED",      "DESYNC",      "WAIT_RECOMMENDED", "STALLED",
        "STALL_ENDED",   "LOADING",      "LOADING_ENDED", "EPISODE_COMPLETE", "EPISODE_TIMEOUT",
        "EPISODE_MISMATCH", "FINISHING", "FINISHED", "LEFT", "CONNECTING", "WAITING",
        "PEER_BUSY", "RECONNECTING", "REJOINED",
    };
    if (type >= 0 && type < (int)(sizeof(names) / sizeof(names[0]))) {
        return names[type];
    }
    return "EVENT";
}

static uint64_t now_ms(const sim_world *w)
{
    return harness_clock_now(&w->clock);
}

static uint32_t t_of(uint64_t now)
{
    return (uint32_t)(now - SIM_START_MS);
}

void sim_watch_init(sim_watch *wt, uint64_t now)
{
    memset(wt, 0, sizeof(*wt));
    for (int p = 0; p < SIM_MAX_PEERS; p++) {
        wt->departed[p] = NOT_DEPARTED;
        wt->absent_cut[p] = -1;
        wt->rejoin_cut[p] = -1;
    }
    wt->rejoin_frame = -1;
    wt->last_event_ms = now;
    wt->started_ms = now;
    wt->wait_since_ms = now;
}

/* ---- Events ---- */

static void on_disconnected(sim_world *w, int x, const rollnet_event *ev)
{
    sim_watch *wt = &w->nodes[x].watch;
    int p = ev->player;
    if (!wt->running && ev->u.disconnected.reason == ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT) {
        wt->said_handshake = true;
    }
    /* Before RUNNING: a player it connects to failed its handshake (it never
     * reconnects), or a player left for good (it cannot rejoin). Not a
     * process that rejoins hearing of a departure the survivors settled
     * (reason BY_PEERS or LEFT, with its frame): it runs without that player. */
    bool settled_for_rejoin = w->nodes[x].incarnation > 0 && ev->u.disconnected.frame >= 0 &&
                              (ev->u.disconnected.reason == ROLLNET_DISCONNECT_BY_PEERS ||
                               ev->u.disconnected.reason == ROLLNET_DISCONNECT_LEFT);
    if (!wt->running && p >= 0 && (p > x || ev->u.disconnected.frame >= 0) &&
        !wt->handshake_failed && !settled_for_rejoin) {
        wt->handshake_failed = true;
        wt->handshake_failed_ms = now_ms(w);
    }
    if (p < 0 || p >= w->sc->peers) {
        return; /* an unclaimed connection: oracle e's business */
    }
    wt->loading_peers &= ~(1u << p);
    if (wt->running && ev->u.disconnected.frame < 0) {
        wt->unagreed |= 1u << p; /* the session stops: no frame is played neutral */
        return;
    }
    int32_t from = ev->u.disconnected.frame < 0 ? 0 : ev->u.disconnected.frame;
    if (wt->departed[p] != NOT_DEPARTED && wt->departed[p] != from) {
        sim_fail(w, 'b', "node %d: player %d departed twice, neutral from frame %d and from %d", x,
                 p, wt->departed[p], from);
    }
    wt->departed[p] = from;
}

void sim_oracle_event(sim_world *w, int x, const rollnet_event *ev)
{
    sim_watch *wt = &w->nodes[x].watch;
    if (w->sabotage == 'c' && w->t_ms >= SIM_SABOTAGE_MS &&
        ev->type == ROLLNET_EVENT_STALLED) {
        return; /* self-test: the stall events go unseen */
    }
    if (ev->type != ROLLNET_EVENT_WAIT_RECOMMENDED) {
        wt->last_event_ms = now_ms(w);
    }
    if (ev->player < -1 || ev->player >= w->sc->peers || (ev->player == x && ev->player >= 0)) {
        sim_fail(w, 'x', "node %d: %s names player %d", x, sim_event_name((int)ev->type), ev->player);
    }
    sim_rejoin_event(w, x, ev);
    switch (ev->type) {
    case ROLLNET_EVENT_RUNNING:
        wt->running = true;
        break;
    case ROLLNET_EVENT_SYNCHRONIZED:
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            wt->synchronized |= 1u << ev->player;
        }
        break;
    case ROLLNET_EVENT_STALLED:
        wt->stalled = true;
        wt->stall_reason = ev->u.stall.reason;
        break;
    case ROLLNET_EVENT_STALL_ENDED:
        wt->stalled = false;
        break;
    case ROLLNET_EVENT_LOADING:
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            wt->loading_peers |= 1u << ev->player;
            wt->loading_seen = true;
        }
        break;
    case ROLLNET_EVENT_LOADING_ENDED:
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            wt->loading_peers &= ~(1u << ev->player);
        }
        break;
    case ROLLNET_EVENT_DISCONNECTED:
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            wt->reconnecting &= ~(1u << ev->player);
        }
        on_disconnected(w, x, ev);
        break;
    case ROLLNET_EVENT_RECONNECTING:
        wt->said_reconnecting = wt->said_reconnecting || !wt->running;
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            /* The window counts from the loss (the event says how long
             * ago), not from each repeated attempt's event. */
            uint64_t since = now_ms(w) - ev->u.waiting.waited_ms;
            if (!(wt->reconnecting & (1u << ev->player)) ||
                since < wt->reconnecting_ms[ev->player]) {
                wt->reconnecting_ms[ev->player] = since;
            }
            wt->reconnecting |= 1u << ev->player;
        }
        break;
    case ROLLNET_EVENT_RESUMED:
        if (ev->player >= 0 && ev->player < SIM_MAX_PEERS) {
            wt->reconnecting &= ~(1u << ev->player);
        }
        break;
    case ROLLNET_EVENT_DESYNC:
        sim_fail(w, 'a', "node %d: DESYNC at frame %d (local %016llx, remote %016llx)", x,
                 ev->u.desync.frame, (unsigned long long)ev->u.desync.local_checksum,
                 (unsigned long long)ev->u.desync.remote_checksum);
        break;
    default:
        break;
    }
}

/* ---- Records ---- */

/* A neutral input of player p on x while x plays on without it (absent_play
 * NEUTRAL, p being reconnected; with two players x the side p connects to,
 * with more any survivor): oracle h. */
static bool unflagged_absence(const sim_world *w, int x, int p, const uint8_t *got)
{
    static const uint8_t neutral[SIM_MAX_INPUT] = {0};
    return p != x && (x > p || w->sc->peers > 2) && w->sc->absent_neutral &&
           (w->nodes[x].watch.reconnecting & (1u << p)) != 0 &&
           memcmp(got, neutral, (size_t)w->sc->input_size) == 0;
}

static void check_inputs(sim_world *w, int x, const sim_record *r)
{
    const sim_scenario *sc = w->sc;
    const sim_watch *wt = &w->nodes[x].watch;
    static const uint8_t neutral[SIM_MAX_INPUT] = {0};
    size_t isz = (size_t)sc->input_size;
    for (int p = 0; p < sc->peers; p++) {
        const uint8_t *got = r->inputs + (size_t)p * isz;
        const sim_node *src = &w->nodes[p];
        bool gone = p != x && r->frame >= wt->departed[p];
        if (p != x && !gone && (r->disconnected & (1u << p))) {
            sim_rejoin_flagged(w, x, p, r); /* played on without it */
            continue;
        }
        const uint8_t *want = gone ? neutral
                              : r->frame < src->produced_cap && src->produced_set[r->frame]
                                  ? src->produced + (size_t)r->frame * isz
                                  : NULL;
        if ((!want || memcmp(got, want, isz) != 0) && unflagged_absence(w, x, p, got)) {
            sim_fail(w, 'h', "node %d frame %d: player %d's input is neutral, played on while it "
                             "was away, but the record does not flag it",
                     x, r->frame, p);
            return;
        }
        if (!want) {
            sim_fail(w, 'b', "node %d frame %d: player %d's input 0x%02x was confirmed but node "
                             "%d never produced frame %d",
                     x, r->frame, p, got[0], p, r->frame);
            return;
        }
        if (memcmp(got, want, isz) != 0) {
            sim_fail(w, 'b', "node %d frame %d: player %d's confirmed input is 0x%02x, %s 0x%02x%s",
                     x, r->frame, p, got[0], gone ? "neutral is" : "its peer produced", want[0],
                     gone ? " (the player departed)" : "");
            return;
        }
    }
}

static void check_pair(sim_world *w, int x, int y, const sim_record *r)
{
    const sim_node *ny = &w->nodes[y];
    const sim_watch *wx = &w->nodes[x].watch, *wy = &ny->watch;
    if (ny->rec_count <= r->frame || r->frame < ny->rec_from) {
        return; /* y has not confirmed it (yet), or y's process rejoined after it */
    }
    int32_t cut = wx->departed[y] < wy->departed[x] ? wx->departed[y] : wy->departed[x];
    if (r->frame >= cut) {
        return; /* they had split */
    }
    const sim_record *o = &ny->rec[r->frame];
    for (int p = 0; p < w->sc->peers; p++) {
        bool gx = r->frame >= wx->departed[p], gy = r->frame >= wy->departed[p];
        if (p != x && p != y && gx != gy) {
            sim_fail(w, 'b', "frame %d: node %d plays player %d neutral from frame %d, node %d "
                             "from %d: no agreed departure frame",
                     r->frame, x, p, wx->departed[p] == NOT_DEPARTED ? -1 : wx->departed[p], y,
                     wy->departed[p] == NOT_DEPARTED ? -1 : wy->departed[p]);
            return;
        }
    }
    if (o->hash == r->hash && o->disconnected != r->disconnected &&
        !sim_rejoin_may_differ(w, x, y, r, o, false)) {
        sim_fail(w, 'h', "nodes %d and %d flag different players disconnected in frame %d "
                         "(0x%x/0x%x)",
                 x, y, r->frame, r->disconnected, o->disconnected);
    }
    if (o->hash != r->hash && !sim_rejoin_may_differ(w, x, y, r, o, false)) {
        sim_fail(w, 'a', "nodes %d and %d confirmed different records of frame %d (episode %d/%d, "
                         "step %d/%d, first inputs %02x/%02x)",
                 x, y, r->frame, r->episode, o->episode, r->step, o->step, r->inputs[0],
                 o->inputs[0]);
    }
}

void sim_oracle_record(sim_world *w, int x, const sim_record *r)
{
    const sim_node *n = &w->nodes[x];
    int idx = (int)(r - n->rec);
    int32_t want = idx == n->rec_from ? n->rec_from : n->rec[idx - 1].frame + 1;
    if (r->frame != want) {
        sim_fail(w, 'a', "node %d: confirmed frame %d where frame %d was due", x, r->frame, want);
        return;
    }
    check_inputs(w, x, r);
    for (int y = 0; y < w->sc->peers; y++) {
        if (y != x) {
            check_pair(w, x, y, r);
            sim_rejoin_check_old(w, x, y, r);
        }
    }
}

/* ---- Waiting ---- */

static bool is_stall(rollnet_error err)
{
    return err == ROLLNET_ERR_PREDICTION_LIMIT || err == ROLLNET_ERR_EPISODE_BARRIER ||
           err == ROLLNET_ERR_LEDGER_FULL;
}

static rollnet_stall_reason stall_reason_of(rollnet_error err)
{
    return err == ROLLNET_ERR_EPISODE_BARRIER ? ROLLNET_STALL_EPISODE_BARRIER
           : err == ROLLNET_ERR_LEDGER_FULL   ? ROLLNET_STALL_LEDGER_FULL
                                              : ROLLNET_STALL_PREDICTION_LIMIT;
}

/* Whether the scenario cut nodes x and y apart recently enough for the cut
 * to have ended y's place here now: a partition or burst between them, a
 * freeze or loading of either, a restart of y (its old process gone), all
 * active within the longest wait a lost peer can take (3 * disconnect + 2 *
 * reconnect + loading), or y dead or quit. */
static bool cut_apart(const sim_world *w, int x, int y)
{
    const sim_scenario *sc = w->sc;
    uint64_t t = now_ms(w) - SIM_START_MS;
    uint64_t horizon = 3ull * sc->disconnect_ms + 2ull * sim_scenario_hold_ms(sc) + sc->loading_ms +
                       2 * SIM_MARGIN_MS;
    for (int i = 0; i < sc->num_faults; i++) {
        const sim_fault *f = &sc->faults[i];
        bool between = (f->a == x && f->b == y) || (f->a == y && f->b == x);
        bool either = f->a == x || f->a == y;
        uint64_t end = (uint64_t)f->at_ms + f->for_ms;
        if (f->at_ms > t) {
            continue;
        }
        switch (f->kind) {
        case SIM_PARTITION:
        case SIM_BURST:
        case SIM_CLOSE:
            if (between && (f->kind == SIM_CLOSE || end + horizon >= t)) {
                return true;
            }
            break;
        case SIM_FREEZE:
        case SIM_LOADING:
            if (either && end + horizon >= t) {
                return true;
            }
            break;
        case SIM_DIE:
        case SIM_QUIT:
            if (f->a == y) {
                return true;
            }
            break;
        case SIM_RESTART:
            if (f->a == y && (uint64_t)f->at_ms + horizon >= t) {
                return true;
            }
            break;
        default:
            break;
        }
    }
    return false;
}

/* A mesh that split: node x could not agree on a departure because another
 * survivor it dropped really could not be heard. */
static bool mesh_split(const sim_world *w, int x, rollnet_error err)
{
    const sim_watch *wt = &w->nodes[x].watch;
    if (err != ROLLNET_ERR_DISCONNECTED || w->sc->peers < 3 || wt->unagreed == 0) {
        return false;
    }
    for (int y = 0; y < w->sc->peers; y++) {
        /* With rejoins on, a survivor whose ABSENT note cannot arrive is
         * gone without a DISCONNECTED of its own (p2p_absent.c). */
        bool dropped = wt->departed[y] != NOT_DEPARTED || (wt->unagreed & (1u << y)) ||
                       w->sc->rejoin_ms != 0;
        if (y == x || !dropped || (wt->unagreed & ~(1u << y)) == 0) {
            continue;
        }
        const sim_node *ny = &w->nodes[y];
        if (cut_apart(w, x, y) || ny->state == SIM_NODE_STOPPED ||
            ny->watch.departed[x] != NOT_DEPARTED) {
            return true;
        }
    }
    return false;
}

static void on_error(sim_world *w, int x, rollnet_error err)
{
    const sim_watch *wt = &w->nodes[x].watch;
    if (mesh_split(w, x, err)) {
        return; /* said with an error: a departure that could not be agreed */
    }
    if (err == ROLLNET_ERR_DISCONNECTED && wt->played_on) {
        return; /* played on without: it comes back by rejoining (rejoin.c) */
    }
    if (err == ROLLNET_ERR_DESYNC) {
        sim_fail(w, 'a', "node %d stopped with %s", x, rollnet_error_string(err));
    } else if (wt->running) {
        sim_fail(w, 'x', "node %d: the running session stopped with \"%s\"", x,
                 rollnet_error_string(err));
    }
    /* Before RUNNING an error is how a session that cannot start says so. */
}

void sim_oracle_tick_result(sim_world *w, int x, rollnet_error err, bool advanced)
{
    sim_watch *wt = &w->nodes[x].watch;
    uint64_t now = now_ms(w);
    if (advanced) {
        wt->waiting = false;
        return;
    }
    if (is_stall(err) && (!wt->stalled || wt->stall_reason != stall_reason_of(err))) {
        sim_fail(w, 'c', "node %d: refused a frame with \"%s\" and no STALLED event says so", x,
                 rollnet_error_string(err));
    }
    if (!wt->waiting) {
        wt->waiting = true;
        wt->wait_since_ms = now;
        wt->loading_seen = wt->loading_peers != 0;
    }
    if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
        on_error(w, x, err);
    }
}

void sim_oracle_resumed(sim_world *w, int x)
{
    sim_watch *wt = &w->nodes[x].watch;
    /* Its own freeze is not a wait; its timers restart from here. */
    wt->waiting = false;
    wt->last_event_ms = now_ms(w);
    if (!wt->running) {
        wt->started_ms = now_ms(w);
    }
}

/* Since when a peer this node needs and can never get again is dead or has
 * quit (0: none is): one it connects to (it never reconnects) or one whose
 * handshake completed here (its player cannot be claimed again). A peer that
 * connects to this one and never completed its handshake might still come:
 * waiting for it, after saying so, is allowed. */
static uint64_t needed_peer_gone(const sim_world *w, int x)
{
    uint64_t since = 0;
    for (int p = 0; p < w->sc->peers; p++) {
        const sim_node *n = &w->nodes[p];
        bool needed = p > x || (w->nodes[x].watch.synchronized & (1u << p));
        if (p != x && needed && (n->state == SIM_NODE_DEAD || n->state == SIM_NODE_QUIT) &&
            (since == 0 || n->gone_ms < since)) {
            since = n->gone_ms;
        }
    }
    return since;
}

static void check_handshake(sim_world *w, int x, uint64_t now)
{
    const sim_scenario *sc = w->sc;
    const sim_watch *wt = &w->nodes[x].watch;
    uint64_t gone = needed_peer_gone(w, x);
    uint64_t from = gone > wt->started_ms ? gone : wt->started_ms;
    uint32_t detect = sc->handshake_ms > sc->disconnect_ms ? sc->handshake_ms : sc->disconnect_ms;
    detect += sim_scenario_hold_ms(sc); /* a peer admitted before the start is reconnected first */
    if (gone && now - from > detect + SIM_MARGIN_MS) {
        sim_fail(w, 'c', "node %d: not running, and a peer it needs is gone since %u ms, yet "
                         "after %llu ms it returns only NOT_RUNNING",
                 x, t_of(gone), (unsigned long long)(now - from));
    } else if (!wt->said_handshake &&
               now - wt->started_ms > sc->handshake_ms + SIM_MARGIN_MS +
                                          (wt->said_reconnecting ? sim_scenario_hold_ms(sc) : 0)) {
        sim_fail(w, 'c', "node %d: not running %llu ms after its first poll and no event says why",
                 x, (unsigned long long)(now - wt->started_ms));
    } else if (wt->handshake_failed && now - wt->handshake_failed_ms > SIM_MARGIN_MS) {
        sim_fail(w, 'c', "node %d: a player it needs left before RUNNING (at %u ms), so it can "
                         "never run, yet it returns only NOT_RUNNING",
                 x, t_of(wt->handshake_failed_ms));
    }
}

static void check_wait(sim_world *w, int x, uint64_t now)
{
    const sim_scenario *sc = w->sc;
    const sim_watch *wt = &w->nodes[x].watch;
    if (!wt->running) {
        check_handshake(w, x, now);
        return;
    }
    uint32_t limit = sc->disconnect_ms > sc->episode_ms ? sc->disconnect_ms : sc->episode_ms;
    if (wt->loading_peers && sc->loading_ms > limit) {
        limit = sc->loading_ms;
    }
    if (wt->reconnecting) {
        limit += sim_scenario_hold_ms(sc); /* the place of a lost connection, said once */
    }
    uint64_t quiet_from = wt->last_event_ms > wt->wait_since_ms ? wt->last_event_ms
                                                                 : wt->wait_since_ms;
    if (now - quiet_from > limit + SIM_MARGIN_MS) {
        sim_fail(w, 'c', "node %d has waited since %u ms without a frame and without any event "
                         "since %u ms (longest timeout %u ms)",
                 x, t_of(wt->wait_since_ms), t_of(quiet_from), limit);
        return;
    }
    uint64_t bound = 3ull * sc->disconnect_ms + sc->episode_ms +
                     (wt->loading_seen ? sc->loading_ms : 0) + 2ull * sim_scenario_hold_ms(sc) +
                     2 * SIM_MARGIN_MS;
    if (now - wt->wait_since_ms > bound) {
        sim_fail(w, 'c', "node %d has not advanced a frame since %u ms (%llu ms, bound %llu ms)", x,
                 t_of(wt->wait_since_ms), (unsigned long long)(now - wt->wait_since_ms),
                 (unsigned long long)bound);
    }
}

void sim_oracle_end_of_tick(sim_world *w)
{
    uint64_t now = now_ms(w);
    if (w->alloc_count.allocs != w->allocs_after_setup) {
        sim_fail(w, 'd', "%llu allocations through the hook during play",
                 (unsigned long long)(w->alloc_count.allocs - w->allocs_after_setup));
    }
    for (int x = 0; x < w->sc->peers; x++) {
        const sim_node *n = &w->nodes[x];
        if (n->state == SIM_NODE_ACTIVE && n->watch.waiting && !n->noread) {
            check_wait(w, x, now);
        } else if (n->state == SIM_NODE_ACTIVE && !n->watch.running) {
            check_handshake(w, x, now);
        }
    }
}

/* Two peers that never dropped each other agree on every departure frame
 * both know. A peer that never ran holds no frame: what it heard of
 * departures before it could start binds nothing. */
void sim_oracle_end(sim_world *w)
{
    for (int x = 0; x < w->sc->peers; x++) {
        for (int y = x + 1; y < w->sc->peers; y++) {
            const sim_watch *wx = &w->nodes[x].watch, *wy = &w->nodes[y].watch;
            if (wx->departed[y] != NOT_DEPARTED || wy->departed[x] != NOT_DEPARTED ||
                !wx->running || !wy->running) {
                continue;
            }
            for (int p = 0; p < w->sc->peers; p++) {
                if (wx->departed[p] != NOT_DEPARTED && wy->departed[p] != NOT_DEPARTED &&
                    wx->departed[p] != wy->departed[p]) {
                    sim_fail(w, 'b', "nodes %d and %d disagree on player %d's departure frame "
                                     "(%d vs %d)",
                             x, y, p, wx->departed[p], wy->departed[p]);
                }
            }
        }
    }
}
