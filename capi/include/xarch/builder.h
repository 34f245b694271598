/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: builds. An xarch_builder runs `docker buildx build` in this process: it builds the
 * Dockerfile of an xarch_context for every platform asked for, with a persistent cache, and
 * exports the result as buildx's --output types do (an index pushed to a registry, an OCI layout
 * or archive, a docker archive or --load, a local directory, a tar). Part of the stable C ABI
 * (libxarch.so.0). C++: xarch::Builder in <xarch/builder.hpp>.
 *
 * Threads: an xarch_builder may be shared by threads and run several builds at once;
 * xarch_builder_cancel may be called from any thread, also from a progress callback. An
 * xarch_build_result is immutable. */
#ifndef XARCH_BUILDER_H
#define XARCH_BUILDER_H

#include "xarch/common.h"
#include "xarch/context.h"
#include "xarch/error.h"
#include "xarch/export.h"
#include "xarch/platform.h"
#include "xarch/registry.h"

#include <stddef.h>
#include <stdint.h>

XARCH_EXTERN_C_BEGIN

/* ---- Progress ------------------------------------------------------------------------------ */

/* What an xarch_progress_event reports (its `kind`). Tolerate unknown values.
 * @since 0.1 */
typedef enum xarch_progress_kind {
    XARCH_PROGRESS_VERTEX_STARTED = 1,   /* a step began work */
    XARCH_PROGRESS_VERTEX_CACHED = 2,    /* a step's result came from the cache (no start first) */
    XARCH_PROGRESS_VERTEX_COMPLETED = 3, /* a step finished */
    XARCH_PROGRESS_VERTEX_ERROR = 4,     /* a step failed; `message` says why */
    XARCH_PROGRESS_STATUS = 5, /* bytes moved for one item of a step (a blob pushed, a layer) */
    XARCH_PROGRESS_LOG = 6,    /* a line of output of a step, in `message` */
    XARCH_PROGRESS_WARNING = 7 /* a build warning (not tied to a step when `vertex` is "") */
} xarch_progress_kind;

/* One build progress event, shaped like BuildKit's SolveStatus. A versioned struct: the library
 * sets `version` to XARCH_PROGRESS_EVENT_VERSION and only appends fields. The strings are never
 * NULL ("" when not set) and, like the struct, are valid during the callback only.
 * @since 0.1 */
typedef struct xarch_progress_event {
    unsigned int version; /* XARCH_PROGRESS_EVENT_VERSION of the library */
    /* version 1 */
    int kind;            /* an xarch_progress_kind value */
    const char* vertex;  /* stable id of the step: its cache key ("sha256:..."), or a fixed name
                            for the build's own steps ("internal:load-dockerfile"); several
                            events share one vertex */
    const char* name;    /* what buildx prints for the step: "[linux/arm64 2/3] COPY . /app" */
    int64_t time_ns;     /* when it happened, in nanoseconds since the Unix epoch */
    const char* id;      /* XARCH_PROGRESS_STATUS: what is moved ("sha256:3f2a...") */
    const char* message; /* LOG, VERTEX_ERROR, WARNING: the text */
    int64_t current;     /* XARCH_PROGRESS_STATUS: bytes (or items) done */
    int64_t total;       /* XARCH_PROGRESS_STATUS: the total; 0 when unknown */
    int completed;       /* XARCH_PROGRESS_STATUS: 1 when this item is finished */
} xarch_progress_event;

#define XARCH_PROGRESS_EVENT_VERSION 1

/* Called for every progress event of a build, in the order they happen, never concurrently for
 * one build, maybe on a library thread; the build waits for it, so return quickly. Return 0 to
 * go on. Nonzero stops the build, which fails with XARCH_ECANCELLED (the message quotes the value
 * returned), as xarch_registry's callbacks do; it stops like xarch_builder_cancel, that is every
 * build running on that builder at the time, and the callback is not called again for this
 * build. The callback may call xarch_builder_cancel; it must not call any other function on the
 * builder or the context.
 * @since 0.1 */
typedef int (*xarch_progress_cb)(const xarch_progress_event* event, void* payload);

/* ---- Options ------------------------------------------------------------------------------- */

/* How a builder is set up. A versioned struct: set `version` with XARCH_BUILDER_OPTIONS_INIT or
 * xarch_builder_options_init(); the library reads only the fields of that version. Strings are
 * copied by xarch_builder_new; NULL or 0 means the default. Passing NULL instead of an options
 * pointer means all defaults.
 * @since 0.1 */
