// SPDX-License-Identifier: Apache-2.0
// `xarch ls`: the builders and their nodes with the status and platforms of each, like
// `docker buildx ls`. Every node is asked at once (one thread each), so a slow engine costs its
// own time only.
#include "command.hpp"
#include "emulator_flags.hpp"
#include "output.hpp"
#include "table.hpp"
#include "xarch/builders.hpp"
#include "xarch/error.hpp"

// The binfmt_misc flags reach the node inspection through its internal form, as `xarch debug`
// reaches internals.
#include "drivers/builders/inspect.hpp"
#include "engine/endpoint.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <exception>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace xarch::cli {

namespace {

boost::json::array to_json(const std::vector<Platform>& platforms) {
    boost::json::array out;
    for (const Platform& p : platforms) {
        out.emplace_back(p.to_string());
    }
    return out;
}

bool contains(const std::vector<Platform>& platforms, const Platform& platform) {
    return std::find(platforms.begin(), platforms.end(), platform) != platforms.end();
}

// Native platforms, then emulated ones, each once.
std::vector<Platform> all_platforms(const NodeStatus& status) {
    std::vector<Platform> out = status.native;
    for (const Platform& p : status.emulated) {
        if (!contains(out, p)) {
            out.push_back(p);
        }
    }
    return out;
}

// The PLATFORMS column: declared ones marked with '*' as buildx marks them.
std::string platforms_column(const NodeSpec& node, const NodeStatus& status) {
    std::string out;
    for (const Platform& p : all_platforms(status)) {
        out += (out.empty() ? "" : ", ") + p.to_string();
        if (contains(node.platforms, p)) {
            out += '*';
        }
    }
    return out;
}

// What the node is reached at: "local" for this process, the engine's address for a Docker
// node (its DOCKER_HOST or Docker context resolved, as buildx shows them).
std::string endpoint_column(const NodeSpec& node) {
    if (node.driver == Driver::kEmbedded) {
        return "local";
    }
    try {
        return engine::resolve_endpoint(node.endpoint).host;
    } catch (const std::exception&) {
        return node.endpoint.empty() ? std::string("default") : node.endpoint;
    }
}

std::string version_column(const NodeSpec& node, const NodeStatus& status) {
    if (status.version.empty()) {
        return {};
    }
    return node.driver == Driver::kEmbedded ? "v" + status.version : status.version;
}

// Asks every node of every builder at once; statuses[b][n] belongs to builders[b].nodes[n].
std::vector<std::vector<NodeStatus>> inspect_all(const std::vector<BuilderSpec>& builders,
                                                 const drivers::InspectOptions& options) {
    std::vector<std::vector<NodeStatus>> statuses;
    for (const BuilderSpec& b : builders) {
        statuses.emplace_back(b.nodes.size());
    }
    std::vector<std::thread> threads;
    for (std::size_t b = 0; b < builders.size(); ++b) {
        for (std::size_t n = 0; n < builders[b].nodes.size(); ++n) {
            threads.emplace_back([&, b, n] {
                NodeStatus& out = statuses[b][n];
                // inspect_node reports an unreachable node in its status; anything else it
                // throws must not leave the thread either.
                try {
                    out = drivers::inspect_node(builders[b].nodes[n], options);
                } catch (const std::exception& e) {
                    out.status = "error";
                    out.error = e.what();
                }
            });
        }
    }
    for (std::thread& t : threads) {
        t.join();
    }
    return statuses;
}

int run_ls(const ParsedArgs& args, Io& io) {
    const Format format = output_format(args);
    drivers::InspectOptions options;
    options.emulators = emulator_options(args);
    BuilderStore store;
    const std::vector<BuilderSpec> builders = store.list();
    const std::string current = store.current_name();
    const std::vector<std::vector<NodeStatus>> statuses = inspect_all(builders, options);

    if (format == Format::kJson) {
        // One object per builder and line, as `docker buildx ls --format json` prints them.
        for (std::size_t b = 0; b < builders.size(); ++b) {
            boost::json::array nodes;
            for (std::size_t n = 0; n < builders[b].nodes.size(); ++n) {
                const NodeSpec& node = builders[b].nodes[n];
                const NodeStatus& status = statuses[b][n];
                boost::json::object o{{"name", node.name},
                                      {"driver", std::string(to_string(node.driver))},
                                      {"endpoint", endpoint_column(node)},
                                      {"status", status.status},
                                      {"version", status.version},
                                      {"platforms", to_json(all_platforms(status))},
                                      {"declared", to_json(node.platforms)},
                                      {"native", to_json(status.native)},
                                      {"emulated", to_json(status.emulated)}};
                if (!status.error.empty()) {
                    o["error"] = status.error;
                }
                nodes.emplace_back(std::move(o));
            }
            const boost::json::object builder{
                {"name", builders[b].name},
                {"driver", std::string(to_string(builders[b].driver()))},
                {"current", builders[b].name == current},
                {"nodes", std::move(nodes)}};
            io.out << boost::json::serialize(builder) << '\n';
        }
        return kExitOk;
    }
    Table table({"NAME/NODE", "DRIVER/ENDPOINT", "STATUS", "VERSION", "PLATFORMS"});
    std::vector<std::string> errors;
    for (std::size_t b = 0; b < builders.size(); ++b) {
        const BuilderSpec& builder = builders[b];
        table.add_row({builder.name + (builder.name == current ? "*" : ""),
                       std::string(to_string(builder.driver())), "", "", ""});
        for (std::size_t n = 0; n < builder.nodes.size(); ++n) {
            const NodeSpec& node = builder.nodes[n];
            const NodeStatus& status = statuses[b][n];
            table.add_row({" \\_ " + node.name, " \\_ " + endpoint_column(node), status.status,
                           version_column(node, status), platforms_column(node, status)});
            if (!status.error.empty()) {
                errors.push_back("node \"" + node.name + "\" of builder \"" + builder.name +
                                 "\": " + status.error);
            }
        }
    }
    table.print(io.out);
    for (const std::string& e : errors) {
        io.err << "WARNING: " << e << '\n';
    }
    return kExitOk;
}

}  // namespace

Command make_ls_command() {
    std::vector<FlagSpec> flags = emulator_flags();
    flags.push_back(format_flag());
    return Command{
        .name = "ls",
        .usage = "[OPTIONS]",
        .summary = "List builders and the platforms they build for",
        .description =
            "List builders, their nodes, each node's status and the platforms it builds for:\n"
            "those declared at create (marked *) and the native ones first, then those\n"
            "emulated through binfmt_misc. The current builder is marked *.",
        .flags = flags,
        .subcommands = {},
        .run = run_ls,
    };
}

}  // namespace xarch::cli
