/* Scenarios and their text form: one `key value` line per parameter, then
 * one line per fault, times in ms since the start; '#' starts a comment.
 *
 *   seed 17                  peers 3               frames 1800
 *   input_size 1             input_delay 2         prediction 8
 *   checksum_interval 16     episode_steps 300     catchup 1
 *   timeouts handshake=4000,notify=500,disconnect=2000,episode=3000,loading=6000
 *   link 0->1 at 0 delay=40,jitter=10,loss=5,dup=1,reorder=2
 *   burst 0->1 at 3000 for 400
 *   partition 1<->2 at 5000 for 1200      (1->2: one way)
 *   freeze 2 at 3000 for 2500
 *   loading 1 at 3000 for 4000
 *   die 2 at 6100                         (quit 2 at 6100: closes its session)
 *   stranger garbage to 1 at 400 for 2000 (without `for`: it stays)
 *   noread 1 at 2000 for 1500            (its game leaves the ledger unread)
 *   spectator s0 to 2 at 1500             (spectator 0 watches node 2 from 1500 ms on)
 *   link 2->s0 at 0 delay=80,loss=10      (a spectator's links: to and from its host)
 *   freeze s0 at 4000 for 900             (die s0 / quit s0 at 7000: it crashes / leaves)
 *   restart 1 at 5200 rejoin              (node 1's process starts again, desc.rejoin)
 *   absent neutral                        (absent_play NEUTRAL; needs timeouts ...,rejoin=N)
 *   key invite-4711                       (a private session: every peer and spectator's key)
 *   stranger hello to 1 at 900 key wrong  (private: it knows no key, another or the right one)
 *
 * Link conditions use rollnet_netsim_parse's syntax (loss, dup and reorder
 * in percent). Nodes 0..peers-1 are the session's peers; node i hosts
 * player i. s0..s2 are spectators: a `spectator` line creates one, and its
 * faults (link, burst and partition with its host, freeze, die, quit) follow
 * it. A scenario without spectator lines reads and runs as it always did.
 * `rejoin=` in the timeouts sets rejoin_timeout_ms (without it: no rejoin). */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const char *const fault_names[SIM_FAULT_KINDS] = {
    "link", "burst", "partition", "freeze", "loading", "die", "quit", "stranger", "noread",
    "close", "rebind", "spectator", "restart",
};
static const char *const stranger_names[SIM_STRANGER_KINDS] = {
    "silent", "garbage", "hello", "range", "wire", "resume",
};

const char *sim_fault_name(sim_fault_kind k)
{
    return (unsigned)k < SIM_FAULT_KINDS ? fault_names[k] : "?";
}

const char *sim_stranger_name(sim_stranger_kind k)
{
    return (unsigned)k < SIM_STRANGER_KINDS ? stranger_names[k] : "?";
}

void sim_scenario_init(sim_scenario *sc, uint64_t seed, int peers)
{
    memset(sc, 0, sizeof(*sc));
    sc->seed = seed;
    sc->peers = peers;
    sc->frames = 1200;
    sc->input_size = 1;
    sc->input_delay = 2;
    sc->prediction = ROLLNET_MAX_PREDICTION;
    sc->checksum_interval = 16;
    sc->handshake_ms = 4000;
    sc->notify_ms = 500;
    sc->disconnect_ms = 2000;
    sc->episode_ms = 3000;
    sc->loading_ms = 6000;
}

bool sim_scenario_add(sim_scenario *sc, const sim_fault *f)
{
    if (sc->num_faults >= SIM_MAX_FAULTS) {
        return false;
    }
    sc->faults[sc->num_faults++] = *f;
    return true;
}

void sim_scenario_remove(sim_scenario *sc, int index)
{
    if (index < 0 || index >= sc->num_faults) {
        return;
    }
    memmove(&sc->faults[index], &sc->faults[index + 1],
            (size_t)(sc->num_faults - index - 1) * sizeof(sim_fault));
    sc->num_faults--;
}

int sim_scenario_strangers(const sim_scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->num_faults; i++) {
        n += sc->faults[i].kind == SIM_STRANGER;
    }
    return n;
}

int sim_scenario_spectators(const sim_scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->num_faults; i++) {
        n += sc->faults[i].kind == SIM_SPECTATE;
    }
    return n;
}

