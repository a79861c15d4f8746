"""Why a row or a field was rejected, flagged or dropped: stable codes, Chinese and English text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


def _r(code: str, zh: str, en: str) -> Reason:
    return Reason(code, zh, en)


MISSING_VALUE = _r("missing_value", "必填项为空", "required value is empty")
ID_FORMAT = _r(
    "id_format", "身份证号格式错误（应为18位）", "ID number is not 18 characters (or 15 legacy)"
)
ID_CHECKSUM = _r("id_checksum", "身份证号校验位错误", "ID number check digit is wrong")
ID_BIRTH_DATE = _r(
    "id_birth_date", "身份证号中的出生日期无效", "ID number encodes an impossible date"
)
ID_BIRTH_MISMATCH = _r(
    "id_birth_mismatch",
    "出生日期与身份证号不一致，待人工核查",
    "birth_date disagrees with the ID number",
)
ID_SEX_MISMATCH = _r(
    "id_sex_mismatch", "性别与身份证号不一致，待人工核查", "sex disagrees with the ID number"
)
BAD_DATE = _r("bad_date", "日期格式错误（应为YYYY-MM-DD）", "date is not YYYY-MM-DD")
BAD_DATETIME = _r("bad_datetime", "时间格式错误", "timestamp is not ISO 8601")
BAD_SEX = _r("bad_sex", "性别应为“男”或“女”", "sex must be 男 or 女")
BAD_ENUM = _r("bad_enum", "取值不在允许范围内", "value is not one of the allowed values")
BAD_MOBILE = _r(
    "bad_mobile", "手机号无效，已忽略该号码", "mobile number is invalid and was dropped"
)
BAD_DIVISION = _r("bad_division", "区划代码应为12位数字", "division code must be 12 digits")
BAD_COORDS = _r("bad_coords", "经纬度无效，已忽略坐标", "coordinates are invalid and were dropped")
BAD_INTEGER = _r("bad_integer", "应为非负整数", "must be a non-negative integer")
BAD_BOOLEAN = _r("bad_boolean", "应为是/否", "must be true/false")
BAD_PERIOD = _r("bad_period", "有效期截止日早于起始日", "valid_to is before valid_from")
DEATH_DATE_MISSING = _r(
    "death_date_missing", "状态为死亡但无死亡日期，待人工核查", "deceased without a death_date"
)
DEATH_DATE_UNEXPECTED = _r(
    "death_date_unexpected",
    "有死亡日期但户籍状态不是死亡，待人工核查",
    "death_date given but hukou_status is not deceased",
)
DUPLICATE_CONFLICT = _r(
    "duplicate_conflict",
    "同一身份证号出现多行且更新时间相同，无法判断以哪行为准",
    "same key on several rows with the same updated_at: cannot tell which is current",
)
SUPERSEDED = _r(
    "superseded", "同一主键有更新的行，本行被取代", "a later row with the same key wins"
)
DUPLICATE_ROW = _r(
    "duplicate_row", "与另一行完全相同，已合并", "identical to another row; loaded once"
)
STALE_ROW = _r(
    "stale_row", "数据库中已有更新的版本，本行未写入", "the database already holds a newer version"
)
BAD_FIELD_COUNT = _r(
    "bad_field_count", "该行字段数与表头不符", "row has a different number of fields"
)
UNKNOWN_SITE = _r("unknown_site", "所属服务站点不存在", "site_id is not a known site")
UNKNOWN_HOUSEHOLD = _r(
    "unknown_household",
    "户号在户籍地址表中不存在，待人工核查",
    "household_id is not a known household",
)
FUTURE_UPDATE = _r(
    "future_update",
    "更新时间晚于当前时间超过1天，无法作为最新记录",
    "updated_at lies more than a day in the future: it cannot be the current record",
)
BIRTH_DATE_RANGE = _r(
    "birth_date_range",
    "出生日期不合理（早于1900-01-01或晚于今天）",
    "birth_date is before 1900-01-01 or after today",
)
DEATH_BEFORE_BIRTH = _r(
    "death_before_birth", "死亡日期早于出生日期", "death_date is before birth_date"
)
FUTURE_DEATH = _r("future_death", "死亡日期晚于今天", "death_date is after today")
TOO_LONG = _r(
    "too_long",
    "内容超过该列的长度上限",
    "value is longer than the column allows",
)
CONTROL_CHARACTERS = _r(
    "control_characters",
    "含有控制字符（如NUL），已删除（换行、制表符改为空格）",
    "control characters (such as NUL) were removed; line breaks and tabs became spaces",
)
