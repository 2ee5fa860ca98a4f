"""`sopipe templates check`: the safety net for whoever edits the Word templates.

People adjust `templates/*.docx` in Word. Word then splits text into runs, adds hyperlinks and tracked changes,
and nothing stops a typo in `{{ werknemer.naam }}`. This module finds that before a case does, per template:

1. it opens (a .docx that python-docx can read);
2. every tag is closed inside its paragraph, and every `{% if %}`/`{% for %}` has its `{% endif %}`/`{% endfor %}`;
3. no tag is split across Word runs in a way docxtpl cannot join: when part of a tag sits in a hyperlink, a
   tracked change or a field, docxtpl renders without an error but silently drops the rest of the document.
   A split that docxtpl joins but whose parts are formatted differently is a warning (the first part's
   formatting wins); a split with the same formatting is what Word always does and is not reported;
4. every placeholder is one the pipeline fills for that template. The known placeholders are not a list kept by
   hand: they are collected from the real projection by running the example case and variants of it (one for
   every row of the routing table) through the pure core (`decide`); a template of a document kind that no
   variant makes (a kind added since) is checked against the sample context of its kind
   (`pipeline.core.kinds.Row.sample`), with a warning;
5. it renders strictly (`DocxRenderer`) with every context those runs produce.

And for the folder: every template a document kind names (`pipeline.core.kinds`) is there. Each problem names the
template, the placeholder and the paragraph (its first 60 characters) where it is.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import enum
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, nodes
from lxml import etree

from pipeline.adapters.renderer import DocxRenderer
from pipeline.core import model
from pipeline.core.procedure import DocumentOrder, decide
from pipeline.core.requester import letter_to_requester
from pipeline.core.kinds import ROWS, sample_contexts, templates
from pipeline.errors import ProcedureError, TemplateError
from pipeline.shell.layout import EXAMPLES

EXAMPLE_CASE = EXAMPLES / "case-SO-2026-0042"
SIGNATURE_ANCHOR = "Ondertekening"
PREVIEW = 60

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding in one template."""
    template: str
    severity: Severity
    message: str
    placeholder: str | None = None
    """The placeholder or tag concerned, as written in the template (`werknemer.naam`, `{% if concept %}`)."""
    paragraph: str | None = None
    """The first 60 characters of the paragraph where it is."""
    part: str | None = None
    """Where that paragraph is when not in the body: `header`, `footer`, `footnote` or `endnote`."""

    def __str__(self) -> str:
        where = f' in {self.part + " " if self.part else ""}paragraph "{self.paragraph}"' \
            if self.paragraph is not None else ""
        return f"{self.template}: {self.message}{where}"


@dataclass
class CheckReport:
    directory: Path
    templates: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def of(self, template: str) -> list[Problem]:
        return [p for p in self.problems if p.template == template]


# --- what the pipeline fills: the example case and its variants through the real core -------------------------

