#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"

void rn_events_init(rn_events *q, const rollnet_logger *logger)
{
    memset(q, 0, sizeof(*q));
    if (logger) {
        q->logger = *logger;
    }
}

rollnet_event rn_event_make(rollnet_event_type type, int player)
{
    rollnet_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.player = player;
    return ev;
}

void rn_events_push(rn_events *q, const rollnet_event *ev)
{
    if (q->count == RN_EVENT_CAP) {
        q->head = (q->head + 1) % RN_EVENT_CAP;
        q->count--;
        q->dropped++;
    }
    q->ring[(q->head + q->count) % RN_EVENT_CAP] = *ev;
    q->count++;
}

void rn_events_simple(rn_events *q, rollnet_event_type type, int player)
{
    rollnet_event ev = rn_event_make(type, player);
    rn_events_push(q, &ev);
}

bool rn_events_next(rn_events *q, rollnet_event *out)
{
    if (q->count == 0) {
        return false;
    }
    *out = q->ring[q->head];
    q->head = (q->head + 1) % RN_EVENT_CAP;
    q->count--;
    return true;
}

void rn_log(const rn_events *q, rollnet_log_level level, const char *msg)
{
    if (q->logger.log) {
        q->logger.log(level, msg, q->logger.user_data);
    }
}

void rn_logf(const rn_events *q, rollnet_log_level level, const char *fmt, ...)
{
    if (!q->logger.log) {
        return;
    }
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    q->logger.log(level, buf, q->logger.user_data);
}
