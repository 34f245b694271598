// SPDX-License-Identifier: Apache-2.0
#include "line_parsers.hpp"

#include "json_array.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <utility>

namespace xarch::dockerfile {

namespace {

// [\t\v\f\r ] — the class of BuildKit's reWhitespace (no \n: lines have none).
bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

[[noreturn]] void fail(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, message);
}

// BuildKit's extractBuilderFlags. It walks the line byte by byte and treats each byte as a rune:
// bytes 0x85 and 0xA0 count as white space, and a non-ASCII byte is written as the UTF-8 of the
// Latin-1 character with that value. Reproduced as is, since flags are compared as written.
std::string_view extract_flags(std::string_view line, char escape, std::vector<std::string>& out) {
    enum class Phase { kSpaces, kWord, kQuote };
    Phase phase = Phase::kSpaces;
    std::string word;
    char quote = 0;
    bool blank_ok = false;
    const std::size_t n = line.size();
    auto byte_space = [](char c) { return util::go::is_space(static_cast<unsigned char>(c)); };
    auto put = [&word](char c) { util::go::append_rune(word, static_cast<unsigned char>(c)); };

    for (std::size_t pos = 0; pos <= n; ++pos) {
        const char ch = pos < n ? line[pos] : '\0';
        if (phase == Phase::kSpaces) {
            if (pos == n) {
                break;
            }
            if (byte_space(ch)) {
                continue;
            }
            if (ch != '-' || pos + 1 == n || line[pos + 1] != '-') {
                return line.substr(pos);
            }
            phase = Phase::kWord;
        }
        if (pos == n) {
            if (word != "--" && (blank_ok || !word.empty())) {
                out.push_back(std::move(word));
            }
            break;
        }
        if (phase == Phase::kWord) {
            if (byte_space(ch)) {
                phase = Phase::kSpaces;
                if (word == "--") {
                    return line.substr(pos);
                }
                if (blank_ok || !word.empty()) {
                    out.push_back(std::move(word));
                }
                word.clear();
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = true;
                phase = Phase::kQuote;
                continue;
            }
            if (ch == escape) {
                if (pos + 1 == n) {
                    continue;  // a trailing escape is dropped
                }
                ++pos;
            }
            put(line[pos]);
            continue;
        }
        // Phase::kQuote
        if (ch == quote) {
            phase = Phase::kWord;
            continue;
        }
        if (ch == escape) {
            if (pos + 1 == n) {
                phase = Phase::kWord;
                continue;
            }
            ++pos;
        }
        put(line[pos]);
    }
    return {};
}

// parseMaybeJSON / parseMaybeJSONToList: the exec form when `rest` is a JSON array of strings.
bool try_json(std::string_view rest, Instruction& node) {
    JsonArray json = parse_json_array(rest);
    if (json.status == JsonArrayStatus::kNotStringArray) {
        fail(
            "when using JSON array syntax, arrays must be comprised of strings only: quote "
            "every element, as in [\"executable\", \"param\"]");
    }
    if (json.status != JsonArrayStatus::kStrings) {
        return false;
    }
    node.args = std::move(json.values);
    node.json = true;
    return true;
}

void parse_maybe_json(std::string_view rest, Instruction& node) {
    if (rest.empty() || try_json(rest, node)) {
        return;
    }
    node.args.emplace_back(rest);
}

void parse_whitespace_delimited(std::string_view rest, Instruction& node) {
    if (!rest.empty()) {
        node.args = split_whitespace(rest);
    }
}

void parse_maybe_json_to_list(std::string_view rest, Instruction& node) {
    if (try_json(rest, node)) {
        return;
    }
    parse_whitespace_delimited(rest, node);
}

void parse_string(std::string_view rest, Instruction& node) {
    if (!rest.empty()) {
        node.args.emplace_back(rest);
    }
}

// ENV and LABEL: `KEY name value` (old form, when the first word has no `=`) or
// `KEY n1=v1 n2=v2` — as name, value, separator triples.
void parse_name_val(std::string_view rest, std::string_view key, char escape, Instruction& node) {
    const std::vector<std::string> words = parse_words(rest, escape);
    if (words.empty()) {
        return;
    }
    if (words.front().find('=') == std::string::npos) {
        std::vector<std::string> parts = split_whitespace(rest, 2);
        if (parts.size() < 2) {
            fail(std::string(key) + " must have two arguments: write " + std::string(key) +
                 " NAME=VALUE (or " + std::string(key) + " NAME VALUE)");
        }
        node.args = {std::move(parts[0]), std::move(parts[1]), ""};
        return;
    }
    for (const std::string& word : words) {
        const std::size_t eq = word.find('=');
        if (eq == std::string::npos) {
            fail("Syntax error - can't find = in " + util::go::quote(word) +
                 ". Must be of the form: name=value");
        }
        node.args.push_back(word.substr(0, eq));
        node.args.push_back(word.substr(eq + 1));
        node.args.emplace_back("=");
    }
}

void parse_health_config(std::string_view rest, Instruction& node) {
    // Byte-wise white space test, as BuildKit does it.
    auto byte_space = [](char c) { return util::go::is_space(static_cast<unsigned char>(c)); };
    std::size_t sep = 0;
    while (sep < rest.size() && !byte_space(rest[sep])) {
        ++sep;
    }
    std::size_t next = sep;
    while (next < rest.size() && byte_space(rest[next])) {
        ++next;
    }
    if (sep == 0) {
        return;
    }
    Instruction cmd;
    parse_maybe_json(rest.substr(next), cmd);
    node.args.emplace_back(rest.substr(0, sep));
    for (std::string& arg : cmd.args) {
        node.args.push_back(std::move(arg));
    }
    node.json = cmd.json;
}

}  // namespace

