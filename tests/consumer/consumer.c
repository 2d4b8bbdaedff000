/* A program that uses rollnet the way a game does: through the public
 * header only. Runs a short sync test and prints the version. */
#include <stdio.h>
#include <string.h>

#include <rollnet/rollnet.h>

int main(void)
{
    rollnet_session_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = ROLLNET_SESSION_SYNCTEST;
    d.num_players = 1;
    rollnet_session *s = NULL;
    if (rollnet_session_create(&d, &s) != ROLLNET_ERR_OK) {
        return 1;
    }
    int64_t state = 0;
    for (int f = 0; f < 20; f++) {
        uint8_t in = (uint8_t)f;
        const rollnet_request *r;
        int n;
        if (rollnet_session_add_local_input(s, 0, &in, 1) != ROLLNET_ERR_OK ||
            rollnet_session_advance(s, &r, &n) != ROLLNET_ERR_OK) {
            return 2;
        }
        for (int i = 0; i < n; i++) {
            rollnet_error err = ROLLNET_ERR_OK;
            if (r[i].type == ROLLNET_REQUEST_SAVE) {
                rollnet_write_int(rollnet_session_save_begin(s, &r[i]), state);
                err = rollnet_session_save_end(s, &r[i]);
            } else if (r[i].type == ROLLNET_REQUEST_LOAD) {
                rollnet_read_int(rollnet_session_load_begin(s, &r[i]), &state);
                err = rollnet_session_load_end(s, &r[i]);
            } else {
                state = state * 7 + r[i].inputs[0];
                err = rollnet_session_advance_end(s, &r[i], 0);
            }
            if (err != ROLLNET_ERR_OK) {
                return 3;
            }
        }
    }
    rollnet_session_destroy(s);
    printf("rollnet %s ok\n", rollnet_version());
    return 0;
}
