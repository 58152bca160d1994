"""Video as a list of frames: one video part per turn, in both protocols."""

from chat.upstream import ChatRequest, ChatTurn
from chat.upstream.protocols import dashscope, openai_compat

FRAMES = ("data:image/jpeg;base64,AAA", "data:image/jpeg;base64,BBB", "data:image/jpeg;base64,CCC")


def request(**turn) -> ChatRequest:
    return ChatRequest(
        model="qwen3-vl-plus", messages=(ChatTurn(role="user", content="What happens?", **turn),)
    )


def test_openai_body_sends_frames_as_one_video_part_before_the_text():
    body = openai_compat.build_body(request(video_frames=FRAMES))
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "video", "video": list(FRAMES)},
                {"type": "text", "text": "What happens?"},
            ],
        }
    ]


def test_dashscope_body_sends_frames_as_one_video_part_before_the_text():
    body = dashscope.build_body(request(video_frames=FRAMES))
    assert body["input"]["messages"] == [
        {"role": "user", "content": [{"video": list(FRAMES)}, {"text": "What happens?"}]}
    ]


def test_images_and_frames_together_keep_images_first():
    body = openai_compat.build_body(
        request(images=("data:image/png;base64,III",), video_frames=FRAMES[:2])
    )
    kinds = [part["type"] for part in body["messages"][0]["content"]]
    assert kinds == ["image_url", "video", "text"]


def test_frames_for_a_model_without_vision_are_refused():
    plain = ChatRequest(
        model="qwen-plus", messages=(ChatTurn(role="user", content="x", video_frames=FRAMES),)
    )
    try:
        openai_compat.build_body(plain)
    except ValueError as exc:
        assert getattr(exc, "field", None) == "attachments"
    else:
        raise AssertionError("frames for a text model must be refused")