std::vector<std::string> split_whitespace(std::string_view text, std::size_t limit) {
    std::vector<std::string> out;
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_blank(text[i])) {
            ++i;
            continue;
        }
        if (limit > 0 && out.size() + 1 == limit) {
            break;
        }
        out.emplace_back(text.substr(start, i - start));
        while (i < text.size() && is_blank(text[i])) {
            ++i;
        }
        start = i;
    }
    out.emplace_back(text.substr(start));
    return out;
}

SplitLine split_command(std::string_view line, char escape) {
    SplitLine out;
    const std::string_view trimmed = util::go::trim_space(line);
    std::size_t cut = 0;
    while (cut < trimmed.size() && !is_blank(trimmed[cut])) {
        ++cut;
    }
    out.keyword = trimmed.substr(0, cut);
    if (cut == trimmed.size()) {
        return out;
    }
    std::size_t args_start = cut;
    while (args_start < trimmed.size() && is_blank(trimmed[args_start])) {
        ++args_start;
    }
    out.rest = util::go::trim_space(extract_flags(trimmed.substr(args_start), escape, out.flags));
    return out;
}

std::vector<std::string> parse_words(std::string_view rest, char escape) {
    enum class Phase { kSpaces, kWord, kQuote };
    std::vector<std::string> words;
    Phase phase = Phase::kSpaces;
    char32_t quote = 0;
    bool blank_ok = false;
    std::string word;
    const auto esc = static_cast<char32_t>(static_cast<unsigned char>(escape));
    const std::size_t n = rest.size();
    util::go::DecodedRune d{0, 1};

    for (std::size_t pos = 0; pos <= n; pos += d.width) {
        if (pos != n) {
            d = util::go::decode_rune(rest.substr(pos));
        }
        if (phase == Phase::kSpaces) {
            if (pos == n) {
                break;
            }
            if (util::go::is_space(d.rune)) {
                continue;
            }
            phase = Phase::kWord;
        }
        if (pos == n) {
            if (blank_ok || !word.empty()) {
                words.push_back(std::move(word));
            }
            break;
        }
        if (phase == Phase::kWord) {
            if (util::go::is_space(d.rune)) {
                phase = Phase::kSpaces;
                if (blank_ok || !word.empty()) {
                    words.push_back(std::move(word));
                }
                word.clear();
                blank_ok = false;
                continue;
            }
            if (d.rune == U'\'' || d.rune == U'"') {
                quote = d.rune;
                blank_ok = true;
                phase = Phase::kQuote;
            }
            if (d.rune == esc) {
                if (pos + d.width == n) {
                    continue;  // a trailing escape is dropped
                }
                // Outside quotes the escape is kept with the character it escapes, even a quote.
                util::go::append_rune(word, d.rune);
                pos += d.width;
                d = util::go::decode_rune(rest.substr(pos));
            }
            util::go::append_rune(word, d.rune);
            continue;
        }
        // Phase::kQuote
        if (d.rune == quote) {
            phase = Phase::kWord;
        }
        if (d.rune == esc && quote != U'\'') {
            if (pos + d.width == n) {
                phase = Phase::kWord;
                continue;
            }
            pos += d.width;
            util::go::append_rune(word, esc);
            d = util::go::decode_rune(rest.substr(pos));
        }
        util::go::append_rune(word, d.rune);
    }
    return words;
}

Instruction node_from_line(std::string_view line, char escape, int depth) {
    SplitLine split = split_command(line, escape);
    Instruction node;
    node.keyword = util::go::to_lower(split.keyword);
    node.keyword_as_written = std::string(split.keyword);
    node.original = std::string(line);
    node.flags = std::move(split.flags);
    const std::string_view rest = split.rest;
    const std::string& k = node.keyword;

    if (k == "add" || k == "copy" || k == "volume") {
        parse_maybe_json_to_list(rest, node);
    } else if (k == "run" || k == "cmd" || k == "entrypoint" || k == "shell") {
        parse_maybe_json(rest, node);
    } else if (k == "from" || k == "expose") {
        parse_whitespace_delimited(rest, node);
    } else if (k == "maintainer" || k == "user" || k == "workdir" || k == "stopsignal") {
        parse_string(rest, node);
    } else if (k == "env") {
        parse_name_val(rest, "ENV", escape, node);
    } else if (k == "label") {
        parse_name_val(rest, "LABEL", escape, node);
    } else if (k == "arg") {
        node.args = parse_words(rest, escape);
    } else if (k == "healthcheck") {
        parse_health_config(rest, node);
    } else if (k == "onbuild") {
        if (!rest.empty()) {
            if (depth + 1 > kMaxOnbuildDepth) {
                fail("ONBUILD nested more than " + std::to_string(kMaxOnbuildDepth) +
                     " levels deep (an ONBUILD trigger cannot be ONBUILD)");
            }
            node.children.push_back(node_from_line(rest, escape, depth + 1));
        }
    } else {
        // Unknown instructions are kept, with one empty argument, as BuildKit's parseIgnore
        // does; check_instructions() reports them.
        node.args.emplace_back();
    }
    return node;
}

}  // namespace xarch::dockerfile
