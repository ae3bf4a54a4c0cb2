//! Rendering rules: strictness, verbatim values, chat output, validation.

use llmops_core::types::Role;
use llmops_registry::render::{
    CompiledPrompt, MessageTemplate, PromptTemplate, RenderError, RenderedPrompt, VariableSpec,
    VariableType,
};
use serde_json::{Map, Value, json};

fn text(source: &str) -> PromptTemplate {
    PromptTemplate::Text(source.to_owned())
}

fn vars(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn render_text(prompt: &CompiledPrompt, value: Value) -> Result<String, RenderError> {
    match prompt.render(&vars(value))? {
        RenderedPrompt::Text(text) => Ok(text),
        other => panic!("expected text, got {other:?}"),
    }
}

fn string_var(name: &str) -> VariableSpec {
    VariableSpec::required(name, VariableType::String)
}

#[test]
fn chat_renders_roles_in_order() {
    let template = PromptTemplate::Chat(vec![
        MessageTemplate::new(Role::System, "Reply in {{ lang }}."),
        MessageTemplate::new(
            Role::User,
            "{% for doc in docs %}[{{ loop.index }}] {{ doc }}\n{% endfor %}Q: {{ q }}",
        ),
        MessageTemplate::new(Role::Assistant, "Noted."),
    ]);
    let schema = vec![
        string_var("lang"),
        VariableSpec::required("docs", VariableType::List),
        string_var("q"),
    ];
    let prompt = CompiledPrompt::compile(&template, schema).unwrap();
    let rendered = prompt
        .render(&vars(
            json!({"lang": "French", "docs": ["a", "b"], "q": "why?"}),
        ))
        .unwrap();
    let RenderedPrompt::Chat(messages) = rendered else {
        panic!("expected chat");
    };
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].role, Role::System);
    assert_eq!(messages[0].text(), "Reply in French.");
    assert_eq!(messages[1].role, Role::User);
    assert_eq!(messages[1].text(), "[1] a\n[2] b\nQ: why?");
    assert_eq!(messages[2].role, Role::Assistant);
    assert_eq!(messages[2].text(), "Noted.");
}

#[test]
fn values_are_inserted_verbatim() {
    let prompt = CompiledPrompt::compile(&text("<{{ v }}>"), vec![string_var("v")]).unwrap();
    let cases = [
        "{{ other }}{% for x in y %}",
        "$1 ${HOME} $$",
        "back\\slash \\n \\u0041",
        "<script>&amp;\"'</script>",
        "naïve 日本語 🙂 \u{200b} \u{0301}",
        "",
        "\n\r\t",
    ];
    for value in cases {
        let output = render_text(&prompt, json!({ "v": value })).unwrap();
        assert_eq!(output, format!("<{value}>"));
    }
}

#[test]
fn literal_braces_can_be_written() {
    let prompt = CompiledPrompt::compile(
        &text("{{ '{{' }}x{{ '}}' }} {% raw %}{{ y }}{% endraw %}"),
        vec![],
    )
    .unwrap();
    assert_eq!(render_text(&prompt, json!({})).unwrap(), "{{x}} {{ y }}");
}

#[test]
fn undeclared_use_is_rejected_with_name() {
    let error =
        CompiledPrompt::compile(&text("Hi {{ nmae }}"), vec![string_var("name")]).unwrap_err();
    assert_eq!(
        error,
        RenderError::UndeclaredVariable {
            part: "text".to_owned(),
            name: "nmae".to_owned(),
        }
    );
    assert!(error.to_string().contains("`nmae`"));
}

#[test]
fn undeclared_use_names_chat_part() {
    let template = PromptTemplate::Chat(vec![
        MessageTemplate::new(Role::System, "ok"),
        MessageTemplate::new(Role::User, "{{ ghost }}"),
    ]);
    let error = CompiledPrompt::compile(&template, vec![]).unwrap_err();
    assert_eq!(
        error,
        RenderError::UndeclaredVariable {
            part: "message 2 (user)".to_owned(),
            name: "ghost".to_owned(),
        }
    );
}

