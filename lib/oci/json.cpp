// SPDX-License-Identifier: Apache-2.0
#include "oci/json.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <system_error>

namespace xarch::oci::json {

using util::quote;

bj::value parse_document(std::string_view text, std::string_view what) {
    bj::parser parser;
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(text.data(), text.size(), ec);
    if (ec) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid " + std::string(what) + ": malformed JSON at byte " +
                        std::to_string(consumed) + ": " + ec.message());
    }
    return parser.release();
}

std::string join(std::string_view path, std::string_view key) {
    if (path.empty()) {
        return std::string(key);
    }
    std::string out(path);
    out += '.';
    out += key;
    return out;
}

std::string join(std::string_view path, std::size_t index) {
    return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string_view kind_name(const bj::value& value) {
    switch (value.kind()) {
        case bj::kind::null:
            return "null";
        case bj::kind::bool_:
            return "a boolean";
        case bj::kind::int64:
        case bj::kind::uint64:
        case bj::kind::double_:
            return "a number";
        case bj::kind::string:
            return "a string";
        case bj::kind::array:
            return "an array";
        case bj::kind::object:
            return "an object";
    }
    return "a value";
}

// ---- Reader ----

void Reader::fail(std::string_view path, std::string_view why) const {
    std::string message = "invalid " + what_ + ": ";
    message += path.empty() ? std::string("the document") : quote(path);
    message += ' ';
    message += why;
    throw Error(ErrorCode::kInvalidArgument, message);
}

namespace {

std::string got(std::string_view expected, const bj::value& value) {
    std::string out = "must be ";
    out += expected;
    out += ", got ";
    out += kind_name(value);
    return out;
}

}  // namespace

const bj::object& Reader::object(const bj::value& value, std::string_view path) const {
    if (!value.is_object()) {
        fail(path, got("an object", value));
    }
    return value.get_object();
}

const bj::array& Reader::array(const bj::value& value, std::string_view path) const {
    if (!value.is_array()) {
        fail(path, got("an array", value));
    }
    return value.get_array();
}

std::string Reader::string(const bj::value& value, std::string_view path) const {
    if (!value.is_string()) {
        fail(path, got("a string", value));
    }
    const bj::string& s = value.get_string();
    return std::string(s.data(), s.size());
}

std::int64_t Reader::integer(const bj::value& value, std::string_view path) const {
    if (value.is_int64()) {
        return value.get_int64();
    }
    if (value.is_uint64()) {
        fail(path, "is out of range: " + std::to_string(value.get_uint64()) +
                       " does not fit in a signed 64-bit integer");
    }
    if (value.is_double()) {
        fail(path, "must be an integer, got " + to_text(value));
    }
    fail(path, got("an integer", value));
}

bool Reader::boolean(const bj::value& value, std::string_view path) const {
    if (!value.is_bool()) {
        fail(path, got("a boolean", value));
    }
    return value.get_bool();
}

std::vector<std::string> Reader::strings(const bj::value& value, std::string_view path) const {
    const bj::array& items = array(value, path);
    std::vector<std::string> out;
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.push_back(string(items[i], join(path, i)));
    }
    return out;
}

std::map<std::string, std::string> Reader::string_map(const bj::value& value,
                                                      std::string_view path) const {
    std::map<std::string, std::string> out;
    for (const auto& member : object(value, path)) {
        const std::string key(member.key());
        out[key] = string(member.value(), join(path, key));
    }
    return out;
}

std::set<std::string> Reader::object_keys(const bj::value& value, std::string_view path) const {
    std::set<std::string> out;
    for (const auto& member : object(value, path)) {
        const std::string key(member.key());
        object(member.value(), join(path, key));
        out.insert(key);
    }
    return out;
}

const bj::value* Reader::optional(const bj::object& object,
                                  std::string_view key,
                                  std::string_view path,
                                  bool null_allowed) const {
    const bj::value* value = object.if_contains(key);
    if (value == nullptr) {
        return nullptr;
    }
    if (value->is_null()) {
        if (!schema() || null_allowed) {
            return nullptr;
        }
        fail(join(path, key), "must not be null");
    }
    return value;
}

