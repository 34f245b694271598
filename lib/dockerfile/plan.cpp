// SPDX-License-Identifier: Apache-2.0
// dockerfile2llb's toDispatchState, once per target platform, without building: global ARGs,
// stage states, the target, the dependency graph, reachability, ONBUILD triggers of stage bases,
// then each reached stage dispatched in file order. Instances that come out the same for several
// platforms are merged by comparing their resolved content.
#include "plan.hpp"

#include "build_args.hpp"
#include "error.hpp"
#include "plan_dump.hpp"
#include "shell_lexer.hpp"
#include "util/go_text.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

namespace xarch::dockerfile {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Arguments that select frontend features and never become environment variables.
bool is_non_env_arg(std::string_view key) {
    return key == "BUILDKIT_SBOM_SCAN_CONTEXT" || key == "BUILDKIT_SBOM_SCAN_STAGE";
}

// One stage (or an image named by COPY --from / --mount from=) for one target platform.
struct State {
    const Stage* stage = nullptr;  // null for an image source
    int stage_index = -1;
    std::string name;          // lower case stage name
    std::string display_name;  // name or stage-N
    std::string base_name;     // expanded
    std::optional<Platform> from_platform;
    Variables from_uses;
    int base = -1;  // state index of a stage base
    std::vector<Command> commands;
    std::vector<bool> onbuild;              // parallel to commands
    std::vector<std::vector<int>> sources;  // parallel to commands: state per COPY/mount
    std::set<int> deps;
    bool onbuild_init = false;
    // Dispatch results.
    bool dispatched = false;
    Platform platform;
    VarList env;
    bool env_complete = false;  // no image config under the stage's environment
    std::size_t instance = 0;
};

class Planner {
public:
    Planner(const Program& program, const PlanOptions& options, const Platform& build)
        : program_(program), options_(options), build_(build), lex_(program.escape_token) {}

    // Plans for one target platform into `out`, merging identical instances.
    void run(const Platform& target,
             Plan& out,
             std::set<std::string>& consumed,
             std::unordered_map<std::string, std::size_t>& keys) {
        consumed_ = &consumed;
        keys_ = &keys;
        const std::string target_name =
            options_.target.empty() ? program_.stages.back().from.stage_name : options_.target;
        globals_ = default_args(target, build_, target_name, options_.build_args);
        build_meta_args();
        build_states();
        const int target_state = resolve_target();
        build_dependency_graph();
        std::set<int> reachable = resolve_reachable(target_state);
        for (std::size_t i = 0; i < states_.size(); ++i) {
            if (states_[i].stage == nullptr || !reachable.contains(static_cast<int>(i))) {
                continue;
            }
            dispatch(static_cast<int>(i), target, out);
        }
        for (std::string& w : warnings_) {
            if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) {
                out.warnings.push_back(std::move(w));
            }
        }
        out.target_stage = states_[static_cast<std::size_t>(target_state)].display_name;
        out.results.push_back({target, states_[static_cast<std::size_t>(target_state)].instance});
    }

private:
    [[noreturn]] void fail_at(int start, int end, const std::string& message) const {
        throw DockerfileError(program_.file_name, start, end, message);
    }

    // buildMetaArgs: the ARGs before the first FROM, over the automatic arguments.
    void build_meta_args() {
        for (const Command& command : program_.meta_args) {
            for (const ArgDefinition& arg : command.get<ArgCommand>()->args) {
                consumed_->insert(arg.key);
                std::optional<std::string> value = arg.value;
                if (auto it = options_.build_args.find(arg.key); it != options_.build_args.end()) {
                    value = it->second;
                } else if (value) {
                    try {
                        value = lex_.process_word(*value, globals_);
                    } catch (const Error& e) {
                        fail_at(command.start_line, command.end_line, e.what());
                    }
                }
                if (value) {
                    globals_.set(arg.key, *value);
                }
            }
        }
    }

    Variables referenced(const std::set<std::string>& names, const ShellEnv& env) const {
        Variables out;
        for (const std::string& name : names) {
            if (auto v = env.get(name)) {
                out.emplace_back(name, std::string(*v));
            }
        }
        return out;
    }

