/* One run of a scenario: the peers' sessions over routers on one memnet, the
 * test game, seeded bots, the faults applied tick by tick, and strangers.
 * Each tick: node faults (freeze, loading, die, quit), link conditions and
 * partitions, every router, every running node (poll, input, advance, the
 * requests, events, records), the strangers, then the per-tick oracles.
 * A RESTART fault (rejoin.c) replaces a node's process first thing in the
 * tick; sim_node_start starts one, the first or a restarted one. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

void sim_fail(sim_world *w, char oracle, const char *fmt, ...)
{
    sim_result *r = w->res;
    if (r->failed || !sim_checking(w, oracle)) {
        return;
    }
    r->failed = true;
    r->oracle = oracle;
    r->at_ms = w->t_ms;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->what, sizeof(r->what), fmt, ap);
    va_end(ap);
}

/* 'g': a spectator never times out while its host runs and is reachable
 * (the host's heartbeats, core/p2p_spectators.c). */
bool sim_checking(const sim_world *w, char oracle)
{
    return oracle == 'x' || !w->oracles || strchr(w->oracles, oracle) != NULL;
}

void sim_digest(sim_world *w, const void *data, size_t size)
{
    w->digest = (w->digest ^ rollnet_checksum(data, size)) * 0x100000001B3ull;
}

void sim_record_from(sim_record *rec, const rollnet_record *r, int block)
{
    uint8_t buf[64 + SIM_MAX_PEERS * SIM_MAX_INPUT + 1024];
    size_t len = 0;
    int32_t head[4] = {r->frame, r->episode, r->step, r->episode_end ? 1 : 0};
    memcpy(buf, head, sizeof(head));
    len += sizeof(head);
    memcpy(buf + len, r->inputs, (size_t)block);
    len += (size_t)block;
    size_t data = r->size < 1024 ? r->size : 1024;
    if (data) {
        memcpy(buf + len, r->data, data);
    }
    len += data;
    rec->frame = r->frame;
    rec->episode = r->episode;
    rec->step = r->step;
    rec->hash = rollnet_checksum(buf, len);
    memcpy(rec->inputs, r->inputs, (size_t)block);
    rec->disconnected = r->disconnected; /* compared by oracle a, not in the hash */
}

/* ---- Inputs, events, records ---- */

static void on_input(int player, int32_t frame, uint8_t *out, int input_size, void *user_data)
{
    sim_node *n = user_data;
    (void)player;
    memcpy(out, tg_bot_next(&n->bot), (size_t)input_size);
    int32_t at = frame + n->world->sc->input_delay;
    if (n->incarnation > 0 && !n->watch.rejoined) {
        return; /* drawn before its frames are known: REJOINED places it */
    }
    if (at >= 0 && at < n->produced_cap) {
        memcpy(n->produced + (size_t)at * (size_t)input_size, out, (size_t)input_size);
        n->produced_set[at] = 1;
        if (n->world->sabotage == 'b' && n->world->t_ms >= SIM_SABOTAGE_MS) {
            n->produced[(size_t)at * (size_t)input_size] ^= 0x5a; /* not what was sent */
        }
    }
}

/* The digest and the trace of one node's event (a spectator's node is
 * 100 + k). */
void sim_node_log(sim_world *w, int node, const rollnet_event *ev)
{
    uint64_t key[2] = {w->tick, (uint64_t)node};
    sim_digest(w, key, sizeof(key));
    sim_digest(w, ev, sizeof(*ev));
    w->res->events++;
    if (w->trace) {
        fprintf(stderr, "%6u ms node %s%d: %s player %d [%d %d]\n", w->t_ms,
                node >= 100 ? "s" : "", node >= 100 ? node - 100 : node,
                sim_event_name((int)ev->type), ev->player, ev->u.stall.reason,
                ev->u.stall.frame);
    }
}

static void on_event(const rollnet_event *ev, void *user_data)
{
    sim_node *n = user_data;
    sim_world *w = n->world;
    if (n->log_count == n->log_cap) {
        n->log_cap = n->log_cap ? n->log_cap * 2 : 64;
        n->log = realloc(n->log, (size_t)n->log_cap * sizeof(*n->log));
        if (!n->log) {
            abort();
        }
    }
    n->log[n->log_count].tick = w->tick;
    n->log[n->log_count].ev = *ev;
    n->log_count++;
    sim_node_log(w, n->index, ev);
    sim_oracle_event(w, n->index, ev);
}

