/* The peer-to-peer session: the shared session plus peers over a transport.
 * Internal to the p2p_*.c files.
 *
 *   p2p_session.c    creation, poll (receive, dispatch, timers), time sync,
 *                    checksums, statistics
 *   p2p_handshake.c  incoming and outgoing connections, HELLO, REFUSE, AUTH;
 *                    joining
 *   p2p_start.c      READY, starting together, waiting for players
 *   p2p_inputs.c     the input exchange: INPUT out and in, acks
 *   p2p_leave.c      a peer that goes: departures and the survivors'
 *                    agreement on its last frame (LEAVE); closing after a failure
 *   p2p_episode.c    peers agree on where episodes end (EPISODE_MISMATCH)
 *   p2p_loading.c    loading notices
 *   p2p_busy.c       peers whose transport reports their game busy
 *   p2p_finish.c     finishing and leaving on purpose
 *   p2p_intro.c      a host introduces the peers it accepted (INTRO)
 *   p2p_reconnect.c  lost connections: reconnecting, RESUME
 *   p2p_spectators.c spectators: admitted, fed confirmed inputs, dropped
 *   p2p_rejoin.c     a crashed peer started again takes its place (rejoin)
 *   p2p_absent.c     3+ players: the survivors agree on a lost peer's last
 *                    frame before playing on without it or rejoining it (ABSENT)
 */
#ifndef RN_P2P_SESSION_H
#define RN_P2P_SESSION_H

#include "auth.h"
#include "confirm.h"
#include "link.h"
#include "p2p_intro.h"
#include "p2p_spectators.h"
#include "peer.h"
#include "session.h"
#include "state_transfer.h"

#define RN_MAX_EVENTS_PER_POLL 4096
#define RN_WAIT_EVENT_INTERVAL 60 /* frames between two WAIT_RECOMMENDED events */
#define RN_RETRY_MS 1000u         /* pause after a failed connect attempt */
#define RN_ATTEMPT_MS 10000u      /* longest one connect attempt (connection + HELLOs) may take */
#define RN_WAITING_EVENT_MS 5000u /* WAITING while players are missing */
#define RN_START_MAX_WAIT_MS 500u /* the most a start waits for a READY to arrive */
#define RN_INFO_EVERY_MS 50u      /* a live peer's transport figures (RTT...) are refreshed this often */
#define RN_RECONNECT_ATTEMPT_MS 3000u /* longest one reconnect attempt (connection + RESUMEs) may take */

typedef struct rn_p2p {
    rollnet_session base; /* first: a rollnet_session * is an rn_p2p * */
    rn_link link;
    rn_peer peers[RN_MAX_PEERS];
    int num_peers;
    int player_peer[ROLLNET_MAX_PLAYERS]; /* peer index of a claimed remote player, -1 */
    uint32_t remote_mask;   /* players on other machines */
    uint32_t incoming_mask; /* remote players without an address: they connect to us */
    uint64_t nonce;
    uint16_t tag;
    /* The session key (auth.h), derived at creation when desc.session_key
     * is set; base.desc keeps only session_key_size, as the flag "keyed". */
    uint8_t key[RN_AUTH_KEY_BYTES];
    bool polled;            /* the first poll issued the outgoing connects */
    uint64_t start_ms;
    bool missing_reported;  /* the handshake timeout named the players nobody claimed */
    uint64_t next_waiting_ms; /* since start_ms: the next WAITING event */
    bool closing;           /* stopped with an error: connections close soon */
    uint64_t left_since;    /* rollnet_session_leave was called then */
    bool left_done;         /* ... and LEFT was raised */
    rn_confirm confirm;
    int recommended_wait;
    uint64_t handshakes_refused, handshakes_dropped; /* strangers: see rollnet_session_stats */
    uint64_t resumes_refused; /* resume claims that did not hold (rollnet_session_stats) */
    uint64_t challenges;      /* RESUME challenges issued: each one once */
    bool loading_self;        /* this peer announced loading (sent again on a resume) */
    int32_t last_wait_event_frame;
    uint8_t *block_buf;     /* RN_MAX_INPUT_FRAMES * players * input_size */
    uint8_t leave_packed[RN_MAX_MESSAGE];
    rn_intro_state intro;   /* p2p_intro.c */
    rn_spectators spect;    /* p2p_spectators.c */
    /* desc.rejoin (p2p_rejoin.c): the state being received, and whether it
     * has been loaded. */
    rn_state_in rejoin_in;
    bool rejoined;
    int rejoins_owed; /* peers with rejoin_owed set */
} rn_p2p;

