/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: an OCI distribution registry client (resolve, fetch and push manifests and blobs,
 * mount, tags, catalog, referrers, and push/pull/copy/create_index/inspect built on them). Part of
 * the stable C ABI (libxarch.so.0). C++: xarch::Registry in <xarch/registry.hpp>.
 *
 * Documents cross the boundary as OCI JSON text, the same in every language: a descriptor is
 * application/vnd.oci.descriptor.v1+json, an index application/vnd.oci.image.index.v1+json, both
 * written compactly in image-spec's field order. Manifests fetched from a registry come back as
 * their exact bytes (their digest is over those bytes), with media type and digest.
 *
 * Repositories are xarch_reference handles whose tag and digest are ignored
 * (xarch_reference_parse_repository("localhost:5000/a/b")).
 *
 * Errors common to every operation: XARCH_EINVAL (a NULL or malformed argument), XARCH_EAUTH
 * (credentials missing or refused; the message never contains a secret), XARCH_ENOTFOUND (no such
 * manifest, blob or repository), XARCH_EDIGEST (content that does not match its digest or size;
 * it is never stored), XARCH_ENETWORK (connection failed, reset, timed out, TLS refused),
 * XARCH_EREGISTRY (any other error answer), XARCH_ECANCELLED (the progress callback returned
 * nonzero), XARCH_EIO (a local file or layout could not be read or written). */
#ifndef XARCH_REGISTRY_H
#define XARCH_REGISTRY_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"
#include "xarch/platform.h"
#include "xarch/reference.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- Callbacks ----------------------------------------------------------------------------- */

/* Bytes moved for one blob or manifest: the event of xarch_transfer_progress_cb. A versioned
 * struct: the library sets `version` to XARCH_TRANSFER_PROGRESS_VERSION and only appends fields.
 * Everything it points to is valid during the callback only.
 * @since 0.1 */
typedef struct xarch_transfer_progress {
    unsigned int version; /* XARCH_TRANSFER_PROGRESS_VERSION of the library */
    /* version 1 */
    const char* digest; /* the content moved, "sha256:..." */
    uint64_t done;      /* bytes so far */
    uint64_t total;     /* the size; 0 when has_total is 0 */
    int has_total;      /* 1 when the size is known */
} xarch_transfer_progress;

#define XARCH_TRANSFER_PROGRESS_VERSION 1

/* Called as bytes move. Return 0 to go on; nonzero cancels the operation, which then fails with
 * XARCH_ECANCELLED. For one operation it is never called concurrently, but it may run on a
 * library thread. It must not call into the xarch_registry that runs it.
 * @since 0.1 */
typedef int (*xarch_transfer_progress_cb)(const xarch_transfer_progress* progress, void* payload);

/* Asked for the credentials of `registry` (as written in references: "docker.io",
 * "localhost:5000"). Set *username and *secret (a password, or an identity token when *username
 * is "<token>", as docker stores them) and return 0; the library copies both strings right after
 * the callback returns, so they only need to live until then. Leave them NULL (or set "") and
 * return 0 for anonymous access. Returning nonzero fails the operation with XARCH_EAUTH.
 * May be called from several library threads at once; must not call into the xarch_registry.
 * @since 0.1 */
typedef int (*xarch_credentials_cb)(const char* registry,
                                    const char** username,
                                    const char** secret,
                                    void* payload);

/* Receives the bytes of a blob piece by piece (xarch_registry_fetch_blob). Return 0 to go on;
 * nonzero stops the transfer, which then fails with XARCH_ECANCELLED. The bytes are still being
 * verified while they arrive: the blob is correct only if the fetch returns XARCH_OK, so do not
 * commit what was received before that. Called on the calling thread.
 * @since 0.1 */
typedef int (*xarch_blob_write_cb)(const void* data, size_t size, void* payload);

/* ---- Options ------------------------------------------------------------------------------- */

/* Bits of xarch_registry_options.flags. */
/* Access every registry anonymously (neither docker's config nor credentials_cb is used). */
#define XARCH_REGISTRY_ANONYMOUS 0x1u