const bj::value& Reader::required(const bj::object& object,
                                  std::string_view key,
                                  std::string_view path) const {
    const bj::value* value = object.if_contains(key);
    if (value == nullptr || value->is_null()) {
        fail(join(path, key), "is required");
    }
    return *value;
}

// ---- Writer ----

void Writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_member_.empty()) {
        if (has_member_.back()) {
            out_ += ',';
        }
        has_member_.back() = true;
    }
}

void Writer::begin_object() {
    before_value();
    out_ += '{';
    has_member_.push_back(false);
}

void Writer::end_object() {
    has_member_.pop_back();
    out_ += '}';
}

void Writer::begin_array() {
    before_value();
    out_ += '[';
    has_member_.push_back(false);
}

void Writer::end_array() {
    has_member_.pop_back();
    out_ += ']';
}

void Writer::key(std::string_view name) {
    if (has_member_.back()) {
        out_ += ',';
    }
    has_member_.back() = true;
    quoted(name);
    out_ += ':';
    after_key_ = true;
}

namespace {

constexpr std::string_view kHex = "0123456789abcdef";

void escape_u(std::string& out, unsigned code) {
    out += "\\u";
    out += kHex[(code >> 12) & 0xf];
    out += kHex[(code >> 8) & 0xf];
    out += kHex[(code >> 4) & 0xf];
    out += kHex[code & 0xf];
}

bool continuation(unsigned char c) {
    return (c & 0xc0) == 0x80;
}

// The length of the valid UTF-8 sequence at text[i], 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid, as for Go's utf8 package).
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char c = at(0);
    const std::size_t left = text.size() - i;
    if (c >= 0xc2 && c <= 0xdf) {
        return left >= 2 && continuation(at(1)) ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || !continuation(at(1)) || !continuation(at(2))) {
            return 0;
        }
        if ((c == 0xe0 && at(1) < 0xa0) || (c == 0xed && at(1) > 0x9f)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || !continuation(at(1)) || !continuation(at(2)) || !continuation(at(3))) {
            return 0;
        }
        if ((c == 0xf0 && at(1) < 0x90) || (c == 0xf4 && at(1) > 0x8f)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

}  // namespace

// Go's encoding/json escaping with HTML escaping on (json.Marshal's default): <, > and & as
// \u003c, \u003e, \u0026; U+2028 and U+2029 escaped; invalid UTF-8 as \ufffd.
void Writer::string(std::string_view text) {
    before_value();
    quoted(text);
}

void Writer::quoted(std::string_view text) {
    out_ += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out_ += "\\\"";
                    break;
                case '\\':
                    out_ += "\\\\";
                    break;
                case '\b':
                    out_ += "\\b";
                    break;
                case '\f':
                    out_ += "\\f";
                    break;
                case '\n':
                    out_ += "\\n";
                    break;
                case '\r':
                    out_ += "\\r";
                    break;
                case '\t':
                    out_ += "\\t";
                    break;
                case '<':
                case '>':
                case '&':
                    escape_u(out_, c);
                    break;
                default:
                    if (c < 0x20) {
                        escape_u(out_, c);
                    } else {
                        out_ += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        const std::size_t n = utf8_length(text, i);
        if (n == 0) {
            out_ += "\\ufffd";
            ++i;
            continue;
        }
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
        if (n == 3 && c == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(text[i + 2]) & 0xfe) == 0xa8) {
            escape_u(out_, 0x2028u | (static_cast<unsigned char>(text[i + 2]) & 1u));
        } else {
            out_.append(text.substr(i, n));
        }
        i += n;
    }
    out_ += '"';
}

void Writer::integer(std::int64_t number) {
    before_value();
    out_ += std::to_string(number);
}

void Writer::boolean(bool value) {
    before_value();
    out_ += value ? "true" : "false";
}

