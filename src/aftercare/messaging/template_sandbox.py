"""The Jinja2 sandbox message templates run in, and how a body becomes tokenized Markdown.

    tokenized, table = template_sandbox.render_tokenized(body, variables)  # body: Markdown
    subject = template_sandbox.render_line(subject_source, variables, field="subject")

Store owners write templates in the dashboard: they are untrusted code. They run in Jinja2's
*immutable* sandbox (no attribute starting with `_`, no method that changes a value), with a
few more caps (`range()` to 1,000 numbers per render, `*` repetition to 10,000, `**` to 100,
output to 200,000 characters) so a loop cannot hold a worker or fill its memory. A variable
that does not exist is `_Blank`: it prints nothing, and calling it, indexing it or adding to it
gives blank again, comparing it gives false — a typo never stops a message. On the variables
(plain dicts) `a.b` looks up the key only, so `order.items` is the key, not `dict.items`.

Every value a body prints becomes a token (`markdown_email.V_OPEN` number `V_CLOSE`) and goes
into the render's `Table`; blocks (`{{ button(…) }}`) go there too as `B` tokens. Template text
captured by a macro, a call block or a `{% set %}` block is marked (`_Captured`, two small hooks
in Jinja's compiler) and printed as template text, so its Markdown works while the values in it
stay tokens. Subjects and preheaders use a second environment that prints values as they are.

Errors, compile-time or run-time, become `TemplateError` with the field and the template line.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import TracebackType
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aftercare.core.errors import DomainError
from aftercare.messaging import markdown_email
from aftercare.messaging.email_blocks import Block

MAX_OUTPUT_CHARS = 200_000  # a body past this is a runaway loop, not an email
MAX_RANGE = 1_000  # numbers in all the range() calls of one render, nested loops included
MAX_REPEAT = 10_000  # "ab" * n, [x] * n
MAX_EXPONENT = 100


class TemplateError(DomainError):
    """A template that does not compile or fails while rendering, with where: `field` is
    "subject", "preheader" or "body", `line` the line in it (None when unknown)."""

    code = "template_error"
    http_status = 400

    def __init__(self, message: str, *, field: str, line: int | None = None) -> None:
        where = f"{field.capitalize()}, line {line}" if line else field.capitalize()
        super().__init__(f"{where}: {message}", field=field, line=line)
        self.field = field
        self.line = line


# --- the Jinja environments -------------------------------------------------------------------


class _Blank(ChainableUndefined):
    """Undefined that stays quiet: attribute, item, call and arithmetic give blank again,
    comparisons are false. Store owners' templates must never stop a message over a typo."""

    __slots__ = ()

    def _blank(self, *args: Any, **kwargs: Any) -> _Blank:
        return self

    def _false(self, other: Any) -> bool:
        return False

    __call__ = _blank  # type: ignore[assignment]
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _blank  # type: ignore[assignment]
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _blank  # type: ignore[assignment]
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = _blank  # type: ignore[assignment]
    __lt__ = __le__ = __gt__ = __ge__ = _false  # type: ignore[assignment]


class _Captured(str):
    """Output of template text captured by a macro, a `{% call %}` or a `{% set %}` block:
    already tokenized, so it is printed as template text (Markdown kept), not as a value."""

    __slots__ = ()


class _CodeGenerator(CodeGenerator):
    """Marks captured template output as `_Captured` (two small hooks in Jinja's compiler)."""

    def return_buffer_contents(self, frame: Frame, force_unescaped: bool = False) -> None:
        self.writeline(f"return environment.captured(concat({frame.buffer}))")

    def visit_AssignBlock(self, node: nodes.AssignBlock, frame: Frame) -> None:  # noqa: N802
        if node.filter is not None:  # `{% set x | upper %}`: a value like any other
            super().visit_AssignBlock(node, frame)
            return
        # Jinja 3.1's visit_AssignBlock, with `environment.captured` for `identity`.
        self.push_assign_tracking()
        block_frame = frame.inner()
        block_frame.require_output_check = False
        block_frame.symbols.analyze_node(node)
        self.enter_frame(block_frame)
        self.buffer(block_frame)
        self.blockvisit(node.body, block_frame)
        self.newline(node)
        self.visit(node.target, frame)
        self.write(f" = environment.captured(concat({block_frame.buffer}))")
        self.pop_assign_tracking(frame)
        self.leave_frame(block_frame)


_RANGE_BUDGET = " range budget"  # like _TABLE: out of a template's reach


@pass_context
def _safe_range(context: Context, *args: int) -> range:
    """range() with one budget per render: a range inside a range's loop spends it on every
    turn, so nesting cannot multiply the work past MAX_RANGE numbers."""
    numbers = range(*args)
    budget: list[int] = context.parent[_RANGE_BUDGET]
    budget[0] -= len(numbers)
    if budget[0] < 0:
        raise SecurityError(f"range() is limited to {MAX_RANGE:,} numbers in a template")
    return numbers


