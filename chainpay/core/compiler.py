"""Build contracts/ into chainpay/artifacts/.

The compiler input is a self-contained standard-JSON document: Python resolves every import
(our contracts and the pinned OpenZeppelin sources in node_modules) and inlines the sources, so a
native solc (through py-solc-x) and the pinned solcjs (WebAssembly, from npm) see byte-identical
input and settings and produce identical artifacts. Artifacts are committed, so an installed SDK
needs neither node nor solc.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import CompilerError

log = logging.getLogger(__name__)

SOLC_VERSION = "0.8.37"
# prague runs on both eth-tester's default fork and anvil.
SETTINGS: dict = {
    "optimizer": {"enabled": True, "runs": 10_000},
    "evmVersion": "prague",
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # chainpay/, the installed package
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
_IMPORT_RE = re.compile(r'^\s*import\s+(?:[^"\']*?\s+from\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)

# Runs solcjs's JS API on standard JSON from stdin: the solcjs CLI prints a banner before the JSON.
_SOLCJS_SCRIPT = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


@dataclass(frozen=True)
class Project:
    """Where the sources live: the repository root (contracts/) and node_modules/."""

    root: Path

    @property
    def contracts_dir(self) -> Path:
        return self.root / "contracts"

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @classmethod
    def find(cls, start: Path | None = None) -> "Project":
        """chainpay's own source checkout: the one this package runs from when it is one, else the
        nearest directory upward from `start` (the working directory) that is a chainpay checkout.
        Another project's contracts/ is never taken for chainpay's."""
        here = (start or Path.cwd()).resolve()
        for candidate in [PACKAGE_DIR.parent, here, *here.parents]:
            if is_chainpay_checkout(candidate):
                return cls(candidate)
        raise CompilerError("no chainpay checkout found (a directory with contracts/ and a pyproject.toml of the "
                            "chainpay project); run from a clone of chainpay")

    def read_unit(self, unit: str) -> str:
        base = self.node_modules if unit.startswith("@") else self.root
        path = base / unit
        if not path.is_file():
            hint = " (run `npm ci` to install the pinned Solidity libraries)" if unit.startswith("@") else ""
            raise CompilerError(f"source {unit!r} not found at {path}{hint}")
        return path.read_text()


def is_chainpay_checkout(directory: Path) -> bool:
    """A chainpay source tree: contracts/, chainpay/ and a pyproject.toml naming the chainpay project."""
    pyproject = directory / "pyproject.toml"
    if not ((directory / "contracts").is_dir() and (directory / "chainpay").is_dir() and pyproject.is_file()):
        return False
    try:
        return tomllib.loads(pyproject.read_text()).get("project", {}).get("name") == "chainpay"
    except (OSError, ValueError):
        return False


def installed_as_checkout() -> bool:
    """True when this package runs from a source checkout (editable install), whose chainpay/artifacts
    `chainpay compile` may rewrite; False for an installed copy (site-packages), which it never writes."""
    return is_chainpay_checkout(PACKAGE_DIR.parent)


def collect_sources(project: Project) -> dict[str, dict[str, str]]:
    """Every .sol under contracts/ plus everything they import, keyed by source unit name."""
    pending = sorted(p.relative_to(project.root).as_posix() for p in project.contracts_dir.rglob("*.sol"))
    if not pending:
        raise CompilerError(f"no Solidity sources under {project.contracts_dir}")
    sources: dict[str, dict[str, str]] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        content = project.read_unit(unit)
        sources[unit] = {"content": content}
        for imported in _IMPORT_RE.findall(content):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(unit), imported))
            pending.append(imported)
    return dict(sorted(sources.items()))


def standard_input(project: Project, extra_outputs: tuple[str, ...] = ()) -> dict:
    settings = SETTINGS
    if extra_outputs:  # e.g. storageLayout for tests; never part of the shipped artifacts
        settings = dict(SETTINGS, outputSelection={"*": {"*": [*SETTINGS["outputSelection"]["*"]["*"], *extra_outputs]}})
    return {"language": "Solidity", "sources": collect_sources(project), "settings": settings}


def _native_solc() -> str | None:
    """A native solc of the pinned version: on PATH or installed by py-solc-x."""
    candidates = [shutil.which("solc")]
    try:
        import solcx

        candidates.append(str(solcx.get_executable(SOLC_VERSION)))
    except Exception:  # not installed through solcx: fine, fall back to solcjs
        pass
    for exe in filter(None, candidates):
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        except OSError:
            continue
        if f"Version: {SOLC_VERSION}+" in out:
            return exe
    return None


def run_compiler(project: Project, compiler_input: dict) -> tuple[dict, str]:
    """Compile; returns (standard-JSON output, description of the compiler used)."""
    native = _native_solc()
    if native:
        import solcx

        log.info("compiling with native solc %s", native)
        output = solcx.compile_standard(compiler_input, solc_binary=native, allow_empty=True)
        return output, f"solc {SOLC_VERSION} (native, {native})"
    solcjs = project.node_modules / "solc"
    if not (solcjs / "package.json").is_file():
        raise CompilerError(f"no native solc {SOLC_VERSION} and no solcjs in {solcjs}: run `npm ci` first")
    version = json.loads((solcjs / "package.json").read_text())["version"]
    if version != SOLC_VERSION:
        raise CompilerError(f"node_modules has solcjs {version}, chainpay pins {SOLC_VERSION}: run `npm ci`")
    node = shutil.which("node")
    if not node:
        raise CompilerError("solcjs needs node on PATH (or install a native solc)")
    log.info("compiling with solcjs %s", version)
    proc = subprocess.run(
        [node, "-e", _SOLCJS_SCRIPT, str(solcjs)],
        input=json.dumps(compiler_input),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise CompilerError(f"solcjs failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return json.loads(proc.stdout), f"solcjs {version} (npm)"


def compile_output(project: Project | None = None, extra_outputs: tuple[str, ...] = ()) -> dict:
    """The compiler's standard-JSON output for contracts/ (raises CompilerError on errors)."""
    project = project or Project.find()
    compiler_input = standard_input(project, extra_outputs)
    output, _ = run_compiler(project, compiler_input)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        shown = [_located(e, compiler_input["sources"]) for e in errors]
        more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
        raise CompilerError("; ".join(shown[:3]) + more)
    for warning in output.get("errors", []):
        # Warnings about library code (OpenZeppelin's transient-storage notice) are not ours to fix.
        ours = warning.get("sourceLocation", {}).get("file", "contracts/").startswith("contracts/")
        log.log(logging.WARNING if ours else logging.DEBUG, "solc: %s",
                warning.get("formattedMessage", warning.get("message")).strip())
    return output


