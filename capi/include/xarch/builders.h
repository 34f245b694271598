/* SPDX-License-Identifier: Apache-2.0 */
/* xarch C API: builders and their nodes, as `xarch create/use/rm/ls` (and buildx's) manage them.
 * A builder is a named list of nodes (Docker Engines and/or this process) kept in builders.json
 * ($XDG_CONFIG_HOME/xarch, else $HOME/.config/xarch); xarch_builder_options.builder builds on
 * one. Part of the stable C ABI (libxarch.so.0). C++: xarch::BuilderStore in
 * <xarch/builders.hpp>.
 *
 * Threads: an xarch_builder_store may be shared by threads, and several processes may use one
 * store: each call reads the file again, and changes are written atomically under a lock (a
 * reader sees the old file or the new one, concurrent creates keep each other's builders).
 * xarch_builder_spec, xarch_builder_spec_list and xarch_node_status are immutable.
 * @since 0.1 */
#ifndef XARCH_BUILDERS_H
#define XARCH_BUILDERS_H

#include "xarch/common.h"
#include "xarch/error.h"
#include "xarch/export.h"
#include "xarch/platform.h"

#include <stddef.h>

XARCH_EXTERN_C_BEGIN

/* Where a node builds (xarch::Driver). Tolerate unknown values. */
#define XARCH_DRIVER_EMBEDDED 1 /* in this process (sandboxed RUN, QEMU through binfmt_misc) */
#define XARCH_DRIVER_DOCKER 2   /* a Docker Engine, over its HTTP API */

/* The store of builders: one builders.json. */
typedef struct xarch_builder_store xarch_builder_store;
/* One builder as stored: its name and nodes. */
typedef struct xarch_builder_spec xarch_builder_spec;
/* The builders of a store. */
typedef struct xarch_builder_spec_list xarch_builder_spec_list;
/* What one node can do now, as `xarch ls` shows it. */
typedef struct xarch_node_status xarch_node_status;

/* ---- The store ----------------------------------------------------------------------------- */

/* Opens the store in `dir` (NULL or "": $XDG_CONFIG_HOME/xarch, else $HOME/.config/xarch). Reads
 * nothing yet: a missing file is a store with only "default" (one embedded node, never stored).
 * Free with xarch_builder_store_free. */
XARCH_API int xarch_builder_store_new(xarch_builder_store** out, const char* dir);
XARCH_API void xarch_builder_store_free(xarch_builder_store* store);

/* The path of its builders.json (borrowed: valid until the store is freed). */
XARCH_API const char* xarch_builder_store_file(const xarch_builder_store* store);

/* Every builder: "default" first, then the stored ones by name. XARCH_EINVAL quoting the file
 * when it is damaged. Free the list with xarch_builder_spec_list_free. */
XARCH_API int xarch_builder_store_list(xarch_builder_spec_list** out,
                                       const xarch_builder_store* store);

/* The builder named `name`; "" is the current one (`xarch use`, "default" until then).
 * XARCH_ENOTFOUND quoting the name and listing those that exist. Free with
 * xarch_builder_spec_free. */
XARCH_API int xarch_builder_store_get(xarch_builder_spec** out,
                                      const xarch_builder_store* store,
                                      const char* name);

/* The name of the current builder, into *out (release with xarch_buf_dispose). */
XARCH_API int xarch_builder_store_current_name(xarch_buf* out, const xarch_builder_store* store);

/* What xarch_builder_store_create makes (`xarch create`'s flags). A versioned struct: set
 * `version` with XARCH_BUILDER_CREATE_OPTIONS_INIT or xarch_builder_create_options_init(); the
 * library reads only the fields of that version. Strings and platforms are copied. */
typedef struct xarch_builder_create_options {
    unsigned int version; /* XARCH_BUILDER_CREATE_OPTIONS_VERSION */
    /* version 1 */
    const char* name;     /* NULL or "": a new name ("xarch0", "xarch1", ...); lowercase letters,
                             digits, '-', '_', '.' */
    int driver;           /* XARCH_DRIVER_*; 0: XARCH_DRIVER_DOCKER */
    const char* endpoint; /* docker: "unix:///path", "tcp://host:port" or a Docker context name;
                             NULL or "": $DOCKER_HOST, else the current Docker context, else
                             unix:///var/run/docker.sock. embedded: NULL or "" */
    const xarch_platform* const* platforms; /* `--platform`: what the node is meant to build */
    size_t platforms_count;
    const char* node_name; /* NULL or "": NAME0, NAME1, ... as buildx names them */
    int append;            /* nonzero: add a node to an existing builder (XARCH_ENOTFOUND when
                              there is none); zero: an existing name is XARCH_EEXIST */
    int use;               /* nonzero: make it the current builder */
} xarch_builder_create_options;

#define XARCH_BUILDER_CREATE_OPTIONS_VERSION 1
#define XARCH_BUILDER_CREATE_OPTIONS_INIT \
    { XARCH_BUILDER_CREATE_OPTIONS_VERSION, NULL, XARCH_DRIVER_DOCKER, NULL, NULL, 0, NULL, 0, 0 }

