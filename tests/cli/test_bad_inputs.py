"""Bad inputs, as a new user makes them: every one is refused with one typed error (SDK) or one plain
line and a non-zero exit (CLI), and nothing changes, neither on chain (block number, balances,
allowances) nor on disk.

A new case is one line in CLI_CASES or SDK_CASES. CLI cases run the real `chainpay` entry point in
this process (`main(argv)`) against a deployment on anvil, or on the in-process chain for commands
that take no manifest (deploy without --rpc, bench, study, compile); a sample also runs as a separate
process. `{name}` in a CLI case is filled from the deployment (see `fields`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import ROOT

import chainpay
from chainpay.cli.main import main
from chainpay.content.parties import ContentClient, ContentProvider, VoucherRefused
from chainpay.content.paywall import PaywallClient
from chainpay.content.store import VoucherStore
from chainpay.core import compiler, errors
from chainpay.currency.registry import identity_id

pytestmark = pytest.mark.anvil

ARTIFACTS = compiler.ARTIFACTS_DIR


@dataclass(frozen=True)
class Cli:
    argv: str  # shlex-split after filling {fields}
    says: str  # a fragment of the one line on stderr
    env: tuple[tuple[str, str], ...] = ()


def cli(argv: str, says: str, **env: str) -> Cli:
    return Cli(argv, says, tuple(env.items()))


TWO_256 = str(2**256)
CLI_CASES = {
    # transfer send: every refusal before the first transaction (no approve left behind)
    "send over balance": cli("transfer send {bob} 1e3 --as 5", "ERC20InsufficientBalance"),
    "send over balance, amounts in yuan": cli("transfer send {bob} 1e3 --as 5", "needed=1000.00 yuan"),
    "send over uint96": cli("transfer send {bob} 99999999999999999999999999999 --as 5", "AmountTooLarge"),
    "send to unregistered": cli("transfer send {stranger} 1 --as 5", "NotRegistered"),
    "send to self": cli("transfer send {alice} 1 --as 5", "InvalidRecipient"),
    "send wrong checksum": cli("transfer send {bob_badsum} 1 --as 5", "wrong EIP-55 checksum"),
    "send to a bare number": cli("transfer send 6 1 --as 5", "is a number, not an address"),
    "send negative": cli("transfer send {bob} -5 --as 5", "is negative"),
    "send not a number": cli("transfer send {bob} abc --as 5", "is not a number"),
    "send too precise": cli("transfer send {bob} 1.001 --as 5", "more than 2 decimal places"),
    "send zero": cli("transfer send {bob} 0 --as 5", "greater than zero"),
    "send memo too long": cli("transfer send {bob} 1 --as 5 --memo " + "x" * 141, "memo"),
    "send as no account": cli("transfer send {bob} 1 --as 99", "no account #99"),
    "send as malformed": cli("transfer send {bob} 1 --as 0x12", "is not an address"),
    "send bad keys env": cli("transfer send {bob} 1 --as 0", "CHAINPAY_PRIVATE_KEYS: item 1", CHAINPAY_PRIVATE_KEYS="0xnothex"),
    # other transfer commands: contract refusals in words
    "show 2**256": cli(f"transfer show {TWO_256}", "a transfer id is a whole number from 1 to 2**256-1"),
    "show unknown": cli("transfer show 999", "UnknownTransfer(id=999)"),
    "revoke revoked": cli("transfer revoke {revoked} --as 5", "state=revoked"),
    "release not due": cli("transfer release {pending} --as 6", "releaseAt=20"),
    "reject not recipient": cli("transfer reject {pending} --as 5", "NotRecipient"),
    # manifests
    "manifest missing": cli("transfer show 1 --manifest {tmp}/missing.json", "cannot read manifest"),
    "manifest no code": cli("transfer list {bob} --manifest {no_code}", "no IdentityRegistry contract at"),
    "manifest other chain": cli("transfer list {bob} --manifest {other_chain}", "chain id 99"),
    "manifest contracts list": cli("transfer list {bob} --manifest {contracts_list}", "\"contracts\" is missing or not an object"),
    "manifest in-process": cli("transfer list {bob} --manifest {in_process}", "in-process chain"),
    # deploy: output path and the whole config checked before the first transaction
    "deploy unwritable out": cli("deploy --rpc {rpc} --out /proc/nope/m.json", "cannot write manifest"),
    "deploy out is a dir": cli("deploy --rpc {rpc} --out {tmp}", "is a directory"),
    "deploy tier 9": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/tier9.toml", "tier 9 does not exist"),
    "deploy limit 5000.5": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/fraction.toml", "more than 0 decimal places"),
    "deploy negative limit": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/negative.toml", "is negative"),
    "deploy decimals 19": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/decimals19.toml", "decimals is a whole number in 0..18"),
    "deploy decimals two": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/decimals_two.toml", "got 'two'"),
    "deploy tier 5 limited": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/tier5.toml", "tier 5 must stay unlimited"),
    "deploy bad band": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/band.toml", "first band starts at 0"),
    "deploy unknown key": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/unknown.toml", "unknown keys"),
    "deploy class on tier 5": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/class5.toml", "tier 5 must stay unlimited"),
    "deploy class cap 0.5": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/class_fraction.toml", "more than 0 decimal places"),
    "deploy platform ratio 150%": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/ratio.toml", "between 0 and 1"),
    "deploy platform ids twice": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/twice.toml", "ids must differ"),
    "deploy platforms > accounts": cli("deploy --rpc {rpc} --out {tmp}/m.json --config {configs}/many.toml", "need 14 accounts"),
    "deploy no node": cli("deploy --rpc http://127.0.0.1:9 --out {tmp}/m.json", "no Ethereum JSON-RPC node answers"),
    "deploy in-process bad out": cli("deploy --out /proc/nope/m.json", "cannot write manifest"),
    # long commands: bounds and output paths checked before the run
    "bench absurd transfers": cli("bench --transfers 10000000000", "is not in the range 10<=x<=10000"),
    "bench unwritable json": cli("bench --json /proc/nope/b.json", "cannot write results file"),
    "study absurd transfers": cli("study bridging --transfers 1000000000", "is not in the range 1<=x<=20000"),
    "study unwritable out": cli("study bridging --transfers 5 --out /proc/nope", "cannot write output directory"),
    "compile unwritable out": cli("compile --out /proc/nope", "cannot write artifact directory"),
    # serve-content
    "serve unwritable db": cli("serve-content --manifest {manifest} --port 1 --provider 5 --offer 1={page} --db /proc/nope/v.sqlite",
                               "cannot write voucher database"),
    "serve missing offer file": cli("serve-content --manifest {manifest} --port 1 --provider 5 --offer 1={tmp}/none.html",
                                    "is not a readable file"),
    "unknown command": cli("transfer sned {bob} 1", "No such command"),
}


def _sdk_cases():
    """(call on the deployment `d`, expected exception type): each must raise before sending."""
    E = errors
    return {
        "transfer(None)": (lambda d: d.cur.transfer(None, 1, sender=d.alice), E.WrongType),
        "transfer to a wrong checksum": (lambda d: d.cur.transfer(d.bob_badsum, 1, sender=d.alice), E.InvalidInput),
        "transfer a float": (lambda d: d.cur.transfer(d.bob, 1.5, sender=d.alice), E.InvalidAmount),
        "transfer from account -1": (lambda d: d.cur.transfer(d.bob, 1, sender=-1), E.InvalidInput),
        "add_institution('one')": (lambda d: d.reg.add_institution("one", "X", 3), E.InvalidInput),
        "add_institution(-1)": (lambda d: d.reg.add_institution(-1, "X", 3), E.InvalidInput),
        "add_institution(2**40)": (lambda d: d.reg.add_institution(2**40, "X", 3), E.InvalidInput),
        "register_identity('not-an-id')": (lambda d: d.reg.register_identity("not-an-id", 2, d.stranger, sender=d.officer),
                                           E.InvalidInput),
        "register_identity tier '2'": (lambda d: d.reg.register_identity(identity_id("new"), "2", d.stranger, sender=d.officer),
                                       E.InvalidInput),
        "identity_id(123)": (lambda d: identity_id(123), E.InvalidInput),
        "revoke(10**80)": (lambda d: d.system.transfers.revoke(10**80, sender=d.alice), E.InvalidInput),
        "send over balance": (lambda d: d.system.transfers.send(d.bob, "1e3", sender=d.alice), E.revert_class("ERC20InsufficientBalance")),
        "send to unregistered": (lambda d: d.system.transfers.send(d.stranger, 1, sender=d.alice), E.revert_class("NotRegistered")),
        "send over uint96": (lambda d: d.system.transfers.send(d.bob, 10**27, sender=d.alice), E.revert_class("AmountTooLarge")),
        "pay(None)": (lambda d: ContentClient(d.system.channels, d.alice_keyed).pay(None), E.WrongType),
        "accept('garbage')": (lambda d: d.provider.accept("garbage"), VoucherRefused),
        "open without a key": (lambda d: ContentClient(d.system.channels, d.alice).open(d.listing, 1), E.SigningError),
        "PaywallClient without a key": (lambda d: PaywallClient(ContentClient(d.system.channels, d.alice)), E.SigningError),
        "DeployConfig(decimals=19)": (lambda d: chainpay.DeployConfig(decimals=19), E.InvalidInput),
        "DeployConfig(daily_limits={1: -5})": (lambda d: chainpay.DeployConfig(daily_limits={1: -5}), E.InvalidInput),
        "load a manifest without code": (lambda d: chainpay.load(d.no_code_manifest, d.chain), E.NoContractCode),
        "connect with a bad key": (lambda d: chainpay.connect(d.rpc, private_keys=["0x12"]), E.InvalidInput),
        "VoucherStore in /proc": (lambda d: VoucherStore("/proc/nope/v.sqlite"), E.InvalidInput),
    }


SDK_CASES = _sdk_cases()


# ---------------------------------------------------------------------------- the deployment
@pytest.fixture(scope="module")
def d(anvil_url, tmp_path_factory):
    """A deployment on anvil (by `chainpay deploy`), alice (#5, 500 yuan, tier 3) and bob (#6) registered,
    one revoked and one pending transfer, a listing, and the files the cases point at."""
    base = tmp_path_factory.mktemp("bad-inputs")
    manifest = base / "manifest.json"
    assert main(["deploy", "--rpc", anvil_url, "--out", str(manifest)]) == 0
    system = chainpay.load(manifest)
    chain = system.chain
    officer, alice, bob, stranger = (chain.accounts[i] for i in (4, 5, 6, 8))
    system.registry.add_institution(1, "Platform A", 3)
    system.registry.add_kyc_officer(officer, 1)
    system.registry.register_identity(identity_id("bad-alice"), 3, alice, sender=officer)
    system.registry.register_identity(identity_id("bad-bob"), 2, bob, sender=officer)
    system.currency.mint(alice, Decimal(500))
    revoked = system.transfers.send(bob, 1, sender=alice).id
    system.transfers.revoke(revoked, sender=alice)
    pending = system.transfers.send(bob, 2, sender=alice).id
    listing = system.catalogue.list(Decimal("0.10"), "call", [(bob, 10_000)], sender=bob).id
    raw = json.loads(manifest.read_text())
    files = {"no_code": dict(raw, contracts={k: dict(v, address="0x" + f"{i + 1:040x}") for i, (k, v) in
                                              enumerate(raw["contracts"].items())}),
             "other_chain": dict(raw, chain_id=99), "contracts_list": dict(raw, contracts=[1, 2])}
    for name, content in files.items():
        (base / f"{name}.json").write_text(json.dumps(content))
    in_process = base / "in_process.json"
    in_process.write_text(json.dumps(dict(raw, rpc=None)))
    configs = base / "configs"
    configs.mkdir()
    for name, text in {"tier9": "[daily_limits]\n9 = 100\n", "fraction": "[daily_limits]\n1 = 5000.5\n",
                       "negative": "[daily_limits]\n1 = -5\n", "decimals19": "decimals = 19\n",
                       "decimals_two": 'decimals = "two"\n', "tier5": "[daily_limits]\n5 = 10\n",
                       "band": "[transfers]\ncooling_off = [[1, 60]]\n", "unknown": "colour = 'red'\n",
                       "class5": "[wallet_classes.5]\nsingle = 10\n", "class_fraction": "[wallet_classes.2]\nbalance_cap = 0.5\n",
                       "ratio": '[[platforms]]\nid = 7\nname = "X"\nratio = "150%"\n',
                       "twice": '[[platforms]]\nid = 7\nname = "X"\n[[platforms]]\nid = 7\nname = "Y"\n',
                       "many": "".join(f'[[platforms]]\nid = {n}\nname = "P{n}"\n' for n in range(1, 6))}.items():
        (configs / f"{name}.toml").write_text(text)
    page = base / "page.html"
    page.write_text("<p>paid</p>")
    badsum = bob.address[:-4] + bob.address[-4:].swapcase()
    if badsum == bob.address:  # no letters in the last four: flip the first letter anywhere
        i = next(i for i, c in enumerate(bob.address[2:], 2) if c.isalpha())
        badsum = bob.address[:i] + bob.address[i].swapcase() + bob.address[i + 1:]
    keyed = chainpay.connect(anvil_url, private_keys=["0x" + "11" * 32])
    store = VoucherStore(base / "provider.sqlite")
    return SimpleNamespace(
        system=system, chain=chain, cur=system.currency, reg=system.registry, officer=officer, alice=alice, bob=bob.address,
        stranger=stranger.address, bob_badsum=badsum, rpc=anvil_url, listing=listing, no_code_manifest=base / "no_code.json",
        alice_keyed=keyed.accounts[0], provider=ContentProvider(system.channels, bob, store),
        fields=dict(rpc=anvil_url, manifest=manifest, bob=bob.address, alice=alice.address, stranger=stranger.address,
                    bob_badsum=badsum, revoked=revoked, pending=pending, page=page, configs=configs,
                    in_process=in_process, **{name: base / f"{name}.json" for name in files}))


def observe(d, *dirs: Path):
    """Everything a refusal must leave alone: the chain's head, balances, the escrow's allowance, files."""
    cur, escrow = d.cur, d.system.transfers.address
    holders = [d.alice.address, d.bob, escrow, d.system.channels.address]
    chain_state = (d.chain.block_number, [cur.balance_of(h) for h in holders], cur.allowance(d.alice, escrow),
                   [d.chain.eth_balance(h) for h in holders[:2]])
    disk = {}
    for directory in (*dirs, ARTIFACTS):
        for path in sorted(Path(directory).rglob("*")):
            stat = path.stat()
            disk[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return chain_state, disk


# ---------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_refuses_in_one_line_and_changes_nothing(name, d, tmp_path, monkeypatch, capsys):
    case = CLI_CASES[name]
    for var in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CHAINPAY_MANIFEST", str(d.fields["manifest"]))
    monkeypatch.setenv("COLUMNS", "250")
    for var, value in case.env:
        monkeypatch.setenv(var, value)
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(case.argv.format(tmp=tmp_path, **d.fields))
    before = observe(d, tmp_path, d.fields["manifest"].parent)
    code = main(argv)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, out + err
    assert "Traceback" not in out + err
    assert len(lines) == 1, err
    assert lines[0].startswith("chainpay: ") and case.says in lines[0], lines[0]
    assert observe(d, tmp_path, d.fields["manifest"].parent) == before


@pytest.mark.parametrize("name", list(SDK_CASES))
def test_sdk_raises_a_typed_error_before_sending(name, d, tmp_path, monkeypatch):
    call, expected = SDK_CASES[name]
    monkeypatch.chdir(tmp_path)
    before = observe(d, tmp_path)
    with pytest.raises(expected) as info:
        call(d)
    assert isinstance(info.value, errors.ChainpayError)
    assert observe(d, tmp_path) == before


@pytest.mark.parametrize("name", ["send wrong checksum", "send to a bare number", "deploy unwritable out", "show 2**256"])
def test_cli_refusal_in_its_own_process(name, d, tmp_path):
    """The same refusals through `python -m chainpay`: one line, no traceback, from a real process."""
    case = CLI_CASES[name]
    env = {k: v for k, v in os.environ.items() if k not in ("CHAINPAY_PRIVATE_KEYS", "CHAINPAY_DEBUG")}
    env.update(CHAINPAY_MANIFEST=str(d.fields["manifest"]), COLUMNS="250", **dict(case.env))
    argv = shlex.split(case.argv.format(tmp=tmp_path, **d.fields))
    before = observe(d, tmp_path)
    result = subprocess.run([sys.executable, "-m", "chainpay", *argv], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr
    assert len(lines) == 1 and case.says in lines[0], result.stderr
    assert observe(d, tmp_path) == before


def test_a_failing_escrow_send_restores_the_allowance(d, monkeypatch):
    """Belt and braces behind the dry run: if send() still fails after its approve (a race the dry run
    cannot see), the allowance goes back to what it was."""
    transfers, escrow = d.system.transfers, d.system.transfers.address
    monkeypatch.setattr(transfers, "preflight_send", lambda *a: None)  # let the doomed send reach the chain
    before = d.cur.allowance(d.alice, escrow)
    with pytest.raises(errors.revert_class("NotRegistered")):
        transfers.send(d.stranger, 1, sender=d.alice)
    assert d.cur.allowance(d.alice, escrow) == before


def test_compile_never_takes_another_projects_contracts(tmp_path, monkeypatch):
    other = tmp_path / "other"
    (other / "contracts").mkdir(parents=True)
    (other / "chainpay").mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "not-chainpay"\n')
    monkeypatch.chdir(other)
    assert compiler.Project.find().root == ROOT
    assert not compiler.is_chainpay_checkout(other)


def test_compile_refuses_to_write_into_an_installed_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compiler, "PACKAGE_DIR", tmp_path / "site-packages" / "chainpay")
    before = observe_dir(ARTIFACTS)
    assert main(["compile"]) == 1
    err = capsys.readouterr().err
    assert "installed copy" in err and "--out DIR" in err and len(err.strip().splitlines()) == 1
    assert observe_dir(ARTIFACTS) == before


def observe_dir(directory: Path):
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(directory.rglob("*"))}


def test_a_deployment_that_fails_half_way_says_what_was_deployed_and_where(monkeypatch):
    chain = chainpay.connect(accounts=4)
    real = chain.deploy

    def deploy(artifact, args, sender):
        if artifact == "RevocableTransfers":
            raise errors.TransactionFailed("the node went away")
        return real(artifact, args, sender)

    monkeypatch.setattr(chain, "deploy", deploy)
    with pytest.raises(errors.DeploymentIncomplete) as info:
        chainpay.deploy(chain)
    assert list(info.value.deployed) == ["IdentityRegistry", "DigitalCurrency"]
    for name, address in info.value.deployed.items():
        assert f"{name} at {address}" in str(info.value)
    assert "the node went away" in str(info.value)
