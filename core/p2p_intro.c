/* Host introduction (p2p_intro.h): the host tells the peers it accepted
 * where the others are; a joiner dials those it should, and the ordinary
 * handshake decides who gets in. */
#include <string.h>

#include "bits.h"
#include "p2p_session.h"

void rn_p2p_intro_init(rn_p2p *p)
{
    rn_intro_state *st = &p->intro;
    memset(st, 0, sizeof(*st));
    /* A session with an address for nobody is a host: it introduces. One
     * with an address for somebody is a joiner: an INTRO may name the
     * players it has no address for. */
    st->introducer = p->incoming_mask == p->remote_mask;
    st->open_mask = st->introducer ? 0 : p->incoming_mask;
    for (int i = 0; i < p->num_peers; i++) {
        if (p->peers[i].outgoing) {
            st->configured |= 1u << i;
        }
    }
}

static void ignore_msg(rn_p2p *p, rn_peer *from, const char *what, uint32_t mask,
                       const char *address, const char *why)
{
    rn_intro_state *st = &p->intro;
    from->st.dropped_malformed++;
    st->ignored++;
    if (!st->ignored_logged) {
        st->ignored_logged = true; /* a peer that repeats it must not flood the log */
        rn_logf(&p->base.events, ROLLNET_LOG_WARN,
                "%s from peer %d (player %d) ignored: %s (players 0x%x%s%.127s); further ones "
                "are only counted",
                what, from->index, rn_peer_event_player(from), why, (unsigned)mask,
                address[0] ? " at " : "", address);
    }
}

/* ------------------------------------------------------------------------ */
/* A joiner: asking                                                          */
/* ------------------------------------------------------------------------ */

/* Once to each peer the desc gave an address, once it is handshaken: the
 * players this side has no address for. */
static void ask_timers(rn_p2p *p)
{
    rn_intro_state *st = &p->intro;
    if (st->open_mask == 0) {
        return;
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *peer = &p->peers[i];
        if (!(st->configured & (1u << i)) || !rn_peer_live(peer) || peer->player_mask == 0 ||
            st->ask_sent[i] == peer->nonce) {
            continue;
        }
        st->ask_sent[i] = peer->nonce;
        rn_msg m;
        memset(&m, 0, sizeof(m));
        m.type = RN_MSG_INTRO_ASK;
        m.u.intro_ask.tag = p->tag;
        m.u.intro_ask.player_mask = st->open_mask;
        rn_link_send(&p->link, peer, &m, ROLLNET_CHANNEL_RELIABLE, p->base.now);
    }
}

void rn_p2p_on_intro_ask(rn_p2p *p, rn_peer *from, const rn_intro_ask *a)
{
    if (!p->intro.introducer) {
        return; /* a joiner that dialled us asks its host too: not ours to answer */
    }
    if (from->outgoing || !rn_peer_live(from) || from->player_mask == 0 ||
        (a->player_mask & ~p->remote_mask) != 0 || (a->player_mask & from->player_mask) != 0) {
        ignore_msg(p, from, "INTRO_ASK", a->player_mask, "",
                   "not from a peer handshaken with us, or naming players it may not");
        return;
    }
    p->intro.asked[from->index].nonce = from->nonce;
    p->intro.asked[from->index].mask = a->player_mask;
}

/* ------------------------------------------------------------------------ */
/* The host: introducing                                                     */
/* ------------------------------------------------------------------------ */

/* A peer this host accepted and handshook with. */
static bool introducible(const rn_peer *peer)
{
    return !peer->outgoing && rn_peer_live(peer) && peer->player_mask != 0;
}

/* Peer `who` asked for all of `players`. */
static bool asked_for(const rn_p2p *p, const rn_peer *who, uint32_t players)
{
    const rn_intro_asked *a = &p->intro.asked[who->index];
    return a->nonce == who->nonce && (a->mask & players) == players;
}

static void introduce(rn_p2p *p, rn_peer *to, rn_peer *about)
{
    rollnet_session *s = &p->base;
    rn_intro_pair *pair = &p->intro.pairs[to->index][about->index];
    pair->to = to->nonce;
    pair->about = about->nonce;
    pair->told = true;
    rollnet_transport_peer_info info;
    memset(&info, 0, sizeof(info));
    const rollnet_transport_vtable *vt = p->link.transport.vtable;
    if (!vt->peer_info || vt->peer_info(p->link.transport.self, about->tp, &info) != ROLLNET_ERR_OK) {
        info.address[0] = '\0';
    }
    info.address[sizeof(info.address) - 1] = '\0';
    size_t len = strlen(info.address);
    if (len == 0 || len > RN_INTRO_ADDRESS_MAX) {
        rn_logf(&s->events, ROLLNET_LOG_WARN,
                "player %d cannot be introduced to player %d: the transport does not tell "
                "its address",
                rn_peer_event_player(about), rn_peer_event_player(to));
        return;
    }
    rn_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RN_MSG_INTRO;
    m.u.intro.tag = p->tag;
    m.u.intro.player_mask = about->player_mask;
    m.u.intro.address = info.address;
    m.u.intro.address_len = (uint32_t)len;
    rn_link_send(&p->link, to, &m, ROLLNET_CHANNEL_RELIABLE, s->now);
    rn_logf(&s->events, ROLLNET_LOG_INFO, "introduced player %d (at %s) to player %d",
            rn_peer_event_player(about), info.address, rn_peer_event_player(to));
}

