/** @file
 * rollnet export: writes confirmed records (rollnet_session_next_record) to a
 * CSV file and a msgpack stream, and a per-peer event log.
 *
 * The CSV and msgpack files hold only what both peers agree on (frame, episode,
 * step, confirmed inputs, the game's record), so the files of two peers of one
 * session are byte-identical and can be compared with cmp. Anything that
 * differs between peers (wall-clock time, rollback counts, focus changes)
 * belongs in the peer log.
 *
 * IMPORTANT: an exporter or peer log is not thread-safe; use each one from one
 * thread at a time. Distinct ones share nothing.
 */
#ifndef ROLLNET_EXPORT_H
#define ROLLNET_EXPORT_H

#include "rollnet/rollnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What rollnet_exporter_open writes, and how records are laid out. Valid
 * when zero-initialised, but for csv_path. num_players and input_size must be
 * the session's. */
typedef struct rollnet_export_desc {
    /** Required. Created or truncated at open. */
    const char *csv_path;
    /** Default: csv_path followed by ".msgpack". */
    const char *msgpack_path;
    /** num_columns names, one per value of a record. Used only inside open.
     * Default: none (records must then be empty or an empty array). */
    const char *const *columns;
    int num_columns; /**< names in columns. Default 0. */
    /** 1..ROLLNET_MAX_PLAYERS. Default 2. */
    int num_players;
    /** Bytes per player per frame, 1..ROLLNET_MAX_INPUT_SIZE. Default 1. */
    int input_size;
} rollnet_export_desc;

/**
 * CSV: a header line "frame,episode,step,input0,...,inputN-1,<columns>", then
 * one line per record. Inputs are the lowercase hex of each player's input
 * bytes. Record values: integers in decimal, booleans "true"/"false", floats
 * with the fewest digits that read back to the same value, "." as decimal
 * point in every locale, fixed notation for decimal exponents -4..15 and
 * "1e+16" form otherwise ("nan", "inf", "-inf"), strings as-is (quoted as
 * RFC 4180 when they hold a comma, quote or line break), nil as an empty field.
 *
 * msgpack: one map per record, appended:
 *   {"frame": int, "episode": int, "step": int, "inputs": [bin per player],
 *    "data": the record's msgpack value unchanged (nil for an empty record),
 *    "disconnected": uint, bit i for player i (rollnet_record::disconnected;
 *    the key is there only when a bit is set, so a session where every
 *    player is always there writes the bytes it always did)}
 * The CSV has no such column: its header is the game's.
 */
typedef struct rollnet_exporter rollnet_exporter;

/** Open (create or truncate) both files and write the CSV header. On success
 * *out owns the files until rollnet_exporter_close; on failure *out is NULL.
 * INVALID_ARGUMENT for a bad desc, IO for a file that cannot be opened. */
rollnet_error rollnet_exporter_open(const rollnet_export_desc *desc,
                                    const rollnet_allocator *allocator, rollnet_exporter **out);
/** Append one record; the record is only read during the call. A record whose
 * data is not one msgpack array of num_columns scalars (int, uint, bool,
 * float, str, nil) gives SNAPSHOT_READ and nothing is written. IO when
 * a file could not be written (sticky). */
rollnet_error rollnet_exporter_write(rollnet_exporter *e, const rollnet_record *r);
/** Push buffered lines to the files. IO when a file could not be written. */
rollnet_error rollnet_exporter_flush(rollnet_exporter *e);
/** Flush, close both files and free the exporter (always, even on error). NULL is fine. */
rollnet_error rollnet_exporter_close(rollnet_exporter *e);

/** A per-peer CSV log: a header line "time_ms,event,value", then one line per
 * event. Its content differs between peers by design. */
typedef struct rollnet_peerlog rollnet_peerlog;

/** Open (create or truncate) the log. On success *out owns the file until
 * rollnet_peerlog_close; on failure *out is NULL. */
rollnet_error rollnet_peerlog_open(const char *path, const rollnet_allocator *allocator,
                                   rollnet_peerlog **out);
/** Append "local_time_ms,event,value". `event` is copied into the line (quoted
 * when needed). IO when the file could not be written (sticky). */
rollnet_error rollnet_peerlog_write(rollnet_peerlog *log, uint64_t local_time_ms,
                                    const char *event, int64_t value);
/** Flush, close the file and free the log (always, even on error). NULL is fine. */
rollnet_error rollnet_peerlog_close(rollnet_peerlog *log);

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_EXPORT_H */
