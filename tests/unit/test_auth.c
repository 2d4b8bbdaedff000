/* Private sessions' key and proof (core/auth.c): the key is BLAKE2b of the
 * secret with rollnet's personalisation, a proof verifies only for the same
 * key, both nonces in the same roles and the same players on both sides, and
 * so cannot be replayed into a session with another nonce, reflected to its
 * sender or relayed to a peer hosting other players.
 * Without libsodium every call fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"

#if ROLLNET_HAVE_SESSION_KEY
#include <sodium.h>

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void key_is_blake2b_of_the_secret_with_rollnets_personalisation(void **state)
{
    (void)state;
    static const char secret[] = "correct horse battery staple";
    uint8_t key[RN_AUTH_KEY_BYTES], again[RN_AUTH_KEY_BYTES];
    assert_true(rn_auth_derive_key(secret, strlen(secret), key));
    assert_true(rn_auth_derive_key(secret, strlen(secret), again));
    assert_memory_equal(key, again, RN_AUTH_KEY_BYTES);

    unsigned char personal[crypto_generichash_blake2b_PERSONALBYTES] = "rollnet-key-v1";
    uint8_t want[RN_AUTH_KEY_BYTES];
    assert_int_equal(crypto_generichash_blake2b_salt_personal(want, sizeof want,
                         (const unsigned char *)secret, strlen(secret), NULL, 0, NULL, personal), 0);
    assert_memory_equal(key, want, RN_AUTH_KEY_BYTES);
    /* Not the plain hash: the personalisation separates rollnet's use. */
    uint8_t plain[RN_AUTH_KEY_BYTES];
    crypto_generichash(plain, sizeof plain, (const unsigned char *)secret, strlen(secret), NULL, 0);
    assert_memory_not_equal(key, plain, RN_AUTH_KEY_BYTES);
    /* One byte more or different: another key. */
    assert_true(rn_auth_derive_key(secret, strlen(secret) - 1, again));
    assert_memory_not_equal(key, again, RN_AUTH_KEY_BYTES);
    /* Any bytes, NUL included. */
    static const uint8_t binary[] = { 0, 1, 0, 255 };
    assert_true(rn_auth_derive_key(binary, sizeof binary, again));
    assert_false(rn_auth_derive_key(secret, 0, again));
    assert_false(rn_auth_derive_key(NULL, 4, again));
}

static void proof_is_hmac_sha512_256_over_the_transcript(void **state)
{
    (void)state;
    uint8_t key[RN_AUTH_KEY_BYTES];
    assert_true(rn_auth_derive_key("k", 1, key));
    uint8_t proof[RN_AUTH_PROOF_BYTES];
    assert_true(rn_auth_proof(key, 0x0102030405060708ull, 0x1112131415161718ull, 0x5u, 0x302u,
                              proof));
    /* "rollnet-auth-v1" || sender nonce || receiver nonce || sender mask ||
     * receiver mask, little-endian. */
    uint8_t t[15 + 8 + 8 + 4 + 4];
    memcpy(t, "rollnet-auth-v1", 15);
    for (int i = 0; i < 8; i++) {
        t[15 + i] = (uint8_t)(8 - i);
        t[23 + i] = (uint8_t)(0x18 - i);
    }
    t[31] = 5;
    t[32] = t[33] = t[34] = 0;
    t[35] = 2;
    t[36] = 3;
    t[37] = t[38] = 0;
    uint8_t want[RN_AUTH_PROOF_BYTES];
    crypto_auth_hmacsha512256(want, t, sizeof t, key);
    assert_memory_equal(proof, want, RN_AUTH_PROOF_BYTES);
}