int sim_scenario_spectator_slots(const sim_scenario *sc)
{
    int n = 0;
    for (int i = 0; i < sc->num_faults; i++) {
        const sim_fault *f = &sc->faults[i];
        if (f->kind == SIM_SPECTATE && sim_is_spectator(f->a) && f->a - SIM_SPEC_NODE + 1 > n) {
            n = f->a - SIM_SPEC_NODE + 1;
        }
    }
    return n;
}

const sim_fault *sim_scenario_spectate(const sim_scenario *sc, int id)
{
    for (int i = 0; i < sc->num_faults; i++) {
        if (sc->faults[i].kind == SIM_SPECTATE && sc->faults[i].a == id) {
            return &sc->faults[i];
        }
    }
    return NULL;
}

static bool names_spectator(const sim_fault *f, int id)
{
    bool pair = f->kind == SIM_LINK || f->kind == SIM_BURST || f->kind == SIM_PARTITION;
    return f->kind != SIM_STRANGER && (f->a == id || (pair && f->b == id));
}

void sim_scenario_drop_spectator(sim_scenario *sc, int id)
{
    for (int i = sc->num_faults - 1; i >= 0; i--) {
        if (names_spectator(&sc->faults[i], id)) {
            sim_scenario_remove(sc, i);
        }
    }
}

/* ---- Writing ---- */

/* A node as the text names it: "2", or "s0" for a spectator. */
static const char *node_name(int id, char buf[16])
{
    if (sim_is_spectator(id)) {
        snprintf(buf, 16, "s%d", id - SIM_SPEC_NODE);
    } else {
        snprintf(buf, 16, "%d", id);
    }
    return buf;
}

static void write_percent(FILE *out, const char *key, uint32_t permille)
{
    if (permille % 10) {
        fprintf(out, ",%s=%u.%u", key, permille / 10, permille % 10);
    } else {
        fprintf(out, ",%s=%u", key, permille / 10);
    }
}

static void write_link(FILE *out, const rollnet_netsim_desc *d)
{
    fprintf(out, "delay=%u,jitter=%u", d->delay_ms, d->jitter_ms);
    write_percent(out, "loss", d->loss_permille);
    write_percent(out, "dup", d->dup_permille);
    write_percent(out, "reorder", d->reorder_permille);
    if (d->reorder_ms) {
        fprintf(out, ",reorder_ms=%u", d->reorder_ms);
    }
}

static void write_fault(FILE *out, const sim_fault *f)
{
    char a[16], b[16];
    node_name(f->a, a);
    node_name(f->b, b);
    fprintf(out, "%s ", sim_fault_name(f->kind));
    switch (f->kind) {
    case SIM_LINK:
        fprintf(out, "%s->%s at %u ", a, b, f->at_ms);
        write_link(out, &f->link);
        break;
    case SIM_BURST:
    case SIM_PARTITION:
        fprintf(out, "%s%s%s at %u for %u", a, f->both ? "<->" : "->", b, f->at_ms, f->for_ms);
        break;
    case SIM_FREEZE:
    case SIM_LOADING:
    case SIM_NOREAD:
        fprintf(out, "%s at %u for %u", a, f->at_ms, f->for_ms);
        break;
    case SIM_DIE:
    case SIM_QUIT:
        fprintf(out, "%s at %u", a, f->at_ms);
        break;
    case SIM_RESTART:
        fprintf(out, "%s at %u rejoin", a, f->at_ms);
        break;
    case SIM_SPECTATE:
        fprintf(out, "%s to %s at %u", a, b, f->at_ms);
        break;
    case SIM_CLOSE:
    case SIM_REBIND:
        fprintf(out, "%d->%d at %u", f->a, f->b, f->at_ms);
        break;
    case SIM_STRANGER:
        fprintf(out, "%s to %d at %u", sim_stranger_name(f->stranger), f->b, f->at_ms);
        if (f->for_ms) {
            fprintf(out, " for %u", f->for_ms);
        }
        if (f->key != SIM_KEY_NONE) {
            fprintf(out, " key %s", sim_key_name(f->key));
        }
        break;
    default:
        break;
    }
    fputc('\n', out);
}

