/* core/snapshot: writer, reader, zone bound, checksum, text dump. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "snapshot.h"

/* ---- helpers ------------------------------------------------------------ */

/* A reader together with the zone it decodes into, sized for `len`. */
typedef struct fixture_reader {
    msgpack_zone zone;
    rollnet_reader r;
    void *head;  /* the zone's first chunk: a new chunk would replace it */
    size_t free; /* the zone's free bytes right after init */
} fixture_reader;

static void open_reader(fixture_reader *f, const uint8_t *data, size_t len)
{
    assert_true(msgpack_zone_init(&f->zone, rn_reader_zone_size(len)));
    rn_reader_init(&f->r, &f->zone, data, len);
    f->head = f->zone.chunk_list.head;
    f->free = f->zone.chunk_list.free;
}

/* The zone kept its single chunk and only handed out memory from it. */
static void assert_zone_not_grown(const fixture_reader *f)
{
    assert_ptr_equal(f->zone.chunk_list.head, f->head);
    assert_true(f->zone.chunk_list.free <= f->free);
}

static void close_reader(fixture_reader *f)
{
    msgpack_zone_destroy(&f->zone);
}

/* A copy in a block of exactly len bytes, so reading past the end is caught
 * by the sanitizers. */
static uint8_t *exact_copy(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    if (len > 0) {
        memcpy(p, data, len);
    }
    return p;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: fixed seed, so every run tests the same inputs */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* ---- round trips ---------------------------------------------------------- */

static const double doubles[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300};

static size_t write_every_scalar(uint8_t *buf, size_t cap, const uint8_t *blob, size_t blob_len)
{
    rollnet_writer w;
    rn_writer_init(&w, buf, cap);
    rollnet_write_nil(&w);
    rollnet_write_bool(&w, true);
    rollnet_write_bool(&w, false);
    rollnet_write_int(&w, 0);
    rollnet_write_int(&w, -1);
    rollnet_write_int(&w, -33);
    rollnet_write_int(&w, 300);
    rollnet_write_int(&w, INT64_MIN);
    rollnet_write_int(&w, INT64_MAX);
    rollnet_write_uint(&w, 0);
    rollnet_write_uint(&w, 70000);
    rollnet_write_uint(&w, UINT64_MAX);
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        rollnet_write_double(&w, doubles[i]);
    }
    rollnet_write_double(&w, INFINITY);
    rollnet_write_str(&w, "", 0);
    rollnet_write_str(&w, "hello", 5);
    rollnet_write_bin(&w, NULL, 0);
    rollnet_write_bin(&w, blob, blob_len);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    return w.len;
}

/* Reads back what write_every_scalar wrote; false at the first failed read. */
static bool read_every_scalar(rollnet_reader *r, const uint8_t *blob, size_t blob_len)
{
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
    const void *p;
    size_t n;
    if (!rollnet_read_nil(r)) return false;
    if (!rollnet_read_bool(r, &b) || !b) return false;
    if (!rollnet_read_bool(r, &b) || b) return false;
    if (!rollnet_read_int(r, &i) || i != 0) return false;
    if (!rollnet_read_int(r, &i) || i != -1) return false;
    if (!rollnet_read_int(r, &i) || i != -33) return false;
    if (!rollnet_read_int(r, &i) || i != 300) return false;
    if (!rollnet_read_int(r, &i) || i != INT64_MIN) return false;
    if (!rollnet_read_int(r, &i) || i != INT64_MAX) return false;
    if (!rollnet_read_uint(r, &u) || u != 0) return false;
    if (!rollnet_read_uint(r, &u) || u != 70000) return false;
    if (!rollnet_read_uint(r, &u) || u != UINT64_MAX) return false;
    for (size_t k = 0; k < sizeof doubles / sizeof doubles[0]; k++) {
        /* bit-exact, which also tells -0.0 from 0.0 */
        if (!rollnet_read_double(r, &d) || memcmp(&d, &doubles[k], sizeof d) != 0) return false;
    }
    if (!rollnet_read_double(r, &d) || !isinf(d) || d < 0) return false;
    if (!rollnet_read_str(r, &s, &n) || n != 0) return false;
    if (!rollnet_read_str(r, &s, &n) || n != 5 || memcmp(s, "hello", 5) != 0) return false;
    if (!rollnet_read_bin(r, &p, &n) || n != 0) return false;
    if (!rollnet_read_bin(r, &p, &n) || n != blob_len || memcmp(p, blob, n) != 0) return false;
    return true;
}

static void test_every_scalar_type_round_trips_in_write_order(void **state)
{
    (void)state;
    enum { BLOB = 70000 }; /* past 65535: the bin 32 encoding */
    uint8_t *blob = malloc(BLOB);
    uint8_t *buf = malloc(BLOB + 512);
    assert_non_null(blob);
    assert_non_null(buf);
    for (size_t i = 0; i < BLOB; i++) {
        blob[i] = (uint8_t)(i * 131u + 7u);
    }
    size_t len = write_every_scalar(buf, BLOB + 512, blob, BLOB);

    fixture_reader f;
    open_reader(&f, buf, len);
    assert_false(rn_reader_done(&f.r));
    assert_true(read_every_scalar(&f.r, blob, BLOB));
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_OK);
    assert_true(rn_reader_done(&f.r));
    assert_zone_not_grown(&f);
    close_reader(&f);
    free(buf);
    free(blob);
}

