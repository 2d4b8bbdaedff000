/* --check-export: re-simulate an exported ledger and check every record. */
#ifndef GRIDWORLD_CHECK_EXPORT_H
#define GRIDWORLD_CHECK_EXPORT_H

#include <stdint.h>

/* Read the msgpack stream at `path` (what --export writes beside the CSV),
 * run the game from the start of episode 0 with each row's inputs, and
 * compare each frame's record, episode and step with the row. Returns 0 when
 * every row matches (*frames = rows checked), 1 with a message on stderr. */
int gw_check_export(const char *path, uint64_t seed, int32_t max_steps, uint64_t *frames);

#endif