void Writer::raw(std::string_view json) {
    before_value();
    out_ += json;
}

namespace {

// A float64 as Go's encoding/json writes it: the shortest representation that reads back the
// same, in plain notation between 1e-6 and 1e21 and in exponent notation (without a leading zero
// in a negative exponent) outside.
std::string go_float(double number) {
    if (!std::isfinite(number)) {
        throw Error(ErrorCode::kInvalidArgument,
                    "invalid JSON number: out of range for a 64-bit float");
    }
    std::array<char, 64> buffer{};
    const double magnitude = std::fabs(number);
    const bool exponent = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
    const auto result =
        std::to_chars(buffer.data(), buffer.data() + buffer.size(), number,
                      exponent ? std::chars_format::scientific : std::chars_format::fixed);
    std::string text(buffer.data(), result.ptr);
    const std::size_t n = text.size();
    if (exponent && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') {
        text.erase(n - 2, 1);
    }
    return text;
}

}  // namespace

void Writer::value(const bj::value& value) {
    switch (value.kind()) {
        case bj::kind::null:
            raw("null");
            break;
        case bj::kind::bool_:
            boolean(value.get_bool());
            break;
        case bj::kind::int64:
            integer(value.get_int64());
            break;
        case bj::kind::uint64:
            raw(std::to_string(value.get_uint64()));
            break;
        case bj::kind::double_:
            raw(go_float(value.get_double()));
            break;
        case bj::kind::string:
            string(std::string_view(value.get_string().data(), value.get_string().size()));
            break;
        case bj::kind::array:
            begin_array();
            for (const bj::value& item : value.get_array()) {
                this->value(item);
            }
            end_array();
            break;
        case bj::kind::object:
            begin_object();
            for (const auto& member : value.get_object()) {
                key(std::string_view(member.key().data(), member.key().size()));
                this->value(member.value());
            }
            end_object();
            break;
    }
}

void Writer::strings(const std::vector<std::string>& items) {
    begin_array();
    for (const std::string& item : items) {
        string(item);
    }
    end_array();
}

void Writer::string_map(const std::map<std::string, std::string>& items) {
    begin_object();
    for (const auto& [k, v] : items) {
        key(k);
        string(v);
    }
    end_object();
}

void Writer::empty_objects(const std::set<std::string>& keys) {
    begin_object();
    for (const std::string& k : keys) {
        key(k);
        raw("{}");
    }
    end_object();
}

std::string to_text(const bj::value& value) {
    Writer writer;
    writer.value(value);
    return writer.take();
}

void write_extra(Writer& writer,
                 const std::map<std::string, std::string>& extra,
                 const std::set<std::string_view>& known) {
    for (const auto& [k, text] : extra) {
        if (known.contains(k)) {
            continue;
        }
        boost::system::error_code ec;
        const bj::value parsed = bj::parse(text, ec);
        if (ec) {
            throw Error(ErrorCode::kInvalidArgument,
                        "extra field " + quote(k) + " is not valid JSON: " + quote(text));
        }
        writer.key(k);
        writer.value(parsed);
    }
}

std::string indent(std::string_view compact) {
    std::string out;
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    auto newline = [&] {
        out += '\n';
        out.append(static_cast<std::size_t>(depth) * 2, ' ');
    };
    for (std::size_t i = 0; i < compact.size(); ++i) {
        const char c = compact[i];
        if (in_string) {
            out += c;
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                out += c;
                break;
            case '{':
            case '[':
                out += c;
                // Go keeps empty objects and arrays on one line.
                if (i + 1 < compact.size() && (compact[i + 1] == '}' || compact[i + 1] == ']')) {
                    out += compact[++i];
                    break;
                }
                ++depth;
                newline();
                break;
            case '}':
            case ']':
                --depth;
                newline();
                out += c;
                break;
            case ',':
                out += c;
                newline();
                break;
            case ':':
                out += ": ";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace xarch::oci::json
