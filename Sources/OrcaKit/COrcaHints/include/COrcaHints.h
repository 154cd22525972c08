#ifndef ORCA_HINTS_H
#define ORCA_HINTS_H

/// Asks the CPU to start loading the cache line at `address` (for reading). A hint only: it never
/// faults, whatever the address, and changes no result.
static inline __attribute__((always_inline)) void orca_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
