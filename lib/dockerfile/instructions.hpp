// SPDX-License-Identifier: Apache-2.0
// Typed instructions: the AST (parser.hpp) read as BuildKit's frontend/dockerfile/instructions
// package reads it. Every instruction becomes a struct with its flags checked and converted
// (bflag rules: unknown flag, missing value, duplicate, bad boolean), RUN's --mount values parsed
// into mounts, HEALTHCHECK's durations parsed, ADD/COPY heredoc sources split from paths, and
// ONBUILD's trigger parsed as an instruction of its own. Then the instructions are grouped into
// stages (each begins at a FROM) and the global ARGs before the first FROM.
//
// Variables are not expanded here: expand() applies the word expansion BuildKit applies to each
// instruction when it is dispatched, given a function that expands one word.
#pragma once

#include "heredoc.hpp"
#include "parser.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace xarch::dockerfile {

// ENV and LABEL pairs. `no_delim`: written in the legacy `ENV key value` form.
struct KeyValue {
    std::string key;
    std::string value;
    bool no_delim = false;
    friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// One name of an ARG line, with its default when one was written (`ARG a=1 b`).
struct ArgDefinition {
    std::string key;
    std::optional<std::string> value;
    friend bool operator==(const ArgDefinition&, const ArgDefinition&) = default;
};

// A here-document given as the body of RUN, CMD-like commands (ShellInlineFile).
struct InlineFile {
    std::string name;
    std::string data;
    bool chomp = false;
    friend bool operator==(const InlineFile&, const InlineFile&) = default;
};

// The command of RUN, CMD and ENTRYPOINT (ShellDependantCmdLine). Shell form: one string, run
// through the stage's SHELL (`prepend_shell`); exec form: the JSON strings.
struct CommandLine {
    std::vector<std::string> args;
    std::vector<InlineFile> files;
    bool prepend_shell = false;
    friend bool operator==(const CommandLine&, const CommandLine&) = default;
};

enum class MountType { kBind, kCache, kTmpfs, kSecret, kSsh };
enum class MountSharing { kUnset, kShared, kPrivate, kLocked };

const char* to_string(MountType type) noexcept;
const char* to_string(MountSharing sharing) noexcept;

// One RUN --mount (BuildKit's instructions.Mount).
struct Mount {
    MountType type = MountType::kBind;
    std::string from;  // a stage name or image; "" is the build context (or scratch for caches)
    std::string source;
    std::string target;
    bool read_only = true;
    std::int64_t size_limit = 0;  // tmpfs `size`, in bytes
    std::string id;               // cache and secret `id`
    MountSharing sharing = MountSharing::kUnset;
    bool required = false;              // secret and ssh
    std::optional<std::string> env;     // secret `env`
    std::optional<std::uint64_t> mode;  // cache, secret, ssh
    std::optional<std::uint64_t> uid;
    std::optional<std::uint64_t> gid;
    friend bool operator==(const Mount&, const Mount&) = default;
};

// A COPY/ADD source given as a here-document (`COPY <<EOF /dest`).
struct SourceContent {
    std::string path;  // the heredoc name, used as the file name
    std::string data;
    bool expand = true;  // the delimiter was unquoted: variables in `data` are expanded
    friend bool operator==(const SourceContent&, const SourceContent&) = default;
};

struct Healthcheck {
    // ["NONE"], ["CMD", exec args...] or ["CMD-SHELL", command].
    std::vector<std::string> test;
    std::chrono::nanoseconds interval{0};
    std::chrono::nanoseconds timeout{0};
    std::chrono::nanoseconds start_period{0};
    std::chrono::nanoseconds start_interval{0};
    int retries = 0;
    friend bool operator==(const Healthcheck&, const Healthcheck&) = default;
};

struct FromCommand {
    std::string base_name;   // the image or earlier stage, unexpanded
    std::string stage_name;  // lower case; "" without AS
    std::string platform;    // --platform, unexpanded; "" when not given
    friend bool operator==(const FromCommand&, const FromCommand&) = default;
};

struct RunCommand {
    CommandLine command;
    std::vector<std::string> mount_specs;  // the --mount values as written
    // One per --mount. As in BuildKit, parsing reads only `from` (and rejects variables in
    // it); expand() parses each value in full, with its values expanded.
    std::vector<Mount> mounts;
    std::string network = "default";   // default | none | host
    std::string security = "sandbox";  // sandbox | insecure
    std::vector<std::string> devices;  // --device values
    std::vector<std::string> flags_used;
    friend bool operator==(const RunCommand&, const RunCommand&) = default;
};

struct CmdCommand {
    CommandLine command;
    friend bool operator==(const CmdCommand&, const CmdCommand&) = default;
};
struct EntrypointCommand {
    CommandLine command;  // empty exec form `ENTRYPOINT []` leaves args empty
    friend bool operator==(const EntrypointCommand&, const EntrypointCommand&) = default;
};
struct ShellCommand {
    std::vector<std::string> shell;
    friend bool operator==(const ShellCommand&, const ShellCommand&) = default;
};
struct LabelCommand {
    std::vector<KeyValue> labels;
    friend bool operator==(const LabelCommand&, const LabelCommand&) = default;
};
struct MaintainerCommand {
    std::string maintainer;
    friend bool operator==(const MaintainerCommand&, const MaintainerCommand&) = default;
};
struct ExposeCommand {
    std::vector<std::string> ports;  // sorted, as BuildKit sorts them
    friend bool operator==(const ExposeCommand&, const ExposeCommand&) = default;
};
struct EnvCommand {
    std::vector<KeyValue> env;
    friend bool operator==(const EnvCommand&, const EnvCommand&) = default;
};
struct ArgCommand {
    std::vector<ArgDefinition> args;
    friend bool operator==(const ArgCommand&, const ArgCommand&) = default;
};

// ADD and COPY.
struct CopyCommand {
    bool add = false;  // ADD (URLs, archives unpacked) rather than COPY
    std::vector<std::string> source_paths;
    std::vector<SourceContent> source_contents;
    std::string dest;
    std::string from;  // COPY --from: a stage name, a stage index or an image
    std::string chown;
    std::string chmod;
    bool link = false;
    bool parents = false;  // COPY --parents
    std::vector<std::string> excludes;
    std::string checksum;              // ADD --checksum
    std::optional<bool> keep_git_dir;  // ADD --keep-git-dir, when given
    std::optional<bool> unpack;        // ADD --unpack, when given
    friend bool operator==(const CopyCommand&, const CopyCommand&) = default;
};

struct VolumeCommand {
    std::vector<std::string> volumes;
    friend bool operator==(const VolumeCommand&, const VolumeCommand&) = default;
};
struct UserCommand {
    std::string user;
    friend bool operator==(const UserCommand&, const UserCommand&) = default;
};
struct WorkdirCommand {
    std::string path;
    friend bool operator==(const WorkdirCommand&, const WorkdirCommand&) = default;
};
struct StopSignalCommand {
    std::string signal;
    friend bool operator==(const StopSignalCommand&, const StopSignalCommand&) = default;
};
struct HealthcheckCommand {
    Healthcheck health;
    friend bool operator==(const HealthcheckCommand&, const HealthcheckCommand&) = default;
};

struct Command;

// ONBUILD: the trigger as the text the image config records, and parsed.
struct OnbuildCommand {
    std::string expression;        // "RUN echo hi" (heredoc bodies appended, as BuildKit does)
    std::vector<Command> trigger;  // exactly one
    friend bool operator==(const OnbuildCommand&, const OnbuildCommand&);
};

using CommandValue = std::variant<FromCommand,
                                  RunCommand,
                                  CmdCommand,
                                  EntrypointCommand,
                                  ShellCommand,
                                  LabelCommand,
                                  MaintainerCommand,
                                  ExposeCommand,
                                  EnvCommand,
                                  ArgCommand,
                                  CopyCommand,
                                  VolumeCommand,
                                  UserCommand,
                                  WorkdirCommand,
                                  OnbuildCommand,
                                  StopSignalCommand,
                                  HealthcheckCommand>;

// One typed instruction with its place in the file.
struct Command {
    CommandValue value;
    std::string keyword;   // upper case: "RUN", "COPY"
    std::string original;  // the logical line as written (BuildKit's String())
    int start_line = 0;
    int end_line = 0;
    friend bool operator==(const Command&, const Command&) = default;