static void read_records(sim_world *w, sim_node *n)
{
    rollnet_record r;
    int block = w->sc->peers * w->sc->input_size;
    while (n->s && !n->noread && rollnet_session_next_record(n->s, &r)) {
        if (n->rec_count == n->rec_cap) {
            sim_fail(w, 'x', "node %d: more records than frames run", n->index);
            return;
        }
        sim_record *rec = &n->rec[n->rec_count++];
        sim_record_from(rec, &r, block);
        if (w->sabotage == 'a' && n->index == 1 && w->t_ms >= SIM_SABOTAGE_MS) {
            rec->hash ^= 1;
        }
        sim_digest(w, &rec->hash, sizeof(rec->hash));
        w->res->records++;
        sim_oracle_record(w, n->index, rec);
    }
}

/* ---- Creation ---- */

static void on_log(rollnet_log_level level, const char *message, void *user_data)
{
    sim_node *n = user_data;
    if (n->world->trace && level >= ROLLNET_LOG_INFO) {
        fprintf(stderr, "%6u ms node %d log: %s\n", n->world->t_ms, n->index, message);
    }
}

/* Node i's process: router, session, game and bot (again after a restart:
 * incarnation > 0, desc.rejoin set, its own allocator, a new nonce and bot). */
bool sim_node_start(sim_world *w, int i, const rollnet_allocator *alloc)
{
    const sim_scenario *sc = w->sc;
    sim_node *n = &w->nodes[i];
    uint64_t inc = (uint64_t)n->incarnation;
    n->router = sim_router_create(w->net, w->num_nodes, i, sc->peers, sc->seed + 977u * inc,
                                  alloc);
    if (!n->router) {
        return false;
    }
    rollnet_session_desc d;
    sim_session_desc(sc, &d);
    /* Without a rejoin=N timeout the scenario draws no rejoin. */
    d.rejoin_timeout_ms = sc->rejoin_ms ? sc->rejoin_ms : ROLLNET_REJOIN_OFF;
    d.absent_play = sc->absent_neutral ? ROLLNET_ABSENT_NEUTRAL : ROLLNET_ABSENT_PAUSE;
    d.rejoin = n->incarnation > 0;
    d.nonce = sim_node_nonce(sc->seed, i) + (inc << 40);
    d.allocator = *alloc;
    d.logger.log = on_log;
    d.logger.user_data = n;
    d.transport = sim_router_transport(n->router);
    char addr[SIM_MAX_PEERS][16];
    for (int j = 0; j < sc->peers; j++) {
        d.players[j].kind = j == i ? ROLLNET_PLAYER_LOCAL : ROLLNET_PLAYER_REMOTE;
        if (j > i) {
            snprintf(addr[j], sizeof(addr[j]), "mem:%d", j);
            d.players[j].address = addr[j];
        }
    }
    if (!tg_init(&n->game, sc->seed, sc->peers, sc->input_size, 16, sc->episode_steps)) {
        return false;
    }
    n->game.write_records = true;
    rollnet_error err = rollnet_session_create(&d, &n->s);
    if (err != ROLLNET_ERR_OK) {
        sim_fail(w, 'x', "node %d: session_create: %s", i, rollnet_error_string(err));
        return false;
    }
    harness_peer_init(&n->hp, n->s, &n->game, &d, sc->seed * 7 + 3 + 977u * inc);
    tg_bot_init(&n->bot, harness_bot_seed(sc->seed * 7 + 3 + 977u * inc, i), sc->input_size);
    n->hp.input_fn = on_input;
    n->hp.input_user_data = n;
    n->hp.event_fn = on_event;
    n->hp.event_user_data = n;
    sim_watch_init(&n->watch, harness_clock_now(&w->clock));
    return true;
}

static bool node_init(sim_world *w, int i)
{
    const sim_scenario *sc = w->sc;
    sim_node *n = &w->nodes[i];
    n->world = w;
    n->index = i;
    n->produced_cap = sc->frames * 3 + sc->input_delay + 64;
    n->produced = calloc((size_t)n->produced_cap, (size_t)sc->input_size);
    n->produced_set = calloc((size_t)n->produced_cap, 1);
    n->rec_cap = n->produced_cap;
    n->rec = calloc((size_t)n->rec_cap, sizeof(*n->rec));
    if (!n->produced || !n->produced_set || !n->rec) {
        return false;
    }
    for (int f = 0; f < sc->input_delay; f++) {
        n->produced_set[f] = 1; /* the input delay's prefix is neutral */
    }
    return sim_node_start(w, i, &w->alloc);
}

