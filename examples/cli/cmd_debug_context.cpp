// SPDX-License-Identifier: Apache-2.0
// `xarch debug context-files`: the files of a build context as a build would see them, after
// the ignore rules, one a line, in walk order.
#include "command.hpp"
#include "xarch/context.hpp"

#include <unistd.h>

#include <ostream>
#include <string>

namespace xarch::cli {
namespace {

int run_context_files(const ParsedArgs& args, Io& io) {
    const std::string& path = args.positional.front();
    // "-" is a tar stream on standard input, as `docker build -` takes it.
    BuildContext ctx =
        path == "-" ? BuildContext::from_tar_fd(STDIN_FILENO) : BuildContext::from_directory(path);
    if (args.has("file")) {
        ctx.set_dockerfile(args.get("file"));
    }
    ScanOptions options;
    options.use_cache = !args.has("no-cache");
    const bool digests = args.has("digests");
    for (const ContextEntry& e : ctx.scan(options)) {
        if (digests) {
            if (e.type == ContextEntryType::kRegular) {
                io.out << e.digest.to_string() << ' ';
            } else {
                // Padded to the digest's width so that paths line up.
                const std::string label(to_string(e.type));
                io.out << label << std::string(71 - label.size(), ' ') << ' ';
            }
        }
        io.out << e.path;
        if (e.type == ContextEntryType::kDirectory) {
            io.out << '/';
        } else if (digests && e.type == ContextEntryType::kSymlink) {
            io.out << " -> " << e.link_target;
        }
        io.out << '\n';
    }
    return kExitOk;
}

}  // namespace

Command make_debug_context_files_command() {
    return Command{
        .name = "context-files",
        .usage = "[OPTIONS] PATH",
        .summary = "List the files a build would see in a context",
        .description =
            "Scan a build context as a build does and print the entries it would send, one a\n"
            "line in walk order (a directory, shown with a trailing '/', before its contents):\n"
            "the .dockerignore rules applied (<Dockerfile>.dockerignore beside the Dockerfile\n"
            "wins), the Dockerfile and the ignore file always kept. PATH \"-\" reads a tar\n"
            "stream of the context from standard input. Digests of unchanged files come from\n"
            "the stat cache in $XDG_CACHE_HOME/xarch.\n\n"
            "Examples:\n"
            "  xarch debug context-files .\n"
            "  xarch debug context-files -f docker/app.Dockerfile --digests .",
        .flags = {{"file", 'f', true, "string",
                   "Name of the Dockerfile (relative to the current directory)", "PATH/Dockerfile"},
                  {"digests", '\0', false, "", "Print each file's sha256 digest before it", ""},
                  {"no-cache", '\0', false, "", "Hash every file, without the stat cache", ""}},
        .subcommands = {},
        .run = run_context_files,
        .min_args = 1,
        .max_args = 1,
    };
}

}  // namespace xarch::cli