void sim_scenario_write(const sim_scenario *sc, FILE *out)
{
    fprintf(out, "seed %llu\npeers %d\nframes %d\n", (unsigned long long)sc->seed, sc->peers,
            sc->frames);
    fprintf(out, "input_size %d\ninput_delay %d\nprediction %d\nchecksum_interval %d\n",
            sc->input_size, sc->input_delay, sc->prediction, sc->checksum_interval);
    fprintf(out, "episode_steps %d\ncatchup %d\n", sc->episode_steps, sc->catchup ? 1 : 0);
    fprintf(out, "timeouts handshake=%u,notify=%u,disconnect=%u,episode=%u,loading=%u",
            sc->handshake_ms, sc->notify_ms, sc->disconnect_ms, sc->episode_ms, sc->loading_ms);
    if (sc->reconnect_ms) {
        fprintf(out, ",reconnect=%u", sc->reconnect_ms);
    }
    if (sc->rejoin_ms) {
        fprintf(out, ",rejoin=%u", sc->rejoin_ms);
    }
    fputc('\n', out);
    if (sc->absent_neutral) {
        fprintf(out, "absent neutral\n");
    }
    if (sc->key[0]) {
        fprintf(out, "key %s\n", sc->key);
    }
    for (int i = 0; i < sc->num_faults; i++) {
        write_fault(out, &sc->faults[i]);
    }
}

bool sim_scenario_save(const sim_scenario *sc, const char *path, const char *comment)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return false;
    }
    if (comment) {
        /* One comment line per line of the text. */
        const char *p = comment;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(f, "# %.*s\n", (int)len, p);
            p += len + (nl ? 1 : 0);
        }
    }
    sim_scenario_write(sc, f);
    return fclose(f) == 0;
}

/* ---- Reading ---- */

static bool parse_timeouts(sim_scenario *sc, const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char key[32];
        unsigned v;
        if (sscanf(tok, "%31[a-z]=%u", key, &v) != 2) {
            return false;
        }
        uint32_t *dst = !strcmp(key, "handshake")    ? &sc->handshake_ms
                        : !strcmp(key, "notify")     ? &sc->notify_ms
                        : !strcmp(key, "disconnect") ? &sc->disconnect_ms
                        : !strcmp(key, "episode")    ? &sc->episode_ms
                        : !strcmp(key, "loading")    ? &sc->loading_ms
                        : !strcmp(key, "reconnect")  ? &sc->reconnect_ms
                        : !strcmp(key, "rejoin")     ? &sc->rejoin_ms
                                                     : NULL;
        if (!dst) {
            return false;
        }
        *dst = v;
    }
    return true;
}

/* "2" or "s0", the whole of s up to `end` (NULL: the end of s). */
static bool parse_node(const char *s, const char *end, int *out)
{
    char buf[16];
    size_t len = end ? (size_t)(end - s) : strlen(s);
    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    bool spect = buf[0] == 's';
    const char *digits = buf + (spect ? 1 : 0);
    char *stop;
    long v = strtol(digits, &stop, 10);
    if (*digits < '0' || *digits > '9' || *stop != '\0' || v < 0 ||
        v >= (spect ? SIM_MAX_SPECTATORS : SIM_SPEC_NODE)) {
        return false;
    }
    *out = (int)v + (spect ? SIM_SPEC_NODE : 0);
    return true;
}

/* "a->b" or "a<->b". */
static bool parse_pair(const char *s, sim_fault *f)
{
    const char *both = strstr(s, "<->");
    const char *one = strstr(s, "->");
    const char *mid = both ? both : one;
    if (!mid) {
        return false;
    }
    f->both = both != NULL;
    return parse_node(s, mid, &f->a) && parse_node(mid + (both ? 3 : 2), NULL, &f->b);
}

static bool parse_stranger_kind(const char *s, sim_stranger_kind *out)
{
    for (int k = 0; k < SIM_STRANGER_KINDS; k++) {
        if (!strcmp(s, stranger_names[k])) {
            *out = (sim_stranger_kind)k;
            return true;
        }
    }
    return false;
}

