// SPDX-License-Identifier: Apache-2.0
// `xarch ls`: the builders and their nodes with the platforms each runs, like `docker buildx ls`.
// Until builders with several nodes exist there is one: the embedded builder on this host.
#include "command.hpp"
#include "emulator_flags.hpp"
#include "output.hpp"
#include "table.hpp"
#include "xarch/emulators.hpp"
#include "xarch/error.hpp"
#include "xarch/version.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>

namespace xarch::cli {

namespace {

boost::json::array to_json(const std::vector<Platform>& platforms) {
    boost::json::array out;
    for (const Platform& p : platforms) {
        out.emplace_back(p.to_string());
    }
    return out;
}

int run_ls(const ParsedArgs& args, Io& io) {
    const Format format = output_format(args);
    const emulators::Options options = emulator_options(args);
    const std::vector<Platform> native = emulators::native_platforms();
    // Emulated platforms follow the native ones; a host without binfmt_misc still builds natively.
    std::vector<Platform> runnable = native;
    std::string status = "running";
    try {
        runnable = emulators::runnable_platforms(options);
    } catch (const xarch::Error& e) {
        io.err << "WARNING: emulated platforms unknown: " << e.what() << '\n';
    }
    std::vector<Platform> emulated;
    for (const Platform& p : runnable) {
        if (std::find(native.begin(), native.end(), p) == native.end()) {
            emulated.push_back(p);
        }
    }

    if (format == Format::kJson) {
        boost::json::object node{{"name", "default"},
                                 {"endpoint", "local"},
                                 {"status", status},
                                 {"version", std::string(xarch::version())},
                                 {"platforms", to_json(runnable)},
                                 {"native", to_json(native)},
                                 {"emulated", to_json(emulated)}};
        boost::json::object builder{{"name", "default"},
                                    {"driver", "embedded"},
                                    {"current", true},
                                    {"nodes", boost::json::array{node}}};
        io.out << boost::json::serialize(builder) << '\n';
        return kExitOk;
    }
    Table table({"NAME/NODE", "DRIVER/ENDPOINT", "STATUS", "XARCH", "PLATFORMS"});
    table.add_row({"default*", "embedded", "", "", ""});
    table.add_row({" \\_ default", " \\_ local", status, "v" + std::string(xarch::version()),
                   join_platforms(runnable)});
    table.print(io.out);
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
            "List builders, their nodes and the platforms each node builds for: the\n"
            "native ones first, then those emulated through binfmt_misc.",
        .flags = flags,
        .subcommands = {},
        .run = run_ls,
    };
}

}  // namespace xarch::cli
