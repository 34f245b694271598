// SPDX-License-Identifier: Apache-2.0
// The C API's builders (xarch_builder_store, xarch_builder_spec, xarch_node_status): a store in a
// temporary folder, builders made, appended to, used and removed as `xarch create/use/rm` do,
// nodes inspected (this host's embedded node; an engine whose socket is missing).
#include "capi_test_util.hpp"

#include <set>
#include <thread>
#include <vector>

namespace xarch_capi_test {
namespace {

using ::testing::HasSubstr;
using StorePtr = std::unique_ptr<xarch_builder_store, Deleter<xarch_builder_store_free>>;
using SpecPtr = std::unique_ptr<xarch_builder_spec, Deleter<xarch_builder_spec_free>>;
using SpecListPtr = std::unique_ptr<xarch_builder_spec_list, Deleter<xarch_builder_spec_list_free>>;
using StatusPtr = std::unique_ptr<xarch_node_status, Deleter<xarch_node_status_free>>;

std::vector<std::string> platform_texts(const xarch_platform_list* list) {
    std::vector<std::string> out;
    for (size_t i = 0; i < xarch_platform_list_size(list); ++i) {
        out.push_back(xarch_platform_to_string(xarch_platform_list_get(list, i)));
    }
    return out;
}

std::vector<std::string> builder_names(const xarch_builder_store* store) {
    xarch_builder_spec_list* list = nullptr;
    EXPECT_EQ(xarch_builder_store_list(&list, store), XARCH_OK) << last_message();
    const SpecListPtr owner(list);
    std::vector<std::string> names;
    for (size_t i = 0; i < xarch_builder_spec_list_size(list); ++i) {
        names.push_back(xarch_builder_spec_name(xarch_builder_spec_list_get(list, i)));
    }
    return names;
}

std::string current_name(const xarch_builder_store* store) {
    xarch_buf name = XARCH_BUF_INIT;
    EXPECT_EQ(xarch_builder_store_current_name(&name, store), XARCH_OK) << last_message();
    std::string out = str(name.ptr);
    xarch_buf_dispose(&name);
    return out;
}

class BuilderStore : public testing::Test {
protected:
    void SetUp() override {
        xarch_builder_store* store = nullptr;
        ASSERT_EQ(xarch_builder_store_new(&store, dir_.path().c_str()), XARCH_OK) << last_message();
        store_.reset(store);
        missing_socket_ = "unix://" + (dir_ / "no-engine.sock");
    }

    // `xarch create [--append] --name NAME --driver docker --platform PLATFORM ENDPOINT`.
    int create(const char* name,
               const std::string& endpoint,
               const char* platform,
               bool append,
               SpecPtr* out) {
        PlatformPtr parsed = parse(platform);
        const xarch_platform* platforms[] = {parsed.get()};
        xarch_builder_create_options options = XARCH_BUILDER_CREATE_OPTIONS_INIT;
        options.name = name;
        options.driver = XARCH_DRIVER_DOCKER;
        options.endpoint = endpoint.c_str();
        options.platforms = platforms;
        options.platforms_count = 1;
        options.append = append ? 1 : 0;
        xarch_builder_spec* spec = nullptr;
        const int rc = xarch_builder_store_create(&spec, store_.get(), &options);
        out->reset(spec);
        return rc;
    }

