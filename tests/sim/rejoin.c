/* Rejoins in the campaign (two players). A RESTART fault replaces node a's
 * process, dead, stopped or running, by a new one: its session is destroyed
 * (the memnet tells the other side at once, as a lost connection), and a new
 * router, game, bot (another seed) and session with desc.rejoin and a new
 * nonce start on the same memnet node, with an allocator of their own since
 * they are created during play. Its records go to rec_old; the new process's
 * start at the frame REJOINED gives.
 *
 * What the oracles make of it:
 *  a. The records of the process that crashed (or was played on without)
 *     may differ from the survivor's only from the first frame the survivor
 *     lacked its input (the first frame flagged disconnected there, or the
 *     frame of the survivor's REJOINED) on, and only up to max_prediction +
 *     input_delay frames past it (a crashed host that had played on without
 *     the survivor: its flagged frames too, lost with it); everywhere else,
 *     and for the new process, byte for byte. Both sides' REJOINED name the
 *     same frame.
 *  b. A flagged input (rollnet_record::disconnected) is neutral, and only
 *     the accepting side of the lost player flags, in absent_play NEUTRAL.
 *     The new process's first input_delay frames are neutral; from there its
 *     own bot's inputs.
 *  c. A restarted process says REJOINED before RUNNING; a refusal
 *     (ROLLNET_PARAM_REJOIN) only when the survivor cannot take it back: not
 *     running, stopped, dead or gone, or it has dropped the player already
 *     (the window ended). A stop with ROLLNET_ERR_DISCONNECTED after
 *     DISCONNECTED PLAYED_ON is justified. The rest (it runs or says why
 *     within the handshake timeout; the survivor waits no longer than the
 *     place is kept) is the oracles' c for every node, with the kept place
 *     sim_scenario_hold_ms.
 *  d. No allocation through the new process's allocator after its creation;
 *     every one freed when it is destroyed. */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

uint32_t sim_scenario_hold_ms(const sim_scenario *sc)
{
    if (sc->rejoin_ms && sc->reconnect_ms && sc->peers == 2 && sc->rejoin_ms > sc->reconnect_ms) {
        return sc->rejoin_ms;
    }
    return sc->reconnect_ms;
}

bool sim_scenario_restarts(const sim_scenario *sc)
{
    for (int i = 0; i < sc->num_faults; i++) {
        if (sc->faults[i].kind == SIM_RESTART) {
            return true;
        }
    }
    return false;
}

static void restart_node(sim_world *w, int i)
{
    sim_node *n = &w->nodes[i];
    if (w->trace) {
        fprintf(stderr, "%6u ms node %d: restart (rejoin)\n", w->t_ms, i);
    }
    w->res->restarts++;
    rollnet_session_destroy(n->s);
    n->s = NULL;
    sim_router_free(n->router);
    n->router = NULL;
    sim_rejoin_check_freed(w, i);
    free(n->rec_old);
    n->rec_old = n->rec;
    n->rec_old_count = n->rec_count;
    n->rec = calloc((size_t)n->rec_cap, sizeof(*n->rec));
    n->rec_count = n->rec_from = 0;
    n->incarnation++;
    n->born_ms = w->t_ms;
    n->state = SIM_NODE_ACTIVE;
    n->error = ROLLNET_ERR_OK;
    n->loading = false;
    n->noread = false;
    n->gone_ms = 0;
    memset(&n->inc_count, 0, sizeof(n->inc_count));
    n->inc_alloc = sim_counting_allocator(&n->inc_count);
    for (int b = 0; b < SIM_MAX_PEERS; b++) {
        memset(&w->link_now[i][b], 0, sizeof(w->link_now[i][b])); /* a new router */
        w->partitioned[i][b] = false;
    }
    if (!n->rec || !sim_node_start(w, i, &n->inc_alloc)) {
        sim_fail(w, 'x', "node %d: could not start its process again", i);
        n->state = SIM_NODE_STOPPED;
        return;
    }
    n->inc_allocs_after_create = n->inc_count.allocs;
}

void sim_rejoin_step(sim_world *w, uint64_t now)
{
    (void)now;
    for (int k = 0; k < w->sc->num_faults; k++) {
        const sim_fault *f = &w->sc->faults[k];
        if (f->kind != SIM_RESTART || w->t_ms < f->at_ms || (w->restart_done & (1ull << k))) {
            continue;
        }
        w->restart_done |= 1ull << k;
        restart_node(w, f->a);
    }
}

/* The survivor cannot take node x back: it does not run, has stopped, is
 * gone, or has dropped x's player (its window ended). */
