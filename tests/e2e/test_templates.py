"""Every `zoo new --template` package, for real: generated, pip-installed as its own distribution (into a throwaway
--target directory on PYTHONPATH), discovered, passing `zoo check` and its own generated pytest with no Keras
"destroy the mask" warning, and building a wheel with its entry point and catalog.

`zoo check` runs every check once, at class count 2 (the package's own pytest runs them all at 2, 3, 7 and 46).
"""

import subprocess
import sys
import zipfile

import pytest

from zoo.scaffold import TEMPLATES, create_plugin_package

PACKAGES = {template: f"zoo-tpl-{template}" for template in TEMPLATES}  # names no installed plugin has


def name_of(template):
    return PACKAGES[template].removeprefix("zoo-").replace("-", "_")


def pip(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "pip", "-q", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """The three generated packages, installed (no dependencies, no build isolation: offline) into one target."""
    import zoo

    root = tmp_path_factory.mktemp("templates")
    made = {t: create_plugin_package(p, directory=root, template=t, registry=zoo.Registry())
            for t, p in PACKAGES.items()}
    site = root / "site"
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site), *map(str, made.values()))
    return root, site, made


def test_each_template_is_installed_and_discovered(run_zoo, packages):
    import json

    _, site, _ = packages
    proc = run_zoo("list", "--json", env={"PYTHONPATH": str(site)})
    assert (proc.returncode, proc.stderr) == (0, "")
    listed = {a["name"]: a for a in json.loads(proc.stdout)}
    for template, package in PACKAGES.items():
        arch = listed[name_of(template)]
        assert (arch["package"], arch["version"], arch["summary"]) == (package, "0.1.0", TEMPLATES[template])


def test_each_template_passes_zoo_check_without_a_mask_warning(run_zoo, packages):
    _, site, _ = packages
    names = [name_of(t) for t in TEMPLATES]
    proc = run_zoo("check", *names, "--class-counts", "2", env={"PYTHONPATH": str(site)}, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "33 checks run: 33 passed, 0 failed, 0 waived"
    assert proc.stderr == ""  # the CLI prints every Python warning there, Keras's mask warning included


def test_each_template_passes_its_own_tests(packages):
    import os

    root, site, made = packages
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env.update(PYTHONPATH=str(site), TF_CPP_MIN_LOG_LEVEL="3")
    dirs = [str(path / "tests") for path in made.values()]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib",
                           "-W", "error::UserWarning:keras", *dirs],
                          capture_output=True, text=True, env=env, cwd=root, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    summary = proc.stdout.splitlines()[-1]
    assert summary.startswith("111 passed in "), summary  # 3 x (8 checks x 4 class counts, 3 once, 2 more tests)
    assert "destroy the mask" not in proc.stdout and "warning" not in summary


def test_each_template_builds_a_wheel_with_its_entry_point_and_catalog(packages):
    root, _, made = packages
    dist = root / "dist"
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), *map(str, made.values()))
    for template, package in PACKAGES.items():
        module = package.replace("-", "_")
        [wheel] = dist.glob(f"{module}-0.1.0-py3-none-any.whl")
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            assert {f"{module}/__init__.py", f"{module}/zoo.yaml"} <= names
            entry_points = zf.read(f"{module}-0.1.0.dist-info/entry_points.txt").decode()
        assert f"[zoo.plugins]\n{name_of(template)} = {module}\n" in entry_points
