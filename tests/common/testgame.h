/* A small deterministic game for rollnet's tests and bench.
 *
 * Players move on a wrapping arena, chase a coin and score; a splitmix64
 * generator lives in the state; a binary blob of 0..TG_MAX_BLOB bytes is
 * stirred a few bytes per step so its checksum changes without rewriting it.
 * Episodes last max_steps frames; the episode number and the step within it
 * derive from the state (frame and episode_start), never from a counter that
 * a replay would bump.
 *
 * Snapshot size. The snapshot is one msgpack array:
 *   [frame, episode, episode_start, rng, [coin_x, coin_y],
 *    [[x, y, vx, vy, score] per player], blob]
 * Without the blob it takes 39 bytes for a fresh 2-player game (integers are
 * packed in their smallest msgpack form, so it grows by a few bytes as
 * frames and scores grow; ~9 bytes per extra player). tg_blob_size_for_snapshot()
 * picks the blob size that brings a fresh game to a target: for 2 players a
 * 25-byte blob gives 64 B and a 16344-byte blob gives 16 KiB (16384 B).
 *
 * Not thread-safe; one tg_game per thread. */
#ifndef TESTGAME_H
#define TESTGAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

#define TG_MAX_BLOB 16384
#define TG_ARENA 1024     /* positions wrap in [0, TG_ARENA) */
#define TG_MAX_SPEED 6
#define TG_COIN_RADIUS 24

typedef struct tg_player {
    int32_t x, y, vx, vy;
    int64_t score;
} tg_player;

typedef struct tg_game {
    /* Configuration, fixed by tg_init and never saved. */
    int num_players;
    int input_size;
    size_t blob_size;
    int32_t max_steps;      /* frames per episode; 0 = one endless episode */
    bool nondeterministic;  /* step also uses `hidden`, which is not saved: a sync test must fail */
    bool write_records;     /* tg_execute writes a record for every ADVANCE */
    bool record_rows;       /* ...as a flat row (tg_write_row) instead of a map */

    /* State: exactly what tg_save writes and tg_load restores. */
    int32_t frame;          /* next frame to run */
    int32_t episode;
    int32_t episode_start;  /* first frame of the current episode */
    uint64_t rng;
    int32_t coin_x, coin_y;
    tg_player players[ROLLNET_MAX_PLAYERS];
    uint8_t blob[TG_MAX_BLOB];

    /* Outside the state. */
    uint64_t hidden;        /* bumped by every step, saved nowhere */
    /* Counted by tg_execute; replayed_* are requests flagged ROLLNET_REQUEST_REPLAY. */
    uint64_t loads, saves, advances, records;
    uint64_t replayed_loads, replayed_advances;
    uint64_t frame_mismatches; /* requests whose frame differed from the game's frame */
    int32_t failed_frame;   /* frame of the request tg_execute failed on, or -1 */
    rollnet_request_type failed_type;
} tg_game;

/* Start a game. False (and *g untouched) on out-of-range arguments:
 * num_players 1..ROLLNET_MAX_PLAYERS, input_size 1..ROLLNET_MAX_INPUT_SIZE,
 * blob_size <= TG_MAX_BLOB, max_steps >= 0. */
bool tg_init(tg_game *g, uint64_t seed, int num_players, int input_size, size_t blob_size,
             int32_t max_steps);
/* Run one frame. `inputs` holds num_players * input_size bytes in player order.
 * Starts a new episode first when the previous one is over. */
void tg_step(tg_game *g, const uint8_t *inputs);
/* True when the last frame run ended its episode (the ADVANCE's EPISODE_END flag). */
bool tg_episode_over(const tg_game *g);
/* Step index within its episode of the last frame run (0-based), or -1 before any frame. */
int32_t tg_step_index(const tg_game *g);
/* Write the state. */
void tg_save(const tg_game *g, rollnet_writer *w);
/* Restore the state; false (game left unchanged) when the snapshot does not
 * fit this game's configuration. */
bool tg_load(tg_game *g, rollnet_reader *r);
/* The record of the frame just run: a map with frame, episode, step, inputs,
 * pos ([x, y] per player) and score (per player). */
void tg_write_record(const tg_game *g, rollnet_writer *w, const uint8_t *inputs);
/* The record of the frame just run as one flat array of scalars, for the
 * exporter: game_episode, game_step, then x, y, score per player, coin_x,
 * coin_y. tg_row_columns names them (3 * num_players + 4 names). */
void tg_write_row(const tg_game *g, rollnet_writer *w);
int tg_row_columns(int num_players, const char **names);

/* xxHash64 of the state as tg_save writes it (for comparing two games). */
uint64_t tg_state_hash(const tg_game *g);
/* Bytes tg_save writes for the current state. */
size_t tg_snapshot_size(const tg_game *g);
/* Blob size that makes a fresh game of num_players snapshot to about
 * `target` bytes (0 when the target is below the blob-free size). */
size_t tg_blob_size_for_snapshot(int num_players, size_t target);

/* Carry out requests[0..count) against the session in order: LOAD with
 * tg_load, ADVANCE with tg_step (+ a record when write_records, + EPISODE_END
 * when the episode ended), SAVE with tg_save. Stops at the first error and
 * returns it (failed_frame/failed_type say where): ROLLNET_ERR_DESYNC from a
 * sync test's save_end, SNAPSHOT_READ when the game rejects a snapshot. */
rollnet_error tg_execute(tg_game *g, rollnet_session *s, const rollnet_request *requests,
                         int count);

/* A seeded bot: holds a random input for 1..19 frames (uniformly) before
 * drawing the next one. */
typedef struct tg_bot {
    uint64_t rng;
    int input_size;
    int hold;       /* frames the current input is still held */
    uint8_t input[ROLLNET_MAX_INPUT_SIZE];
} tg_bot;

void tg_bot_init(tg_bot *b, uint64_t seed, int input_size);
/* The input for the next frame (input_size bytes, valid until the next call). */
const uint8_t *tg_bot_next(tg_bot *b);

/* splitmix64: the generator behind the game and the bot. */
uint64_t tg_rand(uint64_t *state);

#endif