bool sim_world_init(sim_world *w, const sim_scenario *sc, bool with_outsiders,
                    const char *oracles, sim_result *res)
{
    bool trace = w->trace;
    char sabotage = w->sabotage;
    memset(w, 0, sizeof(*w));
    w->trace = trace;
    w->sabotage = sabotage;
    w->sc = sc;
    w->with_outsiders = with_outsiders;
    w->oracles = oracles;
    w->res = res;
    w->alloc = sim_counting_allocator(&w->alloc_count);
    /* The same nodes with or without outsiders, so both runs match: peers,
     * strangers, spectators. */
    w->num_nodes = sc->peers + sim_scenario_strangers(sc) + sim_scenario_spectator_slots(sc);
    w->net = rollnet_memnet_create(w->num_nodes, &w->alloc);
    harness_clock_init(&w->clock, SIM_START_MS, SIM_FPS);
    if (!w->net) {
        return false;
    }
    for (int i = 0; i < sc->peers; i++) {
        if (!node_init(w, i)) {
            return false;
        }
    }
    int k = 0;
    for (int f = 0; f < sc->num_faults && with_outsiders; f++) {
        if (sc->faults[f].kind == SIM_STRANGER) {
            sim_stranger_init(&w->strangers[k], &sc->faults[f], sc->peers + k, sc->seed);
            w->stranger_fault[k++] = f;
        }
    }
    if (with_outsiders && !sim_spect_setup(w)) {
        return false;
    }
    w->allocs_after_setup = w->alloc_count.allocs;
    w->setup_done = true;
    return true;
}

/* ---- Faults ---- */

bool sim_covers(const sim_fault *f, uint32_t t)
{
    return t >= f->at_ms && t - f->at_ms < f->for_ms;
}

#define covers sim_covers

static void node_faults(sim_world *w, int i, uint64_t now)
{
    sim_node *n = &w->nodes[i];
    bool frozen = false, loading = false, noread = false;
    for (int k = 0; k < w->sc->num_faults; k++) {
        const sim_fault *f = &w->sc->faults[k];
        if (f->a != i || w->t_ms < f->at_ms) {
            continue;
        }
        if ((f->kind == SIM_DIE || f->kind == SIM_QUIT) && f->at_ms < n->born_ms) {
            continue; /* it ended an earlier process of the node */
        }
        if (w->trace && (f->kind == SIM_DIE || f->kind == SIM_QUIT) && w->t_ms - f->at_ms < 17 &&
            n->state != SIM_NODE_DEAD && n->state != SIM_NODE_QUIT) {
            fprintf(stderr, "%6u ms node %d: %s\n", w->t_ms, i, sim_fault_name(f->kind));
        }
        bool alive = n->state != SIM_NODE_DEAD && n->state != SIM_NODE_QUIT;
        if (f->kind == SIM_DIE && alive) {
            n->state = SIM_NODE_DEAD;
            n->gone_ms = now;
        } else if (f->kind == SIM_QUIT && alive) {
            rollnet_session_destroy(n->s);
            n->s = NULL;
            n->state = SIM_NODE_QUIT;
            n->gone_ms = now;
        }
        frozen = frozen || ((f->kind == SIM_FREEZE || f->kind == SIM_LOADING) && covers(f, w->t_ms));
        loading = loading || (f->kind == SIM_LOADING && covers(f, w->t_ms));
        noread = noread || (f->kind == SIM_NOREAD && covers(f, w->t_ms));
    }
    if (n->noread && !noread) {
        sim_oracle_resumed(w, i); /* its own pause was no wait */
    }
    n->noread = noread;
    if (n->state == SIM_NODE_DEAD || n->state == SIM_NODE_QUIT || n->state == SIM_NODE_STOPPED) {
        return;
    }
    if (loading && !n->loading) {
        rollnet_session_begin_loading(n->s, now);
    } else if (!loading && n->loading) {
        rollnet_session_end_loading(n->s, now);
    }
    n->loading = loading;
    if (w->trace && (frozen != (n->state == SIM_NODE_FROZEN))) {
        fprintf(stderr, "%6u ms node %d: %s\n", w->t_ms, i, frozen ? "frozen" : "resumes");
    }
    if (frozen) {
        n->state = SIM_NODE_FROZEN;
    } else if (n->state == SIM_NODE_FROZEN) {
        n->state = SIM_NODE_ACTIVE;
        sim_oracle_resumed(w, i);
    }
}

