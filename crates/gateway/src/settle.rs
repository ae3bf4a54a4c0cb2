//! The accounting at the end of a request: token reservations settled to
//! the tokens used, spend added to budgets, and the response cached in the
//! response cache and the semantic cache.

use std::sync::Arc;

use llmops_core::types::{ChatCompletion, Usage};
use rust_decimal::Decimal;

use crate::deployment::Deployment;
use crate::gateway::{Gateway, Pending};
use crate::limits::{LimitScope, Reservation, caller_scopes};
use crate::record::RequestStatus;
use crate::semantic_cache::SemanticEntry;

/// The accounting left for a finished request. It is built synchronously
/// when the request ends and run on the request's task, or on a spawned
/// task when the reader drops a stream.
pub(crate) struct Settlement {
    gateway: Gateway,
    reservations: Vec<Reservation>,
    serving_model: Option<String>,
    used_tokens: u64,
    spend_scopes: Vec<LimitScope>,
    cost: Option<Decimal>,
    cache_entry: Option<(String, Vec<u8>)>,
    semantic_entry: Option<SemanticEntry>,
}

impl Settlement {
    /// Collects the accounting of `pending`: `usage` is what the call used
    /// (none when no model returned a completion), `cost` its price.
    pub(crate) fn new(
        gateway: &Gateway,
        pending: &mut Pending,
        deployment: Option<&Arc<Deployment>>,
        status: &RequestStatus,
        usage: Option<&Usage>,
        cost: Option<Decimal>,
        completion: Option<&ChatCompletion>,
    ) -> Self {
        let serving_model = deployment.map(|deployment| deployment.model.clone());
        let mut spend_scopes = caller_scopes(&pending.request, &pending.context);
        if let Some(model) = &serving_model {
            spend_scopes.push(LimitScope::Model(model.clone()));
        }
        let used_tokens = usage.map_or(0, |usage| {
            usage.prompt_tokens.saturating_add(usage.completion_tokens)
        });
        let cache_entry = match (&pending.cache_key, status, completion) {
            (Some(key), RequestStatus::Success, Some(completion)) if !pending.cache_hit => {
                serde_json::to_vec(completion)
                    .ok()
                    .map(|bytes| (key.clone(), bytes))
            }
            _ => None,
        };
        let semantic_entry = match (status, completion) {
            (RequestStatus::Success, Some(completion)) => {
                SemanticEntry::for_pending(gateway, pending, completion)
            }
            _ => None,
        };
        Settlement {
            gateway: gateway.clone(),
            reservations: std::mem::take(&mut pending.admitted.reservations),
            serving_model,
            used_tokens,
            spend_scopes,
            cost,
            cache_entry,
            semantic_entry,
        }
    }

    /// Settles the reservations, adds the spend and stores the response.
    pub(crate) async fn run(self) {
        let gateway = &self.gateway;
        if !self.reservations.is_empty() {
            gateway
                .settle(
                    &self.reservations,
                    self.serving_model.as_deref(),
                    self.used_tokens,
                )
                .await;
        }
        if let Some(cost) = self.cost {
            gateway.add_spend(&self.spend_scopes, cost).await;
        }
        if let Some((key, bytes)) = self.cache_entry {
            gateway.store_cached(&key, bytes).await;
        }
        if let Some(entry) = self.semantic_entry {
            entry.store().await;
        }
    }

    /// Runs the settlement on the current Tokio runtime without waiting,
    /// for a stream dropped by its reader. Outside a runtime nothing is
    /// settled and a warning is logged.
    pub(crate) fn spawn(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(self.run());
            }
            Err(_) => tracing::warn!("limits and spend not settled: no Tokio runtime at drop"),
        }
    }
}
