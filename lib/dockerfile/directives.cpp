// SPDX-License-Identifier: Apache-2.0
#include "directives.hpp"

#include "json_array.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <utility>

namespace xarch::dockerfile {

namespace {

// \s of Go's regexp: ASCII [\t\n\f\r ] (not \v).
bool is_re_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_alnum(char c) {
    return is_alpha(c) || (c >= '0' && c <= '9');
}

// ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ over one line: the name and the value, or false.
bool match_directive(std::string_view line, std::string_view& name, std::string_view& value) {
    if (line.empty() || !is_alpha(line.front())) {
        return false;
    }
    std::size_t i = 1;
    while (i < line.size() && is_alnum(line[i])) {
        ++i;
    }
    name = line.substr(0, i);
    while (i < line.size() && is_re_space(line[i])) {
        ++i;
    }
    if (i >= line.size() || line[i] != '=') {
        return false;
    }
    const std::string_view after = line.substr(i + 1);
    std::size_t first = 0;
    while (first < after.size() && is_re_space(after[first])) {
        ++first;
    }
    if (first == after.size()) {
        // Only blanks: the greedy \s* gives back the last one that `.` can match, so that
        // (.+?) has a character.
        const std::size_t last = after.find_last_not_of('\n');
        if (last == std::string_view::npos) {
            return false;
        }
        value = after.substr(last, 1);
        return true;
    }
    std::size_t last = after.size();
    while (last > first && is_re_space(after[last - 1])) {
        --last;
    }
    value = after.substr(first, last - first);
    // `.` does not match a newline.
    return value.find('\n') == std::string_view::npos;
}

// The lines of `text` as bufio.Scanner's ScanLines gives them: split at \n, a trailing \r
// removed, no empty last line; scanning stops at a line too long for its buffer.
std::vector<std::string_view> scan_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        if (line.size() > kMaxLineLength) {
            break;
        }
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines.push_back(line);
    }
    return lines;
}

std::vector<Directive> parse_all(DirectiveParser& parser, std::string_view text) {
    std::vector<Directive> out;
    for (std::string_view line : scan_lines(text)) {
        if (parser.done()) {
            break;
        }
        try {
            if (auto d = parser.parse_line(line)) {
                out.push_back(std::move(*d));
            }
        } catch (const Error&) {
            break;
        }
    }
    return out;
}

std::optional<SyntaxDirective> find_directive(std::string_view key,
                                              std::string_view text,
                                              DirectiveParser parser) {
    for (const Directive& d : parse_all(parser, text)) {
        if (d.name == key) {
            const std::size_t space = d.value.find(' ');
            return SyntaxDirective{d.value.substr(0, space), d.value, d.line};
        }
    }
    return std::nullopt;
}

std::optional<SyntaxDirective> detect(std::string_view key, std::string_view text, bool any) {
    text = discard_bom(text);
    int line = 0;
    const std::size_t nl = text.find('\n');
    if (text.substr(0, nl).starts_with("#!")) {
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        line = 1;
    }
    if (auto found = find_directive(key, text, DirectiveParser("#", line))) {
        return found;
    }
    if (!any) {
        return std::nullopt;
    }
    if (auto found = find_directive(key, text, DirectiveParser("//", line))) {
        return found;
    }
    if (auto value = json_object_string(text, key)) {
        return SyntaxDirective{*value, *value, line};
    }
    return std::nullopt;
}

}  // namespace

std::optional<Directive> DirectiveParser::parse_line(std::string_view line) {
    ++line_;
    if (done_) {
        return std::nullopt;
    }
    if (!line.starts_with(comment_)) {
        done_ = true;
        return std::nullopt;
    }
    line = util::go::trim_left_space(line.substr(comment_.size()));
    std::string_view name;
    std::string_view value;
    if (!match_directive(line, name, value)) {
        done_ = true;
        return std::nullopt;
    }
    std::string key;
    for (char c : name) {
        key += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    if (key != "syntax" && key != "escape" && key != "check") {
        done_ = true;
        return std::nullopt;
    }
    if (!seen_.insert(key).second) {
        throw Error(ErrorCode::kInvalidArgument,
                    "only one " + key + " parser directive can be used");
    }
    return Directive{std::move(key), std::string(value), line_};
}

std::vector<Directive> parse_directives(std::string_view text) {
    DirectiveParser parser;
    return parse_all(parser, text);
}

std::optional<SyntaxDirective> detect_syntax(std::string_view text) {
    return detect("syntax", text, true);
}

std::optional<SyntaxDirective> parse_directive(std::string_view key, std::string_view text) {
    return detect(key, text, false);
}

std::string_view discard_bom(std::string_view s) {
    if (s.starts_with("\xEF\xBB\xBF")) {
        s.remove_prefix(3);
    }
    return s;
}

}  // namespace xarch::dockerfile
