//! The promotion pipeline of a merged pull request: its stages in promotion order, the units of
//! each in dependency order, and what happens next. A pure state machine: [`Pipeline::step`]
//! takes an event and returns the actions to take; it knows nothing of GitHub, the store or the
//! engine (the service drives it, persists it after every step, and shows it).
//!
//! A stage starts only when the previous one applied cleanly, and a stage whose gate is a
//! command waits for it to be opened. A failed unit stops the units of its stage that depend on
//! it and every later stage. A unit that was applying when its worker died is interrupted: it is
//! never applied again without a person's word.

use serde::{Deserialize, Serialize};

use crate::config::ApplyMode;

/// The stage listing the units of no environment: they have no apply role, so it never runs.
pub const NO_ENVIRONMENT: &str = "(no environment)";

/// A pipeline, as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// The merge commit applied.
    pub commit: String,
    /// The commit whose `slipway.toml` set the stages and gates: kept, so that a later merge
    /// cannot change the gate of a stage that is waiting.
    pub settings_commit: String,
    pub stages: Vec<Stage>,
}

/// One environment's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub env: String,
    /// `auto`, or waits for `/apply <env>`.
    pub gate: Gate,
    /// Who opened the gate and when (milliseconds since the Unix epoch).
    pub opened: Option<(String, i64)>,
    pub state: StageState,
    /// The stage's units in dependency order.
    pub units: Vec<UnitRun>,
    /// When the stage started and finished applying.
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// An earlier merged pull request whose pipeline must apply some of these units first.
    #[serde(default)]
    pub waiting_for: Option<String>,
}

/// How a stage may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    Auto,
    Command,
}

impl From<ApplyMode> for Gate {
    fn from(m: ApplyMode) -> Gate {
        match m {
            ApplyMode::Auto => Gate::Auto,
            ApplyMode::Command => Gate::Command,
        }
    }
}

/// Where a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    /// An earlier stage has not applied yet.
    Pending,
    /// Its turn has come; the gate is closed.
    AwaitingGate,
    /// Its units are applying.
    Applying,
    Applied,
    /// A unit failed or was interrupted: `/apply <env>` retries.
    Failed,
    /// An earlier stage failed.
    Blocked,
}

/// One unit's run in a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRun {
    pub unit: String,
    /// Units of the same stage this one depends on.
    pub depends_on: Vec<String>,
    pub state: UnitState,
    /// The checksum of the plan applied, once applied.
    pub plan_sha256: Option<String>,
}

/// Where a unit is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum UnitState {
    Waiting,
    Applying,
    Applied,
    Failed(String),
    /// Not applied this time, because a unit it depends on failed: a retry runs it again.
    Skipped(String),
    /// Never applied by this pipeline, with why (a removed unit, no environment, superseded
    /// by a later merge): a retry leaves it so.
    NotApplied(String),
    /// It was applying when its worker died: a person decides.
    Interrupted,
}

/// What happens to a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The pipeline was made: the first stage's turn.
    Started,
    /// Someone allowed opened `env`'s gate (or retries its failed stage).
    GateOpened {
        env: String,
        by: String,
        at_ms: i64,
    },
    /// A stage's worker took it up (again, after a crash: what was applying is interrupted).
    StageClaimed {
        env: String,
        at_ms: i64,
    },
    UnitApplying {
        unit: String,
    },
    UnitApplied {
        unit: String,
        plan_sha256: String,
    },
    UnitFailed {
        unit: String,
        error: String,
    },
}

/// What the driver must do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run the stage of `env`: apply its waiting units.
    RunStage { env: String },
    /// `env`'s gate is closed: show it waiting.
    AwaitGate { env: String },
    /// Every stage applied.
    Finished,
    /// The pipeline stopped at `env`.
    Stopped { env: String },
}

/// A step the pipeline's state refuses, with why (for the reply).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this pull request's pipeline has no stage `{0}`")]
    NoStage(String),
    #[error("`{env}` is {state}: its gate cannot be opened now")]
    NotWaiting { env: String, state: &'static str },
}

impl StageState {
    pub fn name(self) -> &'static str {
        match self {
            StageState::Pending => "waiting for an earlier stage",
            StageState::AwaitingGate => "waiting for its gate",
            StageState::Applying => "applying",
            StageState::Applied => "applied",
            StageState::Failed => "failed",
            StageState::Blocked => "blocked by an earlier stage",
        }
    }
}

