#include "game.h"

#include <string.h>

static const char *const action_names[GW_MAX_PLAYERS] = {"p0_action", "p1_action", "p2_action",
                                                         "p3_action"};
static const char *const xy_names[GW_MAX_PLAYERS][2] = {
    {"p0_x", "p0_y"}, {"p1_x", "p1_y"}, {"p2_x", "p2_y"}, {"p3_x", "p3_y"}};
static const char *const reward_names[GW_MAX_PLAYERS] = {"p0_reward", "p1_reward", "p2_reward",
                                                         "p3_reward"};
static const char *const score_names[GW_MAX_PLAYERS] = {"p0_score", "p1_score", "p2_score",
                                                        "p3_score"};

/* Where each player starts: the middle of the left and right edges (the
 * two-player game), then of the top and bottom ones. */
static const int32_t spawn[GW_MAX_PLAYERS][2] = {
    {1, GW_HEIGHT / 2}, {GW_WIDTH - 2, GW_HEIGHT / 2}, {GW_WIDTH / 2, 1}, {GW_WIDTH / 2, GW_HEIGHT - 2}};

static int players_of(int32_t n)
{
    return n < 2 ? 2 : n > GW_MAX_PLAYERS ? GW_MAX_PLAYERS : (int)n;
}

int gw_columns(int num_players, const char **out)
{
    int n = players_of(num_players), k = 0;
    for (int p = 0; p < n; p++)
        out[k++] = action_names[p];
    for (int p = 0; p < n; p++) {
        out[k++] = xy_names[p][0];
        out[k++] = xy_names[p][1];
    }
    for (int p = 0; p < n; p++)
        out[k++] = reward_names[p];
    for (int p = 0; p < n; p++)
        out[k++] = score_names[p];
    return k;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth caring about for n <= 108. */
static int32_t rng_below(uint64_t *state, int32_t n)
{
    return (int32_t)((splitmix64(state) >> 33) % (uint64_t)n);
}

static bool cell_taken(const gw_state *s, int32_t x, int32_t y, int skip_item)
{
    for (int p = 0; p < s->num_players; p++) {
        if (s->players[p].x == x && s->players[p].y == y)
            return true;
    }
    for (int i = 0; i < GW_ITEMS; i++) {
        if (i != skip_item && s->item_x[i] == x && s->item_y[i] == y)
            return true;
    }
    return false;
}

/* Draw a free cell for item i. A bounded number of draws, then a scan from
 * the last draw, so the RNG use per respawn stays bounded. */
static void respawn_item(gw_state *s, int i)
{
    int32_t x = 0, y = 0;
    for (int tries = 0; tries < 16; tries++) {
        x = rng_below(&s->rng, GW_WIDTH);
        y = rng_below(&s->rng, GW_HEIGHT);
        if (!cell_taken(s, x, y, i))
            break;
    }
    for (int n = 0; n < GW_WIDTH * GW_HEIGHT && cell_taken(s, x, y, i); n++) {
        int32_t c = (y * GW_WIDTH + x + 1) % (GW_WIDTH * GW_HEIGHT);
        x = c % GW_WIDTH;
        y = c / GW_WIDTH;
    }
    s->item_x[i] = x;
    s->item_y[i] = y;
}

void gw_reset(gw_state *s, const gw_config *cfg, int32_t episode)
{
    memset(s, 0, sizeof *s);
    s->num_players = players_of(cfg->num_players);
    s->episode = episode;
    s->step = 0;
    /* Each episode's items depend only on the base seed and the episode. */
    uint64_t mix = cfg->seed ^ ((uint64_t)(uint32_t)episode * 0xD1B54A32D192ED03ull);
    s->rng = splitmix64(&mix);
    for (int p = 0; p < s->num_players; p++) {
        s->players[p].x = spawn[p][0];
        s->players[p].y = spawn[p][1];
    }
    for (int i = 0; i < GW_ITEMS; i++) {
        s->item_x[i] = -1;
        s->item_y[i] = -1;
    }
    for (int i = 0; i < GW_ITEMS; i++)
        respawn_item(s, i);
}

gw_action gw_action_from_input(uint8_t input)
{
    if (input & GW_IN_UP)
        return GW_MOVE_UP;
    if (input & GW_IN_DOWN)
        return GW_MOVE_DOWN;
    if (input & GW_IN_LEFT)
        return GW_MOVE_LEFT;
    if (input & GW_IN_RIGHT)
        return GW_MOVE_RIGHT;
    return GW_STAY;
}

bool gw_episode_over(const gw_state *s, const gw_config *cfg)
{
    return s->step >= cfg->max_steps;
}

bool gw_step(gw_state *s, const gw_config *cfg, const uint8_t *inputs)
{
    /* The next episode starts inside the step, so a rollback across the
     * boundary replays the reset like any other frame. */
    if (gw_episode_over(s, cfg))
        gw_reset(s, cfg, s->episode + 1);

    /* Players move in handle order, then collect in handle order: the same
     * order on every peer. */
    for (int p = 0; p < s->num_players; p++) {
        gw_player *pl = &s->players[p];
        pl->reward = 0;
        pl->action = gw_action_from_input(inputs[p]);
        if (pl->cooldown > 0) {
            pl->cooldown--;
            continue;
        }
        int32_t dx = 0, dy = 0;
        switch ((gw_action)pl->action) {
        case GW_MOVE_UP: dy = -1; break;
        case GW_MOVE_DOWN: dy = 1; break;
        case GW_MOVE_LEFT: dx = -1; break;
        case GW_MOVE_RIGHT: dx = 1; break;
        case GW_STAY: break;
        }
        if (dx == 0 && dy == 0)
            continue;
        int32_t nx = pl->x + dx, ny = pl->y + dy;
        if (nx < 0 || nx >= GW_WIDTH || ny < 0 || ny >= GW_HEIGHT)
            continue;
        pl->x = nx;
        pl->y = ny;
        pl->cooldown = GW_MOVE_COOLDOWN - 1;
    }
    for (int p = 0; p < s->num_players; p++) {
        gw_player *pl = &s->players[p];
        for (int i = 0; i < GW_ITEMS; i++) {
            if (s->item_x[i] == pl->x && s->item_y[i] == pl->y) {
                pl->reward += 1;
                pl->score += 1;
                respawn_item(s, i);
            }
        }
    }
    s->step++;
    return gw_episode_over(s, cfg);
}

/* Snapshot layout: [episode, step, rng, [x, y, score, reward, cooldown,
 * action] per player, [x, y] per item], all flat in one array. */
#define GW_PLAYER_FIELDS 6
#define GW_SNAPSHOT_VALUES(n) (3 + (n) * GW_PLAYER_FIELDS + GW_ITEMS * 2)

void gw_save(const gw_state *s, rollnet_writer *w)
{
    rollnet_write_array(w, (uint32_t)GW_SNAPSHOT_VALUES(s->num_players));
    rollnet_write_int(w, s->episode);
    rollnet_write_int(w, s->step);
    rollnet_write_uint(w, s->rng);
    for (int p = 0; p < s->num_players; p++) {
        const gw_player *pl = &s->players[p];
        rollnet_write_int(w, pl->x);
        rollnet_write_int(w, pl->y);
        rollnet_write_int(w, pl->score);
        rollnet_write_int(w, pl->reward);
        rollnet_write_int(w, pl->cooldown);
        rollnet_write_int(w, pl->action);
    }
    for (int i = 0; i < GW_ITEMS; i++) {
        rollnet_write_int(w, s->item_x[i]);
        rollnet_write_int(w, s->item_y[i]);
    }
}

static bool read_i32(rollnet_reader *r, int32_t *out, int64_t lo, int64_t hi)
{
    int64_t v;
    if (!rollnet_read_int(r, &v) || v < lo || v > hi)
        return false;
    *out = (int32_t)v;
    return true;
}

bool gw_load(gw_state *s, rollnet_reader *r)
{
    gw_state t;
    memset(&t, 0, sizeof t);
    t.num_players = players_of(s->num_players);
    uint32_t n;
    if (!rollnet_read_array(r, &n) || n != (uint32_t)GW_SNAPSHOT_VALUES(t.num_players))
        return false;
    bool ok = read_i32(r, &t.episode, 0, INT32_MAX) && read_i32(r, &t.step, 0, INT32_MAX) &&
              rollnet_read_uint(r, &t.rng);
    for (int p = 0; ok && p < t.num_players; p++) {
        gw_player *pl = &t.players[p];
        ok = read_i32(r, &pl->x, 0, GW_WIDTH - 1) && read_i32(r, &pl->y, 0, GW_HEIGHT - 1) &&
             read_i32(r, &pl->score, 0, INT32_MAX) && read_i32(r, &pl->reward, 0, GW_ITEMS) &&
             read_i32(r, &pl->cooldown, 0, GW_MOVE_COOLDOWN) &&
             read_i32(r, &pl->action, GW_STAY, GW_MOVE_RIGHT);
    }
    for (int i = 0; ok && i < GW_ITEMS; i++) {
        ok = read_i32(r, &t.item_x[i], 0, GW_WIDTH - 1) &&
             read_i32(r, &t.item_y[i], 0, GW_HEIGHT - 1);
    }
    if (!ok)
        return false;
    *s = t;
    return true;
}

void gw_write_record(const gw_state *s, rollnet_writer *w)
{
    int n = s->num_players;
    rollnet_write_array(w, (uint32_t)(5 * n)); /* the order of gw_columns */
    for (int p = 0; p < n; p++)
        rollnet_write_int(w, s->players[p].action);
    for (int p = 0; p < n; p++) {
        rollnet_write_int(w, s->players[p].x);
        rollnet_write_int(w, s->players[p].y);
    }
    for (int p = 0; p < n; p++)
        rollnet_write_int(w, s->players[p].reward);
    for (int p = 0; p < n; p++)
        rollnet_write_int(w, s->players[p].score);
}

/* ---- bot ---- */

void gw_bot_init(gw_bot *b, uint64_t seed)
{
    b->rng = seed;
    b->wander = 0;
    b->wander_dir = 0;
}

static int32_t iabs(int32_t v)
{
    return v < 0 ? -v : v;
}

uint8_t gw_bot_input(gw_bot *b, const gw_state *s, int player)
{
    static const uint8_t dirs[4] = {GW_IN_UP, GW_IN_DOWN, GW_IN_LEFT, GW_IN_RIGHT};
    if (b->wander > 0) {
        b->wander--;
        return b->wander_dir;
    }
    /* One frame in 40 starts a short random detour, so two bots do not
     * play the same greedy line every run. */
    if (splitmix64(&b->rng) % 40 == 0) {
        b->wander = GW_MOVE_COOLDOWN * (1 + (int32_t)(splitmix64(&b->rng) % 3));
        b->wander_dir = dirs[splitmix64(&b->rng) % 4];
        return b->wander_dir;
    }
    const gw_player *me = &s->players[player];
    int best = -1;
    int32_t best_d = 0;
    for (int i = 0; i < GW_ITEMS; i++) {
        int32_t d = iabs(s->item_x[i] - me->x) + iabs(s->item_y[i] - me->y);
        if (best < 0 || d < best_d) {
            best = i;
            best_d = d;
        }
    }
    if (best < 0 || best_d == 0)
        return 0;
    int32_t dx = s->item_x[best] - me->x, dy = s->item_y[best] - me->y;
    if (iabs(dx) >= iabs(dy))
        return dx < 0 ? GW_IN_LEFT : GW_IN_RIGHT;
    return dy < 0 ? GW_IN_UP : GW_IN_DOWN;
}
