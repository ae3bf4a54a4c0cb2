//! A direct renderer for the plain shape most prompts have.
//!
//! Most prompt templates are literal text with `{{ name }}` and
//! `{{ item.field }}` substitutions, `{% if flag %}` blocks and
//! `{% for item in list %}` loops. For those, [`Plan`] walks the template
//! tree that MiniJinja's own parser produced and writes the output
//! straight from the `serde_json` variables, without converting them into
//! MiniJinja values or running its virtual machine.
//!
//! The plan is an accelerator, never a second dialect. It takes a template
//! only when every construct in it is in the supported set. At render
//! time, [`Plan::render`] returns `None` for anything whose output it does
//! not reproduce exactly: a missing variable or attribute, a value other
//! than a string or an integer, or iteration over anything but a list. The
//! caller then renders with MiniJinja, which produces the output or the
//! error. A property test checks that whatever the plan
//! writes equals MiniJinja's output for the same template and values.

use minijinja::machinery::{WhitespaceConfig, ast, parse};
use minijinja::syntax::SyntaxConfig;
use serde_json::Value as JsonValue;

/// A template compiled for direct rendering.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Raw(String),
    Emit(Path),
    If {
        condition: Condition,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    For {
        target: String,
        items: Path,
        body: Vec<Node>,
        empty: Vec<Node>,
    },
}

#[derive(Debug, Clone)]
enum Condition {
    Truthy(Path),
    Not(Box<Condition>),
}

/// A variable followed by attribute and item lookups: `doc.title`,
/// `documents[0]`, `loop.index`.
#[derive(Debug, Clone)]
struct Path {
    root: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The `loop` variable's attributes that the plan supports.
#[derive(Debug, Clone, Copy)]
struct LoopState {
    index0: usize,
    length: usize,
}

/// A value found while rendering: a JSON value or a loop attribute.
enum Found<'a> {
    Json(&'a JsonValue),
    Count(usize),
    Flag(bool),
    Loop(LoopState),
}

/// One loop variable in scope.
struct Frame<'a> {
    target: &'a str,
    item: &'a JsonValue,
    state: LoopState,
}

impl Plan {
    /// Builds a plan for `source`, or returns `None` when the template uses
    /// anything outside the supported set (filters, tests, calls,
    /// operators, `set`, macros, inheritance, loop filters, unpacking).
    pub(crate) fn compile(source: &str) -> Option<Plan> {
        let tree = parse(
            source,
            "<prompt>",
            SyntaxConfig,
            WhitespaceConfig::default(),
        )
        .ok()?;
        let ast::Stmt::Template(template) = tree else {
            return None;
        };
        Some(Plan {
            nodes: nodes(&template.children)?,
        })
    }

    /// Renders with `lookup` resolving top-level variables, or returns
    /// `None` when the output would need MiniJinja.
    pub(crate) fn render<'a>(
        &'a self,
        lookup: &dyn Fn(&str) -> Option<&'a JsonValue>,
        capacity: usize,
    ) -> Option<String> {
        let mut out = String::with_capacity(capacity);
        let mut frames = Vec::new();
        Renderer {
            lookup,
            frames: &mut frames,
        }
        .write(&self.nodes, &mut out)?;
        Some(out)
    }
}

