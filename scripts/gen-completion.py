#!/usr/bin/env python3
"""Shell completion (and a man page COMMANDS section) for one Vespid program, from its --help.

The programs parse their command lines with CLI11, whose --help has a fixed shape: a
description, a Usage line, then sections ("Options:", "Subcommands:", "Positionals:") of entries
indented by two spaces, whose text may wrap onto lines indented further. This walks the
command tree by running `<prog> <sub>... --help` for every subcommand, so the completion can
never drift from the program it completes: it is regenerated from the binary at build time.

Usage:
  gen-completion.py PROGRAM [--name NAME] [--bash FILE] [--h2m FILE] [--dump]

  --bash FILE  a bash completion script (also loads in zsh after `bashcompinit`)
  --h2m FILE   a help2man include file with a COMMANDS section: every command path, its
               description and its own options
  --dump       print the parsed tree as JSON (for debugging the parser)
Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HEADER = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")
SPLIT = re.compile(r"\s{2,}")
CHOICES = re.compile(r":\{([^}]*)\}")
# Options whose value is a path, by name: complete file (or directory) names for them.
DIR_OPTION = re.compile(r"dir$")
FILE_OPTION = re.compile(r"(config|file|socket|cert|key|payload|path|spec)$")


def run_help(program, words):
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    r = subprocess.run([program, *words, "--help"], capture_output=True, text=True, env=env,
                       timeout=30, check=False)
    if r.returncode != 0:
        sys.exit(f"gen-completion: `{' '.join([program, *words, '--help'])}` exited "
                 f"{r.returncode}: {r.stderr.strip()}")
    return r.stdout


def entries(text):
    """{section: [(spec, description)]} for the entry sections of one --help text."""
    out, section, current = {}, None, None
    lines = text.splitlines()
    for line in lines:
        m = HEADER.match(line)
        if m:
            section, current = m.group(1), None
            out.setdefault(section, [])
            continue
        if section is None:
            continue
        if not line.strip() or not line.startswith(" "):
            section, current = None, None
            continue
        if line.startswith("  ") and not line.startswith("   "):
            parts = SPLIT.split(line.strip(), maxsplit=1)
            current = [parts[0], parts[1] if len(parts) > 1 else ""]
            out[section].append(current)
        elif current is not None:  # a wrapped spec's description, or a wrapped description
            current[1] = (current[1] + " " + line.strip()).strip()
    return out


def description(text):
    """The text before the Usage line: what the command does."""
    head = text.split("\nUsage:", 1)[0] if "\nUsage:" in text else ""
    return " ".join(head.split())


def examples_and_footer(text):
    """The Examples block (lines as printed) and the paragraphs of text after it."""
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if re.match(r"^Examples?:\s*$", l)), None)
    if start is None:
        return [], []
    i, examples = start + 1, []
    while i < len(lines) and lines[i].startswith(" "):
        examples.append(lines[i].rstrip())
        i += 1
    paragraphs = []
    for line in lines[i:]:
        if not line.strip():
            paragraphs.append([])
        elif not paragraphs or re.match(r"^(Exit codes|Environment):", line):
            paragraphs.append([line.strip()])
        else:
            paragraphs[-1].append(line.strip())
    return examples, [" ".join(p) for p in paragraphs if p]


def parse_option(spec, desc):
    first, _, rest = spec.partition(" ")
    names = [n for n in first.split(",") if n.startswith("-")]
    choices = CHOICES.search(rest)
    return {
        "names": names,
        "value": rest.split(" ")[0] if rest else "",  # TEXT, INT:INT, TEXT:{a,b}
        "choices": choices.group(1).split(",") if choices else [],
        "description": desc,
    }


def walk(program, words=()):
    text = run_help(program, list(words))
    sec = entries(text)
    node = {
        "path": list(words),
        "description": description(text),
        "usage": next((l[len("Usage: "):] for l in text.splitlines()
                       if l.startswith("Usage: ")), ""),
        "options": [parse_option(s, d) for s, d in sec.get("Options", [])],
        "positionals": [s.split(" ")[0] for s, _ in sec.get("Positionals", [])],
        "subcommands": [],
    }
    if not words:
        node["examples"], node["footer"] = examples_and_footer(text)
    for spec, desc in sec.get("Subcommands", []):
        names = [n.strip() for n in spec.split(",") if n.strip()]
        child = walk(program, (*words, names[0]))
        child["names"] = names
        child["summary"] = desc
        node["subcommands"].append(child)
    return node


def nodes(tree):
    yield tree
    for c in tree["subcommands"]:
        yield from nodes(c)


def sh_quote(words):
    return " ".join(words)


def option_kind(opt):
    long_names = [n for n in opt["names"] if n.startswith("--")]
    name = long_names[0][2:] if long_names else ""
    if opt["choices"]:
        return "choices"
    if DIR_OPTION.search(name):
        return "dir"
    if FILE_OPTION.search(name):
        return "file"
    return "value"


def bash(tree, name):
    fn = "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    lines = [
        f"# bash completion for {name}, generated from `{name} --help` by scripts/gen-completion.py.",
        "# Do not edit: it is rebuilt from the program. zsh: autoload -U +X bashcompinit &&",
        "# bashcompinit, then source this file.",
        "",
        f"# The subcommand a word names at a command path (aliases give their canonical name).",
        f"{fn}_sub() {{",
        '  case "$1|$2" in',
    ]
    for n in nodes(tree):
        path = sh_quote(n["path"])
        for c in n["subcommands"]:
            pats = " | ".join(f'"{path}|{a}"' for a in c["names"])
            lines.append(f"    {pats}) echo {c['names'][0]} ;;")
    lines += ["    *) return 1 ;;", "  esac", "}", ""]

    # Options apply to their command and, the programs falling through, to every subcommand.
    def inherited(n, by_path):
        opts = []
        for i in range(len(n["path"]) + 1):
            opts += by_path[tuple(n["path"][:i])]["options"]
        return opts

    by_path = {tuple(n["path"]): n for n in nodes(tree)}
    lines += ["# Words to offer at a command path: its subcommands, then its options.", f"{fn}_words() {{",
              '  case "$1" in']
    for n in nodes(tree):
        subs = [a for c in n["subcommands"] for a in c["names"]]
        lines.append(f'    "{sh_quote(n["path"])}") echo "{" ".join(subs)}" ;;')
    lines += ["  esac", "}", "", f"{fn}_options() {{", '  case "$1" in']
    for n in nodes(tree):
        names = []
        for o in inherited(n, by_path):
            names += [x for x in o["names"] if x not in names]
        lines.append(f'    "{sh_quote(n["path"])}") echo "{" ".join(names)}" ;;')
    lines += ["  esac", "}", ""]
    lines += ["# How the value of an option is completed: none (a flag), value, file, dir, or the",
              "# choices after a colon.", f"{fn}_value() {{", '  case "$1|$2" in']
    for n in nodes(tree):
        for o in inherited(n, by_path):
            if not o["value"]:
                continue
            kind = option_kind(o)
            if kind == "choices":
                kind = "choices:" + " ".join(o["choices"])
            pats = " | ".join(f'"{sh_quote(n["path"])}|{x}"' for x in o["names"])
            lines.append(f'    {pats}) echo "{kind}" ;;')
    lines += ["    *) echo none ;;", "  esac", "}", ""]
    lines += [
        f"{fn}() {{",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" path="" word kind i skip=0 sub',
        "  COMPREPLY=()",
        "  # Walk the words before the cursor: a subcommand extends the path, an option that takes",
        "  # a value also takes the next word.",
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    word="${COMP_WORDS[i]}"',
        "    if ((skip)); then skip=0; continue; fi",
        '    case "$word" in',
        "      --*=*) continue ;;",
        f'      -*) [[ "$({fn}_value "$path" "$word")" != none ]] && skip=1; continue ;;',
        "    esac",
        f'    if sub="$({fn}_sub "$path" "$word")"; then path="${{path:+$path }}$sub"; fi',
        "  done",
        "  if ((skip)); then",
        f'    kind="$({fn}_value "$path" "${{COMP_WORDS[COMP_CWORD - 1]}}")"',
        '    case "$kind" in',
        '      choices:*) COMPREPLY=($(compgen -W "${kind#choices:}" -- "$cur")) ;;',
        '      dir) COMPREPLY=($(compgen -d -- "$cur")) ;;',
        '      file) COMPREPLY=($(compgen -f -- "$cur")) ;;',
        "    esac",
        "    return 0",
        "  fi",
        '  if [[ "$cur" == -* ]]; then',
        f'    COMPREPLY=($(compgen -W "$({fn}_options "$path")" -- "$cur"))',
        "  else",
        f'    COMPREPLY=($(compgen -W "$({fn}_words "$path")" -- "$cur"))',
        "  fi",
        "  return 0",
        "}",
        "",
        f"complete -F {fn} {name}",
        "",
    ]
    return "\n".join(lines)


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def h2m(tree, name):
    """A help2man include: [COMMANDS] with every command path, its usage and its options, and
    [EXAMPLES] with the examples as printed (help2man would fill their columns into one
    paragraph) followed by the notes after them (exit codes, ...)."""
    out = []
    if tree.get("examples"):
        out += ["[=EXAMPLES]", ".nf", *[roff(l) for l in tree["examples"]], ".fi"]
        for p in tree.get("footer", []):
            out += [".PP", roff(p)]
    if not tree["subcommands"]:
        return "\n".join(out) + "\n"
    out += ["[COMMANDS]",
            f"Every command of \\fB{roff(name)}\\fR; each also answers \\fB\\-\\-help\\fR."]
    for n in list(nodes(tree))[1:]:
        usage = n["usage"]
        full = " ".join([name, *n["path"]])
        rest = usage[len(full):] if usage.startswith(full) else ""
        rest = " ".join(w for w in rest.split() if w != "[OPTIONS]")
        aliases = n["names"][1:]
        out += [".TP", f"\\fB{roff(full)}\\fR" + (f" {roff(rest)}" if rest else ""),
                roff(n["description"] or n["summary"])]
        if aliases:
            out.append(f"(also \\fB{roff(' '.join([name, *n['path'][:-1], aliases[0]]))}\\fR)")
        own = [o for o in n["options"] if o["names"] != ["-h", "--help"]]
        if own:
            out.append(".RS")
            for o in own:
                spec = ", ".join(f"\\fB{roff(x)}\\fR" for x in o["names"])
                if o["value"]:
                    spec += f" \\fI{roff(o['value'].split(':')[0])}\\fR"
                out += [".TP", spec, roff(o["description"])]
            out.append(".RE")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("program")
    ap.add_argument("--name", help="the program's name (default: the file's name)")
    ap.add_argument("--bash")
    ap.add_argument("--h2m")
    ap.add_argument("--dump", action="store_true")
    a = ap.parse_args()
    name = a.name or os.path.basename(a.program)
    tree = walk(os.path.abspath(a.program))
    if a.dump:
        json.dump(tree, sys.stdout, indent=1)
    for path, text in ((a.bash, bash(tree, name) if a.bash else ""),
                       (a.h2m, h2m(tree, name) if a.h2m else "")):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
