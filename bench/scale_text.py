"""Japanese text for the scale benchmark: room names, document titles and 400–800 character bodies about
economic security, generated from a vocabulary of the council's subjects. Deterministic: the same
``random.Random`` state gives the same text, so every seeded database holds the same documents.

Each room has a theme (a few subjects it talks about most), and documents mix in the other subjects, so a
word like レアアース or 輸出規制 is frequent in some rooms and rare in others, as in real material.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from portal.enums import SubcommitteeKind

#: The subjects the council talks about. Each document draws its words mostly from its room's theme.
SUBJECTS = (
    "レアアース",
    "ガリウム",
    "ゲルマニウム",
    "黒鉛",
    "半導体",
    "先端半導体製造装置",
    "蓄電池",
    "造船",
    "海底ケーブル",
    "重要インフラ",
    "電力系統",
    "通信網",
    "決済システム",
    "医薬品原薬",
    "サプライチェーン",
    "輸出規制",
    "投資審査",
    "技術流出",
    "経済的威圧",
    "サイバー攻撃",
    "人工知能",
    "量子技術",
    "宇宙システム",
    "港湾物流",
    "食料安全保障",
    "液化天然ガス",
    "クラウドサービス",
    "工作機械",
)

#: (Japanese name, English name, kind, theme subjects). Twenty rooms, the three kinds in turn.
ROOMS = (
    (
        "重要鉱物分科会",
        "Critical Minerals",
        SubcommitteeKind.RAPID_RESPONSE,
        ("レアアース", "ガリウム", "輸出規制"),
    ),
    ("AGI分科会", "AGI", SubcommitteeKind.POLICY_COORDINATION, ("人工知能", "技術流出", "クラウドサービス")),
    (
        "重要インフラ機能停止分科会",
        "Critical Infrastructure Outage",
        SubcommitteeKind.RISK_REVIEW,
        ("重要インフラ", "電力系統", "サイバー攻撃"),
    ),
    (
        "造船分科会",
        "Shipbuilding",
        SubcommitteeKind.POLICY_COORDINATION,
        ("造船", "海底ケーブル", "サプライチェーン"),
    ),
    (
        "半導体分科会",
        "Semiconductors",
        SubcommitteeKind.RAPID_RESPONSE,
        ("半導体", "先端半導体製造装置", "輸出規制"),
    ),
    (
        "蓄電池分科会",
        "Batteries",
        SubcommitteeKind.POLICY_COORDINATION,
        ("蓄電池", "黒鉛", "サプライチェーン"),
    ),
    (
        "通信網強靱化分科会",
        "Resilient Telecoms",
        SubcommitteeKind.RISK_REVIEW,
        ("通信網", "海底ケーブル", "サイバー攻撃"),
    ),
    (
        "医薬品供給分科会",
        "Pharmaceutical Supply",
        SubcommitteeKind.RAPID_RESPONSE,
        ("医薬品原薬", "サプライチェーン", "輸出規制"),
    ),
    (
        "経済的威圧対応分科会",
        "Economic Coercion",
        SubcommitteeKind.RAPID_RESPONSE,
        ("経済的威圧", "輸出規制", "レアアース"),
    ),
    (
        "技術流出防止分科会",
        "Technology Protection",
        SubcommitteeKind.POLICY_COORDINATION,
        ("技術流出", "投資審査", "工作機械"),
    ),
    (
        "決済基盤分科会",
        "Payment Infrastructure",
        SubcommitteeKind.RISK_REVIEW,
        ("決済システム", "重要インフラ", "サイバー攻撃"),
    ),
    (
        "量子技術分科会",
        "Quantum Technology",
        SubcommitteeKind.POLICY_COORDINATION,
        ("量子技術", "技術流出", "半導体"),
    ),
    (
        "宇宙システム分科会",
        "Space Systems",
        SubcommitteeKind.POLICY_COORDINATION,
        ("宇宙システム", "通信網", "サプライチェーン"),
    ),
    (
        "港湾物流分科会",
        "Ports and Logistics",
        SubcommitteeKind.RISK_REVIEW,
        ("港湾物流", "造船", "サプライチェーン"),
    ),
    (
        "エネルギー安定供給分科会",
        "Energy Supply",
        SubcommitteeKind.RISK_REVIEW,
        ("液化天然ガス", "電力系統", "重要インフラ"),
    ),
    (
        "食料安全保障分科会",
        "Food Security",
        SubcommitteeKind.POLICY_COORDINATION,
        ("食料安全保障", "港湾物流", "輸出規制"),
    ),
    (
        "投資審査分科会",
        "Investment Screening",
        SubcommitteeKind.RAPID_RESPONSE,
        ("投資審査", "技術流出", "半導体"),
    ),
    (
        "クラウド基盤分科会",
        "Cloud Infrastructure",
        SubcommitteeKind.RISK_REVIEW,
        ("クラウドサービス", "サイバー攻撃", "人工知能"),
    ),
    (
        "工作機械分科会",
        "Machine Tools",
        SubcommitteeKind.RAPID_RESPONSE,
        ("工作機械", "輸出規制", "技術流出"),
    ),
    (
        "ゲルマニウム・黒鉛分科会",
        "Germanium and Graphite",
        SubcommitteeKind.RAPID_RESPONSE,
        ("ゲルマニウム", "黒鉛", "レアアース"),
    ),
)

TOPICS = (
    "影響整理",
    "国内需給見通し",
    "代替調達先の調査結果",
    "対応方針(案)",
    "関係者ヒアリング結果",
    "リスクシナリオ点検",
    "同盟国との協議状況",
    "机上演習の振り返り",
    "中間取りまとめ",
    "論点整理メモ",
    "措置の運用状況",
    "事案報告",
)
EDITIONS = ("第1版", "第2版", "改訂版", "速報", "第3報", "最終報告", "素案", "")
COMPANIES = (
    "東邦レアメタル",
    "北辰電力",
    "瀬戸内造船",
    "未来知能ラボ",
    "関東精錬",
    "南海マテリアル",
    "東洋通信",
    "中央製薬",
)
COUNTRIES = (
    "豪州",
    "カナダ",
    "ベトナム",
    "インド",
    "ブラジル",
    "南アフリカ",
    "米国",
    "英国",
    "ドイツ",
    "フィリピン",
)
HEADINGS = ("1. 背景", "2. 現状", "3. 影響の見積もり", "4. 対応策の方向性", "5. 今後の進め方")
REASONS = (
    "個別企業の取引情報を含むため",
    "政府内の検討過程であり、公表により判断に支障が生じるため",
    "需給見通しの公表が市場価格に影響を及ぼすおそれがあるため",
    "同盟国との協議内容を含むため",
    "重要インフラの脆弱性情報を含むため",
)
CESI_REASON = "重要経済安保情報に指定された情報を含むため"

SENTENCES = (
    "{year}年{month}月以降、{a}の輸入量は前年同期比で{pct}%減少しており、需要家の在庫は平均{days}日分まで低下している。",
    "{company}への聞き取りによれば、{a}に係る調達リードタイムは従来の約{weeks}週間から倍近くに延びている。",
    "{country}との間では、{a}と{b}を対象とする協力枠組みについて、事務レベルの協議を継続している。",
    "{a}の価格は{month}月時点で措置前の水準を{pct}%上回っており、{b}への波及が懸念される。",
    "{a}の需要の約{pct}%は{b}向けであり、代替への切替えには少なくとも{years}年程度を要する見込みである。",
    "関係省庁間では、{a}の供給途絶時における情報共有の手順を{month}月中に取りまとめることで一致した。",
    "{b}に関する{a}の依存度を点検した結果、特定国への依存が{pct}%を超える品目が{count}件確認された。",
    "{a}に関する輸出規制の運用が強化された場合、{b}の国内生産に{days}日程度で影響が及ぶと試算される。",
    "{company}は{country}の事業者との長期契約について、年間{tons}トン規模の引取りを軸に交渉を進めている。",
    "{a}分野の技術流出を防ぐため、投資審査の対象範囲と事前相談の運用を見直す必要がある。",
    "サプライチェーン全体で見ると、{a}の上流工程に脆弱性が集中しており、{b}の強靱化と一体で対策を講じる。",
    "{a}を標的としたサイバー攻撃の事例が{count}件報告されており、{b}事業者との情報共有を強化する。",
    "机上演習では、{a}の機能停止が{b}へ波及する経路を確認し、復旧手順の課題を{count}点洗い出した。",
    "本分科会としては、{month}月末までに短期的な対応策を、{year}年度末までに中長期的な方策を取りまとめる。",
    "経済的威圧への備えとして、{a}の備蓄水準と{b}の代替調達先を定期的に点検する。",
    "{country}からの供給は{year}年に年間{tons}トン程度まで拡大する見込みであるが、品質のばらつきが課題である。",
)


@dataclass(frozen=True)
class DocumentText:
    title: str
    body: str
    reason: str


def _subject(rng: random.Random, theme: tuple[str, ...]) -> str:
    # Two thirds of the words come from the room's theme: a word is frequent where it belongs.
    return rng.choice(theme) if rng.random() < 0.66 else rng.choice(SUBJECTS)


def _sentence(rng: random.Random, theme: tuple[str, ...]) -> str:
    a = _subject(rng, theme)
    b = _subject(rng, theme)
    while b == a:
        b = rng.choice(SUBJECTS)
    return rng.choice(SENTENCES).format(
        a=a,
        b=b,
        company=rng.choice(COMPANIES),
        country=rng.choice(COUNTRIES),
        year=rng.randint(2024, 2029),
        month=rng.randint(1, 12),
        pct=rng.randint(5, 85),
        days=rng.randint(10, 120),
        weeks=rng.randint(4, 16),
        years=rng.randint(2, 6),
        tons=rng.randint(2, 90) * 100,
        count=rng.randint(2, 12),
    )


def document(rng: random.Random, theme: tuple[str, ...], cesi: bool = False) -> DocumentText:
    """A title, a body of 400–800 characters under numbered headings, and a classification reason."""
    edition = rng.choice(EDITIONS)
    title = f"{_subject(rng, theme)}に関する{rng.choice(TOPICS)}" + (f"({edition})" if edition else "")
    target = rng.randint(400, 800)
    parts: list[str] = []
    length = 0
    heading = 0
    while length < target:
        if heading < len(HEADINGS) and (not parts or rng.random() < 0.3):
            parts.append(("\n\n" if parts else "") + HEADINGS[heading] + "\n")
            heading += 1
        sentence = _sentence(rng, theme)
        parts.append(sentence)
        length += len(sentence)
    body = "".join(parts)
    if len(body) > 800:
        body = body[:799] + "。"
    return DocumentText(title, body, CESI_REASON if cesi else rng.choice(REASONS))
