/*
 * enet_stranger: strangers at the ports of rollnet hosts, as one real process.
 *
 * Two kinds at once, both aimed in turn at every --target:
 *   - a flood of ENet CONNECT datagrams, --rate a second, each from a fresh
 *     ENet host on a new UDP port of --flood-bind that sends its CONNECT and
 *     is destroyed at once: the connection is never completed, so the target
 *     holds it half-open;
 *   - --silent ENet clients on --silent-bind that open a connection with
 *     rollnet's channel count, answer ENet's protocol (acks, pings) and never
 *     send a message; dropped, they connect again at once. With
 *     --silent-spread N they use N addresses from --silent-bind up (the last
 *     byte counted up), as strangers on several machines would.
 * One second in, it prints "under way" with the connections the silent
 * clients hold (a script waits for that line). Runs --duration-s seconds or
 * until SIGTERM/SIGINT, then prints one line of counts on stdout and exits 0
 * (2 on bad arguments, 1 when ENet cannot start).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep, sigaction */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enet/enet.h>

#include "rollnet/rollnet_enet.h" /* ROLLNET_ENET_CHANNEL_LIMIT */

#define MAX_TARGETS 8
#define MAX_SILENT 64
#define SILENT_TIMEOUT_MS 2000 /* a silent client whose connect is ignored tries again */

typedef struct opts {
    ENetAddress targets[MAX_TARGETS];
    int num_targets;
    const char *flood_bind;
    const char *silent_bind;
    int rate;
    int silent;
    int silent_spread;
    int duration_s;
} opts;

typedef struct silent_client {
    ENetHost *host;
    ENetPeer *peer; /* NULL while not connecting or connected */
    bool connected;
    int target;
} silent_client;

typedef struct counts {
    uint64_t connects_sent;     /* flood CONNECT datagrams */
    uint64_t flood_failures;    /* flood hosts that could not be created */
    uint64_t silent_connects;   /* connections the silent clients opened */
    uint64_t silent_connected;  /* ... that the target completed */
    uint64_t silent_dropped;    /* ... that ended (timeout or the target closed) */
    uint64_t silent_messages;   /* messages the targets sent them (HELLOs) */
} counts;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool parse_target(const char *text, ENetAddress *out)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= 64) {
        return false;
    }
    char host[64];
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535 || enet_address_set_host_ip(out, host) != 0) {
        return false;
    }
    out->port = (enet_uint16)port;
    return true;
}

static bool parse_count(const char *text, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || !*text || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = (int)v;
    return true;
}

static bool parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    o->flood_bind = "127.0.0.1";
    o->silent_bind = "127.0.0.1";
    o->rate = 50;
    o->silent = 10;
    o->silent_spread = 1;
    o->duration_s = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        bool ok = true;
        if (strcmp(k, "--target") == 0) {
            ok = o->num_targets < MAX_TARGETS && parse_target(v, &o->targets[o->num_targets++]);
        } else if (strcmp(k, "--flood-bind") == 0) {
            o->flood_bind = v;
        } else if (strcmp(k, "--silent-bind") == 0) {
            o->silent_bind = v;
        } else if (strcmp(k, "--rate") == 0) {
            ok = parse_count(v, 0, 1000, &o->rate);
        } else if (strcmp(k, "--silent") == 0) {
            ok = parse_count(v, 0, MAX_SILENT, &o->silent);
        } else if (strcmp(k, "--silent-spread") == 0) {
            ok = parse_count(v, 1, 200, &o->silent_spread);
        } else if (strcmp(k, "--duration-s") == 0) {
            ok = parse_count(v, 1, 3600, &o->duration_s);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "enet_stranger: bad option %s %s\n", k, v);
            return false;
        }
    }
    if (argc % 2 != 1 || o->num_targets == 0) {
        fprintf(stderr, "usage: enet_stranger --target HOST:PORT [--target ...] [--rate N]\n"
                        "       [--flood-bind IP] [--silent N] [--silent-bind IP] [--silent-spread N] [--duration-s S]\n");
        return false;
    }
    return true;
}

/* `base` (dotted IPv4) with `add` added to its last byte, into out. */
static bool spread_address(const char *base, int add, char *out, size_t cap)
{
    const char *dot = strrchr(base, '.');
    if (!dot || (size_t)(dot - base) + 5 > cap) {
        return false;
    }
    int last = 0;
    if (!parse_count(dot + 1, 0, 255, &last) || last + add > 254) {
        return false;
    }
    snprintf(out, cap, "%.*s.%d", (int)(dot - base), base, last + add);
    return true;
}

