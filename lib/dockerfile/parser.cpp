// SPDX-License-Identifier: Apache-2.0
// BuildKit's Parse loop (frontend/dockerfile/parser/parser.go), line for line in behaviour: the
// order of the checks matters, because comments, directives, continuations and heredocs all
// look at the same lines.
#include "parser.hpp"

#include "directives.hpp"
#include "error.hpp"
#include "line_parsers.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

namespace xarch::dockerfile {

namespace {

// bufio.Scanner with BuildKit's split function: lines keep their "\n"; a line longer than the
// scanner's buffer stops the scan with an error.
class LineScanner {
public:
    explicit LineScanner(std::string_view text) : text_(text) {}

    bool scan() {
        if (too_long_ || pos_ >= text_.size()) {
            return false;
        }
        const std::size_t nl = text_.find('\n', pos_);
        const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
        if (end - pos_ > kMaxLineLength) {
            too_long_ = true;
            too_long_size_ = end - pos_;
            return false;
        }
        const std::size_t next = nl == std::string_view::npos ? text_.size() : nl + 1;
        token_ = text_.substr(pos_, next - pos_);
        pos_ = next;
        return true;
    }

    std::string_view bytes() const { return token_; }
    bool too_long() const { return too_long_; }
    std::size_t too_long_size() const { return too_long_size_; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::string_view token_;
    bool too_long_ = false;
    std::size_t too_long_size_ = 0;
};

std::string_view trim_newline(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_comment(std::string_view line) {
    line = util::go::trim_left_space(line);
    return !line.empty() && line.front() == '#';
}

bool is_empty_continuation_line(std::string_view line) {
    return util::go::trim_left_space(trim_newline(line)).empty();
}

// The line continuation test: the escape character as the last character before optional spaces
// and tabs, and not itself escaped. Returns the line without it, and whether the line ends here.
std::pair<std::string_view, bool> trim_continuation(std::string_view line, char escape) {
    std::size_t k = line.size();
    while (k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t')) {
        --k;
    }
    if (k > 0 && line[k - 1] == escape && (k == 1 || line[k - 2] != escape)) {
        return {line.substr(0, k - 1), false};
    }
    return {line, true};
}

bool can_contain_heredoc(const Instruction& node) {
    const Instruction* n = &node;
    if (n->keyword == "onbuild" && !n->children.empty()) {
        n = &n->children.front();
    }
    const std::string& k = n->keyword;
    return (k == "add" || k == "copy" || k == "run") && !n->json;
}

class Parser {
public:
    Parser(std::string_view text, const ParseOptions& options)
        : scanner_(text), file_(options.file_name) {}

    ParseResult run() {
        std::vector<std::string> comments;
        while (scanner_.scan()) {
            std::string_view bytes = scanner_.bytes();
            if (current_line_ == 0) {
                bytes = discard_bom(bytes);
            }
            if (is_comment(bytes)) {
                // BuildKit drops the first byte (not the `#` itself, when the line is indented).
                const std::string_view comment = util::go::trim_space(bytes.substr(1));
                if (comment.empty()) {
                    comments.clear();
                } else {
                    comments.emplace_back(comment);
                }
            }
            bool directive = false;
            const std::string_view first = process_line(bytes, true, &directive);
            if (directive && !comments.empty()) {
                comments.pop_back();  // a directive is not a comment for the next instruction
            }
            ++current_line_;

            const int start_line = current_line_;
            auto [text, end_of_line] = trim_continuation(first, escape_);
            if (end_of_line && text.empty()) {
                continue;
            }
            std::string line(text);

            bool has_empty_continuation = false;
            while (!end_of_line && scanner_.scan()) {
                const std::string_view raw = scanner_.bytes();
                const std::string_view processed = process_line(raw, false, nullptr);
                ++current_line_;
                if (is_comment(raw)) {
                    continue;
                }
                if (is_empty_continuation_line(processed)) {
                    has_empty_continuation = true;
                    continue;
                }
                std::tie(text, end_of_line) = trim_continuation(processed, escape_);
                line.append(text);
            }
            check_scanner();

            if (has_empty_continuation) {
                result_.warnings.push_back(Warning{
                    "Empty continuation line found in: " + line,
                    "Empty continuation lines will become errors in a future release",
                    "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
                    current_line_,
                });
            }

            Instruction child;
            try {
                child = node_from_line(line, escape_);
            } catch (const DockerfileError&) {
                throw;
            } catch (const Error& e) {
                throw DockerfileError(file_, start_line, current_line_, e.what());
            }
            child.comments = std::move(comments);
            comments.clear();

            if (can_contain_heredoc(child) && line.find("<<") != std::string::npos) {
                read_heredocs(child, line, start_line);
            }
            child.start_line = start_line;
            child.end_line = current_line_;
            set_lines(child, start_line, current_line_);
            result_.instructions.push_back(std::move(child));
        }
        check_scanner();

        if (result_.instructions.empty()) {
            throw DockerfileError(file_, 0, 0,
                                  "file with no instructions: a Dockerfile needs at least one "
                                  "instruction, such as FROM");
        }
        result_.start_line = result_.instructions.front().start_line;
        result_.end_line = result_.instructions.back().end_line;
        result_.escape_token = escape_;
        result_.file_name = file_;
        return std::move(result_);
    }

private:
    // processLine: trims the newline (and the indentation of an instruction's first line), feeds
    // the directive parser, and blanks comment lines.
    std::string_view process_line(std::string_view token, bool strip_left, bool* directive_ok) {
        token = trim_newline(token);
        if (strip_left) {
            token = util::go::trim_left_space(token);
        }
        std::optional<Directive> directive;
        try {
            directive = directives_.parse_line(token);
            if (directive && directive->name == "escape") {
                set_escape(directive->value);
            }
        } catch (const Error& e) {
            throw DockerfileError(file_, current_line_ + 1, current_line_ + 1, e.what());
        }
        if (directive) {
            if (directive_ok != nullptr) {
                *directive_ok = true;
            }
            result_.directives.push_back(std::move(*directive));
        }
        return is_comment(token) ? std::string_view() : token;
    }

    void set_escape(const std::string& value) {
        if (value != "`" && value != "\\") {
            throw Error(ErrorCode::kInvalidArgument,
                        "invalid escape token '" + value + "' does not match ` or \\");
        }
        escape_ = value.front();
    }

    void read_heredocs(Instruction& child, const std::string& line, int start_line) {
        std::vector<Heredoc> heredocs;
        try {
            heredocs = heredocs_from_line(line);
        } catch (const Error& e) {
            throw DockerfileError(file_, start_line, current_line_, e.what());
        }
        for (Heredoc& heredoc : heredocs) {
            bool terminated = false;
            std::string content;
            while (scanner_.scan()) {
                const std::string_view raw = scanner_.bytes();
                ++current_line_;
                std::string_view terminator = trim_newline(raw);
                if (heredoc.chomp) {
                    terminator.remove_prefix(
                        std::min(terminator.find_first_not_of('\t'), terminator.size()));
                }
                if (terminator == heredoc.name) {
                    terminated = true;
                    break;
                }
                content.append(raw);
            }
            check_scanner();
            if (!terminated) {
                throw DockerfileError(
                    file_, start_line, current_line_,
                    "unterminated heredoc: no line " + util::go::quote(heredoc.name) +
                        " ends the here-document started on line " + std::to_string(start_line));
            }
            heredoc.content = std::move(content);
            child.heredocs.push_back(std::move(heredoc));
        }
    }

    // An ONBUILD trigger spans the lines of its ONBUILD.
    static void set_lines(Instruction& node, int start, int end) {
        for (Instruction& c : node.children) {
            c.start_line = start;
            c.end_line = end;
            set_lines(c, start, end);
        }
    }

    void check_scanner() const {
        if (scanner_.too_long()) {
            throw DockerfileError(file_, current_line_ + 1, current_line_ + 1,
                                  "dockerfile line greater than max allowed size of " +
                                      std::to_string(kMaxLineLength) + ": this line has " +
                                      std::to_string(scanner_.too_long_size()) +
                                      " bytes; split it with line continuations");
        }
    }

    LineScanner scanner_;
    std::string file_;
    char escape_ = '\\';
    int current_line_ = 0;
    DirectiveParser directives_;
    ParseResult result_;
};

// agext/levenshtein's Distance with unit costs, over runes.
std::size_t levenshtein(const std::u32string& a, const std::u32string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::u32string runes(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const util::go::DecodedRune d = util::go::decode_rune(s.substr(i));
        out += d.rune;
        i += d.width;
    }
    return out;
}

std::size_t rune_count(std::string_view s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++n) {
        i += util::go::decode_rune(s.substr(i)).width;
    }
    return n;
}

enum class FlagType { kBool, kString, kStrings };

struct FlagSpec {
    std::string_view name;
    FlagType type;
};

// The flags each instruction declares in BuildKit's instructions/parse.go (and the RUN hooks in
// commands_run*.go), in declaration order.
const std::vector<FlagSpec>& flags_of(std::string_view keyword) {
    static const std::vector<FlagSpec> kNone;
    static const std::vector<FlagSpec> kAdd{
        {"chown", FlagType::kString},    {"chmod", FlagType::kString},
        {"link", FlagType::kBool},       {"keep-git-dir", FlagType::kBool},
        {"checksum", FlagType::kString}, {"unpack", FlagType::kBool},
        {"exclude", FlagType::kStrings},
    };
    static const std::vector<FlagSpec> kCopy{
        {"chown", FlagType::kString}, {"from", FlagType::kString},     {"chmod", FlagType::kString},
        {"link", FlagType::kBool},    {"exclude", FlagType::kStrings}, {"parents", FlagType::kBool},
    };
    static const std::vector<FlagSpec> kFrom{{"platform", FlagType::kString}};
    static const std::vector<FlagSpec> kRun{
        {"mount", FlagType::kStrings},
        {"network", FlagType::kString},
        {"security", FlagType::kString},
        {"device", FlagType::kStrings},
    };
    static const std::vector<FlagSpec> kHealthcheck{
        {"interval", FlagType::kString},     {"timeout", FlagType::kString},
        {"start-period", FlagType::kString}, {"start-interval", FlagType::kString},
        {"retries", FlagType::kString},
    };
    if (keyword == "add") {
        return kAdd;
    }
    if (keyword == "copy") {
        return kCopy;
    }
    if (keyword == "from") {
        return kFrom;
    }
    if (keyword == "run") {
        return kRun;
    }
    if (keyword == "healthcheck") {
        return kHealthcheck;
    }
    return kNone;
}

// BFlags.Parse: the first problem with `flags` for an instruction declaring `specs`, or "".
std::string check_flags(const std::vector<std::string>& flags, const std::vector<FlagSpec>& specs) {
    std::vector<std::string_view> used;
    for (const std::string& a : flags) {
        if (a == "--") {
            return {};
        }
        if (!a.starts_with("--")) {
            return "arg should start with -- : " + a;
        }
        const std::size_t eq = a.find('=');
        const bool has_value = eq != std::string::npos;
        const std::string flag_name = a.substr(0, eq);
        const std::string value = has_value ? a.substr(eq + 1) : std::string();
        const std::string_view arg = std::string_view(flag_name).substr(2);
        const FlagSpec* spec = nullptr;
        for (const FlagSpec& s : specs) {
            if (s.name == arg) {
                spec = &s;
            }
        }
        if (spec == nullptr) {
            std::string message = "unknown flag: " + flag_name;
            std::vector<std::string> names;
            for (const FlagSpec& s : specs) {
                names.emplace_back(s.name);
            }
            const std::string match = suggest(arg, names, true);
            if (!match.empty()) {
                message += " (did you mean " + match + "?)";
            }
            return message;
        }
        const bool seen = std::find(used.begin(), used.end(), spec->name) != used.end();
        if (seen && spec->type != FlagType::kStrings) {
            return "duplicate flag specified: " + flag_name;
        }
        used.push_back(spec->name);
        if (spec->type == FlagType::kBool) {
            if (has_value && value.empty()) {
                return "missing a value on flag: " + flag_name;
            }
            const std::string lower = util::go::to_lower(value);
            if (lower != "true" && lower != "" && lower != "false") {
                return "expecting boolean value for flag " + flag_name + ", not: " + value;
            }
        } else if (!has_value) {
            return "missing a value on flag: " + flag_name;
        }
    }
    return {};
}

// command.Commands, upper-cased as BuildKit offers them for suggestions.
const std::vector<std::string>& instruction_names() {
    static const std::vector<std::string> kNames{
        "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
        "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
        "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR",
    };
    return kNames;
}

bool is_known_instruction(const std::string& keyword) {
    static const std::vector<std::string> kLower = [] {
        std::vector<std::string> out;
        for (const std::string& name : instruction_names()) {
            out.push_back(util::go::to_lower(name));
        }
        return out;
    }();
    return std::find(kLower.begin(), kLower.end(), keyword) != kLower.end();
}

// Whether BuildKit parses the instruction's flags at all: ARG and STOPSIGNAL never do, and
// HEALTHCHECK NONE (or with no argument) fails or returns before it does.
bool parses_flags(const Instruction& node) {
    if (node.keyword == "arg" || node.keyword == "stopsignal") {
        return false;
    }
    if (node.keyword == "healthcheck") {
        return !node.args.empty() && util::go::to_upper(node.args.front()) != "NONE";
    }
    return true;
}

}  // namespace

ParseResult parse(std::string_view text, const ParseOptions& options) {
    return Parser(text, options).run();
}

std::string suggest(std::string_view value,
                    const std::vector<std::string>& options,
                    bool case_sensitive) {
    const std::string val = case_sensitive ? std::string(value) : util::go::to_lower(value);
    const std::size_t val_len = rune_count(val);
    std::u32string val_runes;  // decoded only when some option is near in length
    std::string match;
    std::size_t min_dist = 3;  // as hcl does
    for (const std::string& option : options) {
        const std::string opt = case_sensitive ? option : util::go::to_lower(option);
        if (val == opt) {
            return {};  // an exact match: the error is about something else
        }
        const std::size_t opt_len = rune_count(opt);
        const std::size_t diff = val_len > opt_len ? val_len - opt_len : opt_len - val_len;
        if (diff >= min_dist) {
            continue;  // the distance is at least the difference in length
        }
        if (val_runes.empty()) {
            val_runes = runes(val);
        }
        const std::size_t dist = levenshtein(val_runes, runes(opt));
        if (dist < min_dist) {
            min_dist = dist;
            if (case_sensitive) {
                match = opt;
            } else if (value == util::go::to_lower(value)) {
                match = util::go::to_lower(opt);
            } else if (value == util::go::to_upper(value)) {
                match = util::go::to_upper(opt);
            } else {
                match = opt;
            }
        }
    }
    return match;
}

void check_instructions(const ParseResult& result) {
    for (const Instruction& node : result.instructions) {
        if (!is_known_instruction(node.keyword)) {
            if (node.keyword_as_written.empty()) {
                throw DockerfileError(result.file_name, node.start_line, node.end_line,
                                      "empty instruction: a line ends in the escape character "
                                      "but no instruction follows it");
            }
            std::string message = "unknown instruction: " + node.keyword_as_written;
            const std::string match = suggest(node.keyword_as_written, instruction_names(), false);
            if (!match.empty()) {
                message += " (did you mean " + match + "?)";
            }
            throw DockerfileError(result.file_name, node.start_line, node.end_line, message);
        }
        if (!parses_flags(node)) {
            continue;
        }
        const std::string problem = check_flags(node.flags, flags_of(node.keyword));
        if (!problem.empty()) {
            throw DockerfileError(result.file_name, node.start_line, node.end_line, problem);
        }
    }
}

}  // namespace xarch::dockerfile
