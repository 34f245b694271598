// SPDX-License-Identifier: Apache-2.0
// `xarch debug ...`: views of xarch's internals for people comparing it with buildx.
#include "command.hpp"
#include "xarch/error.hpp"
#include "xarch/platform.hpp"

// The parser is an internal module (lib/dockerfile) with no public header yet; the tool reaches it
// through lib/ on its include path (examples/cli/CMakeLists.txt).
#include "dockerfile/ast_dump.hpp"
#include "dockerfile/parser.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <ostream>
#include <string>

namespace xarch::cli {

namespace {

int run_platform(const ParsedArgs& args, Io& io) {
    const bool unnormalized = args.has("unnormalized");
    for (const std::string& arg : args.positional) {
        if (!unnormalized) {
            for (const Platform& p : Platform::parse_list(arg)) {
                io.out << p.to_string() << '\n';
            }
            continue;
        }
        // containerd's Parse on each element, as is: no normalization, no de-duplication.
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = arg.find(',', start);
            const std::string element = arg.substr(start, comma - start);
            io.out << Platform::parse_unnormalized(element).to_string_all() << '\n';
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }
    return kExitOk;
}

// The whole file (or standard input for "-") as bytes.
std::string read_input(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                    "cannot read " + path + ": " + std::strerror(err));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

int run_dockerfile_ast(const ParsedArgs& args, Io& io) {
    const std::string& path = args.positional.front();
    const std::string text = read_input(path);
    dockerfile::ParseOptions options;
    options.file_name = path == "-" ? "<stdin>" : path;
    const dockerfile::ParseResult result = dockerfile::parse(text, options);
    for (const dockerfile::Warning& w : result.warnings) {
        io.err << "WARNING: " << options.file_name << ':' << w.line << ": " << w.short_text << '\n';
    }
    if (args.has("check")) {
        dockerfile::check_instructions(result);
    }
    io.out << dockerfile::dump(result) << '\n';
    return kExitOk;
}

}  // namespace

Command make_debug_command() {
    Command platform{
        .name = "platform",
        .usage = "[OPTIONS] PLATFORM[,PLATFORM...]...",
        .summary = "Print platforms as xarch parses them",
        .description =
            "Parse platforms as --platform does (\"local\" is this host; each value normalized,\n"
            "duplicates dropped) and print one a line.\n\n"
            "Example:\n  xarch debug platform amd64,arm,arm64",
        .flags = {{"unnormalized", '\0', false, "",
                   "Print containerd's parse without normalizing (arm stays linux/arm)", ""}},
        .subcommands = {},
        .run = run_platform,
        .min_args = 1,
        .max_args = -1,
    };
    Command dockerfile_ast{
        .name = "dockerfile-ast",
        .usage = "[OPTIONS] FILE",
        .summary = "Print a Dockerfile's syntax tree as BuildKit dumps it",
        .description =
            "Parse a Dockerfile as BuildKit does and print its syntax tree in the format of\n"
            "BuildKit's parser test files: one (instruction [\"--flags\"] \"arg\" ...) a line.\n"
            "FILE \"-\" reads standard input. Parser warnings go to standard error.\n\n"
            "Example:\n  xarch debug dockerfile-ast Dockerfile",
        .flags = {{"check", '\0', false, "",
                   "Also report unknown instructions and bad flags, as a build would", ""}},
        .subcommands = {},
        .run = run_dockerfile_ast,
        .min_args = 1,
        .max_args = 1,
    };
    return Command{
        .name = "debug",
        .usage = "",
        .summary = "Inspect how xarch reads its inputs",
        .description = "Inspect how xarch reads its inputs.",
        .flags = {},
        .subcommands = {platform, dockerfile_ast, make_debug_plan_command(),
                        make_debug_context_files_command()},
        .run = nullptr,
    };
}

}  // namespace xarch::cli
