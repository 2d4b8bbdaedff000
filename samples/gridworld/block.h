/* The network service thread and an unannounced block of the game thread:
 * --no-net-thread turns the ENet transport's service thread off (it is on by
 * default), --block-at SECONDS:LENGTH makes the game thread sleep LENGTH
 * seconds, SECONDS after the start, without telling rollnet (a level load the
 * game forgot to announce, a debugger breakpoint). With the service thread
 * the peer sees this side busy (its per-peer log: peer_busy) and keeps it;
 * without it the peer sees silence (interrupted, then the disconnect
 * timeout). --rejoin (rollnet_session_desc::rejoin) starts this process in
 * the place of one that crashed; --play-on (absent_play NEUTRAL) lets the
 * others play on while a player is away (two players: the host; more: every
 * survivor, once they agree on its last frame). */
#ifndef GRIDWORLD_BLOCK_H
#define GRIDWORLD_BLOCK_H

#include "cli.h"

struct game;

/* An option of this block at argv[i] (value v, may be NULL): the number of
 * arguments after it that it took (0 or 1); -1 when a is not one of them; -2
 * after one line on stderr for a bad value. */
int block_cli_option(const char *a, const char *v, options *o);

/* Called once per turn of the run loop: sleeps when the block is due. */
void block_maybe(struct game *g);

#endif
