// SPDX-License-Identifier: Apache-2.0
// xarch::Registry against the shared test registries (tests/integration/registry): the seeded
// busybox index on the plain, TLS + Basic and token registries, push/pull/copy/create_index,
// uploads (monolithic, chunked, mount), tags, delete, and faults through the proxy; skopeo reads
// what xarch pushed, as the independent client. Skips when the registries are not there.
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/error.hpp>
#include <xarch/registry.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using xarch::Descriptor;
using xarch::Digest;
using xarch::Error;
using xarch::ErrorCode;
using xarch::OciLayout;
using xarch::Platform;
using xarch::Reference;
using xarch::Registry;
using xarch::RegistryOptions;
using xarch::test::RegistryEnv;
using xarch::test::run;
using xarch::test::ScopedFault;

// A repository name of this test's own: the registries are shared by tests running at once.
std::string repo_name(std::string_view what) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "registry-it/";
    for (char c : std::string(info->name()) + "-" + std::string(what)) {
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return name + "-" + std::to_string(::getpid());
}

std::string random_bytes(std::size_t size) {
    std::mt19937_64 generator{std::random_device{}()};
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(generator());
    }
    return out;
}

// Anonymous, so that the developer's ~/.docker/config.json cannot change the outcome.
RegistryOptions plain_options() {
    RegistryOptions options;
    options.credentials = nullptr;
    options.retry_attempts = 4;
    return options;
}

// The proxy's log entries (method, path, status) for paths containing `needle`.
std::vector<std::pair<std::string, std::string>> proxy_requests(const RegistryEnv& env,
                                                                std::string_view needle) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto log = boost::json::parse(xarch::test::proxy_log(env));
    for (const auto& entry : log.as_array()) {
        const auto& object = entry.as_object();
        std::string path(object.at("path").as_string());
        if (path.find(needle) != std::string::npos) {
            out.emplace_back(std::string(object.at("method").as_string()), path);
        }
    }
    return out;
}

// Now on the proxy's clock (time.time(): the same host), to select the log entries that follow.
double proxy_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The proxy's log entries (method, path) for paths containing `needle` that arrived after
// `since`: the log keeps the last 2000 requests of every test, so positions in it move.
std::vector<std::pair<std::string, std::string>> proxy_requests_since(const RegistryEnv& env,
                                                                      std::string_view needle,
                                                                      double since) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto log = boost::json::parse(xarch::test::proxy_log(env));
    for (const auto& entry : log.as_array()) {
        const auto& object = entry.as_object();
        std::string path(object.at("path").as_string());
        if (object.at("time").to_number<double>() >= since &&
            path.find(needle) != std::string::npos) {
            out.emplace_back(std::string(object.at("method").as_string()), path);
        }
    }
    return out;
}

// A fresh folder under the test temp dir, named after the test.
fs::path temp_dir(std::string_view what) {
    std::string name = repo_name(what);
    std::replace(name.begin(), name.end(), '/', '-');
    const fs::path dir = fs::path(::testing::TempDir()) / name;
    fs::remove_all(dir);
    return dir;
}

class RegistryTest : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto env = xarch::test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
    }

    Reference busybox(const std::string& registry) const {
        return Reference::parse(registry + "/" + env_.busybox_repo + ":" + env_.busybox_tag);
    }
    Reference on(const std::string& registry, std::string_view what) const {
        return Reference::parse(registry + "/" + repo_name(what) + ":latest");
    }
    OciLayout seeded_layout() const { return OciLayout::open(env_.busybox_oci); }
    Descriptor seeded_root() const {
        auto root = seeded_layout().resolve(env_.get("XARCH_TEST_BUSYBOX_OCI_TAG"));
        EXPECT_TRUE(root.has_value());
        return *root;
    }

    RegistryEnv env_;
};

TEST_F(RegistryTest, ResolvesAndFetchesTheSeededIndexOnThePlainRegistry) {
    Registry registry(plain_options());
    const auto ref = busybox(env_.plain);
    const auto resolved = registry.resolve(ref);
    EXPECT_EQ(resolved.digest.to_string(), env_.busybox_index_digest);
    EXPECT_EQ(resolved.media_type, xarch::media_type::kOciIndex);
    EXPECT_EQ(std::to_string(resolved.size), env_.get("XARCH_TEST_BUSYBOX_INDEX_SIZE"));

    const auto raw = registry.fetch_manifest(ref);
    EXPECT_EQ(raw.digest.to_string(), env_.busybox_index_digest);
    EXPECT_EQ(raw.bytes, seeded_layout().read_blob(raw.digest));
    // By digest too, verified against the reference's digest.
    const auto pinned = registry.fetch_manifest(ref.with_digest(env_.busybox_index_digest));
    EXPECT_EQ(pinned, raw);
}

TEST_F(RegistryTest, ResolvesOnTheTlsRegistryWithBasicAuth) {
    RegistryOptions options = plain_options();
    options.ca_bundle = env_.tls_ca;
    options.credentials = [this](std::string_view) -> std::optional<xarch::Credentials> {
        return xarch::Credentials{env_.user, env_.password, {}, {}};
    };
    Registry registry(options);
    EXPECT_EQ(registry.resolve(busybox(env_.tls)).digest.to_string(), env_.busybox_index_digest);
    EXPECT_EQ(registry.fetch_manifest(busybox(env_.tls)).digest.to_string(),
              env_.busybox_index_digest);

    // Without credentials the registry refuses.
    try {
        RegistryOptions o = plain_options();
        o.ca_bundle = env_.tls_ca;
        Registry(o).resolve(busybox(env_.tls));
        FAIL() << "anonymous access to the TLS registry succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kAuthentication) << e.what();
    }
}

