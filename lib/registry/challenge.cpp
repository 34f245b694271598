// SPDX-License-Identifier: Apache-2.0
#include "registry/challenge.hpp"

#include "util/strings.hpp"

namespace xarch::registry {

namespace {

// RFC 7230 tchar.
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    return kExtra.find(c) != std::string_view::npos;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::vector<Challenge> run() {
        std::vector<Challenge> out;
        while (true) {
            skip_separators();
            if (at_end()) {
                break;
            }
            std::string scheme = token();
            if (scheme.empty()) {
                // Not a token: skip to the next comma and try again there.
                skip_to_comma();
                continue;
            }
            Challenge challenge{util::to_lower_ascii(scheme), {}};
            parse_params(challenge);
            out.push_back(std::move(challenge));
        }
        return out;
    }

private:
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[pos_]; }

    void skip_blanks() {
        while (!at_end() && is_blank(text_[pos_])) {
            ++pos_;
        }
    }

    void skip_separators() {
        while (!at_end() && (is_blank(text_[pos_]) || text_[pos_] == ',')) {
            ++pos_;
        }
    }

    void skip_to_comma() {
        while (!at_end() && text_[pos_] != ',') {
            if (text_[pos_] == '"') {
                quoted();
            } else {
                ++pos_;
            }
        }
    }

    std::string token() {
        const std::size_t start = pos_;
        while (!at_end() && is_tchar(text_[pos_])) {
            ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    // A quoted-string starting at the opening quote; an unterminated one runs to the end.
    std::string quoted() {
        std::string value;
        ++pos_;
        while (!at_end()) {
            const char c = text_[pos_++];
            if (c == '"') {
                return value;
            }
            if (c == '\\' && !at_end()) {
                value += text_[pos_++];
            } else {
                value += c;
            }
        }
        return value;
    }

    // auth-params (or a token68) after the scheme, up to the start of the next challenge: a
    // token that is not followed by '=' begins a new challenge.
    void parse_params(Challenge& challenge) {
        while (true) {
            skip_separators();
            const std::size_t start = pos_;
            std::string name = token();
            skip_blanks();
            if (name.empty() || peek() != '=') {
                if (name.empty() && !at_end()) {
                    // Junk where a parameter should be: drop it up to the next comma.
                    skip_to_comma();
                    continue;
                }
                pos_ = start;
                return;
            }
            ++pos_;
            // token68 ("Negotiate abc==") ends in '='s: take them as part of an empty value.
            while (peek() == '=') {
                ++pos_;
            }
            skip_blanks();
            std::string value;
            if (peek() == '"') {
                value = quoted();
            } else {
                const std::size_t value_start = pos_;
                while (!at_end() && text_[pos_] != ',' && !is_blank(text_[pos_])) {
                    ++pos_;
                }
                value = std::string(text_.substr(value_start, pos_ - value_start));
            }
            challenge.params.insert_or_assign(util::to_lower_ascii(name), std::move(value));
            skip_blanks();
            if (!at_end() && peek() != ',') {
                // Something other than a separator after a value: junk up to the next comma.
                skip_to_comma();
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string Challenge::param(std::string_view name) const {
    const auto it = params.find(std::string(name));
    return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_challenges(std::string_view header) {
    return Parser(header).run();
}

std::vector<Challenge> parse_challenges(const std::vector<std::string>& headers) {
    std::vector<Challenge> out;
    for (const std::string& header : headers) {
        for (Challenge& challenge : parse_challenges(header)) {
            out.push_back(std::move(challenge));
        }
    }
    return out;
}

std::optional<Challenge> pick_challenge(const std::vector<Challenge>& challenges) {
    for (const std::string_view scheme : {"bearer", "basic"}) {
        for (const Challenge& challenge : challenges) {
            if (challenge.scheme == scheme) {
                return challenge;
            }
        }
    }
    return std::nullopt;
}

}  // namespace xarch::registry
