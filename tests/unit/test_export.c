/* Exporter: exact CSV text, a msgpack stream any msgpack reader can decode,
 * rejection of records that do not match the columns, identical files for
 * identical records, and the per-peer log. Files go to a fresh temp dir. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "counting_alloc.h"
#include <msgpack.h>

#include "rollnet/rollnet_export.h"

typedef struct fixture {
    char dir[256];
    char path[512];
} fixture;

static int make_dir(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    if (!fx) {
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/rollnet_export_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int remove_dir(void **state)
{
    fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    if (d) {
        struct dirent *ent;
        char p[600];
        while ((ent = readdir(d)) != NULL) {
            if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
                snprintf(p, sizeof(p), "%s/%s", fx->dir, ent->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* A path inside the fixture's dir; valid until the next call. */
static const char *in_dir(fixture *fx, const char *name)
{
    snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
    return fx->path;
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void assert_file_text(const char *path, const char *want)
{
    size_t len;
    char *got = read_whole(path, &len);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

/* Record data packed by msgpack-c itself, as the game's writer would. */
typedef struct packed {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} packed;

static void packed_init(packed *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

static rollnet_record make_record(int32_t frame, int32_t episode, int32_t step,
                                  const uint8_t *inputs, const packed *p)
{
    rollnet_record r;
    memset(&r, 0, sizeof(r));
    r.frame = frame;
    r.episode = episode;
    r.step = step;
    r.inputs = inputs;
    r.data = p ? (const uint8_t *)p->sb.data : NULL;
    r.size = p ? p->sb.size : 0;
    return r;
}

static const char *const k_columns[] = {"x", "name", "alive", "speed", "note"};

static rollnet_export_desc five_columns(const char *csv_path)
{
    rollnet_export_desc d;
    memset(&d, 0, sizeof(d));
    d.csv_path = csv_path;
    d.columns = k_columns;
    d.num_columns = 5;
    d.num_players = 2;
    d.input_size = 2;
    return d;
}

/* Two records covering every scalar type, written to an exporter. */
static void write_two_records(rollnet_exporter *e)
{
    uint8_t in0[4] = {0x00, 0x0f, 0xab, 0x10};
    uint8_t in1[4] = {0xff, 0x01, 0x00, 0x00};
    packed a, b;
    packed_init(&a);
    msgpack_pack_array(&a.pk, 5);
    msgpack_pack_int64(&a.pk, -3);
    pack_cstr(&a.pk, "a,b\"c");
    msgpack_pack_true(&a.pk);
    msgpack_pack_double(&a.pk, 0.1);
    msgpack_pack_nil(&a.pk);
    packed_init(&b);
    msgpack_pack_array(&b.pk, 5);
    msgpack_pack_uint64(&b.pk, UINT64_MAX);
    pack_cstr(&b.pk, "plain");
    msgpack_pack_false(&b.pk);
    msgpack_pack_float(&b.pk, 1.5f);
    pack_cstr(&b.pk, "two\nlines");
    rollnet_record ra = make_record(0, 0, 0, in0, &a);
    rollnet_record rb = make_record(1, 1, 0, in1, &b);
    assert_int_equal(rollnet_exporter_write(e, &ra), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_exporter_write(e, &rb), ROLLNET_ERR_OK);
    msgpack_sbuffer_destroy(&a.sb);
    msgpack_sbuffer_destroy(&b.sb);
}

static const char k_two_records_csv[] =
    "frame,episode,step,input0,input1,x,name,alive,speed,note\n"
    "0,0,0,000f,ab10,-3,\"a,b\"\"c\",true,0.1,\n"
    "1,1,0,ff01,0000,18446744073709551615,plain,false,1.5,\"two\nlines\"\n";

static void csv_holds_header_and_exact_rows(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "run.csv"));
    rollnet_export_desc d = five_columns(csv);
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    write_two_records(e);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    assert_file_text(csv, k_two_records_csv);
}

static void column_names_are_quoted_when_needed(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "names.csv"));
    const char *const cols[] = {"pos,x", "say \"hi\""};
    rollnet_export_desc d;
    memset(&d, 0, sizeof(d));
    d.csv_path = csv;
    d.columns = cols;
    d.num_columns = 2;
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    assert_file_text(csv, "frame,episode,step,input0,input1,\"pos,x\",\"say \"\"hi\"\"\"\n");
}

