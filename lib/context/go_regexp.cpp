// SPDX-License-Identifier: Apache-2.0
// A parser for Go's RE2 syntax (regexp/syntax with the Perl flags regexp.Compile uses), a
// Thompson-NFA compiler and a simulation that answers "does it match anywhere".
#include "context/go_regexp.hpp"

#include "util/go_text.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::context::go {
namespace {

constexpr char32_t kMaxRune = 0x10FFFF;
// Groups nest at most this deep (Go's parser allows a tree height of 1000).
constexpr int kMaxDepth = 1000;

struct ParseError {
    std::string message;
};

struct Node {
    enum class Kind : std::uint8_t {
        kEmpty,
        kClass,  // also single literals, as a one-rune class
        kAnyNotNL,
        kBeginText,
        kEndText,
        kWordBoundary,
        kNoWordBoundary,
        kConcat,
        kAlternate,
        kStar,
        kPlus,
        kQuest,
    };
    Kind kind = Kind::kEmpty;
    std::vector<char32_t> ranges;
    std::vector<Node> subs;
};

Node literal(char32_t r) {
    Node n;
    n.kind = Node::Kind::kClass;
    n.ranges = {r, r};
    return n;
}

Node leaf(Node::Kind kind) {
    Node n;
    n.kind = kind;
    return n;
}

bool is_alnum(char32_t c) {
    return (c >= U'0' && c <= U'9') || (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z');
}

int unhex(char32_t c) {
    if (c >= U'0' && c <= U'9') {
        return static_cast<int>(c - U'0');
    }
    if (c >= U'a' && c <= U'f') {
        return static_cast<int>(c - U'a' + 10);
    }
    if (c >= U'A' && c <= U'F') {
        return static_cast<int>(c - U'A' + 10);
    }
    return -1;
}

// Sorted, merged [lo, hi] pairs (cleanClass).
std::vector<char32_t> clean_class(std::vector<char32_t> r) {
    std::vector<std::pair<char32_t, char32_t>> pairs;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
        pairs.emplace_back(r[i], r[i + 1]);
    }
    std::sort(pairs.begin(), pairs.end());
    std::vector<char32_t> out;
    for (const auto& [lo, hi] : pairs) {
        if (!out.empty() && lo <= out.back() + 1) {
            out.back() = std::max(out.back(), hi);
            continue;
        }
        out.push_back(lo);
        out.push_back(hi);
    }
    return out;
}

std::vector<char32_t> negate_class(const std::vector<char32_t>& clean) {
    std::vector<char32_t> out;
    char32_t next_lo = 0;
    for (std::size_t i = 0; i + 1 < clean.size(); i += 2) {
        if (clean[i] > next_lo) {
            out.push_back(next_lo);
            out.push_back(clean[i] - 1);
        }
        next_lo = clean[i + 1] + 1;
    }
    if (next_lo <= kMaxRune) {
        out.push_back(next_lo);
        out.push_back(kMaxRune);
    }
    return out;
}

void append_group(std::vector<char32_t>& out, const std::vector<char32_t>& group, bool negated) {
    const std::vector<char32_t> add = negated ? negate_class(clean_class(group)) : group;
    out.insert(out.end(), add.begin(), add.end());
}

// The Perl classes \d \s \w, which Go defines as ASCII only.
bool perl_group(char32_t letter, std::vector<char32_t>& out) {
    std::vector<char32_t> group;
    switch (letter) {
        case U'd':
        case U'D':
            group = {U'0', U'9'};
            break;
        case U's':
        case U'S':
            group = {U'\t', U'\n', U'\f', U'\r', U' ', U' '};
            break;
        case U'w':
        case U'W':
            group = {U'0', U'9', U'A', U'Z', U'_', U'_', U'a', U'z'};
            break;
        default:
            return false;
    }
    append_group(out, group, letter == U'D' || letter == U'S' || letter == U'W');
    return true;
}

// The POSIX classes: [:alpha:], and [:^alpha:] for the negation.
bool posix_group(std::u32string_view name, std::vector<char32_t>& out) {
    bool negated = false;
    if (!name.empty() && name[0] == U'^') {
        negated = true;
        name.remove_prefix(1);
    }
    std::vector<char32_t> group;
    if (name == U"alnum") {
        group = {U'0', U'9', U'A', U'Z', U'a', U'z'};
    } else if (name == U"alpha") {
        group = {U'A', U'Z', U'a', U'z'};
    } else if (name == U"ascii") {
        group = {0, 0x7F};
    } else if (name == U"blank") {
        group = {U'\t', U'\t', U' ', U' '};
    } else if (name == U"cntrl") {
        group = {0, 0x1F, 0x7F, 0x7F};
    } else if (name == U"digit") {
        group = {U'0', U'9'};
    } else if (name == U"graph") {
        group = {U'!', U'~'};
    } else if (name == U"lower") {
        group = {U'a', U'z'};
    } else if (name == U"print") {
        group = {U' ', U'~'};
    } else if (name == U"punct") {
        group = {U'!', U'/', U':', U'@', U'[', U'`', U'{', U'~'};
    } else if (name == U"space") {
        group = {U'\t', U'\r', U' ', U' '};
    } else if (name == U"upper") {
        group = {U'A', U'Z'};
    } else if (name == U"word") {
        group = {U'0', U'9', U'A', U'Z', U'_', U'_', U'a', U'z'};
    } else if (name == U"xdigit") {
        group = {U'0', U'9', U'A', U'F', U'a', U'f'};
    } else {
        return false;
    }
    append_group(out, group, negated);
    return true;
}

class Parser {
public:
    explicit Parser(std::u32string_view s) : s_(s) {}