/// A stage to make: its environment, its gate, and its units with the units of the stage each
/// depends on, in dependency order.
pub type StageSpec = (String, Gate, Vec<(String, Vec<String>)>);

impl Pipeline {
    /// A pipeline of `stages` (environment, gate, units with their in-stage dependencies, in
    /// dependency order), every stage pending.
    pub fn new(commit: &str, settings_commit: &str, stages: Vec<StageSpec>) -> Pipeline {
        Pipeline {
            commit: commit.to_string(),
            settings_commit: settings_commit.to_string(),
            stages: stages
                .into_iter()
                .map(|(env, gate, units)| Stage {
                    env,
                    gate,
                    opened: None,
                    state: StageState::Pending,
                    units: units
                        .into_iter()
                        .map(|(unit, depends_on)| UnitRun {
                            unit,
                            depends_on,
                            state: UnitState::Waiting,
                            plan_sha256: None,
                        })
                        .collect(),
                    started_ms: None,
                    finished_ms: None,
                    waiting_for: None,
                })
                .collect(),
        }
    }

    fn stage_mut(&mut self, env: &str) -> Option<&mut Stage> {
        self.stages.iter_mut().find(|s| s.env == env)
    }

    /// The stage a unit belongs to.
    fn stage_of_unit(&mut self, unit: &str) -> Option<&mut Stage> {
        self.stages
            .iter_mut()
            .find(|s| s.units.iter().any(|u| u.unit == unit))
    }

    /// Applies `event`; returns what to do next, or why the event is refused (nothing changed).
    pub fn step(&mut self, event: Event) -> Result<Vec<Action>, Refused> {
        match event {
            Event::Started => Ok(self.advance()),
            Event::GateOpened { env, by, at_ms } => {
                let stage = self
                    .stage_mut(&env)
                    .ok_or_else(|| Refused::NoStage(env.clone()))?;
                match stage.state {
                    StageState::AwaitingGate => {}
                    // A retry: what failed or was interrupted waits again.
                    StageState::Failed => {
                        for u in &mut stage.units {
                            if matches!(
                                u.state,
                                UnitState::Failed(_)
                                    | UnitState::Interrupted
                                    | UnitState::Skipped(_)
                            ) {
                                u.state = UnitState::Waiting;
                            }
                        }
                    }
                    other => {
                        return Err(Refused::NotWaiting {
                            env,
                            state: other.name(),
                        })
                    }
                }
                stage.opened = Some((by, at_ms));
                stage.state = StageState::Applying;
                stage.finished_ms = None;
                // Later stages blocked by this one's failure are pending again.
                let mut after = false;
                for s in &mut self.stages {
                    if after && s.state == StageState::Blocked {
                        s.state = StageState::Pending;
                    }
                    after |= s.env == env;
                }
                Ok(vec![Action::RunStage { env }])
            }
            Event::StageClaimed { env, at_ms } => {
                let stage = self
                    .stage_mut(&env)
                    .ok_or_else(|| Refused::NoStage(env.clone()))?;
                if stage.state != StageState::Applying {
                    return Err(Refused::NotWaiting {
                        env,
                        state: stage.state.name(),
                    });
                }
                stage.started_ms.get_or_insert(at_ms);
                for u in &mut stage.units {
                    if u.state == UnitState::Applying {
                        u.state = UnitState::Interrupted;
                    }
                }
                Ok(self.settle(&env, at_ms))
            }
            Event::UnitApplying { unit } => {
                if let Some(u) = self.unit_mut(&unit) {
                    u.state = UnitState::Applying;
                }
                Ok(Vec::new())
            }
            Event::UnitApplied { unit, plan_sha256 } => {
                if let Some(u) = self.unit_mut(&unit) {
                    u.state = UnitState::Applied;
                    u.plan_sha256 = Some(plan_sha256);
                }
                Ok(Vec::new())
            }
            Event::UnitFailed { unit, error } => {
                let Some(stage) = self.stage_of_unit(&unit) else {
                    return Ok(Vec::new());
                };
                if let Some(u) = stage.units.iter_mut().find(|u| u.unit == unit) {
                    u.state = UnitState::Failed(error);
                }
                // What depends on it, directly or not, is not applied.
                let mut changed = true;
                while changed {
                    changed = false;
                    let failed: Vec<String> = stage
                        .units
                        .iter()
                        .filter(|u| matches!(u.state, UnitState::Failed(_) | UnitState::Skipped(_)))
                        .map(|u| u.unit.clone())
                        .collect();
                    for u in &mut stage.units {
                        if u.state == UnitState::Waiting {
                            if let Some(d) = u.depends_on.iter().find(|d| failed.contains(d)) {
                                u.state = UnitState::Skipped(format!("{d} failed"));
                                changed = true;
                            }
                        }
                    }
                }
                Ok(Vec::new())
            }
        }
    }

