//! The native plan file reader renders what `terraform show -json` renders, for real plans of
//! terraform 1.0.3 (`tests/fixtures/planfile/generate.sh`), and refuses what it cannot read
//! with an error that says why.

use std::io::{Cursor, Read, Write};

use proptest::prelude::*;
use rules::planfile::{show_json, show_json_with, PlanFileError, ProviderSchemas};
use rules::{Action, Plan, Shown};

const CASES: &[&str] = &[
    "create",
    "update",
    "nochange",
    "destroy",
    "empty",
    "expressions",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/planfile/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn native(case: &str) -> Plan {
    let doc = show_json(&fixture(&format!("{case}.tfplan")))
        .unwrap_or_else(|e| panic!("{case}.tfplan: {e}"));
    let bytes = serde_json::to_vec(&doc).unwrap_or_else(|e| panic!("{e}"));
    Plan::parse(&bytes).unwrap_or_else(|e| panic!("{case}: rendered JSON does not parse: {e}"))
}

fn shown(case: &str) -> Plan {
    Plan::parse(&fixture(&format!("{case}.json"))).unwrap_or_else(|e| panic!("{case}.json: {e}"))
}

/// The members of a fixture plan file, in archive order.
fn members(case: &str) -> Vec<(String, Vec<u8>)> {
    let bytes = fixture(&format!("{case}.tfplan"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap_or_else(|e| panic!("{e}"));
            (f.name().to_string(), data)
        })
        .collect()
}

fn zip_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in members {
        w.start_file(name.as_str(), options)
            .unwrap_or_else(|e| panic!("{e}"));
        w.write_all(data).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

/// A fixture plan file with its `tfplan` member changed.
fn with_tfplan(case: &str, change: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut m = members(case);
    for (name, data) in &mut m {
        if name == "tfplan" {
            change(data);
        }
    }
    zip_of(&m)
}

#[test]
fn every_fixture_reads_the_same_as_terraform_show_json() {
    for case in CASES {
        let (n, s) = (native(case), shown(case));
        assert_eq!(n.format_version, s.format_version, "{case}");
        assert_eq!(n.variables, s.variables, "{case}: variables");
        assert_eq!(n.output_changes, s.output_changes, "{case}: output_changes");
        assert_eq!(n.configuration, s.configuration, "{case}: configuration");
        let addresses = |p: &Plan| -> Vec<String> {
            p.resource_changes
                .iter()
                .map(|r| r.address.clone())
                .collect()
        };
        assert_eq!(addresses(&n), addresses(&s), "{case}: resource changes");
        for (a, b) in n.resource_changes.iter().zip(&s.resource_changes) {
            assert_eq!(a, b, "{case}: {}", b.address);
        }
        assert_eq!(n, s, "{case}");
    }
}

#[test]
fn changed_triggers_replace_with_the_paths_and_reasons_terraform_gives() {
    let plan = native("update");
    let rc = |a: &str| {
        plan.resource(a)
            .unwrap_or_else(|| panic!("no change for {a}"))
    };
    let changed = rc("null_resource.changed");
    assert_eq!(
        changed.action,
        Action::Replace {
            create_before_destroy: false
        }
    );
    assert_eq!(changed.change.replace_paths.len(), 1);
    assert_eq!(changed.change.replace_paths[0].to_string(), "triggers");
    assert_eq!(
        changed.action_reason.as_deref(),
        Some("replace_because_cannot_update")
    );
    assert_eq!(
        rc("null_resource.cbd").action,
        Action::Replace {
            create_before_destroy: true
        }
    );
    assert_eq!(
        rc("null_resource.tainted").action_reason.as_deref(),
        Some("replace_because_tainted")
    );
    assert_eq!(
        rc("null_resource.forced").action_reason.as_deref(),
        Some("replace_by_request")
    );
    assert_eq!(rc("null_resource.counted[2]").action, Action::Delete);
    assert_eq!(rc("null_resource.removed").action, Action::Delete);
    assert_eq!(
        plan.summary().to_string(),
        "Plan: 5 to add, 0 to change, 7 to destroy."
    );
}

#[test]
fn a_sensitive_trigger_is_masked_before_and_after() {
    let plan = native("update");
    let sens = plan
        .resource("null_resource.sens")
        .unwrap_or_else(|| panic!("no sens"));
    let password = sens
        .attribute_changes()
        .into_iter()
        .find(|c| c.path == "triggers.password")
        .unwrap_or_else(|| panic!("no password change"));
    assert_eq!(password.before, Some(Shown::Sensitive));
    assert_eq!(password.after, Some(Shown::Sensitive));
}

#[test]
fn a_sensitive_variable_stays_out_of_variables_and_ids_are_known_after_apply() {
    let plan = native("create");
    assert!(!plan.variables.contains_key("password"));
    assert_eq!(plan.variables["ratio"], serde_json::json!(1.5));
    assert_eq!(
        plan.variables["tags"]["kubernetes.io/role"],
        serde_json::json!("node")
    );
    let counted = plan
        .resource("null_resource.counted[0]")
        .unwrap_or_else(|| panic!("no counted[0]"));
    assert!(counted.view().after_unknown_at(&["id"]));
    assert_eq!(
        plan.output_changes["password"].shown_after(),
        Some(Shown::Sensitive)
    );
    assert_eq!(
        plan.output_changes["first_id"].shown_after(),
        Some(Shown::Unknown)
    );
    let keyed = plan
        .configuration
        .resources
        .get(&(String::new(), "null_resource.keyed".to_string()))
        .unwrap_or_else(|| panic!("no keyed"));
    assert_eq!(
        keyed.references["triggers"][..3],
        ["each.key", "each.value", "null_resource.counted[0].id"]
    );
    let leaf = plan
        .configuration
        .resources
        .get(&(
            "module.app.module.leaf".to_string(),
            "null_resource.leaf".to_string(),
        ))
        .unwrap_or_else(|| panic!("no leaf"));
    assert_eq!(leaf.provider_config_key, "leaf:null");
    assert_eq!(
        plan.configuration.provider_configs["null.b"]
            .alias
            .as_deref(),
        Some("b")
    );
}

#[test]
fn provider_configurations_of_modules_are_keyed_by_module_path() {
    let plan = native("providers");
    let keys: Vec<&str> = plan
        .configuration
        .provider_configs
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "module.k:null",
            "module.k:null.kk",
            "module.m:null",
            "null.x"
        ]
    );
    let d = &plan.configuration.resources[&("module.k".to_string(), "null_resource.d".to_string())];
    assert_eq!(d.provider_config_key, "k:null.kk");
}

