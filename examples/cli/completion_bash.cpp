// SPDX-License-Identifier: Apache-2.0
#include "completion_bash.hpp"

#include <sstream>
#include <string_view>
#include <vector>

namespace xarch::cli {

namespace {

// The fixed part: walks COMP_WORDS down the command tree, then completes the current word from
// what __xarch_command set for the command reached. Flag values come from __xarch_value.
constexpr std::string_view kDriver = R"BASH(
# Completes the value of the flag $1 (its long name) from the word $2.
__xarch_value() {
    local cur=$2
    case $1 in
    --builder)
        COMPREPLY=($(compgen -W "$(__xarch_builders)" -- "$cur")) ;;
    --file | --iidfile | --metadata-file)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur")) ;;
    --cache-dir)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur")) ;;
@VALUES@    esac
}

# The builders there are, asked of the xarch being completed (`xarch __complete builders`).
__xarch_builders() {
    "${COMP_WORDS[0]}" __complete builders 2>/dev/null
}

# The long name of the flag $1 of the current command ("-f" -> "--file").
__xarch_long() {
    local pair
    for pair in $__xarch_shorts; do
        if [[ ${pair%%:*} == "$1" ]]; then
            printf '%s\n' "${pair#*:}"
            return
        fi
    done
    printf '%s\n' "$1"
}

_xarch() {
    local cur=${COMP_WORDS[COMP_CWORD]} path=xarch word flag= expect_value=0 i
    COMPREPLY=()
    __xarch_command "$path"
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if ((expect_value)); then
            # "--flag=value" comes as three words, since '=' breaks words in bash.
            [[ $word == = ]] || expect_value=0
            continue
        fi
        case $word in
        --*=*) ;;
        -*)
            if [[ " $__xarch_value_flags " == *" $word "* ]]; then
                flag=$word expect_value=1
            fi ;;
        *)
            if [[ " $__xarch_subcommands " == *" $word "* ]]; then
                path+=" $word"
                __xarch_command "$path"
            fi ;;
        esac
    done
    if ((expect_value)); then
        [[ $cur == = ]] && cur=
        __xarch_value "$(__xarch_long "$flag")" "$cur"
        return
    fi
    if [[ $cur == --*=* ]]; then
        # '=' does not break words here: the value is completed with its flag in front.
        __xarch_value "${cur%%=*}" "${cur#*=}"
        COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$__xarch_flags" -- "$cur"))
        return
    fi
    if [[ -n $__xarch_subcommands ]]; then
        COMPREPLY=($(compgen -W "$__xarch_subcommands" -- "$cur"))
        return
    fi
    case $__xarch_args in
    files)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur")) ;;
    builders)
        COMPREPLY=($(compgen -W "$(__xarch_builders)" -- "$cur")) ;;
    esac
}

complete -F _xarch xarch
)BASH";

// Flags whose values are a fixed list: the values each accepts.
struct FlagValues {
    std::string_view flag;
    std::string_view values;
};
constexpr FlagValues kFlagValues[] = {
    {"--progress", "auto quiet plain tty rawjson"},
    {"--network", "default none host"},
    {"--allow", "network.host security.insecure"},
    // The platforms people build for most; --platform takes any os/arch[/variant].
    {"--platform",
     "linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/ppc64le linux/s390x "
     "linux/riscv64"},
};

// What the positional arguments of a command are, for completion: "files", "builders" or "".
std::string argument_kind(const std::string& path, const Command& cmd) {
    if (path == "xarch use" || path == "xarch rm") {
        return "builders";
    }
    return cmd.usage.find("PATH") != std::string::npos ? "files" : "";
}

void describe(const Command& cmd, const std::string& path, std::ostringstream& out) {
    std::string subcommands;
    for (const Command& sub : cmd.subcommands) {
        if (!sub.hidden) {
            subcommands += (subcommands.empty() ? "" : " ") + sub.name;
        }
    }
    std::string flags;
    std::string value_flags;
    std::string shorts;
    const auto append = [](std::string& list, const std::string& word) {
        list += (list.empty() ? "" : " ") + word;
    };
    for (const FlagSpec& f : flags_with_help(cmd)) {
        append(flags, "--" + f.name);
        if (f.short_name != '\0') {
            append(flags, std::string("-") + f.short_name);
            append(shorts, std::string("-") + f.short_name + ":--" + f.name);
        }
        if (f.takes_value) {
            append(value_flags, "--" + f.name);
            if (f.short_name != '\0') {
                append(value_flags, std::string("-") + f.short_name);
            }
        }
    }
    out << "    \"" << path << "\")\n"
        << "        __xarch_subcommands=\"" << subcommands << "\"\n"
        << "        __xarch_flags=\"" << flags << "\"\n"
        << "        __xarch_value_flags=\"" << value_flags << "\"\n"
        << "        __xarch_shorts=\"" << shorts << "\"\n"
        << "        __xarch_args=\"" << argument_kind(path, cmd) << "\" ;;\n";
    for (const Command& sub : cmd.subcommands) {
        if (!sub.hidden) {
            describe(sub, path + " " + sub.name, out);
        }
    }
}

}  // namespace

std::string bash_completion(const Command& root) {
    std::ostringstream out;
    out << "# bash completion for " << root.name << ", generated by `" << root.name
        << " completion bash` from the tool's command tree.\n"
        << "# Install it as /usr/share/bash-completion/completions/" << root.name
        << ", or load it now: source <(" << root.name << " completion bash)\n\n"
        << "# Sets what can follow the command path $1 (\"xarch imagetools create\").\n"
        << "__xarch_command() {\n"
        << "    __xarch_subcommands= __xarch_flags= __xarch_value_flags= __xarch_shorts= "
           "__xarch_args=\n"
        << "    case $1 in\n";
    describe(root, root.name, out);
    out << "    esac\n}\n";
    std::string values;
    for (const FlagValues& v : kFlagValues) {
        values += "    " + std::string(v.flag) + ")\n        COMPREPLY=($(compgen -W \"" +
                  std::string(v.values) + "\" -- \"$cur\")) ;;\n";
    }
    std::string driver(kDriver);
    driver.replace(driver.find("@VALUES@"), std::string_view("@VALUES@").size(), values);
    out << driver;
    return out.str();
}

}  // namespace xarch::cli