    fn unit_mut(&mut self, unit: &str) -> Option<&mut UnitRun> {
        self.stages
            .iter_mut()
            .flat_map(|s| s.units.iter_mut())
            .find(|u| u.unit == unit)
    }

    /// The units of `env`'s stage that may start now: waiting, every in-stage dependency
    /// applied.
    pub fn ready(&self, env: &str) -> Vec<String> {
        let Some(stage) = self.stages.iter().find(|s| s.env == env) else {
            return Vec::new();
        };
        if stage.state != StageState::Applying {
            return Vec::new();
        }
        let applied = |d: &String| {
            stage
                .units
                .iter()
                .any(|u| &u.unit == d && u.state == UnitState::Applied)
        };
        stage
            .units
            .iter()
            .filter(|u| u.state == UnitState::Waiting && u.depends_on.iter().all(applied))
            .map(|u| u.unit.clone())
            .collect()
    }

    /// After a stage's run: when nothing more can start, the stage ends (applied, or failed
    /// with the later stages blocked) and the next one's turn comes.
    pub fn settle(&mut self, env: &str, at_ms: i64) -> Vec<Action> {
        if !self.ready(env).is_empty() {
            return vec![Action::RunStage {
                env: env.to_string(),
            }];
        }
        let Some(stage) = self.stage_mut(env) else {
            return Vec::new();
        };
        if stage.state != StageState::Applying {
            return Vec::new();
        }
        if stage.units.iter().any(|u| u.state == UnitState::Applying) {
            // Still running: the driver settles again when they end.
            return Vec::new();
        }
        let clean = stage
            .units
            .iter()
            .all(|u| matches!(u.state, UnitState::Applied | UnitState::NotApplied(_)));
        stage.finished_ms = Some(at_ms);
        if clean {
            stage.state = StageState::Applied;
            self.advance()
        } else {
            stage.state = StageState::Failed;
            let mut after = false;
            for s in &mut self.stages {
                if after && s.state == StageState::Pending {
                    s.state = StageState::Blocked;
                }
                after |= s.env == env;
            }
            vec![Action::Stopped {
                env: env.to_string(),
            }]
        }
    }

    /// Units of this pipeline not yet done with: what a later merged pull request touching them
    /// must wait for.
    pub fn unfinished_units(&self) -> Vec<&str> {
        self.stages
            .iter()
            .filter(|s| !matches!(s.state, StageState::Applied))
            .flat_map(|s| s.units.iter())
            .filter(|u| !matches!(u.state, UnitState::Applied | UnitState::NotApplied(_)))
            .map(|u| u.unit.as_str())
            .collect()
    }

    /// Whether the pipeline is stuck where a later merge may take over its units: a failed or
    /// blocked stage holds them.
    pub fn stuck_on(&self, unit: &str) -> bool {
        self.stages.iter().any(|s| {
            matches!(s.state, StageState::Failed | StageState::Blocked)
                && s.units.iter().any(|u| u.unit == unit)
        })
    }

    /// A later merged pull request takes over `unit`: it is not applied here.
    pub fn supersede(&mut self, unit: &str, by: &str) {
        if let Some(u) = self.unit_mut(unit) {
            if !matches!(u.state, UnitState::Applied) {
                u.state = UnitState::NotApplied(format!("superseded by {by}, merged later"));
            }
        }
    }