static void test_strings_and_bins_point_into_the_snapshot_buffer(void **state)
{
    (void)state;
    uint8_t buf[64];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_str(&w, "abc", 3);
    rollnet_write_bin(&w, "\x00\x01\x02\x03", 4);
    fixture_reader f;
    open_reader(&f, buf, w.len);
    const char *s;
    const void *p;
    size_t n;
    assert_true(rollnet_read_str(&f.r, &s, &n));
    assert_true((const uint8_t *)s > buf && (const uint8_t *)s + n <= buf + w.len);
    assert_true(rollnet_read_bin(&f.r, &p, &n));
    assert_true((const uint8_t *)p > buf && (const uint8_t *)p + n <= buf + w.len);
    assert_memory_equal(p, "\x00\x01\x02\x03", 4);
    close_reader(&f);
}

static void test_read_bin_exact_copies_large_blobs(void **state)
{
    (void)state;
    enum { BLOB = 20000 };
    static uint8_t a[BLOB], b[BLOB], out_a[BLOB], out_b[BLOB];
    static uint8_t buf[2 * BLOB + 64];
    for (size_t i = 0; i < BLOB; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(255 - i % 251);
    }
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_bin(&w, a, BLOB);
    rollnet_write_int(&w, 9);
    rollnet_write_bin(&w, b, BLOB);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);

    fixture_reader f;
    open_reader(&f, buf, w.len);
    int64_t i = 0;
    assert_true(rollnet_read_bin_exact(&f.r, out_a, BLOB));
    assert_true(rollnet_read_int(&f.r, &i));
    assert_true(rollnet_read_bin_exact(&f.r, out_b, BLOB));
    assert_int_equal(i, 9);
    assert_memory_equal(out_a, a, BLOB);
    assert_memory_equal(out_b, b, BLOB);
    assert_true(rn_reader_done(&f.r));
    close_reader(&f);
}

static void test_nested_arrays_and_maps_round_trip(void **state)
{
    (void)state;
    /* {"a": [1, [2, 3], {}], "b": {"c": nil}, "d": []}, then 77 */
    uint8_t buf[128];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_map(&w, 3);
    rollnet_write_str(&w, "a", 1);
    rollnet_write_array(&w, 3);
    rollnet_write_int(&w, 1);
    rollnet_write_array(&w, 2);
    rollnet_write_int(&w, 2);
    rollnet_write_int(&w, 3);
    rollnet_write_map(&w, 0);
    rollnet_write_str(&w, "b", 1);
    rollnet_write_map(&w, 1);
    rollnet_write_str(&w, "c", 1);
    rollnet_write_nil(&w);
    rollnet_write_str(&w, "d", 1);
    rollnet_write_array(&w, 0);
    rollnet_write_int(&w, 77);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);

    fixture_reader f;
    open_reader(&f, buf, w.len);
    rollnet_reader *r = &f.r;
    uint32_t n = 99;
    int64_t i = 0;
    const char *s;
    size_t len;
    assert_true(rollnet_read_map(r, &n));
    assert_int_equal(n, 3);
    assert_true(rollnet_read_str(r, &s, &len));
    assert_memory_equal(s, "a", 1);
    assert_true(rollnet_read_array(r, &n));
    assert_int_equal(n, 3);
    assert_true(rollnet_read_int(r, &i));
    assert_int_equal(i, 1);
    assert_false(rn_reader_done(r)); /* inside a container */
    assert_true(rollnet_read_array(r, &n));
    assert_int_equal(n, 2);
    assert_true(rollnet_read_int(r, &i));
    assert_int_equal(i, 2);
    assert_true(rollnet_read_int(r, &i));
    assert_int_equal(i, 3);
    assert_true(rollnet_read_map(r, &n));
    assert_int_equal(n, 0);
    assert_true(rollnet_read_str(r, &s, &len));
    assert_memory_equal(s, "b", 1);
    assert_true(rollnet_read_map(r, &n));
    assert_int_equal(n, 1);
    assert_true(rollnet_read_str(r, &s, &len));
    assert_memory_equal(s, "c", 1);
    assert_true(rollnet_read_nil(r));
    assert_true(rollnet_read_str(r, &s, &len));
    assert_memory_equal(s, "d", 1);
    assert_true(rollnet_read_array(r, &n));
    assert_int_equal(n, 0);
    assert_false(rn_reader_done(r)); /* 77 is still unread */
    assert_true(rollnet_read_int(r, &i));
    assert_int_equal(i, 77);
    assert_true(rn_reader_done(r));
    assert_int_equal(rollnet_reader_error(r), ROLLNET_ERR_OK);
    assert_zone_not_grown(&f);
    close_reader(&f);
}

static void test_integers_encode_the_same_whatever_their_signedness(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    rollnet_writer wa, wb;
    rn_writer_init(&wa, a, sizeof a);
    rn_writer_init(&wb, b, sizeof b);
    rollnet_write_int(&wa, 5);
    rollnet_write_uint(&wb, 5);
    assert_int_equal(wa.len, 1); /* the smallest encoding: a positive fixint */
    assert_int_equal(wb.len, 1);
    assert_memory_equal(a, b, 1);
    rollnet_write_int(&wa, 200);
    rollnet_write_uint(&wb, 200);
    assert_int_equal(wa.len, wb.len);
    assert_memory_equal(a, b, wa.len);
    assert_int_equal(rollnet_checksum(a, wa.len), rollnet_checksum(b, wb.len));

    /* and read back with the other signedness */
    fixture_reader f;
    open_reader(&f, a, wa.len);
    uint64_t u = 0;
    int64_t i = 0;
    assert_true(rollnet_read_uint(&f.r, &u));
    assert_int_equal(u, 5);
    close_reader(&f);
    open_reader(&f, b, wb.len);
    assert_true(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, 5);
    close_reader(&f);
}

