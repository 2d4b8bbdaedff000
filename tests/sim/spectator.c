/* Spectators in a scenario: ROLLNET_SESSION_SPECTATOR sessions that watch
 * one peer (the host), each on its own memnet node behind its own router, so
 * the links to and from its host get conditions, bursts and partitions like
 * the players' links. A spectator joins at its SPECTATE fault's time (0: from
 * frame 0; later: it loads a state the host sends), may freeze, die or quit.
 * It runs the test game with the confirmed inputs it gets, several frames per
 * tick when it is behind (a game that fast-forwards).
 *
 * Oracle f, checked every tick:
 *  f1 every record a spectator reads is the next frame after its previous
 *     one; every input in it is what that player's node produced for the
 *     frame, or neutral from the departure frame the host gave for the player;
 *     and its bytes equal the host's record of that frame (compared as soon as
 *     the host has read it);
 *  f2 a spectator that is being run and has not ended runs a frame, or says
 *     RUNNING, within disconnect_timeout_ms + SIM_SPECT_MARGIN_MS of the last
 *     one (before RUNNING: handshake_timeout_ms + 2 * disconnect_timeout_ms,
 *     its join_timeout_ms being handshake_timeout_ms): no silent hang;
 *  f3 a spectator ends only with an event that says why: an error from its
 *     session comes after DISCONNECTED (player -1) or FINISHED, and the
 *     reason is not STATE_INVALID (the host sent a state it could not use);
 *     it is never REFUSED (its parameters are the players');
 *  f4 no allocation through its allocator after its creation, every one
 *     freed after it is destroyed.
 *  g  no spectator times out while its host runs and is reachable: no
 *     outage of their link, no freeze or loading of either, during the
 *     timeout (the host's heartbeats, however long the players stall).
 * That spectators never change what the players do is oracle e: the shadow
 * run has no spectators, and every player's events and records must match
 * it tick for tick (in a campaign, for half the scenarios whose only
 * outsiders are spectators: sim_options.spectator_shadow). */
#include <stdlib.h>
#include <string.h>

#include "simint.h"

#define SIM_SPECT_MARGIN_MS 500u
#define SIM_SPECT_FRAMES_PER_TICK 8 /* a spectator behind catches up this fast */
#define SIM_SPECT_LOG_NODE 100      /* spectator k's events are digested as node 100 + k */

static uint64_t now_of(const sim_world *w)
{
    return harness_clock_now(&w->clock);
}

bool sim_spect_setup(sim_world *w)
{
    const sim_scenario *sc = w->sc;
    int base = sc->peers + sim_scenario_strangers(sc);
    for (int f = 0; f < sc->num_faults; f++) {
        const sim_fault *sf = &sc->faults[f];
        if (sf->kind != SIM_SPECTATE || !sim_is_spectator(sf->a) || sf->b < 0 ||
            sf->b >= sc->peers) {
            continue;
        }
        int k = sf->a - SIM_SPEC_NODE;
        sim_spect *sp = &w->spects[k];
        if (sp->exists) {
            continue;
        }
        sp->exists = true;
        sp->world = w;
        sp->id = sf->a;
        sp->host = sf->b;
        sp->node = base + k;
        sp->join_ms = sf->at_ms;
        sp->state = SIM_NODE_ACTIVE;
        sp->rec_cap = sc->frames * 3 + 64;
        sp->rec = calloc((size_t)sp->rec_cap, sizeof(*sp->rec));
        uint64_t seed = sc->seed * 0x9E3779B97F4A7C15ull + 0x5000u + (uint64_t)k * 64u;
        if (!sp->rec ||
            !sim_router_add_route(w->nodes[sp->host].router, sp->node, seed + 1, &w->alloc)) {
            return false;
        }
    }
    return true;
}

/* ---- Events and records ---- */

/* A host silent for the spectator's whole timeout though it was running, the
 * link between them was clear and neither froze. Before the host sent
 * heartbeats (an empty WATCH every second without one), every stall of the
 * players longer than disconnect_timeout_ms ended every spectator so
 * (corpus/g-*.scn). Counted; a failure of oracle g. */
static bool host_reachable(const sim_world *w, const sim_spect *sp)
{
    const sim_scenario *sc = w->sc;
    const sim_node *h = &w->nodes[sp->host];
    if (h->state != SIM_NODE_ACTIVE || !h->watch.running) {
        return false;
    }
    uint64_t t = w->t_ms, since = t > sc->disconnect_ms + SIM_SPECT_MARGIN_MS
                                      ? t - sc->disconnect_ms - SIM_SPECT_MARGIN_MS
                                      : 0;
    for (int i = 0; i < sc->num_faults; i++) {
        const sim_fault *f = &sc->faults[i];
        bool mine = f->a == sp->id || f->b == sp->id || f->a == sp->host;
        uint64_t end = (uint64_t)f->at_ms + f->for_ms;
        if (!mine || f->at_ms > t) {
            continue;
        }
        if ((f->kind == SIM_PARTITION || f->kind == SIM_BURST || f->kind == SIM_FREEZE ||
             f->kind == SIM_LOADING) &&
            end >= since) {
            return false;
        }
        if (f->kind == SIM_LINK && f->link.loss_permille >= 200) {
            return false;
        }
    }
    return true;
}

