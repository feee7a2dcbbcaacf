from shared import advisory_locks


def test_no_two_advisory_lock_keys_are_the_same() -> None:
    keys = [v for n, v in vars(advisory_locks).items() if n.isupper() and isinstance(v, int)]

    assert keys
    assert len(set(keys)) == len(keys)
