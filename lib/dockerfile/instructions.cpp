// SPDX-License-Identifier: Apache-2.0
// BuildKit's instructions package (parse.go, bflag.go, commands_run*.go): each AST node to a typed
// command, in BuildKit's order of checks, so that a Dockerfile with several problems reports the
// one BuildKit reports.
#include "instructions.hpp"

#include "error.hpp"
#include "go_values.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace xarch::dockerfile {

bool operator==(const OnbuildCommand& a, const OnbuildCommand& b) {
    return a.expression == b.expression && a.trigger == b.trigger;
}

const char* to_string(MountType type) noexcept {
    switch (type) {
        case MountType::kBind:
            return "bind";
        case MountType::kCache:
            return "cache";
        case MountType::kTmpfs:
            return "tmpfs";
        case MountType::kSecret:
            return "secret";
        case MountType::kSsh:
            return "ssh";
    }
    return "bind";
}

const char* to_string(MountSharing sharing) noexcept {
    switch (sharing) {
        case MountSharing::kUnset:
            return "";
        case MountSharing::kShared:
            return "shared";
        case MountSharing::kPrivate:
            return "private";
        case MountSharing::kLocked:
            return "locked";
    }
    return "";
}

namespace {

[[noreturn]] void fail(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, message);
}

std::string with_suggestion(std::string message,
                            std::string_view value,
                            const std::vector<std::string>& options) {
    const std::string match = suggest(value, options, true);
    if (!match.empty()) {
        message += " (did you mean " + match + "?)";
    }
    return message;
}

// BuildKit's BFlags: the flags an instruction declares, then Parse() over the words given.
class Flags {
public:
    explicit Flags(const std::vector<std::string>& args) : args_(args) {}

    void add_string(std::string name, std::string default_value = {}) {
        specs_.push_back({std::move(name), Type::kString, std::move(default_value), {}});
    }
    void add_bool(std::string name) {
        specs_.push_back({std::move(name), Type::kBool, "false", {}});
    }
    void add_strings(std::string name) {
        specs_.push_back({std::move(name), Type::kStrings, {}, {}});
    }

    void parse() {
        for (const std::string& a : args_) {
            if (a == "--") {
                return;
            }
            if (!a.starts_with("--")) {
                fail("arg should start with -- : " + a);
            }
            const std::size_t eq = a.find('=');
            const bool has_value = eq != std::string::npos;
            const std::string flag_name = a.substr(0, eq);
            const std::string value = has_value ? a.substr(eq + 1) : std::string();
            const std::string arg = flag_name.substr(2);
            Spec* spec = find(arg);
            if (spec == nullptr) {
                std::vector<std::string> names;
                for (const Spec& s : specs_) {
                    names.push_back(s.name);
                }
                std::sort(names.begin(), names.end());
                fail(with_suggestion("unknown flag: " + flag_name, arg, names));
            }
            if (used_.contains(arg) && spec->type != Type::kStrings) {
                fail("duplicate flag specified: " + flag_name);
            }
            used_.insert(arg);
            used_order_.push_back(arg);
            switch (spec->type) {
                case Type::kBool: {
                    if (has_value && value.empty()) {
                        fail("missing a value on flag: " + flag_name);
                    }
                    const std::string lower = util::go::to_lower(value);
                    if (lower == "true" || lower.empty()) {
                        spec->value = "true";
                    } else if (lower == "false") {
                        spec->value = "false";
                    } else {
                        fail("expecting boolean value for flag " + flag_name + ", not: " + value);
                    }
                    break;
                }
                case Type::kString:
                    if (!has_value) {
                        fail("missing a value on flag: " + flag_name);
                    }
                    spec->value = value;
                    break;
                case Type::kStrings:
                    if (!has_value) {
                        fail("missing a value on flag: " + flag_name);
                    }
                    spec->values.push_back(value);
                    break;
            }
        }
    }

