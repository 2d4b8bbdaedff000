/* The snapshot reader and the text dump fed arbitrary bytes: seeded random
 * data and mutations of real snapshots, read back in random orders. Nothing
 * may crash, read out of bounds (run under ASan), grow the zone, or report
 * success for data that is not what the reads asked for.
 *
 *   fuzz_snapshot [--iterations N] [--seed S]
 * prints "fuzz_snapshot: N inputs, F failures" and exits non-zero on a failure. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

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
