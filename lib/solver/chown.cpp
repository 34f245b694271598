// SPDX-License-Identifier: Apache-2.0
// --chown resolution against the stage's passwd and group files.
#include "chown.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <charconv>
#include <sstream>

namespace xarch::solver {

namespace {

// llb's parseUID: "root" is 0, else a 32-bit signed decimal.
std::optional<std::uint32_t> parse_id(std::string_view text) {
    if (text == "root") {
        return 0;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 ||
        value > 0x7fffffff) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(value);
}

// The fields of the first line of a passwd/group file whose name is `name`.
std::optional<std::vector<std::string>> find_line(const std::string& file, std::string_view name) {
    std::istringstream lines(file);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::vector<std::string> fields;
        std::size_t start = 0;
        while (true) {
            const auto colon = line.find(':', start);
            fields.push_back(line.substr(start, colon - start));
            if (colon == std::string::npos) {
                break;
            }
            start = colon + 1;
        }
        if (!fields.empty() && fields[0] == name) {
            return fields;
        }
    }
    return std::nullopt;
}

std::uint32_t field_id(const std::vector<std::string>& fields, std::size_t index) {
    if (index >= fields.size()) {
        return 0;
    }
    return parse_id(fields[index]).value_or(0);
}

}  // namespace

Owner resolve_chown(std::string_view spec,
                    const std::function<std::optional<std::string>(std::string_view)>& read_file) {
    if (spec.empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "empty --chown value; give user[:group] by name or number");
    }
    const auto colon = spec.find(':');
    const std::string_view user = spec.substr(0, colon);
    Owner owner;
    if (const auto id = parse_id(user)) {
        owner.uid = *id;
        owner.gid = *id;
    } else if (!user.empty()) {
        if (std::optional<std::string> passwd = read_file("/etc/passwd")) {
            if (auto fields = find_line(*passwd, user)) {
                owner.uid = field_id(*fields, 2);
                owner.gid = field_id(*fields, 3);
            }
        }
    }
    if (colon != std::string_view::npos) {
        const std::string_view group = spec.substr(colon + 1);
        if (const auto id = parse_id(group)) {
            owner.gid = *id;
        } else if (!group.empty()) {
            if (std::optional<std::string> groups = read_file("/etc/group")) {
                if (auto fields = find_line(*groups, group)) {
                    owner.gid = field_id(*fields, 2);
                }
            }
        }
    }
    return owner;
}

}  // namespace xarch::solver
