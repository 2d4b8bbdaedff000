/* Shared helpers for integration tests: a virtual clock and a peer that
 * drives one session with the test game and seeded bots, tick by tick.
 *
 * Nothing here sleeps or reads a real clock: every test is a deterministic
 * function of its seeds. Not thread-safe. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "rollnet/rollnet.h"
#include "testgame.h"

/* Milliseconds that advance by whole frames of 1/fps s without drift: the
 * clock keeps microseconds and rounds down when asked for milliseconds. */
typedef struct harness_clock {
    uint64_t us;
    int fps;
    uint64_t ticks;
} harness_clock;

/* Start at start_ms with frames of 1/fps s (fps <= 0 means 60). */
void harness_clock_init(harness_clock *c, uint64_t start_ms, int fps);
uint64_t harness_clock_now(const harness_clock *c);
/* Advance by one frame; returns the new time in ms. */
uint64_t harness_clock_tick(harness_clock *c);
void harness_clock_advance_ms(harness_clock *c, uint64_t ms);

/* Supplies the input of a local player for the frame about to be added.
 * Called once per frame that actually goes ahead (a skipped frame keeps the
 * input already drawn). */
typedef void (*harness_input_fn)(int player, int32_t frame, uint8_t *out, int input_size,
                                 void *user_data);
typedef void (*harness_event_fn)(const rollnet_event *ev, void *user_data);

#define HARNESS_EVENT_TYPES (ROLLNET_EVENT_REJOINED + 1)

/* One session plus the game it drives. The peer does not own the session or
 * the game; harness_peer_init only records them. */
typedef struct harness_peer {
    rollnet_session *session;
    tg_game *game;
    int num_players;
    int input_size;
    bool local[ROLLNET_MAX_PLAYERS];
    tg_bot bots[ROLLNET_MAX_PLAYERS];

    /* Optional: replace the bots, observe events. */
    harness_input_fn input_fn;
    void *input_user_data;
    harness_event_fn event_fn;
    void *event_user_data;

    /* Input drawn for the next frame, kept while the session refuses it. */
    uint8_t pending[ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    bool has_pending[ROLLNET_MAX_PLAYERS];
    int32_t next_input_frame;

    uint64_t ticks;
    uint64_t frames_advanced;                /* ticks whose advance ran */
    uint64_t frames_skipped;                 /* ticks refused by add_local_input or advance */
    uint64_t rollback_only_lists;            /* ticks that ran a pending rollback but no new frame */
    uint64_t skip_counts[ROLLNET_ERR_COUNT_];
    uint64_t event_counts[HARNESS_EVENT_TYPES];
    rollnet_event last_event[HARNESS_EVENT_TYPES];
    rollnet_error last_error;                /* last result of harness_tick that was not OK */
} harness_peer;

/* The seed of player `player`'s bot in a peer initialised with bot_seed, so
 * a reference run can replay the same inputs. */
uint64_t harness_bot_seed(uint64_t bot_seed, int player);

/* Bind a session and a game; every player marked LOCAL in desc gets a bot
 * seeded with harness_bot_seed(bot_seed, handle). */
void harness_peer_init(harness_peer *p, rollnet_session *s, tg_game *g,
                       const rollnet_session_desc *desc, uint64_t bot_seed);

/* True for the results that mean "skip this frame and poll again". */
bool harness_is_skip(rollnet_error err);

/* True when the list runs a new frame (an ADVANCE not flagged REPLAY); a
 * stalled session may hand out a pending rollback alone. */
bool harness_list_runs_new_frame(const rollnet_request *requests, int count);

/* Carry out a request list with the game (tg_execute). */
rollnet_error harness_execute(harness_peer *p, const rollnet_request *requests, int count);

/* One tick: poll, drain events, add every local input, advance, carry out the requests,
 * drain events. Returns OK when the session handed out a list (a new frame,
 * or while stalled a pending rollback alone: frames_advanced tells them
 * apart), the skip code when it refused (harness_is_skip), or the first
 * error. */
rollnet_error harness_tick(harness_peer *p, uint64_t now_ms);

/* Tick every peer once per clock frame for `ticks` frames, in peer order,
 * then advance the clock. Stops at the first result that is neither OK nor a
 * skip and returns it (*failed = the peer's index when failed != NULL). */
rollnet_error harness_run(harness_peer *peers, int count, harness_clock *clock, uint64_t ticks,
                          int *failed);

/* Tick until every peer's session reports running, at most max_ticks frames.
 * True when all run. */
bool harness_run_until_running(harness_peer *peers, int count, harness_clock *clock,
                               uint64_t max_ticks);

#endif
