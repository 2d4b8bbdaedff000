/* Private sessions: key derivation and the handshake's proof (auth.h). */
#include <string.h>

#include "auth.h"

#if ROLLNET_HAVE_SESSION_KEY
#include <sodium.h>

_Static_assert(RN_AUTH_KEY_BYTES == crypto_auth_KEYBYTES, "the session key is crypto_auth's key");
_Static_assert(RN_AUTH_PROOF_BYTES == crypto_auth_BYTES, "a proof is one crypto_auth tag");
_Static_assert(RN_AUTH_KEY_BYTES >= crypto_generichash_blake2b_BYTES_MIN &&
                   RN_AUTH_KEY_BYTES <= crypto_generichash_blake2b_BYTES_MAX,
               "BLAKE2b can make the key");

/* BLAKE2b's personalisation: 16 bytes naming what the hash is for. */
static const unsigned char key_personal[crypto_generichash_blake2b_PERSONALBYTES] =
    "rollnet-key-v1";
static const char transcript_label[] = "rollnet-auth-v1";
#define TRANSCRIPT_BYTES (sizeof(transcript_label) - 1 + 8 + 8 + 4 + 4)

static void put_le(uint8_t *out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        out[i] = (uint8_t)(v >> (8 * i));
    }
}

static void transcript(uint64_t sender_nonce, uint64_t receiver_nonce, uint32_t sender_mask,
                       uint32_t receiver_mask, uint8_t out[TRANSCRIPT_BYTES])
{
    size_t n = sizeof(transcript_label) - 1;
    memcpy(out, transcript_label, n);
    put_le(out + n, sender_nonce, 8);
    put_le(out + n + 8, receiver_nonce, 8);
    put_le(out + n + 16, sender_mask, 4);
    put_le(out + n + 20, receiver_mask, 4);
}

bool rn_auth_derive_key(const void *secret, size_t size, uint8_t key[RN_AUTH_KEY_BYTES])
{
    if (!secret || size == 0 || !key) {
        return false;
    }
    return crypto_generichash_blake2b_salt_personal(key, RN_AUTH_KEY_BYTES, secret, size, NULL,
                                                    0, NULL, key_personal) == 0;
}

bool rn_auth_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                   uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                   uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    uint8_t t[TRANSCRIPT_BYTES];
    transcript(sender_nonce, receiver_nonce, sender_mask, receiver_mask, t);
    return crypto_auth(proof, t, sizeof t, key) == 0;
}

bool rn_auth_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                    uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                    const uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    uint8_t t[TRANSCRIPT_BYTES];
    transcript(sender_nonce, receiver_nonce, sender_mask, receiver_mask, t);
    return crypto_auth_verify(proof, t, sizeof t, key) == 0;
}

/* A resume's transcript: its own label, the handshake's fields, then the
 * challenge (8 bytes, little-endian). */
static const char resume_label[] = "rollnet-resume-v1";
#define RESUME_BYTES (sizeof(resume_label) - 1 + 8 + 8 + 4 + 4 + 8)

static void resume_transcript(uint64_t sender_nonce, uint64_t receiver_nonce,
                              uint32_t sender_mask, uint32_t receiver_mask, uint64_t challenge,
                              uint8_t out[RESUME_BYTES])
{
    size_t n = sizeof(resume_label) - 1;
    memcpy(out, resume_label, n);
    put_le(out + n, sender_nonce, 8);
    put_le(out + n + 8, receiver_nonce, 8);
    put_le(out + n + 16, sender_mask, 4);
    put_le(out + n + 20, receiver_mask, 4);
    put_le(out + n + 24, challenge, 8);
}

bool rn_auth_resume_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                          uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                          uint64_t challenge, uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    uint8_t t[RESUME_BYTES];
    resume_transcript(sender_nonce, receiver_nonce, sender_mask, receiver_mask, challenge, t);
    return crypto_auth(proof, t, sizeof t, key) == 0;
}

bool rn_auth_resume_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                           uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                           uint64_t challenge, const uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    uint8_t t[RESUME_BYTES];
    resume_transcript(sender_nonce, receiver_nonce, sender_mask, receiver_mask, challenge, t);
    return crypto_auth_verify(proof, t, sizeof t, key) == 0;
}

void rn_auth_wipe(uint8_t key[RN_AUTH_KEY_BYTES])
{
    sodium_memzero(key, RN_AUTH_KEY_BYTES);
}

#else /* built without libsodium: no key can be made, nothing verifies */

bool rn_auth_derive_key(const void *secret, size_t size, uint8_t key[RN_AUTH_KEY_BYTES])
{
    (void)secret;
    (void)size;
    (void)key;
    return false;
}

bool rn_auth_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                   uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                   uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    (void)key;
    (void)sender_nonce;
    (void)receiver_nonce;
    (void)sender_mask;
    (void)receiver_mask;
    memset(proof, 0, RN_AUTH_PROOF_BYTES);
    return false;
}

bool rn_auth_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                    uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                    const uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    (void)key;
    (void)sender_nonce;
    (void)receiver_nonce;
    (void)sender_mask;
    (void)receiver_mask;
    (void)proof;
    return false;
}

bool rn_auth_resume_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                          uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                          uint64_t challenge, uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    (void)challenge;
    return rn_auth_proof(key, sender_nonce, receiver_nonce, sender_mask, receiver_mask, proof);
}

bool rn_auth_resume_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                           uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                           uint64_t challenge, const uint8_t proof[RN_AUTH_PROOF_BYTES])
{
    (void)challenge;
    return rn_auth_verify(key, sender_nonce, receiver_nonce, sender_mask, receiver_mask, proof);
}

void rn_auth_wipe(uint8_t key[RN_AUTH_KEY_BYTES])
{
    volatile uint8_t *k = key;
    for (size_t i = 0; i < RN_AUTH_KEY_BYTES; i++) {
        k[i] = 0;
    }
}

#endif
