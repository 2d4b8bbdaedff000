/* The snapshot reader and the text dump fed arbitrary bytes: seeded random
 * data and mutations of real snapshots, read back in random orders. Nothing
 * may crash, read out of bounds (run under ASan), grow the zone, or report
 * success for data that is not what the reads asked for.
 *
 *   fuzz_snapshot [--iterations N] [--seed S]
 * prints "fuzz_snapshot: N inputs, F failures" and exits non-zero on a failure.
 *
 * The same file is the libFuzzer target for the reader, the bounds walk
 * (rn_msgpack_measure) and the dump (LLVMFuzzerTestOneInput below, built with
 * ROLLNET_LIBFUZZER, which leaves the standalone main out). */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "snapshot.h"

/* ---- libFuzzer target ------------------------------------------------------
 *
 * Input: [script length k][k script bytes][snapshot bytes...]. Each script
 * byte is one read: low nibble 0 int, 1 uint, 2 double, 3 bool, 4 bin, 5 str,
 * 6 array, 7 map, 8 nil, 9 bin_exact (length k_exact[high nibble]), 10..15
 * int.
 *
 * Invariants:
 *   - a read succeeds exactly when it leaves no error set, errors are sticky,
 *     and str/bin point inside the snapshot;
 *   - the reader's zone, sized by rn_reader_zone_size, never grows, and
 *     nothing else is allocated (FUZZ_MALLOC_HOOKS);
 *   - the bounds walk and msgpack-c agree: a value the walk accepts unpacks
 *     and ends where the walk said, unless containers nest deeper than
 *     msgpack-c's stack (MSGPACK_EMBED_STACK_SIZE), where unpacking fails;
 *   - the dump returns OK, BUFFER_TOO_SMALL or SNAPSHOT_READ, always writes a
 *     terminated string within its buffer, says OK only for data that is a
 *     sequence of whole values, and BUFFER_TOO_SMALL or OK for all of those;
 *   - data of whole values without ext, rewritten through rollnet_writer,
 *     is complete (rn_writer_complete), dumps to the same text, and reads the
 *     same with the trusted reader (no bounds walk) as with the checked one. */

#define FZ_MAX_DATA 16384
#define FZ_MSGPACK_STACK 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static msgpack_zone g_zone;
static const void *g_zone_chunk;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_snapshot";
    fuzz_watch_install();
    /* Twice the data: a rewrite turns float32 into float64. */
    if (!msgpack_zone_init(&g_zone, rn_reader_zone_size(4 * FZ_MAX_DATA))) {
        abort();
    }
    g_zone_chunk = g_zone.chunk_list.head;
    return 0;
}

static const size_t k_exact[16] = { 0, 1, 2, 3, 4, 5, 8, 15, 16, 17, 31, 32, 64, 255, 256, 1000 };

/* One read's outcome, for comparing two readers. */
typedef struct fz_read {
    bool ok;
    uint64_t value; /* integers and bools, the bits of a double, a length */
    size_t offset;  /* of a str/bin inside its data */
} fz_read;

static void zone_unchanged(void)
{
    FUZZ_CHECK(g_zone.chunk_list.head == g_zone_chunk, "the reader's zone grew");
}

