// SPDX-License-Identifier: Apache-2.0
// The text form of a build plan (format in plan_dump.hpp).
#include "plan_dump.hpp"

#include "go_values.hpp"
#include "util/go_text.hpp"

#include <type_traits>

namespace xarch::dockerfile {

namespace {

std::string q(std::string_view s) {
    return util::go::quote(s);
}

std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += ' ';
        }
        out += q(items[i]);
    }
    return out + "]";
}

std::string vars(const Variables& variables) {
    std::string out = "[";
    for (std::size_t i = 0; i < variables.size(); ++i) {
        if (i > 0) {
            out += ' ';
        }
        out += variables[i].first + "=" + q(variables[i].second);
    }
    return out + "]";
}

std::string input(const StepInput& in) {
    if (in.instance) {
        return "instance:" + std::to_string(*in.instance);
    }
    return "image:" + q(in.image);
}

std::string command_line(const CommandLine& c) {
    std::string out = c.prepend_shell ? "shell " : "exec ";
    out += list(c.args);
    if (!c.files.empty()) {
        std::vector<std::string> names;
        for (const InlineFile& f : c.files) {
            names.push_back(f.name);
        }
        out += " files " + list(names);
    }
    return out;
}

std::string pairs(const std::vector<KeyValue>& kvs) {
    std::string out;
    for (const KeyValue& kv : kvs) {
        out += ' ' + kv.key + "=" + q(kv.value);
    }
    return out;
}

std::string mount(const Mount& m, const std::optional<StepInput>& from) {
    std::string out = "--mount=type=";
    out += to_string(m.type);
    if (from) {
        out += ",from=" + input(*from);
    }
    if (!m.source.empty()) {
        out += ",source=" + q(m.source);
    }
    if (!m.target.empty()) {
        out += ",target=" + q(m.target);
    }
    if (!m.id.empty()) {
        out += ",id=" + q(m.id);
    }
    if (m.sharing != MountSharing::kUnset) {
        out += std::string(",sharing=") + to_string(m.sharing);
    }
    if (m.required) {
        out += ",required";
    }
    if (m.size_limit != 0) {
        out += ",size=" + std::to_string(m.size_limit);
    }
    if (m.mode) {
        out += ",mode=" + std::to_string(*m.mode);
    }
    if (m.uid) {
        out += ",uid=" + std::to_string(*m.uid);
    }
    if (m.gid) {
        out += ",gid=" + std::to_string(*m.gid);
    }
    if (m.env) {
        out += ",env=" + q(*m.env);
    }
    out += m.read_only ? ",ro" : ",rw";
    return out;
}

