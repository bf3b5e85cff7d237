"""The demo story told by `chainpay demo`: a central bank issues digital currency, two payment
platforms register their customers, payments flow across platforms in seconds, and the rules bite:
a payment over the daily limit and a payment from a frozen account are refused. Then revocable
transfers: a mis-sent transfer taken back within its cooling-off, a large transfer approved on the
sender's second device and delivered by a keeper, and a dispute settled by compliance. Then the second
tier: the platforms issue balances against reserve, a customer converts a balance from one platform to
the other in one transaction, a large conversion waits for the second device and is revoked, and a
payment over a merchant wallet's holding cap lands partly in its platform balance."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from eth_account import Account as EthAccount
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from .chain import Account, Chain
from .core import errors
from .currency.registry import identity_id
from .system import System, deploy

NEEDED_ACCOUNTS = 13
GAS_MONEY = 10**18  # wei given to each account the demo creates (1 ether: gas for the whole story)


@dataclass
class Person:
    name: str
    account: Account
    platform: str
    tier: int


def _short(address: str) -> str:
    return address[:6] + "…" + address[-4:]


def ensure_accounts(chain: Chain, needed: int, gas_money: int = GAS_MONEY) -> list[Account]:
    """Give the chain at least `needed` accounts: new keys held by chainpay, each sent `gas_money`
    wei by account #0 (a default anvil offers 10). Checks #0's balance before sending anything."""
    missing = needed - len(chain.accounts)
    if missing <= 0:
        return []
    if not chain.accounts:
        raise errors.ChainConnectionError(f"{chain.describe()} offers no accounts: pass private keys")
    funder = chain.accounts[0]
    if chain.eth_balance(funder) < gas_money * (missing + 1):
        raise errors.ChainConnectionError(
            f"the demo needs {needed} accounts; {chain.describe()} offers {len(chain.accounts)} and account #0 "
            f"({funder.address}) has too little ether to fund {missing} more")
    created = [chain.add_account(secrets.token_bytes(32)) for _ in range(missing)]
    for account in created:
        chain.send(funder, account.address, b"", value=gas_money)
    return created


def _funded_keys(chain: Chain, n: int, gas_money: int = GAS_MONEY) -> list[Account]:
    """`n` new accounts whose keys chainpay holds, each sent `gas_money` wei by account #0."""
    if chain.eth_balance(chain.accounts[0]) < gas_money * (n + 1):
        raise errors.ChainConnectionError(f"account #0 of {chain.describe()} has too little ether to fund {n} more accounts")
    made = [chain.add_account(secrets.token_bytes(32)) for _ in range(n)]
    for account in made:
        chain.send(chain.accounts[0], account.address, b"", value=gas_money)
    return made


