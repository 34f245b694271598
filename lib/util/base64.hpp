// SPDX-License-Identifier: Apache-2.0
// Standard base64 (RFC 4648 section 4) with padding, as Go's base64.StdEncoding: the OCI
// descriptor's `data`, the docker config's `auth` and HTTP Basic authorization all use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xarch::util {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not padded base64. Like Go's base64.StdEncoding: line breaks (CR, LF)
// are skipped and the unused bits before the padding are not checked.
std::optional<std::string> base64_decode(std::string_view text);

// URL-safe base64 (RFC 4648 section 5: '-' and '_' for '+' and '/') with padding, as Go's
// base64.URLEncoding: Docker's X-Registry-Auth header.
std::string base64url_encode(std::string_view bytes);
// nullopt when `text` is not padded URL-safe base64; line breaks skipped as base64_decode does.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace xarch::util
