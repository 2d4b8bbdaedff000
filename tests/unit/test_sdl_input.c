/* SDL adapter input: bindings, event tracking, focus. Synthetic events only;
 * no SDL_Init and no window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <SDL.h>
#include <cmocka.h>

#include "rollnet/rollnet_sdl.h"

static SDL_Event key_event(Uint32 type, SDL_Keycode sym, int repeat)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.key.keysym.sym = sym;
    ev.key.repeat = (Uint8)repeat;
    return ev;
}

static SDL_Event button_event(Uint32 type, SDL_JoystickID which, Uint8 button)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.cbutton.which = which;
    ev.cbutton.button = button;
    return ev;
}

static SDL_Event window_event(Uint8 what)
{
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SDL_WINDOWEVENT;
    ev.window.event = what;
    return ev;
}

static void press(rollnet_sdl_input *in, SDL_Keycode sym)
{
    SDL_Event ev = key_event(SDL_KEYDOWN, sym, 0);
    rollnet_sdl_input_handle_event(in, &ev);
}

static void release(rollnet_sdl_input *in, SDL_Keycode sym)
{
    SDL_Event ev = key_event(SDL_KEYUP, sym, 0);
    rollnet_sdl_input_handle_event(in, &ev);
}

static uint32_t map_one_key(const rollnet_sdl_bindings *b, SDL_Keycode sym)
{
    int32_t keys[1] = {sym};
    rollnet_sdl_input_state st = {keys, 1, 0, true};
    return rollnet_sdl_map_input(b, &st);
}

static void default_bindings_map_arrows_wasd_and_space(void **state)
{
    (void)state;
    const rollnet_sdl_bindings *d = rollnet_sdl_default_bindings();
    assert_int_equal(map_one_key(d, SDLK_UP), ROLLNET_SDL_UP);
    assert_int_equal(map_one_key(d, SDLK_w), ROLLNET_SDL_UP);
    assert_int_equal(map_one_key(d, SDLK_DOWN), ROLLNET_SDL_DOWN);
    assert_int_equal(map_one_key(d, SDLK_s), ROLLNET_SDL_DOWN);
    assert_int_equal(map_one_key(d, SDLK_LEFT), ROLLNET_SDL_LEFT);
    assert_int_equal(map_one_key(d, SDLK_a), ROLLNET_SDL_LEFT);
    assert_int_equal(map_one_key(d, SDLK_RIGHT), ROLLNET_SDL_RIGHT);
    assert_int_equal(map_one_key(d, SDLK_d), ROLLNET_SDL_RIGHT);
    assert_int_equal(map_one_key(d, SDLK_SPACE), ROLLNET_SDL_ACTION);
    assert_int_equal(map_one_key(d, SDLK_q), 0);
    /* NULL stands for the defaults. */
    assert_int_equal(map_one_key(NULL, SDLK_LEFT), ROLLNET_SDL_LEFT);
}

static void default_bindings_map_dpad_and_a_button(void **state)
{
    (void)state;
    rollnet_sdl_input_state st = {NULL, 0, 0, true};
    st.buttons_down = 1u << SDL_CONTROLLER_BUTTON_DPAD_UP;
    assert_int_equal(rollnet_sdl_map_input(NULL, &st), ROLLNET_SDL_UP);
    st.buttons_down = 1u << SDL_CONTROLLER_BUTTON_DPAD_RIGHT | 1u << SDL_CONTROLLER_BUTTON_A;
    assert_int_equal(rollnet_sdl_map_input(NULL, &st), ROLLNET_SDL_RIGHT | ROLLNET_SDL_ACTION);
    st.buttons_down = 1u << SDL_CONTROLLER_BUTTON_B;
    assert_int_equal(rollnet_sdl_map_input(NULL, &st), 0);
}

static void held_keys_combine_and_release_clears_their_bits(void **state)
{
    (void)state;
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);
    press(&in, SDLK_UP);
    press(&in, SDLK_d);
    press(&in, SDLK_SPACE);
    assert_int_equal(rollnet_sdl_input_bits(&in),
                     ROLLNET_SDL_UP | ROLLNET_SDL_RIGHT | ROLLNET_SDL_ACTION);
    release(&in, SDLK_d);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_UP | ROLLNET_SDL_ACTION);
    release(&in, SDLK_UP);
    release(&in, SDLK_SPACE);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);
}

static void two_keys_with_the_same_bit_hold_it_until_both_are_released(void **state)
{
    (void)state;
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    press(&in, SDLK_LEFT);
    press(&in, SDLK_a);
    release(&in, SDLK_LEFT);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_LEFT);
    release(&in, SDLK_a);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);
}

static void key_repeat_does_not_need_two_releases(void **state)
{
    (void)state;
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    press(&in, SDLK_DOWN);
    for (int i = 0; i < 40; i++) {
        SDL_Event rep = key_event(SDL_KEYDOWN, SDLK_DOWN, 1);
        rollnet_sdl_input_handle_event(&in, &rep);
    }
    assert_int_equal(in.num_keys_down, 1);
    release(&in, SDLK_DOWN);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);
}

