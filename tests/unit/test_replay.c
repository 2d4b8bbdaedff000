/* The replay file reader (plugin/src/replay_read.c): a well-formed file reads
 * back frame by frame; every corrupt, truncated or oversize one is refused
 * with REPLAY_INVALID and a sentence naming the field (and the frame), and
 * memory never follows a length the file claims. Files are built here with
 * msgpack-c, one knob per corruption. */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "rollnet/rollnet_replay.h"

typedef enum frame_fault {
    F_NONE = 0,
    F_INPUTS_SHORT,
    F_FRAME_SKIP,
    F_EPISODE_WRONG,
    F_STEP_WRONG,
    F_DATA_BIG,
    F_DATA_HUGE,
    F_DATA_LIES,
    F_NOT_ARRAY,
    F_END_NOT_BOOL,
    F_FIVE_VALUES,
} frame_fault;

typedef struct gen {
    int version;
    const char *format;
    const char *kind;
    int num_players, input_size, fps;
    uint64_t snapshot_capacity, record_capacity;
    bool extra_key, omit_seed, dup_fps;
    bool state_lies;  /* a bin32 header claiming 4 GiB */
    bool state_not_msgpack;
    int frames;
    int fault_frame;
    frame_fault fault;
    int end_count; /* -1: frames */
    bool no_end, trailing;
} gen;

static gen good(void)
{
    gen g = {.version = 1, .format = "rollnet replay", .kind = "p2p", .num_players = 2,
             .input_size = 2, .fps = 60, .snapshot_capacity = 256, .record_capacity = 1024,
             .frames = 12, .fault_frame = -1, .end_count = -1};
    return g;
}

static void key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str(pk, strlen(k));
    msgpack_pack_str_body(pk, k, strlen(k));
}

static void header(msgpack_packer *pk, const gen *g)
{
    int n = 11 + (g->extra_key ? 1 : 0) - (g->omit_seed ? 1 : 0) + (g->dup_fps ? 1 : 0);
    msgpack_pack_map(pk, (size_t)n);
    key(pk, "format");
    key(pk, g->format);
    key(pk, "version");
    msgpack_pack_int(pk, g->version);
    key(pk, "kind");
    key(pk, g->kind);
    key(pk, "num_players");
    msgpack_pack_int(pk, g->num_players);
    key(pk, "input_size");
    msgpack_pack_int(pk, g->input_size);
    key(pk, "fps");
    msgpack_pack_int(pk, g->fps);
    if (g->dup_fps) {
        key(pk, "fps");
        msgpack_pack_int(pk, g->fps);
    }
    key(pk, "game_id");
    msgpack_pack_uint64(pk, 77);
    if (!g->omit_seed) {
        key(pk, "seed");
        msgpack_pack_uint64(pk, 5);
    }
    key(pk, "game_params");
    msgpack_pack_bin(pk, 1);
    msgpack_pack_bin_body(pk, "\x80", 1); /* an empty map */
    key(pk, "snapshot_capacity");
    msgpack_pack_uint64(pk, g->snapshot_capacity);
    key(pk, "record_capacity");
    msgpack_pack_uint64(pk, g->record_capacity);
    if (g->extra_key) {
        key(pk, "colour");
        msgpack_pack_int(pk, 3);
    }
}