void rn_p2p_intro_timers(rn_p2p *p)
{
    if (p->base.failed != ROLLNET_ERR_OK) {
        return;
    }
    if (!p->intro.introducer) {
        ask_timers(p);
        return;
    }
    if (p->base.desc.num_players < 3) {
        return; /* one joiner at most: nobody to introduce it to */
    }
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *to = &p->peers[i];
        if (!introducible(to)) {
            continue;
        }
        for (int j = 0; j < p->num_peers; j++) {
            rn_peer *about = &p->peers[j];
            const rn_intro_pair *pair = &p->intro.pairs[i][j];
            if (j == i || !introducible(about) ||
                (pair->told && pair->to == to->nonce && pair->about == about->nonce) ||
                !asked_for(p, to, about->player_mask) || !asked_for(p, about, to->player_mask)) {
                continue;
            }
            introduce(p, to, about);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* A joiner: being introduced                                                */
/* ------------------------------------------------------------------------ */

/* An INTRO with its address as a string. */
typedef struct intro_text {
    uint32_t player_mask;
    char address[RN_INTRO_ADDRESS_MAX + 1];
} intro_text;

static void ignore(rn_p2p *p, rn_peer *from, const intro_text *in, const char *why)
{
    ignore_msg(p, from, "INTRO", in->player_mask, in->address, why);
}

/* Players some peer holds or is dialling, or that left: nothing to do. */
static bool already_handled(const rn_p2p *p, uint32_t mask)
{
    const rollnet_session *s = &p->base;
    for (int q = 0; q < s->desc.num_players; q++) {
        if ((mask & (1u << q)) && s->sync.queues[q].disconnected_from >= 0) {
            return true;
        }
    }
    for (int i = 0; i < p->num_peers; i++) {
        const rn_peer *q = &p->peers[i];
        bool holds = rn_peer_live(q) || q->state == RN_PEER_LEAVING ||
                     (q->outgoing && q->state != RN_PEER_GONE && q->state != RN_PEER_EMPTY);
        /* An incoming one proving the key holds what its HELLO claimed. */
        uint32_t held = holds ? q->player_mask : 0;
        if (q->state == RN_PEER_HANDSHAKE && q->hello_ok) {
            held |= q->claim_mask;
        }
        if (held & mask) {
            return true;
        }
    }
    return false;
}

/* A slot for a new outgoing peer: a free one, else one a stranger left,
 * else the oldest stranger still in its handshake makes room. */
static rn_peer *dial_slot(rn_p2p *p)
{
    if (p->num_peers < RN_MAX_PEERS) {
        return &p->peers[p->num_peers++];
    }
    rn_peer *oldest = NULL;
    for (int i = 0; i < p->num_peers; i++) {
        rn_peer *q = &p->peers[i];
        if (rn_peer_stranger(q) && q->state == RN_PEER_GONE && q->tp < 0) {
            return q;
        }
        if (rn_peer_stranger(q) && q->state == RN_PEER_HANDSHAKE &&
            (!oldest || q->since_ms < oldest->since_ms)) {
            oldest = q;
        }
    }
    if (oldest) {
        rn_p2p_peer_gone(p, oldest, ROLLNET_DISCONNECT_CLOSED, true);
    }
    return oldest;
}

static void dial(rn_p2p *p, uint32_t mask, const char *address)
{
    rollnet_session *s = &p->base;
    rn_peer *peer = dial_slot(p);
    if (!peer) {
        rn_logf(&s->events, ROLLNET_LOG_ERROR, "no slot to dial player %d at %s",
                rn_lowest_player(mask), address);
        return;
    }
    int idx = (int)(peer - p->peers);
    rn_peer_reset(peer, idx);
    rn_confirm_forget_peer(&p->confirm, idx);
    peer->outgoing = true;
    peer->player_mask = mask;
    memcpy(peer->address, address, strlen(address) + 1);
    /* Only this connection may hold them now. */
    p->incoming_mask &= ~mask;
    for (int q = 0; q < s->desc.num_players; q++) {
        if (mask & (1u << q)) {
            p->player_peer[q] = idx;
        }
    }
    rn_logf(&s->events, ROLLNET_LOG_INFO, "introduced to player %d at %s: dialling it",
            rn_lowest_player(mask), address);
    rn_p2p_dial(p, peer);
}

/* The transport takes the INTRO's address (check_address); else it is
 * ignored, saying why. */
static bool address_ok(rn_p2p *p, rn_peer *from, const intro_text *in)
{
    const rollnet_transport_vtable *vt = p->link.transport.vtable;
    char why[128] = "";
    if (vt->check_address &&
        vt->check_address(p->link.transport.self, in->address, why, sizeof(why)) != ROLLNET_ERR_OK) {
        why[sizeof(why) - 1] = '\0';
        ignore(p, from, in, why[0] ? why : "the transport refuses the address");
        return false;
    }
    return true;
}

/* A peer this side asked for introductions; or, on a process that rejoins,
 * one it will ask (its desc gave the address): the host may answer before
 * the question, since it takes the crashed process's. */
static bool asked_host(const rn_p2p *p, const rn_peer *from)
{
    const rn_intro_state *st = &p->intro;
    return st->ask_sent[from->index] == from->nonce ||
           (p->base.desc.rejoin && !p->base.running && (st->configured & (1u << from->index)));
}

/* An INTRO from the host this side asked, about the players of a peer it
 * dialled and has lost: that peer's process was started again (a rejoin)
 * and may listen elsewhere now. The next reconnect attempt dials the new
 * address; the handshake (a rejoin HELLO) still decides. True when it was
 * such an INTRO. */
static bool readdress(rn_p2p *p, rn_peer *from, const intro_text *in)
{
    const rn_intro_state *st = &p->intro;
    rn_peer *lost = NULL;
    for (int i = 0; i < p->num_peers && !lost; i++) {
        rn_peer *q = &p->peers[i];
        if (q->outgoing && q->lost && rn_peer_live(q) && q->player_mask == in->player_mask) {
            lost = q;
        }
    }
    if (!lost || !asked_host(p, from) ||
        (in->player_mask & ~st->open_mask) != 0 || strcmp(lost->address, in->address) == 0) {
        return lost != NULL;
    }
    if (!address_ok(p, from, in)) {
        return true;
    }
    memcpy(lost->address, in->address, strlen(in->address) + 1);
    rn_logf(&p->base.events, ROLLNET_LOG_INFO,
            "player %d, whose connection is lost, is now at %s (its host says): dialling it there",
            rn_lowest_player(in->player_mask), in->address);
    return true;
}

void rn_p2p_on_intro(rn_p2p *p, rn_peer *from, const rn_intro *msg)
{
    rollnet_session *s = &p->base;
    const rn_intro_state *st = &p->intro;
    /* The decoder checked the length and that no NUL is inside. */
    intro_text text;
    text.player_mask = msg->player_mask;
    memcpy(text.address, msg->address, msg->address_len);
    text.address[msg->address_len] = '\0';
    const intro_text *in = &text;
    if (!from->outgoing || !rn_peer_live(from) || from->player_mask == 0) {
        ignore(p, from, in, "not from a peer this side dialled and handshook with");
        return;
    }
    if (s->failed != ROLLNET_ERR_OK) {
        return; /* stopped: nobody new is dialled */
    }
    uint32_t mask = in->player_mask;
    if ((mask & ~p->remote_mask) != 0 || (mask & from->player_mask) != 0) {
        ignore(p, from, in, "it names a player that is local here, the sender's own, or none");
        return;
    }
    if (readdress(p, from, in)) {
        return;
    }
    if ((mask & st->open_mask) == 0 || already_handled(p, mask)) {
        /* Players with an address of their own, or held already (the peer
         * dialled us first): the introduction is not needed. */
        rn_logf(&s->events, ROLLNET_LOG_DEBUG, "INTRO of player %d: already known",
                rn_lowest_player(mask));
        return;
    }
    /* Only a host this side asked (or is about to ask: one the desc gave
     * an address for) answers: a joiner it dialled as introduced must not
     * point it elsewhere. */
    if (!asked_host(p, from)) {
        ignore(p, from, in, "not from a peer this side asked (only its host introduces)");
        return;
    }
    if ((mask & ~st->open_mask) != 0) {
        ignore(p, from, in, "it names players with an address of their own");
        return;
    }
    if (!address_ok(p, from, in)) {
        return;
    }
    /* One side of each pair dials: the one whose lowest player is higher. */
    if (rn_lowest_player(s->local_mask) > rn_lowest_player(mask)) {
        dial(p, mask, in->address);
    } else {
        rn_logf(&s->events, ROLLNET_LOG_INFO,
                "introduced to player %d at %s: waiting for it to connect", rn_lowest_player(mask),
                in->address);
    }
}
