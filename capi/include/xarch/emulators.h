/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: QEMU user-mode emulators registered in binfmt_misc, so that a host can run (and so
 * build for) foreign platforms; the library's counterpart of `tonistiigi/binfmt --install`. Part
 * of the stable C ABI (libxarch.so.0). C++: xarch::emulators in <xarch/emulators.hpp>.
 *
 * The functions below may be called from several threads at once (they share no handles); what
 * they do to binfmt_misc is not atomic across processes or threads. Needs
 * XARCH_FEATURE_EMULATORS (Linux); elsewhere they fail with XARCH_EUNSUPPORTED. */
#ifndef XARCH_EMULATORS_H
#define XARCH_EMULATORS_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"
#include "xarch/platform.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- Options ------------------------------------------------------------------------------- */

/* Bits of xarch_emulators_options.flags. */
/* Register handlers with binfmt's P flag (preserve argv[0]); off by default, as in binfmt. */
#define XARCH_EMULATORS_PRESERVE_ARGV0 0x1u

/* Where binfmt_misc and the emulators are. A versioned struct: set `version` to
 * XARCH_EMULATORS_OPTIONS_VERSION (XARCH_EMULATORS_OPTIONS_INIT or xarch_emulators_options_init()
 * do), and the library reads only the fields that existed in that version. Fields are only ever
 * appended. String fields are copied during the call; NULL means the default. Passing NULL instead
 * of an options pointer means all defaults. */
typedef struct xarch_emulators_options {
    unsigned int version; /* XARCH_EMULATORS_OPTIONS_VERSION */
    /* version 1 */
    const char* binfmt_mount; /* where binfmt_misc is (or gets) mounted;
                                 default "/proc/sys/fs/binfmt_misc" */
    const char* qemu_dir;     /* where the emulators are; default "/usr/bin" */
    const char* qemu_suffix;  /* emulator file names are <qemu_dir>/qemu-<cpu><qemu_suffix>;
                                 default "-static" ("" is no suffix) */
    uint32_t flags;           /* XARCH_EMULATORS_* bits; default 0 */
} xarch_emulators_options;

#define XARCH_EMULATORS_OPTIONS_VERSION 1
#define XARCH_EMULATORS_OPTIONS_INIT \
    { XARCH_EMULATORS_OPTIONS_VERSION, NULL, NULL, NULL, 0 }

/* Fills *out with the defaults for struct version `version` (normally
 * XARCH_EMULATORS_OPTIONS_VERSION). XARCH_EINVAL for NULL out or version 0; XARCH_EUNSUPPORTED for
 * a version newer than this library knows. */
XARCH_API int xarch_emulators_options_init(xarch_emulators_options* out, unsigned int version);

/* Every function below that takes options fails with XARCH_EINVAL for version 0 or unknown flag
 * bits, and with XARCH_EUNSUPPORTED for a version newer than this library knows. */

/* ---- xarch_emulator_list: the emulators xarch knows ---------------------------------------- */

/* An immutable list of emulators. Owned by the caller (xarch_emulator_list_free); the strings and
 * platforms its getters return are borrowed from it, valid until it is freed. */
typedef struct xarch_emulator_list xarch_emulator_list;

/* Every emulator xarch knows for a foreign platform of this host, with its state. Reads
 * binfmt_misc (mounting it when absent and allowed). On success *out is a new list; on failure
 * *out is NULL: XARCH_EUNSUPPORTED when the kernel has no binfmt_misc, XARCH_EPERM when it is not
 * mounted and cannot be, XARCH_EIO for other system errors. */
XARCH_API int xarch_emulators_list(xarch_emulator_list** out,
                                   const xarch_emulators_options* options);

/* The number of emulators; 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API size_t xarch_emulator_list_size(const xarch_emulator_list* list);
/* The platform it runs, normalized (e.g. linux/arm64). Borrowed; do not free. */
XARCH_API const xarch_platform* xarch_emulator_list_platform(const xarch_emulator_list* list,
                                                             size_t index);
/* Its handler name, e.g. "qemu-aarch64". Borrowed. */
XARCH_API const char* xarch_emulator_list_name(const xarch_emulator_list* list, size_t index);
/* Its interpreter path on this host, e.g. "/usr/bin/qemu-aarch64-static". Borrowed. */
XARCH_API const char* xarch_emulator_list_path(const xarch_emulator_list* list, size_t index);
/* 1 when the interpreter exists on this host, else 0. */
XARCH_API int xarch_emulator_list_present(const xarch_emulator_list* list, size_t index);
/* 1 when an enabled binfmt_misc handler runs this platform's binaries, else 0. */
XARCH_API int xarch_emulator_list_registered(const xarch_emulator_list* list, size_t index);
/* The getters above return NULL (pointers) or XARCH_EINVAL (ints), and set XARCH_EINVAL, for a
 * NULL list or an index out of range. */

/* Releases the list and everything borrowed from it. NULL is a no-op. */
XARCH_API void xarch_emulator_list_free(xarch_emulator_list* list);

/* ---- xarch_handler_list: binfmt_misc's entries --------------------------------------------- */

/* An immutable list of binfmt_misc handlers, whoever registered them. Owned by the caller
 * (xarch_handler_list_free); what its getters return is borrowed from it. */
typedef struct xarch_handler_list xarch_handler_list;

/* binfmt_misc's handlers, by name. Mounts binfmt_misc when absent and allowed. Ownership and
 * errors as xarch_emulators_list. */
XARCH_API int xarch_emulators_handlers(xarch_handler_list** out,
                                       const xarch_emulators_options* options);

