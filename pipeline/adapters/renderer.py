"""Fill a Word template from `templates/` with a document context and return the .docx bytes.

This is the adapter between the context that the core builds per document and audience (the contract is
`docs/templates.md`) and Word. Rendering is strict and literal: a placeholder without a value, a value that is
None, or a broken Jinja tag raises `TemplateError` naming the template and the placeholder, never an empty gap;
values are XML-escaped, so `&`, `<` and even `{{ x }}` typed by a secretariat appear as typed.

Speed: a template file is read once (and again only when it changes on disk). docxtpl re-opens the .docx,
regex-patches its XML and compiles it as a Jinja template on every render. Patching and compiling depend only on
the template, so both are memoised by source text (`_CachingDocxTemplate`, `_CachingEnvironment`): a warm render
of an advies takes ~12 ms instead of ~27 ms. The .docx itself is re-opened per render from the cached bytes,
because `DocxTemplate.render` mutates its document (a deep copy of a parsed document would save ~3 ms but ties
correctness to python-docx internals).
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.utils import missing

from pipeline.core.dutch import onbreekbaar
from pipeline.adapters.logo import read_logo
from pipeline.errors import TemplateError

# XML 1.0 cannot carry these; lxml would refuse them or (in docxtpl's recovering parser) silently cut text.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Node(dict):
    """A context mapping that remembers its dotted path, so a missing key can be reported as `werknemer.bsn`."""

    __slots__ = ("_sopipe_path",)


class _PathUndefined(StrictUndefined):
    """StrictUndefined whose message names the full placeholder path."""

    __slots__ = ()

    @property
    def placeholder(self) -> str:
        name = self._undefined_name
        obj = self._undefined_obj
        if obj is missing or not isinstance(obj, _Node):
            return str(name)
        return f"{obj._sopipe_path}.{name}" if obj._sopipe_path else str(name)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        return f"placeholder {self.placeholder!r} has no value"


class _NoneValue(_PathUndefined):
    """Stands in for a None in the context: the contract wants `—` or '' for absent data, never None."""

    __slots__ = ()


_INSIDE_TAG = re.compile(r"(?<=\{[\{%])(.*?)(?=[\}%]\})", re.S)


def _unescape_amp_in_tags(xml: str) -> str:
    """`&` inside a tag as Jinja must see it. Word stores a typed `&` as `&amp;`; docxtpl turns `&lt;`/`&gt;` in
    tags back into `<`/`>` but not `&amp;`, so `{{ firma|default("Jansen & Zn") }}` reached Jinja as the literal
    "Jansen &amp; Zn" and autoescape made the document say "Jansen &amp; Zn"."""
    return _INSIDE_TAG.sub(lambda m: m.group(0).replace("&amp;", "&"), xml)


class _CachingDocxTemplate(DocxTemplate):
    """`patch_xml` (a dozen regex passes over the whole document) is a pure function of its input: memoise it."""

    _patched: dict[str, str] = {}
    _patched_lock = threading.Lock()

    def patch_xml(self, src_xml: str) -> str:
        patched = self._patched.get(src_xml)
        if patched is None:
            patched = _unescape_amp_in_tags(super().patch_xml(src_xml))
            with self._patched_lock:
                if len(self._patched) > 512:
                    self._patched.clear()
                self._patched[src_xml] = patched
        return patched


class _CachingEnvironment(Environment):
    """`from_string` compiles each distinct source once; docxtpl asks for the same body/header XML every render."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002 - jinja's signature
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = super().from_string(source)
            with self._lock:
                if len(self._compiled) > 512:  # bounded: only template parts and core properties land here
                    self._compiled.clear()
                self._compiled[source] = compiled
        return compiled


def _typeset(value: Any) -> Any:
    """Every printed text value as a careful secretary sets it (`dutch.onbreekbaar`: no line break inside a name,
    a date, an amount, a postcode or a number). Done here, where text is set, so the context itself stays plain
    data for the guard, the metadata and the tests; markup objects (an image) pass unchanged."""
    return onbreekbaar(value) if type(value) is str else value


def _make_environment() -> _CachingEnvironment:
    return _CachingEnvironment(undefined=_PathUndefined, autoescape=True, keep_trailing_newline=True,
                               finalize=_typeset)


def _clean_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _XML_ILLEGAL.sub("", value)
    return _SURROGATE.sub("\ufffd", value)


