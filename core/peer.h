/* One remote endpoint of a peer-to-peer session: its connection state
 * machine, its timers and its statistics. Internal.
 *
 *   EMPTY ─► CONNECTING ─► HANDSHAKE ─► RUNNING ◄─► INTERRUPTED
 *               │  (incoming)  ▲ │          │            │
 *               │  ────────────┘ │          ▼            ▼
 *               └────────────────┴──────► LEAVING ─────► GONE
 *                                  (refused, timed out, closed)
 *
 * CONNECTING: an outgoing connect was issued. HANDSHAKE: the transport is
 * connected and our HELLO is out. RUNNING: the HELLOs matched; inputs flow.
 * INTERRUPTED: running, but silent for notify_timeout_ms. LEAVING: a running
 * peer left a 3+ player session and the survivors are agreeing on its last
 * frame (the departure fields below). GONE: for good.
 *
 * Every change of state goes through rn_peer_set_state, which logs it. */
#ifndef RN_PEER_H
#define RN_PEER_H

#include "bits.h"
#include "events.h"
#include "protocol.h"
#include "rollnet/rollnet.h"
#include "timesync.h"

/* Slots for incoming connections still in their handshake, beyond one per
 * player: strangers never take a player's slot (invariant 9). */
#define RN_PENDING_SLOTS 8
#define RN_MAX_PEERS (ROLLNET_MAX_PLAYERS + RN_PENDING_SLOTS)
/* An incoming connection that has not claimed a player by then is dropped. */
#define RN_PENDING_TIMEOUT_MS 3000

typedef enum rn_peer_state {
    RN_PEER_EMPTY = 0,
    RN_PEER_CONNECTING,
    RN_PEER_HANDSHAKE,
    RN_PEER_RUNNING,
    RN_PEER_INTERRUPTED,
    RN_PEER_LEAVING,
    RN_PEER_GONE
} rn_peer_state;

typedef struct rn_peer {
    rn_peer_state state;
    int index;             /* slot in the session's peer table, for logs */
    int tp;                /* transport peer id, -1 none */
    uint32_t player_mask;  /* remote players this peer hosts */
    bool outgoing;
    char address[128];
    uint64_t nonce;
    uint16_t tag;
    uint64_t since_ms;     /* connect issued / connected */
    /* Outgoing: the first connect, when to try again (tp < 0), attempts made,
     * and whether any attempt reached the handshake. */
    uint64_t first_attempt_ms, next_attempt_ms;
    int attempts;
    bool answered;
    /* Starting together: when we accepted it; whether a READY (it accepted
     * us) came, and when it accepted us as its READYs tell (the earliest). */
    uint64_t admitted_ms, accepted_us_ms;
    bool ready;
    uint64_t last_recv_ms;
    /* When its transport figures were last read, and for which connection. */
    uint64_t info_at_ms;
    int info_tp;
    uint64_t last_input_send_ms;
    uint32_t input_sends;  /* INPUT messages sent to it; every RN_INPUT_FULL_EVERY-th repeats all */
    bool loading;
    int32_t loading_frame; /* newest remote frame seen when loading began */
    /* Its transport reports its game busy (p2p_busy.c): since when its game
     * has not polled (our clock), the last report, the last PEER_BUSY event. */
    struct {
        bool on;
        uint64_t since_ms, heard_ms, event_ms;
    } busy;
    uint64_t close_at_ms;  /* a refused peer's connection closes then (0: not pending) */
    int32_t ack;           /* the peer's last confirmed frame of our inputs */
    int32_t remote_frame;  /* the peer's next frame, as its inputs tell */
    int32_t remote_advantage;
    int32_t local_advantage;
    rn_timesync ts;
    rollnet_peer_stats st;
    uint64_t rate_start_ms, rate_sent_base, rate_recv_base;
    /* LEAVING: the highest last frame any survivor holds of its players, the
     * survivors (by peer index) whose notice is needed (every survivor live
     * when it went) and those whose notice arrived, since when, and why.
     * Once settled (GONE), leave_last is the last frame played with its
     * inputs, told again to a survivor whose connection is regained. */
    int32_t leave_last;
    bool leave_settled; /* GONE after a departure agreed here, neutral after leave_last */
    uint32_t leave_need;
    uint32_t leave_heard;
    uint64_t leave_since;
    rollnet_disconnect_reason leave_reason;
    /* Its inputs still name an episode that ended here, for frames it could
     * not have reached without ending it too: since when (valid if lagging). */
    bool label_lagging;
    uint64_t label_lag_since;
    /* FINISH: where it stopped and where its players' inputs end (-1: it has
     * not said), and whether it has everything before the session's end. */
    int32_t fin_stop, fin_end;
    bool fin_done;
    /* HANDSHAKE in a private session: its HELLO matched, claiming these
     * players; it holds them once its AUTH verifies (until then it is
     * still a stranger if it connected to us). */
    bool hello_ok;
    uint32_t claim_mask;
    /* A running peer whose connection is lost (p2p_reconnect.c): it stays
     * INTERRUPTED and keeps everything, without a connection (tp < 0) or
     * with a new attempt's that has not resumed yet. Since when; attempts
     * made (the side that dials), when the current one began, when the next
     * may start. */
    bool lost;
    uint64_t lost_since_ms, attempt_ms, next_retry_ms;
    uint64_t resumed_ms;   /* when it last came back (0: never lost) */
    bool proved;           /* the current attempt was challenged and answered: it is let finish */
    int lost_attempts;
    /* An incoming connection that claims to be a lost peer: the peer's
     * index (-1 none) and the challenge it was sent. */
    int resume_for;
    uint64_t resume_challenge;
    /* Rejoin (p2p_rejoin.c). An incoming connection whose HELLO asks to
     * take the place of a crashed peer: that peer's index (-1 none). A peer
     * that has rejoined: the state it is owed has not gone out yet. */
    int rejoin_for;
    bool rejoin_wait; /* ... in a public session: until that peer counts as lost */
    bool rejoin_away; /* ... 3+ players: until no other player is away (one rejoin at a time) */
    bool rejoin_owed;
    /* absent_play NEUTRAL: this side plays on with its players neutral
     * while its connection is lost (p2p_rejoin.c). */
    bool played_on;
    /* The state went out and no input of the new process has come since:
     * the connection it went on may have died with it, so a resume sends
     * it again. */
    bool rejoin_unconfirmed;
    uint64_t owed_notice_ms; /* 3+ players: the state owed waits for notes; last keepalive */
    uint64_t input_ms;       /* when its last INPUT came */
    /* 3+ players with rejoin (p2p_absent.c). The notes this peer sent about
     * other lost peers, by their lowest player. This side's own note about
     * this peer while it is lost or rejoining: sent, for which process (0:
     * its loss; else the rejoining one's nonce), the frames it declared, and
     * the survivors (by peer index) whose notes the agreement needs. */
    struct {
        bool on;
        uint64_t nonce;
        int32_t last, neutral_from;
        uint32_t survivors;
    } notes[ROLLNET_MAX_PLAYERS];
    struct {
        bool sent, done;       /* done: the rejoin it was for is complete here */
        uint64_t nonce;
        int32_t last, neutral_from;
        uint32_t need;         /* peers (by index) whose notes it needs now */
        uint32_t needed;       /* ... and ever did in this round */
        uint32_t survivors;    /* players of this side and of `need` */
    } note;
} rn_peer;

