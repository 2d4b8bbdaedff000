/* libFuzzer target: the replay file reader (plugin/src/replay_read.c) and a
 * replay session playing what it accepts.
 *
 * Input: the bytes of a replay file (read through fmemopen).
 *
 * Invariants: the reader returns OK, REPLAY_INVALID or OUT_OF_MEMORY; a
 * refusal comes with a reason and no replay; an accepted file's parameters
 * are in range, its frames read back in order from 0, exactly num_frames of
 * them, each with its inputs and a record within record_capacity, and
 * again the same after a rewind; a replay session over it plays with the
 * test game (whose state the seeds hold) without crashing, ends with
 * FINISHED at num_frames or stops with an error, and never runs a frame
 * past the recording; and (with FUZZ_MALLOC_HOOKS) no single allocation
 * exceeds the reader's bound: its buffers (4 KiB, or a frame of
 * record_capacity), the initial state (at most the file's size) and the
 * session's own (snapshot_capacity, here at most 64 KiB). A length the file
 * claims must never become an allocation its bytes cannot back. */
#define _GNU_SOURCE /* fmemopen */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "replay_internal.h"
#include "testgame.h"
#include "rollnet/rollnet_replay.h"

#define MAX_STATE 65536 /* the largest snapshot_capacity accepted here */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_replay_file";
    fuzz_watch_install();
    return 0;
}

/* Every record, in order; the count. */
static int32_t read_all(rollnet_replay *r, const rollnet_replay_info *in)
{
    rollnet_record rec;
    int32_t n = 0;
    while (rollnet_replay_next_record(r, &rec)) {
        FUZZ_CHECK(rec.frame == n, "frame %d read as the %d-th", rec.frame, n);
        FUZZ_CHECK(rec.inputs != NULL, "frame %d has no inputs", n);
        FUZZ_CHECK(rec.size <= in->record_capacity, "frame %d: a %zu-byte record", n, rec.size);
        FUZZ_CHECK(rec.step >= 0 && rec.episode >= 0, "frame %d: step or episode below 0", n);
        n++;
    }
    FUZZ_CHECK(rollnet_replay_error(r)[0] == '\0', "a checked file failed on a second read: %s",
               rollnet_replay_error(r));
    return n;
}

static void play(rollnet_replay *r, const rollnet_replay_info *in)
{
    if (in->record_capacity > 4096) {
        return; /* the session's ledger takes record_capacity per slot, as the recorded one did */
    }
    rollnet_replay_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.ledger_capacity = 64;
    rollnet_session *s = NULL;
    if (rollnet_replay_session_create(r, &sd, &s) != ROLLNET_ERR_OK) {
        return; /* a state that is not whole msgpack, say: refused at creation */
    }
    static tg_game g;
    if (!tg_init(&g, 1, in->num_players, in->input_size, 0, 0)) {
        rollnet_session_destroy(s);
        return;
    }
    g.write_records = true;
    bool finished = false;
    for (int32_t t = 0; t <= in->num_frames + 4 && !finished; t++) {
        if (rollnet_session_poll(s, (uint64_t)t) != ROLLNET_ERR_OK) {
            break;
        }
        const rollnet_request *reqs;
        int n = 0;
        rollnet_error err = rollnet_session_advance(s, &reqs, &n);
        if (err == ROLLNET_ERR_OK) {
            for (int i = 0; i < n; i++) {
                FUZZ_CHECK(reqs[i].frame <= in->num_frames, "a request for frame %d of %d",
                           reqs[i].frame, in->num_frames);
            }
            if (tg_execute(&g, s, reqs, n) != ROLLNET_ERR_OK) {
                break; /* another game's state, or the game differs: the session stopped */
            }
        } else if (err != ROLLNET_ERR_FINISHED) {
            break;
        }
        rollnet_record rec;
        while (rollnet_session_next_record(s, &rec)) {
        }
        rollnet_event ev;
        while (rollnet_session_next_event(s, &ev)) {
            if (ev.type == ROLLNET_EVENT_FINISHED) {
                FUZZ_CHECK(ev.u.finish.end_frame == in->num_frames, "finished at %d of %d",
                           ev.u.finish.end_frame, in->num_frames);
                finished = true;
            }
        }
    }
    rollnet_session_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1u << 20)) {
        return 0;
    }
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) {
        return 0;
    }
    rollnet_replay_desc d;
    memset(&d, 0, sizeof d);
    d.max_state_size = MAX_STATE;
    rollnet_replay *r = NULL;
    char why[256];
    fuzz_watch_arm(false);
    rollnet_error err = rn_replay_open_stream(f, &d, &r, why, sizeof why);
    fuzz_watch_disarm();
    size_t bound = 4096 + 64 + ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE + MAX_STATE + size;
    FUZZ_CHECK(!FUZZ_WATCHING || fuzz_watch.largest <= bound,
               "opening a %zu-byte file allocated %zu bytes at once (bound %zu)", size,
               (size_t)fuzz_watch.largest, bound);
    FUZZ_CHECK(err == ROLLNET_ERR_OK || err == ROLLNET_ERR_REPLAY_INVALID ||
                   err == ROLLNET_ERR_OUT_OF_MEMORY,
               "open returned %d (%s)", (int)err, rollnet_error_string(err));
    if (err != ROLLNET_ERR_OK) {
        FUZZ_CHECK(r == NULL && why[0] != '\0', "a refusal without a reason, or with a replay");
        return 0;
    }
    rollnet_replay_info in;
    FUZZ_CHECK(rollnet_replay_get_info(r, &in) == ROLLNET_ERR_OK, "get_info failed");
    FUZZ_CHECK(in.num_players >= 1 && in.num_players <= ROLLNET_MAX_PLAYERS && in.input_size >= 1 &&
                   in.input_size <= ROLLNET_MAX_INPUT_SIZE && in.fps >= 1 && in.fps <= 1000 &&
                   in.snapshot_capacity <= MAX_STATE &&
                   in.initial_state_size <= in.snapshot_capacity && in.num_frames >= 1,
               "accepted parameters out of range");
    FUZZ_CHECK(read_all(r, &in) == in.num_frames, "the frames read differ from num_frames");
    FUZZ_CHECK(rollnet_replay_rewind(r) == ROLLNET_ERR_OK, "rewind failed");
    FUZZ_CHECK(read_all(r, &in) == in.num_frames, "a second read differs");
    play(r, &in);
    rollnet_replay_close(r);
    return 0;
}