static void proof_verifies_only_for_its_own_key_nonces_and_players(void **state)
{
    (void)state;
    uint8_t key[RN_AUTH_KEY_BYTES], other[RN_AUTH_KEY_BYTES];
    assert_true(rn_auth_derive_key("invite-1234", 11, key));
    assert_true(rn_auth_derive_key("invite-1235", 11, other));
    const uint64_t a = 0xaaaa0001, b = 0xbbbb0002;
    uint8_t proof[RN_AUTH_PROOF_BYTES];
    assert_true(rn_auth_proof(key, a, b, 0x1u, 0x2u, proof));
    assert_true(rn_auth_verify(key, a, b, 0x1u, 0x2u, proof));
    assert_false(rn_auth_verify(other, a, b, 0x1u, 0x2u, proof)); /* another key */
    assert_false(rn_auth_verify(key, a, b + 1, 0x1u, 0x2u, proof)); /* a new nonce: replay */
    assert_false(rn_auth_verify(key, a + 1, b, 0x1u, 0x2u, proof));
    assert_false(rn_auth_verify(key, b, a, 0x2u, 0x1u, proof)); /* reflected to its sender */
    assert_false(rn_auth_verify(key, b, a, 0x1u, 0x2u, proof));
    assert_false(rn_auth_verify(key, a, b, 0x4u, 0x2u, proof)); /* other players claimed */
    assert_false(rn_auth_verify(key, a, b, 0x1u, 0x4u, proof)); /* relayed to another host */
    for (int i = 0; i < RN_AUTH_PROOF_BYTES; i++) {
        uint8_t bad[RN_AUTH_PROOF_BYTES];
        memcpy(bad, proof, sizeof bad);
        bad[i] ^= 0x01;
        assert_false(rn_auth_verify(key, a, b, 0x1u, 0x2u, bad));
    }
    /* Each direction has its own proof. */
    uint8_t back[RN_AUTH_PROOF_BYTES];
    assert_true(rn_auth_proof(key, b, a, 0x2u, 0x1u, back));
    assert_memory_not_equal(proof, back, RN_AUTH_PROOF_BYTES);
}

/* A resume's proof covers the challenge: a recorded one does not verify
 * against the next challenge, nor as the handshake's proof. */
static void resume_proof_verifies_only_for_its_challenge(void **state)
{
    (void)state;
    uint8_t key[RN_AUTH_KEY_BYTES], other[RN_AUTH_KEY_BYTES];
    assert_true(rn_auth_derive_key("invite-1234", 11, key));
    assert_true(rn_auth_derive_key("invite-1235", 11, other));
    const uint64_t a = 0xaaaa0001, b = 0xbbbb0002;
    uint8_t proof[RN_AUTH_PROOF_BYTES];
    assert_true(rn_auth_resume_proof(key, a, b, 0x1u, 0x2u, 7, proof));
    assert_true(rn_auth_resume_verify(key, a, b, 0x1u, 0x2u, 7, proof));
    assert_false(rn_auth_resume_verify(key, a, b, 0x1u, 0x2u, 8, proof)); /* replayed */
    assert_false(rn_auth_resume_verify(other, a, b, 0x1u, 0x2u, 7, proof));
    assert_false(rn_auth_resume_verify(key, b, a, 0x2u, 0x1u, 7, proof));
    assert_false(rn_auth_resume_verify(key, a, b, 0x3u, 0x2u, 7, proof));
    assert_false(rn_auth_verify(key, a, b, 0x1u, 0x2u, proof)); /* not a handshake proof */
    uint8_t hs[RN_AUTH_PROOF_BYTES];
    assert_true(rn_auth_proof(key, a, b, 0x1u, 0x2u, hs));
    assert_false(rn_auth_resume_verify(key, a, b, 0x1u, 0x2u, 0, hs));
}

static void wipe_zeroes_the_key(void **state)
{
    (void)state;
    uint8_t key[RN_AUTH_KEY_BYTES];
    assert_true(rn_auth_derive_key("x", 1, key));
    rn_auth_wipe(key);
    static const uint8_t zero[RN_AUTH_KEY_BYTES];
    assert_memory_equal(key, zero, RN_AUTH_KEY_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_is_blake2b_of_the_secret_with_rollnets_personalisation),
        cmocka_unit_test(proof_is_hmac_sha512_256_over_the_transcript),
        cmocka_unit_test(proof_verifies_only_for_its_own_key_nonces_and_players),
        cmocka_unit_test(resume_proof_verifies_only_for_its_challenge),
        cmocka_unit_test(wipe_zeroes_the_key),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

#else /* built without libsodium */

static void without_libsodium_nothing_derives_or_verifies(void **state)
{
    (void)state;
    uint8_t key[RN_AUTH_KEY_BYTES] = { 0 }, proof[RN_AUTH_PROOF_BYTES] = { 0 };
    assert_false(rn_auth_derive_key("x", 1, key));
    assert_false(rn_auth_proof(key, 1, 2, 1, 2, proof));
    assert_false(rn_auth_verify(key, 1, 2, 1, 2, proof));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_libsodium_nothing_derives_or_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