    Node parse() {
        Node n = parse_alternate(0);
        if (pos_ < s_.size()) {
            // Only a ')' stops the top level before the end.
            throw ParseError{"unexpected )"};
        }
        return n;
    }

private:
    bool at(char32_t c) const { return pos_ < s_.size() && s_[pos_] == c; }

    Node parse_alternate(int depth) {
        if (depth > kMaxDepth) {
            throw ParseError{"expression nests too deeply"};
        }
        std::vector<Node> alternatives;
        alternatives.push_back(parse_concat(depth));
        while (at(U'|')) {
            ++pos_;
            alternatives.push_back(parse_concat(depth));
        }
        if (alternatives.size() == 1) {
            return std::move(alternatives.front());
        }
        Node n = leaf(Node::Kind::kAlternate);
        n.subs = std::move(alternatives);
        return n;
    }

    Node parse_concat(int depth) {
        std::vector<Node> items;
        bool last_was_repeat = false;
        while (pos_ < s_.size() && s_[pos_] != U')' && s_[pos_] != U'|') {
            const char32_t c = s_[pos_];
            if (c == U'*' || c == U'+' || c == U'?') {
                // Perl forbids stacking repetitions (a** is an error, a*? is lazy).
                if (last_was_repeat) {
                    throw ParseError{"invalid nested repetition operator"};
                }
                if (items.empty()) {
                    throw ParseError{"missing argument to repetition operator"};
                }
                ++pos_;
                if (at(U'?')) {
                    ++pos_;  // lazy: the same set of matches
                }
                Node rep = leaf(c == U'*'   ? Node::Kind::kStar
                                : c == U'+' ? Node::Kind::kPlus
                                            : Node::Kind::kQuest);
                rep.subs.push_back(std::move(items.back()));
                items.back() = std::move(rep);
                last_was_repeat = true;
                continue;
            }
            last_was_repeat = false;
            if (c == U'\\' && pos_ + 1 < s_.size() && s_[pos_ + 1] == U'Q') {
                // \Q...\E: literal runes, each its own item as in Go's parse stack.
                pos_ += 2;
                const std::size_t end = s_.find(U"\\E", pos_);
                const std::size_t stop = end == std::u32string_view::npos ? s_.size() : end;
                for (; pos_ < stop; ++pos_) {
                    items.push_back(literal(s_[pos_]));
                }
                pos_ = end == std::u32string_view::npos ? s_.size() : end + 2;
                continue;
            }
            items.push_back(parse_atom(depth));
        }
        if (items.size() == 1) {
            return std::move(items.front());
        }
        Node n = leaf(items.empty() ? Node::Kind::kEmpty : Node::Kind::kConcat);
        n.subs = std::move(items);
        return n;
    }