    void build_states() {
        for (std::size_t i = 0; i < program_.stages.size(); ++i) {
            const Stage& st = program_.stages[i];
            State s;
            s.stage = &st;
            s.stage_index = static_cast<int>(i);
            s.name = st.from.stage_name;
            s.display_name = s.name.empty() ? "stage-" + std::to_string(i) : s.name;
            ShellWordResult base;
            try {
                base = lex_.process_word_with_matches(st.from.base_name, globals_);
            } catch (const Error& e) {
                fail_at(st.start_line, st.end_line, e.what());
            }
            if (base.result.empty()) {
                fail_at(st.start_line, st.end_line,
                        "base name (" + st.from.base_name +
                            ") should not be blank: set the ARG it uses with --build-arg or a "
                            "default");
            }
            s.base_name = base.result;
            s.from_uses = referenced(base.matched, globals_);
            if (!st.from.platform.empty()) {
                ShellWordResult p;
                try {
                    p = lex_.process_word_with_matches(st.from.platform, globals_);
                } catch (const Error& e) {
                    fail_at(st.start_line, st.end_line,
                            "failed to process arguments for platform " + st.from.platform + ": " +
                                e.what());
                }
                if (p.result.empty()) {
                    fail_at(st.start_line, st.end_line,
                            "empty platform value from expression " + st.from.platform);
                }
                try {
                    s.from_platform = Platform::parse(p.result);
                } catch (const Error& e) {
                    fail_at(st.start_line, st.end_line,
                            "failed to parse platform " + st.from.platform + ": " + e.what());
                }
                for (auto& used : referenced(p.matched, globals_)) {
                    if (std::find(s.from_uses.begin(), s.from_uses.end(), used) ==
                        s.from_uses.end()) {
                        s.from_uses.push_back(std::move(used));
                    }
                }
            }
            // addState: a base named like an earlier stage is that stage.
            if (auto it = by_name_.find(s.base_name); it != by_name_.end()) {
                s.base = it->second;
            } else {
                warn_if_later_stage(st, s.base_name, i);
            }
            s.commands = st.commands;
            s.onbuild.assign(s.commands.size(), false);
            if (!s.name.empty()) {
                by_name_[s.name] = static_cast<int>(states_.size());
            }
            states_.push_back(std::move(s));
        }
    }

    // A FROM naming a stage defined further down gets that name as an image (BuildKit resolves
    // bases against earlier stages only), which is rarely what was meant.
    void warn_if_later_stage(const Stage& st, const std::string& base, std::size_t index) {
        for (std::size_t j = index + 1; j < program_.stages.size(); ++j) {
            const Stage& later = program_.stages[j];
            if (later.from.stage_name == base) {
                std::string warning = program_.file_name + ":" + std::to_string(st.start_line) +
                                      ": FROM " + base + ": " + util::go::quote(base) +
                                      " is the stage defined on line " +
                                      std::to_string(later.start_line) +
                                      ", but a stage can only build on an earlier one, so it is "
                                      "read as an image (as BuildKit does); move that stage up";
                if (std::find(warnings_.begin(), warnings_.end(), warning) == warnings_.end()) {
                    warnings_.push_back(std::move(warning));
                }
                return;
            }
        }
    }

    int resolve_target() const {
        if (options_.target.empty()) {
            return static_cast<int>(program_.stages.size()) - 1;
        }
        if (auto it = by_name_.find(util::go::to_lower(options_.target)); it != by_name_.end()) {
            return it->second;
        }
        std::vector<std::string> names;
        std::string list;
        for (const State& s : states_) {
            if (!s.name.empty()) {
                names.push_back(s.name);
                list += (list.empty() ? "" : ", ") + s.name;
            }
        }
        std::string message =
            "target stage " + util::go::quote(options_.target) + " could not be found";
        const std::string match = suggest(options_.target, names, true);
        if (!match.empty()) {
            message += " (did you mean " + match + "?)";
        }
        message += list.empty() ? "; the Dockerfile has no named stages (FROM ... AS name)"
                                : "; the stages are: " + list;
        throw DockerfileError(program_.file_name, 0, 0, message);
    }