fn nodes(statements: &[ast::Stmt<'_>]) -> Option<Vec<Node>> {
    statements.iter().map(node).collect()
}

fn node(statement: &ast::Stmt<'_>) -> Option<Node> {
    match statement {
        ast::Stmt::EmitRaw(raw) => Some(Node::Raw(raw.raw.to_owned())),
        ast::Stmt::EmitExpr(emit) => match &emit.expr {
            // `{{ '{{' }}` is how a prompt writes literal braces.
            ast::Expr::Const(constant) => Some(Node::Raw(constant.value.as_str()?.to_owned())),
            expr => Some(Node::Emit(path(expr)?)),
        },
        ast::Stmt::IfCond(cond) => Some(Node::If {
            condition: condition(&cond.expr)?,
            then: nodes(&cond.true_body)?,
            otherwise: nodes(&cond.false_body)?,
        }),
        ast::Stmt::ForLoop(for_loop) => {
            let ast::Expr::Var(target) = &for_loop.target else {
                return None;
            };
            if for_loop.filter_expr.is_some() || for_loop.recursive || target.id == "loop" {
                return None;
            }
            Some(Node::For {
                target: target.id.to_owned(),
                items: path(&for_loop.iter)?,
                body: nodes(&for_loop.body)?,
                empty: nodes(&for_loop.else_body)?,
            })
        }
        _ => None,
    }
}

fn condition(expr: &ast::Expr<'_>) -> Option<Condition> {
    match expr {
        ast::Expr::UnaryOp(unary) if matches!(unary.op, ast::UnaryOpKind::Not) => {
            Some(Condition::Not(Box::new(condition(&unary.expr)?)))
        }
        _ => Some(Condition::Truthy(path(expr)?)),
    }
}

fn path(expr: &ast::Expr<'_>) -> Option<Path> {
    match expr {
        ast::Expr::Var(var) => Some(Path {
            root: var.id.to_owned(),
            steps: Vec::new(),
        }),
        ast::Expr::GetAttr(attr) => {
            let mut path = path(&attr.expr)?;
            path.steps.push(Step::Key(attr.name.to_owned()));
            Some(path)
        }
        ast::Expr::GetItem(item) => {
            let ast::Expr::Const(subscript) = &item.subscript_expr else {
                return None;
            };
            let step = if let Some(key) = subscript.value.as_str() {
                Step::Key(key.to_owned())
            } else {
                // Only non-negative integer constants; negative indices
                // count from the end and stay with MiniJinja.
                let index = subscript.value.as_i64()?;
                Step::Index(usize::try_from(index).ok()?)
            };
            let mut path = path(&item.expr)?;
            path.steps.push(step);
            Some(path)
        }
        _ => None,
    }
}

struct Renderer<'a, 'f> {
    lookup: &'f dyn Fn(&str) -> Option<&'a JsonValue>,
    frames: &'f mut Vec<Frame<'a>>,
}

impl<'a> Renderer<'a, '_> {
    fn write(&mut self, nodes: &'a [Node], out: &mut String) -> Option<()> {
        for node in nodes {
            match node {
                Node::Raw(text) => out.push_str(text),
                Node::Emit(path) => match self.resolve(path)? {
                    Found::Json(JsonValue::String(text)) => out.push_str(text),
                    Found::Json(JsonValue::Number(number)) => {
                        // Floats print differently in MiniJinja and Rust,
                        // so only integers are written here.
                        if let Some(value) = number.as_i64() {
                            out.push_str(itoa::Buffer::new().format(value));
                        } else {
                            out.push_str(itoa::Buffer::new().format(number.as_u64()?));
                        }
                    }
                    Found::Count(value) => out.push_str(itoa::Buffer::new().format(value)),
                    _ => return None,
                },
                Node::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    if self.test(condition)? {
                        self.write(then, out)?;
                    } else {
                        self.write(otherwise, out)?;
                    }
                }
                Node::For {
                    target,
                    items,
                    body,
                    empty,
                } => {
                    let Found::Json(JsonValue::Array(items)) = self.resolve(items)? else {
                        return None;
                    };
                    if items.is_empty() {
                        self.write(empty, out)?;
                        continue;
                    }
                    for (index0, item) in items.iter().enumerate() {
                        self.frames.push(Frame {
                            target,
                            item,
                            state: LoopState {
                                index0,
                                length: items.len(),
                            },
                        });
                        let written = self.write(body, out);
                        self.frames.pop();
                        written?;
                    }
                }
            }
        }
        Some(())
    }

    fn test(&self, condition: &Condition) -> Option<bool> {
        match condition {
            Condition::Not(inner) => Some(!self.test(inner)?),
            Condition::Truthy(path) => Some(match self.resolve(path)? {
                Found::Json(value) => match value {
                    JsonValue::Null => false,
                    JsonValue::Bool(flag) => *flag,
                    JsonValue::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
                    JsonValue::String(text) => !text.is_empty(),
                    JsonValue::Array(items) => !items.is_empty(),
                    JsonValue::Object(fields) => !fields.is_empty(),
                },
                Found::Count(value) => value != 0,
                Found::Flag(flag) => flag,
                Found::Loop(_) => return None,
            }),
        }
    }

    fn resolve(&self, path: &Path) -> Option<Found<'a>> {
        let mut found = self.root(&path.root)?;
        for step in &path.steps {
            found = match (found, step) {
                (Found::Loop(state), Step::Key(name)) => loop_attribute(state, name)?,
                (Found::Json(JsonValue::Object(fields)), Step::Key(name)) => {
                    Found::Json(fields.get(name)?)
                }
                (Found::Json(JsonValue::Array(items)), Step::Index(index)) => {
                    Found::Json(items.get(*index)?)
                }
                _ => return None,
            };
        }
        Some(found)
    }

    fn root(&self, name: &str) -> Option<Found<'a>> {
        if name == "loop" {
            return self.frames.last().map(|frame| Found::Loop(frame.state));
        }
        if let Some(frame) = self.frames.iter().rev().find(|frame| frame.target == name) {
            return Some(Found::Json(frame.item));
        }
        (self.lookup)(name).map(Found::Json)
    }
}

