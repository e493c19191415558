"""Mutation testing of the core and the gate logic with mutmut; prints the score per module.

    python bench/mutation.py [--only rules,diff] [--jobs 2] [--work bench/out/mutation] [--revision REV]
                             [--fail-under 90]

mutmut 3 finds the code to mutate in ./, src/ or source/ and names mutants after the
file's path; this project's package lives in scripts/ (the template's layout is fixed),
so mutmut run from the project root can neither guess the source nor match the modules the
tests import (`modelreg.core.rules`) to the mutants it made (`scripts.modelreg.core.rules`).
This runner therefore stages a snapshot of the project in a scratch folder, with the package
under src/ and a [mutmut] section in a setup.cfg of its own, and runs mutmut there: the work
tree is never touched (other people edit it while this runs), and every run starts clean.

Only the fast unit tests run (tests/core and tests/properties: never the e2e suites), and
mutmut runs for each mutant only the tests that executed the mutated function when the
clean suite ran. Hypothesis runs with a fixed seed, so two runs on the same code give the
same score. The score counts a mutant as killed when a test failed or it timed out (an
infinite loop is a detected change); survivors and mutants no test reaches count against it.

Results: the table on stdout, and in the work folder scores.json and survivors.txt (each
surviving mutant's diff, for deciding whether to kill it with a test or list it as
equivalent in docs/testing.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module (under scripts/modelreg) -> the unit tests that may kill its mutants: its own tests, the
# tests of the modules that call it, and the property suites that exercise it. Each mutant runs
# only the ones among these that executed the mutated function in the clean run.
MODULES = {
    "core/rules.py": ["tests/core/test_rules.py", "tests/core/test_document.py", "tests/core/test_schema.py",
                      "tests/core/test_diff.py", "tests/core/test_yaml_types.py", "tests/properties"],
    "core/diff.py": ["tests/core/test_diff.py", "tests/core/test_rules.py"],
    "core/gates.py": ["tests/core/test_gates.py", "tests/core/test_rules.py"],
    "core/transitions.py": ["tests/core/test_transitions.py", "tests/core/test_diff.py"],
    "core/lookup.py": ["tests/core/test_lookup.py", "tests/core/test_registry.py"],
    "core/blockyaml.py": ["tests/properties/test_block_reader.py", "tests/core/test_blockyaml.py"],
    "core/paths.py": ["tests/core/test_paths.py"],
    "core/edit.py": ["tests/core/test_edit.py", "tests/properties/test_properties.py"],
    "core/approvals.py": [],
    "core/policy.py": ["tests/properties/test_yaml_types_properties.py"],
    "core/tags.py": ["tests/core/test_tags.py"],
    "flows/verify.py": [],
}
# and each module's own tests/core/test_<module>_mutants.py, where it exists
EXAMPLES = 30  # hypothesis examples per property test in a mutant's run (the suite runs 200-600)


def module_tests(module: str, root: Path) -> list[str]:
    stem = Path(module).stem
    tests = list(MODULES[module])
    own = f"tests/core/test_{stem}_mutants.py"
    if (root / own).exists():
        tests.append(own)
    return [t for t in tests if (root / t).exists()]


def export(revision: str, into: Path) -> Path:
    """The project's files at a git revision (to measure the score before a change)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision, "scripts/modelreg", "tests", "bench/generate.py", "models",
                              "pyproject.toml"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def stage(source: Path, work: Path, modules: list[str]) -> None:
    """A snapshot of the project laid out the way mutmut expects it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    shutil.copytree(source / "scripts" / "modelreg", work / "src" / "modelreg", ignore=ignore)
    shutil.copytree(source / "tests", work / "tests", ignore=ignore)
    (work / "bench").mkdir()
    shutil.copy2(source / "bench" / "generate.py", work / "bench" / "generate.py")  # tests/core/test_lookup.py uses it
    shutil.copytree(source / "models", work / "models")  # test_schema compares the schema copy there
    shutil.copy2(source / "pyproject.toml", work / "pyproject.toml")  # pytest's options and markers
    tests = sorted({t for m in modules for t in module_tests(m, source)})
    allowed = {"modelreg." + m[:-3].replace("/", "."): module_tests(m, source) for m in modules}
    (work / "mutation_plugin.py").write_text(PLUGIN.replace("ALLOWED = {}", f"ALLOWED = {allowed!r}")
                                             .replace("EXAMPLES = 0", f"EXAMPLES = {EXAMPLES}"))

    def lines(values: list[str]) -> str:
        return "".join(f"\n    {v}" for v in values)

    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = src/modelreg\n"
        f"only_mutate ={lines(['src/modelreg/' + m for m in modules])}\n"
        "also_copy =\n    bench\n    models\n    mutation_plugin.py\n"
        f"pytest_add_cli_args_test_selection ={lines(tests)}\n"
        # a fixed seed: the same code gets the same score; no plugins that make runs differ
        "pytest_add_cli_args =\n    --hypothesis-seed=0\n    -p\n    no:cacheprovider\n    -p\n    no:xdist\n"
        "    -p\n    mutation_plugin\n"
        "use_git_change_detection = false\n"
        "track_dependencies = false\n"
    )


PLUGIN = '''"""pytest plugin for mutation runs only (written by bench/mutation.py into its scratch folder).