@dataclass(frozen=True)
class Variant:
    """The example case with changes, run up to and including step `upto` (None: the whole case)."""
    name: str
    profiel: str = "nvab"
    changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per step: fields to change (nested dicts are merged; None removes a field)."""
    upto: str | None = None
    intrekkingen: tuple[tuple[str, str | None], ...] = ()
    """(machtiging, bron) withdrawn after the last step, one day apart."""


_NOT_IN_CONTRACT = {"so_bedrijfsarts": {"in_arbocontract": False}}

VARIANTS: tuple[Variant, ...] = (
    Variant("voorbeeld"),
    Variant("weigering", changes={"beoordeling": {
        "uitkomst": "geweigerd", "zwaarwegende_reden": "De vraag is al beantwoord in een deskundigenoordeel."}},
        upto="beoordeling"),
    Variant("vitaal", profiel="vitaal", changes={"verzoek": {"via": "casemanager"}}, upto="selectie"),
    Variant("preventix-te-laat", profiel="preventix", changes={"verzoek": {"datum_betwist_advies": "2026-10-15"}},
            upto="verzoek"),
    Variant("preventix", profiel="preventix", upto="extra_informatie"),
    Variant("geen-medische-gegevens", changes={"aanvraag": {"machtiging_medische_gegevens": "geweigerd"}},
            upto="aanvraag"),
    Variant("info-bedrijfsarts", changes={"extra_informatie": {"bron": "bedrijfsarts"}}, upto="extra_informatie",
            intrekkingen=(("extra_informatie", "bedrijfsarts"),)),
    Variant("info-werkgever", changes={"extra_informatie": {"bron": "werkgever"}}, upto="extra_informatie",
            intrekkingen=(("extra_informatie", "werkgever"),)),
    Variant("intrekkingen", upto="definitief_advies", intrekkingen=(
        ("medische_gegevens", None), ("extra_informatie", "behandelaar"), ("advies_delen_bedrijfsarts", None))),
    Variant("geen-kopie", changes={"definitief_advies": {"machtiging_advies_delen_bedrijfsarts": "geweigerd"}},
            upto="definitief_advies"),
    Variant("vsd-werkadvies", profiel="vsd", changes={"definitief_advies": {
        "machtiging_advies_delen_werkgever": "verleend"}}, upto="definitief_advies",
        intrekkingen=(("advies_delen_werkgever", None),)),
    Variant("vsd-zonder-werkadvies", profiel="vsd", changes={"definitief_advies": {
        "machtiging_advies_delen_werkgever": "geweigerd"}}, upto="definitief_advies"),
    Variant("aanvrager-werkgever", changes={"verzoek": {"verzocht_door": "werkgever"}}, upto="verzoek"),
    Variant("aanvrager-aanstellingskeuring", changes={"verzoek": {"betreft": "aanstellingskeuring"}}, upto="verzoek"),
    Variant("aanvrager-bedrijfsarts", changes={"verzoek": {"verzocht_door": "bedrijfsarts"}}, upto="verzoek"),
    Variant("factuur-werknemer", changes={"selectie": {**_NOT_IN_CONTRACT, "werkgever_vergoedt": False}}),
    Variant("factuur-werkgever-vergoedt", changes={"selectie": {**_NOT_IN_CONTRACT, "werkgever_vergoedt": True}}),
    # the written consent not yet in the dossier: the machtiging the employee is to sign (issue 20)
    Variant("machtiging-te-ondertekenen", changes={"aanvraag": {"bewijs": {"vindplaats": None}},
                                                    "extra_informatie": {"bewijs": {"vindplaats": None}}},
            upto="extra_informatie"),
    Variant("machtiging-te-ondertekenen-bedrijfsarts", changes={"extra_informatie": {
        "bron": "bedrijfsarts", "bewijs": {"vindplaats": None}}}, upto="extra_informatie"),
    Variant("machtiging-te-ondertekenen-werkgever", changes={"extra_informatie": {
        "bron": "werkgever", "bewijs": {"vindplaats": None}}}, upto="extra_informatie"),
)


def _merge(data: dict, changes: Mapping[str, Any]) -> dict:
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(data.get(key), dict):
            _merge(data[key], value)
        else:
            data[key] = copy.deepcopy(value)
    return data


def variant_events(variant: Variant, case_dir: Path = EXAMPLE_CASE) -> list[dict]:
    events = []
    for path in sorted(case_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["stap"] == "verzoek":
            data["profiel"] = variant.profiel
        events.append(_merge(data, variant.changes.get(data["stap"], {})))
        if data["stap"] == variant.upto:
            break
    for i, (machtiging, bron) in enumerate(variant.intrekkingen, start=1):
        last = dt.date.fromisoformat(events[-1]["datum"])
        events.append({"schema": model.SCHEMA_ID, "kenmerk": events[0]["kenmerk"], "stap": "intrekking",
                       "datum": (last + dt.timedelta(days=1)).isoformat(), "machtiging": machtiging,
                       **({"bron": bron} if bron else {})})
    return events


def example_orders(case_dir: Path = EXAMPLE_CASE, variants: Iterable[Variant] = VARIANTS) -> list[DocumentOrder]:
    """Every document order the example case and its variants produce (every row of the routing table)."""
    orders: list[DocumentOrder] = []
    for variant in variants:
        state = None
        for data in variant_events(variant, case_dir):
            ev = model.parse_event(data)
            try:
                decision = decide(state, ev)
            except ProcedureError as e:  # a request refused outright: the letter to the requester (issue 14)
                letter = letter_to_requester(ev, rule=e.rule, datum=ev.datum)
                if letter is None:
                    raise
                orders.append(letter.order)
                break
            state = decision.state
            orders.extend(decision.orders)
    return orders


def contexts_by_template(orders: Iterable[DocumentOrder]) -> dict[str, list[Mapping[str, Any]]]:
    """Distinct template contexts per template file."""
    out: dict[str, dict[str, Mapping[str, Any]]] = {}
    for order in orders:
        key = json.dumps(order.context, sort_keys=True, default=str)
        out.setdefault(order.row.template, {}).setdefault(key, order.context)
    return {template: list(contexts.values()) for template, contexts in out.items()}


def known_paths(contexts: Iterable[Mapping[str, Any]]) -> dict[str, set[type]]:
    """Dotted key paths of the contexts (`werknemer.naam`, `aan.adresregels`) with the types of their values."""
    paths: dict[str, set[type]] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(sub, f"{prefix}.{key}" if prefix else str(key))
        else:
            paths.setdefault(prefix, set()).add(type(value))

    for context in contexts:
        walk(context, "")
    return paths


def is_known(path: str, known: Mapping[str, set[type]]) -> bool:
    """A placeholder path the pipeline fills: a leaf, a whole block (`{% if werknemer %}`), or a method of a leaf
    value (`factuur.bedrag.upper`)."""
    if path in known or any(k.startswith(path + ".") for k in known):
        return True
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        leaf = ".".join(parts[:i])
        if leaf in known:
            return all(hasattr(t, parts[i]) for t in known[leaf])
    return False


# --- the document XML, paragraph by paragraph ------------------------------------------------------------------

@dataclass
class _Piece:
    start: int
    end: int
    t: Any
    """The w:t element."""


@dataclass
class _Paragraph:
    part: str
    element: Any
    text: str
    pieces: list[_Piece]

    @property
    def preview(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"

    @property
    def where(self) -> str | None:
        """`header`, `footer`, `footnote` or `endnote`; None in the body."""
        match = re.fullmatch(r"word/(header|footer|footnote|endnote)s?\d*\.xml", self.part)
        return match.group(1) if match else None


def _parts(docx: zipfile.ZipFile) -> list[str]:
    names = docx.namelist()
    extra = sorted(n for n in names if re.fullmatch(r"word/(header|footer)\d*\.xml|word/(foot|end)notes\.xml", n))
    return ["word/document.xml", *extra]


def _paragraphs(docx: zipfile.ZipFile) -> Iterator[_Paragraph]:
    for part in _parts(docx):
        root = etree.fromstring(docx.read(part))
        for p in root.iter(f"{W}p"):
            pieces, text = [], ""
            for t in p.iter(f"{W}t"):
                if next(t.iterancestors(f"{W}p")) is not p:  # a text box inside this paragraph has its own
                    continue
                value = t.text or ""
                pieces.append(_Piece(len(text), len(text) + len(value), t))
                text += value
            yield _Paragraph(part, p, text, pieces)


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_OPENERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_BLOCKS = {"if": "endif", "for": "endfor", "with": "endwith", "macro": "endmacro", "call": "endcall",
           "filter": "endfilter", "block": "endblock", "raw": "endraw", "autoescape": "endautoescape"}
_MIDDLES = {"elif": ("if",), "else": ("if", "for")}
_SIMPLE_TAGS = {"set", "colspan", "cellbg", "vm", "hm", "include", "import", "from"}
_DOCXTPL_PREFIX = re.compile(r"^(?:p|r|tr|tc)\s+")
_JINJA_GLOBALS = {"loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "true", "false", "none",
                  "True", "False", "None", "caller", "varargs", "kwargs"}
# What may stand between the parts of a split tag: docxtpl removes it, and removing it keeps the XML whole.
_SAFE_BETWEEN = {f"{W}r", f"{W}proofErr", f"{W}bookmarkStart", f"{W}bookmarkEnd", f"{W}permStart", f"{W}permEnd"}
_SAFE_IN_RUN = {f"{W}rPr", f"{W}t", f"{W}tab", f"{W}br", f"{W}lastRenderedPageBreak", f"{W}softHyphen",
                f"{W}noBreakHyphen"}
_FORMAT_NOISE = {f"{W}lang", f"{W}noProof", f"{W}rtl", f"{W}rFonts"}


_STRAIGHT_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
"""Word's curly quotes in a tag: docxtpl straightens them (`DocxTemplate.patch_xml`), so the check does too."""