TEST_F(RegistryTest, ResolvesOnTheTokenRegistry) {
    RegistryOptions options = plain_options();
    options.credentials = [this](std::string_view) -> std::optional<xarch::Credentials> {
        return xarch::Credentials{env_.user, env_.password, {}, {}};
    };
    Registry registry(options);
    EXPECT_EQ(registry.resolve(busybox(env_.token)).digest.to_string(), env_.busybox_index_digest);
    const auto raw = registry.fetch_manifest(busybox(env_.token));
    EXPECT_EQ(raw.digest.to_string(), env_.busybox_index_digest);
    // Anonymous pull of the public copy.
    Registry anonymous(plain_options());
    EXPECT_EQ(anonymous.resolve(Reference::parse(env_.token + "/public/busybox:latest"))
                  .digest.to_string(),
              env_.busybox_index_digest);
}

TEST_F(RegistryTest, ResolvesAPlatformAndNamesThePlatformsWhenOneIsMissing) {
    Registry registry(plain_options());
    const auto ref = busybox(env_.plain);
    const auto arm64 = registry.resolve_platform(ref, Platform::parse("linux/arm64"));
    EXPECT_EQ(arm64.digest.to_string(), env_.busybox_manifest("linux/arm64"));
    try {
        registry.resolve_platform(ref, Platform::parse("linux/s390x"));
        FAIL() << "linux/s390x resolved";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        const std::string message = e.what();
        EXPECT_NE(message.find("linux/s390x"), std::string::npos) << message;
        EXPECT_NE(message.find("linux/amd64"), std::string::npos) << message;
        EXPECT_NE(message.find("linux/arm/v7"), std::string::npos) << message;
    }
    // A single manifest resolves to itself for its own platform only.
    const auto single = ref.without_tag().with_digest(env_.busybox_manifest("linux/amd64"));
    EXPECT_EQ(registry.resolve_platform(single, Platform::parse("linux/amd64")).digest.to_string(),
              env_.busybox_manifest("linux/amd64"));
    EXPECT_THROW(registry.resolve_platform(single, Platform::parse("linux/arm64")), Error);
}

TEST_F(RegistryTest, PushedLayoutIsReadBySkopeoByteForByte) {
    Registry registry(plain_options());
    const auto dst = on(env_.plain, "push");
    const auto root = seeded_root();
    const auto pushed = registry.push(seeded_layout(), root, dst);
    EXPECT_EQ(pushed.digest, root.digest);

    const std::string raw =
        run("skopeo inspect --raw --tls-verify=false docker://" + dst.to_string());
    EXPECT_EQ(raw, seeded_layout().read_blob(root.digest));

    const fs::path dir = temp_dir("d");
    run("skopeo copy --all --src-tls-verify=false docker://" + dst.to_string() +
        " dir:" + dir.string());
    int verified = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.size() != 64 || name.find_first_not_of("0123456789abcdef") != std::string::npos) {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        EXPECT_EQ(Digest::of(bytes.str()).hex(), name);
        ++verified;
    }
    // Three platforms: at least a config and a layer each.
    EXPECT_GE(verified, 6);
    fs::remove_all(dir);
}

// The blobs and child manifests under the layout's root, counted from the layout itself.
struct GraphSize {
    std::set<std::string> blobs;
    std::set<std::string> manifests;
};
GraphSize graph_size(const OciLayout& layout, const Descriptor& root) {
    GraphSize out;
    for (const auto& m : xarch::parse_index(layout.read_blob(root.digest)).manifests) {
        out.manifests.insert(m.digest.to_string());
        const auto manifest = xarch::parse_manifest(layout.read_blob(m.digest));
        out.blobs.insert(manifest.config.digest.to_string());
        for (const auto& l : manifest.layers) {
            out.blobs.insert(l.digest.to_string());
        }
    }
    return out;
}

TEST_F(RegistryTest, RePushCostsOneHeadPerBlobAndManifest) {
    Registry registry(plain_options());
    const auto dst = on(env_.fault_proxy, "repush");
    const auto root = seeded_root();
    registry.push(seeded_layout(), root, dst);
    const double since = proxy_now();
    EXPECT_EQ(registry.push(seeded_layout(), root, dst).digest, root.digest);

    // One HEAD per blob, one per child manifest by digest, one of the tag; nothing else.
    const auto graph = graph_size(seeded_layout(), root);
    std::multiset<std::string> heads;
    for (const auto& [method, path] :
         proxy_requests_since(env_, "/v2/" + dst.repository() + "/", since)) {
        EXPECT_EQ(method, "HEAD") << path;
        heads.insert(path.substr(path.rfind('/') + 1));
    }
    EXPECT_EQ(heads.size(), graph.blobs.size() + graph.manifests.size() + 1);
    for (const auto& digest : graph.blobs) {
        EXPECT_EQ(heads.count(digest), 1U) << digest;
    }
    for (const auto& digest : graph.manifests) {
        EXPECT_EQ(heads.count(digest), 1U) << digest;
    }
    EXPECT_EQ(heads.count(dst.tag()), 1U);
}