/* A blank slot: no connection, nothing received, nothing acknowledged. */
void rn_peer_reset(rn_peer *p, int index);
const char *rn_peer_state_name(rn_peer_state state);
/* The one way to change state: logs "peer N (player P): from -> to" at INFO
 * and keeps the state flags of the statistics in step. */
void rn_peer_set_state(rn_peer *p, rn_peer_state to, const rn_events *log);

/* An incoming connection that has not claimed a player (yet): a stranger
 * until its HELLO matches. It causes no game-visible event. */
static inline bool rn_peer_stranger(const rn_peer *p)
{
    return !p->outgoing && p->player_mask == 0;
}
/* Exchanging inputs: RUNNING or INTERRUPTED (also while its connection is
 * lost and being regained: it keeps its players and its place). */
static inline bool rn_peer_live(const rn_peer *p)
{
    return p->state == RN_PEER_RUNNING || p->state == RN_PEER_INTERRUPTED;
}
/* Left the session: LEAVING or GONE. */
static inline bool rn_peer_departed(const rn_peer *p)
{
    return p->state == RN_PEER_LEAVING || p->state == RN_PEER_GONE;
}
/* The handle events name it by: its lowest player, or -1 before it claimed one. */
int rn_peer_event_player(const rn_peer *p);

/* A message arrived: the peer is heard from. True when that ends an
 * interruption (the caller raises RESUMED). */
bool rn_peer_heard(rn_peer *p, uint64_t now, const rn_events *log);
/* Bytes per second both ways, refreshed once a second. */
void rn_peer_update_rates(rn_peer *p, uint64_t now);

/* The handshake's parameter check: false and the first parameter that
 * differs (with both values) when the HELLO does not match `d`. Whether a
 * session key is used (d->session_key_size > 0; the key itself is the
 * session's) must agree too: ROLLNET_PARAM_SESSION_KEY, 1 or 0. The game
 * parameters are compared last; when they differ, `key` (of
 * ROLLNET_GAME_PARAM_KEY_SIZE bytes) gets the first differing key and the
 * values say whether each side has it (1) or not (0); else key is "". */
bool rn_peer_hello_matches(const rollnet_session_desc *d, const rn_hello *h, rollnet_param *param,
                           int64_t *mine, int64_t *theirs, char *key);
/* The HELLO this side sends: its parameters, nonce and local players, and
 * whether it has a session key. */
void rn_peer_make_hello(const rollnet_session_desc *d, uint64_t nonce, uint32_t local_mask,
                        rn_msg *out);

#endif