static void write_float_row(const char *csv)
{
    static const char *const cols[] = {"a", "b", "c", "d", "e", "f", "g",
                                       "h", "i", "j", "k", "l", "m", "n"};
    rollnet_export_desc d;
    memset(&d, 0, sizeof(d));
    d.csv_path = csv;
    d.columns = cols;
    d.num_columns = 14;
    d.num_players = 1;
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    packed p;
    packed_init(&p);
    msgpack_pack_array(&p.pk, 14);
    msgpack_pack_double(&p.pk, 0.1);
    msgpack_pack_double(&p.pk, -2.5);
    msgpack_pack_double(&p.pk, 1.0 / 3.0);
    msgpack_pack_double(&p.pk, 1e300);
    msgpack_pack_double(&p.pk, 100.0);
    msgpack_pack_float(&p.pk, 0.1f);
    msgpack_pack_double(&p.pk, NAN);
    msgpack_pack_double(&p.pk, INFINITY);
    msgpack_pack_double(&p.pk, -INFINITY);
    msgpack_pack_double(&p.pk, 5e-324);
    msgpack_pack_double(&p.pk, 1e-5);
    msgpack_pack_double(&p.pk, 0.0001);
    msgpack_pack_double(&p.pk, 1e16);
    msgpack_pack_double(&p.pk, 1234.5);
    uint8_t in = 7;
    rollnet_record r = make_record(3, 0, 3, &in, &p);
    assert_int_equal(rollnet_exporter_write(e, &r), ROLLNET_ERR_OK);
    msgpack_sbuffer_destroy(&p.sb);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
}

static const char k_float_csv[] = "frame,episode,step,input0,a,b,c,d,e,f,g,h,i,j,k,l,m,n\n"
                                  "3,0,3,07,0.1,-2.5,0.3333333333333333,1e+300,100,0.1,"
                                  "nan,inf,-inf,5e-324,1e-05,0.0001,1e+16,1234.5\n";

static void floats_use_fewest_digits_that_read_back(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "floats.csv"));
    write_float_row(csv);
    assert_file_text(csv, k_float_csv);
}

/* Runs only where a locale with a decimal comma is installed. */
static void floats_ignore_a_comma_decimal_locale(void **state)
{
    fixture *fx = *state;
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                        "de_DE", "fr_FR"};
    const char *chosen = NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !chosen; i++) {
        chosen = setlocale(LC_NUMERIC, names[i]);
    }
    if (!chosen) {
        skip();
    }
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "floats_locale.csv"));
    write_float_row(csv);
    setlocale(LC_NUMERIC, "C");
    assert_file_text(csv, k_float_csv);
}

static int64_t obj_int(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        return (int64_t)o->via.u64;
    }
    assert_int_equal(o->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    return o->via.i64;
}

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
            return &map->via.map.ptr[i].val;
        }
    }
    fail_msg("key %s missing", key);
    return NULL;
}

static void assert_bin(const msgpack_object *o, const uint8_t *want, size_t len)
{
    assert_int_equal(o->type, MSGPACK_OBJECT_BIN);
    assert_int_equal(o->via.bin.size, len);
    assert_memory_equal(o->via.bin.ptr, want, len);
}