/* ---- writer overflow ------------------------------------------------------ */

static void test_overflow_is_sticky_and_reported(void **state)
{
    (void)state;
    uint8_t buf[8];
    uint8_t big[16] = {0};
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    rollnet_write_int(&w, 1);
    assert_int_equal(w.len, 1);
    rollnet_write_bin(&w, big, sizeof big);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    size_t len = w.len;
    /* each of these would fit in what is left, and none is written */
    rollnet_write_nil(&w);
    rollnet_write_bool(&w, true);
    rollnet_write_int(&w, 2);
    rollnet_write_uint(&w, 3);
    rollnet_write_array(&w, 0);
    rollnet_write_map(&w, 0);
    rollnet_write_str(&w, "x", 1);
    assert_int_equal(w.len, len);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
}

static void test_a_value_that_exactly_fills_the_buffer_is_no_overflow(void **state)
{
    (void)state;
    uint8_t buf[9]; /* int64 min: one type byte and eight bytes */
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_int(&w, INT64_MIN);
    assert_int_equal(w.len, 9);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    rollnet_write_nil(&w);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    assert_int_equal(w.len, 9);
}

static void test_a_value_longer_than_msgpack_can_describe_is_an_overflow(void **state)
{
    (void)state;
    uint8_t buf[64];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    /* rejected from its length alone: the bytes are never read */
    rollnet_write_bin(&w, buf, (size_t)UINT32_MAX + 1u);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    assert_int_equal(w.len, 0);
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_str(&w, "x", (size_t)UINT32_MAX + 1u);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
}

static void test_a_writer_over_no_buffer_overflows_on_the_first_value(void **state)
{
    (void)state;
    rollnet_writer w;
    rn_writer_init(&w, NULL, 0);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    rollnet_write_nil(&w);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
}

/* ---- reader errors -------------------------------------------------------- */

static void test_type_mismatch_fails_leaves_output_and_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[32];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_int(&w, 7);
    rollnet_write_str(&w, "s", 1);
    fixture_reader f;
    open_reader(&f, buf, w.len);
    bool b = true;
    assert_false(rollnet_read_bool(&f.r, &b));
    assert_true(b);
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    /* sticky: the int that is really next is not read either */
    int64_t i = -5;
    assert_false(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, -5);
    assert_false(rn_reader_done(&f.r));
    close_reader(&f);
}

/* One reader per pair: the value written, the read that must refuse it. */
static void test_every_read_refuses_every_other_type(void **state)
{
    (void)state;
    enum { KINDS = 9 };
    for (int wk = 0; wk < KINDS; wk++) {
        uint8_t buf[32];
        rollnet_writer w;
        rn_writer_init(&w, buf, sizeof buf);
        switch (wk) {
        case 0: rollnet_write_nil(&w); break;
        case 1: rollnet_write_bool(&w, true); break;
        case 2: rollnet_write_int(&w, -4); break;
        case 3: rollnet_write_uint(&w, 4); break;
        case 4: rollnet_write_double(&w, 4.0); break;
        case 5: rollnet_write_str(&w, "four", 4); break;
        case 6: rollnet_write_bin(&w, "four", 4); break;
        case 7: rollnet_write_array(&w, 1); rollnet_write_nil(&w); break;
        case 8: rollnet_write_map(&w, 1); rollnet_write_nil(&w); rollnet_write_nil(&w); break;
        }
        for (int rk = 0; rk < KINDS + 1; rk++) {
            /* rk 3 (uint) accepts a non-negative int; rk 9 is bin_exact, which
             * accepts what rk 6 does */
            bool accepts = rk == wk || (rk == 9 && wk == 6) || (rk == 2 && wk == 3);
            fixture_reader f;
            open_reader(&f, buf, w.len);
            bool b = false;
            int64_t i = 123;
            uint64_t u = 123;
            double d = 123.0;
            const char *s = NULL;
            const void *p = NULL;
            size_t n = 123;
            uint32_t c = 123;
            uint8_t dst[4] = {9, 9, 9, 9};
            bool ok = false;
            switch (rk) {
            case 0: ok = rollnet_read_nil(&f.r); break;
            case 1: ok = rollnet_read_bool(&f.r, &b); break;
            case 2: ok = rollnet_read_int(&f.r, &i); break;
            case 3: ok = rollnet_read_uint(&f.r, &u); break;
            case 4: ok = rollnet_read_double(&f.r, &d); break;
            case 5: ok = rollnet_read_str(&f.r, &s, &n); break;
            case 6: ok = rollnet_read_bin(&f.r, &p, &n); break;
            case 7: ok = rollnet_read_array(&f.r, &c); break;
            case 8: ok = rollnet_read_map(&f.r, &c); break;
            case 9: ok = rollnet_read_bin_exact(&f.r, dst, sizeof dst); break;
            }
            if (wk == 3 && rk == 2) {
                assert_true(ok);
                assert_int_equal(i, 4);
            } else if (accepts) {
                assert_true(ok);
            } else {
                assert_false(ok);
                assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
                assert_false(b);
                assert_int_equal(i, 123);
                assert_int_equal(u, 123);
                assert_true(d == 123.0);
                assert_null(s);
                assert_null(p);
                assert_int_equal(n, 123);
                assert_int_equal(c, 123);
                assert_memory_equal(dst, "\x09\x09\x09\x09", 4);
            }
            close_reader(&f);
        }
    }
}

