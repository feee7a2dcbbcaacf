from lecturegen_cli.sse import SseMessage, SseParser


def _feed(parser, text):
    return [m for line in text.split("\n") if (m := parser.feed(line)) is not None]


def test_a_message_is_emitted_at_the_blank_line_with_its_event_id_and_data():
    parser = SseParser()
    messages = _feed(parser, 'event: asset.generated\nid: 7\ndata: {"a":1}\n\n')
    assert messages == [SseMessage("asset.generated", '{"a":1}', "7")]
    assert parser.last_event_id == "7"


def test_comments_are_ignored_and_multi_line_data_is_joined():
    parser = SseParser()
    messages = _feed(parser, ": heartbeat\n\ndata: one\ndata: two\n\n")
    assert messages == [SseMessage("message", "one\ntwo", None)]


def test_the_last_event_id_survives_messages_without_an_id():
    parser = SseParser(last_event_id="3")
    _feed(parser, "data: x\n\n")
    assert parser.last_event_id == "3"