/* The number of handlers; 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API size_t xarch_handler_list_size(const xarch_handler_list* list);
/* Its file name in binfmt_misc, e.g. "qemu-aarch64". Borrowed. */
XARCH_API const char* xarch_handler_list_name(const xarch_handler_list* list, size_t index);
/* 1 when enabled, else 0. */
XARCH_API int xarch_handler_list_enabled(const xarch_handler_list* list, size_t index);
/* The interpreter, e.g. "/usr/bin/qemu-aarch64-static". Borrowed. */
XARCH_API const char* xarch_handler_list_interpreter(const xarch_handler_list* list, size_t index);
/* The flags as the kernel reports them, e.g. "OCF" ("" for none). Borrowed. */
XARCH_API const char* xarch_handler_list_flags(const xarch_handler_list* list, size_t index);
/* The magic and mask in lower-case hex ("" when absent). Borrowed. */
XARCH_API const char* xarch_handler_list_magic(const xarch_handler_list* list, size_t index);
XARCH_API const char* xarch_handler_list_mask(const xarch_handler_list* list, size_t index);
/* Where in the file the magic is compared (0 also for a NULL list or an index out of range). */
XARCH_API size_t xarch_handler_list_offset(const xarch_handler_list* list, size_t index);
/* The file name extension of an extension handler, e.g. ".exe" ("" for magic handlers).
 * Borrowed. */
XARCH_API const char* xarch_handler_list_extension(const xarch_handler_list* list, size_t index);
/* The Linux platform whose ELF binaries it runs, when its magic is the ELF header of a machine
 * xarch knows; NULL otherwise (without setting an error). Borrowed; do not free. */
XARCH_API const xarch_platform* xarch_handler_list_platform(const xarch_handler_list* list,
                                                            size_t index);
/* The getters above return NULL (pointers) or XARCH_EINVAL (ints), and set XARCH_EINVAL, for a
 * NULL list or an index out of range. */

/* Releases the list and everything borrowed from it. NULL is a no-op. */
XARCH_API void xarch_handler_list_free(xarch_handler_list* list);

/* ---- Runnable platforms -------------------------------------------------------------------- */

/* The platforms this host runs without emulation, best first (the host, then what its CPU and
 * kernel also run, e.g. linux/386 on amd64). On success *out is a new list
 * (xarch_platform_list_free); on failure *out is NULL. */
XARCH_API int xarch_emulators_native(xarch_platform_list** out);

/* The native platforms first, then those an enabled binfmt_misc handler emulates. Ownership as
 * xarch_emulators_native; errors as xarch_emulators_list. */
XARCH_API int xarch_emulators_runnable(xarch_platform_list** out,
                                       const xarch_emulators_options* options);

/* ---- Installing and removing --------------------------------------------------------------- */

/* What install/uninstall did for one platform. Values equal xarch::emulators::Outcome; new values
 * may be added, so tolerate unknown ones. */
typedef enum xarch_emulator_outcome {
    XARCH_EMULATOR_OUTCOME_INSTALLED = 1,         /* registered now */
    XARCH_EMULATOR_OUTCOME_ALREADY_INSTALLED = 2, /* an enabled handler was already there */
    XARCH_EMULATOR_OUTCOME_NATIVE = 3,            /* the host runs it natively: nothing to do */
    XARCH_EMULATOR_OUTCOME_UNINSTALLED = 4,       /* handler removed */
    XARCH_EMULATOR_OUTCOME_NOT_INSTALLED = 5      /* nothing to remove */
} xarch_emulator_outcome;

/* An immutable list of changes. Owned by the caller (xarch_emulator_change_list_free); what its
 * getters return is borrowed from it. */
typedef struct xarch_emulator_change_list xarch_emulator_change_list;

/* Registers emulators in binfmt_misc (flags F and C, plus P with XARCH_EMULATORS_PRESERVE_ARGV0).
 * `spec` is "all" (every present emulator for a non-native platform) or a comma list of platforms
 * or emulator names ("arm64,arm", "qemu-riscv64"). Everything is validated before anything is
 * registered. Needs root. On success *out is a new list with one change per platform; on failure
 * *out is NULL: XARCH_EINVAL for a bad spec, XARCH_ENOTFOUND for an unknown or absent emulator,
 * XARCH_EPERM without the privilege, XARCH_EUNSUPPORTED without binfmt_misc, XARCH_EIO. */
XARCH_API int xarch_emulators_install(xarch_emulator_change_list** out,
                                      const char* spec,
                                      const xarch_emulators_options* options);

/* Removes the handlers that run the platforms of `spec` ("all": every handler for a platform xarch
 * knows). Needs root. Ownership and errors as xarch_emulators_install. */
XARCH_API int xarch_emulators_uninstall(xarch_emulator_change_list** out,
                                        const char* spec,
                                        const xarch_emulators_options* options);

/* The number of changes; 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API size_t xarch_emulator_change_list_size(const xarch_emulator_change_list* list);
/* The handler name, e.g. "qemu-aarch64". Borrowed. */
XARCH_API const char* xarch_emulator_change_list_name(const xarch_emulator_change_list* list,
                                                      size_t index);
/* The platform. Borrowed; do not free. */
XARCH_API const xarch_platform* xarch_emulator_change_list_platform(
    const xarch_emulator_change_list* list, size_t index);
/* What happened: an XARCH_EMULATOR_OUTCOME_* value (> 0). */
XARCH_API int xarch_emulator_change_list_outcome(const xarch_emulator_change_list* list,
                                                 size_t index);
/* The getters above return NULL (pointers) or XARCH_EINVAL (ints), and set XARCH_EINVAL, for a
 * NULL list or an index out of range. */

/* Releases the list and everything borrowed from it. NULL is a no-op. */
XARCH_API void xarch_emulator_change_list_free(xarch_emulator_change_list* list);

XARCH_EXTERN_C_END

#endif /* XARCH_EMULATORS_H */
