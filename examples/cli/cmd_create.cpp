// SPDX-License-Identifier: Apache-2.0
// `xarch create`: makes a builder, or adds a node to one (--append) or takes one out (--leave),
// as `docker buildx create` does; prints the builder's name.
#include "command.hpp"
#include "xarch/builders.hpp"
#include "xarch/error.hpp"

#include <ostream>
#include <string>

namespace xarch::cli {

namespace {

int run_create(const ParsedArgs& args, Io& io) {
    BuilderStore store;
    const std::string name = args.get("name");
    if (args.has("leave")) {
        if (name.empty() || args.get("node").empty()) {
            throw UsageError("--leave needs the builder's --name and the --node to remove");
        }
        if (!args.positional.empty()) {
            throw UsageError("--leave takes no endpoint (\"" + args.positional[0] +
                             "\" given): the node is named by --node");
        }
        store.remove_node(name, args.get("node"));
        return kExitOk;
    }
    BuilderStore::CreateOptions options;
    options.name = name;
    options.driver = args.has("driver") ? parse_driver(args.get("driver")) : Driver::kDocker;
    options.endpoint = args.positional.empty() ? std::string() : args.positional[0];
    for (const std::string& value : args.all("platform")) {
        for (Platform& p : Platform::parse_list(value)) {
            options.platforms.push_back(std::move(p));
        }
    }
    options.node_name = args.get("node");
    options.append = args.has("append");
    options.use = args.has("use");
    const BuilderSpec builder = store.create(options);
    io.out << builder.name << '\n';
    return kExitOk;
}

}  // namespace

Command make_create_command() {
    return Command{
        .name = "create",
        .usage = "[OPTIONS] [ENDPOINT]",
        .summary = "Create a new builder",
        .description =
            "Create a builder, or add a node to one (--append): a Docker Engine at ENDPOINT\n"
            "(unix:///path, tcp://host:port or a Docker context name; none: DOCKER_HOST, else\n"
            "the current Docker context) or, with --driver embedded, this process. Each\n"
            "platform of a build goes to a node that declares it (--platform), else to one\n"
            "that runs it natively, else to one that emulates it. Builders are kept in\n"
            "$XDG_CONFIG_HOME/xarch/builders.json (default ~/.config/xarch).",
        .flags = {{"name", '\0', true, "string", "Builder instance name", ""},
                  {"driver", '\0', true, "string", "Driver to use (embedded, docker)", "docker"},
                  {"platform", '\0', true, "stringArray",
                   "Fixed platforms for current node (e.g. linux/amd64,linux/arm64)", ""},
                  {"append", '\0', false, "", "Append a node to builder instead of changing it",
                   ""},
                  {"node", '\0', true, "string", "Create/modify node with given name", ""},
                  {"leave", '\0', false, "", "Remove a node from builder instead of changing it",
                   ""},
                  {"use", '\0', false, "", "Set the current builder instance", ""}},
        .subcommands = {},
        .run = run_create,
        .min_args = 0,
        .max_args = 1,
    };
}

}  // namespace xarch::cli
