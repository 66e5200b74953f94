"""Register review: planted defects, real third-party registers, bad input, and the outputs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from adapters.text import render
from bot.core import Bot
from bot.errors import ReviewError
from bot.review.report import review_bytes, review_file
from tests.conftest import REPORTS, ROOT, SHARED
from tests.review_eval import score_folder

HERE = Path(__file__).parent
REAL = SHARED / "data" / "registers"
AS_OF = dt.date(2026, 11, 20)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120, check=False,
    )  # fmt: skip


# -- planted defects -----------------------------------------------------------------------


# Each folder was written, with its answer key of planted defects, by someone who saw neither the
# code nor the other folders. The first four were each scored once while unseen (found / right:
# 89.3% / 100%, 56.4% / 43.1%, 66.1% / 71.9%, 80.0% / 57.8% — mostly column names the review did
# not recognise) and then used to make the review more general, so they are held to a high floor.
# registers_holdout4 was unseen until issue 14 (92.3% / 100% when first scored, 90.8% / 100% before
# issue 14, 100% / 100% after: its misses were a column named "L (1-5)", a reworded duplicate pair
# and "the racking is late and will not be finished"), so it is now held to the same floor.
REGISTER_SETS = [
    ("registers", 0.95),
    ("registers_holdout", 0.95),
    ("registers_holdout2", 0.95),
    ("registers_holdout3", 0.95),
    ("registers_holdout4", 0.95),
    # Written blind for issue 14 in the shapes real registers take (word scales scored 2-4, a
    # typed RAID log, id-only rows, title-block bands, merged Excel rows, reworded duplicates):
    # 82.5% / 82.5% when first scored, before any change made for it; 100% / 100% after, then
    # 95.0% / 100% once reworded pairs had to agree part by part: "loss of highways design staff
    # may delay the design stage of the square" and "the design programme could slip if engineers
    # leave" no longer meet, since the first names what is delayed and the second does not.
    ("registers_holdout5", 0.95),
    # A second blind set in the same shapes: 84.4% / 97.4% when first scored; 86.7% / 100% after
    # two general fixes (an event told with its date, "licence expired on 28 February"; "may have
    # missed" is a guess, not a report), and 95.6% / 100% once reworded risks were compared part
    # by part through stems and a thesaurus. One heavily reworded pair ("the headliner's flight
    # may be cancelled" / "travel disruption for the top-of-bill act") is still missed.
    ("registers_holdout6", 0.95),
    # Two more blind sets in the same shapes, written after the reworded-duplicate matching was
    # rebuilt and first scored with it: 83.6% / 88.5% and 87.3% / 98.0%. Then 96.4% / 100% and
    # 100% / 100% after general fixes: perfect tenses of any verb told as fact ("the landowner has
    # refused"), a past event followed by what would come of it is a cause, a labelled
    # Cause/Event/Effect is judged by its event, a comma-split row whose extra field is empty,
    # open actions on merged second rows of closed risks, "Accept - <reason>", and reworded
    # sentences split where a later sentence opens with "If". Still missed: one pair reworded
    # past its words ("biometric SDK licence runs out" / "face recognition component not renewed").
    ("registers_holdout7", 0.95),
    ("registers_holdout8", 0.95),
    # Written after all of the above and first scored with it: 84.2% / 65.8% (an Excel column of
    # percentages stored as fractions read as a 1-3 scale, and risks worded in the present tense,
    # "consent is delayed by the conservation officer", taken for issues). 96.5% / 100% after:
    # percentages read through the cell's format, a present state is a fact only with a word that
    # ties it to now or the past, bands in money, "C (1-5)" as the consequence.
    ("registers_holdout9", 0.95),
    # And one more, written after the ninth was fixed: 82.8% / 94.1% when first scored (past
    # tenses of "to be" told as fact, "on 12 May" read as a "may" of doubt, a 5x5 rated nearly all
    # at 3 read as a 3x3, "scoring 12 or above must be escalated", Low/Medium/High bands in money,
    # "Library Services" as an owner); 96.6% / 100% after.
    ("registers_holdout10", 0.95),
    # Written after the tenth was fixed: 83.9% / 73.2% when first scored (a short "Risk" column
    # taken for the description beside a column of sentences, a "Source" column naming the
    # register taken for the cause, "Next Steps" as the response, a threshold and bands written
    # in money or with commas); 96.8% / 100% after.
    ("registers_holdout11", 0.95),
    # Written alongside the eleventh: 81.4% / 92.3% when first scored (an "Esc" column, a
    # "Rating" of High/Medium/Low beside an expected value, a headline participle taken for a
    # report, a date of "TBC", "Severe" once among "Catastrophic"); 89.8% / 100% after. What it
    # still misses is its three reworded duplicate pairs ("LINK cash access reviews recommend
    # additional services" / "the cash access assessment finds an unmet need"), which share too
    # few words for matching by words.
    ("registers_holdout12", 0.85),
    # Two more written in parallel after the twelfth was fixed: 78.9% / 97.8% and 85.5% / 73.4%
    # when first scored (scoring guides on another sheet, an "EMV" beside a worst-case exposure,
    # "Res L / Res I / Res score", "What we're doing about it", "Shop managers" as an owner, a
    # dependency's blank owner, "Keep an eye on the fleet plan", five pasted responses in 23 rows);
    # 93.0% / 100% and 96.4% / 100% after, the rest reworded duplicate pairs.
    ("registers_holdout13", 0.9),
    ("registers_holdout14", 0.95),
    # And two more, after those: 86.2% / 100% and 93.2% / 74.3% when first scored (a register's
    # own rating words, "Remote ... Highly likely", read on a usual five-word scale; "High over
    # £20,000" after "Medium ... to £20,000"; a "To Board?" column; "denied the permit at its
    # 08/19/2027 hearing"); 93.1% / 100% and 96.6% / 100% after, the rest reworded pairs.
    ("registers_holdout15", 0.9),
    ("registers_holdout16", 0.95),
    # The last two, written after all of the above: 94.6% / 100% and 89.7% / 92.9% when first
    # scored, 92.1% / 96.3% together. The first then 100% / 100% (an expected value written as a
    # range, an escalation rule in a column's name, "the survey on 14 January found"); the second
    # 89.7% / 96.3%: its misses and false alarms are all reworded or look-alike duplicate pairs.
    ("registers_holdout17", 0.95),
    ("registers_holdout18", 0.85),
    # A last pair, written after the eighteenth: 85.5% / 98.1% and 87.5% / 96.1% when first scored
    # (86.4% / 97.1% together); 85.5% / 100% and 91.1% / 96.2% after small general fixes. Nearly all
    # that they still miss is reworded duplicate pairs (12 of their 14 misses; their 2 false findings
    # are one look-alike pair).
    ("registers_holdout19", 0.85),
    ("registers_holdout20", 0.85),
    ("registers_issue14", 1.0),
]


# Known false findings on clean registers, kept here so that any other one fails the test, and so
# does this one's going away (then delete it): two risks that share their setting ("the temporary
# station at the retail park has only 6 bays", "the lease on the temporary retail park site
# ends") and differ only in what happens are still read as one reworded risk.
KNOWN_ON_CLEAN = {
    ("registers_holdout18", "ambulance_station_rebuild_register.csv"): {
        ("duplicate", "AS-01"),
        ("duplicate", "AS-18"),
    },
}


@pytest.mark.parametrize(("folder", "floor"), REGISTER_SETS)
def test_planted_defects_are_found_and_findings_are_right(folder: str, floor: float) -> None:
    if not (HERE / folder / "expected.yaml").exists():
        pytest.skip(f"tests/{folder} is not in this checkout")
    score = score_folder(HERE / folder)
    REPORTS.append(f"== review on tests/{folder}\n" + score.text())
    assert score.recall >= floor, score.text()
    assert score.precision >= floor, score.text()
    for f in score.files:
        if f.clean:  # nothing flagged on a clean register, but for false pairs written down below
            assert f.found == KNOWN_ON_CLEAN.get((folder, f.file), set()), score.text()


# -- the real registers in ../shared -------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not REAL.is_dir(), reason="../shared/data/registers is not beside this checkout"
)


def by_check(result: object) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for f in result.findings:  # type: ignore[attr-defined]
        out.setdefault(f.check, set()).add(f.risk_id)
    return out


@needs_shared
def test_every_real_register_is_reviewed_without_error() -> None:
    files = sorted(p for p in REAL.iterdir() if p.suffix in (".csv", ".xlsx"))
    assert len(files) >= 4
    for path in files:
        result = cli("review", str(path), "--as-of", "2026-11-20", "--json")
        assert result.returncode == 0, (path.name, result.stderr)
        data = json.loads(result.stdout)
        assert data["summary"]["risks"] > 0


@needs_shared
def test_data_migration_register() -> None:
    # Expected before running: the seven rows broken by unquoted commas (R001, R002, R004-R008)
    # are reported as broken, not shifted; H/M/L ratings are read as words; the owner column
    # is found even though cells hold several owners.
    result = review_file(REAL / "data_migration_register_broken_rows.csv", as_of=AS_OF)
    checks = by_check(result)
    assert checks["broken_row"] == {"R001", "R002", "R004", "R005", "R006", "R007", "R008"}
    found, _ = result.columns()
    assert {"risk_id", "description", "probability", "impact", "owner", "mitigation"} <= set(found)
    assert result.register.scales["probability"].kind == "label"
    assert len(result.register.risks) == 48


@needs_shared
def test_costed_register() -> None:
    # Expected: likelihoods read as percentages and amounts in CHF; the expected values that
    # differ only by the rounding of the shown percentage are not mismatches; the repeated
    # "Likelihood" header is reported, the second read as the residual one; theme titles such
    # as "Cash Flow" are vague.
    result = review_file(REAL / "industrial_plant_costed_register.csv", as_of=AS_OF)
    checks = by_check(result)
    scales = result.register.scales
    assert (scales["probability"].kind, scales["impact"].kind) == ("percent", "money")
    assert "score_mismatch" not in checks
    assert result.register.columns.duplicated == ("Likelihood",)
    assert result.register.columns.has("residual_probability")
    assert "2" in checks["vague_description"]  # "Cash Flow"


@needs_shared
def test_cause_and_risk_only_register() -> None:
    # Expected: with no id column every finding points at a line; the risk noted as "has
    # materialized" is an issue; the report says which columns are missing and what to ask.
    result = review_file(REAL / "offshore_platform_cause_risk.csv", as_of=AS_OF)
    assert all(f.risk_id is None and f.row for f in result.findings)
    assert "issue_not_risk" in by_check(result)
    _, missing = result.columns()
    assert "owner" in missing and "ask the PM who owns each risk" in missing["owner"]


@needs_shared
def test_student_workbook() -> None:
    # Expected: the "Risk Register" sheet; the project manager owns every risk; the impact
    # "Medium at the beginning, gets higher with time" is not a value on the scale.
    result = review_file(REAL / "student_project_register.xlsx", as_of=AS_OF)
    checks = by_check(result)
    assert result.register.sheet == "Risk Register"
    assert checks["owner_concentration"] == {None}
    assert checks["invalid_value"] == {"R2"}


# -- reading -------------------------------------------------------------------------------

GOOD_ROWS = [
    ["R1", "Because the supplier is small, there is a risk that parts arrive late, delaying the build.",
     "Ann Lee", 3, 4, 12, "Second supplier on standby", "Open", "2026-11-10"],
    ["R2", "If the test lab is booked by another project, acceptance testing slips by two weeks.", "Bob Roy",
     2, 3, 6, "Book the lab now", "Open", "2026-11-12"],
]  # fmt: skip
GOOD_HEADER = ["Risk ID", "Description", "Owner", "Probability", "Impact", "Score", "Mitigation", "Status",
               "Last Reviewed"]  # fmt: skip


def csv_bytes(sep: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep)
    writer.writerow(GOOD_HEADER)
    writer.writerows(GOOD_ROWS)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.mark.parametrize(
    ("sep", "encoding", "bom"), [(",", "utf-8", False), (";", "utf-8", True), ("\t", "cp1252", False)]
)
def test_separators_and_encodings(sep: str, encoding: str, bom: bool) -> None:
    result = review_bytes(csv_bytes(sep, encoding, bom), "r.csv", as_of=AS_OF)
    assert [r.risk_id for r in result.register.risks] == ["R1", "R2"]
    assert result.findings == []


def test_cp1252_text_with_pound_signs() -> None:
    data = ("Ref,Risk,Owner,Likelihood,Impact\r\n1,Costs may rise by £20k – the budget has no "
            "contingency for it,Ann Lee,H,M\r\n").encode("cp1252")  # fmt: skip
    result = review_bytes(data, "r.csv", as_of=AS_OF)
    assert "£20k" in result.register.risks[0].text


def test_workbook_with_title_block_and_raid_sheets(tmp_path: Path) -> None:
    book = Workbook()
    issues = book.active
    assert issues is not None
    issues.title = "Issues"
    issues.append(["Issue ID", "Description", "Owner", "Status"])
    issues.append(["I1", "Server room flooded", "Ann Lee", "Open"])
    risks = book.create_sheet("Risks")
    risks.append(["Project Falcon RAID log"])
    risks.append([])
    risks.append(["Owner: PMO"])
    risks.append(GOOD_HEADER)
    for row in GOOD_ROWS:
        risks.append([*row[:8], dt.datetime(2026, 11, 10)])
    risks.append([])
    risks.append([])
    book.create_sheet("Assumptions").append(["ID", "Assumption", "Owner"])
    path = tmp_path / "raid.xlsx"
    book.save(path)
    result = review_file(path, as_of=AS_OF)
    assert result.register.sheet == "Risks"
    assert result.register.header_row == 4
    assert len(result.register.risks) == 2
    assert result.findings == []
    assert review_file(path, sheet="risks", as_of=AS_OF).register.sheet == "Risks"
    with pytest.raises(ReviewError, match="no sheet named 'Nope'"):
        review_file(path, sheet="Nope", as_of=AS_OF)


def test_ambiguous_dates_are_read_day_first_and_said_so() -> None:
    data = b"ID,Risk description text here,Owner,Probability,Impact,Status,Last reviewed\r\n" + (
        b"R1,The supplier may deliver the parts late and delay the build,Ann Lee,2,2,Open,03/11/2026\r\n"
    )
    result = review_bytes(data, "r.csv", as_of=AS_OF)
    assert any("day/month" in n for n in result.register.notes)
    assert not by_check(result).get("stale_review")  # 3 November, not 11 March


# -- bad input -----------------------------------------------------------------------------


def one_line_failure(path: Path) -> str:
    result = cli("review", str(path))
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    path.write_bytes(random.Random(4).randbytes(5000))
    assert "not a text or spreadsheet file" in one_line_failure(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "empty" in one_line_failure(path)


def test_prose_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Minutes of the board.\nWe talked about the weather and lunch.\n", encoding="utf-8")
    assert "does not look like a risk register" in one_line_failure(path)


def test_password_protected_workbook(tmp_path: Path) -> None:
    # Encrypted .xlsx files are OLE compound documents, not zip files.
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000))
    assert "password-protected" in one_line_failure(path)


def test_damaged_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 20)
    assert "not a readable Excel workbook" in one_line_failure(path)


def test_over_ten_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"ID,Risk\r\n" + b"x" * (10 * 1024 * 1024 + 1))
    assert "over 10 MB" in one_line_failure(path)


def test_over_fifty_thousand_rows(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        "ID,Risk,Owner\n" + "".join(f"R{n},Risk {n},Ann\n" for n in range(50_002)), encoding="utf-8"
    )
    assert "50,000 rows" in one_line_failure(path)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(GOOD_HEADER) + "\n", encoding="utf-8")
    assert "no risks" in one_line_failure(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "does not exist" in one_line_failure(tmp_path / "nope.csv")
    assert "folder" in one_line_failure(tmp_path)


def test_bad_as_of() -> None:
    result = cli("review", "x.csv", "--as-of", "20/11/2026")
    assert result.returncode == 1
    assert "YYYY-MM-DD" in result.stderr


# -- outputs -------------------------------------------------------------------------------


def test_json_has_the_contract_shape() -> None:
    result = cli(
        "review", str(HERE / "registers" / "construction_5x5.csv"), "--as-of", "2026-11-20", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"findings", "summary"}
    for finding in data["findings"]:
        assert {"check", "risk_id", "row", "severity", "message", "question"} <= set(finding)
        assert finding["severity"] in ("error", "warning", "info")
    summary = data["summary"]
    assert len(summary["first_questions"]) <= 5
    assert sum(summary["by_check"].values()) == len(data["findings"])
    assert summary["health"]


def test_human_report_and_chat_reply() -> None:
    result = review_file(HERE / "registers" / "construction_5x5.csv", as_of=AS_OF)
    assert result.findings
    text = result.text()
    assert "Ask the project manager first:" in text
    assert "Columns found:" in text
    reply = result.reply()
    assert len(render(reply).splitlines()) <= 25
    assert reply.sections[0].text == result.health()


def test_clean_register_says_so() -> None:
    result = review_file(HERE / "registers" / "clean_warehouse_5x5.csv", as_of=dt.date(2026, 6, 30))
    assert result.findings == []
    assert result.health().startswith("In good shape")


def test_a_register_sent_to_the_bot(bot: Bot) -> None:
    data = (HERE / "registers" / "construction_5x5.csv").read_bytes()
    reply = bot.handle_file(data, "construction_5x5.csv")
    assert reply.title == "Review of construction_5x5.csv"
    assert reply.sections[1].heading == "Ask the project manager first"
    refused = bot.handle_file(b"\x00\x01\x02" * 100, "photo.jpg")
    assert refused.title == "I couldn't review that file"
    assert "binary" in refused.sections[0].text


def test_the_terminal_chat_reviews_a_typed_path(bot: Bot) -> None:
    from adapters.terminal import run_chat

    out = io.StringIO()
    run_chat(bot, "u1", io.StringIO(f"review {HERE / 'registers' / 'festival_3x3.csv'}\nquit\n"), out)
    assert "Review of festival_3x3.csv" in out.getvalue()


def test_thresholds_can_be_set_on_the_command_line() -> None:
    path = str(HERE / "registers" / "construction_5x5.csv")
    default = json.loads(cli("review", path, "--as-of", "2026-11-20", "--json").stdout)
    custom = json.loads(
        cli(
            "review", path, "--as-of", "2026-11-20", "--json", "--stale-days", "400", "--escalate-at", "10"
        ).stdout
    )
    assert "stale_review" in default["summary"]["by_check"]
    assert "stale_review" not in custom["summary"]["by_check"]
    assert custom["summary"]["escalation_threshold"] == 10
    assert custom["summary"]["by_check"]["high_risk_not_escalated"] > default["summary"]["by_check"].get(
        "high_risk_not_escalated", 0
    )


def test_a_huge_single_line_is_read_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("ID,Description,Owner\nR1," + "x" * 200_000 + ",Ann Lee\n", encoding="utf-8")
    result = cli("review", str(path))
    assert result.returncode == 0, result.stderr


def test_a_damaged_sheet_inside_a_real_workbook(tmp_path: Path) -> None:
    import zipfile

    good = tmp_path / "good.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(GOOD_HEADER)
    sheet.append(GOOD_ROWS[0])
    book.save(good)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]  # cut the sheet's XML in half
            dst.writestr(item, data)
    assert "damaged" in one_line_failure(broken) or "not a readable" in one_line_failure(broken)


def test_a_big_lookup_sheet_does_not_block_a_small_register(tmp_path: Path) -> None:
    book = Workbook()
    risks = book.active
    assert risks is not None
    risks.title = "Risks"
    risks.append(GOOD_HEADER)
    for row in GOOD_ROWS:
        risks.append(row)
    lookup = book.create_sheet("Lookup")
    for n in range(50_010):
        lookup.append([n, f"value {n}"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    result = review_file(path, sheet="Risks", as_of=AS_OF)
    assert len(result.register.risks) == 2


def test_wording_that_only_looks_like_a_threshold_or_an_issue() -> None:
    data = (
        b"Programme risk log - escalation route per PMO standard 3\r\n"
        b"ID,Description,Owner,Probability,Impact,Score,Mitigation,Escalated\r\n"
        b"R1,The supplier is already stretched so it may deliver late,Ann Lee,2,2,4,Weekly calls,No\r\n"
        b"R2,If the lab is booked the tests may slip two weeks,Bob Roy,2,2,4,Book now,No\r\n"
    )
    result = review_bytes(data, "r.csv", as_of=AS_OF)
    assert result.register.escalation_source.startswith("the default")  # not "3" from the title
    assert "issue_not_risk" not in by_check(result)


def test_missing_columns_shape_the_health_line_and_questions() -> None:
    data = b"ID,Description\r\nR1,The supplier may deliver the parts late and delay the build\r\n"
    result = review_bytes(data, "r.csv", as_of=AS_OF)
    assert result.health().startswith("Incomplete: no owner, probability, impact or response column")
    assert any("no owner column" in q for q in result.first_questions())
