// SPDX-License-Identifier: Apache-2.0
// xarch_emulators_*: against a fake binfmt_misc directory (a `status` file, a `register` file that
// writes append to, entry files) and a fake directory of emulators, so no root and no real
// binfmt_misc are involved.
#include "capi_test_util.hpp"

#include <sys/stat.h>

#include <string>
#include <vector>

namespace xarch_capi_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAarch64Entry =
    "enabled\n"
    "interpreter /usr/bin/qemu-aarch64-static\n"
    "flags: OCF\n"
    "offset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n";

class CapiEmulators : public ::testing::Test {
protected:
    void SetUp() override {
        write_file(binfmt / "status", "enabled\n");
        write_file(binfmt / "register", "");
        write_file(binfmt / "qemu-aarch64", kAarch64Entry);
        add_emulator("qemu-aarch64-static");
        add_emulator("qemu-riscv64-static");
        options.binfmt_mount = binfmt_path.c_str();
        options.qemu_dir = qemu_path.c_str();
    }

    void add_emulator(const std::string& name) {
        const std::string path = qemu / name;
        write_file(path, "#!/bin/sh\nexit 1\n");
        ::chmod(path.c_str(), 0755);
    }

    // The item of `list` named `name`, or size() when absent.
    static size_t find(const xarch_emulator_list* list, const std::string& name) {
        const size_t n = xarch_emulator_list_size(list);
        for (size_t i = 0; i < n; ++i) {
            if (str(xarch_emulator_list_name(list, i)) == name) {
                return i;
            }
        }
        return n;
    }

    TempDir binfmt;
    TempDir qemu;
    std::string binfmt_path = binfmt.path().string();
    std::string qemu_path = qemu.path().string();
    xarch_emulators_options options = XARCH_EMULATORS_OPTIONS_INIT;
};

TEST(CapiEmulatorsOptions, InitAndMacroAgree) {
    xarch_emulators_options from_macro = XARCH_EMULATORS_OPTIONS_INIT;
    xarch_emulators_options from_function;
    from_function.binfmt_mount = "garbage";
    from_function.flags = 0xffu;
    ASSERT_EQ(xarch_emulators_options_init(&from_function, XARCH_EMULATORS_OPTIONS_VERSION),
              XARCH_OK);
    EXPECT_EQ(from_function.version, from_macro.version);
    EXPECT_EQ(from_function.version, static_cast<unsigned int>(XARCH_EMULATORS_OPTIONS_VERSION));
    EXPECT_EQ(from_function.binfmt_mount, nullptr);
    EXPECT_EQ(from_function.qemu_dir, nullptr);
    EXPECT_EQ(from_function.qemu_suffix, nullptr);
    EXPECT_EQ(from_function.flags, 0u);
}

