from api.broadcaster import Broadcaster


def test_a_notification_wakes_only_the_subscribers_of_its_lecture() -> None:
    hub = Broadcaster("postgresql://unused")
    with (
        hub.subscribe("lec:1") as first,
        hub.subscribe("lec:1") as second,
        hub.subscribe("other") as other,
    ):
        hub.notify("lec:1:42")
        assert first.is_set()
        assert second.is_set()
        assert not other.is_set()
        assert hub.clients == 3


def test_a_payload_without_a_sequence_number_wakes_everyone() -> None:
    hub = Broadcaster("postgresql://unused")
    with hub.subscribe("a") as a, hub.subscribe("b") as b:
        hub.notify("garbage")
        assert a.is_set()
        assert b.is_set()


def test_leaving_unsubscribes() -> None:
    hub = Broadcaster("postgresql://unused")
    with hub.subscribe("a"):
        pass
    assert hub.clients == 0
