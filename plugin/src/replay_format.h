/* The names of the replay file's fields (the layout is in rollnet_replay.h),
 * shared by its writer and reader. Internal to the plugin. */
#ifndef RN_REPLAY_FORMAT_H
#define RN_REPLAY_FORMAT_H

#define RN_REPLAY_FORMAT "rollnet replay"
#define RN_REPLAY_KIND_P2P "p2p"
#define RN_REPLAY_KIND_SYNCTEST "synctest"

#define RN_REPLAY_KEY_FORMAT "format"
#define RN_REPLAY_KEY_VERSION "version"
#define RN_REPLAY_KEY_KIND "kind"
#define RN_REPLAY_KEY_NUM_PLAYERS "num_players"
#define RN_REPLAY_KEY_INPUT_SIZE "input_size"
#define RN_REPLAY_KEY_FPS "fps"
#define RN_REPLAY_KEY_GAME_ID "game_id"
#define RN_REPLAY_KEY_SEED "seed"
#define RN_REPLAY_KEY_GAME_PARAMS "game_params"
#define RN_REPLAY_KEY_SNAPSHOT_CAPACITY "snapshot_capacity"
#define RN_REPLAY_KEY_RECORD_CAPACITY "record_capacity"
#define RN_REPLAY_KEY_FRAMES "frames"

#define RN_REPLAY_HEADER_MAX 4096 /* the header map: ~200 bytes + game_params */
#define RN_REPLAY_MAX_RECORD (1u << 20) /* largest record_capacity read: 1 MiB */

#endif
