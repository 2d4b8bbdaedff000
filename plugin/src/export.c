/* Exporter of confirmed records (CSV + msgpack stream) and the per-peer log.
 * Lives in plugin/ because it does file I/O; the records it writes come from
 * the ledger, which is pure. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <msgpack/fbuffer.h>

#include "rn_alloc.h"
#include "snapshot.h"
#include "rollnet/rollnet_export.h"

#define EXPORT_DEFAULT_PLAYERS 2
#define EXPORT_DEFAULT_INPUT_SIZE 1
#define EXPORT_ZONE_CHUNK 4096
#define EXPORT_MSGPACK_SUFFIX ".msgpack"

struct rollnet_exporter {
    rollnet_allocator alloc;
    FILE *csv;
    FILE *mp;
    msgpack_packer pk;  /* writes straight into `mp` */
    msgpack_zone zone;  /* decoded record values; cleared after every record */
    int num_columns;
    int num_players;
    int input_size;
    bool io_error;
};

struct rollnet_peerlog {
    rollnet_allocator alloc;
    FILE *f;
    bool io_error;
};

/* ---- CSV text ---------------------------------------------------------- */

static void csv_field(FILE *f, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        if (len > 0) {
            fwrite(s, 1, len, f);
        }
        return;
    }
    fputc('"', f);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            fwrite(s + start, 1, i + 1 - start, f); /* up to and including the quote */
            fputc('"', f);
            start = i + 1;
        }
    }
    if (len > start) {
        fwrite(s + start, 1, len - start, f);
    }
    fputc('"', f);
}

/* printf and strtod use the locale's decimal point; the files must not depend
 * on it, or two peers (or two runs) would write different bytes. The number is
 * formatted and read back in the current locale, and only then is the
 * locale's radix (whatever its length) replaced by '.'. The fewest significant
 * digits that read back to the same value are used, in fixed notation for
 * decimal exponents -4..15 and in exponent notation otherwise (the rule of
 * Python's repr), so 0.1 stays "0.1" and 100 stays "100". */
static void format_float(char *out, size_t cap, double v, bool single)
{
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, "%s", v < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[400];
    int max_digits = single ? 9 : 17;
    int digits = 1;
    for (; digits <= max_digits; digits++) {
        snprintf(tmp, sizeof(tmp), "%.*e", digits - 1, v);
        double back = strtod(tmp, NULL);
        if (single ? (float)back == (float)v : back == v) {
            break;
        }
    }
    if (digits > max_digits) {
        digits = max_digits;
    }
    const char *e = strchr(tmp, 'e');
    long exp10 = e ? strtol(e + 1, NULL, 10) : 0;
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = digits - 1 - (int)exp10;
        snprintf(tmp, sizeof(tmp), "%.*f", decimals > 0 ? decimals : 0, v);
    }
    size_t o = 0;
    bool in_radix = false;
    for (size_t i = 0; tmp[i] != '\0' && o + 1 < cap; i++) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e') {
            out[o++] = c;
            in_radix = false;
        } else if (!in_radix) {
            out[o++] = '.';
            in_radix = true;
        }
    }
    out[o] = '\0';
}

