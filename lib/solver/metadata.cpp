// SPDX-License-Identifier: Apache-2.0
// Config-only instructions, following dockerfile2llb's dispatchEnv, dispatchLabel, dispatchCmd,
// ... and commitToHistory.
#include "metadata.hpp"

#include "dockerfile/go_values.hpp"
#include "util/go_text.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <charconv>
#include <csignal>

namespace xarch::solver {

namespace {

using namespace xarch::dockerfile;

// fmt's %v of a []string: [a b c].
std::string go_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : " ") + items[i];
    }
    return out + "]";
}

std::vector<std::string> with_shell(const ImageState& state, const CommandLine& line) {
    if (!line.prepend_shell) {
        return line.args;
    }
    std::vector<std::string> out =
        state.config.config.shell.value_or(std::vector<std::string>{"/bin/sh", "-c"});
    if (out.empty()) {
        out = {"/bin/sh", "-c"};
    }
    out.insert(out.end(), line.args.begin(), line.args.end());
    return out;
}

int parse_port_number(std::string_view text, std::string_view raw) {
    int port = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 0 ||
        port > 65535) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid port: " + util::go::quote(raw) + ": invalid containerPort: " +
                        std::string(text) + "; give a port number 0-65535, a range 8000-8010, " +
                        "optionally with /tcp, /udp or /sctp");
    }
    return port;
}

// parsePort: [ip:][hostPort:]containerPort[-end][/proto] → "N/proto" for each port.
std::vector<std::string> parse_port(std::string_view raw) {
    std::string_view spec = raw;
    if (const auto colon = spec.rfind(':'); colon != std::string_view::npos) {
        spec = spec.substr(colon + 1);
    }
    std::string proto = "tcp";
    if (const auto slash = spec.find('/'); slash != std::string_view::npos) {
        proto = util::go::to_lower(spec.substr(slash + 1));
        spec = spec.substr(0, slash);
        if (proto.empty()) {
            proto = "tcp";
        }
    }
    const auto dash = spec.find('-');
    const int start = parse_port_number(spec.substr(0, dash), raw);
    int end = start;
    if (dash != std::string_view::npos) {
        end = parse_port_number(spec.substr(dash + 1), raw);
        if (end < start) {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid port: " + util::go::quote(raw) + ": invalid port range");
        }
    }
    std::vector<std::string> out;
    for (int p = start; p <= end; ++p) {
        out.push_back(std::to_string(p) + "/" + proto);
    }
    return out;
}

// moby/sys/signal.ParseSignal: a number, or a name with or without SIG.
void check_signal(std::string_view text) {
    static constexpr std::string_view kNames[] = {
        "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",   "ILL",
        "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",   "QUIT",
        "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",  "TTOU",
        "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "UNUSED"};
    unsigned number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
        if (number != 0) {
            return;
        }
    } else {
        std::string name = util::go::to_upper(text);
        if (name.starts_with("SIG")) {
            name.erase(0, 3);
        }
        if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
            return;
        }
        for (std::string_view known : kNames) {
            if (name == known) {
                return;
            }
        }
    }
    throw Error(ErrorCode::kInvalidArgument, "invalid signal: " + std::string(text) +
                                                 "; give a name such as SIGTERM or a number");
}

std::string format_healthcheck(const HealthConfig& h) {
    return "{Test:" + go_list(h.test) + " Interval:" + format_go_duration(h.interval) +
           " Timeout:" + format_go_duration(h.timeout) +
           " StartPeriod:" + format_go_duration(h.start_period) +
           " StartInterval:" + format_go_duration(h.start_interval) +
           " Retries:" + std::to_string(h.retries) + "}";
}

}  // namespace

void set_env(std::vector<std::string>& env, std::string_view key, std::string_view value) {
    const std::string entry = std::string(key) + "=" + std::string(value);
    for (std::string& e : env) {
        const auto eq = e.find('=');
        if (std::string_view(e).substr(0, eq) == key) {
            e = entry;
            return;
        }
    }
    env.push_back(entry);
}

bool is_metadata(const Command& command) {
    return command.get<FromCommand>() == nullptr && command.get<RunCommand>() == nullptr &&
           command.get<CopyCommand>() == nullptr && command.get<WorkdirCommand>() == nullptr;
}