/* The conditions of a -> b now: the latest LINK line, bursts, partitions. */
void sim_link_now(const sim_world *w, int a, int b, rollnet_netsim_desc *d, bool *cut)
{
    memset(d, 0, sizeof(*d));
    *cut = false;
    uint32_t best_at = 0;
    bool burst = false;
    for (int k = 0; k < w->sc->num_faults; k++) {
        const sim_fault *f = &w->sc->faults[k];
        bool fwd = f->a == a && f->b == b;
        bool back = f->both && f->a == b && f->b == a;
        if (!(fwd || back) || w->t_ms < f->at_ms) {
            continue;
        }
        if (f->kind == SIM_LINK && f->at_ms >= best_at) {
            best_at = f->at_ms;
            *d = f->link;
        } else if (f->kind == SIM_BURST && covers(f, w->t_ms)) {
            burst = true;
        } else if (f->kind == SIM_PARTITION && covers(f, w->t_ms)) {
            *cut = true;
        }
    }
    d->seed = 0;
    d->max_queued = 0;
    if (burst) {
        d->loss_permille = 1000;
    }
}

/* Closes and rebindings happen once, at the first tick at or after their time. */
static void link_events(sim_world *w)
{
    for (int k = 0; k < w->sc->num_faults; k++) {
        const sim_fault *f = &w->sc->faults[k];
        if (w->t_ms < f->at_ms || (w->link_done & (1ull << k)) ||
            (f->kind != SIM_CLOSE && f->kind != SIM_REBIND)) {
            continue;
        }
        w->link_done |= 1ull << k;
        if (w->trace) {
            fprintf(stderr, "%6u ms %s %d->%d\n", w->t_ms, sim_fault_name(f->kind), f->a, f->b);
        }
        if (f->kind == SIM_CLOSE) {
            sim_router_close(w->nodes[f->a].router, f->b);
        } else {
            rollnet_memnet_rebind(w->net, f->b, f->a);
        }
    }
}

static void apply_links(sim_world *w)
{
    for (int a = 0; a < w->sc->peers; a++) {
        for (int b = 0; b < w->sc->peers; b++) {
            if (a == b || !sim_router_alive(w->nodes[a].router)) {
                continue;
            }
            rollnet_netsim_desc d;
            bool cut;
            sim_link_now(w, a, b, &d, &cut);
            if (memcmp(&d, &w->link_now[a][b], sizeof(d)) != 0) {
                w->link_now[a][b] = d;
                sim_router_set_link(w->nodes[a].router, b, &d);
            }
            if (cut != w->partitioned[a][b]) {
                w->partitioned[a][b] = cut;
                sim_router_set_partition(w->nodes[a].router, b, cut);
            }
        }
    }
}

/* ---- Running a node ---- */

/* How far the node runs behind its furthest peer, in frames. */
static int32_t frames_behind(const sim_world *w, const sim_node *n)
{
    int32_t behind = 0;
    for (int p = 0; p < w->sc->peers; p++) {
        rollnet_peer_stats ps;
        if (p != n->index && rollnet_session_peer_stats(n->s, p, &ps) == ROLLNET_ERR_OK &&
            !ps.disconnected && -ps.local_frames_ahead > behind) {
            behind = -ps.local_frames_ahead;
        }
    }
    return behind;
}

static bool run_once(sim_world *w, sim_node *n, uint64_t now)
{
    uint64_t before = n->hp.frames_advanced;
    rollnet_error err = harness_tick(&n->hp, now);
    bool advanced = n->hp.frames_advanced != before;
    read_records(w, n);
    sim_oracle_tick_result(w, n->index, err, advanced);
    if (err != ROLLNET_ERR_OK && !harness_is_skip(err)) {
        n->state = SIM_NODE_STOPPED;
        n->error = err;
        return false;
    }
    w->res->frames += advanced;
    return err == ROLLNET_ERR_OK;
}