    const std::string& value(std::string_view name) const { return find_const(name).value; }
    bool is_true(std::string_view name) const { return find_const(name).value == "true"; }
    const std::vector<std::string>& values(std::string_view name) const {
        return find_const(name).values;
    }
    bool used(std::string_view name) const { return used_.contains(std::string(name)); }
    std::vector<std::string> used_names() const {
        std::vector<std::string> out;
        for (const std::string& n : used_order_) {
            if (std::find(out.begin(), out.end(), n) == out.end()) {
                out.push_back(n);
            }
        }
        return out;
    }

private:
    enum class Type { kBool, kString, kStrings };
    struct Spec {
        std::string name;
        Type type;
        std::string value;
        std::vector<std::string> values;
    };

    Spec* find(std::string_view name) {
        for (Spec& s : specs_) {
            if (s.name == name) {
                return &s;
            }
        }
        return nullptr;
    }
    const Spec& find_const(std::string_view name) const {
        for (const Spec& s : specs_) {
            if (s.name == name) {
                return s;
            }
        }
        throw Error(ErrorCode::kInternal, "flag not declared: " + std::string(name));
    }

    const std::vector<std::string>& args_;
    std::vector<Spec> specs_;
    std::set<std::string> used_;
    std::vector<std::string> used_order_;
};

// handleJSONArgs: exec form as is; shell form joined into one string.
std::vector<std::string> json_args(const std::vector<std::string>& args, bool json) {
    if (args.empty()) {
        return {};
    }
    if (json) {
        return args;
    }
    std::string joined;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0) {
            joined += ' ';
        }
        joined += args[i];
    }
    return {joined};
}

std::string upper(std::string_view keyword) {
    return util::go::to_upper(keyword);
}

std::vector<KeyValue> parse_kvps(const std::vector<std::string>& args, const std::string& name) {
    if (args.empty()) {
        fail(name + " requires at least one argument");
    }
    if (args.size() % 3 != 0) {
        fail("Bad input to " + name + ", too many arguments");
    }
    std::vector<KeyValue> out;
    for (std::size_t j = 0; j < args.size(); j += 3) {
        if (args[j].empty()) {
            fail(name + " names can not be blank");
        }
        out.push_back({args[j], args[j + 1], args[j + 2].empty()});
    }
    return out;
}

CommandLine command_line(const Instruction& node) {
    CommandLine out;
    for (const Heredoc& h : node.heredocs) {
        out.files.push_back({h.name, h.content, h.chomp});
    }
    out.args = json_args(node.args, node.json);
    out.prepend_shell = !node.json;
    return out;
}

void parse_sources_and_dest(const Instruction& node, const std::string& name, CopyCommand& out) {
    const std::vector<std::string>& args = node.args;
    out.dest = args.back();
    if (parse_heredoc(out.dest)) {
        fail(name + " cannot accept a heredoc as a destination");
    }
    std::map<std::string, const Heredoc*> by_name;
    for (const Heredoc& h : node.heredocs) {
        by_name[h.name] = &h;
    }
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        const std::optional<Heredoc> h = parse_heredoc(args[i]);
        if (!h) {
            out.source_paths.push_back(args[i]);
            continue;
        }
        std::string content;
        if (auto it = by_name.find(h->name); it != by_name.end()) {
            content = it->second->content;
        }
        if (h->chomp) {
            content = chomp_heredoc_content(content);
        }
        out.source_contents.push_back({h->name, std::move(content), h->expand});
    }
}

CopyCommand parse_copy(const Instruction& node, bool add) {
    const std::string name = add ? "ADD" : "COPY";
    if (node.args.size() < 2) {
        fail(name +
             " requires at least two arguments, but only one was provided. Destination could not "
             "be determined");
    }
    Flags flags(node.flags);
    flags.add_string("chown");
    if (add) {
        flags.add_string("chmod");
        flags.add_bool("link");
        flags.add_bool("keep-git-dir");
        flags.add_string("checksum");
        flags.add_bool("unpack");
        flags.add_strings("exclude");
    } else {
        flags.add_string("from");
        flags.add_string("chmod");
        flags.add_bool("link");
        flags.add_strings("exclude");
        flags.add_bool("parents");
    }
    flags.parse();
    CopyCommand out;
    out.add = add;
    parse_sources_and_dest(node, name, out);
    out.chown = flags.value("chown");
    out.chmod = flags.value("chmod");
    out.link = flags.is_true("link");
    out.excludes = flags.values("exclude");
    if (add) {
        out.checksum = flags.value("checksum");
        if (flags.used("keep-git-dir")) {
            out.keep_git_dir = flags.is_true("keep-git-dir");
        }
        if (flags.used("unpack")) {
            out.unpack = flags.is_true("unpack");
        }
    } else {
        out.from = flags.value("from");
        out.parents = flags.is_true("parents");
    }
    return out;
}

