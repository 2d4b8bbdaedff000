/* The field readers rn_decode uses, shared by the files that parse message
 * types (protocol.c, protocol_spectate.c). Internal. Each is false when the
 * object has another type or is out of [min, max]. */
#ifndef RN_PROTOCOL_FIELDS_H
#define RN_PROTOCOL_FIELDS_H

#include "protocol.h"

bool rn_frame_ok(int64_t f);
bool rn_get_uint(const msgpack_object *o, uint64_t max, uint64_t *out);
bool rn_get_int(const msgpack_object *o, int64_t min, int64_t max, int64_t *out);
bool rn_get_i32(const msgpack_object *o, int32_t *out);
bool rn_get_u32(const msgpack_object *o, uint32_t *out);
bool rn_get_u16(const msgpack_object *o, uint16_t *out);
bool rn_get_bool(const msgpack_object *o, bool *out);
bool rn_get_bin(const msgpack_object *o, size_t max, const uint8_t **data, size_t *size);

/* protocol_spectate.c: the spectator's and the state transfer's messages.
 * The ranges they must respect; pack one (0 on success); parse one of those
 * types (false: not one of them; else *ok says whether it parsed). */
bool rn_spectate_msg_valid(const rn_msg *m);
int rn_spectate_pack(msgpack_packer *pk, const rn_msg *m, int block_size);
bool rn_spectate_parse(rn_decoder *d, const msgpack_object *e, uint32_t n, int block_size,
                       rn_msg *out, bool *ok);

#endif
