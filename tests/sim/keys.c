/* Private scenarios: a session key on every peer and spectator, and
 * strangers that try it.
 *
 * Drawing. SIM_KEY_PERCENT of the seeds are private, drawn from a stream of
 * the seed of their own (after everything else), so a seed that draws no
 * key makes the scenario it always made. A private scenario gets a key line
 * (`key invite-4711`); its HELLO strangers learn a key kind (none, another
 * key, the right one), and some get one or two more strangers: keyed HELLOs,
 * or, with reconnection on, RESUME claims of a peer's place made with the
 * peers' real nonces (they travel in the clear) and no or a wrong proof.
 * A stranger with the right key and a free seat cannot exist: the right key
 * comes only with a wrong parameter or a seat a player holds (the target's
 * own, or one the target dials); a RESUME stranger never has the right key
 * (with it, it would be the peer it claims to be).
 *
 * What the strangers say. A keyed HELLO carries the session's parameters
 * (now and then one wrong) and a claim: a seat the target accepts (free or
 * not yet), no seat (a spectator's), or a taken one. When the target answers
 * with its AUTH (the HELLO matched), the stranger sends its own, made with
 * its key: none, another, or the right one. A RESUME stranger claims the
 * place of a peer the target accepted and answers the CHALLENGE with a PROOF
 * over it: none, or one made with another key.
 *
 * k. Keys (private scenarios), beyond oracle e (no game-visible event, no
 *    player's slot):
 *    k1 a stranger never gets past AUTH or the RESUME proof: it never hears
 *       READY, a RESUME ACCEPT or PLAYED_ON, inputs, spectator data or a
 *       state; one that knows no key is refused at its HELLO (the target
 *       never proves its key to it), and one with the right key is never
 *       refused for the key;
 *    k2 every tick, each peer's handshakes_refused, handshakes_dropped and
 *       resumes_refused never go back;
 *    k3 at the end, a peer still running counts every stranger connection
 *       to it that ended (SIM_KEY_SETTLE_MS before the end or earlier) in
 *       handshakes_refused + handshakes_dropped + resumes_refused. Not node
 *       0: it dials every peer and accepts no connection, and one it closes
 *       at once (core/p2p_handshake.c, incoming_slot) is counted nowhere;
 *       the strangers drawn here knock on the others. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "protocol.h"
#include "simint.h"

#define SIM_KEY_SETTLE_MS 1500u
#define SIM_KEY_STREAM 0x73657373696F6E6Bull /* "sessionk" */

static const char *const key_names[SIM_KEY_KINDS] = {"none", "wrong", "right"};

const char *sim_key_name(sim_key_kind k)
{
    return (unsigned)k < SIM_KEY_KINDS ? key_names[k] : "?";
}

bool sim_key_parse(const char *s, sim_key_kind *out)
{
    for (int k = 0; k < SIM_KEY_KINDS; k++) {
        if (!strcmp(s, key_names[k])) {
            *out = (sim_key_kind)k;
            return true;
        }
    }
    return false;
}

/* ---- Drawing ---- */

static void add_stranger(sim_scenario *sc, uint64_t *rng)
{
    uint32_t span = (uint32_t)sc->frames * 1000u / SIM_FPS * 85u / 100u;
    sim_fault f;
    memset(&f, 0, sizeof(f));
    f.kind = SIM_STRANGER;
    f.b = 1 + (int)sim_below(rng, (uint32_t)sc->peers - 1); /* node 0 accepts nobody */
    /* A RESUME claims a peer the target accepted: one below it. */
    bool resume = sc->reconnect_ms && sim_below(rng, 2) == 0;
    f.stranger = resume ? SIM_STRANGER_RESUME : SIM_STRANGER_HELLO;
    /* HELLOs: another key in half of them (those reach the AUTH). */
    uint32_t k = sim_below(rng, 4);
    f.key = resume ? (k & 1 ? SIM_KEY_WRONG : SIM_KEY_NONE)
                   : k == 0 ? SIM_KEY_NONE : k == 3 ? SIM_KEY_RIGHT : SIM_KEY_WRONG;
    f.at_ms = sim_below(rng, 3) == 0 ? sim_below(rng, 100) : sim_below(rng, span);
    f.for_ms = sim_below(rng, 2) ? 0 : 200 + sim_below(rng, 5000);
    sim_scenario_add(sc, &f);
}

