/* A UDP relay on 127.0.0.1 between one client and one server, for the
 * reconnection tests with real processes. The client sends to the relay's
 * listening port; the relay forwards from an upstream socket of its own to
 * the server and sends the server's answers back to the client. Faults, on a
 * timeline from the relay's start:
 *   --rebind-at S     from S seconds on, forward from a new upstream socket
 *                     (a new source port, as a home router's NAT rebinding
 *                     does); the old socket is closed, answers to it are lost
 *   --blackout S:L    drop every datagram, both ways, from S for L seconds
 *   --for S           exit after S seconds (a bound: the test never hangs)
 * It prints one line per fault as it happens, to stdout. Loopback only. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct relay_opts {
    int listen_port, server_port;
    double rebind_at;                /* < 0: never */
    double blackout_at, blackout_len; /* < 0: never */
    double run_for;
} relay_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int udp_socket(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) {
        return false;
    }
    *out = (int)v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= 0.0) || v > 86400.0) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_args(int argc, char **argv, relay_opts *o)
{
    *o = (relay_opts){0, 0, -1.0, -1.0, 0.0, 60.0};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        bool ok;
        if (!strcmp(a, "--listen")) {
            ok = parse_port(v, &o->listen_port);
        } else if (!strcmp(a, "--to")) {
            ok = parse_port(v, &o->server_port);
        } else if (!strcmp(a, "--rebind-at")) {
            ok = parse_seconds(v, &o->rebind_at);
        } else if (!strcmp(a, "--for")) {
            ok = parse_seconds(v, &o->run_for);
        } else if (!strcmp(a, "--blackout")) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            char *colon = strchr(buf, ':');
            ok = colon != NULL;
            if (ok) {
                *colon = '\0';
                ok = parse_seconds(buf, &o->blackout_at) &&
                     parse_seconds(colon + 1, &o->blackout_len);
            }
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "udp_relay: bad option %s %s\n", a, v);
            return false;
        }
    }
    if (argc % 2 != 1 || o->listen_port == 0 || o->server_port == 0) {
        fprintf(stderr, "usage: udp_relay --listen PORT --to PORT [--rebind-at S] "
                        "[--blackout S:L] [--for S]\n");
        return false;
    }
    return true;
}

typedef struct relay {
    relay_opts o;
    int down, up;                 /* the listening socket; the upstream socket */
    struct sockaddr_in client, server;
    bool have_client, rebound, blackout_said, blackout_end_said;
    uint64_t forwarded, dropped;
} relay;

static bool in_blackout(relay *r, double t)
{
    if (r->o.blackout_at < 0 || t < r->o.blackout_at) {
        return false;
    }
    if (t < r->o.blackout_at + r->o.blackout_len) {
        if (!r->blackout_said) {
            r->blackout_said = true;
            printf("relay: blackout from %.1f s for %.1f s\n", t, r->o.blackout_len);
            fflush(stdout);
        }
        return true;
    }
    if (r->blackout_said && !r->blackout_end_said) {
        r->blackout_end_said = true;
        printf("relay: blackout over at %.1f s\n", t);
        fflush(stdout);
    }
    return false;
}

static int rebind(relay *r, double t)
{
    int fresh = udp_socket(0);
    if (fresh < 0) {
        perror("udp_relay: new upstream socket");
        return -1;
    }
    close(r->up);
    r->up = fresh;
    r->rebound = true;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(fresh, (struct sockaddr *)&a, &len);
    printf("relay: rebound at %.1f s, now forwarding from port %d\n", t, ntohs(a.sin_port));
    fflush(stdout);
    return 0;
}

/* Move one datagram from `from` on, to `to` (NULL: the client, if known). */
static void pump(relay *r, int fd, bool from_client, double t)
{
    uint8_t buf[4096];
    struct sockaddr_in src;
    socklen_t len = sizeof src;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    if (n < 0) {
        return;
    }
    if (from_client) {
        r->client = src;
        r->have_client = true;
    } else if (src.sin_port != r->server.sin_port) {
        return; /* not the server: nothing to relay */
    }
    if (in_blackout(r, t)) {
        r->dropped++;
        return;
    }
    if (from_client) {
        sendto(r->up, buf, (size_t)n, 0, (struct sockaddr *)&r->server, sizeof r->server);
    } else if (r->have_client) {
        sendto(r->down, buf, (size_t)n, 0, (struct sockaddr *)&r->client, sizeof r->client);
    }
    r->forwarded++;
}

int main(int argc, char **argv)
{
    relay r = {0};
    if (!parse_args(argc, argv, &r.o)) {
        return 2;
    }
    r.down = udp_socket(r.o.listen_port);
    r.up = udp_socket(0);
    if (r.down < 0 || r.up < 0) {
        fprintf(stderr, "udp_relay: cannot bind 127.0.0.1:%d: %s\n", r.o.listen_port,
                strerror(errno));
        return 2;
    }
    r.server.sin_family = AF_INET;
    r.server.sin_port = htons((uint16_t)r.o.server_port);
    r.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("relay: 127.0.0.1:%d -> 127.0.0.1:%d\n", r.o.listen_port, r.o.server_port);
    fflush(stdout);

    double start = now_s();
    for (;;) {
        double t = now_s() - start;
        if (t >= r.o.run_for) {
            break;
        }
        if (!r.rebound && r.o.rebind_at >= 0 && t >= r.o.rebind_at && rebind(&r, t) != 0) {
            return 1;
        }
        in_blackout(&r, t); /* says when a blackout begins or ends, even with no traffic */
        struct pollfd fds[2] = {{r.down, POLLIN, 0}, {r.up, POLLIN, 0}};
        if (poll(fds, 2, 10) < 0 && errno != EINTR) {
            perror("udp_relay: poll");
            return 1;
        }
        t = now_s() - start;
        if (fds[0].revents & POLLIN) {
            pump(&r, r.down, true, t);
        }
        if (fds[1].revents & POLLIN) {
            pump(&r, r.up, false, t);
        }
    }
    printf("relay: done after %.1f s: %llu forwarded, %llu dropped\n", now_s() - start,
           (unsigned long long)r.forwarded, (unsigned long long)r.dropped);
    return 0;
}
