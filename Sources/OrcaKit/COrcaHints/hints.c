// The C helpers behind COrcaHints.h: prefetching is header-only; CRC-32C is here.
#include "COrcaHints.h"

#include <string.h>

// The reflected Castagnoli polynomial.
#define ORCA_CRC32C_POLY 0x82F63B78u

static uint32_t orca_crc32c_software(uint32_t crc, const unsigned char *p, size_t n) {
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (ORCA_CRC32C_POLY & (0u - (crc & 1u)));
    }
    return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t orca_crc32c_sse42(uint32_t crc, const unsigned char *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

uint32_t orca_crc32c(const void *data, size_t length) {
    // __builtin_cpu_supports reads flags the runtime filled in at start-up: a load and a test.
    const unsigned char *p = (const unsigned char *)data;
    uint32_t crc = __builtin_cpu_supports("sse4.2") ? orca_crc32c_sse42(0xFFFFFFFFu, p, length)
                                                     : orca_crc32c_software(0xFFFFFFFFu, p, length);
    return crc ^ 0xFFFFFFFFu;
}

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>

uint32_t orca_crc32c(const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t crc = 0xFFFFFFFFu;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __crc32cd(crc, word);
        p += 8;
        length -= 8;
    }
    while (length--) crc = __crc32cb(crc, *p++);
    return crc ^ 0xFFFFFFFFu;
}

#else

uint32_t orca_crc32c(const void *data, size_t length) {
    return orca_crc32c_software(0xFFFFFFFFu, (const unsigned char *)data, length) ^ 0xFFFFFFFFu;
}

#endif
