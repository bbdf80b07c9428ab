// `synthfeed completion bash|zsh` and `synthfeed man`: the scripts complete what the parser
// accepts, and name every option --help shows (the drift check), and the page renders.
#include <algorithm>
#include <map>
#include <regex>

#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

namespace synthfeed {
namespace {

using testing::has_program;
using testing::process_result;
using testing::read_file;
using testing::run_shell;
using testing::run_synthfeed;
using testing::sh_quoted;
using testing::write_file;

/// The words bash's completion would see for a line typed so far: split at blanks, and at
/// the COMP_WORDBREAKS characters ':' and '=' into words of their own.
std::vector<std::string> comp_words(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool breaks = false; // whether `word` is made of ':' and '='
    for (const char ch : line) {
        const bool blank = ch == ' ';
        const bool is_break = ch == ':' || ch == '=';
        if (blank || (!word.empty() && is_break != breaks)) {
            if (!word.empty()) words.push_back(word);
            word.clear();
        }
        if (!blank) word += ch;
        breaks = is_break;
    }
    words.push_back(word); // the word being completed, empty after a blank
    return words;
}

/// Everything --help shows of each command: its options' names and its positional arguments.
struct help_entry {
    std::vector<std::string> options;
    std::vector<std::string> positionals;
};

/// Reads CLI11's help: "  -h,--help  …" under Options:, "  profile TEXT …" under Positionals:.
help_entry parse_help(const std::string& help) {
    help_entry e;
    std::string section;
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != ' ') section = line;
        if (line.rfind("  ", 0) != 0 || line.size() < 3 || line[2] == ' ') continue;
        const std::string first = line.substr(2, line.find(' ', 2) - 2);
        if (section == "Positionals:") e.positionals.push_back(first);
        if (section != "Options:") continue;
        std::istringstream names(first);
        for (std::string name; std::getline(names, name, ',');) e.options.push_back(name);
    }
    return e;
}

/// The commands `synthfeed --help` lists.
std::vector<std::string> listed_commands() {
    std::vector<std::string> commands;
    std::istringstream in(run_synthfeed("--help").out);
    bool in_list = false;
    for (std::string line; std::getline(in, line);) {
        if (line == "Subcommands:")
            in_list = true;
        else if (in_list && line.rfind("  ", 0) == 0)
            commands.push_back(line.substr(2, line.find(' ', 2) - 2));
        else if (in_list)
            break;
    }
    return commands;
}

/// The names of a section of `synthfeed list` ("payload formats (--format)").
std::vector<std::string> listed_kinds(const std::string& title) {
    std::vector<std::string> names;
    std::istringstream in(run_synthfeed("list").out);
    bool in_section = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(title, 0) == 0)
            in_section = true;
        else if (in_section && line.rfind("  ", 0) == 0 && line[2] != ' ')
            names.push_back(line.substr(2, line.find(' ', 2) - 2));
        else if (in_section && line.rfind("  ", 0) != 0)
            break;
    }
    return names;
}

