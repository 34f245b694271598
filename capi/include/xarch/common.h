/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: version, features, library initialization, and the memory the library hands out
 * (xarch_buf, xarch_strarray, xarch_free). Part of the stable C ABI (libxarch.so.0).
 *
 * The conventions every xarch_* function follows (errors, ownership, threads) are described once
 * in <xarch.h>. */
#ifndef XARCH_COMMON_H
#define XARCH_COMMON_H

#include "xarch/export.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- Version ------------------------------------------------------------------------------- */

/* The version of these headers (semantic versioning). Identical to the C++ header's
 * <xarch/version.hpp>, so both may be included in one translation unit. Compare with
 * xarch_version() to learn the version of the library actually loaded. */
#define XARCH_VERSION_MAJOR 0
#define XARCH_VERSION_MINOR 1
#define XARCH_VERSION_PATCH 0

/* The header version as one number, MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 -> 100). */
#define XARCH_VERSION_NUMBER \
    (XARCH_VERSION_MAJOR * 10000 + XARCH_VERSION_MINOR * 100 + XARCH_VERSION_PATCH)

/* Nonzero when these headers are version maj.min.patch or newer:
 *     #if XARCH_VERSION_CHECK(0, 2, 0)  ...use something added in 0.2...  #endif */
#define XARCH_VERSION_CHECK(maj, min, patch) \
    (XARCH_VERSION_NUMBER >= ((maj)*10000 + (min)*100 + (patch)))

/* The version of the loaded library, "MAJOR.MINOR.PATCH" (e.g. "0.1.0").
 * Returns a static string: never NULL, never freed. Thread-safe. Cannot fail. */
XARCH_API const char* xarch_version(void);

/* The C ABI generation of the loaded library: the N of libxarch.so.N (0 for now).
 * Thread-safe. Cannot fail. */
XARCH_API int xarch_abi_version(void);

/* ---- Features ------------------------------------------------------------------------------ */

/* Bits of xarch_features(). New bits may appear in later versions; ignore unknown ones. */
#define XARCH_FEATURE_PLATFORM 0x1u  /* xarch_platform_* */
#define XARCH_FEATURE_EMULATORS 0x2u /* xarch_emulators_* (Linux binfmt_misc) */
#define XARCH_FEATURE_REGISTRY 0x4u  /* xarch_reference_*, xarch_registry_* */
#define XARCH_FEATURE_CONTEXT 0x8u   /* xarch_context_*, xarch_scan_* */
#define XARCH_FEATURE_BUILDER 0x10u  /* xarch_builder_*, xarch_build_* (@since 0.1) */

/* What this build of the library supports, as XARCH_FEATURE_* bits.
 * Thread-safe. Cannot fail. */
XARCH_API uint32_t xarch_features(void);

/* ---- Initialization ------------------------------------------------------------------------ */

/* Reference-counted library initialization, in the manner of curl_global_init(): call
 * xarch_init() before using the library and xarch_shutdown() once for every xarch_init() that
 * returned 0 when done. Nested pairs (from independent components of one program) are fine; the
 * last xarch_shutdown() tears down whatever global state exists. Version 0.1 has no global state
 * beyond the counter, but later versions may, so call them.
 *
 * xarch_init returns XARCH_OK (0) or a negative XARCH_E* code. Thread-safe.
 * xarch_shutdown without a matching xarch_init does nothing. Thread-safe. */
XARCH_API int xarch_init(void);
XARCH_API void xarch_shutdown(void);

/* ---- Memory the library hands out ---------------------------------------------------------- */

/* A string made by the library. `ptr` is NUL-terminated and `size` is its length without the NUL
 * (the text may contain no NUL itself). Owned by the caller: release it with xarch_buf_dispose().
 * Initialize with XARCH_BUF_INIT before passing it to a function that fills it; functions that
 * fill a buffer overwrite it without releasing what it held. */
typedef struct xarch_buf {
    char* ptr;
    size_t size;
} xarch_buf;

#define XARCH_BUF_INIT \
    { NULL, 0 }

/* Releases buf->ptr and resets *buf to XARCH_BUF_INIT. NULL or an empty buffer is a no-op.
 * A caller that prefers to keep `ptr` beyond the buffer may take it, reset the buffer to
 * XARCH_BUF_INIT, and later release the pointer with xarch_free(). */
XARCH_API void xarch_buf_dispose(xarch_buf* buf);

/* A list of strings made by the library: `count` NUL-terminated UTF-8 strings. Owned by the
 * caller: release it with xarch_strarray_dispose(). Initialize with XARCH_STRARRAY_INIT. The
 * `strings` array and each string are separate allocations that may also be released one by one
 * with xarch_free() by a caller that takes them over. */
typedef struct xarch_strarray {
    char** strings;
    size_t count;
} xarch_strarray;

#define XARCH_STRARRAY_INIT \
    { NULL, 0 }

/* Releases every string and the array, and resets *array to XARCH_STRARRAY_INIT.
 * NULL or an empty array is a no-op. */
XARCH_API void xarch_strarray_dispose(xarch_strarray* array);

/* Releases memory the documentation says is "released with xarch_free()" (a pointer taken out of
 * an xarch_buf or xarch_strarray). NULL is a no-op. Never use it on handles (they have their own
 * xarch_<type>_free) and never use free() on library memory. */
XARCH_API void xarch_free(void* ptr);

XARCH_EXTERN_C_END

#endif /* XARCH_COMMON_H */