void sim_keys_draw(sim_scenario *sc)
{
    uint64_t rng = sc->seed ^ SIM_KEY_STREAM;
    if (sim_below(&rng, 100) >= SIM_KEY_PERCENT) {
        return;
    }
    snprintf(sc->key, sizeof(sc->key), "invite-%u", 1000u + sim_below(&rng, 9000));
    for (int i = 0; i < sc->num_faults; i++) {
        sim_fault *f = &sc->faults[i];
        if (f->kind == SIM_STRANGER && f->stranger == SIM_STRANGER_HELLO) {
            f->key = (sim_key_kind)sim_below(&rng, SIM_KEY_KINDS);
        }
    }
    /* More strangers: always where there are some (their run without
     * outsiders runs anyway), in one in four of the others (it doubles the
     * cost of a scenario). */
    bool shadowed = sim_scenario_strangers(sc) > 0;
    int more = shadowed || sim_below(&rng, 4) == 0 ? 1 + (int)sim_below(&rng, 2) : 0;
    for (int k = 0; k < more && sim_scenario_strangers(sc) < SIM_MAX_STRANGERS &&
                    sc->num_faults < SIM_MAX_FAULTS;
         k++) {
        add_stranger(sc, &rng);
    }
}

bool sim_keys_drop(sim_scenario *sc)
{
    if (!sc->key[0]) {
        return false;
    }
    sc->key[0] = '\0';
    for (int i = sc->num_faults - 1; i >= 0; i--) {
        sim_fault *f = &sc->faults[i];
        if (f->kind == SIM_STRANGER && f->stranger == SIM_STRANGER_RESUME) {
            sim_scenario_remove(sc, i);
        } else if (f->kind == SIM_STRANGER) {
            f->key = SIM_KEY_NONE;
        }
    }
    return true;
}

/* ---- The strangers ---- */

static bool stranger_key(const sim_world *w, sim_key_kind kind, uint8_t key[RN_AUTH_KEY_BYTES])
{
    char other[SIM_KEY_MAX + 8];
    snprintf(other, sizeof(other), "%s-old", w->sc->key);
    const char *secret = kind == SIM_KEY_RIGHT ? w->sc->key : other;
    return rn_auth_derive_key(secret, strlen(secret), key);
}

static void send_msg(sim_stranger *st, sim_world *w, const rn_msg *m)
{
    uint8_t out[RN_MAX_MESSAGE];
    size_t n = rn_encode(m, 0, out, sizeof(out));
    if (n > 0) {
        sim_stranger_send(st, w, out, n, ROLLNET_CHANNEL_RELIABLE);
    }
}

/* The claim of a keyed HELLO: a seat the target accepts (free or held), no
 * seat, or a seat a player holds for good (the target's own, one it dials). */
static uint32_t hello_claim(sim_stranger *st, const sim_world *w, sim_key_kind kind)
{
    int target = st->target, peers = w->sc->peers;
    uint32_t below = target > 0 ? 1u << sim_below(&st->rng, (uint32_t)target) : 1u << target;
    uint32_t above = (uint32_t)(peers - target - 1);
    uint32_t held = 1u << target;
    if (above && sim_below(&st->rng, 2)) {
        held = 1u << (target + 1 + (int)sim_below(&st->rng, above));
    }
    switch (kind) {
    case SIM_KEY_RIGHT: return held;
    case SIM_KEY_WRONG: {
        /* Mostly a claim that passes the HELLO, so that the AUTH decides. */
        uint32_t r = sim_below(&st->rng, 4);
        return r <= 1 ? 0 : r == 2 ? below : held;
    }
    default: return below;
    }
}

static void send_hello(sim_stranger *st, sim_world *w, const sim_fault *f)
{
    const sim_scenario *sc = w->sc;
    rn_msg m;
    sim_scenario_hello(sc, sim_rand(&st->rng), &m);
    rn_hello *h = &m.u.hello;
    h->keyed = f->key != SIM_KEY_NONE;
    h->player_mask = hello_claim(st, w, f->key);
    /* The right key comes with a held seat, in half of them with a wrong
     * parameter too; the others now and then with a wrong parameter. */
    bool wrong = sim_below(&st->rng, f->key == SIM_KEY_RIGHT ? 2 : 4) == 0;
    if (w->sabotage == 'k' && w->t_ms >= SIM_SABOTAGE_MS) {
        h->player_mask = 0; /* self-test: a spectator's claim, which the right key lets in */
        wrong = false;
    }
    if (wrong) {
        switch (sim_below(&st->rng, 4)) {
        case 0: h->input_size = sc->input_size + 1; break;
        case 1: h->fps = 30; break;
        case 2: h->game_id = SIM_GAME_ID + 1; break;
        default: h->seed = sc->seed + 1; break;
        }
    }
    st->hello_nonce = h->nonce;
    st->claim_mask = h->player_mask;
    st->sent_hello = true;
    send_msg(st, w, &m);
}

