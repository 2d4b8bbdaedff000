/* gridworld's rollnet wiring: the session (transport, players, parameters),
 * the export of confirmed records, and what the game does with rollnet's
 * events. The frame loop (loop.c) calls these each tick; main.c at setup and
 * at the end. */
#ifndef GRIDWORLD_NET_H
#define GRIDWORLD_NET_H

#include "app.h"

/* Open --export's files (nothing without --export). 0, or 1 after a line on
 * stderr. */
int net_setup_export(game *g);
/* Create the sync test or P2P session and pick the local and remote players.
 * 0, or 1 after a line on stderr. */
int net_setup_session(game *g);

/* The log hook every session of the run is given (messages to the peer log). */
rollnet_logger net_logger(game *g);

/* Act on every queued rollnet event. */
void net_handle_events(game *g);
/* Export every newly confirmed record. */
void net_drain_records(game *g);

/* --stats: the session's and the peer's statistics on stdout. */
void net_print_stats(game *g);

#endif