/* How a registry client connects and authenticates. A versioned struct: set `version` to
 * XARCH_REGISTRY_OPTIONS_VERSION (XARCH_REGISTRY_OPTIONS_INIT or xarch_registry_options_init() do),
 * and the library reads only the fields that existed in that version. Fields are only ever
 * appended. Strings and arrays are copied by xarch_registry_new; NULL or 0 means the default.
 * Passing NULL instead of an options pointer means all defaults.
 *
 * Credentials: credentials_cb when set; else none with XARCH_REGISTRY_ANONYMOUS; else docker's
 * client configuration ($DOCKER_CONFIG or ~/.docker/config.json with its credential helpers),
 * read again at each lookup.
 * @since 0.1 */
typedef struct xarch_registry_options {
    unsigned int version; /* XARCH_REGISTRY_OPTIONS_VERSION */
    /* version 1 */
    /* Registries ("host:port" or "host") reached over plain HTTP, or HTTPS without verification,
     * like dockerd's --insecure-registry. Loopback registries always are. */
    const char* const* insecure_registries;
    size_t insecure_registries_count;
    const char* ca_bundle;   /* a PEM file of CAs trusted besides the system's; default none */
    const char* certs_dir;   /* docker's certs.d folder; default "/etc/docker/certs.d" */
    size_t jobs;             /* transfers at once; default 4 */
    int retry_attempts;      /* attempts per request, the first included (1: no retries);
                                default 5 */
    const char* user_agent;  /* default "xarch/<version>" */
    int64_t chunk_threshold; /* blobs larger are uploaded in chunks; default 32 MiB */
    int64_t chunk_size;      /* the chunk size; default 8 MiB */
    uint32_t flags;          /* XARCH_REGISTRY_* bits; default 0 */
    xarch_credentials_cb credentials_cb;    /* NULL: see above */
    xarch_transfer_progress_cb progress_cb; /* NULL: no progress */
    void* payload; /* given to both callbacks; never dereferenced by the library */
} xarch_registry_options;

#define XARCH_REGISTRY_OPTIONS_VERSION 1
#define XARCH_REGISTRY_OPTIONS_INIT \
    { XARCH_REGISTRY_OPTIONS_VERSION, NULL, 0, NULL, NULL, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL }

/* Fills *out with the defaults for struct version `version` (normally
 * XARCH_REGISTRY_OPTIONS_VERSION). XARCH_EINVAL for NULL out or version 0; XARCH_EUNSUPPORTED for
 * a version newer than this library knows.
 * @since 0.1 */
XARCH_API int xarch_registry_options_init(xarch_registry_options* out, unsigned int version);

/* ---- xarch_registry ------------------------------------------------------------------------ */

/* A registry client: connections, tokens and options shared by its operations. Owned by the
 * caller (xarch_registry_free). Unlike most handles it may run operations from several threads at
 * once (each thread has its own last error); freeing it must not race with its use. Callbacks
 * must not call into the handle that runs them.
 * @since 0.1 */
typedef struct xarch_registry xarch_registry;

/* A new client. On success *out is a new handle (xarch_registry_free); on failure *out is NULL:
 * XARCH_EINVAL for a NULL out, a version-0 options struct, unknown flag bits, a NULL element in
 * insecure_registries, or a CA bundle that cannot be read; XARCH_EUNSUPPORTED for an options
 * version newer than this library knows.
 * @since 0.1 */
XARCH_API int xarch_registry_new(xarch_registry** out, const xarch_registry_options* options);

/* Releases a client. NULL is a no-op.
 * @since 0.1 */
XARCH_API void xarch_registry_free(xarch_registry* registry);

/* ---- Manifests ----------------------------------------------------------------------------- */

/* The descriptor of the manifest or index `reference` names, as descriptor JSON in *out (released
 * with xarch_buf_dispose; overwritten first, empty on failure).
 * @since 0.1 */
XARCH_API int xarch_registry_resolve(xarch_buf* out,
                                     xarch_registry* registry,
                                     const xarch_reference* reference);

/* The manifest or index `reference` names, exactly as served: the bytes in *out (out->size is
 * exact), its media type (the Content-Type) in *media_type_out and its verified digest
 * ("sha256:...") in *digest_out. Each buffer is overwritten first and is empty on failure;
 * release each with xarch_buf_dispose. `media_type_out` and `digest_out` may be NULL. At most
 * 4 MiB.
 * @since 0.1 */
