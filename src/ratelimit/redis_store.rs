//! The Redis store: every replica's counts in one Redis. A check and its count are one Lua
//! script (atomic, one round trip); counters are created with the expiry of their window.
//! Calls run on a small runtime of their own (so the connection does not belong to any one
//! listener thread) and each is bounded by `timeout`.

use super::{Checked, Count, KeyCounts};
use crate::config::model::{Limit, LimitKind, RedisStore as Config};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::future::Future;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;
use tokio::runtime::{Builder, Handle, Runtime};

/// Keys of one check: `KEYS[i]` the counter of limit i; `ARGV[3i-2..3i]` its amount, window
/// in ms, and 1 for a request limit. Admit when every count is below its amount; then count
/// the request in each request limit (a new counter expires with its window). Returns
/// `{admitted, used1, ttl1, used2, ttl2, ...}` (ttl in ms; a missing counter: 0 and the window).
const ADMIT: &str = r"
local n = #KEYS
local used, ttl = {}, {}
local admitted = 1
for i = 1, n do
  local window = tonumber(ARGV[3*i-1])
  local u = tonumber(redis.call('GET', KEYS[i]) or '0')
  local t = redis.call('PTTL', KEYS[i])
  if t == -1 then redis.call('PEXPIRE', KEYS[i], window); t = window end
  if t == -2 then u = 0; t = window end
  used[i] = u; ttl[i] = t
  if u >= tonumber(ARGV[3*i-2]) then admitted = 0 end
end
if admitted == 1 then
  for i = 1, n do
    if ARGV[3*i] == '1' then
      local u = redis.call('INCR', KEYS[i])
      if u == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[3*i-1]); ttl[i] = tonumber(ARGV[3*i-1]) end
      used[i] = u
    end
  end
end
local out = {admitted}
for i = 1, n do out[#out+1] = used[i]; out[#out+1] = ttl[i] end
return out
";

/// `KEYS[i]` a token counter, `ARGV[2i-1]` the tokens, `ARGV[2i]` its window in ms.
const CHARGE: &str = r"
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[2*i-1])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[2*i]) end
end
return 1
";

static ADMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(ADMIT));
static CHARGE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CHARGE));

/// Most keys `/usage` lists per policy.
const USAGE_KEYS: usize = 10_000;
/// How long `/usage` may take on Redis.
const USAGE_TIMEOUT: Duration = Duration::from_secs(2);

/// The runtime Redis connections live on (one worker thread, made on first use).
fn runtime() -> Result<Handle, String> {
    static RT: OnceLock<Option<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("basalt-ratelimit")
            .enable_all()
            .build()
            .ok()
    })
    .as_ref()
    .map(|rt| rt.handle().clone())
    .ok_or_else(|| "could not start the rate-limit runtime".to_owned())
}

/// One policy's counters in Redis.
pub(super) struct RedisStore {
    conn: ConnectionManager,
    /// `basalt:rl:<namespace>/<policy>:`.
    prefix: String,
    timeout: Duration,
    rt: Handle,
}