/* A RESUME: the claim of the place of player p (a peer the target accepted),
 * or the proof over the target's challenge. */
static void send_resume(sim_stranger *st, sim_world *w, const sim_fault *f, uint64_t challenge)
{
    const sim_scenario *sc = w->sc;
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_RESUME;
    rn_resume *r = &m.u.resume;
    if (!st->sent_claim) {
        int p = (int)sim_below(&st->rng, (uint32_t)st->target);
        st->claim_mask = 1u << p;
        /* Now and then a nonce the target never saw: refused at the claim. */
        st->hello_nonce = sim_node_nonce(sc->seed, p) + (sim_below(&st->rng, 4) == 0 ? 77u : 0u);
    }
    r->kind = st->sent_claim ? RN_RESUME_PROOF : RN_RESUME_CLAIM;
    r->nonce = st->hello_nonce;
    r->peer_nonce = sim_node_nonce(sc->seed, st->target);
    r->player_mask = st->claim_mask;
    r->challenge = challenge;
    uint8_t key[RN_AUTH_KEY_BYTES];
    if (st->sent_claim && f->key != SIM_KEY_NONE && stranger_key(w, f->key, key)) {
        r->has_proof = rn_auth_resume_proof(key, r->nonce, r->peer_nonce, r->player_mask,
                                            1u << st->target, challenge, r->proof);
        rn_auth_wipe(key);
    }
    st->sent_proof = st->sent_claim;
    st->sent_claim = true;
    send_msg(st, w, &m);
}

bool sim_keys_talk(sim_stranger *st, sim_world *w, const sim_fault *f)
{
    if (f->stranger == SIM_STRANGER_RESUME) {
        if (!st->sent_claim && st->target > 0) {
            send_resume(st, w, f, 0);
        }
        return true; /* one claim per connection; the proof answers the challenge */
    }
    if (f->stranger != SIM_STRANGER_HELLO) {
        return false;
    }
    if (!st->sent_hello) {
        send_hello(st, w, f); /* one per connection, as a peer's */
    }
    return true;
}

static const sim_fault *fault_of(const sim_world *w, const sim_stranger *st)
{
    int k = (int)(st - w->strangers);
    return &w->sc->faults[w->stranger_fault[k]];
}