static bool parse_fault(sim_fault_kind kind, const char *rest, sim_fault *f)
{
    char w1[64] = "", w2[128] = "";
    unsigned at = 0, dur = 0;
    int n = 0;
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    switch (kind) {
    case SIM_LINK:
        if (sscanf(rest, "%63s at %u %127s %n", w1, &at, w2, &n) != 3 || rest[n] != '\0' ||
            !parse_pair(w1, f) || f->both) {
            return false;
        }
        f->at_ms = at;
        return rollnet_netsim_parse(w2, &f->link) == ROLLNET_ERR_OK;
    case SIM_BURST:
    case SIM_PARTITION:
        if (sscanf(rest, "%63s at %u for %u %n", w1, &at, &dur, &n) != 3 || rest[n] != '\0' ||
            !parse_pair(w1, f) || (kind == SIM_BURST && f->both)) {
            return false;
        }
        break;
    case SIM_FREEZE:
    case SIM_LOADING:
    case SIM_NOREAD:
        if (sscanf(rest, "%63s at %u for %u %n", w1, &at, &dur, &n) != 3 || rest[n] != '\0' ||
            !parse_node(w1, NULL, &f->a)) {
            return false;
        }
        break;
    case SIM_DIE:
    case SIM_QUIT:
        if (sscanf(rest, "%63s at %u %n", w1, &at, &n) != 2 || rest[n] != '\0' ||
            !parse_node(w1, NULL, &f->a)) {
            return false;
        }
        break;
    case SIM_RESTART:
        if (sscanf(rest, "%63s at %u rejoin %n", w1, &at, &n) != 2 || rest[n] != '\0' ||
            !parse_node(w1, NULL, &f->a)) {
            return false;
        }
        break;
    case SIM_SPECTATE:
        if (sscanf(rest, "%63s to %127s at %u %n", w1, w2, &at, &n) != 3 || rest[n] != '\0' ||
            !parse_node(w1, NULL, &f->a) || !parse_node(w2, NULL, &f->b)) {
            return false;
        }
        break;
    case SIM_CLOSE:
    case SIM_REBIND:
        if (sscanf(rest, "%63s at %u %n", w1, &at, &n) != 2 || rest[n] != '\0' ||
            !parse_pair(w1, f) || f->both) {
            return false;
        }
        break;
    case SIM_STRANGER:
        if (sscanf(rest, "%63s to %d at %u %n", w1, &f->b, &at, &n) != 3 ||
            !parse_stranger_kind(w1, &f->stranger)) {
            return false;
        }
        if (!strncmp(rest + n, "for ", 4)) {
            int m = 0;
            if (sscanf(rest + n, "for %u %n", &dur, &m) != 1 || dur == 0) {
                return false;
            }
            n += m;
        }
        if (rest[n] != '\0') {
            int m = 0;
            if (sscanf(rest + n, "key %63s %n", w2, &m) != 1 || rest[n + m] != '\0' ||
                !sim_key_parse(w2, &f->key)) {
                return false;
            }
        }
        break;
    default:
        return false;
    }
    f->at_ms = at;
    f->for_ms = dur;
    return true;
}

static bool valid_node(const sim_scenario *sc, int i)
{
    return i >= 0 && i < sc->peers;
}

/* A spectator with its `spectator` line, or a peer. */
static bool valid_any(const sim_scenario *sc, int i)
{
    return valid_node(sc, i) || (sim_is_spectator(i) && sim_scenario_spectate(sc, i) != NULL);
}

/* Two peers, or a spectator and its host. */
static bool valid_pair(const sim_scenario *sc, const sim_fault *f)
{
    if (sim_is_spectator(f->a) || sim_is_spectator(f->b)) {
        int spect = sim_is_spectator(f->a) ? f->a : f->b;
        int other = spect == f->a ? f->b : f->a;
        const sim_fault *sp = sim_scenario_spectate(sc, spect);
        return sp != NULL && sp->b == other;
    }
    return valid_node(sc, f->a) && valid_node(sc, f->b) && f->a != f->b;
}

/* Nodes in range, pairs distinct, durations given where they matter. */
static bool fault_valid(const sim_scenario *sc, const sim_fault *f)
{
    switch (f->kind) {
    case SIM_LINK:
    case SIM_BURST:
    case SIM_PARTITION:
        return valid_pair(sc, f) && (f->kind == SIM_LINK || f->for_ms > 0);
    case SIM_FREEZE:
        return valid_any(sc, f->a) && f->for_ms > 0;
    case SIM_LOADING:
    case SIM_NOREAD:
        return valid_node(sc, f->a) && f->for_ms > 0;
    case SIM_DIE:
    case SIM_QUIT:
        return valid_any(sc, f->a);
    case SIM_RESTART:
        return valid_node(sc, f->a);
    case SIM_SPECTATE:
        return sim_is_spectator(f->a) && valid_node(sc, f->b) &&
               sim_scenario_spectate(sc, f->a) == f; /* one line per spectator */
    case SIM_CLOSE:
    case SIM_REBIND:
        return valid_node(sc, f->a) && valid_node(sc, f->b) && f->a != f->b;
    case SIM_STRANGER:
        /* A key and a RESUME claim only where there is a key to prove. */
        return valid_node(sc, f->b) &&
               (sc->key[0] || (f->key == SIM_KEY_NONE && f->stranger != SIM_STRANGER_RESUME));
    default:
        return false;
    }
}