TEST(CapiEmulatorsOptions, InitErrors) {
    xarch_emulators_options options;
    EXPECT_EQ(xarch_emulators_options_init(nullptr, XARCH_EMULATORS_OPTIONS_VERSION), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_options_init(&options, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_options_init(&options, XARCH_EMULATORS_OPTIONS_VERSION + 1),
              XARCH_EUNSUPPORTED);
}

TEST_F(CapiEmulators, OptionsVersionAndFlagsAreChecked) {
    xarch_handler_list* handlers = nullptr;
    options.version = 0;
    EXPECT_EQ(xarch_emulators_handlers(&handlers, &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("version"));
    options.version = XARCH_EMULATORS_OPTIONS_VERSION + 1;
    EXPECT_EQ(xarch_emulators_handlers(&handlers, &options), XARCH_EUNSUPPORTED);
    options.version = XARCH_EMULATORS_OPTIONS_VERSION;
    options.flags = 0x80000000u;
    EXPECT_EQ(xarch_emulators_handlers(&handlers, &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("80000000"));
    EXPECT_EQ(handlers, nullptr);
}

TEST_F(CapiEmulators, Handlers) {
    write_file(binfmt / "python",
               "enabled\ninterpreter /usr/bin/python3\nflags: \nextension .py\n");
    xarch_handler_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_handlers(&raw, &options), XARCH_OK) << last_message();
    HandlerListPtr list(raw);
    ASSERT_EQ(xarch_handler_list_size(list.get()), 2u);  // by name: python, qemu-aarch64

    EXPECT_STREQ(xarch_handler_list_name(list.get(), 1), "qemu-aarch64");
    EXPECT_EQ(xarch_handler_list_enabled(list.get(), 1), 1);
    EXPECT_STREQ(xarch_handler_list_interpreter(list.get(), 1), "/usr/bin/qemu-aarch64-static");
    EXPECT_STREQ(xarch_handler_list_flags(list.get(), 1), "OCF");
    EXPECT_EQ(xarch_handler_list_offset(list.get(), 1), 0u);
    EXPECT_STREQ(xarch_handler_list_magic(list.get(), 1),
                 "7f454c460201010000000000000000000200b700");
    EXPECT_STREQ(xarch_handler_list_mask(list.get(), 1),
                 "ffffffffffffff00fffffffffffffffffeffffff");
    EXPECT_STREQ(xarch_handler_list_extension(list.get(), 1), "");
    const xarch_platform* platform = xarch_handler_list_platform(list.get(), 1);
    ASSERT_NE(platform, nullptr);
    EXPECT_STREQ(xarch_platform_to_string(platform), "linux/arm64");

    EXPECT_STREQ(xarch_handler_list_name(list.get(), 0), "python");
    EXPECT_STREQ(xarch_handler_list_extension(list.get(), 0), ".py");
    EXPECT_STREQ(xarch_handler_list_magic(list.get(), 0), "");
    EXPECT_EQ(xarch_handler_list_platform(list.get(), 0), nullptr);
}

TEST_F(CapiEmulators, HandlerListGettersOnBadArguments) {
    xarch_handler_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_handlers(&raw, &options), XARCH_OK);
    HandlerListPtr list(raw);
    EXPECT_EQ(xarch_handler_list_size(nullptr), 0u);
    EXPECT_EQ(xarch_handler_list_name(list.get(), 5), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_EQ(xarch_handler_list_enabled(list.get(), 5), XARCH_EINVAL);
    EXPECT_EQ(xarch_handler_list_interpreter(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_handler_list_flags(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_handler_list_magic(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_handler_list_mask(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_handler_list_offset(nullptr, 0), 0u);
    EXPECT_EQ(xarch_handler_list_extension(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_handler_list_platform(list.get(), 1), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_handlers(nullptr, &options), XARCH_EINVAL);
    xarch_handler_list_free(nullptr);
}

TEST_F(CapiEmulators, List) {
    xarch_emulator_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_list(&raw, &options), XARCH_OK) << last_message();
    EmulatorListPtr list(raw);
    ASSERT_GT(xarch_emulator_list_size(list.get()), 2u);

    const size_t aarch64 = find(list.get(), "qemu-aarch64");
    const size_t riscv64 = find(list.get(), "qemu-riscv64");
    const size_t s390x = find(list.get(), "qemu-s390x");
    ASSERT_LT(riscv64, xarch_emulator_list_size(list.get()));
    ASSERT_LT(s390x, xarch_emulator_list_size(list.get()));

    EXPECT_STREQ(xarch_platform_to_string(xarch_emulator_list_platform(list.get(), riscv64)),
                 "linux/riscv64");
    EXPECT_EQ(str(xarch_emulator_list_path(list.get(), riscv64)), qemu / "qemu-riscv64-static");
    EXPECT_EQ(xarch_emulator_list_present(list.get(), riscv64), 1);
    EXPECT_EQ(xarch_emulator_list_registered(list.get(), riscv64), 0);
    EXPECT_EQ(xarch_emulator_list_present(list.get(), s390x), 0);
    EXPECT_EQ(xarch_emulator_list_registered(list.get(), s390x), 0);

    if (aarch64 < xarch_emulator_list_size(list.get())) {  // absent on an arm64 host (native)
        EXPECT_STREQ(xarch_platform_to_string(xarch_emulator_list_platform(list.get(), aarch64)),
                     "linux/arm64");
        EXPECT_EQ(xarch_emulator_list_present(list.get(), aarch64), 1);
        EXPECT_EQ(xarch_emulator_list_registered(list.get(), aarch64), 1);
    }
}

TEST_F(CapiEmulators, ListWithoutSuffix) {
    add_emulator("qemu-s390x");
    options.qemu_suffix = "";
    xarch_emulator_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_list(&raw, &options), XARCH_OK) << last_message();
    EmulatorListPtr list(raw);
    const size_t s390x = find(list.get(), "qemu-s390x");
    ASSERT_LT(s390x, xarch_emulator_list_size(list.get()));
    EXPECT_EQ(str(xarch_emulator_list_path(list.get(), s390x)), qemu / "qemu-s390x");
    EXPECT_EQ(xarch_emulator_list_present(list.get(), s390x), 1);
}

TEST_F(CapiEmulators, EmulatorListGettersOnBadArguments) {
    xarch_emulator_list* raw = nullptr;
    EXPECT_EQ(xarch_emulators_list(nullptr, &options), XARCH_EINVAL);
    ASSERT_EQ(xarch_emulators_list(&raw, &options), XARCH_OK);
    EmulatorListPtr list(raw);
    const size_t n = xarch_emulator_list_size(list.get());
    EXPECT_EQ(xarch_emulator_list_size(nullptr), 0u);
    EXPECT_EQ(xarch_emulator_list_platform(list.get(), n), nullptr);
    EXPECT_EQ(xarch_emulator_list_name(list.get(), n), nullptr);
    EXPECT_EQ(xarch_emulator_list_path(nullptr, 0), nullptr);
    EXPECT_EQ(xarch_emulator_list_present(list.get(), n), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulator_list_registered(nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    xarch_emulator_list_free(nullptr);
}

TEST_F(CapiEmulators, NativeAndRunnable) {
    xarch_platform_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_native(&raw), XARCH_OK) << last_message();
    PlatformListPtr native(raw);
    ASSERT_GE(xarch_platform_list_size(native.get()), 1u);
    xarch_platform* host = nullptr;
    ASSERT_EQ(xarch_platform_host(&host), XARCH_OK);
    PlatformPtr host_owner(host);
    EXPECT_EQ(xarch_platform_equal(xarch_platform_list_get(native.get(), 0), host), 1)
        << "the host comes first";

    ASSERT_EQ(xarch_emulators_runnable(&raw, &options), XARCH_OK) << last_message();
    PlatformListPtr runnable(raw);
    const size_t n_native = xarch_platform_list_size(native.get());
    const size_t n_runnable = xarch_platform_list_size(runnable.get());
    ASSERT_GE(n_runnable, n_native);
    std::vector<std::string> names;
    for (size_t i = 0; i < n_runnable; ++i) {
        names.push_back(str(xarch_platform_to_string(xarch_platform_list_get(runnable.get(), i))));
    }
    for (size_t i = 0; i < n_native; ++i) {
        EXPECT_EQ(names[i], str(xarch_platform_to_string(xarch_platform_list_get(native.get(), i))))
            << "native platforms come first";
    }
    EXPECT_THAT(names, ::testing::Contains("linux/arm64"));
    EXPECT_THAT(names, ::testing::Not(::testing::Contains("linux/riscv64")));

    EXPECT_EQ(xarch_emulators_native(nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_runnable(nullptr, &options), XARCH_EINVAL);
}

#if defined(__x86_64__)
TEST_F(CapiEmulators, InstallRegistersWithFlags) {
    xarch_emulator_change_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_install(&raw, "riscv64,arm64,amd64", &options), XARCH_OK)
        << last_message();
    ChangeListPtr changes(raw);
    ASSERT_EQ(xarch_emulator_change_list_size(changes.get()), 3u);

    EXPECT_STREQ(xarch_emulator_change_list_name(changes.get(), 0), "qemu-riscv64");
    EXPECT_STREQ(xarch_platform_to_string(xarch_emulator_change_list_platform(changes.get(), 0)),
                 "linux/riscv64");
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 0),
              XARCH_EMULATOR_OUTCOME_INSTALLED);
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 1),
              XARCH_EMULATOR_OUTCOME_ALREADY_INSTALLED);
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 2), XARCH_EMULATOR_OUTCOME_NATIVE);

    const std::string registered = read_file(binfmt / "register");
    EXPECT_THAT(registered, HasSubstr(":qemu-riscv64:M:"));
    EXPECT_THAT(registered, HasSubstr(":" + (qemu / "qemu-riscv64-static") + ":CF"));
}