static void spect_event(const rollnet_event *ev, void *user_data)
{
    sim_spect *sp = user_data;
    sim_world *w = sp->world;
    int k = sp->id - SIM_SPEC_NODE;
    sim_node_log(w, SIM_SPECT_LOG_NODE + k, ev);
    if (w->sabotage == 'n' && w->t_ms >= SIM_SABOTAGE_MS &&
        ev->type == ROLLNET_EVENT_DISCONNECTED) {
        return; /* self-test: its end goes unseen */
    }
    switch (ev->type) {
    case ROLLNET_EVENT_RUNNING:
        sp->running = true;
        sp->quiet_from_ms = now_of(w);
        break;
    case ROLLNET_EVENT_FINISHED:
        sp->ended = true;
        w->res->spectator_finished++;
        break;
    case ROLLNET_EVENT_DISCONNECTED: {
        rollnet_disconnect_reason why = ev->u.disconnected.reason;
        sp->ended = true;
        w->res->spectator_ends[(unsigned)why < 16 ? why : 15]++;
        if (ev->player != -1) {
            sim_fail(w, 'f', "spectator %d: DISCONNECTED names player %d", k, ev->player);
        } else if (why == ROLLNET_DISCONNECT_STATE_INVALID) {
            sim_fail(w, 'f', "spectator %d: the state or inputs its host %d sent were refused", k,
                     sp->host);
        } else if (why == ROLLNET_DISCONNECT_TIMEOUT && sp->running && host_reachable(w, sp)) {
            w->res->spectator_host_stall_timeouts++;
            sim_fail(w, 'g', "spectator %d timed out though its host %d ran and was reachable "
                             "(the players stalled)",
                     k, sp->host);
        }
        break;
    }
    case ROLLNET_EVENT_REFUSED:
        sim_fail(w, 'f', "spectator %d: refused by its host %d (parameter %d)", k, sp->host,
                 (int)ev->u.refused.param);
        break;
    default:
        break;
    }
}

/* f1, the part that needs no other record: order and inputs. */
static void check_record(sim_world *w, sim_spect *sp, const sim_record *r)
{
    const sim_scenario *sc = w->sc;
    int k = sp->id - SIM_SPEC_NODE;
    const sim_watch *hw = &w->nodes[sp->host].watch;
    static const uint8_t neutral[SIM_MAX_INPUT] = {0};
    size_t isz = (size_t)sc->input_size;
    if (sp->rec_count > 1 && r->frame != r[-1].frame + 1) {
        sim_fail(w, 'f', "spectator %d: record of frame %d after frame %d", k, r->frame,
                 r[-1].frame);
        return;
    }
    for (int p = 0; p < sc->peers; p++) {
        const sim_node *src = &w->nodes[p];
        bool gone = p != sp->host && r->frame >= hw->departed[p];
        const uint8_t *want = gone ? neutral
                              : r->frame >= 0 && r->frame < src->produced_cap &&
                                        src->produced_set[r->frame]
                                  ? src->produced + (size_t)r->frame * isz
                                  : NULL;
        const uint8_t *got = r->inputs + (size_t)p * isz;
        if (!want || memcmp(got, want, isz) != 0) {
            sim_fail(w, 'f', "spectator %d frame %d: player %d's input 0x%02x is not what %s", k,
                     r->frame, p, got[0],
                     gone ? "the host plays for a departed player" : "its node produced");
            return;
        }
    }
}

static void read_records(sim_world *w, sim_spect *sp)
{
    rollnet_record r;
    int block = w->sc->peers * w->sc->input_size;
    while (sp->s && rollnet_session_next_record(sp->s, &r)) {
        if (sp->rec_count == sp->rec_cap) {
            sim_fail(w, 'x', "spectator %d: more records than frames run", sp->id - SIM_SPEC_NODE);
            return;
        }
        sim_record *rec = &sp->rec[sp->rec_count++];
        sim_record_from(rec, &r, block);
        if (w->sabotage == 'f' && w->t_ms >= SIM_SABOTAGE_MS) {
            rec->hash ^= 1; /* self-test: not the host's record */
        }
        sim_digest(w, &rec->hash, sizeof(rec->hash));
        check_record(w, sp, rec);
    }
}

/* ---- Joining and running ---- */