std::string values(const PlannedStep& step) {
    return std::visit(
        [&](const auto& c) -> std::string {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, RunCommand>) {
                std::string out;
                for (std::size_t i = 0; i < c.mounts.size(); ++i) {
                    const std::optional<StepInput> from =
                        i < step.mount_from.size() ? step.mount_from[i] : std::nullopt;
                    out += ' ' + mount(c.mounts[i], from);
                }
                if (c.network != "default") {
                    out += " --network=" + c.network;
                }
                if (c.security != "sandbox") {
                    out += " --security=" + c.security;
                }
                for (const std::string& d : c.devices) {
                    out += " --device=" + q(d);
                }
                out += ' ' + command_line(c.command);
                if (!step.proxy_env.empty()) {
                    out += " proxy " + vars(step.proxy_env);
                }
                return out;
            } else if constexpr (std::is_same_v<T, CmdCommand> ||
                                 std::is_same_v<T, EntrypointCommand>) {
                return ' ' + command_line(c.command);
            } else if constexpr (std::is_same_v<T, ShellCommand>) {
                return ' ' + list(c.shell);
            } else if constexpr (std::is_same_v<T, EnvCommand>) {
                return pairs(c.env);
            } else if constexpr (std::is_same_v<T, LabelCommand>) {
                return pairs(c.labels);
            } else if constexpr (std::is_same_v<T, ArgCommand>) {
                std::string out;
                for (const ArgDefinition& a : c.args) {
                    out += ' ' + a.key;
                    if (a.value) {
                        out += "=" + q(*a.value);
                    }
                }
                return out;
            } else if constexpr (std::is_same_v<T, CopyCommand>) {
                std::string out;
                if (step.copy_from) {
                    out += " --from=" + input(*step.copy_from);
                }
                if (!c.chown.empty()) {
                    out += " --chown=" + q(c.chown);
                }
                if (!c.chmod.empty()) {
                    out += " --chmod=" + q(c.chmod);
                }
                if (c.link) {
                    out += " --link";
                }
                if (c.parents) {
                    out += " --parents";
                }
                for (const std::string& e : c.excludes) {
                    out += " --exclude=" + q(e);
                }
                if (!c.checksum.empty()) {
                    out += " --checksum=" + q(c.checksum);
                }
                if (c.keep_git_dir) {
                    out += std::string(" --keep-git-dir=") + (*c.keep_git_dir ? "true" : "false");
                }
                if (c.unpack) {
                    out += std::string(" --unpack=") + (*c.unpack ? "true" : "false");
                }
                out += ' ' + list(c.source_paths);
                for (const SourceContent& content : c.source_contents) {
                    out += " <<" + content.path;
                }
                return out + ' ' + q(c.dest);
            } else if constexpr (std::is_same_v<T, ExposeCommand>) {
                return ' ' + list(c.ports);
            } else if constexpr (std::is_same_v<T, VolumeCommand>) {
                return ' ' + list(c.volumes);
            } else if constexpr (std::is_same_v<T, UserCommand>) {
                return ' ' + q(c.user);
            } else if constexpr (std::is_same_v<T, WorkdirCommand>) {
                return ' ' + q(c.path);
            } else if constexpr (std::is_same_v<T, StopSignalCommand>) {
                return ' ' + q(c.signal);
            } else if constexpr (std::is_same_v<T, MaintainerCommand>) {
                return ' ' + q(c.maintainer);
            } else if constexpr (std::is_same_v<T, OnbuildCommand>) {
                return ' ' + q(c.expression);
            } else if constexpr (std::is_same_v<T, HealthcheckCommand>) {
                std::string out = ' ' + list(c.health.test);
                if (c.health.test.size() > 1) {
                    out += " interval=" + format_go_duration(c.health.interval);
                    out += " timeout=" + format_go_duration(c.health.timeout);
                    out += " start-period=" + format_go_duration(c.health.start_period);
                    out += " start-interval=" + format_go_duration(c.health.start_interval);
                    out += " retries=" + std::to_string(c.health.retries);
                }
                return out;
            } else {
                static_assert(std::is_same_v<T, FromCommand>);
                return ' ' + q(c.base_name);
            }
        },
        step.command.value);
}

}  // namespace

std::string dump_step(const PlannedStep& step) {
    std::string out = step.command.keyword + values(step);
    if (!step.uses.empty()) {
        out += " uses " + vars(step.uses);
    }
    if (!step.unset.empty()) {
        std::string names = "[";
        for (std::size_t i = 0; i < step.unset.size(); ++i) {
            names += (i > 0 ? " " : "") + step.unset[i];
        }
        out += " unset " + names + "]";
    }
    if (!step.deferred.empty()) {
        std::string names = "[";
        for (std::size_t i = 0; i < step.deferred.size(); ++i) {
            names += (i > 0 ? " " : "") + step.deferred[i];
        }
        out += " deferred " + names + "]";
    }
    if (step.from_onbuild) {
        out += " (onbuild)";
    }
    return out;
}

std::string dump_instance(const StageInstance& instance) {
    std::string out = "instance " + std::to_string(instance.index) + ' ' + instance.display_name +
                      ' ' + instance.platform.to_string() + " for ";
    for (std::size_t i = 0; i < instance.target_platforms.size(); ++i) {
        out += (i > 0 ? "," : "") + instance.target_platforms[i].to_string();
    }
    out += " from ";
    switch (instance.base_kind) {
        case BaseKind::kImage:
            out += "image " + q(instance.base_image);
            if (instance.image_onbuild_pending) {
                out += " +onbuild";
            }
            break;
        case BaseKind::kStage:
            out += "instance " + std::to_string(instance.base_instance.value_or(0));
            break;
        case BaseKind::kScratch:
            out += "scratch";
            break;
    }
    if (!instance.from_uses.empty()) {
        out += " uses " + vars(instance.from_uses);
    }
    return out;
}

std::string dump(const Plan& plan) {
    std::string out;
    for (const StageInstance& instance : plan.instances) {
        out += dump_instance(instance) + '\n';
        for (const PlannedStep& step : instance.steps) {
            out += "  " + std::to_string(step.command.start_line) + ' ' + dump_step(step) + '\n';
        }
    }
    for (const PlatformResult& result : plan.results) {
        out += "result " + result.platform.to_string() + " instance " +
               std::to_string(result.instance) + '\n';
    }
    return out;
}

}  // namespace xarch::dockerfile
