/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: build contexts. A context is a directory (or a tar stream of one) plus what
 * `docker buildx build` sends with it: the Dockerfile, build args, labels, target, named
 * contexts, secrets and SSH agents. Scanning it lists the entries a build would see, after the
 * .dockerignore rules, with sha256 digests of the files; COPY sources resolve against a scan.
 * Part of the stable C ABI (libxarch.so.0). C++: xarch::BuildContext in <xarch/context.hpp>.
 *
 * Threads: an xarch_context may be shared by threads; its scans are serialized. An
 * xarch_context_files list is immutable. */
#ifndef XARCH_CONTEXT_H
#define XARCH_CONTEXT_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- Options ------------------------------------------------------------------------------- */

/* The settings of a context, as buildx's flags give them. A versioned struct: set `version` with
 * XARCH_CONTEXT_OPTIONS_INIT or xarch_context_options_init(); the library reads only the fields
 * of that version. Strings and arrays are copied during the call; NULL means none. Each array
 * holds `*_count` NUL-terminated strings in the flag's own syntax; a bad one fails the call with
 * XARCH_EINVAL (or XARCH_ENOTFOUND for a missing file or directory) quoting it. */
typedef struct xarch_context_options {
    unsigned int version; /* XARCH_CONTEXT_OPTIONS_VERSION */
    /* version 1 */
    const char* dockerfile;        /* -f PATH, relative to the current directory (for a tar
                                      context: inside the archive); NULL: <context>/Dockerfile */
    const char* dockerfile_text;   /* -f -: the Dockerfile's text itself; wins over dockerfile */
    const char* target;            /* --target; NULL: the last stage */
    const char* const* build_args; /* --build-arg "NAME=VALUE" ("NAME": from the environment) */
    size_t build_args_count;
    const char* const* labels; /* --label "NAME=VALUE" */
    size_t labels_count;
    const char* const* named_contexts; /* --build-context "name=DIR|docker-image://REF|
                                          oci-layout://PATH|URL" */
    size_t named_contexts_count;
    const char* const* secrets; /* --secret "id=ID,src=FILE" or "id=ID,env=VAR" */
    size_t secrets_count;
    const char* const* ssh; /* --ssh "default" or "ID=SOCKET|KEY[,...]" */
    size_t ssh_count;
} xarch_context_options;

#define XARCH_CONTEXT_OPTIONS_VERSION 1
#define XARCH_CONTEXT_OPTIONS_INIT \
    { XARCH_CONTEXT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 }

/* Fills *out with the defaults for struct version `version` (normally
 * XARCH_CONTEXT_OPTIONS_VERSION). XARCH_EINVAL for NULL out or version 0; XARCH_EUNSUPPORTED for
 * a version newer than this library knows. @since 0.1 */
XARCH_API int xarch_context_options_init(xarch_context_options* out, unsigned int version);

/* Bits of xarch_scan_options.flags. */
#define XARCH_SCAN_NO_CACHE 0x1u /* hash every file; neither read nor write the stat cache */

/* How to scan. Versioned like xarch_context_options. */
typedef struct xarch_scan_options {
    unsigned int version; /* XARCH_SCAN_OPTIONS_VERSION */
    /* version 1 */
    const char* cache_dir; /* the stat cache's directory; NULL: $XDG_CACHE_HOME/xarch */
    unsigned int threads;  /* hashing threads; 0: one per core */
    uint32_t flags;        /* XARCH_SCAN_* bits */
} xarch_scan_options;

#define XARCH_SCAN_OPTIONS_VERSION 1
#define XARCH_SCAN_OPTIONS_INIT \
    { XARCH_SCAN_OPTIONS_VERSION, NULL, 0, 0 }

/* As xarch_context_options_init, for xarch_scan_options. @since 0.1 */
XARCH_API int xarch_scan_options_init(xarch_scan_options* out, unsigned int version);

/* ---- xarch_context ------------------------------------------------------------------------- */

typedef struct xarch_context xarch_context;

/* A context directory. On success *out is a new context (release it with xarch_context_free).
 * XARCH_ENOTFOUND when `path` is not a directory or the Dockerfile given is not a file,
 * XARCH_EINVAL for a malformed option. `options` may be NULL. @since 0.1 */
XARCH_API int xarch_context_new(xarch_context** out,
                                const char* path,
                                const xarch_context_options* options);

/* A context from a tar stream (plain or compressed) read from `fd` to its end; `fd` is not
 * closed. The files are extracted into a private temporary directory removed by
 * xarch_context_free. XARCH_EINVAL for an unreadable archive or an entry that would land outside
 * the context (absolute path, "..", through a symlink) or a device node. @since 0.1 */
XARCH_API int xarch_context_new_from_tar(xarch_context** out,
                                         int fd,
                                         const xarch_context_options* options);

