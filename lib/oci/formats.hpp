// SPDX-License-Identifier: Apache-2.0
// The string formats the OCI schemas name: RFC 3339 date-time, absolute URI (base64 is in
// util/base64.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xarch::oci {

// RFC 3339 section 5.6 `date-time` ("2015-10-31T22:22:56.015925234Z", "...+01:00"), with real
// calendar days (leap years) and a leap second allowed, as JSON Schema's `format: date-time`.
bool is_date_time(std::string_view text) noexcept;

// An absolute URI (RFC 3986): a scheme, ':', then only characters a URI may hold, with valid
// percent escapes. JSON Schema's `format: uri`, which rejects relative references.
bool is_absolute_uri(std::string_view text) noexcept;

}  // namespace xarch::oci
