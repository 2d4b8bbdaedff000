/* The field readers rn_decode uses, shared by the files that parse message
 * types (protocol.c, protocol_spectate.c): inline, as decoding INPUT every
 * frame calls them. Internal. Each is false when the object has another
 * type or is out of [min, max]. */
#ifndef RN_PROTOCOL_FIELDS_H
#define RN_PROTOCOL_FIELDS_H

#include <limits.h>

#include "protocol.h"

static inline bool rn_frame_ok(int64_t f)
{
    return f >= -1 && f <= RN_MAX_FRAME;
}

static inline bool rn_get_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max) {
        return false;
    }
    *out = o->via.u64;
    return true;
}

static inline bool rn_get_int(const msgpack_object *o, int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            return false;
        }
        v = (int64_t)o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = o->via.i64;
    } else {
        return false;
    }
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static inline bool rn_get_i32(const msgpack_object *o, int32_t *out)
{
    int64_t v;
    if (!rn_get_int(o, INT32_MIN, INT32_MAX, &v)) {
        return false;
    }
    *out = (int32_t)v;
    return true;
}

static inline bool rn_get_u32(const msgpack_object *o, uint32_t *out)
{
    uint64_t v;
    if (!rn_get_uint(o, UINT32_MAX, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static inline bool rn_get_u16(const msgpack_object *o, uint16_t *out)
{
    uint64_t v;
    if (!rn_get_uint(o, UINT16_MAX, &v)) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

static inline bool rn_get_bool(const msgpack_object *o, bool *out)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
        return false;
    }
    *out = o->via.boolean;
    return true;
}

static inline bool rn_get_bin(const msgpack_object *o, size_t max, const uint8_t **data, size_t *size)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > max) {
        return false;
    }
    *data = (const uint8_t *)o->via.bin.ptr;
    *size = o->via.bin.size;
    return true;
}

/* protocol_spectate.c: the spectator's and the state transfer's messages.
 * The ranges they must respect; pack one (0 on success); parse one of those
 * types (false: not one of them; else *ok says whether it parsed). */
bool rn_spectate_msg_valid(const rn_msg *m);
int rn_spectate_pack(msgpack_packer *pk, const rn_msg *m, int block_size);
bool rn_spectate_parse(rn_decoder *d, const msgpack_object *e, uint32_t n, int block_size,
                       rn_msg *out, bool *ok);

#endif
