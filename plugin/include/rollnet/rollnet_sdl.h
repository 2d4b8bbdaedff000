/** @file
 * rollnet SDL2 adapter: input bindings, frame pacing, window focus tracking
 * and a network overlay for games that drive a rollnet session from SDL2.
 *
 * SDL types appear only as forward declarations, so this header compiles
 * without SDL's include path; a game includes <SDL.h> for the definitions.
 * Keycodes are SDL_Keycode values and buttons SDL_GameControllerButton values,
 * both carried as int32_t.
 *
 * IMPORTANT: like SDL's own event and render calls, every function here is
 * meant for the thread that runs the SDL event loop. The structs are plain
 * values owned by the caller; none of them allocates.
 */
#ifndef ROLLNET_SDL_H
#define ROLLNET_SDL_H

#include "rollnet/rollnet.h"

#ifdef __cplusplus
extern "C" {
#endif

union SDL_Event;
struct SDL_Renderer;

/* ------------------------------------------------------------------------ */
/* Input bindings                                                            */
/* ------------------------------------------------------------------------ */

/** Bits of the default bindings. A game is free to use any other layout. */
#define ROLLNET_SDL_UP 0x01u
#define ROLLNET_SDL_DOWN 0x02u   /**< default bindings: down */
#define ROLLNET_SDL_LEFT 0x04u   /**< default bindings: left */
#define ROLLNET_SDL_RIGHT 0x08u  /**< default bindings: right */
#define ROLLNET_SDL_ACTION 0x10u /**< default bindings: action */

#define ROLLNET_SDL_MAX_BINDINGS 32      /**< key bindings and button bindings, each */
#define ROLLNET_SDL_MAX_KEYS_DOWN 16     /**< held keys tracked at once; more are ignored */
#define ROLLNET_SDL_MAX_CONTROLLERS 4    /**< controllers tracked at once */

/** One key and the input bits it sets. */
typedef struct rollnet_sdl_key_binding {
    int32_t keycode; /**< SDL_Keycode */
    uint32_t bits;   /**< ORed into the input while the key is held */
} rollnet_sdl_key_binding;

/** One controller button and the input bits it sets. */
typedef struct rollnet_sdl_button_binding {
    int32_t button;  /**< SDL_GameControllerButton, 0..31 */
    uint32_t bits;   /**< ORed into the input while the button is held */
} rollnet_sdl_button_binding;

/** A binding table. The arrays are the caller's; functions that keep a table
 * copy it. */
typedef struct rollnet_sdl_bindings {
    const rollnet_sdl_key_binding *keys;       /**< num_keys key bindings */
    int num_keys;                              /**< 0..ROLLNET_SDL_MAX_BINDINGS */
    const rollnet_sdl_button_binding *buttons; /**< num_buttons button bindings */
    int num_buttons;                           /**< 0..ROLLNET_SDL_MAX_BINDINGS */
} rollnet_sdl_bindings;

/** Arrows and WASD to UP/DOWN/LEFT/RIGHT, space to ACTION; controller d-pad
 * and A likewise. Static storage. */
const rollnet_sdl_bindings *rollnet_sdl_default_bindings(void);

/** What is held right now, however it was learnt. */
typedef struct rollnet_sdl_input_state {
    const int32_t *keys_down; /**< SDL_Keycode values held */
    int num_keys_down;        /**< values in keys_down */
    uint32_t buttons_down;    /**< bit b: controller button b is held */
    bool focused;             /**< false: the window has no keyboard focus */
} rollnet_sdl_input_state;

/** Pure: the input bits `state` gives under `bindings` (NULL = the defaults);
 * 0 (neutral) when the state is not focused. */
uint32_t rollnet_sdl_map_input(const rollnet_sdl_bindings *bindings,
                               const rollnet_sdl_input_state *state);

/** A game controller a rollnet_sdl_input tracks. */
typedef struct rollnet_sdl_controller_slot {
    void *handle;        /**< SDL_GameController * opened by this tracker, or NULL */
    int32_t instance_id; /**< SDL_JoystickID; -1 when the slot is free */
    uint32_t buttons_down; /**< bit b: button b is held */
} rollnet_sdl_controller_slot;

/** Tracks held keys, controller buttons and focus from SDL events. Fields are
 * public for inspection; change them only through the functions below. */
typedef struct rollnet_sdl_input {
    rollnet_sdl_key_binding keys[ROLLNET_SDL_MAX_BINDINGS];       /**< key bindings (a copy) */
    int num_keys;                                                 /**< entries in keys */
    rollnet_sdl_button_binding buttons[ROLLNET_SDL_MAX_BINDINGS]; /**< button bindings (a copy) */
    int num_buttons;                                              /**< entries in buttons */
    int32_t keys_down[ROLLNET_SDL_MAX_KEYS_DOWN];                 /**< SDL_Keycode values held */
    int num_keys_down;                                            /**< entries in keys_down */
    rollnet_sdl_controller_slot controllers[ROLLNET_SDL_MAX_CONTROLLERS]; /**< open controllers */
    bool focused;                                                 /**< the window has focus */
    bool open_controllers; /**< open controllers on SDL_CONTROLLERDEVICEADDED */
} rollnet_sdl_input;

/** Default bindings, focused, nothing held, controllers opened as they are
 * added (set open_controllers = false to leave that to the game). */
void rollnet_sdl_input_init(rollnet_sdl_input *in);
/** Copy a table (NULL = the defaults). INVALID_ARGUMENT when it holds more than
 * ROLLNET_SDL_MAX_BINDINGS entries of a kind or a button outside 0..31; the
 * previous table is then kept. */
rollnet_error rollnet_sdl_input_set_bindings(rollnet_sdl_input *in,
                                             const rollnet_sdl_bindings *bindings);
/** Feed every SDL event. Key repeats are ignored; losing focus releases every
 * held key. Needs no SDL_Init except for opening controllers. */
void rollnet_sdl_input_handle_event(rollnet_sdl_input *in, const union SDL_Event *ev);
/** The input bits of what is held now; 0 while unfocused. */
uint32_t rollnet_sdl_input_bits(const rollnet_sdl_input *in);
/** Close the controllers this tracker opened. */
void rollnet_sdl_input_close(rollnet_sdl_input *in);

/* ------------------------------------------------------------------------ */
/* Frame pacer                                                               */
/* ------------------------------------------------------------------------ */

#define ROLLNET_SDL_PACER_MAX_CATCH_UP 8 /**< frames one wait reports at most */

/** A fixed-rate schedule over SDL_GetPerformanceCounter. Frame slot k is due
 * at origin + k * freq / fps, exactly (no drift from rounding). */
typedef struct rollnet_sdl_pacer {
    uint64_t freq;        /**< counter ticks per second */
    int fps;              /**< frames per second */
    uint64_t origin;      /**< counter value of slot 0 */
    uint64_t slot;        /**< next slot; kept below fps by moving origin */
    int max_catch_up;     /**< frames one wait reports at most */
    uint64_t frames_dropped; /**< due frames given up after a stall */
} rollnet_sdl_pacer;

/** Start a schedule whose first frame is due now (SDL's counter). fps <= 0
 * means 60. */
void rollnet_sdl_pacer_init(rollnet_sdl_pacer *p, int fps);
/** Pure: the same from a given counter frequency and value. */
void rollnet_sdl_pacer_init_at(rollnet_sdl_pacer *p, int fps, uint64_t freq, uint64_t now);
/** Pure: restart the schedule with a frame due at `now`, forgetting any
 * backlog (after a deliberate block such as loading). */
void rollnet_sdl_pacer_reset_at(rollnet_sdl_pacer *p, uint64_t now);
/** Pure: counter value at which the next frame is due. */
uint64_t rollnet_sdl_pacer_next_due(const rollnet_sdl_pacer *p);
/** Pure: whole milliseconds to sleep before the next frame is due; 0 when it
 * is due or less than 1 ms away (the caller then spins). */
uint32_t rollnet_sdl_pacer_sleep_ms(const rollnet_sdl_pacer *p, uint64_t now);
/** Pure: take the frames due at `now` (0 when none) and move the schedule past
 * them. More than max_catch_up due frames give max_catch_up, and the schedule
 * restarts from `now` so a long stall is not made up for. */
int rollnet_sdl_pacer_take(rollnet_sdl_pacer *p, uint64_t now);
/** Pure: push the schedule back by n frames (a WAIT_RECOMMENDED event's
 * u.wait.frames); n <= 0 does nothing, n is capped at one second of frames. */
void rollnet_sdl_pacer_add_wait_frames(rollnet_sdl_pacer *p, int n);
/** Sleep until at least one frame is due and take them: returns 1..max_catch_up.
 * Sleeps with SDL_Delay and spins only through the last millisecond. */
int rollnet_sdl_pacer_wait(rollnet_sdl_pacer *p);
/** rollnet_sdl_pacer_reset_at with SDL's counter. */
void rollnet_sdl_pacer_reset(rollnet_sdl_pacer *p);

/* ------------------------------------------------------------------------ */
/* Window focus and minimise                                                 */
/* ------------------------------------------------------------------------ */

/** A change of the window's focus or visibility (rollnet_sdl_focus_handle_event). */
typedef enum rollnet_sdl_window_change {
    ROLLNET_SDL_WINDOW_NONE = 0,      /**< nothing changed */
    ROLLNET_SDL_WINDOW_FOCUS_GAINED,  /**< the window got keyboard focus */
    ROLLNET_SDL_WINDOW_FOCUS_LOST,    /**< the window lost keyboard focus */
    ROLLNET_SDL_WINDOW_MINIMIZED,     /**< the window was minimised */
    ROLLNET_SDL_WINDOW_RESTORED       /**< the window left the minimised state */
} rollnet_sdl_window_change;

/** Whether the game's window has focus and is visible, from SDL events. */
typedef struct rollnet_sdl_focus {
    bool focused;   /**< the window has keyboard focus */
    bool minimized; /**< the window is minimised */
} rollnet_sdl_focus;

/** Focused and not minimised. */
void rollnet_sdl_focus_init(rollnet_sdl_focus *f);
/** Feed every SDL event; returns the change it made, NONE for events that
 * change nothing (repeats included), so each change is reported once. */
rollnet_sdl_window_change rollnet_sdl_focus_handle_event(rollnet_sdl_focus *f,
                                                         const union SDL_Event *ev);
/** "focus_gained", "focus_lost", "minimized", "restored" or "none". Static. */
const char *rollnet_sdl_window_change_string(rollnet_sdl_window_change c);

/* ------------------------------------------------------------------------ */
/* Overlay and bitmap text                                                   */
/* ------------------------------------------------------------------------ */

#define ROLLNET_SDL_OVERLAY_HISTORY 180 /**< samples of rollback depth kept (3 s at 60 fps) */
#define ROLLNET_SDL_OVERLAY_DEFAULT_SCALE 2   /**< rollnet_sdl_overlay::scale when 0 */
#define ROLLNET_SDL_OVERLAY_MAX_SCALE 8       /**< larger scales are drawn at this one */
#define ROLLNET_SDL_OVERLAY_DEFAULT_ALPHA 128 /**< rollnet_sdl_overlay::background_alpha when 0 */

/** The network overlay: what rollnet_sdl_overlay_sample read, for
 * rollnet_sdl_overlay_draw. Fields are public for inspection; a game sets
 * visible, toggle_key, scale and background_alpha after
 * rollnet_sdl_overlay_init (0 in the last two keeps their defaults).
 *
 * At the default scale the overlay is 188 pixels wide and 94 high (108 with
 * the status line); scale 1 halves both, for a small logical viewport such as
 * 320x240. rollnet_sdl_overlay_size gives the exact size, so a game can put it
 * in any corner:
 * @code
 * int w, h;
 * rollnet_sdl_overlay_size(&overlay, &w, &h);
 * rollnet_sdl_overlay_draw(&overlay, renderer, 320 - w - 4, 240 - h - 4); // bottom right
 * @endcode */
typedef struct rollnet_sdl_overlay {
    bool visible;                /**< drawn by rollnet_sdl_overlay_draw */
    int32_t toggle_key;          /**< SDL_Keycode; default F1 */
    /** Size of a font pixel; padding, lines and the graph grow with it.
     * 0 or less: ROLLNET_SDL_OVERLAY_DEFAULT_SCALE (2); above
     * ROLLNET_SDL_OVERLAY_MAX_SCALE: that. At 1 the graph gives one column to
     * two samples and shows the deeper. */
    int32_t scale;
    /** Opacity of the black background, 1 (nearly clear) .. 255 (opaque); 0:
     * ROLLNET_SDL_OVERLAY_DEFAULT_ALPHA (128, half), so the game shows
     * through. Text and graph are always opaque. */
    uint8_t background_alpha;
    uint8_t depth[ROLLNET_SDL_OVERLAY_HISTORY]; /**< frames resimulated per sample, ring */
    /** @{ */
    /** The ring's next slot and how many samples it holds. */
    int head, count;
    /** @} */
    uint64_t last_resimulated;   /**< the session's frames_resimulated at the last sample */
    bool have_last;              /**< last_resimulated is set */
    /** rtt_ms, frames_ahead, interrupted and peer_loading come from a peer. */
    bool have_peer;
    uint32_t rtt_ms;             /**< the peer's round-trip time */
    int32_t frames_ahead;        /**< how far this side runs ahead of the peer */
    /** @{ */
    /** The peer is interrupted; the peer is loading; the session is running. */
    bool interrupted, peer_loading, running;
    /** @} */
    int32_t frame;               /**< the session's next frame to run */
    int32_t max_depth;           /**< deepest sample in the history */
} rollnet_sdl_overlay;

/** Hidden, toggled by F1. */
void rollnet_sdl_overlay_init(rollnet_sdl_overlay *o);
/** Toggles visibility on a press of toggle_key; true when it did. */
bool rollnet_sdl_overlay_handle_event(rollnet_sdl_overlay *o, const union SDL_Event *ev);
/** Read the session's stats (and those of the peer hosting remote_player, or
 * none when remote_player < 0) once per tick. */
void rollnet_sdl_overlay_sample(rollnet_sdl_overlay *o, const rollnet_session *s,
                                int remote_player);
/** The size in pixels that rollnet_sdl_overlay_draw covers for the overlay's
 * current content, from (x, y) to (x + w - 1, y + h - 1): it depends on scale
 * and on the sampled text (a fourth line while waiting, interrupted or the
 * peer is loading), so ask again each time before drawing. 0 x 0 while hidden
 * or when `o` is NULL. `w` or `h` may be NULL. Pure: needs no renderer. */
void rollnet_sdl_overlay_size(const rollnet_sdl_overlay *o, int *w, int *h);
/** Draw at (x, y), the top-left corner, when visible: a translucent black
 * background (background_alpha) of exactly rollnet_sdl_overlay_size, opaque
 * text and the rollback-depth graph over it, blended into whatever the game
 * drew there. Restores the renderer's draw blend mode and draw colour before
 * returning; draws nothing when SDL cannot report them. */
void rollnet_sdl_overlay_draw(const rollnet_sdl_overlay *o, struct SDL_Renderer *r, int x, int y);

/** Draw text in the built-in 3x5 font (digits, A-Z, a few signs; lower case is
 * drawn as upper case, anything else as a blank) in the renderer's current
 * colour; each font pixel is scale x scale. */
void rollnet_sdl_draw_text(struct SDL_Renderer *r, int x, int y, int scale, const char *text);
/** Width in pixels that rollnet_sdl_draw_text would cover. */
int rollnet_sdl_text_width(const char *text, int scale);

#ifdef __cplusplus
}
#endif

#endif /* ROLLNET_SDL_H */