    Node parse_atom(int depth) {
        const char32_t c = s_[pos_];
        switch (c) {
            case U'(': {
                if (pos_ + 1 < s_.size() && s_[pos_ + 1] == U'?') {
                    throw ParseError{"flag groups are not supported"};
                }
                ++pos_;
                Node inner = parse_alternate(depth + 1);
                if (!at(U')')) {
                    throw ParseError{"missing closing )"};
                }
                ++pos_;
                return inner;
            }
            case U'^':
                ++pos_;
                return leaf(Node::Kind::kBeginText);
            case U'$':
                ++pos_;
                return leaf(Node::Kind::kEndText);
            case U'.':
                ++pos_;
                return leaf(Node::Kind::kAnyNotNL);
            case U'[':
                return parse_class();
            case U'\\':
                return parse_top_escape();
            default:
                // '{' is literal here: patternmatcher escapes every brace it is given.
                ++pos_;
                return literal(c);
        }
    }

    Node parse_top_escape() {
        if (pos_ + 1 < s_.size()) {
            switch (s_[pos_ + 1]) {
                case U'A':
                    pos_ += 2;
                    return leaf(Node::Kind::kBeginText);
                case U'z':
                    pos_ += 2;
                    return leaf(Node::Kind::kEndText);
                case U'b':
                    pos_ += 2;
                    return leaf(Node::Kind::kWordBoundary);
                case U'B':
                    pos_ += 2;
                    return leaf(Node::Kind::kNoWordBoundary);
                case U'C':
                    throw ParseError{"invalid escape sequence: \\C"};
                case U'p':
                case U'P':
                    throw ParseError{"Unicode classes (\\p, \\P) are not supported"};
                default:
                    break;
            }
            Node cls = leaf(Node::Kind::kClass);
            if (perl_group(s_[pos_ + 1], cls.ranges)) {
                pos_ += 2;
                cls.ranges = clean_class(std::move(cls.ranges));
                return cls;
            }
        }
        return literal(parse_escape());
    }

    // parseEscape: the rune of the escape sequence at pos_ (which is a backslash).
    char32_t parse_escape() {
        const std::size_t begin = pos_;
        ++pos_;
        if (pos_ >= s_.size()) {
            throw ParseError{"trailing backslash at end of expression"};
        }
        const char32_t c = s_[pos_++];
        if (c < 0x80 && !is_alnum(c)) {
            return c;  // escaped punctuation is itself
        }
        auto bad = [&] {
            std::string seq;
            for (std::size_t i = begin; i < pos_ && i < s_.size(); ++i) {
                util::go::append_rune(seq, s_[i]);
            }
            return ParseError{"invalid escape sequence: " + seq};
        };
        auto octal = [&](char32_t first) {
            char32_t r = first - U'0';
            for (int i = 1; i < 3 && pos_ < s_.size() && s_[pos_] >= U'0' && s_[pos_] <= U'7';
                 ++i) {
                r = r * 8 + (s_[pos_++] - U'0');
            }
            return r;
        };
        switch (c) {
            case U'1':
            case U'2':
            case U'3':
            case U'4':
            case U'5':
            case U'6':
            case U'7':
                // A lone digit would be a backreference, which Go does not support.
                if (pos_ >= s_.size() || s_[pos_] < U'0' || s_[pos_] > U'7') {
                    throw bad();
                }
                return octal(c);
            case U'0':
                return octal(c);
            case U'x': {
                if (pos_ >= s_.size()) {
                    throw bad();
                }
                const char32_t first = s_[pos_++];
                if (first == U'{') {
                    char32_t r = 0;
                    int digits = 0;
                    for (;;) {
                        if (pos_ >= s_.size()) {
                            throw bad();
                        }
                        const char32_t d = s_[pos_++];
                        if (d == U'}') {
                            break;
                        }
                        const int v = unhex(d);
                        if (v < 0) {
                            throw bad();
                        }
                        r = r * 16 + static_cast<char32_t>(v);
                        if (r > kMaxRune) {
                            throw bad();
                        }
                        ++digits;
                    }
                    if (digits == 0) {
                        throw bad();
                    }
                    return r;
                }
                const int x = unhex(first);
                const int y = pos_ < s_.size() ? unhex(s_[pos_++]) : -1;
                if (x < 0 || y < 0) {
                    throw bad();
                }
                return static_cast<char32_t>(x * 16 + y);
            }
            case U'a':
                return U'\a';
            case U'f':
                return U'\f';
            case U'n':
                return U'\n';
            case U'r':
                return U'\r';
            case U't':
                return U'\t';
            case U'v':
                return U'\v';
            default:
                throw bad();
        }
    }

