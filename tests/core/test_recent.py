from bot.core.recent import Recent


def test_the_oldest_are_forgotten_past_the_limit() -> None:
    seen: Recent[str, int] = Recent(3)
    for number, key in enumerate("abcde"):
        seen[key] = number
    assert list(seen.items()) == [("c", 2), ("d", 3), ("e", 4)]
    seen["c"] = 9  # a known key keeps its place and takes nothing else out
    assert list(seen) == ["c", "d", "e"] and seen["c"] == 9
