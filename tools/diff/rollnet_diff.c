#define _GNU_SOURCE /* memmem */
/* rollnet-diff: compare two exports (the msgpack ledger streams that
 * rollnet_exporter writes, PATH.msgpack) or two replays (rollnet_replay.h),
 * and print the first frame where they differ with both records decoded.
 *
 *   rollnet-diff A B
 *
 * Exit status: 0 when equal, 1 when they differ (the first difference on
 * stdout), 2 on bad input (a file that cannot be read or is not an export
 * or replay, or one of each), with the reason on stderr. Memory stays
 * bounded: files are read value by value, each measured before it is
 * decoded. */
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpstream.h"
#include "snapshot.h"
#include "rollnet/rollnet_replay.h"

#define EXPORT_MAX_VALUE (1024u * 1024u) /* largest export row read */

/* One frame of either kind, as compared and printed. */
typedef struct row {
    int64_t frame, episode, step;
    bool has_end, episode_end; /* replays say whether the frame ended its episode */
    int players;
    uint8_t inputs[ROLLNET_MAX_PLAYERS][ROLLNET_MAX_INPUT_SIZE];
    size_t input_size[ROLLNET_MAX_PLAYERS];
    const uint8_t *data;
    size_t size;
} row;

/* A source of rows: an export stream, or a replay. */
typedef struct source {
    const char *path;
    bool is_replay;
    FILE *f;
    rn_mpstream in;
    rollnet_replay *replay;
    rollnet_replay_info info;
    long index;
    char err[300];
} source;

static int bad(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "rollnet-diff: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

/* ---- Export rows ------------------------------------------------------ */

static bool row_field(source *s, const uint8_t *p, size_t len, size_t vs, size_t ve,
                      const char *name, row *r)
{
    const uint8_t *v = p + vs;
    size_t n = ve - vs;
    if (!strcmp(name, "frame") || !strcmp(name, "episode") || !strcmp(name, "step")) {
        int64_t *dst = name[0] == 'f' ? &r->frame : name[0] == 'e' ? &r->episode : &r->step;
        if (!rn_mp_int(v, n, dst)) {
            snprintf(s->err, sizeof(s->err), "row %ld: %s is not an integer", s->index, name);
            return false;
        }
        return true;
    }
    if (!strcmp(name, "inputs")) {
        uint32_t count = 0;
        size_t off = 0;
        if (!rn_mp_container(v, n, false, &count, &off) || count < 1 ||
            count > ROLLNET_MAX_PLAYERS) {
            snprintf(s->err, sizeof(s->err), "row %ld: inputs is not an array of 1..%d players",
                     s->index, ROLLNET_MAX_PLAYERS);
            return false;
        }
        r->players = (int)count;
        for (uint32_t i = 0; i < count; i++) {
            size_t es, ee;
            const uint8_t *b = NULL;
            size_t bn = 0;
            if (!rn_mp_element(v, n, &off, &es, &ee) || !rn_mp_bin(v + es, ee - es, &b, &bn) ||
                bn > ROLLNET_MAX_INPUT_SIZE) {
                snprintf(s->err, sizeof(s->err),
                         "row %ld: inputs[%u] is not binary of at most %d bytes", s->index, i,
                         ROLLNET_MAX_INPUT_SIZE);
                return false;
            }
            memcpy(r->inputs[i], b, bn);
            r->input_size[i] = bn;
        }
        return true;
    }
    if (!strcmp(name, "data")) {
        r->data = v[0] == 0xc0 ? NULL : v;
        r->size = v[0] == 0xc0 ? 0 : n;
        return true;
    }
    (void)len;
    snprintf(s->err, sizeof(s->err), "row %ld: unknown field \"%s\"", s->index, name);
    return false;
}

static bool export_row(source *s, const uint8_t *p, size_t len, row *r)
{
    static const char *const names[5] = {"frame", "episode", "step", "inputs", "data"};
    uint32_t pairs = 0;
    size_t off = 0;
    if (!rn_mp_container(p, len, true, &pairs, &off) || pairs != 5) {
        snprintf(s->err, sizeof(s->err),
                 "row %ld: not a map of frame, episode, step, inputs, data (not an export?)",
                 s->index);
        return false;
    }
    memset(r, 0, sizeof(*r));
    unsigned seen = 0;
    for (uint32_t i = 0; i < pairs; i++) {
        size_t ks, ke, vs, ve;
        if (!rn_mp_element(p, len, &off, &ks, &ke) || !rn_mp_element(p, len, &off, &vs, &ve)) {
            snprintf(s->err, sizeof(s->err), "row %ld: malformed", s->index);
            return false;
        }
        int k = 0;
        while (k < 5 && !rn_mp_str_is(p + ks, ke - ks, names[k])) {
            k++;
        }
        if (k == 5 || (seen & (1u << k))) {
            snprintf(s->err, sizeof(s->err), "row %ld: a key is unknown or repeated", s->index);
            return false;
        }
        seen |= 1u << k;
        if (!row_field(s, p, len, vs, ve, names[k], r)) {
            return false;
        }
    }
    return true;
}

/* ---- Sources ------------------------------------------------------------ */

/* Is the first value a map with a "format" key, as a replay's header is? */
static bool looks_like_replay(FILE *f)
{
    uint8_t head[64];
    size_t n = fread(head, 1, sizeof(head), f);
    rewind(f);
    static const char key[] = "\xa6" "format";
    return n > 8 && ((head[0] & 0xf0) == 0x80 || head[0] == 0xde || head[0] == 0xdf) &&
           memmem(head, n, key, sizeof(key) - 1) != NULL;
}

static int open_source(source *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) {
        return bad("%s: cannot open%s", path, "");
    }
    s->is_replay = looks_like_replay(s->f);
    if (!s->is_replay) {
        return rn_mpstream_init(&s->in, s->f, NULL, EXPORT_MAX_VALUE) == ROLLNET_ERR_OK
                   ? 0
                   : bad("%s: out of memory%s", path, "");
    }
    fclose(s->f);
    s->f = NULL;
    rollnet_replay_desc d;
    memset(&d, 0, sizeof(d));
    d.path = path;
    char why[256];
    rollnet_error err = rollnet_replay_open(&d, &s->replay, why, sizeof(why));
    if (err != ROLLNET_ERR_OK) {
        fprintf(stderr, "rollnet-diff: %s: not a valid replay: %s (%s)\n", path, why,
                rollnet_error_string(err));
        return 2;
    }
    rollnet_replay_get_info(s->replay, &s->info);
    return 0;
}

