/* libFuzzer target: the exporter's record decoder (rollnet_exporter_write),
 * which reads the record bytes a game wrote, or any rollnet_record a caller
 * hands it.
 *
 * Input: [columns][record bytes...]; columns 0..16 selects one of 17
 * exporters opened at start, each writing its CSV and msgpack to /dev/null.
 *
 * Invariants: the result is OK or SNAPSHOT_READ; it is OK exactly when the
 * record is empty and there are no columns, or is one whole msgpack value
 * (checked here with the bounds walk, rn_msgpack_measure) that is an array
 * of `columns` scalars; and (with FUZZ_MALLOC_HOOKS) no single allocation
 * while writing exceeds 4 KiB plus 64 bytes per record byte: a record's
 * headers must not be able to ask for memory its bytes cannot back
 * (regressions/export/: before the exporter walked a record's bounds, five
 * bytes made it allocate 32 MiB at once, and more up to ~100 GB). */
#include <msgpack.h>
#include <string.h>

#include "fuzz_common.h"
#include "rollnet/rollnet_export.h"
#include "snapshot.h"

#define MAX_COLUMNS 16
#define MAX_RECORD 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static rollnet_exporter *g_exporters[MAX_COLUMNS + 1];
static msgpack_zone g_zone; /* the oracle's, sized for MAX_RECORD */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_export";
    fuzz_watch_install();
    static const char *const names[MAX_COLUMNS] = { "c0", "c1", "c2",  "c3",  "c4",  "c5",
                                                    "c6", "c7", "c8",  "c9",  "c10", "c11",
                                                    "c12", "c13", "c14", "c15" };
    for (int c = 0; c <= MAX_COLUMNS; c++) {
        rollnet_export_desc d;
        memset(&d, 0, sizeof d);
        d.csv_path = "/dev/null";
        d.msgpack_path = "/dev/null";
        d.columns = names;
        d.num_columns = c;
        d.num_players = 2;
        d.input_size = 1;
        if (rollnet_exporter_open(&d, NULL, &g_exporters[c]) != ROLLNET_ERR_OK) {
            fprintf(stderr, "fuzz_export: cannot open an exporter on /dev/null\n");
            abort();
        }
    }
    if (!msgpack_zone_init(&g_zone, rn_reader_zone_size(MAX_RECORD))) {
        abort();
    }
    return 0;
}

static bool is_scalar(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
    case MSGPACK_OBJECT_STR:
        return true;
    default:
        return false;
    }
}

/* What the exporter should say, decided with the bounds walk first. */
static bool acceptable(const uint8_t *rec, size_t len, int columns)
{
    if (len == 0) {
        return columns == 0;
    }
    size_t end = 0;
    if (!rn_msgpack_measure(rec, len, 0, &end) || end != len) {
        return false;
    }
    msgpack_zone_clear(&g_zone);
    msgpack_object o;
    size_t off = 0;
    if (msgpack_unpack((const char *)rec, len, &off, &g_zone, &o) != MSGPACK_UNPACK_SUCCESS ||
        off != len || o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != (uint32_t)columns) {
        return false;
    }
    for (uint32_t i = 0; i < o.via.array.size; i++) {
        if (!is_scalar(&o.via.array.ptr[i])) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > MAX_RECORD) {
        return 0;
    }
    if (!g_exporters[0]) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    int columns = data[0] % (MAX_COLUMNS + 1);
    size_t len = size - 1;
    uint8_t *rec = malloc(len ? len : 1); /* exactly the record: ASan sees reads past it */
    if (!rec) {
        abort();
    }
    memcpy(rec, data + 1, len);
    static const uint8_t inputs[2] = { 0x12, 0x34 };
    rollnet_record r;
    memset(&r, 0, sizeof r);
    r.frame = 7;
    r.episode = 1;
    r.step = 2;
    r.inputs = inputs;
    r.data = len ? rec : NULL;
    r.size = len;

    fuzz_watch_arm(false);
    rollnet_error err = rollnet_exporter_write(g_exporters[columns], &r);
    fuzz_watch_disarm();
    size_t bound = 4096 + 64 * len;
    FUZZ_CHECK(!FUZZ_WATCHING || fuzz_watch.largest <= bound,
               "writing a %zu-byte record allocated %zu bytes at once (bound %zu)", len,
               (size_t)fuzz_watch.largest, bound);
    FUZZ_CHECK(err == ROLLNET_ERR_OK || err == ROLLNET_ERR_SNAPSHOT_READ,
               "exporter_write returned %d (%s)", (int)err, rollnet_error_string(err));
    bool ok = acceptable(rec, len, columns);
    FUZZ_CHECK((err == ROLLNET_ERR_OK) == ok, "exporter_write says %s for a record that %s",
               rollnet_error_string(err), ok ? "is valid" : "is not an array of scalars");
    free(rec);
    return 0;
}