- a mutant of module M runs only the tests listed for M (a test of another module that happens to
  call M is slower and proves nothing about M's own tests);
- property tests run EXAMPLES examples, with no example database, so every run is the same, and
  do not shrink a failing example (a mutant needs a failure, not the smallest one: shrinking
  costs seconds per killed mutant).
"""
import os
import re

from hypothesis import Phase, settings

ALLOWED = {}
EXAMPLES = 0


def pytest_collection_modifyitems(config, items):
    for item in items:
        test = getattr(item, "obj", None)
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if current is not None:
            test._hypothesis_internal_use_settings = settings(
                current, max_examples=min(current.max_examples, EXAMPLES), database=None,
                phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False)
    match = re.match(r"(.+?)\\.x(?:_|\u01c1)", os.environ.get("MUTANT_UNDER_TEST", ""))
    if match is None or match.group(1) not in ALLOWED:
        return  # the clean run and the stats run: every test
    prefixes = tuple(ALLOWED[match.group(1)])
    kept = [item for item in items if item.nodeid.startswith(prefixes)]
    dropped = [item for item in items if not item.nodeid.startswith(prefixes)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
'''


STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "killed", None: "not checked"}


def scores(work: Path, modules: list[str]) -> dict:
    result = {}
    for module in modules:
        meta = work / "mutants" / "src" / "modelreg" / (module + ".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        counts: dict[str, int] = {}
        survivors = []
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            counts[status] = counts.get(status, 0) + 1
            if status not in ("killed", "timeout"):
                survivors.append(name)
        total = len(codes)
        detected = counts.get("killed", 0) + counts.get("timeout", 0)
        result[module] = {"total": total, "killed": counts.get("killed", 0), "timeout": counts.get("timeout", 0),
                          "survived": total - detected, "counts": counts,
                          "score": round(100.0 * detected / total, 1) if total else None,
                          "survivors": sorted(survivors)}
    return result


_SHOW = """
import sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
with open(sys.argv[1], "w") as out:
    for name in sys.argv[2:]:
        out.write(f"## {name}\\n{get_diff_for_mutant(name, path=find_mutant(name).path)}\\n\\n")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated module stems (rules,diff,...): a quicker partial run")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2: the machine's cores)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "mutation", help="scratch folder")
    parser.add_argument("--revision", help="test the code and tests of this git revision instead of the work tree")
    parser.add_argument("--fail-under", type=float, default=0.0,
                        help="exit 1 when a module scores below this percentage (make mutation: 90)")
    args = parser.parse_args()
    modules = list(MODULES)
    if args.only:
        wanted = set(args.only.split(","))
        modules = [m for m in modules if Path(m).stem in wanted]
        if not modules:
            parser.error(f"no module among {', '.join(Path(m).stem for m in MODULES)}")
    work = args.work.resolve()
    start = time.monotonic()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    source = export(args.revision, work / "exported") if args.revision else ROOT
    stage(source, work, modules)
    mutmut = Path(sys.executable).parent / "mutmut"
    log = work / "mutmut.log"
    with log.open("w") as out:
        code = subprocess.run([str(mutmut), "run", "--max-children", str(args.jobs)], cwd=work, stdout=out,
                              stderr=subprocess.STDOUT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).returncode
    elapsed = time.monotonic() - start
    if code != 0:
        print(log.read_text()[-3000:])
        print(f"mutmut failed (exit {code}); full log: {log}")
        return 1
    result = scores(work, modules)
    names = [name for module in modules for name in result[module]["survivors"]]
    # one process for every diff (`mutmut show` per mutant costs seconds each)
    subprocess.run([sys.executable, "-c", _SHOW, str(work / "survivors.txt"), *names], cwd=work, check=True)
    (work / "scores.json").write_text(json.dumps({"seconds": round(elapsed), "modules": result}, indent=2))
    print(f"{'module':<22}{'mutants':>8}{'killed':>8}{'timeout':>8}{'survived':>9}{'score':>8}")
    worst = 100.0
    for module, row in result.items():
        score = row["score"]
        worst = min(worst, score if score is not None else 0.0)
        shown = f"{score:.1f}%" if score is not None else "-"
        print(f"{module:<22}{row['total']:>8}{row['killed']:>8}{row['timeout']:>8}{row['survived']:>9}{shown:>8}")
    print(f"\n{elapsed / 60:.1f} min; survivors' diffs: {work / 'survivors.txt'}")
    if worst < args.fail_under:
        print(f"a module scores below {args.fail_under:g}%: kill its survivors with a test, or list them as "
              "equivalent in docs/testing.md (and raise no threshold to hide them)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
