/* libFuzzer target: the input decompressor INPUT and LEAVE messages carry
 * (rn_inputs_decompress), and its compressor.
 *
 * Input: [block size - 1][max frames][compressed bytes...]; block sizes
 * 1..ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE, max frames 0..255.
 *
 * Invariants: the result is -1 or 0..max_frames; the output buffer (exactly
 * max_frames blocks, so ASan sees a write past it) is written only in its
 * first result * block_size bytes on success; the canonical re-compression
 * of what was accepted is no longer than the input and decompresses to the
 * same blocks; and the compressor round-trips the raw bytes taken as blocks,
 * its measuring mode (no output) agreeing with the length it writes. */
#include <string.h>

#include "fuzz_common.h"
#include "protocol.h"

#define BLOCK_MAX (ROLLNET_MAX_PLAYERS * ROLLNET_MAX_INPUT_SIZE)
#define CANARY 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_target_name = "fuzz_inputs";
    return 0;
}

static uint8_t *alloc_exact(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        abort();
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    int bs = 1 + data[0] % BLOCK_MAX;
    int max_frames = data[1];
    const uint8_t *rle = data + 2;
    size_t len = size - 2;
    size_t cap = (size_t)max_frames * (size_t)bs;

    uint8_t *out = alloc_exact(cap);
    memset(out, CANARY, cap);
    int n = rn_inputs_decompress(len ? rle : NULL, len, bs, out, max_frames);
    FUZZ_CHECK(n >= -1 && n <= max_frames, "decompress returned %d with max_frames %d", n,
               max_frames);
    if (n >= 0) {
        size_t used = (size_t)n * (size_t)bs;
        for (size_t i = used; i < cap; i++) {
            FUZZ_CHECK(out[i] == CANARY, "decompress wrote byte %zu past its %d blocks", i, n);
        }
        /* The canonical form of what was accepted. */
        uint8_t *again = alloc_exact(len);
        size_t again_len = 0, measured = 0;
        FUZZ_CHECK(rn_inputs_compress(out, n, bs, again, len, &again_len),
                   "accepted data re-compresses to more than its %zu bytes", len);
        FUZZ_CHECK(rn_inputs_compress(out, n, bs, NULL, 0, &measured) && measured == again_len,
                   "measuring gives %zu bytes, writing %zu", measured, again_len);
        uint8_t *back = alloc_exact(cap);
        int m = rn_inputs_decompress(again_len ? again : NULL, again_len, bs, back, max_frames);
        FUZZ_CHECK(m == n && memcmp(back, out, used) == 0,
                   "the canonical form decompresses to %d blocks, not the same %d", m, n);
        free(back);
        free(again);
    }
    free(out);

    /* The compressor on the raw bytes taken as blocks. */
    int count = (int)(len / (size_t)bs);
    if (count > RN_MAX_INPUT_FRAMES) {
        count = RN_MAX_INPUT_FRAMES;
    }
    size_t raw = (size_t)count * (size_t)bs;
    /* Worst case: a zero run of 1 costs 2 bytes per input byte. */
    size_t ccap = 2 * raw;
    uint8_t *packed = alloc_exact(ccap);
    size_t packed_len = 0, measured = 0;
    FUZZ_CHECK(rn_inputs_compress(rle, count, bs, packed, ccap, &packed_len),
               "%d blocks of %d bytes do not compress into %zu bytes", count, bs, ccap);
    FUZZ_CHECK(rn_inputs_compress(rle, count, bs, NULL, 0, &measured) && measured == packed_len,
               "measuring gives %zu bytes, writing %zu", measured, packed_len);
    if (packed_len > 0) {
        FUZZ_CHECK(!rn_inputs_compress(rle, count, bs, packed, packed_len - 1, &measured),
                   "compress claims to fit one byte short of its length");
    }
    uint8_t *unpacked = alloc_exact(raw);
    int got = rn_inputs_decompress(packed_len ? packed : NULL, packed_len, bs, unpacked, count);
    FUZZ_CHECK(got == count && memcmp(unpacked, rle, raw) == 0,
               "compress then decompress of %d blocks gives %d blocks or other bytes", count, got);
    free(unpacked);
    free(packed);
    return 0;
}
