/* rollnet-sim: the command line of the simulation campaign.
 *
 *   rollnet-sim --seeds A..B        run the scenarios of seeds A..B; the last line is
 *                                   "N scenarios, K failed, X scenarios/s"; exit 1 on a failure
 *   rollnet-sim --forever [--from A] seeds A, A+1, ... until killed, a progress line every 5 s
 *   rollnet-sim --replay FILE|DIR   run a scenario file, or every *.scn in a directory
 *   rollnet-sim --print SEED        write the scenario of a seed to stdout
 *   rollnet-sim --roundtrip A..B    write, read back and rerun each seed's scenario: same text,
 *                                   same digest
 *   rollnet-sim --selftest          each oracle fails when the driver breaks what it watches
 * Options:
 *   --shrink            shrink failures (in a campaign the first of each kind) and save them
 *   --out DIR           where shrunk scenarios go (default: tests/sim/corpus-pending)
 *   --oracles SET       the oracles checked, e.g. abcd (default all: abcdefghk)
 *   --repeat-check N    run every Nth scenario twice and compare digests (determinism)
 *   --shrink-runs N     run budget per shrink (default 400)
 *   --max-failures N    list at most N failing seeds (default 20)
 *   --spectator-shadow N  in a campaign, the run without outsiders (oracle e) goes with one
 *                       scenario in N whose only outsiders are spectators (default 2; 1: all)
 *   -v                  one line per scenario
 *   --trace             every event of every node on stderr (for one scenario)
 *   --sabotage O        break what oracle O watches from 5 s on (as --selftest does), e.g.
 *                       to see the shrinker at work
 * ROLLNET_SIM_SCALE=F multiplies the length of a --seeds range (CI knob). */
#define _POSIX_C_SOURCE 200809L /* fmemopen, strdup, clock_gettime */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sim.h"

#ifndef SIM_SOURCE_DIR
#define SIM_SOURCE_DIR "tests/sim"
#endif

typedef struct cli {
    const char *mode, *arg, *out, *from;
    sim_options opt;
    bool shrink;
    int repeat_check, shrink_runs, max_failures;
} cli;

#define MAX_KINDS 64

typedef struct tally {
    uint64_t scenarios, failed, by_oracle[26];
    char kinds[MAX_KINDS][64]; /* distinct failure signatures, in order found */
    uint64_t kind_count[MAX_KINDS], kind_seed[MAX_KINDS];
    int num_kinds;
    double start;
    /* Spectators: scenarios that drew them (and of those, shadowed), sums
     * of the results' spectator figures. */
    uint64_t spect_scenarios, spect_shadowed, spectators, spect_records, spect_finished;
    sim_rejoin_tally rejoin[2];
    uint64_t spect_ends[16], spect_stall_timeouts;
    /* Private scenarios and their strangers' refusals (keys.c). */
    uint64_t key_scenarios, key_hello, key_auth, key_resume, key_resumed;
} tally;

/* The index of a signature, added when new (-1 when the table is full). */
static int kind_of(tally *t, const char *sig, uint64_t seed, bool *fresh)
{
    *fresh = false;
    for (int i = 0; i < t->num_kinds; i++) {
        if (!strcmp(t->kinds[i], sig)) {
            t->kind_count[i]++;
            return i;
        }
    }
    if (t->num_kinds == MAX_KINDS) {
        return -1;
    }
    int i = t->num_kinds++;
    snprintf(t->kinds[i], sizeof(t->kinds[i]), "%s", sig);
    t->kind_count[i] = 1;
    t->kind_seed[i] = seed;
    *fresh = true;
    return i;
}

static char current[256]; /* what runs now, for a sanitizer's death report */

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sanitizers abort without saying which scenario ran: say it. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));
static void on_death(void)
{
    fprintf(stderr, "rollnet-sim: died while running %s\n", current);
}

static int usage(void)
{
    fprintf(stderr, "usage: rollnet-sim --seeds A..B | --forever [--from A] | --replay FILE|DIR |\n"
                    "       --print SEED | --roundtrip A..B | --selftest   [--shrink] [--out DIR]\n"
                    "       [--oracles abcde] [--repeat-check N] [--shrink-runs N] [-v]\n");
    return 2;
}

static bool parse_range(const char *s, uint64_t *a, uint64_t *b)
{
    char *end;
    *a = strtoull(s, &end, 10);
    if (end == s || strncmp(end, "..", 2) != 0) {
        return false;
    }
    const char *t = end + 2;
    *b = strtoull(t, &end, 10);
    return end != t && *end == '\0' && *b >= *a;
}