class Completion : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = testing::temp_dir("completion");
        for (const std::string shell : {"bash", "zsh"}) {
            const auto r = run_synthfeed("completion " + shell);
            ASSERT_EQ(r.exit_code, exit_ok) << r.err;
            write_file(dir_ / shell, r.out);
        }
        const auto man = run_synthfeed("man");
        ASSERT_EQ(man.exit_code, exit_ok) << man.err;
        write_file(dir_ / "synthfeed.1", man.out);
        // A directory to complete paths in.
        std::filesystem::create_directories(dir_ / "files" / "sub");
        write_file(dir_ / "files" / "a.toml", "");
        write_file(dir_ / "files" / "b.txt", "");
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    /// What bash completes for `line` (typed so far, in the `files` directory), one a line,
    /// sorted; with COMP_LINE set as bash sets it, or without (as some callers leave it).
    static std::vector<std::string> complete(const std::string& line, bool with_line = true) {
        const auto words = comp_words(line);
        std::string script = "cd " + sh_quoted((dir_ / "files").string()) + " || exit 9\n" +
                             "source " + sh_quoted((dir_ / "bash").string()) + "\nCOMP_WORDS=(";
        for (const auto& w : words) script += sh_quoted(w) + " ";
        script += ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) + "\n";
        if (with_line) script += "COMP_LINE=" + sh_quoted(line) + "\nCOMP_POINT=${#COMP_LINE}\n";
        script += "_synthfeed || exit 8\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
        write_file(dir_ / "complete.sh", script);
        const process_result r = run_shell("bash " + sh_quoted((dir_ / "complete.sh").string()));
        EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.err;
        EXPECT_EQ(r.err, "") << line;
        std::vector<std::string> replies;
        std::istringstream in(r.out);
        for (std::string reply; std::getline(in, reply);)
            if (!reply.empty()) replies.push_back(reply);
        std::sort(replies.begin(), replies.end());
        return replies;
    }

    /// What zsh completes for each of `lines` (typed in the `files` directory), sorted: an
    /// interactive zsh on a pseudo-terminal (zpty) whose compadd records each match. A widget
    /// completes one line a key; the next key waits for its end mark, as zsh skips completing
    /// while keys are pending.
    static std::map<std::string, std::vector<std::string>>
    zsh_complete(const std::vector<std::string>& lines) {
        const std::string hits = (dir_ / "zsh-hits").string();
        const std::string cases = (dir_ / "zsh-cases").string();
        std::filesystem::remove(hits);
        std::string case_lines;
        for (const auto& line : lines) case_lines += line + "\n";
        write_file(cases, case_lines);
        std::filesystem::create_directories(dir_ / "fpath");
        std::filesystem::copy_file(dir_ / "zsh", dir_ / "fpath" / "_synthfeed",
                                   std::filesystem::copy_options::overwrite_existing);
        // No listing (autolist): no "do you wish to see all N possibilities?" question.
        const std::string script =
            "zmodload zsh/zpty\nzpty z zsh -f -i\n"
            "zpty -w z \"PS1=''; unsetopt autolist; fpath=(" +
            (dir_ / "fpath").string() + " \\$fpath); autoload -Uz compinit; compinit -u -D; cd " +
            (dir_ / "files").string() +
            "\"\n"
            "zpty -w z 'synthfeed() { }'\n"
            "zpty -w z 'compadd() { local -a m; builtin compadd -O m \"$@\"; "
            "print -rl -- $m >> " +
            hits +
            "; builtin compadd \"$@\" }'\n"
            "zpty -w z 'cases=(\"${(@f)$(<" +
            cases +
            ")}\"); i=0'\n"
            "zpty -w z '_t() { (( ++i )); print -r -- \"== $cases[i]\" >> " +
            hits + "; BUFFER=$cases[i]; CURSOR=$#BUFFER; zle complete-word; print -r -- @end >> " +
            hits +
            "; BUFFER=\"\" }; zle -N _t; bindkey \"^T\" _t'\n"
            "for ((k = 1; k <= " +
            std::to_string(lines.size()) +
            "; k++)); do\n"
            "    zpty -n -w z $'\\C-t'\n"
            "    for j in {1..250}; do # 5 s\n"
            "        [[ -e " +
            hits + " ]] && (( $(grep -c '^@end$' " + hits +
            ") >= k )) && break\n"
            "        sleep 0.02\n"
            "    done\n"
            "done\n"
            "zpty -d z\n";
        write_file(dir_ / "complete.zsh", script);
        const auto r = run_shell("zsh -f " + sh_quoted((dir_ / "complete.zsh").string()));
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::map<std::string, std::vector<std::string>> results;
        std::vector<std::string>* current = nullptr;
        std::size_t ends = 0;
        std::istringstream in(read_file(hits));
        for (std::string hit; std::getline(in, hit);) {
            if (hit == "@end")
                ++ends;
            else if (hit.rfind("== ", 0) == 0)
                current = &results[hit.substr(3)];
            else if (current != nullptr && !hit.empty() && !contains(*current, hit))
                current->push_back(hit);
        }
        EXPECT_EQ(ends, lines.size()) << "zsh completed only " << ends << " lines of\n" << script;
        for (auto& [line, matches] : results) std::sort(matches.begin(), matches.end());
        return results;
    }

    static bool contains(const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    }
    static std::vector<std::string> sorted(std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    }

    static inline std::filesystem::path dir_;
};