static void msgpack_stream_holds_one_map_per_record(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "run.csv"));
    rollnet_export_desc d = five_columns(csv);
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    write_two_records(e);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);

    size_t len;
    char *bytes = read_whole(in_dir(fx, "run.csv.msgpack"), &len);
    msgpack_unpacker up;
    assert_true(msgpack_unpacker_init(&up, 1024));
    assert_true(msgpack_unpacker_reserve_buffer(&up, len));
    memcpy(msgpack_unpacker_buffer(&up), bytes, len);
    msgpack_unpacker_buffer_consumed(&up, len);
    free(bytes);

    msgpack_unpacked res;
    msgpack_unpacked_init(&res);
    const uint8_t in0[4] = {0x00, 0x0f, 0xab, 0x10};
    const uint8_t in1[4] = {0xff, 0x01, 0x00, 0x00};

    assert_int_equal(msgpack_unpacker_next(&up, &res), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *m = &res.data;
    assert_int_equal(m->via.map.size, 5);
    assert_int_equal(obj_int(map_get(m, "frame")), 0);
    assert_int_equal(obj_int(map_get(m, "episode")), 0);
    assert_int_equal(obj_int(map_get(m, "step")), 0);
    const msgpack_object *inputs = map_get(m, "inputs");
    assert_int_equal(inputs->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(inputs->via.array.size, 2);
    assert_bin(&inputs->via.array.ptr[0], in0, 2);
    assert_bin(&inputs->via.array.ptr[1], in0 + 2, 2);
    const msgpack_object *data = map_get(m, "data");
    assert_int_equal(data->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(data->via.array.size, 5);
    assert_int_equal(obj_int(&data->via.array.ptr[0]), -3);
    assert_int_equal(data->via.array.ptr[1].type, MSGPACK_OBJECT_STR);
    assert_int_equal(data->via.array.ptr[1].via.str.size, 5);
    assert_memory_equal(data->via.array.ptr[1].via.str.ptr, "a,b\"c", 5);
    assert_int_equal(data->via.array.ptr[2].type, MSGPACK_OBJECT_BOOLEAN);
    assert_true(data->via.array.ptr[2].via.boolean);
    assert_int_equal(data->via.array.ptr[3].type, MSGPACK_OBJECT_FLOAT64);
    assert_true(data->via.array.ptr[3].via.f64 == 0.1);
    assert_int_equal(data->via.array.ptr[4].type, MSGPACK_OBJECT_NIL);

    assert_int_equal(msgpack_unpacker_next(&up, &res), MSGPACK_UNPACK_SUCCESS);
    m = &res.data;
    assert_int_equal(obj_int(map_get(m, "frame")), 1);
    assert_int_equal(obj_int(map_get(m, "episode")), 1);
    assert_int_equal(obj_int(map_get(m, "step")), 0);
    inputs = map_get(m, "inputs");
    assert_bin(&inputs->via.array.ptr[0], in1, 2);
    assert_bin(&inputs->via.array.ptr[1], in1 + 2, 2);
    data = map_get(m, "data");
    assert_int_equal(data->via.array.ptr[0].via.u64, UINT64_MAX);
    assert_int_equal(data->via.array.ptr[3].type, MSGPACK_OBJECT_FLOAT32);
    assert_true(data->via.array.ptr[3].via.f64 == 1.5);

    assert_int_equal(msgpack_unpacker_next(&up, &res), MSGPACK_UNPACK_CONTINUE);
    msgpack_unpacked_destroy(&res);
    msgpack_unpacker_destroy(&up);
}

static void msgpack_path_can_be_chosen(void **state)
{
    fixture *fx = *state;
    char csv[600], mp[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "a.csv"));
    snprintf(mp, sizeof(mp), "%s", in_dir(fx, "b.mp"));
    rollnet_export_desc d = five_columns(csv);
    d.msgpack_path = mp;
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    write_two_records(e);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    size_t len;
    free(read_whole(mp, &len));
    assert_true(len > 0);
    assert_int_equal(access(in_dir(fx, "a.csv.msgpack"), F_OK), -1);
}

/* Every way a record can fail to match five scalar columns. */
static void mismatching_record_is_rejected_and_writes_nothing(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "bad.csv"));
    rollnet_export_desc d = five_columns(csv);
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    uint8_t in[4] = {1, 2, 3, 4};

    for (int c = 0; c < 9; c++) {
        packed p;
        packed_init(&p);
        switch (c) {
        case 0: /* too few values */
            msgpack_pack_array(&p.pk, 4);
            for (int i = 0; i < 4; i++) {
                msgpack_pack_int(&p.pk, i);
            }
            break;
        case 1: /* a nested container */
            msgpack_pack_array(&p.pk, 5);
            for (int i = 0; i < 4; i++) {
                msgpack_pack_int(&p.pk, i);
            }
            msgpack_pack_array(&p.pk, 0);
            break;
        case 2: /* binary is not a CSV scalar */
            msgpack_pack_array(&p.pk, 5);
            for (int i = 0; i < 4; i++) {
                msgpack_pack_int(&p.pk, i);
            }
            msgpack_pack_bin_with_body(&p.pk, "xy", 2);
            break;
        case 3: /* a map, not an array */
            msgpack_pack_map(&p.pk, 0);
            break;
        case 4: /* a second value after the array */
            msgpack_pack_array(&p.pk, 5);
            for (int i = 0; i < 5; i++) {
                msgpack_pack_int(&p.pk, i);
            }
            msgpack_pack_int(&p.pk, 9);
            break;
        case 5: /* truncated */
            msgpack_pack_array(&p.pk, 5);
            msgpack_pack_int(&p.pk, 1);
            break;
        case 6: /* not msgpack at all (0xc1 is never used) */
            msgpack_sbuffer_write(&p.sb, "\xc1", 1);
            break;
        case 7: /* a lying header: 4 billion elements announced in 5 bytes. Decoded
                 * blindly, msgpack-c reserved gigabytes before failing. */
            msgpack_sbuffer_write(&p.sb, "\xdd\xff\xff\xff\xff", 5);
            break;
        default: /* empty record while columns are expected */
            break;
        }
        rollnet_record r = make_record(c, 0, c, in, &p);
        assert_int_equal(rollnet_exporter_write(e, &r), ROLLNET_ERR_SNAPSHOT_READ);
        msgpack_sbuffer_destroy(&p.sb);
    }
    assert_int_equal(rollnet_exporter_flush(e), ROLLNET_ERR_OK);
    assert_file_text(csv, "frame,episode,step,input0,input1,x,name,alive,speed,note\n");
    size_t len;
    free(read_whole(in_dir(fx, "bad.csv.msgpack"), &len));
    assert_int_equal(len, 0);

    /* The exporter is still usable after a rejection. */
    write_two_records(e);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    assert_file_text(csv, k_two_records_csv);
}