static void report_failure(const sim_scenario *sc, const sim_result *r, const char *name)
{
    printf("FAIL %s: oracle %c at %u ms: %s\n", name, r->oracle, r->at_ms, r->what);
    (void)sc;
}

/* Shrink, then save as <out>/<oracle>-<seed>.scn. */
static void shrink_and_save(const cli *c, sim_scenario *sc, sim_result *r)
{
    uint64_t seed = sc->seed;
    char before[128];
    snprintf(before, sizeof(before), "%d peers, %d frames, %d faults", sc->peers, sc->frames,
             sc->num_faults);
    int runs = sim_shrink(sc, r, &c->opt, c->shrink_runs);
    const char *dir = c->out ? c->out : SIM_SOURCE_DIR "/corpus-pending";
    mkdir(dir, 0777);
    char path[1024], comment[1024];
    snprintf(path, sizeof(path), "%s/%c-%llu.scn", dir, r->oracle, (unsigned long long)seed);
    snprintf(comment, sizeof(comment),
             "oracle %c at %u ms: %s\nshrunk from seed %llu (%s) in %d runs", r->oracle,
             r->at_ms, r->what, (unsigned long long)seed, before, runs);
    if (sim_scenario_save(sc, path, comment)) {
        printf("  shrunk to %d peers, %d frames, %d faults: %s\n", sc->peers, sc->frames,
               sc->num_faults, path);
    } else {
        printf("  could not write %s: %s\n", path, strerror(errno));
    }
}

/* One seed of a campaign; true when it passed. */
static bool campaign_one(const cli *c, tally *t, uint64_t seed)
{
    sim_scenario sc;
    sim_result r;
    sim_generate(&sc, seed);
    snprintf(current, sizeof(current), "seed %llu (rollnet-sim --print %llu)",
             (unsigned long long)seed, (unsigned long long)seed);
    sim_run(&sc, &c->opt, &r);
    t->scenarios++;
    if (sim_scenario_spectators(&sc) > 0) {
        t->spect_scenarios++;
        t->spect_shadowed += r.shadowed;
        t->spectators += r.spectators;
        t->spect_records += r.spectator_records;
        t->spect_finished += r.spectator_finished;
        for (int i = 0; i < 16; i++) {
            t->spect_ends[i] += r.spectator_ends[i];
        }
        t->spect_stall_timeouts += r.spectator_host_stall_timeouts;
    }
    sim_rejoin_tally_add(t->rejoin, &sc, &r);
    t->key_scenarios += sc.key[0] != '\0';
    t->key_hello += r.keyed_hello_refused;
    t->key_auth += r.keyed_auth_refused;
    t->key_resume += r.keyed_resume_refused;
    t->key_resumed += r.keyed_resumed;
    if (!r.failed && c->repeat_check > 0 && seed % (uint64_t)c->repeat_check == 0) {
        sim_result again;
        sim_run(&sc, &c->opt, &again);
        if (again.digest != r.digest || again.failed) {
            r.failed = true;
            r.oracle = 'x';
            snprintf(r.what, sizeof(r.what), "not deterministic: digest %016llx then %016llx",
                     (unsigned long long)r.digest, (unsigned long long)again.digest);
        }
    }
    if (!r.failed) {
        return true;
    }
    t->failed++;
    int o = r.oracle >= 'a' && r.oracle <= 'z' ? r.oracle - 'a' : 'x' - 'a';
    t->by_oracle[o]++;
    char name[64];
    snprintf(name, sizeof(name), "seed %llu", (unsigned long long)seed);
    if (t->failed <= (uint64_t)c->max_failures) {
        report_failure(&sc, &r, name);
    }
    char sig[64];
    bool fresh;
    sim_signature(&r, sig, sizeof(sig));
    kind_of(t, sig, seed, &fresh);
    if (c->shrink && fresh) {
        shrink_and_save(c, &sc, &r);
    }
    return false;
}

static void print_tally(const tally *t, const char *prefix)
{
    double el = wall_s() - t->start;
    printf("%s%llu scenarios, %llu failed, %.1f scenarios/s", prefix,
           (unsigned long long)t->scenarios, (unsigned long long)t->failed,
           el > 0 ? (double)t->scenarios / el : 0.0);
    const char *sep = " (";
    for (int o = 0; o < 26; o++) {
        if (t->by_oracle[o]) {
            printf("%soracle %c: %llu", sep, 'a' + o, (unsigned long long)t->by_oracle[o]);
            sep = ", ";
        }
    }
    printf("%s\n", t->failed ? ")" : "");
    fflush(stdout);
}

