//! [`SharedState`] on a Redis server, shared by every gateway process that
//! connects with the same key prefix.
//!
//! Each operation is one Lua script, which Redis runs atomically, so two
//! gateways cannot both take the last unit of a limit. Scripts touch
//! several keys, so the state needs a single Redis node (or keys that hash
//! to one cluster slot); Redis Cluster with keys spread over slots rejects
//! them.

use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rust_decimal::Decimal;

use super::{Admission, CacheStats, Charge, SharedState, SpendUpdate, StateError, Ticket};

/// The key prefix when none is given.
const DEFAULT_PREFIX: &str = "llmops:gw:";

/// The response cache's size bound when none is given: 64 MiB.
const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Prunes each window, checks every charge, and admits all of them or none.
/// Per window: a sorted set of entry ids by admission time, a hash of their
/// amounts and a running total. Returns `{0, id...}` when admitted and
/// `{1, index, wait_ms}` when not, with wait -1 for a charge that never fits.
const ADMIT: &str = r"
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
for i = 0, count - 1 do
  local times, amounts, total_key = KEYS[3*i+1], KEYS[3*i+2], KEYS[3*i+3]
  local limit = tonumber(ARGV[3+3*i])
  local amount = tonumber(ARGV[4+3*i])
  local period = tonumber(ARGV[5+3*i])
  local expired = redis.call('ZRANGEBYSCORE', times, '-inf', now - period)
  for _, id in ipairs(expired) do
    redis.call('DECRBY', total_key, tonumber(redis.call('HGET', amounts, id) or '0'))
    redis.call('HDEL', amounts, id)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', times, '-inf', now - period)
  end
  if amount > limit then
    return {1, i, -1}
  end
  local total = tonumber(redis.call('GET', total_key) or '0')
  if total + amount > limit then
    local excess = total + amount - limit
    local entries = redis.call('ZRANGE', times, 0, -1, 'WITHSCORES')
    for j = 1, #entries, 2 do
      local held = tonumber(redis.call('HGET', amounts, entries[j]) or '0')
      if held >= excess then
        return {1, i, math.max(tonumber(entries[j+1]) + period - now, 1)}
      end
      excess = excess - held
    end
    return {1, i, period}
  end
end
local result = {0}
local sequence = KEYS[3*count+1]
for i = 0, count - 1 do
  local times, amounts, total_key = KEYS[3*i+1], KEYS[3*i+2], KEYS[3*i+3]
  local amount = tonumber(ARGV[4+3*i])
  local period = tonumber(ARGV[5+3*i])
  local id = redis.call('INCR', sequence)
  redis.call('ZADD', times, now, id)
  redis.call('HSET', amounts, id, amount)
  redis.call('INCRBY', total_key, amount)
  for _, key in ipairs({times, amounts, total_key}) do
    redis.call('PEXPIRE', key, period)
  end
  table.insert(result, id)
end
return result
";

/// Replaces the amount of one entry, if it is still in its window.
const SETTLE: &str = r"
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[2], tonumber(ARGV[2]) - tonumber(held))
return 1
";

/// Adds a decimal amount as an integer mantissa under the field of its
/// scale, so the sum stays exact, sets or clears the hash's expiry, and
/// returns the fields before.
const ADD_SPEND: &str = r"
local before = redis.call('HGETALL', KEYS[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
local retain = tonumber(ARGV[3])
if retain > 0 then
  redis.call('PEXPIRE', KEYS[1], retain)
else
  redis.call('PERSIST', KEYS[1])
end
return before
";

/// Returns a live cached value and marks it used, or counts a miss.
/// KEYS: values, expiry times, sizes, use order, counters.
const CACHE_GET: &str = r"
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local expires = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  if expires > tonumber(ARGV[2]) then
    redis.call('HINCRBY', KEYS[5], 'hits', 1)
    local used = redis.call('HINCRBY', KEYS[5], 'tick', 1)
    redis.call('ZADD', KEYS[4], used, ARGV[1])
    return value
  end
  local size = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  if size > 0 then
    redis.call('HINCRBY', KEYS[5], 'bytes', -size)
  end
end
redis.call('HINCRBY', KEYS[5], 'misses', 1)
return false
";

/// Stores a value, evicting the least recently used entries to stay within
/// the byte bound. ARGV: key, value, expiry time, max bytes.
const CACHE_PUT: &str = r"
local function remove(key)
  local size = tonumber(redis.call('HGET', KEYS[3], key) or '0')
  redis.call('HDEL', KEYS[1], key)
  redis.call('HDEL', KEYS[2], key)
  redis.call('HDEL', KEYS[3], key)
  redis.call('ZREM', KEYS[4], key)
  -- Lua writes -0 as the text -0, which HINCRBY rejects.
  if size > 0 then
    redis.call('HINCRBY', KEYS[5], 'bytes', -size)
  end
end
remove(ARGV[1])
local size = string.len(ARGV[1]) + string.len(ARGV[2])
local max = tonumber(ARGV[4])
if size > max then
  return 0
end
local bytes = tonumber(redis.call('HGET', KEYS[5], 'bytes') or '0')
while bytes + size > max do
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0)
  if #oldest == 0 then
    break
  end
  remove(oldest[1])
  bytes = tonumber(redis.call('HGET', KEYS[5], 'bytes') or '0')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], size)
