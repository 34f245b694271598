// SPDX-License-Identifier: Apache-2.0
// Build arguments as BuildKit's Dockerfile frontend sees them: the ordered variable list that
// word expansion reads (llb.EnvList), the automatic platform arguments set per target platform
// (dockerfile2llb/platform.go defaultArgs), the proxy arguments usable without ARG, and the
// warning for a --build-arg that no ARG consumes.
#pragma once

#include "shell_lexer.hpp"

#include <xarch/platform.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::dockerfile {

// KEY=VALUE pairs in the order first set; setting a key again replaces its value in place
// (llb.EnvList.AddOrReplace). Keys are case-sensitive, as on Linux.
class VarList final : public ShellEnv {
public:
    void set(std::string_view key, std::string_view value);
    std::optional<std::string_view> get(std::string_view name) const override;
    bool contains(std::string_view key) const { return get(key).has_value(); }
    const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
    std::vector<std::string> keys() const;
    friend bool operator==(const VarList&, const VarList&) = default;

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

// The automatic arguments, in BuildKit's order: BUILDPLATFORM BUILDOS BUILDOSVERSION BUILDARCH
// BUILDVARIANT TARGETPLATFORM TARGETOS TARGETOSVERSION TARGETARCH TARGETVARIANT TARGETSTAGE.
const std::vector<std::string>& automatic_arg_names();

// defaultArgs: the automatic arguments for one target platform, each replaced by a --build-arg
// of the same name when given. `target_stage` is the --target name, else the last stage's name,
// else "default".
VarList default_args(const Platform& target,
                     const Platform& build,
                     std::string_view target_stage,
                     const std::map<std::string, std::string>& build_args);

// HTTP_PROXY HTTPS_PROXY FTP_PROXY NO_PROXY ALL_PROXY in either case: given as --build-arg they
// reach RUN without an ARG and stay out of the image history (BuildKit's llb.ProxyEnv).
bool is_proxy_arg(std::string_view key);

// The proxy --build-args, for RUN's environment.
std::vector<std::pair<std::string, std::string>> proxy_args(
    const std::map<std::string, std::string>& build_args);

// The warning for --build-args that nothing consumed, as Docker words it:
// `[Warning] One or more build-args [FOO BAR] were not consumed`. Proxy arguments, automatic
// platform arguments and BUILDKIT_* frontend options are never reported. nullopt when all were
// consumed.
std::optional<std::string> unused_build_args_warning(
    const std::map<std::string, std::string>& build_args, const std::set<std::string>& consumed);

}  // namespace xarch::dockerfile
