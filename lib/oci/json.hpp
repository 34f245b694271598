// SPDX-License-Identifier: Apache-2.0
// JSON for the OCI documents: a checked reader over Boost.JSON values that names the offending
// field in its errors, and a compact writer that escapes strings as Go's encoding/json does, so
// that what xarch serializes is byte-identical to what BuildKit and containerd write.
#pragma once

#include <xarch/descriptor.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::oci::json {

namespace bj = boost::json;

// Parses a whole document; malformed JSON is Error(kInvalidArgument) "invalid <what>: malformed
// JSON at byte N: ...".
bj::value parse_document(std::string_view text, std::string_view what);

// Go's json.Indent(prefix "", indent "  ") of compact JSON: what json.MarshalIndent writes (the
// index bytes `buildx imagetools create` pushes, buildx's `{{json .}}`). Strings are copied
// untouched, so Go's escaping from the compact writer survives.
std::string indent(std::string_view compact);

// "config" + "size" -> "config.size"; "layers" + 2 -> "layers[2]".
std::string join(std::string_view path, std::string_view key);
std::string join(std::string_view path, std::size_t index);

// Typed access to the fields of one document. Every failure is Error(kInvalidArgument)
// "invalid <what>: <path> <why>".
class Reader {
public:
    Reader(std::string_view what, Validation validation) : what_(what), validation_(validation) {}

    Validation validation() const noexcept { return validation_; }
    bool schema() const noexcept { return validation_ == Validation::kSchema; }

    [[noreturn]] void fail(std::string_view path, std::string_view why) const;

    const bj::object& object(const bj::value& value, std::string_view path) const;
    const bj::array& array(const bj::value& value, std::string_view path) const;
    std::string string(const bj::value& value, std::string_view path) const;
    std::int64_t integer(const bj::value& value, std::string_view path) const;
    bool boolean(const bj::value& value, std::string_view path) const;
    std::vector<std::string> strings(const bj::value& value, std::string_view path) const;
    // An object whose values are strings (annotations, labels).
    std::map<std::string, std::string> string_map(const bj::value& value,
                                                  std::string_view path) const;
    // An object whose values are objects (ExposedPorts, Volumes): its keys.
    std::set<std::string> object_keys(const bj::value& value, std::string_view path) const;

    // The member `key` of `object`, nullptr when it is absent or, where that is accepted, null:
    // always in kCompatible mode (Go reads null as "not set"), in kSchema mode only when the
    // schema allows null for it (`null_allowed`).
    const bj::value* optional(const bj::object& object,
                              std::string_view key,
                              std::string_view path,
                              bool null_allowed = false) const;
    // The member `key`; absent (or null) is "<path> is required".
    const bj::value& required(const bj::object& object,
                              std::string_view key,
                              std::string_view path) const;

private:
    std::string what_;
    Validation validation_;
};

// What kind of JSON value this is, for messages: "a string", "an array", "null".
std::string_view kind_name(const bj::value& value);

// Compact JSON text. Objects are written in the order of the key() calls.
class Writer {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view name);
    void string(std::string_view text);
    void integer(std::int64_t number);
    void boolean(bool value);
    // A value given as JSON text that is known to be valid and compact.
    void raw(std::string_view json);
    // A parsed value: objects in their stored order, numbers as Go writes float64.
    void value(const bj::value& value);

    void strings(const std::vector<std::string>& items);
    void string_map(const std::map<std::string, std::string>& items);
    // {"key": {}, ...}
    void empty_objects(const std::set<std::string>& keys);

    const std::string& text() const noexcept { return out_; }
    std::string take() { return std::move(out_); }

private:
    void before_value();
    // `text` as a JSON string, without the separator handling.
    void quoted(std::string_view text);
    std::string out_;
    // One entry per open object or array: whether it has a member yet.
    std::vector<bool> has_member_;
    bool after_key_ = false;
};

// The compact JSON text of `value`, written as Writer::value() does.
std::string to_text(const bj::value& value);

// Writes `extra` after the known fields, skipping keys in `known`. Each value must be valid
// JSON; Error(kInvalidArgument) otherwise, so that a hand-filled extra field can never produce a
// broken document.
void write_extra(Writer& writer,
                 const std::map<std::string, std::string>& extra,
                 const std::set<std::string_view>& known);

}  // namespace xarch::oci::json
