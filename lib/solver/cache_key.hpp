// SPDX-License-Identifier: Apache-2.0
// Cache keys: a sha256 over length-prefixed fields, so that no two different field lists give
// the same bytes ("ab","c" and "a","bc" differ).
#pragma once

#include <xarch/digest.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace xarch::solver {

class KeyBuilder {
public:
    explicit KeyBuilder(std::string_view kind) { add(kind); }
    KeyBuilder& add(std::string_view field) {
        hasher_.update(std::to_string(field.size()));
        hasher_.update(":");
        hasher_.update(field);
        return *this;
    }
    KeyBuilder& add(const Digest& digest) { return add(digest.to_string()); }
    KeyBuilder& add(std::int64_t number) { return add(std::to_string(number)); }
    Digest finish() { return hasher_.finish(); }

private:
    Hasher hasher_;
};

}  // namespace xarch::solver
