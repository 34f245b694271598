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

// Every non-comment line of a passwd/group file, split at ':'.
std::vector<std::vector<std::string>> all_lines(const std::string& file) {
    std::vector<std::vector<std::string>> out;
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
        out.push_back(std::move(fields));
    }
    return out;
}

// The fields of the first line of a passwd/group file whose name is `name`.
std::optional<std::vector<std::string>> find_line(const std::string& file, std::string_view name) {
    for (std::vector<std::string>& fields : all_lines(file)) {
        if (fields[0] == name) {
            return std::move(fields);
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

RunUser resolve_run_user(
    std::string_view user,
    const std::function<std::optional<std::string>(std::string_view)>& read_file) {
    RunUser out;
    const auto colon = user.find(':');
    // An empty USER is root, whose home passwd still gives.
    const std::string_view name = user.empty() ? std::string_view("root") : user.substr(0, colon);
    const std::string passwd = read_file("/etc/passwd").value_or("");
    std::string user_name;
    bool found = false;
    const std::optional<std::uint32_t> uid = name == "root" ? std::nullopt : parse_id(name);
    for (const std::vector<std::string>& fields : all_lines(passwd)) {
        // A number matches the uid field, anything else the name.
        const bool match =
            uid ? fields.size() > 2 && parse_id(fields[2]) == uid : fields[0] == name;
        if (match) {
            out.uid = field_id(fields, 2);
            out.gid = field_id(fields, 3);
            if (fields.size() > 5 && !fields[5].empty()) {
                out.home = fields[5];
            }
            user_name = fields[0];
            found = true;
            break;
        }
    }
    if (!found) {
        const auto id = parse_id(name);
        if (!id) {
            throw Error(ErrorCode::kNotFound, "unable to find user " + std::string(name) +
                                                  ": no matching entries in passwd file");
        }
        out.uid = *id;
        out.gid = 0;
    }
    if (colon != std::string_view::npos) {
        const std::string_view group = user.substr(colon + 1);
        if (const auto gid = group == "root" ? std::nullopt : parse_id(group)) {
            out.gid = *gid;
        } else if (auto fields = find_line(read_file("/etc/group").value_or(""), group)) {
            out.gid = field_id(*fields, 2);
        } else if (group == "root") {
            out.gid = 0;
        } else {
            throw Error(ErrorCode::kNotFound, "unable to find group " + std::string(group) +
                                                  ": no matching entries in group file");
        }
    }
    if (!user_name.empty()) {
        for (const std::vector<std::string>& fields :
             all_lines(read_file("/etc/group").value_or(""))) {
            if (fields.size() < 4) {
                continue;
            }
            std::istringstream members(fields[3]);
            std::string member;
            while (std::getline(members, member, ',')) {
                if (member == user_name) {
                    out.groups.push_back(field_id(fields, 2));
                    break;
                }
            }
        }
    }
    return out;
}

}  // namespace xarch::solver
