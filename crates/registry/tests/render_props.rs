//! Property tests: any string value renders verbatim.

use llmops_registry::render::{
    CompiledPrompt, PromptTemplate, RenderedPrompt, VariableSpec, VariableType,
};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #[test]
    fn any_string_renders_verbatim(value in any::<String>(), prefix in "[^{}%#]{0,10}") {
        let source = format!("{prefix}{{{{ v }}}}|");
        let prompt = CompiledPrompt::compile(
            &PromptTemplate::Text(source),
            vec![VariableSpec::required("v", VariableType::String)],
        ).unwrap();
        let variables = json!({ "v": value.clone() });
        let RenderedPrompt::Text(output) = prompt.render(variables.as_object().unwrap()).unwrap() else {
            panic!("expected text");
        };
        prop_assert_eq!(output, format!("{prefix}{value}|"));
    }

    #[test]
    fn template_syntax_in_values_is_inert(
        parts in proptest::collection::vec(prop_oneof![
            Just("{{"), Just("}}"), Just("{%"), Just("%}"), Just("{#"), Just("#}"),
            Just("x"), Just(" "), Just("é"),
        ], 0..20),
    ) {
        let value: String = parts.concat();
        let prompt = CompiledPrompt::compile(
            &PromptTemplate::Text("{{ v }}".to_owned()),
            vec![VariableSpec::required("v", VariableType::String)],
        ).unwrap();
        let variables = json!({ "v": value.clone() });
        let RenderedPrompt::Text(output) = prompt.render(variables.as_object().unwrap()).unwrap() else {
            panic!("expected text");
        };
        prop_assert_eq!(output, value);
    }
}