/* Fills *out with the defaults for struct version `version`. XARCH_EINVAL for NULL out or
 * version 0; XARCH_EUNSUPPORTED for a version newer than this library knows. */
XARCH_API int xarch_builder_create_options_init(xarch_builder_create_options* out,
                                                unsigned int version);

/* Creates a builder, or adds a node to one (append), and stores it; *out is the builder as
 * stored (free with xarch_builder_spec_free). XARCH_EINVAL for a bad name, a second node with
 * the same name or endpoint, an embedded node with an endpoint, or an unknown driver;
 * XARCH_EEXIST, XARCH_ENOTFOUND as above. Nothing is contacted: see
 * xarch_builder_spec_inspect_node. */
XARCH_API int xarch_builder_store_create(xarch_builder_spec** out,
                                         xarch_builder_store* store,
                                         const xarch_builder_create_options* options);

/* Removes one node of a builder (`xarch create --leave --node`); removing its last node removes
 * the builder. *out is the builder as it is left (no nodes when it was removed; free with
 * xarch_builder_spec_free). XARCH_ENOTFOUND naming the nodes there are; XARCH_EINVAL for
 * "default". */
XARCH_API int xarch_builder_store_remove_node(xarch_builder_spec** out,
                                              xarch_builder_store* store,
                                              const char* builder,
                                              const char* node);

/* Makes `name` the current builder (`xarch use`). XARCH_ENOTFOUND for an unknown builder. */
XARCH_API int xarch_builder_store_use(xarch_builder_store* store, const char* name);

/* Removes a builder (`xarch rm`); the current one removed makes "default" current again.
 * XARCH_EINVAL for "default", XARCH_ENOTFOUND for an unknown builder. */
XARCH_API int xarch_builder_store_remove(xarch_builder_store* store, const char* name);

/* ---- Builders and their nodes -------------------------------------------------------------- */

/* The number of builders; 0 for NULL (and sets XARCH_EINVAL). */
XARCH_API size_t xarch_builder_spec_list_size(const xarch_builder_spec_list* list);
/* The builder at `index`, borrowed from the list (do not free it). NULL, with XARCH_EINVAL set,
 * for a NULL list or an index out of range. */
XARCH_API const xarch_builder_spec* xarch_builder_spec_list_get(const xarch_builder_spec_list* list,
                                                                size_t index);
XARCH_API void xarch_builder_spec_list_free(xarch_builder_spec_list* list);

/* The builder's name; its first node's driver (XARCH_DRIVER_*, 0 when it has no node). */
XARCH_API const char* xarch_builder_spec_name(const xarch_builder_spec* spec);
XARCH_API int xarch_builder_spec_driver(const xarch_builder_spec* spec);
XARCH_API void xarch_builder_spec_free(xarch_builder_spec* spec);

/* Its nodes, by index (0 .. count-1). Strings and the platform list are borrowed from the spec.
 * Out-of-range indexes return NULL (0 for the driver) and set XARCH_EINVAL. The endpoint is ""
 * for an embedded node and for a docker node that uses the environment's engine. The platforms
 * are those declared with `--platform` at create (an empty list when none). */
XARCH_API size_t xarch_builder_spec_node_count(const xarch_builder_spec* spec);
XARCH_API const char* xarch_builder_spec_node_name(const xarch_builder_spec* spec, size_t node);
XARCH_API int xarch_builder_spec_node_driver(const xarch_builder_spec* spec, size_t node);
XARCH_API const char* xarch_builder_spec_node_endpoint(const xarch_builder_spec* spec, size_t node);
XARCH_API const xarch_platform_list* xarch_builder_spec_node_platforms(
    const xarch_builder_spec* spec, size_t node);

/* Asks node `node` what it can do now (an engine: /_ping, /version, /info; embedded: this host),
 * as `xarch ls` does. An unreachable engine is not a failure: its status says "error" and why.
 * Free *out with xarch_node_status_free. */
XARCH_API int xarch_builder_spec_inspect_node(xarch_node_status** out,
                                              const xarch_builder_spec* spec,
                                              size_t node);

/* "running" or "error"; 1 when running. */
XARCH_API const char* xarch_node_status_status(const xarch_node_status* status);
XARCH_API int xarch_node_status_running(const xarch_node_status* status);
/* Why it is not running ("" when it is). */
XARCH_API const char* xarch_node_status_error(const xarch_node_status* status);
/* The engine's version, or xarch's for an embedded node ("" when unknown). */
XARCH_API const char* xarch_node_status_version(const xarch_node_status* status);
/* Declared platforms first, then what it runs without emulation; then what it runs through QEMU
 * (the host's binfmt_misc handlers for an embedded node or an engine on a local unix socket;
 * empty for a remote engine). Borrowed from the status. */
XARCH_API const xarch_platform_list* xarch_node_status_native(const xarch_node_status* status);
XARCH_API const xarch_platform_list* xarch_node_status_emulated(const xarch_node_status* status);
XARCH_API void xarch_node_status_free(xarch_node_status* status);

XARCH_EXTERN_C_END

#endif /* XARCH_BUILDERS_H */
