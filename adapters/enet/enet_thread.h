/* The service thread's hand-over (see enet_thread.c for the contract):
 * the queues and what the two threads share, used by enet_thread.c (the game
 * thread's vtable) and enet_service.c (the thread itself). Internal. */
#ifndef RN_ENET_THREAD_H
#define RN_ENET_THREAD_H

#include <pthread.h>
#include <time.h>

#include "enet_internal.h"

#define RN_ENET_TX_SLOTS 1024u
#define RN_ENET_TX_RESERVE 64u
#define RN_ENET_TX_INLINE 1200u /* larger messages get a buffer of their own */
#define RN_ENET_RX_SLOTS 1024u
#define RN_ENET_RX_UNRELIABLE 768u
#define RN_ENET_SERVICE_WAIT_MS 1u
#define RN_ENET_BUSY_AFTER_MS 300u
#define RN_ENET_BUSY_EVERY_MS 250u

typedef enum rn_cmd_type { RN_CMD_SEND, RN_CMD_CONNECT, RN_CMD_DISCONNECT, RN_CMD_TIMEOUT } rn_cmd_type;

typedef struct rn_cmd {
    rn_cmd_type type;
    int peer;
    rollnet_channel channel;
    uint32_t timeout_ms;
    uint32_t seq;          /* CONNECT: the answer's number */
    bool resolved;         /* CONNECT: addr holds it; else text is resolved here */
    ENetAddress addr;
    char text[264];
    size_t size;
    uint8_t *big;          /* SEND over RN_ENET_TX_INLINE bytes: from the allocator */
    uint8_t bytes[RN_ENET_TX_INLINE];
} rn_cmd;

typedef struct rn_rx {
    rollnet_transport_event ev;
    ENetPacket *packet; /* RECEIVE: owns ev.data */
} rn_rx;

typedef struct rn_pub {
    bool known, closing, connected;
    rollnet_transport_peer_info info;
    /* The service thread's: busy_last says the peer's last queued event is
     * the PEER_BUSY in rx slot busy_rx; a newer report replaces it while
     * unread, so reports do not fill the queue while nobody polls. */
    bool busy_last;
    uint32_t busy_rx;
} rn_pub;

struct rn_enet_thread {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t answered; /* a connect was answered */
    pthread_cond_t arrived;  /* an event was queued */
    size_t slots;
    size_t max_packet;
    /* Under mu. */
    bool stop;
    uint64_t polls;
    uint32_t tx_head, tx_tail;
    uint32_t rx_head, rx_tail;
    bool rx_holding;
    uint32_t connect_seq, answer_seq;
    int answer_peer;
    rollnet_error answer_err;
    rollnet_enet_stats stats; /* the service thread's counters, as last published */
    uint64_t tx_full;         /* send_queue_full, counted by the game thread */
    rn_pub *pub;
    rn_cmd *tx;
    rn_rx *rx;
    /* The game thread's alone. */
    bool *closed; /* disconnect was called; until the slot connects again */
    /* The service thread's alone. */
    uint32_t rx_freed; /* packets of slots before it are destroyed */
};

static inline uint64_t rn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* enet_service.c: the service thread's body (pthread_create's start routine). */
void *rn_enet_service_main(void *arg);

#endif
