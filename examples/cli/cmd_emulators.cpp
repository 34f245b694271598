// SPDX-License-Identifier: Apache-2.0
// `xarch emulators ls|install|uninstall`: QEMU emulators in binfmt_misc, the library's
// counterpart of `docker run --privileged tonistiigi/binfmt --install all`.
#include "command.hpp"
#include "emulator_flags.hpp"
#include "output.hpp"
#include "table.hpp"
#include "xarch/emulators.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <ostream>

namespace xarch::cli {

namespace {

const char* describe(emulators::Outcome outcome) {
    switch (outcome) {
        case emulators::Outcome::kInstalled:
            return "OK";
        case emulators::Outcome::kAlreadyInstalled:
            return "already installed";
        case emulators::Outcome::kNative:
            return "native, nothing to install";
        case emulators::Outcome::kUninstalled:
            return "OK";
        case emulators::Outcome::kNotInstalled:
            return "not installed";
    }
    return "";
}

int run_emulators_ls(const ParsedArgs& args, Io& io) {
    const Format format = output_format(args);
    const emulators::Options options = emulator_options(args);
    const std::vector<Platform> native = emulators::native_platforms();
    const std::vector<emulators::Emulator> known = emulators::list(options);

    if (format == Format::kJson) {
        // The shape of tonistiigi/binfmt's status, which scripts already parse.
        boost::json::array supported;
        for (const Platform& p : emulators::runnable_platforms(options)) {
            supported.emplace_back(p.to_string());
        }
        boost::json::array names;
        for (const emulators::Handler& h : emulators::handlers(options)) {
            if (h.enabled) {
                names.emplace_back(h.name);
            }
        }
        io.out << boost::json::serialize(
                      boost::json::object{{"supported", supported}, {"emulators", names}})
               << '\n';
        return kExitOk;
    }
    Table table({"PLATFORM", "EMULATOR", "STATUS", "INTERPRETER"});
    for (const Platform& p : native) {
        table.add_row({p.to_string(), "-", "native", "-"});
    }
    for (const emulators::Emulator& e : known) {
        const char* status = e.registered ? "installed" : e.present ? "available" : "not present";
        table.add_row({e.platform.to_string(), e.name, status, e.path});
    }
    table.print(io.out);
    return kExitOk;
}

int print_changes(const std::vector<emulators::Change>& changes,
                  const char* verb,
                  const emulators::Options& options,
                  Io& io) {
    for (const emulators::Change& c : changes) {
        io.out << verb << ": " << c.name << " (" << c.platform.to_string() << ") "
               << describe(c.outcome) << '\n';
    }
    io.out << "platforms: " << join_platforms(emulators::runnable_platforms(options)) << '\n';
    return kExitOk;
}

int run_install(const ParsedArgs& args, Io& io) {
    const emulators::Options options = emulator_options(args);
    return print_changes(emulators::install(args.positional.at(0), options), "installing", options,
                         io);
}

int run_uninstall(const ParsedArgs& args, Io& io) {
    const emulators::Options options = emulator_options(args);
    return print_changes(emulators::uninstall(args.positional.at(0), options), "uninstalling",
                         options, io);
}

}  // namespace

Command make_emulators_command() {
    std::vector<FlagSpec> ls_flags = emulator_flags();
    ls_flags.push_back(format_flag());
    std::vector<FlagSpec> install_flags = emulator_flags();
    install_flags.push_back({"preserve-argv0", '\0', false, "",
                             "Register with the P flag (the emulator sees the original argv[0])",
                             ""});
    Command ls{
        .name = "ls",
        .usage = "[OPTIONS]",
        .summary = "List emulators and the platforms they run",
        .description =
            "List the platforms this host runs natively and the QEMU emulators xarch\n"
            "knows, with their state: installed (registered in binfmt_misc),\n"
            "available (on disk, not registered) or not present.",
        .flags = ls_flags,
        .subcommands = {},
        .run = run_emulators_ls,
    };
    Command install{
        .name = "install",
        .usage = "[OPTIONS] all|PLATFORM[,PLATFORM...]",
        .summary = "Register QEMU emulators in binfmt_misc",
        .description =
            "Register QEMU user emulators (Debian's qemu-user-static) in binfmt_misc with the F\n"
            "flag, so that binaries of those platforms run here, also in chroots and containers.\n"
            "\"all\" registers every emulator present for a platform this host does not run\n"
            "natively. Needs root.\n\n"
            "Examples:\n  xarch emulators install all\n  xarch emulators install arm64,arm",
        .flags = install_flags,
        .subcommands = {},
        .run = run_install,
        .min_args = 1,
        .max_args = 1,
    };
    Command uninstall{
        .name = "uninstall",
        .usage = "[OPTIONS] all|PLATFORM[,PLATFORM...]",
        .summary = "Remove emulators from binfmt_misc",
        .description =
            "Remove the binfmt_misc handlers that run the given platforms (or emulator\n"
            "names such as qemu-aarch64). Needs root.",
        .flags = emulator_flags(),
        .subcommands = {},
        .run = run_uninstall,
        .min_args = 1,
        .max_args = 1,
    };
    return Command{
        .name = "emulators",
        .usage = "",
        .summary = "Manage QEMU emulators for foreign platforms",
        .description =
            "Manage the QEMU user emulators that let this host build for foreign\n"
            "platforms.",
        .flags = {},
        .subcommands = {ls, install, uninstall},
        .run = nullptr,
    };
}

}  // namespace xarch::cli
