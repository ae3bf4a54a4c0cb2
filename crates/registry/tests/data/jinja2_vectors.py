#!/usr/bin/env python3
"""Render template cases with Python Jinja2 and store the outputs as JSON.

The Rust test `tests/render_jinja2.rs` renders the same cases with llmops
and compares. Jinja2 runs with StrictUndefined and autoescape off, which are
the settings llmops uses. Regenerate with:

    python3 crates/registry/tests/data/jinja2_vectors.py > crates/registry/tests/data/jinja2_vectors.json
"""

import json
import platform
import sys

import jinja2

CASES = [
    ("plain_text", "Hello, world.", {}),
    ("variable", "Hello, {{ name }}.", {"name": "Ada"}),
    ("unicode_passthrough", "{{ text }}", {"text": "naïve café 日本語 🙂 \u200b"}),
    ("html_not_escaped", "{{ text }}", {"text": "<b>&amp; \"quoted\" 'single'</b>"}),
    ("value_not_reparsed", "{{ text }}", {"text": "{{ secret }} {% if x %}"}),
    ("dollar_and_backslash_verbatim", "{{ text }}", {"text": "$1 $name \\n \\u0041 \\\\"}),
    ("literal_braces_expression", "{{ '{{' }} name {{ '}}' }}", {}),
    ("literal_braces_raw", "{% raw %}{{ name }}{% endraw %}", {}),
    ("loop_with_index", "{% for item in items %}{{ loop.index }}. {{ item }}\n{% endfor %}", {"items": ["a", "b", "c"]}),
    ("loop_empty_else", "{% for item in items %}{{ item }}{% else %}none{% endfor %}", {"items": []}),
    ("if_elif_else", "{% if n > 1 %}many{% elif n == 1 %}one{% else %}zero{% endif %}", {"n": 1}),
    ("filters_upper_join", "{{ words | join(', ') | upper }}", {"words": ["x", "y"]}),
    ("filter_default", "{{ missing | default('fallback') }}", {}),
    ("filter_length", "{{ items | length }}", {"items": [1, 2, 3]}),
    ("filter_trim", "[{{ text | trim }}]", {"text": "  padded  "}),
    ("attribute_access", "{{ user.name }} ({{ user['age'] }})", {"user": {"name": "Bo", "age": 30}}),
    ("integer_division_positive", "{{ 7 // 2 }}", {}),
    ("integer_division_negative_dividend", "{{ -7 // 2 }}", {}),
    ("integer_division_negative_divisor", "{{ 7 // -2 }}", {}),
    ("integer_division_both_negative", "{{ -7 // -2 }}", {}),
    ("modulo_negative_dividend", "{{ -7 % 2 }}", {}),
    ("modulo_negative_divisor", "{{ 7 % -2 }}", {}),
    ("modulo_both_negative", "{{ -7 % -2 }}", {}),
    ("true_division", "{{ 7 / 2 }}", {}),
    ("round_half_even_case", "{{ 2.5 | round }}", {}),
    ("round_half_odd_case", "{{ 3.5 | round }}", {}),
    ("round_negative_half", "{{ -2.5 | round }}", {}),
    ("round_precision", "{{ 1.25 | round(1) }}", {}),
    ("round_floor_method", "{{ 2.7 | round(method='floor') }}", {}),
    ("whitespace_default_block_newline", "a\n{% if true %}\nb\n{% endif %}\nc", {}),
    ("whitespace_minus_both_sides", "a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c", {}),
    ("whitespace_expression_minus", "x   {{- 1 -}}   y", {}),
    ("whitespace_leading_spaces_kept", "  {% if true %}b{% endif %}", {}),
    ("trailing_newline_removed", "line\n", {}),
    ("two_trailing_newlines", "line\n\n", {}),
    ("set_and_namespace", "{% set ns = namespace(total=0) %}{% for n in nums %}{% set ns.total = ns.total + n %}{% endfor %}{{ ns.total }}", {"nums": [1, 2, 3]}),
    ("string_concatenation_tilde", "{{ a ~ '-' ~ b }}", {"a": "x", "b": 2}),
    ("boolean_rendering", "{{ flag }} {{ not flag }}", {"flag": True}),
    ("none_rendering", "{{ value }}", {"value": None}),
    ("float_rendering", "{{ value }}", {"value": 1.0}),
    ("list_rendering", "{{ items }}", {"items": [1, "two"]}),
    ("empty_template", "", {}),
    ("undefined_variable_errors", "{{ missing }}", {}),
    ("undefined_attribute_errors", "{{ user.missing }}", {"user": {"name": "Bo"}}),
]


def render(source, context):
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return {"output": environment.from_string(source).render(**context)}
    except jinja2.TemplateError as error:
        return {"error": type(error).__name__}


def main():
    cases = []
    for name, source, context in CASES:
        case = {"name": name, "template": source, "context": context}
        case.update(render(source, context))
        cases.append(case)
    json.dump(
        {
            "generator": "jinja2_vectors.py",
            "jinja2_version": jinja2.__version__,
            "python_version": platform.python_version(),
            "cases": cases,
        },
        sys.stdout,
        ensure_ascii=False,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