TEST_F(Completion, TheBashScriptParses) {
    const auto r = run_shell("bash -n " + sh_quoted((dir_ / "bash").string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
}

TEST_F(Completion, TheZshScriptParses) {
    if (!has_program("zsh")) GTEST_SKIP() << "zsh is not installed (scripts/setup installs it)";
    const auto r = run_shell("zsh -n " + sh_quoted((dir_ / "zsh").string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
}

TEST_F(Completion, BashCompletesCommands) {
    EXPECT_EQ(complete("synthfeed r"), std::vector<std::string>{"run"});
    EXPECT_EQ(complete("synthfeed v"), (std::vector<std::string>{"validate", "verify"}));
    // Every command --help lists, and no hidden one (man).
    EXPECT_EQ(complete("synthfeed "), sorted(listed_commands()));
    EXPECT_FALSE(contains(complete("synthfeed "), "man"));
    EXPECT_EQ(complete("synthfeed --log-level debug r"), std::vector<std::string>{"run"});
}

TEST_F(Completion, BashCompletesTheOptionsOfTheCommand) {
    const auto run = complete("synthfeed run --");
    for (const char* option : {"--threshold", "--rate", "--format", "--sink", "--stage"})
        EXPECT_TRUE(contains(run, option)) << option;
    EXPECT_TRUE(contains(run, "--log-level")) << "the program's options follow a command too";
    EXPECT_FALSE(contains(run, "--strict-order")) << "verify's";
    EXPECT_EQ(complete("synthfeed run --thres"), std::vector<std::string>{"--threshold"});
    EXPECT_EQ(complete("synthfeed --"),
              (std::vector<std::string>{"--help", "--log-level", "--version"}));
    EXPECT_TRUE(contains(complete("synthfeed verify --"), "--strict-order"));
}

TEST_F(Completion, BashCompletesFixedValuesFromTheTables) {
    const auto formats = sorted(listed_kinds("payload formats (--format)"));
    ASSERT_GE(formats.size(), 3u);
    EXPECT_EQ(complete("synthfeed run --format "), formats);
    EXPECT_EQ(complete("synthfeed run --format ", false), formats);
    EXPECT_EQ(complete("synthfeed run --format c"), std::vector<std::string>{"csv"});
    EXPECT_EQ(complete("synthfeed run --format=c"), std::vector<std::string>{"csv"});
    EXPECT_EQ(complete("synthfeed run --format="), formats);
    EXPECT_EQ(complete("synthfeed run --labels-format "),
              sorted(listed_kinds("label formats (--labels-format)")));
    // --log-level's CLI::IsMember check, before and after a command.
    const std::vector<std::string> levels{"debug", "error", "info", "off", "trace", "warn"};
    EXPECT_EQ(complete("synthfeed --log-level "), levels);
    EXPECT_EQ(complete("synthfeed run --log-level "), levels);
    EXPECT_EQ(complete("synthfeed completion "), (std::vector<std::string>{"bash", "zsh"}));
    // Free text: nothing to offer.
    EXPECT_EQ(complete("synthfeed run --count "), std::vector<std::string>{});
}

TEST_F(Completion, BashCompletesProfilesAsTomlFiles) {
    const std::vector<std::string> toml{"a.toml", "sub"};
    EXPECT_EQ(complete("synthfeed run "), toml);
    EXPECT_EQ(complete("synthfeed run --format json "), toml) << "after an option's value";
    EXPECT_EQ(complete("synthfeed run --label-in-payload "), toml) << "after a flag";
    EXPECT_EQ(complete("synthfeed validate a.toml "), toml) << "validate takes many";
    EXPECT_EQ(complete("synthfeed run a.toml "), std::vector<std::string>{}) << "run takes one";
    EXPECT_EQ(complete("synthfeed run -- "), toml);
    EXPECT_EQ(complete("synthfeed run --summary-json "),
              (std::vector<std::string>{"a.toml", "b.txt", "sub"}));
}

TEST_F(Completion, BashCompletesStreamUris) {
    const auto sinks = complete("synthfeed run --sink ");
    for (const char* scheme : {"null:", "stdout:", "file:", "kafka://", "mqtt://"})
        EXPECT_TRUE(contains(sinks, scheme)) << scheme;
    EXPECT_TRUE(contains(sinks, "a.toml")) << "a bare path is a file";
    EXPECT_EQ(complete("synthfeed run --sink k"), std::vector<std::string>{"kafka://"});
    // Readline replaces what follows the last ':' (COMP_WORDBREAKS): so do the replies.
    EXPECT_EQ(complete("synthfeed run --sink file:a"), std::vector<std::string>{"a.toml"});
    EXPECT_EQ(complete("synthfeed run --sink file:a", false), std::vector<std::string>{"a.toml"});
    EXPECT_EQ(complete("synthfeed run --sink file:"),
              (std::vector<std::string>{"a.toml", "b.txt", "sub"}));
    EXPECT_EQ(complete("synthfeed run --sink kafka:"), std::vector<std::string>{"//"});
    // A word after a URI is no longer part of it.
    EXPECT_EQ(complete("synthfeed run --sink stdout: --format c"), std::vector<std::string>{"csv"});
    // verify reads streams back: only the schemes that can be read.
    const auto sources = complete("synthfeed verify ");
    EXPECT_TRUE(contains(sources, "kafka://"));
    EXPECT_FALSE(contains(sources, "stdout:"));
}

TEST_F(Completion, ZshCompletesCommandsOptionsAndValues) {
    if (!has_program("zsh")) GTEST_SKIP() << "zsh is not installed (scripts/setup installs it)";
    const auto formats = sorted(listed_kinds("payload formats (--format)"));
    const std::vector<std::string> lines{"synthfeed r",
                                         "synthfeed run --format ",
                                         "synthfeed run --thres",
                                         "synthfeed run ",
                                         "synthfeed --log-level ",
                                         "synthfeed run --sink ",
                                         "synthfeed verify ",
                                         "synthfeed run --rate 5 --st",
                                         "synthfeed completion ",
                                         "synthfeed run --sink file:a"};
    auto zsh = zsh_complete(lines);
    EXPECT_EQ(zsh["synthfeed r"], std::vector<std::string>{"run"});
    EXPECT_EQ(zsh["synthfeed run --format "], formats);
    EXPECT_EQ(zsh["synthfeed run --thres"], std::vector<std::string>{"--threshold"});
    EXPECT_EQ(zsh["synthfeed run "], (std::vector<std::string>{"a.toml", "sub"}));
    EXPECT_EQ(zsh["synthfeed --log-level "],
              (std::vector<std::string>{"debug", "error", "info", "off", "trace", "warn"}));
    for (const char* scheme : {"null:", "stdout:", "file:", "kafka://", "mqtt://", "a.toml"})
        EXPECT_TRUE(contains(zsh["synthfeed run --sink "], scheme)) << scheme;
    EXPECT_TRUE(contains(zsh["synthfeed verify "], "kafka://"));
    EXPECT_FALSE(contains(zsh["synthfeed verify "], "stdout:"));
    EXPECT_EQ(zsh["synthfeed run --rate 5 --st"], std::vector<std::string>{"--start"})
        << "--stage excludes --rate";
    EXPECT_EQ(zsh["synthfeed completion "], (std::vector<std::string>{"bash", "zsh"}));
    EXPECT_EQ(zsh["synthfeed run --sink file:a"], std::vector<std::string>{"a.toml"});
}

// The drift check: everything --help shows of every command, the script completes, and the
// man page describes (the options' names as roff writes them, with \- for each '-').
TEST_F(Completion, EveryOptionOfEveryCommandIsCompletedAndInTheManPage) {
    const std::string page = read_file(dir_ / "synthfeed.1");
    auto roff = [](const std::string& name) {
        return std::regex_replace(name, std::regex("-"), "\\-");
    };
    std::vector<std::string> commands = listed_commands();
    ASSERT_GE(commands.size(), 5u);
    commands.insert(commands.begin(), ""); // the program itself
    auto typed = [](const std::string& command) {
        return "synthfeed " + command + (command.empty() ? "" : " ") + "-";
    };
    std::vector<std::string> lines;
    for (const auto& command : commands) lines.push_back(typed(command));
    const bool zsh_here = has_program("zsh");
    auto zsh = zsh_here ? zsh_complete(lines) : decltype(zsh_complete(lines)){};
    for (const std::string& command : commands) {
        const auto help = parse_help(run_synthfeed(command + " --help").out);
        ASSERT_FALSE(help.options.empty()) << command;
        const auto completed = complete(typed(command));
        for (const auto& option : help.options) {
            EXPECT_TRUE(contains(completed, option)) << command << " " << option;
            if (zsh_here) {
                EXPECT_TRUE(contains(zsh[typed(command)], option))
                    << "zsh: " << command << " " << option;
            }
            EXPECT_NE(page.find("\\fB\\%" + roff(option) + "\\fR"), std::string::npos)
                << command << " " << option;
        }
        for (const auto& positional : help.positionals)
            EXPECT_NE(page.find("\\fI\\%" + positional + "\\fR"), std::string::npos)
                << command << " " << positional;
        if (!command.empty()) {
            EXPECT_NE(page.find(".SS " + command + "\n"), std::string::npos) << command;
        }
    }
}

TEST_F(Completion, TheManPageNamesEveryOptionOfRun) {
    const auto help = parse_help(run_synthfeed("run --help").out);
    ASSERT_GE(help.options.size(), 20u);
    if (!has_program("groff")) GTEST_SKIP() << "groff is not installed";
    // As a reader sees it, rendered: run's subsection names each option.
    const auto r =
        run_shell("groff -man -Tutf8 -P-cbou " + sh_quoted((dir_ / "synthfeed.1").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto run_at = r.out.find("\n   run\n");
    ASSERT_NE(run_at, std::string::npos) << r.out;
    const std::string run = r.out.substr(run_at, r.out.find("\n   validate\n") - run_at);
    for (const auto& option : help.options)
        EXPECT_NE(run.find(option), std::string::npos) << option;
}

TEST_F(Completion, TheManPageRendersWithoutWarnings) {
    const std::string page = (dir_ / "synthfeed.1").string();
    const std::string text = read_file(page);
    EXPECT_TRUE(std::all_of(text.begin(), text.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x80;
    })) << "non-ASCII characters are written as \\[uXXXX]";
    if (!has_program("groff")) GTEST_SKIP() << "groff is not installed";
    const auto groff = run_shell("groff -man -Tutf8 -ww -z " + sh_quoted(page));
    EXPECT_EQ(groff.exit_code, 0);
    EXPECT_EQ(groff.err, "");
    if (!has_program("man")) GTEST_SKIP() << "man is not installed";
    const auto man = run_shell("MANWIDTH=80 man --warnings -P cat -l " + sh_quoted(page));
    EXPECT_EQ(man.exit_code, 0) << man.err;
    EXPECT_EQ(man.err, "");
    EXPECT_NE(man.out.find("SYNOPSIS"), std::string::npos);
    EXPECT_NE(man.out.find("--threshold"), std::string::npos) << man.out;
}

TEST_F(Completion, TheBuiltFilesAreTheBinarysOutput) {
    const std::filesystem::path share = SYNTHFEED_DOCS_DIR;
    const std::vector<std::pair<std::string, std::string>> files{
        {"bash-completion/completions/synthfeed", "bash"},
        {"zsh/site-functions/_synthfeed", "zsh"},
        {"man/man1/synthfeed.1", "synthfeed.1"}};
    for (const auto& [built, generated] : files) {
        if (!std::filesystem::exists(share / built))
            GTEST_SKIP() << share / built << " not built (SYNTHFEED_GENERATE_DOCS=OFF)";
        EXPECT_EQ(read_file(share / built), read_file(dir_ / generated)) << built;
    }
}

TEST(CompletionCommand, NamesTheShells) {
    const auto r = run_synthfeed("completion fish");
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find("fish"), std::string::npos) << r.err;
    EXPECT_EQ(run_synthfeed("completion").exit_code, exit_usage);
    EXPECT_EQ(run_synthfeed("--help").out.find("\n  man "), std::string::npos) << "man is hidden";
}

} // namespace
} // namespace synthfeed
