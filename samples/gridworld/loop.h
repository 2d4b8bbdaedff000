/* gridworld's frame loop: local input, one rollnet frame per tick and the
 * requests it hands back, pacing, and SDL's events. main.c sets up the
 * inputs, then runs the loop until the run is done. */
#ifndef GRIDWORLD_LOOP_H
#define GRIDWORLD_LOOP_H

#include "app.h"

/* Bots or keyboard for each player, per the options; in a keyboard sync test
 * WASD for player 0 and the arrows for player 1. */
void loop_setup_inputs(game *g);
/* Run frames at the session's rate and draw, until g->done. */
void loop_run(game *g);

#endif
