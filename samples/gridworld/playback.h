/* gridworld's replays (--replay-out records, --replay plays back), kept
 * apart from the rest of the glue: a game copies this file to record and
 * play its sessions. */
#ifndef GRIDWORLD_PLAYBACK_H
#define GRIDWORLD_PLAYBACK_H

#include "app.h"

/* --replay: open and check the file, take its rules (max_steps, fps, the
 * number of episodes), and create the replay session. 0, or 1 after a line
 * on stderr. */
int playback_setup_session(game *g);
/* --replay-out: start recording the session just created (before its first
 * advance). 0, or 1 after a line on stderr. */
int playback_open_recorder(game *g);
/* Record one confirmed record (nothing without --replay-out). */
void playback_record(game *g, const rollnet_record *rec);
/* Close the recorder (its end marker) and the replay: after the session is
 * destroyed. */
void playback_close(game *g);

#endif
