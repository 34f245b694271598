// SPDX-License-Identifier: Apache-2.0
// IndexAnnotation::parse: buildx's `imagetools create --annotation` syntax
// ("[TYPE[,TYPE...]:]KEY=VALUE", TYPE "index" or "manifest-descriptor[PLATFORM]").
#include "util/quote.hpp"

#include <xarch/error.hpp>
#include <xarch/registry.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace xarch {

namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid annotation " + util::quote(text) + ": " + why);
}

}  // namespace

std::vector<IndexAnnotation> IndexAnnotation::parse(std::string_view text) {
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
        bad(text, "expected key=value");
    }
    const std::string_view left = text.substr(0, eq);
    const std::string value(text.substr(eq + 1));
    std::vector<std::string_view> types;
    std::string_view key = left;
    if (const std::size_t colon = left.find(':'); colon != std::string_view::npos) {
        key = left.substr(colon + 1);
        std::string_view rest = left.substr(0, colon);
        for (;;) {
            const std::size_t comma = rest.find(',');
            types.push_back(rest.substr(0, comma));
            if (comma == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(comma + 1);
        }
    } else {
        types.push_back("index");
    }
    if (key.empty()) {
        bad(text, "the key is empty");
    }
    std::vector<IndexAnnotation> out;
    for (std::string_view type : types) {
        IndexAnnotation a;
        a.key = std::string(key);
        a.value = value;
        const std::string_view whole = type;
        if (const std::size_t bracket = type.find('[');
            bracket != std::string_view::npos && type.ends_with(']')) {
            a.platform = Platform::parse(type.substr(bracket + 1, type.size() - bracket - 2));
            type = type.substr(0, bracket);
        }
        if (type == "manifest-descriptor") {
            a.on_descriptors = true;
        } else if (type != "index" || a.platform) {
            bad(text, "annotation type " + util::quote(whole) +
                          " is not supported: use index: (the default) or "
                          "manifest-descriptor[PLATFORM]:");
        }
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace xarch
