// SPDX-License-Identifier: Apache-2.0
// context-scan (issue 4): scan + hash a build context of 20,000 files / 200 MB in the page cache
// and compare the throughput with the single-core SHA-256 figure of `openssl speed -evp sha256`;
// then time a re-scan of the unchanged context with a warm stat cache. The context is made once
// and kept (--dir). Prints figures and checks that cached and uncached scans agree; it judges no
// timing.
//   bench_context_scan [--dir DIR] [--files N] [--mb M] [--rounds R] [--smoke]
#include <xarch/context.hpp>
#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    fs::path dir;
    int files = 20000;
    int mb = 200;
    int rounds = 3;
    bool smoke = false;
};

std::uint64_t next_random(std::uint64_t& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

// The context: files/100 directories of 100 files, sizes uniform around the mean, random bytes,
// all with an mtime an hour back so that the stat cache may trust them at once.
void make_context(const Args& args) {
    const fs::path marker = args.dir.string() + ".complete";  // outside: not part of the context
    const std::string want = std::to_string(args.files) + " " + std::to_string(args.mb);
    std::ifstream in(marker);
    std::string have;
    std::getline(in, have);
    if (have == want) {
        return;
    }
    std::cout << "making the context in " << args.dir << " (" << args.files << " files, " << args.mb
              << " MiB)...\n";
    fs::remove_all(args.dir);
    fs::create_directories(args.dir);
    const std::uint64_t total = std::uint64_t(args.mb) << 20;
    const std::uint64_t mean = total / static_cast<std::uint64_t>(args.files);
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    std::uint64_t written = 0;
    std::vector<char> buf;
    const std::int64_t past = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() -
                              3600;
    for (int i = 0; i < args.files; ++i) {
        std::uint64_t size = i + 1 == args.files ? (total > written ? total - written : 0)
                                                 : next_random(state) % (2 * mean + 1);
        size = std::min(size, total - std::min(total, written));
        buf.resize(size);
        for (std::size_t j = 0; j + 8 <= buf.size(); j += 8) {
            const std::uint64_t r = next_random(state);
            std::memcpy(buf.data() + j, &r, 8);
        }
        char name[32];
        std::snprintf(name, sizeof name, "d%03d/f%05d.bin", i / 100, i);
        const fs::path path = args.dir / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary).write(buf.data(), static_cast<std::streamsize>(size));
        const struct timespec times[2] = {{static_cast<time_t>(past), 0},
                                          {static_cast<time_t>(past), 0}};
        ::utimensat(AT_FDCWD, path.c_str(), times, 0);
        written += size;
    }
    std::ofstream(marker) << want << '\n';
}

// The single-core SHA-256 rate openssl reports for 16 KiB blocks, in bytes per second; 0 when
// openssl is not there.
double openssl_sha256_rate() {
    FILE* p = ::popen("openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null", "r");
    if (p == nullptr) {
        return 0;
    }
    std::string out;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) {
        out += line;
    }
    ::pclose(p);
    std::istringstream lines(out);
    std::string l;
    while (std::getline(lines, l)) {
        if (l.rfind("sha256", 0) == 0 || l.rfind("SHA256", 0) == 0) {
            const std::string last = l.substr(l.find_last_of(' ') + 1);
            return std::stod(last) * (last.back() == 'k' ? 1000.0 : 1.0);
        }
    }
    return 0;
}

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--dir") {
            args.dir = value();
        } else if (a == "--files") {
            args.files = std::stoi(value());
        } else if (a == "--mb") {
            args.mb = std::stoi(value());
        } else if (a == "--rounds") {
            args.rounds = std::max(1, std::stoi(value()));
        } else if (a == "--smoke") {
            args.smoke = true;
        } else {
            std::cerr << "usage: bench_context_scan [--dir DIR] [--files N] [--mb M] "
                         "[--rounds R] [--smoke]\n";
            return 2;
        }
    }
    if (args.files <= 0 || args.mb < 0) {
        std::cerr << "--files must be positive and --mb not negative\n";
        return 2;
    }
    if (args.dir.empty()) {
        args.dir =
            fs::temp_directory_path() /
            ("xarch-bench-context-" + std::to_string(args.files) + "-" + std::to_string(args.mb));
    }
    try {
        make_context(args);
        const fs::path cache_dir = args.dir.string() + ".stat-cache";
        fs::remove_all(cache_dir);

        xarch::BuildContext ctx = xarch::BuildContext::from_directory(args.dir);
        xarch::ScanOptions cold;
        cold.use_cache = false;
        const std::vector<xarch::ContextEntry> reference = ctx.scan(cold);  // fills the page cache

        double best_cold = 1e30;
        for (int r = 0; r < args.rounds; ++r) {
            const auto t0 = Clock::now();
            ctx.scan(cold);
            best_cold = std::min(best_cold, seconds(Clock::now() - t0));
        }
        const xarch::ScanStats cold_stats = ctx.last_scan_stats();

        xarch::ScanOptions warm;
        warm.cache_dir = cache_dir;
        ctx.scan(warm);  // fills the stat cache
        std::vector<double> warm_times;
        for (int r = 0; r < std::max(args.rounds, 3); ++r) {
            const auto t0 = Clock::now();
            ctx.scan(warm);
            warm_times.push_back(seconds(Clock::now() - t0));
        }
        const xarch::ScanStats warm_stats = ctx.last_scan_stats();
        std::sort(warm_times.begin(), warm_times.end());

        // Correctness: the cached scan is the uncached one; spot-check digests from scratch.
        bool correct = ctx.entries() == reference && warm_stats.hashed == 0 &&
                       cold_stats.files == static_cast<std::size_t>(args.files);
        for (std::size_t i = 0; i < reference.size();
             i += std::max<std::size_t>(1, reference.size() / 50)) {
            const xarch::ContextEntry& e = reference[i];
            if (e.type != xarch::ContextEntryType::kRegular) {
                continue;
            }
            std::ifstream f(args.dir / e.path, std::ios::binary);
            const std::string content((std::istreambuf_iterator<char>(f)), {});
            correct = correct && xarch::Digest::of(content) == e.digest;
        }

        const double mb = static_cast<double>(cold_stats.bytes_hashed) / 1e6;
        std::cout << "context: " << cold_stats.files << " files, " << mb << " MB, "
                  << std::thread::hardware_concurrency() << " cores\n";
        std::cout << "scan+hash (page cache, no stat cache, best of " << args.rounds
                  << "): " << best_cold * 1000 << " ms, " << mb / best_cold << " MB/s\n";
        if (!args.smoke) {
            const double rate = openssl_sha256_rate();
            if (rate > 0) {
                std::cout << "openssl speed -evp sha256 -bytes 16384 (one core): " << rate / 1e6
                          << " MB/s\n";
                std::cout << "ratio: " << (mb / best_cold) / (rate / 1e6) << " (goal >= 0.70)\n";
            } else {
                std::cout << "openssl speed: not available\n";
            }
        }
        std::cout << "warm re-scan with stat cache (" << warm_stats.cache_hits << " hits): best "
                  << warm_times.front() * 1000 << " ms, median "
                  << warm_times[warm_times.size() / 2] * 1000 << " ms (goal < 100 ms)\n";
        std::cout << "correct: " << (correct ? "yes" : "NO") << '\n';
        fs::remove_all(cache_dir);
        return correct ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "ERROR: " << e.what() << '\n';
        return 1;
    }
}