typedef struct xarch_builder_options {
    unsigned int version; /* XARCH_BUILDER_OPTIONS_VERSION */
    /* version 1 */
    const char* cache_dir; /* the cache; NULL: $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch */
    unsigned int jobs;     /* steps run at once; 0: one per core */
    /* How registries are reached (base images, pushes, registry caches); NULL: the defaults of
     * xarch_registry_new. Copied like there; its callbacks and payload are kept and called by
     * the builder's builds, so they must stay valid until xarch_builder_free. */
    const xarch_registry_options* registry;
    /* version 2 */
    int snapshotter; /* XARCH_SNAPSHOTTER_*: how RUN steps get their writable filesystem */
    /* version 3 */
    /* The builder made with `xarch create` to build on (its nodes: Docker Engines and/or this
     * process, each platform routed to the node that runs it natively): NULL: none, everything
     * in this process; "": the current one (`xarch use`, "default" until then); else its name
     * (XARCH_ENOTFOUND from xarch_builder_new when there is no such builder). Read from
     * builders.json ($XDG_CONFIG_HOME/xarch, else $HOME/.config/xarch) by xarch_builder_new. */
    const char* builder;
} xarch_builder_options;

/* Values of xarch_builder_options.snapshotter (buildkitd's --oci-worker-snapshotter). */
#define XARCH_SNAPSHOTTER_AUTO 0      /* overlayfs where it can be mounted, else native */
#define XARCH_SNAPSHOTTER_OVERLAYFS 1 /* overlayfs or fail the RUN */
#define XARCH_SNAPSHOTTER_NATIVE 2    /* a copy of the stage, compared with it afterwards */

#define XARCH_BUILDER_OPTIONS_VERSION 3
#define XARCH_BUILDER_OPTIONS_INIT \
    { XARCH_BUILDER_OPTIONS_VERSION, NULL, 0, NULL, XARCH_SNAPSHOTTER_AUTO, NULL }

/* Fills *out with the defaults for struct version `version` (normally
 * XARCH_BUILDER_OPTIONS_VERSION). XARCH_EINVAL for NULL out or version 0; XARCH_EUNSUPPORTED for
 * a version newer than this library knows.
 * @since 0.1 */
XARCH_API int xarch_builder_options_init(xarch_builder_options* out, unsigned int version);

/* Bits of xarch_build_options.flags. */
#define XARCH_BUILD_PUSH 0x1u     /* --push: adds the output type=registry */
#define XARCH_BUILD_LOAD 0x2u     /* --load: adds the output type=docker (the Docker Engine) */
#define XARCH_BUILD_NO_CACHE 0x4u /* --no-cache: run every step again */
#define XARCH_BUILD_PULL 0x8u     /* --pull: Docker Engine nodes pull the base images again */

/* One build, as buildx's flags give it. A versioned struct: set `version` with
 * XARCH_BUILD_OPTIONS_INIT or xarch_build_options_init(); the library reads only the fields of
 * that version. Strings and arrays are read during the call only; NULL means none. Each string
 * array holds `*_count` NUL-terminated strings in the flag's own syntax; a malformed one fails the
 * build with XARCH_EINVAL quoting it, before any work.
 * @since 0.1 */
typedef struct xarch_build_options {
    unsigned int version; /* XARCH_BUILD_OPTIONS_VERSION */
    /* version 1 */
    const xarch_platform* const* platforms; /* --platform; none: the host's */
    size_t platforms_count;
    const char* const* tags; /* -t: names of the image outputs and the push */
    size_t tags_count;
    const char* const* outputs; /* -o: "type=registry", "type=oci,dest=DIR,tar=false",
                                   "type=local,dest=DIR", a bare path (type=local), ... */
    size_t outputs_count;
    uint32_t flags;                 /* XARCH_BUILD_* bits */
    const char* const* annotations; /* --annotation "[TYPE:]KEY=VALUE" */
    size_t annotations_count;
    const char* const* cache_from; /* --cache-from "type=registry,ref=REF", "type=local,src=DIR" */
    size_t cache_from_count;
    const char* const* cache_to; /* --cache-to "type=registry,ref=REF[,mode=max]", ... */
    size_t cache_to_count;
    int64_t source_date_epoch;     /* SOURCE_DATE_EPOCH in seconds, when has_source_date_epoch */
    int has_source_date_epoch;     /* 1: use source_date_epoch; 0: the build arg or environment */
    const char* metadata_file;     /* --metadata-file: written after a successful build */
    const char* iid_file;          /* --iidfile: written after a successful build */
    const char* docker_host;       /* for --load: "unix:///path", "tcp://host:port"; NULL:
                                      $DOCKER_HOST, else unix:///var/run/docker.sock */
    xarch_progress_cb progress_cb; /* NULL: no progress */
    void* payload;                 /* given to progress_cb; never dereferenced by the library */
    /* version 2 */
    const char* const* allow; /* --allow entitlements RUN may use: "network.host",
                                 "security.insecure" */
    size_t allow_count;
    /* version 3 */
    const char* network; /* --network for RUN steps without their own: NULL or "default", "none"
                            (loopback only), "host" (also allows "network.host", as buildx) */
} xarch_build_options;

#define XARCH_BUILD_OPTIONS_VERSION 3
#define XARCH_BUILD_OPTIONS_INIT                                                                 \
    {                                                                                            \
        XARCH_BUILD_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0, 0, \
            0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL                                       \
    }

