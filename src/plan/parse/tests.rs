use super::*;
use crate::plan::write;
use proptest::prelude::*;

const HEADER: &str = "%syntax-version=1.0.0\n%project=demo\n%uri=demo\n\n";

fn ok(body: &str) -> Plan {
    let text = format!("{HEADER}{body}");
    parse(&text).unwrap_or_else(|errors| panic!("expected a valid plan, got {errors:?}"))
}

fn errors(text: &str) -> Vec<Diagnostic> {
    parse(text).expect_err("expected the plan to be rejected")
}

fn change(name: &str) -> Target {
    Target::Change(name.to_owned())
}

/// Plans compare equal whatever lines their entries were read from.
fn without_lines(mut plan: Plan) -> Plan {
    plan.pragmas.iter_mut().for_each(|p| p.line = 0);
    for c in &mut plan.changes {
        c.line = 0;
        c.tags.iter_mut().for_each(|t| t.line = 0);
    }
    plan
}

#[test]
fn pragmas_are_read_in_order_and_unknown_ones_kept() {
    let plan = ok("%custom=value\n%flag\n");
    let names: Vec<_> = plan.pragmas.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["syntax-version", "project", "uri", "custom", "flag"]
    );
    assert_eq!(plan.project(), "demo");
    assert_eq!(plan.uri(), Some("demo"));
    assert_eq!(plan.pragma("custom"), Some("value"));
    assert_eq!(plan.pragmas[4].value, None);
}

#[test]
fn change_with_every_part() {
    let plan = ok("a 2025-08-26T23:57:44Z Dan Lynch <dan@example.com>\n\
                   @t 2025-08-26T23:59:00Z Dan <dan@example.com>\n\
                   b [a other:x @t other:@v1] 2025-08-26T23:58:00Z Dan Lynch <dan@example.com> # adds b # really\n");
    let b = &plan.changes[1];
    assert_eq!(b.name, "b");
    assert_eq!(b.line, 7);
    let planned = b.planned.as_ref().unwrap();
    assert_eq!(planned.timestamp.as_str(), "2025-08-26T23:58:00Z");
    assert_eq!(planned.planner.as_deref(), Some("Dan Lynch"));
    assert_eq!(planned.email.as_deref(), Some("dan@example.com"));
    assert_eq!(b.note.as_deref(), Some("adds b # really"));
    assert_eq!(
        b.dependencies,
        [
            Dependency {
                project: None,
                target: change("a")
            },
            Dependency {
                project: Some("other".into()),
                target: change("x")
            },
            Dependency {
                project: None,
                target: Target::Tag("t".into())
            },
            Dependency {
                project: Some("other".into()),
                target: Target::Tag("v1".into())
            },
        ]
    );
}

#[test]
fn tag_attaches_to_the_preceding_change() {
    let plan = ok("a\nb\n@v1 2025-08-26T23:59:00Z Dan <dan@example.com> # first\nc\n");
    assert!(plan.changes[0].tags.is_empty());
    assert_eq!(plan.changes[1].tags[0].name, "v1");
    assert_eq!(plan.changes[1].tags[0].note.as_deref(), Some("first"));
    assert_eq!(plan.change_for_tag("v1").unwrap().name, "b");
}

#[test]
fn tag_may_name_the_change_it_marks() {
    let plan = ok("a\n@v1 a 2025-08-26T23:59:00Z Dan <dan@example.com>\n");
    assert_eq!(plan.changes[0].tags[0].name, "v1");
}

#[test]
fn change_needs_only_a_name() {
    let plan = ok("a\nb [a]\n");
    assert_eq!(plan.changes[1].planned, None);
    assert_eq!(plan.changes[1].dependencies.len(), 1);
}

#[test]
fn planner_and_email_are_each_optional_after_the_timestamp() {
    let plan = ok("a 2025-08-26T23:57:44Z\n\
                   b 2025-08-26T23:57:44Z Dan\n\
                   c 2025-08-26T23:57:44Z <dan@example.com>\n\
                   d 2025-08-26T23:57:44Z # note only\n");
    let planned: Vec<_> = plan
        .changes
        .iter()
        .map(|c| {
            let p = c.planned.as_ref().unwrap();
            (p.planner.as_deref(), p.email.as_deref(), c.note.as_deref())
        })
        .collect();
    assert_eq!(
        planned,
        [
            (None, None, None),
            (Some("Dan"), None, None),
            (None, Some("dan@example.com"), None),
            (None, None, Some("note only")),
        ]
    );
}

#[test]
fn hash_without_surrounding_whitespace_is_not_a_note() {
    let plan = ok("a 2025-08-26T23:57:44Z Team#1 <t@example.com>\n");
    assert_eq!(
        plan.changes[0].planned.as_ref().unwrap().planner.as_deref(),
        Some("Team#1")
    );
    assert_eq!(plan.changes[0].note, None);
}

