from collections import Counter

from lecturegen_cli.demo.plan import build_demo_plan
from shared.media import MediaKind
from shared.status import AssetStatus


def test_the_demo_lecture_has_eight_segments_two_videos_and_music():
    plan = build_demo_plan("t1")
    segments = plan.body["segments"]
    assert len(segments) == 8
    assert all("image" in s and "narration" in s for s in segments)
    assert sum("video" in s for s in segments) == 2
    assert "music" in plan.body
    kinds = Counter(a.kind for a in plan.assets)
    assert kinds == {
        MediaKind.IMAGE: 8,
        MediaKind.NARRATION: 8,
        MediaKind.VIDEO: 2,
        MediaKind.MUSIC: 1,
    }


def test_the_fault_directives_of_design_section_8_are_each_planned_with_their_outcome():
    plan = build_demo_plan("t1")
    by_directive = Counter()
    for asset in plan.assets:
        for directive in (
            "[[sim:transient x2]]",
            "[[sim:rate-limit x1 after=2]]",
            "[[sim:sensitive]]",
            "[[sim:transient x9]]",
        ):
            if directive in asset.prompt:
                by_directive[(directive, asset.expected)] += 1
    assert by_directive == {
        ("[[sim:transient x2]]", AssetStatus.GENERATED): 2,
        ("[[sim:rate-limit x1 after=2]]", AssetStatus.GENERATED): 1,
        ("[[sim:sensitive]]", AssetStatus.NEEDS_PROMPT_UPDATE): 1,
        ("[[sim:transient x9]]", AssetStatus.FAILED): 1,
    }


def test_the_prompts_in_the_request_body_are_the_planned_ones():
    plan = build_demo_plan("t1")
    body_prompts = [s["image"]["prompt"] for s in plan.body["segments"]]
    body_prompts += [s["narration"]["text"] for s in plan.body["segments"]]
    body_prompts += [s["video"]["prompt"] for s in plan.body["segments"] if "video" in s]
    body_prompts.append(plan.body["music"]["prompt"])
    assert sorted(body_prompts) == sorted(a.prompt for a in plan.assets)


def test_each_run_tag_makes_the_faulty_prompts_new_inputs_for_the_local_server():
    first, second = build_demo_plan("aaaa"), build_demo_plan("bbbb")
    faulty = [a for a in first.assets if "[[sim:" in a.prompt]
    assert faulty
    assert all("aaaa" in a.prompt for a in faulty)
    assert not {a.prompt for a in faulty} & {a.prompt for a in second.assets}


def test_a_clean_plan_has_no_directives_and_expects_everything_generated():
    plan = build_demo_plan("t1", faults=False)
    assert not any("[[sim:" in a.prompt for a in plan.assets)
    assert {a.expected for a in plan.assets} == {AssetStatus.GENERATED}


def test_planned_assets_are_found_by_kind_and_segment():
    plan = build_demo_plan("t1")
    sensitive = plan.planned(MediaKind.IMAGE, "s4")
    assert sensitive is not None
    assert sensitive.expected is AssetStatus.NEEDS_PROMPT_UPDATE
    music = plan.planned(MediaKind.MUSIC, None)
    assert music is not None
    assert music.expected is AssetStatus.GENERATED
    assert plan.planned(MediaKind.VIDEO, "s1") is None