static bool cannot_take_back(const sim_world *w, int x)
{
    int s = 1 - x;
    const sim_node *sn = &w->nodes[s];
    return !sn->watch.running || sn->state == SIM_NODE_STOPPED || sn->state == SIM_NODE_DEAD ||
           sn->state == SIM_NODE_QUIT || (sn->watch.dropped & (1u << x)) != 0 ||
           sn->watch.played_on;
}

static void rejoined_here(sim_world *w, int x, int32_t frame)
{
    sim_node *n = &w->nodes[x];
    const sim_scenario *sc = w->sc;
    if (n->incarnation == 0 || n->watch.rejoined) {
        sim_fail(w, 'c', "node %d: REJOINED (frame %d) on a process that %s", x, frame,
                 n->incarnation == 0 ? "was never restarted" : "had rejoined already");
        return;
    }
    if (frame < 0 || frame + sc->input_delay >= n->produced_cap) {
        sim_fail(w, 'x', "node %d: REJOINED names frame %d", x, frame);
        return;
    }
    if (w->sabotage == 'r') {
        frame++; /* self-test: the restarted process takes the wrong frame for its start */
    }
    int32_t sent = w->nodes[1 - x].watch.rejoin_cut[x];
    if (sent != frame) {
        sim_fail(w, 'a', "node %d rejoined at frame %d, but its peer's REJOINED says %d", x,
                 frame, sent);
    }
    n->watch.rejoined = true;
    n->rec_from = n->rec_count = frame;
    /* Its own first input_delay frames are neutral, as at a start; the
     * game's next input is frame's (an input drawn while it waited too). */
    for (int32_t f = frame; f < frame + sc->input_delay; f++) {
        memset(n->produced + (size_t)f * (size_t)sc->input_size, 0, (size_t)sc->input_size);
        n->produced_set[f] = 1;
    }
    n->hp.next_input_frame = frame;
    int32_t at = frame + sc->input_delay;
    if (n->hp.has_pending[x] && at < n->produced_cap) {
        memcpy(n->produced + (size_t)at * (size_t)sc->input_size, n->hp.pending[x],
               (size_t)sc->input_size);
        n->produced_set[at] = 1;
    }
}

void sim_rejoin_event(sim_world *w, int x, const rollnet_event *ev)
{
    sim_node *n = &w->nodes[x];
    sim_watch *wt = &n->watch;
    int p = ev->player;
    switch (ev->type) {
    case ROLLNET_EVENT_REJOINED:
        if (p < 0) {
            w->res->rejoins++;
            rejoined_here(w, x, ev->u.rejoin.frame);
        } else if (p < SIM_MAX_PEERS) {
            wt->rejoin_cut[p] = ev->u.rejoin.frame;
        }
        break;
    case ROLLNET_EVENT_RUNNING:
        if (n->incarnation > 0 && !wt->rejoined) {
            sim_fail(w, 'c', "node %d: its restarted process runs without REJOINED", x);
        }
        break;
    case ROLLNET_EVENT_REFUSED:
        w->res->rejoins_refused += n->incarnation > 0 && ev->u.refused.param == ROLLNET_PARAM_REJOIN;
        if (n->incarnation > 0 && w->sc->peers == 2 && ev->u.refused.param == ROLLNET_PARAM_REJOIN &&
            !cannot_take_back(w, x)) {
            sim_fail(w, 'c', "node %d: its rejoin was refused, though node %d runs and keeps "
                             "its place",
                     x, 1 - x);
        }
        break;
    case ROLLNET_EVENT_DISCONNECTED:
        if (p >= 0 && p < SIM_MAX_PEERS) {
            wt->dropped |= 1u << p;
        }
        w->res->rejoins_gave_up += n->incarnation > 0 && !wt->rejoined && !wt->gave_up;
        wt->gave_up = wt->gave_up || (n->incarnation > 0 && !wt->rejoined);
        if (ev->u.disconnected.reason == ROLLNET_DISCONNECT_PLAYED_ON) {
            wt->played_on = true;
            w->res->played_on++;
        }
        break;
    default:
        break;
    }
}

/* s's record srec of frame f and c's of the same frame may differ: c's is
 * from a process that crashed or was played on without (retired), or srec
 * plays c's player neutral for its absence; and only from the first frame
 * s lacked c's input on, for max_prediction + input_delay + 1 frames. */