static void empty_record_needs_no_columns(void **state)
{
    fixture *fx = *state;
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "empty.csv"));
    rollnet_export_desc d;
    memset(&d, 0, sizeof(d)); /* defaults: two players, one byte each */
    d.csv_path = csv;
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_OK);
    uint8_t in[2] = {0xa0, 0x0b};
    rollnet_record r = make_record(5, 2, 1, in, NULL);
    assert_int_equal(rollnet_exporter_write(e, &r), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    assert_file_text(csv, "frame,episode,step,input0,input1\n5,2,1,a0,0b\n");

    size_t len;
    char *bytes = read_whole(in_dir(fx, "empty.csv.msgpack"), &len);
    msgpack_zone zone;
    assert_true(msgpack_zone_init(&zone, 1024));
    msgpack_object obj;
    size_t off = 0;
    assert_int_equal(msgpack_unpack(bytes, len, &off, &zone, &obj), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    assert_int_equal(map_get(&obj, "data")->type, MSGPACK_OBJECT_NIL);
    msgpack_zone_destroy(&zone);
    free(bytes);
}

static void two_exporters_fed_the_same_records_write_identical_files(void **state)
{
    fixture *fx = *state;
    char csv[2][600];
    snprintf(csv[0], sizeof(csv[0]), "%s", in_dir(fx, "peer0.csv"));
    snprintf(csv[1], sizeof(csv[1]), "%s", in_dir(fx, "peer1.csv"));
    rollnet_exporter *e[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        rollnet_export_desc d = five_columns(csv[i]);
        assert_int_equal(rollnet_exporter_open(&d, NULL, &e[i]), ROLLNET_ERR_OK);
    }
    for (int32_t f = 0; f < 200; f++) {
        packed p;
        packed_init(&p);
        msgpack_pack_array(&p.pk, 5);
        msgpack_pack_int64(&p.pk, (int64_t)f * -7919);
        pack_cstr(&p.pk, f % 3 ? "walk" : "jump, twice");
        (f % 2) ? msgpack_pack_true(&p.pk) : msgpack_pack_false(&p.pk);
        msgpack_pack_double(&p.pk, (double)f / 7.0);
        if (f % 5) {
            msgpack_pack_nil(&p.pk);
        } else {
            msgpack_pack_float(&p.pk, (float)f * 0.01f);
        }
        uint8_t in[4] = {(uint8_t)f, (uint8_t)(f >> 8), (uint8_t)(f * 3), 0};
        rollnet_record r = make_record(f, f / 50, f % 50, in, &p);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(rollnet_exporter_write(e[i], &r), ROLLNET_ERR_OK);
        }
        msgpack_sbuffer_destroy(&p.sb);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rollnet_exporter_close(e[i]), ROLLNET_ERR_OK);
    }
    static const char *const suffix[] = {"", ".msgpack"};
    for (int s = 0; s < 2; s++) {
        char p0[640], p1[640];
        snprintf(p0, sizeof(p0), "%s%s", csv[0], suffix[s]);
        snprintf(p1, sizeof(p1), "%s%s", csv[1], suffix[s]);
        size_t l0, l1;
        char *b0 = read_whole(p0, &l0);
        char *b1 = read_whole(p1, &l1);
        assert_true(l0 > 1000);
        assert_int_equal(l0, l1);
        assert_memory_equal(b0, b1, l0);
        free(b0);
        free(b1);
    }
}

