//! What a change to `slipway.toml` would change once merged, setting by setting, with the
//! changes that weaken a protection marked.

use std::collections::BTreeSet;

use rules::config::{Level, PolicyConfig, RuleId};

use super::{ApplyMode, EnvConfig, Permission, RepoConfig, Rights};

/// One setting a change to `slipway.toml` changes. `before` and `after` are plain text, as
/// the repository wrote them (a renderer escapes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange {
    /// The setting, as a dotted key (`environments.prod.apply_rights.users`).
    pub key: String,
    /// The environment it concerns (`None`: every environment).
    pub env: Option<String>,
    pub before: String,
    pub after: String,
    /// More people may act, fewer conditions hold, or a rule is softened or exempted.
    pub loosens: bool,
    /// It loosens a protection of a production environment: to be reviewed with care.
    pub prod: bool,
}

/// Every setting `head` changes relative to `base`, environments in `base`'s promotion order.
/// Which environments are production comes from `base` (a change cannot declassify its own).
pub fn changes(base: &RepoConfig, head: &RepoConfig) -> Vec<SettingChange> {
    let mut out = Changes {
        list: Vec::new(),
        production: &base.policy.production_envs,
    };
    out.plain("live_dir", None, &base.live_dir, &head.live_dir, false);
    if base.promotion != head.promotion {
        let before_prod = |c: &RepoConfig, env: &str| -> BTreeSet<String> {
            c.promotion
                .iter()
                .take_while(|e| *e != env)
                .cloned()
                .collect()
        };
        let loosens = base
            .promotion
            .iter()
            .any(|e| out.is_prod(e) && !before_prod(base, e).is_subset(&before_prod(head, e)));
        out.push(
            "promotion",
            None,
            list(&base.promotion),
            list(&head.promotion),
            loosens,
        );
    }
    let names: BTreeSet<&String> = base
        .environments
        .keys()
        .chain(head.environments.keys())
        .collect();
    let mut names: Vec<&String> = names.into_iter().collect();
    names.sort_by_key(|n| {
        base.promotion
            .iter()
            .position(|p| p == *n)
            .unwrap_or(usize::MAX)
    });
    for name in names {
        match (base.environments.get(name), head.environments.get(name)) {
            (Some(b), Some(h)) => out.environment(name, b, h),
            (None, Some(h)) => out.push(
                &format!("environments.{name}"),
                Some(name),
                "(none)".into(),
                format!("path {}", h.path),
                false,
            ),
            (Some(b), None) => out.push(
                &format!("environments.{name}"),
                Some(name),
                format!("path {}", b.path),
                "(removed)".into(),
                out.is_prod(name),
            ),
            (None, None) => {}
        }
    }
    let envs: Vec<String> = base
        .environments
        .keys()
        .chain(head.environments.keys())
        .chain(base.policy.production_envs.iter())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    out.policy(&base.policy, &head.policy, &envs);
    out.list
}

struct Changes<'a> {
    list: Vec<SettingChange>,
    production: &'a [String],
}

