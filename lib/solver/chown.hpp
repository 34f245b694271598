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

}  // namespace xarch::solver
