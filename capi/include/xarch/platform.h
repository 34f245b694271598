/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: platforms (os/arch[/variant]), parsed, normalized, formatted and matched like
 * containerd/platforms, and parsed from --platform values like buildx. Part of the stable C ABI
 * (libxarch.so.0). C++: xarch::Platform and xarch::PlatformMatcher in <xarch/platform.hpp>. */
#ifndef XARCH_PLATFORM_H
#define XARCH_PLATFORM_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- xarch_platform ------------------------------------------------------------------------ */

/* An immutable platform value: os, architecture, variant, os version and os features.
 * Handles returned through `out` are owned by the caller (xarch_platform_free). Handles returned
 * by list getters are borrowed from their list. Being immutable, one handle may be read from
 * several threads at once. */
typedef struct xarch_platform xarch_platform;

/* Parses one --platform value the way buildx does: "local" (any case) is the host; anything else
 * is parsed like containerd and then normalized: "arm" -> linux/arm/v7, "arm64/v8" ->
 * linux/arm64, "x86_64" -> linux/amd64, "linux/amd64" stays.
 * On success *out is a new platform (free with xarch_platform_free). On failure *out is NULL and
 * the status is XARCH_EINVAL (the message quotes the text; also for NULL out or text). */
XARCH_API int xarch_platform_parse(xarch_platform** out, const char* text);

/* Parses like containerd's Parse without the final normalization: "arm" stays linux/arm with an
 * empty variant; a missing os or architecture defaults to the host's.
 * Ownership and errors as xarch_platform_parse. */
XARCH_API int xarch_platform_parse_unnormalized(xarch_platform** out, const char* text);

/* A platform with the fields exactly as given (no normalization). `os` and `architecture` must be
 * non-empty; `variant` may be NULL or "" for none. The strings are copied.
 * On success *out is a new platform (xarch_platform_free). On failure *out is NULL; XARCH_EINVAL
 * for NULL or empty os/architecture or NULL out. */
XARCH_API int xarch_platform_new(xarch_platform** out,
                                 const char* os,
                                 const char* architecture,
                                 const char* variant);

/* The platform of this process's host, normalized (on arm the variant is read from the CPU).
 * On success *out is a new platform (xarch_platform_free). On failure *out is NULL. */
XARCH_API int xarch_platform_host(xarch_platform** out);

/* containerd's Normalize of `platform`: canonical os and architecture names and variants.
 * On success *out is a new platform (xarch_platform_free); `platform` is unchanged. On failure
 * *out is NULL; XARCH_EINVAL for NULL arguments. */
XARCH_API int xarch_platform_normalize(xarch_platform** out, const xarch_platform* platform);

/* A copy of `platform`, independent of it (either may be freed first).
 * On success *out is a new platform (xarch_platform_free). On failure *out is NULL. */
XARCH_API int xarch_platform_clone(xarch_platform** out, const xarch_platform* platform);

/* Releases a platform returned through `out`. NULL is a no-op. Never pass a platform borrowed
 * from a list. */
XARCH_API void xarch_platform_free(xarch_platform* platform);

/* The fields, as UTF-8 strings borrowed from the handle: valid until it is freed (or, for a
 * borrowed platform, until its list is freed). An absent field is "" (never NULL for a valid
 * handle). NULL `platform` returns NULL and sets XARCH_EINVAL. */
XARCH_API const char* xarch_platform_os(const xarch_platform* platform);
XARCH_API const char* xarch_platform_architecture(const xarch_platform* platform);
XARCH_API const char* xarch_platform_variant(const xarch_platform* platform);
XARCH_API const char* xarch_platform_os_version(const xarch_platform* platform);

/* The os features (e.g. "win32k"), in order, copied into *out, which the caller releases with
 * xarch_strarray_dispose(). *out is overwritten (not released) first and is empty on failure.
 * XARCH_EINVAL for NULL arguments. */
XARCH_API int xarch_platform_os_features(xarch_strarray* out, const xarch_platform* platform);

/* "os/arch[/variant]" (containerd Format), e.g. "linux/arm/v7". Borrowed from the handle (made
 * once, when the handle is made): valid until it is freed. NULL `platform` returns NULL and sets
 * XARCH_EINVAL. */
XARCH_API const char* xarch_platform_to_string(const xarch_platform* platform);

/* "os[(osversion+feature+...)]/arch[/variant]" with reserved characters percent-encoded
 * (containerd FormatAll). Borrowed, like xarch_platform_to_string. */
XARCH_API const char* xarch_platform_to_string_all(const xarch_platform* platform);

/* 1 when every field of `a` and `b` is the same (no normalization: "arm" and "arm/v7" differ),
 * 0 when not, XARCH_EINVAL when either is NULL. */
XARCH_API int xarch_platform_equal(const xarch_platform* a, const xarch_platform* b);