static void csv_value(FILE *f, const msgpack_object *v)
{
    char num[64];
    switch (v->type) {
    case MSGPACK_OBJECT_NIL:
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        fputs(v->via.boolean ? "true" : "false", f);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(f, "%" PRIu64, v->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(f, "%" PRId64, v->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        format_float(num, sizeof(num), v->via.f64, v->type == MSGPACK_OBJECT_FLOAT32);
        fputs(num, f);
        break;
    case MSGPACK_OBJECT_STR:
        csv_field(f, v->via.str.ptr, v->via.str.size);
        break;
    default:
        break; /* rejected before anything is written */
    }
}

static bool is_scalar(const msgpack_object *v)
{
    switch (v->type) {
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

/* ---- Exporter ---------------------------------------------------------- */

static rollnet_error exporter_destroy(rollnet_exporter *e)
{
    bool failed = e->io_error;
    if (e->csv && (fflush(e->csv) != 0 || ferror(e->csv))) {
        failed = true;
    }
    if (e->mp && (fflush(e->mp) != 0 || ferror(e->mp))) {
        failed = true;
    }
    if (e->csv && fclose(e->csv) != 0) {
        failed = true;
    }
    if (e->mp && fclose(e->mp) != 0) {
        failed = true;
    }
    msgpack_zone_destroy(&e->zone);
    rollnet_allocator alloc = e->alloc;
    rn_free(&alloc, e);
    return failed ? ROLLNET_ERR_IO : ROLLNET_ERR_OK;
}

rollnet_error rollnet_exporter_open(const rollnet_export_desc *desc,
                                    const rollnet_allocator *allocator, rollnet_exporter **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!desc || !desc->csv_path || desc->csv_path[0] == '\0' || desc->num_columns < 0 ||
        (desc->num_columns > 0 && !desc->columns)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    int num_players = desc->num_players ? desc->num_players : EXPORT_DEFAULT_PLAYERS;
    int input_size = desc->input_size ? desc->input_size : EXPORT_DEFAULT_INPUT_SIZE;
    if (num_players < 1 || num_players > ROLLNET_MAX_PLAYERS || input_size < 1 ||
        input_size > ROLLNET_MAX_INPUT_SIZE) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    for (int i = 0; i < desc->num_columns; i++) {
        if (!desc->columns[i]) {
            return ROLLNET_ERR_INVALID_ARGUMENT;
        }
    }

    rollnet_allocator alloc;
    rn_allocator_resolve(allocator, &alloc);
    rollnet_exporter *e = rn_calloc(&alloc, 1, sizeof(*e));
    if (!e) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    e->alloc = alloc;
    e->num_columns = desc->num_columns;
    e->num_players = num_players;
    e->input_size = input_size;
    if (!msgpack_zone_init(&e->zone, EXPORT_ZONE_CHUNK)) {
        rn_free(&alloc, e);
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }

    char *mp_path = NULL;
    const char *mp_name = desc->msgpack_path;
    if (!mp_name) {
        size_t n = strlen(desc->csv_path);
        mp_path = rn_calloc(&alloc, 1, n + sizeof(EXPORT_MSGPACK_SUFFIX));
        if (!mp_path) {
            exporter_destroy(e);
            return ROLLNET_ERR_OUT_OF_MEMORY;
        }
        memcpy(mp_path, desc->csv_path, n);
        memcpy(mp_path + n, EXPORT_MSGPACK_SUFFIX, sizeof(EXPORT_MSGPACK_SUFFIX));
        mp_name = mp_path;
    }
    /* Binary mode: no newline translation, so the bytes are the same everywhere. */
    e->csv = fopen(desc->csv_path, "wb");
    e->mp = fopen(mp_name, "wb");
    rn_free(&alloc, mp_path);
    if (!e->csv || !e->mp) {
        exporter_destroy(e);
        return ROLLNET_ERR_IO;
    }
    msgpack_packer_init(&e->pk, e->mp, msgpack_fbuffer_write);

    fputs("frame,episode,step", e->csv);
    for (int p = 0; p < num_players; p++) {
        fprintf(e->csv, ",input%d", p);
    }
    for (int i = 0; i < desc->num_columns; i++) {
        fputc(',', e->csv);
        csv_field(e->csv, desc->columns[i], strlen(desc->columns[i]));
    }
    fputc('\n', e->csv);
    if (ferror(e->csv)) {
        exporter_destroy(e);
        return ROLLNET_ERR_IO;
    }
    *out = e;
    return ROLLNET_ERR_OK;
}

static void pack_key(msgpack_packer *pk, const char *key)
{
    size_t n = strlen(key);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, key, n);
}

rollnet_error rollnet_exporter_write(rollnet_exporter *e, const rollnet_record *r)
{
    if (!e || !r || !r->inputs || (r->size > 0 && !r->data)) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (e->io_error) {
        return ROLLNET_ERR_IO;
    }

    /* Decode and check everything first: a record is written whole or not at all. */
    msgpack_object values;
    memset(&values, 0, sizeof(values));
    bool empty = r->size == 0;
    if (empty) {
        if (e->num_columns != 0) {
            return ROLLNET_ERR_SNAPSHOT_READ;
        }
    } else {
        size_t off = 0, end = 0;
        msgpack_zone_clear(&e->zone);
        /* A record's container headers are the game's: a lying one would make
         * msgpack-c reserve gigabytes. Walk the bounds first. */
        if (!rn_msgpack_measure(r->data, r->size, 0, &end) || end != r->size) {
            return ROLLNET_ERR_SNAPSHOT_READ;
        }
        msgpack_unpack_return ret =
            msgpack_unpack((const char *)r->data, r->size, &off, &e->zone, &values);
        bool ok = ret == MSGPACK_UNPACK_SUCCESS && off == r->size &&
                  values.type == MSGPACK_OBJECT_ARRAY &&
                  values.via.array.size == (uint32_t)e->num_columns;
        for (uint32_t i = 0; ok && i < values.via.array.size; i++) {
            ok = is_scalar(&values.via.array.ptr[i]);
        }
        if (!ok) {
            msgpack_zone_clear(&e->zone);
            return ROLLNET_ERR_SNAPSHOT_READ;
        }
    }

    FILE *f = e->csv;
    fprintf(f, "%" PRId32 ",%" PRId32 ",%" PRId32, r->frame, r->episode, r->step);
    for (int p = 0; p < e->num_players; p++) {
        fputc(',', f);
        const uint8_t *in = r->inputs + (size_t)p * (size_t)e->input_size;
        for (int b = 0; b < e->input_size; b++) {
            fprintf(f, "%02x", in[b]);
        }
    }
    if (!empty) {
        for (uint32_t i = 0; i < values.via.array.size; i++) {
            fputc(',', f);
            csv_value(f, &values.via.array.ptr[i]);
        }
    }
    fputc('\n', f);

    msgpack_packer *pk = &e->pk;
    /* "disconnected" only when a player was not there, so that a session
     * where nobody ever is writes the same bytes as before it existed. */
    msgpack_pack_map(pk, r->disconnected ? 6 : 5);
    pack_key(pk, "frame");
    msgpack_pack_int32(pk, r->frame);
    pack_key(pk, "episode");
    msgpack_pack_int32(pk, r->episode);
    pack_key(pk, "step");
    msgpack_pack_int32(pk, r->step);
    pack_key(pk, "inputs");
    msgpack_pack_array(pk, (size_t)e->num_players);
    for (int p = 0; p < e->num_players; p++) {
        msgpack_pack_bin(pk, (size_t)e->input_size);
        msgpack_pack_bin_body(pk, r->inputs + (size_t)p * (size_t)e->input_size,
                              (size_t)e->input_size);
    }
    pack_key(pk, "data");
    if (empty) {
        msgpack_pack_nil(pk);
    } else {
        /* The record was checked above to be exactly one msgpack value, so
         * its bytes are the map's value as they are. */
        fwrite(r->data, 1, r->size, e->mp);
    }
    if (r->disconnected) {
        pack_key(pk, "disconnected");
        msgpack_pack_uint32(pk, r->disconnected);
    }
    msgpack_zone_clear(&e->zone);

    if (ferror(e->csv) || ferror(e->mp)) {
        e->io_error = true;
        return ROLLNET_ERR_IO;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_exporter_flush(rollnet_exporter *e)
{
    if (!e) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (fflush(e->csv) != 0 || fflush(e->mp) != 0 || ferror(e->csv) || ferror(e->mp)) {
        e->io_error = true;
    }
    return e->io_error ? ROLLNET_ERR_IO : ROLLNET_ERR_OK;
}

rollnet_error rollnet_exporter_close(rollnet_exporter *e)
{
    if (!e) {
        return ROLLNET_ERR_OK;
    }
    return exporter_destroy(e);
}

/* ---- Peer log ---------------------------------------------------------- */

rollnet_error rollnet_peerlog_open(const char *path, const rollnet_allocator *allocator,
                                   rollnet_peerlog **out)
{
    if (!out) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!path || path[0] == '\0') {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    rollnet_allocator alloc;
    rn_allocator_resolve(allocator, &alloc);
    rollnet_peerlog *log = rn_calloc(&alloc, 1, sizeof(*log));
    if (!log) {
        return ROLLNET_ERR_OUT_OF_MEMORY;
    }
    log->alloc = alloc;
    log->f = fopen(path, "wb");
    if (!log->f) {
        rn_free(&alloc, log);
        return ROLLNET_ERR_IO;
    }
    fputs("time_ms,event,value\n", log->f);
    if (ferror(log->f)) {
        rollnet_peerlog_close(log);
        return ROLLNET_ERR_IO;
    }
    *out = log;
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_peerlog_write(rollnet_peerlog *log, uint64_t local_time_ms,
                                    const char *event, int64_t value)
{
    if (!log || !event) {
        return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (log->io_error) {
        return ROLLNET_ERR_IO;
    }
    fprintf(log->f, "%" PRIu64 ",", local_time_ms);
    csv_field(log->f, event, strlen(event));
    fprintf(log->f, ",%" PRId64 "\n", value);
    if (ferror(log->f)) {
        log->io_error = true;
        return ROLLNET_ERR_IO;
    }
    return ROLLNET_ERR_OK;
}

rollnet_error rollnet_peerlog_close(rollnet_peerlog *log)
{
    if (!log) {
        return ROLLNET_ERR_OK;
    }
    bool failed = log->io_error || fflush(log->f) != 0 || ferror(log->f);
    if (fclose(log->f) != 0) {
        failed = true;
    }
    rollnet_allocator alloc = log->alloc;
    rn_free(&alloc, log);
    return failed ? ROLLNET_ERR_IO : ROLLNET_ERR_OK;
}
