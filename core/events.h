/* What a session tells the game: the event queue and the log hook. Internal.
 *
 * Every module that has something to say pushes here; the game drains the
 * queue with rollnet_session_next_event. The queue is fixed at RN_EVENT_CAP
 * entries and never allocates. When full, a push makes room without losing
 * an event that ends or defines the session: advice and progress go first,
 * then repeats that say nothing new (the rule and its bound: events.c,
 * rn_events_victim). Every event dropped is counted. */
#ifndef RN_EVENTS_H
#define RN_EVENTS_H

#include "rollnet/rollnet.h"

#define RN_EVENT_CAP 256

typedef struct rn_events {
    rollnet_event ring[RN_EVENT_CAP];
    int head, count;
    uint64_t dropped;           /* every event the game will not see */
    uint64_t dropped_important; /* of those, events that are not droppable */
    rollnet_logger logger; /* copied from the desc; log == NULL: silent */
} rn_events;

void rn_events_init(rn_events *q, const rollnet_logger *logger);
/* A zeroed event of `type` about `player` (-1: the session). */
rollnet_event rn_event_make(rollnet_event_type type, int player);
/* Advice or progress about a state the game can read back (see events.c):
 * what a full queue gives up first. */
bool rn_event_droppable(rollnet_event_type type);
void rn_events_push(rn_events *q, const rollnet_event *ev);
/* An event without a payload. */
void rn_events_simple(rn_events *q, rollnet_event_type type, int player);
bool rn_events_next(rn_events *q, rollnet_event *out);

void rn_log(const rn_events *q, rollnet_log_level level, const char *msg);
/* printf-style; the text is cut at 255 bytes. Formats only when a logger is set. */
void rn_logf(const rn_events *q, rollnet_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
