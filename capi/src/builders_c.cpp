// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::BuilderStore and inspect_node(): builders and their nodes.
#include "capi_internal.hpp"

#include <xarch/builders.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

// Immutable copies; their strings and platform lists are made once, up front, so that getters
// only lend them out.
struct xarch_builder_spec {
    struct Node {
        xarch::NodeSpec value;
        std::unique_ptr<xarch_platform_list> platforms;
    };

    explicit xarch_builder_spec(xarch::BuilderSpec spec) : value(std::move(spec)) {
        for (const xarch::NodeSpec& node : value.nodes) {
            items.push_back(Node{node, std::unique_ptr<xarch_platform_list>(
                                           xarch::capi::new_platform_list(node.platforms))});
        }
    }

    xarch::BuilderSpec value;
    std::vector<Node> items;  // named `items` for capi::item()
};

struct xarch_builder_spec_list {
    std::vector<xarch_builder_spec> items;
};

struct xarch_builder_store {
    explicit xarch_builder_store(const char* dir)
        : value(dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir)),
          file(value.file().string()) {}

    xarch::BuilderStore value;
    std::string file;  // value.file()
};

struct xarch_node_status {
    explicit xarch_node_status(xarch::NodeStatus status)
        : value(std::move(status)),
          native(xarch::capi::new_platform_list(value.native)),
          emulated(xarch::capi::new_platform_list(value.emulated)) {}

    xarch::NodeStatus value;
    std::unique_ptr<xarch_platform_list> native;
    std::unique_ptr<xarch_platform_list> emulated;
};

namespace xarch::capi {
namespace {

// The C driver value mirrors xarch::Driver value for value.
static_assert(static_cast<int>(Driver::kEmbedded) == XARCH_DRIVER_EMBEDDED);
static_assert(static_cast<int>(Driver::kDocker) == XARCH_DRIVER_DOCKER);

Driver to_driver(int driver) {
    switch (driver) {
        case 0:
        case XARCH_DRIVER_DOCKER:
            return Driver::kDocker;
        case XARCH_DRIVER_EMBEDDED:
            return Driver::kEmbedded;
        default:
            fail(ErrorCode::kInvalidArgument,
                 "unknown driver " + std::to_string(driver) +
                     " (use XARCH_DRIVER_DOCKER or XARCH_DRIVER_EMBEDDED)");
    }
}

std::string text_or_empty(const char* text) {
    return text == nullptr ? std::string() : std::string(text);
}

BuilderStore::CreateOptions to_create_options(const xarch_builder_create_options* options) {
    require(options, "options");
    check_version(options->version, "xarch_builder_create_options",
                  XARCH_BUILDER_CREATE_OPTIONS_VERSION);
    BuilderStore::CreateOptions out;
    out.name = text_or_empty(options->name);
    out.driver = to_driver(options->driver);
    out.endpoint = text_or_empty(options->endpoint);
    out.platforms = to_platforms(options->platforms, options->platforms_count, "platforms");
    out.node_name = text_or_empty(options->node_name);
    out.append = options->append != 0;
    out.use = options->use != 0;
    return out;
}

const xarch_builder_spec::Node& node_of(const xarch_builder_spec* spec, std::size_t node) {
    return item(spec, node);
}

}  // namespace
}  // namespace xarch::capi

namespace capi = xarch::capi;

extern "C" {

// ---- xarch_builder_store ------------------------------------------------------------------------

int xarch_builder_store_new(xarch_builder_store** out, const char* dir) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_builder_store(dir != nullptr && dir[0] != '\0' ? dir : nullptr);
    });
}

void xarch_builder_store_free(xarch_builder_store* store) {
    capi::guard(capi::no_result, [store] { delete store; });
}

const char* xarch_builder_store_file(const xarch_builder_store* store) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::require(store, "store")->file.c_str(); });
}

int xarch_builder_store_list(xarch_builder_spec_list** out, const xarch_builder_store* store) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(store, "store");
        auto list = std::make_unique<xarch_builder_spec_list>();
        for (xarch::BuilderSpec& spec : store->value.list()) {
            list->items.emplace_back(std::move(spec));
        }
        *out = list.release();
    });
}

int xarch_builder_store_get(xarch_builder_spec** out,
                            const xarch_builder_store* store,
                            const char* name) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(store, "store");
        capi::require(name, "name");
        *out = new xarch_builder_spec(name[0] == '\0' ? store->value.current()
                                                      : store->value.get(name));
    });
}

int xarch_builder_store_current_name(xarch_buf* out, const xarch_builder_store* store) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::require(store, "store");
        capi::fill_buf(out, store->value.current_name());
    });
}

int xarch_builder_create_options_init(xarch_builder_create_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::check_version(version, "xarch_builder_create_options",
                            XARCH_BUILDER_CREATE_OPTIONS_VERSION);
        *out = xarch_builder_create_options XARCH_BUILDER_CREATE_OPTIONS_INIT;
        out->version = version;
    });
}