static void controller_button_events_set_and_clear_bits(void **state)
{
    (void)state;
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    SDL_Event down = button_event(SDL_CONTROLLERBUTTONDOWN, 3, SDL_CONTROLLER_BUTTON_DPAD_LEFT);
    SDL_Event a = button_event(SDL_CONTROLLERBUTTONDOWN, 5, SDL_CONTROLLER_BUTTON_A);
    rollnet_sdl_input_handle_event(&in, &down);
    rollnet_sdl_input_handle_event(&in, &a);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_LEFT | ROLLNET_SDL_ACTION);
    SDL_Event up = button_event(SDL_CONTROLLERBUTTONUP, 3, SDL_CONTROLLER_BUTTON_DPAD_LEFT);
    rollnet_sdl_input_handle_event(&in, &up);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_ACTION);
    rollnet_sdl_input_close(&in);
}

static void custom_table_replaces_the_defaults(void **state)
{
    (void)state;
    static const rollnet_sdl_key_binding keys[] = {{SDLK_j, 0x100}, {SDLK_k, 0x200}};
    static const rollnet_sdl_button_binding buttons[] = {{SDL_CONTROLLER_BUTTON_Y, 0x400}};
    rollnet_sdl_bindings custom = {keys, 2, buttons, 1};

    assert_int_equal(map_one_key(&custom, SDLK_j), 0x100);
    assert_int_equal(map_one_key(&custom, SDLK_UP), 0);

    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    assert_int_equal(rollnet_sdl_input_set_bindings(&in, &custom), ROLLNET_ERR_OK);
    press(&in, SDLK_UP);
    press(&in, SDLK_SPACE);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);
    press(&in, SDLK_k);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0x200);
    SDL_Event a = button_event(SDL_CONTROLLERBUTTONDOWN, 0, SDL_CONTROLLER_BUTTON_A);
    SDL_Event y = button_event(SDL_CONTROLLERBUTTONDOWN, 0, SDL_CONTROLLER_BUTTON_Y);
    rollnet_sdl_input_handle_event(&in, &a);
    rollnet_sdl_input_handle_event(&in, &y);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0x600);

    /* Back to the defaults: the keys still held now count. */
    assert_int_equal(rollnet_sdl_input_set_bindings(&in, NULL), ROLLNET_ERR_OK);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_UP | ROLLNET_SDL_ACTION);
}

static void custom_table_is_copied(void **state)
{
    (void)state;
    rollnet_sdl_key_binding keys[] = {{SDLK_j, 0x1}};
    rollnet_sdl_bindings custom = {keys, 1, NULL, 0};
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    assert_int_equal(rollnet_sdl_input_set_bindings(&in, &custom), ROLLNET_ERR_OK);
    keys[0].bits = 0x80;
    press(&in, SDLK_j);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0x1);
}

static void oversized_or_invalid_table_is_refused_and_old_one_kept(void **state)
{
    (void)state;
    rollnet_sdl_key_binding many[ROLLNET_SDL_MAX_BINDINGS + 1];
    for (int i = 0; i < ROLLNET_SDL_MAX_BINDINGS + 1; i++) {
        many[i].keycode = SDLK_a + i;
        many[i].bits = 0x1;
    }
    rollnet_sdl_bindings too_many = {many, ROLLNET_SDL_MAX_BINDINGS + 1, NULL, 0};
    rollnet_sdl_button_binding bad_button[] = {{40, 0x1}};
    rollnet_sdl_bindings bad = {NULL, 0, bad_button, 1};

    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    assert_int_equal(rollnet_sdl_input_set_bindings(&in, &too_many), ROLLNET_ERR_INVALID_ARGUMENT);
    assert_int_equal(rollnet_sdl_input_set_bindings(&in, &bad), ROLLNET_ERR_INVALID_ARGUMENT);
    press(&in, SDLK_RIGHT);
    assert_int_equal(rollnet_sdl_input_bits(&in), ROLLNET_SDL_RIGHT);
}

static void unfocused_state_maps_to_neutral(void **state)
{
    (void)state;
    int32_t keys[] = {SDLK_UP, SDLK_SPACE};
    rollnet_sdl_input_state st = {keys, 2, 1u << SDL_CONTROLLER_BUTTON_A, false};
    assert_int_equal(rollnet_sdl_map_input(NULL, &st), 0);
    st.focused = true;
    assert_int_equal(rollnet_sdl_map_input(NULL, &st), ROLLNET_SDL_UP | ROLLNET_SDL_ACTION);
}