    /// The first stage not applied takes its turn, when the ones before it applied.
    fn advance(&mut self) -> Vec<Action> {
        for stage in &mut self.stages {
            match stage.state {
                StageState::Applied => continue,
                StageState::Pending => {
                    return match stage.gate {
                        Gate::Auto => {
                            stage.state = StageState::Applying;
                            vec![Action::RunStage {
                                env: stage.env.clone(),
                            }]
                        }
                        Gate::Command => {
                            stage.state = StageState::AwaitingGate;
                            vec![Action::AwaitGate {
                                env: stage.env.clone(),
                            }]
                        }
                    }
                }
                _ => return Vec::new(),
            }
        }
        vec![Action::Finished]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline() -> Pipeline {
        Pipeline::new(
            "m",
            "b",
            vec![
                (
                    "dev".into(),
                    Gate::Auto,
                    vec![
                        ("dev/net".into(), vec![]),
                        ("dev/app".into(), vec!["dev/net".into()]),
                        ("dev/other".into(), vec![]),
                    ],
                ),
                (
                    "prod".into(),
                    Gate::Command,
                    vec![("prod/app".into(), vec![])],
                ),
            ],
        )
    }

    fn applied(p: &mut Pipeline, unit: &str) {
        p.step(Event::UnitApplying { unit: unit.into() })
            .expect("ok");
        p.step(Event::UnitApplied {
            unit: unit.into(),
            plan_sha256: "s".into(),
        })
        .expect("ok");
    }

    #[test]
    fn stages_go_in_order_and_a_command_gate_waits() {
        let mut p = pipeline();
        assert_eq!(
            p.step(Event::Started).expect("ok"),
            [Action::RunStage { env: "dev".into() }]
        );
        assert_eq!(
            p.ready("dev"),
            ["dev/net", "dev/other"],
            "dependencies first"
        );
        applied(&mut p, "dev/net");
        assert_eq!(p.ready("dev"), ["dev/app", "dev/other"]);
        applied(&mut p, "dev/app");
        applied(&mut p, "dev/other");
        assert_eq!(
            p.settle("dev", 1),
            [Action::AwaitGate { env: "prod".into() }]
        );
        assert_eq!(p.stages[1].state, StageState::AwaitingGate);
        assert!(p.ready("prod").is_empty(), "the gate is closed");
        let opened = p
            .step(Event::GateOpened {
                env: "prod".into(),
                by: "tess".into(),
                at_ms: 2,
            })
            .expect("ok");
        assert_eq!(opened, [Action::RunStage { env: "prod".into() }]);
        applied(&mut p, "prod/app");
        assert_eq!(p.settle("prod", 3), [Action::Finished]);
    }

    #[test]
    fn a_failure_skips_its_dependents_finishes_the_others_and_blocks_later_stages() {
        let mut p = pipeline();
        p.step(Event::Started).expect("ok");
        p.step(Event::UnitFailed {
            unit: "dev/net".into(),
            error: "boom".into(),
        })
        .expect("ok");
        assert_eq!(p.ready("dev"), ["dev/other"], "independent units finish");
        applied(&mut p, "dev/other");
        assert_eq!(p.settle("dev", 1), [Action::Stopped { env: "dev".into() }]);
        assert!(matches!(p.stages[0].units[1].state, UnitState::Skipped(_)));
        assert_eq!(p.stages[1].state, StageState::Blocked);
        // A gate cannot be opened on a blocked stage; `/apply dev` retries the failed one.
        assert!(p
            .step(Event::GateOpened {
                env: "prod".into(),
                by: "tess".into(),
                at_ms: 2
            })
            .is_err());
        p.step(Event::GateOpened {
            env: "dev".into(),
            by: "tess".into(),
            at_ms: 3,
        })
        .expect("retry");
        assert_eq!(
            p.ready("dev"),
            ["dev/net"],
            "what applied is not applied again"
        );
        assert_eq!(p.stages[1].state, StageState::Pending);
    }

    #[test]
    fn a_unit_applying_when_its_worker_died_is_interrupted_never_rerun_by_itself() {
        let mut p = pipeline();
        p.step(Event::Started).expect("ok");
        p.step(Event::UnitApplying {
            unit: "dev/net".into(),
        })
        .expect("ok");
        // The stage's job is claimed again after a crash.
        let next = p
            .step(Event::StageClaimed {
                env: "dev".into(),
                at_ms: 5,
            })
            .expect("ok");
        assert_eq!(p.stages[0].units[0].state, UnitState::Interrupted);
        assert_eq!(
            next,
            [Action::RunStage { env: "dev".into() }],
            "dev/other may go"
        );
        assert_eq!(p.ready("dev"), ["dev/other"]);
        applied(&mut p, "dev/other");
        assert_eq!(p.settle("dev", 6), [Action::Stopped { env: "dev".into() }]);
    }

    #[test]
    fn the_pipeline_round_trips_through_json() {
        let mut p = pipeline();
        p.step(Event::Started).expect("ok");
        p.step(Event::UnitFailed {
            unit: "dev/net".into(),
            error: "boom".into(),
        })
        .expect("ok");
        let json = serde_json::to_string(&p).expect("json");
        let back: Pipeline = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, p);
    }
}