static void close_source(source *s)
{
    if (s->f) {
        rn_mpstream_free(&s->in);
        fclose(s->f);
    }
    rollnet_replay_close(s->replay);
}

/* The next row: 1, 0 at the end, -1 on bad input (s->err). */
static int next_row(source *s, row *r)
{
    if (s->is_replay) {
        rollnet_record rec;
        if (!rollnet_replay_next_record(s->replay, &rec)) {
            const char *e = rollnet_replay_error(s->replay);
            snprintf(s->err, sizeof(s->err), "%s", e);
            return e[0] ? -1 : 0;
        }
        memset(r, 0, sizeof(*r));
        r->frame = rec.frame;
        r->episode = rec.episode;
        r->step = rec.step;
        r->has_end = true;
        r->episode_end = rec.episode_end;
        r->players = s->info.num_players;
        for (int p = 0; p < r->players; p++) {
            memcpy(r->inputs[p], rec.inputs + (size_t)p * (size_t)s->info.input_size,
                   (size_t)s->info.input_size);
            r->input_size[p] = (size_t)s->info.input_size;
        }
        r->data = rec.data;
        r->size = rec.size;
        s->index++;
        return 1;
    }
    const uint8_t *p = NULL;
    size_t len = 0;
    switch (rn_mpstream_next(&s->in, &p, &len)) {
    case RN_MP_END:
        return 0;
    case RN_MP_VALUE:
        break;
    case RN_MP_OVERSIZE:
        snprintf(s->err, sizeof(s->err), "row %ld: larger than %u bytes", s->index,
                 EXPORT_MAX_VALUE);
        return -1;
    case RN_MP_IO:
        snprintf(s->err, sizeof(s->err), "row %ld: read failed", s->index);
        return -1;
    default:
        snprintf(s->err, sizeof(s->err), "row %ld: cut short or malformed", s->index);
        return -1;
    }
    if (!export_row(s, p, len, r)) {
        return -1;
    }
    s->index++;
    return 1;
}

/* ---- Comparing and printing --------------------------------------------- */

static bool rows_equal(const row *a, const row *b)
{
    if (a->frame != b->frame || a->episode != b->episode || a->step != b->step ||
        a->has_end != b->has_end || a->episode_end != b->episode_end ||
        a->players != b->players || a->size != b->size ||
        (a->size > 0 && memcmp(a->data, b->data, a->size) != 0)) {
        return false;
    }
    for (int p = 0; p < a->players; p++) {
        if (a->input_size[p] != b->input_size[p] ||
            memcmp(a->inputs[p], b->inputs[p], a->input_size[p]) != 0) {
            return false;
        }
    }
    return true;
}