impl Changes<'_> {
    fn is_prod(&self, env: &str) -> bool {
        self.production.iter().any(|p| p == env)
    }

    fn push(&mut self, key: &str, env: Option<&str>, before: String, after: String, loosens: bool) {
        let prod = loosens && env.is_none_or(|e| self.is_prod(e));
        self.list.push(SettingChange {
            key: key.to_string(),
            env: env.map(str::to_string),
            before,
            after,
            loosens,
            prod,
        });
    }

    fn plain(
        &mut self,
        key: &str,
        env: Option<&str>,
        before: &Option<String>,
        after: &Option<String>,
        loosens: bool,
    ) {
        if before != after {
            self.push(key, env, opt(before), opt(after), loosens);
        }
    }

    fn environment(&mut self, name: &str, b: &EnvConfig, h: &EnvConfig) {
        let key = |k: &str| format!("environments.{name}.{k}");
        let env = Some(name);
        if b.path != h.path {
            // Units move in or out of the environment's rights, roles and rules.
            let loosens = self.is_prod(name);
            self.push(&key("path"), env, b.path.clone(), h.path.clone(), loosens);
        }
        self.plain(&key("account_id"), env, &b.account_id, &h.account_id, false);
        self.plain(&key("plan_role"), env, &b.plan_role, &h.plan_role, false);
        self.plain(&key("apply_role"), env, &b.apply_role, &h.apply_role, false);
        self.plain(
            &key("external_id"),
            env,
            &b.external_id,
            &h.external_id,
            false,
        );
        self.plain(&key("region"), env, &b.region, &h.region, false);
        if b.apply != h.apply {
            let loosens = b.apply == ApplyMode::Command && h.apply == ApplyMode::Auto;
            self.push(&key("apply"), env, mode(b.apply), mode(h.apply), loosens);
        }
        for (field, br, hr) in [
            ("apply_rights", &b.apply_rights, &h.apply_rights),
            ("plan_rights", &b.plan_rights, &h.plan_rights),
        ] {
            self.rights(&key(field), env, br, hr);
        }
        let prod = self.is_prod(name);
        let locks = |c: Option<bool>| c.unwrap_or(prod);
        if locks(b.lock) != locks(h.lock) {
            self.push(
                &key("lock"),
                env,
                locks(b.lock).to_string(),
                locks(h.lock).to_string(),
                !locks(h.lock),
            );
        }
        if b.plan_forks != h.plan_forks {
            self.push(
                &key("plan_forks"),
                env,
                b.plan_forks.to_string(),
                h.plan_forks.to_string(),
                h.plan_forks,
            );
        }
        let (br, hr) = (&b.requirements, &h.requirements);
        if br.approvals != hr.approvals {
            self.push(
                &key("requirements.approvals"),
                env,
                br.approvals.to_string(),
                hr.approvals.to_string(),
                hr.approvals < br.approvals,
            );
        }
        if br.approvals_team != hr.approvals_team {
            self.push(
                &key("requirements.approvals_team"),
                env,
                opt(&br.approvals_team),
                opt(&hr.approvals_team),
                br.approvals_team.is_some(),
            );
        }
        if br.mergeable != hr.mergeable {
            self.push(
                &key("requirements.mergeable"),
                env,
                br.mergeable.to_string(),
                hr.mergeable.to_string(),
                !hr.mergeable,
            );
        }
        if br.checks_green != hr.checks_green {
            self.push(
                &key("requirements.checks_green"),
                env,
                br.checks_green.to_string(),
                hr.checks_green.to_string(),
                !hr.checks_green,
            );
        }
        if b.allow_run_cmd != h.allow_run_cmd {
            self.push(
                &key("allow_run_cmd"),
                env,
                b.allow_run_cmd.to_string(),
                h.allow_run_cmd.to_string(),
                h.allow_run_cmd,
            );
        }
        self.members(&key("env_allow"), env, &b.env_allow, &h.env_allow);
        if b.env != h.env {
            let keys = |m: &std::collections::BTreeMap<String, String>| {
                list(&m.keys().cloned().collect::<Vec<_>>())
            };
            self.push(&key("env"), env, keys(&b.env), keys(&h.env), false);
        }
    }

    /// Who may act: a name added to a list that names people, every name removed (anyone with
    /// the permission may then act), or a lower permission floor grants more.
    fn rights(&mut self, key: &str, env: Option<&str>, b: &Rights, h: &Rights) {
        let opened = b.names_people() && !h.names_people();
        for (field, before, after) in [("users", &b.users, &h.users), ("teams", &b.teams, &h.teams)]
        {
            let added = after.iter().any(|a| !before.contains(a));
            let loosens = (b.names_people() && added) || (opened && !before.is_empty());
            self.list_change(&format!("{key}.{field}"), env, before, after, loosens);
        }
        let (fb, fh) = (b.permission_floor(), h.permission_floor());
        if fb != fh {
            self.push(
                &format!("{key}.min_permission"),
                env,
                permission(fb),
                permission(fh),
                fh < fb,
            );
        }
    }

    /// A list where an added entry grants more (readable variables).
    fn members(&mut self, key: &str, env: Option<&str>, before: &[String], after: &[String]) {
        let added = after.iter().any(|a| !before.contains(a));
        self.list_change(key, env, before, after, added);
    }

    /// A list's entries added and removed, when any.
    fn list_change(
        &mut self,
        key: &str,
        env: Option<&str>,
        before: &[String],
        after: &[String],
        loosens: bool,
    ) {
        let added: Vec<String> = after
            .iter()
            .filter(|a| !before.contains(a))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .iter()
            .filter(|b| !after.contains(b))
            .cloned()
            .collect();
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let mut what = Vec::new();
        if !added.is_empty() {
            what.push(format!("added {}", list(&added)));
        }
        if !removed.is_empty() {
            what.push(format!("removed {}", list(&removed)));
        }
        self.push(key, env, list(before), what.join("; "), loosens);
    }

    fn policy(&mut self, b: &PolicyConfig, h: &PolicyConfig, envs: &[String]) {
        let removed_tags: Vec<String> = b
            .required_tags
            .iter()
            .filter(|t| !h.required_tags.contains(t))
            .cloned()
            .collect();
        if b.required_tags != h.required_tags {
            self.push(
                "policy.required_tags",
                None,
                list(&b.required_tags),
                list(&h.required_tags),
                !removed_tags.is_empty(),
            );
        }
        if b.allowed_tag_values != h.allowed_tag_values {
            let loosens = b.allowed_tag_values.iter().any(|(k, vals)| {
                h.allowed_tag_values
                    .get(k)
                    .is_none_or(|hv| hv.iter().any(|v| !vals.contains(v)))
            });
            self.push(
                "policy.allowed_tag_values",
                None,
                "…".into(),
                "changed".into(),
                loosens,
            );
        }
        if b.environment_tag != h.environment_tag {
            self.push(
                "policy.environment_tag",
                None,
                b.environment_tag.clone(),
                h.environment_tag.clone(),
                false,
            );
        }
        if b.production_envs != h.production_envs {
            let loosens = b
                .production_envs
                .iter()
                .any(|e| !h.production_envs.contains(e));
            self.push(
                "policy.production_envs",
                None,
                list(&b.production_envs),
                list(&h.production_envs),
                loosens,
            );
        }
        let added_ports: Vec<String> = h
            .public_ingress_ports
            .iter()
            .filter(|p| !b.public_ingress_ports.contains(p))
            .map(u16::to_string)
            .collect();
        if b.public_ingress_ports != h.public_ingress_ports {
            let ports = |p: &[u16]| list(&p.iter().map(u16::to_string).collect::<Vec<_>>());
            self.push(
                "policy.public_ingress_ports",
                None,
                ports(&b.public_ingress_ports),
                ports(&h.public_ingress_ports),
                !added_ports.is_empty(),
            );
        }
        for (key, before, after) in [
            (
                "policy.backup_retention_days",
                b.backup_retention_days,
                h.backup_retention_days,
            ),
            (
                "policy.prod_backup_retention_days",
                b.prod_backup_retention_days,
                h.prod_backup_retention_days,
            ),
        ] {
            if before != after {
                self.push(
                    key,
                    None,
                    before.to_string(),
                    after.to_string(),
                    after < before,
                );
            }
        }
        // Rule severities as they take effect, environment by environment: a changed default,
        // a per-environment override and a changed production list all show here.
        for rule in RuleId::ALL {
            for env in envs {
                let (lb, lh) = (b.level(*rule, env), h.level(*rule, env));
                if lb != lh {
                    self.push(
                        &format!("policy.rules.{rule}"),
                        Some(env),
                        level(lb),
                        level(lh),
                        strength(lh) < strength(lb),
                    );
                }
                let (kb, kh) = (
                    b.known_after_apply_level(*rule, env),
                    h.known_after_apply_level(*rule, env),
                );
                if lb == lh && kb != kh {
                    self.push(
                        &format!("policy.known_after_apply ({rule})"),
                        Some(env),
                        level(kb),
                        level(kh),
                        strength(kh) < strength(kb),
                    );
                }
            }
        }
        for x in &h.exemptions {
            if !b.exemptions.contains(x) {
                self.push(
                    "policy.exemptions",
                    x.env.as_deref(),
                    "(none)".into(),
                    format!(
                        "{} exempt from {}: {}",
                        x.address,
                        x.rule,
                        x.reason.as_str()
                    ),
                    true,
                );
            }
        }
        for x in &b.exemptions {
            if !h.exemptions.contains(x) {
                self.push(
                    "policy.exemptions",
                    x.env.as_deref(),
                    format!("{} exempt from {}", x.address, x.rule),
                    "(removed)".into(),
                    false,
                );
            }
        }
        if b.usage != h.usage {
            self.push(
                "policy.usage",
                None,
                format!("{} estimate(s)", b.usage.len()),
                format!("{} estimate(s)", h.usage.len()),
                false,
            );
        }
    }
}