void apply_metadata(ImageState& state,
                    const Command& command,
                    StageFlags& flags,
                    const ShellLex& lex,
                    const ShellEnv& env) {
    ContainerConfig& cfg = state.config.config;
    if (const auto* env_cmd = command.get<EnvCommand>()) {
        std::string msg = "ENV";
        for (const KeyValue& kv : env_cmd->env) {
            msg += " " + kv.key + "=" + kv.value;
            set_env(cfg.env, kv.key, kv.value);
        }
        state.add_history(std::move(msg));
    } else if (const auto* label = command.get<LabelCommand>()) {
        std::string msg = "LABEL";
        for (const KeyValue& kv : label->labels) {
            cfg.labels[kv.key] = kv.value;
            msg += " " + kv.key + "=" + kv.value;
        }
        state.add_history(std::move(msg));
    } else if (const auto* cmd = command.get<CmdCommand>()) {
        std::vector<std::string> args = with_shell(state, cmd->command);
        cfg.cmd = args;
        cfg.args_escaped = true;
        flags.cmd_set = true;
        state.add_history("CMD " + util::go::quote_list(args));
    } else if (const auto* entrypoint = command.get<EntrypointCommand>()) {
        std::vector<std::string> args = with_shell(state, entrypoint->command);
        cfg.entrypoint = args;
        if (!flags.cmd_set) {
            cfg.cmd.reset();
        }
        state.add_history("ENTRYPOINT " + util::go::quote_list(args));
    } else if (const auto* healthcheck = command.get<HealthcheckCommand>()) {
        HealthConfig h;
        h.test = healthcheck->health.test;
        h.interval = healthcheck->health.interval;
        h.timeout = healthcheck->health.timeout;
        h.start_period = healthcheck->health.start_period;
        h.start_interval = healthcheck->health.start_interval;
        h.retries = healthcheck->health.retries;
        state.add_history("HEALTHCHECK " + format_healthcheck(h));
        cfg.healthcheck = std::move(h);
    } else if (const auto* user = command.get<UserCommand>()) {
        cfg.user = user->user;
        state.add_history("USER " + user->user);
    } else if (const auto* volume = command.get<VolumeCommand>()) {
        for (const std::string& v : volume->volumes) {
            if (v.empty()) {
                throw Error(ErrorCode::kInvalidArgument,
                            "VOLUME specified can not be an empty string");
            }
            cfg.volumes.insert(v);
        }
        state.add_history("VOLUME " + go_list(volume->volumes));
    } else if (const auto* stop_signal = command.get<StopSignalCommand>()) {
        check_signal(stop_signal->signal);
        cfg.stop_signal = stop_signal->signal;
        state.add_history("STOPSIGNAL " + stop_signal->signal);
    } else if (const auto* shell = command.get<ShellCommand>()) {
        cfg.shell = shell->shell;
        state.add_history("SHELL " + go_list(shell->shell));
    } else if (const auto* expose = command.get<ExposeCommand>()) {
        std::vector<std::string> ports;
        for (const std::string& word : expose->ports) {
            for (const std::string& p : lex.process_words(word, env)) {
                for (std::string& spec : parse_port(p)) {
                    ports.push_back(std::move(spec));
                }
            }
        }
        cfg.exposed_ports.insert(ports.begin(), ports.end());
        state.add_history("EXPOSE " + go_list(ports));
    } else if (const auto* arg = command.get<ArgCommand>()) {
        std::string msg = "ARG";
        for (const ArgDefinition& a : arg->args) {
            msg += " " + a.key + (a.value ? "=" + *a.value : std::string());
        }
        state.add_history(std::move(msg));
    } else if (const auto* maintainer = command.get<MaintainerCommand>()) {
        state.config.author = maintainer->maintainer;
        state.add_history("MAINTAINER " + maintainer->maintainer);
    } else if (const auto* onbuild = command.get<OnbuildCommand>()) {
        cfg.on_build.push_back(onbuild->expression);
    } else {
        throw Error(ErrorCode::kInternal, "not a metadata instruction: " + command.keyword);
    }
}

std::string apply_workdir(ImageState& state, std::string_view path) {
    std::string& wd = state.config.config.working_dir;
    std::string joined(path);
    if (!joined.starts_with('/')) {
        joined = (wd.empty() ? std::string("/") : wd) + "/" + joined;
    }
    wd = util::clean_path(joined);
    return wd;
}

}  // namespace xarch::solver
