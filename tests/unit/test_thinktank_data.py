"""The tables of think-tank outputs: row-by-row validation (all or nothing) and the concentration index."""

from __future__ import annotations

import pytest

from portal.thinktank import data
from portal.thinktank.data import DataError, Dependency, Risk


def errors_of(parse: object, text: str) -> list[tuple[int, str]]:
    with pytest.raises(DataError) as raised:
        parse(text)  # type: ignore[operator]
    return [(error.row, str(error)) for error in raised.value.errors]


def test_a_good_dependency_table_is_read_whole() -> None:
    rows = data.parse_dependencies(
        "material,stage,country,share %,alternative sources\n"
        "ガリウム,精錬,中国,98%,回収精製\n"
        "\n"
        "ガリウム , 精錬 , 日本 , ０.５\n"  # spaces and a full-width digit (NFKC)
        '"Rare earths, heavy",Separation,Malaysia,5,\n'
    )
    assert rows == [
        Dependency("ガリウム", "精錬", "中国", 98.0, "回収精製"),
        Dependency("ガリウム", "精錬", "日本", 0.5, ""),
        Dependency("Rare earths, heavy", "Separation", "Malaysia", 5.0, ""),
    ]


def test_a_header_is_optional() -> None:
    assert data.parse_dependencies("黒鉛,加工,中国,92") == [Dependency("黒鉛", "加工", "中国", 92.0)]


def test_bad_rows_are_each_named_and_nothing_is_kept() -> None:
    text = "\n".join(
        [
            "material,stage,country,share",
            "ガリウム,精錬,中国,98",  # row 2: fine
            "ガリウム,精錬,日本,abc",  # row 3
            "ガリウム,精錬,米国,-1",  # row 4
            ",加工,中国,50",  # row 5
            "ゲルマニウム,精錬,中国",  # row 6
            "ガリウム,精錬,中国,1",  # row 7: duplicate of row 2
            "黒鉛,加工,中国,80",
            "黒鉛,加工,日本,30",  # row 9: 110 in total
            "アンチモン,採掘,中国,nan",  # row 10
        ]
    )
    errors = errors_of(data.parse_dependencies, text)
    assert [row for row, _message in errors] == [3, 4, 5, 6, 7, 9, 10]
    assert errors[0] == (3, "Row 3: share must be a number between 0 and 100.")
    assert errors[1] == (4, "Row 4: share must be a number between 0 and 100.")
    assert errors[2] == (5, "Row 5: the material is missing.")
    assert "expected 4 or 5 columns" in errors[3][1] and "found 3" in errors[3][1]
    assert "already in row 2" in errors[4][1]
    assert errors[5][1] == "Row 9: the shares of 黒鉛 (加工) add up to 110%, more than 100."


def test_an_empty_table_is_an_error_not_an_empty_chart() -> None:
    assert errors_of(data.parse_dependencies, "material,stage,country,share\n") == [
        (1, "Row 1: no rows were given.")
    ]


def test_too_many_rows_are_refused() -> None:
    text = "\n".join(f"m{index},s,c,0.01" for index in range(data.MAX_ROWS + 1))
    assert [row for row, _ in errors_of(data.parse_dependencies, text)] == [data.MAX_ROWS + 1]


def test_risks_are_whole_numbers_from_1_to_5() -> None:
    assert data.parse_risks("risk,likelihood,impact\n広域停電,2,5\n通信障害,３,4") == [
        Risk("広域停電", 2, 5),
        Risk("通信障害", 3, 4),
    ]
    errors = errors_of(data.parse_risks, "a,0,3\nb,2.5,3\nc,2,6\n,1,1\nd,1\n")
    assert errors == [
        (1, "Row 1: likelihood must be a whole number from 1 to 5."),
        (2, "Row 2: likelihood must be a whole number from 1 to 5."),
        (3, "Row 3: impact must be a whole number from 1 to 5."),
        (4, "Row 4: the risk's name is missing."),
        (5, "Row 5: expected 3 columns (risk, likelihood, impact), found 2."),
    ]


def test_many_errors_are_capped_and_counted() -> None:
    text = "\n".join(f"m{index},s,c,x" for index in range(data.MAX_ERRORS + 5))
    with pytest.raises(DataError) as raised:
        data.parse_dependencies(text)
    assert len(raised.value.errors) == data.MAX_ERRORS and raised.value.more == 5


# --- the index ---------------------------------------------------------------------------------------------


def test_hhi_is_the_sum_of_squared_percent_shares() -> None:
    assert data.herfindahl_hirschman([100]) == 10000
    assert data.herfindahl_hirschman([50, 50]) == 5000
    assert data.herfindahl_hirschman([25, 25, 25, 25]) == 2500
    assert data.herfindahl_hirschman([98, 1, 0.5]) == pytest.approx(9604 + 1 + 0.25)
    assert data.herfindahl_hirschman([]) == 0


def test_each_material_is_measured_at_its_most_concentrated_stage() -> None:
    rows = data.parse_dependencies(
        "ガリウム,精錬,中国,98\nガリウム,精錬,日本,1\n"
        "ガリウム,加工,日本,35\nガリウム,加工,中国,30\n"
        "黒鉛,採掘,中国,60\n黒鉛,採掘,ブラジル,40\n"
    )
    bars = data.stage_shares(rows)
    assert [(b.material, b.stage) for b in bars] == [
        ("ガリウム", "精錬"),
        ("ガリウム", "加工"),
        ("黒鉛", "採掘"),
    ]
    assert bars[1].shares == (("日本", 35.0), ("中国", 30.0)) and bars[1].reported == 65
    found = data.concentrations(rows)
    assert [(c.material, c.stage, c.hhi, c.top_country) for c in found] == [
        ("ガリウム", "精錬", 9605.0, "中国"),
        ("黒鉛", "採掘", 5200.0, "中国"),
    ]


def test_risk_bands() -> None:
    assert [data.risk_band(score) for score in (1, 4, 5, 9, 10, 16, 20, 25)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical",
    ]  # fmt: skip
