"""The printable huddle sheet: one landscape page per twelve patients, readable in black and white.

The morning huddle is often held standing around a printout. Severity is printed as a word (URGENT,
Warning, Info), never only as a colour, so a greyscale copy loses nothing; rows keep the huddle's
urgency order. Text is set in DejaVu Sans so that names and symbols outside Latin-1 print; where that
font file is missing the sheet falls back to Helvetica and replaces such characters with "?". Every
value is escaped before it reaches reportlab's paragraph markup (a name is text, never markup).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kdash.domain.vocab import FLAG_WORDS, Severity
from kdash.rules.course import course_progress
from kdash.rules.huddle import Huddle, HuddleEntry

#: Patients per printed page (a page stays readable at arm's length).
PATIENTS_PER_PAGE = 12
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

SEVERITY_WORDS: dict[Severity, str] = {
    Severity.URGENT: "URGENT",
    Severity.WARNING: "Warning",
    Severity.INFO: "Info",
}


class _Fonts:
    """DejaVu Sans when the file is there, else Helvetica with non-Latin-1 characters replaced."""

    def __init__(self, regular: Path, bold: Path) -> None:
        self.unicode = regular.is_file()
        if self.unicode:
            pdfmetrics.registerFont(TTFont("KdashSans", str(regular)))
            bold_file = bold if bold.is_file() else regular
            pdfmetrics.registerFont(TTFont("KdashSans-Bold", str(bold_file)))
            pdfmetrics.registerFontFamily("KdashSans", normal="KdashSans", bold="KdashSans-Bold")
            self.regular, self.bold = "KdashSans", "KdashSans-Bold"
        else:
            self.regular, self.bold = "Helvetica", "Helvetica-Bold"

    def text(self, value: object) -> str:
        """``value`` as escaped paragraph text the font can print."""
        raw = str(value)
        if not self.unicode:
            raw = raw.encode("latin-1", "replace").decode("latin-1")
        return escape(raw)


def _escort(entry: HuddleEntry, fonts: _Fonts) -> str:
    name = entry.patient.escort_name
    confirmed = entry.infusion.escort_confirmed
    state = {True: "confirmed", False: "NOT confirmed", None: "not yet confirmed"}[confirmed]
    who = fonts.text(name) if name else "no escort on file"
    return f"{who}<br/>{state}"


def _chair(entry: HuddleEntry) -> str:
    return "no chair" if entry.infusion.chair is None else f"chair {entry.infusion.chair}"


def _flags(entry: HuddleEntry, fonts: _Fonts) -> str:
    if not entry.flags:
        return "No flags"
    lines = []
    for flag in entry.flags:
        word = SEVERITY_WORDS[flag.severity]
        head = f"<b>{word}</b>" if flag.severity is Severity.URGENT else word
        lines.append(
            f"{head}: {fonts.text(FLAG_WORDS.get(flag.code, flag.code.value))} — {fonts.text(flag.message)}"
        )
    return "<br/>".join(lines)


def _scores(entry: HuddleEntry, fonts: _Fonts) -> str:
    if not entry.scores:
        return "no scores"
    parts = []
    for code, s in entry.scores.items():
        change = f"{s.change_points:+d}" if s.change_points else "±0"
        parts.append(
            f"{fonts.text(code)} {s.latest} ({fonts.text(s.band)}; baseline {s.baseline}, {change}) "
            f"on {s.latest_on:%d %b}"
        )
    return "<br/>".join(parts)


def huddle_pdf(
    huddle: Huddle,
    *,
    clinic_name: str = "",
    printed_at: datetime | None = None,
    font: Path = DEJAVU,
    bold_font: Path = DEJAVU_BOLD,
) -> bytes:
    """The huddle sheet as PDF bytes (landscape A4, :data:`PATIENTS_PER_PAGE` patients per page).

    Every page says when it was printed (``printed_at``, default now): a sheet read at 10:00 that was
    printed at 07:30 does not know about a score recorded at 08:00.
    """
    printed = printed_at or datetime.now()
    fonts = _Fonts(font, bold_font)
    title = ParagraphStyle("title", fontName=fonts.bold, fontSize=13, leading=16)
    sub = ParagraphStyle("sub", fontName=fonts.regular, fontSize=9, leading=11)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=f"Huddle {huddle.day.isoformat()}",
        author=clinic_name or "kdash",
    )
    entries = list(huddle.entries)
    pages: list[Sequence[HuddleEntry]] = [
        entries[i : i + PATIENTS_PER_PAGE] for i in range(0, len(entries), PATIENTS_PER_PAGE)
    ] or [[]]
    s = huddle.summary
    story: list[object] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            story.append(PageBreak())
        heading = f"Huddle — {huddle.day:%A %d %B %Y}"
        if clinic_name:
            heading = f"{fonts.text(clinic_name)}: {heading}"
        story.append(Paragraph(heading, title))
        story.append(
            Paragraph(
                f"{s.infusions} infusions, {s.ready} ready, {s.not_ready} not ready · page {number} of "
                f"{len(pages)} · most urgent first, then by chair time · printed {printed:%Y-%m-%d %H:%M}",
                sub,
            )
        )
        story.append(Spacer(1, 3 * mm))
        story.append(_fitted_table(page, fonts, doc.width, doc.height - _HEADING_HEIGHT))
    doc.build(story)
    return buffer.getvalue()


#: Height taken by the page heading (title, summary line and gap) above the table.
_HEADING_HEIGHT = 16 + 11 + 3 * mm + 4 + 12  # + the frame's own padding (6 pt above and below)
#: Font sizes tried, largest first, until a page's twelve rows fit on one page.
_FONT_SIZES = (8.0, 7.5, 7.0, 6.5, 6.0, 5.5)
_WIDTHS_MM = (14, 15, 44, 40, 16, 100, 48)
_HEADER = ("Done", "Time, chair", "Patient, escort", "Course", "Ready", "Flags", "Last scores")
#: An empty box to tick by hand as each patient is seen (the sheet is used standing, pen in hand).
_CHECK_BOX = "\u2610"


def _fitted_table(page: Sequence[HuddleEntry], fonts: _Fonts, width: float, height: float) -> Table:
    """The page's table in the largest font size at which it fits on the page (else the smallest)."""
    table = _table(page, fonts, _FONT_SIZES[0])
    for size in _FONT_SIZES:
        table = _table(page, fonts, size)
        _, needed = table.wrap(width, height)
        if needed <= height:
            break
    return table


