from proactive.masking import mask_id, mask_phone


def test_id_keeps_first_six_and_last_four() -> None:
    assert mask_id("330108196611250026") == "330108********0026"


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_phone("123") == "***"