static void frame(msgpack_packer *pk, msgpack_sbuffer *sb, const gen *g, int f)
{
    frame_fault fault = f == g->fault_frame ? g->fault : F_NONE;
    int episode = f / 5, step = f % 5;
    if (fault == F_NOT_ARRAY) {
        msgpack_pack_int(pk, f);
        return;
    }
    msgpack_pack_array(pk, fault == F_FIVE_VALUES ? 5 : 6);
    msgpack_pack_int(pk, fault == F_FRAME_SKIP ? f + 1 : f);
    msgpack_pack_int(pk, fault == F_EPISODE_WRONG ? episode + 1 : episode);
    msgpack_pack_int(pk, fault == F_STEP_WRONG ? step + 2 : step);
    if (fault == F_END_NOT_BOOL) {
        msgpack_pack_int(pk, 1);
    } else if (step == 4) {
        msgpack_pack_true(pk);
    } else {
        msgpack_pack_false(pk);
    }
    size_t in = (size_t)(g->num_players * g->input_size) - (fault == F_INPUTS_SHORT ? 1 : 0);
    uint8_t inputs[ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE];
    memset(inputs, f & 0xff, sizeof(inputs));
    msgpack_pack_bin(pk, in);
    msgpack_pack_bin_body(pk, inputs, in);
    if (fault == F_FIVE_VALUES) {
        return;
    }
    if (fault == F_DATA_BIG || fault == F_DATA_HUGE) {
        size_t n = fault == F_DATA_BIG ? 1500 : 20000;
        char *blob = calloc(1, n);
        msgpack_pack_bin(pk, n);
        msgpack_pack_bin_body(pk, blob, n);
        free(blob);
    } else if (fault == F_DATA_LIES) {
        msgpack_sbuffer_write(sb, "\xdd\x7f\xff\xff\xff\x01", 6); /* array32 of 2^31-1 */
    } else {
        msgpack_pack_array(pk, 2);
        msgpack_pack_int(pk, f);
        msgpack_pack_int(pk, -f);
    }
}

