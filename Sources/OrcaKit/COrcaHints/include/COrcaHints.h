#ifndef ORCA_HINTS_H
#define ORCA_HINTS_H

#include <stddef.h>
#include <stdint.h>

/// Asks the CPU to start loading the cache line at `address` (for reading). A hint only: it never
/// faults, whatever the address, and changes no result.
static inline __attribute__((always_inline)) void orca_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 metadata and LevelDB records) of `length`
/// bytes: with the CPU's CRC32 instruction where it has one (SSE 4.2, ARMv8 CRC), else in
/// software. Initial value and final XOR 0xFFFFFFFF; crc32c("123456789") == 0xE3069283.
uint32_t orca_crc32c(const void *data, size_t length);

#endif