static fz_read read_one(rollnet_reader *r, uint8_t op, const uint8_t *data, size_t len)
{
    fz_read out;
    memset(&out, 0, sizeof out);
    bool was_error = rollnet_reader_error(r) != ROLLNET_ERR_OK;
    int64_t iv = 0;
    uint64_t uv = 0;
    double dv = 0;
    bool bv = false;
    const void *p = NULL;
    size_t n = 0;
    uint32_t c = 0;
    static uint8_t dst[1000];
    bool pointer = false;
    switch (op & 0x0f) {
    case 1: out.ok = rollnet_read_uint(r, &uv); out.value = uv; break;
    case 2: out.ok = rollnet_read_double(r, &dv); memcpy(&out.value, &dv, sizeof dv); break;
    case 3: out.ok = rollnet_read_bool(r, &bv); out.value = bv; break;
    case 4: out.ok = rollnet_read_bin(r, &p, &n); pointer = true; break;
    case 5: out.ok = rollnet_read_str(r, (const char **)&p, &n); pointer = true; break;
    case 6: out.ok = rollnet_read_array(r, &c); out.value = c; break;
    case 7: out.ok = rollnet_read_map(r, &c); out.value = c; break;
    case 8: out.ok = rollnet_read_nil(r); break;
    case 9: {
        size_t want = k_exact[op >> 4];
        memset(dst, 0, sizeof dst);
        out.ok = rollnet_read_bin_exact(r, dst, want);
        out.value = want ? dst[0] ^ ((uint64_t)dst[want - 1] << 8) : 0;
        break;
    }
    default: out.ok = rollnet_read_int(r, &iv); out.value = (uint64_t)iv; break;
    }
    bool error = rollnet_reader_error(r) != ROLLNET_ERR_OK;
    FUZZ_CHECK(out.ok != error, "read op %u returned %d with the error %s", op, (int)out.ok,
               error ? "set" : "clear");
    FUZZ_CHECK(!was_error || !out.ok, "a read succeeded after an error");
    if (out.ok && pointer) {
        const uint8_t *q = p;
        FUZZ_CHECK((n == 0 && (q == NULL || (q >= data && q <= data + len))) ||
                       (q >= data && n <= len && q <= data + len - n),
                   "str/bin of %zu bytes outside the %zu-byte snapshot", n, len);
        out.value = n;
        out.offset = q ? (size_t)(q - data) : 0;
    }
    zone_unchanged();
    return out;
}

/* Nesting depth of the value at data[off..), which the bounds walk accepted,
 * as msgpack-c counts it: every container is a level, an empty one too
 * (start_container checks the depth before it looks at the count); *end is
 * past the value. */
static int nesting(const uint8_t *p, size_t len, size_t off, size_t *end)
{
    uint64_t *stack = malloc((len + 1) * sizeof *stack);
    if (!stack) {
        abort();
    }
    int depth = 0, deepest = 0;
    size_t pos = off;
    uint64_t pending = 1;
    for (;;) {
        while (pending == 0) {
            if (depth == 0) {
                *end = pos;
                free(stack);
                return deepest;
            }
            pending = stack[--depth];
        }
        pending--;
        uint8_t b = p[pos++];
        uint64_t n = 0, skip = 0;
        int kind = 0;
        size_t hdr = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b <= 0x8f) { kind = 2; n = b & 0x0f; }
        else if (b <= 0x9f) { kind = 1; n = b & 0x0f; }
        else if (b <= 0xbf) { skip = b & 0x1f; }
        else {
            switch (b) {
            case 0xc4: case 0xd9: hdr = 1; break;
            case 0xc5: case 0xda: hdr = 2; break;
            case 0xc6: case 0xdb: hdr = 4; break;
            case 0xc7: hdr = 1; skip = 1; break;
            case 0xc8: hdr = 2; skip = 1; break;
            case 0xc9: hdr = 4; skip = 1; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: hdr = 2; kind = 1; break;
            case 0xdd: hdr = 4; kind = 1; break;
            case 0xde: hdr = 2; kind = 2; break;
            default: hdr = 4; kind = 2; break; /* 0xdf */
            }
        }
        uint64_t v = 0;
        for (size_t i = 0; i < hdr; i++) {
            v = (v << 8) | p[pos++];
        }
        if (hdr) {
            if (kind) {
                n = v;
            } else {
                skip += v;
            }
        }
        pos += (size_t)skip;
        if (kind && depth + 1 > deepest) {
            deepest = depth + 1;
        }
        if (kind && n > 0) {
            FUZZ_CHECK((size_t)depth < len, "nesting deeper than the bytes: the walk let it through");
            stack[depth++] = pending;
            pending = kind == 2 ? 2 * n : n;
        }
    }
}

