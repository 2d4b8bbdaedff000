/* Run one scenario. With strangers or spectators (and oracle e checked), a
 * shadow world runs the same scenario without them in lockstep, and every
 * tick the two must show the same events and records on every peer (oracle
 * e, below). */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdlib.h>
#include <string.h>

#include "simint.h"

/* ---- Oracle e: lockstep against the run without outsiders ---- */

const char *sim_outsiders(const sim_scenario *sc)
{
    bool st = sim_scenario_strangers(sc) > 0, sp = sim_scenario_spectators(sc) > 0;
    return st && sp ? "strangers and spectators" : sp ? "spectators" : "strangers";
}

static void describe(char *buf, size_t cap, const sim_logged_event *e)
{
    if (!e) {
        snprintf(buf, cap, "nothing");
        return;
    }
    snprintf(buf, cap, "%s(player %d) at %u ms", sim_event_name((int)e->ev.type), e->ev.player,
             (unsigned)(e->tick * 1000u / SIM_FPS));
}

static bool same_event(const sim_logged_event *a, const sim_logged_event *b)
{
    return a->tick == b->tick && a->ev.type == b->ev.type && a->ev.player == b->ev.player &&
           memcmp(&a->ev.u, &b->ev.u, sizeof(a->ev.u)) == 0;
}

void sim_oracle_compare(sim_world *w, sim_world *shadow)
{
    for (int x = 0; x < w->sc->peers && !w->res->failed; x++) {
        sim_node *a = &w->nodes[x], *b = &shadow->nodes[x];
        int from = a->log_seen < b->log_seen ? a->log_seen : b->log_seen;
        int end = a->log_count > b->log_count ? a->log_count : b->log_count;
        for (int k = from; k < end; k++) {
            const sim_logged_event *ea = k < a->log_count ? &a->log[k] : NULL;
            const sim_logged_event *eb = k < b->log_count ? &b->log[k] : NULL;
            if (!ea || !eb || !same_event(ea, eb)) {
                char da[96], db[96];
                describe(da, sizeof(da), ea);
                describe(db, sizeof(db), eb);
                sim_fail(w, 'e', "node %d: with %s its event %d is %s, without them %s", x,
                         sim_outsiders(w->sc), k, da, db);
                return;
            }
        }
        a->log_seen = b->log_seen = end;
        if (a->rec_count != b->rec_count || a->state != b->state ||
            (a->rec_count > 0 && a->rec[a->rec_count - 1].hash != b->rec[b->rec_count - 1].hash)) {
            sim_fail(w, 'e', "node %d: with %s %d records (state %d), without them %d "
                             "(state %d)",
                     x, sim_outsiders(w->sc), a->rec_count, (int)a->state, b->rec_count,
                     (int)b->state);
            return;
        }
    }
}

/* A failure of the run with outsiders that the run without them does not
 * share (same oracle, same tick) is the outsiders' doing: oracle e. */
static void attribute(sim_world *w, const sim_result *shadow_res)
{
    sim_result *r = w->res;
    if (!r->failed || strchr("efgk", r->oracle) ||
        (shadow_res->failed && shadow_res->oracle == r->oracle &&
         shadow_res->at_ms <= r->at_ms)) {
        return;
    }
    if (!sim_checking(w, 'e')) {
        return;
    }
    char what[sizeof(r->what)];
    snprintf(what, sizeof(what), "%s", r->what);
    snprintf(r->what, sizeof(r->what), "with %s only, oracle %c: %.400s", sim_outsiders(w->sc),
             r->oracle, what);
    r->oracle = 'e';
}

static void run_worlds(const sim_scenario *sc, sim_world *w, sim_world *shadow,
                       const sim_result *shadow_res)
{
    for (int t = 0; t < sc->frames && !w->res->failed; t++) {
        sim_world_step(w);
        if (shadow) {
            sim_world_step(shadow);
            sim_oracle_compare(w, shadow);
            attribute(w, shadow_res);
        }
    }
    if (!w->res->failed) {
        sim_oracle_end(w);
        sim_keys_end(w);
    }
}

void sim_run(const sim_scenario *sc, const sim_options *opt, sim_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *oracles = opt && opt->oracles ? opt->oracles : NULL;
    sim_world *w = calloc(1, sizeof(*w));
    sim_world *shadow = NULL;
    sim_result shadow_res;
    memset(&shadow_res, 0, sizeof(shadow_res));
    if (!w) {
        snprintf(out->what, sizeof(out->what), "out of memory");
        out->failed = true;
        out->oracle = 'x';
        return;
    }
    /* The shadow doubles a run's cost: a campaign may give it to only some
     * of the scenarios whose only outsiders are spectators. */
    int every = opt ? opt->spectator_shadow : 0;
    bool outsiders = sim_scenario_strangers(sc) > 0 ||
                     (sim_scenario_spectators(sc) > 0 && (every <= 1 || sc->seed % (uint64_t)every == 0));
    w->trace = opt && opt->trace;
    w->sabotage = opt ? opt->sabotage : 0;
    bool ok = sim_world_init(w, sc, true, oracles, out);
    if (ok && outsiders && (!oracles || strchr(oracles, 'e'))) {
        shadow = calloc(1, sizeof(*shadow));
        /* The shadow's own failures are the main run's too; only e compares. */
        char *others = strdup(oracles ? oracles : "abcd");
        char *e = strchr(others, 'e');
        if (e) {
            memmove(e, e + 1, strlen(e));
        }
        ok = shadow && sim_world_init(shadow, sc, false, others, &shadow_res);
        if (shadow) {
            shadow->oracles_owned = others;
        } else {
            free(others);
        }
    }
    if (!ok && !out->failed) {
        out->failed = true;
        out->oracle = 'x';
        snprintf(out->what, sizeof(out->what), "could not set the scenario up");
    }
    if (ok) {
        out->shadowed = shadow != NULL;
        run_worlds(sc, w, shadow, &shadow_res);
    }
    out->digest = w->digest;
    if (shadow) {
        sim_world_free(shadow);
        free(shadow->oracles_owned);
        free(shadow);
    }
    sim_world_free(w);
    free(w);
    if (opt && opt->verbose) {
        fprintf(stderr,
                "seed %llu: %llu ticks, %llu frames, %llu records, %llu events, digest "
                "%016llx%s%s\n",
                (unsigned long long)sc->seed, (unsigned long long)out->ticks,
                (unsigned long long)out->frames, (unsigned long long)out->records,
                (unsigned long long)out->events, (unsigned long long)out->digest,
                out->failed ? ": FAIL " : "",
                out->failed ? out->what : "");
    }
}

void sim_signature(const sim_result *r, char *out, size_t cap)
{
    size_t n = 0;
    if (cap < 3) {
        return;
    }
    out[n++] = r->oracle;
    out[n++] = ':';
    bool space = false;
    /* Details (checksums, values) go in parentheses: they end the signature. */
    for (const char *p = r->what; *p && *p != '(' && n + 1 < cap && n < 50; p++) {
        if ((*p >= '0' && *p <= '9') || *p == '-') {
            continue;
        }
        if (*p == ' ') {
            space = true;
            continue;
        }
        if (space) {
            out[n++] = ' ';
            space = false;
        }
        if (n + 1 < cap) {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}
