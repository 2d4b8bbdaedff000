/* gridworld: the deterministic game simulation, with no SDL and no rollnet
 * session in it. Everything that changes from frame to frame lives in
 * gw_state, and gw_save / gw_load move exactly that through rollnet's
 * snapshot writer and reader. Copy this split for your own game: the step
 * function must depend only on the state, the inputs and the fixed config. */
#ifndef GRIDWORLD_GAME_H
#define GRIDWORLD_GAME_H

#include <stdbool.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

#define GW_WIDTH 12
#define GW_HEIGHT 9
#define GW_MAX_PLAYERS 4 /* a session plays 2..GW_MAX_PLAYERS (gw_config::num_players) */
#define GW_ITEMS 3
#define GW_MOVE_COOLDOWN 6 /* frames between two moves of one player */

/* Input byte bits (the SDL adapter's default layout). */
#define GW_IN_UP 0x01u
#define GW_IN_DOWN 0x02u
#define GW_IN_LEFT 0x04u
#define GW_IN_RIGHT 0x08u

typedef enum gw_action {
    GW_STAY = 0,
    GW_MOVE_UP,
    GW_MOVE_DOWN,
    GW_MOVE_LEFT,
    GW_MOVE_RIGHT
} gw_action;

/* Fixed for a whole session and equal on every peer; never saved. */
typedef struct gw_config {
    uint64_t seed;       /* base seed; each episode's seed derives from it */
    int32_t max_steps;   /* frames per episode, >= 1 */
    int32_t num_players; /* 2..GW_MAX_PLAYERS; 0 counts as 2 */
} gw_config;

typedef struct gw_player {
    int32_t x, y;
    int32_t score;    /* within the episode */
    int32_t reward;   /* earned by the last step */
    int32_t cooldown; /* frames until the next move is allowed */
    int32_t action;   /* gw_action chosen by the last step's input */
} gw_player;

typedef struct gw_state {
    int32_t num_players; /* from the config at gw_reset; fixed, so never saved */
    int32_t episode;
    int32_t step;     /* steps run in the episode; == max_steps once it ended */
    uint64_t rng;     /* splitmix64 state: item respawns */
    gw_player players[GW_MAX_PLAYERS]; /* the first num_players play */
    int32_t item_x[GW_ITEMS], item_y[GW_ITEMS];
} gw_state;

/* The state before the first frame of `episode`. */
void gw_reset(gw_state *s, const gw_config *cfg, int32_t episode);
/* Run one frame with one input byte per player (player order). A state whose
 * episode has ended first resets to the next episode. Returns true when this
 * frame ended its episode. */
bool gw_step(gw_state *s, const gw_config *cfg, const uint8_t *inputs);
/* True when the last frame run ended the episode. */
bool gw_episode_over(const gw_state *s, const gw_config *cfg);

/* Snapshot of the whole state. gw_load returns false, leaving *s unchanged,
 * when the snapshot does not hold a valid state for s's number of players. */
void gw_save(const gw_state *s, rollnet_writer *w);
bool gw_load(gw_state *s, rollnet_reader *r);

/* The frame's record: the actions, positions, rewards and scores of every
 * player, one value per column that gw_columns names (5 per player: with
 * two players, the same 10 columns as ever). */
#define GW_MAX_COLUMNS (5 * GW_MAX_PLAYERS)
/* The column names for num_players into out[0..GW_MAX_COLUMNS); returns how many. */
int gw_columns(int num_players, const char **out);
void gw_write_record(const gw_state *s, rollnet_writer *w);

/* The action an input byte asks for (up, down, left, right in that priority). */
gw_action gw_action_from_input(uint8_t input);

/* A scripted player: heads for the nearest item, with some random moves.
 * Its own RNG lives outside the game state; it reads the state shown now. */
typedef struct gw_bot {
    uint64_t rng;
    int32_t wander;     /* frames left of a random detour */
    uint8_t wander_dir; /* input bits of the detour */
} gw_bot;

void gw_bot_init(gw_bot *b, uint64_t seed);
uint8_t gw_bot_input(gw_bot *b, const gw_state *s, int player);

#endif