    // parseClass with the Perl flags: ']' first is literal, '-' is allowed anywhere, negated
    // classes match '\n'.
    Node parse_class() {
        ++pos_;  // '['
        bool negated = false;
        if (at(U'^')) {
            negated = true;
            ++pos_;
        }
        std::vector<char32_t> ranges;
        bool first = true;
        while (pos_ >= s_.size() || s_[pos_] != U']' || first) {
            first = false;
            if (pos_ + 2 < s_.size() && s_[pos_] == U'[' && s_[pos_ + 1] == U':') {
                const std::size_t close = s_.find(U":]", pos_ + 2);
                if (close != std::u32string_view::npos) {
                    const std::u32string_view name = s_.substr(pos_ + 2, close - pos_ - 2);
                    if (!posix_group(name, ranges)) {
                        throw ParseError{"invalid character class range"};
                    }
                    pos_ = close + 2;
                    continue;
                }
            }
            if (pos_ + 1 < s_.size() && s_[pos_] == U'\\') {
                const char32_t e = s_[pos_ + 1];
                if (e == U'p' || e == U'P') {
                    throw ParseError{"Unicode classes (\\p, \\P) are not supported"};
                }
                if (perl_group(e, ranges)) {
                    pos_ += 2;
                    continue;
                }
            }
            const char32_t lo = class_char();
            char32_t hi = lo;
            if (pos_ + 1 < s_.size() && s_[pos_] == U'-' && s_[pos_ + 1] != U']') {
                ++pos_;
                hi = class_char();
                if (hi < lo) {
                    throw ParseError{"invalid character class range"};
                }
            }
            ranges.push_back(lo);
            ranges.push_back(hi);
        }
        ++pos_;  // ']'
        Node n = leaf(Node::Kind::kClass);
        n.ranges = clean_class(std::move(ranges));
        if (negated) {
            n.ranges = negate_class(n.ranges);
        }
        return n;
    }

    char32_t class_char() {
        if (pos_ >= s_.size()) {
            throw ParseError{"missing closing ]"};
        }
        if (s_[pos_] == U'\\') {
            return parse_escape();
        }
        return s_[pos_++];
    }

    std::u32string_view s_;
    std::size_t pos_ = 0;
};

// Thompson construction, built back to front: each node is compiled knowing where it goes next.
class Compiler {
public:
    explicit Compiler(std::vector<Regexp::Inst>& prog) : prog_(prog) {}

    std::uint32_t compile(const Node& n, std::uint32_t next) {
        using Kind = Node::Kind;
        switch (n.kind) {
            case Kind::kEmpty:
                return next;
            case Kind::kClass: {
                Regexp::Inst inst{Regexp::Op::kRune, next, 0, n.ranges};
                return emit(std::move(inst));
            }
            case Kind::kAnyNotNL:
                return emit({Regexp::Op::kAnyNotNL, next, 0, {}});
            case Kind::kBeginText:
                return emit({Regexp::Op::kBeginText, next, 0, {}});
            case Kind::kEndText:
                return emit({Regexp::Op::kEndText, next, 0, {}});
            case Kind::kWordBoundary:
                return emit({Regexp::Op::kWordBoundary, next, 0, {}});
            case Kind::kNoWordBoundary:
                return emit({Regexp::Op::kNoWordBoundary, next, 0, {}});
            case Kind::kConcat: {
                std::uint32_t at = next;
                for (auto it = n.subs.rbegin(); it != n.subs.rend(); ++it) {
                    at = compile(*it, at);
                }
                return at;
            }
            case Kind::kAlternate: {
                std::uint32_t at = compile(n.subs.back(), next);
                for (std::size_t i = n.subs.size() - 1; i-- > 0;) {
                    const std::uint32_t alt = compile(n.subs[i], next);
                    at = emit({Regexp::Op::kSplit, alt, at, {}});
                }
                return at;
            }
            case Kind::kQuest: {
                const std::uint32_t body = compile(n.subs.front(), next);
                return emit({Regexp::Op::kSplit, body, next, {}});
            }
            case Kind::kStar:
            case Kind::kPlus: {
                const std::uint32_t loop = emit({Regexp::Op::kSplit, 0, next, {}});
                const std::uint32_t body = compile(n.subs.front(), loop);
                prog_[loop].out = body;
                return n.kind == Kind::kStar ? loop : body;
            }
        }
        return next;
    }

private:
    std::uint32_t emit(Regexp::Inst inst) {
        prog_.push_back(std::move(inst));
        return static_cast<std::uint32_t>(prog_.size() - 1);
    }

