//! Checks of a configuration as a whole, each naming the key and the fix.

use std::collections::BTreeSet;

use super::{GatewayConfig, ModelConfig};
use crate::error::GatewayError;
use crate::strategy::Strategy;

impl GatewayConfig {
    /// Checks the configuration: names present and unique, references to
    /// known models, weights, retry and health bounds.
    ///
    /// # Errors
    ///
    /// Returns the first problem found as [`GatewayError::Config`], with the
    /// key path (such as `models[0].deployments[1].weight`) and the fix.
    pub fn validate(&self) -> Result<(), GatewayError> {
        if self.models.is_empty() {
            return Err(GatewayError::config(
                "models",
                "no models are configured; add a [[models]] entry with at least one deployment",
            ));
        }
        let mut model_names = BTreeSet::new();
        let mut deployment_ids = BTreeSet::new();
        for (index, model) in self.models.iter().enumerate() {
            let key = format!("models[{index}]");
            if model.name.trim().is_empty() {
                return Err(GatewayError::config(
                    format!("{key}.name"),
                    "the model name is empty; give the name clients send in `model`",
                ));
            }
            if !model_names.insert(model.name.as_str()) {
                return Err(GatewayError::config(
                    format!("{key}.name"),
                    format!(
                        "model {:?} is configured twice; merge its deployments into one [[models]] entry",
                        model.name
                    ),
                ));
            }
            self.validate_model(&key, model, &mut deployment_ids)?;
        }
        for (index, model) in self.models.iter().enumerate() {
            let lists = [
                ("fallbacks", &model.fallbacks),
                ("context_window_fallbacks", &model.context_window_fallbacks),
                ("content_policy_fallbacks", &model.content_policy_fallbacks),
            ];
            for (list_name, list) in lists {
                for (position, target) in list.iter().enumerate() {
                    let key = format!("models[{index}].{list_name}[{position}]");
                    if target == &model.name {
                        return Err(GatewayError::config(
                            key,
                            format!("model {target:?} names itself as its fallback; remove it"),
                        ));
                    }
                    self.require_model(&key, target)?;
                }
            }
        }
        let mut tasks = BTreeSet::new();
        for (index, route) in self.routes.iter().enumerate() {
            let key = format!("routes[{index}]");
            if route.task.trim().is_empty() {
                return Err(GatewayError::config(
                    format!("{key}.task"),
                    "the task tag is empty; use the tag clients send in metadata.task",
                ));
            }
            if !tasks.insert(route.task.as_str()) {
                return Err(GatewayError::config(
                    format!("{key}.task"),
                    format!("task {:?} has two routes; keep one", route.task),
                ));
            }
            self.require_model(&format!("{key}.model"), &route.model)?;
            if let Some(position) = route
                .examples
                .iter()
                .position(|example| example.trim().is_empty())
            {
                return Err(GatewayError::config(
                    format!("{key}.examples[{position}]"),
                    "the example is empty; give a request text typical of the task, or remove it",
                ));
            }
        }
        let similarity = self.defaults.min_task_similarity;
        if !(-1.0..=1.0).contains(&similarity) {
            return Err(GatewayError::config(
                "defaults.min_task_similarity",
                format!(
                    "{similarity} is not a cosine similarity; use a number from -1 to 1, such as 0.5"
                ),
            ));
        }
        if let Some(model) = &self.defaults.model {
            self.require_model("defaults.model", model)?;
        }
        self.validate_bounds()?;
        self.transparency.validate()?;
        self.validate_limits()
    }

    fn validate_model<'a>(
        &self,
        key: &str,
        model: &'a ModelConfig,
        deployment_ids: &mut BTreeSet<&'a str>,
    ) -> Result<(), GatewayError> {
        if model.deployments.is_empty() {
            return Err(GatewayError::config(
                format!("{key}.deployments"),
                format!(
                    "model {:?} has no deployments; add at least one [[models.deployments]]",
                    model.name
                ),
            ));
        }
        for (index, deployment) in model.deployments.iter().enumerate() {
            let key = format!("{key}.deployments[{index}]");
            for (field, value) in [
                ("id", &deployment.id),
                ("provider", &deployment.provider),
                ("model", &deployment.model),
            ] {
                if value.trim().is_empty() {
                    return Err(GatewayError::config(
                        format!("{key}.{field}"),
                        format!("`{field}` is empty; every deployment needs one"),
                    ));
                }
            }
            if !deployment_ids.insert(deployment.id.as_str()) {
                return Err(GatewayError::config(
                    format!("{key}.id"),
                    format!(
                        "deployment id {:?} is used twice; ids must be unique across all models",
                        deployment.id
                    ),
                ));
            }
            if let Some(check) = &deployment.health_check {
                check.validate(&format!("{key}.health_check"))?;
            }
            if deployment.context_window == Some(0) {
                return Err(GatewayError::config(
                    format!("{key}.context_window"),
                    "a context window of 0 tokens fits no request; give the model's window or remove the key",
                ));
            }
        }
        let strategy = model.strategy.unwrap_or(self.defaults.strategy);
        if strategy == Strategy::WeightedRandom
            && model
                .deployments
                .iter()
                .all(|deployment| deployment.weight == 0)
        {
            return Err(GatewayError::config(
                format!("{key}.deployments"),
                format!(
                    "every deployment of model {:?} has weight 0, so weighted routing has nowhere to send traffic; give one a positive weight",
                    model.name
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn require_model(&self, key: &str, name: &str) -> Result<(), GatewayError> {
        if self.find_model(name).is_some() {
            return Ok(());
        }
        let known: Vec<&str> = self
            .models
            .iter()
            .map(|model| model.name.as_str())
            .collect();
        Err(GatewayError::config(
            key,
            format!(
                "model {name:?} is not configured; use one of {known:?} or add a [[models]] entry"
            ),
        ))
    }

    fn validate_bounds(&self) -> Result<(), GatewayError> {
        let retry = &self.retry;
        if retry.max_attempts == 0 {
            return Err(GatewayError::config(
                "retry.max_attempts",
                "0 attempts would never call a model; use 1 or more",
            ));
        }
        if retry.base_delay_ms > retry.max_delay_ms {
            return Err(GatewayError::config(
                "retry.base_delay_ms",
                format!(
                    "{} ms is above retry.max_delay_ms ({} ms); lower it or raise the maximum",
                    retry.base_delay_ms, retry.max_delay_ms
                ),
            ));
        }
        let health = &self.health;
        if !(health.failure_ratio > 0.0 && health.failure_ratio <= 1.0) {
            return Err(GatewayError::config(
                "health.failure_ratio",
                format!(
                    "{} is not a share of calls; use a number above 0 and at most 1, such as 0.5",
                    health.failure_ratio
                ),
            ));
        }
        if health.window_secs == 0 {
            return Err(GatewayError::config(
                "health.window_secs",
                "a window of 0 s counts no calls; use 1 or more",
            ));
        }
        if health.min_requests == 0 {
            return Err(GatewayError::config(
                "health.min_requests",
                "0 would eject a deployment before any call; use 1 or more",
            ));
        }
        if let Some(check) = &health.check {
            check.validate("health.check")?;
        }
        Ok(())
    }
}