local used = redis.call('HINCRBY', KEYS[5], 'tick', 1)
redis.call('ZADD', KEYS[4], used, ARGV[1])
redis.call('HINCRBY', KEYS[5], 'bytes', size)
return 1
";

/// Limits, spend and cache on a Redis server.
///
/// Spend is kept per scope and period label in a small hash. A hash
/// added with a retention expires that long after its last addition, as
/// Redis counts time, so spend of past periods does not pile up.
#[derive(Clone)]
pub struct RedisState {
    connection: ConnectionManager,
    prefix: String,
    cache_max_bytes: u64,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .field("cache_max_bytes", &self.cache_max_bytes)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str) -> impl Fn(redis::RedisError) -> StateError + '_ {
    move |error| StateError::new(format!("Redis {what} failed: {error}"))
}

impl RedisState {
    /// Connects to the Redis server at `url`, such as
    /// `redis://127.0.0.1:6379/0`, with keys under the prefix `llmops:gw:`
    /// and a cache bound of 64 MiB. The connection reconnects by itself
    /// after a failure; connecting and each command time out after 2 s.
    ///
    /// # Errors
    ///
    /// Returns [`StateError`] when the URL is invalid or the server cannot
    /// be reached.
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        let client = redis::Client::open(url).map_err(failed("URL parsing"))?;
        // Short timeouts: with a shared store down, the gateway lets
        // requests through rather than hold them.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failed("connection"))?;
        Ok(RedisState {
            connection,
            prefix: DEFAULT_PREFIX.to_owned(),
            cache_max_bytes: DEFAULT_CACHE_BYTES,
        })
    }

    /// Puts every key under `prefix`, so separate gateway fleets (or tests)
    /// can share one Redis server without sharing counters.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds the cache to `max_bytes` of keys and values.
    pub fn with_cache_bytes(mut self, max_bytes: u64) -> Self {
        self.cache_max_bytes = max_bytes;
        self
    }

    fn window_keys(&self, window: &str) -> [String; 3] {
        [
            format!("{}w:{window}:times", self.prefix),
            format!("{}w:{window}:amounts", self.prefix),
            format!("{}w:{window}:total", self.prefix),
        ]
    }

    fn cache_keys(&self) -> [String; 5] {
        ["values", "expires", "sizes", "used", "counters"]
            .map(|part| format!("{}cache:{part}", self.prefix))
    }
}

/// Sums the `scale -> mantissa` fields of a spend hash.
fn sum_spend(fields: &[String]) -> Result<Decimal, StateError> {
    let mut total = Decimal::ZERO;
    for pair in fields.chunks(2) {
        let [scale, mantissa] = pair else {
            return Err(StateError::new("a spend hash has an odd number of fields"));
        };
        let scale: u32 = scale
            .parse()
            .map_err(|_| StateError::new(format!("spend scale {scale:?} is not a number")))?;
        let mantissa: i64 = mantissa
            .parse()
            .map_err(|_| StateError::new(format!("spend amount {mantissa:?} is not an integer")))?;
        let part = Decimal::try_from_i128_with_scale(i128::from(mantissa), scale)
            .map_err(|error| StateError::new(format!("spend part out of range: {error}")))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| StateError::new("spend sum overflows"))?;
    }
    Ok(total)
}

#[async_trait]
impl SharedState for RedisState {
    async fn admit(&self, now_ms: u64, charges: &[Charge]) -> Result<Admission, StateError> {
        let script = Script::new(ADMIT);
        let mut invocation = script.prepare_invoke();
        invocation.arg(now_ms).arg(charges.len());
        for charge in charges {
            for key in self.window_keys(&charge.window) {
                invocation.key(key);
            }
            invocation
                .arg(charge.limit)
                .arg(charge.amount)
                .arg(charge.period_ms);
        }
        invocation.key(format!("{}sequence", self.prefix));
        let mut connection = self.connection.clone();
        let reply: Vec<i64> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(failed("admission"))?;
        match reply.as_slice() {
            [0, ids @ ..] if ids.len() == charges.len() => Ok(Admission::Admitted(
                charges
                    .iter()
                    .zip(ids)
                    .map(|(charge, id)| Ticket {
                        window: charge.window.clone(),
                        entry: u64::try_from(*id).unwrap_or_default(),
                    })
                    .collect(),
            )),
            [1, index, wait] => Ok(Admission::Rejected {
                index: usize::try_from(*index).unwrap_or_default(),
                retry_after_ms: u64::try_from(*wait).ok(),
            }),
            other => Err(StateError::new(format!(
                "the admission script returned {other:?}"
            ))),
        }
    }