XARCH_API int xarch_registry_fetch_manifest(xarch_buf* out,
                                            xarch_buf* media_type_out,
                                            xarch_buf* digest_out,
                                            xarch_registry* registry,
                                            const xarch_reference* reference);

/* The manifest for `platform`: chosen from the index `reference` names (XARCH_ENOTFOUND listing
 * the platforms it has), or the reference itself when it is a manifest for that platform. Its
 * descriptor JSON in *out (xarch_buf_dispose).
 * @since 0.1 */
XARCH_API int xarch_registry_resolve_platform(xarch_buf* out,
                                              xarch_registry* registry,
                                              const xarch_reference* reference,
                                              const xarch_platform* platform);

/* Stores the `size` bytes at `bytes` as a manifest or index of `media_type` under the reference's
 * tag, or its digest (which must be the content's). Its descriptor JSON in *out
 * (xarch_buf_dispose). `out` may be NULL.
 * @since 0.1 */
XARCH_API int xarch_registry_push_manifest(xarch_buf* out,
                                           xarch_registry* registry,
                                           const xarch_reference* reference,
                                           const void* bytes,
                                           size_t size,
                                           const char* media_type);

/* Deletes the manifest `reference` names (a tag is resolved to its digest first).
 * @since 0.1 */
XARCH_API int xarch_registry_delete_manifest(xarch_registry* registry,
                                             const xarch_reference* reference);

/* ---- Blobs --------------------------------------------------------------------------------- */

/* Streams the blob `descriptor_json` describes (at least mediaType, digest and size) from
 * `repository` to `write_cb`, verifying size and digest as it arrives and at the end
 * (XARCH_EDIGEST after the last piece when they differ).
 * @since 0.1 */
XARCH_API int xarch_registry_fetch_blob(xarch_registry* registry,
                                        const xarch_reference* repository,
                                        const char* descriptor_json,
                                        xarch_blob_write_cb write_cb,
                                        void* payload);

/* Fetches the blob into the file `path`: written to a temporary file beside it, verified, then
 * renamed over `path`, so that on any failure `path` is untouched and nothing is left behind.
 * @since 0.1 */
XARCH_API int xarch_registry_fetch_blob_to_file(xarch_registry* registry,
                                                const xarch_reference* repository,
                                                const char* descriptor_json,
                                                const char* path);

/* 1 when `repository` has the blob `digest` ("sha256:..."), 0 when not, or a negative code.
 * @since 0.1 */
XARCH_API int xarch_registry_blob_exists(xarch_registry* registry,
                                         const xarch_reference* repository,
                                         const char* digest);

/* Uploads the `size` bytes at `data` as the blob `descriptor_json` describes (its digest and size
 * must match: XARCH_EDIGEST otherwise), unless the registry has it. Blobs over chunk_threshold go
 * in chunks. `data` may be NULL when size is 0.
 * @since 0.1 */
XARCH_API int xarch_registry_push_blob(xarch_registry* registry,
                                       const xarch_reference* repository,
                                       const char* descriptor_json,
                                       const void* data,
                                       size_t size);

/* Uploads the file `path` as the blob `descriptor_json` describes, read piece by piece. Errors as
 * xarch_registry_push_blob, plus XARCH_ENOTFOUND/XARCH_EIO for the file.
 * @since 0.1 */
XARCH_API int xarch_registry_push_blob_from_file(xarch_registry* registry,
                                                 const xarch_reference* repository,
                                                 const char* descriptor_json,
                                                 const char* path);

/* Mounts the blob `digest` from repository `from` of the same registry into `repository`: 1 when
 * the registry mounted it, 0 when it did not (upload it then), or a negative code.
 * @since 0.1 */
XARCH_API int xarch_registry_mount_blob(xarch_registry* registry,
                                        const xarch_reference* repository,
                                        const char* digest,
                                        const xarch_reference* from);

/* ---- Listing ------------------------------------------------------------------------------- */

/* Every tag of `repository`, following pagination (`page_size` > 0 asks for pages of that size;
 * 0 lets the registry choose), in *out (xarch_strarray_dispose; overwritten first, empty on
 * failure).
 * @since 0.1 */
