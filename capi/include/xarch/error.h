/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: error codes and the last error of the calling thread. Part of the stable C ABI
 * (libxarch.so.0). */
#ifndef XARCH_ERROR_H
#define XARCH_ERROR_H

#include "xarch/export.h"

XARCH_EXTERN_C_BEGIN

/* Status codes. Functions that can fail return XARCH_OK (0) or one of these negative codes.
 * Values are fixed and new codes may be added: treat an unknown negative value as a failure. */
#define XARCH_OK 0
#define XARCH_EINVAL (-1)       /* malformed input: a platform string, a NULL argument, a flag */
#define XARCH_ENOTFOUND (-2)    /* a named thing does not exist; no candidate matches */
#define XARCH_EPERM (-3)        /* privileges are missing (root for binfmt_misc) */
#define XARCH_EUNSUPPORTED (-4) /* the host, kernel or library version cannot do this */
#define XARCH_EIO (-5)          /* an operating-system call failed */
#define XARCH_EEXIST (-6)       /* the thing to create is already there */
#define XARCH_ECANCELLED (-7)   /* the caller cancelled */
#define XARCH_EINTERNAL (-8)    /* a bug in xarch */
#define XARCH_ENOMEM (-9)       /* out of memory */
#define XARCH_EUSER (-10)       /* a callback asked to stop (returned nonzero) */
#define XARCH_EAUTH (-11)       /* credentials are missing or were refused */
#define XARCH_EDIGEST (-12)     /* content does not match its digest or size */
#define XARCH_EREGISTRY (-13)   /* a registry answered with an error */
#define XARCH_ENETWORK (-14)    /* a connection failed, was reset or timed out */
/* A build step ran and failed: a RUN exited non-zero or was killed. The class name is
 * "xarch::BuildError"; xarch_error_last_location() gives the step's Dockerfile lines when known.
 * @since 0.1 */
#define XARCH_EBUILD (-15)

/* What went wrong in the last failed call on this thread. */
typedef struct xarch_error {
    int code;               /* XARCH_OK or a negative XARCH_E* code */
    const char* class_name; /* the library's classification, e.g. "xarch::Error"; "" on success */
    const char* message;    /* UTF-8, one line, for people; "" on success */
} xarch_error;

/* The error state of the calling thread: never NULL, never freed by the caller.
 *
 * Every function that returns a status code sets it: on failure to the code and message of that
 * failure, on success to {XARCH_OK, "", ""}. Getters, _free and _dispose functions leave it alone
 * unless they fail (a NULL handle, an index out of range). The pointer, and the strings it points
 * to, stay valid until the next xarch_* call on the same thread; copy the message to keep it.
 * Each thread has its own state, so errors of other threads never show here. */
XARCH_API const xarch_error* xarch_error_last(void);

/* Where the last error was found, for errors tied to a file (a Dockerfile that does not parse, a
 * bad instruction or flag, an unknown stage). */
typedef struct xarch_error_location {
    const char* file; /* the file name as the caller gave it; "" when the error has no place */
    int start_line;   /* 1-based first line; 0 when the error is not tied to a line */
    int end_line;     /* last line (>= start_line); 0 when start_line is 0 */
} xarch_error_location;

/* The place of the calling thread's last error: never NULL, never freed by the caller. It changes
 * with xarch_error_last() and stays valid as long as it does; {"", 0, 0} when the last error has
 * no place (or there was none). Thread-safe in the same way as xarch_error_last().
 * @since 0.1 */
XARCH_API const xarch_error_location* xarch_error_last_location(void);

/* The symbolic name of a status code: "XARCH_OK", "XARCH_EINVAL", ...; "XARCH_E?" for a code this
 * version does not know. A static string: never NULL, never freed. Thread-safe. Cannot fail and
 * does not touch the error state. */
XARCH_API const char* xarch_error_code_name(int code);

XARCH_EXTERN_C_END

#endif /* XARCH_ERROR_H */