TEST_F(RegistryTest, RePushMovesATagThatPointsElsewhereAndReCopyOnlyHeads) {
    Registry registry(plain_options());
    const auto dst = on(env_.fault_proxy, "moved");
    const auto root = seeded_root();
    registry.push(seeded_layout(), root, dst);
    // The tag now names one platform's manifest only.
    const auto amd64 = Reference::parse(env_.plain + "/" + dst.repository())
                           .with_digest(env_.busybox_manifest("linux/amd64"));
    registry.push_manifest(Reference::parse(env_.plain + "/" + dst.repository() + ":latest"),
                           registry.fetch_manifest(amd64));
    ASSERT_NE(registry.resolve(dst).digest, root.digest);

    // Pushing the index again writes the tag and nothing else.
    const double since = proxy_now();
    registry.push(seeded_layout(), root, dst);
    std::vector<std::string> writes;
    for (const auto& [method, path] :
         proxy_requests_since(env_, "/v2/" + dst.repository() + "/", since)) {
        if (method != "HEAD") {
            writes.push_back(method + " " + path);
        }
    }
    EXPECT_EQ(writes,
              std::vector<std::string>{"PUT /v2/" + dst.repository() + "/manifests/" + dst.tag()});
    EXPECT_EQ(registry.resolve(dst).digest, root.digest);

    // copy() to where everything is: HEADs on the destination, no upload, mount or PUT.
    const double copy_since = proxy_now();
    EXPECT_EQ(registry.copy(busybox(env_.plain), dst).digest, root.digest);
    const auto copied = proxy_requests_since(env_, "/v2/" + dst.repository() + "/", copy_since);
    EXPECT_FALSE(copied.empty());
    for (const auto& [method, path] : copied) {
        EXPECT_EQ(method, "HEAD") << path;
    }
}

// A small artifact manifest whose subject is `subject`.
xarch::RawContent artifact(const Descriptor& subject,
                           std::string artifact_type,
                           std::string config_type,
                           std::map<std::string, std::string> annotations) {
    xarch::Manifest m;
    m.artifact_type = std::move(artifact_type);
    m.config = Descriptor::of(std::move(config_type), "{}");
    m.layers = {Descriptor::of(std::string(xarch::media_type::kOciEmpty), "{}")};
    m.subject = subject;
    m.annotations = std::move(annotations);
    return m.to_raw();
}

TEST_F(RegistryTest, ReferrersGoToTheTagSchemaWithoutAReferrersApi) {
    Registry registry(plain_options());
    const auto repo = on(env_.fault_proxy, "referrers");
    // The subject: busybox's amd64 manifest, copied in.
    const auto subject_ref = Reference::parse(env_.plain + "/" + env_.busybox_repo)
                                 .with_digest(env_.busybox_manifest("linux/amd64"));
    const auto subject_digest = Digest::parse(env_.busybox_manifest("linux/amd64"));
    registry.copy(subject_ref, repo.without_tag().with_digest(subject_digest.to_string()));
    const auto subject =
        registry.resolve(repo.without_tag().with_digest(subject_digest.to_string()));
    registry.push_blob(repo, Descriptor::of(std::string(xarch::media_type::kOciEmpty), "{}"), "{}");

    const std::string sbom_type = "application/vnd.example.sbom.v1+json";
    const auto sbom = artifact(subject, sbom_type, std::string(xarch::media_type::kOciEmpty),
                               {{"org.example.kind", "sbom"}});
    // No artifactType: the config's media type stands for it.
    const std::string sig_config = "application/vnd.example.signature.config.v1+json";
    const auto sig = artifact(subject, "", sig_config, {});
    registry.push_blob(repo, Descriptor::of(sig_config, "{}"), "{}");
    registry.push_manifest(repo.without_tag().with_digest(sbom.digest.to_string()), sbom);
    registry.push_manifest(repo.without_tag().with_digest(sig.digest.to_string()), sig);
    // Again: the index gets no duplicate, and is not written again.
    registry.push_manifest(repo.without_tag().with_digest(sbom.digest.to_string()), sbom);

    const std::string tag = "sha256-" + std::string(subject_digest.hex());
    const auto raw = registry.fetch_manifest(repo.with_tag(tag));
    EXPECT_EQ(raw.media_type, xarch::media_type::kOciIndex);
    const auto index = xarch::parse_index(raw.bytes);
    ASSERT_EQ(index.manifests.size(), 2U) << raw.bytes;
    EXPECT_EQ(index.manifests[0].digest, sbom.digest);
    EXPECT_EQ(index.manifests[0].size, static_cast<std::int64_t>(sbom.bytes.size()));
    EXPECT_EQ(index.manifests[0].media_type, xarch::media_type::kOciManifest);
    EXPECT_EQ(index.manifests[0].artifact_type, sbom_type);
    EXPECT_EQ(index.manifests[0].annotations.at("org.example.kind"), "sbom");
    EXPECT_EQ(index.manifests[1].digest, sig.digest);
    EXPECT_EQ(index.manifests[1].artifact_type, sig_config);
    int tag_puts = 0;
    for (const auto& [method, path] :
         proxy_requests(env_, "/v2/" + repo.repository() + "/manifests/" + tag)) {
        tag_puts += method == "PUT" ? 1 : 0;
    }
    EXPECT_EQ(tag_puts, 2);
    // skopeo reads the same index under the tag.
    EXPECT_EQ(
        run("skopeo inspect --raw --tls-verify=false docker://" + repo.with_tag(tag).to_string()),
        raw.bytes);

    // referrers(): the registry's API answers 404, so the tag's index is read and filtered.
    const auto all = registry.referrers(repo, subject_digest);
    EXPECT_EQ(all.manifests, index.manifests);
    const auto sboms = registry.referrers(repo, subject_digest, sbom_type);
    ASSERT_EQ(sboms.manifests.size(), 1U);
    EXPECT_EQ(sboms.manifests[0].digest, sbom.digest);
    EXPECT_TRUE(registry.referrers(repo, subject_digest, "application/x-none").manifests.empty());
    EXPECT_GE(proxy_requests(env_, "/v2/" + repo.repository() + "/referrers/").size(), 3U);
    // A manifest without referrers has none.
    EXPECT_TRUE(registry.referrers(repo, sbom.digest).manifests.empty());
}

