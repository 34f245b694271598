// SPDX-License-Identifier: Apache-2.0
#include "args.hpp"

#include <algorithm>
#include <sstream>

namespace xarch::cli {

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
    auto it = lists.find(name);
    return it == lists.end() ? std::vector<std::string>{} : it->second;
}

namespace {

const FlagSpec* find_long(const std::vector<FlagSpec>& flags, const std::string& name) {
    auto it =
        std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == name; });
    return it == flags.end() ? nullptr : &*it;
}

const FlagSpec* find_short(const std::vector<FlagSpec>& flags, char name) {
    auto it = std::find_if(flags.begin(), flags.end(),
                           [&](const FlagSpec& f) { return f.short_name == name; });
    return it == flags.end() ? nullptr : &*it;
}

}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<FlagSpec>& flags) {
    ParsedArgs out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            out.positional.insert(out.positional.end(), args.begin() + static_cast<long>(i) + 1,
                                  args.end());
            break;
        }
        const FlagSpec* spec = nullptr;
        std::optional<std::string> inline_value;
        if (arg.starts_with("--")) {
            std::string name = arg.substr(2);
            if (auto eq = name.find('='); eq != std::string::npos) {
                inline_value = name.substr(eq + 1);
                name.resize(eq);
            }
            spec = find_long(flags, name);
        } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
            spec = find_short(flags, arg[1]);
        } else {
            out.positional.push_back(arg);
            continue;
        }
        if (spec == nullptr) {
            throw UsageError("unknown flag: " + arg);
        }
        if (!spec->takes_value) {
            if (inline_value) {
                throw UsageError("flag " + arg + " takes no value");
            }
            out.values[spec->name] = "true";
            continue;
        }
        if (inline_value) {
            out.values[spec->name] = *inline_value;
        } else if (i + 1 < args.size()) {
            out.values[spec->name] = args[++i];
        } else {
            throw UsageError("flag needs an argument: " + arg);
        }
        out.lists[spec->name].push_back(out.values[spec->name]);
    }
    return out;
}

std::string format_flags(const std::vector<FlagSpec>& flags) {
    std::vector<std::pair<std::string, std::string>> rows;
    std::size_t width = 0;
    for (const FlagSpec& f : flags) {
        std::string left = f.short_name ? std::string("  -") + f.short_name + ", " : "      ";
        left += "--" + f.name;
        if (f.takes_value) {
            left += " " + (f.value_name.empty() ? "string" : f.value_name);
        }
        std::string right = f.help;
        if (!f.default_value.empty()) {
            right += " (default \"" + f.default_value + "\")";
        }
        width = std::max(width, left.size());
        rows.emplace_back(std::move(left), std::move(right));
    }
    std::ostringstream out;
    out << "Flags:\n";
    for (const auto& [left, right] : rows) {
        out << left << std::string(width - left.size() + 3, ' ') << right << '\n';
    }
    return out.str();
}

}  // namespace xarch::cli