static void test_integers_out_of_range_are_refused(void **state)
{
    (void)state;
    uint8_t buf[64];
    rollnet_writer w;
    fixture_reader f;
    int64_t i = 11;
    uint64_t u = 11;

    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_uint(&w, (uint64_t)INT64_MAX + 1u);
    open_reader(&f, buf, w.len);
    assert_false(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, 11);
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    close_reader(&f);

    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_int(&w, -1);
    open_reader(&f, buf, w.len);
    assert_false(rollnet_read_uint(&f.r, &u));
    assert_int_equal(u, 11);
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    close_reader(&f);

    /* the edges that do fit */
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_uint(&w, (uint64_t)INT64_MAX);
    rollnet_write_int(&w, INT64_MAX);
    open_reader(&f, buf, w.len);
    assert_true(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, INT64_MAX);
    assert_true(rollnet_read_uint(&f.r, &u));
    assert_int_equal(u, (uint64_t)INT64_MAX);
    close_reader(&f);
}

static void test_doubles_and_integers_do_not_convert(void **state)
{
    (void)state;
    uint8_t buf[32];
    rollnet_writer w;
    fixture_reader f;
    double d = 8.5;
    int64_t i = 8;

    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_int(&w, 3);
    open_reader(&f, buf, w.len);
    assert_false(rollnet_read_double(&f.r, &d));
    assert_true(d == 8.5);
    close_reader(&f);

    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_double(&w, 3.0);
    open_reader(&f, buf, w.len);
    assert_false(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, 8);
    close_reader(&f);
}

static void test_reading_past_the_last_value_fails(void **state)
{
    (void)state;
    uint8_t buf[8];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_int(&w, 1);
    fixture_reader f;
    open_reader(&f, buf, w.len);
    int64_t i = 0;
    assert_true(rollnet_read_int(&f.r, &i));
    assert_true(rn_reader_done(&f.r));
    i = 42;
    assert_false(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, 42);
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    assert_false(rn_reader_done(&f.r));
    close_reader(&f);

    open_reader(&f, NULL, 0);
    assert_true(rn_reader_done(&f.r));
    assert_false(rollnet_read_nil(&f.r));
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    close_reader(&f);
}

static void test_bin_exact_of_another_length_fails_and_leaves_dst(void **state)
{
    (void)state;
    uint8_t buf[32];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_bin(&w, "abcd", 4);
    uint8_t dst[5] = {1, 2, 3, 4, 5};
    for (size_t want = 3; want <= 5; want += 2) {
        fixture_reader f;
        open_reader(&f, buf, w.len);
        assert_false(rollnet_read_bin_exact(&f.r, dst, want));
        assert_memory_equal(dst, "\x01\x02\x03\x04\x05", 5);
        assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
        close_reader(&f);
    }
}

/* Each level holds the next level and then a nil, so every container is
 * still open while its child is read. */
static size_t write_nested(uint8_t *buf, size_t cap, int levels)
{
    rollnet_writer w;
    rn_writer_init(&w, buf, cap);
    for (int k = 0; k < levels; k++) {
        rollnet_write_array(&w, 2);
    }
    rollnet_write_int(&w, 5);
    for (int k = 0; k < levels; k++) {
        rollnet_write_nil(&w);
    }
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    return w.len;
}

static void test_nesting_up_to_the_depth_limit_reads(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = write_nested(buf, sizeof buf, RN_READER_MAX_DEPTH);
    fixture_reader f;
    open_reader(&f, buf, len);
    uint32_t n = 0;
    for (int k = 0; k < RN_READER_MAX_DEPTH; k++) {
        assert_true(rollnet_read_array(&f.r, &n));
        assert_int_equal(n, 2);
    }
    assert_int_equal(f.r.depth, RN_READER_MAX_DEPTH);
    int64_t i = 0;
    assert_true(rollnet_read_int(&f.r, &i));
    assert_int_equal(i, 5);
    for (int k = 0; k < RN_READER_MAX_DEPTH; k++) {
        assert_true(rollnet_read_nil(&f.r));
    }
    assert_true(rn_reader_done(&f.r));
    close_reader(&f);
}

static void test_nesting_past_the_depth_limit_is_an_error(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = write_nested(buf, sizeof buf, RN_READER_MAX_DEPTH + 1);
    fixture_reader f;
    open_reader(&f, buf, len);
    uint32_t n = 0;
    bool failed = false;
    for (int k = 0; k <= RN_READER_MAX_DEPTH && !failed; k++) {
        failed = !rollnet_read_array(&f.r, &n);
    }
    assert_true(failed);
    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
    assert_true(f.r.depth <= RN_READER_MAX_DEPTH);
    assert_zone_not_grown(&f);
    close_reader(&f);
}

/* ---- damaged data --------------------------------------------------------- */