#[test]
fn loop_variables_and_globals_are_not_undeclared() {
    let source = "{% set total = 0 %}{% for i in range(3) %}{{ loop.index }}{{ i }}{% endfor %}\
                  {% set ns = namespace(n=1) %}{{ ns.n }}{{ total }}";
    let prompt = CompiledPrompt::compile(&text(source), vec![]).unwrap();
    assert_eq!(render_text(&prompt, json!({})).unwrap(), "10213210");
}

#[test]
fn unused_declarations_are_reported() {
    let schema = vec![
        string_var("used"),
        string_var("spare"),
        string_var("also_spare"),
    ];
    let prompt = CompiledPrompt::compile(&text("{{ used }}"), schema).unwrap();
    assert_eq!(
        prompt.report().unused_declarations,
        vec!["also_spare".to_owned(), "spare".to_owned()]
    );
}

#[test]
fn syntax_error_has_line_and_column() {
    let source = "line one\nline two {{ name }\nline three";
    let error = CompiledPrompt::compile(&text(source), vec![string_var("name")]).unwrap_err();
    let RenderError::Syntax { line, column, .. } = &error else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(*line, 2);
    assert!((10..=20).contains(column), "column {column}");
}

#[test]
fn syntax_error_column_counts_characters() {
    // Multi-byte characters before the error must count as one column each.
    let source = "日本語 {% if %}";
    let error = CompiledPrompt::compile(&text(source), vec![]).unwrap_err();
    let RenderError::Syntax { line, column, .. } = &error else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(*line, 1);
    assert!(*column <= 12, "column {column} counts bytes");
    assert!(*column >= 5, "column {column}");
}

#[test]
fn unclosed_block_is_syntax_error() {
    let error = CompiledPrompt::compile(
        &text("{% for x in xs %}{{ x }}"),
        vec![VariableSpec::required("xs", VariableType::List)],
    )
    .unwrap_err();
    assert!(matches!(error, RenderError::Syntax { .. }), "{error:?}");
}

#[test]
fn missing_required_variable_is_named() {
    let prompt = CompiledPrompt::compile(
        &text("{{ a }}{{ b }}"),
        vec![string_var("a"), string_var("b")],
    )
    .unwrap();
    let error = render_text(&prompt, json!({"a": "x"})).unwrap_err();
    assert_eq!(
        error,
        RenderError::MissingVariable {
            name: "b".to_owned()
        }
    );
}

#[test]
fn wrong_type_is_named() {
    let prompt = CompiledPrompt::compile(
        &text("{{ n }}"),
        vec![VariableSpec::required("n", VariableType::Integer)],
    )
    .unwrap();
    let error = render_text(&prompt, json!({"n": "3"})).unwrap_err();
    assert_eq!(
        error,
        RenderError::VariableTypeMismatch {
            name: "n".to_owned(),
            expected: "an integer".to_owned(),
            found: "a string".to_owned(),
        }
    );
    let error = render_text(&prompt, json!({"n": 2.5})).unwrap_err();
    assert!(matches!(error, RenderError::VariableTypeMismatch { .. }));
    assert_eq!(render_text(&prompt, json!({"n": 3})).unwrap(), "3");
}

#[test]
fn unknown_variable_is_rejected() {
    let prompt = CompiledPrompt::compile(&text("{{ a }}"), vec![string_var("a")]).unwrap();
    let error = render_text(&prompt, json!({"a": "x", "typo": 1})).unwrap_err();
    assert_eq!(
        error,
        RenderError::UnknownVariable {
            name: "typo".to_owned()
        }
    );
}