XARCH_API int xarch_registry_list_tags(xarch_strarray* out,
                                       xarch_registry* registry,
                                       const xarch_reference* repository,
                                       size_t page_size);

/* Every repository of the registry `registry_name` ("localhost:5000"), following pagination, in
 * *out (xarch_strarray_dispose).
 * @since 0.1 */
XARCH_API int xarch_registry_catalog(xarch_strarray* out,
                                     xarch_registry* registry,
                                     const char* registry_name,
                                     size_t page_size);

/* The referrers of the manifest `digest` in `repository`, as image index JSON in *out
 * (xarch_buf_dispose); an empty index when the registry has no referrers API.
 * @since 0.1 */
XARCH_API int xarch_registry_referrers(xarch_buf* out,
                                       xarch_registry* registry,
                                       const xarch_reference* repository,
                                       const char* digest);

/* ---- High level ---------------------------------------------------------------------------- */

/* Pushes an image or index from the OCI layout directory `layout_dir` to `destination`, with
 * everything it reaches (blobs the registry has are skipped). `root` picks it in the layout's
 * index.json: a name (its org.opencontainers.image.ref.name annotation, e.g. "latest") or a
 * digest ("sha256:..."); XARCH_ENOTFOUND when index.json has no such entry. The root's
 * descriptor JSON in *out (xarch_buf_dispose); `out` may be NULL.
 * @since 0.1 */
XARCH_API int xarch_registry_push(xarch_buf* out,
                                  xarch_registry* registry,
                                  const char* layout_dir,
                                  const char* root,
                                  const xarch_reference* destination);

/* Stores `reference` and everything it reaches in the OCI layout directory `layout_dir` (created
 * when missing) and adds the root to its index.json, named by the reference's tag. With
 * `platform_count` > 0, only those platforms' manifests of an index, under a new index. The
 * root's descriptor JSON in *out (xarch_buf_dispose); `out` may be NULL. Blobs appear in the
 * layout only once verified.
 * @since 0.1 */
XARCH_API int xarch_registry_pull(xarch_buf* out,
                                  xarch_registry* registry,
                                  const xarch_reference* reference,
                                  const char* layout_dir,
                                  const xarch_platform* const* platforms,
                                  size_t platform_count);

/* Copies `source` and what it reaches to `destination`, registry to registry (blobs present are
 * skipped, mounted within one registry). With `platform_count` > 0 only those manifests of an
 * index, under a new index. The destination root's descriptor JSON in *out (xarch_buf_dispose);
 * `out` may be NULL.
 * @since 0.1 */
XARCH_API int xarch_registry_copy(xarch_buf* out,
                                  xarch_registry* registry,
                                  const xarch_reference* source,
                                  const xarch_reference* destination,
                                  const xarch_platform* const* platforms,
                                  size_t platform_count);

/* A new index of the sources' manifests (an index source contributes all of its manifests) with
 * the `annotation_count` annotations annotation_keys[i] = annotation_values[i], pushed under the
 * destination's tag; sources from other repositories are copied into it first (like `buildx
 * imagetools create`). The arrays may be NULL when their count is 0. The new index's descriptor
 * JSON in *out (xarch_buf_dispose); `out` may be NULL.
 * @since 0.1 */
XARCH_API int xarch_registry_create_index(xarch_buf* out,
                                          xarch_registry* registry,
                                          const xarch_reference* destination,
                                          const xarch_reference* const* sources,
                                          size_t source_count,
                                          const char* const* annotation_keys,
                                          const char* const* annotation_values,
                                          size_t annotation_count);

/* What `reference` names: its descriptor JSON in *out, the document exactly as served in *raw_out
 * (raw_out->size is exact) and, when it is an image manifest with an image config, that config as
 * JSON in *config_out ("" otherwise). Each buffer is overwritten first, empty on failure, and
 * released with xarch_buf_dispose; `raw_out` and `config_out` may be NULL.
 * @since 0.1 */
XARCH_API int xarch_registry_inspect(xarch_buf* out,
                                     xarch_buf* raw_out,
                                     xarch_buf* config_out,
                                     xarch_registry* registry,
                                     const xarch_reference* reference);

XARCH_EXTERN_C_END

#endif /* XARCH_REGISTRY_H */