def run_demo(chain: Chain, console: Console | None = None) -> System:
    console = console or Console()
    say = console.print
    created = ensure_accounts(chain, NEEDED_ACCOUNTS)
    if created:
        say(f"(the node offers {len(chain.accounts) - len(created)} accounts; created and funded {len(created)} more "
            f"for gas: {', '.join(_short(c.address) for c in created)})")
    a = chain.accounts
    say(f"[bold]chainpay demo[/] on {chain.describe()} (chain id {chain.chain_id})\n")

    say("[bold]1.[/] The central bank deploys the identity registry and the digital currency.")
    system = deploy(chain)
    reg, cur = system.registry, system.currency
    say(f"   registry {_short(reg.address)}, currency {cur.name} ({cur.symbol}, {cur.decimals} decimals) "
        f"{_short(cur.address)}; daily limits: " + ", ".join(
            f"tier {t} {'none' if cur.daily_limit(t) is None else f'{cur.daily_limit(t):,.0f}'}" for t in range(1, 6)))

    say("[bold]2.[/] The regulator puts two payment platforms on the white list, each with a KYC officer.")
    officer_a, officer_b = a[4], a[5]
    reg.add_institution(1, "Platform A", 3)
    reg.add_institution(2, "Platform B", 4)
    reg.add_kyc_officer(officer_a, 1)
    reg.add_kyc_officer(officer_b, 2)

    say("[bold]3.[/] The platforms register their own customers (only a hash of each real-name record goes on chain).")
    people = [
        Person("Alice", a[6], "Platform A", 2),
        Person("Mallory", a[9], "Platform A", 2),
        Person("Bob", a[7], "Platform B", 2),
        Person("Tea shop", a[8], "Platform B", 4),
    ]
    for p in people:
        officer = officer_a if p.platform == "Platform A" else officer_b
        reg.register_identity(identity_id({"name": p.name, "id_number": f"demo-{p.name}"}), p.tier, p.account, sender=officer)
        say(f"   {p.platform} registers {p.name} at tier {p.tier} ({_short(p.account.address)})")
    alice, mallory, bob, shop = (p.account for p in people)

    say("[bold]4.[/] The central bank issues currency to the customers' wallets.")
    for who, amount in ((alice, Decimal("6000")), (bob, Decimal("800")), (mallory, Decimal("300")), (shop, Decimal("6500"))):
        cur.mint(who, amount)
    say("   Alice 6,000.00, Bob 800.00, Mallory 300.00, Tea shop 6,500.00")

    say("[bold]5.[/] Payments flow between platforms directly: no bank card, no top-up, one block each.")
    for payer, payee, amount, label in (
        (alice, bob, Decimal("120.50"), "Alice pays Bob (Platform A -> Platform B)"),
        (bob, shop, Decimal("18.00"), "Bob buys tea"),
        (alice, shop, Decimal("36.00"), "Alice buys tea"),
    ):
        receipt = cur.transfer(payee, amount, sender=payer)
        say(f"   [green]paid[/] {label}: {amount:,} {cur.symbol} in block {receipt.block_number} ({receipt.gas_used:,} gas)")

    say("[bold]6.[/] Alice tries to send 4,900.00 more today; her tier allows 5,000.00 a day.")
    left = cur.daily_allowance_left(alice)
    try:
        cur.transfer(bob, Decimal("4900"), sender=alice)
        raise AssertionError("the over-limit payment went through")
    except errors.DailyLimitExceeded as refused:
        say(f"   [red]refused[/] DailyLimitExceeded: limit {cur.from_units(refused.limit):,}, spent today "
            f"{cur.from_units(refused.spent_today):,}, asked {cur.from_units(refused.amount):,} (left today: {left:,})")

    say("[bold]7.[/] Compliance freezes Mallory's address after a fraud report; Mallory tries to pay.")
    reg.freeze_address(mallory)
    try:
        cur.transfer(shop, Decimal("50"), sender=mallory)
        raise AssertionError("the frozen account paid")
    except errors.AddressFrozen as refused:
        say(f"   [red]refused[/] AddressFrozen({_short(refused.account)}): her 300.00 stays where it is")
    alice_id = identity_id({"name": "Alice", "id_number": "demo-Alice"})
    key = keccak(text="a wallet Platform B's officer controls")
    rogue = Account(EthAccount.from_key(key).address, key)
    forged = reg.sign_link_consent(alice_id, rogue, 2, signer=rogue)  # signed by the officer's wallet, not Alice
    try:
        reg.link_address(alice_id, rogue, forged, sender=officer_b)
        raise AssertionError("an address was linked to Alice's identity without her consent")
    except errors.InvalidLinkConsent as refused:
        say(f"   [red]refused[/] Platform B's officer links its own wallet to Alice's identity: InvalidLinkConsent "
            f"(signed by {_short(refused.signer)}, not by one of Alice's addresses)")

    say("[bold]8.[/] A day passes (chain time); the daily limit starts again and Alice's 4,900.00 goes through.")
    chain.advance_time(86_400)
    cur.transfer(bob, Decimal("4900"), sender=alice)
    say("   [green]paid[/] Alice -> Bob 4,900.00")

    _revocable_scenes(system, chain, say, alice=alice, bob=bob, shop=shop, device=a[10], officer_b=officer_b)
    # Dora signs a consent off chain, so her two wallets are keys chainpay holds (new ones on any node)
    dora = _funded_keys(chain, 2)
    _platform_scenes(system, chain, say, dora=dora, alice=alice, shop=shop, device=a[10],
                     officers=(officer_a, officer_b), treasuries=(a[11], a[12]))

    table = Table(title=f"Balances ({cur.symbol})")
    for col, just in (("who", "left"), ("platform", "left"), ("tier", "right"), ("status", "left"),
                      ("balance", "right"), ("may still send today", "right")):
        table.add_column(col, justify=just)
    for p in people:
        active = reg.is_active(p.account)
        left_today = cur.daily_allowance_left(p.account) if active else None
        table.add_row(p.name, p.platform, str(p.tier), "active" if active else "frozen", f"{cur.balance_of(p.account):,}",
                      ("unlimited" if left_today is None else f"{left_today:,}") if active else "-")
    table.add_row("total supply", "", "", "", f"{cur.total_supply():,}", "")
    console.print()
    console.print(table)
    console.print(_platform_table(system, [Person("Dora", dora[0], "Platform A", 2),
                                           Person("Dora (her Platform B wallet)", dora[1], "Platform B", 2),
                                           *people]))
    return system