static bool spect_create(sim_world *w, sim_spect *sp)
{
    const sim_scenario *sc = w->sc;
    int k = sp->id - SIM_SPEC_NODE;
    sp->alloc = sim_counting_allocator(&sp->alloc_count);
    uint64_t seed = sc->seed * 0x9E3779B97F4A7C15ull + 0x5000u + (uint64_t)k * 64u;
    sp->router = sim_router_create(w->net, w->num_nodes, sp->node, 0, sc->seed, &sp->alloc);
    if (!sp->router || !sim_router_add_route(sp->router, sp->host, seed + 2, &sp->alloc)) {
        return false;
    }
    rollnet_session_desc d;
    sim_session_desc(sc, &d); /* in a private session its key too */
    d.kind = ROLLNET_SESSION_SPECTATOR;
    d.join_timeout_ms = sc->handshake_ms;
    d.nonce = (sc->seed << 8) + 0x2000u + (uint64_t)k;
    d.allocator = sp->alloc;
    d.transport = sim_router_transport(sp->router);
    char addr[16];
    snprintf(addr, sizeof(addr), "mem:%d", sp->host);
    d.spectate_address = addr;
    for (int j = 0; j < sc->peers; j++) {
        d.players[j].kind = ROLLNET_PLAYER_REMOTE;
    }
    if (!tg_init(&sp->game, sc->seed, sc->peers, sc->input_size, 16, sc->episode_steps)) {
        return false;
    }
    sp->game.write_records = true;
    rollnet_error err = rollnet_session_create(&d, &sp->s);
    if (err != ROLLNET_ERR_OK) {
        sim_fail(w, 'x', "spectator %d: session_create: %s", k, rollnet_error_string(err));
        return false;
    }
    harness_peer_init(&sp->hp, sp->s, &sp->game, &d, sc->seed * 7 + 3);
    sp->hp.event_fn = spect_event;
    sp->hp.event_user_data = sp;
    sp->allocs_after_create = sp->alloc_count.allocs;
    sp->joined = true;
    sp->quiet_from_ms = now_of(w);
    w->res->spectators++;
    if (w->trace) {
        fprintf(stderr, "%6u ms spectator %d joins node %d\n", w->t_ms, k, sp->host);
    }
    return true;
}

/* Joins, freezes, deaths, quits. */
static void spect_faults(sim_world *w, sim_spect *sp, uint64_t now)
{
    bool frozen = false;
    for (int i = 0; i < w->sc->num_faults; i++) {
        const sim_fault *f = &w->sc->faults[i];
        if (f->a != sp->id || w->t_ms < f->at_ms) {
            continue;
        }
        bool alive = sp->state != SIM_NODE_DEAD && sp->state != SIM_NODE_QUIT;
        if (f->kind == SIM_SPECTATE && !sp->joined && alive && !spect_create(w, sp)) {
            sp->state = SIM_NODE_STOPPED;
            if (!w->res->failed) {
                sim_fail(w, 'x', "spectator %d could not be set up", sp->id - SIM_SPEC_NODE);
            }
        } else if (f->kind == SIM_DIE && alive) {
            sp->state = SIM_NODE_DEAD;
        } else if (f->kind == SIM_QUIT && alive) {
            rollnet_session_destroy(sp->s);
            sp->s = NULL;
            sp->state = SIM_NODE_QUIT;
        }
        frozen = frozen || (f->kind == SIM_FREEZE && sim_covers(f, w->t_ms));
    }
    if (sp->state == SIM_NODE_ACTIVE && frozen) {
        sp->state = SIM_NODE_FROZEN;
    } else if (sp->state == SIM_NODE_FROZEN && !frozen) {
        sp->state = SIM_NODE_ACTIVE;
        sp->quiet_from_ms = now; /* its own pause was no wait */
    }
}

static void spect_links(sim_world *w, sim_spect *sp)
{
    for (int dir = 0; dir < 2; dir++) {
        int a = dir == 0 ? sp->host : sp->id, b = dir == 0 ? sp->id : sp->host;
        sim_router *r = dir == 0 ? w->nodes[sp->host].router : sp->router;
        int dest = dir == 0 ? sp->node : sp->host;
        if (!sim_router_alive(r)) {
            continue;
        }
        rollnet_netsim_desc d;
        bool cut;
        sim_link_now(w, a, b, &d, &cut);
        if (memcmp(&d, &sp->link_now[dir], sizeof(d)) != 0) {
            sp->link_now[dir] = d;
            sim_router_set_link(r, dest, &d);
        }
        if (cut != sp->partitioned[dir]) {
            sp->partitioned[dir] = cut;
            sim_router_set_partition(r, dest, cut);
        }
    }
}

