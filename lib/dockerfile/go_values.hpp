// SPDX-License-Identifier: Apache-2.0
// Values written in a Dockerfile the way BuildKit reads them with Go libraries: durations
// (time.ParseDuration, for HEALTHCHECK), booleans (strconv.ParseBool), byte sizes
// (go-units RAMInBytes, for tmpfs mounts), unsigned integers (strconv.ParseUint) and the
// comma-separated fields of a --mount value (go-csvvalue). Each returns nullopt on bad input; the
// caller words the error as BuildKit does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::dockerfile {

// time.ParseDuration: "1h30m", "1.5s", "300ms", "-2us", "0"; units ns us µs μs ms s m h.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// time.Duration.String: "1m30s", "500ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

// strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
std::optional<bool> parse_go_bool(std::string_view text);

// strconv.ParseUint(text, base, bits).
std::optional<std::uint64_t> parse_go_uint(std::string_view text, int base, int bits);

// strconv.ParseInt(text, 10, 32).
std::optional<std::int64_t> parse_go_int32(std::string_view text);

// go-units RAMInBytes: "64m", "1.5g", "100", "2GiB" in powers of 1024.
std::optional<std::int64_t> parse_ram_in_bytes(std::string_view text);

// go-csvvalue Fields: one CSV record; double quotes group commas and "" is a quote. nullopt for
// a stray or unterminated quote.
std::optional<std::vector<std::string>> parse_csv_fields(std::string_view text);

}  // namespace xarch::dockerfile