def _located(error: dict, sources: dict) -> str:
    """``contracts/x.sol:12:5: ParserError: Expected ';' ...``: where, what kind, and the message."""
    where = error.get("sourceLocation") or {}
    file, start = where.get("file"), where.get("start", -1)
    prefix = ""
    if file:
        text = sources.get(file, {}).get("content", "").encode()  # solc counts bytes
        if 0 <= start <= len(text):
            line = text.count(b"\n", 0, start) + 1
            column = start - (text.rfind(b"\n", 0, start) + 1) + 1
            prefix = f"{file}:{line}:{column}: "
        else:
            prefix = f"{file}: "
    return f"{prefix}{error.get('type', 'Error')}: {error.get('message', '').strip()}"


def build(project: Project | None = None) -> dict[str, dict]:
    """Compile every contract under contracts/; returns artifacts keyed by contract name."""
    output = compile_output(project)
    artifacts: dict[str, dict] = {}
    for unit, contracts in output["contracts"].items():
        if not unit.startswith("contracts/"):
            continue  # libraries are inlined into ours, not shipped
        for name, out in contracts.items():
            if not out["evm"]["bytecode"]["object"] or not out["abi"]:
                continue  # interfaces and abstract contracts have no code; internal-only libraries no ABI
            if name in artifacts:
                raise CompilerError(f"two contracts named {name}: names must be unique across contracts/")
            artifacts[name] = {
                "contractName": name,
                "sourceName": unit,
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
                "compiler": {"version": SOLC_VERSION, "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"}},
            }
    return dict(sorted(artifacts.items()))


def _dump(artifact: dict) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def write_artifacts(artifacts: dict[str, dict], directory: Path = ARTIFACTS_DIR) -> list[Path]:
    """Replace the artifact directory's JSON files with `artifacts`."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    written = []
    for name, artifact in artifacts.items():
        path = directory / f"{name}.json"
        path.write_text(_dump(artifact))
        written.append(path)
    return written


def diff_artifacts(artifacts: dict[str, dict], directory: Path = ARTIFACTS_DIR) -> list[str]:
    """Names of artifacts whose committed file differs from a fresh build (missing/extra included)."""
    committed = {p.stem: p.read_text() for p in directory.glob("*.json")}
    fresh = {name: _dump(a) for name, a in artifacts.items()}
    return sorted(n for n in committed.keys() | fresh.keys() if committed.get(n) != fresh.get(n))