#[test]
fn bad_input_gets_an_error_that_names_the_problem() {
    assert_eq!(show_json(b""), Err(PlanFileError::Empty));
    assert!(matches!(
        show_json(b"{\"format_version\":\"1.0\"}"),
        Err(PlanFileError::NotAZip(_))
    ));
    let no_tfplan: Vec<_> = members("create")
        .into_iter()
        .filter(|(n, _)| n != "tfplan")
        .collect();
    assert_eq!(
        show_json(&zip_of(&no_tfplan)),
        Err(PlanFileError::MissingMember("tfplan".into()))
    );
    let truncated = with_tfplan("create", |t| t.truncate(t.len() / 2));
    match show_json(&truncated) {
        Err(e @ PlanFileError::Corrupt { .. }) => {
            assert!(!e.is_unsupported());
            assert!(e.to_string().contains("`tfplan`"), "{e}");
        }
        other => panic!("truncated tfplan gave {other:?}"),
    }
    // Field 1 (version) is written first: 0x08 0x03.
    let v4 = with_tfplan("create", |t| t[1] = 4);
    assert_eq!(
        show_json(&v4),
        Err(PlanFileError::UnsupportedFormatVersion(4))
    );
    // A repeated string field: the last one wins, as in terraform's own reader.
    let newer = with_tfplan("create", |t| t.extend_from_slice(b"\x72\x051.5.7"));
    let e = show_json(&newer).expect_err("terraform 1.5.7 is refused");
    assert_eq!(
        e,
        PlanFileError::UnsupportedTerraformVersion("1.5.7".into())
    );
    assert!(e.is_unsupported());
}

#[test]
fn a_provider_without_a_schema_is_unsupported_and_named() {
    let none =
        ProviderSchemas::from_json(br#"{"provider_schemas":{}}"#).unwrap_or_else(|e| panic!("{e}"));
    let e = show_json_with(&fixture("update.tfplan"), &none).expect_err("no schema");
    assert!(e.is_unsupported());
    let text = e.to_string();
    assert!(
        text.contains("registry.terraform.io/hashicorp/null"),
        "{text}"
    );
    assert!(text.contains("resource null_resource."), "{text}");
    assert!(matches!(
        ProviderSchemas::from_json(b"[]"),
        Err(PlanFileError::Schemas { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = show_json(&bytes);
    }

    #[test]
    fn a_mangled_tfplan_never_panics(
        case in prop::sample::select(CASES),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let plan = with_tfplan(case, |t| {
            for (i, b) in &edits {
                let i = i.index(t.len());
                t[i] = *b;
            }
            let keep = cut.index(t.len() + 1);
            if keep > t.len() / 2 {
                t.truncate(keep);
            }
        });
        let _ = show_json(&plan);
    }

    #[test]
    fn a_mangled_configuration_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), "[ -~]{0,3}"), 1..6),
    ) {
        let mut m = members("create");
        for (name, data) in &mut m {
            if name == "tfconfig/m-/main.tf" {
                for (i, s) in &edits {
                    let i = i.index(data.len());
                    data.splice(i..i, s.bytes());
                }
            }
        }
        let _ = show_json(&zip_of(&m));
    }
}
