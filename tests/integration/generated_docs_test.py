#!/usr/bin/env python3
"""The generated man pages and bash completions (cmake/VespidGeneratedDocs.cmake).

Every man page renders with `groff -man -ww` and `man -l` without a warning and names every
command of its program, found by walking the program's own --help (independently of the
generator: a parser that lost commands would lose them from both). Every completion parses;
sourced in bash, its function completes `vespid nodes ap` to approve, `vespid-gateway con` to
config, `vespid --js` to --json, and more (aliases, options inherited by subcommands, option
values skipped, choices).

Usage: generated_docs_test.py BUILD_DIR   (ctest passes it). Needs bash, groff and man-db; a
missing help2man at configure time means no man pages: a skip, a failure in CI.
"""

import os
import re
import subprocess
import sys
import unittest

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/ci"
BIN = os.path.join(BUILD, "bin")
MAN = os.path.join(BUILD, "share", "man", "man1")
COMPLETIONS = os.path.join(BUILD, "share", "bash-completion", "completions")
PROGRAMS = ["vespid-gateway", "vespid", "vespid-agent", "vespid-worker"]


def in_ci():
    return os.environ.get("CI", "") not in ("", "0", "false")


def command_paths(program, words=()):
    """Every command path under `program`, from `--help`: the names in Subcommands sections."""
    out = subprocess.run([os.path.join(BIN, program), *words, "--help"], capture_output=True,
                         text=True, check=True).stdout
    paths, in_section = [], False
    for line in out.splitlines():
        if line.startswith("Subcommands:"):
            in_section = True
        elif in_section and re.match(r"^  \S", line):
            name = line.split()[0].rstrip(",")
            paths.append((*words, name))
            paths += command_paths(program, (*words, name))
        elif not line.startswith("   "):
            in_section = False
    return paths


def complete(program, *words):
    """COMPREPLY of the program's completion function with the cursor on the last word."""
    script = (f'source "{os.path.join(COMPLETIONS, program)}"\n'
              'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n'
              f'_{program.replace("-", "_")}\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", program, *words],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0 or r.stderr:
        raise AssertionError(f"bash completion of {words}: exit {r.returncode}: {r.stderr}")
    return [w for w in r.stdout.splitlines() if w]


class ManPages(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(MAN):
            msg = f"no man pages in {MAN} (help2man was not found when configuring)"
            if in_ci():
                self.fail(msg + "; CI is set, so this is a failure and not a skip")
            self.skipTest(msg)

    def render(self, program):
        page = os.path.join(MAN, program + ".1")
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                           text=True, env=env, check=False)
        self.assertEqual((g.returncode, g.stderr), (0, ""), f"groff on {page}")
        m = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=env, check=False)
        self.assertEqual((m.returncode, m.stderr), (0, ""), f"man -l {page}")
        # man may print bold/underline with backspaces or escapes when not on a terminal.
        return re.sub(r".\x08", "", re.sub(r"\x1b\[[0-9;]*m", "", m.stdout))

    def test_every_page_renders_and_names_every_command(self):
        for program in PROGRAMS:
            with self.subTest(program=program):
                text = self.render(program)
                flat = " ".join(text.split())  # lines wrap and hyphenate where they like
                for section in ("NAME", "SYNOPSIS", "OPTIONS", "ENVIRONMENT", "SEE ALSO"):
                    self.assertRegex(text, rf"(?m)^{section}$", program)
                self.assertIn("--help", flat)
                for path in command_paths(program):
                    self.assertIn(" ".join((program, *path)), flat, program)

    def test_the_walk_finds_the_commands_people_type(self):
        # Guards the check above against a walk that finds nothing.
        self.assertIn(("nodes", "approve"), command_paths("vespid"))
        self.assertIn(("config", "check"), command_paths("vespid-gateway"))
        self.assertIn(("node", "start"), command_paths("vespid-agent"))
        self.assertIn("vespid nodes approve", " ".join(self.render("vespid").split()))


class Completions(unittest.TestCase):
    def test_every_completion_parses_and_registers(self):
        for program in PROGRAMS:
            path = os.path.join(COMPLETIONS, program)
            r = subprocess.run(["bash", "--norc", "-c", f'source "{path}" && complete -p {program}'],
                               capture_output=True, text=True, check=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"-F _{program.replace('-', '_')} {program}", r.stdout)

    def test_subcommands(self):
        self.assertEqual(complete("vespid", "nodes", "ap"), ["approve"])
        self.assertEqual(complete("vespid-gateway", "con"), ["config"])
        self.assertEqual(complete("vespid-agent", "node", "st"), ["start", "status"])
        self.assertEqual(complete("vespid-gateway", "config", ""), ["check", "show"])
        # An alias is a word of its own and leads to the same commands.
        self.assertIn("node", complete("vespid", "no"))
        self.assertEqual(complete("vespid", "node", "app"), ["approve"])

    def test_options(self):
        self.assertEqual(complete("vespid", "--js"), ["--json"])
        self.assertEqual(complete("vespid", "nodes", "approve", "x", "--o"), ["--org"])
        # Global options hold after a command too (vespid org list --json).
        self.assertEqual(complete("vespid", "org", "list", "--js"), ["--json"])
        self.assertEqual(complete("vespid-worker", "--conc"), ["--concurrency"])

    def test_option_values(self):
        # The word after an option that takes a value is its value, not a command.
        self.assertEqual(complete("vespid", "--state-dir", "/nonexistent", "nod"),
                         ["nodes", "node"])
        self.assertEqual(complete("vespid-worker", "--log-level", "d"), ["debug"])
        self.assertEqual(complete("vespid", "--socket", "/nonexistent-dir/x"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