static bool differ_ok(sim_world *w, int s, int c, const sim_record *srec, const sim_record *crec,
                      bool c_retired)
{
    const sim_watch *ws = &w->nodes[s].watch;
    int32_t f = srec->frame;
    bool flagged = (srec->disconnected & (1u << c)) != 0;
    if (c_retired && (crec->disconnected & (1u << s))) {
        return true; /* the crashed host had played on without s: its own frames, lost with it */
    }
    if (!flagged && !c_retired) {
        return false;
    }
    int32_t cut = -1;
    if (ws->absent_cut[c] >= 0 && ws->absent_cut[c] <= f) {
        cut = ws->absent_cut[c];
    }
    if (c_retired && ws->rejoin_cut[c] >= 0 && ws->rejoin_cut[c] <= f && ws->rejoin_cut[c] > cut) {
        cut = ws->rejoin_cut[c];
    }
    if (cut < 0) {
        return false;
    }
    int32_t bound = w->sc->prediction + w->sc->input_delay + 1;
    if (f >= cut + bound) {
        sim_fail(w, 'a', "node %d's record of frame %d differs from node %d's, %d frames past "
                         "frame %d, the first without its input there (at most %d may)",
                 c, f, s, f - cut, cut, bound - 1);
    }
    return true;
}

bool sim_rejoin_may_differ(sim_world *w, int x, int y, const sim_record *r, const sim_record *o,
                           bool y_old)
{
    const sim_node *nx = &w->nodes[x], *ny = &w->nodes[y];
    bool x_retired = nx->state == SIM_NODE_DEAD || nx->watch.played_on;
    bool y_retired = y_old || ny->state == SIM_NODE_DEAD || ny->watch.played_on;
    return differ_ok(w, x, y, r, o, y_retired) || differ_ok(w, y, x, o, r, x_retired);
}

void sim_rejoin_check_old(sim_world *w, int x, int y, const sim_record *r)
{
    const sim_node *ny = &w->nodes[y];
    if (!ny->rec_old || r->frame >= ny->rec_old_count) {
        return;
    }
    const sim_record *o = &ny->rec_old[r->frame];
    if (r->frame >= w->nodes[x].watch.departed[y]) {
        return; /* x dropped y before it came back: x plays it neutral from there */
    }
    if (o->frame != r->frame) {
        return; /* before that process's first frame (it had rejoined itself) */
    }
    if (o->hash != r->hash && !sim_rejoin_may_differ(w, x, y, r, o, true)) {
        sim_fail(w, 'a', "node %d's record of frame %d differs from the one node %d's crashed "
                         "process confirmed (first inputs %02x/%02x)",
                 x, r->frame, y, r->inputs[0], o->inputs[0]);
    }
}

void sim_rejoin_flagged(sim_world *w, int x, int p, const sim_record *r)
{
    const sim_scenario *sc = w->sc;
    sim_node *n = &w->nodes[x];
    static const uint8_t neutral[SIM_MAX_INPUT] = {0};
    if (!sc->absent_neutral || x < p) {
        sim_fail(w, 'b', "node %d frame %d: player %d's input is flagged disconnected, but %s", x,
                 r->frame, p,
                 !sc->absent_neutral ? "it never departed and absent_play is PAUSE"
                                     : "only the side it connects to plays on without it");
        return;
    }
    if (memcmp(r->inputs + (size_t)p * (size_t)sc->input_size, neutral,
               (size_t)sc->input_size) != 0) {
        sim_fail(w, 'b', "node %d frame %d: player %d's input is flagged disconnected but is "
                         "0x%02x, not neutral",
                 x, r->frame, p, r->inputs[p * sc->input_size]);
        return;
    }
    w->res->flagged_records++;
    int idx = (int)(r - n->rec);
    bool before = idx > n->rec_from && (n->rec[idx - 1].disconnected & (1u << p)) != 0;
    if (!before) {
        n->watch.absent_cut[p] = r->frame; /* an absence starts */
    }
}

void sim_rejoin_end_of_tick(sim_world *w)
{
    for (int i = 0; i < w->sc->peers; i++) {
        const sim_node *n = &w->nodes[i];
        if (n->incarnation > 0 && n->s && n->inc_count.allocs != n->inc_allocs_after_create) {
            sim_fail(w, 'd', "node %d's restarted process: %llu allocations during play", i,
                     (unsigned long long)(n->inc_count.allocs - n->inc_allocs_after_create));
        }
    }
}

void sim_rejoin_check_freed(sim_world *w, int i)
{
    const sim_node *n = &w->nodes[i];
    if (n->incarnation > 0 && n->inc_count.allocs != n->inc_count.frees) {
        sim_fail(w, 'd', "node %d's restarted process: %llu allocations but %llu frees after it "
                         "was destroyed",
                 i, (unsigned long long)n->inc_count.allocs,
                 (unsigned long long)n->inc_count.frees);
    }
}
