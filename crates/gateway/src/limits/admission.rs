//! Admission of a request against the limits and budgets of its scopes,
//! and the settlement of what it reserved once it ends.

use std::time::Duration;

use llmops_core::Error;
use llmops_core::types::ChatRequest;
use rust_decimal::Decimal;

use super::{BudgetAlert, LimitRule, LimitScope, MINUTE_MS, PeriodWindow};
use crate::gateway::{GATEWAY_PROVIDER, Gateway};
use crate::hooks::CallContext;
use crate::state::{Admission, Charge, Ticket};

/// One scope's admitted share of a request.
#[derive(Debug)]
pub(crate) struct Reservation {
    pub(crate) scope: LimitScope,
    /// The reserved tokens, settled to the tokens used when the call ends.
    pub(crate) tokens: Option<Ticket>,
}

/// The reservations of a request, kept from admission until it ends.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    pub(crate) reservations: Vec<Reservation>,
    /// The tokens reserved under each tokens-per-minute limit, counted once
    /// when the first such limit applies.
    pub(crate) estimated_tokens: Option<u64>,
}

/// The limit of a rule that a charge counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Requests,
    Tokens,
}

impl Unit {
    fn label(self) -> &'static str {
        match self {
            Unit::Requests => "requests/minute",
            Unit::Tokens => "tokens/minute",
        }
    }

    fn window_prefix(self) -> &'static str {
        match self {
            Unit::Requests => "rpm",
            Unit::Tokens => "tpm",
        }
    }
}