@dataclass
class _Tag:
    text: str
    kind: str  # "{{", "{%" or "{#"
    body: str
    keyword: str
    paragraph: _Paragraph
    start: int
    end: int


def _tags(paragraph: _Paragraph) -> Iterator[_Tag]:
    for match in _TAG.finditer(paragraph.text):
        text = match.group(0)
        kind = text[:2]
        body = text[2:-2].strip()
        if body.startswith("-"):
            body = body[1:]
        if body.endswith("-"):
            body = body[:-1]
        body = _DOCXTPL_PREFIX.sub("", body.strip()).translate(_STRAIGHT_QUOTES)
        keyword = body.split(None, 1)[0] if kind == "{%" and body else ""
        yield _Tag(text, kind, body, keyword, paragraph, match.start(), match.end())


def _split_problem(tag: _Tag) -> tuple[Severity, str] | None:
    """A tag spread over several w:t elements: an error when docxtpl cannot join it, a warning when its parts are
    formatted differently, nothing when Word merely split it (spell checking, editing history)."""
    pieces = [p for p in tag.paragraph.pieces if p.start < tag.end and p.end > tag.start and p.end > p.start]
    if len(pieces) < 2:
        return None
    runs = [p.t.getparent() for p in pieces]
    parents = {id(r.getparent()) for r in runs}
    if len(parents) > 1 or any(r.tag != f"{W}r" for r in runs):
        return Severity.ERROR, ("is split across Word runs and part of it is inside a hyperlink, tracked change "
                                "or field; docxtpl cannot join it and would silently drop text after it")
    first, last = runs[0], runs[-1]
    siblings = list(first.getparent())
    between = siblings[siblings.index(first):siblings.index(last) + 1]
    for element in between:
        if element.tag not in _SAFE_BETWEEN:
            return Severity.ERROR, (f"is split across Word runs with a <{etree.QName(element).localname}> in "
                                    "between; docxtpl cannot join it without damaging the document")
        if element.tag == f"{W}r" and any(child.tag not in _SAFE_IN_RUN for child in element):
            odd = next(etree.QName(c).localname for c in element if c.tag not in _SAFE_IN_RUN)
            return Severity.ERROR, (f"is split across Word runs with a <{odd}> (field, image or comment) inside; "
                                    "docxtpl cannot join it without damaging the document")
    formats = {_format_key(r) for r in runs}
    if len(formats) > 1:
        return Severity.WARNING, ("is split across Word runs that are formatted differently; it renders with the "
                                  "first part's format")
    return None


