/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: image references (`registry/repository[:tag][@digest]`), parsed and normalized the
 * way `docker pull` reads them. Part of the stable C ABI (libxarch.so.0). C++: xarch::Reference in
 * <xarch/reference.hpp>. */
#ifndef XARCH_REFERENCE_H
#define XARCH_REFERENCE_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* An immutable image reference. Handles returned through `out` are owned by the caller
 * (xarch_reference_free). Being immutable, one handle may be read from several threads at once.
 * @since 0.1 */
typedef struct xarch_reference xarch_reference;

/* Parses a reference as `docker pull` and `buildx build -t` accept it, normalized:
 * "busybox" -> docker.io/library/busybox:latest, "localhost:5000/a/b:tag", "host/name@sha256:...".
 * Without a tag and a digest the tag is "latest"; with a digest and no tag it stays empty.
 * On success *out is a new reference (free with xarch_reference_free). On failure *out is NULL and
 * the status is XARCH_EINVAL, the message quoting the text and saying what is wrong (also for NULL
 * out or text). Thread-safe.
 * @since 0.1 */
XARCH_API int xarch_reference_parse(xarch_reference** out, const char* text);

/* Parses a repository without tag or digest, as `imagetools tags REPO` takes it: "busybox" ->
 * docker.io/library/busybox (the tag stays ""). Ownership as xarch_reference_parse; XARCH_EINVAL
 * also when the text has a tag or a digest. Thread-safe.
 * @since 0.1 */
XARCH_API int xarch_reference_parse_repository(xarch_reference** out, const char* text);

/* A copy of `reference`, independent of it (either may be freed first).
 * On success *out is a new reference; on failure *out is NULL (XARCH_EINVAL for NULL arguments).
 * @since 0.1 */
XARCH_API int xarch_reference_clone(xarch_reference** out, const xarch_reference* reference);

/* A copy of `reference` with the tag (or the digest) replaced, validated as the parser does;
 * "" removes it. Ownership as xarch_reference_parse; XARCH_EINVAL quoting a bad tag or digest.
 * @since 0.1 */
XARCH_API int xarch_reference_with_tag(xarch_reference** out,
                                       const xarch_reference* reference,
                                       const char* tag);
XARCH_API int xarch_reference_with_digest(xarch_reference** out,
                                          const xarch_reference* reference,
                                          const char* digest);

/* Releases a reference. NULL is a no-op.
 * @since 0.1 */
XARCH_API void xarch_reference_free(xarch_reference* reference);

/* The parts, as UTF-8 strings borrowed from the handle (made once, when the handle is made):
 * valid until it is freed; never NULL for a valid handle, "" for an absent part. A NULL handle
 * returns NULL and sets XARCH_EINVAL. Thread-safe.
 *   registry:   "docker.io", "localhost:5000", "[::1]:5000"
 *   repository: "library/busybox"
 *   tag:        "latest" ("" for none)
 *   digest:     "sha256:..." ("" for none)
 *   name:       registry/repository, "docker.io/library/busybox"
 *   to_string:  the canonical form name[:tag][@digest], "docker.io/library/busybox:latest"
 *   familiar:   Docker's short form, "busybox:latest", "localhost:5000/a:b"
 * @since 0.1 */
XARCH_API const char* xarch_reference_registry(const xarch_reference* reference);
XARCH_API const char* xarch_reference_repository(const xarch_reference* reference);
XARCH_API const char* xarch_reference_tag(const xarch_reference* reference);
XARCH_API const char* xarch_reference_digest(const xarch_reference* reference);
XARCH_API const char* xarch_reference_name(const xarch_reference* reference);
XARCH_API const char* xarch_reference_to_string(const xarch_reference* reference);
XARCH_API const char* xarch_reference_familiar(const xarch_reference* reference);

/* 1 when `a` and `b` are the same reference (after normalization: "busybox" equals
 * "docker.io/library/busybox:latest"), 0 when not, XARCH_EINVAL when either is NULL.
 * @since 0.1 */
XARCH_API int xarch_reference_equal(const xarch_reference* a, const xarch_reference* b);

XARCH_EXTERN_C_END

#endif /* XARCH_REFERENCE_H */
