/* SDL input bindings and window focus tracking. The mapping itself is pure so
 * that it can be tested with synthetic events and no SDL_Init. */
#include <SDL.h>
#include <string.h>

#include "rollnet/rollnet_sdl.h"

static const rollnet_sdl_key_binding default_keys[] = {
    {SDLK_UP, ROLLNET_SDL_UP},       {SDLK_w, ROLLNET_SDL_UP},
    {SDLK_DOWN, ROLLNET_SDL_DOWN},   {SDLK_s, ROLLNET_SDL_DOWN},
    {SDLK_LEFT, ROLLNET_SDL_LEFT},   {SDLK_a, ROLLNET_SDL_LEFT},
    {SDLK_RIGHT, ROLLNET_SDL_RIGHT}, {SDLK_d, ROLLNET_SDL_RIGHT},
    {SDLK_SPACE, ROLLNET_SDL_ACTION},
};

static const rollnet_sdl_button_binding default_buttons[] = {
    {SDL_CONTROLLER_BUTTON_DPAD_UP, ROLLNET_SDL_UP},
    {SDL_CONTROLLER_BUTTON_DPAD_DOWN, ROLLNET_SDL_DOWN},
    {SDL_CONTROLLER_BUTTON_DPAD_LEFT, ROLLNET_SDL_LEFT},
    {SDL_CONTROLLER_BUTTON_DPAD_RIGHT, ROLLNET_SDL_RIGHT},
    {SDL_CONTROLLER_BUTTON_A, ROLLNET_SDL_ACTION},
};

static const rollnet_sdl_bindings default_bindings = {
    default_keys,
    (int)(sizeof default_keys / sizeof default_keys[0]),
    default_buttons,
    (int)(sizeof default_buttons / sizeof default_buttons[0]),
};

const rollnet_sdl_bindings *rollnet_sdl_default_bindings(void)
{
    return &default_bindings;
}

uint32_t rollnet_sdl_map_input(const rollnet_sdl_bindings *bindings,
                               const rollnet_sdl_input_state *state)
{
    if (!state || !state->focused)
        return 0;
    if (!bindings)
        bindings = &default_bindings;
    uint32_t bits = 0;
    for (int i = 0; i < bindings->num_keys; i++) {
        for (int k = 0; k < state->num_keys_down; k++) {
            if (state->keys_down[k] == bindings->keys[i].keycode) {
                bits |= bindings->keys[i].bits;
                break;
            }
        }
    }
    for (int i = 0; i < bindings->num_buttons; i++) {
        int32_t b = bindings->buttons[i].button;
        if (b >= 0 && b < 32 && (state->buttons_down & (1u << b)))
            bits |= bindings->buttons[i].bits;
    }
    return bits;
}

void rollnet_sdl_input_init(rollnet_sdl_input *in)
{
    memset(in, 0, sizeof *in);
    for (int i = 0; i < ROLLNET_SDL_MAX_CONTROLLERS; i++)
        in->controllers[i].instance_id = -1;
    in->focused = true;
    in->open_controllers = true;
    (void)rollnet_sdl_input_set_bindings(in, NULL);
}

rollnet_error rollnet_sdl_input_set_bindings(rollnet_sdl_input *in,
                                             const rollnet_sdl_bindings *bindings)
{
    if (!in)
        return ROLLNET_ERR_INVALID_ARGUMENT;
    if (!bindings)
        bindings = &default_bindings;
    if (bindings->num_keys < 0 || bindings->num_keys > ROLLNET_SDL_MAX_BINDINGS ||
        bindings->num_buttons < 0 || bindings->num_buttons > ROLLNET_SDL_MAX_BINDINGS ||
        (bindings->num_keys > 0 && !bindings->keys) ||
        (bindings->num_buttons > 0 && !bindings->buttons))
        return ROLLNET_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < bindings->num_buttons; i++) {
        if (bindings->buttons[i].button < 0 || bindings->buttons[i].button >= 32)
            return ROLLNET_ERR_INVALID_ARGUMENT;
    }
    if (bindings->num_keys > 0)
        memcpy(in->keys, bindings->keys, (size_t)bindings->num_keys * sizeof in->keys[0]);
    in->num_keys = bindings->num_keys;
    if (bindings->num_buttons > 0)
        memcpy(in->buttons, bindings->buttons,
               (size_t)bindings->num_buttons * sizeof in->buttons[0]);
    in->num_buttons = bindings->num_buttons;
    return ROLLNET_ERR_OK;
}