static bool scenario_valid(const sim_scenario *sc, char *err, size_t cap)
{
    if (sc->peers < 2 || sc->peers > SIM_MAX_PEERS || sc->frames < 1 || sc->input_size < 1 ||
        sc->input_size > SIM_MAX_INPUT || sc->input_delay < 0 || sc->input_delay > 8 ||
        sc->prediction < 1 || sc->prediction > ROLLNET_MAX_PREDICTION || sc->episode_steps < 0) {
        snprintf(err, cap, "parameters out of range (peers 2..%d, input_size 1..%d)",
                 SIM_MAX_PEERS, SIM_MAX_INPUT);
        return false;
    }
    if (sim_scenario_strangers(sc) > SIM_MAX_STRANGERS) {
        snprintf(err, cap, "more than %d strangers", SIM_MAX_STRANGERS);
        return false;
    }
    for (int i = 0; i < sc->num_faults; i++) {
        if (!fault_valid(sc, &sc->faults[i])) {
            snprintf(err, cap, "fault %d (%s) names a node out of range", i,
                     sim_fault_name(sc->faults[i].kind));
            return false;
        }
    }
    return true;
}

static bool read_param(sim_scenario *sc, const char *key, const char *rest)
{
    long long v;
    char *end;
    if (!strcmp(key, "timeouts")) {
        return parse_timeouts(sc, rest);
    }
    if (!strcmp(key, "absent")) {
        sc->absent_neutral = !strcmp(rest, "neutral");
        return sc->absent_neutral || !strcmp(rest, "pause");
    }
    if (!strcmp(key, "key")) {
        size_t len = strlen(rest);
        if (len == 0 || len >= sizeof(sc->key) || strpbrk(rest, " \t")) {
            return false;
        }
        memcpy(sc->key, rest, len + 1);
        return true;
    }
    v = strtoll(rest, &end, 10);
    if (end == rest || *end != '\0') {
        return false;
    }
    if (!strcmp(key, "seed")) {
        sc->seed = (uint64_t)v;
    } else if (!strcmp(key, "peers")) {
        sc->peers = (int)v;
    } else if (!strcmp(key, "frames")) {
        sc->frames = (int)v;
    } else if (!strcmp(key, "input_size")) {
        sc->input_size = (int)v;
    } else if (!strcmp(key, "input_delay")) {
        sc->input_delay = (int)v;
    } else if (!strcmp(key, "prediction")) {
        sc->prediction = (int)v;
    } else if (!strcmp(key, "checksum_interval")) {
        sc->checksum_interval = (int)v;
    } else if (!strcmp(key, "episode_steps")) {
        sc->episode_steps = (int)v;
    } else if (!strcmp(key, "catchup")) {
        sc->catchup = v != 0;
    } else {
        return false;
    }
    return true;
}

static bool read_line(sim_scenario *sc, char *line)
{
    char *hash = strchr(line, '#');
    if (hash) {
        *hash = '\0';
    }
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t')) {
        line[--len] = '\0';
    }
    char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0') {
        return true;
    }
    char key[32];
    int n = 0;
    if (sscanf(p, "%31s %n", key, &n) != 1) {
        return false;
    }
    const char *rest = p + n;
    for (int k = 0; k < SIM_FAULT_KINDS; k++) {
        if (!strcmp(key, fault_names[k])) {
            sim_fault f;
            return parse_fault((sim_fault_kind)k, rest, &f) && sim_scenario_add(sc, &f);
        }
    }
    return read_param(sc, key, rest);
}

bool sim_scenario_read(sim_scenario *sc, FILE *in, char *err, size_t err_cap)
{
    sim_scenario_init(sc, 0, 2);
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), in)) {
        lineno++;
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", line);
        if (!read_line(sc, line)) {
            copy[strcspn(copy, "\r\n")] = '\0';
            snprintf(err, err_cap, "line %d: cannot read \"%s\"", lineno, copy);
            return false;
        }
    }
    return scenario_valid(sc, err, err_cap);
}

bool sim_scenario_load(sim_scenario *sc, const char *path, char *err, size_t err_cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_cap, "cannot open %s", path);
        return false;
    }
    bool ok = sim_scenario_read(sc, f, err, err_cap);
    fclose(f);
    return ok;
}
