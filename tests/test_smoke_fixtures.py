from decimal import Decimal


def test_fixture_state_and_isolation_part1(system, actors):
    assert system.currency.balance_of(actors.alice) == Decimal("1000.00")
    system.currency.transfer(actors.bob, Decimal("10"), sender=actors.alice)
    assert system.currency.balance_of(actors.alice) == Decimal("990.00")


def test_fixture_state_and_isolation_part2(system, actors):
    # the transfer of part 1 was reverted with its snapshot
    assert system.currency.balance_of(actors.alice) == Decimal("1000.00")
    assert system.registry.identity_of(actors.alice2) == actors.alice_id