static void focus_lost_gives_neutral_and_forgets_held_keys(void **state)
{
    (void)state;
    rollnet_sdl_input in;
    rollnet_sdl_input_init(&in);
    press(&in, SDLK_LEFT);
    SDL_Event b = button_event(SDL_CONTROLLERBUTTONDOWN, 0, SDL_CONTROLLER_BUTTON_A);
    rollnet_sdl_input_handle_event(&in, &b);
    SDL_Event lost = window_event(SDL_WINDOWEVENT_FOCUS_LOST);
    rollnet_sdl_input_handle_event(&in, &lost);
    assert_int_equal(rollnet_sdl_input_bits(&in), 0);

    /* The key-up went to another window; on return the key is not stuck. */
    SDL_Event gained = window_event(SDL_WINDOWEVENT_FOCUS_GAINED);
    rollnet_sdl_input_handle_event(&in, &gained);
    assert_int_equal(rollnet_sdl_input_bits(&in) & ROLLNET_SDL_LEFT, 0);
    press(&in, SDLK_UP);
    assert_int_equal(rollnet_sdl_input_bits(&in) & ROLLNET_SDL_UP, ROLLNET_SDL_UP);
}

static void focus_tracker_reports_each_change_once(void **state)
{
    (void)state;
    rollnet_sdl_focus f;
    rollnet_sdl_focus_init(&f);
    SDL_Event lost = window_event(SDL_WINDOWEVENT_FOCUS_LOST);
    SDL_Event gained = window_event(SDL_WINDOWEVENT_FOCUS_GAINED);
    SDL_Event mini = window_event(SDL_WINDOWEVENT_MINIMIZED);
    SDL_Event rest = window_event(SDL_WINDOWEVENT_RESTORED);
    SDL_Event moved = window_event(SDL_WINDOWEVENT_MOVED);

    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &gained), ROLLNET_SDL_WINDOW_NONE);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &lost), ROLLNET_SDL_WINDOW_FOCUS_LOST);
    assert_false(f.focused);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &lost), ROLLNET_SDL_WINDOW_NONE);
    /* RESTORED while not minimised (an un-maximise) is no change. */
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &rest), ROLLNET_SDL_WINDOW_NONE);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &mini), ROLLNET_SDL_WINDOW_MINIMIZED);
    assert_true(f.minimized);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &moved), ROLLNET_SDL_WINDOW_NONE);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &rest), ROLLNET_SDL_WINDOW_RESTORED);
    assert_false(f.minimized);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &gained),
                     ROLLNET_SDL_WINDOW_FOCUS_GAINED);
    assert_true(f.focused);

    SDL_Event key = key_event(SDL_KEYDOWN, SDLK_a, 0);
    assert_int_equal(rollnet_sdl_focus_handle_event(&f, &key), ROLLNET_SDL_WINDOW_NONE);
    assert_string_equal(rollnet_sdl_window_change_string(ROLLNET_SDL_WINDOW_FOCUS_LOST),
                        "focus_lost");
    assert_string_equal(rollnet_sdl_window_change_string(ROLLNET_SDL_WINDOW_RESTORED),
                        "restored");
}

static void overlay_toggles_on_f1_press_only(void **state)
{
    (void)state;
    rollnet_sdl_overlay o;
    rollnet_sdl_overlay_init(&o);
    assert_false(o.visible);
    SDL_Event f1 = key_event(SDL_KEYDOWN, SDLK_F1, 0);
    SDL_Event f1_repeat = key_event(SDL_KEYDOWN, SDLK_F1, 1);
    SDL_Event f1_up = key_event(SDL_KEYUP, SDLK_F1, 0);
    SDL_Event other = key_event(SDL_KEYDOWN, SDLK_F2, 0);
    assert_true(rollnet_sdl_overlay_handle_event(&o, &f1));
    assert_true(o.visible);
    assert_false(rollnet_sdl_overlay_handle_event(&o, &f1_repeat));
    assert_false(rollnet_sdl_overlay_handle_event(&o, &f1_up));
    assert_false(rollnet_sdl_overlay_handle_event(&o, &other));
    assert_true(o.visible);
    assert_true(rollnet_sdl_overlay_handle_event(&o, &f1));
    assert_false(o.visible);
}

static void text_width_counts_glyphs_and_gaps(void **state)
{
    (void)state;
    assert_int_equal(rollnet_sdl_text_width("", 2), 0);
    assert_int_equal(rollnet_sdl_text_width("8", 1), 3);
    assert_int_equal(rollnet_sdl_text_width("PING 12", 2), (7 * 4 - 1) * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_bindings_map_arrows_wasd_and_space),
        cmocka_unit_test(default_bindings_map_dpad_and_a_button),
        cmocka_unit_test(held_keys_combine_and_release_clears_their_bits),
        cmocka_unit_test(two_keys_with_the_same_bit_hold_it_until_both_are_released),
        cmocka_unit_test(key_repeat_does_not_need_two_releases),
        cmocka_unit_test(controller_button_events_set_and_clear_bits),
        cmocka_unit_test(custom_table_replaces_the_defaults),
        cmocka_unit_test(custom_table_is_copied),
        cmocka_unit_test(oversized_or_invalid_table_is_refused_and_old_one_kept),
        cmocka_unit_test(unfocused_state_maps_to_neutral),
        cmocka_unit_test(focus_lost_gives_neutral_and_forgets_held_keys),
        cmocka_unit_test(focus_tracker_reports_each_change_once),
        cmocka_unit_test(overlay_toggles_on_f1_press_only),
        cmocka_unit_test(text_width_counts_glyphs_and_gaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
