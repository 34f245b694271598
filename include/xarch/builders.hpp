// SPDX-License-Identifier: Apache-2.0
// Builders as buildx has them: a named list of nodes, each an endpoint that runs steps (this
// process, or a Docker Engine) with the platforms it builds; `xarch create/use/rm/ls` keep them
// in builders.json. A Builder given one routes each platform to the node that runs it natively,
// else to one that emulates it, and builds on all nodes at once.
#pragma once

#include <xarch/platform.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch {

/// Where a node runs its steps.
enum class Driver {
    kEmbedded = 1,  // in this process (sandboxed RUN, QEMU through binfmt_misc)
    kDocker = 2,    // a Docker Engine, over its HTTP API (POST /build per platform)
};

/// "embedded", "docker".
std::string_view to_string(Driver driver) noexcept;
/// The inverse of to_string(); Error(kInvalidArgument) quoting anything else and naming both.
Driver parse_driver(std::string_view text);

struct NodeSpec {
    /// Unique within its builder; `xarch create` names them NAME0, NAME1, ... as buildx does.
    std::string name;
    Driver driver = Driver::kEmbedded;
    /// kDocker: "unix:///path", "tcp://host:port" or a Docker context name; "" means
    /// $DOCKER_HOST, else the current Docker context, else unix:///var/run/docker.sock.
    /// kEmbedded: "" (shown as "local").
    std::string endpoint;
    /// `--platform` at create: the platforms this node is meant to build. They are routed here
    /// before any other node's, and count as native.
    std::vector<Platform> platforms;

    friend bool operator==(const NodeSpec&, const NodeSpec&) = default;
};

struct BuilderSpec {
    std::string name;
    std::vector<NodeSpec> nodes;

    /// The first node's driver (what `xarch ls` shows for the builder).
    Driver driver() const;
    friend bool operator==(const BuilderSpec&, const BuilderSpec&) = default;
};

/// What a node can do now, as `xarch ls` shows it.
struct NodeStatus {
    /// "running" (reachable), "error" (not reachable or refused: `error` says why).
    std::string status;
    std::string error;
    /// The engine's version ("20.10.24+dfsg1"), or xarch's for an embedded node.
    std::string version;
    /// Declared platforms first, then what the node runs without emulation.
    std::vector<Platform> native;
    /// What it runs through QEMU: the host's binfmt_misc handlers for an embedded node or an
    /// engine on a local unix socket (same kernel); nothing known for a remote engine.
    std::vector<Platform> emulated;

    bool running() const noexcept { return status == "running"; }
};

/// Asks the node (an engine: /_ping, /version, /info; embedded: this host). Never throws for an
/// unreachable engine: the status says so.
NodeStatus inspect_node(const NodeSpec& node);

/// The builders `xarch create` made, in `<dir>/builders.json`, written atomically (a reader sees
/// the old file or the new one). "default" always exists: one embedded node, not stored.
/// Several processes may use one store; each call reads the file again.
class BuilderStore {
public:
    /// `dir` "": $XDG_CONFIG_HOME/xarch, else $HOME/.config/xarch.
    explicit BuilderStore(std::filesystem::path dir = {});

    const std::filesystem::path& file() const;
    /// "default" first, then the stored builders by name.
    std::vector<BuilderSpec> list() const;
    std::optional<BuilderSpec> find(std::string_view name) const;
    /// Error(kNotFound) quoting the name and listing those that exist.
    BuilderSpec get(std::string_view name) const;
    /// The builder `use` chose ("default" until then, and after it is removed).
    std::string current_name() const;
    BuilderSpec current() const;

    struct CreateOptions {
        /// "" makes a name ("xarch0", "xarch1", ...). Lowercase letters, digits, '-', '_', '.'.
        std::string name;
        Driver driver = Driver::kDocker;
        std::string endpoint;
        std::vector<Platform> platforms;
        /// "" names the node NAME<index>.
        std::string node_name;
        /// Add a node to an existing builder (Error(kNotFound) when there is none); without it
        /// an existing name is Error(kAlreadyExists).
        bool append = false;
        /// Make it the current builder.
        bool use = false;
    };
    /// Returns the builder as stored. Error(kInvalidArgument) for a bad name, a second node
    /// with the same name or endpoint, or an embedded node with an endpoint.
    BuilderSpec create(const CreateOptions& options);
    /// Removes one node (`create --leave --node`); removing the last removes the builder.
    BuilderSpec remove_node(std::string_view builder, std::string_view node);
    /// Error(kNotFound) for an unknown builder.
    void use(std::string_view name);
    /// Error(kInvalidArgument) for "default"; the current builder removed makes "default"
    /// current again.
    void remove(std::string_view name);

private:
    std::filesystem::path dir_;
    std::filesystem::path file_;
};

}  // namespace xarch