/* Releases the context; NULL is a no-op. Lists scanned from it stay valid. @since 0.1 */
XARCH_API void xarch_context_free(xarch_context* ctx);

/* The directory scanned (absolute). Borrowed until the context is freed. NULL (and XARCH_EINVAL)
 * for a NULL context. @since 0.1 */
XARCH_API const char* xarch_context_directory(const xarch_context* ctx);

/* Fills *out with the Dockerfile's text. XARCH_ENOTFOUND when there is none. Release *out with
 * xarch_buf_dispose. @since 0.1 */
XARCH_API int xarch_context_dockerfile(xarch_buf* out, const xarch_context* ctx);

/* Fills *out with the ignore patterns in force (<Dockerfile>.dockerignore, else .dockerignore),
 * plus the exceptions that keep the Dockerfile and the ignore file. Release with
 * xarch_strarray_dispose. XARCH_EIO when the ignore file cannot be read. @since 0.1 */
XARCH_API int xarch_context_ignore_patterns(xarch_strarray* out, const xarch_context* ctx);

/* ---- Scanning: xarch_context_files --------------------------------------------------------- */

/* The entries of a scan, sorted in walk order (a directory right before its contents). Immutable;
 * release with xarch_context_files_free. Strings its getters return are borrowed from it. */
typedef struct xarch_context_files xarch_context_files;

/* Entry types (xarch_context_files_type). Tolerate unknown values. */
typedef enum xarch_context_entry_type {
    XARCH_CONTEXT_ENTRY_REGULAR = 1,
    XARCH_CONTEXT_ENTRY_DIRECTORY = 2,
    XARCH_CONTEXT_ENTRY_SYMLINK = 3,
    XARCH_CONTEXT_ENTRY_OTHER = 4 /* FIFO, socket, device: recorded, never opened */
} xarch_context_entry_type;

/* Walks the context applying the ignore rules and hashes its files (on all cores, streaming,
 * reusing the stat cache for unchanged files). Symlinks are recorded, never followed. On success
 * *out is a new list. XARCH_EPERM or XARCH_EIO name an entry that cannot be read. `options` may
 * be NULL. @since 0.1 */
XARCH_API int xarch_context_scan(xarch_context_files** out,
                                 xarch_context* ctx,
                                 const xarch_scan_options* options);

/* The number of entries; 0 for NULL (and sets XARCH_EINVAL). @since 0.1 */
XARCH_API size_t xarch_context_files_size(const xarch_context_files* files);
/* The entry's path relative to the context root, '/'-separated. Borrowed. @since 0.1 */
XARCH_API const char* xarch_context_files_path(const xarch_context_files* files, size_t index);
/* Its type, an xarch_context_entry_type value; XARCH_EINVAL for a bad index. @since 0.1 */
XARCH_API int xarch_context_files_type(const xarch_context_files* files, size_t index);
/* "sha256:<hex>" for a regular file, "" otherwise. Borrowed. @since 0.1 */
XARCH_API const char* xarch_context_files_digest(const xarch_context_files* files, size_t index);
/* Its size in bytes (regular files; 0 otherwise). @since 0.1 */
XARCH_API int64_t xarch_context_files_file_size(const xarch_context_files* files, size_t index);
/* Its st_mode: type bits and permissions. @since 0.1 */
XARCH_API uint32_t xarch_context_files_mode(const xarch_context_files* files, size_t index);
/* Its modification time in nanoseconds since the epoch. @since 0.1 */
XARCH_API int64_t xarch_context_files_mtime_ns(const xarch_context_files* files, size_t index);
/* A symlink's target as stored, "" for other entries. Borrowed. @since 0.1 */
XARCH_API const char* xarch_context_files_link_target(const xarch_context_files* files,
                                                      size_t index);

/* Resolves COPY sources (as written in the Dockerfile, after variable expansion) against a scan,
 * as BuildKit does: relative to the context root, filepath.Match wildcards (which may match
 * nothing), directories with their contents, symlinks followed inside the context. *out is a new
 * list of every matched entry, in walk order without duplicates. `destination` may be NULL; when
 * given and there are several sources it must end in '/'. XARCH_ENOTFOUND quoting BuildKit's
 * `"/x": not found` for a missing source; XARCH_EINVAL for a source outside the context ("../x"),
 * a bad pattern or a bad destination. @since 0.1 */
XARCH_API int xarch_context_files_resolve_copy(xarch_context_files** out,
                                               const xarch_context_files* files,
                                               const char* const* sources,
                                               size_t sources_count,
                                               const char* destination);

/* Releases the list; NULL is a no-op. @since 0.1 */
XARCH_API void xarch_context_files_free(xarch_context_files* files);

XARCH_EXTERN_C_END

#endif /* XARCH_CONTEXT_H */
