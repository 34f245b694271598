// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::Reference.
#include "capi_internal.hpp"

#include <functional>
#include <string_view>

namespace xarch::capi {
namespace {

// A new handle at *out made by `make` from the (checked) reference.
template <class Make>
void derive_into(xarch_reference** out, const xarch_reference* reference, Make make) {
    reset_out(out);
    *out = new xarch_reference(make(require(reference, "reference")->value));
}

// The getter body: the string `member` picks, or Error(kInvalidArgument) for a NULL handle.
template <class Member>
const char* part(const xarch_reference* reference, Member member) {
    return std::invoke(member, *require(reference, "reference")).c_str();
}

}  // namespace
}  // namespace xarch::capi

using xarch::Reference;
namespace capi = xarch::capi;

extern "C" {

int xarch_reference_parse(xarch_reference** out, const char* text) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_reference(Reference::parse(capi::require(text, "text")));
    });
}

int xarch_reference_parse_repository(xarch_reference** out, const char* text) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_reference(Reference::parse_repository(capi::require(text, "text")));
    });
}

int xarch_reference_clone(xarch_reference** out, const xarch_reference* reference) {
    return capi::guard(
        [&] { capi::derive_into(out, reference, [](const Reference& r) { return r; }); });
}

int xarch_reference_with_tag(xarch_reference** out,
                             const xarch_reference* reference,
                             const char* tag) {
    return capi::guard([&] {
        capi::require(tag, "tag");
        capi::derive_into(out, reference, [tag](const Reference& r) {
            return *tag == '\0' ? r.without_tag() : r.with_tag(tag);
        });
    });
}

int xarch_reference_with_digest(xarch_reference** out,
                                const xarch_reference* reference,
                                const char* digest) {
    return capi::guard([&] {
        capi::require(digest, "digest");
        capi::derive_into(out, reference, [digest](const Reference& r) {
            return *digest == '\0' ? r.without_digest() : r.with_digest(digest);
        });
    });
}

void xarch_reference_free(xarch_reference* reference) {
    capi::guard(capi::no_result, [reference] { delete reference; });
}

const char* xarch_reference_registry(const xarch_reference* reference) {
    return capi::guard(nullptr, [reference]() -> const char* {
        return capi::require(reference, "reference")->value.registry().c_str();
    });
}

const char* xarch_reference_repository(const xarch_reference* reference) {
    return capi::guard(nullptr, [reference]() -> const char* {
        return capi::require(reference, "reference")->value.repository().c_str();
    });
}

const char* xarch_reference_tag(const xarch_reference* reference) {
    return capi::guard(nullptr, [reference]() -> const char* {
        return capi::require(reference, "reference")->value.tag().c_str();
    });
}

const char* xarch_reference_digest(const xarch_reference* reference) {
    return capi::guard(nullptr, [reference]() -> const char* {
        return capi::require(reference, "reference")->value.digest().c_str();
    });
}

const char* xarch_reference_name(const xarch_reference* reference) {
    return capi::guard(nullptr,
                       [reference] { return capi::part(reference, &xarch_reference::name); });
}

const char* xarch_reference_to_string(const xarch_reference* reference) {
    return capi::guard(nullptr,
                       [reference] { return capi::part(reference, &xarch_reference::text); });
}

const char* xarch_reference_familiar(const xarch_reference* reference) {
    return capi::guard(nullptr,
                       [reference] { return capi::part(reference, &xarch_reference::familiar); });
}

int xarch_reference_equal(const xarch_reference* a, const xarch_reference* b) {
    return capi::guard(
        [&] { return capi::require(a, "a")->value == capi::require(b, "b")->value ? 1 : 0; });
}

}  // extern "C"
