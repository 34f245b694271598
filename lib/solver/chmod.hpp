// SPDX-License-Identifier: Apache-2.0
// COPY --chmod / ADD --chmod: an octal mode ("755", "0644", "4755", at most 07777) or, as newer
// BuildKit accepts, chmod(1)'s symbolic form ("u+x", "go-w", "a=rX,u+s") applied to each
// file's own mode with no umask.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::solver {

class Chmod {
public:
    // Throws Error(kInvalidArgument) with BuildKit's message quoting `text`.
    static Chmod parse(std::string_view text);

    // The new permission bits (07777) of an entry whose current bits are `mode`.
    std::uint32_t apply(std::uint32_t mode, bool is_dir) const;
    // The octal value when the mode was given as one (what BuildKit also uses for the
    // directories a copy creates); 0xffffffff otherwise.
    std::uint32_t octal() const noexcept { return octal_; }

private:
    struct Clause {
        std::uint32_t who = 0;  // bits the clause touches (ugo masks incl. special bits)
        char op = '+';
        std::uint32_t perms = 0;  // r w x s t as absolute bits for all classes
        bool conditional_x = false;
        char copy_from = 0;  // 'u', 'g' or 'o' for "g=u"
    };
    std::uint32_t octal_ = 0xffffffffU;
    std::vector<Clause> clauses_;
};

}  // namespace xarch::solver