static void on_auth(sim_stranger *st, sim_world *w, const sim_fault *f)
{
    st->got_auth = true;
    if (f->key == SIM_KEY_NONE) {
        sim_fail(w, 'k', "node %d proved the key to a stranger whose HELLO said it has none",
                 st->target);
        return;
    }
    if (!st->sent_hello || st->sent_auth) {
        return;
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_AUTH;
    uint8_t key[RN_AUTH_KEY_BYTES];
    if (stranger_key(w, f->key, key)) {
        rn_auth_proof(key, st->hello_nonce, sim_node_nonce(w->sc->seed, st->target),
                      st->claim_mask, 1u << st->target, m.u.auth.proof);
        rn_auth_wipe(key);
    }
    st->sent_auth = true;
    send_msg(st, w, &m);
}

static void on_refuse(sim_stranger *st, sim_world *w, const sim_fault *f, const rn_refuse *r)
{
    if (f->key == SIM_KEY_RIGHT && r->param == ROLLNET_PARAM_SESSION_KEY) {
        sim_fail(w, 'k', "node %d refused a stranger with the right key for the key", st->target);
    }
    if (st->refused) {
        return;
    }
    st->refused = true;
    if (st->sent_auth) {
        w->res->keyed_auth_refused++;
    } else {
        w->res->keyed_hello_refused++;
    }
}

void sim_keys_heard(sim_stranger *st, sim_world *w, const uint8_t *data, size_t size)
{
    rn_decoder dec;
    rn_msg m;
    if (rn_decoder_init(&dec, NULL) != ROLLNET_ERR_OK) {
        return;
    }
    const sim_fault *f = fault_of(w, st);
    if (rn_decode(&dec, data, size, 0, &m) == RN_DECODE_OK) {
        switch (m.type) {
        case RN_MSG_AUTH: on_auth(st, w, f); break;
        case RN_MSG_REFUSE: on_refuse(st, w, f, &m.u.refuse); break;
        case RN_MSG_RESUME:
            if (m.u.resume.kind == RN_RESUME_CHALLENGE && st->sent_claim && !st->sent_proof) {
                st->got_challenge = true;
                send_resume(st, w, f, m.u.resume.challenge);
            } else if (m.u.resume.kind == RN_RESUME_ACCEPT ||
                       m.u.resume.kind == RN_RESUME_PLAYED_ON) {
                sim_fail(w, 'k', "node %d took a stranger's RESUME (%s key, claim 0x%x) for a "
                                 "peer's",
                         st->target, sim_key_name(f->key), st->claim_mask);
            }
            break;
        case RN_MSG_READY:
        case RN_MSG_WATCH:
        case RN_MSG_STATE_HEAD:
        case RN_MSG_STATE_CHUNK:
            sim_fail(w, 'k', "node %d admitted a stranger (%s key, claim 0x%x): it sent it message "
                             "type %d",
                     st->target, sim_key_name(f->key), st->claim_mask, (int)m.type);
            break;
        default: break;
        }
    }
    rn_decoder_free(&dec);
}

void sim_keys_ended(sim_stranger *st, sim_world *w, bool by_target)
{
    if (st->ended) {
        return;
    }
    st->ended = true;
    st->ended_ms = w->t_ms;
    if (by_target && st->sent_claim && !st->refused && w->sc->key[0]) {
        st->refused = true;
        w->res->keyed_resume_refused++;
    }
}

/* ---- Oracle k: the peers' counters ---- */

static bool counts(const sim_world *w, int x, uint64_t out[3])
{
    const sim_node *n = &w->nodes[x];
    rollnet_session_stats st;
    if (!n->s || rollnet_session_stats_get(n->s, &st) != ROLLNET_ERR_OK) {
        return false;
    }
    out[0] = st.handshakes_refused;
    out[1] = st.handshakes_dropped;
    out[2] = st.resumes_refused;
    return true;
}

void sim_keys_end_of_tick(sim_world *w)
{
    static const char *const names[3] = {"handshakes_refused", "handshakes_dropped",
                                         "resumes_refused"};
    if (!w->sc->key[0] || !sim_checking(w, 'k')) {
        return;
    }
    for (int x = 0; x < w->sc->peers; x++) {
        uint64_t now[3];
        if (!counts(w, x, now)) {
            continue;
        }
        if (w->key_incarnation[x] != w->nodes[x].incarnation) {
            /* A restarted process (rejoin.c) counts from zero. */
            w->key_incarnation[x] = w->nodes[x].incarnation;
            memset(w->key_counts[x], 0, sizeof(w->key_counts[x]));
        }
        for (int c = 0; c < 3; c++) {
            if (now[c] < w->key_counts[x][c]) {
                sim_fail(w, 'k', "node %d: %s went back from %llu to %llu", x, names[c],
                         (unsigned long long)w->key_counts[x][c], (unsigned long long)now[c]);
            }
            w->key_counts[x][c] = now[c];
        }
    }
}

void sim_keys_end(sim_world *w)
{
    if (!w->sc->key[0] || !w->with_outsiders) {
        return;
    }
    for (int x = 0; x < w->sc->peers; x++) {
        for (int i = 0; i < w->nodes[x].log_count; i++) {
            w->res->keyed_resumed += w->nodes[x].log[i].ev.type == ROLLNET_EVENT_RESUMED;
        }
    }
    if (!sim_checking(w, 'k')) {
        return;
    }
    for (int x = 1; x < w->sc->peers; x++) {
        uint64_t now[3];
        if (w->nodes[x].state != SIM_NODE_ACTIVE || w->nodes[x].incarnation > 0 ||
            !counts(w, x, now)) {
            continue; /* a restarted process did not see its predecessor's strangers */
        }
        uint64_t ended = 0;
        for (int k = 0; k < SIM_MAX_STRANGERS; k++) {
            const sim_stranger *st = &w->strangers[k];
            ended += st->node > 0 && st->target == x && st->ended &&
                     st->ended_ms + SIM_KEY_SETTLE_MS <= w->t_ms;
        }
        if (now[0] + now[1] + now[2] < ended) {
            sim_fail(w, 'k', "node %d: %llu stranger connections ended, but it counts %llu "
                             "refused, %llu dropped and %llu resumes refused",
                     x, (unsigned long long)ended, (unsigned long long)now[0],
                     (unsigned long long)now[1], (unsigned long long)now[2]);
            return;
        }
    }
}