static void print_spectators(const tally *t)
{
    printf("spectators: %llu scenarios drew them (%llu with the run without them), %llu joined, "
           "%llu records equal to the host's; ends: %llu timeout, %llu closed, %llu no answer, "
           "%llu other, %llu finished; %llu timeouts while the host ran, reachable\n",
           (unsigned long long)t->spect_scenarios, (unsigned long long)t->spect_shadowed,
           (unsigned long long)t->spectators, (unsigned long long)t->spect_records,
           (unsigned long long)t->spect_ends[ROLLNET_DISCONNECT_TIMEOUT],
           (unsigned long long)t->spect_ends[ROLLNET_DISCONNECT_CLOSED],
           (unsigned long long)t->spect_ends[ROLLNET_DISCONNECT_NO_ANSWER],
           (unsigned long long)(t->spect_ends[ROLLNET_DISCONNECT_LOADING_GRACE] +
                                t->spect_ends[ROLLNET_DISCONNECT_HANDSHAKE_TIMEOUT] +
                                t->spect_ends[ROLLNET_DISCONNECT_BY_PEERS] +
                                t->spect_ends[ROLLNET_DISCONNECT_LEFT] +
                                t->spect_ends[ROLLNET_DISCONNECT_BUSY_TIMEOUT] +
                                t->spect_ends[ROLLNET_DISCONNECT_CONNECTION_LOST] +
                                t->spect_ends[ROLLNET_DISCONNECT_STATE_INVALID]),
           (unsigned long long)t->spect_finished, (unsigned long long)t->spect_stall_timeouts);
}

static void print_kinds(const tally *t)
{
    for (int i = 0; i < t->num_kinds; i++) {
        printf("  %5llu x %s... (first: seed %llu)\n", (unsigned long long)t->kind_count[i],
               t->kinds[i], (unsigned long long)t->kind_seed[i]);
    }
}

static int run_seeds(const cli *c)
{
    uint64_t a, b;
    if (!parse_range(c->arg, &a, &b)) {
        return usage();
    }
    const char *scale = getenv("ROLLNET_SIM_SCALE");
    if (scale && atof(scale) > 0) {
        b = a + (uint64_t)((double)(b - a + 1) * atof(scale)) - 1;
    }
    tally t = {0};
    t.start = wall_s();
    for (uint64_t s = a; s <= b; s++) {
        campaign_one(c, &t, s);
    }
    print_kinds(&t);
    print_spectators(&t);
    sim_rejoin_tally_print(t.rejoin);
    printf("keys: %llu scenarios drew a session key (%llu connections regained with the keyed "
           "RESUME); their strangers were refused %llu times at the HELLO, %llu at the AUTH, "
           "%llu at the RESUME claim or proof\n",
           (unsigned long long)t.key_scenarios, (unsigned long long)t.key_resumed,
           (unsigned long long)t.key_hello, (unsigned long long)t.key_auth,
           (unsigned long long)t.key_resume);
    print_tally(&t, "");
    return t.failed ? 1 : 0;
}

static int run_forever(const cli *c)
{
    uint64_t s = c->from ? strtoull(c->from, NULL, 10) : 1;
    tally t = {0};
    t.start = wall_s();
    double last = t.start;
    uint64_t first = s;
    for (;; s++) {
        campaign_one(c, &t, s);
        if (wall_s() - last >= 5.0) {
            last = wall_s();
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "seeds %llu..%llu: ", (unsigned long long)first,
                     (unsigned long long)s);
            print_tally(&t, prefix);
        }
    }
    return 0;
}

