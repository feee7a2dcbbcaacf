from replicate_sim.directives import (
    DEFAULT_RATE_LIMIT_AFTER_S,
    Directives,
    RateLimit,
    ReadFaults,
    parse_directives,
    strip_directives,
)


def test_an_input_without_markers_asks_for_nothing() -> None:
    assert parse_directives({"prompt": "a cat on a mat", "seed": 3}) == Directives()


def test_flag_directives_are_found_anywhere_in_the_prompt() -> None:
    directives = parse_directives(
        {"prompt": "a cat [[sim:sensitive]] on a mat [[sim:model-error]]"}
    )
    assert directives.sensitive
    assert directives.model_error


def test_narration_text_is_searched_as_well_as_the_prompt() -> None:
    assert parse_directives({"text": "Hello [[sim:aborted]]", "voice": "af_bella"}).aborted


def test_string_values_in_nested_inputs_are_searched() -> None:
    directives = parse_directives({"prompt": "x", "extra": {"notes": ["[[sim:empty-output]]"]}})
    assert directives.empty_output


def test_invalid_input_names_the_field_that_carries_it() -> None:
    directives = parse_directives({"prompt": "a [[sim:invalid-input]]"})
    assert directives.invalid_input_field == "input.prompt"
    assert parse_directives({"text": "[[sim:invalid-input]]"}).invalid_input_field == "input.text"


def test_transient_and_hang_take_a_count_that_defaults_to_one() -> None:
    assert parse_directives({"prompt": "[[sim:transient x3]]"}).transient == 3
    assert parse_directives({"prompt": "[[sim:transient]]"}).transient == 1
    assert parse_directives({"prompt": "[[sim:hang x2]]"}).hang == 2


def test_rate_limit_takes_a_count_and_a_reset_hint() -> None:
    directives = parse_directives({"prompt": "[[sim:rate-limit x2 after=7]]"})
    assert directives.rate_limit == RateLimit(times=2, after_s=7)


def test_rate_limit_without_a_hint_uses_replicates_sample_hint() -> None:
    limit = parse_directives({"prompt": "[[sim:rate-limit x1]]"}).rate_limit
    assert limit == RateLimit(times=1, after_s=DEFAULT_RATE_LIMIT_AFTER_S)


def test_a_fractional_reset_hint_rounds_up_to_whole_seconds() -> None:
    limit = parse_directives({"prompt": "[[sim:rate-limit x1 after=0.2]]"}).rate_limit
    assert limit == RateLimit(times=1, after_s=1)


def test_latency_may_be_fractional() -> None:
    assert parse_directives({"prompt": "[[sim:latency=0.25]]"}).latency_s == 0.25
    assert parse_directives({"prompt": "[[sim:latency=2s]]"}).latency_s == 2.0


def test_markers_tolerate_spaces_and_capitals() -> None:
    directives = parse_directives({"prompt": "[[ sim:Transient X2 ]] [[SIM:sensitive]]"})
    assert directives.transient == 2
    assert directives.sensitive


def test_markers_that_cannot_be_understood_are_reported_and_otherwise_ignored() -> None:
    directives = parse_directives(
        {"prompt": "[[sim:explode]] [[sim:latency=soon]] [[sim:transient xmany]] [[sim:]]"}
    )
    assert directives.unknown == ("explode", "latency=soon", "transient xmany", "")
    assert directives.latency_s is None
    assert directives.transient == 0


def test_stripping_removes_the_markers_and_tidies_the_spaces() -> None:
    assert strip_directives("A cat [[sim:latency=1]] on a mat [[sim:hang x2]]") == "A cat on a mat"


def test_expiry_credit_permission_and_read_faults_are_understood() -> None:
    directives = parse_directives(
        {
            "prompt": "[[sim:expire-output x2]] [[sim:insufficient-credit]] [[sim:forbidden]] "
            "[[sim:read-error x3 status=503]] [[sim:read-drop]]"
        }
    )
    assert directives.expire_output == 2
    assert directives.insufficient_credit
    assert directives.forbidden
    assert directives.reads == ReadFaults(errors=3, status=503, drops=1)
    assert directives.unknown == ()


def test_a_read_error_must_be_a_server_error() -> None:
    assert parse_directives({"prompt": "[[sim:read-error status=404]]"}).unknown == (
        "read-error status=404",
    )