/* One CONNECT from a new port, never followed up. */
static void flood_once(const opts *o, int target, counts *c)
{
    ENetAddress bind = {.host = ENET_HOST_ANY, .port = 0};
    enet_address_set_host_ip(&bind, o->flood_bind);
    ENetHost *h = enet_host_create(&bind, 1, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
    if (!h) {
        c->flood_failures++;
        return;
    }
    if (enet_host_connect(h, &o->targets[target], ROLLNET_ENET_CHANNEL_LIMIT, 0)) {
        enet_host_flush(h);
        c->connects_sent++;
    } else {
        c->flood_failures++;
    }
    enet_host_destroy(h); /* resets the peer: nothing more is sent */
}

static void silent_connect(const opts *o, silent_client *s, counts *c)
{
    s->peer = enet_host_connect(s->host, &o->targets[s->target], ROLLNET_ENET_CHANNEL_LIMIT, 0);
    if (s->peer) {
        enet_peer_timeout(s->peer, 0, SILENT_TIMEOUT_MS, SILENT_TIMEOUT_MS);
        c->silent_connects++;
    }
}

/* Answers ENet's protocol for one silent client; reads and discards
 * whatever the target sends; connects again when dropped. */
static void silent_service(const opts *o, silent_client *s, counts *c)
{
    ENetEvent ev;
    while (enet_host_service(s->host, &ev, 0) > 0) {
        switch (ev.type) {
        case ENET_EVENT_TYPE_CONNECT:
            c->silent_connected++;
            s->connected = true;
            break;
        case ENET_EVENT_TYPE_DISCONNECT:
            c->silent_dropped++;
            s->peer = NULL;
            s->connected = false;
            break;
        case ENET_EVENT_TYPE_RECEIVE:
            c->silent_messages++;
            enet_packet_destroy(ev.packet);
            break;
        case ENET_EVENT_TYPE_NONE:
        default:
            break;
        }
    }
    if (!s->peer) {
        silent_connect(o, s, c);
    }
}

int main(int argc, char **argv)
{
    opts o;
    if (!parse_opts(argc, argv, &o)) {
        return 2;
    }
    if (enet_initialize() != 0) {
        fprintf(stderr, "enet_stranger: enet_initialize failed\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static silent_client silent[MAX_SILENT];
    counts c;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < o.silent; i++) {
        ENetAddress bind = {.host = ENET_HOST_ANY, .port = 0};
        char ip[32];
        if (!spread_address(o.silent_bind, i % o.silent_spread, ip, sizeof(ip)) ||
            enet_address_set_host_ip(&bind, ip) != 0) {
            fprintf(stderr, "enet_stranger: bad --silent-bind %s\n", o.silent_bind);
            return 2;
        }
        silent[i].host = enet_host_create(&bind, 1, ROLLNET_ENET_CHANNEL_LIMIT, 0, 0);
        if (!silent[i].host) {
            fprintf(stderr, "enet_stranger: cannot bind a silent client on %s\n", o.silent_bind);
            return 1;
        }
        silent[i].target = i % o.num_targets;
        silent_connect(&o, &silent[i], &c);
    }
    printf("enet_stranger: started, %d CONNECTs/s from %s, %d silent clients from %s\n", o.rate,
           o.flood_bind, o.silent, o.silent_bind);
    fflush(stdout);

    uint64_t start = mono_ms();
    uint64_t end = start + (uint64_t)o.duration_s * 1000u;
    uint64_t flooded = 0;
    bool announced = false;
    while (!stop_requested) {
        uint64_t now = mono_ms();
        if (now >= end) {
            break;
        }
        if (!announced && now - start >= 1000) {
            int held = 0;
            for (int i = 0; i < o.silent; i++) {
                held += silent[i].connected;
            }
            printf("enet_stranger: under way, %llu CONNECTs sent, %d silent connections held\n",
                   (unsigned long long)c.connects_sent, held);
            fflush(stdout);
            announced = true;
        }
        /* As many CONNECTs as the rate owes by now: 50/s whatever the pace. */
        uint64_t due = o.rate > 0 ? (now - start) * (uint64_t)o.rate / 1000u + 1 : 0;
        while (flooded < due) {
            flood_once(&o, (int)(flooded % (uint64_t)o.num_targets), &c);
            flooded++;
        }
        for (int i = 0; i < o.silent; i++) {
            silent_service(&o, &silent[i], &c);
        }
        struct timespec nap = {0, 2 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    for (int i = 0; i < o.silent; i++) {
        enet_host_destroy(silent[i].host);
    }
    enet_deinitialize();
    printf("enet_stranger: %.1f s, connects_sent %llu flood_failures %llu silent_connects %llu "
           "silent_connected %llu silent_dropped %llu silent_messages %llu\n",
           (double)(mono_ms() - start) / 1000.0, (unsigned long long)c.connects_sent,
           (unsigned long long)c.flood_failures, (unsigned long long)c.silent_connects,
           (unsigned long long)c.silent_connected, (unsigned long long)c.silent_dropped,
           (unsigned long long)c.silent_messages);
    return 0;
}