static inline rn_p2p *rn_p2p_of(rollnet_session *s)
{
    return (rn_p2p *)s;
}

/* The last frame of the peer's players that is confirmed here, or -1. */
static inline int32_t rn_p2p_peer_confirmed(const rn_p2p *p, const rn_peer *peer)
{
    int32_t c = RN_IQ_CONFIRMED_FOREVER;
    for (int q = 0; q < p->base.desc.num_players; q++) {
        if (peer->player_mask & (1u << q)) {
            int32_t last = p->base.sync.queues[q].last_confirmed;
            c = last < c ? last : c;
        }
    }
    return c == RN_IQ_CONFIRMED_FOREVER ? -1 : c;
}
/* Remote peers that host players of this session (strangers not counted). */
static inline int rn_p2p_player_peers(const rn_p2p *p)
{
    int n = 0;
    for (int i = 0; i < p->num_peers; i++) {
        n += p->peers[i].player_mask != 0;
    }
    return n;
}
/* Peers exchanging inputs, as a mask of peer indices. */
uint32_t rn_p2p_live_peers(const rn_p2p *p);
/* Live peers that are processes rejoining here and have not played yet
 * (their state owed, or no input since it went out). */
uint32_t rn_p2p_rejoining_peers(const rn_p2p *p);
rn_peer *rn_p2p_peer_by_tp(rn_p2p *p, int tp);
/* p2p_loading.c. The peer is back from loading: normal timeouts again,
 * LOADING_ENDED. A peer's LOADING notice; this peer's own. */
void rn_p2p_loading_ended(rn_p2p *p, rn_peer *peer);
void rn_p2p_on_loading(rn_p2p *p, rn_peer *peer, const rn_loading *l);
rollnet_error rn_p2p_set_loading(rollnet_session *s, bool loading);
/* This side's LOADING notice as it stands (sent on a change, again on a
 * resume, and to a peer that rejoins while this side loads). */
void rn_p2p_loading_notice(const rn_p2p *p, rn_msg *m);

/* p2p_busy.c. The transport reports a peer's game busy (PEER_BUSY). A
 * message from the peer: true when that ends a busy spell (the caller
 * raises RESUMED). A live peer's timers: true when the busy rules replace
 * the silence rules this time (it is busy and its reports are fresh, or it
 * was just dropped past busy_timeout_ms). */
void rn_p2p_on_busy(rn_p2p *p, const rollnet_transport_event *ev);
bool rn_p2p_busy_end(rn_p2p *p, rn_peer *peer);
bool rn_p2p_busy_timers(rn_p2p *p, rn_peer *peer);

/* p2p_handshake.c */
void rn_p2p_connect_all(rn_p2p *p);
/* Start dialling an outgoing peer (its address and players set): the first
 * attempt now, then attempts until join_timeout_ms. */
void rn_p2p_dial(rn_p2p *p, rn_peer *peer);
/* An outgoing connection failed before the handshake was done (closed by
 * the transport, or its attempt timed out): try again after RN_RETRY_MS
 * while join_timeout_ms allows, else the peer is gone (NO_ANSWER when no
 * attempt was ever answered). False when `peer` is not such a peer. */
bool rn_p2p_connect_failed(rn_p2p *p, rn_peer *peer, bool close);
/* An outgoing peer this side accepted whose connection closed before the
 * session ran and before it sent an input: the other side may not have
 * accepted us, so a RESUME could not work; dial it again with a HELLO
 * (the other side takes it as the same peer starting its handshake again).
 * False when `peer` is not such a peer. */