static void test_every_truncation_is_reported_without_overreading(void **state)
{
    (void)state;
    uint8_t blob[300];
    for (size_t i = 0; i < sizeof blob; i++) {
        blob[i] = (uint8_t)(i ^ 0x5a);
    }
    uint8_t buf[1024];
    rollnet_writer w;
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_array(&w, 2);
    rollnet_write_map(&w, 1);
    rollnet_write_str(&w, "k", 1);
    rollnet_write_int(&w, -100000);
    rollnet_write_bin(&w, blob, sizeof blob);
    size_t nested_end = w.len;
    size_t scalars = write_every_scalar(buf + nested_end, sizeof buf - nested_end, blob, 40);
    size_t full = nested_end + scalars;

    for (size_t cut = 0; cut < full; cut++) {
        uint8_t *data = exact_copy(buf, cut);
        fixture_reader f;
        open_reader(&f, data, cut);
        uint32_t n;
        const char *s;
        size_t len;
        int64_t i;
        uint8_t out[sizeof blob];
        bool ok = rollnet_read_array(&f.r, &n) && rollnet_read_map(&f.r, &n) &&
                  rollnet_read_str(&f.r, &s, &len) && rollnet_read_int(&f.r, &i) &&
                  rollnet_read_bin_exact(&f.r, out, sizeof out) &&
                  read_every_scalar(&f.r, blob, 40);
        assert_false(ok);
        assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
        assert_false(rn_reader_done(&f.r));
        assert_zone_not_grown(&f);
        close_reader(&f);
        free(data);
    }
}

static void test_a_forged_container_count_does_not_grow_the_zone(void **state)
{
    (void)state;
    /* array 32 and map 32 headers claiming 2^32-1 elements, then a nil:
     * msgpack-c alone would reserve ~100 GB for them */
    static const uint8_t forged[][6] = {
        {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0},
        {0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0},
        {0xdc, 0xff, 0xff, 0xc0, 0xc0, 0xc0},
        {0x91, 0xdd, 0x00, 0x01, 0x00, 0x00},
    };
    for (size_t k = 0; k < sizeof forged / sizeof forged[0]; k++) {
        fixture_reader f;
        open_reader(&f, forged[k], sizeof forged[k]);
        uint32_t n = 5;
        bool ok = forged[k][0] == 0xdf ? rollnet_read_map(&f.r, &n)
                                       : rollnet_read_array(&f.r, &n);
        assert_false(ok);
        assert_int_equal(n, 5);
        assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
        assert_zone_not_grown(&f);

        char text[64];
        assert_int_equal(rn_snapshot_dump(&f.zone, forged[k], sizeof forged[k], text, sizeof text),
                         ROLLNET_ERR_SNAPSHOT_READ);
        assert_ptr_equal(f.zone.chunk_list.head, f.head);
        close_reader(&f);
    }
}

/* Random bytes drawn mostly from msgpack's header range, read by several
 * read sequences and dumped: nothing may crash, overread or grow the zone,
 * and every refused read leaves the sticky error. */
static void test_garbage_never_crashes_and_reports_errors(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int errors = 0;
    for (int round = 0; round < 4000; round++) {
        size_t len = 1 + (size_t)(rng_next(&seed) % 48);
        uint8_t raw[48];
        for (size_t i = 0; i < len; i++) {
            uint64_t x = rng_next(&seed);
            raw[i] = (x & 3) ? (uint8_t)(0x80 + (x >> 8) % 0x80) : (uint8_t)(x >> 16);
        }
        uint8_t *data = exact_copy(raw, len);
        for (int program = 0; program < 4; program++) {
            fixture_reader f;
            open_reader(&f, data, len);
            for (int step = 0; step < 64; step++) {
                uint32_t n;
                int64_t i;
                uint64_t u;
                double d;
                const char *s;
                const void *p;
                size_t sz;
                bool ok;
                switch ((program + step) % 7) {
                case 0: ok = rollnet_read_array(&f.r, &n); break;
                case 1: ok = rollnet_read_map(&f.r, &n); break;
                case 2: ok = rollnet_read_int(&f.r, &i); break;
                case 3: ok = rollnet_read_uint(&f.r, &u); break;
                case 4: ok = rollnet_read_bin(&f.r, &p, &sz); break;
                case 5: ok = rollnet_read_str(&f.r, &s, &sz); break;
                default: ok = rollnet_read_double(&f.r, &d); break;
                }
                if (!ok) {
                    assert_int_equal(rollnet_reader_error(&f.r), ROLLNET_ERR_SNAPSHOT_READ);
                    errors++;
                    break;
                }
            }
            assert_zone_not_grown(&f);
            if (program == 0) {
                char text[96];
                rollnet_error e = rn_snapshot_dump(&f.zone, data, len, text, sizeof text);
                assert_true(e == ROLLNET_ERR_OK || e == ROLLNET_ERR_SNAPSHOT_READ ||
                            e == ROLLNET_ERR_BUFFER_TOO_SMALL);
                assert_non_null(memchr(text, '\0', sizeof text));
                assert_ptr_equal(f.zone.chunk_list.head, f.head);
            }
            close_reader(&f);
        }
        free(data);
    }
    assert_true(errors > 0);
}

/* ---- zone bound ----------------------------------------------------------- */

typedef void (*worst_case_fn)(rollnet_writer *w, size_t cap);

/* One array header and a nil in every byte left. */
static void worst_array_of_nils(rollnet_writer *w, size_t cap)
{
    rollnet_write_array(w, (uint32_t)(cap - 5));
    for (size_t i = 0; i < cap - 5; i++) {
        rollnet_write_nil(w);
    }
}

/* One map header and fixint pairs in every byte left. */
static void worst_map_of_fixints(rollnet_writer *w, size_t cap)
{
    uint32_t pairs = (uint32_t)((cap - 5) / 2);
    rollnet_write_map(w, pairs);
    for (uint32_t i = 0; i < pairs; i++) {
        rollnet_write_int(w, i % 100);
        rollnet_write_int(w, 1);
    }
}

