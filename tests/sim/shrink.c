/* Shrinking: greedy passes over a failing scenario, keeping every change
 * after which it still fails the same way (sim_signature), until a whole round changes
 * nothing or the run budget is spent. In order: stop just after the failure,
 * drop spectators (each with its faults), drop the session key (public, its
 * RESUME strangers gone, the others keyless), drop faults one at a time, drop
 * peers, halve fault durations, move faults earlier, simplify link
 * conditions, then plain session parameters (absent_play NEUTRAL, and the
 * rejoin window once no restart is left: restarts go with the faults). */
#include <string.h>

#include "sim.h"

typedef struct shrinker {
    sim_scenario *best;
    sim_result *res;
    const sim_options *opt;
    int runs, max_runs;
    char signature[64];
} shrinker;

static bool budget(const shrinker *s)
{
    return s->runs < s->max_runs;
}

/* Keep the candidate when it still fails the same way. */
static bool attempt(shrinker *s, const sim_scenario *cand)
{
    if (!budget(s)) {
        return false;
    }
    sim_result r;
    s->runs++;
    sim_run(cand, s->opt, &r);
    char sig[64];
    sim_signature(&r, sig, sizeof(sig));
    if (!r.failed || strcmp(sig, s->signature) != 0) {
        return false;
    }
    *s->best = *cand;
    *s->res = r;
    return true;
}

static bool shrink_frames(shrinker *s)
{
    bool changed = false;
    sim_scenario c = *s->best;
    /* Oracles run every tick: the run can stop soon after the failure. */
    int upto = (int)s->res->ticks + 2;
    if (upto < c.frames) {
        c.frames = upto;
        changed |= attempt(s, &c);
    }
    c = *s->best;
    if (c.frames > 60) {
        c.frames = c.frames * 3 / 4;
        changed |= attempt(s, &c);
    }
    return changed;
}

static bool shrink_spectators(shrinker *s)
{
    bool changed = false;
    for (int k = SIM_MAX_SPECTATORS - 1; k >= 0 && budget(s); k--) {
        if (sim_scenario_spectate(s->best, SIM_SPEC_NODE + k)) {
            sim_scenario c = *s->best;
            sim_scenario_drop_spectator(&c, SIM_SPEC_NODE + k);
            changed |= attempt(s, &c);
        }
    }
    return changed;
}

static bool shrink_key(shrinker *s)
{
    sim_scenario c = *s->best;
    return budget(s) && sim_keys_drop(&c) && attempt(s, &c);
}

static bool shrink_faults(shrinker *s)
{
    bool changed = false;
    for (int i = s->best->num_faults - 1; i >= 0 && budget(s); i--) {
        if (s->best->faults[i].kind == SIM_SPECTATE) {
            continue; /* shrink_spectators: its other faults go with it */
        }
        sim_scenario c = *s->best;
        sim_scenario_remove(&c, i);
        changed |= attempt(s, &c);
    }
    return changed;
}

/* Without peer k: its faults go (and its spectators with theirs), higher
 * nodes move down by one; spectator ids stay. */
static bool drop_peer(const sim_scenario *in, int k, sim_scenario *out)
{
    if (in->peers <= 2) {
        return false;
    }
    sim_scenario tmp = *in;
    for (int i = 0; i < in->num_faults; i++) {
        if (in->faults[i].kind == SIM_SPECTATE && in->faults[i].b == k) {
            sim_scenario_drop_spectator(&tmp, in->faults[i].a);
        }
    }
    *out = tmp;
    out->peers--;
    out->num_faults = 0;
    for (int i = 0; i < tmp.num_faults; i++) {
        sim_fault f = tmp.faults[i];
        bool pair = f.kind == SIM_LINK || f.kind == SIM_BURST || f.kind == SIM_PARTITION ||
                    f.kind == SIM_CLOSE || f.kind == SIM_REBIND || f.kind == SIM_SPECTATE;
        bool uses_a = f.kind != SIM_STRANGER && !sim_is_spectator(f.a);
        bool uses_b = (pair || f.kind == SIM_STRANGER) && !sim_is_spectator(f.b);
        if ((uses_a && f.a == k) || (uses_b && f.b == k)) {
            continue;
        }
        f.a -= uses_a && f.a > k;
        f.b -= uses_b && f.b > k;
        sim_scenario_add(out, &f);
    }
    return true;
}

