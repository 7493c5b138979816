//! The plan model reads what terraform writes, and explains what it cannot read.

use rules::plan::{Action, InstanceKey, Mode, PlanError};
use rules::{Plan, Shown};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn parse(name: &str) -> Plan {
    Plan::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Everything a reviewer could be shown about a plan, concatenated.
fn everything_shown(plan: &Plan) -> String {
    let mut out = String::new();
    for rc in plan.resource_changes.iter().chain(&plan.resource_drift) {
        for ac in rc.attribute_changes() {
            out.push_str(&format!("{ac:?} {} ", ac.path));
            for s in [&ac.before, &ac.after].into_iter().flatten() {
                out.push_str(&s.to_string());
            }
            out.push_str(&serde_json::to_string(&ac).unwrap_or_default());
        }
    }
    for oc in plan.output_changes.values() {
        for s in [oc.shown_before(), oc.shown_after()].into_iter().flatten() {
            out.push_str(&format!("{s} {s:?}"));
        }
    }
    out
}

#[test]
fn real_terraform_1_0_plan_reads_every_action_and_module() {
    let plan = parse("null-0.2.json");
    assert_eq!(plan.format_version, "0.2");
    assert_eq!(plan.terraform_version.as_deref(), Some("1.0.3"));
    let action = |a: &str| plan.resource(a).map(|rc| rc.action);
    assert_eq!(
        action("null_resource.app"),
        Some(Action::Replace {
            create_before_destroy: false
        })
    );
    assert_eq!(
        action("null_resource.blue"),
        Some(Action::Replace {
            create_before_destroy: true
        })
    );
    assert_eq!(action("null_resource.gone[0]"), Some(Action::Delete));
    assert_eq!(action("null_resource.stay"), Some(Action::NoOp));
    assert_eq!(action("data.null_data_source.computed"), Some(Action::Read));
    let fresh = plan.resource("null_resource.fresh[\"a\"]");
    assert_eq!(
        fresh.and_then(|r| r.index.clone()),
        Some(InstanceKey::Str("a".into()))
    );
    let grandchild = plan.resource("module.child.module.grandchild.null_resource.c");
    assert_eq!(
        grandchild.and_then(|r| r.module_address.clone()).as_deref(),
        Some("module.child.module.grandchild")
    );
    assert_eq!(
        plan.resource("data.null_data_source.computed")
            .map(|r| r.mode),
        Some(Mode::Data)
    );
}

#[test]
fn summary_matches_terraforms_plan_line() {
    // terraform 1.0.3 printed "Plan: 4 to add, 0 to change, 3 to destroy." for this plan.
    let s = parse("null-0.2.json").summary();
    assert_eq!(s.to_string(), "Plan: 4 to add, 0 to change, 3 to destroy.");
    assert_eq!((s.replace, s.read), (2, 1));
}

#[test]
fn summary_counts_imports_moves_and_forgets() {
    let s = parse("null-1.2-moved-import.json").summary();
    assert_eq!((s.import, s.r#move, s.forget), (2, 1, 1));
    // the deposed object's delete counts as a destroy, as terraform counts it
    assert_eq!((s.add, s.change, s.destroy, s.replace), (1, 2, 2, 1));
    assert_eq!(
        s.to_string(),
        "Plan: 2 to import, 1 to add, 2 to change, 2 to destroy, 1 to forget."
    );
}

#[test]
fn moved_and_imported_resources_keep_their_origin() {
    let plan = parse("null-1.2-moved-import.json");
    let moved = plan.resource("null_resource.renamed");
    assert_eq!(
        moved.and_then(|r| r.previous_address.as_deref()),
        Some("null_resource.original")
    );
    let imported = plan.resource("null_resource.adopted");
    assert_eq!(
        imported
            .and_then(|r| r.importing.as_ref())
            .and_then(|i| i.id.as_deref()),
        Some("333")
    );
    assert_eq!(
        plan.resource("null_resource.legacy")
            .map(|r| r.action_reason.as_deref()),
        Some(Some("delete_because_no_resource_config"))
    );
}

#[test]
fn update_lists_only_changed_leaves_with_sensitive_ones_masked() {
    let plan = parse("null-1.2-moved-import.json");
    let worker = plan
        .resource("module.app[\"blue\"].module.queue.null_resource.worker[0]")
        .map(|r| r.attribute_changes())
        .unwrap_or_default();
    let rendered: Vec<String> = worker
        .iter()
        .map(|a| format!("{}: {:?} -> {:?}", a.path, a.before, a.after))
        .collect();
    assert_eq!(
        rendered,
        [
            "triggers.token: Some(Sensitive) -> Some(Sensitive)",
            "triggers.version: Some(Value(\"\\\"1\\\"\")) -> Some(Value(\"\\\"2\\\"\"))",
        ]
    );
}

#[test]
fn replacement_marks_the_attributes_that_force_it() {
    let plan = parse("null-0.2.json");
    let changes = plan
        .resource("null_resource.app")
        .map(|r| r.attribute_changes())
        .unwrap_or_default();
    let version = changes.iter().find(|a| a.path == "triggers.version");
    assert_eq!(
        version.map(|a| (a.before.clone(), a.after.clone())),
        Some((
            Some(Shown::Value("\"1\"".into())),
            Some(Shown::Value("\"2\"".into()))
        ))
    );
    let id = changes.iter().find(|a| a.path == "id");
    assert_eq!(id.and_then(|a| a.after.clone()), Some(Shown::Unknown));
    assert_eq!(id.map(|a| a.forces_replacement), Some(false));
}

#[test]
fn replace_paths_mark_forcing_attributes() {
    let plan = parse("null-1.2-moved-import.json");
    let changes = plan
        .resource("null_resource.rotated")
        .map(|r| r.attribute_changes())
        .unwrap_or_default();
    let forcing: Vec<&str> = changes
        .iter()
        .filter(|a| a.forces_replacement)
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(forcing, ["triggers.password", "triggers.size"]);
}

#[test]
fn create_lists_every_set_leaf_and_unknowns() {
    let plan = parse("null-0.2.json");
    let changes = plan
        .resource("module.child.null_resource.b[1]")
        .map(|r| r.attribute_changes())
        .unwrap_or_default();
    let shown: Vec<String> = changes
        .iter()
        .map(|a| {
            format!(
                "{} = {}",
                a.path,
                a.after
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(shown, ["id = (known after apply)", "triggers.x = \"y\""]);
}

#[test]
fn map_keys_that_are_not_identifiers_are_quoted_in_paths() {
    let plan = parse("null-0.2.json");
    let changes = plan
        .resource("module.child.module.grandchild.null_resource.c")
        .map(|r| {
            let mut r = r.clone();
            r.action = Action::Delete;
            r.attribute_changes()
        })
        .unwrap_or_default();
    assert!(
        changes
            .iter()
            .any(|a| a.path == "triggers[\"kubernetes.io/role\"]"),
        "{changes:?}"
    );
}

#[test]
fn sensitive_values_never_appear_in_anything_shown() {
    for (name, secrets) in [
        ("null-0.2.json", &["hunter2"][..]),
        ("null-1.2-moved-import.json", &["SECRET", "s3cr3t"][..]),
    ] {
        let plan = parse(name);
        let shown = everything_shown(&plan);
        assert!(
            shown.contains("(sensitive value)"),
            "{name}: nothing masked?"
        );
        for s in secrets {
            assert!(!shown.contains(s), "{name} leaks {s}: {shown}");
        }
        // Sensitive root variables are dropped from the model altogether.
        assert!(!format!("{:?}", plan.variables).contains("hunter2"));
        assert!(!format!("{:?}", plan.variables).contains("s3cr3t"));
    }
}

#[test]
fn sensitive_outputs_are_masked() {
    let plan = parse("null-0.2.json");
    let echo = plan.output_changes.get("secret_echo");
    assert_eq!(echo.and_then(|o| o.shown_after()), Some(Shown::Sensitive));
    let app_id = plan.output_changes.get("app_id");
    assert_eq!(app_id.and_then(|o| o.shown_after()), Some(Shown::Unknown));
}

fn error_of(bytes: &[u8]) -> PlanError {
    match Plan::parse(bytes) {
        Ok(_) => panic!("expected an error for {:?}", String::from_utf8_lossy(bytes)),
        Err(e) => e,
    }
}

#[test]
fn empty_file_says_it_is_empty() {
    assert_eq!(error_of(b""), PlanError::Empty);
    assert_eq!(error_of(b"  \n\t"), PlanError::Empty);
}

#[test]
fn truncated_file_says_where_it_ends() {
    let full = fixture("null-0.2.json");
    let e = error_of(&full[..full.len() / 2]);
    assert!(matches!(e, PlanError::Truncated { line: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[test]
fn utf16_file_is_read_with_or_without_bom_in_either_byte_order() {
    let text = String::from_utf8(fixture("null-0.2.json")).unwrap_or_default();
    let expected = parse("null-0.2.json");
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    let mut le_bom = vec![0xFF, 0xFE];
    le_bom.extend_from_slice(&le);
    let mut be_bom = vec![0xFE, 0xFF];
    be_bom.extend_from_slice(&be);
    for (what, bytes) in [
        ("le", &le),
        ("le+bom", &le_bom),
        ("be", &be),
        ("be+bom", &be_bom),
    ] {
        let plan = Plan::parse(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(plan, expected, "{what}");
    }
}

#[test]
fn utf16_with_an_unpaired_surrogate_is_named() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "{\"format_version\": \"1.2\""
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    bytes.extend([0x00, 0xD8]);
    let e = error_of(&bytes).to_string();
    assert!(e.contains("UTF-16"), "{e}");
}

#[test]
fn utf8_bom_is_tolerated() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(fixture("null-0.2.json"));
    assert!(Plan::parse(&bytes).is_ok());
}

#[test]
fn github_actions_wrapper_output_is_named_with_the_fix() {
    let mut bytes = b"[command]/home/runner/work/_temp/terraform-bin show -json tfplan\n".to_vec();
    bytes.extend(fixture("null-0.2.json"));
    bytes.extend(b"\n::debug::stdout: ...\n::debug::exitcode: 0\n");
    let e = error_of(&bytes).to_string();
    assert!(e.contains("GitHub Actions wrapper"), "{e}");
    assert!(e.contains("terraform_wrapper: false"), "{e}");
    // the JSON alone, followed by the wrapper's debug lines
    let mut trailing = fixture("null-0.2.json");
    trailing.extend(b"\n::debug::exitcode: 0\n");
    let e = error_of(&trailing).to_string();
    assert!(e.contains("terraform_wrapper: false"), "{e}");
}

#[test]
fn human_readable_plan_output_suggests_show_json() {
    let text = b"\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  + create\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n";
    let e = error_of(text);
    let msg = e.to_string();
    assert!(msg.contains("human-readable output"), "{msg}");
    assert!(msg.contains("terraform show -json"), "{msg}");
}

#[test]
fn binary_plan_file_is_recognised() {
    let msg = error_of(b"PK\x03\x04\x14\x00\x08\x00tfplan").to_string();
    assert!(msg.contains("binary plan file"), "{msg}");
}

#[test]
fn invalid_json_reports_line_and_column() {
    let e = error_of(b"{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [,]\n}");
    assert!(
        matches!(
            e,
            PlanError::InvalidJson {
                line: 3,
                column: 24,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("line 3, column 24"));
}

#[test]
fn json_that_is_not_a_plan_is_named() {
    let e = error_of(br#"{"version": 4, "terraform_version": "1.5.0", "serial": 3, "lineage": "abc", "resources": []}"#);
    assert!(e.to_string().contains("raw state file"), "{e}");
    let e = error_of(br#"{"format_version": "1.0", "terraform_version": "1.5.0", "values": {"root_module": {}}}"#);
    assert!(e.to_string().contains("of a state"), "{e}");
    let e = error_of(br#"{"hello": "world"}"#);
    assert!(e.to_string().contains("no `format_version`"), "{e}");
    let e = error_of(b"[1, 2]");
    assert!(e.to_string().contains("JSON array"), "{e}");
}

#[test]
fn newer_format_major_is_refused_and_newer_minor_accepted() {
    let e = error_of(br#"{"format_version": "2.0", "resource_changes": []}"#);
    assert_eq!(
        e,
        PlanError::UnsupportedVersion {
            version: "2.0".into()
        }
    );
    assert!(Plan::parse(br#"{"format_version": "1.7", "resource_changes": []}"#).is_ok());
}

#[test]
fn unknown_fields_and_resource_types_are_tolerated() {
    let json = br#"{"format_version": "1.2", "future_field": {"x": [1]},
      "resource_changes": [{"address": "acme_widget.w", "mode": "managed", "type": "acme_widget",
        "name": "w", "provider_name": "example.com/acme/acme", "future": true,
        "change": {"actions": ["create"], "before": null, "after": {"size": 3},
                   "after_unknown": {}, "before_sensitive": false, "after_sensitive": {}, "new_thing": 1}}]}"#;
    let plan = Plan::parse(json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.resource_changes[0].type_name, "acme_widget");
}

#[test]
fn wrong_shape_inside_a_plan_reports_position() {
    let json = b"{\"format_version\": \"1.2\",\n\"resource_changes\": \"oops\"}";
    let e = error_of(json);
    assert!(matches!(e, PlanError::InvalidPlan { line: 2, .. }), "{e:?}");
}