static bool has_ext(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_EXT:
        return true;
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (has_ext(&o->via.array.ptr[i])) {
                return true;
            }
        }
        return false;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            if (has_ext(&o->via.map.ptr[i].key) || has_ext(&o->via.map.ptr[i].val)) {
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

static void rewrite(rollnet_writer *w, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: rollnet_write_nil(w); break;
    case MSGPACK_OBJECT_BOOLEAN: rollnet_write_bool(w, o->via.boolean); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: rollnet_write_uint(w, o->via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: rollnet_write_int(w, o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: rollnet_write_double(w, o->via.f64); break;
    case MSGPACK_OBJECT_STR: rollnet_write_str(w, o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_BIN: rollnet_write_bin(w, o->via.bin.ptr, o->via.bin.size); break;
    case MSGPACK_OBJECT_ARRAY:
        rollnet_write_array(w, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            rewrite(w, &o->via.array.ptr[i]);
        }
        break;
    case MSGPACK_OBJECT_MAP:
        rollnet_write_map(w, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            rewrite(w, &o->via.map.ptr[i].key);
            rewrite(w, &o->via.map.ptr[i].val);
        }
        break;
    default:
        break;
    }
}

static rollnet_error dump(const uint8_t *data, size_t len, size_t cap, char **text)
{
    char *buf = malloc(cap);
    if (!buf) {
        abort();
    }
    memset(buf, 'x', cap);
    fuzz_watch_arm(true);
    rollnet_error e = rn_snapshot_dump(&g_zone, data, len, buf, cap);
    fuzz_watch_disarm();
    FUZZ_CHECK(fuzz_watch.count == 0, "the dump allocated");
    zone_unchanged();
    FUZZ_CHECK(e == ROLLNET_ERR_OK || e == ROLLNET_ERR_BUFFER_TOO_SMALL ||
                   e == ROLLNET_ERR_SNAPSHOT_READ,
               "dump returned %d", (int)e);
    FUZZ_CHECK(memchr(buf, '\0', cap) != NULL, "the dump left its %zu-byte buffer unterminated",
               cap);
    *text = buf;
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (!g_zone_chunk) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    if (size < 1) {
        return 0;
    }
    size_t k = input[0];
    if (k > size - 1) {
        k = size - 1;
    }
    const uint8_t *script = input + 1;
    size_t len = size - 1 - k;
    if (len > FZ_MAX_DATA) {
        return 0;
    }
    uint8_t *data = malloc(len ? len : 1); /* exactly the snapshot: ASan sees reads past it */
    if (!data) {
        abort();
    }
    memcpy(data, input + 1 + k, len);

    /* The reader, checked. */
    rollnet_reader r;
    fuzz_watch_arm(true);
    rn_reader_init(&r, &g_zone, data, len);
    for (size_t i = 0; i < k; i++) {
        read_one(&r, script[i], data, len);
    }
    fuzz_watch_disarm();
    FUZZ_CHECK(fuzz_watch.count == 0, "reading allocated");

    /* The bounds walk against msgpack-c, value by value. */
    bool whole = true, unpacked = true, ext = false;
    size_t off = 0;
    while (off < len) {
        size_t end = 0;
        if (!rn_msgpack_measure(data, len, off, &end)) {
            whole = false;
            break;
        }
        FUZZ_CHECK(end > off && end <= len, "the walk ends at %zu (from %zu, of %zu)", end, off,
                   len);
        size_t end2 = 0;
        int deep = nesting(data, len, off, &end2);
        FUZZ_CHECK(end2 == end, "the walks disagree on where a value ends");
        msgpack_zone_clear(&g_zone);
        msgpack_object o;
        size_t next = off;
        msgpack_unpack_return ret = msgpack_unpack((const char *)data, len, &next, &g_zone, &o);
        zone_unchanged();
        if (ret == MSGPACK_UNPACK_SUCCESS || ret == MSGPACK_UNPACK_EXTRA_BYTES) {
            FUZZ_CHECK(next == end, "msgpack-c ends a value at %zu, the walk at %zu", next, end);
            ext = ext || has_ext(&o);
        } else {
            FUZZ_CHECK(deep > FZ_MSGPACK_STACK,
                       "msgpack-c refuses (%d) a value the walk accepts, nested %d deep",
                       (int)ret, deep);
            unpacked = false;
        }
        off = end;
    }

    /* The dump, with a small buffer and a large one. */
    char *small = NULL, *text = NULL;
    size_t small_cap = 1 + (k % 40);
    rollnet_error es = dump(data, len, small_cap, &small);
    rollnet_error e = dump(data, len, 64 + 48 * len, &text);
    FUZZ_CHECK(e != ROLLNET_ERR_OK || (whole && unpacked), "the dump accepts what is not whole");
    FUZZ_CHECK(!(whole && unpacked) || e == ROLLNET_ERR_OK || e == ROLLNET_ERR_BUFFER_TOO_SMALL,
               "the dump refuses whole values (%d)", (int)e);
    FUZZ_CHECK(e != ROLLNET_ERR_OK || es != ROLLNET_ERR_SNAPSHOT_READ,
               "a small buffer turns a good dump into a read error");

    /* Whole values rewritten by the writer read the same trusted and checked. */
    if (whole && unpacked && !ext && e == ROLLNET_ERR_OK) {
        size_t cap = 2 * len + 16;
        uint8_t *copy = malloc(cap);
        if (!copy) {
            abort();
        }
        rollnet_writer w;
        rn_writer_init(&w, copy, cap);
        off = 0;
        while (off < len) {
            msgpack_zone_clear(&g_zone);
            msgpack_object o;
            if (msgpack_unpack((const char *)data, len, &off, &g_zone, &o) < 0) {
                abort();
            }
            rewrite(&w, &o);
        }
        FUZZ_CHECK(!w.overflow && rn_writer_complete(&w), "a rewrite is incomplete or overflows");
        char *text2 = NULL;
        rollnet_error e2 = dump(copy, w.len, 64 + 48 * len, &text2);
        FUZZ_CHECK(e2 == ROLLNET_ERR_OK && strcmp(text, text2) == 0,
                   "the rewrite dumps differently:\n%s\n%s", text, text2);
        free(text2);
        /* The rewrite in an exact buffer, for both readers. */
        uint8_t *exact = malloc(w.len ? w.len : 1);
        if (!exact) {
            abort();
        }
        memcpy(exact, copy, w.len);
        static msgpack_zone zone2;
        static bool zone2_ready;
        if (!zone2_ready) {
            if (!msgpack_zone_init(&zone2, rn_reader_zone_size(4 * FZ_MAX_DATA))) {
                abort();
            }
            zone2_ready = true;
        }
        rollnet_reader checked, trusted;
        rn_reader_init(&checked, &g_zone, exact, w.len);
        rn_reader_init_trusted(&trusted, &zone2, exact, w.len);
        for (size_t i = 0; i < k; i++) {
            fz_read a = read_one(&checked, script[i], exact, w.len);
            fz_read b = read_one(&trusted, script[i], exact, w.len);
            FUZZ_CHECK(a.ok == b.ok && a.value == b.value && a.offset == b.offset,
                       "read %zu (op %u) differs between the trusted and the checked reader", i,
                       script[i]);
        }
        FUZZ_CHECK(rn_reader_done(&checked) == rn_reader_done(&trusted),
                   "the readers disagree on being done");
        free(exact);
        free(copy);
    }
    free(small);
    free(text);
    free(data);
    return 0;
}

#ifndef ROLLNET_LIBFUZZER

/* ---- standalone runner ---------------------------------------------------- */

#define CAP 4096

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A valid snapshot of random shape, written through the writer. */
static size_t make_snapshot(uint8_t *buf)
{
    rollnet_writer w;
    rn_writer_init(&w, buf, CAP);
    int values = 1 + (int)(next() % 12);
    for (int i = 0; i < values; i++) {
        switch (next() % 7) {
        case 0: rollnet_write_int(&w, (int64_t)next()); break;
        case 1: rollnet_write_uint(&w, next() % 300); break;
        case 2: rollnet_write_bool(&w, next() & 1); break;
        case 3: rollnet_write_double(&w, (double)(next() % 1000) / 7.0); break;
        case 4: {
            uint8_t blob[64];
            size_t n = next() % sizeof(blob);
            memset(blob, (int)(next() & 0xff), n);
            rollnet_write_bin(&w, blob, n);
            break;
        }
        case 5: {
            uint32_t n = (uint32_t)(next() % 4);
            rollnet_write_array(&w, n);
            for (uint32_t k = 0; k < n; k++) {
                rollnet_write_int(&w, (int64_t)k);
            }
            break;
        }
        default:
            rollnet_write_map(&w, 1);
            rollnet_write_str(&w, "k", 1);
            rollnet_write_nil(&w);
            break;
        }
    }
    return w.len;
}

/* Read with a random sequence of calls; every call's result must agree with
 * the reader's error state. Returns false on a broken invariant. */
static bool read_randomly(msgpack_zone *zone, const uint8_t *data, size_t len)
{
    rollnet_reader r;
    rn_reader_init(&r, zone, data, len);
    for (int i = 0; i < 40; i++) {
        bool ok;
        int64_t iv;
        uint64_t uv;
        double dv;
        bool bv;
        const void *p;
        size_t n;
        uint32_t c;
        uint8_t dst[16];
        switch (next() % 10) {
        case 0: ok = rollnet_read_int(&r, &iv); break;
        case 1: ok = rollnet_read_uint(&r, &uv); break;
        case 2: ok = rollnet_read_double(&r, &dv); break;
        case 3: ok = rollnet_read_bool(&r, &bv); break;
        case 4: ok = rollnet_read_bin(&r, &p, &n); break;
        case 5: ok = rollnet_read_str(&r, (const char **)&p, &n); break;
        case 6: ok = rollnet_read_array(&r, &c); break;
        case 7: ok = rollnet_read_map(&r, &c); break;
        case 8: ok = rollnet_read_nil(&r); break;
        default: ok = rollnet_read_bin_exact(&r, dst, next() % sizeof(dst)); break;
        }
        bool err = rollnet_reader_error(&r) != ROLLNET_ERR_OK;
        if (ok == err) {
            return false; /* a failed read must set the error, a good one must not */
        }
        if (!ok) {
            break;
        }
        if ((i == 4 || i == 5) && ok && n > len) {
            return false; /* a pointer past the data */
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    long iterations = 100000;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iterations")) {
            iterations = strtol(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--seed")) {
            seed = strtoull(argv[i + 1], NULL, 10);
        }
    }
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, rn_reader_zone_size(CAP))) {
        return 2;
    }
    const void *first_chunk = zone.chunk_list.head;
    uint8_t buf[CAP];
    char text[512];
    long failures = 0;
    for (long it = 0; it < iterations; it++) {
        size_t len;
        if (it % 2 == 0) {
            len = 1 + next() % 64;
            for (size_t k = 0; k < len; k++) {
                buf[k] = (uint8_t)next();
            }
        } else {
            len = make_snapshot(buf);
            int flips = 1 + (int)(next() % 4);
            for (int k = 0; k < flips && len > 0; k++) {
                switch (next() % 3) {
                case 0: buf[next() % len] ^= (uint8_t)(1u << (next() % 8)); break;
                case 1: buf[next() % len] = (uint8_t)next(); break;
                default: len = next() % len; break; /* truncate */
                }
            }
        }
        /* An exactly sized copy, so ASan sees any read past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        if (!read_randomly(&zone, exact, len)) {
            failures++;
        }
        rollnet_error e = rn_snapshot_dump(&zone, exact, len, text, sizeof(text));
        if (e != ROLLNET_ERR_OK && e != ROLLNET_ERR_BUFFER_TOO_SMALL && e != ROLLNET_ERR_SNAPSHOT_READ) {
            failures++;
        }
        if (strlen(text) >= sizeof(text)) {
            failures++;
        }
        free(exact);
        if (zone.chunk_list.head != first_chunk) {
            failures++; /* the zone grew: a container was not checked */
            break;
        }
    }
    msgpack_zone_destroy(&zone);
    printf("fuzz_snapshot: %ld inputs, %ld failures\n", iterations, failures);
    return failures == 0 ? 0 : 1;
}

#endif