TEST_F(CapiEmulators, InstallPreservesArgv0OnRequest) {
    options.flags = XARCH_EMULATORS_PRESERVE_ARGV0;
    xarch_emulator_change_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_install(&raw, "qemu-riscv64", &options), XARCH_OK) << last_message();
    ChangeListPtr changes(raw);
    EXPECT_THAT(read_file(binfmt / "register"), HasSubstr(":PCF"));
}
#endif

TEST_F(CapiEmulators, InstallErrors) {
    xarch_emulator_change_list* raw = nullptr;
    EXPECT_EQ(xarch_emulators_install(&raw, "not-a-cpu", &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("not-a-cpu"));
    EXPECT_EQ(xarch_emulators_install(&raw, "s390x", &options), XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("qemu-s390x-static"));
    EXPECT_EQ(xarch_emulators_install(&raw, nullptr, &options), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_install(nullptr, "riscv64", &options), XARCH_EINVAL);
    EXPECT_EQ(raw, nullptr);
    EXPECT_EQ(read_file(binfmt / "register"), "") << "nothing registered";
}

TEST_F(CapiEmulators, Uninstall) {
    xarch_emulator_change_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_uninstall(&raw, "arm64,riscv64", &options), XARCH_OK)
        << last_message();
    ChangeListPtr changes(raw);
    ASSERT_EQ(xarch_emulator_change_list_size(changes.get()), 2u);
    EXPECT_STREQ(xarch_emulator_change_list_name(changes.get(), 0), "qemu-aarch64");
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 0),
              XARCH_EMULATOR_OUTCOME_UNINSTALLED);
    EXPECT_STREQ(xarch_emulator_change_list_name(changes.get(), 1), "qemu-riscv64");
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 1),
              XARCH_EMULATOR_OUTCOME_NOT_INSTALLED);
    EXPECT_THAT(read_file(binfmt / "qemu-aarch64"), HasSubstr("-1"));

    EXPECT_EQ(xarch_emulators_uninstall(&raw, "not-a-cpu", &options), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_uninstall(&raw, nullptr, &options), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulators_uninstall(nullptr, "arm64", &options), XARCH_EINVAL);
    EXPECT_EQ(raw, nullptr);
}

TEST_F(CapiEmulators, ChangeListGettersOnBadArguments) {
    xarch_emulator_change_list* raw = nullptr;
    ASSERT_EQ(xarch_emulators_uninstall(&raw, "riscv64", &options), XARCH_OK);
    ChangeListPtr changes(raw);
    EXPECT_EQ(xarch_emulator_change_list_size(nullptr), 0u);
    EXPECT_EQ(xarch_emulator_change_list_name(changes.get(), 1), nullptr);
    EXPECT_EQ(xarch_emulator_change_list_platform(changes.get(), 1), nullptr);
    EXPECT_EQ(xarch_emulator_change_list_outcome(changes.get(), 1), XARCH_EINVAL);
    EXPECT_EQ(xarch_emulator_change_list_outcome(nullptr, 0), XARCH_EINVAL);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    xarch_emulator_change_list_free(nullptr);
}

}  // namespace
}  // namespace xarch_capi_test