fn strength(l: Level) -> u8 {
    match l {
        Level::Error => 2,
        Level::Warning => 1,
        Level::Off => 0,
    }
}

fn level(l: Level) -> String {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Off => "off",
    }
    .to_string()
}

fn mode(m: ApplyMode) -> String {
    match m {
        ApplyMode::Auto => "auto",
        ApplyMode::Command => "command",
    }
    .to_string()
}

fn permission(p: Permission) -> String {
    format!("{p:?}").to_lowercase()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(unset)".into())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "(none)".into();
    }
    items
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> RepoConfig {
        RepoConfig::parse(text, "slipway.toml").expect("valid")
    }

    const BASE: &str = r#"
promotion = ["dev", "prod"]
[environments.dev]
path = "live/dev"
[environments.prod]
path = "live/prod"
apply = "command"
apply_rights = { teams = ["acme/platform"] }
requirements = { approvals = 2 }
"#;

    #[test]
    fn an_author_added_to_prod_rights_is_a_loosened_prod_protection() {
        let head = BASE.replace(
            "apply_rights = { teams = [\"acme/platform\"] }",
            "apply_rights = { teams = [\"acme/platform\"], users = [\"mallory\"] }",
        );
        let changes = changes(&cfg(BASE), &cfg(&head));
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!(c.key, "environments.prod.apply_rights.users");
        assert_eq!(c.after, "added mallory");
        assert!(c.loosens && c.prod);
    }

    #[test]
    fn fewer_approvals_and_auto_apply_in_prod_loosen() {
        let head = BASE
            .replace("apply = \"command\"", "apply = \"auto\"")
            .replace("approvals = 2", "approvals = 0");
        let changes = changes(&cfg(BASE), &cfg(&head));
        let keys: Vec<(&str, bool)> = changes.iter().map(|c| (c.key.as_str(), c.prod)).collect();
        assert_eq!(
            keys,
            [
                ("environments.prod.apply", true),
                ("environments.prod.requirements.approvals", true)
            ]
        );
    }

    #[test]
    fn an_exemption_for_every_environment_loosens_prod() {
        let head = format!(
            "{BASE}\n[[policy.exemptions]]\nrule = \"db-deletion-protection\"\naddress = \"aws_db_instance.main\"\nreason = \"temporary\"\n"
        );
        let changes = changes(&cfg(BASE), &cfg(&head));
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].key, "policy.exemptions");
        assert!(changes[0].prod, "no env: applies to prod too");
        assert!(changes[0].after.contains("db-deletion-protection"));
    }

    #[test]
    fn a_rule_turned_off_in_prod_loosens_and_a_stricter_one_does_not() {
        let head = format!(
            "{BASE}\n[policy.rules.sg-open-ingress]\nby_env = {{ prod = \"off\" }}\n[policy.rules.tags-required]\nseverity = \"error\"\n"
        );
        let changes = changes(&cfg(BASE), &cfg(&head));
        let off = changes
            .iter()
            .find(|c| c.key == "policy.rules.sg-open-ingress")
            .expect("listed");
        assert_eq!(off.env.as_deref(), Some("prod"));
        assert!(off.loosens && off.prod);
        assert!(changes
            .iter()
            .filter(|c| c.key == "policy.rules.tags-required")
            .all(|c| !c.loosens));
    }

    #[test]
    fn declassifying_prod_is_judged_by_the_bases_production_list() {
        let head = format!("{BASE}\n[policy]\nproduction_envs = []\n");
        let changes = changes(&cfg(BASE), &cfg(&head));
        let c = changes
            .iter()
            .find(|c| c.key == "policy.production_envs")
            .expect("listed");
        assert!(c.loosens && c.prod);
    }

    #[test]
    fn naming_people_where_anyone_could_narrows_and_dropping_every_name_loosens() {
        let open = "[environments.prod]\npath = \"live/prod\"\n";
        let named = format!("{open}apply_rights = {{ users = [\"alice\"] }}\n");
        let narrowed = changes(&cfg(open), &cfg(&named));
        assert!(narrowed.iter().all(|c| !c.loosens), "{narrowed:?}");
        let opened = changes(&cfg(&named), &cfg(open));
        assert!(
            opened
                .iter()
                .any(|c| c.key == "environments.prod.apply_rights.users" && c.prod),
            "{opened:?}"
        );
    }

    #[test]
    fn turning_prod_locks_off_loosens() {
        let head = BASE.replace("apply = \"command\"", "apply = \"command\"\nlock = false");
        let changes = changes(&cfg(BASE), &cfg(&head));
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(changes[0].key == "environments.prod.lock" && changes[0].prod);
    }

    #[test]
    fn the_same_settings_change_nothing() {
        assert!(changes(&cfg(BASE), &cfg(BASE)).is_empty());
    }
}
