from proactive.masking import mask_id, mask_phone


def test_id_keeps_first_six_and_last_four() -> None:
    assert mask_id("330108196611250026") == "330108********0026"


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_phone("123") == "***"


def test_numbers_quoted_in_free_text_are_masked() -> None:
    from proactive.masking import mask_numbers

    twilio = "The 'To' number +8613800138000 is not a valid phone number."
    assert mask_numbers(twilio) == "The 'To' number +86138****8000 is not a valid phone number."
    postgres = "Key (id_number)=(33010819661125002X) already exists. [parameters: ('13800138000',"
    assert mask_numbers(postgres) == (
        "Key (id_number)=(330108********002X) already exists. [parameters: ('138****8000',"
    )
    untouched = "run 12 failed at 2026-11-25 02:00; SID SM0123456789abcdef0123456789abcdef"
    assert mask_numbers(untouched) == untouched


def test_address_keeps_the_street_only() -> None:
    from proactive.masking import mask_address

    full = "浙江省杭州市滨江区西兴街道江汉路1785号双城国际4幢1单元1201室"
    masked = mask_address(full)
    assert masked.startswith("浙江省杭州市滨江区西兴街道") and "1785" not in masked
    assert mask_address("江汉路1785号") == "江汉路" + "*" * 5