static void run_node(sim_world *w, sim_node *n, uint64_t now)
{
    if (!run_once(w, n, now)) {
        return;
    }
    /* A game that runs behind catches up: up to 2 extra frames per tick. */
    for (int extra = 0; w->sc->catchup && extra < 2; extra++) {
        if (frames_behind(w, n) <= 2 || !run_once(w, n, now)) {
            break;
        }
    }
}

/* Self-test: what oracles d and e watch, broken on purpose; 's': an error
 * that claims a mesh split the scenario never caused (oracle x). */
static void sabotage_tick(sim_world *w)
{
    if (w->t_ms < SIM_SABOTAGE_MS || w->t_ms - SIM_SABOTAGE_MS >= 17) {
        return;
    }
    if (w->sabotage == 'd') {
        w->alloc.free(w->alloc.alloc(16, w->alloc.user_data), w->alloc.user_data);
    } else if (w->sabotage == 's' && w->t_ms == SIM_SABOTAGE_MS) {
        /* A "mesh split" with nothing that cut node 1 from node 0: player 0
         * dropped, player 2's departure not agreed, the session stopped. */
        rollnet_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.type = ROLLNET_EVENT_DISCONNECTED;
        ev.player = 0;
        ev.u.disconnected.reason = ROLLNET_DISCONNECT_CONNECTION_LOST;
        ev.u.disconnected.frame = 1000000; /* no record reaches it before the stop */
        on_event(&ev, &w->nodes[1]);
        ev.player = 2;
        ev.u.disconnected.frame = -1;
        on_event(&ev, &w->nodes[1]);
        sim_oracle_tick_result(w, 1, ROLLNET_ERR_DISCONNECTED, false);
    } else if (w->sabotage == 'e' && w->with_outsiders) {
        rollnet_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.type = ROLLNET_EVENT_SYNCHRONIZING;
        ev.player = -1;
        on_event(&ev, &w->nodes[1]);
    }
}

void sim_world_step(sim_world *w)
{
    uint64_t now = harness_clock_now(&w->clock);
    w->t_ms = (uint32_t)(now - SIM_START_MS);
    sim_rejoin_step(w, now);
    for (int i = 0; i < w->sc->peers; i++) {
        node_faults(w, i, now);
    }
    apply_links(w);
    link_events(w);
    for (int i = 0; i < w->sc->peers; i++) {
        sim_router_tick(w->nodes[i].router, now);
    }
    for (int i = 0; i < w->sc->peers; i++) {
        if (w->nodes[i].state == SIM_NODE_ACTIVE) {
            run_node(w, &w->nodes[i], now);
        }
    }
    for (int k = 0; w->with_outsiders && k < SIM_MAX_STRANGERS; k++) {
        if (w->strangers[k].node > 0) {
            sim_stranger_tick(&w->strangers[k], w, &w->sc->faults[w->stranger_fault[k]], w->t_ms);
        }
    }
    if (w->with_outsiders) {
        sim_spect_step(w, now);
    }
    sabotage_tick(w);
    sim_oracle_end_of_tick(w);
    sim_rejoin_end_of_tick(w);
    sim_keys_end_of_tick(w);
    if (w->with_outsiders) {
        sim_spect_end_of_tick(w);
    }
    w->tick++;
    w->res->ticks = w->tick;
    harness_clock_tick(&w->clock);
}

void sim_world_free(sim_world *w)
{
    sim_spect_free(w);
    for (int i = 0; i < SIM_MAX_PEERS; i++) {
        sim_node *n = &w->nodes[i];
        rollnet_session_destroy(n->s);
        n->s = NULL;
        sim_router_free(n->router);
        free(n->produced);
        free(n->produced_set);
        free(n->rec);
        free(n->rec_old);
        free(n->log);
        sim_rejoin_check_freed(w, i);
    }
    rollnet_memnet_destroy(w->net);
    if (w->setup_done && w->alloc_count.allocs != w->alloc_count.frees) {
        sim_fail(w, 'd', "%llu allocations through the hook but %llu frees after every "
                         "session and the memnet were destroyed",
                 (unsigned long long)w->alloc_count.allocs,
                 (unsigned long long)w->alloc_count.frees);
    }
    memset(w->nodes, 0, sizeof(w->nodes));
}