int xarch_builder_store_create(xarch_builder_spec** out,
                               xarch_builder_store* store,
                               const xarch_builder_create_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(store, "store");
        *out = new xarch_builder_spec(store->value.create(capi::to_create_options(options)));
    });
}

int xarch_builder_store_remove_node(xarch_builder_spec** out,
                                    xarch_builder_store* store,
                                    const char* builder,
                                    const char* node) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(store, "store");
        capi::require(builder, "builder");
        capi::require(node, "node");
        *out = new xarch_builder_spec(store->value.remove_node(builder, node));
    });
}

int xarch_builder_store_use(xarch_builder_store* store, const char* name) {
    return capi::guard([&] {
        capi::require(store, "store");
        capi::require(name, "name");
        store->value.use(name);
    });
}

int xarch_builder_store_remove(xarch_builder_store* store, const char* name) {
    return capi::guard([&] {
        capi::require(store, "store");
        capi::require(name, "name");
        store->value.remove(name);
    });
}

// ---- xarch_builder_spec_list and xarch_builder_spec ---------------------------------------------

size_t xarch_builder_spec_list_size(const xarch_builder_spec_list* list) {
    return capi::guard(std::size_t{0}, [&] { return capi::require(list, "list")->items.size(); });
}

const xarch_builder_spec* xarch_builder_spec_list_get(const xarch_builder_spec_list* list,
                                                      size_t index) {
    return capi::guard(static_cast<const xarch_builder_spec*>(nullptr),
                       [&] { return &capi::item(list, index); });
}

void xarch_builder_spec_list_free(xarch_builder_spec_list* list) {
    capi::guard(capi::no_result, [list] { delete list; });
}

const char* xarch_builder_spec_name(const xarch_builder_spec* spec) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::require(spec, "spec")->value.name.c_str(); });
}

int xarch_builder_spec_driver(const xarch_builder_spec* spec) {
    return capi::guard(0, [&] {
        const xarch_builder_spec* s = capi::require(spec, "spec");
        return s->value.nodes.empty() ? 0 : static_cast<int>(s->value.driver());
    });
}

void xarch_builder_spec_free(xarch_builder_spec* spec) {
    capi::guard(capi::no_result, [spec] { delete spec; });
}

size_t xarch_builder_spec_node_count(const xarch_builder_spec* spec) {
    return capi::guard(std::size_t{0}, [&] { return capi::require(spec, "spec")->items.size(); });
}

const char* xarch_builder_spec_node_name(const xarch_builder_spec* spec, size_t node) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::node_of(spec, node).value.name.c_str(); });
}

int xarch_builder_spec_node_driver(const xarch_builder_spec* spec, size_t node) {
    return capi::guard(0, [&] { return static_cast<int>(capi::node_of(spec, node).value.driver); });
}

const char* xarch_builder_spec_node_endpoint(const xarch_builder_spec* spec, size_t node) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::node_of(spec, node).value.endpoint.c_str(); });
}

const xarch_platform_list* xarch_builder_spec_node_platforms(const xarch_builder_spec* spec,
                                                             size_t node) {
    return capi::guard(
        static_cast<const xarch_platform_list*>(nullptr),
        [&]() -> const xarch_platform_list* { return capi::node_of(spec, node).platforms.get(); });
}

int xarch_builder_spec_inspect_node(xarch_node_status** out,
                                    const xarch_builder_spec* spec,
                                    size_t node) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_node_status(xarch::inspect_node(capi::node_of(spec, node).value));
    });
}

// ---- xarch_node_status --------------------------------------------------------------------------

const char* xarch_node_status_status(const xarch_node_status* status) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::require(status, "status")->value.status.c_str(); });
}

int xarch_node_status_running(const xarch_node_status* status) {
    return capi::guard(0, [&] { return capi::require(status, "status")->value.running() ? 1 : 0; });
}

const char* xarch_node_status_error(const xarch_node_status* status) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::require(status, "status")->value.error.c_str(); });
}

const char* xarch_node_status_version(const xarch_node_status* status) {
    return capi::guard(static_cast<const char*>(nullptr),
                       [&] { return capi::require(status, "status")->value.version.c_str(); });
}

const xarch_platform_list* xarch_node_status_native(const xarch_node_status* status) {
    return capi::guard(static_cast<const xarch_platform_list*>(nullptr),
                       [&]() -> const xarch_platform_list* {
                           return capi::require(status, "status")->native.get();
                       });
}

const xarch_platform_list* xarch_node_status_emulated(const xarch_node_status* status) {
    return capi::guard(static_cast<const xarch_platform_list*>(nullptr),
                       [&]() -> const xarch_platform_list* {
                           return capi::require(status, "status")->emulated.get();
                       });
}

void xarch_node_status_free(xarch_node_status* status) {
    capi::guard(capi::no_result, [status] { delete status; });
}

}  // extern "C"