static void key_press(rollnet_sdl_input *in, int32_t key)
{
    for (int i = 0; i < in->num_keys_down; i++) {
        if (in->keys_down[i] == key)
            return;
    }
    if (in->num_keys_down < ROLLNET_SDL_MAX_KEYS_DOWN)
        in->keys_down[in->num_keys_down++] = key;
}

static void key_release(rollnet_sdl_input *in, int32_t key)
{
    for (int i = 0; i < in->num_keys_down; i++) {
        if (in->keys_down[i] == key) {
            in->keys_down[i] = in->keys_down[--in->num_keys_down];
            return;
        }
    }
}

/* The slot of a controller, taking a free one for an unknown instance when
 * `take` is set (button events may come from controllers the game opened). */
static rollnet_sdl_controller_slot *controller_slot(rollnet_sdl_input *in, int32_t id, bool take)
{
    for (int i = 0; i < ROLLNET_SDL_MAX_CONTROLLERS; i++) {
        if (in->controllers[i].instance_id == id)
            return &in->controllers[i];
    }
    if (!take)
        return NULL;
    for (int i = 0; i < ROLLNET_SDL_MAX_CONTROLLERS; i++) {
        if (in->controllers[i].instance_id < 0) {
            in->controllers[i].instance_id = id;
            in->controllers[i].buttons_down = 0;
            in->controllers[i].handle = NULL;
            return &in->controllers[i];
        }
    }
    return NULL;
}

static void controller_added(rollnet_sdl_input *in, int device_index)
{
    if (!in->open_controllers || !SDL_IsGameController(device_index))
        return;
    SDL_GameController *gc = SDL_GameControllerOpen(device_index);
    if (!gc)
        return;
    int32_t id = SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(gc));
    rollnet_sdl_controller_slot *slot = controller_slot(in, id, true);
    if (!slot || slot->handle) {
        SDL_GameControllerClose(gc);
        return;
    }
    slot->handle = gc;
}

static void controller_removed(rollnet_sdl_input *in, int32_t id)
{
    rollnet_sdl_controller_slot *slot = controller_slot(in, id, false);
    if (!slot)
        return;
    if (slot->handle)
        SDL_GameControllerClose((SDL_GameController *)slot->handle);
    slot->handle = NULL;
    slot->instance_id = -1;
    slot->buttons_down = 0;
}

void rollnet_sdl_input_handle_event(rollnet_sdl_input *in, const SDL_Event *ev)
{
    if (!in || !ev)
        return;
    switch (ev->type) {
    case SDL_KEYDOWN:
        if (!ev->key.repeat)
            key_press(in, ev->key.keysym.sym);
        break;
    case SDL_KEYUP:
        key_release(in, ev->key.keysym.sym);
        break;
    case SDL_CONTROLLERBUTTONDOWN:
    case SDL_CONTROLLERBUTTONUP: {
        rollnet_sdl_controller_slot *slot = controller_slot(in, ev->cbutton.which, true);
        if (!slot || ev->cbutton.button >= 32)
            break;
        uint32_t bit = 1u << ev->cbutton.button;
        if (ev->type == SDL_CONTROLLERBUTTONDOWN)
            slot->buttons_down |= bit;
        else
            slot->buttons_down &= ~bit;
        break;
    }
    case SDL_CONTROLLERDEVICEADDED:
        controller_added(in, ev->cdevice.which);
        break;
    case SDL_CONTROLLERDEVICEREMOVED:
        controller_removed(in, ev->cdevice.which);
        break;
    case SDL_WINDOWEVENT:
        if (ev->window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
            /* Key-ups that happen while another window has focus never reach
             * us; forgetting held keys keeps them from sticking. */
            in->focused = false;
            in->num_keys_down = 0;
        } else if (ev->window.event == SDL_WINDOWEVENT_FOCUS_GAINED) {
            in->focused = true;
        }
        break;
    default:
        break;
    }
}