def _revocable_scenes(system: System, chain: Chain, say, *, alice, bob, shop, device, officer_b) -> None:
    """Scenes 9-11: revocable transfers (cooling-off, second approval, dispute)."""
    cur, transfers = system.currency, system.transfers
    hours = transfers.cooling_off_for(Decimal(1)) / 3600

    say(f"[bold]9.[/] Bob pays a tea order but picks Alice's address by mistake. A revocable transfer waits "
        f"{hours:g} hours in escrow, so he takes it back.")
    spent_before = cur.outflow_today(bob).spent_today
    sent = transfers.send(alice, Decimal("200"), sender=bob, memo="tea shop order #12")
    say(f"   sent transfer {sent.id} (memo \"{sent.memo}\"): {sent.amount:,} waits in escrow until {_clock(sent.release_at)}")
    revoked = transfers.revoke(sent.id, sender=bob)
    say(f"   [green]revoked[/] within the window: Bob has {cur.balance_of(bob):,} again, and today's limit is "
        f"given back (spent today {cur.outflow_today(bob).spent_today:,}, as before: {spent_before:,})")
    assert revoked.state.name == "REVOKED"

    threshold = transfers.approval_threshold()
    say(f"[bold]10.[/] The tea shop pays its supplier Bob 6,000.00 for a year of tea: at or above {threshold:,}, "
        "a second authentication is needed.")
    reg = system.registry
    reg.set_approver(reg.identity_of(shop), device, sender=officer_b)
    say(f"   Platform B binds the shop owner's phone ({_short(device.address)}) as the shop's second factor")
    big = transfers.send(bob, Decimal("6000"), sender=shop, memo="tea, 12 months")
    say(f"   transfer {big.id}: {big.state}; time alone does not release it")
    approved = transfers.approve(big.id, sender=device)
    say(f"   [green]approved[/] on the phone: the cooling-off starts, release at {_clock(approved.release_at)}")
    chain.advance_time(int(hours * 3600))
    delivery = transfers.deliver_due(sender=chain.accounts[0])
    say(f"   {hours:g} hours later a keeper delivers {delivery.settled} due transfer(s) in "
        f"{len(delivery.receipts)} transaction(s): Bob now has {cur.balance_of(bob):,}")

    say("[bold]11.[/] Alice pays Bob an 80.00 deposit for a second-hand bike that never comes; she disputes it.")
    deposit = transfers.send(bob, Decimal("80"), sender=alice, memo="bike deposit")
    disputed = transfers.dispute(deposit.id, sender=alice)
    say(f"   transfer {deposit.id}: {disputed.state}; neither release nor revoke until compliance decides "
        f"(deadline {_clock(disputed.dispute_deadline)}, 72 hours)")
    resolved = transfers.resolve(deposit.id, to_recipient=False)
    say(f"   [green]{resolved.state}[/]: compliance returns the 80.00 to Alice; escrow now holds "
        f"{transfers.total_held():,}")


def _clock(timestamp: int | None) -> str:
    from datetime import datetime, timezone

    return "-" if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc).strftime("%a %H:%M UTC")