def _table(page: Sequence[HuddleEntry], fonts: _Fonts, size: float) -> Table:
    cell = ParagraphStyle("cell", fontName=fonts.regular, fontSize=size, leading=size * 1.2)
    head = ParagraphStyle("head", fontName=fonts.bold, fontSize=size, leading=size * 1.2)
    box = ParagraphStyle("box", fontName=fonts.regular, fontSize=size * 1.5, leading=size * 1.6)
    data: list[list[object]] = [[Paragraph(h, head) for h in _HEADER]]
    for e in page:
        data.append(
            [
                Paragraph(_CHECK_BOX if fonts.unicode else "[  ]", box),
                Paragraph(f"{e.scheduled_at:%H:%M}<br/>{_chair(e)}", cell),
                Paragraph(
                    f"<b>{fonts.text(e.patient.name)}</b><br/>{fonts.text(e.patient.mrn)}<br/>"
                    f"escort: {_escort(e, fonts)}",
                    cell,
                ),
                Paragraph(f"course {e.course.number}<br/>{fonts.text(course_progress(e.course))}", cell),
                Paragraph("yes" if e.ready else "<b>NO</b>", cell),
                Paragraph(_flags(e, fonts), cell),
                Paragraph(_scores(e, fonts), cell),
            ]
        )
    if not page:
        data.append([Paragraph("No infusions booked on this day.", cell), *([""] * (len(_HEADER) - 1))])
    table = Table(data, colWidths=[w * mm for w in _WIDTHS_MM], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 1.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table
