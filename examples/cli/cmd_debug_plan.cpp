// SPDX-License-Identifier: Apache-2.0
// `xarch debug plan`: the build plan of a Dockerfile for the requested platforms, as the solver
// would receive it, one line per stage instance and per step (format:
// lib/dockerfile/plan_dump.hpp).
#include "command.hpp"
#include "xarch/error.hpp"
#include "xarch/platform.hpp"

// The planner is internal (lib/dockerfile); the tool reaches it through lib/ on its include path.
#include "dockerfile/parser.hpp"
#include "dockerfile/plan.hpp"
#include "dockerfile/plan_dump.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <ostream>
#include <string>

namespace xarch::cli {

namespace {

std::string read_dockerfile(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                    "cannot read " + path + ": " + std::strerror(err) +
                        " (give the Dockerfile with -f FILE, or put one in the context)");
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// --build-arg KEY=VALUE, or KEY alone to take the value from the environment (skipped when the
// variable is unset), as docker build does.
void add_build_arg(const std::string& spec, dockerfile::PlanOptions& options) {
    const std::size_t eq = spec.find('=');
    if (eq == 0 || spec.empty()) {
        throw UsageError("invalid --build-arg \"" + spec + "\": write KEY=VALUE or KEY");
    }
    if (eq != std::string::npos) {
        options.build_args[spec.substr(0, eq)] = spec.substr(eq + 1);
        return;
    }
    if (const char* value = std::getenv(spec.c_str())) {
        options.build_args[spec] = value;
    }
}

int run_plan(const ParsedArgs& args, Io& io) {
    const std::filesystem::path context = args.positional.front();
    std::string file = args.get("file");
    if (file.empty()) {
        file = (context / "Dockerfile").string();
    }
    dockerfile::PlanOptions options;
    for (const std::string& list : args.all("platform")) {
        for (Platform& p : Platform::parse_list(list)) {
            bool seen = false;
            for (const Platform& q : options.platforms) {
                seen = seen || q == p;
            }
            if (!seen) {
                options.platforms.push_back(std::move(p));
            }
        }
    }
    for (const std::string& spec : args.all("build-arg")) {
        add_build_arg(spec, options);
    }
    options.target = args.get("target");

    const std::string text = read_dockerfile(file);
    dockerfile::ParseOptions parse_options;
    parse_options.file_name = file == "-" ? "<stdin>" : file;
    const dockerfile::ParseResult ast = dockerfile::parse(text, parse_options);
    for (const dockerfile::Warning& w : ast.warnings) {
        io.err << "WARNING: " << parse_options.file_name << ':' << w.line << ": " << w.short_text
               << '\n';
    }
    const dockerfile::Plan plan = dockerfile::plan(ast, options);
    for (const std::string& warning : plan.warnings) {
        io.err << warning << '\n';
    }
    io.out << dockerfile::dump(plan);
    return kExitOk;
}

}  // namespace

Command make_debug_plan_command() {
    return Command{
        .name = "plan",
        .usage = "[OPTIONS] PATH",
        .summary = "Print the build plan of a Dockerfile: stage instances and resolved steps",
        .description =
            "Read PATH/Dockerfile (or -f FILE) as BuildKit's frontend does and print the build\n"
            "plan: one line per stage instance (a stage for a platform; shared when identical\n"
            "for several platforms), then one line per step with its expanded values and the\n"
            "variables it used, then which instance each platform's result is. Warnings (an\n"
            "unused --build-arg) go to standard error.\n\n"
            "Lines:\n"
            "  instance N STAGE PLATFORM for P1,P2 from image \"REF\"|instance N|scratch\n"
            "    LINE KEYWORD VALUES [uses [K=\"v\" ...]] [unset [K ...]] [deferred [K ...]]\n"
            "      [(onbuild)]   (deferred: left to the base image's environment)\n"
            "  result PLATFORM instance N\n\n"
            "Example:\n  xarch debug plan --platform amd64,arm,arm64 .",
        .flags =
            {
                {"platform", '\0', true, "list",
                 "Target platforms, comma-separated (repeatable); default: this host", ""},
                {"build-arg", '\0', true, "KEY=VALUE", "Set a build argument (repeatable)", ""},
                {"target", '\0', true, "stage", "Plan up to this stage", ""},
                {"file", 'f', true, "FILE", "The Dockerfile (\"-\" reads standard input)",
                 "PATH/Dockerfile"},
            },
        .subcommands = {},
        .run = run_plan,
        .min_args = 1,
        .max_args = 1,
    };
}

}  // namespace xarch::cli