    // The state a COPY --from or mount from= names: a stage, or a new image source.
    int source_state(const std::string& from) {
        if (auto it = by_name_.find(util::go::to_lower(from)); it != by_name_.end()) {
            return it->second;
        }
        if (auto it = images_.find(from); it != images_.end()) {
            return it->second;
        }
        State image;
        image.base_name = from;
        image.display_name = from;
        states_.push_back(std::move(image));
        images_[from] = static_cast<int>(states_.size()) - 1;
        return static_cast<int>(states_.size()) - 1;
    }

    // toCommand: the sources of one command.
    std::vector<int> command_sources(const Command& command) {
        std::vector<int> out;
        if (const CopyCommand* copy = command.get<CopyCommand>(); copy && !copy->from.empty()) {
            EnvList none;
            const std::string expanded = [&] {
                try {
                    return lex_.process_word(copy->from, none);
                } catch (const Error& e) {
                    fail_at(command.start_line, command.end_line, e.what());
                }
            }();
            if (expanded != copy->from) {
                fail_at(command.start_line, command.end_line,
                        "variable expansion is not supported for --from, define a new stage with "
                        "FROM using ARG from global scope as a workaround");
            }
            int index = 0;
            const char* first = copy->from.data();
            const char* last = first + copy->from.size();
            const auto [ptr, ec] = std::from_chars(first, last, index);
            if (ec == std::errc() && ptr == last) {
                if (index < 0 || index >= static_cast<int>(states_.size()) ||
                    states_[static_cast<std::size_t>(index)].stage == nullptr) {
                    fail_at(command.start_line, command.end_line,
                            "invalid stage index " + copy->from + ": the Dockerfile has " +
                                std::to_string(program_.stages.size()) + " stages, from 0");
                }
                out.push_back(index);
            } else {
                out.push_back(source_state(copy->from));
            }
        }
        if (const RunCommand* run = command.get<RunCommand>()) {
            for (const Mount& m : run->mounts) {
                out.push_back(m.from.empty() ? -1 : source_state(m.from));
            }
        }
        return out;
    }

    void build_dependency_graph() {
        const std::size_t stage_count = program_.stages.size();
        for (std::size_t i = 0; i < stage_count; ++i) {
            states_[i].sources.clear();
            for (std::size_t c = 0; c < states_[i].commands.size(); ++c) {
                std::vector<int> sources = command_sources(states_[i].commands[c]);
                for (int src : sources) {
                    if (src >= 0) {
                        states_[i].deps.insert(src);
                    }
                }
                states_[i].sources.push_back(std::move(sources));
            }
        }
        check_cycles();
    }

    // validateCircularDependency: COPY --from and mount edges (a FROM can only name an earlier
    // stage, so bases cannot close a cycle).
    // Iterative depth-first search, so that a long chain of stages cannot exhaust the stack.
    void check_cycles() const {
        enum class Mark { kNew, kOnPath, kDone };
        std::vector<Mark> mark(states_.size(), Mark::kNew);
        struct Frame {
            int state;
            std::size_t command = 0;
            std::size_t source = 0;
        };
        for (std::size_t root = 0; root < states_.size(); ++root) {
            if (mark[root] != Mark::kNew) {
                continue;
            }
            std::vector<Frame> stack{{static_cast<int>(root)}};
            mark[root] = Mark::kOnPath;
            while (!stack.empty()) {
                Frame& top = stack.back();
                const State& st = states_[static_cast<std::size_t>(top.state)];
                if (top.command >= st.sources.size()) {
                    mark[static_cast<std::size_t>(top.state)] = Mark::kDone;
                    stack.pop_back();
                    continue;
                }
                const std::vector<int>& sources = st.sources[top.command];
                if (top.source >= sources.size()) {
                    ++top.command;
                    top.source = 0;
                    continue;
                }
                const int dep = sources[top.source++];
                if (dep < 0) {
                    continue;
                }
                const auto d = static_cast<std::size_t>(dep);
                if (mark[d] == Mark::kOnPath) {
                    const int line = st.commands[top.command].start_line;
                    fail_at(line, line,
                            "circular dependency detected on stage: " + states_[root].display_name +
                                " (stages copy from each other; break the cycle with a stage "
                                "both can use)");
                }
                if (mark[d] == Mark::kNew) {
                    mark[d] = Mark::kOnPath;
                    stack.push_back({dep});
                }
            }
        }
    }

