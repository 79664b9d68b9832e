"""Realistic Japanese documents for the benchmark: titles, 2–4 KB bodies and classification reasons about
critical minerals, generated deterministically from a seed (the same text in every database)."""

from __future__ import annotations

import random
from dataclasses import dataclass

MINERALS = (
    "ガリウム",
    "ゲルマニウム",
    "黒鉛",
    "アンチモン",
    "レアアース(ネオジム)",
    "ジスプロシウム",
    "タングステン",
    "コバルト",
    "リチウム",
    "ニッケル",
)
TOPICS = (
    "国内需給見通し",
    "輸出管理措置の影響整理",
    "代替調達先の供給余力調査",
    "備蓄放出の判断基準(案)",
    "需要家ヒアリング結果",
    "価格動向と在庫水準",
    "リサイクル原料の活用可能性",
    "同盟国との協力枠組みの検討状況",
    "製錬能力の国内確保策",
    "サプライチェーン途絶時の影響試算",
)
EDITIONS = ("第1版", "第2版", "改訂版", "速報", "第3報", "中間取りまとめ", "最終報告")
COMPANIES = ("東邦レアメタル", "北辰電力", "瀬戸内造船", "未来知能ラボ", "関東精錬", "南海マテリアル")
COUNTRIES = ("豪州", "カナダ", "ベトナム", "インド", "ブラジル", "南アフリカ", "カザフスタン", "米国")
REASONS = (
    "個別企業の取引情報を含むため",
    "政府内の検討過程であり、公表により判断に支障が生じるため",
    "需給見通しの公表が市場価格に影響を及ぼすおそれがあるため",
    "同盟国との協議内容を含むため",
)

#: Sentence templates; the slots are filled from the lists above and from random figures.
SENTENCES = (
    "{year}年{month}月以降、{mineral}の輸入量は前年同期比で{pct}%減少しており、国内需要家の在庫は平均{days}日分まで低下している。",
    "{company}への聞き取りによれば、{mineral}の調達リードタイムは従来の約{weeks}週間から倍近くに延びている。",
    "{country}の鉱山開発案件については、{year}年度中の生産開始を目指しているものの、環境許認可の手続に遅れが生じている。",
    "価格は{month}月の時点でトン当たり{price}万円と、措置前の水準を{pct}%上回っている。",
    "需要の約{pct}%は半導体・電子部品向けであり、代替材料への切替えには少なくとも{years}年程度を要する見込みである。",
    "国家備蓄の放出については、需給逼迫の度合い、価格の変動幅及び代替調達の見通しを総合的に勘案して判断する必要がある。",
    "関係省庁間では、{mineral}を含む重要鉱物の供給途絶時における情報共有の手順を{month}月中に取りまとめることで一致した。",
    "{company}は{country}の製錬事業者との長期契約について、年間{tons}トン規模の引取りを軸に交渉を進めている。",
    "リサイクル原料からの回収率は現状{pct}%程度にとどまっており、回収技術の実証を支援する必要がある。",
    "同盟国との間では、重要鉱物の共同備蓄及び相互融通の枠組みについて、事務レベルの協議を継続している。",
    "輸出許可の審査期間は平均{days}日程度とされるが、案件によっては三か月を超える例も報告されている。",
    "国内製錬能力を維持するためには、設備更新への支援に加え、副産物としての{mineral}回収の採算性を高める措置が求められる。",
    "需要家からは、調達先の分散に伴う品質認証の負担が大きいとの指摘があり、認証手続の簡素化を検討する。",
    "本分科会としては、{month}月末までに短期的な対応策を、{year}年度末までに中長期的な方策を取りまとめる。",
    "{country}からの供給は{year}年に年間{tons}トン程度まで拡大する見込みであるが、品位のばらつきが課題である。",
    "在庫水準が{days}日分を下回った場合には、備蓄放出の検討を開始する旨、関係者間で確認した。",
)
HEADINGS = ("1. 背景", "2. 現状", "3. 影響の見積もり", "4. 対応策の方向性", "5. 今後の進め方")


@dataclass(frozen=True)
class GeneratedDocument:
    title: str
    body: str
    reason: str


def _sentence(rng: random.Random, mineral: str) -> str:
    template = rng.choice(SENTENCES)
    return template.format(
        mineral=mineral,
        company=rng.choice(COMPANIES),
        country=rng.choice(COUNTRIES),
        year=rng.randint(2024, 2028),
        month=rng.randint(1, 12),
        pct=rng.randint(5, 85),
        days=rng.randint(20, 120),
        weeks=rng.randint(4, 16),
        years=rng.randint(2, 6),
        price=rng.randint(30, 900),
        tons=rng.randint(10, 5000),
    )


def body_text(rng: random.Random, mineral: str, target_chars: int) -> str:
    """Headed paragraphs of full sentences, stopping once ``target_chars`` characters are reached."""
    parts: list[str] = []
    length = 0
    heading = 0
    while length < target_chars:
        if heading < len(HEADINGS) and (not parts or rng.random() < 0.25):
            parts.append(("\n\n" if parts else "") + HEADINGS[heading] + "\n")
            heading += 1
        parts.append(_sentence(rng, mineral))
        length = sum(len(part) for part in parts)
    return "".join(parts)


def long_text(rng: random.Random, mineral: str, target_chars: int, *, headed: bool = True) -> str:
    """Paragraphs of 3–6 sentences (a blank line between them), stopping once ``target_chars`` characters
    are reached: the shape of a long room document (``headed``: under the numbered :data:`HEADINGS`, in turn,
    one every five paragraphs or so) or of a portion of minutes (no headings of its own)."""
    paragraphs: list[str] = []
    length = 0
    section = 0
    while length < target_chars:
        if headed and (section == 0 or rng.random() < 0.2):
            paragraphs.append(HEADINGS[section % len(HEADINGS)])
            section += 1
        paragraph = "".join(_sentence(rng, mineral) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        length += len(paragraph)
    return "\n\n".join(paragraphs)


def generate(count: int, seed: int = 2026, first_body_chars: int = 1000) -> list[GeneratedDocument]:
    """``count`` documents. Bodies are 700–1,300 characters (about 2.1–3.9 KB of UTF-8); the first one,
    the one the document page shows, is ``first_body_chars`` characters (about 3 KB)."""
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        mineral = MINERALS[index % len(MINERALS)]
        topic = TOPICS[(index * 7) % len(TOPICS)]
        title = f"{mineral} {topic}({rng.choice(EDITIONS)})"
        target = first_body_chars if index == 0 else rng.randint(700, 1300)
        documents.append(GeneratedDocument(title, body_text(rng, mineral, target), rng.choice(REASONS)))
    return documents