fn loop_attribute(state: LoopState, name: &str) -> Option<Found<'static>> {
    Some(match name {
        "index" => Found::Count(state.index0 + 1),
        "index0" => Found::Count(state.index0),
        "length" => Found::Count(state.length),
        "revindex" => Found::Count(state.length - state.index0),
        "revindex0" => Found::Count(state.length - state.index0 - 1),
        "first" => Found::Flag(state.index0 == 0),
        "last" => Found::Flag(state.index0 + 1 == state.length),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, json};

    use super::*;
    use crate::render::environment::prompt_environment;

    /// Renders `source` with MiniJinja under the prompt rules.
    fn minijinja(source: &str, variables: &Map<String, JsonValue>) -> Option<String> {
        let environment = prompt_environment();
        environment.render_str(source, variables).ok()
    }

    fn planned(source: &str, variables: &Map<String, JsonValue>) -> Option<String> {
        let plan = Plan::compile(source)?;
        plan.render(&|name| variables.get(name), 64)
    }

    fn object(value: JsonValue) -> Map<String, JsonValue> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn plain_shapes_match_minijinja() {
        let variables = object(json!({
            "name": "Ada 가나다",
            "count": -12,
            "big": u64::MAX,
            "flag": true,
            "empty": "",
            "docs": [{"title": "A", "text": "x"}, {"title": "B", "text": "y"}],
            "nothing": [],
        }));
        let sources = [
            "Hello {{ name }}!",
            "{{ count }} and {{ big }}",
            "{% if flag %}yes{% else %}no{% endif %}",
            "{% if not empty %}blank{% endif %}",
            "{% for d in docs %}[{{ loop.index }}/{{ loop.length }}] {{ d.title }}: {{ d['text'] }}\n{% endfor %}",
            "{% for d in nothing %}x{% else %}no documents{% endfor %}",
            "{{ docs[1].title }}",
            "a\n  {%- if flag -%}\n  b  {%- endif %}\nc\n",
            "{{ '{{' }} literal {{ '}}' }}",
            "{% for d in docs %}{% if loop.first %}first {% endif %}{{ d.title }}{% if not loop.last %}, {% endif %}{% endfor %}",
            "{% for d in docs %}{% for e in docs %}{{ loop.index0 }}{{ e.title }}{% endfor %}|{% endfor %}",
        ];
        for source in sources {
            let expected = minijinja(source, &variables).expect(source);
            assert_eq!(planned(source, &variables), Some(expected), "{source}");
        }
    }

    #[test]
    fn other_constructs_get_no_plan() {
        for source in [
            "{{ name | upper }}",
            "{{ name ~ 'x' }}",
            "{% set x = 1 %}{{ x }}",
            "{% for a, b in pairs %}{{ a }}{% endfor %}",
            "{% for d in docs if d %}{{ d }}{% endfor %}",
            "{{ docs[-1] }}",
            "{{ range(3) }}",
            "{% if a == b %}x{% endif %}",
            "{% macro m() %}x{% endmacro %}",
            "{{ unclosed",
        ] {
            assert!(Plan::compile(source).is_none(), "{source}");
        }
    }

    #[test]
    fn unprintable_values_get_no_output() {
        let variables = object(json!({
            "float": 1.5, "whole_float": 2.0, "flag": true, "null": null,
            "list": [1, 2], "map": {"a": 1}, "text": "abc",
        }));
        for source in [
            "{{ float }}",
            "{{ whole_float }}",
            "{{ flag }}",
            "{{ null }}",
            "{{ list }}",
            "{{ map }}",
            "{{ missing }}",
            "{{ map.missing }}",
            "{{ list[5] }}",
            "{% for c in text %}{{ c }}{% endfor %}",
            "{% for k in map %}{{ k }}{% endfor %}",
            "{{ loop.index }}",
            "{% for x in list %}{{ loop.cycle }}{% endfor %}",
        ] {
            assert_eq!(planned(source, &variables), None, "{source}");
        }
    }

    /// Template pieces over the variables `s`, `n`, `b`, `l` and `o`.
    fn piece() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            4 => "[a-z 가é\\n\\t.}%#-]{0,6}",
            2 => Just("{{ s }}".to_owned()),
            1 => Just("{{- n -}}".to_owned()),
            1 => Just("{{ o.k }}".to_owned()),
            1 => Just("{{ o['k'] }}".to_owned()),
            1 => Just("{{ l[0] }}".to_owned()),
            2 => Just("{{ x }}".to_owned()),
            2 => Just("{{ x.k }}".to_owned()),
            1 => Just("{{ loop.index }}".to_owned()),
            1 => Just("{{ '{{' }}".to_owned()),
            1 => Just("{{ b }}".to_owned()),
            1 => Just("{{ missing }}".to_owned()),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            let body = prop::collection::vec(inner, 0..3).prop_map(|parts| parts.concat());
            prop_oneof![
                (body.clone(), body.clone(), any::<bool>(), "[sbnlo]").prop_map(
                    |(then, otherwise, negate, name)| {
                        let not = if negate { "not " } else { "" };
                        format!("{{% if {not}{name} %}}{then}{{% else %}}{otherwise}{{% endif %}}")
                    }
                ),
                (body.clone(), body.clone(), prop_oneof![3 => Just("l"), 1 => Just("s"), 1 => Just("o")], any::<bool>()).prop_map(
                    |(each, empty, name, trim)| {
                        let dash = if trim { "-" } else { "" };
                        format!(
                            "{{%{dash} for x in {name} {dash}%}}{each}{{% else %}}{empty}{{% endfor %}}"
                        )
                    }
                ),
            ]
        })
    }

    fn json_value() -> impl Strategy<Value = JsonValue> {
        let leaf = prop_oneof![
            any::<String>().prop_map(JsonValue::from),
            "[가-힣a-z ]{0,4}".prop_map(JsonValue::from),
            any::<i64>().prop_map(JsonValue::from),
            any::<u64>().prop_map(JsonValue::from),
            (-1e6f64..1e6).prop_map(JsonValue::from),
            any::<bool>().prop_map(JsonValue::from),
            Just(JsonValue::Null),
        ];
        leaf.prop_recursive(2, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(JsonValue::from),
                prop::collection::btree_map("[kj]", inner, 0..2)
                    .prop_map(|map| JsonValue::Object(map.into_iter().collect())),
            ]
        })
    }

    /// Values for the variables `s`, `n`, `b`, `l` and `o`: mostly of the
    /// type their names suggest, sometimes anything.
    fn case() -> impl Strategy<Value = (String, Map<String, JsonValue>)> {
        let text = "[가-힣a-z {}%]{0,4}".prop_map(JsonValue::from);
        let string = prop_oneof![4 => text.clone(), 1 => json_value()];
        let number = prop_oneof![
            4 => any::<i64>().prop_map(JsonValue::from),
            1 => json_value(),
        ];
        let flag = prop_oneof![4 => any::<bool>().prop_map(JsonValue::from), 1 => json_value()];
        let element = prop_oneof![
            text.clone(),
            any::<u32>().prop_map(JsonValue::from),
            text.clone().prop_map(|text| json!({ "k": text })),
        ];
        let list = prop_oneof![
            4 => prop::collection::vec(element, 0..4).prop_map(JsonValue::from),
            1 => json_value(),
        ];
        let record =
            prop_oneof![4 => text.prop_map(|text| json!({ "k": text })), 1 => json_value()];
        (
            prop::collection::vec(piece(), 1..4),
            (string, number, flag, list, record),
            prop::collection::vec(any::<bool>(), 5),
        )
            .prop_map(|(parts, (s, n, b, l, o), present)| {
                let variables = [("s", s), ("n", n), ("b", b), ("l", l), ("o", o)]
                    .into_iter()
                    .zip(present)
                    .filter(|(_, present)| *present)
                    .map(|((name, value), _)| (name.to_owned(), value))
                    .collect();
                (parts.concat(), variables)
            })
    }

    /// The generated cases must often take the direct path, or the property
    /// below would hold without checking anything.
    #[test]
    fn generated_cases_reach_plan() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        let mut runner = TestRunner::deterministic();
        let strategy = case();
        let mut planned_count = 0;
        for _ in 0..400 {
            let (source, variables) = strategy
                .new_tree(&mut runner)
                .map(|tree| tree.current())
                .unwrap_or_default();
            if let Some(output) = planned(&source, &variables) {
                assert_eq!(Some(output), minijinja(&source, &variables), "{source}");
                planned_count += 1;
            }
        }
        assert!(
            planned_count >= 30,
            "only {planned_count} of 400 cases took the plan"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the plan writes is exactly MiniJinja's output, and it
        /// writes nothing where MiniJinja fails.
        #[test]
        fn plan_output_is_minijinja_output((source, variables) in case()) {
            if let Some(output) = planned(&source, &variables) {
                prop_assert_eq!(Some(output), minijinja(&source, &variables), "{}", source);
            }
        }
    }
}