    std::set<int> reachable_from(int target) const {
        std::set<int> out;
        std::vector<int> todo{target};
        while (!todo.empty()) {
            const int s = todo.back();
            todo.pop_back();
            if (!out.insert(s).second) {
                continue;
            }
            const State& st = states_[static_cast<std::size_t>(s)];
            if (st.base >= 0) {
                todo.push_back(st.base);
            }
            for (int d : st.deps) {
                todo.push_back(d);
            }
        }
        return out;
    }

    // resolveStages: reachability, then ONBUILD triggers of stage bases (which may add sources),
    // until nothing changes.
    std::set<int> resolve_reachable(int target) {
        while (true) {
            std::set<int> reachable = reachable_from(target);
            bool new_deps = false;
            for (int i : reachable) {
                State& s = states_[static_cast<std::size_t>(i)];
                if (s.stage == nullptr || s.base < 0 || s.onbuild_init) {
                    continue;
                }
                s.onbuild_init = true;
                std::vector<Command> triggers;
                for (const Command& c : states_[static_cast<std::size_t>(s.base)].commands) {
                    if (const OnbuildCommand* ob = c.get<OnbuildCommand>()) {
                        Command trigger = ob->trigger.front();
                        trigger.start_line = s.stage->start_line;
                        trigger.end_line = s.stage->end_line;
                        triggers.push_back(std::move(trigger));
                    }
                }
                if (triggers.empty()) {
                    continue;
                }
                std::vector<std::vector<int>> sources;
                for (const Command& t : triggers) {
                    sources.push_back(command_sources(t));
                    State& again = states_[static_cast<std::size_t>(i)];  // states_ may grow
                    for (int src : sources.back()) {
                        if (src >= 0) {
                            again.deps.insert(src);
                            new_deps = true;
                        }
                    }
                }
                State& again = states_[static_cast<std::size_t>(i)];
                const std::size_t n = triggers.size();
                again.commands.insert(again.commands.begin(), triggers.begin(), triggers.end());
                again.onbuild.insert(again.onbuild.begin(), n, true);
                again.sources.insert(again.sources.begin(), sources.begin(), sources.end());
            }
            if (!new_deps) {
                return reachable;
            }
        }
    }

    StepInput input_of(int state) const {
        const State& s = states_[static_cast<std::size_t>(state)];
        if (s.stage == nullptr) {
            return StepInput{std::nullopt, s.base_name};
        }
        return StepInput{s.instance, {}};
    }

