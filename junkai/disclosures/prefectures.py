"""The 47 prefectures, and which one this police is (setting JUNKAI_PREFECTURE)."""

from __future__ import annotations

from django.conf import settings

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip

#: The 要領 is 大分県警察's; another prefecture sets JUNKAI_PREFECTURE.
DEFAULT_PREFECTURE = "大分県"


def home_prefecture() -> str:
    return str(getattr(settings, "JUNKAI_PREFECTURE", DEFAULT_PREFECTURE))


def normalise(text: str) -> str | None:
    """'福岡', '福岡県', '福岡県警察', '警視庁' → the prefecture's name; None if none matches."""
    value = text.strip().replace(" ", "").replace("　", "")
    if value in ("警視庁", "東京"):
        return "東京都"
    if value in ("本県", "本県警察"):
        return home_prefecture()
    value = value.removesuffix("警察本部").removesuffix("警察")
    for name in PREFECTURES:
        if value in (name, name[:-1]) and value:
            return name
    return None


def choices() -> list[tuple[str, str]]:
    """This prefecture first, then the others in the usual order."""
    home = home_prefecture()
    return [(home, f"{home}（本県）")] + [(p, p) for p in PREFECTURES if p != home]
