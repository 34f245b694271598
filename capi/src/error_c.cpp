// SPDX-License-Identifier: Apache-2.0
// The C API's errors: the thread's last error, filled from exceptions through capi::kCodes.
#include "capi_internal.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <typeinfo>

namespace xarch::capi {
namespace {

// The last error of one thread. `view` is what xarch_error_last() hands out; its strings point
// into the std::strings or at string literals.
struct ErrorState {
    std::string class_name;
    std::string message;
    xarch_error view{XARCH_OK, "", ""};
    std::string file;  // of a DockerfileError
    xarch_error_location location{"", 0, 0};
};

ErrorState& state() noexcept {
    thread_local ErrorState error_state;
    return error_state;
}

// "xarch::Error", "std::bad_alloc": the dynamic type of an exception, demangled when possible.
std::string class_name_of(const std::exception& error) {
    const char* mangled = typeid(error).name();
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled);
}

int record(int code, const char* class_name, const char* message) noexcept {
    ErrorState& s = state();
    s.location = {"", 0, 0};
    s.view.code = code;
    try {
        s.class_name = class_name;
        s.message = message;
        s.view.class_name = s.class_name.c_str();
        s.view.message = s.message.c_str();
    } catch (...) {  // no memory left to copy the message: keep the code, say why the text is gone
        s.view.class_name = "std::bad_alloc";
        s.view.message = "out of memory while recording an error";
    }
    return code;
}

int record(int code, const std::exception& error, const char* message) noexcept {
    try {
        const std::string name = class_name_of(error);
        return record(code, name.c_str(), message);
    } catch (...) {
        return record(code, "std::exception", message);
    }
}

}  // namespace

void clear_error() noexcept {
    ErrorState& s = state();
    s.view = {XARCH_OK, "", ""};
    s.location = {"", 0, 0};
}

int record_current_exception() noexcept {
    try {
        throw;
    } catch (const DockerfileError& error) {
        const int code = record(to_c_code(error.code()), error, error.what());
        ErrorState& s = state();
        try {
            s.file = error.file();
            s.location = {s.file.c_str(), error.start_line(), error.end_line()};
        } catch (...) {  // no memory for the file name: the message still names it
            s.location = {"", error.start_line(), error.end_line()};
        }
        return code;
    } catch (const Error& error) {
        return record(to_c_code(error.code()), error, error.what());
    } catch (const std::bad_alloc& error) {
        return record(XARCH_ENOMEM, error, "out of memory");
    } catch (const std::exception& error) {
        return record(XARCH_EINTERNAL, error, error.what());
    } catch (...) {
        return record(XARCH_EINTERNAL, "unknown", "an exception of unknown type");
    }
}

void fail(ErrorCode code, const std::string& message) {
    throw Error(code, message);
}

}  // namespace xarch::capi

extern "C" {

const xarch_error* xarch_error_last(void) {
    // The fallback is never used (nothing here throws); it keeps the promise of "never NULL".
    static constexpr xarch_error kUnavailable{XARCH_EINTERNAL, "unknown", "no error state"};
    return xarch::capi::guard(&kUnavailable,
                              []() -> const xarch_error* { return &xarch::capi::state().view; });
}

const xarch_error_location* xarch_error_last_location(void) {
    static constexpr xarch_error_location kNone{"", 0, 0};
    return xarch::capi::guard(
        &kNone, []() -> const xarch_error_location* { return &xarch::capi::state().location; });
}

const char* xarch_error_code_name(int code) {
    return xarch::capi::guard(static_cast<const char*>("XARCH_E?"),
                              [code]() -> const char* { return xarch::capi::code_name(code); });
}

}  // extern "C"