static bool replay_file(const cli *c, const char *path)
{
    sim_scenario sc;
    char err[256];
    if (!sim_scenario_load(&sc, path, err, sizeof(err))) {
        printf("FAIL %s: %s\n", path, err);
        return false;
    }
    snprintf(current, sizeof(current), "%s", path);
    sim_result r;
    sim_run(&sc, &c->opt, &r);
    if (!r.failed) {
        printf("PASS %s (%llu frames, %llu records, digest %016llx)\n", path,
               (unsigned long long)r.frames, (unsigned long long)r.records,
               (unsigned long long)r.digest);
        return true;
    }
    report_failure(&sc, &r, path);
    if (c->shrink) {
        shrink_and_save(c, &sc, &r);
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_replay(const cli *c)
{
    struct stat st;
    if (stat(c->arg, &st) != 0) {
        fprintf(stderr, "rollnet-sim: cannot read %s\n", c->arg);
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        return replay_file(c, c->arg) ? 0 : 1;
    }
    DIR *d = opendir(c->arg);
    char *names[1024];
    int n = 0, failed = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL && n < 1024;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".scn") == 0) {
            names[n++] = strdup(e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
    for (int i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", c->arg, names[i]);
        failed += !replay_file(c, path);
        free(names[i]);
    }
    printf("%d scenarios, %d failed\n", n, failed);
    return failed ? 1 : 0;
}

/* The text form holds the whole scenario: written, read back and written
 * again it is the same text, and it runs to the same digest. */
static int run_roundtrip(const cli *c)
{
    uint64_t a, b;
    if (!parse_range(c->arg, &a, &b)) {
        return usage();
    }
    int bad = 0;
    for (uint64_t s = a; s <= b; s++) {
        sim_scenario sc, back;
        char t1[8192] = "", t2[8192] = "", err[256];
        sim_generate(&sc, s);
        FILE *f = fmemopen(t1, sizeof(t1) - 1, "w");
        sim_scenario_write(&sc, f);
        fclose(f);
        f = fmemopen(t1, strlen(t1), "r");
        bool ok = sim_scenario_read(&back, f, err, sizeof(err));
        fclose(f);
        f = fmemopen(t2, sizeof(t2) - 1, "w");
        sim_scenario_write(&back, f);
        fclose(f);
        sim_result r1, r2;
        sim_run(&sc, &c->opt, &r1);
        sim_run(&back, &c->opt, &r2);
        if (!ok || strcmp(t1, t2) != 0 || r1.digest != r2.digest) {
            printf("FAIL seed %llu: %s\n", (unsigned long long)s,
                   !ok ? err : strcmp(t1, t2) ? "text differs" : "digest differs");
            bad++;
        }
    }
    printf("%llu scenarios round-tripped, %d failed\n", (unsigned long long)(b - a + 1), bad);
    return bad ? 1 : 0;
}

/* The self-test's scenario for sabotage o (see run_selftest). */
static void selftest_scenario(sim_scenario *sc, char o)
{
    bool rejoin = o == 'r' || o == 'm';
    sim_scenario_init(sc, 7, o == 'r' ? 2 : 3);
    sc->frames = 600;
    if (rejoin) {
        sc->reconnect_ms = 3000;
        sc->rejoin_ms = 6000;
    }
    sim_fault f;
    memset(&f, 0, sizeof(f));
    f.kind = SIM_FREEZE; /* stalls for oracle c */
    f.a = sc->peers - 1;
    f.at_ms = 5500;
    f.for_ms = 1200;
    sim_scenario_add(sc, &f);
    if (o == 'e') {
        memset(&f, 0, sizeof(f));
        f.kind = SIM_STRANGER;
        f.b = 1;
        f.at_ms = 100;
        sim_scenario_add(sc, &f);
    }
    if (o == 'k') {
        snprintf(sc->key, sizeof(sc->key), "invite-4711");
        memset(&f, 0, sizeof(f));
        f.kind = SIM_STRANGER;
        f.stranger = SIM_STRANGER_HELLO;
        f.key = SIM_KEY_RIGHT;
        f.b = 2;
        f.at_ms = 5000; /* when the sabotage starts */
        sim_scenario_add(sc, &f);
    }
    if (o == 'f' || o == 'p' || o == 'n') {
        memset(&f, 0, sizeof(f));
        f.kind = SIM_SPECTATE; /* sabotage 'f': its records are not the host's */
        f.a = SIM_SPEC_NODE;
        f.b = 2;
        f.at_ms = 100;
        sim_scenario_add(sc, &f);
    }
    if (rejoin) {
        memset(&f, 0, sizeof(f));
        f.kind = SIM_DIE;
        f.a = 1;
        f.at_ms = 2000;
        sim_scenario_add(sc, &f);
        f.kind = SIM_RESTART;
        f.at_ms = 3500;
        sim_scenario_add(sc, &f);
    }
    if (o == 'n') {
        memset(&f, 0, sizeof(f));
        f.kind = SIM_PARTITION;
        f.a = 2;
        f.b = SIM_SPEC_NODE;
        f.both = true;
        f.at_ms = 5000;
        f.for_ms = 4000;
        sim_scenario_add(sc, &f);
    }
}

/* The oracles can fail: a scenario that passes fails oracle o once the
 * driver breaks, on purpose, what o watches (sim_options.sabotage). */
static int run_selftest(const cli *c)
{
    int bad = 0;
    /* 's': a stop with DISCONNECTED claiming a mesh split that nothing
     * caused is still an error of a running session (oracle x). 'p': e's
     * sabotage with a spectator where e has a stranger (the shadow run of a
     * scenario whose only outsider is a spectator). 'n': a spectator cut off
     * from its host whose DISCONNECTED goes unseen (oracle f: it ended
     * without saying why). 'r': two players, node 1 crashes and is
     * restarted with rejoin (the clean run must rejoin), and the restarted
     * process takes the frame after the one REJOINED names for its start
     * (oracle a); 'm': the same with three players (every survivor's
     * REJOINED names the frame the restarted process does not take). 'k': a private scenario whose stranger with the right key
     * claims no seat, and is let in as a spectator (oracle k). */
    for (const char *o = "abcdefpnsrmk"; *o; o++) {
        char want = *o == 's'                ? 'x'
                    : *o == 'p'              ? 'e'
                    : *o == 'n'              ? 'f'
                    : *o == 'r' || *o == 'm' ? 'a'
                                             : *o;
        sim_scenario sc;
        selftest_scenario(&sc, *o);
        sim_options opt = c->opt;
        sim_result clean, broken;
        opt.sabotage = 0;
        sim_run(&sc, &opt, &clean);
        opt.sabotage = *o == 'p' ? 'e' : *o == 'm' ? 'r' : *o;
        sim_run(&sc, &opt, &broken);
        bool ok = !clean.failed && broken.failed && broken.oracle == want &&
                  ((*o != 'r' && *o != 'm') || clean.rejoins == 1);
        char label[16];
        snprintf(label, sizeof(label), want != *o ? "%c case %c" : "%c", want, *o);
        printf("%s oracle %s: clean run %s; sabotaged run %s%c%s%s\n", ok ? "PASS" : "FAIL",
               label, clean.failed ? "FAILED: " : "passed", broken.failed ? "failed oracle " : "passed",
               broken.failed ? broken.oracle : ' ', broken.failed ? ": " : "",
               broken.failed ? broken.what : "");
        if (clean.failed) {
            printf("  clean: %s\n", clean.what);
        }
        bad += !ok;
    }
    return bad ? 1 : 0;
}

static bool parse_args(int argc, char **argv, cli *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--seeds") || !strcmp(a, "--replay") || !strcmp(a, "--print") ||
            !strcmp(a, "--roundtrip")) {
            if (!has) {
                return false;
            }
            c->mode = a + 2;
            c->arg = argv[++i];
        } else if (!strcmp(a, "--forever")) {
            c->mode = "forever";
        } else if (!strcmp(a, "--selftest")) {
            c->mode = "selftest";
        } else if (!strcmp(a, "--shrink")) {
            c->shrink = true;
        } else if (!strcmp(a, "-v")) {
            c->opt.verbose = true;
        } else if (!strcmp(a, "--trace")) {
            c->opt.trace = true;
        } else if (has && !strcmp(a, "--from")) {
            c->from = argv[++i];
        } else if (has && !strcmp(a, "--out")) {
            c->out = argv[++i];
        } else if (has && !strcmp(a, "--oracles")) {
            c->opt.oracles = argv[++i];
        } else if (has && !strcmp(a, "--repeat-check")) {
            c->repeat_check = atoi(argv[++i]);
        } else if (has && !strcmp(a, "--shrink-runs")) {
            c->shrink_runs = atoi(argv[++i]);
        } else if (has && !strcmp(a, "--sabotage")) {
            c->opt.sabotage = argv[++i][0];
        } else if (has && !strcmp(a, "--spectator-shadow")) {
            c->opt.spectator_shadow = atoi(argv[++i]);
        } else if (has && !strcmp(a, "--max-failures")) {
            c->max_failures = atoi(argv[++i]);
        } else {
            return false;
        }
    }
    return c->mode != NULL;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    c.shrink_runs = 400;
    c.max_failures = 20;
    c.opt.spectator_shadow = -1;
    if (!parse_args(argc, argv, &c)) {
        return usage();
    }
    if (c.opt.spectator_shadow < 0) {
        /* A campaign shadows half its spectator scenarios; a replay, all. */
        bool campaign = !strcmp(c.mode, "seeds") || !strcmp(c.mode, "forever");
        c.opt.spectator_shadow = campaign ? 2 : 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(on_death);
    }
    if (!strcmp(c.mode, "seeds")) {
        return run_seeds(&c);
    }
    if (!strcmp(c.mode, "forever")) {
        return run_forever(&c);
    }
    if (!strcmp(c.mode, "replay")) {
        return run_replay(&c);
    }
    if (!strcmp(c.mode, "roundtrip")) {
        return run_roundtrip(&c);
    }
    if (!strcmp(c.mode, "selftest")) {
        return run_selftest(&c);
    }
    sim_scenario sc;
    sim_generate(&sc, strtoull(c.arg, NULL, 10));
    sim_scenario_write(&sc, stdout);
    return 0;
}
