// SPDX-License-Identifier: Apache-2.0
// Octal and symbolic --chmod values.
#include "chmod.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

namespace xarch::solver {

namespace {

constexpr std::uint32_t kUser = 04700;
constexpr std::uint32_t kGroup = 02070;
constexpr std::uint32_t kOther = 01007;

[[noreturn]] void bad(std::string_view text) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid chmod parameter: " + util::quote(text) +
                    ". it should be octal string and between 0 and 07777, or a symbolic mode "
                    "such as u+x,go-w");
}

// The bits of class `c` ('u', 'g', 'o') in `mode`, spread to every class.
std::uint32_t class_bits(std::uint32_t mode, char c) {
    std::uint32_t rwx = 0;
    switch (c) {
        case 'u':
            rwx = (mode >> 6) & 7;
            break;
        case 'g':
            rwx = (mode >> 3) & 7;
            break;
        default:
            rwx = mode & 7;
            break;
    }
    return (rwx << 6) | (rwx << 3) | rwx;
}

}  // namespace

Chmod Chmod::parse(std::string_view text) {
    Chmod out;
    bool octal = !text.empty();
    std::uint32_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '7') {
            octal = false;
            break;
        }
        value = value * 8 + static_cast<std::uint32_t>(c - '0');
        if (value > 07777) {
            bad(text);
        }
    }
    if (octal) {
        out.octal_ = value;
        return out;
    }
    if (text.empty()) {
        bad(text);
    }
    std::size_t i = 0;
    while (i <= text.size()) {
        std::uint32_t who = 0;
        while (i < text.size() &&
               (text[i] == 'u' || text[i] == 'g' || text[i] == 'o' || text[i] == 'a')) {
            who |= text[i] == 'u'   ? kUser
                   : text[i] == 'g' ? kGroup
                   : text[i] == 'o' ? kOther
                                    : 07777;
            ++i;
        }
        if (who == 0) {
            who = 07777;
        }
        bool any_op = false;
        while (i < text.size() && (text[i] == '+' || text[i] == '-' || text[i] == '=')) {
            any_op = true;
            Clause clause;
            clause.who = who;
            clause.op = text[i++];
            while (i < text.size() && text[i] != ',' && text[i] != '+' && text[i] != '-' &&
                   text[i] != '=') {
                switch (text[i]) {
                    case 'r':
                        clause.perms |= 0444;
                        break;
                    case 'w':
                        clause.perms |= 0222;
                        break;
                    case 'x':
                        clause.perms |= 0111;
                        break;
                    case 'X':
                        clause.conditional_x = true;
                        break;
                    case 's':
                        clause.perms |= 06000;
                        break;
                    case 't':
                        clause.perms |= 01000;
                        break;
                    case 'u':
                    case 'g':
                    case 'o':
                        if (clause.copy_from != 0 || clause.perms != 0) {
                            bad(text);
                        }
                        clause.copy_from = text[i];
                        break;
                    default:
                        bad(text);
                }
                ++i;
            }
            out.clauses_.push_back(clause);
        }
        if (!any_op) {
            bad(text);
        }
        if (i == text.size()) {
            break;
        }
        if (text[i] != ',') {
            bad(text);
        }
        ++i;
        if (i == text.size()) {
            bad(text);
        }
    }
    return out;
}

std::uint32_t Chmod::apply(std::uint32_t mode, bool is_dir) const {
    if (octal_ != 0xffffffffU) {
        return octal_;
    }
    mode &= 07777;
    for (const Clause& c : clauses_) {
        std::uint32_t perms = c.perms;
        if (c.copy_from != 0) {
            perms = class_bits(mode, c.copy_from);
        }
        if (c.conditional_x && (is_dir || (mode & 0111) != 0)) {
            perms |= 0111;
        }
        perms &= c.who;
        switch (c.op) {
            case '+':
                mode |= perms;
                break;
            case '-':
                mode &= ~perms;
                break;
            default:
                mode = (mode & ~c.who) | perms;
                break;
        }
    }
    return mode;
}

}  // namespace xarch::solver
