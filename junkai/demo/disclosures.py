"""Demo history of the 利用確認簿, of agency requests and of misuse signals (`junkai demo`).

Everything goes through the actions (and the reads through junkai.access), so the audit trail
is real: each release shows in its households' access logs, and the misuse flags rest on real
read events. Fictional requesters only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from junkai.disclosures import actions
from junkai.disclosures.misuse import scan
from junkai.disclosures.models import AgencyRequest, DataUse, MisuseFlag
from junkai.households.access import access_household, record_list_read
from junkai.households.models import CardStatus, Household
from junkai.org.models import Officer, Station

#: A one-page PDF standing in for a scanned written request.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class DemoDisclosures:
    data_uses: int = 0
    agency_requests: int = 0
    flags: int = 0


def _carded(station: Station, post_code: str, n: int) -> list[Household]:
    return list(
        Household.objects.filter(
            station=station, post__code=post_code, cards__status=CardStatus.ACTIVE
        )
        .order_by("id")
        .distinct()[:n]
    )


@transaction.atomic
def build_demo_disclosures(station: Station) -> DemoDisclosures:
    """A few entries of each kind at the demo station and two misuse flags (once)."""
    if DataUse.objects.filter(station=station).exists():
        return DemoDisclosures()
    k1 = _carded(station, "K1", 60)
    k2 = _carded(station, "K2", 3)
    if len(k1) < 45 or not k2:
        return DemoDisclosures()  # no demo households (junkai demo --households 0)
    o = {
        u: Officer.objects.get(username=u) for u in ("kacho", "officer1a", "officer1b", "officer2a")
    }

    # 1. 本県の刑事課: verified by callback, released at once.
    same = actions.do_record_data_use(
        acting_officer=o["officer1a"],
        requester_name="巡査部長 岸本 誠",
        requester_unit="みなと中央警察署 刑事課強行犯係",
        requester_prefecture="大分県",
        police_phone="7-2231",
        purpose="窃盗事件の被害者への連絡先確認",
        household_ids=[k1[0].id],
    )
    actions.do_verify_identity(same, acting_officer=o["officer1a"], callback_number="7-2231")
    actions.do_release_data_use(
        same,
        acting_officer=o["officer1a"],
        items={k1[0].id: ["names", "phones"]},
        method="ORAL",
    )
    # 2. 福岡県警察: verified, waiting for the 地域課長's approval.
    waiting = actions.do_record_data_use(
        acting_officer=o["officer1b"],
        requester_name="警部補 柴田 亮介",
        requester_unit="福岡県警察 博多警察署 生活安全課",
        requester_prefecture="福岡県",
        police_phone="092-000-0110 内線 315",
        purpose="行方不明者届に係る親族の連絡先確認",
        household_ids=[k1[1].id, k1[2].id],
    )
    actions.do_verify_identity(
        waiting,
        acting_officer=o["officer1b"],
        callback_number="092-000-0110 内線 315",
    )
    # 3. 熊本県警察 via the 地域課: verified, approved, released.
    approved = actions.do_record_data_use(
        acting_officer=o["kacho"],
        requester_name="巡査長 森 早苗",
        requester_unit="熊本県警察 阿蘇警察署 地域課",
        requester_prefecture="熊本県",
        police_phone="096-000-0110 内線 204",
        purpose="交通事故当事者の緊急連絡先確認",
        household_ids=[k2[0].id],
    )
    actions.do_verify_identity(
        approved,
        acting_officer=o["kacho"],
        callback_number="096-000-0110 内線 200",
        note="代表番号経由で本人に転送を受けて確認",
    )
    actions.do_approve_data_use(approved, acting_officer=o["kacho"])
    actions.do_release_data_use(
        approved,
        acting_officer=o["kacho"],
        items={k2[0].id: ["names", "emergency_contacts"]},
        method="ORAL",
    )
    # 4. Just received at 本町交番: nothing released yet.
    actions.do_record_data_use(
        acting_officer=o["officer2a"],
        requester_name="巡査 今村 直人",
        requester_unit="大分県警察本部 生活安全企画課",
        requester_prefecture="大分県",
        police_phone="7-1102",
        purpose="特殊詐欺被害防止の注意喚起対象の確認",
        household_ids=[h.id for h in k2[1:3]] or [k2[0].id],
    )

    # Agency requests: one provided, one refused, one waiting for its written request.
    with_document = bool(getattr(settings, "MEDIA_ROOT", ""))
    welfare = actions.do_record_agency_request(
        acting_officer=o["kacho"],
        agency_name="みなと市 福祉保健部 福祉課",
        recipient_name="主査 水野 千尋",
        recipient_contact="みなと市役所 福祉課 097-000-1234",
        purpose="避難行動要支援者名簿の作成（本人同意済みの者の安否確認体制）",
        legal_basis="災害対策基本法第49条の10第3項",
        household_ids=[k1[3].id],
    )
    refused = actions.do_record_agency_request(
        acting_officer=o["officer1a"],
        agency_name="みなと市 市民課",
        recipient_name="係長 大野 聡",
        recipient_contact="097-000-2000",
        purpose="住民の転居状況の確認",
        legal_basis="（照会文書に記載なし）",
        household_ids=[k1[4].id],
    )
    actions.do_record_agency_request(
        acting_officer=o["officer1b"],
        agency_name="大分地方法務局",
        recipient_name="登記官 松田 優",
        recipient_contact="097-000-3000",
        purpose="所有者不明土地の所有者の所在確認",
        legal_basis="所有者不明土地の利用の円滑化等に関する特別措置法第43条第1項",
        household_ids=[k1[5].id],
    )
    if with_document:
        for entry in (welfare, refused):
            actions.do_attach_agency_document(
                entry,
                acting_officer=o["kacho"],
                upload=SimpleUploadedFile("shokai.pdf", DEMO_PDF, "application/pdf"),
            )
        actions.do_decide_agency_request(
            welfare,
            acting_officer=o["kacho"],
            decision="APPROVED",
            reason="法令上の根拠を照会文書で確認。本人同意の範囲に限り提供",
        )
        actions.do_release_agency_request(
            welfare,
            acting_officer=o["kacho"],
            items={k1[3].id: ["names", "address", "support"]},
            method="GIVEN",
        )
        actions.do_decide_agency_request(
            refused,
            acting_officer=o["kacho"],
            decision="REFUSED",
            reason="法令上の根拠の記載がなく、提供の必要性も示されていない",
        )

    # Misuse: officer1c opens cards of a beat not his own with no work around it, and
    # officer1d goes through forty cards in a few minutes (with a work list open).
    browsing = Officer.objects.get(username="officer1c")
    for household in k1[6:9]:
        access_household(browsing, household.id, purpose="世帯ページの閲覧")
    bulk = Officer.objects.get(username="officer1d")
    record_list_read(bulk, beat=None, count=40, purpose="作業リスト")
    for household in k1[10:45]:
        access_household(bulk, household.id, purpose="世帯ページの閲覧")
    flags = scan(judge_recent=True).flags
    for flag in flags:
        if flag.officer_id == bulk.id:
            actions.do_review_misuse_flag(
                flag,
                acting_officer=o["kacho"],
                note="本人に確認。転入世帯の一斉確認のため作業リストから順に開いたもの。"
                "必要な世帯に限って開くよう指導した。",
            )
    return DemoDisclosures(
        data_uses=DataUse.objects.filter(station=station).count(),
        agency_requests=AgencyRequest.objects.filter(station=station).count(),
        flags=MisuseFlag.objects.filter(station=station).count(),
    )
