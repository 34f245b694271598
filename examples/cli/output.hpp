// SPDX-License-Identifier: Apache-2.0
// Output helpers shared by the commands: the --format flag and platform lists as docker prints
// them.
#pragma once

#include "args.hpp"
#include "xarch/platform.hpp"

#include <string>
#include <vector>

namespace xarch::cli {

enum class Format { kTable, kJson };

inline FlagSpec format_flag() {
    return {"format", '\0', true, "string", "Format the output: table or json", "table"};
}

inline Format output_format(const ParsedArgs& args) {
    const std::string format = args.get("format", "table");
    if (format == "table") {
        return Format::kTable;
    }
    if (format == "json") {
        return Format::kJson;
    }
    throw UsageError("unknown format \"" + format + "\": use table or json");
}

// "linux/amd64, linux/arm64", as `docker buildx ls` lists platforms.
inline std::string join_platforms(const std::vector<Platform>& platforms) {
    std::string out;
    for (const Platform& p : platforms) {
        out += (out.empty() ? "" : ", ") + p.to_string();
    }
    return out;
}

}  // namespace xarch::cli