    void dispatch(int index, const Platform& target, Plan& out) {
        State& s = states_[static_cast<std::size_t>(index)];
        StageInstance inst;
        inst.stage_index = s.stage_index;
        inst.stage_name = s.name;
        inst.display_name = s.display_name;
        inst.from_uses = s.from_uses;
        inst.start_line = s.stage->start_line;
        inst.end_line = s.stage->end_line;
        if (s.base >= 0) {
            const State& base = states_[static_cast<std::size_t>(s.base)];
            s.platform = base.platform;
            s.env = base.env;
            s.env_complete = base.env_complete;
            inst.base_kind = BaseKind::kStage;
            inst.base_instance = base.instance;
        } else if (s.base_name == "scratch") {
            s.platform = target;  // BuildKit gives scratch the target platform, whatever the flag
            s.env = VarList();
            if (target.os() != "windows") {
                s.env.set("PATH", kDefaultPath);
            }
            s.env_complete = true;
            inst.base_kind = BaseKind::kScratch;
        } else {
            s.platform = s.from_platform.value_or(target);
            s.env = VarList();
            s.env_complete = false;
            inst.base_kind = BaseKind::kImage;
            inst.base_image = s.base_name;
            inst.image_onbuild_pending = true;
        }
        inst.platform = s.platform;
        inst.env_complete = s.env_complete;
        const Variables proxy = proxy_args(options_.build_args);

        for (std::size_t c = 0; c < s.commands.size(); ++c) {
            Command command = s.commands[c];
            PlannedStep step;
            step.source = command;
            step.from_onbuild = s.onbuild[c];
            std::set<std::string> matched;
            std::set<std::string> unmatched;
            const VarList env_before = s.env;
            try {
                if (command.get<ArgCommand>() == nullptr) {
                    const WordExpander word = [&](std::string_view w) {
                        ShellWordResult r = lex_.process_word_with_matches(w, env_before);
                        matched.insert(r.matched.begin(), r.matched.end());
                        unmatched.insert(r.unmatched.begin(), r.unmatched.end());
                        return r.result;
                    };
                    ShellLexOptions raw_options;
                    raw_options.escape = U'\\';
                    raw_options.skip_process_quotes = true;
                    const ShellLex raw_lex(raw_options);
                    const WordExpander raw = [&](std::string_view w) {
                        ShellWordResult r = raw_lex.process_word_with_matches(w, env_before);
                        matched.insert(r.matched.begin(), r.matched.end());
                        unmatched.insert(r.unmatched.begin(), r.unmatched.end());
                        return r.result;
                    };
                    expand(command, word, raw);
                }
                apply(s, command, matched, unmatched);
            } catch (const DockerfileError&) {
                throw;
            } catch (const Error& e) {
                fail_at(command.start_line, command.end_line, e.what());
            }
            const std::vector<int>& sources = s.sources[c];
            if (const CopyCommand* copy = command.get<CopyCommand>(); copy && !copy->from.empty()) {
                const int src = sources.front();
                const State& from = states_[static_cast<std::size_t>(src)];
                if (from.stage != nullptr && !from.dispatched) {
                    fail_at(command.start_line, command.end_line,
                            "cannot copy from stage " + util::go::quote(copy->from) +
                                ", it needs to be defined before current stage " +
                                util::go::quote(s.display_name));
                }
                step.copy_from = input_of(src);
            }
            if (const RunCommand* run = command.get<RunCommand>()) {
                for (std::size_t m = 0; m < run->mounts.size(); ++m) {
                    const int src = m < sources.size() ? sources[m] : -1;
                    if (src < 0) {
                        step.mount_from.emplace_back(std::nullopt);
                        continue;
                    }
                    const State& from = states_[static_cast<std::size_t>(src)];
                    if (from.stage != nullptr && !from.dispatched) {
                        fail_at(command.start_line, command.end_line,
                                "cannot mount from stage " + util::go::quote(run->mounts[m].from) +
                                    " to " + util::go::quote(run->mounts[m].target) +
                                    ", stage needs to be defined before current command");
                    }
                    step.mount_from.emplace_back(input_of(src));
                }
                step.proxy_env = proxy;
            }
            step.uses = referenced(matched, env_before);
            if (const ArgCommand* arg = command.get<ArgCommand>()) {
                for (const ArgDefinition& a : arg->args) {
                    if (a.value) {
                        step.uses.emplace_back(a.key, *a.value);
                    }
                }
            }
            for (const std::string& name : unmatched) {
                if (!env_before.contains(name)) {
                    (s.env_complete ? step.unset : step.deferred).push_back(name);
                }
            }
            step.env = s.env.entries();
            step.command = std::move(command);
            inst.steps.push_back(std::move(step));
        }
        s.dispatched = true;
        s.instance = merge(std::move(inst), target, out);
    }

    // Applies a dispatched command's effect on the stage: ENV and ARG change the environment.
    void apply(State& s,
               Command& command,
               std::set<std::string>& matched,
               std::set<std::string>& unmatched) {
        if (const EnvCommand* env = command.get<EnvCommand>()) {
            for (const KeyValue& kv : env->env) {
                s.env.set(kv.key, kv.value);
            }
            return;
        }
        if (RunCommand* run = command.get<RunCommand>()) {
            // The shell expands the command at run time; record which variables it names.
            if (run->command.prepend_shell) {
                std::vector<std::string> texts = run->command.args;
                for (const InlineFile& f : run->command.files) {
                    texts.push_back(f.data);
                }
                for (const std::string& text : texts) {
                    try {
                        ShellWordResult r = lex_.process_word_with_matches(text, s.env);
                        matched.insert(r.matched.begin(), r.matched.end());
                    } catch (const Error&) {
                        // Shell syntax the word expander does not take is the shell's business.
                    }
                }
            }
            return;
        }
        ArgCommand* arg = command.get<ArgCommand>();
        if (arg == nullptr) {
            return;
        }
        // dispatchArg: --build-arg, else the in-stage default, else the global value.
        for (ArgDefinition& a : arg->args) {
            consumed_->insert(a.key);
            const auto given = options_.build_args.find(a.key);
            const bool has_value = given != options_.build_args.end();
            if (!a.value && !has_value) {
                if (auto g = globals_.get(a.key)) {
                    a.value = std::string(*g);
                }
            } else if (has_value) {
                a.value = given->second;
            } else {
                ShellWordResult r = lex_.process_word_with_matches(*a.value, s.env);
                matched.insert(r.matched.begin(), r.matched.end());
                unmatched.insert(r.unmatched.begin(), r.unmatched.end());
                a.value = r.result;
            }
            if (a.value && !is_non_env_arg(a.key)) {
                s.env.set(a.key, *a.value);
            }
        }
    }

