//! Experiment definitions, validation and sticky assignment.

use serde::{Deserialize, Serialize};

use super::error::ExperimentError;
use super::hash::unit_interval;

/// What an arm serves: a prompt version or a label that resolves to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArmTarget {
    /// A fixed prompt version number.
    Version(u32),
    /// A label such as `production`, resolved when the prompt is fetched.
    Label(String),
}

/// One arm of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    /// The arm name, unique within the experiment.
    pub name: String,
    /// The prompt version or label this arm serves.
    pub target: ArmTarget,
    /// The relative share of traffic; weights need not sum to 1.
    pub weight: f64,
}

impl Arm {
    /// Creates an arm.
    pub fn new(name: impl Into<String>, target: ArmTarget, weight: f64) -> Self {
        Arm {
            name: name.into(),
            target,
            weight,
        }
    }
}

/// A validated experiment: an id and weighted arms.
///
/// The first arm is the control that analysis compares the others with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ExperimentDefinition", into = "ExperimentDefinition")]
pub struct Experiment {
    id: String,
    arms: Vec<Arm>,
    /// Upper bounds of each arm's share of [0, 1), in arm order.
    cumulative: Vec<f64>,
}

/// The serialized form of an [`Experiment`], validated on deserialization.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExperimentDefinition {
    id: String,
    arms: Vec<Arm>,
}

impl TryFrom<ExperimentDefinition> for Experiment {
    type Error = ExperimentError;

    fn try_from(definition: ExperimentDefinition) -> Result<Self, Self::Error> {
        Experiment::new(definition.id, definition.arms)
    }
}

impl From<Experiment> for ExperimentDefinition {
    fn from(experiment: Experiment) -> Self {
        ExperimentDefinition {
            id: experiment.id,
            arms: experiment.arms,
        }
    }
}

impl Experiment {
    /// Validates and creates an experiment.
    ///
    /// # Errors
    ///
    /// An empty id or arm name, no arms, duplicate arm names, a negative,
    /// NaN or infinite weight, or weights whose sum is not positive and
    /// finite.
    pub fn new(id: impl Into<String>, arms: Vec<Arm>) -> Result<Experiment, ExperimentError> {
        let id = id.into();
        if id.is_empty() {
            return Err(ExperimentError::EmptyExperimentId);
        }
        if arms.is_empty() {
            return Err(ExperimentError::NoArms { experiment: id });
        }
        for (index, arm) in arms.iter().enumerate() {
            if arm.name.is_empty() {
                return Err(ExperimentError::EmptyArmName { experiment: id });
            }
            if arms[..index].iter().any(|earlier| earlier.name == arm.name) {
                return Err(ExperimentError::DuplicateArm {
                    experiment: id,
                    arm: arm.name.clone(),
                });
            }
            if !arm.weight.is_finite() || arm.weight < 0.0 {
                return Err(ExperimentError::InvalidWeight {
                    arm: arm.name.clone(),
                    weight: arm.weight,
                });
            }
        }

        let total: f64 = arms.iter().map(|arm| arm.weight).sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(ExperimentError::InvalidTotalWeight {
                experiment: id,
                total,
            });
        }
        let mut running = 0.0;
        let cumulative = arms
            .iter()
            .map(|arm| {
                running += arm.weight;
                running / total
            })
            .collect();
        Ok(Experiment {
            id,
            arms,
            cumulative,
        })
    }

    /// Returns the experiment id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns the arms in their configured order; the first is the control.
    pub fn arms(&self) -> &[Arm] {
        &self.arms
    }

    /// Returns each arm's share of traffic, normalized to sum to 1.
    pub fn shares(&self) -> Vec<f64> {
        let total: f64 = self.arms.iter().map(|arm| arm.weight).sum();
        self.arms.iter().map(|arm| arm.weight / total).collect()
    }

    /// Assigns a unit (user, session, request) to an arm.
    ///
    /// The same experiment id and unit id always give the same arm, in any
    /// process and on any platform: [`unit_interval`] maps them to a point
    /// in [0, 1), and the arm whose cumulative share first exceeds that
    /// point is chosen. Arms with weight 0 never receive units.
    pub fn assign(&self, unit_id: &str) -> &Arm {
        let point = unit_interval(&self.id, unit_id);
        let positive = self
            .arms
            .iter()
            .zip(&self.cumulative)
            .filter(|(arm, _)| arm.weight > 0.0);
        let mut chosen = &self.arms[0];
        for (arm, upper) in positive {
            chosen = arm;
            if point < *upper {
                break;
            }
        }
        chosen
    }
}
