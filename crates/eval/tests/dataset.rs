//! Dataset loading and content-hash versions.

use std::io::Write as _;

use llmops_eval::{Case, Dataset, EvalError};

fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    (folder, path)
}

const JSONL: &str = r#"{"id": "q1", "input": "Capital of France?", "expected": "Paris", "tags": ["geo"]}

{"input": "서울은 어느 나라의 수도?", "expected": "한국", "contexts": ["서울은 한국의 수도이다."], "variables": {"tone": "formal"}}
"#;

#[test]
fn jsonl_loads_fields_and_default_ids() {
    let (_folder, path) = write("geo.jsonl", JSONL);
    let dataset = Dataset::from_jsonl(&path).unwrap();
    assert_eq!(dataset.name(), "geo");
    assert_eq!(dataset.cases().len(), 2);
    let first = &dataset.cases()[0];
    assert_eq!(first.id, "q1");
    assert_eq!(first.expected.as_deref(), Some("Paris"));
    assert_eq!(first.tags, ["geo"]);
    let second = &dataset.cases()[1];
    assert_eq!(second.id, "line-3");
    assert_eq!(second.contexts, ["서울은 한국의 수도이다."]);
    assert_eq!(second.variables["tone"], "formal");
}

#[test]
fn csv_loads_lists_and_variables() {
    let csv =
        "id,input,expected,tags,contexts,tone\nq1,\"Hello, world\",,a|b,ctx one| ctx two,formal\n";
    let (_folder, path) = write("greet.csv", csv);
    let dataset = Dataset::from_csv(&path).unwrap();
    let case = &dataset.cases()[0];
    assert_eq!(case.input, "Hello, world");
    assert_eq!(case.expected, None);
    assert_eq!(case.tags, ["a", "b"]);
    assert_eq!(case.contexts, ["ctx one", "ctx two"]);
    assert_eq!(case.variables["tone"], "formal");
}

#[test]
fn csv_without_input_column_is_rejected() {
    let (_folder, path) = write("bad.csv", "id,question\n1,hi\n");
    let error = Dataset::from_csv(&path).unwrap_err();
    assert!(error.to_string().contains("input"), "{error}");
}

#[test]
fn malformed_line_names_its_number() {
    let (_folder, path) = write("bad.jsonl", "{\"input\": \"ok\"}\n{\"input\": 3}\n");
    let error = Dataset::from_jsonl(&path).unwrap_err();
    match error {
        EvalError::InvalidCase { location, .. } => {
            assert!(location.ends_with("line 2"), "{location}")
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn duplicate_ids_are_rejected() {
    let cases = vec![Case::new("same", "a"), Case::new("same", "b")];
    assert!(matches!(
        Dataset::new("d", cases),
        Err(EvalError::DuplicateCaseId { .. })
    ));
}

#[test]
fn missing_file_names_the_path() {
    let error = Dataset::from_jsonl("/nonexistent/cases.jsonl").unwrap_err();
    assert!(error.to_string().contains("/nonexistent/cases.jsonl"));
}

#[test]
fn version_depends_on_content_only() {
    let (_a, jsonl) = write(
        "same.jsonl",
        "{\"expected\": \"x\", \"id\": \"1\", \"input\": \"q\"}\n",
    );
    let (_b, csv) = write("same.csv", "input,id,expected\nq,1,x\n");
    let from_jsonl = Dataset::from_jsonl(&jsonl).unwrap();
    let from_csv = Dataset::from_csv(&csv).unwrap();
    assert_eq!(from_jsonl.version(), from_csv.version());
    assert_eq!(from_jsonl.version().len(), 64);

    let changed = Dataset::new("d", vec![Case::new("1", "q").expected("y")]).unwrap();
    assert_ne!(changed.version(), from_jsonl.version());
}
