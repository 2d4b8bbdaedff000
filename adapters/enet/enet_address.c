/* Addresses: "host:port" parsed and resolved, and the names check_address
 * resolved remembered for connect (rollnet_enet.h: names never wait on the
 * resolver during frames once checked). */
#include <string.h>

#include "enet_internal.h"

#define RN_ENET_MAX_HOST_NAME 255

/* "host:port" with a non-empty host without ':' and a decimal port 1..65535.
 * On failure, the reason (a static string). */
static int parse(const char *text, ENetAddress *out, const char **why, bool names);

int rn_enet_parse_address(const char *text, ENetAddress *out, const char **why)
{
    return parse(text, out, why, true);
}

int rn_enet_parse_numeric(const char *text, ENetAddress *out, const char **why)
{
    return parse(text, out, why, false);
}

static int parse(const char *text, ENetAddress *out, const char **why, bool names)
{
    *why = "is not HOST:PORT";
    if (!text) {
        return -1;
    }
    const char *colon = strchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) > RN_ENET_MAX_HOST_NAME ||
        strchr(colon + 1, ':')) {
        return -1;
    }
    const char *digits = colon + 1;
    uint32_t port = 0;
    size_t n = 0;
    *why = "has no port 1..65535 after the ':'";
    for (; digits[n] != '\0'; n++) {
        if (digits[n] < '0' || digits[n] > '9' || n >= 5) {
            return -1;
        }
        port = port * 10u + (uint32_t)(digits[n] - '0');
    }
    if (n == 0 || port == 0 || port > 65535u) {
        return -1;
    }
    char host[RN_ENET_MAX_HOST_NAME + 1];
    size_t host_len = (size_t)(colon - text);
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    /* Numeric first so dotted addresses never reach the (blocking) resolver. */
    if (enet_address_set_host_ip(out, host) != 0) {
        *why = names ? "names a host that cannot be resolved"
                     : "names a host while the session runs (only dotted addresses then: "
                       "the resolver would block a frame)";
        if (!names || enet_address_set_host(out, host) != 0) {
            return -1;
        }
    }
    out->port = (enet_uint16)port;
    return 0;
}

/* Resolved at check_address (session creation), so that connect, which the
 * session calls during its frames, finds a name without asking the resolver
 * again. Game thread only. */
static void rn_enet_remember(rn_enet *t, const char *text, const ENetAddress *addr)
{
    size_t n = strlen(text);
    if (n >= sizeof(t->resolved[0].text)) {
        return;
    }
    int slot = t->num_resolved < RN_ENET_RESOLVED ? t->num_resolved++ : 0;
    memcpy(t->resolved[slot].text, text, n + 1);
    t->resolved[slot].addr = *addr;
}

int rn_enet_resolve(rn_enet *t, const char *text, ENetAddress *out, const char **why)
{
    for (int i = 0; text && i < t->num_resolved; i++) {
        if (strcmp(t->resolved[i].text, text) == 0) {
            *out = t->resolved[i].addr;
            return 0;
        }
    }
    /* A dotted address needs no resolver and is not remembered: it must not
     * push a checked name out of the table. */
    if (rn_enet_parse_numeric(text, out, why) == 0) {
        return 0;
    }
    if (rn_enet_parse_address(text, out, why) != 0) {
        return -1;
    }
    rn_enet_remember(t, text, out);
    return 0;
}

rollnet_error rn_enet_check_address(void *self, const char *address, char *why, size_t cap)
{
    rn_enet *t = self;
    ENetAddress addr;
    const char *reason = NULL;
    /* Once frames run (an INTRO's address, checked inside poll), a name not
     * checked at creation is refused rather than resolved. */
    bool ok = false;
    if (t->running) {
        for (int i = 0; address && i < t->num_resolved && !ok; i++) {
            ok = strcmp(t->resolved[i].text, address) == 0;
        }
        ok = ok || rn_enet_parse_numeric(address, &addr, &reason) == 0;
    } else {
        ok = rn_enet_resolve(t, address, &addr, &reason) == 0;
    }
    if (ok) {
        return ROLLNET_ERR_OK;
    }
    if (why && cap > 0) {
        size_t n = strlen(reason);
        n = n < cap - 1 ? n : cap - 1;
        memcpy(why, reason, n);
        why[n] = '\0';
    }
    return ROLLNET_ERR_BAD_ADDRESS;
}