bool valid_stage_name(std::string_view name) {
    // ^[a-z][a-z0-9-_.]*$
    if (name.empty() || name.front() < 'a' || name.front() > 'z') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

FromCommand parse_from(const Instruction& node) {
    FromCommand out;
    const std::vector<std::string>& args = node.args;
    if (args.size() == 3 && util::go::to_lower(args[1]) == "as") {
        out.stage_name = util::go::to_lower(args[2]);
        if (!valid_stage_name(out.stage_name)) {
            fail("invalid name for build stage: " + util::go::quote(args[2]) +
                 ", name can't start with a number or contain symbols");
        }
    } else if (args.size() != 1) {
        fail("FROM requires either one or three arguments");
    }
    Flags flags(node.flags);
    flags.add_string("platform");
    flags.parse();
    out.base_name = args.front();
    out.platform = flags.value("platform");
    return out;
}

std::chrono::nanoseconds parse_interval(const Flags& flags, const std::string& name) {
    const std::string& s = flags.value(name);
    if (s.empty()) {
        return std::chrono::nanoseconds(0);
    }
    const auto d = parse_go_duration(s);
    if (!d) {
        fail("time: invalid duration " + util::go::quote(s) + " (flag --" + name +
             "; write it as a Go duration such as 30s, 1m30s or 500ms)");
    }
    if (d->count() == 0) {
        return *d;
    }
    if (*d < std::chrono::milliseconds(1)) {
        fail("Interval \"" + name + "\" cannot be less than 1ms");
    }
    return *d;
}

HealthcheckCommand parse_healthcheck(const Instruction& node) {
    if (node.args.empty()) {
        fail("HEALTHCHECK requires at least one argument");
    }
    HealthcheckCommand out;
    std::string type = util::go::to_upper(node.args.front());
    const std::vector<std::string> rest(node.args.begin() + 1, node.args.end());
    if (type == "NONE") {
        if (!rest.empty()) {
            fail("HEALTHCHECK NONE takes no arguments");
        }
        out.health.test = {type};
        return out;
    }
    Flags flags(node.flags);
    flags.add_string("interval");
    flags.add_string("timeout");
    flags.add_string("start-period");
    flags.add_string("start-interval");
    flags.add_string("retries");
    flags.parse();
    if (type != "CMD") {
        fail("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
    }
    const std::vector<std::string> command = json_args(rest, node.json);
    if (command.empty()) {
        fail("Missing command after HEALTHCHECK CMD");
    }
    if (!node.json) {
        type = "CMD-SHELL";
    }
    out.health.test.push_back(type);
    out.health.test.insert(out.health.test.end(), command.begin(), command.end());
    out.health.interval = parse_interval(flags, "interval");
    out.health.timeout = parse_interval(flags, "timeout");
    out.health.start_period = parse_interval(flags, "start-period");
    out.health.start_interval = parse_interval(flags, "start-interval");
    if (const std::string& r = flags.value("retries"); !r.empty()) {
        const auto retries = parse_go_int32(r);
        if (!retries) {
            fail("strconv.ParseInt: parsing " + util::go::quote(r) +
                 ": invalid syntax (--retries takes a whole number)");
        }
        if (*retries < 0) {
            fail("--retries cannot be negative (" + std::to_string(*retries) + ")");
        }
        out.health.retries = static_cast<int>(*retries);
    }
    return out;
}

RunCommand parse_run(const Instruction& node) {
    Flags flags(node.flags);
    flags.add_strings("mount");
    flags.add_string("network", "default");
    flags.add_string("security", "sandbox");
    flags.add_strings("device");
    flags.parse();
    RunCommand out;
    out.flags_used = flags.used_names();
    out.command = command_line(node);
    out.mount_specs = flags.values("mount");
    for (const std::string& spec : out.mount_specs) {
        out.mounts.push_back(parse_mount(spec, nullptr));
    }
    out.network = flags.value("network");
    if (out.network != "default" && out.network != "none" && out.network != "host") {
        fail("invalid network mode " + util::go::quote(out.network) +
             " (use default, none or host)");
    }
    out.security = flags.value("security");
    if (out.security != "sandbox" && out.security != "insecure") {
        fail("security " + util::go::quote(out.security) + " is not valid");
    }
    out.devices = flags.values("device");
    for (const std::string& d : out.devices) {
        if (d.empty()) {
            fail("device name must not be empty (--device=NAME[,required])");
        }
    }
    return out;
}

void require_args(const Instruction& node, std::size_t exactly, const char* name) {
    if (node.args.size() != exactly) {
        fail(std::string(name) + " requires exactly one argument");
    }
}

void no_flags(const Instruction& node) {
    Flags flags(node.flags);
    flags.parse();
}

CommandValue parse_value(const Instruction& node, const std::string& file_name) {
    const std::string& k = node.keyword;
    if (k == "env") {
        no_flags(node);
        return EnvCommand{parse_kvps(node.args, "ENV")};
    }
    if (k == "maintainer") {
        require_args(node, 1, "MAINTAINER");
        no_flags(node);
        return MaintainerCommand{node.args.front()};
    }
    if (k == "label") {
        no_flags(node);
        return LabelCommand{parse_kvps(node.args, "LABEL")};
    }
    if (k == "add" || k == "copy") {
        return parse_copy(node, k == "add");
    }
    if (k == "from") {
        return parse_from(node);
    }
    if (k == "onbuild") {
        const Instruction* trigger = node.trigger();
        if (trigger == nullptr) {
            fail("ONBUILD requires at least one argument");
        }
        no_flags(node);
        const std::string name = util::go::to_upper(util::go::trim_space(trigger->keyword));
        if (name == "ONBUILD") {
            fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        }
        if (name == "MAINTAINER" || name == "FROM") {
            fail(name + " isn't allowed as an ONBUILD trigger");
        }
        OnbuildCommand out;
        // (?i)^\s*ONBUILD\s* removed from the line.
        std::string_view rest = util::go::trim_left_space(node.original);
        if (rest.size() >= 7 && util::go::to_upper(rest.substr(0, 7)) == "ONBUILD") {
            rest.remove_prefix(7);
        }
        out.expression = std::string(util::go::trim_left_space(rest));
        for (const Heredoc& h : node.heredocs) {
            out.expression += '\n';
            out.expression += h.content;
            out.expression += h.name;
        }
        Instruction child = *trigger;
        child.heredocs = node.heredocs;  // the parser hangs them on the ONBUILD node
        out.trigger.push_back(parse_command(child, file_name));
        return out;
    }
    if (k == "workdir") {
        require_args(node, 1, "WORKDIR");
        no_flags(node);
        return WorkdirCommand{node.args.front()};
    }
    if (k == "run") {
        return parse_run(node);
    }
    if (k == "cmd") {
        no_flags(node);
        return CmdCommand{command_line(node)};
    }
    if (k == "healthcheck") {
        return parse_healthcheck(node);
    }
    if (k == "entrypoint") {
        no_flags(node);
        return EntrypointCommand{command_line(node)};
    }
    if (k == "expose") {
        if (node.args.empty()) {
            fail("EXPOSE requires at least one argument");
        }
        no_flags(node);
        ExposeCommand out{node.args};
        std::sort(out.ports.begin(), out.ports.end());
        return out;
    }
    if (k == "user") {
        require_args(node, 1, "USER");
        no_flags(node);
        return UserCommand{node.args.front()};
    }
    if (k == "volume") {
        if (node.args.empty()) {
            fail("VOLUME requires at least one argument");
        }
        no_flags(node);
        VolumeCommand out;
        for (const std::string& v : node.args) {
            const std::string_view trimmed = util::go::trim_space(v);
            if (trimmed.empty()) {
                fail("VOLUME specified can not be an empty string");
            }
            out.volumes.emplace_back(trimmed);
        }
        return out;
    }
    if (k == "stopsignal") {
        require_args(node, 1, "STOPSIGNAL");
        return StopSignalCommand{node.args.front()};
    }
    if (k == "arg") {
        if (node.args.empty()) {
            fail("ARG requires at least one argument");
        }
        ArgCommand out;
        for (const std::string& arg : node.args) {
            const std::size_t eq = arg.find('=');
            if (eq == std::string::npos) {
                out.args.push_back({arg, std::nullopt});
                continue;
            }
            if (eq == 0) {
                fail("ARG names can not be blank");
            }
            out.args.push_back({arg.substr(0, eq), arg.substr(eq + 1)});
        }
        return out;
    }
    if (k == "shell") {
        no_flags(node);
        std::vector<std::string> shell = json_args(node.args, node.json);
        if (shell.empty()) {
            fail("SHELL requires at least one argument");
        }
        if (!node.json) {
            fail(
                "SHELL requires the arguments to be in JSON form: write SHELL [\"executable\", "
                "\"param1\"], not " +
                node.original);
        }
        return ShellCommand{std::move(shell)};
    }
    std::vector<std::string> names{"ADD",        "ARG",     "CMD",    "COPY",        "ENTRYPOINT",
                                   "ENV",        "EXPOSE",  "FROM",   "HEALTHCHECK", "LABEL",
                                   "MAINTAINER", "ONBUILD", "RUN",    "SHELL",       "STOPSIGNAL",
                                   "USER",       "VOLUME",  "WORKDIR"};
    std::string message = "unknown instruction: " + node.keyword_as_written;
    const std::string match = suggest(node.keyword_as_written, names, false);
    if (!match.empty()) {
        message += " (did you mean " + match + "?)";
    }
    fail(message);
}

}  // namespace

Command parse_command(const Instruction& node, const std::string& file_name) {
    Command out;
    out.keyword = upper(node.keyword);
    out.original = std::string(util::go::trim_space(node.original));
    out.start_line = node.start_line;
    out.end_line = node.end_line;
    try {
        out.value = parse_value(node, file_name);
    } catch (const DockerfileError&) {
        throw;
    } catch (const Error& e) {
        throw DockerfileError(file_name, node.start_line, node.end_line, e.what());
    }
    return out;
}

Program parse_program(const ParseResult& ast) {
    Program program;
    program.file_name = ast.file_name;
    program.escape_token = ast.escape_token;
    for (const Instruction& node : ast.instructions) {
        Command command = parse_command(node, ast.file_name);
        if (const FromCommand* from = command.get<FromCommand>()) {
            Stage stage;
            stage.from = *from;
            stage.original = command.original;
            stage.start_line = command.start_line;
            stage.end_line = command.end_line;
            program.stages.push_back(std::move(stage));
            continue;
        }
        if (program.stages.empty()) {
            if (command.get<ArgCommand>() != nullptr) {
                program.meta_args.push_back(std::move(command));
                continue;
            }
            throw DockerfileError(ast.file_name, node.start_line, node.end_line,
                                  "no build stage in current context: " + command.keyword +
                                      " comes before the first FROM (only ARG may)");
        }
        program.stages.back().commands.push_back(std::move(command));
    }
    if (program.stages.empty()) {
        throw DockerfileError(ast.file_name, 0, 0,
                              "dockerfile contains no stages to build: add a FROM instruction");
    }
    return program;
}

Mount parse_mount(std::string_view spec, const WordExpander* expand) {
    const auto fields = parse_csv_fields(spec);
    if (!fields) {
        fail("failed to parse csv mounts: " + util::go::quote(spec) +
             " (quote a value with \"...\" when it holds a comma)");
    }
    Mount m;
    bool ro_auto = true;
    for (const std::string& field : *fields) {
        const std::size_t eq = field.find('=');
        const bool ok = eq != std::string::npos;
        const std::string key = util::go::to_lower(std::string_view(field).substr(0, eq));
        std::string value = ok ? field.substr(eq + 1) : std::string();
        if (!ok) {
            if (expand == nullptr) {
                continue;  // checked when the values are expanded
            }
            if (key == "readonly" || key == "ro") {
                m.read_only = true;
                ro_auto = false;
                continue;
            }
            if (key == "readwrite" || key == "rw") {
                m.read_only = false;
                ro_auto = false;
                continue;
            }
            if (key == "required") {
                if (m.type == MountType::kSecret || m.type == MountType::kSsh) {
                    m.required = true;
                    continue;
                }
                fail("unexpected key '" + key + "' for mount type '" + to_string(m.type) + "'");
            }
            fail("invalid field '" + field + "' must be a key=value pair");
        }
        if (expand != nullptr) {
            value = (*expand)(value);
        } else if (key == "from") {
            const std::size_t dollar = value.find('$');
            if (dollar != std::string::npos && dollar != value.size() - 1) {
                fail("'" + key +
                     "' doesn't support variable expansion, define alias stage instead");
            }
        } else {
            continue;
        }
        auto bad_value = [&]() { fail("invalid value for " + key + ": " + value); };
        if (key == "type") {
            const std::string v = util::go::to_lower(value);
            static const std::vector<std::string> kTypes{"bind", "cache", "tmpfs", "secret", "ssh"};
            if (v == "bind") {
                m.type = MountType::kBind;
            } else if (v == "cache") {
                m.type = MountType::kCache;
            } else if (v == "tmpfs") {
                m.type = MountType::kTmpfs;
            } else if (v == "secret") {
                m.type = MountType::kSecret;
            } else if (v == "ssh") {
                m.type = MountType::kSsh;
            } else {
                fail(with_suggestion("unsupported mount type " + util::go::quote(value), value,
                                     kTypes));
            }
        } else if (key == "from") {
            m.from = value;
        } else if (key == "source" || key == "src") {
            m.source = value;
        } else if (key == "target" || key == "dst" || key == "destination") {
            m.target = value;
        } else if (key == "readonly" || key == "ro") {
            const auto b = parse_go_bool(value);
            if (!b) {
                bad_value();
            }
            m.read_only = *b;
            ro_auto = false;
        } else if (key == "readwrite" || key == "rw") {
            const auto b = parse_go_bool(value);
            if (!b) {
                bad_value();
            }
            m.read_only = !*b;
            ro_auto = false;
        } else if (key == "required") {
            if (m.type != MountType::kSecret && m.type != MountType::kSsh) {
                fail("unexpected key '" + key + "' for mount type '" + to_string(m.type) + "'");
            }
            const auto b = parse_go_bool(value);
            if (!b) {
                bad_value();
            }
            m.required = *b;
        } else if (key == "size") {
            if (m.type != MountType::kTmpfs) {
                fail("unexpected key '" + key + "' for mount type '" + to_string(m.type) + "'");
            }
            const auto size = parse_ram_in_bytes(value);
            if (!size) {
                bad_value();
            }
            m.size_limit = *size;
        } else if (key == "id") {
            m.id = value;
        } else if (key == "sharing") {
            const std::string v = util::go::to_lower(value);
            static const std::vector<std::string> kModes{"shared", "private", "locked"};
            if (v == "shared") {
                m.sharing = MountSharing::kShared;
            } else if (v == "private") {
                m.sharing = MountSharing::kPrivate;
            } else if (v == "locked") {
                m.sharing = MountSharing::kLocked;
            } else {
                fail(with_suggestion("unsupported sharing value " + util::go::quote(value), value,
                                     kModes));
            }
        } else if (key == "mode") {
            m.mode = parse_go_uint(value, 8, 32);
            if (!m.mode) {
                fail("invalid value " + value + " for mode");
            }
        } else if (key == "uid") {
            m.uid = parse_go_uint(value, 10, 32);
            if (!m.uid) {
                fail("invalid value " + value + " for uid");
            }
        } else if (key == "gid") {
            m.gid = parse_go_uint(value, 10, 32);
            if (!m.gid) {
                fail("invalid value " + value + " for gid");
            }
        } else if (key == "env") {
            m.env = value;
        } else {
            static const std::vector<std::string> kKeys{
                "type",        "from", "source", "target",    "readonly", "id",  "sharing",
                "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
                "destination", "ro",   "rw",     "readwrite", "env"};
            fail(with_suggestion("unexpected key '" + key + "' in '" + field + "'", key, kKeys));
        }
    }
    const bool file_info_allowed =
        m.type == MountType::kSecret || m.type == MountType::kSsh || m.type == MountType::kCache;
    if (!file_info_allowed) {
        const std::string type = util::go::quote(to_string(m.type));
        if (m.mode) {
            fail("mode not allowed for " + type + " type mounts");
        }
        if (m.uid) {
            fail("uid not allowed for " + type + " type mounts");
        }
        if (m.gid) {
            fail("gid not allowed for " + type + " type mounts");
        }
    }
    if (ro_auto) {
        m.read_only = !(m.type == MountType::kCache || m.type == MountType::kTmpfs);
    }
    if (m.type == MountType::kSecret) {
        if (!m.from.empty()) {
            fail("secret mount should not have a from");
        }
        if (m.sharing != MountSharing::kUnset) {
            fail("secret mount should not define sharing");
        }
        if (m.source.empty() && m.target.empty() && m.id.empty()) {
            fail("invalid secret mount. one of source, target required");
        }
        if (!m.source.empty() && !m.id.empty()) {
            fail("both source and id can't be set");
        }
    }
    if (m.sharing != MountSharing::kUnset && m.type != MountType::kCache) {
        fail(std::string("invalid cache sharing set for ") + to_string(m.type) + " mount");
    }
    return m;
}

void expand(Command& command, const WordExpander& expand, const WordExpander& expand_raw) {
    auto each = [&](std::vector<std::string>& words) {
        for (std::string& w : words) {
            w = expand(w);
        }
    };
    auto pairs = [&](std::vector<KeyValue>& kvs) {
        for (KeyValue& kv : kvs) {
            kv.key = expand(kv.key);
            kv.value = expand(kv.value);
        }
    };
    std::visit(
        [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, EnvCommand>) {
                pairs(c.env);
            } else if constexpr (std::is_same_v<T, LabelCommand>) {
                pairs(c.labels);
            } else if constexpr (std::is_same_v<T, CopyCommand>) {
                c.chown = expand(c.chown);
                c.chmod = expand(c.chmod);
                if (c.add) {
                    c.checksum = expand(c.checksum);
                }
                each(c.source_paths);
                c.dest = expand(c.dest);
                for (SourceContent& content : c.source_contents) {
                    if (content.expand) {
                        content.data = expand_raw(content.data);
                    }
                }
            } else if constexpr (std::is_same_v<T, WorkdirCommand>) {
                c.path = expand(c.path);
            } else if constexpr (std::is_same_v<T, UserCommand>) {
                c.user = expand(c.user);
            } else if constexpr (std::is_same_v<T, VolumeCommand>) {
                each(c.volumes);
            } else if constexpr (std::is_same_v<T, StopSignalCommand>) {
                c.signal = expand(c.signal);
            } else if constexpr (std::is_same_v<T, ArgCommand>) {
                for (ArgDefinition& a : c.args) {
                    a.key = expand(a.key);
                    if (a.value) {
                        a.value = expand(*a.value);
                    }
                }
            } else if constexpr (std::is_same_v<T, RunCommand>) {
                c.mounts.clear();
                for (const std::string& spec : c.mount_specs) {
                    c.mounts.push_back(parse_mount(spec, &expand));
                }
            }
        },
        command.value);
}

}  // namespace xarch::dockerfile
