/* gridworld's drawing: the window, and one picture of the game per shown
 * frame. Nothing here changes the game or the session; a headless run never
 * opens a window and never draws. */
#ifndef GRIDWORLD_RENDER_H
#define GRIDWORLD_RENDER_H

#include "app.h"

/* Open the window and renderer (nothing when headless). 0, or 1 after a line
 * on stderr. */
int render_open(game *g);
/* Draw the state, the HUD, the status and the network overlay. */
void render_frame(const game *g);
/* Destroy what render_open created. */
void render_close(game *g);

#endif