/* An array of one-element arrays: two objects for every two bytes. */
static void worst_array_of_singletons(rollnet_writer *w, size_t cap)
{
    uint32_t n = (uint32_t)((cap - 5) / 2);
    rollnet_write_array(w, n);
    for (uint32_t i = 0; i < n; i++) {
        rollnet_write_array(w, 1);
        rollnet_write_nil(w);
    }
}

/* Many small top-level containers in a row, and empty containers. */
static void worst_many_top_level_values(rollnet_writer *w, size_t cap)
{
    for (size_t used = 0; used + 3 <= cap; used += 3) {
        rollnet_write_array(w, 1);
        rollnet_write_array(w, 0);
        rollnet_write_map(w, 0);
    }
}

static void test_worst_case_inputs_fit_the_zone_without_growing_it(void **state)
{
    (void)state;
    static const worst_case_fn fns[] = {worst_array_of_nils, worst_map_of_fixints,
                                        worst_array_of_singletons, worst_many_top_level_values};
    static const size_t caps[] = {64, 1000, 16384, 65536};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        size_t cap = caps[c];
        uint8_t *buf = malloc(cap);
        assert_non_null(buf);
        for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
            rollnet_writer w;
            rn_writer_init(&w, buf, cap);
            fns[k](&w, cap);
            assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
            assert_true(w.len + 5 > cap); /* full but for a header's slack */

            fixture_reader f;
            open_reader(&f, buf, cap);
            /* decode every top-level value the way the reader does */
            size_t off = 0;
            while (off < w.len) {
                msgpack_object o;
                msgpack_unpack_return ret =
                    msgpack_unpack((const char *)buf, w.len, &off, &f.zone, &o);
                assert_true(ret == MSGPACK_UNPACK_SUCCESS || ret == MSGPACK_UNPACK_EXTRA_BYTES);
            }
            assert_zone_not_grown(&f);

            /* and through the reader, twice: init must hand the zone back */
            for (int pass = 0; pass < 2; pass++) {
                rn_reader_init(&f.r, &f.zone, buf, w.len);
                assert_int_equal(f.zone.chunk_list.free, f.free);
                uint32_t n;
                if (k == 3) {
                    while (!rn_reader_done(&f.r)) {
                        assert_true(rollnet_read_array(&f.r, &n));
                        assert_true(rollnet_read_array(&f.r, &n));
                        assert_true(rollnet_read_map(&f.r, &n));
                    }
                } else if (k == 1) {
                    assert_true(rollnet_read_map(&f.r, &n));
                } else {
                    assert_true(rollnet_read_array(&f.r, &n));
                }
                assert_zone_not_grown(&f);
            }
            close_reader(&f);
        }
        free(buf);
    }
}

/* ---- whole containers (what save_end checks) ---------------------------- */

/* True when data[0..len) is a sequence of whole values by the bounds walk
 * that guards untrusted data. */
static bool walks_whole(const uint8_t *data, size_t len)
{
    for (size_t off = 0, end; off < len; off = end) {
        if (!rn_msgpack_measure(data, len, off, &end)) {
            return false;
        }
    }
    return true;
}

/* The game writes container headers itself, so one can announce more values
 * than follow; the writer's count must catch exactly what the bounds walk
 * would. */
static void test_a_lying_container_header_leaves_the_writer_incomplete(void **state)
{
    (void)state;
    uint8_t buf[64];
    rollnet_writer w;

    rn_writer_init(&w, buf, sizeof buf);
    assert_true(rn_writer_complete(&w));
    rollnet_write_array(&w, 100000000u); /* 1.6 GB of msgpack_object at LOAD */
    rollnet_write_int(&w, 1);
    rollnet_write_int(&w, 2);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK); /* no overflow to see */
    assert_false(rn_writer_complete(&w));
    assert_false(walks_whole(buf, w.len));

    /* the lie hidden one level down, inside an honest container */
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_map(&w, 1);
    rollnet_write_str(&w, "k", 1);
    rollnet_write_map(&w, UINT32_MAX);
    rollnet_write_nil(&w);
    assert_false(rn_writer_complete(&w));
    assert_false(walks_whole(buf, w.len));

    /* honest shapes: nesting, empty containers, several top-level values */
    rn_writer_init(&w, buf, sizeof buf);
    rollnet_write_array(&w, 2);
    rollnet_write_map(&w, 1);
    rollnet_write_int(&w, 1);
    rollnet_write_array(&w, 0);
    rollnet_write_bin(&w, "", 0);
    rollnet_write_map(&w, 0);
    rollnet_write_double(&w, 0.5);
    assert_true(rn_writer_complete(&w));
    assert_true(walks_whole(buf, w.len));
}

static void test_the_writer_count_agrees_with_the_bounds_walk(void **state)
{
    (void)state;
    enum { CAP = 512 };
    static uint8_t buf[CAP];
    uint64_t seed = 0x2545f4914f6cdd1dull;
    int complete = 0, incomplete = 0;
    for (int round = 0; round < 20000; round++) {
        rollnet_writer w;
        rn_writer_init(&w, buf, CAP);
        int values = 1 + (int)(rng_next(&seed) % 24);
        for (int v = 0; v < values; v++) {
            uint64_t x = rng_next(&seed);
            uint32_t n = (uint32_t)((x >> 8) % 4);
            switch (x % 8) {
            case 0: rollnet_write_array(&w, n); break;
            case 1: rollnet_write_map(&w, n); break;
            case 2: rollnet_write_array(&w, (x >> 16) & 1 ? UINT32_MAX : 70000u); break;
            case 3: rollnet_write_str(&w, "abc", n); break;
            case 4: rollnet_write_bin(&w, "\x01\x02\x03", n); break;
            case 5: rollnet_write_int(&w, (int64_t)(x >> 20) - (1 << 20)); break;
            case 6: rollnet_write_double(&w, 1.25); break;
            default: rollnet_write_nil(&w); break;
            }
        }
        assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
        bool whole = walks_whole(buf, w.len);
        assert_int_equal(rn_writer_complete(&w), whole);
        if (whole) {
            complete++;
        } else {
            incomplete++;
        }
    }
    /* both outcomes were exercised */
    assert_true(complete > 1000);
    assert_true(incomplete > 1000);
}