/// Returns the scopes of the caller: its key, user and team, when known.
/// The user is the context's, else the request's `user` field.
pub(crate) fn caller_scopes(request: &ChatRequest, context: &CallContext) -> Vec<LimitScope> {
    let user = context.user.as_ref().or(request.user.as_ref());
    [
        context.key.clone().map(LimitScope::Key),
        user.cloned().map(LimitScope::User),
        context.team.clone().map(LimitScope::Team),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// How long spend stays in the shared state after its period ends: a day,
/// so a gateway whose clock lags behind still reads the period it is in,
/// and an operator can still read yesterday's total.
const SPEND_RETAIN_AFTER_PERIOD_MS: u64 = 86_400_000;

/// Returns how long from `now_ms` the spend of `period` must be kept;
/// none for a period that never ends.
pub(crate) fn spend_retention_ms(period: &PeriodWindow, now_ms: u64) -> Option<u64> {
    period
        .end_ms
        .map(|end| end.saturating_sub(now_ms) + SPEND_RETAIN_AFTER_PERIOD_MS)
}

/// Returns the shared-state key of a scope's spend in one period.
pub(crate) fn spend_key(scope: &LimitScope, period: &PeriodWindow) -> String {
    format!("spend:{}:{}", scope.state_key(), period.label)
}

impl Gateway {
    /// Admits a request for `scopes`: checks their budgets, then takes one
    /// request and the estimated tokens from each of their limits, all or
    /// nothing. The reservations are added to `admitted`.
    ///
    /// A failing shared state lets the request through (fail open) with an
    /// error log, so an outage of a shared store does not stop all traffic.
    pub(crate) async fn admit(
        &self,
        scopes: &[LimitScope],
        request: &ChatRequest,
        admitted: &mut Admitted,
    ) -> Result<(), Error> {
        let now_ms = self.inner.clock.now_ms();
        self.check_budgets(scopes, now_ms).await?;

        let rules: Vec<(LimitScope, LimitRule)> = {
            let table = self
                .inner
                .limits
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            scopes
                .iter()
                .filter_map(|scope| table.rule(scope).map(|rule| (scope.clone(), rule)))
                .collect()
        };
        if rules.is_empty() {
            return Ok(());
        }
        let mut charges = Vec::new();
        let mut meaning: Vec<(usize, Unit, u64)> = Vec::new();
        for (position, (scope, rule)) in rules.iter().enumerate() {
            if let Some(limit) = rule.requests_per_minute {
                charges.push(charge(scope, Unit::Requests, limit, 1));
                meaning.push((position, Unit::Requests, limit));
            }
            if let Some(limit) = rule.tokens_per_minute {
                let tokens = *admitted
                    .estimated_tokens
                    .get_or_insert_with(|| self.estimate_reserved_tokens(request));
                charges.push(charge(scope, Unit::Tokens, limit, tokens));
                meaning.push((position, Unit::Tokens, limit));
            }
        }
        let admission = match self.inner.state.admit(now_ms, &charges).await {
            Ok(admission) => admission,
            Err(error) => {
                tracing::error!(%error, "rate limits not checked: the shared state failed");
                return Ok(());
            }
        };
        match admission {
            Admission::Admitted(tickets) => {
                for (position, (scope, _)) in rules.iter().enumerate() {
                    let tokens = meaning
                        .iter()
                        .zip(&tickets)
                        .find(|((owner, unit, _), _)| *owner == position && *unit == Unit::Tokens)
                        .map(|(_, ticket)| ticket.clone());
                    admitted.reservations.push(Reservation {
                        scope: scope.clone(),
                        tokens,
                    });
                }
                Ok(())
            }
            Admission::Rejected {
                index,
                retry_after_ms,
            } => {
                let Some((scope, unit, limit, amount)) =
                    meaning.get(index).and_then(|&(position, unit, limit)| {
                        let scope = &rules.get(position)?.0;
                        let amount = charges.get(index)?.amount;
                        Some((scope, unit, limit, amount))
                    })
                else {
                    tracing::error!(
                        index,
                        "rate limits not checked: the shared state rejected a charge that was not sent"
                    );
                    return Ok(());
                };
                // A user id may be an e-mail address, so only its kind is
                // logged; key, team and model ids are configuration.
                let id = match scope {
                    LimitScope::User(_) => "(user id not logged)",
                    other => other.id(),
                };
                tracing::info!(
                    scope = scope.kind().as_str(),
                    id,
                    unit = unit.label(),
                    limit,
                    retry_after_ms,
                    "request over a rate limit"
                );
                self.inner.counters.rate_limit_rejection(scope.kind());
                Err(limit_error(scope, unit, limit, amount, retry_after_ms))
            }
        }
    }

    /// Rejects the request when a scope's spend in the current period has
    /// reached its budget.
    async fn check_budgets(&self, scopes: &[LimitScope], now_ms: u64) -> Result<(), Error> {
        let rules: Vec<_> = {
            let table = self
                .inner
                .budgets
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if table.is_empty() {
                return Ok(());
            }
            scopes
                .iter()
                .filter_map(|scope| table.rule(scope).map(|rule| (scope, rule)))
                .collect()
        };
        for (scope, rule) in rules {
            let period = PeriodWindow::containing(rule.period, now_ms);
            let spend = match self.inner.state.spend(&spend_key(scope, &period)).await {
                Ok(spend) => spend,
                Err(error) => {
                    tracing::error!(%error, "budget not checked: the shared state failed");
                    continue;
                }
            };
            if spend < rule.limit {
                continue;
            }
            let (retry_after, next) = match period.end_ms {
                Some(end) => (
                    Some(Duration::from_millis(end.saturating_sub(now_ms))),
                    "requests resume when the period ends (UTC)",
                ),
                None => (None, "raise the budget to continue"),
            };
            self.inner.counters.budget_rejection(scope.kind());
            return Err(Error::RateLimited {
                provider: GATEWAY_PROVIDER.to_owned(),
                retry_after,
                message: format!(
                    "{scope} has used its {} budget of ${} (spent ${spend}); {next}",
                    rule.period.adjective(),
                    rule.limit
                ),
            });
        }
        Ok(())
    }

    /// Estimates the tokens a request may use: its prompt plus its output
    /// limit when it sets one. Without an output limit only the prompt is
    /// reserved, and the completion is added when the call is settled.
    fn estimate_reserved_tokens(&self, request: &ChatRequest) -> u64 {
        let prompt = self.inner.counter.count_request(request).tokens;
        prompt.saturating_add(request.output_token_limit().map_or(0, u64::from))
    }

    /// Settles every token reservation to the tokens the call used: `used`
    /// for the caller's scopes and the serving model, 0 for models that
    /// were admitted but did not return the completion.
    pub(crate) async fn settle(
        &self,
        reservations: &[Reservation],
        serving_model: Option<&str>,
        used: u64,
    ) {
        for reservation in reservations {
            let Some(ticket) = &reservation.tokens else {
                continue;
            };
            let amount = match &reservation.scope {
                LimitScope::Model(model) if Some(model.as_str()) != serving_model => 0,
                _ => used,
            };
            if let Err(error) = self.inner.state.settle(ticket, amount).await {
                tracing::error!(%error, scope = %reservation.scope, "token reservation not settled");
            }
        }
    }

    /// Adds `cost` to the spend of every scope in `scopes` that has a
    /// budget, and sends the alerts whose share the spend crossed.
    pub(crate) async fn add_spend(&self, scopes: &[LimitScope], cost: Decimal) {
        if cost.is_zero() {
            return;
        }
        let now_ms = self.inner.clock.now_ms();
        let rules: Vec<_> = {
            let table = self
                .inner
                .budgets
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            scopes
                .iter()
                .filter_map(|scope| table.rule(scope).map(|rule| (scope, rule)))
                .collect()
        };
        for (scope, rule) in rules {
            let period = PeriodWindow::containing(rule.period, now_ms);
            let update = match self
                .inner
                .state
                .add_spend(
                    now_ms,
                    &spend_key(scope, &period),
                    cost,
                    spend_retention_ms(&period, now_ms),
                )
                .await
            {
                Ok(update) => update,
                Err(error) => {
                    tracing::error!(%error, %scope, "spend not recorded");
                    continue;
                }
            };
            for share in rule.crossed(update.before, update.after) {
                tracing::warn!(%scope, period = %period.label, %share, spend = %update.after, limit = %rule.limit, "budget alert");
                self.inner.counters.budget_alert(scope.kind());
                if let Some(sink) = &self.inner.alert_sink {
                    sink.alert(BudgetAlert {
                        scope: scope.clone(),
                        period: period.label.clone(),
                        share,
                        spend: update.after,
                        limit: rule.limit,
                    });
                }
            }
        }
    }
}

fn charge(scope: &LimitScope, unit: Unit, limit: u64, amount: u64) -> Charge {
    Charge {
        window: format!("{}:{}", unit.window_prefix(), scope.state_key()),
        limit,
        amount,
        period_ms: MINUTE_MS,
    }
}

/// Builds the error of a request over a limit. An amount above the limit
/// by itself never fits, so it is an invalid request rather than a rate
/// limit.
fn limit_error(
    scope: &LimitScope,
    unit: Unit,
    limit: u64,
    amount: u64,
    retry_after_ms: Option<u64>,
) -> Error {
    match (unit, retry_after_ms) {
        (_, Some(wait)) => Error::RateLimited {
            provider: GATEWAY_PROVIDER.to_owned(),
            retry_after: Some(Duration::from_millis(wait)),
            message: match unit {
                Unit::Requests => format!("{scope} is over its {limit} {} limit", unit.label()),
                Unit::Tokens => format!(
                    "{scope} is over its {limit} {} limit (this request reserves {amount} tokens)",
                    unit.label()
                ),
            },
        },
        (_, None) => Error::InvalidRequest {
            provider: GATEWAY_PROVIDER.to_owned(),
            param: Some("max_tokens".to_owned()),
            message: format!(
                "this request reserves an estimated {amount} tokens, more than the {limit} {} that {scope} may use; lower max_tokens or shorten the messages",
                unit.label()
            ),
        },
    }
}