bool rn_p2p_redial_before_start(rn_p2p *p, rn_peer *peer, bool close);
/* An outgoing peer not yet handshaken: the next attempt, or one taking too long. */
void rn_p2p_connecting_timers(rn_p2p *p, rn_peer *peer);
void rn_p2p_on_connected(rn_p2p *p, int tp);
void rn_p2p_on_hello(rn_p2p *p, rn_peer *peer, const rn_hello *h);
void rn_p2p_on_refuse(rn_p2p *p, rn_peer *peer, const rn_refuse *r);
void rn_p2p_on_ready(rn_p2p *p, rn_peer *peer, const rn_ready *r);
/* This side's HELLO to `peer` (rejoin set only until a rejoin's state is loaded). */
void rn_p2p_send_hello(rn_p2p *p, rn_peer *peer);
/* READY to `peer`: this side accepted it, so long ago. */
void rn_p2p_send_ready(rn_p2p *p, rn_peer *peer, rollnet_channel ch);
/* Before running: READY to every accepted peer (unreliably), and run once
 * the moment to start together has come. */
void rn_p2p_starting_timers(rn_p2p *p);
/* Every peer accepted and ready, and the moment to start together come:
 * the session runs. Called again from the timers until then. */
void rn_p2p_check_running(rn_p2p *p);
/* A private session: the peer's proof of the key. It becomes a peer when
 * the proof verifies and is refused (ROLLNET_PARAM_SESSION_KEY) when not. */
void rn_p2p_on_auth(rn_p2p *p, rn_peer *peer, const rn_auth *a);
/* Once the handshake timeout has passed without every remote player
 * claimed: one DISCONNECTED naming the first missing player, and the
 * session stops with ROLLNET_ERR_DISCONNECTED. */
void rn_p2p_report_missing(rn_p2p *p);

/* The peer's game ends episodes at other frames: the session stops, with
 * EPISODE_MISMATCH; `tell` sends the peer a REFUSE naming EPISODE_ENDS. */
void rn_p2p_episode_mismatch(rn_p2p *p, rn_peer *peer, int32_t theirs, bool tell);

/* p2p_episode.c: an INPUT's episode label against the episodes here. */
void rn_p2p_check_episode_label(rn_p2p *p, rn_peer *peer, const rn_input *in);

/* p2p_inputs.c */
void rn_p2p_send_inputs(rn_p2p *p, rn_peer *peer);
void rn_p2p_on_input(rn_p2p *p, rn_peer *peer, const rn_input *in, bool stale);

/* p2p_finish.c: the ops of finishing, a FINISH received, and a peer that
 * closes after it finished (true: it counts as done, no departure). */
void rn_p2p_finish_tell(rollnet_session *s, bool done);
bool rn_p2p_finish_heard(const rollnet_session *s, bool done, int32_t *max_stop,
                         int32_t *min_inputs_end);
void rn_p2p_on_finish(rn_p2p *p, rn_peer *peer, const rn_finish *f);
/* A live peer has finished: this session finishes too, once it runs. */
void rn_p2p_finish_follow(rn_p2p *p);
bool rn_p2p_finish_departure(rn_p2p *p, rn_peer *peer);

/* p2p_finish.c: leaving on purpose (rollnet_session_leave); a peer's
 * LEAVE about itself; on this side after leaving, a peer that closes
 * (true: it goes quietly); all gone or timed out: LEFT. */
rollnet_error rn_p2p_leave(rollnet_session *s);
void rn_p2p_on_own_leave(rn_p2p *p, rn_peer *from, const rn_leave *l);
bool rn_p2p_left_departure(rn_p2p *p, rn_peer *peer);
void rn_p2p_left_check(rn_p2p *p);

/* p2p_reconnect.c: lost connections. Whether reconnection is on; a live
 * peer's connection is lost (closed by the transport, or silent): keep it
 * and reconnect, or, when that is off or makes no sense, the peer is gone
 * with `reason` (rn_p2p_peer_gone, closing the transport when `close`);
 * a lost peer's timers (attempts, the window); a lost peer's attempt
 * closed by the transport; a transport connection that is a lost peer's
 * attempt (true: CLAIM sent); a RESUME from `conn`. */
bool rn_p2p_reconnects(const rn_p2p *p);
void rn_p2p_connection_lost(rn_p2p *p, rn_peer *peer, rollnet_disconnect_reason reason, bool close);
void rn_p2p_lost_timers(rn_p2p *p, rn_peer *peer);
void rn_p2p_attempt_closed(rn_p2p *p, rn_peer *peer);
bool rn_p2p_reconnect_connected(rn_p2p *p, int tp);
/* An incoming HELLO from `conn` with the nonce and players of a live peer
 * this side accepted: that peer lost its connection before it had accepted
 * us and starts its handshake again (it sends no RESUME: it never ran with
 * us). The peer, or NULL. Releasing it (NULL: nothing) frees its place,
 * without an event, for `conn` once its handshake is done. */
