/* gridworld's app: the peer log and failure, the two things every glue file
 * may need to do. They live here rather than in one of those files so that
 * none of them depends on another just to report. */
#include <stdarg.h>
#include <stdio.h>

#include "app.h"

void app_peer_log(game *g, const char *event, int64_t value)
{
    if (g->peerlog)
        (void)rollnet_peerlog_write(g->peerlog, app_now_ms(), event, value);
}

void app_fail(game *g, const char *fmt, ...)
{
    if (g->exit_code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->reason, sizeof g->reason, fmt, ap);
        va_end(ap);
        g->exit_code = 1;
    }
    g->done = true;
}