    async fn settle(&self, ticket: &Ticket, amount: u64) -> Result<(), StateError> {
        let [_, amounts, total] = self.window_keys(&ticket.window);
        let mut connection = self.connection.clone();
        let _: i64 = Script::new(SETTLE)
            .key(amounts)
            .key(total)
            .arg(ticket.entry)
            .arg(amount)
            .invoke_async(&mut connection)
            .await
            .map_err(failed("settlement"))?;
        Ok(())
    }

    async fn add_spend(
        &self,
        _now_ms: u64,
        key: &str,
        amount: Decimal,
        retain_ms: Option<u64>,
    ) -> Result<SpendUpdate, StateError> {
        let amount = amount.normalize();
        let mantissa = i64::try_from(amount.mantissa()).map_err(|_| {
            StateError::new(format!("a spend of {amount} has too many digits for Redis"))
        })?;
        let mut connection = self.connection.clone();
        let before: Vec<String> = Script::new(ADD_SPEND)
            .key(format!("{}spend:{key}", self.prefix))
            .arg(amount.scale())
            .arg(mantissa)
            // 0 keeps the hash; PEXPIRE takes at least 1 ms.
            .arg(retain_ms.map_or(0, |retain| retain.max(1)))
            .invoke_async(&mut connection)
            .await
            .map_err(failed("spend update"))?;
        let before = sum_spend(&before)?;
        let after = before
            .checked_add(amount)
            .ok_or_else(|| StateError::new("spend sum overflows"))?;
        Ok(SpendUpdate { before, after })
    }

    async fn spend(&self, key: &str) -> Result<Decimal, StateError> {
        let mut connection = self.connection.clone();
        let fields: Vec<String> = redis::cmd("HGETALL")
            .arg(format!("{}spend:{key}", self.prefix))
            .query_async(&mut connection)
            .await
            .map_err(failed("spend read"))?;
        sum_spend(&fields)
    }

    async fn cache_get(&self, now_ms: u64, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let script = Script::new(CACHE_GET);
        let mut invocation = script.prepare_invoke();
        for part in self.cache_keys() {
            invocation.key(part);
        }
        let mut connection = self.connection.clone();
        invocation
            .arg(key)
            .arg(now_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(failed("cache lookup"))
    }

    async fn cache_put(
        &self,
        now_ms: u64,
        key: &str,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<(), StateError> {
        if ttl_ms == 0 {
            return Ok(());
        }
        let script = Script::new(CACHE_PUT);
        let mut invocation = script.prepare_invoke();
        for part in self.cache_keys() {
            invocation.key(part);
        }
        let mut connection = self.connection.clone();
        let _: i64 = invocation
            .arg(key)
            .arg(value)
            .arg(now_ms.saturating_add(ttl_ms))
            .arg(self.cache_max_bytes)
            .invoke_async(&mut connection)
            .await
            .map_err(failed("cache store"))?;
        Ok(())
    }

    async fn cache_stats(&self) -> Result<CacheStats, StateError> {
        let [values, _, _, _, counters] = self.cache_keys();
        let mut connection = self.connection.clone();
        let (counts, entries): (Vec<Option<u64>>, u64) = redis::pipe()
            .cmd("HMGET")
            .arg(&counters)
            .arg("hits")
            .arg("misses")
            .arg("bytes")
            .cmd("HLEN")
            .arg(&values)
            .query_async(&mut connection)
            .await
            .map_err(failed("cache statistics"))?;
        let count = |index: usize| counts.get(index).copied().flatten().unwrap_or(0);
        Ok(CacheStats {
            hits: count(0),
            misses: count(1),
            entries,
            bytes: count(2),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_parts_sum_exactly() {
        let fields: Vec<String> = ["2", "15", "8", "123", "0", "1"]
            .iter()
            .map(|text| (*text).to_owned())
            .collect();
        assert_eq!(
            sum_spend(&fields),
            Ok("1.15000123".parse::<Decimal>().unwrap_or_default())
        );
        assert_eq!(sum_spend(&[]), Ok(Decimal::ZERO));
        assert!(sum_spend(&["2".to_owned()]).is_err());
    }
}
