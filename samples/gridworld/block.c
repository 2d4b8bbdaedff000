/* --no-net-thread, --block-at, --rejoin and --play-on (see block.h). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "block.h"

int block_cli_option(const char *a, const char *v, options *o)
{
    if (!strcmp(a, "--no-net-thread")) {
        o->no_net_thread = true;
        return 0;
    }
    if (!strcmp(a, "--rejoin")) {
        o->rejoin = true;
        return 0;
    }
    if (!strcmp(a, "--play-on")) {
        o->play_on = true;
        return 0;
    }
    if (strcmp(a, "--block-at") != 0)
        return -1;
    char *end = NULL;
    double at = v ? strtod(v, &end) : -1;
    double len = -1;
    if (v && end != v && *end == ':') {
        const char *l = end + 1;
        len = strtod(l, &end);
        if (end == l || *end)
            len = -1;
    }
    if (!(at >= 0 && at <= 3600 && len > 0 && len <= 3600)) {
        fprintf(stderr, "gridworld: bad value for --block-at: %s (SECONDS:LENGTH, see --help)\n",
                v ? v : "(none)");
        return -2;
    }
    o->block_at = at;
    o->block_length = len;
    return 1;
}

void block_maybe(game *g)
{
    if (g->opt.block_length <= 0 || g->block_done)
        return;
    uint64_t now = app_now_ms();
    if (g->block_start_ms == 0)
        g->block_start_ms = now ? now : 1;
    if ((double)(now - g->block_start_ms) < g->opt.block_at * 1000.0)
        return;
    g->block_done = true;
    uint64_t ms = (uint64_t)(g->opt.block_length * 1000.0 + 0.5);
    app_peer_log(g, "block", (int64_t)ms);
    fprintf(stderr, "gridworld: blocking the game thread for %.1f s (--block-at)\n",
            g->opt.block_length);
    /* nanosleep, not a signal: the transport's service thread runs on. */
    struct timespec left = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
    app_peer_log(g, "block_end", (int64_t)ms);
}