static void open_rejects_bad_desc_and_unwritable_path(void **state)
{
    fixture *fx = *state;
    rollnet_exporter *e = (rollnet_exporter *)(uintptr_t)1;
    rollnet_export_desc d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_null(e);

    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "x.csv"));
    d.csv_path = csv;
    d.num_columns = 2; /* no names */
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_INVALID_ARGUMENT);
    d.num_columns = 0;
    d.num_players = ROLLNET_MAX_PLAYERS + 1;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_INVALID_ARGUMENT);
    d.num_players = 0;
    d.input_size = ROLLNET_MAX_INPUT_SIZE + 1;
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_INVALID_ARGUMENT);
    d.input_size = 0;

    d.csv_path = in_dir(fx, "no_such_dir/x.csv");
    assert_int_equal(rollnet_exporter_open(&d, NULL, &e), ROLLNET_ERR_IO);
    assert_null(e);

    rollnet_peerlog *log = (rollnet_peerlog *)(uintptr_t)1;
    assert_int_equal(rollnet_peerlog_open(in_dir(fx, "no_such_dir/p.csv"), NULL, &log),
                     ROLLNET_ERR_IO);
    assert_null(log);
    assert_int_equal(rollnet_exporter_close(NULL), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_close(NULL), ROLLNET_ERR_OK);
}


static void exporter_and_log_release_what_they_take(void **state)
{
    fixture *fx = *state;
    counting_alloc counts = {0};
    rollnet_allocator a = {count_alloc, count_free, &counts};
    char csv[600];
    snprintf(csv, sizeof(csv), "%s", in_dir(fx, "alloc.csv"));
    rollnet_export_desc d = five_columns(csv);
    rollnet_exporter *e = NULL;
    assert_int_equal(rollnet_exporter_open(&d, &a, &e), ROLLNET_ERR_OK);
    write_two_records(e);
    assert_int_equal(rollnet_exporter_close(e), ROLLNET_ERR_OK);
    rollnet_peerlog *log = NULL;
    assert_int_equal(rollnet_peerlog_open(in_dir(fx, "alloc.log"), &a, &log), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_close(log), ROLLNET_ERR_OK);
    assert_true(counts.allocs >= 2);
    assert_int_equal(counts.frees, counts.allocs);
}

static void peerlog_writes_time_event_value_lines(void **state)
{
    fixture *fx = *state;
    char path[600];
    snprintf(path, sizeof(path), "%s", in_dir(fx, "peer.log.csv"));
    rollnet_peerlog *log = NULL;
    assert_int_equal(rollnet_peerlog_open(path, NULL, &log), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_write(log, 0, "focus", 1), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_write(log, 1234567890123ull, "rollbacks", 42),
                     ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_write(log, 99, "note, with comma", -5), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_peerlog_write(log, 100, NULL, 0), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_peerlog_close(log), ROLLNET_ERR_OK);
    assert_file_text(path, "time_ms,event,value\n"
                           "0,focus,1\n"
                           "1234567890123,rollbacks,42\n"
                           "99,\"note, with comma\",-5\n");
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(csv_holds_header_and_exact_rows),
        FX_TEST(column_names_are_quoted_when_needed),
        FX_TEST(floats_use_fewest_digits_that_read_back),
        FX_TEST(floats_ignore_a_comma_decimal_locale),
        FX_TEST(msgpack_stream_holds_one_map_per_record),
        FX_TEST(msgpack_path_can_be_chosen),
        FX_TEST(mismatching_record_is_rejected_and_writes_nothing),
        FX_TEST(empty_record_needs_no_columns),
        FX_TEST(two_exporters_fed_the_same_records_write_identical_files),
        FX_TEST(open_rejects_bad_desc_and_unwritable_path),
        FX_TEST(exporter_and_log_release_what_they_take),
        FX_TEST(peerlog_writes_time_event_value_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
