/* SPDX-License-Identifier: Apache-2.0 */
/* xarch: multi-architecture container image builds, as a library. The C API (C99), the only part
 * of xarch with a stable ABI: libxarch.so.0, linked as xarch::c (CMake) or `pkg-config xarch`.
 *
 * Conventions, the same for every xarch_* function:
 *
 * Errors. A function that can fail returns int: XARCH_OK (0), or a negative XARCH_E* code
 *   (<xarch/error.h>). Details of the failure are in xarch_error_last(), per thread. Predicates
 *   (xarch_platform_equal, xarch_platform_matcher_match, ...) return 1 or 0, or a negative code.
 *   Plain getters and _free/_dispose functions return no status and leave the last error alone,
 *   except that a getter given a NULL handle or an index out of range sets XARCH_EINVAL and returns
 *   NULL (pointers), 0 (sizes, hashes) or XARCH_EINVAL (int getters such as
 *   xarch_emulator_list_present). No NULL argument crashes the library; it gives XARCH_EINVAL
 *   unless the documentation allows NULL.
 *
 * Ownership. Opaque handles (xarch_platform, lists, matchers) come back through an `out`
 *   parameter, always the first, and belong to the caller, who releases each with its
 *   xarch_<type>_free(); _free(NULL) is a no-op. On failure *out is set to NULL (when `out` is not
 *   NULL). Getters return borrowed pointers valid until their handle is freed; never free them.
 *   Strings and string lists the library makes come back in xarch_buf / xarch_strarray, released
 *   with xarch_buf_dispose / xarch_strarray_dispose; never call free() on library memory. Input
 *   strings are UTF-8, NUL-terminated, and copied before the function returns. Handles do not
 *   depend on each other's lifetime unless a getter says it borrows.
 *
 * Threads. Every function may be called from any thread. All handles of this version are
 *   immutable once made, so one handle may be read from several threads at once; freeing a handle
 *   must not race with its use. The last error is per thread. xarch_registry is not immutable but
 *   thread-safe: it may run operations from several threads at once.
 *
 * Versions. XARCH_VERSION_* describe the headers, xarch_version() the loaded library. Options
 *   structs start with `unsigned int version`; set it with the struct's _INIT macro or _init()
 *   function. Enum values are fixed; later versions may add values, so tolerate unknown ones.
 *
 * Initialization. Call xarch_init() first and xarch_shutdown() at the end (reference-counted). */
#ifndef XARCH_H
#define XARCH_H

#include "xarch/builder.h"
#include "xarch/builders.h"
#include "xarch/common.h"
#include "xarch/context.h"
#include "xarch/emulators.h"
#include "xarch/error.h"
#include "xarch/export.h"
#include "xarch/platform.h"
#include "xarch/reference.h"
#include "xarch/registry.h"

#endif /* XARCH_H */
