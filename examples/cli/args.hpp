// SPDX-License-Identifier: Apache-2.0
// A small command-line parser for the xarch tool: long flags (--name value, --name=value),
// boolean switches, short aliases, and positional arguments, with usage errors that say what to do.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xarch::cli {

// A mistake in how the tool was called: exit code 2, with the command's usage hint.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FlagSpec {
    std::string name;        // "format" for --format
    char short_name = '\0';  // 'h' for -h
    bool takes_value = false;
    std::string value_name;  // "string" in the help text
    std::string help;
    std::string default_value;
};

struct ParsedArgs {
    std::map<std::string, std::string> values;  // flag name -> value ("true" for switches)
    std::vector<std::string> positional;
    // Every value each flag was given, in order, for flags that may repeat (-t a -t b).
    std::map<std::string, std::vector<std::string>> lists;

    bool has(const std::string& name) const { return values.contains(name); }
    std::string get(const std::string& name, const std::string& fallback = {}) const;
    // All values of a repeatable flag; empty when it was not given.
    std::vector<std::string> all(const std::string& name) const;
};

// Parses argv[first..] against the flags; "--" ends flags. Unknown flags and missing values
// throw UsageError quoting the argument.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags);

// "Flags:" section of a help text, aligned like cobra's.
std::string format_flags(const std::vector<FlagSpec>& flags);

}  // namespace xarch::cli