/* As xarch_builder_options_init, for xarch_build_options.
 * @since 0.1 */
XARCH_API int xarch_build_options_init(xarch_build_options* out, unsigned int version);

/* ---- xarch_builder ------------------------------------------------------------------------- */

/* Runs builds in this process (buildx's `embedded` driver). Owned by the caller
 * (xarch_builder_free). Thread-safe: several builds may run at once on one builder, and several
 * processes may share one cache directory; freeing it must not race with its use.
 * @since 0.1 */
typedef struct xarch_builder xarch_builder;

/* A new builder. On success *out is a new handle (xarch_builder_free); on failure *out is NULL:
 * XARCH_EINVAL for a NULL out, a version-0 options struct or bad registry options;
 * XARCH_EUNSUPPORTED for an options version newer than this library knows; XARCH_EIO when the
 * cache directory cannot be made.
 * @since 0.1 */
XARCH_API int xarch_builder_new(xarch_builder** out, const xarch_builder_options* options);

/* Releases a builder. NULL is a no-op. Results of its builds stay valid.
 * @since 0.1 */
XARCH_API void xarch_builder_free(xarch_builder* builder);

/* Stops every build in progress on `builder` promptly: each fails with XARCH_ECANCELLED. Builds
 * started afterwards are not affected. Callable from any thread, also from a progress callback.
 * XARCH_EINVAL for a NULL builder.
 * @since 0.1 */
XARCH_API int xarch_builder_cancel(xarch_builder* builder);

/* `xarch prune`: removes cached results and content, least recently used first, until at most
 * `keep_storage` bytes remain (a negative value removes everything). The bytes freed go to
 * *freed_bytes, which may be NULL.
 * @since 0.1 */
XARCH_API int xarch_builder_prune(xarch_builder* builder,
                                  int64_t keep_storage,
                                  int64_t* freed_bytes);

/* The cache directory in use (absolute). Borrowed until the builder is freed. NULL (and
 * XARCH_EINVAL) for a NULL builder.
 * @since 0.1 */
XARCH_API const char* xarch_builder_cache_dir(const xarch_builder* builder);

/* ---- Building: xarch_build_result ---------------------------------------------------------- */

/* What a build made. Immutable; release with xarch_build_result_free. Strings its getters return
 * are borrowed from it.
 * @since 0.1 */
typedef struct xarch_build_result xarch_build_result;

/* Builds `ctx` (its Dockerfile, build args, target, named contexts) with `options` (NULL: the
 * host's platform, no output: the result stays in the cache). The context is locked for the
 * build, so its other users wait. On success *out is a new result; an output is either left as
 * it was or fully written. Errors: XARCH_EINVAL for a malformed option (quoted) or a Dockerfile
 * that does not parse (see xarch_error_last_location), XARCH_ENOTFOUND for a missing COPY source
 * or base image platform, XARCH_EBUILD ("xarch::BuildError") for a RUN that exited non-zero or
 * was killed, the registry errors of <xarch/registry.h>, XARCH_ECANCELLED after
 * xarch_builder_cancel or when progress_cb returned nonzero.
 * @since 0.1 */
XARCH_API int xarch_builder_build(xarch_build_result** out,
                                  xarch_builder* builder,
                                  xarch_context* ctx,
                                  const xarch_build_options* options);

/* The result's root as OCI descriptor JSON: the index over all platforms (or an image
 * manifest's when one platform was built and an output asked for a single manifest). Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_descriptor(const xarch_build_result* result);
/* The root's digest, "sha256:...". Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_digest(const xarch_build_result* result);
/* The JSON buildx writes with --metadata-file (containerimage.digest,
 * containerimage.descriptor, image.name, buildx.build.ref). Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_metadata(const xarch_build_result* result);
/* The number of platform images; 0 for NULL (and sets XARCH_EINVAL).
 * @since 0.1 */
XARCH_API size_t xarch_build_result_image_count(const xarch_build_result* result);
/* The platform of image `index`, "os/arch[/variant]". Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_image_platform(const xarch_build_result* result,
                                                        size_t index);
/* The digest of image `index`'s manifest, "sha256:...". Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_image_manifest_digest(const xarch_build_result* result,
                                                               size_t index);
/* The digest of image `index`'s config, "sha256:...". Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_image_config_digest(const xarch_build_result* result,
                                                             size_t index);
/* The number of build warnings; 0 for NULL (and sets XARCH_EINVAL).
 * @since 0.1 */
XARCH_API size_t xarch_build_result_warning_count(const xarch_build_result* result);
/* Warning `index`, one line. Borrowed.
 * @since 0.1 */
XARCH_API const char* xarch_build_result_warning(const xarch_build_result* result, size_t index);

/* Releases a result; NULL is a no-op.
 * @since 0.1 */
XARCH_API void xarch_build_result_free(xarch_build_result* result);

XARCH_EXTERN_C_END

#endif /* XARCH_BUILDER_H */