/* A hash of all fields, consistent with xarch_platform_equal within one process (not stable
 * across processes or versions). 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API uint64_t xarch_platform_hash(const xarch_platform* platform);

/* ---- xarch_platform_list ------------------------------------------------------------------- */

/* An immutable list of platforms. Owned by the caller (xarch_platform_list_free); its items are
 * borrowed from it. One list may be read from several threads at once. */
typedef struct xarch_platform_list xarch_platform_list;

/* Parses a comma-separated --platform list ("amd64,arm,arm64") as buildx does: each element
 * through xarch_platform_parse, order kept, duplicates removed. Empty elements and surrounding
 * spaces are errors. On success *out is a new list (xarch_platform_list_free). On failure *out is
 * NULL and the status is XARCH_EINVAL naming the bad element. */
XARCH_API int xarch_platform_parse_list(xarch_platform_list** out, const char* text);

/* The number of platforms; 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API size_t xarch_platform_list_size(const xarch_platform_list* list);

/* The platform at `index`, borrowed from the list: valid until the list is freed; do not free it
 * (clone it to keep it longer). NULL, with XARCH_EINVAL set, for a NULL list or an index out of
 * range. */
XARCH_API const xarch_platform* xarch_platform_list_get(const xarch_platform_list* list,
                                                        size_t index);

/* The list as text, "linux/amd64,linux/arm/v7" (each item's xarch_platform_to_string, joined by
 * commas; "" for an empty list), written to *out, which the caller releases with
 * xarch_buf_dispose(). *out is overwritten (not released) first and is empty on failure.
 * XARCH_EINVAL for NULL arguments. */
XARCH_API int xarch_platform_list_format(xarch_buf* out, const xarch_platform_list* list);

/* Releases a list and the platforms borrowed from it. NULL is a no-op. */
XARCH_API void xarch_platform_list_free(xarch_platform_list* list);

/* ---- xarch_platform_matcher ---------------------------------------------------------------- */

/* Decides which platforms are acceptable and which of two is preferred (containerd
 * MatchComparer). Immutable; owned by the caller (xarch_platform_matcher_free). It copies the
 * platforms it is made from, so they may be freed right after. One matcher may be used from
 * several threads at once. */
typedef struct xarch_platform_matcher xarch_platform_matcher;

/* What a host of `platform` runs natively, in order of preference: amd64 runs 386, arm64 runs
 * arm/v8..v5, and so on (containerd Only). On success *out is a new matcher; on failure *out is
 * NULL (XARCH_EINVAL for NULL arguments). */
XARCH_API int xarch_platform_matcher_only(xarch_platform_matcher** out,
                                          const xarch_platform* platform);

/* Only `platform` itself, non-canonical spellings still matching (containerd OnlyStrict).
 * Ownership and errors as xarch_platform_matcher_only. */
XARCH_API int xarch_platform_matcher_only_strict(xarch_platform_matcher** out,
                                                 const xarch_platform* platform);

/* Any of the `n` platforms, preferred in array order (containerd Ordered). `platforms` may be NULL
 * when n is 0 (the matcher then matches nothing); no element may be NULL (XARCH_EINVAL).
 * Ownership and errors as xarch_platform_matcher_only. */
XARCH_API int xarch_platform_matcher_ordered(xarch_platform_matcher** out,
                                             const xarch_platform* const* platforms,
                                             size_t n);

/* Any of the `n` platforms, with no preference between them (containerd Any). Arguments as
 * xarch_platform_matcher_ordered. */
XARCH_API int xarch_platform_matcher_any(xarch_platform_matcher** out,
                                         const xarch_platform* const* platforms,
                                         size_t n);

/* 1 when `matcher` accepts `platform`, 0 when not, XARCH_EINVAL for NULL arguments. */
XARCH_API int xarch_platform_matcher_match(const xarch_platform_matcher* matcher,
                                           const xarch_platform* platform);

/* 1 when `a` is preferred over `b` (a strict weak order, usable to sort), 0 when not,
 * XARCH_EINVAL for NULL arguments. */
XARCH_API int xarch_platform_matcher_less(const xarch_platform_matcher* matcher,
                                          const xarch_platform* a,
                                          const xarch_platform* b);

/* The index of the best of the `n` candidates (e.g. the manifests of an image index) into *out.
 * XARCH_ENOTFOUND when none matches (n == 0 included; *out is then left alone); XARCH_EINVAL for
 * NULL out or matcher, NULL candidates with n > 0, or a NULL element. */
XARCH_API int xarch_platform_matcher_best(size_t* out,
                                          const xarch_platform_matcher* matcher,
                                          const xarch_platform* const* candidates,
                                          size_t n);

/* Releases a matcher. NULL is a no-op. */
XARCH_API void xarch_platform_matcher_free(xarch_platform_matcher* matcher);

XARCH_EXTERN_C_END

#endif /* XARCH_PLATFORM_H */
