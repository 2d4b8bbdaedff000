/* Private sessions: the session key and the handshake's proof of it. Internal.
 *
 * The key is derived from the desc's secret bytes with BLAKE2b (a fixed
 * personalisation, so a passphrase serves as it is); a proof is libsodium's
 * crypto_auth (HMAC-SHA-512-256) over a domain-separated transcript:
 *
 *   "rollnet-auth-v1" || sender nonce || receiver nonce || sender players ||
 *   receiver players
 *
 * (integers little-endian, 8, 8, 4 and 4 bytes; players as masks). The
 * receiver's fresh nonce makes a recorded proof useless in a later session;
 * the order of the nonces and the players keep a proof from being reflected
 * back to its sender, and the receiver's players keep it from being relayed:
 * a peer that accepts a stranger claiming some players proves nothing to a
 * peer hosting other players. Pure computations: no globals, no I/O (libsodium's sodium_init is
 * the plugin layer's business). Without libsodium (ROLLNET_HAVE_SESSION_KEY
 * 0) every call fails. */
#ifndef RN_AUTH_H
#define RN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollnet/rollnet.h"

#define RN_AUTH_KEY_BYTES 32   /* crypto_auth_KEYBYTES */
#define RN_AUTH_PROOF_BYTES 32 /* crypto_auth_BYTES: an AUTH message's proof */

/* The session key of `secret` (size >= 1). False without libsodium or
 * without a secret. */
bool rn_auth_derive_key(const void *secret, size_t size, uint8_t key[RN_AUTH_KEY_BYTES]);

/* The proof a peer with nonce `sender_nonce` and players `sender_mask` sends
 * to the peer with nonce `receiver_nonce` and players `receiver_mask` (as its
 * HELLO said). False without libsodium. */
bool rn_auth_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                   uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                   uint8_t proof[RN_AUTH_PROOF_BYTES]);

/* True when `proof` is the one rn_auth_proof makes for these values (compared
 * in constant time). */
bool rn_auth_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                    uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                    const uint8_t proof[RN_AUTH_PROOF_BYTES]);

/* Reconnecting (RESUME, p2p_reconnect.c): the proof the reconnecting peer
 * sends, the same construction over its own transcript,
 *
 *   "rollnet-resume-v1" || sender nonce || receiver nonce || sender players ||
 *   receiver players || challenge
 *
 * (the nonces of the first handshake; the challenge, 8 bytes, is one the
 * receiver never issued before in this session), so a recorded resume
 * cannot be replayed. False without libsodium. */
bool rn_auth_resume_proof(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                          uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                          uint64_t challenge, uint8_t proof[RN_AUTH_PROOF_BYTES]);
bool rn_auth_resume_verify(const uint8_t key[RN_AUTH_KEY_BYTES], uint64_t sender_nonce,
                           uint64_t receiver_nonce, uint32_t sender_mask, uint32_t receiver_mask,
                           uint64_t challenge, const uint8_t proof[RN_AUTH_PROOF_BYTES]);

/* Overwrites the key in a way the compiler keeps. */
void rn_auth_wipe(uint8_t key[RN_AUTH_KEY_BYTES]);

#endif
