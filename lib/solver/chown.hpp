// SPDX-License-Identifier: Apache-2.0
// COPY --chown / ADD --chown and WORKDIR's owner: "user[:group]" by name or number, names looked
// up in the stage's /etc/passwd and /etc/group as BuildKit's readUser does (a user alone gives
// its primary group, a number alone the same number as group, "root" is 0, a name that is not
// in the file is 0).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

struct Owner {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    friend bool operator==(const Owner&, const Owner&) = default;
};

// `read_file` gives a file of the stage's filesystem ("/etc/passwd"), nullopt when absent; it
// is called only for names. A number that does not fit 31 bits is taken as a name, as BuildKit's
// parseUID does. Throws Error(kInvalidArgument) when `spec` is empty.
Owner resolve_chown(std::string_view spec,
                    const std::function<std::optional<std::string>(std::string_view)>& read_file);

// The process identity a RUN step gets from the stage's USER.
struct RunUser {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> groups;  // supplementary groups
    std::string home = "/";             // HOME when the environment lacks it, as runc sets it
    friend bool operator==(const RunUser&, const RunUser&) = default;
};

// `user` is USER's value: "", "name", "uid", "name:group", "uid:gid". A number not in passwd runs
// with gid 0, as moby's user lookup gives; a name must be in /etc/passwd and a group name in
// /etc/group, else Error(kNotFound) saying so. Supplementary groups are those of /etc/group that
// list the user as a member.
RunUser resolve_run_user(
    std::string_view user,
    const std::function<std::optional<std::string>(std::string_view)>& read_file);

}  // namespace xarch::solver