/* The check above can fail: a zone of half the size does grow. */
static void test_an_undersized_zone_visibly_grows(void **state)
{
    (void)state;
    enum { CAP = 4096 };
    static uint8_t buf[CAP];
    rollnet_writer w;
    rn_writer_init(&w, buf, CAP);
    worst_array_of_nils(&w, CAP);
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, rn_reader_zone_size(CAP) / 2));
    void *head = zone.chunk_list.head;
    size_t off = 0;
    msgpack_object o;
    assert_int_equal(msgpack_unpack((const char *)buf, w.len, &off, &zone, &o),
                     MSGPACK_UNPACK_SUCCESS);
    assert_ptr_not_equal(zone.chunk_list.head, head);
    msgpack_zone_destroy(&zone);
}

static void test_zone_size_saturates_instead_of_wrapping(void **state)
{
    (void)state;
    assert_true(rn_reader_zone_size(0) > 0);
    assert_true(rn_reader_zone_size(100) >= 100 * sizeof(msgpack_object));
    assert_int_equal(rn_reader_zone_size(SIZE_MAX / 2), SIZE_MAX);
}

/* ---- checksum ------------------------------------------------------------- */

static void test_checksum_is_xxh64_with_seed_zero(void **state)
{
    (void)state;
    assert_int_equal(rollnet_checksum("rollnet", 7), XXH64("rollnet", 7, 0));
    /* pinned, so a change of seed or algorithm cannot pass unnoticed */
    assert_int_equal(rollnet_checksum("rollnet", 7), 0x69cb3038d62bbdddull);
    assert_int_equal(rollnet_checksum("", 0), 0xef46db3751d8e999ull);
    assert_int_equal(rollnet_checksum(NULL, 0), 0xef46db3751d8e999ull);
}

static void test_equal_bytes_give_equal_checksums(void **state)
{
    (void)state;
    uint8_t a[256], b[256];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)(i * 7u);
    }
    memcpy(b, a, sizeof a);
    assert_int_equal(rollnet_checksum(a, sizeof a), rollnet_checksum(b, sizeof b));
    assert_int_equal(rollnet_checksum(a, sizeof a), rollnet_checksum(a, sizeof a));
}

static void test_any_flipped_bit_changes_the_checksum(void **state)
{
    (void)state;
    uint8_t a[64];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)(i + 1);
    }
    uint64_t base = rollnet_checksum(a, sizeof a);
    for (size_t bit = 0; bit < 8 * sizeof a; bit++) {
        a[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(rollnet_checksum(a, sizeof a), base);
        a[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(rollnet_checksum(a, sizeof a), base);
}

/* ---- dump ----------------------------------------------------------------- */

static size_t write_dump_sample(uint8_t *buf, size_t cap)
{
    rollnet_writer w;
    rn_writer_init(&w, buf, cap);
    rollnet_write_int(&w, 42);
    rollnet_write_str(&w, "hi", 2);
    rollnet_write_bin(&w, "\x01\x02", 2);
    rollnet_write_array(&w, 2);
    rollnet_write_int(&w, -3);
    rollnet_write_bool(&w, true);
    rollnet_write_map(&w, 1);
    rollnet_write_str(&w, "k", 1);
    rollnet_write_nil(&w);
    rollnet_write_double(&w, 1.5);
    assert_int_equal(rollnet_writer_error(&w), ROLLNET_ERR_OK);
    return w.len;
}

static void test_dump_prints_one_top_level_value_per_line(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = write_dump_sample(buf, sizeof buf);
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, rn_reader_zone_size(len)));
    char text[256];
    assert_int_equal(rn_snapshot_dump(&zone, buf, len, text, sizeof text), ROLLNET_ERR_OK);
    assert_non_null(strstr(text, "42\n"));
    assert_non_null(strstr(text, "\"hi\"\n"));
    assert_non_null(strstr(text, "\\x01\\x02"));
    assert_non_null(strstr(text, "-3"));
    assert_non_null(strstr(text, "true"));
    assert_non_null(strstr(text, "\"k\""));
    assert_non_null(strstr(text, "nil"));
    assert_non_null(strstr(text, "1.5"));
    size_t lines = 0;
    for (const char *p = text; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 6);
    assert_true(strchr(text, '[') < strchr(text, '{')); /* in write order */

    assert_int_equal(rn_snapshot_dump(&zone, buf, 0, text, sizeof text), ROLLNET_ERR_OK);
    assert_string_equal(text, "");
    msgpack_zone_destroy(&zone);
}