static void spect_run(sim_world *w, sim_spect *sp, uint64_t now)
{
    int k = sp->id - SIM_SPEC_NODE;
    for (int i = 0; i < SIM_SPECT_FRAMES_PER_TICK; i++) {
        uint64_t before = sp->hp.frames_advanced;
        rollnet_error err = harness_tick(&sp->hp, now);
        read_records(w, sp);
        if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
            sp->state = SIM_NODE_STOPPED;
            if (!sp->ended) {
                sim_fail(w, 'f', "spectator %d stopped with \"%s\" and no event says why", k,
                         rollnet_error_string(err));
            }
            return;
        }
        if (sp->hp.frames_advanced == before) {
            return;
        }
        sp->quiet_from_ms = now;
    }
}

void sim_spect_step(sim_world *w, uint64_t now)
{
    for (int k = 0; k < SIM_MAX_SPECTATORS; k++) {
        sim_spect *sp = &w->spects[k];
        if (!sp->exists) {
            continue;
        }
        spect_faults(w, sp, now);
        spect_links(w, sp);
        if (sp->router) {
            sim_router_tick(sp->router, now);
        }
        if (sp->joined && sp->state == SIM_NODE_ACTIVE) {
            spect_run(w, sp, now);
        }
    }
}

/* ---- Oracle f, every tick ---- */

/* f1: records the host has read by now equal the spectator's. */
static void verify_records(sim_world *w, sim_spect *sp)
{
    const sim_node *h = &w->nodes[sp->host];
    while (sp->verified < sp->rec_count) {
        const sim_record *r = &sp->rec[sp->verified];
        if (r->frame < 0 || h->rec_count <= r->frame) {
            return; /* the host has not read it (yet) */
        }
        const sim_record *o = &h->rec[r->frame];
        if (o->hash != r->hash) {
            sim_fail(w, 'f', "spectator %d's record of frame %d differs from its host %d's "
                             "(episode %d/%d, step %d/%d)",
                     sp->id - SIM_SPEC_NODE, r->frame, sp->host, r->episode, o->episode, r->step,
                     o->step);
            return;
        }
        sp->verified++;
        w->res->spectator_records++;
    }
}

void sim_spect_end_of_tick(sim_world *w)
{
    const sim_scenario *sc = w->sc;
    uint64_t now = now_of(w);
    for (int k = 0; k < SIM_MAX_SPECTATORS && !w->res->failed; k++) {
        sim_spect *sp = &w->spects[k];
        if (!sp->exists || !sp->joined) {
            continue;
        }
        verify_records(w, sp);
        if (sp->alloc_count.allocs != sp->allocs_after_create) {
            sim_fail(w, 'f', "spectator %d: %llu allocations during play", k,
                     (unsigned long long)(sp->alloc_count.allocs - sp->allocs_after_create));
        }
        if (sp->state != SIM_NODE_ACTIVE || sp->ended) {
            continue;
        }
        /* Waiting while its host has confirmed nothing it has not run is no
         * hang (the players stall; the host's heartbeats keep it alive). */
        rollnet_session_stats hs, ss;
        const sim_node *h = &w->nodes[sp->host];
        if (sp->running && h->s && sp->s &&
            rollnet_session_stats_get(h->s, &hs) == ROLLNET_ERR_OK &&
            rollnet_session_stats_get(sp->s, &ss) == ROLLNET_ERR_OK &&
            hs.confirmed_frame < ss.frame) {
            sp->quiet_from_ms = now;
        }
        uint64_t limit = sp->running ? sc->disconnect_ms
                                     : (uint64_t)sc->handshake_ms + 2ull * sc->disconnect_ms;
        if (now - sp->quiet_from_ms > limit + SIM_SPECT_MARGIN_MS) {
            sim_fail(w, 'f', "spectator %d %s since %u ms and no event says why (limit %llu ms)",
                     k, sp->running ? "has run no frame" : "has not started",
                     (unsigned)(sp->quiet_from_ms - SIM_START_MS), (unsigned long long)limit);
        }
    }
}

void sim_spect_free(sim_world *w)
{
    for (int k = 0; k < SIM_MAX_SPECTATORS; k++) {
        sim_spect *sp = &w->spects[k];
        if (!sp->exists) {
            continue;
        }
        rollnet_session_destroy(sp->s);
        sp->s = NULL;
        sim_router_free(sp->router);
        sp->router = NULL;
        free(sp->rec);
        sp->rec = NULL;
        if (sp->joined && sp->alloc_count.allocs != sp->alloc_count.frees) {
            sim_fail(w, 'f', "spectator %d: %llu allocations but %llu frees after it was "
                             "destroyed",
                     k, (unsigned long long)sp->alloc_count.allocs,
                     (unsigned long long)sp->alloc_count.frees);
        }
    }
    memset(w->spects, 0, sizeof(w->spects));
}