    std::vector<Regexp::Inst>& prog_;
};

bool is_word_char(char32_t r) {
    return r == U'_' || is_alnum(r);
}

bool in_class(const std::vector<char32_t>& ranges, char32_t r) {
    // Binary search over the [lo, hi] pairs.
    std::size_t lo = 0;
    std::size_t hi = ranges.size() / 2;
    while (lo < hi) {
        const std::size_t mid = (lo + hi) / 2;
        if (r > ranges[2 * mid + 1]) {
            lo = mid + 1;
        } else if (r < ranges[2 * mid]) {
            hi = mid;
        } else {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<Regexp> Regexp::compile(std::u32string_view expr, std::string& error) {
    Node root;
    try {
        root = Parser(expr).parse();
    } catch (const ParseError& e) {
        error = e.message;
        return std::nullopt;
    }
    Regexp re;
    re.prog_.push_back({Op::kMatch, 0, 0, {}});
    re.start_ = Compiler(re.prog_).compile(root, 0);
    return re;
}

bool Regexp::match(std::string_view text) const {
    // Thread lists with their own visited stamps, swapped together after each step.
    struct List {
        std::vector<std::uint32_t> pcs;
        std::vector<std::size_t> seen;
        std::size_t generation = 1;
    };
    List current{{}, std::vector<std::size_t>(prog_.size(), 0), 1};
    List next{{}, std::vector<std::size_t>(prog_.size(), 0), 1};
    std::vector<std::uint32_t> stack;

    // Adds the closure of `pc` at text position `pos`; true when it reaches the match.
    auto add = [&](List& list, std::uint32_t pc, std::size_t pos) {
        stack.assign(1, pc);
        while (!stack.empty()) {
            const std::uint32_t at = stack.back();
            stack.pop_back();
            if (list.seen[at] == list.generation) {
                continue;
            }
            list.seen[at] = list.generation;
            const Inst& inst = prog_[at];
            switch (inst.op) {
                case Op::kMatch:
                    return true;
                case Op::kRune:
                case Op::kAnyNotNL:
                    list.pcs.push_back(at);
                    break;
                case Op::kSplit:
                    stack.push_back(inst.arg);
                    stack.push_back(inst.out);
                    break;
                case Op::kBeginText:
                    if (pos == 0) {
                        stack.push_back(inst.out);
                    }
                    break;
                case Op::kEndText:
                    if (pos == text.size()) {
                        stack.push_back(inst.out);
                    }
                    break;
                case Op::kWordBoundary:
                case Op::kNoWordBoundary: {
                    const bool before =
                        pos > 0 &&
                        is_word_char(util::go::decode_last_rune(text.substr(0, pos)).rune);
                    const bool after = pos < text.size() &&
                                       is_word_char(util::go::decode_rune(text.substr(pos)).rune);
                    if ((before != after) == (inst.op == Op::kWordBoundary)) {
                        stack.push_back(inst.out);
                    }
                    break;
                }
            }
        }
        return false;
    };

    std::size_t pos = 0;
    for (;;) {
        // Unanchored search: a new attempt joins the running ones at every position.
        if (add(current, start_, pos)) {
            return true;
        }
        if (pos >= text.size()) {
            return false;
        }
        const util::go::DecodedRune d = util::go::decode_rune(text.substr(pos));
        const std::size_t after = pos + d.width;
        next.pcs.clear();
        ++next.generation;
        for (const std::uint32_t pc : current.pcs) {
            const Inst& inst = prog_[pc];
            const bool ok =
                inst.op == Op::kAnyNotNL ? d.rune != U'\n' : in_class(inst.ranges, d.rune);
            if (ok && add(next, inst.out, after)) {
                return true;
            }
        }
        std::swap(current, next);
        pos = after;
    }
}

}  // namespace xarch::context::go