    // The index of an instance equal to `inst` (but for its target platforms), added if new.
    std::size_t merge(StageInstance inst, const Platform& target, Plan& out) const {
        std::string key = instance_key(inst);
        if (auto it = keys_->find(key); it != keys_->end()) {
            StageInstance& existing = out.instances[it->second];
            if (std::find(existing.target_platforms.begin(), existing.target_platforms.end(),
                          target) == existing.target_platforms.end()) {
                existing.target_platforms.push_back(target);
            }
            return existing.index;
        }
        inst.index = out.instances.size();
        keys_->emplace(std::move(key), inst.index);
        inst.target_platforms.push_back(target);
        out.instances.push_back(std::move(inst));
        return out.instances.back().index;
    }

    static std::string instance_key(const StageInstance& inst) {
        StageInstance copy = inst;
        copy.index = 0;
        copy.target_platforms.clear();
        std::string key = dump_instance(copy);
        key += '\n';
        for (const PlannedStep& step : inst.steps) {
            key += dump_step(step);
            key += '\n';
            for (const auto& [k, v] : step.env) {
                key += k + '=' + v + '\0';
            }
        }
        return key;
    }

    const Program& program_;
    const PlanOptions& options_;
    Platform build_;
    ShellLex lex_;
    VarList globals_;
    std::vector<State> states_;
    std::unordered_map<std::string, int> by_name_;
    std::unordered_map<std::string, int> images_;
    std::set<std::string>* consumed_ = nullptr;
    std::unordered_map<std::string, std::size_t>* keys_ = nullptr;  // instance content -> index
    std::vector<std::string> warnings_;
};

}  // namespace

Plan plan(const ParseResult& dockerfile, const PlanOptions& options) {
    const Program program = parse_program(dockerfile);
    Plan out;
    out.file_name = dockerfile.file_name;
    out.build_platform = options.build_platform.value_or(Platform::host());
    std::vector<Platform> targets = options.platforms;
    if (targets.empty()) {
        targets.push_back(out.build_platform);
    }
    std::set<std::string> consumed;
    std::unordered_map<std::string, std::size_t> keys;
    for (const Platform& target : targets) {
        Planner planner(program, options, out.build_platform);
        planner.run(target, out, consumed, keys);
    }
    if (auto warning = unused_build_args_warning(options.build_args, consumed)) {
        out.warnings.push_back(*warning);
    }
    return out;
}

std::vector<Command> parse_onbuild_triggers(const std::vector<std::string>& expressions,
                                            const std::string& file_name,
                                            int start_line,
                                            int end_line) {
    std::vector<Command> out;
    for (const std::string& expression : expressions) {
        ParseOptions options;
        options.file_name = file_name;
        ParseResult ast;
        try {
            ast = parse(expression, options);
        } catch (const DockerfileError& e) {
            throw DockerfileError(file_name, start_line, end_line,
                                  "ONBUILD trigger " + util::go::quote(expression) +
                                      " of the base image: " + e.detail());
        }
        if (ast.instructions.size() != 1) {
            throw DockerfileError(
                file_name, start_line, end_line,
                "onbuild trigger should be a single expression: " + util::go::quote(expression));
        }
        ast.instructions.front().start_line = start_line;
        ast.instructions.front().end_line = end_line;
        out.push_back(parse_command(ast.instructions.front(), file_name));
    }
    return out;
}

}  // namespace xarch::dockerfile