static void test_dump_reports_truncation_and_stays_terminated(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t len = write_dump_sample(buf, sizeof buf);
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, rn_reader_zone_size(len)));
    char full[256];
    assert_int_equal(rn_snapshot_dump(&zone, buf, len, full, sizeof full), ROLLNET_ERR_OK);
    size_t full_len = strlen(full);

    assert_int_equal(rn_snapshot_dump(&zone, buf, len, NULL, 0), ROLLNET_ERR_BUFFER_TOO_SMALL);
    for (size_t cap = 1; cap <= full_len + 1; cap++) {
        char *text = malloc(cap); /* exact, so a write past cap is caught */
        assert_non_null(text);
        rollnet_error e = rn_snapshot_dump(&zone, buf, len, text, cap);
        const char *nul = memchr(text, '\0', cap);
        assert_non_null(nul);
        size_t n = (size_t)(nul - text);
        assert_memory_equal(text, full, n); /* what is there is a prefix */
        if (cap == full_len + 1) {
            assert_int_equal(e, ROLLNET_ERR_OK);
            assert_string_equal(text, full);
        } else {
            assert_int_equal(e, ROLLNET_ERR_BUFFER_TOO_SMALL);
        }
        free(text);
    }
    msgpack_zone_destroy(&zone);
}

static void test_dump_of_data_that_is_not_msgpack_is_a_read_error(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t len = write_dump_sample(buf, sizeof buf);
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, rn_reader_zone_size(sizeof buf)));
    char text[256];
    /* the values before the damage are still printed */
    uint8_t bad[64];
    memcpy(bad, buf, len);
    bad[len] = 0xc1; /* a type byte msgpack never uses */
    assert_int_equal(rn_snapshot_dump(&zone, bad, len + 1, text, sizeof text),
                     ROLLNET_ERR_SNAPSHOT_READ);
    assert_non_null(strstr(text, "42\n"));
    /* cut inside the last value */
    assert_int_equal(rn_snapshot_dump(&zone, buf, len - 1, text, sizeof text),
                     ROLLNET_ERR_SNAPSHOT_READ);
    assert_non_null(memchr(text, '\0', sizeof text));
    msgpack_zone_destroy(&zone);
}

static void standalone_writer_writes_into_the_callers_buffer(void **state)
{
    (void)state;
    void *storage = malloc(rollnet_writer_storage_size());
    uint8_t buf[8];
    assert_null(rollnet_writer_open(NULL, buf, sizeof buf));
    assert_null(rollnet_writer_open(storage, NULL, sizeof buf));
    rollnet_writer *w = rollnet_writer_open(storage, buf, sizeof buf);
    assert_non_null(w);
    rollnet_write_array(w, 2);
    rollnet_write_int(w, 5);
    rollnet_write_int(w, -1);
    assert_int_equal(rollnet_writer_length(w), 3);
    assert_int_equal(buf[0], 0x92);
    assert_int_equal(buf[1], 0x05);
    assert_int_equal(buf[2], 0xff);
    rollnet_write_bin(w, buf, 8); /* does not fit */
    assert_int_equal(rollnet_writer_error(w), ROLLNET_ERR_SNAPSHOT_OVERFLOW);
    assert_true(rollnet_writer_length(w) <= sizeof buf);
    assert_int_equal(rollnet_writer_length(NULL), 0);
    free(storage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standalone_writer_writes_into_the_callers_buffer),
        cmocka_unit_test(test_every_scalar_type_round_trips_in_write_order),
        cmocka_unit_test(test_strings_and_bins_point_into_the_snapshot_buffer),
        cmocka_unit_test(test_read_bin_exact_copies_large_blobs),
        cmocka_unit_test(test_nested_arrays_and_maps_round_trip),
        cmocka_unit_test(test_integers_encode_the_same_whatever_their_signedness),
        cmocka_unit_test(test_overflow_is_sticky_and_reported),
        cmocka_unit_test(test_a_value_that_exactly_fills_the_buffer_is_no_overflow),
        cmocka_unit_test(test_a_value_longer_than_msgpack_can_describe_is_an_overflow),
        cmocka_unit_test(test_a_writer_over_no_buffer_overflows_on_the_first_value),
        cmocka_unit_test(test_type_mismatch_fails_leaves_output_and_is_sticky),
        cmocka_unit_test(test_every_read_refuses_every_other_type),
        cmocka_unit_test(test_integers_out_of_range_are_refused),
        cmocka_unit_test(test_doubles_and_integers_do_not_convert),
        cmocka_unit_test(test_reading_past_the_last_value_fails),
        cmocka_unit_test(test_bin_exact_of_another_length_fails_and_leaves_dst),
        cmocka_unit_test(test_nesting_up_to_the_depth_limit_reads),
        cmocka_unit_test(test_nesting_past_the_depth_limit_is_an_error),
        cmocka_unit_test(test_every_truncation_is_reported_without_overreading),
        cmocka_unit_test(test_a_forged_container_count_does_not_grow_the_zone),
        cmocka_unit_test(test_a_lying_container_header_leaves_the_writer_incomplete),
        cmocka_unit_test(test_the_writer_count_agrees_with_the_bounds_walk),
        cmocka_unit_test(test_garbage_never_crashes_and_reports_errors),
        cmocka_unit_test(test_worst_case_inputs_fit_the_zone_without_growing_it),
        cmocka_unit_test(test_an_undersized_zone_visibly_grows),
        cmocka_unit_test(test_zone_size_saturates_instead_of_wrapping),
        cmocka_unit_test(test_checksum_is_xxh64_with_seed_zero),
        cmocka_unit_test(test_equal_bytes_give_equal_checksums),
        cmocka_unit_test(test_any_flipped_bit_changes_the_checksum),
        cmocka_unit_test(test_dump_prints_one_top_level_value_per_line),
        cmocka_unit_test(test_dump_reports_truncation_and_stays_terminated),
        cmocka_unit_test(test_dump_of_data_that_is_not_msgpack_is_a_read_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
