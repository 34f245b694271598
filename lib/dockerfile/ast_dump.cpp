// SPDX-License-Identifier: Apache-2.0
#include "ast_dump.hpp"

#include "util/go_text.hpp"

namespace xarch::dockerfile {

std::string dump(const Instruction& node) {
    std::string out = node.keyword;
    if (!node.flags.empty()) {
        out += ' ';
        out += util::go::quote_list(node.flags);
    }
    for (const std::string& arg : node.args) {
        out += ' ';
        util::go::append_quoted(out, arg);
    }
    // ONBUILD's trigger hangs off an argument node that has only children: Go prints it as
    // "(" + child + ")\n" trimmed.
    for (const Instruction& child : node.children) {
        out += " (";
        out += dump(child);
        out += ')';
    }
    // Go trims every node's dump; it matters only for odd keywords (an empty one).
    return std::string(util::go::trim_space(out));
}

std::string dump(const ParseResult& result) {
    std::string out;
    for (const Instruction& node : result.instructions) {
        out += '(';
        out += dump(node);
        out += ")\n";
    }
    return std::string(util::go::trim_space(out));
}

}  // namespace xarch::dockerfile
