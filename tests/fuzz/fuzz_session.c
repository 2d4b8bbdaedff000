/* libFuzzer target: a whole P2P session fed an arbitrary sequence of
 * datagrams on both channels, connections and departures, with the game
 * carrying out every request. The input format and the invariants are in
 * fuzz_session.h; the seeds in corpus/session/ are real sessions recorded by
 * fuzz_seeds.
 *
 * Without libFuzzer (ROLLNET_LIBFUZZER unset) the replay driver runs it over
 * files; fuzz_replay_check() then asks that the seeds reached deep states,
 * so a protocol change that makes the recorded traffic stale fails loudly
 * (regenerate with fuzz_seeds). */
#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int fuzz_replay_check(void);

static fz_summary g_best; /* the deepest of the inputs run, field by field */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_session";
    fuzz_watch_install();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_summary s;
    memset(&s, 0, sizeof(s));
    fz_run(data, size, &s);
#define FZ_MAX(f) g_best.f = s.f > g_best.f ? s.f : g_best.f
    FZ_MAX(frames);
    FZ_MAX(records);
    FZ_MAX(confirmed_frame);
    FZ_MAX(episode);
    FZ_MAX(rollbacks);
    FZ_MAX(max_rollback_depth);
    FZ_MAX(leaves);
    for (int t = 0; t < FZ_EVENT_TYPES; t++) {
        FZ_MAX(events[t]);
    }
#undef FZ_MAX
    return 0;
}

/* What the replayed inputs reached, and 1 when the checked-in seeds no
 * longer reach what they were recorded for. */
int fuzz_replay_check(void)
{
    printf("fuzz_session: deepest run: %lld frames, confirmed frame %d, %lld records, episode %d, "
           "%llu rollbacks (depth %d), %llu DESYNC, %llu DISCONNECTED (%llu with a frame), "
           "%llu REFUSED, %llu LOADING, %llu EPISODE_COMPLETE, %llu EPISODE_TIMEOUT\n",
           (long long)g_best.frames, g_best.confirmed_frame, (long long)g_best.records,
           g_best.episode, (unsigned long long)g_best.rollbacks, g_best.max_rollback_depth,
           (unsigned long long)g_best.events[ROLLNET_EVENT_DESYNC],
           (unsigned long long)g_best.events[ROLLNET_EVENT_DISCONNECTED],
           (unsigned long long)g_best.leaves,
           (unsigned long long)g_best.events[ROLLNET_EVENT_REFUSED],
           (unsigned long long)g_best.events[ROLLNET_EVENT_LOADING],
           (unsigned long long)g_best.events[ROLLNET_EVENT_EPISODE_COMPLETE],
           (unsigned long long)g_best.events[ROLLNET_EVENT_EPISODE_TIMEOUT]);
    bool deep = g_best.frames >= 100 && g_best.records >= 50 && g_best.rollbacks > 0 &&
                g_best.episode >= 1 && g_best.events[ROLLNET_EVENT_DESYNC] > 0 &&
                g_best.leaves > 0 && g_best.events[ROLLNET_EVENT_REFUSED] > 0 &&
                g_best.events[ROLLNET_EVENT_LOADING] > 0;
    if (!deep) {
        printf("fuzz_session: the seeds no longer reach a running session's deep states: "
               "regenerate them (fuzz_seeds tests/fuzz/corpus, see tests/fuzz/meson.build)\n");
        return 1;
    }
    return 0;
}