def _platform_scenes(system: System, chain: Chain, say, *, dora, alice, shop, device, officers, treasuries) -> None:
    """Scenes 12-15: platform balances backed by reserve, interconversion, the cap's waterfall."""
    reg, cur, p, transfers = system.registry, system.currency, system.platforms, system.transfers
    (officer_a, officer_b), (treasury_a, treasury_b) = officers, treasuries
    dora_a, dora_b = dora
    chain.advance_time(86_400)
    say("[bold]12.[/] Next morning the platforms open balances backed by reserve (the second tier of money): "
        "every unit they issue is a unit of digital currency in their reserve, held by contract.")
    for platform, officer, treasury in ((1, officer_a, treasury_a), (2, officer_b, treasury_b)):
        reg.register_identity(identity_id(f"demo platform {platform} treasury"), 3 if platform == 1 else 4, treasury,
                              sender=officer)
        cur.mint(treasury, Decimal(20_000))
        p.create(platform, treasury)
    dora_id = identity_id({"name": "Dora", "id_number": "demo-Dora"})
    reg.register_identity(dora_id, 2, dora_a, sender=officer_a)
    reg.link_address(dora_id, dora_b, sender=officer_b, consenting=dora_a)  # her consent, signed with her key
    cur.mint(dora_a, Decimal(1_000))
    p.top_up(1, Decimal(400), sender=dora_a)
    p.issue(2, shop, Decimal(2_000), sender=treasury_b)
    say(f"   Dora, a customer of Platform A with a second wallet at Platform B (linked with her signed consent), tops "
        f"up 400.00 from her currency wallet at A; Platform B issues 2,000.00 to the tea shop against its own "
        f"currency. Reserves: A {p.reserve_of(1):,} for {p.supply_of(1):,} issued, B {p.reserve_of(2):,} for "
        f"{p.supply_of(2):,} (ratio 100 %)")

    say("[bold]13.[/] Dora moves 150.00 of her Platform A balance to her Platform B wallet: burn on A, reserve "
        "A -> B, mint on B, in one transaction (same name: both wallets are hers).")
    moved = p.interconvert(1, 2, Decimal(150), sender=dora_a, to=dora_b)
    say(f"   [green]settled[/] in block {moved.receipt.block_number} ({moved.receipt.gas_used:,} gas): A balance "
        f"{p.balance_of(dora_a, 1):,}, B balance {p.balance_of(dora_b, 2):,}; reserves A {p.reserve_of(1):,}, "
        f"B {p.reserve_of(2):,}")

    threshold = transfers.approval_threshold()
    say(f"[bold]14.[/] Platform A pays Dora's 6,000.00 salary into her balance; she starts moving all of it to "
        f"Platform B. At or above {threshold:,} the move waits in the revocable escrow for her second device.")
    p.issue(1, dora_a, Decimal(6_000), sender=treasury_a)
    reg.set_approver(dora_id, device, sender=officer_a)
    big = p.interconvert(1, 2, Decimal(6_000), sender=dora_a, to=dora_b, memo="move salary")
    say(f"   transfer {big.escrow_id}: {transfers.get(big.escrow_id).state}; the reserve left A "
        f"({p.reserve_of(1):,}) and waits in escrow ({transfers.total_held():,})")
    transfers.revoke(big.escrow_id, sender=dora_a)
    say(f"   [green]revoked[/] before her phone approves it: back in her A balance ({p.balance_of(dora_a, 1):,}), "
        f"reserve A {p.reserve_of(1):,}")

    say("[bold]15.[/] Compliance caps merchant wallets (tier 4) at 1,000.00, as the digital euro caps holdings: "
        "the excess of a payment sweeps to the merchant's platform balance (waterfall).")
    cur.set_wallet_class(4, balance_cap=Decimal(1_000))
    before = cur.balance_of(shop)
    paid = cur.transfer(shop, Decimal(500), sender=alice)
    excess = cur.from_units(paid.event("Waterfall")["excess"])
    say(f"   Alice pays the shop 500.00 (it held {before:,}): {Decimal(500) - excess:,} lands in its wallet, "
        f"[green]{excess:,} in its Platform B balance[/] (now {p.balance_of(shop, 2):,}); reserve B {p.reserve_of(2):,}")


def _platform_table(system: System, people) -> Table:
    cur, p = system.currency, system.platforms
    table = Table(title="Platform balances and reserves")
    for col in ("who", "Platform A balance", "Platform B balance"):
        table.add_column(col, justify="left" if col == "who" else "right")
    for person in people:
        table.add_row(person.name, f"{p.balance_of(person.account, 1):,}", f"{p.balance_of(person.account, 2):,}")
    table.add_row("issued (supply)", f"{p.supply_of(1):,}", f"{p.supply_of(2):,}")
    table.add_row("reserve (digital currency held)", f"{p.reserve_of(1):,}", f"{p.reserve_of(2):,}")
    in_wallets = cur.total_supply() - p.total_reserve() - system.transfers.total_held()
    table.caption = (f"every unit of the {cur.total_supply():,} {cur.symbol} issued is in a wallet ({in_wallets:,}) or a "
                     f"reserve ({p.total_reserve():,})")
    return table
