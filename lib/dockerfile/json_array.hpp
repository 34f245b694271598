// SPDX-License-Identifier: Apache-2.0
// The JSON (exec) form of RUN, CMD, ENTRYPOINT, SHELL, ADD, COPY, VOLUME and HEALTHCHECK, decoded
// as BuildKit does it with Go's encoding/json into a []any: a syntax error anywhere (or a number
// that overflows a float64) means "not JSON" and the instruction falls back to its shell form,
// while a valid array holding anything but strings is a hard error.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

enum class JsonArrayStatus {
    kStrings,         // a valid JSON array of strings: `values` holds them, decoded
    kNotStringArray,  // valid JSON, but an element is not a string (a hard error)
    kNotJson,         // not a JSON array: use the shell form
};

struct JsonArray {
    JsonArrayStatus status = JsonArrayStatus::kNotJson;
    std::vector<std::string> values;
};

// Go's json.Unmarshal rules: whitespace is space, \t, \n and \r; control characters in strings
// are errors; invalid UTF-8 and lone surrogates in strings become U+FFFD; nesting deeper than
// 10000 is an error. Leading Unicode white space is skipped first, as BuildKit does. Iterative:
// no recursion however deep the input nests.
JsonArray parse_json_array(std::string_view text);

// DetectSyntax's JSON form: the string value of `key` when `text` is a JSON object (as a whole,
// by the same rules) that has it; nullopt otherwise.
std::optional<std::string> json_object_string(std::string_view text, std::string_view key);

enum class JsonKind { kString, kNumber, kBool, kNull, kArray, kObject };

// Called for each element of a top-level array or member of a top-level object: the member's key
// (empty for array elements), its kind, and for strings the decoded text (which it may take).
using JsonMemberFn = std::function<void(std::string_view key, JsonKind kind, std::string& text)>;

// Validates `text` as one JSON document as encoding/json would decode it into an interface value
// (syntax, nesting depth, numbers that fit a float64), reporting the top-level members to
// `on_member` along the way and the document's kind in `top`. False when it is not valid.
bool walk_json(std::string_view text, JsonKind& top, const JsonMemberFn& on_member);

}  // namespace xarch::dockerfile