rn_peer *rn_p2p_handshake_again(rn_p2p *p, const rn_peer *conn, uint64_t nonce, uint32_t mask);
void rn_p2p_release_for_handshake(rn_p2p *p, rn_peer *old);
void rn_p2p_on_resume(rn_p2p *p, rn_peer *conn, const rn_resume *r);
/* The connection to `peer` is back (a resume, or a rejoin's state sent):
 * play goes on from where it was. */
void rn_p2p_resumed(rn_p2p *p, rn_peer *peer);

/* p2p_rejoin.c. Whether a crashed peer may rejoin here; how long a lost
 * peer is kept (the longer of the reconnect and rejoin windows). Creation
 * and destruction (desc.rejoin: the state's buffer). A matching HELLO with
 * `rejoin` from `conn`: false when refused (ROLLNET_PARAM_REJOIN), else the
 * peer it replaces is noted and, once any AUTH verifies, the connection
 * takes its place (accept). A rejoin HELLO on a lost peer's own reconnect
 * attempt. Timers: the owed states. The rejoining side: a STATE_HEAD or
 * STATE_CHUNK. */
bool rn_p2p_rejoins(const rn_p2p *p);
uint32_t rn_p2p_hold_ms(const rn_p2p *p);
rollnet_error rn_p2p_rejoin_init(rn_p2p *p);
void rn_p2p_rejoin_free(rn_p2p *p);
bool rn_p2p_rejoin_claim(rn_p2p *p, rn_peer *conn, const rn_hello *h);
void rn_p2p_rejoin_accept(rn_p2p *p, rn_peer *conn);
void rn_p2p_rejoin_on_attempt(rn_p2p *p, rn_peer *peer, const rn_hello *h);
/* An incoming connection whose rejoin claim waits (a public session, its
 * peer silent but not lost yet): accepted once the peer is lost, refused
 * when it is heard again. False when `conn` is no such connection. */
bool rn_p2p_rejoin_waiting(rn_p2p *p, rn_peer *conn);
void rn_p2p_rejoin_timers(rn_p2p *p);
/* A resume of `peer` before its rejoin is known to be complete: this side
 * owes the state again, or (the rejoining side) expects it again. */
void rn_p2p_rejoin_resumed(rn_p2p *p, rn_peer *peer);
void rn_p2p_on_state(rn_p2p *p, rn_peer *peer, const rn_msg *m);
/* Inputs flow to and from the peer: not while a rejoin's state is owed to
 * it, nor, on the rejoining side, before that state is loaded. */
static inline bool rn_p2p_inputs_flow(const rn_p2p *p, const rn_peer *peer)
{
    return !peer->lost && !peer->rejoin_owed && (!p->base.desc.rejoin || p->rejoined);
}

/* p2p_absent.c. Whether this session agrees on lost peers (3+ players
 * that take rejoins). This side's note about `lost` (its loss, or the
 * rejoining process it accepted), sent to the other survivors. A note
 * received. Whether the survivors agree on `lost`'s frames for the note
 * this side sent, every input before the agreed next frame held here (then
 * `lost`'s confirmed frame is the agreed last). The timers of a lost peer
 * (absent_play NEUTRAL: the note, then playing on once agreed). */
bool rn_p2p_agreeing(const rn_p2p *p);
void rn_p2p_absent_note(rn_p2p *p, rn_peer *lost);
void rn_p2p_on_absent(rn_p2p *p, rn_peer *from, const rn_absent *a);
bool rn_p2p_absent_agreed(rn_p2p *p, rn_peer *lost);
void rn_p2p_absent_timers(rn_p2p *p, rn_peer *lost);
/* This side plays `peer`'s players neutral now (absent_play NEUTRAL). */
bool rn_p2p_plays_on_without(const rn_p2p *p, const rn_peer *peer);
/* A survivor's connection is regained: the notes this side sent go to it again. */
void rn_p2p_absent_resend(rn_p2p *p, rn_peer *to);
/* The state went out: the notes of this rejoin are used. */
void rn_p2p_absent_done(rn_p2p *p, rn_peer *lost);