class _Environment(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**"})

    @staticmethod
    def captured(text: str) -> _Captured:
        return _Captured(text)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`order.items` is the key, not dict.items: on the variables (plain dicts) a dot
        looks up keys only — which also leaves no dict method reachable."""
        if isinstance(obj, dict):
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and count > MAX_REPEAT
            ):
                raise SecurityError(f"repeating more than {MAX_REPEAT} times is not allowed")
        return operator.mul(left, right)


def display(value: Any) -> str:
    """A value as text: blank for missing and None, lists joined, no dict/object dumps."""
    if type(value) is str:
        return value
    if value is None or isinstance(value, _Blank | Mapping):
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(text for item in value if (text := display(item)))
    return str(value)


_TABLE = " values"  # not a name a template can write: only finalize reaches it


class Table:
    """What one body render printed: its values (as text) and blocks, by token number."""

    __slots__ = ("blocks", "size", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.blocks: list[Block] = []
        self.size = 0  # characters of all values: the output cap counts them too


@pass_context  # also keeps Jinja from folding constants through it at compile time
def _tokenize(context: Context, value: Any) -> str:
    if isinstance(value, _Captured):
        return value
    table: Table = context.parent[_TABLE]
    if isinstance(value, Block):
        table.blocks.append(value)
        return f"{markdown_email.B_OPEN}{len(table.blocks) - 1}{markdown_email.B_CLOSE}"
    text = display(value)
    if not text:
        return ""
    table.size += len(text)
    if table.size > MAX_OUTPUT_CHARS:
        raise TemplateError(
            f"the result is longer than {MAX_OUTPUT_CHARS:,} characters", field="body"
        )
    table.values.append(text)
    return f"{markdown_email.V_OPEN}{len(table.values) - 1}{markdown_email.V_CLOSE}"


def _plain(value: Any) -> str:
    return "" if isinstance(value, Block) else display(value)


def _button(url: Any = "", label: Any = "") -> Block:
    return Block("button", (url, label))


@pass_context
def _order_items(context: Context, order: Any = None) -> Block:
    return Block("order_items", (context.resolve("order") if order is None else order,))


@pass_context
def _product_grid(context: Context, products: Any = None) -> Block:
    chosen = context.resolve("recommended_products") if products is None else products
    return Block("product_grid", (chosen,))


@pass_context
def _coupon_box(context: Context, coupon: Any = None) -> Block:
    return Block("coupon_box", (context.resolve("coupon") if coupon is None else coupon,))


def _score_scale(url: Any = "", low: Any = "", high: Any = "") -> Block:
    return Block("score_scale", (url, low, high))


def _environment(finalize: Callable[..., str]) -> _Environment:
    env = _Environment(
        autoescape=False,  # values are escaped after Markdown (tokens), subjects are plain text
        undefined=_Blank,
        finalize=finalize,
        trim_blocks=True,  # a `{% if %}` line leaves no blank line in the Markdown
        lstrip_blocks=True,
        keep_trailing_newline=True,
        cache_size=0,  # we cache compiled templates ourselves, by source text
        auto_reload=False,
    )
    env.globals = {
        "range": _safe_range,
        "dict": dict,
        "button": _button,
        "order_items": _order_items,
        "product_grid": _product_grid,
        "coupon_box": _coupon_box,
        "score_scale": _score_scale,
    }
    return env


_BODY_ENV = _environment(_tokenize)
_PLAIN_ENV = _environment(_plain)
GLOBAL_NAMES = frozenset(_BODY_ENV.globals)


def _strip_sentinels(source: str) -> str:
    return source.translate({ord(c): None for c in markdown_email.SENTINELS})


def _flat_globals(template: Template) -> Template:
    # Jinja keeps a template's globals as a ChainMap over the environment's and copies it into
    # every new context: a plain dict copies several times faster (our globals never change).
    template.globals = dict(template.globals)
    return template


@lru_cache(maxsize=2048)
def _compile_body(source: str) -> Template:
    return _flat_globals(_BODY_ENV.from_string(_strip_sentinels(source)))


@lru_cache(maxsize=2048)
def _compile_plain(source: str) -> Template:
    return _flat_globals(_PLAIN_ENV.from_string(source))


def _template_line(traceback: TracebackType | None) -> int | None:
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def compile_template(source: str, *, field: str, body: bool) -> Template:
    """The compiled template (cached by source text), or TemplateError with the line."""
    try:
        return _compile_body(source) if body else _compile_plain(source)
    except TemplateSyntaxError as error:
        raise TemplateError(
            error.message or "syntax error", field=field, line=error.lineno
        ) from None


def parse(source: str, *, body: bool) -> nodes.Template:
    """The template's syntax tree (the editor looks for unknown variables in it)."""
    return (_BODY_ENV if body else _PLAIN_ENV).parse(source)


def _run(template: Template, variables: Mapping[str, Any], *, field: str) -> str:
    context = template.new_context({**variables, _RANGE_BUDGET: [MAX_RANGE]})
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(
                    f"the result is longer than {MAX_OUTPUT_CHARS:,} characters", field=field
                )
            chunks.append(chunk)
    except TemplateError:
        raise
    except Exception:  # anything a template can make Python raise: report it, with the line
        try:
            template.environment.handle_exception()  # re-raises with template line numbers
        except Exception as error:
            raise TemplateError(
                str(error), field=field, line=_template_line(error.__traceback__)
            ) from None
    return "".join(chunks)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_line(source: str, variables: Mapping[str, Any], *, field: str) -> str:
    """A subject or preheader: values as they are, on one line."""
    if not source:
        return ""
    template = compile_template(source, field=field, body=False)
    return _one_line(_run(template, variables, field=field))


def render_tokenized(source: str, variables: Mapping[str, Any]) -> tuple[str, Table]:
    """A body's Jinja output — Markdown with value and block tokens — and what they stand for."""
    table = Table()
    template = compile_template(source, field="body", body=True)
    return _run(template, {**variables, _TABLE: table}, field="body"), table
