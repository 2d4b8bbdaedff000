/* Rejoins in the campaign. A RESTART fault replaces node a's process, dead,
 * stopped or running, by a new one: its session is destroyed (the memnet
 * tells the other side at once, as a lost connection), and a new router,
 * game, bot (another seed) and session with desc.rejoin and a new nonce
 * start on the same memnet node, with an allocator of their own since they
 * are created during play. Its records go to rec_old; the new process's
 * start at the frame REJOINED gives. With three or more players every
 * survivor agrees on the lost peer's frames first (ABSENT notes) and sends
 * the state; in absent_play NEUTRAL every survivor plays on once the others
 * noted the loss.
 *
 * What the oracles make of it:
 *  a. The records of the process that crashed (or was played on without)
 *     may differ from a survivor's only from the first frame that survivor
 *     lacked its input (the first frame flagged disconnected there, or the
 *     frame of the survivor's REJOINED) on, and only up to max_prediction +
 *     input_delay frames past it (a crashed host that had played on without
 *     the survivor: its flagged frames too, lost with it); everywhere else,
 *     and for the new process, byte for byte; survivors among themselves
 *     byte for byte, flags included (oracles.c). Every REJOINED about one
 *     restarted process, its own and each survivor's, names the same frame.
 *  b. A flagged input (rollnet_record::disconnected) is neutral, and only
 *     in absent_play NEUTRAL: with two players only the accepting side of
 *     the lost player flags; with more, only a player the scenario cut off
 *     (dead, restarted, frozen, loading, or a partition, burst, close or
 *     rebind on one of its links) is flagged. The new process's first
 *     input_delay frames are neutral; from there its own bot's inputs.
 *  c. A restarted process says REJOINED before RUNNING, and runs only once
 *     every running survivor that keeps its place has said REJOINED for it;
 *     a refusal (ROLLNET_PARAM_REJOIN) only when the refusing survivor (any
 *     survivor, when the event names none) cannot take it back: not
 *     running, stopped, dead or gone, played on without itself, or it has
 *     dropped the player already (the window ended). A stop with
 *     ROLLNET_ERR_DISCONNECTED after DISCONNECTED PLAYED_ON is justified. The
 *     rest (it runs or says why within the handshake timeout; a survivor
 *     waits no longer than the place is kept; a mesh that split, oracles.c)
 *     is the oracles' c for every node, with the kept place
 *     sim_scenario_hold_ms.
 *  d. No allocation through the new process's allocator after its creation;
 *     every one freed when it is destroyed. */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

