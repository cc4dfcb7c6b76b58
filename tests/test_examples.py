"""Every example command of run_study.py's --help, of the README and of docs/ parses, and each --help example runs in
the quick profile."""

import re
import shlex

import pytest

import helpers
import ssl_study.run.runner as runner
from ssl_study.config import FIT_CACHE_ENV, JOBS_ENV, OUTPUT_ENV, PROFILE_ENV

HELP = re.findall(r"^\s+python run_study\.py(.*?)(?:\s+#.*)?$", runner.__doc__, re.M)
README = [example for page in [helpers.ROOT / "README.md", *sorted((helpers.ROOT / "docs").glob("*.md"))]
          for example in re.findall(r"run_study\.py((?: --?[a-z][\w-]*(?: (?!-)[^\s`]+)*)*)`", page.read_text())]


def test_the_help_has_examples():
    assert len(HELP) >= 5 and any("-p" in e for e in HELP) and any("--only" in e for e in HELP)


@pytest.mark.parametrize("example", sorted(set(HELP + README)))
def test_every_example_parses(example):
    args = runner.build_parser().parse_args(shlex.split(example))
    assert not args.only or set(args.only) <= set(helpers.NOTEBOOKS)


@pytest.mark.parametrize("example", HELP)
def test_every_help_example_runs_in_the_quick_profile(example, tmp_path, monkeypatch):
    """Each example in the quick profile with nothing published (its artefacts stay in the run's staging folder); the
    split notebook alone where the example runs all six, to keep the test short; the notebooks an ``--only`` example
    starts from are run (and published, in the quick profile only) first. ``--fresh`` empties a
    scratch fit cache, not the quick profile's."""
    # main sets them for its kernels: restore them after
    for name in (PROFILE_ENV, JOBS_ENV, OUTPUT_ENV, FIT_CACHE_ENV):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    args = [a for a in shlex.split(example) if a not in ("--profile", "quick")]
    only = runner.build_parser().parse_args(args).only
    first = helpers.NOTEBOOKS[:min(helpers.NOTEBOOKS.index(n) for n in only)] if only else []
    if first:  # published in the quick profile, so that the example starts from this code's artefacts
        assert runner.main(["--profile", "quick", "--only", *first]) == 0
    if "--fresh" in args:
        monkeypatch.setenv(FIT_CACHE_ENV, str(tmp_path / "cache"))
    if not only:
        args += ["--only", helpers.NOTEBOOK_SPLIT]
    assert runner.main([*args, "--profile", "quick", "--no-publish"]) == 0