/* The file's bytes into *out (malloc'd). */
static size_t build(const gen *g, char **out)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    header(&pk, g);
    if (g->state_lies) {
        msgpack_sbuffer_write(&sb, "\xc6\xff\xff\xff\xff", 5);
    } else {
        /* A state of two values: [1, 2] and "x". */
        msgpack_pack_bin(&pk, 5);
        msgpack_pack_bin_body(&pk, g->state_not_msgpack ? "\x92\x01\xa1x\xc1" : "\x92\x01\x02\xa1x",
                              5);
    }
    for (int f = 0; f < g->frames; f++) {
        frame(&pk, &sb, g, f);
    }
    if (!g->no_end) {
        msgpack_pack_map(&pk, 1);
        key(&pk, "frames");
        msgpack_pack_int(&pk, g->end_count >= 0 ? g->end_count : g->frames);
    }
    if (g->trailing) {
        msgpack_pack_nil(&pk);
    }
    *out = sb.data;
    return sb.size;
}

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/rollnet_test_replay_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void write_bytes(const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Open the file at `path`; the error and the sentence. */
static rollnet_error open_it(rollnet_replay **out, char *why, size_t cap)
{
    rollnet_replay_desc d;
    memset(&d, 0, sizeof(d));
    d.path = path;
    return rollnet_replay_open(&d, out, why, cap);
}

/* Build g, open it, expect REPLAY_INVALID with `needle` in the sentence. */
static void assert_refused(const gen *g, const char *needle)
{
    char *data = NULL;
    size_t n = build(g, &data);
    write_bytes(data, n);
    free(data);
    char why[256];
    rollnet_replay *r = (rollnet_replay *)path;
    rollnet_error err = open_it(&r, why, sizeof(why));
    if (err != ROLLNET_ERR_REPLAY_INVALID || !strstr(why, needle)) {
        fail_msg("expected REPLAY_INVALID naming \"%s\", got %s: \"%s\"", needle,
                 rollnet_error_string(err), why);
    }
    assert_null(r);
}

static void test_a_good_file_reads_back_frame_by_frame(void **state)
{
    (void)state;
    gen g = good();
    char *data = NULL;
    size_t n = build(&g, &data);
    write_bytes(data, n);
    free(data);
    char why[256];
    rollnet_replay *r = NULL;
    assert_int_equal(open_it(&r, why, sizeof(why)), ROLLNET_ERR_OK);
    assert_string_equal(why, "");
    rollnet_replay_info in;
    assert_int_equal(rollnet_replay_get_info(r, &in), ROLLNET_ERR_OK);
    assert_int_equal(in.version, 1);
    assert_int_equal(in.kind, ROLLNET_SESSION_P2P);
    assert_int_equal(in.num_players, 2);
    assert_int_equal(in.input_size, 2);
    assert_int_equal(in.fps, 60);
    assert_int_equal(in.game_id, 77);
    assert_int_equal(in.seed, 5);
    assert_int_equal(in.game_params_size, 1);
    assert_int_equal(in.initial_state_size, 5);
    assert_memory_equal(in.initial_state, "\x92\x01\x02\xa1x", 5);
    assert_int_equal(in.num_frames, 12);
    for (int pass = 0; pass < 2; pass++) {
        rollnet_record rec;
        for (int f = 0; f < 12; f++) {
            assert_true(rollnet_replay_next_record(r, &rec));
            assert_int_equal(rec.frame, f);
            assert_int_equal(rec.episode, f / 5);
            assert_int_equal(rec.step, f % 5);
            assert_int_equal(rec.episode_end, f % 5 == 4);
            assert_int_equal(rec.inputs[3], f);
            assert_int_equal(rec.size, f < 16 ? 3 : 4);
        }
        assert_false(rollnet_replay_next_record(r, &rec));
        assert_string_equal(rollnet_replay_error(r), "");
        assert_int_equal(rollnet_replay_rewind(r), ROLLNET_ERR_OK);
    }
    rollnet_replay_close(r);
}

static void test_header_faults_are_named(void **state)
{
    (void)state;
    gen g = good();
    g.version = 2;
    assert_refused(&g, "version 2");
    g = good();
    g.format = "rollnet export";
    assert_refused(&g, "format");
    g = good();
    g.kind = "spectator";
    assert_refused(&g, "kind");
    g = good();
    g.num_players = 0;
    assert_refused(&g, "num_players is 0");
    g = good();
    g.num_players = ROLLNET_MAX_PLAYERS + 1;
    assert_refused(&g, "num_players");
    g = good();
    g.input_size = 65;
    assert_refused(&g, "input_size is 65");
    g = good();
    g.fps = 0;
    assert_refused(&g, "fps");
    g = good();
    g.record_capacity = 0;
    assert_refused(&g, "record_capacity");
    g = good();
    g.snapshot_capacity = (uint64_t)1 << 40; /* past the default max_state_size */
    assert_refused(&g, "snapshot_capacity");
    g = good();
    g.extra_key = true;
    assert_refused(&g, "unknown field \"colour\"");
    g = good();
    g.omit_seed = true;
    assert_refused(&g, "seed is missing");
    g = good();
    g.dup_fps = true;
    assert_refused(&g, "fps appears twice");
}

static void test_initial_state_faults_are_named(void **state)
{
    (void)state;
    gen g = good();
    g.state_lies = true; /* 4 GiB claimed: refused before any allocation */
    assert_refused(&g, "initial state: 4294967295 bytes, larger than snapshot_capacity");
    g = good();
    g.state_not_msgpack = true;
    assert_refused(&g, "initial state: not whole msgpack");
    g = good();
    g.snapshot_capacity = 4;
    assert_refused(&g, "snapshot_capacity is 4");
}

static void test_frame_faults_name_the_frame_and_field(void **state)
{
    (void)state;
    const struct {
        frame_fault fault;
        const char *needle;
    } cases[] = {
        {F_INPUTS_SHORT, "frame 7: inputs: 3 bytes, expected 4 (num_players 2 * input_size 2)"},
        {F_FRAME_SKIP, "frame 7: frame is 8, expected 7"},
        {F_EPISODE_WRONG, "frame 7: episode is 2, expected 1"},
        {F_STEP_WRONG, "frame 7: step is 4, expected 2"},
        {F_DATA_BIG, "frame 7: data: 1503 bytes, larger than record_capacity (1024)"},
        {F_DATA_HUGE, "frame 7: larger than the 1092 bytes a frame may take (record_capacity 1024)"},
        {F_DATA_LIES, "frame 7: cut short or malformed"},
        {F_NOT_ARRAY, "frame 7: not an array of 6 values"},
        {F_END_NOT_BOOL, "frame 7: episode_end is not a boolean"},
        {F_FIVE_VALUES, "frame 7: not an array of 6 values"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gen g = good();
        g.fault_frame = 7;
        g.fault = cases[i].fault;
        assert_refused(&g, cases[i].needle);
    }
}

static void test_end_marker_faults_are_named(void **state)
{
    (void)state;
    gen g = good();
    g.end_count = 11;
    assert_refused(&g, "says 11 frames, the file holds 12");
    g = good();
    g.trailing = true;
    assert_refused(&g, "bytes after the end marker");
    g = good();
    g.frames = 0;
    assert_refused(&g, "holds no frames");
}

/* A file without its end marker (its recorder stopped): the whole frames
 * before the cut are the replay, and the info says it is not complete. */
static void test_a_file_without_its_end_marker_is_its_whole_frames(void **state)
{
    (void)state;
    gen g = good();
    g.no_end = true;
    char *data = NULL;
    size_t n = build(&g, &data);
    write_bytes(data, n);
    free(data);
    char why[256];
    rollnet_replay *r = NULL;
    assert_int_equal(open_it(&r, why, sizeof(why)), ROLLNET_ERR_OK);
    rollnet_replay_info in;
    assert_int_equal(rollnet_replay_get_info(r, &in), ROLLNET_ERR_OK);
    assert_false(in.complete);
    assert_int_equal(in.num_frames, 12);
    rollnet_record rec;
    int k = 0;
    while (rollnet_replay_next_record(r, &rec)) {
        assert_int_equal(rec.frame, k++);
    }
    assert_int_equal(k, 12);
    rollnet_replay_close(r);
    /* The whole file: complete. */
    g = good();
    n = build(&g, &data);
    write_bytes(data, n);
    free(data);
    assert_int_equal(open_it(&r, why, sizeof(why)), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_replay_get_info(r, &in), ROLLNET_ERR_OK);
    assert_true(in.complete);
    rollnet_replay_close(r);
}

/* Every prefix of a good file, as a recorder that stopped at that byte
 * leaves it: refused with a reason while the header, the state or the
 * first frame is not whole; from there on, the whole frames before the cut
 * (one more with each frame's last byte), never a crash. */
static void test_every_truncation_is_refused_or_its_whole_frames(void **state)
{
    (void)state;
    gen g = good();
    char *data = NULL;
    size_t n = build(&g, &data);
    int32_t last = 0;
    for (size_t cut = 0; cut < n; cut++) {
        write_bytes(data, cut);
        char why[256];
        rollnet_replay *r = NULL;
        rollnet_error err = open_it(&r, why, sizeof(why));
        if (err == ROLLNET_ERR_OK) {
            rollnet_replay_info in;
            assert_int_equal(rollnet_replay_get_info(r, &in), ROLLNET_ERR_OK);
            assert_false(in.complete);
            assert_true(in.num_frames >= 1 && in.num_frames <= 12);
            assert_true(in.num_frames == last || in.num_frames == last + 1 || last == 0);
            last = in.num_frames;
            rollnet_replay_close(r);
            continue;
        }
        if (err != ROLLNET_ERR_REPLAY_INVALID || why[0] == '\0' || last != 0) {
            fail_msg("a file cut at byte %zu of %zu: %s \"%s\"", cut, n, rollnet_error_string(err),
                     why);
        }
        assert_null(r);
    }
    assert_int_equal(last, 12); /* cut inside the end marker: every frame */
    free(data);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char why[64];
    rollnet_replay *r = NULL;
    assert_int_equal(rollnet_replay_open(NULL, &r, why, sizeof(why)), ROLLNET_ERR_INVALID_ARGUMENT);
    rollnet_replay_desc d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(rollnet_replay_open(&d, NULL, NULL, 0), ROLLNET_ERR_INVALID_ARGUMENT);
    d.path = "/nonexistent/dir/replay";
    assert_int_equal(rollnet_replay_open(&d, &r, why, sizeof(why)), ROLLNET_ERR_IO);
    assert_string_equal(why, "cannot open the file");
    assert_null(r);
    rollnet_replay_close(NULL);
    rollnet_replay_info in;
    assert_int_equal(rollnet_replay_get_info(NULL, &in), ROLLNET_ERR_INVALID_ARGUMENT);
    rollnet_session *s = NULL;
    assert_int_equal(rollnet_replay_session_create(NULL, NULL, &s), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_replay_recorder_close(NULL), ROLLNET_ERR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_good_file_reads_back_frame_by_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_faults_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_state_faults_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_faults_name_the_frame_and_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_end_marker_faults_are_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_is_refused_or_its_whole_frames,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_file_without_its_end_marker_is_its_whole_frames,
                                        setup, teardown),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
