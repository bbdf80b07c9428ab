#include "src/cli/completion.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "src/cli/man_page.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

/// `text` as one word of bash or zsh source: single-quoted, each ' closed and escaped.
std::string sh_word(std::string_view text) {
    std::string out = "'";
    for (const char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

/// `text` with every character of `special` preceded by a backslash.
std::string escaped(std::string_view text, std::string_view special) {
    std::string out;
    for (const char ch : text) {
        if (special.find(ch) != std::string_view::npos) out += '\\';
        out += ch == '\n' ? ' ' : ch;
    }
    return out;
}

std::string joined(const std::vector<std::string>& words, std::string_view separator = " ") {
    std::string out;
    for (const auto& w : words) out.append(out.empty() ? "" : separator).append(w);
    return out;
}

std::vector<std::string> choice_names(const value_hint& hint) {
    std::vector<std::string> names;
    for (const auto& c : hint.choices) names.push_back(c.name);
    return names;
}

/// The options a command's completion offers: its own, then those it takes from its parent.
std::vector<const option_doc*> completable_options(const command_doc& c) {
    std::vector<const option_doc*> all;
    for (const auto* list : {&c.options, &c.inherited})
        for (const auto& o : *list) all.push_back(&o);
    return all;
}

/// Calls `visit(scope, command)` for the program (scope "") and each of its commands.
template <class Visit>
void for_each_scope(const command_doc& top, Visit visit) {
    visit("", top);
    for (const auto& sub : top.commands) visit(sub.name, sub);
}

/// Case patterns that share one action, in the order the actions first appear.
class case_table {
  public:
    void add(const std::string& pattern, const std::string& action) {
        if (action.empty()) return;
        for (auto& [a, patterns] : rows_)
            if (a == action) {
                patterns.push_back(pattern);
                return;
            }
        rows_.push_back({action, {pattern}});
    }
    /// `pattern|pattern) action ;;` lines.
    std::string text(std::string_view indent) const {
        std::string out;
        for (const auto& [action, patterns] : rows_)
            out.append(indent)
                .append(joined(patterns, "|"))
                .append(")\n")
                .append(indent)
                .append("    ")
                .append(action)
                .append(" ;;\n");
        return out;
    }

  private:
    std::vector<std::pair<std::string, std::vector<std::string>>> rows_;
};

// ---- bash

/// The bash statement completing a value of `hint` from "$2" into COMPREPLY; empty for none.
std::string bash_value_action(const value_hint& hint) {
    switch (hint.kind) {
    case value_kind::none:
    case value_kind::text:
        return "";
    case value_kind::choice:
        return "_synthfeed_add compgen -W " + sh_word(joined(choice_names(hint))) + " -- \"$2\"";
    case value_kind::file:
        return "_synthfeed_files " + sh_word(hint.pattern) + " \"$2\"";
    case value_kind::uri:
        return "_synthfeed_uri " + sh_word(joined(choice_names(hint))) + " \"$2\"";
    }
    return "";
}

/// The generic part of the bash script: the words typed so far decide the scope (the
/// command), and whether an option, an option's value or a positional argument comes next.
constexpr std::string_view bash_engine = R"(
# Appends each line "$@" prints to COMPREPLY.
_synthfeed_add() {
    local line
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <("$@")
}

# Paths completing $2: directories, and the files matching the glob $1 (any when empty).
_synthfeed_files() {
    local before=${#COMPREPLY[@]}
    if [[ -n $1 ]]; then
        _synthfeed_add compgen -d -- "$2"
        _synthfeed_add compgen -f -X "!$1" -- "$2"
    else
        _synthfeed_add compgen -f -- "$2"
    fi
    # Only for paths: it would also escape the ':' of a URI scheme.
    ((${#COMPREPLY[@]} > before)) && compopt -o filenames 2>/dev/null
}

# A stream URI completing $2: a scheme of the list $1 ("kafka://"), or a path, bare or
# after file:.
_synthfeed_uri() {
    if [[ $2 == file:* ]]; then
        _synthfeed_files '' "${2#file:}"
        COMPREPLY=("${COMPREPLY[@]/#/file:}")
    else
        _synthfeed_add compgen -W "$1" -- "$2"
        [[ $2 == *:* ]] || _synthfeed_files '' "$2"
    fi
}

_synthfeed() {
    COMPREPLY=()
    # COMP_WORDBREAKS splits file:PATH and --format=csv into several words: join back those
    # typed without a blank between them (without COMP_LINE, every ':' and '=' word).
    local -a words=()
    local i w glued line=${COMP_LINE-} at=0
    for ((i = 0; i <= COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $line ]]; then
            [[ ${line:at} =~ ^[[:space:]]* ]]
            glued=$((i > 0 && ${#BASH_REMATCH[0]} == 0))
            at=$((at + ${#BASH_REMATCH[0]} + ${#w}))
        else
            glued=$((i > 0))
        fi
        if ((glued)) && [[ $w == [:=]* || ${COMP_WORDS[i - 1]} == *[:=] ]]; then
            words[${#words[@]} - 1]+=$w
        else
            words+=("$w")
        fi
    done
    local cword=$((${#words[@]} - 1))
    local typed=${words[cword]} cur=${words[cword]} prefix=''
    local cmd='' opts valued positionals n=0 dashdash=0
    _synthfeed_scope ''
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if ((dashdash)) || [[ $w != -?* ]]; then
            if [[ -z $cmd && " $_synthfeed_commands " == *" $w "* ]]; then
                cmd=$w
                _synthfeed_scope "$cmd"
            else
                n=$((n + 1))
            fi
        elif [[ $w == -- ]]; then
            dashdash=1
        elif [[ $valued == *" $w "* ]]; then
            i=$((i + 1)) # the option's value
        fi
    done
    local prev=${words[cword - 1]}
    if ((!dashdash)) && [[ $cur == -?*=* ]]; then
        prefix=${cur%%=*}=
        cur=${cur#*=}
        [[ $valued == *" ${prefix%=} "* ]] && _synthfeed_values "$cmd ${prefix%=}" "$cur"
    elif ((!dashdash)) && [[ $cur == -* ]]; then
        _synthfeed_add compgen -W "$opts" -- "$cur"
    elif ((!dashdash && cword > 1)) && [[ $valued == *" $prev "* ]]; then
        _synthfeed_values "$cmd $prev" "$cur"
    elif [[ -z $cmd ]]; then
        _synthfeed_add compgen -W "$_synthfeed_commands" -- "$cur"
    else
        # The positional argument number n, or the last one again when it repeats ('*').
        local -a names=($positionals)
        if ((n < ${#names[@]})); then
            w=${names[n]}
        elif ((${#names[@]})) && [[ ${names[-1]} == *\* ]]; then
            w=${names[-1]}
        else
            w=''
        fi
        [[ -n $w ]] && _synthfeed_values "$cmd ${w%\*}" "$cur"
    fi
    # Readline replaces only what follows the last ':' or '=' that split the word.
    local breaks=${COMP_WORDBREAKS//[^:=]/} before=''
    [[ -n $breaks && $typed == *[$breaks]* ]] && before=${typed%"${typed##*[$breaks]}"}
    for i in "${!COMPREPLY[@]}"; do
        w=$prefix${COMPREPLY[i]}
        COMPREPLY[i]=${w#"$before"}
    done
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[:=/] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -F _synthfeed )";

} // namespace

std::string bash_completion(const command_doc& c) {
    std::string out = "# bash completion for " + c.name + ", generated by `" + c.name +
                      " completion bash` from its command line: do not edit.\n"
                      "# Install as share/bash-completion/completions/" +
                      c.name + ", or run: source <(" + c.name + " completion bash)\n\n";
    std::vector<std::string> commands;
    for (const auto& sub : c.commands) commands.push_back(sub.name);
    out += "_synthfeed_commands=" + sh_word(joined(commands)) + "\n\n";

    out += "# Sets the variables of _synthfeed for the command $1 ('' before one): opts, every "
           "option;\n# valued, those taking a value (' '-delimited); positionals, the "
           "positional arguments\n# in order, '*' after one that repeats.\n"
           "_synthfeed_scope() {\n    case $1 in\n";
    case_table values;
    for_each_scope(c, [&](const std::string& scope, const command_doc& cmd) {
        std::vector<std::string> names, valued, positionals;
        for (const option_doc* o : completable_options(cmd))
            for (const auto& name : o->names) {
                names.push_back(name);
                if (o->takes_value()) valued.push_back(name);
                values.add(sh_word(scope + " " + name), bash_value_action(o->value));
            }
        for (const auto& p : cmd.positionals) {
            positionals.push_back(p.positional + (p.repeatable ? "*" : ""));
            values.add(sh_word(scope + " " + p.positional), bash_value_action(p.value));
        }
        out += "    " + sh_word(scope) + ")\n        opts=" + sh_word(joined(names)) +
               "\n        valued=" + sh_word(" " + joined(valued) + " ") +
               "\n        positionals=" + sh_word(joined(positionals)) + " ;;\n";
    });
    out += "    esac\n}\n\n"
           "# Adds to COMPREPLY the values completing $2 for the option or positional argument "
           "$1,\n# \"COMMAND NAME\".\n_synthfeed_values() {\n    case $1 in\n" +
           values.text("    ") + "    esac\n}\n";
    out += bash_engine;
    return out + c.name + "\n";
}

// ---- zsh

namespace {

/// `text` inside an _arguments description: [ ] \ escaped.
std::string zsh_description(std::string_view text) {
    return escaped(text, "[]\\");
}

std::string zsh_uri_function(std::size_t index) {
    return "_synthfeed_uri_" + std::to_string(index);
}

/// The zsh functions completing the stream URI hints met so far, one a distinct scheme list.
class zsh_uri_functions {
  public:
    /// The function completing `hint` (a uri one).
    std::string name_for(const value_hint& hint) {
        const std::vector<std::string> names = choice_names(hint);
        for (std::size_t i = 0; i < lists_.size(); ++i)
            if (choice_names(lists_[i]) == names) return zsh_uri_function(i + 1);
        lists_.push_back(hint);
        return zsh_uri_function(lists_.size());
    }
    std::string text() const {
        std::string out;
        for (std::size_t i = 0; i < lists_.size(); ++i) {
            out += "# A stream URI: a scheme, or a path (bare or after file:).\n" +
                   zsh_uri_function(i + 1) +
                   "() {\n    if compset -P 'file:'; then\n        _files\n        return\n"
                   "    fi\n    local -a schemes=(\n";
            for (const auto& c : lists_[i].choices)
                out += "        " + sh_word(escaped(c.name, ":") + ":" + c.summary) + "\n";
            out += "    )\n    local ret=1\n"
                   "    _describe -t schemes 'URI scheme' schemes -S '' && ret=0\n"
                   "    _files && ret=0\n    return ret\n}\n\n";
        }
        return out;
    }

  private:
    std::vector<value_hint> lists_;
};

/// The _arguments action completing a value of `hint`.
std::string zsh_value_action(const value_hint& hint, zsh_uri_functions& uris) {
    switch (hint.kind) {
    case value_kind::none:
    case value_kind::text:
        return " ";
    case value_kind::choice: {
        bool described = false;
        for (const auto& c : hint.choices) described = described || !c.summary.empty();
        if (!described) return "(" + joined(choice_names(hint)) + ")";
        std::string items;
        for (const auto& c : hint.choices)
            items += (items.empty() ? "" : " ") + escaped(c.name, ":\\ ") + "\\:\"" +
                     escaped(c.summary, "\"\\$`") + "\"";
        return "((" + items + "))";
    }
    case value_kind::file:
        return hint.pattern.empty() ? "_files" : "_files -g \"" + hint.pattern + "(-.)\"";
    case value_kind::uri:
        return uris.name_for(hint);
    }
    return " ";
}

/// The _arguments specs of an option, one a name: "(excluded)*--name=[description]:msg:action".
std::vector<std::string> zsh_option_specs(const option_doc& o, zsh_uri_functions& uris) {
    std::vector<std::string> excluded = o.excludes;
    if (o.ends_parsing)
        excluded = {"-", "*"};
    else if (!o.repeatable && o.names.size() > 1)
        excluded.insert(excluded.end(), o.names.begin(), o.names.end());
    const std::string exclusion = excluded.empty() ? "" : "(" + joined(excluded) + ")";
    std::string message = o.display_name();
    message.erase(0, message.find_first_not_of('-'));
    std::vector<std::string> specs;
    for (const auto& name : o.names) {
        std::string spec = exclusion + (o.repeatable ? "*" : "") + name;
        if (o.takes_value()) spec += name.size() == 2 ? "+" : "=";
        spec += "[" + zsh_description(o.description) + "]";
        if (o.takes_value()) spec += ":" + message + ":" + zsh_value_action(o.value, uris);
        specs.push_back(sh_word(spec));
    }
    return specs;
}

std::string zsh_positional_spec(const option_doc& p, zsh_uri_functions& uris) {
    return sh_word(std::string(p.repeatable ? "*" : "") + ":" + p.positional + ":" +
                   zsh_value_action(p.value, uris));
}

/// "_arguments -S \\\n    spec \\\n    …" for the specs of `cmd` and `extra` ones.
std::string zsh_arguments(std::string_view flags, const command_doc& cmd,
                          const std::vector<std::string>& extra, zsh_uri_functions& uris) {
    std::vector<std::string> specs;
    for (const option_doc* o : completable_options(cmd))
        for (auto& spec : zsh_option_specs(*o, uris)) specs.push_back(std::move(spec));
    for (const auto& p : cmd.positionals) specs.push_back(zsh_positional_spec(p, uris));
    specs.insert(specs.end(), extra.begin(), extra.end());
    std::string out = "_arguments " + std::string(flags);
    for (const auto& s : specs) out += " \\\n        " + s;
    return out;
}

} // namespace

std::string zsh_completion(const command_doc& c) {
    zsh_uri_functions uris;
    std::string commands_text;
    for (const auto& sub : c.commands)
        commands_text += "_synthfeed_" + sub.name + "() {\n    " +
                         zsh_arguments("-S", sub, {}, uris) + "\n}\n\n";
    std::string list;
    std::string dispatch;
    for (const auto& sub : c.commands) {
        list += "            " + sh_word(escaped(sub.name, ":") + ":" + sub.description) + "\n";
        dispatch +=
            "            " + sh_word(sub.name) + ") _synthfeed_" + sub.name + " && ret=0 ;;\n";
    }
    const std::string top =
        zsh_arguments("-C -S", c, {sh_word(": :->command"), sh_word("*:: :->argument")}, uris);

    std::string out = "#compdef " + c.name + "\n# zsh completion for " + c.name +
                      ", generated by `" + c.name +
                      " completion zsh` from its command line: do not edit.\n# Install as "
                      "_" +
                      c.name + " in a directory of $fpath, or run (after compinit): source <(" +
                      c.name + " completion zsh)\n\n";
    out += uris.text() + commands_text;
    out += "_synthfeed() {\n"
           "    local curcontext=$curcontext state state_descr line ret=1\n"
           "    typeset -A opt_args\n    " +
           top + " && ret=0\n    case $state in\n    command)\n        local -a commands=(\n" +
           list +
           "        )\n        _describe -t commands command commands && ret=0\n        ;;\n"
           "    argument)\n        curcontext=${curcontext%:*:*}:" +
           c.name + "-$words[1]:\n        case $words[1] in\n" + dispatch +
           "        esac\n        ;;\n    esac\n    return ret\n}\n\n"
           "# Autoloaded from $fpath, the file is the function's body; sourced, it registers it.\n"
           "if [[ $funcstack[1] == _synthfeed ]]; then\n    _synthfeed \"$@\"\nelse\n"
           "    compdef _synthfeed " +
           c.name + "\nfi\n";
    return out;
}

// ---- the commands

doc_commands::doc_commands(CLI::App& app, std::string version)
    : app_(app), version_(std::move(version)) {
    completion_ = app.add_subcommand(
        "completion", "print a shell completion script: source <(synthfeed completion bash)");
    completion_->add_option("shell", shell_, "bash or zsh")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh"}));
    man_ = app.add_subcommand("man", "print the man page (roff): synthfeed man | man -l -");
    man_->group(""); // hidden: the build installs the page
}

std::optional<int> doc_commands::run() const {
    if (!*completion_ && !*man_) return std::nullopt;
    const command_doc doc = describe_command_line(app_);
    const std::string text = *man_             ? man_page(doc, version_)
                             : shell_ == "zsh" ? zsh_completion(doc)
                                               : bash_completion(doc);
    std::fputs(text.c_str(), stdout);
    return std::fflush(stdout) == 0 && !std::ferror(stdout) ? exit_ok : exit_runtime_failure;
}

} // namespace synthfeed