static void print_row(const char *label, const char *path, const row *r, msgpack_zone *zone)
{
    printf("  %s (%s): frame %" PRId64 " episode %" PRId64 " step %" PRId64, label, path,
           r->frame, r->episode, r->step);
    if (r->has_end) {
        printf(" episode_end %s", r->episode_end ? "true" : "false");
    }
    printf(" inputs");
    for (int p = 0; p < r->players; p++) {
        putchar(' ');
        for (size_t i = 0; i < r->input_size[p]; i++) {
            printf("%02x", r->inputs[p][i]);
        }
    }
    char text[4096];
    if (r->size == 0) {
        snprintf(text, sizeof(text), "nil");
    } else {
        msgpack_zone_clear(zone);
        rollnet_error err = rn_snapshot_dump(zone, r->data, r->size, text, sizeof(text));
        size_t n = strlen(text);
        while (n > 0 && text[n - 1] == '\n') {
            text[--n] = '\0';
        }
        /* Say so rather than print nothing, or a cut text as if whole. */
        if (err == ROLLNET_ERR_BUFFER_TOO_SMALL) {
            printf(" data %s ... (%zu bytes, cut)\n", text, r->size);
            return;
        }
        if (err != ROLLNET_ERR_OK) {
            printf(" data (%zu bytes msgpack-c does not decode: nested too deep or malformed)\n",
                   r->size);
            return;
        }
    }
    printf(" data %s\n", text);
}

/* Replays: the parameters and the initial state first. */
static const char *header_difference(const source *a, const source *b)
{
    const rollnet_replay_info *x = &a->info, *y = &b->info;
    if (x->num_players != y->num_players) return "num_players";
    if (x->input_size != y->input_size) return "input_size";
    if (x->fps != y->fps) return "fps";
    if (x->game_id != y->game_id) return "game_id";
    if (x->seed != y->seed) return "seed";
    if (x->game_params_size != y->game_params_size ||
        memcmp(x->game_params, y->game_params, x->game_params_size) != 0)
        return "game_params";
    if (x->initial_state_size != y->initial_state_size ||
        memcmp(x->initial_state, y->initial_state, x->initial_state_size) != 0)
        return "initial state";
    return NULL;
}

static int compare(source *a, source *b)
{
    if (a->is_replay && b->is_replay) {
        const char *h = header_difference(a, b);
        if (h) {
            printf("the replays differ before frame 0: %s\n", h);
            return 1;
        }
    }
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 1 << 16)) {
        return bad("out of memory%s%s", "", "");
    }
    int rc = 0;
    for (long i = 0;; i++) {
        row ra, rb;
        int ga = next_row(a, &ra);
        int gb = ga < 0 ? 0 : next_row(b, &rb);
        if (ga < 0 || gb < 0) {
            source *s = ga < 0 ? a : b;
            rc = bad("%s: %s", s->path, s->err);
            break;
        }
        if (ga == 0 && gb == 0) {
            printf("equal: %ld frames\n", i);
            break;
        }
        rc = 1;
        if (ga == 0 || gb == 0) {
            source *longer = ga ? a : b, *shorter = ga ? b : a;
            printf("%s ends after %ld frames%s; %s goes on:\n", shorter->path, i,
                   shorter->is_replay && !shorter->info.complete
                       ? " (cut short: no end marker, its recorder stopped)"
                       : "",
                   longer->path);
            print_row(ga ? "A" : "B", longer->path, ga ? &ra : &rb, &zone);
            break;
        }
        if (!rows_equal(&ra, &rb)) {
            printf("first difference at frame %" PRId64 " (row %ld):\n", ra.frame, i);
            print_row("A", a->path, &ra, &zone);
            print_row("B", b->path, &rb, &zone);
            break;
        }
        rc = 0;
    }
    msgpack_zone_destroy(&zone);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: rollnet-diff A B\n"
               "Compare two exports (PATH.msgpack, as rollnet_exporter writes) or two replays\n"
               "(rollnet_replay.h) and print the first frame where they differ, both records\n"
               "decoded. Exit status: 0 equal, 1 different, 2 bad input.\n");
        return 0;
    }
    if (argc != 3) {
        return bad("usage: rollnet-diff A B (two exports or two replays)%s%s", "", "");
    }
    source a, b;
    int rc = open_source(&a, argv[1]);
    if (rc != 0) {
        return rc;
    }
    rc = open_source(&b, argv[2]);
    if (rc != 0) {
        close_source(&a);
        return rc;
    }
    if (a.is_replay != b.is_replay) {
        rc = bad("%s and %s are not of one kind (an export and a replay)", argv[1], argv[2]);
    } else {
        rc = compare(&a, &b);
    }
    close_source(&a);
    close_source(&b);
    return rc;
}
