"""様式の印刷・略図 over the API: each form as a PDF (第1〜7号様式).

Every operation reads through junkai.access (404 alike for absent and out of scope) and every
print is recorded (様式の印刷) on each household whose data it shows; the footer of every page
names the printing officer and the time. Bad query parameters answer 422 naming the field.
The pages' print buttons link here (the browser session authenticates as on every API call).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from junkai.access.declare import declare_access
from junkai.api.auth import request_officer
from junkai.api.boundary import DateText, Id, Month, Text
from junkai.api.purposes import ReadParams, purpose_missing, stated_purpose
from junkai.api.schemas import ErrorsOut, Message
from junkai.documents import printing
from junkai.households.access import PurposeRequired

router = Router(tags=["documents"])


class MapParams(Schema):
    town: Text = Field("", max_length=50, description="町名（省略時は受持区のすべて）")
    block_group: Text = Field("", max_length=20, description="組・班（省略時はすべて）")


class MonthParams(Schema):
    month: Month | None = Field(None, description="対象月 YYYY-MM（省略時は当月）")


class PeriodParams(Schema):
    # `from` is a Python keyword: the schema field is `since`, the query parameter `from`.
    since: DateText | None = Field(
        None,
        alias="from",
        max_length=40,
        description="期間の始め（西暦・和暦。省略時は年度の初日）",
    )
    until: DateText | None = Field(
        None, alias="to", max_length=40, description="期間の終わり（省略時は今日）"
    )


class BuildingOut(Schema):
    id: int
    name: str = Field(description="名称")
    address: str = Field(description="所在地")
    beat_id: int
    floors: int = Field(description="階数")
    rooms_per_floor: int = Field(description="各階の部屋数")
    household_count: int = Field(description="入居世帯数（転出を除く）")
    card_count: int = Field(description="作成済カードのある世帯数")


class BuildingList(Schema):
    post_id: int
    items: list[BuildingOut]


PDF_RESPONSES: dict[int, object] = {404: Message}
PDF_RESPONSES_422: dict[int, object] = {404: Message, 422: ErrorsOut}


def _pdf(printed: printing.Printed) -> HttpResponse:
    response = HttpResponse(printed.content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{printed.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@router.get("/households/{household_id}/card.pdf", response=PDF_RESPONSES_422, url_name="card_pdf")
@declare_access("scoped")
def card_pdf(request: HttpRequest, household_id: Id, params: Query[ReadParams]) -> HttpResponse:
    """巡回連絡カード（第1号様式）: 世帯のカードを記入済みで印刷. 自分の受持区の外の世帯では
    `purpose` が必要です（ないと 422。ブラウザーでは世帯ページで答えた目的を使います）。"""
    try:
        printed = printing.print_card(
            request_officer(request), household_id, stated=stated_purpose(request, params)
        )
    except PurposeRequired as required:
        raise purpose_missing() from required
    return _pdf(printed)


@router.get(
    "/households/{household_id}/disclosures.pdf",
    response={403: Message, 404: Message},
    url_name="disclosure_accounting_pdf",
)
@declare_access("scoped")
def disclosure_accounting_pdf(request: HttpRequest, household_id: Id) -> HttpResponse:
    """提供の記録: 世帯の情報の提供（利用確認簿・照会）と印刷のすべて. 世帯の管理責任者と
    警察署長のみ（ほかは 403）. 本人に交付するためのもの."""
    return _pdf(printing.print_disclosure_accounting(request_officer(request), household_id))


@router.get("/forms/blank-card.pdf", url_name="blank_card_pdf")
@declare_access("signed_in")
def blank_card_pdf(request: HttpRequest) -> HttpResponse:
    """巡回連絡カード（第1号様式）の記入用（白紙）. 個人情報を含まず、サインインした職員なら誰でも."""
    return _pdf(printing.print_blank_card(request_officer(request)))


@router.get(
    "/beats/{beat_id}/household-map.pdf", response=PDF_RESPONSES_422, url_name="household_map_pdf"
)
@declare_access("scoped")
def household_map_pdf(request: HttpRequest, beat_id: Id, params: Query[MapParams]) -> HttpResponse:
    """世帯分布略図（第2号様式）: 町名・組・班ごとに1ページ. 位置（緯度経度）のない世帯は番地順."""
    return _pdf(
        printing.print_household_map(
            request_officer(request), beat_id, town=params.town, block_group=params.block_group
        )
    )


@router.get("/posts/{post_id}/buildings", response={200: BuildingList, 404: Message})
@declare_access("scoped")
def buildings(request: HttpRequest, post_id: Id) -> dict[str, object]:
    """交番等のアパート等（第3号・第4号様式の対象）と入居世帯数."""
    post, found = printing.list_buildings(request_officer(request), post_id)
    return {
        "post_id": post.id,
        "items": [
            {
                "id": b.id,
                "name": b.name,
                "address": b.address,
                "beat_id": b.beat_id,
                "floors": b.floors,
                "rooms_per_floor": b.rooms_per_floor,
                "household_count": b.household_count,  # type: ignore[attr-defined]
                "card_count": b.card_count,  # type: ignore[attr-defined]
            }
            for b in found
        ],
    }


@router.get("/buildings/{building_id}/map.pdf", response=PDF_RESPONSES, url_name="building_map_pdf")
@declare_access("scoped")
def building_map_pdf(request: HttpRequest, building_id: Id) -> HttpResponse:
    """アパート等居住分布略図（第3号様式）: 階 × 部屋ごとの居住世帯."""
    return _pdf(printing.print_building_map(request_officer(request), building_id))


@router.get(
    "/posts/{post_id}/building-list.pdf", response=PDF_RESPONSES, url_name="building_list_pdf"
)
@declare_access("scoped")
def building_list_pdf(request: HttpRequest, post_id: Id) -> HttpResponse:
    """アパート等一覧表（第4号様式）."""
    return _pdf(printing.print_building_list(request_officer(request), post_id))


@router.get("/posts/{post_id}/card-index.pdf", response=PDF_RESPONSES, url_name="card_index_pdf")
@declare_access("scoped")
def card_index_pdf(request: HttpRequest, post_id: Id) -> HttpResponse:
    """巡回連絡カード索引簿（第5号様式）: 索引番号順と50音順."""
    return _pdf(printing.print_card_index(request_officer(request), post_id))


@router.get("/posts/{post_id}/checkouts.pdf", response=PDF_RESPONSES_422, url_name="checkouts_pdf")
@declare_access("scoped")
def checkouts_pdf(request: HttpRequest, post_id: Id, params: Query[MonthParams]) -> HttpResponse:
    """巡回連絡カード持出確認簿（第6号様式）: 交番等の1か月分と管理責任者の月次確認."""
    return _pdf(printing.print_checkouts(request_officer(request), post_id, month=params.month))


@router.get(
    "/loss-reports/{loss_report_id}/report.pdf", response=PDF_RESPONSES, url_name="loss_report_pdf"
)
@declare_access("scoped")
def loss_report_pdf(request: HttpRequest, loss_report_id: Id) -> HttpResponse:
    """亡失・盗難事故報告書: 事案の概要、通知先、報告時に簿冊に綴られていたカードの世帯と対応状況."""
    return _pdf(printing.print_loss_report(request_officer(request), loss_report_id))


@router.get(
    "/stations/{station_id}/data-uses.pdf", response=PDF_RESPONSES_422, url_name="data_uses_pdf"
)
@declare_access("scoped")
def data_uses_pdf(
    request: HttpRequest, station_id: Id, params: Query[PeriodParams]
) -> HttpResponse:
    """巡回連絡カード利用確認簿（第7号様式）: 警察署の期間内の記録（交番等の職員は自所属の記録）."""
    return _pdf(
        printing.print_data_uses(
            request_officer(request), station_id, since=params.since, until=params.until
        )
    )