    template <typename T>
    const T* get() const {
        return std::get_if<T>(&value);
    }
    template <typename T>
    T* get() {
        return std::get_if<T>(&value);
    }
};

// A FROM and the instructions after it, up to the next FROM.
struct Stage {
    FromCommand from;
    std::string original;  // the FROM line
    int start_line = 0;
    int end_line = 0;
    std::vector<Command> commands;
};

// The whole Dockerfile as BuildKit's instructions.Parse gives it.
struct Program {
    std::vector<Command> meta_args;  // ARG instructions before the first FROM
    std::vector<Stage> stages;       // never empty
    std::string file_name;
    char escape_token = '\\';
};

// ParseInstruction: one AST node. Throws DockerfileError (file:line) for an unknown instruction,
// a bad flag or flag value, a bad mount, a wrong number of arguments, a bad stage name, a bad
// HEALTHCHECK duration, an ONBUILD of ONBUILD, FROM or MAINTAINER...
Command parse_command(const Instruction& node, const std::string& file_name);

// instructions.Parse: every node, grouped into stages. Throws DockerfileError as parse_command
// does, and "no build stage in current context" for an instruction before the first FROM other
// than ARG, and "dockerfile contains no stages to build" when there is no FROM.
Program parse_program(const ParseResult& ast);

// Expands one word (BuildKit's SingleWordExpander); throws xarch::Error on a bad word.
using WordExpander = std::function<std::string(std::string_view)>;

// What BuildKit's dispatch does before it runs a command: the words of ENV (keys and values),
// LABEL, ADD/COPY (sources, dest, --chown, --chmod, ADD --checksum), WORKDIR, USER, VOLUME,
// STOPSIGNAL and ARG (names and defaults) go through `expand`, RUN's mounts are parsed again
// with their values expanded, and the unquoted heredoc sources of ADD/COPY through `expand_raw`
// (quotes kept). FROM, COPY --from, EXPOSE, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and
// ONBUILD are left as they are. Throws xarch::Error from the expanders and mount parsing.
void expand(Command& command, const WordExpander& expand, const WordExpander& expand_raw);

// parseMount: one --mount value; with `expand`, each value is expanded first and bare keys
// (`ro`, `required`) are allowed. Throws xarch::Error with BuildKit's message.
Mount parse_mount(std::string_view spec, const WordExpander* expand);

}  // namespace xarch::dockerfile