uint32_t rollnet_sdl_input_bits(const rollnet_sdl_input *in)
{
    if (!in)
        return 0;
    uint32_t buttons = 0;
    for (int i = 0; i < ROLLNET_SDL_MAX_CONTROLLERS; i++) {
        if (in->controllers[i].instance_id >= 0)
            buttons |= in->controllers[i].buttons_down;
    }
    rollnet_sdl_input_state st = {in->keys_down, in->num_keys_down, buttons, in->focused};
    rollnet_sdl_bindings b = {in->keys, in->num_keys, in->buttons, in->num_buttons};
    return rollnet_sdl_map_input(&b, &st);
}

void rollnet_sdl_input_close(rollnet_sdl_input *in)
{
    if (!in)
        return;
    for (int i = 0; i < ROLLNET_SDL_MAX_CONTROLLERS; i++) {
        if (in->controllers[i].handle)
            SDL_GameControllerClose((SDL_GameController *)in->controllers[i].handle);
        in->controllers[i].handle = NULL;
        in->controllers[i].instance_id = -1;
        in->controllers[i].buttons_down = 0;
    }
}

/* ---- focus ---- */

void rollnet_sdl_focus_init(rollnet_sdl_focus *f)
{
    f->focused = true;
    f->minimized = false;
}

rollnet_sdl_window_change rollnet_sdl_focus_handle_event(rollnet_sdl_focus *f, const SDL_Event *ev)
{
    if (!f || !ev || ev->type != SDL_WINDOWEVENT)
        return ROLLNET_SDL_WINDOW_NONE;
    switch (ev->window.event) {
    case SDL_WINDOWEVENT_FOCUS_GAINED:
        if (f->focused)
            return ROLLNET_SDL_WINDOW_NONE;
        f->focused = true;
        return ROLLNET_SDL_WINDOW_FOCUS_GAINED;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        if (!f->focused)
            return ROLLNET_SDL_WINDOW_NONE;
        f->focused = false;
        return ROLLNET_SDL_WINDOW_FOCUS_LOST;
    case SDL_WINDOWEVENT_MINIMIZED:
        if (f->minimized)
            return ROLLNET_SDL_WINDOW_NONE;
        f->minimized = true;
        return ROLLNET_SDL_WINDOW_MINIMIZED;
    case SDL_WINDOWEVENT_RESTORED:
    case SDL_WINDOWEVENT_MAXIMIZED:
        /* RESTORED also follows an un-maximise; only leaving the minimised
         * state is a change worth logging. */
        if (!f->minimized)
            return ROLLNET_SDL_WINDOW_NONE;
        f->minimized = false;
        return ROLLNET_SDL_WINDOW_RESTORED;
    default:
        return ROLLNET_SDL_WINDOW_NONE;
    }
}

const char *rollnet_sdl_window_change_string(rollnet_sdl_window_change c)
{
    switch (c) {
    case ROLLNET_SDL_WINDOW_FOCUS_GAINED:
        return "focus_gained";
    case ROLLNET_SDL_WINDOW_FOCUS_LOST:
        return "focus_lost";
    case ROLLNET_SDL_WINDOW_MINIMIZED:
        return "minimized";
    case ROLLNET_SDL_WINDOW_RESTORED:
        return "restored";
    case ROLLNET_SDL_WINDOW_NONE:
    default:
        return "none";
    }
}