static bool shrink_peers(shrinker *s)
{
    bool changed = false;
    for (int k = s->best->peers - 1; k >= 0 && budget(s); k--) {
        sim_scenario c;
        if (drop_peer(s->best, k, &c)) {
            changed |= attempt(s, &c);
        }
    }
    return changed;
}

static bool shrink_durations(shrinker *s)
{
    bool changed = false;
    for (int i = 0; i < s->best->num_faults && budget(s); i++) {
        sim_scenario c = *s->best;
        if (c.faults[i].for_ms >= 100) {
            c.faults[i].for_ms /= 2;
            changed |= attempt(s, &c);
        }
    }
    return changed;
}

/* Earlier faults make shorter runs: move everything back by the earliest
 * time, then each fault to half its time. */
static bool shrink_times(shrinker *s)
{
    bool changed = false;
    uint32_t first = UINT32_MAX;
    for (int i = 0; i < s->best->num_faults; i++) {
        if (s->best->faults[i].at_ms > 0 && s->best->faults[i].at_ms < first) {
            first = s->best->faults[i].at_ms;
        }
    }
    for (uint32_t div = 2; first != UINT32_MAX && first / div >= 50 && !changed; div *= 2) {
        sim_scenario c = *s->best;
        for (int i = 0; i < c.num_faults; i++) {
            c.faults[i].at_ms -= c.faults[i].at_ms > 0 ? first / div : 0;
        }
        changed |= attempt(s, &c);
    }
    for (int i = 0; i < s->best->num_faults && budget(s); i++) {
        sim_scenario c = *s->best;
        if (c.faults[i].at_ms >= 100) {
            c.faults[i].at_ms /= 2;
            changed |= attempt(s, &c);
        }
    }
    return changed;
}

static bool shrink_links(shrinker *s)
{
    bool changed = false;
    for (int i = 0; i < s->best->num_faults && budget(s); i++) {
        for (int field = 0; field < 8 && budget(s); field++) {
            sim_scenario c = *s->best;
            rollnet_netsim_desc *d = &c.faults[i].link;
            if (c.faults[i].kind != SIM_LINK) {
                break;
            }
            uint32_t *v = field == 0   ? &d->jitter_ms
                          : field == 1 ? &d->dup_permille
                          : field == 2 ? &d->reorder_permille
                          : field == 3 ? &d->reorder_ms
                          : field == 4 ? &d->loss_permille
                                       : &d->delay_ms;
            if (*v != 0) {
                *v = 0;
                changed |= attempt(s, &c);
            }
        }
    }
    return changed;
}

static bool shrink_params(shrinker *s)
{
    bool changed = false;
    for (int field = 0; field < 6 && budget(s); field++) {
        sim_scenario c = *s->best;
        bool differs = true;
        switch (field) {
        case 0: differs = c.episode_steps != 0; c.episode_steps = 0; break;
        case 1: differs = c.catchup; c.catchup = false; break;
        case 2: differs = c.input_size != 1; c.input_size = 1; break;
        case 3: differs = c.input_delay != 0; c.input_delay = 0; break;
        case 4: differs = c.prediction != ROLLNET_MAX_PREDICTION; c.prediction = ROLLNET_MAX_PREDICTION; break;
        case 5: differs = c.absent_neutral; c.absent_neutral = false; break;
        case 6: /* rejoin off, once no restart is left */
            differs = c.rejoin_ms != 0 && !sim_scenario_restarts(&c);
            c.rejoin_ms = 0;
            break;
        default: differs = c.checksum_interval != 16; c.checksum_interval = 16; break;
        }
        if (differs) {
            changed |= attempt(s, &c);
        }
    }
    return changed;
}

int sim_shrink(sim_scenario *sc, sim_result *res, const sim_options *opt, int max_runs)
{
    if (!res->failed) {
        return 0;
    }
    sim_options quiet = opt ? *opt : (sim_options){0};
    quiet.verbose = false;
    shrinker s = {sc, res, &quiet, 0, max_runs, ""};
    sim_signature(res, s.signature, sizeof(s.signature));
    bool changed = true;
    while (changed && budget(&s)) {
        changed = false;
        changed |= shrink_frames(&s);
        changed |= shrink_spectators(&s);
        changed |= shrink_key(&s);
        changed |= shrink_faults(&s);
        changed |= shrink_peers(&s);
        changed |= shrink_durations(&s);
        changed |= shrink_times(&s);
        changed |= shrink_links(&s);
        changed |= shrink_params(&s);
    }
    return s.runs;
}