#[test]
fn defaults_fill_missing_values() {
    let schema = vec![VariableSpec::with_default(
        "tone",
        VariableType::String,
        json!("neutral"),
    )];
    let prompt = CompiledPrompt::compile(&text("tone={{ tone }}"), schema).unwrap();
    assert_eq!(render_text(&prompt, json!({})).unwrap(), "tone=neutral");
    assert_eq!(
        render_text(&prompt, json!({"tone": "warm"})).unwrap(),
        "tone=warm"
    );
}

#[test]
fn default_of_wrong_type_is_rejected() {
    let schema = vec![VariableSpec::with_default(
        "n",
        VariableType::Integer,
        json!("x"),
    )];
    let error = CompiledPrompt::compile(&text("{{ n }}"), schema).unwrap_err();
    assert!(
        matches!(error, RenderError::DefaultTypeMismatch { .. }),
        "{error:?}"
    );
}

#[test]
fn duplicate_declaration_is_rejected() {
    let error = CompiledPrompt::compile(&text("{{ a }}"), vec![string_var("a"), string_var("a")])
        .unwrap_err();
    assert_eq!(
        error,
        RenderError::DuplicateDeclaration {
            name: "a".to_owned()
        }
    );
}

#[test]
fn optional_without_default_needs_guard() {
    let schema = vec![VariableSpec::optional("note", VariableType::String)];
    let guarded = CompiledPrompt::compile(
        &text("{% if note is defined %}[{{ note }}]{% endif %}"),
        schema.clone(),
    )
    .unwrap();
    assert_eq!(render_text(&guarded, json!({})).unwrap(), "");
    assert_eq!(render_text(&guarded, json!({"note": "n"})).unwrap(), "[n]");

    let unguarded = CompiledPrompt::compile(&text("[{{ note }}]"), schema).unwrap();
    let error = render_text(&unguarded, json!({})).unwrap_err();
    assert!(matches!(error, RenderError::Render { .. }), "{error:?}");
}

#[test]
fn undefined_attribute_is_render_error() {
    let schema = vec![VariableSpec::required("user", VariableType::Object)];
    let prompt = CompiledPrompt::compile(&text("line\n{{ user.email }}"), schema).unwrap();
    let error = render_text(&prompt, json!({"user": {"name": "x"}})).unwrap_err();
    let RenderError::Render { line, part, .. } = &error else {
        panic!("expected a render error, got {error:?}");
    };
    assert_eq!(*line, 2);
    assert_eq!(part, "text");
}

#[test]
fn empty_chat_is_rejected() {
    let error = CompiledPrompt::compile(&PromptTemplate::Chat(vec![]), vec![]).unwrap_err();
    assert_eq!(error, RenderError::EmptyChat);
}

#[test]
fn empty_text_renders_empty() {
    let prompt = CompiledPrompt::compile(&text(""), vec![]).unwrap();
    assert_eq!(render_text(&prompt, json!({})).unwrap(), "");
}

#[test]
fn compiled_prompt_renders_concurrently() {
    let prompt = std::sync::Arc::new(
        CompiledPrompt::compile(
            &text("{{ n }}-{{ s }}"),
            vec![
                VariableSpec::required("n", VariableType::Integer),
                string_var("s"),
            ],
        )
        .unwrap(),
    );
    let handles: Vec<_> = (0..8)
        .map(|thread| {
            let prompt = prompt.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let s = format!("t{thread}é");
                    let output = render_text(&prompt, json!({"n": i, "s": s})).unwrap();
                    assert_eq!(output, format!("{i}-{s}"));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn schema_round_trips_through_json() {
    let schema: Vec<VariableSpec> = serde_json::from_value(json!([
        {"name": "q", "type": "string"},
        {"name": "k", "type": "integer", "required": false, "default": 3}
    ]))
    .unwrap();
    assert!(schema[0].required);
    assert_eq!(schema[1].default, Some(json!(3)));
    let back = serde_json::to_value(&schema).unwrap();
    let again: Vec<VariableSpec> = serde_json::from_value(back).unwrap();
    assert_eq!(schema, again);
}