uint32_t sim_scenario_hold_ms(const sim_scenario *sc)
{
    if (sc->rejoin_ms && sc->reconnect_ms && sc->rejoin_ms > sc->reconnect_ms) {
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

/* Survivor s cannot take node x back: it does not run, has stopped, is
 * gone, was played on without itself, or has dropped x's player or kept
 * its place the whole window (with three or more players a departure is
 * said only once the others' notices are in). */
static bool cannot_take_back(const sim_world *w, int x, int s)
{
    const sim_node *sn = &w->nodes[s];
    const sim_watch *ws = &sn->watch;
    uint64_t now = harness_clock_now(&w->clock);
    bool window_over = (ws->reconnecting & (1u << x)) &&
                       now - ws->reconnecting_ms[x] >= sim_scenario_hold_ms(w->sc);
    return !ws->running || sn->state == SIM_NODE_STOPPED || sn->state == SIM_NODE_DEAD ||
           sn->state == SIM_NODE_QUIT || (ws->dropped & (1u << x)) != 0 || ws->played_on ||
           window_over;
}

/* A refusal of node x's rejoin by the peer of player `by` (-1: unnamed). */
static bool refusal_justified(const sim_world *w, int x, int by)
{
    if (by >= 0 && by < w->sc->peers && by != x) {
        return cannot_take_back(w, x, by);
    }
    for (int s = 0; s < w->sc->peers; s++) {
        if (s != x && cannot_take_back(w, x, s)) {
            return true;
        }
    }
    return false;
}

static bool cut_off_so_far(const sim_world *w, int p);

/* One rejoin at a time (value 3: another player is away at the refusing
 * survivor): some node other than x and the refusing one has been cut off
 * by the scenario (dead, restarted, frozen, or a fault on one of its links). */
static bool another_cut_off(const sim_world *w, int x, int by)
{
    for (int y = 0; y < w->sc->peers; y++) {
        if (y != x && y != by && cut_off_so_far(w, y)) {
            return true;
        }
    }
    return false;
}

/* A REJOINED about node x's restarted process, said by node `by` (x itself
 * or a survivor): all of them name the same frame. */
static void rejoin_named(sim_world *w, int x, int by, int32_t frame)
{
    sim_watch *wx = &w->nodes[x].watch;
    if (wx->rejoin_frame < 0) {
        wx->rejoin_frame = frame;
        wx->rejoin_frame_by = by;
    } else if (wx->rejoin_frame != frame) {
        sim_fail(w, 'a', "node %d's REJOINED for node %d's rejoin names frame %d, node %d's "
                         "frame %d",
                 by, x, frame, wx->rejoin_frame_by, wx->rejoin_frame);
    }
}

/* Node x's restarted process runs: every survivor that runs and keeps its
 * place has sent it the state, and said REJOINED of the same frame. */
static void survivors_named(sim_world *w, int x)
{
    const sim_watch *wx = &w->nodes[x].watch;
    for (int s = 0; s < w->sc->peers; s++) {
        const sim_node *sn = &w->nodes[s];
        if (s == x || sn->state == SIM_NODE_DEAD || sn->state == SIM_NODE_QUIT ||
            sn->state == SIM_NODE_STOPPED || cannot_take_back(w, x, s) ||
            sn->watch.departed[x] != INT32_MAX || (sn->watch.unagreed & (1u << x))) {
            continue;
        }
        if (sn->watch.rejoin_cut[x] != wx->rejoin_frame) {
            sim_fail(w, 'c', "node %d's restarted process runs from frame %d, but node %d, which "
                             "keeps its place, has said REJOINED for it %s",
                     x, wx->rejoin_frame, s,
                     sn->watch.rejoin_cut[x] < 0 ? "never" : "of another frame");
            return;
        }
    }
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
    rejoin_named(w, x, x, frame);
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

/* Node x is told that player p's peer played on without it. Justified only
 * when x was not playing on without p itself: two sides that each played on
 * without the other cannot both go on, and the one told to stop here was
 * (by its records) among those that agreed p away. */
static void told_played_on(sim_world *w, int x, int p)
{
    const sim_node *n = &w->nodes[x];
    if (p < 0 || p >= w->sc->peers || n->rec_count <= n->rec_from) {
        return;
    }
    const sim_record *last = &n->rec[n->rec_count - 1];
    if (last->disconnected & (1u << p)) {
        sim_fail(w, 'c', "node %d is told PLAYED_ON by player %d's peer, though it plays on "
                         "without that player itself (flagged from frame %d to %d): both sides "
                         "played on without each other and this one stops",
                 x, p, n->watch.absent_cut[p], last->frame);
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
        } else if (p < w->sc->peers) {
            wt->rejoin_cut[p] = ev->u.rejoin.frame;
            if (w->nodes[p].incarnation == 0) {
                sim_fail(w, 'c', "node %d: REJOINED for player %d, whose process was never "
                                 "restarted",
                         x, p);
            } else {
                rejoin_named(w, p, x, ev->u.rejoin.frame);
            }
        }
        break;
    case ROLLNET_EVENT_RUNNING:
        if (n->incarnation > 0 && !wt->rejoined) {
            sim_fail(w, 'c', "node %d: its restarted process runs without REJOINED", x);
        } else if (n->incarnation > 0) {
            survivors_named(w, x);
        }
        break;
    case ROLLNET_EVENT_REFUSED:
        w->res->rejoins_refused += n->incarnation > 0 && ev->u.refused.param == ROLLNET_PARAM_REJOIN &&
                                   !wt->gave_up;
        /* (counted once: not as giving up too when its DISCONNECTED follows) */
        wt->gave_up = wt->gave_up || (n->incarnation > 0 && !wt->rejoined);
        if (n->incarnation > 0 && ev->u.refused.param == ROLLNET_PARAM_REJOIN &&
            !refusal_justified(w, x, p) &&
            !(ev->u.refused.local_value == 3 && another_cut_off(w, x, p))) {
            sim_fail(w, 'c', "node %d: its rejoin was refused by node %d, though %s runs and "
                             "keeps its place",
                     x, p, p >= 0 ? "it" : "every survivor");
        } else if (n->incarnation > 0 && ev->u.refused.param != ROLLNET_PARAM_REJOIN) {
            sim_fail(w, 'c', "node %d's restarted process was refused by node %d: %s differs, "
                             "a parameter every process of the scenario shares",
                     x, p, rollnet_param_string(ev->u.refused.param));
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
            told_played_on(w, x, p);
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

/* Whether the scenario has cut node p off by now: dead, restarted, frozen,
 * loading, or a partition, burst, close or rebind on one of its links. */
static bool cut_off_so_far(const sim_world *w, int p)
{
    for (int i = 0; i < w->sc->num_faults; i++) {
        const sim_fault *f = &w->sc->faults[i];
        bool own = f->a == p, link = own || f->b == p;
        if (f->at_ms > w->t_ms) {
            continue;
        }
        switch (f->kind) {
        case SIM_DIE: case SIM_RESTART: case SIM_FREEZE: case SIM_LOADING:
            if (own) {
                return true;
            }
            break;
        case SIM_PARTITION: case SIM_BURST: case SIM_CLOSE: case SIM_REBIND:
            if (link) {
                return true;
            }
            break;
        default:
            break;
        }
    }
    return false;
}

void sim_rejoin_flagged(sim_world *w, int x, int p, const sim_record *r)
{
    const sim_scenario *sc = w->sc;
    sim_node *n = &w->nodes[x];
    static const uint8_t neutral[SIM_MAX_INPUT] = {0};
    bool pair = sc->peers == 2;
    if (!sc->absent_neutral || (pair && x < p) || (!pair && !cut_off_so_far(w, p))) {
        sim_fail(w, 'b', "node %d frame %d: player %d's input is flagged disconnected, but %s", x,
                 r->frame, p,
                 !sc->absent_neutral ? "it never departed and absent_play is PAUSE"
                 : pair              ? "only the side it connects to plays on without it"
                                     : "nothing has cut its node off");
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
    if (!before || n->watch.rejoin_cut[p] == r->frame) {
        /* an absence starts (also right where the last one ended: the
         * process that rejoined there was lost again before it played) */
        n->watch.absent_cut[p] = r->frame;
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

void sim_rejoin_tally_add(sim_rejoin_tally t[2], const sim_scenario *sc, const sim_result *r)
{
    if (!sim_scenario_restarts(sc)) {
        return;
    }
    sim_rejoin_tally *g = &t[sc->peers > 2];
    g->scenarios++;
    g->neutral += sc->absent_neutral;
    g->restarts += r->restarts;
    g->rejoins += r->rejoins;
    g->refused += r->rejoins_refused;
    g->gave_up += r->rejoins_gave_up;
    g->played_on += r->played_on;
    g->flagged += r->flagged_records;
    g->with_rejoin += r->rejoins > 0;
    g->with_refusal += r->rejoins_refused > 0;
    g->with_gave_up += r->rejoins_gave_up > 0;
    g->with_played_on += r->played_on > 0;
}

static void print_group(const char *what, const sim_rejoin_tally *g)
{
    printf("%s: %llu scenarios drew them (%llu with absent_play NEUTRAL), %llu restarts: "
           "%llu rejoined, %llu refused, %llu gave up (handshake timeout, peer gone), %llu "
           "still waiting at the end; %llu told PLAYED_ON, %llu records played on with a "
           "player away\n",
           what, (unsigned long long)g->scenarios, (unsigned long long)g->neutral,
           (unsigned long long)g->restarts, (unsigned long long)g->rejoins,
           (unsigned long long)g->refused, (unsigned long long)g->gave_up,
           (unsigned long long)(g->restarts - g->rejoins - g->refused - g->gave_up),
           (unsigned long long)g->played_on, (unsigned long long)g->flagged);
}

void sim_rejoin_tally_print(const sim_rejoin_tally t[2])
{
    sim_rejoin_tally all = t[0];
    const uint64_t *b = &t[1].scenarios;
    uint64_t *sum = &all.scenarios;
    for (size_t i = 0; i < sizeof(all) / sizeof(uint64_t); i++) {
        sum[i] += b[i];
    }
    print_group("rejoins", &all);
    for (int k = 0; k < 2; k++) {
        const sim_rejoin_tally *g = &t[k];
        printf("  %s: %llu scenarios with a restart; in %llu a process rejoined, in %llu a "
               "rejoin was refused, in %llu one gave up, in %llu a peer was told PLAYED_ON\n",
               k ? "3+ players" : "2 players", (unsigned long long)g->scenarios,
               (unsigned long long)g->with_rejoin, (unsigned long long)g->with_refusal,
               (unsigned long long)g->with_gave_up, (unsigned long long)g->with_played_on);
    }
}