    TempDir dir_;
    StorePtr store_;
    std::string missing_socket_;
};

TEST_F(BuilderStore, AnEmptyStoreHasTheDefaultBuilderOnly) {
    EXPECT_EQ(str(xarch_builder_store_file(store_.get())), dir_ / "builders.json");
    EXPECT_EQ(builder_names(store_.get()), std::vector<std::string>{"default"});
    EXPECT_EQ(current_name(store_.get()), "default");
    xarch_builder_spec* spec = nullptr;
    ASSERT_EQ(xarch_builder_store_get(&spec, store_.get(), ""), XARCH_OK) << last_message();
    const SpecPtr owner(spec);
    EXPECT_EQ(str(xarch_builder_spec_name(spec)), "default");
    EXPECT_EQ(xarch_builder_spec_driver(spec), XARCH_DRIVER_EMBEDDED);
    ASSERT_EQ(xarch_builder_spec_node_count(spec), 1u);
    EXPECT_EQ(xarch_builder_spec_node_driver(spec, 0), XARCH_DRIVER_EMBEDDED);
    EXPECT_EQ(str(xarch_builder_spec_node_endpoint(spec, 0)), "");
    EXPECT_TRUE(platform_texts(xarch_builder_spec_node_platforms(spec, 0)).empty());
}

TEST_F(BuilderStore, CreateAppendUseRemoveNodeAndRemove) {
    SpecPtr spec;
    ASSERT_EQ(create("engines", missing_socket_, "linux/amd64", false, &spec), XARCH_OK)
        << last_message();
    EXPECT_EQ(str(xarch_builder_spec_name(spec.get())), "engines");
    ASSERT_EQ(xarch_builder_spec_node_count(spec.get()), 1u);
    EXPECT_EQ(str(xarch_builder_spec_node_name(spec.get(), 0)), "engines0");
    EXPECT_EQ(xarch_builder_spec_node_driver(spec.get(), 0), XARCH_DRIVER_DOCKER);
    EXPECT_EQ(str(xarch_builder_spec_node_endpoint(spec.get(), 0)), missing_socket_);
    EXPECT_EQ(platform_texts(xarch_builder_spec_node_platforms(spec.get(), 0)),
              std::vector<std::string>{"linux/amd64"});

    // The same name again without append: XARCH_EEXIST; the same endpoint appended: XARCH_EINVAL.
    SpecPtr refused;
    EXPECT_EQ(create("engines", missing_socket_, "linux/amd64", false, &refused), XARCH_EEXIST);
    EXPECT_THAT(last_message(), HasSubstr("engines"));
    EXPECT_EQ(refused, nullptr);
    EXPECT_EQ(create("engines", missing_socket_, "linux/arm64", true, &refused), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("no-engine.sock"));

    const std::string second = "unix://" + (dir_ / "second.sock");
    ASSERT_EQ(create("engines", second, "linux/arm64", true, &spec), XARCH_OK) << last_message();
    ASSERT_EQ(xarch_builder_spec_node_count(spec.get()), 2u);
    EXPECT_EQ(str(xarch_builder_spec_node_name(spec.get(), 1)), "engines1");
    EXPECT_EQ(platform_texts(xarch_builder_spec_node_platforms(spec.get(), 1)),
              std::vector<std::string>{"linux/arm64"});
    EXPECT_EQ(builder_names(store_.get()), (std::vector<std::string>{"default", "engines"}));

    ASSERT_EQ(xarch_builder_store_use(store_.get(), "engines"), XARCH_OK) << last_message();
    EXPECT_EQ(current_name(store_.get()), "engines");
    xarch_builder_spec* current = nullptr;
    ASSERT_EQ(xarch_builder_store_get(&current, store_.get(), ""), XARCH_OK);
    const SpecPtr current_owner(current);
    EXPECT_EQ(xarch_builder_spec_node_count(current), 2u);
    // Another handle on the same folder sees it: every call reads the file.
    xarch_builder_store* other = nullptr;
    ASSERT_EQ(xarch_builder_store_new(&other, dir_.path().c_str()), XARCH_OK);
    const StorePtr other_owner(other);
    EXPECT_EQ(current_name(other), "engines");

    ASSERT_EQ(xarch_builder_store_remove_node(nullptr, store_.get(), "engines", "engines0"),
              XARCH_EINVAL);
    xarch_builder_spec* left = nullptr;
    EXPECT_EQ(xarch_builder_store_remove_node(&left, store_.get(), "engines", "nope"),
              XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("engines0, engines1"));
    ASSERT_EQ(xarch_builder_store_remove_node(&left, store_.get(), "engines", "engines0"), XARCH_OK)
        << last_message();
    const SpecPtr left_owner(left);
    ASSERT_EQ(xarch_builder_spec_node_count(left), 1u);
    EXPECT_EQ(str(xarch_builder_spec_node_name(left, 0)), "engines1");

    EXPECT_EQ(xarch_builder_store_remove(store_.get(), "default"), XARCH_EINVAL);
    ASSERT_EQ(xarch_builder_store_remove(store_.get(), "engines"), XARCH_OK) << last_message();
    EXPECT_EQ(builder_names(store_.get()), std::vector<std::string>{"default"});
    EXPECT_EQ(current_name(store_.get()), "default");
    EXPECT_EQ(xarch_builder_store_use(store_.get(), "engines"), XARCH_ENOTFOUND);
}

TEST_F(BuilderStore, UnknownNamesAndBadOptionsAreRefusedClearly) {
    xarch_builder_spec* spec = nullptr;
    EXPECT_EQ(xarch_builder_store_get(&spec, store_.get(), "nope"), XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("nope"));
    EXPECT_EQ(spec, nullptr);

    xarch_builder_create_options options = XARCH_BUILDER_CREATE_OPTIONS_INIT;
    options.name = "Bad Name";
    EXPECT_EQ(xarch_builder_store_create(&spec, store_.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("Bad Name"));
    options.name = "fine";
    options.driver = 7;
    EXPECT_EQ(xarch_builder_store_create(&spec, store_.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("unknown driver 7"));
    options.driver = XARCH_DRIVER_EMBEDDED;
    options.endpoint = "unix:///var/run/docker.sock";
    EXPECT_EQ(xarch_builder_store_create(&spec, store_.get(), &options), XARCH_EINVAL);
    options.version = 0;
    EXPECT_EQ(xarch_builder_store_create(&spec, store_.get(), &options), XARCH_EINVAL);
    EXPECT_EQ(xarch_builder_create_options_init(&options, XARCH_BUILDER_CREATE_OPTIONS_VERSION + 1),
              XARCH_EUNSUPPORTED);
    ASSERT_EQ(xarch_builder_create_options_init(&options, XARCH_BUILDER_CREATE_OPTIONS_VERSION),
              XARCH_OK);
    EXPECT_EQ(options.driver, XARCH_DRIVER_DOCKER);
    EXPECT_EQ(options.name, nullptr);
    EXPECT_EQ(builder_names(store_.get()), std::vector<std::string>{"default"});

    // A damaged file is an error naming it, not an empty store.
    write_file(dir_ / "builders.json", "{not json");
    xarch_builder_spec_list* list = nullptr;
    EXPECT_NE(xarch_builder_store_list(&list, store_.get()), XARCH_OK);
    EXPECT_THAT(last_message(), HasSubstr("builders.json"));
    EXPECT_EQ(list, nullptr);
}

TEST_F(BuilderStore, NodesAreInspectedAsXarchLsDoes) {
    // This host's embedded node runs; its version is xarch's and the host's platform is native.
    xarch_builder_spec* spec = nullptr;
    ASSERT_EQ(xarch_builder_store_get(&spec, store_.get(), "default"), XARCH_OK);
    const SpecPtr owner(spec);
    xarch_node_status* status = nullptr;
    ASSERT_EQ(xarch_builder_spec_inspect_node(&status, spec, 0), XARCH_OK) << last_message();
    const StatusPtr status_owner(status);
    EXPECT_EQ(str(xarch_node_status_status(status)), "running");
    EXPECT_EQ(xarch_node_status_running(status), 1);
    EXPECT_EQ(str(xarch_node_status_error(status)), "");
    EXPECT_EQ(str(xarch_node_status_version(status)), str(xarch_version()));
    xarch_platform* host = nullptr;
    ASSERT_EQ(xarch_platform_host(&host), XARCH_OK);
    const PlatformPtr host_owner(host);
    EXPECT_THAT(platform_texts(xarch_node_status_native(status)),
                testing::Contains(str(xarch_platform_to_string(host))));
    EXPECT_NE(xarch_node_status_emulated(status), nullptr);
    EXPECT_EQ(xarch_builder_spec_inspect_node(&status, spec, 1), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("out of range"));

    // An engine that is not there is not a failure: its status says why.
    SpecPtr engines;
    ASSERT_EQ(create("gone", missing_socket_, "linux/arm64", false, &engines), XARCH_OK);
    xarch_node_status* down = nullptr;
    ASSERT_EQ(xarch_builder_spec_inspect_node(&down, engines.get(), 0), XARCH_OK) << last_message();
    const StatusPtr down_owner(down);
    EXPECT_EQ(str(xarch_node_status_status(down)), "error");
    EXPECT_EQ(xarch_node_status_running(down), 0);
    EXPECT_THAT(str(xarch_node_status_error(down)), HasSubstr("no-engine.sock"));
}

TEST_F(BuilderStore, ThreadsCreatingThroughOneHandleKeepEachOthersBuilders) {
    constexpr int kThreads = 4;
    constexpr int kEach = 5;
    std::vector<std::thread> threads;
    std::vector<std::string> failures(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
                const std::string endpoint = "unix://" + (dir_ / (name + ".sock"));
                SpecPtr spec;
                if (create(name.c_str(), endpoint, "linux/amd64", false, &spec) != XARCH_OK) {
                    failures[t] += name + ": " + last_message() + "\n";
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (const std::string& failure : failures) {
        EXPECT_EQ(failure, "");
    }
    const std::vector<std::string> names = builder_names(store_.get());
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(),
              static_cast<size_t>(kThreads * kEach + 1));
}

}  // namespace
}  // namespace xarch_capi_test