TEST_F(RegistryTest, PushOfAnIndexWithReferrersListsEachUnderTheSubjectsTag) {
    // A layout whose index holds an image manifest and three artifacts that refer to it; push()
    // sends the manifests in parallel, and every referrer must land in the tag's index.
    const fs::path dir = temp_dir("layout");
    auto layout = OciLayout::create(dir);
    const std::string empty_bytes = "{}";
    const auto empty = Descriptor::of(std::string(xarch::media_type::kOciEmpty), empty_bytes);
    layout.write_blob(empty, empty_bytes);
    xarch::Manifest image;
    image.config = empty;
    image.annotations = {{"org.example.role", "subject"}};
    const auto subject = image.to_raw();
    layout.write_blob(subject.descriptor(), subject.bytes);
    xarch::ImageIndex index;
    index.manifests.push_back(subject.descriptor());
    std::vector<Digest> referrers;
    for (const std::string kind : {"sbom", "signature", "provenance"}) {
        const auto raw = artifact(subject.descriptor(), "application/vnd.example." + kind,
                                  std::string(xarch::media_type::kOciEmpty), {});
        layout.write_blob(raw.descriptor(), raw.bytes);
        index.manifests.push_back(raw.descriptor());
        referrers.push_back(raw.digest);
    }
    const auto root = index.to_raw();
    layout.write_blob(root.descriptor(), root.bytes);

    Registry registry(plain_options());
    const auto dst = on(env_.plain, "withreferrers");
    EXPECT_EQ(registry.push(layout, root.descriptor(), dst).digest, root.digest);
    std::vector<Digest> listed;
    for (const auto& d : registry.referrers(dst, subject.digest).manifests) {
        listed.push_back(d.digest);
    }
    std::sort(listed.begin(), listed.end());
    std::sort(referrers.begin(), referrers.end());
    EXPECT_EQ(listed, referrers);
    fs::remove_all(dir);
}

TEST_F(RegistryTest, ReferrerPushRefusesATagSchemaTagThatIsNotAnIndex) {
    Registry registry(plain_options());
    const auto repo = on(env_.plain, "badtag");
    const auto empty = Descriptor::of(std::string(xarch::media_type::kOciEmpty), "{}");
    registry.push_blob(repo, empty, "{}");
    xarch::Manifest plain;
    plain.config = empty;
    const auto subject = plain.to_raw();
    registry.push_manifest(repo.without_tag().with_digest(subject.digest.to_string()), subject);
    // Something else already holds the subject's referrers tag.
    const std::string tag = "sha256-" + std::string(subject.digest.hex());
    registry.push_manifest(repo.with_tag(tag), subject);

    const auto referrer = artifact(subject.descriptor(), "application/vnd.example.x",
                                   std::string(xarch::media_type::kOciEmpty), {});
    try {
        registry.push_manifest(repo.without_tag().with_digest(referrer.digest.to_string()),
                               referrer);
        FAIL() << "a referrer was added to a tag that holds a manifest";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kRegistry) << e.what();
        EXPECT_NE(std::string(e.what()).find(tag), std::string::npos) << e.what();
    }
    // The tag is left as it was; referrers() finds no index there, so no referrers.
    EXPECT_EQ(registry.resolve(repo.with_tag(tag)).digest, subject.digest);
    EXPECT_TRUE(registry.referrers(repo, subject.digest).manifests.empty());
}

