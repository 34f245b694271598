// SPDX-License-Identifier: Apache-2.0
#include "command.hpp"

#include "xarch/error.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace xarch::cli {

namespace {

const FlagSpec kHelpFlag{"help", 'h', false, "", "Show help for this command", ""};

std::string join_path(const std::vector<const Command*>& path) {
    std::string out;
    for (const Command* c : path) {
        out += (out.empty() ? "" : " ") + c->name;
    }
    return out;
}

std::string help_text(const std::vector<const Command*>& path) {
    const Command& cmd = *path.back();
    std::ostringstream out;
    out << "Usage:  " << join_path(path);
    if (!cmd.subcommands.empty()) {
        out << " COMMAND";
    } else if (!cmd.usage.empty()) {
        out << ' ' << cmd.usage;
    }
    out << "\n\n" << (cmd.description.empty() ? cmd.summary : cmd.description) << "\n";
    if (!cmd.subcommands.empty()) {
        std::size_t width = 0;
        for (const Command& sub : cmd.subcommands) {
            width = std::max(width, sub.hidden ? 0 : sub.name.size());
        }
        out << "\nCommands:\n";
        for (const Command& sub : cmd.subcommands) {
            if (sub.hidden) {
                continue;
            }
            out << "  " << sub.name << std::string(width - sub.name.size() + 3, ' ') << sub.summary
                << '\n';
        }
    }
    out << '\n' << format_flags(flags_with_help(cmd));
    if (!cmd.subcommands.empty()) {
        out << "\nRun '" << join_path(path)
            << " COMMAND --help' for more information on a command.\n";
    }
    return out.str();
}

int usage_error(const std::vector<const Command*>& path, const std::string& message, Io& io) {
    io.err << "ERROR: " << message << "\nSee '" << join_path(path) << " --help'.\n";
    return kExitUsage;
}

}  // namespace

std::vector<FlagSpec> flags_with_help(const Command& cmd) {
    std::vector<FlagSpec> flags = cmd.flags;
    flags.push_back(kHelpFlag);
    return flags;
}

int dispatch(const Command& root, const std::vector<std::string>& args, Io& io) {
    std::vector<const Command*> path{&root};
    std::size_t i = 0;
    // Descend while the next argument names a subcommand; flags before it belong to the parent
    // (only --help and the root's --version are meaningful there).
    std::vector<std::string> own;
    while (i < args.size()) {
        const Command& cur = *path.back();
        auto sub = std::find_if(cur.subcommands.begin(), cur.subcommands.end(),
                                [&](const Command& c) { return c.name == args[i]; });
        if (sub != cur.subcommands.end() && own.empty()) {
            path.push_back(&*sub);
            ++i;
            continue;
        }
        if (!cur.subcommands.empty() && !args[i].starts_with("-") && own.empty()) {
            return usage_error(path, "unknown command: \"" + args[i] + "\"", io);
        }
        own.push_back(args[i++]);
    }
    const Command& cmd = *path.back();
    ParsedArgs parsed;
    try {
        parsed = parse_args(own, flags_with_help(cmd));
    } catch (const UsageError& e) {
        return usage_error(path, e.what(), io);
    }
    if (parsed.has("help")) {
        io.out << help_text(path);
        return kExitOk;
    }
    if (!cmd.run) {
        if (!parsed.positional.empty()) {
            return usage_error(path, "unknown command: \"" + parsed.positional[0] + "\"", io);
        }
        // A group called without a command: show what it offers, as docker does.
        io.out << help_text(path);
        return kExitOk;
    }
    const auto n = static_cast<int>(parsed.positional.size());
    if (n < cmd.min_args || (cmd.max_args >= 0 && n > cmd.max_args)) {
        std::string expected = cmd.min_args == cmd.max_args
                                   ? std::to_string(cmd.min_args)
                                   : (cmd.max_args < 0 ? "at least " + std::to_string(cmd.min_args)
                                                       : std::to_string(cmd.min_args) + " to " +
                                                             std::to_string(cmd.max_args));
        return usage_error(path,
                           "\"" + join_path(path) + "\" requires " + expected +
                               " argument(s), got " + std::to_string(n) +
                               "\nUsage:  " + join_path(path) + " " + cmd.usage,
                           io);
    }
    try {
        return cmd.run(parsed, io);
    } catch (const UsageError& e) {
        return usage_error(path, e.what(), io);
    } catch (const xarch::Error& e) {
        io.err << "ERROR: " << e.what() << '\n';
        return kExitError;
    } catch (const std::exception& e) {
        io.err << "ERROR: " << e.what() << '\n';
        return kExitError;
    }
}

}  // namespace xarch::cli