impl RedisStore {
    /// A store that connects on first use and reconnects by itself.
    pub(super) fn new(c: &Config, policy: &str) -> Result<Self, String> {
        let rt = runtime()?;
        let client = redis::Client::open(c.url.expose())
            .map_err(|e| format!("redis {}: {e}", c.shown_url))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(c.timeout.max(Duration::from_millis(500))))
            .set_response_timeout(Some(c.timeout.max(Duration::from_millis(500))))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(500));
        let _in_rt = rt.enter();
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("redis {}: {e}", c.shown_url))?;
        Ok(RedisStore {
            conn,
            prefix: format!("basalt:rl:{policy}:"),
            timeout: c.timeout,
            rt,
        })
    }

    /// `basalt:rl:<policy>:<r|t><window ms>:<key>` (the key last: IPv6 addresses hold `:`).
    fn counter(&self, key: &str, l: &Limit) -> String {
        let kind = match l.kind {
            LimitKind::Requests => 'r',
            LimitKind::Tokens => 't',
        };
        format!("{}{kind}{}:{key}", self.prefix, l.window.as_millis())
    }

    /// Run `f` on the store's runtime within `limit`.
    async fn run<T, F>(&self, limit: Duration, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let task = self
            .rt
            .spawn(async move { tokio::time::timeout(limit, f).await });
        match task.await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(_)) => Err(format!("no answer within {} ms", limit.as_millis())),
            Err(e) => Err(format!("rate-limit task failed: {e}")),
        }
    }

    /// The admission script for `key`'s limits: one round trip.
    pub(super) async fn check(&self, key: &str, limits: &[Limit]) -> Result<Checked, String> {
        let mut inv = ADMIT_SCRIPT.prepare_invoke();
        for l in limits {
            inv.key(self.counter(key, l));
            inv.arg(l.amount)
                .arg(window_ms(l))
                .arg(u8::from(l.kind == LimitKind::Requests));
        }
        let mut conn = self.conn.clone();
        let out: Vec<i64> = self
            .run(
                self.timeout,
                async move { inv.invoke_async(&mut conn).await },
            )
            .await?;
        parse_checked(&out, limits.len())
    }

    /// Add `tokens` to each token limit, on a task of its own; `failed` hears of a failure.
    pub(super) fn charge(
        &self,
        key: &str,
        limits: Vec<Limit>,
        tokens: u64,
        failed: impl FnOnce(String) + Send + 'static,
    ) {
        let keys: Vec<String> = limits.iter().map(|l| self.counter(key, l)).collect();
        let mut conn = self.conn.clone();
        let timeout = self.timeout;
        self.rt.spawn(async move {
            let mut inv = CHARGE_SCRIPT.prepare_invoke();
            for (k, l) in keys.iter().zip(&limits) {
                inv.key(k.as_str());
                inv.arg(tokens).arg(window_ms(l));
            }
            let r: Result<redis::RedisResult<i64>, _> =
                tokio::time::timeout(timeout, inv.invoke_async(&mut conn)).await;
            match r {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => failed(e.to_string()),
                Err(_) => failed(format!("no answer within {} ms", timeout.as_millis())),
            }
        });
    }

    /// Every counter of this policy: (key, [(kind, window, count)]), sorted by key.
    pub(super) async fn snapshot(&self) -> Result<Vec<KeyCounts>, String> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", self.prefix);
        let found: Vec<(String, Option<u64>, i64)> = self
            .run(USAGE_TIMEOUT, async move { scan(&mut conn, pattern).await })
            .await?;
        let mut out: Vec<KeyCounts> = Vec::new();
        for (name, used, ttl) in found {
            let Some((kind, window, key)) = self.parse_counter(&name) else {
                continue;
            };
            let (Some(used), Ok(ttl)) = (used, u64::try_from(ttl)) else {
                continue;
            };
            let count = Count {
                used,
                reset: Duration::from_millis(ttl),
            };
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some((_, cs)) => cs.push((kind, window, count)),
                None => out.push((key, vec![(kind, window, count)])),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn parse_counter(&self, name: &str) -> Option<(LimitKind, Duration, String)> {
        let rest = name.strip_prefix(&self.prefix)?;
        let (limit, key) = rest.split_once(':')?;
        let kind = match limit.as_bytes().first()? {
            b'r' => LimitKind::Requests,
            b't' => LimitKind::Tokens,
            _ => return None,
        };
        let ms: u64 = limit.get(1..)?.parse().ok()?;
        Some((kind, Duration::from_millis(ms), key.to_owned()))
    }
}

/// SCAN the policy's counters, then GET and PTTL them in one pipeline.
async fn scan(
    conn: &mut ConnectionManager,
    pattern: String,
) -> redis::RedisResult<Vec<(String, Option<u64>, i64)>> {
    let mut names: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await?;
        names.extend(batch);
        cursor = next;
        if cursor == 0 || names.len() >= USAGE_KEYS {
            break;
        }
    }
    names.truncate(USAGE_KEYS);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for n in &names {
        pipe.cmd("GET").arg(n).cmd("PTTL").arg(n);
    }
    let values: Vec<(Option<u64>, i64)> = pipe.query_async(conn).await?;
    Ok(names
        .into_iter()
        .zip(values)
        .map(|(n, (u, t))| (n, u, t))
        .collect())
}

fn window_ms(l: &Limit) -> u64 {
    u64::try_from(l.window.as_millis()).unwrap_or(u64::MAX)
}

/// `{admitted, used1, ttl1, ...}` → [`Checked`].
pub(super) fn parse_checked(out: &[i64], n: usize) -> Result<Checked, String> {
    if out.len() != 1 + 2 * n {
        return Err(format!(
            "unexpected script answer ({} values for {n} limits)",
            out.len()
        ));
    }
    let counts = out[1..]
        .chunks(2)
        .map(|p| Count {
            used: u64::try_from(p[0]).unwrap_or(0),
            reset: Duration::from_millis(u64::try_from(p[1]).unwrap_or(0)),
        })
        .collect();
    Ok(Checked {
        admitted: out[0] == 1,
        counts,
    })
}
