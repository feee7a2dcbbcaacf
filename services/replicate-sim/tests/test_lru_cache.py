from replicate_sim.lru import LruCache


def sized() -> LruCache[str, bytes]:
    return LruCache(max_bytes=10, size_of=len)


def test_values_are_kept_while_they_fit_the_budget() -> None:
    cache = sized()
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert (cache.get("a"), cache.get("b"), len(cache)) == (b"12345", b"12345", 2)


def test_the_least_recently_used_value_goes_first() -> None:
    cache = sized()
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    cache.get("a")
    cache.put("c", b"1234")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1234", None, b"1234")


def test_a_value_larger_than_the_budget_is_still_kept_alone() -> None:
    cache = sized()
    cache.put("a", b"1")
    cache.put("big", b"x" * 50)
    assert (cache.get("a"), cache.get("big"), len(cache)) == (None, b"x" * 50, 1)


def test_replacing_a_value_counts_only_the_new_size() -> None:
    cache = sized()
    cache.put("a", b"123456789")
    cache.put("a", b"1")
    cache.put("b", b"123456789")
    assert (cache.get("a"), cache.get("b")) == (b"1", b"123456789")


def test_clear_empties_the_cache() -> None:
    cache = sized()
    cache.put("a", b"1")
    cache.clear()
    assert (cache.get("a"), len(cache)) == (None, 0)
