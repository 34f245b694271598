// SPDX-License-Identifier: Apache-2.0
#include "util/path.hpp"

#include <cstddef>

namespace xarch::util {

std::string clean_path(std::string_view path) {
    if (path.empty()) {
        return ".";
    }
    const bool rooted = path[0] == '/';
    const std::size_t n = path.size();
    std::string out;
    out.reserve(n);
    std::size_t r = 0;
    std::size_t dotdot = 0;  // where `out` can no longer be backtracked by ".."
    if (rooted) {
        out += '/';
        r = 1;
        dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            ++r;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            ++r;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (out.size() > dotdot) {
                std::size_t w = out.size() - 1;
                while (w > dotdot && out[w] != '/') {
                    --w;
                }
                out.resize(w);
            } else if (!rooted) {
                if (!out.empty()) {
                    out += '/';
                }
                out += "..";
                dotdot = out.size();
            }
        } else {
            if ((rooted && out.size() != 1) || (!rooted && !out.empty())) {
                out += '/';
            }
            for (; r < n && path[r] != '/'; ++r) {
                out += path[r];
            }
        }
    }
    if (out.empty()) {
        return ".";
    }
    return out;
}

}  // namespace xarch::util
