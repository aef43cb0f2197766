"""Windows is a place to run the service: nothing the package imports or calls is POSIX-only.
(Every dependency's Windows wheel is checked by ``scripts/check-windows-wheels``.)"""

import ast
from pathlib import Path

import photochanger

SOURCE = Path(photochanger.__file__).parent
POSIX_MODULES = {"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix", "crypt", "syslog", "uvloop"}
POSIX_CALLS = {
    ("os", "fork"),
    ("os", "getuid"),
    ("os", "geteuid"),
    ("os", "getgid"),
    ("os", "setsid"),
    ("os", "killpg"),
    ("os", "uname"),
    ("os", "sync"),
    ("signal", "SIGKILL"),
    ("signal", "SIGHUP"),
    ("signal", "SIGUSR1"),
    ("signal", "SIGQUIT"),
}


def _problems(source: str, name: str) -> list[str]:
    """Every POSIX-only import or call in ``source`` (a module's text), as ``name:line …``."""
    tree = ast.parse(source, name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module.split(".")[0]]
        else:
            names = []
        found += [f"{name}:{node.lineno} imports {n}" for n in names if n in POSIX_MODULES]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in POSIX_CALLS:
                found.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
            if node.attr == "add_signal_handler":
                found.append(f"{name}:{node.lineno} uses loop.add_signal_handler")
    return found


def test_no_module_of_the_package_needs_a_posix_only_module_or_call():
    modules = sorted(SOURCE.rglob("*.py"))
    problems = [found for path in modules for found in _problems(path.read_text(), str(path.relative_to(SOURCE)))]
    assert len(modules) > 50 and not problems, problems


def test_the_scan_finds_what_it_looks_for():
    sample = "import fcntl\nimport os\nfrom pwd import getpwnam\nos.getuid()\nos.kill(1, signal.SIGKILL)\n"
    assert [line.split(" ", 1)[1] for line in _problems(sample, "m.py")] == [
        "imports fcntl",
        "imports pwd",
        "uses os.getuid",
        "uses signal.SIGKILL",
    ]