TEST_F(RegistryTest, PullsIntoALayoutAndCopiesAPlatformSubset) {
    Registry registry(plain_options());
    const fs::path dir = temp_dir("layout");
    auto layout = OciLayout::create(dir);
    const auto pulled = registry.pull(busybox(env_.plain), layout);
    EXPECT_EQ(pulled.digest.to_string(), env_.busybox_index_digest);
    ASSERT_TRUE(layout.resolve(env_.busybox_tag).has_value());
    for (const auto& m : xarch::parse_index(layout.read_blob(pulled.digest)).manifests) {
        const auto manifest = xarch::parse_manifest(layout.read_blob(m.digest));
        EXPECT_TRUE(layout.has_blob(manifest.config.digest));
        for (const auto& l : manifest.layers) {
            EXPECT_TRUE(layout.has_blob(l.digest));
        }
    }
    fs::remove_all(dir);

    const auto dst = on(env_.plain, "subset");
    xarch::CopyOptions options;
    options.platforms = {Platform::parse("linux/arm64")};
    const auto copied = registry.copy(busybox(env_.plain), dst, options);
    const auto index = xarch::parse_index(registry.fetch_manifest(dst).bytes);
    ASSERT_EQ(index.manifests.size(), 1U);
    EXPECT_EQ(index.manifests[0].digest.to_string(), env_.busybox_manifest("linux/arm64"));
    EXPECT_EQ(registry.resolve(dst).digest, copied.digest);
    const auto arm64 = xarch::parse_manifest(
        registry.fetch_manifest(dst.without_tag().with_digest(env_.busybox_manifest("linux/arm64")))
            .bytes);
    for (const auto& l : arm64.layers) {
        EXPECT_TRUE(registry.blob_exists(dst, l.digest));
    }
    // A full copy keeps the index's digest.
    const auto all = registry.copy(busybox(env_.plain), on(env_.plain, "all"));
    EXPECT_EQ(all.digest.to_string(), env_.busybox_index_digest);

    // A single image is copied for a platform only when it is for that platform.
    const auto amd64 =
        busybox(env_.plain).without_tag().with_digest(env_.busybox_manifest("linux/amd64"));
    options.platforms = {Platform::parse("linux/amd64")};
    EXPECT_EQ(registry.copy(amd64, on(env_.plain, "single"), options).digest.to_string(),
              env_.busybox_manifest("linux/amd64"));
    options.platforms = {Platform::parse("linux/arm64"), Platform::parse("linux/s390x")};
    const auto mismatch = on(env_.plain, "mismatch");
    try {
        registry.copy(amd64, mismatch, options);
        ADD_FAILURE() << "an amd64 image copied for arm64 and s390x";
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kNotFound);
        EXPECT_NE(std::string(e.what()).find("no manifest for linux/arm64, linux/s390x"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("single manifest for linux/amd64"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(registry.resolve(mismatch), xarch::Error);
}

TEST_F(RegistryTest, MountsAcrossRepositories) {
    Registry registry(plain_options());
    const auto a = on(env_.plain, "a");
    const auto b = on(env_.plain, "b");
    const std::string content = random_bytes(4096);
    const auto blob = Descriptor::of("application/octet-stream", content);
    registry.push_blob(a, blob, content);
    EXPECT_TRUE(registry.blob_exists(a, blob.digest));
    EXPECT_FALSE(registry.blob_exists(b, blob.digest));
    EXPECT_TRUE(registry.mount_blob(b, blob.digest, a));
    EXPECT_TRUE(registry.blob_exists(b, blob.digest));
    EXPECT_EQ(registry.fetch_blob(b, blob), content);
    // A repository without the blob: 202, no mount (the registry opened an upload instead).
    EXPECT_FALSE(registry.mount_blob(on(env_.plain, "c"), blob.digest, on(env_.plain, "none")));

    // copy() on one registry mounts every blob rather than uploading it.
    const auto src = on(env_.fault_proxy, "src");
    const auto dst = on(env_.fault_proxy, "dst");
    registry.copy(busybox(env_.plain), Reference::parse(env_.plain + "/" + src.repository()));
    registry.copy(src, dst);
    int mounts = 0;
    for (const auto& [method, path] : proxy_requests(env_, dst.repository() + "/blobs/uploads")) {
        EXPECT_NE(path.find("mount="), std::string::npos) << method << " " << path;
        mounts += method == "POST" ? 1 : 0;
    }
    EXPECT_GE(mounts, 6);

    // On the token registry a mount asks for two scopes.
    RegistryOptions options = plain_options();
    options.credentials = [this](std::string_view) -> std::optional<xarch::Credentials> {
        return xarch::Credentials{env_.user, env_.password, {}, {}};
    };
    Registry token(options);
    const auto ta = on(env_.token, "a");
    const auto tb = on(env_.token, "b");
    token.push_blob(ta, blob, content);
    EXPECT_TRUE(token.mount_blob(tb, blob.digest, ta));
    EXPECT_TRUE(token.blob_exists(tb, blob.digest));
}

// push() with PushOptions: layers absent from the layout are mounted from their source
// repository on the same registry, streamed from it when it is another registry, and refused
// when no source is named.
TEST_F(RegistryTest, PushMountsOrStreamsBlobsAbsentFromTheLayout) {
    Registry registry(plain_options());
    const OciLayout seeded = seeded_layout();
    const auto root = seeded.resolve("busybox-amd64");
    ASSERT_TRUE(root.has_value());
    const auto manifest = xarch::parse_manifest(seeded.read_blob(root->digest), root->media_type);
    // A layout with the manifest and config only: the layers stay in the registry.
    const fs::path dir = temp_dir("layout");
    OciLayout layout = OciLayout::create(dir);
    layout.write_blob(*root, seeded.read_blob(root->digest));
    layout.write_blob(manifest.config, seeded.read_blob(manifest.config.digest));
    ASSERT_FALSE(manifest.layers.empty());

    xarch::PushOptions same_registry;
    for (const auto& layer : manifest.layers) {
        same_registry.mount_from[layer.digest] = busybox(env_.fault_proxy);
    }
    const auto mounted = on(env_.fault_proxy, "mounted");
    EXPECT_EQ(registry.push(layout, *root, mounted, same_registry).digest, root->digest);
    // Each layer: one mount request and no upload of its bytes (the config, which the layout
    // has, is uploaded).
    const auto requests = proxy_requests(env_, mounted.repository() + "/blobs/uploads");
    for (const auto& layer : manifest.layers) {
        std::string encoded = layer.digest.to_string();
        encoded.replace(encoded.find(':'), 1, "%3A");
        int mounts = 0;
        for (const auto& [method, path] : requests) {
            if (path.find(encoded) == std::string::npos) {
                continue;
            }
            EXPECT_EQ(method, "POST") << path;
            mounts += path.find("mount=" + encoded) != std::string::npos ? 1 : 0;
        }
        EXPECT_EQ(mounts, 1) << layer.digest;
    }
    run("skopeo inspect --raw --tls-verify=false docker://" + mounted.to_string());

    // The source on another registry (same backend, another address): the bytes are streamed.
    xarch::PushOptions other_registry;
    for (const auto& layer : manifest.layers) {
        other_registry.mount_from[layer.digest] = busybox(env_.plain);
    }
    const auto streamed = on(env_.fault_proxy, "streamed");
    registry.push(layout, *root, streamed, other_registry);
    for (const auto& layer : manifest.layers) {
        EXPECT_TRUE(registry.blob_exists(streamed, layer.digest));
        EXPECT_EQ(registry.fetch_blob(streamed, layer).size(),
                  static_cast<std::size_t>(layer.size));
    }
    for (const auto& [method, path] :
         proxy_requests(env_, streamed.repository() + "/blobs/uploads")) {
        EXPECT_EQ(path.find("mount="), std::string::npos) << method << " " << path;
    }

    // No source and not in the layout: refused before the manifest goes up.
    try {
        registry.push(layout, *root, on(env_.plain, "nosource"), xarch::PushOptions{});
        ADD_FAILURE() << "pushed an image whose layers are nowhere";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
        EXPECT_NE(std::string(e.what()).find("no repository to mount it from"), std::string::npos)
            << e.what();
    }
}

TEST_F(RegistryTest, UploadsALargeBlobInChunks) {
    RegistryOptions options = plain_options();
    options.chunk_threshold = std::int64_t{4} * 1024 * 1024;
    options.chunk_size = std::int64_t{4} * 1024 * 1024;
    std::atomic<std::uint64_t> reported{0};
    options.progress = [&](const xarch::TransferProgress& p) {
        reported = p.done;
        return true;
    };
    Registry registry(options);
    const auto repo = on(env_.fault_proxy, "chunked");
    const std::string content = random_bytes(9 * 1024 * 1024 + 17);
    const auto blob = Descriptor::of("application/octet-stream", content);
    registry.push_blob(repo, blob, content);
    EXPECT_EQ(reported.load(), content.size());
    int patches = 0;
    for (const auto& [method, path] : proxy_requests(env_, repo.repository())) {
        patches += method == "PATCH" ? 1 : 0;
    }
    EXPECT_EQ(patches, 3);
    EXPECT_EQ(registry.fetch_blob(repo, blob), content);

    // Copying it to another registry goes by ranges, also in chunks.
    const auto copy_dst = on(env_.token, "chunked");
    RegistryOptions token_options = options;
    token_options.credentials = [this](std::string_view) -> std::optional<xarch::Credentials> {
        return xarch::Credentials{env_.user, env_.password, {}, {}};
    };
    Registry both(token_options);
    xarch::Manifest manifest;
    manifest.config = Descriptor::of(std::string(xarch::media_type::kOciEmpty), "{}");
    manifest.layers = {blob};
    manifest.layers[0].media_type = std::string(xarch::media_type::kOciLayer);
    both.push_blob(repo, manifest.config, "{}");
    both.push_manifest(repo, manifest.to_raw());
    both.copy(repo, copy_dst);
    EXPECT_EQ(both.fetch_blob(copy_dst, blob), content);
}

TEST_F(RegistryTest, ChunkedPushFromALayoutStreamsAndRetriesAChunkFromItsStart) {
    RegistryOptions options = plain_options();
    options.chunk_threshold = 64 * 1024;
    options.chunk_size = 256 * 1024;
    Registry registry(options);
    const auto dst = on(env_.fault_proxy, "chunkfile");
    // Two PATCHes fail before reaching the registry; each is sent again from its chunk's first
    // byte, read again from the blob's file.
    ScopedFault fault(env_, R"({"kind":"status500","method":"PATCH","path":"^/v2/)" +
                                dst.repository() + R"(/blobs/uploads/","count":2})");
    const auto root = seeded_root();
    EXPECT_EQ(registry.push(seeded_layout(), root, dst).digest, root.digest);

    int patches = 0;
    int failed = 0;
    const auto log = boost::json::parse(xarch::test::proxy_log(env_));
    for (const auto& entry : log.as_array()) {
        const auto& object = entry.as_object();
        if (object.at("method").as_string() == "PATCH" &&
            std::string(object.at("path").as_string()).find(dst.repository()) !=
                std::string::npos) {
            ++patches;
            failed += object.at("status").as_int64() == 500 ? 1 : 0;
        }
    }
    EXPECT_EQ(failed, 2);
    // The layers are larger than a chunk: more than one PATCH each, plus the two retried.
    const auto graph = graph_size(seeded_layout(), root);
    EXPECT_GT(patches, static_cast<int>(graph.blobs.size()));
    // Every blob arrived whole: the registry serves it and its digest verifies.
    for (const auto& digest : graph.blobs) {
        const auto d = Digest::parse(digest);
        Descriptor blob;
        blob.digest = d;
        blob.size = *seeded_layout().blob_size(d);
        blob.media_type = "application/octet-stream";
        EXPECT_EQ(registry.fetch_blob(dst, blob), seeded_layout().read_blob(d)) << digest;
    }
}

TEST_F(RegistryTest, ListsTagsPageByPageAndDeletes) {
    Registry registry(plain_options());
    const auto repo = on(env_.fault_proxy, "tags");
    xarch::Manifest manifest;
    manifest.config = Descriptor::of(std::string(xarch::media_type::kOciEmpty), "{}");
    registry.push_blob(repo, manifest.config, "{}");
    const auto raw = manifest.to_raw();
    const std::vector<std::string> tags = {"a", "b", "c", "d", "e"};
    for (const auto& tag : tags) {
        registry.push_manifest(repo.with_tag(tag), raw);
    }
    // distribution 2.8 ignores `n` for tags (and lists them unordered), so the pages come
    // from the proxy, each pointing at the next with a Link header as the spec describes.
    auto tags_page = [&](std::string_view query, std::vector<std::string> page,
                         std::string_view next) {
        const std::string path = "/v2/" + repo.repository() + "/tags/list";
        boost::json::object rule{{"kind", "status"},
                                 {"status", 200},
                                 {"path", "^" + path + "\\?" + std::string(query) + "$"},
                                 {"count", 1}};
        boost::json::object headers{{"Content-Type", "application/json"}};
        if (!next.empty()) {
            headers["Link"] = "<" + path + "?" + std::string(next) + ">; rel=\"next\"";
        }
        rule["headers"] = headers;
        boost::json::array list;
        for (const auto& t : page) {
            list.emplace_back(t);
        }
        rule["body"] = boost::json::serialize(
            boost::json::object{{"name", repo.repository()}, {"tags", list}});
        return std::make_unique<ScopedFault>(env_, boost::json::serialize(rule));
    };
    auto first = tags_page("n=2", {"a", "b"}, "last=b&n=2");
    auto second = tags_page("last=b&n=2", {"c", "d"}, "last=d&n=2");
    auto third = tags_page("last=d&n=2", {"e"}, "");
    EXPECT_EQ(registry.list_tags(repo, 2), tags);
    int pages = 0;
    for (const auto& [method, path] : proxy_requests(env_, repo.repository() + "/tags/list")) {
        pages += method == "GET" ? 1 : 0;
    }
    EXPECT_EQ(pages, 3);
    // The real registry's own answer has them all.
    auto all_tags = registry.list_tags(repo);
    std::sort(all_tags.begin(), all_tags.end());
    EXPECT_EQ(all_tags, tags);

    // The catalog does paginate on distribution 2.8.
    const auto catalog = registry.catalog(env_.fault_proxy, 2);
    EXPECT_NE(std::find(catalog.begin(), catalog.end(), repo.repository()), catalog.end());
    EXPECT_GE(proxy_requests(env_, "/v2/_catalog").size(), 2U);

    EXPECT_TRUE(registry.referrers(repo, raw.digest).manifests.empty());

    registry.delete_manifest(repo.with_tag("a"));
    try {
        registry.fetch_manifest(repo.with_tag("a"));
        FAIL() << "the deleted manifest is still served";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
    }
}

TEST_F(RegistryTest, BlobBytesOfTheWrongSizeAreRefusedBeforeUploading) {
    Registry registry(plain_options());
    const auto repo = Reference::parse_repository(env_.plain + "/" + repo_name("wrong-size"));
    const std::string bytes = "twelve bytes";
    auto blob = xarch::Descriptor::of(std::string(xarch::media_type::kOciLayer), bytes);
    blob.size += 1;
    try {
        registry.push_blob(repo, blob, bytes);
        FAIL() << "a blob shorter than its descriptor was pushed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDigestMismatch) << e.what();
        EXPECT_NE(std::string(e.what()).find("nothing was uploaded"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(registry.blob_exists(repo, blob.digest));
}

TEST_F(RegistryTest, CorruptBlobIsRejectedAndNotStored) {
    Registry registry(plain_options());
    const auto name = repo_name("corrupt");
    registry.copy(busybox(env_.plain), Reference::parse(env_.plain + "/" + name + ":latest"));
    ScopedFault fault(env_,
                      R"({"kind":"corrupt-body","path":"^/v2/)" + name + R"(/blobs/","count":-1})");
    const fs::path dir = temp_dir("layout");
    auto layout = OciLayout::create(dir);
    try {
        registry.pull(Reference::parse(env_.fault_proxy + "/" + name + ":latest"), layout);
        FAIL() << "a corrupted blob was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDigestMismatch) << e.what();
    }
    for (const auto& m :
         xarch::parse_index(registry.fetch_manifest(busybox(env_.plain)).bytes).manifests) {
        const auto manifest = xarch::parse_manifest(
            registry
                .fetch_manifest(busybox(env_.plain).without_tag().with_digest(m.digest.to_string()))
                .bytes);
        EXPECT_FALSE(layout.has_blob(manifest.config.digest));
        for (const auto& l : manifest.layers) {
            EXPECT_FALSE(layout.has_blob(l.digest));
        }
    }
    EXPECT_TRUE(layout.index().manifests.empty());
    fs::remove_all(dir);
}

TEST_F(RegistryTest, RetriesServerErrors) {
    Registry registry(plain_options());
    const auto name = repo_name("retry");
    const auto dst = Reference::parse(env_.fault_proxy + "/" + name + ":latest");
    registry.copy(busybox(env_.plain), Reference::parse(env_.plain + "/" + name + ":latest"));
    ScopedFault fault(env_,
                      R"({"kind":"status500","path":"^/v2/)" + name + R"(/manifests/","count":2})");
    EXPECT_EQ(registry.resolve(dst).digest.to_string(), env_.busybox_index_digest);
    // Two 500s, then the answer: every attempt went through the proxy.
    EXPECT_GE(proxy_requests(env_, name + "/manifests/").size(), 3U);
}

TEST_F(RegistryTest, PushRetriesAManifestWhoseBlobsTheRegistryLostTrackOfForAMoment) {
    // What distribution answers when a concurrent upload of the same blob is rewriting the
    // repository's link to it while the manifest is checked: the push just put every blob, so it
    // tries the manifest again.
    Registry registry(plain_options());
    const auto name = repo_name("blob-race");
    const auto dst = Reference::parse(env_.fault_proxy + "/" + name + ":latest");
    const auto root = seeded_root();
    const std::string body =
        R"({"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"},{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]})";
    boost::json::object rule;
    rule["kind"] = "status";
    rule["status"] = 400;
    rule["method"] = "PUT";
    rule["path"] = "^/v2/" + name + "/manifests/";
    rule["count"] = 2;
    rule["body"] = body;
    rule["headers"] = boost::json::object{{"Content-Type", "application/json"}};
    ScopedFault fault(env_, boost::json::serialize(rule));
    EXPECT_EQ(registry.push(seeded_layout(), root, dst).digest, root.digest);
    // Every manifest once, plus the two refused and sent again.
    const std::size_t manifests = seeded_layout().read_blob(root.digest).empty() ? 0 : 1;
    std::size_t puts = 0;
    for (const auto& [method, path] : proxy_requests(env_, name + "/manifests/")) {
        puts += method == "PUT" ? 1 : 0;
    }
    EXPECT_GE(puts, manifests + 2);
    const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" + env_.plain +
                                "/" + name + ":latest");
    EXPECT_EQ(Digest::of(raw), root.digest);
}

TEST_F(RegistryTest, CreatesAnIndexFromManifestsAndInspectsIt) {
    Registry registry(plain_options());
    const auto base = busybox(env_.plain).without_tag();
    const auto dst = on(env_.plain, "created");
    const auto created =
        registry.create_index(dst,
                              {base.with_digest(env_.busybox_manifest("linux/amd64")),
                               base.with_digest(env_.busybox_manifest("linux/arm64"))},
                              {{"org.opencontainers.image.description", "two"}});
    const auto inspected = registry.inspect(dst);
    EXPECT_EQ(inspected.descriptor.digest, created.digest);
    ASSERT_TRUE(inspected.index.has_value());
    ASSERT_EQ(inspected.index->manifests.size(), 2U);
    EXPECT_EQ(inspected.index->manifests[1].platform->to_string(), "linux/arm64");
    EXPECT_EQ(inspected.index->annotations.at("org.opencontainers.image.description"), "two");

    // The bytes are buildx's (json.MarshalIndent) and their digest is the one pushed.
    EXPECT_EQ(inspected.raw.bytes.rfind("{\n  \"schemaVersion\": 2,\n  \"mediaType\": ", 0), 0U)
        << inspected.raw.bytes;
    EXPECT_EQ(Digest::of(inspected.raw.bytes), created.digest);

    // A lone index source with nothing to add is carbon-copied, its digest kept.
    const auto flat = on(env_.plain, "flat");
    EXPECT_EQ(registry.create_index(flat, {busybox(env_.plain)}).digest.to_string(),
              env_.busybox_index_digest);
    EXPECT_EQ(registry.inspect(flat).index->manifests.size(), 3U);

    // Descriptor annotations for one platform, two tags, and a dry run that pushes nothing.
    xarch::CreateIndexOptions options;
    options.annotations =
        xarch::IndexAnnotation::parse("manifest-descriptor[linux/arm64]:org.example.arch=arm");
    const auto more = xarch::IndexAnnotation::parse("index,manifest-descriptor:k=v");
    options.annotations.insert(options.annotations.end(), more.begin(), more.end());
    options.dry_run = true;
    const auto tagged = on(env_.plain, "annotated");
    const auto dry =
        registry.create_index({tagged, tagged.with_tag("second")}, {busybox(env_.plain)}, options);
    EXPECT_THROW(registry.resolve(tagged), Error) << "a dry run pushed the index";
    const auto index = xarch::parse_index(dry.bytes, dry.media_type);
    EXPECT_EQ(index.annotations.at("k"), "v");
    for (const auto& m : index.manifests) {
        EXPECT_EQ(m.annotations.at("k"), "v");
        EXPECT_EQ(m.annotations.count("org.example.arch"),
                  m.platform->to_string() == "linux/arm64" ? 1U : 0U);
    }
    options.dry_run = false;
    const auto pushed =
        registry.create_index({tagged, tagged.with_tag("second")}, {busybox(env_.plain)}, options);
    EXPECT_EQ(pushed, dry);
    EXPECT_EQ(registry.resolve(tagged).digest, pushed.digest);
    EXPECT_EQ(registry.resolve(tagged.with_tag("second")).digest, pushed.digest);

    const auto single = registry.inspect(base.with_digest(env_.busybox_manifest("linux/arm64")));
    ASSERT_TRUE(single.config.has_value());
    EXPECT_EQ(single.config->architecture, "arm64");
}

TEST_F(RegistryTest, ProgressCallbackCancels) {
    RegistryOptions options = plain_options();
    options.progress = [](const xarch::TransferProgress&) { return false; };
    Registry registry(options);
    const fs::path dir = temp_dir("layout");
    auto layout = OciLayout::create(dir);
    try {
        registry.pull(busybox(env_.plain), layout);
        FAIL() << "not cancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCancelled) << e.what();
    }
    fs::remove_all(dir);
}

}  // namespace