#[test]
fn hash_inside_the_email_is_not_a_note() {
    let plan = ok("a 2025-08-26T23:57:44Z dev <a # b@example.com>\n");
    assert_eq!(
        plan.changes[0].planned.as_ref().unwrap().email.as_deref(),
        Some("a # b@example.com")
    );
}

#[test]
fn blank_lines_comments_and_indentation_are_ignored() {
    let plan = ok("# a comment\n\n   a   \n\t# indented comment\n  b [a]  \n");
    assert_eq!(plan.changes.len(), 2);
}

#[test]
fn crlf_and_bom_are_accepted() {
    let text = "\u{feff}%syntax-version=1.0.0\r\n%project=demo\r\n\r\na 2025-08-26T23:57:44Z dev <d@example.com> # n\r\n@v1 2025-08-26T23:57:44Z dev <d@example.com>\r\n";
    let plan = parse(text).unwrap();
    assert_eq!(plan.project(), "demo");
    assert_eq!(plan.changes[0].note.as_deref(), Some("n"));
    assert_eq!(plan.changes[0].tags[0].name, "v1");
    assert_eq!(plan.changes[0].line, 4);
}

#[test]
fn own_project_qualifier_is_a_local_dependency() {
    let plan = ok("a\nb [demo:a]\n");
    assert!(plan.changes[1].dependencies[0].is_local("demo"));
}

#[test]
fn local_dependency_errors_ignore_other_projects() {
    // Other projects' changes are checked by the workspace resolver.
    let plan = ok("a [other:missing other:@v9]\n");
    assert_eq!(plan.changes[0].dependencies.len(), 2);
}

#[test]
fn empty_plan_with_pragmas_is_valid() {
    let plan = parse("%syntax-version=1.0.0\n%project=demo\n").unwrap();
    assert!(plan.changes.is_empty());
}

#[test]
fn all_errors_of_a_file_are_reported_in_line_order() {
    let diagnostics = errors("%project=demo\nb [!x]\n-a\nc [zzz]\n");
    let lines: Vec<_> = diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3, 4]);
}

#[test]
fn writer_produces_pgpm_layout() {
    let text = "%syntax-version=1.0.0\n%project=demo\n%uri=demo\n\n\
                a 2025-08-26T23:57:44Z Dan <d@example.com> # first\n\
                @v1 2025-08-26T23:58:44Z Dan <d@example.com>\n\
                b [a other:@v2] 2025-08-26T23:59:44Z Dan <d@example.com>\n\
                c\n";
    assert_eq!(write(&parse(text).unwrap()), text);
}

#[test]
fn writer_round_trips_a_messy_plan() {
    let messy = "\u{feff}# comment\r\n%project=demo\r\n  a   [  ]  2025-08-26T23:57:44Z   Dan   Lynch   <d@example.com>   #   note  \r\n@v1 a 2025-08-26T23:58:44Z x <y>\nb [a\t@v1]\n";
    let plan = parse(messy).unwrap();
    let written = write(&plan);
    let reparsed = parse(&written).unwrap();
    assert_eq!(without_lines(reparsed), without_lines(plan));
}

/// Each file in tests/fixtures/plans/invalid ends with `# expect: LINE: TEXT`
/// lines: the parser must report exactly those lines, each message containing
/// its text.
#[test]
fn invalid_fixture_plans_report_exactly_the_expected_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<(usize, &str)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|l| {
                let (line, message) = l.split_once(": ").unwrap();
                (line.parse().unwrap(), message)
            })
            .collect();
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let actual = parse(&text).expect_err(&format!("{} should be rejected", path.display()));
        let summary = format!("{}: got {actual:#?}", path.display());
        assert_eq!(actual.len(), expected.len(), "{summary}");
        for ((line, message), diagnostic) in expected.iter().zip(&actual) {
            assert_eq!(diagnostic.line, *line, "{summary}");
            assert!(
                diagnostic.message.contains(message),
                "{summary}\nexpected to contain: {message}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} fixtures found");
}

fn plan_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("%project=demo".to_owned()),
        Just("%syntax-version=1.0.0".to_owned()),
        Just("@v1 2025-08-26T23:57:44Z a <b>".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(" # ".to_owned()),
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("!".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just("\r\n".to_owned()),
        Just("\n".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("2025-08-26T23:57:44Z".to_owned()),
        "[a-z~^/=%0-9 ]{0,8}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn parser_never_panics_on_plan_like_text(parts in prop::collection::vec(plan_fragment(), 0..40)) {
        let text = parts.concat();
        match parse(&text) {
            Ok(plan) => {
                let reparsed = parse(&write(&plan)).expect("a written plan parses");
                prop_assert_eq!(without_lines(reparsed), without_lines(plan));
            }
            Err(diagnostics) => {
                let line_count = text.split('\n').count();
                prop_assert!(!diagnostics.is_empty());
                for d in diagnostics {
                    prop_assert!(d.line >= 1 && d.line <= line_count, "line {} of {}", d.line, line_count);
                }
            }
        }
    }
}
