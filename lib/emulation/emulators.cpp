// SPDX-License-Identifier: Apache-2.0
// xarch::emulators: the public API, composed from the table (elf_machines), binfmt_misc access
// (binfmt), native probing (probe) and spec parsing (spec).
#include "emulation/binfmt.hpp"
#include "emulation/elf_machines.hpp"
#include "emulation/probe.hpp"
#include "emulation/spec.hpp"
#include "util/quote.hpp"

#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace xarch::emulators {

namespace {

using emulation::KnownEmulator;

std::string emulator_path(const KnownEmulator& emulator, const Options& options) {
    std::string path = options.qemu_dir;
    if (!path.empty() && path.back() != '/') {
        path += '/';
    }
    return path + "qemu-" + std::string(emulator.cpu) + options.qemu_suffix;
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

// One QEMU binary runs every variant of an architecture, so an architecture the host runs natively
// in any variant needs no emulator.
bool is_native(const KnownEmulator& emulator, const std::vector<Platform>& natives) {
    return std::any_of(natives.begin(), natives.end(), [&](const Platform& p) {
        return p.os() == "linux" && p.architecture() == emulator.architecture;
    });
}

const Handler* enabled_handler_for(const KnownEmulator& emulator,
                                   const std::vector<Handler>& handlers) {
    const auto platform = emulator.platform();
    const auto it = std::find_if(handlers.begin(), handlers.end(), [&](const Handler& h) {
        return h.enabled && h.platform == platform;
    });
    return it == handlers.end() ? nullptr : &*it;
}

const Handler* handler_named(std::string_view name, const std::vector<Handler>& handlers) {
    const auto it = std::find_if(handlers.begin(), handlers.end(),
                                 [&](const Handler& h) { return h.name == name; });
    return it == handlers.end() ? nullptr : &*it;
}

// list() and runnable_platforms() describe the host: binfmt_misc that is absent and cannot be
// mounted here has no handlers to report, which is no reason to fail.
std::vector<Handler> handlers_if_available(const Options& options) {
    try {
        return emulation::read_handlers(options.binfmt_mount);
    } catch (const Error& e) {
        if (e.code() == ErrorCode::kPermissionDenied || e.code() == ErrorCode::kUnsupported) {
            return {};
        }
        throw;
    }
}

enum class Action { kNative, kAlready, kRegister, kReplace };

struct Step {
    const KnownEmulator* emulator;
    Action action;
    std::string name;  // ours, or for kAlready the name of the handler that is there
    std::string line;  // for kRegister and kReplace: what to write to `register`
};

bool writes(const Step& step) {
    return step.action == Action::kRegister || step.action == Action::kReplace;
}

// The emulators `spec` names; for "all", every present one for a platform that is not native.
std::vector<const KnownEmulator*> select_for_install(std::string_view spec,
                                                     const Options& options,
                                                     const std::vector<Platform>& natives) {
    if (!emulation::is_all(spec)) {
        return emulation::resolve_spec(spec);
    }
    std::vector<const KnownEmulator*> selected;
    for (const auto& known : emulation::known_emulators()) {
        if (!is_native(known, natives) && is_executable_file(emulator_path(known, options))) {
            selected.push_back(&known);
        }
    }
    if (selected.empty()) {
        throw Error(ErrorCode::kNotFound, "no QEMU emulators found as " + options.qemu_dir +
                                              "/qemu-*" + options.qemu_suffix +
                                              ": install Debian's qemu-user-static");
    }
    return selected;
}

// Throws Error(kNotFound) naming every emulator binary a foreign step needs and lacks.
void check_present(const std::vector<Step>& steps, std::string_view spec, const Options& options) {
    std::string missing;
    for (const auto& step : steps) {
        const auto path = emulator_path(*step.emulator, options);
        if (step.action != Action::kNative && !is_executable_file(path)) {
            missing += (missing.empty() ? "" : ", ") + path + " (" +
                       step.emulator->platform().to_string() + ")";
        }
    }
    if (!missing.empty()) {
        throw Error(ErrorCode::kNotFound, "emulator not found for " + util::quote(spec) + ": " +
                                              missing + "; install Debian's qemu-user-static");
    }
}

// Decides what each foreign step needs, given binfmt_misc's handlers, and builds its line.
void plan(std::vector<Step>& steps, const std::vector<Handler>& current, const Options& options) {
    const std::string flags = options.preserve_argv0 ? "PCF" : "CF";
    for (auto& step : steps) {
        if (step.action == Action::kNative) {
            continue;
        }
        if (const auto* existing = enabled_handler_for(*step.emulator, current)) {
            step.action = Action::kAlready;
            step.name = existing->name;
            continue;
        }
        if (const auto* same_name = handler_named(step.name, current)) {
            if (same_name->enabled) {
                throw Error(ErrorCode::kAlreadyExists,
                            "cannot register " + util::quote(step.name) + " for " +
                                step.emulator->platform().to_string() +
                                ": an enabled binfmt_misc handler of that name runs " +
                                (same_name->platform ? same_name->platform->to_string()
                                                     : std::string("other programs")) +
                                "; remove it first (`echo -1 > " + options.binfmt_mount + "/" +
                                step.name + "` as root)");
            }
            step.action = Action::kReplace;  // ours, disabled: register it afresh, enabled
        }
        step.line = emulation::register_line(step.name, emulation::elf_magic(*step.emulator),
                                             emulation::elf_mask(*step.emulator),
                                             emulator_path(*step.emulator, options), flags);
    }
}

Outcome outcome_of(const Step& step) {
    switch (step.action) {
        case Action::kNative:
            return Outcome::kNative;
        case Action::kAlready:
            return Outcome::kAlreadyInstalled;
        case Action::kRegister:
        case Action::kReplace:
            break;
    }
    return Outcome::kInstalled;
}

// Performs the planned writes. Nothing half-done: when one fails, the handlers registered before
// it are removed again and the failure is rethrown. (A replaced disabled handler stays removed.)
void perform(const std::vector<Step>& steps, const Options& options) {
    emulation::Registrar registrar(options.binfmt_mount);  // checks the privilege first
    std::vector<std::string> registered;
    try {
        for (const auto& step : steps) {
            if (step.action == Action::kReplace) {
                emulation::remove_handler(options.binfmt_mount, step.name);
            }
            if (writes(step)) {
                registrar.add(step.name, step.line);
                registered.push_back(step.name);
            }
        }
    } catch (...) {
        for (const auto& name : registered) {
            try {
                emulation::remove_handler(options.binfmt_mount, name);
            } catch (const Error&) {
                // The original failure is the one to report.
            }
        }
        throw;
    }
}

}  // namespace

std::vector<Handler> handlers(const Options& options) {
    return emulation::read_handlers(options.binfmt_mount);
}

std::vector<Emulator> list(const Options& options) {
    const auto natives = native_platforms();
    const auto current = handlers_if_available(options);
    std::vector<Emulator> emulators;
    for (const auto& known : emulation::known_emulators()) {
        if (is_native(known, natives)) {
            continue;
        }
        Emulator emulator;
        emulator.platform = known.platform();
        emulator.name = known.handler_name();
        emulator.path = emulator_path(known, options);
        emulator.present = is_executable_file(emulator.path);
        emulator.registered = enabled_handler_for(known, current) != nullptr;
        emulators.push_back(std::move(emulator));
    }
    return emulators;
}

std::vector<Platform> native_platforms() {
    // The CPU and kernel do not change while the process runs; probing costs two fork+exec.
    static const std::vector<Platform> natives =
        emulation::probe_native_platforms(Platform::host());
    return natives;
}

std::vector<Platform> runnable_platforms(const Options& options) {
    auto platforms = native_platforms();
    const auto current = handlers_if_available(options);
    for (const auto& known : emulation::known_emulators()) {
        if (!is_native(known, platforms) && enabled_handler_for(known, current) != nullptr) {
            const auto emulated = known.platforms();
            platforms.insert(platforms.end(), emulated.begin(), emulated.end());
        }
    }
    return platforms;
}

std::vector<Change> install(std::string_view spec, const Options& options) {
    const auto natives = native_platforms();
    std::vector<Step> steps;
    for (const auto* emulator : select_for_install(spec, options, natives)) {
        const auto action = is_native(*emulator, natives) ? Action::kNative : Action::kRegister;
        steps.push_back({emulator, action, emulator->handler_name(), {}});
    }
    // Everything is validated before the first change; binfmt_misc (and root) only when needed.
    check_present(steps, spec, options);
    if (std::any_of(steps.begin(), steps.end(), writes)) {
        plan(steps, emulation::read_handlers(options.binfmt_mount), options);
    }
    if (std::any_of(steps.begin(), steps.end(), writes)) {
        perform(steps, options);
    }
    std::vector<Change> changes;
    for (const auto& step : steps) {
        changes.push_back({step.name, step.emulator->platform(), outcome_of(step)});
    }
    return changes;
}

std::vector<Change> uninstall(std::string_view spec, const Options& options) {
    const bool all = emulation::is_all(spec);
    std::vector<const KnownEmulator*> selected;
    if (!all) {
        selected = emulation::resolve_spec(spec);  // validates before the first change
    }
    const auto current = emulation::read_handlers(options.binfmt_mount);
    std::vector<Change> changes;
    const auto remove = [&](const Handler& handler, const Platform& platform) {
        const bool removed = emulation::remove_handler(options.binfmt_mount, handler.name);
        changes.push_back(
            {handler.name, platform, removed ? Outcome::kUninstalled : Outcome::kNotInstalled});
    };
    if (all) {
        for (const auto& handler : current) {
            if (handler.platform) {
                remove(handler, *handler.platform);
            }
        }
        return changes;
    }
    std::vector<std::string> done;
    for (const auto* emulator : selected) {
        const auto platform = emulator->platform();
        const auto name = emulator->handler_name();
        bool found = false;
        for (const auto& handler : current) {
            if (handler.platform != platform && handler.name != name) {
                continue;
            }
            found = true;
            if (std::find(done.begin(), done.end(), handler.name) == done.end()) {
                done.push_back(handler.name);
                remove(handler, platform);
            }
        }
        if (!found) {
            changes.push_back({name, platform, Outcome::kNotInstalled});
        }
    }
    return changes;
}

}  // namespace xarch::emulators