def _format_key(run) -> bytes:
    rpr = run.find(f"{W}rPr")
    if rpr is None:
        return b""
    rpr = copy.deepcopy(rpr)
    for child in list(rpr):
        if child.tag in _FORMAT_NOISE:
            rpr.remove(child)
    return etree.tostring(rpr, method="c14n")


def _dotted(node: nodes.Node) -> str | None:
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
            node = node.node
        else:
            break
    if isinstance(node, nodes.Name) and node.ctx == "load":
        parts.append(node.name)
        return ".".join(reversed(parts))
    return None


def _paths_in(ast: nodes.Node) -> set[str]:
    paths = {p for n in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)) if (p := _dotted(n))}
    return {p for p in paths if not any(q.startswith(p + ".") for q in paths)}


def _targets(ast: nodes.Node) -> set[str]:
    return {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}


# --- checking one template ------------------------------------------------------------------------------------

class _TemplateChecker:
    def __init__(self, directory: Path, name: str, *, known: Mapping[str, set[type]] | None,
                 contexts: list[Mapping[str, Any]], signed: bool, renderer: DocxRenderer) -> None:
        self.path = directory / name
        self.name = name
        self.known = known
        self.contexts = contexts
        self.signed = signed
        self.renderer = renderer
        self.problems: list[Problem] = []
        self.env = Environment(autoescape=True)
        self._printed: list[tuple[str, _Tag]] = []

    def error(self, message: str, *, placeholder: str | None = None, paragraph: _Paragraph | None = None) -> None:
        self._add(Severity.ERROR, message, placeholder, paragraph)

    def warning(self, message: str, *, placeholder: str | None = None, paragraph: _Paragraph | None = None) -> None:
        self._add(Severity.WARNING, message, placeholder, paragraph)

    def _add(self, severity, message, placeholder, paragraph) -> None:
        self.problems.append(Problem(self.name, severity, message, placeholder,
                                     paragraph.preview if paragraph is not None else None,
                                     paragraph.where if paragraph is not None else None))

    def run(self) -> list[Problem]:
        paragraphs = self._open()
        if paragraphs is None:
            return self.problems
        tags = self._scan(paragraphs)
        locations = self._expressions(tags)
        if not any(p.severity is Severity.ERROR for p in self.problems):
            self._whole_template()
        if self.known is not None:
            self._unknown(locations)
            if not any(p.severity is Severity.ERROR for p in self.problems):
                self._render(locations)
        if self.signed and not any(p.text.strip() == SIGNATURE_ANCHOR for p in paragraphs):
            self.warning(f"has no paragraph that reads exactly '{SIGNATURE_ANCHOR}'; the signature is then placed at "
                         "the bottom of the last page instead of below it")
        return self.problems

    def _open(self) -> list[_Paragraph] | None:
        from docx import Document
        try:
            with zipfile.ZipFile(self.path) as docx:
                if "word/document.xml" not in docx.namelist():
                    raise zipfile.BadZipFile("there is no word/document.xml in it")
                paragraphs = list(_paragraphs(docx))
            Document(str(self.path))
        except Exception as e:  # noqa: BLE001 - any file may land here; whatever python-docx raises means "broken"
            self.error(f"cannot be opened as a Word document (.docx): {e}")
            return None
        return paragraphs

    def _scan(self, paragraphs: list[_Paragraph]) -> list[_Tag]:
        """Tags per paragraph; unclosed and stray delimiters; splits across runs; block balance."""
        tags: list[_Tag] = []
        stack: list[_Tag] = []
        for paragraph in paragraphs:
            found = list(_tags(paragraph))
            rest = _TAG.sub(lambda m: " " * len(m.group(0)), paragraph.text)
            for opener, closer in _OPENERS.items():
                if opener in rest:
                    snippet = rest[rest.index(opener):].strip()[:30]
                    self.error(f"tag '{snippet}' is not closed: '{closer}' is missing in the same paragraph",
                               placeholder=snippet, paragraph=paragraph)
                if closer in rest:
                    self.error(f"'{closer}' without its opening '{opener}'", placeholder=closer, paragraph=paragraph)
            if found and paragraph.where == "endnote":
                self.error(f"{found[0].text} is in an endnote, which docxtpl does not fill: it would be printed as "
                           "typed; move it into the text or a footnote", placeholder=found[0].text, paragraph=paragraph)
                continue
            for tag in found:
                split = _split_problem(tag)
                if split:
                    severity, why = split
                    self._add(severity, f"{tag.text} {why}", tag.text, paragraph)
                if tag.kind == "{%":
                    self._balance(tag, stack)
            tags.extend(found)
        for tag in stack:
            self.error(f"{tag.text} is never closed: '{{% {_BLOCKS[tag.keyword]} %}}' is missing",
                       placeholder=tag.text, paragraph=tag.paragraph)
        return tags

    def _balance(self, tag: _Tag, stack: list[_Tag]) -> None:
        kw = tag.keyword
        if kw in _BLOCKS:
            stack.append(tag)
        elif kw in _MIDDLES:
            if not stack or stack[-1].keyword not in _MIDDLES[kw]:
                self.error(f"{tag.text} is not inside an {' or '.join('{% ' + k + ' %}' for k in _MIDDLES[kw])}",
                           placeholder=tag.text, paragraph=tag.paragraph)
        elif kw.startswith("end") and kw[3:] in _BLOCKS:
            if not stack:
                self.error(f"{tag.text} closes nothing: there is no open '{{% {kw[3:]} %}}' before it",
                           placeholder=tag.text, paragraph=tag.paragraph)
            elif stack[-1].keyword != kw[3:]:
                opened = stack.pop()
                self.error(f"{tag.text} closes {opened.text} (paragraph \"{opened.paragraph.preview}\"), which needs "
                           f"'{{% {_BLOCKS[opened.keyword]} %}}'", placeholder=tag.text, paragraph=tag.paragraph)
            else:
                stack.pop()
        elif kw not in _SIMPLE_TAGS:
            self.error(f"unknown tag {tag.text} (known: if/elif/else/endif, for/endfor, set)",
                       placeholder=tag.text, paragraph=tag.paragraph)

    def _expressions(self, tags: list[_Tag]) -> dict[str, list[_Paragraph]]:
        """Parse each tag on its own; return the placeholder paths used and where."""
        used: list[tuple[str, _Paragraph]] = []
        local: set[str] = set(_JINJA_GLOBALS)
        for tag in tags:
            source = self._parsable(tag)
            if source is None:
                continue
            try:
                ast = self.env.parse(source)
                self.env.compile(ast)  # unknown filters and tests only show up when compiling
            except TemplateSyntaxError as e:
                self.error(f"{tag.text} is not a valid placeholder or tag: {e.message}", placeholder=tag.text,
                           paragraph=tag.paragraph)
                continue
            local |= _targets(ast)
            used.extend((path, tag.paragraph) for path in _paths_in(ast))
            if tag.kind == "{{":
                printed = ast.body[0].nodes[0] if ast.body and isinstance(ast.body[0], nodes.Output) else None
                if printed is not None and (path := _dotted(printed)):
                    self._printed.append((path, tag))
        where: dict[str, list[_Paragraph]] = {}
        for path, paragraph in used:
            if path.split(".")[0] not in local:
                where.setdefault(path, []).append(paragraph)
        return where

    @staticmethod
    def _parsable(tag: _Tag) -> str | None:
        if tag.kind == "{{":
            return tag.text[:2] + " " + tag.body + " " + tag.text[-2:]
        if tag.kind != "{%":
            return None
        kw, _, rest = tag.body.partition(" ")
        if kw in ("if", "elif"):
            return f"{{% if {rest} %}}{{% endif %}}"
        if kw in ("for", "with", "filter", "call"):
            return f"{{% {tag.body} %}}{{% end{kw} %}}"
        if kw == "set":
            return f"{{% {tag.body} %}}"
        if kw in ("colspan", "cellbg"):
            return f"{{{{ {rest} }}}}"
        return None

    def _whole_template(self) -> None:
        """What docxtpl hands to Jinja, parsed as one: catches what the tag-by-tag scan cannot see."""
        try:
            self.renderer.placeholder_paths(self.name)
        except TemplateError as e:
            self.error(e.message.removeprefix(f"Template {self.name}: "))

    def _unknown(self, where: dict[str, list[_Paragraph]]) -> None:
        for path, tag in self._printed:
            if path not in self.known and any(k.startswith(path + ".") for k in self.known):
                parts = sorted(k for k in self.known if k.startswith(path + "."))
                self.error(f"{tag.text} prints the whole block '{path}' (it would show as {{'...': ...}}); use one "
                           f"of its values, e.g. '{parts[0]}'", placeholder=path, paragraph=tag.paragraph)
        for path, paragraphs in where.items():
            if is_known(path, self.known):
                continue
            close = difflib.get_close_matches(path, list(self.known), n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            for paragraph in _unique(paragraphs):
                self.error(f"unknown placeholder '{path}': the pipeline has no such value for this "
                           f"template{hint}", placeholder=path, paragraph=paragraph)

    def _render(self, where: dict[str, list[_Paragraph]]) -> None:
        reported = {p.placeholder for p in self.problems}
        for context in self.contexts:
            try:
                self.renderer.render(self.name, context)
            except TemplateError as e:
                if e.field and e.field in reported:
                    continue
                paragraph = (where.get(e.field) or [None])[0] if e.field else None
                self.error(f"does not render with the example case: {e.message.removeprefix(f'Template {self.name}: ')}",
                           placeholder=e.field, paragraph=paragraph)
                reported.add(e.field)
                if e.field is None:
                    return


def _unique(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    seen, out = set(), []
    for p in paragraphs:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def is_template_file(path: Path) -> bool:
    """Word documents in the folder; Word's lock files (`~$advies.docx`) and hidden files are not templates."""
    return path.suffix.lower() == ".docx" and path.is_file() and not path.name.startswith(("~$", "."))


def check_templates(directory: Path, *, orders: Iterable[DocumentOrder] | None = None) -> CheckReport:
    """Check every template in `directory` against what the pipeline fills in it."""
    directory = Path(directory)
    report = CheckReport(directory)
    if not directory.is_dir():
        report.problems.append(Problem(str(directory), Severity.ERROR, "is not a folder"))
        return report
    contexts = contexts_by_template(example_orders() if orders is None else orders)
    needed = set(templates())
    signed = {row.template for row in ROWS.values() if row.sign is not None}
    samples = sample_contexts()
    present = sorted(p.name for p in directory.iterdir() if is_template_file(p))
    renderer = DocxRenderer(directory)
    for name in sorted(needed - set(present)):
        report.problems.append(Problem(name, Severity.ERROR, "is missing: the routing table needs it, so cases that "
                                       "reach that document would fail"))
    for name in present:
        report.templates.append(name)
        if name not in needed:
            report.problems.append(Problem(name, Severity.WARNING, "is not used by the pipeline (no row of the "
                                           "routing table names it); only its tags are checked"))
        template_contexts = contexts.get(name, [])
        if name in needed and not template_contexts:
            report.problems.append(Problem(name, Severity.WARNING, "no variant of the example case makes this "
                                           "document, so its placeholders are checked against the sample context "
                                           "of its document kind only; add a variant to VARIANTS in "
                                           "pipeline/shell/template_check.py"))
            template_contexts = [samples[name]()]
        known = known_paths(template_contexts) if template_contexts else None
        report.problems.extend(_TemplateChecker(directory, name, known=known, contexts=template_contexts,
                                                signed=name in signed, renderer=renderer).run())
    return report