def _prepare(value: Any, path: str, key: str | None = None, parent: _Node | None = None) -> Any:
    """Copy the context: mappings become path-aware `_Node`s, strings lose XML-illegal characters."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, Mapping):
        node = _Node()
        node._sopipe_path = path
        for k, v in value.items():
            node[k] = _prepare(v, f"{path}.{k}" if path else str(k), key=k, parent=node)
        return node
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_prepare(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if value is None:
        return _NoneValue(hint=f"placeholder {path!r} is None (use '—' or '' for absent data)",
                          obj=parent if parent is not None else missing, name=key)
    return value


LOGO_HEIGHT = Mm(13)


def _place_logo(doc: DocxTemplate, prepared: _Node, *, template: str) -> None:
    """`organisatie.logo` is the path of the letterhead logo (checked at start-up, `pipeline/adapters/logo.py`) or
    '': a path becomes the image itself (docxtpl InlineImage, 13 mm high), '' leaves the template's logo
    paragraph out."""
    org = prepared.get("organisatie")
    logo = org.get("logo") if isinstance(org, Mapping) else None
    if not isinstance(logo, str) or not logo:
        return
    try:
        data = read_logo(logo)
    except OSError as exc:
        raise TemplateError(f"Template {template}: the logo {logo} cannot be read ({exc.strerror})",
                            template=template, field="organisatie.logo") from exc
    org["logo"] = InlineImage(doc, io.BytesIO(data), height=LOGO_HEIGHT)


class _Cached:
    __slots__ = ("data", "stamp")

    def __init__(self, data: bytes, stamp: tuple[int, int]) -> None:
        self.data = data
        self.stamp = stamp


class DocxRenderer:
    """Renders `templates/*.docx` with docxtpl: strict, autoescaped, cached."""

    def __init__(self, template_dir: Path) -> None:
        self.template_dir = Path(template_dir)
        self._env = _make_environment()
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    # public API ---------------------------------------------------------------------------------------------
    def render(self, template: str, context: Mapping[str, Any]) -> bytes:
        """Return the rendered .docx as bytes. Raises `TemplateError` for anything the template cannot be filled with."""
        source = self._source(template)
        prepared = _prepare(context, "")
        doc = _CachingDocxTemplate(io.BytesIO(source))
        _place_logo(doc, prepared, template=template)
        try:
            doc.render(prepared, jinja_env=self._env)
        except UndefinedError as exc:
            raise TemplateError(f"Template {template}: {exc.message}", template=template,
                                field=_placeholder_from(exc)) from exc
        except TemplateSyntaxError as exc:
            raise TemplateError(f"Template {template}: broken placeholder or tag ({exc.message}) "
                                f"near “{_docx_context(exc)}”", template=template) from exc
        except JinjaTemplateError as exc:
            raise TemplateError(f"Template {template}: {exc.message or exc}", template=template) from exc
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()

    def placeholders(self, template: str) -> set[str]:
        """Top-level context names the template uses (docxtpl's undeclared variables): `kenmerk`, `werknemer`, …"""
        doc = _CachingDocxTemplate(io.BytesIO(self._source(template)))
        try:
            return set(doc.get_undeclared_template_variables(jinja_env=self._env))
        except TemplateSyntaxError as exc:
            raise TemplateError(f"Template {template}: broken placeholder or tag ({exc.message})",
                                template=template) from exc

    def placeholder_paths(self, template: str) -> set[str]:
        """Dotted placeholders as `docs/templates.md` lists them: `werknemer.naam`, `aan.adresregels`, …

        Attribute chains on loop variables (`regel` in `{% for regel in aan.adresregels %}`) are left out.
        """
        doc = _CachingDocxTemplate(io.BytesIO(self._source(template)))
        try:
            ast = self._env.parse(_template_source(doc))
        except TemplateSyntaxError as exc:
            raise TemplateError(f"Template {template}: broken placeholder or tag ({exc.message})",
                                template=template) from exc
        top = meta.find_undeclared_variables(ast)
        paths: set[str] = set()
        for node in ast.find_all((nodes.Getattr, nodes.Name)):
            path = _dotted(node)
            if path and path.split(".")[0] in top:
                paths.add(path)
        # keep only the longest chains: `werknemer.naam` makes `werknemer` redundant
        return {p for p in paths if not any(q.startswith(p + ".") for q in paths)}

    # internals ----------------------------------------------------------------------------------------------
    def _source(self, template: str) -> bytes:
        if Path(template).name != template or not template.endswith(".docx"):
            raise TemplateError(f"Template name {template!r} must be a plain file name ending in .docx",
                                template=template)
        path = self.template_dir / template
        try:
            st = path.stat()
        except OSError as exc:
            raise TemplateError(f"Template {template} not found in {self.template_dir}", template=template) from exc
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(template)
        if cached is not None and cached.stamp == stamp:
            return cached.data
        try:
            data = path.read_bytes()
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if "word/document.xml" not in zf.namelist():
                    raise zipfile.BadZipFile("no word/document.xml")
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateError(f"Template {template} is not a readable .docx: {exc}", template=template) from exc
        with self._lock:
            self._cache[template] = _Cached(data, stamp)
        return data


def _template_source(doc: DocxTemplate) -> str:
    """Body, headers and footers as docxtpl hands them to Jinja (the same text `get_undeclared…` parses)."""
    from docx.oxml import parse_xml

    docx = doc.get_docx()
    xml = doc.patch_xml(doc.xml_to_string(docx._element.body))
    for uri in (doc.HEADER_URI, doc.FOOTER_URI):
        for rel in docx._part.rels.values():
            if rel.reltype == uri and rel.target_part.blob:
                xml += doc.patch_xml(doc.xml_to_string(parse_xml(rel.target_part.blob)))
    return xml


def _dotted(node: nodes.Node) -> str | None:
    parts: list[str] = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    if isinstance(node, nodes.Name):
        parts.append(node.name)
        return ".".join(reversed(parts))
    return None


def _placeholder_from(exc: UndefinedError) -> str | None:
    match = re.search(r"placeholder '([^']+)'", exc.message or "")
    return match.group(1) if match else None


def _docx_context(exc: Exception) -> str:
    lines = getattr(exc, "docx_context", None)
    if not lines:
        return "?"
    text = " ".join(line.strip() for line in lines if line.strip())
    return text[:160]