/* p2p_leave.c */
/* The newest inputs of `players` ending at `last` (as many as fit, from the
 * queues' tails), compressed into leave_packed: their count, and the
 * packed size. */
int32_t rn_p2p_pack_last(rn_p2p *p, uint32_t players, int32_t last, size_t *packed);
/* Confirm the inputs a LEAVE or ABSENT carries (frames last-count+1..last
 * of `mask`); false when the data is malformed. */
bool rn_p2p_take_inputs(rn_p2p *p, uint32_t mask, int32_t last, int32_t count,
                        const uint8_t *data, size_t size);
/* Tell every live peer the last frame held of `players` (a departed peer's,
 * or this peer's own when it leaves), with those inputs (as many of the
 * newest as fit). */
void rn_p2p_send_leave(rn_p2p *p, uint32_t players, int32_t last, bool left, int32_t fin_stop,
                       int32_t fin_end);
/* A LEAVE notice's FINISH values of the departed peer, when we lack them. */
static inline void rn_p2p_take_leave_finish(rn_peer *gone, const rn_leave *l)
{
    if (gone->fin_end < 0 && l->fin_end >= 0) {
        gone->fin_stop = l->fin_stop;
        gone->fin_end = l->fin_end;
    }
}
/* Store the inputs a LEAVE carries; false when its data is malformed. */
bool rn_p2p_take_leave_inputs(rn_p2p *p, const rn_leave *l);
void rn_p2p_peer_gone(rn_p2p *p, rn_peer *peer, rollnet_disconnect_reason reason,
                      bool close_transport);
void rn_p2p_on_leave(rn_p2p *p, rn_peer *from, const rn_leave *l);
/* Settle departures whose agreement is complete or timed out. */
void rn_p2p_finish_leaves(rn_p2p *p);
/* Stopped with an error: every connection closes a second from now. */
void rn_p2p_close_after_failure(rn_p2p *p);
/* A closing peer's time is up: closed, GONE, no event. True when it was. */
bool rn_p2p_close_due(rn_p2p *p, rn_peer *peer);

/* p2p_intro.c. After the peers are set up: whether this session
 * introduces, and which players an INTRO may name. From the timers: a
 * joiner's INTRO_ASK to the peers it dialled, a host's introductions. An
 * INTRO, an INTRO_ASK received. */
void rn_p2p_intro_init(rn_p2p *p);
void rn_p2p_intro_timers(rn_p2p *p);
void rn_p2p_on_intro(rn_p2p *p, rn_peer *from, const rn_intro *in);
void rn_p2p_on_intro_ask(rn_p2p *p, rn_peer *from, const rn_intro_ask *a);

/* p2p_spectators.c. Creation (max_spectators slots) and destruction (their
 * connections close). A matching HELLO that claims no player: false when
 * there is no room (it is refused, SESSION_FULL). Admit it (its HELLO, and
 * AUTH with a key, are good): it moves to the spectators' table. A
 * transport event of a connection that is no peer: true when a spectator's.
 * Timers. Before inputs before `keep` are discarded: what is due goes out.
 * Figures. */
rollnet_error rn_p2p_spectators_init(rn_p2p *p);
void rn_p2p_spectators_free(rn_p2p *p);
bool rn_p2p_spectator_room(rn_p2p *p, rn_peer *peer);
void rn_p2p_spectator_admit(rn_p2p *p, rn_peer *peer);
bool rn_p2p_spectator_event(rn_p2p *p, const rollnet_transport_event *ev);
void rn_p2p_spectators_timers(rn_p2p *p);
void rn_p2p_spectators_send(rn_p2p *p, int32_t keep);
void rn_p2p_spectators_stats(const rn_p2p *p, rollnet_session_stats *out);
/* p2p_handshake.c: refuse a peer in its handshake (REFUSE, then closed). */
void rn_p2p_refuse(rn_p2p *p, rn_peer *peer, rollnet_param param, int64_t local, int64_t remote);

/* p2p_setup.c: the P2P checks of a desc (a transport, players on both
 * sides), and one peer per distinct address (remote players without one
 * connect to us), each address checked by the transport. */
rollnet_error rn_p2p_desc_check(const rollnet_session_desc *d);
rollnet_error rn_p2p_setup_peers(rn_p2p *p, const rollnet_session_desc *d);

#endif
